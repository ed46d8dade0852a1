#!/usr/bin/env bats
# logsec.bats: how the root master opens log files (issue 13). A link, a
# hard link or a file of the wrong type is refused, never followed or
# handed over; only a file tine created, or one the workers' user already
# owns, changes owner; a FIFO without reader never blocks the master.
# Needs root and the Debian nobody/nogroup accounts, like privdrop.bats.

load helpers

setup() {
	[ "$(id -u)" = 0 ] || skip "log ownership needs root"
	getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
		skip "no nobody user or nogroup group"
	setup_tine_dir
	# Workers reopen logs by path as nobody, and the Bats directories
	# are private to root: the test tree lives in a world-searchable
	# directory of our own.
	PUBDIR=$(mktemp -d /tmp/tine-logsec.XXXXXX)
	chmod 755 "$PUBDIR"
	T=$PUBDIR
	CONF=$T/tine.conf
	mkdir "$T/www"
	printf 'hello tine\n' >"$T/www/index.html"
	DEVNULL_WAS=$(stat -c '%u:%g:%a' /dev/null)
	# A file of root's that a planted link or hard link points at.
	SECRET=$T/secret
	printf 'root only\n' >"$SECRET"
	chmod 600 "$SECRET"
}

teardown() {
	local rc=0
	exec 7<&- 2>/dev/null || true	# a FIFO reader of the test's own
	teardown_tine || rc=1
	# /dev/null as it was, should a failing build have handed it over.
	if [ "$(stat -c '%u:%g:%a' /dev/null)" != "$DEVNULL_WAS" ]; then
		echo "teardown: /dev/null was changed; restoring it" >&2
		chown "${DEVNULL_WAS%:*}" /dev/null
		chmod "${DEVNULL_WAS##*:}" /dev/null
		rc=1
	fi
	case ${PUBDIR:-} in
	/tmp/tine-logsec.*) rm -rf -- "$PUBDIR" ;;
	esac
	return "$rc"
}

# owner PATH: "uid:gid:mode" of PATH itself (not of a link's target).
owner() {
	stat -c '%u:%g:%a' "$1"
}

# secret_untouched: $SECRET kept its owner, mode and bytes.
secret_untouched() {
	[ "$(owner "$SECRET")" = 0:0:600 ] || {
		echo "secret is now $(owner "$SECRET")" >&2
		return 1
	}
	[ "$(cat "$SECRET")" = "root only" ]
}

log_has() {
	grep -qE -- "$1" "$T/error.log"
}

@test "a log path that is a symbolic link is refused by -t and at start" {
	local ca
	ln -s "$SECRET" "$T/access.log"
	write_conf "user nobody" "group nogroup"
	ca=$(realpath "$CONF")
	run -1 --separate-stderr timeout 20 "$TINE_BIN" -t -f "$CONF" 3>&-
	grep -qxF "$ca:7: access_log \"$T/access.log\": is a symbolic link; a log is never opened through one" <<<"$stderr"
	run -1 --separate-stderr timeout 20 "$TINE_BIN" -d -f "$CONF" 3>&-
	[ "$stderr" = "$ca:7: access_log \"$T/access.log\": is a symbolic link; a log is never opened through one" ]
	! port_listening "$PORT" || false
	secret_untouched
	# The error log too, at its own line.
	rm "$T/access.log"
	ln -s "$SECRET" "$T/error.log"
	run -1 --separate-stderr timeout 20 "$TINE_BIN" -d -f "$CONF" 3>&-
	[ "$stderr" = "$ca:6: error_log \"$T/error.log\": is a symbolic link; a log is never opened through one" ]
	secret_untouched
	[ ! -e "$T/tine.pid" ]
}

@test "a log path that is a hard link to another file is refused" {
	ln "$SECRET" "$T/access.log"
	write_conf "user nobody" "group nogroup"
	run -1 --separate-stderr timeout 20 "$TINE_BIN" -d -f "$CONF" 3>&-
	[ "$stderr" = "$(realpath "$CONF"):7: access_log \"$T/access.log\": is a regular file with more than one link" ]
	secret_untouched
}

