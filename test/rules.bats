#!/usr/bin/env bats
# rules.bats: the rules of sites and locations (issue 15, SPEC "Sites,
# rules, TLS, compression"): header, return, fallback, error_page,
# allow/deny and auth_basic with auth_file; how each level adds to or
# replaces the one around it, the order they apply in (allow/deny, auth,
# return, the file, fallback, error_page), conditional and range
# requests and HEAD through them, what -t refuses (with FILE:LINE) and
# what -T prints back, and reloads that change them without a failed
# request. Hashes for auth_file come from htpasswd (apache2-utils),
# mkpasswd (whois) and openssl.

load helpers

setup() {
	setup_tine_dir
	mkdir -p "$T/www/assets" "$T/www/sub" "$T/www/private" \
	    "$T/www/errors" "$T/www/noindex" "$T/www/a" "$T/www/b" \
	    "$T/www/c" "$T/www/docs" "$T/other"
	printf 'console.log(1);\n' >"$T/www/assets/app.js"
	printf 'about\n' >"$T/www/about.html"
	printf 'sub\n' >"$T/www/sub/index.html"
	printf 'secret\n' >"$T/www/private/index.html"
	printf 'noindex\n' >"$T/www/noindex/f"
	printf '<p>custom 404</p>\n' >"$T/www/errors/404.html"
	printf '<p>custom 403</p>\n' >"$T/www/errors/403.html"
	printf '<p>custom 401</p>\n' >"$T/www/errors/401.html"
	printf '<p>custom 410</p>\n' >"$T/www/errors/410.html"
	printf 'docs app\n' >"$T/www/docs/index.html"
	printf '<p>other 404</p>\n' >"$T/other/e.html"
	for d in a b c; do printf '%s\n' "$d" >"$T/www/$d/x"; done
}

teardown() {
	teardown_tine
}

need() {
	command -v "$1" >/dev/null 2>&1 ||
		skip "$1 is not installed (Debian package $2)"
}

# code PATH [CURL_ARGS...]: the status code alone.
code() {
	req "$@" -o /dev/null -w '%{http_code}' || true
}

# has NAME VALUE: the last fetch's head has exactly this field line.
has() {
	grep -qixF -- "$1: $2" "$T/head" ||
		fail_with "want the field \"$1: $2\""
}

# lacks NAME: the last fetch's head has no NAME field.
lacks() {
	! grep -qi "^$1:" "$T/head" || fail_with "want no $1 field"
}

b64() {
	printf '%s' "$1" | base64 -w0
}

# head_of PATH [FIELD_LINE...]: a HEAD of PATH with Host $HEAD_HOST (else
# t) and these fields, then Connection: close; the head goes to $T/head,
# every byte after it (none, for a HEAD) to $T/body, the status to CODE.
head_of() {
	local path=$1 f fields=
	shift
	for f in "$@"; do
		fields+="$f\\r\\n"
	done
	rq -m -e "HEAD $path HTTP/1.1\\r\\nHost: ${HEAD_HOST:-t}\\r\\n${fields}Connection: close\\r\\n\\r\\n"
	CODE=$(head -1 "$T/head" | cut -d' ' -f2)
}

# refused LINE PATTERN CONF_LINE...: $CONF holds the CONF_LINEs; tine -t
# exits 1 with an error on LINE whose message matches PATTERN (an ERE,
# any case).
refused() {
	local line=$1 pat=$2
	shift 2
	printf '%s\n' "$@" >"$CONF"
	run --separate-stderr "$TINE_BIN" -t -f "$CONF"
	if [ "$status" -ne 1 ] ||
	    ! grep -F -- "$CONF:$line: " <<<"$stderr" | grep -qiE -- "$pat"; then
		echo "want status 1 and \"$CONF:$line: ...$pat...\"; config:" >&2
		cat -n "$CONF" >&2
		echo "got status $status, stderr:" >&2
		printf '%s\n' "$stderr" >&2
		return 1
	fi
}

# log_field N MARK: field N of the access-log line whose request has MARK.
log_field() {
	wait_for grep -qF -- "$2" "$T/access.log" || return 1
	grep -F -- "$2" "$T/access.log" | tail -1 | awk -v n="$1" '{ print $n }'
}

have_ipv6_loopback() {
	python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null
}

# ---- header ----

@test "header: added to 2xx, 3xx and 304, never to 4xx" {
	write_conf "header X-Rule yes" \
	    "header Content-Security-Policy \"default-src 'self'\"" \
	    "header X-Words a  b   c" "status_path /status" \
	    "location /moved/* {" "	return 302 http://elsewhere.test/" "}"
	start_tine
	fetch /
	[ "$CODE" = 200 ] || fail_with "GET /"
	has X-Rule yes
	has Content-Security-Policy "default-src 'self'"
	has X-Words "a b c"
	etag=$(hdr ETag)
	head_of /
	[ "$CODE" = 200 ] && [ ! -s "$T/body" ] || fail_with "HEAD /"
	has X-Rule yes
	# 3xx: the slash redirect of a directory, and a return.
	fetch /sub
	[ "$CODE" = 301 ] || fail_with "/sub"
	has X-Rule yes
	fetch /moved/x
	[ "$CODE" = 302 ] || fail_with "/moved/x"
	has X-Rule yes
	has Location http://elsewhere.test/
	fetch / -H "If-None-Match: $etag"
	[ "$CODE" = 304 ] || fail_with "If-None-Match"
	has X-Rule yes
	# 4xx: none.
	fetch /nope
	[ "$CODE" = 404 ] || fail_with "/nope"
	lacks X-Rule
	lacks Content-Security-Policy
	fetch /noindex/
	[ "$CODE" = 403 ] || fail_with "/noindex/"
	lacks X-Rule
	fetch / -X POST
	[ "$CODE" = 405 ] || fail_with "POST"
	lacks X-Rule
	# The status endpoint is global: no site rules.
	fetch /status
	[ "$CODE" = 200 ] || fail_with "/status"
	lacks X-Rule
}

