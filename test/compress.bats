#!/usr/bin/env bats
# compress.bats: content codings (issue 16, SPEC "Content negotiation"):
# precompressed siblings F.br, F.zst and F.gz chosen by Accept-Encoding,
# each decompressing to the file, sent with the file's type, their own
# ETag, Content-Encoding and Vary; stale, missing, non-regular and
# escaping siblings never served; conditionals, ranges and HEAD on the
# variant the client gets. Headless Chromium (which offers br and zstd
# to 127.0.0.1 as to HTTPS sites, and gzip everywhere) loads a page and
# its stylesheet as the br variant, or with only .gz siblings the gzip
# one: each sibling says something its file does not, and the page shows
# in its DOM which one chromium decoded and applied.

load helpers

# Seconds one chromium run may take, start-up included.
: "${CHROME_TIMEOUT:=60}"
CHROMIUM=${TINE_CHROMIUM:-chromium}
# Nothing of the machine's: no proxy, sync, extensions or first-run
# pages.
CHROME_FLAGS=(--headless --no-sandbox --disable-gpu --no-first-run
    --no-proxy-server --disable-extensions --disable-sync
    --disable-background-networking --disable-component-update
    --disable-default-apps --mute-audio)

setup() {
	setup_tine_dir
	CHROME_PID=
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
	local rc=0
	stop_chrome || rc=1
	teardown_tine || rc=1
	return "$rc"
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

@test "compress: 412 and 416 of a path with siblings say Vary: Accept-Encoding" {
	write_conf "precompressed on"
	start_tine
	get "br" -H 'If-Match: "nope"'
	[ "$CODE" = 412 ]
	has 'Vary: Accept-Encoding'
	get "br" -r 999999-
	[ "$CODE" = 416 ]
	has 'Vary: Accept-Encoding'
	has "Content-Range: bytes \*/$(stat -c %s "$T/www/a.css.br")"
	# Not on an error of another path.
	CODE=$(req /nope -D "$T/head" -o /dev/null -w '%{http_code}')
	[ "$CODE" = 404 ]
	! grep -qi '^Vary' "$T/head" || false
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

@test "compress: a sibling made by brotli -k, its time in whole seconds of the file's, is fresh" {
	rm "$T/www/a.css.br" "$T/www/a.css.zst" "$T/www/a.css.gz"
	touch -d '2026-01-01 12:00:00.75' "$T/www/a.css"
	brotli -k "$T/www/a.css"
	# brotli keeps the second, not the fraction.
	[ "$(stat -c %Y "$T/www/a.css.br")" = "$(stat -c %Y "$T/www/a.css")" ]
	write_conf "precompressed on"
	start_tine
	get "br"
	has 'Content-Encoding: br'
	brotli -dc "$T/body" | cmp - "$T/www/a.css"
	# A second later is stale; so is a sibling of the same second with
	# a time of its own that is older.
	touch -d '2026-01-01 12:00:01.10' "$T/www/a.css"
	sleep 1.1
	get "br"
	! grep -qi '^Content-Encoding' "$T/head" || false
	touch -d '2026-01-01 12:00:01.05' "$T/www/a.css.br"
	sleep 1.1
	get "br"
	! grep -qi '^Content-Encoding' "$T/head" || false
	touch -d '2026-01-01 12:00:01.10' "$T/www/a.css.br"
	sleep 1.1
	get "br"
	has 'Content-Encoding: br'
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

# need_chrome: skip when chromium is missing or cannot run headless here.
need_chrome() {
	chrome_probe
}

# The body's background in each variant of style.css, as
# getComputedStyle gives it back.
declare -gA BG=([identity]='rgb(1, 2, 3)' [br]='rgb(11, 22, 33)'
    [gzip]='rgb(44, 55, 66)')
declare -gA SUFFIX=([br]=br [gzip]=gz)

# page_html CODING: index.html as its CODING variant says it. A script
# after the stylesheet link runs once that has loaded, and writes the
# body's computed background into the DOM.
page_html() {
	cat <<-EOF
	<!doctype html>
	<html lang="en">
	<head>
	<meta charset="utf-8">
	<title>codings</title>
	<link rel="stylesheet" href="style.css">
	</head>
	<body>
	<p id="coding">$1</p>
	<p id="bg"></p>
	<script>
	document.getElementById("bg").textContent =
	    getComputedStyle(document.body).backgroundColor;
	</script>
	</body>
	</html>
	EOF
}

# page_css CODING: style.css as its CODING variant says it; rules that
# match nothing make it long enough to shrink when compressed.
page_css() {
	local i
	printf 'body { background: %s; }\n' "${BG[$1]}"
	for i in $(seq 1 60); do
		printf '.unused%d { margin: %dpx; }\n' "$i" "$i"
	done
}

# encode CODING: stdin compressed with CODING's own command, to stdout.
encode() {
	case $1 in
	br) brotli -c ;;
	gzip) gzip -9 -n -c ;;
	esac
}

# chrome_site CODING: www/index.html and www/style.css, each with a
# CODING sibling compressed from its CODING text, not from the file's.
# A sibling's size differs from its file's, so the access log's byte
# count tells which one was sent.
chrome_site() {
	local f w=$T/www
	page_html identity >"$w/index.html"
	page_css identity >"$w/style.css"
	page_html "$1" | encode "$1" >"$w/index.html.${SUFFIX[$1]}"
	page_css "$1" | encode "$1" >"$w/style.css.${SUFFIX[$1]}"
	# Siblings must be no older than the file.
	touch -d '-1 min' "$w/index.html" "$w/style.css"
	for f in index.html style.css; do
		[ "$(stat -c %s "$w/$f")" != \
		    "$(stat -c %s "$w/$f.${SUFFIX[$1]}")" ] || {
			echo "$f and its $1 sibling have one size" >&2
			return 1
		}
	done
}

# chrome_decoded CODING: chromium's DOM of / shows the page's CODING
# text and the background of the CODING stylesheet.
chrome_decoded() {
	local want
	chrome "$T/dom.html" --dump-dom "http://127.0.0.1:$PORT/"
	for want in "<p id=\"coding\">$1</p>" "<p id=\"bg\">${BG[$1]}</p>"; do
		grep -qF "$want" "$T/dom.html" || {
			echo "chromium's DOM lacks '$want'; it is:" >&2
			cat "$T/dom.html" >&2
			return 1
		}
	done
}

# logged_200 PATH FILE: the access log has a GET of PATH answered 200
# with exactly FILE's size in body bytes (it is flushed within a second).
logged_200() {
	local line
	line="\"GET $1 HTTP/1.1\" 200 $(stat -c %s "$2") "
	wait_for grep -qF "$line" "$T/access.log" || {
		echo "no access log line with '$line'; the log:" >&2
		cat "$T/access.log" >&2
		return 1
	}
}

@test "compress: chromium loads a page and its CSS as their br siblings" {
	need_chrome
	chrome_site br
	write_conf "precompressed on"
	start_tine
	chrome_decoded br
	logged_200 / "$T/www/index.html.br"
	logged_200 /style.css "$T/www/style.css.br"
}

@test "compress: chromium loads a page and its CSS as their gzip siblings" {
	need_chrome
	chrome_site gzip
	write_conf "precompressed on"
	start_tine
	chrome_decoded gzip
	logged_200 / "$T/www/index.html.gz"
	logged_200 /style.css "$T/www/style.css.gz"
}

# made_br PATH: a GET of PATH accepting br gets tine's br variant.
made_br() {
	[ "$(req "$1" -H 'Accept-Encoding: br' -D - -o /dev/null |
	    tr -d '\r' | grep -i '^Content-Encoding:' | cut -d' ' -f2)" = br ]
}

# variant_br FILE: the br variant compress made of FILE, by its name
# (device and inode of FILE, in hexadecimal).
variant_br() {
	printf '%s/cache/v-%x-%x-%x-' "$T" "$(stat -c %d "$1")" \
	    "$(stat -c %i "$1")" "$(stat -c %s "$1")"
}

@test "compress: chromium loads a page and its CSS as the br variants compress made" {
	local f v
	need_chrome
	page_html identity >"$T/www/index.html"
	page_css identity >"$T/www/style.css"
	write_conf "compress on" "compress_cache $T/cache" \
	    "compress_min_size 100"
	start_tine
	wait_for made_br /
	wait_for made_br /style.css
	sleep 1.1	# every worker has looked for the variants
	chrome_decoded identity
	# The bytes chromium got are those of each file's br variant.
	for f in / /style.css; do
		v=$(variant_br "$T/www/${f#/}")
		[ "$f" = / ] && v=$(variant_br "$T/www/index.html")
		v=$(ls "$v"*.br)
		wait_for logged_by_chrome "\"GET $f HTTP/1.1\" 200 $(stat -c \
		    %s "$v") "
	done
}

# logged_by_chrome TEXT: an access log line with TEXT, from chromium
# (the warm-up requests above were curl's).
logged_by_chrome() {
	grep -F "$1" "$T/access.log" | grep -q 'HeadlessChrome'
}