@test "access_log /dev/null serves, and /dev/null keeps its owner" {
	write_conf "user nobody" "group nogroup" "access_log /dev/null"
	start_tine
	wait_workers 2
	run -0 req /
	[ "$output" = "hello tine" ]
	kill -USR1 "$TINE_PID"
	wait_for log_has ': logs reopened$'
	run -0 req /
	[ "$output" = "hello tine" ]
	[ "$(owner /dev/null)" = "$DEVNULL_WAS" ]
	! log_has 'access_log|chown' || false
}

@test "an existing log of root's stays root's; master and workers write it" {
	: >"$T/access.log"
	: >"$T/error.log"
	chmod 640 "$T/access.log" "$T/error.log"
	write_conf "user nobody" "group nogroup"
	start_tine
	wait_workers 2
	run -0 req /rootlog
	wait_for grep -q '"GET /rootlog HTTP/1.1" 404 ' "$T/access.log"
	log_has 'started: 2 workers'
	[ "$(owner "$T/access.log")" = 0:0:640 ]
	[ "$(owner "$T/error.log")" = 0:0:640 ]
}

@test "a log tine creates is handed to the workers' user" {
	write_conf "user nobody" "group nogroup"
	start_tine
	[ "$(stat -c %U:%G "$T/access.log")" = nobody:nogroup ]
	[ "$(stat -c %U:%G "$T/error.log")" = nobody:nogroup ]
}

@test "USR1 after the log was swapped for a link: refused, old file kept" {
	write_conf "user nobody" "group nogroup"
	start_tine
	wait_workers 2
	run -0 req /before
	wait_for grep -q '"GET /before HTTP/1.1" 404 ' "$T/access.log"
	# What a workers' user with a writable log directory could do.
	mv "$T/access.log" "$T/access.log.1"
	ln -s "$SECRET" "$T/access.log"
	kill -USR1 "$TINE_PID"
	wait_for log_has ': logs reopened$'
	log_has "\\[warn\\] tine\\[$TINE_PID\\]: $(realpath "$CONF"):7: access_log \"$T/access.log\": is a symbolic link; a log is never opened through one\$"
	log_has 'access log not reopened: keeping the open one$'
	# Every worker, refused too, keeps the descriptor it had.
	run -0 req /after
	wait_for grep -q '"GET /after HTTP/1.1" 404 ' "$T/access.log.1"
	[ -L "$T/access.log" ]
	secret_untouched
	# The master still serves and reaps.
	victim=$(worker_pids | head -n 1)
	kill -KILL "$victim"
	wait_for log_has "worker $victim exited on signal 9\$"
	wait_workers 2
}

@test "HUP to a log path that is a link: refused, the old config serves" {
	write_conf
	start_tine
	ln -s "$SECRET" "$T/new.log"
	write_conf "access_log $T/new.log" "index other.html"
	kill -HUP "$TINE_PID"
	wait_for log_has 'reload failed: cannot open logs; keeping the current configuration$'
	log_has ":7: access_log \"$T/new.log\": is a symbolic link"
	run -0 req /
	[ "$output" = "hello tine" ]
	secret_untouched
}

@test "a FIFO log without a reader fails the start at once" {
	mkfifo -m 600 "$T/access.log"
	write_conf
	run -1 --separate-stderr timeout 10 "$TINE_BIN" -d -f "$CONF" 3>&-
	[ "$stderr" = "$(realpath "$CONF"):7: access_log \"$T/access.log\": is a FIFO that no process reads" ]
	! port_listening "$PORT" || false
}