@test "header: a site adds to the top level, a location to its site" {
	write_conf "header X-Top t" "header X-Same top" \
	    "location /a/* {" "	header X-Top-Loc tl" "}" \
	    "server a.test {" "	header X-Site s" \
	    "	location /assets/* {" "		header X-Loc l" \
	    "		header X-Same loc" "	}" "}" \
	    "server b.test {" "}"
	start_tine
	fetch /assets/app.js -H "Host: a.test"
	[ "$CODE" = 200 ] || fail_with "a.test /assets/app.js"
	has X-Top t
	has X-Site s
	has X-Loc l
	# The same name at two levels: both lines.
	has X-Same top
	has X-Same loc
	fetch / -H "Host: a.test"
	has X-Top t
	has X-Site s
	lacks X-Loc
	[ "$(hdr X-Same)" = top ] || fail_with "X-Same: top alone"
	# A site without lines of its own: the top level's.
	fetch / -H "Host: b.test"
	has X-Top t
	lacks X-Site
	# A top-level location adds to the site it serves.
	fetch /a/x -H "Host: a.test"
	[ "$CODE" = 200 ] || fail_with "a.test /a/x"
	has X-Top t
	has X-Site s
	has X-Top-Loc tl
}

@test "header: Cache-Control on /assets/* but not on /index.html" {
	write_conf "location /assets/* {" \
	    "	header Cache-Control \"public, max-age=31536000, immutable\"" "}"
	start_tine
	fetch /assets/app.js
	[ "$CODE" = 200 ] || fail_with "/assets/app.js"
	has Cache-Control "public, max-age=31536000, immutable"
	[ "$(grep -ci '^cache-control:' "$T/head")" = 1 ] ||
		fail_with "one Cache-Control"
	fetch /index.html
	[ "$CODE" = 200 ] || fail_with "/index.html"
	lacks Cache-Control
	fetch /
	lacks Cache-Control
	fetch /assets/missing.js
	[ "$CODE" = 404 ] || fail_with "/assets/missing.js"
	lacks Cache-Control
}

@test "header: a Server line never doubles tine's own Server field" {
	# Server is not a list (RFC 9110, 5.3 and 10.2.4): a second line is
	# malformed. -t may refuse it (on its line, the 8th), or tine may
	# send one Server field; two it may not.
	write_conf "header Server hidden"
	run --separate-stderr "$TINE_BIN" -t -f "$CONF"
	if [ "$status" -ne 0 ]; then
		[[ $stderr == *"$CONF:8: "* ]]
		return 0
	fi
	start_tine
	fetch /
	[ "$CODE" = 200 ] || fail_with "GET /"
	[ "$(grep -ci '^server:' "$T/head")" = 1 ] ||
		fail_with "two Server fields"
}

@test "header: conditional and range requests through a location" {
	write_conf "location /assets/* {" "	header Cache-Control max-age=60" "}"
	start_tine
	fetch /assets/app.js
	[ "$CODE" = 200 ] || fail_with "GET"
	etag=$(hdr ETag)
	lm=$(hdr Last-Modified)
	[ -n "$etag" ] && [ -n "$lm" ] || fail_with "validators"
	fetch /assets/app.js -H "If-None-Match: $etag"
	[ "$CODE" = 304 ] && [ ! -s "$T/body" ] || fail_with "If-None-Match"
	has Cache-Control max-age=60
	has ETag "$etag"
	fetch /assets/app.js -H "If-Modified-Since: $lm"
	[ "$CODE" = 304 ] || fail_with "If-Modified-Since"
	has Cache-Control max-age=60
	fetch /assets/app.js -H 'Range: bytes=0-6'
	[ "$CODE" = 206 ] && [ "$(cat "$T/body")" = console ] ||
		fail_with "Range"
	has Content-Range "bytes 0-6/16"
	has Cache-Control max-age=60
	fetch /assets/app.js -H 'Range: bytes=-3' -H "If-Range: $etag"
	[ "$CODE" = 206 ] && [ "$(cat "$T/body")" = ');' ] ||
		fail_with "If-Range, current"
	fetch /assets/app.js -H 'Range: bytes=0-6' -H 'If-Range: "stale"'
	[ "$CODE" = 200 ] && cmp -s "$T/body" "$T/www/assets/app.js" ||
		fail_with "If-Range, stale"
	has Cache-Control max-age=60
	head_of /assets/app.js
	[ "$CODE" = 200 ] && [ ! -s "$T/body" ] || fail_with "HEAD"
	has Content-Length 16
	has Cache-Control max-age=60
	# Failures are 4xx: no rule header.
	fetch /assets/app.js -H 'Range: bytes=100-200'
	[ "$CODE" = 416 ] || fail_with "unsatisfiable"
	has Content-Range "bytes */16"
	lacks Cache-Control
	fetch /assets/app.js -H 'If-Match: "nope"'
	[ "$CODE" = 412 ] || fail_with "If-Match"
	lacks Cache-Control
}

# ---- return ----

