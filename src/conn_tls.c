/*
 * conn_tls.c: TLS as a connection transport, the second table of
 * struct conn_ops, over OpenSSL on the same blocking socket and with the
 * same deadlines as plain TCP. Owns the worker's one SSL object, reused
 * for every connection, and a fixed staging buffer of one record; tine
 * allocates nothing per connection here. OpenSSL still does, inside
 * SSL_set_fd() (a socket BIO) and the handshake (the session, its
 * keys, the peer's ClientHello data); its record buffers are kept
 * between connections (no SSL_MODE_RELEASE_BUFFERS: that would be a
 * malloc and free per request).
 */
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "conn_tls.h"
#include "scoreboard.h"
#include "tls.h"

#define TLS_HANDSHAKE_TYPE	0x16	/* ContentType handshake: the
					   first byte a TLS client sends */
#define TLS_FAIL_LOG_MS		1000	/* one handshake failure line per */
#define TLS_WHY_MAX		80	/* bytes of a failure's reason logged */

/*
 * The worker's TLS state, for one connection at a time. A write that
 * failed with EINTR must be repeated with the same bytes (OpenSSL
 * requires it), so they stay in stage until it succeeds.
 */
struct tls_conn {
	SSL		*ssl;
	SSL_CTX		*ctx;		/* the default context */
	struct conn	*c;		/* the connection, for the deadline
					   of every read (c->deadline) */
	bool		 ktls;		/* kernel TLS may be used */
	bool		 ktls_send;	/* this connection: SSL_sendfile */
	bool		 dead;		/* fatal error: no close_notify */
	bool		 notified;	/* close_notify sent */
	bool		 inflight;	/* stage[0..len) to be written again */
	size_t		 len;		/* bytes in stage */
	size_t		 held;		/* of them, a head held back so that
					   it leaves with the file's first
					   bytes, in one record */
	size_t		 owed;		/* bytes of the caller's the write in
					   flight carries, to report */
	int64_t		 fail_log_ms;	/* last failure line */
	unsigned	 fail_quiet;	/* failures not logged since */
	char		 stage[TLS_RECORD_BYTES];
};

static struct tls_conn	 tls;

/*
 * OpenSSL's result as a system call's: a retry (WANT_READ/WANT_WRITE on
 * a blocking socket) is EINTR when a signal interrupted the wait, so
 * that the caller runs its wait hook, else EAGAIN (SO_RCVTIMEO or
 * SO_SNDTIMEO fired); the peer's close_notify is EOF for a read; the
 * rest ends the connection without a close_notify of ours.
 */
static ssize_t
conn_tls_error(struct tls_conn *t, int r, int saved, bool reading)
{
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_ZERO_RETURN:
		if (reading)
			return 0;
		errno = EPIPE;
		return -1;
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = saved == EINTR ? EINTR : EAGAIN;
		return -1;
	case SSL_ERROR_SYSCALL:
		t->dead = true;
		errno = saved != 0 && saved != EINTR ? saved : ECONNRESET;
		break;
	default:
		t->dead = true;
		errno = EIO;
		break;
	}
	ERR_clear_error();
	return -1;
}

static ssize_t
conn_tls_recv(struct conn *c, void *buf, size_t len)
{
	struct tls_conn	*t = c->tp;
	int		 r;

	if (len > INT_MAX)
		len = INT_MAX;
	ERR_clear_error();
	errno = 0;
	if ((r = SSL_read(t->ssl, buf, (int)len)) > 0)
		return r;
	return conn_tls_error(t, r, errno, true);
}

/* The lingering close reads the raw socket: records are only dropped. */
static ssize_t
conn_tls_drain(struct conn *c, void *buf, size_t len)
{
	return recv(c->fd, buf, len, MSG_DONTWAIT);
}

/* Writes stage[0..len): records of at most TLS_RECORD_BYTES. */
static ssize_t
conn_tls_flush(struct tls_conn *t)
{
	size_t	 n;
	int	 r;

	t->inflight = true;
	ERR_clear_error();
	errno = 0;
	if ((r = SSL_write(t->ssl, t->stage, (int)t->len)) <= 0)
		return conn_tls_error(t, r, errno, false);
	n = t->owed;
	t->inflight = false;
	t->len = t->held = t->owed = 0;
	return (ssize_t)n;
}

