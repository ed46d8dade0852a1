/*
 * log.c: the error log (stderr, a file or syslog; timestamp, level, pid;
 * on a stderr that is the journal, a priority instead of the timestamp)
 * for master and workers, and the workers' buffered access log. Client
 * bytes reach a log only through log_escape(). Never allocates.
 *
 * Each verb has one severity, whatever errno holds: fatal and fatalx are
 * "error" (LOG_ERR, <3>), log_warn and log_warnx "warn" (LOG_WARNING,
 * <4>), log_info "info", log_debug "debug". log_warn only adds the text of
 * errno; whether a failure came with an errno says nothing of how bad it
 * is. Config errors found before the log is open are "error": they fail
 * the start.
 *
 * Root opens the log files, in directories others may write: never
 * through a link someone other than root could have made, in the file's
 * name or in a directory on the way (LOG_OPEN_FLAGS says how). To a FIFO
 * the access log writes whole lines of at most PIPE_BUF bytes per write,
 * so that the lines of several workers never splice (log_access_flush).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "tine.h"

enum log_level {
	LEVEL_ERROR,
	LEVEL_WARN,
	LEVEL_INFO,
	LEVEL_DEBUG,
};

static const char *const level_names[] = {
	[LEVEL_ERROR] = "error",
	[LEVEL_WARN] = "warn",
	[LEVEL_INFO] = "info",
	[LEVEL_DEBUG] = "debug",
};

/*
 * Apart from log_state, whose initialiser puts it in .data: here in .bss
 * a worker's pages of it are only made when lines are written, and page
 * alignment keeps them to ACCESS_BUF_BYTES / 4096.
 */
static char	 log_access_buf[ACCESS_BUF_BYTES]
	    __attribute__((aligned(4096)));

static const int level_prio[] = {
	[LEVEL_ERROR] = LOG_ERR,
	[LEVEL_WARN] = LOG_WARNING,
	[LEVEL_INFO] = LOG_INFO,
	[LEVEL_DEBUG] = LOG_DEBUG,
};

/*
 * The file behind a log descriptor: its path as opened, its identity,
 * whether tine created it, and which process opened it. A reopen that
 * finds the same inode under the same path knows it is still the file
 * tine created (the descriptor is held open all along, so its inode
 * number cannot have been reused).
 */
struct log_ident {
	pid_t		 opener;	/* a worker inherits the master's */
	bool		 created;
	bool		 fifo;		/* writes of whole lines only */
	dev_t		 dev;
	ino_t		 ino;
	char		 path[PATH_MAX];	/* "" when no file is held */
};

static struct {
	bool		 started;	/* log_open() done: stamped lines */
	bool		 daemon;	/* stderr is /dev/null */
	bool		 journal;	/* stderr is the systemd journal */
	enum log_target	 to;
	int		 err_fd;	/* file target; else -1 */
	struct log_ident err_id;
	int		 verbose;
	char		 role[16];	/* "master", "worker" */
	/*
	 * Every distinct access log of the config (sites may have their
	 * own), opened by the master; the buffer holds lines of one of
	 * them, access_cur, and is flushed before a line for another.
	 */
	int		*access_fds;
	struct log_ident *access_ids;
	int		 naccess;
	int		 access_cur;
	int		 access_fd;	/* access_fds[access_cur]; -1: none */
	size_t		 access_len;
	time_t		 access_err_at;	/* last "cannot write" report */
	uintmax_t	 access_dropped; /* lines lost since that report */
	int		 access_errno;	/* why the last of them was lost */
	time_t		 clf_sec;
	char		 clf_buf[32];
} log_state = {
	.err_fd = -1,
	.access_fd = -1,
	.clf_sec = -1,
};

/*
 * The digits of s up to the byte stop, as a number; false when there are
 * none, or anything else, or it would overflow.
 */
static bool
log_parse_id(const char **s, char stop, uintmax_t *v)
{
	const char	*p = *s;

	*v = 0;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (*v > (UINTMAX_MAX - (uintmax_t)(*p - '0')) / 10)
			return false;
		*v = *v * 10 + (uintmax_t)(*p - '0');
	}
	if (*p != stop)
		return false;
	*s = p + (stop != '\0');
	return true;
}

/*
 * systemd's stream protocol (systemd.exec(5), JOURNAL_STREAM): the
 * variable holds "DEVICE:INODE" of the stream the service's stdout or
 * stderr was connected to. It is inherited by children whose stderr may
 * be something else (a terminal, a redirected file), so it only counts
 * when fd 2 is that very stream.
 */
