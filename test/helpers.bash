# test/helpers.bash: shared by every test/*.bats file (`load helpers`).
# Owns the per-test directory $T, the config $CONF, the port $PORT and the
# server started by start_tine ($TINE_PID). Every wait is a bounded poll;
# processes are only ever signalled by pid, never by name.

bats_require_minimum_version 1.5.0

: "${TINE_BIN:=$BATS_TEST_DIRNAME/../build/tine}"
: "${TINE_TOOLS:=$BATS_TEST_DIRNAME/../build/tools}"
# Seconds that start_tine, wait_for and wait_workers poll before giving up.
: "${TINE_WAIT_TIMEOUT:=5}"
# Seconds stop_tine waits after TERM (beyond tine's shutdown_timeout 10).
: "${TINE_STOP_TIMEOUT:=15}"

TINE_PID=
TINE_STATUS=

# free_port: prints a TCP port free on 127.0.0.1 (and on ::1 when IPv6
# works). It is drawn below the ephemeral range, so loadgen's own client
# ports never take it, and never twice in one test.
free_port() {
	local used=${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-$BATS_RUN_TMPDIR}}
	python3 - "$used/.free_ports" <<'EOF'
import errno, random, socket, sys

used_path = sys.argv[1]
try:
    with open(used_path) as f:
        used = {int(x) for x in f.read().split()}
except FileNotFoundError:
    used = set()
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
except (OSError, ValueError):
    low = 32768

def bindable(port):
    for family, addr in ((socket.AF_INET, "127.0.0.1"),
                         (socket.AF_INET6, "::1")):
        try:
            s = socket.socket(family, socket.SOCK_STREAM)
        except OSError:
            continue
        try:
            s.bind((addr, port))
        except OSError as e:
            if family == socket.AF_INET6 and e.errno in (
                    errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                continue
            return False
        finally:
            s.close()
    return True

candidates = range(10000, low) if low > 11000 else range(1024, 65536)
for _ in range(200):
    port = random.choice(candidates)
    if port not in used and bindable(port):
        with open(used_path, "a") as f:
            f.write("%d\n" % port)
        print(port)
        sys.exit(0)
sys.exit("free_port: no free port found")
EOF
}

# setup_tine_dir: for each file's setup. Makes $T with www/index.html
# ("hello tine\n", 11 bytes) and sets T, PORT and CONF.
setup_tine_dir() {
	T=$BATS_TEST_TMPDIR/t
	CONF=$T/tine.conf
	TINE_PID=
	TINE_STATUS=
	mkdir -p "$T/www"
	printf 'hello tine\n' >"$T/www/index.html"
	PORT=$(free_port)
}

# write_conf [--no-default KEYWORD]... [LINE]...: writes $CONF with the
# defaults below, then LINEs. A LINE whose keyword is a default other than
# listen replaces that default; --no-default KEYWORD (or the keywords in
# $WRITE_CONF_SKIP) drops one, e.g. `write_conf --no-default listen
# "listen [::1]:$PORT"`.
write_conf() {
	local skip=" ${WRITE_CONF_SKIP:-} " line kw
	while [ "${1:-}" = --no-default ]; do
		skip+="$2 "
		shift 2
	done
	for line in "$@"; do
		kw=${line%%[[:space:]]*}
		case $kw in
		root | workers | pidfile | error_log | access_log) skip+="$kw " ;;
		esac
	done
	{
		printf '# written by write_conf for %s\n' "$BATS_TEST_NAME"
		[[ $skip == *" listen "* ]] || echo "listen 127.0.0.1:$PORT"
		[[ $skip == *" root "* ]] || echo "root www"
		[[ $skip == *" workers "* ]] || echo "workers 2"
		[[ $skip == *" pidfile "* ]] || echo "pidfile $T/tine.pid"
		[[ $skip == *" error_log "* ]] || echo "error_log $T/error.log"
		[[ $skip == *" access_log "* ]] || echo "access_log $T/access.log"
		for line in "$@"; do
			printf '%s\n' "$line"
		done
	} >"$CONF"
}

