/*
 * master.c: owns the listening sockets, the config and the pool table.
 * Signal handlers only set flags; the loop sleeps in ppoll() with the
 * signals unblocked and acts on the flags in one fixed order. Once the
 * pool runs the master never calls fatal(): it logs and keeps serving.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "activate.h"
#include "compress.h"
#include "master.h"
#include "notify.h"
#include "sandbox.h"
#include "scoreboard.h"
#include "status.h"
#include "tls.h"
#include "upgrade.h"
#include "worker.h"

#define RESPAWN_MIN_DELAY_MS	100	/* first respawn after a death */
#define RESPAWN_MAX_DELAY_MS	10000	/* back-off ceiling */
#define RESPAWN_QUIET_MS	60000	/* deaths this far apart reset it */
#define CRASH_LOOP_DEATHS	5	/* deaths in a row that make a loop */
#define RESIGNAL_MS		250	/* repeat a stop to a worker */
#define FAST_STOP_GRACE_MS	1000	/* INT: SIGKILL after this */
#define UPGRADE_READY_MS	60000	/* a new master not ready: SIGKILL */
#define PARENT_POLL_MS		100	/* an old master told TERM: gone? */
#define PARENT_STOP_SLACK_MS	2000	/* waited for past shutdown_timeout */
#define POOL_TICK_MS		100	/* pool sampling, all quiet */
#define POOL_BUSY_TICK_MS	50	/* pool sampling, under load */
#define SPARE_SURPLUS_MS	1000	/* idle this long past max_spare */
#define SHORT_BUSY_MS		20	/* busy this briefly: still free */
#define YIELD_MIN_IDLE_MS	100	/* keep-alive idle before it yields */
#define SLOW_HEAD_GRACE_MS	100	/* a head gets this long, then... */
#define SLOW_HEAD_MIN_RATE	1024	/* ...must arrive at bytes/s */
#define WATCHDOG_SLACK_MS	1000	/* past the worker's own deadline */
#define WATCHDOG_GRACE_MS	5000	/* SIGABRT, then SIGKILL after */
#define STATUS_EVERY_MS		2000	/* STATUS= refresh */
#define FORK_WARN_MS		10000	/* one fork failure line per */
#define COMPRESSOR_STOP_MS	2000	/* SIGTERM, then SIGKILL after */
#define PID_OLDBIN		".oldbin"	/* the old master's pid file */

enum worker_state {
	WORKER_RUNNING,
	WORKER_RETIRING,	/* asked to finish and exit (SIGQUIT) */
	WORKER_KILLED,		/* asked to exit now (SIGTERM/SIGKILL) */
};

struct worker {
	pid_t			 pid;
	int			 generation;
	enum worker_state	 state;
	int64_t			 started_ms;
	int64_t			 signal_ms;	/* last stop signal sent */
	int64_t			 deadline_ms;	/* SIGKILL after this */
	struct sb_slot		*slot;		/* in the shared scoreboard */
};

enum stop_mode {
	STOP_NONE,
	STOP_GRACEFUL,
	STOP_FAST,
};

static void	master_limit_workers(struct config *);
static void	master_rotate_tickets(int64_t);

static volatile sig_atomic_t sig_chld, sig_term, sig_int, sig_hup, sig_usr1;
static volatile sig_atomic_t sig_ttin, sig_ttou, sig_usr2, sig_winch;
static volatile sig_atomic_t sig_quit;

static struct {
	struct config		*conf;
	struct pid_file		*pfh;
	struct worker_ids	 ids;
	struct worker		*pool;
	size_t			 npool;
	size_t			 cap;
	int			 generation;
	int			 target;	/* workers kept ready */
	enum stop_mode		 stop;
	int64_t			 stop_deadline_ms;
	int64_t			 respawn_at_ms;	/* back-off: no fork before */
	int			 respawn_delay_ms;
	int64_t			 last_death_ms;
	int64_t			 last_respawn_ms;
	int			 deaths_in_row;
	bool			 crash_loop;
	bool			 nothing_to_respawn; /* fatal worker exits */
	int64_t			 watchdog_at_ms; /* next WATCHDOG=1 */
	struct scoreboard	*sb;
	int64_t			 tick_at_ms;	/* next pool sample */
	int64_t			 status_at_ms;	/* next STATUS= check */
	int64_t			 fork_warn_ms;	/* last fork failure line */
	int64_t			 ticket_at_ms;	/* next ticket key rotation */
	char			 status_line[160]; /* last STATUS= sent */
	/* The compressor (compress on): one process, not in the pool. */
	pid_t			 cz_pid;	/* 0: none running */
	bool			 cz_stopping;	/* asked to exit */
	int64_t			 cz_kill_ms;	/* SIGKILL if still there */
	int64_t			 cz_respawn_ms;	/* back-off: no fork before */
	int			 cz_delay_ms;
	int64_t			 cz_death_ms;
	bool			 hot;		/* no idle worker at last tick */
	uint64_t		 last_conns;	/* accepted, at last tick */
	sigset_t		 waitmask;	/* mask while sleeping */
	bool			 foreground;	/* -d: passed on by USR2 */
	/*
	 * The binary upgrade, seen from the old master: the new master
	 * (its child) and the pipe on which it says it serves.
	 */
	pid_t			 nb_pid;	/* 0: none */
	int			 nb_fd;		/* -1: closed */
	bool			 nb_ready;	/* it serves */
	bool			 winched;	/* WINCH: workers retired */
	int64_t			 nb_deadline_ms; /* not ready by then: killed */
	bool			 nb_killed;	/* SIGKILLed for that */
	/*
	 * A graceful stop asked for while the new master is not ready
	 * yet: it waits for it (the sockets must never be left to a
	 * master that may fail or hang). QUIT is cancelled if the new
	 * master ends first, TERM is not.
	 */
	enum { PEND_NONE, PEND_QUIT, PEND_TERM } stop_pending;
	pid_t			 stop_parent;	/* old master told TERM */
} master;

static void
master_signal(int sig)
{
	switch (sig) {
	case SIGCHLD:
		sig_chld = 1;
		break;
	case SIGQUIT:
		sig_quit = 1;
		/* FALLTHROUGH */
	case SIGTERM:
		sig_term = 1;
		break;
	case SIGINT:
		sig_int = 1;
		break;
	case SIGHUP:
		sig_hup = 1;
		break;
	case SIGUSR1:
		sig_usr1 = 1;
		break;
	case SIGTTIN:
		sig_ttin++;
		break;
	case SIGTTOU:
		sig_ttou++;
		break;
	case SIGUSR2:
		sig_usr2 = 1;
		break;
	case SIGWINCH:
		sig_winch = 1;
		break;
	}
}

static bool
master_same_addr(const struct listener *a, const struct listener *b)
{
	return a->sslen == b->sslen && memcmp(&a->ss, &b->ss, a->sslen) == 0;
}

static int
master_bind_one(struct listener *l, const struct config *conf)
{
	int	 fd, on = 1, defer;

	fd = socket(l->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("socket %s", l->name);
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	/* [::]:port must be able to sit beside *:port. */
	if (l->ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	if (bind(fd, (struct sockaddr *)&l->ss, l->sslen) == -1) {
		log_warn("bind %s", l->name);
		(void)close(fd);
		return -1;
	}
	if (listen(fd, LISTEN_BACKLOG) == -1)
		goto fail;
	/*
	 * Wake a worker only when the request's first bytes are there: an
	 * idle connection then never occupies a worker before it speaks.
	 */
	defer = conf->header_timeout;
	if (setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer,
	    sizeof(defer)) == -1)
		log_warn("TCP_DEFER_ACCEPT %s", l->name);
	l->fd = fd;
	return 0;
fail:
	log_warn("listen %s", l->name);
	(void)close(fd);
	return -1;
}

/*
 * Sets the options accepted sockets inherit from their listener (Linux
 * copies them at accept): the receive timeout (the head deadline for a
 * new connection) and the send timeout. That saves two system calls per
 * connection. With several listeners each is non-blocking, since workers
 * then wait in poll() and race for a connection.
 * TCP_NODELAY: every response is handed over whole (the head with
 * MSG_MORE, then its body), so Nagle's algorithm has nothing to merge;
 * what it does do is hold a response's last partial segment until the
 * client acknowledges the data before it, and clients delay that ACK
 * (40 ms on Linux, up to 200 ms elsewhere). On any network that stalls
 * every response that is not a whole number of segments.
 */
static int
master_tune_listeners(const struct config *conf)
{
	struct listener	*l;
	struct timeval	 rcv, snd;
	int		 n = 0, one = 1;

	rcv.tv_sec = worker_idle_timeout_ms(conf) / 1000;
	rcv.tv_usec = 0;
	snd.tv_sec = conf->send_timeout;
	snd.tv_usec = 0;
	TAILQ_FOREACH(l, &conf->listeners, entry)
		n++;
	TAILQ_FOREACH(l, &conf->listeners, entry) {
		if (setsockopt(l->fd, SOL_SOCKET, SO_RCVTIMEO, &rcv,
		    sizeof(rcv)) == -1 ||
		    setsockopt(l->fd, SOL_SOCKET, SO_SNDTIMEO, &snd,
		    sizeof(snd)) == -1 ||
		    setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one)) == -1 ||
		    util_set_nonblock(l->fd, n > 1) == -1) {
			log_warn("listener %s", l->name);
			return -1;
		}
	}
	return 0;
}

