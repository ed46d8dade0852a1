/*
 * serve.h: turns a parsed request into a response on its connection:
 * files, directories, redirects, listings, the status endpoint and
 * errors, all through one response-setup function and one head writer.
 */
#ifndef SERVE_H
#define SERVE_H

#include "conn.h"

/*
 * Answers the parsed request on c. Returns 0, or -1 when the response
 * could not be sent whole (the connection must end).
 */
int	 serve_request(struct conn *);

/*
 * The one place a status becomes an error response (small HTML body,
 * Allow for 405, Content-Range for 416). Errors that leave the stream's
 * framing in doubt set c->close.
 */
int	 serve_error(struct conn *, int);

/*
 * A plain HTTP request on a TLS port: a short plain-text 400 that says
 * so, and the connection ends.
 */
int	 serve_plain_on_tls(struct conn *);

#endif /* SERVE_H */
