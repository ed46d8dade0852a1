#!/usr/bin/env bats
# http.bats: tine on the wire against RFC 9110 / RFC 9112 (SPEC "HTTP
# behaviour", README "HTTP behaviour"): request parsing and limits,
# methods, request bodies, targets, response fields, conditionals, ranges,
# connection management and error pages. Every request is sent as exact
# bytes with rawreq; every assertion names a status line, a field value,
# body bytes or a count of responses.

load helpers

setup() {
	setup_tine_dir
	W=$T/www
	RC=
	# 26 bytes with a fixed mtime, so validators are known in advance.
	printf 'abcdefghijklmnopqrstuvwxyz' >"$W/a.txt"
	touch -d '2020-01-02 03:04:05 UTC' "$W/a.txt"
	A_LM='Thu, 02 Jan 2020 03:04:05 GMT'
}

teardown() {
	teardown_tine
}

# serve [LINE...]: writes the config (defaults plus LINEs) and starts tine.
serve() {
	write_conf "$@"
	start_tine
}

show_out() {
	{
		echo "--- received (rawreq exit $RC):"
		head -c 3000 "$T/out" | cat -v
		echo
		echo "---"
		cat "$T/rq.err" 2>/dev/null
	} >&2
}

fail_with() {
	echo "$*" >&2
	show_out
	return 1
}

# want_status LINE: the first response's status line is exactly LINE.
want_status() {
	local got
	got=$(head -n 1 "$T/head")
	[ "$got" = "$1" ] || fail_with "status line: want \"$1\", got \"$got\""
}

# hdr NAME: the values of every NAME field of the first response.
hdr() {
	grep -i "^$1:" "$T/head" | sed 's/^[^:]*:[ 	]*//' || true
}

# want_hdr NAME VALUE: exactly one NAME field, with exactly VALUE.
want_hdr() {
	local got
	got=$(hdr "$1")
	[ "$got" = "$2" ] || fail_with "$1: want \"$2\", got \"$got\""
}

# want_hdr_re NAME ERE: exactly one NAME field, matching ERE.
want_hdr_re() {
	local got
	got=$(hdr "$1")
	[ "$(grep -c . <<<"$got")" = 1 ] && grep -qE -- "$2" <<<"$got" ||
		fail_with "$1: want /$2/, got \"$got\""
}

no_hdr() {
	local got
	got=$(hdr "$1")
	[ -z "$got" ] || fail_with "$1: want none, got \"$got\""
}

# want_body BYTES: the first body is exactly BYTES (printf %s).
want_body() {
	cmp -s "$T/body" <(printf '%s' "$1") ||
		fail_with "body: want \"$1\" ($(printf '%s' "$1" | wc -c) bytes)"
}

want_rc() {
	[ "$RC" = "$1" ] || fail_with "rawreq exit: want $1, got $RC"
}

# want_closed: tine said Connection: close and closed the connection.
want_closed() {
	want_hdr Connection close || return 1
	want_rc 0
}

# want_error CODE REASON: the whole error response is right: status line,
# a small HTML page naming the status, Content-Length equal to its size.
want_error() {
	local size
	want_status "HTTP/1.1 $1 $2" || return 1
	want_hdr Content-Type 'text/html; charset=utf-8' || return 1
	size=$(wc -c <"$T/body")
	want_hdr Content-Length "$size" || return 1
	[ "$size" -gt 0 ] && [ "$size" -lt 2048 ] ||
		fail_with "error body of $size bytes" || return 1
	head -n 1 "$T/body" | grep -qx '<!doctype html>' ||
		fail_with "error body is not HTML" || return 1
	grep -qF "<title>$1 $2</title>" "$T/body" ||
		fail_with "error body does not name $1 $2"
}

# count_is ESCAPED N STATUSES CLOSED [RAWREQ_ARGS...]: rawreq -c summary.
count_is() {
	local want="responses=$2 statuses=$3 closed=$4" got
	RC=0
	got=$(raw -c "${@:5}" -e "$1" 2>"$T/rq.err") || RC=$?
	[ "$got" = "$want" ] && return 0
	echo "request: $1" >&2
	echo "want: $want" >&2
	echo "got:  $got (exit $RC)" >&2
	cat "$T/rq.err" >&2
	return 1
}

GET_A='GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n'
ALPHA=abcdefghijklmnopqrstuvwxyz

# ---- 1. request parsing ----

@test "a head sent one byte at a time is answered like one sent at once" {
	serve
	rq -n 1 -s 1 -d 5 -e "$GET_A"
	want_status 'HTTP/1.1 200 OK'
	want_hdr Content-Length 26
	want_body "$ALPHA"
	want_rc 3
}

@test "a head split at any slice size, CR apart from LF, is one request" {
	local s
	serve
	for s in 2 3 5 7 16 31; do
		rq -n 1 -s "$s" -d 10 \
		    -e 'GET /a.txt?q HTTP/1.1\r\nHost: t\r\nAccept: */*\r\n\r\n'
		want_status 'HTTP/1.1 200 OK'
		want_body "$ALPHA"
	done
	# Two pipelined requests byte by byte: both answered.
	count_is "$GET_A$GET_A" 2 200,200 0 -n 2 -s 1 -d 2
}

@test "absolute-form target serves its path, whatever Host says" {
	serve
	rq -e 'GET http://other.example/a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_body "$ALPHA"
	rq -e 'GET HTTP://other.example:8080/a.txt?x=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_body "$ALPHA"
	# An empty path is "/".
	rq -e 'GET http://other.example HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_body $'hello tine\n'
}

@test "OPTIONS * and OPTIONS /path: 204 with Allow, no body, kept alive" {
	serve
	rq -n 2 -e "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n$GET_A"
	want_status 'HTTP/1.1 204 No Content'
	want_hdr Allow 'GET, HEAD, OPTIONS'
	no_hdr Content-Length
	no_hdr Connection
	# No body: the next bytes are the next response.
	head -n 1 "$T/body" | grep -q '^HTTP/1.1 200 OK' ||
		fail_with "204 followed by something else"
	want_rc 3
	rq -e 'OPTIONS /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 204 No Content'
	want_hdr Allow 'GET, HEAD, OPTIONS'
	want_body ''
}

@test "HTTP/1.2 is answered as HTTP/1.1 and kept alive" {
	serve
	rq -n 1 -e 'GET /a.txt HTTP/1.2\r\nHost: t\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_body "$ALPHA"
	no_hdr Connection
	want_rc 3
}

