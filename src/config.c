/*
 * config.c: reads tine.conf (sshd_config style) into a struct config,
 * reporting every error as FILE:LINE before it fails; checks what tine -t
 * needs at run time and writes the effective config for tine -T. Has no
 * side effects: it never binds, creates, writes or changes identity.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
#define CONFIG_NAME_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
				"abcdefghijklmnopqrstuvwxyz0123456789._-"
#define CONFIG_DIGITS		"0123456789"
#define PORT_MIN		1
#define PORT_MAX		65535

struct parse;

struct directive {
	const char	*name;
	int		 nargs_max;	/* values allowed; at least one */
	bool		 repeat;	/* may appear more than once */
	void		(*set)(struct parse *, int, char **);
};

static void	config_set_access_log(struct parse *, int, char **);
static void	config_set_autoindex(struct parse *, int, char **);
static void	config_set_error_log(struct parse *, int, char **);
static void	config_set_group(struct parse *, int, char **);
static void	config_set_header_timeout(struct parse *, int, char **);
static void	config_set_index(struct parse *, int, char **);
static void	config_set_keepalive_requests(struct parse *, int, char **);
static void	config_set_keepalive_timeout(struct parse *, int, char **);
static void	config_set_listen(struct parse *, int, char **);
static void	config_set_max_body_size(struct parse *, int, char **);
static void	config_set_max_header_size(struct parse *, int, char **);
static void	config_set_max_workers(struct parse *, int, char **);
static void	config_set_pidfile(struct parse *, int, char **);
static void	config_set_root(struct parse *, int, char **);
static void	config_set_send_timeout(struct parse *, int, char **);
static void	config_set_shutdown_timeout(struct parse *, int, char **);
static void	config_set_user(struct parse *, int, char **);
static void	config_set_workers(struct parse *, int, char **);
static void	config_set_min_spare(struct parse *, int, char **);
static void	config_set_max_spare(struct parse *, int, char **);
static void	config_set_max_requests(struct parse *, int, char **);
static void	config_set_worker_timeout(struct parse *, int, char **);
static void	config_set_spare_timeout(struct parse *, int, char **);
static void	config_set_status_path(struct parse *, int, char **);
static void	config_set_status_allow(struct parse *, int, char **);

static const struct directive directives[] = {
	{ "access_log",		1, false, config_set_access_log },
	{ "autoindex",		1, false, config_set_autoindex },
	{ "error_log",		1, false, config_set_error_log },
	{ "group",		1, false, config_set_group },
	{ "header_timeout",	1, false, config_set_header_timeout },
	{ "index", INDEX_NAMES_MAX, false, config_set_index },
	{ "keepalive_requests",	1, false, config_set_keepalive_requests },
	{ "keepalive_timeout",	1, false, config_set_keepalive_timeout },
	{ "listen",		1, true,  config_set_listen },
	{ "max_body_size",	1, false, config_set_max_body_size },
	{ "max_header_size",	1, false, config_set_max_header_size },
	{ "max_requests",	1, false, config_set_max_requests },
	{ "max_spare",		1, false, config_set_max_spare },
	{ "max_workers",	1, false, config_set_max_workers },
	{ "min_spare",		1, false, config_set_min_spare },
	{ "pidfile",		1, false, config_set_pidfile },
	{ "root",		1, false, config_set_root },
	{ "send_timeout",	1, false, config_set_send_timeout },
	{ "shutdown_timeout",	1, false, config_set_shutdown_timeout },
	{ "spare_timeout",	1, false, config_set_spare_timeout },
	{ "status_allow", STATUS_ALLOW_MAX, true, config_set_status_allow },
	{ "status_path",	1, false, config_set_status_path },
	{ "user",		1, false, config_set_user },
	{ "worker_timeout",	1, false, config_set_worker_timeout },
	{ "workers",		1, false, config_set_workers },
};

