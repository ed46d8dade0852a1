#!/usr/bin/env bats
# privdrop.bats: user and group (SPEC "Config file"). Started as root, the
# master stays root and its workers run as the configured user and group
# with no way back; log files are handed to that user so that workers can
# reopen them. Needs root and the Debian nobody/nogroup accounts.

load helpers

setup() {
	[ "$(id -u)" = 0 ] || skip "privilege dropping needs root"
	getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
		skip "no nobody user or nogroup group"
	setup_tine_dir
	NOBODY_UID=$(id -u nobody)
	NOGROUP_GID=$(getent group nogroup | cut -d: -f3)
	# Workers reopen logs by path as nobody, and the Bats directories
	# are private to root: the test tree lives in a world-searchable
	# directory of our own.
	SUID_DUMPABLE=
	PUBDIR=$(mktemp -d /tmp/tine-privdrop.XXXXXX)
	chmod 755 "$PUBDIR"
	T=$PUBDIR
	CONF=$T/tine.conf
	mkdir "$T/www"
	printf 'hello tine\n' >"$T/www/index.html"
}

teardown() {
	local rc=0 pid
	teardown_tine || rc=1
	# The system-wide setting a test changed, as it was.
	if [ -n "${SUID_DUMPABLE:-}" ]; then
		echo "$SUID_DUMPABLE" >/proc/sys/fs/suid_dumpable || rc=1
	fi
	# A start without -d that wrongly daemonized: stop it by its pid file,
	# only when that pid is a tine of ours.
	if [ -n "${T:-}" ] && [ -s "$T/tine.pid" ]; then
		pid=$(cat "$T/tine.pid")
		if pid_alive "$pid" &&
		    [ "$(readlink "/proc/$pid/exe")" = "$(realpath "$TINE_BIN")" ]; then
			echo "teardown: a daemonized tine ($pid) was left running" >&2
			kill -TERM "$pid"
			rc=1
		fi
	fi
	case ${PUBDIR:-} in
	/tmp/tine-privdrop.*) rm -rf -- "$PUBDIR" ;;
	esac
	return "$rc"
}

# field PID NAME: the value of NAME in /proc/PID/status, blanks squeezed.
field() {
	awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ +/, ""); print; exit }' \
	    "/proc/$1/status"
}

# assert_dropped PID UID GID: real, effective, saved and fs ids are UID
# and GID, the only supplementary group is GID, no capabilities, and
# no_new_privs is set.
assert_dropped() {
	local pid=$1 u=$2 g=$3 groups
	[ "$(field "$pid" Uid)" = "$u $u $u $u" ] || {
		echo "worker $pid Uid: $(field "$pid" Uid)" >&2
		return 1
	}
	[ "$(field "$pid" Gid)" = "$g $g $g $g" ] || {
		echo "worker $pid Gid: $(field "$pid" Gid)" >&2
		return 1
	}
	groups=$(field "$pid" Groups)
	[ -z "$groups" ] || [ "$groups" = "$g" ] || {
		echo "worker $pid Groups: $groups" >&2
		return 1
	}
	[ "$(field "$pid" NoNewPrivs)" = 1 ]
	if [ "$u" != 0 ]; then
		[ "$(field "$pid" CapPrm)" = 0000000000000000 ]
		[ "$(field "$pid" CapEff)" = 0000000000000000 ]
	fi
}

@test "workers run as nobody:nogroup, the master stays root" {
	local pid n=0
	write_conf "user nobody" "group nogroup"
	start_tine
	wait_workers 2
	[ "$(field "$TINE_PID" Uid)" = "0 0 0 0" ]
	[ "$(field "$TINE_PID" Gid)" = "0 0 0 0" ]
	for pid in $(worker_pids); do
		assert_dropped "$pid" "$NOBODY_UID" "$NOGROUP_GID"
		n=$((n + 1))
	done
	[ "$n" -eq 2 ]
	run -0 req /
	[ "$output" = "hello tine" ]
	wait_for grep -q '"GET / HTTP/1.1" 200 11 ' "$T/access.log"
}

@test "started as root without user: the first log line says workers serve as root" {
	local first
	write_conf
	start_tine
	wait_workers 2
	[ "$(field "$(worker_pids | head -n 1)" Uid)" = "0 0 0 0" ]
	read -r first <"$T/error.log"
	[[ $first == *" [warn] tine[$TINE_PID]: $CONF sets no user: workers serve the network as root" ]] || {
		echo "first line: $first" >&2
		return 1
	}
	# -t says it too, and still succeeds.
	run -0 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ "${stderr_lines[0]}" = "tine: warning: $CONF sets no user: started as root, workers would serve the network as root" ]
	[[ ${stderr_lines[1]} == "tine: sandbox"* ]]
	[ "${stderr_lines[2]}" = "tine: configuration file $CONF test is successful" ]
	# With a user, neither warns.
	stop_tine
	: >"$T/error.log"
	write_conf "user nobody"
	start_tine
	wait_workers 2
	run -0 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ "$(grep -v '^tine: sandbox' <<<"$stderr")" = "tine: configuration file $CONF test is successful" ]
	! grep -q 'serve the network as root' "$T/error.log" || false
}

