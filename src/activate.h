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

#endif /* ACTIVATE_H */
