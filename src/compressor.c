/*
 * compressor.c: the compressor process (compress on). A child of the
 * master like the workers, as their user, at the lowest CPU and I/O
 * priority. It takes wishes from the workers' queue (compress.c), one
 * at a time, and writes each variant under a temporary name that no
 * worker ever opens, renaming it into place only when it is complete
 * and the file it was made from is unchanged. It keeps the cache within
 * compress_cache_size, least recently used out first; workers tell it
 * what they served. A variant that would not be smaller than the file
 * is recorded as an empty file, so that nobody asks for it again.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/tree.h>

#include <brotli/encode.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "compress.h"
#include "tls.h"
#include "master.h"
#include "sandbox.h"
#include "scoreboard.h"

#define COMPRESSOR_CHUNK	(128 * 1024)	/* read and write size */
/*
 * Highest ratios up to this size; beyond it, brotli 11 and zstd 19 take
 * minutes per file, so larger files get brotli 9 and zstd 15 (still
 * better than gzip -9, at a tenth of the time).
 */
#define COMPRESSOR_BEST_MAX	((off_t)4 * 1024 * 1024)
#define COMPRESSOR_WARN_S	60	/* one line per kind of failure */
#define COMPRESSOR_RETRY_S	10	/* a variant that failed, again after */
#define COMPRESSOR_ROOM_MS	500	/* evicted for room: wait, retry */
#define COMPRESSOR_TOO_BIG_S	3600	/* one larger than the whole cache */
#define COMPRESSOR_FAILED_MAX	4096	/* failures remembered */
/*
 * What an empty "not worth it" file counts for: an inode and a name,
 * so that they too stay within compress_cache_size.
 */
#define COMPRESSOR_MARKER_BYTES	512

/*
 * A variant in the cache, or one that could not be made (retry_at set:
 * not in the LRU list, not counted), so that wishes for it cost nothing
 * until then instead of compressing again to fail again.
 */
struct variant {
	RB_ENTRY(variant)	 node;		/* by name */
	TAILQ_ENTRY(variant)	 lru;		/* least recently used first */
	off_t			 size;		/* as counted */
	time_t			 mtime;		/* order at start-up */
	time_t			 retry_at;	/* 0: made */
	char			 name[COMPRESS_NAME_BYTES];
};

RB_HEAD(variant_tree, variant);
TAILQ_HEAD(variant_lru, variant);

static int
variant_cmp(const struct variant *a, const struct variant *b)
{
	return strcmp(a->name, b->name);
}

/* RB_GENERATE_STATIC's __unused is left undefined by libbsd. */
RB_GENERATE_INTERNAL(variant_tree, variant, node, variant_cmp,
    __attribute__((unused)) static)

static struct {
	const struct config	*conf;
	int			 dirfd;
	int			 qfd;
	struct variant_tree	 tree;
	struct variant_lru	 lru;
	off_t			 bytes;		/* sizes of every variant */
	int64_t			 files;
	int			 nfailed;
	unsigned		 tmp_seq;
	uint32_t		 tmp_salt;	/* apart from other instances */
	char			 tmp[COMPRESS_NAME_BYTES];	/* in progress */
	bool			 off;		/* the cache is not writable */
	time_t			 warned_nospace;
	time_t			 warned_error;
	unsigned char		 in[COMPRESSOR_CHUNK];
	unsigned char		 out[COMPRESSOR_CHUNK];
} cz;

static volatile sig_atomic_t	cz_reopen, cz_tmp_set;

/*
 * Asked to stop: at once, wherever it is, as it has nothing to finish;
 * the temporary file it was writing goes with it (unlinkat() and
 * _exit() may be called here). cz_tmp_set says the name is whole.
 */
static void
compressor_signal(int sig)
{
	if (sig == SIGUSR1) {
		cz_reopen = 1;
		return;
	}
	if (cz_tmp_set)
		(void)unlinkat(cz.dirfd, cz.tmp, 0);
	_exit(0);
}

