#!/usr/bin/env bats
# pages.bats: the pages a person reads (the default site, a directory
# listing, the error pages) are small, well-formed HTML5 that load nothing
# from elsewhere, and headless Chromium draws them at a phone and a desktop
# width: the parsed DOM holds the right title and links (names shown as
# escaped text, hrefs percent-encoded), and at phone width the viewport
# meta holds and nothing is wider than the screen (test/tools/pages.py).
# Screenshots go to the test's temporary directory, and are copied to
# $TINE_SHOTS when that names a directory, to be looked at; never into
# the repository.

load helpers

# Seconds one chromium run may take, start-up included.
: "${CHROME_TIMEOUT:=60}"
CHROMIUM=${TINE_CHROMIUM:-chromium}
PAGES=$BATS_TEST_DIRNAME/tools/pages.py
REPO=$BATS_TEST_DIRNAME/..
PHONE=(375 812)
DESKTOP=(1280 800)
# Nothing of the machine's: no proxy, sync, extensions or first-run
# pages; scrollbars left out of screenshots.
CHROME_FLAGS=(--headless --no-sandbox --disable-gpu --no-first-run
    --no-proxy-server --disable-extensions --disable-sync
    --disable-background-networking --disable-component-update
    --disable-default-apps --mute-audio --hide-scrollbars)

# The listing's directory entries: printf-style names (no '/'), chosen
# for the escapes they need in a URL and in HTML.
LONG_NAME=$(printf 'L%.0s' {1..251}).txt	# NAME_MAX (255) bytes

setup_file() {
	# Once for the file: can chromium run here at all? Every chromium
	# test skips, saying why, when it cannot.
	local d=$BATS_FILE_TMPDIR/probe
	CHROME_SKIP=
	if ! command -v "$CHROMIUM" >/dev/null 2>&1; then
		CHROME_SKIP="$CHROMIUM is not installed (scripts/deps test installs it)"
	else
		mkdir -p "$d"
		T=$d CHROME_PID=
		if ! chrome "$d/probe.out" --dump-dom \
		    'data:text/html,<p id=probe>ok</p>' ||
		    ! grep -qF '<p id="probe">ok</p>' "$d/probe.out"; then
			CHROME_SKIP="$CHROMIUM cannot run headless here: $(tail -n 3 "$d/probe.out.err" | tr '\n' ' ')"
		fi
		stop_chrome || true
	fi
	export CHROME_SKIP
}

