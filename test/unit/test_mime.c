/*
 * test_mime.c: unit tests for mime.c: the table is sorted and unique (the
 * binary search depends on it), every type the server must know, case,
 * and which dot counts as the extension.
 */
#include <stdarg.h>

#include "unit.h"
#include "../../src/mime.c"

#define OCTET	"application/octet-stream"

static const struct {
	const char	*path;
	const char	*type;
} rows[] = {
	{ "/index.html",	"text/html; charset=utf-8" },
	{ "/a.htm",		"text/html; charset=utf-8" },
	{ "/s.css",		"text/css; charset=utf-8" },
	{ "/app.js",		"text/javascript; charset=utf-8" },
	{ "/app.mjs",		"text/javascript; charset=utf-8" },
	{ "/d.json",		"application/json; charset=utf-8" },
	{ "/app.js.map",	"application/json; charset=utf-8" },
	{ "/i.svg",		"image/svg+xml" },
	{ "/i.png",		"image/png" },
	{ "/i.jpg",		"image/jpeg" },
	{ "/i.jpeg",		"image/jpeg" },
	{ "/i.gif",		"image/gif" },
	{ "/i.webp",		"image/webp" },
	{ "/i.avif",		"image/avif" },
	{ "/favicon.ico",	"image/vnd.microsoft.icon" },
	{ "/f.woff",		"font/woff" },
	{ "/f.woff2",		"font/woff2" },
	{ "/f.ttf",		"font/ttf" },
	{ "/f.otf",		"font/otf" },
	{ "/m.wasm",		"application/wasm" },
	{ "/d.pdf",		"application/pdf" },
	{ "/r.txt",		"text/plain; charset=utf-8" },
	{ "/README.md",		"text/markdown; charset=utf-8" },
	{ "/f.xml",		"application/xml; charset=utf-8" },
	{ "/t.csv",		"text/csv; charset=utf-8" },
	{ "/v.mp4",		"video/mp4" },
	{ "/v.webm",		"video/webm" },
	{ "/a.mp3",		"audio/mpeg" },
	{ "/a.ogg",		"audio/ogg" },
	{ "/z.zip",		"application/zip" },
	{ "/z.gz",		"application/gzip" },
	{ "/z.tar",		"application/x-tar" },
	{ "/i.bmp",		"image/bmp" },
	{ "/i.tif",		"image/tiff" },
	{ "/i.tiff",		"image/tiff" },
	{ "/i.apng",		"image/apng" },
	{ "/i.jxl",		"image/jxl" },
	{ "/a.opus",		"audio/ogg" },
	{ "/a.wav",		"audio/wav" },
	{ "/a.flac",		"audio/flac" },
	{ "/a.m4a",		"audio/mp4" },
	{ "/v.mov",		"video/quicktime" },
	{ "/v.ogv",		"video/ogg" },
	{ "/a.oga",		"audio/ogg" },
	{ "/z.7z",		"application/x-7z-compressed" },
	{ "/z.bz2",		"application/x-bzip2" },
	{ "/z.xz",		"application/x-xz" },
	{ "/z.zst",		"application/zstd" },
	{ "/feed.rss",		"application/rss+xml; charset=utf-8" },
	{ "/feed.atom",		"application/atom+xml; charset=utf-8" },
	{ "/cal.ics",		"text/calendar; charset=utf-8" },
	{ "/b.epub",		"application/epub+zip" },
	{ "/d.jsonld",		"application/ld+json; charset=utf-8" },
	{ "/site.webmanifest",	"application/manifest+json; charset=utf-8" },
	{ "/c.yaml",		"application/yaml; charset=utf-8" },
	{ "/c.yml",		"application/yaml; charset=utf-8" },
	{ "/c.toml",		"application/toml; charset=utf-8" },
	{ "/run.sh",		"text/plain; charset=utf-8" },
	{ "/k.asc",		"text/plain; charset=utf-8" },
	{ "/k.sig",		"application/pgp-signature" },
	{ "/d.iso",		"application/x-iso9660-image" },
	{ "/p.deb",		"application/vnd.debian.binary-package" },
	{ "/p.rpm",		"application/x-rpm" },
	{ "/s.exe",	"application/vnd.microsoft.portable-executable" },
	{ "/a.dmg",		"application/x-apple-diskimage" },
	{ "/a.apk",		"application/vnd.android.package-archive" },
	/* case-insensitive */
	{ "/INDEX.HTML",	"text/html; charset=utf-8" },
	{ "/Photo.JpG",		"image/jpeg" },
	{ "/F.WOFF2",		"font/woff2" },
	/* which dot */
	{ "/src.tar.gz",	"application/gzip" },
	{ "/a.b/c",		OCTET },
	{ "/a.html/",		OCTET },
	{ "/a.b/c.png",		"image/png" },
	{ "/Makefile",		OCTET },
	{ "/",			OCTET },
	{ "",			OCTET },
	{ "/name.",		OCTET },
	{ "/.",			OCTET },
	{ "/.json",		"application/json; charset=utf-8" },
	{ "/x.unknownext",	OCTET },
	{ "/x.averyveryverylongext",	OCTET },
	{ "/x.htm l",		OCTET },
	{ "/x.ht",		OCTET },
	{ "/x.htmlx",		OCTET },
};

int
main(void)
{
	const char	*t;
	size_t		 i;
	int		 sorted = 1, lower = 1;
	const char	*p;

	for (i = 1; i < nitems(mime_types); i++)
		if (strcmp(mime_types[i - 1].ext, mime_types[i].ext) >= 0) {
			sorted = 0;
			printf("# out of order: %s, %s\n",
			    mime_types[i - 1].ext, mime_types[i].ext);
		}
	unit_check(sorted, "table sorted, no duplicates (%zu types)",
	    nitems(mime_types));
	for (i = 0; i < nitems(mime_types); i++) {
		for (p = mime_types[i].ext; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				lower = 0;
		if (strlen(mime_types[i].ext) > MIME_EXT_MAX)
			lower = 0;
	}
	unit_check(lower, "table: lower case, at most MIME_EXT_MAX bytes");

	for (i = 0; i < nitems(rows); i++) {
		t = mime_lookup(rows[i].path, strlen(rows[i].path));
		unit_check(strcmp(t, rows[i].type) == 0, "%s: %s", rows[i].path,
		    t);
	}

	/* Only len bytes are read: the rest of the buffer does not count. */
	t = mime_lookup("/a.css.png", 6);
	unit_check(strcmp(t, "text/css; charset=utf-8") == 0,
	    "pointer + length: %s", t);
	t = mime_lookup("/a.c\0ss", 7);
	unit_check(strcmp(t, OCTET) == 0, "NUL in extension: %s", t);
	return unit_done();
}
