/*
 * upgrade.h: the binary upgrade (USR2): executing the binary again with
 * the listening sockets, and the new master's side of the hand-over.
 */
#ifndef UPGRADE_H
#define UPGRADE_H

#include "tine.h"

void		 upgrade_save_path(const char *);
const char	*upgrade_path(void);
void		 upgrade_init(void);
bool		 upgrade_started(void);
int		 upgrade_fd(void);
pid_t		 upgrade_parent(void);
void		 upgrade_ready(void);
void		 upgrade_stopping(void);
int		 upgrade_check(const char **);
pid_t		 upgrade_exec(const struct config *, bool, int *);

#endif /* UPGRADE_H */
