# report.awk: turns the measurements of scripts/bench into Markdown tables
# and checks tine's targets. Plain POSIX awk (mawk has no asort).
#
# Input lines:
#   R round scenario server cpu-ns requests=N errors=N bad=N starved=N
#     conn_min=N conn_max=N p50_us=N p99_us=N elapsed_s=N rps=N bytes=N
#     encoded=N client_cpu_pct=N [handshakes=N resumed=N
#     tls=PROTO/SUITE/GROUP]
#   P server key value     (sys_ka, sys_close, ir_ka, ir_close, pss_worker,
#                           priv_worker, pss_total, procs)
#   S server mode syscall calls-per-request (mode: ka, close, tka, thand)
#   Z what ...             (the compress scenario: size, skip, warm, same,
#                           busy, coding; see compress_tables)
# Variables: servers, scenarios (space-separated), logon, rounds, cg, sc;
# for HTTPS tservers (the servers that ran it), tscenarios (scenario-key
# pairs, such as tka4-ecdsa), keys; for the sites scenario (R lines of
# sites-last and sites-none, servers tine-1 and tine-100) srounds (0:
# not run), snum (sites), slocs (locations per site), shost, shdr (1:
# header rules on), sconns, sworkers; for the compress scenario (R lines
# of zhtml and zjs, servers the rows: tine-pre, tine-comp, tine-id,
# tine-same, nginx-gzip, nginx-static, lighttpd) crounds (0: not run),
# crows (the rows run), cconns, cae (the Accept-Encoding sent), cdur.
# With tine-a among the servers (scripts/bench --ab), an A/B table of tine
# and tine-a comes first.

# Median over rounds of metric(a) / metric(b), both from the same round.
function ratio(m, scen, a, b,    r, list, x, y) {
	list = ""
	for (r = 1; r <= rounds; r++) {
		if (!((m, scen, a, r) in val) || !((m, scen, b, r) in val))
			continue
		x = val[m, scen, a, r]
		y = val[m, scen, b, r]
		if (y > 0)
			list = list " " x / y
	}
	return median(list)
}

function med(m, scen, s,    r, list) {
	list = ""
	for (r = 1; r <= rounds; r++)
		if ((m, scen, s, r) in val)
			list = list " " val[m, scen, s, r]
	return median(list)
}

function fmt(v, f) {
	return v == "" ? "n/a" : sprintf(f, v)
}

function cell(v) {
	return v == "" ? "" : sprintf("%.2f", v)
}

function pratio(v) {
	return v == "" ? "–" : sprintf("%.2f", v)
}

function check(ok) {
	return ok == "" ? "n/a" : (ok ? "✓" : "✗")
}

function target(what, measured, ok) {
	printf "| %s | %s | %s |\n", what, measured, check(ok)
}

BEGIN {
	TOP_FUNCTIONS = 12
	nsrv = split(servers, srv, " ")
	nscen = split(scenarios, scn, " ")
	title["ka4"] = "Keep-alive, 4 KiB file, 4 connections"
	title["ka32"] = "Keep-alive, 4 KiB file, 32 connections"
	title["ka256"] = "Keep-alive, 4 KiB file, 256 connections"
	title["close32"] = "`Connection: close`, 4 KiB file, 32 connections"
	title["big8"] = "Keep-alive, 10 MiB file, 8 connections " \
	    "(MiB/s = 10 × req/s)"
	title["nf32"] = "Keep-alive, 404, 32 connections"
	title["big1"] = "Keep-alive, 10 MiB file, 1 connection " \
	    "(MiB/s = 10 × req/s)"
	title["huge1"] = "Keep-alive, 1 GiB file, 1 connection " \
	    "(GiB/s = req/s)"
	title["wbig8"] = "Keep-alive, 10 MiB file, 8 connections, " \
	    "client wrk -t1 (no per-connection counts: starved and " \
	    "req/conn are not known)"
	title["wbig1"] = "Keep-alive, 10 MiB file, 1 connection, " \
	    "client wrk -t1"
	ntsrv = split(tservers, tsrv, " ")
	ntls = split(tscenarios, tscn, " ")
	title["tka4"] = "HTTPS keep-alive, 4 KiB file, 4 connections"
	title["tka32"] = "HTTPS keep-alive, 4 KiB file, 32 connections"
	title["tka256"] = "HTTPS keep-alive, 4 KiB file, 256 connections"
	title["thand32"] = "HTTPS, a full handshake per request (new " \
	    "connection, no session offered), 4 KiB file, 32 connections " \
	    "(req/s = handshakes/s, CPU µs/req = CPU per handshake)"
	title["tres32"] = "HTTPS, a resumed handshake per request (new " \
	    "connection offering the first one's session), 4 KiB file, " \
	    "32 connections (req/s = handshakes/s)"
	title["tbig8"] = "HTTPS keep-alive, 10 MiB file, 8 connections " \
	    "(MiB/s = 10 × req/s)"
	kname["ecdsa"] = "ECDSA P-256"
	kname["rsa"] = "RSA 2048"
}

