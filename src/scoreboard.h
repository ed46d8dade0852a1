/*
 * scoreboard.h: the table of worker slots in memory shared between the
 * master and every worker, mapped once before the first fork. A worker
 * writes only its own slot, with plain stores (no locks, no system
 * calls); the master reads every slot and tolerates a torn read.
 *
 * A worker can write only its own slot (scoreboard.c splits the
 * mapping); the compressor only its page of counters. Still, nothing in it is
 * trusted by the master (which runs as root) or by the status renderer:
 * counts and indices are bounded by the reader, states may lie outside
 * the enum, text may lack its NUL or hold any byte, timestamps may be
 * anything, and a pid in a slot is never signalled (the master signals
 * only the pids fork() gave it).
 */
#ifndef SCOREBOARD_H
#define SCOREBOARD_H

#include "tine.h"

#define SB_SLOTS		WORKERS_MAX
#define SB_PAGE			4096	/* a slot is a page of its own */
#define SB_REQLINE_BYTES	96	/* escaped head of the request line */
#define SB_CLIENT_BYTES		48

enum sb_state {
	SB_EMPTY = 0,
	SB_STARTING,
	SB_IDLE,		/* blocked in accept() */
	SB_READING,		/* reading a request head */
	SB_SENDING,		/* answering */
	SB_KEEPALIVE,		/* idle between requests on a connection */
	SB_EXITING,
	SB_NSTATES,
};

/* What the master asks of a worker under pressure (slot's yield). */
enum sb_yield {
	SB_YIELD_NONE = 0,
	SB_YIELD_IDLE,		/* close an idle keep-alive connection */
	SB_YIELD_SLOW,		/* cut off a head arriving too slowly */
};

struct sb_slot {
	volatile pid_t		 pid;
	volatile int		 generation;
	volatile int		 state;		/* enum sb_state */
	volatile int		 yield;		/* enum sb_yield, set by master */
	volatile uint32_t	 head_bytes;	/* of the head being read */
	volatile uint64_t	 conns;
	volatile uint64_t	 requests;
	volatile int64_t	 started_ms;	/* process start, monotonic */
	volatile int64_t	 req_start_ms;	/* current request */
	volatile int64_t	 progress_ms;	/* last progress */
	volatile int64_t	 state_ms;	/* entered the current state */
	volatile uint64_t	 tls_handshakes; /* completed */
	volatile uint64_t	 tls_resumed;	/* of them, resumed */
	volatile uint64_t	 tls_failures;	/* handshakes that failed */
	volatile uint64_t	 encoded;	/* responses with a coding */
	volatile uint64_t	 compress_hits;	/* variants from the cache */
	volatile uint64_t	 compress_misses; /* covered, not made yet */
	volatile uint64_t	 compress_dropped; /* wishes the full queue
						     dropped */
	/* The connection's client (max_connections_per_ip); 0: none. */
	volatile uint64_t	 client_key;
	/* The last client this worker logged a refusal of, and when. */
	volatile uint64_t	 refused_key;
	volatile int64_t	 refused_ms;
	volatile int		 sandbox_call;	/* 1 + the number of the call
						   the filter refused */
	char			 reqline[SB_REQLINE_BYTES];
	char			 client[SB_CLIENT_BYTES];
} __attribute__((aligned(SB_PAGE)));

