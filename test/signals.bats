#!/usr/bin/env bats
# signals.bats: the master's signal table (SPEC "Signals to the master")
# against the real binary: reload (with and without load, broken configs,
# listeners added and removed, retiring keep-alive connections), graceful
# and fast stop, worker deaths and the respawn back-off, resizing, log
# reopening, and signals arriving at awkward moments.

load helpers

setup() {
	setup_tine_dir
	LG_PID=
	CURL_PID=
	KA_PID=
	PUBDIR=
	write_ka_client
}

teardown() {
	local rc=0 p
	for p in "$LG_PID" "$CURL_PID" "$KA_PID"; do
		if [ -n "$p" ]; then
			kill -KILL "$p" 2>/dev/null || true
			wait "$p" 2>/dev/null || true
		fi
	done
	teardown_tine || rc=1
	case ${PUBDIR:-} in
	/tmp/tine-signals.*) rm -rf -- "$PUBDIR" ;;
	esac
	return "$rc"
}

# use_public_dir: for tests whose workers run as nobody (needs root):
# moves $T to a world-searchable directory, since the Bats directories
# are private to root.
use_public_dir() {
	[ "$(id -u)" = 0 ] || skip "switching users needs root"
	getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
		skip "no nobody user or nogroup group"
	PUBDIR=$(mktemp -d /tmp/tine-signals.XXXXXX)
	chmod 755 "$PUBDIR"
	T=$PUBDIR
	CONF=$T/tine.conf
	mkdir "$T/www"
	printf 'hello tine\n' >"$T/www/index.html"
}

