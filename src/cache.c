/*
 * cache.c: the worker's open-file cache (see cache.h). A fixed table and
 * one fixed arena for small files' bytes: nothing is allocated per
 * request. Owned by one worker process; never shared.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "http.h"
#include "mime.h"

static struct {
	struct cache_entry	 e[CACHE_ENTRIES];
	uint64_t		 clock;
	size_t			 data_used;	/* bytes of the arena in use */
	char			*arena;		/* CACHE_DATA_BYTES, lazily */
	bool			 init;
} cache;

static void
cache_init(void)
{
	size_t	 i;

	if (cache.init)
		return;
	for (i = 0; i < nitems(cache.e); i++)
		cache.e[i].fd = -1;
	cache.init = true;
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
	off = (size_t)(victim->data - cache.arena);
	len = victim->datalen;
	memmove(cache.arena + off, cache.arena + off + len,
	    cache.data_used - off - len);
	cache.data_used -= len;
	for (i = 0; i < nitems(cache.e); i++) {
		e = &cache.e[i];
		if (e->data != NULL && e->data > victim->data)
			e->data -= len;
	}
	victim->data = NULL;
	victim->datalen = 0;
}

void
cache_drop(struct cache_entry *e)
{
	if (e->fd == -1)
		return;
	cache_free_data(e);
	(void)close(e->fd);	/* read-only: nothing to lose */
	e->fd = -1;
	e->key[0] = '\0';
}

void
cache_clear(void)
{
	size_t	 i;

	cache_init();
	for (i = 0; i < nitems(cache.e); i++)
		cache_drop(&cache.e[i]);
}

struct cache_entry *
cache_peek(const char *key)
{
	size_t	 i;

	cache_init();
	for (i = 0; i < nitems(cache.e); i++)
		if (cache.e[i].fd != -1 && strcmp(cache.e[i].key, key) == 0) {
			cache.e[i].used = ++cache.clock;
			return &cache.e[i];
		}
	return NULL;
}

struct cache_entry *
cache_get(const char *key, int64_t now)
{
	struct cache_entry	*e;

	if ((e = cache_peek(key)) == NULL)
		return NULL;
	if (now - e->checked_ms >= CACHE_CHECK_MS)
		return NULL;
	return e;
}

/* Reads a small file's bytes into the arena; on any failure, none. */
static void
cache_load_data(struct cache_entry *e)
{
	ssize_t	 n;
	size_t	 want, got = 0;

	if (e->st.st_size > CACHE_SMALL_BYTES || e->st.st_size == 0)
		return;
	want = (size_t)e->st.st_size;
	if (cache.arena == NULL &&
	    (cache.arena = malloc(CACHE_DATA_BYTES)) == NULL)
		return;
	if (want > CACHE_DATA_BYTES - cache.data_used)
		return;	/* full: served with sendfile instead */
	while (got < want) {
		n = pread(e->fd, cache.arena + cache.data_used + got,
		    want - got, (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;	/* changed under us: not cached */
		got += (size_t)n;
	}
	e->data = cache.arena + cache.data_used;
	e->datalen = want;
	cache.data_used += want;
}

static void
cache_fill(struct cache_entry *e, const char *key, const char *path, int fd,
    const struct stat *st, int64_t now)
{
	/* Both fit: checked by the caller. */
	(void)strlcpy(e->key, key, sizeof(e->key));
	(void)strlcpy(e->path, path, sizeof(e->path));
	e->fd = fd;
	e->st = *st;
	if (http_make_etag(e->etag, sizeof(e->etag), st->st_ino, st->st_size,
	    st->st_mtim.tv_sec, st->st_mtim.tv_nsec) < 0)
		e->etag[0] = '\0';
	e->type = mime_lookup(path, strlen(path));
	e->checked_ms = now;
	e->used = ++cache.clock;
	e->data = NULL;
	e->datalen = 0;
	cache_load_data(e);
}

struct cache_entry *
cache_put(const char *key, const char *path, int fd, const struct stat *st,
    int64_t now)
{
	struct cache_entry	*e, *victim = NULL;
	size_t			 i;

	cache_init();
	if (strlen(key) >= CACHE_PATH_BYTES || strlen(path) >= CACHE_PATH_BYTES)
		return NULL;
	if ((e = cache_peek(key)) != NULL)
		cache_drop(e);
	for (i = 0; i < nitems(cache.e); i++) {
		e = &cache.e[i];
		if (e->fd == -1) {
			victim = e;
			break;
		}
		if (victim == NULL || e->used < victim->used)
			victim = e;
	}
	cache_drop(victim);
	cache_fill(victim, key, path, fd, st, now);
	return victim;
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
	if (e->st.st_dev == st->st_dev && e->st.st_ino == st->st_ino &&
	    e->st.st_size == st->st_size &&
	    e->st.st_mtim.tv_sec == st->st_mtim.tv_sec &&
	    e->st.st_mtim.tv_nsec == st->st_mtim.tv_nsec &&
	    strcmp(e->path, path) == 0) {
		(void)close(fd);	/* the cached one is the same file */
		e->checked_ms = now;
		return e;
	}
	(void)strlcpy(key, e->key, sizeof(key));	/* same size */
	cache_drop(e);
	cache_fill(e, key, path, fd, st, now);
	return e;
}
