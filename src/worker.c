/*
 * worker.c: a worker process. Accepts one connection at a time and keeps
 * it for as long as keep-alive allows: reads each request head, decides
 * whether the connection persists, and hands the request to serve.c.
 * Owns the process: signals, the pool's pressure yields, the scoreboard
 * slot, recycling, the idle cache and the privilege drop. Signals
 * interrupt the blocking calls (no SA_RESTART) and are acted on at once.
 * Buffers are sized once at start-up.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "cache.h"
#include "compress.h"
#include "conn.h"
#include "proxy.h"
#include "sandbox.h"
#include "conn_tls.h"
#include "file.h"
#include "http.h"
#include "master.h"
#include "scoreboard.h"
#include "serve.h"
#include "tls.h"
#include "worker.h"

#define ACCEPT_BACKOFF_MS	100	/* after EMFILE/ENFILE */
#define DRAIN_MAX_CONNS		256	/* queued connections a retiring
					   worker still serves */

static volatile sig_atomic_t sig_quit, sig_term, sig_usr1, sig_alrm;
static volatile sig_atomic_t sig_usr2;	/* only interrupts: see the slot */
static volatile sig_atomic_t sig_wake;	/* any of them, for the conn */

/*
 * The process's state. The connection is passed explicitly down the
 * request path; only the process-level code below touches this struct.
 */
static struct {
	const struct config	*conf;
	struct pollfd		*pfds;
	const struct listener	**lis;		/* pfds[i]'s listener */
	int			*rootfds;	/* by config's roots index */
	int			 nlisten;
	bool			 retiring;
	bool			 alarm_armed;
	struct conn		 c;
	uint64_t		 served;	/* requests, this process */
	uint64_t		 idle_served;	/* served when idle_since_ms */
	int64_t			 idle_since_ms;	/* last request, for the cache */
	uint64_t		 recycle_at;	/* max_requests + jitter, or 0 */
	bool			 recycling;	/* retiring at recycle_at */
	int64_t			 accept_err_ms;	/* last accept error report */
	unsigned		 accept_err_quiet; /* errors not reported since */
	/* Last: big, and a worker keeps every page it ever wrote. */
	struct conn_buffers	 buf;		/* c's, sized at start */
} w;

static void
worker_signal(int sig)
{
	sig_wake = 1;
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
	log_access_close();	/* reports lines it could not write */
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
		/*
		 * Sandboxed, a worker opens no path to write to: the master
		 * replaces it with one that inherits the new logs instead.
		 */
		if (w.conf->sandbox)
			return;
		if (log_open(w.conf, (uid_t)-1, (gid_t)-1) == -1)
			log_warn("reopen error log");
		if (log_access_open(w.conf, (uid_t)-1, (gid_t)-1) == -1)
			log_warn("reopen access logs");
	}
	if (sig_alrm) {
		sig_alrm = 0;
		w.alarm_armed = false;
		/* A lagging reader of a FIFO log: try again in a while. */
		if (log_access_flush() == -1 && log_access_pending())
			worker_arm_flush();
		if (conn_tls_report())
			worker_arm_flush();
	}
}

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

/*
 * The master asks, under pressure at max_workers, for this connection
 * to make room. An idle keep-alive connection is closed only if no byte
 * of a next request has arrived (checked without blocking); a head that
 * arrives too slowly gets its 408. Returns true with errno set for the
 * caller's usual paths: ECONNABORTED closes quietly, EAGAIN is a 408.
 */
static bool
worker_yield(struct conn *c)
{
	int	 what = sb_self->yield;

	sb_self->yield = SB_YIELD_NONE;
	sig_usr2 = 0;
	if (what == SB_YIELD_IDLE && c->len == 0) {
		if (conn_input_waiting(c)) {
			/*
			 * A request has begun to arrive: serve it, and let
			 * the pool judge its pace as a head's. (Over TLS the
			 * bytes may be part of a record still coming.)
			 */
			worker_sb_reading(util_now_ms());
			return false;
		}
		errno = ECONNABORTED;
		return true;
	}
	/* A head, a handshake, or a record of a head, coming too slowly. */
	if (what == SB_YIELD_SLOW && (c->len > 0 || c->handshaking ||
	    sb_self->state == SB_READING)) {
		errno = EAGAIN;
		return true;
	}
	return false;	/* the state moved on: nothing to give up */
}

/*
 * The connection's wait hook: signals first, then, before or after a
 * wait for input, the pool's request to make room.
 */
