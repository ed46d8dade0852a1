/*
 * loadgen.c: counting load generator for the reload, resize and shutdown
 * tests. Keep-alive and one-shot clients share one poll() loop; every
 * request ends either answered or lost, so sent == answered + lost at exit.
 * Bounded: a run never lasts longer than its duration plus DRAIN_MS.
 *
 * What counts as lost is the point of the tool. A request is sent once a
 * client tries to write it on an established connection. If that
 * connection then ends (EOF, reset, failed write) before the complete
 * response, the request is lost, even when the server closed a keep-alive
 * connection that looked idle: the client cannot learn of the close in
 * time, and a reload that closes idle connections loses requests this way.
 * A connection that ends after a complete response that announced it
 * (Connection: close, HTTP/1.0) costs nothing: the client reconnects.
 *
 * -b gives the clients a source address of their own (another loopback
 * address, 127.0.0.2), so that a test can tell them from the proxy in
 * front of the server by the address the server logs.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define DURATION_DEFAULT_MS	3000
#define DURATION_MAX_MS		120000
/* How long requests still in flight at the end may take to finish. */
#define DRAIN_MS		2000
#define CONNECT_TIMEOUT_MS	2000
/* After a response that ends the connection, how long to await the FIN. */
#define CLOSE_WAIT_MS		1000
#define RETRY_DELAY_MS		10
#define PAUSE_DEFAULT_US	20000
#define PAUSE_MAX_US		1000000
#define CLIENTS_MAX		500
#define PATH_MAX_BYTES		1024
#define REQUEST_MAX_BYTES	(PATH_MAX_BYTES + 128)
#define HEAD_MAX_BYTES		16384
#define READ_CHUNK_BYTES	65536
#define NS_PER_MS		1000000LL
#define NS_PER_US		1000LL

enum parse_state {
	PARSE_HEAD,
	PARSE_BODY,		/* Content-Length bytes still to come */
	PARSE_BODY_EOF		/* no Content-Length: the body ends at close */
};

enum parse_result {
	PARSE_MORE,
	PARSE_DONE,
	PARSE_BAD
};

/* Streaming response parser: keeps the head, counts the body. */
struct parser {
	char		 head[HEAD_MAX_BYTES];
	size_t		 head_len;
	enum parse_state state;
	uint64_t	 body_left;
	int		 status;
	int		 close;		/* the server will close after this */
};

enum client_state {
	CLIENT_IDLE,		/* no request; the next one starts at wake */
	CLIENT_CONNECTING,	/* gives up at wake */
	CLIENT_SENDING,
	CLIENT_READING,
	CLIENT_CLOSING,		/* answered; awaiting the FIN until wake */
	CLIENT_DONE
};

/* Why a request was lost; printed on stderr to help read a failure. */
enum loss {
	LOSS_EOF,		/* closed before the complete response */
	LOSS_RESET,
	LOSS_SEND,		/* the request could not be written */
	LOSS_UNANSWERED,	/* still waiting DRAIN_MS after the end */
	LOSS_COUNT
};

struct client {
	enum client_state state;
	int		 fd;
	int		 keepalive;
	int		 established;	/* had a connection before */
	int		 in_flight;	/* a request byte left: await answer */
	size_t		 off;
	int64_t		 wake;
	struct parser	 parser;
};

static struct {
	struct client	*clients;
	size_t		 nclients;
	struct sockaddr_storage addr;
	socklen_t	 addrlen;
	struct sockaddr_storage src;	/* -b; srclen 0 without */
	socklen_t	 srclen;
	char		 ka_req[REQUEST_MAX_BYTES];
	size_t		 ka_len;
	char		 close_req[REQUEST_MAX_BYTES];
	size_t		 close_len;
	int		 expect;
	uint32_t	 pause_us;
	int		 stopping;
	unsigned long long sent, answered, lost, bad, connect_errors;
	unsigned long long reconnects, malformed, losses[LOSS_COUNT];
	int		 first_bad_status, last_connect_errno;
} lg;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: loadgen [-6] -p port [-b source_address] "
	    "[-k keepalive_clients]\n"
	    "               [-n new_conn_clients] [-d duration_ms] [-u path] "
	    "[-x expect_status]\n"
	    "               [-i interval_us]\n");
	exit(2);
}