$1 == "R" {
	r = $2; scen = $3; s = $4; ns = $5
	split("", f)
	for (i = 6; i <= NF; i++) {
		split($i, kv, "=")
		f[kv[1]] = kv[2]
	}
	val["rps", scen, s, r] = f["rps"]
	val["p50", scen, s, r] = f["p50_us"]
	val["p99", scen, s, r] = f["p99_us"]
	val["cpu", scen, s, r] = f["requests"] > 0 ? \
	    ns / 1000 / f["requests"] : 0
	# bytes= and encoded= count good responses only
	if (f["requests"] > 0) {
		val["bytes", scen, s, r] = f["bytes"] / f["requests"]
		val["enc", scen, s, r] = f["encoded"] / f["requests"]
	}
	errors[scen, s] += f["errors"] + f["bad"]
	val["ccpu", scen, s, r] = f["client_cpu_pct"]
	if ("cpu0_pct" in f) {		# compress: each CPU's busy share
		val["cpu0", scen, s, r] = f["cpu0_pct"]
		val["cpu1", scen, s, r] = f["cpu1_pct"]
	}
	val["scpu", scen, s, r] = f["elapsed_s"] > 0 ? \
	    ns / 1e7 / f["elapsed_s"] : 0
	if ("handshakes" in f) {
		hs[scen, s] += f["handshakes"]
		hsr[scen, s] += f["resumed"]
		if (f["tls"] != "none")
			tlsinfo[f["tls"]] = 1
	}
	if (f["starved"] > starved[scen, s])
		starved[scen, s] = f["starved"]
	if (!((scen, s) in cmin) || f["conn_min"] < cmin[scen, s])
		cmin[scen, s] = f["conn_min"]
	if (f["conn_max"] > cmax[scen, s])
		cmax[scen, s] = f["conn_max"]
	ran[scen, s] = 1
	next
}
$1 == "P" { prof[$2, $3] = $4; next }
$1 == "Z" {
	if ($2 == "size")	# file identity br zst gz
		zsize[$3] = $4 " " $5 " " $6 " " $7
	else if ($2 == "skip" || $2 == "warm" || $2 == "busy") {
		t = $0
		sub(/^Z [a-z]+ [^ ]+ ?/, "", t)
		# warm, once a round: a timeout stays, else the longest
		if ($2 == "warm" && (($2, $3) in znote) &&
		    (znote[$2, $3] == "timeout" ||
		    (t != "timeout" && t + 0 < znote[$2, $3] + 0)))
			next
		znote[$2, $3] = t == "" ? 1 : t
	} else if ($2 == "same") {	# file bytes source...
		t = $0
		sub(/^Z same [^ ]+ [^ ]+ /, "", t)
		zsame[$3] = $4
		zsamesrc[$3] = t
	} else if ($2 == "coding")	# row file coding length
		zcoding[$3, $4] = $5 " " $6
	next
}
$1 == "F" {
	# F self|incl instructions-per-request function (file)
	name = $0
	sub(/^F [a-z]+ [0-9]+ /, "", name)
	nf[$2]++
	fcost[$2, nf[$2]] = $3
	fname[$2, nf[$2]] = name
	next
}
$1 == "SF" {
	# SF self difference tine-100 tine-1 function (file): sites
	name = $0
	sub(/^SF [a-z]+ [-0-9]+ [0-9]+ [0-9]+ /, "", name)
	nsf++
	sfd[nsf] = $3
	sf100[nsf] = $4
	sf1[nsf] = $5
	sfname[nsf] = name
	next
}
$1 == "S" {
	sys[$2, $3, $4] = $5
	if (!($4 in sysname)) {
		sysname[$4] = 1
		names[++nnames] = $4
	}
	next
}

END {
	for (j = 1; j <= nsrv; j++)
		running[srv[j]] = 1
	if (("tine" in running) && ("tine-a" in running))
		abtable()

	if (nscen > 0)
		plain_tables()
	if (ntls > 0)
		https_tables()
	if (srounds > 0)
		sites_tables()
	if (crounds > 0)
		compress_tables()
	print ""
	print "## tine's targets"
	print ""
	if (!logon)
		print "Measured with access logs off (the targets assume on)."
	print ""
	print "| target | measured | holds |"
	print "|---|---|:-:|"
	if (nscen > 0)
		plain_targets()
	if (ntls > 0)
		https_targets()
	if (srounds > 0)
		sites_target()
	if (crounds > 0)
		compress_targets()
	print ""
	print "n/a: a server the target compares with was not run " \
	    "(`--quick` runs tine, nginx and floor; `--servers` chooses)."
}

