/*
 * test_master.c: the master's reading of the shared scoreboard, which
 * any worker can write. A pool of real child processes, every slot then
 * scribbled over (scan bound huge and negative, the pid of a process the
 * master did not fork, states outside the enum, text without NUL and
 * with control bytes, timestamps at the ends of their range): the
 * master's pool, pressure, watchdog and reap passes and the status
 * renderer must not crash, must signal only their own children, and
 * must log and render no raw byte.
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "../../src/master.c"

#define NWORKERS	4

struct child {
	pid_t	 pid;
	int	 cmd;		/* write a byte: report and exit */
	int	 report;	/* its pending signals, as a mask */
};

/*
 * A child that blocks every signal (inherited from the caller, so none
 * can land before it is blocked), waits for a byte, then writes the
 * mask of signals that were sent to it and exits 0.
 */
static int
child_start(struct child *c)
{
	sigset_t	 all, old, pending;
	uint64_t	 mask = 0;
	int		 in[2], out[2], sig;
	char		 b;

	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1)
		return -1;
	sigfillset(&all);
	(void)sigprocmask(SIG_BLOCK, &all, &old);
	if ((c->pid = fork()) == -1)
		return -1;
	if (c->pid == 0) {
		if (read(in[0], &b, 1) != 1)
			_exit(3);
		(void)sigpending(&pending);
		for (sig = 1; sig < 64; sig++)
			if (sigismember(&pending, sig) == 1)
				mask |= (uint64_t)1 << sig;
		_exit(write(out[1], &mask, sizeof(mask)) == sizeof(mask) ?
		    0 : 4);
	}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	(void)close(in[0]);
	(void)close(out[1]);
	c->cmd = in[1];
	c->report = out[0];
	return 0;
}

/* The mask of signals c received; the child then exits. */
static uint64_t
child_report(struct child *c)
{
	uint64_t	 mask = UINT64_MAX;

	if (write(c->cmd, "", 1) != 1 ||
	    read(c->report, &mask, sizeof(mask)) != sizeof(mask))
		return UINT64_MAX;
	(void)close(c->cmd);
	(void)close(c->report);
	return mask;
}

/* Every byte printable ASCII, or a newline. */
static bool
clean(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (s[i] != '\n' && (s[i] < 0x20 || s[i] >= 0x7f))
			return false;
	return true;
}

static void
scribble(struct scoreboard *sb, pid_t foreign, int nslots)
{
	static const int	 states[] = { 1000, -7, SB_NSTATES, INT_MIN,
	    INT_MAX, SB_EMPTY };
	static const int64_t	 stamps[] = { INT64_MIN, INT64_MAX, -1,
	    INT64_MAX - 1 };
	struct sb_slot		*s;
	size_t			 i;

	sb->nslots = nslots;
	sb->start_ms = INT64_MIN;
	sb->master_pid = foreign;
	for (i = 0; i < nitems(sb->slots); i++) {
		s = &sb->slots[i];
		s->pid = foreign;
		s->state = states[i % nitems(states)];
		s->generation = INT_MIN;
		s->conns = 0;
		s->requests = UINT64_MAX / 2;
		s->head_bytes = UINT32_MAX;
		s->started_ms = stamps[i % nitems(stamps)];
		s->req_start_ms = stamps[(i + 1) % nitems(stamps)];
		s->progress_ms = stamps[(i + 2) % nitems(stamps)];
		s->state_ms = stamps[(i + 3) % nitems(stamps)];
		memset(s->reqline, '\n', sizeof(s->reqline));
		memset(s->client, '"', sizeof(s->client));
		s->reqline[1] = '\x01';
		s->reqline[2] = '\xff';
		s->client[3] = '\x1b';
	}
}

