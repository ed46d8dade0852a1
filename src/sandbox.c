/*
 * sandbox.c: confines a worker, and the compressor, once it holds every
 * descriptor it will use (sandbox on). Landlock limits the file system
 * to reading beneath the roots; a seccomp filter limits the system calls
 * to the lists below. Owns those lists and the Landlock rules; it never
 * opens a path, and only the master (start, reload) logs about it.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/landlock.h>
#include <linux/sockios.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress.h"
#include "master.h"
#include "sandbox.h"

/* Rights of Landlock ABIs newer than Debian 12's kernel headers know. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER		(1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE		(1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV		(1ULL << 15)
#endif
#define SANDBOX_NET_BIND_TCP			(1ULL << 0)
#define SANDBOX_NET_CONNECT_TCP			(1ULL << 1)
#define SANDBOX_SCOPE_ABSTRACT_UNIX		(1ULL << 0)
#define SANDBOX_SCOPE_SIGNAL			(1ULL << 1)
#define SANDBOX_SOL_TLS				282	/* linux/tls.h */
/* The longest program the kernel loads: BPF_MAXINSNS instructions. */
#define SANDBOX_BPF_MAX_BYTES	(BPF_MAXINSNS * sizeof(struct sock_filter))
/*
 * A descriptor argument: the kernel reads only its low 32 bits (an
 * int), the filter compares all 64. So a rule about one descriptor
 * looks at the low half, and a call is allowed only with the high half
 * zero (or all ones: a negative int, sign-extended), after the
 * refusals: fd | 1 << 32 can be neither let through as another number
 * nor mistaken for it.
 */
#define SANDBOX_FD_ANY		SCMP_A0(SCMP_CMP_MASKED_EQ, \
				    0xffffffff00000000ULL, 0)
/* A negative int (close(-1)), sign-extended: the kernel sees EBADF. */
#define SANDBOX_FD_NEG		SCMP_A0(SCMP_CMP_MASKED_EQ, \
				    0xffffffff00000000ULL, \
				    0xffffffff00000000ULL)
#define SANDBOX_FD_IS(fd)	SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffULL, \
				    (scmp_datum_t)(fd))
/*
 * A rule that refuses one descriptor overlaps the rule that allows any:
 * libseccomp (2.5) takes the rule added first, so the refusal comes
 * first, and the tests of each refusal would see the order change.
 */
/* Allowed with their arguments checked: tgkill, shutdown, fcntl, mmap,
   mprotect, sendto, close; for workers also ioctl, setsockopt and
   sendmsg. */
#define SANDBOX_ARG_CALLS			7
#define SANDBOX_WORKER_ARG_CALLS		3

/*
 * struct landlock_ruleset_attr as of ABI 6; the kernel is told the size
 * of the part its ABI knows.
 */
struct sandbox_ruleset {
	uint64_t	 fs;
	uint64_t	 net;
	uint64_t	 scoped;
};

#define SANDBOX_FS_ABI1	((LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1)
#define SANDBOX_READ	(LANDLOCK_ACCESS_FS_READ_FILE | \
			    LANDLOCK_ACCESS_FS_READ_DIR)
/*
 * The compressor's cache: variants made, renamed into place, evicted.
 * REMOVE_DIR so that a rename onto a directory planted under a
 * variant's name fails as the file system says (EISDIR, that variant
 * only), not with Landlock's EACCES, which would turn compression off.
 */
#define SANDBOX_CACHE	(SANDBOX_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | \
			    LANDLOCK_ACCESS_FS_REMOVE_FILE | \
			    LANDLOCK_ACCESS_FS_REMOVE_DIR | \
			    LANDLOCK_ACCESS_FS_MAKE_REG | \
			    LANDLOCK_ACCESS_FS_TRUNCATE)