/*
 * Gathers the pieces into the staging buffer and writes them as one
 * record, so a small response is one write(). A head followed by a file
 * (more) is held back, to leave with the file's first bytes.
 */
static ssize_t
conn_tls_sendv(struct conn *c, const struct iovec *iov, int iovcnt,
    bool more)
{
	struct tls_conn	*t = c->tp;
	size_t		 total = 0, room, n;
	int		 i;

	if (t->inflight)
		return conn_tls_flush(t);
	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	room = sizeof(t->stage) - t->len;
	for (i = 0, t->owed = 0; i < iovcnt && t->owed < room; i++) {
		n = iov[i].iov_len;
		if (n > room - t->owed)
			n = room - t->owed;
		memcpy(t->stage + t->len + t->owed, iov[i].iov_base, n);
		t->owed += n;
	}
	t->len += t->owed;
	if (more && t->owed == total) {
		t->held = t->len;
		n = t->owed;
		t->owed = 0;
		return (ssize_t)n;
	}
	return conn_tls_flush(t);
}

/*
 * A file: with kernel TLS, SSL_sendfile() (the kernel encrypts, and the
 * pages never come to user space); otherwise one pread() into the
 * staging buffer, after any held head, and one record out.
 */
static ssize_t
conn_tls_sendfile(struct conn *c, int fd, off_t *off, size_t len)
{
	struct tls_conn	*t = c->tp;
	ossl_ssize_t	 sent;
	ssize_t		 n;

	if (t->ktls_send) {
		if (t->len > 0) {
			if (!t->inflight)
				t->owed = 0;
			if (conn_tls_flush(t) == -1)
				return -1;
		}
		ERR_clear_error();
		errno = 0;
		sent = SSL_sendfile(t->ssl, fd, *off, len, 0);
		if (sent < 0)
			return conn_tls_error(t, (int)sent, errno, false);
		*off += sent;
		return sent;
	}
	if (!t->inflight) {
		if (len > sizeof(t->stage) - t->len)
			len = sizeof(t->stage) - t->len;
		n = pread(fd, t->stage + t->len, len, *off);
		if (n == -1)
			return -1;
		if (n == 0 && t->len == 0)
			return 0;	/* the file ended early */
		t->len += (size_t)n;
		t->owed = (size_t)n;	/* 0: the held head alone */
	}
	n = conn_tls_flush(t);
	if (n > 0)
		*off += n;
	return n;
}

static bool
conn_tls_pending(struct conn *c)
{
	struct tls_conn	*t = c->tp;
	char		 b;

	return SSL_has_pending(t->ssl) ||
	    recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
}

/*
 * close_notify (RFC 8446 §6.1) once, without waiting for the client's:
 * HTTP framing already says where each response ends, and the lingering
 * close that follows drains whatever comes back. Then the TCP FIN.
 */
static void
conn_tls_notify(struct conn *c)
{
	struct tls_conn	*t = c->tp;

	if (t == NULL || t->dead || t->notified || c->send_failed ||
	    !SSL_is_init_finished(t->ssl))
		return;
	t->notified = true;
	ERR_clear_error();
	(void)SSL_shutdown(t->ssl);	/* best effort: closing */
	ERR_clear_error();
}

static int
conn_tls_shutdown(struct conn *c)
{
	conn_tls_notify(c);
	return shutdown(c->fd, SHUT_WR);
}

/* Also after a quick close, which skips the shutdown stage. */
static void
conn_tls_close(struct conn *c)
{
	struct tls_conn	*t = c->tp;

	conn_tls_notify(c);
	if (t != NULL)
		t->c = NULL;	/* its BIO goes with the next SSL_set_fd() */
	(void)close(c->fd);	/* nothing to do on error */
}

const struct conn_ops conn_tls_ops = {
	.name = "tls",
	.recv = conn_tls_recv,
	.drain = conn_tls_drain,
	.sendv = conn_tls_sendv,
	.sendfile = conn_tls_sendfile,
	.pending = conn_tls_pending,
	.shutdown = conn_tls_shutdown,
	.close = conn_tls_close,
};