static void
compressor_check_signals(void)
{
	if (cz_reopen) {
		cz_reopen = 0;
		/* Sandboxed, the master replaces it instead (worker.c). */
		if (cz.conf->sandbox)
			return;
		if (log_open(cz.conf, (uid_t)-1, (gid_t)-1) == -1)
			log_warn("reopen error log");
	}
}

static void
compressor_publish(void)
{
	sb_table->compress_cache_bytes = cz.bytes;
	sb_table->compress_cache_files = cz.files;
}

/* A file's size as the cache counts it. */
static off_t
compressor_counted(off_t size)
{
	return size > 0 ? size : COMPRESSOR_MARKER_BYTES;
}

static void
compressor_add(const char *name, off_t size, time_t mtime)
{
	struct variant	*v;

	if ((v = calloc(1, sizeof(*v))) == NULL) {
		log_warn("calloc");
		return;
	}
	(void)strlcpy(v->name, name, sizeof(v->name));	/* same size */
	v->size = compressor_counted(size);
	v->mtime = mtime;
	if (RB_INSERT(variant_tree, &cz.tree, v) != NULL) {
		free(v);
		return;
	}
	TAILQ_INSERT_TAIL(&cz.lru, v, lru);
	cz.bytes += v->size;
	cz.files++;
}

static void
compressor_remove(struct variant *v)
{
	RB_REMOVE(variant_tree, &cz.tree, v);
	if (v->retry_at == 0) {
		TAILQ_REMOVE(&cz.lru, v, lru);
		cz.bytes -= v->size;
		cz.files--;
	} else
		cz.nfailed--;
	free(v);
}

/* Failures are forgotten all at once when there are too many. */
static void
compressor_forget_failures(void)
{
	struct variant	*v, *next;

	for (v = RB_MIN(variant_tree, &cz.tree); v != NULL; v = next) {
		next = RB_NEXT(variant_tree, &cz.tree, v);
		if (v->retry_at != 0)
			compressor_remove(v);
	}
}

/* name could not be made: not tried again for secs. */
static void
compressor_failed(const char *name, time_t secs)
{
	struct variant	*v;

	if (cz.nfailed >= COMPRESSOR_FAILED_MAX)
		compressor_forget_failures();
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return;
	(void)strlcpy(v->name, name, sizeof(v->name));	/* same size */
	v->retry_at = time(NULL) + secs;
	if (RB_INSERT(variant_tree, &cz.tree, v) != NULL) {
		free(v);
		return;
	}
	cz.nfailed++;
}

/*
 * Least recently used out until the cache fits. A worker that holds an
 * evicted variant open serves it until it next looks (it is still the
 * right bytes); the space returns when it lets go.
 */
static void
compressor_evict(void)
{
	struct variant	*v;

	while (cz.bytes > cz.conf->compress_cache_size &&
	    (v = TAILQ_FIRST(&cz.lru)) != NULL) {
		if (unlinkat(cz.dirfd, v->name, 0) == -1 && errno != ENOENT) {
			log_warn("compress_cache: unlink %s", v->name);
			return;
		}
		compressor_remove(v);
		sb_table->compress_evicted++;
	}
	compressor_publish();
}

static struct variant *
compressor_find(const char *name)
{
	struct variant	 key;

	(void)strlcpy(key.name, name, sizeof(key.name));
	return RB_FIND(variant_tree, &cz.tree, &key);
}

/* "v-" then hexadecimal digits and dashes, then ".br", ".zst", ".gz". */
static bool
compressor_is_variant_name(const char *name)
{
	const char	*dot;
	size_t		 len;

	if (strncmp(name, "v-", 2) != 0 || (dot = strrchr(name, '.')) ==
	    NULL)
		return false;
	len = (size_t)(dot - name) - 2;
	if (len == 0 || strspn(name + 2, "0123456789abcdef-") != len)
		return false;
	return strcmp(dot, ".br") == 0 || strcmp(dot, ".zst") == 0 ||
	    strcmp(dot, ".gz") == 0;
}

static int
compressor_mtime_cmp(const void *a, const void *b)
{
	const struct variant *const *x = a, *const *y = b;

	return ((*x)->mtime > (*y)->mtime) - ((*x)->mtime < (*y)->mtime);
}

