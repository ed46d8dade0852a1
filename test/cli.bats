#!/usr/bin/env bats
# cli.bats: the command line (SPEC "Command line"): every flag, its output
# stream, its exit status and its failure modes. Config checks go through
# -t here only as far as the flag's contract; config.bats covers the
# parser itself.

load helpers

setup() {
	setup_tine_dir
}

teardown() {
	teardown_tine
}

# t_ok CONF: what -t prints on stderr for a good CONF (an absolute path)
# that sets no user: started as root, a warning first.
t_ok() {
	if [ "$(id -u)" = 0 ]; then
		printf 'tine: warning: %s sets no user: started as root, %s\n' \
		    "$1" "workers would serve the network as root"
	fi
	printf 'tine: configuration file %s test is successful' "$1"
}

# but_sandbox TEXT: TEXT without the line -t gives to the sandbox (what
# it says depends on the kernel; test/sandbox.bats checks it).
but_sandbox() {
	grep -v '^tine: sandbox' <<<"$1" || true
}

# The usage text: on stdout for -h, on stderr for a usage error.
assert_usage() {
	[[ $1 == *"usage: tine [-dhtTv] [-f file] [-s signal]"* ]]
	local flag
	for flag in -d "-f file" -h "-s signal" -t -T -v; do
		[[ $1 == *"  $flag "* ]] || {
			echo "usage does not mention $flag" >&2
			return 1
		}
	done
}

@test "-v prints the version on stdout and exits 0" {
	run -0 --separate-stderr "$TINE_BIN" -v
	[ "${#lines[@]}" -eq 1 ]
	[[ $output =~ ^tine\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	[ "$output" = "tine 0.1.0" ]
	[ -z "$stderr" ]
}

@test "-v needs no config file" {
	run -0 --separate-stderr "$TINE_BIN" -v -f "$T/nonexistent.conf"
	[ "$output" = "tine 0.1.0" ]
	[ -z "$stderr" ]
}

@test "-h prints usage on stdout, mentions every flag, exits 0" {
	run -0 --separate-stderr "$TINE_BIN" -h
	assert_usage "$output"
	[ -z "$stderr" ]
}

@test "-h names the compiled-in default config file" {
	run -0 "$TINE_BIN" -h
	[[ $output =~ \(default\ (/[^\)]*/tine\.conf)\) ]]
}

@test "without -f the compiled-in config path is used" {
	local def
	run -0 "$TINE_BIN" -h
	[[ $output =~ \(default\ (/[^\)]*/tine\.conf)\) ]]
	def=${BASH_REMATCH[1]}
	if [ -e "$def" ]; then
		skip "$def exists here: cannot show that it is the one read"
	fi
	cd "$T"
	run -1 --separate-stderr "$TINE_BIN" -t
	[ -z "$output" ]
	[ "$stderr" = "$def: cannot open: No such file or directory" ]
}

@test "an unknown flag gives usage on stderr and exit 1" {
	run -1 --separate-stderr "$TINE_BIN" -x
	[ -z "$output" ]
	[[ ${stderr_lines[0]} == *"invalid option -- 'x'" ]]
	assert_usage "$stderr"
}

@test "an extra operand gives usage on stderr and exit 1" {
	write_conf
	run -1 --separate-stderr "$TINE_BIN" -t -f "$CONF" extra
	[ -z "$output" ]
	[ "${stderr_lines[0]}" = 'tine: unexpected argument "extra"' ]
	assert_usage "$stderr"
	[[ $stderr != *"test is successful"* ]]
}

@test "-f without its argument gives usage on stderr and exit 1" {
	run -1 --separate-stderr "$TINE_BIN" -f
	[ -z "$output" ]
	[[ ${stderr_lines[0]} == *"option requires an argument -- 'f'" ]]
	assert_usage "$stderr"
}

