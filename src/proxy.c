/*
 * proxy.c: the PROXY protocol header (proxy.h). Version 1 is one line
 * "PROXY TCP4|TCP6|UNKNOWN ..." of at most 107 bytes; version 2 a binary
 * block after a 12-byte signature. Both are read strictly: one space
 * between fields, addresses of the family named, decimal ports without
 * leading zeros, the v2 version nibble 2 and a known command. The
 * header is peeked at and then consumed to its exact length, so the
 * bytes after it stay in the socket for TLS or HTTP.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "proxy.h"

#define PROXY_NAP_MS	10	/* part of a header here: look again after */

static const unsigned char proxy_v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* A port: 1 to 5 digits, no leading zero but "0", at most 65535. */
static int
proxy_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long	 v = 0;
	size_t		 i;

	if (len == 0 || len > 5 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* An address of family af, as inet_pton(3) reads it. */
static int
proxy_addr(int af, const char *s, size_t len, void *out)
{
	char	 tmp[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return inet_pton(af, tmp, out) == 1 ? 0 : -1;
}

/* The next field of a v1 line: up to a space; NULL when empty. */
static const char *
proxy_field(const char **p, const char *end, size_t *len)
{
	const char	*s = *p, *sp;

	if (s >= end)
		return NULL;
	sp = memchr(s, ' ', (size_t)(end - s));
	if (sp == NULL)
		sp = end;
	*len = (size_t)(sp - s);
	*p = sp < end ? sp + 1 : end;
	return *len > 0 ? s : NULL;
}

/* "PROXY TCP4 SRC DST SPORT DPORT" (no CRLF), or "PROXY UNKNOWN...". */
static int
proxy_v1_line(const char *s, size_t len, struct proxy_hdr *h)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&h->src;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&h->src;
	const char		*end = s + len, *f[5];
	unsigned char		 dst[16];
	size_t			 fl[5];
	uint16_t		 sport, dport;
	int			 af, i;

	if (len < 6 || memcmp(s, "PROXY ", 6) != 0)
		return -1;
	s += 6;
	if ((size_t)(end - s) >= 7 && memcmp(s, "UNKNOWN", 7) == 0 &&
	    (s + 7 == end || s[7] == ' ')) {
		/* Whatever follows is to be ignored. */
		h->local = true;
		return 0;
	}
	if ((size_t)(end - s) < 5 || s[4] != ' ')
		return -1;
	if (memcmp(s, "TCP4", 4) == 0)
		af = AF_INET;
	else if (memcmp(s, "TCP6", 4) == 0)
		af = AF_INET6;
	else
		return -1;
	s += 5;
	for (i = 0; i < 5; i++)
		f[i] = proxy_field(&s, end, &fl[i]);
	/* Exactly four fields, each separated by exactly one space. */
	if (f[3] == NULL || f[4] != NULL || f[3] + fl[3] != end)
		return -1;
	if (proxy_port(f[2], fl[2], &sport) == -1 ||
	    proxy_port(f[3], fl[3], &dport) == -1 ||
	    proxy_addr(af, f[1], fl[1], dst) == -1)
		return -1;
	memset(&h->src, 0, sizeof(h->src));
	h->local = false;
	if (af == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(sport);
		if (proxy_addr(af, f[0], fl[0], &sin->sin_addr) == -1)
			return -1;
		h->srclen = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(sport);
		if (proxy_addr(af, f[0], fl[0], &sin6->sin6_addr) == -1)
			return -1;
		h->srclen = sizeof(*sin6);
	}
	return 0;
}

static int
proxy_v1(const unsigned char *buf, size_t len, struct proxy_hdr *h)
{
	const unsigned char	*cr;
	size_t			 n = len < PROXY_V1_MAX_BYTES ? len :
				    PROXY_V1_MAX_BYTES;

	/* Only printable ASCII before the CRLF: a NUL or LF is an error. */
	for (cr = buf; cr < buf + n; cr++) {
		if (*cr == '\r')
			break;
		if (*cr < 0x20 || *cr > 0x7e)
			return -1;
	}
	if (cr + 1 >= buf + n) {
		/* No CRLF yet: within the limit, wait for more. */
		return len < PROXY_V1_MAX_BYTES ? 0 : -1;
	}
	if (cr[1] != '\n')
		return -1;
	if (proxy_v1_line((const char *)buf, (size_t)(cr - buf), h) == -1)
		return -1;
	return (int)(cr - buf) + 2;
}

static int
proxy_v2(const unsigned char *buf, size_t len, struct proxy_hdr *h)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&h->src;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&h->src;
	const unsigned char	*a = buf + PROXY_V2_HEAD_BYTES;
	size_t			 alen, total;
	int			 cmd, fam, proto;

	if (len < PROXY_V2_HEAD_BYTES)
		return 0;
	if ((buf[12] >> 4) != 2)
		return -1;		/* version */
	cmd = buf[12] & 0x0f;
	fam = buf[13] >> 4;
	proto = buf[13] & 0x0f;
	alen = (size_t)buf[14] << 8 | buf[15];
	total = PROXY_V2_HEAD_BYTES + alen;
	if (cmd > 1 || fam > 3 || proto > 2 || total > PROXY_V2_MAX_BYTES)
		return -1;
	if (len < total)
		return 0;
	memset(&h->src, 0, sizeof(h->src));
	h->srclen = 0;
	h->local = true;
	/* LOCAL (health checks), UNSPEC, UNIX or DGRAM: the peer stands. */
	if (cmd == 0 || proto != 1 || (fam != 1 && fam != 2))
		return (int)total;
	if (fam == 1) {
		if (alen < 12)
			return -1;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
		memcpy(&sin->sin_port, a + 8, 2);
		h->srclen = sizeof(*sin);
	} else {
		if (alen < 36)
			return -1;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a, 16);
		memcpy(&sin6->sin6_port, a + 32, 2);
		h->srclen = sizeof(*sin6);
	}
	h->local = false;
	return (int)total;
}

