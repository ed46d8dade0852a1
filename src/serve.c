/*
 * serve.c: where a parsed request becomes a response. Decides the status
 * and the body (a file, a listing, a redirect, the status endpoint, an
 * error page), fills struct http_response through serve_begin(), and
 * sends through the connection's transport. Owns no process state: the
 * connection and its buffers come in as arguments. Allocates only for a
 * directory listing and a status page.
 */
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "cache.h"
#include "compress.h"
#include "file.h"
#include "http.h"
#include "scoreboard.h"
#include "serve.h"
#include "site.h"
#include "status.h"

#define TITLE_SEND_MIN_BYTES	(256 * 1024)	/* title shows the target */
#define TITLE_TARGET_BYTES	64	/* of it, escaped */
#define LOG_NAME_BYTES		1024	/* an escaped file name in a log */

static const char	serve_allow_methods[] = "GET, HEAD, OPTIONS";

/*
 * The representation of a file that is sent: the file's own type for a
 * precompressed sibling, its coding, and whether the choice depended on
 * Accept-Encoding (Vary).
 */
struct serve_rep {
	const char		*type;		/* NULL: the entry's own */
	const char		*coding;	/* Content-Encoding; NULL: none */
	bool			 vary;
	/* A variant compress made: its bytes and ETag, the entry's dates. */
	const struct cache_variant *var;
};
static const char	serve_html[] = "text/html; charset=utf-8";

/*
 * The one response setup: every response starts here, from the request's
 * version, persistence and method, with no body fields set.
 */
static void
serve_begin(struct conn *c, int status)
{
	memset(&c->resp, 0, sizeof(c->resp));
	c->resp.status = status;
	c->resp.minor = c->have_req ? c->req.minor : 1;
	c->resp.keepalive_10 = c->have_req && c->req.minor == 0 && !c->close;
	c->resp.head_only = c->have_req &&
	    c->req.method == HTTP_METHOD_HEAD;
	c->resp.content_length = -1;
	c->resp.size = -1;
	if (c->routed && status < 400)
		rule_fields(&c->rules, &c->resp);
}

/*
 * A long send shows its target in the process title (escaped and cut,
 * like the scoreboard's request line). Short answers do not pay for it:
 * they are over before anyone could read the title.
 */
static void
serve_title_sending(const struct conn *c)
{
	char	 target[TITLE_TARGET_BYTES];

	scoreboard_set_text(target, sizeof(target), c->req.target.p,
	    c->req.target.len);
	setproctitle("worker [sending %s]", target);
}

/*
 * Writes the head of c->resp and the body: from memory in the same
 * write, or len bytes of file fd from off after a head sent with
 * MSG_MORE. HEAD and bodiless statuses send the head alone. A file that
 * shrinks under us ends the connection where its data ends: the
 * Content-Length already sent can no longer be kept.
 */
static int
serve_send(struct conn *c, const char *body, size_t bodylen, int fd,
    off_t off, off_t len, const char *name)
{
	struct iovec	 iov[2];
	char		 esc[LOG_NAME_BYTES];
	int		 n, iovcnt = 1;

	c->resp.close = c->close;
	n = http_build_head(c->buf->out, c->buf->out_cap, &c->resp);
	if (n < 0) {
		/* Sized at start for the longest head tine builds. */
		log_warnx("response head does not fit");
		c->close = true;
		return -1;
	}
	c->status = c->resp.status;
	iov[0].iov_base = c->buf->out;
	iov[0].iov_len = (size_t)n;
	if (c->resp.head_only)
		return conn_write(c, iov, 1, false);
	if (body != NULL) {
		iov[1].iov_base = (void *)body;
		iov[1].iov_len = bodylen;
		iovcnt = 2;
	}
	if (conn_write(c, iov, iovcnt, fd != -1 && len > 0) == -1)
		return -1;
	if (body != NULL) {
		c->sent = (off_t)bodylen;
		return 0;
	}
	if (fd == -1 || len == 0)
		return 0;
	if (len >= TITLE_SEND_MIN_BYTES)
		serve_title_sending(c);
	switch (conn_send_file(c, fd, off, len)) {
	case 0:
		return 0;
	case 1:
		(void)log_escape(esc, sizeof(esc), name, strlen(name));
		log_warnx("%s: file shrank while being sent", esc);
		c->shrank = true;
		return -1;
	default:
		return -1;
	}
}

/*
 * error_page: a file beneath the request's root, sent whole with the
 * error's status (no validators: it stands for no resource). -1 when it
 * cannot be served, for the built-in page instead; logged, as it is a
 * config that does not match the files.
 */
static int
serve_error_file(struct conn *c, const char *path, int *rv)
{
	struct conn_buffers	*b = c->buf;
	struct cache_entry	*e = &b->uncached;
	char			 esc[LOG_NAME_BYTES];
	int			 status;

	if (b->file.fd != -1) {
		(void)close(b->file.fd);
		b->file.fd = -1;
	}
	status = file_resolve(c->rootfd, &c->site->sc, false, path, NULL, 0,
	    &b->file);
	if (status != 0 || b->file.kind != FILE_REGULAR) {
		(void)log_escape(esc, sizeof(esc), path, strlen(path));
		log_warnx("error_page %s: %s", esc, status != 0 ?
		    http_reason(status) : "not a regular file");
		if (b->file.fd != -1) {
			(void)close(b->file.fd);
			b->file.fd = -1;
		}
		return -1;
	}
	cache_describe(e, b->file.path, b->file.fd, &b->file.st);
	c->resp.content_type = e->type;
	c->resp.content_length = e->st.st_size;
	*rv = serve_send(c, NULL, 0, e->fd, 0, e->st.st_size, e->path);
	return 0;
}

