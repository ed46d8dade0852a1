/*
 * compress.c: the side of compress on that the master and the workers
 * run (compress.h); the compressor process itself is compressor.c.
 *
 * A variant is found by name only: the cache directory's descriptor was
 * opened by the master, the name holds no slash, and the open refuses a
 * symbolic link. A file there is taken only if the compressor's user
 * (the workers' own) owns it, it has one link and is a regular file; an
 * empty one is the compressor's note that a coding did not make the
 * file smaller. Partial variants have other names (compressor.c) and
 * are renamed into place only when complete, so none is ever served.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "compress.h"
#include "scoreboard.h"

static int	compress_q[2] = { -1, -1 };	/* [0] workers send, [1] the
						   compressor receives */

static const char *const compress_ext[HTTP_CODING_COUNT] = {
	[HTTP_CODING_BR] = "br",
	[HTTP_CODING_ZSTD] = "zst",
	[HTTP_CODING_GZIP] = "gz",
};

/*
 * A datagram socket pair: each wish is one message, whole or not at
 * all, from any number of workers. The small send buffer bounds what
 * waits (and the descriptors in flight); past it a send fails at once.
 */
pid_t	compress_master;	/* the master's pid, kept before any fork */

int
compress_queue_init(void)
{
	int	 sz = COMPRESS_QUEUE_BYTES;

	compress_master = getpid();
	if (compress_q[0] != -1)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    compress_q) == -1)
		return -1;
	if (setsockopt(compress_q[0], SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)) == -1 ||
	    util_set_nonblock(compress_q[0], true) == -1) {
		(void)close(compress_q[0]);
		(void)close(compress_q[1]);
		compress_q[0] = compress_q[1] = -1;
		return -1;
	}
	return 0;
}

int
compress_queue_recv_fd(void)
{
	return compress_q[1];
}

int
compress_queue_send_fd(void)
{
	return compress_q[0];
}

void
compress_worker_close_send(void)
{
	if (compress_q[0] != -1)
		(void)close(compress_q[0]);
	compress_q[0] = -1;
}

void
compress_worker_init(void)
{
	if (compress_q[1] != -1)
		(void)close(compress_q[1]);
	compress_q[1] = -1;
}

/* Logs why the cache cannot be used; compression stays off. */
static void
compress_cache_off(struct config *conf, int fd, const char *why)
{
	char	 esc[PATH_MAX];

	(void)log_escape(esc, sizeof(esc), conf->compress_cache,
	    strlen(conf->compress_cache));
	log_warnx("compress_cache %s: %s; compression is off", esc, why);
	if (fd != -1)
		(void)close(fd);
	conf->compress_dirfd = -1;
}

/*
 * An empty directory of root's that only root may enter (the one just
 * made, or the one `make install` and a package leave) is handed to the
 * workers' user; a directory with files in it is never taken over, so
 * a mistyped compress_cache cannot give away /var/cache.
 */
static bool
compress_adopt(int fd, const struct stat *st, const struct worker_ids *ids)
{
	struct dirent	*de;
	DIR		*d;
	int		 dfd;
	bool		 empty = true;

	if (!ids->drop || st->st_uid != 0 || st->st_uid == ids->uid ||
	    geteuid() != 0 || (st->st_mode & 077) != 0)
		return false;
	if ((dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || (d = fdopendir(dfd)) == NULL) {
		if (dfd != -1)
			(void)close(dfd);
		return false;
	}
	while (empty && (de = readdir(d)) != NULL)
		empty = strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0;
	(void)closedir(d);
	return empty && fchown(fd, ids->uid, ids->gid) == 0;
}

/*
 * The directory is made here, as the master, for the workers' user with
 * mode 0700. An existing one must be a directory (not a link to one)
 * owned by that user and writable by nobody else: the compressor
 * deletes files there to keep within compress_cache_size, so a shared
 * directory such as /tmp is refused, not used.
 */
void
compress_open_cache(struct config *conf, const struct worker_ids *ids)
{
	struct stat	 st;
	uid_t		 uid = ids->drop ? ids->uid : geteuid();
	int		 fd;

	conf->compress_dirfd = -1;
	if (!conf->compress_any)
		return;
	/*
	 * Made (root's, 0700), then opened without following a link and
	 * handed over through the descriptor: a chown by path could be
	 * sent elsewhere by a link put in its place meanwhile.
	 */
	if (mkdir(conf->compress_cache, 0700) == -1 && errno != EEXIST) {
		compress_cache_off(conf, -1, strerror(errno));
		return;
	}
	fd = open(conf->compress_cache, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1) {
		compress_cache_off(conf, -1, errno == ELOOP || errno ==
		    ENOTDIR ? "not a directory" : strerror(errno));
		return;
	}
	if (fstat(fd, &st) == -1) {
		compress_cache_off(conf, fd, strerror(errno));
		return;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		compress_cache_off(conf, fd, "writable by other users");
		return;
	}
	if (st.st_uid != uid && !compress_adopt(fd, &st, ids)) {
		compress_cache_off(conf, fd, "not owned by the workers' user");
		return;
	}
	conf->compress_dirfd = fd;
}

/*
 * "v-DEV-INO-SIZE-MSEC-MNSEC-CSEC-CNSEC.EXT", hexadecimal. The change
 * time is in it because the modification time can be set back: cp -p
 * or rsync -t onto a file of the same size would otherwise keep the
 * old variant's name.
 */
int
compress_name(char *buf, size_t size, const struct stat *st,
    enum http_coding coding)
{
	if (coding <= HTTP_CODING_IDENTITY || coding >= HTTP_CODING_COUNT)
		return -1;
	return xsnprintf(buf, size, "v-%jx-%jx-%jx-%jx-%lx-%jx-%lx.%s",
	    (uintmax_t)st->st_dev, (uintmax_t)st->st_ino,
	    (uintmax_t)st->st_size, (uintmax_t)st->st_mtim.tv_sec,
	    (unsigned long)st->st_mtim.tv_nsec,
	    (uintmax_t)st->st_ctim.tv_sec,
	    (unsigned long)st->st_ctim.tv_nsec, compress_ext[coding]);
}

/* Whether type, without its parameters, is in compress_types. */
static bool
compress_type_listed(const struct config *conf, const char *type)
{
	size_t	 len;
	int	 i;

	if (type == NULL)
		return false;
	len = strcspn(type, "; \t");
	for (i = 0; i < conf->ncompress_types; i++)
		if (strlen(conf->compress_types[i]) == len &&
		    strncasecmp(conf->compress_types[i], type, len) == 0)
			return true;
	return false;
}

bool
compress_covers(const struct config *conf, struct cache_entry *e)
{
	if (e->covered == 0)
		e->covered = e->st.st_size >= (off_t)conf->compress_min_size &&
		    (size_t)e->st.st_size <= COMPRESS_FILE_MAX_BYTES &&
		    compress_type_listed(conf, e->type) ? 1 : -1;
	return e->covered == 1;
}

/* One message to the compressor, never waiting; fd passed if not -1. */
static void
compress_send(const struct cache_entry *e, enum compress_kind kind,
    unsigned codings, int fd)
{
	struct compress_msg	 m;
	struct msghdr		 msg;
	struct iovec		 iov;
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(sizeof(int))];
	}			 cm;

	if (compress_q[0] == -1)
		return;
	memset(&m, 0, sizeof(m));
	m.kind = kind;
	m.codings = codings;
	m.dev = e->st.st_dev;
	m.ino = e->st.st_ino;
	m.size = e->st.st_size;
	m.mtime_sec = e->st.st_mtim.tv_sec;
	m.mtime_nsec = e->st.st_mtim.tv_nsec;
	m.ctime_sec = e->st.st_ctim.tv_sec;
	m.ctime_nsec = e->st.st_ctim.tv_nsec;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &m;
	iov.iov_len = sizeof(m);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cm.h), &fd, sizeof(int));
	}
	/* Full, or no compressor: the wish is dropped, not waited on. */
	if (sendmsg(compress_q[0], &msg, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    -1 && kind == COMPRESS_WISH && sb_self != NULL)
		sb_self->compress_dropped++;
}

