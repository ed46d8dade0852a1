#!/usr/bin/env bats
# scaleout.bats: tine behind HAProxy (README "Scaling out"). Two tine
# instances listen with proxy_protocol and trust HAProxy's address only;
# HAProxy sends them PROXY v2 and health checks that carry the header too.
# Clients connect from 127.0.0.2, HAProxy from 127.0.0.1, so an access
# log line with 127.0.0.2 is the carried address, not tine's own peer.
# Under a client loop, one tine reloads and the other stops gracefully and
# starts again: no request may fail. Skipped when haproxy is missing
# (scripts/deps test installs Debian's).

# HAProxy, health checks and a stop that waits out idle connections make
# every wait here slower than a lone tine's.
: "${TINE_WAIT_TIMEOUT:=10}"

load helpers

setup() {
	HAPROXY_PID=
	LG_PID=
	declare -gA TDIR=() TPORT=() TPID=()
	HAPROXY=$(PATH=$PATH:/usr/sbin:/usr/local/sbin command -v haproxy) ||
		skip "no haproxy (scripts/deps test installs it)"
	FPORT=$(free_port)
	new_tine tine1
	new_tine tine2
	write_haproxy_conf
}

teardown() {
	local rc=0 i
	if [ -n "$LG_PID" ]; then
		kill -KILL "$LG_PID" 2>/dev/null || true
		wait "$LG_PID" 2>/dev/null || true
	fi
	if [ -n "$HAPROXY_PID" ]; then
		kill -TERM "$HAPROXY_PID" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			pid_alive "$HAPROXY_PID" || break
			sleep 0.05
		done
		kill -KILL "$HAPROXY_PID" 2>/dev/null || true
		wait "$HAPROXY_PID" 2>/dev/null || true
	fi
	[ -n "${TDIR[tine1]:-}" ] || return 0
	as tine1 teardown_tine || rc=1
	as tine2 teardown_tine || rc=1
	return "$rc"
}

# new_tine NAME: a directory for one instance: www/index.html ("hello
# NAME"), the health check's www/health, a port, and a config that
# takes the PROXY header from 127.0.0.1 (HAProxy) and no one else.
new_tine() {
	TDIR[$1]=$BATS_TEST_TMPDIR/$1
	TPORT[$1]=$(free_port)
	TPID[$1]=
	mkdir -p "${TDIR[$1]}/www"
	printf 'hello %s\n' "$1" >"${TDIR[$1]}/www/index.html"
	printf 'ok\n' >"${TDIR[$1]}/www/health"
	as "$1" write_conf --no-default listen \
	    "listen 127.0.0.1:${TPORT[$1]} proxy_protocol" \
	    "proxy_protocol_from 127.0.0.1"
}

# as NAME CMD...: runs CMD with the helpers' globals (T, CONF, PORT,
# TINE_PID, TINE_STATUS) set to instance NAME's; keeps its TINE_PID.
as() {
	# shellcheck disable=SC2034 # read by the helpers CMD calls
	local T=${TDIR[$1]} CONF=${TDIR[$1]}/tine.conf PORT=${TPORT[$1]} \
	    TINE_PID=${TPID[$1]} TINE_STATUS='' rc=0
	"${@:2}" || rc=$?
	TPID[$1]=$TINE_PID
	return "$rc"
}

# write_haproxy_conf: the HAProxy config README "Scaling out" prints,
# with its addresses changed to this test's loopback ports and nothing
# else (the frontend's bind line and the two server lines).
write_haproxy_conf() {
	local d=$BATS_TEST_TMPDIR changed
	readme_example haproxy >"$d/printed.cfg" || {
		echo "README.md has no example \"haproxy\"" >&2
		return 1
	}
	sed -E -e "s/^([[:space:]]*bind) :80\$/\1 127.0.0.1:$FPORT/" \
	    -e "s/^([[:space:]]*server tine1) 192\.0\.2\.11:8080\$/\1 127.0.0.1:${TPORT[tine1]}/" \
	    -e "s/^([[:space:]]*server tine2) 192\.0\.2\.12:8080\$/\1 127.0.0.1:${TPORT[tine2]}/" \
	    "$d/printed.cfg" >"$d/haproxy.cfg"
	changed=$(diff "$d/printed.cfg" "$d/haproxy.cfg" | grep -c '^>') || true
	[ "$changed" = 3 ] || {
		echo "README's HAProxy config: $changed of its bind and" \
		    "server lines changed, want 3" >&2
		return 1
	}
}

# start_haproxy: HAProxy in the foreground (-db) in the background, its
# log in $BATS_TEST_TMPDIR/haproxy.log; returns once it listens and both
# tines have answered a health check.
start_haproxy() {
	local d=$BATS_TEST_TMPDIR
	run -0 "$HAPROXY" -c -q -f "$d/haproxy.cfg"
	"$HAPROXY" -db -f "$d/haproxy.cfg" >"$d/haproxy.log" \
	    2>"$d/haproxy.err" 3>&- &
	HAPROXY_PID=$!
	wait_for port_listening "$FPORT" "$HAPROXY_PID" || {
		cat "$d/haproxy.err" >&2
		return 1
	}
	wait_for logged tine1 '127\.0\.0\.1 .*"GET /health HTTP/1\.1" 200 '
	wait_for logged tine2 '127\.0\.0\.1 .*"GET /health HTTP/1\.1" 200 '
}

