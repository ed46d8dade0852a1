/*
 * status.c: the status endpoint's bodies, read straight from the shared
 * scoreboard. Any worker can write all of it, so every value is taken as
 * untrusted: the scan bound is clamped, text is escaped here whatever it
 * holds and read no further than its field, states are looked up safely
 * and ages never overflow.
 */
#include <string.h>

#include "status.h"

struct out {
	char	*p;
	size_t	 len;
	size_t	 size;
	bool	 overflow;
};

static void __attribute__((format(printf, 2, 3)))
out_printf(struct out *o, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len) {
		o->overflow = true;
		return;
	}
	o->len += (size_t)n;
}

/*
 * A JSON string body. A worker writes its slot text as printable ASCII
 * (scoreboard_set_text), but a field may hold anything and lack its NUL:
 * stop at max, and show any other byte as '?', which no worker writes.
 * That keeps a row within STATUS_ROW_BYTES whatever the slot holds (a
 * \u escape per byte would not), so one scribbled slot cannot make the
 * whole page fail.
 */
static void
out_json_str(struct out *o, const char *s, size_t max)
{
	size_t	 i;

	for (i = 0; i < max && s[i] != '\0'; i++) {
		if (s[i] == '"' || s[i] == '\\')
			out_printf(o, "\\%c", s[i]);
		else if ((unsigned char)s[i] < 0x20 ||
		    (unsigned char)s[i] >= 0x7f)
			out_printf(o, "?");
		else
			out_printf(o, "%c", s[i]);
	}
}

int
status_summary(char *buf, size_t size, const struct scoreboard *sb)
{
	uint64_t	 requests, conns;
	int		 st[SB_NSTATES], busy;

	scoreboard_totals(sb, &requests, &conns, st);
	busy = st[SB_READING] + st[SB_SENDING];
	return xsnprintf(buf, size, "%d workers (%d busy, %d idle, %d "
	    "keep-alive), %ju requests, generation %d",
	    st[SB_STARTING] + st[SB_IDLE] + busy + st[SB_KEEPALIVE] +
	    st[SB_EXITING], busy, st[SB_IDLE], st[SB_KEEPALIVE],
	    (uintmax_t)requests, sb->generation);
}

/*
 * Compression: responses sent with a coding (a sibling or a variant),
 * variants served from the cache (hits) and covered files served as
 * they are because theirs was not made yet (misses), wishes the full
 * queue dropped; the compressor's variants made and evicted, and what
 * its cache holds.
 */
static void
status_json_compress(struct out *o, const struct scoreboard *sb)
{
	struct sb_compress_totals	 t;

	scoreboard_compress_totals(sb, &t);
	out_printf(o, "},\"compress\":{\"encoded_total\":%ju,"
	    "\"cache_hits_total\":%ju,\"cache_misses_total\":%ju,"
	    "\"wishes_dropped_total\":%ju,\"variants_made_total\":%ju,"
	    "\"variants_evicted_total\":%ju,\"cache_bytes\":%jd,"
	    "\"cache_files\":%jd,\"off\":%s}",
	    (uintmax_t)t.encoded, (uintmax_t)t.hits, (uintmax_t)t.misses,
	    (uintmax_t)t.dropped, (uintmax_t)sb->compress_made,
	    (uintmax_t)sb->compress_evicted,
	    (intmax_t)sb->compress_cache_bytes,
	    (intmax_t)sb->compress_cache_files,
	    sb->compress_off ? "true" : "false");
}