@test "HTTP/2.0 and HTTP/3 get 505 and close" {
	local v
	serve
	for v in HTTP/2.0 HTTP/3 HTTP/2 HTTP/9.9; do
		rq -e "GET /a.txt $v\r\nHost: t\r\n\r\n"
		want_error 505 'HTTP Version Not Supported'
		want_closed
	done
}

@test "malformed versions and request lines get 400 and close" {
	local line
	serve
	for line in 'GET /a.txt HTTP/1' 'GET /a.txt HTTP/1.10' \
	    'GET /a.txt http/1.1' 'GET /a.txt HTTP/1.1x' \
	    'GET /a.txt HTTP/01.1' 'GET /a.txt HTTP/1.a' 'GET /a.txt HTTX/1.1' \
	    'GET /a.txt HTTP/1.1 ' 'GET /a.txt' 'GET  /a.txt HTTP/1.1' \
	    'GET /a.txt  HTTP/1.1' ' GET /a.txt HTTP/1.1' \
	    'GET\t/a.txt HTTP/1.1' 'GET a.txt HTTP/1.1' \
	    'GET /a b.txt HTTP/1.1' 'GET /a.txt HTTP/1.1\0'; do
		rq -e "$line\r\nHost: t\r\n\r\n"
		want_error 400 'Bad Request' || { echo "for: $line" >&2; return 1; }
		want_closed
	done
}

@test "obs-fold, space before colon, NUL, bare CR get 400 and close" {
	local f
	serve
	for f in 'X-A: 1\r\n folded' 'X-A: 1\r\n\tfolded' 'Host : t' \
	    'X-A : 1' 'X-A: a\0b' 'X-A: a\rb' 'X-A: a\r' 'X-A:\r\r' \
	    ': empty-name' 'X A: 1' 'no-colon'; do
		rq -e "GET /a.txt HTTP/1.1\r\nHost: t\r\n$f\r\n\r\n"
		want_error 400 'Bad Request' || { echo "for: $f" >&2; return 1; }
		want_closed
	done
	# Whitespace between the request line and the first field (§2.2).
	rq -e 'GET /a.txt HTTP/1.1\r\n Host: t\r\n\r\n'
	want_error 400 'Bad Request'
	# NUL and bare CR in the request line.
	rq -e 'GET /a\0.txt HTTP/1.1\r\nHost: t\r\n\r\n'
	want_error 400 'Bad Request'
	rq -e 'GET /a.txt HTTP/1.1\r\r\nHost: t\r\n\r\n'
	want_error 400 'Bad Request'
}

@test "Host: missing in 1.1, repeated or malformed is 400; valid forms pass" {
	local h
	serve
	rq -e 'GET /a.txt HTTP/1.1\r\nAccept: */*\r\n\r\n'
	want_error 400 'Bad Request'
	want_closed
	rq -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nHost: t\r\n\r\n'
	want_error 400 'Bad Request'
	want_closed
	for h in 'a b' 'a/b' 'a,b' 'a@b' 'a:b' 'a:65536' '[::1' 'a\tb'; do
		rq -e "GET /a.txt HTTP/1.1\r\nHost: $h\r\n\r\n"
		want_error 400 'Bad Request' || { echo "for Host: $h" >&2; return 1; }
		want_closed
	done
	# An empty port is valid (RFC 3986 §3.2.3: port = *DIGIT).
	for h in t t:8080 127.0.0.1 '[::1]' '[::1]:80' 'xn--caf-dma.example' \
	    t: '[::1]:'; do
		rq -e "GET /a.txt HTTP/1.1\r\nHost: $h\r\nConnection: close\r\n\r\n"
		want_status 'HTTP/1.1 200 OK' || { echo "for Host: $h" >&2; return 1; }
	done
	# HTTP/1.0 needs no Host.
	rq -e 'GET /a.txt HTTP/1.0\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_body "$ALPHA"
}

@test "lone LF line endings and leading empty lines are accepted" {
	serve
	rq -n 1 -e 'GET /a.txt HTTP/1.1\nHost: t\n\n'
	want_status 'HTTP/1.1 200 OK'
	want_body "$ALPHA"
	rq -n 1 -e 'GET /a.txt HTTP/1.1\r\nHost: t\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	rq -e '\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_body "$ALPHA"
	rq -n 1 -e '\n\nGET /a.txt HTTP/1.1\nHost: t\n\n'
	want_status 'HTTP/1.1 200 OK'
	# Between pipelined requests too.
	count_is "$GET_A\r\n$GET_A" 2 200,200 0 -n 2
}

# pad N: N bytes of 'x'.
pad() {
	head -c "$1" /dev/zero | tr '\0' x
}

@test "max_header_size 1024: a head of exactly 1024 bytes is served" {
	local line
	serve 'max_header_size 1024'
	# "GET /a.txt?" + pad + " HTTP/1.1\r\n" + "Host: t\r\n" + "\r\n"
	line="GET /a.txt?$(pad $((1024 - 11 - 11 - 9 - 2))) HTTP/1.1"
	printf '%s\r\nHost: t\r\n\r\n' "$line" >"$T/req"
	[ "$(wc -c <"$T/req")" = 1024 ]
	rq -n 1 <"$T/req"
	want_status 'HTTP/1.1 200 OK'
	want_body "$ALPHA"
	want_rc 3
}

@test "max_header_size 1024: 1025 bytes of head is 431 and close" {
	local line
	serve 'max_header_size 1024'
	line="GET /a.txt?$(pad $((1024 - 11 - 11 - 9 - 2))) HTTP/1.1"
	printf '%s\r\nHost: tt\r\n\r\n' "$line" >"$T/req"
	[ "$(wc -c <"$T/req")" = 1025 ]
	rq <"$T/req"
	want_error 431 'Request Header Fields Too Large'
	want_closed
	# Many small fields add up the same way.
	{
		printf 'GET /a.txt HTTP/1.1\r\nHost: t\r\n'
		printf 'X-Pad: %s\r\n' $(pad 2000 | fold -w 50)
		printf '\r\n'
	} >"$T/req"
	rq <"$T/req"
	want_error 431 'Request Header Fields Too Large'
	want_closed
}