int
master_listen(struct config *conf, struct config *old)
{
	struct listener	*l, *o;

	/* Sockets passed by the service manager come first. */
	if (activate_apply(conf) == -1) {
		log_warn("socket activation");
		return -1;
	}
	TAILQ_FOREACH(l, &conf->listeners, entry) {
		if (l->fd != -1)
			continue;
		if (old != NULL) {
			TAILQ_FOREACH(o, &old->listeners, entry) {
				if (o->fd != -1 && master_same_addr(l, o)) {
					l->fd = o->fd;
					o->fd = -1;
					break;
				}
			}
			if (l->fd != -1)
				continue;
		}
		if (master_bind_one(l, conf) == -1)
			goto fail;
	}
	if (master_tune_listeners(conf) == -1)
		goto fail;
	return 0;
fail:
	/* Give taken-over sockets back; close the ones bound here. */
	TAILQ_FOREACH(l, &conf->listeners, entry) {
		if (l->fd == -1)
			continue;
		if (old != NULL) {
			TAILQ_FOREACH(o, &old->listeners, entry) {
				if (o->fd == -1 && master_same_addr(l, o)) {
					o->fd = l->fd;
					l->fd = -1;
					break;
				}
			}
		}
		if (l->fd != -1) {
			(void)close(l->fd);	/* never used */
			l->fd = -1;
		}
	}
	if (old != NULL)
		(void)master_tune_listeners(old);	/* logged inside */
	return -1;
}

void
master_close_listeners(struct config *conf)
{
	struct listener	*l;

	TAILQ_FOREACH(l, &conf->listeners, entry) {
		if (l->fd != -1) {
			activate_forget(l->fd);
			(void)close(l->fd);	/* nothing to do on error */
			l->fd = -1;
		}
	}
}

/*
 * Resolves user/group into the ids workers switch to. Only root can
 * switch; anyone else keeps running as itself.
 */
static int
master_resolve_ids(const struct config *conf, struct worker_ids *ids)
{
	struct passwd	*pw;
	struct group	*gr;

	memset(ids, 0, sizeof(*ids));
	/*
	 * Serving as root is allowed (a test box, a container), but never
	 * silently: at start this is the first line the log gets.
	 */
	if (geteuid() == 0 && conf->user[0] == '\0')
		log_warnx("%s sets no user: workers serve the network as root",
		    conf->path);
	if (conf->user[0] == '\0' && conf->group[0] == '\0')
		return 0;
	if (geteuid() != 0) {
		log_info("not started as root: user and group are ignored");
		return 0;
	}
	ids->drop = true;
	ids->uid = geteuid();
	ids->gid = getegid();
	if (conf->user[0] != '\0') {
		if ((pw = getpwnam(conf->user)) == NULL) {
			log_warnx("unknown user \"%s\"", conf->user);
			return -1;
		}
		ids->uid = pw->pw_uid;
		ids->gid = pw->pw_gid;
	}
	if (conf->group[0] != '\0') {
		if ((gr = getgrnam(conf->group)) == NULL) {
			log_warnx("unknown group \"%s\"", conf->group);
			return -1;
		}
		ids->gid = gr->gr_gid;
	}
	return 0;
}

static struct worker *
master_slot(void)
{
	struct worker	*p;
	size_t		 cap;

	if (master.npool == master.cap) {
		cap = master.cap == 0 ? 16 : master.cap * 2;
		p = reallocarray(master.pool, cap, sizeof(*p));
		if (p == NULL) {
			log_warn("pool table");
			return NULL;
		}
		master.pool = p;
		master.cap = cap;
	}
	return &master.pool[master.npool++];
}

/* Fork failures come in bursts: one line per FORK_WARN_MS. */
static void
master_fork_failed(const char *why)
{
	int64_t	 now = util_now_ms();

	if (master.fork_warn_ms != 0 && now - master.fork_warn_ms <
	    FORK_WARN_MS)
		return;
	master.fork_warn_ms = now;
	log_warnx("cannot start a worker: fork: %s", why);
}

static int
master_spawn(void)
{
	struct worker	*w;
	pid_t		 pid;

	struct sb_slot	*slot;
	int64_t		 now;

	if ((slot = scoreboard_claim(master.sb, 0, master.generation)) ==
	    NULL) {
		master_fork_failed("no free scoreboard slot");
		return -1;
	}
	if ((w = master_slot()) == NULL) {
		scoreboard_release(master.sb, slot);
		return -1;
	}
	pid = fork();
	if (pid == -1) {
		master_fork_failed(strerror(errno));
		master.npool--;
		scoreboard_release(master.sb, slot);
		return -1;
	}
	if (pid == 0) {
		/* Signals stay blocked until the worker has its handlers. */
		if (master.pfh != NULL)
			pid_close(master.pfh);	/* fds only */
		notify_close();
		slot->pid = getpid();
		sb_self = slot;
		scoreboard_isolate_worker(master.sb, slot);
		worker_main(master.conf, &master.ids, master.generation);
	}
	slot->pid = pid;
	now = util_now_ms();
	memset(w, 0, sizeof(*w));
	w->slot = slot;
	w->pid = pid;
	w->generation = master.generation;
	w->state = WORKER_RUNNING;
	w->started_ms = now;
	return 0;
}

/*
 * Starts n workers at once; returns how many started. On a CPU that the
 * busy workers saturate, the master gets only its fair share of it, and
 * a burst of 250 forks took nearly two seconds while clients waited in
 * the queue. So a burst runs at the lowest real-time priority, where
 * the master is not preempted; SCHED_RESET_ON_FORK gives every worker
 * the normal policy, and the master returns to it at once. Without the
 * privilege (not root, or a unit with RestrictRealtime=) it forks at
 * normal priority.
 */
static int
master_spawn_many(int n)
{
	struct sched_param	 sp;
	bool			 rt = false;
	int			 started = 0;

	memset(&sp, 0, sizeof(sp));
	if (n > 1) {
		sp.sched_priority = 1;
		rt = sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK,
		    &sp) == 0;
	}
	while (started < n && master_spawn() == 0)
		started++;
	if (rt) {
		sp.sched_priority = 0;
		if (sched_setscheduler(0, SCHED_OTHER, &sp) == -1)
			log_warn("sched_setscheduler");
	}
	return started;
}

static void
master_send(struct worker *w, int sig, enum worker_state state,
    int64_t deadline)
{
	int64_t	 now = util_now_ms();

	if (w->state == WORKER_RUNNING || state == WORKER_KILLED) {
		w->deadline_ms = deadline;
		w->state = state;
	}
	w->signal_ms = now;
	if (kill(w->pid, sig) == -1 && errno != ESRCH)
		log_warn("kill %ld", (long)w->pid);
}

static void
master_retire(struct worker *w)
{
	int64_t	 deadline;

	deadline = util_now_ms() + (int64_t)master.conf->shutdown_timeout *
	    1000;
	master_send(w, SIGQUIT, WORKER_RETIRING, deadline);
}

static size_t
master_running(void)
{
	size_t	 i, n = 0;

	for (i = 0; i < master.npool; i++)
		if (master.pool[i].state == WORKER_RUNNING &&
		    master.pool[i].generation == master.generation)
			n++;
	return n;
}

/*
 * A death that nobody asked for grows the respawn delay: 100 ms doubling
 * to 10 s, back to the start after a quiet minute. The pool can then
 * never turn a crash loop into a fork storm.
 */
static void
master_note_death(int64_t now)
{
	if (master.last_death_ms != 0 &&
	    now - master.last_death_ms < RESPAWN_QUIET_MS) {
		master.deaths_in_row++;
		master.respawn_delay_ms *= 2;
		if (master.respawn_delay_ms > RESPAWN_MAX_DELAY_MS)
			master.respawn_delay_ms = RESPAWN_MAX_DELAY_MS;
	} else {
		master.deaths_in_row = 1;
		master.respawn_delay_ms = RESPAWN_MIN_DELAY_MS;
	}
	master.last_death_ms = now;
	master.respawn_at_ms = now + master.respawn_delay_ms;
	if (master.deaths_in_row >= CRASH_LOOP_DEATHS && !master.crash_loop) {
		master.crash_loop = true;
		log_warnx("workers keep dying: crash loop, respawning at most "
		    "one every %d ms", master.respawn_delay_ms);
	}
}

/*
 * The compressor runs while a config says compress on and its cache
 * could be opened. It has no requests to finish: asked to stop, it
 * exits at its next chunk, and is killed if it has not within
 * COMPRESSOR_STOP_MS. One that dies unasked is replaced under the same
 * back-off as a worker, kept apart so that neither delays the other.
 */