@test "return: 301 with \$scheme \$host \$request_uri \$path \$query" {
	write_conf "location /old/* {" \
	    "	return 301 https://new.test/go?s=\$scheme&h=\$host&p=\$path&q=\$query&u=\$request_uri" \
	    "}"
	start_tine
	# The path and query as received, still encoded; the host in lower
	# case without its port.
	rq -e 'GET /old/a%20b/%7Ec?x=1&y=%2F HTTP/1.1\r\nHost: Example.TEST:8080\r\nConnection: close\r\n\r\n'
	CODE=$(head -1 "$T/head" | cut -d' ' -f2)
	[ "$CODE" = 301 ] || fail_with "301"
	has Location 'https://new.test/go?s=http&h=example.test&p=/old/a%20b/%7Ec&q=x=1&y=%2F&u=/old/a%20b/%7Ec?x=1&y=%2F'
	grep -q '<title>301 Moved Permanently</title>' "$T/body" ||
		fail_with "the built-in 301 page"
	[ "$(hdr Content-Length)" = "$(wc -c <"$T/body")" ] ||
		fail_with "Content-Length"
	# No query: $query is empty and $request_uri is the path.
	fetch /old/x
	[ "$CODE" = 301 ] || fail_with "no query"
	has Location 'https://new.test/go?s=http&h=127.0.0.1&p=/old/x&q=&u=/old/x'
	# An encoded CR LF stays encoded: no header can be injected.
	rq -e 'GET /old/%0d%0aX-Injected:%20yes HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	grep -q '^Location: https://new.test/go?s=http&h=t&p=/old/%0d%0aX-Injected:%20yes&q=&u=/old/%0d%0aX-Injected:%20yes$' "$T/head" ||
		fail_with "encoded CR LF"
	! grep -qi '^X-Injected' "$T/head" || fail_with "injected"
	# HEAD: the same head, no body.
	head_of /old/x
	[ "$CODE" = 301 ] && [ ! -s "$T/body" ] || fail_with "HEAD"
	has Location 'https://new.test/go?s=http&h=t&p=/old/x&q=&u=/old/x'
	# Other paths are files as before.
	[ "$(req /index.html)" = "hello tine" ]
}

@test "return: 410 with the built-in page, or its error_page; 204" {
	write_conf "location /gone/* {" "	return 410" "}" \
	    "location /gone2/* {" "	return 410" \
	    "	error_page 410 /errors/410.html" "}" \
	    "location /empty {" "	return 204" "}" \
	    "server gone.test {" "	return 451" "}" \
	    "server a.test {" "}"
	start_tine
	fetch /gone/x -H "Host: a.test"
	[ "$CODE" = 410 ] || fail_with "410"
	grep -q '<title>410 Gone</title>' "$T/body" || fail_with "410 page"
	[ "$(hdr Content-Length)" = "$(wc -c <"$T/body")" ] ||
		fail_with "Content-Length"
	# Even for a file that exists: return comes first.
	mkdir -p "$T/www/gone"
	printf 'still here\n' >"$T/www/gone/f"
	[ "$(code /gone/f -H "Host: a.test")" = 410 ]
	HEAD_HOST=a.test head_of /gone/x
	[ "$CODE" = 410 ] && [ ! -s "$T/body" ] || fail_with "HEAD 410"
	fetch /gone2/x -H "Host: a.test"
	[ "$CODE" = 410 ] && cmp -s "$T/body" "$T/www/errors/410.html" ||
		fail_with "error_page 410"
	fetch /empty -H "Host: a.test"
	[ "$CODE" = 204 ] && [ ! -s "$T/body" ] || fail_with "204"
	# A whole site answered by return.
	fetch /anything -H "Host: gone.test"
	[ "$CODE" = 451 ] || fail_with "451"
	grep -q '<title>451 ' "$T/body" || fail_with "451 page"
	[ "$(req / -H 'Host: a.test')" = "hello tine" ]
}

@test "return: 308 from HTTP to HTTPS, the README recipe" {
	command -v openssl >/dev/null || skip "no openssl command"
	make_ca
	make_cert site 0a a.test www.a.test
	TLS_PORT=$(free_port)
	write_conf --no-default listen "tls_certificate site.pem" \
	    "tls_key site.key" \
	    "server a.test www.a.test {" "	listen 127.0.0.1:$PORT" \
	    "	return 308 https://\$host\$request_uri" "}" \
	    "server a.test www.a.test {" "	listen 127.0.0.1:$TLS_PORT tls" \
	    "	location /scheme {" "		return 302 http://t.test/\$scheme" \
	    "	}" "}"
	start_tine
	fetch "/a%20b/c?d=e&f" -H "Host: WWW.a.test:$PORT"
	[ "$CODE" = 308 ] || fail_with "308"
	has Location 'https://www.a.test/a%20b/c?d=e&f'
	grep -q '<title>308 Permanent Redirect</title>' "$T/body" ||
		fail_with "308 page"
	HEAD_HOST=a.test head_of /index.html
	[ "$CODE" = 308 ] && [ ! -s "$T/body" ] || fail_with "HEAD"
	has Location https://a.test/index.html
	# Followed, as a browser would: the HTTPS site answers.
	run -0 curl -sS --max-time 5 --noproxy '*' -L --cacert "$T/ca/ca.pem" \
	    --resolve "www.a.test:$PORT:127.0.0.1" \
	    --connect-to "www.a.test:443:127.0.0.1:$TLS_PORT" \
	    -w '%{url_effective} %{http_code} %{num_redirects}' \
	    "http://www.a.test:$PORT/"
	[ "$output" = $'hello tine\nhttps://www.a.test/ 200 1' ]
	# $scheme over TLS.
	run -0 curl -sS --max-time 5 --noproxy '*' --cacert "$T/ca/ca.pem" \
	    --resolve "a.test:$TLS_PORT:127.0.0.1" -o /dev/null \
	    -w '%{http_code} %{redirect_url}' "https://a.test:$TLS_PORT/scheme"
	[ "$output" = "302 http://t.test/https" ]
}

