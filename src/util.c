/*
 * util.c: small helpers more than one module needs: checked formatting,
 * decimal digits by hand, the monotonic clock, descriptor flags, address
 * formatting and the safe walk to the directory of a file root writes.
 * Nothing here allocates or logs.
 */
#include <sys/socket.h>
#include <sys/stat.h>

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

/*
 * The decimal digits of v at p, no NUL; returns the end. By hand: it
 * runs on the request path (cache keys, access-log lines).
 */
char *
util_put_uint(char *p, uintmax_t v)
{
	char	 d[24];		/* UINTMAX_MAX has 20 digits */
	size_t	 i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	memcpy(p, d + i, sizeof(d) - i);
	return p + (sizeof(d) - i);
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

#define UTIL_LINKS_MAX	40	/* links followed in one walk, as Linux */
#define UTIL_SHOWN_BYTES	(4 * 256 + 1)	/* a link's path, escaped */

/*
 * Whether the symbolic link name in the directory dirfd may be followed
 * on the way to a file root writes: only when the link and that
 * directory are root's and no group or other user can write the
 * directory. Then nobody but root can have made the link or swap it for
 * another (an administrator's /var/run -> /run, a link to a log volume).
 * Anything else could be a link planted by the workers' user, or by a
 * log group, in a directory they can write, aimed at a directory of
 * root's where root would then create, truncate or hand over a file.
 */
static bool
util_link_trusted(int dirfd, const struct stat *link)
{
	struct stat	 dir;

	if (fstat(dirfd, &dir) == -1)
		return false;
	return link->st_uid == 0 && dir.st_uid == 0 &&
	    (dir.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/*
 * Opens (O_PATH) the directory that holds the last component of path,
 * walking from "/" (or the working directory, for a relative path) one
 * component at a time with O_NOFOLLOW, and copies that last component to
 * base. open(2) with O_NOFOLLOW checks the last component only: a
 * directory on the way that is a link would still be followed, so the
 * walk follows a link itself, and only one util_link_trusted() accepts.
 * The caller opens base with openat(fd, base, flags | O_NOFOLLOW) and
 * can later unlink it with unlinkat(fd, base): the same directory, even
 * if the path has been changed since.
 *
 * On failure returns -1 with errno set. A link refused by that rule
 * sets *why to the reason and base to the path of the link (as walked,
 * so after the links followed before it); any other failure sets *why
 * to NULL.
 */
static int
util_walk_dir(const char *path, char *base, size_t size, const char **why)
{
	struct stat	 st;
	char		 rest[PATH_MAX], walked[PATH_MAX], target[PATH_MAX];
	char		 next[PATH_MAX], *comp, *slash, *p;
	const char	*last;
	ssize_t		 n;
	size_t		 len;
	int		 dirfd = -1, fd, links = 0, err;

	*why = NULL;
	if (path[0] == '\0') {
		errno = ENOENT;
		return -1;
	}
	last = strrchr(path, '/');
	last = last != NULL ? last + 1 : path;
	if (last[0] == '\0' || strcmp(last, ".") == 0 ||
	    strcmp(last, "..") == 0) {
		errno = EISDIR;		/* names a directory, not a file */
		return -1;
	}
	len = (size_t)(last - path);
	if (len >= sizeof(rest) || strlcpy(base, last, size) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(rest, path, len);
	rest[len] = '\0';
	walked[0] = '\0';
	if ((dirfd = open(path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		goto fail;
	p = rest;
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		comp = p;
		if ((slash = strchr(p, '/')) != NULL) {
			*slash = '\0';
			p = slash + 1;
		} else
			p += strlen(p);
		if (strcmp(comp, ".") == 0)
			continue;
		/* walked only names the link in a message: cut is fine. */
		(void)strlcat(walked, "/", sizeof(walked));
		(void)strlcat(walked, comp, sizeof(walked));
		fd = openat(dirfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd != -1) {
			(void)close(dirfd);	/* O_PATH: nothing to flush */
			dirfd = fd;
			continue;
		}
		/* O_PATH | O_NOFOLLOW on a link: ENOTDIR, else ELOOP. */
		if ((errno != ENOTDIR && errno != ELOOP) ||
		    fstatat(dirfd, comp, &st, AT_SYMLINK_NOFOLLOW) == -1)
			goto fail;
		if (!S_ISLNK(st.st_mode)) {
			errno = ENOTDIR;
			goto fail;
		}
		if (!util_link_trusted(dirfd, &st)) {
			*why = "is a symbolic link in a directory other users "
			    "can write (or not root's); it is not followed";
			(void)strlcpy(base, walked, size);	/* cut: a name */
			errno = ELOOP;
			goto fail;
		}
		if (++links > UTIL_LINKS_MAX) {
			errno = ELOOP;
			goto fail;
		}
		if ((n = readlinkat(dirfd, comp, target, sizeof(target))) ==
		    -1)
			goto fail;
		if ((size_t)n >= sizeof(target) || n == 0) {
			errno = n == 0 ? ENOENT : ENAMETOOLONG;
			goto fail;
		}
		target[n] = '\0';
		/* What is left of the walk: the link's target, then the rest. */
		if (xsnprintf(next, sizeof(next), "%s/%s", target, p) == -1) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		memcpy(rest, next, strlen(next) + 1);
		p = rest;
		if (target[0] == '/') {
			walked[0] = '\0';
			(void)close(dirfd);	/* O_PATH: nothing to flush */
			if ((dirfd = open("/", O_PATH | O_DIRECTORY |
			    O_CLOEXEC)) == -1)
				goto fail;
		} else if ((slash = strrchr(walked, '/')) != NULL)
			*slash = '\0';	/* the target is relative to the link */
	}
	return dirfd;
fail:
	err = errno;
	if (dirfd != -1)
		(void)close(dirfd);	/* O_PATH: nothing to flush */
	errno = err;
	return -1;
}

/*
 * util_walk_dir(), with *why always set on failure: the refused link,
 * escaped, and the reason, or strerror(errno). The words live in a
 * static buffer until the next call.
 */
int
util_open_safe_dir(const char *path, char *base, size_t size,
    const char **why)
{
	static char	 words[UTIL_SHOWN_BYTES + 128];
	char		 shown[UTIL_SHOWN_BYTES];
	int		 fd, err;

	if ((fd = util_walk_dir(path, base, size, why)) != -1)
		return fd;
	err = errno;
	if (*why != NULL) {
		/* base names the link that was refused. */
		(void)log_escape(shown, sizeof(shown), base, strlen(base));
		if (xsnprintf(words, sizeof(words), "\"%s\" %s", shown,
		    *why) == -1)
			(void)strlcpy(words, *why, sizeof(words));	/* fits */
		*why = words;
	} else
		*why = strerror(err);
	errno = err;
	return -1;
}

/*
 * Whether two stats describe the same file unchanged: device, inode,
 * size, modification and change times (the change time moves even when
 * the modification time is set back).
 */
bool
util_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}
