# shellcheck shell=bash
# test/systemd/ct.bash: one throwaway systemd container for
# `make test-systemd`, sourced by test/systemd/run and its Bats files.
#
# ct_prepare DIR ROOT mounts DIR/root, an overlay over the cached ROOT
# (test/systemd/mkroot), so the cache is never written. ct_boot DIR boots
# it with systemd-nspawn in a cgroup of its own, sharing the host's
# network; ct runs a command inside through nsenter. ct_destroy DIR powers
# it off and undoes everything ct_prepare and ct_boot did, by the pids and
# paths recorded in DIR, never by name; it is safe to call more than once
# and after a failure at any step. prop, children and sd_wait read a
# unit's properties and processes and poll for a state, for the Bats
# files.

# Seconds a boot may take to reach running or degraded, and a poweroff.
: "${CT_BOOT_TIMEOUT:=45}"
: "${CT_HALT_TIMEOUT:=30}"

# ct_pid_alive PID: PID exists and is not a zombie.
ct_pid_alive() {
	local stat
	[ -n "${1:-}" ] || return 1
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	[[ ${stat##*) } != Z* ]]
}

# ct_pid_is PID COMM: PID is alive and runs COMM.
ct_pid_is() {
	local stat
	[ -n "${1:-}" ] || return 1
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	[[ $stat == *"($2) "* ]] && [[ ${stat##*) } != Z* ]]
}

# ct_prepare DIR ROOT: DIR/root is an overlay of ROOT, its writable
# layer on a tmpfs at DIR/rw: an overlay cannot take its upper layer
# from another overlay, which is what the host's own root may be (a
# container, a CI runner).
ct_prepare() {
	local dir=$1 root=$2
	mkdir -p "$dir/rw" "$dir/root" || return 1
	mount -t tmpfs -o mode=0755 tmpfs "$dir/rw" || return 1
	touch "$dir/rw-mounted"
	mkdir -p "$dir/rw/upper" "$dir/rw/work" || return 1
	mount -t overlay overlay -o \
	    "lowerdir=$root,upperdir=$dir/rw/upper,workdir=$dir/rw/work" \
	    "$dir/root" || return 1
	touch "$dir/mounted"
}

# ct_cgroup_dirs: where a cgroup for the container goes, one a line:
# every cgroup2 mount and the name=systemd v1 hierarchy (hybrid hosts),
# under /sys/fs/cgroup only (a chroot's mounts of the same hierarchies
# are seen too).
ct_cgroup_dirs() {
	awk '$2 ~ "^/sys/fs/cgroup(/|$)" && ($3 == "cgroup2" ||
	    ($3 == "cgroup" && $4 ~ /(^|,)name=systemd(,|$)/)) { print $2 }' \
	    /proc/self/mounts
}

# ct_boot DIR: boots DIR/root; records the nspawn pid, the container's
# init (its pid 1) as DIR/leader, and waits until systemd inside reports
# running or degraded.
ct_boot() {
	local dir=$1 name mnt cg i state leader=
	local -a launch=()
	name=tine-test-$$
	if [ -d /run/systemd/system ]; then
		# The host runs systemd: a delegated scope of our own, which
		# --keep-unit then uses as the container's cgroup.
		launch=(systemd-run --quiet --scope --collect -p Delegate=yes
		    "--unit=$name")
	else
		# No systemd on the host (a container or a VM with another
		# init): a cgroup made by hand in each hierarchy systemd
		# inside uses, so that nspawn's payload/ and supervisor/
		# subgroups stay below it.
		: >"$dir/cgroups"
		for mnt in $(ct_cgroup_dirs); do
			# One hierarchy mounted twice: made already.
			[ -d "$mnt/$name" ] && continue
			mkdir "$mnt/$name" || return 1
			echo "$mnt/$name" >>"$dir/cgroups"
		done
		[ -s "$dir/cgroups" ] || {
			echo "ct_boot: no cgroup2 or name=systemd hierarchy" \
			    "is mounted" >&2
			return 1
		}
	fi
	(
		if [ -f "$dir/cgroups" ]; then
			while read -r cg; do
				echo "$BASHPID" >"$cg/cgroup.procs" || exit 1
			done <"$dir/cgroups"
		fi
		exec "${launch[@]}" systemd-nspawn --quiet --boot \
		    --register=no --keep-unit --machine="$name" \
		    --directory="$dir/root" --console=read-only \
		    --link-journal=no --resolv-conf=off --timezone=off
	) </dev/null >"$dir/console.log" 2>&1 3>&- &
	echo $! >"$dir/nspawn.pid"

	# The leader is nspawn's child once it is systemd (before that the
	# child is nspawn's own set-up process). systemd-run --scope and our
	# subshell both exec nspawn, so $! is nspawn.
	for ((i = 0; i < CT_BOOT_TIMEOUT * 10; i++)); do
		if ! ct_pid_alive "$(<"$dir/nspawn.pid")"; then
			echo "ct_boot: systemd-nspawn exited; its output:" >&2
			tail -n 30 "$dir/console.log" >&2
			return 1
		fi
		leader=$(pgrep -P "$(<"$dir/nspawn.pid")" -x systemd) && break
		sleep 0.1
	done
	[ -n "$leader" ] || {
		echo "ct_boot: no systemd in the container after" \
		    "${CT_BOOT_TIMEOUT}s" >&2
		return 1
	}
	echo "$leader" >"$dir/leader"
	CT_LEADER=$leader
	for ((; i < CT_BOOT_TIMEOUT * 10; i++)); do
		state=$(ct systemctl is-system-running 2>/dev/null) || true
		case $state in
		running) return 0 ;;
		degraded)
			echo "ct_boot: degraded; failed units:" >&2
			ct systemctl --failed --no-legend >&2 || true
			return 0
			;;
		esac
		sleep 0.1
	done
	echo "ct_boot: the system is still '$state' after" \
	    "${CT_BOOT_TIMEOUT}s; console:" >&2
	tail -n 30 "$dir/console.log" >&2
	return 1
}

# ct CMD...: runs CMD inside the container (every namespace of its init),
# with a plain environment.
ct() {
	nsenter -t "$CT_LEADER" -a env -i \
	    PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 SYSTEMD_PAGER= \
	    SYSTEMD_COLORS=0 "$@"
}

# Seconds a systemctl call or a state change may take.
: "${SD_TIMEOUT:=30}"

# prop UNIT PROPERTY: the property's value.
prop() {
	ct systemctl show -P "$2" "$1"
}

# prop_is UNIT PROPERTY VALUE
prop_is() {
	[ "$(prop "$1" "$2")" = "$3" ]
}

# children PID: the container pids whose parent is container pid PID.
children() {
	ct /bin/sh -c 'for s in /proc/[0-9]*/stat; do
		read -r l <"$s" 2>/dev/null || continue
		l=${l##*") "}; set -- $l
		[ "$2" = "$0" ] && { s=${s#/proc/}; echo "${s%/stat}"; }
	done; true' "$1"
}

# sd_wait CMD...: polls CMD every 0.1 s for up to $SD_TIMEOUT s.
sd_wait() {
	local i
	for ((i = 0; i < SD_TIMEOUT * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	echo "sd_wait: still failing after ${SD_TIMEOUT}s: $*" >&2
	return 1
}

# ct_destroy DIR: powers the container off (SIGTERM to nspawn, which asks
# systemd inside to halt; SIGKILL when that takes too long), then removes
# its cgroups and unmounts the overlay. Returns 1 if anything was left.
ct_destroy() {
	local dir=$1 pid leader cg i rc=0
	[ -d "$dir" ] || return 0
	pid=$(cat "$dir/nspawn.pid" 2>/dev/null) || pid=
	leader=$(cat "$dir/leader" 2>/dev/null) || leader=
	if [ -n "$pid" ]; then
		# nspawn (or systemd-run, which became it) on SIGTERM halts
		# the container cleanly, like `systemctl poweroff` inside.
		if ct_pid_is "$pid" systemd-nspawn; then
			kill -TERM "$pid" 2>/dev/null || true
		fi
		for ((i = 0; i < CT_HALT_TIMEOUT * 10; i++)); do
			ct_pid_is "$pid" systemd-nspawn || break
			sleep 0.1
		done
		if ct_pid_is "$pid" systemd-nspawn; then
			echo "ct_destroy: nspawn $pid still running after" \
			    "${CT_HALT_TIMEOUT}s: SIGKILL" >&2
			ct_pid_is "$leader" systemd && kill -KILL "$leader"
			kill -KILL "$pid" 2>/dev/null || true
			for ((i = 0; i < 50; i++)); do
				ct_pid_is "$pid" systemd-nspawn || break
				sleep 0.1
			done
			rc=1
		fi
		# Reap it if it is our child; harmless otherwise.
		wait "$pid" 2>/dev/null || true
		rm -f "$dir/nspawn.pid" "$dir/leader"
	fi
	if [ -f "$dir/cgroups" ]; then
		# Deepest first: nspawn's payload/ and supervisor/ and the
		# container's own groups below them.
		while read -r cg; do
			[ -d "$cg" ] || continue
			for ((i = 0; i < 50; i++)); do
				find "$cg" -depth -type d -exec rmdir {} + \
				    2>/dev/null
				[ -d "$cg" ] || break
				sleep 0.1
			done
			[ -d "$cg" ] && {
				echo "ct_destroy: cannot remove cgroup $cg" >&2
				rc=1
			}
		done <"$dir/cgroups"
		rm -f "$dir/cgroups"
	fi
	if [ -f "$dir/mounted" ]; then
		if umount "$dir/root" 2>/dev/null ||
		    ! mountpoint -q "$dir/root"; then
			rm -f "$dir/mounted"
		else
			echo "ct_destroy: $dir/root busy: lazy unmount" >&2
			umount -l "$dir/root" && rm -f "$dir/mounted"
			rc=1
		fi
	fi
	if [ -f "$dir/rw-mounted" ] && [ ! -f "$dir/mounted" ]; then
		if umount "$dir/rw" 2>/dev/null || ! mountpoint -q "$dir/rw"
		then
			rm -f "$dir/rw-mounted"
		else
			umount -l "$dir/rw" && rm -f "$dir/rw-mounted"
			rc=1
		fi
	fi
	return "$rc"
}

# journal_mark: from now on the journal functions below see only what
# the test logs (sets CURSOR).
journal_mark() {
	CURSOR=$(ct journalctl --show-cursor -n 0 -q |
	    sed -n 's/^-- cursor: //p')
}

# journal_show: tine's journal since journal_mark, for a failed test.
journal_show() {
	echo "# journal of the test:"
	ct journalctl -q --no-pager --after-cursor="$CURSOR" -o short-monotonic \
	    -u tine.service -u tine.socket | tail -n 40 || true
}

# journal_has ERE: tine's journal since journal_mark has a matching line.
journal_has() {
	ct journalctl -q --no-pager --after-cursor="$CURSOR" -o cat \
	    -u tine.service -u tine.socket | grep -qE -- "$1"
}