static int64_t
now_ns(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(2, "clock_gettime");
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long
number(const char *s, long long min, long long max, const char *what)
{
	const char	*errstr;
	long long	 n;

	n = strtonum(s, min, max, &errstr);
	if (errstr != NULL) {
		warnx("%s %s: %s", what, s, errstr);
		usage();
	}
	return n;
}

static int
parse_length(const char *s, size_t len, uint64_t *out)
{
	uint64_t	 n = 0;
	size_t		 i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	*out = n;
	return 0;
}

static int
field_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

/* Scans a Connection value for the close and keep-alive options. */
static void
connection_options(const char *v, const char *ve, int *conn_close,
    int *keep)
{
	const char	*t, *te;

	while (v < ve) {
		while (v < ve && (*v == ' ' || *v == '\t' || *v == ','))
			v++;
		for (t = v; v < ve && *v != ','; v++)
			;
		for (te = v; te > t && (te[-1] == ' ' || te[-1] == '\t'); te--)
			;
		if (field_is(t, (size_t)(te - t), "close"))
			*conn_close = 1;
		else if (field_is(t, (size_t)(te - t), "keep-alive"))
			*keep = 1;
	}
}

static void
parser_reset(struct parser *p)
{
	p->head_len = 0;
	p->state = PARSE_HEAD;
	p->body_left = 0;
	p->status = 0;
	p->close = 0;
}

/*
 * Interprets a head ending in CRLF CRLF and picks the body framing
 * (RFC 9112 section 6.3). Only responses to GET are ever parsed.
 */
static enum parse_result
parser_head(struct parser *p)
{
	const char	*h = p->head, *limit, *line, *end, *colon, *v, *ve;
	uint64_t	 length = 0;
	int		 have_length = 0, conn_close = 0, keep = 0;

	limit = h + p->head_len;
	if (p->head_len < 16 || memcmp(h, "HTTP/1.", 7) != 0 ||
	    (h[7] != '0' && h[7] != '1') || h[8] != ' ' ||
	    h[9] < '1' || h[9] > '5' || h[10] < '0' || h[10] > '9' ||
	    h[11] < '0' || h[11] > '9' || (h[12] != ' ' && h[12] != '\r'))
		return PARSE_BAD;
	p->status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');

	line = (const char *)memchr(h, '\n', p->head_len) + 1;
	while (line < limit) {
		if ((end = memchr(line, '\n', (size_t)(limit - line))) == NULL)
			break;
		ve = end > line && end[-1] == '\r' ? end - 1 : end;
		if (ve == line)
			break;
		if ((colon = memchr(line, ':', (size_t)(ve - line))) == NULL)
			return PARSE_BAD;
		for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t'); v++)
			;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if (field_is(line, (size_t)(colon - line), "content-length")) {
			if (have_length ||
			    parse_length(v, (size_t)(ve - v), &length) == -1)
				return PARSE_BAD;
			have_length = 1;
		} else if (field_is(line, (size_t)(colon - line),
		    "transfer-encoding"))
			return PARSE_BAD;	/* tine never sends one */
		else if (field_is(line, (size_t)(colon - line), "connection"))
			connection_options(v, ve, &conn_close, &keep);
		line = end + 1;
	}

	/* An interim response: the final one follows on the stream. */
	if (p->status / 100 == 1) {
		parser_reset(p);
		return PARSE_MORE;
	}
	p->close = conn_close || (h[7] == '0' && !keep);
	if (p->status == 204 || p->status == 304)
		return PARSE_DONE;
	if (!have_length) {
		p->close = 1;
		p->state = PARSE_BODY_EOF;
		return PARSE_MORE;
	}
	if (length == 0)
		return PARSE_DONE;
	p->body_left = length;
	p->state = PARSE_BODY;
	return PARSE_MORE;
}

/* Feeds bytes; *used says how many belonged to the response. */
static enum parse_result
parser_feed(struct parser *p, const char *buf, size_t len, size_t *used)
{
	enum parse_result r;
	size_t		 take, from, i, done = 0;

	*used = 0;
	while (done < len) {
		switch (p->state) {
		case PARSE_HEAD:
			from = p->head_len > 3 ? p->head_len - 3 : 0;
			take = sizeof(p->head) - p->head_len;
			if (take == 0)
				return PARSE_BAD;
			if (take > len - done)
				take = len - done;
			memcpy(p->head + p->head_len, buf + done, take);
			p->head_len += take;
			for (i = from; i + 4 <= p->head_len; i++)
				if (memcmp(p->head + i, "\r\n\r\n", 4) == 0)
					break;
			if (i + 4 > p->head_len) {
				done += take;
				break;
			}
			done += take - (p->head_len - (i + 4));
			p->head_len = i + 4;
			*used = done;
			if ((r = parser_head(p)) != PARSE_MORE)
				return r;
			break;
		case PARSE_BODY:
			take = len - done;
			if (take > p->body_left)
				take = (size_t)p->body_left;
			p->body_left -= take;
			done += take;
			*used = done;
			if (p->body_left == 0)
				return PARSE_DONE;
			break;
		case PARSE_BODY_EOF:
			*used = len;
			return PARSE_MORE;
		}
	}
	*used = done;
	return PARSE_MORE;
}

static void
client_close(struct client *c)
{
	if (c->fd != -1)
		(void)close(c->fd);	/* nothing useful to do on error */
	c->fd = -1;
}

static void
client_idle(struct client *c, int64_t wake)
{
	c->state = CLIENT_IDLE;
	c->wake = wake;
}

static void
client_lost(struct client *c, enum loss why, int64_t now)
{
	lg.lost++;
	lg.losses[why]++;
	c->in_flight = 0;
	client_close(c);
	client_idle(c, now);
}

static void
client_connect_error(struct client *c, int error, int64_t now)
{
	lg.connect_errors++;
	lg.last_connect_errno = error;
	client_close(c);
	client_idle(c, now + RETRY_DELAY_MS * NS_PER_MS);
}

/*
 * A complete response. A keep-alive client sometimes pauses before the
 * next request so that idle keep-alive connections exist at random
 * moments: a server that closes them (on reload, say) races the next
 * request, and that race shows as a loss.
 */
static void
client_answered(struct client *c, int64_t now)
{
	int64_t	 pause = 0;

	lg.answered++;
	if (c->parser.status != lg.expect) {
		lg.bad++;
		if (lg.first_bad_status == 0)
			lg.first_bad_status = c->parser.status;
	}
	c->in_flight = 0;
	if (c->fd == -1)
		client_idle(c, now);	/* the body ended with the close */
	else if (c->parser.close || !c->keepalive) {
		c->state = CLIENT_CLOSING;
		c->wake = now + CLOSE_WAIT_MS * NS_PER_MS;
	} else {
		if (lg.pause_us > 0 && arc4random_uniform(2) == 0)
			pause = (int64_t)arc4random_uniform(lg.pause_us + 1) *
			    NS_PER_US;
		client_idle(c, now + pause);
	}
}

static void
client_send(struct client *c, int64_t now)
{
	const char	*req = c->keepalive ? lg.ka_req : lg.close_req;
	size_t		 len = c->keepalive ? lg.ka_len : lg.close_len;
	ssize_t		 n;

	while (c->off < len) {
		n = send(c->fd, req + c->off, len - c->off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1) {
			/* Tried on an established connection: it counts. */
			if (!c->in_flight)
				lg.sent++;
			client_lost(c, errno == ECONNRESET ? LOSS_RESET :
			    LOSS_SEND, now);
			return;
		}
		if (!c->in_flight) {
			lg.sent++;
			c->in_flight = 1;
		}
		c->off += (size_t)n;
	}
	c->state = CLIENT_READING;
}

static void
client_established(struct client *c, int64_t now)
{
	if (c->keepalive && c->established)
		lg.reconnects++;
	c->established = 1;
	c->state = CLIENT_SENDING;
	client_send(c, now);
}

/*
 * Binds to the -b address. The port is left to connect()
 * (IP_BIND_ADDRESS_NO_PORT), which may reuse one for another destination;
 * bind() would reserve each for good and run out of loopback ports.
 */
static int
client_bind(int fd)
{
	int	 on = 1;

	if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on,
	    sizeof(on)) == -1)
		return -1;
	return bind(fd, (struct sockaddr *)&lg.src, lg.srclen);
}

