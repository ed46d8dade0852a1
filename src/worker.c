/*
 * worker.c: serves one connection at a time with straight-line blocking
 * code: accept, read a head, answer, and on keep-alive read again. Signals
 * interrupt the blocking calls (no SA_RESTART) and are acted on at once.
 * Buffers are sized once at start-up; the request path never allocates
 * except for a directory listing.
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "file.h"
#include "http.h"
#include "master.h"
#include "mime.h"
#include "scoreboard.h"
#include "status.h"
#include "worker.h"

#define RESPONSE_HEAD_BYTES	2048	/* status line and fields */
#define ACCEPT_BACKOFF_MS	100	/* after EMFILE/ENFILE */
#define DRAIN_MAX_CONNS		256	/* queued connections a retiring
					   worker still serves */
#define SEND_CHUNK_BYTES	(256 * 1024)	/* sendfile() per call: a
						   quarter MiB measured 5-10 %
						   faster than 1 MiB */
#define LINGER_MAX_MS		2000	/* closing: wait for the client to
					   take our last response */
#define LINGER_POLL_MS		10	/* closing: recheck what is unacked */
#define TITLE_SEND_MIN_BYTES	(256 * 1024)	/* title shows the target */
#define TITLE_TARGET_BYTES	64	/* of it, escaped */
#define LOG_TARGET_BYTES	(ACCESS_LINE_MAX / 2)	/* escaped request
							   line, NUL */
#define LOG_FIELD_BYTES		1024	/* escaped Referer or User-Agent */
#define LOG_FIXED_BYTES		64	/* the rest of a line but address
					   and time */
_Static_assert(ACCESS_BUF_BYTES >= LOG_TARGET_BYTES + 2 * LOG_FIELD_BYTES +
    LOG_FIXED_BYTES + 128, "an access-log line must fit the log buffer");

static const char allow_methods[] = "GET, HEAD, OPTIONS";

static volatile sig_atomic_t sig_quit, sig_term, sig_usr1, sig_alrm;
static volatile sig_atomic_t sig_usr2;	/* only interrupts: see the slot */

/* Per-connection and per-request state, reset by worker_reset_request. */
struct conn {
	int			 fd;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	char			 addr[64];	/* peer address for the log */
	size_t			 addrlen;	/* strlen(addr) */
	size_t			 len;		/* bytes in head buffer */
	unsigned		 requests;	/* served on this connection */
	bool			 timeo_changed;	/* SO_RCVTIMEO not default */
	int			 timeo_ms;	/* current SO_RCVTIMEO */
	/* request */
	struct http_scan	 scan;
	struct http_request	 req;
	struct http_response	 resp;
	int			 status;	/* for the access log */
	off_t			 sent;		/* body bytes sent */
	off_t			 size;		/* of the file, for 416 */
	bool			 close;		/* close after this response */
	bool			 have_req;	/* req parsed (for the log) */
	bool			 send_failed;	/* peer gone or send timeout:
						   no lingering close */
	bool			 read_full;	/* the last read filled the
						   buffer: more may wait */
	bool			 quick_close;	/* nothing unread can follow:
						   no lingering close */
	bool			 shrank;	/* the file sent was cut short */
};

/*
 * Ordered so that what every request writes sits together and the big,
 * rarely written buffers come last: a worker keeps every page it ever
 * wrote, so this layout is most of its private memory.
 */
static struct {
	const struct config	*conf;
	int			 rootfd;
	struct pollfd		*pfds;
	int			 nlisten;
	bool			 retiring;
	bool			 alarm_armed;
	char			*head;		/* max_header_size + 1 */
	size_t			 head_cap;
	struct conn		 c;
	uint64_t		 served;	/* requests, this process */
	uint64_t		 idle_served;	/* served when idle_since_ms */
	int64_t			 idle_since_ms;	/* last request, for the cache */
	uint64_t		 recycle_at;	/* max_requests + jitter, or 0 */
	bool			 recycling;	/* retiring at recycle_at */
	int64_t			 accept_err_ms;	/* last accept error report */
	unsigned		 accept_err_quiet; /* errors not reported since */
	char			 out[RESPONSE_HEAD_BYTES];
	char			 path[PATH_MAX];
	struct cache_entry	 uncached;	/* a file the cache cannot
						   hold, for one response */
	struct file_result	 file;
} w;

static void
worker_signal(int sig)
{
	switch (sig) {
	case SIGQUIT:
		sig_quit = 1;
		break;
	case SIGTERM:
	case SIGINT:
		sig_term = 1;
		break;
	case SIGUSR1:
		sig_usr1 = 1;
		break;
	case SIGALRM:
		sig_alrm = 1;
		break;
	case SIGUSR2:
		sig_usr2 = 1;
		break;
	}
}

static void __attribute__((noreturn))
worker_exit(int status)
{
	/* Tells the master this exit was planned (max_requests). */
	if (sb_self != NULL && w.recycling)
		sb_self->state = SB_EXITING;
	(void)log_access_flush();	/* reported inside */
	_exit(status);
}

/* Arms a one-shot timer so a buffered access line waits at most 1 s. */
static void
worker_arm_flush(void)
{
	struct itimerval	 it;

	if (w.alarm_armed)
		return;
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = LOG_FLUSH_MS / 1000;
	it.it_value.tv_usec = (LOG_FLUSH_MS % 1000) * 1000;
	if (setitimer(ITIMER_REAL, &it, NULL) == 0)
		w.alarm_armed = true;
}

/*
 * Acts on signal flags. Called whenever a blocking call returns EINTR and
 * between requests. SIGTERM ends the worker at once; SIGQUIT makes it
 * retire: no new connections, the current one answered with
 * Connection: close.
 */
static void
worker_check_signals(void)
{
	if (sig_term)
		worker_exit(0);
	if (sig_quit) {
		sig_quit = 0;
		if (!w.retiring) {
			w.retiring = true;
			setproctitle("worker [retiring]");
		}
	}
	if (sig_usr1) {
		sig_usr1 = 0;
		(void)log_access_flush();	/* reported inside */
		if (log_open(w.conf, (uid_t)-1, (gid_t)-1) == -1)
			log_warn("reopen error log");
		if (log_access_open(w.conf, (uid_t)-1, (gid_t)-1) == -1)
			log_warn("reopen %s", w.conf->access_log);
	}
	if (sig_alrm) {
		sig_alrm = 0;
		w.alarm_armed = false;
		(void)log_access_flush();	/* reported inside */
	}
}

