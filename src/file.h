/*
 * file.h: maps a request path onto the document root: percent-decoding,
 * dot-segment removal, confinement beneath root (symlinks included),
 * index files, the slash redirect, and the autoindex listing (HTML or
 * JSON).
 */
#ifndef FILE_H
#define FILE_H

#include <sys/stat.h>

#include "tine.h"

/* Bytes a percent-encoded form of a PATH_MAX path may need. */
#define FILE_URL_MAX		(3 * PATH_MAX + 1)

enum file_kind {
	FILE_REGULAR,		/* fd is an open regular file */
	FILE_LISTING,		/* fd is an open directory to list */
	FILE_REDIRECT,		/* 301 to location */
};

struct file_result {
	enum file_kind	 kind;
	int		 fd;			/* -1 when none */
	struct stat	 st;
	char		 path[PATH_MAX];	/* decoded, normalised, from / */
	char		*location;	/* FILE_REDIRECT; allocated by the
					   caller, location_cap bytes */
	size_t		 location_cap;
};

/*
 * Percent-decodes (once) and removes dot-segments from an origin-form
 * path (no query), writing a NUL-terminated absolute path starting with
 * '/' into out. Returns 0, or HTTP_BAD_REQUEST for a bad escape, %00,
 * an encoded '/' or a path that does not start with '/', or
 * HTTP_NOT_FOUND when it does not fit (with out PATH_MAX bytes, no file
 * has such a name).
 */
int	 file_normalize(const char *, size_t, char *, size_t);

/* Opens the document root as a directory fd (O_PATH, close-on-exec). */
int	 file_open_root(const char *);

/*
 * Resolves a normalised path beneath the root fd: a regular file, a
 * directory's first existing index file (of the scope's index list), the listing when autoindex is
 * on, or a redirect to the slash form (query kept, location encoded).
 * Never leaves root, also through symlinks, and never opens a FIFO,
 * socket or device node (403). Returns 0 with res filled (res->fd owned
 * by the caller) or an error status (403, 404, 500, or 503 when the
 * process is out of descriptors: see cache_resolve()).
 */
int	 file_resolve(int, const struct scope *, bool, const char *,
	    const char *, size_t, struct file_result *);

/* The two forms of a directory listing. */
enum file_listing_format {
	FILE_LISTING_HTML,	/* a page for people */
	FILE_LISTING_JSON,	/* an object for scripts */
};

/*
 * Builds the listing of the open directory fd (consumed, second
 * argument) shown as path, a directory beneath the root fd (first
 * argument), in the given form: directories first, then natural order
 * (strverscmp), at most 10000 entries and a count of the rest. *body is
 * allocated and owned by the caller. Returns 0 or an error status.
 */
int	 file_listing(int, int, const char *, enum file_listing_format,
	    char **, size_t *);

/* Percent-encodes a decoded path for a URL (keeps '/' and unreserved). */
int	 file_url_encode(const char *, char *, size_t);

/*
 * HTML-escapes s into out, control bytes and bytes that are not UTF-8
 * shown as U+FFFD; returns the length or -1 if it does not fit.
 */
int	 file_html_escape(const char *, char *, size_t);

/*
 * errno to status: ENOENT/ENOTDIR/ELOOP/EXDEV 404, EACCES 403, EMFILE and
 * ENFILE (out of descriptors) 503, else 500.
 */
int	 file_errno_status(int);

#endif /* FILE_H */