# ---- fallback ----

@test "fallback: unknown paths get the app, files and real 404s stay" {
	write_conf "fallback /index.html" \
	    "location /assets/* {" "	fallback off" "}" \
	    "location /docs/* {" "	fallback /docs/index.html" "}"
	start_tine
	fetch /settings/profile
	[ "$CODE" = 200 ] && [ "$(cat "$T/body")" = "hello tine" ] ||
		fail_with "an unknown path"
	[[ $(hdr Content-Type) == text/html* ]] || fail_with "Content-Type"
	etag=$(hdr ETag)
	[ -n "$etag" ] || fail_with "an ETag on the fallback"
	fetch "/settings/profile?tab=2"
	[ "$CODE" = 200 ] && [ "$(cat "$T/body")" = "hello tine" ] ||
		fail_with "with a query"
	# Existing files as they are.
	fetch /about.html
	[ "$CODE" = 200 ] && [ "$(cat "$T/body")" = about ] ||
		fail_with "/about.html"
	fetch /assets/app.js
	[ "$CODE" = 200 ] && cmp -s "$T/body" "$T/www/assets/app.js" ||
		fail_with "/assets/app.js"
	[ "$(req /sub/)" = sub ]
	# fallback off: a real 404.
	fetch /assets/missing.js
	[ "$CODE" = 404 ] || fail_with "/assets/missing.js"
	grep -q '<title>404 Not Found</title>' "$T/body" || fail_with "404 page"
	# A location's own fallback.
	fetch /docs/guide/intro
	[ "$CODE" = 200 ] && [ "$(cat "$T/body")" = "docs app" ] ||
		fail_with "/docs/ fallback"
	# Only what would be 404 falls back: a directory without index is 403.
	[ "$(code /noindex/)" = 403 ]
	# Conditionals, ranges and HEAD as on any file.
	fetch /settings/profile -H "If-None-Match: $etag"
	[ "$CODE" = 304 ] && [ ! -s "$T/body" ] || fail_with "If-None-Match"
	fetch /other/route -H 'Range: bytes=0-4'
	[ "$CODE" = 206 ] && [ "$(cat "$T/body")" = hello ] ||
		fail_with "Range"
	has Content-Range "bytes 0-4/11"
	head_of /settings/profile
	[ "$CODE" = 200 ] && [ ! -s "$T/body" ] || fail_with "HEAD"
	has Content-Length 11
}

# ---- error_page ----

@test "error_page: custom 404 and 403 with their status; missing file; HEAD" {
	write_conf "header X-Rule yes" \
	    "error_page 404 /errors/404.html" "error_page 403 /errors/403.html" \
	    "location /noindex/* {" "	error_page 404 /errors/missing.html" "}" \
	    "location /elsewhere/* {" "	root other" \
	    "	error_page 404 /e.html" "}"
	start_tine
	fetch /nope
	[ "$CODE" = 404 ] && cmp -s "$T/body" "$T/www/errors/404.html" ||
		fail_with "custom 404"
	[[ $(hdr Content-Type) == text/html* ]] || fail_with "Content-Type"
	has Content-Length "$(wc -c <"$T/www/errors/404.html")"
	lacks X-Rule
	head_of /nope
	[ "$CODE" = 404 ] && [ ! -s "$T/body" ] || fail_with "HEAD"
	has Content-Length "$(wc -c <"$T/www/errors/404.html")"
	fetch /noindex/
	[ "$CODE" = 403 ] && cmp -s "$T/body" "$T/www/errors/403.html" ||
		fail_with "custom 403 (inherited per status)"
	lacks X-Rule
	# The page's file is missing: the built-in page, same status.
	fetch /noindex/nope
	[ "$CODE" = 404 ] || fail_with "missing error page"
	grep -q '<title>404 Not Found</title>' "$T/body" ||
		fail_with "built-in 404"
	has Content-Length "$(wc -c <"$T/body")"
	# A file beneath the root in effect: the location's.
	fetch /elsewhere/nope
	[ "$CODE" = 404 ] && cmp -s "$T/body" "$T/other/e.html" ||
		fail_with "error page from the location's root"
	# Requesting the error page itself is an ordinary 200.
	fetch /errors/404.html
	[ "$CODE" = 200 ] || fail_with "/errors/404.html"
}

# ---- allow / deny ----

