/*
 * cache.h: a worker's open-file cache. A request path that resolved to a
 * regular file keeps its descriptor, stat, ETag, Last-Modified text and
 * type, and small settled files their bytes, so that a repeated request
 * costs no open, stat or file read. Entries are revalidated at most once
 * a second against a fresh resolution of the path beneath root (device,
 * inode, size, mtime, ctime), so a replaced, changed or deleted file is
 * seen within a second. Bounded: CACHE_ENTRIES descriptors and
 * CACHE_DATA_BYTES of file bytes per worker.
 */
#ifndef CACHE_H
#define CACHE_H

#include <sys/stat.h>

#include "tine.h"
#include "file.h"
#include "http.h"

#define CACHE_ENTRIES		64
#define CACHE_PATH_BYTES	256	/* longer paths are not cached */
#define CACHE_SMALL_BYTES	(16 * 1024)	/* bytes kept in memory */
#define CACHE_DATA_BYTES	(64 * 1024)	/* memory for all of them */
#define CACHE_CHECK_MS		1000	/* revalidation interval */
#define CACHE_IDLE_MS		2000	/* an idle worker lets go after */
#define CACHE_SETTLE_S		2	/* changed more recently: no bytes */
#define CACHE_ETAG_BYTES	64
#define CACHE_DATE_BYTES	32	/* an IMF-fixdate and its NUL */
#define CACHE_RETRY_AFTER_S	1	/* Retry-After of a 503 for lack of
					   descriptors */
#define CACHE_EMFILE_LOG_S	1	/* one report of it per interval */

/* A variant compress made of the entry's file (compress.c). */
struct cache_variant {
	int		 fd;		/* when its bit is in var_open */
	off_t		 size;
	char		 etag[CACHE_ETAG_BYTES];	/* the file's, tagged */
};

struct cache_entry {
	bool		 live;			/* false: slot free */
	bool		 absent;		/* no such file (fd -1): a
						   sibling looked for */
	char		 key[CACHE_PATH_BYTES];	/* normalised request path */
	char		 path[CACHE_PATH_BYTES];	/* the file it names */
	int		 fd;
	struct stat	 st;
	char		 etag[CACHE_ETAG_BYTES];
	char		 last_modified[CACHE_DATE_BYTES]; /* of st_mtime */
	const char	*type;
	char		*data;			/* NULL: not in memory */
	size_t		 datalen;
	int64_t		 checked_ms;
	uint64_t	 used;			/* LRU clock */
	/*
	 * Variants (compress on), bits 1 << HTTP_CODING_*. All zero in a
	 * new entry: nothing looked for yet. Dropped with the entry, so a
	 * changed file never keeps the variants of what it was.
	 */
	struct cache_variant var[HTTP_CODING_COUNT];
	unsigned	 var_open;		/* held open in var[] */
	unsigned	 var_none;		/* not worth it: none made */
	unsigned	 var_served;		/* not yet told */
	int64_t		 var_looked_ms;		/* 0: never */
	int64_t		 var_told_ms;		/* last use told; 0: never */
	int8_t		 covered;		/* 0 unknown, 1 yes, -1 no */
};

/* A fresh (checked within CACHE_CHECK_MS) entry for key, or NULL. */
struct cache_entry	*cache_get(const char *, int64_t);
/*
 * Records that key names no regular file, for CACHE_CHECK_MS: a missing
 * precompressed sibling then costs no system call per request.
 */
void			 cache_put_absent(const char *, int64_t);
/* The entry for key, fresh or not, or NULL. */
struct cache_entry	*cache_peek(const char *);
/*
 * Stores the regular file fd (ownership passes to the cache on success)
 * with st for key; path is the file it resolved to. Returns the entry or
 * NULL (path too long: the caller keeps the fd).
 */
struct cache_entry	*cache_put(const char *, const char *, int,
			    const struct stat *, int64_t);
/*
 * Revalidates e against a fresh resolution (fd and st of the same key):
 * same file (device, inode, size, mtime, ctime) keeps the entry and
 * closes fd; else the entry is replaced by it. Returns the entry, or
 * NULL when the new path is too long to cache (the entry is dropped, fd
 * stays the caller's).
 */
struct cache_entry	*cache_refresh(struct cache_entry *, const char *, int,
			    const struct stat *, int64_t);
/*
 * Fills e (outside the table, no bytes in memory) to describe the file
 * fd, st, path for one response: what an uncacheable file is served from.
 * The fd stays the caller's.
 */
void			 cache_describe(struct cache_entry *, const char *, int,
			    const struct stat *);
void			 cache_drop(struct cache_entry *);
/* Lets go of held variants that were unlinked (evicted). */
void			 cache_drop_unlinked_variants(void);
void			 cache_clear(void);
/* Whether any entry holds a file open. */
bool			 cache_holds_files(void);
/*
 * file_resolve() with what the cache can do when the process is out of
 * descriptors (503): release every cached one and resolve once more.
 * *stale (the entry cache_peek() gave for this path, or NULL) is set to
 * NULL when the entries were released. A 503 that remains is logged at
 * most once per CACHE_EMFILE_LOG_S; the caller answers it with
 * Retry-After: CACHE_RETRY_AFTER_S.
 */
int			 cache_resolve(struct cache_entry **, int,
			    const struct scope *, bool, const char *,
			    const char *, size_t, struct file_result *);

#endif /* CACHE_H */
