# burst.awk: the report section of the burst scenario (bench/burst.bash),
# in Markdown. Plain POSIX awk.
#
# Input: $T/burst/data first, lines
#   B round row server base=N t0_us=N t1_us=N listen_overflows=N
#     listen_drops=N requests=N errors=N ... (bench/load.c's line, -k)
# then the samples, files named ROW.SERVER.ROUND.procs ("t_us procs")
# and ROW.SERVER.ROUND.status ("t_us workers queue", "-" for none).
# Variables: servers, rows (space-separated), rounds, conns, perconn,
# ramp, spare (tine's spare_timeout), settle (the longest wait for the
# return), points (the times of the pool table, s), sample (ms).

# The median over rounds of a figure, or "" when no round has it.
function med(k, row, s,    r, list) {
	list = ""
	for (r = 1; r <= rounds; r++)
		if ((k, row, s, r) in v)
			list = list " " v[k, row, s, r]
	return median(list)
}

function worst(k, row, s,    r, t) {
	t = ""
	for (r = 1; r <= rounds; r++)
		if ((k, row, s, r) in v && (t == "" || v[k, row, s, r] + 0 > t))
			t = v[k, row, s, r] + 0
	return t
}

function sum(k, row, s,    r, t) {
	t = 0
	for (r = 1; r <= rounds; r++)
		if ((k, row, s, r) in v)
			t += v[k, row, s, r]
	return t
}

function ms(us) {
	if (us == "")
		return "–"
	if (us >= 100000)
		return sprintf("%.0f", us / 1000)
	return sprintf("%.1f", us / 1000)
}

function rowname(row,    n) {
	n = substr(row, 2) + 0
	if (n == 0)
		return "all at once"
	return "over " n " ms"
}

FILENAME ~ /\/data$/ && $1 == "B" {
	r = $2; row = $3; s = $4
	for (i = 5; i <= NF; i++) {
		eq = index($i, "=")
		if (eq > 0)
			v[substr($i, 1, eq - 1), row, s, r] = substr($i, eq + 1)
	}
	next
}

# Samples: keep them per run, times from the load's start in ms.
FILENAME ~ /\.procs$/ || FILENAME ~ /\.status$/ {
	n = split(FILENAME, part, "/")
	split(part[n], f, ".")
	row = f[1]; s = f[2]; r = f[3]; kind = f[4]
	run = row SUBSEP s SUBSEP r SUBSEP kind
	k = ++ns[run]
	t[run, k] = ($1 - v["t0_us", row, s, r]) / 1000
	x[run, k] = $2
	if (kind == "status")
		q[run, k] = $3
	next
}

# The pool at time p (ms from the start): the last sample at or before it.
function pool_at(run, p,    k, got) {
	got = ""
	for (k = 1; k <= ns[run]; k++) {
		if (t[run, k] > p)
			break
		got = x[run, k]
	}
	return got
}

# Per run: peak, and the time from the last response to the first
# sample from which on the pool stays at its base (-1: not back).
function pool_figures(row, s, r,    run, k, last, lastbig, base) {
	run = row SUBSEP s SUBSEP r SUBSEP "procs"
	base = v["base", row, s, r]
	last = v["last_ms", row, s, r]
	lastbig = 0
	v["peak", row, s, r] = 0
	for (k = 1; k <= ns[run]; k++) {
		if (x[run, k] > v["peak", row, s, r])
			v["peak", row, s, r] = x[run, k]
		if (x[run, k] > base)
			lastbig = k
	}
	if (ns[run] == 0)
		return
	if (lastbig == ns[run])
		v["back", row, s, r] = -1
	else if (lastbig == 0)
		v["back", row, s, r] = 0
	else {
		k = t[run, lastbig + 1] - last
		v["back", row, s, r] = k > 0 ? k / 1000 : 0
	}
	v["end", row, s, r] = x[run, ns[run]]
	# tine's status endpoint: its own peak, and samples unanswered
	run = row SUBSEP s SUBSEP r SUBSEP "status"
	if (!(run in ns))
		return
	v["speak", row, s, r] = 0
	v["slost", row, s, r] = 0
	v["sall", row, s, r] = ns[run]
	for (k = 1; k <= ns[run]; k++) {
		if (x[run, k] == "-")
			v["slost", row, s, r]++
		else if (x[run, k] > v["speak", row, s, r])
			v["speak", row, s, r] = x[run, k]
		if (q[run, k] != "-" && q[run, k] > v["qpeak", row, s, r])
			v["qpeak", row, s, r] = q[run, k]
	}
}

function back_text(row, s,    r, list, notback, b, e) {
	list = ""
	notback = 0
	for (r = 1; r <= rounds; r++) {
		if (!(("back", row, s, r) in v))
			continue
		if (v["back", row, s, r] < 0) {
			notback++
			e = v["end", row, s, r]
		} else
			list = list " " v["back", row, s, r]
	}
	if (notback > 0)
		return "not in " settle " s (" e " left)" \
		    (notback < rounds ? ", " notback " of " rounds " runs" : "")
	b = median(list)
	if (b == "")
		return "–"
	if (b == 0)
		return "never grew"
	return sprintf("%.1f s", b)
}

