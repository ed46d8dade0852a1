/*
 * tine.h: the one header every module shares: version, named limits, the
 * config structures, the log API and the util.c helpers. Module-private
 * structures stay in their module; each module's own API is in its .h.
 */
#ifndef TINE_H
#define TINE_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TINE_NAME		"tine"
#define TINE_VERSION		"0.1.0"

#ifndef TINE_CONF_PATH
#define TINE_CONF_PATH		"/usr/local/etc/tine.conf"
#endif

#ifndef nitems
#define nitems(a)		(sizeof(a) / sizeof((a)[0]))
#endif

/* Named limits. */
#define LISTEN_BACKLOG		1024	/* listen(2) backlog; >= 511 */
#define LISTEN_NAME_MAX		64	/* "[ffff:...:ffff]:65535" */
#define INDEX_NAMES_MAX		16	/* names on the index directive */
#define INDEX_NAME_MAX		256
#define WORKERS_MAX		4096	/* hard ceiling for workers/max_workers */
#define TIMEOUT_MAX_S		86400	/* any *_timeout directive */
#define HEAD_MIN_BYTES		256	/* smallest max_header_size */
#define HEAD_MAX_BYTES		(1024 * 1024)	/* largest max_header_size */
#define BODY_MAX_BYTES		((off_t)1 << 40)	/* largest max_body_size */
#define NAME_MAX_BYTES		64	/* user or group name */
#define LOG_LINE_MAX		4096	/* one error log line */
#define ACCESS_LINE_MAX		(4 * 4096)	/* one access log line */
#define ERRSTR_MAX		256	/* config error message */
#define CONFIG_LINE_MAX		4096	/* one config line, without newline */
#define LISTENERS_MAX		64	/* listen directives */
#define KEEPALIVE_REQUESTS_MAX	1000000	/* largest keepalive_requests */
#define TLS_CIPHERS_MAX		1024	/* tls_ciphers, bytes */
#define SITE_NAME_MAX		253	/* a host name (RFC 1035), bytes */
#define COMPRESS_TYPES_MAX	32	/* compress_types entries */
#define COMPRESS_TYPE_MAX	128	/* one media type, bytes */
#define COMPRESS_FILE_MAX_BYTES	((size_t)256 * 1024 * 1024) /* larger
					   files are never compressed */
#define COMPRESS_CACHE_MAX_BYTES ((off_t)1 << 50)

/* Defaults (SPEC). */
#define DEFAULT_MAX_WORKERS		256
#define DEFAULT_KEEPALIVE_TIMEOUT_S	5
#define DEFAULT_HEADER_TIMEOUT_S	10
#define DEFAULT_SHUTDOWN_TIMEOUT_S	10
#define DEFAULT_SEND_TIMEOUT_S		60
#define DEFAULT_MAX_HEADER_BYTES	8192
#define DEFAULT_MAX_BODY_BYTES		((off_t)1024 * 1024)
#define DEFAULT_KEEPALIVE_REQUESTS	1000
#define DEFAULT_MIN_SPARE		1
#define DEFAULT_MAX_SPARE		8
#define DEFAULT_WORKER_TIMEOUT_S	60
#define DEFAULT_SPARE_TIMEOUT_S		10
#define DEFAULT_COMPRESS_MIN_BYTES	1024
#define DEFAULT_COMPRESS_CACHE		"/var/cache/tine"
#define DEFAULT_COMPRESS_CACHE_BYTES	((off_t)1024 * 1024 * 1024)
#define STATUS_ALLOW_MAX		32	/* status_allow entries */
#define PROXY_FROM_MAX			32	/* proxy_protocol_from entries */
#define STATUS_PATH_MAX			256
/* tls_protocols: a set of these bits. */
#define TLS_PROTO_12			0x01
#define TLS_PROTO_13			0x02
#define DEFAULT_TLS_PROTOCOLS		(TLS_PROTO_12 | TLS_PROTO_13)
/*
 * Forward secrecy (ECDHE) and AEAD only, ECDSA before RSA, AES-GCM before
 * ChaCha20 (AES-NI is the common case; a client without it lists
 * ChaCha20 first and TLS 1.3 honours that). Only TLS 1.2 reads this:
 * every TLS 1.3 suite already is forward-secret AEAD.
 */
