/*
 * load.c: the HTTP/1.1 load client of scripts/bench. One thread, nonblocking
 * sockets and epoll; each connection slot sends one request at a time and
 * counts what it got, so that a connection the server never answers shows up
 * as "starved" instead of disappearing into an average. Latency goes into a
 * log-linear histogram (about 3% resolution) for p50/p99.
 *
 * With -S it speaks TLS (OpenSSL, nonblocking): connect, handshake, then
 * the same request loop. The client offers what OpenSSL offers by
 * default (TLS 1.3 first, its default suites and groups), SNI localhost
 * and ALPN http/1.1, and does not verify the certificate: that is no cost
 * of the server's. With -R each new connection offers the session of the
 * first one that got a resumable session (SSL_set_session), and the line
 * counts how many handshakes the server actually resumed; without it
 * every handshake is a full one.
 *
 * usage: load [-C] [-S [-R]] -c CONNS (-d SECONDS | -n REQUESTS | -k PER_CONN)
 *             [-r RAMP_MS] [-e CODINGS] [-H HOST] [-s STATUS] [-t TIMEOUT]
 *             ADDR:PORT PATH
 *        load [-C] [-S [-R]] -c CONNS (-d SECONDS | -n REQUESTS | -k PER_CONN)
 *             [-r RAMP_MS] [-e CODINGS] [-H HOST] [-t TIMEOUT] -L LIST
 *             [-i PERCENT] [-x SEED] [-z EXPONENT] ADDR:PORT
 * -c opens CONNS connection slots (at most 4096) to ADDR:PORT (IPv4). The
 * run lasts SECONDS (-d), or until REQUESTS have been answered (-n), or
 * is a burst (-k, below): exactly one of the three. -C sends
 * "Connection: close" and opens a new connection for every request. A
 * request not answered within TIMEOUT seconds (-t, default 10) fails its
 * connection (errors=), and the slot connects again. -H sends HOST as the Host field (default: ADDR:PORT), so that a server
 * with several sites routes the requests to one of them. -e sends
 * CODINGS as Accept-Encoding ("gzip, br", say); without it the request
 * has no Accept-Encoding field.
 *
 * With -L each request asks for a path of LIST instead of the one PATH:
 * LIST has a line per file, "PATH" or "PATH ETAG", the most popular
 * first, and the k-th line is picked with a probability proportional to
 * 1 / k^EXPONENT (Zipf; -z, default 1). PERCENT of the requests (-i,
 * default 0) for a file with an ETag carry it in If-None-Match, as a
 * browser revalidating its copy. Each connection slot draws from a
 * generator of its own seeded from SEED (-x, default 1) and its index,
 * so that the n-th request of slot i is the same file, conditional or
 * not, whatever server answers. A 200 and a 304 to a conditional request
 * are good answers; a 304 to an unconditional one and any other status
 * are bad (-s does not apply). With -k the slots draw as they do for
 * -d and -n.
 *
 * A body is delimited by Content-Length or by chunked transfer coding
 * (RFC 9112, 7.1: sizes, extensions and trailer fields are read and
 * checked, not kept); anything else, or a byte past the end of the
 * response, fails the connection. bytes= counts the body bytes of the
 * good responses: the payload, without chunk framing, still content-coded
 * (bytes / requests is the mean body of a response). A complete response
 * whose status is not STATUS (default 200) is "bad": its body is read,
 * the connection goes on, and it counts in bad= only, not in requests=.
 * Over plain TCP the bytes of a body with a Content-Length are dropped by
 * the kernel unread (recv with MSG_TRUNC, never past the body's end), so
 * that copying them out does not make this client the limit of a run
 * that moves gigabytes a second; a chunked body, or any over TLS, is read
 * and parsed or decrypted.
 *
 * A burst (-k): each connection slot makes PER_CONN requests, then closes
 * and is not opened again; one that the server closed earlier reconnects
 * for the rest (counted in reconnects=). -r spreads the slots' first
 * connects evenly over RAMP_MS milliseconds. The run ends when every slot
 * is done, and the line adds last_ms= (from the first connect to the last
 * response), reconnects=, p999_us= and max_us=. A request's latency runs
 * from its connect when it is the first on its connection, so the time a
 * connection waits in the server's accept queue is in it.
 *
 * prints one line: requests= (good responses) errors= (connections that
 * failed: refused, reset, timed out or malformed) bad= starved= (slots
 * that got no good response) conn_min= conn_max= (the fewest and most
 * good responses of a slot) p50_us= p99_us= (latency percentiles)
 * elapsed_s= rps= bytes= encoded= (good responses that
 * had a Content-Encoding other than identity) client_cpu_pct= (the
 * client's own CPU time over the run's wall time: near 100 it, not the
 * server, is the limit), status_200= status_304= status_other= (complete
 * responses by status, good or bad) cond= (conditional requests sent), and
 * with -S handshakes= resumed= tls= (protocol/suite/group of the first
 * handshake), and with -k last_ms= reconnects= p999_us= max_us= (above).
 * Exits 0 when at least
 * one request was answered and none failed or was bad, 3 otherwise, 2 on
 * a usage error.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>

#define CONNS_MAX		4096
#define HEAD_MAX_BYTES		16384	/* response status line and fields */
#define REQUEST_MAX_BYTES	1024
#define DISCARD_BYTES		(256 * 1024)	/* body bytes per read() */
#define TRUNC_MAX_BYTES		(64 * 1024 * 1024) /* per recv(MSG_TRUNC) */
#define EVENTS_MAX		256
#define SWEEP_MS		50	/* timeout checks */
#define HIST_LINEAR		64	/* 1 µs buckets below this */
#define HIST_SUB_BITS		5	/* 32 buckets per power of two */
#define HIST_BUCKETS		(HIST_LINEAR + (64 - 6) * (1 << HIST_SUB_BITS))
#define TLS_SNI			"localhost"	/* the bench certificate's */
#define TLS_INFO_BYTES		160
#define CHUNK_DIGITS_MAX	15	/* hex digits of a chunk size */
#define CHUNK_LINE_MAX_BYTES	4096	/* a chunk extension or trailer line */

