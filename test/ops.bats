#!/usr/bin/env bats
# ops.bats: what an administrator does around tine (README "Installing and
# running under systemd", "Running as a daemon"): make install and
# uninstall with PREFIX and DESTDIR, the compiled-in config path, the man
# pages, the systemd units, socket activation, log rotation with
# logrotate, and reading the access log with goaccess.

load helpers

setup() {
	setup_tine_dir
	REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	LG_PID=
	SA_PID=
}

teardown() {
	local rc=0 pid i
	for pid in "$LG_PID" "$SA_PID"; do
		if [ -n "$pid" ]; then
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	teardown_tine || rc=1
	# A daemon is not our child: stop it by its pid file, and only when
	# that pid runs our binary.
	pid=$(cat "$T/tine.pid" 2>/dev/null) || true
	if pid_alive "$pid" && [ "$(readlink "/proc/$pid/exe")" = \
	    "$(realpath "$TINE_BIN")" ]; then
		echo "teardown: stopping daemon $pid" >&2
		kill -TERM "$pid"
		for ((i = 0; i < 300; i++)); do
			pid_alive "$pid" || break
			sleep 0.05
		done
		pid_alive "$pid" && kill -KILL "$pid"
		rc=1
	fi
	return "$rc"
}

# mk DIR ARGS...: make in DIR, as a user would type it: not as a sub-make
# of `make test`, whose flags and jobserver are not ours.
mk() {
	local dir=$1
	shift
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make --no-print-directory \
	    -C "$dir" "$@"
}

# install_tree DESTDIR PREFIX: make install from the work tree.
install_tree() {
	run -0 --separate-stderr mk "$REPO" install DESTDIR="$1" PREFIX="$2"
}

# files_under DIR: the files and symlinks below DIR, relative, sorted.
files_under() {
	(cd "$1" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort)
}

# need CMD: skip the test when CMD is not installed.
need() {
	command -v "$1" >/dev/null 2>&1 ||
		skip "$1 is not installed (scripts/deps test installs it)"
}

@test "make install: the tree, the substituted units, and a kept tine.conf" {
	local D=$BATS_TEST_TMPDIR/dest want
	install_tree "$D" /usr/local
	want=$({
		printf '%s\n' etc/logrotate.d/tine usr/local/etc/tine.conf \
		    usr/local/lib/systemd/system/tine.service \
		    usr/local/lib/systemd/system/tine.socket usr/local/sbin/tine \
		    usr/local/share/man/man5/tine.conf.5 \
		    usr/local/share/man/man8/tine.8
		files_under "$REPO/www" | sed 's|^|usr/local/share/tine/www/|'
	} | LC_ALL=C sort)
	run -0 files_under "$D"
	[ "$output" = "$want" ]
	[ -x "$D/usr/local/sbin/tine" ]
	cmp "$REPO/man/tine.8" "$D/usr/local/share/man/man8/tine.8"
	cmp "$REPO/www/index.html" "$D/usr/local/share/tine/www/index.html"

	# Every placeholder filled in with the installed paths, none with
	# DESTDIR: the files describe the target system.
	run grep -rn '@[A-Z_]*@' "$D"/usr/local/lib "$D"/etc
	[ "$status" -eq 1 ]
	run grep -rnF "$D" "$D"/usr/local/lib "$D"/etc "$D"/usr/local/etc
	[ "$status" -eq 1 ]
	grep -qx 'ExecStart=/usr/local/sbin/tine -d -f /usr/local/etc/tine.conf' \
	    "$D/usr/local/lib/systemd/system/tine.service"
	grep -qx 'ExecStartPre=/usr/local/sbin/tine -t -f /usr/local/etc/tine.conf' \
	    "$D/usr/local/lib/systemd/system/tine.service"
	grep -q '/usr/local/sbin/tine -s reopen -f /usr/local/etc/tine.conf' \
	    "$D/etc/logrotate.d/tine"
	grep -qE '^root[[:space:]]+/usr/local/share/tine/www$' \
	    "$D/usr/local/etc/tine.conf"
	# Workers of the installed config do not serve as root.
	grep -qE '^user[[:space:]]+www-data$' "$D/usr/local/etc/tine.conf"
	grep -qE '^group[[:space:]]+www-data$' "$D/usr/local/etc/tine.conf"
	# The source tree's copy, which `make run` uses, leaves them off.
	! grep -qE '^(user|group)[[:space:]]' "$REPO/etc/tine.conf" || false

	# A second install keeps the administrator's tine.conf.
	echo "# changed by the administrator" >>"$D/usr/local/etc/tine.conf"
	cp "$D/usr/local/etc/tine.conf" "$T/kept.conf"
	install_tree "$D" /usr/local
	[[ $output == *"keeping existing $D/usr/local/etc/tine.conf"* ]]
	cmp "$T/kept.conf" "$D/usr/local/etc/tine.conf"
}

