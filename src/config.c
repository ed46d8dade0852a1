/*
 * config.c: reads tine.conf (sshd_config style) into a struct config,
 * reporting every error as FILE:LINE before it fails; checks what tine -t
 * needs at run time and writes the effective config for tine -T. One
 * table of directives (value type, contexts, field) drives all three. Has
 * no side effects: it never binds, creates, writes or changes identity.
 */
#include <sys/param.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth.h"
#include "site.h"
#include "tine.h"

#define CONFIG_WS		" \t\r\f\v"	/* separates tokens */
/* Tokens kept per line: keyword, the most values any directive takes, one
 * more to notice extra values. */
#define CONFIG_VALUES_MAX	(INDEX_NAMES_MAX > STATUS_ALLOW_MAX ? \
				 INDEX_NAMES_MAX : STATUS_ALLOW_MAX)
#define CONFIG_ARGS_MAX		(CONFIG_VALUES_MAX + 2)
#define CONFIG_SHOW_MAX		128	/* token bytes echoed in a message */
#define CONFIG_SHOW_BYTES	(4 * CONFIG_SHOW_MAX + 4) /* vis, "..." */
#define CONFIG_DEFAULT_LISTEN	"*:8080"
/* A token's characters (RFC 9110 §5.6.2), letters in lower case. */
#define CONFIG_TCHARS		"!#$%&'*+-.^_`|~0123456789" \
				"abcdefghijklmnopqrstuvwxyz"
#define CONFIG_NAME_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
				"abcdefghijklmnopqrstuvwxyz0123456789._-"
#define CONFIG_DIGITS		"0123456789"
#define CONFIG_HOST_CHARS	"abcdefghijklmnopqrstuvwxyz" \
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
#define PORT_MIN		1
#define PORT_MAX		65535

/*
 * Where a directive may appear, one bit per context; a row of the table
 * holds the union (SPEC, "Sites, rules, TLS, compression"). A row
 * allowed in a block keeps its value in struct scope, one per level
 * (top, site, location); the rules still to come (header, return,
 * fallback, error_page, allow/deny, auth_basic) are rows and scope
 * fields of the same kind, merged by config_inherit().
 */
#define CTX_MAIN		0x01	/* top level */
#define CTX_SERVER		0x02	/* inside server NAME... { } */
#define CTX_LOCATION		0x04	/* inside location GLOB { } */
#define CTX_ANY			(CTX_MAIN | CTX_SERVER | CTX_LOCATION)

struct parse;
struct directive;

/*
 * What a directive's values are. Each type has a setter, which checks the
 * values and stores them in the row's field (0, or -1 after reporting),
 * and a dumper, which writes that field back as a line the setter takes.
 */
enum config_type {
	T_NUMBER,	/* digits, min..max */
	T_SECONDS,	/* digits, min..max; every max is TIMEOUT_MAX_S */
	T_SIZE,		/* digits and an optional k or m, min..max bytes */
	T_FLAG,		/* on or off */
	T_NAME,		/* a user or group name */
	T_PATH,		/* a file, relative to the config's directory */
	T_PATH_OFF,	/* the same, or off */
	T_DIR,		/* an existing directory, stored resolved */
	T_LIST,		/* file names; each line replaces the list */
	T_LISTEN,	/* ADDR:PORT, one listener a line */
	T_WORKERS,	/* a number or auto */
	T_ERROR_LOG,	/* stderr, syslog or a file */
	T_URL_PATH,	/* a URL path, or off */
	T_CIDRS,	/* addresses with optional prefixes, added up */
	T_TEXT,		/* any non-empty text, checked by its user */
	T_TLS_PROTOCOLS, /* TLSv1.2 and/or TLSv1.3 */
	T_HEADER,	/* NAME VALUE: a response field line, added up */
	T_RETURN,	/* CODE [URL] */
	T_FALLBACK,	/* a URL path beneath root, or off */
	T_ERROR_PAGE,	/* CODE... PATH, added up */
	T_ACCESS,	/* allow / deny: CIDRs or all, added up in order */
	T_REALM,	/* auth_basic: a realm, or off */
	T_AUTH_FILE,	/* an htpasswd file, loaded now */
	T_TYPES,	/* media types; each line replaces the list */
};

/* The C type of a number or flag field, so that one setter fits all. */
enum config_store {
	STORE_OTHER,	/* text or structures: the type's setter knows */
	STORE_BOOL,
	STORE_INT,
	STORE_SIZE,	/* size_t */
	STORE_OFF,	/* off_t */
	STORE_STR,	/* const char *, pointing into the config's strings */
};

struct directive {
	const char		*name;
	enum config_type	 type;
	unsigned		 ctx;		/* CTX_* bits: where allowed */
	int			 nargs_max;	/* values; at least one */
	bool			 repeat;	/* may appear more than once */
	size_t			 off;		/* its field in struct config */
	size_t			 size;		/* its size; a list's entry's */
	enum config_store	 store;
	size_t			 count_off;	/* lists: their entry count */
	long long		 min, max;	/* numbers and flags */
	long long		 def;		/* their default */
};

/*
 * A row's store kind comes from its field's declared type, so a row
 * cannot write an int into a size_t. _Generic does not evaluate the
 * expression, so the null pointer is never followed.
 */
#define CONFIG_STORE(f)	_Generic(((struct config *)NULL)->f,		\
			    bool: STORE_BOOL, int: STORE_INT,		\
			    size_t: STORE_SIZE, off_t: STORE_OFF,	\
			    const char *: STORE_STR,			\
			    default: STORE_OTHER)
#define FIELD(f)	offsetof(struct config, f),			\
			sizeof(((struct config *)NULL)->f), CONFIG_STORE(f), 0
/*
 * A field of struct scope: every row allowed in a block (but listen,
 * which its setter places) writes the scope of the level being read.
 */
#define SCOPE_STORE(f)	_Generic(((struct scope *)NULL)->f,		\
			    bool: STORE_BOOL, int: STORE_INT,		\
			    const char *: STORE_STR,			\
			    default: STORE_OTHER)
#define SFIELD(f)	offsetof(struct scope, f),			\
			sizeof(((struct scope *)NULL)->f), SCOPE_STORE(f), 0
#define SLIST(f, n)	offsetof(struct scope, f),			\
			sizeof(((struct scope *)NULL)->f[0]),		\
			SCOPE_STORE(f[0]), offsetof(struct scope, n)
#define CLIST(f, n)	offsetof(struct config, f),			\
			sizeof(((struct config *)NULL)->f[0]),		\
			CONFIG_STORE(f[0]), offsetof(struct config, n)
#define NO_FIELD	0, 0, STORE_OTHER, 0
#define RANGE(lo, hi, d)	(lo), (hi), (d)
#define SECONDS(lo, d)	(lo), TIMEOUT_MAX_S, (d)
#define FLAG(d)		0, 1, (d)
#define NO_RANGE	0, 0, 0

typedef int	config_set_fn(struct parse *, const struct directive *, int,
		    char **);
typedef void	config_dump_fn(const struct config *, const struct scope *,
		    const struct directive *, FILE *);

static config_set_fn	config_set_number, config_set_size, config_set_flag,
			config_set_name, config_set_path, config_set_path_off,
			config_set_dir, config_set_list, config_set_listen,
			config_set_types,
			config_set_workers, config_set_error_log,
			config_set_url_path, config_set_cidrs,
			config_set_text, config_set_tls_protocols,
			config_set_header, config_set_return,
			config_set_fallback, config_set_error_page,
			config_set_access, config_set_realm,
			config_set_auth_file;
static config_dump_fn	config_dump_number, config_dump_flag,
			config_dump_text, config_dump_text_off,
			config_dump_list, config_dump_listen,
			config_dump_workers, config_dump_error_log,
			config_dump_cidrs, config_dump_tls_protocols,
			config_dump_header, config_dump_return,
			config_dump_error_page, config_dump_access,
			config_dump_auth_file;

struct type_ops {
	const char	*name;		/* for the unit test's output */
	config_set_fn	*set;
	config_dump_fn	*dump;
	bool		 scalar;	/* number or flag: row's def applies */
};

static const struct type_ops types[] = {
	[T_NUMBER] =	{ "number", config_set_number, config_dump_number,
			    true },
	[T_SECONDS] =	{ "seconds", config_set_number, config_dump_number,
			    true },
	[T_SIZE] =	{ "size", config_set_size, config_dump_number, true },
	[T_FLAG] =	{ "flag", config_set_flag, config_dump_flag, true },
	[T_NAME] =	{ "name", config_set_name, config_dump_text, false },
	[T_PATH] =	{ "path", config_set_path, config_dump_text, false },
	[T_PATH_OFF] =	{ "path or off", config_set_path_off,
			    config_dump_text_off, false },
	[T_DIR] =	{ "directory", config_set_dir, config_dump_text,
			    false },
	[T_LIST] =	{ "list", config_set_list, config_dump_list, false },
	[T_LISTEN] =	{ "listen", config_set_listen, config_dump_listen,
			    false },
	[T_WORKERS] =	{ "workers", config_set_workers, config_dump_workers,
			    false },
	[T_ERROR_LOG] =	{ "error log", config_set_error_log,
			    config_dump_error_log, false },
	[T_URL_PATH] =	{ "URL path", config_set_url_path,
			    config_dump_text_off, false },
	[T_CIDRS] =	{ "CIDRs", config_set_cidrs, config_dump_cidrs, false },
	[T_TEXT] =	{ "text", config_set_text, config_dump_text, false },
	[T_TLS_PROTOCOLS] = { "TLS protocols", config_set_tls_protocols,
			    config_dump_tls_protocols, false },
	[T_HEADER] =	{ "header", config_set_header, config_dump_header,
			    false },
	[T_RETURN] =	{ "return", config_set_return, config_dump_return,
			    false },
	[T_FALLBACK] =	{ "URL path or off", config_set_fallback,
			    config_dump_text_off, false },
	[T_ERROR_PAGE] = { "error pages", config_set_error_page,
			    config_dump_error_page, false },
	[T_ACCESS] =	{ "access", config_set_access, config_dump_access,
			    false },
	[T_REALM] =	{ "realm or off", config_set_realm,
			    config_dump_text_off, false },
	[T_AUTH_FILE] =	{ "htpasswd file", config_set_auth_file,
			    config_dump_auth_file, false },
	[T_TYPES] =	{ "media types", config_set_types, config_dump_list,
			    false },
};

/*
 * Every directive, in the order tine -T prints them. A new one is a row
 * here, a field in struct config (or struct scope, when a block may set
 * it) and an entry in tine.conf(5).
 */