@test "allow/deny: IPv4 and IPv6, first match, deny all, replaced lists" {
	have_ipv6_loopback || skip "no IPv6 loopback"
	write_conf "listen [::1]:$PORT" "deny 127.0.0.1" \
	    "location /b/* {" "	deny ::1" "}" \
	    "server a.test {" "	allow 127.0.0.1" "	deny all" \
	    "	location /a/* {" "		deny 127.0.0.0/8" \
	    "		allow 127.0.0.1 ::1" "	}" \
	    "	location /b/* {" "		deny ::1/128" "	}" \
	    "	location /c/* {" "		deny all" "	}" "}" \
	    "server b.test {" "	error_page 403 /errors/403.html" "}"
	start_tine
	v4() { code "http://127.0.0.1:$PORT$1" -H "Host: ${2:-a.test}"; }
	v6() { code "http://[::1]:$PORT$1" -g -H "Host: ${2:-a.test}"; }
	# b.test inherits the top level: deny 127.0.0.1, the rest allowed.
	[ "$(v4 / b.test)" = 403 ]
	[ "$(v6 / b.test)" = 200 ]
	fetch "http://127.0.0.1:$PORT/" -H "Host: b.test"
	cmp -s "$T/body" "$T/www/errors/403.html" || fail_with "custom 403"
	# A top-level location's list replaces the top level's.
	[ "$(v4 /b/x b.test)" = 200 ]
	[ "$(v6 /b/x b.test)" = 403 ]
	# a.test: allow 127.0.0.1, deny all (the first match wins).
	[ "$(v4 /)" = 200 ]
	[ "$(v6 /)" = 403 ]
	fetch "http://[::1]:$PORT/" -g -H "Host: a.test"
	grep -q '<title>403 Forbidden</title>' "$T/body" || fail_with "403 page"
	# /a/*: deny 127.0.0.0/8 comes before allow 127.0.0.1.
	[ "$(v4 /a/x)" = 403 ]
	[ "$(v6 /a/x)" = 200 ]
	# /b/*: its own list replaces the site's (no deny all there).
	[ "$(v4 /b/x)" = 200 ]
	[ "$(v6 /b/x)" = 403 ]
	# /c/*: deny all.
	[ "$(v4 /c/x)" = 403 ]
	[ "$(v6 /c/x)" = 403 ]
	# A denied HEAD, and a denied missing file: 403 before 404.
	[ "$(code "http://127.0.0.1:$PORT/c/x" -I -H "Host: a.test")" = 403 ]
	[ "$(v4 /c/nope)" = 403 ]
	# The access log says 403.
	req "http://127.0.0.1:$PORT/c/x?logged" -H "Host: a.test" >/dev/null
	[ "$(log_field 9 '?logged')" = 403 ]
}

@test "allow/deny: a client from another loopback address" {
	write_conf "allow 127.0.0.1" "deny all"
	start_tine
	[ "$(code /)" = 200 ]
	[ "$(code / --interface 127.0.0.2)" = 403 ]
}

# ---- auth_basic, auth_file ----

# make_users: $T/users with alice (bcrypt, htpasswd -B), yan (yescrypt),
# sha (SHA-512 crypt), and their passwords in the variables below.
make_users() {
	need htpasswd apache2-utils
	need mkpasswd whois
	command -v openssl >/dev/null || skip "no openssl command"
	ALICE_PW='alice pw'
	YAN_PW='yän pw'
	SHA_PW='pw:with:colons'
	{
		echo "# users of the private area"
		htpasswd -nbB alice "$ALICE_PW" | grep .
		echo
		printf 'yan:%s\n' "$(mkpasswd -m yescrypt "$YAN_PW")"
		printf 'sha:%s\n' "$(openssl passwd -6 "$SHA_PW")"
	} >"$T/users"
	grep -q '^alice:\$2y\$' "$T/users"
	grep -q '^yan:\$y\$' "$T/users"
	grep -q '^sha:\$6\$' "$T/users"
}

# auth_conf [LINE...]: /private/* behind auth_basic "Private area".
auth_conf() {
	write_conf "auth_file users" "header X-Rule yes" \
	    "location /private/* {" "	auth_basic \"Private area\"" "}" "$@"
}

CHALLENGE='Basic realm="Private area", charset="UTF-8"'

@test "auth_basic: bcrypt, yescrypt and SHA-512 users with the right password" {
	make_users
	auth_conf
	start_tine
	fetch "/private/?alice" -u "alice:$ALICE_PW"
	[ "$CODE" = 200 ] && [ "$(cat "$T/body")" = secret ] ||
		fail_with "alice (bcrypt)"
	has X-Rule yes
	lacks WWW-Authenticate
	fetch "/private/?yan" -u "yan:$YAN_PW"
	[ "$CODE" = 200 ] || fail_with "yan (yescrypt, UTF-8 password)"
	fetch "/private/?sha" -u "sha:$SHA_PW"
	[ "$CODE" = 200 ] || fail_with "sha (SHA-512, colons in the password)"
	# The scheme is case-insensitive (RFC 9110, 11.1).
	fetch "/private/?lower" -H "Authorization: basic $(b64 "alice:$ALICE_PW")"
	[ "$CODE" = 200 ] || fail_with "basic in lower case"
	# HEAD too.
	head_of /private/ "Authorization: Basic $(b64 "alice:$ALICE_PW")"
	[ "$CODE" = 200 ] && [ ! -s "$T/body" ] || fail_with "HEAD"
	# The rest of the site needs nothing.
	[ "$(code /)" = 200 ]
	# The verified user is the access log's third field.
	[ "$(log_field 3 '?alice')" = alice ]
	[ "$(log_field 3 '?yan')" = yan ]
	[ "$(log_field 3 '?sha')" = sha ]
	req "/?anon" >/dev/null
	[ "$(log_field 3 '?anon')" = - ]
}

@test "auth_basic: wrong password, unknown user, no header: 401 and the challenge" {
	make_users
	auth_conf
	start_tine
	fetch "/private/?wrong" -u "alice:alice pw2"
	[ "$CODE" = 401 ] || fail_with "wrong password"
	has WWW-Authenticate "$CHALLENGE"
	grep -q '<title>401 Unauthorized</title>' "$T/body" ||
		fail_with "the built-in 401 page"
	lacks X-Rule
	fetch "/private/?other" -u "yan:$ALICE_PW"
	[ "$CODE" = 401 ] || fail_with "another user's password"
	has WWW-Authenticate "$CHALLENGE"
	fetch "/private/?unknown" -u "mallory:$ALICE_PW"
	[ "$CODE" = 401 ] || fail_with "unknown user"
	has WWW-Authenticate "$CHALLENGE"
	fetch "/private/?none"
	[ "$CODE" = 401 ] || fail_with "no Authorization"
	has WWW-Authenticate "$CHALLENGE"
	head_of /private/index.html
	[ "$CODE" = 401 ] && [ ! -s "$T/body" ] || fail_with "HEAD"
	has WWW-Authenticate "$CHALLENGE"
	# A missing file behind auth: 401 first, never a 404 that tells.
	[ "$(code /private/nope)" = 401 ]
	[ "$(code /private/nope -u "alice:$ALICE_PW")" = 404 ]
	# Nobody is in the log for a failed attempt.
	[ "$(log_field 3 '?wrong')" = - ]
	[ "$(log_field 9 '?wrong')" = 401 ]
	[ "$(log_field 3 '?unknown')" = - ]
}

@test "auth_basic: a malformed Authorization is 401, never 500" {
	make_users
	auth_conf
	start_tine
	local long h
	long=$(head -c 3000 /dev/zero | tr '\0' 'A')
	for h in 'Basic !!!!notbase64!!!!' "Basic $(b64 alicenocolon)" \
	    'Basic' 'Basic ' 'Basic =' 'Basic ====' 'Basic YWxpY2U6' \
	    "Basic $(b64 ':')" "Basic $(b64 ":$ALICE_PW")" \
	    "Bearer $(b64 "alice:$ALICE_PW")" \
	    "Digest username=\"alice\"" "Basic $long" \
	    "Basic $(printf 'alice\0:x' | base64 -w0)" \
	    "Basic $(printf 'alice:\xff\xfe' | base64 -w0)"; do
		fetch /private/ -H "Authorization: $h"
		[ "$CODE" = 401 ] ||
			fail_with "Authorization: ${h:0:60}: want 401"
		has WWW-Authenticate "$CHALLENGE"
	done
	# Still serving, and no worker died.
	[ "$(code /private/ -u "alice:$ALICE_PW")" = 200 ]
	! grep -q 'exited on signal' "$T/error.log"
}

@test "auth_basic: off in a location, another realm, error_page 401" {
	make_users
	write_conf "auth_file users" \
	    "server a.test {" "	auth_basic \"Whole site\"" \
	    "	error_page 401 /errors/401.html" \
	    "	location /assets/* {" "		auth_basic off" "	}" \
	    "	location /private/* {" "		auth_basic Admins" "	}" "}"
	start_tine
	fetch / -H "Host: a.test"
	[ "$CODE" = 401 ] || fail_with "the site"
	has WWW-Authenticate 'Basic realm="Whole site", charset="UTF-8"'
	cmp -s "$T/body" "$T/www/errors/401.html" || fail_with "error_page 401"
	fetch /assets/app.js -H "Host: a.test"
	[ "$CODE" = 200 ] || fail_with "auth_basic off"
	fetch /private/ -H "Host: a.test"
	[ "$CODE" = 401 ] || fail_with "/private/"
	has WWW-Authenticate 'Basic realm="Admins", charset="UTF-8"'
	[ "$(code /private/ -H "Host: a.test" -u "alice:$ALICE_PW")" = 200 ]
}

@test "order: allow/deny, then auth, then return, then the file" {
	make_users
	auth_conf "location /q/* {" "	auth_basic Q" \
	    "	return 301 https://x.test/q" "}" \
	    "location /d/* {" "	deny all" "	auth_basic D" "}" \
	    "location /r/* {" "	deny all" "	return 301 https://x.test/r" "}"
	start_tine
	[ "$(code /q/x)" = 401 ]
	fetch /q/x -u "alice:$ALICE_PW"
	[ "$CODE" = 301 ] || fail_with "return after auth"
	has Location https://x.test/q
	fetch /d/x
	[ "$CODE" = 403 ] || fail_with "deny before auth"
	lacks WWW-Authenticate
	[ "$(code /d/x -u "alice:$ALICE_PW")" = 403 ]
	[ "$(code /r/x)" = 403 ]
}

@test "auth and deny: encoded, dotted and absolute paths do not dodge the glob" {
	make_users
	mkdir -p "$T/www/den"
	printf 'denied\n' >"$T/www/den/f"
	auth_conf "location /den/* {" "	deny all" "}"
	start_tine
	local path got
	for path in /%70rivate/ /%70%72%69%76%61%74%65/index.html \
	    /private/./index.html /private/x/../index.html /x/../private/ \
	    /private/%2e/index.html /x/%2e%2e/private/ //private/ \
	    /./private/index.html '/private/index.html?/public' \
	    /private%2Findex.html; do
		got=$(req "$path" --path-as-is -o "$T/body" -w '%{http_code}') ||
			true
		case $got in
		401 | 400 | 404) ;;
		*)
			echo "$path: $got, want 401 (or 400/404)" >&2
			cat "$T/body" >&2
			return 1
			;;
		esac
		! grep -q secret "$T/body" || { echo "$path: leaked" >&2; return 1; }
	done
	[ "$(code /%70rivate/ --path-as-is)" = 401 ]
	[ "$(code /x/../private/ --path-as-is)" = 401 ]
	for path in /%64en/f /den/./f /x/../den/f /den/%2e/f; do
		[ "$(code "$path" --path-as-is)" = 403 ] ||
			{ echo "$path: not 403" >&2; return 1; }
	done
	# The absolute form of the target is the same path.
	rq -e 'GET http://t/private/ HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	head -1 "$T/head" | grep -q '^HTTP/1.1 401 ' || fail_with "absolute form"
	rq -e 'GET http://t/den/f HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	head -1 "$T/head" | grep -q '^HTTP/1.1 403 ' || fail_with "absolute form, deny"
}

