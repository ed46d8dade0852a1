#!/usr/bin/env bats
# daemon.bats: starting without -d (SPEC "Command line"): double fork,
# setsid, chdir /, stdio to /dev/null, only after every listener is bound;
# the pid file and its lock; `tine -s reload|reopen|quit|stop`.

load helpers

setup() {
	setup_tine_dir
	DAEMON_PID=
	PY_PID=
	SLEEP_PID=
}

teardown() {
	local rc=0 pid p i
	for p in "$PY_PID" "$SLEEP_PID"; do
		if [ -n "$p" ]; then
			kill -KILL "$p" 2>/dev/null || true
			wait "$p" 2>/dev/null || true
		fi
	done
	teardown_tine || rc=1
	# A daemon is not our child: stop it by the pid its pid file names,
	# and only when that pid is a tine master.
	for pid in "$DAEMON_PID" "$(cat "$T/tine.pid" 2>/dev/null)"; do
		is_tine_master "$pid" || continue
		echo "teardown: stopping daemon $pid" >&2
		kill -TERM "$pid"
		for ((i = 0; i < 300; i++)); do
			pid_alive "$pid" || break
			sleep 0.05
		done
		pid_alive "$pid" && kill -KILL "$pid"
	done
	return "$rc"
}

# is_tine_master PID: PID runs our binary and calls itself the master.
is_tine_master() {
	[ -n "${1:-}" ] && pid_alive "$1" || return 1
	[ "$(readlink "/proc/$1/exe")" = "$(realpath "$TINE_BIN")" ] &&
	    tr '\0' ' ' <"/proc/$1/cmdline" | grep -q '^tine: master'
}

# start_daemon [ARGS...]: `tine -f $CONF ARGS...` without -d, bounded; sets
# status, output, stderr (run --separate-stderr) and, once the pid file
# names a listening master, DAEMON_PID.
start_daemon() {
	run --separate-stderr timeout 10 "$TINE_BIN" -f "$CONF" "$@" 3>&-
	[ "$status" -eq 0 ] || {
		echo "tine -f exited $status: $stderr" >&2
		return 1
	}
	wait_for test -s "$T/tine.pid"
	DAEMON_PID=$(<"$T/tine.pid")
	wait_for port_listening "$PORT" "$DAEMON_PID"
}

# gone PID: PID has exited and no longer names a process (or a zombie
# that the container's init has not reaped).
gone() {
	! pid_alive "$1"
}

# procs_using_conf: live pids whose command line names $CONF.
procs_using_conf() {
	local f pid
	for f in $(grep -alsF -- "$CONF" /proc/[0-9]*/cmdline); do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[ "$pid" != "$BASHPID" ] && pid_alive "$pid" && echo "$pid"
	done
	return 0
}

log_has() {
	grep -qE -- "$1" "$T/error.log"
}

# listen_py PORT: a plain python3 listener on 127.0.0.1:PORT.
listen_py() {
	python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
time.sleep(60)
' "$1" 3>&- &
	PY_PID=$!
	wait_for port_listening "$1" "$PY_PID"
}

@test "without -d: tine detaches, chdir /, stdio on /dev/null, serves; -s stop removes the pid file" {
	write_conf
	start_daemon
	[ -z "$output" ]
	[ -z "$stderr" ]
	is_tine_master "$DAEMON_PID"
	# Not our child, not in our session, not a session leader.
	ppid=$(ps -o ppid= -p "$DAEMON_PID" | tr -d ' ')
	[ "$ppid" != "$$" ]
	[ "$ppid" != "$BASHPID" ]
	sid=$(ps -o sid= -p "$DAEMON_PID" | tr -d ' ')
	[ "$sid" != "$(ps -o sid= -p $$ | tr -d ' ')" ]
	[ "$sid" != "$DAEMON_PID" ]
	[ "$(readlink "/proc/$DAEMON_PID/cwd")" = / ]
	for fd in 0 1 2; do
		[ "$(readlink "/proc/$DAEMON_PID/fd/$fd")" = /dev/null ]
	done
	run -0 req /
	[ "$output" = "hello tine" ]
	log_has 'started: 2 workers'
	mapfile -t kids < <(ps -o pid= --ppid "$DAEMON_PID" | tr -d ' ')
	[ "${#kids[@]}" -eq 2 ]

	run --separate-stderr -0 timeout 10 "$TINE_BIN" -s stop -f "$CONF"
	[ -z "$stderr" ]
	wait_for gone "$DAEMON_PID"
	for k in "${kids[@]}"; do
		wait_for gone "$k"
	done
	wait_for test ! -e "$T/tine.pid"
	log_has 'graceful stop'
	log_has 'stopped$'
	run -7 curl -sS --max-time 5 --noproxy '*' "http://127.0.0.1:$PORT/"
}

@test "without -d: tine returns only once the daemon has written its pid file" {
	write_conf
	for i in 1 2 3; do
		run --separate-stderr timeout 10 "$TINE_BIN" -f "$CONF" 3>&-
		[ "$status" -eq 0 ]
		# No waiting: the file is there the moment tine returns.
		[ -s "$T/tine.pid" ]
		DAEMON_PID=$(<"$T/tine.pid")
		pid_alive "$DAEMON_PID"
		run -0 timeout 10 "$TINE_BIN" -f "$CONF" -s stop
		wait_for gone "$DAEMON_PID"
		DAEMON_PID=
	done
}

