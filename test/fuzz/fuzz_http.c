/*
 * fuzz_http.c: libFuzzer harness for the request-head scanner, parser
 * and body discarder. It checks that every split of the input gives the
 * same scan, that a deliberately naive reference finds the same end of
 * head, and that every parsed view lies inside the head.
 */

#include <stdlib.h>

#include "../../src/http.c"

#define FUZZ_MAX	1024		/* small, so the limits are reached */
#define FUZZ_BODY_LIMIT	((off_t)4096)

#define FUZZ_ASSERT(c)	do { if (!(c)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t
fuzz_min(size_t a, size_t b)
{
	return a < b ? a : b;
}

/*
 * The same contract as http_scan_head, computed differently: find the
 * first position of each event anywhere in the buffer, then let the
 * earliest one win.
 */
static int
fuzz_naive_scan(const char *buf, size_t len, size_t max, size_t *head_len)
{
	const char *nul, *a, *b;
	size_t i, start = 0, first_nul, first_cr = SIZE_MAX, end = SIZE_MAX;
	size_t first_lf = SIZE_MAX, limit;

	nul = memchr(buf, '\0', len);
	first_nul = nul != NULL ? (size_t)(nul - buf) : SIZE_MAX;
	for (i = 0; i + 1 < len; i++)
		if (buf[i] == '\r' && buf[i + 1] != '\n') {
			first_cr = i;
			break;
		}
	for (;;) {
		if (start < len && buf[start] == '\n')
			start++;
		else if (start + 1 < len && buf[start] == '\r' &&
		    buf[start + 1] == '\n')
			start += 2;
		else
			break;
	}
	if (start < len) {
		a = memmem(buf + start, len - start, "\n\n", 2);
		b = memmem(buf + start, len - start, "\n\r\n", 3);
		if (a != NULL)
			end = (size_t)(a - buf) + 1;
		if (b != NULL)
			end = fuzz_min(end, (size_t)(b - buf) + 2);
		a = memchr(buf + start, '\n', len - start);
		if (a != NULL)
			first_lf = (size_t)(a - buf);
	}
	limit = len > max ? max : SIZE_MAX;

	i = fuzz_min(fuzz_min(first_nul, first_cr), fuzz_min(end, limit));
	if (i == SIZE_MAX)
		return 0;
	/* The limit is checked before the byte at max is looked at. */
	if (i == limit)
		return first_lf < max ? HTTP_HEADERS_TOO_LARGE :
		    HTTP_URI_TOO_LONG;
	if (i == first_nul || i == first_cr)
		return HTTP_BAD_REQUEST;
	*head_len = end + 1;
	return 1;
}

static int
fuzz_scan(const char *buf, size_t len, const uint8_t *steps, size_t nsteps,
    size_t *head_len)
{
	struct http_scan scan;
	size_t have = 0, k = 0, step;
	int r;

	memset(&scan, 0, sizeof(scan));
	for (;;) {
		step = steps == NULL ? 1 : nsteps == 0 ? len :
		    1 + steps[k++ % nsteps] % 16;
		have = fuzz_min(len, have + step);
		r = http_scan_head(&scan, buf, have, FUZZ_MAX, head_len);
		if (r != 0 || have == len)
			return r;
	}
}

static bool
fuzz_inside(struct http_str s, const char *buf, size_t len)
{
	if (s.p == NULL)
		return s.len == 0;
	return s.p >= buf && s.len <= len && s.p + s.len <= buf + len;
}

