#!/usr/bin/env bats
# test/systemd/deb.bats: the Debian package (make deb) in a Debian 12
# container booted with its systemd: lintian finds nothing; apt install
# enables and starts tine.socket and tine.service and the default site is
# served by workers running as the user tine; installing a newer build
# under load restarts tine on the new binary with no request lost and the
# edited config kept; apt remove keeps the config, logs and user; apt
# purge removes them and leaves nothing else behind. The tests run in
# order, each on the state the previous one left.
# Run by `make test-systemd` (test/systemd/run), never by `make test`.

load ../helpers
load ct

# What the system, apt and dpkg change on their own, left out of the
# comparison of the container's files before the install and after the
# purge: package records and logs, the journal, systemd's state, and the
# backups of the account files that adduser and deluser leave.
SNAP_IGNORE='^/var/lib/(dpkg|apt|systemd)/|^/var/cache/(apt|debconf)/|^/var/log/(apt/|dpkg\.log|journal/)|^/etc/(passwd|group|shadow|gshadow)-$'

setup_file() {
	local src=$BATS_FILE_TMPDIR/src
	if [ -z "${TINE_CT_DIR:-}" ] || [ -z "${TINE_CT_ROOT:-}" ]; then
		echo "run through make test-systemd (test/systemd/run)" >&2
		return 1
	fi
	REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

	# Two builds with make deb, from a copy of the tree: tine's own
	# version, and a newer one for the upgrade (nocheck: the unit tests
	# ran in the first).
	mkdir -p "$src"
	tar -C "$REPO" -cf - GNUmakefile README.md debian etc man scripts \
	    src test/unit www | tar -C "$src" -xf -
	V=$(sed -n 's/^#define TINE_VERSION[[:space:]]*"\(.*\)"$/\1/p' \
	    "$src/src/tine.h")
	V2=$V+1
	ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
	deb_build DEB_LINT=no || return 1
	DEB_BUILD_OPTIONS=nocheck deb_build DEB_LINT=no DEB_VERSION="$V2" ||
	    return 1
	DEBS=$src/build/deb

	CT=$TINE_CT_DIR/deb
	ct_prepare "$CT" "$TINE_CT_ROOT"
	R=$CT/root
	mkdir -p "$R/root/debs"
	cp "$DEBS/tine_${V}_$ARCH.deb" "$DEBS/tine_${V2}_$ARCH.deb" \
	    "$R/root/debs/"

	# The package's tine.socket listens on port 8080 of every address;
	# the container shares this host's network, where 8080 may be in
	# use. A drop-in moves it to a free port before the install, as an
	# administrator would (README.Debian).
	PORT=$(free_port)
	mkdir -p "$R/etc/systemd/system/tine.socket.d"
	cat >"$R/etc/systemd/system/tine.socket.d/port.conf" <<-EOF
		[Socket]
		ListenStream=
		ListenStream=127.0.0.1:$PORT
	EOF

	# As in tine.bats: a host that boots no container skips every test.
	CT_SKIP=
	if ! ct_boot "$CT" 2>"$BATS_FILE_TMPDIR/boot.err"; then
		sed "s/^/# /" "$BATS_FILE_TMPDIR/boot.err" >&3
		CT_SKIP="no systemd container boots on this host: $(head -n 1 \
		    "$BATS_FILE_TMPDIR/boot.err")"
	else
		snapshot "$BATS_FILE_TMPDIR/before"
	fi
	export ARCH CT_LEADER CT_SKIP DEBS PORT R V V2
}

teardown_file() {
	[ -n "${TINE_CT_DIR:-}" ] || return 0
	ct_destroy "$TINE_CT_DIR/deb"
}

setup() {
	[ -z "$CT_SKIP" ] || skip "$CT_SKIP"
	journal_mark
}

teardown() {
	[ -z "$CT_SKIP" ] || return 0
	journal_show	# shown only when the test failed
}

# deb_build VAR=VALUE...: make deb in the copy of the tree, output
# shown only when it fails.
deb_build() {
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make --no-print-directory \
	    -C "$BATS_FILE_TMPDIR/src" deb "$@" \
	    >"$BATS_FILE_TMPDIR/deb.log" 2>&1 || {
		tail -n 40 "$BATS_FILE_TMPDIR/deb.log" >&2
		return 1
	}
}

# snapshot FILE: every path in the container's file system, less
# SNAP_IGNORE, sorted.
snapshot() {
	(cd "$R" && find . -xdev) | sed 's|^\.||' | grep -Ev "$SNAP_IGNORE" |
	    sort >"$1"
}

