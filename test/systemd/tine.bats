#!/usr/bin/env bats
# test/systemd/tine.bats: tine installed by `make install` and run by a
# real systemd (Debian 12's, booted in a container by setup_file) through
# the shipped tine.service and tine.socket: Type=notify start, reload
# (good and broken), STATUS=, socket activation, graceful stop with a
# download in flight, a killed worker replaced by the master alone, and
# under a client loop: systemctl restart (descriptor store, and with
# tine.socket) and a USR2 binary upgrade, with no request lost.
# Run by `make test-systemd` (test/systemd/run), never by `make test`.
# The container shares the host's network: requests are made from here.

load ../helpers
load ct

setup_file() {
	local src=$BATS_FILE_TMPDIR/src
	if [ -z "${TINE_CT_DIR:-}" ] || [ -z "${TINE_CT_ROOT:-}" ]; then
		echo "run through make test-systemd (test/systemd/run)" >&2
		return 1
	fi
	REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	CT=$TINE_CT_DIR/tine
	ct_prepare "$CT" "$TINE_CT_ROOT"
	R=$CT/root

	# make install from a copy of the tree: the work tree's build keeps
	# its own prefix.
	copy_tree "$REPO" "$src"
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make --no-print-directory \
	    -C "$src" install DESTDIR="$R" PREFIX=/usr sysconfdir=/etc \
	    >"$BATS_FILE_TMPDIR/install.log" 2>&1 || {
		cat "$BATS_FILE_TMPDIR/install.log" >&2
		return 1
	}

	# Two sites, and a large file for the graceful stop (sparse: it
	# costs no disk).
	mkdir -p "$R/srv/one" "$R/srv/two"
	echo one >"$R/srv/one/index.html"
	echo two >"$R/srv/two/index.html"
	truncate -s 100M "$R/srv/one/big"
	chmod -R a+rX "$R/srv"
	# Runs as ExecStartPost (after READY=1, before the unit is active):
	# records how many workers the master had forked and what a request
	# got at that moment. Bash's /dev/tcp: the root has no curl.
	install -m 755 /dev/stdin "$R/usr/local/sbin/tine-at-ready" <<-'EOF'
		#!/bin/bash
		main=$1 port=$2 n=0
		for s in /proc/[0-9]*/stat; do
			read -r l <"$s" 2>/dev/null || continue
			l=${l##*) }
			set -- $l
			[ "$2" = "$main" ] && n=$((n + 1))
		done
		exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
		printf 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' >&3
		IFS= read -r line <&3
		printf 'workers=%s %s\n' "$n" "${line%$'\r'}" \
		    >/run/tine/at-ready
	EOF

	# A host that cannot boot a container at all (no cgroup delegation,
	# a chroot whose nsenter cannot reach the container's systemd) is
	# not a verdict on tine, which has not been started yet: every test
	# is skipped, saying why, instead of failing.
	# (Bats 1.8 cannot skip from setup_file: setup does, from CT_SKIP.)
	CT_SKIP=
	if ! ct_boot "$CT" 2>"$BATS_FILE_TMPDIR/boot.err"; then
		sed "s/^/# /" "$BATS_FILE_TMPDIR/boot.err" >&3
		CT_SKIP="no systemd container boots on this host: $(head -n 1 \
		    "$BATS_FILE_TMPDIR/boot.err")"
	fi
	export CT_LEADER CT_SKIP R REPO
}

teardown_file() {
	[ -n "${TINE_CT_DIR:-}" ] || return 0
	ct_destroy "$TINE_CT_DIR/tine"
}

setup() {
	[ -z "$CT_SKIP" ] || skip "$CT_SKIP"
	setup_tine_dir
	# Each test starts from tine stopped, with the shipped units and a
	# config for the site "one" on $PORT.
	ct systemctl stop tine.socket tine.service
	ct systemctl reset-failed tine.socket tine.service 2>/dev/null || true
	rm -rf "$R/etc/systemd/system/tine.service.d" \
	    "$R/etc/systemd/system/tine.socket.d"
	ct systemctl daemon-reload
	ct_conf one
	journal_mark
}

teardown() {
	[ -z "$CT_SKIP" ] || return 0
	journal_show	# shown only when the test failed
}

# ct_conf SITE [LINE]...: /etc/tine.conf serving /srv/SITE on $PORT as
# nobody, then LINEs.
ct_conf() {
	{
		echo "listen 127.0.0.1:$PORT"
		echo "root /srv/$1"
		echo "workers 2"
		echo "user nobody"
		echo "group nogroup"
		echo "pidfile /run/tine/tine.pid"
		shift
		printf '%s\n' "$@"
	} >"$R/etc/tine.conf.new"
	mv "$R/etc/tine.conf.new" "$R/etc/tine.conf"
}

# body_is TEXT: GET / answers 200 with the line TEXT.
body_is() {
	[ "$(req / -w '%{http_code}' 2>/dev/null)" = "$1"$'\n'200 ]
}

# generation_is N: tine's STATUS= names generation N.
generation_is() {
	[[ $(prop tine.service StatusText) == *", generation $1" ]]
}

# requests_reach N: tine's STATUS= counts at least N requests.
requests_reach() {
	[[ $(prop tine.service StatusText) =~ \ ([0-9]+)\ requests, ]] &&
	    [ "${BASH_REMATCH[1]}" -ge "$1" ]
}

# size_above FILE BYTES: FILE holds more than BYTES.
size_above() {
	[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -gt "$2" ]
}

# start_unit: systemctl start tine, bounded.
start_unit() {
	run -0 ct timeout "$SD_TIMEOUT" systemctl start tine.service
	[ "$(prop tine.service ActiveState)" = active ]
}

@test "systemctl start: active only once tine sent READY=1, then serves" {
	local main p
	mkdir -p "$R/etc/systemd/system/tine.service.d"
	cat >"$R/etc/systemd/system/tine.service.d/at-ready.conf" <<-EOF
		[Service]
		ExecStartPost=/usr/local/sbin/tine-at-ready \$MAINPID $PORT
	EOF
	ct systemctl daemon-reload
	[ "$(prop tine.service Type)" = notify ]
	[ "$(prop tine.service ActiveState)" = inactive ]

	# With Type=notify, start returns (and ExecStartPost runs) only
	# once systemd got READY=1: by then both workers were forked and a
	# request was answered.
	start_unit
	[ "$(prop tine.service SubState)" = running ]
	# /run is the container's own tmpfs.
	run -0 ct cat /run/tine/at-ready
	[[ $output =~ ^workers=2\ HTTP/1\.1\ 200\ OK$ ]]
	# READY=1 came with the first STATUS=.
	[[ $(prop tine.service StatusText) =~ ^2\ workers\ \(.*\),\ [0-9]+\ requests,\ generation\ 0$ ]]
	run -0 req /
	[ "$output" = one ]
	sd_wait journal_has 'started: 2 workers, generation 0'
	# The ExecStartPre config check ran; the master is root, the
	# workers are nobody.
	journal_has "configuration file /etc/tine.conf test is successful"
	[ "$(prop tine.service NRestarts)" = 0 ]
	main=$(prop tine.service MainPID)
	[ "$(ct stat -c %u "/proc/$main")" = 0 ]
	for p in $(children "$main"); do
		[ "$(ct stat -c %u "/proc/$p")" = 65534 ]
	done
}

@test "systemctl reload: reloading, then active with the new config" {
	local main
	start_unit
	main=$(prop tine.service MainPID)
	run -0 req /
	[ "$output" = one ]

	ct_conf two
	# ExecReload must work on a minimal system (no /bin/kill there).
	run -0 ct timeout "$SD_TIMEOUT" systemctl reload tine.service
	# systemd 252 may return before tine's READY=1: wait for active.
	sd_wait prop_is tine.service ActiveState active
	sd_wait body_is two
	sd_wait journal_has 'reloaded: generation 1, 2 workers'
	[ "$(prop tine.service MainPID)" = "$main" ]
	[ "$(prop tine.service NRestarts)" = 0 ]
	sd_wait generation_is 1
}

@test "systemctl reload with a broken config: still active, old config" {
	local main
	start_unit
	main=$(prop tine.service MainPID)

	ct_conf two "no_such_directive 1"
	run -0 ct timeout "$SD_TIMEOUT" systemctl reload tine.service
	sd_wait journal_has 'reload failed: keeping the current configuration'
	journal_has '/etc/tine.conf:7: '
	sd_wait prop_is tine.service ActiveState active
	run -0 req /
	[ "$output" = one ]
	[ "$(prop tine.service MainPID)" = "$main" ]
	generation_is 0

	# And the next good config is taken.
	ct_conf two
	run -0 ct timeout "$SD_TIMEOUT" systemctl reload tine.service
	sd_wait body_is two
	sd_wait prop_is tine.service ActiveState active
}

@test "systemctl status shows tine's STATUS= line, kept current" {
	local i status
	start_unit
	for i in 1 2 3; do
		req / >/dev/null
	done
	# tine refreshes STATUS= every 2 s when the summary changed.
	sd_wait requests_reach 3
	status=$(prop tine.service StatusText)
	[[ $status =~ ^2\ workers\ \([0-9]+\ busy,\ [0-9]+\ idle,\ [0-9]+\ keep-alive\),\ [0-9]+\ requests,\ generation\ 0$ ]]
	run -0 ct systemctl status --no-pager --lines=0 tine.service
	echo "$output"
	[[ $output == *"Active: active (running)"* ]]
	# The same line, unless a refresh came in between.
	grep -qE '^ +Status: "2 workers \(.*\), [0-9]+ requests, generation 0"$' \
	    <<<"$output"
}

@test "tine.socket: the first request starts tine, a reload keeps the socket" {
	local before main
	mkdir -p "$R/etc/systemd/system/tine.socket.d"
	cat >"$R/etc/systemd/system/tine.socket.d/port.conf" <<-EOF
		[Socket]
		ListenStream=
		ListenStream=127.0.0.1:$PORT
	EOF
	ct systemctl daemon-reload
	run -0 ct timeout "$SD_TIMEOUT" systemctl start tine.socket
	[ "$(prop tine.socket ActiveState)" = active ]
	[ "$(prop tine.service ActiveState)" = inactive ]
	before=$(listen_socks "$PORT")
	[ "$(wc -l <<<"$before")" = 1 ]

	# systemd holds the socket: the first connection starts tine,
	# which answers it.
	run -0 req /
	[ "$output" = one ]
	sd_wait prop_is tine.service ActiveState active
	main=$(prop tine.service MainPID)
	[ "$(listen_socks "$PORT")" = "$before" ]
	journal_has 'started: 2 workers'
	run -1 journal_has 'bind'

	ct_conf two
	run -0 ct timeout "$SD_TIMEOUT" systemctl reload tine.service
	sd_wait body_is two
	sd_wait prop_is tine.service ActiveState active
	[ "$(prop tine.service MainPID)" = "$main" ]
	[ "$(listen_socks "$PORT")" = "$before" ]
	run -1 journal_has 'bind'
}

@test "systemctl stop is graceful: a download in flight completes" {
	local size=$((100 * 1024 * 1024)) part cpid
	start_unit
	# 100 MiB at 25 MB/s: about 4 s, well inside shutdown_timeout.
	curl -sS --max-time 60 --noproxy '*' --limit-rate 25M \
	    -o "$T/big" -w '%{http_code} %{size_download}' \
	    "http://127.0.0.1:$PORT/big" >"$T/curl.out" 2>"$T/curl.err" 3>&- &
	cpid=$!
	sd_wait size_above "$T/big" 1048576
	part=$(stat -c %s "$T/big")
	run -0 ct timeout 60 systemctl stop tine.service
	echo "downloaded $part of $size bytes when the stop began"
	wait "$cpid"
	run -0 cat "$T/curl.out"
	[ "$output" = "200 $size" ]
	[ "$(stat -c %s "$T/big")" = "$size" ]
	# The stop began with the download in flight, and it ended cleanly.
	[ "$part" -lt "$size" ]
	[ "$(prop tine.service ActiveState)" = inactive ]
	[ "$(prop tine.service Result)" = success ]
	[ "$(prop tine.service ExecMainStatus)" = 0 ]
	journal_has 'graceful stop'
	sd_wait journal_has 'stopped$'
	run -7 curl -sS --max-time 5 --noproxy '*' "http://127.0.0.1:$PORT/"
}

# replaced MAIN GONE: MAIN has two children again, GONE not among them.
replaced() {
	local pids
	pids=$(children "$1")
	[ "$(wc -w <<<"$pids")" = 2 ] && ! grep -qx "$2" <<<"$pids"
}

@test "a worker killed with SIGKILL is replaced by the master, not systemd" {
	local main victim i pids
	start_unit
	main=$(prop tine.service MainPID)
	pids=$(children "$main")
	echo "workers: $pids"
	[ "$(wc -w <<<"$pids")" = 2 ]
	victim=${pids%%$'\n'*}
	ct /bin/sh -c 'kill -KILL "$0"' "$victim"

	sd_wait journal_has "worker $victim exited on signal 9"
	sd_wait replaced "$main" "$victim"
	run -0 req /
	[ "$output" = one ]
	[ "$(prop tine.service MainPID)" = "$main" ]
	[ "$(prop tine.service NRestarts)" = 0 ]
	[ "$(prop tine.service ActiveState)" = active ]
	[ "$(prop tine.service SubState)" = running ]
}

# ct_gone PID: container pid PID no longer exists.
ct_gone() {
	! ct test -d "/proc/$1"
}

# lg_start SECONDS: loadgen on $PORT (16 keep-alive and 4 new-connection
# clients) in the background, from the host.
lg_start() {
	"$REPO/build/tools/loadgen" -p "$PORT" -k 16 -n 4 -d "$(($1 * 1000))" \
	    >"$T/lg.out" 2>"$T/lg.err" 3>&- &
	LG_PID=$!
}

# lg_check: waits for loadgen (bounded by its own limits); nothing lost,
# bad or refused, and something answered.
lg_check() {
	local out
	wait "$LG_PID" || true
	out=$(<"$T/lg.out")
	echo "loadgen: $out $(<"$T/lg.err")"
	[[ $out =~ answered=([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -gt 0 ]
	[[ $out == *" lost=0 bad=0 connect_errors=0 "* ]]
}

@test "systemctl restart: the sockets wait in the descriptor store, no request lost" {
	local main before
	start_unit
	main=$(prop tine.service MainPID)
	before=$(listen_socks "$PORT")
	[ "$(wc -l <<<"$before")" = 1 ]
	sd_wait prop_is tine.service NFileDescriptorStore 1
	lg_start 8
	sleep 1
	run -0 ct timeout "$SD_TIMEOUT" systemctl restart tine.service
	sd_wait prop_is tine.service ActiveState active
	[ "$(prop tine.service MainPID)" != "$main" ]
	# The same socket: taken from the store, not bound again.
	[ "$(listen_socks "$PORT")" = "$before" ]
	sleep 1
	run -0 ct timeout "$SD_TIMEOUT" systemctl restart tine.service
	sd_wait prop_is tine.service ActiveState active
	lg_check
	[ "$(listen_socks "$PORT")" = "$before" ]
	run -0 req /
	[ "$output" = one ]
	# reload stays HUP: same main pid.
	main=$(prop tine.service MainPID)
	ct_conf two
	run -0 ct timeout "$SD_TIMEOUT" systemctl reload tine.service
	sd_wait body_is two
	[ "$(prop tine.service MainPID)" = "$main" ]
}

@test "tine.socket: systemctl restart under load loses no request" {
	local before
	mkdir -p "$R/etc/systemd/system/tine.socket.d"
	cat >"$R/etc/systemd/system/tine.socket.d/port.conf" <<-EOF
		[Socket]
		ListenStream=
		ListenStream=127.0.0.1:$PORT
	EOF
	ct systemctl daemon-reload
	run -0 ct timeout "$SD_TIMEOUT" systemctl start tine.socket
	run -0 req /
	sd_wait prop_is tine.service ActiveState active
	before=$(listen_socks "$PORT")
	# The socket unit's socket is not stored a second time.
	[ "$(prop tine.service NFileDescriptorStore)" = 0 ]
	lg_start 6
	sleep 1
	run -0 ct timeout "$SD_TIMEOUT" systemctl restart tine.service
	sd_wait prop_is tine.service ActiveState active
	lg_check
	[ "$(listen_socks "$PORT")" = "$before" ]
}

@test "USR2 under systemd: the new master becomes MainPID, no request lost" {
	local main new
	start_unit
	main=$(prop tine.service MainPID)
	lg_start 8
	sleep 1
	ct /bin/sh -c 'kill -USR2 "$0"' "$main"
	sd_wait journal_has 'upgrade: new master [0-9]+ serves'
	sd_wait eval '[ "$(prop tine.service MainPID)" != "$main" ]'
	new=$(prop tine.service MainPID)
	[ "$(ct cat /run/tine/tine.pid)" = "$new" ]
	[ "$(ct cat /run/tine/tine.pid.oldbin)" = "$main" ]
	ct /bin/sh -c 'kill -WINCH "$0"' "$main"
	sleep 1
	ct /bin/sh -c 'kill -QUIT "$0"' "$main"
	sd_wait ct_gone "$main"
	lg_check
	sd_wait prop_is tine.service ActiveState active
	[ "$(prop tine.service MainPID)" = "$new" ]
	run -1 ct test -e /run/tine/tine.pid.oldbin
	run -0 req /
	[ "$output" = one ]
	# And systemctl stop stops the new master gracefully: a download in
	# flight finishes (systemd 252 would SIGKILL a main process it did
	# not start at once; ExecStop= waits for it).
	curl -s --noproxy '*' --limit-rate 50M -o "$BATS_TEST_TMPDIR/big" \
	    -w '%{http_code} %{size_download}' \
	    "http://127.0.0.1:$PORT/big" >"$BATS_TEST_TMPDIR/dl" 3>&- &
	sleep 0.5
	run -0 ct timeout 60 systemctl stop tine.service
	wait $!
	[ "$(<"$BATS_TEST_TMPDIR/dl")" = "200 104857600" ]
	[ "$(prop tine.service ActiveState)" = inactive ]
	[ "$(prop tine.service Result)" = success ]
	[ "$(prop tine.service MainPID)" = 0 ]
	run req /
	[ "$status" != 0 ]
}

@test "systemctl stop during a USR2 upgrade: both masters finish their downloads" {
	local main
	start_unit
	main=$(prop tine.service MainPID)
	# On the old master's workers, before the upgrade.
	curl -s --noproxy '*' --limit-rate 30M -o "$BATS_TEST_TMPDIR/big1" \
	    -w '%{http_code} %{size_download}' \
	    "http://127.0.0.1:$PORT/big" >"$BATS_TEST_TMPDIR/dl1" 3>&- &
	local dl1=$!
	sleep 0.5
	ct /bin/sh -c 'kill -USR2 "$0"' "$main"
	sd_wait journal_has 'upgrade: new master [0-9]+ serves'
	sd_wait eval '[ "$(prop tine.service MainPID)" != "$main" ]'
	# The service manager knows only the new master; the old one has
	# a download in flight still.
	run -0 ct timeout 60 systemctl stop tine.service
	wait "$dl1"
	[ "$(<"$BATS_TEST_TMPDIR/dl1")" = "200 104857600" ]
	[ "$(prop tine.service ActiveState)" = inactive ]
	[ "$(prop tine.service Result)" = success ]
	run -1 ct test -e /run/tine/tine.pid.oldbin
}
