#!/usr/bin/env bats
# compressor.bats: compress on (SPEC "Content negotiation"): the
# compressor process makes br, zstd and gzip variants of text files into
# compress_cache in the background; workers serve the file as it is
# until a variant exists, then the variant with its own ETag, ranges and
# HEAD; a changed file never gets its old variant; the cache stays
# within compress_cache_size; partial files are never served; a killed
# compressor is replaced; an unusable cache turns compression off and
# serving goes on.

load helpers

setup() {
	setup_tine_dir
	local t
	for t in brotli zstd gzip; do
		command -v "$t" >/dev/null || skip "no $t command"
	done
	CACHE=$T/cache
	# Text that compresses: a CSS file of 40 KiB and a page.
	css >"$T/www/a.css"
	for i in $(seq 1 400); do
		printf '<p class="c%d">paragraph %d of the page</p>\n' "$i" "$i"
	done >"$T/www/page.html"
	head -c 3000 /dev/urandom >"$T/www/noise.png"
	printf 'tiny text\n' >"$T/www/tiny.txt"
}

teardown() {
	local rc=0
	teardown_tine || rc=1
	if [ -n "${MOUNTED:-}" ]; then
		umount "$MOUNTED" || rc=1
	fi
	return "$rc"
}

# css [SALT]: a CSS file of about 40 KiB; SALT changes every rule.
css() {
	local i
	for i in $(seq 1 800); do
		printf '.c%d { color: #%06x; margin: %dpx; }\n' "$i" \
		    "$((i + ${1:-0}))" "$i"
	done
}

# conf LINE...: compress on with the cache in $CACHE, and LINEs.
# shellcheck disable=SC2120 # called with and without lines
conf() {
	write_conf "compress on" "compress_cache $CACHE" "status_path /status" \
	    "$@"
}

# get PATH AE [CURL_ARGS...]: GET with Accept-Encoding AE; head in
# $T/head, body in $T/body, status in CODE.
get() {
	fetch "$1" -H "Accept-Encoding: $2" "${@:3}"
}

has() {
	grep -qix "$1" "$T/head"
}

# coding: the response's Content-Encoding, or "identity".
coding() {
	local c
	c=$(hdr Content-Encoding)
	echo "${c:-identity}"
}

# encoded PATH CODING: a GET of PATH accepting only CODING gets it.
encoded() {
	get "$1" "$2"
	[ "$(coding)" = "$2" ]
}

# all_made PATH: PATH's three variants exist, and every worker has
# looked for them since (each looks at most once per second).
all_made() {
	wait_for encoded "$1" br
	wait_for encoded "$1" zstd
	wait_for encoded "$1" gzip
	sleep 1.1
}

# decode CODING: stdin decompressed with CODING's own command.
decode() {
	case $1 in
	br) brotli -dc ;;
	zstd) zstd -dqc ;;
	gzip) gzip -dc ;;
	identity) cat ;;
	esac
}

# compressor_pid: the master's child whose title says compressor.
compressor_pid() {
	local pid
	for pid in $(worker_pids); do
		grep -q compressor "/proc/$pid/cmdline" 2>/dev/null &&
			echo "$pid"
	done
	return 0
}

cache_bytes_on_disk() {
	find "$CACHE" -name 'v-*' -printf '%s\n' |
	    awk '{ n += $1 } END { print n + 0 }'
}

# cache_counted: the status page's cache_bytes are the variants' sizes.
cache_counted() {
	[ "$(status_field cache_bytes)" = "$(cache_bytes_on_disk)" ]
}

# status_is NAME VALUE: the status page's compress NAME is VALUE.
status_is() {
	[ "$(status_field "$1")" = "$2" ]
}

compressor_running() {
	[ -n "$(compressor_pid)" ]
}

# compressor_replaced OLD: a compressor runs, and it is not OLD.
compressor_replaced() {
	local now
	now=$(compressor_pid)
	[ -n "$now" ] && [ "$now" != "$1" ]
}

compressor_gone() {
	[ -z "$(compressor_pid)" ]
}

# status_field NAME: a number from the JSON status page.
status_field() {
	req /status?format=json | python3 -c \
	    'import json, sys; print(json.load(sys.stdin)["compress"][sys.argv[1]])' \
	    "$1"
}