# Plain HTTP: a table per load scenario, then system calls, instructions
# and memory per request.
function plain_tables() {
	print "## Load"
	print ""
	print "req/s: responses completed per second. p50/p99: latency of " \
	    "one request (connect included for `close`), µs, over the " \
	    "requests completed: a starved connection adds none. errors: " \
	    "failed or wrong responses, timeouts and resets (sum over " \
	    "rounds). starved: connections that got no response in the " \
	    "whole run (worst round); req/conn is the fewest–most one " \
	    "connection got. CPU µs/req: CPU time of the server's " \
	    "processes (master and workers: scheduler run time from " \
	    "/proc/PID/task/*/schedstat; children that exited: the " \
	    "parent's cutime + cstime) per completed request. ×nginx: the " \
	    "median of the ratios to nginx in the same round."
	for (k = 1; k <= nscen; k++) {
		scen = scn[k]
		print ""
		print "### " title[scen]
		print ""
		print "| server | req/s | ×nginx | p50 µs | p99 µs " \
		    "| p99 ×nginx | errors | starved | req/conn " \
		    "| CPU µs/req | CPU ×nginx | client CPU % |"
		print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:" \
		    "|---:|"
		for (j = 1; j <= nsrv; j++) {
			s = srv[j]
			if (!((scen, s) in ran)) {
				if (s == "floor")
					print "| floor | n/a |" \
					    " | | | | | | | | | |"
				continue
			}
			printf "| %s | %s | %s | %s | %s | %s | %d | %d " \
			    "| %d–%d | %s | %s | %s |\n", s,
			    fmt(med("rps", scen, s), "%.0f"),
			    pratio(ratio("rps", scen, s, "nginx")),
			    fmt(med("p50", scen, s), "%.0f"),
			    fmt(med("p99", scen, s), "%.0f"),
			    pratio(ratio("p99", scen, s, "nginx")),
			    errors[scen, s], starved[scen, s],
			    cmin[scen, s], cmax[scen, s],
			    fmt(med("cpu", scen, s), "%.1f"),
			    pratio(ratio("cpu", scen, s, "nginx")),
			    fmt(med("ccpu", scen, s), "%.0f")
		}
	}

	print ""
	print "## Per request: system calls, instructions, memory"
	print ""
	print "syscalls: `strace -c -f` attached to every process of a " \
	    "warmed-up server over " sc " requests (keep-alive on one " \
	    "connection / `Connection: close`, one at a time), calls " \
	    "divided by requests. instr: user-space instructions " \
	    "(callgrind Ir, every process summed, one worker) over " cg \
	    " requests on one connection, difference / difference (close: " \
	    "full mode only). PSS: `/proc/PID/smaps_rollup` of each worker " \
	    "(every process but the master) after a warm-up, idle, mean; " \
	    "private: its Private_Clean + Private_Dirty, the pages no " \
	    "other process shares, which is what one more worker costs."
	print ""
	print "| server | syscalls/req keep-alive | ×nginx " \
	    "| syscalls/req close | ×nginx | instr/req keep-alive " \
	    "| ×nginx | instr/req close | PSS/worker KiB | ×nginx " \
	    "| private/worker KiB | ×nginx | PSS all KiB | processes |"
	print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" \
	    "---:|---:|"
	for (j = 1; j <= nsrv; j++) {
		s = srv[j]
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s " \
		    "| %s | %s | %s | %s |\n", s,
		    fmt(prof[s, "sys_ka"], "%.2f"),
		    pratio(pr(s, "sys_ka")),
		    fmt(prof[s, "sys_close"], "%.2f"),
		    pratio(pr(s, "sys_close")),
		    fmt(prof[s, "ir_ka"], "%.0f"),
		    pratio(pr(s, "ir_ka")),
		    fmt(prof[s, "ir_close"], "%.0f"),
		    fmt(prof[s, "pss_worker"], "%d"),
		    pratio(pr(s, "pss_worker")),
		    fmt(prof[s, "priv_worker"], "%d"),
		    pratio(pr(s, "priv_worker")),
		    fmt(prof[s, "pss_total"], "%d"),
		    fmt(prof[s, "procs"], "%d")
	}

	# Which calls make up the counts, for tine and its yardsticks.
	ncol = 0
	for (j = 1; j <= nsrv; j++)
		if (srv[j] ~ /^(tine|tine-a|floor|nginx)$/)
			col[++ncol] = srv[j]
	if (ncol > 0 && nnames > 0) {
		print ""
		print "### System calls per request, by name"
		print ""
		line = "| syscall |"
		rule = "|---|"
		for (c = 1; c <= ncol; c++) {
			line = line " " col[c] " keep-alive | " col[c] \
			    " close |"
			rule = rule "---:|---:|"
		}
		print line
		print rule
		sort(names, nnames)
		for (i = 1; i <= nnames; i++) {
			line = "| " names[i] " |"
			shown = 0
			for (c = 1; c <= ncol; c++) {
				a = sys[col[c], "ka", names[i]]
				b = sys[col[c], "close", names[i]]
				if (a >= 0.005 || b >= 0.005)
					shown = 1
				line = line " " cell(a) " | " cell(b) " |"
			}
			if (shown)
				print line
		}
	}

	top("self", "Where tine's instructions go: self cost per keep-alive " \
	    "request, top functions (callgrind; `???` is code without symbols)")
	top("incl", "tine's own functions, inclusive cost per keep-alive " \
	    "request (callees included)")

}

function plain_targets() {
	v = prof["tine", "sys_ka"]
	target("syscalls per keep-alive request ≤ 2.2 (log on)",
	    fmt(v, "%.2f"), v == "" ? "" : v <= 2.2)
	v = prof["tine", "sys_close"]
	target("syscalls per connection (`close`) ≤ 5", fmt(v, "%.2f"),
	    v == "" ? "" : v <= 5)
	v = prof["tine", "ir_ka"]
	target("instructions per keep-alive request ≤ 6,000", fmt(v, "%.0f"),
	    v == "" ? "" : v <= 6000)
	a = ratio("cpu", "close32", "tine", "nginx")
	b = ratio("cpu", "close32", "tine", "floor")
	target("`close` CPU/req ≤ 0.6× nginx", fmt(a, "%.2f×"),
	    a == "" ? "" : a <= 0.6)
	target("`close` CPU/req ≤ 1.15× floor", fmt(b, "%.2f×"),
	    b == "" ? "" : b <= 1.15)
	# A req/s won on fewer connections than asked for is no win: the
	# 0 errors / 0 starved condition applies to every row.
	a = ratio("rps", "ka4", "tine", "nginx")
	ok = ""
	m = "n/a"
	if (a != "") {
		ok = a >= 1 && errors["ka4", "tine"] == 0 &&
		    starved["ka4", "tine"] == 0
		m = sprintf("%.2f× req/s, %d errors, %d starved", a,
		    errors["ka4", "tine"], starved["ka4", "tine"])
	}
	target("keep-alive at 4 conns: req/s ≥ nginx, 0 errors, 0 starved",
	    m, ok)
	for (k = 2; k <= 3; k++) {
		scen = k == 2 ? "ka32" : "ka256"
		n = k == 2 ? 32 : 256
		a = ratio("rps", scen, "tine", "nginx")
		b = ratio("p99", scen, "tine", "nginx")
		ok = ""
		m = "n/a"
		if (a != "" && b != "") {
			ok = a >= 0.9 && b <= 2 && errors[scen, "tine"] == 0 &&
			    starved[scen, "tine"] == 0
			m = sprintf("%.2f× req/s, p99 %.2f×, %d errors, " \
			    "%d starved", a, b, errors[scen, "tine"],
			    starved[scen, "tine"])
		}
		target("keep-alive at " n " conns: req/s ≥ 0.9× nginx, " \
		    "0 errors, 0 starved, p99 ≤ 2× nginx", m, ok)
	}
	split("ka4 ka32 ka256 close32", ap, " ")
	for (k = 1; k <= 4; k++) {
		scen = ap[k]
		a = ratio("rps", scen, "tine", "apache")
		b = ratio("cpu", scen, "tine", "apache")
		ok = ""
		m = "n/a"
		if (a != "" && b != "") {
			ok = a >= 1.5 && b <= 0.6
			m = sprintf("%.2f× req/s, %.2f× CPU", a, b)
		}
		target("vs Apache prefork (" scen "): ≥ 1.5× req/s at " \
		    "≤ 0.6× CPU", m, ok)
	}
	v = prof["tine", "pss_worker"]
	target("PSS per idle worker ≤ 128 KiB", fmt(v, "%d KiB") \
	    (prof["tine", "priv_worker"] == "" ? "" : \
	    sprintf(" (private %d KiB)", prof["tine", "priv_worker"])),
	    v == "" ? "" : v <= 128)
	a = ratio("rps", "big8", "tine", "nginx")
	ok = ""
	m = "n/a"
	if (a != "") {
		ok = a >= 1 && errors["big8", "tine"] == 0 &&
		    starved["big8", "tine"] == 0
		m = sprintf("%.2f× req/s, %d errors, %d starved", a,
		    errors["big8", "tine"], starved["big8", "tine"])
	}
	target("10 MiB downloads at 8 conns: req/s ≥ nginx, 0 errors, " \
	    "0 starved", m, ok)
	split("big8 wbig8", bk, " ")
	for (k = 1; k <= 2; k++) {
		a = ratio("rps", bk[k], "tine", "lighttpd")
		target("10 MiB downloads at 8 conns (" (k == 1 ? \
		    "bench/load.c" : "wrk -t1") "): req/s ≥ lighttpd",
		    fmt(a, "%.2f×"), a == "" ? "" : a >= 1 && \
		    errors[bk[k], "tine"] == 0)
	}
	a = ratio("rps", "huge1", "tine", "floor")
	target("one 1 GiB download: within 10 % of the large-file floor",
	    fmt(a, "%.2f×"), a == "" ? "" : a >= 0.9)
	a = ratio("cpu", "ka256", "tine", "floor")
	target("keep-alive at 256 conns: CPU/req ≤ 1.15× floor",
	    fmt(a, "%.2f×"), a == "" ? "" : a <= 1.15)
	v = prof["tine", "priv_worker"]
	target("private memory per idle worker ≤ 64 KiB", fmt(v, "%d KiB"),
	    v == "" ? "" : v <= 64)
}

