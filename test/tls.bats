#!/usr/bin/env bats
# tls.bats: HTTPS (issue 14, SPEC "Sites, rules, TLS, compression"):
# listen ... tls beside plain listeners, TLS 1.2 and 1.3 only, resumption
# across workers and reloads, and only under the certificate the session
# was made with, certificate renewal by reload, keys read by the master,
# the handshake deadline, plain HTTP on a TLS port, files and pipelining
# over TLS, close_notify and the status counters. Certificates come from
# a throwaway CA made for each test (make_ca, make_cert).

load helpers

setup() {
	command -v openssl >/dev/null || skip "no openssl command"
	setup_tine_dir
	make_ca
	make_cert server 1001
	TLS_PORT=$(free_port)
	TLS_CONF=("listen 127.0.0.1:$TLS_PORT tls" "tls_certificate server.pem"
	    "tls_key server.key")
	HOLD_PID=
	HOLD2_PID=
	PUBDIR=
	GET_CLOSE='GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'
}

teardown() {
	local rc=0 p
	for p in "$HOLD_PID" "$HOLD2_PID"; do
		[ -n "$p" ] || continue
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	teardown_tine || rc=1
	[ -z "$PUBDIR" ] || rm -rf "$PUBDIR"
	return "$rc"
}

# treq PATH [CURL_ARGS...]: curl over TLS to localhost:$TLS_PORT, trusting
# the test CA only.
treq() {
	curl -sS --max-time 5 --noproxy '*' --cacert "$T/ca/ca.pem" \
	    --resolve "localhost:$TLS_PORT:127.0.0.1" "${@:2}" \
	    "https://localhost:$TLS_PORT$1"
}

# sclient [ARGS...]: openssl s_client to the TLS listener, verifying the
# certificate against the test CA, bounded to 10 s.
sclient() {
	timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" \
	    -servername localhost -CAfile "$T/ca/ca.pem" \
	    -verify_return_error "$@"
}

# served_serial: "serial=..." of the certificate the listener sends now.
served_serial() {
	sclient </dev/null 2>/dev/null | openssl x509 -noout -serial
}

# session in|out FILE [ARGS...]: one request on a new connection that
# reads (-sess_in) or writes (-sess_out) the session in FILE; prints
# s_client's "New, ..." or "Reused, ..." line.
session() {
	printf "$GET_CLOSE" | sclient -ign_eof "-sess_$1" "$2" "${@:3}" \
	    2>/dev/null | grep -E '^(New|Reused), ' || true
}

# connected_workers: workers holding a connection (their process title).
connected_workers() {
	local pid n=0
	for pid in $(worker_pids); do
		grep -q 'connected' "/proc/$pid/cmdline" 2>/dev/null && n=$((n + 1))
	done
	echo "$n"
}

connected_is() {
	[ "$(connected_workers)" -eq "$1" ]
}

# hold_one: one more plain connection that sends half a head and stalls,
# so that a worker stays busy with it; waits until N workers hold one.
hold_one() {
	python3 "$BATS_TEST_DIRNAME/tools/hold.py" "$PORT" half 1 \
	    "$T/hold$1.ready" --max 20 >/dev/null 3>&- &
	[ -z "$HOLD_PID" ] && HOLD_PID=$! || HOLD2_PID=$!
	wait_for test -e "$T/hold$1.ready"
	wait_for connected_is "$1"
}

