/*
 * http.h: HTTP/1.1 request-head parser, request-body discarder, the
 * conditional and range logic of RFC 9110, and the one response-head
 * builder and error-page table. No I/O: callers hand in bytes and buffers.
 */
#ifndef HTTP_H
#define HTTP_H

#include "tine.h"

enum http_status {
	HTTP_CONTINUE = 100,
	HTTP_OK = 200,
	HTTP_NO_CONTENT = 204,
	HTTP_PARTIAL_CONTENT = 206,
	HTTP_MOVED_PERMANENTLY = 301,
	HTTP_FOUND = 302,
	HTTP_SEE_OTHER = 303,
	HTTP_NOT_MODIFIED = 304,
	HTTP_TEMPORARY_REDIRECT = 307,
	HTTP_PERMANENT_REDIRECT = 308,
	HTTP_BAD_REQUEST = 400,
	HTTP_UNAUTHORIZED = 401,
	HTTP_FORBIDDEN = 403,
	HTTP_NOT_FOUND = 404,
	HTTP_METHOD_NOT_ALLOWED = 405,
	HTTP_REQUEST_TIMEOUT = 408,
	HTTP_PRECONDITION_FAILED = 412,
	HTTP_CONTENT_TOO_LARGE = 413,
	HTTP_URI_TOO_LONG = 414,
	HTTP_RANGE_NOT_SATISFIABLE = 416,
	HTTP_EXPECTATION_FAILED = 417,
	HTTP_MISDIRECTED_REQUEST = 421,
	HTTP_HEADERS_TOO_LARGE = 431,
	HTTP_INTERNAL_SERVER_ERROR = 500,
	HTTP_NOT_IMPLEMENTED = 501,
	HTTP_SERVICE_UNAVAILABLE = 503,
	HTTP_VERSION_NOT_SUPPORTED = 505,
};

enum http_method {
	HTTP_METHOD_UNKNOWN = 0,	/* token not recognised: 501 */
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_OPTIONS,
	HTTP_METHOD_POST,		/* known but not allowed: 405 */
	HTTP_METHOD_PUT,
	HTTP_METHOD_DELETE,
	HTTP_METHOD_PATCH,
	HTTP_METHOD_CONNECT,
	HTTP_METHOD_TRACE,
};

/* A view into the head buffer: not NUL-terminated. */
struct http_str {
	const char	*p;
	size_t		 len;
};

/*
 * A parsed request head. Every http_str points into the caller's head
 * buffer, which must stay unchanged while the request is served.
 */
struct http_request {
	enum http_method	 method;
	int			 minor;		/* 0 or 1 (1.2+ served as 1.1) */
	struct http_str		 line;		/* request line, for logs */
	struct http_str		 method_str;
	struct http_str		 target;	/* as sent */
	struct http_str		 path;		/* origin path, still encoded */
	struct http_str		 query;		/* after '?', without it */
	bool			 asterisk;	/* OPTIONS * */
	struct http_str		 host;
	struct http_str		 user_agent;
	struct http_str		 referer;
	struct http_str		 if_match;
	struct http_str		 if_none_match;
	struct http_str		 if_modified_since;
	struct http_str		 if_unmodified_since;
	struct http_str		 if_range;
	struct http_str		 range;
	struct http_str		 accept;
	bool			 has_if_match;
	bool			 has_if_none_match;
	bool			 conn_close;	/* Connection: close */
	bool			 conn_keepalive; /* Connection: keep-alive */
	bool			 expect_continue;
	bool			 chunked;	/* Transfer-Encoding: chunked */
	off_t			 content_length; /* -1: none */
	size_t			 head_len;	/* bytes of the head, final
						   empty line included */
	struct http_str		 fields;	/* all field lines, to walk
						   repeated If-(None-)Match */
	bool			 if_match_multi; /* If-Match sent twice+ */
	bool			 if_none_match_multi;
	bool			 accept_multi;	/* Accept sent twice+ */
	struct http_str		 authorization;
	bool			 authorization_multi; /* sent twice+ */
	struct http_str		 accept_encoding;
	bool			 has_accept_encoding;
	bool			 accept_encoding_multi; /* sent twice+ */
};

/* Content codings tine can send (RFC 9110 §8.4.1), in preference order. */
enum http_coding {
	HTTP_CODING_IDENTITY,
	HTTP_CODING_BR,
	HTTP_CODING_ZSTD,
	HTTP_CODING_GZIP,
	HTTP_CODING_COUNT
};
#define HTTP_CODINGS_ALL	((1u << HTTP_CODING_BR) | \
				 (1u << HTTP_CODING_ZSTD) | \
				 (1u << HTTP_CODING_GZIP))

/* State of the end-of-head scan across partial reads. */
struct http_scan {
	size_t		 pos;		/* bytes already scanned */
	size_t		 skip;		/* leading empty lines skipped */
	bool		 line_done;	/* request line complete */
};

/*
 * Body discarder: Content-Length or chunked (with extensions and
 * trailers), bounded by a limit. Incremental over any split.
 */
struct http_body {
	int		 state;
	off_t		 remaining;	/* in the current length/chunk */
	off_t		 total;		/* body bytes seen: for chunked,
					   framing included */
	off_t		 limit;
	size_t		 line_len;	/* length of current size/trailer line */
	off_t		 meta;		/* framing bytes seen: all but the
					   chunk data */
};

/*
 * Bounds on chunked framing, on top of the body limit (which counts it
 * too): beyond either, the body is malformed (400).
 */
