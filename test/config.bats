#!/usr/bin/env bats
# config.bats: the config file (SPEC "Config file") through the binary:
# `tine -t -f` for every error kind, each reported exactly as
# FILE:LINE: message, and a running tine for what a config must do when
# served (relative and quoted roots, listen forms, workers auto).

load helpers

setup() {
	setup_tine_dir
	PUBDIR=
}

teardown() {
	local rc=0
	teardown_tine || rc=1
	# Only the directory this test made with mktemp.
	case ${PUBDIR:-} in
	/tmp/tine-config.*) rm -rf -- "$PUBDIR" ;;
	esac
	return "$rc"
}

# conf LINE...: writes exactly these lines to $CONF (no defaults, so that
# line numbers are the arguments' positions) and sets CA to its absolute
# path, as tine reports it.
conf() {
	printf '%s\n' "$@" >"$CONF"
	CA=$(realpath "$CONF")
}

# check_one LINE MESSAGE: a config of "root www" then LINE must fail -t
# with exactly "$CA:2: MESSAGE" and nothing else.
check_one() {
	conf "root www" "$1"
	run --separate-stderr "$TINE_BIN" -t -f "$CONF"
	if [ "$status" -ne 1 ] || [ -n "$output" ] ||
	    [ "$stderr" != "$CA:2: $2" ]; then
		echo "for line: $1" >&2
		echo "want: $CA:2: $2" >&2
		echo "got (status $status): $stderr" >&2
		return 1
	fi
}

# dump_has LINE...: `tine -T -f $CONF` succeeds and prints each LINE.
dump_has() {
	local want
	run -0 --separate-stderr "$TINE_BIN" -T -f "$CONF"
	for want in "$@"; do
		grep -qxF -- "$want" <<<"$output" || {
			echo "-T lacks \"$want\"; it printed:" >&2
			echo "$output" >&2
			return 1
		}
	done
}

# listening_on HEXADDR PORT FILE: /proc/net/tcp{,6} shows a listener.
listening_on() {
	local hex
	printf -v hex '%s:%04X' "$1" "$2"
	awk -v a="$hex" '$4 == "0A" && $2 == a { f = 1 } END { exit !f }' "$3"
}

have_ipv6_loopback() {
	python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null
}

@test "unknown directive names file and line" {
	conf "root www" "bogus 1" "# Root is case-sensitive" "Root www"
	run -1 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
	[ "${stderr_lines[0]}" = "$CA:2: unknown directive \"bogus\"" ]
	[ "${stderr_lines[1]}" = "$CA:4: unknown directive \"Root\"" ]
}

@test "missing value" {
	conf "root" "index" "listen" "access_log"
	run -1 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ "${#stderr_lines[@]}" -eq 4 ]
	[ "${stderr_lines[0]}" = "$CA:1: root takes one value" ]
	[ "${stderr_lines[1]}" = "$CA:2: index takes at least one value" ]
	[ "${stderr_lines[2]}" = "$CA:3: listen takes at least one value" ]
	[ "${stderr_lines[3]}" = "$CA:4: access_log takes one value" ]
}

@test "extra value" {
	conf "root www www" "workers 2 3" "autoindex on off" \
	    "listen 127.0.0.1:$PORT 127.0.0.1:1" \
	    "index a b c d e f g h i j k l m n o p q"
	run -1 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ "${#stderr_lines[@]}" -eq 5 ]
	[ "${stderr_lines[0]}" = "$CA:1: root takes one value" ]
	[ "${stderr_lines[1]}" = "$CA:2: workers takes one value" ]
	[ "${stderr_lines[2]}" = "$CA:3: autoindex takes one value" ]
	[ "${stderr_lines[3]}" = "$CA:4: listen \"127.0.0.1:$PORT\": unknown option \"127.0.0.1:1\" (tls and proxy_protocol, each once)" ]
	[ "${stderr_lines[4]}" = "$CA:5: index takes at most 16 values" ]
}

