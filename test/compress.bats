#!/usr/bin/env bats
# compress.bats: content codings (issue 16, SPEC "Content negotiation"):
# precompressed siblings F.br, F.zst and F.gz chosen by Accept-Encoding,
# each decompressing to the file, sent with the file's type, their own
# ETag, Content-Encoding and Vary; stale, missing, non-regular and
# escaping siblings never served; conditionals, ranges and HEAD on the
# variant the client gets.

load helpers

setup() {
	setup_tine_dir
	local t
	for t in brotli zstd gzip; do
		command -v "$t" >/dev/null || skip "no $t command"
	done
	mkdir -p "$T/www"
	# Text that compresses: a CSS file of 40 KiB.
	for i in $(seq 1 800); do
		printf '.c%d { color: #%06x; margin: %dpx; }\n' "$i" "$i" "$i"
	done >"$T/www/a.css"
	(cd "$T/www" && gzip -k -9 a.css && brotli -k a.css &&
	    zstd -q -k a.css)
	# Siblings must be no older than the file.
	touch -d '-1 min' "$T/www/a.css"
}

teardown() {
	teardown_tine
}

# get AE [CURL_ARGS...]: GET /a.css with Accept-Encoding AE; head in
# $T/head, body in $T/body, status in CODE.
get() {
	CODE=$(req /a.css -H "Accept-Encoding: $1" "${@:2}" -D "$T/head" \
	    -o "$T/body" -w '%{http_code}')
	tr -d '\r' <"$T/head" >"$T/head.n"
	mv "$T/head.n" "$T/head"
}

has() {
	grep -qix "$1" "$T/head"
}

@test "compress: precompressed off sends the file as it is" {
	write_conf
	start_tine
	get "br, zstd, gzip"
	[ "$CODE" = 200 ]
	! grep -qi '^Content-Encoding' "$T/head" || false
	cmp "$T/body" "$T/www/a.css"
}

@test "compress: each sibling decompresses to the file, chosen by weight" {
	write_conf "precompressed on"
	start_tine
	get "gzip, deflate, br, zstd"
	[ "$CODE" = 200 ] && has 'Content-Encoding: br'
	brotli -dc "$T/body" | cmp - "$T/www/a.css"
	get "gzip, zstd"
	has 'Content-Encoding: zstd'
	zstd -dqc "$T/body" | cmp - "$T/www/a.css"
	get "gzip;q=1, br;q=0.5"
	has 'Content-Encoding: gzip'
	gzip -dc "$T/body" | cmp - "$T/www/a.css"
	has 'Content-Type: text/css; charset=utf-8'
	has 'Vary: Accept-Encoding'
	has "Content-Length: $(stat -c %s "$T/www/a.css.gz")"
	get "br;q=0, zstd;q=0, gzip;q=0"
	! grep -qi '^Content-Encoding' "$T/head" || false
	has 'Vary: Accept-Encoding'
	cmp "$T/body" "$T/www/a.css"
	get ""
	cmp "$T/body" "$T/www/a.css"
}

@test "compress: each variant has its own ETag; 304 and ranges apply to it" {
	write_conf "precompressed on"
	start_tine
	get "gzip"
	local gz_etag id_etag
	gz_etag=$(sed -n 's/^ETag: //Ip' "$T/head")
	get ""
	id_etag=$(sed -n 's/^ETag: //Ip' "$T/head")
	[ -n "$gz_etag" ] && [ "$gz_etag" != "$id_etag" ]
	get "gzip" -H "If-None-Match: $gz_etag"
	[ "$CODE" = 304 ]
	has 'Vary: Accept-Encoding'
	get "" -H "If-None-Match: $gz_etag"
	[ "$CODE" = 200 ]
	get "gzip" -H "Range: bytes=0-9"
	[ "$CODE" = 206 ]
	has "Content-Range: bytes 0-9/$(stat -c %s "$T/www/a.css.gz")"
	head -c 10 "$T/www/a.css.gz" | cmp - "$T/body"
	run -0 req /a.css -I -H 'Accept-Encoding: zstd'
	[[ $output == *"Content-Encoding: zstd"* ]]
	[[ $output == *"Content-Length: $(stat -c %s "$T/www/a.css.zst")"* ]]
}

@test "compress: a stale, missing or non-regular sibling is never served" {
	touch -d '+1 min' "$T/www/a.css"	# newer than every sibling
	cp "$T/www/a.css" "$T/www/c.css"
	mkdir "$T/www/c.css.br"
	mkfifo "$T/www/c.css.zst"
	write_conf "precompressed on"
	start_tine
	get "br, zstd, gzip"
	! grep -qi '^Content-Encoding' "$T/head" || false
	cmp "$T/body" "$T/www/a.css"
	CODE=$(req /c.css -H 'Accept-Encoding: br, zstd' -o "$T/body" \
	    -w '%{http_code}')
	[ "$CODE" = 200 ]
	cmp "$T/body" "$T/www/c.css"
}

@test "compress: a sibling linked outside the root is not served" {
	local out="$T/outside"
	mkdir -p "$out"
	cp "$T/www/a.css" "$T/www/d.css"
	printf 'secret' | gzip >"$out/secret.gz"
	ln -s "$out/secret.gz" "$T/www/d.css.gz"
	touch -d '-1 min' "$T/www/d.css"
	write_conf "precompressed on"
	start_tine
	CODE=$(req /d.css -H 'Accept-Encoding: gzip' -D "$T/head" \
	    -o "$T/body" -w '%{http_code}')
	[ "$CODE" = 200 ]
	! grep -qi '^Content-Encoding' "$T/head" || false
	cmp "$T/body" "$T/www/d.css"
}

@test "compress: a directory's index file gets its own siblings, nothing else" {
	mkdir -p "$T/www/dir"
	cp "$T/www/a.css" "$T/www/dir/index.html"
	gzip -9 -c "$T/www/dir/index.html" >"$T/www/dir/index.html.gz"
	# A decoy named as if it were the directory's sibling.
	printf 'decoy' | gzip >"$T/www/dir/.gz"
	touch -d '-1 min' "$T/www/dir/index.html"
	write_conf "precompressed on"
	start_tine
	CODE=$(req /dir/ -H 'Accept-Encoding: gzip' -D "$T/head" \
	    -o "$T/body" -w '%{http_code}')
	[ "$CODE" = 200 ]
	tr -d '\r' <"$T/head" | grep -qix 'Content-Encoding: gzip'
	tr -d '\r' <"$T/head" | grep -qix 'Content-Type: text/html; charset=utf-8'
	gzip -dc "$T/body" | cmp - "$T/www/dir/index.html"
}