static void
client_start(struct client *c, int64_t now)
{
	if (lg.stopping) {
		client_close(c);
		c->state = CLIENT_DONE;
		return;
	}
	c->off = 0;
	parser_reset(&c->parser);
	if (c->fd != -1) {
		c->state = CLIENT_SENDING;
		client_send(c, now);
		return;
	}
	c->fd = socket(lg.addr.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		err(2, "socket");
	if (lg.srclen != 0 && client_bind(c->fd) == -1)
		err(2, "bind");
	if (connect(c->fd, (struct sockaddr *)&lg.addr, lg.addrlen) == 0) {
		client_established(c, now);
		return;
	}
	if (errno != EINPROGRESS) {
		client_connect_error(c, errno, now);
		return;
	}
	c->state = CLIENT_CONNECTING;
	c->wake = now + CONNECT_TIMEOUT_MS * NS_PER_MS;
}

static void
client_read(struct client *c, int64_t now)
{
	char			 buf[READ_CHUNK_BYTES];
	enum parse_result	 r;
	ssize_t			 n;
	size_t			 used;

	if ((n = recv(c->fd, buf, sizeof(buf), 0)) == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		client_lost(c, errno == ECONNRESET ? LOSS_RESET : LOSS_EOF,
		    now);
		return;
	}
	if (n == 0) {
		if (c->parser.state == PARSE_BODY_EOF) {
			client_close(c);
			client_answered(c, now);
		} else
			client_lost(c, LOSS_EOF, now);
		return;
	}
	r = parser_feed(&c->parser, buf, (size_t)n, &used);
	if (r == PARSE_MORE)
		return;
	if (r == PARSE_BAD || used < (size_t)n) {
		/* Not HTTP, or bytes past the response: framing is lost. */
		lg.answered++;
		lg.bad++;
		lg.malformed++;
		c->in_flight = 0;
		client_close(c);
		client_idle(c, now);
		return;
	}
	client_answered(c, now);
}

/* After the last response on a connection: wait for the server's FIN, so
 * the TIME_WAIT stays on its side and loopback ports do not run out. */
static void
client_drain(struct client *c, int64_t now)
{
	char	 buf[READ_CHUNK_BYTES];
	ssize_t	 n;

	n = recv(c->fd, buf, sizeof(buf), 0);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0) {
		lg.bad++;
		lg.malformed++;
	}
	client_close(c);
	client_idle(c, now);
}

