#!/usr/bin/env bats
# upgrade.bats: the binary upgrade (SPEC "Signals added"): USR2 executes
# the file now at the start path with the listening sockets, WINCH
# retires the old master's workers, QUIT to the old master completes it,
# HUP to the old and QUIT to the new one roll it back; and what must not
# break it: a missing or non-executable binary, one that exits at start,
# a config that became invalid, two USR2 in a row, WINCH with no new
# master, a new master that goes away after WINCH. Every step that
# serves runs under loadgen's bounded keep-alive loop with nothing lost.

load helpers

setup() {
	setup_tine_dir
	LG_PID=
	NEW_PID=
	# tine runs from a copy: the test replaces that file, as an upgrade
	# installs a new binary, without touching the build.
	mkdir -p "$T/bin"
	cp "$TINE_BIN" "$T/bin/tine"
	UP_BIN=$T/bin/tine
}

teardown() {
	local rc=0 p i
	if [ -n "$LG_PID" ]; then
		kill -KILL "$LG_PID" 2>/dev/null || true
		wait "$LG_PID" 2>/dev/null || true
	fi
	# A new master outlives the old one (it is reparented): stopped by
	# pid, like the old one, and its workers with it.
	if [ -n "$NEW_PID" ] && pid_alive "$NEW_PID"; then
		kill -TERM "$NEW_PID" 2>/dev/null || true
		for ((i = 0; i < TINE_STOP_TIMEOUT * 20; i++)); do
			pid_alive "$NEW_PID" || break
			sleep 0.05
		done
		if pid_alive "$NEW_PID"; then
			echo "teardown: new master $NEW_PID ignored TERM" >&2
			for p in $(ps -o pid= --ppid "$NEW_PID"); do
				kill -KILL "$p" 2>/dev/null || true
			done
			kill -KILL "$NEW_PID" 2>/dev/null || true
			rc=1
		fi
	fi
	TINE_BIN=$UP_BIN teardown_tine || rc=1
	return "$rc"
}

# start_up [LINE]...: tine from $UP_BIN with write_conf's config plus
# LINEs, shutdown_timeout 10 and keep-alive 5 s.
start_up() {
	write_conf "keepalive_timeout 5" "shutdown_timeout 10" "$@"
	TINE_BIN=$UP_BIN start_tine
	wait_workers 2
	OLD_PID=$TINE_PID
}

# install_new: a new file at the start path (a rename, as package
# managers do: the running one keeps its own, now unnamed, file).
install_new() {
	cp "$TINE_BIN" "$T/bin/tine.new"
	mv "$T/bin/tine.new" "$UP_BIN"
}

start_loadgen() {
	"$TINE_TOOLS/loadgen" -p "$PORT" -k 16 -n 4 -d "$(($1 * 1000))" \
	    >"$T/lg.out" 2>"$T/lg.err" 3>&- &
	LG_PID=$!
}

