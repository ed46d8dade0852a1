/*
 * test_cache.c: unit tests for cache.c against files made under /tmp
 * (removed at the end): lookup and freshness, revalidation that keeps or
 * replaces an entry, LRU eviction, descriptors closed when they leave,
 * the precomputed ETag, Last-Modified and type, small files' bytes in
 * the bounded arena (only once settled), and its compaction.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

/*
 * The settle rule reads the wall clock; the test moves it forward
 * instead of waiting. Every other call is the real one.
 */
static time_t	 test_clock_ahead;
static time_t
test_time(time_t *t)
{
	time_t	 now = time(t) + test_clock_ahead;

	if (t != NULL)
		*t = now;
	return now;
}
#define time(t)	test_time(t)
#include "../../src/cache.c"
#undef time

static char	 dir[] = "/tmp/tine-test-cache.XXXXXX";

/* Writes len bytes of c to dir/name; returns an open O_RDONLY fd. */
static int
make_file(const char *name, char c, size_t len, struct stat *st)
{
	char	 path[PATH_MAX], buf[4096];
	size_t	 n;
	int	 fd;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		return -1;
	memset(buf, c, sizeof(buf));
	while (len > 0) {
		n = len < sizeof(buf) ? len : sizeof(buf);
		if (write(fd, buf, n) != (ssize_t)n) {
			close(fd);
			return -1;
		}
		len -= n;
	}
	close(fd);
	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, st) == -1)
		return -1;
	return fd;
}

static bool
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static bool
all_bytes(const char *p, size_t len, char c)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (p[i] != c)
			return false;
	return true;
}

