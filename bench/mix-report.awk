# bench/mix-report.awk: the report section of the `mix` scenario of
# scripts/bench, from its data ($T/mix.data, written by bench/mix.bash):
#   M round phase conns server cpu_ns key=value...   (one run)
#   X type TYPE FILES BYTES, X total FILES BYTES      (the site)
# Each row is the median over rounds (status counts: the sum), its
# server against nginx's row of the same phase and connection count.

function median(list,    a, n, i, j, x) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) {	# insertion sort, a handful of rounds
		x = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > x; j--)
			a[j + 1] = a[j]
		a[j + 1] = x
	}
	if (n == 0)
		return 0
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

function add(k, name, v) {
	vals[k, name] = vals[k, name] " " v
}

$1 == "X" && $2 == "type" {
	ntype++
	tname[ntype] = $3
	tfiles[$3] = $4
	tbytes[$3] = $5
	next
}
$1 == "X" && $2 == "total" {
	total_files = $3
	total_bytes = $4
	next
}
$1 == "M" {
	k = $3 SUBSEP $4 SUBSEP $5
	if (!(k in seen)) {
		seen[k] = 1
		nrow++
		row[nrow] = k
		if (!($5 in srv)) {
			srv[$5] = 1
			nsrv++
			sname[nsrv] = $5
		}
		phase_seen[$3] = 1
		conns_seen[$4] = 1
	}
	delete f
	for (i = 7; i <= NF; i++) {
		split($i, kv, "=")
		f[kv[1]] = kv[2]
	}
	good = f["status_200"] + f["status_304"]
	add(k, "rps", f["rps"])
	add(k, "mbs", f["elapsed_s"] > 0 ? f["bytes"] / f["elapsed_s"] / 1e6 : 0)
	add(k, "p50", f["p50_us"] / 1000)
	add(k, "p99", f["p99_us"] / 1000)
	add(k, "cpu", good > 0 ? $6 / 1000 / good : 0)
	add(k, "cpu0", f["cpu0_pct"])
	add(k, "cli", f["client_cpu_pct"])
	add(k, "cpu1", f["cpu1_pct"])
	add(k, "pmax", f["procs_max"])
	add(k, "pat", f["procs_max_s"])
	pstart[k] = f["procs_start"]
	s200[k] += f["status_200"]
	s304[k] += f["status_304"]
	sother[k] += f["status_other"]
	errs[k] += f["errors"]
	starved[k] += f["starved"]
	conds[k] += f["cond"]
	next
}

function ratio(k, name, ph, c,    b) {
	b = median(vals[ph, c, "nginx", name])
	if (b == 0 || !((ph, c, "nginx") in seen))
		return "–"
	return sprintf("%.2f", median(vals[k, name]) / b)
}

END {
	if (nrow == 0)
		exit 0
	printf "\n## Site mix\n\n"
	printf "%d files in nested directories, %.0f MB in all (", \
	    total_files, total_bytes / 1e6
	for (i = 1; i <= ntype; i++)
		printf "%s%s %d files, mean %.1f KB", (i > 1 ? "; " : ""), \
		    tname[i], tfiles[tname[i]], \
		    tbytes[tname[i]] / tfiles[tname[i]] / 1000
	printf "), types and sizes after HTTP Archive's Web Almanac 2024 " \
	    "(bench/mix-corpus.awk); Zipf popularity, s = %s; %s %% " \
	    "of the requests conditional (If-None-Match with the " \
	    "server's own ETag); keep-alive; seed %s, the same files and " \
	    "requests for every server. Cold: the page cache dropped just " \
	    "before the run, the server just started; warm: every file " \
	    "read once before, the same server right after its cold " \
	    "run. %d round(s) of %s s runs, median over rounds; status " \
	    "counts summed over rounds (cond: conditional requests sent, " \
	    "which a 304 each should answer). CPU/req: the server's " \
	    "processes' run time over 200 and 304 answers; CPU0: the " \
	    "server's CPU busy, whoever used it; client: load's own CPU " \
	    "over the run (CPU1 all told). Processes: the server's " \
	    "(master and workers) at the run's start and at most, and " \
	    "when the most was first seen.\n\n", zipf, cond, seed, \
	    rounds, dur
	printf "| cache | conns | server | req/s | × nginx | MB/s | " \
	    "p50 ms | p99 ms | p99 × nginx | 200 | 304 | other | " \
	    "errors | cond | CPU/req µs | CPU0 %% | client %% " \
	    "(CPU1 %%) | processes |\n"
	printf "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|" \
	    "---:|---:|---:|---:|---:|---:|---|\n"
	split("cold warm", phases, " ")
	for (p = 1; p <= 2; p++) {
		ph = phases[p]
		if (!(ph in phase_seen))
			continue
		for (c = 1; c <= 4096; c++) {
			if (!(c in conns_seen))
				continue
			for (i = 1; i <= nsrv; i++) {
				k = ph SUBSEP c SUBSEP sname[i]
				if (!(k in seen))
					continue
				printf "| %s | %d | %s | %.0f | %s | %.0f | " \
				    "%.2f | %.2f | %s | %d | %d | %d | %d | " \
				    "%d | %.1f | %.0f | %.0f (%.0f) | " \
				    "%d → %d (%.1f s) |\n", ph, c, \
				    sname[i], median(vals[k, "rps"]), \
				    ratio(k, "rps", ph, c), \
				    median(vals[k, "mbs"]), \
				    median(vals[k, "p50"]), \
				    median(vals[k, "p99"]), \
				    ratio(k, "p99", ph, c), s200[k], \
				    s304[k], sother[k], errs[k], conds[k], \
				    median(vals[k, "cpu"]), \
				    median(vals[k, "cpu0"]), \
				    median(vals[k, "cli"]), \
				    median(vals[k, "cpu1"]), pstart[k], \
				    median(vals[k, "pmax"]), \
				    median(vals[k, "pat"])
			}
		}
	}
}