/*
 * What a worker calls once it serves, found by tracing a worker (strace
 * -f) and by running the whole test suite with this filter: every call not
 * listed kills the worker. Start-up (opening roots, buffers, TLS
 * contexts, dropping privileges) is over before the filter is loaded.
 * Calls that take a path are here because Landlock, not this list,
 * decides which paths: openat2 beneath a root, openat in the cache.
 */
static const int sandbox_worker_calls[] = {
	/* The accept loop and the connection: sockets the master bound. */
	SCMP_SYS(accept4), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(recvfrom),
	SCMP_SYS(recvmsg), SCMP_SYS(write), SCMP_SYS(writev),
	SCMP_SYS(sendfile),	/* sendto, sendmsg: see below */
	SCMP_SYS(getsockopt), SCMP_SYS(getsockname),
	SCMP_SYS(getpeername),	/* close: see below */
	/* ioctl, setsockopt, shutdown, fcntl, tgkill: see below. */
	/* Files, listings and variants: which ones is Landlock's part. */
	SCMP_SYS(openat), SCMP_SYS(openat2), SCMP_SYS(newfstatat),
	SCMP_SYS(fstat), SCMP_SYS(statx), SCMP_SYS(readlinkat),
	SCMP_SYS(getdents64), SCMP_SYS(lseek), SCMP_SYS(pread64),
	SCMP_SYS(faccessat), SCMP_SYS(faccessat2),
	/* Memory: malloc, OpenSSL's and the encoders' buffers. */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(madvise),
	/* mmap, mprotect, mremap: see below. */
	/* Time: Date, log stamps, deadlines, the access-log flush timer. */
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep), SCMP_SYS(setitimer),
	/* Signals: flag handlers, and the SIGSYS that ends a worker. */
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(restart_syscall),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getppid),
	/* Ids: the status page and log checks compare owners. */
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
	SCMP_SYS(getegid),
	/* Randomness (OpenSSL, arc4random), locks inside the libraries. */
	SCMP_SYS(getrandom), SCMP_SYS(futex),
	/* qsort(3) of a long listing asks how much memory there is. */
	SCMP_SYS(sysinfo),
	/* The end: a worker exits, it never starts another process. */
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/*
 * The compressor: reads files by the descriptors workers pass, writes
 * its cache through the directory descriptor the master opened.
 */
static const int sandbox_compressor_calls[] = {
	/* The queue from the workers: a message and a descriptor each. */
	SCMP_SYS(recvmsg), SCMP_SYS(poll),	/* close: see below */
	/* Reading the file, writing and placing the variant. */
	SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(write),
	SCMP_SYS(openat), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(statx), SCMP_SYS(flock),
	SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(unlinkat),
	SCMP_SYS(getdents64), SCMP_SYS(lseek),
	/* Memory: the encoders' windows. */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(madvise),
	/* mmap, mprotect, mremap: see below. */
	/* Time: retry and warning intervals, log stamps. */
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	/* Signals and ids. */
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(restart_syscall),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getppid),
	SCMP_SYS(geteuid), SCMP_SYS(getrandom), SCMP_SYS(futex),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/*
 * Under AddressSanitizer the runtime makes calls of its own (its
 * reports read /proc/self/maps, its allocator maps and protects) that
 * no list above can foresee: that build loads a relaxed filter that
 * allows everything but these, the calls an attacker wants first, and
 * says so once. A release build never contains it.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_RELAXED	1
static const int sandbox_denied_calls[] = {
	SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(ptrace),
	SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
	SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen),
	SCMP_SYS(socket), SCMP_SYS(kill), SCMP_SYS(fork), SCMP_SYS(vfork),
	SCMP_SYS(mount), SCMP_SYS(setuid), SCMP_SYS(setresuid),
	SCMP_SYS(pidfd_open), SCMP_SYS(pidfd_getfd),
};
#else
#define SANDBOX_RELAXED	0
#endif

static volatile int	*sandbox_killed_by;
static bool		 sandbox_reported_landlock, sandbox_reported_seccomp;
static bool		 sandbox_reported_relaxed;

/* The Landlock ABI the kernel offers, or 0 with *why set. */
static int
sandbox_landlock_abi(const char **why)
{
	long	 abi;

#ifdef TINE_TEST_HOOKS
	/* Test builds: a kernel without Landlock, on request. */
	if (getenv("TINE_TEST_NO_LANDLOCK") != NULL) {
		*why = "disabled by a test hook";
		return 0;
	}
#endif
	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi >= 1)
		return abi > INT_MAX ? INT_MAX : (int)abi;
	*why = errno == ENOSYS ? "not in this kernel" :
	    errno == EOPNOTSUPP ? "disabled at boot" : strerror(errno);
	return 0;
}

