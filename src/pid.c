/*
 * pid.c: the pid file the master holds locked while it runs, for tine -s
 * and scripts. Root creates and truncates it in a directory that others
 * may write (the workers' user's /run/tine), so it is opened like a log:
 * by a walk that follows no link others could have planted, and with
 * O_NOFOLLOW. Allocates only when the file is opened.
 *
 * Not libbsd's pidfile_open(): it opens the path as given, following a
 * symbolic link in any component, and would truncate and write the
 * link's target as root.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pid.h"

#define PID_READ_TRIES	20	/* the holder may not have written it yet */
#define PID_READ_WAIT_MS 5	/* between those tries */
#define PID_SHOWN_BYTES	(4 * 256 + 1)	/* a path in a message, escaped */

/*
 * O_RDWR: when another tine holds the lock, its pid is read through the
 * same descriptor. O_NONBLOCK: a FIFO planted there must not hang the
 * open; the type is checked before any byte is written.
 */
#define PID_OPEN_FLAGS	(O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | \
			    O_NOCTTY | O_CLOEXEC)

struct pid_file {
	int	 dirfd;		/* O_PATH: the directory it was made in */
	int	 fd;		/* locked while the master runs */
	char	 base[PATH_MAX];	/* or the link refused, in a message */
	char	 name[PATH_MAX];	/* its name now: base, or base.oldbin */
};

/*
 * Why an existing file st cannot be the pid file, or NULL. A regular file
 * with another link may be a hard link to a file elsewhere that root
 * would truncate.
 */
static const char *
pid_type_reason(const struct stat *st)
{
	if (S_ISLNK(st->st_mode))
		return "is a symbolic link; a pid file is never opened "
		    "through one";
	if (!S_ISREG(st->st_mode))
		return "is not a regular file";
	if (st->st_nlink > 1)
		return "is a regular file with more than one link";
	return NULL;
}

/* The pid another process wrote to fd, or -1 if there is none yet. */
static pid_t
pid_read(int fd)
{
	struct timespec	 ts = { 0, PID_READ_WAIT_MS * 1000000L };
	char		 buf[32];
	const char	*errstr;
	long long	 pid;
	ssize_t		 n;
	int		 tries;

	for (tries = 0; tries < PID_READ_TRIES; tries++) {
		if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) > 0) {
			buf[n] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			pid = strtonum(buf, 1, INT_MAX, &errstr);
			if (errstr == NULL)
				return (pid_t)pid;
		}
		(void)nanosleep(&ts, NULL);	/* EINTR: just sooner */
	}
	return -1;
}

/*
 * Creates or opens path and takes its lock. When another process holds
 * the lock, returns NULL with errno EEXIST and its pid in *other (-1 if
 * it wrote none). On any other failure returns NULL with errno set and
 * *why saying why in words. The file is emptied only once locked: a
 * second tine never erases the running one's pid.
 */