# check_loadgen: waits (bounded by loadgen's own limits) and asserts that
# nothing was lost, bad or refused, and that something was answered.
check_loadgen() {
	local out
	wait "$LG_PID" || true
	LG_PID=
	out=$(<"$T/lg.out")
	echo "loadgen: $out $(<"$T/lg.err")"
	[[ $out =~ answered=([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -gt 0 ]
	[[ $out == *" lost=0 bad=0 connect_errors=0 "* ]]
}

log_has() {
	grep -qE -- "$1" "$T/error.log"
}

log_count() {
	grep -cE -- "$1" "$T/error.log" || true
}

# children PID: PID's children, one a line.
children() {
	ps -o pid= --ppid "$1" | tr -d ' ' || true
}

# workers_of PID: PID's children that are workers.
workers_of() {
	local p
	for p in $(children "$1"); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null |
		    grep -q '^tine: worker' && echo "$p"
	done
	return 0
}

worker_count_of() {
	[ "$(workers_of "$1" | grep -c .)" -eq "$2" ]
}

# serving PID: PID has workers (under load the pool may have grown).
serving() {
	[ "$(workers_of "$1" | grep -c .)" -ge 2 ]
}

# usr2: USR2 to the old master; waits until the new master serves and
# sets NEW_PID.
usr2() {
	local before
	before=$(serves_lines)
	kill -USR2 "$OLD_PID"
	# A line of this upgrade, not of an earlier one.
	wait_for serves_lines_above "$before"
	NEW_PID=$(sed -nE 's/.*upgrade: new master ([0-9]+) serves.*/\1/p' \
	    "$T/error.log" | tail -n 1)
	[ -n "$NEW_PID" ]
}

serves_lines() {
	grep -cE "upgrade: new master [0-9]+ serves" "$T/error.log" || true
}

serves_lines_above() {
	[ "$(serves_lines)" -gt "$1" ]
}

pidfile_is() {
	[ "$(cat "$T/tine.pid" 2>/dev/null)" = "$1" ]
}

no_oldbin() {
	[ ! -e "$T/tine.pid.oldbin" ]
}

gone() {
	! pid_alive "$1"
}

none_alive() {
	local p
	for p in "$@"; do
		! pid_alive "$p" || return 1
	done
}

@test "USR2, WINCH, QUIT: the new binary takes over, no request lost" {
	local ino
	start_up
	start_loadgen 8
	sleep 0.5
	install_new
	ino=$(stat -c %i "$UP_BIN")
	usr2
	# The new master is the old one's child and runs the new file.
	[ "$(ps -o ppid= -p "$NEW_PID" | tr -d ' ')" = "$OLD_PID" ]
	[ "$(stat -L -c %i "/proc/$NEW_PID/exe")" = "$ino" ]
	[ "$(stat -L -c %i "/proc/$OLD_PID/exe")" != "$ino" ]
	pidfile_is "$NEW_PID"
	[ "$(<"$T/tine.pid.oldbin")" = "$OLD_PID" ]
	wait_for serving "$NEW_PID"	# 2, or more under load
	# Both masters' workers serve the same sockets; no new socket.
	[ "$(listen_socks "$PORT" | wc -l)" = 1 ]
	port_listening "$PORT" "$NEW_PID"

	sleep 0.5
	kill -WINCH "$OLD_PID"
	wait_for log_has "WINCH: workers retiring; new master $NEW_PID serves"
	TINE_WAIT_TIMEOUT=12 wait_for worker_count_of "$OLD_PID" 0
	# Nothing is respawned.
	sleep 0.5
	worker_count_of "$OLD_PID" 0
	pid_alive "$OLD_PID"

	kill -QUIT "$OLD_PID"
	TINE_WAIT_TIMEOUT=12 wait_for gone "$OLD_PID"
	wait "$OLD_PID" || false
	TINE_PID=$NEW_PID
	NEW_PID=
	check_loadgen
	# QUIT removed PIDFILE.oldbin only.
	no_oldbin
	pidfile_is "$TINE_PID"
	run -0 req /
	[ "$output" = "hello tine" ]
	! log_has 'exited (on signal|with status)|upgrade failed' || false
	# The new master, alone now, stops as usual.
	run -0 "$UP_BIN" -f "$CONF" -s quit
	TINE_WAIT_TIMEOUT=12 wait_for gone "$TINE_PID"
	TINE_PID=
	[ ! -e "$T/tine.pid" ]
}

@test "USR2, WINCH, then HUP to the old and QUIT to the new: rolled back, no request lost" {
	start_up
	start_loadgen 8
	sleep 0.5
	install_new
	usr2
	kill -WINCH "$OLD_PID"
	TINE_WAIT_TIMEOUT=12 wait_for worker_count_of "$OLD_PID" 0
	kill -HUP "$OLD_PID"
	wait_for log_has 'HUP: starting workers again'
	wait_for serving "$OLD_PID"
	kill -QUIT "$NEW_PID"
	TINE_WAIT_TIMEOUT=12 wait_for gone "$NEW_PID"
	NEW_PID=
	wait_for log_has 'new master [0-9]+ exited; this master serves'
	check_loadgen
	pidfile_is "$OLD_PID"
	no_oldbin
	serving "$OLD_PID"
	# And the old master upgrades again later.
	usr2
	pidfile_is "$NEW_PID"
}

@test "QUIT to the new master after WINCH, without HUP: the old one serves again at once" {
	start_up
	usr2
	kill -WINCH "$OLD_PID"
	TINE_WAIT_TIMEOUT=12 wait_for worker_count_of "$OLD_PID" 0
	start_loadgen 4
	sleep 0.5
	kill -QUIT "$NEW_PID"
	TINE_WAIT_TIMEOUT=12 wait_for gone "$NEW_PID"
	NEW_PID=
	wait_for log_has 'starting workers again'
	wait_for serving "$OLD_PID"
	check_loadgen
	pidfile_is "$OLD_PID"
	no_oldbin
}

@test "USR2 with the binary missing or not executable: logged, nothing changes" {
	start_up
	rm "$UP_BIN"
	kill -USR2 "$OLD_PID"
	wait_for log_has "upgrade refused: $UP_BIN: No such file or directory; nothing changed"
	cp "$TINE_BIN" "$UP_BIN"
	chmod 644 "$UP_BIN"
	kill -USR2 "$OLD_PID"
	wait_for log_has "upgrade refused: $UP_BIN: not executable; nothing changed"
	mkdir "$T/dir"
	rm "$UP_BIN"
	ln -s "$T/dir" "$UP_BIN"
	kill -USR2 "$OLD_PID"
	wait_for log_has "upgrade refused: $UP_BIN: not a regular file"
	rm "$UP_BIN"
	cp "$TINE_BIN" "$UP_BIN"
	pidfile_is "$OLD_PID"
	no_oldbin
	worker_count_of "$OLD_PID" 2
	[ "$(children "$OLD_PID" | grep -c .)" -eq 2 ]
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "USR2 to a binary that exits at start: the old master keeps serving, pid file unchanged" {
	start_up
	start_loadgen 4
	sleep 0.5
	printf '#!/bin/sh\nexit 1\n' >"$T/bin/tine.new"
	chmod 755 "$T/bin/tine.new"
	mv "$T/bin/tine.new" "$UP_BIN"
	kill -USR2 "$OLD_PID"
	wait_for log_has 'upgrade failed: new master [0-9]+ exited with status 1 before it was ready; this master keeps serving'
	check_loadgen
	pidfile_is "$OLD_PID"
	no_oldbin
	serving "$OLD_PID"
	# A binary that crashes at start, the same.
	printf '#!/bin/sh\nkill -SEGV $$\n' >"$T/bin/tine.new"
	chmod 755 "$T/bin/tine.new"
	mv "$T/bin/tine.new" "$UP_BIN"
	kill -USR2 "$OLD_PID"
	wait_for log_has 'upgrade failed: new master [0-9]+ exited on signal 11'
	pidfile_is "$OLD_PID"
	no_oldbin
	# And a good binary afterwards upgrades.
	install_new
	usr2
	pidfile_is "$NEW_PID"
}

@test "USR2 with a config that became invalid: the new master says why, the old one serves" {
	start_up
	start_loadgen 4
	sleep 0.5
	echo "no_such_directive 1" >>"$CONF"
	kill -USR2 "$OLD_PID"
	wait_for log_has 'upgrade failed: new master [0-9]+ exited with status 1 before it was ready'
	check_loadgen
	# The new master's own message, in the error log.
	log_has "$(realpath "$CONF"):[0-9]+: .*no_such_directive"
	pidfile_is "$OLD_PID"
	no_oldbin
	serving "$OLD_PID"
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "two USR2 in a row: the second is refused, one new master; USR2 to it is refused too" {
	start_up
	start_loadgen 4
	kill -USR2 "$OLD_PID"
	kill -USR2 "$OLD_PID"
	wait_for log_has "upgrade: new master [0-9]+ serves"
	NEW_PID=$(sed -nE 's/.*upgrade: new master ([0-9]+) serves.*/\1/p' \
	    "$T/error.log" | tail -n 1)
	# A third, while the new master runs.
	kill -USR2 "$OLD_PID"
	wait_for log_has "upgrade refused: new master $NEW_PID is running"
	[ "$(log_count 'upgrade: new master [0-9]+ started')" -eq 1 ]
	kill -USR2 "$NEW_PID"
	wait_for log_has "upgrade refused: the old master $OLD_PID still runs"
	[ "$(log_count 'upgrade: new master [0-9]+ started')" -eq 1 ]
	check_loadgen
	pidfile_is "$NEW_PID"
	[ "$(<"$T/tine.pid.oldbin")" = "$OLD_PID" ]
}

@test "signals in the wrong order: WINCH with no new master, QUIT to the old before the new is ready" {
	start_up
	kill -WINCH "$OLD_PID"
	wait_for log_has 'WINCH ignored: no new master serves these sockets'
	sleep 0.3
	worker_count_of "$OLD_PID" 2
	start_loadgen 5
	sleep 0.5
	# QUIT as soon as the new master is started, before it says it
	# serves: the old master stops, the new one serves. (USR2 and QUIT
	# caught in one pass are taken as a stop: the stop is handled first.)
	kill -USR2 "$OLD_PID"
	wait_for log_has 'upgrade: new master [0-9]+ started'
	kill -QUIT "$OLD_PID"
	NEW_PID=$(sed -nE 's/.*upgrade: new master ([0-9]+) started.*/\1/p' \
	    "$T/error.log")
	[ -n "$NEW_PID" ]
	TINE_WAIT_TIMEOUT=12 wait_for gone "$OLD_PID"
	wait "$OLD_PID" || false
	TINE_PID=
	wait_for pidfile_is "$NEW_PID"
	check_loadgen
	no_oldbin
	TINE_PID=$NEW_PID
	NEW_PID=
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "QUIT to the old master, then the new one fails to start: the stop waits, and is cancelled" {
	start_up
	start_loadgen 5
	sleep 0.5
	# It fails a second after it started: the QUIT comes first.
	printf '#!/bin/sh\nsleep 1\nexit 1\n' >"$T/bin/tine.new"
	chmod 755 "$T/bin/tine.new"
	mv "$T/bin/tine.new" "$UP_BIN"
	kill -USR2 "$OLD_PID"
	wait_for log_has 'upgrade: new master [0-9]+ started'
	kill -QUIT "$OLD_PID"
	wait_for log_has 'graceful stop once new master [0-9]+ serves or ends'
	wait_for log_has 'QUIT cancelled: the new master ended before it served'
	check_loadgen
	pid_alive "$OLD_PID"
	serving "$OLD_PID"
	pidfile_is "$OLD_PID"
	no_oldbin
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "a new master killed with SIGKILL: its workers finish and end, the old master serves alone" {
	local -a kids
	start_up
	usr2
	wait_for worker_count_of "$NEW_PID" 2
	mapfile -t kids < <(workers_of "$NEW_PID")
	kill -WINCH "$OLD_PID"
	TINE_WAIT_TIMEOUT=12 wait_for worker_count_of "$OLD_PID" 0
	start_loadgen 4
	sleep 0.5
	kill -KILL "$NEW_PID"
	wait_for log_has "new master $NEW_PID exited on signal 9"
	NEW_PID=
	wait_for serving "$OLD_PID"
	# No worker of the dead master is left serving unmanaged.
	TINE_WAIT_TIMEOUT=12 wait_for none_alive "${kids[@]}"
	check_loadgen
	pidfile_is "$OLD_PID"
}

@test "QUIT to the new master after WINCH while it sends a long download: the old one accepts at once" {
	truncate -s 100M "$T/www/big"
	start_up
	usr2
	kill -WINCH "$OLD_PID"
	TINE_WAIT_TIMEOUT=12 wait_for worker_count_of "$OLD_PID" 0
	# About 4 s at 25 MB/s, on one of the new master's workers.
	curl -s --noproxy '*' --limit-rate 25M -o /dev/null \
	    "http://127.0.0.1:$PORT/big" 3>&- &
	local dl=$!
	sleep 0.5
	kill -QUIT "$NEW_PID"
	wait_for log_has "new master $NEW_PID stops: starting workers again"
	# Answered by the old master's workers while the download drains.
	run -0 req / --max-time 1
	[ "$output" = "hello tine" ]
	pid_alive "$NEW_PID"
	wait "$dl"
	TINE_WAIT_TIMEOUT=12 wait_for gone "$NEW_PID"
	NEW_PID=
}

@test "an address the new config dropped: WINCH refused, the old workers answer on it, QUIT closes it" {
	local p2
	p2=$(free_port)
	start_up "listen 127.0.0.1:$p2"
	run -0 req "http://127.0.0.1:$p2/"
	# The config now has only the first address.
	sed -i "/listen 127.0.0.1:$p2/d" "$CONF"
	install_new
	usr2
	# The new master keeps no copy of the socket it does not serve.
	log_has "127.0.0.1:$p2: not in the configuration; closed"
	kill -WINCH "$OLD_PID"
	wait_for log_has "WINCH refused: new master $NEW_PID does not serve 127.0.0.1:$p2"
	sleep 0.3
	worker_count_of "$OLD_PID" 2
	run -0 req "http://127.0.0.1:$p2/"
	[ "$output" = "hello tine" ]
	kill -QUIT "$OLD_PID"
	TINE_WAIT_TIMEOUT=12 wait_for gone "$OLD_PID"
	wait "$OLD_PID" || false
	TINE_PID=$NEW_PID
	NEW_PID=
	# Refused, not left listening with nobody to accept.
	run req "http://127.0.0.1:$p2/"
	[ "$status" = 7 ]
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "TERM to the new master while the old one runs: both stop gracefully, the new one last" {
	local dl
	start_up
	head -c 4000000 /dev/zero >"$T/www/big.bin"
	# A download in flight on one of the old master's workers.
	curl -sS --max-time 20 --limit-rate 1M -o "$T/big.out" \
	    "http://127.0.0.1:$PORT/big.bin" 3>&- &
	dl=$!
	sleep 0.5
	install_new
	usr2
	kill -TERM "$NEW_PID"
	wait_for log_has "TERM: old master $OLD_PID stops too"
	# The new master, which a service manager waits for, ends last.
	TINE_WAIT_TIMEOUT=15 wait_for gone "$NEW_PID"
	gone "$OLD_PID"
	wait "$dl"
	cmp "$T/big.out" "$T/www/big.bin"
	wait "$OLD_PID" || false
	TINE_PID=
	NEW_PID=
	no_oldbin
}