/* Whether the kernel can load a filter, or false with *why set. */
static bool
sandbox_seccomp_ok(const char **why)
{
#ifdef TINE_TEST_HOOKS
	if (getenv("TINE_TEST_NO_SECCOMP") != NULL) {
		*why = "disabled by a test hook";
		return false;
	}
#endif
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == -1 ||
	    seccomp_api_get() < 1) {
		*why = errno == EINVAL ? "not in this kernel" :
		    strerror(errno);
		return false;
	}
	return true;
}

static size_t
sandbox_ncalls(enum sandbox_role role)
{
	return role == SANDBOX_WORKER ? nitems(sandbox_worker_calls) :
	    nitems(sandbox_compressor_calls);
}

/*
 * Adds a read (or, for the compressor's cache, read-write) rule beneath
 * the directory fd, keeping only the rights this ABI handles.
 */
static int
sandbox_landlock_rule(int ruleset, int fd, uint64_t rights, uint64_t handled)
{
	struct landlock_path_beneath_attr	 pb;

	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = rights & handled;
	pb.parent_fd = fd;
	return (int)syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
}

/*
 * Landlock: every right the ABI knows is handled, so what no rule
 * grants is denied: executing, writing, creating, removing, opening a
 * device for ioctl (ABI 5), binding and connecting TCP (ABI 4), and
 * signalling or reaching an abstract socket outside the sandbox (ABI 6:
 * the master among them). The rules: read beneath each root (error
 * pages are files beneath roots) and, with compress on, the cache; the
 * compressor writes its cache. Descriptors opened before (listeners,
 * logs, the queue, the scoreboard) are not affected: the worker writes
 * through those, and only those.
 */
static int
sandbox_landlock(const struct config *conf, enum sandbox_role role, int abi,
    const int *rootfds, int nroot)
{
	struct sandbox_ruleset	 rs;
	size_t			 size = sizeof(rs.fs);
	int			 ruleset, i, rc = -1;

	memset(&rs, 0, sizeof(rs));
	rs.fs = SANDBOX_FS_ABI1;
	if (abi >= 2)
		rs.fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		rs.fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 4) {
		rs.net = SANDBOX_NET_BIND_TCP | SANDBOX_NET_CONNECT_TCP;
		size = offsetof(struct sandbox_ruleset, scoped);
	}
	if (abi >= 5)
		rs.fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	if (abi >= 6) {
		rs.scoped = SANDBOX_SCOPE_ABSTRACT_UNIX | SANDBOX_SCOPE_SIGNAL;
		size = sizeof(rs);
	}
	if ((ruleset = (int)syscall(SYS_landlock_create_ruleset, &rs, size,
	    0)) == -1)
		return -1;
	if (role == SANDBOX_WORKER) {
		for (i = 0; i < nroot; i++)
			if (sandbox_landlock_rule(ruleset, rootfds[i],
			    SANDBOX_READ, rs.fs) == -1)
				goto done;
		if (conf->compress_dirfd != -1 && sandbox_landlock_rule(ruleset,
		    conf->compress_dirfd, LANDLOCK_ACCESS_FS_READ_FILE,
		    rs.fs) == -1)
			goto done;
	} else if (conf->compress_dirfd != -1 && sandbox_landlock_rule(
	    ruleset, conf->compress_dirfd, SANDBOX_CACHE, rs.fs) == -1)
		goto done;
	rc = (int)syscall(SYS_landlock_restrict_self, ruleset, 0);