int
conn_tls_init(const struct config *conf)
{
	const char	*why;

	if (!conf->has_tls || conf->tls == NULL)
		return 0;
	tls.ctx = conf->tls->sites[0].ctx;
	if ((tls.ssl = SSL_new(tls.ctx)) == NULL) {
		log_warnx("SSL_new: %s", ERR_reason_error_string(
		    ERR_peek_last_error()));
		return -1;
	}
	tls.ktls = conf->tls->ktls && tls_ktls_available(&why);
	return 0;
}

/*
 * A failed handshake is the client's doing (a scanner, an old client,
 * one that gave up): counted in the slot, and logged at info level at
 * most once per TLS_FAIL_LOG_MS with the count since, so a flood of
 * them cannot fill the log.
 */
static void
conn_tls_failed(struct conn *c, const char *why)
{
	struct tls_conn	*t = &tls;
	char		 esc[4 * TLS_WHY_MAX + 1];
	int64_t		 now = util_now_ms();

	if (sb_self != NULL)
		sb_self->tls_failures++;
	if (t->fail_log_ms != 0 && now - t->fail_log_ms < TLS_FAIL_LOG_MS) {
		t->fail_quiet++;
		return;
	}
	(void)log_escape(esc, sizeof(esc), why, strnlen(why, TLS_WHY_MAX));
	if (t->fail_quiet > 0)
		log_info("TLS handshake with %s failed: %s (and %u more since "
		    "the last report)", c->addr, esc, t->fail_quiet);
	else
		log_info("TLS handshake with %s failed: %s", c->addr, esc);
	t->fail_log_ms = now;
	t->fail_quiet = 0;
}

/*
 * Failures not yet reported, once TLS_FAIL_LOG_MS has passed since the
 * last line: called by the worker's flush timer, so a flood that stops
 * is still counted in the log. Returns whether some remain unreported.
 */
bool
conn_tls_report(void)
{
	struct tls_conn	*t = &tls;
	int64_t		 now;

	if (t->fail_quiet == 0)
		return false;
	now = util_now_ms();
	if (now - t->fail_log_ms < TLS_FAIL_LOG_MS)
		return true;
	log_info("%u more TLS handshakes failed since the last report",
	    t->fail_quiet);
	t->fail_log_ms = now;
	t->fail_quiet = 0;
	return false;
}

/*
 * Before each read of the socket, in the handshake and after it: none
 * starts after the deadline of the read under way, and none waits past
 * it (the receive timeout is cut to what is left). SSL_read() reads
 * until a whole record is in, so without this a client that trickles a
 * record (or its handshake) would hold the worker far past
 * header_timeout or keepalive_timeout.
 */
static long
conn_tls_deadline_cb(BIO *b, int oper, const char *argp, size_t len,
    int argi, long argl, int ret, size_t *processed)
{
	struct tls_conn	*t = &tls;
	int64_t		 left;

	(void)b;
	(void)argp;
	(void)len;
	(void)argi;
	(void)argl;
	(void)processed;
	if (oper != BIO_CB_READ || t->c == NULL)
		return ret;
	left = t->c->deadline - util_now_ms();
	if (left <= 0) {
		errno = EAGAIN;
		return -1;
	}
	if (left < t->c->timeo_ms && conn_set_timeout(t->c, (int)left) == -1)
		return -1;
	return ret;
}

/*
 * The first byte, without taking it: a TLS client starts with a
 * handshake record; a letter is a plain HTTP method. Returns the byte,
 * -2 at EOF, or -1 (errno set).
 */
static int
conn_tls_peek(struct conn *c, int64_t deadline)
{
	unsigned char	 b;
	int64_t		 left;
	ssize_t		 n;

	for (;;) {
		left = deadline - util_now_ms();
		if (left <= 0) {
			errno = EAGAIN;
			return -1;
		}
		if (left < c->timeo_ms && conn_set_timeout(c, (int)left) == -1)
			return -1;
		n = recv(c->fd, &b, 1, MSG_PEEK);
		if (n == 1)
			return b;
		if (n == 0)
			return -2;
		if (errno != EINTR)
			return -1;
		if (conn_give_up(c, true))
			return -1;
	}
}