# ka.py PORT MARK GO IDLE_S: one keep-alive connection. Sends a request,
# reads the response, creates MARK, waits (at most 10 s) for GO to exist,
# waits IDLE_S more, reports whether the server closed the connection in
# the meantime, sends a second request on it, reads that response and
# whether the connection then ends. Prints one line per fact.
write_ka_client() {
	cat >"$T/ka.py" <<'EOF'
import os, select, socket, sys, time

port, mark, go, idle = int(sys.argv[1]), sys.argv[2], sys.argv[3], \
    float(sys.argv[4])
REQ = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"

def response(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        if not b:
            return None, None, buf
        buf += b
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for l in lines[1:]:
        k, v = l.split(":", 1)
        fields[k.strip().lower()] = v.strip()
    n = int(fields.get("content-length", "0"))
    while len(body) < n:
        b = s.recv(65536)
        if not b:
            break
        body += b
    return lines[0].split(" ")[1], fields, body

s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(REQ)
st, f, body = response(s)
print("r1 %s connection=%s body=%r" % (st, f.get("connection", "-"), body))
sys.stdout.flush()
open(mark, "w").close()
for _ in range(200):
    if os.path.exists(go):
        break
    time.sleep(0.05)
else:
    sys.exit("ka.py: no go file")
t0 = time.monotonic()
time.sleep(idle)
r, _, _ = select.select([s], [], [], 0)
if r and s.recv(1, socket.MSG_PEEK) == b"":
    print("closed early after %.1f s" % (time.monotonic() - t0))
    sys.exit(0)
print("open after idle")
s.sendall(REQ)
st, f, body = response(s)
print("r2 %s connection=%s body=%r" % (st, f and f.get("connection", "-"),
    body))
s.settimeout(5)
try:
    print("eof" if s.recv(1) == b"" else "more data")
except socket.timeout:
    print("still open")
EOF
}

# start_loadgen SECONDS [PORT] [ARGS...]: loadgen with 16 keep-alive and
# 4 new-connection clients in the background; output in $T/lg.out.
start_loadgen() {
	local ms=$(($1 * 1000)) port=${2:-$PORT}
	shift 2 || shift
	"$TINE_TOOLS/loadgen" -p "$port" -k 16 -n 4 -d "$ms" "$@" \
	    >"$T/lg.out" 2>"$T/lg.err" 3>&- &
	LG_PID=$!
}

# check_loadgen: waits (bounded by loadgen's own limits) for it and
# asserts that nothing was lost, bad or refused and something answered.
check_loadgen() {
	local out answered
	wait "$LG_PID" || true
	LG_PID=
	out=$(<"$T/lg.out")
	echo "loadgen: $out $(<"$T/lg.err")"
	[[ $out =~ answered=([0-9]+) ]]
	answered=${BASH_REMATCH[1]}
	[ "$answered" -gt 0 ]
	[[ $out == *" lost=0 bad=0 connect_errors=0 "* ]]
}

# hups N INTERVAL: N reloads, INTERVAL seconds apart.
hups() {
	local i
	for ((i = 0; i < $1; i++)); do
		kill -HUP "$TINE_PID"
		sleep "$2"
	done
}

# wait_master_exit SECONDS: waits for the master to exit, sets
# TINE_STATUS, clears TINE_PID. Fails if it is still running.
wait_master_exit() {
	local i
	for ((i = 0; i < $1 * 20; i++)); do
		pid_alive "$TINE_PID" || break
		sleep 0.05
	done
	pid_alive "$TINE_PID" && return 1
	wait "$TINE_PID" && TINE_STATUS=0 || TINE_STATUS=$?
	TINE_PID=
}

none_alive() {
	[ -z "$(recorded_alive "$@")" ]
}

# log_has ERE: the error log has a matching line.
log_has() {
	grep -qE -- "$1" "$T/error.log"
}

log_count() {
	grep -cE -- "$1" "$T/error.log" || true
}

# is_retiring PID...: one of these processes calls itself retiring.
is_retiring() {
	local p
	for p in "$@"; do
		{ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null |
		    grep -q 'worker \[retiring\]' && return 0
	done
	return 1
}

none_retiring() {
	! is_retiring "$@"
}

not_listening() {
	! port_listening "$1"
}

access_lines() {
	[ -f "$1" ] || { echo 0; return; }
	grep -c . "$1" || true
}

# access_lines_are FILE N: FILE has exactly N lines.
access_lines_are() {
	[ "$(access_lines "$1")" -eq "$2" ]
}

# workers_write_to FILE: every worker's open files include FILE.
workers_write_to() {
	local p
	for p in $(worker_pids); do
		readlink /proc/"$p"/fd/* 2>/dev/null | grep -qxF "$1" || return 1
	done
}

@test "HUP: a changed config is served, master stays, a new generation replaces the workers" {
	printf 'other page\n' >"$T/www/other.html"
	write_conf
	start_tine
	run -0 req /
	[ "$output" = "hello tine" ]
	wait_workers 2
	mapfile -t old < <(record_workers)
	write_conf "index other.html"
	kill -HUP "$TINE_PID"
	wait_for log_has 'reloaded: generation 1, 2 workers'
	run -0 req /
	[ "$output" = "other page" ]
	# The master is the same process, and the pid file still names it.
	pid_alive "$TINE_PID"
	[ "$(<"$T/tine.pid")" = "$TINE_PID" ]
	wait_for none_alive "${old[@]}"
	wait_workers 2
	for p in $(worker_pids); do
		[[ " ${old[*]} " != *" $p:"* ]]
	done
	! log_has 'exited (on signal|with status)' || false
}

@test "HUP: 10 reloads under keep-alive and new-connection load lose no request" {
	# The pool grows under the load; spare_timeout 1 shrinks it back.
	write_conf "keepalive_timeout 5" "shutdown_timeout 10" "spare_timeout 1"
	start_tine
	start_loadgen 6
	sleep 1
	hups 10 0.3
	check_loadgen
	[ "$(log_count 'reloaded: generation')" -eq 10 ]
	log_has 'reloaded: generation 10, 2 workers'
	TINE_WAIT_TIMEOUT=15 wait_workers 2
	! log_has 'exited (on signal|with status)|did not finish' || false
}

access_lines_over() {
	[ "$(access_lines "$T/access.log")" -gt "$1" ]
}

@test "TERM under keep-alive and new-connection load loses no request" {
	local out
	write_conf "keepalive_timeout 5" "shutdown_timeout 10"
	start_tine
	wait_workers 2
	# As fast as the clients go: each one that reconnects at once
	# always has a connection in the listen queue when it closes.
	start_loadgen 5 "$PORT" -i 0
	wait_for access_lines_over 100
	kill -TERM "$TINE_PID"
	wait_master_exit 15
	[ "$TINE_STATUS" -eq 0 ]
	wait "$LG_PID" || true
	LG_PID=
	out=$(<"$T/lg.out")
	echo "loadgen: $out $(<"$T/lg.err")"
	[[ $out =~ answered=([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -gt 100 ]
	# Connects refused once the listeners are gone never sent a request.
	[[ $out == *" lost=0 bad=0 "* ]]
	! log_has 'exited (on signal|with status)|did not finish' || false
}

@test "HUP: 20 reloads in a row lose no request" {
	# The pool grows under the load; spare_timeout 1 shrinks it back.
	write_conf "keepalive_timeout 5" "shutdown_timeout 10" "spare_timeout 1"
	start_tine
	start_loadgen 8
	sleep 0.5
	hups 20 0.3
	check_loadgen
	[ "$(log_count 'reloaded: generation')" -eq 20 ]
	TINE_WAIT_TIMEOUT=15 wait_workers 2
	! log_has 'exited (on signal|with status)|did not finish' || false
}

# title PID: the process title of PID as /proc shows it, NULs as
# newlines; the padding NULs after it are cut.
title() {
	local t
	t=$(tr '\0' '\n' <"/proc/$1/cmdline") || return 1
	printf '%s' "$t"
}

@test "process titles say exactly what they are, nothing else" {
	local conf p
	write_conf "workers 1"
	conf=$(realpath "$CONF")
	start_tine
	wait_workers 1
	# The binary's path is longer than a worker's title: what is left of
	# it must not show.
	[ "$(title "$TINE_PID")" = "tine: master -f $conf" ]
	p=$(worker_pids)
	run -0 req /
	wait_for title_is "$p" "tine: worker [idle]"
}

# title_is PID TITLE
title_is() {
	[ "$(title "$1")" = "$2" ]
}

@test "HUP: a changed pidfile is created, then the old one removed" {
	write_conf
	start_tine
	[ "$(<"$T/tine.pid")" = "$TINE_PID" ]
	write_conf "pidfile $T/new.pid"
	kill -HUP "$TINE_PID"
	wait_for log_has 'reloaded: generation 1'
	log_has "pidfile is now $T/new.pid"
	[ "$(<"$T/new.pid")" = "$TINE_PID" ]
	[ ! -e "$T/tine.pid" ]
	# tine -s reads the new one, and the master holds its lock.
	run -0 "$TINE_BIN" -s reopen -f "$CONF"
	wait_for log_has 'logs reopened'
	stop_tine
	[ "$TINE_STATUS" -eq 0 ]
	[ ! -e "$T/new.pid" ]
}

@test "HUP: a pidfile that cannot be created is logged, the old one kept" {
	write_conf
	start_tine
	write_conf "pidfile $T/missing/new.pid"
	kill -HUP "$TINE_PID"
	wait_for log_has 'reloaded: generation 1'
	log_has "\[warn\] .*pidfile $T/missing/new.pid: keeping $T/tine.pid: No such file or directory"
	[ "$(<"$T/tine.pid")" = "$TINE_PID" ]
	[ ! -e "$T/missing" ]
	stop_tine
	[ "$TINE_STATUS" -eq 0 ]
	[ ! -e "$T/tine.pid" ]
}

@test "HUP: a config file swapped for a FIFO is refused at once; the master reaps and stops" {
	local conf victim
	write_conf
	conf=$(realpath "$CONF")
	start_tine
	wait_workers 2
	# No writer: an open that waited for one would hang the master.
	rm "$CONF"
	mkfifo "$CONF"
	kill -HUP "$TINE_PID"
	wait_for log_has "\\] tine\\[$TINE_PID\\]: $conf: cannot open: not a regular file\$"
	wait_for log_has 'reload failed: keeping the current configuration$'
	victim=$(worker_pids | head -n 1)
	kill -KILL "$victim"
	wait_for log_has "worker $victim exited on signal 9\$"
	wait_workers 2
	run -0 req /
	[ "$output" = "hello tine" ]
	stop_tine
	[ "$TINE_STATUS" -eq 0 ]
}

@test "HUP: a broken config is refused with FILE:LINE, the old one keeps serving" {
	write_conf
	start_tine
	wait_workers 2
	mapfile -t old < <(record_workers)
	printf 'other page\n' >"$T/www/other.html"
	write_conf "index other.html" "no_such_directive 1"
	line=$(grep -n '^no_such_directive' "$CONF" | cut -d: -f1)
	kill -HUP "$TINE_PID"
	wait_for log_has 'reload failed: keeping the current configuration'
	grep -F "$CONF:$line: " "$T/error.log" | grep -q no_such_directive
	! log_has 'reloaded:' || false
	pid_alive "$TINE_PID"
	run -0 req /
	[ "$output" = "hello tine" ]
	# Same workers, same processes, no new generation.
	mapfile -t now < <(record_workers)
	[ "${now[*]}" = "${old[*]}" ]
	[ "$(recorded_alive "${old[@]}" | grep -c .)" -eq 2 ]
}

@test "HUP: an added listen address serves while the old one never stops; a removed one stops" {
	PORT2=$(free_port)
	write_conf "keepalive_timeout 5"
	start_tine
	! port_listening "$PORT2" || false
	start_loadgen 4
	sleep 0.5
	write_conf "keepalive_timeout 5" "listen 127.0.0.1:$PORT2"
	kill -HUP "$TINE_PID"
	wait_for port_listening "$PORT2" "$TINE_PID"
	run -0 req "http://127.0.0.1:$PORT2/"
	[ "$output" = "hello tine" ]
	check_loadgen
	run -0 req /
	[ "$output" = "hello tine" ]

	# Remove the first address: it stops once the old generation is gone.
	mapfile -t old < <(record_workers)
	start_loadgen 3 "$PORT2"
	write_conf --no-default listen "keepalive_timeout 5" \
	    "listen 127.0.0.1:$PORT2"
	kill -HUP "$TINE_PID"
	wait_for log_has 'reloaded: generation 2'
	wait_for none_alive "${old[@]}"
	wait_for not_listening "$PORT"
	run -7 curl -sS --max-time 5 --noproxy '*' "http://127.0.0.1:$PORT/"
	[[ $output == *"onnect"* ]]
	check_loadgen
	run -0 req "http://127.0.0.1:$PORT2/"
	[ "$output" = "hello tine" ]
}

@test "HUP: a retiring worker answers the next keep-alive request with Connection: close" {
	write_conf "keepalive_timeout 10"
	start_tine
	wait_workers 2
	mapfile -t old < <(worker_pids)
	python3 "$T/ka.py" "$PORT" "$T/mark" "$T/go" 0 >"$T/ka.out" 2>&1 3>&- &
	KA_PID=$!
	wait_for test -e "$T/mark"
	kill -HUP "$TINE_PID"
	# The old worker holding the idle connection has the retire order.
	wait_for is_retiring "${old[@]}"
	touch "$T/go"
	wait "$KA_PID"
	KA_PID=
	cat "$T/ka.out"
	[[ $(sed -n 1p "$T/ka.out") == "r1 200 connection="*" body=b'hello tine\\n'" ]]
	[[ $(sed -n 1p "$T/ka.out") != *"connection=close "* ]]
	[ "$(sed -n 2p "$T/ka.out")" = "open after idle" ]
	[ "$(sed -n 3p "$T/ka.out")" = "r2 200 connection=close body=b'hello tine\\n'" ]
	[ "$(sed -n 4p "$T/ka.out")" = "eof" ]
	# Then that worker, the last of its generation, exits.
	wait_for none_retiring "${old[@]}"
	wait_workers 2
}

@test "HUP: an idle keep-alive connection on a retiring worker stays open until keepalive_timeout" {
	write_conf "keepalive_timeout 3"
	start_tine
	wait_workers 2
	mapfile -t old < <(worker_pids)
	python3 "$T/ka.py" "$PORT" "$T/mark" "$T/go" 1.5 >"$T/ka.out" 2>&1 \
	    3>&- &
	KA_PID=$!
	wait_for test -e "$T/mark"
	kill -HUP "$TINE_PID"
	wait_for is_retiring "${old[@]}"
	touch "$T/go"
	wait "$KA_PID"
	KA_PID=
	cat "$T/ka.out"
	[ "$(sed -n 2p "$T/ka.out")" = "open after idle" ]
	[ "$(sed -n 3p "$T/ka.out")" = "r2 200 connection=close body=b'hello tine\\n'" ]
	[ "$(sed -n 4p "$T/ka.out")" = "eof" ]
}

@test "HUP: a new root the workers cannot read is refused, the old config keeps serving" {
	use_public_dir
	mkdir "$T/www2"
	printf 'two\n' >"$T/www2/index.html"
	chmod 700 "$T/www2"
	write_conf "user nobody" "group nogroup"
	start_tine
	wait_workers 2
	mapfile -t old < <(record_workers)
	write_conf "user nobody" "group nogroup" "root www2"
	line=$(grep -n '^root' "$CONF" | cut -d: -f1)
	kill -HUP "$TINE_PID"
	wait_for log_has 'reload failed: keeping the current configuration'
	grep -qxF "$CONF:$line: root $T/www2 is not readable by the workers: Permission denied" \
	    <(sed 's/^.*tine\[[0-9]*\]: //' "$T/error.log")
	! log_has 'reloaded:|exited with status|no worker can run' || false
	pid_alive "$TINE_PID"
	run -0 req /
	[ "$output" = "hello tine" ]
	mapfile -t now < <(record_workers)
	[ "${now[*]}" = "${old[*]}" ]
}

# idle_workers_besides PID...: exactly 2 workers outside PID... are idle.
idle_workers_besides() {
	local p n=0
	for p in $(worker_pids); do
		[[ " $* " == *" $p "* ]] && continue
		{ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null |
		    grep -q 'worker \[idle\]' && n=$((n + 1))
	done
	[ "$n" -eq 2 ]
}

@test "CHLD: when no worker can run any more, the master stops once, cleanly, with status 1" {
	use_public_dir
	write_conf "user nobody" "group nogroup" "shutdown_timeout 3"
	start_tine
	wait_workers 2
	mapfile -t gen0 < <(worker_pids)
	mapfile -t kids < <(record_workers)
	# A retiring worker stays in the pool: stopped, it cannot finish.
	kill -STOP "${gen0[0]}"
	kill -HUP "$TINE_PID"
	wait_for log_has 'reloaded: generation 1'
	wait_for idle_workers_besides "${gen0[@]}"
	mapfile -t -O 2 kids < <(record_workers)
	# From now on no new worker can open the root.
	chmod 700 "$T/www"
	for p in $(worker_pids); do
		[[ " ${gen0[*]} " == *" $p "* ]] || kill -KILL "$p"
	done
	wait_master_exit 10
	[ "$TINE_STATUS" -eq 1 ]
	[ "$(log_count 'no worker can run; exiting')" -eq 1 ]
	[ "$(log_count 'cannot run; not respawning it')" -ge 1 ]
	log_has "worker ${gen0[0]} did not finish in time; killing it"
	[ ! -e "$T/tine.pid" ]
	none_alive "${kids[@]}"
}

# graceful_stop SIG: a slow 50 MiB download in flight survives SIG.
graceful_stop() {
	truncate -s 50M "$T/www/big.bin"
	write_conf "shutdown_timeout 10"
	start_tine
	wait_workers 2
	mapfile -t kids < <(record_workers)
	curl -sS --max-time 20 --noproxy '*' --limit-rate 20M \
	    -o "$T/big.out" -w '%{http_code} %{size_download}\n' \
	    "http://127.0.0.1:$PORT/big.bin" >"$T/curl.out" 2>&1 3>&- &
	CURL_PID=$!
	wait_for test -s "$T/big.out"
	kill "-$1" "$TINE_PID"
	wait_for log_has 'graceful stop'
	wait "$CURL_PID"
	CURL_PID=
	[ "$(<"$T/curl.out")" = "200 52428800" ]
	[ "$(stat -c %s "$T/big.out")" -eq 52428800 ]
	wait_master_exit 15
	[ "$TINE_STATUS" -eq 0 ]
	[ ! -e "$T/tine.pid" ]
	none_alive "${kids[@]}"
	log_has 'stopped$'
	! log_has 'did not finish|exited (on signal|with status)' || false
	run -7 curl -sS --max-time 5 --noproxy '*' "http://127.0.0.1:$PORT/"
	[[ $output == *"onnect"* ]]
}

@test "TERM: graceful stop finishes an in-flight download, exits 0, removes the pid file" {
	graceful_stop TERM
}

@test "QUIT: graceful stop finishes an in-flight download, exits 0, removes the pid file" {
	graceful_stop QUIT
}

@test "INT: fast stop ends the workers at once, in-flight or not" {
	truncate -s 50M "$T/www/big.bin"
	write_conf "shutdown_timeout 10"
	start_tine
	wait_workers 2
	mapfile -t kids < <(record_workers)
	curl -sS --max-time 20 --noproxy '*' --limit-rate 5M \
	    -o "$T/big.out" -w '%{http_code} %{size_download}\n' \
	    "http://127.0.0.1:$PORT/big.bin" >"$T/curl.out" 2>&1 3>&- &
	CURL_PID=$!
	wait_for test -s "$T/big.out"
	kill -INT "$TINE_PID"
	# Well before the download (10 s) or shutdown_timeout could end.
	wait_master_exit 3
	none_alive "${kids[@]}"
	[ ! -e "$T/tine.pid" ]
	log_has 'fast stop'
	run -7 curl -sS --max-time 5 --noproxy '*' "http://127.0.0.1:$PORT/"
	wait "$CURL_PID" && cs=0 || cs=$?
	CURL_PID=
	cat "$T/curl.out"
	# Cut short: 18 is a partial file, 56 a failure receiving data.
	[ "$cs" -eq 18 ] || [ "$cs" -eq 56 ]
	grep -qx "200 [0-9]*" "$T/curl.out"
	[ "$(stat -c %s "$T/big.out")" -lt 52428800 ]
}

@test "CHLD: a worker killed by a signal is replaced and logged with its signal" {
	write_conf
	start_tine
	wait_workers 2
	victim=$(worker_pids | head -n 1)
	kill -KILL "$victim"
	wait_for log_has "worker $victim exited on signal 9\$"
	wait_workers 2
	! worker_pids | grep -qx "$victim" || false
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "CHLD: a worker that exits unasked is replaced and logged with its status" {
	write_conf
	start_tine
	wait_workers 2
	victim=$(worker_pids | head -n 1)
	# A worker ends cleanly on TERM; the master did not ask for that.
	kill -TERM "$victim"
	wait_for log_has "worker $victim exited with status 0\$"
	wait_workers 2
	! worker_pids | grep -qx "$victim" || false
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "CHLD: a crash loop is throttled, logged, survived, and the pool recovers" {
	write_conf
	start_tine
	wait_workers 2
	declare -A seen=()
	# Kill every current worker every 50 ms for 4 s.
	end=$((SECONDS + 5))
	for ((i = 0; i < 80 && SECONDS < end; i++)); do
		for p in $(worker_pids); do
			seen[$p]=1
			kill -KILL "$p" 2>/dev/null || true
		done
		sleep 0.05
	done
	forks=${#seen[@]}
	deaths=$(log_count 'exited on signal 9$')
	echo "workers seen: $forks, deaths logged: $deaths"
	# Unthrottled, 80 rounds would see 2 new workers each: 160.
	[ "$forks" -lt 25 ]
	[ "$deaths" -ge 5 ]
	[ "$deaths" -lt 25 ]
	log_has 'crash loop'
	pid_alive "$TINE_PID"
	TINE_WAIT_TIMEOUT=25 wait_workers 2
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "TTIN adds a worker, TTOU removes one, never below one" {
	write_conf
	start_tine
	wait_workers 2
	kill -TTIN "$TINE_PID"
	wait_workers 3
	kill -TTOU "$TINE_PID"
	wait_workers 2
	kill -TTOU "$TINE_PID"
	wait_workers 1
	last=$(record_workers)
	kill -TTOU "$TINE_PID"
	kill -TTOU "$TINE_PID"
	# Nothing to wait for when nothing happens: give it a second.
	sleep 1
	worker_count_is 1
	[ "$(record_workers)" = "$last" ]
	run -0 req /
	[ "$output" = "hello tine" ]
	kill -TTIN "$TINE_PID"
	wait_workers 2
	! log_has 'exited (on signal|with status)' || false
}

@test "USR1: logs are reopened, and no access or error line is lost" {
	write_conf
	start_tine
	wait_workers 2
	for i in 1 2 3 4 5; do
		run -0 req "/?before=$i"
	done
	wait_for access_lines_are "$T/access.log" 5
	mv "$T/access.log" "$T/access.log.1"
	mv "$T/error.log" "$T/error.log.1"
	kill -USR1 "$TINE_PID"
	wait_for test -e "$T/error.log"
	wait_for log_has 'logs reopened'
	wait_for workers_write_to "$T/access.log"
	for i in 1 2 3 4 5 6 7; do
		run -0 req "/?after=$i"
	done
	wait_for access_lines_are "$T/access.log" 7
	[ "$(access_lines "$T/access.log.1")" -eq 5 ]
	[ "$(grep -c 'before=' "$T/access.log.1")" -eq 5 ]
	[ "$(grep -c 'after=' "$T/access.log")" -eq 7 ]
	grep -q 'started: 2 workers' "$T/error.log.1"
	! grep -q 'logs reopened' "$T/error.log.1" || false
	! log_has 'started' || false
	# The error log keeps working after the rotation.
	victim=$(worker_pids | head -n 1)
	kill -KILL "$victim"
	wait_for log_has "worker $victim exited on signal 9\$"
	! grep -q "worker $victim" "$T/error.log.1" || false
}

# stop_burst SIG...: sends the signals back to back; the master must
# exit 0 without leaving a worker behind.
stop_burst() {
	local s
	write_conf "shutdown_timeout 10"
	start_tine
	wait_workers 2
	mapfile -t kids < <(record_workers)
	# A stop can finish before the next signal is sent: then the master
	# is gone, which is what the checks below want.
	for s in "$@"; do
		kill "-$s" "$TINE_PID" 2>/dev/null || break
	done
	wait_master_exit 12
	[ "$TINE_STATUS" -eq 0 ]
	[ ! -e "$T/tine.pid" ]
	# Workers of every generation, also one started by the reload.
	none_alive "${kids[@]}"
	# No process, of any generation, holds the listening socket.
	! port_listening "$PORT" || false
	log_has 'stopped$'
	! log_has 'exited on signal (6|11)|did not finish' || false
}

@test "HUP then TERM at once: the stop wins cleanly" {
	stop_burst HUP TERM
}

@test "HUP, HUP, TERM at once: the stop wins cleanly" {
	stop_burst HUP HUP TERM
}

@test "HUP, QUIT, HUP at once: the stop wins cleanly" {
	stop_burst HUP QUIT HUP
}

@test "HUP: a burst of 20 reloads under load settles to N current workers" {
	# The pool grows under the load; spare_timeout 1 shrinks it back.
	write_conf "keepalive_timeout 5" "shutdown_timeout 10" "spare_timeout 1"
	start_tine
	wait_workers 2
	start_loadgen 3
	sleep 0.5
	for ((i = 0; i < 20; i++)); do
		kill -HUP "$TINE_PID"
	done
	check_loadgen
	pid_alive "$TINE_PID"
	TINE_WAIT_TIMEOUT=15 wait_workers 2
	gen=$(grep -oE 'reloaded: generation [0-9]+' "$T/error.log" |
	    tail -n 1 | grep -oE '[0-9]+$')
	[ "$gen" -ge 1 ]
	[ "$gen" -le 20 ]
	run -0 req /
	[ "$output" = "hello tine" ]
	! log_has 'exited (on signal|with status)|did not finish' || false
}