static bool
log_stderr_is_journal(void)
{
	struct stat	 st;
	const char	*s;
	uintmax_t	 dev, ino;

	if ((s = getenv("JOURNAL_STREAM")) == NULL ||
	    !log_parse_id(&s, ':', &dev) || !log_parse_id(&s, '\0', &ino))
		return false;
	if (fstat(STDERR_FILENO, &st) == -1)
		return false;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void
log_init(int verbose)
{
	log_state.verbose = verbose;
	log_state.journal = log_stderr_is_journal();
}

/*
 * A line for the journal starts with the sd-daemon(3) priority "<N>",
 * which journald takes off and stores as PRIORITY, so `journalctl -p`
 * filters tine's lines; "" when stderr is not the journal or fd is not
 * stderr.
 */
static const char *
log_journal_prefix(int fd, enum log_level level)
{
	static const char *const prefixes[] = {
		[LEVEL_ERROR] = "<3>",	/* SD_ERR */
		[LEVEL_WARN] = "<4>",	/* SD_WARNING */
		[LEVEL_INFO] = "<6>",	/* SD_INFO */
		[LEVEL_DEBUG] = "<7>",	/* SD_DEBUG */
	};

	if (!log_state.journal || fd != STDERR_FILENO)
		return "";
	return prefixes[level];
}

/*
 * After daemonizing stderr is /dev/null, so an error_log of stderr (the
 * default) goes to syslog instead of nowhere.
 */
void
log_set_daemon(void)
{
	log_state.daemon = true;
}

void
log_set_role(const char *role)
{
	if (strlcpy(log_state.role, role, sizeof(log_state.role)) >=
	    sizeof(log_state.role))
		log_state.role[0] = '\0';
}

int
log_error_fd(void)
{
	if (log_state.to == LOG_TO_FILE)
		return log_state.err_fd;
	if (log_state.to == LOG_TO_STDERR)
		return STDERR_FILENO;
	return -1;
}

/*
 * How every log is opened. The path is walked one directory at a time
 * (util_open_safe_dir()) and the file opened in the last directory with
 * O_NOFOLLOW: the directory of a log, or one above it, may be writable by
 * others (the workers' user, a log group), and root must not be led
 * through a link planted there to write to, create or hand over a file
 * of their choosing. O_NOFOLLOW alone checks the last component only. A
 * link on the way is followed only when it and the directory holding it
 * are root's and no one else can write that directory (/var/run -> /run,
 * a link to a log volume); a link as the last component never is.
 * O_NONBLOCK: opening a FIFO that no process reads
 * would otherwise wait for a reader, and the master must never wait on a
 * log. The flag stays on the descriptor: a write that would block (a
 * FIFO whose reader lags, a terminal held by flow control) fails with
 * EAGAIN instead of hanging master or worker; the error log drops that
 * line, the access log keeps it buffered and drops what no longer fits
 * (counted, reported once per LOG_ERROR_INTERVAL_S and when the worker
 * exits). For regular files the flag changes nothing.
 */
#define LOG_OPEN_FLAGS	(O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | \
			    O_NOFOLLOW | O_NONBLOCK)
#define LOG_OPEN_TRIES	3	/* create, or open, while others unlink */
#define LOG_SHOWN_BYTES	(4 * 256 + 1)	/* a path in a message, escaped */
#define LOG_CHECK_MAX	1024	/* log files tine -t looks at */

/* Why base in dirfd, which openat() refused with errnum, cannot be a log. */
static const char *
log_open_reason(int dirfd, const char *base, int errnum)
{
	struct stat	 st;

	if ((errnum == ELOOP || errnum == ENXIO) &&
	    fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			return "is a symbolic link; a log is never opened "
			    "through one";
		if (S_ISFIFO(st.st_mode))
			return "is a FIFO that no process reads";
		if (S_ISSOCK(st.st_mode))
			return "is a socket";
	}
	return strerror(errnum);
}

/*
 * The uid whose files may have more than one link: the workers' user,
 * uid when it is set, else the config's user (at start and in -t, before
 * the master resolved it; in a worker that reopens), else none.
 */
static uid_t
log_links_owner(const struct config *conf, uid_t uid)
{
	struct passwd	*pw;

	if (uid != (uid_t)-1)
		return uid;
	if (conf->user[0] == '\0' || (pw = getpwnam(conf->user)) == NULL)
		return (uid_t)-1;
	return pw->pw_uid;
}

/*
 * Why a file of this type and link count cannot be a log, or NULL. A
 * regular file with another link may be a hard link to a file elsewhere
 * (a system file, another user's) that root would then append to. Not so
 * when the file is the workers' user's own (owner, never root): a link
 * they made to their own file only leads root to a file they could write
 * anyway, and refusing it would let them make every reload fail.
 */