# lines_at_least FILE N: FILE exists and has N lines or more.
lines_at_least() {
	[ -e "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]
}

# json_field NAME: a number of the status endpoint's JSON.
json_field() {
	req /status | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

@test "curl over TLS 1.3 and TLS 1.2 gets the page byte-exact, plain beside" {
	write_conf "${TLS_CONF[@]}"
	start_tine
	run -0 treq / --tlsv1.3 -v -o "$T/body13"
	[[ $output == *"SSL connection using TLSv1.3"* ]]
	[[ $output == *"ALPN: server accepted http/1.1"* ]]
	cmp "$T/body13" "$T/www/index.html"
	run -0 treq / --tlsv1.2 --tls-max 1.2 -v -o "$T/body12"
	[[ $output == *"SSL connection using TLSv1.2 / ECDHE-ECDSA-AES128-GCM-SHA256"* ]]
	cmp "$T/body12" "$T/www/index.html"
	# The plain listener of the same server, as before.
	run -0 req /
	[ "$output" = "hello tine" ]
	run -0 "$TINE_BIN" -T -f "$CONF"
	[[ $output == *"listen 127.0.0.1:$TLS_PORT tls"* ]]
	[[ $output == *"listen 127.0.0.1:$PORT"$'\n'* ]]
	[[ $output == *"tls_protocols TLSv1.2 TLSv1.3"* ]]
}

@test "TLS 1.1 is refused with a protocol_version alert" {
	write_conf "${TLS_CONF[@]}"
	start_tine
	# SECLEVEL=0 lets the client itself offer TLS 1.1.
	run sclient -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' </dev/null
	[ "$status" -ne 0 ]
	[[ $output == *"alert protocol version"* ]]
	wait_for grep -q "TLS handshake with 127.0.0.1 failed: unsupported protocol" \
	    "$T/error.log"
}

@test "plain HTTP on the TLS port gets a plain-text 400 that says so" {
	write_conf "${TLS_CONF[@]}"
	start_tine
	run -0 curl -sS --max-time 5 --noproxy '*' -D "$T/head.raw" \
	    "http://127.0.0.1:$TLS_PORT/"
	[ "$output" = "This port speaks HTTPS: send the request to https:// instead." ]
	tr -d '\r' <"$T/head.raw" >"$T/head"
	[ "$(head -1 "$T/head")" = "HTTP/1.1 400 Bad Request" ]
	[ "$(hdr Connection)" = "close" ]
	[ "$(hdr Content-Type)" = "text/plain; charset=utf-8" ]
	[ "$(hdr Content-Length)" = 62 ]
	# Answered like any response: in the access log too.
	wait_for grep -q '"" 400 62 ' "$T/access.log"
}

@test "a session resumes on another worker, and again after a reload" {
	write_conf "${TLS_CONF[@]}" "min_spare 0"
	start_tine
	wait_workers 2
	# One worker busy: the session is made on the other one (Y).
	hold_one 1
	run -0 session out "$T/sess13" -tls1_3
	[[ $output == "New, TLSv1.3, "* ]]
	run -0 session out "$T/sess12" -tls1_2
	[[ $output == "New, TLSv1.2, "* ]]
	# Y busy too: the next connections go to a third worker, which the
	# pool starts for them.
	hold_one 2
	run -0 session in "$T/sess13" -tls1_3
	[[ $output == "Reused, TLSv1.3, "* ]]
	run -0 session in "$T/sess12" -tls1_2
	[[ $output == "Reused, TLSv1.2, "* ]]
	kill -KILL "$HOLD_PID" "$HOLD2_PID"
	HOLD_PID= HOLD2_PID=
	# A reload makes a new ticket key: the old one still opens tickets.
	kill -HUP "$TINE_PID"
	wait_for grep -q "reloaded: generation 1" "$T/error.log"
	run -0 session in "$T/sess13" -tls1_3
	[[ $output == "Reused, TLSv1.3, "* ]]
	run -0 session in "$T/sess12" -tls1_2
	[[ $output == "Reused, TLSv1.2, "* ]]
}

@test "a reload with a renewed certificate loses no request" {
	write_conf "${TLS_CONF[@]}"
	start_tine
	run -0 served_serial
	[ "$output" = "serial=1001" ]
	make_cert renewed 2002
	(
		for i in $(seq 40); do
			treq / -o /dev/null -w '%{http_code}\n' || echo failed
		done >"$T/loop.out"
	) 3>&- &
	local loop=$!
	wait_for lines_at_least "$T/loop.out" 5
	cp "$T/renewed.pem" "$T/server.pem"
	cp "$T/renewed.key" "$T/server.key"
	kill -HUP "$TINE_PID"
	wait "$loop"
	run -0 cat "$T/loop.out"
	[ "$(grep -c '^200$' "$T/loop.out")" -eq 40 ]
	grep -q "reloaded: generation 1" "$T/error.log"
	run -0 served_serial
	[ "$output" = "serial=2002" ]
}

@test "a broken key on reload keeps the old certificate and names FILE:LINE" {
	write_conf "${TLS_CONF[@]}"
	start_tine
	local line
	line=$(grep -n '^tls_key' "$CONF" | cut -d: -f1)
	echo "not a key" >"$T/server.key"
	kill -HUP "$TINE_PID"
	wait_for grep -q "reload failed" "$T/error.log"
	run -0 grep -F "$CONF:$line: tls_key \"$T/server.key\": " "$T/error.log"
	run -0 served_serial
	[ "$output" = "serial=1001" ]
	run -0 treq /
	[ "$output" = "hello tine" ]
}

@test "-t names FILE:LINE of a mismatched pair and of a missing file" {
	make_cert other
	write_conf "${TLS_CONF[0]}" "tls_certificate server.pem" \
	    "tls_key other.key"
	local cline kline
	cline=$(grep -n '^tls_certificate' "$CONF" | cut -d: -f1)
	kline=$(grep -n '^tls_key' "$CONF" | cut -d: -f1)
	run --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$CONF:$kline: tls_key \"$T/other.key\": does not match tls_certificate (line $cline): "* ]]
	write_conf "${TLS_CONF[0]}" "tls_certificate nosuch.pem" \
	    "tls_key server.key"
	run --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$CONF:$cline: tls_certificate \"$T/nosuch.pem\": No such file or directory"* ]]
	write_conf "${TLS_CONF[@]}"
	run --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ "$status" -eq 0 ]
}

