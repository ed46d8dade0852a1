/*
 * cache.c: the worker's open-file cache (see cache.h). A fixed table and
 * one fixed arena for small files' bytes: nothing is allocated per
 * request. Owned by one worker process; never shared. The table is
 * zero-initialised (a free slot is all zeroes), so slots a worker never
 * uses are never written and cost it no memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "file.h"
#include "http.h"
#include "mime.h"

/*
 * Small fields first, then the hashes, then the slots in the order they
 * are taken: a worker serving a few files writes a page or two of this.
 */
static struct {
	uint64_t		 clock;
	size_t			 nlive;		/* entries holding a file */
	size_t			 data_used;	/* bytes of the arena in use */
	uint32_t		 hash[CACHE_ENTRIES];	/* of live keys */
	struct cache_entry	 e[CACHE_ENTRIES];
} cache;

/*
 * Small files' bytes. Static rather than allocated: untouched pages cost
 * nothing, and page alignment lets a 4 KiB file take one page, not two.
 */
static char cache_arena[CACHE_DATA_BYTES] __attribute__((aligned(4096)));

/* FNV-1a: a lookup compares one word per slot before any string. */
static uint32_t
cache_hash(const char *key)
{
	uint32_t	 h = 2166136261u;

	while (*key != '\0') {
		h ^= (unsigned char)*key++;
		h *= 16777619u;
	}
	return h;
}

/*
 * The arena is handed out bump-style and compacted when an entry with
 * bytes leaves; entries are few, so moving them is cheap and rare.
 */
static void
cache_free_data(struct cache_entry *victim)
{
	struct cache_entry	*e;
	size_t			 i, off, len;

	if (victim->data == NULL)
		return;
	off = (size_t)(victim->data - cache_arena);
	len = victim->datalen;
	memmove(cache_arena + off, cache_arena + off + len,
	    cache.data_used - off - len);
	cache.data_used -= len;
	for (i = 0; i < nitems(cache.e); i++) {
		e = &cache.e[i];
		if (e->live && e->data != NULL && e->data > victim->data)
			e->data -= len;
	}
	victim->data = NULL;
	victim->datalen = 0;
}

/* Closes the variants held for e and forgets what was looked for. */
static void
cache_drop_variants(struct cache_entry *e)
{
	int	 i;

	for (i = 0; i < HTTP_CODING_COUNT; i++)
		if (e->var_open & (1u << i))
			(void)close(e->var[i].fd);	/* read-only */
	e->var_open = e->var_none = e->var_served = 0;
	e->var_looked_ms = e->var_told_ms = 0;
	e->covered = 0;
}

/*
 * The compressor evicted variants: those held here that it unlinked are
 * let go, so that their space returns; each is looked for again.
 */
void
cache_drop_unlinked_variants(void)
{
	struct cache_entry	*e;
	struct stat		 st;
	size_t			 i;
	int			 c;

	for (i = 0; i < nitems(cache.e); i++) {
		e = &cache.e[i];
		if (!e->live || e->var_open == 0)
			continue;
		for (c = 0; c < HTTP_CODING_COUNT; c++) {
			if ((e->var_open & (1u << c)) == 0 ||
			    (fstat(e->var[c].fd, &st) == 0 &&
			    st.st_nlink > 0))
				continue;
			(void)close(e->var[c].fd);	/* read-only */
			e->var_open &= ~(1u << c);
			e->var_looked_ms = 0;
		}
	}
}

void
cache_drop(struct cache_entry *e)
{
	if (!e->live)
		return;
	cache_free_data(e);
	cache_drop_variants(e);
	if (e->fd != -1)
		(void)close(e->fd);	/* read-only: nothing to lose */
	e->fd = -1;
	e->absent = false;
	e->key[0] = '\0';
	e->live = false;
	cache.hash[e - cache.e] = 0;
	cache.nlive--;
}

void
cache_clear(void)
{
	size_t	 i;

	for (i = 0; i < nitems(cache.e); i++)
		cache_drop(&cache.e[i]);
}

bool
cache_holds_files(void)
{
	return cache.nlive > 0;
}

/*
 * Cached descriptors are only a saving: when a file cannot be opened for
 * lack of descriptors, they go before the request fails. What is still
 * short after that (a process limit set too low, or the system's) is
 * reported, but not once per request: once per CACHE_EMFILE_LOG_S, with
 * the count since the last report.
 */
int
cache_resolve(struct cache_entry **stale, int rootfd,
    const struct scope *conf, bool autoindex, const char *path,
    const char *query, size_t query_len, struct file_result *res)
{
	static time_t		 reported;
	static unsigned long	 unreported;
	time_t			 now;
	int			 status;

	status = file_resolve(rootfd, conf, autoindex, path, query,
	    query_len, res);
	if (status != HTTP_SERVICE_UNAVAILABLE)
		return status;
	if (cache.nlive > 0) {
		cache_clear();
		*stale = NULL;
		status = file_resolve(rootfd, conf, autoindex, path, query,
		    query_len, res);
		if (status != HTTP_SERVICE_UNAVAILABLE)
			return status;
	}
	now = time(NULL);
	if (now >= reported && now - reported < CACHE_EMFILE_LOG_S) {
		unreported++;
		return status;
	}
	/* No path in it: it is the process, not the file, that is short. */
	log_warnx("out of file descriptors: answering 503 (%lu more since "
	    "the last report)", unreported);
	reported = now;
	unreported = 0;
	return status;
}

