/*
 * main.c: the command line and the start-up order: parse flags, load the
 * config, take the pid file, bind every listener, then daemonize and hand
 * over to the master. Errors before daemonizing go to stderr.
 */
#include <sys/file.h>
#include <sys/resource.h>
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
#include "master.h"
#include "notify.h"
#include "sandbox.h"
#include "tls.h"
#include "upgrade.h"

extern char **environ;

static const struct {
	const char	*name;
	int		 sig;
} signal_names[] = {
	{ "reload", SIGHUP },
	{ "reopen", SIGUSR1 },
	{ "quit", SIGQUIT },
	{ "stop", SIGTERM },
};

/*
 * What -h, -v and -T print is the whole point of those flags: a write
 * error (a full disk, a closed pipe) makes the exit status non-zero.
 */
static int
main_flush_stdout(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "%s: stdout: %s\n", TINE_NAME,
		    strerror(errno));
		return 1;
	}
	return 0;
}

static void __attribute__((noreturn))
usage(int status)
{
	FILE	*fp = status == 0 ? stdout : stderr;

	fprintf(fp,
	    "usage: %s [-dhtTv] [-f file] [-s signal]\n"
	    "  -d         stay in the foreground, log to stderr\n"
	    "  -f file    config file (default %s)\n"
	    "  -h         print this help and exit\n"
	    "  -s signal  send reload, reopen, quit or stop to the master\n"
	    "  -t         check the config and exit\n"
	    "  -T         check the config, print it with defaults, exit\n"
	    "  -v         print the version and exit\n",
	    TINE_NAME, TINE_CONF_PATH);
	if (status == 0)
		status = main_flush_stdout();
	exit(status);
}

/*
 * -s: signal the master named by the pid file. The running master holds
 * an exclusive lock on that file, so a file nobody locks is stale and no
 * signal goes to whatever process now has that pid.
 */
static int
main_signal(const struct config *conf, const char *name)
{
	char		 buf[32];
	const char	*errstr;
	ssize_t		 n;
	long long	 pid;
	size_t		 i;
	int		 fd, sig = 0;

	for (i = 0; i < nitems(signal_names); i++)
		if (strcmp(name, signal_names[i].name) == 0)
			sig = signal_names[i].sig;
	if (sig == 0) {
		fprintf(stderr, "%s: unknown signal \"%s\": use reload, "
		    "reopen, quit or stop\n", TINE_NAME, name);
		return 1;
	}
	if (conf->pidfile[0] == '\0') {
		fprintf(stderr, "%s: -s needs a pidfile directive in %s\n",
		    TINE_NAME, conf->path);
		return 1;
	}
	if ((fd = open(conf->pidfile, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "%s: %s: %s (is tine running?)\n", TINE_NAME,
		    conf->pidfile, strerror(errno));
		return 1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0) {
		fprintf(stderr, "%s: %s: empty or unreadable\n", TINE_NAME,
		    conf->pidfile);
		(void)close(fd);
		return 1;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	pid = strtonum(buf, 1, INT_MAX, &errstr);
	if (errstr != NULL) {
		fprintf(stderr, "%s: %s: pid is %s\n", TINE_NAME,
		    conf->pidfile, errstr);
		(void)close(fd);
		return 1;
	}
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		fprintf(stderr, "%s: %s is stale: no tine holds it (pid %lld "
		    "is not running tine)\n", TINE_NAME, conf->pidfile, pid);
		(void)close(fd);
		return 1;
	}
	(void)close(fd);
	if (kill((pid_t)pid, sig) == -1) {
		fprintf(stderr, "%s: kill %lld: %s\n", TINE_NAME, pid,
		    strerror(errno));
		return 1;
	}
	return 0;
}

/* Raise the descriptor limit to its hard limit: one per connection. */
static void
main_raise_nofile(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit RLIMIT_NOFILE");
	}
}

/*
 * Process titles. libbsd's setproctitle() writes a title over the
 * argument strings (and the environment after them), but where a title
 * is shorter than the original argv[0] it leaves a '.' at the place of
 * argv[0]'s NUL; the kernel shows the whole argument area, so ps showed
 * "tine: worker [idle]  ." with a long path in argv[0]. That place is
 * libbsd's idea of argv[0]'s end: here argv[0] is made empty for it, and
 * what followed becomes one string of blanks up to where the arguments
 * ended, so the title space is the same and every title is longer than
 * the argv[0] libbsd saw. getopt() and the rest read copies of the
 * arguments, made first. Without contiguous arguments, or without memory
 * for the copies, libbsd gets them as they are.
 */
