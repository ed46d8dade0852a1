/*
 * site.h: routing a request to its site (by Host or SNI name, on the
 * listener it came in on) and to its location (by path). Reads the
 * tables config.c builds; never allocates, never makes a system call.
 */
#ifndef SITE_H
#define SITE_H

#include "tine.h"

/* qsort(3) orders of struct site_name: exact names, wildcard suffixes. */
int			 site_name_cmp(const void *, const void *);
int			 site_wild_cmp(const void *, const void *);

/*
 * The site of listener l for a host as sent (Host field or SNI name):
 * port and one trailing dot ignored, case-insensitive; an exact name
 * first, then the wildcard with the longest matching suffix, else the
 * listener's default (its first site). host may be NULL.
 */
const struct site	*site_route(const struct listener *, const char *,
			    size_t);

/*
 * The location for a decoded, normalised path: the site's first match
 * in file order, else the first matching top-level one, else NULL.
 */
const struct location	*site_location(const struct config *,
			    const struct site *, const char *);

/* Sorts a location's glob into its kind, for site_location(). */
void			 site_glob_prepare(struct location *);

#endif /* SITE_H */