@test "without -d: the daemon keeps none of the caller's other descriptors" {
	write_conf
	: >"$T/inherited"
	start_daemon 9>>"$T/inherited"
	run -0 req /
	links=$(readlink "/proc/$DAEMON_PID"/fd/* || true)
	echo "$links"
	! grep -qxF "$T/inherited" <<<"$links" || false
	for k in $(ps -o pid= --ppid "$DAEMON_PID"); do
		! readlink "/proc/$k"/fd/* | grep -qxF "$T/inherited" || false
	done
}

@test "with -d: neither master nor workers keep the caller's other descriptors" {
	local pid links
	write_conf
	: >"$T/inherited"
	# Not close-on-exec, as a shell leaves it: tine must close it itself.
	exec 7>>"$T/inherited"
	start_tine
	exec 7>&-
	wait_workers 2
	run -0 req /
	[ "$output" = "hello tine" ]
	for pid in "$TINE_PID" $(worker_pids); do
		links=$(readlink "/proc/$pid"/fd/*) || true
		if grep -qxF "$T/inherited" <<<"$links"; then
			echo "pid $pid holds the caller's fd 7:" >&2
			echo "$links" >&2
			return 1
		fi
	done
}

@test "without -d: a start that cannot bind fails at once, with no process and no pid file left" {
	write_conf
	listen_py "$PORT"
	run --separate-stderr timeout 10 "$TINE_BIN" -f "$CONF" 3>&-
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ]
	echo "$stderr"
	[[ $stderr == *"bind 127.0.0.1:$PORT: Address already in use"* ]]
	[ ! -e "$T/tine.pid" ]
	[ -z "$(procs_using_conf)" ]
	# The listener it could not take is untouched.
	port_listening "$PORT" "$PY_PID"
}

@test "a second tine with the same pid file refuses and names the running one" {
	write_conf
	start_daemon
	PORT2=$(free_port)
	sed "s/:$PORT\$/:$PORT2/" "$CONF" >"$T/second.conf"
	grep -q "listen 127.0.0.1:$PORT2" "$T/second.conf"
	for args in "-d -f $T/second.conf" "-f $T/second.conf"; do
		# shellcheck disable=SC2086 # two words on purpose
		run --separate-stderr timeout 10 "$TINE_BIN" $args 3>&-
		[ "$status" -ne 0 ]
		[ "$status" -ne 124 ]
		echo "$stderr"
		[[ $stderr == *"already running as pid $DAEMON_PID"* ]]
		[ "$(<"$T/tine.pid")" = "$DAEMON_PID" ]
		! port_listening "$PORT2" || false
	done
	is_tine_master "$DAEMON_PID"
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "-s without a pidfile directive fails with a clear message" {
	write_conf --no-default pidfile
	run --separate-stderr timeout 10 "$TINE_BIN" -s reload -f "$CONF"
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ]
	[[ $stderr == *"-s needs a pidfile directive in $CONF"* ]]
}

@test "-s with no pid file says tine is not running" {
	write_conf
	run --separate-stderr timeout 10 "$TINE_BIN" -s stop -f "$CONF"
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ]
	[[ $stderr == *"$T/tine.pid: No such file or directory (is tine running?)"* ]]
}

@test "-s with a stale pid file signals nobody" {
	write_conf
	sleep 30 3>&- &
	SLEEP_PID=$!
	echo "$SLEEP_PID" >"$T/tine.pid"
	for sig in stop reload quit reopen; do
		run --separate-stderr timeout 10 "$TINE_BIN" -s "$sig" -f "$CONF"
		[ "$status" -ne 0 ]
		[ "$status" -ne 124 ]
		[[ $stderr == *"$T/tine.pid is stale"* ]]
		[[ $stderr == *"pid $SLEEP_PID"* ]]
	done
	# sleep dies of any of TERM, HUP, QUIT or USR1.
	pid_alive "$SLEEP_PID"
	[ "$(<"$T/tine.pid")" = "$SLEEP_PID" ]
}

@test "-s with an unknown signal name lists the known ones" {
	write_conf
	run --separate-stderr timeout 10 "$TINE_BIN" -s restart -f "$CONF"
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ]
	[[ $stderr == *'unknown signal "restart": use reload, reopen, quit or stop'* ]]
}

@test "-s reopen, -s reload and -s quit reach the running master" {
	printf 'other page\n' >"$T/www/other.html"
	write_conf
	start_daemon

	mv "$T/error.log" "$T/error.log.1"
	run --separate-stderr -0 timeout 10 "$TINE_BIN" -s reopen -f "$CONF"
	[ -z "$stderr" ]
	wait_for log_has 'logs reopened'
	grep -q 'started: 2 workers' "$T/error.log.1"

	write_conf "index other.html"
	run --separate-stderr -0 timeout 10 "$TINE_BIN" -s reload -f "$CONF"
	wait_for log_has 'reloaded: generation 1'
	run -0 req /
	[ "$output" = "other page" ]
	[ "$(<"$T/tine.pid")" = "$DAEMON_PID" ]
	is_tine_master "$DAEMON_PID"

	run --separate-stderr -0 timeout 10 "$TINE_BIN" -s quit -f "$CONF"
	wait_for gone "$DAEMON_PID"
	wait_for test ! -e "$T/tine.pid"
	log_has 'graceful stop'
	log_has 'stopped$'
}
