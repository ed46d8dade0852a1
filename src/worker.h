/*
 * worker.h: a worker process: accepts one connection at a time and serves
 * it with straight-line blocking code.
 */
#ifndef WORKER_H
#define WORKER_H

#include "tine.h"

/* Identity workers switch to, resolved by the master from user/group. */
struct worker_ids {
	bool	 drop;
	uid_t	 uid;
	gid_t	 gid;
};

/*
 * The receive timeout accepted sockets inherit from the listener, and
 * the one a worker restores between requests: the keep-alive wait, but
 * never longer than the head deadline for a connection that has not
 * spoken yet. Equal in the default config, so the hot path never resets
 * it.
 */
static inline int
worker_idle_timeout_ms(const struct config *conf)
{
	if (conf->keepalive_timeout > 0 &&
	    conf->keepalive_timeout < conf->header_timeout)
		return conf->keepalive_timeout * 1000;
	return conf->header_timeout * 1000;
}

/* setgroups, setresgid, setresuid to ids; _exit(WORKER_EXIT_FATAL). */
void	 worker_drop_privileges(const struct worker_ids *);
void	 worker_main(const struct config *, const struct worker_ids *, int)
	    __attribute__((noreturn));

#endif /* WORKER_H */
