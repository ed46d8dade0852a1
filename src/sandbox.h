/*
 * sandbox.h: Landlock and a seccomp filter for the workers and the
 * compressor (sandbox on), applied once a process holds every
 * descriptor it will use.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <stdio.h>

#include "tine.h"

enum sandbox_role {
	SANDBOX_WORKER,
	SANDBOX_COMPRESSOR,
};

/*
 * Confines the calling process for its role: reads beneath rootfds
 * (nroot of them) and, for a worker, the compress cache; the compressor
 * also writes its cache. A forbidden system call stores 1 + its number
 * in *killed_by, then kills the process with SIGSYS. What the kernel
 * lacks is skipped (the master said so once); any other failure ends
 * the process with WORKER_EXIT_FATAL.
 */
void		 sandbox_enter(const struct config *, enum sandbox_role,
		    const int *rootfds, int nroot, volatile int *killed_by);
/* The master, at start and at each reload: says once what is missing. */
void		 sandbox_report(const struct config *);
/* tine -t: one line on what would be applied. */
void		 sandbox_describe(const struct config *, FILE *);
#define SANDBOX_CALL_NAME_BYTES	32
/* The name of system call nr (1 + nr as stored), or its number. */
const char	*sandbox_call_name(int stored, char *, size_t);

#endif /* SANDBOX_H */
