#!/usr/bin/env bats
# log.bats: the access log (Combined Log Format, one line per request, no
# client byte can forge a line, flushed within a second) and the error log
# (timestamp, level, pid; a file, stderr or syslog).

load helpers

setup() {
	setup_tine_dir
	A=$T/access.log
}

teardown() {
	local rc=0 pid
	teardown_tine || rc=1
	# A start without -d that wrongly daemonized: stop it by its pid file,
	# only when that pid is a tine of ours.
	if [ -n "${T:-}" ] && [ -s "$T/tine.pid" ]; then
		pid=$(cat "$T/tine.pid")
		if pid_alive "$pid" &&
		    [ "$(readlink "/proc/$pid/exe")" = "$(realpath "$TINE_BIN")" ]; then
			echo "teardown: a daemonized tine ($pid) was left running" >&2
			kill -TERM "$pid"
			rc=1
		fi
	fi
	return "$rc"
}

# One CLF line: host, identities, [time], "request", status, bytes,
# "referer", "user agent"; quoted fields hold no bare quote.
CLF_TIME='\[[0-3][0-9]/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/[0-9]{4}:[0-2][0-9]:[0-5][0-9]:[0-6][0-9] [+-][0-9]{4}\]'
Q='"([^"\\]|\\.)*"'
CLF_LINE="^127\\.0\\.0\\.1 - - $CLF_TIME $Q [1-5][0-9]{2} ([0-9]+|-) $Q $Q\$"
ERR_LINE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}[+-][0-9]{4} \[(error|warn|info|debug)\] tine\[[0-9]+\]: '

nlines() {
	if [ -f "$1" ]; then
		wc -l <"$1"
	else
		echo 0
	fi
}

lines_are() {
	[ "$(nlines "$1")" -eq "$2" ]
}

# logged N: waits until $A has N lines, then checks it has no more.
logged() {
	wait_for lines_are "$A" "$1" || {
		echo "access log has $(nlines "$A") lines, want $1:" >&2
		cat "$A" >&2
		return 1
	}
}

# last_line: the last line of the access log.
last_line() {
	tail -n 1 "$A"
}

# all_clf: every line is one well-formed CLF line of printable ASCII.
all_clf() {
	local bad
	bad=$(grep -vE "$CLF_LINE" "$A") || true
	[ -z "$bad" ] || {
		echo "not CLF: $bad" >&2
		return 1
	}
	! LC_ALL=C grep -n '[^ -~]' "$A" || false
}