@test "auth: an unknown user and a wrong password cost what a right one does" {
	need htpasswd apache2-utils
	local right wrong unknown
	# bcrypt at cost 10: tens of milliseconds a check.
	htpasswd -nbB -C 10 tim 'tim pw' | grep . >"$T/users"
	auth_conf
	start_tine
	# median ARGS...: the median of 9 requests' times, in microseconds.
	median() {
		local i
		for ((i = 0; i < 9; i++)); do
			req /private/ -o /dev/null -w '%{time_total}\n' "$@" || return 1
		done | awk '{ printf "%d\n", $1 * 1000000 }' | sort -n | sed -n 5p
	}
	[ "$(code /private/ -u 'tim:tim pw')" = 200 ]
	right=$(median -u 'tim:tim pw')
	wrong=$(median -u 'tim:wrong')
	unknown=$(median -u 'nobody:tim pw')
	echo "medians (us): right $right, wrong $wrong, unknown $unknown" >&2
	[ "$right" -gt 0 ] && [ "$wrong" -gt 0 ] && [ "$unknown" -gt 0 ]
	# Sanity bounds only: loaded machines are noisy.
	[ $((wrong * 2)) -ge "$right" ] && [ "$wrong" -le $((right * 2)) ]
	[ $((unknown * 4)) -ge "$right" ]
}