/* State of one config_load() run. */
struct parse {
	struct config	*conf;
	char		 dir[PATH_MAX];	/* directory of the config file */
	int		 line;		/* current line, 0 for the file */
	int		 errors;
	int		 seen[nitems(directives)];	/* first line, or 0 */
	int		 workers_line;	/* set when the value was valid */
	int		 max_workers_line;
	int		 nlisteners;
	bool		 status_allow_seen;
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

static int
config_seen(const struct parse *p, const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(directives); i++)
		if (strcmp(directives[i].name, name) == 0)
			return p->seen[i];
	return 0;
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

static int
config_timeout(struct parse *p, char **argv, long long min, int *out)
{
	long long	 n;

	if (config_number(p, argv[0], argv[1], min, TIMEOUT_MAX_S, "",
	    &n) == -1)
		return -1;
	*out = (int)n;
	return 0;
}

static void
config_set_listen(struct parse *p, int argc, char **argv)
{
	struct listener	*l, *o;
	char		 err[ERRSTR_MAX];

	(void)argc;	/* exactly one, checked by the caller */
	if (p->nlisteners >= LISTENERS_MAX) {
		config_error(p, "too many listen addresses (max %d)",
		    LISTENERS_MAX);
		return;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		config_error(p, "%s", strerror(errno));
		return;
	}
	if (config_parse_listen(argv[1], l, err, sizeof(err)) == -1) {
		config_error(p, "listen \"%s\": %s",
		    config_show_tok(p, argv[1]), err);
		free(l);
		return;
	}
	TAILQ_FOREACH(o, &p->conf->listeners, entry) {
		if (strcmp(o->name, l->name) == 0) {
			config_error(p, "duplicate listen \"%s\" "
			    "(first on line %d)", l->name, o->line);
			free(l);
			return;
		}
	}
	l->line = p->line;
	TAILQ_INSERT_TAIL(&p->conf->listeners, l, entry);
	p->nlisteners++;
}

static void
config_set_root(struct parse *p, int argc, char **argv)
{
	struct config	*conf = p->conf;
	struct stat	 st;
	char		 path[PATH_MAX];

	(void)argc;
	if (config_path(p, argv[0], argv[1], path, sizeof(path)) == -1)
		return;
	if (realpath(path, conf->root) == NULL) {
		conf->root[0] = '\0';
		config_error(p, "root \"%s\": %s", config_show_tok(p, argv[1]),
		    strerror(errno));
		return;
	}
	if (stat(conf->root, &st) == -1 || !S_ISDIR(st.st_mode)) {
		config_error(p, "root \"%s\": not a directory",
		    config_show_tok(p, argv[1]));
		conf->root[0] = '\0';
		return;
	}
	/* realpath() leaves no trailing slash, except for "/" itself. */
	conf->root_line = p->line;
}

/*
 * "auto" is one worker per CPU. When max_workers is given and smaller,
 * auto is clamped to it; an explicit number above it is an error
 * (config_finish()).
 */
static void
config_set_workers(struct parse *p, int argc, char **argv)
{
	long long	 n;

	(void)argc;
	if (strcmp(argv[1], "auto") == 0) {
		p->conf->workers_auto = true;
		p->conf->workers = util_nprocs();
	} else if (config_number(p, argv[0], argv[1], 1, WORKERS_MAX,
	    " or auto", &n) == 0) {
		p->conf->workers_auto = false;
		p->conf->workers = (int)n;
	} else
		return;
	p->workers_line = p->line;
}

static void
config_set_max_workers(struct parse *p, int argc, char **argv)
{
	long long	 n;

	(void)argc;
	if (config_number(p, argv[0], argv[1], 1, WORKERS_MAX, "", &n) == -1)
		return;
	p->conf->max_workers = (int)n;
	p->max_workers_line = p->line;
}

static void
config_set_user(struct parse *p, int argc, char **argv)
{
	(void)argc;
	if (config_name(p, argv[0], argv[1], p->conf->user,
	    sizeof(p->conf->user)) == 0)
		p->conf->user_line = p->line;
}

static void
config_set_group(struct parse *p, int argc, char **argv)
{
	(void)argc;
	if (config_name(p, argv[0], argv[1], p->conf->group,
	    sizeof(p->conf->group)) == 0)
		p->conf->group_line = p->line;
}

static void
config_set_pidfile(struct parse *p, int argc, char **argv)
{
	(void)argc;
	if (config_path(p, argv[0], argv[1], p->conf->pidfile,
	    sizeof(p->conf->pidfile)) == -1) {
		p->conf->pidfile[0] = '\0';
		return;
	}
	p->conf->pidfile_line = p->line;
}

/* "off" is the keyword even when quoted; a file named off is "./off". */
static void
config_set_access_log(struct parse *p, int argc, char **argv)
{
	(void)argc;
	p->conf->access_log_line = p->line;
	if (strcmp(argv[1], "off") == 0)
		p->conf->access_log[0] = '\0';
	else if (config_path(p, argv[0], argv[1], p->conf->access_log,
	    sizeof(p->conf->access_log)) == -1)
		p->conf->access_log[0] = '\0';
}

static void
config_set_error_log(struct parse *p, int argc, char **argv)
{
	struct config	*conf = p->conf;

	(void)argc;
	conf->error_log_line = p->line;
	conf->error_log[0] = '\0';
	if (strcmp(argv[1], "stderr") == 0)
		conf->error_log_to = LOG_TO_STDERR;
	else if (strcmp(argv[1], "syslog") == 0)
		conf->error_log_to = LOG_TO_SYSLOG;
	else if (config_path(p, argv[0], argv[1], conf->error_log,
	    sizeof(conf->error_log)) == 0)
		conf->error_log_to = LOG_TO_FILE;
	else
		conf->error_log[0] = '\0';
}

/* Index names are plain file names, looked up inside the directory. */
static void
config_set_index(struct parse *p, int argc, char **argv)
{
	struct config	*conf = p->conf;
	const char	*name;
	int		 i;

	conf->nindex = 0;
	for (i = 1; i <= argc; i++) {
		name = argv[i];
		if (name[0] == '\0' || strchr(name, '/') != NULL ||
		    strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			config_error(p, "invalid index name \"%s\"",
			    config_show_tok(p, name));
			continue;
		}
		if (strlcpy(conf->index[conf->nindex], name,
		    sizeof(conf->index[0])) >= sizeof(conf->index[0])) {
			config_error(p, "index name \"%s\" is too long "
			    "(max %zu bytes)", config_show_tok(p, name),
			    sizeof(conf->index[0]) - 1);
			continue;
		}
		conf->nindex++;
	}
}

static void
config_set_autoindex(struct parse *p, int argc, char **argv)
{
	(void)argc;
	if (strcmp(argv[1], "on") == 0)
		p->conf->autoindex = true;
	else if (strcmp(argv[1], "off") == 0)
		p->conf->autoindex = false;
	else
		config_error(p, "autoindex \"%s\" must be on or off",
		    config_show_tok(p, argv[1]));
}

static void
config_set_keepalive_timeout(struct parse *p, int argc, char **argv)
{
	(void)argc;
	(void)config_timeout(p, argv, 0, &p->conf->keepalive_timeout);
}

static void
config_set_header_timeout(struct parse *p, int argc, char **argv)
{
	(void)argc;
	(void)config_timeout(p, argv, 1, &p->conf->header_timeout);
}

static void
config_set_shutdown_timeout(struct parse *p, int argc, char **argv)
{
	(void)argc;
	(void)config_timeout(p, argv, 0, &p->conf->shutdown_timeout);
}

static void
config_set_send_timeout(struct parse *p, int argc, char **argv)
{
	(void)argc;
	(void)config_timeout(p, argv, 1, &p->conf->send_timeout);
}

static void
config_set_keepalive_requests(struct parse *p, int argc, char **argv)
{
	long long	 n;

	(void)argc;
	if (config_number(p, argv[0], argv[1], 1, KEEPALIVE_REQUESTS_MAX, "",
	    &n) == 0)
		p->conf->keepalive_requests = (int)n;
}

static void
config_set_max_header_size(struct parse *p, int argc, char **argv)
{
	long long	 n;

	(void)argc;
	if (config_size(p, argv[0], argv[1], HEAD_MIN_BYTES, HEAD_MAX_BYTES,
	    &n) == 0)
		p->conf->max_header_size = (size_t)n;
}

static void
config_set_max_body_size(struct parse *p, int argc, char **argv)
{
	long long	 n;

	(void)argc;
	if (config_size(p, argv[0], argv[1], 0, BODY_MAX_BYTES, &n) == 0)
		p->conf->max_body_size = (off_t)n;
}

static void
config_set_min_spare(struct parse *p, int argc, char **argv)
{
	long long	 n;

	(void)argc;
	if (config_number(p, argv[0], argv[1], 0, WORKERS_MAX, "", &n) == 0)
		p->conf->min_spare = (int)n;
}

static void
config_set_max_spare(struct parse *p, int argc, char **argv)
{
	long long	 n;

	(void)argc;
	if (config_number(p, argv[0], argv[1], 1, WORKERS_MAX, "", &n) == 0)
		p->conf->max_spare = (int)n;
}

static void
config_set_max_requests(struct parse *p, int argc, char **argv)
{
	long long	 n;

	(void)argc;
	if (config_number(p, argv[0], argv[1], 0, INT_MAX, "", &n) == 0)
		p->conf->max_requests = (int)n;
}

static void
config_set_worker_timeout(struct parse *p, int argc, char **argv)
{
	(void)argc;
	(void)config_timeout(p, argv, 0, &p->conf->worker_timeout);
}

static void
config_set_spare_timeout(struct parse *p, int argc, char **argv)
{
	(void)argc;
	(void)config_timeout(p, argv, 1, &p->conf->spare_timeout);
}

/* A URL path: starts with '/', printable ASCII, no '?', '#' or '%'. */
static void
config_set_status_path(struct parse *p, int argc, char **argv)
{
	const char	*s = argv[1];
	size_t		 i;

	(void)argc;
	if (strcmp(s, "off") == 0) {
		p->conf->status_path[0] = '\0';
		return;
	}
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || strchr("?#%\"", s[i]))
			break;
	if (s[0] != '/' || s[i] != '\0') {
		config_error(p, "status_path \"%s\" must be a plain path "
		    "starting with / (or off)", config_show_tok(p, s));
		return;
	}
	if (strlcpy(p->conf->status_path, s, sizeof(p->conf->status_path)) >=
	    sizeof(p->conf->status_path)) {
		config_error(p, "status_path is too long");
		p->conf->status_path[0] = '\0';
	}
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
	return 0;
}