int
serve_error(struct conn *c, int status)
{
	const char	*body, *page;
	size_t		 len;
	int		 rv;

	/* Errors that leave the stream's framing in doubt end it. */
	switch (status) {
	case HTTP_BAD_REQUEST:
	case HTTP_REQUEST_TIMEOUT:
	case HTTP_CONTENT_TOO_LARGE:
	case HTTP_URI_TOO_LONG:
	case HTTP_HEADERS_TOO_LARGE:
	case HTTP_EXPECTATION_FAILED:
	case HTTP_VERSION_NOT_SUPPORTED:
	case HTTP_INTERNAL_SERVER_ERROR:
		c->close = true;
		break;
	default:
		break;
	}
	serve_begin(c, status);
	c->resp.vary = c->error_vary;
	c->error_vary = NULL;
	switch (status) {
	case HTTP_METHOD_NOT_ALLOWED:
		c->resp.allow = serve_allow_methods;
		break;
	case HTTP_RANGE_NOT_SATISFIABLE:
		c->resp.size = c->size;
		break;
	case HTTP_SERVICE_UNAVAILABLE:
		c->resp.retry_after = CACHE_RETRY_AFTER_S;
		break;
	case HTTP_UNAUTHORIZED:
		c->resp.auth_realm = c->routed ? c->rules.realm : NULL;
		break;
	default:
		break;
	}
	if (c->routed && !c->error_page &&
	    (page = rule_error_page(&c->rules, status)) != NULL) {
		c->error_page = true;
		if (serve_error_file(c, page, &rv) == 0)
			return rv;
	}
	body = http_error_body(status, &len);
	c->resp.content_type = serve_html;
	c->resp.content_length = (off_t)len;
	return serve_send(c, body, len, -1, 0, 0, NULL);
}

int
serve_plain_on_tls(struct conn *c)
{
	static const char	 body[] = "This port speaks HTTPS: "
	    "send the request to https:// instead.\n";

	c->close = true;
	serve_begin(c, HTTP_BAD_REQUEST);
	c->resp.content_type = "text/plain; charset=utf-8";
	c->resp.content_length = (off_t)(sizeof(body) - 1);
	return serve_send(c, body, sizeof(body) - 1, -1, 0, 0, NULL);
}

/*
 * len bytes of e's file from off, after the head. A file found shorter
 * than its entry says leaves the cache at once, so the next request
 * resolves it afresh instead of failing the same way.
 */
static int
serve_file_range(struct conn *c, struct cache_entry *e,
    const struct cache_variant *var, off_t off, off_t len)
{
	int	 rv;

	if (var != NULL) {
		rv = serve_send(c, NULL, 0, var->fd, off, len, e->path);
		if (c->shrank && e != &c->buf->uncached)
			cache_drop(e);
		return rv;
	}
	if (e->data != NULL)
		return serve_send(c, e->data + off, (size_t)len, -1, 0, 0,
		    NULL);
	rv = serve_send(c, NULL, 0, e->fd, off, len, e->path);
	if (c->shrank && e != &c->buf->uncached)
		cache_drop(e);
	return rv;
}

/*
 * Serves a regular file, described by a cache entry (or by the uncached
 * one): validators, conditionals, range, then the body.
 * RFC 9110 §8.8.2.1: a modification time in the future (clock skew, a
 * copied tree) is replaced by the time of the response, so Last-Modified
 * is never later than Date; the conditionals compare against the same
 * value the client was given. Date is formatted after this time() call,
 * so it is never earlier.
 */
static int
serve_file(struct conn *c, struct cache_entry *e, const struct serve_rep *rep)
{
	struct http_range		 r;
	const struct stat		*st = &e->st;
	const struct cache_variant	*var = rep != NULL ? rep->var : NULL;
	const char			*etag;
	time_t				 mtime, now;
	off_t				 size;
	int				 status;

	mtime = st->st_mtim.tv_sec;
	now = time(NULL);
	etag = var != NULL ? var->etag : e->etag[0] != '\0' ? e->etag : "";
	size = var != NULL ? var->size : st->st_size;
	c->size = size;
	/* A 412 or 416 depends on the coding chosen too. */
	if (rep != NULL && rep->vary)
		c->error_vary = "Accept-Encoding";
	status = http_preconditions(&c->req, etag, mtime > now ? now : mtime);
	if (status == HTTP_PRECONDITION_FAILED)
		return serve_error(c, status);
	if (status == 0) {
		status = http_range_select(&c->req, size, etag,
		    mtime > now ? now : mtime, &r);
		if (status == HTTP_RANGE_NOT_SATISFIABLE)
			return serve_error(c, status);
	}
	c->error_vary = NULL;
	serve_begin(c, status);
	if (rep != NULL && rep->vary)
		c->resp.vary = "Accept-Encoding";
	if (mtime > now)
		mtime = now;
	else if (mtime != 0 && e->last_modified[0] != '\0')
		c->resp.last_modified_text = e->last_modified;
	c->resp.last_modified = mtime;
	c->resp.etag = etag[0] != '\0' ? etag : NULL;
	c->resp.accept_ranges = true;
	c->resp.size = size;
	if (status == HTTP_NOT_MODIFIED)
		return serve_send(c, NULL, 0, -1, 0, 0, NULL);
	c->resp.content_type = rep != NULL && rep->type != NULL ? rep->type :
	    e->type;
	if (rep != NULL)
		c->resp.content_encoding = rep->coding;
	if (status == HTTP_PARTIAL_CONTENT) {
		c->resp.range = r;
		c->resp.content_length = r.last - r.first + 1;
		return serve_file_range(c, e, var, r.first,
		    r.last - r.first + 1);
	}
	c->resp.content_length = size;
	return serve_file_range(c, e, var, 0, size);
}