# ---- tine -t, tine -T ----

@test "-t: auth_file lines with \$apr1\$, {SHA}, \$1\$ or plain text are refused with FILE:LINE" {
	need htpasswd apache2-utils
	local kind
	for kind in m s p 1; do
		{
			echo "# users"
			htpasswd -nbB good 'good pw' | grep .
			case $kind in
			1) printf 'bad:%s\n' "$(openssl passwd -1 'bad pw')" ;;
			*) htpasswd "-nb$kind" bad 'bad pw' | grep . ;;
			esac
		} >"$T/users.$kind"
		printf 'root www\nauth_file %s\n' "$T/users.$kind" >"$CONF"
		run --separate-stderr "$TINE_BIN" -t -f "$CONF"
		if [ "$status" -ne 1 ] || [[ $stderr != *"$T/users.$kind:3: "* ]]; then
			echo "users.$kind:" >&2
			cat -n "$T/users.$kind" >&2
			echo "status $status, stderr: $stderr" >&2
			return 1
		fi
	done
	grep -q '\$apr1\$' "$T/users.m"
	grep -q '{SHA}' "$T/users.s"
	# And tine does not start with one.
	printf 'listen 127.0.0.1:%s\nroot www\nerror_log %s\nauth_file users.m\n' \
	    "$PORT" "$T/error.log" >"$CONF"
	run timeout 10 "$TINE_BIN" -d -f "$CONF"
	[ "$status" -ne 0 ] && [ "$status" -ne 124 ]
	grep -q "users.m:3: " "$T/error.log" || [[ $output == *"users.m:3: "* ]]
	# A file that is missing.
	refused 2 'nowhere' "root www" "auth_file $T/nowhere"
}

@test "-t: rules that cannot work are refused with FILE:LINE" {
	refused 4 'auth_file' "root www" "server a.test {" \
	    "	location /p/* {" "		auth_basic \"Private area\"" "	}" "}"
	refused 2 'Content-Length' "root www" "header Content-Length 5"
	refused 2 'Transfer-Encoding' "root www" "header transfer-encoding chunked"
	refused 3 'Connection' "root www" "server a.test {" \
	    "	header Connection close" "}"
	refused 2 'X Bad' "root www" "header \"X Bad\" v"
	refused 2 '.' "root www" "header X-Empty"
	refused 3 '.' "root www" "location /a/* {" "	return 301" "}"
	refused 3 '.' "root www" "server a.test {" "	return 302" "}"
	refused 3 '200' "root www" "location /a/* {" "	return 200" "}"
	refused 3 '.' "root www" "location /a/* {" \
	    "	return 410 https://x.test/" "}"
	refused 2 'not allowed here' "root www" "return 301 https://x.test/"
	refused 2 'not allowed here' "root www" "auth_basic Private"
	refused 2 '200' "root www" "error_page 200 /x.html"
	refused 2 '.' "root www" "error_page 404 x.html"
	refused 2 '.' "root www" "error_page /x.html"
	refused 2 '.' "root www" "fallback index.html"
	refused 2 '300.1.1.1' "root www" "deny 300.1.1.1"
	refused 2 '/33' "root www" "allow 10.0.0.0/33"
	refused 2 '/129' "root www" "allow ::1/129"
	# A control character inside a line (a CR is no line end) cannot
	# reach a response.
	refused 2 '.' "root www" $'header X-A "a\rX-Injected: 1"'
	refused 2 '.' "root www" $'header X-A a\x01b'
	refused 3 '.' "root www" "location /a/* {" \
	    $'	return 301 "https://x.test/\rX-Injected: 1"' "}"
	need htpasswd apache2-utils
	htpasswd -nbB alice 'alice pw' | grep . >"$T/users"
	refused 4 '.' "root www" "auth_file $T/users" \
	    "server a.test {" $'	auth_basic "a\rb"' "}"
	refused 4 '.' "root www" "auth_file $T/users" \
	    "server a.test {" "	auth_basic \"a\\\"b\"" "}"
}