@test "-f with an empty name is an error" {
	run -1 --separate-stderr "$TINE_BIN" -t -f ''
	[ -z "$output" ]
	[ "$stderr" = "tine: -f needs a file name" ]
}

@test "-f naming a missing file: FILE: cannot open: ENOENT" {
	run -1 --separate-stderr "$TINE_BIN" -t -f "$T/nope.conf"
	[ -z "$output" ]
	[ "$stderr" = "$T/nope.conf: cannot open: No such file or directory" ]
	# Also when starting, not only for -t; and nothing is left listening.
	run -1 --separate-stderr "$TINE_BIN" -d -f "$T/nope.conf"
	[ "$stderr" = "$T/nope.conf: cannot open: No such file or directory" ]
	! port_listening "$PORT" || false
}

@test "-f naming a FIFO, a directory or a device: refused at once, never read" {
	mkfifo "$T/fifo.conf"
	# No writer: an open that waited for one would never return.
	run -1 --separate-stderr timeout 10 "$TINE_BIN" -t -f "$T/fifo.conf"
	[ -z "$output" ]
	[ "$stderr" = "$T/fifo.conf: cannot open: not a regular file" ]
	run -1 --separate-stderr timeout 10 "$TINE_BIN" -t -f /dev/zero
	[ "$stderr" = "/dev/zero: cannot open: not a regular file" ]
	run -1 --separate-stderr timeout 10 "$TINE_BIN" -t -f "$T"
	[ "$stderr" = "$T: cannot open: not a regular file" ]
}

@test "-t on a good config: one success line naming the absolute path" {
	write_conf
	run -0 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ -z "$output" ]
	[ "$(but_sandbox "$stderr")" = "$(t_ok "$(realpath "$CONF")")" ]
	# A relative -f is reported as an absolute path.
	cd "$T"
	run -0 --separate-stderr "$TINE_BIN" -t -f tine.conf
	[ "$(but_sandbox "$stderr")" = "$(t_ok "$(realpath "$CONF")")" ]
	# -t neither binds, nor writes the pid file or the logs.
	[ ! -e "$T/tine.pid" ]
	[ ! -e "$T/error.log" ]
	[ ! -e "$T/access.log" ]
	! port_listening "$PORT" || false
}

@test "-t on a bad config: FILE:LINE: message lines on stderr, exit 1" {
	local conf
	printf '%s\n' "root www" "# comment" "frobnicate yes" "" \
	    "keepalive_timeout soon" >"$CONF"
	conf=$(realpath "$CONF")
	run -1 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
	[ "${stderr_lines[0]}" = "$conf:3: unknown directive \"frobnicate\"" ]
	[ "${stderr_lines[1]}" = "$conf:5: keepalive_timeout \"soon\" is invalid (0..86400)" ]
}

@test "-t with an unknown user or group names it at its line" {
	local conf
	write_conf "user tine-no-such-user" "group tine-no-such-group"
	conf=$(realpath "$CONF")
	run -1 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 3 ]
	[ "${stderr_lines[0]}" = "$conf:8: user \"tine-no-such-user\" does not exist" ]
	[ "${stderr_lines[1]}" = "$conf:9: group \"tine-no-such-group\" does not exist" ]
	[ "${stderr_lines[2]}" = "tine: configuration file $conf test failed" ]
}

@test "-t with log and pid files under a missing directory" {
	local conf
	write_conf "access_log $T/nodir/sub/access.log" \
	    "error_log $T/nodir/error.log" "pidfile $T/nodir/tine.pid"
	conf=$(realpath "$CONF")
	run -1 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ -z "$output" ]
	[[ $stderr == *"$conf:7: pidfile \"$T/nodir/tine.pid\": cannot create in \"$T/nodir\": No such file or directory"* ]]
	[[ $stderr == *"$conf:5: access_log \"$T/nodir/sub/access.log\": cannot create in \"$T/nodir/sub\": No such file or directory"* ]]
	[[ $stderr == *"$conf:6: error_log \"$T/nodir/error.log\": cannot create in \"$T/nodir\": No such file or directory"* ]]
	[ "${stderr_lines[-1]}" = "tine: configuration file $conf test failed" ]
	[ ! -e "$T/nodir" ]
}