/* Replaces the default list on first use; later lines add to it. */
static void
config_set_status_allow(struct parse *p, int argc, char **argv)
{
	struct config	*conf = p->conf;
	int		 i;

	if (!p->status_allow_seen) {
		conf->nstatus_allow = 0;
		p->status_allow_seen = true;
	}
	for (i = 1; i <= argc; i++) {
		if (conf->nstatus_allow >= STATUS_ALLOW_MAX) {
			config_error(p, "too many status_allow entries "
			    "(max %d)", STATUS_ALLOW_MAX);
			return;
		}
		if (config_parse_cidr(argv[i],
		    &conf->status_allow[conf->nstatus_allow]) == -1) {
			config_error(p, "status_allow \"%s\" is not an "
			    "address or address/prefix",
			    config_show_tok(p, argv[i]));
			continue;
		}
		conf->nstatus_allow++;
	}
}

/* Whether a client address may read the status endpoint. */
bool
config_cidr_match(const struct config *conf, const struct sockaddr *sa)
{
	const struct cidr	*c;
	const uint8_t		*a;
	uint8_t			 v4[4];
	int			 i, fam, bits, full;

	if (sa->sa_family == AF_INET) {
		fam = AF_INET;
		a = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		a = (const uint8_t *)&((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr;
		fam = AF_INET6;
		/* An IPv4-mapped client is matched as IPv4. */
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)
		    (const void *)a)) {
			memcpy(v4, a + 12, sizeof(v4));
			a = v4;
			fam = AF_INET;
		}
	} else
		return false;
	for (i = 0; i < conf->nstatus_allow; i++) {
		c = &conf->status_allow[i];
		if (c->family != fam)
			continue;
		full = c->prefix / 8;
		bits = c->prefix % 8;
		if (memcmp(c->addr, a, (size_t)full) != 0)
			continue;
		if (bits != 0 && ((c->addr[full] ^ a[full]) &
		    (0xff << (8 - bits))) != 0)
			continue;
		return true;
	}
	return false;
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