@test "FIFO log: its reader gets the lines; once it is gone USR1 and HUP never block the master" {
	local line victim
	mkfifo -m 600 "$T/access.log"
	# The test holds the reader on fd 7 (read-write: the open does not
	# wait for a writer); tine must not inherit it.
	exec 7<>"$T/access.log"
	write_conf "user nobody" "group nogroup"
	start_tine 7>&-
	wait_workers 2
	run -0 req /fifo
	read -r -t 5 -u 7 line
	[[ $line == *'"GET /fifo HTTP/1.1" 404 '* ]]
	[ "$(owner "$T/access.log")" = 0:0:600 ]
	# The reader goes away.
	exec 7<&-
	kill -USR1 "$TINE_PID"
	wait_for log_has ': logs reopened$'
	log_has ":7: access_log \"$T/access.log\": is a FIFO that no process reads; keeping the descriptor open on it\$"
	# Still reaping and respawning.
	victim=$(worker_pids | head -n 1)
	kill -KILL "$victim"
	wait_for log_has "worker $victim exited on signal 9\$"
	wait_workers 2
	! worker_pids | grep -qx "$victim" || false
	# A reload goes through, and requests are answered.
	run -0 timeout 10 "$TINE_BIN" -s reload -f "$CONF"
	wait_for log_has 'reloaded: generation 1'
	run -0 req /
	[ "$output" = "hello tine" ]
	[ "$(owner "$T/access.log")" = 0:0:600 ]
}

# as_nobody CMD: runs the shell command CMD as the workers' user.
as_nobody() {
	su -s /bin/sh nobody -c "$1"
}

@test "a link planted above a log, in a directory others can write, is never followed" {
	local ca why
	mkdir -p "$T/logs/sub" "$T/victim"
	chown nobody "$T/logs"
	write_conf "user nobody" "group nogroup" \
	    "access_log $T/logs/sub/access.log" "error_log $T/logs/sub/error.log"
	ca=$(realpath "$CONF")
	why="\"$T/logs/sub\" is a symbolic link in a directory other users can write (or not root's); it is not followed"
	start_tine
	wait_workers 2
	# The workers' user swaps its subdirectory for a link to root's.
	as_nobody "mv '$T/logs/sub' '$T/logs/sub.old' && ln -s '$T/victim' '$T/logs/sub'"
	kill -USR1 "$TINE_PID"
	wait_for grep -q ': logs reopened$' "$T/logs/sub.old/error.log"
	grep -qF "$ca:8: access_log \"$T/logs/sub/access.log\": $why" "$T/logs/sub.old/error.log"
	grep -qF "$ca:9: error_log \"$T/logs/sub/error.log\": $why" "$T/logs/sub.old/error.log"
	run -0 req /after
	wait_for grep -q '"GET /after HTTP/1.1" 404 ' "$T/logs/sub.old/access.log"
	# A reload that would open the logs through it fails.
	kill -HUP "$TINE_PID"
	wait_for grep -q 'reload failed: cannot open logs' "$T/logs/sub.old/error.log"
	[ -z "$(ls -A "$T/victim")" ]
	stop_tine
	# -t and a start refuse it before anything is opened.
	run -1 --separate-stderr timeout 20 "$TINE_BIN" -t -f "$CONF" 3>&-
	grep -qxF "$ca:8: access_log \"$T/logs/sub/access.log\": $why" <<<"$stderr"
	grep -qxF "$ca:9: error_log \"$T/logs/sub/error.log\": $why" <<<"$stderr"
	run -1 --separate-stderr timeout 20 "$TINE_BIN" -d -f "$CONF" 3>&-
	grep -qxF "$ca:8: access_log \"$T/logs/sub/access.log\": $why" <<<"$stderr"
	! port_listening "$PORT" || false
	[ -z "$(ls -A "$T/victim")" ]
}

@test "a link root made in a directory only root can write is followed to the logs" {
	mkdir "$T/volume"
	ln -s volume "$T/logs"
	write_conf "user nobody" "group nogroup" \
	    "access_log $T/logs/access.log" "error_log $T/logs/error.log"
	run -0 --separate-stderr timeout 20 "$TINE_BIN" -t -f "$CONF" 3>&-
	start_tine
	wait_workers 2
	run -0 req /vol
	wait_for grep -q '"GET /vol HTTP/1.1" 404 ' "$T/volume/access.log"
	[ "$(stat -c %U:%G "$T/volume/access.log")" = nobody:nogroup ]
	kill -USR1 "$TINE_PID"
	wait_for grep -q ': logs reopened$' "$T/volume/error.log"
	! grep -q 'symbolic link' "$T/volume/error.log" || false
}

