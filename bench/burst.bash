# bench/burst.bash: the `burst` scenario of scripts/bench, which sources
# this file and calls burst_run (the measurements) and burst_report (its
# section of the report). It uses the bench's helpers (start_server,
# stop_server, tree, PORT, PIN_CLI, LOAD, T) and keeps its data apart, in
# $T/burst.
#
# From an idle pool, BURST_CONNS connections arrive, each makes
# BURST_PER_CONN keep-alive requests for the 4 KiB page, then closes
# (bench/load.c -k, -r). Two rows: the connects spread evenly over
# BURST_RAMP_MS (the case the targets are about), and all at once (ramp 0:
# a harder case, where the accept queue and the pool's growth show). Each
# run is a fresh server, warmed by one connection, with its pool back at
# its idle size before the burst; a sampler on the client's CPU records
# the server's processes (its master's children) every BURST_SAMPLE_MS
# and, for tine, its status endpoint (the workers by state, the accept
# queue); after the last response the run waits for the pool to return,
# at most BURST_SETTLE_S. tine runs with spare_timeout BURST_SPARE_S
# (default 10 s) so that the return fits in a short run; its status
# endpoint is sampled until the last response only. SYN-queue and
# accept-queue overflows (TcpExtListenOverflows, TcpExtListenDrops of
# /proc/net/netstat) are counted around each burst: the machine's, so
# runs are serialised (scripts/bench under flock).

BURST_CONNS=512
BURST_PER_CONN=10
BURST_RAMP_MS=100
BURST_ROWS=(r$BURST_RAMP_MS r0)	# rN: connects spread over N ms
BURST_SPARE_S=3			# tine's spare_timeout in this scenario
BURST_SAMPLE_MS=50
BURST_SETTLE_S=$((BURST_SPARE_S + 7))	# the wait for the pool's return
BURST_IDLE_WAIT_S=20		# for an idle pool before the burst
BURST_TIMEOUT_S=30		# per request: a wait, not an error
BURST_STATUS_PATH=/status
# The pool's idle size per server, what the wait before a burst waits
# for: tine and nginx 2 workers; Apache prefork keeps 2 to 3
# (StartServers 2, MinSpareServers 2, MaxSpareServers 3).
declare -A BURST_IDLE=([tine]=2 [nginx]=2 [apache]=3)
BURST_SERVERS=()
BURST_POINTS="0.05 0.1 0.2 0.5 1 2 3 4 5 7 10"

# burst_init servers-given: the servers of the scenario, tine, nginx and
# Apache among those asked for (all three when --servers was not given)
burst_init() {
	local s
	BURST_SERVERS=()
	for s in tine nginx apache; do
		if [ -z "$1" ] || [[ ",$1," == *",$s,"* ]]; then
			BURST_SERVERS+=("$s")
		fi
	done
	mkdir -p "$T/burst"
	while ! port_free "$p"; do p=$((p + 1)); done
	PORT[btine]=$p
	p=$((p + 1))
}

# tine's config: the bench's own (conf_tine), plus the status endpoint
# and the scenario's spare_timeout, under the name btine.
conf_btine() {
	conf_tine load tine
	sed "s|:${PORT[tine]}\$|:${PORT[btine]}|; s|$T/tine\([.-]\)|$T/btine\1|g" \
	    "$T/tine.conf" >"$T/btine.conf"
	printf 'status_path %s\nspare_timeout %s\n' "$BURST_STATUS_PATH" \
	    "$BURST_SPARE_S" >>"$T/btine.conf"
	"$TINE" -t -f "$T/btine.conf" >"$T/burst/btine.t" 2>&1 || {
		grep -v '^$' "$T/burst/btine.t" | head -n 5 >&2
		die "burst: tine -t fails on its config"
	}
}

burst_proc() {	# server: the process name start_server knows it by
	case $1 in
	tine) echo btine ;;
	*) echo "$1" ;;
	esac
}