static bool
worker_wait_hook(struct conn *c, bool reading)
{
	/*
	 * Cleared before the flags are read, so that a later signal sets
	 * it again; only by a read, which also looks at the slot's yield.
	 */
	if (reading)
		sig_wake = 0;
	worker_check_signals();
	return reading && sb_self != NULL && sb_self->yield != SB_YIELD_NONE &&
	    worker_yield(c);
}

/*
 * Counts an answer, logged or not, as served; decides recycling; writes
 * the access-log line.
 */
static void
worker_finish_request(struct conn *c)
{
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
	access_log_response(c);
	worker_arm_flush();
}

/* Answers with an error status and ends the connection. */
static void
worker_fail_request(struct conn *c, int status)
{
	c->close = true;
	(void)serve_error(c, status);
	worker_finish_request(c);
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
worker_client_done(const struct conn *c)
{
	bool	 client_closes, body_unread;

	client_closes = c->req.conn_close ||
	    (c->req.minor == 0 && !c->req.conn_keepalive);
	body_unread = c->req.expect_continue &&
	    (c->req.content_length > 0 || c->req.chunked);
	return client_closes && !body_unread && !c->read_full &&
	    c->len == c->req.head_len;
}

/*
 * Reads until a whole head is in the buffer. first: the connection's
 * first request, which waits up to header_timeout (the listener's
 * timeout); a kept-alive one waits up to keepalive_timeout for its first
 * byte, then header_timeout for the rest. A retiring worker keeps
 * waiting too: closing an idle connection early would lose a request
 * the client may be sending right now. Returns 1 with *head_len set, 0
 * when the connection ends quietly (closed, idle timeout, yield), or an
 * error status to answer (408, 414, 431, 400).
 */
static int
worker_read_head(struct conn *c, bool first, size_t *head_len,
    int64_t *deadline, int64_t *last_read)
{
	const struct config	*conf = c->conf;
	int64_t			 now;
	ssize_t			 n;
	int			 rv;

	now = util_now_ms();
	if (!first && c->len == 0) {
		if (conn_set_timeout(c, conf->keepalive_timeout * 1000) == -1)
			return 0;
		sb_enter(SB_KEEPALIVE, now);
		*deadline = now + (int64_t)conf->keepalive_timeout * 1000;
	} else {
		*deadline = now + (int64_t)conf->header_timeout * 1000;
		/*
		 * The first behind a PROXY header: from the accept, the
		 * header included. (Elsewhere the listener's timeout, set
		 * once, serves: no system call here.)
		 */
		if (first && c->lis->proxy_protocol &&
		    c->head_deadline_ms < *deadline) {
			*deadline = c->head_deadline_ms;
			if (conn_set_timeout(c, (int)(*deadline > now ?
			    *deadline - now : 1)) == -1)
				return 0;
		}
		/*
		 * Bytes of the next head came pipelined behind the last
		 * request: it is being read from now on, so the pool sees a
		 * slow rest as the slow head it is.
		 */
		if (!first) {
			worker_sb_reading(now);
			if (sb_self != NULL)
				sb_self->head_bytes = (uint32_t)c->len;
		}
	}
	for (;;) {
		if (c->len > 0) {
			rv = http_scan_head(&c->scan, c->buf->in, c->len,
			    conf->max_header_size, head_len);
			if (rv != 0) {
				*last_read = now;
				return rv;
			}
			/* Incomplete: wait only until the deadline. */
			if (conn_set_timeout(c, (int)(*deadline -
			    util_now_ms())) == -1)
				return 0;
		}
		n = conn_read(c, *deadline);
		if (n == 0) {
			/* Closed by the client: after its FIN nothing more
			 * can come to be unread. */
			c->quick_close = true;
			return 0;
		}
		if (n < 0) {
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    c->len > 0)
				return HTTP_REQUEST_TIMEOUT;
			return 0;	/* idle timeout, reset, error */
		}
		now = util_now_ms();
		if (c->len == 0 && !(first && c->lis->proxy_protocol)) {
			/* First bytes: the whole head has until
			 * header_timeout from now. */
			*deadline = now + (int64_t)conf->header_timeout * 1000;
			if (!first)
				worker_sb_reading(now);
		}
		c->len += (size_t)n;
		if (sb_self != NULL) {
			sb_self->head_bytes += (uint32_t)n;
			sb_self->progress_ms = now;
		}
	}
}

