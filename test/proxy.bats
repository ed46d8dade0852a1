#!/usr/bin/env bats
# proxy.bats: listen ... proxy_protocol and proxy_protocol_from (SPEC
# "PROXY protocol"): a balancer's v1 or v2 header comes first, within
# header_timeout, from an address proxy_protocol_from names; the client
# address it carries is what the access log, allow/deny and the status
# endpoint see; LOCAL and UNKNOWN keep the connection's own address; a
# missing, malformed, oversized, late or untrusted header closes the
# connection, logged at most once a second.

load helpers

setup() {
	setup_tine_dir
	printf 'secret\n' >"$T/www/private.txt"
}

teardown() {
	teardown_tine
}

# pconf LINE...: a proxy_protocol listener trusting loopback, the access
# log, the status endpoint, and LINEs.
pconf() {
	write_conf --no-default listen \
	    "listen 127.0.0.1:$PORT proxy_protocol" \
	    "proxy_protocol_from 127.0.0.0/8" "status_path /status" \
	    "status_allow 203.0.113.0/24 127.0.0.1" "$@"
}

GET='GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
V2SIG='\r\n\r\n\0\r\nQUIT\n'

# logged ADDR PATH: an access log line from ADDR for PATH.
logged() {
	wait_for grep -q "^$1 .*\"GET $2 HTTP/1.1\"" "$T/access.log" || {
		echo "no line from $1 for $2; the log:" >&2
		cat "$T/access.log" >&2
		return 1
	}
}

@test "proxy: a v1 header's client address is the one logged" {
	pconf
	start_tine
	run -0 raw -e "PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\\r\\n$GET"
	[[ $output == "HTTP/1.1 200 OK"* ]]
	[[ $output == *"hello tine" ]]
	logged 203.0.113.7 /
	run -0 raw -e "PROXY TCP6 2001:db8::7 ::1 5555 80\\r\\n$GET"
	[[ $output == "HTTP/1.1 200 OK"* ]]
	logged 2001:db8::7 /
}

@test "proxy: a v2 header's client address is the one logged, TLVs skipped" {
	pconf
	start_tine
	# PROXY, TCP over IPv4, 12 address bytes: 198.51.100.9:4660 -> :80.
	run -0 raw -e "${V2SIG}\\x21\\x11\\x00\\x0c\\xc6\\x33\\x64\\x09\\x7f\\x00\\x00\\x01\\x12\\x34\\x00\\x50$GET"
	[[ $output == "HTTP/1.1 200 OK"* ]]
	logged 198.51.100.9 /
	# The same with a TLV (type 0x04, NOOP, 3 bytes) after the addresses.
	run -0 raw -e "${V2SIG}\\x21\\x11\\x00\\x12\\xc6\\x33\\x64\\x0a\\x7f\\x00\\x00\\x01\\x12\\x34\\x00\\x50\\x04\\x00\\x03abc$GET"
	[[ $output == "HTTP/1.1 200 OK"* ]]
	logged 198.51.100.10 /
	# IPv6: 2001:db8::9.
	run -0 raw -e "${V2SIG}\\x21\\x21\\x00\\x24\\x20\\x01\\x0d\\xb8\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\x09\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\x01\\x12\\x34\\x00\\x50$GET"
	[[ $output == "HTTP/1.1 200 OK"* ]]
	logged 2001:db8::9 /
}

@test "proxy: LOCAL and UNKNOWN keep the connection's own address" {
	pconf
	start_tine
	run -0 raw -e "${V2SIG}\\x20\\x00\\x00\\x00GET /local HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n"
	[[ $output == "HTTP/1.1 404"* ]]
	logged 127.0.0.1 /local
	run -0 raw -e "PROXY UNKNOWN\\r\\nGET /unknown HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n"
	[[ $output == "HTTP/1.1 404"* ]]
	logged 127.0.0.1 /unknown
}

