#!/usr/bin/env bats
# notify.bats: the sd_notify protocol (README "Installing and running under
# systemd") seen from the service manager's side: a datagram socket that
# records every message with its arrival time and its sender's pid
# (SCM_CREDENTIALS), as systemd does for Type=notify and NotifyAccess=main.

load helpers

setup() {
	setup_tine_dir
	ND_PID=
	NLOG=$T/notify.log
	write_notifyd
}

teardown() {
	local rc=0
	teardown_tine || rc=1
	if [ -n "$ND_PID" ]; then
		kill -TERM "$ND_PID" 2>/dev/null || true
		wait "$ND_PID" 2>/dev/null || true
	fi
	return "$rc"
}

# notifyd.py ADDR LOG READY: binds a SOCK_DGRAM unix socket at ADDR (a
# path, or @name for the abstract namespace), creates READY, then writes
# one line per datagram to LOG: "MONO_US PID LINE;LINE;...", where MONO_US
# is CLOCK_MONOTONIC at arrival in microseconds and PID the sender's pid
# as the kernel reports it. Exits on SIGTERM or after 60 s.
write_notifyd() {
	cat >"$T/notifyd.py" <<'EOF'
import signal, socket, struct, sys, time

addr, log, ready = sys.argv[1], sys.argv[2], sys.argv[3]
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.settimeout(0.2)
open(ready, "w").close()
creds = struct.calcsize("3i")
deadline = time.monotonic() + 60
with open(log, "a") as out:
    while time.monotonic() < deadline:
        try:
            data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(creds))
        except socket.timeout:
            continue
        now = time.monotonic_ns() // 1000
        pid = -1
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and \
                    kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("3i", value[:creds])[0]
        text = data.decode("utf-8", "backslashreplace")
        out.write("%d %d %s\n" % (now, pid, text.replace("\n", ";")))
        out.flush()
EOF
}

# start_notifyd [ADDR]: runs notifyd.py on ADDR (default $T/notify.sock)
# and exports NOTIFY_SOCKET for the tine started next.
start_notifyd() {
	local addr=${1:-$T/notify.sock}
	python3 "$T/notifyd.py" "$addr" "$NLOG" "$T/notifyd.ready" 3>&- &
	ND_PID=$!
	wait_for test -e "$T/notifyd.ready"
	export NOTIFY_SOCKET=$addr
}

# nlines_matching ERE: how many messages match ERE.
nlines_matching() {
	grep -cE -- "$1" "$NLOG" 2>/dev/null || true
}

# have_msgs ERE N: at least N messages match ERE.
have_msgs() {
	[ "$(nlines_matching "$1")" -ge "$2" ]
}

# wait_msgs ERE [N]: waits until N (default 1) messages match ERE.
wait_msgs() {
	wait_for have_msgs "$1" "${2:-1}" || {
		echo "want ${2:-1} messages matching $1; have:" >&2
		cat "$NLOG" >&2 2>/dev/null
		return 1
	}
}

# payloads: the messages alone, one a line, in order of arrival, without
# the periodic STATUS= refreshes (all_payloads has them too).
payloads() {
	cut -d ' ' -f 3- "$NLOG" | grep -vE '^STATUS=[^;]*$' || true
}

all_payloads() {
	cut -d ' ' -f 3- "$NLOG"
}

# The summary: N workers (B busy, I idle, K keep-alive), R requests,
# generation G.
summary_re() {
	printf '%s workers \\([0-9]+ busy, [0-9]+ idle, [0-9]+ keep-alive\\), [0-9]+ requests, generation %s' "$1" "$2"
}

# only_master_sent: every message came from the master's pid.
only_master_sent() {
	local bad
	bad=$(awk -v p="$1" '$2 != p' "$NLOG")
	[ -z "$bad" ] || {
		echo "messages not from the master $1:" >&2
		printf '%s\n' "$bad" >&2
		return 1
	}
}

READY_RE='[ ;]READY=1(;|$)'

@test "READY=1 with MAINPID and STATUS once the workers run" {
	start_notifyd
	write_conf
	start_tine
	wait_msgs "$READY_RE"
	run -0 payloads
	[[ ${lines[0]} =~ ^READY=1\;MAINPID=$TINE_PID\;STATUS=$(summary_re 2 0)$ ]]
	run -0 req /
	[ "$output" = "hello tine" ]
	only_master_sent "$TINE_PID"
}

@test "an abstract NOTIFY_SOCKET (@name) gets READY=1" {
	start_notifyd "@tine-test-$$-$BATS_TEST_NUMBER"
	write_conf
	start_tine
	wait_msgs "$READY_RE"
	run -0 payloads
	[[ ${lines[0]} == "READY=1;MAINPID=$TINE_PID;STATUS="* ]]
	only_master_sent "$TINE_PID"
}

