/*
 * test_http.c: table-driven unit tests for http.c, which it includes to
 * reach the static helpers. Every input is copied into a heap buffer of
 * its exact length so ASan catches any read past the end.
 */

#include <stdarg.h>	/* unit.h uses va_list without including it */
#include <stdlib.h>

#include "unit.h"
#include "../../src/http.c"

/* A literal with its explicit length, so NUL bytes survive. */
#define S(lit)		lit, sizeof(lit) - 1

#define ETAG		"\"abc\""
#define MTIME		((time_t)784111777)	/* Sun, 06 Nov 1994 08:49:37 */
#define D_EQ		"Sun, 06 Nov 1994 08:49:37 GMT"
#define D_OLD		"Sat, 05 Nov 1994 08:49:37 GMT"
#define D_NEW		"Mon, 07 Nov 1994 08:49:37 GMT"

static unsigned test_seed = 12345;

static unsigned
test_rand(void)
{
	test_seed = test_seed * 1103515245 + 12345;
	return (test_seed >> 16) & 0x7fff;
}

static char *
test_copy(const char *p, size_t n)
{
	char *c;

	if ((c = malloc(n > 0 ? n : 1)) == NULL) {
		perror("malloc");
		exit(2);
	}
	memcpy(c, p, n);
	return c;
}

static bool
str_is(struct http_str s, const char *want)
{
	if (want == NULL)
		return s.p == NULL;
	return s.p != NULL && s.len == strlen(want) &&
	    memcmp(s.p, want, s.len) == 0;
}

/* ---- http_scan_head ---- */

/*
 * Feeds in[0..len) in steps: 0 all at once, 1 byte by byte, 2 random.
 * Returns what the scanner returned when it stopped.
 */
static int
scan_feed(const char *in, size_t len, size_t max, int mode, size_t *hl)
{
	struct http_scan scan;
	size_t have = 0, step;
	int r;

	memset(&scan, 0, sizeof(scan));
	*hl = 0;
	for (;;) {
		step = mode == 0 ? len : mode == 1 ? 1 : 1 + test_rand() % 7;
		have = have + step > len ? len : have + step;
		r = http_scan_head(&scan, in, have, max, hl);
		if (r != 0 || have == len)
			return r;
	}
}

struct scan_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	size_t		 max;
	int		 ret;
	size_t		 head_len;
};

/* HEAD is the head; REST follows it in the same buffer. */
#define SC(name, head, rest, max, ret)					\
	{ name, head rest, sizeof(head rest) - 1, max, ret,		\
	    (ret) == 1 ? sizeof(head) - 1 : 0 }

static const struct scan_case scan_cases[] = {
	SC("crlf", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "", 8192, 1),
	SC("lf only", "GET / HTTP/1.1\nHost: a\n\n", "", 8192, 1),
	SC("mixed endings", "GET / HTTP/1.1\r\nHost: a\n\r\n", "", 8192, 1),
	SC("request line only", "GET / HTTP/1.0\r\n\r\n", "", 8192, 1),
	SC("leading crlf", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "",
	    8192, 1),
	SC("leading lf", "\n\nGET / HTTP/1.0\n\n", "", 8192, 1),
	SC("leading mixed", "\n\r\n\nGET / HTTP/1.0\r\n\n", "", 8192, 1),
	SC("pipelined", "GET /a HTTP/1.1\r\nHost: a\r\n\r\n",
	    "GET /b HTTP/1.1\r\nHost: a\r\n\r\n", 8192, 1),
	SC("body after head not scanned", "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 3\r\n\r\n", "\0\r\0", 8192, 1),
	SC("incomplete", "GET / HTTP/1.1\r\nHost: a\r\n", "", 8192, 0),
	SC("incomplete after cr", "GET / HTTP/1.1\r\nHost: a\r\n\r", "",
	    8192, 0),
	SC("empty lines only", "\r\n\r\n\n", "", 8192, 0),
	SC("empty input", "", "", 8192, 0),
	SC("nul in line", "GET /\0 HTTP/1.1\r\n\r\n", "", 8192, 400),
	SC("nul in field", "GET / HTTP/1.1\r\nA: \0\r\n\r\n", "", 8192, 400),
	SC("bare cr in line", "GET / HTTP/1.1\rHost: a\r\n\r\n", "", 8192,
	    400),
	SC("bare cr at end of head", "GET / HTTP/1.1\r\n\r\r\n", "", 8192,
	    400),
	SC("bare cr in leading line", "\r\rGET / HTTP/1.1\r\n\r\n", "", 8192,
	    400),
	SC("cr cr lf", "GET / HTTP/1.1\r\r\n\r\n", "", 8192, 400),
	SC("no lf within max", "GET /aaaaaaaaaaaaaaaaaaaa", "", 16, 414),
	SC("head over max", "GET / HTTP/1.1\r\nHost: aaaaaaaaaa\r\n\r\n", "",
	    20, 431),
	SC("leading lines count to max", "\r\n\r\n\r\n\r\nGET / HTTP/1.1",
	    "", 10, 414),
};

static void
test_scan(void)
{
	const struct scan_case *c;
	size_t i, hl, hl1, hl2;
	int r, r1, r2, k;
	char *in;
	bool same;

	for (i = 0; i < nitems(scan_cases); i++) {
		c = &scan_cases[i];
		in = test_copy(c->in, c->len);
		r = scan_feed(in, c->len, c->max, 0, &hl);
		unit_check(r == c->ret && (r != 1 || hl == c->head_len),
		    "scan %s: %d/%zu (want %d/%zu)", c->name, r, hl, c->ret,
		    c->head_len);
		r1 = scan_feed(in, c->len, c->max, 1, &hl1);
		same = r1 == r && (r != 1 || hl1 == hl);
		for (k = 0; k < 20 && same; k++) {
			r2 = scan_feed(in, c->len, c->max, 2, &hl2);
			same = r2 == r && (r != 1 || hl2 == hl);
		}
		unit_check(same, "scan %s: byte-by-byte and random splits "
		    "agree (%d/%zu vs %d/%zu)", c->name, r1, hl1, r, hl);
		free(in);
	}
}

/*
 * Limits: a head of exactly max bytes fits, max + 1 does not; a request
 * line without LF in max bytes is 414, a longer head 431.
 */
static void
test_scan_limits(void)
{
	char buf[600], *in;
	size_t max = 256, hl, n;
	struct http_request req;
	int r;

	/* Request line exactly max bytes with its CRLF, then CRLF. */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /", 5);
	n = max - 2 - 2;		/* line + CRLF + CRLF = max */
	memcpy(buf + n - 9, " HTTP/1.0", 9);
	memcpy(buf + n, "\r\n\r\n", 4);
	in = test_copy(buf, max);
	r = scan_feed(in, max, max, 0, &hl);
	unit_check(r == 1 && hl == max, "limit: head of exactly max: %d/%zu",
	    r, hl);
	r = scan_feed(in, max, max, 1, &hl);
	unit_check(r == 1 && hl == max, "limit: exactly max, byte by byte");
	r = http_parse_head(in, max, &req);
	unit_check(r == 0 && req.head_len == max && req.path.len == n - 13,
	    "limit: exactly max parses: %d", r);
	free(in);

	/* One more byte in the request line: max + 1. */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /", 5);
	n = max - 2 - 2 + 1;
	memcpy(buf + n - 9, " HTTP/1.0", 9);
	memcpy(buf + n, "\r\n\r\n", 4);
	in = test_copy(buf, max + 1);
	r = scan_feed(in, max + 1, max, 0, &hl);
	unit_check(r == HTTP_HEADERS_TOO_LARGE,
	    "limit: head of max + 1 (line fits): %d", r);
	r = scan_feed(in, max, max, 0, &hl);
	unit_check(r == 0, "limit: first max bytes of it: wait (%d)", r);
	free(in);

	/* Request line without LF: max bytes wait, max + 1 is 414. */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /", 5);
	in = test_copy(buf, max + 1);
	r = scan_feed(in, max, max, 0, &hl);
	unit_check(r == 0, "limit: line of max bytes, no LF yet: %d", r);
	r = scan_feed(in, max + 1, max, 0, &hl);
	unit_check(r == HTTP_URI_TOO_LONG, "limit: line of max + 1: %d", r);
	r = scan_feed(in, max + 1, max, 1, &hl);
	unit_check(r == HTTP_URI_TOO_LONG, "limit: 414 byte by byte: %d", r);
	free(in);

	/* LF as byte max + 1 of the request line: still 414. */
	buf[max - 1] = '\r';
	buf[max] = '\n';
	in = test_copy(buf, max + 1);
	r = scan_feed(in, max + 1, max, 1, &hl);
	unit_check(r == HTTP_URI_TOO_LONG, "limit: CRLF straddling max: %d",
	    r);
	r = scan_feed(in, max + 1, max, 0, &hl);
	unit_check(r == HTTP_URI_TOO_LONG, "limit: CRLF straddling max, "
	    "whole: %d", r);
	free(in);

	/* A bare CR as byte max: the CR is checked, so 400, not 414. */
	buf[max] = 'x';
	in = test_copy(buf, max + 1);
	r = scan_feed(in, max + 1, max, 0, &hl);
	unit_check(r == HTTP_BAD_REQUEST, "limit: bare CR at max - 1: %d", r);
	r = scan_feed(in, max, max, 0, &hl);
	unit_check(r == 0, "limit: CR at max - 1 is last: wait (%d)", r);
	free(in);

	/* Short line, long fields: 431 at max + 1, fine at max. */
	memset(buf, 'b', sizeof(buf));
	memcpy(buf, "GET / HTTP/1.1\r\nX: ", 19);
	memcpy(buf + max - 4, "\r\n\r\n", 4);
	in = test_copy(buf, max);
	r = scan_feed(in, max, max, 1, &hl);
	unit_check(r == 1 && hl == max, "limit: fields to exactly max: %d", r);
	free(in);
	memcpy(buf + max - 4, "b\r\n\r\n", 5);
	in = test_copy(buf, max + 1);
	r = scan_feed(in, max + 1, max, 1, &hl);
	unit_check(r == HTTP_HEADERS_TOO_LARGE, "limit: fields to max + 1: %d",
	    r);
	free(in);
}

/* ---- http_parse_head ---- */

#define F_CHECK		0x01	/* compare the flags below exactly */
#define F_CHUNKED	0x02
#define F_CLOSE		0x04
#define F_KA		0x08
#define F_EXPECT	0x10
#define F_ASTERISK	0x20

#define M(m)		((m) + 1)	/* 0: method not checked */
#define V(minor)	((minor) + 1)	/* 0: version not checked */
#define CL(n)		((off_t)(n) + 2)	/* 0: length not checked */
static const char test_none[] = "(none)";
#define NONE		test_none	/* http_str expected absent */

struct head_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	int		 status;
	int		 method;
	int		 minor;
	const char	*path;
	const char	*query;
	const char	*host;
	unsigned	 flags;
	off_t		 cl;
};

