/*
 * mime.h: Content-Type by file-name extension, from one built-in table
 * searched without allocation. Text types carry charset=utf-8.
 */
#ifndef MIME_H
#define MIME_H

#include <stddef.h>

/* The type for a path (its last extension, case-insensitive). */
const char	*mime_lookup(const char *, size_t);

#endif /* MIME_H */
