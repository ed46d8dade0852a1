/*
 * conn.h: one client connection and the transport it speaks through.
 * Every byte in or out of a connection goes through the functions here,
 * each with the deadline rules; the system calls themselves sit behind a
 * small table of operations, so another transport is another table.
 */
#ifndef CONN_H
#define CONN_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <limits.h>
#include <signal.h>

#include "cache.h"
#include "file.h"
#include "http.h"
#include "rule.h"
#include "tine.h"

/*
 * Room for reading a request body after the longest head: a body that is
 * discarded is read through at least this much, whatever the head's size.
 */
#define CONN_BODY_READ_BYTES	(16 * 1024)
/* A response head but its Location: status line and every other field. */
#define CONN_HEAD_FIXED_BYTES	2048

struct conn;

/*
 * A transport: single system calls (or their equivalent), no retries, no
 * deadlines; -1 with errno set on error, as the system calls do.
 */
struct conn_ops {
	const char	*name;
	ssize_t		(*recv)(struct conn *, void *, size_t);
	/* Without blocking: bytes dropped, 0 at EOF, -1 (EAGAIN) if none. */
	ssize_t		(*drain)(struct conn *, void *, size_t);
	ssize_t		(*sendv)(struct conn *, const struct iovec *, int,
			    bool);
	ssize_t		(*sendfile)(struct conn *, int, off_t *, size_t);
	/* Whether input is waiting, without blocking or consuming it. */
	bool		(*pending)(struct conn *);
	int		(*shutdown)(struct conn *);
	void		(*close)(struct conn *);
};

extern const struct conn_ops	conn_plain_ops;

/*
 * What the owner of a connection (the worker process) is asked while the
 * connection waits: after a signal interrupted a wait, and before each
 * wait for input. Returns true to give up the wait, with errno set for
 * the caller (ECONNABORTED: close quietly, EAGAIN: the deadline).
 */
typedef bool	(*conn_wait_hook)(struct conn *, bool);

/*
 * Buffers every connection of a worker reuses, sized once at start-up
 * from the configuration.
 */
struct conn_buffers {
	char			*in;		/* head, then body and
						   pipelined bytes */
	size_t			 in_cap;	/* max_header_size + 1 +
						   CONN_BODY_READ_BYTES */
	char			*out;		/* response head */
	size_t			 out_cap;
	char			 path[PATH_MAX]; /* normalised request path */
	/*
	 * The cache key of a path seen through a site other than the
	 * first or a location: its ids, then the path. One byte longer
	 * than a key may be, so a cut one can never be stored or found.
	 */
	char			 key[CACHE_PATH_BYTES + 1];
	struct file_result	 file;		/* its resolution */
	struct cache_entry	 uncached;	/* a file the cache cannot
						   hold, for one response */
};

/*
 * The connection and the request being served on it. Reset per request
 * by conn_reset_request(); per connection by conn_open().
 */
struct conn {
	int			 fd;
	const struct conn_ops	*ops;
	void			*tp;		/* the transport's own state */
	conn_wait_hook		 wait_hook;
	volatile sig_atomic_t	*wake;		/* set by the owner's signal
						   handlers: the hook has
						   something to look at */
	void			*owner;		/* what the hook works on */
	struct conn_buffers	*buf;
	const struct config	*conf;
	const int		*rootfds;	/* by config's roots index */
	int			 rootfd;	/* this request's root */
	const struct listener	*lis;		/* it came in on */
	const struct site	*site;		/* this request's */
	const struct location	*loc;		/* this request's, or NULL */
	struct rules		 rules;		/* of site and location */
	bool			 routed;	/* rules selected: they apply */
	bool			 error_page;	/* sending one: no other */
	const char		*error_vary;	/* Vary of the next error */
	int64_t			 head_deadline_ms; /* the first head's, from
						     the accept */
	const char		*user;		/* verified by auth_basic */
	size_t			 user_len;
	int			 tls_id;	/* certificate the handshake
						   sent (tls_ctxs entry) */
	bool			 sni;		/* the client sent SNI */
	const struct site	*sni_site;	/* the site SNI named */
	size_t			 len;		/* bytes in buf->in */
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	char			 addr[64];	/* peer address for the log */
	size_t			 addrlen;	/* strlen(addr) */
	unsigned		 requests;	/* served on this connection */
	int			 timeo_ms;	/* current SO_RCVTIMEO */
	int64_t			 deadline;	/* of the read under way, for
						   a transport that reads in
						   several calls */
	bool			 send_failed;	/* peer gone or send timeout:
						   no lingering close */
	bool			 read_full;	/* the last read filled the
						   buffer: more may wait */
	bool			 quick_close;	/* nothing unread can follow:
						   no lingering close */
	bool			 handshaking;	/* a transport handshake
						   (TLS): before any head */
	/* the request */
	struct http_scan	 scan;
	struct http_request	 req;
	bool			 have_req;	/* req parsed (for the log) */
	bool			 close;		/* close after this response */
	/* the response */
	struct http_response	 resp;
	int			 status;	/* as sent, for the log */
	off_t			 sent;		/* body bytes sent */
	off_t			 size;		/* of the file, for 416 */
	bool			 shrank;	/* the file sent was cut short */
};

/*
 * Allocates the worker's buffers for conf into b, which starts zeroed
 * (static: a worker keeps only the pages it writes). -1 on failure,
 * logged.
 */
int	 conn_buffers_init(struct conn_buffers *, const struct config *);

/*
 * Takes a just-accepted socket. initial_timeo_ms is the receive timeout
 * it inherited from the listener.
 */
void	 conn_open(struct conn *, int, const struct conn_ops *,
	    int initial_timeo_ms);
/*
 * The client's address: ss (a PROXY protocol header's), or NULL for the
 * one accept() gave; formatted once for the logs.
 */
void	 conn_set_peer(struct conn *, const struct sockaddr_storage *,
	    socklen_t);
void	 conn_reset_request(struct conn *);

/* Asks the owner whether to give up a wait (see conn_wait_hook). */
bool	 conn_give_up(struct conn *, bool);
/* Sets the receive timeout to ms (at least 1), if it differs. */
int	 conn_set_timeout(struct conn *, int);
/*
 * Reads into the input buffer after its len bytes, waiting at most until
 * deadline (monotonic ms). Returns bytes read, 0 at EOF, -1 on error or
 * at the deadline (errno EAGAIN).
 */
ssize_t	 conn_read(struct conn *, int64_t);
/* Writes all of iov (modified); more: further data follows at once. */
int	 conn_write(struct conn *, struct iovec *, int, bool);
/*
 * Sends len bytes of file fd from off. Returns 0, -1 when the client is
 * gone or stuck, or 1 when the file ended early (c->sent says where).
 */
int	 conn_send_file(struct conn *, int, off_t, off_t);
/*
 * Reads and drops the request's body (Content-Length or chunked, at most
 * limit bytes) by deadline; pipelined bytes after it stay. Returns 0 or
 * an error status.
 */
int	 conn_discard_body(struct conn *, int64_t, off_t);
/* Whether bytes beyond the current request (and its body) have come. */
bool	 conn_input_waiting(struct conn *);
/* Closes in stages so the last response is not lost to a reset. */
void	 conn_close(struct conn *);

#endif /* CONN_H */
