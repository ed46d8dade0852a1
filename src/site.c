/*
 * site.c: which site answers a request and which location applies to
 * its path. The tables are built once by config.c (sorted exact names,
 * wildcard suffixes longest first); a lookup copies the host into a
 * fixed buffer and compares, with no allocation and no system call.
 */
#include <fnmatch.h>
#include <string.h>

#include "site.h"

int
site_name_cmp(const void *a, const void *b)
{
	const struct site_name	*x = a, *y = b;
	int			 c;

	c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);
	if (c != 0)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/* Longest first, so the first suffix that matches is the longest. */
int
site_wild_cmp(const void *a, const void *b)
{
	const struct site_name	*x = a, *y = b;

	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return memcmp(x->name, y->name, x->len);
}

const struct site *
site_route(const struct listener *l, const char *host, size_t len)
{
	const struct site_name	*n;
	struct site_name	 key;
	char			 buf[SITE_NAME_MAX];
	const char		*colon;
	size_t			 i, lo, hi, mid;
	int			 c;

	if (l->nsites == 1 || host == NULL || len == 0)
		return l->sites[0];
	/* An IP literal names no site; otherwise the port goes. */
	if (host[0] == '[')
		return l->sites[0];
	if ((colon = memchr(host, ':', len)) != NULL)
		len = (size_t)(colon - host);
	if (len > 0 && host[len - 1] == '.')
		len--;
	if (len == 0 || len > sizeof(buf))
		return l->sites[0];
	for (i = 0; i < len; i++)
		buf[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ?
		    host[i] - 'A' + 'a' : host[i]);
	key.name = buf;
	key.len = len;
	lo = 0;
	hi = (size_t)l->nexact;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = site_name_cmp(&key, &l->exact[mid])) == 0)
			return l->exact[mid].site;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	/* ".example.org" matches "a.example.org", not "example.org". */
	for (i = 0; i < (size_t)l->nwild; i++) {
		n = &l->wild[i];
		if (len > n->len &&
		    memcmp(buf + len - n->len, n->name, n->len) == 0)
			return n->site;
	}
	return l->sites[0];
}

/*
 * Sorts a glob into its kind, once, when the config is read. The
 * literal prefix ends at the first character fnmatch(3) treats
 * specially; a literal suffix is used only in globs without brackets or
 * backslashes, where the last star or question mark ends every special
 * part.
 */
void
site_glob_prepare(struct location *loc)
{
	const char	*g = loc->glob, *last = NULL, *s;
	size_t		 len = strlen(g), nspecial = 0;

	loc->glob_len = len;
	loc->pre_len = strcspn(g, "*?[\\");
	loc->suf_len = 0;
	for (s = g; *s != '\0'; s++)
		if (*s == '*' || *s == '?') {
			nspecial++;
			last = s;
		}
	if (loc->pre_len == len)
		loc->kind = GLOB_EXACT;
	else if (strpbrk(g, "[\\") != NULL)
		loc->kind = GLOB_FNMATCH;
	else {
		loc->suf_len = len - (size_t)(last - g) - 1;
		if (nspecial == 1 && *last == '*' && last == g + len - 1)
			loc->kind = GLOB_PREFIX;
		else if (nspecial == 1 && *last == '*' && last == g)
			loc->kind = GLOB_SUFFIX;
		else
			loc->kind = GLOB_FNMATCH;
	}
}

/*
 * fnmatch(3) without flags, where a star also matches a slash (so the
 * glob "/assets/" followed by a star takes the whole tree beneath
 * /assets), answered by memcmp for the common kinds and with the
 * literal ends checked before fnmatch for the rest: the same answers.
 */
static bool
site_glob_match(const struct location *loc, const char *path, size_t len)
{
	const char	*g = loc->glob;

	if (len < loc->pre_len + loc->suf_len ||
	    memcmp(path, g, loc->pre_len) != 0 ||
	    memcmp(path + len - loc->suf_len, g + loc->glob_len - loc->suf_len,
	    loc->suf_len) != 0)
		return false;
	switch (loc->kind) {
	case GLOB_EXACT:
		return len == loc->glob_len;
	case GLOB_PREFIX:
	case GLOB_SUFFIX:
		return true;
	case GLOB_FNMATCH:
		break;
	}
	return fnmatch(g, path, 0) == 0;
}

/*
 * The path is already decoded and free of dot-segments, so neither
 * "%2e%2e" nor ".." can step out of a glob. In the C locale glibc's
 * fnmatch allocates nothing.
 */
const struct location *
site_location(const struct config *conf, const struct site *site,
    const char *path)
{
	size_t	 len = strlen(path);
	int	 i;

	for (i = 0; i < site->nlocs; i++)
		if (site_glob_match(&site->locs[i], path, len))
			return &site->locs[i];
	for (i = 0; i < conf->nlocs; i++)
		if (site_glob_match(&conf->locs[i], path, len))
			return &conf->locs[i];
	return NULL;
}
