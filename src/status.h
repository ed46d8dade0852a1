/*
 * status.h: renders the scoreboard for the status endpoint, as JSON or
 * in the Prometheus text exposition format.
 */
#ifndef STATUS_H
#define STATUS_H

#include "scoreboard.h"

enum status_format {
	STATUS_JSON,
	STATUS_PROMETHEUS,
};

/* Bytes a rendering may need: a header plus one row per slot. */
#define STATUS_ROW_BYTES	512
#define STATUS_HEAD_BYTES	8192

/*
 * Renders into buf (allocated by the caller, at most size bytes).
 * Returns the length, or -1 if it did not fit.
 */
int	 status_render(char *, size_t, const struct scoreboard *,
	    enum status_format);

/*
 * The buffer size a rendering needs, from a slot count bounded by the
 * table (the shared nslots may hold anything).
 */
size_t	 status_size(const struct scoreboard *);

/* One line for systemd's STATUS= and logs. */
int	 status_summary(char *, size_t, const struct scoreboard *);

#endif /* STATUS_H */