# The most expensive functions of one kind, highest first.
function top(kind, heading,    i, j, n, idx, t, shown, all) {
	n = nf[kind]
	if (n == 0)
		return
	for (i = 1; i <= n; i++)
		idx[i] = i
	for (i = 2; i <= n; i++) {	# insertion sort, descending
		t = idx[i]
		for (j = i - 1; j >= 1 && fcost[kind, idx[j]] + 0 < \
		    fcost[kind, t] + 0; j--)
			idx[j + 1] = idx[j]
		idx[j + 1] = t
	}
	print ""
	print "### " heading
	print ""
	print "| function | instructions/req |"
	print "|---|---:|"
	# The call chain down to the request loop costs ~everything: skip it.
	all = prof["tine", "ir_ka"]
	for (i = 1; i <= n && shown < TOP_FUNCTIONS; i++) {
		if (kind == "incl" && all > 0 &&
		    fcost[kind, idx[i]] >= 0.95 * all)
			continue
		printf "| %s | %d |\n", fname[kind, idx[i]], fcost[kind, idx[i]]
		shown++
	}
}

function pr(s, key) {
	if (prof[s, key] == "" || prof["nginx", key] == "" ||
	    prof["nginx", key] == 0)
		return ""
	return prof[s, key] / prof["nginx", key]
}

# tine beside tine-a (the build given with --ab): the headline figures and
# their ratio.
function abtable(    k, scen, a, b) {
	print "## A/B: tine / tine-a"
	print ""
	print "tine is this tree's build, tine-a the one given with `--ab`; " \
	    "both ran with the same configs, in the same rounds (load) or " \
	    "one after the other (the rest). tine / tine-a: for req/s and " \
	    "CPU the median over rounds of the ratio in each round. Above 1 " \
	    "is better for req/s, below 1 for the rest."
	print ""
	print "| figure | tine | tine-a | tine / tine-a |"
	print "|---|---:|---:|---:|"
	for (k = 1; k <= nscen; k++) {
		scen = scn[k]
		if (!((scen, "tine") in ran) || !((scen, "tine-a") in ran))
			continue
		abrow("req/s, " scen abflag(scen), med("rps", scen, "tine"),
		    med("rps", scen, "tine-a"), "%.0f",
		    ratio("rps", scen, "tine", "tine-a"))
	}
	for (k = 1; k <= nscen; k++) {
		scen = scn[k]
		if (!((scen, "tine") in ran) || !((scen, "tine-a") in ran))
			continue
		abrow("CPU µs/req, " scen, med("cpu", scen, "tine"),
		    med("cpu", scen, "tine-a"), "%.1f",
		    ratio("cpu", scen, "tine", "tine-a"))
	}
	abprof("syscalls/req, keep-alive", "sys_ka", "%.2f")
	abprof("syscalls/req, close", "sys_close", "%.2f")
	abprof("instr/req, keep-alive", "ir_ka", "%.0f")
	abprof("instr/req, close", "ir_close", "%.0f")
	abprof("PSS/worker KiB", "pss_worker", "%d")
	abprof("private/worker KiB", "priv_worker", "%d")
	print ""
}

# scenario: " (errors, starved)" when either build had any: its req/s
# then counts fewer connections than asked for
function abflag(scen,    e, st) {
	e = errors[scen, "tine"] + errors[scen, "tine-a"]
	st = starved[scen, "tine"] + starved[scen, "tine-a"]
	if (e == 0 && st == 0)
		return ""
	return sprintf(" (errors %d / %d, starved %d / %d)",
	    errors[scen, "tine"], errors[scen, "tine-a"],
	    starved[scen, "tine"], starved[scen, "tine-a"])
}

function abprof(what, key, f,    a, b) {
	a = prof["tine", key]
	b = prof["tine-a", key]
	if (a == "" && b == "")
		return
	abrow(what, a, b, f, a == "" || b == "" || b == 0 ? "" : a / b)
}

function abrow(what, a, b, f, r) {
	printf "| %s | %s | %s | %s |\n", what, fmt(a, f), fmt(b, f),
	    r == "" ? "–" : sprintf("%.3f", r)
}