/* The siblings precompressed serves, in the order of enum http_coding. */
static const char *const serve_sibling_ext[HTTP_CODING_COUNT] = {
	[HTTP_CODING_BR] = ".br",
	[HTTP_CODING_ZSTD] = ".zst",
	[HTTP_CODING_GZIP] = ".gz",
};
static const char *const serve_coding_name[HTTP_CODING_COUNT] = {
	[HTTP_CODING_BR] = "br",
	[HTTP_CODING_ZSTD] = "zstd",
	[HTTP_CODING_GZIP] = "gzip",
};

/*
 * JSON for ?format=json, or for an Accept field that weighs
 * application/json above text/html (RFC 9110 §12.5.1; a tie, no Accept
 * field, or q=0 for JSON keeps the HTML page). Either way the answer
 * depends on Accept, so both forms say Vary: Accept.
 */
static enum file_listing_format
serve_listing_format(const struct conn *c)
{
	int	 json;

	if (http_query_has(c->req.query, "format=json"))
		return FILE_LISTING_JSON;
	json = http_accept_quality(&c->req, "application", "json");
	return json > 0 && json > http_accept_quality(&c->req, "text", "html") ?
	    FILE_LISTING_JSON : FILE_LISTING_HTML;
}

static int
serve_listing(struct conn *c)
{
	struct file_result	*f = &c->buf->file;
	enum file_listing_format fmt = serve_listing_format(c);
	char			*body = NULL;
	size_t			 len = 0;
	int			 status, rv;

	status = file_listing(c->rootfd, f->fd, f->path, fmt, &body, &len);
	f->fd = -1;	/* consumed */
	if (status != 0)
		return serve_error(c, status);
	serve_begin(c, HTTP_OK);
	c->resp.content_type = fmt == FILE_LISTING_JSON ? "application/json" :
	    serve_html;
	c->resp.vary = "Accept";
	c->resp.content_length = (off_t)len;
	rv = serve_send(c, body, len, -1, 0, 0, NULL);
	free(body);
	return rv;
}

static int
serve_redirect(struct conn *c)
{
	const char	*body;
	size_t		 len;

	serve_begin(c, HTTP_MOVED_PERMANENTLY);
	c->resp.location = c->buf->file.location;
	body = http_error_body(HTTP_MOVED_PERMANENTLY, &len);
	c->resp.content_type = serve_html;
	c->resp.content_length = (off_t)len;
	return serve_send(c, body, len, -1, 0, 0, NULL);
}

/*
 * A regular file just resolved for the request path: into the cache (as
 * a new entry, or revalidating the stale one), else described for this
 * one response, its descriptor then closed at the next request.
 */
static struct cache_entry *
serve_cache_file(struct conn *c, const char *key, struct cache_entry *stale,
    int64_t now)
{
	struct conn_buffers	*b = c->buf;
	struct cache_entry	*e;

	if (stale != NULL)
		e = cache_refresh(stale, b->file.path, b->file.fd, &b->file.st,
		    now);
	else
		e = cache_put(key, b->file.path, b->file.fd, &b->file.st,
		    now);
	if (e != NULL) {
		b->file.fd = -1;	/* the cache's now */
		return e;
	}
	cache_describe(&b->uncached, b->file.path, b->file.fd, &b->file.st);
	return &b->uncached;
}

/*
 * What serves the normalised path in b->path: the location that matches
 * it (site.c), whose own root, index and autoindex replace the site's;
 * the root's descriptor; and the rules of site and location (rule.c).
 */
/* precompressed of the request's location, else of its site. */
static bool
serve_precompressed(const struct conn *c)
{
	if (c->loc != NULL && c->loc->sc.precompressed_set)
		return c->loc->sc.precompressed;
	return c->site->sc.precompressed;
}

/* compress of the request's location, else of its site. */
static bool
serve_compress(const struct conn *c)
{
	if (c->loc != NULL && c->loc->sc.compress_set)
		return c->loc->sc.compress;
	return c->site->sc.compress;
}

static void
serve_scope(struct conn *c, const struct scope **idx, bool *autoindex)
{
	const struct site	*site = c->site;
	const struct location	*loc = NULL;
	int			 root_id = site->sc.root_id;

	*idx = &site->sc;
	*autoindex = site->sc.autoindex;
	if (site->nlocs > 0 || c->conf->nlocs > 0)
		loc = site_location(c->conf, site, c->buf->path);
	c->loc = loc;
	if (loc != NULL) {
		if (loc->sc.root_id >= 0)
			root_id = loc->sc.root_id;
		if (loc->sc.nindex > 0)
			*idx = &loc->sc;
		if (loc->sc.autoindex_set)
			*autoindex = loc->sc.autoindex;
	}
	c->rootfd = c->rootfds[root_id];
	rule_select(&c->rules, c->conf, site, loc);
	c->routed = true;
}

/*
 * The cache key of b->path: the path itself for the first site without
 * a location (the one-site config pays nothing), else prefixed with the
 * site and location ids: the same path may name another file through
 * another root or index list. "SITE:LOC:PATH", formatted by hand: this
 * runs for every request to a config with sites or locations, where
 * snprintf(3) cost a quarter of what routing adds.
 */