@test "duplicate directive names the first line" {
	conf "root www" "workers 2" "listen 127.0.0.1:$PORT" "root www" \
	    "workers 3" "listen 127.0.0.1:$PORT" "listen [::1]:$PORT" \
	    "listen [0:0::1]:$PORT"
	run -1 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ "${#stderr_lines[@]}" -eq 4 ]
	[ "${stderr_lines[0]}" = "$CA:4: duplicate \"root\" (first on line 1)" ]
	[ "${stderr_lines[1]}" = "$CA:5: duplicate \"workers\" (first on line 2)" ]
	[ "${stderr_lines[2]}" = "$CA:6: duplicate listen \"127.0.0.1:$PORT\" (first on line 3)" ]
	# Addresses are compared normalised.
	[ "${stderr_lines[3]}" = "$CA:8: duplicate listen \"[::1]:$PORT\" (first on line 7)" ]
}

@test "malformed and out-of-range numbers" {
	check_one "keepalive_timeout 12x" 'keepalive_timeout "12x" is invalid (0..86400)'
	check_one "header_timeout +5" 'header_timeout "+5" is invalid (1..86400)'
	check_one "shutdown_timeout -1" 'shutdown_timeout "-1" is invalid (0..86400)'
	check_one 'header_timeout " 5"' 'header_timeout " 5" is invalid (1..86400)'
	check_one 'keepalive_requests ""' 'keepalive_requests "" is invalid (1..1000000)'
	check_one "max_workers 0x10" 'max_workers "0x10" is invalid (1..4096)'
	check_one "send_timeout 99999999999999999999999" \
	    'send_timeout "99999999999999999999999" is too large (1..86400)'
	check_one "keepalive_timeout 86401" 'keepalive_timeout "86401" is too large (0..86400)'
	check_one "header_timeout 0" 'header_timeout "0" is too small (1..86400)'
	check_one "workers 0" 'workers "0" is too small (1..4096 or auto)'
	check_one "workers 4097" 'workers "4097" is too large (1..4096 or auto)'
	check_one "workers Auto" 'workers "Auto" is invalid (1..4096 or auto)'
	check_one "autoindex yes" 'autoindex "yes" must be on or off'
}

@test "size values: suffixes, bounds, malformed" {
	check_one "max_header_size 255" 'max_header_size "255" is too small (256..1048576)'
	check_one "max_header_size 1025k" 'max_header_size "1025k" is too large (256..1048576)'
	check_one "max_body_size 1.5k" 'max_body_size "1.5k" is invalid (0..1099511627776)'
	check_one "max_body_size 16kb" 'max_body_size "16kb" is invalid (0..1099511627776)'
	check_one "max_body_size k" 'max_body_size "k" is invalid (0..1099511627776)'
	check_one "max_body_size -1" 'max_body_size "-1" is invalid (0..1099511627776)'
	check_one "max_body_size 1048577M" 'max_body_size "1048577M" is too large (0..1099511627776)'
	check_one "max_body_size 99999999999999999999999999999999m" \
	    'max_body_size "99999999999999999999999999999999m" is too large (0..1099511627776)'
	conf "root www" "max_header_size 16k" "max_body_size 2M"
	dump_has "max_header_size 16384" "max_body_size 2097152"
	conf "root www" "max_header_size 1024K" "max_body_size 0"
	dump_has "max_header_size 1048576" "max_body_size 0"
	conf "root www" "max_header_size 00256" "max_body_size 1m"
	dump_has "max_header_size 256" "max_body_size 1048576"
}

@test "max_header_size 1k is enforced at the limit" {
	write_conf "max_header_size 1k"
	start_tine
	# A head of exactly 1024 bytes passes; 1025 does not.
	local fixed="GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: \r\n\r\n"
	local pad ok_len
	ok_len=$((1024 - $(printf "$fixed" | wc -c)))
	pad=$(head -c "$ok_len" /dev/zero | tr '\0' a)
	run -0 raw -e "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: $pad\r\n\r\n"
	[[ ${lines[0]} == "HTTP/1.1 200 OK"* ]]
	run -0 raw -e "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: ${pad}a\r\n\r\n"
	[[ ${lines[0]} == "HTTP/1.1 431 "* ]]
}