static const struct directive directives[] = {
	{ "listen",		T_LISTEN,	CTX_MAIN | CTX_SERVER, 3, true,
	    NO_FIELD, NO_RANGE },
	{ "root",		T_DIR,		CTX_ANY, 1, false,
	    SFIELD(root), NO_RANGE },
	{ "workers",		T_WORKERS,	CTX_MAIN, 1, false,
	    FIELD(workers), RANGE(1, WORKERS_MAX, 0) },
	{ "max_workers",	T_NUMBER,	CTX_MAIN, 1, false,
	    FIELD(max_workers), RANGE(1, WORKERS_MAX, DEFAULT_MAX_WORKERS) },
	{ "user",		T_NAME,		CTX_MAIN, 1, false,
	    FIELD(user), NO_RANGE },
	{ "group",		T_NAME,		CTX_MAIN, 1, false,
	    FIELD(group), NO_RANGE },
	{ "pidfile",		T_PATH,		CTX_MAIN, 1, false,
	    FIELD(pidfile), NO_RANGE },
	{ "access_log",		T_PATH_OFF,	CTX_MAIN | CTX_SERVER, 1, false,
	    SFIELD(access_log), NO_RANGE },
	{ "error_log",		T_ERROR_LOG,	CTX_MAIN, 1, false,
	    FIELD(error_log), NO_RANGE },
	{ "index",		T_LIST,		CTX_ANY, INDEX_NAMES_MAX, false,
	    SLIST(index, nindex), NO_RANGE },
	{ "autoindex",		T_FLAG,		CTX_ANY, 1, false,
	    SFIELD(autoindex), FLAG(false) },
	{ "precompressed",	T_FLAG,		CTX_ANY, 1, false,
	    SFIELD(precompressed), FLAG(false) },
	{ "compress",		T_FLAG,		CTX_ANY, 1, false,
	    SFIELD(compress), FLAG(false) },
	{ "compress_types",	T_TYPES,	CTX_MAIN, COMPRESS_TYPES_MAX,
	    false, CLIST(compress_types, ncompress_types), NO_RANGE },
	{ "compress_min_size",	T_SIZE,		CTX_MAIN, 1, false,
	    FIELD(compress_min_size), RANGE(0, COMPRESS_FILE_MAX_BYTES,
	    DEFAULT_COMPRESS_MIN_BYTES) },
	{ "compress_cache",	T_PATH,		CTX_MAIN, 1, false,
	    FIELD(compress_cache), NO_RANGE },
	{ "compress_cache_size", T_SIZE,	CTX_MAIN, 1, false,
	    FIELD(compress_cache_size), RANGE(0, COMPRESS_CACHE_MAX_BYTES,
	    DEFAULT_COMPRESS_CACHE_BYTES) },
	{ "keepalive_timeout",	T_SECONDS,	CTX_MAIN, 1, false,
	    FIELD(keepalive_timeout), SECONDS(0, DEFAULT_KEEPALIVE_TIMEOUT_S) },
	{ "header_timeout",	T_SECONDS,	CTX_MAIN, 1, false,
	    FIELD(header_timeout), SECONDS(1, DEFAULT_HEADER_TIMEOUT_S) },
	{ "shutdown_timeout",	T_SECONDS,	CTX_MAIN, 1, false,
	    FIELD(shutdown_timeout), SECONDS(0, DEFAULT_SHUTDOWN_TIMEOUT_S) },
	{ "send_timeout",	T_SECONDS,	CTX_MAIN, 1, false,
	    FIELD(send_timeout), SECONDS(1, DEFAULT_SEND_TIMEOUT_S) },
	{ "keepalive_requests",	T_NUMBER,	CTX_MAIN, 1, false,
	    FIELD(keepalive_requests), RANGE(1, KEEPALIVE_REQUESTS_MAX,
	    DEFAULT_KEEPALIVE_REQUESTS) },
	{ "max_header_size",	T_SIZE,		CTX_MAIN, 1, false,
	    FIELD(max_header_size), RANGE(HEAD_MIN_BYTES, HEAD_MAX_BYTES,
	    DEFAULT_MAX_HEADER_BYTES) },
	{ "max_body_size",	T_SIZE,		CTX_MAIN, 1, false,
	    FIELD(max_body_size), RANGE(0, BODY_MAX_BYTES,
	    DEFAULT_MAX_BODY_BYTES) },
	{ "min_spare",		T_NUMBER,	CTX_MAIN, 1, false,
	    FIELD(min_spare), RANGE(0, WORKERS_MAX, DEFAULT_MIN_SPARE) },
	{ "max_spare",		T_NUMBER,	CTX_MAIN, 1, false,
	    FIELD(max_spare), RANGE(1, WORKERS_MAX, DEFAULT_MAX_SPARE) },
	{ "max_requests",	T_NUMBER,	CTX_MAIN, 1, false,
	    FIELD(max_requests), RANGE(0, INT_MAX, 0) },
	{ "worker_timeout",	T_SECONDS,	CTX_MAIN, 1, false,
	    FIELD(worker_timeout), SECONDS(0, DEFAULT_WORKER_TIMEOUT_S) },
	{ "spare_timeout",	T_SECONDS,	CTX_MAIN, 1, false,
	    FIELD(spare_timeout), SECONDS(1, DEFAULT_SPARE_TIMEOUT_S) },
	{ "status_path",	T_URL_PATH,	CTX_MAIN, 1, false,
	    FIELD(status_path), NO_RANGE },
	{ "status_allow",	T_CIDRS,	CTX_MAIN, STATUS_ALLOW_MAX,
	    true, CLIST(status_allow, nstatus_allow), NO_RANGE },
	{ "proxy_protocol_from", T_CIDRS,	CTX_MAIN, PROXY_FROM_MAX,
	    true, CLIST(proxy_from, nproxy_from), NO_RANGE },
	{ "max_connections_per_ip", T_NUMBER,	CTX_MAIN, 1, false,
	    FIELD(max_connections_per_ip), RANGE(0, WORKERS_MAX, 0) },
	{ "tls_certificate",	T_PATH,		CTX_MAIN | CTX_SERVER, 1, false,
	    SFIELD(tls_certificate), NO_RANGE },
	{ "tls_key",		T_PATH,		CTX_MAIN | CTX_SERVER, 1, false,
	    SFIELD(tls_key), NO_RANGE },
	{ "tls_protocols",	T_TLS_PROTOCOLS, CTX_MAIN, 2, false,
	    FIELD(tls_protocols), RANGE(TLS_PROTO_12, TLS_PROTO_12 |
	    TLS_PROTO_13, DEFAULT_TLS_PROTOCOLS) },
	{ "tls_ciphers",	T_TEXT,		CTX_MAIN, 1, false,
	    FIELD(tls_ciphers), NO_RANGE },
	{ "tls_session_tickets", T_FLAG,	CTX_MAIN, 1, false,
	    FIELD(tls_session_tickets), FLAG(true) },
	{ "sandbox",		T_FLAG,		CTX_MAIN, 1, false,
	    FIELD(sandbox), FLAG(true) },
	/*
	 * The rules. Their lists (header, allow/deny, error_page) hold a
	 * level's own lines and are combined per request (rule.c), so
	 * config_inherit() leaves them alone (config_own_list()).
	 */
	{ "header",		T_HEADER,	CTX_ANY, CONFIG_VALUES_MAX, true,
	    SFIELD(headers), NO_RANGE },
	{ "return",		T_RETURN,	CTX_SERVER | CTX_LOCATION, 2,
	    false, SFIELD(ret), NO_RANGE },
	{ "fallback",		T_FALLBACK,	CTX_ANY, 1, false,
	    SFIELD(fallback), NO_RANGE },
	{ "error_page",		T_ERROR_PAGE,	CTX_ANY, CONFIG_VALUES_MAX,
	    true, SFIELD(error_pages), NO_RANGE },
	{ "allow",		T_ACCESS,	CTX_ANY, CONFIG_VALUES_MAX, true,
	    SFIELD(access), NO_RANGE },
	{ "deny",		T_ACCESS,	CTX_ANY, CONFIG_VALUES_MAX, true,
	    SFIELD(access), NO_RANGE },
	{ "auth_basic",		T_REALM,	CTX_SERVER | CTX_LOCATION, 1,
	    false, SFIELD(auth_realm), NO_RANGE },
	{ "auth_file",		T_AUTH_FILE,	CTX_ANY, 1, false,
	    SFIELD(auth), NO_RANGE },
};

/* State of one config_load() run. */
struct parse {
	struct config	*conf;
	char		 dir[PATH_MAX];	/* directory of the config file */
	int		 line;		/* current line, 0 for the file */
	unsigned	 ctx;		/* CTX_* of the block being read */
	struct scope	*sc;		/* the scope of that block */
	int		 site;		/* index of the open server, or -1 */
	int		 open_line;	/* of the open server block */
	int		 loc_line;	/* of the open location block */
	int		 errors;
	int		 seen[nitems(directives)];	/* first line, or 0 */
	int		 valid[nitems(directives)];	/* last good line */
	int		 bseen[nitems(directives)];	/* in the open block */
	int		 sseen[nitems(directives)];	/* in the open server,
							   kept across its
							   locations */
	int		 nlocs;		/* locations, for their ids */
	bool		 auth_file_bad;	/* an auth_file line failed */
	int		 nlisteners;
	int		 nshow;
	char		 show[2][CONFIG_SHOW_BYTES];
};

/*
 * Escapes a token for a message: the config may hold any byte but NUL
 * and newline, and the message may end up in a log. log_escape() is the
 * project's one vis(3) escaper (strnvisx with VIS_CSTYLE | VIS_DQ |
 * VIS_NL | VIS_TAB | VIS_OCTAL). Long tokens are cut to CONFIG_SHOW_MAX
 * bytes and marked with "...".
 */
static const char *
config_show(char *buf, size_t size, const char *tok)
{
	size_t	 len = strlen(tok), n;

	n = log_escape(buf, size - 3, tok, len);
	if (len > (size - 4) / 4 && n + 4 <= size)
		memcpy(buf + n, "...", 4);
	return buf;
}

/* Two rotating buffers: enough for the two tokens one message may quote. */
static const char *
config_show_tok(struct parse *p, const char *tok)
{
	p->nshow = !p->nshow;
	return config_show(p->show[p->nshow], sizeof(p->show[0]), tok);
}

static void __attribute__((format(printf, 2, 3)))
config_error(struct parse *p, const char *fmt, ...)
{
	char	 msg[LOG_LINE_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	/* A message cut at LOG_LINE_MAX still names the line. */
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_config_error(p->conf->path, p->line, "%s", msg);
	p->errors++;
}

static const struct directive *
config_lookup(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(directives); i++)
		if (strcmp(directives[i].name, name) == 0)
			return &directives[i];
	return NULL;
}

/* The line a directive first appeared on, or 0. */
static int
config_seen(const struct parse *p, const char *name)
{
	const struct directive	*d = config_lookup(name);

	return d != NULL ? p->seen[d - directives] : 0;
}

/* The last line whose value for a directive was accepted, or 0. */
static int
config_valid(const struct parse *p, const char *name)
{
	const struct directive	*d = config_lookup(name);

	return d != NULL ? p->valid[d - directives] : 0;
}

/* Whether a row's field is in struct scope rather than struct config. */
static bool
config_scoped(const struct directive *d)
{
	return (d->ctx & (CTX_SERVER | CTX_LOCATION)) != 0 &&
	    d->type != T_LISTEN;
}

static void *
config_field(struct parse *p, const struct directive *d)
{
	return config_scoped(d) ? (char *)p->sc + d->off :
	    (char *)p->conf + d->off;
}

static const void *
config_cfield(const struct config *conf, const struct scope *sc,
    const struct directive *d)
{
	return config_scoped(d) ? (const char *)sc + d->off :
	    (const char *)conf + d->off;
}

/* n has passed the row's range check, so it fits the field f. */
static void
config_store(void *f, const struct directive *d, long long n)
{
	switch (d->store) {
	case STORE_BOOL:
		*(bool *)f = n != 0;
		break;
	case STORE_INT:
		*(int *)f = (int)n;
		break;
	case STORE_SIZE:
		*(size_t *)f = (size_t)n;
		break;
	case STORE_OFF:
		*(off_t *)f = (off_t)n;
		break;
	case STORE_STR:
	case STORE_OTHER:
		break;	/* no number to store: the unit test checks rows */
	}
}

static long long
config_fetch(const struct config *conf, const struct scope *sc,
    const struct directive *d)
{
	const void	*f = config_cfield(conf, sc, d);

	switch (d->store) {
	case STORE_BOOL:
		return *(const bool *)f;
	case STORE_INT:
		return *(const int *)f;
	case STORE_SIZE:
		return (long long)*(const size_t *)f;
	case STORE_OFF:
		return (long long)*(const off_t *)f;
	case STORE_STR:
	case STORE_OTHER:
		break;
	}
	return 0;
}

/*
 * A copy of s that lives as long as the config: scopes point to it, and
 * inheritance copies the pointer, so the config frees every copy once.
 */
static const char *
config_strdup(struct parse *p, const char *s)
{
	struct config	*conf = p->conf;
	char		**strs, *dup;

	if ((strs = reallocarray(conf->strs, (size_t)conf->nstrs + 1,
	    sizeof(*strs))) == NULL) {
		config_error(p, "%s", strerror(errno));
		return NULL;
	}
	conf->strs = strs;
	if ((dup = strdup(s)) == NULL) {
		config_error(p, "%s", strerror(errno));
		return NULL;
	}
	strs[conf->nstrs++] = dup;
	return dup;
}

/*
 * Stores text in a row's field: a copy for a scope's string, else into
 * the config's own array of d->size bytes. 0, or -1 after reporting.
 */
static int
config_put_str(struct parse *p, const struct directive *d, void *f,
    const char *s, const char *tok)
{
	const char	*dup;

	if (d->store == STORE_STR) {
		if ((dup = config_strdup(p, s)) == NULL)
			return -1;
		*(const char **)f = dup;
		return 0;
	}
	if (strlcpy(f, s, d->size) >= d->size) {
		*(char *)f = '\0';
		config_error(p, "%s \"%s\": too long (max %zu bytes)",
		    d->name, config_show_tok(p, tok), d->size - 1);
		return -1;
	}
	return 0;
}

/* A text field as a string, whether the field holds it or points to it. */
static const char *
config_text(const struct config *conf, const struct scope *sc,
    const struct directive *d)
{
	const void	*f = config_cfield(conf, sc, d);

	if (d->store == STORE_STR)
		return *(const char *const *)f;
	return f;
}

/*
 * Numbers are plain digits: strtonum() alone would also take a sign and
 * leading white space, so those are turned away first. The errstr
 * ("invalid", "too small", "too large") goes into the message.
 */
static int
config_number(struct parse *p, const char *kw, const char *tok,
    long long min, long long max, const char *alt, long long *out)
{
	const char	*errstr = "invalid";
	long long	 n;

	if (tok[0] != '\0' && tok[strspn(tok, CONFIG_DIGITS)] == '\0') {
		n = strtonum(tok, min, max, &errstr);
		if (errstr == NULL) {
			*out = n;
			return 0;
		}
	}
	config_error(p, "%s \"%s\" is %s (%lld..%lld%s)", kw,
	    config_show_tok(p, tok), errstr, min, max, alt);
	return -1;
}

/*
 * A size is digits with an optional k/K (x 1024) or m/M (x 1048576)
 * suffix; the product is checked for overflow before the range.
 */
static int
config_size(struct parse *p, const char *kw, const char *tok,
    long long min, long long max, long long *out)
{
	char		 digits[32];
	const char	*errstr = "invalid", *s = tok;
	long long	 n, mult = 1;
	size_t		 len;

	while (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		s++;	/* leading zeros do not count against the buffer */
	len = strspn(s, CONFIG_DIGITS);
	switch (s[len]) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1024;
		break;
	case 'm':
	case 'M':
		mult = 1024 * 1024;
		break;
	case 'g':
	case 'G':
		mult = 1024 * 1024 * 1024;
		break;
	default:
		goto fail;
	}
	if (len == 0 || (s[len] != '\0' && s[len + 1] != '\0'))
		goto fail;
	if (len >= sizeof(digits)) {
		errstr = "too large";
		goto fail;
	}
	memcpy(digits, s, len);
	digits[len] = '\0';
	n = strtonum(digits, 0, LLONG_MAX, &errstr);
	if (errstr != NULL)
		goto fail;
	if (n > LLONG_MAX / mult) {
		errstr = "too large";
		goto fail;
	}
	n *= mult;
	if (n < min) {
		errstr = "too small";
		goto fail;
	}
	if (n > max) {
		errstr = "too large";
		goto fail;
	}
	*out = n;
	return 0;
fail:
	config_error(p, "%s \"%s\" is %s (%lld..%lld)", kw,
	    config_show_tok(p, tok), errstr, min, max);
	return -1;
}

