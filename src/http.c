/*
 * http.c: HTTP/1.1 request heads (RFC 9112), body discarding, the
 * conditional and range rules of RFC 9110, and the one place that writes
 * a status line and header block. Pure functions over caller buffers:
 * no I/O, no allocation, and nothing from log.c or util.c, so the unit
 * test and the fuzz harness link this file alone.
 */

#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tine.h"
#include "http.h"

/*
 * Every size and range is an off_t; the code below assumes it is 64 bits
 * (true on Debian's 64-bit targets and with _FILE_OFFSET_BITS=64).
 */
_Static_assert(sizeof(off_t) == sizeof(int64_t), "off_t must be 64 bits");
#define HTTP_OFF_MAX	((off_t)INT64_MAX)

/*
 * Byte classes, computed at compile time from the RFC grammars so the
 * table cannot drift from the rules it encodes.
 */
#define HC_TCHAR	0x01	/* RFC 9110 §5.6.2 tchar */
#define HC_TARGET	0x02	/* may appear raw in a request-target */
#define HC_HOST		0x04	/* reg-name byte (RFC 3986 §3.2.2), no ',' */
#define HC_HEX		0x08
#define HC_DIGIT	0x10
#define HC_ETAGC	0x20	/* RFC 9110 §8.8.3 etagc */
#define HC_FIELD	0x40	/* field-vchar, SP or HTAB (§5.5) */

#define HC_ALPHA_(c)	(((c) >= 'a' && (c) <= 'z') || \
			    ((c) >= 'A' && (c) <= 'Z'))
#define HC_DIGIT_(c)	((c) >= '0' && (c) <= '9')
#define HC_HEX_(c)	(HC_DIGIT_(c) || ((c) >= 'a' && (c) <= 'f') || \
			    ((c) >= 'A' && (c) <= 'F'))
#define HC_UNRES_(c)	(HC_ALPHA_(c) || HC_DIGIT_(c) || (c) == '-' || \
			    (c) == '.' || (c) == '_' || (c) == '~')
#define HC_SUBDELIM_(c)	((c) == '!' || (c) == '$' || (c) == '&' || \
			    (c) == '\'' || (c) == '(' || (c) == ')' || \
			    (c) == '*' || (c) == '+' || (c) == ',' || \
			    (c) == ';' || (c) == '=')
#define HC_TCHAR_(c)	(HC_ALPHA_(c) || HC_DIGIT_(c) || (c) == '!' || \
			    (c) == '#' || (c) == '$' || (c) == '%' || \
			    (c) == '&' || (c) == '\'' || (c) == '*' || \
			    (c) == '+' || (c) == '-' || (c) == '.' || \
			    (c) == '^' || (c) == '_' || (c) == '`' || \
			    (c) == '|' || (c) == '~')
/*
 * Target bytes: RFC 3986 pchar, '/', '?', '#' and '%' (checked for two
 * hex digits apart), plus the bytes the WHATWG URL standard lets
 * browsers send raw ('[', ']', '{', '}', '|', '^', '`') and bytes >= 0x80
 * (raw UTF-8). CTLs, SP, DEL, '"', '<', '>' and '\' are never valid.
 */
#define HC_TARGET_(c)	(HC_UNRES_(c) || HC_SUBDELIM_(c) || (c) == ':' || \
			    (c) == '@' || (c) == '/' || (c) == '?' || \
			    (c) == '#' || (c) == '%' || (c) == '[' || \
			    (c) == ']' || (c) == '{' || (c) == '}' || \
			    (c) == '|' || (c) == '^' || (c) == '`' || \
			    (c) >= 0x80)
#define HC_HOST_(c)	((HC_UNRES_(c) || HC_SUBDELIM_(c)) && (c) != ',')
#define HC_ETAGC_(c)	((c) == 0x21 || ((c) >= 0x23 && (c) <= 0x7e) || \
			    (c) >= 0x80)
#define HC_FIELD_(c)	(((c) >= 0x20 && (c) != 0x7f) || (c) == '\t')
#define HC_(c)		((HC_TCHAR_(c) ? HC_TCHAR : 0) | \
			    (HC_TARGET_(c) ? HC_TARGET : 0) | \
			    (HC_HOST_(c) ? HC_HOST : 0) | \
			    (HC_HEX_(c) ? HC_HEX : 0) | \
			    (HC_DIGIT_(c) ? HC_DIGIT : 0) | \
			    (HC_ETAGC_(c) ? HC_ETAGC : 0) | \
			    (HC_FIELD_(c) ? HC_FIELD : 0))
#define HC4_(c)		HC_(c), HC_((c) + 1), HC_((c) + 2), HC_((c) + 3)
#define HC16_(c)	HC4_(c), HC4_((c) + 4), HC4_((c) + 8), HC4_((c) + 12)
#define HC64_(c)	HC16_(c), HC16_((c) + 16), HC16_((c) + 32), \
			    HC16_((c) + 48)

static const uint8_t http_class[256] = {
	HC64_(0), HC64_(64), HC64_(128), HC64_(192)
};

#define HTTP_IS(c, cls)	((http_class[(unsigned char)(c)] & (cls)) != 0)
#define HTTP_IS_OWS(c)	((c) == ' ' || (c) == '\t')

/* Header fields the parser acts on; the rest are skipped. */
enum http_field {
	HF_HOST,
	HF_USER_AGENT,
	HF_REFERER,
	HF_IF_MATCH,
	HF_IF_NONE_MATCH,
	HF_IF_MODIFIED_SINCE,
	HF_IF_UNMODIFIED_SINCE,
	HF_IF_RANGE,
	HF_RANGE,
	HF_ACCEPT,
	HF_CONNECTION,
	HF_EXPECT,
	HF_CONTENT_LENGTH,
	HF_TRANSFER_ENCODING,
	HF_AUTHORIZATION,
	HF_ACCEPT_ENCODING,
	HF_COUNT
};

static const struct {
	const char	*name;
	size_t		 len;
} http_fields[HF_COUNT] = {
#define HF_NAME(s)	{ s, sizeof(s) - 1 }
	[HF_HOST] = HF_NAME("Host"),
	[HF_USER_AGENT] = HF_NAME("User-Agent"),
	[HF_REFERER] = HF_NAME("Referer"),
	[HF_IF_MATCH] = HF_NAME("If-Match"),
	[HF_IF_NONE_MATCH] = HF_NAME("If-None-Match"),
	[HF_IF_MODIFIED_SINCE] = HF_NAME("If-Modified-Since"),
	[HF_IF_UNMODIFIED_SINCE] = HF_NAME("If-Unmodified-Since"),
	[HF_IF_RANGE] = HF_NAME("If-Range"),
	[HF_RANGE] = HF_NAME("Range"),
	[HF_ACCEPT] = HF_NAME("Accept"),
	[HF_CONNECTION] = HF_NAME("Connection"),
	[HF_EXPECT] = HF_NAME("Expect"),
	[HF_AUTHORIZATION] = HF_NAME("Authorization"),
	[HF_ACCEPT_ENCODING] = HF_NAME("Accept-Encoding"),
	[HF_CONTENT_LENGTH] = HF_NAME("Content-Length"),
	[HF_TRANSFER_ENCODING] = HF_NAME("Transfer-Encoding"),
#undef HF_NAME
};

static const struct {
	const char		*name;
	size_t			 len;
	enum http_method	 method;
} http_methods[] = {
#define HM_NAME(s, m)	{ s, sizeof(s) - 1, m }
	HM_NAME("GET", HTTP_METHOD_GET),
	HM_NAME("HEAD", HTTP_METHOD_HEAD),
	HM_NAME("OPTIONS", HTTP_METHOD_OPTIONS),
	HM_NAME("POST", HTTP_METHOD_POST),
	HM_NAME("PUT", HTTP_METHOD_PUT),
	HM_NAME("DELETE", HTTP_METHOD_DELETE),
	HM_NAME("PATCH", HTTP_METHOD_PATCH),
	HM_NAME("CONNECT", HTTP_METHOD_CONNECT),
	HM_NAME("TRACE", HTTP_METHOD_TRACE),
#undef HM_NAME
};

/* What the field loop remembers between lines; local to one parse. */
struct http_parse {
	unsigned	 seen[HF_COUNT];
	int		 deferred;	/* 417/501, reported if no 400 */
	bool		 te_chunked;	/* chunked seen in Transfer-Encoding */
	bool		 te_other;	/* a coding we do not implement */
	bool		 te_bad;	/* chunked twice, with a parameter, or
					   not last */
};

/* A cursor over a comma-separated field value (RFC 9110 §5.6.1). */
struct http_list {
	const char	*p;
	const char	*end;
	bool		 done;
};

static bool
http_str_eq(struct http_str s, const char *lit, size_t len)
{
	return s.len == len && strncasecmp(s.p, lit, len) == 0;
}

static struct http_str
http_trim(const char *p, size_t n)
{
	struct http_str s;

	while (n > 0 && HTTP_IS_OWS(p[0])) {
		p++;
		n--;
	}
	while (n > 0 && HTTP_IS_OWS(p[n - 1]))
		n--;
	s.p = p;
	s.len = n;
	return s;
}

static void
http_list_init(struct http_list *l, struct http_str v)
{
	l->p = v.p;
	l->end = v.p + v.len;
	l->done = false;
}

/*
 * Yields each element, OWS-trimmed, empty ones included so the caller
 * decides whether "a,,b" is acceptable (§5.6.1.2 says recipients skip
 * them in true lists; Content-Length is not one).
 */
static bool
http_list_next(struct http_list *l, struct http_str *e)
{
	const char *c;

	if (l->done)
		return false;
	c = memchr(l->p, ',', (size_t)(l->end - l->p));
	if (c == NULL) {
		c = l->end;
		l->done = true;
	}
	*e = http_trim(l->p, (size_t)(c - l->p));
	l->p = l->done ? c : c + 1;
	return true;
}

