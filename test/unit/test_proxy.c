/*
 * test_proxy.c: proxy_parse() on version 1 lines and version 2 blocks:
 * what is taken (with its length and the client address it carries),
 * what needs more bytes, and what is refused; and proxy_read() on a
 * socket pair, which consumes the header and not a byte more.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>

#include "unit.h"
#include "../../src/proxy.c"

/* The address a header gave, as text ("-" for the connection's own). */
static void
show(const struct proxy_hdr *h, char *buf, size_t size)
{
	const struct sockaddr_in	*sin = (const void *)&h->src;
	const struct sockaddr_in6	*sin6 = (const void *)&h->src;
	char				 a[INET6_ADDRSTRLEN];

	if (h->local)
		(void)snprintf(buf, size, "-");
	else if (h->src.ss_family == AF_INET)
		(void)snprintf(buf, size, "%s:%u", inet_ntop(AF_INET,
		    &sin->sin_addr, a, sizeof(a)), ntohs(sin->sin_port));
	else
		(void)snprintf(buf, size, "[%s]:%u", inet_ntop(AF_INET6,
		    &sin6->sin6_addr, a, sizeof(a)), ntohs(sin6->sin6_port));
}

static const struct {
	const char	*in;
	int		 want;		/* length, 0 more, -1 refused */
	const char	*addr;		/* when taken */
} v1[] = {
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET", 45,
	    "192.0.2.1:56324" },
	{ "PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n", 44,
	    "[2001:db8::1]:1" },
	{ "PROXY TCP4 10.0.0.1 10.0.0.2 0 0\r\n", 34, "10.0.0.1:0" },
	{ "PROXY UNKNOWN\r\n", 15, "-" },
	{ "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n",
	    59, "-" },
	/* Not yet whole. */
	{ "", 0, NULL },
	{ "PRO", 0, NULL },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443", 0, NULL },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r", 0, NULL },
	/* Refused. */
	{ "GET / HTTP/1.1\r\n", -1, NULL },
	{ "proxy TCP4 192.0.2.1 198.51.100.2 1 2\r\n", -1, NULL },
	{ "PROXY TCP4 2001:db8::1 2001:db8::2 1 2\r\n", -1, NULL },
	{ "PROXY TCP6 192.0.2.1 198.51.100.2 1 2\r\n", -1, NULL },
	{ "PROXY TCP4 192.0.2.1  198.51.100.2 1 2\r\n", -1, NULL },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 1 2 \r\n", -1, NULL },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 1\r\n", -1, NULL },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 65536 2\r\n", -1, NULL },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 01 2\r\n", -1, NULL },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 -1 2\r\n", -1, NULL },
	{ "PROXY TCP4 192.0.2.256 198.51.100.2 1 2\r\n", -1, NULL },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n", -1, NULL },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\rX", -1, NULL },
	{ "PROXY UDP4 192.0.2.1 198.51.100.2 1 2\r\n", -1, NULL },
	{ "PROXY UNKNOWNX\r\n", -1, NULL },
	{ "PROXY \r\n", -1, NULL },
	{ "PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n", -1, NULL },
};

/* A v2 header: command, family byte, address block of alen bytes. */
static size_t
v2(unsigned char *b, int cmd, int fam, const unsigned char *addr,
    size_t alen)
{
	static const unsigned char sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00,
	    0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

	memcpy(b, sig, 12);
	b[12] = (unsigned char)(0x20 | cmd);
	b[13] = (unsigned char)fam;
	b[14] = (unsigned char)(alen >> 8);
	b[15] = (unsigned char)(alen & 0xff);
	if (alen > 0 && addr != NULL)
		memcpy(b + 16, addr, alen);
	return 16 + alen;
}

static void
check(const unsigned char *b, size_t len, int want, const char *addr,
    const char *name)
{
	struct proxy_hdr	 h;
	char			 got[80], shown[128];
	size_t			 i;
	int			 n;

	/* Control bytes in the name would break the TAP line. */
	for (i = 0; name[i] != '\0' && i < sizeof(shown) - 1; i++)
		shown[i] = name[i] < 0x20 ? '.' : name[i];
	shown[i] = '\0';
	memset(&h, 0, sizeof(h));
	n = proxy_parse(b, len, &h);
	if (n > 0)
		show(&h, got, sizeof(got));
	else
		(void)snprintf(got, sizeof(got), "(none)");
	unit_check(n == want && (n <= 0 || strcmp(got, addr) == 0),
	    "%s -> %d %s", shown, n, got);
}