@test "max_header_size 1024: a 1025-byte request line is 414, 1024 is not" {
	local line
	serve 'max_header_size 1024'
	# Request line with its CRLF: 1025 bytes, so it cannot end in time.
	line="GET /a.txt?$(pad $((1025 - 11 - 11))) HTTP/1.1"
	printf '%s\r\nHost: t\r\n\r\n' "$line" >"$T/req"
	[ "$(head -n 1 "$T/req" | wc -c)" = 1025 ]
	rq <"$T/req"
	want_error 414 'URI Too Long'
	want_closed
	# 1024 bytes with its CRLF: the line fits, the fields after do not.
	line="GET /a.txt?$(pad $((1024 - 11 - 11))) HTTP/1.1"
	printf '%s\r\nHost: t\r\n\r\n' "$line" >"$T/req"
	[ "$(head -n 1 "$T/req" | wc -c)" = 1024 ]
	rq <"$T/req"
	want_error 431 'Request Header Fields Too Large'
	want_closed
	# A line that never ends, sent slowly, is cut off at the limit too.
	pad 1100 >"$T/req"
	rq -s 100 -d 5 <"$T/req"
	want_error 414 'URI Too Long'
	want_closed
}

# ---- 2. methods ----

@test "HEAD of a file sends the GET headers and no body" {
	serve
	rq -n 1 -e "$GET_A"
	grep -v '^Date:' "$T/head" >"$T/get.head"
	rq -n 1 -m -e 'HEAD /a.txt HTTP/1.1\r\nHost: t\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_hdr Content-Length 26
	want_body ''
	want_rc 3
	grep -v '^Date:' "$T/head" | diff -u "$T/get.head" - >&2
	# HEAD then GET on one connection: the GET's head follows the
	# HEAD's at once, and the only body is the GET's.
	rq -e "HEAD /a.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
	head -n 1 "$T/body" | grep -q '^HTTP/1.1 200 OK' ||
		fail_with "HEAD response has a body"
	[ "$(grep -o "$ALPHA" "$T/out" | wc -l)" = 1 ] ||
		fail_with "not exactly one body"
}

@test "GET and HEAD of a directory: index file, and 301 without the slash" {
	mkdir "$W/sub"
	printf 'sub index\n' >"$W/sub/index.html"
	serve
	rq -e 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_hdr Content-Type 'text/html; charset=utf-8'
	want_body $'hello tine\n'
	grep -v '^Date:' "$T/head" >"$T/get.head"
	rq -m -e 'HEAD / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_body ''
	grep -v '^Date:' "$T/head" | diff -u "$T/get.head" - >&2
	rq -e 'GET /sub/ HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_body $'sub index\n'
	rq -m -e 'HEAD /sub HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 301 Moved Permanently'
	want_hdr Location /sub/
	want_body ''
}

@test "POST, PUT, DELETE, PATCH, CONNECT, TRACE get 405 with Allow" {
	local m
	serve
	for m in POST PUT DELETE PATCH TRACE; do
		rq -n 1 -e "$m /a.txt HTTP/1.1\r\nHost: t\r\n\r\n"
		want_error 405 'Method Not Allowed'
		want_hdr Allow 'GET, HEAD, OPTIONS'
		no_hdr Connection
		want_rc 3
	done
	rq -e 'CONNECT t:443 HTTP/1.1\r\nHost: t:443\r\nConnection: close\r\n\r\n'
	want_error 405 'Method Not Allowed'
	want_hdr Allow 'GET, HEAD, OPTIONS'
	# A 405 for a path that does not exist is still 405 (RFC 9110 §15.5.6
	# is about the method); the file is untouched.
	rq -e 'DELETE /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	[ "$(cat "$W/a.txt")" = "$ALPHA" ]
}

@test "an unknown method token is 501; methods are case-sensitive" {
	local m
	serve
	for m in BREW get Get PROPFIND X-Y; do
		rq -n 1 -e "$m /a.txt HTTP/1.1\r\nHost: t\r\n\r\n"
		want_error 501 'Not Implemented' || { echo "for $m" >&2; return 1; }
		want_rc 3
	done
	# Not a token at all: 400.
	rq -e 'G(T /a.txt HTTP/1.1\r\nHost: t\r\n\r\n'
	want_error 400 'Bad Request'
}

@test "a 10 KB method token is refused with 414 and tine keeps serving" {
	serve
	{
		pad 10240
		printf ' /a.txt HTTP/1.1\r\nHost: t\r\n\r\n'
	} >"$T/req"
	rq <"$T/req"
	want_error 414 'URI Too Long'
	want_closed
	rq -n 1 -e "$GET_A"
	want_status 'HTTP/1.1 200 OK'
	if grep -q 'exited on signal' "$T/error.log"; then
		fail_with "a worker crashed"
	fi
}

# ---- 3. request bodies ----

@test "a Content-Length body is discarded and the next request answered" {
	serve
	count_is "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello$GET_A" \
	    2 405,200 0 -n 2
	count_is "GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nxyz$GET_A" \
	    2 200,200 0 -n 2
	# The body bytes are not read as a request, even when they look
	# like one.
	count_is "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 28\r\n\r\nGET /x HTTP/1.1\r\nHost: t\r\n\r\n$GET_A" \
	    2 405,200 0 -n 2
	# Sent byte by byte.
	count_is "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello$GET_A" \
	    2 405,200 0 -n 2 -s 1 -d 1
	rq -n 2 -e "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello$GET_A"
	tail -c 26 "$T/out" | cmp -s - <(printf '%s' "$ALPHA") ||
		fail_with "second response is not a.txt"
}

@test "repeated equal Content-Length is one length; differing is 400 and close" {
	serve
	count_is "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello$GET_A" \
	    2 405,200 0 -n 2
	count_is "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 5\r\n\r\nhello$GET_A" \
	    2 405,200 0 -n 2
	count_is "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!$GET_A" \
	    1 400 1
	rq -e "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 6\r\n\r\nhello!$GET_A"
	want_error 400 'Bad Request'
	want_closed
}

@test "a malformed Content-Length is 400 and close" {
	local v
	serve
	for v in -5 +5 5a 0x5 '5 5' '' '99999999999999999999999' '5,' '\t'; do
		rq -e "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: $v\r\n\r\nhello$GET_A"
		want_error 400 'Bad Request' || { echo "for CL: $v" >&2; return 1; }
		want_closed
	done
}

@test "a chunked body with extensions and trailers is discarded" {
	local body
	serve
	body='5;name=value;q="a b"\r\nhello\r\n1A ; ext\r\nabcdefghijklmnopqrstuvwxyz\r\n0;last\r\nX-Trailer: one\r\nX-Other: two\r\n\r\n'
	count_is "POST /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n$body$GET_A" \
	    2 405,200 0 -n 2
	count_is "POST /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n$body$GET_A" \
	    2 405,200 0 -n 2 -s 1 -d 1
	# Case-insensitive coding name; no trailers.
	count_is "GET /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n$GET_A" \
	    2 200,200 0 -n 2
	# Bad chunk framing: 400 and close.
	count_is "POST /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n$GET_A" \
	    1 400 1
	count_is "POST /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n$GET_A" \
	    1 400 1
}

