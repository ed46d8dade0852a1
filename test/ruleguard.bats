#!/usr/bin/env bats
# ruleguard.bats: the ways around a rule that tine closes: an index file
# or a fallback path served under the rules of its own location, an empty
# Host in a redirect, HTTP/1.0 without Host on a TLS site chosen by SNI,
# OPTIONS with a site's header lines and allow/deny, IPv4-mapped entries
# in allow/deny, and the header names tine writes itself.

load helpers

setup() {
	setup_tine_dir
	mkdir -p "$T/www/adm" "$T/www/app" "$T/www/api" "$T/b"
	echo home >"$T/www/index.html"
	echo adm >"$T/www/adm/index.html"
	echo app >"$T/www/app/index.html"
	echo b >"$T/b/index.html"
	htpasswd -cbB "$T/htpasswd" alice pw1 2>/dev/null ||
	    skip "no htpasswd (apache2-utils)"
}

teardown() {
	teardown_tine
}

code() {
	req "$@" -o /dev/null -w '%{http_code}'
}

@test "ruleguard: an index file is served under its own location's rules" {
	write_conf "location /adm/index.html {" "	auth_basic adm" \
	    "	auth_file htpasswd" "}" "location /index.html {" \
	    "	deny all" "}"
	start_tine
	[ "$(code /adm/index.html)" = 401 ]
	[ "$(code /adm/)" = 401 ]
	[ "$(code /adm/. --path-as-is)" = 401 ]
	[ "$(code /adm/ -u alice:pw1)" = 200 ]
	[ "$(req /adm/ -u alice:pw1)" = adm ]
	[ "$(code /)" = 403 ]
	[ "$(code '/?x')" = 403 ]
}

@test "ruleguard: a fallback path meets the rules of its location" {
	write_conf "fallback /app/index.html" "location /app/* {" \
	    "	auth_basic app" "	auth_file htpasswd" "}"
	start_tine
	[ "$(code /no/such/page)" = 401 ]
	[ "$(code /no/such/page -u alice:pw1)" = 200 ]
	[ "$(req /no/such/page -u alice:pw1)" = app ]
	[ "$(req /)" = home ]
}

@test "ruleguard: an empty Host redirects to the site's name, never to a path" {
	write_conf "server example.test {" "	return 301 https://\$host\$request_uri" "}"
	start_tine
	rq -e 'GET /evil.test/x?q HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n'
	grep -qx 'HTTP/1.1 301 Moved Permanently' "$T/head"
	grep -qx 'Location: https://example.test/evil.test/x?q' "$T/head"
}

# get10 SNI: an HTTP/1.0 GET / without Host over TLS with that SNI.
get10() {
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -quiet \
	    -servername "$1" -connect "127.0.0.1:$PORT" 2>/dev/null
}

@test "ruleguard: HTTP/1.0 without Host on TLS is answered by the site SNI chose" {
	command -v openssl >/dev/null || skip "no openssl command"
	make_ca
	make_cert a 0a a.test
	make_cert b 0b b.test
	mkdir -p "$T/c"
	echo c >"$T/c/index.html"
	# c.test shares a's certificate; b.test has its own.
	write_conf --no-default listen "listen 127.0.0.1:$PORT tls" \
	    "root www" "tls_certificate a.pem" "tls_key a.key" \
	    "server a.test {" "}" "server c.test {" "	root c" "}" \
	    "server b.test {" "	root b" \
	    "	tls_certificate b.pem" "	tls_key b.key" "}"
	start_tine
	run -0 get10 b.test
	[[ $output == *"HTTP/1.1 200 OK"* ]]
	[[ $output == *$'\r\n\r\nb'* ]]
	run -0 get10 c.test
	[[ $output == *"HTTP/1.1 200 OK"* ]]
	[[ $output == *$'\r\n\r\nc'* ]]
}

@test "ruleguard: a return on an index file does not send its directory to itself" {
	write_conf "fallback /index.html" "location /index.html {" \
	    "	return 301 /" "}"
	start_tine
	[ "$(code /index.html)" = 301 ]
	[ "$(code /)" = 200 ]
	[ "$(req /)" = home ]
	[ "$(code /missing)" = 200 ]
	[ "$(req /missing)" = home ]
}

@test "ruleguard: OPTIONS on the status endpoint meets no site rule" {
	write_conf "status_path /status" "header X-Site 1" \
	    "location /status {" "	deny all" "}"
	start_tine
	rq -e 'OPTIONS /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
	grep -qx 'HTTP/1.1 204 No Content' "$T/head"
	! grep -q X-Site "$T/head"
	[ "$(code /status)" = 200 ]
}

@test "ruleguard: SHA-256-crypt users are taken like SHA-512 ones" {
	command -v mkpasswd >/dev/null || skip "no mkpasswd (whois)"
	printf 'dave:%s\n' "$(mkpasswd -m sha-256 d-pw)" >"$T/sha256"
	write_conf "location /adm/* {" "	auth_basic adm" \
	    "	auth_file sha256" "}"
	run -0 "$TINE_BIN" -t -f "$T/tine.conf"
	start_tine
	[ "$(code /adm/ -u dave:d-pw)" = 200 ]
	[ "$(code /adm/ -u dave:x)" = 401 ]
}

@test "ruleguard: OPTIONS carries the location's header lines and obeys deny" {
	write_conf "location /api/* {" \
	    "	header Access-Control-Allow-Origin https://app.test" "}" \
	    "location /app/* {" "	deny all" "}"
	start_tine
	run -0 req /api/x -i -X OPTIONS
	[[ $output == *"HTTP/1.1 204 No Content"* ]]
	[[ $output == *"Access-Control-Allow-Origin: https://app.test"* ]]
	[ "$(code /app/x -X OPTIONS)" = 403 ]
	# OPTIONS * names no path: no site rules.
	rq -e 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
	grep -qx 'HTTP/1.1 204 No Content' "$T/head"
	! grep -q Access-Control "$T/head"
}

@test "ruleguard: an IPv4-mapped allow/deny entry matches IPv4 clients" {
	write_conf "location /app/* {" "	deny ::ffff:127.0.0.0/104" "}"
	start_tine
	[ "$(code /app/)" = 403 ]
	[ "$(code /)" = 200 ]
	run -0 "$TINE_BIN" -T -f "$T/tine.conf"
	[[ $output == *$'\tdeny 127.0.0.0/8\n'* ]]
}

@test "ruleguard: header lines may not repeat what tine writes itself" {
	local h
	for h in Server Content-Length content-type Content-Encoding ETag \
	    Transfer-Encoding Connection Location WWW-Authenticate; do
		write_conf "header $h x"
		run -1 "$TINE_BIN" -t -f "$T/tine.conf"
		[[ $output == *"tine.conf:"*": header "*" is written by tine itself"* ]]
	done
	write_conf "header Vary Origin" "header X-Frame-Options DENY"
	run -0 "$TINE_BIN" -t -f "$T/tine.conf"
}