@test "bad listen forms" {
	check_one "listen 8080" 'listen "8080": missing port'
	check_one "listen 127.0.0.1" 'listen "127.0.0.1": missing port'
	check_one "listen 127.0.0.1:" 'listen "127.0.0.1:": missing port'
	check_one "listen :8080" 'listen ":8080": missing address'
	check_one "listen []:80" 'listen "[]:80": missing address'
	check_one "listen localhost:8080" 'listen "localhost:8080": not a numeric address'
	check_one "listen 256.1.1.1:80" 'listen "256.1.1.1:80": not a numeric address'
	check_one "listen [127.0.0.1]:80" 'listen "[127.0.0.1]:80": not a numeric address'
	check_one "listen ::1:8080" 'listen "::1:8080": IPv6 address needs brackets'
	check_one "listen [::1]" 'listen "[::1]": missing port'
	check_one "listen [::1]8080" 'listen "[::1]8080": expected ":" after "]"'
	check_one "listen [::1:8080" 'listen "[::1:8080": missing "]"'
	check_one "listen 1.2.3.4:0" 'listen "1.2.3.4:0": port is too small (1..65535)'
	check_one "listen 1.2.3.4:65536" 'listen "1.2.3.4:65536": port is too large (1..65535)'
	check_one "listen *:99999999999999999999" \
	    'listen "*:99999999999999999999": port is too large (1..65535)'
	check_one "listen 1.2.3.4:http" 'listen "1.2.3.4:http": port is invalid (1..65535)'
	check_one "listen 1.2.3.4:+80" 'listen "1.2.3.4:+80": port is invalid (1..65535)'
}

@test "root: missing, not a directory, empty, required" {
	check_one2() {
		conf "$1"
		run -1 --separate-stderr "$TINE_BIN" -t -f "$CONF"
		[ "$stderr" = "$2" ] || {
			echo "want: $2" >&2
			echo "got:  $stderr" >&2
			return 1
		}
	}
	CA=$(realpath -m "$CONF")
	check_one2 "root nope" "$CA:1: root \"nope\": No such file or directory"
	check_one2 "root www/index.html" "$CA:1: root \"www/index.html\": not a directory"
	check_one2 'root ""' "$CA:1: root: empty path"
	check_one2 "workers 2" "$CA: root is required"
	conf ""
	run -1 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ "$stderr" = "$CA: root is required" ]
}

@test "relative paths are relative to the config file's directory" {
	mkdir -p "$T/site/www" "$T/elsewhere"
	printf 'sub site\n' >"$T/site/www/index.html"
	CONF=$T/site/tine.conf
	printf '%s\n' "listen 127.0.0.1:$PORT" "root www" "workers 1" \
	    "access_log ./access.log" "error_log error.log" \
	    "pidfile tine.pid" >"$CONF"
	dump_has "root $(realpath "$T/site/www")" \
	    "access_log $T/site/./access.log" \
	    "error_log $T/site/error.log" "pidfile $T/site/tine.pid"
	# Also a relative -f from another working directory.
	cd "$T/elsewhere"
	CONF=../site/tine.conf
	start_tine
	run -0 req /
	[ "$output" = "sub site" ]
	[ -f "$T/site/error.log" ]
	[ -f "$T/site/access.log" ]
	[ "$(cat "$T/site/tine.pid")" = "$TINE_PID" ]
	[ -z "$(ls -A "$T/elsewhere")" ]
}

@test "several errors in one file are all reported, in order" {
	conf "# six mistakes" "root nope" "workers many" "listen nowhere" \
	    "" "autoindex maybe" "index ../x" "colour blue" "root www"
	run -1 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 7 ]
	[ "${stderr_lines[0]}" = "$CA:2: root \"nope\": No such file or directory" ]
	[ "${stderr_lines[1]}" = "$CA:3: workers \"many\" is invalid (1..4096 or auto)" ]
	[ "${stderr_lines[2]}" = "$CA:4: listen \"nowhere\": missing port" ]
	[ "${stderr_lines[3]}" = "$CA:6: autoindex \"maybe\" must be on or off" ]
	[ "${stderr_lines[4]}" = "$CA:7: invalid index name \"../x\"" ]
	[ "${stderr_lines[5]}" = "$CA:8: unknown directive \"colour\"" ]
	[ "${stderr_lines[6]}" = "$CA:9: duplicate \"root\" (first on line 2)" ]
}

