/*
 * file.c: turns a request path into something to serve beneath the
 * document root: decoding and dot-segment removal, confined opening
 * (openat2 RESOLVE_BENEATH), index files, the slash redirect and the
 * autoindex listing (an HTML page, or JSON for scripts). Calls neither
 * log.c nor util.c, so its unit test links alone; only file_listing()
 * allocates.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/openat2.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tine.h"
#include "http.h"
#include "file.h"

/*
 * Entries one listing shows: the first this many in its order; the
 * rest are counted, not kept.
 */
#define FILE_LISTING_MAX	10000
/* First allocation of the listing page; it doubles from there. */
#define FILE_LISTING_CHUNK	4096
/* openat2 EAGAIN (a rename raced a lookup) is retried this many times. */
#define FILE_OPEN_RETRIES	3
/* "/proc/self/fd/" and an int. */
#define FILE_PROC_FD_MAX	32

/*
 * O_NONBLOCK: a FIFO in the tree must never block the worker in open(2);
 * on a regular file or a directory it changes nothing. O_NOCTTY: a tty
 * node in the tree must not become the worker's controlling terminal.
 */
#define FILE_OPEN_FLAGS		(O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
/* Names a file without opening it: no open(2) side effect, no read. */
#define FILE_PATH_FLAGS		(O_PATH | O_CLOEXEC)
/* file_open_checked(): the name is a FIFO, socket or device node. */
#define FILE_SPECIAL		(-2)

/*
 * Set the first time openat2(2) answers ENOSYS (kernel before 5.6), so a
 * worker does not pay for the failing system call on every request.
 */
static bool	 file_openat2_missing;

/* Value of each hex digit; only read after isxdigit() said yes. */
static const unsigned char file_hexval[UCHAR_MAX + 1] = {
	['0'] = 0, ['1'] = 1, ['2'] = 2, ['3'] = 3, ['4'] = 4,
	['5'] = 5, ['6'] = 6, ['7'] = 7, ['8'] = 8, ['9'] = 9,
	['A'] = 10, ['B'] = 11, ['C'] = 12, ['D'] = 13, ['E'] = 14, ['F'] = 15,
	['a'] = 10, ['b'] = 11, ['c'] = 12, ['d'] = 13, ['e'] = 14, ['f'] = 15,
};

static const char file_hexdigit[] = "0123456789ABCDEF";

/* What a listing says an entry is: the JSON form's "type". */
enum file_entry_type {
	FILE_ENTRY_FILE,	/* a regular file, or a link to one */
	FILE_ENTRY_DIR,		/* a directory, or a link to one */
	FILE_ENTRY_LINK,	/* a link not followed: dangling, leaves root */
	FILE_ENTRY_OTHER,	/* FIFO, socket, device; or not stat'able */
};

static const char *const file_entry_types[] = {
	[FILE_ENTRY_FILE] = "file",
	[FILE_ENTRY_DIR] = "directory",
	[FILE_ENTRY_LINK] = "symlink",
	[FILE_ENTRY_OTHER] = "other",
};

struct file_entry {
	char			*name;
	enum file_entry_type	 type;
	bool			 stat_ok;	/* size and mtime are known */
	off_t			 size;
	time_t			 mtime;
};

/* The entries a listing shows, in order, and how many it leaves out. */
struct file_entries {
	struct file_entry	*ents;
	size_t			 n;
	size_t			 cap;
	uintmax_t		 omitted;
};

struct file_buf {
	char		*p;
	size_t		 len;
	size_t		 cap;
};

/*
 * Decodes one path segment s[0..n) (no raw '/' in it), writing at most
 * cap bytes to dst and the decoded length to *dlen. Each '%' must be
 * followed by two hex digits. Rejected with 400: a raw or encoded NUL
 * (the path becomes a C string for openat2), and an encoded '/'.
 *
 * Why %2F is refused rather than decoded: decoding happens before
 * segments are split, so "a%2F..%2F..%2Fetc" would turn into dot-segments
 * that the client hid from every layer looking at the encoded form (and
 * from ours, if we split first and decoded after, it would name a file
 * with a '/' in it, which cannot exist). No file on Linux needs it.
 */
