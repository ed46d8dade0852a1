/*
 * fuzz_glob.c: libFuzzer harness for site.c's location globs. The input
 * is a glob, a NUL byte and a path. Property: a location with that glob,
 * prepared by site_glob_prepare(), is what site_location() finds exactly
 * when fnmatch(3) without flags matches, for every kind of glob.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fnmatch.h>

#include "../../src/site.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct location	 loc;
	struct config	 conf;
	struct site	 site;
	const uint8_t	*nul;
	char		*glob, *path;
	size_t		 glen;

	if ((nul = memchr(data, '\0', size)) == NULL)
		return 0;
	glen = (size_t)(nul - data);
	if ((glob = strndup((const char *)data, glen)) == NULL ||
	    (path = strndup((const char *)nul + 1, size - glen - 1)) == NULL) {
		free(glob);
		return 0;
	}
	memset(&loc, 0, sizeof(loc));
	loc.glob = glob;
	site_glob_prepare(&loc);
	memset(&conf, 0, sizeof(conf));
	memset(&site, 0, sizeof(site));
	conf.locs = &loc;
	conf.nlocs = 1;
	if ((site_location(&conf, &site, path) == &loc) !=
	    (fnmatch(glob, path, 0) == 0)) {
		dprintf(STDERR_FILENO, "fuzz_glob.c: %s and %s: kind %d differs "
		    "from fnmatch\n", glob, path, (int)loc.kind);
		abort();
	}
	free(glob);
	free(path);
	return 0;
}
