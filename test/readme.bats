#!/usr/bin/env bats
# readme.bats: the three complete configs of README "Sites and rules"
# (issue 15), taken from README.md as printed: the fenced block after
# each `<!-- example: NAME -->` marker. The one change made is the one
# the README names: the ports 80 and 443 of the listen lines become free
# ports. Each test then checks what the README says the config does.

load helpers

setup() {
	setup_tine_dir
	EX=$T/ex
	mkdir -p "$EX"
	TLS_PORT=$(free_port)
	# The examples set no error_log, so tine logs to its stderr: the
	# start and stop lines, and the warning of a start as root without
	# user.
	TINE_STDERR_ALLOW='\[info\] tine\[[0-9]+\]: |\[warn\] tine\[[0-9]+\]: .* sets no user'
}

teardown() {
	teardown_tine
}

need() {
	command -v "$1" >/dev/null 2>&1 ||
		skip "$1 is not installed (Debian package $2)"
}

# use_example NAME: $EX/tine.conf is example NAME with its listen ports
# 80 and 443 changed to $PORT and $TLS_PORT, and nothing else; CONF
# names it.
use_example() {
	local changed
	readme_example "$1" >"$EX/printed.conf" || {
		echo "README.md has no example \"$1\"" >&2
		return 1
	}
	CONF=$EX/tine.conf
	sed -E "/^[[:space:]]*listen[[:space:]]/{
		s/:80([[:space:]]|\$)/:$PORT\\1/
		s/:443([[:space:]]|\$)/:$TLS_PORT\\1/
	}" "$EX/printed.conf" >"$CONF"
	! cmp -s "$EX/printed.conf" "$CONF"
	changed=$(diff "$EX/printed.conf" "$CONF" | grep '^[<>]' |
	    grep -vE '^[<>][[:space:]]+listen[[:space:]]') || true
	[ -z "$changed" ] || {
		echo "more than listen ports changed: $changed" >&2
		return 1
	}
}

# conf_ok: tine -t accepts $CONF (once the files it names are there).
conf_ok() {
	run "$TINE_BIN" -t -f "$CONF"
	[ "$status" = 0 ] || {
		echo "tine -t: status $status: $output" >&2
		return 1
	}
}

# certs NAME: the test CA's certificate NAME as certs/fullchain.pem and
# certs/privkey.pem beside the example.
certs() {
	mkdir -p "$EX/certs"
	cp "$T/$1.pem" "$EX/certs/fullchain.pem"
	cp "$T/$1.key" "$EX/certs/privkey.pem"
}

has() {
	grep -qixF -- "$1: $2" "$T/head" ||
		fail_with "want the field \"$1: $2\""
}

lacks() {
	! grep -qi "^$1:" "$T/head" || fail_with "want no $1 field"
}

# log_user MARK: the third field (the user) of the example's access-log
# line whose request has MARK.
log_user() {
	wait_for grep -qF -- "$1" "$EX/access.log" || return 1
	grep -F -- "$1" "$EX/access.log" | tail -1 | awk '{ print $3 }'
}

@test "README static-https: HTTP redirects to HTTPS, which has its headers" {
	need openssl openssl
	make_ca
	make_cert site 0a example.org www.example.org
	use_example static-https
	certs site
	mkdir -p "$EX/www/assets" "$EX/www/blog" \
	    "$EX/www/.well-known/acme-challenge"
	printf 'home\n' >"$EX/www/index.html"
	printf 'blog\n' >"$EX/www/blog/index.html"
	printf 'app()\n' >"$EX/www/assets/app.3f9c2d.js"
	printf '<p>no such page</p>\n' >"$EX/www/404.html"
	printf 'token-a\n' >"$EX/www/.well-known/acme-challenge/tok"
	conf_ok
	start_tine
	local h
	for h in www.example.org example.org; do
		fetch "http://$h:$PORT/blog/?page=2" \
		    --resolve "$h:$PORT:127.0.0.1"
		[ "$CODE" = 308 ] || fail_with "$h over HTTP"
		has Location "https://$h/blog/?page=2"
	done
	# certbot's challenge is a file, not a redirect.
	fetch "http://example.org:$PORT/.well-known/acme-challenge/tok" \
	    --resolve "example.org:$PORT:127.0.0.1"
	[ "$CODE" = 200 ] && [ "$(cat "$T/body")" = token-a ] ||
		fail_with "the ACME challenge"
	# As a browser follows it.
	run -0 curl -sS --max-time 5 --noproxy '*' -L --cacert "$T/ca/ca.pem" \
	    --resolve "www.example.org:$PORT:127.0.0.1" \
	    --connect-to "www.example.org:443:127.0.0.1:$TLS_PORT" \
	    -w '%{url_effective} %{http_code}' \
	    "http://www.example.org:$PORT/blog/?page=2"
	[ "$output" = $'blog\nhttps://www.example.org/blog/?page=2 200' ]
	sget() {
		fetch "https://www.example.org:$TLS_PORT$1" "${@:2}" \
		    --cacert "$T/ca/ca.pem" \
		    --resolve "www.example.org:$TLS_PORT:127.0.0.1"
	}
	sget /
	[ "$CODE" = 200 ] && [ "$(cat "$T/body")" = home ] || fail_with "/"
	has Cache-Control no-cache
	has Strict-Transport-Security "max-age=63072000"
	has X-Content-Type-Options nosniff
	has Referrer-Policy strict-origin-when-cross-origin
	sget /assets/app.3f9c2d.js
	[ "$CODE" = 200 ] || fail_with "the asset"
	has Cache-Control "public, max-age=31536000, immutable"
	[ "$(grep -ci '^cache-control:' "$T/head")" = 1 ] ||
		fail_with "one Cache-Control"
	has Strict-Transport-Security "max-age=63072000"
	etag=$(grep -i '^etag:' "$T/head" | sed 's/^[^:]*: *//')
	sget /assets/app.3f9c2d.js -H "If-None-Match: $etag"
	[ "$CODE" = 304 ] || fail_with "304"
	has Cache-Control "public, max-age=31536000, immutable"
	sget /blog/
	has Cache-Control no-cache
	sget /nope.html
	[ "$CODE" = 404 ] && cmp -s "$T/body" "$EX/www/404.html" ||
		fail_with "the site's 404 page"
	lacks Cache-Control
	lacks Strict-Transport-Security
	lacks X-Content-Type-Options
	wait_for grep -q '"GET /nope.html HTTP/1.1" 404' "$EX/access.log"
}

