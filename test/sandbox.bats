#!/usr/bin/env bats
# sandbox.bats: sandbox on (the default) confines each worker with
# Landlock (read beneath the roots only) and a seccomp filter (the calls
# serving makes). The test-hooks build acts as an attacker who controls
# a worker: /.tine-test/passwd and /.tine-test/beside open files outside
# the roots, /.tine-test/execve runs a shell, /.tine-test/ptrace peeks at
# the master; TINE_TEST_NO_LANDLOCK and TINE_TEST_NO_SECCOMP stand for a
# kernel without them.

load helpers

setup() {
	setup_tine_dir
	printf 'not to be read\n' >"$T/beside.txt"
	HOOKS_BIN=$(dirname "$TINE_BIN")/hooks/tine
}

teardown() {
	[ -z "${TRAP_PID:-}" ] || kill "$TRAP_PID" 2>/dev/null || true
	[ -z "${TRAP_DIR:-}" ] || rm -rf "$TRAP_DIR"
	[ -z "${DEV_LOG:-}" ] || rm -f /dev/log
	teardown_tine
}

log_has() {
	grep -qE -- "$1" "$T/error.log"
}

log_count() {
	grep -cE -- "$1" "$T/error.log" || true
}

# encoded_br PATH: a GET of PATH accepting only br gets br.
encoded_br() {
	fetch "$1" -H 'Accept-Encoding: br'
	[ "$(hdr Content-Encoding)" = br ]
}

need_hooks() {
	[ -x "$HOOKS_BIN" ] || skip "no test-hooks build at $HOOKS_BIN"
	TINE_BIN=$HOOKS_BIN
}

# need_kernel: the kernel has Landlock and seccomp (else the tests of
# what they refuse cannot run; the one below covers their absence).
need_kernel() {
	run -0 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	grep -q '^tine: sandbox: Landlock ABI [0-9]' <<<"$stderr" ||
		skip "no Landlock in this kernel: $stderr"
	! grep -q 'no seccomp' <<<"$stderr" ||
		skip "no seccomp in this kernel: $stderr"
}

# full_filter: the filter is the release one (the sanitizer build
# relaxes it to a short denylist, and says so at -t).
full_filter() {
	run -0 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[[ $stderr != *"relaxed for AddressSanitizer"* ]]
}

need_full_filter() {
	need_kernel
	full_filter || skip "the sanitizer build relaxes the seccomp filter"
}

# trap_socket: a datagram socket $TRAP_DIR/s any user may write, as the
# service manager's notify socket is for its service; what it receives
# in the next 3 s goes to $T/trap.out.
trap_socket() {
	TRAP_DIR=$(mktemp -d /tmp/tine-trap.XXXXXX)
	chmod 755 "$TRAP_DIR"
	python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
print("ready", flush=True)
s.settimeout(3)
try:
    print("got", s.recv(100))
except socket.timeout:
    print("nothing")
' "$TRAP_DIR/s" >"$T/trap.out" &
	TRAP_PID=$!
	wait_for grep -q ready "$T/trap.out"
}

# trap_got_nothing: the trap socket received nothing.
trap_got_nothing() {
	wait "$TRAP_PID" || true
	TRAP_PID=
	rm -rf "$TRAP_DIR"
	grep -qx nothing "$T/trap.out" ||
	    fail_with "the socket got: $(cat "$T/trap.out")"
}

# serving_workers: the master's children but the compressor.
serving_workers() {
	[ -n "${TINE_PID:-}" ] || return 0
	ps -o pid=,args= --ppid "$TINE_PID" |
	    awk '!/compressor/ { print $1 }' || true
}

serving_workers_are() {
	[ "$(serving_workers | grep -c .)" -eq "$1" ]
}

# killed_by HOOK [CALL]: a request for the hook /.tine-test/HOOK kills
# the one worker, the master logs the call (CALL, else HOOK) by name and
# starts another, which serves.
killed_by() {
	local victim
	wait_for serving_workers_are 1
	victim=$(serving_workers)
	# The worker dies before it answers: curl gets no reply.
	run req "/.tine-test/$1"
	[ "$status" -ne 0 ]
	wait_for log_has "worker $victim killed by the sandbox: syscall ${2:-$1}\$"
	wait_for serving_workers_are 1
	[ "$(serving_workers)" != "$victim" ]
	run -0 req /
	[ "$output" = "hello tine" ]
	! log_has "worker $victim exited" || false
}

