/*
 * conn_tls.h: TLS as a transport of struct conn: the second table of
 * operations, and the handshake that opens a TLS connection.
 */
#ifndef CONN_TLS_H
#define CONN_TLS_H

#include "conn.h"

extern const struct conn_ops	conn_tls_ops;

/*
 * Worker, once at start: the SSL object every TLS connection of this
 * worker reuses. Returns 0, or -1 (logged). A config without TLS
 * listeners needs none.
 */
int	 conn_tls_init(const struct config *);
/*
 * Takes a connection just opened with conn_tls_ops through its
 * handshake by deadline (monotonic ms). Returns 0 when it can carry
 * requests, -1 when it is to be closed (what went wrong is counted), or
 * CONN_TLS_PLAIN when the client spoke plain HTTP: the connection is
 * plain TCP now, for the caller's one answer.
 */
#define CONN_TLS_PLAIN	1
int	 conn_tls_accept(struct conn *, int64_t);
/*
 * Logs the handshake failures not yet reported when it is time; true
 * while some wait for their time (the caller looks again later).
 */
bool	 conn_tls_report(void);

#endif /* CONN_TLS_H */