int
main(void)
{
	static char	 buf[STATUS_HEAD_BYTES + SB_SLOTS * STATUS_ROW_BYTES];
	struct child	 kids[NWORKERS], foreign;
	struct config	*conf;
	struct worker	*w;
	struct sb_slot	*s;
	FILE		*fp;
	char		 dir[] = "/tmp/tine-master-XXXXXX", path[300];
	char		 logpath[300], *log = NULL;
	uint64_t	 mask, want;
	int64_t		 now;
	size_t		 len = 0, i;
	siginfo_t	 si;
	int		 errfd, savefd, n, st;

	if (mkdtemp(dir) == NULL)
		return 1;
	(void)snprintf(path, sizeof(path), "%s/t.conf", dir);
	(void)snprintf(logpath, sizeof(logpath), "%s/err.log", dir);
	if ((fp = fopen(path, "w")) == NULL)
		return 1;
	fprintf(fp, "root %s\nworker_timeout 1\n", dir);
	fclose(fp);
	conf = config_load(path);
	unit_check(conf != NULL, "config loads");
	if (conf == NULL)
		return unit_done();
	/* Nothing may fork real workers here: no spares, a full pool. */
	conf->min_spare = 0;
	conf->max_workers = NWORKERS;
	master.conf = conf;
	master.target = NWORKERS;
	master.sb = scoreboard_map();
	sb_table = master.sb;
	unit_check(master.sb != NULL, "scoreboard maps");
	if (master.sb == NULL)
		return unit_done();

	/* Messages go to stderr before log_open(): catch them in a file. */
	errfd = open(logpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	savefd = dup(STDERR_FILENO);
	if (errfd == -1 || savefd == -1 || dup2(errfd, STDERR_FILENO) == -1)
		return 1;

	for (i = 0; i < NWORKERS; i++) {
		if (child_start(&kids[i]) == -1)
			return 1;
		s = scoreboard_claim(master.sb, 0, 0);
		w = master_slot();
		if (s == NULL || w == NULL)
			return 1;
		s->pid = kids[i].pid;
		memset(w, 0, sizeof(*w));
		w->pid = kids[i].pid;
		w->slot = s;
		w->state = WORKER_RUNNING;
		s->state = SB_IDLE;
		s->state_ms = util_now_ms();
		s->conns = 100;
	}
	if (child_start(&foreign) == -1)
		return 1;

	/* A sane pass first, so that the connection count can go back. */
	master_pool(util_now_ms());

	scribble(master.sb, foreign.pid, INT_MAX);
	/* The pool's own slots: two idle, one stale keep-alive, one stuck. */
	now = util_now_ms();
	master.pool[0].slot->state = SB_IDLE;
	master.pool[1].slot->state = SB_IDLE;
	master.pool[2].slot->state = SB_KEEPALIVE;
	master.pool[2].slot->state_ms = 1;
	master.pool[3].slot->state = SB_SENDING;
	master.pool[3].slot->progress_ms = 1;
	master_pool(now);
	master_relieve(now, NWORKERS);
	master_watchdog(now);
	n = status_summary(buf, sizeof(buf), master.sb);
	unit_check(n > 0 && clean(buf, (size_t)n), "summary: %s", buf);
	n = status_render(buf, sizeof(buf), master.sb, STATUS_JSON);
	unit_check(n > 0 && clean(buf, (size_t)n),
	    "JSON over a scribbled table: printable only");
	n = status_render(buf, sizeof(buf), master.sb, STATUS_PROMETHEUS);
	unit_check(n > 0 && clean(buf, (size_t)n),
	    "Prometheus over a scribbled table: printable only");
	unit_check(strstr(buf, "tine_uptime_seconds 0\n") != NULL,
	    "an impossible start time reads as uptime 0");

	/* As a worker renders it, from the shared bound. */
	sb_self = master.pool[0].slot;
	unit_check(status_size(master.sb) == sizeof(buf),
	    "status size from nslots INT_MAX is the whole table");
	n = status_render(buf, sizeof(buf), master.sb, STATUS_JSON);
	unit_check(n > 0 && clean(buf, (size_t)n),
	    "worker's JSON over nslots INT_MAX: printable only");
	master.sb->nslots = -1;
	unit_check(status_size(master.sb) == STATUS_HEAD_BYTES,
	    "status size from nslots -1 is the head alone");
	n = status_render(buf, sizeof(buf), master.sb, STATUS_JSON);
	unit_check(n > 0 && strstr(buf, "\"slots\":[]") != NULL,
	    "worker's JSON over nslots -1: no rows");
	sb_self = NULL;

	mask = child_report(&foreign);
	unit_check(mask == 0, "the foreign pid got no signal (mask %#jx)",
	    (uintmax_t)mask);
	unit_check(waitpid(foreign.pid, &st, 0) == foreign.pid &&
	    WIFEXITED(st) && WEXITSTATUS(st) == 0, "the foreign process "
	    "exited on its own");
	/* The signals did go somewhere: to the master's own children. */
	want = (uint64_t)1 << SIGUSR2;
	mask = child_report(&kids[2]);
	unit_check((mask & want) != 0, "the stale keep-alive worker was "
	    "asked to yield (mask %#jx)", (uintmax_t)mask);
	want = (uint64_t)1 << SIGABRT;
	mask = child_report(&kids[3]);
	unit_check((mask & want) != 0, "the stuck worker was aborted "
	    "(mask %#jx)", (uintmax_t)mask);
	(void)child_report(&kids[0]);
	(void)child_report(&kids[1]);

	/* Reap with nslots huge, then negative: every worker released. */
	master.sb->nslots = INT_MAX;
	/* Exited, not yet reaped: master_reap() does not wait. */
	for (i = 0; i < NWORKERS; i++)
		while (waitid(P_PID, (id_t)kids[i].pid, &si, WEXITED |
		    WNOWAIT) == -1 && errno == EINTR)
			;
	master_reap();
	unit_check(master.npool == 0, "every worker reaped (%zu left)",
	    master.npool);
	s = scoreboard_claim(master.sb, 0, 0);
	unit_check(s == &master.sb->slots[0],
	    "their slots are free again in the master's own record");

	(void)dup2(savefd, STDERR_FILENO);
	(void)close(savefd);
	if ((fp = fdopen(errfd, "r")) != NULL) {
		rewind(fp);
		(void)getdelim(&log, &len, '\0', fp);
		fclose(fp);
	}
	len = log != NULL ? strlen(log) : 0;
	unit_check(log != NULL && strstr(log, "worker ") != NULL &&
	    strstr(log, " stuck for ") != NULL,
	    "the watchdog logged the stuck worker");
	unit_check(log != NULL && clean(log, len),
	    "the log holds no raw byte from the table");
	unit_check(log != NULL && strstr(log, "request \"\\n\\001\\377\\n") !=
	    NULL && strstr(log, "client \\\"\\\"\\\"\\033") != NULL,
	    "the slot's text is escaped in the log");
	n = 0;
	for (i = 0; i < len; i++)
		if (log[i] == '\n')
			n++;
	unit_check(n >= 1 && n <= 4, "one line per message (%d lines)", n);
	if (unit_failed && log != NULL)
		printf("# log:\n%s", log);
	free(log);
	(void)unlink(logpath);
	(void)unlink(path);
	(void)rmdir(dir);
	config_free(conf);
	return unit_done();
}