static const char *
serve_key(struct conn *c)
{
	char	*k = c->buf->key, *p;
	size_t	 len = strlen(c->buf->path);

	if (c->site->id == 0 && c->loc == NULL)
		return c->buf->path;
	/*
	 * Too long: a key one byte longer than any stored one, so never
	 * found and never stored (conn.h); the file is served uncached.
	 * Two ids take at most 22 bytes with their colons.
	 */
	if (len + 22 >= sizeof(c->buf->key)) {
		memset(k, '-', sizeof(c->buf->key) - 1);
		k[sizeof(c->buf->key) - 1] = '\0';
		return k;
	}
	p = util_put_uint(k, (unsigned)c->site->id);
	*p++ = ':';
	p = util_put_uint(p, c->loc != NULL ? (unsigned)c->loc->id + 1 : 0);
	*p++ = ':';
	memcpy(p, c->buf->path, len + 1);
	return k;
}

/*
 * auth_basic: the credentials of the Authorization field against the
 * auth_file. A missing or malformed field is refused at once (it holds
 * no secret to time); a well-formed one costs one crypt(3) whether the
 * user exists or not (auth.c). The decoded password is wiped.
 */
static bool
serve_auth(struct conn *c)
{
	const struct auth_file	*af = c->rules.auth;
	const struct http_str	*v = &c->req.authorization;
	char			 cred[AUTH_CRED_MAX + 4];
	const char		*user, *pw;
	size_t			 ulen;
	int			 i;

	if (v->p == NULL || c->req.authorization_multi || af == NULL ||
	    auth_credentials(v->p, v->len, cred, sizeof(cred), &user, &ulen,
	    &pw) == -1)
		return false;
	i = auth_verify(af, user, ulen, pw);
	explicit_bzero(cred, sizeof(cred));
	if (i < 0)
		return false;
	c->user = af->users[i].name;
	c->user_len = af->users[i].len;
	return true;
}

/* $host without a Host field (HTTP/1.0): the site's first exact name. */
static const char *
serve_default_host(const struct site *site)
{
	int	 i;

	for (i = 0; i < site->nnames; i++)
		if (site->names[i][0] != '*')
			return site->names[i];
	return "localhost";
}

/* return CODE [URL]: a redirect with the URL filled in, or a page. */
static int
serve_return(struct conn *c)
{
	const struct rule_return	*r = c->rules.ret;
	struct rule_vars		 v;
	const char			*body;
	size_t				 len;

	if (r->url == NULL) {
		if (r->code != HTTP_NO_CONTENT)
			return serve_error(c, r->code);
		serve_begin(c, r->code);
		return serve_send(c, NULL, 0, -1, 0, 0, NULL);
	}
	memset(&v, 0, sizeof(v));
	v.https = c->lis->tls;
	/* An empty Host is no Host: "https:///x" would name host "x". */
	v.host = c->req.host.len > 0 ? c->req.host.p : NULL;
	v.hostlen = c->req.host.len;
	v.default_host = serve_default_host(c->site);
	v.path = c->req.path.p;
	v.pathlen = c->req.path.len;
	v.query = c->req.query.p;
	v.querylen = c->req.query.len;
	/* location_cap was sized for the longest return URL at start. */
	if (rule_expand(r->url, &v, c->buf->file.location,
	    c->buf->file.location_cap) == -1)
		return serve_error(c, HTTP_INTERNAL_SERVER_ERROR);
	serve_begin(c, r->code);
	c->resp.location = c->buf->file.location;
	body = http_error_body(r->code, &len);
	c->resp.content_type = serve_html;
	c->resp.content_length = (off_t)len;
	return serve_send(c, body, len, -1, 0, 0, NULL);
}

/*
 * The rules that answer before any file: allow/deny (403), auth_basic
 * (401), return (not for a path tine took on its own, rerouted). 1 when
 * the request goes on to its file, else 0 with *rv the result of the
 * answer sent.
 */
static int
serve_rules(struct conn *c, bool rerouted, int *rv)
{
	const struct rules	*r = &c->rules;

	if (r->naccess > 0 && rule_denied(r,
	    (const struct sockaddr *)&c->peer)) {
		*rv = serve_error(c, HTTP_FORBIDDEN);
		return 0;
	}
	if (r->realm != NULL && !serve_auth(c)) {
		*rv = serve_error(c, HTTP_UNAUTHORIZED);
		return 0;
	}
	/*
	 * A return answers the URL the client asked for; an index file or
	 * fallback path taken on its way is no such URL ("location
	 * /index.html { return 301 / }" must not send / back to itself).
	 */
	if (r->ret != NULL && !rerouted) {
		*rv = serve_return(c);
		return 0;
	}
	return 1;
}

/* Whether a sibling is no older than its file: else it is stale. */
static bool
serve_sibling_fresh(const struct stat *sib, const struct stat *f)
{
	if (sib->st_mtim.tv_sec != f->st_mtim.tv_sec)
		return sib->st_mtim.tv_sec > f->st_mtim.tv_sec;
	/*
	 * The same second. A time of whole seconds was set by a tool, not
	 * by a write: brotli -k copies F's time so, and its sibling is not
	 * known to be older than F at that precision.
	 */
	return sib->st_mtim.tv_nsec == 0 ||
	    sib->st_mtim.tv_nsec >= f->st_mtim.tv_nsec;
}

/*
 * The cache entry of the sibling F.ext of the file F that e holds (F is
 * the index file when a directory was asked for), keyed like F with the
 * same site and location prefix, found the same confined way as any
 * file and remembered either way: a missing one as absent, so that it
 * costs no system call per request within CACHE_CHECK_MS. NULL when
 * there is none to serve.
 */