static const char *
log_type_reason(const struct stat *st, uid_t owner)
{
	if (S_ISREG(st->st_mode))
		return st->st_nlink > 1 && (st->st_uid != owner ||
		    owner == 0 || owner == (uid_t)-1) ? "is a regular file "
		    "with more than one link" : NULL;
	if (S_ISCHR(st->st_mode) || S_ISFIFO(st->st_mode))
		return NULL;
	if (S_ISDIR(st->st_mode))
		return "is a directory";
	if (S_ISBLK(st->st_mode))
		return "is a block device";
	return "is not a regular file, a character device or a FIFO";
}

/*
 * Opens path for appending, creating it if need be, and fills id. When
 * the caller is root and uid is set, the file is handed to that user, so
 * that workers, which run as that user, can reopen it after a rotation:
 * but only a regular file that tine created (this call, or the one that
 * opened held, the descriptor now in use for the same log) or that
 * already belongs to that user. Anything else is left as it is: a device
 * such as /dev/null, a FIFO, and an existing file of another owner. The
 * master and the workers started after this open still write to such a
 * file, through descriptors opened as root; a worker already running
 * when the logs are reopened cannot open it and keeps the descriptor it
 * had (and says so), until a reload starts new workers. owner is the
 * workers' user for log_type_reason().
 *
 * O_CREAT | O_EXCL first, so that "created" is known and not guessed;
 * then an existing file, still without following a link. On failure
 * returns -1 with errno set and *why saying why in words.
 */
static int
log_open_file(const char *path, uid_t uid, gid_t gid, uid_t owner,
    const struct log_ident *held, struct log_ident *id, const char **why)
{
	struct stat	 st;
	const char	*reason;
	char		 shown[LOG_SHOWN_BYTES], base[PATH_MAX];
	int		 dirfd = -1, fd = -1, err, tries;
	bool		 created = false, ours;

	*why = NULL;
	if ((dirfd = util_open_safe_dir(path, base, sizeof(base), why)) == -1)
		return -1;
	for (tries = 0; tries < LOG_OPEN_TRIES; tries++) {
		fd = openat(dirfd, base, LOG_OPEN_FLAGS | O_CREAT | O_EXCL,
		    0644);
		if (fd != -1) {
			created = true;
			break;
		}
		if (errno != EEXIST)
			break;
		fd = openat(dirfd, base, LOG_OPEN_FLAGS);
		if (fd != -1 || errno != ENOENT)
			break;
		/* Unlinked between the two opens: create it after all. */
	}
	if (fd == -1) {
		err = errno;
		*why = log_open_reason(dirfd, base, err);
		goto fail;
	}
	if (fstat(fd, &st) == -1) {
		err = errno;
		*why = strerror(err);
		goto fail;
	}
	if ((reason = log_type_reason(&st, owner)) != NULL) {
		err = EPERM;
		*why = reason;
		goto fail;
	}
	ours = created || (held != NULL && held->created &&
	    strcmp(held->path, path) == 0 && held->dev == st.st_dev &&
	    held->ino == st.st_ino);
	if (S_ISREG(st.st_mode) && geteuid() == 0 && uid != (uid_t)-1 &&
	    (ours || st.st_uid == uid) && fchown(fd, uid, gid) == -1) {
		/* Not fatal: root can still write; workers may fail later. */
		(void)log_escape(shown, sizeof(shown), path, strlen(path));
		log_warn("chown %s", shown);
	}
	(void)close(dirfd);	/* O_PATH: nothing to flush */
	id->opener = getpid();
	id->created = ours && S_ISREG(st.st_mode);
	id->fifo = S_ISFIFO(st.st_mode);
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	(void)strlcpy(id->path, path, sizeof(id->path));	/* same size */
	return fd;
fail:
	if (fd != -1)
		(void)close(fd);	/* nothing was written */
	(void)close(dirfd);	/* O_PATH: nothing to flush */
	errno = err;
	return -1;
}

/*
 * Reports why kw's file path could not be opened: at the directive's
 * line, as a config error. Returns -1 with errno set; the caller keeps
 * the descriptor it holds. Two failures keep it and return 0 instead,
 * when it was opened from this same path. A FIFO that has lost its
 * reader is not a bad config but a moment: the descriptor reaches the
 * next reader. And a descriptor that another process opened, which a
 * worker inherits from the master, was opened and checked for this very
 * config: a worker that cannot open the path again (its user may not,
 * or the path was swapped for a link since) writes through it rather
 * than fail to start.
 */