@test "comments, blank lines, tabs and CRLF" {
	printf '%s' "# a comment" $'\n' "" $'\n' "   " $'\n' \
	    $'\t# an indented comment\n' \
	    $'root www # trailing comment\n' \
	    $'\tworkers\t3\t\n' \
	    $'keepalive_timeout 7\r\n' \
	    $'index a#b.html   index.html # a "#" inside a token is kept\n' \
	    $'autoindex on' >"$CONF"
	run -0 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	dump_has "workers 3" "keepalive_timeout 7" "index a#b.html index.html" \
	    "autoindex on"
}

@test "quoted values: spaces, escapes, syntax errors" {
	mkdir "$T/my site"
	printf 'spaced\n' >"$T/my site/my index.html"
	printf '%s\n' "listen 127.0.0.1:$PORT" 'root "my site"' \
	    'index "no such" "my index.html"' 'workers 1' \
	    "error_log \"$T/error log\"" >"$CONF"
	dump_has "root \"$(realpath "$T/my site")\"" \
	    'index "no such" "my index.html"' "error_log \"$T/error log\""
	start_tine
	run -0 req /
	[ "$output" = "spaced" ]
	[ -f "$T/error log" ]
	check_one 'root "www"x' 'missing space after quote'
	check_one 'root w"w' 'unexpected quote'
	check_one 'root "www' 'unterminated quote'
	conf "root www" 'index "a\"b" "c\\d"'
	# The dump quotes only what needs it, and reads back the same.
	dump_has 'index "a\"b" c\d'
	printf '%s\n' "$output" >"$T/dumped.conf"
	CONF=$T/dumped.conf
	dump_has 'index "a\"b" c\d'
}

@test "workers auto starts one worker per CPU" {
	local n
	n=$(getconf _NPROCESSORS_ONLN)
	write_conf "workers auto"
	dump_has "workers auto # $n"
	start_tine
	wait_workers "$n"
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "max_workers below workers is an error; auto is clamped to it" {
	conf "root www" "workers 8" "max_workers 4"
	run -1 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ "$stderr" = "$CA:3: max_workers 4 is less than workers 8 (line 2)" ]
	conf "root www" "max_workers 4" "workers 8"
	run -1 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ "$stderr" = "$CA:2: max_workers 4 is less than workers 8 (line 3)" ]
	conf "root www" "workers auto" "max_workers 1"
	dump_has "workers auto # 1" "max_workers 1"
	# Without max_workers the cap follows a larger workers.
	conf "root www" "workers 300"
	dump_has "workers 300" "max_workers 300"
	conf "root www" "workers 4" "max_workers 4"
	dump_has "workers 4" "max_workers 4"
}

@test "listen on IPv4 and [::1] with the same port: both served" {
	have_ipv6_loopback || skip "no IPv6 loopback here"
	write_conf "listen [::1]:$PORT"
	start_tine
	run -0 req -g "http://[::1]:$PORT/"
	[ "$output" = "hello tine" ]
	run -0 req "http://127.0.0.1:$PORT/"
	[ "$output" = "hello tine" ]
	listening_on 0100007F "$PORT" /proc/net/tcp
	listening_on 00000000000000000000000001000000 "$PORT" /proc/net/tcp6
}

@test "[::]:PORT beside *:PORT: both bind (IPV6_V6ONLY)" {
	have_ipv6_loopback || skip "no IPv6 loopback here"
	write_conf --no-default listen "listen *:$PORT" "listen [::]:$PORT"
	start_tine
	listening_on 00000000 "$PORT" /proc/net/tcp
	listening_on 00000000000000000000000000000000 "$PORT" /proc/net/tcp6
	run -0 req -g "http://[::1]:$PORT/"
	[ "$output" = "hello tine" ]
	run -0 req "http://127.0.0.1:$PORT/"
	[ "$output" = "hello tine" ]
}