# capt ARGS...: apt-get in the container, not interactive, bounded.
capt() {
	ct env DEBIAN_FRONTEND=noninteractive timeout 300 apt-get -y \
	    -o DPkg::Lock::Timeout=60 "$@"
}

# pkg_status: dpkg's status of tine ("ii 0.1.0"), empty when it has none.
pkg_status() {
	ct dpkg-query -W -f '${db:Status-Abbrev}${Version}' tine 2>/dev/null ||
	    true
}

# log_lines_above N: the access log holds more than N lines.
log_lines_above() {
	[ "$(wc -l <"$R/var/log/tine/access.log" 2>/dev/null || echo 0)" \
	    -gt "$1" ]
}

@test "lintian: no error and no warning on the package" {
	command -v lintian >/dev/null || skip "no lintian (scripts/deps deb)"
	run lintian --fail-on error,warning "$DEBS/tine_${V}_$ARCH.changes"
	echo "$output"
	[ "$status" = 0 ]
	run -1 grep -E '^[EW]: ' <<<"$output"
}

@test "apt install: units enabled and started, the default site served as tine" {
	local main p u uid
	run -0 capt install --no-install-recommends "/root/debs/tine_${V}_$ARCH.deb"
	echo "$output"
	[ "$(pkg_status)" = "ii $V" ]
	# Enabled and started by the postinst (dh_installsystemd).
	for u in tine.socket tine.service; do
		[ "$(prop $u UnitFileState)" = enabled ]
		[ "$(prop $u ActiveState)" = active ]
	done
	[ "$(prop tine.service NRestarts)" = 0 ]
	# The shipped socket is port 8080 on every address (the drop-in
	# replaces it here).
	grep -qx 'ListenStream=0.0.0.0:8080' "$R/lib/systemd/system/tine.socket"
	grep -qx 'ListenStream=\[::\]:8080' "$R/lib/systemd/system/tine.socket"

	# The default site, through the socket systemd passed (the config
	# has no listen line), logged to /var/log/tine.
	run -0 req / -o "$BATS_TEST_TMPDIR/index.html" -w '%{http_code}'
	[ "$output" = 200 ]
	cmp "$BATS_TEST_TMPDIR/index.html" "$R/usr/share/tine/www/index.html"
	run -0 req /tine.svg -o /dev/null -w '%{http_code} %{content_type}'
	[ "$output" = "200 image/svg+xml" ]
	sd_wait log_lines_above 1
	grep -q '"GET / HTTP/1.1" 200 ' "$R/var/log/tine/access.log"
	grep -q 'started: ' "$R/var/log/tine/error.log"
	journal_has 'configuration file /etc/tine/tine.conf test is successful'

	# The system user: no home, no shell; the master is root, every
	# worker is tine, and owns the log files.
	run -0 ct getent passwd tine
	[[ $output =~ ^tine:x:([0-9]+):([0-9]+):[^:]*:/nonexistent:/usr/sbin/nologin$ ]]
	uid=${BASH_REMATCH[1]}
	[ "$uid" -lt 1000 ]
	run -0 ct getent group tine
	main=$(prop tine.service MainPID)
	[ "$(ct stat -c %u "/proc/$main")" = 0 ]
	for p in $(children "$main"); do
		[ "$(ct stat -c %U "/proc/$p")" = tine ]
	done
	[ "$(ct stat -c %U "/var/log/tine/access.log")" = tine ]

	# Conffiles, manual pages, cache directory.
	run -0 ct dpkg-query -W -f '${Conffiles}\n' tine
	[[ $output == *" /etc/tine/tine.conf "* ]]
	[[ $output == *" /etc/logrotate.d/tine "* ]]
	[ -f "$R/usr/share/man/man8/tine.8.gz" ]
	[ -f "$R/usr/share/man/man5/tine.conf.5.gz" ]
	[ "$(ct stat -c %U:%a /var/cache/tine)" = root:700 ]
}

