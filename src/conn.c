/*
 * conn.c: the transport of a client connection. Reads with the head
 * deadline, writes and file sends that restart after signals and short
 * writes, the peek that tells whether more input has come, and the
 * lingering close. The plain TCP operations are the first table; nothing
 * here decides what to answer, and nothing allocates after start-up.
 */
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <linux/sockios.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "scoreboard.h"

#define SEND_CHUNK_BYTES	(256 * 1024)	/* sendfile() per call: a
						   quarter MiB measured 5-10 %
						   faster than 1 MiB */
#define LINGER_MAX_MS		2000	/* closing: wait for the client to
					   take our last response */
#define LINGER_POLL_MS		10	/* closing: recheck what is unacked */

/* Plain TCP: the socket calls themselves. */

static ssize_t
conn_plain_recv(struct conn *c, void *buf, size_t len)
{
	return read(c->fd, buf, len);
}

static ssize_t
conn_plain_drain(struct conn *c, void *buf, size_t len)
{
	return recv(c->fd, buf, len, MSG_DONTWAIT);
}

static ssize_t
conn_plain_sendv(struct conn *c, const struct iovec *iov, int iovcnt,
    bool more)
{
	struct msghdr	 msg;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = (struct iovec *)iov;
	msg.msg_iovlen = (size_t)iovcnt;
	return sendmsg(c->fd, &msg, (more ? MSG_MORE : 0) | MSG_NOSIGNAL);
}

static ssize_t
conn_plain_sendfile(struct conn *c, int fd, off_t *off, size_t len)
{
	return sendfile(c->fd, fd, off, len);
}

static bool
conn_plain_pending(struct conn *c)
{
	char	 b;

	return recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
}

static int
conn_plain_shutdown(struct conn *c)
{
	return shutdown(c->fd, SHUT_WR);
}

static void
conn_plain_close(struct conn *c)
{
	(void)close(c->fd);	/* nothing to do on error */
}

const struct conn_ops conn_plain_ops = {
	.name = "tcp",
	.recv = conn_plain_recv,
	.drain = conn_plain_drain,
	.sendv = conn_plain_sendv,
	.sendfile = conn_plain_sendfile,
	.pending = conn_plain_pending,
	.shutdown = conn_plain_shutdown,
	.close = conn_plain_close,
};

/* What the transport does for every kind of connection. */

int
conn_buffers_init(struct conn_buffers *b, const struct config *conf)
{
	b->file.fd = -1;
	b->in_cap = conf->max_header_size + 1 + CONN_BODY_READ_BYTES;
	if ((b->in = malloc(b->in_cap)) == NULL)
		goto fail;
	/*
	 * The longest Location tine builds: the encoded path, a slash, and
	 * the query, each byte of which may need three.
	 */
	b->file.location_cap = FILE_URL_MAX + 1 + 3 * conf->max_header_size;
	/* A return URL: its text, each $variable a request head at most. */
	if (b->file.location_cap < conf->return_url_max + 1)
		b->file.location_cap = conf->return_url_max + 1;
	if ((b->file.location = malloc(b->file.location_cap)) == NULL)
		goto fail;
	b->out_cap = CONN_HEAD_FIXED_BYTES + b->file.location_cap +
	    conf->rule_head_max;
	if ((b->out = malloc(b->out_cap)) == NULL)
		goto fail;
	return 0;
 fail:
	log_warn("conn_buffers_init");
	free(b->file.location);
	free(b->in);
	return -1;
}

void
conn_open(struct conn *c, int fd, const struct conn_ops *ops,
    int initial_timeo_ms)
{
	c->fd = fd;
	c->ops = ops;
	c->tp = NULL;
	c->len = 0;
	c->handshaking = false;
	c->requests = 0;
	c->timeo_ms = initial_timeo_ms;
	c->send_failed = false;
	c->read_full = false;
	c->quick_close = false;
	c->close = false;
	conn_set_peer(c, NULL, 0);
	conn_reset_request(c);
}

