/*
 * rawreq.c: test client that sends exact request bytes to a loopback port
 * and writes exactly the bytes it receives to stdout, or with -c a summary
 * of the HTTP responses found in them. Owns one socket; every wait is
 * bounded by the total timeout, and it never rewrites the bytes it sends.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/*
 * Exit statuses; the Bats suite asserts them with `run -N`. EOF is the
 * normal end: the server answered and closed.
 */
enum rawreq_exit {
	RAWREQ_EOF = 0,		/* peer closed the connection */
	RAWREQ_ERROR = 1,	/* local failure: stdin, memory, stdout */
	RAWREQ_USAGE = 2,
	RAWREQ_OPEN = 3,	/* stopped by -t or -n, connection still open */
	RAWREQ_CONNECT = 4,	/* connect failed or timed out */
	RAWREQ_RESET = 5,	/* ECONNRESET while sending or reading */
	RAWREQ_LIMIT = 6	/* -r read limit reached; we closed */
};

#define INPUT_MAX_BYTES		(64 * 1024 * 1024)
#define INPUT_CHUNK_BYTES	4096
#define TIMEOUT_DEFAULT_MS	5000
#define TIMEOUT_MAX_MS		(10 * 60 * 1000)
#define SLOW_TICK_MS		100
/* With -R the kernel buffer must be small or it would read for us. */
#define SLOW_RCVBUF_BYTES	4096
#define READ_CHUNK_BYTES	65536
#define HEAD_MAX_BYTES		65536
#define STATUS_MAX_COUNT	100000
#define STATUS_INITIAL_COUNT	16
/* After the -n'th response, how long a close may take to show as EOF. */
#define STOP_GRACE_MS		200

enum parse_state {
	PARSE_HEAD,		/* collecting a status line and header fields */
	PARSE_BODY,		/* Content-Length bytes still to come */
	PARSE_BODY_EOF,		/* no framing: the body runs to the close */
	PARSE_ERROR		/* not HTTP; nothing more is counted */
};

/*
 * Streaming response parser: it keeps the head only, so a multi-gigabyte
 * body costs no memory. Just enough HTTP/1.1 framing (RFC 9112 section 6.3)
 * to count responses; it does not validate them.
 */
struct parser {
	char		 head[HEAD_MAX_BYTES];
	size_t		 head_len;
	enum parse_state state;
	uint64_t	 body_left;
	int		 status;
	int		 head_only;	/* -m: every response answers a HEAD */
	int		*statuses;
	size_t		 nstatuses;
	size_t		 cap;
};

struct options {
	int		 family;
	const char	*host;
	int		 port;
	size_t		 slice;
	int64_t		 delay_ms;
	int64_t		 wait_ms;
	int64_t		 timeout_ms;
	int		 half_close;
	int		 count;
	int		 head_only;
	uint64_t	 read_limit;
	size_t		 slow_bytes;
	long long	 stop_after;
	const char	*escaped;
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: rawreq [-4|-6] [-cHm] [-h host] -p port "
	    "[-s slice_bytes] [-d delay_ms]\n"
	    "              [-w wait_ms] [-t total_timeout_ms] "
	    "[-r read_limit] [-R bytes_per_100ms]\n"
	    "              [-n responses] [-e escaped_request]\n");
	exit(RAWREQ_USAGE);
}

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(RAWREQ_ERROR, "clock_gettime");
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes the -e argument: \r \n \t \0 \xHH \\ and \" are the only
 * escapes, so a typo fails loudly instead of sending something else.
 */
