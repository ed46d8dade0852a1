#!/usr/bin/env bats
# cache.bats: the workers' open-file cache seen from outside (man tine(8),
# "HTTP BEHAVIOUR"): a file changed in place, replaced by a rename,
# deleted, or moved out of reach by a symlink is seen within a second,
# never anything outside root; and HEAD, conditionals and ranges answered
# from a cached file (bytes in memory) are what a fresh lookup gives.
# One worker, so every request meets the same cache.

load helpers

# Seconds a change may take to show: the cache's revalidation interval
# (1 s) plus slack for a loaded machine.
SEEN_WITHIN_S=3

# A tree whose files' ctimes are old enough (2 s, CACHE_SETTLE_S) for a
# worker to keep their bytes in memory, made once for the whole file:
# the waiting is for the file system clock, not for a process.
setup_file() {
	S=$BATS_FILE_TMPDIR/settled
	mkdir -p "$S"
	awk 'BEGIN { for (i = 0; i < 300; i++) printf "line %04d of page\n", i }' \
	    >"$S/page.html"
	printf 'version one\n' >"$S/inplace.txt"
	sleep 2.2
}

setup() {
	setup_tine_dir
	W=$T/www
	S=$BATS_FILE_TMPDIR/settled
	PUBDIR=
}

teardown() {
	local rc=0
	teardown_tine || rc=1
	# Only the directory this test made with mktemp.
	case ${PUBDIR:-} in
	/tmp/tine-cache.*) rm -rf -- "$PUBDIR" ;;
	esac
	return "$rc"
}

serve() {
	write_conf 'workers 1' 'max_workers 1' "$@"
	start_tine
}

# body_is PATH TEXT: one GET of PATH answers 200 with exactly TEXT.
body_is() {
	fetch "$1"
	[ "$CODE" = 200 ] && cmp -s "$T/body" <(printf '%s' "$2")
}

# code_is PATH CODE: one GET of PATH answers CODE.
code_is() {
	fetch "$1"
	[ "$CODE" = "$2" ]
}

# seen CMD...: CMD succeeds within SEEN_WITHIN_S seconds.
seen() {
	TINE_WAIT_TIMEOUT=$SEEN_WITHIN_S wait_for "$@"
}

@test "cache: a file changed in place, same size and mtime, is seen" {
	printf 'aaaa\n' >"$W/f.txt"
	touch -d '2020-01-01 00:00:00' "$W/f.txt"
	serve
	body_is /f.txt $'aaaa\n' || fail_with "first GET"
	body_is /f.txt $'aaaa\n' || fail_with "second GET"
	# Only the ctime tells: same size, mtime put back.
	printf 'bbbb\n' >"$W/f.txt"
	touch -d '2020-01-01 00:00:00' "$W/f.txt"
	seen body_is /f.txt $'bbbb\n' || fail_with "change not seen"
}

@test "cache: a small file kept in memory, changed in place, is seen" {
	serve "root $S"
	body_is /inplace.txt $'version one\n' || fail_with "first GET"
	# A second second: the entry is revalidated and keeps the bytes.
	sleep 1.1
	body_is /inplace.txt $'version one\n' || fail_with "second GET"
	# Same size, mtime put back: only the ctime differs.
	touch -r "$S/inplace.txt" "$T/stamp"
	printf 'version two\n' >"$S/inplace.txt"
	touch -r "$T/stamp" "$S/inplace.txt"
	seen body_is /inplace.txt $'version two\n' || fail_with "change not seen"
}

@test "cache: a file replaced by a rename is seen, with its new ETag" {
	local old
	printf 'old file\n' >"$W/r.txt"
	serve
	body_is /r.txt $'old file\n' || fail_with "first GET"
	old=$(hdr ETag)
	printf 'the new file\n' >"$W/r.txt.tmp"
	mv "$W/r.txt.tmp" "$W/r.txt"
	seen body_is /r.txt $'the new file\n' || fail_with "rename not seen"
	[ "$(hdr ETag)" != "$old" ] || fail_with "ETag unchanged: $old"
	[ "$(hdr Content-Length)" = 13 ] || fail_with "Content-Length"
	# The old validator no longer matches: a full 200.
	fetch /r.txt -H "If-None-Match: $old"
	[ "$CODE" = 200 ] || fail_with "stale If-None-Match"
}