static void
client_io(struct client *c, short revents, int64_t now)
{
	socklen_t	 len;
	int		 error;

	switch (c->state) {
	case CLIENT_CONNECTING:
		len = sizeof(error);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
			err(2, "SO_ERROR");
		if (error != 0)
			client_connect_error(c, error, now);
		else if (revents & POLLOUT)
			client_established(c, now);
		else
			client_connect_error(c, EIO, now);
		break;
	case CLIENT_SENDING:
		client_send(c, now);
		break;
	case CLIENT_READING:
		client_read(c, now);
		break;
	case CLIENT_CLOSING:
		client_drain(c, now);
		break;
	case CLIENT_IDLE:
	case CLIENT_DONE:
		break;
	}
}

/*
 * Time-driven transitions. Once stopping, a client that has no request in
 * flight is done; one that has keeps going until answered or DRAIN_MS.
 */
static void
client_tick(struct client *c, int64_t now)
{
	switch (c->state) {
	case CLIENT_IDLE:
		if (lg.stopping || now >= c->wake)
			client_start(c, now);
		break;
	case CLIENT_CONNECTING:
		if (lg.stopping) {
			client_close(c);
			c->state = CLIENT_DONE;
		} else if (now >= c->wake)
			client_connect_error(c, ETIMEDOUT, now);
		break;
	case CLIENT_SENDING:
		if (lg.stopping && !c->in_flight) {
			client_close(c);
			c->state = CLIENT_DONE;
		}
		break;
	case CLIENT_CLOSING:
		if (lg.stopping || now >= c->wake) {
			client_close(c);
			client_idle(c, now);
			if (lg.stopping)
				c->state = CLIENT_DONE;
		}
		break;
	case CLIENT_READING:
	case CLIENT_DONE:
		break;
	}
}