static char *
unescape(const char *s, size_t *lenp)
{
	char	*out;
	size_t	 n = 0;
	int	 hi, lo;

	if ((out = malloc(strlen(s) + 1)) == NULL)
		err(RAWREQ_ERROR, "malloc");
	while (*s != '\0') {
		if (*s != '\\') {
			out[n++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'r':
			out[n++] = '\r';
			break;
		case 'n':
			out[n++] = '\n';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case '0':
			out[n++] = '\0';
			break;
		case '\\':
			out[n++] = '\\';
			break;
		case '"':
			out[n++] = '"';
			break;
		case 'x':
			if ((hi = hex_value(s[1])) == -1 ||
			    (lo = hex_value(s[2])) == -1)
				errx(RAWREQ_USAGE,
				    "-e: \\x needs two hex digits");
			out[n++] = (char)(hi << 4 | lo);
			s += 2;
			break;
		default:
			errx(RAWREQ_USAGE, "-e: unknown escape \\%c", *s);
		}
		s++;
	}
	*lenp = n;
	return out;
}

/* Reads stdin to EOF; bounded by the deadline so a forgotten </dev/null
 * cannot hang a test. */
static char *
read_input(size_t *lenp, int64_t deadline)
{
	struct pollfd	 pfd;
	char		*buf = NULL, *nbuf;
	size_t		 len = 0, cap = 0;
	ssize_t		 n;
	int64_t		 left;

	for (;;) {
		if (len == cap) {
			if (cap >= INPUT_MAX_BYTES)
				errx(RAWREQ_ERROR, "stdin: more than %d bytes",
				    INPUT_MAX_BYTES);
			cap = cap == 0 ? INPUT_CHUNK_BYTES : cap * 2;
			if ((nbuf = realloc(buf, cap)) == NULL)
				err(RAWREQ_ERROR, "realloc");
			buf = nbuf;
		}
		if ((left = deadline - now_ms()) <= 0)
			errx(RAWREQ_ERROR, "stdin: no EOF before the timeout");
		pfd.fd = STDIN_FILENO;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			err(RAWREQ_ERROR, "poll");
		}
		if (pfd.revents == 0)
			continue;
		if ((n = read(STDIN_FILENO, buf + len, cap - len)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			err(RAWREQ_ERROR, "stdin");
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*lenp = len;
	return buf;
}

static void
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			err(RAWREQ_ERROR, "stdout");
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Returns a connected nonblocking socket, or -1 after saying why. */
static int
connect_peer(const struct options *o, int64_t deadline)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct pollfd		 pfd;
	socklen_t		 sslen, errlen;
	int			 fd = -1, error, rcvbuf, on = 1, r;
	int64_t			 left;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, o->host, &sin->sin_addr) == 1 &&
	    o->family != AF_INET6) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)o->port);
		sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, o->host, &sin6->sin6_addr) == 1 &&
	    o->family != AF_INET) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)o->port);
		sslen = sizeof(*sin6);
	} else
		errx(RAWREQ_USAGE, "-h %s: not a literal address of the "
		    "requested family", o->host);

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		warn("socket");
		goto fail;
	}
	/* Each slice leaves as its own segment, not merged by Nagle. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1) {
		warn("TCP_NODELAY");
		goto fail;
	}
	if (o->slow_bytes > 0) {
		rcvbuf = SLOW_RCVBUF_BYTES;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf)) == -1) {
			warn("SO_RCVBUF");
			goto fail;
		}
	}
	if (connect(fd, (struct sockaddr *)&ss, sslen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		warn("connect %s port %d", o->host, o->port);
		goto fail;
	}
	for (;;) {
		if ((left = deadline - now_ms()) <= 0) {
			warnx("connect %s port %d: timed out", o->host,
			    o->port);
			goto fail;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if ((r = poll(&pfd, 1, (int)left)) == -1 && errno != EINTR) {
			warn("poll");
			goto fail;
		}
		if (r > 0)
			break;
	}
	errlen = sizeof(error);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &errlen) == -1) {
		warn("SO_ERROR");
		goto fail;
	}
	if (error != 0) {
		errno = error;
		warn("connect %s port %d", o->host, o->port);
		goto fail;
	}
	return fd;
fail:
	if (fd != -1)
		(void)close(fd);	/* nothing left to report */
	return -1;
}

/* 1*DIGIT with the overflow checked before each multiply; no sign, no
 * space (the value has been trimmed of OWS by the caller). */
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