done:
	(void)close(ruleset);	/* the domain holds what it needs */
	return rc;
}

/*
 * A refused call: its number goes to the slot the master reads, then the
 * default action ends the process with SIGSYS, which the master sees.
 * Only async-signal-safe calls, all of them on the lists.
 */
static void
sandbox_sigsys(int sig, siginfo_t *si, void *uc)
{
	struct sigaction	 sa;
	sigset_t		 set;

	(void)uc;
	if (sandbox_killed_by != NULL)
		*sandbox_killed_by = si->si_syscall + 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	(void)sigaction(sig, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	(void)sigprocmask(SIG_UNBLOCK, &set, NULL);
	(void)raise(sig);
	_exit(WORKER_EXIT_FATAL);	/* not reached */
}

#if !SANDBOX_RELAXED
/*
 * Every system call a confined process makes runs the filter first, and
 * libseccomp's chain of rules is in no useful order: sendmsg, the call
 * of every response, ran 69 instructions, close 68, openat2 54. The
 * calls of every request and of every file not yet open are tried
 * first, most frequent first (read: 6, sendmsg: 14). libseccomp's
 * binary tree (SCMP_FLTATR_CTL_OPTIMIZE 2) was measured too: 11-20 for
 * every call, read twice as long. Neither changes what is allowed.
 */
static int
sandbox_seccomp_order(scmp_filter_ctx ctx)
{
	static const int	 hot[] = {
		SCMP_SYS(read), SCMP_SYS(sendmsg), SCMP_SYS(accept4),
		SCMP_SYS(close), SCMP_SYS(recvfrom), SCMP_SYS(openat2),
		SCMP_SYS(newfstatat), SCMP_SYS(sendfile), SCMP_SYS(write),
	};
	size_t			 i;
	int			 rc;

	for (i = 0; i < nitems(hot); i++)
		if ((rc = seccomp_syscall_priority(ctx, hot[i],
		    (uint8_t)(255 - i))) < 0)
			return rc;
	return 0;
}
#endif

/*
 * The filter: SCMP_ACT_TRAP for anything not listed, so that the
 * SIGSYS handler learns the call's number (SECCOMP_RET_KILL_PROCESS
 * would leave the master a bare signal). A process that replaces the
 * handler does not escape: the refused call is never made either way.
 * Signals go only to the process itself (raise()).
 */
static int
sandbox_seccomp_build(const struct config *conf, enum sandbox_role role,
    int sfd, pid_t self, int out)
{
	scmp_filter_ctx	 ctx;
	const int	*calls;
	size_t		 i, n;
	int		 rc, qfd;

	calls = role == SANDBOX_WORKER ? sandbox_worker_calls :
	    sandbox_compressor_calls;
	n = sandbox_ncalls(role);
#if SANDBOX_RELAXED
	(void)calls;
	(void)n;
	(void)sfd;
	(void)qfd;
	(void)self;
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		return -ENOMEM;
	for (i = 0; i < nitems(sandbox_denied_calls); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP,
		    sandbox_denied_calls[i], 0)) < 0)
			goto done;
