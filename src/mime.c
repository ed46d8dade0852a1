/*
 * mime.c: Content-Type by file-name extension. One static table, sorted
 * by extension (lower case, byte order) and searched with bsearch(3): no
 * allocation, no configuration. Textual types say charset=utf-8, since
 * without it browsers guess.
 */
#include <stdlib.h>
#include <string.h>

#include "tine.h"
#include "mime.h"

/* Longer extensions are not in the table, so they need no lookup. */
#define MIME_EXT_MAX		16

#define MIME_DEFAULT		"application/octet-stream"
#define UTF8			"; charset=utf-8"

struct mime_type {
	const char	*ext;
	const char	*type;
};

/* Sorted by ext as strcmp(3) orders it; test_mime checks that it is. */
static const struct mime_type mime_types[] = {
	{ "7z",		"application/x-7z-compressed" },
	{ "aac",	"audio/aac" },
	{ "apk",	"application/vnd.android.package-archive" },
	{ "apng",	"image/apng" },
	{ "asc",	"text/plain" UTF8 },	/* ASCII-armoured OpenPGP */
	{ "atom",	"application/atom+xml" UTF8 },
	{ "avif",	"image/avif" },
	{ "bmp",	"image/bmp" },
	{ "bz2",	"application/x-bzip2" },
	{ "css",	"text/css" UTF8 },
	{ "csv",	"text/csv" UTF8 },
	{ "deb",	"application/vnd.debian.binary-package" },
	{ "dmg",	"application/x-apple-diskimage" },
	{ "docx",	"application/vnd.openxmlformats-officedocument."
			"wordprocessingml.document" },
	{ "eot",	"application/vnd.ms-fontobject" },
	{ "epub",	"application/epub+zip" },
	{ "exe",	"application/vnd.microsoft.portable-executable" },
	{ "flac",	"audio/flac" },
	{ "gif",	"image/gif" },
	{ "gz",		"application/gzip" },
	{ "heic",	"image/heic" },
	{ "htm",	"text/html" UTF8 },
	{ "html",	"text/html" UTF8 },
	{ "ico",	"image/vnd.microsoft.icon" },
	{ "ics",	"text/calendar" UTF8 },
	{ "iso",	"application/x-iso9660-image" },
	{ "jar",	"application/java-archive" },
	{ "jpeg",	"image/jpeg" },
	{ "jpg",	"image/jpeg" },
	{ "js",		"text/javascript" UTF8 },	/* RFC 9239 */
	{ "json",	"application/json" UTF8 },
	{ "jsonld",	"application/ld+json" UTF8 },
	{ "jxl",	"image/jxl" },
	{ "log",	"text/plain" UTF8 },
	{ "m3u8",	"application/vnd.apple.mpegurl" },
	{ "m4a",	"audio/mp4" },
	{ "map",	"application/json" UTF8 },	/* source maps */
	{ "md",		"text/markdown" UTF8 },
	{ "mjs",	"text/javascript" UTF8 },
	{ "mkv",	"video/x-matroska" },
	{ "mov",	"video/quicktime" },
	{ "mp3",	"audio/mpeg" },
	{ "mp4",	"video/mp4" },
	{ "mpd",	"application/dash+xml" },
	{ "odp",	"application/vnd.oasis.opendocument.presentation" },
	{ "ods",	"application/vnd.oasis.opendocument.spreadsheet" },
	{ "odt",	"application/vnd.oasis.opendocument.text" },
	{ "oga",	"audio/ogg" },
	{ "ogg",	"audio/ogg" },
	{ "ogv",	"video/ogg" },
	{ "opus",	"audio/ogg" },	/* Opus travels in an Ogg container */
	{ "otf",	"font/otf" },
	{ "pdf",	"application/pdf" },
	{ "png",	"image/png" },
	{ "pptx",	"application/vnd.openxmlformats-officedocument."
			"presentationml.presentation" },
	{ "ps",		"application/postscript" },
	{ "rpm",	"application/x-rpm" },
	{ "rss",	"application/rss+xml" UTF8 },
	{ "rtf",	"application/rtf" },
	{ "sh",		"text/plain" UTF8 },	/* shown, not run or saved */
	{ "sig",	"application/pgp-signature" },
	{ "svg",	"image/svg+xml" },
	{ "tar",	"application/x-tar" },
	{ "tgz",	"application/gzip" },
	{ "tif",	"image/tiff" },
	{ "tiff",	"image/tiff" },
	{ "toml",	"application/toml" UTF8 },
	{ "ttf",	"font/ttf" },
	{ "txt",	"text/plain" UTF8 },
	{ "vtt",	"text/vtt" UTF8 },
	{ "wasm",	"application/wasm" },
	{ "wav",	"audio/wav" },
	{ "webm",	"video/webm" },
	{ "webmanifest", "application/manifest+json" UTF8 },
	{ "webp",	"image/webp" },
	{ "woff",	"font/woff" },
	{ "woff2",	"font/woff2" },
	{ "xhtml",	"application/xhtml+xml" UTF8 },
	{ "xlsx",	"application/vnd.openxmlformats-officedocument."
			"spreadsheetml.sheet" },
	{ "xml",	"application/xml" UTF8 },
	{ "xz",		"application/x-xz" },
	{ "yaml",	"application/yaml" UTF8 },	/* RFC 9512 */
	{ "yml",	"application/yaml" UTF8 },
	{ "zip",	"application/zip" },
	{ "zst",	"application/zstd" },
};

static int
mime_cmp(const void *key, const void *elem)
{
	const struct mime_type	*m = elem;

	return strcmp(key, m->ext);
}

/*
 * The extension is what follows the last '.' of the last segment, so a
 * dot in a directory name ("/a.b/c") does not count and "x.tar.gz" is
 * gzip. A name with no dot, or ending in one, is octet-stream: with no
 * type to go on, a browser offers to save rather than sniff and render.
 * A leading dot counts (".json" is JSON): that file has no other name.
 */
const char *
mime_lookup(const char *path, size_t len)
{
	const struct mime_type	*m;
	char			 ext[MIME_EXT_MAX + 1];
	size_t			 i, dot, n;
	unsigned char		 c;

	for (i = len, dot = len; i > 0; i--) {
		if (path[i - 1] == '/')
			break;
		if (path[i - 1] == '.') {
			dot = i - 1;
			break;
		}
	}
	if (dot == len)
		return MIME_DEFAULT;
	n = len - dot - 1;
	if (n == 0 || n > MIME_EXT_MAX)
		return MIME_DEFAULT;
	/* Lower-case by hand: tolower(3) follows the locale. */
	for (i = 0; i < n; i++) {
		c = (unsigned char)path[dot + 1 + i];
		if (c == '\0')
			return MIME_DEFAULT;
		ext[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	ext[n] = '\0';
	m = bsearch(ext, mime_types, nitems(mime_types), sizeof(mime_types[0]),
	    mime_cmp);
	return m != NULL ? m->type : MIME_DEFAULT;
}