/* Relative paths are relative to the config file's directory. */
static int
config_path(struct parse *p, const char *kw, const char *tok, char *dst,
    size_t size)
{
	int	 n;

	if (tok[0] == '\0') {
		config_error(p, "%s: empty path", kw);
		return -1;
	}
	if (tok[0] == '/')
		n = xsnprintf(dst, size, "%s", tok);
	else
		n = xsnprintf(dst, size, "%s/%s",
		    strcmp(p->dir, "/") == 0 ? "" : p->dir, tok);
	if (n == -1) {
		config_error(p, "%s \"%s\": path too long", kw,
		    config_show_tok(p, tok));
		return -1;
	}
	return 0;
}

/* User and group names: portable characters, no leading '-'. */
static int
config_name(struct parse *p, const char *kw, const char *tok, char *dst,
    size_t size)
{
	if (tok[0] == '\0' || tok[0] == '-' ||
	    tok[strspn(tok, CONFIG_NAME_CHARS)] != '\0') {
		config_error(p, "invalid %s name \"%s\"", kw,
		    config_show_tok(p, tok));
		return -1;
	}
	if (strlcpy(dst, tok, size) >= size) {
		dst[0] = '\0';
		config_error(p, "%s name \"%s\" is too long (max %zu bytes)",
		    kw, config_show_tok(p, tok), size - 1);
		return -1;
	}
	return 0;
}

/* T_NUMBER and T_SECONDS. */
static int
config_set_number(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	long long	 n;

	(void)argc;	/* one value, checked by config_nargs() */
	if (config_number(p, d->name, argv[1], d->min, d->max, "", &n) == -1)
		return -1;
	config_store(config_field(p, d), d, n);
	return 0;
}

static int
config_set_size(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	long long	 n;

	(void)argc;
	if (config_size(p, d->name, argv[1], d->min, d->max, &n) == -1)
		return -1;
	config_store(config_field(p, d), d, n);
	return 0;
}

static int
config_set_flag(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	(void)argc;
	if (strcmp(argv[1], "on") == 0)
		config_store(config_field(p, d), d, 1);
	else if (strcmp(argv[1], "off") == 0)
		config_store(config_field(p, d), d, 0);
	else {
		config_error(p, "%s \"%s\" must be on or off", d->name,
		    config_show_tok(p, argv[1]));
		return -1;
	}
	return 0;
}

static int
config_set_name(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	(void)argc;
	return config_name(p, d->name, argv[1], config_field(p, d),
	    d->size);
}

static int
config_set_path(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	char	 path[PATH_MAX];

	(void)argc;
	if (config_path(p, d->name, argv[1], path, sizeof(path)) == -1)
		return -1;
	return config_put_str(p, d, config_field(p, d), path, argv[1]);
}

/* "off" is the keyword even when quoted; a file named off is "./off". */
static int
config_set_path_off(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	if (strcmp(argv[1], "off") == 0)
		return config_put_str(p, d, config_field(p, d), "", argv[1]);
	return config_set_path(p, d, argc, argv);
}

/*
 * An existing directory, stored resolved: realpath() leaves no trailing
 * slash, except for "/" itself.
 */
static int
config_set_dir(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	struct stat	 st;
	char		 path[PATH_MAX], real[PATH_MAX];

	(void)argc;
	if (config_path(p, d->name, argv[1], path, sizeof(path)) == -1)
		return -1;
	if (realpath(path, real) == NULL) {
		config_error(p, "%s \"%s\": %s", d->name,
		    config_show_tok(p, argv[1]), strerror(errno));
		return -1;
	}
	if (stat(real, &st) == -1 || !S_ISDIR(st.st_mode)) {
		config_error(p, "%s \"%s\": not a directory", d->name,
		    config_show_tok(p, argv[1]));
		return -1;
	}
	return config_put_str(p, d, config_field(p, d), real, argv[1]);
}

/* Names looked up inside a directory: plain file names, in order. */
static int
config_set_list(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	char		*list = config_field(p, d);
	int		*count;
	const char	*name;
	int		 i, rc = 0;

	count = (int *)(void *)((char *)config_field(p, d) - d->off +
	    d->count_off);
	*count = 0;
	for (i = 1; i <= argc; i++) {
		name = argv[i];
		if (name[0] == '\0' || strchr(name, '/') != NULL ||
		    strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			config_error(p, "invalid %s name \"%s\"", d->name,
			    config_show_tok(p, name));
			rc = -1;
			continue;
		}
		if (strlen(name) >= INDEX_NAME_MAX) {
			config_error(p, "%s name \"%s\" is too long "
			    "(max %d bytes)", d->name,
			    config_show_tok(p, name), INDEX_NAME_MAX - 1);
			rc = -1;
			continue;
		}
		/* argc is at most nargs_max, the number of entries. */
		if (config_put_str(p, d, list + (size_t)*count * d->size,
		    name, name) == -1) {
			rc = -1;
			continue;
		}
		(*count)++;
	}
	return rc;
}

/*
 * Media types, compared with a file's type without its parameters:
 * type "/" subtype, tokens (RFC 9110 §8.3.1), kept in lower case as
 * types compare case-insensitively.
 */
static int
config_set_types(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	const char	**list = config_field(p, d);
	char		 *slash, *c;
	int		 *count, i, rc = 0;

	count = (int *)(void *)((char *)config_field(p, d) - d->off +
	    d->count_off);
	*count = 0;
	for (i = 1; i <= argc; i++) {
		for (c = argv[i]; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		slash = strchr(argv[i], '/');
		if (slash == NULL || slash == argv[i] || slash[1] == '\0' ||
		    strspn(argv[i], CONFIG_TCHARS) != (size_t)(slash - argv[i]) ||
		    strspn(slash + 1, CONFIG_TCHARS) != strlen(slash + 1) ||
		    strlen(argv[i]) >= COMPRESS_TYPE_MAX) {
			config_error(p, "%s: \"%s\" is not a media type "
			    "(type/subtype, at most %d bytes)", d->name,
			    config_show_tok(p, argv[i]), COMPRESS_TYPE_MAX - 1);
			rc = -1;
			continue;
		}
		if (config_put_str(p, d, &list[*count], argv[i],
		    argv[i]) == -1) {
			rc = -1;
			continue;
		}
		(*count)++;
	}
	return rc;
}

/*
 * A listen line at top level or in a server block. Each address is one
 * listener however many sites name it (the master binds it once); a
 * site's line adds the listener to that site's own list.
 */
static int
config_set_listen(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	struct listener	*l, *o, **list;
	struct site	*site = p->site >= 0 ? &p->conf->sites[p->site] : NULL;
	char		 err[ERRSTR_MAX];
	int		 i;
	bool		 tls = false, proxy = false, *opt;

	for (i = 2; i <= argc; i++) {
		opt = strcmp(argv[i], "tls") == 0 ? &tls :
		    strcmp(argv[i], "proxy_protocol") == 0 ? &proxy : NULL;
		if (opt == NULL || *opt) {
			config_error(p, "%s \"%s\": %s option \"%s\" (tls "
			    "and proxy_protocol, each once)", d->name,
			    config_show_tok(p, argv[1]), opt == NULL ?
			    "unknown" : "repeated", config_show_tok(p, argv[i]));
			return -1;
		}
		*opt = true;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		config_error(p, "%s", strerror(errno));
		return -1;
	}
	if (config_parse_listen(argv[1], l, err, sizeof(err)) == -1) {
		config_error(p, "%s \"%s\": %s", d->name,
		    config_show_tok(p, argv[1]), err);
		free(l);
		return -1;
	}
	l->tls = tls;
	l->proxy_protocol = proxy;
	/*
	 * One address speaks one protocol: the first bytes could tell TLS
	 * from plain HTTP, but a listener that answered both would make
	 * https:// optional for every client that forgets it.
	 */
	TAILQ_FOREACH(o, &p->conf->listeners, entry) {
		if (strcmp(o->name, l->name) != 0)
			continue;
		free(l);
		if (o->tls != tls) {
			config_error(p, "%s \"%s\": the address is already a "
			    "%s listener (line %d); it cannot be both",
			    d->name, o->name, o->tls ? "tls" : "plain",
			    o->line);
			return -1;
		}
		if (o->proxy_protocol != proxy) {
			config_error(p, "%s \"%s\": the address is %s "
			    "proxy_protocol on line %d; every line of it must "
			    "say the same", d->name, o->name,
			    o->proxy_protocol ? "with" : "without", o->line);
			return -1;
		}
		if (site == NULL && o->top) {
			config_error(p, "duplicate %s \"%s\" "
			    "(first on line %d)", d->name, o->name, o->line);
			return -1;
		}
		if (site == NULL) {
			o->top = true;
			return 0;
		}
		for (i = 0; i < site->nlisten; i++)
			if (site->listen[i] == o) {
				config_error(p, "duplicate %s \"%s\" in this "
				    "server block", d->name, o->name);
				return -1;
			}
		l = o;
		goto add;
	}
	if (p->nlisteners >= LISTENERS_MAX) {
		config_error(p, "too many listen addresses (max %d)",
		    LISTENERS_MAX);
		free(l);
		return -1;
	}
	l->line = p->line;
	l->top = site == NULL;
	if (l->tls)
		p->conf->has_tls = true;
	TAILQ_INSERT_TAIL(&p->conf->listeners, l, entry);
	p->nlisteners++;
	if (site == NULL)
		return 0;
add:
	if ((list = reallocarray(site->listen, (size_t)site->nlisten + 1,
	    sizeof(*list))) == NULL) {
		config_error(p, "%s", strerror(errno));
		return -1;
	}
	site->listen = list;
	list[site->nlisten++] = l;
	return 0;
}

/*
 * "auto" is one worker per CPU. When max_workers is given and smaller,
 * auto is clamped to it; an explicit number above it is an error
 * (config_finish()).
 */
static int
config_set_workers(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	long long	 n;

	(void)argc;
	if (strcmp(argv[1], "auto") == 0) {
		p->conf->workers_auto = true;
		config_store(config_field(p, d), d, util_nprocs());
		return 0;
	}
	if (config_number(p, d->name, argv[1], d->min, d->max, " or auto",
	    &n) == -1)
		return -1;
	p->conf->workers_auto = false;
	config_store(config_field(p, d), d, n);
	return 0;
}

static int
config_set_error_log(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	struct config	*conf = p->conf;

	((char *)config_field(p, d))[0] = '\0';
	if (strcmp(argv[1], "stderr") == 0)
		conf->error_log_to = LOG_TO_STDERR;
	else if (strcmp(argv[1], "syslog") == 0)
		conf->error_log_to = LOG_TO_SYSLOG;
	else if (config_set_path(p, d, argc, argv) == 0)
		conf->error_log_to = LOG_TO_FILE;
	else
		return -1;
	return 0;
}

/* A URL path: starts with '/', printable ASCII, no '?', '#' or '%'. */
static int
config_set_url_path(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	char		*dst = config_field(p, d);
	const char	*s = argv[1];
	size_t		 i;

	(void)argc;
	if (strcmp(s, "off") == 0) {
		dst[0] = '\0';
		return 0;
	}
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || strchr("?#%\"", s[i]))
			break;
	if (s[0] != '/' || s[i] != '\0') {
		config_error(p, "%s \"%s\" must be a plain path "
		    "starting with / (or off)", d->name, config_show_tok(p, s));
		return -1;
	}
	if (strlcpy(dst, s, d->size) >= d->size) {
		config_error(p, "%s is too long", d->name);
		dst[0] = '\0';
		return -1;
	}
	return 0;
}

/* Text another module checks (an OpenSSL cipher list): not empty. */
static int
config_set_text(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	char	*dst = config_field(p, d);

	(void)argc;
	if (argv[1][0] == '\0') {
		config_error(p, "%s: empty value", d->name);
		return -1;
	}
	if (strlcpy(dst, argv[1], d->size) >= d->size) {
		dst[0] = '\0';
		config_error(p, "%s is too long (max %zu bytes)", d->name,
		    d->size - 1);
		return -1;
	}
	return 0;
}

/*
 * The TLS versions offered: TLSv1.2, TLSv1.3 or both. Older versions
 * are not on the list at all (RFC 8996 deprecates 1.0 and 1.1).
 */
static int
config_set_tls_protocols(struct parse *p, const struct directive *d,
    int argc, char **argv)
{
	int	 i, set = 0;

	for (i = 1; i <= argc; i++) {
		if (strcmp(argv[i], "TLSv1.2") == 0)
			set |= TLS_PROTO_12;
		else if (strcmp(argv[i], "TLSv1.3") == 0)
			set |= TLS_PROTO_13;
		else {
			config_error(p, "%s \"%s\" is not TLSv1.2 or TLSv1.3",
			    d->name, config_show_tok(p, argv[i]));
			return -1;
		}
	}
	*(int *)config_field(p, d) = set;
	return 0;
}