/*
 * A temporary file whose writer is gone: each writer holds a lock on
 * its own while it writes, so one that can be locked was left by a
 * compressor that died (another instance's, in progress, is kept).
 */
static void
compressor_remove_stale_tmp(const char *name)
{
	int	 fd;

	fd = openat(cz.dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		(void)unlinkat(cz.dirfd, name, 0);
	(void)close(fd);
}

/*
 * What a cache holds at start: variants an earlier compressor made, in
 * the order they were made; temporary files one left when it was killed
 * are removed. Files of any other name are left alone.
 */
static void
compressor_scan(void)
{
	struct variant	**all, *v;
	struct dirent	 *de;
	struct stat	  st;
	DIR		 *d;
	size_t		  i, n;
	int		  fd;

	/*
	 * A new open, not dup(): a duplicate shares the directory offset
	 * with every process that inherited the master's descriptor, and
	 * the compressor before this one left it at the end.
	 */
	if ((fd = openat(cz.dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		log_warn("compress_cache: scan");
		if (fd != -1)
			(void)close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "t-", 2) == 0) {
			compressor_remove_stale_tmp(de->d_name);
			continue;
		}
		if (!compressor_is_variant_name(de->d_name) ||
		    strlen(de->d_name) >= COMPRESS_NAME_BYTES ||
		    fstatat(cz.dirfd, de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode) ||
		    st.st_uid != geteuid() || st.st_nlink != 1)
			continue;
		compressor_add(de->d_name, st.st_size, st.st_mtime);
	}
	(void)closedir(d);
	/* Oldest first: re-queue in the order the files were made. */
	if (cz.files == 0 || (all = calloc((size_t)cz.files,
	    sizeof(*all))) == NULL)
		goto done;
	n = 0;
	TAILQ_FOREACH(v, &cz.lru, lru)
		all[n++] = v;
	qsort(all, n, sizeof(*all), compressor_mtime_cmp);
	TAILQ_INIT(&cz.lru);
	for (i = 0; i < n; i++)
		TAILQ_INSERT_TAIL(&cz.lru, all[i], lru);
	free(all);
done:
	compressor_evict();
}

static int
compressor_write(int fd, const unsigned char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		compressor_check_signals();
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The next chunk of the file: bytes read, 0 at its end, -1 on error. */
static ssize_t
compressor_read(int fd, off_t off, off_t size)
{
	size_t	 want;
	ssize_t	 n;

	if (off >= size)
		return 0;
	want = size - off < (off_t)sizeof(cz.in) ? (size_t)(size - off) :
	    sizeof(cz.in);
	for (;;) {
		compressor_check_signals();
		n = pread(fd, cz.in, want, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0)
			errno = ESTALE;	/* shrank: the file changed */
		return n == 0 ? -1 : n;
	}
}

static int
compressor_gzip(int in, off_t size, int out)
{
	z_stream	 z;
	ssize_t		 n;
	off_t		 off = 0;
	int		 flush, rc = -1;

	memset(&z, 0, sizeof(z));
	/* 15 + 16: the largest window, with a gzip wrapper (RFC 1952). */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	do {
		if ((n = compressor_read(in, off, size)) == -1)
			goto done;
		off += n;
		z.next_in = cz.in;
		z.avail_in = (uInt)n;
		flush = off >= size ? Z_FINISH : Z_NO_FLUSH;
		do {
			z.next_out = cz.out;
			z.avail_out = sizeof(cz.out);
			if (deflate(&z, flush) == Z_STREAM_ERROR)
				goto done;
			if (compressor_write(out, cz.out,
			    sizeof(cz.out) - z.avail_out) == -1)
				goto done;
		} while (z.avail_out == 0);
	} while (flush != Z_FINISH);
	rc = 0;
done:
	(void)deflateEnd(&z);
	return rc;
}

static int
compressor_brotli(int in, off_t size, int out)
{
	BrotliEncoderState	*s;
	const uint8_t		*next_in;
	uint8_t			*next_out;
	size_t			 avail_in, avail_out;
	ssize_t			 n;
	off_t			 off = 0;
	BrotliEncoderOperation	 op;
	int			 rc = -1;

	if ((s = BrotliEncoderCreateInstance(NULL, NULL, NULL)) == NULL)
		return -1;
	(void)BrotliEncoderSetParameter(s, BROTLI_PARAM_QUALITY,
	    size <= COMPRESSOR_BEST_MAX ? BROTLI_MAX_QUALITY : 9);
	(void)BrotliEncoderSetParameter(s, BROTLI_PARAM_LGWIN,
	    BROTLI_MAX_WINDOW_BITS);
	(void)BrotliEncoderSetParameter(s, BROTLI_PARAM_SIZE_HINT,
	    size > UINT32_MAX ? UINT32_MAX : (uint32_t)size);
	do {
		if ((n = compressor_read(in, off, size)) == -1)
			goto done;
		off += n;
		next_in = cz.in;
		avail_in = (size_t)n;
		op = off >= size ? BROTLI_OPERATION_FINISH :
		    BROTLI_OPERATION_PROCESS;
		do {
			next_out = cz.out;
			avail_out = sizeof(cz.out);
			if (!BrotliEncoderCompressStream(s, op, &avail_in,
			    &next_in, &avail_out, &next_out, NULL))
				goto done;
			if (compressor_write(out, cz.out,
			    sizeof(cz.out) - avail_out) == -1)
				goto done;
		} while (avail_in > 0 || BrotliEncoderHasMoreOutput(s) ||
		    (op == BROTLI_OPERATION_FINISH &&
		    !BrotliEncoderIsFinished(s)));
	} while (op != BROTLI_OPERATION_FINISH);
	rc = 0;
done:
	BrotliEncoderDestroyInstance(s);
	return rc;
}

static int
compressor_zstd(int in, off_t size, int out)
{
	ZSTD_CCtx	*cc;
	ZSTD_inBuffer	 ib;
	ZSTD_outBuffer	 ob;
	ZSTD_EndDirective mode;
	ssize_t		 n;
	size_t		 left;
	off_t		 off = 0;
	int		 rc = -1;

	if ((cc = ZSTD_createCCtx()) == NULL)
		return -1;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel,
	    size <= COMPRESSOR_BEST_MAX ? 19 : 15)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cc,
	    (unsigned long long)size)))
		goto done;
	do {
		if ((n = compressor_read(in, off, size)) == -1)
			goto done;
		off += n;
		ib.src = cz.in;
		ib.size = (size_t)n;
		ib.pos = 0;
		mode = off >= size ? ZSTD_e_end : ZSTD_e_continue;
		do {
			ob.dst = cz.out;
			ob.size = sizeof(cz.out);
			ob.pos = 0;
			left = ZSTD_compressStream2(cc, &ob, &ib, mode);
			if (ZSTD_isError(left))
				goto done;
			if (compressor_write(out, cz.out, ob.pos) == -1)
				goto done;
		} while (mode == ZSTD_e_end ? left != 0 : ib.pos < ib.size);
	} while (mode != ZSTD_e_end);
	rc = 0;