@test "user alone: the user's primary group" {
	local pid
	write_conf "user nobody"
	start_tine
	wait_workers 2
	for pid in $(worker_pids); do
		assert_dropped "$pid" "$NOBODY_UID" "$(id -g nobody)"
	done
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "group alone: workers keep uid 0 but switch group" {
	local pid
	write_conf "group nogroup"
	start_tine
	wait_workers 2
	[ "$(field "$TINE_PID" Gid)" = "0 0 0 0" ]
	for pid in $(worker_pids); do
		assert_dropped "$pid" 0 "$NOGROUP_GID"
	done
	run -0 req /
	[ "$output" = "hello tine" ]
}

# untraceable_by_nobody PID: PID is not dumpable: its /proc entries
# belong to root (all but the /proc/PID directory itself), and a process of the workers' own user can neither list its
# descriptors nor read its memory map (ptrace access is refused).
untraceable_by_nobody() {
	local pid=$1
	[ "$(stat -c %u "/proc/$pid/fd")" = 0 ] || {
		echo "worker $pid: /proc/$pid/fd belongs to" \
		    "$(stat -c %U "/proc/$pid/fd")" >&2
		return 1
	}
	run setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    ls "/proc/$pid/fd"
	[ "$status" -ne 0 ] || { echo "nobody lists $pid's fds: $output" >&2; return 1; }
	run setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    cat "/proc/$pid/maps"
	[ "$status" -ne 0 ] || { echo "nobody reads $pid's maps" >&2; return 1; }
}

@test "dropped workers are not dumpable, even with fs.suid_dumpable 1" {
	local pid n=0
	command -v setpriv >/dev/null || skip "no setpriv"
	[ -w /proc/sys/fs/suid_dumpable ] || skip "fs.suid_dumpable is read-only"
	# Mode 1 leaves a process dumpable after it changes ids: any other
	# process of the workers' user could then trace a worker and take
	# the listeners and logs root opened for it. Workers refuse that.
	SUID_DUMPABLE=$(cat /proc/sys/fs/suid_dumpable)
	echo 1 >/proc/sys/fs/suid_dumpable
	write_conf "user nobody" "group nogroup"
	start_tine
	wait_workers 2
	for pid in $(worker_pids); do
		assert_dropped "$pid" "$NOBODY_UID" "$NOGROUP_GID"
		untraceable_by_nobody "$pid"
		n=$((n + 1))
	done
	[ "$n" -eq 2 ]
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "a respawned worker drops privileges too" {
	local old new
	write_conf "user nobody" "group nogroup" "workers 1"
	start_tine
	wait_workers 1
	old=$(worker_pids)
	kill -KILL "$old"
	new_worker() {
		new=$(worker_pids)
		[ -n "$new" ] && [ "$new" != "$old" ]
	}
	wait_for new_worker
	wait_for grep -q "worker $old exited on signal 9" "$T/error.log"
	assert_dropped "$new" "$NOBODY_UID" "$NOGROUP_GID"
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "logs belong to nobody; workers reopen them after USR1" {
	write_conf "user nobody" "group nogroup"
	start_tine
	[ "$(stat -c %U:%G "$T/access.log")" = nobody:nogroup ]
	[ "$(stat -c %U:%G "$T/error.log")" = nobody:nogroup ]
	run -0 req /first
	wait_for grep -q '"GET /first HTTP/1.1" 404 ' "$T/access.log"
	mv "$T/access.log" "$T/access.log.1"
	mv "$T/error.log" "$T/error.log.1"
	kill -USR1 "$TINE_PID"
	# The master creates the new files for nobody, then signals the
	# workers: poll with requests until a worker has reopened.
	second_logged() {
		req /second >/dev/null
		[ -f "$T/access.log" ] &&
			grep -q '"GET /second HTTP/1.1" 404 ' "$T/access.log"
	}
	wait_for second_logged
	[ "$(stat -c %U:%G "$T/access.log")" = nobody:nogroup ]
	[ "$(stat -c %U:%G "$T/error.log")" = nobody:nogroup ]
	grep -q ': logs reopened$' "$T/error.log"
	grep -q '"GET /first HTTP/1.1" 404 ' "$T/access.log.1"
	! grep -q '"GET /first ' "$T/access.log" || false
	# No worker failed to reopen (that would be logged, as nobody).
	! grep -qE '\[(error|warn)\].*reopen' "$T/error.log.1" "$T/error.log" || false
}

@test "a root the workers cannot read: clear error, master exits 1" {
	chmod 700 "$T/www"
	write_conf "user nobody" "group nogroup"
	run -1 timeout 20 "$TINE_BIN" -d -f "$CONF" 3>&-
	grep -qF "worker: root $T/www is not readable by the workers: Permission denied" "$T/error.log"
	grep -qF "no worker can run; exiting" "$T/error.log"
	! grep -q "exited on signal" "$T/error.log" || false
	! port_listening "$PORT" || false
	[ ! -e "$T/tine.pid" ]
}

@test "unknown user or group at start: clear error, exit 1" {
	local ca
	write_conf "user tine-no-such-user"
	ca=$(realpath "$CONF")
	run -1 --separate-stderr timeout 20 "$TINE_BIN" -d -f "$CONF" 3>&-
	[ "$stderr" = "$ca:8: user \"tine-no-such-user\" does not exist" ]
	! port_listening "$PORT" || false
	[ ! -e "$T/tine.pid" ]
	# Also when daemonizing: the error comes before the fork, so the
	# caller sees it and the exit status.
	run -1 --separate-stderr timeout 20 "$TINE_BIN" -f "$CONF" 3>&-
	[ "$stderr" = "$ca:8: user \"tine-no-such-user\" does not exist" ]
	[ ! -e "$T/tine.pid" ]
	write_conf "group tine-no-such-group"
	run -1 --separate-stderr timeout 20 "$TINE_BIN" -f "$CONF" 3>&-
	[ "$stderr" = "$ca:8: group \"tine-no-such-group\" does not exist" ]
	! port_listening "$PORT" || false
	[ ! -e "$T/tine.pid" ]
}

# compressor_of_tine: the pid of the master's compressor child.
compressor_of_tine() {
	local pid
	for pid in $(worker_pids); do
		grep -q compressor "/proc/$pid/cmdline" 2>/dev/null &&
			echo "$pid"
	done
	return 0
}

nobody_made_br() {
	[ -n "$(find "$T/cache" -name 'v-*.br' -user nobody)" ]
}

@test "the compressor runs as nobody at the lowest priority; its cache is nobody's, mode 0700" {
	local pid i
	command -v brotli >/dev/null || skip "no brotli command"
	for i in $(seq 1 400); do
		printf '<p class="c%d">paragraph %d of the page</p>\n' "$i" "$i"
	done >"$T/www/page.html"
	write_conf "user nobody" "group nogroup" "compress on" \
	    "compress_cache $T/cache"
	start_tine
	wait_for test -d "$T/cache"
	[ "$(stat -c '%u %g %a' "$T/cache")" = "$NOBODY_UID $NOGROUP_GID 700" ]
	# An empty one of root's, mode 0700 (as make install leaves it), is
	# handed over the same way; one with files in it is not taken.
	stop_tine
	rm -r "$T/cache"
	mkdir -m 700 "$T/cache" "$T/full"
	touch "$T/full/precious"
	start_tine
	[ "$(stat -c '%u %g %a' "$T/cache")" = "$NOBODY_UID $NOGROUP_GID 700" ]
	stop_tine
	write_conf "user nobody" "group nogroup" "compress on" \
	    "compress_cache $T/full"
	start_tine
	[ "$(stat -c '%u %a' "$T/full")" = "0 700" ]
	grep -q "compress_cache .*full: not owned by the workers' user; compression is off" "$T/error.log"
	stop_tine
	write_conf "user nobody" "group nogroup" "compress on" \
	    "compress_cache $T/cache"
	start_tine
	pid=
	for i in $(seq 1 100); do
		pid=$(compressor_of_tine)
		[ -n "$pid" ] && [ "$(field "$pid" Uid)" != "0 0 0 0" ] && break
		sleep 0.05
	done
	[ -n "$pid" ]
	assert_dropped "$pid" "$NOBODY_UID" "$NOGROUP_GID"
	# SCHED_IDLE is policy 5; nice 19.
	[ "$(awk '{ print $41 }' "/proc/$pid/stat")" = 5 ]
	[ "$(awk '{ print $19 }' "/proc/$pid/stat")" = 19 ]
	# It writes variants nobody owns, which the workers serve.
	req /page.html -H 'Accept-Encoding: br' -o /dev/null
	wait_for nobody_made_br
	sleep 1.1
	fetch /page.html -H 'Accept-Encoding: br'
	[ "$(hdr Content-Encoding)" = br ]
	brotli -dc <"$T/body" | cmp - "$T/www/page.html"
}