/* ADDR or ADDR/PREFIX, IPv4 or IPv6 (without brackets). */
static int
config_parse_cidr(const char *tok, struct cidr *c)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash;
	const char	*errstr;
	int		 max;

	if (strlcpy(buf, tok, sizeof(buf)) >= sizeof(buf))
		return -1;
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else
		return -1;
	c->prefix = max;
	if (slash != NULL) {
		if (slash[0] == '\0' ||
		    slash[strspn(slash, CONFIG_DIGITS)] != '\0')
			return -1;
		c->prefix = (int)strtonum(slash, 0, max, &errstr);
		if (errstr != NULL)
			return -1;
	}
	/*
	 * ::ffff:a.b.c.d/96+ is IPv4: config_cidr_contains() matches an
	 * IPv4-mapped client as IPv4, so the entry must be IPv4 too.
	 */
	if (c->family == AF_INET6 && c->prefix >= 96 &&
	    IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(void *)c->addr)) {
		memmove(c->addr, c->addr + 12, 4);
		memset(c->addr + 4, 0, 12);
		c->family = AF_INET;
		c->prefix -= 96;
	}
	return 0;
}

/* Replaces the default list on its first line; later lines add to it. */
static int
config_set_cidrs(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	struct cidr	*list = config_field(p, d);
	int		*count, i, rc = 0;

	count = (int *)(void *)((char *)list - d->off + d->count_off);
	if (p->seen[d - directives] == p->line)
		*count = 0;
	for (i = 1; i <= argc; i++) {
		if (*count >= d->nargs_max) {
			config_error(p, "too many %s entries (max %d)",
			    d->name, d->nargs_max);
			return -1;
		}
		if (config_parse_cidr(argv[i], &list[*count]) == -1) {
			config_error(p, "%s \"%s\" is not an address or "
			    "address/prefix", d->name,
			    config_show_tok(p, argv[i]));
			rc = -1;
			continue;
		}
		(*count)++;
	}
	return rc;
}

/*
 * Whether an address is in c: an IPv4-mapped IPv6 client (a dual-stack
 * listener) is matched as IPv4.
 */
bool
config_cidr_contains(const struct cidr *c, const struct sockaddr *sa)
{
	const uint8_t	*a;
	int		 fam, bits, full;

	if (sa->sa_family == AF_INET) {
		fam = AF_INET;
		a = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		a = (const uint8_t *)&((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr;
		fam = AF_INET6;
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)
		    (const void *)a)) {
			a += 12;
			fam = AF_INET;
		}
	} else
		return false;
	if (c->family != fam)
		return false;
	full = c->prefix / 8;
	bits = c->prefix % 8;
	if (memcmp(c->addr, a, (size_t)full) != 0)
		return false;
	return bits == 0 || ((c->addr[full] ^ a[full]) &
	    (0xff << (8 - bits))) == 0;
}

/* Whether a client address may read the status endpoint. */
bool
config_cidr_match(const struct config *conf, const struct sockaddr *sa)
{
	int	 i;

	for (i = 0; i < conf->nstatus_allow; i++)
		if (config_cidr_contains(&conf->status_allow[i], sa))
			return true;
	return false;
}

/*
 * The rules' setters. Their values reach response heads and file
 * lookups, so each is checked here, once: no control character, no
 * quote where a quoted-string carries it, paths that stay beneath root.
 */

/* Header fields tine writes itself or that frame the message. */
static const char *const config_own_headers[] = {
	"Accept-Ranges", "Allow", "Connection", "Content-Encoding",
	"Content-Length", "Content-Range", "Content-Type", "Date", "ETag",
	"Keep-Alive", "Last-Modified", "Location", "Retry-After", "Server",
	"TE", "Trailer", "Transfer-Encoding", "Upgrade", "WWW-Authenticate",
};