static const char *
conn_tls_why(int err, int saved)
{
	unsigned long	 e;
	const char	*r;

	switch (err) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return "timed out";
	case SSL_ERROR_SYSCALL:
		if (saved == EAGAIN || saved == EWOULDBLOCK)
			return "timed out";
		return saved == 0 ? "connection closed" : strerror(saved);
	default:
		e = ERR_peek_last_error();
		r = e != 0 ? ERR_reason_error_string(e) : NULL;
		return r != NULL ? r : "protocol error";
	}
}

int
conn_tls_accept(struct conn *c, int64_t deadline)
{
	struct tls_conn	*t = &tls;
	SSL_CTX		*ctx;
	const char	*why;
	int		 b, r, err, saved;

	if (t->ssl == NULL) {
		conn_tls_failed(c, "no TLS context");
		return -1;
	}
	c->tp = t;
	t->len = t->held = t->owed = 0;
	t->inflight = t->dead = t->notified = t->ktls_send = false;
	c->handshaking = true;
	if ((b = conn_tls_peek(c, deadline)) < 0) {
		c->handshaking = false;
		if (b == -2) {
			c->quick_close = true;	/* never spoke */
			return -1;
		}
		t->dead = true;
		conn_tls_failed(c, errno == EAGAIN || errno == EWOULDBLOCK ?
		    "timed out" : strerror(errno));
		return -1;
	}
	if (b != TLS_HANDSHAKE_TYPE) {
		c->handshaking = false;
		t->dead = true;
		if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z')) {
			/*
			 * A plain HTTP request: the connection goes on as
			 * plain TCP for its one answer (a TLS alert would
			 * reach no one: the client speaks no TLS).
			 */
			conn_tls_failed(c, "plain HTTP on a TLS port");
			c->ops = &conn_plain_ops;
			c->tp = NULL;
			return CONN_TLS_PLAIN;
		} else
			conn_tls_failed(c, "not a TLS handshake");
		return -1;
	}

	/*
	 * A new connection on the reused object: SSL_clear() keeps the
	 * record buffers; the context of the listener's default site comes
	 * back in case SNI chose another for the last client (the
	 * ClientHello callback finds the connection through the app data),
	 * and with it that certificate's session id context, the one the
	 * client's session is checked against unless SNI switches again;
	 * the socket BIO is new.
	 */
	ERR_clear_error();
	ctx = c->tls_id >= 0 && (size_t)c->tls_id < c->conf->tls->nsites ?
	    c->conf->tls->sites[c->tls_id].ctx : t->ctx;
	if (SSL_clear(t->ssl) != 1 ||
	    (SSL_get_SSL_CTX(t->ssl) != ctx &&
	    SSL_set_SSL_CTX(t->ssl, ctx) == NULL) ||
	    SSL_set_app_data(t->ssl, c) != 1 ||
	    SSL_set_fd(t->ssl, c->fd) != 1) {
		c->handshaking = false;
		t->dead = true;
		conn_tls_failed(c, conn_tls_why(SSL_ERROR_SSL, 0));
		ERR_clear_error();
		return -1;
	}
	t->c = c;
	c->deadline = deadline;
	BIO_set_callback_ex(SSL_get_rbio(t->ssl), conn_tls_deadline_cb);
	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_accept(t->ssl)) == 1)
			break;
		saved = errno;
		err = SSL_get_error(t->ssl, r);
		if ((err == SSL_ERROR_WANT_READ ||
		    err == SSL_ERROR_WANT_WRITE) && saved == EINTR) {
			if (!conn_give_up(c, true))
				continue;
			saved = errno == EAGAIN ? EAGAIN : ECONNABORTED;
			err = SSL_ERROR_SYSCALL;
		}
		why = conn_tls_why(err, saved);
		c->handshaking = false;
		t->dead = true;
		conn_tls_failed(c, why);
		ERR_clear_error();
		return -1;
	}
	c->handshaking = false;
	if (sb_self != NULL) {
		sb_self->tls_handshakes++;
		if (SSL_session_reused(t->ssl))
			sb_self->tls_resumed++;
	}
	t->ktls_send = t->ktls && BIO_get_ktls_send(SSL_get_wbio(t->ssl));
	return 0;
}
