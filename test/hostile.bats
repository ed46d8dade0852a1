#!/usr/bin/env bats
# hostile.bats: clients that misbehave (test/tools/hostile.py): connection
# floods, resets in the middle of a response, random bytes, one-byte
# writes, half-closed sockets, heads trickled forever and a client that
# stops reading. None may crash a worker (same worker pids, no "exited"
# line in the error log), hold it past its deadlines (every connection
# ends, and a normal request is answered afterwards) or leak a descriptor
# (each idle worker has the descriptors it had before).

load helpers

setup() {
	setup_tine_dir
	HOSTILE=$BATS_TEST_DIRNAME/tools/hostile.py
	STALL_PID=
	truncate -s 64M "$T/www/big.bin"
}

teardown() {
	if [ -n "${STALL_PID:-}" ]; then
		kill "$STALL_PID" 2>/dev/null || true
		wait "$STALL_PID" 2>/dev/null || true
	fi
	teardown_tine
}

# serve_short [LINE...]: two workers with one-second deadlines, so that
# whatever a pattern leaves behind ends within seconds. The pool is held
# at two (max_workers 2): the same two workers must take every pattern.
serve_short() {
	write_conf "header_timeout 1" "keepalive_timeout 1" "send_timeout 1" \
	    "max_workers 2" "$@"
	start_tine
	wait_workers 2
}