@test "the installed binary checks and serves the installed config" {
	local D=$BATS_TEST_TMPDIR/dest www
	install_tree "$D" /usr/local
	www=$D/usr/local/share/tine/www
	# The installed config names PREFIX paths; inside DESTDIR the root is
	# elsewhere, and the port must be a free one.
	sed -e "s|^root.*|root $www|" -e "s|^listen.*|listen 127.0.0.1:$PORT|" \
	    -e 's|^workers.*|workers 2|' "$D/usr/local/etc/tine.conf" >"$CONF"
	printf 'error_log %s\n' "$T/error.log" >>"$CONF"
	run -0 --separate-stderr "$D/usr/local/sbin/tine" -t -f "$CONF"
	[ "$(grep -v '^tine: sandbox' <<<"$stderr")" = "tine: configuration file $CONF test is successful" ]
	# The Bats directories are private to root, so www-data could not
	# read this root: serve as the caller from here on.
	sed -i -E '/^(user|group)[[:space:]]/d' "$CONF"
	run -0 "$D/usr/local/sbin/tine" -h
	[[ $output == *"(default /usr/local/etc/tine.conf)"* ]]

	TINE_BIN=$D/usr/local/sbin/tine start_tine
	run -0 req / -o "$T/got" -w '%{http_code} %{content_type}'
	[ "$output" = "200 text/html; charset=utf-8" ]
	cmp "$www/index.html" "$T/got"
}

@test "make uninstall removes everything but tine.conf" {
	local D=$BATS_TEST_TMPDIR/dest
	install_tree "$D" /usr/local
	run -0 --separate-stderr mk "$REPO" uninstall DESTDIR="$D" \
	    PREFIX=/usr/local
	run -0 files_under "$D"
	[ "$output" = "usr/local/etc/tine.conf" ]
}

@test "PREFIX is compiled in as the default config path, DESTDIR is not" {
	local C=$BATS_TEST_TMPDIR/copy D
	D=$C/dest
	copy_tree "$REPO" "$C"

	run -0 --separate-stderr mk "$C" install DESTDIR="$D" PREFIX=/opt/x
	# The stamp that follows sysconfdir rebuilt main.o.
	[[ $output == *"-o build/obj/main.o src/main.c"* ]]
	run -0 "$D/opt/x/sbin/tine" -h
	[[ $output == *"(default /opt/x/etc/tine.conf)"* ]]
	run grep -c -a -F "$D" "$D/opt/x/sbin/tine"
	[ "$output" = 0 ]
	grep -qx 'ExecStart=/opt/x/sbin/tine -d -f /opt/x/etc/tine.conf' \
	    "$D/opt/x/lib/systemd/system/tine.service"
	grep -q '/opt/x/sbin/tine -s reopen -f /opt/x/etc/tine.conf' \
	    "$D/etc/logrotate.d/tine"
	grep -qE '^root[[:space:]]+/opt/x/share/tine/www$' \
	    "$D/opt/x/etc/tine.conf"
	[ -e "$D/opt/x/share/man/man8/tine.8" ]

	# And a plain make afterwards goes back to the default prefix.
	run -0 --separate-stderr mk "$C"
	[[ $output == *"-o build/obj/main.o src/main.c"* ]]
	run -0 "$C/build/tine" -h
	[[ $output == *"(default /usr/local/etc/tine.conf)"* ]]
}

@test "the man pages are clean for mandoc -Tlint" {
	need mandoc
	run -0 mandoc -Tlint -W warning "$REPO/man/tine.8" \
	    "$REPO/man/tine.conf.5"
	[ -z "$output" ]
}

@test "systemd-analyze verify accepts the units" {
	need systemd-analyze
	local u
	mkdir "$T/units"
	# The units as make install fills them in, with a binary that exists
	# here (verify checks that ExecStart is executable).
	for u in tine.service tine.socket; do
		sed -e "s|@SBINDIR@/tine|$TINE_BIN|g" -e "s|@SYSCONFDIR@|$T|g" \
		    -e "s|@WWWDIR@|$T/www|g" "$REPO/etc/$u.in" >"$T/units/$u"
	done
	run -0 systemd-analyze verify --man=no "$T/units/tine.socket" \
	    "$T/units/tine.service"
	[ -z "$output" ]
}