@test "a body over max_body_size is 413 and close; at the limit it is read" {
	serve 'max_body_size 100'
	{
		printf 'POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n'
		pad 100
		printf 'GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n'
	} >"$T/req"
	raw -c -n 2 <"$T/req" >"$T/count" || true
	[ "$(cat "$T/count")" = 'responses=2 statuses=405,200 closed=0' ] ||
		fail_with "at the limit: $(cat "$T/count")"
	{
		printf 'POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n'
		pad 101
		printf 'GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n'
	} >"$T/req"
	rq <"$T/req"
	want_error 413 'Content Too Large'
	want_closed
	grep -c '^HTTP/1.1' "$T/out" | grep -qx 1 || fail_with "more than one response"
	# Chunked: the limit counts the chunk data (and its framing).
	rq -e 'POST /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n'
	want_error 413 'Content Too Large'
	want_closed
	# A large body actually sent: the 413 still arrives.
	{
		printf 'PUT /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 3000000\r\n\r\n'
		pad 3000000
	} >"$T/req"
	rq <"$T/req"
	want_error 413 'Content Too Large'
	want_hdr Connection close
}

@test "every byte of a chunked body counts against max_body_size" {
	serve 'max_body_size 1000'
	# 66 chunks of one byte: 66 bytes of data, 995 on the wire.
	{
		printf 'POST /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n'
		printf '0000000001\r\nx\r\n%.0s' $(seq 66)
		printf '0\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n'
	} >"$T/req"
	raw -c -n 2 <"$T/req" >"$T/count" || true
	[ "$(cat "$T/count")" = 'responses=2 statuses=405,200 closed=0' ] ||
		fail_with "within the limit: $(cat "$T/count")"
	# 100 of them: 100 bytes of data, 1505 on the wire.
	{
		printf 'POST /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n'
		printf '0000000001\r\nx\r\n%.0s' $(seq 100)
		printf '0\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n'
	} >"$T/req"
	rq <"$T/req"
	want_error 413 'Content Too Large'
	want_closed
	grep -c '^HTTP/1.1' "$T/out" | grep -qx 1 || fail_with "more than one response"
}

@test "the framing of a chunked body has its own bound: 400 beyond it" {
	serve 'max_body_size 1m'
	# 5000 chunks of one byte: 70000 bytes of framing, over 64 KiB.
	{
		printf 'POST /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n'
		printf '0000000001\r\nx\r\n%.0s' $(seq 5000)
		printf '0\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n'
	} >"$T/req"
	rq <"$T/req"
	want_error 400 'Bad Request'
	want_closed
	grep -c '^HTTP/1.1' "$T/out" | grep -qx 1 || fail_with "more than one response"
}

@test "Content-Length with Transfer-Encoding is 400 and close" {
	serve
	rq -e "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n$GET_A"
	want_error 400 'Bad Request'
	want_closed
	rq -e "POST /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n$GET_A"
	want_error 400 'Bad Request'
	want_closed
	# Transfer-Encoding in HTTP/1.0 is faulty framing too (RFC 9112 §6.1).
	rq -e "POST /a.txt HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
	want_error 400 'Bad Request'
	want_closed
	# chunked not last leaves the length unknowable.
	rq -e "POST /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"
	want_error 400 'Bad Request'
	want_closed
}

@test "an unknown transfer coding is 501 and close" {
	serve
	rq -e "POST /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nxxxx$GET_A"
	want_error 501 'Not Implemented'
	want_closed
	rq -e "POST /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n$GET_A"
	want_error 501 'Not Implemented'
	want_closed
}

@test "Expect: 100-continue with a body gets the final status at once" {
	serve
	# The body is never sent: an answer must come without it, well
	# before rawreq's 3 s bound.
	rq -t 3000 -e 'PUT /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n'
	want_error 405 'Method Not Allowed'
	want_closed
	if grep -q '^HTTP/1.1 100' "$T/out"; then
		fail_with "100 Continue sent"
	fi
	rq -t 3000 -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_body "$ALPHA"
	want_closed
	# Without a body there is nothing to refuse: kept alive.
	rq -n 1 -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_rc 3
	# Any other expectation: 417.
	rq -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nExpect: 200-ok\r\n\r\n'
	want_error 417 'Expectation Failed'
	want_closed
}

# ---- 4. targets ----

@test "percent-decoding happens once: %2541 is the file named %41" {
	printf 'pct\n' >"$W/%41"
	printf 'A\n' >"$W/A"
	serve
	rq -e 'GET /%2541 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_body $'pct\n'
	rq -e 'GET /%41 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_body $'A\n'
	rq -e 'GET /%61.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_body "$ALPHA"
}

@test "%00, an encoded slash and malformed escapes are 400" {
	local p
	mkdir "$W/a"
	serve
	for p in /%00 /a.txt%00 /a%2fa.txt /a%2Fa.txt /a%2f..%2f..%2fetc%2fpasswd \
	    /%zz /a.txt%4 /a.txt% /%g0; do
		rq -e "GET $p HTTP/1.1\r\nHost: t\r\n\r\n"
		want_error 400 'Bad Request' || { echo "for $p" >&2; return 1; }
	done
}

@test "dot-segments are removed after decoding" {
	local p
	mkdir -p "$W/a/b"
	serve
	for p in /a/%2e%2e/a.txt /a/%2E%2E/a.txt /a/b/../../a.txt /./a.txt \
	    /a/./b/%2e/../../a.txt /a/.%2e/a.txt //a.txt /a//..//a.txt \
	    /../a.txt /%2e%2e/%2e%2e/a.txt; do
		rq -e "GET $p HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
		want_status 'HTTP/1.1 200 OK' || { echo "for $p" >&2; return 1; }
		want_body "$ALPHA"
	done
	rq -e 'GET /a/%2e%2e/index.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_body $'hello tine\n'
}

