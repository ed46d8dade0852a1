#!/usr/bin/env bats
# bounds.bats: requests at the edges of what tine's fixed buffers hold.
# Any request that fits max_header_size gets a whole response: the
# longest redirect tine can build, a body after the longest head. Sent
# as exact bytes (rawreq, or python3 where the request is too large for
# one argument).

load helpers

setup() {
	setup_tine_dir
	W=$T/www
	RC=
}

teardown() {
	teardown_tine
}

serve() {
	write_conf "$@"
	start_tine
}

fail_rq() {
	echo "$*" >&2
	echo "--- received (rawreq exit $RC):" >&2
	head -c 3000 "$T/out" | cat -v >&2
	return 1
}

# want_redirect LOCATION: a whole 301 to LOCATION, its body as long as
# its Content-Length says, logged as 301.
want_redirect() {
	local status loc len size
	status=$(head -n 1 "$T/head")
	[ "$status" = "HTTP/1.1 301 Moved Permanently" ] ||
		fail_rq "status: $status" || return 1
	loc=$(grep -i '^Location:' "$T/head" | sed 's/^[^:]*: //')
	[ "$loc" = "$1" ] ||
		fail_rq "Location: want ${#1} bytes, got ${#loc}" || return 1
	len=$(grep -i '^Content-Length:' "$T/head" | sed 's/^[^:]*: //')
	size=$(wc -c <"$T/body")
	[ -n "$len" ] && [ "$len" -gt 0 ] && [ "$size" = "$len" ] ||
		fail_rq "body of $size bytes, Content-Length $len"
}

# access_has STATUS: wait for the access log to show a request with it.
access_has_status() {
	grep -q "\" $1 " "$T/access.log" 2>/dev/null
}

@test "a directory without its slash and a long query: a whole 301" {
	local q
	mkdir "$W/d"
	serve 'max_header_size 16k'
	# Longer than the 2 KiB response head of tine 0.1, and near the
	# limit: the query goes into Location as sent.
	q=$(printf 'k%.0s' $(seq 1 12000))
	rq -e "GET /d?$q HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
	want_redirect "/d/?$q"
	wait_for access_has_status 301
	! grep -q ' 0 ' "$T/access.log" || fail_rq "a status 0 was logged"
	! grep -q 'does not fit' "$T/error.log" ||
		fail_rq "error log: $(cat "$T/error.log")"
}

@test "three nested directories with long UTF-8 names: a whole 301" {
	local name enc path
	# 85 euro signs: 255 bytes, the longest name; 765 bytes encoded.
	name=$(printf '\xe2\x82\xac%.0s' $(seq 1 85))
	enc=$(printf '%%E2%%82%%AC%.0s' $(seq 1 85))
	mkdir -p "$W/$name/$name/$name"
	path="/$enc/$enc/$enc"
	serve
	rq -e "GET $path?x=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
	want_redirect "$path/?x=1"
	# Followed, the slash form is served (a listing is off: 403).
	rq -e "GET $path/ HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
	[ "$(head -n 1 "$T/head")" = "HTTP/1.1 403 Forbidden" ] ||
		fail_rq "the slash form"
}

@test "a redirect whose query needs encoding: every byte encoded, whole" {
	local q
	mkdir "$W/d"
	serve 'max_header_size 32k'
	# Bytes >= 0x80 pass the parser in a query and are encoded into
	# Location, three bytes for one: the longest Location per byte.
	q=$(printf '\xff%.0s' $(seq 1 9000))
	rq -e "GET /d?$q HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
	if [ "$(head -n 1 "$T/head")" = "HTTP/1.1 400 Bad Request" ]; then
		skip "the parser refuses raw bytes >= 0x80 in a query"
	fi
	want_redirect "/d/?$(printf '%%FF%.0s' $(seq 1 9000))"
}

# worker_reads: read system calls of every current worker, one
# "pid count" a line (/proc/PID/io syscr).
worker_reads() {
	local pid
	for pid in $(worker_pids); do
		awk -v p="$pid" '$1 == "syscr:" { print p, $2 }' \
		    "/proc/$pid/io" 2>/dev/null || true
	done
}

@test "a body after a head of exactly max_header_size is read in large pieces" {
	local before after reads
	printf 'abc' >"$W/a.txt"
	serve 'max_header_size 4096' 'max_body_size 2m' 'workers 1'
	before=$(worker_reads)
	# The head is exactly 4096 bytes, the body 1 MB; a GET follows.
	python3 - "$PORT" >"$T/out" <<-'EOF'
		import re, socket, sys
		head = b"POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\nX-Pad: "
		head += b"p" * (4096 - len(head) - 4) + b"\r\n\r\n"
		assert len(head) == 4096
		s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
		s.settimeout(20)
		s.sendall(head + b"b" * 1000000 +
		    b"GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
		data = b""
		while True:
		    chunk = s.recv(65536)
		    if not chunk:
		        break
		    data += chunk
		for line in re.findall(rb"HTTP/1\.1 [0-9]{3} [^\r]*", data):
		    print(line.decode())
	EOF
	run cat "$T/out"
	[ "${lines[0]}" = "HTTP/1.1 405 Method Not Allowed" ]
	[ "${lines[1]}" = "HTTP/1.1 200 OK" ]
	[ "${#lines[@]}" = 2 ]
	after=$(worker_reads)
	# At least 16 KiB a read: some 62 reads for the body, and a few for
	# heads and the close; tine 0.1 made one read per byte here.
	reads=$(awk 'NR == FNR { b[$1] = $2; next }
	    { n += $2 - ($1 in b ? b[$1] : 0) } END { print n + 0 }' \
	    <(printf '%s\n' "$before") <(printf '%s\n' "$after"))
	echo "worker read calls: $reads" >&2
	[ "$reads" -lt 1000 ]
}