#else
	qfd = compress_queue_send_fd();
	if ((ctx = seccomp_init(SCMP_ACT_TRAP)) == NULL)
		return -ENOMEM;
	if (role == SANDBOX_WORKER && (rc = sandbox_seccomp_order(ctx)) < 0)
		goto done;
	for (i = 0; i < n; i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i],
		    0)) < 0)
			goto done;
	/* raise(): signals to the process itself only. */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self))) < 0)
		goto done;
	/*
	 * Memory, but no new code: mmap and mprotect with PROT_EXEC fail
	 * (nothing is loaded once confined; Landlock would refuse the
	 * file anyway), so bytes an attacker wrote can never be run.
	 * mremap could grow the one scoreboard page a process may write
	 * over its neighbours' (scoreboard.c): it fails, and malloc copies
	 * instead, as it does when the call is not there.
	 */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(mmap),
	    1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
	    SCMP_SYS(mprotect), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC,
	    PROT_EXEC))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(mremap), 0)) < 0)
		goto done;
	/*
	 * Every process shares the listeners (and the compressor queue):
	 * shutdown only half-closes the sending side, as a connection's
	 * lingering close does (SHUT_RD on a listener would stop it
	 * listening for all), and never of the queue (its sending end is
	 * one socket for all workers: shut, it would stop every wish);
	 * fcntl only reads flags and sets close-on-exec: F_SETFL fails
	 * (the flags are the open file's, shared: clearing O_APPEND of a
	 * log, setting O_DIRECT or clearing O_NONBLOCK of a listener would
	 * change them for every process), no owner or signal (F_SETOWN and
	 * F_SETSIG on a listener would signal every worker). No call a confined process may make
	 * gives it another descriptor of the queue (dup is not allowed).
	 */
	if ((qfd != -1 && (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(shutdown), 1, SANDBOX_FD_IS(qfd))) < 0) ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(shutdown), 2,
	    SANDBOX_FD_ANY, SCMP_A1(SCMP_CMP_EQ, SHUT_WR))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(shutdown), 2,
	    SANDBOX_FD_NEG, SCMP_A1(SCMP_CMP_EQ, SHUT_WR))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
	    SCMP_A1(SCMP_CMP_EQ, F_GETFD))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
	    SCMP_A1(SCMP_CMP_EQ, F_SETFD))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
	    SCMP_A1(SCMP_CMP_EQ, F_GETFL))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(fcntl), 1, SCMP_A1(SCMP_CMP_EQ, F_SETFL))) < 0)
		goto done;
	/*
	 * Sending names no address: sendto only without one (send(), as
	 * syslog(3) sends), sendmsg (the queue, kernel TLS records) never
	 * on syslog's datagram socket, the one descriptor where a name in
	 * the message would reach any other local socket the user may
	 * write, the service manager's among them. The queue is a
	 * SOCK_SEQPACKET pair, where the kernel ignores a name.
	 */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 1,
	    SCMP_A4(SCMP_CMP_EQ, 0))) < 0)
		goto done;
	if (role == SANDBOX_WORKER && ((sfd != -1 && (rc =
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(sendmsg),
	    1, SANDBOX_FD_IS(sfd))) < 0) || (rc = seccomp_rule_add(ctx,
	    SCMP_ACT_ALLOW, SCMP_SYS(sendmsg), 1, SANDBOX_FD_ANY)) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendmsg), 1,
	    SANDBOX_FD_NEG)) < 0))
		goto done;
	/*
	 * syslog's socket is never closed: glibc closes it when the logger
	 * went away, and its number would come back as a connection, on
	 * which the rule above refuses sendmsg. Kept open (close fails,
	 * which syslog ignores), it only fails to send.
	 */
	if ((sfd != -1 && (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(close), 1, SANDBOX_FD_IS(sfd))) < 0) ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(close), 1,
	    SANDBOX_FD_ANY)) < 0 || (rc = seccomp_rule_add(ctx,
	    SCMP_ACT_ALLOW, SCMP_SYS(close), 1, SANDBOX_FD_NEG)) < 0)
		goto done;
	/*
	 * The descriptors a worker holds include the shared listeners and,
	 * in the foreground, a terminal: ioctl only reads a send queue (the
	 * lingering close) or a terminal's mode (stdio), never TIOCSTI; a
	 * socket option only the receive timeout, the cork around a large
	 * file and kernel TLS, never a filter attached to a listener every
	 * worker shares.
	 */
	if (role == SANDBOX_WORKER && ((rc = seccomp_rule_add(ctx,
	    SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ,
	    SIOCOUTQ))) < 0 || (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
	    SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, TCGETS))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt),
	    2, SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET), SCMP_A2(SCMP_CMP_EQ,
	    SO_RCVTIMEO))) < 0 || (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
	    SCMP_SYS(setsockopt), 2, SCMP_A1(SCMP_CMP_EQ, IPPROTO_TCP),
	    SCMP_A2(SCMP_CMP_EQ, TCP_ULP))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
	    SCMP_SYS(setsockopt), 2, SCMP_A1(SCMP_CMP_EQ, IPPROTO_TCP),
	    SCMP_A2(SCMP_CMP_EQ, TCP_CORK))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt),
	    1, SCMP_A1(SCMP_CMP_EQ, SANDBOX_SOL_TLS))) < 0))
		goto done;
	/*
	 * syslog(3) connected to /dev/log before confinement (LOG_NDELAY)
	 * and reconnects after the logger restarted. A confined process
	 * does not: a connect() could reach any local socket its user may
	 * write (the service manager's notify socket among them). The
	 * calls fail instead of killing it; its lines are lost until it is
	 * replaced (USR1 or HUP), which connects again.
	 */
	if (log_uses_syslog() &&
	    ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
	    SCMP_SYS(socket), 0)) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
	    SCMP_SYS(connect), 0)) < 0))
		goto done;
