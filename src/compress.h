/*
 * compress.h: the variants tine makes itself (compress on). The
 * compressor process (compressor.c) writes the br, zstd and gzip forms
 * of a file F into compress_cache under names made of F's identity
 * (device, inode, size, modification and change times), so that any
 * change of F misses, also a rewrite that sets the old mtime back; a
 * worker finds them by that name and serves them with sendfile like any
 * file (compress.c). A worker asks for a missing variant with one
 * datagram that carries F's descriptor, sent without waiting: a full
 * queue drops the wish, and the file is served as it is meanwhile.
 */
#ifndef COMPRESS_H
#define COMPRESS_H

#include <sys/stat.h>

#include "tine.h"
#include "cache.h"
#include "http.h"
#include "worker.h"

#define COMPRESS_NAME_BYTES	128	/* a variant's file name */
#define COMPRESS_LOOK_MS	1000	/* a worker looks again after */
#define COMPRESS_QUEUE_BYTES	(16 * 1024)	/* socket buffer: ~20 wishes */

enum compress_kind {
	COMPRESS_WISH = 1,	/* make these codings of the file passed */
	COMPRESS_USED,		/* these were served: least recently used
				   last */
};

/* One datagram from a worker to the compressor. */
struct compress_msg {
	uint32_t	 kind;		/* enum compress_kind */
	uint32_t	 codings;	/* bits 1 << HTTP_CODING_* */
	uint64_t	 dev;
	uint64_t	 ino;
	int64_t		 size;
	int64_t		 mtime_sec;
	int64_t		 mtime_nsec;
	int64_t		 ctime_sec;
	int64_t		 ctime_nsec;
};

/*
 * The master's pid, in the master's own memory before the compressor
 * is forked (the scoreboard's copy is writable by any worker).
 */
extern pid_t	 compress_master;
/* Master: the queue, once per master; both ends stay with it. */
int		 compress_queue_init(void);
/* The receiving end (compressor), or -1. */
int		 compress_queue_recv_fd(void);
/* The sending end every worker shares, or -1. */
int		 compress_queue_send_fd(void);
/* Worker: lets go of the receiving end. */
void		 compress_worker_init(void);
/* Compressor: lets go of the sending end. */
void		 compress_worker_close_send(void);
/*
 * Master: creates or checks compress_cache and opens it into
 * conf->compress_dirfd when a scope says compress on; a cache that
 * cannot be used is logged and leaves compression off (-1).
 */
void		 compress_open_cache(struct config *,
		    const struct worker_ids *);
/* The name of F's variant in a coding. */
int		 compress_name(char *, size_t, const struct stat *,
		    enum http_coding);
/* Whether F (type, size) is one compress makes variants of. */
bool		 compress_covers(const struct config *,
		    struct cache_entry *);
/* Served variants told to the compressor, at most once a second. */
void		 compress_tell_used(struct cache_entry *, int64_t);
/*
 * Worker: the codings whose variants of e's file are in the cache (bits
 * 1 << HTTP_CODING_*), looked up at most once per COMPRESS_LOOK_MS;
 * the missing ones are wished for.
 */
unsigned	 compress_variants(const struct config *, struct cache_entry *,
		    int64_t);
/* The compressor process: a child of the master, never returns. */
void		 compressor_main(struct config *, const struct worker_ids *)
		    __attribute__((noreturn));

#endif /* COMPRESS_H */