bool
http_is_tchar(unsigned char c)
{
	return HTTP_IS(c, HC_TCHAR);
}

/*
 * RFC 9110 §8.6 / §14.1.1 numbers: 1*DIGIT, no sign, no whitespace,
 * overflow checked before each step.
 */
off_t
http_parse_uint(const char *p, size_t n)
{
	off_t v = 0;
	size_t i;
	int d;

	if (p == NULL || n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!HTTP_IS(p[i], HC_DIGIT))
			return -1;
		d = p[i] - '0';
		if (v > (HTTP_OFF_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	return v;
}

/*
 * Range positions saturate instead of failing: "bytes=0-99999999999999999999"
 * is a valid range whose end lies past any file (§14.1.1 says a last-pos
 * beyond the representation is replaced by its end).
 */
static bool
http_parse_pos(const char *p, size_t n, off_t *out)
{
	off_t v = 0;
	size_t i;
	int d;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		if (!HTTP_IS(p[i], HC_DIGIT))
			return false;
		d = p[i] - '0';
		if (v > (HTTP_OFF_MAX - d) / 10)
			v = HTTP_OFF_MAX;
		else
			v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* ---- end-of-head scan ---- */

/*
 * RFC 9112 §2.2: lines end in CRLF or a lone LF; a CR anywhere else is
 * an error; empty lines before the request line are skipped. Only new
 * bytes are examined, a line at a time with memchr: looking back one or
 * two bytes at an LF tells whether its line was empty, because the
 * buffer keeps every byte already scanned. Bytes at or past max are
 * never examined, so a head of exactly max bytes fits and the byte after
 * it is the limit error, whatever it is.
 */
int
http_scan_head(struct http_scan *scan, const char *buf, size_t len,
    size_t max, size_t *head_len)
{
	const char *lf, *cr;
	size_t i = scan->pos, lim = len < max ? len : max, stop;
	bool empty;

	while (i < lim) {
		lf = memchr(buf + i, '\n', lim - i);
		stop = lf != NULL ? (size_t)(lf - buf) : lim;
		if (memchr(buf + i, '\0', stop - i) != NULL)
			return HTTP_BAD_REQUEST;
		for (cr = memchr(buf + i, '\r', stop - i); cr != NULL;
		    cr = memchr(cr + 1, '\r', (size_t)(buf + stop - cr - 1))) {
			if (cr + 1 == buf + len) {
				/* Its LF may be next: look again then. */
				scan->pos = len - 1;
				return 0;
			}
			if (cr[1] != '\n')
				return HTTP_BAD_REQUEST;
		}
		if (lf == NULL) {
			i = lim;
			break;
		}
		i = stop;
		empty = i == 0 || buf[i - 1] == '\n' ||
		    (buf[i - 1] == '\r' && (i == 1 || buf[i - 2] == '\n'));
		i++;
		if (!empty)
			scan->line_done = true;
		else if (!scan->line_done)
			scan->skip = i;
		else {
			scan->pos = i;
			*head_len = i;
			return 1;
		}
	}
	scan->pos = i;
	if (i >= max && len > max)
		return scan->line_done ? HTTP_HEADERS_TOO_LARGE :
		    HTTP_URI_TOO_LONG;
	return 0;
}

/* ---- head parser ---- */

/* Next line of [*pp, end) without its CRLF or LF; false if none ends. */
static bool
http_next_line(const char **pp, const char *end, struct http_str *line)
{
	const char *lf;

	lf = memchr(*pp, '\n', (size_t)(end - *pp));
	if (lf == NULL)
		return false;
	line->p = *pp;
	line->len = (size_t)(lf - *pp);
	if (line->len > 0 && line->p[line->len - 1] == '\r')
		line->len--;
	*pp = lf + 1;
	return true;
}

/* Length of the head in buf (leading empty lines included), or len. */
static size_t
http_head_end(const char *buf, size_t len)
{
	struct http_str line;
	const char *p = buf, *end = buf + len;
	bool started = false;

	while (http_next_line(&p, end, &line)) {
		if (line.len > 0)
			started = true;
		else if (started)
			return (size_t)(p - buf);
	}
	return len;
}

/*
 * host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2). IPv6 literals go
 * through inet_pton; IPvFuture and zone ids are refused. An empty port
 * ("host:") is valid (RFC 3986 §3.2.3: port = *DIGIT, and §6.2.3 makes
 * it the default port) and RFC 9112 §3.2 only allows 400 for an invalid
 * Host, so it is accepted, except where a port is required.
 */
static bool
http_host_valid(const char *p, size_t n, bool need_port)
{
	char a6[INET6_ADDRSTRLEN];
	struct in6_addr in6;
	const char *end = p + n, *rb;
	off_t port;
	size_t i;

	if (n == 0)
		return !need_port;
	if (p[0] == '[') {
		rb = memchr(p, ']', n);
		if (rb == NULL || (size_t)(rb - p - 1) >= sizeof(a6) ||
		    rb - p - 1 == 0)
			return false;
		memcpy(a6, p + 1, (size_t)(rb - p - 1));
		a6[rb - p - 1] = '\0';
		if (inet_pton(AF_INET6, a6, &in6) != 1)
			return false;
		p = rb + 1;
	} else {
		for (i = 0; p + i < end && p[i] != ':'; i++) {
			if (p[i] == '%') {
				if (end - (p + i) < 3 ||
				    !HTTP_IS(p[i + 1], HC_HEX) ||
				    !HTTP_IS(p[i + 2], HC_HEX))
					return false;
				i += 2;
			} else if (!HTTP_IS(p[i], HC_HOST))
				return false;
		}
		if (i == 0)
			return false;	/* ":80" has no host */
		p += i;
	}
	if (p == end)
		return !need_port;
	if (*p != ':' || end - p > 6)
		return false;
	if (end - p == 1)
		return !need_port;	/* "host:" */
	port = http_parse_uint(p + 1, (size_t)(end - p - 1));
	return port >= 0 && port <= 65535;
}

/*
 * Checks every target byte once and splits origin paths at the first
 * '?' (query) and '#' (fragment, which clients must not send but which
 * is dropped rather than refused).
 */
static int
http_parse_target(struct http_request *req)
{
	const char *p = req->target.p, *end = p + req->target.len;
	const char *q = NULL, *frag = NULL, *s, *path;
	size_t i, n = req->target.len;

	for (i = 0; i < n; i++) {
		if (!HTTP_IS(p[i], HC_TARGET))
			return HTTP_BAD_REQUEST;
		if (p[i] == '%') {
			if (n - i < 3 || !HTTP_IS(p[i + 1], HC_HEX) ||
			    !HTTP_IS(p[i + 2], HC_HEX))
				return HTTP_BAD_REQUEST;
			i += 2;
		} else if (p[i] == '#') {
			if (frag != NULL)
				return HTTP_BAD_REQUEST;
			frag = p + i;
		} else if (p[i] == '?' && q == NULL && frag == NULL)
			q = p + i;
	}
	if (frag != NULL)
		end = frag;

	if (n == 1 && p[0] == '*') {
		/* §3.2.4 asterisk-form: OPTIONS only. */
		if (req->method != HTTP_METHOD_OPTIONS)
			return HTTP_BAD_REQUEST;
		req->asterisk = true;
		req->path = req->target;
		return 0;
	}

	if (p[0] == '/')
		path = p;
	else if ((n > 7 && strncasecmp(p, "http://", 7) == 0) ||
	    (n > 8 && strncasecmp(p, "https://", 8) == 0)) {
		/*
		 * §3.2.2 absolute-form: the authority replaces Host
		 * (§3.2.2: "MUST ignore the received Host header field").
		 * userinfo is refused by http_host_valid ('@').
		 */
		s = p + (p[4] == ':' ? 7 : 8);	/* after "//" */
		for (path = s; path < end && *path != '/' && *path != '?';
		    path++)
			;
		if (!http_host_valid(s, (size_t)(path - s), false) ||
		    path == s)
			return HTTP_BAD_REQUEST;
		req->host.p = s;
		req->host.len = (size_t)(path - s);
		if (path == end || *path == '?') {
			/*
			 * Empty path: "/" (§4.2.3). The second slash of
			 * "//" stands in for it so path still points into
			 * the head buffer. OPTIONS with no path means "*"
			 * (§3.2.4).
			 */
			req->path.p = s - 1;
			req->path.len = 1;
			if (req->method == HTTP_METHOD_OPTIONS)
				req->asterisk = true;
			goto query;
		}
	} else if (req->method == HTTP_METHOD_CONNECT) {
		/* §3.2.3 authority-form; the handler refuses CONNECT. */
		if (!http_host_valid(p, n, true))
			return HTTP_BAD_REQUEST;
		req->path = req->target;
		return 0;
	} else
		return HTTP_BAD_REQUEST;

	req->path.p = path;
	req->path.len = (size_t)((q != NULL ? q : end) - path);
query:
	if (q != NULL) {
		req->query.p = q + 1;
		req->query.len = (size_t)(end - q - 1);
	}
	return 0;
}

/*
 * HTTP-version (RFC 9112 §2.3): "HTTP/" DIGIT "." DIGIT, case-sensitive.
 * 1.x with x >= 2 is answered as 1.1 (§2.3: a recipient of a higher minor
 * version treats it as the highest it supports). Another major is a
 * well-formed version we do not speak: 505. The single-digit forms
 * "HTTP/2" and "HTTP/3" are what those protocols call themselves and get
 * 505 too; everything else is malformed: 400.
 */
static int
http_parse_version(struct http_str v, int *minor)
{
	if (v.len < 6 || memcmp(v.p, "HTTP/", 5) != 0 ||
	    !HTTP_IS(v.p[5], HC_DIGIT))
		return HTTP_BAD_REQUEST;
	if (v.len == 6)
		return v.p[5] == '1' ? HTTP_BAD_REQUEST :
		    HTTP_VERSION_NOT_SUPPORTED;
	if (v.len != 8 || v.p[6] != '.' || !HTTP_IS(v.p[7], HC_DIGIT))
		return HTTP_BAD_REQUEST;
	if (v.p[5] != '1')
		return HTTP_VERSION_NOT_SUPPORTED;
	*minor = v.p[7] == '0' ? 0 : 1;
	return 0;
}

/* method SP request-target SP HTTP-version (RFC 9112 §3). */
static int
http_parse_request_line(struct http_str line, struct http_request *req)
{
	const char *p = line.p, *end = line.p + line.len, *sp;
	struct http_str version;
	size_t i;
	int status;

	req->line = line;
	while (p < end && HTTP_IS(*p, HC_TCHAR))
		p++;
	if (p == line.p || p == end || *p != ' ')
		return HTTP_BAD_REQUEST;
	req->method_str.p = line.p;
	req->method_str.len = (size_t)(p - line.p);
	req->method = HTTP_METHOD_UNKNOWN;
	for (i = 0; i < nitems(http_methods); i++)
		if (http_methods[i].len == req->method_str.len &&
		    memcmp(http_methods[i].name, line.p,
		    http_methods[i].len) == 0) {
			req->method = http_methods[i].method;
			break;
		}

	p++;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (sp == NULL || sp == p)
		return HTTP_BAD_REQUEST;
	req->target.p = p;
	req->target.len = (size_t)(sp - p);
	version.p = sp + 1;
	version.len = (size_t)(end - sp - 1);

	/* The version decides how the rest is read, so it goes first. */
	if ((status = http_parse_version(version, &req->minor)) != 0)
		return status;
	return http_parse_target(req);
}

/*
 * Transfer-Encoding (RFC 9112 §6.1, §6.3): codings are gathered over
 * every field line; the verdict waits for the end of the head.
 */
static int
http_parse_te(struct http_parse *st, struct http_str v)
{
	struct http_list l;
	struct http_str e;
	size_t n;

	http_list_init(&l, v);
	while (http_list_next(&l, &e)) {
		if (e.len == 0)
			continue;
		for (n = 0; n < e.len && HTTP_IS(e.p[n], HC_TCHAR); n++)
			;
		if (n == 0)
			return HTTP_BAD_REQUEST;
		if (n == 7 && strncasecmp(e.p, "chunked", 7) == 0) {
			/* chunked takes no parameters, and only once. */
			if (n != e.len || st->te_chunked)
				st->te_bad = true;
			st->te_chunked = true;
		} else {
			if (st->te_chunked)
				st->te_bad = true;	/* not last */
			st->te_other = true;
		}
	}
	return 0;
}

/* Content-Length (RFC 9110 §8.6, RFC 9112 §6.3 item 5). */
static int
http_parse_cl(struct http_request *req, struct http_str v)
{
	struct http_list l;
	struct http_str e;
	off_t n;

	http_list_init(&l, v);
	while (http_list_next(&l, &e)) {
		/*
		 * "5, 5" and a repeated line with the same value are one
		 * length (§8.6); anything else could desynchronise us from
		 * an intermediary, so it is 400.
		 */
		if ((n = http_parse_uint(e.p, e.len)) < 0)
			return HTTP_BAD_REQUEST;
		if (req->content_length >= 0 && req->content_length != n)
			return HTTP_BAD_REQUEST;
		req->content_length = n;
	}
	return 0;
}

static int
http_parse_field(struct http_request *req, struct http_parse *st,
    struct http_str line)
{
	struct http_list l;
	struct http_str name, v, e;
	size_t i, n;
	int f;

	/* §5.2: obs-fold, and whitespace after the start line, are 400. */
	for (n = 0; n < line.len && HTTP_IS(line.p[n], HC_TCHAR); n++)
		;
	if (n == 0 || n == line.len || line.p[n] != ':')
		return HTTP_BAD_REQUEST;
	name.p = line.p;
	name.len = n;
	for (i = n + 1; i < line.len; i++)
		if (!HTTP_IS(line.p[i], HC_FIELD))
			return HTTP_BAD_REQUEST;	/* CR, NUL, CTL */
	v = http_trim(line.p + n + 1, line.len - n - 1);

	for (f = 0; f < HF_COUNT; f++)
		if (http_str_eq(name, http_fields[f].name, http_fields[f].len))
			break;
	if (f == HF_COUNT)
		return 0;
	st->seen[f]++;

	switch (f) {
	case HF_HOST:
		/* §7.2 / RFC 9112 §3.2: one valid Host, in any version. */
		if (st->seen[f] > 1 || !http_host_valid(v.p, v.len, false))
			return HTTP_BAD_REQUEST;
		if (req->host.p == NULL)	/* absolute-form wins */
			req->host = v;
		break;
	case HF_USER_AGENT:
		if (st->seen[f] == 1)
			req->user_agent = v;
		break;
	case HF_REFERER:
		if (st->seen[f] == 1)
			req->referer = v;
		break;
	case HF_ACCEPT:
		if (st->seen[f] == 1)
			req->accept = v;
		req->accept_multi = st->seen[f] > 1;
		break;
	case HF_IF_MATCH:
		if (st->seen[f] == 1)
			req->if_match = v;
		req->has_if_match = true;
		req->if_match_multi = st->seen[f] > 1;
		break;
	case HF_IF_NONE_MATCH:
		if (st->seen[f] == 1)
			req->if_none_match = v;
		req->has_if_none_match = true;
		req->if_none_match_multi = st->seen[f] > 1;
		break;
	case HF_IF_MODIFIED_SINCE:
		if (st->seen[f] == 1)
			req->if_modified_since = v;
		break;
	case HF_IF_UNMODIFIED_SINCE:
		if (st->seen[f] == 1)
			req->if_unmodified_since = v;
		break;
	case HF_IF_RANGE:
		if (st->seen[f] == 1)
			req->if_range = v;
		break;
	case HF_RANGE:
		if (st->seen[f] == 1)
			req->range = v;
		break;
	case HF_AUTHORIZATION:
		if (st->seen[f] == 1)
			req->authorization = v;
		req->authorization_multi = st->seen[f] > 1;
		break;
	case HF_ACCEPT_ENCODING:
		if (st->seen[f] == 1)
			req->accept_encoding = v;
		req->has_accept_encoding = true;
		req->accept_encoding_multi = st->seen[f] > 1;
		break;
	case HF_CONNECTION:
		/* §7.6.1: a list of tokens; unknown options are ignored. */
		http_list_init(&l, v);
		while (http_list_next(&l, &e)) {
			if (http_str_eq(e, "close", 5))
				req->conn_close = true;
			else if (http_str_eq(e, "keep-alive", 10))
				req->conn_keepalive = true;
		}
		break;
	case HF_EXPECT:
		/* §10.1.1: only 100-continue is defined; others get 417. */
		http_list_init(&l, v);
		while (http_list_next(&l, &e)) {
			if (e.len == 0)
				continue;
			if (http_str_eq(e, "100-continue", 12))
				req->expect_continue = true;
			else if (st->deferred == 0)
				st->deferred = HTTP_EXPECTATION_FAILED;
		}
		break;
	case HF_CONTENT_LENGTH:
		return http_parse_cl(req, v);
	case HF_TRANSFER_ENCODING:
		return http_parse_te(st, v);
	}
	return 0;
}

/*
 * Repeated fields, decided here once:
 * - Host: 400 (RFC 9112 §3.2).
 * - Content-Length: equal values are one length, different ones 400.
 * - Transfer-Encoding, Connection, Expect: lists, every line counts.
 * - If-Match, If-None-Match: lists; the first line is kept in req and
 *   *_multi tells http_preconditions() to walk req->fields for the
 *   others, so the combined list is honoured without copying.
 * - If-Modified-Since, If-Unmodified-Since: two lines are a list of
 *   dates, which §13.1.3/§13.1.4 say to ignore; they are dropped.
 * - Range, If-Range: a second line makes the range ambiguous; Range is
 *   dropped and the whole representation is sent (always correct).
 * - Accept: a list; the first line is kept in req (the status endpoint
 *   looks at it alone) and accept_multi tells http_accept_quality() to
 *   walk req->fields for the whole list.
 * - User-Agent, Referer: the first line is kept.
 */
int
http_parse_head(const char *buf, size_t len, struct http_request *req)
{
	struct http_parse st;
	struct http_str line;
	const char *p = buf, *end = buf + len, *fields;
	int status;

	memset(req, 0, sizeof(*req));
	memset(&st, 0, sizeof(st));
	req->content_length = -1;
	req->head_len = len;

	/* RFC 9112 §2.2: empty lines before the request line. */
	for (;;) {
		if (p < end && *p == '\n')
			p++;
		else if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
			p += 2;
		else
			break;
	}
	status = HTTP_BAD_REQUEST;
	if (!http_next_line(&p, end, &line))
		goto fail;
	if ((status = http_parse_request_line(line, req)) != 0)
		goto fail;

	fields = p;
	for (;;) {
		status = HTTP_BAD_REQUEST;
		if (!http_next_line(&p, end, &line))
			goto fail;
		if (line.len == 0)
			break;
		if ((status = http_parse_field(req, &st, line)) != 0)
			goto fail;
	}
	req->head_len = (size_t)(p - buf);
	req->fields.p = fields;
	req->fields.len = (size_t)(line.p - fields);

	status = HTTP_BAD_REQUEST;
	if (req->minor == 1 && st.seen[HF_HOST] == 0)
		goto fail;
	if (st.seen[HF_TRANSFER_ENCODING] > 0) {
		/*
		 * RFC 9112 §6.1: an HTTP/1.0 message with
		 * Transfer-Encoding has faulty framing; §6.3: with
		 * Content-Length too it may be a smuggling attempt;
		 * chunked not last leaves the length unknowable. Only
		 * then is an unknown coding 501 (§6.1).
		 */
		if (req->minor == 0 || req->content_length >= 0 ||
		    st.te_bad)
			goto fail;
		if (st.te_other) {
			if (st.deferred == 0)
				st.deferred = HTTP_NOT_IMPLEMENTED;
		} else if (!st.te_chunked)
			goto fail;		/* empty coding list */
		else
			req->chunked = true;
	}
	if (st.seen[HF_IF_MODIFIED_SINCE] > 1)
		memset(&req->if_modified_since, 0, sizeof(struct http_str));
	if (st.seen[HF_IF_UNMODIFIED_SINCE] > 1)
		memset(&req->if_unmodified_since, 0, sizeof(struct http_str));
	if (st.seen[HF_RANGE] > 1 || st.seen[HF_IF_RANGE] > 1)
		memset(&req->range, 0, sizeof(struct http_str));
	/* §10.1.1: 100-continue from an HTTP/1.0 client is ignored. */
	if (req->minor == 0)
		req->expect_continue = false;
	if (req->conn_close)
		req->conn_keepalive = false;
	return st.deferred;

fail:
	req->head_len = http_head_end(buf, len);
	return status;
}

/* ---- body discarder ---- */

enum http_body_state {
	HB_DONE = 0,
	HB_LENGTH,		/* Content-Length bytes */
	HB_SIZE,		/* chunk-size hex digits */
	HB_EXT_BWS,		/* BWS after the size, before ';' */
	HB_EXT,			/* chunk-ext, skipped */
	HB_SIZE_LF,		/* CR seen, LF must follow */
	HB_DATA,
	HB_DATA_CR,		/* CRLF after chunk-data */
	HB_DATA_LF,
	HB_TRAILER,		/* start of a trailer line or the end */
	HB_TRAILER_LINE,
	HB_TRAILER_LF,
	HB_END_LF,		/* CR of the final empty line seen */
};

int
http_body_init(struct http_body *b, const struct http_request *req,
    off_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
	if (req->chunked)
		b->state = HB_SIZE;
	else if (req->content_length > 0) {
		if (req->content_length > limit)
			return HTTP_CONTENT_TOO_LARGE;
		b->state = HB_LENGTH;
		b->remaining = req->content_length;
	} else
		b->state = HB_DONE;
	return 0;
}

bool
http_body_done(const struct http_body *b)
{
	return b->state == HB_DONE;
}

/* One line of chunk-ext or trailer has a bound of its own. */
static int
http_body_meta(struct http_body *b)
{
	if (++b->line_len > HTTP_CHUNK_LINE_MAX)
		return HTTP_BAD_REQUEST;
	return 0;
}

/*
 * RFC 9112 §7.1 chunked-body, one byte at a time except chunk data,
 * so any split of the input gives the same result. Lone LF is accepted
 * wherever CRLF is (§2.2). Chunk extensions and trailer fields are
 * skipped: nothing here uses them.
 *
 * Every byte of a chunked body counts against the limit, framing
 * included: counting only chunk data would let "0000000001\r\nx\r\n"
 * carry one byte of data in fifteen on the wire, so a client could
 * make the worker read many times max_body_size. Framing also has its
 * own bound, HTTP_CHUNK_META_MAX, beyond which the body is malformed
 * (400) whatever the limit: it is parsed a byte at a time.
 */
int
http_body_consume(struct http_body *b, const char *buf, size_t len,
    size_t *used)
{
	size_t i = 0, n;
	unsigned char c;
	int d, status = 0;

	while (i < len && b->state != HB_DONE) {
		if (b->state == HB_LENGTH || b->state == HB_DATA) {
			n = len - i;
			if ((off_t)n > b->remaining)
				n = (size_t)b->remaining;
			b->remaining -= (off_t)n;
			b->total += (off_t)n;
			i += n;
			/* Chunk data fitted, but not with its size line. */
			if (b->total > b->limit) {
				status = HTTP_CONTENT_TOO_LARGE;
				goto fail;
			}
			if (b->remaining == 0)
				b->state = b->state == HB_LENGTH ? HB_DONE :
				    HB_DATA_CR;
			continue;
		}
		c = (unsigned char)buf[i++];
		if (++b->total > b->limit) {
			status = HTTP_CONTENT_TOO_LARGE;
			goto fail;
		}
		if (++b->meta > HTTP_CHUNK_META_MAX)
			goto bad;
		switch (b->state) {
		case HB_SIZE:
			if (HTTP_IS(c, HC_HEX)) {
				d = HTTP_IS(c, HC_DIGIT) ? c - '0' :
				    (c | 0x20) - 'a' + 10;
				if (b->remaining > (HTTP_OFF_MAX - d) / 16) {
					status = HTTP_CONTENT_TOO_LARGE;
					goto fail;
				}
				b->remaining = b->remaining * 16 + d;
				if (b->remaining > b->limit - b->total) {
					status = HTTP_CONTENT_TOO_LARGE;
					goto fail;
				}
				if (++b->line_len > HTTP_CHUNK_LINE_MAX) {
					status = HTTP_BAD_REQUEST;
					goto fail;
				}
				break;
			}
			if (b->line_len == 0)
				goto bad;	/* 1*HEXDIG */
			if (c == ';')
				b->state = HB_EXT;
			else if (HTTP_IS_OWS(c))
				b->state = HB_EXT_BWS;
			else if (c == '\r')
				b->state = HB_SIZE_LF;
			else if (c == '\n')
				goto size_line;
			else
				goto bad;
			break;
		case HB_EXT_BWS:
			if ((status = http_body_meta(b)) != 0)
				goto fail;
			if (c == ';')
				b->state = HB_EXT;
			else if (!HTTP_IS_OWS(c))
				goto bad;
			break;
		case HB_EXT:
			if (c == '\r')
				b->state = HB_SIZE_LF;
			else if (c == '\n')
				goto size_line;
			else if (!HTTP_IS(c, HC_FIELD))
				goto bad;
			else if ((status = http_body_meta(b)) != 0)
				goto fail;
			break;
		case HB_SIZE_LF:
			if (c != '\n')
				goto bad;
 size_line:
			b->line_len = 0;
			b->state = b->remaining == 0 ? HB_TRAILER : HB_DATA;
			break;
		case HB_DATA_CR:
			if (c == '\r')
				b->state = HB_DATA_LF;
			else if (c == '\n')
				b->state = HB_SIZE;
			else
				goto bad;
			break;
		case HB_DATA_LF:
			if (c != '\n')
				goto bad;
			b->state = HB_SIZE;
			break;
		case HB_TRAILER:
			if (c == '\r')
				b->state = HB_END_LF;
			else if (c == '\n')
				b->state = HB_DONE;
			else if (!HTTP_IS(c, HC_TCHAR))
				goto bad;	/* obs-fold or junk */
			else {
				b->state = HB_TRAILER_LINE;
				if ((status = http_body_meta(b)) != 0)
					goto fail;
			}
			break;
		case HB_TRAILER_LINE:
			if (c == '\r')
				b->state = HB_TRAILER_LF;
			else if (c == '\n') {
				b->line_len = 0;
				b->state = HB_TRAILER;
			} else if (!HTTP_IS(c, HC_FIELD))
				goto bad;
			else if ((status = http_body_meta(b)) != 0)
				goto fail;
			break;
		case HB_TRAILER_LF:
			if (c != '\n')
				goto bad;
			b->line_len = 0;
			b->state = HB_TRAILER;
			break;
		case HB_END_LF:
			if (c != '\n')
				goto bad;
			b->state = HB_DONE;
			break;
		default:
			goto bad;
		}
	}
	*used = i;
	return b->state == HB_DONE ? 1 : 0;

bad:
	status = HTTP_BAD_REQUEST;
fail:
	*used = i;
	return status;
}

/* ---- validators: entity-tags and dates ---- */

/*
 * Matches one field value, a list of entity-tags or "*", against the
 * current etag (RFC 9110 §8.8.3.2). A malformed list stops the walk: the
 * tags before the fault still count, nothing after it does.
 */
static bool
http_etag_list_match(struct http_str v, const char *etag, bool weak_cmp)
{
	const char *p = v.p, *end = v.p + v.len, *tag;
	const char *cur;
	size_t curlen, taglen;
	bool cur_weak, weak;

	v = http_trim(v.p, v.len);
	if (v.len == 1 && v.p[0] == '*')
		return true;		/* any current representation */
	if (etag == NULL)
		return false;
	cur = etag;
	cur_weak = strncmp(cur, "W/", 2) == 0;
	if (cur_weak)
		cur += 2;
	curlen = strlen(cur);

	for (;;) {
		while (p < end && (HTTP_IS_OWS(*p) || *p == ','))
			p++;
		if (p == end)
			return false;
		weak = false;
		if (end - p >= 2 && p[0] == 'W' && p[1] == '/') {
			weak = true;
			p += 2;
		}
		if (p == end || *p != '"')
			return false;
		tag = p++;
		while (p < end && HTTP_IS(*p, HC_ETAGC))
			p++;
		if (p == end || *p != '"')
			return false;
		p++;
		taglen = (size_t)(p - tag);
		if ((weak_cmp || (!weak && !cur_weak)) && taglen == curlen &&
		    memcmp(tag, cur, curlen) == 0)
			return true;
		while (p < end && HTTP_IS_OWS(*p))
			p++;
		if (p < end && *p != ',')
			return false;
	}
}

/*
 * If-Match / If-None-Match over every line of the field, so repeated
 * lines act as one combined list (§5.3) with no copy.
 */
static bool
http_etag_field_match(const struct http_request *req, int f,
    struct http_str first, bool multi, const char *etag, bool weak_cmp)
{
	struct http_str line, name;
	const char *p, *end, *colon;

	if (!multi)
		return http_etag_list_match(first, etag, weak_cmp);
	p = req->fields.p;
	end = p + req->fields.len;
	while (http_next_line(&p, end, &line)) {
		colon = memchr(line.p, ':', line.len);
		if (colon == NULL)
			continue;
		name.p = line.p;
		name.len = (size_t)(colon - line.p);
		if (!http_str_eq(name, http_fields[f].name, http_fields[f].len))
			continue;
		if (http_etag_list_match(http_trim(colon + 1,
		    line.len - name.len - 1), etag, weak_cmp))
			return true;
	}
	return false;
}

static const char http_day_names[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const http_day_long[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday"
};
static const char http_month_names[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* Exactly n digits, or -1. */
static int
http_digits(const char *p, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!HTTP_IS(p[i], HC_DIGIT))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* Day and month names are case-sensitive (%s"..." in §5.6.7). */
static bool
http_day_valid(const char *p)
{
	size_t i;

	for (i = 0; i < nitems(http_day_names); i++)
		if (memcmp(p, http_day_names[i], 3) == 0)
			return true;
	return false;
}

static int
http_month(const char *p)
{
	int i;

	for (i = 0; i < (int)nitems(http_month_names); i++)
		if (memcmp(p, http_month_names[i], 3) == 0)
			return i;
	return -1;
}

/* "hh:mm:ss" */
static bool
http_time_of_day(const char *p, struct tm *tm)
{
	if (p[2] != ':' || p[5] != ':')
		return false;
	tm->tm_hour = http_digits(p, 2);
	tm->tm_min = http_digits(p + 3, 2);
	tm->tm_sec = http_digits(p + 6, 2);
	/* second 60 is a leap second (§5.6.7). */
	return tm->tm_hour >= 0 && tm->tm_hour <= 23 && tm->tm_min >= 0 &&
	    tm->tm_min <= 59 && tm->tm_sec >= 0 && tm->tm_sec <= 60;
}

static bool
http_mday_valid(const struct tm *tm)
{
	static const int mdays[12] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int y = tm->tm_year + 1900;

	if (tm->tm_mday < 1 || tm->tm_mday > mdays[tm->tm_mon])
		return false;
	if (tm->tm_mon == 1 && tm->tm_mday == 29)
		return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return true;
}

/*
 * RFC 9110 §5.6.7: IMF-fixdate, or the obsolete rfc850-date and
 * asctime-date, byte for byte; the weekday must be a valid name but is
 * not checked against the date.
 */
time_t
http_parse_date(const char *s, size_t n)
{
	struct tm tm, ntm;
	const char *comma;
	size_t dl;
	int yy, year, i;
	time_t now;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL)
		return -1;
	if (n == 29 && s[3] == ',') {
		/* Sun, 06 Nov 1994 08:49:37 GMT */
		if (!http_day_valid(s) || s[4] != ' ' || s[7] != ' ' ||
		    s[11] != ' ' || s[16] != ' ' || s[25] != ' ' ||
		    memcmp(s + 26, "GMT", 3) != 0)
			return -1;
		tm.tm_mday = http_digits(s + 5, 2);
		tm.tm_mon = http_month(s + 8);
		year = http_digits(s + 12, 4);
		if (!http_time_of_day(s + 17, &tm))
			return -1;
	} else if (n == 24 && s[3] == ' ') {
		/* Sun Nov  6 08:49:37 1994 */
		if (!http_day_valid(s) || s[7] != ' ' || s[10] != ' ' ||
		    s[19] != ' ')
			return -1;
		tm.tm_mon = http_month(s + 4);
		tm.tm_mday = s[8] == ' ' ? http_digits(s + 9, 1) :
		    http_digits(s + 8, 2);
		year = http_digits(s + 20, 4);
		if (!http_time_of_day(s + 11, &tm))
			return -1;
	} else {
		/* Sunday, 06-Nov-94 08:49:37 GMT */
		if ((comma = memchr(s, ',', n)) == NULL)
			return -1;
		dl = (size_t)(comma - s);
		for (i = 0; i < (int)nitems(http_day_long); i++)
			if (strlen(http_day_long[i]) == dl &&
			    memcmp(s, http_day_long[i], dl) == 0)
				break;
		if (i == (int)nitems(http_day_long) || n != dl + 24)
			return -1;
		s = comma + 1;
		if (s[0] != ' ' || s[3] != '-' || s[7] != '-' ||
		    s[10] != ' ' || s[19] != ' ' ||
		    memcmp(s + 20, "GMT", 3) != 0)
			return -1;
		tm.tm_mday = http_digits(s + 1, 2);
		tm.tm_mon = http_month(s + 4);
		if ((yy = http_digits(s + 8, 2)) < 0 ||
		    !http_time_of_day(s + 11, &tm))
			return -1;
		/*
		 * §5.6.7: a two-digit year more than 50 years ahead is
		 * the most recent past year with those digits.
		 */
		now = time(NULL);
		if (gmtime_r(&now, &ntm) == NULL)
			return -1;
		year = ntm.tm_year + 1900 - (ntm.tm_year + 1900) % 100 + yy;
		if (year > ntm.tm_year + 1900 + 50)
			year -= 100;
	}
	if (tm.tm_mon < 0 || year < 0)
		return -1;
	tm.tm_year = year - 1900;
	if (!http_mday_valid(&tm))
		return -1;
	tm.tm_isdst = 0;
	return timegm(&tm);
}

/* IMF-fixdate from a fixed table: no locale, no strftime. */
int
http_format_date(char *buf, size_t size, time_t t)
{
	struct tm tm;
	int y;

	if (size < 30 || gmtime_r(&t, &tm) == NULL)
		return -1;
	y = tm.tm_year + 1900;
	if (y < 0 || y > 9999)
		return -1;
	memcpy(buf, http_day_names[tm.tm_wday], 3);
	buf[3] = ',';
	buf[4] = ' ';
	buf[5] = (char)('0' + tm.tm_mday / 10);
	buf[6] = (char)('0' + tm.tm_mday % 10);
	buf[7] = ' ';
	memcpy(buf + 8, http_month_names[tm.tm_mon], 3);
	buf[11] = ' ';
	buf[12] = (char)('0' + y / 1000);
	buf[13] = (char)('0' + y / 100 % 10);
	buf[14] = (char)('0' + y / 10 % 10);
	buf[15] = (char)('0' + y % 10);
	buf[16] = ' ';
	buf[17] = (char)('0' + tm.tm_hour / 10);
	buf[18] = (char)('0' + tm.tm_hour % 10);
	buf[19] = ':';
	buf[20] = (char)('0' + tm.tm_min / 10);
	buf[21] = (char)('0' + tm.tm_min % 10);
	buf[22] = ':';
	buf[23] = (char)('0' + tm.tm_sec / 10);
	buf[24] = (char)('0' + tm.tm_sec % 10);
	memcpy(buf + 25, " GMT", 5);	/* with the NUL */
	return 29;
}

/* Longest ETag: quotes, two dashes, four 64-bit numbers in hex. */
#define HTTP_ETAG_MAX_BYTES	(2 + 2 + 4 * 16)

/* v in lower-case hex, at least width digits; returns the count. */
static size_t
http_hex(char *out, uintmax_t v, size_t width, const char *digits)
{
	char d[16];
	size_t i = sizeof(d), n;

	do {
		d[--i] = digits[v & 0xf];
		v >>= 4;
	} while (v > 0);
	while (sizeof(d) - i < width)
		d[--i] = '0';
	n = sizeof(d) - i;
	memcpy(out, d + i, n);
	return n;
}

/*
 * Strong, because a file's inode, size and nanosecond mtime change
 * whenever its bytes do (as far as a static server can tell). nsec is
 * fixed-width so "1" "23" and "12" "3" cannot collide.
 */
int
http_make_etag(char *buf, size_t size, ino_t ino, off_t len, time_t mtime,
    long nsec)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[HTTP_ETAG_MAX_BYTES];
	size_t n = 0;

	/*
	 * "%jx-%jx-%jx%08lx" by hand: formatted for every file served, and
	 * snprintf costs twenty times as much here.
	 */
	tmp[n++] = '"';
	n += http_hex(tmp + n, (uintmax_t)ino, 1, hex);
	tmp[n++] = '-';
	n += http_hex(tmp + n, (uintmax_t)len, 1, hex);
	tmp[n++] = '-';
	n += http_hex(tmp + n, (uintmax_t)mtime, 1, hex);
	n += http_hex(tmp + n, (uintmax_t)(unsigned long)nsec, 8, hex);
	tmp[n++] = '"';
	if (n >= size)
		return -1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return (int)n;
}

/* ---- conditional requests ---- */

/*
 * RFC 9110 §13.2.2, steps 1-4 in order; step 5 (If-Range) belongs to
 * http_range_select(). etag may be NULL when the resource has none.
 */
int
http_preconditions(const struct http_request *req, const char *etag,
    time_t mtime)
{
	time_t t;
	bool get_head = req->method == HTTP_METHOD_GET ||
	    req->method == HTTP_METHOD_HEAD;

	/* 1, 2: If-Match (strong), else If-Unmodified-Since. */
	if (req->has_if_match) {
		if (!http_etag_field_match(req, HF_IF_MATCH, req->if_match,
		    req->if_match_multi, etag, false))
			return HTTP_PRECONDITION_FAILED;
	} else if (req->if_unmodified_since.p != NULL) {
		/* An invalid date is ignored (§13.1.4). */
		t = http_parse_date(req->if_unmodified_since.p,
		    req->if_unmodified_since.len);
		if (t != -1 && mtime > t)
			return HTTP_PRECONDITION_FAILED;
	}

	/* 3, 4: If-None-Match (weak), else If-Modified-Since. */
	if (req->has_if_none_match) {
		if (http_etag_field_match(req, HF_IF_NONE_MATCH,
		    req->if_none_match, req->if_none_match_multi, etag, true))
			return get_head ? HTTP_NOT_MODIFIED :
			    HTTP_PRECONDITION_FAILED;
	} else if (get_head && req->if_modified_since.p != NULL) {
		/*
		 * §13.1.3: not modified when Last-Modified is no later
		 * than the date, also when the date lies ahead of it.
		 */
		t = http_parse_date(req->if_modified_since.p,
		    req->if_modified_since.len);
		if (t != -1 && mtime <= t)
			return HTTP_NOT_MODIFIED;
	}
	return 0;
}

/* ---- ranges ---- */

/*
 * §13.1.5 If-Range: an entity-tag matches by strong comparison only
 * (so a weak tag never does), a date only when it equals Last-Modified
 * exactly. Anything else, invalid values included, means "send it all".
 */
static bool
http_if_range_match(struct http_str v, const char *etag, time_t mtime)
{
	time_t t;

	/* "W/" or '"' starts an entity-tag; "Wed, ..." is a date. */
	if (v.len >= 2 && v.p[0] == 'W' && v.p[1] == '/')
		return false;
	if (v.len > 0 && v.p[0] == '"') {
		if (etag == NULL || strncmp(etag, "W/", 2) == 0)
			return false;
		return v.len == strlen(etag) && memcmp(v.p, etag, v.len) == 0;
	}
	t = http_parse_date(v.p, v.len);
	return t != -1 && t == mtime;
}

/*
 * Range (§14.2) with one byte-range-spec gives 206. Policy: a request
 * for several ranges gets the whole representation with 200, which
 * §14.2 allows ("MAY ignore the Range header field") and which spares us
 * multipart/byteranges; it gets 416 only when none of its ranges is
 * satisfiable, as a single range would. A syntactically invalid Range,
 * or one with first > last, is ignored (§14.2: "MUST ignore").
 */
int
http_range_select(const struct http_request *req, off_t size,
    const char *etag, time_t mtime, struct http_range *r)
{
	struct http_list l;
	struct http_str v, e;
	struct http_range sel = { 0, 0 };
	const char *dash;
	off_t first, last;
	int nspec = 0, nsat = 0;

	/* §14.2: Range only means something for GET. */
	if (req->method != HTTP_METHOD_GET || req->range.p == NULL)
		return HTTP_OK;
	if (req->if_range.p != NULL &&
	    !http_if_range_match(req->if_range, etag, mtime))
		return HTTP_OK;

	v = req->range;
	if (v.len < 6 || strncasecmp(v.p, "bytes=", 6) != 0)
		return HTTP_OK;		/* other units are ignored */
	v.p += 6;
	v.len -= 6;
	http_list_init(&l, v);
	while (http_list_next(&l, &e)) {
		if (e.len == 0)
			continue;
		if ((dash = memchr(e.p, '-', e.len)) == NULL)
			return HTTP_OK;
		if (dash == e.p) {
			/* suffix-range: the last n bytes, n > 0. */
			if (!http_parse_pos(dash + 1, e.len - 1, &last))
				return HTTP_OK;
			nspec++;
			if (last > 0 && size > 0) {
				if (nsat++ == 0) {
					sel.first = last >= size ? 0 :
					    size - last;
					sel.last = size - 1;
				}
			}
			continue;
		}
		if (!http_parse_pos(e.p, (size_t)(dash - e.p), &first))
			return HTTP_OK;
		last = HTTP_OFF_MAX;
		if (dash + 1 < e.p + e.len && !http_parse_pos(dash + 1,
		    (size_t)(e.p + e.len - dash - 1), &last))
			return HTTP_OK;
		if (first > last)
			return HTTP_OK;
		nspec++;
		if (first < size && nsat++ == 0) {
			sel.first = first;
			sel.last = last < size - 1 ? last : size - 1;
		}
	}
	if (nspec == 0)
		return HTTP_OK;
	if (nsat == 0)
		return HTTP_RANGE_NOT_SATISFIABLE;
	if (nspec > 1)
		return HTTP_OK;
	*r = sel;
	return HTTP_PARTIAL_CONTENT;
}

/* ---- content negotiation ---- */

/* The most specific Accept range seen so far that matches one type. */
struct http_accept {
	const char *type;
	const char *subtype;
	int spec;		/* 0 none, 1 any, 2 type and any subtype,
				   3 type and subtype */
	int q;			/* that range's weight, 0..1000 */
	bool valid;		/* some element parsed */
};

/* Advances *pp past a token (RFC 9110 §5.6.2); returns its length. */
static size_t
http_skip_token(const char **pp, const char *end)
{
	const char *p = *pp;
	size_t n;

	while (p < end && HTTP_IS(*p, HC_TCHAR))
		p++;
	n = (size_t)(p - *pp);
	*pp = p;
	return n;
}

/* Advances *pp past the quoted-string (§5.6.4) it is at; false if open. */
static bool
http_skip_quoted(const char **pp, const char *end)
{
	const char *p = *pp + 1;

	while (p < end) {
		if (*p == '"') {
			*pp = p + 1;
			return true;
		}
		if (*p == '\\' && ++p == end)
			break;
		p++;
	}
	*pp = end;
	return false;
}

/*
 * §12.4.2 qvalue, "0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ], in
 * thousandths; -1 if it is not one.
 */
static int
http_parse_qvalue(const char *p, size_t n)
{
	size_t i;
	int q, scale = 100;

	if (n == 0 || (p[0] != '0' && p[0] != '1'))
		return -1;
	q = (p[0] - '0') * 1000;
	if (n == 1)
		return q;
	if (p[1] != '.' || n > 5)
		return -1;
	for (i = 2; i < n; i++, scale /= 10) {
		if (!HTTP_IS(p[i], HC_DIGIT))
			return -1;
		q += (p[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

static bool
http_name_is(const char *p, size_t n, const char *name)
{
	return n == strlen(name) && strncasecmp(p, name, n) == 0;
}

/*
 * One element of a comma-separated list (§5.6.1): a token, or for a
 * media range (§12.5.1) a type "/" subtype, then
 * *( OWS ";" OWS parameter ), the first "q" parameter being the
 * weight (§12.4.2). Other parameters are skipped, not compared.
 */
struct http_elem {
	struct http_str	 name;	/* the token, or the media range's type */
	struct http_str	 sub;	/* media range's subtype; unset for a token */
	int		 q;	/* 0..1000; 1000 without a "q" */
};

/*
 * Moves *pp to the next element of the list that parses and fills *e;
 * false at the end of the list. An element that does not parse is
 * skipped up to the next comma outside a quoted-string, so that the
 * rest still counts.
 */
static bool
http_next_elem(const char **pp, const char *end, bool media,
    struct http_elem *e)
{
	const char *p = *pp, *pn, *pv;
	size_t pnl;
	bool ok, have_q;

	while (p < end) {
		while (p < end && (HTTP_IS_OWS(*p) || *p == ','))
			p++;
		if (p == end)
			break;
		e->name.p = p;
		ok = (e->name.len = http_skip_token(&p, end)) > 0;
		if (ok && media && (ok = p < end && *p == '/')) {
			e->sub.p = ++p;
			ok = (e->sub.len = http_skip_token(&p, end)) > 0;
		}
		e->q = 1000;
		have_q = false;
		while (ok) {
			while (p < end && HTTP_IS_OWS(*p))
				p++;
			if (p == end || *p == ',')
				break;
			if (*p++ != ';') {
				ok = false;
				break;
			}
			while (p < end && HTTP_IS_OWS(*p))
				p++;
			pn = p;
			pnl = http_skip_token(&p, end);
			if (pnl == 0 || p == end || *p != '=') {
				ok = false;
				break;
			}
			pv = ++p;
			if (p < end && *p == '"')
				ok = http_skip_quoted(&p, end) &&
				    !http_name_is(pn, pnl, "q");
			else
				ok = http_skip_token(&p, end) > 0;
			if (ok && !have_q && http_name_is(pn, pnl, "q")) {
				have_q = true;
				ok = (e->q = http_parse_qvalue(pv,
				    (size_t)(p - pv))) != -1;
			}
		}
		/* "*" + "/json" is no media range. */
		if (ok && media && http_name_is(e->name.p, e->name.len, "*") &&
		    !http_name_is(e->sub.p, e->sub.len, "*"))
			ok = false;
		if (ok) {
			*pp = p;
			return true;
		}
		while (p < end && *p != ',') {
			if (*p == '"')
				(void)http_skip_quoted(&p, end);
			else
				p++;
		}
	}
	*pp = p;
	return false;
}

/*
 * The next value of field hf among the head's field lines from *p to
 * end (the lines a repeated field is spread over), trimmed; false when
 * there is none left.
 */
static bool
http_field_next(const char **p, const char *end, enum http_field hf,
    struct http_str *value)
{
	struct http_str	 line, name;
	const char	*colon;

	while (http_next_line(p, end, &line)) {
		if ((colon = memchr(line.p, ':', line.len)) == NULL)
			continue;
		name.p = line.p;
		name.len = (size_t)(colon - line.p);
		if (http_str_eq(name, http_fields[hf].name,
		    http_fields[hf].len)) {
			*value = http_trim(colon + 1, line.len - name.len - 1);
			return true;
		}
	}
	return false;
}

/*
 * One Accept line (§12.5.1). Parameters other than q are skipped, not
 * compared: the listing's types have none, and a script's
 * "application/json; charset=utf-8" means JSON. Of the ranges that
 * match a->type, the most specific wins, and the first of equally
 * specific ones.
 */
static void
http_accept_line(struct http_str v, struct http_accept *a)
{
	const char *p = v.p, *end = v.p + v.len;
	struct http_elem e;
	int spec;

	while (http_next_elem(&p, end, true, &e)) {
		a->valid = true;
		if (http_name_is(e.name.p, e.name.len, "*"))
			spec = 1;
		else if (!http_name_is(e.name.p, e.name.len, a->type))
			spec = 0;
		else if (http_name_is(e.sub.p, e.sub.len, "*"))
			spec = 2;
		else
			spec = http_name_is(e.sub.p, e.sub.len, a->subtype) ?
			    3 : 0;
		if (spec > a->spec) {
			a->spec = spec;
			a->q = e.q;
		}
	}
}

int
http_accept_quality(const struct http_request *req, const char *type,
    const char *subtype)
{
	struct http_accept a = { type, subtype, 0, 0, false };
	struct http_str v;
	const char *p, *end;

	if (!req->accept_multi) {
		if (req->accept.p != NULL)
			http_accept_line(req->accept, &a);
	} else {
		/* §5.3: repeated lines are one list, walked in place. */
		p = req->fields.p;
		end = p + req->fields.len;
		while (http_field_next(&p, end, HF_ACCEPT, &v))
			http_accept_line(v, &a);
	}
	if (!a.valid)
		return -1;
	return a.spec > 0 ? a.q : 0;
}

/* The weights of one Accept-Encoding request, in thousandths; -1: not listed. */
struct http_codings {
	int	 q[HTTP_CODING_COUNT];
	int	 star;
};

static const char *const http_coding_names[HTTP_CODING_COUNT] = {
	[HTTP_CODING_IDENTITY] = "identity",
	[HTTP_CODING_BR] = "br",
	[HTTP_CODING_ZSTD] = "zstd",
	[HTTP_CODING_GZIP] = "gzip",
};

/*
 * One Accept-Encoding line (RFC 9110 §12.5.3): codings with an optional
 * weight, "*" for any other; "x-gzip" is gzip (§8.4.1.3). The first
 * mention of a coding counts.
 */
static void
http_codings_line(struct http_str v, struct http_codings *c)
{
	const char *p = v.p, *end = v.p + v.len;
	struct http_elem e;
	int i, *slot;

	while (http_next_elem(&p, end, false, &e)) {
		slot = NULL;
		if (http_name_is(e.name.p, e.name.len, "*"))
			slot = &c->star;
		else if (http_name_is(e.name.p, e.name.len, "x-gzip"))
			slot = &c->q[HTTP_CODING_GZIP];
		for (i = 0; slot == NULL && i < HTTP_CODING_COUNT; i++)
			if (http_name_is(e.name.p, e.name.len,
			    http_coding_names[i]))
				slot = &c->q[i];
		if (slot != NULL && *slot == -1)
			*slot = e.q;
	}
}

/*
 * The coding to send of those available (bits 1 << HTTP_CODING_*),
 * by SPEC: the highest weight wins, br then zstd then gzip at equal
 * weight; a coding not listed takes the weight of "*", if any; identity
 * not listed (nor through "*") ranks below every listed coding; when no
 * available coding is acceptable, identity. Without the field: identity.
 */
enum http_coding
http_accept_encoding(const struct http_request *req, unsigned available)
{
	struct http_codings c;
	struct http_str v;
	const char *p, *end;
	enum http_coding best = HTTP_CODING_IDENTITY;
	int i, q, bestq;

	if (!req->has_accept_encoding)
		return HTTP_CODING_IDENTITY;
	for (i = 0; i < HTTP_CODING_COUNT; i++)
		c.q[i] = -1;
	c.star = -1;
	if (!req->accept_encoding_multi)
		http_codings_line(req->accept_encoding, &c);
	else {
		/* §5.3: repeated lines are one list, walked in place. */
		p = req->fields.p;
		end = p + req->fields.len;
		while (http_field_next(&p, end, HF_ACCEPT_ENCODING, &v))
			http_codings_line(v, &c);
	}
	/* Identity unlisted: above nothing, below any listed coding. */
	bestq = c.q[HTTP_CODING_IDENTITY] >= 0 ?
	    c.q[HTTP_CODING_IDENTITY] : 0;
	for (i = HTTP_CODING_BR; i < HTTP_CODING_COUNT; i++) {
		if ((available & (1u << i)) == 0)
			continue;
		q = c.q[i] >= 0 ? c.q[i] : c.star;
		if (q > 0 && q >= bestq && (best == HTTP_CODING_IDENTITY ?
		    true : q > bestq)) {
			best = (enum http_coding)i;
			bestq = q;
		}
	}
	return best;
}

bool
http_query_has(struct http_str q, const char *elem)
{
	size_t n = strlen(elem), i;

	for (i = 0; q.p != NULL && n <= q.len && i <= q.len - n; i++)
		if ((i == 0 || q.p[i - 1] == '&') &&
		    memcmp(q.p + i, elem, n) == 0 &&
		    (i + n == q.len || q.p[i + n] == '&'))
			return true;
	return false;
}

/* ---- response heads, reasons, error pages ---- */

/*
 * Error pages are string literals assembled at compile time: no
 * start-up work, nothing writable, and no way for request data to get
 * in.
 */
#define HTTP_PAGE(code, reason, text)					\
	"<!doctype html>\n"						\
	"<html lang=\"en\">\n"						\
	"<head>\n"							\
	"<meta charset=\"utf-8\">\n"					\
	"<meta name=\"viewport\" "					\
	    "content=\"width=device-width, initial-scale=1\">\n"	\
	"<meta name=\"color-scheme\" content=\"light dark\">\n"		\
	"<title>" code " " reason "</title>\n"				\
	"<style>body{font-family:system-ui,sans-serif;max-width:36em;"	\
	    "margin:4em auto;padding:0 1em;color:#222;background:#fff;"	\
	    "overflow-wrap:anywhere}"					\
	    "h1{font-size:1.6em}p{line-height:1.5}"			\
	    "footer{color:#777;font-size:.85em}"			\
	    "@media (prefers-color-scheme:dark){"			\
	    "body{color:#ddd;background:#111}footer{color:#999}}"	\
	    "</style>\n"						\
	"</head>\n"							\
	"<body>\n"							\
	"<h1>" code " " reason "</h1>\n"				\
	"<p>" text "</p>\n"						\
	"<footer>" TINE_NAME "</footer>\n"				\
	"</body>\n"							\
	"</html>\n"

#define HTTP_ENTRY(n, reason, text)					\
	{ n, reason, HTTP_PAGE(#n, reason, text),			\
	    sizeof(HTTP_PAGE(#n, reason, text)) - 1 }
/* No body goes with 1xx, 204 or 304; 2xx bodies are the handler's. */
#define HTTP_ENTRY_NOPAGE(n, reason)	{ n, reason, NULL, 0 }

static const struct {
	int		 code;
	const char	*reason;
	const char	*page;
	size_t		 pagelen;
} http_statuses[] = {
	HTTP_ENTRY_NOPAGE(100, "Continue"),
	HTTP_ENTRY_NOPAGE(200, "OK"),
	HTTP_ENTRY_NOPAGE(204, "No Content"),
	HTTP_ENTRY_NOPAGE(206, "Partial Content"),
	HTTP_ENTRY(301, "Moved Permanently",
	    "The resource has moved to a new address."),
	HTTP_ENTRY(302, "Found",
	    "The resource is temporarily at another address."),
	HTTP_ENTRY(303, "See Other",
	    "The answer is at another address."),
	HTTP_ENTRY_NOPAGE(304, "Not Modified"),
	HTTP_ENTRY(307, "Temporary Redirect",
	    "The resource is temporarily at another address."),
	HTTP_ENTRY(308, "Permanent Redirect",
	    "The resource has moved to a new address."),
	HTTP_ENTRY(400, "Bad Request",
	    "The server could not understand the request."),
	HTTP_ENTRY(401, "Unauthorized",
	    "This resource requires authentication."),
	HTTP_ENTRY(403, "Forbidden",
	    "You do not have permission to access this resource."),
	HTTP_ENTRY(404, "Not Found",
	    "The requested resource was not found on this server."),
	HTTP_ENTRY(405, "Method Not Allowed",
	    "The request method is not allowed for this resource."),
	HTTP_ENTRY(408, "Request Timeout",
	    "The server timed out waiting for the request."),
	HTTP_ENTRY(410, "Gone",
	    "The requested resource is no longer available."),
	HTTP_ENTRY(411, "Length Required",
	    "This request needs a Content-Length."),
	HTTP_ENTRY(412, "Precondition Failed",
	    "A precondition in the request was not met."),
	HTTP_ENTRY(413, "Content Too Large",
	    "The request body is larger than the server accepts."),
	HTTP_ENTRY(414, "URI Too Long",
	    "The request target is longer than the server accepts."),
	HTTP_ENTRY(415, "Unsupported Media Type",
	    "The request content has a type the server does not accept."),
	HTTP_ENTRY(416, "Range Not Satisfiable",
	    "The requested range lies outside the resource."),
	HTTP_ENTRY(417, "Expectation Failed",
	    "The server cannot meet the expectation in the request."),
	HTTP_ENTRY(421, "Misdirected Request",
	    "This connection cannot answer for the requested host."),
	HTTP_ENTRY(429, "Too Many Requests",
	    "Too many requests; please try again later."),
	HTTP_ENTRY(431, "Request Header Fields Too Large",
	    "The request header fields are larger than the server "
	    "accepts."),
	HTTP_ENTRY(451, "Unavailable For Legal Reasons",
	    "The requested resource is unavailable for legal reasons."),
	HTTP_ENTRY(500, "Internal Server Error",
	    "The server met an internal error."),
	HTTP_ENTRY(501, "Not Implemented",
	    "The server does not support what the request needs."),
	HTTP_ENTRY(502, "Bad Gateway",
	    "The server received an invalid response upstream."),
	HTTP_ENTRY(503, "Service Unavailable",
	    "The server cannot handle the request right now."),
	HTTP_ENTRY(504, "Gateway Timeout",
	    "The server timed out waiting for an upstream response."),
	HTTP_ENTRY(505, "HTTP Version Not Supported",
	    "The server does not support the HTTP version of the request."),
};

static const char http_generic_page[] =
    HTTP_PAGE("", "Error", "The request could not be completed.");

static int
http_status_index(int code)
{
	size_t i;

	for (i = 0; i < nitems(http_statuses); i++)
		if (http_statuses[i].code == code)
			return (int)i;
	return -1;
}

const char *
http_reason(int code)
{
	int i;

	if ((i = http_status_index(code)) >= 0)
		return http_statuses[i].reason;
	/* §15: an unknown code is understood by its class. */
	switch (code / 100) {
	case 1:
		return "Informational";
	case 2:
		return "Success";
	case 3:
		return "Redirection";
	case 4:
		return "Client Error";
	case 5:
		return "Server Error";
	default:
		return "Unknown";
	}
}

const char *
http_error_body(int code, size_t *len)
{
	int i;

	if ((i = http_status_index(code)) >= 0 &&
	    http_statuses[i].page != NULL) {
		*len = http_statuses[i].pagelen;
		return http_statuses[i].page;
	}
	*len = sizeof(http_generic_page) - 1;
	return http_generic_page;
}

/*
 * One Date string per second. time() is one vDSO call; formatting only
 * happens when the second changes.
 */
const char *
http_date_now(void)
{
	static struct {
		time_t	 t;
		char	 buf[32];
	} cache;
	time_t now;

	now = time(NULL);
	if (now != cache.t || cache.buf[0] == '\0') {
		if (http_format_date(cache.buf, sizeof(cache.buf), now) < 0)
			(void)strlcpy(cache.buf,
			    "Thu, 01 Jan 1970 00:00:00 GMT",
			    sizeof(cache.buf));
		cache.t = now;
	}
	return cache.buf;
}

/* Output cursor for http_build_head: the first overflow sticks. */
struct http_out {
	char	*p;
	char	*end;
	bool	 err;
};

static void
http_out_mem(struct http_out *o, const char *s, size_t n)
{
	if (o->err || (size_t)(o->end - o->p) < n) {
		o->err = true;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

#define HTTP_OUT_LIT(o, s)	http_out_mem((o), (s), sizeof(s) - 1)

/* A field value of ours; CR or LF in it would split the head: refused. */
static void
http_out_str(struct http_out *o, const char *s)
{
	size_t n;

	n = strcspn(s, "\r\n");
	if (s[n] != '\0') {
		o->err = true;
		return;
	}
	http_out_mem(o, s, n);
}

/*
 * A value tine formatted itself from a fixed table or a number (reason
 * phrase, Date, Last-Modified, ETag): no CR or LF can be in it, so it is
 * not scanned for them, which on every response would cost more than
 * copying it.
 */
static void
http_out_own(struct http_out *o, const char *s)
{
	http_out_mem(o, s, strlen(s));
}

static void
http_out_off(struct http_out *o, off_t v)
{
	char d[24];
	size_t i = sizeof(d);
	uintmax_t u = v < 0 ? 0 : (uintmax_t)v;

	do {
		d[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	http_out_mem(o, d + i, sizeof(d) - i);
}

/*
 * The header rules' lines (2xx, 3xx, 304), outer levels first: formatted
 * and checked when the config was read.
 */
static void
http_out_fields(struct http_out *o, const struct http_response *resp)
{
	size_t i;
	int j;

	for (i = 0; i < nitems(resp->fields); i++)
		for (j = 0; j < resp->nfields[i]; j++)
			http_out_mem(o, resp->fields[i][j].line,
			    resp->fields[i][j].len);
}

/*
 * The only writer of status lines (STYLE §6). Fields are copied, not
 * printf'd: this runs for every response. The version is always
 * HTTP/1.1 (RFC 9110 §6.2: a server sends its own highest version).
 */
int
http_build_head(char *buf, size_t size, const struct http_response *resp)
{
	struct http_out o;
	char date[32], code[4];
	int st = resp->status;
	bool body_len;

	if (size > INT_MAX)
		size = INT_MAX;
	o.p = buf;
	o.end = buf + size;
	o.err = false;
	if (st < 100 || st > 999)
		return -1;

	HTTP_OUT_LIT(&o, "HTTP/1.1 ");
	code[0] = (char)('0' + st / 100);
	code[1] = (char)('0' + st / 10 % 10);
	code[2] = (char)('0' + st % 10);
	code[3] = ' ';
	http_out_mem(&o, code, sizeof(code));
	http_out_own(&o, http_reason(st));
	HTTP_OUT_LIT(&o, "\r\n");
	if (st < 200) {
		/* An interim response is the status line alone. */
		HTTP_OUT_LIT(&o, "\r\n");
		return o.err ? -1 : (int)(o.p - buf);
	}

	HTTP_OUT_LIT(&o, "Server: " TINE_NAME "/" TINE_VERSION "\r\nDate: ");
	http_out_own(&o, http_date_now());
	HTTP_OUT_LIT(&o, "\r\n");
	if (resp->content_type != NULL) {
		HTTP_OUT_LIT(&o, "Content-Type: ");
		http_out_str(&o, resp->content_type);
		HTTP_OUT_LIT(&o, "\r\n");
	}
	if (resp->content_encoding != NULL && st != HTTP_NOT_MODIFIED) {
		HTTP_OUT_LIT(&o, "Content-Encoding: ");
		http_out_own(&o, resp->content_encoding);
		HTTP_OUT_LIT(&o, "\r\n");
	}
	/* §8.6: never in 1xx or 204; omitted in 304 (§15.4.5). */
	body_len = st != HTTP_NO_CONTENT && st != HTTP_NOT_MODIFIED;
	if (resp->content_length >= 0 && body_len) {
		HTTP_OUT_LIT(&o, "Content-Length: ");
		http_out_off(&o, resp->content_length);
		HTTP_OUT_LIT(&o, "\r\n");
	}
	if (resp->last_modified_text != NULL) {
		HTTP_OUT_LIT(&o, "Last-Modified: ");
		http_out_own(&o, resp->last_modified_text);
		HTTP_OUT_LIT(&o, "\r\n");
	} else if (resp->last_modified != 0) {
		if (http_format_date(date, sizeof(date),
		    resp->last_modified) < 0)
			return -1;
		HTTP_OUT_LIT(&o, "Last-Modified: ");
		http_out_mem(&o, date, 29);
		HTTP_OUT_LIT(&o, "\r\n");
	}
	if (resp->etag != NULL) {
		HTTP_OUT_LIT(&o, "ETag: ");
		http_out_own(&o, resp->etag);
		HTTP_OUT_LIT(&o, "\r\n");
	}
	if (resp->accept_ranges)
		HTTP_OUT_LIT(&o, "Accept-Ranges: bytes\r\n");
	if (resp->vary != NULL) {
		HTTP_OUT_LIT(&o, "Vary: ");
		http_out_str(&o, resp->vary);
		HTTP_OUT_LIT(&o, "\r\n");
	}
	if (st == HTTP_PARTIAL_CONTENT) {
		HTTP_OUT_LIT(&o, "Content-Range: bytes ");
		http_out_off(&o, resp->range.first);
		HTTP_OUT_LIT(&o, "-");
		http_out_off(&o, resp->range.last);
		HTTP_OUT_LIT(&o, "/");
		http_out_off(&o, resp->size);
		HTTP_OUT_LIT(&o, "\r\n");
	} else if (st == HTTP_RANGE_NOT_SATISFIABLE) {
		HTTP_OUT_LIT(&o, "Content-Range: bytes */");
		http_out_off(&o, resp->size);
		HTTP_OUT_LIT(&o, "\r\n");
	}
	if (resp->location != NULL) {
		HTTP_OUT_LIT(&o, "Location: ");
		http_out_str(&o, resp->location);
		HTTP_OUT_LIT(&o, "\r\n");
	}
	if (resp->allow != NULL) {
		HTTP_OUT_LIT(&o, "Allow: ");
		http_out_str(&o, resp->allow);
		HTTP_OUT_LIT(&o, "\r\n");
	}
	if (resp->retry_after > 0) {
		HTTP_OUT_LIT(&o, "Retry-After: ");
		http_out_off(&o, (off_t)resp->retry_after);
		HTTP_OUT_LIT(&o, "\r\n");
	}
	if (resp->no_store)
		HTTP_OUT_LIT(&o, "Cache-Control: no-store\r\n");
	if (resp->auth_realm != NULL) {
		/* RFC 7617 §2; the realm was checked at load: no '"', '\'. */
		HTTP_OUT_LIT(&o, "WWW-Authenticate: Basic realm=\"");
		http_out_own(&o, resp->auth_realm);
		HTTP_OUT_LIT(&o, "\", charset=\"UTF-8\"\r\n");
	}
	if (st < 400)
		http_out_fields(&o, resp);
	if (resp->close)
		HTTP_OUT_LIT(&o, "Connection: close\r\n");
	else if (resp->keepalive_10)
		HTTP_OUT_LIT(&o, "Connection: keep-alive\r\n");
	HTTP_OUT_LIT(&o, "\r\n");
	return o.err ? -1 : (int)(o.p - buf);
}