@test "HUP sends RELOADING=1 with MONOTONIC_USEC, then READY=1" {
	local mono recv
	start_notifyd
	write_conf
	start_tine
	wait_msgs "$READY_RE"
	kill -HUP "$TINE_PID"
	wait_msgs "$READY_RE" 2
	run -0 payloads
	[ "${#lines[@]}" -eq 3 ]
	[[ ${lines[1]} =~ ^RELOADING=1\;MONOTONIC_USEC=([0-9]+)$ ]]
	mono=${BASH_REMATCH[1]}
	# The retiring generation may still be counted.
	[[ ${lines[2]} =~ ^READY=1\;STATUS=$(summary_re "[0-9]+" 1)$ ]]
	# The clock is CLOCK_MONOTONIC: within 5 s of the arrival time the
	# receiver read from that clock (CLOCK_REALTIME is decades away).
	recv=$(grep -m 1 " RELOADING=1" "$NLOG" | cut -d " " -f 1)
	[ $((recv - mono)) -ge 0 ]
	[ $((recv - mono)) -lt 5000000 ]
	run -0 req /
	[ "$output" = "hello tine" ]
	only_master_sent "$TINE_PID"
}

@test "a failed reload still sends RELOADING=1 then READY=1, and serves" {
	start_notifyd
	write_conf
	start_tine
	wait_msgs "$READY_RE"
	echo "no_such_directive 1" >>"$CONF"
	kill -HUP "$TINE_PID"
	wait_msgs "$READY_RE" 2
	run -0 payloads
	[ "${#lines[@]}" -eq 3 ]
	[[ ${lines[1]} =~ ^RELOADING=1\;MONOTONIC_USEC=[0-9]+$ ]]
	# Still generation 0: the old config keeps serving.
	[[ ${lines[2]} =~ ^READY=1\;STATUS=$(summary_re 2 0)$ ]]
	grep -q 'reload failed' "$T/error.log"
	run -0 req /
	[ "$output" = "hello tine" ]
	pid_alive "$TINE_PID"
	only_master_sent "$TINE_PID"
}

@test "STATUS= follows the pool: requests served show up within seconds" {
	start_notifyd
	write_conf
	start_tine
	wait_msgs "$READY_RE"
	for i in 1 2 3; do req / >/dev/null; done
	TINE_WAIT_TIMEOUT=8 wait_msgs "^[0-9]+ [0-9]+ STATUS=[0-9]+ workers \\(.*\\), 3 requests, generation 0$"
	only_master_sent "$TINE_PID"
}

@test "TERM sends STOPPING=1, and it is the last message" {
	local pid
	start_notifyd
	write_conf
	start_tine
	wait_msgs "$READY_RE"
	pid=$TINE_PID
	stop_tine
	[ "$TINE_STATUS" -eq 0 ]
	wait_msgs '^[0-9]+ [0-9-]+ STOPPING=1$'
	run -0 payloads
	run -0 all_payloads
	[ "${lines[-1]}" = "STOPPING=1" ]
	[ "$(nlines_matching 'STOPPING=1')" -eq 1 ]
	only_master_sent "$pid"
}

@test "WATCHDOG_USEC with WATCHDOG_PID of the master: WATCHDOG=1 in time" {
	local real=$TINE_BIN
	start_notifyd
	write_conf
	# The wrapper's pid becomes tine's: WATCHDOG_PID names the master.
	printf '#!/bin/sh\nWATCHDOG_PID=$$ WATCHDOG_USEC=400000 exec "%s" "$@"\n' \
	    "$real" >"$T/wd-tine"
	chmod +x "$T/wd-tine"
	TINE_BIN=$T/wd-tine start_tine
	wait_msgs "$READY_RE"
	wait_msgs '^[0-9]+ [0-9-]+ WATCHDOG=1$' 4
	only_master_sent "$TINE_PID"
	# systemd kills a service whose pings are further apart than
	# WATCHDOG_USEC; tine pings every half of it.
	run -0 awk '$3 == "WATCHDOG=1" {
		if (last && $1 - last >= 400000) {
			print "gap " $1 - last
			exit 1
		}
		last = $1 }' "$NLOG"
}

@test "WATCHDOG_PID of another process: no WATCHDOG=1" {
	start_notifyd
	write_conf
	WATCHDOG_PID=1 WATCHDOG_USEC=100000 start_tine
	wait_msgs "$READY_RE"
	# A negative: give tine ten of its would-be ping intervals.
	sleep 0.5
	kill -HUP "$TINE_PID"
	wait_msgs "$READY_RE" 2
	[ "$(nlines_matching WATCHDOG)" -eq 0 ]
}

@test "workers never send: reloads, resizes and respawns come from the master" {
	local w
	start_notifyd
	write_conf
	start_tine
	wait_msgs "$READY_RE"
	kill -TTIN "$TINE_PID"
	wait_workers 3
	kill -HUP "$TINE_PID"
	wait_msgs "$READY_RE" 2
	# The old generation gone, every worker left is a current one.
	wait_workers 2
	w=$(worker_pids | head -n 1)
	kill -KILL "$w"
	wait_for grep -q "worker $w exited on signal 9" "$T/error.log"
	run -0 req /
	kill -HUP "$TINE_PID"
	wait_msgs "$READY_RE" 3
	only_master_sent "$TINE_PID"
}

@test "NOTIFY_SOCKET with nobody listening: tine serves and says why" {
	export NOTIFY_SOCKET=$T/nobody.sock
	write_conf
	start_tine
	run -0 req /
	[ "$output" = "hello tine" ]
	wait_for grep -q 'sd_notify' "$T/error.log"
}