static void
test_v2(void)
{
	unsigned char	 b[PROXY_V2_MAX_BYTES + 64], a[256];
	size_t		 n;

	memset(a, 0, sizeof(a));
	/* 192.0.2.1 -> 198.51.100.2, 56324 -> 443. */
	a[0] = 192; a[1] = 0; a[2] = 2; a[3] = 1;
	a[4] = 198; a[5] = 51; a[6] = 100; a[7] = 2;
	a[8] = 0xdc; a[9] = 0x04; a[10] = 0x01; a[11] = 0xbb;
	n = v2(b, 1, 0x11, a, 12);
	check(b, n, 28, "192.0.2.1:56324", "v2 PROXY TCP4");
	check(b, n - 1, 0, NULL, "v2 PROXY TCP4 cut short");
	check(b, 11, 0, NULL, "v2 signature cut short");
	/* With TLVs after the addresses (a balancer's). */
	n = v2(b, 1, 0x11, a, 40);
	check(b, n, 56, "192.0.2.1:56324", "v2 TCP4 with TLVs");
	memset(a, 0, sizeof(a));
	a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8; a[15] = 1;
	a[32] = 0x1f; a[33] = 0x90;
	n = v2(b, 1, 0x21, a, 36);
	check(b, n, 52, "[2001:db8::1]:8080", "v2 PROXY TCP6");
	check(b, v2(b, 1, 0x21, a, 35), -1, NULL, "v2 TCP6, 35 bytes");
	check(b, v2(b, 1, 0x11, a, 11), -1, NULL, "v2 TCP4, 11 bytes");
	check(b, v2(b, 0, 0x00, NULL, 0), 16, "-", "v2 LOCAL");
	check(b, v2(b, 0, 0x11, a, 12), 28, "-", "v2 LOCAL with addresses");
	check(b, v2(b, 1, 0x00, NULL, 0), 16, "-", "v2 PROXY UNSPEC");
	check(b, v2(b, 1, 0x12, a, 12), 28, "-", "v2 PROXY UDP4");
	check(b, v2(b, 1, 0x31, a, 216), 232, "-", "v2 PROXY UNIX");
	check(b, v2(b, 2, 0x11, a, 12), -1, NULL, "v2 command 2");
	check(b, v2(b, 1, 0x41, a, 12), -1, NULL, "v2 family 4");
	check(b, v2(b, 1, 0x13, a, 12), -1, NULL, "v2 protocol 3");
	n = v2(b, 1, 0x11, a, 12);
	b[12] = 0x11;
	check(b, n, -1, NULL, "v2 version 1");
	n = v2(b, 1, 0x00, NULL, PROXY_V2_MAX_BYTES - 16);
	check(b, n, PROXY_V2_MAX_BYTES, "-", "v2 at the size limit");
	b[15]++;
	check(b, 16, -1, NULL, "v2 over the size limit, refused at once");
	b[14] = 0xff;
	b[15] = 0xff;
	check(b, 16, -1, NULL, "v2 of 64 KiB");
	b[5] = 'X';
	check(b, 16, -1, NULL, "v2 bad signature");
}

/* The header is consumed; what follows stays for TLS or HTTP. */
static void
test_read(void)
{
	struct proxy_hdr	 h;
	char			 rest[64];
	const char		*msg = "PROXY TCP4 192.0.2.9 10.0.0.1 4000 80\r\n"
				    "GET / HTTP/1.1\r\n";
	int			 sv[2];
	ssize_t			 n;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	if (write(sv[1], msg, strlen(msg)) != (ssize_t)strlen(msg))
		abort();
	unit_check(proxy_read(sv[0], util_now_ms() + 1000, &h) == 0 &&
	    !h.local, "proxy_read takes a v1 header");
	n = read(sv[0], rest, sizeof(rest) - 1);
	rest[n > 0 ? n : 0] = '\0';
	unit_check(strcmp(rest, "GET / HTTP/1.1\r\n") == 0,
	    "proxy_read leaves the request after it");
	if (write(sv[1], "PROXY TCP4 1.2.3", 16) != 16)
		abort();
	errno = 0;
	unit_check(proxy_read(sv[0], util_now_ms() + 100, &h) == -1 &&
	    errno == ETIMEDOUT, "a header not finished in time: ETIMEDOUT");
	(void)close(sv[1]);
	unit_check(proxy_read(sv[0], util_now_ms() + 1000, &h) == -1,
	    "a close before the header is whole: refused");
	(void)close(sv[0]);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	if (write(sv[1], "GET / HTTP/1.1\r\n\r\n", 18) != 18)
		abort();
	errno = 0;
	unit_check(proxy_read(sv[0], util_now_ms() + 1000, &h) == -1 &&
	    errno == EPROTO, "a request without a header: EPROTO");
	(void)close(sv[0]);
	(void)close(sv[1]);
}

int
main(void)
{
	size_t	 i;

	for (i = 0; i < nitems(v1); i++)
		check((const unsigned char *)v1[i].in, strlen(v1[i].in),
		    v1[i].want, v1[i].addr, v1[i].in);
	test_v2();
	test_read();
	return unit_done();
}