static struct cache_entry *
cache_find(const char *key)
{
	uint32_t	 h;
	size_t		 i;

	h = cache_hash(key);
	for (i = 0; i < nitems(cache.hash); i++)
		if (cache.hash[i] == h && cache.e[i].live &&
		    strcmp(cache.e[i].key, key) == 0) {
			cache.e[i].used = ++cache.clock;
			return &cache.e[i];
		}
	return NULL;
}

struct cache_entry *
cache_peek(const char *key)
{
	return cache_find(key);
}

struct cache_entry *
cache_get(const char *key, int64_t now)
{
	struct cache_entry	*e;

	if ((e = cache_find(key)) == NULL)
		return NULL;
	if (now - e->checked_ms >= CACHE_CHECK_MS || now < e->checked_ms)
		return NULL;
	return e;
}

/*
 * Reads a small file's bytes into the arena; on any failure, none (the
 * file is then sent from its descriptor). Only a settled file: file
 * times have the resolution of a clock tick, so a write landing in the
 * same tick as the stat (or during the read) could leave bytes in memory
 * that no later stat tells apart from the file. A file unchanged for
 * CACHE_SETTLE_S seconds (by ctime, which no one can set back) cannot
 * be written without its ctime moving. A later revalidation loads it.
 */
static void
cache_load_data(struct cache_entry *e)
{
	ssize_t	 n;
	size_t	 want, got = 0;

	if (e->data != NULL || e->st.st_size > CACHE_SMALL_BYTES ||
	    e->st.st_size == 0)
		return;
	if (e->st.st_ctim.tv_sec + CACHE_SETTLE_S > time(NULL))
		return;
	want = (size_t)e->st.st_size;
	if (want > CACHE_DATA_BYTES - cache.data_used)
		return;	/* full: served with sendfile instead */
	while (got < want) {
		n = pread(e->fd, cache_arena + cache.data_used + got,
		    want - got, (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;	/* changed under us: not cached */
		got += (size_t)n;
	}
	e->data = cache_arena + cache.data_used;
	e->datalen = want;
	cache.data_used += want;
}

void
cache_describe(struct cache_entry *e, const char *path, int fd,
    const struct stat *st)
{
	if (strlcpy(e->path, path, sizeof(e->path)) >= sizeof(e->path))
		e->path[0] = '\0';	/* only named in a warning */
	e->fd = fd;
	e->st = *st;
	if (http_make_etag(e->etag, sizeof(e->etag), st->st_ino, st->st_size,
	    st->st_mtim.tv_sec, st->st_mtim.tv_nsec) < 0)
		e->etag[0] = '\0';
	if (http_format_date(e->last_modified, sizeof(e->last_modified),
	    st->st_mtim.tv_sec) < 0)
		e->last_modified[0] = '\0';
	e->type = mime_lookup(path, strlen(path));
	e->data = NULL;
	e->datalen = 0;
	e->covered = 0;		/* of the file it described before */
}

static void
cache_fill(struct cache_entry *e, const char *key, const char *path, int fd,
    const struct stat *st, int64_t now)
{
	/* Both fit: checked by the caller. */
	(void)strlcpy(e->key, key, sizeof(e->key));
	cache_describe(e, path, fd, st);
	e->live = true;
	cache.nlive++;
	e->checked_ms = now;
	e->used = ++cache.clock;
	cache.hash[e - cache.e] = cache_hash(key);
	cache_load_data(e);
}

/* The slot for a new entry: a free one, else the least recently used. */
static struct cache_entry *
cache_slot(const char *key)
{
	struct cache_entry	*e, *victim = NULL;
	size_t			 i;

	if ((e = cache_find(key)) != NULL)
		cache_drop(e);
	for (i = 0; i < nitems(cache.e); i++) {
		e = &cache.e[i];
		if (!e->live) {
			victim = e;
			break;
		}
		if (victim == NULL || e->used < victim->used)
			victim = e;
	}
	cache_drop(victim);
	return victim;
}

struct cache_entry *
cache_put(const char *key, const char *path, int fd, const struct stat *st,
    int64_t now)
{
	struct cache_entry	*e;

	if (strlen(key) >= CACHE_PATH_BYTES || strlen(path) >= CACHE_PATH_BYTES)
		return NULL;
	e = cache_slot(key);
	cache_fill(e, key, path, fd, st, now);
	return e;
}

void
cache_put_absent(const char *key, int64_t now)
{
	struct cache_entry	*e;

	if (strlen(key) >= CACHE_PATH_BYTES)
		return;
	e = cache_slot(key);
	(void)strlcpy(e->key, key, sizeof(e->key));
	e->path[0] = '\0';
	e->fd = -1;
	e->absent = true;
	e->type = NULL;
	e->data = NULL;
	e->datalen = 0;
	e->live = true;
	cache.nlive++;
	e->checked_ms = now;
	e->used = ++cache.clock;
	cache.hash[e - cache.e] = cache_hash(key);
}

struct cache_entry *
cache_refresh(struct cache_entry *e, const char *path, int fd,
    const struct stat *st, int64_t now)
{
	char	 key[CACHE_PATH_BYTES];

	if (strlen(path) >= CACHE_PATH_BYTES) {
		cache_drop(e);
		return NULL;	/* the caller keeps fd */
	}
	if (util_same_file(&e->st, st) && strcmp(e->path, path) == 0) {
		(void)close(fd);	/* the cached one is the same file */
		e->checked_ms = now;
		cache_load_data(e);	/* settled since it was stored */
		return e;
	}
	(void)strlcpy(key, e->key, sizeof(key));	/* same size */
	cache_drop(e);
	cache_fill(e, key, path, fd, st, now);
	return e;
}