@test "compressor: a file is sent as it is until its variants exist, then each decompresses to it" {
	conf
	start_tine
	get /a.css "br, zstd, gzip"
	[ "$CODE" = 200 ]
	[ "$(coding)" = identity ]
	has 'Vary: Accept-Encoding'
	cmp "$T/body" "$T/www/a.css"
	for c in br zstd gzip; do
		wait_for encoded /a.css "$c"
		has "Content-Length: $(stat -c %s "$T/body")"
		has 'Content-Type: text/css; charset=utf-8'
		has 'Vary: Accept-Encoding'
		decode "$c" <"$T/body" | cmp - "$T/www/a.css"
	done
	# Every worker looks for variants at most once a second: one that
	# looked before br was made still sends another coding until then.
	sleep 1.1
	# Preference at equal weight: br, zstd, gzip; identity when refused.
	get /a.css "gzip, zstd, br"
	[ "$(coding)" = br ]
	get /a.css "gzip;q=0.5, zstd"
	[ "$(coding)" = zstd ]
	get /a.css "identity"
	[ "$(coding)" = identity ]
	cmp "$T/body" "$T/www/a.css"
	# The cache holds complete variants, owned and private.
	[ "$(stat -c %a "$CACHE")" = 700 ]
	[ "$(find "$CACHE" -name 'v-*' -type f | wc -l)" = 3 ]
}

@test "compressor: each variant has its own ETag; 304, If-Range, ranges and HEAD apply to it" {
	local e_br e_gz e_id len
	conf
	start_tine
	all_made /a.css
	get /a.css gzip
	e_gz=$(hdr ETag)
	get /a.css br
	e_br=$(hdr ETag)
	len=$(hdr Content-Length)
	get /a.css identity
	e_id=$(hdr ETag)
	[ "$e_br" != "$e_id" ] && [ "$e_gz" != "$e_id" ] && [ "$e_br" != "$e_gz" ]
	[[ $e_br == '"'*'"' ]]
	# The br ETag validates the br variant only.
	get /a.css br -H "If-None-Match: $e_br"
	[ "$CODE" = 304 ]
	has "ETag: $e_br"
	has 'Vary: Accept-Encoding'
	get /a.css gzip -H "If-None-Match: $e_br"
	[ "$CODE" = 200 ] && [ "$(coding)" = gzip ]
	# Ranges are of the variant's bytes.
	get /a.css br -r 0-9
	[ "$CODE" = 206 ]
	has "Content-Range: bytes 0-9/$len"
	brotli -dc <(req /a.css -H 'Accept-Encoding: br') | cmp - "$T/www/a.css"
	head -c 10 < <(req /a.css -H 'Accept-Encoding: br') | cmp - "$T/body"
	get /a.css br -r 0-9 -H "If-Range: $e_id"
	[ "$CODE" = 200 ] && [ "$(coding)" = br ]
	get /a.css br -r 5-9 -H "If-Range: $e_br"
	[ "$CODE" = 206 ]
	# HEAD: the variant's head, no body.
	get /a.css br -I
	[ "$CODE" = 200 ]
	has 'Content-Encoding: br'
	has "Content-Length: $len"
	has "ETag: $e_br"
}

@test "compressor: other types, small files and compress off get no variant and no Vary" {
	conf "location /plain/* {" "compress off" "}"
	mkdir "$T/www/plain"
	cp "$T/www/a.css" "$T/www/plain/b.css"
	start_tine
	wait_for encoded /a.css br
	for p in /noise.png /tiny.txt /plain/b.css; do
		get "$p" "br, zstd, gzip"
		[ "$CODE" = 200 ] && [ "$(coding)" = identity ]
		! grep -qi '^Vary' "$T/head" || fail_with "Vary on $p"
	done
	sleep 1.2	# past the look interval: would a wish have been made?
	get /plain/b.css br
	[ "$(coding)" = identity ]
	[ "$(find "$CACHE" -name 'v-*' | wc -l)" = 3 ]
	# compress_types and compress_min_size move the line.
	stop_tine
	conf "compress_types image/png" "compress_min_size 5"
	start_tine
	get /noise.png br
	wait_for encoded /tiny.txt br 2>/dev/null && false
	get /a.css br
	[ "$(coding)" = identity ]
	! grep -qi '^Vary' "$T/head" || fail_with "Vary on a.css"
}