done:
	ZSTD_freeCCtx(cc);
	return rc;
}

/* A cache that cannot be written: said once, and compression stops. */
static void
compressor_cannot_write(const char *what)
{
	char	 esc[PATH_MAX];

	(void)log_escape(esc, sizeof(esc), cz.conf->compress_cache,
	    strlen(cz.conf->compress_cache));
	log_warnx("compress_cache %s: %s: %s; compression is off until "
	    "the next reload", esc, what, strerror(errno));
	cz.off = true;
	sb_table->compress_off = 1;
}

/* Other failures: one line per COMPRESSOR_WARN_S of each kind. */
static void
compressor_warn(time_t *last, const char *what)
{
	time_t	 now = time(NULL);

	if (*last != 0 && now - *last < COMPRESSOR_WARN_S && now >= *last)
		return;
	*last = now;
	log_warnx("compress_cache: %s: %s; not made for now", what,
	    strerror(errno));
}

/*
 * A temporary file of its own: a name no other instance (another
 * master's compressor sharing the cache) can have, created new, and
 * locked while it is written (compressor_remove_stale_tmp()).
 */
static int
compressor_tmp(void)
{
	int	 fd, tries;

	for (tries = 0; tries < 3; tries++) {
		cz_tmp_set = 0;
		(void)xsnprintf(cz.tmp, sizeof(cz.tmp), "t-%ld-%08x-%u",
		    (long)getpid(), cz.tmp_salt, cz.tmp_seq++); /* fits */
		cz_tmp_set = 1;
		fd = openat(cz.dirfd, cz.tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd != -1) {
			(void)flock(fd, LOCK_EX | LOCK_NB);
			return fd;
		}
		if (errno != EEXIST)
			break;
	}
	cz_tmp_set = 0;
	return -1;
}

