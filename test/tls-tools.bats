#!/usr/bin/env bats
# tls-tools.bats: tine's HTTPS as real tools see it (issue 14).
# - Headless Chromium loads the default site over HTTPS, trusting the
#   test CA only through a temporary NSS database, and refuses the same
#   certificate with an empty one.
# - testssl.sh audits a TLS listener: no finding of severity MEDIUM or
#   above.
# - The certificate life cycle: pebble (a local ACME server) and certbot
#   in webroot mode; tine answers the http-01 challenge on its plain
#   listener, certbot's deploy hook is `tine -s reload`, a client that
#   trusts only pebble's root sees the issued certificate, and a forced
#   renewal under a client loop loses no request.
# Certificates are made at test time with the openssl command, from a
# throwaway CA. Each test skips, saying why, when its tool cannot be had
# or when this tine cannot listen with TLS.

load helpers

# Seconds one chromium run, the testssl.sh audit and one certbot run may
# take.
: "${CHROME_TIMEOUT:=60}"
: "${TESTSSL_TIMEOUT:=600}"
: "${CERTBOT_TIMEOUT:=120}"
# Requests the renewal's client loop makes at most.
: "${LOOP_MAX:=20000}"
CHROMIUM=${TINE_CHROMIUM:-chromium}
REPO=$BATS_TEST_DIRNAME/..
# Debian's openssl command, not one found first on PATH.
OPENSSL=/usr/bin/openssl
[ -x "$OPENSSL" ] || OPENSSL=openssl
# Nothing of the machine's: no proxy, sync, extensions, QUIC or
# first-run pages.
CHROME_FLAGS=(--headless --no-sandbox --disable-gpu --disable-quic
    --no-first-run --no-proxy-server --disable-extensions --disable-sync
    --disable-background-networking --disable-component-update
    --disable-default-apps --mute-audio)

# new_ca DIR: a throwaway CA (ECDSA P-256) as DIR/ca.pem, DIR/ca.key.
new_ca() {
	"$OPENSSL" req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -subj "/CN=tine test CA $$" -days 400 \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign \
	    -keyout "$1/ca.key" -out "$1/ca.pem" 2>"$1/openssl.err"
}

# new_cert DIR NAME: DIR/NAME.pem and DIR/NAME.key (ECDSA P-256), signed
# by DIR's CA for localhost, 127.0.0.1 and ::1, with a random serial.
# Like a public CA's certificate it is valid for 397 days and names a
# CRL: testssl.sh rates a certificate that expires within 60 days, or
# gives no way to check revocation, a finding of MEDIUM or HIGH (so the
# two-day certificates of helpers.bash's make_cert would not do).
new_cert() {
	cat >"$1/$2.ext" <<-EOF
	basicConstraints = critical, CA:FALSE
	keyUsage = critical, digitalSignature
	extendedKeyUsage = serverAuth
	subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
	crlDistributionPoints = URI:http://localhost/tine-test-ca.crl
	EOF
	"$OPENSSL" req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj /CN=localhost -keyout "$1/$2.key" -out "$1/$2.csr" \
	    2>>"$1/openssl.err" &&
	"$OPENSSL" x509 -req -in "$1/$2.csr" -CA "$1/ca.pem" \
	    -CAkey "$1/ca.key" -set_serial "0x$("$OPENSSL" rand -hex 8)" \
	    -days 397 -extfile "$1/$2.ext" -out "$1/$2.pem" 2>>"$1/openssl.err"
}