END {
	nsrv = split(servers, srv, " ")
	nrow = split(rows, rw, " ")
	npt = split(points, pt, " ")
	for (i = 1; i <= nrow; i++)
		for (j = 1; j <= nsrv; j++)
			for (r = 1; r <= rounds; r++)
				if (("t0_us", rw[i], srv[j], r) in v)
					pool_figures(rw[i], srv[j], r)

	print ""
	print "## Bursts: " conns " connections of " perconn " requests " \
	    "from an idle pool"
	print ""
	print "From an idle pool (tine `workers 2`, `max_workers 256`, " \
	    "`spare_timeout " spare "` for this scenario; nginx 2 workers; " \
	    "Apache prefork as above), " conns " connections arrive, " \
	    "spread evenly over " ramp " ms (the target's case) or all at " \
	    "once, each makes " perconn " keep-alive requests for the " \
	    "4 KiB page and closes; a connection the server closes sooner " \
	    "reconnects for the rest. A fresh server per run, warmed by " \
	    "one connection; median over " rounds " round(s), worst " \
	    "p99 and max over all of them (the machine is shared: one " \
	    "slow round is noise or a runaway, see the pool). Latency " \
	    "runs from the connect for a connection's first request, so " \
	    "the wait in the accept queue is in it. Pool: the master's " \
	    "child processes, sampled every " sample " ms from /proc " \
	    "(tine's status endpoint is sampled alike until the last " \
	    "response: its requests would keep the workers from idling " \
	    "for spare_timeout); back: from the last response until the pool " \
	    "is at its size before the burst for good. Listen overflows: " \
	    "the machine's TcpExtListenOverflows during the burst " \
	    "(connections that found the accept queue full)."
	print ""
	print "| arrival | server | last response ms | p50 ms | p99 ms | " \
	    "p99 / nginx | worst p99 ms | max ms | errors | reconnects | " \
	    "listen overflows | pool peak | back |"
	print "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"
	for (i = 1; i <= nrow; i++) {
		row = rw[i]
		for (j = 1; j <= nsrv; j++) {
			s = srv[j]
			if (med("t0_us", row, s) == "")
				continue
			p99 = med("p99_us", row, s)
			ng = med("p99_us", row, "nginx")
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | " \
			    "%d | %d | %d | %s | %s |\n", rowname(row), s,
			    ms(med("last_ms", row, s) * 1000),
			    ms(med("p50_us", row, s)), ms(p99),
			    (ng > 0 ? sprintf("%.2f", p99 / ng) : "n/a"),
			    ms(worst("p99_us", row, s)),
			    ms(worst("max_us", row, s)),
			    sum("errors", row, s) + sum("bad", row, s),
			    sum("reconnects", row, s),
			    sum("listen_overflows", row, s),
			    med("peak", row, s), back_text(row, s)
		}
	}
	print ""
	print "Pool size over time (processes beyond the master; median " \
	    "over rounds), s from the first connect:"
	print ""
	line = "| arrival | server |"
	sep = "|---|---|"
	for (k = 1; k <= npt; k++) {
		line = line " " pt[k] " |"
		sep = sep "--:|"
	}
	print line
	print sep
	for (i = 1; i <= nrow; i++) {
		row = rw[i]
		for (j = 1; j <= nsrv; j++) {
			s = srv[j]
			if (med("t0_us", row, s) == "")
				continue
			line = "| " rowname(row) " | " s " |"
			for (k = 1; k <= npt; k++) {
				list = ""
				for (r = 1; r <= rounds; r++) {
					run = row SUBSEP s SUBSEP r SUBSEP \
					    "procs"
					y = pool_at(run, pt[k] * 1000)
					if (y != "")
						list = list " " y
				}
				line = line " " median(list) " |"
			}
			print line
		}
	}
	if (index(" " servers " ", " tine ") > 0) {
		print ""
		for (i = 1; i <= nrow; i++) {
			row = rw[i]
			if (med("sall", row, "tine") == "")
				continue
			printf "tine's status endpoint, %s: at most %s " \
			    "workers and %s connections in the accept queue " \
			    "seen; %d of %d samples unanswered within 1 s.\n",
			    rowname(row), med("speak", row, "tine"),
			    med("qpeak", row, "tine") + 0,
			    sum("slost", row, "tine"),
			    sum("sall", row, "tine")
		}
	}
	if (index(" " servers " ", " tine ") == 0)
		exit
	print ""
	print "| burst target (tine) | measured | holds |"
	print "|---|---|:-:|"
	for (i = 1; i <= nrow; i++) {
		row = rw[i]
		if (med("t0_us", row, "tine") == "")
			continue
		e = sum("errors", row, "tine") + sum("bad", row, "tine") + \
		    sum("starved", row, "tine")
		printf "| %s: no error | %d | %s |\n", rowname(row), e,
		    (e == 0 ? "yes" : "**no**")
		p99 = med("p99_us", row, "tine")
		ng = med("p99_us", row, "nginx")
		if (ng > 0)
			printf "| %s: p99 ≤ 2× nginx's | %s ms vs %s ms " \
			    "(%.2f×) | %s |\n", rowname(row), ms(p99), ms(ng),
			    p99 / ng, (p99 <= 2 * ng ? "yes" : "**no**")
		else
			printf "| %s: p99 ≤ 2× nginx's | %s ms, nginx not " \
			    "run | n/a |\n", rowname(row), ms(p99)
		b = back_text(row, "tine")
		printf "| %s: pool back to `workers` after spare_timeout " \
		    "(%d s) | %s | %s |\n", rowname(row), spare, b,
		    (b ~ /^not/ ? "**no**" : "yes")
	}
}
