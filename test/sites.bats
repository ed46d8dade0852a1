#!/usr/bin/env bats
# sites.bats: server and location blocks (issue 15, SPEC "Sites, rules,
# TLS, compression"): routing by Host among the sites of a listener
# (exact names, wildcards, the default site), per-site listen, root,
# index, autoindex and access_log, locations with their own root, the
# errors of the block grammar, tine -T's round trip, certificates chosen
# by SNI and 421 for a Host another certificate serves, and reloads that
# change sites and certificates without a failed request.

load helpers

setup() {
	setup_tine_dir
	for s in a b c wild deep assets other; do
		mkdir -p "$T/$s"
		printf '%s\n' "$s" >"$T/$s/index.html"
	done
	WRITE_CONF_SKIP="root"
}

teardown() {
	teardown_tine
}

# host NAME [PATH] [PORT]: the body of PATH asked for with Host: NAME.
host() {
	req "http://127.0.0.1:${3:-$PORT}${2:-/}" -H "Host: $1"
}

# two_sites [LINE...]: a top-level root (a) and three sites on $PORT.
two_sites() {
	write_conf "root a" "$@" \
	    "server b.test www.b.test {" "	root b" "}" \
	    "server *.wild.test {" "	root wild" "}" \
	    "server *.deep.wild.test {" "	root deep" "}"
}

@test "sites: exact names, the default site, port, trailing dot and case" {
	write_conf "server a.test {" "	root a" "}" \
	    "server b.test www.b.test {" "	root b" "}"
	start_tine
	[ "$(host a.test)" = a ]
	[ "$(host b.test)" = b ]
	[ "$(host www.b.test)" = b ]
	[ "$(host B.Test)" = b ]
	[ "$(host b.test.)" = b ]
	[ "$(host "b.test:$PORT")" = b ]
	[ "$(host "WWW.B.TEST.:80")" = b ]
	# Unknown names, an IP literal and HTTP/1.0 without Host: the first.
	[ "$(host nowhere.test)" = a ]
	[ "$(host 127.0.0.1)" = a ]
	[ "$(host '[::1]:80')" = a ]
	[ "$(req / --http1.0 -H 'Host:')" = a ]
}

@test "sites: wildcards match any depth below, not the apex; longest wins" {
	two_sites
	start_tine
	[ "$(host x.wild.test)" = wild ]
	[ "$(host x.y.z.wild.test)" = wild ]
	[ "$(host wild.test)" = b ]		# the apex: the default
	[ "$(host x.deep.wild.test)" = deep ]	# longer suffix
	[ "$(host deep.wild.test)" = wild ]
	[ "$(host a.b.deep.wild.test)" = deep ]
	[ "$(host b.test)" = b ]		# exact before any wildcard
}

@test "sites: an implicit site is the whole config when there is no block" {
	write_conf "root a"
	start_tine
	[ "$(host anything.test)" = a ]
	[ "$(host '')" = a ]
}

@test "sites: two sites on different listeners; the master binds each once" {
	local p2
	p2=$(free_port)
	write_conf "root a" \
	    "server a.test {" "	root a" "}" \
	    "server b.test {" "	listen 127.0.0.1:$p2" "	root b" "}" \
	    "server c.test {" "	listen 127.0.0.1:$p2" \
	    "	listen 127.0.0.1:$PORT" "	root c" "}"
	start_tine
	# On $PORT: a.test (top-level listen) and c.test; b.test is not.
	[ "$(host a.test)" = a ]
	[ "$(host b.test)" = a ]
	[ "$(host c.test)" = c ]
	# On $p2: b.test first, so b is the default there.
	[ "$(host b.test / "$p2")" = b ]
	[ "$(host c.test / "$p2")" = c ]
	[ "$(host a.test / "$p2")" = b ]
	[ "$(listen_socks "$PORT" | wc -l)" -eq 1 ]
	[ "$(listen_socks "$p2" | wc -l)" -eq 1 ]
	run -0 "$TINE_BIN" -T -f "$CONF"
	[[ $output == *$'server b.test {\n\tlisten 127.0.0.1:'"$p2"$'\n'* ]]
	[[ $output == *$'server c.test {\n\tlisten 127.0.0.1:'"$p2"$'\n\tlisten 127.0.0.1:'"$PORT"$'\n'* ]]
}