static void
compressor_drop_tmp(void)
{
	int	 saved = errno;

	(void)unlinkat(cz.dirfd, cz.tmp, 0);
	cz_tmp_set = 0;
	errno = saved;
}

/*
 * Writes coding's variant of in to a temporary file and renames it to
 * name: 0 when done (*counted: its size as the cache counts it), 1 when
 * the file changed meanwhile (nothing kept), -1 with errno.
 */
static int
compressor_write_variant(int in, const struct stat *st,
    enum http_coding coding, const char *name, off_t *counted)
{
	struct stat	 after, vst;
	int		 out, rc;

	if ((out = compressor_tmp()) == -1)
		return -1;
	switch (coding) {
	case HTTP_CODING_BR:
		rc = compressor_brotli(in, st->st_size, out);
		break;
	case HTTP_CODING_ZSTD:
		rc = compressor_zstd(in, st->st_size, out);
		break;
	default:
		rc = compressor_gzip(in, st->st_size, out);
		break;
	}
	if (rc == 0 && fstat(out, &vst) == -1)
		rc = -1;
	if (close(out) == -1)
		rc = -1;
	/*
	 * Not smaller: an empty file says so, and nothing is served. A new
	 * one, not this one truncated: ftruncate is not among the calls
	 * the compressor may make (it holds the logs' descriptors).
	 */
	if (rc == 0 && vst.st_size >= st->st_size) {
		compressor_drop_tmp();
		if ((out = compressor_tmp()) == -1 || close(out) == -1)
			rc = -1;
		vst.st_size = 0;
	}
	/* Changed while read: what was made may mix two versions. */
	if (rc == 0 && (fstat(in, &after) == -1 ||
	    !util_same_file(st, &after)))
		rc = 1;
	/* Larger than the whole cache: never kept. */
	if (rc == 0 && compressor_counted(vst.st_size) >
	    cz.conf->compress_cache_size) {
		errno = EFBIG;
		rc = -1;
	}
	if (rc == 0 && renameat(cz.dirfd, cz.tmp, cz.dirfd, name) == -1)
		rc = -1;
	if (rc != 0) {
		compressor_drop_tmp();
		return rc;
	}
	cz_tmp_set = 0;
	*counted = vst.st_size;
	return 0;
}

/* Least recently used out until about bytes more would fit. */
static bool
compressor_make_room(off_t bytes)
{
	struct variant	*v;
	off_t		 freed = 0;

	while (freed < bytes && (v = TAILQ_FIRST(&cz.lru)) != NULL) {
		if (unlinkat(cz.dirfd, v->name, 0) == -1 && errno != ENOENT)
			break;
		freed += v->size;
		compressor_remove(v);
		sb_table->compress_evicted++;
	}
	compressor_publish();
	return freed > 0;
}