static short
client_events(const struct client *c)
{
	switch (c->state) {
	case CLIENT_CONNECTING:
	case CLIENT_SENDING:
		return POLLOUT;
	case CLIENT_READING:
	case CLIENT_CLOSING:
		return POLLIN;
	case CLIENT_IDLE:
	case CLIENT_DONE:
		break;
	}
	return 0;
}

static void
run(int64_t duration_ns)
{
	struct pollfd	*pfds;
	struct timespec	 ts;
	struct client	*c;
	int64_t		 now, end, hard_end, timeout;
	size_t		 i, active;

	if ((pfds = calloc(lg.nclients, sizeof(*pfds))) == NULL)
		err(2, "calloc");
	now = now_ns();
	end = now + duration_ns;
	hard_end = end + DRAIN_MS * NS_PER_MS;
	for (;;) {
		now = now_ns();
		if (now >= end)
			lg.stopping = 1;
		if (now >= hard_end) {
			for (i = 0; i < lg.nclients; i++)
				if (lg.clients[i].in_flight)
					client_lost(&lg.clients[i],
					    LOSS_UNANSWERED, now);
			break;
		}
		timeout = (lg.stopping ? hard_end : end) - now;
		active = 0;
		for (i = 0; i < lg.nclients; i++) {
			c = &lg.clients[i];
			client_tick(c, now);
			pfds[i].fd = -1;
			pfds[i].events = client_events(c);
			pfds[i].revents = 0;
			if (pfds[i].events != 0)
				pfds[i].fd = c->fd;
			if (c->state != CLIENT_DONE)
				active++;
			if ((c->state == CLIENT_IDLE ||
			    c->state == CLIENT_CONNECTING ||
			    c->state == CLIENT_CLOSING) &&
			    c->wake - now < timeout)
				timeout = c->wake - now;
		}
		if (active == 0)
			break;
		if (timeout < 0)
			timeout = 0;
		ts.tv_sec = timeout / 1000000000LL;
		ts.tv_nsec = timeout % 1000000000LL;
		if (ppoll(pfds, lg.nclients, &ts, NULL) == -1) {
			if (errno == EINTR)
				continue;
			err(2, "ppoll");
		}
		now = now_ns();
		for (i = 0; i < lg.nclients; i++)
			if (pfds[i].revents != 0)
				client_io(&lg.clients[i], pfds[i].revents, now);
	}
	for (i = 0; i < lg.nclients; i++)
		client_close(&lg.clients[i]);
	free(pfds);
}

static void
set_address(int family, int port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&lg.addr;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&lg.addr;

	memset(&lg.addr, 0, sizeof(lg.addr));
	if (family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sin6->sin6_addr = in6addr_loopback;
		lg.addrlen = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		lg.addrlen = sizeof(*sin);
	}
}

/* The -b address, in the family of the server's. */
static void
set_source(int family, const char *s)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&lg.src;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&lg.src;
	void			*a;

	memset(&lg.src, 0, sizeof(lg.src));
	if (family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		a = &sin6->sin6_addr;
		lg.srclen = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		a = &sin->sin_addr;
		lg.srclen = sizeof(*sin);
	}
	if (inet_pton(family, s, a) != 1) {
		warnx("-b %s: not an IPv%c address", s,
		    family == AF_INET6 ? '6' : '4');
		usage();
	}
}