@test "-T prints the effective config with defaults" {
	local conf
	printf '%s\n' "root www" "listen 127.0.0.1:$PORT" "workers 3" >"$CONF"
	conf=$(realpath "$CONF")
	run -0 --separate-stderr "$TINE_BIN" -T -f "$CONF"
	[ "$(but_sandbox "$stderr")" = "$(t_ok "$conf")" ]
	[ "${lines[0]}" = "listen 127.0.0.1:$PORT" ]
	[ "${lines[1]}" = "root $(realpath "$T/www")" ]
	# One directive a line, every default spelled out.
	local want
	for want in "workers 3" "max_workers 256" "access_log off" \
	    "error_log stderr" "index index.html" "autoindex off" \
	    "keepalive_timeout 5" "header_timeout 10" "shutdown_timeout 10" \
	    "max_header_size 8192"; do
		printf '%s\n' "${lines[@]}" | grep -qxF -- "$want" || {
			echo "-T lacks \"$want\"" >&2
			return 1
		}
	done
	# No user, group or pidfile when none was given.
	! printf '%s\n' "${lines[@]}" | grep -qE '^(user|group|pidfile) ' || false
}

@test "-t started as root without user warns, and still succeeds" {
	[ "$(id -u)" = 0 ] || skip "the warning is for root only"
	write_conf
	run -0 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ "${#stderr_lines[@]}" -eq 3 ]
	[[ ${stderr_lines[1]} == "tine: sandbox"* ]]
	[ "${stderr_lines[0]}" = "tine: warning: $(realpath "$CONF") sets no user: started as root, workers would serve the network as root" ]
	write_conf "user nobody"
	run -0 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ "$(but_sandbox "$stderr")" = "tine: configuration file $(realpath "$CONF") test is successful" ]
}

@test "-T without listen or workers shows *:8080 and workers auto" {
	printf 'root www\n' >"$CONF"
	run -0 --separate-stderr "$TINE_BIN" -T -f "$CONF"
	[ "${lines[0]}" = "listen 0.0.0.0:8080" ]
	printf '%s\n' "${lines[@]}" |
		grep -qxF "workers auto # $(getconf _NPROCESSORS_ONLN)"
}

@test "-T output is itself a valid config that dumps the same" {
	write_conf "user nobody" "index index.html index.htm" \
	    "autoindex on" "keepalive_timeout 0" "max_body_size 2M"
	run -0 --separate-stderr "$TINE_BIN" -T -f "$CONF"
	local first=$output
	mkdir "$T/elsewhere"
	printf '%s\n' "$first" >"$T/elsewhere/dumped.conf"
	# Absolute paths: valid from another directory too.
	run -0 --separate-stderr "$TINE_BIN" -t -f "$T/elsewhere/dumped.conf"
	[ "$(but_sandbox "$stderr")" = "tine: configuration file $T/elsewhere/dumped.conf test is successful" ]
	run -0 --separate-stderr "$TINE_BIN" -T -f "$T/elsewhere/dumped.conf"
	[ "$output" = "$first" ]
	local want
	for want in "user nobody" "pidfile $T/tine.pid" "max_body_size 2097152" \
	    "keepalive_timeout 0" "index index.html index.htm" "autoindex on"; do
		grep -qxF -- "$want" <<<"$first" || {
			echo "-T lacks \"$want\"" >&2
			return 1
		}
	done
}