#define DEFAULT_TLS_CIPHERS		"ECDHE-ECDSA-AES128-GCM-SHA256:" \
	"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:" \
	"ECDHE-RSA-CHACHA20-POLY1305"

/* One status_allow entry: an address and a prefix length. */
struct cidr {
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];
	int		 prefix;
};

struct site;
struct auth_file;	/* auth.c */

/* header NAME VALUE: the field line as sent, "Name: value\r\n". */
struct rule_header {
	const char		*line;
	size_t			 len;
};

/* allow or deny CIDR (or all). */
struct rule_access {
	struct cidr		 cidr;
	bool			 all;
	bool			 allow;
};

/* return CODE [URL]. */
struct rule_return {
	int			 code;
	const char		*url;		/* with $variables; or NULL */
};

/* error_page CODE... PATH: one entry per code. */
struct rule_error_page {
	int			 status;
	const char		*path;		/* a URL path beneath root */
};

/*
 * A name of a site on one listener, for routing by Host and SNI: exact
 * names sorted (binary search), wildcards as their suffix ".example.org",
 * longest first. Both lower case, without a trailing dot.
 */
struct site_name {
	const char		*name;
	size_t			 len;
	const struct site	*site;
};

/* One listening address from the config; fd is -1 until bound. */
struct listener {
	TAILQ_ENTRY(listener)	 entry;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 name[LISTEN_NAME_MAX];	/* as written, normalised */
	int			 line;	/* config line, 0 for the default */
	int			 fd;
	bool			 tls;	/* listen ADDR:PORT tls */
	bool			 proxy_protocol;	/* a PROXY header first */
	bool			 top;	/* a top-level address (or default) */
	/* The sites answering here, in file order: [0] is the default. */
	const struct site	**sites;
	int			 nsites;
	struct site_name	*exact;		/* sorted by name */
	int			 nexact;
	struct site_name	*wild;		/* longest suffix first */
	int			 nwild;
};
TAILQ_HEAD(listener_list, listener);

/*
 * The directives a server or location block may set, one struct for
 * every level (top, site, location), so that one directive table row
 * writes any of them. set has a bit per table row given at this level;
 * what a level leaves unset comes from the level around it.
 */
struct scope {
	uint64_t		 set;
	/* Strings are never NULL: "" is unset or off. */
	const char		*root;		/* absolute, no trailing / */
	int			 root_id;	/* index in config's roots */
	const char		*index[INDEX_NAMES_MAX];
	int			 nindex;
	bool			 autoindex;
	bool			 autoindex_set;	/* given or inherited here */
	bool			 precompressed;	/* serve F.br, F.zst, F.gz */
	bool			 precompressed_set;
	bool			 compress;	/* variants made by tine */
	bool			 compress_set;
	const char		*access_log;	/* "" = off */
	int			 access_log_id;	/* in config's access_logs */
	const char		*tls_certificate;	/* "" = none */
	const char		*tls_key;		/* "" = none */
	/* Config lines of values checked at run time; 0 = default. */
	int			 root_line;
	int			 access_log_line;
	int			 tls_certificate_line;
	int			 tls_key_line;
	/*
	 * The rules (rule.c). Lists hold this level's own lines only; a
	 * request combines the levels (rule_select()). NULL or 0: unset.
	 */
	struct rule_header	*headers;	/* header: formatted lines */
	int			 nheaders;
	struct rule_access	*access;	/* allow and deny, in order */
	int			 naccess;
	struct rule_error_page	*error_pages;
	int			 nerror_pages;
	struct rule_return	 ret;		/* return; code 0: none */
	const char		*fallback;	/* NULL: unset; "": off */
	const char		*auth_realm;	/* NULL: unset; "": off */
	const struct auth_file	*auth;		/* NULL: unset */
	int			 auth_basic_line;
};