static int
log_open_failed(const struct config *conf, const char *kw, const char *path,
    int line, const struct log_ident *held, int held_fd, const char *why)
{
	char	 shown[LOG_SHOWN_BYTES];
	int	 err = errno;
	bool	 keep;

	keep = held_fd != -1 && strcmp(held->path, path) == 0 &&
	    (err == ENXIO || held->opener != getpid());
	(void)log_escape(shown, sizeof(shown), path, strlen(path));
	log_config_error(conf->path, line, "%s \"%s\": %s%s", kw, shown,
	    why != NULL ? why : strerror(err),
	    keep ? "; keeping the descriptor open on it" : "");
	if (keep)
		return 0;
	errno = err;
	return -1;
}

/*
 * Switches the error log to the config's target. On failure the old
 * target stays, the reason is reported (a config error at the
 * error_log line) and -1 is returned with errno set.
 */
int
log_open(const struct config *conf, uid_t uid, gid_t gid)
{
	struct log_ident	 id;
	enum log_target		 to = conf->error_log_to;
	const char		*why;
	int			 fd = -1;

	memset(&id, 0, sizeof(id));
	if (to == LOG_TO_STDERR && log_state.daemon)
		to = LOG_TO_SYSLOG;
	if (to == LOG_TO_FILE && (fd = log_open_file(conf->error_log, uid,
	    gid, log_links_owner(conf, uid), &log_state.err_id, &id,
	    &why)) == -1)
		return log_open_failed(conf, "error_log", conf->error_log,
		    conf->error_log_line, &log_state.err_id, log_state.err_fd,
		    why);
	if (log_state.err_fd != -1)
		(void)close(log_state.err_fd);	/* nothing to do on error */
	if (log_state.to == LOG_TO_SYSLOG && to != LOG_TO_SYSLOG)
		closelog();
	log_state.err_fd = fd;
	log_state.err_id = id;
	log_state.to = to;
	if (log_state.to == LOG_TO_SYSLOG)
		(void)log_syslog_connect();
	log_state.started = true;
	return 0;
}

/*
 * (Re)connects syslog(3) at once (LOG_NDELAY) and returns the socket it
 * made, or -1. The library does not say which descriptor that is, and
 * the sandbox must know (a sendmsg() on it could name any other local
 * socket): socket() returns the lowest free descriptor, so it is the one
 * free just before, if that is now a datagram socket.
 */
static int	 log_syslog_sock = -1;

/* The socket log_syslog_connect() found, or -1. */
int
log_syslog_fd(void)
{
	return log_syslog_sock;
}

int
log_syslog_connect(void)
{
	socklen_t	 len;
	int		 fd, type;

	closelog();
	fd = open("/", O_PATH | O_CLOEXEC);
	if (fd != -1)
		(void)close(fd);	/* O_PATH: nothing to flush */
	openlog(TINE_NAME, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	len = sizeof(type);
	if (fd == -1 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) ==
	    -1 || type != SOCK_DGRAM)
		fd = -1;
	return log_syslog_sock = fd;
}

/*
 * The checks of tine -t (and of a start, before anything is opened) on
 * the log paths that open() alone would only make at run time, free of
 * side effects: no link on the way that log_open_file() would refuse, no
 * link as the file, no file of the wrong type. Whether a FIFO has a
 * reader is left to the start: opening it to see would end the reader's
 * input. Returns the number of problems, each reported at its line.
 */
int
log_check(const struct config *conf)
{
	struct {
		const char	*kw, *path;
		int		 line;
	} logs[LOG_CHECK_MAX];
	struct stat	 st;
	const char	*why;
	char		 shown[LOG_SHOWN_BYTES], base[PATH_MAX];
	size_t		 i, n = 0;
	int		 dirfd, problems = 0, j;

	logs[n].kw = "error_log";
	logs[n].path = conf->error_log_to == LOG_TO_FILE ? conf->error_log : "";
	logs[n++].line = conf->error_log_line;
	for (j = 0; j < conf->naccess_logs && n < nitems(logs); j++) {
		logs[n].kw = "access_log";
		logs[n].path = conf->access_logs[j];
		logs[n++].line = conf->access_log_lines[j];
	}
	for (i = 0; i < n; i++) {
		if (logs[i].path[0] == '\0')
			continue;
		if ((dirfd = util_open_safe_dir(logs[i].path, base, sizeof(base),
		    &why)) == -1) {
			if (errno != ELOOP)
				continue;	/* the config checks report it */
		} else {
			if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) ==
			    -1) {
				(void)close(dirfd);	/* O_PATH */
				continue;	/* reported by the config checks */
			}
			(void)close(dirfd);	/* O_PATH: nothing to flush */
			if (S_ISLNK(st.st_mode))
				why = "is a symbolic link; a log is never "
				    "opened through one";
			else if (S_ISDIR(st.st_mode))
				continue;	/* reported by the config checks */
			else
				why = log_type_reason(&st,
				    log_links_owner(conf, (uid_t)-1));
			if (why == NULL)
				continue;
		}
		(void)log_escape(shown, sizeof(shown), logs[i].path,
		    strlen(logs[i].path));
		log_config_error(conf->path, logs[i].line, "%s \"%s\": %s",
		    logs[i].kw, shown, why);
		problems++;
	}
	return problems;
}