@test "a pid file path that is a link of the workers' user is refused: -t, start, reload" {
	local ca
	mkdir "$T/run" "$T/rootrun"
	chown nobody "$T/run"
	as_nobody "ln -s '$SECRET' '$T/run/tine.pid'"
	write_conf "user nobody" "group nogroup" "pidfile $T/run/tine.pid"
	ca=$(realpath "$CONF")
	run -1 --separate-stderr timeout 20 "$TINE_BIN" -t -f "$CONF" 3>&-
	grep -qxF "$ca:9: pidfile \"$T/run/tine.pid\": is a symbolic link; a pid file is never opened through one" <<<"$stderr"
	run -1 --separate-stderr timeout 20 "$TINE_BIN" -d -f "$CONF" 3>&-
	grep -qxF "$ca:9: pidfile \"$T/run/tine.pid\": is a symbolic link; a pid file is never opened through one" <<<"$stderr"
	! port_listening "$PORT" || false
	secret_untouched
	# A reload to it keeps the pid file it has.
	write_conf "user nobody" "group nogroup"
	start_tine
	write_conf "user nobody" "group nogroup" "pidfile $T/run/tine.pid"
	kill -HUP "$TINE_PID"
	wait_for log_has 'reloaded: generation 1'
	log_has "pidfile $T/run/tine.pid: keeping $T/tine.pid: is a symbolic link; a pid file is never opened through one\$"
	[ "$(<"$T/tine.pid")" = "$TINE_PID" ]
	secret_untouched
	# Nor through a link to a directory of root's, on the way.
	as_nobody "ln -s '$T/rootrun' '$T/run/d'"
	write_conf "user nobody" "group nogroup" "pidfile $T/run/d/tine.pid"
	kill -HUP "$TINE_PID"
	wait_for log_has 'reloaded: generation 2'
	log_has "pidfile $T/run/d/tine.pid: keeping $T/tine.pid: \"$T/run/d\" is a symbolic link in a directory other users can write"
	[ -z "$(ls -A "$T/rootrun")" ]
	[ "$(<"$T/tine.pid")" = "$TINE_PID" ]
	# tine -s still finds the master by the pid file it kept.
	write_conf "user nobody" "group nogroup"
	run -0 timeout 10 "$TINE_BIN" -s reopen -f "$CONF"
	wait_for log_has ': logs reopened$'
	stop_tine
	[ ! -e "$T/tine.pid" ]
	secret_untouched
}

@test "a log the workers' user hard-linked in its own directory still opens; reload and restart work" {
	mkdir "$T/logs"
	chown nobody "$T/logs"
	write_conf "user nobody" "group nogroup" \
	    "access_log $T/logs/access.log" "error_log $T/logs/error.log"
	start_tine
	wait_workers 2
	[ "$(stat -c %U "$T/logs/error.log")" = nobody ]
	as_nobody "ln '$T/logs/error.log' '$T/logs/e.link' && ln '$T/logs/access.log' '$T/logs/a.link'"
	write_conf "user nobody" "group nogroup" \
	    "access_log $T/logs/access.log" "error_log $T/logs/error.log" \
	    "index other.html"
	kill -HUP "$TINE_PID"
	wait_for grep -q 'reloaded: generation 1' "$T/logs/error.log"
	! grep -q 'more than one link\|reload failed' "$T/logs/error.log" || false
	stop_tine
	run -0 --separate-stderr timeout 20 "$TINE_BIN" -t -f "$CONF" 3>&-
	start_tine
	run -0 req /again
	wait_for grep -q '"GET /again HTTP/1.1" 404 ' "$T/logs/a.link"
}
