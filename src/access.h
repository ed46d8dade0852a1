/*
 * access.h: the access-log line of a finished response, in Combined Log
 * Format, written in place into the access-log buffer.
 */
#ifndef ACCESS_H
#define ACCESS_H

#include "conn.h"

/* Appends the line for the response just sent on c, if logging is on. */
void	 access_log_response(const struct conn *);

#endif /* ACCESS_H */