/*
 * How a location's glob is matched (site_glob_prepare()): most globs are
 * a literal, a literal and a star, or a star and a literal, which need
 * no fnmatch(3); the others are filtered by their literal ends first.
 */
enum glob_kind {
	GLOB_EXACT,		/* no special character */
	GLOB_PREFIX,		/* "lit*" */
	GLOB_SUFFIX,		/* "*lit" */
	GLOB_FNMATCH,
};

/* location GLOB { }: a rule for the request paths its glob matches. */
struct location {
	char			*glob;
	size_t			 glob_len;
	enum glob_kind		 kind;
	size_t			 pre_len;	/* literal bytes it starts with */
	size_t			 suf_len;	/* literal bytes it must end with
						   (0: no such filter) */
	int			 line;
	int			 id;		/* unique in the config */
	struct scope		 sc;
};

/*
 * server NAME... { }: a site. A config without server blocks has one
 * implicit site with no names, which has every top-level value.
 */
struct site {
	int			 id;		/* file order, from 0 */
	int			 line;		/* 0 for the implicit site */
	char			**names;	/* as written, lower case */
	int			 nnames;
	struct listener		**listen;	/* its own listen lines */
	int			 nlisten;
	struct location		*locs;		/* file order */
	int			 nlocs;
	int			 tls_id;	/* its certificate in tls_ctxs */
	struct scope		 sc;		/* inherited values filled in */
};

enum log_target {
	LOG_TO_STDERR,
	LOG_TO_SYSLOG,
	LOG_TO_FILE,
};

struct tls_ctxs;	/* tls.c */

/*
 * The whole configuration. Built by config_load(), read-only afterwards,
 * passed as const struct config *; only master.c swaps it on reload.
 */
struct config {
	char			 path[PATH_MAX];	/* config file, absolute */
	struct listener_list	 listeners;
	bool			 listen_default; /* no listen line: *:8080 */
	struct scope		 top;	/* top-level root, index, ... */
	struct location		*locs;	/* top-level locations */
	int			 nlocs;
	struct site		*sites;	/* file order; at least one */
	int			 nsites;
	bool			 implicit_site;	/* no server block */
	char			**strs;		/* every string scopes point to */
	int			 nstrs;
	struct auth_file	**auths;	/* every auth_file loaded */
	int			 nauths;
	size_t			 rule_head_max;	/* bytes rules add to a head */
	size_t			 return_url_max; /* longest return URL */
	const char		**roots;	/* distinct roots of all scopes */
	const int		*root_lines;
	int			 nroots;
	const char		**access_logs;	/* distinct access log files */
	const int		*access_log_lines;
	int			 naccess_logs;
	int			 workers;	/* resolved: auto is nprocs */
	bool			 workers_auto;
	int			 max_workers;
	char			 user[NAME_MAX_BYTES];	/* "" = none */
	char			 group[NAME_MAX_BYTES];	/* "" = none */
	char			 pidfile[PATH_MAX];	/* "" = none */
	enum log_target		 error_log_to;
	char			 error_log[PATH_MAX];	/* when LOG_TO_FILE */
	int			 keepalive_timeout;	/* seconds, 0 = off */
	int			 header_timeout;	/* seconds */
	int			 shutdown_timeout;	/* seconds */
	int			 send_timeout;		/* seconds */
	int			 keepalive_requests;	/* per connection */
	size_t			 max_header_size;	/* bytes */
	off_t			 max_body_size;		/* bytes */
	int			 min_spare;	/* idle workers kept at least */
	int			 max_spare;	/* idle workers kept at most */
	int			 max_requests;	/* per worker, 0 = no limit */
	int			 worker_timeout; /* seconds, 0 = off */
	int			 spare_timeout;	/* idle grown worker retires */
	char			 status_path[STATUS_PATH_MAX]; /* "" = off */
	struct cidr		 status_allow[STATUS_ALLOW_MAX];
	int			 nstatus_allow;
	struct cidr		 proxy_from[PROXY_FROM_MAX];
	int			 nproxy_from;	/* proxy_protocol_from */
	int			 max_connections_per_ip;	/* 0: off */
	int			 tls_protocols;	/* TLS_PROTO_* bits */
	char			 tls_ciphers[TLS_CIPHERS_MAX];
	bool			 tls_session_tickets;
	bool			 sandbox;	/* Landlock and seccomp */
	bool			 has_tls;	/* a listener speaks TLS */
	const char		*compress_types[COMPRESS_TYPES_MAX];
	int			 ncompress_types;
	size_t			 compress_min_size;	/* bytes */
	char			 compress_cache[PATH_MAX];
	off_t			 compress_cache_size;	/* bytes */
	bool			 compress_any;	/* some scope says compress on */
	/*
	 * The cache directory, opened by the master (compress.c) when
	 * compress_any; -1 when compression is off or could not start.
	 */
	int			 compress_dirfd;
	/*
	 * The TLS contexts, made by tls_ctx_load() in the master and
	 * inherited by the workers; freed with the config through the
	 * function tls.c leaves here, so that config.c (and what links it
	 * alone: the unit tests, the fuzzer) needs no TLS library.
	 */
	struct tls_ctxs		*tls;
	void			(*tls_free)(struct tls_ctxs *);
	/* Config lines of directives checked at run time; 0 = default. */
	int			 user_line;
	int			 group_line;
	int			 pidfile_line;
	int			 error_log_line;
	int			 tls_protocols_line;
	int			 tls_ciphers_line;
};