@test "a write error on stdout fails -v, -h and -T" {
	[ -c /dev/full ] || skip "no /dev/full"
	# A user, so that root's -T has no warning to print.
	write_conf "user nobody"
	run -1 --separate-stderr bash -c '"$1" -v >/dev/full' _ "$TINE_BIN"
	[ "$stderr" = "tine: stdout: No space left on device" ]
	run -1 --separate-stderr bash -c '"$1" -h >/dev/full' _ "$TINE_BIN"
	[ "$stderr" = "tine: stdout: No space left on device" ]
	run -1 --separate-stderr bash -c '"$1" -T -f "$2" >/dev/full' _ \
	    "$TINE_BIN" "$CONF"
	[ "$stderr" = "tine: stdout: No space left on device" ]
}

@test "-d stays in the foreground, logging to stderr" {
	local ppid
	write_conf --no-default error_log
	TINE_STDERR_ALLOW='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}[+-][0-9]{4} (\[info\] tine\[[0-9]+\]: |\[warn\] tine\[[0-9]+\]: .* sets no user: workers serve the network as root$)'
	start_tine
	# The process we started is the master itself: no fork to the
	# background, and it holds the listening socket.
	port_listening "$PORT" "$TINE_PID"
	read -r _ ppid < <(grep '^PPid:' "/proc/$TINE_PID/status")
	[ "$ppid" = "$BASHPID" ]
	run -0 req /
	[ "$output" = "hello tine" ]
	wait_for grep -qF "[info] tine[$TINE_PID]: tine 0.1.0 started: 2 workers" "$T/stderr"
	[ ! -e "$T/error.log" ]
	stop_tine
	[ "$TINE_STATUS" -eq 0 ]
	grep -qF "[info] tine[" "$T/stderr"
	grep -q ': stopped$' "$T/stderr"
	# The pid file was written while running and is gone after the stop.
	[ ! -e "$T/tine.pid" ]
}

@test "-s with an unknown signal name" {
	write_conf
	run -1 --separate-stderr "$TINE_BIN" -f "$CONF" -s hup
	[ -z "$output" ]
	[ "$stderr" = 'tine: unknown signal "hup": use reload, reopen, quit or stop' ]
}

@test "-s without a pidfile directive" {
	write_conf --no-default pidfile
	run -1 --separate-stderr "$TINE_BIN" -f "$CONF" -s reload
	[ "$stderr" = "tine: -s needs a pidfile directive in $(realpath "$CONF")" ]
}

@test "-s when tine is not running" {
	write_conf
	run -1 --separate-stderr "$TINE_BIN" -f "$CONF" -s stop
	[ "$stderr" = "tine: $T/tine.pid: No such file or directory (is tine running?)" ]
}

@test "-s refuses a stale pid file and signals no one" {
	local victim
	write_conf
	# A process of ours whose pid the stale file names; it must survive.
	sleep 30 3>&- &
	victim=$!
	echo "$victim" >"$T/tine.pid"
	run -1 --separate-stderr "$TINE_BIN" -f "$CONF" -s stop
	[ "$stderr" = "tine: $T/tine.pid is stale: no tine holds it (pid $victim is not running tine)" ]
	pid_alive "$victim"
	kill "$victim"
	wait "$victim" || true
}

@test "-s reopen and -s stop reach the running master" {
	write_conf
	start_tine
	wait_for grep -q "tine 0.1.0 started" "$T/error.log"
	[ "$(cat "$T/tine.pid")" = "$TINE_PID" ]
	run -0 --separate-stderr "$TINE_BIN" -f "$CONF" -s reopen
	[ -z "$output$stderr" ]
	wait_for grep -q ": logs reopened$" "$T/error.log"
	run -0 --separate-stderr "$TINE_BIN" -f "$CONF" -s stop
	[ -z "$output$stderr" ]
	wait_for bash -c '! kill -0 "$1" 2>/dev/null || grep -q "^State:.*Z" "/proc/$1/status"' _ "$TINE_PID"
	stop_tine
	[ "$TINE_STATUS" -eq 0 ]
	[ ! -e "$T/tine.pid" ]
}
