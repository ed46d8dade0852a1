#!/usr/bin/env bats
# valgrind.bats: tine under Valgrind's memcheck, master and workers (each
# process writes its own report), over a mix of requests, a reload, a log
# reopen and a graceful stop: no invalid access, no uninitialised use
# and nothing definitely lost, in any process. Skipped without valgrind
# and against a sanitizer build (the two cannot share a process).

load helpers

setup() {
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	setup_tine_dir
	if ldd "$TINE_BIN" 2>/dev/null | grep -qE 'lib(a|ub)san'; then
		skip "$TINE_BIN is a sanitizer build"
	fi
	REAL_BIN=$TINE_BIN
	# start_tine runs $TINE_BIN: a wrapper that execs valgrind, so the
	# master keeps the pid start_tine recorded.
	TINE_BIN=$T/vgtine
	cat >"$TINE_BIN" <<EOF
#!/bin/sh
exec valgrind --trace-children=yes --leak-check=full \\
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=none \\
    --error-exitcode=99 --log-file="$T/vg.%p" "$REAL_BIN" "\$@"
EOF
	chmod +x "$TINE_BIN"
	mkdir "$T/www/dir"
	printf 'a\n' >"$T/www/dir/a.txt"
	head -c 300000 /dev/urandom >"$T/www/big.bin"
}

teardown() {
	teardown_tine
}

# got GLOB: $output matches GLOB, else says what it was.
got() {
	# shellcheck disable=SC2053 # a pattern on purpose
	[[ $output == $1 ]] || {
		echo "want $1, got: $output" >&2
		return 1
	}
}

# mix: one round of requests that goes through every path of a worker:
# files, HEAD, 404, ranges, conditionals, the listing and the redirect,
# errors, bodies, keep-alive, pipelining, HTTP/1.0, a reset mid-response
# and a head that times out.
mix() {
	local u="http://127.0.0.1:$PORT" etag
	run -0 req / "$u/big.bin" "$u/dir/" "$u/nope" -o /dev/null -o /dev/null \
	    -o /dev/null -o /dev/null -w '%{http_code} '
	got "200 200 200 404 "
	run -0 req /dir -o /dev/null -w '%{http_code}'
	got "301"
	run -0 req / -I -w '%{http_code}'
	got "*200"
	run -0 req /big.bin -r 1000-1999 -o /dev/null -w '%{http_code} %{size_download}'
	got "206 1000"
	run -0 req /big.bin -r 400000- -o /dev/null -w '%{http_code}'
	got "416"
	etag=$(req / -I | tr -d '\r' | awk -F': ' 'tolower($1) == "etag" { print $2 }')
	run -0 req / -H "If-None-Match: $etag" -o /dev/null -w '%{http_code}'
	got "304"
	run -0 req / -H 'If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT' \
	    -H 'If-Match: "nope"' -o /dev/null -w '%{http_code}'
	got "412"
	run -0 req / -X POST -d 'some body' -o /dev/null -w '%{http_code}'
	got "405"
	run -0 req / -X OPTIONS -o /dev/null -w '%{http_code}'
	got "204"
	run -0 raw -c -e 'BREW / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'
	got "*501*"
	run -0 raw -c -e 'GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nbody\r\n0\r\nT: v\r\n\r\nGET /dir/a.txt HTTP/1.0\r\n\r\n'
	got "*200*200*"
	run -0 raw -c -e 'GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /nope HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'
	got "*200*404*"
	run -0 raw -c -m -e 'HEAD / HTTP/1.1\r\nHost: h\r\n\r\nHEAD /nope HTTP/1.0\r\n\r\n'
	got "*200*404*"
	run -0 raw -c -e 'GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: h\r\n\r\nGET /a%00 HTTP/1.1\r\nHost: h\r\n\r\n'
	got "*400*"
	run -0 raw -c -e 'GARBAGE\r\n\r\n'
	got "*400*"
	run -0 raw -c -e "GET /$(printf '%*s' 9000 '' | tr ' ' a) HTTP/1.1\r\nHost: h\r\n\r\n"
	got "*414*"
	run -0 raw -c -e 'GET / HTTP/2.0\r\nHost: h\r\n\r\n'
	got "*505*"
	run -0 raw -c -e 'GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n'
	got "*200*"
	# A partial head: 408 after header_timeout.
	run -0 raw -c -e 'GET / HTTP/1.1\r\nHost:'
	got "*408*"
	python3 "$BATS_TEST_DIRNAME/tools/hostile.py" reset -p "$PORT" -n 2 \
	    -u /big.bin -w 10
}

@test "memcheck: master and workers over a request mix, a reload and a stop: no errors, no leaks" {
	local f pid old master
	local -A role=()
	# Valgrind makes system calls of its own and knows no Landlock: the
	# seccomp filter would kill it. It checks memory here; sandbox.bats
	# checks the sandbox.
	write_conf "workers 1" "autoindex on" "header_timeout 1" "sandbox off"
	TINE_WAIT_TIMEOUT=30 start_tine
	TINE_WAIT_TIMEOUT=30 wait_workers 1
	master=$TINE_PID
	role[$master]=master
	old=$(worker_pids)
	role[$old]=worker
	mix
	kill -USR1 "$TINE_PID"
	# A reload: the master reads the config again and swaps it; the
	# old worker retires, a new one serves the next round.
	kill -HUP "$TINE_PID"
	new_worker() {
		local w
		w=$(worker_pids)
		[ -n "$w" ] && [ "$w" != "$old" ] && [ "$(wc -l <<<"$w")" -eq 1 ]
	}
	TINE_WAIT_TIMEOUT=30 wait_for new_worker
	role[$(worker_pids)]=worker
	mix
	stop_tine
	# valgrind exits with 99 when it found errors in the master.
	[ "$TINE_STATUS" = 0 ]
	! grep -E 'exited (on signal|with status)|reload failed' \
	    "$T/error.log" || false
	[ "$(grep -c '"GET ' "$T/access.log")" -gt 30 ]
	for f in "$T"/vg.*; do
		pid=${f##*.}
		echo "$f: ${role[$pid]:-probe}"
		# Every process: no invalid access, no uninitialised use.
		grep -q 'ERROR SUMMARY: 0 errors' "$f" || {
			cat "$f" >&2
			return 1
		}
		# The reload's root probe is a child that only makes system
		# calls and exits: the new config, which its parent holds in a
		# register, looks lost to it. Leaks count in master and workers.
		[ -n "${role[$pid]:-}" ] || {
			grep -q "Parent PID: $master\$" "$f"
			continue
		}
		if grep -qE '(definitely|indirectly) lost: [1-9]' "$f"; then
			cat "$f" >&2
			return 1
		fi
		unset "role[$pid]"
	done
	# Every process of the run wrote its report.
	[ "${#role[@]}" -eq 0 ] || {
		echo "no report from: ${!role[*]}" >&2
		return 1
	}
}