enum state {
	ST_IDLE,		/* no socket */
	ST_CONNECTING,
	ST_HANDSHAKE,		/* TLS */
	ST_WRITING,
	ST_HEAD,		/* reading the status line and fields */
	ST_BODY,
	ST_EOF,			/* response done; waiting for the close */
};

/* Where a body is: RFC 9112, 6.3 (length) and 7.1 (chunked). */
enum body {
	B_LENGTH,		/* Content-Length: body_left to go */
	B_SIZE,			/* chunk-size digits */
	B_EXT,			/* chunk extensions, up to CR */
	B_SIZE_LF,
	B_DATA,			/* chunk-data: body_left to go */
	B_DATA_CR,
	B_DATA_LF,
	B_TRAILER,		/* at the start of a trailer line */
	B_TRAILER_LINE,		/* inside one, up to LF */
	B_END_LF,		/* the empty line's LF */
	B_DONE,
};

struct conn {
	int		 fd;
	SSL		*ssl;		/* -S: this connection's */
	enum state	 st;
	size_t		 woff;
	size_t		 hlen;
	long long	 body_left;
	unsigned long long rbytes;	/* body bytes of this response */
	enum body	 bst;
	int		 digits;	/* of the chunk size so far */
	size_t		 line;		/* bytes of an extension or trailer */
	bool		 bad;		/* the status is not the one wanted */
	int		 status;
	bool		 cond;		/* -L: If-None-Match sent */
	uint64_t	 rng;		/* -L: this slot's generator */
	const char	*req;		/* the request: L.req, or mreq */
	size_t		 reqlen;
	char		 mreq[REQUEST_MAX_BYTES];
	bool		 encoded;	/* Content-Encoding, not identity */
	bool		 server_close;
	uint32_t	 watching;	/* epoll events registered */
	uint64_t	 t_start;	/* ns, request (or connect) start */
	uint64_t	 deadline;	/* ns */
	unsigned long	 done;		/* responses completed */
	char		 head[HEAD_MAX_BYTES];
};

static struct {
	struct sockaddr_in	 addr;
	char			 req[REQUEST_MAX_BYTES];
	size_t			 reqlen;
	int			 ep;
	bool			 close_mode;
	bool			 tls;		/* -S */
	bool			 resume;	/* -R */
	SSL_CTX			*ctx;
	SSL_SESSION		*sess;		/* -R: offered on each connect */
	unsigned long		 handshakes;
	unsigned long		 resumed;
	char			 tls_info[TLS_INFO_BYTES];
	int			 want_status;
	uint64_t		 timeout_ns;
	unsigned long		 limit;		/* -n: requests to issue */
	unsigned long		 issued;
	unsigned long		 done;
	unsigned long		 errors;
	unsigned long		 bad;		/* complete, wrong status */
	unsigned long		 encoded;
	unsigned long		 status_200;
	unsigned long		 status_304;
	unsigned long		 status_other;
	unsigned long long	 bytes;
	uint64_t		 t_end;		/* ns; -d */
	bool			 stopping;
	uint64_t		 hist[HIST_BUCKETS];
	struct conn		*conns;
	int			 nconns;
	char			*discard;
} L;

/* -L: the files, their popularity and the conditional share. */
struct mix_file {
	char		*path;
	char		*etag;		/* NULL: never asked conditionally */
};

static struct {
	struct mix_file	*files;
	double		*cdf;		/* cdf[k]: P(rank <= k + 1) */
	size_t		 n;
	double		 zipf_s;
	double		 cond_share;
	uint64_t	 seed;
	unsigned long	 cond;		/* conditional requests sent */
	const char	*host;
	char		 extra[REQUEST_MAX_BYTES];	/* fields after Host */
} M;

/* -k, -r: the burst; burst_* below. */
static struct {
	unsigned long		 per_conn;	/* -k; 0: no burst */
	uint64_t		 ramp_ns;	/* -r */
	unsigned long		*sent;		/* per slot: requests issued */
	int			 started;	/* slots whose first connect is due */
	unsigned long		 reconnects;
	uint64_t		 t0;
	uint64_t		 t_last;	/* ns, the last response */
	uint64_t		 max_us;
} B;

static uint64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
hist_index(uint64_t us)
{
	int	 e;

	if (us < HIST_LINEAR)
		return (int)us;
	e = 63 - __builtin_clzll(us);	/* >= 6 */
	return HIST_LINEAR + (e - 6) * (1 << HIST_SUB_BITS) +
	    (int)((us >> (e - HIST_SUB_BITS)) & ((1 << HIST_SUB_BITS) - 1));
}

/* Middle of a bucket, in µs. */
static double
hist_value(int i)
{
	int		 e, sub;
	double		 lo, width;

	if (i < HIST_LINEAR)
		return i + 0.5;
	e = (i - HIST_LINEAR) / (1 << HIST_SUB_BITS) + 6;
	sub = (i - HIST_LINEAR) % (1 << HIST_SUB_BITS);
	width = (double)(1ull << (e - HIST_SUB_BITS));
	lo = (double)(1ull << e) + sub * width;
	return lo + width / 2;
}