@test "compressor: a changed file never gets its old variant, at any moment" {
	local i c ok=0
	conf
	start_tine
	wait_for encoded /a.css br
	# Same size, other bytes, within the same second as the old mtime
	# would be possible only by setting it back: done here on purpose.
	css 7 >"$T/a.new"
	[ "$(stat -c %s "$T/a.new")" = "$(stat -c %s "$T/www/a.css")" ]
	mv "$T/a.new" "$T/www/a.css"
	for i in $(seq 1 60); do
		get /a.css "br, gzip"
		[ "$CODE" = 200 ]
		c=$(coding)
		# Within CACHE_CHECK_MS a worker may still send the old
		# file's bytes as a whole: then in the old ETag, never mixed.
		if decode "$c" <"$T/body" | cmp -s - "$T/www/a.css"; then
			[ "$c" = br ] && ok=1 && break
		else
			css | cmp -s - <(decode "$c" <"$T/body") ||
				fail_with "a $c body that is neither version"
		fi
		sleep 0.1
	done
	[ "$ok" = 1 ] || fail_with "no br variant of the new file"
	# The old one is never served again once a second has passed.
	for i in $(seq 1 10); do
		get /a.css br
		decode "$(coding)" <"$T/body" | cmp - "$T/www/a.css"
	done
}

@test "compressor: a file asked for by many clients at once is compressed once" {
	local i
	local -a pids=()
	conf "workers 4"
	start_tine
	for i in $(seq 1 40); do
		req /a.css -H 'Accept-Encoding: br' -o /dev/null &
		pids+=($!)
	done
	wait "${pids[@]}"
	wait_for encoded /a.css br
	wait_for encoded /a.css zstd
	wait_for encoded /a.css gzip
	[ "$(status_field variants_made_total)" = 3 ]
	[ "$(find "$CACHE" -type f | wc -l)" = 3 ]
}

@test "compressor: status reports variants made, responses encoded, hits, misses and cache bytes" {
	local bytes
	conf
	start_tine
	get /a.css br
	[ "$(coding)" = identity ]
	wait_for encoded /a.css br
	wait_for encoded /a.css gzip
	[ "$(status_field variants_made_total)" = 3 ]
	[ "$(status_field encoded_total)" -ge 2 ]
	[ "$(status_field cache_hits_total)" -ge 2 ]
	[ "$(status_field cache_misses_total)" -ge 1 ]
	[ "$(status_field cache_files)" = 3 ]
	bytes=$(find "$CACHE" -name 'v-*' -printf '%s\n' | awk '{ n += $1 } END { print n }')
	[ "$(status_field cache_bytes)" = "$bytes" ]
	req '/status?format=prometheus' | grep -qx "tine_compress_cache_bytes $bytes"
}

@test "compressor: the cache stays within compress_cache_size, least recently used out first" {
	local i one total
	for i in 1 2 3 4 5 6; do
		css "$((i * 1000))" >"$T/www/f$i.css"
	done
	# One file's three variants take about 11 KiB: room for two.
	conf "compress_cache_size 24k"
	start_tine
	wait_for encoded /f1.css br
	wait_for encoded /f1.css zstd
	wait_for encoded /f1.css gzip
	one=$(find "$CACHE" -name 'v-*' -printf '%s\n' | awk '{ n += $1 } END { print n }')
	[ "$one" -lt 12288 ] || skip "variants larger than this test expects: $one"
	for i in 2 3 4 5 6; do
		wait_for encoded "/f$i.css" br
		# f1 is served again and again: the most recently used.
		sleep 1.1
		get /f1.css br
	done
	# Once the compressor has finished f6's codings, what it counts is
	# what the directory holds, within the bound.
	wait_for encoded /f6.css gzip
	wait_for cache_counted
	total=$(cache_bytes_on_disk)
	[ "$total" -le 24576 ] || fail_with "cache holds $total bytes"
	[ "$(status_field variants_evicted_total)" -gt 0 ]
	# f1, served again and again, stays.
	get /f1.css br
	[ "$(coding)" = br ]
	# Evicted and asked for again: made again.
	wait_for encoded /f2.css br
}

