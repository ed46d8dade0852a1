/*
 * pid.h: the pid file: created and locked without following a link,
 * written with the master's pid, removed from the directory it was made
 * in.
 */
#ifndef PID_H
#define PID_H

#include "tine.h"

struct pid_file;

struct pid_file	*pid_open(const char *, pid_t *, const char **);
int		 pid_write(struct pid_file *);
int		 pid_remove(struct pid_file *);
int		 pid_rename(struct pid_file *, const char *);
void		 pid_close(struct pid_file *);
int		 pid_check(const struct config *);

#endif /* PID_H */