static void
master_compressor_spawn(int64_t now)
{
	pid_t	 pid;

	if (master.cz_pid != 0 || master.stop != STOP_NONE || master.winched ||
	    master.conf->compress_dirfd == -1 || now < master.cz_respawn_ms)
		return;
	master.sb->compressor_sandbox_call = 0;
	pid = fork();
	if (pid == -1) {
		master_fork_failed(strerror(errno));
		return;
	}
	if (pid == 0) {
		if (master.pfh != NULL)
			pid_close(master.pfh);	/* fds only */
		notify_close();
		scoreboard_isolate_compressor(master.sb);
		compressor_main(master.conf, &master.ids);
	}
	master.cz_pid = pid;
	master.cz_stopping = false;
	log_debug("compressor %ld started", (long)pid);
}

static void
master_compressor_stop(void)
{
	if (master.cz_pid == 0 || master.cz_stopping)
		return;
	master.cz_stopping = true;
	master.cz_kill_ms = util_now_ms() + COMPRESSOR_STOP_MS;
	if (kill(master.cz_pid, SIGTERM) == -1 && errno != ESRCH)
		log_warn("kill %ld", (long)master.cz_pid);
}

static void
master_compressor_enforce(int64_t now)
{
	if (master.cz_pid != 0 && master.cz_stopping &&
	    master.cz_kill_ms != 0 && now >= master.cz_kill_ms) {
		if (kill(master.cz_pid, SIGKILL) == -1 && errno != ESRCH)
			log_warn("kill %ld", (long)master.cz_pid);
		master.cz_kill_ms = 0;
	}
}

/*
 * How an unasked exit is logged. A process the seccomp filter stopped
 * dies of SIGSYS with the call's number in the table (what: "worker" or
 * "compressor"); the number is the process's own word, so it only ever
 * picks the name printed, never what the master does.
 */
static void
master_log_exit(const char *what, pid_t pid, int status, int call)
{
	char	 name[SANDBOX_CALL_NAME_BYTES];

	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS && call > 0)
		log_warnx("%s %ld killed by the sandbox: syscall %s", what,
		    (long)pid, sandbox_call_name(call, name, sizeof(name)));
	else if (WIFSIGNALED(status))
		log_warnx("%s %ld exited on signal %d", what, (long)pid,
		    WTERMSIG(status));
	else
		log_warnx("%s %ld exited with status %d", what, (long)pid,
		    WEXITSTATUS(status));
}

static void
master_compressor_exited(pid_t pid, int status, int64_t now)
{
	master.cz_pid = 0;
	if (master.cz_stopping || master.stop != STOP_NONE) {
		log_debug("compressor %ld exited", (long)pid);
		master.cz_stopping = false;
		return;
	}
	master_log_exit("compressor", pid, status,
	    master.sb->compressor_sandbox_call);
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_FATAL) {
		log_warnx("the compressor cannot run; compression is off "
		    "until the next reload");
		master.cz_respawn_ms = INT64_MAX;
		return;
	}
	if (master.cz_death_ms != 0 && now - master.cz_death_ms <
	    RESPAWN_QUIET_MS) {
		master.cz_delay_ms *= 2;
		if (master.cz_delay_ms > RESPAWN_MAX_DELAY_MS)
			master.cz_delay_ms = RESPAWN_MAX_DELAY_MS;
	} else
		master.cz_delay_ms = RESPAWN_MIN_DELAY_MS;
	master.cz_death_ms = now;
	master.cz_respawn_ms = now + master.cz_delay_ms;
}

static void	master_upgrade_exited(int);

static void
master_reap(void)
{
	struct worker	*w;
	pid_t		 pid;
	size_t		 i;
	int		 status;
	int64_t		 now;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		now = util_now_ms();
		if (pid == master.cz_pid) {
			master_compressor_exited(pid, status, now);
			continue;
		}
		if (pid == master.nb_pid) {
			master_upgrade_exited(status);
			continue;
		}
		for (i = 0; i < master.npool; i++)
			if (master.pool[i].pid == pid)
				break;
		if (i == master.npool)
			continue;	/* not ours: a daemonizing leftover */
		w = &master.pool[i];
		/*
		 * The slot's word decides only how the exit is logged and
		 * whether it counts as a death: a worker that lies about it
		 * can at most slip past the respawn back-off once per exit.
		 */
		if (w->state == WORKER_RUNNING && w->slot->state ==
		    SB_EXITING && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0) {
			/* Recycled itself after max_requests. */
			log_debug("worker %ld recycled", (long)pid);
		} else if (w->state == WORKER_RUNNING &&
		    master.stop == STOP_NONE) {
			master_log_exit("worker", pid, status,
			    w->slot->sandbox_call);
			if (WIFEXITED(status) &&
			    WEXITSTATUS(status) == WORKER_EXIT_FATAL) {
				log_warnx("worker %ld cannot run; not "
				    "respawning it", (long)pid);
				if (master.target > 1)
					master.target--;
				else
					master.nothing_to_respawn = true;
			} else
				master_note_death(now);
		} else if (WIFSIGNALED(status) &&
		    WTERMSIG(status) != SIGKILL && WTERMSIG(status) != SIGTERM)
			master_log_exit("worker", pid, status,
			    w->slot->sandbox_call);
		else
			log_debug("worker %ld exited", (long)pid);
		scoreboard_release(master.sb, w->slot);
		master.pool[i] = master.pool[--master.npool];
	}
	if (pid == -1 && errno != ECHILD)
		log_warn("waitpid");
}

/*
 * Graceful stop: the listeners close once the last worker has drained
 * them, and every connection still queued then is reset. Under load
 * each client that reconnects at once has one there, its request sent
 * and lost. So first the kernel stops completing handshakes: a filter
 * on each listener drops a SYN without ACK (the TCP header is where a
 * socket filter starts), while the ACKs and requests of handshakes
 * already under way still reach the queue the workers drain. A refused
 * client retries its SYN and is then refused by the closed socket: it
 * never sent a request. Sockets the service manager keeps (passed by a
 * socket unit, or held in its descriptor store) outlive tine: the next
 * tine answers what waits in them, so they are left alone. The filter
 * belongs to the socket, not to this descriptor: while a binary upgrade
 * has two masters on the same sockets (this one's new master runs, or
 * this one's old master does), it would stop the other one's handshakes
 * too, so then no filter either; the master that takes over a socket
 * detaches any filter left on it (activate.c).
 */
static void
master_refuse_syn(const struct config *conf)
{
	static struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS,
		    offsetof(struct tcphdr, th_flags)),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, TH_SYN | TH_ACK),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TH_SYN, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0),		/* drop */
		BPF_STMT(BPF_RET | BPF_K, UINT32_MAX),	/* pass */
	};
	struct sock_fprog	 prog = { nitems(code), code };
	struct listener		*l;

	if (master.nb_pid != 0 || upgrade_parent() != 0)
		return;
	TAILQ_FOREACH(l, &conf->listeners, entry) {
		if (l->fd == -1 || activate_is_kept(l->fd))
			continue;
		if (setsockopt(l->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
		    sizeof(prog)) == -1)
			log_warn("listener %s: SO_ATTACH_FILTER", l->name);
	}
}

/* Says once, at start, how TLS connections will send files. */
static void
master_log_tls(const struct config *conf)
{
	const char	*why;

	if (!conf->has_tls)
		return;
	if (tls_ktls_available(&why))
		log_info("TLS: files are sent with kernel TLS (SSL_sendfile), "
		    "zero-copy");
	else
		log_info("TLS: files are read into %d KiB records and "
		    "encrypted in the worker (no kernel TLS: %s)",
		    TLS_RECORD_BYTES / 1024, why);
}

static void
master_stop(enum stop_mode mode)
{
	size_t	 i;
	int64_t	 now = util_now_ms();

	(void)notify_send("STOPPING=1");	/* logged inside */
	upgrade_stopping();	/* an old master that runs serves again */
	if (mode == STOP_GRACEFUL) {
		log_info("graceful stop: finishing in-flight requests "
		    "(up to %d s)", master.conf->shutdown_timeout);
		master.stop_deadline_ms = now +
		    (int64_t)master.conf->shutdown_timeout * 1000;
		/* Workers drain what is queued, then close theirs. */
		master_refuse_syn(master.conf);
		master_close_listeners(master.conf);
		for (i = 0; i < master.npool; i++)
			master_retire(&master.pool[i]);
	} else {
		log_info("fast stop");
		/* A new master not ready yet must not keep the sockets. */
		if (master.nb_pid != 0 && !master.nb_ready &&
		    kill(master.nb_pid, SIGKILL) == -1 && errno != ESRCH)
			log_warn("kill %ld", (long)master.nb_pid);
		master.stop_deadline_ms = now + FAST_STOP_GRACE_MS;
		master_close_listeners(master.conf);
		for (i = 0; i < master.npool; i++)
			master_send(&master.pool[i], SIGTERM, WORKER_KILLED,
			    master.stop_deadline_ms);
	}
	for (i = 0; i < master.npool; i++)
		master.pool[i].deadline_ms = master.stop_deadline_ms;
	master.stop = mode;
	master_compressor_stop();
}

