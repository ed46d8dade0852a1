/*
 * test_site.c: unit tests for site.c and the block grammar of config.c:
 * routing by host name on a listener (exact names, wildcards at any
 * depth but not the apex, longest suffix, port, trailing dot, case, the
 * default site), location matching in file order with the top-level
 * fallback, and configs with blocks that load or are refused.
 */
#include <sys/stat.h>

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "../../src/site.c"

static char	 dir[] = "/tmp/test_site.XXXXXX";
static char	 conf_path[PATH_MAX];

static const char	 sites_conf[] =
	"listen 127.0.0.1:1\n"
	"root www\n"
	"location /top/* {\n}\n"
	"location /* {\n}\n"
	"server first.test {\n}\n"
	"server example.org www.example.org {\n"
	"\tlocation /assets/* {\n\t}\n"
	"\tlocation /assets/x/* {\n\t}\n"
	"}\n"
	"server *.example.org {\n}\n"
	"server *.deep.example.org {\n}\n"
	"server Upper.Test. {\n}\n";

static const struct {
	const char	*host;
	int		 site;	/* index in conf->sites */
} routes[] = {
	{ "first.test",			0 },
	{ "example.org",		1 },
	{ "EXAMPLE.ORG",		1 },
	{ "example.org.",		1 },
	{ "example.org:8080",		1 },
	{ "www.example.org",		1 },	/* exact beats *.example.org */
	{ "a.example.org",		2 },
	{ "a.b.c.example.org",		2 },	/* any depth */
	{ "deep.example.org",		2 },
	{ "x.deep.example.org",		3 },	/* longest suffix */
	{ "upper.test",			4 },
	{ "example.orgg",		0 },	/* default */
	{ "xexample.org",		0 },
	{ ".example.org",		0 },
	{ "[::1]:80",			0 },
	{ "",				0 },
	{ NULL,				0 },
};

static const struct {
	int		 site;
	const char	*path;
	const char	*glob;	/* NULL: none */
} paths[] = {
	{ 1, "/assets/x/y",	"/assets/*" },	/* first in file order */
	{ 1, "/top/a",		"/top/*" },	/* top-level fallback */
	{ 1, "/other",		"/*" },
	{ 0, "/assets/x",	"/*" },
	{ 0, "/top/a/b",	"/top/*" },
};

static const struct {
	const char	*text;
	bool		 ok;
	const char	*name;
} blocks[] = {
	{ "root www\n", true, "no block" },
	{ "root www\nserver a {\n}\n", true, "one site" },
	{ "server a {\n\troot www\n}\n", true, "root in the site only" },
	{ "server a {\n}\n", false, "no root anywhere" },
	{ "root www\nserver a {\n", false, "unclosed server" },
	{ "root www\nlocation /x {\n", false, "unclosed location" },
	{ "root www\n}\n", false, "stray }" },
	{ "root www\nlocation /a {\nlocation /b {\n}\n}\n", false,
	    "nested location" },
	{ "root www\nserver a {\nserver b {\n}\n}\n", false, "nested server" },
	{ "root www\nserver a {\n\tworkers 2\n}\n", false,
	    "workers in a server" },
	{ "root www\nlocation /a {\n\ttls_key k\n}\n", false,
	    "tls_key in a location" },
	{ "root www\nserver a { x\n}\n", false, "{ not last" },
	{ "root www\nserver a {\n} }\n", false, "} not alone" },
	{ "root www\nserver a {\n}\nserver A {\n}\n", false,
	    "a name on two sites" },
	{ "root www\nserver *.a {\n}\nserver b.a {\n}\n", true,
	    "wildcard and exact" },
	{ "root www\nserver a..b {\n}\n", false, "empty label" },
	{ "root www\nserver a/b {\n}\n", false, "slash in a name" },
	{ "root www\nlisten 127.0.0.1:1\nserver a {\n\tlisten "
	    "127.0.0.1:2\n}\n", false, "top listen with no site" },
	{ "root www\nlisten 127.0.0.1:1\nserver a {\n\tlisten "
	    "127.0.0.1:1 tls\n}\n", false, "plain and tls" },
};