#define HTTP_CHUNK_LINE_MAX	4096	/* one chunk-size or trailer line */
#define HTTP_CHUNK_META_MAX	(64 * 1024)	/* all framing of a body */

/* A resolved single range: [first, last], both inclusive. */
struct http_range {
	off_t		 first;
	off_t		 last;
};

/*
 * Everything the response-head builder needs. Filled in by the handler;
 * the body itself travels separately (file or memory).
 */
struct http_response {
	enum http_status	 status;
	int			 minor;		/* request's minor version */
	bool			 close;		/* send Connection: close */
	bool			 keepalive_10;	/* HTTP/1.0 + keep-alive */
	bool			 head_only;	/* HEAD: headers, no body */
	const char		*content_type;	/* NULL: none */
	off_t			 content_length; /* -1: none */
	off_t			 size;		/* full size, for 206 / 416 */
	struct http_range	 range;		/* for 206 */
	time_t			 last_modified;	/* 0: none */
	const char		*last_modified_text; /* its IMF-fixdate
						   already formatted, or
						   NULL */
	const char		*etag;		/* NULL: none */
	const char		*location;	/* for 301, already encoded */
	const char		*allow;		/* for 405 / OPTIONS */
	bool			 accept_ranges;
	const char		*vary;		/* Vary value; NULL: none */
	bool			 no_store;	/* Cache-Control: no-store */
	unsigned int		 retry_after;	/* Retry-After seconds; 0:
						   none */
	const char		*auth_realm;	/* for 401; NULL: none */
	const char		*content_encoding; /* NULL: none */
	/* header rules of top, site and location, for 2xx, 3xx, 304 */
	const struct rule_header *fields[3];
	int			 nfields[3];
};

/*
 * Scans buf[0..len) for the end of a request head, resuming at
 * scan->pos. Returns 1 with *head_len set when a complete head is present,
 * 0 when more bytes are needed, or an error status: 414 when the request
 * line alone exceeds max, 431 when the head does, 400 for a NUL byte or a
 * bare CR.
 */
int		 http_scan_head(struct http_scan *, const char *, size_t, size_t,
		    size_t *);

/*
 * Parses a complete head (as found by http_scan_head) into req. Returns 0
 * or an error status. req->head_len is set on success and on error.
 */
int		 http_parse_head(const char *, size_t, struct http_request *);

/*
 * Body discarding: init from the parsed request and a limit, then feed
 * bytes. http_body_consume() returns 0 when more body is expected, 1 when
 * the body is complete (*used tells how many bytes of buf it took), or an
 * error status (400 bad chunk syntax, 413 over the limit).
 */
int		 http_body_init(struct http_body *, const struct http_request *,
		    off_t);
bool		 http_body_done(const struct http_body *);
int		 http_body_consume(struct http_body *, const char *, size_t,
		    size_t *);

/*
 * RFC 9110 §13.2.2: evaluates If-Match, If-Unmodified-Since,
 * If-None-Match, If-Modified-Since against the file's etag and mtime.
 * Returns 0 to go on, HTTP_NOT_MODIFIED or HTTP_PRECONDITION_FAILED.
 */
int		 http_preconditions(const struct http_request *, const char *,
		    time_t);

/*
 * RFC 9110 §12.5.1: the weight, in thousandths (0 to 1000), that the
 * request's Accept field (every line of it) gives the media type
 * type/subtype (lower case, no parameters), or -1 when the request has
 * no Accept field with a valid element (anything is acceptable).
 */
int		 http_accept_quality(const struct http_request *, const char *,
		    const char *);

/*
 * Whether the query (after '?', still encoded) has the element elem
 * exactly between '&' separators ("format=json").
 */
bool		 http_query_has(struct http_str, const char *);

/*
 * RFC 9110 §14: evaluates Range (and If-Range) for a representation of
 * size bytes. Returns HTTP_OK (serve it whole: no, ignored or stale
 * Range), HTTP_PARTIAL_CONTENT with *r set, or
 * HTTP_RANGE_NOT_SATISFIABLE.
 */
int		 http_range_select(const struct http_request *, off_t,
		    const char *, time_t, struct http_range *);

/* Strict 1*DIGIT parser with overflow check; -1 on error. */
off_t		 http_parse_uint(const char *, size_t);

/* IMF-fixdate (RFC 9110 §5.6.7) and the two obsolete forms; -1 if bad. */
time_t		 http_parse_date(const char *, size_t);
/* Writes an IMF-fixdate of t into buf (at least 30 bytes). */
int		 http_format_date(char *, size_t, time_t);

/* Strong ETag "inode-size-mtime" in hex, quoted, into buf. */
int		 http_make_etag(char *, size_t, ino_t, off_t, time_t, long);

/*
 * Builds the status line and header fields of resp into buf, ending with
 * the empty line. Returns the length, or -1 if it does not fit.
 */
int		 http_build_head(char *, size_t, const struct http_response *);

/*
 * The coding of the response, chosen by Accept-Encoding among those
 * available (bits 1 << HTTP_CODING_*; identity always is).
 */
enum http_coding	 http_accept_encoding(const struct http_request *,
			    unsigned);

/* Reason phrase for a status ("Not Found"). */
const char	*http_reason(int);

/*
 * The small HTML error page for a status: a static, shared buffer built
 * once per status. Never echoes request data.
 */
const char	*http_error_body(int, size_t *);

/* Whether a byte is a token character (RFC 9110 §5.6.2). */
bool		 http_is_tchar(unsigned char);

/* Date header cache: refreshes the formatted Date once per second. */
const char	*http_date_now(void);

#endif /* HTTP_H */
