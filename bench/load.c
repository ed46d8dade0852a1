/*
 * load.c: the HTTP/1.1 load client of scripts/bench. One thread, nonblocking
 * sockets and epoll; each connection slot sends one request at a time and
 * counts what it got, so that a connection the server never answers shows up
 * as "starved" instead of disappearing into an average. Latency goes into a
 * log-linear histogram (about 3% resolution) for p50/p99.
 *
 * usage: load [-C] -c CONNS (-d SECONDS | -n REQUESTS) [-s STATUS]
 *             [-t TIMEOUT] ADDR:PORT PATH
 * prints one line: requests= errors= starved= conn_min= conn_max= p50_us=
 * p99_us= elapsed_s= rps= bytes=. Exits 0 when at least one request was
 * answered and none failed, 3 otherwise, 2 on a usage error.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define CONNS_MAX		4096
#define HEAD_MAX_BYTES		16384	/* response status line and fields */
#define REQUEST_MAX_BYTES	1024
#define DISCARD_BYTES		(256 * 1024)	/* body bytes per read() */
#define EVENTS_MAX		256
#define SWEEP_MS		50	/* timeout checks */
#define HIST_LINEAR		64	/* 1 µs buckets below this */
#define HIST_SUB_BITS		5	/* 32 buckets per power of two */
#define HIST_BUCKETS		(HIST_LINEAR + (64 - 6) * (1 << HIST_SUB_BITS))

enum state {
	ST_IDLE,		/* no socket */
	ST_CONNECTING,
	ST_WRITING,
	ST_HEAD,		/* reading the status line and fields */
	ST_BODY,
	ST_EOF,			/* response done; waiting for the close */
};

struct conn {
	int		 fd;
	enum state	 st;
	size_t		 woff;
	size_t		 hlen;
	long long	 body_left;
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
	int			 want_status;
	uint64_t		 timeout_ns;
	unsigned long		 limit;		/* -n: requests to issue */
	unsigned long		 issued;
	unsigned long		 done;
	unsigned long		 errors;
	unsigned long long	 bytes;
	uint64_t		 t_end;		/* ns; -d */
	bool			 stopping;
	uint64_t		 hist[HIST_BUCKETS];
	struct conn		*conns;
	int			 nconns;
	char			*discard;
} L;

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

static void
conn_fail(struct conn *c)
{
	L.errors++;
	conn_drop(c);
	conn_start(c);
}