# HTTPS: a table per scenario and key, then system calls per request.
function https_tables(    k, scen, base, kind, j, s, line, rule, c, i, a, b,
    shown, t, res) {
	print ""
	print "## HTTPS"
	print ""
	print "Columns as above; client CPU: the load client's own CPU time " \
	    "over the run's wall time (near 100 % it would be the limit, " \
	    "not the server); resumed: handshakes the server resumed, of " \
	    "all the client made (sum over rounds). Negotiated:" tlsline() "."
	for (k = 1; k <= ntls; k++) {
		scen = tscn[k]
		base = scen
		sub(/-[a-z]+$/, "", base)
		kind = scen
		sub(/^[a-z0-9]+-/, "", kind)
		print ""
		print "### " title[base] ", " kname[kind]
		print ""
		print "| server | req/s | ×nginx | p50 µs | p99 µs " \
		    "| p99 ×nginx | errors | starved | req/conn " \
		    "| CPU µs/req | CPU ×nginx | client CPU % | resumed |"
		print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:" \
		    "|---:|---:|"
		for (j = 1; j <= ntsrv; j++) {
			s = tsrv[j]
			if (!((scen, s) in ran))
				continue
			res = "–"
			if (hs[scen, s] > 0 && base ~ /^t(hand|res)/)
				res = sprintf("%.1f %%",
				    100 * hsr[scen, s] / hs[scen, s])
			printf "| %s | %s | %s | %s | %s | %s | %d | %d " \
			    "| %d–%d | %s | %s | %s | %s |\n", s,
			    fmt(med("rps", scen, s), "%.0f"),
			    pratio(ratio("rps", scen, s, "nginx")),
			    fmt(med("p50", scen, s), "%.0f"),
			    fmt(med("p99", scen, s), "%.0f"),
			    pratio(ratio("p99", scen, s, "nginx")),
			    errors[scen, s], starved[scen, s],
			    cmin[scen, s], cmax[scen, s],
			    fmt(med("cpu", scen, s), "%.1f"),
			    pratio(ratio("cpu", scen, s, "nginx")),
			    fmt(med("ccpu", scen, s), "%.0f"), res
		}
	}
	sort(names, nnames)
	print ""
	print "### HTTPS system calls per request"
	print ""
	print "`strace -c -f` as above, " keys_first() " certificate: " \
	    "keep-alive over TLS on one connection (the handshake " \
	    "amortised over " scn_ka() " requests), and a full handshake " \
	    "per request (`Connection: close`, " scn_close() " connections)."
	print ""
	line = "| syscall |"
	rule = "|---|"
	for (j = 1; j <= ntsrv; j++) {
		line = line " " tsrv[j] " keep-alive | " tsrv[j] \
		    " handshake |"
		rule = rule "---:|---:|"
	}
	print line
	print rule
	line = "| **all** |"
	for (j = 1; j <= ntsrv; j++)
		line = line " " fmt(prof[tsrv[j], "sys_tka"], "%.2f") " | " \
		    fmt(prof[tsrv[j], "sys_thand"], "%.2f") " |"
	print line
	for (i = 1; i <= nnames; i++) {
		line = "| " names[i] " |"
		shown = 0
		for (j = 1; j <= ntsrv; j++) {
			a = sys[tsrv[j], "tka", names[i]]
			b = sys[tsrv[j], "thand", names[i]]
			if (a >= 0.005 || b >= 0.005)
				shown = 1
			line = line " " cell(a) " | " cell(b) " |"
		}
		if (shown)
			print line
	}
}

function tlsline(    t, l) {
	l = ""
	for (t in tlsinfo)
		l = l " `" t "`"
	return l == "" ? " n/a" : l
}

function keys_first(    a) {
	split(keys, a, " ")
	return kname[a[1]]
}

function scn_ka(    a) {
	split(sc, a, "/")
	return a[1]
}

function scn_close(    a) {
	split(sc, a, "/")
	return a[2]
}

# The issue's four HTTPS targets, for each key that ran.
function https_targets(    nk, kk, k, kind, i, scen, a, b, ok, m, v) {
	nk = split(keys, kk, " ")
	for (k = 1; k <= nk; k++) {
		kind = kk[k]
		split("tka4 tka32 tka256", ka, " ")
		for (i = 1; i <= 3; i++) {
			scen = ka[i] "-" kind
			if (!((scen, "tine") in ran))
				continue
			a = ratio("rps", scen, "tine", "nginx")
			ok = ""
			m = "n/a"
			if (a != "") {
				ok = a >= 1 && errors[scen, "tine"] == 0 &&
				    starved[scen, "tine"] == 0
				m = sprintf("%.2f× req/s, %d errors, " \
				    "%d starved", a, errors[scen, "tine"],
				    starved[scen, "tine"])
			}
			target("HTTPS keep-alive " ka[i] " (" kname[kind] \
			    "): req/s ≥ nginx", m, ok)
		}
		split("thand32 tres32", hk, " ")
		for (i = 1; i <= 2; i++) {
			scen = hk[i] "-" kind
			if (!((scen, "tine") in ran))
				continue
			a = ratio("rps", scen, "tine", "nginx")
			b = ratio("cpu", scen, "tine", "nginx")
			ok = ""
			m = "n/a"
			if (a != "" && b != "") {
				ok = a >= 1 && b <= 1 &&
				    errors[scen, "tine"] == 0
				m = sprintf("%.2f× handshakes/s, %.2f× CPU " \
				    "per handshake, %d errors", a, b,
				    errors[scen, "tine"])
			}
			target("HTTPS " (i == 1 ? "full" : "resumed") \
			    " handshakes (" kname[kind] "): per second ≥ " \
			    "nginx at ≤ its CPU per handshake", m, ok)
		}
		scen = "tbig8-" kind
		if ((scen, "tine") in ran) {
			a = ratio("rps", scen, "tine", "nginx")
			ok = ""
			m = "n/a"
			if (a != "") {
				ok = a >= 1 && errors[scen, "tine"] == 0 &&
				    starved[scen, "tine"] == 0
				m = sprintf("%.2f× req/s, %d errors, " \
				    "%d starved", a, errors[scen, "tine"],
				    starved[scen, "tine"])
			}
			target("HTTPS 10 MiB at 8 conns (" kname[kind] \
			    "): req/s ≥ nginx", m, ok)
		}
	}
	v = prof["tine", "sys_tka"]
	target("system calls per keep-alive HTTPS request ≤ 3",
	    fmt(v, "%.2f"), v == "" ? "" : v <= 3)
}