void
conn_set_peer(struct conn *c, const struct sockaddr_storage *ss,
    socklen_t len)
{
	if (ss != NULL) {
		memcpy(&c->peer, ss, len);
		c->peerlen = len;
	}
	if (util_fmt_addr((struct sockaddr *)&c->peer, c->peerlen, c->addr,
	    sizeof(c->addr), false) == -1)
		(void)strlcpy(c->addr, "-", sizeof(c->addr));	/* fits */
	c->addrlen = strlen(c->addr);	/* once a connection */
}

void
conn_reset_request(struct conn *c)
{
	memset(&c->scan, 0, sizeof(c->scan));
	memset(&c->req, 0, sizeof(c->req));
	c->status = 0;
	c->sent = 0;
	c->have_req = false;
	c->shrank = false;
	c->site = c->lis != NULL ? c->lis->sites[0] : NULL;
	c->loc = NULL;
	c->routed = false;
	c->error_page = false;
	c->error_vary = NULL;
	c->user = NULL;
	c->user_len = 0;
	if (c->buf != NULL && c->buf->file.fd != -1) {
		(void)close(c->buf->file.fd);	/* read-only: nothing lost */
		c->buf->file.fd = -1;
	}
}

int
conn_set_timeout(struct conn *c, int ms)
{
	struct timeval	 tv;

	if (ms < 1)
		ms = 1;	/* 0 would mean no timeout at all */
	if (ms == c->timeo_ms)
		return 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		return -1;
	c->timeo_ms = ms;
	return 0;
}

/*
 * Asks the owner whether to give up a wait (see conn_wait_hook), when
 * one of its signals has come since it last looked: before every read,
 * so the common case costs one load.
 */
bool
conn_give_up(struct conn *c, bool reading)
{
	if (c->wake != NULL && *c->wake == 0)
		return false;
	return c->wait_hook != NULL && c->wait_hook(c, reading);
}

/*
 * While a head is incomplete the receive timeout is the time left until
 * the whole-head deadline, so a client that trickles a byte a second is
 * cut off at the deadline, not reset by each byte.
 */
ssize_t
conn_read(struct conn *c, int64_t deadline)
{
	size_t	 room = c->buf->in_cap - c->len;
	ssize_t	 n;
	int64_t	 left;

	c->deadline = deadline;
	for (;;) {
		if (conn_give_up(c, true))
			return -1;
		n = c->ops->recv(c, c->buf->in + c->len, room);
		if (n >= 0) {
			c->read_full = (size_t)n == room;
			return n;
		}
		if (errno != EINTR)
			return -1;
		left = deadline - util_now_ms();
		if (left <= 0) {
			errno = EAGAIN;
			return -1;
		}
		if (conn_set_timeout(c, (int)left) == -1)
			return -1;
	}
}