# pid_alive PID: true while PID exists and is not a zombie.
pid_alive() {
	local stat
	[ -n "${1:-}" ] || return 1
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# proc_start PID: the process start time in clock ticks (field 22 of
# /proc/PID/stat); with the pid it names a process that pid reuse cannot
# impersonate.
proc_start() {
	local stat
	local -a f
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	read -r -a f <<<"${stat##*) }"
	echo "${f[19]}"
}

# port_listening PORT [PID]: true when a TCP socket listens on PORT (any
# address, IPv4 or IPv6), held by PID if given. Reads /proc/net instead of
# connecting, so the probe leaves no connection in tine's logs. (No shell
# loop over the lines: Bats' DEBUG trap makes those slow.)
port_listening() {
	local hex socks links
	printf -v hex ':%04X' "$1"
	socks=$(awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p {
		print "socket:[" $10 "]" }' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
	[ -n "$socks" ] || return 1
	[ -n "${2:-}" ] || return 0
	links=$(readlink /proc/"$2"/fd/* 2>/dev/null) || true
	grep -qxF -f <(printf '%s\n' "$socks") <<<"$links"
}

# conf_ports: the ports of the listen lines in $CONF (else $PORT).
conf_ports() {
	local kw addr rest found=
	while read -r kw addr rest; do
		if [ "$kw" = listen ] && [[ $addr =~ :([0-9]+)$ ]]; then
			echo "${BASH_REMATCH[1]}"
			found=1
		fi
	done <"$CONF"
	[ -n "$found" ] || echo "$PORT"
}

# start_tine [ARGS...]: runs `$TINE_BIN -d -f $CONF ARGS...` in the
# background (stdout/stderr to $T/stdout, $T/stderr), sets TINE_PID and
# returns once tine listens on every listen port of $CONF. Fails, with
# tine's stderr, if it exits first or does not listen in time.
start_tine() {
	local i ports p ready steps=$((TINE_WAIT_TIMEOUT * 20))
	if [ ! -x "$TINE_BIN" ]; then
		echo "start_tine: no executable $TINE_BIN (run make)" >&2
		return 1
	fi
	ports=$(conf_ports)
	# fd 3 is Bats' own output: a background process holding it would
	# make Bats wait for it.
	"$TINE_BIN" -d -f "$CONF" "$@" >"$T/stdout" 2>"$T/stderr" 3>&- &
	TINE_PID=$!
	TINE_STATUS=
	for ((i = 0; i < steps; i++)); do
		if ! pid_alive "$TINE_PID"; then
			wait "$TINE_PID" && TINE_STATUS=0 || TINE_STATUS=$?
			echo "start_tine: tine exited with status $TINE_STATUS" \
			    "before listening; its stderr:" >&2
			cat "$T/stderr" >&2
			TINE_PID=
			return 1
		fi
		ready=1
		for p in $ports; do
			port_listening "$p" "$TINE_PID" || { ready=; break; }
		done
		[ -n "$ready" ] && return 0
		sleep 0.05
	done
	echo "start_tine: tine is not listening on $ports after" \
	    "${TINE_WAIT_TIMEOUT}s; its stderr:" >&2
	cat "$T/stderr" >&2
	stop_tine || true
	return 1
}

# worker_pids: the pids of the master's current children, one a line.
worker_pids() {
	[ -n "${TINE_PID:-}" ] || return 0
	ps -o pid= --ppid "$TINE_PID" | tr -d ' ' || true
}

# wait_for CMD...: polls CMD every 50 ms until it succeeds; fails after
# $TINE_WAIT_TIMEOUT s. CMD must itself be bounded.
wait_for() {
	local i steps=$((TINE_WAIT_TIMEOUT * 20))
	for ((i = 0; i < steps; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	echo "wait_for: still failing after ${TINE_WAIT_TIMEOUT}s: $*" >&2
	return 1
}

worker_count_is() {
	local pids
	pids=$(worker_pids)
	[ "$(grep -c . <<<"$pids")" -eq "$1" ]
}

# wait_workers N: waits until the master has exactly N children.
wait_workers() {
	wait_for worker_count_is "$1" || {
		echo "wait_workers: want $1, have: $(worker_pids | xargs)" >&2
		return 1
	}
}

# record_workers: "pid:start" for each current worker, one a line.
record_workers() {
	local pid start
	for pid in $(worker_pids); do
		start=$(proc_start "$pid") && echo "$pid:$start"
	done
	return 0
}

# recorded_alive PID:START...: the pids among these still running as the
# same process (a recycled pid has another start time).
recorded_alive() {
	local entry pid
	for entry in "$@"; do
		pid=${entry%%:*}
		pid_alive "$pid" && [ "$(proc_start "$pid")" = "${entry#*:}" ] &&
			echo "$pid"
	done
	return 0
}

# stop_tine: TERM to the master, a bounded wait ($TINE_STOP_TIMEOUT s) for
# it to exit, then KILL. Its workers, read from /proc before each signal,
# are killed (by pid) if they outlive it. Sets TINE_STATUS to the master's
# exit status. Returns 1 when anything had to be killed: a graceful stop
# must never need that. A no-op when tine is not running.
stop_tine() {
	local pid=${TINE_PID:-} i rc=0 alive steps=$((TINE_STOP_TIMEOUT * 20))
	local -a kids=()
	[ -n "$pid" ] || return 0
	mapfile -t kids < <(record_workers)
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < steps; i++)); do
		pid_alive "$pid" || break
		sleep 0.05
	done
	if pid_alive "$pid"; then
		echo "stop_tine: master $pid still running" \
		    "${TINE_STOP_TIMEOUT}s after TERM; killing it" >&2
		mapfile -t -O "${#kids[@]}" kids < <(record_workers)
		kill -KILL "$pid" 2>/dev/null || true
		rc=1
	fi
	wait "$pid" 2>/dev/null && TINE_STATUS=0 || TINE_STATUS=$?
	TINE_PID=
	for ((i = 0; i < 20; i++)); do
		alive=$(recorded_alive "${kids[@]}")
		[ -z "$alive" ] && break
		sleep 0.05
	done
	if [ -n "$alive" ]; then
		echo "stop_tine: workers outlived the master:" \
		    "$(tr '\n' ' ' <<<"$alive")" >&2
		# shellcheck disable=SC2086 # one pid a word
		kill -KILL $alive 2>/dev/null || true
		rc=1
	fi
	return "$rc"
}

# teardown_tine: for each file's teardown. Stops tine, then fails the
# test if $T/stderr holds a line not matching $TINE_STDERR_ALLOW (an ERE),
# or any sanitizer report at all.
teardown_tine() {
	local rc=0 unexpected
	[ -n "${T:-}" ] || return 0
	stop_tine || rc=1
	[ -s "$T/stderr" ] || return "$rc"
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/stderr"; then
		echo "teardown_tine: sanitizer report in tine's stderr:" >&2
		cat "$T/stderr" >&2
		return 1
	fi
	if [ -n "${TINE_STDERR_ALLOW:-}" ]; then
		unexpected=$(grep -vE -- "$TINE_STDERR_ALLOW" "$T/stderr") || true
	else
		unexpected=$(<"$T/stderr")
	fi
	if [ -n "$unexpected" ]; then
		echo "teardown_tine: unexpected output on tine's stderr:" >&2
		printf '%s\n' "$unexpected" >&2
		return 1
	fi
	return "$rc"
}

# req ARGS...: curl, quiet but showing errors, never through a proxy,
# bounded to 5 s; a first argument starting with / is a path on $PORT.
req() {
	if [[ ${1:-} == /* ]]; then
		set -- "http://127.0.0.1:$PORT$1" "${@:2}"
	fi
	curl -sS --max-time 5 --noproxy '*' "$@"
}

# raw ARGS...: the exact-bytes client on $PORT (see test/tools/rawreq.c).
raw() {
	"$TINE_TOOLS/rawreq" -p "$PORT" "$@"
}

# fetch PATH [CURL_ARGS...]: GET with curl; status code in CODE, header
# block in $T/head (CRs removed), body in $T/body (emptied first: curl
# writes no file for a response without a body, such as a 304).
fetch() {
	: >"$T/body"
	CODE=$(req "$1" "${@:2}" -D "$T/head.raw" -o "$T/body" \
	    -w '%{http_code}') || true
	tr -d '\r' <"$T/head.raw" >"$T/head"
}

# hdr NAME: the values of every NAME field in $T/head.
hdr() {
	grep -i "^$1:" "$T/head" | sed 's/^[^:]*:[ 	]*//' || true
}

# fail_with MESSAGE: says MESSAGE and what the last fetch got; fails.
fail_with() {
	{
		echo "$*"
		echo "--- status $CODE, head:"
		cat "$T/head"
		echo "--- body (first 2000 bytes):"
		head -c 2000 "$T/body"
		echo
	} >&2
	return 1
}

# copy_tree REPO DEST: the sources of the tree at REPO and its current
# objects (times kept) copied to DEST, for a make install with another
# prefix that leaves the work tree's build, and its prefix, alone.
copy_tree() {
	local p
	local -a have=()
	for p in GNUmakefile src scripts etc man www build/obj build/tine \
	    build/sysconfdir.stamp; do
		[ -e "$1/$p" ] && have+=("$p")
	done
	mkdir -p "$2"
	tar -C "$1" -cf - "${have[@]}" | tar -C "$2" -xf -
}

# listen_socks PORT: the listening sockets on PORT ("socket:[INODE]").
listen_socks() {
	local hex
	printf -v hex ':%04X' "$1"
	awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p {
		print "socket:[" $10 "]" }' /proc/net/tcp /proc/net/tcp6
}

# make_ca: a throwaway certificate authority for this test, ECDSA P-256:
# $T/ca/ca.pem (the certificate clients trust) and $T/ca/ca.key.
make_ca() {
	mkdir -p "$T/ca"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/ca/ca.key" -out "$T/ca/ca.pem" -days 2 \
	    -subj "/CN=tine test CA" 2>"$T/ca/openssl.err" || {
		cat "$T/ca/openssl.err" >&2
		return 1
	}
}

# make_cert NAME [SERIAL [HOST...]]: $T/NAME.pem and $T/NAME.key, a
# certificate for localhost and 127.0.0.1 (or for the HOSTs, the first
# one its subject's CN) signed by make_ca's authority, with serial SERIAL
# (hex, default random), followed by nothing (the CA is the root).
make_cert() {
	local name=$1 serial=${2:-$(openssl rand -hex 8)} cn=localhost
	local san='DNS:localhost,IP:127.0.0.1' h
	if [ $# -gt 2 ]; then
		cn=$3
		san=
		for h in "${@:3}"; do
			san+="${san:+,}DNS:$h"
		done
	fi
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/$name.key" -out "$T/$name.csr" -subj "/CN=$cn" \
	    2>"$T/ca/openssl.err" &&
	printf 'subjectAltName=%s\n' "$san" >"$T/$name.ext" &&
	openssl x509 -req -in "$T/$name.csr" -CA "$T/ca/ca.pem" \
	    -CAkey "$T/ca/ca.key" -set_serial "0x$serial" -days 2 \
	    -extfile "$T/$name.ext" -out "$T/$name.pem" \
	    2>>"$T/ca/openssl.err" || {
		cat "$T/ca/openssl.err" >&2
		return 1
	}
}

# rq RAWREQ_ARGS...: rawreq on $PORT; what it received goes to $T/out and
# its exit status to RC (0 = tine closed, 3 = still open after -n). The
# first response is split into $T/head (CRs removed) and $T/body (every
# byte after the head, so with -n 1 exactly the first body).
rq() {
	RC=0
	raw "$@" >"$T/out" 2>"$T/rq.err" || RC=$?
	split_first
}

split_first() {
	local LC_ALL=C line n=0
	while IFS= read -r line; do
		n=$((n + ${#line} + 1))
		[ "$line" = $'\r' ] && break
	done <"$T/out"
	head -c "$n" "$T/out" | tr -d '\r' >"$T/head"
	tail -c +"$((n + 1))" "$T/out" >"$T/body"
}

# readme_example NAME: the config printed in README.md in the fenced
# block that follows the line <!-- example: NAME -->; fails if there is
# none. Tests run what the README shows, not a copy of it.
readme_example() {
	awk -v m="<!-- example: $1 -->" '
		$0 == m { state = 1; next }
		state == 1 && /^```/ { state = 2; next }
		state == 1 { exit }
		state == 2 && /^```/ { state = 3; exit }
		state == 2 { print }
		END { exit state != 3 }' "$BATS_TEST_DIRNAME/../README.md"
}

# descendants PID: every process below PID, deepest last.
descendants() {
	local kid
	for kid in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		echo "$kid"
		descendants "$kid"
	done
}

# chrome_start ARGS...: runs $CHROMIUM with $CHROME_FLAGS in the
# background, with a profile and caches of its own under $T and
# $CHROME_HOME (default $T/home) as its HOME; output to $CHROME_OUT and
# $CHROME_OUT.err. Bats' fd 3 is closed for it (a process holding it
# makes Bats wait), or with CHROME_PIPE set becomes the DevTools pipe:
# chromium reads the FIFO $T/cdp.in on fd 3 and writes $T/cdp.out on
# fd 4. The FIFOs are opened in the background process, which blocks
# until the other side opens them too.
chrome_start() {
	local prof home=${CHROME_HOME:-$T/home}
	prof=$(mktemp -d "$T/chrome.XXXXXX")
	mkdir -p "$home"
	if [ -n "${CHROME_PIPE:-}" ]; then
		HOME=$home XDG_CONFIG_HOME=$prof XDG_CACHE_HOME=$prof \
		    "$CHROMIUM" "${CHROME_FLAGS[@]}" \
		    --user-data-dir="$prof/profile" "$@" \
		    >"$CHROME_OUT" 2>"$CHROME_OUT.err" \
		    3<"$T/cdp.in" 4>"$T/cdp.out" &
	else
		HOME=$home XDG_CONFIG_HOME=$prof XDG_CACHE_HOME=$prof \
		    "$CHROMIUM" "${CHROME_FLAGS[@]}" \
		    --user-data-dir="$prof/profile" "$@" \
		    >"$CHROME_OUT" 2>"$CHROME_OUT.err" 3>&- &
	fi
	CHROME_PID=$!
}

# chrome_wait: waits up to $CHROME_TIMEOUT s for chromium to exit; fails
# (and kills it) when it does not, or when it exits non-zero.
chrome_wait() {
	local i rc steps=$((CHROME_TIMEOUT * 20))
	for ((i = 0; i < steps; i++)); do
		pid_alive "$CHROME_PID" || break
		sleep 0.05
	done
	if pid_alive "$CHROME_PID"; then
		echo "chromium still running after ${CHROME_TIMEOUT}s" >&2
		stop_chrome
		return 1
	fi
	wait "$CHROME_PID" && rc=0 || rc=$?
	CHROME_PID=
	if [ "$rc" != 0 ]; then
		echo "chromium exited with status $rc; its stderr ends:" >&2
		tail -n 20 "$CHROME_OUT.err" >&2
		return 1
	fi
}

# chrome OUT ARGS...: one headless chromium run, stdout to OUT.
chrome() {
	CHROME_OUT=$1
	shift
	chrome_start "$@"
	chrome_wait
}

# chrome_probe: skips the test when $CHROMIUM is missing or cannot run
# headless here (with $CHROME_HOME as its home).
chrome_probe() {
	command -v "$CHROMIUM" >/dev/null 2>&1 ||
		skip "$CHROMIUM is not installed (scripts/deps test installs it)"
	chrome "$T/probe.out" --dump-dom \
	    'data:text/html,<p id=probe>ok</p>' &&
	    grep -qF '<p id="probe">ok</p>' "$T/probe.out" ||
		skip "$CHROMIUM cannot run headless here: $(tail -n 3 \
		    "$T/probe.out.err" | tr '\n' ' ')"
}

# stop_chrome: kills the chromium whose pid is in CHROME_PID, and the
# processes it started, by pid (recorded before the first signal, as they
# are reparented once it dies). A no-op when none runs.
stop_chrome() {
	local -a pids
	[ -n "${CHROME_PID:-}" ] || return 0
	if pid_alive "$CHROME_PID"; then
		mapfile -t pids < <(descendants "$CHROME_PID")
		kill -KILL "$CHROME_PID" "${pids[@]}" 2>/dev/null || true
	fi
	wait "$CHROME_PID" 2>/dev/null || true
	CHROME_PID=
}