static void
config_line(struct parse *p, char *line)
{
	const struct directive	*d = NULL;
	char			*argv[CONFIG_ARGS_MAX];
	size_t			 i;
	int			 argc, nargs;

	if ((argc = config_split(p, line, argv, nitems(argv))) <= 0)
		return;
	for (i = 0; i < nitems(directives); i++) {
		if (strcmp(directives[i].name, argv[0]) == 0) {
			d = &directives[i];
			break;
		}
	}
	if (d == NULL) {
		config_error(p, "unknown directive \"%s\"",
		    config_show_tok(p, argv[0]));
		return;
	}
	if (p->seen[i] != 0 && !d->repeat) {
		config_error(p, "duplicate \"%s\" (first on line %d)", d->name,
		    p->seen[i]);
		return;
	}
	if (p->seen[i] == 0)
		p->seen[i] = p->line;
	nargs = argc - 1;
	if (d->nargs_max == 1 && nargs != 1) {
		config_error(p, "%s takes one value", d->name);
		return;
	}
	if (nargs < 1) {
		config_error(p, "%s takes at least one value", d->name);
		return;
	}
	if (nargs > d->nargs_max) {
		config_error(p, "%s takes at most %d values", d->name,
		    d->nargs_max);
		return;
	}
	d->set(p, nargs, argv);
}