static void
test_lookup(void)
{
	struct cache_entry	*e;
	struct stat		 st;
	char			 etag[CACHE_ETAG_BYTES], lm[CACHE_DATE_BYTES];
	char			 path[PATH_MAX];
	int			 fd, fd2;

	unit_check(cache_get("/a.html", 0) == NULL &&
	    cache_peek("/a.html") == NULL, "empty: nothing found");
	fd = make_file("a.html", 'a', 10, &st);
	e = cache_put("/a.html", "/a.html", fd, &st, 1000);
	unit_check(e != NULL && e->fd == fd && e->live, "put: stored");
	unit_check(cache_get("/a.html", 1000 + CACHE_CHECK_MS - 1) == e,
	    "get: fresh within the interval");
	unit_check(cache_get("/a.html", 1000 + CACHE_CHECK_MS) == NULL,
	    "get: stale after the interval");
	unit_check(cache_get("/a.html", 999) == NULL,
	    "get: stale when the clock went back");
	unit_check(cache_peek("/a.html") == e, "peek: finds a stale entry");
	unit_check(cache_get("/b.html", 1000) == NULL, "get: other key");
	(void)http_make_etag(etag, sizeof(etag), st.st_ino, st.st_size,
	    st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	(void)http_format_date(lm, sizeof(lm), st.st_mtim.tv_sec);
	unit_check(strcmp(e->etag, etag) == 0, "put: ETag %s", e->etag);
	unit_check(strcmp(e->last_modified, lm) == 0, "put: Last-Modified %s",
	    e->last_modified);
	unit_check(strcmp(e->type, "text/html; charset=utf-8") == 0,
	    "put: type %s", e->type);
	unit_check(e->data == NULL, "put: a file changed just now: no bytes");

	/* Revalidation by the same file: kept, the new fd closed. */
	(void)snprintf(path, sizeof(path), "%s/a.html", dir);
	fd2 = open(path, O_RDONLY);
	unit_check(cache_refresh(e, "/a.html", fd2, &st, 5000) == e &&
	    e->fd == fd && !fd_open(fd2) && e->checked_ms == 5000,
	    "refresh: same file keeps the entry, closes the new fd");
	unit_check(cache_get("/a.html", 5000) == e, "refresh: fresh again");

	/* Replaced by another file (a rename over it). */
	fd2 = make_file("a2.html", 'b', 20, &st);
	unit_check(cache_refresh(e, "/a.html", fd2, &st, 6000) == e &&
	    e->fd == fd2 && !fd_open(fd) && e->st.st_size == 20 &&
	    strcmp(e->key, "/a.html") == 0,
	    "refresh: another inode replaces it, the old fd closed");

	/* Changed in place: only the ctime differs. */
	st.st_ctim.tv_nsec ^= 1;
	fd = open(path, O_RDONLY);
	unit_check(cache_refresh(e, "/a.html", fd, &st, 7000) == e &&
	    e->fd == fd && !fd_open(fd2), "refresh: a new ctime replaces it");

	/* Same file reached by another path (an index, a symlink). */
	fd2 = open(path, O_RDONLY);
	unit_check(cache_refresh(e, "/other.html", fd2, &st, 8000) == e &&
	    e->fd == fd2 && strcmp(e->path, "/other.html") == 0,
	    "refresh: another path replaces it");
	cache_drop(e);
	unit_check(!fd_open(fd2) && cache_peek("/a.html") == NULL,
	    "drop: fd closed, key gone");
}

static void
test_limits(void)
{
	struct cache_entry	*e;
	struct stat		 st;
	char			 key[CACHE_PATH_BYTES + 8];
	int			 fds[CACHE_ENTRIES + 1], fd, i;
	bool			 ok = true;

	memset(key, 'k', sizeof(key));
	key[0] = '/';
	key[CACHE_PATH_BYTES] = '\0';
	fd = make_file("long", 'l', 1, &st);
	unit_check(cache_put(key, "/long", fd, &st, 0) == NULL &&
	    fd_open(fd), "put: a key too long is refused, fd kept");
	key[CACHE_PATH_BYTES - 1] = '\0';
	unit_check((e = cache_put(key, "/long", fd, &st, 0)) != NULL,
	    "put: the longest key fits");
	cache_drop(e);

	for (i = 0; i <= CACHE_ENTRIES; i++) {
		(void)snprintf(key, sizeof(key), "/f%d", i);
		fds[i] = make_file(key + 1, 'f', 1, &st);
		if (cache_put(key, key, fds[i], &st, i) == NULL)
			ok = false;
		/* Keep /f0 the most recently used. */
		if (cache_peek("/f0") == NULL)
			ok = false;
	}
	unit_check(ok, "put: %d entries", CACHE_ENTRIES + 1);
	unit_check(cache_peek("/f0") != NULL && cache_peek("/f1") == NULL &&
	    !fd_open(fds[1]), "put: the least recently used left, fd closed");
	unit_check(cache_peek("/f2") != NULL &&
	    cache_peek("/f64") != NULL, "put: the others stay");
	cache_clear();
	ok = true;
	for (i = 0; i <= CACHE_ENTRIES; i++)
		if (fd_open(fds[i]))
			ok = false;
	unit_check(ok && cache_peek("/f0") == NULL, "clear: every fd closed");
}

static void
test_data(void)
{
	struct cache_entry	*e[8], *big;
	struct stat		 st;
	char			 name[32];
	size_t			 total = 0;
	int			 fd, i, n = 0;
	bool			 ok = true;

	test_clock_ahead = 0;
	fd = make_file("s0", 'A', 1000, &st);
	e[0] = cache_put("/s0", "/s0", fd, &st, 0);
	unit_check(e[0] != NULL && e[0]->data == NULL,
	    "data: not while the file may still be written");
	test_clock_ahead = CACHE_SETTLE_S + 1;
	fd = open("/dev/null", O_RDONLY);
	unit_check(cache_refresh(e[0], "/s0", fd, &st, 2000) == e[0] &&
	    e[0]->data != NULL && e[0]->datalen == 1000 &&
	    all_bytes(e[0]->data, 1000, 'A'),
	    "data: loaded at a revalidation once settled");
	cache_drop(e[0]);

	fd = make_file("big", 'B', CACHE_SMALL_BYTES + 1, &st);
	big = cache_put("/big", "/big", fd, &st, 0);
	unit_check(big != NULL && big->data == NULL,
	    "data: a file over CACHE_SMALL_BYTES stays on disk");
	fd = make_file("empty", 'E', 0, &st);
	unit_check((e[0] = cache_put("/empty", "/empty", fd, &st, 0)) !=
	    NULL && e[0]->data == NULL, "data: an empty file has none");
	cache_clear();

	/* Small files until the arena is full: it never overflows. */
	for (i = 0; i < (int)nitems(e); i++) {
		(void)snprintf(name, sizeof(name), "s%d", i);
		fd = make_file(name, (char)('a' + i), CACHE_SMALL_BYTES, &st);
		(void)snprintf(name, sizeof(name), "/s%d", i);
		e[i] = cache_put(name, name, fd, &st, 0);
		if (e[i] != NULL && e[i]->data != NULL) {
			total += e[i]->datalen;
			n++;
		}
	}
	unit_check(n == CACHE_DATA_BYTES / CACHE_SMALL_BYTES &&
	    total <= CACHE_DATA_BYTES && cache.data_used == total,
	    "data: %d files in memory, %zu bytes, within the arena", n,
	    total);
	/* Dropping the first moves the others down; bytes stay right. */
	cache_drop(e[0]);
	for (i = 1; i < n; i++)
		if (e[i]->data == NULL ||
		    !all_bytes(e[i]->data, e[i]->datalen, (char)('a' + i)))
			ok = false;
	unit_check(ok && cache.data_used == total - CACHE_SMALL_BYTES,
	    "data: compaction keeps every other file's bytes");
	/* The room freed takes the next file. */
	fd = open("/dev/null", O_RDONLY);
	(void)fstat(e[n]->fd, &st);
	unit_check(cache_refresh(e[n], e[n]->path, fd, &st, 3000) == e[n] &&
	    e[n]->data != NULL && all_bytes(e[n]->data, e[n]->datalen,
	    (char)('a' + n)), "data: freed room is used again");
	cache_clear();
	unit_check(cache.data_used == 0, "data: clear empties the arena");
	test_clock_ahead = 0;
}

static int
rm_dir(void)
{
	char	 cmd[64 + sizeof(dir)];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	return system(cmd);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_lookup();
	test_limits();
	test_data();
	(void)rm_dir();
	return unit_done();
}