# The sites scenario: the two configs side by side for each path, then
# tine-100 / tine-1 per round (median, and the lowest and highest).
function sites_tables(    k, scen, j, n, what, each, busy) {
	print ""
	print "## Sites and rules: " snum " sites of " slocs " locations " \
	    "against one site"
	print ""
	print "Two tines on the same document root, each with " sworkers \
	    " workers pinned to CPU 0, run one after the other in each " \
	    "round (which one first alternates): **tine-1** has the " \
	    "one-site config (no blocks), **tine-100** " snum " `server` " \
	    "blocks (every fifth a wildcard `*.wNN.example.test`, the " \
	    "others two exact names) of " slocs " `location` blocks each " \
	    "(globs such as `/assets/*`, `/api/v[0-9]/*`, `/img/*.png`, " \
	    "`*.css`, `*.html`), " (shdr ? "each with a `header` rule, " \
	    "and a site-level `header`, " : "**without** `header` rules " \
	    "(build/tine does not know the directive, or " \
	    "`--sites-headers off`), ") "some with `index` or " \
	    "`autoindex`, and a root " (logon ? "and an access log " : "") \
	    "per site. " \
	    sconns " keep-alive connections send `Host: " shost "` (the " \
	    "middle of the list): `/4k.html` is matched by the site's " \
	    "last location only (`*.html`, so the first-match scan tries " \
	    "all " slocs "), `/4k.txt` (the same 4 KiB) by none. CPU " \
	    "µs/req as in the load tables; server and client CPU: their " \
	    "CPU time over the run's wall time (the server has one CPU, " \
	    "so near 100 % it is the limit). Medians over " srounds \
	    " round(s)."
	print ""
	print "| path | config | req/s | CPU µs/req | server CPU % | " \
	    "client CPU % | errors |"
	print "|---|---|---:|---:|---:|---:|---:|"
	for (k = 1; k <= 2; k++) {
		scen = k == 1 ? "sites-last" : "sites-none"
		what = k == 1 ? "`/4k.html` (last location)" : \
		    "`/4k.txt` (no location)"
		for (j = 1; j <= 2; j++) {
			n = j == 1 ? "tine-1" : "tine-100"
			if (!((scen, n) in ran))
				continue
			printf "| %s | %s | %s | %s | %s | %s | %d |\n", what, n,
			    fmt(smed("rps", scen, n), "%.0f"),
			    fmt(smed("cpu", scen, n), "%.2f"),
			    fmt(smed("scpu", scen, n), "%.0f"),
			    fmt(smed("ccpu", scen, n), "%.0f"),
			    errors[scen, n]
		}
	}
	busy = smed("scpu", "sites-last", "tine-1")
	if (busy != "" && busy < 90) {
		print ""
		printf "The servers had %.0f %% of their CPU (median): " \
		    "something else ran on it (see the load average), so " \
		    "req/s says little and CPU per request is noisier than " \
		    "on a quiet machine.\n", busy
	}
	print ""
	print "| path | CPU/req tine-100 / tine-1 | lowest–highest round | " \
	    "req/s tine-100 / tine-1 | each round (CPU) |"
	print "|---|---:|---:|---:|---|"
	for (k = 1; k <= 2; k++) {
		scen = k == 1 ? "sites-last" : "sites-none"
		what = k == 1 ? "`/4k.html` (last location)" : \
		    "`/4k.txt` (no location)"
		sratios("cpu", scen)
		printf "| %s | %s | %s | ", what, fmt(sr_med, "%.3f×"),
		    sr_min == "" ? "n/a" : sprintf("%.3f–%.3f", sr_min, sr_max)
		each = sr_list
		sratios("rps", scen)
		printf "%s | %s |\n", fmt(sr_med, "%.3f×"), each
	}
	# Two requests that cost tine-1 the same: what the noise alone makes
	noise()
	printf "| noise: tine-1 `/4k.html` / tine-1 `/4k.txt` | %s | %s | " \
	    "– | %s |\n", fmt(sr_med, "%.3f×"), sr_min == "" ? "n/a" : \
	    sprintf("%.3f–%.3f", sr_min, sr_max), sr_list
	sites_instructions()
	if (prof["tine-1", "pss_total"] != "" &&
	    prof["tine-100", "pss_total"] != "") {
		print ""
		printf "Memory after the runs: tine-1 %d KiB PSS in %d " \
		    "processes (master RSS %d KiB), tine-100 %d KiB in %d " \
		    "(master RSS %d KiB).\n", prof["tine-1", "pss_total"],
		    prof["tine-1", "procs"], prof["tine-1", "rss_master"],
		    prof["tine-100", "pss_total"], prof["tine-100", "procs"],
		    prof["tine-100", "rss_master"]
	}
}

function smed(m, scen, s,    r, list) {
	list = ""
	for (r = 1; r <= srounds; r++)
		if ((m, scen, s, r) in val)
			list = list " " val[m, scen, s, r]
	return median(list)
}

# tine-100 / tine-1 in each round of scen: sets sr_med, sr_min, sr_max
# and sr_list (the ratios in round order, for the table).
function sratios(m, scen,    r, x, y, q, list) {
	list = ""
	sr_min = sr_max = sr_list = ""
	for (r = 1; r <= srounds; r++) {
		if (!((m, scen, "tine-100", r) in val) ||
		    !((m, scen, "tine-1", r) in val))
			continue
		x = val[m, scen, "tine-100", r]
		y = val[m, scen, "tine-1", r]
		if (y <= 0)
			continue
		q = x / y
		list = list " " q
		sr_list = sr_list (sr_list == "" ? "" : " ") sprintf("%.3f", q)
		if (sr_min == "" || q < sr_min)
			sr_min = q
		if (sr_max == "" || q > sr_max)
			sr_max = q
	}
	sr_med = median(list)
}

