/*
 * upgrade.c: the binary upgrade (USR2), both ends of it. The old master
 * checks the binary and executes it in a child with the listening
 * sockets; the new master recognises that it was started so and tells
 * the old one, over a pipe, once it serves. Owns the start path; the
 * state of an upgrade in progress is master.c's.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "activate.h"
#include "notify.h"
#include "upgrade.h"

/*
 * The environment variable that marks an upgrade: "PID FD", the old
 * master's pid and the descriptor of the readiness pipe. Set only in the
 * child the old master executes, and unset by the new master at once.
 */
#define UPGRADE_ENV		"TINE_UPGRADE"
#define UPGRADE_FD_START	3	/* SD_LISTEN_FDS_START */
#define UPGRADE_FDS_MAX		64	/* as activate.c takes them */

static struct {
	char	 path[PATH_MAX];	/* the binary: "" when unknown */
	char	*argv0;
	pid_t	 parent;	/* new master: the old master, or 0 */
	int	 fd;		/* new master: the readiness pipe */
} up = { .fd = -1 };

/*
 * The binary an upgrade executes is the file that is *now* at the path
 * this master was started from, so that installing a new file there and
 * sending USR2 runs the new file. So the path is kept, not the file:
 * not realpath() (a link such as /usr/sbin/tine -> tine-1.2 that the
 * upgrade moves would pin the old target) and not /proc/self/exe (which
 * names the file this process runs, deleted once it was replaced). A
 * relative argv[0] is made absolute now, since a daemon moves to /. An
 * argv[0] without a slash was found through PATH: then the file this
 * process runs is the best guess of where that was.
 */
void
upgrade_save_path(const char *argv0)
{
	char	 cwd[PATH_MAX];
	ssize_t	 n;

	up.path[0] = '\0';
	if ((up.argv0 = strdup(argv0)) == NULL)
		return;
	if (strchr(argv0, '/') == NULL) {
		n = readlink("/proc/self/exe", up.path, sizeof(up.path) - 1);
		up.path[n > 0 ? n : 0] = '\0';
		return;
	}
	if (argv0[0] == '/') {
		if (strlcpy(up.path, argv0, sizeof(up.path)) >=
		    sizeof(up.path))
			up.path[0] = '\0';
		return;
	}
	while (argv0[0] == '.' && argv0[1] == '/')
		argv0 += 2;	/* ./tine: the same file, a plainer name */
	if (getcwd(cwd, sizeof(cwd)) == NULL ||
	    xsnprintf(up.path, sizeof(up.path), "%s/%s", cwd, argv0) == -1)
		up.path[0] = '\0';
}

const char *
upgrade_path(void)
{
	return up.path;
}

/*
 * New master: takes the marker and the readiness pipe. Meant for
 * another process (its pid is not our parent's), the variable is
 * dropped. Runs before main_close_inherited(), which keeps upgrade_fd().
 */
void
upgrade_init(void)
{
	const char	*s, *errstr;
	char		 buf[64], *sp;
	struct stat	 st;
	long long	 pid, fd;

	if ((s = getenv(UPGRADE_ENV)) == NULL)
		return;
	if (strlcpy(buf, s, sizeof(buf)) >= sizeof(buf) ||
	    (sp = strchr(buf, ' ')) == NULL)
		goto done;
	*sp++ = '\0';
	pid = strtonum(buf, 1, INT_MAX, &errstr);
	if (errstr != NULL || (pid_t)pid != getppid())
		goto done;
	fd = strtonum(sp, UPGRADE_FD_START, INT_MAX, &errstr);
	if (errstr != NULL || fstat((int)fd, &st) == -1 ||
	    !S_ISFIFO(st.st_mode) || util_set_cloexec((int)fd) == -1)
		goto done;
	up.parent = (pid_t)pid;
	up.fd = (int)fd;
done:
	(void)unsetenv(UPGRADE_ENV);	/* fails only on a bad name */
}

bool
upgrade_started(void)
{
	return up.parent != 0;
}

int
upgrade_fd(void)
{
	return up.fd;
}

/*
 * The old master of this one while it still runs (it is our parent
 * until it exits: the new master never daemonizes), else 0.
 */
pid_t
upgrade_parent(void)
{
	if (up.parent != 0 && getppid() != up.parent)
		up.parent = 0;
	return up.parent;
}

/*
 * New master: workers run and the pid file is written; one byte on the
 * pipe tells the old master. An old master that is gone already makes
 * the write fail with EPIPE (SIGPIPE is ignored by then): nothing to do.
 * The pipe stays open: upgrade_stopping() says on it when this master
 * begins to stop.
 */
void
upgrade_ready(void)
{
	if (up.fd == -1)
		return;
	if (write(up.fd, "", 1) != 1 && errno != EPIPE) {
		log_warn("upgrade: telling the old master");
		(void)close(up.fd);	/* a pipe: nothing to flush */
		up.fd = -1;
	}
}

/*
 * New master: a stop begins. A second byte tells an old master that
 * still runs, so that one whose workers WINCH retired starts them again
 * now, not once this master has drained its own (up to
 * shutdown_timeout with nobody accepting).
 */
void
upgrade_stopping(void)
{
	if (up.fd == -1)
		return;
	if (write(up.fd, "", 1) != 1 && errno != EPIPE)
		log_warn("upgrade: telling the old master");
	(void)close(up.fd);	/* a pipe: nothing to flush */
	up.fd = -1;
}

/*
 * 0 when the file now at the start path is a regular file we may
 * execute, else -1 and *why. Checked before anything changes; should the
 * file change before exec, the exec fails and the child exits 127, which
 * the old master handles as any new master that ended before it was
 * ready.
 */