/* Whether the variant named is still what a worker takes. */
static bool
compressor_intact(const char *name)
{
	struct stat	 st;

	return fstatat(cz.dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && st.st_nlink == 1 &&
	    st.st_uid == geteuid();
}

/* Makes one variant of the file in, unless it exists or just failed. */
static void
compressor_make(int in, const struct stat *st, enum http_coding coding)
{
	struct variant	*v;
	char		 name[COMPRESS_NAME_BYTES];
	off_t		 size;
	int		 tries, rc;

	if (compress_name(name, sizeof(name), st, coding) == -1)
		return;
	if ((v = compressor_find(name)) != NULL) {
		if (v->retry_at != 0 && time(NULL) < v->retry_at)
			return;
		/* Made, and intact: a wish from another worker. */
		if (v->retry_at == 0 && compressor_intact(name))
			return;
		compressor_remove(v);	/* failed long ago, or tampered */
	}
	for (tries = 0; tries < 2; tries++) {
		rc = compressor_write_variant(in, st, coding, name, &size);
		if (rc == 1)
			return;
		if (rc == 0) {
			compressor_add(name, size, time(NULL));
			sb_table->compress_made++;
			compressor_evict();
			return;
		}
		if ((errno == ENOSPC || errno == EDQUOT) && tries == 0 &&
		    compressor_make_room(st->st_size / 2 + 65536)) {
			/*
			 * Room made; workers let go of what was evicted at
			 * their next request for a covered file (compress.c),
			 * which is when the space returns. Then once more.
			 */
			(void)poll(NULL, 0, COMPRESSOR_ROOM_MS);
			continue;
		}
		break;
	}
	switch (errno) {
	case EACCES:
	case EPERM:
	case EROFS:
		compressor_cannot_write("create");
		return;
	case ENOSPC:
	case EDQUOT:
		compressor_warn(&cz.warned_nospace, "no space");
		break;
	case EFBIG:
		compressor_failed(name, COMPRESSOR_TOO_BIG_S);
		return;
	default:
		compressor_warn(&cz.warned_error, name);
		break;
	}
	compressor_failed(name, COMPRESSOR_RETRY_S);
}

static void
compressor_wish(int fd, const struct compress_msg *m)
{
	struct stat	 st;
	int		 i;

	/*
	 * The name comes from the descriptor's own identity, never from
	 * the message: a worker cannot file one file's variant under
	 * another's name. The message must agree, or the file changed.
	 */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_dev != m->dev || (uint64_t)st.st_ino != m->ino ||
	    st.st_size != m->size || st.st_mtim.tv_sec != m->mtime_sec ||
	    st.st_mtim.tv_nsec != m->mtime_nsec ||
	    st.st_ctim.tv_sec != m->ctime_sec ||
	    st.st_ctim.tv_nsec != m->ctime_nsec || st.st_size == 0 ||
	    (size_t)st.st_size > COMPRESS_FILE_MAX_BYTES)
		return;
	for (i = HTTP_CODING_BR; i < HTTP_CODING_COUNT && !cz.off; i++)
		if ((m->codings & (1u << i)) != 0)
			compressor_make(fd, &st, i);
}

/* Served: to the end of the eviction order. */
static void
compressor_used(const struct compress_msg *m)
{
	struct variant	*v;
	struct stat	 st;
	char		 name[COMPRESS_NAME_BYTES];
	int		 i;

	memset(&st, 0, sizeof(st));
	st.st_dev = (dev_t)m->dev;
	st.st_ino = (ino_t)m->ino;
	st.st_size = (off_t)m->size;
	st.st_mtim.tv_sec = (time_t)m->mtime_sec;
	st.st_mtim.tv_nsec = (long)m->mtime_nsec;
	st.st_ctim.tv_sec = (time_t)m->ctime_sec;
	st.st_ctim.tv_nsec = (long)m->ctime_nsec;
	for (i = HTTP_CODING_BR; i < HTTP_CODING_COUNT; i++) {
		if ((m->codings & (1u << i)) == 0 ||
		    compress_name(name, sizeof(name), &st, i) == -1 ||
		    (v = compressor_find(name)) == NULL || v->retry_at != 0)
			continue;
		TAILQ_REMOVE(&cz.lru, v, lru);
		TAILQ_INSERT_TAIL(&cz.lru, v, lru);
	}
}