# fd_kinds PID: "sockets others served" among PID's open descriptors,
# served being files of the document root (the open-file cache's).
fd_kinds() {
	local links
	links=$(readlink /proc/"$1"/fd/* 2>/dev/null) || true
	echo "$(grep -c '^socket:' <<<"$links")" \
	    "$(grep -v '^socket:' <<<"$links" | grep -vc "^$T/www/")" \
	    "$(grep -c "^$T/www/" <<<"$links")"
}

# no_served_open: no worker keeps a document-root file open (an idle
# worker closes its cached files after 2 s).
no_served_open() {
	! fd_snapshot | grep -qv ' 0$'
}

# fd_snapshot: each worker's "pid sockets others served", one a line.
fd_snapshot() {
	local p
	for p in $(worker_pids); do
		echo "$p $(fd_kinds "$p")"
	done
}

# baseline: warms both workers up on the paths the patterns use, waits
# until they are idle, then records the workers (WORKERS) and their
# descriptors (FDS_BEFORE).
baseline() {
	local i
	for ((i = 0; i < 8; i++)); do
		req / -o /dev/null
		req /big.bin -I -o /dev/null
	done
	wait_for workers_idle
	TINE_WAIT_TIMEOUT=10 wait_for no_served_open
	mapfile -t WORKERS < <(record_workers)
	FDS_BEFORE=$(fd_snapshot)
	echo "before: $(tr '\n' ',' <<<"$FDS_BEFORE")"
}

# workers_idle: every worker waits in accept (its title says idle).
workers_idle() {
	local p
	for p in $(worker_pids); do
		{ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null |
		    grep -q 'worker \[idle\]' || return 1
	done
}

fds_as_before() {
	[ "$(fd_snapshot)" = "$FDS_BEFORE" ]
}

# unharmed: the same workers as at baseline, none died, all idle again
# with the descriptors they had, and a plain request is answered.
unharmed() {
	local alive
	alive=$(recorded_alive "${WORKERS[@]}" | wc -l)
	[ "$alive" -eq "${#WORKERS[@]}" ] || {
		echo "workers before: ${WORKERS[*]}, now: $(worker_pids | xargs)" >&2
		return 1
	}
	if grep -E 'exited (on signal|with status)|signal [0-9]' \
	    "$T/error.log" >&2; then
		return 1
	fi
	TINE_WAIT_TIMEOUT=20 wait_for fds_as_before || {
		echo "descriptors before: $FDS_BEFORE" >&2
		echo "descriptors now: $(fd_snapshot)" >&2
		return 1
	}
	run -0 req /
	[ "$output" = "hello tine" ]
}

# access_count_is N ERE: the access log has exactly N matching lines.
access_count_is() {
	[ "$(grep -cE -- "$2" "$T/access.log")" -eq "$1" ]
}

# hostile PATTERN ARGS...: runs the pattern on $PORT; its summary line
# is in $output.
hostile() {
	run -0 python3 "$HOSTILE" "$1" -p "$PORT" "${@:2}"
	echo "$output"
}

@test "a flood of 2000 connections closed at once, half with resets" {
	serve_short
	baseline
	hostile flood -n 2000 -w 5
	[[ $output == *" errors=0" ]]
	unharmed
}

@test "200 downloads reset (SO_LINGER 0) in the middle of the body" {
	serve_short
	baseline
	hostile reset -n 200 -c 20 -u /big.bin -w 10
	[[ $output == *" answered=200 closed=0 open=0 errors=0" ]]
	unharmed
	# Each reset shows in the access log as a 200 that was cut short.
	wait_for grep -q '"GET /big.bin HTTP/1.1" 200 ' "$T/access.log"
	! grep '"GET /big.bin HTTP/1.1" 200 67108864 ' "$T/access.log" || false
}

@test "200 connections sending random bytes, then an empty line or EOF" {
	serve_short
	baseline
	hostile random -n 200 -c 20 -w 10
	[[ $output == *" open=0 errors=0" ]]
	unharmed
}

@test "one byte per write: 50 connections of three requests each" {
	serve_short
	baseline
	# Two at a time, one for each worker: with more waiting, the pool
	# is under pressure at its cap and may answer a request with
	# Connection: close when the next one has not begun to arrive
	# (pool.bats covers that); here every connection gets its three.
	hostile trickle -n 50 -c 2 -u /index.html -w 10
	[[ $output == *" answered=50 closed=0 open=0 errors=0" ]]
	unharmed
}

@test "half-closed sockets: before, inside and after the head" {
	serve_short
	baseline
	hostile halfclose -n 100 -c 10 -w 10
	# A whole request before the half-close is answered (a quarter of
	# them); a partial head is closed without an answer.
	[[ $output == *" answered=25 closed=75 open=0 errors=0" ]]
	unharmed
}

@test "slowloris: heads trickled without end get 408 at header_timeout" {
	serve_short
	baseline
	hostile slowloris -n 6 -c 6 -w 15
	[[ $output == *" answered=6 closed=0 open=0 errors=0" ]]
	unharmed
	wait_for access_count_is 6 '" 408 '
	cat "$T/access.log"
}

# stall.py PORT PATH SENT GO: requests PATH with a 4 KiB receive buffer,
# creates SENT, and reads nothing until the file GO exists (at most
# 30 s); then reads to the end and prints "eof BODYBYTES" or "reset
# BODYBYTES".
write_stall() {
	cat >"$T/stall.py" <<'EOF'
import os, socket, sys, time
port, path, sent, go = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(30)
s.connect(("127.0.0.1", port))
s.sendall(b"GET %s HTTP/1.1\r\nHost: h\r\n\r\n" % path.encode())
open(sent, "w").close()
for _ in range(600):
    if os.path.exists(go):
        break
    time.sleep(0.05)
head, n, end = b"", 0, "eof"
try:
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        if b"\r\n\r\n" in head:
            n += len(b)
        else:
            head += b
            n = len(head.partition(b"\r\n\r\n")[2])
except ConnectionResetError:
    end = "reset"
print(end, n)
EOF
}

# worker_sending: the only worker says it is sending.
worker_sending() {
	tr '\0' ' ' <"/proc/$(worker_pids)/cmdline" | grep -q 'worker \[sending /big.bin\]'
}

@test "send_timeout 1: a client that stops reading is cut off, the worker freed, the bytes sent logged" {
	write_stall
	# max_workers 1: no second worker can take the next request.
	write_conf "workers 1" "max_workers 1" "send_timeout 1"
	start_tine
	wait_workers 1
	python3 "$T/stall.py" "$PORT" /big.bin "$T/sent" "$T/go" \
	    >"$T/stall.out" 2>&1 3>&- &
	STALL_PID=$!
	wait_for test -e "$T/sent"
	wait_for worker_sending
	# The only worker is stuck on the stalled download until
	# send_timeout cuts it off; then it answers this one. Without a send
	# timeout it would wait for ever (curl gives up after 20 s).
	run -0 req /index.html --max-time 20
	[ "$output" = "hello tine" ]
	touch "$T/go"
	wait "$STALL_PID"
	STALL_PID=
	cat "$T/stall.out"
	read -r end got <"$T/stall.out"
	[ "$got" -gt 0 ]
	[ "$got" -lt 67108864 ]
	# The log line has the bytes that left, not the Content-Length; when
	# the connection ended with a FIN the client got exactly those.
	wait_for grep -q '"GET /big.bin HTTP/1.1" 200 ' "$T/access.log"
	logged=$(awk '/"GET \/big.bin HTTP\/1.1" 200 / { print $10 }' \
	    "$T/access.log")
	echo "logged $logged, client got $got ($end)"
	[ "$logged" -lt 67108864 ]
	if [ "$end" = eof ]; then
		[ "$logged" -eq "$got" ]
	fi
}
