/*
 * notify.h: systemd's readiness protocol (sd_notify) on $NOTIFY_SOCKET.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include "tine.h"

void	 notify_init(void);
bool	 notify_enabled(void);
int	 notify_send(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
int64_t	 notify_watchdog_ms(void);
void	 notify_close(void);
int	 notify_env(void);
void	 notify_mute(bool);
bool	 notify_fdstore_enabled(void);
int	 notify_fdstore(int, const char *);
void	 notify_fdstore_remove(const char *);

#endif /* NOTIFY_H */