static void
fuzz_body(const struct http_request *req, const char *p, size_t len)
{
	struct http_body b1, b2;
	size_t used1 = 0, used2 = 0, u, i;
	int r1, r2 = 0;

	if (http_body_init(&b1, req, FUZZ_BODY_LIMIT) != 0)
		return;
	FUZZ_ASSERT(http_body_init(&b2, req, FUZZ_BODY_LIMIT) == 0);
	r1 = http_body_consume(&b1, p, len, &used1);
	FUZZ_ASSERT(used1 <= len);
	FUZZ_ASSERT((r1 == 1) == http_body_done(&b1) || r1 > 1);
	for (i = 0; i < len; i++) {
		r2 = http_body_consume(&b2, p + i, 1, &u);
		FUZZ_ASSERT(u <= 1);
		used2 += u;
		if (r2 != 0)
			break;
	}
	FUZZ_ASSERT(r1 == r2);
	if (r1 == 1)
		FUZZ_ASSERT(used1 == used2);
	FUZZ_ASSERT(b1.total <= FUZZ_BODY_LIMIT);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const off_t sizes[] = { 0, 1, 1000 };
	struct http_request req, req2;
	struct http_range r;
	const char *buf = (const char *)data;
	size_t hl = 0, hl1 = 0, hl2 = 0, hln = 0;
	int s, s1, s2, sn, p, p2, q;

	s = fuzz_scan(buf, size, data, 0, &hl);
	s1 = fuzz_scan(buf, size, NULL, 0, &hl1);
	s2 = fuzz_scan(buf, size, data, fuzz_min(size, 8), &hl2);
	sn = fuzz_naive_scan(buf, size, FUZZ_MAX, &hln);
	FUZZ_ASSERT(s == s1 && s == s2 && s == sn);
	if (s == 1)
		FUZZ_ASSERT(hl == hl1 && hl == hl2 && hl == hln &&
		    hl <= size && hl <= FUZZ_MAX);

	/* Parsing the whole input must never read past it. */
	p2 = http_parse_head(buf, size, &req2);
	FUZZ_ASSERT(req2.head_len <= size);
	if (s != 1)
		return 0;

	p = http_parse_head(buf, hl, &req);
	FUZZ_ASSERT(req.head_len == hl);
	/* Nothing past the head may change the verdict on it. */
	FUZZ_ASSERT(p == p2 && req2.head_len == hl);
	FUZZ_ASSERT(p == 0 || p == 400 || p == 417 || p == 501 ||
	    p == 505);
	if (p != 0)
		return 0;

	FUZZ_ASSERT(fuzz_inside(req.line, buf, hl));
	FUZZ_ASSERT(fuzz_inside(req.method_str, buf, hl));
	FUZZ_ASSERT(fuzz_inside(req.target, buf, hl));
	FUZZ_ASSERT(fuzz_inside(req.path, buf, hl));
	FUZZ_ASSERT(fuzz_inside(req.query, buf, hl));
	FUZZ_ASSERT(fuzz_inside(req.host, buf, hl));
	FUZZ_ASSERT(fuzz_inside(req.user_agent, buf, hl));
	FUZZ_ASSERT(fuzz_inside(req.referer, buf, hl));
	FUZZ_ASSERT(fuzz_inside(req.if_match, buf, hl));
	FUZZ_ASSERT(fuzz_inside(req.if_none_match, buf, hl));
	FUZZ_ASSERT(fuzz_inside(req.if_modified_since, buf, hl));
	FUZZ_ASSERT(fuzz_inside(req.if_unmodified_since, buf, hl));
	FUZZ_ASSERT(fuzz_inside(req.if_range, buf, hl));
	FUZZ_ASSERT(fuzz_inside(req.range, buf, hl));
	FUZZ_ASSERT(fuzz_inside(req.accept, buf, hl));
	FUZZ_ASSERT(fuzz_inside(req.fields, buf, hl));
	FUZZ_ASSERT(req.minor == 0 || req.minor == 1);
	FUZZ_ASSERT(req.method_str.len > 0 && req.target.len > 0);
	/* An origin path starts with '/' and never holds '?' or '#'. */
	if (!req.asterisk && req.method != HTTP_METHOD_CONNECT)
		FUZZ_ASSERT(req.path.len > 0 && req.path.p[0] == '/' &&
		    memchr(req.path.p, '?', req.path.len) == NULL &&
		    memchr(req.path.p, '#', req.path.len) == NULL);
	FUZZ_ASSERT(!(req.chunked && req.content_length >= 0));
	FUZZ_ASSERT(!(req.conn_close && req.conn_keepalive));
	if (req.minor == 1)
		FUZZ_ASSERT(req.host.p != NULL);

	(void)http_preconditions(&req, "\"abc\"", 784111777);
	(void)http_preconditions(&req, NULL, 0);
	/* A weight, or -1 exactly when there is no Accept to weigh. */
	q = http_accept_quality(&req, "application", "json");
	FUZZ_ASSERT(q >= -1 && q <= 1000);
	FUZZ_ASSERT(q != -1 ||
	    http_accept_quality(&req, "text", "html") == -1);
	if (req.accept.p == NULL)
		FUZZ_ASSERT(q == -1);
	/* A coding the representation has, or identity; none without it. */
	for (unsigned m = 0; m < 1u << HTTP_CODING_COUNT; m++) {
		enum http_coding c = http_accept_encoding(&req, m);

		FUZZ_ASSERT(c == HTTP_CODING_IDENTITY || (m & (1u << c)) != 0);
		if (!req.has_accept_encoding)
			FUZZ_ASSERT(c == HTTP_CODING_IDENTITY);
	}
	for (size_t i = 0; i < nitems(sizes); i++) {
		s = http_range_select(&req, sizes[i], "\"abc\"", 784111777,
		    &r);
		FUZZ_ASSERT(s == 200 || s == 206 || s == 416);
		if (s == 206)
			FUZZ_ASSERT(r.first >= 0 && r.first <= r.last &&
			    r.last < sizes[i]);
	}
	if (req.if_modified_since.p != NULL)
		(void)http_parse_date(req.if_modified_since.p,
		    req.if_modified_since.len);

	if (req.chunked || req.content_length > 0)
		fuzz_body(&req, buf + hl, size - hl);
	return 0;
}
