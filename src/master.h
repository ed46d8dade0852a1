/*
 * master.h: the master process: listeners, the worker pool, signals,
 * reload, graceful and fast stop.
 */
#ifndef MASTER_H
#define MASTER_H

#include "pid.h"
#include "tine.h"

/* Exit status of a worker that must not be respawned (nginx uses 2 too). */
#define WORKER_EXIT_FATAL	2

/*
 * Binds every listener of conf that has no fd yet, taking over the open
 * socket of an identical address from old (may be NULL). On failure the
 * sockets bound by this call are closed again and -1 is returned.
 */
int	 master_listen(struct config *, struct config *);
void	 master_close_listeners(struct config *);

/* Runs the pool until stopped; returns the process exit status. */
int	 master_run(struct config *, struct pid_file *, bool);

#endif /* MASTER_H */