/* The one-line summary systemd shows as the service's status. */
static void
master_notify_status(const char *state)
{
	char	 line[sizeof(master.status_line)];

	if (status_summary(line, sizeof(line), master.sb) < 0)
		line[0] = '\0';
	(void)strlcpy(master.status_line, line,
	    sizeof(master.status_line));	/* same size */
	(void)notify_send("%sSTATUS=%s", state, line);	/* logged inside */
}

/*
 * Checks, in a child that takes on the workers' identity, that they will
 * be able to search and read the new root. A worker that cannot exits
 * with WORKER_EXIT_FATAL; were the new generation to do that after the
 * old one was told to retire, a reload would stop the server instead of
 * keeping the old config. The child only makes system calls and exits,
 * so waiting for it here is short. Returns 0 or an errno value.
 */
static int
master_probe_root(const char *root, const struct worker_ids *ids)
{
	pid_t	 pid;
	int	 fd, status;

	if ((pid = fork()) == -1)
		return errno;
	if (pid == 0) {
		if (ids->drop && (setgroups(1, &ids->gid) == -1 ||
		    setresgid(ids->gid, ids->gid, ids->gid) == -1 ||
		    setresuid(ids->uid, ids->uid, ids->uid) == -1))
			_exit(errno & 0xff);
		fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd == -1 ||
		    faccessat(fd, ".", R_OK | X_OK, AT_EACCESS) == -1)
			_exit(errno & 0xff);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return EIO;	/* killed: treat as unreadable */
}

/*
 * Reload, after everything else succeeded: a changed pidfile is created
 * and locked, gets the master's pid, and only then is the old one
 * removed, so that some pid file names the master throughout. If the
 * new one cannot be had, the reason is logged and the old one stays (the
 * new config then records the old path, which is the truth: tine -s
 * with the new config finds the master as soon as a later reload
 * succeeds). This never fails the reload: the pid file serves tine -s
 * and scripts, not the requests.
 */
static void
master_reload_pidfile(struct config *next, const struct config *old)
{
	struct pid_file	*pfh = NULL;
	const char	*why;
	pid_t		 other;

	if (strcmp(next->pidfile, old->pidfile) == 0)
		return;
	if (next->pidfile[0] != '\0') {
		if ((pfh = pid_open(next->pidfile, &other, &why)) == NULL) {
			if (errno == EEXIST)
				log_warnx("pidfile %s is held by pid %ld; "
				    "keeping %s", next->pidfile, (long)other,
				    old->pidfile[0] != '\0' ? old->pidfile :
				    "none");
			else
				log_warnx("pidfile %s: keeping %s: %s",
				    next->pidfile, old->pidfile[0] != '\0' ?
				    old->pidfile : "none", why);
			goto keep;
		}
		if (pid_write(pfh) == -1) {
			log_warn("pidfile %s: keeping %s", next->pidfile,
			    old->pidfile[0] != '\0' ? old->pidfile : "none");
			(void)pid_remove(pfh);	/* ours, half made */
			goto keep;
		}
	}
	if (master.pfh != NULL && pid_remove(master.pfh) == -1)
		log_warn("remove pidfile %s", old->pidfile);
	master.pfh = pfh;
	log_info("pidfile is now %s", next->pidfile[0] != '\0' ?
	    next->pidfile : "none");
	return;
keep:
	/* Same size: both are config pidfile fields. */
	(void)strlcpy(next->pidfile, old->pidfile, sizeof(next->pidfile));
}

/*
 * Under systemd with a descriptor store (FDSTORE=, see notify.c), every
 * listening socket tine bound itself goes into the store, and is kept
 * from then on: `systemctl restart` hands the same sockets to the next
 * tine (LISTEN_FDS), so no connection is refused in between and those
 * that wait in the queue while no tine runs are answered by the next.
 * Sockets the service manager passed are its own already.
 */
static void
master_fdstore(const struct config *conf)
{
	struct listener	*l;

	if (!notify_fdstore_enabled())
		return;
	TAILQ_FOREACH(l, &conf->listeners, entry)
		if (l->fd != -1 && !activate_is_kept(l->fd) &&
		    notify_fdstore(l->fd, l->name) == 0)
			activate_keep(l->fd);
}

/*
 * Reload: build the whole new config beside the old one, bind only the
 * addresses it did not have (kept listeners are never closed), open its
 * logs, and only then swap and start the new generation. Any error
 * leaves the old config serving untouched.
 */