static double
hist_percentile(double p)
{
	uint64_t	 total = 0, want, seen = 0;
	int		 i;

	for (i = 0; i < HIST_BUCKETS; i++)
		total += L.hist[i];
	if (total == 0)
		return 0;
	want = (uint64_t)(p * (double)total);
	if (want < 1)
		want = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += L.hist[i];
		if (seen >= want)
			return hist_value(i);
	}
	return hist_value(HIST_BUCKETS - 1);
}

static bool
may_issue(void)
{
	if (L.stopping)
		return false;
	if (L.limit > 0 && L.issued >= L.limit)
		return false;
	return true;
}

static void
conn_drop(struct conn *c)
{
	if (c->ssl != NULL) {
		/*
		 * Freed without SSL_shutdown(), OpenSSL would mark the
		 * session not resumable, the one -R offers among them;
		 * no close_notify is sent either way (the server closes
		 * first, or the run is over).
		 */
		SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN |
		    SSL_RECEIVED_SHUTDOWN);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd != -1) {
		(void)epoll_ctl(L.ep, EPOLL_CTL_DEL, c->fd, NULL);
		(void)close(c->fd);
	}
	c->fd = -1;
	c->st = ST_IDLE;
	c->watching = 0;
}

/* Registers interest in events, with a system call only on a change. */
static int
conn_watch(struct conn *c, uint32_t events)
{
	struct epoll_event	 ev;
	int			 op;

	if (c->watching == events)
		return 0;
	op = c->watching == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(L.ep, op, c->fd, &ev) == -1)
		return -1;
	c->watching = events;
	return 0;
}

static void conn_start(struct conn *);
static int mix_request(struct conn *);
static bool burst_take(struct conn *);
static void burst_note(uint64_t);

static void
conn_fail(struct conn *c)
{
	L.errors++;
	conn_drop(c);
	conn_start(c);
}

/*
 * OpenSSL's result as read()'s or write()'s: a retry is EAGAIN with the
 * event to wait for in *want, the peer's close (close_notify, or a bare
 * EOF: SSL_OP_IGNORE_UNEXPECTED_EOF) is 0.
 */
static ssize_t
io_tls_result(struct conn *c, int r, uint32_t *want)
{
	int	 saved = errno;

	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_WANT_READ:
		*want = EPOLLIN;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		*want = EPOLLOUT;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_SYSCALL:
		errno = saved != 0 ? saved : ECONNRESET;
		break;
	default:
		errno = EPROTO;
		break;
	}
	ERR_clear_error();
	return -1;
}

static ssize_t
io_read(struct conn *c, void *buf, size_t len, uint32_t *want)
{
	int	 r;

	*want = EPOLLIN;
	if (c->ssl == NULL)
		return read(c->fd, buf, len);
	if (len > INT_MAX)
		len = INT_MAX;
	errno = 0;
	if ((r = SSL_read(c->ssl, buf, (int)len)) > 0)
		return r;
	return io_tls_result(c, r, want);
}

/*
 * Body bytes: over plain TCP, of a body with a Content-Length, recv() with
 * MSG_TRUNC drops them in the kernel without copying them out (Linux TCP;
 * never past the body's end, so the next response stays queued). Copying
 * 1 GiB downloads into a buffer made this client, not the server, the
 * limit at about 4.6 GiB/s on a core. Everything else is read into the
 * discard buffer, to be parsed (chunk framing) or decrypted.
 */
static ssize_t
body_read(struct conn *c, uint32_t *want)
{
	size_t	 len = TRUNC_MAX_BYTES;

	if (c->ssl != NULL || c->bst != B_LENGTH)
		return io_read(c, L.discard, DISCARD_BYTES, want);
	*want = EPOLLIN;
	if ((long long)len > c->body_left)
		len = (size_t)c->body_left;
	return recv(c->fd, NULL, len, MSG_TRUNC);
}

static ssize_t
io_write(struct conn *c, const void *buf, size_t len, uint32_t *want)
{
	int	 r;

	*want = EPOLLOUT;
	if (c->ssl == NULL)
		return write(c->fd, buf, len);
	errno = 0;
	if ((r = SSL_write(c->ssl, buf, (int)len)) > 0)
		return r;
	if (r == 0 && SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN) {
		errno = EPIPE;
		return -1;
	}
	return io_tls_result(c, r, want);
}

/* Writes the request; on a full socket buffer waits for EPOLLOUT. */
static void
conn_write(struct conn *c)
{
	ssize_t		 n;
	uint32_t	 want;

	while (c->woff < c->reqlen) {
		n = io_write(c, c->req + c->woff, c->reqlen - c->woff, &want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (conn_watch(c, want) == -1) {
				conn_fail(c);
				return;
			}
			c->st = ST_WRITING;
			return;
		}
		if (n <= 0) {
			conn_fail(c);
			return;
		}
		c->woff += (size_t)n;
	}
	if (conn_watch(c, EPOLLIN) == -1) {
		conn_fail(c);
		return;
	}
	c->st = ST_HEAD;
}

/* The first handshake's protocol, suite and group, for the report. */
static void
tls_note(SSL *ssl)
{
	const char	*group = "?";
	int		 nid;

	if (L.tls_info[0] != '\0')
		return;
	nid = SSL_get_negotiated_group(ssl);
	if (nid != NID_undef && OBJ_nid2sn(nid) != NULL)
		group = OBJ_nid2sn(nid);
	(void)snprintf(L.tls_info, sizeof(L.tls_info), "%s/%s/%s",
	    SSL_get_version(ssl), SSL_get_cipher_name(ssl), group);
}