static void
main_title_init(int argc, char *argv[])
{
	static char	*fake[3];
	char		*base, *end, **copy = NULL;
	int		 i;

	base = argv[0];
	if (argc < 1 || base == NULL || base[0] == '\0')
		goto plain;
	end = base;
	for (i = 0; i < argc; i++) {
		if (argv[i] != end)
			goto plain;
		end = argv[i] + strlen(argv[i]) + 1;
	}
	if ((copy = reallocarray(NULL, (size_t)argc, sizeof(*copy))) == NULL)
		goto plain;
	for (i = 0; i < argc; i++) {
		if ((copy[i] = strdup(argv[i])) == NULL) {
			while (i-- > 0)
				free(copy[i]);
			goto plain;
		}
	}
	/* The strings live as long as the process; the array does not. */
	for (i = 0; i < argc; i++)
		argv[i] = copy[i];
	free(copy);
	/* Kept before argv[0] changes: libbsd copies it at init. */
	setprogname(argv[0]);
	base[0] = '\0';
	memset(base + 1, ' ', (size_t)(end - base - 2));
	end[-1] = '\0';
	fake[0] = base;
	fake[1] = base + 1;
	fake[2] = NULL;
	setproctitle_init(2, fake, environ);
	return;
plain:
	free(copy);
	setproctitle_init(argc, argv, environ);
}

/*
 * Closes every descriptor the caller left open, in the foreground (-d,
 * systemd's mode) as in a daemon: workers serve the network and must hold
 * nothing they were not given for that, an inherited pipe would keep a
 * caller reading our output waiting for ever, and a file would stay open
 * (and in use) for tine's whole life. Kept: stdio, and the stream sockets
 * the service manager passed (fds 3 up to activate_fd_end()); anything
 * else in that range, which activate_init() ignored, goes too. So does
 * the readiness pipe of an upgrade's old master, placed right after the
 * sockets (upgrade.c). Nothing of ours is open yet.
 */
static void
main_close_inherited(void)
{
	socklen_t	 len;
	int		 fd, type, end = activate_fd_end(), keep = upgrade_fd();

	for (fd = STDERR_FILENO + 1; fd < end; fd++) {
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
		    type != SOCK_STREAM)
			(void)close(fd);	/* EBADF: a gap, fine */
	}
	if (keep >= end) {
		for (fd = end; fd < keep; fd++)
			(void)close(fd);	/* EBADF: a gap, fine */
		end = keep + 1;
	}
	closefrom(end);
}

/*
 * Double fork, new session, chdir /, stdio to /dev/null. Every listener
 * is bound before this, so a start that cannot bind fails in the
 * foreground with a non-zero exit. Returns, in the daemon, the pipe on
 * which it tells the waiting caller that it is up.
 */
static int
main_daemonize(void)
{
	pid_t	 pid;
	int	 fd, ready[2];
	char	 c;
	ssize_t	 n;

	if (pipe2(ready, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0) {
		/*
		 * The caller's tine returns only once the daemon has written
		 * its pid file (one byte on the pipe), so that a script can
		 * use `tine -s` right after starting it; if the daemon dies
		 * first, the pipe closes empty and the start fails.
		 */
		(void)close(ready[1]);
		while ((n = read(ready[0], &c, 1)) == -1 && errno == EINTR)
			;
		_exit(n == 1 ? 0 : 1);
	}
	(void)close(ready[0]);
	if (setsid() == -1)
		fatal("setsid");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		fatal("chdir /");
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		fatal("/dev/null");
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1)
		fatal("dup2");
	if (fd > STDERR_FILENO)
		(void)close(fd);
	return ready[1];
}