@test "no traversal variant leaves root" {
	local p
	mkdir -p "$W/a/b"
	serve
	for p in /../../etc/passwd /../../../../../../etc/passwd \
	    /%2e%2e/%2e%2e/etc/passwd /%2E%2E/%2E%2E/%2E%2E/etc/passwd \
	    /.%2e/.%2e/.%2e/etc/passwd /%2e./%2e./etc/passwd \
	    /a/b/../../../../etc/passwd /..%2f..%2f..%2fetc/passwd \
	    /%2e%2e%2f%2e%2e%2fetc%2fpasswd //etc/passwd /./../etc/passwd \
	    '/..\\..\\etc\\passwd' /%5c..%5c..%5cetc/passwd \
	    /%252e%252e/%252e%252e/etc/passwd /etc/passwd \
	    'http://t/../../etc/passwd' 'http://t/%2e%2e/%2e%2e/etc/passwd'; do
		rq -e "GET $p HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
		if grep -q 'root:' "$T/out"; then
			fail_with "$p served /etc/passwd"
		fi
		case $(head -n 1 "$T/head") in
		'HTTP/1.1 400 Bad Request' | 'HTTP/1.1 404 Not Found') ;;
		*) fail_with "for $p: neither 400 nor 404" ;;
		esac
	done
}

@test "the query is ignored for files" {
	serve
	rq -e 'GET /a.txt?x=1&y=../../etc/passwd HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_body "$ALPHA"
	rq -e 'GET /a.txt? HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_body "$ALPHA"
	rq -e 'GET /a.txt?%00 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_body "$ALPHA"
	# '?' encoded is part of the name.
	rq -e 'GET /a.txt%3Fx HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_error 404 'Not Found'
}

@test "UTF-8 names and spaces are served" {
	printf 'caf\n' >"$W/café x.txt"
	printf 'sp\n' >"$W/with space+plus.txt"
	serve
	rq -e 'GET /caf%C3%A9%20x.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_hdr Content-Type 'text/plain; charset=utf-8'
	want_body $'caf\n'
	rq -e 'GET /caf%c3%a9%20x.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_body $'caf\n'
	rq -e 'GET /with%20space+plus.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_body $'sp\n'
	req -o "$T/c.out" 'http://127.0.0.1:'"$PORT"'/caf%C3%A9%20x.txt'
	[ "$(cat "$T/c.out")" = caf ]
}

@test "the slash redirect keeps the query and percent-encodes Location" {
	mkdir "$W/sub" "$W/dir é<\"#"
	serve
	rq -e 'GET /sub?q=1&r=a%20b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 301 Moved Permanently'
	want_hdr Location '/sub/?q=1&r=a%20b'
	want_hdr Content-Type 'text/html; charset=utf-8'
	want_hdr Content-Length "$(wc -c <"$T/body")"
	rq -e 'GET /dir%20%C3%A9%3C%22%23?x=%22 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 301 Moved Permanently'
	want_hdr Location '/dir%20%C3%A9%3C%22%23/?x=%22'
	rq -e 'GET /sub HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_hdr Location /sub/
	# A dot-segment target redirects to the normalised form.
	rq -e 'GET /a/../sub HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_hdr Location /sub/
}

# ---- 5. response fields ----

@test "a file response carries Date, Server, validators and Accept-Ranges" {
	local now t
	serve
	rq -n 1 -e "$GET_A"
	want_status 'HTTP/1.1 200 OK'
	want_hdr_re Date '^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$'
	t=$(date -u -d "$(hdr Date)" +%s)
	now=$(date -u +%s)
	[ $((now - t)) -ge -60 ] && [ $((now - t)) -le 60 ] ||
		fail_with "Date is not now"
	want_hdr_re Server '^tine/[0-9]'
	want_hdr Content-Length 26
	want_hdr Content-Type 'text/plain; charset=utf-8'
	want_hdr Last-Modified "$A_LM"
	want_hdr_re ETag '^"[!#-~]+"$'
	want_hdr Accept-Ranges bytes
	no_hdr Connection
	want_body "$ALPHA"
	# The ETag changes when the file does.
	local e1
	e1=$(hdr ETag)
	printf 'ABCDEFGHIJKLMNOPQRSTUVWXYZ' >"$W/a.txt"
	# Within a second: a worker may answer from its file cache until
	# it looks at the file again.
	wait_for etag_is_not "$e1" || fail_with "ETag did not change"
}

# etag_is_not TAG: a GET of /a.txt answers with another ETag.
etag_is_not() {
	rq -n 1 -e "$GET_A"
	[ "$(hdr ETag)" != "$1" ]
}

@test "a future mtime: Last-Modified is never later than Date" {
	local lm date
	printf 'later\n' >"$W/future.txt"
	touch -d '+2 days' "$W/future.txt"
	serve
	rq -e 'GET /future.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	lm=$(date -u -d "$(hdr Last-Modified)" +%s)
	date=$(date -u -d "$(hdr Date)" +%s)
	[ "$lm" -le "$date" ] ||
		fail_with "Last-Modified $(hdr Last-Modified) after Date"
	# The date given out is the one conditionals compare against: in
	# the same second it validates (304); a second later the file is
	# still "modified now", so it does not (200), never a stale 304.
	local i given same=0
	for i in 1 2 3 4 5; do
		rq -e 'GET /future.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
		given=$(hdr Last-Modified)
		rq -e "GET /future.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: $given\r\nConnection: close\r\n\r\n"
		# Date is formatted just after the clock is read for the
		# comparison, so a 304 may carry the next second.
		lm=$(date -u -d "$given" +%s)
		date=$(date -u -d "$(hdr Date)" +%s)
		if [ "$(head -n 1 "$T/head")" = 'HTTP/1.1 304 Not Modified' ]; then
			[ $((date - lm)) -le 1 ] ||
				fail_with "304 for a file modified after $given"
			same=1
			break
		fi
		want_status 'HTTP/1.1 200 OK'
		[ "$date" -gt "$lm" ] ||
			fail_with "200 although the file was validated in its second"
	done
	[ "$same" = 1 ] || fail_with "no pair of requests fell in one second"
}

@test "every response with a body has a Content-Length that matches it" {
	local p
	mkdir "$W/sub" "$W/noindex"
	serve
	for p in /a.txt /sub /noindex/ /nope '/a.txt?x' /; do
		rq -e "GET $p HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
		want_hdr Content-Length "$(wc -c <"$T/body")" ||
			{ echo "for $p" >&2; return 1; }
	done
	rq -e 'GET /a.txt HTTP/1.1\r\n\r\n'
	want_hdr Content-Length "$(wc -c <"$T/body")"
}

@test "204 and 304 have no body and no Content-Length" {
	serve
	rq -n 2 -e "OPTIONS /a.txt HTTP/1.1\r\nHost: t\r\n\r\n$GET_A"
	want_status 'HTTP/1.1 204 No Content'
	no_hdr Content-Length
	no_hdr Content-Type
	head -n 1 "$T/body" | grep -q '^HTTP/1.1 200 OK' ||
		fail_with "204 has a body"
	rq -n 2 -e "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: $A_LM\r\n\r\n$GET_A"
	want_status 'HTTP/1.1 304 Not Modified'
	no_hdr Content-Length
	head -n 1 "$T/body" | grep -q '^HTTP/1.1 200 OK' ||
		fail_with "304 has a body"
	want_rc 3
}