@test "a key only root can read works with user nobody" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	getent passwd nobody >/dev/null || skip "no nobody user"
	command -v setpriv >/dev/null || skip "no setpriv"
	# Workers reopen logs as nobody: a world-searchable tree of our own.
	PUBDIR=$(mktemp -d /tmp/tine-tls.XXXXXX)
	chmod 755 "$PUBDIR"
	cp -r "$T/www" "$T/ca" "$T/server.pem" "$T/server.key" "$PUBDIR/"
	chmod 600 "$PUBDIR/server.key"
	T=$PUBDIR
	CONF=$T/tine.conf
	run setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    cat "$T/server.key"
	[ "$status" -ne 0 ]
	write_conf "user nobody" "${TLS_CONF[@]}"
	start_tine
	run -0 treq /
	[ "$output" = "hello tine" ]
	local pid
	for pid in $(worker_pids); do
		[ "$(stat -c %U "/proc/$pid")" = nobody ]
	done
}

@test "a stalled handshake is closed at header_timeout" {
	write_conf "${TLS_CONF[@]}" "header_timeout 1"
	start_tine
	# Half a ClientHello: a record header that promises 512 bytes.
	run -0 python3 - "$TLS_PORT" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(bytes.fromhex("16030102000100"))
s.settimeout(8)
t = time.monotonic()
try:
    d = s.recv(100)
    print("eof" if d == b"" else "data", time.monotonic() - t < 4)
except ConnectionResetError:
    print("reset", time.monotonic() - t < 4)
except socket.timeout:
    print("open")
EOF
	[ "$output" = "eof True" ]
	wait_for grep -q "TLS handshake with 127.0.0.1 failed: timed out" \
	    "$T/error.log"
	# Nothing at all: the kernel hands it over late (TCP_DEFER_ACCEPT),
	# then the worker's deadline applies.
	run -0 python3 - "$TLS_PORT" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(15)
try:
    print("eof" if s.recv(100) == b"" else "data")
except ConnectionResetError:
    print("reset")
except socket.timeout:
    print("open")
EOF
	[ "$output" = "eof" ]
}

@test "pipelined and keep-alive requests over TLS" {
	write_conf "${TLS_CONF[@]}" "status_path /status"
	start_tine
	run -0 bash -c "printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	    timeout 10 openssl s_client -connect 127.0.0.1:$TLS_PORT \
	    -servername localhost -CAfile $T/ca/ca.pem -quiet -ign_eof 2>/dev/null"
	[ "$(grep -c $'^HTTP/1.1 200 OK\r$' <<<"$output")" -eq 2 ]
	[ "$(grep -c '^hello tine$' <<<"$output")" -eq 2 ]
	# curl: two requests, one connection.
	run -0 treq / -v -o /dev/null "https://localhost:$TLS_PORT/index.html" \
	    -o "$T/body"
	[[ $output == *"Re-using existing connection"* ]]
	cmp "$T/body" "$T/www/index.html"
	[ "$(json_field tls_handshakes_total)" -eq 2 ]
}

