/*
 * fuzz_config.c: libFuzzer harness for config.c. The input is written to
 * a config file in a private directory (with a www/ for root) and loaded.
 * Properties: a config that loads keeps its invariants (every number
 * within its directive table row's range among them), and its dump loads
 * back to the same dump (unless a dumped line is over the line limit).
 * The first line is also fed to config_parse_listen() and checked against
 * a deliberately naive reference.
 */
#include <sys/stat.h>

#include <arpa/inet.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>

#include "../../src/config.c"

#define REQUIRE(c)	do { if (!(c)) fuzz_fail(__LINE__, #c); } while (0)

static char	 fuzz_dir[] = "/tmp/fuzz_config.XXXXXX";
static char	 www_dir[PATH_MAX];
static char	 conf_file[PATH_MAX];
static char	 dump_file[PATH_MAX];
static int	 report_fd = STDERR_FILENO;	/* the real stderr */

/* libFuzzer's own messages go to the silenced stderr: say why here. */
static void __attribute__((noreturn))
fuzz_fail(int line, const char *what)
{
	dprintf(report_fd, "fuzz_config.c:%d: property failed: %s\n", line,
	    what);
	abort();
}

static void
fuzz_write(const char *path, const void *data, size_t len)
{
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	REQUIRE(fd != -1);
	REQUIRE(write(fd, data, len) == (ssize_t)len);
	REQUIRE(close(fd) == 0);
}

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Removes what LLVMFuzzerInitialize() made; a crash leaves it for study. */
static void
fuzz_cleanup(void)
{
	(void)unlink(conf_file);	/* best effort at exit */
	(void)unlink(dump_file);
	(void)rmdir(www_dir);
	(void)rmdir(fuzz_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int	 fd, out;

	(void)argc;
	(void)argv;
	REQUIRE(mkdtemp(fuzz_dir) != NULL);
	REQUIRE(xsnprintf(www_dir, sizeof(www_dir), "%s/www", fuzz_dir) != -1);
	REQUIRE(mkdir(www_dir, 0755) == 0);
	REQUIRE(xsnprintf(conf_file, sizeof(conf_file), "%s/tine.conf",
	    fuzz_dir) != -1);
	REQUIRE(xsnprintf(dump_file, sizeof(dump_file), "%s/dump.conf",
	    fuzz_dir) != -1);
	fuzz_write(conf_file, "", 0);
	REQUIRE(atexit(fuzz_cleanup) == 0);

	/*
	 * Config errors go to stderr: silence them once, but keep sanitizer
	 * reports on a copy of the original stderr.
	 */
	REQUIRE((out = dup(STDERR_FILENO)) != -1);
	__sanitizer_set_report_fd((void *)(intptr_t)out);
	report_fd = out;
	REQUIRE((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) != -1);
	REQUIRE(dup2(fd, STDERR_FILENO) != -1);
	REQUIRE(close(fd) == 0);
	return 0;
}

/* The naive reference: split at the last ':', then inet_pton the rest. */
static int
ref_listen(const char *s, char *name, size_t size)
{
	char		 host[256], addr[INET6_ADDRSTRLEN];
	struct in6_addr	 a6;
	struct in_addr	 a4;
	const char	*colon, *c;
	unsigned long	 port = 0;
	size_t		 hlen;

	if ((colon = strrchr(s, ':')) == NULL || colon[1] == '\0')
		return -1;
	for (c = colon + 1; *c != '\0'; c++) {
		if (*c < '0' || *c > '9')
			return -1;
		if (port <= 65535)
			port = port * 10 + (unsigned long)(*c - '0');
	}
	if (port < 1 || port > 65535)
		return -1;
	hlen = (size_t)(colon - s);
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (host[0] == '[') {
		if (hlen < 2 || host[hlen - 1] != ']')
			return -1;
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6) != 1 ||
		    inet_ntop(AF_INET6, &a6, addr, sizeof(addr)) == NULL)
			return -1;
		return xsnprintf(name, size, "[%s]:%lu", addr, port) == -1 ?
		    -1 : 0;
	}
	if (strcmp(host, "*") == 0)
		return xsnprintf(name, size, "0.0.0.0:%lu", port) == -1 ?
		    -1 : 0;
	if (inet_pton(AF_INET, host, &a4) != 1 ||
	    inet_ntop(AF_INET, &a4, addr, sizeof(addr)) == NULL)
		return -1;
	return xsnprintf(name, size, "%s:%lu", addr, port) == -1 ? -1 : 0;
}

static void
fuzz_listen(const uint8_t *data, size_t size)
{
	struct listener	 l;
	char		 in[128], err[ERRSTR_MAX], name[LISTEN_NAME_MAX];
	size_t		 n;
	int		 rc, ref;

	for (n = 0; n < size && n < sizeof(in) - 1; n++)
		if (data[n] == '\0' || data[n] == '\n')
			break;
	memcpy(in, data, n);
	in[n] = '\0';
	rc = config_parse_listen(in, &l, err, sizeof(err));
	ref = ref_listen(in, name, sizeof(name));
	REQUIRE(l.fd == -1);
	REQUIRE(rc == ref);
	if (rc == 0)
		REQUIRE(strcmp(l.name, name) == 0);
	else
		REQUIRE(err[0] != '\0');
}