@test "the logrotate snippet parses" {
	need logrotate
	local D=$BATS_TEST_TMPDIR/dest
	install_tree "$D" /usr/local
	run -0 logrotate -d -s "$T/lr.state" "$D/etc/logrotate.d/tine"
	[[ $output == *"considering log /var/log/tine/*.log"* ]]
	[[ $output != *error* ]]
}

# Socket activation: systemd-socket-activate binds 127.0.0.1:$PORT, and
# on the first connection execs tine (same pid) with the socket as fd 3
# and LISTEN_FDS=1, LISTEN_PID=its pid.

# sa_start: starts tine under systemd-socket-activate on $PORT, sends the
# first request (which execs tine) and checks it was answered by tine.
sa_start() {
	need systemd-socket-activate
	local real
	real=$(realpath "$TINE_BIN")
	# What systemd-socket-activate itself says on stderr.
	TINE_STDERR_ALLOW='^(Listening on 127\.0\.0\.1:[0-9]+ as 3\.'
	TINE_STDERR_ALLOW+='|Communication attempt on fd 3\.|Execing .*)$'
	systemd-socket-activate -l "127.0.0.1:$PORT" "$TINE_BIN" -d \
	    -f "$CONF" >"$T/stdout" 2>"$T/stderr" 3>&- &
	TINE_PID=$!
	wait_for port_listening "$PORT" "$TINE_PID"
	run -0 req /
	[ "$output" = "hello tine" ]
	[ "$(readlink "/proc/$TINE_PID/exe")" = "$real" ]
}

@test "socket activation: a config without listen serves on the passed socket" {
	write_conf --no-default listen
	sa_start
	grep -q 'started' "$T/error.log"
	# The inherited socket replaced the default *:8080.
	run port_listening 8080 "$TINE_PID"
	[ "$status" -eq 1 ]
	kill -HUP "$TINE_PID"
	wait_for grep -q 'reloaded: generation 1' "$T/error.log"
	run -0 req /
	[ "$output" = "hello tine" ]
	run port_listening 8080 "$TINE_PID"
	[ "$status" -eq 1 ]
}

@test "socket activation: listen of the same address takes the passed socket" {
	local port2 before after
	port2=$(free_port)
	write_conf "listen 127.0.0.1:$port2"
	sa_start
	run -1 grep 'bind' "$T/error.log"
	# The second address, not passed in, tine binds itself.
	wait_for port_listening "$port2" "$TINE_PID"
	run -0 req "http://127.0.0.1:$port2/"
	[ "$output" = "hello tine" ]
	before=$(listen_socks "$PORT")
	[ "$(wc -l <<<"$before")" -eq 1 ]

	# Reload under load: the passed socket stays, nothing is lost.
	"$TINE_TOOLS/loadgen" -p "$PORT" -k 8 -n 2 -d 2000 \
	    >"$T/lg.out" 2>"$T/lg.err" 3>&- &
	LG_PID=$!
	sleep 0.5
	kill -HUP "$TINE_PID"
	wait_for grep -q 'reloaded: generation 1' "$T/error.log"
	wait "$LG_PID" || true
	LG_PID=
	echo "loadgen: $(<"$T/lg.out") $(<"$T/lg.err")"
	[[ $(<"$T/lg.out") =~ answered=([1-9][0-9]*) ]]
	[[ $(<"$T/lg.out") == *" lost=0 bad=0 connect_errors=0 "* ]]
	after=$(listen_socks "$PORT")
	[ "$before" = "$after" ]
	run -0 req /
	[ "$output" = "hello tine" ]
	run -1 grep 'bind' "$T/error.log"
}

@test "socket activation without -d: the daemon keeps the passed socket" {
	need systemd-socket-activate
	local pid
	write_conf --no-default listen
	systemd-socket-activate -l "127.0.0.1:$PORT" "$TINE_BIN" -f "$CONF" \
	    >"$T/stdout" 2>"$T/sa.err" 3>&- &
	SA_PID=$!
	wait_for port_listening "$PORT" "$SA_PID"
	run -0 req /
	[ "$output" = "hello tine" ]
	# The process systemd-socket-activate became exits once the daemon
	# runs; the daemon serves on the passed socket, not on *:8080.
	wait "$SA_PID"
	SA_PID=
	pid=$(cat "$T/tine.pid")
	port_listening "$PORT" "$pid"
	run port_listening 8080 "$pid"
	[ "$status" -eq 1 ]
	run -0 req /
	[ "$output" = "hello tine" ]
	run -0 --separate-stderr "$TINE_BIN" -s stop -f "$CONF"
	wait_for test ! -e "$T/tine.pid"
	run -7 curl -sS --max-time 5 --noproxy '*' "http://127.0.0.1:$PORT/"
}