@test "proxy: allow and deny and the status endpoint see the carried address" {
	pconf "location /private.txt {" "allow 203.0.113.0/24" "deny all" "}"
	start_tine
	run -0 raw -e "PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\\r\\nGET /private.txt HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n"
	[[ $output == "HTTP/1.1 200 OK"* ]]
	run -0 raw -e "PROXY TCP4 192.0.2.7 127.0.0.1 5555 80\\r\\nGET /private.txt HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n"
	[[ $output == "HTTP/1.1 403"* ]]
	# status_allow admits 203.0.113.0/24: by the carried address.
	run -0 raw -e "PROXY TCP4 192.0.2.7 127.0.0.1 5555 80\\r\\nGET /status HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n"
	[[ $output == "HTTP/1.1 403"* || $output == "HTTP/1.1 404"* ]]
	run -0 raw -e "PROXY TCP4 203.0.113.8 127.0.0.1 5555 80\\r\\nGET /status?format=json HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n"
	[[ $output == "HTTP/1.1 200 OK"* ]]
	[[ $output == *'"client":"203.0.113.8"'* ]]
}

@test "proxy: no header, a malformed or oversized one: closed without an answer" {
	pconf
	start_tine
	local bad
	for bad in "$GET" \
	    'PROXY TCP4 203.0.113.7 127.0.0.1 5555\r\n' \
	    'PROXY TCP4 203.0.113.700 127.0.0.1 5555 80\r\n' \
	    'PROXY TCP6 203.0.113.7 127.0.0.1 5555 80\r\n' \
	    'PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\n' \
	    "PROXY UNKNOWN $(printf 'x%.0s' $(seq 1 120))\\r\\n" \
	    "${V2SIG}\\x22\\x11\\x00\\x0c" \
	    "${V2SIG}\\x21\\x11\\x00\\x08abcdefgh" \
	    "${V2SIG}\\x21\\x11\\x10\\x00"; do
		run raw -t 3000 -e "$bad$GET"
		[ "$status" = 0 ] || [ "$status" = 5 ] ||
			fail_with "status $status for $bad"
		[ -z "$output" ] || fail_with "an answer to $bad: $output"
	done
	wait_for grep -q "PROXY protocol header refused on 127.0.0.1:$PORT: malformed" \
	    "$T/error.log"
	# Logged at most once a second, not once a connection.
	[ "$(grep -c 'PROXY protocol header refused' "$T/error.log")" -le 4 ]
	TINE_STDERR_ALLOW='PROXY protocol header refused'
}

@test "proxy: a header not finished within header_timeout is closed" {
	pconf "header_timeout 1"
	start_tine
	SECONDS=0
	run raw -t 5000 -d 3000 -s 20 -e "PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\\r\\n$GET"
	[ -z "$output" ]
	[ "$SECONDS" -le 3 ]
	wait_for grep -q "not sent in time" "$T/error.log"
	TINE_STDERR_ALLOW='PROXY protocol header refused'
}

@test "proxy: a header in pieces is read whole and nothing after it is lost" {
	pconf
	start_tine
	run -0 raw -s 7 -d 30 -e "PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\\r\\n$GET"
	[[ $output == "HTTP/1.1 200 OK"* ]]
	logged 203.0.113.7 /
}

@test "proxy: from an address proxy_protocol_from does not name: closed, logged" {
	write_conf --no-default listen "listen 127.0.0.1:$PORT proxy_protocol" \
	    "proxy_protocol_from 192.0.2.0/24"
	start_tine
	run raw -t 3000 -e "PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\\r\\n$GET"
	[ -z "$output" ]
	wait_for grep -q "127.0.0.1: PROXY protocol header refused on 127.0.0.1:$PORT: not from proxy_protocol_from" \
	    "$T/error.log"
	TINE_STDERR_ALLOW='PROXY protocol header refused'
}

@test "proxy: a plain listener beside it takes no header; a TLS one takes it before the handshake" {
	local tport
	command -v openssl >/dev/null || skip "no openssl"
	tport=$(free_port)
	make_ca
	make_cert localhost
	write_conf --no-default listen "listen 127.0.0.1:$PORT" \
	    "listen 127.0.0.1:$tport tls proxy_protocol" \
	    "proxy_protocol_from 127.0.0.1" \
	    "tls_certificate $T/localhost.pem" "tls_key $T/localhost.key"
	start_tine
	run -0 req /
	[ "$output" = "hello tine" ]
	run -0 curl -sS --max-time 5 --haproxy-protocol --cacert "$T/ca/ca.pem" \
	    --resolve "localhost:$tport:127.0.0.1" "https://localhost:$tport/"
	[ "$output" = "hello tine" ]
	run curl -sS --max-time 5 --cacert "$T/ca/ca.pem" \
	    --resolve "localhost:$tport:127.0.0.1" "https://localhost:$tport/"
	[ "$status" != 0 ]
	TINE_STDERR_ALLOW='PROXY protocol header refused'
}