static char *
fuzz_dump(const struct config *conf)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	REQUIRE((fp = open_memstream(&buf, &len)) != NULL);
	config_dump(conf, fp);
	REQUIRE(fclose(fp) == 0);
	return buf;
}

static bool
fuzz_long_line(const char *s)
{
	const char	*nl;

	for (; (nl = strchr(s, '\n')) != NULL; s = nl + 1)
		if ((size_t)(nl - s) > CONFIG_LINE_MAX)
			return true;
	return false;
}

static void
fuzz_invariants(const struct config *conf)
{
	const struct listener	*l;
	const struct directive	*d;
	const struct scope	*sc;
	size_t			 len;
	int			 i, n = 0;

	REQUIRE(conf->path[0] == '/');
	REQUIRE(conf->nsites >= 1 && conf->nroots >= 1);
	for (i = 0; i < conf->nroots; i++) {
		len = strlen(conf->roots[i]);
		REQUIRE(conf->roots[i][0] == '/');
		REQUIRE(len == 1 || conf->roots[i][len - 1] != '/');
	}
	for (i = 0; i < conf->nsites; i++) {
		sc = &conf->sites[i].sc;
		REQUIRE(sc->root_id >= 0 && sc->root_id < conf->nroots);
		REQUIRE(sc->nindex >= 1 && sc->nindex <= INDEX_NAMES_MAX);
		REQUIRE(sc->access_log[0] == '\0' ||
		    sc->access_log[0] == '/');
	}
	TAILQ_FOREACH(l, &conf->listeners, entry) {
		REQUIRE(l->fd == -1 && l->name[0] != '\0');
		/* Every listener has a default site; names are sorted. */
		REQUIRE(l->nsites >= 1);
		for (i = 1; i < l->nexact; i++)
			REQUIRE(site_name_cmp(&l->exact[i - 1],
			    &l->exact[i]) <= 0);
		n++;
	}
	REQUIRE(n >= 1 && n <= LISTENERS_MAX);
	REQUIRE(conf->workers >= 1 && conf->workers <= conf->max_workers);
	REQUIRE(conf->max_workers <= WORKERS_MAX);
	REQUIRE(conf->top.nindex >= 1 && conf->top.nindex <= INDEX_NAMES_MAX);
	for (i = 0; i < conf->top.nindex; i++)
		REQUIRE(conf->top.index[i][0] != '\0' &&
		    strchr(conf->top.index[i], '/') == NULL);
	REQUIRE(conf->keepalive_timeout >= 0 &&
	    conf->keepalive_timeout <= TIMEOUT_MAX_S);
	REQUIRE(conf->header_timeout >= 1 &&
	    conf->header_timeout <= TIMEOUT_MAX_S);
	REQUIRE(conf->send_timeout >= 1 && conf->send_timeout <= TIMEOUT_MAX_S);
	REQUIRE(conf->max_header_size >= HEAD_MIN_BYTES &&
	    conf->max_header_size <= HEAD_MAX_BYTES);
	REQUIRE(conf->max_body_size >= 0 &&
	    conf->max_body_size <= BODY_MAX_BYTES);
	REQUIRE(conf->keepalive_requests >= 1 &&
	    conf->keepalive_requests <= KEEPALIVE_REQUESTS_MAX);
	/* Every number and flag the table stores is within its row's range. */
	for (d = directives; d < directives + nitems(directives); d++)
		if (d->store != STORE_OTHER)
			REQUIRE(config_fetch(conf, &conf->top, d) >= d->min &&
			    config_fetch(conf, &conf->top, d) <= d->max);
	REQUIRE(conf->pidfile[0] == '\0' || conf->pidfile[0] == '/');
	REQUIRE(conf->top.access_log[0] == '\0' ||
	    conf->top.access_log[0] == '/');
	REQUIRE(conf->error_log_to != LOG_TO_FILE ||
	    conf->error_log[0] == '/');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*conf, *again;
	char		*d1, *d2;

	fuzz_listen(data, size);
	fuzz_write(conf_file, data, size);
	if ((conf = config_load(conf_file)) == NULL)
		return 0;
	fuzz_invariants(conf);
	(void)config_check_runtime(conf);
	d1 = fuzz_dump(conf);
	fuzz_write(dump_file, d1, strlen(d1));
	again = config_load(dump_file);
	if (again == NULL)
		REQUIRE(fuzz_long_line(d1));
	else {
		d2 = fuzz_dump(again);
		REQUIRE(strcmp(d1, d2) == 0);
		free(d2);
	}
	config_free(again);
	config_free(conf);
	free(d1);
	return 0;
}