static void
status_prometheus_compress(struct out *o, const struct scoreboard *sb)
{
	struct sb_compress_totals	 t;

	scoreboard_compress_totals(sb, &t);
	out_printf(o,
	    "# HELP tine_encoded_total Responses sent with a content "
	    "coding.\n"
	    "# TYPE tine_encoded_total counter\n"
	    "tine_encoded_total %ju\n"
	    "# HELP tine_compress_cache_hits_total Variants served from the "
	    "compress cache.\n"
	    "# TYPE tine_compress_cache_hits_total counter\n"
	    "tine_compress_cache_hits_total %ju\n"
	    "# HELP tine_compress_cache_misses_total Files served as they "
	    "are while their variant was not made yet.\n"
	    "# TYPE tine_compress_cache_misses_total counter\n"
	    "tine_compress_cache_misses_total %ju\n"
	    "# HELP tine_compress_wishes_dropped_total Requests for a "
	    "variant dropped by the full queue.\n"
	    "# TYPE tine_compress_wishes_dropped_total counter\n"
	    "tine_compress_wishes_dropped_total %ju\n",
	    (uintmax_t)t.encoded, (uintmax_t)t.hits, (uintmax_t)t.misses,
	    (uintmax_t)t.dropped);
	out_printf(o,
	    "# HELP tine_compress_variants_made_total Variants the "
	    "compressor wrote.\n"
	    "# TYPE tine_compress_variants_made_total counter\n"
	    "tine_compress_variants_made_total %ju\n"
	    "# HELP tine_compress_variants_evicted_total Variants removed "
	    "to keep compress_cache_size.\n"
	    "# TYPE tine_compress_variants_evicted_total counter\n"
	    "tine_compress_variants_evicted_total %ju\n"
	    "# HELP tine_compress_cache_bytes Bytes of the variants in the "
	    "cache.\n"
	    "# TYPE tine_compress_cache_bytes gauge\n"
	    "tine_compress_cache_bytes %jd\n"
	    "# HELP tine_compress_cache_files Variants in the cache.\n"
	    "# TYPE tine_compress_cache_files gauge\n"
	    "tine_compress_cache_files %jd\n",
	    (uintmax_t)sb->compress_made, (uintmax_t)sb->compress_evicted,
	    (intmax_t)sb->compress_cache_bytes,
	    (intmax_t)sb->compress_cache_files);
}

static void
status_json(struct out *o, const struct scoreboard *sb, int64_t now)
{
	struct sb_tls_totals	 tls;
	const struct sb_slot	*s;
	uint64_t		 requests, conns;
	int			 st[SB_NSTATES], i;
	size_t			 k, n;
	bool			 first = true;

	scoreboard_totals(sb, &requests, &conns, st);
	scoreboard_tls_totals(sb, &tls);
	out_printf(o, "{\"version\":\"%s\",\"master_pid\":%ld,"
	    "\"generation\":%d,\"uptime_seconds\":%jd,"
	    "\"requests_total\":%ju,\"connections_total\":%ju,"
	    "\"tls_handshakes_total\":%ju,\"tls_resumed_total\":%ju,"
	    "\"tls_failures_total\":%ju,"
	    "\"accept_queue_length\":%d,\"workers_target\":%d,\"workers\":{",
	    TINE_VERSION, (long)sb->master_pid, sb->generation,
	    (intmax_t)(scoreboard_age_ms(now, sb->start_ms) / 1000),
	    (uintmax_t)requests,
	    (uintmax_t)conns, (uintmax_t)tls.handshakes,
	    (uintmax_t)tls.resumed, (uintmax_t)tls.failures, sb->queue_len,
	    sb->target);
	for (i = SB_STARTING; i < SB_NSTATES; i++)
		out_printf(o, "%s\"%s\":%d", i == SB_STARTING ? "" : ",",
		    scoreboard_state_name(i), st[i]);
	status_json_compress(o, sb);
	out_printf(o, ",\"slots\":[");
	n = scoreboard_scan_bound(sb);
	for (k = 0; k < n; k++) {
		s = &sb->slots[k];
		if (s->state == SB_EMPTY)
			continue;
		out_printf(o, "%s{\"pid\":%ld,\"generation\":%d,"
		    "\"state\":\"%s\",\"connections\":%ju,\"requests\":%ju,"
		    "\"state_seconds\":%.3f,\"client\":\"", first ? "" : ",",
		    (long)s->pid, s->generation,
		    scoreboard_state_name(s->state), (uintmax_t)s->conns,
		    (uintmax_t)s->requests,
		    (double)scoreboard_age_ms(now, s->state_ms) / 1000.0);
		out_json_str(o, s->client, sizeof(s->client));
		out_printf(o, "\",\"request\":\"");
		out_json_str(o, s->reqline, sizeof(s->reqline));
		out_printf(o, "\"}");
		first = false;
	}
	out_printf(o, "]}\n");
}