int
proxy_parse(const unsigned char *buf, size_t len, struct proxy_hdr *h)
{
	size_t	 n;

	if (len == 0)
		return 0;
	/* The first bytes tell the version; a prefix of both waits. */
	n = len < sizeof(proxy_v2_sig) ? len : sizeof(proxy_v2_sig);
	if (memcmp(buf, proxy_v2_sig, n) == 0)
		return n < sizeof(proxy_v2_sig) ? 0 : proxy_v2(buf, len, h);
	n = len < 6 ? len : 6;
	if (memcmp(buf, "PROXY ", n) != 0)
		return -1;
	return n < 6 ? 0 : proxy_v1(buf, len, h);
}

/* Waits for input until deadline: 0, or -1 with errno. */
static int
proxy_wait(int fd, int64_t deadline)
{
	struct pollfd	 pfd;
	int64_t		 left;
	int		 n;

	for (;;) {
		left = deadline - util_now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		n = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
		if (n > 0)
			return 0;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

/*
 * PROXY_NAP_MS, or until deadline: 0, or -1 past it (ETIMEDOUT) or when
 * the peer has closed (ECONNRESET): waiting for POLLRDHUP alone, as
 * the bytes peeked at keep POLLIN set.
 */
static int
proxy_nap(int fd, int64_t deadline)
{
	struct pollfd	 pfd;

	if (util_now_ms() >= deadline) {
		errno = ETIMEDOUT;
		return -1;
	}
	pfd.fd = fd;
	pfd.events = POLLRDHUP;
	if (poll(&pfd, 1, PROXY_NAP_MS) == 1 &&
	    (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
		errno = ECONNRESET;
		return -1;
	}
	return 0;
}

int
proxy_read(int fd, int64_t deadline, struct proxy_hdr *h)
{
	unsigned char	 buf[PROXY_V2_MAX_BYTES];
	ssize_t		 n, got;
	int		 len;

	for (;;) {
		/*
		 * Peeked, so that nothing after the header is taken. With
		 * nothing there, poll() waits; with part of a header there,
		 * poll() would return at once, so the wait is a short sleep
		 * (a header comes in one segment from a balancer).
		 */
		n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n > 0) {
			if ((len = proxy_parse(buf, (size_t)n, h)) == -1) {
				errno = EPROTO;
				return -1;
			}
			if (len > 0)
				break;
		}
		if (n <= 0 ? proxy_wait(fd, deadline) == -1 :
		    proxy_nap(fd, deadline) == -1)
			return -1;
	}
	/* Consumed to its exact length: it is in the socket, whole. */
	for (got = 0; got < len; got += n) {
		n = recv(fd, buf, (size_t)(len - got), MSG_DONTWAIT);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			if (n == 0)
				errno = ECONNRESET;
			return -1;
		}
	}
	return 0;
}
