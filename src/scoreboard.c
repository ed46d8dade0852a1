/*
 * scoreboard.c: maps the shared worker table and hands slots out. Only
 * the master claims and releases slots (at fork and at reap), so slot
 * ownership needs no lock; a worker only stores into its own slot. Which
 * slots are in use, and how far to scan, the master keeps in its own
 * memory: the shared copy of either is only what a worker says.
 *
 * The table is a sealed memfd. The master maps it read-write; after a
 * fork a worker keeps write access to its own slot's page alone and
 * reads the rest through a view the kernel will not make writable, so a
 * worker that went wrong cannot forge a sibling's state (and so make
 * the watchdog abort it) or its client.
 */
#include <sys/mman.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "scoreboard.h"

struct sb_slot		*sb_self;
struct scoreboard	*sb_table;

/* The master's own record of the slots it handed out. */
static struct {
	bool	 used[SB_SLOTS];
	size_t	 nslots;		/* high-water mark: scan bound */
} sb_own;

static const char *const state_names[SB_NSTATES] = {
	[SB_EMPTY] = "empty",
	[SB_STARTING] = "starting",
	[SB_IDLE] = "idle",
	[SB_READING] = "reading",
	[SB_SENDING] = "sending",
	[SB_KEEPALIVE] = "keepalive",
	[SB_EXITING] = "exiting",
};

/* The read-only view workers keep; NULL: the table is not split. */
static const struct scoreboard *sb_view;

/*
 * The read-only view: mapped after F_SEAL_FUTURE_WRITE, so the kernel
 * clears its permission to become writable (mprotect fails). Needs
 * pages of SB_PAGE bytes, so that a slot is a page of its own, and a
 * kernel with the seal (5.1); without either the table stays whole.
 */
static void
scoreboard_map_view(int fd)
{
	void	*v;

	if (sysconf(_SC_PAGESIZE) != SB_PAGE || fcntl(fd, F_ADD_SEALS,
	    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE |
	    F_SEAL_SEAL) == -1) {
		log_debug("scoreboard: one table for all (%s)",
		    errno != 0 ? strerror(errno) : "page size");
		return;
	}
	v = mmap(NULL, sizeof(struct scoreboard), PROT_READ, MAP_SHARED, fd,
	    0);
	if (v == MAP_FAILED)
		log_warn("scoreboard: read-only view");
	else
		sb_view = v;
}

/*
 * Shared memory (a memfd), mapped before the first fork so every worker
 * inherits it. Pages are touched only as slots are used. The descriptor
 * is closed at once: the mappings are all anyone needs.
 */