setup_file() {
	# Once for the file: does this tine take a TLS listener at all?
	local d=$BATS_FILE_TMPDIR/probe
	TLS_SKIP=
	mkdir -p "$d/www"
	if ! command -v "$OPENSSL" >/dev/null 2>&1; then
		TLS_SKIP="openssl is not installed (scripts/deps test installs it)"
	elif ! new_ca "$d" || ! new_cert "$d" server; then
		TLS_SKIP="openssl cannot make a test CA: $(tail -n 2 "$d/openssl.err")"
	else
		printf '%s\n' "listen 127.0.0.1:$(free_port) tls" "root www" \
		    "tls_certificate server.pem" "tls_key server.key" \
		    >"$d/tine.conf"
		# Only a config tine does not understand means "not yet": any
		# other complaint is a failure that start_tine shows.
		if ! "$TINE_BIN" -t -f "$d/tine.conf" >"$d/out" 2>&1 &&
		    grep -qE 'listen takes one value|unknown directive "tls_' \
		    "$d/out"; then
			TLS_SKIP="tine has no TLS listener yet ($(sed -n \
			    '1s/^[^:]*:[0-9]*: //p' "$d/out"))"
		fi
	fi
	export TLS_SKIP
}

setup() {
	setup_tine_dir
	TLS_PORT=$(free_port)
	CHROME_PID=
	PEBBLE_PID=
	LOOP_PID=
	cp "$REPO"/www/* "$T/www/"
}

teardown() {
	local rc=0 pid
	local -a kids=()
	for pid in "$LOOP_PID" "$PEBBLE_PID"; do
		[ -n "$pid" ] || continue
		# The loop's curl in flight too.
		mapfile -t kids < <(descendants "$pid")
		kill -KILL "$pid" "${kids[@]}" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	stop_chrome || rc=1
	teardown_tine || rc=1
	return "$rc"
}

# need CMD: skip the test when CMD is not installed.
need() {
	command -v "$1" >/dev/null 2>&1 ||
		skip "$1 is not installed (scripts/deps test installs it)"
}

need_tls() {
	[ -z "${TLS_SKIP:-}" ] || skip "$TLS_SKIP"
}

# start_tls: the test CA and a server certificate in $T, and tine with a
# plain listener on $PORT and a TLS listener on $TLS_PORT.
start_tls() {
	new_ca "$T" && new_cert "$T" server || {
		cat "$T/openssl.err" >&2
		return 1
	}
	write_conf "listen 127.0.0.1:$TLS_PORT tls" \
	    "tls_certificate $T/server.pem" "tls_key $T/server.key"
	start_tine
}

# served_serial CAFILE: the serial (as `openssl x509 -serial` prints it)
# of the certificate the TLS listener presents to a client that trusts
# CAFILE and checks the name localhost; fails when the chain does not
# verify. Bounded to 5 s.
served_serial() {
	timeout 5 "$OPENSSL" s_client -connect "127.0.0.1:$TLS_PORT" \
	    -servername localhost -verify_hostname localhost -CAfile "$1" \
	    -verify_return_error </dev/null 2>/dev/null |
		"$OPENSSL" x509 -noout -serial
}

# serves_serial CAFILE SERIAL: the TLS listener presents SERIAL.
serves_serial() {
	[ "$(served_serial "$1")" = "$2" ]
}

# need_chrome: skip when chromium is missing or cannot run headless here.
need_chrome() {
	need "$CHROMIUM"
	CHROME_HOME=$T/probe chrome_probe
}

# nssdb HOME [CA]: a new NSS database HOME/.pki/nssdb, where chromium on
# Linux looks, with no password; CA (a PEM file) is added trusted to
# issue server certificates, and nothing else is in it.
nssdb() {
	mkdir -p "$1/.pki/nssdb"
	certutil -d "sql:$1/.pki/nssdb" -N --empty-password
	if [ -n "${2:-}" ]; then
		certutil -d "sql:$1/.pki/nssdb" -A -t C,, -n tine-test-ca \
		    -i "$2"
		certutil -d "sql:$1/.pki/nssdb" -L -n tine-test-ca >/dev/null
	fi
}

@test "chromium loads the default site over HTTPS, the test CA in its NSS db" {
	need_tls
	need certutil
	need_chrome
	start_tls
	nssdb "$T/home" "$T/ca.pem"
	# No --ignore-certificate-errors: the chain is checked against the
	# NSS database alone.
	CHROME_HOME=$T/home chrome "$T/dom.html" --dump-dom \
	    "https://localhost:$TLS_PORT/"
	grep -qF '<title>tine: a pre-forking static-file server</title>' \
	    "$T/dom.html" && grep -qF '<h1>tine</h1>' "$T/dom.html" || {
		echo "no default page in chromium's DOM:" >&2
		head -c 2000 "$T/dom.html" >&2
		tail -n 20 "$T/dom.html.err" >&2
		return 1
	}
	# It came from tine, over the TLS listener.
	wait_for grep -qE '"GET / HTTP/1\.1" 200 .*HeadlessChrome' \
	    "$T/access.log"
}

@test "chromium refuses the same site with an empty NSS database" {
	need_tls
	need certutil
	need_chrome
	start_tls
	nssdb "$T/home"
	# The control for the test above: without the CA the certificate is
	# refused, so there it was the NSS database that made it trusted.
	CHROME_HOME=$T/home chrome "$T/dom.html" --dump-dom \
	    "https://localhost:$TLS_PORT/"
	! grep -qF 'pre-forking' "$T/dom.html" || {
		echo "chromium showed the page without trusting its CA" >&2
		return 1
	}
	grep -qF 'ERR_CERT_AUTHORITY_INVALID' "$T/dom.html.err" || {
		echo "chromium failed otherwise than on the CA:" >&2
		tail -n 20 "$T/dom.html.err" >&2
		return 1
	}
}

# The audit: protocols (-p), cipher categories (-s), forward secrecy
# (-f), the server's preferences (-P), its defaults and certificate (-S)
# and every vulnerability check (-U): about 40 s here. Left out of
# testssl.sh's default run (80 s): client simulation (-c), which only
# informs, and HTTP headers (-h), which rates missing security headers
# (X-Frame-Options and the like) MEDIUM and a missing HSTS LOW. Those
# are a site's policy, for SPEC's `header` directive, not a property of
# the TLS listener.
@test "testssl.sh finds nothing of severity MEDIUM or above" {
	need_tls
	need testssl
	start_tls
	local rc
	timeout "$TESTSSL_TIMEOUT" testssl --quiet --color 0 --warnings off \
	    --openssl "$OPENSSL" --add-ca "$T/ca.pem" --nodns none \
	    --ip 127.0.0.1 --jsonfile "$T/testssl.json" \
	    -p -s -f -P -S -U "https://localhost:$TLS_PORT/" \
	    >"$T/testssl.out" 2>&1 && rc=0 || rc=$?
	[ "$rc" != 124 ] || {
		echo "testssl.sh still running after ${TESTSSL_TIMEOUT}s" >&2
		return 1
	}
	run python3 - "$T/testssl.json" <<'EOF'
import json, sys

findings = json.load(open(sys.argv[1]))
ids = {f["id"] for f in findings}
# Proof that each part of the audit ran: one finding id of each.
for want in ("TLS1_2", "TLS1_3", "cipher_order", "PFS",
             "cert_chain_of_trust", "secure_client_renego", "CRIME_TLS",
             "heartbleed", "ROBOT", "BREACH"):
    if want not in ids:
        print("testssl.sh reported no %s" % want)
bad = [f for f in findings
       if f["severity"] in ("MEDIUM", "HIGH", "CRITICAL")]
for f in bad:
    print("%s %s: %s" % (f["severity"], f["id"], f["finding"]))
EOF
	[ "$status" = 0 ] && [ -z "$output" ] || {
		printf '%s\n' "$output" >&2
		echo "--- testssl.sh (status $rc) ends:" >&2
		tail -n 40 "$T/testssl.out" >&2
		return 1
	}
}

# pebble_config DIR: DIR/pebble.json for pebble on loopback: the ACME
# API on $ACME_PORT, the management API on $MGMT_PORT, both served with
# a certificate of the test CA; http-01 validated on tine's plain port.
pebble_config() {
	cat >"$1/pebble.json" <<-EOF
	{
	  "pebble": {
	    "listenAddress": "127.0.0.1:$ACME_PORT",
	    "managementListenAddress": "127.0.0.1:$MGMT_PORT",
	    "certificate": "$T/server.pem",
	    "privateKey": "$T/server.key",
	    "httpPort": $PORT,
	    "tlsPort": $(free_port),
	    "ocspResponderURL": "",
	    "externalAccountBindingRequired": false
	  }
	}
	EOF
}

# certbot_run ARGS...: certbot with its state under $A and pebble as the
# server, verified against the test CA (no --no-verify-ssl); output to
# $A/certbot.out. Fails, showing its log, when certbot does.
certbot_run() {
	REQUESTS_CA_BUNDLE=$T/ca.pem timeout "$CERTBOT_TIMEOUT" certbot "$@" \
	    --server "https://127.0.0.1:$ACME_PORT/dir" \
	    --config-dir "$A/conf" --work-dir "$A/work" --logs-dir "$A/logs" \
	    --non-interactive >"$A/certbot.out" 2>&1 || {
		echo "certbot $1 failed (status $?):" >&2
		cat "$A/certbot.out" >&2
		tail -n 30 "$A/logs/letsencrypt.log" >&2
		echo "--- pebble:" >&2
		tail -n 20 "$A/pebble.log" >&2
		return 1
	}
}

# hook_ran_clean: certbot's last run ran the deploy hook, and the hook
# (tine -s reload) succeeded and said nothing: certbot itself only warns.
hook_ran_clean() {
	local log=$A/logs/letsencrypt.log
	grep -q 'Running deploy-hook command' "$log" &&
	    ! grep -qE "Hook '?deploy-hook'? (reported|ran with)" "$log" || {
		echo "certbot's deploy hook did not run cleanly:" >&2
		grep -i -A 3 'hook' "$log" >&2
		return 1
	}
}

# start_loop CAFILE: requests / on the TLS listener, one connection each,
# one after the other, trusting CAFILE, until $T/loop.stop exists (or
# $LOOP_MAX requests); one line per request in $T/loop.out, "200" or
# what failed. Outside Bats' shell, whose traps slow a loop down.
start_loop() {
	rm -f "$T/loop.stop"
	bash -c '
		for ((i = 0; i < $1; i++)); do
			[ -e "$2" ] && break
			r=$(curl -sS --max-time 5 --noproxy "*" \
			    --cacert "$3" -o /dev/null -w "%{http_code}" \
			    "$4" 2>&1) && echo "$r" ||
				echo "curl exit $?: ${r//$'"'\\n'"'/ }"
		done' loop "$LOOP_MAX" "$T/loop.stop" "$1" \
	    "https://localhost:$TLS_PORT/" >"$T/loop.out" 3>&- &
	LOOP_PID=$!
}

# loop_passed N: the client loop has made at least N requests.
loop_passed() {
	[ "$(grep -c . "$T/loop.out")" -ge "$1" ]
}

# stop_loop: ends the loop after its request in flight.
stop_loop() {
	local i
	touch "$T/loop.stop"
	for ((i = 0; i < 200; i++)); do
		pid_alive "$LOOP_PID" || break
		sleep 0.05
	done
	wait "$LOOP_PID"
	LOOP_PID=
}

@test "pebble and certbot: issued, served, renewed under load losing nothing" {
	need_tls
	need pebble
	need certbot
	local live serial1 serial2 loop_total loop_bad
	A=$T/acme
	ACME_PORT=$(free_port)
	MGMT_PORT=$(free_port)
	mkdir -p "$A"
	new_ca "$T" && new_cert "$T" server
	pebble_config "$A"
	PEBBLE_VA_NOSLEEP=1 PEBBLE_VA_ALWAYS_VALID=0 PEBBLE_WFE_NONCEREJECT=0 \
	    pebble -config "$A/pebble.json" >"$A/pebble.log" 2>&1 3>&- &
	PEBBLE_PID=$!
	wait_for port_listening "$ACME_PORT" "$PEBBLE_PID" &&
	    wait_for port_listening "$MGMT_PORT" "$PEBBLE_PID" || {
		pid_alive "$PEBBLE_PID" ||
			skip "pebble cannot run here: $(tail -n 3 "$A/pebble.log")"
		cat "$A/pebble.log" >&2
		return 1
	}

	# Plain HTTP first, for the http-01 challenge: pebble fetches
	# http://localhost:$PORT/.well-known/acme-challenge/TOKEN from the
	# files certbot writes beneath tine's root.
	write_conf
	start_tine
	certbot_run certonly --webroot -w "$T/www" -d localhost \
	    --agree-tos --register-unsafely-without-email \
	    --deploy-hook "$TINE_BIN -f $CONF -s reload"
	live=$A/conf/live/localhost
	# certbot's live names are symbolic links into archive/, which a
	# renewal moves on to the next files: tine follows them.
	[ -L "$live/fullchain.pem" ] && [ -L "$live/privkey.pem" ]
	wait_for grep -q 'GET /.well-known/acme-challenge/' "$T/access.log"
	# The hook ran: tine reloaded.
	hook_ran_clean
	wait_for grep -q 'reloaded: generation 1,' "$T/error.log"

	# Then HTTPS with what certbot wrote, by a reload.
	write_conf "listen 127.0.0.1:$TLS_PORT tls" \
	    "tls_certificate $live/fullchain.pem" \
	    "tls_key $live/privkey.pem"
	run -0 "$TINE_BIN" -t -f "$CONF"
	kill -HUP "$TINE_PID"
	wait_for port_listening "$TLS_PORT" "$TINE_PID"

	# A client that trusts pebble's root alone (tine sends the
	# intermediate from fullchain.pem) sees the issued certificate.
	req --cacert "$T/ca.pem" "https://127.0.0.1:$MGMT_PORT/roots/0" \
	    -o "$A/root.pem"
	req --cacert "$T/ca.pem" \
	    "https://127.0.0.1:$MGMT_PORT/intermediates/0" -o "$A/inter.pem"
	"$OPENSSL" verify -CAfile "$A/root.pem" -untrusted "$A/inter.pem" \
	    "$live/cert.pem"
	run -0 req --cacert "$A/root.pem" "https://localhost:$TLS_PORT/"
	[ "$output" = "$(cat "$T/www/index.html")" ]
	serial1=$("$OPENSSL" x509 -noout -serial -in "$live/cert.pem")
	run -0 served_serial "$A/root.pem"
	[ "$output" = "$serial1" ]

	# Renewal under load: the deploy hook reloads tine, and not one
	# request of the loop fails meanwhile.
	start_loop "$A/root.pem"
	# Without a terminal certbot renew first sleeps up to 8 minutes.
	certbot_run renew --force-renewal --no-random-sleep-on-renew
	hook_ran_clean
	serial2=$("$OPENSSL" x509 -noout -serial -in "$live/cert.pem")
	[ "$serial2" != "$serial1" ]
	wait_for grep -q 'reloaded: generation 3,' "$T/error.log"
	wait_for serves_serial "$A/root.pem" "$serial2"
	# Some requests more, on the new generation, before the count.
	loop_total=$(grep -c . "$T/loop.out") || true
	wait_for loop_passed $((loop_total + 20))
	stop_loop
	loop_total=$(grep -c . "$T/loop.out")
	loop_bad=$(grep -vcx 200 "$T/loop.out") || true
	[ "$loop_bad" = 0 ] && [ "$loop_total" -gt 0 ] || {
		echo "$loop_bad of $loop_total requests failed:" >&2
		grep -vx 200 "$T/loop.out" | sort | uniq -c >&2
		return 1
	}
}
