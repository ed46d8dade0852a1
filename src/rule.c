/*
 * rule.c: a request's rules, from the config's levels (see rule.h).
 * Called once a request's site and location are known; each function
 * walks at most three levels and their short lists.
 */
#include <ctype.h>
#include <string.h>

#include "http.h"
#include "rule.h"

void
rule_select(struct rules *r, const struct config *conf,
    const struct site *site, const struct location *loc)
{
	const struct scope	*l = loc != NULL ? &loc->sc : NULL;
	const struct scope	*s = &site->sc;

	r->lv[0] = &conf->top;
	r->lv[1] = s;
	r->lv[2] = l;
	/* A site holds the top level's values it did not set itself. */
	if (l != NULL && l->naccess > 0) {
		r->access = l->access;
		r->naccess = l->naccess;
	} else if (s->naccess > 0) {
		r->access = s->access;
		r->naccess = s->naccess;
	} else {
		r->access = conf->top.access;
		r->naccess = conf->top.naccess;
	}
	r->ret = l != NULL && l->ret.code != 0 ? &l->ret :
	    s->ret.code != 0 ? &s->ret : NULL;
	r->fallback = l != NULL && l->fallback != NULL ? l->fallback :
	    s->fallback;
	if (r->fallback != NULL && r->fallback[0] == '\0')
		r->fallback = NULL;
	r->realm = l != NULL && l->auth_realm != NULL ? l->auth_realm :
	    s->auth_realm;
	if (r->realm != NULL && r->realm[0] == '\0')
		r->realm = NULL;
	r->auth = l != NULL && l->auth != NULL ? l->auth : s->auth;
}

bool
rule_denied(const struct rules *r, const struct sockaddr *sa)
{
	const struct rule_access	*a;
	int				 i;

	for (i = 0; i < r->naccess; i++) {
		a = &r->access[i];
		if (a->all || config_cidr_contains(&a->cidr, sa))
			return !a->allow;
	}
	return false;
}

const char *
rule_error_page(const struct rules *r, int status)
{
	const struct scope	*sc;
	int			 i, j;

	for (i = 2; i >= 0; i--) {
		if ((sc = r->lv[i]) == NULL)
			continue;
		for (j = 0; j < sc->nerror_pages; j++)
			if (sc->error_pages[j].status == status)
				return sc->error_pages[j].path;
	}
	return NULL;
}

void
rule_fields(const struct rules *r, struct http_response *resp)
{
	int	 i;

	for (i = 0; i < 3; i++) {
		resp->fields[i] = r->lv[i] != NULL ? r->lv[i]->headers : NULL;
		resp->nfields[i] = r->lv[i] != NULL ? r->lv[i]->nheaders : 0;
	}
}

struct rule_out {
	char	*p, *end;
	bool	 err;
};

static void
rule_put(struct rule_out *o, const char *s, size_t n, bool lower)
{
	size_t	 i;

	if (o->err || (size_t)(o->end - o->p) <= n) {
		o->err = true;
		return;
	}
	for (i = 0; i < n; i++)
		o->p[i] = lower ? (char)tolower((unsigned char)s[i]) : s[i];
	o->p += n;
}

/* $host: the Host field lower case, without its port. */
static void
rule_put_host(struct rule_out *o, const struct rule_vars *v)
{
	const char	*h = v->host, *end;

	if (h == NULL) {
		rule_put(o, v->default_host, strlen(v->default_host), true);
		return;
	}
	end = h + v->hostlen;
	if (h < end && h[0] == '[') {	/* IP-literal: up to its ']' */
		if ((end = memchr(h, ']', v->hostlen)) == NULL)
			end = h + v->hostlen;
		else
			end++;
	} else if ((end = memchr(h, ':', v->hostlen)) == NULL)
		end = h + v->hostlen;
	rule_put(o, h, (size_t)(end - h), true);
}

int
rule_expand(const char *url, const struct rule_vars *v, char *out,
    size_t cap)
{
	struct rule_out	 o = { out, out + cap, false };
	const char	*s = url, *d;

	while (*s != '\0' && !o.err) {
		if ((d = strchr(s, '$')) == NULL)
			d = s + strlen(s);
		rule_put(&o, s, (size_t)(d - s), false);
		if (*d == '\0')
			break;
		/* The config let through known names only, longest first. */
		if (strncmp(d, "$scheme", 7) == 0) {
			rule_put(&o, v->https ? "https" : "http",
			    v->https ? 5 : 4, false);
			s = d + 7;
		} else if (strncmp(d, "$host", 5) == 0) {
			rule_put_host(&o, v);
			s = d + 5;
		} else if (strncmp(d, "$request_uri", 12) == 0) {
			rule_put(&o, v->path, v->pathlen, false);
			if (v->query != NULL) {
				rule_put(&o, "?", 1, false);
				rule_put(&o, v->query, v->querylen, false);
			}
			s = d + 12;
		} else if (strncmp(d, "$path", 5) == 0) {
			rule_put(&o, v->path, v->pathlen, false);
			s = d + 5;
		} else if (strncmp(d, "$query", 6) == 0) {
			if (v->query != NULL)
				rule_put(&o, v->query, v->querylen, false);
			s = d + 6;
		} else
			o.err = true;
	}
	if (o.err || o.p >= o.end)
		return -1;
	*o.p = '\0';
	return (int)(o.p - out);
}
