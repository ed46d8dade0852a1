#!/usr/bin/env bats
# tools.bats: checks the suite's own instruments (rawreq, loadgen and the
# helpers) against small python3 servers and a fake tine, so that they are
# known good before they judge tine. Needs no tine binary.

load helpers

setup() {
	setup_tine_dir
	PY_PID=
	if [ ! -x "$TINE_TOOLS/rawreq" ] || [ ! -x "$TINE_TOOLS/loadgen" ]; then
		echo "no tools in $TINE_TOOLS: run make tools" >&2
		return 1
	fi
	write_servers
}

teardown() {
	local rc=0
	stop_py || rc=1
	teardown_tine || rc=1
	return "$rc"
}

# srv.py MODE PORT ROOT [ARG]: the python3 servers below.
#   http11 [idle_s]  SimpleHTTPRequestHandler speaking HTTP/1.1 (keeps
#                    connections alive; idle_s closes idle ones)
#   echo             reads to EOF, sends the bytes back, closes
#   count            reads to EOF, answers "reads=N bytes=N\n", closes
#   drop             reads the request, closes without an answer
#   reset            reads the request, closes with a RST
# fake_tine -d -f CONF: a stand-in master with 2 forked workers.
#   FAKE_TINE_FAIL=1 exits 1 before listening; FAKE_TINE_ORPHAN=1 leaves
#   workers that ignore TERM behind when the master exits.
write_servers() {
	cat >"$T/srv.py" <<'EOF'
import functools, http.server, socket, struct, sys

mode, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if mode == "http11":
    class Handler(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
    if len(sys.argv) > 4:
        Handler.timeout = float(sys.argv[4])
    srv = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(Handler, directory=root))
    srv.daemon_threads = True
    srv.serve_forever()
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(64)
while True:
    c, _ = ls.accept()
    c.settimeout(5)
    try:
        if mode in ("echo", "count"):
            data, reads = b"", 0
            while True:
                b = c.recv(65536)
                if not b:
                    break
                data += b
                reads += 1
            if mode == "echo":
                c.sendall(data)
            else:
                c.sendall(b"reads=%d bytes=%d\n" % (reads, len(data)))
        else:
            c.recv(65536)
            if mode == "reset":
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
    except OSError:
        pass
    c.close()
EOF
	cat >"$T/fake_tine" <<'EOF'
#!/usr/bin/env python3
import os, signal, socket, sys

conf = sys.argv[sys.argv.index("-f") + 1]
if os.environ.get("FAKE_TINE_FAIL"):
    sys.exit("fake_tine: cannot start")
port = [int(l.split()[1].rsplit(":", 1)[1])
        for l in open(conf) if l.startswith("listen ")][0]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(64)
orphan = os.environ.get("FAKE_TINE_ORPHAN")
kids = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        if orphan:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while True:
            c, _ = ls.accept()
            c.recv(4096)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                      b"Connection: close\r\n\r\n")
            c.close()
    kids.append(pid)

def term(*_):
    if not orphan:
        for k in kids:
            os.kill(k, signal.SIGTERM)
        for k in kids:
            os.waitpid(k, 0)
    os._exit(0)

signal.signal(signal.SIGTERM, term)
while True:
    signal.pause()
EOF
	chmod +x "$T/fake_tine"
}

# start_py MODE [ARG]: serves $T/www on $PORT; http10 is python's own
# `-m http.server` (HTTP/1.0: it closes after every response).
start_py() {
	if [ "$1" = http10 ]; then
		python3 -m http.server --bind 127.0.0.1 --directory "$T/www" \
		    "$PORT" >"$T/py.out" 2>"$T/py.err" 3>&- &
	else
		python3 "$T/srv.py" "$1" "$PORT" "$T/www" "${@:2}" \
		    >"$T/py.out" 2>"$T/py.err" 3>&- &
	fi
	PY_PID=$!
	wait_for port_listening "$PORT" "$PY_PID"
}

py_gone() {
	! pid_alive "$PY_PID"
}

pid_gone() {
	! pid_alive "$1"
}