@test "a GET is one Combined Log Format line" {
	write_conf
	start_tine
	run -0 req /
	[ "$output" = "hello tine" ]
	logged 1
	[[ $(last_line) =~ ^127\.0\.0\.1\ -\ -\ $CLF_TIME\ \"GET\ /\ HTTP/1\.1\"\ 200\ 11\ \"-\"\ \"curl/[0-9][^\"]*\"$ ]]
	# The time is now (the local offset, as date prints it).
	[[ $(last_line) == *" $(date +%z)] "* ]]
}

@test "referer and user agent are logged" {
	write_conf
	start_tine
	run -0 req / -e 'http://ref.example/from?q=1' -A 'tine-test/1.0 (bats)'
	logged 1
	[[ $(last_line) == *'"GET / HTTP/1.1" 200 11 "http://ref.example/from?q=1" "tine-test/1.0 (bats)"' ]]
	# No User-Agent or Referer at all: "-".
	run -0 raw -e 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
	logged 2
	[[ $(last_line) == *'"GET / HTTP/1.1" 200 11 "-" "-"' ]]
	all_clf
}

@test "bytes are - when no body is sent (HEAD, 304)" {
	local etag
	write_conf
	start_tine
	run -0 req / -I
	etag=$(tr -d '\r' <<<"$output" | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
	[ -n "$etag" ]
	logged 1
	[[ $(last_line) == *'"HEAD / HTTP/1.1" 200 - "-" "curl/'* ]]
	run -0 req / -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag"
	[ "$output" = 304 ]
	logged 2
	[[ $(last_line) == *'"GET / HTTP/1.1" 304 - "-" "curl/'* ]]
	all_clf
}

@test "errors log their real status and body size" {
	write_conf
	start_tine
	run -0 req /nope -o /dev/null -w '%{http_code} %{size_download}'
	[[ $output == "404 "* ]]
	logged 1
	[[ $(last_line) == *"\"GET /nope HTTP/1.1\" 404 ${output#404 } \"-\" \"curl/"* ]]
	run -0 req / -o /dev/null -w '%{http_code} %{size_download}' -X DELETE
	[[ $output == "405 "* ]]
	logged 2
	[[ $(last_line) == *"\"DELETE / HTTP/1.1\" 405 ${output#405 } \"-\" \"curl/"* ]]
	run -0 raw -e 'GARBAGE\r\n\r\n'
	[[ ${lines[0]} == "HTTP/1.1 400 "* ]]
	logged 3
	[[ $(last_line) =~ \"GARBAGE\"\ 400\ [0-9]+\ \"-\"\ \"-\"$ ]]
	all_clf
}

@test "a head not received within header_timeout is logged as 408" {
	write_conf "header_timeout 1"
	start_tine
	# Half a head; tine answers 408 after 1 s and closes (EOF: exit 0).
	run -0 raw -t 4000 -e 'GET / HTTP/1.1\r\nHost: x\r\n'
	[[ ${lines[0]} == "HTTP/1.1 408 "* ]]
	logged 1
	[[ $(last_line) =~ \"[^\"]*\"\ 408\ [0-9]+\ \"-\"\ \"-\"$ ]]
	run -0 raw -t 4000 -e 'GET / HT'
	[[ ${lines[0]} == "HTTP/1.1 408 "* ]]
	logged 2
	[[ $(last_line) =~ \"[^\"]*\"\ 408\ [0-9]+\ \"-\"\ \"-\"$ ]]
	all_clf
}

@test "no client byte can forge a log line" {
	write_conf
	start_tine
	# An encoded newline stays encoded.
	run -0 req /a%0A127.0.0.1%20-%20-%20x -o /dev/null
	logged 1
	[[ $(last_line) == *'"GET /a%0A127.0.0.1%20-%20-%20x HTTP/1.1" 404 '* ]]
	# A quote and a backslash in the User-Agent and the Referer.
	run -0 raw -e 'GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: evil" 200 - "x\\\r\nReferer: r"\\\r\nConnection: close\r\n\r\n'
	logged 2
	[[ $(last_line) == *' 200 11 "r\"\\" "evil\" 200 - \"x\\"' ]]
	# Bytes >= 0x80 in a header value (obs-text): octal.
	run -0 raw -e 'GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: caf\xc3\xa9\x80\xff\r\nConnection: close\r\n\r\n'
	logged 3
	[[ $(last_line) == *' 200 11 "-" "caf\303\251\200\377"' ]]
	# A backslash, control bytes and high bytes in the request line.
	run -0 raw -e 'GET /a\\b\x01\x1b[31m\x7f\x80\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
	[[ ${lines[0]} == "HTTP/1.1 400 "* ]]
	logged 4
	[[ $(last_line) == *'"GET /a\\b\001\033[31m\177\200\377 HTTP/1.1" 400 '* ]]
	# A tab in the request line.
	run -0 raw -e 'GET /a\tb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
	logged 5
	[[ $(last_line) == *'"GET /a\tb HTTP/1.1" 400 '* ]]
	# A bare CR or LF ends no log line.
	run -0 raw -e 'GET /a\rX HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
	logged 6
	run -0 raw -e 'GET /a\nX HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
	logged 7
	all_clf
}

@test "lines are flushed within about a second of an idle worker" {
	local rp
	write_conf "workers 1" "keepalive_timeout 30"
	start_tine
	# The connection stays open (the worker idles in keep-alive, nothing
	# else happens): the buffered line must still reach the file.
	raw -t 8000 -e 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >"$T/raw.out" 3>&- &
	rp=$!
	TINE_WAIT_TIMEOUT=3 logged 1
	# Written while the connection was still open.
	pid_alive "$rp"
	kill "$rp"
	wait "$rp" || true
	[[ $(head -n 1 "$T/raw.out") == "HTTP/1.1 200 OK"* ]]
	[[ $(last_line) == *'"GET / HTTP/1.1" 200 11 "-" "-"' ]]
}

@test "many requests on one connection: one line each, in order" {
	local i req=
	write_conf "workers 1"
	start_tine
	for ((i = 1; i <= 50; i++)); do
		req+="GET /r$i HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"
	done
	req+='GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
	run -0 raw -c -e "$req"
	logged 51
	for ((i = 1; i <= 50; i++)); do
		[[ $(sed -n "${i}p" "$A") == *"\"GET /r$i HTTP/1.1\" 404 "* ]]
	done
	all_clf
}

@test "access_log off writes nothing" {
	write_conf "access_log off"
	start_tine
	run -0 req /
	run -0 req /nope
	run -0 raw -e 'GARBAGE\r\n\r\n'
	# Wait past the flush interval, bounded: nothing may appear.
	wait_for grep -q "tine 0.1.0 started" "$T/error.log"
	sleep 1.5
	[ ! -e "$A" ]
	[ ! -e "$T/off" ]
	[ -z "$(find "$T" -name 'access*')" ]
}

@test "error log lines carry timestamp, level and pid" {
	write_conf
	start_tine
	wait_for grep -qF "[info] tine[$TINE_PID]: tine 0.1.0 started: 2 workers" "$T/error.log"
	kill -USR1 "$TINE_PID"
	wait_for grep -qF "[info] tine[$TINE_PID]: logs reopened" "$T/error.log"
	stop_tine
	[ "$TINE_STATUS" -eq 0 ]
	grep -qF "[info] tine[" "$T/error.log"
	grep -q ': stopped$' "$T/error.log"
	local bad
	bad=$(grep -vE "$ERR_LINE" "$T/error.log") || true
	[ -z "$bad" ]
	# The timestamp is local time with its offset.
	local z
	z=$(date +%z)
	grep -qE "^[0-9-]{10}T[0-9:]{8}[${z:0:1}]${z:1} " "$T/error.log"
}

@test "worker errors are tagged with the worker's pid and role" {
	# sandbox off: only then do workers reopen the logs themselves.
	write_conf "access_log $T/logs/access.log" "sandbox off"
	mkdir "$T/logs"
	start_tine
	wait_workers 2
	# Take the directory away and rotate: each worker's reopen fails,
	# and it keeps writing to the descriptor it has.
	rm -rf "$T/logs"
	kill -USR1 "$TINE_PID"
	wait_for grep -qE "\\[warn\\] tine\\[[0-9]+\\]: worker: $CONF:[0-9]+: access_log \"$T/logs/access.log\": No such file or directory; keeping the descriptor open on it" "$T/error.log"
	local bad
	bad=$(grep -vE "$ERR_LINE" "$T/error.log") || true
	[ -z "$bad" ]
	# Serving goes on.
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "stderr that is the journal: lines carry a priority, no timestamp" {
	# systemd's JOURNAL_STREAM names the stream by device and inode; a
	# file stands in for it. Its value is inherited by processes whose
	# stderr is elsewhere: those lines stay as they were.
	write_conf --no-default error_log "access_log $T/logs/access.log" \
	    "sandbox off"
	mkdir "$T/logs"
	: >"$T/stderr"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$T/stderr") start_tine
	wait_workers 2
	rm -rf "$T/logs"
	kill -USR1 "$TINE_PID"
	wait_for grep -qE "^<4>\\[warn\\] tine\\[[0-9]+\\]: worker: $CONF:[0-9]+: access_log \"$T/logs/access.log\": No such file or directory; keeping the descriptor open on it$" "$T/stderr"
	local pid=$TINE_PID bad
	stop_tine
	[ "$TINE_STATUS" -eq 0 ]
	grep -qx "<6>\\[info\\] tine\\[$pid\\]: tine 0.1.0 started: 2 workers.*" "$T/stderr"
	grep -qx "<6>\\[info\\] tine\\[$pid\\]: stopped" "$T/stderr"
	bad=$(grep -vE '^<[3467]>\[(error|warn|info|debug)\] tine\[[0-9]+\]: ' "$T/stderr") || true
	[ -z "$bad" ]
	# Not the stream named: the same lines, stamped, without a priority.
	: >"$T/stderr"
	mkdir "$T/logs"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$CONF") start_tine
	stop_tine
	grep -qE "${ERR_LINE}stopped\$" "$T/stderr"
	run -1 grep '^<' "$T/stderr"
	: >"$T/stderr"	# all checked: nothing for teardown to report
}

@test "error_log syslog: no crash, nothing on stderr, serves" {
	write_conf "error_log syslog"
	start_tine
	run -0 req /
	[ "$output" = "hello tine" ]
	kill -USR1 "$TINE_PID"
	run -0 req /
	[ "$output" = "hello tine" ]
	stop_tine
	[ "$TINE_STATUS" -eq 0 ]
	[ ! -s "$T/stderr" ]
	[ ! -e "$T/syslog" ] && [ ! -e "$T/error.log" ]
	if [ ! -S /dev/log ]; then
		skip "no /dev/log here: the syslog lines cannot be read back"
	fi
	if command -v journalctl >/dev/null; then
		wait_for bash -c 'journalctl -q -t tine --since "-1min" | grep -q "tine 0.1.0 started"'
	else
		skip "no journalctl to read the syslog lines back"
	fi
}

@test "an access log that cannot be opened fails the start" {
	local ca
	write_conf "access_log $T/nodir/access.log"
	ca=$(realpath "$CONF")
	run -1 --separate-stderr timeout 20 "$TINE_BIN" -d -f "$CONF" 3>&-
	[ "$stderr" = "$ca:7: access_log \"$T/nodir/access.log\": cannot create in \"$T/nodir\": No such file or directory" ]
	! port_listening "$PORT" || false
	[ ! -e "$T/tine.pid" ]
	# Daemonizing too: the caller sees the failure.
	run -1 --separate-stderr timeout 20 "$TINE_BIN" -f "$CONF" 3>&-
	[ "$stderr" = "$ca:7: access_log \"$T/nodir/access.log\": cannot create in \"$T/nodir\": No such file or directory" ]
	[ ! -e "$T/tine.pid" ]
}

@test "an access log that is a directory fails the start" {
	mkdir "$A"
	write_conf
	run -1 --separate-stderr timeout 20 "$TINE_BIN" -d -f "$CONF" 3>&-
	[ "$stderr" = "$(realpath "$CONF"):7: access_log \"$A\": is a directory" ]
	! port_listening "$PORT" || false
}

@test "an error log that cannot be opened fails the start" {
	write_conf "error_log $T/nodir/error.log"
	run -1 --separate-stderr timeout 20 "$TINE_BIN" -d -f "$CONF" 3>&-
	[ "$stderr" = "$(realpath "$CONF"):7: error_log \"$T/nodir/error.log\": cannot create in \"$T/nodir\": No such file or directory" ]
	! port_listening "$PORT" || false
}

@test "FIFO access log with a slow reader: whole lines only, and every line lost is reported" {
	local answered bad got dropped reader
	mkfifo "$T/access.fifo"
	write_conf "workers 4" "access_log $T/access.fifo"
	# The reader takes 4 KiB every 20 ms. It holds the FIFO open for
	# writing too until the first bytes arrive, so that it sees the end
	# only when tine's descriptors are all closed.
	timeout 60 python3 -c '
import os, sys, time
path, out, ready = sys.argv[1:4]
hold = os.open(path, os.O_RDWR | os.O_NONBLOCK)
fd = os.open(path, os.O_RDONLY)
open(ready, "w").close()
with open(out, "wb") as f:
    while True:
        b = os.read(fd, 4096)
        if hold is not None:
            os.close(hold)
            hold = None
        if not b:
            break
        f.write(b)
        f.flush()
        time.sleep(0.02)
' "$T/access.fifo" "$T/got" "$T/ready" 3>&- &
	reader=$!
	wait_for test -e "$T/ready"
	start_tine
	wait_workers 4
	# 4 clients of 300 keep-alive requests, each path its own; every
	# 50th line is longer than PIPE_BUF (each byte of Referer and
	# User-Agent logged as 4). Prints the number of responses read.
	answered=$(timeout 60 python3 - "$PORT" <<'PY'
import socket, sys, threading
port = int(sys.argv[1])
done = [0] * 4
def run(k):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    for i in range(300):
        if i % 50 == 0:
            s.sendall(b"GET /c%d-r%04d-%s HTTP/1.1\r\nHost: a\r\n"
                      b"Referer: %s\r\nUser-Agent: %s\r\n\r\n"
                      % (k, i, b"y" * 2000, b"\x80" * 255, b"\x80" * 255))
        else:
            s.sendall(b"GET /c%d-r%04d-%s HTTP/1.1\r\nHost: a\r\n\r\n"
                      % (k, i, b"x" * 300))
        if not f.readline().startswith(b"HTTP/1.1 404 "):
            return
        length = 0
        while True:
            h = f.readline()
            if h in (b"\r\n", b""):
                break
            name, _, value = h.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        f.read(length)
        done[k] += 1
ts = [threading.Thread(target=run, args=(k,)) for k in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(sum(done))
PY
)
	[ "$answered" -eq 1200 ]
	stop_tine
	wait "$reader"
	got=$(grep -c '' "$T/got")
	# A whole line each: no part of a line cut off and none spliced
	# with another worker's; one longer than PIPE_BUF is cut to
	# PIPE_BUF bytes ending in "...".
	bad=$(grep -vE '^127\.0\.0\.1 - - \[[^]]+\] "GET /c[0-3]-r[0-9]{4}-(x{300} HTTP/1\.1" 404 [0-9]+ "-" "-"|y{2000} HTTP/1\.1" 404 [0-9]+ "[\\0-7" ]*\.\.\.)$' "$T/got" |
	    head -n 3 | cut -c 1-100) || true
	[ -z "$bad" ] || {
		printf 'not one whole line:\n%s\n' "$bad" >&2
		return 1
	}
	run -1 grep -E '" 404 .*" 404 ' "$T/got"
	run -0 awk 'length($0) > 4095 || (/\.\.\.$/ && length($0) != 4095)' "$T/got"
	[ -z "$output" ]
	# Lost lines are all reported, at the latest by the exiting worker.
	dropped=$(grep -oE 'its reader does not keep up; [0-9]+ lines dropped since the last report$' "$T/error.log" |
	    awk '{ n += $7 } END { print n + 0 }')
	[ "$dropped" -gt 0 ]
	[ $((got + dropped)) -eq "$answered" ] || {
		echo "received $got + reported dropped $dropped != $answered" >&2
		return 1
	}
}