/* RFC 9110 §5.6.2 tchar. */
static bool
config_tchar(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

/* Visible ASCII and any byte above it; spaces and tabs if ws. */
static bool
config_printable(const char *s, bool ws)
{
	const unsigned char	*u;

	for (u = (const unsigned char *)s; *u != '\0'; u++)
		if ((*u < 0x21 && !(ws && (*u == ' ' || *u == '\t'))) ||
		    *u == 0x7f)
			return false;
	return true;
}

/* Appends one entry of size bytes to a scope's list; NULL on no memory. */
static void *
config_grow(struct parse *p, void *list, int *n, size_t size)
{
	char	*l;

	if ((l = reallocarray(list, (size_t)*n + 1, size)) == NULL) {
		config_error(p, "%s", strerror(errno));
		return NULL;
	}
	memset(l + (size_t)*n * size, 0, size);
	(*n)++;
	return l;
}

/* header NAME VALUE...: the words of the value joined by one space. */
static int
config_set_header(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	struct scope		*sc = p->sc;
	struct rule_header	*h;
	char			 line[CONFIG_LINE_MAX + 8];
	const char		*dup;
	size_t			 i, len;
	int			 n, k;

	(void)d;
	if (argc < 2) {
		config_error(p, "header takes a name and a value");
		return -1;
	}
	for (i = 0; argv[1][i] != '\0'; i++)
		if (!config_tchar((unsigned char)argv[1][i]))
			break;
	if (i == 0 || argv[1][i] != '\0') {
		config_error(p, "header name \"%s\" is not a token",
		    config_show_tok(p, argv[1]));
		return -1;
	}
	for (i = 0; i < nitems(config_own_headers); i++)
		if (strcasecmp(argv[1], config_own_headers[i]) == 0) {
			config_error(p, "header %s is written by tine itself",
			    config_own_headers[i]);
			return -1;
		}
	n = xsnprintf(line, sizeof(line), "%s:", argv[1]);
	for (k = 2; k <= argc && n != -1; k++) {
		if (!config_printable(argv[k], true)) {
			config_error(p, "header %s: control character in "
			    "value", argv[1]);
			return -1;
		}
		len = (size_t)n;
		n = xsnprintf(line + len, sizeof(line) - len, " %s",
		    argv[k]);
		if (n != -1)
			n += (int)len;
	}
	if (n == -1 || xsnprintf(line + n, sizeof(line) - (size_t)n,
	    "\r\n") == -1) {
		config_error(p, "header %s: too long", argv[1]);
		return -1;
	}
	if ((dup = config_strdup(p, line)) == NULL ||
	    (h = config_grow(p, sc->headers, &sc->nheaders,
	    sizeof(*h))) == NULL)
		return -1;
	sc->headers = h;
	h[sc->nheaders - 1].line = dup;
	h[sc->nheaders - 1].len = strlen(dup);
	return 0;
}

/* The variables of a return URL; -1 when one is unknown. */
static int
config_return_vars(const char *url, size_t *literal)
{
	static const char *const vars[] = { "$scheme", "$host",
	    "$request_uri", "$path", "$query" };
	const char	*s;
	size_t		 i, n;
	int		 count = 0;

	*literal = 0;
	for (s = url; *s != '\0'; ) {
		if (*s != '$') {
			s++;
			(*literal)++;
			continue;
		}
		/* The longest name that matches: $path before $p... */
		for (n = 0, i = 0; i < nitems(vars); i++)
			if (strncmp(s, vars[i], strlen(vars[i])) == 0 &&
			    strlen(vars[i]) > n)
				n = strlen(vars[i]);
		if (n == 0 || isalnum((unsigned char)s[n]) || s[n] == '_')
			return -1;
		s += n;
		count++;
	}
	return count;
}

/* The codes return answers with: redirects take a URL, the rest a page. */
static bool
config_return_redirect(int code)
{
	return code == 301 || code == 302 || code == 303 || code == 307 ||
	    code == 308;
}

static bool
config_return_page(int code)
{
	static const int codes[] = { 204, 400, 403, 404, 405, 410, 429, 451,
	    500, 501, 503 };
	size_t		 i;

	for (i = 0; i < nitems(codes); i++)
		if (codes[i] == code)
			return true;
	return false;
}

static int
config_set_return(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	struct rule_return	*r = config_field(p, d);
	long long		 code;
	size_t			 lit;

	if (config_number(p, d->name, argv[1], 200, 599, "", &code) == -1)
		return -1;
	if (config_return_redirect((int)code)) {
		if (argc < 2 || argv[2][0] == '\0') {
			config_error(p, "return %lld takes a URL", code);
			return -1;
		}
		if (!config_printable(argv[2], false)) {
			config_error(p, "return URL \"%s\": spaces and control "
			    "characters must be percent-encoded",
			    config_show_tok(p, argv[2]));
			return -1;
		}
		if (config_return_vars(argv[2], &lit) == -1) {
			config_error(p, "return URL \"%s\": unknown variable "
			    "(there are $scheme, $host, $request_uri, $path "
			    "and $query)", config_show_tok(p, argv[2]));
			return -1;
		}
		if ((r->url = config_strdup(p, argv[2])) == NULL)
			return -1;
	} else if (!config_return_page((int)code)) {
		config_error(p, "return %lld: use a redirect (301, 302, 303, "
		    "307, 308), 204, or an error tine has a page for (400, "
		    "403, 404, 405, 410, 429, 451, 500, 501, 503)", code);
		return -1;
	} else if (argc > 1) {
		config_error(p, "return %lld takes no URL", code);
		return -1;
	} else
		r->url = NULL;
	r->code = (int)code;
	return 0;
}

/*
 * A path beneath root, as the file system sees it: absolute, without
 * ".", ".." or empty segments (nothing to normalise at request time) and
 * without control characters; a trailing slash names a directory.
 */
static int
config_rule_path(struct parse *p, const char *kw, const char *tok)
{
	const char	*s;

	if (tok[0] != '/' || !config_printable(tok, true) ||
	    strlen(tok) >= PATH_MAX / 2) {
		config_error(p, "%s \"%s\" must be a path beneath root "
		    "starting with /", kw, config_show_tok(p, tok));
		return -1;
	}
	for (s = tok; *s != '\0'; s++)
		if (s[0] == '/' && (s[1] == '/' ||
		    (s[1] == '.' && (s[2] == '/' || s[2] == '\0' ||
		    (s[2] == '.' && (s[3] == '/' || s[3] == '\0')))))) {
			config_error(p, "%s \"%s\": no empty, \".\" or \"..\" "
			    "segments", kw, config_show_tok(p, tok));
			return -1;
		}
	return 0;
}

static int
config_set_fallback(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	(void)argc;
	if (strcmp(argv[1], "off") != 0 &&
	    config_rule_path(p, d->name, argv[1]) == -1)
		return -1;
	return config_put_str(p, d, config_field(p, d),
	    strcmp(argv[1], "off") == 0 ? "" : argv[1], argv[1]);
}

/* error_page CODE... PATH; a code given twice at one level is an error. */
static int
config_set_error_page(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	struct scope		*sc = p->sc;
	struct rule_error_page	*e;
	const char		*path;
	long long		 code;
	int			 i, j;

	if (argc < 2) {
		config_error(p, "error_page takes codes and a path");
		return -1;
	}
	if (config_rule_path(p, d->name, argv[argc]) == -1 ||
	    (path = config_strdup(p, argv[argc])) == NULL)
		return -1;
	for (i = 1; i < argc; i++) {
		if (config_number(p, d->name, argv[i], 400, 599, "",
		    &code) == -1)
			return -1;
		for (j = 0; j < sc->nerror_pages; j++)
			if (sc->error_pages[j].status == code) {
				config_error(p, "error_page %lld given twice "
				    "here", code);
				return -1;
			}
		if ((e = config_grow(p, sc->error_pages, &sc->nerror_pages,
		    sizeof(*e))) == NULL)
			return -1;
		sc->error_pages = e;
		e[sc->nerror_pages - 1].status = (int)code;
		e[sc->nerror_pages - 1].path = path;
	}
	return 0;
}

/* allow / deny: entries in file order, across both directives. */
static int
config_set_access(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	struct scope		*sc = p->sc;
	struct rule_access	*a, r;
	int			 i;

	for (i = 1; i <= argc; i++) {
		memset(&r, 0, sizeof(r));
		r.allow = strcmp(d->name, "allow") == 0;
		if (strcmp(argv[i], "all") == 0)
			r.all = true;
		else if (config_parse_cidr(argv[i], &r.cidr) == -1) {
			config_error(p, "%s \"%s\" is not all, an address or "
			    "address/prefix", d->name,
			    config_show_tok(p, argv[i]));
			return -1;
		}
		if ((a = config_grow(p, sc->access, &sc->naccess,
		    sizeof(*a))) == NULL)
			return -1;
		sc->access = a;
		a[sc->naccess - 1] = r;
	}
	return 0;
}

/* auth_basic REALM or off; the realm goes into a quoted-string as is. */
static int
config_set_realm(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	(void)argc;
	if (strcmp(argv[1], "off") != 0 && (argv[1][0] == '\0' ||
	    strlen(argv[1]) > 256 || !config_printable(argv[1], true) ||
	    strpbrk(argv[1], "\"\\") != NULL)) {
		config_error(p, "auth_basic realm \"%s\": 1 to 256 characters, "
		    "no control character, '\"' or '\\'",
		    config_show_tok(p, argv[1]));
		return -1;
	}
	return config_put_str(p, d, config_field(p, d),
	    strcmp(argv[1], "off") == 0 ? "" : argv[1], argv[1]);
}

/* The htpasswd file is read now, by the master: it may be root's alone. */
static int
config_set_auth_file(struct parse *p, const struct directive *d, int argc,
    char **argv)
{
	struct config		*conf = p->conf;
	struct auth_file	*af, **list;
	char			 path[PATH_MAX], err[ERRSTR_MAX + PATH_MAX];
	int			 i;

	(void)argc;
	if (config_path(p, d->name, argv[1], path, sizeof(path)) == -1)
		return -1;
	/* Read once however many levels name it. */
	for (i = 0; i < conf->nauths; i++)
		if (strcmp(conf->auths[i]->path, path) == 0) {
			*(const struct auth_file **)config_field(p, d) =
			    conf->auths[i];
			return 0;
		}
	if ((list = reallocarray(conf->auths, (size_t)conf->nauths + 1,
	    sizeof(*list))) == NULL) {
		config_error(p, "%s", strerror(errno));
		return -1;
	}
	conf->auths = list;
	if ((af = auth_load(path, err, sizeof(err))) == NULL) {
		config_error(p, "auth_file %s", err);
		p->auth_file_bad = true;	/* no "needs an auth_file" */
		return -1;
	}
	list[conf->nauths++] = af;
	*(const struct auth_file **)config_field(p, d) = af;
	return 0;
}

/*
 * Splits a line in place into tokens. A token is a run of non-blanks or
 * a double-quoted string, in which \" and \\ stand for " and \ (any other
 * backslash is kept). A '#' that starts a token starts a comment. Stores
 * at most max tokens in argv but returns how many there were, so that
 * the caller can report extra values; -1 after reporting a syntax error.
 */
static int
config_split(struct parse *p, char *line, char **argv, int max)
{
	char	*r = line, *w, *tok;
	size_t	 n;
	int	 argc = 0;

	for (;;) {
		r += strspn(r, CONFIG_WS);
		if (*r == '\0' || *r == '#')
			break;
		if (*r == '"') {
			tok = w = ++r;
			while (*r != '"') {
				if (*r == '\0') {
					config_error(p, "unterminated quote");
					return -1;
				}
				if (r[0] == '\\' &&
				    (r[1] == '"' || r[1] == '\\'))
					r++;
				*w++ = *r++;
			}
			r++;	/* closing quote; w is behind it */
			if (*r != '\0' && strchr(CONFIG_WS, *r) == NULL) {
				config_error(p, "missing space after quote");
				return -1;
			}
			*w = '\0';
		} else {
			tok = r;
			n = strcspn(r, CONFIG_WS "\"");
			if (r[n] == '"') {
				config_error(p, "unexpected quote");
				return -1;
			}
			r += n;
			if (*r != '\0')
				*r++ = '\0';
		}
		if (argc < max)
			argv[argc] = tok;
		argc++;
	}
	return argc;
}

/*
 * The row of a keyword that may appear in the block being read; NULL
 * after reporting an unknown keyword or one that belongs elsewhere.
 */
static const struct directive *
config_directive(struct parse *p, const char *name)
{
	const struct directive	*d;

	if ((d = config_lookup(name)) == NULL) {
		config_error(p, "unknown directive \"%s\"",
		    config_show_tok(p, name));
		return NULL;
	}
	if ((d->ctx & p->ctx) == 0) {
		config_error(p, "\"%s\" is not allowed here", d->name);
		return NULL;
	}
	return d;
}

static int
config_nargs(struct parse *p, const struct directive *d, int nargs)
{
	if (d->nargs_max == 1 && nargs != 1) {
		config_error(p, "%s takes one value", d->name);
		return -1;
	}
	if (nargs < 1) {
		config_error(p, "%s takes at least one value", d->name);
		return -1;
	}
	if (nargs > d->nargs_max) {
		config_error(p, "%s takes at most %d values", d->name,
		    d->nargs_max);
		return -1;
	}
	return 0;
}

/*
 * A site name: a host name, or "*." and one, in the letters, digits,
 * '-', '_' and '.' of DNS labels, no empty label. Stored lower case
 * without a trailing dot, as requests are matched (site.c).
 */
static int
config_site_name(struct parse *p, const char *tok, char **out)
{
	const char	*h = tok;
	char		*n;
	size_t		 len, i;

	if (strncmp(h, "*.", 2) == 0)
		h += 2;
	len = strlen(h);
	if (len > 0 && h[len - 1] == '.')
		len--;
	if (len == 0 || len > SITE_NAME_MAX || h[0] == '.' ||
	    strspn(h, CONFIG_HOST_CHARS) < len || strstr(h, "..") != NULL) {
		config_error(p, "server name \"%s\" is not a host name or "
		    "*.host", config_show_tok(p, tok));
		return -1;
	}
	len += (size_t)(h - tok);
	if ((n = strndup(tok, len)) == NULL) {
		config_error(p, "%s", strerror(errno));
		return -1;
	}
	for (i = 0; i < len; i++)
		if (n[i] >= 'A' && n[i] <= 'Z')
			n[i] = (char)(n[i] - 'A' + 'a');
	*out = n;
	return 0;
}

/* A new level: its strings empty (never NULL), no root yet. */
static void
config_scope_init(struct scope *sc)
{
	sc->root = "";
	sc->root_id = -1;
	sc->access_log = "";
	sc->access_log_id = -1;
	sc->tls_certificate = "";
	sc->tls_key = "";
}

/* server NAME... {: a new site, at top level only. */
static void
config_open_server(struct parse *p, int argc, char **argv)
{
	struct config	*conf = p->conf;
	struct site	*sites, *site;
	int		 i;

	if (p->ctx != CTX_MAIN) {
		config_error(p, "a server block cannot be inside another "
		    "block (open since line %d)", p->ctx == CTX_SERVER ?
		    p->open_line : p->loc_line);
		return;
	}
	if (argc < 3) {
		config_error(p, "server takes at least one name before {");
		/* Still a block: its lines and } must not count as top. */
	}
	if (argc > CONFIG_ARGS_MAX) {
		config_error(p, "server takes at most %d names",
		    CONFIG_ARGS_MAX - 2);
		argc = CONFIG_ARGS_MAX;
	}
	if ((sites = reallocarray(conf->sites, (size_t)conf->nsites + 1,
	    sizeof(*sites))) == NULL) {
		config_error(p, "%s", strerror(errno));
		return;
	}
	conf->sites = sites;
	site = &sites[conf->nsites];
	memset(site, 0, sizeof(*site));
	config_scope_init(&site->sc);
	site->id = conf->nsites;
	site->line = p->line;
	if (argc > 2 && (site->names = calloc((size_t)argc - 2,
	    sizeof(*site->names))) == NULL) {
		config_error(p, "%s", strerror(errno));
		return;
	}
	conf->nsites++;
	for (i = 1; i < argc - 1; i++)
		if (config_site_name(p, argv[i],
		    &site->names[site->nnames]) == 0)
			site->nnames++;
	p->site = site->id;
	p->sc = &site->sc;
	p->ctx = CTX_SERVER;
	p->open_line = p->line;
	memset(p->sseen, 0, sizeof(p->sseen));
}

/* location GLOB {: in a server block or at top level; never nested. */
static void
config_open_location(struct parse *p, int argc, char **argv)
{
	struct location	**list, *locs, *loc;
	int		 *count;

	if (p->ctx == CTX_LOCATION) {
		config_error(p, "locations do not nest (location open since "
		    "line %d)", p->loc_line);
		return;
	}
	if (argc != 3 || argv[1][0] == '\0') {
		config_error(p, "location takes one glob before {");
		/* Still a block. */
	}
	if (p->site >= 0) {
		list = &p->conf->sites[p->site].locs;
		count = &p->conf->sites[p->site].nlocs;
	} else {
		list = &p->conf->locs;
		count = &p->conf->nlocs;
	}
	if ((locs = reallocarray(*list, (size_t)*count + 1,
	    sizeof(*locs))) == NULL) {
		config_error(p, "%s", strerror(errno));
		return;
	}
	*list = locs;
	loc = &locs[*count];
	memset(loc, 0, sizeof(*loc));
	if ((loc->glob = strdup(argc == 3 ? argv[1] : "")) == NULL) {
		config_error(p, "%s", strerror(errno));
		return;
	}
	(*count)++;
	site_glob_prepare(loc);
	loc->line = p->line;
	loc->id = p->nlocs++;
	config_scope_init(&loc->sc);
	p->sc = &loc->sc;
	p->ctx = CTX_LOCATION;
	p->loc_line = p->line;
	memset(p->bseen, 0, sizeof(p->bseen));
}

static void
config_close_block(struct parse *p)
{
	switch (p->ctx) {
	case CTX_LOCATION:
		if (p->site >= 0) {
			p->ctx = CTX_SERVER;
			p->sc = &p->conf->sites[p->site].sc;
		} else {
			p->ctx = CTX_MAIN;
			p->sc = &p->conf->top;
		}
		break;
	case CTX_SERVER:
		p->ctx = CTX_MAIN;
		p->sc = &p->conf->top;
		p->site = -1;
		break;
	default:
		config_error(p, "\"}\" without a block to close");
		break;
	}
}

/* What a value given in a scope records there: its bit and its line. */
static void
config_scope_set(struct parse *p, const struct directive *d)
{
	struct scope	*sc = p->sc;
	size_t		 i = (size_t)(d - directives);

	sc->set |= (uint64_t)1 << i;
	/* allow and deny share a list, which the allow row prints. */
	if (d->type == T_ACCESS)
		sc->set |= (uint64_t)1 << (config_lookup("allow") -
		    directives);
	if (strcmp(d->name, "autoindex") == 0)
		sc->autoindex_set = true;
	else if (strcmp(d->name, "precompressed") == 0)
		sc->precompressed_set = true;
	else if (strcmp(d->name, "compress") == 0)
		sc->compress_set = true;
	else if (strcmp(d->name, "root") == 0)
		sc->root_line = p->line;
	else if (strcmp(d->name, "access_log") == 0)
		sc->access_log_line = p->line;
	else if (strcmp(d->name, "tls_certificate") == 0)
		sc->tls_certificate_line = p->line;
	else if (strcmp(d->name, "tls_key") == 0)
		sc->tls_key_line = p->line;
	else if (strcmp(d->name, "auth_basic") == 0)
		sc->auth_basic_line = p->line;
}

static void
config_line(struct parse *p, char *line)
{
	const struct directive	*d;
	char			*argv[CONFIG_ARGS_MAX];
	size_t			 i;
	int			 argc, *seen;

	if ((argc = config_split(p, line, argv, nitems(argv))) <= 0)
		return;
	if (argc <= (int)nitems(argv) && strcmp(argv[argc - 1], "{") == 0) {
		if (strcmp(argv[0], "server") == 0)
			config_open_server(p, argc, argv);
		else if (strcmp(argv[0], "location") == 0)
			config_open_location(p, argc, argv);
		else
			config_error(p, "\"%s\" does not open a block "
			    "(server and location do)",
			    config_show_tok(p, argv[0]));
		return;
	}
	if (strcmp(argv[0], "}") == 0) {
		if (argc != 1)
			config_error(p, "\"}\" must stand alone on its line");
		else
			config_close_block(p);
		return;
	}
	if (strcmp(argv[0], "server") == 0 ||
	    strcmp(argv[0], "location") == 0) {
		config_error(p, "%s needs \"{\" as the last word of its line",
		    argv[0]);
		return;
	}
	if ((d = config_directive(p, argv[0])) == NULL)
		return;
	i = (size_t)(d - directives);
	seen = p->ctx == CTX_MAIN ? p->seen : p->ctx == CTX_SERVER ?
	    p->sseen : p->bseen;
	if (seen[i] != 0 && !d->repeat) {
		config_error(p, "duplicate \"%s\" (first on line %d)", d->name,
		    seen[i]);
		return;
	}
	if (seen[i] == 0)
		seen[i] = p->line;
	if (p->ctx == CTX_MAIN && p->seen[i] == 0)
		p->seen[i] = p->line;
	if (config_nargs(p, d, argc - 1) == -1)
		return;
	if (types[d->type].set(p, d, argc - 1, argv) != 0)
		return;
	if (p->ctx == CTX_MAIN)
		p->valid[i] = p->line;
	if (config_scoped(d))
		config_scope_set(p, d);
}

/* compress_types by default (SPEC): the text types worth compressing. */
static const char *const config_compress_types[] = {
	"text/html", "text/css", "text/plain", "text/javascript",
	"application/javascript", "application/json", "application/xml",
	"image/svg+xml", "application/wasm",
};

/* Numbers and flags take their row's default; the rest is set here. */
static void
config_defaults(struct config *conf)
{
	const struct directive	*d;
	size_t			 i;

	for (d = directives; d < directives + nitems(directives); d++)
		if (types[d->type].scalar)
			config_store((void *)config_cfield(conf, &conf->top,
			    d), d, d->def);
	TAILQ_INIT(&conf->listeners);
	conf->workers_auto = true;
	conf->workers = util_nprocs();
	conf->error_log_to = LOG_TO_STDERR;
	config_scope_init(&conf->top);
	conf->top.index[0] = "index.html";
	conf->top.nindex = 1;
	/* Loopback only, until status_allow says otherwise. */
	(void)config_parse_cidr("127.0.0.1", &conf->status_allow[0]);
	(void)config_parse_cidr("::1", &conf->status_allow[1]);
	conf->nstatus_allow = 2;
	conf->tls_protocols = DEFAULT_TLS_PROTOCOLS;
	/* A literal that fits TLS_CIPHERS_MAX. */
	(void)strlcpy(conf->tls_ciphers, DEFAULT_TLS_CIPHERS,
	    sizeof(conf->tls_ciphers));
	(void)strlcpy(conf->compress_cache, DEFAULT_COMPRESS_CACHE,
	    sizeof(conf->compress_cache));
	for (i = 0; i < nitems(config_compress_types); i++)
		conf->compress_types[i] = config_compress_types[i];
	conf->ncompress_types = (int)nitems(config_compress_types);
	conf->compress_dirfd = -1;
}

/* The lines config_check_runtime() names; 0 for a default. */
static void
config_runtime_lines(struct parse *p)
{
	struct config	*conf = p->conf;

	conf->user_line = config_valid(p, "user");
	conf->group_line = config_valid(p, "group");
	conf->pidfile_line = config_valid(p, "pidfile");
	conf->error_log_line = config_valid(p, "error_log");
	conf->tls_protocols_line = config_valid(p, "tls_protocols");
	conf->tls_ciphers_line = config_valid(p, "tls_ciphers");
}

/*
 * Rows whose lists stay with the level that wrote them: a request
 * combines the levels (rule.c), so nothing is copied or merged here.
 */
static bool
config_own_list(const struct directive *d)
{
	return d->type == T_HEADER || d->type == T_ERROR_PAGE ||
	    d->type == T_ACCESS;
}

/*
 * Fills what dst leaves unset with src's values: the inheritance of
 * SPEC, "every other directive replaces the inherited value", for the
 * rows allowed in ctx. The rows a later level adds to (header) will
 * merge here instead of replacing.
 */
static void
config_inherit(struct scope *dst, const struct scope *src, unsigned ctx)
{
	const struct directive	*d;
	size_t			 i, n;

	for (i = 0; i < nitems(directives); i++) {
		d = &directives[i];
		if (!config_scoped(d) || (d->ctx & ctx) == 0 ||
		    config_own_list(d) ||
		    (dst->set & ((uint64_t)1 << i)) != 0 ||
		    (src->set & ((uint64_t)1 << i)) == 0)
			continue;
		n = d->count_off != 0 ? d->size * (size_t)d->nargs_max :
		    d->size;
		memcpy((char *)dst + d->off, (const char *)src + d->off, n);
		if (d->count_off != 0)
			memcpy((char *)dst + d->count_off,
			    (const char *)src + d->count_off, sizeof(int));
		dst->set |= (uint64_t)1 << i;
	}
	dst->autoindex_set = true;	/* every row is given now */
	dst->precompressed_set = true;
	dst->compress_set = true;
	if (dst->root_line == 0)
		dst->root_line = src->root_line;
	if (dst->access_log_line == 0)
		dst->access_log_line = src->access_log_line;
	if (dst->tls_certificate_line == 0 && dst->tls_key_line == 0) {
		dst->tls_certificate_line = src->tls_certificate_line;
		dst->tls_key_line = src->tls_key_line;
	}
}

/* The index of s among the n strings of *list, added when new. */
static int
config_intern(struct parse *p, const char ***list, const int **lines,
    int *n, const char *s, int line)
{
	const char	**l;
	int		 *ln, i;

	for (i = 0; i < *n; i++)
		if (strcmp((*list)[i], s) == 0)
			return i;
	if ((l = reallocarray(*list, (size_t)*n + 1, sizeof(*l))) == NULL) {
		config_error(p, "%s", strerror(errno));
		return -1;
	}
	*list = l;
	if (lines != NULL) {
		if ((ln = reallocarray((void *)*lines, (size_t)*n + 1,
		    sizeof(*ln))) == NULL) {
			config_error(p, "%s", strerror(errno));
			return -1;
		}
		ln[*n] = line;
		*lines = ln;
	}
	l[*n] = s;
	return (*n)++;
}

/*
 * A site's values: its own over the top level's; its locations' own
 * over the site's (a top-level location takes what it leaves unset from
 * the site a request is routed to, at that time). Every site needs a
 * root; each distinct root and access log gets an index, so a worker
 * opens each root once and the master each log once.
 */
static void
config_finish_scopes(struct parse *p)
{
	struct config	*conf = p->conf;
	struct site	*site;
	struct location	*loc;
	int		 i, j;

	conf->top.set = ~(uint64_t)0;	/* defaults count as given */
	if (conf->nsites == 0) {
		if ((conf->sites = calloc(1, sizeof(*conf->sites))) == NULL) {
			config_error(p, "%s", strerror(errno));
			return;
		}
		conf->nsites = 1;
		conf->implicit_site = true;
		config_scope_init(&conf->sites[0].sc);
	}
	for (i = 0; i < conf->nlocs; i++) {
		loc = &conf->locs[i];
		if (loc->sc.root[0] != '\0')
			loc->sc.root_id = config_intern(p, &conf->roots,
			    &conf->root_lines, &conf->nroots, loc->sc.root,
			    loc->sc.root_line);
	}
	for (i = 0; i < conf->nsites; i++) {
		site = &conf->sites[i];
		config_inherit(&site->sc, &conf->top, CTX_SERVER);
		if (site->sc.root[0] == '\0') {
			p->line = site->line;
			if (site->line == 0) {
				/* A bad root line was reported already. */
				if (config_seen(p, "root") == 0)
					config_error(p, "root is required");
			} else if (p->errors > 0)
				continue;	/* its root line was bad */
			else
				config_error(p, "server block has no root "
				    "and there is no top-level one");
			continue;
		}
		site->sc.root_id = config_intern(p, &conf->roots,
		    &conf->root_lines, &conf->nroots, site->sc.root,
		    site->sc.root_line);
		site->sc.access_log_id = site->sc.access_log[0] == '\0' ? -1 :
		    config_intern(p, &conf->access_logs,
		    &conf->access_log_lines, &conf->naccess_logs,
		    site->sc.access_log, site->sc.access_log_line);
		for (j = 0; j < site->nlocs; j++) {
			loc = &site->locs[j];
			config_inherit(&loc->sc, &site->sc, CTX_LOCATION);
			loc->sc.root_id = config_intern(p, &conf->roots,
			    &conf->root_lines, &conf->nroots, loc->sc.root,
			    loc->sc.root_line);
			conf->compress_any |= loc->sc.compress;
		}
		conf->compress_any |= site->sc.compress;
	}
	for (i = 0; i < conf->nlocs; i++)
		conf->compress_any |= conf->locs[i].sc.compress;
	p->line = 0;
}

/* Bytes a level's header lines add to a response head. */
static size_t
config_header_bytes(const struct scope *sc)
{
	size_t	 n = 0;
	int	 i;

	for (i = 0; i < sc->nheaders; i++)
		n += sc->headers[i].len;
	return n;
}

/*
 * auth_basic needs an auth_file where a request meets it: a site's
 * location, or any site's view of a top-level location.
 */
static void
config_check_auth(struct parse *p, const struct scope *sc,
    const struct scope *outer, int line)
{
	const char		*realm = sc->auth_realm;
	const struct auth_file	*af = sc->auth;

	/* A realm from the site was checked with the site. */
	if (af == NULL && outer != NULL)
		af = outer->auth;
	if (realm == NULL || realm[0] == '\0' || af != NULL ||
	    p->auth_file_bad)
		return;
	p->line = sc->auth_basic_line != 0 ? sc->auth_basic_line : line;
	config_error(p, "auth_basic needs an auth_file (here or around)");
}

/*
 * What the rules need from the rest: auth files where auth_basic is
 * on, and the sizes of the buffers a worker reserves at start for the
 * longest head (header lines of top, site and location, the realm) and
 * the longest return URL ($variables are at most a request head each).
 */
static void
config_finish_rules(struct parse *p)
{
	struct config		*conf = p->conf;
	const struct site	*site;
	const struct scope	*sc;
	size_t			 top_loc = 0, loc, site_max = 0, lit, n;
	int			 i, j, vars;

	for (i = 0; i < conf->nlocs; i++)
		top_loc = MAX(top_loc, config_header_bytes(&conf->locs[i].sc));
	conf->return_url_max = 0;
	for (i = 0; i < conf->nsites; i++) {
		site = &conf->sites[i];
		config_check_auth(p, &site->sc, NULL, site->line);
		loc = top_loc;
		for (j = 0; j < site->nlocs; j++) {
			loc = MAX(loc, config_header_bytes(&site->locs[j].sc));
			config_check_auth(p, &site->locs[j].sc, NULL,
			    site->locs[j].line);
		}
		for (j = 0; j < conf->nlocs; j++)
			config_check_auth(p, &conf->locs[j].sc, &site->sc,
			    conf->locs[j].line);
		site_max = MAX(site_max, config_header_bytes(&site->sc) + loc);
	}
	conf->rule_head_max = config_header_bytes(&conf->top) + site_max +
	    sizeof("WWW-Authenticate: Basic realm=\"\", charset=\"UTF-8\""
	    "\r\n") + 256;
	for (i = -1; i < conf->nsites; i++) {
		for (j = -1; j < (i < 0 ? conf->nlocs : conf->sites[i].nlocs);
		    j++) {
			if (i < 0)
				sc = j < 0 ? &conf->top : &conf->locs[j].sc;
			else
				sc = j < 0 ? &conf->sites[i].sc :
				    &conf->sites[i].locs[j].sc;
			if (sc->ret.url == NULL ||
			    (vars = config_return_vars(sc->ret.url,
			    &lit)) < 0)
				continue;
			n = lit + (size_t)vars * conf->max_header_size;
			conf->return_url_max = MAX(conf->return_url_max, n);
		}
	}
	p->line = 0;
}

/* A site name already on a listener, for the message. */
static int
config_name_line(const struct site_name *n)
{
	return n->site->line;
}

/*
 * The routing tables of one listener: its sites' exact names sorted for
 * a binary search, its wildcards longest suffix first. One name on two
 * sites of a listener is an error: which one answers would be an
 * accident of file order.
 */
static void
config_finish_names(struct parse *p, struct listener *l)
{
	const struct site	*site;
	struct site_name	*n;
	int			 i, j, nex = 0, nwi = 0;

	for (i = 0; i < l->nsites; i++)
		for (j = 0; j < l->sites[i]->nnames; j++) {
			if (l->sites[i]->names[j][0] == '*')
				nwi++;
			else
				nex++;
		}
	if ((nex > 0 && (l->exact = calloc((size_t)nex,
	    sizeof(*l->exact))) == NULL) ||
	    (nwi > 0 && (l->wild = calloc((size_t)nwi,
	    sizeof(*l->wild))) == NULL)) {
		config_error(p, "%s", strerror(errno));
		return;
	}
	for (i = 0; i < l->nsites; i++) {
		site = l->sites[i];
		for (j = 0; j < site->nnames; j++) {
			if (site->names[j][0] == '*') {
				n = &l->wild[l->nwild++];
				n->name = site->names[j] + 1;	/* ".x.org" */
			} else {
				n = &l->exact[l->nexact++];
				n->name = site->names[j];
			}
			n->len = strlen(n->name);
			n->site = site;
		}
	}
	if (l->nexact > 1)
		qsort(l->exact, (size_t)l->nexact, sizeof(*l->exact),
		    site_name_cmp);
	if (l->nwild > 1)
		qsort(l->wild, (size_t)l->nwild, sizeof(*l->wild),
		    site_wild_cmp);
	for (i = 1; i < l->nexact; i++)
		if (site_name_cmp(&l->exact[i - 1], &l->exact[i]) == 0 &&
		    l->exact[i - 1].site != l->exact[i].site) {
			p->line = config_name_line(&l->exact[i]) >
			    config_name_line(&l->exact[i - 1]) ?
			    config_name_line(&l->exact[i]) :
			    config_name_line(&l->exact[i - 1]);
			config_error(p, "server name \"%s\" is on two sites "
			    "of listen %s", config_show_tok(p,
			    l->exact[i].name), l->name);
		}
	for (i = 1; i < l->nwild; i++)
		if (site_name_cmp(&l->wild[i - 1], &l->wild[i]) == 0 &&
		    l->wild[i - 1].site != l->wild[i].site) {
			p->line = l->wild[i].site->line;
			config_error(p, "server name \"*%s\" is on two sites "
			    "of listen %s", config_show_tok(p,
			    l->wild[i].name), l->name);
		}
	p->line = 0;
}

/*
 * Which sites answer on which listener: a site's own listen lines, or
 * else the top-level ones (the default *:8080 when there is no listen
 * line anywhere). The first site of a listener is its default.
 */
static void
config_finish_listen(struct parse *p)
{
	struct config	*conf = p->conf;
	struct listener	*l;
	struct site	*site;
	char		 err[ERRSTR_MAX];
	int		 i, j;

	if (TAILQ_EMPTY(&conf->listeners)) {
		if ((l = calloc(1, sizeof(*l))) == NULL)
			config_error(p, "%s", strerror(errno));
		else if (config_parse_listen(CONFIG_DEFAULT_LISTEN, l, err,
		    sizeof(err)) == -1) {
			config_error(p, "default listen: %s", err);
			free(l);
		} else {
			l->top = true;
			TAILQ_INSERT_TAIL(&conf->listeners, l, entry);
			conf->listen_default = true;
		}
	}
	TAILQ_FOREACH(l, &conf->listeners, entry) {
		if ((l->sites = calloc((size_t)conf->nsites,
		    sizeof(*l->sites))) == NULL) {
			config_error(p, "%s", strerror(errno));
			return;
		}
		for (i = 0; i < conf->nsites; i++) {
			site = &conf->sites[i];
			if (site->nlisten == 0 && l->top)
				l->sites[l->nsites++] = site;
			for (j = 0; j < site->nlisten; j++)
				if (site->listen[j] == l)
					l->sites[l->nsites++] = site;
		}
		if (l->nsites == 0) {
			p->line = l->line;
			config_error(p, "listen %s: every server block has "
			    "its own listen lines, so no site answers here",
			    l->name);
			continue;
		}
		config_finish_names(p, l);
	}
	p->line = 0;
}

/*
 * A TLS listener needs a certificate and its key for every site on it;
 * a level that gives one of them alone is a mistake too. Files are
 * read later, by tls_ctx_load().
 */
static void
config_finish_tls(struct parse *p)
{
	struct config		*conf = p->conf;
	const struct scope	*sc;
	struct listener		*l;
	int			 i;

	for (i = -1; i < conf->nsites; i++) {
		sc = i < 0 ? &conf->top : &conf->sites[i].sc;
		if (i >= 0 && sc->tls_certificate_line ==
		    conf->top.tls_certificate_line && sc->tls_key_line ==
		    conf->top.tls_key_line)
			continue;	/* inherited: checked at top */
		if (sc->tls_certificate_line != 0 && sc->tls_key_line == 0) {
			p->line = sc->tls_certificate_line;
			config_error(p, "tls_certificate without tls_key");
		} else if (sc->tls_key_line != 0 &&
		    sc->tls_certificate_line == 0) {
			p->line = sc->tls_key_line;
			config_error(p, "tls_key without tls_certificate");
		}
	}
	TAILQ_FOREACH(l, &conf->listeners, entry) {
		/* Else it would refuse every connection. */
		if (l->proxy_protocol && conf->nproxy_from == 0) {
			p->line = l->line;
			config_error(p, "listen %s proxy_protocol needs "
			    "proxy_protocol_from: the balancers' addresses",
			    l->name);
		}
		if (!l->tls)
			continue;
		for (i = 0; i < l->nsites; i++) {
			sc = &l->sites[i]->sc;
			if (sc->tls_certificate[0] != '\0' &&
			    sc->tls_key[0] != '\0')
				continue;
			p->line = l->line;
			if (conf->implicit_site)
				config_error(p, "listen %s tls needs "
				    "tls_certificate and tls_key", l->name);
			else
				config_error(p, "listen %s tls needs "
				    "tls_certificate and tls_key for the "
				    "server block on line %d", l->name,
				    l->sites[i]->line);
		}
	}
	p->line = 0;
}

/* Checks that need the whole file: defaults, requirements, relations. */
static void
config_finish(struct parse *p)
{
	struct config	*conf = p->conf;
	int		 workers_line, max_workers_line;

	config_runtime_lines(p);
	if (p->ctx != CTX_MAIN) {
		p->line = p->ctx == CTX_LOCATION ? p->loc_line : p->open_line;
		config_error(p, "%s block is not closed (no \"}\")",
		    p->ctx == CTX_LOCATION ? "location" : "server");
		if (p->ctx == CTX_LOCATION && p->site >= 0) {
			p->line = p->open_line;
			config_error(p, "server block is not closed (no "
			    "\"}\")");
		}
	}
	p->line = 0;
	config_finish_scopes(p);
	config_finish_rules(p);
	config_finish_listen(p);
	config_finish_tls(p);
	p->line = 0;

	if (conf->min_spare > conf->max_spare) {
		p->line = config_seen(p, "min_spare") != 0 ?
		    config_seen(p, "min_spare") : config_seen(p, "max_spare");
		config_error(p, "min_spare %d is more than max_spare %d",
		    conf->min_spare, conf->max_spare);
	}

	/*
	 * workers against max_workers. Without max_workers the cap is the
	 * default, raised to workers when workers is larger. With it, auto
	 * is clamped to the cap and an explicit larger number is an error.
	 * Skipped when either directive had a bad value (already reported).
	 */
	workers_line = config_valid(p, "workers");
	max_workers_line = config_valid(p, "max_workers");
	if (workers_line == 0 && config_seen(p, "workers") != 0)
		return;
	if (max_workers_line == 0) {
		if (config_seen(p, "max_workers") == 0 &&
		    conf->max_workers < conf->workers)
			conf->max_workers = conf->workers;
		return;
	}
	if (conf->workers <= conf->max_workers)
		return;
	if (conf->workers_auto)
		conf->workers = conf->max_workers;
	else {
		p->line = max_workers_line;
		config_error(p, "max_workers %d is less than workers %d "
		    "(line %d)", conf->max_workers, conf->workers,
		    workers_line);
	}
}
/*
 * Returns a new config, or NULL after every error in the file has been
 * reported as FILE:LINE (FILE is the absolute path). Reading allocates;
 * that is fine at start-up and on reload, never on the request path.
 */
struct config *
config_load(const char *file)
{
	struct parse	*p = NULL;
	struct config	*conf = NULL;
	struct stat	 st;
	FILE		*fp = NULL;
	char		*line = NULL, *slash;
	size_t		 cap = 0, len;
	ssize_t		 n;
	int		 fd = -1;

	if ((conf = calloc(1, sizeof(*conf))) == NULL ||
	    (p = calloc(1, sizeof(*p))) == NULL) {
		log_config_error(file, 0, "%s", strerror(errno));
		goto fail;
	}
	config_defaults(conf);
	p->conf = conf;
	p->ctx = CTX_MAIN;
	p->sc = &conf->top;
	p->site = -1;
	/*
	 * O_NONBLOCK: opening a FIFO without a writer would wait for one,
	 * and a reload runs in the master, which must go on reaping and
	 * respawning. The type is checked before a byte is read: a device
	 * or a FIFO could feed an endless line. For a regular file the flag
	 * changes nothing, and it is cleared before reading all the same.
	 */
	if (realpath(file, conf->path) == NULL ||
	    (fd = open(conf->path, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1 || fstat(fd, &st) == -1) {
		log_config_error(file, 0, "cannot open: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		log_config_error(file, 0, "cannot open: not a regular file");
		goto fail;
	}
	if (util_set_nonblock(fd, false) == -1 ||
	    (fp = fdopen(fd, "r")) == NULL) {
		log_config_error(file, 0, "cannot open: %s", strerror(errno));
		goto fail;
	}
	fd = -1;	/* fp owns it */
	/* conf->path is absolute and fits; its directory fits as well. */
	(void)strlcpy(p->dir, conf->path, sizeof(p->dir));
	slash = strrchr(p->dir, '/');
	if (slash == p->dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';

	while ((n = getline(&line, &cap, fp)) != -1) {
		p->line++;
		len = (size_t)n;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (memchr(line, '\0', len) != NULL) {
			config_error(p, "line contains a NUL byte");
			continue;
		}
		if (len > CONFIG_LINE_MAX) {
			config_error(p, "line too long (max %d bytes)",
			    CONFIG_LINE_MAX);
			continue;
		}
		config_line(p, line);
	}
	if (ferror(fp)) {
		p->line = 0;
		config_error(p, "cannot read: %s", strerror(errno));
	}
	config_finish(p);
	if (p->errors > 0)
		goto fail;
	free(line);
	(void)fclose(fp);	/* read-only: nothing to lose */
	free(p);
	return conf;
fail:
	free(line);
	if (fp != NULL)
		(void)fclose(fp);
	if (fd != -1)
		(void)close(fd);	/* read-only: nothing to lose */
	free(p);
	config_free(conf);
	return NULL;
}

/* The lists a scope owns; its strings are the config's. */
static void
config_free_scope(struct scope *sc)
{
	free(sc->headers);
	free(sc->access);
	free(sc->error_pages);
}

static void
config_free_locs(struct location *locs, int n)
{
	int	 i;

	for (i = 0; i < n; i++) {
		free(locs[i].glob);
		config_free_scope(&locs[i].sc);
	}
	free(locs);
}

/* Listener descriptors belong to the master and are not closed here. */
void
config_free(struct config *conf)
{
	struct listener	*l;
	struct site	*site;
	int		 i, j;

	if (conf == NULL)
		return;
	if (conf->tls != NULL && conf->tls_free != NULL)
		conf->tls_free(conf->tls);
	if (conf->compress_dirfd != -1)
		(void)close(conf->compress_dirfd);
	while ((l = TAILQ_FIRST(&conf->listeners)) != NULL) {
		TAILQ_REMOVE(&conf->listeners, l, entry);
		free(l->sites);
		free(l->exact);
		free(l->wild);
		free(l);
	}
	for (i = 0; i < conf->nsites; i++) {
		site = &conf->sites[i];
		for (j = 0; j < site->nnames; j++)
			free(site->names[j]);
		free(site->names);
		free(site->listen);
		config_free_locs(site->locs, site->nlocs);
		config_free_scope(&site->sc);
	}
	free(conf->sites);
	config_free_scope(&conf->top);
	for (i = 0; i < conf->nstrs; i++)
		free(conf->strs[i]);
	free(conf->strs);
	for (i = 0; i < conf->nauths; i++)
		auth_free(conf->auths[i]);
	free(conf->auths);
	config_free_locs(conf->locs, conf->nlocs);
	free(conf->roots);
	free((void *)conf->root_lines);
	free(conf->access_logs);
	free((void *)conf->access_log_lines);
	free(conf);
}

static int __attribute__((format(printf, 3, 4)))
config_listen_error(char *err, size_t errsize, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	/* Every message fits ERRSTR_MAX; a smaller buffer gets a cut one. */
	(void)vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Parses "ADDR:PORT": ADDR is "*" (IPv4 any), a numeric IPv4 address or
 * a numeric IPv6 address in brackets ("[::]" is IPv6 any); host names are
 * not resolved. PORT is 1..65535, digits only. Fills ss, sslen and the
 * normalised name, sets fd to -1. The message in err does not echo str.
 */
int
config_parse_listen(const char *str, struct listener *l, char *err,
    size_t errsize)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)&l->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)(void *)&l->ss;
	char			 host[INET6_ADDRSTRLEN];
	const char		*begin, *end, *port, *errstr = "invalid";
	long long		 n = 0;
	size_t			 hlen;
	int			 family;

	memset(&l->ss, 0, sizeof(l->ss));
	l->sslen = 0;
	l->name[0] = '\0';
	l->line = 0;
	l->fd = -1;

	if (str[0] == '[') {
		begin = str + 1;
		if ((end = strchr(begin, ']')) == NULL)
			return config_listen_error(err, errsize,
			    "missing \"]\"");
		if (end[1] == '\0')
			return config_listen_error(err, errsize,
			    "missing port");
		if (end[1] != ':')
			return config_listen_error(err, errsize,
			    "expected \":\" after \"]\"");
		port = end + 2;
		family = AF_INET6;
	} else {
		begin = str;
		if ((end = strchr(begin, ':')) == NULL)
			return config_listen_error(err, errsize,
			    "missing port");
		if (strchr(end + 1, ':') != NULL)
			return config_listen_error(err, errsize,
			    "IPv6 address needs brackets");
		port = end + 1;
		family = AF_INET;
	}
	hlen = (size_t)(end - begin);
	if (hlen == 0)
		return config_listen_error(err, errsize, "missing address");
	if (hlen >= sizeof(host))
		return config_listen_error(err, errsize,
		    "not a numeric address");
	memcpy(host, begin, hlen);
	host[hlen] = '\0';
	if (port[0] == '\0')
		return config_listen_error(err, errsize, "missing port");
	if (port[strspn(port, CONFIG_DIGITS)] == '\0')
		n = strtonum(port, PORT_MIN, PORT_MAX, &errstr);
	if (errstr != NULL)
		return config_listen_error(err, errsize,
		    "port is %s (%d..%d)", errstr, PORT_MIN, PORT_MAX);

	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)n);
		if (strcmp(host, "*") == 0)
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return config_listen_error(err, errsize,
			    "not a numeric address");
		l->sslen = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)n);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return config_listen_error(err, errsize,
			    "not a numeric address");
		l->sslen = sizeof(*sin6);
	}
	if (util_fmt_addr((struct sockaddr *)(void *)&l->ss, l->sslen,
	    l->name, sizeof(l->name), true) == -1)
		return config_listen_error(err, errsize,
		    "cannot format address");
	return 0;
}