struct scoreboard {
	int64_t			 start_ms;	/* master start, monotonic */
	time_t			 start_time;	/* wall clock */
	volatile pid_t		 master_pid;
	volatile int		 generation;	/* master's current one */
	volatile int		 queue_len;	/* accept queue, last sample */
	volatile int		 pressure;	/* at max_workers, clients wait */
	volatile int		 target;	/* workers kept ready */
	volatile int		 max_workers;
	volatile int		 nslots;	/* slots ever used: scan bound */
	volatile uint64_t	 retired_requests; /* of exited workers */
	volatile uint64_t	 retired_conns;
	volatile uint64_t	 retired_tls[3];	/* handshakes, resumed,
							   failures */
	volatile uint64_t	 retired_compress[4];	/* encoded, hits,
							   misses, dropped */
	/*
	 * Written by the compressor process (compressor.c): a page of its
	 * own, the only one it keeps write access to.
	 */
	struct {
		volatile int		 compress_off;	/* it cannot write its
							   cache */
		volatile uint64_t	 compress_made;	/* variants written */
		volatile uint64_t	 compress_evicted;
		volatile int64_t	 compress_cache_bytes;
		volatile int64_t	 compress_cache_files;
		volatile int		 compressor_sandbox_call; /* as a
								     slot's */
	} __attribute__((aligned(SB_PAGE)));
	struct sb_slot		 slots[SB_SLOTS];
};

/* The calling worker's own slot; NULL in the master. */
extern struct sb_slot	*sb_self;
/* The whole table, in the master and (inherited) in every worker. */
extern struct scoreboard *sb_table;

/* Worker, hot path: plain stores into its own slot. */
static inline void
sb_enter(int state, int64_t now)
{
	struct sb_slot	*s = sb_self;

	if (s == NULL)
		return;
	s->state = state;
	s->state_ms = now;
	s->progress_ms = now;
}

static inline void
sb_progress(int64_t now)
{
	if (sb_self != NULL)
		sb_self->progress_ms = now;
}

/*
 * Milliseconds from then to now for a timestamp read from a slot: 0 when
 * it is negative or in the future (the monotonic clock is neither), so
 * that a scribbled value can neither overflow the subtraction nor make
 * a worker look stuck or idle for long.
 */
static inline int64_t
scoreboard_age_ms(int64_t now, int64_t then)
{
	if (then < 0 || then > now)
		return 0;
	return now - then;
}

struct scoreboard	*scoreboard_map(void);
/*
 * In a child of the master, after fork: a worker keeps write access to
 * its own slot and reads the rest (sb_table becomes the read-only view);
 * the compressor keeps its page of counters and nothing else.
 */
void			 scoreboard_isolate_worker(struct scoreboard *,
			    struct sb_slot *);
void			 scoreboard_isolate_compressor(struct scoreboard *);
struct sb_slot		*scoreboard_claim(struct scoreboard *, pid_t, int);
void			 scoreboard_release(struct scoreboard *,
			    struct sb_slot *);
struct sb_slot		*scoreboard_find(struct scoreboard *, pid_t);
size_t			 scoreboard_scan_bound(const struct scoreboard *);
const char		*scoreboard_state_name(int);
void			 scoreboard_set_text(char *, size_t, const char *,
			    size_t);
void			 scoreboard_totals(const struct scoreboard *, uint64_t *,
			    uint64_t *, int *);
/* TLS handshakes, resumptions and failures, live and exited workers. */
struct sb_tls_totals {
	uint64_t	 handshakes;
	uint64_t	 resumed;
	uint64_t	 failures;
};
void			 scoreboard_tls_totals(const struct scoreboard *,
			    struct sb_tls_totals *);
/*
 * A client address as max_connections_per_ip counts it: IPv4 (and IPv4
 * mapped into IPv6) whole, IPv6 by its /64 (one site's network); never
 * 0, which is no client.
 */
uint64_t		 scoreboard_client_key(const struct sockaddr *);
/* Slots whose connection is from that client, the caller's included. */
int			 scoreboard_count_client(const struct scoreboard *,
			    uint64_t);
bool			 scoreboard_refusal_logged(const struct scoreboard *,
			    uint64_t, int64_t);
/* The compression counters, live and exited workers. */
struct sb_compress_totals {
	uint64_t	 encoded;
	uint64_t	 hits;
	uint64_t	 misses;
	uint64_t	 dropped;
};
void			 scoreboard_compress_totals(const struct scoreboard *,
			    struct sb_compress_totals *);

#endif /* SCOREBOARD_H */