/* One message; any descriptor it carries is closed here. */
static void
compressor_receive(void)
{
	struct compress_msg	 m;
	struct msghdr		 msg;
	struct iovec		 iov;
	struct cmsghdr		*h;
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(4 * sizeof(int))];
	}			 cm;
	ssize_t			 n;
	size_t			 i, nfd;
	int			 fds[4], fd = -1;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &m;
	iov.iov_len = sizeof(m);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	if ((n = recvmsg(cz.qfd, &msg, MSG_CMSG_CLOEXEC)) == -1) {
		if (errno != EINTR)
			log_warn("compressor: recvmsg");
		return;
	}
	for (h = CMSG_FIRSTHDR(&msg); h != NULL; h = CMSG_NXTHDR(&msg, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfd > nitems(fds))
			nfd = nitems(fds);
		memcpy(fds, CMSG_DATA(h), nfd * sizeof(int));
		for (i = 0; i < nfd; i++) {
			if (fd == -1)
				fd = fds[i];
			else
				(void)close(fds[i]);	/* one is all */
		}
	}
	if (n == (ssize_t)sizeof(m) && (msg.msg_flags & MSG_TRUNC) == 0) {
		if (m.kind == COMPRESS_WISH && fd != -1 && !cz.off)
			compressor_wish(fd, &m);
		else if (m.kind == COMPRESS_USED)
			compressor_used(&m);
	}
	if (fd != -1)
		(void)close(fd);
}

/*
 * Lowest priority for CPU (SCHED_IDLE: only when nothing else runs, on
 * top of nice 19) and for I/O (the idle class), so that compressing
 * never takes from serving. Each is best effort.
 */
static void
compressor_lower_priority(void)
{
	struct sched_param	 sp;

	memset(&sp, 0, sizeof(sp));
	(void)setpriority(PRIO_PROCESS, 0, 19);
	(void)sched_setscheduler(0, SCHED_IDLE, &sp);
	/* IOPRIO_WHO_PROCESS, IOPRIO_CLASS_IDLE: no glibc wrapper. */
	(void)syscall(SYS_ioprio_set, 1, 0, 3 << 13);
}

void
compressor_main(struct config *conf, const struct worker_ids *ids)
{
	static const int	 sigs[] = { SIGTERM, SIGQUIT, SIGINT, SIGUSR1 };
	struct sigaction	 sa;
	struct listener		*l;
	sigset_t		 none;
	size_t			 i;

	log_set_role("compressor");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = compressor_signal;
	sigfillset(&sa.sa_mask);
	for (i = 0; i < nitems(sigs); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1)
			_exit(WORKER_EXIT_FATAL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)sigaction(SIGTTIN, &sa, NULL);
	(void)sigaction(SIGTTOU, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGCHLD, &sa, NULL);
	/* It serves no one: no listener, no private key. */
	TAILQ_FOREACH(l, &conf->listeners, entry)
		if (l->fd != -1)
			(void)close(l->fd);
	if (conf->tls != NULL && conf->tls_free != NULL) {
		conf->tls_free(conf->tls);
		conf->tls = NULL;
	}
	tls_tickets_release();
	compress_worker_close_send();
	cz.conf = conf;
	cz.dirfd = conf->compress_dirfd;
	cz.qfd = compress_queue_recv_fd();
	cz.tmp_salt = arc4random();
	RB_INIT(&cz.tree);
	TAILQ_INIT(&cz.lru);
	compressor_lower_priority();
	worker_drop_privileges(ids);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		log_warn("PR_SET_NO_NEW_PRIVS");
	/*
	 * It goes with the master (set after the change of user, which
	 * clears it): nothing else would end it, as it holds the queue's
	 * both ends. A master already gone is seen by getppid().
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == -1)
		log_warn("PR_SET_PDEATHSIG");
	if (getppid() != compress_master)
		_exit(0);
	sandbox_enter(conf, SANDBOX_COMPRESSOR, NULL, 0,
	    &sb_table->compressor_sandbox_call);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		_exit(WORKER_EXIT_FATAL);
	setproctitle("compressor");
	if (cz.dirfd == -1 || cz.qfd == -1)
		_exit(WORKER_EXIT_FATAL);
	compressor_scan();
	for (;;) {
		compressor_check_signals();
		compressor_receive();
	}
}