@test "compressor: a partial variant is never served, and a killed compressor's leftovers are removed" {
	local i cz
	# 3 MiB of text: brotli at its best takes a while on it.
	for i in $(seq 1 30000); do
		printf 'function f%d(a) { return a * %d + "%x"; }\n' "$i" "$i" "$((i * 7919))"
	done >"$T/www/big.js"
	# A stranger's file with a variant-like name is left alone and
	# never served (not a variant of any file).
	mkdir -m 700 "$CACHE"
	printf 'junk' >"$CACHE/t-1-0"
	conf
	start_tine
	wait_for test ! -e "$CACHE/t-1-0"
	get /big.js br
	[ "$(coding)" = identity ]
	# Catch the compressor writing its temporary file, then kill it.
	wait_for compgen -G "$CACHE/t-*" >/dev/null
	for i in $(seq 1 5); do
		get /big.js "br, zstd, gzip"
		[ "$(coding)" = identity ] || decode "$(coding)" <"$T/body" |
			cmp - "$T/www/big.js"
	done
	cz=$(compressor_pid)
	[ -n "$cz" ]
	kill -KILL "$cz"
	TINE_STDERR_ALLOW='exited on signal 9'
	# Replaced; the new one removes the leftover and finishes the job.
	wait_for compressor_replaced "$cz"
	TINE_WAIT_TIMEOUT=60 wait_for encoded /big.js br
	brotli -dc <"$T/body" | cmp - "$T/www/big.js"
	wait_for encoded /big.js gzip
	gzip -dc <"$T/body" | cmp - "$T/www/big.js"
	! compgen -G "$CACHE/t-*" ||
		fail_with "a temporary file was left: $(ls -l "$CACHE")"
	grep -q "compressor $cz exited on signal 9" "$T/error.log"
}

@test "compressor: killed with SIGKILL it is replaced and serving never stops" {
	local i cz bad=0
	conf
	start_tine
	wait_for compressor_running
	cz=$(compressor_pid)
	kill -KILL "$cz"
	for i in $(seq 1 20); do
		get /page.html br
		[ "$CODE" = 200 ] || bad=$((bad + 1))
	done
	[ "$bad" = 0 ]
	wait_for compressor_replaced "$cz"
	wait_for encoded /page.html br
	brotli -dc <"$T/body" | cmp - "$T/www/page.html"
	grep -q "compressor $cz exited on signal 9" "$T/error.log"
	# The new one counts what the old one made.
	all_made /page.html
	cz=$(compressor_pid)
	kill -KILL "$cz"
	wait_for compressor_replaced "$cz"
	wait_for status_is cache_files 3
}

@test "compressor: a cache that cannot be used is logged once and compression stays off" {
	# A missing parent, a link, and a directory others may write.
	CACHE=$T/no/such/dir conf
	start_tine
	get /a.css br
	[ "$CODE" = 200 ] && [ "$(coding)" = identity ]
	cmp "$T/body" "$T/www/a.css"
	compressor_gone
	grep -q "compress_cache .*no/such/dir: No such file or directory; compression is off" "$T/error.log"
	stop_tine
	mkdir -m 700 "$T/real"
	ln -s "$T/real" "$T/link"
	CACHE=$T/link conf
	start_tine
	get /a.css br
	[ "$CODE" = 200 ] && [ "$(coding)" = identity ]
	grep -q "compress_cache .*link: not a directory; compression is off" "$T/error.log"
	stop_tine
	mkdir -m 1777 "$T/shared"
	CACHE=$T/shared conf
	start_tine
	get /a.css br
	[ "$CODE" = 200 ] && [ "$(coding)" = identity ]
	grep -q "compress_cache .*shared: writable by other users; compression is off" "$T/error.log"
	sleep 1.2
	get /a.css br
	[ "$(coding)" = identity ]
	[ -z "$(ls -A "$T/shared")" ]
	[ "$(grep -c 'compression is off' "$T/error.log")" = 3 ]
}

@test "compressor: a cache it cannot write is logged once; compression stops, serving goes on" {
	local i
	[ "$(id -u)" = 0 ] || skip "mounting a read-only cache needs root"
	mkdir "$CACHE"
	mount -t tmpfs -o ro,mode=700,size=64k tmpfs "$CACHE" 2>/dev/null ||
		skip "cannot mount a tmpfs here"
	MOUNTED=$CACHE
	conf
	start_tine
	for i in $(seq 1 20); do
		get /a.css br
		[ "$CODE" = 200 ] && [ "$(coding)" = identity ]
		get /page.html br
		[ "$CODE" = 200 ]
		sleep 0.1
	done
	wait_for status_is off True
	cmp "$T/body" "$T/www/page.html"
	[ "$(grep -c 'compression is off until the next reload' "$T/error.log")" = 1 ]
	grep -q "compress_cache .*: create: Read-only file system" "$T/error.log"
}