@test "sites: per-site index and autoindex, inherited from the top" {
	mkdir -p "$T/b/d" "$T/a/d"
	printf 'home\n' >"$T/b/home.htm"
	printf 'x\n' >"$T/a/d/f"
	printf 'y\n' >"$T/b/d/g"
	write_conf "root a" "autoindex on" \
	    "server a.test {" "}" \
	    "server b.test {" "	root b" "	index home.htm" \
	    "	autoindex off" "}"
	start_tine
	[ "$(host b.test /)" = home ]
	[ "$(host a.test /)" = a ]
	fetch /d/ -H "Host: a.test"
	[ "$CODE" = 200 ] && grep -q '>f<' "$T/body" || fail_with "listing"
	fetch /d/ -H "Host: b.test"
	[ "$CODE" = 403 ] || fail_with "b has autoindex off"
}

@test "sites: each site's access log gets its lines; USR1 reopens each" {
	write_conf --no-default access_log "access_log $T/top.log" \
	    "root a" \
	    "server a.test {" "}" \
	    "server b.test {" "	root b" "	access_log $T/b.log" "}" \
	    "server c.test {" "	root c" "	access_log $T/b.log" "}"
	start_tine
	host a.test /?one >/dev/null
	host b.test /?two >/dev/null
	host c.test /?three >/dev/null
	host a.test /?four >/dev/null
	wait_for grep -q 'four' "$T/top.log"
	wait_for grep -q 'three' "$T/b.log"
	grep -q '?one' "$T/top.log" && grep -q '?four' "$T/top.log"
	! grep -q '?two\|?three' "$T/top.log"
	grep -q '?two' "$T/b.log" && grep -q '?three' "$T/b.log"
	! grep -q '?one\|?four' "$T/b.log"
	mv "$T/top.log" "$T/top.log.1"
	mv "$T/b.log" "$T/b.log.1"
	kill -USR1 "$TINE_PID"
	wait_for test -e "$T/top.log"
	wait_for test -e "$T/b.log"
	host a.test /?five >/dev/null
	host b.test /?six >/dev/null
	wait_for grep -q 'five' "$T/top.log"
	wait_for grep -q 'six' "$T/b.log"
}

@test "locations: own root, first match in file order, top-level fallback" {
	mkdir -p "$T/assets/assets/x" "$T/other/assets/x" "$T/other/img"
	printf 'top-assets\n' >"$T/assets/assets/x/f"
	printf 'site-assets\n' >"$T/other/assets/x/f"
	printf 'img\n' >"$T/other/img/p"
	printf 'b-img\n' >"$T/b/p"
	write_conf "root a" \
	    "location /img/* {" "	root other" "}" \
	    "location /assets/* {" "	root assets" "}" \
	    "server b.test {" "	root b" \
	    "	location /assets/x/* {" "		root other" "	}" \
	    "	location /assets/* {" "		root c" "	}" "}" \
	    "server a.test {" "}"
	start_tine
	# The site's first match wins over its second and the top level's.
	[ "$(host b.test /assets/x/f)" = site-assets ]
	# A path no site location matches: the first top-level one.
	[ "$(host b.test /img/p)" = img ]
	[ "$(host a.test /assets/x/f)" = top-assets ]
	[ "$(host a.test /)" = a ]
}

@test "locations: matched on the decoded, normalised path" {
	mkdir -p "$T/assets/assets"
	printf 'secret-of-a\n' >"$T/a/x"
	printf 'asset\n' >"$T/assets/assets/x"
	write_conf "root a" "location /assets/* {" "	root assets" "}"
	start_tine
	[ "$(req /%61ssets/x)" = asset ]
	[ "$(req /assets/./x)" = asset ]
	# ".." leaves the glob's tree: the site root serves, not the location.
	[ "$(req /assets/../x --path-as-is)" = secret-of-a ]
	[ "$(req /assets/%2e%2e/x --path-as-is)" = secret-of-a ]
	[ "$(req /nothing/../assets/x --path-as-is)" = asset ]
}