@test "a 20 MiB file over TLS is byte-exact" {
	head -c $((20 * 1024 * 1024 + 1234)) /dev/urandom >"$T/www/big"
	write_conf "${TLS_CONF[@]}"
	start_tine
	run -0 treq /big -o "$T/big.out" --max-time 30
	cmp "$T/big.out" "$T/www/big"
	run -0 treq /big -o "$T/range.out" -r 16000-49999
	cmp "$T/range.out" <(tail -c +16001 "$T/www/big" | head -c 34000)
}

@test "the status endpoint counts handshakes, resumptions and failures" {
	write_conf "${TLS_CONF[@]}" "status_path /status"
	start_tine
	run -0 treq /
	run -0 session out "$T/sess"
	run -0 session in "$T/sess"
	[[ $output == "Reused, "* ]]
	# Five that are not TLS at all: counted, logged at most once a
	# second per worker.
	for i in 1 2 3 4 5; do
		python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"\x00\x01\x02\x03"); s.settimeout(5); s.recv(10)' "$TLS_PORT"
	done
	[ "$(json_field tls_handshakes_total)" -eq 3 ]
	[ "$(json_field tls_resumed_total)" -eq 1 ]
	[ "$(json_field tls_failures_total)" -eq 5 ]
	run -0 req '/status?format=prometheus'
	[[ $output == *$'\ntine_tls_handshakes_total 3\n'* ]]
	[[ $output == *$'\ntine_tls_resumed_total 1\n'* ]]
	[[ $output == *$'\ntine_tls_failures_total 5'* ]]
	[ "$(grep -c 'TLS handshake with 127.0.0.1 failed: not a TLS handshake' \
	    "$T/error.log")" -lt 5 ]
}

# tls_failures_reported N: the error log accounts for N failed handshakes,
# logged one by one or counted in "... more" lines.
tls_failures_reported() {
	awk -v want="$1" '
	    /TLS handshake with .* failed:/ { n++ }
	    /and [0-9]+ more since the last report/ {
		    sub(/.*and /, ""); n += $1 }
	    /[0-9]+ more TLS handshakes failed since the last report/ {
		    sub(/.*: /, ""); n += $1 }
	    END { exit !(n == want) }' "$T/error.log"
}

@test "handshake failures not logged one by one are counted once they stop" {
	write_conf "${TLS_CONF[@]}" "workers 1" "max_workers 1"
	start_tine
	# Six in one process: six interpreters can take longer than the
	# second the test needs them to fall in on a loaded machine.
	python3 -c 'import socket, sys
for i in range(6):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"\x00\x01\x02\x03"); s.settimeout(5); s.recv(10)
    s.close()' "$TLS_PORT"
	# One line at once; the other five within a second or so.
	wait_for tls_failures_reported 6
	grep -q "more TLS handshakes failed since the last report" \
	    "$T/error.log"
}

@test "a certificate or key that is a FIFO is refused at once, never opened" {
	mkfifo "$T/fifo.key"
	write_conf "${TLS_CONF[0]}" "tls_certificate server.pem" \
	    "tls_key fifo.key"
	run --separate-stderr timeout 10 "$TINE_BIN" -t -f "$CONF"
	[ "$status" -eq 1 ]
	[[ $stderr == *"tls_key \"$T/fifo.key\": not a regular file"* ]]
	# On reload: refused at once, the master still reaps and serves.
	write_conf "${TLS_CONF[@]}"
	start_tine
	write_conf "${TLS_CONF[0]}" "tls_certificate fifo.key" \
	    "tls_key server.key"
	kill -HUP "$TINE_PID"
	wait_for grep -q "reload failed" "$T/error.log"
	grep -qF "tls_certificate \"$T/fifo.key\": not a regular file" \
	    "$T/error.log"
	run -0 treq /
	[ "$output" = "hello tine" ]
	run -0 timeout 10 "$TINE_BIN" -f "$CONF" -s reload
}

