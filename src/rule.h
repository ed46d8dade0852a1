/*
 * rule.h: the rules that apply to one request, combined from the
 * levels SPEC names (a location's own value over its site's over the
 * top level's; header lines added up, outer first; allow/deny as a whole
 * list from the innermost level that has one; error_page per status),
 * and the checks that use them. Reads the config; never allocates,
 * never makes a system call.
 */
#ifndef RULE_H
#define RULE_H

#include "tine.h"

struct http_response;

struct rules {
	const struct scope		*lv[3];	/* top, site, location
						   (NULL: none) */
	const struct rule_access	*access;
	int				 naccess;
	const struct rule_return	*ret;	/* NULL: none */
	const char			*fallback; /* NULL: none */
	const char			*realm;	/* NULL: no auth */
	const struct auth_file		*auth;
};

/* What a return URL's variables stand for in this request. */
struct rule_vars {
	bool		 https;
	const char	*host;		/* Host as sent; NULL: none */
	size_t		 hostlen;
	const char	*default_host;	/* without a Host */
	const char	*path;		/* as received, encoded */
	size_t		 pathlen;
	const char	*query;		/* without '?'; NULL: no '?' */
	size_t		 querylen;
};

void		 rule_select(struct rules *, const struct config *,
		    const struct site *, const struct location *);
/* Whether allow/deny turn the client away (first match; none: allowed). */
bool		 rule_denied(const struct rules *, const struct sockaddr *);
/* The error_page path for status, or NULL for the built-in page. */
const char	*rule_error_page(const struct rules *, int);
/* Adds the header lines of every level to a 2xx, 3xx or 304 response. */
void		 rule_fields(const struct rules *, struct http_response *);
/*
 * Writes url with its variables filled in to out (NUL-terminated);
 * its length, or -1 when it does not fit.
 */
int		 rule_expand(const char *, const struct rule_vars *, char *,
		    size_t);

#endif /* RULE_H */
