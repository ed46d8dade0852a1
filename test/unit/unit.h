/*
 * unit.h: the smallest TAP producer for tine's C unit tests. Each check
 * prints "ok N - name" or "not ok N - name"; unit_done() prints the plan
 * and returns the exit status (non-zero when any check failed).
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

#endif /* UNIT_H */