/* Persistence (RFC 9112 §9.3) and what this process has decided. */
static bool
worker_must_close(const struct conn *c)
{
	const struct config	*conf = c->conf;

	return c->req.conn_close ||
	    (c->req.minor == 0 && !c->req.conn_keepalive) ||
	    conf->keepalive_timeout == 0 ||
	    c->requests >= (unsigned)conf->keepalive_requests ||
	    w.retiring || sig_quit || sig_term ||
	    (w.recycle_at != 0 && w.served + 1 >= w.recycle_at);
}

/*
 * Serves one connection until it ends. Returns when done; the caller
 * closes it.
 */
static void
worker_serve(struct conn *c)
{
	int64_t	 deadline, last_read;
	size_t	 head_len;
	int	 rv, status;
	bool	 first = true;

	for (;;) {
		conn_reset_request(c);
		head_len = 0;
		rv = worker_read_head(c, first, &head_len, &deadline,
		    &last_read);
		if (rv == 0)
			return;
		first = false;
		c->requests++;
		if (rv != 1) {
			worker_fail_request(c, rv);
			return;
		}
		status = http_parse_head(c->buf->in, head_len, &c->req);
		c->have_req = status == 0 || c->req.line.p != NULL;
		if (sb_self != NULL) {
			/* The time of the last read: close enough. */
			sb_enter(SB_SENDING, last_read);
			if (c->have_req)
				scoreboard_set_text(sb_self->reqline,
				    sizeof(sb_self->reqline), c->req.line.p,
				    c->req.line.len);
		}
		if (status != 0) {
			worker_fail_request(c, status);
			return;
		}
		c->close = worker_must_close(c);
		/*
		 * A body we will not use: answer at once when the client
		 * waits for 100-continue (then close, RFC 9110 §10.1.1),
		 * else read and discard it so the stream stays in sync.
		 */
		if (c->req.content_length > 0 || c->req.chunked) {
			if (c->req.expect_continue)
				c->close = true;
			else if ((status = conn_discard_body(c, deadline,
			    c->conf->max_body_size)) != 0) {
				worker_fail_request(c, status);
				return;
			}
		}
		/*
		 * Under pressure at the cap, end the connection after this
		 * response, so that its client queues behind those already
		 * waiting; but not when its next request is already here:
		 * a request that has arrived is answered.
		 */
		if (!c->close && sb_table != NULL && sb_table->pressure &&
		    !conn_input_waiting(c))
			c->close = true;
		rv = serve_request(c);
		worker_finish_request(c);
		if (rv == -1 || c->close) {
			c->quick_close = rv == 0 && worker_client_done(c);
			return;
		}
		/* Keep pipelined bytes that follow this request. */
		head_len = c->req.head_len;
		if (c->len > head_len && head_len > 0) {
			memmove(c->buf->in, c->buf->in + head_len,
			    c->len - head_len);
			c->len -= head_len;
		} else
			c->len = 0;
		worker_check_signals();
	}
}

/*
 * Reports a refused PROXY protocol header, at most once a second: a
 * scan or a misrouted client must not flood the log.
 */
static void
worker_proxy_refused(const struct conn *c, const char *why)
{
	static int64_t	 last;
	int64_t		 now = util_now_ms();

	if (last != 0 && now - last < 1000 && now >= last)
		return;
	last = now;
	log_warnx("%s: PROXY protocol header refused on %s: %s", c->addr,
	    c->lis->name, why);
}

/*
 * A proxy_protocol listener: the header comes first, within
 * header_timeout, from a balancer proxy_protocol_from names, and its
 * client address stands for the peer from then on (logs, allow and
 * deny, the status page). 0, or -1 when the connection is to be closed.
 */
static int
worker_proxy(struct conn *c)
{
	struct proxy_hdr	 h;
	int			 i;

	for (i = 0; i < w.conf->nproxy_from; i++)
		if (config_cidr_contains(&w.conf->proxy_from[i],
		    (struct sockaddr *)&c->peer))
			break;
	if (i == w.conf->nproxy_from) {
		worker_proxy_refused(c, "not from proxy_protocol_from");
		return -1;
	}
	if (proxy_read(c->fd, c->head_deadline_ms, &h) == -1) {
		worker_proxy_refused(c, errno == EPROTO ? "malformed" :
		    errno == ETIMEDOUT ? "not sent in time" : strerror(errno));
		return -1;
	}
	if (!h.local)
		conn_set_peer(c, &h.src, h.srclen);
	return 0;
}

#define OVER_CAP_WAIT_MS	50	/* for a head behind a PROXY header */
#define WORKER_REFUSAL_LINES	8	/* a second, of a worker, at most */