setup() {
	setup_tine_dir
	CHROME_PID=
	W=$T/www
	# The default site as installed, and beside it a directory to list.
	cp "$REPO"/www/* "$W/"
	mkdir -p "$W/list/sub dir" "$T/shots" "$T/home"
	local n
	for n in 'a b.txt' '<b>bold.txt' 'Tom & Jerry.txt' 'a&amp;b.txt' \
	    'héllo wörld ☃.txt' '100%.txt' '#x?y.txt' "\"quote's\".txt" \
	    "$LONG_NAME" .hidden; do
		printf 'x\n' >"$W/list/$n"
	done
	write_conf "autoindex on"
	start_tine
	BASE=http://127.0.0.1:$PORT
}

teardown() {
	local rc=0
	stop_chrome || rc=1
	if [ -n "${TINE_SHOTS:-}" ] && [ -d "$TINE_SHOTS" ] &&
	    compgen -G "$T/shots/*.png" >/dev/null; then
		cp "$T"/shots/*.png "$TINE_SHOTS/"
	fi
	teardown_tine || rc=1
	return "$rc"
}

need_chrome() {
	[ -z "${CHROME_SKIP:-}" ] || skip "$CHROME_SKIP"
}

# shot NAME URL W H: a W x H screenshot of URL as $T/shots/NAME-W.png,
# checked to be a PNG of that size with something drawn on it.
shot() {
	local png=$T/shots/$1-$3.png
	chrome "$T/shot.out" --window-size="$3,$4" --screenshot="$png" "$2"
	[ -s "$png" ] || {
		echo "no screenshot $png of $2" >&2
		return 1
	}
	run -0 --separate-stderr python3 "$PAGES" png "$png" "$3" "$4"
}

# dom URL: chromium's parsed DOM of URL, as facts (pages.py dom) in
# $T/dom.facts.
dom() {
	chrome "$T/dom.html" --dump-dom "$1"
	python3 "$PAGES" dom "$T/dom.html" >"$T/dom.facts"
}

# fact_is KEY VALUE: the DOM fact KEY is VALUE exactly.
fact_is() {
	local got
	got=$(grep "^$1 " "$T/dom.facts" | head -n 1)
	[ "$got" = "$1 $2" ] || {
		echo "DOM $1: want '$2', got '${got#"$1 "}'" >&2
		return 1
	}
}

# no_tag TAG: the DOM has no TAG element.
no_tag() {
	local tags
	tags=" $(grep '^tags ' "$T/dom.facts" | cut -d' ' -f2-) "
	[[ $tags != *" $1 "* ]] || {
		echo "DOM has a <$1> element: $tags" >&2
		return 1
	}
}

# error_page CODE METHOD PATH: saves the body of the error CODE that
# METHOD PATH gets to $T/CODE.html (checked to be that status).
error_page() {
	local code
	code=$(req "$3" -X "$2" -o "$T/$1.html" -w '%{http_code}')
	[ "$code" = "$1" ] || {
		echo "$2 $3: want $1, got $code" >&2
		return 1
	}
}

# The four pages, by name in NAMES and URL[name]. A 405 comes only with
# a method a browser does not navigate with: its body is saved and opened
# as a file (it needs nothing else: the check test proves it loads
# nothing). Loops run over NAMES with `for`, never a counter: Bats' own
# `run` sets a global i.
pages() {
	error_page 405 PUT /index.html
	NAMES=(site list 404 405)
	declare -gA URL=([site]="$BASE/" [list]="$BASE/list/"
	    [404]="$BASE/no/such/page" [405]="file://$T/405.html")
}

@test "every page is small, well-formed HTML5 loading nothing from elsewhere" {
	local p
	req / -o "$T/site.html"
	req /list/ -o "$T/list.html"
	error_page 404 GET /no/such/page
	error_page 405 PUT /index.html
	for p in site list 404 405; do
		run --separate-stderr python3 "$PAGES" check "$T/$p.html"
		[ "$status" = 0 ] && [ -z "$output$stderr" ] || {
			printf '%s\n' "$output" "$stderr" >&2
			return 1
		}
	done
	# A second opinion where Debian's tidy is at hand: it knows HTML5
	# (5.6) and warns on what browsers forgive. No network either way.
	if command -v tidy >/dev/null 2>&1; then
		for p in site list 404 405; do
			run tidy -q -e "$T/$p.html"
			[ "$status" = 0 ] || {
				echo "tidy on the $p page (status $status):" >&2
				printf '%s\n' "$output" >&2
				return 1
			}
		done
	fi
}

@test "chromium draws each page at phone and desktop width" {
	need_chrome
	local p
	pages
	for p in "${NAMES[@]}"; do
		shot "$p" "${URL[$p]}" "${PHONE[@]}"
		shot "$p" "${URL[$p]}" "${DESKTOP[@]}"
	done
	[ "$(find "$T/shots" -name '*.png' -size +2k | wc -l)" -eq 8 ]
}

@test "chromium's DOM of the listing: names as escaped text, hrefs encoded" {
	need_chrome
	dom "$BASE/list/"
	fact_is title 'Index of /list/'
	# Directories first, then files, byte order; no dot-files. A link's
	# text is the name itself: "<b>" and "&amp;" arrive as text.
	diff -u - <(grep '^link ' "$T/dom.facts") <<EOF
link ../	../
link ./sub%20dir/	sub dir/
link ./%22quote's%22.txt	"quote's".txt
link ./%23x%3Fy.txt	#x?y.txt
link ./100%25.txt	100%.txt
link ./%3Cb%3Ebold.txt	<b>bold.txt
link ./$LONG_NAME	$LONG_NAME
link ./Tom%20&%20Jerry.txt	Tom & Jerry.txt
link ./a%20b.txt	a b.txt
link ./a&amp;b.txt	a&amp;b.txt
link ./h%C3%A9llo%20w%C3%B6rld%20%E2%98%83.txt	héllo wörld ☃.txt
EOF
	no_tag b
	# Each href leads to its file.
	[ "$(req "/list/%3Cb%3Ebold.txt")" = x ]
	[ "$(req "/list/h%C3%A9llo%20w%C3%B6rld%20%E2%98%83.txt")" = x ]
	[ "$(req "/list/a&amp;b.txt")" = x ]
}

@test "chromium's DOM of the default site and the error pages: titles" {
	need_chrome
	dom "$BASE/"
	fact_is title 'tine: a pre-forking static-file server'
	dom "$BASE/no/such/page"
	fact_is title '404 Not Found'
	error_page 405 PUT /index.html
	dom "file://$T/405.html"
	fact_is title '405 Method Not Allowed'
}

@test "at phone width every page keeps its viewport and nothing overflows" {
	need_chrome
	local p want= urls=()
	pages
	for p in "${NAMES[@]}"; do
		urls+=("${URL[$p]}")
		want+="${URL[$p]} inner=375 scroll=375"
		want+=" viewport=width=device-width, initial-scale=1 fits=yes"$'\n'
	done
	mkfifo "$T/cdp.in" "$T/cdp.out"
	CHROME_OUT=$T/cdp.log
	CHROME_PIPE=1 chrome_start --remote-debugging-pipe
	run --separate-stderr python3 "$PAGES" --timeout "$CHROME_TIMEOUT" \
	    cdp "$T/cdp.in" "$T/cdp.out" "${PHONE[@]}" \
	    "${urls[@]}"
	[ "$output" = "${want%$'\n'}" ] || {
		echo "want:" >&2
		printf '%s\n' "$want" >&2
		echo "got (status $status):" >&2
		printf '%s\n' "$output" "$stderr" >&2
		return 1
	}
	[ "$status" = 0 ]
	# It closed the browser: chromium ends by itself.
	chrome_wait
}
