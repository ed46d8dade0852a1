/*
 * util.c: small helpers more than one module needs: checked formatting,
 * the monotonic clock, descriptor flags and address formatting. Nothing
 * here allocates or logs.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tine.h"

/* snprintf that treats truncation as an error: -1, never a short string. */
int
xsnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return n;
}

int64_t
util_now_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
util_nprocs(void)
{
	long	 n;

	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	if (n > WORKERS_MAX)
		return WORKERS_MAX;
	return (int)n;
}

int
util_set_cloexec(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFD)) == -1)
		return -1;
	return fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

int
util_set_nonblock(int fd, bool on)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

/*
 * Formats an address as "1.2.3.4" or "::1" (with_port false) or
 * "1.2.3.4:80" / "[::1]:80". Returns the length or -1.
 */
int
util_fmt_addr(const struct sockaddr *sa, socklen_t salen, char *buf,
    size_t size, bool with_port)
{
	char		 host[INET6_ADDRSTRLEN];
	const void	*addr;
	unsigned	 port;

	switch (sa->sa_family) {
	case AF_INET:
		if (salen < sizeof(struct sockaddr_in))
			return -1;
		addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		port = ntohs(((const struct sockaddr_in *)(const void *)sa)->
		    sin_port);
		break;
	case AF_INET6:
		if (salen < sizeof(struct sockaddr_in6))
			return -1;
		addr = &((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr;
		port = ntohs(((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_port);
		break;
	default:
		return xsnprintf(buf, size, "-");
	}
	if (inet_ntop(sa->sa_family, addr, host, sizeof(host)) == NULL)
		return -1;
	if (!with_port)
		return xsnprintf(buf, size, "%s", host);
	if (sa->sa_family == AF_INET6)
		return xsnprintf(buf, size, "[%s]:%u", host, port);
	return xsnprintf(buf, size, "%s:%u", host, port);
}