static void
parser_record(struct parser *p)
{
	int	*n;

	if (p->nstatuses == STATUS_MAX_COUNT)
		errx(RAWREQ_ERROR, "more than %d responses", STATUS_MAX_COUNT);
	if (p->nstatuses == p->cap) {
		p->cap = p->cap == 0 ? STATUS_INITIAL_COUNT : p->cap * 2;
		if ((n = reallocarray(p->statuses, p->cap, sizeof(*n))) ==
		    NULL)
			err(RAWREQ_ERROR, "reallocarray");
		p->statuses = n;
	}
	p->statuses[p->nstatuses++] = p->status;
	p->state = PARSE_HEAD;
	p->head_len = 0;
}

/*
 * Interprets a complete head (terminated by CRLF CRLF). Sets the body
 * framing; a response with no body is recorded at once.
 */
static void
parser_head(struct parser *p)
{
	const char	*line, *end, *colon, *v, *ve, *limit;
	uint64_t	 length = 0;
	int		 have_length = 0, chunked = 0;

	limit = p->head + p->head_len;
	if (p->head_len < 16 || memcmp(p->head, "HTTP/", 5) != 0 ||
	    p->head[5] < '0' || p->head[5] > '9' || p->head[6] != '.' ||
	    p->head[7] < '0' || p->head[7] > '9' || p->head[8] != ' ' ||
	    p->head[9] < '1' || p->head[9] > '5' ||
	    p->head[10] < '0' || p->head[10] > '9' ||
	    p->head[11] < '0' || p->head[11] > '9') {
		p->state = PARSE_ERROR;
		return;
	}
	p->status = (p->head[9] - '0') * 100 + (p->head[10] - '0') * 10 +
	    (p->head[11] - '0');

	if (p->head[12] != ' ' && p->head[12] != '\r') {
		p->state = PARSE_ERROR;
		return;
	}
	/* The head ends in CRLF CRLF, so the status line has its LF. */
	line = (const char *)memchr(p->head, '\n', p->head_len) + 1;
	while (line < limit) {
		end = memchr(line, '\n', (size_t)(limit - line));
		if (end == NULL)
			break;
		ve = end > line && end[-1] == '\r' ? end - 1 : end;
		if (ve == line)
			break;		/* the empty line that ends the head */
		colon = memchr(line, ':', (size_t)(ve - line));
		if (colon != NULL) {
			for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t');
			    v++)
				;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (field_is(line, (size_t)(colon - line),
			    "content-length")) {
				if (parse_length(v, (size_t)(ve - v),
				    &length) == -1) {
					p->state = PARSE_ERROR;
					return;
				}
				have_length = 1;
			} else if (field_is(line, (size_t)(colon - line),
			    "transfer-encoding"))
				chunked = 1;
		}
		line = end + 1;
	}

	if (p->head_only || p->status / 100 == 1 || p->status == 204 ||
	    p->status == 304)
		parser_record(p);
	else if (chunked || !have_length)
		p->state = PARSE_BODY_EOF;	/* RFC 9112 6.3 rule 7/8 */
	else if (length == 0)
		parser_record(p);
	else {
		p->body_left = length;
		p->state = PARSE_BODY;
	}
}

/* Feeds received bytes through the parser, recording each response. */
static void
parser_feed(struct parser *p, const char *buf, size_t len)
{
	size_t	 take, from, i;

	while (len > 0) {
		switch (p->state) {
		case PARSE_HEAD:
			from = p->head_len > 3 ? p->head_len - 3 : 0;
			take = sizeof(p->head) - p->head_len;
			if (take == 0) {
				p->state = PARSE_ERROR;
				break;
			}
			if (take > len)
				take = len;
			memcpy(p->head + p->head_len, buf, take);
			p->head_len += take;
			for (i = from; i + 4 <= p->head_len; i++)
				if (memcmp(p->head + i, "\r\n\r\n", 4) == 0)
					break;
			if (i + 4 > p->head_len) {
				buf += take;
				len -= take;
				break;
			}
			/* Give back what lies past the head. */
			take -= p->head_len - (i + 4);
			p->head_len = i + 4;
			buf += take;
			len -= take;
			parser_head(p);
			break;
		case PARSE_BODY:
			take = len < p->body_left ? len : (size_t)p->body_left;
			p->body_left -= take;
			buf += take;
			len -= take;
			if (p->body_left == 0)
				parser_record(p);
			break;
		case PARSE_BODY_EOF:
		case PARSE_ERROR:
			return;
		}
	}
}