static void
config_defaults(struct config *conf)
{
	TAILQ_INIT(&conf->listeners);
	conf->workers_auto = true;
	conf->workers = util_nprocs();
	conf->max_workers = DEFAULT_MAX_WORKERS;
	conf->error_log_to = LOG_TO_STDERR;
	/* "index.html" fits INDEX_NAME_MAX. */
	(void)strlcpy(conf->index[0], "index.html", sizeof(conf->index[0]));
	conf->nindex = 1;
	conf->autoindex = false;
	conf->keepalive_timeout = DEFAULT_KEEPALIVE_TIMEOUT_S;
	conf->header_timeout = DEFAULT_HEADER_TIMEOUT_S;
	conf->shutdown_timeout = DEFAULT_SHUTDOWN_TIMEOUT_S;
	conf->send_timeout = DEFAULT_SEND_TIMEOUT_S;
	conf->keepalive_requests = DEFAULT_KEEPALIVE_REQUESTS;
	conf->max_header_size = DEFAULT_MAX_HEADER_BYTES;
	conf->max_body_size = DEFAULT_MAX_BODY_BYTES;
	conf->min_spare = DEFAULT_MIN_SPARE;
	conf->max_spare = DEFAULT_MAX_SPARE;
	conf->max_requests = 0;
	conf->worker_timeout = DEFAULT_WORKER_TIMEOUT_S;
	conf->spare_timeout = DEFAULT_SPARE_TIMEOUT_S;
	/* Loopback only, until status_allow says otherwise. */
	(void)config_parse_cidr("127.0.0.1", &conf->status_allow[0]);
	(void)config_parse_cidr("::1", &conf->status_allow[1]);
	conf->nstatus_allow = 2;
}

