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