static void
parse_options(int argc, char *argv[], struct options *o)
{
	int	 ch;

	memset(o, 0, sizeof(*o));
	o->family = AF_UNSPEC;
	o->port = -1;
	o->timeout_ms = TIMEOUT_DEFAULT_MS;
	while ((ch = getopt(argc, argv, "46cd:e:Hh:mn:p:R:r:s:t:w:")) != -1) {
		switch (ch) {
		case '4':
			o->family = AF_INET;
			break;
		case '6':
			o->family = AF_INET6;
			break;
		case 'c':
			o->count = 1;
			break;
		case 'd':
			o->delay_ms = number(optarg, 0, TIMEOUT_MAX_MS, "-d");
			break;
		case 'e':
			o->escaped = optarg;
			break;
		case 'H':
			o->half_close = 1;
			break;
		case 'h':
			o->host = optarg;
			break;
		case 'm':
			o->head_only = 1;
			break;
		case 'n':
			o->stop_after = number(optarg, 1, STATUS_MAX_COUNT,
			    "-n");
			break;
		case 'p':
			o->port = (int)number(optarg, 1, 65535, "-p");
			break;
		case 'R':
			o->slow_bytes = (size_t)number(optarg, 1,
			    READ_CHUNK_BYTES, "-R");
			break;
		case 'r':
			o->read_limit = (uint64_t)number(optarg, 1, LLONG_MAX,
			    "-r");
			break;
		case 's':
			o->slice = (size_t)number(optarg, 1, INPUT_MAX_BYTES,
			    "-s");
			break;
		case 't':
			o->timeout_ms = number(optarg, 1, TIMEOUT_MAX_MS, "-t");
			break;
		case 'w':
			o->wait_ms = number(optarg, 0, TIMEOUT_MAX_MS, "-w");
			break;
		default:
			usage();
		}
	}
	if (optind != argc || o->port == -1)
		usage();
	if (o->host == NULL)
		o->host = o->family == AF_INET6 ? "::1" : "127.0.0.1";
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

int
main(int argc, char *argv[])
{
	struct options	 o;
	struct parser	*p = NULL;
	struct pollfd	 pfd;
	char		*req, buf[READ_CHUNK_BYTES];
	size_t		 req_len, sent = 0, slice_left, want;
	uint64_t	 received = 0;
	int64_t		 start, deadline, now, next_send = 0, read_from = 0;
	int64_t		 next_read = 0, stop_at = -1, timeout;
	ssize_t		 n;
	size_t		 i;
	int		 fd, sending, closed = 0, reset = 0, limited = 0;
	int		 parse, can_read, r;
	enum rawreq_exit status;

	parse_options(argc, argv, &o);
	start = now_ms();
	deadline = start + o.timeout_ms;
	if (o.escaped != NULL)
		req = unescape(o.escaped, &req_len);
	else
		req = read_input(&req_len, deadline);

	parse = o.count || o.stop_after > 0;
	if (parse) {
		if ((p = calloc(1, sizeof(*p))) == NULL)
			err(RAWREQ_ERROR, "calloc");
		p->head_only = o.head_only;
	}

	if ((fd = connect_peer(&o, deadline)) == -1) {
		status = RAWREQ_CONNECT;
		goto done;
	}

	/*
	 * One poll loop: send the slices on their schedule and read
	 * whatever arrives meanwhile (a server may answer 400 and close
	 * mid-trickle), except with -w, which holds every read back until
	 * the wait after the last byte has passed.
	 */
	sending = 1;
	slice_left = o.slice > 0 ? o.slice : req_len;
	for (;;) {
		now = now_ms();
		if (sending && sent == req_len) {
			sending = 0;
			if (o.half_close && shutdown(fd, SHUT_WR) == -1 &&
			    errno != ENOTCONN)
				err(RAWREQ_ERROR, "shutdown");
			read_from = now + o.wait_ms;
		}
		if (now >= deadline || (stop_at != -1 && now >= stop_at))
			break;
		timeout = deadline - now;
		if (stop_at != -1)
			timeout = min64(timeout, stop_at - now);
		pfd.fd = fd;
		pfd.events = 0;
		if (sending) {
			if (now >= next_send)
				pfd.events |= POLLOUT;
			else
				timeout = min64(timeout, next_send - now);
		}
		can_read = o.wait_ms == 0 || (!sending && now >= read_from);
		if (!can_read && !sending)
			timeout = min64(timeout, read_from - now);
		if (can_read) {
			if (now >= next_read)
				pfd.events |= POLLIN;
			else
				timeout = min64(timeout, next_read - now);
		}
		/* A negative fd waits without polling, so a hung-up socket
		 * cannot spin the loop while reads are held back. */
		if (pfd.events == 0)
			pfd.fd = -1;
		if ((r = poll(&pfd, 1, (int)timeout)) == -1) {
			if (errno == EINTR)
				continue;
			err(RAWREQ_ERROR, "poll");
		}
		if (r == 0)
			continue;

		if (sending && (pfd.revents & (POLLOUT | POLLERR | POLLHUP))) {
			want = min64((int64_t)slice_left,
			    (int64_t)(req_len - sent));
			n = send(fd, req + sent, want, MSG_NOSIGNAL);
			if (n == -1 &&
			    (errno == ECONNRESET || errno == EPIPE)) {
				/*
				 * The peer closed or reset. What it sent
				 * before that is still queued: read it. After
				 * a reset the queue ends in EOF, not an error.
				 */
				if (errno == ECONNRESET)
					reset = 1;
				sending = 0;
				read_from = now;
				o.wait_ms = 0;
			} else if (n == -1 && errno != EAGAIN &&
			    errno != EINTR)
				err(RAWREQ_ERROR, "send");
			else if (n > 0) {
				sent += (size_t)n;
				slice_left -= (size_t)n;
				if (slice_left == 0) {
					slice_left = o.slice > 0 ? o.slice :
					    req_len;
					next_send = now_ms() + o.delay_ms;
				}
			}
		}

		if (can_read && (pfd.revents & (POLLIN | POLLERR | POLLHUP))) {
			want = sizeof(buf);
			if (o.slow_bytes > 0 && want > o.slow_bytes)
				want = o.slow_bytes;
			if (o.read_limit > 0 && want > o.read_limit - received)
				want = o.read_limit - received;
			n = recv(fd, buf, want, 0);
			if (n == -1 && errno == ECONNRESET) {
				reset = 1;
				break;
			} else if (n == -1 && errno != EAGAIN &&
			    errno != EINTR)
				err(RAWREQ_ERROR, "recv");
			else if (n == 0) {
				closed = 1;
				break;
			} else if (n > 0) {
				received += (uint64_t)n;
				if (!o.count)
					write_all(STDOUT_FILENO, buf,
					    (size_t)n);
				if (parse) {
					parser_feed(p, buf, (size_t)n);
					if (o.stop_after > 0 && stop_at == -1 &&
					    (long long)p->nstatuses >=
					    o.stop_after)
						stop_at = min64(deadline,
						    now_ms() + STOP_GRACE_MS);
				}
				if (o.slow_bytes > 0)
					next_read = now_ms() + SLOW_TICK_MS;
				if (o.read_limit > 0 &&
				    received == o.read_limit) {
					limited = 1;
					break;
				}
			}
		}
	}

	if (reset || closed) {
		if (parse && p->state == PARSE_BODY_EOF)
			parser_record(p);
	}
	if (o.count) {
		printf("responses=%zu statuses=", p->nstatuses);
		for (i = 0; i < p->nstatuses; i++)
			printf("%s%d", i > 0 ? "," : "", p->statuses[i]);
		printf(" closed=%d\n", reset || closed);
		if (fflush(stdout) == EOF)
			err(RAWREQ_ERROR, "stdout");
	}
	if (reset) {
		fprintf(stderr, "reset\n");
		status = RAWREQ_RESET;
	} else if (closed)
		status = RAWREQ_EOF;
	else if (limited)
		status = RAWREQ_LIMIT;
	else
		status = RAWREQ_OPEN;
	(void)close(fd);	/* exiting; the status says it all */
done:
	if (p != NULL)
		free(p->statuses);
	free(p);
	free(req);
	return status;
}