static void
conn_handshake(struct conn *c)
{
	uint32_t	 want = EPOLLIN;
	int		 r;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_connect(c->ssl)) == 1) {
		L.handshakes++;
		if (SSL_session_reused(c->ssl))
			L.resumed++;
		tls_note(c->ssl);
		conn_write(c);
		return;
	}
	if (io_tls_result(c, r, &want) == -1 && errno == EAGAIN) {
		c->st = ST_HANDSHAKE;
		if (conn_watch(c, want) == -1)
			conn_fail(c);
		return;
	}
	conn_fail(c);
}

/* A connected socket: the request, or with -S the handshake first. */
static void
conn_connected(struct conn *c)
{
	if (!L.tls) {
		conn_write(c);
		return;
	}
	ERR_clear_error();
	if ((c->ssl = SSL_new(L.ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set_tlsext_host_name(c->ssl, TLS_SNI) != 1 ||
	    (L.sess != NULL && SSL_set_session(c->ssl, L.sess) != 1)) {
		ERR_print_errors_fp(stderr);
		exit(1);
	}
	conn_handshake(c);
}

/* Starts the next request: on the open socket, or on a new one. */
static void
conn_start(struct conn *c)
{
	int	 fd, one = 1;

	if (!may_issue() || !burst_take(c)) {
		conn_drop(c);
		return;
	}
	L.issued++;
	c->t_start = now_ns();
	c->deadline = c->t_start + L.timeout_ns;
	c->woff = 0;
	c->hlen = 0;
	c->body_left = 0;
	c->rbytes = 0;
	c->bst = B_LENGTH;
	c->digits = 0;
	c->line = 0;
	c->bad = false;
	c->encoded = false;
	c->server_close = false;
	c->status = 0;
	c->req = L.req;
	c->reqlen = L.reqlen;
	if (M.n > 0 && mix_request(c) == -1) {
		fprintf(stderr, "load: a request of LIST is too long\n");
		exit(1);
	}
	if (c->fd != -1) {
		conn_write(c);
		return;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		perror("load: socket");
		exit(1);
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->watching = 0;
	/* Connected at once or not: EPOLLOUT says when to write. */
	if (connect(fd, (struct sockaddr *)&L.addr, sizeof(L.addr)) == -1 &&
	    errno != EINPROGRESS) {
		/* Out of ports or refused: count it, retry after a sweep. */
		L.errors++;
		(void)close(fd);
		c->fd = -1;
		c->st = ST_IDLE;
		return;
	}
	c->st = ST_CONNECTING;
	if (conn_watch(c, EPOLLOUT) == -1)
		conn_fail(c);
}

static void
conn_complete(struct conn *c)
{
	uint64_t	 us = (now_ns() - c->t_start) / 1000;

	if (c->status == 200)
		L.status_200++;
	else if (c->status == 304)
		L.status_304++;
	else
		L.status_other++;
	if (c->bad) {
		/* Read to its end, so the connection may go on; no figure. */
		L.bad++;
		if (L.close_mode || c->server_close)
			c->st = ST_EOF;
		else
			conn_start(c);
		return;
	}
	L.hist[hist_index(us)]++;
	burst_note(us);
	L.done++;
	L.bytes += c->rbytes;
	c->done++;
	if (c->encoded)
		L.encoded++;
	if (L.resume && L.sess == NULL && c->ssl != NULL) {
		/* TLS 1.3 tickets come after the handshake: they are in. */
		SSL_SESSION	*s = SSL_get1_session(c->ssl);

		if (s != NULL && SSL_SESSION_is_resumable(s))
			L.sess = s;
		else
			SSL_SESSION_free(s);
	}
	if (L.limit > 0 && L.done >= L.limit)
		L.stopping = true;
	if (L.close_mode || c->server_close) {
		c->st = ST_EOF;		/* the server closes first */
		return;
	}
	conn_start(c);
}

/* Case-insensitive search for a field value in the head. */
static const char *
head_field(const char *head, size_t len, const char *name, size_t *vlen)
{
	size_t		 nlen = strlen(name), i, j;

	for (i = 0; i + nlen + 1 < len; i++) {
		if (head[i] != '\n' || strncasecmp(head + i + 1, name,
		    nlen) != 0 || head[i + 1 + nlen] != ':')
			continue;
		i += 1 + nlen + 1;
		while (i < len && (head[i] == ' ' || head[i] == '\t'))
			i++;
		for (j = i; j < len && head[j] != '\r' && head[j] != '\n'; j++)
			;
		*vlen = j - i;
		return head + i;
	}
	return NULL;
}

/*
 * Returns 0 when the head is usable, -1 when it is not. Sets how the body
 * is delimited (RFC 9112, 6.3): none for 204 and 304, chunked when that
 * is the transfer coding, else Content-Length, which must be there.
 */
static int
conn_parse_head(struct conn *c, size_t head_len)
{
	const char	*v, *te;
	size_t		 vlen, tlen, i;
	long long	 cl = 0;
	int		 status, k;

	if (head_len < 12 || memcmp(c->head, "HTTP/1.", 7) != 0 ||
	    c->head[8] != ' ')
		return -1;
	for (k = 9; k < 12; k++)
		if (c->head[k] < '0' || c->head[k] > '9')
			return -1;
	status = (c->head[9] - '0') * 100 + (c->head[10] - '0') * 10 +
	    (c->head[11] - '0');
	if (status < 200)
		return -1;	/* 1xx: never asked for here */
	c->status = status;
	if (M.n > 0)
		c->bad = !(status == 200 || (status == 304 && c->cond));
	else
		c->bad = status != L.want_status;
	v = head_field(c->head, head_len, "content-encoding", &vlen);
	c->encoded = v != NULL && vlen > 0 &&
	    !(vlen == 8 && strncasecmp(v, "identity", 8) == 0);
	v = head_field(c->head, head_len, "content-length", &vlen);
	te = head_field(c->head, head_len, "transfer-encoding", &tlen);
	c->bst = B_LENGTH;
	c->body_left = 0;
	if (status == 204 || status == 304) {
		/* no body, whatever the fields say */
	} else if (te != NULL) {
		/* chunked alone: this client asks for no other coding */
		if (v != NULL || tlen != 7 ||
		    strncasecmp(te, "chunked", 7) != 0)
			return -1;
		c->bst = B_SIZE;
		c->digits = 0;
		c->line = 0;
	} else {
		if (v == NULL || vlen == 0 || vlen > 15)
			return -1;
		for (i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9')
				return -1;
			cl = cl * 10 + (v[i] - '0');
		}
		c->body_left = cl;
	}
	v = head_field(c->head, head_len, "connection", &vlen);
	if (v != NULL && vlen >= 5 && strncasecmp(v, "close", 5) == 0)
		c->server_close = true;
	return 0;
}

static int
hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Feeds body bytes through the body's state: returns 1 when they end the
 * response exactly, 0 when more is due, -1 when they are no well-formed
 * body or run past its end (nothing is pipelined, so nothing may follow).
 */
static int
body_feed(struct conn *c, const char *p, size_t len)
{
	size_t	 n;
	int	 h;

	while (len > 0) {
		switch (c->bst) {
		case B_LENGTH:
		case B_DATA:
			n = len;
			if ((long long)n > c->body_left)
				n = (size_t)c->body_left;
			c->body_left -= (long long)n;
			c->rbytes += n;
			p += n;
			len -= n;
			if (c->body_left > 0)
				break;
			if (c->bst == B_LENGTH)
				return len == 0 ? 1 : -1;
			c->bst = B_DATA_CR;
			break;
		case B_SIZE:
			if ((h = hex_value(*p)) >= 0) {
				if (++c->digits > CHUNK_DIGITS_MAX)
					return -1;
				c->body_left = c->body_left * 16 + h;
			} else if (c->digits == 0) {
				return -1;
			} else if (*p == ';' || *p == ' ' || *p == '\t') {
				c->bst = B_EXT;	/* BWS, then extensions */
				c->line = 0;
			} else if (*p == '\r') {
				c->bst = B_SIZE_LF;
			} else {
				return -1;
			}
			p++;
			len--;
			break;
		case B_EXT:
			if (*p == '\r')
				c->bst = B_SIZE_LF;
			else if (*p == '\n' || ++c->line > CHUNK_LINE_MAX_BYTES)
				return -1;
			p++;
			len--;
			break;
		case B_SIZE_LF:
			if (*p != '\n')
				return -1;
			p++;
			len--;
			c->digits = 0;
			c->bst = c->body_left == 0 ? B_TRAILER : B_DATA;
			break;
		case B_DATA_CR:
		case B_DATA_LF:
			if (*p != (c->bst == B_DATA_CR ? '\r' : '\n'))
				return -1;
			c->bst = c->bst == B_DATA_CR ? B_DATA_LF : B_SIZE;
			p++;
			len--;
			break;
		case B_TRAILER:
			c->bst = *p == '\r' ? B_END_LF : B_TRAILER_LINE;
			c->line = 0;
			p++;
			len--;
			break;
		case B_TRAILER_LINE:
			if (*p == '\n')
				c->bst = B_TRAILER;
			else if (++c->line > CHUNK_LINE_MAX_BYTES)
				return -1;
			p++;
			len--;
			break;
		case B_END_LF:
			if (*p != '\n')
				return -1;
			p++;
			len--;
			c->bst = B_DONE;
			return len == 0 ? 1 : -1;
		case B_DONE:
			return -1;
		}
	}
	if (c->bst == B_LENGTH && c->body_left == 0)
		return 1;	/* Content-Length: 0, or no body */
	return c->bst == B_DONE ? 1 : 0;
}

/*
 * Reads what there is for the state; returns true when it took bytes, so
 * that with TLS the caller reads again while OpenSSL holds some (epoll
 * knows only the socket's).
 */
static bool
conn_read(struct conn *c)
{
	ssize_t		 n;
	char		*end;
	size_t		 head_len, extra;
	uint32_t	 want;

	if (c->st == ST_HEAD) {
		n = io_read(c, c->head + c->hlen, sizeof(c->head) - c->hlen,
		    &want);
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (conn_watch(c, want) == -1)
				conn_fail(c);
			return false;
		}
		if (n <= 0) {
			conn_fail(c);
			return false;
		}
		c->hlen += (size_t)n;
		end = memmem(c->head, c->hlen, "\r\n\r\n", 4);
		if (end == NULL) {
			if (c->hlen == sizeof(c->head))
				conn_fail(c);
			return true;
		}
		head_len = (size_t)(end - c->head) + 4;
		if (conn_parse_head(c, head_len) == -1) {
			conn_fail(c);
			return false;
		}
		extra = c->hlen - head_len;
		c->st = ST_BODY;
		switch (body_feed(c, c->head + head_len, extra)) {
		case -1:
			conn_fail(c);	/* bytes nobody asked for */
			return false;
		case 1:
			conn_complete(c);
			break;
		}
		return true;
	}
	if (c->st == ST_BODY) {
		n = body_read(c, &want);
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (conn_watch(c, want) == -1)
				conn_fail(c);
			return false;
		}
		if (n <= 0) {
			conn_fail(c);
			return false;
		}
		switch (body_feed(c, L.discard, (size_t)n)) {
		case -1:
			conn_fail(c);
			return false;
		case 1:
			conn_complete(c);
			break;
		}
		return true;
	}
	if (c->st == ST_EOF) {
		n = io_read(c, L.discard, DISCARD_BYTES, &want);
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (conn_watch(c, want) == -1)
				conn_fail(c);
			return false;
		}
		if (n != 0) {
			/* Data after a response that closes, or a reset. */
			if (n > 0 || errno != ECONNRESET) {
				conn_fail(c);
				return false;
			}
		}
		conn_drop(c);
		conn_start(c);
	}
	return false;
}

