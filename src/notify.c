/*
 * notify.c: the sd_notify datagram protocol, written directly rather than
 * linking libsystemd: it is one sendmsg() of "KEY=VALUE" lines to the
 * socket named in $NOTIFY_SOCKET (a path, or an abstract name starting
 * with '@'), stable for a decade, and tine then runs unchanged where
 * systemd is absent. The variables are read once and unset, so workers
 * and anything they start never see them. It also hands listening sockets
 * to the service manager's descriptor store (FDSTORE=1), so that they
 * outlive a restart, and gives the variables back to a new master that a
 * binary upgrade executes.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"

#define NOTIFY_FDNAME_MAX	255	/* systemd's FDNAME limit */

static struct {
	struct sockaddr_un	 sun;
	socklen_t		 sunlen;
	int			 fd;
	int64_t			 watchdog_ms;	/* 0: no watchdog */
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char			 watchdog_usec[32];
	int			 fdstore;	/* FDSTORE=: slots, 0: none */
	bool			 muted;		/* another master speaks */
} notify = { .fd = -1 };

void
notify_init(void)
{
	const char	*path, *usec, *pid, *errstr;
	long long	 v;
	size_t		 len;

	path = getenv("NOTIFY_SOCKET");
	if (path != NULL && (path[0] == '/' || path[0] == '@') &&
	    (len = strlen(path)) < sizeof(notify.sun.sun_path)) {
		memset(&notify.sun, 0, sizeof(notify.sun));
		notify.sun.sun_family = AF_UNIX;
		memcpy(notify.sun.sun_path, path, len);
		if (path[0] == '@')
			notify.sun.sun_path[0] = '\0';	/* abstract */
		notify.sunlen = (socklen_t)(offsetof(struct sockaddr_un,
		    sun_path) + len + (path[0] == '/' ? 1 : 0));
		notify.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (notify.fd == -1)
			log_warn("notify socket");
		memcpy(notify.path, path, len + 1);	/* fits: checked */
	}
	usec = getenv("WATCHDOG_USEC");
	pid = getenv("WATCHDOG_PID");
	if (usec != NULL && (pid == NULL ||
	    strtonum(pid, 1, INT_MAX, &errstr) == getpid())) {
		v = strtonum(usec, 1, LLONG_MAX, &errstr);
		if (errstr == NULL) {
			notify.watchdog_ms = v / 1000 > 0 ? v / 1000 : 1;
			(void)strlcpy(notify.watchdog_usec, usec,
			    sizeof(notify.watchdog_usec));	/* digits: fit */
		}
	}
	/*
	 * FDSTORE=N: the service manager keeps up to N descriptors for us.
	 * systemd 254 and later set it from FileDescriptorStoreMax=; the
	 * shipped unit sets it too, for systemd 252 (Debian 12), which
	 * says nothing. Without it no socket is offered: systemd would
	 * close it, and tine would think it kept.
	 */
	if ((usec = getenv("FDSTORE")) != NULL) {
		v = strtonum(usec, 0, INT_MAX, &errstr);
		notify.fdstore = errstr == NULL ? (int)v : 0;
	}
	(void)unsetenv("NOTIFY_SOCKET");	/* only fails on a bad name */
	(void)unsetenv("WATCHDOG_USEC");
	(void)unsetenv("WATCHDOG_PID");
	(void)unsetenv("FDSTORE");
}

/*
 * In the child that becomes the new master of an upgrade: the variables
 * as the service manager gave them, the watchdog's for the new pid. It
 * speaks for the service once it is ready (MAINPID=, which needs
 * NotifyAccess=all in the unit). -1 when setenv() failed.
 */
int
notify_env(void)
{
	char	 buf[32];

	if (notify.path[0] != '\0' &&
	    setenv("NOTIFY_SOCKET", notify.path, 1) == -1)
		return -1;
	if (notify.watchdog_usec[0] != '\0' &&
	    (setenv("WATCHDOG_USEC", notify.watchdog_usec, 1) == -1 ||
	    xsnprintf(buf, sizeof(buf), "%ld", (long)getpid()) == -1 ||
	    setenv("WATCHDOG_PID", buf, 1) == -1))
		return -1;
	if (notify.fdstore > 0 &&
	    (xsnprintf(buf, sizeof(buf), "%d", notify.fdstore) == -1 ||
	    setenv("FDSTORE", buf, 1) == -1))
		return -1;
	return 0;
}

/*
 * An old master whose new master is ready stops speaking for the
 * service (its STOPPING=1 would stop it); a rollback gives it back.
 */
void
notify_mute(bool muted)
{
	notify.muted = muted;
}

/*
 * The FDNAME of a listener's socket: systemd allows printable ASCII
 * without ':', which an address has, so ':' becomes '-'.
 */
static int
notify_fdname(char *buf, size_t size, const char *listener)
{
	char	*p;

	if (xsnprintf(buf, size, "tine-%s", listener) == -1)
		return -1;
	for (p = buf; *p != '\0'; p++)
		if (*p == ':' || *p < ' ' || *p > '~')
			*p = '-';
	return 0;
}

bool
notify_fdstore_enabled(void)
{
	return notify.fd != -1 && notify.fdstore > 0;
}

/*
 * Offers a listening socket to the descriptor store, named after its
 * address. systemd keeps one copy of a socket however often it is
 * offered. Returns 0 when it was sent.
 */
int
notify_fdstore(int fd, const char *listener)
{
	char		 buf[NOTIFY_FDNAME_MAX + 32];
	char		 name[NOTIFY_FDNAME_MAX + 1];
	char		 cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec	 iov;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	int		 n;

	if (!notify_fdstore_enabled() ||
	    notify_fdname(name, sizeof(name), listener) == -1 ||
	    (n = xsnprintf(buf, sizeof(buf), "FDSTORE=1\nFDNAME=%s",
	    name)) == -1)
		return -1;
	memset(&msg, 0, sizeof(msg));
	memset(cbuf, 0, sizeof(cbuf));
	iov.iov_base = buf;
	iov.iov_len = (size_t)n;
	msg.msg_name = &notify.sun;
	msg.msg_namelen = notify.sunlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	if (sendmsg(notify.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) == -1) {
		log_warn("sd_notify FDSTORE %s", listener);
		return -1;
	}
	return 0;
}

/* A listener the config no longer has leaves the store too. */
void
notify_fdstore_remove(const char *listener)
{
	char	 name[NOTIFY_FDNAME_MAX + 1];

	if (!notify_fdstore_enabled() ||
	    notify_fdname(name, sizeof(name), listener) == -1)
		return;
	(void)notify_send("FDSTOREREMOVE=1\nFDNAME=%s", name);	/* logged */
}

bool
notify_enabled(void)
{
	return notify.fd != -1;
}

int64_t
notify_watchdog_ms(void)
{
	return notify.watchdog_ms;
}

int
notify_send(const char *fmt, ...)
{
	char	 buf[1024];
	va_list	 ap;
	int	 n;

	if (notify.fd == -1 || notify.muted)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	/*
	 * Never wait for the service manager: a wedged one would otherwise
	 * stop the master's loop (reaping, respawns, stop) once its queue is
	 * full. A message that does not fit is logged and dropped.
	 */
	if (sendto(notify.fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&notify.sun, notify.sunlen) == -1) {
		log_warn("sd_notify");
		return -1;
	}
	return 0;
}

/* Workers do not speak for the service. */
void
notify_close(void)
{
	if (notify.fd != -1) {
		(void)close(notify.fd);	/* nothing to do on error */
		notify.fd = -1;
	}
}