# ---- 6. conditionals ----

# etag_of PATH: the ETag tine sends for PATH.
etag_of() {
	rq -m -e "HEAD $1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
	hdr ETag
}

@test "If-None-Match: match, *, lists and weak comparison give 304" {
	local e v
	serve
	e=$(etag_of /a.txt)
	for v in "$e" '*' "\"x\", $e" "\"x\",$e,\"y\"" "W/$e" "W/\"x\", W/$e"; do
		rq -e "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: $v\r\nConnection: close\r\n\r\n"
		want_status 'HTTP/1.1 304 Not Modified' ||
			{ echo "for If-None-Match: $v" >&2; return 1; }
		want_hdr ETag "$e"
		want_hdr Last-Modified "$A_LM"
		want_hdr_re Date ' GMT$'
		want_body ''
	done
	# Repeated field lines form one list.
	rq -e "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"x\"\r\nIf-None-Match: $e\r\nConnection: close\r\n\r\n"
	want_status 'HTTP/1.1 304 Not Modified'
	for v in '"x"' "W/\"x\"" '"x", "y"' "\"${e//\"/}x\""; do
		rq -e "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: $v\r\nConnection: close\r\n\r\n"
		want_status 'HTTP/1.1 200 OK' ||
			{ echo "for If-None-Match: $v" >&2; return 1; }
		want_body "$ALPHA"
	done
	rq -m -e "HEAD /a.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: $e\r\nConnection: close\r\n\r\n"
	want_status 'HTTP/1.1 304 Not Modified'
}

@test "If-None-Match takes precedence over If-Modified-Since" {
	local e
	serve
	e=$(etag_of /a.txt)
	rq -e "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: $e\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: close\r\n\r\n"
	want_status 'HTTP/1.1 304 Not Modified'
	rq -e "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: $A_LM\r\nIf-None-Match: \"other\"\r\nConnection: close\r\n\r\n"
	want_status 'HTTP/1.1 200 OK'
	want_body "$ALPHA"
}

@test "If-Modified-Since: same or later date 304, earlier 200, invalid ignored" {
	local d
	serve
	for d in "$A_LM" 'Thu, 02 Jan 2020 03:04:06 GMT' \
	    'Sat, 01 Jan 2050 00:00:00 GMT' 'Thursday, 02-Jan-20 03:04:05 GMT' \
	    'Thu Jan  2 03:04:05 2020'; do
		rq -e "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: $d\r\nConnection: close\r\n\r\n"
		want_status 'HTTP/1.1 304 Not Modified' ||
			{ echo "for $d" >&2; return 1; }
		want_hdr Last-Modified "$A_LM"
		want_body ''
	done
	for d in 'Thu, 02 Jan 2020 03:04:04 GMT' 'Sun, 06 Nov 1994 08:49:37 GMT' \
	    garbage 'Thu, 02 Jan 2020 03:04:05' 'Thu, 32 Jan 2020 03:04:05 GMT' \
	    'thu, 02 jan 2020 03:04:05 gmt' ''; do
		rq -e "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: $d\r\nConnection: close\r\n\r\n"
		want_status 'HTTP/1.1 200 OK' || { echo "for $d" >&2; return 1; }
		want_body "$ALPHA"
	done
}

@test "If-Match: a mismatch is 412, * and the current tag pass" {
	local e
	serve
	e=$(etag_of /a.txt)
	rq -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Match: "nope"\r\nConnection: close\r\n\r\n'
	want_error 412 'Precondition Failed'
	# Strong comparison: the weak form of the current tag fails.
	rq -e "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Match: W/$e\r\nConnection: close\r\n\r\n"
	want_error 412 'Precondition Failed'
	rq -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Match: *\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_body "$ALPHA"
	rq -e "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Match: \"nope\", $e\r\nConnection: close\r\n\r\n"
	want_status 'HTTP/1.1 200 OK'
	# If-Match wins over If-Unmodified-Since (RFC 9110 §13.2.2).
	rq -e "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Match: $e\r\nIf-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: close\r\n\r\n"
	want_status 'HTTP/1.1 200 OK'
	# 412 keeps the connection.
	count_is 'GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Match: "nope"\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n' \
	    2 412,200 0 -n 2
}

@test "If-Unmodified-Since before Last-Modified is 412" {
	serve
	rq -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Unmodified-Since: Thu, 02 Jan 2020 03:04:04 GMT\r\nConnection: close\r\n\r\n'
	want_error 412 'Precondition Failed'
	rq -e "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Unmodified-Since: $A_LM\r\nConnection: close\r\n\r\n"
	want_status 'HTTP/1.1 200 OK'
	rq -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Unmodified-Since: Sat, 01 Jan 2050 00:00:00 GMT\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	rq -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Unmodified-Since: yesterday\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
}

@test "If-Range: stale or weak tag sends all, current tag or exact date 206" {
	local e
	serve
	e=$(etag_of /a.txt)
	rq -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9\r\nIf-Range: "stale"\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	no_hdr Content-Range
	want_body "$ALPHA"
	rq -e "GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9\r\nIf-Range: $e\r\nConnection: close\r\n\r\n"
	want_status 'HTTP/1.1 206 Partial Content'
	want_hdr Content-Range 'bytes 0-9/26'
	want_body abcdefghij
	rq -e "GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9\r\nIf-Range: W/$e\r\nConnection: close\r\n\r\n"
	want_status 'HTTP/1.1 200 OK'
	want_body "$ALPHA"
	rq -e "GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9\r\nIf-Range: $A_LM\r\nConnection: close\r\n\r\n"
	want_status 'HTTP/1.1 206 Partial Content'
	want_body abcdefghij
	rq -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9\r\nIf-Range: Thu, 02 Jan 2020 03:04:06 GMT\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_body "$ALPHA"
}

# ---- 7. ranges ----