static int
file_decode_segment(const char *s, size_t n, char *dst, size_t cap,
    size_t *dlen)
{
	size_t		 i, o;
	unsigned char	 c;

	for (i = 0, o = 0; i < n; i++, o++) {
		c = (unsigned char)s[i];
		if (c == '\0')
			return HTTP_BAD_REQUEST;
		if (c == '%') {
			if (n - i < 3 ||
			    !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				return HTTP_BAD_REQUEST;
			c = (unsigned char)(file_hexval[(unsigned char)s[i + 1]]
			    << 4 | file_hexval[(unsigned char)s[i + 2]]);
			if (c == '\0' || c == '/')
				return HTTP_BAD_REQUEST;
			i += 2;
		}
		if (o < cap)
			dst[o] = (char)c;
	}
	*dlen = o;
	return 0;
}

/*
 * RFC 3986 §5.2.4 on the decoded segments, in one pass over enc. The
 * output is built in out as "/seg/seg"; a ".." pops the last segment and
 * stops at the root, so "/../x" is "/x", which is then looked up beneath
 * root. Empty segments ("//") vanish. A last segment that is empty, "."
 * or ".." leaves a trailing slash, as the RFC's output does.
 *
 * Decoding comes first, so "%2e%2e" is "..". Each segment is decoded
 * twice: once into a 3-byte probe to see whether it is a dot-segment and
 * how long it is, then straight into out when it is kept.
 *
 * A segment that does not fit is not an error yet: a later ".." may pop
 * it. Such segments (and everything below them) are only counted in
 * hidden; the result is 404 when any remains hidden at the end: out is
 * PATH_MAX for the server, and no longer path can name a file. (414 is
 * for a request line over max_header_size, as documented, and only the
 * head scanner gives it.) Bad escapes anywhere win over 404, so the
 * answer does not depend on size.
 */
int
file_normalize(const char *enc, size_t len, char *out, size_t size)
{
	const char	*p, *end, *seg;
	char		 probe[3];
	size_t		 olen, dlen, hidden, n;
	bool		 last, trail;
	int		 rc;

	if (size > 0)
		out[0] = '\0';
	if (len == 0 || enc[0] != '/')
		return HTTP_BAD_REQUEST;

	end = enc + len;
	p = enc + 1;
	olen = 0;
	hidden = 0;
	trail = false;
	do {
		seg = p;
		while (p < end && *p != '/')
			p++;
		n = (size_t)(p - seg);
		if (!(last = (p == end)))
			p++;	/* past the '/' */

		if ((rc = file_decode_segment(seg, n, probe, sizeof(probe),
		    &dlen)) != 0)
			goto fail;
		trail = false;
		if (dlen == 0 || (dlen == 1 && probe[0] == '.')) {
			trail = true;
		} else if (dlen == 2 && probe[0] == '.' && probe[1] == '.') {
			trail = true;
			if (hidden > 0)
				hidden--;
			else
				while (olen > 0 && out[--olen] != '/')
					;
		} else if (hidden > 0 || size <= olen ||
		    size - olen < dlen + 2) {
			/* '/', the segment and the NUL do not fit. */
			hidden++;
		} else {
			out[olen] = '/';
			(void)file_decode_segment(seg, n, out + olen + 1, dlen,
			    &dlen);	/* validated above */
			olen += 1 + dlen;
		}
	} while (!last);

	if (hidden > 0)
		goto toolong;
	/* An empty result, or a trailing slash: one more '/' and the NUL. */
	if (olen == 0 || trail) {
		if (size <= olen || size - olen < 2)
			goto toolong;
		out[olen++] = '/';
	} else if (size <= olen)
		goto toolong;
	out[olen] = '\0';
	return 0;

 toolong:
	rc = HTTP_NOT_FOUND;
 fail:
	if (size > 0)
		out[0] = '\0';
	return rc;
}

int
file_open_root(const char *root)
{
	return open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/*
 * Closes a descriptor this module opened read-only, keeping errno for the
 * caller's status: close(2) of a read-only fd reports nothing a caller
 * could act on, so its result is ignored.
 */
static void
file_close(int fd)
{
	int	 saved = errno;

	if (fd != -1)
		(void)close(fd);
	errno = saved;
}

int
file_errno_status(int error)
{
	switch (error) {
	case ENOENT:
	case ENOTDIR:
	case ELOOP:		/* a symlink loop, or too deep */
	case EXDEV:		/* resolution tried to leave root */
	case ENAMETOOLONG:
		return HTTP_NOT_FOUND;
	case EACCES:
	case EPERM:
	case ENXIO:		/* open(2) of a socket: not a file we serve */
	case ENODEV:		/* device node without a driver */
		return HTTP_FORBIDDEN;
	case EMFILE:		/* out of descriptors: passes, unlike a 500 */
	case ENFILE:
		return HTTP_SERVICE_UNAVAILABLE;
	default:
		return HTTP_INTERNAL_SERVER_ERROR;
	}
}

/* The path the kernel has for fd, from /proc; -1 with errno on error. */
static int
file_fd_path(int fd, char *buf, size_t size)
{
	char	 proc[FILE_PROC_FD_MAX];
	ssize_t	 n;
	int	 r;

	r = snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (r < 0 || (size_t)r >= sizeof(proc)) {
		errno = EINVAL;
		return -1;
	}
	if ((n = readlink(proc, buf, size)) == -1)
		return -1;
	if ((size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/*
 * For kernels without openat2(2): open with plain openat(2), then ask
 * /proc where the descriptor really points and refuse it (EXDEV) unless
 * that is root itself or below it, at a '/' boundary ("/srv/www" must not
 * admit "/srv/www2"). Weaker than RESOLVE_BENEATH: the open has already
 * happened when the check fails (harmless for a read-only, non-blocking
 * open), and an absolute symlink that lands inside root is accepted.
 * Without /proc nothing is served (EIO: 500), never something unchecked.
 */
static int
file_open_fallback(int rootfd, const char *rel, int flags)
{
	char	 rootpath[PATH_MAX], fdpath[PATH_MAX];
	size_t	 rootlen;
	int	 fd = -1;

	if (file_fd_path(rootfd, rootpath, sizeof(rootpath)) == -1)
		goto procfail;
	if ((fd = openat(rootfd, rel, flags)) == -1)
		return -1;
	if (file_fd_path(fd, fdpath, sizeof(fdpath)) == -1)
		goto procfail;
	rootlen = strlen(rootpath);
	if (rootlen == 1 && rootpath[0] == '/')
		return fd;	/* root is "/": everything is beneath it */
	if (strncmp(fdpath, rootpath, rootlen) == 0 &&
	    (fdpath[rootlen] == '\0' || fdpath[rootlen] == '/'))
		return fd;
	file_close(fd);
	errno = EXDEV;
	return -1;

 procfail:
	file_close(fd);
	errno = EIO;
	return -1;
}

/*
 * Opens rel (relative, no leading '/') beneath rootfd.
 *
 * Symlink policy: a symlink is followed only while its resolution stays
 * beneath root. RESOLVE_BENEATH fails with EXDEV for an absolute symlink
 * (even one naming a place inside root) and for any ".." that would climb
 * out; that becomes 404, as if the name did not exist. Magic links
 * (/proc/self/fd/N and the like) are refused outright.
 */
static int
file_open_beneath(int rootfd, const char *rel, int flags)
{
	struct open_how	 how;
	long		 fd;
	int		 tries;

	if (file_openat2_missing)
		return file_open_fallback(rootfd, rel, flags);

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)flags;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	for (tries = 0; tries < FILE_OPEN_RETRIES; tries++) {
		fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
		if (fd != -1)
			return (int)fd;
		if (errno == ENOSYS) {
			file_openat2_missing = true;
			return file_open_fallback(rootfd, rel, flags);
		}
		/* EAGAIN: a concurrent rename; the kernel asks us to retry. */
		if (errno != EAGAIN)
			return -1;
	}
	return -1;
}

/*
 * Opens rel beneath rootfd for reading when it is a regular file or a
 * directory, with *st filled. Its type is learnt first from an O_PATH
 * descriptor, which opens nothing: open(2) of a device node can act
 * (a tape rewinds, a serial line is raised) and O_NONBLOCK does not
 * stop that, so a FIFO, socket or device node is never opened for
 * reading: FILE_SPECIAL, with *st filled. The readable descriptor
 * comes from a second resolution under the same rules (/proc/self/fd
 * is closed to an undumpable worker), and must be the same file by
 * device and inode; a rename between the two is retried. Else -1 with
 * errno.
 */
static int
file_open_checked(int rootfd, const char *rel, struct stat *st)
{
	struct stat	 st2;
	int		 pfd = -1, fd = -1, tries;

	for (tries = 0; tries < FILE_OPEN_RETRIES; tries++) {
		if ((pfd = file_open_beneath(rootfd, rel, FILE_PATH_FLAGS)) ==
		    -1 || fstat(pfd, st) == -1)
			goto fail;
		file_close(pfd);
		pfd = -1;
		if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
			return FILE_SPECIAL;
		if ((fd = file_open_beneath(rootfd, rel, FILE_OPEN_FLAGS)) ==
		    -1 || fstat(fd, &st2) == -1)
			goto fail;
		if (st2.st_dev == st->st_dev && st2.st_ino == st->st_ino) {
			*st = st2;
			return fd;
		}
		file_close(fd);
		fd = -1;
	}
	errno = EAGAIN;		/* renamed over and over: 500 */
 fail:
	file_close(fd);
	file_close(pfd);
	return -1;
}

/* Whether a byte of a query string may be copied into Location as is. */
static bool
file_query_keeps(unsigned char c)
{
	/*
	 * The query goes through as sent (it is already encoded), except
	 * CTLs (CR and LF would split the header), space, DEL, bytes >=
	 * 0x80 and '#' (which would start a fragment): those are encoded.
	 */
	return c > 0x20 && c < 0x7f && c != '#';
}

/* Location for the slash redirect: encoded path, '/', then ?query. */
static int
file_redirect(struct file_result *res, const char *path, const char *query,
    size_t query_len)
{
	char		*loc = res->location;
	size_t		 size = res->location_cap, len, i;
	unsigned char	 c;
	int		 n;

	if ((n = file_url_encode(path, loc, size)) == -1)
		return HTTP_URI_TOO_LONG;
	len = (size_t)n;
	if (size - len < 2)
		return HTTP_URI_TOO_LONG;
	loc[len++] = '/';
	if (query_len > 0) {
		if (size - len < 2)
			return HTTP_URI_TOO_LONG;
		loc[len++] = '?';
		for (i = 0; i < query_len; i++) {
			c = (unsigned char)query[i];
			if (file_query_keeps(c)) {
				if (size - len < 2)
					return HTTP_URI_TOO_LONG;
				loc[len++] = (char)c;
			} else {
				if (size - len < 4)
					return HTTP_URI_TOO_LONG;
				loc[len++] = '%';
				loc[len++] = file_hexdigit[c >> 4];
				loc[len++] = file_hexdigit[c & 0xf];
			}
		}
	}
	loc[len] = '\0';
	return 0;
}

/*
 * Tries the index names in order for the directory path (ends in '/').
 * Returns 0 with res filled for the first that exists and is a regular
 * file, -1 when none does, or an error status. A name that is missing,
 * outside root, or not a regular file is skipped; one that exists but
 * cannot be opened (EACCES) stops the search with its status, so that a
 * protected index.html is never replaced by a listing of its directory.
 */
static int
file_try_index(int rootfd, const struct scope *conf, const char *path,
    struct file_result *res)
{
	char		 ipath[PATH_MAX];
	struct stat	 st;
	int		 i, r, fd;

	for (i = 0; i < conf->nindex; i++) {
		r = snprintf(ipath, sizeof(ipath), "%s%s", path,
		    conf->index[i]);
		if (r < 0 || (size_t)r >= sizeof(ipath))
			continue;	/* cannot exist: ENAMETOOLONG */
		if ((fd = file_open_checked(rootfd, ipath + 1, &st)) ==
		    FILE_SPECIAL)
			continue;
		if (fd == -1) {
			if (file_errno_status(errno) == HTTP_NOT_FOUND)
				continue;
			return file_errno_status(errno);
		}
		if (!S_ISREG(st.st_mode)) {
			file_close(fd);
			continue;
		}
		/* ipath fits in res->path: both are PATH_MAX. */
		(void)strlcpy(res->path, ipath, sizeof(res->path));
		res->st = st;
		res->fd = fd;
		res->kind = FILE_REGULAR;
		return 0;
	}
	return -1;
}

int
file_resolve(int rootfd, const struct scope *conf, bool autoindex,
    const char *path, const char *query, size_t query_len,
    struct file_result *res)
{
	const char	*rel;
	size_t		 plen;
	int		 fd = -1, status;

	res->kind = FILE_REGULAR;
	res->fd = -1;
	res->path[0] = '\0';
	res->location[0] = '\0';

	if (path[0] != '/') {
		status = HTTP_BAD_REQUEST;
		goto fail;
	}
	plen = strlen(path);
	if (strlcpy(res->path, path, sizeof(res->path)) >= sizeof(res->path)) {
		status = HTTP_NOT_FOUND;	/* longer than PATH_MAX */
		goto fail;
	}
	rel = plen == 1 ? "." : path + 1;
	if ((fd = file_open_checked(rootfd, rel, &res->st)) == FILE_SPECIAL) {
		/* FIFO, socket, device: never served, nor opened. */
		fd = -1;
		status = HTTP_FORBIDDEN;
		goto fail;
	}
	if (fd == -1) {
		status = file_errno_status(errno);
		goto fail;
	}
	if (S_ISREG(res->st.st_mode)) {
		res->fd = fd;
		return 0;
	}
	if (path[plen - 1] != '/') {
		if ((status = file_redirect(res, path, query, query_len)) != 0)
			goto fail;
		file_close(fd);
		res->kind = FILE_REDIRECT;
		return 0;
	}
	if ((status = file_try_index(rootfd, conf, path, res)) != -1) {
		if (status != 0)
			goto fail;
		file_close(fd);
		return 0;
	}
	/*
	 * A directory with no index file is 403, not 404: it exists, and
	 * saying so reveals nothing a 301 for the slash-less form has not
	 * already revealed.
	 */
	if (!autoindex) {
		status = HTTP_FORBIDDEN;
		goto fail;
	}
	/* fd is an O_RDONLY descriptor of this very directory: list it. */
	res->kind = FILE_LISTING;
	res->fd = fd;
	return 0;

 fail:
	file_close(fd);
	res->fd = -1;
	return status;
}

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0 if it is not one.
 * A file name is bytes; a listing declared UTF-8 shows only UTF-8.
 */
static size_t
file_utf8_len(const unsigned char *s)
{
	size_t		 n, i;
	unsigned char	 lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if (s[i] < lo || s[i] > hi)
			return 0;	/* a NUL ends it here too */
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

/* RFC 3986 unreserved, '/', and the sub-delims, ':' and '@' of pchar. */
static bool
file_url_keeps(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("-._~/!$&'()*+,;=:@", c) != NULL;
}

int
file_url_encode(const char *s, char *out, size_t size)
{
	size_t		 len = 0;
	unsigned char	 c;

	if (size == 0)
		return -1;
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (file_url_keeps(c)) {
			if (size - len < 2)
				return -1;
			out[len++] = (char)c;
		} else {
			if (size - len < 4)
				return -1;
			out[len++] = '%';
			out[len++] = file_hexdigit[c >> 4];
			out[len++] = file_hexdigit[c & 0xf];
		}
	}
	if (len > INT_MAX)
		return -1;
	out[len] = '\0';
	return (int)len;
}

int
file_html_escape(const char *s, char *out, size_t size)
{
	const unsigned char	*u = (const unsigned char *)s;
	const char		*ent;
	size_t			 len = 0, n;

	if (size == 0)
		return -1;
	while (*u != '\0') {
		n = 1;
		switch (*u) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			ent = NULL;
			if (*u < 0x20 || *u == 0x7f ||
			    (n = file_utf8_len(u)) == 0) {
				/* Shown, not obeyed: U+FFFD. */
				ent = "\xef\xbf\xbd";
				n = 1;
			}
			break;
		}
		if (ent != NULL) {
			if (size - len < strlen(ent) + 1)
				return -1;
			memcpy(out + len, ent, strlen(ent));
			len += strlen(ent);
		} else {
			if (size - len < n + 1)
				return -1;
			memcpy(out + len, u, n);
			len += n;
		}
		u += n;
	}
	if (len > INT_MAX)
		return -1;
	out[len] = '\0';
	return (int)len;
}

/*
 * RFC 8259 §7 string contents (no quotes): '"' and '\' escaped with a
 * backslash, control bytes and DEL as \u00XX, UTF-8 kept as it is.
 * A JSON text is Unicode while a file name is bytes, so a byte that is
 * not part of well-formed UTF-8 becomes U+FFFD: the name is then not
 * exact, and a script that needs the bytes uses the entry's href.
 * Returns the length, or -1 if it does not fit.
 */
static int
file_json_escape(const char *s, char *out, size_t size)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			 esc[6];
	size_t			 len = 0, n, elen;

	if (size == 0)
		return -1;
	for (; *u != '\0'; u += n) {
		n = 1;
		elen = 0;
		if (*u == '"' || *u == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*u;
			elen = 2;
		} else if (*u < 0x20 || *u == 0x7f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = file_hexdigit[*u >> 4];
			esc[5] = file_hexdigit[*u & 0xf];
			elen = 6;
		} else if ((n = file_utf8_len(u)) == 0) {
			memcpy(esc, "\xef\xbf\xbd", 3);
			elen = 3;
			n = 1;
		}
		if (elen > 0) {
			if (size - len < elen + 1)
				return -1;
			memcpy(out + len, esc, elen);
			len += elen;
		} else {
			if (size - len < n + 1)
				return -1;
			memcpy(out + len, u, n);
			len += n;
		}
	}
	if (len > INT_MAX)
		return -1;
	out[len] = '\0';
	return (int)len;
}

/* Makes room for n more bytes; -1 on overflow or out of memory. */
static int
file_buf_reserve(struct file_buf *b, size_t n)
{
	size_t	 cap;
	char	*p;

	if (n <= b->cap - b->len)
		return 0;
	if (n > SIZE_MAX / 4 - b->len)
		return -1;
	cap = b->cap > 0 ? b->cap : FILE_LISTING_CHUNK;
	while (cap - b->len < n)
		cap *= 2;	/* cannot wrap: len + n < SIZE_MAX / 4 */
	if ((p = reallocarray(b->p, cap, sizeof(*b->p))) == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int
file_buf_add(struct file_buf *b, const char *s)
{
	size_t	 n = strlen(s);

	if (file_buf_reserve(b, n + 1) == -1)
		return -1;
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
	return 0;
}

/*
 * Appends s through esc, either escaper: both write at most 6 bytes for
 * an input byte (an entity, a \u00XX).
 */
static int
file_buf_escaped(struct file_buf *b, const char *s,
    int (*esc)(const char *, char *, size_t))
{
	size_t	 n = strlen(s);
	int	 r;

	if (n > SIZE_MAX / 8 || file_buf_reserve(b, 6 * n + 1) == -1)
		return -1;
	if ((r = esc(s, b->p + b->len, b->cap - b->len)) == -1)
		return -1;
	b->len += (size_t)r;
	return 0;
}

static int
file_buf_html(struct file_buf *b, const char *s)
{
	return file_buf_escaped(b, s, file_html_escape);
}

static int
file_buf_json(struct file_buf *b, const char *s)
{
	return file_buf_escaped(b, s, file_json_escape);
}

/* "512 B", "4.0 KiB", "1.2 MiB": one decimal from KiB up. */
static int
file_fmt_size(char *buf, size_t size, off_t bytes)
{
	static const char *const units[] = {
	    "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"
	};
	double		 v = (double)bytes;
	size_t		 u = 0;
	int		 r;

	if (bytes < 1024) {
		r = snprintf(buf, size, "%lld B", (long long)bytes);
	} else {
		while (v >= 1024 && u + 1 < nitems(units)) {
			v /= 1024;
			u++;
		}
		/* 1023.96 KiB would print as "1024.0 KiB". */
		if (v >= 1023.95 && u + 1 < nitems(units)) {
			v /= 1024;
			u++;
		}
		r = snprintf(buf, size, "%.1f %s", v, units[u]);
	}
	return (r < 0 || (size_t)r >= size) ? -1 : 0;
}

/*
 * Directories first, then the rest; within each, natural order by
 * strverscmp(3): a run of digits compares as a number, so "file2" comes
 * before "file10", and other bytes compare as unsigned chars (case
 * counts: "Z" before "a"). A run with leading zeros reads as a fraction
 * and comes before any without ("x09" before "x1"), more zeros first,
 * so zero-padded names ("f00009", "f00010") keep their order. Distinct
 * names never compare equal, and the order is total, which the bounded
 * heap below and qsort(3) both rely on.
 */
static int
file_entry_cmp(const void *a, const void *b)
{
	const struct file_entry	*x = a, *y = b;
	bool			 xd = x->type == FILE_ENTRY_DIR;
	bool			 yd = y->type == FILE_ENTRY_DIR;

	if (xd != yd)
		return xd ? -1 : 1;
	return strverscmp(x->name, y->name);
}

/*
 * The listing keeps the first FILE_LISTING_MAX entries in its order
 * while it reads the directory, so a huge one costs no more memory
 * than that and the cut does not depend on readdir order: ents is a
 * max-heap by file_entry_cmp, whose top is the last entry kept and is
 * what a smaller newcomer replaces.
 */
static void
file_heap_up(struct file_entry *h, size_t i)
{
	struct file_entry	 t;
	size_t			 parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (file_entry_cmp(&h[parent], &h[i]) >= 0)
			break;
		t = h[parent];
		h[parent] = h[i];
		h[i] = t;
		i = parent;
	}
}

static void
file_heap_down(struct file_entry *h, size_t n)
{
	struct file_entry	 t;
	size_t			 i = 0, c;

	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && file_entry_cmp(&h[c + 1], &h[c]) > 0)
			c++;
		if (file_entry_cmp(&h[i], &h[c]) >= 0)
			break;
		t = h[c];
		h[c] = h[i];
		h[i] = t;
		i = c;
	}
}

/*
 * Kept small and inline: readable on a phone (the table fills the width,
 * long names wrap, the date column goes on narrow screens), the
 * platform's own font, and a dark variant when the system asks for one.
 */
static const char file_listing_css[] =
    "body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,"
    "sans-serif;line-height:1.4;margin:0 auto;max-width:60rem;"
    "padding:1rem;color:#222;background:#fff}\n"
    "h1{font-size:1.25rem;font-weight:600;overflow-wrap:anywhere}\n"
    "table{width:100%;border-collapse:collapse}\n"
    "th,td{padding:.35rem .5rem;text-align:left;"
    "border-bottom:1px solid #ddd}\n"
    "td.n{overflow-wrap:anywhere}\n"
    "th.s,td.s{text-align:right;white-space:nowrap}\n"
    "td.m{white-space:nowrap;font-variant-numeric:tabular-nums}\n"
    "a{color:#0645ad;text-decoration:none}a:hover{text-decoration:underline}\n"
    "p.t{font-style:italic}\n"
    "@media (max-width:36rem){th.m,td.m{display:none}}\n"
    "@media (prefers-color-scheme:dark){body{color:#ddd;background:#111}"
    "th,td{border-color:#333}a{color:#8ab4f8}}\n";

/* One table row; name is a directory entry's name (at most NAME_MAX). */
static int
file_listing_row(struct file_buf *b, const struct file_entry *e)
{
	char		 href[3 * NAME_MAX + 1], size[32], mtime[32];
	struct tm	 tm;
	bool		 dir = e->type == FILE_ENTRY_DIR;

	if (file_url_encode(e->name, href, sizeof(href)) == -1)
		return -1;
	if (dir || !e->stat_ok) {
		if (strlcpy(size, "-", sizeof(size)) >= sizeof(size))
			return -1;
	} else if (file_fmt_size(size, sizeof(size), e->size) == -1)
		return -1;
	if (!e->stat_ok || gmtime_r(&e->mtime, &tm) == NULL ||
	    strftime(mtime, sizeof(mtime), "%Y-%m-%d %H:%M", &tm) == 0)
		mtime[0] = '\0';

	/*
	 * "./" keeps a name such as "a:b" from reading as a URL scheme; the
	 * encoded href is HTML-escaped too, since it may hold '&' and '\''.
	 */
	if (file_buf_add(b, "<tr><td class=\"n\"><a href=\"./") == -1 ||
	    file_buf_html(b, href) == -1 ||
	    file_buf_add(b, dir ? "/\">" : "\">") == -1 ||
	    file_buf_html(b, e->name) == -1 ||
	    file_buf_add(b, dir ? "/</a></td><td class=\"s\">" :
	    "</a></td><td class=\"s\">") == -1 ||
	    file_buf_add(b, size) == -1 ||
	    file_buf_add(b, "</td><td class=\"m\">") == -1 ||
	    file_buf_add(b, mtime) == -1 ||
	    file_buf_add(b, "</td></tr>\n") == -1)
		return -1;
	return 0;
}

/*
 * One JSON entry: name, href (the URL-encoded name, relative to the
 * listing, "./" and a trailing '/' as in the HTML), type, size (regular
 * files only), mtime. mtime is RFC 3339 in UTC to the second
 * ("2024-05-01T12:00:00Z"), the form jq's fromdate reads; like size it
 * is left out when the entry could not be stat'ed.
 */
static int
file_listing_json_row(struct file_buf *b, const struct file_entry *e,
    bool first)
{
	char		 href[3 * NAME_MAX + 1], num[32], mtime[32];
	struct tm	 tm;
	bool		 dir = e->type == FILE_ENTRY_DIR;
	int		 r;

	if (file_url_encode(e->name, href, sizeof(href)) == -1)
		return -1;
	if (file_buf_add(b, first ? "{\"name\":\"" : ",\n{\"name\":\"") == -1 ||
	    file_buf_json(b, e->name) == -1 ||
	    file_buf_add(b, "\",\"href\":\"./") == -1 ||
	    file_buf_json(b, href) == -1 ||
	    file_buf_add(b, dir ? "/\",\"type\":\"" : "\",\"type\":\"") == -1 ||
	    file_buf_add(b, file_entry_types[e->type]) == -1 ||
	    file_buf_add(b, "\"") == -1)
		return -1;
	if (e->stat_ok && e->type == FILE_ENTRY_FILE) {
		r = snprintf(num, sizeof(num), ",\"size\":%lld",
		    (long long)e->size);
		if (r < 0 || (size_t)r >= sizeof(num) ||
		    file_buf_add(b, num) == -1)
			return -1;
	}
	if (e->stat_ok && gmtime_r(&e->mtime, &tm) != NULL &&
	    strftime(mtime, sizeof(mtime), "%Y-%m-%dT%H:%M:%SZ", &tm) != 0 &&
	    (file_buf_add(b, ",\"mtime\":\"") == -1 ||
	    file_buf_add(b, mtime) == -1 ||
	    file_buf_add(b, "\"") == -1))
		return -1;
	return file_buf_add(b, "}");
}

/*
 * Stats the entry name of the directory path (from root, ending in '/')
 * for the listing. A symlink is resolved beneath root like a request for
 * it would be, so a link that leaves root tells nothing about its target
 * (size, date, whether it is a directory): it lists like a dangling one,
 * as FILE_ENTRY_LINK.
 */
static void
file_listing_stat(int rootfd, int dirfd, const char *path, const char *name,
    struct file_entry *e)
{
	struct stat	 st;
	char		 rel[PATH_MAX];
	int		 fd, r;

	e->type = FILE_ENTRY_OTHER;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return;
	if (S_ISLNK(st.st_mode)) {
		e->type = FILE_ENTRY_LINK;
		r = snprintf(rel, sizeof(rel), "%s%s", path + 1, name);
		if (r < 0 || (size_t)r >= sizeof(rel))
			return;
		if ((fd = file_open_beneath(rootfd, rel, O_PATH | O_CLOEXEC))
		    == -1)
			return;
		r = fstat(fd, &st);
		file_close(fd);
		if (r == -1)
			return;
	}
	if (S_ISREG(st.st_mode))
		e->type = FILE_ENTRY_FILE;
	else if (S_ISDIR(st.st_mode))
		e->type = FILE_ENTRY_DIR;
	else
		e->type = FILE_ENTRY_OTHER;
	e->stat_ok = true;
	e->size = st.st_size;
	e->mtime = st.st_mtime;
}

/*
 * One directory entry as the listing shows it, name still borrowed from
 * the dirent. Only what orders it (a directory or not) is known when
 * whole is false: enough to see whether it would be kept.
 */
static void
file_listing_entry(int rootfd, int dirfd, const char *path,
    const struct dirent *de, struct file_entry *e, bool whole)
{
	e->name = (char *)(uintptr_t)de->d_name;
	e->type = FILE_ENTRY_OTHER;
	e->stat_ok = false;
	e->size = 0;
	e->mtime = 0;
	/* A plain file or directory needs no stat to be placed. */
	if (!whole && de->d_type != DT_UNKNOWN && de->d_type != DT_LNK) {
		if (de->d_type == DT_DIR)
			e->type = FILE_ENTRY_DIR;
		else if (de->d_type == DT_REG)
			e->type = FILE_ENTRY_FILE;
		return;
	}
	file_listing_stat(rootfd, dirfd, path, de->d_name, e);
}

/*
 * Reads the directory into l: the first FILE_LISTING_MAX entries in
 * the listing's order, sorted, and a count of the others. Dot-files are
 * left out (they are still served when asked for by name).
 */
static int
file_listing_read(int rootfd, DIR *dir, int dirfd, const char *path,
    struct file_entries *l)
{
	struct dirent		*de;
	struct file_entry	*e, cand;
	char			*name;

	for (;;) {
		errno = 0;
		if ((de = readdir(dir)) == NULL) {
			if (errno != 0)
				return file_errno_status(errno);
			break;
		}
		if (de->d_name[0] == '.')
			continue;	/* ".", ".." and dot-files */
		if (l->n == FILE_LISTING_MAX) {
			l->omitted++;
			file_listing_entry(rootfd, dirfd, path, de, &cand,
			    false);
			if (file_entry_cmp(&cand, &l->ents[0]) >= 0)
				continue;	/* after every one kept */
			file_listing_entry(rootfd, dirfd, path, de, &cand,
			    true);
			if ((name = strdup(de->d_name)) == NULL)
				return HTTP_INTERNAL_SERVER_ERROR;
			free(l->ents[0].name);
			l->ents[0] = cand;
			l->ents[0].name = name;
			file_heap_down(l->ents, l->n);
			continue;
		}
		if (l->n == l->cap) {
			l->cap = l->cap > 0 ? l->cap * 2 : 64;
			if (l->cap > FILE_LISTING_MAX)
				l->cap = FILE_LISTING_MAX;
			if ((e = reallocarray(l->ents, l->cap,
			    sizeof(*l->ents))) == NULL)
				return HTTP_INTERNAL_SERVER_ERROR;
			l->ents = e;
		}
		if ((name = strdup(de->d_name)) == NULL)
			return HTTP_INTERNAL_SERVER_ERROR;
		file_listing_entry(rootfd, dirfd, path, de, &l->ents[l->n],
		    true);
		l->ents[l->n].name = name;
		file_heap_up(l->ents, l->n++);
	}
	if (l->n > 0)
		qsort(l->ents, l->n, sizeof(*l->ents), file_entry_cmp);
	return 0;
}

static int
file_listing_html(struct file_buf *b, const char *path,
    const struct file_entries *l)
{
	char	 note[96];
	size_t	 i;
	int	 r;

	if (file_buf_add(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n"
	    "<meta name=\"color-scheme\" content=\"light dark\">\n"
	    "<title>Index of ") == -1 ||
	    file_buf_html(b, path) == -1 ||
	    file_buf_add(b, "</title>\n<style>\n") == -1 ||
	    file_buf_add(b, file_listing_css) == -1 ||
	    file_buf_add(b, "</style>\n</head>\n<body>\n<h1>Index of ") ==
	    -1 ||
	    file_buf_html(b, path) == -1 ||
	    file_buf_add(b, "</h1>\n<table>\n<thead><tr><th>Name</th>"
	    "<th class=\"s\">Size</th><th class=\"m\">Modified (UTC)</th>"
	    "</tr></thead>\n<tbody>\n") == -1)
		return -1;
	if (strcmp(path, "/") != 0 &&
	    file_buf_add(b, "<tr><td class=\"n\"><a href=\"../\">../</a>"
	    "</td><td class=\"s\">-</td><td class=\"m\"></td></tr>\n") == -1)
		return -1;
	for (i = 0; i < l->n; i++)
		if (file_listing_row(b, &l->ents[i]) == -1)
			return -1;
	if (file_buf_add(b, "</tbody>\n</table>\n") == -1)
		return -1;
	if (l->omitted > 0) {
		r = snprintf(note, sizeof(note), "<p class=\"t\">%ju more "
		    "%s not shown.</p>\n", l->omitted,
		    l->omitted == 1 ? "entry" : "entries");
		if (r < 0 || (size_t)r >= sizeof(note) ||
		    file_buf_add(b, note) == -1)
			return -1;
	}
	return file_buf_add(b, "</body>\n</html>\n");
}

/*
 * {"path":..., "entries":[...], "truncated":N}, an entry a line; no
 * parent entry. truncated is the count left out past FILE_LISTING_MAX,
 * 0 when the listing is whole, so a script need not test for the key.
 */
static int
file_listing_json(struct file_buf *b, const char *path,
    const struct file_entries *l)
{
	char	 note[64];
	size_t	 i;
	int	 r;

	if (file_buf_add(b, "{\"path\":\"") == -1 ||
	    file_buf_json(b, path) == -1 ||
	    file_buf_add(b, "\",\"entries\":[\n") == -1)
		return -1;
	for (i = 0; i < l->n; i++)
		if (file_listing_json_row(b, &l->ents[i], i == 0) == -1)
			return -1;
	r = snprintf(note, sizeof(note), "%s],\"truncated\":%ju}\n",
	    l->n > 0 ? "\n" : "", l->omitted);
	if (r < 0 || (size_t)r >= sizeof(note))
		return -1;
	return file_buf_add(b, note);
}

/*
 * Entries are stat'ed through symlinks that stay beneath root, so a
 * link to a directory lists as one; one that cannot be stat'ed
 * (dangling, or leaving root) is listed as a symlink without size or
 * date. Past FILE_LISTING_MAX entries, the first ones in the listing's
 * order are shown and the others counted.
 */
int
file_listing(int rootfd, int dirfd, const char *path,
    enum file_listing_format fmt, char **body, size_t *len)
{
	DIR			*dir = NULL;
	struct file_entries	 l = { NULL, 0, 0, 0 };
	struct file_buf		 b = { NULL, 0, 0 };
	size_t			 i;
	int			 status = HTTP_INTERNAL_SERVER_ERROR;

	*body = NULL;
	*len = 0;
	if ((dir = fdopendir(dirfd)) == NULL) {
		status = file_errno_status(errno);
		file_close(dirfd);
		goto fail;
	}
	if ((status = file_listing_read(rootfd, dir, dirfd, path, &l)) != 0)
		goto fail;
	status = HTTP_INTERNAL_SERVER_ERROR;
	if ((fmt == FILE_LISTING_JSON ? file_listing_json(&b, path, &l) :
	    file_listing_html(&b, path, &l)) == -1)
		goto fail;

	*body = b.p;
	*len = b.len;
	b.p = NULL;
	status = 0;

 fail:
	for (i = 0; i < l.n; i++)
		free(l.ents[i].name);
	free(l.ents);
	free(b.p);
	if (dir != NULL)
		(void)closedir(dir);	/* read-only: nothing to report */
	return status;
}