@test "a request record trickled after the handshake is cut at header_timeout" {
	write_conf "${TLS_CONF[@]}" "header_timeout 2" "keepalive_timeout 2" \
	    "worker_timeout 60"
	start_tine
	# The handshake, then one record of a request sent a byte every
	# 0.2 s (some 30 s in all): tine must close it within a few seconds.
	run -0 python3 - "$TLS_PORT" "$T/ca/ca.pem" <<'EOF'
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
o = ctx.wrap_bio(inc, out, server_hostname="localhost")
s.settimeout(5)
while True:
    try:
        o.do_handshake()
        break
    except ssl.SSLWantReadError:
        s.sendall(out.read())
        inc.write(s.recv(65536))
s.sendall(out.read())
o.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Pad: " + b"p" * 100 +
        b"\r\n\r\n")
rec = out.read()
t = time.monotonic()
s.settimeout(0.2)
closed = None
for b in rec:
    try:
        s.send(bytes([b]))
        if s.recv(65536) == b"":
            closed = time.monotonic() - t
            break
    except socket.timeout:
        pass
    except (BrokenPipeError, ConnectionResetError):
        closed = time.monotonic() - t
        break
print("closed" if closed is not None and closed < 8 else "open %s" % closed)
EOF
	[ "$output" = "closed" ]
}

@test "a worker maps the ticket keys read-only, and cannot make them writable" {
	write_conf "${TLS_CONF[@]}" "workers 1"
	start_tine
	wait_workers 1
	local w
	w=$(worker_pids)
	# The master's mapping is writable; the worker's is read-only and
	# sealed (no "mw", may-write, in its VmFlags).
	awk '/tine-ticket-keys/ { print $2; exit }' "/proc/$TINE_PID/maps" |
	    grep -qx 'rw-s'
	run -0 awk '/tine-ticket-keys/ { found = 1; print $2; next }
	    found && /^VmFlags:/ { print; exit }' "/proc/$w/smaps"
	echo "$output"
	[ "${lines[0]}" = "r--s" ]
	[[ ${lines[1]} != *" mw"* ]]
	run -0 treq /
	[ "$output" = "hello tine" ]
}

@test "close_notify ends every TLS connection" {
	write_conf "${TLS_CONF[@]}"
	start_tine
	run -0 python3 - "$TLS_PORT" "$T/ca/ca.pem" <<'EOF'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s = ctx.wrap_socket(raw, server_hostname="localhost",
                    suppress_ragged_eofs=False)
s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
data = b""
try:
    while True:
        d = s.recv(4096)
        if not d:
            print("clean EOF")
            break
        data += d
except ssl.SSLEOFError as e:
    print("truncated:", e)
print(data.split(b"\r\n\r\n", 1)[1].decode(), end="")
EOF
	[ "$output" = $'clean EOF\nhello tine' ]
}

@test "max_workers 2: idle TLS keep-alive connections yield to a new client" {
	write_conf "${TLS_CONF[@]}" "keepalive_timeout 30" "max_workers 2"
	start_tine
	wait_workers 2
	# Both workers hold an idle TLS connection after one request each.
	python3 - "$TLS_PORT" "$T/ca/ca.pem" "$T/idle.ready" >"$T/idle.out" \
	    2>&1 3>&- <<'EOF2' &
import select, socket, ssl, sys, time
port, ca, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
conns = []
for i in range(2):
    raw = socket.create_connection(("127.0.0.1", port), timeout=20)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    buf = b""
    while not buf.endswith(b"hello tine\n"):
        buf += s.recv(4096)
    conns.append(s)
open(ready, "w").close()
closed = set()
deadline = time.monotonic() + 20
while time.monotonic() < deadline and len(closed) < len(conns):
    r, _, _ = select.select([s for s in conns if s not in closed], [], [], 0.1)
    for s in r:
        try:
            if s.recv(100) != b"":
                continue
        except (OSError, ssl.SSLError):
            pass
        closed.add(s)
        print("closed", flush=True)
EOF2
	HOLD_PID=$!
	wait_for test -e "$T/idle.ready"
	run -0 treq / --max-time 3
	[ "$output" = "hello tine" ]
	run -0 treq / --max-time 3
	[ "$output" = "hello tine" ]
	# A new client took the place of an idle one, which was closed
	# between requests.
	wait_for grep -q closed "$T/idle.out"
	kill -TERM "$HOLD_PID"
	wait "$HOLD_PID" || true
	HOLD_PID=
	# Every request answered: 2 held, 2 new.
	wait_for access_200s_are 4
}