int
main(int argc, char *argv[])
{
	struct config	*conf;
	struct pid_file	*pfh = NULL;
	const char	*path = TINE_CONF_PATH, *sig = NULL, *why;
	pid_t		 other;
	int		 ch, status, ready = -1, fd;
	bool		 foreground = false, test = false, dump = false;

	/* Before the title overwrites it: what USR2 executes again. */
	upgrade_save_path(argc > 0 && argv[0] != NULL ? argv[0] : "");
	main_title_init(argc, argv);
	log_init(0);
	while ((ch = getopt(argc, argv, "df:hs:tTv")) != -1) {
		switch (ch) {
		case 'd':
			foreground = true;
			break;
		case 'f':
			path = optarg;
			break;
		case 'h':
			usage(0);
		case 's':
			sig = optarg;
			break;
		case 't':
			test = true;
			break;
		case 'T':
			test = dump = true;
			break;
		case 'v':
			printf("%s %s\n", TINE_NAME, TINE_VERSION);
			return main_flush_stdout();
		default:
			usage(1);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", TINE_NAME,
		    argv[optind]);
		usage(1);
	}
	if (path[0] == '\0') {
		fprintf(stderr, "%s: -f needs a file name\n", TINE_NAME);
		return 1;
	}

	if ((conf = config_load(path)) == NULL)
		return 1;
	if (test) {
		/* Certificates and keys as the master will read them. */
		if (config_check_runtime(conf) + log_check(conf) +
		    pid_check(conf) + (tls_ctx_load(conf) == -1) != 0) {
			fprintf(stderr, "%s: configuration file %s test "
			    "failed\n", TINE_NAME, conf->path);
			config_free(conf);
			return 1;
		}
		/* The same warning the master logs when it starts. */
		if (geteuid() == 0 && conf->user[0] == '\0')
			fprintf(stderr, "%s: warning: %s sets no user: started "
			    "as root, workers would serve the network as "
			    "root\n", TINE_NAME, conf->path);
		if (dump) {
			config_dump(conf, stdout);
			if (main_flush_stdout() != 0) {
				config_free(conf);
				return 1;
			}
		}
		sandbox_describe(conf, stderr);
		fprintf(stderr, "%s: configuration file %s test is "
		    "successful\n", TINE_NAME, conf->path);
		config_free(conf);
		return 0;
	}
	if (sig != NULL) {
		status = main_signal(conf, sig);
		config_free(conf);
		return status;
	}

	/*
	 * Sockets passed by the service manager (LISTEN_FDS) are taken over
	 * before anything else can fail, so that a malformed hand-over is a
	 * start error on stderr (logged inside); master_listen() gives them
	 * to the listeners of the same address.
	 */
	upgrade_init();
	if (activate_init() == -1) {
		config_free(conf);
		return 1;
	}
	main_close_inherited();

	/*
	 * What -t checks at run time (user and group exist, the pid file and
	 * logs can be created) must hold now, while stderr still reaches the
	 * caller: the master resolves the user only after daemonizing, where
	 * an error would leave the start looking successful (exit 0).
	 */
	if (config_check_runtime(conf) + log_check(conf) + pid_check(conf) !=
	    0) {
		config_free(conf);
		return 1;
	}
	/*
	 * Certificates and keys now, as root and before the first fork:
	 * workers inherit the contexts and never open a key file.
	 */
	if (tls_ctx_load(conf) == -1) {
		config_free(conf);
		return 1;
	}
	if (conf->pidfile[0] != '\0') {
		pfh = pid_open(conf->pidfile, &other, &why);
		if (pfh == NULL) {
			if (errno == EEXIST)
				fprintf(stderr, "%s: already running as pid "
				    "%ld (%s)\n", TINE_NAME, (long)other,
				    conf->pidfile);
			else
				fprintf(stderr, "%s: pidfile %s: %s\n",
				    TINE_NAME, conf->pidfile, why);
			config_free(conf);
			return 1;
		}
	}
	main_raise_nofile();
	notify_init();
	if (master_listen(conf, NULL) == -1) {
		if (pfh != NULL)
			(void)pid_remove(pfh);	/* exiting anyway */
		config_free(conf);
		return 1;
	}
	activate_close_unused_own();
	/*
	 * Open the access log once here so that a log that cannot be
	 * written fails the start; master and workers reopen it (the master
	 * hands a file it created to the workers' user). It comes before the
	 * error log so that its error, too, reaches the caller's stderr.
	 * Either open reports its own error.
	 */
	if (log_access_open(conf, (uid_t)-1, (gid_t)-1) == -1)
		goto fail;
	if (log_open(conf, (uid_t)-1, (gid_t)-1) == -1)
		goto fail;
	/*
	 * The new master of an upgrade never daemonizes: it stays the old
	 * master's child, which learns from its exit that the upgrade failed
	 * or was rolled back (nginx does the same). Without -d it logs as a
	 * daemon: its stdio is the old master's, /dev/null.
	 */
	if (!foreground && upgrade_started()) {
		log_set_daemon();
		/*
		 * stderr was the old master's error log, for what the start
		 * said (upgrade.c); from now on it says everything there
		 * itself. A daemon's stderr is /dev/null: kept, the copy
		 * would hold a rotated log open in this master and every
		 * worker for good.
		 */
		if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) != -1) {
			(void)dup2(fd, STDERR_FILENO);	/* else: as it was */
			(void)close(fd);
		}
	} else if (!foreground) {
		ready = main_daemonize();
		log_set_daemon();
		/*
		 * Both logs again, now as the daemon's own descriptors:
		 * log.c treats a descriptor another process opened as one a
		 * worker inherited. Should an open fail now, the one
		 * inherited from before the fork is kept.
		 */
		if (log_open(conf, (uid_t)-1, (gid_t)-1) == -1 ||
		    log_access_open(conf, (uid_t)-1, (gid_t)-1) == -1)
			_exit(1);	/* cannot happen: kept on failure */
	}
	if (pfh != NULL && pid_write(pfh) == -1) {
		log_warn("pidfile %s", conf->pidfile);
		goto fail;
	}
	if (ready != -1) {
		if (write(ready, "", 1) != 1)
			log_warn("start-up pipe");	/* the caller fails */
		(void)close(ready);
	}
	return master_run(conf, pfh, foreground);
fail:
	master_close_listeners(conf);
	if (pfh != NULL)
		(void)pid_remove(pfh);	/* exiting anyway */
	config_free(conf);
	return 1;
}