/* Checks that need the whole file: defaults, requirements, relations. */
static void
config_finish(struct parse *p)
{
	struct config	*conf = p->conf;
	struct listener	*l;
	char		 err[ERRSTR_MAX];

	p->line = 0;
	if (config_seen(p, "listen") == 0) {
		if ((l = calloc(1, sizeof(*l))) == NULL)
			config_error(p, "%s", strerror(errno));
		else if (config_parse_listen(CONFIG_DEFAULT_LISTEN, l, err,
		    sizeof(err)) == -1) {
			config_error(p, "default listen: %s", err);
			free(l);
		} else {
			TAILQ_INSERT_TAIL(&conf->listeners, l, entry);
			conf->listen_default = true;
		}
	}
	if (config_seen(p, "root") == 0)
		config_error(p, "root is required");

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
	if (p->workers_line == 0 && config_seen(p, "workers") != 0)
		return;
	if (p->max_workers_line == 0) {
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
		p->line = p->max_workers_line;
		config_error(p, "max_workers %d is less than workers %d "
		    "(line %d)", conf->max_workers, conf->workers,
		    p->workers_line);
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

	if ((conf = calloc(1, sizeof(*conf))) == NULL ||
	    (p = calloc(1, sizeof(*p))) == NULL) {
		log_config_error(file, 0, "%s", strerror(errno));
		goto fail;
	}
	config_defaults(conf);
	p->conf = conf;
	if (realpath(file, conf->path) == NULL ||
	    (fp = fopen(conf->path, "re")) == NULL ||
	    fstat(fileno(fp), &st) == -1) {
		log_config_error(file, 0, "cannot open: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		/* A device or FIFO could feed an endless line. */
		log_config_error(file, 0, "cannot open: not a regular file");
		goto fail;
	}
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
	free(p);
	config_free(conf);
	return NULL;
}

/* Listener descriptors belong to the master and are not closed here. */
void
config_free(struct config *conf)
{
	struct listener	*l;

	if (conf == NULL)
		return;
	while ((l = TAILQ_FIRST(&conf->listeners)) != NULL) {
		TAILQ_REMOVE(&conf->listeners, l, entry);
		free(l);
	}
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
	int	 problems = 0;

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
	if (access(conf->root, R_OK | X_OK) == -1) {
		log_config_error(conf->path, conf->root_line, "root \"%s\": %s",
		    config_show(shown, sizeof(shown), conf->root),
		    strerror(errno));
		problems++;
	}
	problems += config_check_file(conf, "pidfile", conf->pidfile,
	    conf->pidfile_line);
	problems += config_check_file(conf, "access_log", conf->access_log,
	    conf->access_log_line);
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

/*
 * tine -T: the effective config, defaults included, one directive per
 * line, readable by config_load(). Unset user, group and pidfile are left
 * out. The caller checks ferror(fp).
 */
void
config_dump(const struct config *conf, FILE *fp)
{
	const struct listener	*l;
	int			 i;

	TAILQ_FOREACH(l, &conf->listeners, entry)
		(void)fprintf(fp, "listen %s\n", l->name);
	config_dump_str(fp, "root", conf->root);
	if (conf->workers_auto)
		(void)fprintf(fp, "workers auto # %d\n", conf->workers);
	else
		(void)fprintf(fp, "workers %d\n", conf->workers);
	(void)fprintf(fp, "max_workers %d\n", conf->max_workers);
	if (conf->user[0] != '\0')
		config_dump_str(fp, "user", conf->user);
	if (conf->group[0] != '\0')
		config_dump_str(fp, "group", conf->group);
	if (conf->pidfile[0] != '\0')
		config_dump_str(fp, "pidfile", conf->pidfile);
	config_dump_str(fp, "access_log",
	    conf->access_log[0] != '\0' ? conf->access_log : "off");
	switch (conf->error_log_to) {
	case LOG_TO_STDERR:
		(void)fputs("error_log stderr\n", fp);
		break;
	case LOG_TO_SYSLOG:
		(void)fputs("error_log syslog\n", fp);
		break;
	case LOG_TO_FILE:
		config_dump_str(fp, "error_log", conf->error_log);
		break;
	}
	(void)fputs("index", fp);
	for (i = 0; i < conf->nindex; i++) {
		(void)putc(' ', fp);
		config_dump_value(fp, conf->index[i]);
	}
	(void)putc('\n', fp);
	(void)fprintf(fp, "autoindex %s\n", conf->autoindex ? "on" : "off");
	(void)fprintf(fp, "keepalive_timeout %d\n", conf->keepalive_timeout);
	(void)fprintf(fp, "header_timeout %d\n", conf->header_timeout);
	(void)fprintf(fp, "shutdown_timeout %d\n", conf->shutdown_timeout);
	(void)fprintf(fp, "send_timeout %d\n", conf->send_timeout);
	(void)fprintf(fp, "keepalive_requests %d\n", conf->keepalive_requests);
	(void)fprintf(fp, "max_header_size %zu\n", conf->max_header_size);
	(void)fprintf(fp, "max_body_size %lld\n",
	    (long long)conf->max_body_size);
	(void)fprintf(fp, "min_spare %d\n", conf->min_spare);
	(void)fprintf(fp, "max_spare %d\n", conf->max_spare);
	(void)fprintf(fp, "max_requests %d\n", conf->max_requests);
	(void)fprintf(fp, "worker_timeout %d\n", conf->worker_timeout);
	(void)fprintf(fp, "spare_timeout %d\n", conf->spare_timeout);
	config_dump_str(fp, "status_path",
	    conf->status_path[0] != '\0' ? conf->status_path : "off");
	if (conf->nstatus_allow > 0) {
		char	 a[INET6_ADDRSTRLEN];

		(void)fputs("status_allow", fp);
		for (i = 0; i < conf->nstatus_allow; i++) {
			if (inet_ntop(conf->status_allow[i].family,
			    conf->status_allow[i].addr, a, sizeof(a)) == NULL)
				continue;
			(void)fprintf(fp, " %s/%d", a,
			    conf->status_allow[i].prefix);
		}
		(void)putc('\n', fp);
	}
}