/* Problems with a user or group lookup: not found, or the error. */
static const char *
config_lookup_error(int errnum)
{
	switch (errnum) {
	case 0:
	case ENOENT:
	case ESRCH:
	case EBADF:
	case EPERM:
		return "does not exist";	/* getpwnam(3) lists these */
	default:
		return strerror(errnum);
	}
}

/*
 * A file the master will write: an existing one must be a writable
 * non-directory; otherwise its directory must let us create it.
 */
static int
config_check_file(const struct config *conf, const char *kw,
    const char *path, int line)
{
	struct stat	 st;
	char		 dir[PATH_MAX], shown[CONFIG_SHOW_BYTES];
	char		 dshown[CONFIG_SHOW_BYTES];
	char		*slash;

	if (path[0] == '\0')
		return 0;
	config_show(shown, sizeof(shown), path);
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			log_config_error(conf->path, line,
			    "%s \"%s\": is a directory", kw, shown);
			return 1;
		}
		if (access(path, W_OK) == -1) {
			log_config_error(conf->path, line, "%s \"%s\": %s", kw,
			    shown, strerror(errno));
			return 1;
		}
		return 0;
	}
	if (errno != ENOENT) {
		log_config_error(conf->path, line, "%s \"%s\": %s", kw, shown,
		    strerror(errno));
		return 1;
	}
	/* Paths are absolute (config_path()) and fit. */
	(void)strlcpy(dir, path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	if (access(dir, W_OK | X_OK) == -1) {
		log_config_error(conf->path, line,
		    "%s \"%s\": cannot create in \"%s\": %s", kw, shown,
		    config_show(dshown, sizeof(dshown), dir), strerror(errno));
		return 1;
	}
	return 0;
}