/* Globs and paths: every kind must answer as fnmatch(3) does. */
static const char *const globs[] = {
	"/assets/*", "*.html", "/index.html", "*", "**", "/a/*/b?c",
	"/a?", "*/x/*", "/img/*.png", "/[ab]/*", "/x\\*y", "*.css*", "",
	"/a/**", "?*",
};
static const char *const glob_paths[] = {
	"/", "/assets/", "/assets/a.css", "/assets", "/index.html",
	"/x/index.html", "/a/q/bxc", "/a/q/r/bxc", "/ab", "/a", "/x/x/",
	"/img/a.png", "/img/a/b.png", "/a/z", "/b/z", "/x*y", "/xzy",
	"/s.css.map", "/a/", "",
};

static void
test_glob_kinds(void)
{
	struct location	 loc;
	size_t		 i, j;
	int		 same = 1;

	for (i = 0; i < nitems(globs); i++) {
		memset(&loc, 0, sizeof(loc));
		loc.glob = (char *)globs[i];
		site_glob_prepare(&loc);
		for (j = 0; j < nitems(glob_paths); j++)
			if (site_glob_match(&loc, glob_paths[j],
			    strlen(glob_paths[j])) !=
			    (fnmatch(globs[i], glob_paths[j], 0) == 0)) {
				same = 0;
				unit_check(0, "glob %s against %s", globs[i],
				    glob_paths[j]);
			}
	}
	unit_check(same, "globs: every kind answers as fnmatch(3)");
	memset(&loc, 0, sizeof(loc));
	loc.glob = (char *)"/assets/*";
	site_glob_prepare(&loc);
	unit_check(loc.kind == GLOB_PREFIX && loc.pre_len == 8,
	    "globs: /assets/* is a prefix");
	loc.glob = (char *)"*.html";
	site_glob_prepare(&loc);
	unit_check(loc.kind == GLOB_SUFFIX && loc.suf_len == 5,
	    "globs: *.html is a suffix");
	loc.glob = (char *)"/[ab]/*";
	site_glob_prepare(&loc);
	unit_check(loc.kind == GLOB_FNMATCH && loc.pre_len == 1 &&
	    loc.suf_len == 0, "globs: brackets go to fnmatch");
}

int
main(void)
{
	struct config		*conf;
	const struct listener	*l;
	const struct site	*s;
	const struct location	*loc;
	char			 www[PATH_MAX];
	size_t			 i;

	test_glob_kinds();
	if (mkdtemp(dir) == NULL)
		abort();
	(void)snprintf(conf_path, sizeof(conf_path), "%s/tine.conf", dir);
	(void)snprintf(www, sizeof(www), "%s/www", dir);
	if (mkdir(www, 0700) == -1)
		abort();
	conf = unit_load_config(conf_path, sites_conf);
	unit_check(conf != NULL && conf->nsites == 5, "sites: loads");
	if (conf == NULL)
		return unit_done();
	l = TAILQ_FIRST(&conf->listeners);
	unit_check(l->nsites == 5 && l->nexact == 4 && l->nwild == 2 &&
	    l->wild[0].len > l->wild[1].len, "sites: tables");
	for (i = 0; i < nitems(routes); i++) {
		s = site_route(l, routes[i].host, routes[i].host != NULL ?
		    strlen(routes[i].host) : 0);
		unit_check(s == &conf->sites[routes[i].site],
		    "route \"%s\": site %d (got %d)",
		    routes[i].host != NULL ? routes[i].host : "(none)",
		    routes[i].site, s->id);
	}
	for (i = 0; i < nitems(paths); i++) {
		loc = site_location(conf, &conf->sites[paths[i].site],
		    paths[i].path);
		unit_check(loc != NULL && strcmp(loc->glob, paths[i].glob) == 0,
		    "location of %s on site %d: %s", paths[i].path,
		    paths[i].site, paths[i].glob);
	}
	config_free(conf);
	for (i = 0; i < nitems(blocks); i++) {
		conf = unit_load_config(conf_path, blocks[i].text);
		unit_check((conf != NULL) == blocks[i].ok, "blocks: %s %s",
		    blocks[i].name, blocks[i].ok ? "loads" : "is refused");
		config_free(conf);
	}
	(void)unlink(conf_path);
	(void)rmdir(www);
	(void)rmdir(dir);
	return unit_done();
}