struct pid_file *
pid_open(const char *path, pid_t *other, const char **why)
{
	struct pid_file	*pf = NULL;
	struct stat	 st;
	int		 err;

	*other = -1;
	*why = NULL;
	if ((pf = calloc(1, sizeof(*pf))) == NULL) {
		err = errno;
		*why = strerror(err);
		goto fail;
	}
	pf->fd = -1;
	if ((pf->dirfd = util_open_safe_dir(path, pf->base, sizeof(pf->base),
	    why)) == -1) {
		err = errno;
		goto fail;
	}
	/* Checked first too: the open alone would open a device. */
	if (fstatat(pf->dirfd, pf->base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (*why = pid_type_reason(&st)) != NULL) {
		err = EPERM;
		goto fail;
	}
	if ((pf->fd = openat(pf->dirfd, pf->base, PID_OPEN_FLAGS, 0644)) ==
	    -1) {
		err = errno;
		*why = err == ELOOP ? "is a symbolic link; a pid file is "
		    "never opened through one" : strerror(err);
		goto fail;
	}
	if (fstat(pf->fd, &st) == -1) {
		err = errno;
		*why = strerror(err);
		goto fail;
	}
	if ((*why = pid_type_reason(&st)) != NULL) {
		err = EPERM;
		goto fail;
	}
	if (flock(pf->fd, LOCK_EX | LOCK_NB) == -1) {
		err = errno;
		if (err == EWOULDBLOCK) {
			*other = pid_read(pf->fd);
			err = EEXIST;
		}
		*why = strerror(err);
		goto fail;
	}
	if (ftruncate(pf->fd, 0) == -1) {
		err = errno;
		*why = strerror(err);
		goto fail;
	}
	(void)strlcpy(pf->name, pf->base, sizeof(pf->name));	/* same size */
	return pf;
fail:
	if (pf != NULL) {
		if (pf->fd != -1)
			(void)close(pf->fd);	/* nothing written */
		if (pf->dirfd != -1)
			(void)close(pf->dirfd);	/* O_PATH */
		free(pf);
	}
	errno = err;
	return NULL;
}

/* Writes the calling process's pid. -1 with errno set on failure. */
int
pid_write(struct pid_file *pf)
{
	char	 buf[32];
	ssize_t	 w;
	int	 n;

	if ((n = xsnprintf(buf, sizeof(buf), "%ld\n", (long)getpid())) ==
	    -1) {
		errno = EOVERFLOW;
		return -1;
	}
	if (ftruncate(pf->fd, 0) == -1)
		return -1;
	if ((w = pwrite(pf->fd, buf, (size_t)n, 0)) == -1)
		return -1;
	if (w != n) {
		errno = ENOSPC;	/* a short write to a regular file */
		return -1;
	}
	return 0;
}

/*
 * Unlinks the file, if the name in its directory still is the file
 * locked (not one put in its place), and releases it. -1 with errno set
 * when the unlink failed; the descriptors are released anyway.
 */
int
pid_remove(struct pid_file *pf)
{
	struct stat	 held, now;
	int		 rc = 0, err = 0;

	if (fstat(pf->fd, &held) == 0 &&
	    fstatat(pf->dirfd, pf->name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	    held.st_dev == now.st_dev && held.st_ino == now.st_ino &&
	    unlinkat(pf->dirfd, pf->name, 0) == -1) {
		err = errno;
		rc = -1;
	}
	pid_close(pf);
	errno = err;
	return rc;
}

/*
 * Gives the file the name it was opened with plus suffix ("" for the
 * name itself), in the same directory: the binary upgrade's
 * PIDFILE.oldbin. The lock is on the file, so it moves with it. Only if
 * the current name still is the file held; a file in the way is
 * replaced (the name is ours: the directive names it). -1 with errno.
 */
int
pid_rename(struct pid_file *pf, const char *suffix)
{
	struct stat	 held, now;
	char		 to[PATH_MAX];

	if (xsnprintf(to, sizeof(to), "%s%s", pf->base, suffix) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (strcmp(to, pf->name) == 0)
		return 0;
	if (fstat(pf->fd, &held) == -1 ||
	    fstatat(pf->dirfd, pf->name, &now, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (held.st_dev != now.st_dev || held.st_ino != now.st_ino) {
		errno = ESTALE;	/* someone put another file there */
		return -1;
	}
	if (renameat(pf->dirfd, pf->name, pf->dirfd, to) == -1)
		return -1;
	(void)strlcpy(pf->name, to, sizeof(pf->name));	/* same size */
	return 0;
}

/* Releases the descriptors without unlinking: a worker's copy. */
void
pid_close(struct pid_file *pf)
{
	(void)close(pf->fd);	/* the lock stays with the master's copy */
	(void)close(pf->dirfd);	/* O_PATH: nothing to flush */
	free(pf);
}

/*
 * The check of tine -t, free of side effects: the pid file would not be
 * refused by pid_open() for a link on the way or its type. Whether its
 * directory lets us create it is config_check_runtime()'s. Returns the
 * number of problems (0 or 1), reported at the directive's line.
 */
int
pid_check(const struct config *conf)
{
	struct stat	 st;
	const char	*why = NULL;
	char		 base[PATH_MAX], shown[PID_SHOWN_BYTES];
	int		 dirfd;

	if (conf->pidfile[0] == '\0')
		return 0;
	if ((dirfd = util_open_safe_dir(conf->pidfile, base, sizeof(base),
	    &why)) == -1) {
		if (errno != ELOOP)
			return 0;	/* the config checks report it */
	} else {
		if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
			why = pid_type_reason(&st);
		(void)close(dirfd);	/* O_PATH: nothing to flush */
		if (why == NULL)
			return 0;
	}
	(void)log_escape(shown, sizeof(shown), conf->pidfile,
	    strlen(conf->pidfile));
	log_config_error(conf->path, conf->pidfile_line, "pidfile \"%s\": %s",
	    shown, why);
	return 1;
}
