/*
 * tls.c: the TLS contexts and the session ticket keys. The master reads
 * certificates and keys here, before any worker exists and while it is
 * still root, so a key may be readable by root only; workers inherit the
 * finished contexts through fork and never open a key file. The ticket
 * keys live in one shared page the master writes and workers read.
 * Nothing here touches a connection: that is conn_tls.c.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "conn.h"
#include "site.h"
#include "tls.h"

#define TICKET_NAME_BYTES	16	/* RFC 5077 §4: key_name */
#define TICKET_AES_BYTES	32	/* AES-256-CBC */
#define TICKET_HMAC_BYTES	32	/* HMAC-SHA256 */
#define TICKET_IV_BYTES		16	/* AES block */
#define TLS_SHOW_MAX		128	/* bytes of a path or list quoted */
#define TICKET_READ_TRIES	1000	/* a consistent read of the keys */
#define TLS_SESSION_CACHE_MAX	256	/* per worker, tickets off */

struct ticket_key {
	unsigned char	 name[TICKET_NAME_BYTES];
	unsigned char	 aes[TICKET_AES_BYTES];
	unsigned char	 hmac[TICKET_HMAC_BYTES];
};

/*
 * The shared page: the key tickets are issued with and the one before
 * it, which still opens the tickets it issued. seq is a sequence lock:
 * odd while the master writes, so a worker that read a torn pair (seq
 * odd, or changed across the copy) reads again. The master never waits
 * for a worker.
 */
struct ticket_page {
	volatile uint32_t	 seq;
	struct ticket_key	 cur;
	struct ticket_key	 prev;
};

static struct ticket_page	*tickets;
static EVP_CIPHER		*ticket_cipher;	/* fetched once */
/*
 * The master's own copy of what it wrote, and the memfd behind the page:
 * nothing is read back from shared memory, which a worker can see.
 */
static struct ticket_key	 ticket_cur;
static uint32_t			 ticket_seq;
static int			 ticket_fd = -1;

/* A process that serves no TLS (the compressor): the keys are gone. */
void
tls_tickets_release(void)
{
	explicit_bzero(&ticket_cur, sizeof(ticket_cur));
	if (tickets != NULL)
		(void)munmap(tickets, sizeof(*tickets));
	tickets = NULL;
	if (ticket_fd != -1)
		(void)close(ticket_fd);
	ticket_fd = -1;
}

/*
 * A reason for a message: OpenSSL's, or errno's, escaped for the log.
 * The earliest error is the cause ("no start line"); later ones only say
 * where it surfaced ("PEM lib").
 */
static const char *
tls_reason(char *buf, size_t size)
{
	unsigned long	 e = ERR_peek_error();
	const char	*r = NULL;

	if (e != 0 && ERR_GET_LIB(e) == ERR_LIB_SYS)
		r = strerror(ERR_GET_REASON(e));
	else if (e != 0)
		r = ERR_reason_error_string(e);
	if (r == NULL)
		r = e != 0 ? "unknown error" : "no details";
	(void)log_escape(buf, size, r, strlen(r));	/* cut if long */
	ERR_clear_error();
	return buf;
}

static void __attribute__((format(printf, 3, 4)))
tls_conf_error(const struct config *conf, int line, const char *fmt, ...)
{
	char	 msg[LOG_LINE_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);	/* cut: still names
							   the line */
	va_end(ap);
	log_config_error(conf->path, line, "%s", msg);
}

/*
 * Tickets: issued with the current key, accepted with the current or
 * the previous one. A ticket under the previous key resumes the session
 * and returns 2, so the client gets a ticket under the current key: a
 * client that comes back at least once per rotation never falls back to
 * a full handshake.
 */
static bool
tls_tickets_read(struct ticket_key *cur, struct ticket_key *prev)
{
	uint32_t	 s1, s2;
	int		 tries;

	/*
	 * Bounded: the master's write takes microseconds, but it may be
	 * descheduled in it; past that, no ticket (a full handshake), never
	 * a worker spinning on a page it cannot trust.
	 */
	for (tries = 0; tries < TICKET_READ_TRIES; tries++) {
		s1 = __atomic_load_n(&tickets->seq, __ATOMIC_ACQUIRE);
		if ((s1 & 1) != 0) {
			(void)sched_yield();	/* the master is writing */
			continue;
		}
		memcpy(cur, &tickets->cur, sizeof(*cur));
		memcpy(prev, &tickets->prev, sizeof(*prev));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&tickets->seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			return true;
	}
	return false;
}

