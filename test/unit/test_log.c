/*
 * test_log.c: unit tests for log.c: log_escape() gives exactly what
 * libbsd's strnvisx(VIS_NL | VIS_TAB | VIS_CSTYLE | VIS_DQ | VIS_OCTAL)
 * gives, for every byte value, every pair of bytes, random strings and
 * short buffers; the access-log buffer's in-place reserve and commit; and
 * error-log lines for the systemd journal.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <vis.h>

#include "unit.h"
#include "../../src/log.c"

#define VIS_FLAGS	(VIS_NL | VIS_TAB | VIS_CSTYLE | VIS_DQ | VIS_OCTAL)
#define RANDOM_ROUNDS	20000
#define RANDOM_LEN_MAX	64

/*
 * The reference: what log_escape() did with strnvisx. libbsd's strnvisx
 * decides "\\0" or "\\000" for a NUL by the byte after it, and for the
 * last byte of the input it reads one past the end of its own copy
 * (seen: the same one-byte input gives either, by what the heap held).
 * So the input is handed over with an 'x' after it, whose output "x" is
 * then cut off: the bytes compared are the input's alone.
 */
static size_t
ref_escape(char *dst, size_t size, const char *src, size_t len)
{
	char	 in[RANDOM_LEN_MAX + 1], out[4 * RANDOM_LEN_MAX + 8];
	int	 n;

	if (size == 0)
		return 0;
	if (len > (size - 1) / 4)
		len = (size - 1) / 4;
	memcpy(in, src, len);
	in[len] = 'x';
	n = strnvisx(out, sizeof(out), in, len + 1, VIS_FLAGS);
	if (n < 1 || out[n - 1] != 'x') {
		dst[0] = '\0';
		return 0;
	}
	out[--n] = '\0';
	memcpy(dst, out, (size_t)n + 1);	/* 4 * len + 1 <= size */
	return (size_t)n;
}

/* Both escapers on one input; prints the first difference. */
static bool
same(const char *src, size_t len, size_t size)
{
	char	 got[4 * RANDOM_LEN_MAX + 8], want[4 * RANDOM_LEN_MAX + 8];
	size_t	 ng, nw;

	memset(got, 'G', sizeof(got));
	memset(want, 'W', sizeof(want));
	ng = log_escape(got, size, src, len);
	nw = ref_escape(want, size, src, len);
	if (ng == nw && (size == 0 || memcmp(got, want, nw + 1) == 0))
		return true;
	printf("# len %zu size %zu: got %zu \"%s\", want %zu \"%s\"\n", len,
	    size, ng, size ? got : "", nw, size ? want : "");
	return false;
}

static void
test_every_byte(void)
{
	char	 in[1];
	int	 c, bad = 0;

	for (c = 0; c < 256; c++) {
		in[0] = (char)c;
		if (!same(in, 1, 5))
			bad++;
	}
	unit_check(bad == 0, "escape: every byte value alone (%d differ)",
	    bad);
}

/* Every pair: covers "\0" before each byte (octal digits need "\000"). */
static void
test_every_pair(void)
{
	char	 in[2];
	int	 a, b, bad = 0;

	for (a = 0; a < 256; a++)
		for (b = 0; b < 256; b++) {
			in[0] = (char)a;
			in[1] = (char)b;
			if (!same(in, 2, 9) && bad++ > 5)
				goto out;
		}
 out:
	unit_check(bad == 0, "escape: every pair of bytes (%d differ)", bad);
}

static void
test_random(void)
{
	char		 in[RANDOM_LEN_MAX];
	unsigned	 seed = 20261124;
	size_t		 len, size, i;
	int		 r, bad = 0;

	for (r = 0; r < RANDOM_ROUNDS; r++) {
		len = (size_t)rand_r(&seed) % (RANDOM_LEN_MAX + 1);
		for (i = 0; i < len; i++) {
			/* Weighted towards the bytes that get escaped. */
			switch (rand_r(&seed) % 4) {
			case 0:
				in[i] = "\0\"\\\n\r\t07a"[rand_r(&seed) % 9];
				break;
			default:
				in[i] = (char)(rand_r(&seed) % 256);
				break;
			}
		}
		/* Sizes from none to ample: the cut must match too. */
		size = (size_t)rand_r(&seed) % (4 * RANDOM_LEN_MAX + 2);
		if (!same(in, len, size) && bad++ > 5)
			break;
	}
	unit_check(bad == 0, "escape: %d random strings and sizes (%d differ)",
	    RANDOM_ROUNDS, bad);
}