stop_py() {
	[ -n "${PY_PID:-}" ] || return 0
	kill "$PY_PID" 2>/dev/null || true
	if ! wait_for py_gone; then
		kill -KILL "$PY_PID" 2>/dev/null || true
	fi
	wait "$PY_PID" 2>/dev/null || true
	PY_PID=
}

# hex: stdin as hex bytes on one line, to compare binary output exactly.
hex() {
	od -An -v -tx1 | tr -d ' \n'
}

@test "rawreq dumps the response bytes exactly and exits 0 on EOF" {
	start_py http10
	run -0 --separate-stderr raw -e 'GET / HTTP/1.0\r\n\r\n'
	[[ $output == $'HTTP/1.0 200 OK\r\n'* ]]
	[[ $output == *$'\r\nContent-Length: 11\r\n'* ]]
	[[ $output == *$'\r\n\r\nhello tine' ]]
	[ "$stderr" = "" ]
}

@test "rawreq sends -e escapes and stdin bytes unchanged" {
	start_py echo
	# $output cannot hold NUL bytes: compare the bytes as hex.
	[ "$(raw -H -e 'A\r\n\t\0\x7f\xFF\\"z' | hex)" = "410d0a09007fff5c227a" ]
	[ "$(printf 'GET /\0x\r\n' | raw -H | hex)" = \
	    "$(printf 'GET /\0x\r\n' | hex)" ]
	run -2 raw -e 'bad \q escape'
	run -2 raw -e 'short \x4'
}

@test "rawreq -s/-d trickles the bytes in slices, unchanged" {
	start_py count
	run -0 raw -H -s 1 -d 20 -e 'GET / HTTP/1.1\r\n'
	[[ $output =~ ^reads=([0-9]+)\ bytes=16$ ]]
	((BASH_REMATCH[1] >= 2))
	run -0 raw -H -e 'GET / HTTP/1.1\r\n'
	[ "$output" = "reads=1 bytes=16" ]
	stop_py
	start_py echo
	[ "$(raw -H -s 3 -d 5 -e 'abcdefghij\r\n' | hex)" = \
	    "$(printf 'abcdefghij\r\n' | hex)" ]
}

@test "rawreq -H half-closes; without it the open connection times out" {
	start_py echo
	run -3 raw -t 300 -e 'ping'
	[ "$output" = "" ]
	run -0 raw -t 3000 -H -e 'ping'
	[ "$output" = "ping" ]
	run -0 raw -H -w 200 -e 'late'
	[ "$output" = "late" ]
}

@test "rawreq -c counts pipelined responses; -n stops after N" {
	start_py http11
	run -0 raw -c -e 'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n'
	# python's 404 says Connection: close and closes.
	[ "$output" = "responses=2 statuses=200,404 closed=1" ]
	run -3 raw -c -t 500 -e 'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n'
	[ "$output" = "responses=2 statuses=200,200 closed=0" ]
	run -3 raw -c -n 1 -e 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
	[ "$output" = "responses=1 statuses=200 closed=0" ]
	run -3 raw -c -m -n 2 -e 'HEAD / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\n'
	[ "$output" = "responses=2 statuses=200,200 closed=0" ]
}

@test "rawreq -c reads an HTTP/1.0 close-delimited stream" {
	start_py http10
	run -0 raw -c -e 'GET / HTTP/1.0\r\n\r\n'
	[ "$output" = "responses=1 statuses=200 closed=1" ]
	run -0 raw -c -e 'GET /missing HTTP/1.0\r\n\r\n'
	[ "$output" = "responses=1 statuses=404 closed=1" ]
}

@test "rawreq -r stops at the read limit, -R reads slowly but fully" {
	head -c 3000 /dev/zero | tr '\0' x >"$T/www/big.txt"
	start_py http10
	run -6 raw -r 17 -e 'GET / HTTP/1.0\r\n\r\n'
	[ "$(raw -r 17 -e 'GET / HTTP/1.0\r\n\r\n' | hex)" = \
	    "$(printf 'HTTP/1.0 200 OK\r\n' | hex)" ]
	run -0 raw -R 1000 -e 'GET /big.txt HTTP/1.0\r\n\r\n'
	[[ $output == *$'\r\n\r\n'"$(<"$T/www/big.txt")" ]]
}

@test "rawreq exits 4 when nothing listens, 5 on a reset" {
	run -4 --separate-stderr raw -e 'GET / HTTP/1.0\r\n\r\n'
	[[ $stderr == *"Connection refused"* ]]
	run -4 --separate-stderr raw -6 -e 'x'
	[[ $stderr == *"::1"* ]]
	start_py reset
	run -5 --separate-stderr raw -e 'GET / HTTP/1.0\r\n\r\n'
	[ "$output" = "" ]
	[ "$stderr" = "reset" ]
}

@test "rawreq rejects bad usage with status 2" {
	run -2 "$TINE_TOOLS/rawreq" -e x
	run -2 raw -p 0 -e x
	run -2 raw -h not-an-address -e x
	run -2 raw -t 0 -e x
}

@test "loadgen counts an HTTP/1.0 server that closes every connection" {
	start_py http10
	run -0 --separate-stderr "$TINE_TOOLS/loadgen" -p "$PORT" -d 1000 \
	    -k 2 -n 1
	[[ $output =~ ^sent=([0-9]+)\ answered=([0-9]+)\ lost=0\ bad=0\ connect_errors=0\ reconnects=([0-9]+)$ ]]
	((BASH_REMATCH[2] > 0))
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
	((BASH_REMATCH[3] > 0))
	[ "$stderr" = "" ]
}

@test "loadgen reuses HTTP/1.1 keep-alive connections" {
	start_py http11
	run -0 "$TINE_TOOLS/loadgen" -p "$PORT" -d 1000 -k 2 -n 1
	[[ $output =~ ^sent=([0-9]+)\ answered=([0-9]+)\ lost=0\ bad=0\ connect_errors=0\ reconnects=0$ ]]
	((BASH_REMATCH[2] > 0))
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
}

@test "loadgen counts requests the server drops as lost" {
	start_py drop
	run -1 --separate-stderr "$TINE_TOOLS/loadgen" -p "$PORT" -d 500 \
	    -k 1 -n 1
	[[ $output =~ ^sent=([0-9]+)\ answered=0\ lost=([0-9]+)\ bad=0\ connect_errors=0 ]]
	((BASH_REMATCH[2] > 0))
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
	[[ $stderr == *"loadgen: lost: eof="* ]]
}

@test "loadgen exposes a server that closes idle keep-alive connections" {
	# python closes a connection idle for 5 ms; loadgen pauses up to 50.
	start_py http11 0.005
	run -1 "$TINE_TOOLS/loadgen" -p "$PORT" -d 1000 -k 4 -n 0 -i 50000
	[[ $output =~ ^sent=([0-9]+)\ answered=([0-9]+)\ lost=([0-9]+)\ bad=0 ]]
	((BASH_REMATCH[3] > 0))
	((BASH_REMATCH[1] == BASH_REMATCH[2] + BASH_REMATCH[3]))
}

@test "loadgen -b connects from the source address given" {
	start_py http10
	run -0 "$TINE_TOOLS/loadgen" -p "$PORT" -d 500 -k 1 -n 1 -b 127.0.0.2
	[[ $output =~ ^sent=([0-9]+)\ answered=([0-9]+)\ lost=0\ bad=0\ connect_errors=0 ]]
	((BASH_REMATCH[2] > 0))
	# python's server logs each request by its client's address.
	stop_py
	grep -q '"GET / HTTP/1.1" 200' "$T/py.err"
	! grep '"GET / ' "$T/py.err" | grep -v '^127\.0\.0\.2 ' || false
	run -2 "$TINE_TOOLS/loadgen" -p "$PORT" -b 127.0.0.300
	run -2 "$TINE_TOOLS/loadgen" -6 -p "$PORT" -b 127.0.0.2
}

@test "loadgen counts unexpected statuses as bad, refused connects" {
	start_py http10
	run -1 "$TINE_TOOLS/loadgen" -p "$PORT" -d 300 -k 1 -n 1 -u /nope
	[[ $output =~ ^sent=([0-9]+)\ answered=([0-9]+)\ lost=0\ bad=([0-9]+)\  ]]
	((BASH_REMATCH[2] > 0))
	[ "${BASH_REMATCH[2]}" = "${BASH_REMATCH[3]}" ]
	run -0 "$TINE_TOOLS/loadgen" -p "$PORT" -d 300 -k 1 -n 1 -u /nope \
	    -x 404
	stop_py
	run -1 --separate-stderr "$TINE_TOOLS/loadgen" -p "$PORT" -d 300
	[[ $output =~ ^sent=0\ answered=0\ lost=0\ bad=0\ connect_errors=[1-9] ]]
	[[ $stderr == *"Connection refused"* ]]
}

@test "free_port gives distinct bindable ports; write_conf defaults" {
	local p2
	p2=$(free_port)
	[ "$p2" != "$PORT" ]
	[ "$p2" -ge 1024 ] && [ "$p2" -le 65535 ]
	write_conf 'workers 4' 'autoindex on'
	[ "$(grep -c '^workers' "$CONF")" -eq 1 ]
	grep -qx 'workers 4' "$CONF"
	grep -qx "listen 127.0.0.1:$PORT" "$CONF"
	grep -qx 'root www' "$CONF"
	grep -qx "pidfile $T/tine.pid" "$CONF"
	grep -qx 'autoindex on' "$CONF"
	write_conf --no-default listen --no-default pidfile "listen [::1]:$p2"
	run -1 grep -q '127.0.0.1' "$CONF"
	run -1 grep -q '^pidfile' "$CONF"
	grep -qx "listen \[::1\]:$p2" "$CONF"
	[ "$(conf_ports)" = "$p2" ]
	WRITE_CONF_SKIP="error_log access_log" write_conf
	run -1 grep -q '_log' "$CONF"
}

@test "start_tine, worker_pids, wait_workers and stop_tine on a fake tine" {
	local pids pid
	TINE_BIN=$T/fake_tine
	write_conf
	start_tine
	port_listening "$PORT" "$TINE_PID"
	wait_workers 2
	pids=$(worker_pids)
	[ "$(wc -l <<<"$pids")" -eq 2 ]
	run -0 raw -c -e 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
	[ "$output" = "responses=1 statuses=200 closed=1" ]
	run -0 req / -o /dev/null -w '%{http_code}'
	[ "$output" = 200 ]
	stop_tine
	[ "$TINE_STATUS" = 0 ]
	[ -z "$TINE_PID" ]
	for pid in $pids; do
		pid_gone "$pid"
	done
	stop_tine
}

@test "start_tine fails with the stderr of a tine that exits" {
	TINE_BIN=$T/fake_tine
	write_conf
	FAKE_TINE_FAIL=1 run -1 start_tine
	[[ $output == *"exited with status 1"* ]]
	[[ $output == *"fake_tine: cannot start"* ]]
	rm "$T/stderr"
}

@test "stop_tine kills workers that outlive their master, and says so" {
	local pids pid
	TINE_BIN=$T/fake_tine
	write_conf
	FAKE_TINE_ORPHAN=1 start_tine
	wait_workers 2
	pids=$(worker_pids)
	run -1 stop_tine
	[[ $output == *"workers outlived the master"* ]]
	for pid in $pids; do
		wait_for pid_gone "$pid"
	done
	TINE_PID=
}

@test "teardown_tine fails on unexpected stderr and sanitizer reports" {
	printf 'worker 12 exited with status 2\n' >"$T/stderr"
	run -1 teardown_tine
	[[ $output == *"unexpected output"*"worker 12 exited"* ]]
	TINE_STDERR_ALLOW='^worker [0-9]+ exited'
	run -0 teardown_tine
	printf '==1==ERROR: AddressSanitizer: heap-use-after-free\n' \
	    >>"$T/stderr"
	TINE_STDERR_ALLOW='.'
	run -1 teardown_tine
	[[ $output == *"sanitizer report"* ]]
	printf 'x.c:1:2: runtime error: signed integer overflow\n' >"$T/stderr"
	run -1 teardown_tine
	rm "$T/stderr"
	run -0 teardown_tine
}
