/*
 * activate.h: systemd socket activation (LISTEN_FDS): listening sockets
 * inherited from the service manager instead of bound by tine.
 */
#ifndef ACTIVATE_H
#define ACTIVATE_H

#include "tine.h"

int	 activate_init(void);
int	 activate_apply(struct config *);
int	 activate_fd_end(void);
void	 activate_close_unused_own(void);
void	 activate_keep(int);
bool	 activate_is_kept(int);
void	 activate_forget(int);

/*
 * LISTEN_FDNAMES an upgrading master gives the sockets it passes: kept
 * by the service manager, or its own (see master_refuse_syn()).
 */
#define ACTIVATE_KEPT	"tine-kept"
#define ACTIVATE_OWN	"tine-own"

#endif /* ACTIVATE_H */