/*
 * max_connections_per_ip: the slot says whose connection this worker
 * holds, and the count is of every slot that says the same (idle
 * keep-alive connections and unfinished heads too). Two connections of
 * one client accepted at once both count each other: at the cap, both
 * may be refused, never both let in.
 */
static bool
worker_over_cap(struct conn *c)
{
	if (w.conf->max_connections_per_ip == 0 || sb_self == NULL)
		return false;
	sb_self->client_key = scoreboard_client_key(
	    (struct sockaddr *)&c->peer);
	return scoreboard_count_client(sb_table, sb_self->client_key) >
	    w.conf->max_connections_per_ip;
}

/*
 * Over the cap: logged at most once a second per address (a few kept),
 * then a 503 with Retry-After to a head that is already there, or a
 * close; the worker does not wait for a head it would refuse.
 */
static void
worker_refuse_over_cap(struct conn *c)
{
	static int64_t	 burst_ms;
	static int	 burst;
	struct pollfd	 pfd;
	int64_t		 now = util_now_ms();
	ssize_t		 n;

	/* Many addresses in turn: still at most 8 lines a second. */
	if (now - burst_ms >= 1000 || now < burst_ms) {
		burst_ms = now;
		burst = 0;
	}
	/* Once a second per address, whichever worker refuses it. */
	if (!scoreboard_refusal_logged(sb_table, sb_self->client_key,
	    now - 999) && burst++ < WORKER_REFUSAL_LINES) {
		sb_self->refused_key = sb_self->client_key;
		sb_self->refused_ms = now;
		log_warnx("%s: over max_connections_per_ip %d; refused",
		    c->addr, w.conf->max_connections_per_ip);
	}
	if (c->lis->tls)
		return;		/* a 503 would need a handshake first */
	/*
	 * A balancer sends the PROXY header and the client's bytes apart:
	 * a head that follows within a moment gets its 503.
	 */
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	if (c->lis->proxy_protocol && poll(&pfd, 1, OVER_CAP_WAIT_MS) != 1)
		return;
	n = recv(c->fd, c->buf->in, c->buf->in_cap, MSG_DONTWAIT);
	if (n <= 0)
		return;
	c->len = (size_t)n;
	c->close = true;
	(void)serve_error(c, HTTP_SERVICE_UNAVAILABLE);
	worker_finish_request(c);
}

/*
 * Accepts from listener i and serves the connection. On a TLS listener
 * the handshake comes first and counts against header_timeout, like
 * the head it precedes.
 */