static void
test_rows(void)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*out;
	} rows[] = {
		{ "GET / HTTP/1.1", 14, "GET / HTTP/1.1" },
		{ "a\"b", 3, "a\\\"b" },
		{ "a\\b", 3, "a\\\\b" },
		{ "\n\r\t", 3, "\\n\\r\\t" },
		{ "\0" "1", 2, "\\0001" },
		{ "\0" "9", 2, "\\09" },
		{ "\x01\x7f\xff", 3, "\\001\\177\\377" },
	};
	char	 out[64];
	size_t	 i, n;

	for (i = 0; i < nitems(rows); i++) {
		n = log_escape(out, sizeof(out), rows[i].in, rows[i].len);
		unit_check(n == strlen(rows[i].out) &&
		    strcmp(out, rows[i].out) == 0, "escape row %zu: %s", i,
		    out);
	}
}

/* reserve + commit write in place; a full buffer is flushed first. */
static void
test_reserve(void)
{
	char	 tmpl[] = "/tmp/tine-test-log.XXXXXX", back[64];
	char	*p;
	size_t	 i, lines = 0;
	ssize_t	 n;
	int	 fd;
	bool	 ok = true;

	unit_check(log_access_reserve(10) == NULL,
	    "reserve: NULL while the access log is off");
	if ((fd = mkstemp(tmpl)) == -1) {
		unit_check(0, "mkstemp");
		return;
	}
	(void)unlink(tmpl);
	log_state.access_fd = fd;
	unit_check(log_access_reserve(sizeof(log_access_buf) + 1) == NULL,
	    "reserve: more than the buffer is refused");
	/* Enough lines to fill the buffer twice over. */
	for (i = 0; i < 2 * sizeof(log_access_buf) / 8; i++) {
		if ((p = log_access_reserve(100)) == NULL) {
			ok = false;
			break;
		}
		memcpy(p, "line67\n", 7);
		log_access_commit(7);
		lines++;
	}
	unit_check(ok && log_access_flush() == 0, "reserve: %zu lines", lines);
	unit_check(lseek(fd, 0, SEEK_END) == (off_t)(7 * lines),
	    "reserve: every committed byte reached the file once");
	n = pread(fd, back, 14, 0);
	unit_check(n == 14 && memcmp(back, "line67\nline67\n", 14) == 0,
	    "reserve: the lines as written");
	log_state.access_fd = -1;
	(void)close(fd);
}

/*
 * Error-log lines on a stderr that is the journal (JOURNAL_STREAM names
 * its device and inode) start with the sd-daemon priority and carry no
 * timestamp; on any other stderr they are unchanged.
 */
static int	 journal_fd = -1;