#endif
	(void)conf;
	rc = out == -1 ? seccomp_load(ctx) : seccomp_export_bpf(ctx, out);
done:
	seccomp_release(ctx);
	return rc;
}

/*
 * The filter is compiled in a child of its own, which writes the program
 * to a pipe and exits: libseccomp builds it in about 100 KiB of heap, and
 * every page of that would stay private to each worker for its whole life
 * (what one more worker costs). The process then loads the program
 * itself; the kernel keeps its own copy, so the buffer goes too.
 * Without a pipe or a child (the workers' user at its RLIMIT_NPROC, a
 * pids cgroup at its limit, short of memory) the process compiles and
 * loads the same program itself: the heap is the lesser cost, and a
 * worker that exited instead would count as one that cannot run (not
 * respawned, the pool one smaller for good) over a shortage that passes.
 */
static int
sandbox_seccomp(const struct config *conf, enum sandbox_role role, int sfd)
{
	struct sock_fprog	 prog;
	size_t			 len = 0;
	ssize_t			 n;
	pid_t			 self, pid;
	void			*buf;
	int			 p[2], status, rc;

	self = getpid();
	if (pipe2(p, O_CLOEXEC) == -1)
		return sandbox_seccomp_build(conf, role, sfd, self, -1);
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return sandbox_seccomp_build(conf, role, sfd, self, -1);
	}
	if (pid == 0) {
		close(p[0]);
		rc = sandbox_seccomp_build(conf, role, sfd, self, p[1]);
		_exit(rc < 0 ? (-rc & 0xff ? -rc & 0xff : EINVAL) : 0);
	}
	close(p[1]);
	buf = mmap(NULL, SANDBOX_BPF_MAX_BYTES + 1, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rc = buf == MAP_FAILED ? -errno : 0;
	/* One byte of room more than the kernel takes, to see a longer one. */
	while (rc == 0 && (n = read(p[0], (char *)buf + len,
	    SANDBOX_BPF_MAX_BYTES + 1 - len)) != 0) {
		if (n == -1 && errno != EINTR)
			rc = -errno;
		else if (n > 0 && (len += (size_t)n) > SANDBOX_BPF_MAX_BYTES)
			rc = -E2BIG;
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			status = EINVAL << 8;
			break;
		}
	if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		rc = WIFEXITED(status) ? -WEXITSTATUS(status) : -EINVAL;
	if (rc == 0 && (len == 0 || len % sizeof(struct sock_filter) != 0))
		rc = -EINVAL;
	if (rc == 0) {
		prog.len = (unsigned short)(len / sizeof(struct sock_filter));
		prog.filter = buf;
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1)
			rc = -errno;
	}
	if (buf != MAP_FAILED)
		(void)munmap(buf, SANDBOX_BPF_MAX_BYTES + 1);
	return rc;
}