@test "blocks: errors inside blocks name FILE:LINE" {
	printf 'root a\nserver a.test {\n\troot a\n' >"$CONF"
	run -1 "$TINE_BIN" -t -f "$CONF"
	[[ $output == *"$CONF:2: server block is not closed"* ]]
	printf 'root a\nlocation /x {\n' >"$CONF"
	run -1 "$TINE_BIN" -t -f "$CONF"
	[[ $output == *"$CONF:2: location block is not closed"* ]]
	printf 'root a\n}\n' >"$CONF"
	run -1 "$TINE_BIN" -t -f "$CONF"
	[[ $output == *"$CONF:2: \"}\" without a block to close"* ]]
	printf 'root a\nserver a {\n\tlocation /x {\n\t\tlocation /y {\n\t\t}\n\t}\n}\n' >"$CONF"
	run -1 "$TINE_BIN" -t -f "$CONF"
	[[ $output == *"$CONF:4: locations do not nest (location open since line 3)"* ]]
	printf 'root a\nserver a {\n\tworkers 2\n\tstatus_path /s\n}\nlocation /x {\n\taccess_log off\n}\n' >"$CONF"
	run -1 "$TINE_BIN" -t -f "$CONF"
	[[ $output == *"$CONF:3: \"workers\" is not allowed here"* ]]
	[[ $output == *"$CONF:4: \"status_path\" is not allowed here"* ]]
	[[ $output == *"$CONF:7: \"access_log\" is not allowed here"* ]]
	printf 'root a\nserver a {\n\tserver b {\n\t}\n}\n' >"$CONF"
	run -1 "$TINE_BIN" -t -f "$CONF"
	[[ $output == *"$CONF:3: a server block cannot be inside another block"* ]]
	printf 'root a\nserver a\n} x\nroot a {\nserver bad_name! {\n}\n' >"$CONF"
	run -1 "$TINE_BIN" -t -f "$CONF"
	[[ $output == *"$CONF:2: server needs \"{\" as the last word of its line"* ]]
	[[ $output == *"$CONF:3: \"}\" must stand alone on its line"* ]]
	[[ $output == *"$CONF:4: \"root\" does not open a block"* ]]
	[[ $output == *"$CONF:5: server name \"bad_name!\" is not a host name"* ]]
	printf 'root a\nserver a.test {\n\troot a\n\troot b\n}\nserver A.test {\n}\n' >"$CONF"
	run -1 "$TINE_BIN" -t -f "$CONF"
	[[ $output == *"$CONF:4: duplicate \"root\" (first on line 3)"* ]]
	[[ $output == *"$CONF:6: server name \"a.test\" is on two sites"* ]]
}

@test "blocks: tine -T prints blocks and inherited values, and reads back" {
	write_conf "root a" "index i.html index.html" "autoindex on" \
	    "location /assets/* {" "	root assets" "}" \
	    "server a.test *.a.test {" "	location \"/x y/*\" {" \
	    "		autoindex off" "	}" "}" \
	    "server b.test {" "	root b" "	index b.html" "}"
	run -0 --separate-stderr "$TINE_BIN" -T -f "$CONF"
	printf '%s\n' "$output" >"$T/dump1.conf"
	[[ $output == *$'location /assets/* {\n\troot '"$T"$'/assets\n}\n'* ]]
	[[ $output == *$'server a.test *.a.test {\n\troot '"$T"$'/a\n'* ]]
	[[ $output == *$'\tindex i.html index.html\n\tautoindex on\n\tprecompressed off\n\tcompress off\n\tlocation "/x y/*" {\n\t\troot '"$T"$'/a\n'* ]]
	[[ $output == *$'\t\tautoindex off\n\t\tprecompressed off\n\t\tcompress off\n\t}\n}\n'* ]]
	[[ $output == *$'server b.test {\n\troot '"$T"$'/b\n\taccess_log '* ]]
	run -0 --separate-stderr "$TINE_BIN" -T -f "$T/dump1.conf"
	[ "$output" = "$(cat "$T/dump1.conf")" ]
}

@test "blocks: a config without blocks prints as before" {
	write_conf "root a"
	run -0 "$TINE_BIN" -T -f "$CONF"
	[[ $output != *server* && $output != *location* ]]
	[[ $output == *$'\nroot '"$T"$'/a\n'* ]]
}

# tls_sites: certificates for a.test (and www.a.test) and b.test, and a
# config with both sites on one TLS listener; a.test first.
tls_sites() {
	command -v openssl >/dev/null || skip "no openssl command"
	make_ca
	make_cert a 0a a.test www.a.test
	make_cert b 0b b.test
	write_conf --no-default listen "listen 127.0.0.1:$PORT tls" \
	    "root a" "tls_certificate a.pem" "tls_key a.key" "$@"
}