burst_pool() {	# master pid: its children now (no fork: the sampler's way)
	local kids=()
	read -r -a kids <"/proc/$1/task/$1/children" 2>/dev/null || true
	echo ${#kids[@]}
}

# /proc/net/netstat: "ListenOverflows ListenDrops", the machine's counts
burst_syn() {
	awk '$1 == "TcpExt:" && !h { for (i = 2; i <= NF; i++) n[i] = $i
		h = 1; next }
	    $1 == "TcpExt:" { for (i = 2; i <= NF; i++) v[n[i]] = $i }
	    END { print v["ListenOverflows"] + 0, v["ListenDrops"] + 0 }' \
	    /proc/net/netstat
}

# burst_sampler what pid port out: until killed, every BURST_SAMPLE_MS,
# a line "t_us procs" (what=procs: the master's children, from /proc) or
# "t_us workers queue" (what=status: tine's status endpoint, the workers
# of every state and the accept queue; "- -" without an answer within a
# second), t_us the wall clock in µs (EPOCHREALTIME). Plain bash, no fork
# per sample: it shares CPU 1 with the client. A status request waits in
# tine's accept queue like any other, so it may answer late while the
# queue is long; the process count goes on meanwhile.
burst_sampler() {
	local what=$1 pid=$2 port=$3 out=$4 now kids st q line fd z
	local tick
	tick=$(printf '%d.%03d' $((BURST_SAMPLE_MS / 1000)) \
	    $((BURST_SAMPLE_MS % 1000)))
	mkfifo "$out.tick"
	exec {z}<>"$out.tick"
	while :; do
		now=${EPOCHREALTIME/./}
		if [ "$what" = procs ]; then
			kids=()
			read -r -a kids <"/proc/$pid/task/$pid/children" ||
			    true
			printf '%s %d\n' "$now" ${#kids[@]} >>"$out"
		else
			st=- q=-
			if { exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } \
			    2>/dev/null; then
				printf 'GET %s?format=prometheus HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n' \
				    "$BURST_STATUS_PATH" >&"$fd" ||
				    true
				st=0
				while IFS= read -r -t 1 -u "$fd" line; do
					line=${line%$'\r'}
					case $line in
					'tine_workers{'*)
						st=$((st + ${line##* })) ;;
					'tine_accept_queue_length '*)
						q=${line##* } ;;
					esac
				done
				[ "$q" != - ] || st=-
				exec {fd}>&-
			fi
			printf '%s %s %s\n' "$now" "$st" "$q" >>"$out"
		fi
		read -r -t "$tick" -u "$z" _ || true
	done 2>/dev/null
}

burst_sampler_start() {	# what pid port out: sets BURST_SPID
	"${PIN_CLI[@]}" bash -c "$(declare -f burst_sampler)
	    BURST_STATUS_PATH=$BURST_STATUS_PATH
	    BURST_SAMPLE_MS=$BURST_SAMPLE_MS
	    burst_sampler $1 $2 '$3' '$4'" </dev/null &
	BURST_SPID=$!
	LIVE[$BURST_SPID]=1
}

# burst_one round row server: one burst on a fresh server. Writes a
# "B round row server key=value..." line to $T/burst/data and the
# samples to $T/burst/ROW.SERVER.ROUND.{procs,status}.
burst_one() {
	local r=$1 row=$2 s=$3 n pid base i ramp=${2#r} out f spids=() opt
	local syn0 syn1 t_start t_end
	n=$(burst_proc "$s")
	start_server "$n" load
	pid=${SPID[$n]}
	"${PIN_CLI[@]}" "$LOAD" -c 1 -n 200 "127.0.0.1:${PORT[$n]}" \
	    /4k.html >/dev/null || true
	base=${BURST_IDLE[$s]}
	i=0
	while [ "$(burst_pool "$pid")" -gt "$base" ] &&
	    [ $i -lt $((BURST_IDLE_WAIT_S * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	base=$(burst_pool "$pid")
	f=$T/burst/$row.$s.$r
	: >"$f.procs"
	burst_sampler_start procs "$pid" "" "$f.procs"
	spids+=("$BURST_SPID")
	if [ "$s" = tine ]; then
		: >"$f.status"
		burst_sampler_start status "$pid" "${PORT[$n]}" "$f.status"
		spids+=("$BURST_SPID")
	fi
	sleep 0.3	# samples at rest
	syn0=$(burst_syn)
	t_start=${EPOCHREALTIME/./}
	opt=()
	[ "$ramp" = 0 ] || opt=(-r "$ramp")
	out=$("${PIN_CLI[@]}" "$LOAD" -c $BURST_CONNS -k $BURST_PER_CONN \
	    "${opt[@]}" -t $BURST_TIMEOUT_S "127.0.0.1:${PORT[$n]}" \
	    /4k.html || true)
	t_end=${EPOCHREALTIME/./}
	syn1=$(burst_syn)
	[ -n "$out" ] || die "burst: load client failed against $s"
	# The status endpoint is sampled during the burst only: a request
	# every BURST_SAMPLE_MS goes to each idle worker in turn (a blocking
	# accept wakes the longest waiter), so none would idle for
	# spare_timeout and the pool would not shrink while it runs.
	for ((i = ${#spids[@]} - 1; i >= 1; i--)); do
		kill_wait "${spids[$i]}" 5
		unset "spids[$i]"
	done
	# the pool's return, at most BURST_SETTLE_S
	i=0
	while [ "$(burst_pool "$pid")" -gt "$base" ] &&
	    [ $i -lt $((BURST_SETTLE_S * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 0.5	# samples at rest
	for i in "${spids[@]}"; do
		kill_wait "$i" 5
	done
	rm -f "$f".*.tick
	stop_server "$n"
	truncate_logs
	out="base=$base t0_us=$t_start t1_us=$t_end $(awk -v a="$syn0" \
	    -v b="$syn1" 'BEGIN { split(a, x, " "); split(b, y, " ")
		printf "listen_overflows=%d listen_drops=%d", y[1] - x[1],
		    y[2] - x[2] }') $out"
	echo "B $r $row $s $out" >>"$T/burst/data"
	say "burst round $r $row $s: $out"
}

# The runs: every row, every server, rounds in a rotated order.
burst_run() {
	local r row s t_burst=$SECONDS
	say "burst: ${BURST_SERVERS[*]}; $BURST_CONNS connections of" \
	    "$BURST_PER_CONN requests, rows ${BURST_ROWS[*]};" \
	    "$BURST_ROUNDS round(s)"
	: >"$T/burst/data"
	for ((r = 1; r <= BURST_ROUNDS; r++)); do
		for row in "${BURST_ROWS[@]}"; do
			for s in $(rotate "$r" "${BURST_SERVERS[@]}"); do
				burst_one "$r" "$row" "$s"
			done
		done
	done
	say "burst took $((SECONDS - t_burst)) s"
}

burst_report() {
	local files=()
	[ -s "$T/burst/data" ] || return 0
	files=("$T"/burst/*.procs)
	[ -e "${files[0]}" ] || files=()
	[ -e "$T/burst/${BURST_ROWS[0]}.tine.1.status" ] &&
	    files+=("$T"/burst/*.status)
	awk -v servers="${BURST_SERVERS[*]}" -v rows="${BURST_ROWS[*]}" \
	    -v rounds="$BURST_ROUNDS" -v conns=$BURST_CONNS \
	    -v perconn=$BURST_PER_CONN -v ramp=$BURST_RAMP_MS \
	    -v spare=$BURST_SPARE_S -v settle=$BURST_SETTLE_S \
	    -v points="$BURST_POINTS" -v sample=$BURST_SAMPLE_MS \
	    -f bench/stats.awk -f bench/burst.awk "$T/burst/data" "${files[@]}"
}
