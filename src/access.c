/*
 * access.c: one Combined Log Format line per response, built from the
 * finished response and its request, in place in the access-log buffer:
 * copies and escapes, no printf (this runs for every request). Every
 * client byte goes through log_escape(); nothing here writes or flushes.
 */
#include <string.h>
#include <time.h>

#include "access.h"
#include "auth.h"

#define LOG_TARGET_BYTES	(ACCESS_LINE_MAX / 2)	/* escaped request
							   line, NUL */
#define LOG_FIELD_BYTES		1024	/* escaped Referer or User-Agent */
#define LOG_USER_BYTES		AUTH_USER_MAX	/* a user name, before
						   escaping */
#define LOG_FIXED_BYTES		64	/* the rest of a line but address
					   and time */
_Static_assert(ACCESS_BUF_BYTES >= LOG_TARGET_BYTES + 2 * LOG_FIELD_BYTES +
    LOG_FIXED_BYTES + 4 * LOG_USER_BYTES + 128, "an access-log line must fit the log buffer");

static char *
access_put_str(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

#define ACCESS_PUT_LIT(p, s)	access_put_str((p), (s), sizeof(s) - 1)

/* What log_escape(dst, size, s) may write, its NUL included. */
static size_t
access_escaped_max(const struct http_str *s, size_t size)
{
	size_t	 len = s != NULL ? s->len : 0;

	if (len > (size - 1) / 4)
		len = (size - 1) / 4;
	return 4 * len + 1;
}

/* A quoted field: escaped client bytes, or "-" when absent. */
static char *
access_put_field(char *p, const struct http_str *s, size_t size)
{
	if (s == NULL)
		return ACCESS_PUT_LIT(p, "-");
	return p + log_escape(p, size, s->p, s->len);
}

/*
 * The request line is cut at LOG_TARGET_BYTES escaped, Referer and
 * User-Agent at LOG_FIELD_BYTES.
 */
void
access_log_response(const struct conn *c)
{
	const struct http_str	*line = NULL, *ref = NULL, *ua = NULL;
	const char		*when;
	char			*start, *p;
	size_t			 whenlen, max;

	if (!log_access_enabled() || !log_access_select(c->site != NULL ?
	    c->site->sc.access_log_id : 0))
		return;
	if (c->have_req) {
		line = &c->req.line;
		if (c->req.referer.p != NULL)
			ref = &c->req.referer;
		if (c->req.user_agent.p != NULL)
			ua = &c->req.user_agent;
	}
	when = log_clf_time(time(NULL));
	whenlen = strlen(when);
	max = c->addrlen + whenlen + LOG_FIXED_BYTES +
	    access_escaped_max(line, LOG_TARGET_BYTES) +
	    access_escaped_max(ref, LOG_FIELD_BYTES) +
	    access_escaped_max(ua, LOG_FIELD_BYTES) + 4 * LOG_USER_BYTES;
	if ((start = log_access_reserve(max)) == NULL)
		return;
	p = access_put_str(start, c->addr, c->addrlen);
	/* The user auth_basic verified: a name from the auth_file. */
	p = ACCESS_PUT_LIT(p, " - ");
	if (c->user != NULL)
		p += log_escape(p, 4 * LOG_USER_BYTES + 1, c->user,
		    c->user_len < LOG_USER_BYTES ? c->user_len :
		    LOG_USER_BYTES);
	else
		*p++ = '-';
	p = ACCESS_PUT_LIT(p, " [");
	p = access_put_str(p, when, whenlen);
	p = ACCESS_PUT_LIT(p, "] \"");
	if (line != NULL)	/* e.g. 408: no request line to show */
		p += log_escape(p, LOG_TARGET_BYTES, line->p, line->len);
	p = ACCESS_PUT_LIT(p, "\" ");
	p = util_put_uint(p, (uintmax_t)(c->status < 0 ? 0 : c->status));
	*p++ = ' ';
	if (c->sent > 0)
		p = util_put_uint(p, (uintmax_t)c->sent);
	else
		*p++ = '-';
	p = ACCESS_PUT_LIT(p, " \"");
	p = access_put_field(p, ref, LOG_FIELD_BYTES);
	p = ACCESS_PUT_LIT(p, "\" \"");
	p = access_put_field(p, ua, LOG_FIELD_BYTES);
	p = ACCESS_PUT_LIT(p, "\"\n");
	log_access_commit((size_t)(p - start));
}