@test "cache: a deleted file gives 404, a new one at the path is served" {
	printf 'here\n' >"$W/d.txt"
	serve
	body_is /d.txt $'here\n' || fail_with "first GET"
	rm "$W/d.txt"
	seen code_is /d.txt 404 || fail_with "deletion not seen"
	printf 'back\n' >"$W/d.txt"
	seen body_is /d.txt $'back\n' || fail_with "new file not seen"
}

# no_deleted_open: no worker holds a deleted file open.
no_deleted_open() {
	local pid
	for pid in $(worker_pids); do
		! find "/proc/$pid/fd" -type l -lname '*(deleted)' 2>/dev/null |
		    grep -q . || return 1
	done
}

@test "cache: an idle worker lets go of a deleted file's descriptor" {
	local pid
	head -c 100000 /dev/zero >"$W/gone.bin"
	serve
	code_is /gone.bin 200 || fail_with "first GET"
	pid=$(worker_pids)
	[ -n "$pid" ] || fail_with "no worker"
	# The worker keeps the file open for the next request ...
	find "/proc/$pid/fd" -type l -lname "$W/gone.bin" | grep -q . ||
	    fail_with "not cached: the test would prove nothing"
	rm "$W/gone.bin"
	# ... and, with no request coming, closes it (CACHE_IDLE_MS, 2 s),
	# so the deleted file's space is freed.
	TINE_WAIT_TIMEOUT=5 wait_for no_deleted_open ||
	    fail_with "worker still holds the deleted file"
	[ "$(worker_pids)" = "$pid" ] || fail_with "the worker changed"
}

@test "cache: a file made unreadable gives 403" {
	local d=$W
	if [ "$(id -u)" = 0 ]; then
		# Root reads any file: workers run as nobody, from a tree
		# they can reach (the Bats directories are root's alone).
		getent passwd nobody >/dev/null &&
		    getent group nogroup >/dev/null ||
			skip "no nobody user or nogroup group"
		PUBDIR=$(mktemp -d /tmp/tine-cache.XXXXXX)
		chmod 755 "$PUBDIR"
		d=$PUBDIR
	fi
	printf 'open\n' >"$d/p.txt"
	chmod 644 "$d/p.txt"
	W=$d
	if [ -n "$PUBDIR" ]; then
		serve "root $PUBDIR" 'user nobody' 'group nogroup'
	else
		serve
	fi
	body_is /p.txt $'open\n' || fail_with "first GET"
	chmod 000 "$W/p.txt"
	seen code_is /p.txt 403 || fail_with "permission change not seen"
}

@test "cache: a symlink re-pointed out of root is never served from cache" {
	local i
	printf 'inside\n' >"$W/in.txt"
	printf 'SECRET outside root\n' >"$T/outside.txt"
	ln -s in.txt "$W/link.txt"
	serve
	body_is /link.txt $'inside\n' || fail_with "first GET"
	ln -sfn ../outside.txt "$W/link.txt"
	# Every answer until and after the change: the old file or 404.
	for ((i = 0; i < 30; i++)); do
		fetch /link.txt
		if grep -q SECRET "$T/body"; then
			fail_with "served a file outside root"
		fi
		[ "$CODE" = 404 ] && break
		[ "$CODE" = 200 ] || fail_with "unexpected status"
		sleep 0.1
	done
	[ "$CODE" = 404 ] || fail_with "escape not seen"
	# An absolute symlink to the same outside file, too.
	ln -sfn "$T/outside.txt" "$W/link.txt"
	fetch /link.txt
	[ "$CODE" = 404 ] || fail_with "absolute symlink"
}

@test "cache: a directory's index that appears is served" {
	mkdir "$W/d"
	printf 'b\n' >"$W/d/b.html"
	serve 'index a.html b.html'
	body_is /d/ $'b\n' || fail_with "first GET"
	printf 'a\n' >"$W/d/a.html"
	seen body_is /d/ $'a\n' || fail_with "new index not seen"
}