/* Writes the request; on a full socket buffer waits for EPOLLOUT. */
static void
conn_write(struct conn *c)
{
	ssize_t	 n;

	while (c->woff < L.reqlen) {
		n = write(c->fd, L.req + c->woff, L.reqlen - c->woff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (conn_watch(c, EPOLLOUT) == -1) {
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

/* Starts the next request: on the open socket, or on a new one. */
static void
conn_start(struct conn *c)
{
	int	 fd, one = 1;

	if (!may_issue()) {
		conn_drop(c);
		return;
	}
	L.issued++;
	c->t_start = now_ns();
	c->deadline = c->t_start + L.timeout_ns;
	c->woff = 0;
	c->hlen = 0;
	c->body_left = 0;
	c->server_close = false;
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

	L.hist[hist_index(us)]++;
	L.done++;
	c->done++;
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

/* Returns 0 when the head is usable, -1 when it is not. */
static int
conn_parse_head(struct conn *c, size_t head_len)
{
	const char	*v;
	size_t		 vlen, i;
	long long	 cl = 0;
	int		 status;

	if (head_len < 12 || memcmp(c->head, "HTTP/1.", 7) != 0 ||
	    c->head[8] != ' ')
		return -1;
	status = (c->head[9] - '0') * 100 + (c->head[10] - '0') * 10 +
	    (c->head[11] - '0');
	if (status != L.want_status)
		return -1;
	v = head_field(c->head, head_len, "content-length", &vlen);
	if (v == NULL || vlen == 0 || vlen > 15)
		return -1;
	for (i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		cl = cl * 10 + (v[i] - '0');
	}
	c->body_left = cl;
	v = head_field(c->head, head_len, "connection", &vlen);
	if (v != NULL && vlen >= 5 && strncasecmp(v, "close", 5) == 0)
		c->server_close = true;
	return 0;
}

static void
conn_read(struct conn *c)
{
	ssize_t	 n;
	char	*end;
	size_t	 head_len, extra;

	if (c->st == ST_HEAD) {
		n = read(c->fd, c->head + c->hlen, sizeof(c->head) - c->hlen);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_fail(c);
			return;
		}
		c->hlen += (size_t)n;
		end = memmem(c->head, c->hlen, "\r\n\r\n", 4);
		if (end == NULL) {
			if (c->hlen == sizeof(c->head))
				conn_fail(c);
			return;
		}
		head_len = (size_t)(end - c->head) + 4;
		if (conn_parse_head(c, head_len) == -1) {
			conn_fail(c);
			return;
		}
		extra = c->hlen - head_len;
		if ((long long)extra > c->body_left) {
			conn_fail(c);	/* bytes nobody asked for */
			return;
		}
		c->body_left -= (long long)extra;
		L.bytes += extra;
		c->st = ST_BODY;
		if (c->body_left == 0)
			conn_complete(c);
		return;
	}
	if (c->st == ST_BODY) {
		n = read(c->fd, L.discard, DISCARD_BYTES);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0 || n > c->body_left) {
			conn_fail(c);
			return;
		}
		c->body_left -= n;
		L.bytes += (unsigned long long)n;
		if (c->body_left == 0)
			conn_complete(c);
		return;
	}
	if (c->st == ST_EOF) {
		n = read(c->fd, L.discard, DISCARD_BYTES);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n != 0) {
			/* Data after a response that closes, or a reset. */
			if (n > 0 || errno != ECONNRESET) {
				conn_fail(c);
				return;
			}
		}
		conn_drop(c);
		conn_start(c);
	}
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
		conn_write(c);
		return;
	case ST_WRITING:
		conn_write(c);
		return;
	case ST_HEAD:
	case ST_BODY:
	case ST_EOF:
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			conn_read(c);
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

static void
usage(void)
{
	fprintf(stderr, "usage: load [-C] -c CONNS (-d SECONDS | -n REQUESTS) "
	    "[-s STATUS] [-t TIMEOUT] ADDR:PORT PATH\n");
	exit(2);
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
	double			 duration = 0, timeout = 10, elapsed;
	uint64_t		 t0, t_last_sweep, now, t_done;
	unsigned long		 cmin = ULONG_MAX, cmax = 0, starved = 0;
	char			*colon, *endp;
	int			 ch, i, n, wait_ms;

	L.want_status = 200;
	while ((ch = getopt(argc, argv, "Cc:d:n:s:t:")) != -1) {
		switch (ch) {
		case 'C':
			L.close_mode = true;
			break;
		case 'c':
			L.nconns = (int)number(optarg, CONNS_MAX);
			break;
		case 'd':
			duration = strtod(optarg, &endp);
			if (*endp != '\0' || duration <= 0)
				usage();
			break;
		case 'n':
			L.limit = number(optarg, ULONG_MAX / 2);
			break;
		case 's':
			L.want_status = (int)number(optarg, 599);
			break;
		case 't':
			timeout = strtod(optarg, &endp);
			if (*endp != '\0' || timeout <= 0)
				usage();
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || L.nconns == 0 || (duration == 0) == (L.limit == 0) ||
	    argv[1][0] != '/')
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
	n = snprintf(L.req, sizeof(L.req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: tine-bench\r\n%s\r\n", argv[1], argv[0],
	    L.close_mode ? "Connection: close\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(L.req))
		usage();
	L.reqlen = (size_t)n;
	L.timeout_ns = (uint64_t)(timeout * 1e9);

	signal(SIGPIPE, SIG_IGN);
	L.discard = malloc(DISCARD_BYTES);
	L.conns = calloc((size_t)L.nconns, sizeof(*L.conns));
	if (L.discard == NULL || L.conns == NULL) {
		perror("load");
		return 1;
	}
	if ((L.ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("load: epoll_create1");
		return 1;
	}
	t0 = now_ns();
	if (duration > 0)
		L.t_end = t0 + (uint64_t)(duration * 1e9);
	for (i = 0; i < L.nconns; i++) {
		L.conns[i].fd = -1;
		L.conns[i].st = ST_IDLE;
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
		wait_ms = SWEEP_MS;
		if (L.t_end != 0 && (L.t_end - now) / 1000000 < SWEEP_MS)
			wait_ms = (int)((L.t_end - now) / 1000000) + 1;
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
		if (L.conns[i].fd != -1)
			(void)close(L.conns[i].fd);
	}
	printf("requests=%lu errors=%lu starved=%lu conn_min=%lu conn_max=%lu "
	    "p50_us=%.0f p99_us=%.0f elapsed_s=%.3f rps=%.1f bytes=%llu\n",
	    L.done, L.errors, starved, cmin, cmax, hist_percentile(0.50),
	    hist_percentile(0.99), elapsed,
	    elapsed > 0 ? (double)L.done / elapsed : 0, L.bytes);
	return L.done > 0 && L.errors == 0 ? 0 : 3;
}