#define H(n, lit, st, ...)						\
	{ .name = n, .in = lit, .len = sizeof(lit) - 1, .status = st,	\
	    __VA_ARGS__ }
#define RL(line)	line "\r\nHost: h\r\n\r\n"
#define F11(fields)	"GET / HTTP/1.1\r\nHost: h\r\n" fields "\r\n"

static const struct head_case head_cases[] = {
	/* Request line forms. */
	H("origin", RL("GET / HTTP/1.1"), 0, .method = M(HTTP_METHOD_GET),
	    .minor = V(1), .path = "/", .query = NONE, .host = "h",
	    .flags = F_CHECK, .cl = CL(-1)),
	H("query", RL("HEAD /x/y?a=1&b HTTP/1.1"), 0,
	    .method = M(HTTP_METHOD_HEAD), .minor = V(1), .path = "/x/y",
	    .query = "a=1&b"),
	H("empty query", RL("GET /x? HTTP/1.1"), 0, .path = "/x", .query = ""),
	H("second ? stays in query", RL("GET /a?b?c HTTP/1.1"), 0,
	    .path = "/a", .query = "b?c"),
	H("fragment dropped", RL("GET /a?b#frag HTTP/1.1"), 0, .path = "/a",
	    .query = "b"),
	H("? in fragment", RL("GET /a#f?x HTTP/1.1"), 0, .path = "/a",
	    .query = NONE),
	H("two #", RL("GET /a#b#c HTTP/1.1"), 400),
	H("absolute", RL("GET http://example.com/p/q?r HTTP/1.1"), 0,
	    .path = "/p/q", .query = "r", .host = "example.com"),
	H("absolute https port", RL("GET HTTPS://Example.com:8443/x HTTP/1.1"),
	    0, .path = "/x", .query = NONE, .host = "Example.com:8443"),
	H("absolute empty path", RL("GET http://example.com HTTP/1.1"), 0,
	    .path = "/", .query = NONE, .host = "example.com"),
	H("absolute empty path query", RL("GET http://ex.com?q=1 HTTP/1.1"), 0,
	    .path = "/", .query = "q=1", .host = "ex.com"),
	H("absolute ipv6", RL("GET http://[::1]:80/a HTTP/1.1"), 0,
	    .path = "/a", .query = NONE, .host = "[::1]:80"),
	H("absolute no host", RL("GET http:///a HTTP/1.1"), 400),
	H("absolute bare scheme", RL("GET http:// HTTP/1.1"), 400),
	H("absolute userinfo", RL("GET http://u@ex.com/ HTTP/1.1"), 400),
	H("absolute bad port", RL("GET http://ex.com:x/ HTTP/1.1"), 400),
	H("other scheme", RL("GET ftp://ex.com/ HTTP/1.1"), 400),
	H("relative target", RL("GET a/b HTTP/1.1"), 400),
	H("asterisk", RL("OPTIONS * HTTP/1.1"), 0,
	    .method = M(HTTP_METHOD_OPTIONS), .minor = V(1), .path = "*",
	    .query = NONE, .host = "h", .flags = F_CHECK | F_ASTERISK),
	H("asterisk with GET", RL("GET * HTTP/1.1"), 400),
	H("asterisk with unknown method", RL("FOO * HTTP/1.1"), 400),
	H("OPTIONS absolute no path", RL("OPTIONS http://ex.com HTTP/1.1"), 0,
	    .method = M(HTTP_METHOD_OPTIONS), .path = "/", .query = NONE,
	    .host = "ex.com", .flags = F_CHECK | F_ASTERISK),
	H("CONNECT authority", RL("CONNECT ex.com:443 HTTP/1.1"), 0,
	    .method = M(HTTP_METHOD_CONNECT)),
	H("CONNECT without port", RL("CONNECT ex.com HTTP/1.1"), 400),
	H("CONNECT empty port", RL("CONNECT ex.com: HTTP/1.1"), 400),
	H("authority with GET", RL("GET ex.com:443 HTTP/1.1"), 400),
	/* Methods. */
	H("POST", RL("POST / HTTP/1.1"), 0, .method = M(HTTP_METHOD_POST)),
	H("PUT", RL("PUT / HTTP/1.1"), 0, .method = M(HTTP_METHOD_PUT)),
	H("DELETE", RL("DELETE / HTTP/1.1"), 0,
	    .method = M(HTTP_METHOD_DELETE)),
	H("PATCH", RL("PATCH / HTTP/1.1"), 0, .method = M(HTTP_METHOD_PATCH)),
	H("TRACE", RL("TRACE / HTTP/1.1"), 0, .method = M(HTTP_METHOD_TRACE)),
	H("unknown method", RL("BREW / HTTP/1.1"), 0,
	    .method = M(HTTP_METHOD_UNKNOWN)),
	H("lower-case get is unknown", RL("get / HTTP/1.1"), 0,
	    .method = M(HTTP_METHOD_UNKNOWN)),
	H("GETS is unknown", RL("GETS / HTTP/1.1"), 0,
	    .method = M(HTTP_METHOD_UNKNOWN)),
	H("token method chars", RL("!#$%&'*+-.^_`|~09azAZ / HTTP/1.1"), 0,
	    .method = M(HTTP_METHOD_UNKNOWN)),
	H("method with @", RL("G@T / HTTP/1.1"), 400),
	H("method with /", RL("GE/T / HTTP/1.1"), 400),
	H("method with 0x80", RL("G\x80T / HTTP/1.1"), 400),
	H("leading space", RL(" GET / HTTP/1.1"), 400),
	H("double space", RL("GET  / HTTP/1.1"), 400),
	H("space before version", RL("GET /  HTTP/1.1"), 400),
	H("trailing space", RL("GET / HTTP/1.1 "), 400),
	H("tab separator", RL("GET\t/ HTTP/1.1"), 400),
	H("http/0.9 form", "GET /\r\n\r\n", 400),
	H("no version", RL("GET / "), 400),
	H("method only", RL("GET"), 400),
	H("space in target", RL("GET /a b HTTP/1.1"), 400),
	/* Target bytes. */
	H("target quote", RL("GET /a\"b HTTP/1.1"), 400),
	H("target <", RL("GET /<x> HTTP/1.1"), 400),
	H("target backslash", RL("GET /a\\b HTTP/1.1"), 400),
	H("target ctl", RL("GET /a\x01 HTTP/1.1"), 400),
	H("target del", RL("GET /a\x7f HTTP/1.1"), 400),
	H("target tab", RL("GET /a\tb HTTP/1.1"), 400),
	H("target bad pct", RL("GET /%zz HTTP/1.1"), 400),
	H("target short pct", RL("GET /%4 HTTP/1.1"), 400),
	H("target pct at end", RL("GET /a% HTTP/1.1"), 400),
	H("target good pct", RL("GET /%41%2f%c3%A9 HTTP/1.1"), 0,
	    .path = "/%41%2f%c3%A9"),
	H("target raw utf-8", RL("GET /\xc3\xa9t\xc3\xa9 HTTP/1.1"), 0,
	    .path = "/\xc3\xa9t\xc3\xa9"),
	H("target browser bytes", RL("GET /[a]{b}|^`?x=[1] HTTP/1.1"), 0,
	    .path = "/[a]{b}|^`", .query = "x=[1]"),
	H("target sub-delims", RL("GET /!$&'()*+,;=:@-._~ HTTP/1.1"), 0,
	    .path = "/!$&'()*+,;=:@-._~"),
	H("long target",
	    RL("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    " HTTP/1.1"),
	    0),
	/* Versions. */
	H("HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", 0, .minor = V(0),
	    .path = "/", .query = NONE, .host = NONE, .flags = F_CHECK,
	    .cl = CL(-1)),
	H("HTTP/1.2 served as 1.1", RL("GET / HTTP/1.2"), 0, .minor = V(1)),
	H("HTTP/1.9 served as 1.1", RL("GET / HTTP/1.9"), 0, .minor = V(1)),
	H("HTTP/2.0", RL("GET / HTTP/2.0"), 505),
	H("HTTP/2", RL("GET / HTTP/2"), 505),
	H("HTTP/3", RL("GET / HTTP/3"), 505),
	H("HTTP/0.9", RL("GET / HTTP/0.9"), 505),
	H("HTTP/9.9", RL("GET / HTTP/9.9"), 505),
	H("lower-case http", RL("GET / http/1.1"), 400),
	H("HTTP/1", RL("GET / HTTP/1"), 400),
	H("HTTP/1.10", RL("GET / HTTP/1.10"), 400),
	H("HTTP/11", RL("GET / HTTP/11"), 400),
	H("HTTP/1.x", RL("GET / HTTP/1.x"), 400),
	H("HTTP/", RL("GET / HTTP/"), 400),
	H("HTTP/2.0.0", RL("GET / HTTP/2.0.0"), 400),
	H("HTTPS/1.1", RL("GET / HTTPS/1.1"), 400),
	H("junk version", RL("GET / junk"), 400),
	H("505 wins over missing Host", "GET / HTTP/2.0\r\n\r\n", 505),
	/* Line endings. */
	H("lf only", "GET / HTTP/1.1\nHost: h\n\n", 0, .minor = V(1),
	    .path = "/", .query = NONE, .host = "h"),
	H("leading empty lines", "\r\n\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
	    0, .method = M(HTTP_METHOD_GET), .path = "/"),
	H("bare cr in field", F11("X: a\rb\r\n"), 400),
	H("nul in field value", F11("X: a\0b\r\n"), 400),
	H("nul in request line", RL("GET /\0 HTTP/1.1"), 400),
	H("incomplete head", "GET / HTTP/1.1\r\nHost: h\r\n", 400),
	/* Field syntax. */
	H("obs-fold", F11("X: a\r\n b\r\n"), 400),
	H("obs-fold tab", F11("X: a\r\n\tb\r\n"), 400),
	H("space before first field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n",
	    400),
	H("space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),
	H("tab before colon", F11("X\t: a\r\n"), 400),
	H("empty name", F11(": a\r\n"), 400),
	H("no colon", F11("Xa\r\n"), 400),
	H("bad name byte", F11("X(y): a\r\n"), 400),
	H("ctl in value", F11("X: a\x01\r\n"), 400),
	H("del in value", F11("X: a\x7f\r\n"), 400),
	H("esc in value", F11("X: \x1b[0m\r\n"), 400),
	H("tab and obs-text in value", F11("X: a\tb\x80\xff\r\n"), 0),
	H("empty value", F11("X:\r\n"), 0),
	H("unknown fields ignored", F11("X-Foo: bar\r\nCookie: a=b\r\n"), 0),
	/* Host. */
	H("Host missing", "GET / HTTP/1.1\r\n\r\n", 400),
	H("Host twice", F11("Host: h\r\n"), 400),
	H("Host twice in 1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n",
	    400),
	H("Host case", "GET / HTTP/1.1\r\nhOsT: x\r\n\r\n", 0, .host = "x"),
	H("Host empty", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 0, .host = ""),
	H("Host ows", "GET / HTTP/1.1\r\nHost: \t a.b \t\r\n\r\n", 0,
	    .host = "a.b"),
	H("Host port", "GET / HTTP/1.1\r\nHost: a.b:8080\r\n\r\n", 0),
	H("Host ipv4", "GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n", 0),
	H("Host ipv6", "GET / HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n", 0),
	H("Host ipv6 port", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", 0),
	H("Host pct and sub-delims",
	    "GET / HTTP/1.1\r\nHost: a%41!$&'()*+;="
	    "_~\r\n\r\n",
	    0),
	H("Host space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
	H("Host slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
	H("Host at", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400),
	H("Host comma list", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400),
	H("Host empty port", "GET / HTTP/1.1\r\nHost: a:\r\n\r\n", 0),
	H("Host ipv6 empty port", "GET / HTTP/1.1\r\nHost: [::1]:\r\n\r\n", 0),
	H("Host colon only", "GET / HTTP/1.1\r\nHost: :\r\n\r\n", 400),
	H("Host bad port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400),
	H("Host big port", "GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n", 400),
	H("Host port only", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400),
	H("Host open bracket", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400),
	H("Host bad ipv6", "GET / HTTP/1.1\r\nHost: [fe80::zz]\r\n\r\n", 400),
	H("Host after bracket", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 400),
	H("Host bad pct", "GET / HTTP/1.1\r\nHost: a%4\r\n\r\n", 400),
	H("Host ignored for absolute-form",
	    "GET http://t.example/ HTTP/1.1\r\n"
	    "Host: other\r\n\r\n",
	    0, .path = "/", .query = NONE, .host = "t.example"),
	H("Host still validated for absolute-form",
	    "GET http://t.example/ HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
	H("Host still required for absolute-form",
	    "GET http://t.example/ HTTP/1.1\r\n\r\n", 400),
	/* Connection and Expect. */
	H("Connection close", F11("Connection: close\r\n"), 0,
	    .flags = F_CHECK | F_CLOSE),
	H("Connection keep-alive", F11("Connection: Keep-Alive\r\n"), 0,
	    .flags = F_CHECK | F_KA),
	H("Connection close wins", F11("Connection: keep-alive, CLOSE\r\n"), 0,
	    .flags = F_CHECK | F_CLOSE),
	H("Connection over two lines",
	    F11("Connection: upgrade\r\n"
	    "Connection: x , close\r\n"),
	    0, .flags = F_CHECK | F_CLOSE),
	H("Connection other tokens", F11("Connection: closed, TE\r\n"), 0,
	    .flags = F_CHECK),
	H("HTTP/1.0 keep-alive",
	    "GET / HTTP/1.0\r\nConnection: keep-alive"
	    "\r\n\r\n",
	    0, .minor = V(0), .flags = F_CHECK | F_KA),
	H("Expect 100-continue", F11("Expect: 100-Continue\r\n"), 0,
	    .flags = F_CHECK | F_EXPECT),
	H("Expect other", F11("Expect: 200-ok\r\n"), 417),
	H("Expect list with other", F11("Expect: 100-continue, x\r\n"), 417),
	H("Expect with parameter", F11("Expect: 100-continue;a=b\r\n"), 417),
	H("Expect in HTTP/1.0 ignored",
	    "GET / HTTP/1.0\r\nExpect: "
	    "100-continue\r\n\r\n", 0,
	    .flags = F_CHECK),
	H("400 wins over 417", F11("Expect: x\r\nA: b\r\n c\r\n"), 400),
	H("400 after 417 (missing Host)",
	    "GET / HTTP/1.1\r\nExpect: x\r\n\r\n", 400),
	/* Content-Length. */
	H("CL", F11("Content-Length: 10\r\n"), 0, .flags = F_CHECK,
	    .cl = CL(10)),
	H("CL zero", F11("Content-Length: 0\r\n"), 0, .cl = CL(0)),
	H("CL leading zeros", F11("Content-Length: 007\r\n"), 0, .cl = CL(7)),
	H("CL identical list", F11("Content-Length: 5, 5,5\r\n"), 0,
	    .cl = CL(5)),
	H("CL identical lines",
	    F11("Content-Length: 5\r\n"
	    "content-length: 5\r\n"),
	    0, .cl = CL(5)),
	H("CL differing list", F11("Content-Length: 5, 6\r\n"), 400),
	H("CL differing lines",
	    F11("Content-Length: 5\r\n"
	    "Content-Length: 6\r\n"),
	    400),
	H("CL plus", F11("Content-Length: +5\r\n"), 400),
	H("CL minus", F11("Content-Length: -5\r\n"), 400),
	H("CL minus zero", F11("Content-Length: -0\r\n"), 400),
	H("CL inner space", F11("Content-Length: 1 0\r\n"), 400),
	H("CL hex", F11("Content-Length: 0x10\r\n"), 400),
	H("CL empty", F11("Content-Length:\r\n"), 400),
	H("CL empty element", F11("Content-Length: 5,\r\n"), 400),
	H("CL overflow", F11("Content-Length: 99999999999999999999\r\n"), 400),
	H("CL max", F11("Content-Length: 9223372036854775807\r\n"), 0),
	/* Transfer-Encoding. */
	H("TE chunked", F11("Transfer-Encoding: chunked\r\n"), 0,
	    .flags = F_CHECK | F_CHUNKED, .cl = CL(-1)),
	H("TE chunked case", F11("Transfer-Encoding: ChUnKeD\r\n"), 0,
	    .flags = F_CHECK | F_CHUNKED),
	H("TE gzip, chunked", F11("Transfer-Encoding: gzip, chunked\r\n"), 501),
	H("TE gzip", F11("Transfer-Encoding: gzip\r\n"), 501),
	H("TE identity", F11("Transfer-Encoding: identity\r\n"), 501),
	H("TE gzip then chunked lines",
	    F11("Transfer-Encoding: gzip\r\n"
	    "Transfer-Encoding: chunked\r\n"),
	    501),
	H("TE chunked, gzip", F11("Transfer-Encoding: chunked, gzip\r\n"), 400),
	H("TE chunked then gzip lines",
	    F11("Transfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: gzip\r\n"),
	    400),
	H("TE chunked twice", F11("Transfer-Encoding: chunked, chunked\r\n"),
	    400),
	H("TE chunked parameter", F11("Transfer-Encoding: chunked;a=b\r\n"),
	    400),
	H("TE empty", F11("Transfer-Encoding:\r\n"), 400),
	H("TE junk", F11("Transfer-Encoding: \"chunked\"\r\n"), 400),
	H("TE and CL",
	    F11("Transfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n"),
	    400),
	H("CL and TE",
	    F11("Content-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n"),
	    400),
	H("TE in HTTP/1.0",
	    "POST / HTTP/1.0\r\nTransfer-Encoding: chunked"
	    "\r\n\r\n",
	    400),
	H("TE empty elements skipped",
	    F11("Transfer-Encoding: , chunked ,\r\n"), 0,
	    .flags = F_CHECK | F_CHUNKED),
};

static void
test_parse(void)
{
	const struct head_case *c;
	struct http_request req;
	unsigned fl;
	size_t i;
	char *in, why[160];
	int st;

	for (i = 0; i < nitems(head_cases); i++) {
		c = &head_cases[i];
		in = test_copy(c->in, c->len);
		st = http_parse_head(in, c->len, &req);
		why[0] = '\0';
		if (st != c->status)
			snprintf(why, sizeof(why), "status %d", st);
		else if (req.head_len != c->len)
			snprintf(why, sizeof(why), "head_len %zu", req.head_len);
		else if (st == 0 && c->method != 0 &&
		    (int)req.method != c->method - 1)
			snprintf(why, sizeof(why), "method %d", req.method);
		else if (st == 0 && c->minor != 0 && req.minor != c->minor - 1)
			snprintf(why, sizeof(why), "minor %d", req.minor);
		else if (st == 0 && c->path != NULL &&
		    !str_is(req.path, c->path == NONE ? NULL : c->path))
			snprintf(why, sizeof(why), "path %.*s",
			    (int)req.path.len, req.path.p);
		else if (st == 0 && c->query != NULL &&
		    !str_is(req.query, c->query == NONE ? NULL : c->query))
			snprintf(why, sizeof(why), "query %.*s",
			    (int)req.query.len, req.query.p);
		else if (st == 0 && c->host != NULL &&
		    !str_is(req.host, c->host == NONE ? NULL : c->host))
			snprintf(why, sizeof(why), "host %.*s",
			    (int)req.host.len, req.host.p);
		else if (st == 0 && c->cl != 0 &&
		    req.content_length != c->cl - 2)
			snprintf(why, sizeof(why), "content_length %jd",
			    (intmax_t)req.content_length);
		if (why[0] == '\0' && st == 0 && (c->flags & F_CHECK)) {
			fl = F_CHECK | (req.chunked ? F_CHUNKED : 0) |
			    (req.conn_close ? F_CLOSE : 0) |
			    (req.conn_keepalive ? F_KA : 0) |
			    (req.expect_continue ? F_EXPECT : 0) |
			    (req.asterisk ? F_ASTERISK : 0);
			if (fl != c->flags)
				snprintf(why, sizeof(why), "flags %#x", fl);
		}
		unit_check(why[0] == '\0', "parse %s%s%s", c->name,
		    why[0] ? ": " : "", why);
		free(in);
	}
}

/* Views into the head, pipelining, repeated fields. */
static void
test_parse_more(void)
{
	static const char two[] = "GET /a?x HTTP/1.1\r\nHost: h\r\n\r\n"
	    "HEAD /b HTTP/1.0\n\n";
	static const char rep[] = "GET / HTTP/1.1\r\nHost: h\r\n"
	    "Range: bytes=0-1\r\nRange: bytes=2-3\r\n"
	    "If-Modified-Since: " D_EQ "\r\nIf-Modified-Since: " D_EQ "\r\n"
	    "User-Agent: one\r\nUser-Agent: two\r\n"
	    "If-None-Match: \"a\"\r\nIf-None-Match: \"b\"\r\n\r\n";
	static const char irange[] = "GET / HTTP/1.1\r\nHost: h\r\n"
	    "Range: bytes=0-1\r\nIf-Range: \"a\"\r\nIf-Range: \"a\"\r\n\r\n";
	static const char all[] = "\r\nGET /p?q HTTP/1.1\r\nHost: h\r\n"
	    "User-Agent: ua/1\r\nReferer: http://r/\r\nAccept: */*\r\n"
	    "If-Match: \"m\"\r\nIf-None-Match: \"n\"\r\n"
	    "If-Modified-Since: " D_EQ "\r\nIf-Unmodified-Since: " D_OLD "\r\n"
	    "If-Range: \"r\"\r\nRange: bytes=1-2\r\n\r\n";
	struct http_request req;
	size_t first = sizeof("GET /a?x HTTP/1.1\r\nHost: h\r\n\r\n") - 1;
	char *in;
	int st;

	in = test_copy(S(two));
	st = http_parse_head(in, sizeof(two) - 1, &req);
	unit_check(st == 0 && req.head_len == first &&
	    str_is(req.path, "/a") && str_is(req.query, "x"),
	    "pipelined: first head_len %zu", req.head_len);
	unit_check(str_is(req.line, "GET /a?x HTTP/1.1") &&
	    str_is(req.method_str, "GET") && str_is(req.target, "/a?x"),
	    "pipelined: line, method_str and target views");
	st = http_parse_head(in + first, sizeof(two) - 1 - first, &req);
	unit_check(st == 0 && req.method == HTTP_METHOD_HEAD &&
	    req.minor == 0 && req.head_len == sizeof(two) - 1 - first &&
	    str_is(req.path, "/b"), "pipelined: second request");
	free(in);

	in = test_copy(S(rep));
	st = http_parse_head(in, sizeof(rep) - 1, &req);
	unit_check(st == 0 && req.range.p == NULL, "repeated Range: ignored");
	unit_check(req.if_modified_since.p == NULL,
	    "repeated If-Modified-Since: a list of dates, ignored");
	unit_check(str_is(req.user_agent, "one"), "repeated User-Agent: first");
	unit_check(req.has_if_none_match && req.if_none_match_multi &&
	    str_is(req.if_none_match, "\"a\""),
	    "repeated If-None-Match: first kept, multi set");
	free(in);

	in = test_copy(S(irange));
	st = http_parse_head(in, sizeof(irange) - 1, &req);
	unit_check(st == 0 && req.range.p == NULL,
	    "repeated If-Range: Range ignored");
	free(in);

	in = test_copy(S(all));
	st = http_parse_head(in, sizeof(all) - 1, &req);
	unit_check(st == 0 && req.head_len == sizeof(all) - 1 &&
	    str_is(req.user_agent, "ua/1") && str_is(req.referer, "http://r/") &&
	    str_is(req.accept, "*/*") && str_is(req.if_match, "\"m\"") &&
	    str_is(req.if_none_match, "\"n\"") &&
	    str_is(req.if_modified_since, D_EQ) &&
	    str_is(req.if_unmodified_since, D_OLD) &&
	    str_is(req.if_range, "\"r\"") && str_is(req.range, "bytes=1-2") &&
	    req.has_if_match && !req.if_match_multi,
	    "all recognised fields stored");
	unit_check(req.fields.p == in + 2 + sizeof("GET /p?q HTTP/1.1\r\n") - 1 &&
	    req.fields.p + req.fields.len == in + sizeof(all) - 3,
	    "fields view spans the field lines");
	free(in);

	/* head_len on error covers the head, not what follows it. */
	in = test_copy(S("GET / HTTP/1.1\r\nHost: a b\r\n\r\nGET /"));
	st = http_parse_head(in, sizeof("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"
	    "GET /") - 1, &req);
	unit_check(st == 400 && req.head_len ==
	    sizeof("GET / HTTP/1.1\r\nHost: a b\r\n\r\n") - 1,
	    "error: head_len %zu", req.head_len);
	free(in);

	/* A 4 KiB method is only a token. */
	{
		char big[4200];

		memset(big, 'M', 4096);
		memcpy(big + 4096, " / HTTP/1.1\r\nHost: h\r\n\r\n", 24);
		in = test_copy(big, 4120);
		st = http_parse_head(in, 4120, &req);
		unit_check(st == 0 && req.method == HTTP_METHOD_UNKNOWN &&
		    req.method_str.len == 4096, "4 KiB method: %d", st);
		free(in);
	}
}

/* ---- body discarder ---- */

static int
body_feed(const char *in, size_t len, bool chunked, off_t cl, off_t limit,
    int mode, size_t *usedp)
{
	struct http_request req;
	struct http_body b;
	size_t off = 0, step, used;
	int r;

	memset(&req, 0, sizeof(req));
	req.chunked = chunked;
	req.content_length = cl;
	if ((r = http_body_init(&b, &req, limit)) != 0)
		return r;
	*usedp = 0;
	if (http_body_done(&b))
		return 1;
	while (off < len) {
		step = mode == 0 ? len : mode == 1 ? 1 : 1 + test_rand() % 5;
		if (step > len - off)
			step = len - off;
		r = http_body_consume(&b, in + off, step, &used);
		if (used > step)
			return -1;
		off += used;
		*usedp = off;
		if (r != 0)
			return r;
		if (used != step)
			return -2;	/* 0 must mean "took it all" */
	}
	return 0;
}

struct body_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	bool		 chunked;
	off_t		 cl;
	off_t		 limit;
	int		 ret;
	size_t		 used;		/* when ret is 1 */
};

#define BC(name, body, rest, ch, cl, lim, ret)				\
	{ name, body rest, sizeof(body rest) - 1, ch, cl, lim, ret,	\
	    sizeof(body) - 1 }

static const struct body_case body_cases[] = {
	BC("cl exact", "0123456789", "", false, 10, 100, 1),
	BC("cl then next request", "0123456789", "GET / HTTP/1.1\r\n", false,
	    10, 100, 1),
	BC("cl short", "01234", "", false, 10, 100, 0),
	BC("cl at limit", "0123456789", "", false, 10, 10, 1),
	BC("cl over limit", "0123456789x", "", false, 11, 10, 413),
	BC("chunked simple", "5\r\nhello\r\n0\r\n\r\n", "NEXT", true, -1, 100,
	    1),
	BC("chunked lf only", "5\nhello\n0\n\n", "NEXT", true, -1, 100, 1),
	BC("chunked hex", "A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n",
	    "", true, -1, 100, 1),
	BC("chunked leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "", true,
	    -1, 100, 1),
	BC("chunked extensions", "5;a=b\r\nhello\r\n6 ; x = \"q;\\\"\" ;y\r\n"
	    " world\r\n0;last\r\n\r\n", "", true, -1, 100, 1),
	BC("chunked trailers", "3\r\nabc\r\n0\r\nX-T: 1\r\nY:\t2\r\n\r\n",
	    "GET", true, -1, 100, 1),
	BC("chunked trailers lf", "3\nabc\n0\nX-T: 1\n\n", "", true, -1, 100,
	    1),
	BC("chunked empty", "0\r\n\r\n", "x", true, -1, 100, 1),
	BC("chunked incomplete", "5\r\nhel", "", true, -1, 100, 0),
	BC("chunked no last chunk", "5\r\nhello\r\n", "", true, -1, 100, 0),
	BC("chunked no final crlf", "0\r\n", "", true, -1, 100, 0),
	/* The limit counts every byte of a chunked body: 25 here. */
	BC("chunked at limit", "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", "",
	    true, -1, 25, 1),
	BC("chunked one over limit", "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n",
	    "", true, -1, 24, 413),
	BC("chunked data at limit, framing over",
	    "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", "", true, -1, 10, 413),
	BC("chunked over limit", "5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n", "",
	    true, -1, 10, 413),
	BC("chunked size line counts", "0000000001\r\nx\r\n"
	    "0000000001\r\nx\r\n0\r\n\r\n", "", true, -1, 34, 413),
	BC("chunked size line at limit", "0000000001\r\nx\r\n"
	    "0000000001\r\nx\r\n0\r\n\r\n", "", true, -1, 35, 1),
	BC("chunked trailer counts", "0\r\nX: 1\r\n\r\n", "", true, -1, 10,
	    413),
	BC("chunked empty over limit 0", "0\r\n\r\n", "", true, -1, 0, 413),
	BC("chunked huge size", "ffffffffffffffffffff\r\n", "", true, -1,
	    BODY_MAX_BYTES, 413),
	BC("chunked bad hex", "g\r\n", "", true, -1, 100, 400),
	BC("chunked empty size", "\r\n", "", true, -1, 100, 400),
	BC("chunked 0x prefix", "0x5\r\nhello\r\n", "", true, -1, 100, 400),
	BC("chunked negative", "-5\r\n", "", true, -1, 100, 400),
	BC("chunked space no ext", "5 \r\nhello\r\n", "", true, -1, 100, 400),
	BC("chunked bare cr", "5\rhello", "", true, -1, 100, 400),
	BC("chunked data too long", "5\r\nhelloX\r\n", "", true, -1, 100,
	    400),
	BC("chunked data cr junk", "5\r\nhello\rX", "", true, -1, 100, 400),
	BC("chunked ctl in ext", "5;a\x01\r\nhello\r\n0\r\n\r\n", "", true,
	    -1, 100, 400),
	BC("chunked obs-fold trailer", "0\r\nX: 1\r\n 2\r\n\r\n", "", true,
	    -1, 100, 400),
	BC("chunked nul in trailer", "0\r\nX: \0\r\n\r\n", "", true, -1, 100,
	    400),
	BC("chunked end cr junk", "0\r\n\rX", "", true, -1, 100, 400),
};

static void
test_body(void)
{
	const struct body_case *c;
	struct http_request req;
	struct http_body b;
	size_t i, used, used1;
	int r, r1, k;
	char *in;
	bool same;

	for (i = 0; i < nitems(body_cases); i++) {
		c = &body_cases[i];
		in = test_copy(c->in, c->len);
		r = body_feed(in, c->len, c->chunked, c->cl, c->limit, 0,
		    &used);
		unit_check(r == c->ret && (r != 1 || used == c->used),
		    "body %s: %d used %zu (want %d/%zu)", c->name, r, used,
		    c->ret, c->used);
		same = true;
		for (k = 0; k < 11 && same; k++) {
			r1 = body_feed(in, c->len, c->chunked, c->cl,
			    c->limit, k == 0 ? 1 : 2, &used1);
			same = r1 == r && (r != 1 || used1 == used);
		}
		unit_check(same, "body %s: same byte by byte and split",
		    c->name);
		free(in);
	}

	memset(&req, 0, sizeof(req));
	req.content_length = -1;
	unit_check(http_body_init(&b, &req, 10) == 0 && http_body_done(&b),
	    "body: none declared is done at once");
	req.content_length = 0;
	unit_check(http_body_init(&b, &req, 10) == 0 && http_body_done(&b),
	    "body: Content-Length 0 is done at once");
	req.content_length = 11;
	unit_check(http_body_init(&b, &req, 10) == 413,
	    "body: Content-Length over the limit is 413 at init");

	/* Framing bounds: one long extension line, many trailer lines. */
	{
		static char big[2 * HTTP_CHUNK_META_MAX];
		size_t n;

		memset(big, 'x', sizeof(big));
		memcpy(big, "1;", 2);
		in = test_copy(big, HTTP_CHUNK_LINE_MAX + 8);
		r = body_feed(in, HTTP_CHUNK_LINE_MAX + 8, true, -1,
		    BODY_MAX_BYTES, 0, &used);
		unit_check(r == 400, "body: chunk-ext line over %d bytes: %d",
		    HTTP_CHUNK_LINE_MAX, r);
		free(in);
		memcpy(big, "0\r\n", 3);
		for (n = 3; n + 10 < sizeof(big); n += 10)
			memcpy(big + n, "X: 123456\n", 10);
		in = test_copy(big, n);
		r = body_feed(in, n, true, -1, 100, 0, &used);
		unit_check(r == 413, "body: trailers over the limit: %d", r);
		r = body_feed(in, n, true, -1, BODY_MAX_BYTES, 0, &used);
		unit_check(r == 400, "body: trailers over %d bytes: %d",
		    HTTP_CHUNK_META_MAX, r);
		free(in);

		/*
		 * One byte of data in fifteen: the framing bound stops it
		 * whatever the limit, within HTTP_CHUNK_META_MAX framing
		 * bytes; under a smaller limit, the limit does.
		 */
		for (n = 0; n + 15 <= sizeof(big); n += 15)
			memcpy(big + n, "0000000001\r\nx\r\n", 15);
		in = test_copy(big, n);
		r = body_feed(in, n, true, -1, BODY_MAX_BYTES, 0, &used);
		unit_check(r == 400 &&
		    used <= HTTP_CHUNK_META_MAX * 15 / 14 + 1,
		    "body: 1-byte chunks stop at the framing bound: %d after "
		    "%zu", r, used);
		r = body_feed(in, n, true, -1, 1000, 0, &used);
		unit_check(r == 413 && used <= 1001,
		    "body: 1-byte chunks over the limit: %d after %zu", r,
		    used);
		free(in);
	}
}

/* ---- preconditions ---- */

struct pre_case {
	const char	*name;
	int		 method;
	const char	*im, *inm, *ims, *ius;
	const char	*etag;
	int		 want;
};

static const struct pre_case pre_cases[] = {
	{ "none", HTTP_METHOD_GET, NULL, NULL, NULL, NULL, ETAG, 0 },
	{ "If-Match same", HTTP_METHOD_GET, ETAG, NULL, NULL, NULL, ETAG, 0 },
	{ "If-Match other", HTTP_METHOD_GET, "\"x\"", NULL, NULL, NULL, ETAG,
	    412 },
	{ "If-Match *", HTTP_METHOD_GET, "*", NULL, NULL, NULL, ETAG, 0 },
	{ "If-Match * without etag", HTTP_METHOD_GET, "*", NULL, NULL, NULL,
	    NULL, 0 },
	{ "If-Match tag without etag", HTTP_METHOD_GET, ETAG, NULL, NULL,
	    NULL, NULL, 412 },
	{ "If-Match weak is strong-compared", HTTP_METHOD_GET, "W/" ETAG,
	    NULL, NULL, NULL, ETAG, 412 },
	{ "If-Match list", HTTP_METHOD_PUT, "\"x\", " ETAG ",\"y\"", NULL,
	    NULL, NULL, ETAG, 0 },
	{ "If-Match list no space", HTTP_METHOD_GET, "\"x\"," ETAG, NULL,
	    NULL, NULL, ETAG, 0 },
	{ "If-Match malformed", HTTP_METHOD_GET, "abc", NULL, NULL, NULL,
	    ETAG, 412 },
	{ "If-Match unquoted prefix", HTTP_METHOD_GET, "\"abc", NULL, NULL,
	    NULL, ETAG, 412 },
	{ "If-Match tag with comma", HTTP_METHOD_GET, "\"a,b\"", NULL, NULL,
	    NULL, "\"a,b\"", 0 },
	{ "IUS equal", HTTP_METHOD_GET, NULL, NULL, NULL, D_EQ, ETAG, 0 },
	{ "IUS older", HTTP_METHOD_GET, NULL, NULL, NULL, D_OLD, ETAG, 412 },
	{ "IUS newer", HTTP_METHOD_GET, NULL, NULL, NULL, D_NEW, ETAG, 0 },
	{ "IUS invalid ignored", HTTP_METHOD_GET, NULL, NULL, NULL, "yesterday",
	    ETAG, 0 },
	{ "If-Match wins over IUS", HTTP_METHOD_GET, ETAG, NULL, NULL, D_OLD,
	    ETAG, 0 },
	{ "If-Match fails before INM", HTTP_METHOD_GET, "\"x\"", ETAG, NULL,
	    NULL, ETAG, 412 },
	{ "IUS fails before INM", HTTP_METHOD_GET, NULL, ETAG, NULL, D_OLD,
	    ETAG, 412 },
	{ "INM match GET", HTTP_METHOD_GET, NULL, ETAG, NULL, NULL, ETAG, 304 },
	{ "INM match HEAD", HTTP_METHOD_HEAD, NULL, ETAG, NULL, NULL, ETAG,
	    304 },
	{ "INM match POST", HTTP_METHOD_POST, NULL, ETAG, NULL, NULL, ETAG,
	    412 },
	{ "INM weak compare", HTTP_METHOD_GET, NULL, "W/" ETAG, NULL, NULL,
	    ETAG, 304 },
	{ "INM *", HTTP_METHOD_GET, NULL, "*", NULL, NULL, ETAG, 304 },
	{ "INM * DELETE", HTTP_METHOD_DELETE, NULL, "*", NULL, NULL, ETAG,
	    412 },
	{ "INM other", HTTP_METHOD_GET, NULL, "\"x\"", NULL, NULL, ETAG, 0 },
	{ "INM list", HTTP_METHOD_GET, NULL, "\"x\" , W/" ETAG, NULL, NULL,
	    ETAG, 304 },
	{ "INM match, stale IMS", HTTP_METHOD_GET, NULL, ETAG, D_OLD, NULL,
	    ETAG, 304 },
	{ "INM no match, fresh IMS", HTTP_METHOD_GET, NULL, "\"x\"", D_EQ,
	    NULL, ETAG, 0 },
	{ "IMS equal", HTTP_METHOD_GET, NULL, NULL, D_EQ, NULL, ETAG, 304 },
	{ "IMS newer", HTTP_METHOD_GET, NULL, NULL, D_NEW, NULL, ETAG, 304 },
	{ "IMS older", HTTP_METHOD_GET, NULL, NULL, D_OLD, NULL, ETAG, 0 },
	{ "IMS invalid", HTTP_METHOD_GET, NULL, NULL, "Sun, 06 Nov 1994",
	    NULL, ETAG, 0 },
	{ "IMS HEAD", HTTP_METHOD_HEAD, NULL, NULL, D_EQ, NULL, ETAG, 304 },
	{ "IMS POST ignored", HTTP_METHOD_POST, NULL, NULL, D_EQ, NULL, ETAG,
	    0 },
	{ "IMS rfc850", HTTP_METHOD_GET, NULL, NULL,
	    "Sunday, 06-Nov-94 08:49:37 GMT", NULL, ETAG, 304 },
	{ "IMS asctime", HTTP_METHOD_GET, NULL, NULL,
	    "Sun Nov  6 08:49:37 1994", NULL, ETAG, 304 },
};

static struct http_str
mkstr(const char *s)
{
	struct http_str h;

	h.p = s;
	h.len = s == NULL ? 0 : strlen(s);
	return h;
}

static void
test_preconditions(void)
{
	static const char multi_ok[] = "GET / HTTP/1.1\r\nHost: h\r\n"
	    "If-Match: \"x\"\r\nX: y\r\nif-match: \"z\", " ETAG "\r\n\r\n";
	static const char multi_bad[] = "GET / HTTP/1.1\r\nHost: h\r\n"
	    "If-Match: \"x\"\r\nIf-Match: \"z\"\r\n\r\n";
	static const char inm_multi[] = "GET / HTTP/1.1\r\nHost: h\r\n"
	    "If-None-Match: \"x\"\r\nIf-None-Match: " ETAG "\r\n\r\n";
	static const char ims_rep[] = "GET / HTTP/1.1\r\nHost: h\r\n"
	    "If-Modified-Since: " D_EQ "\r\nIf-Modified-Since: " D_EQ "\r\n\r\n";
	const struct pre_case *c;
	struct http_request req;
	size_t i;
	int r;

	for (i = 0; i < nitems(pre_cases); i++) {
		c = &pre_cases[i];
		memset(&req, 0, sizeof(req));
		req.method = c->method;
		req.content_length = -1;
		req.if_match = mkstr(c->im);
		req.has_if_match = c->im != NULL;
		req.if_none_match = mkstr(c->inm);
		req.has_if_none_match = c->inm != NULL;
		req.if_modified_since = mkstr(c->ims);
		req.if_unmodified_since = mkstr(c->ius);
		r = http_preconditions(&req, c->etag, MTIME);
		unit_check(r == c->want, "preconditions %s: %d (want %d)",
		    c->name, r, c->want);
	}

	r = http_parse_head(multi_ok, sizeof(multi_ok) - 1, &req);
	unit_check(r == 0 && http_preconditions(&req, ETAG, MTIME) == 0,
	    "preconditions: If-Match over two lines matches the second");
	r = http_parse_head(multi_bad, sizeof(multi_bad) - 1, &req);
	unit_check(r == 0 && http_preconditions(&req, ETAG, MTIME) == 412,
	    "preconditions: If-Match over two lines, no match");
	r = http_parse_head(inm_multi, sizeof(inm_multi) - 1, &req);
	unit_check(r == 0 && http_preconditions(&req, ETAG, MTIME) == 304,
	    "preconditions: If-None-Match over two lines");
	r = http_parse_head(ims_rep, sizeof(ims_rep) - 1, &req);
	unit_check(r == 0 && http_preconditions(&req, ETAG, MTIME) == 0,
	    "preconditions: repeated If-Modified-Since ignored");
}

/* ---- ranges ---- */

struct range_case {
	const char	*name;
	int		 method;
	const char	*range;
	const char	*if_range;
	off_t		 size;
	int		 want;
	off_t		 first, last;
};

#define G	HTTP_METHOD_GET

static const struct range_case range_cases[] = {
	{ "no Range", G, NULL, NULL, 1000, 200, 0, 0 },
	{ "a-b", G, "bytes=0-99", NULL, 1000, 206, 0, 99 },
	{ "0-0", G, "bytes=0-0", NULL, 1000, 206, 0, 0 },
	{ "a-", G, "bytes=100-", NULL, 1000, 206, 100, 999 },
	{ "-n", G, "bytes=-100", NULL, 1000, 206, 900, 999 },
	{ "-n over size", G, "bytes=-2000", NULL, 1000, 206, 0, 999 },
	{ "-n equal size", G, "bytes=-1000", NULL, 1000, 206, 0, 999 },
	{ "last byte", G, "bytes=999-999", NULL, 1000, 206, 999, 999 },
	{ "b clamped", G, "bytes=500-2000", NULL, 1000, 206, 500, 999 },
	{ "b huge clamped", G, "bytes=0-99999999999999999999999", NULL, 1000,
	    206, 0, 999 },
	{ "unit case", G, "BYTES=1-2", NULL, 1000, 206, 1, 2 },
	{ "unit mixed case", G, "Bytes=1-2", NULL, 1000, 206, 1, 2 },
	{ "ows in set", G, "bytes= 1-2 ", NULL, 1000, 206, 1, 2 },
	{ "empty elements", G, "bytes=,1-2,,", NULL, 1000, 206, 1, 2 },
	{ "first at size", G, "bytes=1000-", NULL, 1000, 416, 0, 0 },
	{ "first past size", G, "bytes=1000-2000", NULL, 1000, 416, 0, 0 },
	{ "first huge", G, "bytes=99999999999999999999-", NULL, 1000, 416, 0, 0 },
	{ "-0", G, "bytes=-0", NULL, 1000, 416, 0, 0 },
	{ "empty file a-", G, "bytes=0-", NULL, 0, 416, 0, 0 },
	{ "empty file a-b", G, "bytes=0-0", NULL, 0, 416, 0, 0 },
	{ "empty file -n", G, "bytes=-5", NULL, 0, 416, 0, 0 },
	{ "a > b ignored", G, "bytes=5-1", NULL, 1000, 200, 0, 0 },
	{ "two ranges", G, "bytes=0-1,5-6", NULL, 1000, 200, 0, 0 },
	{ "two ranges ows", G, "bytes=0-1 , -5", NULL, 1000, 200, 0, 0 },
	{ "two ranges one satisfiable", G, "bytes=0-1,2000-3000", NULL, 1000,
	    200, 0, 0 },
	{ "two unsatisfiable", G, "bytes=1000-1001,2000-", NULL, 1000, 416, 0, 0 },
	{ "two with a > b", G, "bytes=0-1,5-1", NULL, 1000, 200, 0, 0 },
	{ "junk", G, "bytes=abc", NULL, 1000, 200, 0, 0 },
	{ "empty set", G, "bytes=", NULL, 1000, 200, 0, 0 },
	{ "only commas", G, "bytes=,,", NULL, 1000, 200, 0, 0 },
	{ "dash only", G, "bytes=-", NULL, 1000, 200, 0, 0 },
	{ "no dash", G, "bytes=5", NULL, 1000, 200, 0, 0 },
	{ "double dash", G, "bytes=1-2-3", NULL, 1000, 200, 0, 0 },
	{ "sign", G, "bytes=+1-2", NULL, 1000, 200, 0, 0 },
	{ "hex", G, "bytes=0x1-2", NULL, 1000, 200, 0, 0 },
	{ "space inside", G, "bytes=0 -1", NULL, 1000, 200, 0, 0 },
	{ "other unit", G, "items=0-1", NULL, 1000, 200, 0, 0 },
	{ "no equals", G, "bytes 0-1", NULL, 1000, 200, 0, 0 },
	{ "HEAD ignores Range", HTTP_METHOD_HEAD, "bytes=0-1", NULL, 1000,
	    200, 0, 0 },
	{ "POST ignores Range", HTTP_METHOD_POST, "bytes=0-1", NULL, 1000,
	    200, 0, 0 },
	{ "If-Range strong match", G, "bytes=0-1", ETAG, 1000, 206, 0, 1 },
	{ "If-Range other tag", G, "bytes=0-1", "\"x\"", 1000, 200, 0, 0 },
	{ "If-Range weak tag", G, "bytes=0-1", "W/" ETAG, 1000, 200, 0, 0 },
	{ "If-Range date equal", G, "bytes=0-1", D_EQ, 1000, 206, 0, 1 },
	{ "If-Range date older", G, "bytes=0-1", D_OLD, 1000, 200, 0, 0 },
	{ "If-Range date newer", G, "bytes=0-1", D_NEW, 1000, 200, 0, 0 },
	{ "If-Range junk", G, "bytes=0-1", "junk", 1000, 200, 0, 0 },
	{ "If-Range, 416 still 200 when stale", G, "bytes=5000-", "\"x\"",
	    1000, 200, 0, 0 },
	{ "If-Range without Range", G, NULL, ETAG, 1000, 200, 0, 0 },
};

static void
test_ranges(void)
{
	const struct range_case *c;
	struct http_request req;
	struct http_range r;
	size_t i;
	int st;

	for (i = 0; i < nitems(range_cases); i++) {
		c = &range_cases[i];
		memset(&req, 0, sizeof(req));
		req.method = c->method;
		req.range = mkstr(c->range);
		req.if_range = mkstr(c->if_range);
		r.first = r.last = -7;
		st = http_range_select(&req, c->size, ETAG, MTIME, &r);
		unit_check(st == c->want && (st != 206 ||
		    (r.first == c->first && r.last == c->last)),
		    "range %s: %d [%jd, %jd]", c->name, st,
		    (intmax_t)r.first, (intmax_t)r.last);
	}

	/* A "Wed, ..." date must not be taken for a W/ entity-tag. */
	memset(&req, 0, sizeof(req));
	req.method = G;
	req.range = mkstr("bytes=0-1");
	req.if_range = mkstr("Wed, 21 Oct 2015 07:28:00 GMT");
	st = http_range_select(&req, 10, ETAG, 1445412480, &r);
	unit_check(st == 206, "range: If-Range date on a Wednesday: %d", st);
	req.if_range = mkstr(ETAG);
	st = http_range_select(&req, 10, "W/" ETAG, MTIME, &r);
	unit_check(st == 200, "range: If-Range against a weak current tag");
}

/* ---- numbers, dates, etags ---- */

static void
test_numbers(void)
{
	static const struct {
		const char	*in;
		size_t		 len;
		off_t		 want;
	} u[] = {
		{ S("0"), 0 },
		{ S("123"), 123 },
		{ S("00012"), 12 },
		{ S("9223372036854775807"), INT64_MAX },
		{ S("9223372036854775808"), -1 },
		{ S("99999999999999999999"), -1 },
		{ S(""), -1 },
		{ S("+1"), -1 },
		{ S("-1"), -1 },
		{ S(" 1"), -1 },
		{ S("1 "), -1 },
		{ S("\t1"), -1 },
		{ S("1a"), -1 },
		{ S("1\0"), -1 },
	};
	size_t i;

	for (i = 0; i < nitems(u); i++)
		unit_check(http_parse_uint(u[i].in, u[i].len) == u[i].want,
		    "parse_uint %zu \"%.*s\"", i, (int)u[i].len, u[i].in);
	unit_check(http_parse_uint(NULL, 0) == -1, "parse_uint NULL");
}

static void
test_dates(void)
{
	static const struct {
		const char	*in;
		time_t		 want;
	} d[] = {
		{ "Sun, 06 Nov 1994 08:49:37 GMT", 784111777 },
		{ "Sunday, 06-Nov-94 08:49:37 GMT", 784111777 },
		{ "Sun Nov  6 08:49:37 1994", 784111777 },
		{ "Wed Nov 16 08:49:37 1994", 784111777 + 10 * 86400 },
		{ "Thu, 01 Jan 1970 00:00:00 GMT", 0 },
		{ "Thu, 29 Feb 1996 00:00:00 GMT", 825552000 },
		{ "Friday, 31-Dec-99 23:59:59 GMT", 946684799 },
		{ "Sun, 06 Nov 1994 08:49:37 UTC", -1 },
		{ "sun, 06 Nov 1994 08:49:37 GMT", -1 },
		{ "Sun, 6 Nov 1994 08:49:37 GMT", -1 },
		{ "Sun, 06 nov 1994 08:49:37 GMT", -1 },
		{ "Sun, 06 Nov 1994 08:49:37 GMT ", -1 },
		{ " Sun, 06 Nov 1994 08:49:37 GMT", -1 },
		{ "Sun, 06 Nov 1994 8:49:37 GMT", -1 },
		{ "Sun, 06 Nov 1994 24:00:00 GMT", -1 },
		{ "Sun, 06 Nov 1994 08:60:00 GMT", -1 },
		{ "Sun, 06 Nov 1994 08:49:61 GMT", -1 },
		{ "Sun, 00 Nov 1994 08:49:37 GMT", -1 },
		{ "Sun, 31 Nov 1994 08:49:37 GMT", -1 },
		{ "Wed, 29 Feb 1995 00:00:00 GMT", -1 },
		{ "Sun, 06 Nov 94 08:49:37 GMT", -1 },
		{ "Sun, 06 Nov 1994 08-49-37 GMT", -1 },
		{ "Xyz, 06 Nov 1994 08:49:37 GMT", -1 },
		{ "Sunday, 06-Nov-1994 08:49:37 GMT", -1 },
		{ "Sund, 06-Nov-94 08:49:37 GMT", -1 },
		{ "Sunday, 06 Nov 94 08:49:37 GMT", -1 },
		{ "Sunday, 06-Nov-94 08:49:37 UTC", -1 },
		{ "Sun Nov 6 08:49:37 1994", -1 },
		{ "Sun Nov  6 08:49:37 94", -1 },
		{ "Sun Nov 06 08:49:37 1994x", -1 },
		{ "", -1 },
		{ "1994-11-06T08:49:37Z", -1 },
	};
	char buf[64], *in;
	size_t i;
	time_t t, now;

	for (i = 0; i < nitems(d); i++) {
		in = test_copy(d[i].in, strlen(d[i].in));
		t = http_parse_date(in, strlen(d[i].in));
		unit_check(t == d[i].want, "date \"%s\": %jd", d[i].in,
		    (intmax_t)t);
		free(in);
	}
	unit_check(http_format_date(buf, sizeof(buf), 784111777) == 29 &&
	    strcmp(buf, "Sun, 06 Nov 1994 08:49:37 GMT") == 0,
	    "format_date: %s", buf);
	unit_check(http_format_date(buf, sizeof(buf), 0) == 29 &&
	    strcmp(buf, "Thu, 01 Jan 1970 00:00:00 GMT") == 0,
	    "format_date epoch: %s", buf);
	unit_check(http_format_date(buf, 29, 0) == -1,
	    "format_date: 29-byte buffer is too small");
	/* Up to 9999-12-31, the last year IMF-fixdate can write. */
	for (t = 1, i = 0; i < 40; i++, t = (t * 3 + 7) % 253402300800)
		if (http_format_date(buf, sizeof(buf), t) != 29 ||
		    http_parse_date(buf, 29) != t)
			break;
	unit_check(i == 40, "format_date/parse_date round trip (%zu)", i);

	now = time(NULL);
	in = (char *)http_date_now();
	t = http_parse_date(in, strlen(in));
	unit_check(strlen(in) == 29 && t >= now && t <= now + 2,
	    "date_now: %s", in);
	unit_check(http_date_now() == in, "date_now: one cached buffer");
}

static void
test_etag(void)
{
	char buf[64];
	int n;

	n = http_make_etag(buf, sizeof(buf), 0x10, 0x20, 0x30, 5);
	unit_check(n == 18 && strcmp(buf, "\"10-20-3000000005\"") == 0,
	    "make_etag: %s", buf);
	n = http_make_etag(buf, sizeof(buf), 0, 0, 0, 999999999);
	unit_check(strcmp(buf, "\"0-0-03b9ac9ff\"") == 0, "make_etag nsec: %s",
	    buf);
	unit_check(http_make_etag(buf, 10, 0x10, 0x20, 0x30, 5) == -1,
	    "make_etag: truncation is an error");
	unit_check(http_make_etag(buf, 18, 0x10, 0x20, 0x30, 5) == -1,
	    "make_etag: no room for the NUL is an error");
	unit_check(http_make_etag(buf, 19, 0x10, 0x20, 0x30, 5) == 18,
	    "make_etag: exactly enough room");
}

/*
 * The hand-written formatter against the printf format it replaces, over
 * the extremes and a few thousand pseudo-random values (fixed seed).
 */
static void
test_etag_printf(void)
{
	static const uint64_t edges[] = { 0, 1, 0xf, 0x10, 0xffffffff,
	    0x100000000ULL, 0x7fffffffffffffffULL, 0xffffffffffffffffULL };
	char got[80], want[80];
	uint64_t x = 88172645463325252ULL, ino, len, mt;
	long nsec;
	int i, bad = 0, n, m;

	for (i = 0; i < 4000; i++) {
		/* xorshift64 */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (i < 512) {
			ino = edges[i % nitems(edges)];
			len = edges[i / nitems(edges) % nitems(edges)] &
			    0x7fffffffffffffffULL;
			mt = edges[(i / 64) % nitems(edges)];
		} else {
			ino = x >> (x & 63);
			len = (x >> 3) >> ((x >> 8) & 63) &
			    0x7fffffffffffffffULL;
			mt = (x >> 5) >> ((x >> 16) & 63);
		}
		nsec = (long)(x % 1000000000);
		n = http_make_etag(got, sizeof(got), (ino_t)ino, (off_t)len,
		    (time_t)mt, nsec);
		m = snprintf(want, sizeof(want), "\"%jx-%jx-%jx%08lx\"",
		    (uintmax_t)ino, (uintmax_t)len, (uintmax_t)(time_t)mt,
		    (unsigned long)nsec);
		if (n != m || strcmp(got, want) != 0) {
			if (bad++ == 0)
				printf("# got %s want %s\n", got, want);
		}
	}
	unit_check(bad == 0, "make_etag equals its printf format (%d bad)",
	    bad);
}

/* ---- content negotiation ---- */

/*
 * Accept field lines (each "Accept: " + line, NULL-ended) and the
 * weights they give application/json and text/html; -1: no preference.
 */
static const struct accept_case {
	const char	*lines[3];
	int		 json, html;
} accept_cases[] = {
	{ { NULL }, -1, -1 },
	{ { "" }, -1, -1 },
	{ { "garbage" }, -1, -1 },
	{ { "application/json" }, 1000, 0 },
	{ { "APPLICATION/JSON" }, 1000, 0 },
	{ { "application/json;q=0" }, 0, 0 },
	{ { "application/json; q=0.000" }, 0, 0 },
	{ { "application/json ; Q=0.5" }, 500, 0 },
	{ { "application/json;q=1.000" }, 1000, 0 },
	{ { "application/json;q=0.123" }, 123, 0 },
	{ { "application/json; charset=utf-8" }, 1000, 0 },
	{ { "application/json;charset=\"a,b;q=0\";q=0.4" }, 400, 0 },
	/* Browsers: HTML first. */
	{ { "text/html,application/xhtml+xml,application/xml;q=0.9,"
	    "*/*;q=0.8" }, 800, 1000 },
	{ { "*/*" }, 1000, 1000 },
	{ { "application/*;q=0.3, text/*;q=0.2" }, 300, 200 },
	/* The most specific range wins, whatever the order. */
	{ { "*/*;q=0.9, application/json;q=0" }, 0, 900 },
	{ { "application/json;q=0, */*" }, 0, 1000 },
	{ { "application/json;q=0.2, application/*;q=0.9" }, 200, 0 },
	/* The first of equal ranges. */
	{ { "application/json;q=0.3, application/json;q=0.7" }, 300, 0 },
	/* Invalid elements are skipped, the others still count. */
	{ { "application/json;q=2, text/html;q=0.5" }, 0, 500 },
	{ { "application/json;q=1.5" }, -1, -1 },
	{ { "application/json;q=0.1234" }, -1, -1 },
	{ { "application/json;q=\"1\"" }, -1, -1 },
	{ { "application/json;q=" }, -1, -1 },
	{ { "application/json;q" }, -1, -1 },
	{ { "application/json x" }, -1, -1 },
	{ { "*/json" }, -1, -1 },
	{ { "application", "text/html;q=0.1" }, 0, 100 },
	{ { "application/json;x=\"unclosed, text/html" }, -1, -1 },
	{ { "text/html;q=0.5;q=1" }, 0, 500 },
	{ { ",, ,application/json,," }, 1000, 0 },
	{ { "application/jsonx, xapplication/json" }, 0, 0 },
	/* Repeated lines are one list (RFC 9110 §5.3). */
	{ { "text/html", "application/json" }, 1000, 1000 },
	{ { "text/html;q=0.1", "application/json" }, 1000, 100 },
	{ { "*/*", "application/json;q=0" }, 0, 1000 },
	{ { "application/json;q=0.4", "application/json" }, 400, 0 },
};

static void
test_accept(void)
{
	const struct accept_case *c;
	struct http_request req;
	char head[512], *in;
	size_t i, j;
	int n, r, json, html;

	for (i = 0; i < nitems(accept_cases); i++) {
		c = &accept_cases[i];
		n = snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: h\r\n");
		for (j = 0; j < nitems(c->lines) && c->lines[j] != NULL; j++)
			n += snprintf(head + n, sizeof(head) - (size_t)n,
			    "Accept: %s\r\n", c->lines[j]);
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "X: y\r\n\r\n");
		in = test_copy(head, (size_t)n);
		r = http_parse_head(in, (size_t)n, &req);
		json = http_accept_quality(&req, "application", "json");
		html = http_accept_quality(&req, "text", "html");
		unit_check(r == 0 && json == c->json && html == c->html,
		    "accept %zu [%s%s%s]: json %d html %d (want %d %d)", i,
		    c->lines[0] ? c->lines[0] : "none",
		    c->lines[0] && c->lines[1] ? "] [" : "",
		    c->lines[0] && c->lines[1] ? c->lines[1] : "",
		    json, html, c->json, c->html);
		free(in);
	}
}

/* Accept-Encoding (RFC 9110 §12.5.3, SPEC's negotiation rules). */
#define ALL	((1u << HTTP_CODING_BR) | (1u << HTTP_CODING_ZSTD) | \
		 (1u << HTTP_CODING_GZIP))
#define GZ	(1u << HTTP_CODING_GZIP)
static const struct {
	const char	*lines[2];	/* NULL: no field */
	unsigned	 avail;
	enum http_coding want;
} coding_cases[] = {
	{ { NULL }, ALL, HTTP_CODING_IDENTITY },
	{ { "" }, ALL, HTTP_CODING_IDENTITY },
	{ { "gzip, deflate, br, zstd" }, ALL, HTTP_CODING_BR },
	{ { "gzip, deflate, br, zstd" }, GZ, HTTP_CODING_GZIP },
	{ { "gzip, zstd" }, ALL, HTTP_CODING_ZSTD },
	{ { "gzip;q=1, br;q=0.5" }, ALL, HTTP_CODING_GZIP },
	{ { "br;q=0.5, zstd;q=0.5, gzip;q=0.5" }, ALL, HTTP_CODING_BR },
	{ { "br;q=0" }, ALL, HTTP_CODING_IDENTITY },
	{ { "*" }, ALL, HTTP_CODING_BR },
	{ { "*;q=0.5, br;q=0" }, ALL, HTTP_CODING_ZSTD },
	{ { "*;q=0" }, ALL, HTTP_CODING_IDENTITY },
	{ { "identity;q=0" }, 0, HTTP_CODING_IDENTITY },
	{ { "identity;q=0, gzip" }, ALL, HTTP_CODING_GZIP },
	{ { "identity, gzip;q=0.5" }, ALL, HTTP_CODING_IDENTITY },
	{ { "identity;q=0.5, gzip;q=0.5" }, ALL, HTTP_CODING_GZIP },
	{ { "GZIP, Br;Q=0.9" }, ALL, HTTP_CODING_GZIP },
	{ { "x-gzip" }, ALL, HTTP_CODING_GZIP },
	{ { "compress, deflate, unknown" }, ALL, HTTP_CODING_IDENTITY },
	{ { "br;q=2, gzip" }, ALL, HTTP_CODING_GZIP },	/* bad q skipped */
	{ { "br;q=\"1\", gzip;q=0.1" }, ALL, HTTP_CODING_GZIP },
	{ { "br;level=5;q=0.2, gzip;q=0.1" }, ALL, HTTP_CODING_BR },
	{ { "br;q=0.5;q=1, gzip;q=0.6" }, ALL, HTTP_CODING_GZIP },
	{ { "br;q=0, br" }, ALL, HTTP_CODING_IDENTITY },	/* first counts */
	{ { "gzip", "br" }, ALL, HTTP_CODING_BR },		/* one list */
	{ { "br;q=0.1", "gzip" }, ALL, HTTP_CODING_GZIP },
	{ { ",, ,zstd,," }, ALL, HTTP_CODING_ZSTD },
};

static void
test_accept_encoding(void)
{
	struct http_request req;
	char head[512], *in;
	size_t i, j;
	int n, r;
	enum http_coding got;

	for (i = 0; i < nitems(coding_cases); i++) {
		n = snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: h\r\n");
		for (j = 0; j < 2 && coding_cases[i].lines[j] != NULL; j++)
			n += snprintf(head + n, sizeof(head) - (size_t)n,
			    "Accept-Encoding: %s\r\n", coding_cases[i].lines[j]);
		n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
		in = test_copy(head, (size_t)n);
		r = http_parse_head(in, (size_t)n, &req);
		got = http_accept_encoding(&req, coding_cases[i].avail);
		unit_check(r == 0 && got == coding_cases[i].want,
		    "accept-encoding %zu [%s]: %d (want %d)", i,
		    coding_cases[i].lines[0] != NULL ?
		    coding_cases[i].lines[0] : "none", (int)got,
		    (int)coding_cases[i].want);
		free(in);
	}
}

static void
test_query(void)
{
	static const struct {
		const char	*q;
		bool		 want;
	} rows[] = {
		{ "format=json", true },
		{ "a=1&format=json", true },
		{ "format=json&a=1", true },
		{ "a&format=json&b", true },
		{ "", false },
		{ "format=jsonx", false },
		{ "xformat=json", false },
		{ "format=JSON", false },
		{ "format%3Djson", false },
		{ "format=jso", false },
	};
	struct http_str q;
	size_t i;
	char *p;

	q.p = NULL;
	q.len = 0;
	unit_check(!http_query_has(q, "format=json"), "query: none");
	for (i = 0; i < nitems(rows); i++) {
		p = test_copy(rows[i].q, strlen(rows[i].q));
		q.p = p;
		q.len = strlen(rows[i].q);
		unit_check(http_query_has(q, "format=json") == rows[i].want,
		    "query [%s]: %d", rows[i].q, rows[i].want);
		free(p);
	}
}

/* ---- response heads, error pages ---- */

/* Replaces the 29-byte Date value with "DATE" so output compares. */
static void
mask_date(char *buf, int *n)
{
	char *d;

	if (*n < 0 || (d = strstr(buf, "\r\nDate: ")) == NULL)
		return;
	d += 8;
	memmove(d + 4, d + 29, (size_t)(buf + *n - (d + 29)) + 1);
	memcpy(d, "DATE", 4);
	*n -= 25;
}

static void
check_head(const char *name, const struct http_response *resp,
    const char *want)
{
	char buf[1024], *p;
	int n, m;
	size_t sz;
	bool fits = true, ok;

	memset(buf, 0, sizeof(buf));
	n = http_build_head(buf, sizeof(buf), resp);
	m = n;
	mask_date(buf, &m);
	ok = m >= 0 && (size_t)m == strlen(want) && strcmp(buf, want) == 0;
	unit_check(ok, "build_head %s: exact bytes", name);
	if (!ok)
		for (p = strtok(buf, "\n"); p != NULL; p = strtok(NULL, "\n"))
			printf("# %s\n", p);
	/* Every smaller buffer must fail, never truncate. */
	for (sz = 0; n > 0 && sz < (size_t)n; sz++)
		if (http_build_head(buf, sz, resp) != -1)
			fits = false;
	if (n > 0)
		fits = fits && http_build_head(buf, (size_t)n, resp) == n;
	unit_check(fits, "build_head %s: exact fit only", name);
}

static void
test_build_head(void)
{
	struct http_response r;
	char buf[256];

	memset(&r, 0, sizeof(r));
	r.status = 200;
	r.minor = 1;
	r.content_type = "text/html; charset=utf-8";
	r.content_length = 1234;
	r.last_modified = MTIME;
	r.etag = "\"1-2-3\"";
	r.accept_ranges = true;
	check_head("200", &r, "HTTP/1.1 200 OK\r\n"
	    "Server: tine/" TINE_VERSION "\r\n"
	    "Date: DATE\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: 1234\r\n"
	    "Last-Modified: " D_EQ "\r\n"
	    "ETag: \"1-2-3\"\r\n"
	    "Accept-Ranges: bytes\r\n"
	    "\r\n");

	r.status = 206;
	r.content_length = 100;
	r.size = 5000000000LL;
	r.range.first = 4000000000LL;
	r.range.last = 4000000099LL;
	r.close = true;
	check_head("206", &r, "HTTP/1.1 206 Partial Content\r\n"
	    "Server: tine/" TINE_VERSION "\r\n"
	    "Date: DATE\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: 100\r\n"
	    "Last-Modified: " D_EQ "\r\n"
	    "ETag: \"1-2-3\"\r\n"
	    "Accept-Ranges: bytes\r\n"
	    "Content-Range: bytes 4000000000-4000000099/5000000000\r\n"
	    "Connection: close\r\n"
	    "\r\n");

	memset(&r, 0, sizeof(r));
	r.status = 304;
	r.content_length = 1234;
	r.last_modified = MTIME;
	r.etag = "\"1-2-3\"";
	r.keepalive_10 = true;
	check_head("304", &r, "HTTP/1.1 304 Not Modified\r\n"
	    "Server: tine/" TINE_VERSION "\r\n"
	    "Date: DATE\r\n"
	    "Last-Modified: " D_EQ "\r\n"
	    "ETag: \"1-2-3\"\r\n"
	    "Connection: keep-alive\r\n"
	    "\r\n");

	memset(&r, 0, sizeof(r));
	r.status = 416;
	r.content_type = "text/html; charset=utf-8";
	r.content_length = 321;
	r.size = 1000;
	check_head("416", &r, "HTTP/1.1 416 Range Not Satisfiable\r\n"
	    "Server: tine/" TINE_VERSION "\r\n"
	    "Date: DATE\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: 321\r\n"
	    "Content-Range: bytes */1000\r\n"
	    "\r\n");

	memset(&r, 0, sizeof(r));
	r.status = 405;
	r.content_type = "text/html; charset=utf-8";
	r.content_length = 0;
	r.allow = "GET, HEAD";
	check_head("405", &r, "HTTP/1.1 405 Method Not Allowed\r\n"
	    "Server: tine/" TINE_VERSION "\r\n"
	    "Date: DATE\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: 0\r\n"
	    "Allow: GET, HEAD\r\n"
	    "\r\n");

	memset(&r, 0, sizeof(r));
	r.status = 301;
	r.content_length = -1;
	r.location = "/dir/";
	r.close = true;
	r.keepalive_10 = true;
	check_head("301", &r, "HTTP/1.1 301 Moved Permanently\r\n"
	    "Server: tine/" TINE_VERSION "\r\n"
	    "Date: DATE\r\n"
	    "Location: /dir/\r\n"
	    "Connection: close\r\n"
	    "\r\n");

	memset(&r, 0, sizeof(r));
	r.status = 204;
	r.content_length = 0;
	check_head("204", &r, "HTTP/1.1 204 No Content\r\n"
	    "Server: tine/" TINE_VERSION "\r\n"
	    "Date: DATE\r\n"
	    "\r\n");

	memset(&r, 0, sizeof(r));
	r.status = 503;
	r.content_length = 7;
	r.content_type = "text/html; charset=utf-8";
	r.retry_after = 1;
	check_head("503 Retry-After", &r, "HTTP/1.1 503 Service Unavailable\r\n"
	    "Server: tine/" TINE_VERSION "\r\n"
	    "Date: DATE\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: 7\r\n"
	    "Retry-After: 1\r\n"
	    "\r\n");

	memset(&r, 0, sizeof(r));
	r.status = 200;
	r.content_length = 2;
	r.content_type = "application/json";
	r.vary = "Accept";
	check_head("200 Vary", &r, "HTTP/1.1 200 OK\r\n"
	    "Server: tine/" TINE_VERSION "\r\n"
	    "Date: DATE\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: 2\r\n"
	    "Vary: Accept\r\n"
	    "\r\n");

	memset(&r, 0, sizeof(r));
	r.status = 100;
	r.content_length = 5;
	check_head("100", &r, "HTTP/1.1 100 Continue\r\n\r\n");

	memset(&r, 0, sizeof(r));
	r.status = 599;
	r.content_length = -1;
	check_head("unknown 599", &r, "HTTP/1.1 599 Server Error\r\n"
	    "Server: tine/" TINE_VERSION "\r\n"
	    "Date: DATE\r\n"
	    "\r\n");

	r.status = 99;
	unit_check(http_build_head(buf, sizeof(buf), &r) == -1,
	    "build_head: status 99 refused");
	r.status = 301;
	r.location = "/a\r\nSet-Cookie: x=1";
	unit_check(http_build_head(buf, sizeof(buf), &r) == -1,
	    "build_head: CRLF in Location refused");
}

static void
test_error_pages(void)
{
	static const int codes[] = {
		400, 403, 404, 405, 408, 412, 413, 414, 416, 417, 431, 500,
		501, 503, 505, 301,
	};
	static const char evil[] = "GET /<script>alert(1)</script>?q=%0a"
	    " HTTP/1.1\r\nHost: h\r\n\r\n";
	struct http_request req;
	const char *b, *b2;
	char title[128], h1[128];
	size_t i, len, len2;
	bool ok;

	for (i = 0; i < nitems(codes); i++) {
		b = http_error_body(codes[i], &len);
		snprintf(title, sizeof(title), "<title>%d %s</title>",
		    codes[i], http_reason(codes[i]));
		snprintf(h1, sizeof(h1), "<h1>%d %s</h1>", codes[i],
		    http_reason(codes[i]));
		b2 = http_error_body(codes[i], &len2);
		ok = b != NULL && len == strlen(b) && b == b2 &&
		    len == len2 && strncmp(b, "<!doctype html>", 15) == 0 &&
		    strstr(b, "<meta name=\"viewport\"") != NULL &&
		    strstr(b, "<style>") != NULL && strstr(b, title) != NULL &&
		    strstr(b, h1) != NULL && strstr(b, "<p>") != NULL &&
		    strstr(b, "</html>\n") != NULL;
		unit_check(ok, "error page %d: %s", codes[i], title);
	}
	b = http_error_body(599, &len);
	unit_check(b != NULL && len == strlen(b) &&
	    strncmp(b, "<!doctype html>", 15) == 0 &&
	    strstr(b, "<h1>") != NULL, "error page: unknown status is generic");

	/* Parse a hostile request, then look for any of it in the pages. */
	(void)http_parse_head(evil, sizeof(evil) - 1, &req);
	ok = true;
	for (i = 0; i < nitems(codes); i++) {
		b = http_error_body(codes[i], &len);
		if (strstr(b, "script") != NULL || strstr(b, "alert") != NULL ||
		    strstr(b, "%0a") != NULL)
			ok = false;
	}
	unit_check(ok, "error pages never echo request data");

	unit_check(strcmp(http_reason(404), "Not Found") == 0 &&
	    strcmp(http_reason(431), "Request Header Fields Too Large") == 0 &&
	    strcmp(http_reason(413), "Content Too Large") == 0 &&
	    strcmp(http_reason(505), "HTTP Version Not Supported") == 0,
	    "reason phrases");
	unit_check(strcmp(http_reason(499), "Client Error") == 0 &&
	    strcmp(http_reason(42), "Unknown") == 0,
	    "reason phrase of unknown codes");
}

static void
test_tchar(void)
{
	static const char tchars[] = "!#$%&'*+-.^_`|~";
	int c, n = 0;
	bool ok = true;

	for (c = 0; c < 256; c++) {
		bool want = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') ||
		    (c != 0 && strchr(tchars, c) != NULL);

		if (http_is_tchar((unsigned char)c) != want)
			ok = false;
		n += want;
	}
	unit_check(ok && n == 77, "is_tchar: all 256 bytes (%d tchars)", n);
}

int
main(void)
{
	test_scan();
	test_scan_limits();
	test_parse();
	test_parse_more();
	test_body();
	test_preconditions();
	test_ranges();
	test_numbers();
	test_dates();
	test_etag();
	test_etag_printf();
	test_accept();
	test_query();
	test_accept_encoding();
	test_build_head();
	test_error_pages();
	test_tchar();
	return unit_done();
}