static struct cache_entry *
serve_sibling(struct conn *c, const char *key, const struct cache_entry *e,
    const char *ext, const struct scope *idx, int64_t now)
{
	struct file_result	 sf;
	struct cache_entry	*s;
	char			 skey[CACHE_PATH_BYTES], spath[PATH_MAX];
	size_t			 klen = strlen(key), plen = strlen(c->buf->path);

	/* key is the request path, or ids and a colon before it. */
	if (klen < plen || strcmp(key + klen - plen, c->buf->path) != 0 ||
	    xsnprintf(skey, sizeof(skey), "%.*s%s%s", (int)(klen - plen), key,
	    e->path, ext) == -1 ||
	    xsnprintf(spath, sizeof(spath), "%s%s", e->path, ext) == -1)
		return NULL;
	if ((s = cache_get(skey, now)) != NULL)
		return s->absent ? NULL : s;
	if ((s = cache_peek(skey)) != NULL)
		cache_drop(s);
	memset(&sf, 0, sizeof(sf));
	sf.fd = -1;
	/* Unused by a regular file's answer; a sibling that is a directory
	   writes its redirect there and is not served. */
	sf.location = c->buf->file.location;
	sf.location_cap = c->buf->file.location_cap;
	if (file_resolve(c->rootfd, idx, false, spath, NULL, 0, &sf) != 0 ||
	    sf.kind != FILE_REGULAR) {
		if (sf.fd != -1)
			(void)close(sf.fd);
		cache_put_absent(skey, now);
		return NULL;
	}
	if ((s = cache_put(skey, sf.path, sf.fd, &sf.st, now)) == NULL)
		(void)close(sf.fd);	/* too long to keep: not served */
	return s;
}

/*
 * A regular file, or with precompressed on the smallest of its siblings
 * the client accepts (F.br, F.zst, F.gz, no older than F), sent with
 * F's type, its own validators and Content-Encoding; either way the
 * answer says Vary: Accept-Encoding.
 */
static int
serve_found(struct conn *c, struct cache_entry *e, const char *key,
    const struct scope *idx, int64_t now)
{
	struct cache_entry	*sib[HTTP_CODING_COUNT] = { NULL };
	struct serve_rep	 rep = { NULL, NULL, true, NULL };
	unsigned		 avail = 0, made = 0;
	int			 i;
	bool			 pre, comp;
	enum http_coding	 coding;

	pre = serve_precompressed(c);
	comp = serve_compress(c) && compress_covers(c->conf, e);
	if (!pre && !comp)
		return serve_file(c, e, NULL);
	/* An uncached file has no key for siblings, nor an entry to hold
	   variants: identity, but the answer still depends on the coding. */
	if (e == &c->buf->uncached)
		return serve_file(c, e, &rep);
	for (i = HTTP_CODING_BR; pre && i < HTTP_CODING_COUNT; i++) {
		sib[i] = serve_sibling(c, key, e, serve_sibling_ext[i], idx,
		    now);
		if (sib[i] != NULL && serve_sibling_fresh(&sib[i]->st, &e->st))
			avail |= 1u << i;
	}
	/* A sibling the user made comes before a variant tine made. */
	if (comp)
		made = compress_variants(c->conf, e, now) & ~avail;
	coding = http_accept_encoding(&c->req, avail | made);
	if (coding == HTTP_CODING_IDENTITY) {
		if (comp && sb_self != NULL && http_accept_encoding(&c->req,
		    HTTP_CODINGS_ALL & ~e->var_none & ~avail) !=
		    HTTP_CODING_IDENTITY)
			sb_self->compress_misses++;
		return serve_file(c, e, &rep);
	}
	rep.type = e->type;
	rep.coding = serve_coding_name[coding];
	if (sb_self != NULL)
		sb_self->encoded++;
	if (made & (1u << coding)) {
		rep.var = &e->var[coding];
		e->var_served |= 1u << coding;
		compress_tell_used(e, now);
		if (sb_self != NULL)
			sb_self->compress_hits++;
		return serve_file(c, e, &rep);
	}
	return serve_file(c, sib[coding], &rep);
}

/*
 * Whether the index file just found for a directory lies in another
 * location than the directory: then it is served as if asked for by its
 * own path, so that a rule on /adm/index.html cannot be walked around by
 * asking for /adm/.
 */
static bool
serve_index_moves(const struct conn *c)
{
	const struct file_result	*f = &c->buf->file;

	return (c->site->nlocs > 0 || c->conf->nlocs > 0) &&
	    strcmp(f->path, c->buf->path) != 0 &&
	    site_location(c->conf, c->site, f->path) != c->loc;
}

/*
 * GET and HEAD of a path beneath root. A path whose cache entry was
 * checked within the last second is served from it with no system call;
 * otherwise it is resolved afresh (the same confined open as without a
 * cache, so symlinks and permissions are judged anew) and the entry is
 * kept, replaced or dropped by what that finds. Two paths are taken as
 * if they had been asked for (location and rules matched again): the
 * fallback, once, for a path that does not exist, and an index file in
 * another location than its directory. SERVE_HOPS_MAX bounds the two.
 */