@test "a newer build installed under load: tine restarted on it, no request lost" {
	local main new lg
	main=$(prop tine.service MainPID)
	[ -n "$main" ] && [ "$main" != 0 ]
	# An administrator's edit, which the upgrade must keep (the
	# package's conffile did not change, so dpkg asks nothing). The
	# cache as the master leaves it once compress used it: the
	# workers' user's, with a variant in it.
	echo '# edited here' >>"$R/etc/tine/tine.conf"
	ct chown tine:tine /var/cache/tine
	ct /bin/sh -c 'echo x >/var/cache/tine/variant && chown tine: \
	    /var/cache/tine/variant'

	# Keep-alive and new-connection clients for up to 30 s; the
	# upgrade begins once they are being answered.
	"$TINE_TOOLS/loadgen" -p "$PORT" -k 4 -n 2 -d 30000 \
	    >"$BATS_TEST_TMPDIR/lg.out" 2>"$BATS_TEST_TMPDIR/lg.err" 3>&- &
	lg=$!
	sd_wait log_lines_above 200
	run -0 capt install --no-install-recommends "/root/debs/tine_${V2}_$ARCH.deb"
	echo "$output"
	# The load outlasted the upgrade, or it proves nothing.
	pid_alive "$lg"
	sd_wait prop_is tine.service ActiveState active
	new=$(prop tine.service MainPID)
	echo "master $main, then $new"
	wait "$lg" || true
	echo "loadgen: $(<"$BATS_TEST_TMPDIR/lg.out") $(<"$BATS_TEST_TMPDIR/lg.err")"
	[[ $(<"$BATS_TEST_TMPDIR/lg.out") =~ answered=([1-9][0-9]*) ]]
	[[ $(<"$BATS_TEST_TMPDIR/lg.out") == *" lost=0 bad=0 connect_errors=0 "* ]]

	[ "$(pkg_status)" = "ii $V2" ]
	# Restarted by the postinst: a new master, running the new file
	# (not a deleted one), under the socket that never closed.
	[ "$new" != "$main" ]
	[ "$(ct readlink "/proc/$new/exe")" = /usr/sbin/tine ]
	[ "$(prop tine.socket ActiveState)" = active ]
	[ "$(prop tine.service NRestarts)" = 0 ]
	grep -q 'graceful stop' "$R/var/log/tine/error.log"
	run -0 req / -o /dev/null -w '%{http_code}'
	[ "$output" = 200 ]

	# The edit kept, with no copy beside it; the cache kept, still the
	# workers' user's.
	[ "$(tail -n 1 "$R/etc/tine/tine.conf")" = '# edited here' ]
	run -0 find "$R/etc/tine" -name 'tine.conf?*'
	[ -z "$output" ]
	run -0 ct stat -c %U:%a /var/cache/tine
	[ "$output" = tine:700 ]
	[ -f "$R/var/cache/tine/variant" ]
}

@test "apt remove: tine stopped and gone; config, logs and user kept" {
	run -0 capt remove tine
	echo "$output"
	[ "$(pkg_status)" = "rc $V2" ]
	[ ! -e "$R/usr/sbin/tine" ]
	[ ! -e "$R/lib/systemd/system/tine.service" ]
	[ ! -e "$R/lib/systemd/system/tine.socket" ]
	[ ! -e "$R/usr/share/tine" ]
	[ "$(prop tine.service ActiveState)" = inactive ]
	[ "$(prop tine.socket ActiveState)" = inactive ]
	# Nothing listens on the port any more.
	run -7 curl -sS --max-time 5 --noproxy '*' "http://127.0.0.1:$PORT/"

	[ "$(tail -n 1 "$R/etc/tine/tine.conf")" = '# edited here' ]
	[ -f "$R/etc/logrotate.d/tine" ]
	[ -s "$R/var/log/tine/access.log" ]
	run -0 ct getent passwd tine
}

@test "apt purge: config, logs, cache and user gone, nothing else left" {
	run -0 capt purge tine
	echo "$output"
	[ -z "$(pkg_status)" ]
	[ ! -e "$R/etc/tine" ]
	[ ! -e "$R/etc/logrotate.d/tine" ]
	[ ! -e "$R/var/log/tine" ]
	[ ! -e "$R/var/cache/tine" ]
	run -2 ct getent passwd tine
	run -2 ct getent group tine
	run -1 grep -l '^tine:' "$R/etc/passwd" "$R/etc/group" \
	    "$R/etc/shadow" "$R/etc/gshadow"

	# Every file as it was before the install: the units' enable links
	# are gone, and only the drop-in the test made remains.
	snapshot "$BATS_TEST_TMPDIR/after"
	run -0 diff "$BATS_FILE_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	[ -d "$R/etc/systemd/system/tine.socket.d" ]
	run -0 find "$R/etc/systemd" -name 'tine.*' ! -path '*/tine.socket.d*'
	[ -z "$output" ]
}