static void
log_write_all(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;	/* nowhere left to report it */
		buf += n;
		len -= (size_t)n;
	}
}

static void __attribute__((format(printf, 3, 0)))
log_vlog(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char		 msg[LOG_LINE_MAX], line[LOG_LINE_MAX + 128];
	char		 stamp[40];
	const char	*prefix;
	struct tm	 tm;
	time_t		 now;
	int		 n, fd;
	size_t		 len;

	if (level == LEVEL_DEBUG && log_state.verbose < 1)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	len = strlen(msg);	/* a truncated message is still worth logging */
	if (errnum != 0)
		(void)xsnprintf(msg + len, sizeof(msg) - len, ": %s",
		    strerror(errnum));	/* truncation keeps the message */

	if (!log_state.started) {
		n = xsnprintf(line, sizeof(line), "%s%s: %s\n",
		    log_journal_prefix(STDERR_FILENO, level), TINE_NAME, msg);
		if (n > 0)
			log_write_all(STDERR_FILENO, line, (size_t)n);
		return;
	}
	if (log_state.to == LOG_TO_SYSLOG) {
		syslog(level_prio[level], "%s%s%s", log_state.role,
		    log_state.role[0] ? ": " : "", msg);
		return;
	}
	if ((fd = log_error_fd()) == -1)
		return;
	/*
	 * The journal stamps every line it receives (with microseconds, in
	 * whatever zone the reader asks for), so a line for it carries the
	 * priority instead of a timestamp. The level name and the pid stay:
	 * the journal files every line of a stream under the one process
	 * that the stream was set up for, the master, also a worker's.
	 */
	prefix = log_journal_prefix(fd, level);
	stamp[0] = '\0';
	if (prefix[0] == '\0') {
		now = time(NULL);
		if (localtime_r(&now, &tm) == NULL ||
		    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S%z ",
		    &tm) == 0)
			stamp[0] = '\0';
	}
	n = xsnprintf(line, sizeof(line), "%s%s[%s] %s[%ld]: %s%s%s\n",
	    prefix, stamp, level_names[level], TINE_NAME, (long)getpid(),
	    log_state.role, log_state.role[0] ? ": " : "", msg);
	if (n > 0)
		log_write_all(fd, line, (size_t)n);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vlog(LEVEL_WARN, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vlog(LEVEL_WARN, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vlog(LEVEL_INFO, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vlog(LEVEL_DEBUG, 0, fmt, ap);
	va_end(ap);
}

/*
 * Config errors read "FILE:LINE: message". Before the log is open (start,
 * -t) they go to stderr exactly so, without the program-name prefix, so
 * that editors and scripts can jump to them.
 */
void
log_config_error(const char *file, int line, const char *fmt, ...)
{
	char	 msg[LOG_LINE_MAX], out[LOG_LINE_MAX + PATH_MAX + 32];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (log_state.started) {
		if (line > 0)
			log_warnx("%s:%d: %s", file, line, msg);
		else
			log_warnx("%s: %s", file, msg);
		return;
	}
	/* Such an error fails the start or the check: for the journal, err. */
	if (line > 0)
		n = snprintf(out, sizeof(out), "%s%s:%d: %s\n",
		    log_journal_prefix(STDERR_FILENO, LEVEL_ERROR), file, line,
		    msg);
	else
		n = snprintf(out, sizeof(out), "%s%s: %s\n",
		    log_journal_prefix(STDERR_FILENO, LEVEL_ERROR), file, msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(out)) {
		n = sizeof(out) - 1;
		out[n - 1] = '\n';
	}
	log_write_all(STDERR_FILENO, out, (size_t)n);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vlog(LEVEL_ERROR, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vlog(LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/*
 * How log_escape() writes each byte: as itself (0), as a C-style escape
 * (the letter after the backslash), or in octal (LOG_VIS_OCTAL).
 */
#define LOG_VIS_OCTAL	1
#define LOG_VIS_(c)	((c) == '\0' ? '0' : (c) == '\a' ? 'a' : \
			    (c) == '\b' ? 'b' : (c) == '\t' ? 't' : \
			    (c) == '\n' ? 'n' : (c) == '\v' ? 'v' : \
			    (c) == '\f' ? 'f' : (c) == '\r' ? 'r' : \
			    (c) == '"' ? '"' : (c) == '\\' ? '\\' : \
			    (c) < 0x20 || (c) >= 0x7f ? LOG_VIS_OCTAL : 0)
#define LOG_VIS4_(c)	LOG_VIS_(c), LOG_VIS_((c) + 1), LOG_VIS_((c) + 2), \
			    LOG_VIS_((c) + 3)
#define LOG_VIS16_(c)	LOG_VIS4_(c), LOG_VIS4_((c) + 4), \
			    LOG_VIS4_((c) + 8), LOG_VIS4_((c) + 12)
#define LOG_VIS64_(c)	LOG_VIS16_(c), LOG_VIS16_((c) + 16), \
			    LOG_VIS16_((c) + 32), LOG_VIS16_((c) + 48)

static const unsigned char log_vis[256] = {
	LOG_VIS64_(0), LOG_VIS64_(64), LOG_VIS64_(128), LOG_VIS64_(192)
};

/*
 * The one escaping function for client bytes on their way to a log:
 * vis(3) in C style with octal for the rest, so quotes, backslashes,
 * control bytes and bytes >= 0x80 cannot forge a field or a line. The
 * output is exactly that of libbsd's strnvisx(VIS_NL | VIS_TAB |
 * VIS_CSTYLE | VIS_DQ | VIS_OCTAL) in the C locale tine runs in (never
 * setlocale'd), byte for byte: test_log compares the two over every byte
 * value, every pair and random strings. (One case strnvisx leaves to
 * chance: a NUL at the very end, written "\000" or "\0" by a byte
 * it reads past its input; here it is "\0", as nothing follows.)
 *
 * Not strnvisx itself, because this runs for three fields of every
 * request and libbsd's version goes through mbrtowc, wcrtomb and a
 * malloc per call: about 20,000 instructions per access-log line, more
 * than the rest of the request. dst must hold 4 * len + 1 bytes to never
 * truncate; a longer input is cut first, at a byte (every byte is a
 * character in the C locale). Returns the length written.
 */
size_t
log_escape(char *dst, size_t size, const char *src, size_t len)
{
	const unsigned char	*s = (const unsigned char *)src;
	char			*d = dst;
	size_t			 i;
	unsigned char		 c, v;

	if (size == 0)
		return 0;
	if (len > (size - 1) / 4)
		len = (size - 1) / 4;
	for (i = 0; i < len; i++) {
		c = s[i];
		if ((v = log_vis[c]) == 0) {
			*d++ = (char)c;
			continue;
		}
		*d++ = '\\';
		if (v != LOG_VIS_OCTAL) {
			*d++ = (char)v;
			/* "\0" before an octal digit would read as one. */
			if (c == '\0' && i + 1 < len && s[i + 1] >= '0' &&
			    s[i + 1] <= '7') {
				*d++ = '0';
				*d++ = '0';
			}
			continue;
		}
		*d++ = (char)('0' + (c >> 6));
		*d++ = (char)('0' + ((c >> 3) & 7));
		*d++ = (char)('0' + (c & 7));
	}
	*d = '\0';
	return (size_t)(d - dst);
}

/* "[23/Nov/2026:19:20:49 +0000]" body (without brackets), per second. */
const char *
log_clf_time(time_t now)
{
	struct tm	 tm;

	if (now != log_state.clf_sec) {
		if (localtime_r(&now, &tm) == NULL ||
		    strftime(log_state.clf_buf, sizeof(log_state.clf_buf),
		    "%d/%b/%Y:%H:%M:%S %z", &tm) == 0)
			(void)strlcpy(log_state.clf_buf, "-",
			    sizeof(log_state.clf_buf));	/* fits */
		log_state.clf_sec = now;
	}
	return log_state.clf_buf;
}

/* Whether fd is one of the access log descriptors held now. */
static bool
log_access_held(int fd)
{
	int	 j;

	for (j = 0; j < log_state.naccess; j++)
		if (log_state.access_fds[j] == fd)
			return true;
	return false;
}

/*
 * Switches the access logs to the config's files (or none): each
 * distinct file once, whichever sites share it. All or nothing: on a
 * failure the old descriptors stay, the reason is reported (a config
 * error at that access_log line) and -1 is returned with errno set.
 */
int
log_access_open(const struct config *conf, uid_t uid, gid_t gid)
{
	struct log_ident	*ids = NULL, none;
	const struct log_ident	*held;
	const char		*why;
	int			*fds = NULL, i, j, n = conf->naccess_logs, err;
	int			 held_fd;

	memset(&none, 0, sizeof(none));
	(void)log_access_flush();	/* errors are reported inside */
	if (n > 0 && ((fds = calloc((size_t)n, sizeof(*fds))) == NULL ||
	    (ids = calloc((size_t)n, sizeof(*ids))) == NULL)) {
		free(fds);
		return -1;
	}
	for (i = 0; i < n; i++)
		fds[i] = -1;
	for (i = 0; i < n; i++) {
		held = &none;
		held_fd = -1;
		for (j = 0; j < log_state.naccess; j++)
			if (strcmp(log_state.access_ids[j].path,
			    conf->access_logs[i]) == 0) {
				held = &log_state.access_ids[j];
				held_fd = log_state.access_fds[j];
			}
		if ((fds[i] = log_open_file(conf->access_logs[i], uid, gid,
		    log_links_owner(conf, uid), held, &ids[i], &why)) != -1)
			continue;
		/* A FIFO without a reader keeps the descriptor it had. */
		if (log_open_failed(conf, "access_log", conf->access_logs[i],
		    conf->access_log_lines[i], held, held_fd, why) == 0) {
			fds[i] = held_fd;
			ids[i] = *held;
			continue;
		}
		err = errno;
		for (j = 0; j < i; j++)
			if (!log_access_held(fds[j]))
				(void)close(fds[j]);	/* nothing to do */
		free(fds);
		free(ids);
		errno = err;
		return -1;
	}
	for (j = 0; j < log_state.naccess; j++) {
		for (i = 0; i < n && fds[i] != log_state.access_fds[j]; i++)
			;
		if (i == n)	/* not kept for the new list */
			(void)close(log_state.access_fds[j]);
	}
	free(log_state.access_fds);
	free(log_state.access_ids);
	log_state.access_fds = fds;
	log_state.access_ids = ids;
	log_state.naccess = n;
	log_state.access_cur = 0;
	log_state.access_fd = n > 0 ? fds[0] : -1;
	return 0;
}

/*
 * The log the next line goes to, by the index of its file in the
 * config's access_logs; lines of another one in the buffer leave first.
 * Returns false for -1 (that site logs nothing).
 */
bool
log_access_select(int id)
{
	if (id < 0 || id >= log_state.naccess)
		return false;
	if (id != log_state.access_cur) {
		(void)log_access_flush();	/* reported inside */
		if (log_state.access_len > 0)
			return false;	/* a lagging FIFO: keep its lines */
		log_state.access_cur = id;
		log_state.access_fd = log_state.access_fds[id];
	}
	return true;
}

/* Whether error lines go to syslog(3), which may reconnect its socket. */
bool
log_uses_syslog(void)
{
	return log_state.to == LOG_TO_SYSLOG;
}

bool
log_access_enabled(void)
{
	return log_state.naccess > 0;
}

bool
log_access_pending(void)
{
	return log_state.access_len > 0;
}

/*
 * Says that the access log lost lines, and how many since the last time
 * it said so: once per LOG_ERROR_INTERVAL_S, or at once when now is set
 * (a worker that exits, whose count would otherwise be lost).
 */
static void
log_access_report(bool now)
{
	time_t	 t = time(NULL);

	if (log_state.access_dropped == 0 ||
	    (!now && t - log_state.access_err_at < LOG_ERROR_INTERVAL_S))
		return;
	log_state.access_err_at = t;
	if (log_state.access_errno == EAGAIN)
		log_warnx("access log: its reader does not keep up; %ju "
		    "lines dropped since the last report",
		    log_state.access_dropped);
	else {
		errno = log_state.access_errno;
		log_warn("access log: write (%ju lines dropped since the last "
		    "report)", log_state.access_dropped);
	}
	log_state.access_dropped = 0;
}

/* Counts the lines in buf as dropped, for the reason errnum. */
static void
log_access_drop(const char *buf, size_t len, int errnum)
{
	const char	*p, *end = buf + len;

	log_state.access_errno = errnum;
	for (p = buf; p < end && (p = memchr(p, '\n', (size_t)(end - p))) !=
	    NULL; p++)
		log_state.access_dropped++;
}

/*
 * The next write of a flush to a FIFO: as many whole lines from buf as
 * fit in PIPE_BUF bytes. POSIX makes a write of at most PIPE_BUF bytes to
 * a pipe atomic, and without O_NONBLOCK's partial writes: all of it or
 * EAGAIN. So no worker ever leaves part of a line in the pipe for
 * another worker's lines to follow, which would splice the two and let
 * the rest of the cut line, client bytes, start a line of its own. A
 * line longer than PIPE_BUF goes alone, cut to PIPE_BUF - 4 bytes and
 * ended with "...\n". Fills iov (two entries at most) and returns the
 * count; *took is the number of bytes of buf it stands for.
 */
static int
log_access_fifo_chunk(const char *buf, size_t len, struct iovec *iov,
    size_t *took)
{
	static const char	 cut[] = "...\n";
	const char		*nl;
	size_t			 n = 0, line;

	while (n < len) {
		nl = memchr(buf + n, '\n', len - n);
		line = nl != NULL ? (size_t)(nl - (buf + n)) + 1 : len - n;
		if (n + line > PIPE_BUF)
			break;
		n += line;
	}
	if (n > 0) {
		iov[0].iov_base = (void *)(uintptr_t)buf;
		iov[0].iov_len = n;
		*took = n;
		return 1;
	}
	nl = memchr(buf, '\n', len);
	*took = nl != NULL ? (size_t)(nl - buf) + 1 : len;
	iov[0].iov_base = (void *)(uintptr_t)buf;
	iov[0].iov_len = PIPE_BUF - (sizeof(cut) - 1);
	iov[1].iov_base = (void *)(uintptr_t)cut;
	iov[1].iov_len = sizeof(cut) - 1;
	return 2;
}

/*
 * Writes the buffered lines: in one write to a file (O_APPEND keeps the
 * workers' lines apart), in whole lines of at most PIPE_BUF bytes a
 * write to a FIFO. On failure (disk full, file gone, a FIFO without
 * reader) the lines are dropped and one error line per interval says
 * so: serving goes on. A write that would block (a FIFO whose reader
 * lags) leaves what it did not take at the head of the buffer for the
 * next flush, so that no line is cut while the worker lives;
 * log_access_reserve() drops the lines that no longer fit.
 */
int
log_access_flush(void)
{
	struct iovec	 iov[2];
	const char	*p = log_access_buf;
	size_t		 len = log_state.access_len, want, took;
	ssize_t		 n;
	int		 niov;

	if (len == 0)
		return 0;
	log_state.access_len = 0;
	if (log_state.access_fd == -1)
		return 0;
	while (len > 0) {
		if (log_state.access_ids != NULL &&
		    log_state.access_ids[log_state.access_cur].fifo)
			niov = log_access_fifo_chunk(p, len, iov, &took);
		else {
			iov[0].iov_base = (void *)(uintptr_t)p;
			iov[0].iov_len = took = len;
			niov = 1;
		}
		want = iov[0].iov_len + (niov > 1 ? iov[1].iov_len : 0);
		n = writev(log_state.access_fd, iov, niov);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			memmove(log_access_buf, p, len);
			log_state.access_len = len;
			return -1;
		}
		if (n <= 0) {
			log_access_drop(p, len, n == -1 ? errno : EIO);
			log_access_report(false);
			return -1;
		}
		/* Short only to a file (a FIFO write is all or nothing). */
		if ((size_t)n < want && niov == 1)
			took = (size_t)n;
		p += took;
		len -= took;
	}
	return 0;
}

/*
 * A worker's last flush: what a lagging reader has still not taken is
 * dropped, and every line dropped since the last report is reported
 * now, or the count would go with the process.
 */
void
log_access_close(void)
{
	if (log_access_flush() == -1 && log_state.access_len > 0) {
		log_access_drop(log_access_buf, log_state.access_len, EAGAIN);
		log_state.access_len = 0;
	}
	log_access_report(true);
}

/*
 * Room for a line of at most len bytes, written in place and then
 * committed with log_access_commit(): no copy. Flushes first when the
 * buffer lacks the room. NULL when the access log is off, len exceeds
 * the buffer, or the buffer holds lines that a lagging reader has not
 * taken yet and no room is left: that line is dropped and counted.
 */
char *
log_access_reserve(size_t len)
{
	if (log_state.access_fd == -1 || len > sizeof(log_access_buf))
		return NULL;
	if (len > sizeof(log_access_buf) - log_state.access_len)
		(void)log_access_flush();	/* reported inside */
	if (len > sizeof(log_access_buf) - log_state.access_len) {
		log_state.access_dropped++;
		log_state.access_errno = EAGAIN;
		log_access_report(false);
		return NULL;
	}
	return log_access_buf + log_state.access_len;
}

/* Adds len bytes written at log_access_reserve()'s pointer. */
void
log_access_commit(size_t len)
{
	log_state.access_len += len;
}