@test "README spa: routes get index.html, files stay, /assets/ has real 404s" {
	use_example spa
	mkdir -p "$EX/dist/assets"
	printf '<!doctype html><title>app</title>\n' >"$EX/dist/index.html"
	printf 'icon\n' >"$EX/dist/favicon.ico"
	printf 'app()\n' >"$EX/dist/assets/app.js"
	conf_ok
	start_tine
	fetch /settings/profile
	[ "$CODE" = 200 ] && cmp -s "$T/body" "$EX/dist/index.html" ||
		fail_with "a route"
	has Cache-Control no-cache
	etag=$(grep -i '^etag:' "$T/head" | sed 's/^[^:]*: *//')
	[ -n "$etag" ] || fail_with "an ETag"
	fetch /settings/profile -H "If-None-Match: $etag"
	[ "$CODE" = 304 ] || fail_with "a reload of the page"
	rq -m -e 'HEAD /settings/profile HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	CODE=$(head -1 "$T/head" | cut -d' ' -f2)
	[ "$CODE" = 200 ] && [ ! -s "$T/body" ] || fail_with "HEAD"
	has Content-Length "$(wc -c <"$EX/dist/index.html")"
	fetch /favicon.ico
	[ "$CODE" = 200 ] && [ "$(cat "$T/body")" = icon ] ||
		fail_with "/favicon.ico"
	fetch /assets/app.js
	[ "$CODE" = 200 ] && [ "$(cat "$T/body")" = "app()" ] ||
		fail_with "/assets/app.js"
	has Cache-Control "public, max-age=31536000, immutable"
	fetch /assets/missing.js
	[ "$CODE" = 404 ] || fail_with "/assets/missing.js"
	lacks Cache-Control
	[ "$(req /)" = "$(cat "$EX/dist/index.html")" ]
}

@test "README private: /team/ wants a password and the right address" {
	need openssl openssl
	need htpasswd apache2-utils
	need mkpasswd whois
	make_ca
	make_cert site 0c
	use_example private
	certs site
	mkdir -p "$EX/www/team"
	printf 'public\n' >"$EX/www/index.html"
	printf 'team\n' >"$EX/www/team/index.html"
	# As the README makes it, with the passwords on the command line.
	htpasswd -cbB "$EX/team.htpasswd" alice 'alice pw' 2>/dev/null
	printf 'bob:%s\n' "$(mkpasswd -m yescrypt 'bob pw')" >>"$EX/team.htpasswd"
	conf_ok
	start_tine
	tget() {
		fetch "https://localhost:$TLS_PORT$1" "${@:2}" \
		    --cacert "$T/ca/ca.pem" \
		    --resolve "localhost:$TLS_PORT:127.0.0.1"
	}
	tget /
	[ "$CODE" = 200 ] && [ "$(cat "$T/body")" = public ] || fail_with "/"
	tget "/team/?nopw"
	[ "$CODE" = 401 ] || fail_with "no password"
	has WWW-Authenticate 'Basic realm="Team pages", charset="UTF-8"'
	tget "/team/?wrong" -u 'alice:bob pw'
	[ "$CODE" = 401 ] || fail_with "a wrong password"
	tget "/team/?alice" -u 'alice:alice pw'
	[ "$CODE" = 200 ] && [ "$(cat "$T/body")" = team ] ||
		fail_with "alice"
	has Cache-Control "private, no-store"
	tget "/team/?bob" -u 'bob:bob pw'
	[ "$CODE" = 200 ] || fail_with "bob (yescrypt)"
	[ "$(log_user '?alice')" = alice ]
	[ "$(log_user '?bob')" = bob ]
	[ "$(log_user '?nopw')" = - ]
	grep -q '^127\.0\.0\.1 - alice \[' "$EX/access.log"
	# Another address, even with the password: 403.
	tget "/team/" -u 'alice:alice pw' --interface 127.0.0.2
	[ "$CODE" = 403 ] || fail_with "from 127.0.0.2"
	tget / --interface 127.0.0.2
	[ "$CODE" = 200 ] || fail_with "the public part from 127.0.0.2"
}