static int
tls_ticket_cb(SSL *ssl, unsigned char *name, unsigned char *iv,
    EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx, int enc)
{
	struct ticket_key	 cur, prev, *k;
	OSSL_PARAM		 params[3];
	int			 rv = 1;

	(void)ssl;
	if (tickets == NULL || ticket_cipher == NULL)
		return enc ? -1 : 0;
	if (!tls_tickets_read(&cur, &prev))
		return 0;	/* no ticket, or a full handshake */
	if (enc) {
		k = &cur;
		memcpy(name, k->name, TICKET_NAME_BYTES);
		if (RAND_bytes(iv, TICKET_IV_BYTES) != 1 ||
		    EVP_EncryptInit_ex(ectx, ticket_cipher, NULL, k->aes,
		    iv) != 1) {
			rv = -1;
			goto done;
		}
	} else {
		if (memcmp(name, cur.name, TICKET_NAME_BYTES) == 0)
			k = &cur;
		else if (memcmp(name, prev.name, TICKET_NAME_BYTES) == 0) {
			k = &prev;
			rv = 2;	/* renew */
		} else {
			rv = 0;	/* unknown key: a full handshake */
			goto done;
		}
		if (EVP_DecryptInit_ex(ectx, ticket_cipher, NULL, k->aes,
		    iv) != 1) {
			rv = -1;
			goto done;
		}
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    k->hmac, sizeof(k->hmac));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(hctx, params) != 1)
		rv = -1;
done:
	explicit_bzero(&cur, sizeof(cur));
	explicit_bzero(&prev, sizeof(prev));
	return rv;
}

static void
tls_ticket_key_new(struct ticket_key *k)
{
	/* Never fails (libbsd, from getrandom). */
	arc4random_buf(k, sizeof(*k));
}

/*
 * The page lives in a sealed memfd: the master maps it writable before
 * the first fork; a worker replaces that mapping with a read-only one
 * (tls_tickets_protect), which F_SEAL_FUTURE_WRITE keeps read-only, so
 * not even code running in a worker can make it writable again.
 */