@test "-T prints the rules back, and its output reads back the same" {
	need htpasswd apache2-utils
	htpasswd -nbB alice 'alice pw' | grep . >"$T/users"
	write_conf "header X-Top \"a b\"" "auth_file users" \
	    "error_page 404 /errors/404.html" "fallback /index.html" \
	    "deny 10.0.0.0/8" "allow all" \
	    "server a.test {" "	header X-Site s" \
	    "	auth_basic \"Private area\"" \
	    "	error_page 403 500 /errors/403.html" \
	    "	location /assets/* {" \
	    "		header Cache-Control \"public, max-age=31536000, immutable\"" \
	    "		fallback off" "		auth_basic off" \
	    "		allow 127.0.0.1 ::1" "		deny all" "	}" \
	    "	location /old/* {" \
	    "		return 301 https://\$host\$request_uri" "	}" \
	    "	location /gone/* {" "		return 410" "	}" "}"
	run -0 --separate-stderr "$TINE_BIN" -T -f "$CONF"
	printf '%s\n' "$output" >"$T/dump1.conf"
	local want
	for want in '^header X-Top "?a b"?$' "^auth_file $T/users\$" \
	    '^error_page 404 /errors/404.html$' '^fallback /index.html$' \
	    '^deny 10.0.0.0/8$' '^allow (all|0.0.0.0/0 ::/0)$' \
	    '^	header X-Site "?s"?$' '^	auth_basic "Private area"$' \
	    '^	error_page 403( 500)? /errors/403.html$' \
	    '^		header Cache-Control "?public, max-age=31536000, immutable"?$' \
	    '^		fallback off$' '^		auth_basic off$' \
	    '^		allow 127.0.0.1(/32)?( ::1(/128)?)?$' '^		deny all$' \
	    '^		return 301 https://\$host\$request_uri$' \
	    '^		return 410$'; do
		grep -qE -- "$want" "$T/dump1.conf" || {
			echo "-T lacks /$want/; it printed:" >&2
			cat "$T/dump1.conf" >&2
			return 1
		}
	done
	# deny 10/8 comes before allow all: order is meaning.
	[ "$(grep -n '^deny 10' "$T/dump1.conf" | cut -d: -f1)" -lt \
	    "$(grep -n '^allow all' "$T/dump1.conf" | cut -d: -f1)" ]
	run -0 --separate-stderr "$TINE_BIN" -T -f "$T/dump1.conf"
	[ "$output" = "$(cat "$T/dump1.conf")" ]
}

# ---- reload ----

@test "reload: rules change with HUP and no request fails; broken rules keep the old" {
	need htpasswd apache2-utils
	local i pid ok fail
	htpasswd -nbB alice 'alice pw' | grep . >"$T/users"
	write_conf "auth_file users" \
	    "location /assets/* {" "	header X-Version one" "}" \
	    "location /private/* {" "	auth_basic Private" "}"
	start_tine
	fetch /assets/app.js
	has X-Version one
	(
		for ((i = 0; i < 300; i++)); do
			if [ "$(code /assets/app.js 2>/dev/null)" = 200 ]; then
				echo ok
			else
				echo fail
			fi
		done >"$T/loop.out"
	) 3>&- &
	pid=$!
	htpasswd -nbB bob 'bob pw' | grep . >>"$T/users"
	write_conf "auth_file users" \
	    "location /assets/* {" "	header X-Version two" "}" \
	    "location /private/* {" "	auth_basic Private" "}" \
	    "location /moved/* {" "	return 301 https://x.test/" "}"
	kill -HUP "$TINE_PID"
	version_is() {
		fetch /assets/app.js
		[ "$(hdr X-Version)" = "$1" ]
	}
	wait_for version_is two
	[ "$(code /moved/x)" = 301 ]
	[ "$(code /private/ -u 'bob:bob pw')" = 200 ]
	# A forbidden header: the running config stays, the line is logged.
	write_conf "auth_file users" \
	    "location /assets/* {" "	header X-Version three" \
	    "	header Content-Length 1" "}"
	kill -HUP "$TINE_PID"
	wait_for grep -q "$CONF:[0-9]*: .*Content-Length" "$T/error.log"
	version_is two
	# A refused auth_file line: likewise, with its own FILE:LINE.
	htpasswd -nbm carol 'carol pw' | grep . >"$T/users.apr1"
	write_conf "auth_file users.apr1" \
	    "location /assets/* {" "	header X-Version four" "}"
	kill -HUP "$TINE_PID"
	wait_for grep -q "users.apr1:1: " "$T/error.log"
	version_is two
	[ "$(code /private/ -u 'bob:bob pw')" = 200 ]
	[ "$(code /private/)" = 401 ]
	wait "$pid"
	ok=$(grep -c '^ok$' "$T/loop.out" || true)
	fail=$(grep -c '^fail$' "$T/loop.out" || true)
	[ "$ok" -eq 300 ] || { echo "ok=$ok fail=$fail" >&2; return 1; }
}