/* config.c */
struct config	*config_load(const char *);
void		 config_free(struct config *);
int		 config_check_runtime(const struct config *);
int		 config_parse_listen(const char *, struct listener *, char *,
		    size_t);
void		 config_dump(const struct config *, FILE *);
bool		 config_cidr_match(const struct config *,
		    const struct sockaddr *);
bool		 config_cidr_contains(const struct cidr *,
		    const struct sockaddr *);

/* log.c: error log (master and workers) and access log (workers). */
/*
 * Per-worker access buffer: room for the longest line worker.c writes,
 * and small, as a worker keeps every page of it it has filled.
 */
#define ACCESS_BUF_BYTES	(12 * 1024)
#define LOG_FLUSH_MS		1000	/* oldest buffered line waits at most */
#define LOG_ERROR_INTERVAL_S	60	/* one "cannot write log" per interval */
void	 log_init(int);
void	 log_set_daemon(void);
int	 log_open(const struct config *, uid_t, gid_t);
int	 log_check(const struct config *);
void	 log_set_role(const char *);
void	 log_warn(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
void	 log_config_error(const char *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
size_t	 log_escape(char *, size_t, const char *, size_t);
const char *log_clf_time(time_t);
int	 log_access_open(const struct config *, uid_t, gid_t);
bool	 log_access_enabled(void);
bool	 log_uses_syslog(void);
int	 log_syslog_connect(void);
int	 log_syslog_fd(void);
bool	 log_access_select(int);
char	*log_access_reserve(size_t);
void	 log_access_commit(size_t);
int	 log_access_flush(void);
void	 log_access_close(void);
bool	 log_access_pending(void);
int	 log_error_fd(void);

/* util.c */
int	 xsnprintf(char *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
char	*util_put_uint(char *, uintmax_t);
int64_t	 util_now_ms(void);
int	 util_nprocs(void);
int	 util_set_cloexec(int);
int	 util_set_nonblock(int, bool);
int	 util_fmt_addr(const struct sockaddr *, socklen_t, char *, size_t,
	    bool);
bool	 util_same_file(const struct stat *, const struct stat *);
int	 util_open_safe_dir(const char *, char *, size_t, const char **);

#endif /* TINE_H */