@test "cache: HEAD, conditionals and ranges from memory match the file" {
	local etag lm len
	len=$(wc -c <"$S/page.html")
	serve "root $S"
	# Twice across a revalidation, so the bytes are in memory.
	fetch /page.html
	sleep 1.1
	fetch /page.html
	[ "$CODE" = 200 ] && cmp -s "$T/body" "$S/page.html" ||
		fail_with "GET body"
	etag=$(hdr ETag)
	lm=$(hdr Last-Modified)
	[ "$(hdr Content-Length)" = "$len" ] || fail_with "Content-Length"
	[ "$(hdr Content-Type)" = 'text/html; charset=utf-8' ] ||
		fail_with "Content-Type"
	[ "$lm" = "$(TZ=GMT date -r "$S/page.html" '+%a, %d %b %Y %H:%M:%S GMT')" ] ||
		fail_with "Last-Modified"
	# HEAD: the same fields, and nothing after them before the close.
	printf 'HEAD /page.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	    raw >"$T/head.raw" || true
	tr -d '\r' <"$T/head.raw" >"$T/head"
	CODE=$(head -n 1 "$T/head" | cut -d' ' -f2)
	: >"$T/body"
	[ "$CODE" = 200 ] || fail_with "HEAD"
	[ "$(tail -c 4 "$T/head.raw" | od -An -c | tr -d ' ')" = '\r\n\r\n' ] ||
		fail_with "HEAD: bytes after the head"
	[ "$(hdr ETag)" = "$etag" ] && [ "$(hdr Last-Modified)" = "$lm" ] &&
		[ "$(hdr Content-Length)" = "$len" ] || fail_with "HEAD fields"
	# Conditionals.
	fetch /page.html -H "If-None-Match: $etag"
	[ "$CODE" = 304 ] && [ ! -s "$T/body" ] || fail_with "If-None-Match"
	[ "$(hdr ETag)" = "$etag" ] || fail_with "304 ETag"
	fetch /page.html -H "If-Modified-Since: $lm"
	[ "$CODE" = 304 ] || fail_with "If-Modified-Since"
	fetch /page.html -H 'If-Match: "other"'
	[ "$CODE" = 412 ] || fail_with "If-Match"
	# Ranges: a middle, a suffix, an open end, unsatisfiable, stale.
	fetch /page.html -H 'Range: bytes=100-199'
	[ "$CODE" = 206 ] && cmp -s "$T/body" <(tail -c +101 "$S/page.html" |
	    head -c 100) || fail_with "range 100-199"
	[ "$(hdr Content-Range)" = "bytes 100-199/$len" ] ||
		fail_with "Content-Range"
	fetch /page.html -H 'Range: bytes=-7'
	[ "$CODE" = 206 ] && cmp -s "$T/body" <(tail -c 7 "$S/page.html") ||
		fail_with "suffix range"
	fetch /page.html -H "Range: bytes=$((len - 3))-"
	[ "$CODE" = 206 ] && cmp -s "$T/body" <(tail -c 3 "$S/page.html") ||
		fail_with "open range"
	fetch /page.html -H "Range: bytes=$len-"
	[ "$CODE" = 416 ] && [ "$(hdr Content-Range)" = "bytes */$len" ] ||
		fail_with "unsatisfiable range"
	fetch /page.html -H 'Range: bytes=0-9' -H 'If-Range: "stale"'
	[ "$CODE" = 200 ] && cmp -s "$T/body" "$S/page.html" ||
		fail_with "If-Range stale"
	fetch /page.html -H 'Range: bytes=0-9' -H "If-Range: $etag"
	[ "$CODE" = 206 ] && cmp -s "$T/body" <(head -c 10 "$S/page.html") ||
		fail_with "If-Range current"
}

@test "cache: many files, more than the cache holds, are all served right" {
	local i
	for ((i = 0; i < 80; i++)); do
		printf 'file %d\n' "$i" >"$W/f$i.txt"
	done
	serve
	# Twice round: the second pass finds some entries evicted.
	for ((i = 0; i < 160; i++)); do
		body_is "/f$((i % 80)).txt" "file $((i % 80))"$'\n' ||
			fail_with "f$((i % 80)).txt"
	done
}

# ---- out of descriptors ----