# access_200s_are N: the access log holds N responses with status 200.
access_200s_are() {
	[ "$(grep -c '" 200 ' "$T/access.log")" -eq "$1" ]
}

# two_certs TICKETS: sites a.test and www.a.test on certificate A (the
# default site, root www) and b.test on certificate B (root b), all on
# the TLS listener, tls_session_tickets TICKETS. One worker: without
# tickets the session cache is that worker's, and every connection
# reaches it.
two_certs() {
	make_cert a 0a a.test www.a.test
	make_cert b 0b b.test
	mkdir -p "$T/b"
	printf 'b\n' >"$T/b/index.html"
	write_conf "listen 127.0.0.1:$TLS_PORT tls" "workers 1" \
	    "max_workers 1" "tls_certificate a.pem" "tls_key a.key" \
	    "tls_session_tickets $1" "server a.test www.a.test {" "}" \
	    "server b.test {" "	root b" "	tls_certificate b.pem" \
	    "	tls_key b.key" "}"
}

# visit NAME in|out FILE [ARGS...]: GET / with SNI and Host NAME on a new
# connection that reads (-sess_in) or writes (-sess_out) the session in
# FILE; prints "New|Reused CN STATUS BODY": whether the session resumed,
# the CN of the certificate the connection is authenticated with, the
# status code and the body.
visit() {
	printf 'GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$1" |
	    timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" \
	    -servername "$1" -CAfile "$T/ca/ca.pem" -verify_return_error \
	    -ign_eof "-sess_$2" "$3" "${@:4}" 2>/dev/null | tr -d '\r' |
	    awk '/^(New|Reused), / { r = substr($1, 1, length($1) - 1) }
		/^subject=/ { sub(/.*CN ?= ?/, ""); cn = $0 }
		/^HTTP\/1\.1 / { st = $2; head = 1; next }
		head && $0 == "" { head = 0; body = 1; next }
		body { b = b $0; body = 0 }
		END { print r, cn, st, b }'
}

# visit_is WANT VISIT_ARGS...: visit prints WANT; else says what it got.
visit_is() {
	local got
	got=$(visit "${@:2}")
	[ "$got" = "$1" ] || {
		echo "visit ${*:2}: got \"$got\", want \"$1\"" >&2
		return 1
	}
}

# cross_cert_resumption TICKETS PROTO: sessions made under one
# certificate are full handshakes under the other, and resume under
# their own, also for another name of the same certificate.
cross_cert_resumption() {
	two_certs "$1"
	start_tine
	visit_is "New a.test 200 hello tine" a.test out "$T/sa" "$2"
	# A's session offered for b.test: a full handshake with B's
	# certificate and b's page; never A's certificate vouching for b.
	visit_is "New b.test 200 b" b.test in "$T/sa" "$2"
	visit_is "Reused a.test 200 hello tine" www.a.test in "$T/sa" "$2"
	visit_is "Reused a.test 200 hello tine" a.test in "$T/sa" "$2"
	visit_is "New b.test 200 b" b.test out "$T/sb" "$2"
	visit_is "New a.test 200 hello tine" a.test in "$T/sb" "$2"
	visit_is "Reused b.test 200 b" b.test in "$T/sb" "$2"
}

@test "TLS 1.3, tickets: a session resumes only under its certificate" {
	cross_cert_resumption on -tls1_3
	# The session id context comes from the certificate: the same after
	# a reload, so B's session still resumes, and only under B.
	kill -HUP "$TINE_PID"
	wait_for grep -q "reloaded: generation 1" "$T/error.log"
	visit_is "Reused b.test 200 b" b.test in "$T/sb" -tls1_3
	visit_is "New a.test 200 hello tine" a.test in "$T/sb" -tls1_3
}

@test "TLS 1.2, tickets: a session resumes only under its certificate" {
	cross_cert_resumption on -tls1_2
}

@test "TLS 1.3, no tickets: a session resumes only under its certificate" {
	cross_cert_resumption off -tls1_3
}

@test "TLS 1.2, no tickets: a session resumes only under its certificate" {
	cross_cert_resumption off -tls1_2
}