# tget NAME [PATH] [CURL_ARGS...]: HTTPS to NAME on $PORT, SNI NAME.
tget() {
	curl -sS --max-time 5 --noproxy '*' --cacert "$T/ca/ca.pem" \
	    --resolve "$1:$PORT:127.0.0.1" "${@:3}" "https://$1:$PORT${2:-/}"
}

# subject [SERVERNAME]: the CN of the certificate served (no SNI without
# an argument).
subject() {
	local sni=(-noservername)
	[ -z "${1:-}" ] || sni=(-servername "$1")
	timeout 10 openssl s_client -connect "127.0.0.1:$PORT" "${sni[@]}" \
	    </dev/null 2>/dev/null | openssl x509 -noout -subject -nameopt RFC2253
}

subject_is() {
	[ "$(subject "$1")" = "$2" ]
}

@test "tls: SNI chooses each site's certificate; no SNI gets the default" {
	tls_sites "server a.test www.a.test {" "}" \
	    "server b.test {" "	root b" "	tls_certificate b.pem" \
	    "	tls_key b.key" "}"
	start_tine
	[ "$(tget a.test)" = a ]
	[ "$(tget www.a.test)" = a ]
	[ "$(tget b.test)" = b ]
	[ "$(subject b.test)" = "subject=CN=b.test" ]
	[ "$(subject a.test)" = "subject=CN=a.test" ]
	[ "$(subject unknown.test)" = "subject=CN=a.test" ]
	[ "$(subject)" = "subject=CN=a.test" ]
}

@test "tls: a Host another certificate serves is 421; a shared one is not" {
	tls_sites "server a.test {" "}" "server www.a.test {" "	root c" "}" \
	    "server b.test {" "	root b" "	tls_certificate b.pem" \
	    "	tls_key b.key" "}"
	start_tine
	# SNI a.test, Host b.test: b has its own certificate.
	run -0 tget a.test / -H "Host: b.test" -o /dev/null -w '%{http_code}'
	[ "$output" = 421 ]
	run -0 tget b.test / -H "Host: a.test" -o /dev/null -w '%{http_code}'
	[ "$output" = 421 ]
	# www.a.test inherits a's certificate: the same connection serves it.
	run -0 tget a.test / -H "Host: www.a.test"
	[ "$output" = c ]
	# An unknown Host goes to the default (a), whose certificate it is.
	run -0 tget a.test / -H "Host: nowhere.test"
	[ "$output" = a ]
	run -0 tget b.test / -H "Host: b.test"
	[ "$output" = b ]
}

@test "reload: a new site and a new certificate, with no failed request" {
	local i ok=0 fail=0 pid
	tls_sites "server a.test {" "}"
	start_tine
	[ "$(tget a.test)" = a ]
	[ "$(subject b.test)" = "subject=CN=a.test" ]
	(
		for ((i = 0; i < 300; i++)); do
			if [ "$(tget a.test / 2>/dev/null)" = a ]; then
				echo ok
			else
				echo fail
			fi
		done >"$T/loop.out"
	) 3>&- &
	pid=$!
	write_conf --no-default listen "listen 127.0.0.1:$PORT tls" \
	    "root a" "tls_certificate a.pem" "tls_key a.key" \
	    "server a.test {" "}" \
	    "server b.test {" "	root b" "	tls_certificate b.pem" \
	    "	tls_key b.key" "}"
	kill -HUP "$TINE_PID"
	wait_for grep -q 'reload' "$T/error.log"
	wait_for subject_is b.test "subject=CN=b.test"
	[ "$(tget b.test)" = b ]
	# A broken block keeps the running config, with its line.
	printf 'root a\nserver c.test {\n' >>"$CONF"
	kill -HUP "$TINE_PID"
	wait_for grep -q "block is not closed" "$T/error.log"
	grep -q "$CONF:[0-9]*: server block is not closed" "$T/error.log"
	[ "$(tget b.test)" = b ]
	wait "$pid"
	ok=$(grep -c '^ok$' "$T/loop.out")
	fail=$(grep -c '^fail$' "$T/loop.out" || true)
	[ "$ok" -eq 300 ] || { echo "ok=$ok fail=$fail" >&2; return 1; }
}