static void
make_requests(const char *path)
{
	const char	*s;
	int		 n;

	if (path[0] != '/' || strlen(path) >= PATH_MAX_BYTES)
		errx(2, "-u %s: want an absolute path under %d bytes", path,
		    PATH_MAX_BYTES);
	for (s = path; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			errx(2, "-u: control byte or space in the path");
	n = snprintf(lg.ka_req, sizeof(lg.ka_req),
	    "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	if (n < 0 || (size_t)n >= sizeof(lg.ka_req))
		errx(2, "-u: request too long");
	lg.ka_len = (size_t)n;
	n = snprintf(lg.close_req, sizeof(lg.close_req),
	    "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
	if (n < 0 || (size_t)n >= sizeof(lg.close_req))
		errx(2, "-u: request too long");
	lg.close_len = (size_t)n;
}

int
main(int argc, char *argv[])
{
	const char	*path = "/", *source = NULL;
	long long	 duration_ms = DURATION_DEFAULT_MS;
	int		 ch, family = AF_INET, port = -1;
	int		 keepalive = 4, oneshot = 1;
	size_t		 i;

	lg.expect = 200;
	lg.pause_us = PAUSE_DEFAULT_US;
	while ((ch = getopt(argc, argv, "6b:d:i:k:n:p:u:x:")) != -1) {
		switch (ch) {
		case '6':
			family = AF_INET6;
			break;
		case 'b':
			source = optarg;
			break;
		case 'd':
			duration_ms = number(optarg, 1, DURATION_MAX_MS, "-d");
			break;
		case 'i':
			lg.pause_us = (uint32_t)number(optarg, 0, PAUSE_MAX_US,
			    "-i");
			break;
		case 'k':
			keepalive = (int)number(optarg, 0, CLIENTS_MAX, "-k");
			break;
		case 'n':
			oneshot = (int)number(optarg, 0, CLIENTS_MAX, "-n");
			break;
		case 'p':
			port = (int)number(optarg, 1, 65535, "-p");
			break;
		case 'u':
			path = optarg;
			break;
		case 'x':
			lg.expect = (int)number(optarg, 100, 599, "-x");
			break;
		default:
			usage();
		}
	}
	if (optind != argc || port == -1 || keepalive + oneshot == 0)
		usage();
	make_requests(path);
	set_address(family, port);
	if (source != NULL)
		set_source(family, source);

	lg.nclients = (size_t)(keepalive + oneshot);
	if ((lg.clients = calloc(lg.nclients, sizeof(*lg.clients))) == NULL)
		err(2, "calloc");
	for (i = 0; i < lg.nclients; i++) {
		lg.clients[i].fd = -1;
		lg.clients[i].keepalive = i < (size_t)keepalive;
		client_idle(&lg.clients[i], 0);
	}

	run(duration_ms * NS_PER_MS);

	printf("sent=%llu answered=%llu lost=%llu bad=%llu connect_errors=%llu "
	    "reconnects=%llu\n", lg.sent, lg.answered, lg.lost, lg.bad,
	    lg.connect_errors, lg.reconnects);
	if (fflush(stdout) == EOF)
		err(2, "stdout");
	if (lg.lost > 0)
		fprintf(stderr, "loadgen: lost: eof=%llu reset=%llu "
		    "send_failed=%llu unanswered=%llu\n", lg.losses[LOSS_EOF],
		    lg.losses[LOSS_RESET], lg.losses[LOSS_SEND],
		    lg.losses[LOSS_UNANSWERED]);
	if (lg.bad > 0)
		fprintf(stderr, "loadgen: bad: first unexpected status %d, "
		    "malformed=%llu\n", lg.first_bad_status, lg.malformed);
	if (lg.connect_errors > 0)
		fprintf(stderr, "loadgen: last connect error: %s\n",
		    strerror(lg.last_connect_errno));
	free(lg.clients);
	return lg.lost + lg.bad + lg.connect_errors == 0 ? 0 : 1;
}