static int
worker_set_rcvtimeo(int ms)
{
	struct timeval	 tv;

	if (ms < 1)
		ms = 1;	/* 0 would mean no timeout at all */
	if (ms == w.c.timeo_ms)
		return 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (setsockopt(w.c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ==
	    -1)
		return -1;
	w.c.timeo_ms = ms;
	w.c.timeo_changed = true;
	return 0;
}

/* Writes all of iov, restarting after EINTR and short writes. */
static int
worker_writev(struct iovec *iov, int iovcnt, int flags)
{
	struct msghdr	 msg;
	ssize_t		 n;

	while (iovcnt > 0) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)iovcnt;
		n = sendmsg(w.c.fd, &msg, flags | MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR) {
				worker_check_signals();
				continue;
			}
			w.c.send_failed = true;
			return -1;	/* EPIPE, ECONNRESET, EAGAIN: timeout */
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/*
 * A long send shows its target in the process title (escaped and cut,
 * like the scoreboard's request line). Short answers do not pay for it:
 * they are over before anyone could read the title.
 */
static void
worker_title_sending(void)
{
	char	 target[TITLE_TARGET_BYTES];

	scoreboard_set_text(target, sizeof(target), w.c.req.target.p,
	    w.c.req.target.len);
	setproctitle("worker [sending %s]", target);
}

/*
 * Sends the built head and, unless HEAD, the body: from memory in the
 * same call, or from the file with sendfile() after a MSG_MORE head.
 * A file that shrinks under us ends the connection where its data ends:
 * the Content-Length already sent can no longer be kept.
 */
static int
worker_send(const char *head, size_t headlen, const char *body,
    size_t bodylen, int fd, off_t off, off_t len, const char *path)
{
	struct iovec	 iov[2];
	ssize_t		 n;
	size_t		 chunk;

	iov[0].iov_base = (void *)head;
	iov[0].iov_len = headlen;
	if (w.c.resp.head_only || (body == NULL && fd == -1)) {
		if (worker_writev(iov, 1, 0) == -1)
			return -1;
		return 0;
	}
	if (body != NULL) {
		iov[1].iov_base = (void *)body;
		iov[1].iov_len = bodylen;
		if (worker_writev(iov, 2, 0) == -1)
			return -1;
		w.c.sent = (off_t)bodylen;
		return 0;
	}
	if (worker_writev(iov, 1, len > 0 ? MSG_MORE : 0) == -1)
		return -1;
	if (len >= TITLE_SEND_MIN_BYTES)
		worker_title_sending();
	while (len > 0) {
		chunk = len > SEND_CHUNK_BYTES ? SEND_CHUNK_BYTES : (size_t)len;
		n = sendfile(w.c.fd, fd, &off, chunk);
		if (n == -1) {
			if (errno == EINTR) {
				worker_check_signals();
				continue;
			}
			w.c.send_failed = true;
			return -1;
		}
		if (n == 0) {
			log_warnx("%s: file shrank while being sent", path);
			w.c.shrank = true;
			return -1;
		}
		len -= n;
		w.c.sent += n;
		sb_progress(util_now_ms());
	}
	return 0;
}

/* Builds and sends the response head plus an optional memory body. */
static int
worker_respond(const char *body, size_t bodylen, int fd, off_t off,
    off_t len, const char *path)
{
	int	 n;

	w.c.resp.close = w.c.close;
	n = http_build_head(w.out, sizeof(w.out), &w.c.resp);
	if (n < 0) {
		log_warnx("response head does not fit");
		w.c.close = true;
		return -1;
	}
	w.c.status = w.c.resp.status;
	return worker_send(w.out, (size_t)n, body, bodylen, fd, off, len,
	    path);
}

/* The one place a status becomes an error response. */
static int
worker_error(int status)
{
	const char	*body;
	size_t		 len;

	memset(&w.c.resp, 0, sizeof(w.c.resp));
	w.c.resp.status = status;
	w.c.resp.minor = w.c.have_req ? w.c.req.minor : 1;
	w.c.resp.keepalive_10 = w.c.have_req && w.c.req.minor == 0 &&
	    !w.c.close;
	w.c.resp.head_only = w.c.have_req &&
	    w.c.req.method == HTTP_METHOD_HEAD;
	w.c.resp.last_modified = 0;
	w.c.resp.size = -1;
	switch (status) {
	case HTTP_METHOD_NOT_ALLOWED:
		w.c.resp.allow = allow_methods;
		break;
	case HTTP_RANGE_NOT_SATISFIABLE:
		w.c.resp.size = w.c.size;
		break;
	case HTTP_SERVICE_UNAVAILABLE:
		w.c.resp.retry_after = CACHE_RETRY_AFTER_S;
		break;
	default:
		break;
	}
	/* Errors that leave the stream's framing in doubt end it. */
	switch (status) {
	case HTTP_BAD_REQUEST:
	case HTTP_REQUEST_TIMEOUT:
	case HTTP_CONTENT_TOO_LARGE:
	case HTTP_URI_TOO_LONG:
	case HTTP_HEADERS_TOO_LARGE:
	case HTTP_EXPECTATION_FAILED:
	case HTTP_VERSION_NOT_SUPPORTED:
	case HTTP_INTERNAL_SERVER_ERROR:
		w.c.close = true;
		break;
	default:
		break;
	}
	body = http_error_body(status, &len);
	w.c.resp.content_type = "text/html; charset=utf-8";
	w.c.resp.content_length = (off_t)len;
	return worker_respond(body, len, -1, 0, 0, NULL);
}

/*
 * The built head, then len bytes of e's file from off. A file found
 * shorter than its entry says leaves the cache at once, so the next
 * request resolves it afresh instead of failing the same way.
 */
static int
worker_send_file(struct cache_entry *e, off_t off, off_t len)
{
	int	 rv;

	w.c.shrank = false;
	rv = worker_respond(NULL, 0, e->fd, off, len, e->path);
	if (w.c.shrank && e != &w.uncached)
		cache_drop(e);
	return rv;
}

/*
 * Serves a regular file, described by a cache entry (or by w.uncached):
 * validators, conditionals, range, then the body from memory in the same
 * write as the head, or from the descriptor.
 * RFC 9110 §8.8.2.1: a modification time in the future (clock skew, a
 * copied tree) is replaced by the time of the response, so Last-Modified
 * is never later than Date; the conditionals compare against the same
 * value the client was given. Date is formatted after this time() call,
 * so it is never earlier.
 */
static int
worker_serve_file(struct cache_entry *e)
{
	struct http_range	 r;
	const struct stat	*st = &e->st;
	const char		*etag;
	time_t			 mtime, now;
	int			 status;

	mtime = st->st_mtim.tv_sec;
	now = time(NULL);
	etag = e->etag[0] != '\0' ? e->etag : NULL;
	memset(&w.c.resp, 0, sizeof(w.c.resp));
	if (mtime > now)
		mtime = now;
	else if (mtime != 0 && e->last_modified[0] != '\0')
		w.c.resp.last_modified_text = e->last_modified;
	w.c.size = st->st_size;
	status = http_preconditions(&w.c.req, etag != NULL ? etag : "", mtime);
	w.c.resp.minor = w.c.req.minor;
	w.c.resp.keepalive_10 = w.c.req.minor == 0 && !w.c.close;
	w.c.resp.head_only = w.c.req.method == HTTP_METHOD_HEAD;
	w.c.resp.last_modified = mtime;
	w.c.resp.etag = etag;
	w.c.resp.accept_ranges = true;
	w.c.resp.size = st->st_size;
	if (status == HTTP_NOT_MODIFIED) {
		w.c.resp.status = HTTP_NOT_MODIFIED;
		w.c.resp.content_length = -1;
		return worker_respond(NULL, 0, -1, 0, 0, NULL);
	}
	if (status != 0)
		return worker_error(status);
	status = http_range_select(&w.c.req, st->st_size,
	    etag != NULL ? etag : "", mtime, &r);
	if (status == HTTP_RANGE_NOT_SATISFIABLE)
		return worker_error(status);
	w.c.resp.content_type = e->type;
	if (status == HTTP_PARTIAL_CONTENT) {
		w.c.resp.status = HTTP_PARTIAL_CONTENT;
		w.c.resp.range = r;
		w.c.resp.content_length = r.last - r.first + 1;
		if (e->data != NULL)
			return worker_respond(e->data + r.first,
			    (size_t)(r.last - r.first + 1), -1, 0, 0, NULL);
		return worker_send_file(e, r.first, r.last - r.first + 1);
	}
	w.c.resp.status = HTTP_OK;
	w.c.resp.content_length = st->st_size;
	if (e->data != NULL)
		return worker_respond(e->data, e->datalen, -1, 0, 0, NULL);
	return worker_send_file(e, 0, st->st_size);
}

static int
worker_serve_listing(void)
{
	char	*body = NULL;
	size_t	 len = 0;
	int	 status, rv;

	status = file_listing(w.rootfd, w.file.fd, w.file.path, &body, &len);
	w.file.fd = -1;	/* consumed */
	if (status != 0)
		return worker_error(status);
	memset(&w.c.resp, 0, sizeof(w.c.resp));
	w.c.resp.status = HTTP_OK;
	w.c.resp.minor = w.c.req.minor;
	w.c.resp.keepalive_10 = w.c.req.minor == 0 && !w.c.close;
	w.c.resp.head_only = w.c.req.method == HTTP_METHOD_HEAD;
	w.c.resp.content_type = "text/html; charset=utf-8";
	w.c.resp.content_length = (off_t)len;
	w.c.resp.size = -1;
	rv = worker_respond(body, len, -1, 0, 0, NULL);
	free(body);
	return rv;
}

/*
 * A regular file just resolved for w.path: into the cache (as a new
 * entry, or revalidating the stale one), else described for this one
 * response from w.file, whose descriptor is then closed at the next
 * request.
 */
static struct cache_entry *
worker_cache_file(struct cache_entry *stale, int64_t now)
{
	struct cache_entry	*e;

	if (stale != NULL)
		e = cache_refresh(stale, w.file.path, w.file.fd, &w.file.st,
		    now);
	else
		e = cache_put(w.path, w.file.path, w.file.fd, &w.file.st,
		    now);
	if (e != NULL) {
		w.file.fd = -1;	/* the cache's now */
		return e;
	}
	cache_describe(&w.uncached, w.file.path, w.file.fd, &w.file.st);
	return &w.uncached;
}

/*
 * GET and HEAD of a path beneath root. A path whose cache entry was
 * checked within the last second is served from it with no system call;
 * otherwise it is resolved afresh (the same confined open as without a
 * cache, so symlinks and permissions are judged anew) and the entry is
 * kept, replaced or dropped by what that finds.
 */
static int
worker_serve_path(void)
{
	struct cache_entry	*e;
	const char		*body;
	size_t			 len;
	int64_t			 now;
	int			 status;

	status = file_normalize(w.c.req.path.p, w.c.req.path.len, w.path,
	    sizeof(w.path));
	if (status != 0)
		return worker_error(status);
	now = util_now_ms();
	if ((e = cache_get(w.path, now)) != NULL)
		return worker_serve_file(e);
	e = cache_peek(w.path);	/* stale, or NULL */
	status = cache_resolve(&e, w.rootfd, w.conf, w.path,
	    w.c.req.query.p, w.c.req.query.len, &w.file);
	if (status != 0 || w.file.kind != FILE_REGULAR) {
		if (e != NULL)
			cache_drop(e);
		if (status != 0)
			return worker_error(status);
	}
	switch (w.file.kind) {
	case FILE_REGULAR:
		return worker_serve_file(worker_cache_file(e, now));
	case FILE_LISTING:
		return worker_serve_listing();
	case FILE_REDIRECT:
		memset(&w.c.resp, 0, sizeof(w.c.resp));
		w.c.resp.status = HTTP_MOVED_PERMANENTLY;
		w.c.resp.minor = w.c.req.minor;
		w.c.resp.keepalive_10 = w.c.req.minor == 0 && !w.c.close;
		w.c.resp.head_only = w.c.req.method == HTTP_METHOD_HEAD;
		w.c.resp.location = w.file.location;
		w.c.resp.size = -1;
		body = http_error_body(HTTP_MOVED_PERMANENTLY, &len);
		w.c.resp.content_type = "text/html; charset=utf-8";
		w.c.resp.content_length = (off_t)len;
		return worker_respond(body, len, -1, 0, 0, NULL);
	}
	return worker_error(HTTP_INTERNAL_SERVER_ERROR);
}

/* ?format=prometheus, or a client that prefers text (a scraper). */
static enum status_format
worker_status_format(void)
{
	const struct http_str	*q = &w.c.req.query, *a = &w.c.req.accept;
	static const char	 key[] = "format=prometheus";
	size_t			 i, klen = sizeof(key) - 1;

	for (i = 0; q->p != NULL && i + klen <= q->len; i++)
		if ((i == 0 || q->p[i - 1] == '&') &&
		    memcmp(q->p + i, key, klen) == 0 &&
		    (i + klen == q->len || q->p[i + klen] == '&'))
			return STATUS_PROMETHEUS;
	if (a->p != NULL && memmem(a->p, a->len, "text/plain", 10) != NULL)
		return STATUS_PROMETHEUS;
	return STATUS_JSON;
}

/*
 * The status endpoint: the scoreboard as JSON or Prometheus text, for
 * status_allow clients only. Rare and bounded, so its buffer is
 * allocated per request.
 */
static int
worker_status(void)
{
	enum status_format	 fmt;
	char			*buf;
	size_t			 size;
	int			 n, rv;

	if (!config_cidr_match(w.conf, (struct sockaddr *)&w.c.peer))
		return worker_error(HTTP_FORBIDDEN);
	fmt = worker_status_format();
	size = STATUS_HEAD_BYTES + (size_t)sb_table->nslots *
	    STATUS_ROW_BYTES;
	if ((buf = malloc(size)) == NULL) {
		log_warn("status");
		return worker_error(HTTP_INTERNAL_SERVER_ERROR);
	}
	if ((n = status_render(buf, size, sb_table, fmt)) < 0) {
		log_warnx("status does not fit in %zu bytes", size);
		free(buf);
		return worker_error(HTTP_INTERNAL_SERVER_ERROR);
	}
	memset(&w.c.resp, 0, sizeof(w.c.resp));
	w.c.resp.status = HTTP_OK;
	w.c.resp.minor = w.c.req.minor;
	w.c.resp.keepalive_10 = w.c.req.minor == 0 && !w.c.close;
	w.c.resp.head_only = w.c.req.method == HTTP_METHOD_HEAD;
	w.c.resp.content_type = fmt == STATUS_PROMETHEUS ?
	    "text/plain; version=0.0.4; charset=utf-8" :
	    "application/json";
	w.c.resp.content_length = n;
	w.c.resp.size = -1;
	w.c.resp.no_store = true;
	rv = worker_respond(buf, (size_t)n, -1, 0, 0, NULL);
	free(buf);
	return rv;
}

#ifdef TINE_TEST_HOOKS
/*
 * Test builds only: a request for /.tine-test/hang stops making progress
 * for good, as a worker stuck in a bug would, so that the watchdog can
 * be tested. Release builds do not contain this.
 */
static void
worker_test_hang(void)
{
	static const char	 hang[] = "/.tine-test/hang";

	if (w.c.req.path.len != sizeof(hang) - 1 ||
	    memcmp(w.c.req.path.p, hang, sizeof(hang) - 1) != 0)
		return;
	for (;;)
		(void)pause();
}
#endif

/* Decides the response from the parsed request: a status or a file. */
static int
worker_handle(void)
{
	switch (w.c.req.method) {
	case HTTP_METHOD_GET:
	case HTTP_METHOD_HEAD:
		if (w.c.req.asterisk)
			return worker_error(HTTP_BAD_REQUEST);
#ifdef TINE_TEST_HOOKS
		worker_test_hang();
#endif
		if (w.conf->status_path[0] != '\0' && sb_table != NULL &&
		    w.c.req.path.len == strlen(w.conf->status_path) &&
		    memcmp(w.c.req.path.p, w.conf->status_path,
		    w.c.req.path.len) == 0)
			return worker_status();
		return worker_serve_path();
	case HTTP_METHOD_OPTIONS:
		memset(&w.c.resp, 0, sizeof(w.c.resp));
		w.c.resp.status = HTTP_NO_CONTENT;
		w.c.resp.minor = w.c.req.minor;
		w.c.resp.keepalive_10 = w.c.req.minor == 0 && !w.c.close;
		w.c.resp.allow = allow_methods;
		w.c.resp.content_length = -1;
		w.c.resp.size = -1;
		return worker_respond(NULL, 0, -1, 0, 0, NULL);
	case HTTP_METHOD_UNKNOWN:
		return worker_error(HTTP_NOT_IMPLEMENTED);
	default:
		return worker_error(HTTP_METHOD_NOT_ALLOWED);
	}
}

/* Decimal digits of v at p; returns the end. */
static char *
worker_put_uint(char *p, uintmax_t v)
{
	char	 d[24];
	size_t	 i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	memcpy(p, d + i, sizeof(d) - i);
	return p + (sizeof(d) - i);
}

static char *
worker_put_str(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

#define WORKER_PUT_LIT(p, s)	worker_put_str((p), (s), sizeof(s) - 1)

/* What log_escape(dst, size, s) may write, its NUL included. */
static size_t
worker_escaped_max(const struct http_str *s, size_t size)
{
	size_t	 len = s != NULL ? s->len : 0;

	if (len > (size - 1) / 4)
		len = (size - 1) / 4;
	return 4 * len + 1;
}

/*
 * One Combined Log Format line for the request just answered, written in
 * place into the access-log buffer: copies and escapes, no printf (this
 * runs for every request). Client bytes go through log_escape(); the
 * request line is cut at LOG_TARGET_BYTES escaped, Referer and
 * User-Agent at LOG_FIELD_BYTES.
 */
static void
worker_log_access(void)
{
	const struct http_str	*line = NULL, *ref = NULL, *ua = NULL;
	const char		*when;
	char			*start, *p;
	size_t			 addrlen, whenlen, max;

	/* Every answer, logged or not, counts as served. */
	w.served++;
	if (sb_self != NULL)
		sb_self->requests++;
	if (w.recycle_at != 0 && w.served >= w.recycle_at && !w.retiring) {
		w.retiring = true;
		w.recycling = true;
		log_debug("recycling after %ju requests",
		    (uintmax_t)w.served);
	}

	if (!log_access_enabled())
		return;
	if (w.c.have_req) {
		line = &w.c.req.line;
		if (w.c.req.referer.p != NULL)
			ref = &w.c.req.referer;
		if (w.c.req.user_agent.p != NULL)
			ua = &w.c.req.user_agent;
	}
	when = log_clf_time(time(NULL));
	whenlen = strlen(when);
	addrlen = w.c.addrlen;
	max = addrlen + whenlen + LOG_FIXED_BYTES +
	    worker_escaped_max(line, LOG_TARGET_BYTES) +
	    worker_escaped_max(ref, LOG_FIELD_BYTES) +
	    worker_escaped_max(ua, LOG_FIELD_BYTES);
	if ((start = log_access_reserve(max)) == NULL)
		return;
	p = worker_put_str(start, w.c.addr, addrlen);
	p = WORKER_PUT_LIT(p, " - - [");
	p = worker_put_str(p, when, whenlen);
	p = WORKER_PUT_LIT(p, "] \"");
	if (line != NULL)	/* e.g. 408: no request line to show */
		p += log_escape(p, LOG_TARGET_BYTES, line->p, line->len);
	p = WORKER_PUT_LIT(p, "\" ");
	p = worker_put_uint(p, (uintmax_t)(w.c.status < 0 ? 0 : w.c.status));
	*p++ = ' ';
	if (w.c.sent > 0)
		p = worker_put_uint(p, (uintmax_t)w.c.sent);
	else
		*p++ = '-';
	p = WORKER_PUT_LIT(p, " \"");
	if (ref != NULL)
		p += log_escape(p, LOG_FIELD_BYTES, ref->p, ref->len);
	else
		*p++ = '-';
	p = WORKER_PUT_LIT(p, "\" \"");
	if (ua != NULL)
		p += log_escape(p, LOG_FIELD_BYTES, ua->p, ua->len);
	else
		*p++ = '-';
	p = WORKER_PUT_LIT(p, "\"\n");
	log_access_commit((size_t)(p - start));
	worker_arm_flush();
}

static void
worker_reset_request(void)
{
	memset(&w.c.scan, 0, sizeof(w.c.scan));
	memset(&w.c.req, 0, sizeof(w.c.req));
	w.c.status = 0;
	w.c.sent = 0;
	w.c.have_req = false;
	if (w.file.fd != -1) {
		(void)close(w.file.fd);	/* read-only: nothing to lose */
		w.file.fd = -1;
	}
}

/*
 * Whether bytes beyond the current request (and its body) have arrived:
 * pipelined in the buffer, or waiting in the socket (checked without
 * blocking).
 */
static bool
worker_input_waiting(void)
{
	char	 c;

	if (w.c.len > w.c.req.head_len || w.c.read_full)
		return true;
	return recv(w.c.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
}

/*
 * The master asks, under pressure at max_workers, for this connection
 * to make room. An idle keep-alive connection is closed only if no byte
 * of a next request has arrived (checked without blocking); a head that
 * arrives too slowly gets its 408. Returns true with errno set for the
 * caller's usual paths: ECONNABORTED closes quietly, EAGAIN is a 408.
 */
static bool
worker_yield(void)
{
	int	 what = sb_self->yield;

	sb_self->yield = SB_YIELD_NONE;
	sig_usr2 = 0;
	if (what == SB_YIELD_IDLE && w.c.len == 0) {
		if (worker_input_waiting())
			return false;	/* a request arrived: serve it */
		errno = ECONNABORTED;
		return true;
	}
	if (what == SB_YIELD_SLOW && w.c.len > 0) {
		errno = EAGAIN;
		return true;
	}
	return false;	/* the state moved on: nothing to give up */
}

/*
 * Reads more bytes of a head. Returns bytes read, 0 at EOF, -1 at the
 * deadline or on error. While a head is incomplete the receive timeout
 * is the time left until the whole-head deadline, so a client that
 * trickles a byte a second is cut off at the deadline, not reset by it.
 */
static ssize_t
worker_read(int64_t deadline)
{
	ssize_t	 n;
	int64_t	 left;

	for (;;) {
		if (sb_self != NULL && sb_self->yield != SB_YIELD_NONE &&
		    worker_yield())
			return -1;
		n = read(w.c.fd, w.head + w.c.len, w.head_cap - w.c.len);
		if (n >= 0) {
			w.c.read_full = (size_t)n == w.head_cap - w.c.len;
			return n;
		}
		if (errno != EINTR)
			return -1;
		worker_check_signals();
		left = deadline - util_now_ms();
		if (left <= 0) {
			errno = EAGAIN;
			return -1;
		}
		if (worker_set_rcvtimeo((int)left) == -1)
			return -1;
	}
}

/* Reads and throws away a request body so the stream stays in sync. */
static int
worker_discard_body(int64_t deadline)
{
	struct http_body	 body;
	size_t			 used, avail;
	ssize_t			 n;
	int			 rv;

	rv = http_body_init(&body, &w.c.req, w.conf->max_body_size);
	if (rv != 0)
		return rv;
	avail = w.c.len - w.c.req.head_len;
	for (;;) {
		if (avail > 0 || http_body_done(&body)) {
			rv = http_body_consume(&body,
			    w.head + w.c.req.head_len, avail, &used);
			if (rv != 0 && rv != 1)
				return rv;
			/* Drop what was consumed; keep any pipelined rest. */
			memmove(w.head + w.c.req.head_len,
			    w.head + w.c.req.head_len + used, avail - used);
			w.c.len -= used;
			avail -= used;
			if (rv == 1)
				return 0;
		}
		if (w.c.len == w.head_cap)
			return HTTP_BAD_REQUEST;	/* cannot happen */
		if (worker_set_rcvtimeo((int)(deadline - util_now_ms())) == -1)
			return HTTP_INTERNAL_SERVER_ERROR;
		n = worker_read(deadline);
		if (n <= 0)
			return HTTP_REQUEST_TIMEOUT;
		w.c.len += (size_t)n;
		avail += (size_t)n;
	}
}

/*
 * Whether the connection can be closed at once after the response just
 * sent: the client said this was its last request (Connection: close,
 * or HTTP/1.0 without keep-alive; RFC 9112 §9.6 forbids it to send more),
 * and every byte it sent has been read and was this request (no body
 * left unread, nothing pipelined behind it, and the last read did not
 * stop at the end of the buffer). Then no unread input can make close()
 * send a reset, and the lingering close (shutdown, drain, wait) would
 * only cost system calls.
 */
static bool
worker_client_done(void)
{
	bool	 client_closes, body_unread;

	client_closes = w.c.req.conn_close ||
	    (w.c.req.minor == 0 && !w.c.req.conn_keepalive);
	body_unread = w.c.req.expect_continue &&
	    (w.c.req.content_length > 0 || w.c.req.chunked);
	return client_closes && !body_unread && !w.c.read_full &&
	    w.c.len == w.c.req.head_len;
}

/*
 * Serves one connection until it closes. Returns when done; the fd is
 * closed by the caller.
 */
/* A next request's first bytes on a kept-alive connection. */
static void
worker_sb_reading(int64_t now)
{
	if (sb_self == NULL)
		return;
	sb_enter(SB_READING, now);
	sb_self->req_start_ms = now;
	sb_self->head_bytes = 0;
	sb_self->yield = SB_YIELD_NONE;
}

static void
worker_serve(void)
{
	int64_t	 deadline, now;
	ssize_t	 n;
	size_t	 head_len;
	int	 rv, status;
	bool	 first = true;

	w.c.len = 0;
	w.c.requests = 0;
	w.c.timeo_changed = false;
	w.c.send_failed = false;
	w.c.read_full = false;
	w.c.quick_close = false;
	w.c.timeo_ms = worker_idle_timeout_ms(w.conf);	/* from listener */
	w.c.close = false;
	now = util_now_ms();
	if (util_fmt_addr((struct sockaddr *)&w.c.peer, w.c.peerlen, w.c.addr,
	    sizeof(w.c.addr), false) == -1)
		(void)strlcpy(w.c.addr, "-", sizeof(w.c.addr));	/* fits */
	w.c.addrlen = strlen(w.c.addr);	/* once a connection */
	if (sb_self != NULL) {
		sb_self->conns++;
		/* Cut to the slot's size: a status field, not an address. */
		(void)strlcpy(sb_self->client, w.c.addr,
		    sizeof(sb_self->client));
		sb_self->reqline[0] = '\0';
		worker_sb_reading(now);
	}

	for (;;) {
		worker_reset_request();
		/*
		 * Wait for the next request: a new connection waits up to
		 * header_timeout (inherited from the listener), a kept-alive
		 * one up to keepalive_timeout. A retiring worker keeps
		 * waiting too: closing an idle connection early would lose a
		 * request the client may be sending right now.
		 */
		if (!first && w.c.len == 0) {
			if (worker_set_rcvtimeo(w.conf->keepalive_timeout *
			    1000) == -1)
				return;
			now = util_now_ms();
			sb_enter(SB_KEEPALIVE, now);
			deadline = now +
			    (int64_t)w.conf->keepalive_timeout * 1000;
		} else
			deadline = util_now_ms() +
			    (int64_t)w.conf->header_timeout * 1000;
		rv = 0;
		head_len = 0;
		for (;;) {
			if (w.c.len > 0) {
				rv = http_scan_head(&w.c.scan, w.head, w.c.len,
				    w.conf->max_header_size, &head_len);
				if (rv != 0)
					break;
				/* Incomplete: wait only until the deadline. */
				if (worker_set_rcvtimeo((int)(deadline -
				    util_now_ms())) == -1)
					return;
			}
			n = worker_read(deadline);
			if (n == 0) {
				/* Closed by the client: after its FIN
				 * nothing more can come to be unread. */
				w.c.quick_close = true;
				return;
			}
			if (n < 0) {
				if ((errno == EAGAIN || errno == EWOULDBLOCK)
				    && w.c.len > 0) {
					w.c.close = true;
					(void)worker_error(
					    HTTP_REQUEST_TIMEOUT);
					worker_log_access();
				}
				return;	/* idle timeout, reset, error */
			}
			now = util_now_ms();
			if (w.c.len == 0) {
				/* First bytes: the whole head has until
				 * header_timeout from now. */
				deadline = now +
				    (int64_t)w.conf->header_timeout * 1000;
				if (!first)
					worker_sb_reading(now);
			}
			w.c.len += (size_t)n;
			if (sb_self != NULL) {
				sb_self->head_bytes += (uint32_t)n;
				sb_self->progress_ms = now;
			}
		}
		first = false;
		w.c.requests++;
		if (rv != 1) {
			w.c.close = true;
			(void)worker_error(rv);
			worker_log_access();
			return;
		}
		status = http_parse_head(w.head, head_len, &w.c.req);
		w.c.have_req = status == 0 || w.c.req.line.p != NULL;
		if (sb_self != NULL) {
			/* The time of the last read: close enough. */
			sb_enter(SB_SENDING, now);
			if (w.c.have_req)
				scoreboard_set_text(sb_self->reqline,
				    sizeof(sb_self->reqline), w.c.req.line.p,
				    w.c.req.line.len);
		}
		if (status != 0) {
			w.c.close = true;
			(void)worker_error(status);
			worker_log_access();
			return;
		}
		/* Persistence (RFC 9112 §9.3). */
		w.c.close = w.c.req.conn_close ||
		    (w.c.req.minor == 0 && !w.c.req.conn_keepalive) ||
		    w.conf->keepalive_timeout == 0 ||
		    w.c.requests >= (unsigned)w.conf->keepalive_requests ||
		    w.retiring || sig_quit || sig_term ||
		    (w.recycle_at != 0 && w.served + 1 >= w.recycle_at);
		/*
		 * A body we will not use: answer at once when the client
		 * waits for 100-continue (then close, RFC 9110 §10.1.1),
		 * else read and discard it so the stream stays in sync.
		 */
		if (w.c.req.content_length > 0 || w.c.req.chunked) {
			if (w.c.req.expect_continue) {
				w.c.close = true;
			} else {
				status = worker_discard_body(deadline);
				if (status != 0) {
					w.c.close = true;
					(void)worker_error(status);
					worker_log_access();
					return;
				}
			}
		}
		/*
		 * Under pressure at the cap, end the connection after this
		 * response, so that its client queues behind those already
		 * waiting; but not when its next request is already here:
		 * a request that has arrived is answered.
		 */
		if (!w.c.close && sb_table != NULL && sb_table->pressure &&
		    !worker_input_waiting())
			w.c.close = true;
		rv = worker_handle();
		worker_log_access();
		if (rv == -1 || w.c.close) {
			w.c.quick_close = rv == 0 && worker_client_done();
			return;
		}
		/* Keep pipelined bytes that follow this request. */
		head_len = w.c.req.head_len;
		if (w.c.len > head_len && head_len > 0) {
			memmove(w.head, w.head + head_len, w.c.len - head_len);
			w.c.len -= head_len;
		} else
			w.c.len = 0;
		worker_check_signals();
	}
}

/*
 * Closes a connection in stages (RFC 9112 §9.6). A close() with unread
 * input, or input that arrives after it, makes the kernel send a reset,
 * and a reset throws away whatever of the last response is still queued
 * for the client: a client that pipelined more requests than tine
 * answers (Connection: close, HTTP/1.0, keepalive_requests, an error)
 * would see its last response cut short. So: half-close, then read and
 * drop input until the client closes too, or until everything sent (the
 * FIN included) is acknowledged with nothing left unread, or until
 * LINGER_MAX_MS. A well-behaved client costs one round trip; one that
 * stopped reading (a send failed or timed out) is not waited for.
 */
static void
worker_close_conn(void)
{
	struct pollfd	 pfd;
	int64_t		 deadline, left;
	ssize_t		 n;
	int		 outq;

	if (w.c.quick_close)
		goto done;	/* nothing unread: see worker_client_done */
	if (w.c.send_failed || shutdown(w.c.fd, SHUT_WR) == -1)
		goto done;	/* reset, gone or stuck: nothing to protect */
	/*
	 * No response was ever sent (the client never spoke, or left
	 * mid-head): nothing to protect either. A connect-and-close flood
	 * leaves such connections queued, some with a peer long gone that
	 * will never acknowledge our FIN; lingering on each would hold the
	 * worker LINGER_MAX_MS more.
	 */
	if (w.c.requests == 0 && w.c.status == 0)
		goto done;
	deadline = util_now_ms() + LINGER_MAX_MS;
	for (;;) {
		left = deadline - util_now_ms();
		if (left <= 0)
			break;
		n = recv(w.c.fd, w.head, w.head_cap, MSG_DONTWAIT);
		if (n > 0)
			continue;	/* dropped; bounded by the deadline */
		if (n == 0)
			break;		/* the client closed its side */
		if (errno == EINTR) {
			worker_check_signals();
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			break;
		if (ioctl(w.c.fd, SIOCOUTQ, &outq) == -1 || outq == 0)
			break;		/* all acknowledged, nothing unread */
		pfd.fd = w.c.fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(left < LINGER_POLL_MS ? left :
		    LINGER_POLL_MS)) == -1 && errno == EINTR)
			worker_check_signals();
	}
 done:
	(void)close(w.c.fd);	/* nothing to do on error */
	w.c.fd = -1;
}

static int
worker_accept_one(int lfd)
{
	int	 fd;

	w.c.peerlen = sizeof(w.c.peer);
	fd = accept4(lfd, (struct sockaddr *)&w.c.peer, &w.c.peerlen,
	    SOCK_CLOEXEC);
	if (fd == -1)
		return -1;
	w.c.fd = fd;
	/*
	 * One title for the whole connection: libbsd's setproctitle costs
	 * two vsnprintf calls, a third of a cached request if it ran for
	 * every request and state.
	 */
	setproctitle("worker [connected]");
	worker_serve();
	if (w.file.fd != -1) {
		(void)close(w.file.fd);	/* read-only */
		w.file.fd = -1;
	}
	worker_close_conn();
	return 0;
}

/*
 * Reports an accept() failure, but a failure that repeats (a worker out
 * of descriptors retries ten times a second) only once per
 * LOG_ERROR_INTERVAL_S, with the count of those not reported: the error
 * log must not fill the disk while the machine is short of resources.
 */
static void
worker_report_accept(int error)
{
	int64_t	 now = util_now_ms();

	if (w.accept_err_ms != 0 &&
	    now - w.accept_err_ms < (int64_t)LOG_ERROR_INTERVAL_S * 1000) {
		w.accept_err_quiet++;
		return;
	}
	errno = error;
	if (w.accept_err_quiet > 0)
		log_warn("accept (%u more since the last report)",
		    w.accept_err_quiet);
	else
		log_warn("accept");
	w.accept_err_ms = now;
	w.accept_err_quiet = 0;
}

/*
 * EMFILE/ENFILE and a short memory: the connection stays queued and
 * accept() would fail again at once, so back off briefly instead of
 * spinning; the connection is taken as soon as resources are back.
 */
static void
worker_accept_error(int lfd)
{
	struct timespec	 ts;

	(void)lfd;
	switch (errno) {
	case EINTR:
	case EAGAIN:
	case ECONNABORTED:
	case EPROTO:
		return;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		worker_report_accept(errno);
		ts.tv_sec = 0;
		ts.tv_nsec = ACCEPT_BACKOFF_MS * 1000000L;
		(void)nanosleep(&ts, NULL);	/* EINTR is fine */
		return;
	default:
		worker_report_accept(errno);
		return;
	}
}

/*
 * A retiring worker first serves the connections already queued on its
 * listeners, so that none that the kernel accepted is reset when the
 * last copy of a listener closes; then it exits.
 */
static void __attribute__((noreturn))
worker_retire(void)
{
	int	 i, n = 0, ready;

	/*
	 * poll() with no wait, then a blocking accept: another worker may
	 * win the race, and then the master's repeated SIGQUIT interrupts
	 * the accept. The listeners' blocking mode is shared with every
	 * other worker, so it is not touched.
	 */
	while (n < DRAIN_MAX_CONNS && !sig_term) {
		ready = poll(w.pfds, (nfds_t)w.nlisten, 0);
		if (ready <= 0)
			break;
		for (i = 0; i < w.nlisten; i++) {
			if ((w.pfds[i].revents & POLLIN) == 0)
				continue;
			if (worker_accept_one(w.pfds[i].fd) == -1)
				worker_exit(0);
			n++;
		}
	}
	worker_exit(0);
}

/*
 * An idle worker lets go of the files it keeps open after CACHE_IDLE_MS
 * without a request: a file deleted or replaced meanwhile would
 * otherwise keep its disk space, and the worker its descriptors, for as
 * long as no request comes. The log-flush timer wakes it to look.
 */
static void
worker_idle_cache(int64_t now)
{
	if (w.served != w.idle_served) {
		w.idle_served = w.served;
		w.idle_since_ms = now;
	}
	if (!cache_holds_files())
		return;
	if (now - w.idle_since_ms >= CACHE_IDLE_MS)
		cache_clear();
	else
		worker_arm_flush();
}

static void
worker_accept_loop(void)
{
	int64_t	 now;
	int	 i;

	for (;;) {
		worker_check_signals();
		if (w.retiring)
			worker_retire();
		setproctitle("worker [idle]");
		now = util_now_ms();
		sb_enter(SB_IDLE, now);
		worker_idle_cache(now);
		if (w.nlisten == 1) {
			/* Blocking accept: the kernel wakes one worker. */
			if (worker_accept_one(w.pfds[0].fd) == 0)
				continue;
			if (errno != EAGAIN) {
				worker_accept_error(w.pfds[0].fd);
				continue;
			}
		}
		if (poll(w.pfds, (nfds_t)w.nlisten, -1) == -1) {
			if (errno != EINTR)
				log_warn("poll");
			continue;
		}
		for (i = 0; i < w.nlisten; i++) {
			if ((w.pfds[i].revents & POLLIN) == 0)
				continue;
			if (worker_accept_one(w.pfds[i].fd) == -1)
				worker_accept_error(w.pfds[i].fd);
			if (w.retiring || sig_quit || sig_term)
				break;
		}
	}
}

/*
 * Whether a worker that dropped privileges may dump core or be traced.
 * The kernel applies fs.suid_dumpable when the ids change: 0 (the
 * default) makes the worker undumpable, 2 lets it dump core readable by
 * root only, and 1 leaves it dumpable, which also lets any process of
 * the workers' user ptrace it or take its descriptors (pidfd_getfd).
 * Those descriptors were opened by root: the listeners, perhaps on a
 * privileged port, and the logs. So 1 becomes 0, and 2 is kept: a core
 * only root can read is safe and still serves debugging. A worker that
 * did not switch ids stays dumpable, like any process of its user.
 */
static void
worker_limit_dumpable(void)
{
	int	 dumpable;

	if ((dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0)) == -1)
		fatal("PR_GET_DUMPABLE");
	if (dumpable == 1 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("PR_SET_DUMPABLE");
}

static void
worker_drop_privileges(const struct worker_ids *ids)
{
	/*
	 * A worker that cannot drop its privileges cannot run at all, and
	 * neither could a replacement: WORKER_EXIT_FATAL, not respawned.
	 */
	if (!ids->drop)
		return;
	if (setgroups(1, &ids->gid) == -1) {
		log_warn("setgroups");
		_exit(WORKER_EXIT_FATAL);
	}
	if (setresgid(ids->gid, ids->gid, ids->gid) == -1) {
		log_warn("setresgid");
		_exit(WORKER_EXIT_FATAL);
	}
	if (setresuid(ids->uid, ids->uid, ids->uid) == -1) {
		log_warn("setresuid");
		_exit(WORKER_EXIT_FATAL);
	}
	if (ids->uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		log_warnx("privileges could be regained after dropping them");
		_exit(WORKER_EXIT_FATAL);
	}
	worker_limit_dumpable();
}

void
worker_main(const struct config *conf, const struct worker_ids *ids,
    int generation)
{
	static const int	 sigs[] = { SIGQUIT, SIGTERM, SIGINT, SIGUSR1,
	    SIGUSR2, SIGALRM };
	struct sigaction	 sa;
	struct listener		*l;
	sigset_t		 none;
	size_t			 i;
	int			 n;

	w.conf = conf;
	w.c.fd = -1;
	w.file.fd = -1;
	log_set_role("worker");
	(void)generation;
	/* Workers do not all recycle at once: up to a quarter more. */
	if (conf->max_requests > 0)
		w.recycle_at = (uint64_t)conf->max_requests +
		    arc4random_uniform((uint32_t)conf->max_requests / 4 + 1);

	/* Handlers first, while signals are still blocked. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_signal;
	sigfillset(&sa.sa_mask);
	for (i = 0; i < nitems(sigs); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1)
			_exit(WORKER_EXIT_FATAL);
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGHUP, &sa, NULL);	/* cannot fail */
	(void)sigaction(SIGCHLD, &sa, NULL);
	(void)sigaction(SIGTTIN, &sa, NULL);
	(void)sigaction(SIGTTOU, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)sigaction(SIGTTIN, &sa, NULL);
	(void)sigaction(SIGTTOU, &sa, NULL);

	if ((w.rootfd = file_open_root(conf->root)) == -1) {
		log_warn("open %s", conf->root);
		_exit(WORKER_EXIT_FATAL);
	}
	if (log_access_open(conf, (uid_t)-1, (gid_t)-1) == -1) {
		log_warn("open %s", conf->access_log);
		_exit(WORKER_EXIT_FATAL);
	}
	n = 0;
	TAILQ_FOREACH(l, &conf->listeners, entry)
		n++;
	if ((w.pfds = calloc((size_t)n, sizeof(*w.pfds))) == NULL) {
		log_warn("calloc");
		_exit(WORKER_EXIT_FATAL);
	}
	n = 0;
	TAILQ_FOREACH(l, &conf->listeners, entry) {
		if (l->fd == -1)
			continue;
		w.pfds[n].fd = l->fd;
		w.pfds[n].events = POLLIN;
		n++;
	}
	w.nlisten = n;
	w.head_cap = conf->max_header_size + 1;
	if ((w.head = malloc(w.head_cap)) == NULL) {
		log_warn("malloc");
		_exit(WORKER_EXIT_FATAL);
	}
	worker_drop_privileges(ids);
	/* What the workers' user cannot read is an error now, not 403s. */
	if (faccessat(w.rootfd, ".", R_OK | X_OK, AT_EACCESS) == -1) {
		log_warn("root %s is not readable by the workers", conf->root);
		_exit(WORKER_EXIT_FATAL);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		log_warn("PR_SET_NO_NEW_PRIVS");

	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		_exit(WORKER_EXIT_FATAL);
	setproctitle("worker");
	worker_accept_loop();
	worker_exit(0);
}