#define SERVE_HOPS_MAX	3
static int
serve_path(struct conn *c)
{
	struct conn_buffers	*b = c->buf;
	struct cache_entry	*e;
	const struct scope	*idx;
	const char		*key;
	int64_t			 now;
	int			 status, rv, hops = 0;
	bool			 autoindex, fell_back = false;

	status = file_normalize(c->req.path.p, c->req.path.len, b->path,
	    sizeof(b->path));
	if (status != 0)
		return serve_error(c, status);
	now = util_now_ms();
again:
	serve_scope(c, &idx, &autoindex);
	if (serve_rules(c, hops > 0, &rv) == 0)
		return rv;
	key = serve_key(c);
	if ((e = cache_get(key, now)) != NULL && !e->absent)
		return serve_found(c, e, key, idx, now);
	/* Stale, or NULL; one looked for as a sibling and absent: none. */
	if ((e = cache_peek(key)) != NULL && e->absent) {
		cache_drop(e);
		e = NULL;
	}
	status = cache_resolve(&e, c->rootfd, idx, autoindex, b->path,
	    c->req.query.p, c->req.query.len, &b->file);
	if (status != 0 || b->file.kind != FILE_REGULAR) {
		if (e != NULL)
			cache_drop(e);
		if (status == HTTP_NOT_FOUND && c->rules.fallback != NULL &&
		    !fell_back && hops++ < SERVE_HOPS_MAX) {
			fell_back = true;
			/* Checked at load: fits, and normalised. */
			(void)strlcpy(b->path, c->rules.fallback,
			    sizeof(b->path));
			goto again;
		}
		if (status != 0)
			return serve_error(c, status);
	} else if (serve_index_moves(c) && hops++ < SERVE_HOPS_MAX) {
		if (e != NULL)
			cache_drop(e);
		(void)close(b->file.fd);	/* read-only */
		b->file.fd = -1;
		/* Both are PATH_MAX. */
		(void)strlcpy(b->path, b->file.path, sizeof(b->path));
		goto again;
	}
	switch (b->file.kind) {
	case FILE_REGULAR:
		return serve_found(c, serve_cache_file(c, key, e, now), key,
		    idx, now);
	case FILE_LISTING:
		return serve_listing(c);
	case FILE_REDIRECT:
		return serve_redirect(c);
	}
	return serve_error(c, HTTP_INTERNAL_SERVER_ERROR);
}

/*
 * ?format=prometheus, or a client that weighs text/plain above JSON (a
 * scraper): the same query and Accept rules as the listings.
 */
static enum status_format
serve_status_format(const struct conn *c)
{
	int	 text;

	if (http_query_has(c->req.query, "format=prometheus"))
		return STATUS_PROMETHEUS;
	text = http_accept_quality(&c->req, "text", "plain");
	return text > 0 && text > http_accept_quality(&c->req, "application",
	    "json") ? STATUS_PROMETHEUS : STATUS_JSON;
}

/*
 * The status endpoint: the scoreboard as JSON or Prometheus text, for
 * status_allow clients only. Rare and bounded, so its buffer is
 * allocated per request, sized by status_size(), which bounds the slot
 * count read from shared memory.
 */
static int
serve_status(struct conn *c)
{
	enum status_format	 fmt;
	char			*buf;
	size_t			 size;
	int			 n, rv;

	if (!config_cidr_match(c->conf, (struct sockaddr *)&c->peer))
		return serve_error(c, HTTP_FORBIDDEN);
	fmt = serve_status_format(c);
	size = status_size(sb_table);
	if ((buf = malloc(size)) == NULL) {
		log_warn("status");
		return serve_error(c, HTTP_INTERNAL_SERVER_ERROR);
	}
	if ((n = status_render(buf, size, sb_table, fmt)) < 0) {
		log_warnx("status does not fit in %zu bytes", size);
		free(buf);
		return serve_error(c, HTTP_INTERNAL_SERVER_ERROR);
	}
	serve_begin(c, HTTP_OK);
	c->resp.content_type = fmt == STATUS_PROMETHEUS ?
	    "text/plain; version=0.0.4; charset=utf-8" : "application/json";
	c->resp.content_length = n;
	c->resp.no_store = true;
	rv = serve_send(c, buf, (size_t)n, -1, 0, 0, NULL);
	free(buf);
	return rv;
}

static bool
serve_is_status_path(const struct conn *c)
{
	const char	*sp = c->conf->status_path;

	return sp[0] != '\0' && sb_table != NULL &&
	    c->req.path.len == strlen(sp) &&
	    memcmp(c->req.path.p, sp, c->req.path.len) == 0;
}

#ifdef TINE_TEST_HOOKS
/* Whether the request's path is /.tine-test/NAME. */
static bool
serve_test_is(const struct conn *c, const char *name)
{
	static const char	 prefix[] = "/.tine-test/";
	size_t			 plen = sizeof(prefix) - 1, nlen = strlen(name);

	return c->req.path.len == plen + nlen &&
	    memcmp(c->req.path.p, prefix, plen) == 0 &&
	    memcmp(c->req.path.p + plen, name, nlen) == 0;
}

/* The hook's open succeeded (no sandbox), or its status. */
static int
serve_test_open(struct conn *c, const char *path)
{
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return serve_error(c, file_errno_status(errno));
	(void)close(fd);	/* read-only, unread */
	serve_begin(c, HTTP_OK);
	c->resp.content_length = 7;
	return serve_send(c, "opened\n", 7, -1, 0, 0, NULL);
}

/*
 * Marks every other worker's slot as stuck reading since long ago (the
 * watchdog would abort them): through the read-only view made writable,
 * and through the own page grown over the next. Returns whether either
 * way worked.
 */
static bool
serve_test_forge(void)
{
	struct sb_slot	*s;
	size_t		 i, n;
	void		*p;
	bool		 forged = false;

	if (sb_table == NULL || sb_self == NULL)
		return false;
	n = scoreboard_scan_bound(sb_table);
	if (mprotect(sb_table, sizeof(*sb_table), PROT_READ | PROT_WRITE) ==
	    0) {
		for (i = 0; i < n; i++) {
			s = &sb_table->slots[i];
			if (s->pid == getpid() || s->pid == 0)
				continue;
			s->state = SB_READING;
			s->progress_ms = 1;
		}
		forged = true;
	}
	p = mremap(sb_self, sizeof(*sb_self), 2 * sizeof(*sb_self), 0);
	if (p != MAP_FAILED) {
		s = (struct sb_slot *)p + 1;
		s->state = SB_READING;
		s->progress_ms = 1;
		forged = true;
	}
	return forged;
}