/*
 * The checks of tine -t beyond syntax, free of side effects: the user
 * and group exist, root can be read and searched, and the pid file and
 * logs can be written. access(2) checks as the invoking user, which is
 * who opens these files (the master opens logs before it drops rights).
 * Returns the number of problems, each reported at its directive's line.
 */
int
config_check_runtime(const struct config *conf)
{
	char	 shown[CONFIG_SHOW_BYTES];
	int	 i, problems = 0;

	if (conf->user[0] != '\0') {
		errno = 0;
		if (getpwnam(conf->user) == NULL) {
			log_config_error(conf->path, conf->user_line,
			    "user \"%s\" %s", config_show(shown, sizeof(shown),
			    conf->user), config_lookup_error(errno));
			problems++;
		}
	}
	if (conf->group[0] != '\0') {
		errno = 0;
		if (getgrnam(conf->group) == NULL) {
			log_config_error(conf->path, conf->group_line,
			    "group \"%s\" %s", config_show(shown, sizeof(shown),
			    conf->group), config_lookup_error(errno));
			problems++;
		}
	}
	for (i = 0; i < conf->nroots; i++) {
		if (access(conf->roots[i], R_OK | X_OK) == 0)
			continue;
		log_config_error(conf->path, conf->root_lines[i],
		    "root \"%s\": %s", config_show(shown, sizeof(shown),
		    conf->roots[i]), strerror(errno));
		problems++;
	}
	problems += config_check_file(conf, "pidfile", conf->pidfile,
	    conf->pidfile_line);
	for (i = 0; i < conf->naccess_logs; i++)
		problems += config_check_file(conf, "access_log",
		    conf->access_logs[i], conf->access_log_lines[i]);
	if (conf->error_log_to == LOG_TO_FILE)
		problems += config_check_file(conf, "error_log",
		    conf->error_log, conf->error_log_line);
	return problems;
}