int
conn_write(struct conn *c, struct iovec *iov, int iovcnt, bool more)
{
	ssize_t	 n;

	while (iovcnt > 0) {
		n = c->ops->sendv(c, iov, iovcnt, more);
		if (n == -1) {
			if (errno == EINTR) {
				(void)conn_give_up(c, false);
				continue;
			}
			c->send_failed = true;
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

/* The body of conn_send_file: len bytes of fd from off, in pieces. */
static int
conn_send_pieces(struct conn *c, int fd, off_t off, off_t len)
{
	ssize_t	 n;
	size_t	 chunk;

	while (len > 0) {
		chunk = len > SEND_CHUNK_BYTES ? SEND_CHUNK_BYTES : (size_t)len;
		n = c->ops->sendfile(c, fd, &off, chunk);
		if (n == -1) {
			if (errno == EINTR) {
				(void)conn_give_up(c, false);
				continue;
			}
			c->send_failed = true;
			return -1;
		}
		if (n == 0)
			return 1;	/* the file is shorter than it was */
		len -= n;
		c->sent += n;
		sb_progress(util_now_ms());
	}
	return 0;
}

/*
 * TCP_CORK around a file sent in several pieces, on plain TCP. With
 * TCP_NODELAY (see master.c) the end of every sendfile() call is pushed,
 * so each piece ended in a short segment of its own (the head and the
 * first piece: 268 + 262144 bytes leave 268 on a 32 KiB segment size;
 * 212 bytes a piece at loopback's MSS, 56 at Ethernet's): extra packets
 * for every hop and wake-ups for the client (bench: the client's CPU per
 * 10 MiB download fell from 60 % to 40 %). Corked, only full segments
 * leave until the last piece is handed over; taking the cork off then
 * sends the remainder at once, so nothing waits on a real network
 * either. A failure is ignored: the pieces still go out, as before.
 */
static void
conn_plain_cork(struct conn *c, bool on)
{
	int	 v = on;

	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &v, sizeof(v));
}

int
conn_send_file(struct conn *c, int fd, off_t off, off_t len)
{
	bool	 cork = c->ops == &conn_plain_ops && len > SEND_CHUNK_BYTES;
	int	 rc;

	if (cork)
		conn_plain_cork(c, true);
	rc = conn_send_pieces(c, fd, off, len);
	if (cork)
		conn_plain_cork(c, false);
	return rc;
}

bool
conn_input_waiting(struct conn *c)
{
	if (c->len > c->req.head_len || c->read_full)
		return true;
	return c->ops->pending(c);
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
void
conn_close(struct conn *c)
{
	struct pollfd	 pfd;
	int64_t		 deadline, left;
	ssize_t		 n;
	int		 outq;

	if (c->quick_close)
		goto done;	/* nothing unread can follow */
	if (c->send_failed || c->ops->shutdown(c) == -1)
		goto done;	/* reset, gone or stuck: nothing to protect */
	/*
	 * No response was ever sent (the client never spoke, or left
	 * mid-head): nothing to protect either. A connect-and-close flood
	 * leaves such connections queued, some with a peer long gone that
	 * will never acknowledge our FIN; lingering on each would hold the
	 * worker LINGER_MAX_MS more.
	 */
	if (c->requests == 0 && c->status == 0)
		goto done;
	deadline = util_now_ms() + LINGER_MAX_MS;
	for (;;) {
		left = deadline - util_now_ms();
		if (left <= 0)
			break;
		n = c->ops->drain(c, c->buf->in, c->buf->in_cap);
		if (n > 0)
			continue;	/* dropped; bounded by the deadline */
		if (n == 0)
			break;		/* the client closed its side */
		if (errno == EINTR) {
			(void)conn_give_up(c, false);
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			break;
		if (ioctl(c->fd, SIOCOUTQ, &outq) == -1 || outq == 0)
			break;		/* all acknowledged, nothing unread */
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(left < LINGER_POLL_MS ? left :
		    LINGER_POLL_MS)) == -1 && errno == EINTR)
			(void)conn_give_up(c, false);
	}
 done:
	c->ops->close(c);
	c->fd = -1;
}

/*
 * Reads and throws away a request body so the stream stays in sync,
 * through the room after the head (at least CONN_BODY_READ_BYTES,
 * whatever the head's size). Pipelined bytes after the body stay in the
 * buffer. Returns 0 or an error status.
 */
int
conn_discard_body(struct conn *c, int64_t deadline, off_t limit)
{
	struct http_body	 body;
	char			*start = c->buf->in + c->req.head_len;
	size_t			 used, avail;
	ssize_t			 n;
	int			 rv;

	if ((rv = http_body_init(&body, &c->req, limit)) != 0)
		return rv;
	avail = c->len - c->req.head_len;
	for (;;) {
		if (avail > 0 || http_body_done(&body)) {
			rv = http_body_consume(&body, start, avail, &used);
			if (rv != 0 && rv != 1)
				return rv;
			/* Drop what was consumed; keep any pipelined rest. */
			if (used > 0 && avail > used)
				memmove(start, start + used, avail - used);
			c->len -= used;
			avail -= used;
			if (rv == 1)
				return 0;
		}
		if (c->len == c->buf->in_cap)
			return HTTP_BAD_REQUEST;	/* cannot happen */
		if (conn_set_timeout(c, (int)(deadline - util_now_ms())) == -1)
			return HTTP_INTERNAL_SERVER_ERROR;
		n = conn_read(c, deadline);
		if (n <= 0)
			return HTTP_REQUEST_TIMEOUT;
		c->len += (size_t)n;
		avail += (size_t)n;
	}
}