/*
 * Through the compressor's queue, a message addressed to the unix socket
 * named in the query: 200 when sent (the kernel ignores the name on a
 * SOCK_SEQPACKET queue: it reaches the compressor), else 403.
 */
static int
serve_test_unixsend(struct conn *c, int fd)
{
	struct sockaddr_un	 sun;
	struct msghdr		 msg;
	struct iovec		 iov;
	char			 forged[] = "forged";
	long			 sent;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (c->req.query.len == 0 || c->req.query.len >= sizeof(sun.sun_path))
		return serve_error(c, HTTP_BAD_REQUEST);
	memcpy(sun.sun_path, c->req.query.p, c->req.query.len);
	iov.iov_base = forged;
	iov.iov_len = sizeof(forged) - 1;
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &sun;
	msg.msg_namelen = sizeof(sun);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	/* The descriptor as it is, and with bits above the 32 the kernel
	   reads (the filter compares all 64). */
	sent = syscall(SYS_sendmsg, (long)fd, &msg, MSG_DONTWAIT);
	if (sent == -1)
		sent = syscall(SYS_sendmsg, (long)fd | 1L << 32, &msg,
		    MSG_DONTWAIT);
	if (sent == -1)
		return serve_error(c, HTTP_FORBIDDEN);
	serve_begin(c, HTTP_OK);
	c->resp.content_length = 5;
	return serve_send(c, "sent\n", 5, -1, 0, 0, NULL);
}

/* Memory that is written, then run: 200 "ran" if it could be. */
static int
serve_test_exec(struct conn *c)
{
	/* x86-64 "mov eax, 42; ret", arm64 "mov w0, #42; ret". */
#if defined(__x86_64__)
	static const unsigned char code[] = { 0xb8, 42, 0, 0, 0, 0xc3 };
#elif defined(__aarch64__)
	static const unsigned char code[] = { 0x40, 0x05, 0x80, 0x52,
	    0xc0, 0x03, 0x5f, 0xd6 };
#else
	static const unsigned char code[] = { 0 };
#endif
	void	*p;
	int	 (*fn)(void);

	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return serve_error(c, HTTP_INTERNAL_SERVER_ERROR);
	memcpy(p, code, sizeof(code));
	if (sizeof(code) < 2 || mprotect(p, 4096, PROT_READ | PROT_EXEC) ==
	    -1) {
		(void)munmap(p, 4096);
		return serve_error(c, HTTP_FORBIDDEN);
	}
	fn = (int (*)(void))p;
	if (fn() != 42) {
		(void)munmap(p, 4096);
		return serve_error(c, HTTP_INTERNAL_SERVER_ERROR);
	}
	(void)munmap(p, 4096);
	serve_begin(c, HTTP_OK);
	c->resp.content_length = 4;
	return serve_send(c, "ran\n", 4, -1, 0, 0, NULL);
}

/*
 * Test builds only: requests under /.tine-test/ that act as a worker
 * gone wrong would, or as an attacker who controls one. hang stops
 * making progress for good (the watchdog); passwd opens /etc/passwd and
 * beside a file next to the first root (Landlock refuses both: 403);
 * execve runs /bin/sh, ptrace peeks at the master, shutdown stops the
 * shared listener listening and fcntl makes it signal every worker
 * (the seccomp filter kills the worker); queue shuts the compressor's
 * queue for every worker (refused: 403, done: 500); scoreboard forges the other
 * workers' slots (refused: 403, done: 500); exec runs bytes it wrote
 * (refused: 403, ran: 200); unixsend sends through the queue to a
 * named socket, sendto to an address (the filter kills the worker),
 * setfl changes the listener's shared flags (refused: 403); log writes
 * a line to the error log (then 404); syslogsend sends to a named socket
 * through syslog's, syslogclose closes that (refused: 403). The
 * descriptor is also tried with high bits set, which the kernel drops. Release
 * builds do not
 * contain this. Returns 1 with *rv set when the path was a hook.
 */
