/*
 * scoreboard.c: maps the shared worker table and hands slots out. Only
 * the master claims and releases slots (at fork and at reap), so slot
 * ownership needs no lock; a worker only stores into its own slot.
 */
#include <sys/mman.h>

#include <string.h>

#include "scoreboard.h"

struct sb_slot		*sb_self;
struct scoreboard	*sb_table;

static const char *const state_names[SB_NSTATES] = {
	[SB_EMPTY] = "empty",
	[SB_STARTING] = "starting",
	[SB_IDLE] = "idle",
	[SB_READING] = "reading",
	[SB_SENDING] = "sending",
	[SB_KEEPALIVE] = "keepalive",
	[SB_EXITING] = "exiting",
};

/*
 * Anonymous shared memory, mapped before the first fork so every worker
 * inherits it. Pages are touched only as slots are used.
 */
struct scoreboard *
scoreboard_map(void)
{
	struct scoreboard	*sb;

	sb = mmap(NULL, sizeof(*sb), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sb == MAP_FAILED)
		return NULL;
	sb->start_ms = util_now_ms();
	sb->start_time = time(NULL);
	return sb;
}

/* Master, before fork: a free slot for the coming worker. */
struct sb_slot *
scoreboard_claim(struct scoreboard *sb, pid_t pid, int generation)
{
	struct sb_slot	*s;
	size_t		 i;

	for (i = 0; i < nitems(sb->slots); i++) {
		s = &sb->slots[i];
		if (s->state != SB_EMPTY)
			continue;
		memset(s, 0, sizeof(*s));
		s->pid = pid;
		s->generation = generation;
		s->started_ms = util_now_ms();
		s->state_ms = s->started_ms;
		s->state = SB_STARTING;
		if ((int)i >= sb->nslots)
			sb->nslots = (int)i + 1;
		return s;
	}
	return NULL;
}

struct sb_slot *
scoreboard_find(struct scoreboard *sb, pid_t pid)
{
	size_t	 i;

	for (i = 0; i < (size_t)sb->nslots; i++)
		if (sb->slots[i].state != SB_EMPTY && sb->slots[i].pid == pid)
			return &sb->slots[i];
	return NULL;
}

/* Master, at reap: keep the dead worker's counts in the totals. */
void
scoreboard_release(struct scoreboard *sb, pid_t pid)
{
	struct sb_slot	*s;

	if ((s = scoreboard_find(sb, pid)) == NULL)
		return;
	sb->retired_requests += s->requests;
	sb->retired_conns += s->conns;
	memset(s, 0, sizeof(*s));
}

/*
 * Worker: copies client text (a request line) into a slot field, bytes
 * outside printable ASCII and the backslash as \xHH, cut to fit and
 * always NUL-terminated. Cheaper than stravis(), which the status page
 * does not need: it shows the field, it never parses it.
 */
void
scoreboard_set_text(char *dst, size_t size, const char *src, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i, o = 0;
	unsigned char		 c;

	if (size == 0)
		return;
	for (i = 0; i < len; i++) {
		c = (unsigned char)src[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= size)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= size)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 0xf];
		}
	}
	dst[o] = '\0';
}

const char *
scoreboard_state_name(int state)
{
	if (state < 0 || state >= SB_NSTATES)
		return "unknown";
	return state_names[state];
}

/* Totals over live and exited workers, and live workers per state. */
void
scoreboard_totals(const struct scoreboard *sb, uint64_t *requests,
    uint64_t *conns, int *per_state)
{
	const struct sb_slot	*s;
	size_t			 i;
	int			 st;

	*requests = sb->retired_requests;
	*conns = sb->retired_conns;
	if (per_state != NULL)
		memset(per_state, 0, SB_NSTATES * sizeof(*per_state));
	for (i = 0; i < (size_t)sb->nslots && i < nitems(sb->slots); i++) {
		s = &sb->slots[i];
		st = s->state;
		if (st == SB_EMPTY)
			continue;
		*requests += s->requests;
		*conns += s->conns;
		if (per_state != NULL && st > 0 && st < SB_NSTATES)
			per_state[st]++;
	}
}