static void
master_reload(void)
{
	struct config		*next, *old = master.conf;
	struct listener		*l;
	struct worker_ids	 ids;
	struct timespec		 ts;
	size_t			 i;
	int			 err, r;

	log_info("reloading %s", old->path);
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
		(void)notify_send("RELOADING=1\nMONOTONIC_USEC=%lld",
		    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	if ((next = config_load(old->path)) == NULL) {
		log_warnx("reload failed: keeping the current configuration");
		master_notify_status("READY=1\n");
		return;
	}
	/* Renewed certificates are read here, still as root. */
	if (tls_ctx_load(next) == -1) {
		log_warnx("reload failed: keeping the current configuration");
		config_free(next);
		master_notify_status("READY=1\n");
		return;
	}
	master_limit_workers(next);
	if (master_resolve_ids(next, &ids) == -1) {
		log_warnx("reload failed: keeping the current configuration");
		config_free(next);
		master_notify_status("READY=1\n");
		return;
	}
	for (r = 0; r < next->nroots; r++) {
		if ((err = master_probe_root(next->roots[r], &ids)) == 0)
			continue;
		log_config_error(next->path, next->root_lines[r],
		    "root %s is not readable by the workers: %s",
		    next->roots[r], strerror(err));
		log_warnx("reload failed: keeping the current configuration");
		config_free(next);
		master_notify_status("READY=1\n");
		return;
	}
	if (master_listen(next, old) == -1) {
		log_warnx("reload failed: keeping the current configuration");
		config_free(next);
		master_notify_status("READY=1\n");
		return;
	}
	if (log_open(next, ids.drop ? ids.uid : (uid_t)-1, ids.gid) == -1 ||
	    log_access_open(next, ids.drop ? ids.uid : (uid_t)-1,
	    ids.gid) == -1) {
		log_warnx("reload failed: cannot open logs; keeping the "
		    "current configuration");	/* why: reported inside */
		(void)master_listen(old, next);	/* hands fds back */
		master_close_listeners(next);
		config_free(next);
		(void)log_open(old, master.ids.drop ? master.ids.uid :
		    (uid_t)-1, master.ids.gid);
		master_notify_status("READY=1\n");
		return;
	}
	master_reload_pidfile(next, old);
	compress_open_cache(next, &ids);
	/* Swap. Listeners left in old are gone from the config. */
	TAILQ_FOREACH(l, &old->listeners, entry)
		if (l->fd != -1)
			notify_fdstore_remove(l->name);
	master_close_listeners(old);
	master_fdstore(next);
	master.conf = next;
	master.ids = ids;
	config_free(old);
	master.generation++;
	master.target = next->workers;
	/*
	 * A new ticket key with each generation: tickets of the old one
	 * still resume (the previous key), and a key never outlives two
	 * reloads, whatever the schedule.
	 */
	master_rotate_tickets(util_now_ms());
	master.sb->generation = master.generation;
	master.sb->target = master.target;
	master.sb->max_workers = next->max_workers;
	setproctitle("master -f %s", next->path);

	/* Start the new generation first, then retire the old one. */
	(void)master_spawn_many(master.target);
	for (i = 0; i < master.npool; i++)
		if (master.pool[i].generation != master.generation &&
		    master.pool[i].state == WORKER_RUNNING)
			master_retire(&master.pool[i]);
	/* The compressor of the new config replaces the old one. */
	master_compressor_stop();
	master.cz_respawn_ms = 0;
	master.cz_death_ms = 0;
	master.sb->compress_off = 0;
	log_info("reloaded: generation %d, %d workers", master.generation,
	    master.target);
	sandbox_report(next);
	master_notify_status("READY=1\n");
}

/*
 * Sandboxed workers and compressor open no path to write to (Landlock
 * grants no write right), so they cannot reopen a rotated log by its
 * name. Decided: the master, which opened the new files, starts as many
 * workers as run now, which inherit them, and retires the running ones,
 * which finish their requests writing to the files they had; a new
 * compressor replaces the old one. Granting write rights on the logs'
 * directories instead would let a worker write any file of its user
 * there; passing descriptors over a socket would give each worker a
 * channel to the master. A rotation is rare; a fork per worker is cheap.
 */
static void
master_replace_all(void)
{
	size_t	 i, n, old = master.npool;

	n = master_running();
	(void)master_spawn_many((int)n);
	for (i = 0; i < old; i++)
		if (master.pool[i].state == WORKER_RUNNING &&
		    master.pool[i].generation == master.generation)
			master_retire(&master.pool[i]);
	master_compressor_stop();
	master.cz_respawn_ms = 0;
}

static void
master_reopen(void)
{
	size_t	 i;
	uid_t	 uid = master.ids.drop ? master.ids.uid : (uid_t)-1;

	/*
	 * The master creates the new files (owned by the workers' user) so
	 * that workers, which no longer run as root, can open them. A log
	 * that cannot be opened (a link, a FIFO without reader) keeps its
	 * old descriptor; the reason is reported inside.
	 */
	if (log_open(master.conf, uid, master.ids.gid) == -1)
		log_warnx("error log not reopened: keeping the open one");
	if (log_access_open(master.conf, uid, master.ids.gid) == -1)
		log_warnx("access log not reopened: keeping the open one");
	log_info("logs reopened");
	if (master.conf->sandbox) {
		master_replace_all();
		return;
	}
	if (master.cz_pid != 0 && kill(master.cz_pid, SIGUSR1) == -1 &&
	    errno != ESRCH)
		log_warn("kill %ld", (long)master.cz_pid);
	for (i = 0; i < master.npool; i++)
		if (master.pool[i].state != WORKER_KILLED &&
		    kill(master.pool[i].pid, SIGUSR1) == -1 && errno != ESRCH)
			log_warn("kill %ld", (long)master.pool[i].pid);
}

static void
master_resize(void)
{
	struct worker	*w;
	size_t		 i;
	int		 pass, shrink = 0;

	while (sig_ttin > 0) {
		sig_ttin--;
		if (master.target < master.conf->max_workers)
			master.target++;
	}
	while (sig_ttou > 0) {
		sig_ttou--;
		if (master.target > 1) {
			master.target--;
			shrink++;
		}
	}
	if (shrink == 0) {
		master.sb->target = master.target;
		return;
	}
	master.sb->target = master.target;
	/*
	 * Retire surplus workers, idle ones first, newest first. Workers
	 * the pool grew beyond the target on its own are left to the pool:
	 * they retire when they have been idle long enough.
	 */
	for (pass = 0; pass < 2; pass++) {
		for (i = master.npool; i > 0 && master_running() >
		    (size_t)master.target; i--) {
			w = &master.pool[i - 1];
			if (w->state != WORKER_RUNNING ||
			    w->generation != master.generation)
				continue;
			if (pass == 0 && w->slot->state != SB_IDLE)
				continue;
			master_retire(w);
			if (--shrink == 0)
				return;
		}
	}
}

static void
master_respawn(int64_t now)
{
	size_t	 running;
	bool	 survived;

	if (master.stop != STOP_NONE || master.nothing_to_respawn ||
	    master.winched)
		return;
	/*
	 * No death since the last respawn, a whole back-off step ago: that
	 * worker lives, the loop is over, and the rest of the pool comes
	 * back at once instead of one per step (with 8 workers and the
	 * 10 s ceiling, that would take 80 s). A worker that dies again
	 * still doubles the delay, so forks stay bounded.
	 */
	survived = master.last_respawn_ms > master.last_death_ms;
	running = master_running();
	while (running < (size_t)master.target) {
		if (master.respawn_at_ms > now)
			return;
		if (master_spawn() == -1)
			return;
		running++;
		master.last_respawn_ms = now;
		/* While deaths repeat, one fork per back-off step. */
		if (!survived && master.deaths_in_row > 1 &&
		    master.last_death_ms != 0 &&
		    now - master.last_death_ms < RESPAWN_QUIET_MS) {
			master.respawn_at_ms = now + master.respawn_delay_ms;
			return;
		}
	}
	if (master.crash_loop && now - master.last_death_ms >=
	    RESPAWN_QUIET_MS) {
		master.crash_loop = false;
		log_info("workers stable again");
	}
}

/* Sent SIGKILL at or after its deadline: nothing more to send it. */
static bool
master_was_killed(const struct worker *w)
{
	return w->state == WORKER_KILLED && w->signal_ms >= w->deadline_ms;
}

/* Repeats stop signals and enforces deadlines with SIGKILL. */
static void
master_enforce(int64_t now)
{
	struct worker	*w;
	size_t		 i;

	for (i = 0; i < master.npool; i++) {
		w = &master.pool[i];
		if (w->state == WORKER_RUNNING)
			continue;
		if (now >= w->deadline_ms) {
			if (!master_was_killed(w)) {
				log_warnx("worker %ld did not finish in time; "
				    "killing it", (long)w->pid);
				w->state = WORKER_KILLED;
				w->signal_ms = now;
				if (kill(w->pid, SIGKILL) == -1 &&
				    errno != ESRCH)
					log_warn("kill %ld", (long)w->pid);
			}
		} else if (now - w->signal_ms >= RESIGNAL_MS) {
			/*
			 * A signal that landed between a worker's flag check
			 * and its blocking call is lost; repeating it closes
			 * that race.
			 */
			w->signal_ms = now;
			if (kill(w->pid, w->state == WORKER_RETIRING ?
			    SIGQUIT : SIGTERM) == -1 && errno != ESRCH)
				log_warn("kill %ld", (long)w->pid);
		}
	}
}

/* Connections waiting in the listeners' accept queues (Linux TCP_INFO). */
static int
master_queue_len(void)
{
	struct listener	*l;
	struct tcp_info	 ti;
	socklen_t	 len;
	int		 n = 0;

	TAILQ_FOREACH(l, &master.conf->listeners, entry) {
		if (l->fd == -1)
			continue;
		len = sizeof(ti);
		/* On a listening socket tcpi_unacked is the queue length. */
		if (getsockopt(l->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
			n += (int)ti.tcpi_unacked;
	}
	return n;
}

/*
 * Asks a worker to give up its connection under pressure: an idle
 * keep-alive one, or a head arriving too slowly. SIGUSR2 interrupts its
 * blocking read; the flag in its slot says what to do. A signal that
 * lands before the read blocks is repeated at the next tick.
 */
static void
master_ask_yield(struct worker *w, int what)
{
	w->slot->yield = what;
	if (kill(w->pid, SIGUSR2) == -1 && errno != ESRCH)
		log_warn("kill %ld", (long)w->pid);
}

/*
 * At the cap with connections waiting and no worker free: keep-alive
 * connections idle for YIELD_MIN_IDLE_MS yield, oldest first, one per
 * waiting connection (a client that sends its next request at once is
 * never idle that long, so it is not closed under a request in flight;
 * it gets Connection: close instead); then heads
 * that arrive slower than SLOW_HEAD_MIN_RATE are cut off with 408.
 */
static void
master_relieve(int64_t now, int waiting)
{
	struct worker	*w, *oldest;
	struct sb_slot	*s;
	size_t		 i;
	int64_t		 age;

	while (waiting > 0) {
		oldest = NULL;
		for (i = 0; i < master.npool; i++) {
			w = &master.pool[i];
			if (w->state == WORKER_KILLED || w->slot->yield != 0 ||
			    w->slot->state != SB_KEEPALIVE ||
			    scoreboard_age_ms(now, w->slot->state_ms) <
			    YIELD_MIN_IDLE_MS)
				continue;
			if (oldest == NULL ||
			    w->slot->state_ms < oldest->slot->state_ms)
				oldest = w;
		}
		if (oldest == NULL)
			break;
		master_ask_yield(oldest, SB_YIELD_IDLE);
		waiting--;
	}
	for (i = 0; i < master.npool && waiting > 0; i++) {
		w = &master.pool[i];
		s = w->slot;
		if (w->state == WORKER_KILLED || s->yield != 0 ||
		    s->state != SB_READING)
			continue;
		age = scoreboard_age_ms(now, s->req_start_ms);
		if (age < SLOW_HEAD_GRACE_MS ||
		    (int64_t)s->head_bytes * 1000 >= SLOW_HEAD_MIN_RATE * age)
			continue;
		master_ask_yield(w, SB_YIELD_SLOW);
		waiting--;
	}
	/* Repeat lost signals to workers still holding on. */
	for (i = 0; i < master.npool; i++) {
		w = &master.pool[i];
		s = w->slot;
		if (w->state != WORKER_KILLED &&
		    ((s->yield == SB_YIELD_IDLE && s->state == SB_KEEPALIVE) ||
		    (s->yield == SB_YIELD_SLOW && s->state == SB_READING)) &&
		    kill(w->pid, SIGUSR2) == -1 && errno != ESRCH)
			log_warn("kill %ld", (long)w->pid);
	}
}

/*
 * The watchdog: a worker whose request made no progress for
 * worker_timeout, and that its own deadline (send_timeout, or
 * header_timeout for a head) should have freed a while ago, is stuck.
 * SIGABRT first, so that it can leave a core; SIGKILL after a grace.
 */
static void
master_watchdog(int64_t now)
{
	struct worker	*w;
	struct sb_slot	*s;
	int64_t		 still, own;
	size_t		 i;
	char		 line[SB_REQLINE_BYTES], client[SB_CLIENT_BYTES];
	char		 eline[4 * sizeof(line) + 1];
	char		 eclient[4 * sizeof(client) + 1];

	if (master.conf->worker_timeout == 0)
		return;
	for (i = 0; i < master.npool; i++) {
		w = &master.pool[i];
		s = w->slot;
		if (w->state == WORKER_KILLED ||
		    (s->state != SB_READING && s->state != SB_SENDING))
			continue;
		still = scoreboard_age_ms(now, s->progress_ms);
		own = (int64_t)(s->state == SB_SENDING ?
		    master.conf->send_timeout : master.conf->header_timeout) *
		    1000 + WATCHDOG_SLACK_MS;
		if (still < (int64_t)master.conf->worker_timeout * 1000 ||
		    still < own)
			continue;
		/*
		 * Torn reads are possible, and the worker may be the one
		 * that went wrong: copy, terminate, and escape what it wrote
		 * as client bytes before it reaches the log.
		 */
		memcpy(line, s->reqline, sizeof(line));
		line[sizeof(line) - 1] = '\0';
		memcpy(client, s->client, sizeof(client));
		client[sizeof(client) - 1] = '\0';
		(void)log_escape(eline, sizeof(eline), line, strlen(line));
		(void)log_escape(eclient, sizeof(eclient), client,
		    strlen(client));	/* both sized never to cut */
		log_warnx("worker %ld stuck for %jd s %s client %s, request "
		    "\"%s\": aborting it", (long)w->pid, (intmax_t)(still /
		    1000), scoreboard_state_name(s->state), eclient, eline);
		master_send(w, SIGABRT, WORKER_KILLED, now + WATCHDOG_GRACE_MS);
	}
}

/*
 * Pool sizing, every tick. Grow: fork enough workers at once to take the
 * connections waiting that no idle worker will take, and to keep
 * min_spare workers idle, up to max_workers. Shrink: a worker beyond
 * `workers' retires once it has waited idle for spare_timeout, or for
 * SPARE_SURPLUS_MS while more than max_spare are idle. Forks obey the
 * crash back-off like respawns do.
 */
static void
master_pool(int64_t now)
{
	struct worker	*w;
	struct sb_slot	*s;
	uint64_t	 requests, conns, accepted;
	size_t		 i;
	int		 running, idle, free, waiting, stuck, grow, surplus;
	int64_t		 idle_for;

	running = idle = free = 0;
	for (i = 0; i < master.npool; i++) {
		w = &master.pool[i];
		s = w->slot;
		if (w->state != WORKER_RUNNING ||
		    w->generation != master.generation)
			continue;
		running++;
		if (s->state == SB_IDLE || s->state == SB_STARTING) {
			idle++;
			free++;
		} else if ((s->state == SB_READING ||
		    s->state == SB_SENDING) &&
		    scoreboard_age_ms(now, s->state_ms) < SHORT_BUSY_MS)
			free++;
	}
	master.hot = idle == 0;
	waiting = master_queue_len();
	master.sb->queue_len = waiting;
	/*
	 * Connections waiting is not yet a reason to grow: under a stream
	 * of short requests the queue is rarely empty, yet drains many
	 * times a tick, and more workers would only add context switches.
	 * What the workers accepted since the last tick says how much of
	 * it drains; the rest has waited a whole tick: that is stuck.
	 */
	scoreboard_totals(master.sb, &requests, &conns, NULL);
	accepted = conns - master.last_conns;
	master.last_conns = conns;
	/*
	 * The counts come from the workers' slots: one that goes backwards
	 * wraps to a huge value. More accepted than waiting means nothing
	 * is stuck either way, and the bound keeps the difference in range.
	 */
	if (accepted > (uint64_t)waiting)
		accepted = (uint64_t)waiting;
	stuck = waiting - idle - (int)accepted;

	/* Spares: workers busy only for a moment count as free. */
	grow = master.conf->min_spare - free;
	if (grow < stuck)
		grow = stuck;
	if (grow > master.conf->max_workers - running)
		grow = master.conf->max_workers - running;
	master.sb->pressure = 0;
	if (grow > 0 && master.respawn_at_ms <= now) {
		(void)master_spawn_many(grow);
		return;
	}
	/*
	 * Under pressure at the cap, workers also end each keep-alive
	 * connection after its current response (Connection: close), the
	 * client's pipelined next request excepted: the client reconnects,
	 * queued behind those already waiting.
	 */
	master.sb->pressure = running >= master.conf->max_workers &&
	    stuck > 0;
	if (master.sb->pressure)
		master_relieve(now, stuck);

	surplus = running - master.target;
	for (i = master.npool; i > 0 && surplus > 0; i--) {
		w = &master.pool[i - 1];
		s = w->slot;
		if (w->state != WORKER_RUNNING ||
		    w->generation != master.generation || s->state != SB_IDLE)
			continue;
		idle_for = scoreboard_age_ms(now, s->state_ms);
		if (idle_for >= (int64_t)master.conf->spare_timeout * 1000 ||
		    (idle > master.conf->max_spare &&
		    idle_for >= SPARE_SURPLUS_MS)) {
			master_retire(w);
			surplus--;
			idle--;
		}
	}
}

/* STATUS= for systemd, sent when the summary changed. */
static void
master_status(int64_t now)
{
	char	 line[sizeof(master.status_line)];

	if (!notify_enabled() || now < master.status_at_ms)
		return;
	master.status_at_ms = now + STATUS_EVERY_MS;
	if (status_summary(line, sizeof(line), master.sb) < 0 ||
	    strcmp(line, master.status_line) == 0)
		return;
	(void)strlcpy(master.status_line, line,
	    sizeof(master.status_line));	/* same size */
	(void)notify_send("STATUS=%s", line);	/* logged inside */
}

/* A new session ticket key now, and the next one in 12 hours. */
static void
master_rotate_tickets(int64_t now)
{
	tls_tickets_rotate();
	master.ticket_at_ms = now + (int64_t)TLS_TICKET_ROTATE_S * 1000;
}

/* One tick of the pool: sizing, pressure, watchdog, STATUS=. */
static void
master_tick(int64_t now)
{
	if (now < master.tick_at_ms)
		return;
	if (master.stop == STOP_NONE && !master.nothing_to_respawn &&
	    !master.winched)
		master_pool(now);
	master_watchdog(now);
	if (master.stop == STOP_NONE)
		master_status(now);
	master.tick_at_ms = now + (master.sb->queue_len > 0 ||
	    master.hot ? POOL_BUSY_TICK_MS : POOL_TICK_MS);
}

/* Milliseconds until the nearest deadline, or -1 for none. */
static int64_t
master_next_wake(int64_t now)
{
	int64_t	 next = -1, t;
	size_t	 i;

#define EARLIER(x)	do { t = (x); if (next == -1 || t < next) next = t; \
			} while (0)
	for (i = 0; i < master.npool; i++) {
		if (master.pool[i].state == WORKER_RUNNING)
			continue;
		/* SIGKILLed: only its SIGCHLD is left to wait for. */
		if (master_was_killed(&master.pool[i]))
			continue;
		EARLIER(master.pool[i].deadline_ms);
		EARLIER(master.pool[i].signal_ms + RESIGNAL_MS);
	}
	if (master.stop == STOP_NONE && !master.nothing_to_respawn &&
	    !master.winched && master_running() < (size_t)master.target)
		EARLIER(master.respawn_at_ms);
	if (master.watchdog_at_ms != 0)
		EARLIER(master.watchdog_at_ms);
	if (master.cz_pid == 0 && master.stop == STOP_NONE &&
	    !master.winched && master.conf->compress_dirfd != -1 &&
	    master.cz_respawn_ms != INT64_MAX)
		EARLIER(master.cz_respawn_ms);
	if (master.cz_pid != 0 && master.cz_stopping &&
	    master.cz_kill_ms != 0)
		EARLIER(master.cz_kill_ms);
	EARLIER(master.ticket_at_ms);
	EARLIER(master.tick_at_ms);
	if (master.nb_pid != 0 && !master.nb_ready && !master.nb_killed)
		EARLIER(master.nb_deadline_ms);
	if (master.stop_parent != 0)	/* it leaves no trace but getppid() */
		EARLIER(now + PARENT_POLL_MS);
#undef EARLIER
	if (next == -1)
		return -1;
	return next > now ? next - now : 0;
}

/*
 * The binary upgrade (USR2), nginx's procedure. This master (the old
 * one) renames its pid file to PIDFILE.oldbin, then executes the binary
 * now at its start path in a child, handing it the listening sockets
 * (upgrade.c). The new master reads the config, writes PIDFILE, starts
 * its workers and only then writes one byte on a pipe: ready. Both pools
 * accept on the same sockets from then on. WINCH here retires this
 * master's workers; QUIT here completes the upgrade (removing only
 * PIDFILE.oldbin); HUP here (workers again) and QUIT to the new master
 * roll it back. Whenever the new master ends, for whatever reason, this
 * master takes PIDFILE back and, if WINCH had retired its workers,
 * starts them again at once: a new master that crashed must not leave
 * the sockets with nobody accepting. One upgrade at a time: USR2 is
 * refused while this master has a new master, and by a new master
 * while its old master still runs, so there are never three.
 */
static void
master_upgrade(void)
{
	const char	*why;
	pid_t		 pid;
	int		 fd;

	if (master.nb_pid != 0) {
		log_warnx("upgrade refused: new master %ld is running; QUIT "
		    "this master to complete that upgrade, or HUP it and "
		    "QUIT the new one to roll back", (long)master.nb_pid);
		return;
	}
	if ((pid = upgrade_parent()) != 0) {
		log_warnx("upgrade refused: the old master %ld still runs; "
		    "QUIT it first", (long)pid);
		return;
	}
	if (upgrade_check(&why) == -1) {
		log_warnx("upgrade refused: %s: %s; nothing changed",
		    upgrade_path()[0] != '\0' ? upgrade_path() : "tine", why);
		return;
	}
	if (master.pfh != NULL && pid_rename(master.pfh, PID_OLDBIN) == -1) {
		log_warn("upgrade refused: pidfile %s to %s" PID_OLDBIN,
		    master.conf->pidfile, master.conf->pidfile);
		return;
	}
	if ((pid = upgrade_exec(master.conf, master.foreground, &fd)) == -1) {
		if (master.pfh != NULL && pid_rename(master.pfh, "") == -1)
			log_warn("pidfile %s" PID_OLDBIN " back to %s",
			    master.conf->pidfile, master.conf->pidfile);
		return;
	}
	master.nb_pid = pid;
	master.nb_fd = fd;
	master.nb_ready = false;
	master.nb_killed = false;
	master.nb_deadline_ms = util_now_ms() + UPGRADE_READY_MS;
	log_info("upgrade: new master %ld started from %s", (long)pid,
	    upgrade_path());
}

/*
 * The new master's pipe: one byte once it serves; EOF if it ends first
 * (its exit, reaped, says why). Read without waiting: the loop polls it.
 */
static void
master_upgrade_poll(void)
{
	ssize_t	 n;
	char	 c;

	if (master.nb_fd == -1)
		return;
	if ((n = read(master.nb_fd, &c, 1)) == -1 &&
	    (errno == EAGAIN || errno == EINTR))
		return;
	if (n == 1 && !master.nb_ready) {
		master.nb_ready = true;
		log_info("upgrade: new master %ld serves; WINCH retires this "
		    "master's workers, QUIT completes the upgrade",
		    (long)master.nb_pid);
		/* It announced MAINPID= with READY=1: the service is its. */
		notify_mute(true);
		return;	/* the pipe stays open: it says when it stops */
	}
	(void)close(master.nb_fd);	/* a pipe: nothing to flush */
	master.nb_fd = -1;
	/*
	 * A second byte (or EOF: it died) once it served: the new master
	 * stops, and its workers drain and close. Workers WINCH retired
	 * start again now, not when it has exited.
	 */
	if (master.nb_ready && master.winched && master.stop == STOP_NONE) {
		master.winched = false;
		master.respawn_at_ms = 0;
		log_info("new master %ld stops: starting workers again",
		    (long)master.nb_pid);
	}
}

static void
master_upgrade_exited(int status)
{
	char	 how[32];
	pid_t	 pid = master.nb_pid;

	master_upgrade_poll();	/* a byte sent just before it exited */
	if (master.nb_fd != -1)
		(void)close(master.nb_fd);	/* a pipe: nothing to flush */
	master.nb_fd = -1;
	master.nb_pid = 0;
	if (WIFSIGNALED(status))
		(void)snprintf(how, sizeof(how), "on signal %d",
		    WTERMSIG(status));	/* fits */
	else
		(void)snprintf(how, sizeof(how), "with status %d",
		    WEXITSTATUS(status));	/* fits */
	if (!master.nb_ready)
		log_warnx("upgrade failed: new master %ld exited %s before it "
		    "was ready; this master keeps serving", (long)pid, how);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_info("new master %ld exited; this master serves",
		    (long)pid);
	else
		log_warnx("new master %ld exited %s; this master serves",
		    (long)pid, how);
	master.nb_ready = false;
	/* Stopping, it keeps PIDFILE.oldbin: removed as it exits. */
	if (master.pfh != NULL && master.stop == STOP_NONE &&
	    pid_rename(master.pfh, "") == -1)
		log_warn("pidfile %s" PID_OLDBIN " back to %s",
		    master.conf->pidfile, master.conf->pidfile);
	notify_mute(false);
	(void)notify_send("MAINPID=%ld\nREADY=1", (long)getpid());
	if (master.winched) {
		master.winched = false;
		master.respawn_at_ms = 0;
		log_info("starting workers again");
	}
}

/*
 * WINCH: this master's workers retire gracefully, and none is started
 * until HUP (or until the new master ends). Only while a new master
 * serves the same sockets: otherwise nobody would accept, and a terminal
 * sends WINCH to a foreground tine whenever its window changes size.
 */
/*
 * Whether the new master holds the listening socket fd too (its
 * /proc/PID/fd names the same socket inode). It closed those its config
 * does not use; 1 when that cannot be read (no /proc): as before.
 */
static int
master_nb_holds(int fd)
{
	char		 dir[64], path[PATH_MAX], link[64], want[64];
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	ssize_t		 n;
	int		 held = 0;

	if (fstat(fd, &st) == -1 || xsnprintf(dir, sizeof(dir),
	    "/proc/%ld/fd", (long)master.nb_pid) == -1 ||
	    xsnprintf(want, sizeof(want), "socket:[%ju]",
	    (uintmax_t)st.st_ino) == -1 || (d = opendir(dir)) == NULL)
		return 1;
	while (!held && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || xsnprintf(path, sizeof(path),
		    "%s/%s", dir, de->d_name) == -1 ||
		    (n = readlink(path, link, sizeof(link) - 1)) == -1)
			continue;
		link[n] = '\0';
		held = strcmp(link, want) == 0;
	}
	(void)closedir(d);
	return held;
}

/*
 * A new master whose old master still runs, told TERM (the service
 * manager's stop: it knows only the new master): the old one stops too,
 * gracefully, and this one exits only once it is gone (or its own
 * deadline passed), so that whoever waits for this master waits for
 * both. QUIT stops this master alone: the rollback.
 */
static void
master_stop_parent(bool quit)
{
	pid_t	 pp;

	if (quit || (pp = upgrade_parent()) == 0)
		return;
	if (kill(pp, SIGTERM) == -1) {
		if (errno != ESRCH)
			log_warn("kill %ld", (long)pp);
		return;
	}
	log_info("TERM: old master %ld stops too", (long)pp);
	master.stop_parent = pp;
}

/* Whether this master still waits for its old master to exit. */
static bool
master_parent_stopping(int64_t now)
{
	if (master.stop_parent == 0)
		return false;
	if (getppid() != master.stop_parent ||
	    now >= master.stop_deadline_ms + PARENT_STOP_SLACK_MS)
		master.stop_parent = 0;
	return master.stop_parent != 0;
}

static void
master_winch(void)
{
	struct listener	*l;
	size_t		 i;

	if (!master.nb_ready) {
		log_warnx("WINCH ignored: no new master serves these "
		    "sockets");
		return;
	}
	if (master.winched)
		return;
	/*
	 * An address the new config dropped would be left with nobody
	 * accepting: connections would queue unanswered until QUIT.
	 */
	TAILQ_FOREACH(l, &master.conf->listeners, entry) {
		if (l->fd != -1 && !master_nb_holds(l->fd)) {
			log_warnx("WINCH refused: new master %ld does not "
			    "serve %s (not in its configuration); QUIT this "
			    "master to complete the upgrade, which closes it",
			    (long)master.nb_pid, l->name);
			return;
		}
	}
	master.winched = true;
	for (i = 0; i < master.npool; i++)
		if (master.pool[i].state == WORKER_RUNNING)
			master_retire(&master.pool[i]);
	master_compressor_stop();
	log_info("WINCH: workers retiring; new master %ld serves",
	    (long)master.nb_pid);
}

/*
 * One pass over the flags, in this order, written once: the new
 * master's pipe, reap (so every later decision sees true counts), fast
 * stop, graceful stop, reload, upgrade, WINCH, reopen, TTIN/TTOU, then
 * deadlines and due respawns.
 */
static void
master_handle(void)
{
	int64_t	 now;

	/* The pipe before the reap: a ready new master may exit at once. */
	master_upgrade_poll();
	if (sig_chld) {
		sig_chld = 0;
		master_reap();
	}
	if (sig_int) {
		sig_int = 0;
		if (master.stop != STOP_FAST)
			master_stop(STOP_FAST);
	}
	if (sig_term) {
		sig_term = 0;
		if (master.stop == STOP_NONE && master.nb_pid != 0 &&
		    !master.nb_ready) {
			if (master.stop_pending != PEND_TERM)
				master.stop_pending = sig_quit ? PEND_QUIT :
				    PEND_TERM;
			log_info("graceful stop once new master %ld serves or "
			    "ends", (long)master.nb_pid);
		} else if (master.stop == STOP_NONE) {
			master_stop_parent(sig_quit);
			master_stop(STOP_GRACEFUL);
		}
		sig_quit = 0;
	}
	if (master.stop_pending != PEND_NONE && master.stop == STOP_NONE) {
		if (master.nb_ready) {
			master.stop_pending = PEND_NONE;
			master_stop(STOP_GRACEFUL);
		} else if (master.nb_pid == 0) {
			/* It ended before it served (reaped above). */
			if (master.stop_pending == PEND_TERM)
				master_stop(STOP_GRACEFUL);
			else
				log_warnx("QUIT cancelled: the new master "
				    "ended before it served");
			master.stop_pending = PEND_NONE;
		}
	} else
		master.stop_pending = PEND_NONE;
	if (sig_hup) {
		sig_hup = 0;
		if (master.stop == STOP_NONE && master.winched) {
			/* The rollback: workers again, config unchanged. */
			master.winched = false;
			master.respawn_at_ms = 0;
			log_info("HUP: starting workers again (configuration "
			    "unchanged)");
		} else if (master.stop == STOP_NONE)
			master_reload();
	}
	if (sig_usr2) {
		sig_usr2 = 0;
		if (master.stop == STOP_NONE)
			master_upgrade();
	}
	if (sig_winch) {
		sig_winch = 0;
		if (master.stop == STOP_NONE)
			master_winch();
	}
	if (sig_usr1) {
		sig_usr1 = 0;
		master_reopen();
	}
	if (sig_ttin || sig_ttou) {
		if (master.stop == STOP_NONE)
			master_resize();
		sig_ttin = sig_ttou = 0;
	}
	now = util_now_ms();
	if (master.nb_pid != 0 && !master.nb_ready && !master.nb_killed &&
	    now >= master.nb_deadline_ms) {
		log_warnx("upgrade failed: new master %ld not ready after %d s; "
		    "killing it", (long)master.nb_pid, UPGRADE_READY_MS / 1000);
		if (kill(master.nb_pid, SIGKILL) == -1 && errno != ESRCH)
			log_warn("kill %ld", (long)master.nb_pid);
		master.nb_killed = true;
	}
	master_enforce(now);
	master_respawn(now);
	master_compressor_enforce(now);
	master_compressor_spawn(now);
	master_tick(now);
	if (now >= master.ticket_at_ms)
		master_rotate_tickets(now);
	if (master.watchdog_at_ms != 0 && now >= master.watchdog_at_ms) {
		(void)notify_send("WATCHDOG=1");	/* logged inside */
		master.watchdog_at_ms = now + notify_watchdog_ms() / 2;
	}
}

/*
 * max_workers is bounded by RLIMIT_NPROC for a master that is not root
 * (root's forks are not counted against it): the master and its
 * workers must fit, with room for the children of a reload probe.
 */
static void
master_limit_workers(struct config *conf)
{
	struct rlimit	 rl;
	rlim_t		 room;

	if (geteuid() == 0 || getrlimit(RLIMIT_NPROC, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY)
		return;
	room = rl.rlim_cur > 2 ? rl.rlim_cur - 2 : 1;
	if ((rlim_t)conf->max_workers <= room)
		return;
	log_warnx("max_workers %d exceeds RLIMIT_NPROC %ju; using %ju",
	    conf->max_workers, (uintmax_t)rl.rlim_cur, (uintmax_t)room);
	conf->max_workers = (int)room;
	if (conf->workers > conf->max_workers)
		conf->workers = conf->max_workers;
}

int
master_run(struct config *conf, struct pid_file *pfh, bool foreground)
{
	static const int	 sigs[] = { SIGCHLD, SIGTERM, SIGQUIT, SIGINT,
	    SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH, SIGTTIN, SIGTTOU };
	struct sigaction	 sa;
	struct pollfd		 pfd;
	struct timespec		 ts;
	sigset_t		 block;
	int64_t			 wait_ms;
	size_t			 i;
	int			 status = 0;
	char			 ready[64];

	master.foreground = foreground;
	master.nb_fd = -1;
	master.conf = conf;
	master.pfh = pfh;
	master.target = conf->workers;
	master.respawn_delay_ms = RESPAWN_MIN_DELAY_MS;
	if (master_resolve_ids(conf, &master.ids) == -1)
		return 1;
	master_limit_workers(conf);
	master.target = conf->workers;
	/* The compressor's queue lives as long as the master. */
	if (compress_queue_init() == -1)
		log_warn("compressor queue; compression is off");
	else
		compress_open_cache(conf, &master.ids);
	/* Mapped before the first fork: every worker inherits it. */
	if ((master.sb = scoreboard_map()) == NULL) {
		log_warn("scoreboard");
		return 1;
	}
	sb_table = master.sb;
	/* The ticket keys too: every generation of workers shares them. */
	if (tls_tickets_init() == -1) {
		log_warn("session ticket keys");
		return 1;
	}
	master.ticket_at_ms = util_now_ms() + (int64_t)TLS_TICKET_ROTATE_S *
	    1000;
	master.sb->master_pid = getpid();
	master.sb->target = master.target;
	master.sb->max_workers = conf->max_workers;
	/* Hand the log files to the workers' user so they can reopen. */
	if (master.ids.drop &&
	    (log_open(conf, master.ids.uid, master.ids.gid) == -1 ||
	    log_access_open(conf, master.ids.uid, master.ids.gid) == -1)) {
		log_warnx("cannot open logs; exiting");	/* why: inside */
		return 1;
	}

	/* Block what we manage before the first fork; handlers set flags. */
	sigemptyset(&block);
	for (i = 0; i < nitems(sigs); i++)
		sigaddset(&block, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &block, &master.waitmask) == -1)
		fatal("sigprocmask");
	for (i = 0; i < nitems(sigs); i++)
		sigdelset(&master.waitmask, sigs[i]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = master_signal;
	sigfillset(&sa.sa_mask);
	for (i = 0; i < nitems(sigs); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1)
			fatal("sigaction");
	/* sendfile() has no MSG_NOSIGNAL: a gone client must not kill. */
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("sigaction");

	setproctitle("master -f %s", conf->path);
	log_info("%s %s started: %d workers, generation 0", TINE_NAME,
	    TINE_VERSION, master.target);
	master_log_tls(conf);
	sandbox_report(conf);

	(void)master_spawn_many(master.target);
	if (master.npool == 0) {
		log_warnx("no worker could be started");
		status = 1;
		goto done;
	}
	master_fdstore(conf);
	(void)snprintf(ready, sizeof(ready), "READY=1\nMAINPID=%ld\n",
	    (long)getpid());	/* fits: a pid has at most 20 digits */
	master_notify_status(ready);
	/* Started by an upgrade: the old master learns that we serve. */
	upgrade_ready();
	if (notify_watchdog_ms() > 0)
		master.watchdog_at_ms = util_now_ms() +
		    notify_watchdog_ms() / 2;

	for (;;) {
		master_handle();
		if (master.stop != STOP_NONE && master.npool == 0 &&
		    master.cz_pid == 0 &&
		    !master_parent_stopping(util_now_ms()))
			break;
		/*
		 * Once: master_stop() leaves nothing_to_respawn set, and
		 * repeating it here without sleeping would spin with the
		 * signals blocked, so the last workers were never reaped.
		 * Graceful, so old-generation workers finish their requests.
		 */
		if (master.nothing_to_respawn && master_running() == 0 &&
		    master.stop == STOP_NONE) {
			log_warnx("no worker can run; exiting");
			master_stop(STOP_GRACEFUL);
			status = 1;
			continue;
		}
		wait_ms = master_next_wake(util_now_ms());
		if (wait_ms >= 0) {
			ts.tv_sec = wait_ms / 1000;
			ts.tv_nsec = (wait_ms % 1000) * 1000000;
		}
		/*
		 * The only place the managed signals are unblocked. The new
		 * master's pipe, while an upgrade waits for it to be ready.
		 */
		pfd.fd = master.nb_fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (ppoll(&pfd, master.nb_fd != -1 ? 1 : 0,
		    wait_ms >= 0 ? &ts : NULL, &master.waitmask) == -1 &&
		    errno != EINTR)
			log_warn("ppoll");
	}
	log_info("stopped");
done:
	master_close_listeners(master.conf);
	/* A reload may have moved it: the master's own, not the start's. */
	if (master.pfh != NULL)
		(void)pid_remove(master.pfh);	/* best effort at exit */
	free(master.pool);
	config_free(master.conf);
	return status;
}