@test "socket activation: a malformed LISTEN_FDS is a start error" {
	local want
	write_conf
	run -1 --separate-stderr sh -c \
	    'LISTEN_PID=$$ LISTEN_FDS=x exec "$0" -d -f "$1"' "$TINE_BIN" "$CONF"
	want="tine: LISTEN_FDS=x is invalid: cannot take over the passed"
	[ "$stderr" = "$want sockets" ]
	# Meant for another process: ignored, tine binds its own.
	LISTEN_PID=1 LISTEN_FDS=1 start_tine
	run -0 req /
	[ "$output" = "hello tine" ]
}

nlines() {
	if [ -f "$1" ]; then
		wc -l <"$1"
	else
		echo 0
	fi
}

# total_lines_are N FILE...: the FILEs hold N lines together.
total_lines_are() {
	local n=$1 sum=0 f
	shift
	for f in "$@"; do
		sum=$((sum + $(nlines "$f")))
	done
	[ "$sum" -eq "$n" ]
}

@test "logrotate with tine -s reopen under load: no access-log line lost" {
	need logrotate
	local A=$T/access.log answered old
	write_conf
	start_tine
	cat >"$T/lr.conf" <<-EOF
		$A {
			rotate 1
			missingok
			nocreate
			postrotate
				"$TINE_BIN" -s reopen -f "$CONF"
			endscript
		}
	EOF
	"$TINE_TOOLS/loadgen" -p "$PORT" -k 4 -n 2 -d 3000 \
	    >"$T/lg.out" 2>"$T/lg.err" 3>&- &
	LG_PID=$!
	# The access log is written at least once a second.
	wait_for test -s "$A"
	run -0 logrotate -f -s "$T/lr.state" "$T/lr.conf"
	[ -z "$output" ]
	[ -s "$A.1" ]
	wait "$LG_PID" || true
	LG_PID=
	echo "loadgen: $(<"$T/lg.out") $(<"$T/lg.err")"
	[[ $(<"$T/lg.out") =~ answered=([1-9][0-9]*) ]]
	answered=${BASH_REMATCH[1]}
	[[ $(<"$T/lg.out") == *" lost=0 bad=0 connect_errors=0 "* ]]
	# Exactly one line per answered request, across both files.
	wait_for total_lines_are "$answered" "$A.1" "$A" || {
		echo "want $answered lines," \
		    "have $(nlines "$A.1") + $(nlines "$A")" >&2
		false
	}
	# New requests go to the new file only.
	old=$(nlines "$A.1")
	run -0 req / -A ops-after-rotate
	wait_for total_lines_are $((answered + 1)) "$A.1" "$A"
	[ "$(nlines "$A.1")" -eq "$old" ]
	tail -n 1 "$A" | grep -q '"ops-after-rotate"$'
	grep -q 'logs reopened' "$T/error.log"
}

@test "goaccess parses the access log as COMBINED, odd bytes and all" {
	need goaccess
	local A=$T/access.log
	write_conf
	start_tine
	req / >/dev/null
	req /missing -o /dev/null
	req / -I >/dev/null
	req / -e 'http://ref.example/"q"' -A 'agent "with" quotes \ and	tab' \
	    >/dev/null
	raw -e 'GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: caf\xc3\xa9\x80\xff" 200 - "x\\\r\nConnection: close\r\n\r\n' >/dev/null
	raw -e 'GET /a"b\\c\x01\x1b[31m\x7f\x80\xff?q="x" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >/dev/null
	raw -e 'GET /%0A%22%5C%01 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >/dev/null
	raw -e 'GET /a\tb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >/dev/null
	raw -e 'GET / HTTP/1.1\r\nHost: x\r\nUser-Agent:\r\nConnection: close\r\n\r\n' >/dev/null
	raw -e 'GARBAGE\r\n\r\n' >/dev/null
	wait_for total_lines_are 10 "$A"
	cat "$A"
	run -0 goaccess "$A" --no-global-config --no-progress \
	    --log-format=COMBINED -o "$T/report.json" </dev/null
	run -0 python3 -c '
import json, sys
g = json.load(open(sys.argv[1]))["general"]
print(g["total_requests"], g["valid_requests"], g["failed_requests"])
' "$T/report.json"
	[ "$output" = "10 10 0" ]
}