@test "compressor: a variant planted in the cache as a link or a second name is never served" {
	local name i c
	conf
	start_tine
	all_made /a.css
	stop_tine
	# One variant replaced by a link out of the cache, one given a
	# second name, one given to another owner.
	name=$(cd "$CACHE" && ls v-*.br)
	printf 'planted' >"$T/outside"
	rm "$CACHE/$name"
	ln -s "$T/outside" "$CACHE/$name"
	name=$(cd "$CACHE" && ls v-*.zst)
	ln "$CACHE/$name" "$T/second-name"
	cp "$T/second-name" "$T/second-name.orig"
	name=$(cd "$CACHE" && ls v-*.gz)
	chown 65534 "$CACHE/$name"
	start_tine
	# None of them is served; the compressor makes each afresh in its
	# place, and never writes through the link or the second name.
	for i in $(seq 1 30); do
		for c in br zstd gzip; do
			get /a.css "$c"
			decode "$(coding)" <"$T/body" | cmp - "$T/www/a.css"
		done
		[ "$(coding)" = gzip ] && break
		sleep 0.2
	done
	wait_for encoded /a.css br
	brotli -dc <"$T/body" | cmp - "$T/www/a.css"
	wait_for encoded /a.css zstd
	[ "$(cat "$T/outside")" = planted ]
	cmp "$T/second-name" "$T/second-name.orig"
	[ "$(find "$CACHE" -name 'v-*' -type f -links 1 -user "$(id -u)" | wc -l)" = 3 ]
}

@test "compressor: HUP turns compression on and off; the compressor follows" {
	write_conf "status_path /status"
	start_tine
	[ -z "$(compressor_pid)" ]
	conf
	kill -HUP "$TINE_PID"
	wait_for compressor_running
	wait_for encoded /a.css br
	write_conf "status_path /status"
	kill -HUP "$TINE_PID"
	wait_for compressor_gone
	get /a.css br
	[ "$(coding)" = identity ]
}

@test "compressor: directives are checked and printed by -T" {
	conf "compress_types text/css Image/SVG+XML" "compress_min_size 2k" \
	    "compress_cache_size 1g"
	run "$TINE_BIN" -T -f "$CONF"
	[ "$status" = 0 ]
	grep -qx 'compress on' <<<"$output"
	grep -qx 'compress_types text/css image/svg+xml' <<<"$output"
	grep -qx 'compress_min_size 2048' <<<"$output"
	grep -qx 'compress_cache_size 1073741824' <<<"$output"
	grep -qx "compress_cache $CACHE" <<<"$output"
	conf "compress_types text"
	run "$TINE_BIN" -t -f "$CONF"
	[ "$status" != 0 ]
	[[ $output == *'compress_types: "text" is not a media type'* ]]
	conf "compress_cache_size lots"
	run "$TINE_BIN" -t -f "$CONF"
	[ "$status" != 0 ]
	conf "compress maybe"
	run "$TINE_BIN" -t -f "$CONF"
	[ "$status" != 0 ]
}

@test "compressor: a file rewritten in place with its old mtime set back gets new variants" {
	local i
	conf
	start_tine
	all_made /a.css
	# cp -p or rsync -t onto the file: same size, same mtime, new bytes.
	touch -r "$T/www/a.css" "$T/ref"
	css 7 >"$T/a.new"
	cat "$T/a.new" >"$T/www/a.css"
	touch -r "$T/ref" "$T/www/a.css"
	sleep 1.2	# every worker has looked at the file again
	for i in $(seq 1 40); do
		for c in br zstd gzip; do
			get /a.css "$c"
			decode "$(coding)" <"$T/body" | cmp - "$T/www/a.css" ||
				fail_with "a $(coding) body of the old file"
		done
		[ "$(coding)" = gzip ] && break
		sleep 0.2
	done
	[ "$(coding)" = gzip ]
}