# tine-1's /4k.html over its /4k.txt in each round: the same work (no
# location either way), so what differs is noise. Sets what sratios sets.
function noise(    r, x, y, q, list) {
	list = ""
	sr_min = sr_max = sr_list = ""
	for (r = 1; r <= srounds; r++) {
		if (!(("cpu", "sites-last", "tine-1", r) in val) ||
		    !(("cpu", "sites-none", "tine-1", r) in val))
			continue
		x = val["cpu", "sites-last", "tine-1", r]
		y = val["cpu", "sites-none", "tine-1", r]
		if (y <= 0)
			continue
		q = x / y
		list = list " " q
		sr_list = sr_list (sr_list == "" ? "" : " ") sprintf("%.3f", q)
		if (sr_min == "" || q < sr_min)
			sr_min = q
		if (sr_max == "" || q > sr_max)
			sr_max = q
	}
	sr_med = median(list)
}

function sites_target(    a, b, m, ok) {
	sratios("cpu", "sites-last")
	a = sr_med
	sratios("cpu", "sites-none")
	b = sr_med
	m = "n/a"
	ok = ""
	if (a != "" && b != "") {
		m = sprintf("%.3f× last location, %.3f× no location, " \
		    "%d errors", a, b, errors["sites-last", "tine-100"] + \
		    errors["sites-none", "tine-100"])
		ok = a <= 1.10 && b <= 1.10 &&
		    errors["sites-last", "tine-100"] == 0 &&
		    errors["sites-none", "tine-100"] == 0
	}
	target(snum " sites × " slocs " locations" \
	    (shdr ? "" : " (no header rules)") ": CPU/req ≤ 1.10× the " \
	    "one-site config", m, ok)
}

# Instructions per request (callgrind), then the functions that make the
# difference for /4k.html, most added first.
function sites_instructions(    k, key, what, a, b, i, j, t, idx, shown) {
	if (prof["tine-1", "ir_last"] == "" &&
	    prof["tine-100", "ir_last"] == "")
		return
	print ""
	print "User-space instructions per request (callgrind, one worker, " \
	    "every process of the server; exact, unlike the CPU time " \
	    "above, which also counts the kernel's share, most of a " \
	    "keep-alive request):"
	print ""
	print "| path | tine-1 | tine-100 | tine-100 / tine-1 |"
	print "|---|---:|---:|---:|"
	for (k = 1; k <= 2; k++) {
		key = k == 1 ? "ir_last" : "ir_none"
		what = k == 1 ? "`/4k.html` (last location)" : \
		    "`/4k.txt` (no location)"
		a = prof["tine-1", key]
		b = prof["tine-100", key]
		printf "| %s | %s | %s | %s |\n", what, fmt(a, "%.0f"),
		    fmt(b, "%.0f"),
		    a == "" || b == "" || a == 0 ? "n/a" : \
		    sprintf("%.2f×", b / a)
	}
	if (nsf == 0)
		return
	for (i = 1; i <= nsf; i++)
		idx[i] = i
	for (i = 2; i <= nsf; i++) {	# insertion sort, descending
		t = idx[i]
		for (j = i - 1; j >= 1 && sfd[idx[j]] + 0 < sfd[t] + 0; j--)
			idx[j + 1] = idx[j]
		idx[j + 1] = t
	}
	print ""
	print "Where the difference goes, `/4k.html`: self instructions per " \
	    "request of the functions that differ most (the worker):"
	print ""
	print "| function | tine-1 | tine-100 | difference |"
	print "|---|---:|---:|---:|"
	for (i = 1; i <= nsf && shown < 12; i++) {
		printf "| %s | %d | %d | %+d |\n", sfname[idx[i]],
		    sf1[idx[i]], sf100[idx[i]], sfd[idx[i]]
		shown++
	}
}

# --- compress ---------------------------------------------------------------

function cmed(m, scen, s,    r, list) {
	list = ""
	for (r = 1; r <= crounds; r++)
		if ((m, scen, s, r) in val)
			list = list " " val[m, scen, s, r]
	return median(list)
}

# Median over the compress rounds of metric(a) / metric(b), same round.
function cratio(m, scen, a, b,    r, list, x, y) {
	list = ""
	for (r = 1; r <= crounds; r++) {
		if (!((m, scen, a, r) in val) || !((m, scen, b, r) in val))
			continue
		x = val[m, scen, a, r]
		y = val[m, scen, b, r]
		if (y > 0)
			list = list " " x / y
	}
	return median(list)
}