int
tls_tickets_init(void)
{
	void	*p;
	int	 fd;

	if (tickets != NULL)
		return 0;
	if ((fd = memfd_create("tine-ticket-keys", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return -1;
	if (ftruncate(fd, sizeof(*tickets)) == -1 ||
	    (p = mmap(NULL, sizeof(*tickets), PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0)) == MAP_FAILED) {
		(void)close(fd);	/* nothing written */
		return -1;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) == -1) {
		(void)munmap(p, sizeof(*tickets));
		(void)close(fd);	/* nothing written */
		return -1;
	}
	tickets = p;
	ticket_fd = fd;
	/* Never swapped out to disk, where a key could outlive us. */
	if (mlock(p, sizeof(*tickets)) == -1)
		log_debug("mlock ticket keys: %s", strerror(errno));
	tls_ticket_key_new(&ticket_cur);
	tls_ticket_key_new(&tickets->prev);
	memcpy(&tickets->cur, &ticket_cur, sizeof(tickets->cur));
	return 0;
}

/*
 * The master's rotation: the sequence and the keys come from its own
 * copies, so whatever a worker might have written to the page is
 * overwritten, never carried on.
 */
void
tls_tickets_rotate(void)
{
	struct ticket_key	 next;

	if (tickets == NULL)
		return;
	tls_ticket_key_new(&next);
	__atomic_store_n(&tickets->seq, ++ticket_seq, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(&tickets->prev, &ticket_cur, sizeof(tickets->prev));
	memcpy(&tickets->cur, &next, sizeof(tickets->cur));
	__atomic_store_n(&tickets->seq, ++ticket_seq, __ATOMIC_RELEASE);
	memcpy(&ticket_cur, &next, sizeof(ticket_cur));
	explicit_bzero(&next, sizeof(next));
	log_debug("session ticket key rotated");
}

/* A worker only reads the keys; nothing in it can change them. */
void
tls_tickets_protect(void)
{
	void	*p;

	if (tickets == NULL)
		return;
	explicit_bzero(&ticket_cur, sizeof(ticket_cur));	/* master's */
	p = mmap(NULL, sizeof(*tickets), PROT_READ, MAP_SHARED, ticket_fd, 0);
	if (p == MAP_FAILED) {
		log_warn("mmap ticket keys");
		if (mprotect(tickets, sizeof(*tickets), PROT_READ) == -1)
			log_warn("mprotect ticket keys");
	} else {
		(void)munmap(tickets, sizeof(*tickets));	/* the writable */
		tickets = p;
	}
	(void)close(ticket_fd);	/* the mapping stays */
	ticket_fd = -1;
}

/*
 * Whether the kernel can take over TLS records (TCP_ULP "tls"), tried
 * once on a loopback connection, and whether OpenSSL was built for it.
 * Root may load the tls module by trying; nobody else can.
 */
bool
tls_ktls_available(const char **why)
{
	static int		 known = -1;
	static const char	*reason = "";
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 ls = -1, cs = -1, as = -1;

	if (known != -1)
		goto done;
#ifdef OPENSSL_NO_KTLS
	known = 0;
	reason = "OpenSSL built without it";
	goto done;
#endif
	known = 0;
	reason = "the kernel has no tls module";
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(ls, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(ls, 1) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sin, &len) == -1 ||
	    (cs = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(cs, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    (as = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		reason = "cannot probe it on loopback";
		goto close;
	}
	if (setsockopt(cs, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")) == 0) {
		known = 1;
		reason = "";
	}
close:
	if (as != -1)
		(void)close(as);
	if (cs != -1)
		(void)close(cs);
	if (ls != -1)
		(void)close(ls);
done:
	if (why != NULL)
		*why = reason;
	return known == 1;
}

/* ALPN (RFC 7301): HTTP/1.1 only; a client offering only others fails. */
static int
tls_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char	 http11[] = "\x08http/1.1";

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto((unsigned char **)out, outlen, http11,
	    sizeof(http11) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK;
}

/*
 * The host name of a server_name extension (RFC 6066 §3), the bytes
 * after its type and length: a list of exactly one host_name entry of
 * at most TLSEXT_MAXLEN_host_name bytes without a NUL, filling the
 * extension. That is what OpenSSL itself accepts on a full handshake
 * and refuses otherwise, with an alert, so refusing it here changes no
 * outcome a client may count on. Returns 0 with the name (not
 * terminated, inside ext), or -1.
 */
static int
tls_sni_name(const unsigned char *ext, size_t len, const char **name,
    size_t *namelen)
{
	size_t	 list, n;

	if (len < 5)
		return -1;
	list = (size_t)ext[0] << 8 | ext[1];
	n = (size_t)ext[3] << 8 | ext[4];
	if (list != len - 2 || ext[2] != TLSEXT_NAMETYPE_host_name ||
	    n != len - 5 || n > TLSEXT_MAXLEN_host_name ||
	    memchr(ext + 5, '\0', n) != NULL)
		return -1;
	*name = (const char *)ext + 5;
	*namelen = n;
	return 0;
}

/*
 * SNI: the certificate of the site the name routes to on the listener
 * the connection came in on (site.c), which is the listener's default
 * site for an unknown name; without SNI that default's stays. The
 * connection remembers which certificate it got: a request whose Host
 * routes to a site with another one is misdirected (serve.c).
 *
 * The choice is made here, as soon as the ClientHello is in, and not in
 * the servername callback: OpenSSL looks up the session the client
 * offers (TLS 1.3 PSK, TLS 1.2 ticket or session id) before it calls
 * that one, and accepts it when its session id context is that of the
 * context the handshake is on at that moment. Switched here, that is
 * the context of the certificate this connection will send, and a
 * session made under another certificate is a full handshake (see
 * tls_sid_ctx). A second ClientHello (after a HelloRetryRequest) comes
 * here again and is routed again.
 */
static int
tls_hello_cb(SSL *ssl, int *alert, void *arg)
{
	const struct tls_ctxs	*t = arg;
	const struct site	*site;
	struct conn		*c = SSL_get_app_data(ssl);
	const unsigned char	*ext;
	const char		*name;
	size_t			 extlen, len;

	if (c == NULL || SSL_client_hello_get0_ext(ssl,
	    TLSEXT_TYPE_server_name, &ext, &extlen) != 1)
		return SSL_CLIENT_HELLO_SUCCESS;
	if (tls_sni_name(ext, extlen, &name, &len) == -1) {
		*alert = SSL_AD_DECODE_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	c->sni = true;
	site = site_route(c->lis, name, len);
	c->sni_site = site;
	if (site->tls_id >= 0 && site->tls_id != c->tls_id &&
	    (size_t)site->tls_id < t->nsites) {
		if (SSL_set_SSL_CTX(ssl, t->sites[site->tls_id].ctx) == NULL) {
			*alert = SSL_AD_INTERNAL_ERROR;
			return SSL_CLIENT_HELLO_ERROR;
		}
		c->tls_id = site->tls_id;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

/*
 * The servername callback only acknowledges the name (an empty
 * server_name extension in the reply), after OpenSSL parsed it itself:
 * the certificate is chosen already. On a full handshake that parse
 * must route where tls_hello_cb did, or the handshake fails rather than
 * go on with a certificate for another name. (On a TLS 1.2 resumption
 * OpenSSL reports the name of the session instead, which may be another
 * name of the same certificate.)
 */
static int
tls_sni_cb(SSL *ssl, int *alert, void *arg)
{
	const struct site	*site;
	struct conn		*c = SSL_get_app_data(ssl);
	const char		*name;

	(void)arg;
	name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (name == NULL || c == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	if (!SSL_session_reused(ssl)) {
		site = site_route(c->lis, name, strlen(name));
		if (site->tls_id >= 0 && site->tls_id != c->tls_id) {
			*alert = SSL_AD_INTERNAL_ERROR;
			return SSL_TLSEXT_ERR_ALERT_FATAL;
		}
	}
	return SSL_TLSEXT_ERR_OK;
}

/*
 * The session id context of a certificate: SHA-256 of its DER, which
 * fits SSL_MAX_SID_CTX_LENGTH. Every session (ticket or cache entry)
 * carries the context it was made in, and OpenSSL resumes it only in
 * the same one: a session made under one certificate never resumes
 * under another, so a connection is only ever authenticated by the
 * certificate it is routed to (tls_hello_cb), whichever site's name the
 * client sends. Sites that share a certificate share the context and
 * may resume each other's sessions: the same certificate vouches for
 * them all. Derived from the certificate alone, the context is the same
 * after a reload with the same certificate, so a reload costs no
 * resumption; a renewed certificate starts with full handshakes.
 */
static int
tls_sid_ctx(SSL_CTX *ctx)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n;
	X509		*leaf;

	if ((leaf = SSL_CTX_get0_certificate(ctx)) == NULL ||
	    X509_digest(leaf, EVP_sha256(), md, &n) != 1)
		return -1;
	if (n > SSL_MAX_SID_CTX_LENGTH)
		n = SSL_MAX_SID_CTX_LENGTH;
	return SSL_CTX_set_session_id_context(ctx, md, n) == 1 ? 0 : -1;
}

/* Whether an error says that a key is not the certificate's. */
static bool
tls_is_mismatch(unsigned long e)
{
	return ERR_GET_LIB(e) == ERR_LIB_X509 &&
	    (ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH ||
	    ERR_GET_REASON(e) == X509_R_KEY_TYPE_MISMATCH);
}

/* An encrypted key would ask for a pass phrase on the terminal: never. */
static int
tls_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

/*
 * One context: the policy of the whole config, with one certificate and
 * key. The policy, in one place:
 * - TLS 1.2 and 1.3 only (tls_protocols narrows it);
 * - TLS 1.2 suites from tls_ciphers, in the server's order, so the
 *   default list's forward-secret AEAD order wins over a client's;
 * - no renegotiation at all (client-initiated renegotiation was a DoS
 *   lever and served no HTTP/1.1 client), no compression (CRIME);
 * - ALPN http/1.1;
 * - resumption by tickets under keys shared by every worker, the only
 *   kind that works whichever worker the client reaches next; OpenSSL's
 *   own session cache is per process and stays off. With tickets off,
 *   that cache is all there is: resumption on the same worker only.
 *   Either way a session resumes only under the certificate it was made
 *   with (tls_sid_ctx).
 * - one ticket per handshake (OpenSSL sends two by default): a browser
 *   uses one per connection it opens and comes back for more.
 * - read-ahead: a record comes in one read() instead of two (header,
 *   then body).
 */
/*
 * Whether path is a regular file the master can read, looked at without
 * blocking: OpenSSL's own open would wait forever on a FIFO, and the
 * master must never block. On failure *reason says why.
 */
static int
tls_check_file(const char *path, const char **reason)
{
	struct stat	 st;
	int		 fd, rv = -1;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC |
	    O_NOCTTY)) == -1) {
		*reason = strerror(errno);
		return -1;
	}
	if (fstat(fd, &st) == -1)
		*reason = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		*reason = "not a regular file";
	else
		rv = 0;
	(void)close(fd);	/* read-only */
	return rv;
}

static SSL_CTX *
tls_ctx_new(const struct config *conf, const struct tls_ctxs *t,
    const char *cert, int cert_line, const char *key, int key_line)
{
	SSL_CTX		*ctx;
	const char	*reason;
	char		 shown[4 * TLS_SHOW_MAX + 1], why[LOG_LINE_MAX / 4];
	uint64_t	 opts;
	bool		 mismatch = false;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_conf_error(conf, cert_line, "TLS context: %s",
		    tls_reason(why, sizeof(why)));
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx,
	    (conf->tls_protocols & TLS_PROTO_12) ? TLS1_2_VERSION :
	    TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx,
	    (conf->tls_protocols & TLS_PROTO_13) ? TLS1_3_VERSION :
	    TLS1_2_VERSION) != 1) {
		tls_conf_error(conf, conf->tls_protocols_line,
		    "tls_protocols: %s", tls_reason(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_set_cipher_list(ctx, conf->tls_ciphers) != 1) {
		(void)log_escape(shown, sizeof(shown), conf->tls_ciphers,
		    strnlen(conf->tls_ciphers, TLS_SHOW_MAX));
		tls_conf_error(conf, conf->tls_ciphers_line,
		    "tls_ciphers \"%s\": %s", shown,
		    tls_reason(why, sizeof(why)));
		goto fail;
	}
	/*
	 * SSL_OP_NO_RENEGOTIATION refuses renegotiation from either side
	 * (client-initiated is off in OpenSSL 3 anyway: it would need
	 * SSL_OP_ALLOW_CLIENT_RENEGOTIATION). An EOF without close_notify
	 * is an EOF: HTTP framing, not TLS, says whether a message ended.
	 */
	opts = SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF;
	if (!conf->tls_session_tickets)
		opts |= SSL_OP_NO_TICKET;
	if (t->ktls)
		opts |= SSL_OP_ENABLE_KTLS;
	(void)SSL_CTX_set_options(ctx, opts);	/* returns the new set */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_cb, NULL);
	SSL_CTX_set_default_passwd_cb(ctx, tls_no_passphrase);
	if (SSL_CTX_set_num_tickets(ctx, 1) != 1) {
		tls_conf_error(conf, cert_line, "TLS context: %s",
		    tls_reason(why, sizeof(why)));
		goto fail;
	}
	if (conf->tls_session_tickets) {
		(void)SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		(void)SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tls_ticket_cb);
	} else	/* bounded: any client can fill it, in every worker */
		(void)SSL_CTX_sess_set_cache_size(ctx, TLS_SESSION_CACHE_MAX);

	(void)log_escape(shown, sizeof(shown), cert, strnlen(cert, TLS_SHOW_MAX));
	if (tls_check_file(cert, &reason) == -1) {
		tls_conf_error(conf, cert_line, "tls_certificate \"%s\": %s",
		    shown, reason);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls_conf_error(conf, cert_line, "tls_certificate \"%s\": %s",
		    shown, tls_reason(why, sizeof(why)));
		goto fail;
	}
	(void)log_escape(shown, sizeof(shown), key, strnlen(key, TLS_SHOW_MAX));
	if (tls_check_file(key, &reason) == -1) {
		tls_conf_error(conf, key_line, "tls_key \"%s\": %s", shown,
		    reason);
		goto fail;
	}
	/*
	 * Loading the key already compares it with the certificate; the
	 * explicit check after it covers a chain file without a leaf key.
	 */
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		if (!tls_is_mismatch(ERR_peek_error())) {
			tls_conf_error(conf, key_line, "tls_key \"%s\": %s",
			    shown, tls_reason(why, sizeof(why)));
			goto fail;
		}
		mismatch = true;
	} else
		ERR_clear_error();
	if (mismatch || SSL_CTX_check_private_key(ctx) != 1) {
		tls_conf_error(conf, key_line, "tls_key \"%s\": does not "
		    "match tls_certificate (line %d): %s", shown, cert_line,
		    tls_reason(why, sizeof(why)));
		goto fail;
	}
	if (tls_sid_ctx(ctx) == -1) {
		tls_conf_error(conf, cert_line, "TLS context: %s",
		    tls_reason(why, sizeof(why)));
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* The entry of a pair, added when new; -1 when out of memory. */
static int
tls_pair(struct tls_ctxs *t, const char *cert, const char *key)
{
	struct tls_site	*s;
	size_t		 i;

	for (i = 0; i < t->nsites; i++)
		if (strcmp(t->sites[i].cert, cert) == 0 &&
		    strcmp(t->sites[i].key, key) == 0)
			return (int)i;
	if ((s = reallocarray(t->sites, t->nsites + 1, sizeof(*s))) == NULL)
		return -1;
	t->sites = s;
	s[t->nsites].cert = cert;
	s[t->nsites].key = key;
	s[t->nsites].ctx = NULL;
	return (int)t->nsites++;
}

/*
 * Builds conf->tls: one context per distinct (certificate, key) pair of
 * the top level and the sites, each site's tls_id naming its pair (-1
 * without one). Every context has the ClientHello and SNI callbacks,
 * as the one a handshake starts on is the listener's default site's.
 */
int
tls_ctx_load(struct config *conf)
{
	struct tls_ctxs		*t;
	const struct scope	*sc;
	char			 why[LOG_LINE_MAX / 4];
	size_t			 i;
	int			 s, id, rc = 0;

	if (conf->tls != NULL)
		return 0;
	for (s = 0; s < conf->nsites; s++)
		conf->sites[s].tls_id = -1;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		tls_conf_error(conf, conf->top.tls_certificate_line, "%s",
		    strerror(errno));
		return -1;
	}
	for (s = -1; s < conf->nsites; s++) {
		sc = s < 0 ? &conf->top : &conf->sites[s].sc;
		if (sc->tls_certificate[0] == '\0' || sc->tls_key[0] == '\0')
			continue;
		if ((id = tls_pair(t, sc->tls_certificate, sc->tls_key)) == -1) {
			tls_conf_error(conf, sc->tls_certificate_line, "%s",
			    strerror(errno));
			tls_ctx_free(t);
			return -1;
		}
		if (s >= 0)
			conf->sites[s].tls_id = id;
	}
	if (t->nsites == 0) {
		tls_ctx_free(t);
		return 0;
	}
	if (ticket_cipher == NULL &&
	    (ticket_cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC",
	    NULL)) == NULL) {
		tls_conf_error(conf, conf->top.tls_certificate_line,
		    "session tickets: %s", tls_reason(why, sizeof(why)));
		tls_ctx_free(t);
		return -1;
	}
	t->ktls = tls_ktls_available(NULL);
	for (i = 0; i < t->nsites; i++) {
		/* The lines of the first scope that names the pair. */
		sc = &conf->top;
		for (s = -1; s < conf->nsites; s++) {
			sc = s < 0 ? &conf->top : &conf->sites[s].sc;
			if (strcmp(sc->tls_certificate, t->sites[i].cert) == 0 &&
			    strcmp(sc->tls_key, t->sites[i].key) == 0)
				break;
		}
		t->sites[i].ctx = tls_ctx_new(conf, t, t->sites[i].cert,
		    sc->tls_certificate_line, t->sites[i].key,
		    sc->tls_key_line);
		if (t->sites[i].ctx == NULL) {
			rc = -1;	/* every pair is reported */
			continue;
		}
		SSL_CTX_set_client_hello_cb(t->sites[i].ctx, tls_hello_cb, t);
		SSL_CTX_set_tlsext_servername_callback(t->sites[i].ctx,
		    tls_sni_cb);
	}
	if (rc == -1) {
		tls_ctx_free(t);
		return -1;
	}
	conf->tls = t;
	conf->tls_free = tls_ctx_free;
	return 0;
}

void
tls_ctx_free(struct tls_ctxs *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nsites; i++)
		SSL_CTX_free(t->sites[i].ctx);
	free(t->sites);
	free(t);
}