/* fatal() without the exit: the same call of log_vlog(). */
static void __attribute__((format(printf, 1, 2)))
journal_error(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vlog(LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
}

/* What the error log wrote on fd 2 since the last call, at most size - 1. */
static void
journal_take(char *buf, size_t size)
{
	ssize_t	 n;

	n = pread(journal_fd, buf, size - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	if (ftruncate(journal_fd, 0) == -1 ||
	    lseek(journal_fd, 0, SEEK_SET) == -1)
		buf[0] = '\0';
}

/*
 * A line as written: "<N>[level] tine[PID]: msg\n" or stamped. fatal()
 * exits, so the error level is written as fatal writes it.
 */
static void
journal_line(enum log_level level, const char *msg)
{
	switch (level) {
	case LEVEL_ERROR:
		journal_error("%s", msg);
		break;
	case LEVEL_WARN:
		log_warnx("%s", msg);
		break;
	case LEVEL_INFO:
		log_info("%s", msg);
		break;
	case LEVEL_DEBUG:
		log_debug("%s", msg);
		break;
	}
}

static void
test_journal(void)
{
	static const struct {
		enum log_level	 level;
		const char	*prefix;
		const char	*name;
		const char	*msg;	/* as logged, errno ENOENT */
	} rows[] = {
		{ LEVEL_ERROR, "<3>", "error", "m" },
		{ LEVEL_WARN, "<4>", "warn", "m" },
		{ LEVEL_INFO, "<6>", "info", "m" },
		{ LEVEL_DEBUG, "<7>", "debug", "m" },
	};
	static const int warn_errnos[] = { ENOENT, EACCES, EAGAIN, ENOSPC,
	    EIO, EPIPE };
	/* JOURNAL_STREAM values that name no stream: before, id?, after. */
	static const struct {
		const char	*before;
		bool		 id;
		const char	*after;
	} bad_env[] = {
		{ "", false, "" }, { ":", false, "" }, { "", true, ":" },
		{ ":", true, "" }, { "", true, ":1:" }, { "", true, " " },
		{ " ", true, "" }, { "+", true, "" }, { "", true, "x" },
		{ "", true, "9" }, { "99999999999999999999999:1", false, "" },
		{ "1:2", false, "" },
	};
	char		 tmpl[] = "/tmp/tine-test-journal.XXXXXX";
	char		 id[64], env[128], got[512], want[512], body[256];
	struct stat	 st;
	size_t		 i;
	int		 saved = -1;

	if ((journal_fd = mkstemp(tmpl)) == -1 ||
	    (saved = dup(STDERR_FILENO)) == -1 ||
	    dup2(journal_fd, STDERR_FILENO) == -1 ||
	    fstat(STDERR_FILENO, &st) == -1) {
		unit_check(0, "journal: set up a file as stderr");
		goto done;
	}
	(void)snprintf(id, sizeof(id), "%ju:%ju", (uintmax_t)st.st_dev,
	    (uintmax_t)st.st_ino);
	log_state.to = LOG_TO_STDERR;
	log_state.role[0] = '\0';

	/* The journal: a priority, no timestamp. */
	(void)setenv("JOURNAL_STREAM", id, 1);
	log_init(1);
	log_state.started = true;
	for (i = 0; i < nitems(rows); i++) {
		(void)snprintf(want, sizeof(want), "%s[%s] tine[%ld]: %s\n",
		    rows[i].prefix, rows[i].name, (long)getpid(),
		    rows[i].msg);
		journal_line(rows[i].level, "m");
		journal_take(got, sizeof(got));
		unit_check(strcmp(got, want) == 0,
		    "journal: %s line is \"%.*s\"", rows[i].prefix,
		    (int)strcspn(got, "\n"), got);
	}
	/* log_warn: "warn" and the errno text, whatever the errno. */
	for (i = 0; i < nitems(warn_errnos); i++) {
		(void)snprintf(want, sizeof(want),
		    "<4>[warn] tine[%ld]: m: %s\n", (long)getpid(),
		    strerror(warn_errnos[i]));
		errno = warn_errnos[i];
		log_warn("m");
		journal_take(got, sizeof(got));
		unit_check(strcmp(got, want) == 0 && errno == warn_errnos[i],
		    "journal: log_warn with errno %d is \"%.*s\"",
		    warn_errnos[i], (int)strcspn(got, "\n"), got);
	}
	/* Before the log is open, and a config error at start. */
	log_state.started = false;
	log_warnx("early");
	journal_take(got, sizeof(got));
	unit_check(strcmp(got, "<4>tine: early\n") == 0, "journal: early line \"%.*s\"",
	    (int)strcspn(got, "\n"), got);
	log_config_error("f.conf", 3, "bad");
	journal_take(got, sizeof(got));
	unit_check(strcmp(got, "<3>f.conf:3: bad\n") == 0, "journal: config error \"%.*s\"",
	    (int)strcspn(got, "\n"), got);
	log_state.started = true;

	/* Not the journal: unchanged, stamped lines. */
	for (i = 0; i < nitems(bad_env); i++) {
		(void)snprintf(env, sizeof(env), "%s%s%s", bad_env[i].before,
		    bad_env[i].id ? id : "", bad_env[i].after);
		(void)setenv("JOURNAL_STREAM", env, 1);
		log_init(1);
		(void)snprintf(body, sizeof(body), "[info] tine[%ld]: m\n",
		    (long)getpid());
		journal_line(LEVEL_INFO, "m");
		journal_take(got, sizeof(got));
		unit_check(got[0] >= '0' && got[0] <= '9' &&
		    strlen(got) > strlen(body) &&
		    strcmp(got + strlen(got) - strlen(body), body) == 0 &&
		    got[strlen(got) - strlen(body) - 1] == ' ',
		    "journal: JOURNAL_STREAM=\"%s\" is not stderr: \"%.*s\"",
		    env, (int)strcspn(got, "\n"), got);
	}
	(void)unsetenv("JOURNAL_STREAM");
	log_init(1);
	journal_line(LEVEL_ERROR, "m");
	journal_take(got, sizeof(got));
	unit_check(got[0] >= '0' && got[0] <= '9' &&
	    strstr(got, " [error] tine[") != NULL,
	    "journal: no JOURNAL_STREAM: \"%.*s\"",
	    (int)strcspn(got, "\n"), got);

 done:
	if (saved != -1) {
		(void)dup2(saved, STDERR_FILENO);
		(void)close(saved);
	}
	if (journal_fd != -1) {
		(void)close(journal_fd);
		(void)unlink(tmpl);
	}
	log_state.started = false;
	log_init(0);
}

int
main(void)
{
	test_journal();
	test_rows();
	test_every_byte();
	test_every_pair();
	test_random();
	test_reserve();
	return unit_done();
}