struct scoreboard *
scoreboard_map(void)
{
	struct scoreboard	*sb = NULL;
	int			 fd;

	if ((fd = memfd_create("tine-scoreboard", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return NULL;
	if (ftruncate(fd, sizeof(*sb)) == -1)
		goto done;
	sb = mmap(NULL, sizeof(*sb), PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (sb == MAP_FAILED) {
		sb = NULL;
		goto done;
	}
	sb->start_ms = util_now_ms();
	sb->start_time = time(NULL);
	errno = 0;
	scoreboard_map_view(fd);
done:
	(void)close(fd);
	return sb;
}

/*
 * A child of the master: of the read-write table, only [keep, keep +
 * len) stays mapped (whole pages). A worker reads everything else
 * through the view, the compressor (which keeps the page it writes its
 * counts in) reads nothing else. mremap, which could grow the page
 * kept over its neighbours, is refused by the sandbox's filter.
 */
static void
scoreboard_keep(struct scoreboard *sb, const void *keep, size_t len)
{
	uintptr_t	 base = (uintptr_t)sb, from, to;

	if (sb_view == NULL)
		return;
	from = ((uintptr_t)keep - base) & ~(uintptr_t)(SB_PAGE - 1);
	to = ((uintptr_t)keep - base + len + SB_PAGE - 1) &
	    ~(uintptr_t)(SB_PAGE - 1);
	if ((from > 0 && munmap(sb, from) == -1) || (to < sizeof(*sb) &&
	    munmap((char *)sb + to, sizeof(*sb) - to) == -1))
		log_warn("scoreboard: munmap");
}

void
scoreboard_isolate_worker(struct scoreboard *sb, struct sb_slot *self)
{
	scoreboard_keep(sb, self, sizeof(*self));
	if (sb_view != NULL)
		sb_table = (struct scoreboard *)sb_view; /* PROT_READ */
}

void
scoreboard_isolate_compressor(struct scoreboard *sb)
{
	scoreboard_keep(sb, (const char *)sb + offsetof(struct scoreboard,
	    compress_off), offsetof(struct scoreboard, slots) -
	    offsetof(struct scoreboard, compress_off));
}

/*
 * Master, before fork: a free slot for the coming worker. Free means
 * free in the master's own record; a state a worker wrote into the
 * shared slot does not make it so.
 */
struct sb_slot *
scoreboard_claim(struct scoreboard *sb, pid_t pid, int generation)
{
	struct sb_slot	*s;
	size_t		 i;

	for (i = 0; i < nitems(sb->slots); i++) {
		if (sb_own.used[i])
			continue;
		s = &sb->slots[i];
		memset(s, 0, sizeof(*s));
		s->pid = pid;
		s->generation = generation;
		s->started_ms = util_now_ms();
		s->state_ms = s->started_ms;
		s->state = SB_STARTING;
		sb_own.used[i] = true;
		if (i >= sb_own.nslots)
			sb_own.nslots = i + 1;
		/* Published for the status page, which runs in workers. */
		sb->nslots = (int)sb_own.nslots;
		return s;
	}
	return NULL;
}

/*
 * A slot in use whose pid field holds pid. The pid is what the slot
 * says, so this is for display and tests: the master finds its workers
 * through its own table and never signals a pid read here.
 */
struct sb_slot *
scoreboard_find(struct scoreboard *sb, pid_t pid)
{
	size_t	 i;

	for (i = 0; i < sb_own.nslots; i++)
		if (sb_own.used[i] && sb->slots[i].pid == pid)
			return &sb->slots[i];
	return NULL;
}

/*
 * Master, at reap: keep the dead worker's counts in the totals. The slot
 * is the one the master claimed for that worker (its own pointer); one
 * that is not in the table or not in use is ignored.
 */
void
scoreboard_release(struct scoreboard *sb, struct sb_slot *s)
{
	size_t	 i;

	if (s < sb->slots || s >= sb->slots + nitems(sb->slots))
		return;
	i = (size_t)(s - sb->slots);
	if (!sb_own.used[i])
		return;
	sb->retired_requests += s->requests;
	sb->retired_conns += s->conns;
	sb->retired_tls[0] += s->tls_handshakes;
	sb->retired_tls[1] += s->tls_resumed;
	sb->retired_tls[2] += s->tls_failures;
	sb->retired_compress[0] += s->encoded;
	sb->retired_compress[1] += s->compress_hits;
	sb->retired_compress[2] += s->compress_misses;
	sb->retired_compress[3] += s->compress_dropped;
	memset(s, 0, sizeof(*s));
	sb_own.used[i] = false;
}

/*
 * How many slots a scan reads. The master uses its own count. A worker
 * (the status page) has only the shared one, which any worker may have
 * scribbled on: it is read once and clamped to the table.
 */
size_t
scoreboard_scan_bound(const struct scoreboard *sb)
{
	int	 n;

	if (sb_self == NULL)
		return sb_own.nslots;
	n = sb->nslots;
	if (n <= 0)
		return 0;
	if ((size_t)n > nitems(sb->slots))
		return nitems(sb->slots);
	return (size_t)n;
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
	size_t			 i, n;
	int			 st;

	*requests = sb->retired_requests;
	*conns = sb->retired_conns;
	if (per_state != NULL)
		memset(per_state, 0, SB_NSTATES * sizeof(*per_state));
	n = scoreboard_scan_bound(sb);
	for (i = 0; i < n; i++) {
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

void
scoreboard_tls_totals(const struct scoreboard *sb, struct sb_tls_totals *t)
{
	const struct sb_slot	*s;
	size_t			 i, n;

	t->handshakes = sb->retired_tls[0];
	t->resumed = sb->retired_tls[1];
	t->failures = sb->retired_tls[2];
	n = scoreboard_scan_bound(sb);
	for (i = 0; i < n; i++) {
		s = &sb->slots[i];
		if (s->state == SB_EMPTY)
			continue;
		t->handshakes += s->tls_handshakes;
		t->resumed += s->tls_resumed;
		t->failures += s->tls_failures;
	}
}

void
scoreboard_compress_totals(const struct scoreboard *sb,
    struct sb_compress_totals *t)
{
	const struct sb_slot	*s;
	size_t			 i, n;

	t->encoded = sb->retired_compress[0];
	t->hits = sb->retired_compress[1];
	t->misses = sb->retired_compress[2];
	t->dropped = sb->retired_compress[3];
	n = scoreboard_scan_bound(sb);
	for (i = 0; i < n; i++) {
		s = &sb->slots[i];
		if (s->state == SB_EMPTY)
			continue;
		t->encoded += s->encoded;
		t->hits += s->compress_hits;
		t->misses += s->compress_misses;
		t->dropped += s->compress_dropped;
	}
}

uint64_t
scoreboard_client_key(const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin = (const void *)sa;
	const struct sockaddr_in6	*sin6 = (const void *)sa;
	const uint8_t			*a;
	uint64_t			 k = 0;
	int				 i;

	if (sa->sa_family == AF_INET) {
		a = (const uint8_t *)&sin->sin_addr;
		goto v4;
	}
	if (sa->sa_family != AF_INET6)
		return 1;	/* not IP: all alike */
	a = sin6->sin6_addr.s6_addr;
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		a += 12;
		goto v4;
	}
	/* The /64. */
	for (i = 0; i < 8; i++)
		k = k << 8 | a[i];
	return k != 0 ? k : 1;
v4:
	/* In ffff:ffff::/32, reserved: no /64 a client has. */
	for (i = 0; i < 4; i++)
		k = k << 8 | a[i];
	return k | ((uint64_t)0xffffffff << 32);
}

int
scoreboard_count_client(const struct scoreboard *sb, uint64_t key)
{
	size_t	 i, n;
	int	 count = 0;

	n = scoreboard_scan_bound(sb);
	for (i = 0; i < n; i++)
		if (sb->slots[i].client_key == key)
			count++;
	return count;
}

/*
 * Whether any worker logged a refusal of that client since since_ms
 * (max_connections_per_ip logs once a second per address, whichever
 * worker refuses). Two workers deciding at the same moment may both
 * log: a line more, never one less.
 */
bool
scoreboard_refusal_logged(const struct scoreboard *sb, uint64_t key,
    int64_t since_ms)
{
	size_t	 i, n;

	n = scoreboard_scan_bound(sb);
	for (i = 0; i < n; i++)
		if (sb->slots[i].refused_key == key &&
		    sb->slots[i].refused_ms >= since_ms)
			return true;
	return false;
}