/*
 * Opens e's variant in one coding: 1 when held, 0 when there is none
 * (not made yet), -1 when the compressor found it not worth making.
 */
static int
compress_open_variant(const struct config *conf, struct cache_entry *e,
    enum http_coding coding)
{
	struct cache_variant	*v = &e->var[coding];
	struct stat		 st;
	char			 name[COMPRESS_NAME_BYTES];
	size_t			 len;
	int			 fd;

	if (compress_name(name, sizeof(name), &e->st, coding) == -1)
		return 0;
	fd = openat(conf->compress_dirfd, name, O_RDONLY | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return 0;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1 || st.st_uid != geteuid()) {
		(void)close(fd);
		return 0;
	}
	if (st.st_size == 0) {
		(void)close(fd);
		return -1;
	}
	/* The file's ETag with the coding inside the quotes. */
	len = strlen(e->etag);
	if (len < 2 || xsnprintf(v->etag, sizeof(v->etag), "%.*s-%s\"",
	    (int)(len - 1), e->etag, compress_ext[coding]) == -1) {
		(void)close(fd);
		return 0;
	}
	v->fd = fd;
	v->size = st.st_size;
	e->var_open |= 1u << coding;
	return 1;
}

/*
 * Tells the compressor which variants of e were served, so that they go
 * to the end of its eviction order: at once for the first use in a
 * second, the rest with the next look. At most one message a second per
 * file and worker, and none on the way of a request that needs none.
 */
void
compress_tell_used(struct cache_entry *e, int64_t now)
{
	if (e->var_served == 0 || (e->var_told_ms != 0 &&
	    now >= e->var_told_ms && now - e->var_told_ms < COMPRESS_LOOK_MS))
		return;
	compress_send(e, COMPRESS_USED, e->var_served, -1);
	e->var_served = 0;
	e->var_told_ms = now;
}

unsigned
compress_variants(const struct config *conf, struct cache_entry *e,
    int64_t now)
{
	static uint64_t	 evicted;	/* the compressor's count, seen */
	unsigned	 missing = 0;
	int		 i;

	if (conf->compress_dirfd == -1)
		return 0;
	/* One load when nothing was evicted: the hot path stays cheap. */
	if (sb_table != NULL && sb_table->compress_evicted != evicted) {
		evicted = sb_table->compress_evicted;
		cache_drop_unlinked_variants();
	}
	if (e->var_looked_ms != 0 && now >= e->var_looked_ms &&
	    now - e->var_looked_ms < COMPRESS_LOOK_MS)
		return e->var_open;
	e->var_looked_ms = now;
	compress_tell_used(e, now);
	for (i = HTTP_CODING_BR; i < HTTP_CODING_COUNT; i++) {
		if ((e->var_open | e->var_none) & (1u << i))
			continue;
		switch (compress_open_variant(conf, e, i)) {
		case 0:
			missing |= 1u << i;
			break;
		case -1:
			e->var_none |= 1u << i;
			break;
		}
	}
	/* A compressor that cannot write its cache: what is there serves. */
	if (missing != 0 && e->fd != -1 && (sb_table == NULL ||
	    !sb_table->compress_off))
		compress_send(e, COMPRESS_WISH, missing, e->fd);
	return e->var_open;
}