static int
worker_accept_one(int i)
{
	struct conn	*c = &w.c;
	int		 fd, rv;
	bool		 tls = w.lis[i]->tls;

	c->peerlen = sizeof(c->peer);
	fd = accept4(w.pfds[i].fd, (struct sockaddr *)&c->peer, &c->peerlen,
	    SOCK_CLOEXEC);
	if (fd == -1)
		return -1;
	c->lis = w.lis[i];
	c->tls_id = c->lis->sites[0]->tls_id;
	c->sni = false;
	c->sni_site = NULL;
	conn_open(c, fd, tls ? &conn_tls_ops : &conn_plain_ops,
	    worker_idle_timeout_ms(w.conf));
	/*
	 * One title for the whole connection: libbsd's setproctitle costs
	 * two vsnprintf calls, a third of a cached request if it ran for
	 * every request and state.
	 */
	setproctitle("worker [connected]");
	/*
	 * The head (and a PROXY header and TLS handshake before it) has
	 * header_timeout from the accept on, all of it together.
	 */
	c->head_deadline_ms = util_now_ms() +
	    (int64_t)w.conf->header_timeout * 1000;
	/* Reading from now on: a PROXY header pins a worker like a head. */
	if (sb_self != NULL) {
		sb_self->conns++;
		/* Cut to the slot's size: a status field, not an address. */
		(void)strlcpy(sb_self->client, c->addr,
		    sizeof(sb_self->client));
		sb_self->reqline[0] = '\0';
		worker_sb_reading(util_now_ms());
	}
	if (c->lis->proxy_protocol) {
		if (worker_proxy(c) == -1) {
			conn_close(c);
			return 0;
		}
		if (sb_self != NULL)
			(void)strlcpy(sb_self->client, c->addr,
			    sizeof(sb_self->client));
	}
	if (worker_over_cap(c)) {
		worker_refuse_over_cap(c);
		conn_reset_request(c);
		conn_close(c);
		sb_self->client_key = 0;
		return 0;
	}
	rv = tls ? conn_tls_accept(c, c->head_deadline_ms) : 0;
	if (rv == 0)
		worker_serve(c);
	else {
		if (rv == CONN_TLS_PLAIN) {
			(void)serve_plain_on_tls(c);	/* closing anyway */
			worker_finish_request(c);
		}
		if (conn_tls_report())
			worker_arm_flush();	/* failures to count later */
	}
	conn_reset_request(c);	/* closes a file kept for one response */
	conn_close(c);
	if (sb_self != NULL)
		sb_self->client_key = 0;
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
			if (worker_accept_one(i) == -1)
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
		now = util_now_ms();
		/*
		 * A wake-up in accept (the log flush, the cache's release, a
		 * signal) is no new idleness: the pool's shrinking counts
		 * from the last connection (spare_timeout, max_spare), and
		 * these timers would otherwise restart it up to two seconds
		 * later.
		 */
		if (sb_self == NULL || sb_self->state != SB_IDLE) {
			setproctitle("worker [idle]");
			sb_enter(SB_IDLE, now);
		}
		worker_idle_cache(now);
		if (w.nlisten == 1) {
			/* Blocking accept: the kernel wakes one worker. */
			if (worker_accept_one(0) == 0)
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
			if (worker_accept_one(i) == -1)
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

void
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
	w.c.conf = conf;
	w.c.wait_hook = worker_wait_hook;
	w.c.wake = &sig_wake;
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

	/* Every distinct root of every site and location, once. */
	if ((w.rootfds = calloc((size_t)conf->nroots,
	    sizeof(*w.rootfds))) == NULL) {
		log_warn("calloc");
		_exit(WORKER_EXIT_FATAL);
	}
	for (n = 0; n < conf->nroots; n++)
		if ((w.rootfds[n] = file_open_root(conf->roots[n])) == -1) {
			log_warn("open %s", conf->roots[n]);
			_exit(WORKER_EXIT_FATAL);
		}
	w.c.rootfds = w.rootfds;
	w.c.rootfd = w.rootfds[0];
	/*
	 * The access log is the master's descriptor, opened for this
	 * generation's config before the fork: no open here, so a worker
	 * starts without touching the file system for it.
	 */
	n = 0;
	TAILQ_FOREACH(l, &conf->listeners, entry)
		n++;
	if ((w.pfds = calloc((size_t)n, sizeof(*w.pfds))) == NULL ||
	    (w.lis = calloc((size_t)n, sizeof(*w.lis))) == NULL) {
		log_warn("calloc");
		_exit(WORKER_EXIT_FATAL);
	}
	n = 0;
	TAILQ_FOREACH(l, &conf->listeners, entry) {
		if (l->fd == -1)
			continue;
		w.pfds[n].fd = l->fd;
		w.pfds[n].events = POLLIN;
		w.lis[n] = l;
		n++;
	}
	w.nlisten = n;
	if (conn_buffers_init(&w.buf, conf) == -1 ||
	    conn_tls_init(conf) == -1)
		_exit(WORKER_EXIT_FATAL);
	w.c.buf = &w.buf;
	compress_worker_init();
	tls_tickets_protect();
	worker_drop_privileges(ids);
	/*
	 * A master that dies without stopping its workers (SIGKILL, a
	 * crash, the OOM killer; a new master of a binary upgrade that
	 * crashed) must not leave them serving the sockets unmanaged:
	 * they would outlive every later stop, keep the port and run the
	 * old config. SIGQUIT is the graceful stop: requests in flight
	 * finish. Set after the privileges are dropped, which clears it;
	 * a master gone already is seen by getppid().
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGQUIT, 0, 0, 0) == -1)
		log_warn("PR_SET_PDEATHSIG");
	if (getppid() != compress_master)	/* the master's own memory */
		(void)raise(SIGQUIT);	/* handled: a flag, seen in the loop */
	/* What the workers' user cannot read is an error now, not 403s. */
	for (n = 0; n < conf->nroots; n++)
		if (faccessat(w.rootfds[n], ".", R_OK | X_OK,
		    AT_EACCESS) == -1) {
			log_warn("root %s is not readable by the workers",
			    conf->roots[n]);
			_exit(WORKER_EXIT_FATAL);
		}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		log_warn("PR_SET_NO_NEW_PRIVS");
	/* Every descriptor it serves with is open: confine it now. */
	sandbox_enter(conf, SANDBOX_WORKER, w.rootfds, conf->nroots,
	    sb_self != NULL ? &sb_self->sandbox_call : NULL);

	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		_exit(WORKER_EXIT_FATAL);
	setproctitle("worker");
	worker_accept_loop();
	worker_exit(0);
}