@test "compressor: a directory planted under one variant's name leaves the other codings made" {
	local f
	conf
	start_tine
	all_made /a.css
	stop_tine
	for f in "$CACHE"/v-*; do
		rm "$f"
		case $f in *.br) mkdir "$f" ;; esac
	done
	start_tine
	wait_for encoded /a.css zstd
	wait_for encoded /a.css gzip
	get /a.css br
	[ "$(coding)" = identity ]
	wait_for grep -q "not made for now" "$T/error.log"
	TINE_STDERR_ALLOW='not made for now'
}

@test "compressor: a full cache makes room, and a failing variant is not retried at once" {
	local i cz t1 t2
	[ "$(id -u)" = 0 ] || skip "mounting a small cache needs root"
	mkdir "$CACHE"
	mount -t tmpfs -o mode=700,size=64k tmpfs "$CACHE" 2>/dev/null ||
		skip "cannot mount a tmpfs here"
	MOUNTED=$CACHE
	for i in 1 2 3 4 5 6 7 8; do
		css "$((i * 1000))" >"$T/www/f$i.css"
	done
	# Text that does not fit the 64 KiB whatever the coding.
	head -c 400000 /dev/urandom | base64 -w 76 >"$T/www/big.txt"
	conf
	start_tine
	for i in 1 2 3 4 5 6 7 8; do
		wait_for encoded "/f$i.css" br ||
			fail_with "f$i: $(ls -l "$CACHE"; df "$CACHE"; cat "$T/error.log")"
	done
	# The early ones went to make room for the later ones.
	[ "$(status_field variants_evicted_total)" -gt 0 ]
	cz=$(compressor_pid)
	get /big.txt "br, zstd, gzip"
	sleep 3
	t1=$(awk '{ print $14 + $15 }' "/proc/$cz/stat")
	for i in $(seq 1 20); do
		get /big.txt "br, zstd, gzip"
		[ "$CODE" = 200 ]
		sleep 0.2
	done
	t2=$(awk '{ print $14 + $15 }' "/proc/$cz/stat")
	# Asked for 20 times in 4 s: not compressed again (clock ticks).
	[ $((t2 - t1)) -lt 100 ] || fail_with "compressor used $((t2 - t1)) ticks"
	TINE_STDERR_ALLOW='not made for now'
}

@test "compressor: compress_cache_size smaller than a variant keeps none and does not repeat the work" {
	local i
	conf "compress_cache_size 100"
	start_tine
	for i in $(seq 1 15); do
		get /a.css "br, zstd, gzip"
		[ "$CODE" = 200 ] && [ "$(coding)" = identity ]
		sleep 0.2
	done
	[ "$(status_field variants_made_total)" = 0 ]
	[ -z "$(ls -A "$CACHE")" ]
}

@test "compressor: a file that does not compress is noted once, counted, and sent as it is" {
	head -c 20000 /dev/urandom >"$T/www/noise.txt"
	conf
	start_tine
	get /noise.txt br
	wait_for status_is variants_made_total 3
	sleep 1.1
	get /noise.txt "br, zstd, gzip"
	[ "$(coding)" = identity ]
	cmp "$T/body" "$T/www/noise.txt"
	[ "$(find "$CACHE" -name 'v-*' -empty | wc -l)" = 3 ]
	[ "$(status_field cache_bytes)" = 1536 ]
	sleep 1.1
	get /noise.txt br
	[ "$(status_field variants_made_total)" = 3 ]
}

@test "compressor: a long path, not cached, still says Vary" {
	local long
	# Longer than a cache key (256 bytes): served uncached.
	long=$(printf 'd%.0s' $(seq 1 120))
	mkdir -p "$T/www/$long/$long/$long"
	cp "$T/www/a.css" "$T/www/$long/$long/$long/a.css"
	conf
	start_tine
	get "/$long/$long/$long/a.css" br
	[ "$CODE" = 200 ]
	has 'Vary: Accept-Encoding'
	cmp "$T/body" "$T/www/a.css"
}

@test "compressor: it ends with the master, even one killed with SIGKILL" {
	local cz
	local -a kids
	conf
	start_tine
	wait_for compressor_running
	cz=$(compressor_pid)
	mapfile -t kids < <(worker_pids)
	kill -KILL "$TINE_PID"
	wait "$TINE_PID" 2>/dev/null || true
	TINE_PID=
	wait_for eval '! pid_alive '"$cz"
	# The workers outlive a killed master (as before): ended here.
	kill -KILL "${kids[@]}" 2>/dev/null || true
}
