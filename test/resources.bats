#!/usr/bin/env bats
# resources.bats: running short of what the machine gives. The descriptor
# limit is raised to its hard limit at start; a worker out of descriptors
# backs off instead of spinning on accept() and serves again once
# descriptors are back; a full disk or an unwritable log never stops
# serving, and a log that cannot be written is reported once per
# interval, not once per request.

load helpers

setup() {
	setup_tine_dir
	CURL_PIDS=()
	SMALL=
}

teardown() {
	local rc=0 p
	for p in "${CURL_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	teardown_tine || rc=1
	# The tmpfs this test mounted, once tine no longer holds files on it.
	if [ -n "$SMALL" ] && mountpoint -q "$SMALL"; then
		umount "$SMALL" || umount -l "$SMALL" || rc=1
	fi
	return "$rc"
}

# nofile PID: "soft hard" of PID's descriptor limit.
nofile() {
	awk '/^Max open files/ { print $4, $5 }' "/proc/$1/limits"
}

# cpu_ticks PID: user plus system time of PID, in clock ticks.
cpu_ticks() {
	local stat
	local -a f
	read -r stat <"/proc/$1/stat"
	read -r -a f <<<"${stat##*) }"
	echo $((f[11] + f[12]))
}

# lowest_free_fd PID: the descriptor number PID's next open() would get.
lowest_free_fd() {
	local fd=0
	while [ -e "/proc/$1/fd/$fd" ]; do
		fd=$((fd + 1))
	done
	echo "$fd"
}

worker_is_idle() {
	tr '\0' ' ' <"/proc/$1/cmdline" | grep -q 'worker \[idle\]'
}

@test "RLIMIT_NOFILE: a lowered soft limit is raised to the hard limit" {
	local hard p
	hard=$(ulimit -Hn)
	[ "$hard" != unlimited ] && [ "$hard" -gt 256 ] ||
		skip "hard descriptor limit $hard"
	ulimit -Sn 256
	write_conf
	start_tine
	wait_workers 2
	for p in "$TINE_PID" $(worker_pids); do
		echo "$p: $(nofile "$p")"
		[ "$(nofile "$p")" = "$hard $hard" ]
	done
}

@test "EMFILE on accept: the worker backs off, logs once, and serves when descriptors are back" {
	local w low hard t0 t1 i p code
	command -v prlimit >/dev/null || skip "no prlimit"
	# max_workers 1: the pool may not grow around the starved worker.
	write_conf "workers 1" "max_workers 1"
	start_tine
	wait_workers 1
	w=$(worker_pids)
	run -0 req /
	wait_for worker_is_idle "$w"
	# The worker may open no descriptor more. It waits in accept() with
	# one already reserved: ALRM (the log flush timer) interrupts that
	# wait, and every accept() from then on fails with EMFILE.
	low=$(lowest_free_fd "$w")
	hard=$(nofile "$w" | cut -d' ' -f2)
	prlimit --pid "$w" --nofile="$low:$hard"
	kill -ALRM "$w"
	wait_for grep -q 'accept: Too many open files' "$T/error.log"
	for ((i = 0; i < 5; i++)); do
		curl -sS --max-time 20 --noproxy '*' -o /dev/null \
		    -w '%{http_code}\n' "http://127.0.0.1:$PORT/" \
		    >"$T/code.$i" 2>&1 3>&- &
		CURL_PIDS+=($!)
	done
	# Two seconds of EMFILE: a spinning worker burns them all (200
	# ticks at 100 Hz); backing off ACCEPT_BACKOFF_MS at a time, next
	# to nothing.
	t0=$(cpu_ticks "$w")
	sleep 2
	t1=$(cpu_ticks "$w")
	echo "worker CPU over 2 s of EMFILE: $((t1 - t0)) ticks"
	[ $((t1 - t0)) -lt 50 ]
	# The queued clients still wait: nothing was answered or dropped.
	for ((i = 0; i < 5; i++)); do
		[ ! -s "$T/code.$i" ]
	done
	prlimit --pid "$w" --nofile="$hard:$hard"
	for p in "${CURL_PIDS[@]}"; do
		wait "$p"
	done
	CURL_PIDS=()
	for ((i = 0; i < 5; i++)); do
		code=$(cat "$T/code.$i")
		[ "$code" = 200 ]
	done
	# The same worker, and one error line for the whole episode.
	[ "$(worker_pids)" = "$w" ]
	cat "$T/error.log"
	[ "$(grep -c 'accept' "$T/error.log")" -eq 1 ]
}

# burst: 2 s of loadgen (8 keep-alive, 4 new-connection clients); fails
# unless every request was answered.
burst() {
	run -0 "$TINE_TOOLS/loadgen" -p "$PORT" -k 8 -n 4 -d 2000
	echo "loadgen: $output"
	[[ $output =~ answered=([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -gt 100 ]
	[[ $output == *" lost=0 bad=0 connect_errors=0 "* ]]
}

@test "an access log on a full device: all served, one error line per worker" {
	# max_workers 2: one line per worker, and the pool stays two.
	write_conf "access_log /dev/full" "max_workers 2"
	start_tine
	wait_workers 2
	burst
	# Each worker flushes at least once a second.
	wait_for grep -qE 'access log: write( \([0-9]+ lines dropped[^)]*\))?: No space left on device' \
	    "$T/error.log"
	sleep 1.5
	burst
	sleep 1.5
	cat "$T/error.log"
	# Hundreds of failed flushes, at most one line per worker (the
	# interval is LOG_ERROR_INTERVAL_S, 60 s).
	[ "$(grep -c 'access log' "$T/error.log")" -le 2 ]
	[ "$(grep -c 'error' "$T/error.log")" -le 2 ]
	[ "$(worker_pids | wc -l)" -eq 2 ]
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "an access log on a filesystem that fills up: served throughout, logging resumes once there is room" {
	[ "$(id -u)" = 0 ] || skip "mounting a tmpfs needs root"
	SMALL=$T/small
	mkdir "$SMALL"
	mount -t tmpfs -o size=64k,mode=755 tmpfs "$SMALL" ||
		{ SMALL=; skip "cannot mount a tmpfs"; }
	write_conf "access_log $SMALL/access.log" "max_workers 2"
	start_tine
	wait_workers 2
	# Fill what is left of the 64 KiB.
	head -c 1m /dev/zero >"$SMALL/fill" 2>/dev/null || true
	burst
	wait_for grep -qE 'access log: write( \([0-9]+ lines dropped[^)]*\))?: No space left on device' \
	    "$T/error.log"
	burst
	rm "$SMALL/fill"
	# Room again: the next lines reach the log.
	: >"$SMALL/access.log"
	run -0 req /resumed
	wait_for grep -q '"GET /resumed HTTP/1.1" 404 ' "$SMALL/access.log"
	cat "$T/error.log"
	[ "$(grep -c 'access log' "$T/error.log")" -le 2 ]
}

@test "an error log on a full device: tine starts, respawns a killed worker, serves" {
	local victim
	write_conf "error_log /dev/full"
	start_tine
	wait_workers 2
	# The master's "worker PID exited on signal 9" cannot be written.
	victim=$(worker_pids | head -n 1)
	kill -KILL "$victim"
	wait_for eval '! worker_pids | grep -qx "$victim"'
	wait_workers 2
	pid_alive "$TINE_PID"
	run -0 req /
	[ "$output" = "hello tine" ]
}