@test "-t says what the sandbox would apply, or that it is off" {
	write_conf "user nobody"
	run -0 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ "${#stderr_lines[@]}" -eq 2 ]
	[[ ${stderr_lines[0]} =~ ^tine:\ sandbox:\ (Landlock\ ABI\ [0-9]+\ \(read\ beneath\ 1\ root\)|no\ Landlock\ \(.*\)),\ (seccomp\ filter\ of\ [0-9]+\ calls\ \(compressor\ [0-9]+\)|seccomp\ filter\ relaxed\ for\ AddressSanitizer|no\ seccomp\ \(.*\))$ ]]
	mkdir "$T/www2"
	write_conf "user nobody" "server a.test {" "root $T/www" "}" \
	    "server b.test {" "root $T/www2" "}"
	run -0 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[[ ${stderr_lines[0]} == *"(read beneath 2 roots)"* ]] ||
	    [[ ${stderr_lines[0]} == *"no Landlock"* ]]
	write_conf "user nobody" "sandbox off"
	run -0 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[ "${stderr_lines[0]}" = "tine: sandbox off: workers are not confined" ]
	run -0 --separate-stderr "$TINE_BIN" -T -f "$CONF"
	grep -qx 'sandbox off' <<<"$output"
	write_conf "sandbox maybe"
	run -1 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	[[ $stderr == *"sandbox \"maybe\" must be on or off"* ]]
}

@test "Landlock: /etc/passwd and a file beside the root are refused; the worker serves on" {
	need_hooks
	write_conf "workers 2"
	need_kernel
	start_tine
	wait_workers 2
	mapfile -t kids < <(record_workers)
	fetch /.tine-test/passwd
	[ "$CODE" = 403 ] || fail_with "want 403 for /etc/passwd"
	fetch /.tine-test/beside
	[ "$CODE" = 403 ] || fail_with "want 403 for $T/beside.txt"
	fetch /index.html
	[ "$CODE" = 200 ] && [ "$(cat "$T/body")" = "hello tine" ]
	# The same workers: a refused open kills no one.
	[ "$(recorded_alive "${kids[@]}" | wc -l)" -eq 2 ]
	! log_has 'killed|exited' || false
}

@test "sandbox off: the same hooks open the files and the worker lives" {
	need_hooks
	write_conf "workers 2" "sandbox off"
	start_tine
	wait_workers 2
	mapfile -t kids < <(record_workers)
	fetch /.tine-test/passwd
	[ "$CODE" = 200 ] && [ "$(cat "$T/body")" = opened ] ||
	    fail_with "want the hook's open to succeed"
	fetch /.tine-test/beside
	[ "$CODE" = 200 ] || fail_with "want the hook's open to succeed"
	# The hook itself works: unconfined, the code it wrote runs.
	fetch /.tine-test/exec
	[ "$CODE" = 200 ] && [ "$(cat "$T/body")" = ran ] ||
	    fail_with "want the written code to run"
	# Not traced by the master: the peek fails, the worker answers.
	fetch /.tine-test/ptrace
	[ "$CODE" = 500 ] || fail_with "want 500 from the failed peek"
	[ "$(recorded_alive "${kids[@]}" | wc -l)" -eq 2 ]
	! log_has 'sandbox' || false
}

@test "seccomp: execve kills the worker, the master names it and replaces it" {
	need_hooks
	write_conf "workers 1" "min_spare 0"
	need_kernel
	ulimit -c 0
	start_tine
	killed_by execve
}

@test "seccomp: a worker whose user is at RLIMIT_NPROC still gets its filter" {
	[ "$(id -u)" = 0 ] || skip "running workers as another user needs root"
	id nobody >/dev/null 2>&1 || skip "no nobody user"
	need_hooks
	write_conf "workers 1" "min_spare 0" "user nobody"
	need_full_filter
	ulimit -c 0
	# Room for the worker alone among nobody's processes: the child
	# that compiles the filter cannot be forked (EAGAIN). Soft only,
	# and root, forking the worker, is above it.
	ulimit -S -u $(($(ps -u nobody --no-headers | wc -l) + 1))
	start_tine
	wait_for serving_workers_are 1
	grep -q '^Seccomp_filters:[[:space:]]*1$' \
	    "/proc/$(serving_workers)/status"
	run -0 req /
	[ "$output" = "hello tine" ]
	killed_by execve
	! log_has "cannot run" || false
}