@test "proxy: -T prints proxy_protocol and proxy_protocol_from; a listener without it is an error" {
	pconf
	run -0 "$TINE_BIN" -T -f "$CONF"
	grep -qx "listen 127.0.0.1:$PORT proxy_protocol" <<<"$output"
	grep -qx 'proxy_protocol_from 127.0.0.0/8' <<<"$output"
	write_conf --no-default listen "listen 127.0.0.1:$PORT proxy_protocol"
	run "$TINE_BIN" -t -f "$CONF"
	[ "$status" = 1 ]
	[[ $output == *"proxy_protocol needs proxy_protocol_from"* ]]
}

# reading_slots: slots the status page shows reading (asked from a
# connection on the plain listener of pconf_plain).
reading_slots() {
	curl -sS --max-time 5 "http://127.0.0.1:$PPORT/status" |
	    python3 -c 'import json, sys
print(sum(1 for w in json.load(sys.stdin)["slots"] if w["state"] == "reading"))'
}

reading_at_least() {
	[ "$(reading_slots)" -ge "$1" ]
}

@test "proxy: a worker waiting for a header is busy, not idle; a peer that left frees it at once" {
	local i
	local -a pids=()
	PPORT=$(free_port)
	write_conf --no-default listen "listen 127.0.0.1:$PORT proxy_protocol" \
	    "listen 127.0.0.1:$PPORT" "proxy_protocol_from 127.0.0.1" \
	    "status_path /status" "workers 2" "max_workers 8" \
	    "header_timeout 10"
	start_tine
	# Two connections that sent one byte of a header and wait.
	for i in 1 2; do
		raw -t 4000 -e 'P' >/dev/null 2>&1 &
		pids+=($!)
	done
	wait_for reading_at_least 2
	# The pool still answers (it grew past the two pinned workers).
	run -0 curl -sS --max-time 2 "http://127.0.0.1:$PPORT/"
	[ "$output" = "hello tine" ]
	wait "${pids[@]}" || true
	# Their peers closed after 4 s: the workers are free well before
	# header_timeout (10 s).
	SECONDS=0
	wait_for eval '[ "$(reading_slots)" = 0 ]'
	[ "$SECONDS" -le 3 ]
}

# send_parts PAUSE_S PART...: one connection to $PORT that sends each
# PART (printf escapes) PAUSE_S apart, then prints what it reads until
# the server closes (at most 8 s).
send_parts() {
	python3 - "$PORT" "$@" <<'PY'
import socket, sys, time
port, pause, parts = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
s = socket.create_connection(("127.0.0.1", port), timeout=8)
try:
    for i, p in enumerate(parts):
        if i:
            time.sleep(pause)
        s.sendall(p.encode().decode("unicode_escape").encode("latin-1"))
except OSError:
    pass
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except OSError:
    pass
sys.stdout.write(out.decode("latin-1"))
PY
}

@test "proxy: header and head together have one header_timeout" {
	pconf "header_timeout 2"
	start_tine
	# The header at once, the head's first bytes 1.5 s later and its
	# rest 1.5 s after them: 2 s from the accept cut it, where a second
	# header_timeout from its first byte would have let it in.
	SECONDS=0
	run send_parts 1.5 'PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\n' \
	    'GET / ' 'HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	[ "$SECONDS" -le 4 ]
	[[ $output != *"hello tine"* ]]
}

@test "proxy: over max_connections_per_ip behind a balancer: 503, not a bare close" {
	pconf "max_connections_per_ip 1" "workers 4"
	start_tine
	# One connection of 203.0.113.7 held open.
	raw -t 4000 -e "PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\\r\\nGET / HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n" >/dev/null 2>&1 &
	HELD=$!
	sleep 0.5
	# Header and request sent apart, as a balancer does.
	run send_parts 0.02 'PROXY TCP4 203.0.113.7 127.0.0.1 5556 80\r\n' \
	    'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	[[ $output == "HTTP/1.1 503 "* ]]
	[[ $output == *$'\r\nRetry-After: 1\r\n'* ]]
	wait "$HELD" || true
	TINE_STDERR_ALLOW='over max_connections_per_ip'
}