function compress_tables(    nrow, row, k, f, scen, j, s, n, a, hot, slow) {
	nrow = split(crows, row, " ")
	what["tine-pre"] = "`precompressed on`: siblings by brotli -q 11, " \
	    "zstd --ultra -22, gzip -9"
	what["tine-comp"] = "`compress on`: tine's own variants, cached"
	what["tine-id"] = "neither: the same files, identity"
	what["tine-same"] = "neither: tine-comp's coded bytes as a plain " \
	    "file, identity"
	what["nginx-gzip"] = "`gzip on`, default level (1)"
	what["nginx-static"] = "`gzip_static on`, the gzip -9 siblings"
	what["lighttpd"] = "mod_deflate, default levels, `deflate.cache-dir`"
	if (zsamesrc["html"] ~ /^brotli/)
		what["tine-same"] = "neither: the .br sibling's bytes as a " \
		    "plain file, identity"
	print ""
	print "## Compression: a 100 KiB HTML page and a 1 MiB JavaScript " \
	    "bundle"
	print ""
	print cconns " keep-alive connections ask for `/page.html` (HTML " \
	    "markup) or `/app.js` (JavaScript source), made by " \
	    "bench/corpus.awk, and send `Accept-Encoding: " cae "`. Each " \
	    "row is a server process of its own (2 workers, pinned to " \
	    "CPU 0, the client on CPU 1), all of them up and idle but the " \
	    "one measured; tine's " \
	    "compressor was warmed first (each file asked for until the " \
	    "answer was coded, then, a second on, until every answer over " \
	    "several connections was), and every server left until idle " \
	    "before " \
	    "the runs. CPU µs/req as in the load tables: the server's " \
	    "processes, master, workers and any helper; server CPU %: " \
	    "that time over the run's; CPU 0 and CPU 1 busy: all that ran " \
	    "on each (/proc/stat), kernel work charged to no process " \
	    "included. body bytes: the " \
	    "mean body of a response as the client read it (still coded, " \
	    "without chunk framing). coded: responses with a " \
	    "Content-Encoding. ×nginx gzip: the median of the ratios to " \
	    "nginx `gzip on` in the same round; ×same bytes: to tine-same, " \
	    "tine sending those bytes as a plain file. " crounds \
	    " round(s) of " cdur " s, medians."
	if (("skip", "tine-comp") in znote) {
		print ""
		print "**No tine-comp row:** build/tine -t does not take " \
		    "`compress on` yet (" znote["skip", "tine-comp"] ")."
	}
	if (!(("warm", "tine-comp") in znote))
		;
	else if (znote["warm", "tine-comp"] == "timeout") {
		print ""
		print "**tine-comp was not warm:** some answers were still " \
		    "identity after the warm-up's bound; see its coded column."
	} else
		print "\ntine-comp answered both files coded, on every " \
		    "connection of a probe, at most " \
		    znote["warm", "tine-comp"] " s after it started."
	for (k in znote) {
		split(k, a, SUBSEP)
		if (a[1] == "busy")
			print "\n**" a[2] " was still busy** when the runs " \
			    "began: background work may be in its CPU figures."
	}
	print ""
	print "| file | identity | .br | .zst | .gz | tine-same |"
	print "|---|---:|---:|---:|---:|---|"
	for (j = 1; j <= 2; j++) {
		f = j == 1 ? "html" : "js"
		split(zsize[f], a, " ")
		printf "| %s | %s | %s | %s | %s | %s |\n",
		    f == "html" ? "`page.html`" : "`app.js`",
		    a[1], a[2], a[3], a[4],
		    zsame[f] == "" ? "n/a" : zsame[f] " (" zsamesrc[f] ")"
	}
	for (j = 1; j <= 2; j++) {
		f = j == 1 ? "html" : "js"
		scen = "z" f
		print ""
		print "### " (f == "html" ? \
		    "100 KiB HTML page, `/page.html`" : \
		    "1 MiB JavaScript bundle, `/app.js`")
		print ""
		print "| row | what | coding | req/s | ×nginx gzip | CPU µs/req " \
		    "| ×nginx gzip | ×same bytes | body bytes | ×nginx gzip " \
		    "| coded | errors | starved | server CPU % | CPU 0 busy % " \
		    "| client CPU % | CPU 1 busy % |"
		print "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|" \
		    "---:|---:|---:|---:|---:|---:|"
		hot = slow = ""
		for (k = 1; k <= nrow; k++) {
			s = row[k]
			if (!((scen, s) in ran))
				continue
			n = cmed("ccpu", scen, s)
			if (n != "" && n >= 90 || cmed("cpu1", scen, s) >= 95)
				hot = hot " " s
			n = cmed("cpu0", scen, s)
			if (n != "" && n < 90)
				slow = slow " " s
			split(zcoding[s, f], a, " ")
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s " \
			    "| %s | %s | %d | %d | %s | %s | %s | %s |\n", s,
			    what[s],
			    a[1] == "" ? "?" : a[1],
			    fmt(cmed("rps", scen, s), "%.0f"),
			    pratio(cratio("rps", scen, s, "nginx-gzip")),
			    fmt(cmed("cpu", scen, s), "%.1f"),
			    pratio(cratio("cpu", scen, s, "nginx-gzip")),
			    pratio(cratio("cpu", scen, s, "tine-same")),
			    fmt(cmed("bytes", scen, s), "%.0f"),
			    pratio(cratio("bytes", scen, s, "nginx-gzip")),
			    fmt(100 * cmed("enc", scen, s), "%.0f %%"),
			    errors[scen, s], starved[scen, s],
			    fmt(cmed("scpu", scen, s), "%.0f"),
			    fmt(cmed("cpu0", scen, s), "%.0f"),
			    fmt(cmed("ccpu", scen, s), "%.0f"),
			    fmt(cmed("cpu1", scen, s), "%.0f")
		}
		if (hot != "") {
			print ""
			print "The client was near its limit (its own CPU " \
			    "≥ 90 %, or CPU 1 ≥ 95 % busy) for" hot ": there " \
			    "req/s is what the client managed, a floor for " \
			    "the server's."
		}
		if (slow != "") {
			print ""
			print "CPU 0 was less than 90 % busy for" slow ": " \
			    "the server's CPU was not the limit there (the " \
			    "client, or waiting: latency, stalls)."
		}
	}
}

function compress_targets(    j, f, scen, a, m, ok, skip) {
	skip = ("skip", "tine-comp") in znote ? \
	    "n/a: no tine-comp row (build/tine -t does not take " \
	    "`compress on`)" : "n/a"
	for (j = 1; j <= 2; j++) {
		f = j == 1 ? "html" : "js"
		scen = "z" f
		m = skip
		ok = ""
		a = cratio("rps", scen, "tine-comp", "nginx-gzip")
		if (a != "") {
			ok = a >= 3 && errors[scen, "tine-comp"] == 0
			m = sprintf("%.2f×, %d errors", a, errors[scen,
			    "tine-comp"])
		}
		target("compress, " f ": req/s ≥ 3× nginx `gzip on`", m, ok)
		m = skip
		ok = ""
		a = cratio("cpu", scen, "tine-comp", "nginx-gzip")
		if (a != "") {
			ok = a <= 0.3
			m = sprintf("%.3f×", a)
		}
		target("compress, " f ": CPU/req ≤ 0.3× nginx `gzip on`", m,
		    ok)
		m = skip
		ok = ""
		a = cratio("bytes", scen, "tine-comp", "nginx-gzip")
		if (a != "") {
			ok = a <= 0.85
			m = sprintf("%.3f× (%.0f against %.0f bytes)", a,
			    cmed("bytes", scen, "tine-comp"),
			    cmed("bytes", scen, "nginx-gzip"))
		}
		target("compress, " f ": bytes/response ≤ 0.85× nginx " \
		    "`gzip on`", m, ok)
		m = skip
		ok = ""
		a = cratio("cpu", scen, "tine-comp", "tine-same")
		if (a != "") {
			ok = a <= 1.15
			m = sprintf("%.3f×", a)
		}
		target("compress, " f ": CPU/req ≤ 1.15× the same bytes " \
		    "uncoded (tine-same)", m, ok)
	}
}