@test "seccomp: ptrace of the master kills the worker, named and replaced" {
	need_hooks
	write_conf "workers 1" "min_spare 0"
	need_kernel
	ulimit -c 0
	start_tine
	killed_by ptrace
	# Again: the usual back-off, and the pool still comes back.
	killed_by ptrace
	log_count 'killed by the sandbox' | grep -qx 2
}

@test "seccomp: shutdown of the shared listener kills the worker; the port still listens" {
	need_hooks
	write_conf "workers 1" "max_workers 1"
	need_full_filter
	start_tine
	killed_by shutdown
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "seccomp: bytes a worker wrote cannot be made executable; it serves on" {
	need_hooks
	write_conf "workers 1" "max_workers 1"
	need_full_filter
	start_tine
	wait_for serving_workers_are 1
	mapfile -t kids < <(record_workers)
	fetch /.tine-test/exec
	[ "$CODE" = 403 ] || fail_with "want 403: the written code ran ($CODE)"
	[ "$(recorded_alive "${kids[@]}" | wc -l)" -eq 1 ]
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "seccomp: shutdown of the compressor's queue fails; compression goes on" {
	need_hooks
	printf 'body { color: red; }\n%.0s' $(seq 1 200) >"$T/www/a.css"
	write_conf "workers 1" "max_workers 1" "compress on" \
	    "compress_cache $T/cache"
	need_full_filter
	start_tine
	wait_for serving_workers_are 1
	fetch /.tine-test/queue
	[ "$CODE" = 403 ] || fail_with "want 403: the queue was shut ($CODE)"
	# The queue still carries wishes: the variant gets made.
	wait_for encoded_br /a.css
}

@test "seccomp: a worker cannot send to another local socket; sendto with an address kills it" {
	need_hooks
	printf 'body { color: red; }\n%.0s' $(seq 1 200) >"$T/www/a.css"
	write_conf "workers 1" "max_workers 1" "compress on" \
	    "compress_cache $T/cache"
	need_full_filter
	trap_socket
	start_tine
	# Through the queue, named: the name is ignored, the compressor gets it.
	fetch "/.tine-test/unixsend?$TRAP_DIR/s"
	trap_got_nothing
	[ "$CODE" = 200 ] || fail_with "want the queue's send to go on ($CODE)"
	wait_for encoded_br /a.css
	killed_by sendto
}

@test "error_log syslog: a confined worker's lines arrive; none is killed" {
	need_hooks
	write_conf "workers 2" "error_log syslog"
	need_kernel
	[ ! -e /dev/log ] || skip "a logger owns /dev/log: its lines cannot be read here"
	[ "$(id -u)" = 0 ] || skip "binding /dev/log needs root"
	python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
os.chmod("/dev/log", 0o666)
print("ready", flush=True)
s.settimeout(4)
try:
    while True:
        print(s.recv(2000).decode(errors="replace"), flush=True)
except socket.timeout:
    pass
' >"$T/syslog.out" &
	TRAP_PID=$!
	DEV_LOG=1
	wait_for grep -q ready "$T/syslog.out"
	start_tine
	wait_for serving_workers_are 2
	mapfile -t kids < <(record_workers)
	fetch /.tine-test/log
	[ "$CODE" = 404 ]
	wait_for grep -q 'worker: a line from worker' "$T/syslog.out"
	# Through syslog's own socket, a message named for another one is
	# refused, with the descriptor as it is or with high bits set; nor
	# can that socket be closed (its number would come back). Not in
	# the sanitizer build, whose filter is relaxed.
	if full_filter; then
		trap_socket
		fetch "/.tine-test/syslogsend?$TRAP_DIR/s"
		[ "$CODE" = 403 ] ||
		    fail_with "want 403: sent through syslog's socket"
		fetch /.tine-test/syslogclose
		[ "$CODE" = 403 ] || fail_with "want 403: syslog's socket closed"
		trap_got_nothing
	fi
	fetch /.tine-test/log
	[ "$CODE" = 404 ]
	[ "$(recorded_alive "${kids[@]}" | wc -l)" -eq 2 ]
	! grep -q 'killed by the sandbox' "$T/syslog.out" || false
}

@test "seccomp: a worker cannot change the flags of a listener all share" {
	need_hooks
	write_conf "workers 1" "max_workers 1"
	need_full_filter
	start_tine
	wait_for serving_workers_are 1
	fetch /.tine-test/setfl
	[ "$CODE" = 403 ] || fail_with "want 403: the flags changed ($CODE)"
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "seccomp: F_SETSIG on the shared listener kills the worker; the others live" {
	need_hooks
	write_conf "workers 1" "max_workers 1"
	need_full_filter
	start_tine
	killed_by fcntl
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "a worker cannot forge its siblings' slots: none is aborted as stuck" {
	need_hooks
	write_conf "workers 3" "worker_timeout 1" "header_timeout 1"
	need_full_filter
	start_tine
	wait_workers 3
	mapfile -t kids < <(record_workers)
	fetch /.tine-test/scoreboard
	[ "$CODE" = 403 ] || fail_with "want 403: the slots were forged ($CODE)"
	# The watchdog looks every tick; a forged slot would be aborted
	# within a second or two (stuck reading since long ago).
	sleep 3
	! log_has 'stuck' || fail_with "$(grep stuck "$T/error.log")"
	[ "$(recorded_alive "${kids[@]}" | wc -l)" -eq 3 ]
	run -0 req /
	[ "$output" = "hello tine" ]
}

@test "a kernel without Landlock or seccomp: said once, and tine serves" {
	need_hooks
	write_conf "workers 2"
	TINE_TEST_NO_LANDLOCK=1 TINE_TEST_NO_SECCOMP=1 start_tine
	wait_workers 2
	run -0 req /
	[ "$output" = "hello tine" ]
	# Not confined: the hook's open succeeds.
	fetch /.tine-test/passwd
	[ "$CODE" = 200 ] || fail_with "want the open to succeed unconfined"
	# A reload and a replaced worker say nothing more.
	kill -HUP "$TINE_PID"
	wait_for log_has 'reloaded: generation 1'
	victim=$(worker_pids | head -n 1)
	kill -KILL "$victim"
	wait_for log_has "worker $victim exited on signal 9\$"
	wait_workers 2
	[ "$(log_count 'sandbox: Landlock disabled by a test hook: workers are not confined to their roots on the file system$')" = 1 ]
	[ "$(log_count "sandbox: seccomp disabled by a test hook: workers' system calls are not filtered\$")" = 1 ]
	[ "$(log_count 'sandbox: (Landlock|seccomp)')" = 2 ]
	run -0 --separate-stderr env TINE_TEST_NO_LANDLOCK=1 \
	    TINE_TEST_NO_SECCOMP=1 "$TINE_BIN" -t -f "$CONF"
	[ "$(grep '^tine: sandbox' <<<"$stderr")" = "tine: sandbox: no Landlock (disabled by a test hook), no seccomp (disabled by a test hook)" ]
}

@test "USR1 with the sandbox: new workers take the new logs, the old ones finish" {
	write_conf "workers 2"
	start_tine
	wait_workers 2
	mapfile -t kids < <(record_workers)
	run -0 req /before
	wait_for grep -q '"GET /before HTTP/1.1" 404 ' "$T/access.log"
	mv "$T/access.log" "$T/access.log.1"
	mv "$T/error.log" "$T/error.log.1"
	kill -USR1 "$TINE_PID"
	wait_for log_has ': logs reopened$'
	# The running workers retire; as many new ones replace them.
	wait_for test -z "$(recorded_alive "${kids[@]}")"
	wait_workers 2
	run -0 req /after
	wait_for grep -q '"GET /after HTTP/1.1" 404 ' "$T/access.log"
	! grep -q '/after' "$T/access.log.1" || false
	! grep -q '/before' "$T/access.log" || false
	# Retired as asked: no death, no failed reopen.
	! grep -qE 'exited|reopen access|reopen error|killed' \
	    "$T/error.log.1" "$T/error.log" || false
}

@test "an AddressSanitizer build says once that its filter is relaxed" {
	write_conf "workers 2"
	run -0 --separate-stderr "$TINE_BIN" -t -f "$CONF"
	start_tine
	wait_workers 2
	if [[ $stderr == *"relaxed for AddressSanitizer"* ]]; then
		[ "$(log_count 'sandbox: sanitizer build \(ASan\): the seccomp filter is relaxed')" = 1 ]
	else
		! log_has 'relaxed' || false
	fi
}