void
sandbox_enter(const struct config *conf, enum sandbox_role role,
    const int *rootfds, int nroot, volatile int *killed_by)
{
	struct sigaction	 sa;
	const char		*why;
	int			 abi, rc = 0, sfd = -1;

	if (!conf->sandbox)
		return;
	/*
	 * syslog's socket, made again here so that its descriptor is known
	 * (one inherited may have been connected at any time since).
	 */
	if (log_uses_syslog())
		sfd = log_syslog_connect();
	if ((abi = sandbox_landlock_abi(&why)) > 0 &&
	    sandbox_landlock(conf, role, abi, rootfds, nroot) == -1) {
		log_warn("sandbox: Landlock; set sandbox off to serve "
		    "without it");
		_exit(WORKER_EXIT_FATAL);
	}
	if (!sandbox_seccomp_ok(&why))
		return;
	sandbox_killed_by = killed_by;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1 ||
	    (rc = sandbox_seccomp(conf, role, sfd)) < 0) {
		if (rc < 0)
			errno = -rc;
		log_warn("sandbox: seccomp filter; set sandbox off to serve "
		    "without it");
		_exit(WORKER_EXIT_FATAL);
	}
}

void
sandbox_report(const struct config *conf)
{
	const char	*why;

	if (!conf->sandbox)
		return;
	if (!sandbox_reported_landlock && sandbox_landlock_abi(&why) == 0) {
		sandbox_reported_landlock = true;
		log_warnx("sandbox: Landlock %s: workers are not confined to "
		    "their roots on the file system", why);
	}
	if (!sandbox_reported_seccomp && !sandbox_seccomp_ok(&why)) {
		sandbox_reported_seccomp = true;
		log_warnx("sandbox: seccomp %s: workers' system calls are not "
		    "filtered", why);
	}
	if (SANDBOX_RELAXED && !sandbox_reported_relaxed) {
		sandbox_reported_relaxed = true;
		log_info("sandbox: sanitizer build (ASan): the seccomp filter "
		    "is relaxed to deny only what an attacker wants first");
	}
}

void
sandbox_describe(const struct config *conf, FILE *fp)
{
	const char	*ll_why, *sc_why;
	int		 abi;
	bool		 sc;

	if (!conf->sandbox) {
		fprintf(fp, "%s: sandbox off: workers are not confined\n",
		    TINE_NAME);
		return;
	}
	abi = sandbox_landlock_abi(&ll_why);
	sc = sandbox_seccomp_ok(&sc_why);
	fprintf(fp, "%s: sandbox: ", TINE_NAME);
	if (abi > 0)
		fprintf(fp, "Landlock ABI %d (read beneath %d root%s)", abi,
		    conf->nroots, conf->nroots == 1 ? "" : "s");
	else
		fprintf(fp, "no Landlock (%s)", ll_why);
	if (!sc)
		fprintf(fp, ", no seccomp (%s)\n", sc_why);
	else if (SANDBOX_RELAXED)
		fprintf(fp, ", seccomp filter relaxed for AddressSanitizer\n");
	else
		fprintf(fp, ", seccomp filter of %zu calls (compressor %zu)\n",
		    sandbox_ncalls(SANDBOX_WORKER) + SANDBOX_ARG_CALLS +
		    SANDBOX_WORKER_ARG_CALLS,
		    sandbox_ncalls(SANDBOX_COMPRESSOR) + SANDBOX_ARG_CALLS);
}

const char *
sandbox_call_name(int stored, char *buf, size_t size)
{
	char	*name;

	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE,
	    stored - 1);
	if (name == NULL || strlcpy(buf, name, size) >= size)
		(void)xsnprintf(buf, size, "%d", stored - 1);	/* fits */
	free(name);
	return buf;
}