@test "single ranges a-b, a-, -n give 206 with exact Content-Range and bytes" {
	serve
	rq -n 1 -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9\r\n\r\n'
	want_status 'HTTP/1.1 206 Partial Content'
	want_hdr Content-Range 'bytes 0-9/26'
	want_hdr Content-Length 10
	want_hdr Content-Type 'text/plain; charset=utf-8'
	want_hdr Accept-Ranges bytes
	want_body abcdefghij
	want_rc 3
	rq -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=10-\r\nConnection: close\r\n\r\n'
	want_hdr Content-Range 'bytes 10-25/26'
	want_hdr Content-Length 16
	want_body klmnopqrstuvwxyz
	rq -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=-5\r\nConnection: close\r\n\r\n'
	want_hdr Content-Range 'bytes 21-25/26'
	want_body vwxyz
	rq -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=25-25\r\nConnection: close\r\n\r\n'
	want_hdr Content-Range 'bytes 25-25/26'
	want_body z
	# Ends beyond the size are clamped.
	rq -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=20-1000\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 206 Partial Content'
	want_hdr Content-Range 'bytes 20-25/26'
	want_body uvwxyz
	rq -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=-1000\r\nConnection: close\r\n\r\n'
	want_hdr Content-Range 'bytes 0-25/26'
	want_body "$ALPHA"
	rq -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=3-99999999999999999999999\r\nConnection: close\r\n\r\n'
	want_hdr Content-Range 'bytes 3-25/26'
	# Range units compare case-insensitively (RFC 9110 §14.1).
	rq -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: Bytes=1-2\r\nConnection: close\r\n\r\n'
	want_hdr Content-Range 'bytes 1-2/26'
	want_body bc
}

@test "an unsatisfiable range is 416 with Content-Range: bytes */SIZE" {
	local r
	: >"$W/empty.txt"
	serve
	for r in 26- 26-30 100-200 -0; do
		rq -n 1 -e "GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=$r\r\n\r\n"
		want_error 416 'Range Not Satisfiable' ||
			{ echo "for $r" >&2; return 1; }
		want_hdr Content-Range 'bytes */26'
		want_rc 3
	done
	for r in 0- 0-0 -5; do
		rq -e "GET /empty.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=$r\r\nConnection: close\r\n\r\n"
		want_error 416 'Range Not Satisfiable' ||
			{ echo "for $r" >&2; return 1; }
		want_hdr Content-Range 'bytes */0'
	done
	rq -e 'GET /empty.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_hdr Content-Length 0
}

@test "invalid Range syntax and multiple ranges give the whole 200" {
	local r
	serve
	for r in 'bytes=a-b' 'bytes=5-1' 'items=0-1' 'bytes 0-1' 'bytes=--1' \
	    'bytes=0-1-2' 'bytes=' 'bytes=1' 'bytes=+1-2' 'bytes=0x1-2' \
	    'bytes=0-1,3-4' 'bytes=0-1,30-40' 'bytes=-1,-2' 'bytes=0-,0-'; do
		rq -e "GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: $r\r\nConnection: close\r\n\r\n"
		want_status 'HTTP/1.1 200 OK' || { echo "for $r" >&2; return 1; }
		no_hdr Content-Range
		want_hdr Content-Length 26
		want_body "$ALPHA"
	done
	# Several ranges none of which is satisfiable: 416 like one.
	rq -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=30-40,50-60\r\nConnection: close\r\n\r\n'
	want_error 416 'Range Not Satisfiable'
}

@test "HEAD with Range is a plain 200" {
	serve
	rq -m -e 'HEAD /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_hdr Content-Length 26
	no_hdr Content-Range
	want_body ''
}

@test "ranges of a 5 GiB sparse file cross 2^31 and 2^32 exactly" {
	truncate -s 5G "$W/big.bin" || skip "no sparse files here"
	printf 'MARK' | dd of="$W/big.bin" bs=1 seek=4294967296 conv=notrunc \
	    status=none
	serve
	rq -e 'GET /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=4294967290-4294967305\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 206 Partial Content'
	want_hdr Content-Range 'bytes 4294967290-4294967305/5368709120'
	want_hdr Content-Length 16
	want_hdr Content-Type application/octet-stream
	cmp -s "$T/body" <(printf '\0\0\0\0\0\0MARK\0\0\0\0\0\0') ||
		fail_with "bytes across 2^32 differ"
	rq -e 'GET /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=2147483640-2147483655\r\nConnection: close\r\n\r\n'
	want_hdr Content-Range 'bytes 2147483640-2147483655/5368709120'
	cmp -s "$T/body" <(head -c 16 /dev/zero) || fail_with "bytes across 2^31"
	rq -e 'GET /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=-10\r\nConnection: close\r\n\r\n'
	want_hdr Content-Range 'bytes 5368709110-5368709119/5368709120'
	cmp -s "$T/body" <(head -c 10 /dev/zero) || fail_with "last bytes"
	rq -e 'GET /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=5368709120-\r\nConnection: close\r\n\r\n'
	want_error 416 'Range Not Satisfiable'
	want_hdr Content-Range 'bytes */5368709120'
	rq -m -e 'HEAD /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_hdr Content-Length 5368709120
}

# ---- 8. connections ----

@test "HTTP/1.1 is persistent: two requests, two responses, still open" {
	serve
	count_is "$GET_A$GET_A" 2 200,200 0 -n 2
	[ "$RC" = 3 ]
	# And the second may come later on the same connection.
	count_is "$GET_A$GET_A" 2 200,200 0 -n 2 -s 32 -d 300
}

@test "Connection: close is honoured, as a case-insensitive token list" {
	local v
	serve
	for v in close CLOSE 'foo, CLOSE' 'keep-alive, close' ' Close ' \
	    'foo,close,bar'; do
		rq -e "GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: $v\r\n\r\n$GET_A"
		want_status 'HTTP/1.1 200 OK'
		want_closed || { echo "for Connection: $v" >&2; return 1; }
		want_body "$ALPHA"
	done
	# "closed" is not "close".
	rq -n 1 -e 'GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: closed\r\n\r\n'
	no_hdr Connection
	want_rc 3
}

@test "HTTP/1.0 closes unless Connection: keep-alive" {
	serve
	rq -e 'GET /a.txt HTTP/1.0\r\n\r\nGET /a.txt HTTP/1.0\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_closed
	want_body "$ALPHA"
	rq -n 2 -e 'GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /a.txt HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n'
	want_status 'HTTP/1.1 200 OK'
	want_hdr Connection keep-alive
	want_rc 3
	[ "$(grep -o 'HTTP/1.1 200 OK' "$T/out" | wc -l)" = 2 ]
	[ "$(grep -c '^Connection: keep-alive' "$T/out")" = 2 ]
	# Errors on a kept-alive 1.0 connection say so too.
	rq -n 1 -e 'GET /nope HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'
	want_error 404 'Not Found'
	want_hdr Connection keep-alive
	want_rc 3
}