# on5 PATH: GET PATH on the connection open as fd 5; the status code in
# CODE, the head (CRs removed) in $T/head, the body in $T/body.
on5() {
	local line len=0
	printf 'GET %s HTTP/1.1\r\nHost: t\r\n\r\n' "$1" >&5
	: >"$T/head"
	CODE=
	while IFS= read -r -t 5 line <&5; do
		line=${line%$'\r'}
		[ -z "$line" ] && break
		[ -z "$CODE" ] && CODE=${line#HTTP/1.1 } && CODE=${CODE%% *}
		printf '%s\n' "$line" >>"$T/head"
		case ${line,,} in
		content-length:*) len=${line#*: } ;;
		esac
	done
	[ -n "$CODE" ] || return 1
	IFS= read -r -t 5 -N "$len" line <&5 || [ "$len" = 0 ] || return 1
	printf '%s' "$line" >"$T/body"
}

# lowest_fd PID [PATTERN]: the lowest descriptor number of PID that is
# free or, with PATTERN, points to a path matching it.
lowest_fd() {
	local fd=0 target
	while target=$(readlink "/proc/$1/fd/$fd" 2>/dev/null); do
		[ -n "${2:-}" ] && [[ $target == $2 ]] && break
		fd=$((fd + 1))
	done
	echo "$fd"
}

# fds_under PID DIR: how many descriptors of PID point beneath DIR.
fds_under() {
	local n=0 f
	for f in /proc/"$1"/fd/*; do
		[[ $(readlink "$f" 2>/dev/null) == "$2"/* ]] && n=$((n + 1))
	done
	echo "$n"
}

@test "cache: out of descriptors, the cache lets go; then 503 with Retry-After" {
	local wpid soft i t0 t1 lines
	command -v prlimit >/dev/null || skip "no prlimit"
	for i in $(seq 100 199); do
		printf 'file %s\n' "$i" >"$W/f$i"
	done
	serve
	wpid=$(worker_pids)
	[ "$(grep -c . <<<"$wpid")" = 1 ] || fail_with "workers: $wpid"
	soft=$(prlimit --pid "$wpid" --nofile --output SOFT --noheadings)
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	# 64 files: the cache (CACHE_ENTRIES) holds them all open.
	for i in $(seq 100 163); do
		on5 "/f$i" && [ "$CODE" = 200 ] ||
			fail_with "f$i: want 200, got $CODE"
	done
	[ "$(fds_under "$wpid" "$W")" = 64 ] ||
		fail_with "cached descriptors: $(fds_under "$wpid" "$W")"
	# No descriptor left below the limit: the next file needs the cache's.
	prlimit --pid "$wpid" --nofile="$(lowest_fd "$wpid")":
	on5 /f164
	[ "$CODE" = 200 ] || fail_with "after the cache let go: want 200, got $CODE"
	[ "$(cat "$T/body")" = 'file 164' ] || fail_with "wrong body"
	[ "$(fds_under "$wpid" "$W")" = 1 ] ||
		fail_with "cached descriptors now: $(fds_under "$wpid" "$W")"
	# Below every cached descriptor: nothing the cache holds can help.
	prlimit --pid "$wpid" --nofile="$(lowest_fd "$wpid" "$W/*")":
	t0=$(date +%s)
	for i in $(seq 165 174); do
		on5 "/f$i"
		[ "$CODE" = 503 ] || fail_with "f$i: want 503, got $CODE"
		grep -qx 'Retry-After: 1' "$T/head" ||
			fail_with "f$i: no Retry-After: 1"
		grep -qF '<title>503 Service Unavailable</title>' "$T/body" ||
			fail_with "f$i: not the 503 page"
	done
	t1=$(date +%s)
	# Restored before the connection ends, so the next accept works.
	prlimit --pid "$wpid" --nofile="$soft":
	on5 /f175
	[ "$CODE" = 200 ] || fail_with "after the limit rose: want 200, got $CODE"
	exec 5<&-
	# Ten 503s, at most one report a second.
	lines=$(grep -c 'out of file descriptors' "$T/error.log" || true)
	[ "$lines" -ge 1 ] && [ "$lines" -le $((t1 - t0 + 1)) ] ||
		fail_with "$lines reports in $((t1 - t0 + 1)) s"
}