@test "[::] before *: the order does not matter" {
	have_ipv6_loopback || skip "no IPv6 loopback here"
	write_conf --no-default listen "listen [::]:$PORT" "listen *:$PORT"
	start_tine
	run -0 req -g "http://[::1]:$PORT/"
	[ "$output" = "hello tine" ]
	run -0 req "http://127.0.0.1:$PORT/"
	[ "$output" = "hello tine" ]
}

@test "a config that is a directory" {
	mkdir "$T/conf.d"
	run -1 --separate-stderr "$TINE_BIN" -t -f "$T/conf.d"
	[ -z "$output" ]
	[ "$stderr" = "$T/conf.d: cannot open: not a regular file" ]
	run -1 --separate-stderr "$TINE_BIN" -t -f /dev/null
	[ "$stderr" = "/dev/null: cannot open: not a regular file" ]
}

@test "an unreadable config (checked as nobody)" {
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	[ "$(id -u)" = 0 ] || skip "needs root to switch to nobody"
	getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
		skip "no nobody:nogroup"
	as_nobody() {
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
	}
	as_nobody test -x "$TINE_BIN" ||
		skip "$TINE_BIN is not reachable by nobody"
	# Root passes every access check, and the Bats directories are
	# private: a world-searchable directory of our own.
	PUBDIR=$(mktemp -d /tmp/tine-config.XXXXXX)
	chmod 755 "$PUBDIR"
	mkdir "$PUBDIR/www"
	printf 'root www\n' >"$PUBDIR/tine.conf"
	chmod 644 "$PUBDIR/tine.conf"
	# Control: readable, nobody's -t succeeds.
	run -0 --separate-stderr as_nobody "$TINE_BIN" -t -f "$PUBDIR/tine.conf"
	[ "$(grep -v '^tine: sandbox' <<<"$stderr")" = "tine: configuration file $PUBDIR/tine.conf test is successful" ]
	chmod 000 "$PUBDIR/tine.conf"
	run -1 --separate-stderr as_nobody "$TINE_BIN" -t -f "$PUBDIR/tine.conf"
	[ -z "$output" ]
	[ "$stderr" = "$PUBDIR/tine.conf: cannot open: Permission denied" ]
}

@test "NUL bytes and binary junk: clear errors, no crash" {
	printf 'root www\nfoo\0bar\n\001\002\377\376 junk\nworkers 2\0\n' >"$CONF"
	CA=$(realpath "$CONF")
	run -1 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 3 ]
	[ "${stderr_lines[0]}" = "$CA:2: line contains a NUL byte" ]
	[ "${stderr_lines[1]}" = "$CA:3: unknown directive \"\\001\\002\\377\\376\"" ]
	[ "${stderr_lines[2]}" = "$CA:4: line contains a NUL byte" ]
}

@test "random bytes and overlong lines: every error names FILE:LINE" {
	python3 - "$CONF" <<'EOF'
import random, sys
r = random.Random(20261123)
NOT_NL = [b for b in range(256) if b != 10]
with open(sys.argv[1], "wb") as f:
    f.write(b"root www\n")
    for _ in range(64):
        f.write(bytes(r.choice(NOT_NL) for _ in range(r.randrange(1, 200))))
        f.write(b"\n")
    f.write(b"index " + b"x" * 5000 + b"\n")
EOF
	CA=$(realpath "$CONF")
	run -1 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -ge 1 ]
	# Exit 1, not a signal; every line names the file, and is printable.
	local bad
	bad=$(grep -vE "^$CA(:[0-9]+)?: " <<<"$stderr") || true
	[ -z "$bad" ]
	! LC_ALL=C grep -q '[^ -~]' <<<"$stderr" || false
	[ "${stderr_lines[-1]}" = "$CA:66: line too long (max 4096 bytes)" ]
}

@test "a directive with more values than index's 16 (status_allow)" {
	local -a v=()
	local i
	for ((i = 1; i <= 20; i++)); do
		v+=("10.0.0.$i")
	done
	conf "root www" "status_allow ${v[*]}"
	run -0 --separate-stderr "$TINE_BIN" -T -f "$CONF"
	grep -qxF "status_allow $(printf '%s/32 ' "${v[@]}" | sed 's/ $//')" <<<"$output"
}