/*
 * Writes one value so that the parser reads it back unchanged: quoted
 * when it is empty, holds a blank or a quote, or starts with '#'.
 */
static void
config_dump_value(FILE *fp, const char *s)
{
	const char	*c;

	if (s[0] != '\0' && s[0] != '#' &&
	    s[strcspn(s, CONFIG_WS "\"")] == '\0') {
		(void)fputs(s, fp);
		return;
	}
	(void)putc('"', fp);
	for (c = s; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			(void)putc('\\', fp);
		(void)putc(*c, fp);
	}
	(void)putc('"', fp);
}

static void
config_dump_str(FILE *fp, const char *kw, const char *value)
{
	(void)fprintf(fp, "%s ", kw);
	config_dump_value(fp, value);
	(void)putc('\n', fp);
}

static void
config_dump_number(const struct config *conf, const struct scope *sc,
    const struct directive *d, FILE *fp)
{
	(void)fprintf(fp, "%s %lld\n", d->name, config_fetch(conf, sc, d));
}

static void
config_dump_flag(const struct config *conf, const struct scope *sc,
    const struct directive *d, FILE *fp)
{
	(void)fprintf(fp, "%s %s\n", d->name,
	    config_fetch(conf, sc, d) != 0 ? "on" : "off");
}

/* Unset text (user, group, pidfile) is left out. */
static void
config_dump_text(const struct config *conf, const struct scope *sc,
    const struct directive *d, FILE *fp)
{
	const char	*s = config_text(conf, sc, d);

	if (s != NULL && s[0] != '\0')
		config_dump_str(fp, d->name, s);
}

/* Empty text is "off"; a path named off was stored as "DIR/off". */
static void
config_dump_text_off(const struct config *conf, const struct scope *sc,
    const struct directive *d, FILE *fp)
{
	const char	*s = config_text(conf, sc, d);

	if (s != NULL)
		config_dump_str(fp, d->name, s[0] != '\0' ? s : "off");
}

static void
config_dump_list(const struct config *conf, const struct scope *sc,
    const struct directive *d, FILE *fp)
{
	const char	*list = config_cfield(conf, sc, d);
	int		 i, count;

	memcpy(&count, list - d->off + d->count_off, sizeof(count));
	(void)fputs(d->name, fp);
	for (i = 0; i < count; i++) {
		(void)putc(' ', fp);
		config_dump_value(fp, d->store == STORE_STR ?
		    *(const char *const *)(const void *)(list +
		    (size_t)i * d->size) : list + (size_t)i * d->size);
	}
	(void)putc('\n', fp);
}

static void
config_dump_listen(const struct config *conf, const struct scope *sc,
    const struct directive *d, FILE *fp)
{
	const struct listener	*l;

	(void)sc;
	TAILQ_FOREACH(l, &conf->listeners, entry)
		if (l->top)
			(void)fprintf(fp, "%s %s%s%s\n", d->name, l->name,
			    l->tls ? " tls" : "",
			    l->proxy_protocol ? " proxy_protocol" : "");
}

static void
config_dump_tls_protocols(const struct config *conf,
    const struct scope *sc, const struct directive *d, FILE *fp)
{
	(void)sc;
	(void)fprintf(fp, "%s%s%s\n", d->name,
	    (conf->tls_protocols & TLS_PROTO_12) ? " TLSv1.2" : "",
	    (conf->tls_protocols & TLS_PROTO_13) ? " TLSv1.3" : "");
}

static void
config_dump_workers(const struct config *conf, const struct scope *sc,
    const struct directive *d, FILE *fp)
{
	if (conf->workers_auto)
		(void)fprintf(fp, "%s auto # %lld\n", d->name,
		    config_fetch(conf, sc, d));
	else
		config_dump_number(conf, sc, d, fp);
}

static void
config_dump_error_log(const struct config *conf, const struct scope *sc,
    const struct directive *d, FILE *fp)
{
	switch (conf->error_log_to) {
	case LOG_TO_STDERR:
		(void)fprintf(fp, "%s stderr\n", d->name);
		break;
	case LOG_TO_SYSLOG:
		(void)fprintf(fp, "%s syslog\n", d->name);
		break;
	case LOG_TO_FILE:
		config_dump_text(conf, sc, d, fp);
		break;
	}
}

static void
config_dump_cidrs(const struct config *conf, const struct scope *sc,
    const struct directive *d, FILE *fp)
{
	const struct cidr	*list = config_cfield(conf, sc, d);
	char			 a[INET6_ADDRSTRLEN];
	int			 i, count;

	memcpy(&count, (const char *)list - d->off + d->count_off,
	    sizeof(count));
	if (count == 0)
		return;
	(void)fputs(d->name, fp);
	for (i = 0; i < count; i++) {
		if (inet_ntop(list[i].family, list[i].addr, a,
		    sizeof(a)) == NULL)
			continue;
		(void)fprintf(fp, " %s/%d", a, list[i].prefix);
	}
	(void)putc('\n', fp);
}

/* A level's own header lines, as written (without the CRLF). */
static void
config_dump_header(const struct config *conf, const struct scope *sc,
    const struct directive *d, FILE *fp)
{
	const char	*line, *colon;
	int		 i;

	(void)conf;
	for (i = 0; i < sc->nheaders; i++) {
		line = sc->headers[i].line;
		colon = strchr(line, ':');
		(void)fprintf(fp, "%s %.*s ", d->name, (int)(colon - line),
		    line);
		/* ": value\r\n": the value alone, one string. */
		(void)fputc('"', fp);
		for (line = colon + 1 + (colon[1] == ' '); *line != '\r';
		    line++) {
			if (*line == '"' || *line == '\\')
				(void)putc('\\', fp);
			(void)putc(*line, fp);
		}
		(void)fputs("\"\n", fp);
	}
}

static void
config_dump_return(const struct config *conf, const struct scope *sc,
    const struct directive *d, FILE *fp)
{
	(void)conf;
	if (sc->ret.code == 0)
		return;
	(void)fprintf(fp, "%s %d", d->name, sc->ret.code);
	if (sc->ret.url != NULL) {
		(void)putc(' ', fp);
		config_dump_value(fp, sc->ret.url);
	}
	(void)putc('\n', fp);
}

/* One line per path, with every code that shares it. */
static void
config_dump_error_page(const struct config *conf, const struct scope *sc,
    const struct directive *d, FILE *fp)
{
	int	 i, j;

	(void)conf;
	for (i = 0; i < sc->nerror_pages; i++) {
		for (j = 0; j < i; j++)
			if (sc->error_pages[j].path == sc->error_pages[i].path)
				break;
		if (j < i)
			continue;	/* printed with an earlier code */
		(void)fputs(d->name, fp);
		for (j = i; j < sc->nerror_pages; j++)
			if (sc->error_pages[j].path == sc->error_pages[i].path)
				(void)fprintf(fp, " %d",
				    sc->error_pages[j].status);
		(void)putc(' ', fp);
		config_dump_value(fp, sc->error_pages[i].path);
		(void)putc('\n', fp);
	}
}

/*
 * allow and deny share one ordered list, printed by the allow row; the
 * deny row prints nothing, so the order survives a round trip.
 */
static void
config_dump_access(const struct config *conf, const struct scope *sc,
    const struct directive *d, FILE *fp)
{
	const struct rule_access	*a;
	char				 s[INET6_ADDRSTRLEN];
	int				 i;

	(void)conf;
	if (strcmp(d->name, "allow") != 0)
		return;
	for (i = 0; i < sc->naccess; i++) {
		a = &sc->access[i];
		(void)fputs(a->allow ? "allow " : "deny ", fp);
		if (a->all)
			(void)fputs("all\n", fp);
		else if (inet_ntop(a->cidr.family, a->cidr.addr, s,
		    sizeof(s)) != NULL)
			(void)fprintf(fp, "%s/%d\n", s, a->cidr.prefix);
	}
}

static void
config_dump_auth_file(const struct config *conf, const struct scope *sc,
    const struct directive *d, FILE *fp)
{
	(void)conf;
	if (sc->auth != NULL)
		config_dump_str(fp, d->name, sc->auth->path);
}

/*
 * Rows of one scope allowed in ctx, indented: the body of a block. A
 * location shows the values it gives itself (set); a site, every value,
 * its own and those it inherited.
 */
static void
config_dump_scope(const struct config *conf, const struct scope *sc,
    unsigned ctx, const char *indent, FILE *fp)
{
	const struct directive	*d;
	char			*buf = NULL, *line, *nl;
	size_t			 len = 0, i;
	FILE			*mem;

	if ((mem = open_memstream(&buf, &len)) == NULL) {
		(void)fputs("# out of memory\n", fp);
		return;
	}
	for (i = 0; i < nitems(directives); i++) {
		d = &directives[i];
		if ((d->ctx & ctx) == 0 || !config_scoped(d) ||
		    (sc->set & ((uint64_t)1 << i)) == 0)
			continue;
		types[d->type].dump(conf, sc, d, mem);
	}
	if (fclose(mem) != 0 || buf == NULL) {
		free(buf);
		(void)fputs("# out of memory\n", fp);
		return;
	}
	for (line = buf; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			break;
		(void)fprintf(fp, "%s%.*s\n", indent, (int)(nl - line), line);
	}
	free(buf);
}

static void
config_dump_locations(const struct config *conf, const struct location *locs,
    int n, const char *indent, FILE *fp)
{
	int	 i;

	for (i = 0; i < n; i++) {
		(void)fprintf(fp, "%slocation ", indent);
		config_dump_value(fp, locs[i].glob);
		(void)fputs(" {\n", fp);
		config_dump_scope(conf, &locs[i].sc, CTX_LOCATION,
		    indent[0] != '\0' ? "\t\t" : "\t", fp);
		(void)fprintf(fp, "%s}\n", indent);
	}
}

/*
 * tine -T: the effective config, defaults included, one directive per
 * line, readable by config_load(): the top level, its locations, then
 * each server block with every value it has, inherited ones included.
 * Unset user, group and pidfile are left out. The caller checks
 * ferror(fp).
 */
void
config_dump(const struct config *conf, FILE *fp)
{
	const struct site	*site;
	size_t			 i;
	int			 j;

	for (i = 0; i < nitems(directives); i++)
		types[directives[i].type].dump(conf, &conf->top,
		    &directives[i], fp);
	config_dump_locations(conf, conf->locs, conf->nlocs, "", fp);
	if (conf->implicit_site)
		return;
	for (j = 0; j < conf->nsites; j++) {
		site = &conf->sites[j];
		(void)fputs("server", fp);
		for (i = 0; i < (size_t)site->nnames; i++) {
			(void)putc(' ', fp);
			config_dump_value(fp, site->names[i]);
		}
		(void)fputs(" {\n", fp);
		for (i = 0; i < (size_t)site->nlisten; i++)
			(void)fprintf(fp, "\tlisten %s%s%s\n",
			    site->listen[i]->name,
			    site->listen[i]->tls ? " tls" : "",
			    site->listen[i]->proxy_protocol ?
			    " proxy_protocol" : "");
		config_dump_scope(conf, &site->sc, CTX_SERVER, "\t", fp);
		config_dump_locations(conf, site->locs, site->nlocs, "\t",
		    fp);
		(void)fputs("}\n", fp);
	}
}
