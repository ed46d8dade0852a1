/*
 * test_status.c: the status renderings over a scoreboard filled by hand:
 * JSON fields and escaping, Prometheus lines, totals that include
 * exited workers, and the status_allow matcher.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "../../src/status.c"

static bool
has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

static struct sockaddr_storage
addr(const char *s)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	return ss;
}

int
main(void)
{
	static char		 buf[1 << 20];
	struct scoreboard	*sb;
	struct sb_slot		*a, *b, *c;
	struct config		*conf;
	struct sockaddr_storage	 ss;
	uint64_t		 req, conns;
	int			 st[SB_NSTATES], n;
	char			 dir[] = "/tmp/tine-status-XXXXXX", path[300];
	char			 text[400];

	sb = scoreboard_map();
	unit_check(sb != NULL, "scoreboard maps");
	if (sb == NULL)
		return unit_done();
	sb->master_pid = 4242;
	sb->generation = 3;
	sb->target = 2;
	sb->queue_len = 5;
	a = scoreboard_claim(sb, 101, 3);
	b = scoreboard_claim(sb, 102, 3);
	c = scoreboard_claim(sb, 103, 2);
	unit_check(a != NULL && b != NULL && c != NULL && a != b && b != c,
	    "three distinct slots");
	a->state = SB_IDLE;
	a->requests = 10;
	a->conns = 4;
	b->state = SB_SENDING;
	b->requests = 7;
	b->conns = 1;
	(void)strlcpy(b->reqline, "GET /a\\\"b HTTP/1.1", sizeof(b->reqline));
	(void)strlcpy(b->client, "127.0.0.1", sizeof(b->client));
	c->state = SB_KEEPALIVE;
	c->requests = 1;
	c->conns = 1;
	unit_check(scoreboard_find(sb, 102) == b, "find by pid");
	scoreboard_release(sb, c);
	unit_check(scoreboard_find(sb, 103) == NULL, "released slot is gone");
	scoreboard_totals(sb, &req, &conns, st);
	unit_check(req == 18 && conns == 6,
	    "totals keep an exited worker's counts (%ju, %ju)",
	    (uintmax_t)req, (uintmax_t)conns);
	unit_check(st[SB_IDLE] == 1 && st[SB_SENDING] == 1 &&
	    st[SB_KEEPALIVE] == 0, "per-state counts");

	n = status_render(buf, sizeof(buf), sb, STATUS_JSON);
	unit_check(n > 0 && (size_t)n == strlen(buf), "JSON renders");
	unit_check(has(buf, "\"master_pid\":4242"), "JSON master pid");
	unit_check(has(buf, "\"generation\":3"), "JSON generation");
	unit_check(has(buf, "\"requests_total\":18"), "JSON requests total");
	unit_check(has(buf, "\"accept_queue_length\":5"), "JSON queue");
	unit_check(has(buf, "\"idle\":1") && has(buf, "\"sending\":1"),
	    "JSON workers by state");
	unit_check(has(buf, "\"request\":\"GET /a\\\\\\\"b HTTP/1.1\""),
	    "JSON escapes backslash and quote in the request line");
	unit_check(has(buf, "\"pid\":101") && has(buf, "\"pid\":102") &&
	    !has(buf, "\"pid\":103"), "JSON rows for live workers only");

	n = status_render(buf, sizeof(buf), sb, STATUS_PROMETHEUS);
	unit_check(n > 0, "Prometheus renders");
	unit_check(has(buf, "\ntine_requests_total 18\n"),
	    "tine_requests_total");
	unit_check(has(buf, "tine_workers{state=\"sending\"} 1\n"),
	    "tine_workers by state");
	unit_check(has(buf, "\ntine_accept_queue_length 5\n"),
	    "tine_accept_queue_length");
	unit_check(has(buf, "# TYPE tine_requests_total counter\n"),
	    "TYPE line");
	unit_check(status_render(buf, 64, sb, STATUS_JSON) == -1,
	    "a small buffer is an error, not a cut document");
	n = status_summary(buf, sizeof(buf), sb);
	unit_check(n > 0 && has(buf, "2 workers (1 busy, 1 idle"),
	    "summary line: %s", buf);

	/* Slot text: printable ASCII kept, the rest as \xHH, cut whole. */
	{
		char	 t[16];

		scoreboard_set_text(t, sizeof(t), "GET /a b", 8);
		unit_check(strcmp(t, "GET /a b") == 0, "set_text plain: %s",
		    t);
		scoreboard_set_text(t, sizeof(t), "a\n\x7f\\z", 5);
		unit_check(strcmp(t, "a\\x0a\\x7f\\x5cz") == 0,
		    "set_text escapes control, DEL, backslash: %s", t);
		scoreboard_set_text(t, sizeof(t), "0123456789abcdefgh", 18);
		unit_check(strcmp(t, "0123456789abcde") == 0,
		    "set_text cuts to fit: %s", t);
		scoreboard_set_text(t, 6, "ab\x01\x02", 4);
		unit_check(strcmp(t, "ab") == 0,
		    "set_text never cuts an escape in half: %s", t);
		scoreboard_set_text(t, sizeof(t), "\x80\xff", 2);
		unit_check(strcmp(t, "\\x80\\xff") == 0,
		    "set_text escapes bytes above 0x7f: %s", t);
	}
	/* Scans stop at the slots ever used: untouched pages stay so. */
	unit_check(sb->nslots == 3, "nslots is the high-water mark (%d)",
	    sb->nslots);
	c = scoreboard_claim(sb, 104, 3);
	unit_check(c == &sb->slots[2] && sb->nslots == 3,
	    "a released slot is reused before the table grows");
	c->state = SB_KEEPALIVE;
	c->requests = 2;
	scoreboard_totals(sb, &req, &conns, st);
	unit_check(req == 20 && st[SB_KEEPALIVE] == 1,
	    "totals include the reused slot");

	/* status_allow matching, through a real config. */
	if (mkdtemp(dir) == NULL)
		return unit_done();
	(void)snprintf(path, sizeof(path), "%s/t.conf", dir);
	(void)snprintf(text, sizeof(text), "root %s\nstatus_allow 10.1.0.0/16 "
	    "2001:db8::/32 192.0.2.7\n", dir);
	conf = unit_load_config(path, text);
	unit_check(conf != NULL && conf->nstatus_allow == 3,
	    "status_allow parses three entries");
	if (conf != NULL) {
		ss = addr("10.1.200.3");
		unit_check(config_cidr_match(conf, (struct sockaddr *)&ss),
		    "10.1.200.3 in 10.1.0.0/16");
		ss = addr("10.2.0.1");
		unit_check(!config_cidr_match(conf, (struct sockaddr *)&ss),
		    "10.2.0.1 not in 10.1.0.0/16");
		ss = addr("192.0.2.7");
		unit_check(config_cidr_match(conf, (struct sockaddr *)&ss),
		    "exact address");
		ss = addr("192.0.2.8");
		unit_check(!config_cidr_match(conf, (struct sockaddr *)&ss),
		    "neighbour of exact address");
		ss = addr("2001:db8:ffff::1");
		unit_check(config_cidr_match(conf, (struct sockaddr *)&ss),
		    "IPv6 prefix");
		ss = addr("::ffff:10.1.0.9");
		unit_check(config_cidr_match(conf, (struct sockaddr *)&ss),
		    "IPv4-mapped client matched as IPv4");
		ss = addr("127.0.0.1");
		unit_check(!config_cidr_match(conf, (struct sockaddr *)&ss),
		    "explicit list replaces the loopback default");
		config_free(conf);
	}
	(void)snprintf(text, sizeof(text),
	    "root %s\nstatus_allow 10.0.0.0/33 nonsense\n", dir);
	conf = unit_load_config(path, text);
	unit_check(conf == NULL, "bad prefix and bad address refused");
	config_free(conf);
	(void)unlink(path);
	(void)rmdir(dir);
	return unit_done();
}