int
upgrade_check(const char **why)
{
	struct stat	 st;

	*why = NULL;
	if (up.path[0] == '\0') {
		*why = "the path tine was started from is unknown";
		return -1;
	}
	if (stat(up.path, &st) == -1) {
		*why = strerror(errno);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		return -1;
	}
	if (faccessat(AT_FDCWD, up.path, X_OK, AT_EACCESS) == -1) {
		*why = "not executable";
		return -1;
	}
	return 0;
}

/*
 * In the child, before exec: the listeners go to fds 3.., in the order
 * of the config, then the pipe; each without close-on-exec (dup2 clears
 * it). Every source is first copied above that range, so a source that
 * sits where another belongs is never overwritten. The copies keep
 * close-on-exec and vanish at exec. Returns the number of listeners, or
 * -1.
 */
static int
upgrade_place_fds(const struct config *conf, int pipefd, char *names,
    size_t size)
{
	const struct listener	*l;
	int			 src[UPGRADE_FDS_MAX + 1], n = 0, i, top;

	names[0] = '\0';
	TAILQ_FOREACH(l, &conf->listeners, entry) {
		if (l->fd == -1)
			continue;
		if (n == UPGRADE_FDS_MAX)
			return -1;
		/*
		 * The name says whether the service manager keeps the
		 * socket (activate.c): only then must no master ever
		 * attach the SYN filter to it.
		 */
		if ((n > 0 && strlcat(names, ":", size) >= size) ||
		    strlcat(names, activate_is_kept(l->fd) ? ACTIVATE_KEPT :
		    ACTIVATE_OWN, size) >= size)
			return -1;
		src[n++] = l->fd;
	}
	src[n] = pipefd;
	top = UPGRADE_FD_START + n + 1;
	for (i = 0; i <= n; i++)
		if ((src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, top)) == -1)
			return -1;
	for (i = 0; i <= n; i++)
		if (dup2(src[i], UPGRADE_FD_START + i) == -1)
			return -1;
	return n;
}

/* In the child: exec the binary, or _exit(127) saying why. */
static void __attribute__((noreturn))
upgrade_child(const struct config *conf, bool foreground, int pipefd)
{
	static const int	 sigs[] = { SIGCHLD, SIGTERM, SIGQUIT, SIGINT,
	    SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH, SIGTTIN, SIGTTOU, SIGPIPE };
	char			 names[UPGRADE_FDS_MAX * 16], buf[64];
	char			*argv[6];
	sigset_t		 none;
	size_t			 i;
	int			 n, argc = 0, errfd;

	/* A fresh process: default handlers, nothing blocked. */
	for (i = 0; i < nitems(sigs); i++)
		(void)signal(sigs[i], SIG_DFL);	/* valid signals */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);	/* cannot fail */

	if ((n = upgrade_place_fds(conf, pipefd, names, sizeof(names))) ==
	    -1) {
		log_warn("upgrade: passing the listening sockets");
		_exit(127);
	}
	if (xsnprintf(buf, sizeof(buf), "%d", n) == -1 ||
	    setenv("LISTEN_FDS", buf, 1) == -1 ||
	    xsnprintf(buf, sizeof(buf), "%ld", (long)getpid()) == -1 ||
	    setenv("LISTEN_PID", buf, 1) == -1 ||
	    setenv("LISTEN_FDNAMES", names, 1) == -1 ||
	    xsnprintf(buf, sizeof(buf), "%ld %d", (long)getppid(),
	    UPGRADE_FD_START + n) == -1 ||
	    setenv(UPGRADE_ENV, buf, 1) == -1 || notify_env() == -1) {
		log_warn("upgrade: environment");
		_exit(127);
	}
	/*
	 * What the new master says before it opens its own logs (a config
	 * error, a bind that fails) goes to stderr: to the error log, when
	 * that is a file, so that a failed upgrade says why where the old
	 * master's lines are (a daemon's stderr is /dev/null).
	 */
	if ((errfd = log_error_fd()) > STDERR_FILENO &&
	    dup2(errfd, STDERR_FILENO) == -1)
		log_warn("upgrade: stderr");	/* then it stays as it was */
	/*
	 * The config the old master runs, by its absolute path: a relative
	 * -f would not survive a daemon's chdir to /. -d only if the old
	 * master had it; without it the new master still stays in the
	 * foreground, as the old master's child, but logs as a daemon.
	 */
	argv[argc++] = up.argv0 != NULL ? up.argv0 : up.path;
	if (foreground)
		argv[argc++] = "-d";
	argv[argc++] = "-f";
	argv[argc++] = (char *)conf->path;
	argv[argc] = NULL;
	execv(up.path, argv);
	log_warn("upgrade: exec %s", up.path);
	_exit(127);
}

/*
 * Old master: forks and executes the binary. Returns the
 * new master's pid, with *readyfd the end of the pipe it writes one byte
 * to once it serves (EOF: it ended first), or -1 with the reason logged.
 */
pid_t
upgrade_exec(const struct config *conf, bool foreground, int *readyfd)
{
	pid_t		 pid;
	int		 p[2];

	*readyfd = -1;
	/* Non-blocking: the master polls its end with everything else. */
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("upgrade refused: pipe");
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_warn("upgrade refused: fork");
		(void)close(p[0]);
		(void)close(p[1]);
		return -1;
	}
	if (pid == 0) {
		(void)close(p[0]);
		upgrade_child(conf, foreground, p[1]);
	}
	(void)close(p[1]);	/* the child's now */
	*readyfd = p[0];
	return pid;
}