@test "100 requests pipelined in one write are answered in order" {
	local i f
	for ((i = 0; i < 100; i++)); do
		printf -v f 'p%03d' "$i"
		printf '%s-body\n' "$f" >"$W/$f.txt"
	done
	serve
	printf 'GET /p%03d.txt HTTP/1.1\r\nHost: t\r\n\r\n' $(seq 0 99) >"$T/req"
	rq -n 100 -t 10000 <"$T/req"
	want_rc 3
	[ "$(grep -ac '^HTTP/1.1 200 OK' "$T/out")" = 100 ] ||
		fail_with "not 100 responses"
	grep -ao 'p[0-9][0-9][0-9]-body' "$T/out" >"$T/order"
	seq -f 'p%03g-body' 0 99 | diff -u - "$T/order" >&2
}

@test "after a framing error the connection closes" {
	serve
	count_is "GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: x\r\n\r\n$GET_A" \
	    1 400 1
	count_is "$GET_A\x01garbage\r\n\r\n$GET_A" 2 200,400 1
	count_is "GET /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nXYZ\r\n$GET_A" \
	    1 400 1
}

@test "input pipelined past the last response does not cut it short" {
	truncate -s 16M "$W/big.bin" || skip "no sparse files here"
	serve
	# tine closes after the first response and never reads the rest:
	# a plain close() would reset the connection and drop the end of a
	# response still queued (RFC 9112 §9.6). rawreq holds its reads back
	# for 1 s, so most of the 16 MiB is still queued when tine closes.
	{
		printf 'GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
		printf 'GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n%.0s' $(seq 2000)
	} >"$T/req"
	rq -w 1000 -t 20000 <"$T/req"
	want_status 'HTTP/1.1 200 OK'
	want_hdr Content-Length 16777216
	want_closed
	[ "$(wc -c <"$T/body")" = 16777216 ] ||
		fail_with "body cut at $(wc -c <"$T/body") bytes"
	# HTTP/1.0, then bytes tine never reads.
	{
		printf 'GET /big.bin HTTP/1.0\r\n\r\n'
		pad 65536
	} >"$T/req"
	rq -w 1000 -t 20000 <"$T/req"
	want_status 'HTTP/1.1 200 OK'
	want_closed
	[ "$(wc -c <"$T/body")" = 16777216 ] ||
		fail_with "body cut at $(wc -c <"$T/body") bytes"
}

@test "a client that half-closes after its request still gets the answer" {
	serve
	rq -H -e "$GET_A"
	want_status 'HTTP/1.1 200 OK'
	want_body "$ALPHA"
	want_rc 0
	count_is "$GET_A$GET_A" 2 200,200 1 -H
}

@test "keepalive_requests 3: the third response carries Connection: close" {
	serve 'keepalive_requests 3'
	count_is "$GET_A$GET_A$GET_A$GET_A" 3 200,200,200 1
	rq -e "$GET_A$GET_A$GET_A$GET_A"
	# Connection: close is in the third response only.
	[ "$(tr -d '\r' <"$T/out" | awk '/HTTP\/1\.1 [0-9][0-9][0-9] /{n++}
	    /^Connection:/{print n ": " $0}')" = '3: Connection: close' ] ||
		fail_with "Connection fields not only on the third response"
	tail -c 26 "$T/out" | cmp -s - <(printf '%s' "$ALPHA")
}

@test "keepalive_timeout 0: every response says Connection: close" {
	serve 'keepalive_timeout 0'
	count_is "$GET_A$GET_A" 1 200 1
	rq -e "$GET_A"
	want_status 'HTTP/1.1 200 OK'
	want_closed
	rq -e 'GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'
	want_closed
}

@test "keepalive_timeout 1: an idle connection is closed, without a 408" {
	serve 'keepalive_timeout 1'
	# The default (5 s) would outlast rawreq's 3 s bound.
	rq -t 3000 -e "$GET_A"
	want_status 'HTTP/1.1 200 OK'
	no_hdr Connection
	want_body "$ALPHA"
	want_rc 0
}

@test "header_timeout 1: a trickling client gets 408 and close" {
	serve 'header_timeout 1'
	# One byte every 300 ms would take 12 s; the deadline is for the
	# whole head, so each byte must not restart it. The default (10 s)
	# would outlast rawreq's 4 s bound.
	rq -t 4000 -s 1 -d 300 -e "$GET_A"
	want_error 408 'Request Timeout'
	want_closed
	# A connection that never speaks is closed without a response.
	rq -t 4000 -e ''
	[ ! -s "$T/out" ] || fail_with "idle connection got a response"
	want_rc 0
}

# ---- 9. errors ----

@test "404, 403, 405 and 400 have small HTML bodies of exact length" {
	mkdir "$W/noindex"
	serve
	rq -n 1 -e 'GET /nope HTTP/1.1\r\nHost: t\r\n\r\n'
	want_error 404 'Not Found'
	want_rc 3
	rq -e 'GET /noindex/ HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_error 403 Forbidden
	rq -e 'POST /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_error 405 'Method Not Allowed'
	rq -e 'GET /a.txt HTTP/1.1\r\n\r\n'
	want_error 400 'Bad Request'
	want_closed
	# HEAD of an error: the same fields, no body.
	rq -m -e 'HEAD /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	want_status 'HTTP/1.1 404 Not Found'
	want_body ''
	[ "$(hdr Content-Length)" -gt 0 ]
}

@test "error bodies never contain request data" {
	local r
	serve
	for r in 'GET /%3Cscript%3Ealert(1)%3C/script%3E HTTP/1.1\r\nHost: t\r\n\r\n' \
	    'GET /<script>alert(1)</script> HTTP/1.1\r\nHost: t\r\n\r\n' \
	    'GET /nope?<script> HTTP/1.1\r\nHost: t\r\nX-A: <script>\r\n\r\n' \
	    'POST /<script> HTTP/1.1\r\nHost: t\r\n\r\n' \
	    '<script> / HTTP/1.1\r\nHost: t\r\n\r\n' \
	    'GET / HTTP/1.1\r\nHost: <script>\r\n\r\n' \
	    'GET /nope HTTP/1.1\r\nHost: t\r\nUser-Agent: <script>\r\nReferer: <script>\r\n\r\n'; do
		rq -n 1 -e "$r"
		if grep -qi 'script\|alert\|nope' "$T/body"; then
			fail_with "request data in the body for: $r"
		fi
		head -n 1 "$T/head" | grep -qE '^HTTP/1.1 (400|404|405|501) ' ||
			fail_with "unexpected status for: $r"
	done
}
