/*
 * notify.c: the sd_notify datagram protocol, written directly rather than
 * linking libsystemd: it is one sendmsg() of "KEY=VALUE" lines to the
 * socket named in $NOTIFY_SOCKET (a path, or an abstract name starting
 * with '@'), stable for a decade, and tine then runs unchanged where
 * systemd is absent. The variables are read once and unset, so workers
 * and anything they start never see them.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"

static struct {
	struct sockaddr_un	 sun;
	socklen_t		 sunlen;
	int			 fd;
	int64_t			 watchdog_ms;	/* 0: no watchdog */
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
	}
	usec = getenv("WATCHDOG_USEC");
	pid = getenv("WATCHDOG_PID");
	if (usec != NULL && (pid == NULL ||
	    strtonum(pid, 1, INT_MAX, &errstr) == getpid())) {
		v = strtonum(usec, 1, LLONG_MAX, &errstr);
		if (errstr == NULL)
			notify.watchdog_ms = v / 1000 > 0 ? v / 1000 : 1;
	}
	(void)unsetenv("NOTIFY_SOCKET");	/* only fails on a bad name */
	(void)unsetenv("WATCHDOG_USEC");
	(void)unsetenv("WATCHDOG_PID");
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

	if (notify.fd == -1)
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