static int
serve_test_hook(struct conn *c, int *rv)
{
	static char	*const argv[] = { "sh", "-c", ":", NULL };
	char		 path[PATH_MAX];

	if (serve_test_is(c, "hang"))
		for (;;)	/* poll(): a call the sandbox allows */
			(void)poll(NULL, 0, -1);
	if (serve_test_is(c, "passwd")) {
		*rv = serve_test_open(c, "/etc/passwd");
		return 1;
	}
	if (serve_test_is(c, "beside")) {
		if (xsnprintf(path, sizeof(path), "%s/../beside.txt",
		    c->conf->roots[0]) == -1)
			*rv = serve_error(c, HTTP_NOT_FOUND);
		else
			*rv = serve_test_open(c, path);
		return 1;
	}
	if (serve_test_is(c, "execve")) {
		(void)execve("/bin/sh", argv, NULL);
		*rv = serve_error(c, HTTP_INTERNAL_SERVER_ERROR);
		return 1;
	}
	if (serve_test_is(c, "ptrace")) {
		(void)ptrace(PTRACE_PEEKDATA, getppid(), NULL, NULL);
		*rv = serve_error(c, HTTP_INTERNAL_SERVER_ERROR);
		return 1;
	}
	/* Attacks on the listener every worker shares. */
	if (serve_test_is(c, "shutdown")) {
		(void)shutdown(c->lis->fd, SHUT_RD);
		*rv = serve_error(c, HTTP_INTERNAL_SERVER_ERROR);
		return 1;
	}
	if (serve_test_is(c, "scoreboard")) {
		*rv = serve_error(c, serve_test_forge() ?
		    HTTP_INTERNAL_SERVER_ERROR : HTTP_FORBIDDEN);
		return 1;
	}
	if (serve_test_is(c, "exec")) {
		*rv = serve_test_exec(c);
		return 1;
	}
	if (serve_test_is(c, "log")) {
		log_warnx("a line from worker %ld", (long)getpid());
		*rv = serve_error(c, HTTP_NOT_FOUND);
		return 1;
	}
	if (serve_test_is(c, "unixsend")) {
		*rv = serve_test_unixsend(c, compress_queue_send_fd());
		return 1;
	}
	if (serve_test_is(c, "syslogsend")) {
		*rv = serve_test_unixsend(c, log_syslog_fd());
		return 1;
	}
	if (serve_test_is(c, "syslogclose")) {
		*rv = serve_error(c, log_syslog_fd() != -1 &&
		    syscall(SYS_close, (long)log_syslog_fd()) == -1 &&
		    syscall(SYS_close, (long)log_syslog_fd() | 1L << 32) ==
		    -1 ? HTTP_FORBIDDEN : HTTP_INTERNAL_SERVER_ERROR);
		return 1;
	}
	if (serve_test_is(c, "sendto")) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		(void)sendto(c->fd, "x", 1, MSG_DONTWAIT, (void *)&sun,
		    sizeof(sun));
		*rv = serve_error(c, HTTP_INTERNAL_SERVER_ERROR);
		return 1;
	}
	if (serve_test_is(c, "setfl")) {
		int fl = fcntl(c->lis->fd, F_GETFL);

		*rv = serve_error(c, fl != -1 && fcntl(c->lis->fd, F_SETFL,
		    fl ^ O_NONBLOCK) == -1 ? HTTP_FORBIDDEN :
		    HTTP_INTERNAL_SERVER_ERROR);
		return 1;
	}
	if (serve_test_is(c, "queue")) {
		*rv = serve_error(c, syscall(SYS_shutdown,
		    (long)compress_queue_send_fd(), SHUT_WR) == -1 &&
		    syscall(SYS_shutdown, (long)compress_queue_send_fd() |
		    1L << 32, SHUT_WR) == -1 ? HTTP_FORBIDDEN :
		    HTTP_INTERNAL_SERVER_ERROR);
		return 1;
	}
	if (serve_test_is(c, "fcntl")) {
		(void)fcntl(c->lis->fd, F_SETSIG, SIGKILL);
		*rv = serve_error(c, HTTP_INTERNAL_SERVER_ERROR);
		return 1;
	}
	return 0;
}
#endif

/*
 * The site: by Host among the sites of the listener. On TLS the
 * handshake already chose a certificate (by SNI, or the default site's);
 * a Host whose site has another certificate is misdirected (RFC 9110
 * §15.5.20): the client may not assume this connection speaks for it,
 * and answering would let one site's certificate vouch for another.
 */
static int
serve_route(struct conn *c)
{
	int	 i;

	/*
	 * No Host (HTTP/1.0) names no other site: on TLS the site SNI
	 * named answers, or without SNI the first with the certificate
	 * the handshake chose.
	 */
	if (c->lis->tls && c->req.host.len == 0) {
		if (c->sni_site != NULL && c->sni_site->tls_id == c->tls_id) {
			c->site = c->sni_site;
			return 0;
		}
		for (i = 0; i < c->lis->nsites; i++)
			if (c->lis->sites[i]->tls_id == c->tls_id) {
				c->site = c->lis->sites[i];
				return 0;
			}
	}
	c->site = site_route(c->lis, c->req.host.p, c->req.host.len);
	if (!c->lis->tls || c->site->tls_id == c->tls_id)
		return 0;
	return HTTP_MISDIRECTED_REQUEST;
}

/*
 * OPTIONS for a path: the methods, with the header lines of its site
 * and location (a CORS answer is configured with header) unless
 * allow/deny turn the client away. Auth does not apply: a browser's
 * preflight carries no credentials.
 */
static int
serve_options(struct conn *c)
{
	const struct scope	*idx;
	bool			 autoindex;
	int			 status;

	if (!c->req.asterisk && !serve_is_status_path(c)) {
		status = file_normalize(c->req.path.p, c->req.path.len,
		    c->buf->path, sizeof(c->buf->path));
		if (status != 0)
			return serve_error(c, status);
		serve_scope(c, &idx, &autoindex);
		if (c->rules.naccess > 0 && rule_denied(&c->rules,
		    (const struct sockaddr *)&c->peer))
			return serve_error(c, HTTP_FORBIDDEN);
	}
	serve_begin(c, HTTP_NO_CONTENT);
	c->resp.allow = serve_allow_methods;
	return serve_send(c, NULL, 0, -1, 0, 0, NULL);
}

int
serve_request(struct conn *c)
{
	int	 status;

	if ((status = serve_route(c)) != 0)
		return serve_error(c, status);
	switch (c->req.method) {
	case HTTP_METHOD_GET:
	case HTTP_METHOD_HEAD:
		if (c->req.asterisk)
			return serve_error(c, HTTP_BAD_REQUEST);
#ifdef TINE_TEST_HOOKS
		if (serve_test_hook(c, &status) == 1)
			return status;
#endif
		if (serve_is_status_path(c))
			return serve_status(c);
		return serve_path(c);
	case HTTP_METHOD_OPTIONS:
		return serve_options(c);
	case HTTP_METHOD_UNKNOWN:
		return serve_error(c, HTTP_NOT_IMPLEMENTED);
	default:
		return serve_error(c, HTTP_METHOD_NOT_ALLOWED);
	}
}