# logged NAME ERE: instance NAME's access log has a line ^ERE.
logged() {
	grep -qE "^$2" "${TDIR[$1]}/access.log" 2>/dev/null
}

# client_lines NAME: lines in NAME's access log from the clients' 127.0.0.2.
client_lines() {
	grep -c '^127\.0\.0\.2 ' "${TDIR[$1]}/access.log" 2>/dev/null || true
}

client_lines_over() {
	[ "$(client_lines "$1")" -gt "$2" ]
}

haproxy_says() {
	grep -qF "$1" "$BATS_TEST_TMPDIR/haproxy.log"
}

# only_expected_lines NAME: every line of NAME's access log is a client's
# request from 127.0.0.2 or a health check from HAProxy's 127.0.0.1 (its
# PROXY header says LOCAL), each answered 200.
only_expected_lines() {
	local f=${TDIR[$1]}/access.log other
	other=$(grep -vE '^127\.0\.0\.2 .*"GET / HTTP/1\.1" 200 |^127\.0\.0\.1 .*"GET /health HTTP/1\.1" 200 ' "$f") || true
	[ -z "$other" ] || {
		echo "unexpected lines in $1's access log:" >&2
		head -n 20 <<<"$other" >&2
		return 1
	}
}

# no_trouble NAME: NAME's error log has no refused PROXY header (a health
# check without one would be) and no worker that died.
no_trouble() {
	! grep -E 'PROXY protocol header refused|exited (on signal|with status)' \
	    "${TDIR[$1]}/error.log" || false
}

@test "scaleout: through HAProxy each tine logs the client's address, health checks HAProxy's" {
	local -A seen=()
	as tine1 start_tine
	as tine2 start_tine
	start_haproxy
	# A list, not a counter: Bats' run uses a global i of its own.
	for _ in 1 2 3 4; do
		run -0 curl -sS --max-time 5 --noproxy '*' \
		    --interface 127.0.0.2 "http://127.0.0.1:$FPORT/"
		seen[$output]=1
	done
	# Round robin: both answered.
	[ -n "${seen[hello tine1]:-}" ]
	[ -n "${seen[hello tine2]:-}" ]
	wait_for logged tine1 '127\.0\.0\.2 .*"GET / HTTP/1\.1" 200 '
	wait_for logged tine2 '127\.0\.0\.2 .*"GET / HTTP/1\.1" 200 '
	only_expected_lines tine1
	only_expected_lines tine2
	no_trouble tine1
	no_trouble tine2
}

# gone NAME: instance NAME's master has exited.
gone() {
	! pid_alive "${TPID[$1]}"
}

@test "scaleout: one tine reloads, the other stops and starts again, no request fails" {
	local out before redispatched
	as tine1 start_tine
	as tine2 start_tine
	start_haproxy
	# 16 keep-alive and 4 new-connection clients from 127.0.0.2, for
	# longer than the steps below take (bounded: -d plus loadgen's drain).
	"$TINE_TOOLS/loadgen" -p "$FPORT" -b 127.0.0.2 -k 16 -n 4 -d 18000 \
	    >"$BATS_TEST_TMPDIR/lg.out" 2>"$BATS_TEST_TMPDIR/lg.err" 3>&- &
	LG_PID=$!
	wait_for client_lines_over tine1 0
	wait_for client_lines_over tine2 0

	# Reload tine1.
	kill -HUP "${TPID[tine1]}"
	wait_for grep -q 'reloaded: generation 1,' "${TDIR[tine1]}/error.log"

	# Stop tine2 gracefully: its listener drops new connections at once,
	# so HAProxy's checks find it down; it exits once HAProxy's idle
	# connections to it reach its keepalive_timeout.
	kill -TERM "${TPID[tine2]}"
	wait_for haproxy_says 'Server tines/tine2 is DOWN'
	TINE_WAIT_TIMEOUT=$TINE_STOP_TIMEOUT wait_for gone tine2
	wait "${TPID[tine2]}" && out=0 || out=$?
	TPID[tine2]=
	[ "$out" = 0 ]
	pid_alive "$LG_PID"

	# Start it again on the same port: HAProxy's checks bring it back,
	# and the clients' requests reach it again.
	before=$(client_lines tine2)
	as tine2 start_tine
	wait_for haproxy_says 'Server tines/tine2 is UP'
	wait_for client_lines_over tine2 "$before"
	pid_alive "$LG_PID"

	wait "$LG_PID" || true
	LG_PID=
	out=$(<"$BATS_TEST_TMPDIR/lg.out")
	# HAProxy's log marks a redispatched request's retry count with +.
	redispatched=$(grep -c '/+[0-9]* ' "$BATS_TEST_TMPDIR/haproxy.log") ||
		true
	echo "loadgen: $out $(<"$BATS_TEST_TMPDIR/lg.err")"
	echo "haproxy: $redispatched requests redispatched"
	[[ $out =~ answered=([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -gt 0 ]
	[[ $out == *" lost=0 bad=0 connect_errors=0 "* ]]
	only_expected_lines tine1
	only_expected_lines tine2
	no_trouble tine1
	no_trouble tine2
}