static void
status_prometheus(struct out *o, const struct scoreboard *sb, int64_t now)
{
	struct sb_tls_totals	 tls;
	uint64_t		 requests, conns;
	int			 st[SB_NSTATES], i;

	scoreboard_totals(sb, &requests, &conns, st);
	scoreboard_tls_totals(sb, &tls);
	out_printf(o,
	    "# HELP tine_requests_total Requests answered.\n"
	    "# TYPE tine_requests_total counter\n"
	    "tine_requests_total %ju\n"
	    "# HELP tine_connections_total Connections accepted.\n"
	    "# TYPE tine_connections_total counter\n"
	    "tine_connections_total %ju\n"
	    "# HELP tine_workers Worker processes by state.\n"
	    "# TYPE tine_workers gauge\n",
	    (uintmax_t)requests, (uintmax_t)conns);
	for (i = SB_STARTING; i < SB_NSTATES; i++)
		out_printf(o, "tine_workers{state=\"%s\"} %d\n",
		    scoreboard_state_name(i), st[i]);
	out_printf(o,
	    "# HELP tine_workers_target Workers kept ready.\n"
	    "# TYPE tine_workers_target gauge\n"
	    "tine_workers_target %d\n"
	    "# HELP tine_accept_queue_length Connections waiting to be "
	    "accepted.\n"
	    "# TYPE tine_accept_queue_length gauge\n"
	    "tine_accept_queue_length %d\n"
	    "# HELP tine_generation Configuration generation.\n"
	    "# TYPE tine_generation gauge\n"
	    "tine_generation %d\n"
	    "# HELP tine_uptime_seconds Seconds since the master started.\n"
	    "# TYPE tine_uptime_seconds gauge\n"
	    "tine_uptime_seconds %jd\n",
	    sb->target, sb->queue_len, sb->generation,
	    (intmax_t)(scoreboard_age_ms(now, sb->start_ms) / 1000));
	out_printf(o,
	    "# HELP tine_tls_handshakes_total TLS handshakes completed.\n"
	    "# TYPE tine_tls_handshakes_total counter\n"
	    "tine_tls_handshakes_total %ju\n"
	    "# HELP tine_tls_resumed_total TLS handshakes that resumed a "
	    "session.\n"
	    "# TYPE tine_tls_resumed_total counter\n"
	    "tine_tls_resumed_total %ju\n"
	    "# HELP tine_tls_failures_total TLS handshakes that failed.\n"
	    "# TYPE tine_tls_failures_total counter\n"
	    "tine_tls_failures_total %ju\n",
	    (uintmax_t)tls.handshakes, (uintmax_t)tls.resumed,
	    (uintmax_t)tls.failures);
	status_prometheus_compress(o, sb);
}

int
status_render(char *buf, size_t size, const struct scoreboard *sb,
    enum status_format fmt)
{
	struct out	 o = { .p = buf, .size = size };
	int64_t		 now = util_now_ms();

	if (size == 0)
		return -1;
	if (fmt == STATUS_PROMETHEUS)
		status_prometheus(&o, sb, now);
	else
		status_json(&o, sb, now);
	if (o.overflow)
		return -1;
	return (int)o.len;
}

size_t
status_size(const struct scoreboard *sb)
{
	return STATUS_HEAD_BYTES + scoreboard_scan_bound(sb) *
	    STATUS_ROW_BYTES;
}