static void
conn_event(struct conn *c, uint32_t events)
{
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	switch (c->st) {
	case ST_CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
		    err != 0) {
			conn_fail(c);
			return;
		}
		conn_connected(c);
		return;
	case ST_HANDSHAKE:
		conn_handshake(c);
		return;
	case ST_WRITING:
		conn_write(c);
		return;
	case ST_HEAD:
	case ST_BODY:
	case ST_EOF:
		/* With TLS a read may wait for EPOLLOUT too. */
		if (c->ssl == NULL &&
		    !(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			return;
		while (conn_read(c) && c->ssl != NULL &&
		    (c->st == ST_HEAD || c->st == ST_BODY ||
		    c->st == ST_EOF) && SSL_has_pending(c->ssl))
			;
		return;
	case ST_IDLE:
		return;
	}
}

static void
sweep(uint64_t now)
{
	int	 i;

	for (i = 0; i < L.nconns; i++) {
		struct conn	*c = &L.conns[i];

		if (c->st == ST_IDLE) {
			if (may_issue())
				conn_start(c);
			continue;
		}
		if (now > c->deadline)
			conn_fail(c);
	}
}

/* -L: splitmix64, a small generator whose sequence a seed fixes. */
static uint64_t
mix_next(uint64_t *state)
{
	uint64_t	 z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A uniform double in [0, 1). */
static double
mix_uniform(uint64_t *state)
{
	return (double)(mix_next(state) >> 11) * 0x1.0p-53;
}

/* The index of a file by Zipf popularity: the first k with cdf[k] > u. */
static size_t
mix_pick(uint64_t *state)
{
	double	 u = mix_uniform(state);
	size_t	 lo = 0, hi = M.n - 1, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (M.cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Writes the next request of the slot into its own buffer. */
static int
mix_request(struct conn *c)
{
	struct mix_file	*f = &M.files[mix_pick(&c->rng)];
	char		 inm[REQUEST_MAX_BYTES];
	int		 n;

	c->cond = f->etag != NULL && mix_uniform(&c->rng) < M.cond_share;
	inm[0] = '\0';
	if (c->cond) {
		M.cond++;
		n = snprintf(inm, sizeof(inm), "If-None-Match: %s\r\n",
		    f->etag);
		if (n < 0 || (size_t)n >= sizeof(inm))
			return -1;
	}
	n = snprintf(c->mreq, sizeof(c->mreq), "GET %s HTTP/1.1\r\n"
	    "Host: %s\r\nUser-Agent: tine-bench\r\n%s%s\r\n", f->path,
	    M.host, inm, M.extra);
	if (n < 0 || (size_t)n >= sizeof(c->mreq))
		return -1;
	c->req = c->mreq;
	c->reqlen = (size_t)n;
	return 0;
}

/* Reads LIST ("PATH" or "PATH ETAG" a line) and the Zipf table. */
static int
mix_load(const char *list)
{
	FILE		*fp;
	char		*line = NULL, *sp, *e;
	size_t		 cap = 0, len, k;
	ssize_t		 got;
	double		 sum = 0;

	if ((fp = fopen(list, "r")) == NULL) {
		perror(list);
		return -1;
	}
	while ((got = getline(&line, &cap, fp)) != -1) {
		len = (size_t)got;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r' || line[len - 1] == ' '))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (line[0] != '/' || strpbrk(line, "\t") != NULL) {
			fprintf(stderr, "%s: not a path: %s\n", list, line);
			goto fail;
		}
		if ((M.files = reallocarray(M.files, M.n + 1,
		    sizeof(*M.files))) == NULL)
			goto fail;
		e = NULL;
		if ((sp = strchr(line, ' ')) != NULL) {
			*sp = '\0';
			for (e = sp + 1; *e == ' '; e++)
				;
			if (*e == '\0' || (e = strdup(e)) == NULL)
				e = NULL;
		}
		M.files[M.n].etag = e;
		if ((M.files[M.n].path = strdup(line)) == NULL)
			goto fail;
		M.n++;
	}
	free(line);
	line = NULL;
	if (ferror(fp) || M.n == 0) {
		fprintf(stderr, "%s: no paths\n", list);
		goto fail;
	}
	(void)fclose(fp);
	fp = NULL;
	if ((M.cdf = calloc(M.n, sizeof(*M.cdf))) == NULL)
		return -1;
	for (k = 0; k < M.n; k++) {
		sum += pow((double)(k + 1), -M.zipf_s);
		M.cdf[k] = sum;
	}
	for (k = 0; k < M.n; k++)
		M.cdf[k] /= sum;
	M.cdf[M.n - 1] = 1.0;	/* no rounding may leave u past the end */
	return 0;
fail:
	free(line);
	if (fp != NULL)
		(void)fclose(fp);
	return -1;
}

/*
 * The burst (-k): may slot c issue a request? Counts it when it may, and
 * a new connection for a slot that had one as a reconnect.
 */
static bool
burst_take(struct conn *c)
{
	size_t	 i = (size_t)(c - L.conns);

	if (B.per_conn == 0)
		return true;
	if ((int)i >= B.started || B.sent[i] >= B.per_conn)
		return false;
	if (c->fd == -1 && B.sent[i] > 0)
		B.reconnects++;
	B.sent[i]++;
	return true;
}

static void
burst_note(uint64_t us)
{
	if (B.per_conn == 0)
		return;
	B.t_last = now_ns();
	if (us > B.max_us)
		B.max_us = us;
}

/*
 * -r: starts the slots whose first connect is due, slot i at
 * i * RAMP_MS / CONNS; returns the milliseconds until the next one, or -1.
 */
static int
burst_ramp(uint64_t now)
{
	uint64_t	 due;
	int		 i;

	if (B.per_conn == 0)
		return -1;
	while (B.started < L.nconns) {
		due = B.t0 + B.ramp_ns * (uint64_t)B.started /
		    (uint64_t)L.nconns;
		if (due > now)
			return (int)((due - now + 999999) / 1000000);
		i = B.started++;
		conn_start(&L.conns[i]);
	}
	return -1;
}

/* Every slot has issued its requests and closed. */
static bool
burst_over(void)
{
	int	 i;

	if (B.per_conn == 0 || B.started < L.nconns)
		return false;
	for (i = 0; i < L.nconns; i++)
		if (B.sent[i] < B.per_conn || L.conns[i].st != ST_IDLE)
			return false;
	return true;
}

static void
burst_print(void)
{
	if (B.per_conn == 0)
		return;
	printf(" last_ms=%.1f reconnects=%lu p999_us=%.0f max_us=%ju",
	    B.t_last > B.t0 ? (double)(B.t_last - B.t0) / 1e6 : 0,
	    B.reconnects, hist_percentile(0.999), (uintmax_t)B.max_us);
}

static void
usage(void)
{
	fprintf(stderr, "usage: load [-C] [-S [-R]] -c CONNS "
	    "(-d SECONDS | -n REQUESTS | -k PER_CONN) [-r RAMP_MS] "
	    "[-e CODINGS] [-H HOST] [-s STATUS] [-t TIMEOUT] "
	    "ADDR:PORT PATH\n"
	    "       load [-C] [-S [-R]] -c CONNS "
	    "(-d SECONDS | -n REQUESTS | -k PER_CONN) [-r RAMP_MS] "
	    "[-e CODINGS] [-H HOST] [-t TIMEOUT] -L LIST [-i PERCENT] "
	    "[-x SEED] [-z EXPONENT] ADDR:PORT\n");
	exit(2);
}

static int
tls_init(void)
{
	static const unsigned char	 alpn[] = "\x08http/1.1";

	if ((L.ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_alpn_protos(L.ctx, alpn, sizeof(alpn) - 1) != 0) {
		ERR_print_errors_fp(stderr);
		return -1;
	}
	SSL_CTX_set_verify(L.ctx, SSL_VERIFY_NONE, NULL);
	(void)SSL_CTX_set_options(L.ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* Sessions are kept by hand (-R), not in the context's cache. */
	(void)SSL_CTX_set_session_cache_mode(L.ctx, SSL_SESS_CACHE_OFF);
	return 0;
}

static unsigned long
number(const char *s, unsigned long max)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 || v > max)
		usage();
	return v;
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 evs[EVENTS_MAX];
	struct rusage		 ru;
	double			 duration = 0, timeout = 10, elapsed, cpu = 0;
	uint64_t		 t0, t_last_sweep, now, t_done;
	unsigned long		 cmin = ULONG_MAX, cmax = 0, starved = 0;
	char			*colon, *endp;
	const char		*host = NULL, *codings = NULL, *list = NULL;
	char			 ae[REQUEST_MAX_BYTES];
	int			 ch, i, n, wait_ms, ramp_ms;

	L.want_status = 200;
	M.zipf_s = 1;
	M.seed = 1;
	while ((ch = getopt(argc, argv, "CH:L:RSc:d:e:i:k:n:r:s:t:x:z:")) != -1) {
		switch (ch) {
		case 'C':
			L.close_mode = true;
			break;
		case 'H':
			if (optarg[0] == '\0' || strpbrk(optarg, "\r\n") != NULL)
				usage();
			host = optarg;
			break;
		case 'L':
			list = optarg;
			break;
		case 'R':
			L.resume = true;
			break;
		case 'S':
			L.tls = true;
			break;
		case 'c':
			L.nconns = (int)number(optarg, CONNS_MAX);
			break;
		case 'd':
			duration = strtod(optarg, &endp);
			if (*endp != '\0' || duration <= 0)
				usage();
			break;
		case 'e':
			if (optarg[0] == '\0' ||
			    strpbrk(optarg, "\r\n") != NULL)
				usage();
			codings = optarg;
			break;
		case 'i':
			M.cond_share = strtod(optarg, &endp) / 100;
			if (*endp != '\0' || M.cond_share < 0 ||
			    M.cond_share > 1)
				usage();
			break;
		case 'k':
			B.per_conn = number(optarg, ULONG_MAX / 2);
			break;
		case 'n':
			L.limit = number(optarg, ULONG_MAX / 2);
			break;
		case 'r':
			B.ramp_ns = number(optarg, 3600000) * 1000000ull;
			break;
		case 's':
			L.want_status = (int)number(optarg, 599);
			break;
		case 't':
			timeout = strtod(optarg, &endp);
			if (*endp != '\0' || timeout <= 0)
				usage();
			break;
		case 'x':
			M.seed = number(optarg, ULONG_MAX);
			break;
		case 'z':
			M.zipf_s = strtod(optarg, &endp);
			if (*endp != '\0' || M.zipf_s < 0 || M.zipf_s > 10)
				usage();
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != (list != NULL ? 1 : 2) || L.nconns == 0 ||
	    (duration > 0) + (L.limit > 0) + (B.per_conn > 0) != 1 ||
	    (B.ramp_ns > 0 && B.per_conn == 0) ||
	    (list == NULL && argv[1][0] != '/') || (L.resume && !L.tls))
		usage();
	colon = strrchr(argv[0], ':');
	if (colon == NULL)
		usage();
	*colon = '\0';
	L.addr.sin_family = AF_INET;
	L.addr.sin_port = htons((uint16_t)number(colon + 1, 65535));
	if (inet_pton(AF_INET, argv[0], &L.addr.sin_addr) != 1)
		usage();
	*colon = ':';
	ae[0] = '\0';
	if (codings != NULL) {
		n = snprintf(ae, sizeof(ae), "Accept-Encoding: %s\r\n",
		    codings);
		if (n < 0 || (size_t)n >= sizeof(ae))
			usage();
	}
	if (list != NULL) {
		M.host = host != NULL ? host : argv[0];
		n = snprintf(M.extra, sizeof(M.extra), "%s%s", ae,
		    L.close_mode ? "Connection: close\r\n" : "");
		if (n < 0 || (size_t)n >= sizeof(M.extra))
			usage();
		if (mix_load(list) == -1)
			return 1;
	} else {
		n = snprintf(L.req, sizeof(L.req), "GET %s HTTP/1.1\r\n"
		    "Host: %s\r\nUser-Agent: tine-bench\r\n%s%s\r\n",
		    argv[1], host != NULL ? host : argv[0], ae,
		    L.close_mode ? "Connection: close\r\n" : "");
		if (n < 0 || (size_t)n >= sizeof(L.req))
			usage();
		L.reqlen = (size_t)n;
	}
	L.timeout_ns = (uint64_t)(timeout * 1e9);

	signal(SIGPIPE, SIG_IGN);
	if (L.tls && tls_init() == -1)
		return 1;
	L.discard = malloc(DISCARD_BYTES);
	L.conns = calloc((size_t)L.nconns, sizeof(*L.conns));
	B.sent = calloc((size_t)L.nconns, sizeof(*B.sent));
	if (L.discard == NULL || L.conns == NULL || B.sent == NULL) {
		perror("load");
		return 1;
	}
	if ((L.ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("load: epoll_create1");
		return 1;
	}
	t0 = now_ns();
	B.t0 = t0;
	if (duration > 0)
		L.t_end = t0 + (uint64_t)(duration * 1e9);
	for (i = 0; i < L.nconns; i++) {
		L.conns[i].fd = -1;
		L.conns[i].ssl = NULL;
		L.conns[i].st = ST_IDLE;
		L.conns[i].rng = M.seed ^ ((uint64_t)(i + 1) << 40);
	}
	for (i = 0; i < L.nconns; i++)
		conn_start(&L.conns[i]);
	t_last_sweep = t0;
	t_done = t0;
	for (;;) {
		now = now_ns();
		if (L.t_end != 0 && now >= L.t_end)
			L.stopping = true;
		if (L.stopping)
			break;
		if (L.limit > 0 && L.done >= L.limit)
			break;
		if (burst_over())
			break;
		wait_ms = SWEEP_MS;
		if (L.t_end != 0 && (L.t_end - now) / 1000000 < SWEEP_MS)
			wait_ms = (int)((L.t_end - now) / 1000000) + 1;
		if ((ramp_ms = burst_ramp(now)) >= 0 && ramp_ms < wait_ms)
			wait_ms = ramp_ms;
		n = epoll_wait(L.ep, evs, EVENTS_MAX, wait_ms);
		if (n == -1 && errno != EINTR) {
			perror("load: epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++)
			conn_event(evs[i].data.ptr, evs[i].events);
		now = now_ns();
		if (now - t_last_sweep >= SWEEP_MS * 1000000ull) {
			sweep(now);
			t_last_sweep = now;
		}
		/* -n: stop issuing is done in may_issue; here: no progress. */
		if (L.limit > 0 && L.issued >= L.limit && L.done < L.limit) {
			bool	 busy = false;

			for (i = 0; i < L.nconns && !busy; i++)
				busy = L.conns[i].st != ST_IDLE;
			if (!busy)
				break;	/* the rest failed */
		}
	}
	t_done = now_ns();
	elapsed = (double)(t_done - t0) / 1e9;
	for (i = 0; i < L.nconns; i++) {
		if (L.conns[i].done < cmin)
			cmin = L.conns[i].done;
		if (L.conns[i].done > cmax)
			cmax = L.conns[i].done;
		if (L.conns[i].done == 0)
			starved++;
		conn_drop(&L.conns[i]);
	}
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	printf("requests=%lu errors=%lu bad=%lu starved=%lu conn_min=%lu "
	    "conn_max=%lu p50_us=%.0f p99_us=%.0f elapsed_s=%.3f rps=%.1f "
	    "bytes=%llu encoded=%lu client_cpu_pct=%.0f status_200=%lu "
	    "status_304=%lu status_other=%lu cond=%lu", L.done, L.errors,
	    L.bad, starved, cmin, cmax, hist_percentile(0.50),
	    hist_percentile(0.99), elapsed,
	    elapsed > 0 ? (double)L.done / elapsed : 0, L.bytes, L.encoded,
	    elapsed > 0 ? 100 * cpu / elapsed : 0, L.status_200,
	    L.status_304, L.status_other, M.cond);
	if (L.tls)
		printf(" handshakes=%lu resumed=%lu tls=%s", L.handshakes,
		    L.resumed, L.tls_info[0] != '\0' ? L.tls_info : "none");
	burst_print();
	printf("\n");
	return L.done > 0 && L.errors == 0 && L.bad == 0 ? 0 : 3;
}
