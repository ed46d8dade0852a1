/*
 * tls.h: TLS contexts and session ticket keys. The master makes both;
 * workers inherit them through fork and only read them.
 */
#ifndef TLS_H
#define TLS_H

#include <openssl/ssl.h>

#include "tine.h"

#define TLS_TICKET_ROTATE_S	(12 * 60 * 60)	/* a new ticket key */
#define TLS_RECORD_BYTES	16384	/* largest plaintext record
					   (RFC 8446 §5.1) */

/*
 * One certificate and key, and the context made with them; the sites
 * that have this pair point at it with their tls_id.
 */
struct tls_site {
	const char	*cert;
	const char	*key;
	SSL_CTX		*ctx;
};

struct tls_ctxs {
	size_t		 nsites;
	struct tls_site	*sites;		/* one per distinct pair */
	bool		 ktls;		/* SSL_OP_ENABLE_KTLS was set */
};

/*
 * Master: reads the certificates and keys of conf (when it has any) into
 * conf->tls. Returns 0, or -1 after logging each problem as FILE:LINE.
 */
int		 tls_ctx_load(struct config *);
void		 tls_ctx_free(struct tls_ctxs *);
/*
 * Master, once before the first fork: maps the shared ticket key page
 * and makes the first key. Returns 0 or -1 (errno set).
 */
int		 tls_tickets_init(void);
/* Master: a new current key; the current one becomes the previous. */
void		 tls_tickets_rotate(void);
/* Worker: the page becomes read-only for it. */
void		 tls_tickets_protect(void);
/* A process that serves no TLS: unmaps the keys, closes their memfd. */
void		 tls_tickets_release(void);
/* Whether kernel TLS can carry sendfile() here (probed once). */
bool		 tls_ktls_available(const char **);

#endif /* TLS_H */
