/*
 * unit.h: the smallest TAP producer for tine's C unit tests. Each check
 * prints "ok N - name" or "not ok N - name"; unit_done() prints the plan
 * and returns the exit status (non-zero when any check failed). Also the
 * helpers more than one test needs.
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/tine.h"

static int unit_n, unit_failed;

static void __attribute__((format(printf, 2, 3)))
unit_check(int ok, const char *fmt, ...)
{
	va_list ap;

	unit_n++;
	if (!ok)
		unit_failed++;
	printf("%sok %d - ", ok ? "" : "not ", unit_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static int
unit_done(void)
{
	printf("1..%d\n", unit_n);
	return unit_failed ? 1 : 0;
}

/*
 * The config text, written to path and loaded by config_load; NULL when
 * it is refused. config_load reports on stderr, which goes to /dev/null
 * meanwhile to keep the TAP stream clean. Inline: not every test loads
 * a config.
 */
static inline struct config *
unit_load_config(const char *path, const char *text)
{
	struct config	*c;
	FILE		*fp;
	int		 fd;

	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) == EOF ||
	    fclose(fp) == EOF)
		abort();
	if ((fd = dup(STDERR_FILENO)) == -1 ||
	    freopen("/dev/null", "w", stderr) == NULL)
		abort();
	c = config_load(path);
	fflush(stderr);
	(void)dup2(fd, STDERR_FILENO);
	(void)close(fd);
	return c;
}

#endif /* UNIT_H */
