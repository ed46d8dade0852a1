/*
 * test_config.c: config.c against tables of config texts: each loads and
 * its dump holds the expected lines, or it fails with exactly the expected
 * FILE:LINE messages on stderr. Also listen parsing, the dump round trip
 * and the runtime checks of tine -t. Files live in a mkdtemp directory.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "../../src/config.c"

struct row {
	const char	*name;
	const char	*file;	/* under the test directory; NULL: tine.conf */
	const char	*text;	/* "@D" stands for the test directory */
	size_t		 len;	/* 0: strlen(text) */
	const char	*err;	/* NULL: loads; else stderr, ":" starts FILE */
	const char	*want;	/* lines the dump must hold */
};

#define R	"root www\n"

static const struct row rows[] = {
	/* Defaults and valid forms. */
	{ "defaults", NULL, R, 0, NULL,
	    "listen 0.0.0.0:8080\nroot @D/www\nmax_workers 256\n"
	    "access_log off\nerror_log stderr\nindex index.html\n"
	    "autoindex off\nkeepalive_timeout 5\nheader_timeout 10\n"
	    "shutdown_timeout 10\nsend_timeout 60\nkeepalive_requests 1000\n"
	    "max_header_size 8192\nmax_body_size 1048576\n" },
	{ "listen forms", NULL, R "listen *:80\nlisten [::]:80\n"
	    "listen 127.0.0.1:8080\nlisten [::1]:8080\nlisten 10.1.2.3:65535\n"
	    "listen [fe80::1]:1\nlisten [::ffff:1.2.3.4]:9\n"
	    "listen 1.2.3.4:00080\n", 0, NULL,
	    "listen 0.0.0.0:80\nlisten [::]:80\nlisten 127.0.0.1:8080\n"
	    "listen [::1]:8080\nlisten 10.1.2.3:65535\nlisten [fe80::1]:1\n"
	    "listen [::ffff:1.2.3.4]:9\nlisten 1.2.3.4:80\n" },
	{ "root absolute", NULL, "root @D/www\n", 0, NULL, "root @D/www\n" },
	{ "root trailing slash", NULL, "root www/\n", 0, NULL,
	    "root @D/www\n" },
	{ "root with ..", NULL, "root ./www/../www\n", 0, NULL,
	    "root @D/www\n" },
	{ "root relative to config dir", "sub/tine.conf", "root ../www\n", 0,
	    NULL, "root @D/www\n" },
	{ "root quoted with space", NULL, "root \"my site\"\n", 0, NULL,
	    "root \"@D/my site\"\n" },
	{ "root quoted escapes", NULL, "root \"q\\\"d\\\\\"\n", 0, NULL,
	    "root \"@D/q\\\"d\\\\\"\n" },
	{ "keyword quoted", NULL, "\"root\" www\n", 0, NULL, "root @D/www\n" },
	{ "workers number", NULL, R "workers 3\n", 0, NULL,
	    "workers 3\nmax_workers 256\n" },
	{ "workers above default cap", NULL, R "workers 300\n", 0, NULL,
	    "workers 300\nmax_workers 300\n" },
	{ "workers max", NULL, R "workers 4096\nmax_workers 4096\n", 0, NULL,
	    "workers 4096\nmax_workers 4096\n" },
	{ "workers equal max_workers", NULL, R "max_workers 4\nworkers 4\n", 0,
	    NULL, "workers 4\nmax_workers 4\n" },
	{ "workers auto clamped", NULL, R "workers auto\nmax_workers 1\n", 0,
	    NULL, "workers auto # 1\nmax_workers 1\n" },
	{ "user and group", NULL, R "user www-data\ngroup _tine.x9\n", 0, NULL,
	    "user www-data\ngroup _tine.x9\n" },
	{ "pidfile relative", NULL, R "pidfile run/tine.pid\n", 0, NULL,
	    "pidfile @D/run/tine.pid\n" },
	{ "pidfile absolute", NULL, R "pidfile /run/tine.pid\n", 0, NULL,
	    "pidfile /run/tine.pid\n" },
	{ "access_log path", NULL, R "access_log logs/access.log\n", 0, NULL,
	    "access_log @D/logs/access.log\n" },
	{ "access_log off quoted", NULL, R "access_log \"off\"\n", 0, NULL,
	    "access_log off\n" },
	{ "access_log ./off", NULL, R "access_log ./off\n", 0, NULL,
	    "access_log @D/./off\n" },
	{ "error_log syslog", NULL, R "error_log syslog\n", 0, NULL,
	    "error_log syslog\n" },
	{ "error_log stderr", NULL, R "error_log stderr\n", 0, NULL,
	    "error_log stderr\n" },
	{ "error_log path", NULL, R "error_log /var/log/tine.err\n", 0, NULL,
	    "error_log /var/log/tine.err\n" },
	{ "index list", NULL, R "index a.html \"b c.htm\" ...x #c\n", 0, NULL,
	    "index a.html \"b c.htm\" ...x\n" },
	{ "index 16 names", NULL, R "index 1 2 3 4 5 6 7 8 9 10 11 12 13 14 "
	    "15 16\n", 0, NULL,
	    "index 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n" },
	{ "index name starting with #", NULL, R "index \"#x\"\n", 0, NULL,
	    "index \"#x\"\n" },
	{ "autoindex on", NULL, R "autoindex on\n", 0, NULL, "autoindex on\n" },
	{ "autoindex off", NULL, R "autoindex off\n", 0, NULL,
	    "autoindex off\n" },
	{ "timeouts low", NULL, R "keepalive_timeout 0\nheader_timeout 1\n"
	    "shutdown_timeout 0\nsend_timeout 1\n", 0, NULL,
	    "keepalive_timeout 0\nheader_timeout 1\nshutdown_timeout 0\n"
	    "send_timeout 1\n" },
	{ "timeouts high", NULL, R "keepalive_timeout 86400\n"
	    "header_timeout 86400\nshutdown_timeout 86400\n"
	    "send_timeout 86400\n", 0, NULL,
	    "keepalive_timeout 86400\nheader_timeout 86400\n"
	    "shutdown_timeout 86400\nsend_timeout 86400\n" },
	{ "keepalive_requests bounds", NULL, R "keepalive_requests 1000000\n",
	    0, NULL, "keepalive_requests 1000000\n" },
	{ "keepalive_requests 1", NULL, R "keepalive_requests 1\n", 0, NULL,
	    "keepalive_requests 1\n" },
	{ "max_header_size 8k", NULL, R "max_header_size 8k\n", 0, NULL,
	    "max_header_size 8192\n" },
	{ "max_header_size 8K", NULL, R "max_header_size 8K\n", 0, NULL,
	    "max_header_size 8192\n" },
	{ "max_header_size 1m", NULL, R "max_header_size 1m\n", 0, NULL,
	    "max_header_size 1048576\n" },
	{ "max_header_size 1M", NULL, R "max_header_size 1M\n", 0, NULL,
	    "max_header_size 1048576\n" },
	{ "max_header_size 256", NULL, R "max_header_size 256\n", 0, NULL,
	    "max_header_size 256\n" },
	{ "max_header_size zeros", NULL,
	    R "max_header_size 0000000000000000000000000000000000000008k\n", 0,
	    NULL, "max_header_size 8192\n" },
	{ "max_body_size 0", NULL, R "max_body_size 0\n", 0, NULL,
	    "max_body_size 0\n" },
	{ "max_body_size 1024m", NULL, R "max_body_size 1024m\n", 0, NULL,
	    "max_body_size 1073741824\n" },
	{ "max_body_size max", NULL, R "max_body_size 1048576m\n", 0, NULL,
	    "max_body_size 1099511627776\n" },
	{ "comments and blanks", NULL, "# c\n\n   \t\nroot www # trailing\n"
	    "  # indented\nindex a#b #c\n", 0, NULL, "index a#b\n" },
	{ "comment after value", NULL, "root www\t# x y z\nworkers 2 #3\n",
	    0, NULL, "workers 2\n" },
	{ "crlf line ends", NULL, "root www\r\nautoindex on\r\n", 0, NULL,
	    "autoindex on\n" },
	{ "no newline at end", NULL, "root www\nworkers 2", 0, NULL,
	    "workers 2\n" },

	/* Unknown, arity, duplicates. */
	{ "unknown directive", NULL, R "fo bar\n", 0,
	    ":2: unknown directive \"fo\"\n", NULL },
	{ "keywords are case-sensitive", NULL, "Root www\n", 0,
	    ":1: unknown directive \"Root\"\n: root is required\n", NULL },
	{ "missing value", NULL, R "workers\n", 0,
	    ":2: workers takes one value\n", NULL },
	{ "extra value", NULL, R "workers 1 2\n", 0,
	    ":2: workers takes one value\n", NULL },
	{ "root missing value", NULL, "root\n", 0,
	    ":1: root takes one value\n", NULL },
	{ "root extra value", NULL, "root www www\n", 0,
	    ":1: root takes one value\n", NULL },
	{ "listen missing value", NULL, R "listen\n", 0,
	    ":2: listen takes at least one value\n", NULL },
	/* TLS: listeners, the pair, protocols; files are tls.c's. */
	{ "listen tls", NULL, R "listen *:443 tls\nlisten [::1]:8443 tls\n"
	    "listen *:80\ntls_certificate c.pem\ntls_key k.pem\n", 0, NULL,
	    "listen 0.0.0.0:443 tls\nlisten [::1]:8443 tls\n"
	    "listen 0.0.0.0:80\n" "tls_certificate @D/c.pem\n"
	    "tls_key @D/k.pem\ntls_protocols TLSv1.2 TLSv1.3\n"
	    "tls_session_tickets on\n" },
	{ "listen tls option", NULL, R "listen *:443 ssl\n", 0,
	    ":2: listen \"*:443\": unknown option \"ssl\" (tls and "
	    "proxy_protocol, each once)\n", NULL },
	{ "listen option twice", NULL, R "listen *:443 tls tls\n", 0,
	    ":2: listen \"*:443\": repeated option \"tls\" (tls and "
	    "proxy_protocol, each once)\n", NULL },
	{ "listen proxy_protocol without proxy_protocol_from", NULL,
	    R "listen *:80 proxy_protocol\n", 0,
	    ":2: listen 0.0.0.0:80 proxy_protocol needs proxy_protocol_from: "
	    "the balancers' addresses\n", NULL },
	{ "listen tls and plain", NULL, R "listen *:443\nlisten *:443 tls\n"
	    "tls_certificate c\ntls_key k\n", 0,
	    ":3: listen \"0.0.0.0:443\": the address is already a plain "
	    "listener (line 2); it cannot be both\n", NULL },
	{ "listen tls without pair", NULL, R "listen *:443 tls\n", 0,
	    ":2: listen 0.0.0.0:443 tls needs tls_certificate and tls_key\n",
	    NULL },
	{ "tls_certificate alone", NULL, R "tls_certificate c.pem\n", 0,
	    ":2: tls_certificate without tls_key\n", NULL },
	{ "tls_key alone", NULL, R "tls_key k.pem\n", 0,
	    ":2: tls_key without tls_certificate\n", NULL },
	{ "tls_protocols one", NULL, R "tls_protocols TLSv1.3\n"
	    "tls_session_tickets off\ntls_ciphers ECDHE-RSA-AES128-GCM-SHA256\n",
	    0, NULL, "tls_protocols TLSv1.3\n"
	    "tls_ciphers ECDHE-RSA-AES128-GCM-SHA256\n"
	    "tls_session_tickets off\n" },
	{ "tls_protocols old", NULL, R "tls_protocols TLSv1.1 TLSv1.2\n", 0,
	    ":2: tls_protocols \"TLSv1.1\" is not TLSv1.2 or TLSv1.3\n",
	    NULL },
	{ "tls_ciphers empty", NULL, R "tls_ciphers \"\"\n", 0,
	    ":2: tls_ciphers: empty value\n", NULL },
	{ "index missing value", NULL, R "index # none\n", 0,
	    ":2: index takes at least one value\n", NULL },
	{ "index 17 names", NULL, R "index 1 2 3 4 5 6 7 8 9 10 11 12 13 14 "
	    "15 16 17\n", 0, ":2: index takes at most 16 values\n", NULL },
	{ "index many names", NULL, R "index 1 2 3 4 5 6 7 8 9 10 11 12 13 14 "
	    "15 16 17 18 19 20 21 22 23 24 25\n", 0,
	    ":2: index takes at most 16 values\n", NULL },
	{ "duplicate root", NULL, R "workers 1\nroot www\n", 0,
	    ":3: duplicate \"root\" (first on line 1)\n", NULL },
	{ "duplicate every single", NULL, R "workers 1\nworkers 1\n"
	    "max_workers 9\nmax_workers 9\nuser a\nuser a\ngroup a\ngroup a\n"
	    "pidfile p\npidfile p\naccess_log off\naccess_log off\n"
	    "error_log stderr\nerror_log stderr\nindex a\nindex a\n"
	    "autoindex on\nautoindex on\nkeepalive_timeout 1\n"
	    "keepalive_timeout 1\nheader_timeout 1\nheader_timeout 1\n"
	    "shutdown_timeout 1\nshutdown_timeout 1\nmax_header_size 1k\n"
	    "max_header_size 1k\nmax_body_size 1\nmax_body_size 1\n"
	    "send_timeout 1\nsend_timeout 1\nkeepalive_requests 1\n"
	    "keepalive_requests 1\n", 0,
	    ":3: duplicate \"workers\" (first on line 2)\n"
	    ":5: duplicate \"max_workers\" (first on line 4)\n"
	    ":7: duplicate \"user\" (first on line 6)\n"
	    ":9: duplicate \"group\" (first on line 8)\n"
	    ":11: duplicate \"pidfile\" (first on line 10)\n"
	    ":13: duplicate \"access_log\" (first on line 12)\n"
	    ":15: duplicate \"error_log\" (first on line 14)\n"
	    ":17: duplicate \"index\" (first on line 16)\n"
	    ":19: duplicate \"autoindex\" (first on line 18)\n"
	    ":21: duplicate \"keepalive_timeout\" (first on line 20)\n"
	    ":23: duplicate \"header_timeout\" (first on line 22)\n"
	    ":25: duplicate \"shutdown_timeout\" (first on line 24)\n"
	    ":27: duplicate \"max_header_size\" (first on line 26)\n"
	    ":29: duplicate \"max_body_size\" (first on line 28)\n"
	    ":31: duplicate \"send_timeout\" (first on line 30)\n"
	    ":33: duplicate \"keepalive_requests\" (first on line 32)\n",
	    NULL },
	{ "duplicate after bad value", NULL, R "workers x\nworkers 2\n", 0,
	    ":2: workers \"x\" is invalid (1..4096 or auto)\n"
	    ":3: duplicate \"workers\" (first on line 2)\n", NULL },

	/* Numbers. */
	{ "number junk", NULL, R "workers 12x\n", 0,
	    ":2: workers \"12x\" is invalid (1..4096 or auto)\n", NULL },
	{ "number space plus", NULL, R "workers \" +12\"\n", 0,
	    ":2: workers \" +12\" is invalid (1..4096 or auto)\n", NULL },
	{ "number tab", NULL, R "workers \"\t12\"\n", 0,
	    ":2: workers \"\\t12\" is invalid (1..4096 or auto)\n", NULL },
	{ "number plus", NULL, R "workers +12\n", 0,
	    ":2: workers \"+12\" is invalid (1..4096 or auto)\n", NULL },
	{ "number minus", NULL, R "workers -1\n", 0,
	    ":2: workers \"-1\" is invalid (1..4096 or auto)\n", NULL },
	{ "number minus zero", NULL, R "keepalive_timeout -0\n", 0,
	    ":2: keepalive_timeout \"-0\" is invalid (0..86400)\n", NULL },
	{ "number empty", NULL, R "workers \"\"\n", 0,
	    ":2: workers \"\" is invalid (1..4096 or auto)\n", NULL },
	{ "number overflow", NULL, R "workers 99999999999999999999\n", 0,
	    ":2: workers \"99999999999999999999\" is too large "
	    "(1..4096 or auto)\n", NULL },
	{ "workers 0", NULL, R "workers 0\n", 0,
	    ":2: workers \"0\" is too small (1..4096 or auto)\n", NULL },
	{ "workers 4097", NULL, R "workers 4097\n", 0,
	    ":2: workers \"4097\" is too large (1..4096 or auto)\n", NULL },
	{ "workers AUTO", NULL, R "workers AUTO\n", 0,
	    ":2: workers \"AUTO\" is invalid (1..4096 or auto)\n", NULL },
	{ "max_workers 0", NULL, R "max_workers 0\n", 0,
	    ":2: max_workers \"0\" is too small (1..4096)\n", NULL },
	{ "max_workers 4097", NULL, R "max_workers 4097\n", 0,
	    ":2: max_workers \"4097\" is too large (1..4096)\n", NULL },
	{ "max_workers auto", NULL, R "max_workers auto\n", 0,
	    ":2: max_workers \"auto\" is invalid (1..4096)\n", NULL },
	{ "pool directives", NULL, R "min_spare 0\nmax_spare 5\n"
	    "max_requests 1000\nworker_timeout 0\nspare_timeout 30\n", 0, NULL,
	    "min_spare 0\nmax_spare 5\nmax_requests 1000\nworker_timeout 0\n"
	    "spare_timeout 30\n" },
	{ "pool defaults", NULL, R, 0, NULL,
	    "min_spare 1\nmax_spare 8\nmax_requests 0\nworker_timeout 60\n"
	    "spare_timeout 10\n" },
	{ "min_spare above max_spare", NULL, R "max_spare 2\nmin_spare 3\n",
	    0, ":3: min_spare 3 is more than max_spare 2\n", NULL },
	{ "min_spare above default max_spare", NULL, R "min_spare 9\n", 0,
	    ":2: min_spare 9 is more than max_spare 8\n", NULL },
	{ "spare_timeout 0", NULL, R "spare_timeout 0\n", 0,
	    ":2: spare_timeout \"0\" is too small (1..86400)\n", NULL },
	{ "max_spare 0", NULL, R "max_spare 0\n", 0,
	    ":2: max_spare \"0\" is too small (1..4096)\n", NULL },
	{ "max_requests negative", NULL, R "max_requests -1\n", 0,
	    ":2: max_requests \"-1\" is invalid "
	    "(0..2147483647)\n", NULL },
	{ "status_path and allow", NULL, R "status_path /-/status\n"
	    "status_allow 10.0.0.0/8 ::1 192.168.1.7\n", 0, NULL,
	    "status_path /-/status\n" },
	{ "status_path not a path", NULL, R "status_path status\n", 0,
	    ":2: status_path \"status\" must be a plain path "
	    "starting with / (or off)\n", NULL },
	{ "max_workers below workers", NULL, R "workers 8\nmax_workers 4\n", 0,
	    ":3: max_workers 4 is less than workers 8 (line 2)\n", NULL },
	{ "max_workers below workers, reversed", NULL,
	    R "max_workers 4\nworkers 8\n", 0,
	    ":2: max_workers 4 is less than workers 8 (line 3)\n", NULL },
	{ "bad workers skips the relation", NULL,
	    R "workers 9x\nmax_workers 4\n", 0,
	    ":2: workers \"9x\" is invalid (1..4096 or auto)\n", NULL },
	{ "keepalive_timeout too large", NULL, R "keepalive_timeout 86401\n",
	    0, ":2: keepalive_timeout \"86401\" is too large (0..86400)\n",
	    NULL },
	{ "header_timeout 0", NULL, R "header_timeout 0\n", 0,
	    ":2: header_timeout \"0\" is too small (1..86400)\n", NULL },
	{ "shutdown_timeout 5s", NULL, R "shutdown_timeout 5s\n", 0,
	    ":2: shutdown_timeout \"5s\" is invalid (0..86400)\n", NULL },
	{ "send_timeout 0", NULL, R "send_timeout 0\n", 0,
	    ":2: send_timeout \"0\" is too small (1..86400)\n", NULL },
	{ "keepalive_requests 0", NULL, R "keepalive_requests 0\n", 0,
	    ":2: keepalive_requests \"0\" is too small (1..1000000)\n", NULL },
	{ "keepalive_requests 1000001", NULL, R "keepalive_requests 1000001\n",
	    0, ":2: keepalive_requests \"1000001\" is too large (1..1000000)\n",
	    NULL },
	{ "keepalive_requests 1k", NULL, R "keepalive_requests 1k\n", 0,
	    ":2: keepalive_requests \"1k\" is invalid (1..1000000)\n", NULL },

	/* Sizes. */
	{ "size 8kk", NULL, R "max_header_size 8kk\n", 0,
	    ":2: max_header_size \"8kk\" is invalid (256..1048576)\n", NULL },
	{ "size k alone", NULL, R "max_header_size k\n", 0,
	    ":2: max_header_size \"k\" is invalid (256..1048576)\n", NULL },
	{ "size 8g", NULL, R "max_header_size 8g\n", 0,
	    ":2: max_header_size \"8g\" is too large (256..1048576)\n", NULL },
	{ "size 8t", NULL, R "max_header_size 8t\n", 0,
	    ":2: max_header_size \"8t\" is invalid (256..1048576)\n", NULL },
	{ "size -8k", NULL, R "max_header_size -8k\n", 0,
	    ":2: max_header_size \"-8k\" is invalid (256..1048576)\n", NULL },
	{ "size +8k", NULL, R "max_header_size +8k\n", 0,
	    ":2: max_header_size \"+8k\" is invalid (256..1048576)\n", NULL },
	{ "size split suffix", NULL, R "max_header_size 8 k\n", 0,
	    ":2: max_header_size takes one value\n", NULL },
	{ "size 255", NULL, R "max_header_size 255\n", 0,
	    ":2: max_header_size \"255\" is too small (256..1048576)\n", NULL },
	{ "size 0k", NULL, R "max_header_size 0k\n", 0,
	    ":2: max_header_size \"0k\" is too small (256..1048576)\n", NULL },
	{ "size 1025k", NULL, R "max_header_size 1025k\n", 0,
	    ":2: max_header_size \"1025k\" is too large (256..1048576)\n",
	    NULL },
	{ "size 2m", NULL, R "max_header_size 2m\n", 0,
	    ":2: max_header_size \"2m\" is too large (256..1048576)\n", NULL },
	{ "size overflow", NULL, R "max_header_size 99999999999999999999\n", 0,
	    ":2: max_header_size \"99999999999999999999\" is too large "
	    "(256..1048576)\n", NULL },
	{ "size multiply overflow", NULL, R "max_body_size 9007199254740992m\n",
	    0, ":2: max_body_size \"9007199254740992m\" is too large "
	    "(0..1099511627776)\n", NULL },
	{ "size long digits", NULL,
	    R "max_body_size 1000000000000000000000000000000000000000k\n", 0,
	    ":2: max_body_size \"1000000000000000000000000000000000000000k\" "
	    "is too large (0..1099511627776)\n", NULL },
	{ "max_body_size past max", NULL, R "max_body_size 1048577m\n", 0,
	    ":2: max_body_size \"1048577m\" is too large (0..1099511627776)\n",
	    NULL },

	/* listen. */
	{ "listen no address", NULL, R "listen :80\n", 0,
	    ":2: listen \":80\": missing address\n", NULL },
	{ "listen port 0", NULL, R "listen *:0\n", 0,
	    ":2: listen \"*:0\": port is too small (1..65535)\n", NULL },
	{ "listen port 65536", NULL, R "listen *:65536\n", 0,
	    ":2: listen \"*:65536\": port is too large (1..65535)\n", NULL },
	{ "listen port +80", NULL, R "listen *:+80\n", 0,
	    ":2: listen \"*:+80\": port is invalid (1..65535)\n", NULL },
	{ "listen port -1", NULL, R "listen *:-1\n", 0,
	    ":2: listen \"*:-1\": port is invalid (1..65535)\n", NULL },
	{ "listen port junk", NULL, R "listen *:80x\n", 0,
	    ":2: listen \"*:80x\": port is invalid (1..65535)\n", NULL },
	{ "listen empty port", NULL, R "listen *:\n", 0,
	    ":2: listen \"*:\": missing port\n", NULL },
	{ "listen no port", NULL, R "listen 1.2.3.4\n", 0,
	    ":2: listen \"1.2.3.4\": missing port\n", NULL },
	{ "listen no colon after ]", NULL, R "listen [::1]8080\n", 0,
	    ":2: listen \"[::1]8080\": expected \":\" after \"]\"\n", NULL },
	{ "listen hostname", NULL, R "listen localhost:80\n", 0,
	    ":2: listen \"localhost:80\": not a numeric address\n", NULL },
	{ "listen unclosed bracket", NULL, R "listen [::1\n", 0,
	    ":2: listen \"[::1\": missing \"]\"\n", NULL },
	{ "listen bracket no port", NULL, R "listen [::1]\n", 0,
	    ":2: listen \"[::1]\": missing port\n", NULL },
	{ "listen bare ipv6", NULL, R "listen ::1:80\n", 0,
	    ":2: listen \"::1:80\": IPv6 address needs brackets\n", NULL },
	{ "listen short ipv4", NULL, R "listen 1.2.3:80\n", 0,
	    ":2: listen \"1.2.3:80\": not a numeric address\n", NULL },
	{ "listen ipv4 in brackets", NULL, R "listen [1.2.3.4]:80\n", 0,
	    ":2: listen \"[1.2.3.4]:80\": not a numeric address\n", NULL },
	{ "listen star in brackets", NULL, R "listen [*]:80\n", 0,
	    ":2: listen \"[*]:80\": not a numeric address\n", NULL },
	{ "listen empty brackets", NULL, R "listen []:80\n", 0,
	    ":2: listen \"[]:80\": missing address\n", NULL },
	{ "listen scoped", NULL, R "listen [fe80::1%eth0]:80\n", 0,
	    ":2: listen \"[fe80::1%eth0]:80\": not a numeric address\n", NULL },
	{ "listen duplicate", NULL, R "listen *:80\nlisten 0.0.0.0:80\n", 0,
	    ":3: duplicate listen \"0.0.0.0:80\" (first on line 2)\n", NULL },
	{ "listen duplicate ipv6", NULL,
	    R "listen [::]:80\nlisten *:80\nlisten [0::0]:80\n", 0,
	    ":4: duplicate listen \"[::]:80\" (first on line 2)\n", NULL },

	/* root. */
	{ "root missing", NULL, "workers 1\n", 0, ": root is required\n",
	    NULL },
	{ "empty file", NULL, "", 0, ": root is required\n", NULL },
	{ "root does not exist", NULL, "root nope\n", 0,
	    ":1: root \"nope\": No such file or directory\n", NULL },
	{ "root not a directory", NULL, "root file.txt\n", 0,
	    ":1: root \"file.txt\": not a directory\n", NULL },
	{ "root through a file", NULL, "root file.txt/x\n", 0,
	    ":1: root \"file.txt/x\": Not a directory\n", NULL },
	{ "root empty", NULL, "root \"\"\n", 0, ":1: root: empty path\n",
	    NULL },
	{ "root relative to config dir, not cwd", "sub/tine.conf",
	    "root www\n", 0, ":1: root \"www\": No such file or directory\n",
	    NULL },

	/* Names, paths, keywords. */
	{ "user leading dash", NULL, R "user -x\n", 0,
	    ":2: invalid user name \"-x\"\n", NULL },
	{ "user with space", NULL, R "user \"a b\"\n", 0,
	    ":2: invalid user name \"a b\"\n", NULL },
	{ "user empty", NULL, R "user \"\"\n", 0,
	    ":2: invalid user name \"\"\n", NULL },
	{ "group with colon", NULL, R "group a:b\n", 0,
	    ":2: invalid group name \"a:b\"\n", NULL },
#define A32	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define A31	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define A30	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	{ "user too long", NULL, R "user " A32 A32 "\n", 0,
	    ":2: user name \"" A32 A32 "\" is too long (max 63 bytes)\n",
	    NULL },
	{ "user 63 bytes", NULL, R "user " A32 A31 "\n", 0, NULL,
	    "user " A32 A31 "\n" },
	{ "index name too long", NULL,
	    R "index " A32 A32 A32 A32 A32 A32 A32 A32 "\n", 0,
	    ":2: index name \"" A32 A32 A32 A32 "...\" is too long "
	    "(max 255 bytes)\n", NULL },
	{ "index name 255 bytes", NULL,
	    R "index " A32 A32 A32 A32 A32 A32 A32 A31 "\n", 0, NULL,
	    "index " A32 A32 A32 A32 A32 A32 A32 A31 "\n" },
	{ "pidfile empty", NULL, R "pidfile \"\"\n", 0,
	    ":2: pidfile: empty path\n", NULL },
	{ "access_log empty", NULL, R "access_log \"\"\n", 0,
	    ":2: access_log: empty path\n", NULL },
	{ "error_log empty", NULL, R "error_log \"\"\n", 0,
	    ":2: error_log: empty path\n", NULL },
	{ "index bad names", NULL, R "index a/b . .. \"\" ok\n", 0,
	    ":2: invalid index name \"a/b\"\n"
	    ":2: invalid index name \".\"\n"
	    ":2: invalid index name \"..\"\n"
	    ":2: invalid index name \"\"\n", NULL },
	{ "autoindex yes", NULL, R "autoindex yes\n", 0,
	    ":2: autoindex \"yes\" must be on or off\n", NULL },
	{ "autoindex ON", NULL, R "autoindex ON\n", 0,
	    ":2: autoindex \"ON\" must be on or off\n", NULL },

	/* Quotes and bytes. */
	{ "unterminated quote", NULL, "root \"www\n", 0,
	    ":1: unterminated quote\n: root is required\n", NULL },
	{ "junk after quote", NULL, "root \"www\"x\n", 0,
	    ":1: missing space after quote\n: root is required\n", NULL },
	{ "quote inside token", NULL, R "pidfile a\"b\"\n", 0,
	    ":2: unexpected quote\n", NULL },
	{ "escaped quote in message", NULL, R "\"x\\\"y\" 1\n", 0,
	    ":2: unknown directive \"x\\\"y\"\n", NULL },
	{ "control bytes escaped", NULL, R "\001bad\377 1\n", 0,
	    ":2: unknown directive \"\\001bad\\377\"\n", NULL },
	{ "tab in quoted keyword", NULL, R "\"a\tb\" 1\n", 0,
	    ":2: unknown directive \"a\\tb\"\n", NULL },
	{ "long token cut", NULL, R
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxy"
	    "zzz\n", 0, ":2: unknown directive \""
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "...\"\n", NULL },
	{ "NUL byte", NULL, R "autoindex o\0n\nworkers 2\n",
	    sizeof(R "autoindex o\0n\nworkers 2\n") - 1,
	    ":2: line contains a NUL byte\n", NULL },
	{ "NUL byte at end", NULL, R "autoindex on\0",
	    sizeof(R "autoindex on\0") - 1,
	    ":2: line contains a NUL byte\n", NULL },

	/* Each value type: good, at its bound, one past it, wrong type. */
	{ "number at max", NULL, R "max_spare 4096\nmin_spare 4096\n", 0,
	    NULL, "max_spare 4096\nmin_spare 4096\n" },
	{ "number past max", NULL, R "max_spare 4097\n", 0,
	    ":2: max_spare \"4097\" is too large (1..4096)\n", NULL },
	{ "number wrong type", NULL, R "max_spare on\n", 0,
	    ":2: max_spare \"on\" is invalid (1..4096)\n", NULL },
	{ "seconds at max", NULL, R "worker_timeout 86400\n"
	    "spare_timeout 86400\n", 0, NULL,
	    "worker_timeout 86400\nspare_timeout 86400\n" },
	{ "seconds past max", NULL, R "worker_timeout 86401\n", 0,
	    ":2: worker_timeout \"86401\" is too large (0..86400)\n", NULL },
	{ "seconds wrong type", NULL, R "spare_timeout 1m\n", 0,
	    ":2: spare_timeout \"1m\" is invalid (1..86400)\n", NULL },
	{ "size wrong type", NULL, R "max_body_size off\n", 0,
	    ":2: max_body_size \"off\" is invalid (0..1099511627776)\n", NULL },
	{ "flag wrong type", NULL, R "autoindex 1\n", 0,
	    ":2: autoindex \"1\" must be on or off\n", NULL },
	{ "url path off", NULL, R "status_path off\n", 0, NULL,
	    "status_path off\n" },
	{ "url path at max", NULL,
	    R "status_path /" A32 A32 A32 A32 A32 A32 A32 A30 "\n", 0, NULL,
	    "status_path /" A32 A32 A32 A32 A32 A32 A32 A30 "\n" },
	{ "url path past max", NULL,
	    R "status_path /" A32 A32 A32 A32 A32 A32 A32 A31 "\n", 0,
	    ":2: status_path is too long\n", NULL },
	{ "url path wrong type", NULL, R "status_path /a?b\n", 0,
	    ":2: status_path \"/a?b\" must be a plain path "
	    "starting with / (or off)\n", NULL },
	{ "cidrs prefix bounds", NULL, R "status_allow 10.0.0.0/0 ::/128\n",
	    0, NULL, "status_allow 10.0.0.0/0 ::/128\n" },
	{ "cidrs prefix past bounds", NULL,
	    R "status_allow 10.0.0.0/33 ::/129\n", 0,
	    ":2: status_allow \"10.0.0.0/33\" is not an address or "
	    "address/prefix\n"
	    ":2: status_allow \"::/129\" is not an address or "
	    "address/prefix\n", NULL },
	{ "cidrs wrong type", NULL, R "status_allow on\n", 0,
	    ":2: status_allow \"on\" is not an address or address/prefix\n",
	    NULL },
	{ "cidrs first line replaces, later lines add", NULL,
	    R "status_allow 10.0.0.1\nstatus_allow 10.0.0.2\n", 0, NULL,
	    "status_allow 10.0.0.1/32 10.0.0.2/32\n" },

	/* Several errors in one run, in file order, then file-level ones. */
	{ "every error reported", NULL, "workers 0\nfoo\nlisten x\n"
	    "# fine\nautoindex maybe\nmax_header_size 8kk\nworkers 2\n"
	    "index ..\n", 0,
	    ":1: workers \"0\" is too small (1..4096 or auto)\n"
	    ":2: unknown directive \"foo\"\n"
	    ":3: listen \"x\": missing port\n"
	    ":5: autoindex \"maybe\" must be on or off\n"
	    ":6: max_header_size \"8kk\" is invalid (256..1048576)\n"
	    ":7: duplicate \"workers\" (first on line 1)\n"
	    ":8: invalid index name \"..\"\n"
	    ": root is required\n", NULL },
};

static char	 dir[PATH_MAX];		/* the test directory, realpath */
static char	 err_path[PATH_MAX];
static int	 saved_stderr = -1;

static void __attribute__((noreturn))
die(const char *what)
{
	perror(what);
	exit(2);
}

static char *
xstrdup(const char *s)
{
	char	*d;

	if ((d = strdup(s)) == NULL)
		die("strdup");
	return d;
}

static void
in_dir(char *buf, size_t size, const char *name)
{
	if (xsnprintf(buf, size, "%s/%s", dir, name) == -1)
		die(name);
}

/* Replaces every "@D" with the test directory. */
static char *
subst(const char *s)
{
	char	*out, *w;
	size_t	 n = 1;
	const char *c;

	for (c = s; *c != '\0'; c++)
		n += (c[0] == '@' && c[1] == 'D') ? strlen(dir) : 1;
	if ((out = w = malloc(n)) == NULL)
		die("malloc");
	while (*s != '\0') {
		if (s[0] == '@' && s[1] == 'D') {
			w = stpcpy(w, dir);
			s += 2;
		} else
			*w++ = *s++;
	}
	*w = '\0';
	return out;
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE	*fp;

	if ((fp = fopen(path, "we")) == NULL)
		die(path);
	if (len > 0 && fwrite(text, 1, len, fp) != len)
		die("fwrite");
	if (fclose(fp) != 0)
		die("fclose");
}

static char *
read_file(const char *path)
{
	FILE	*fp;
	char	*buf;
	long	 n;

	if ((fp = fopen(path, "re")) == NULL)
		die(path);
	if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0)
		die("fseek");
	if ((buf = calloc(1, (size_t)n + 1)) == NULL)
		die("calloc");
	if (n > 0 && fread(buf, 1, (size_t)n, fp) != (size_t)n)
		die("fread");
	(void)fclose(fp);
	return buf;
}

static void
capture_start(void)
{
	int	 fd;

	(void)fflush(stderr);
	if ((fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		die(err_path);
	if ((saved_stderr = dup(STDERR_FILENO)) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1)
		die("dup");
	(void)close(fd);
}

static char *
capture_end(void)
{
	(void)fflush(stderr);
	if (dup2(saved_stderr, STDERR_FILENO) == -1)
		die("dup2");
	(void)close(saved_stderr);
	saved_stderr = -1;
	return read_file(err_path);
}

static struct config *
load(const char *path, char **err)
{
	struct config	*conf;

	capture_start();
	conf = config_load(path);
	*err = capture_end();
	return conf;
}

static char *
dump(const struct config *conf)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		die("open_memstream");
	config_dump(conf, fp);
	if (ferror(fp) || fclose(fp) != 0)
		die("dump");
	return buf;
}

/*
 * Expected stderr: each line of tmpl that starts with ':' gets the config
 * path in front, as log_config_error() writes it; "@D" is expanded.
 */
static char *
expect(const char *tmpl, const char *path)
{
	char		*t, *out, *line, *save = NULL;
	size_t		 size;
	FILE		*fp;

	t = subst(tmpl);
	if ((fp = open_memstream(&out, &size)) == NULL)
		die("open_memstream");
	for (line = strtok_r(t, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		fprintf(fp, "%s%s\n", line[0] == ':' ? path : "", line);
	if (fclose(fp) != 0)
		die("fclose");
	free(t);
	return out;
}

/* Every line of want is a whole line of the dump. */
static int
dump_has(const char *d, const char *want, char *missing, size_t size)
{
	char	*w, *line, *save = NULL, *hay, *needle;
	int	 ok = 1;

	w = subst(want);
	if (asprintf(&hay, "\n%s", d) == -1)
		die("asprintf");
	for (line = strtok_r(w, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (asprintf(&needle, "\n%s\n", line) == -1)
			die("asprintf");
		if (strstr(hay, needle) == NULL) {
			if (ok)
				(void)snprintf(missing, size, "%s", line);
			ok = 0;
		}
		free(needle);
	}
	free(hay);
	free(w);
	return ok;
}

/* The load failed with exactly want on stderr. */
static void
check_failed(struct config *conf, const char *err, const char *want,
    const char *name)
{
	int	 ok = conf == NULL && strcmp(err, want) == 0;

	unit_check(ok, "%s", name);
	if (!ok)
		printf("# want:\n%s# got:\n%s", want, err);
	config_free(conf);
}

static void
run_row(const struct row *r)
{
	struct config	*conf;
	char		 path[PATH_MAX], missing[256] = "";
	char		*text, *err, *want = NULL, *d;
	size_t		 len;

	in_dir(path, sizeof(path), r->file != NULL ? r->file : "tine.conf");
	text = r->len != 0 ? NULL : subst(r->text);
	len = r->len != 0 ? r->len : strlen(text);
	write_file(path, text != NULL ? text : r->text, len);
	conf = load(path, &err);
	if (r->err == NULL) {
		d = conf != NULL ? dump(conf) : xstrdup("");
		unit_check(conf != NULL && err[0] == '\0' &&
		    dump_has(d, r->want, missing, sizeof(missing)),
		    "%s", r->name);
		if (conf == NULL || err[0] != '\0' || missing[0] != '\0')
			printf("# stderr: %s# missing: %s\n# dump:\n%s", err,
			    missing, d);
		free(d);
	} else {
		want = expect(r->err, path);
		check_failed(conf, err, want, r->name);
		conf = NULL;
	}
	config_free(conf);
	free(want);
	free(err);
	free(text);
}

/* Rows too large to write out: long lines, many listeners, long paths. */
static void	test_path_bound(const char *, int);

static void
test_generated(void)
{
	struct row	 r = { 0 };
	char		*text, *err_text, *want, *more;
	size_t		 i, n;
	FILE		*fp;

	/* A line of exactly CONFIG_LINE_MAX bytes is fine, one more is not. */
	if ((fp = open_memstream(&text, &n)) == NULL)
		die("open_memstream");
	fprintf(fp, R "#");
	for (i = 1; i < CONFIG_LINE_MAX; i++)
		putc('x', fp);
	fprintf(fp, "\nautoindex on\n");
	(void)fclose(fp);
	r.name = "line of CONFIG_LINE_MAX bytes";
	r.text = text;
	r.want = "autoindex on\n";
	run_row(&r);
	free(text);

	if ((fp = open_memstream(&text, &n)) == NULL)
		die("open_memstream");
	fprintf(fp, R "#");
	for (i = 0; i < CONFIG_LINE_MAX; i++)
		putc('x', fp);
	fprintf(fp, "\nautoindex on\nroot www\n");
	(void)fclose(fp);
	r.name = "line over CONFIG_LINE_MAX bytes";
	r.text = text;
	r.err = ":2: line too long (max 4096 bytes)\n"
	    ":4: duplicate \"root\" (first on line 1)\n";
	r.want = NULL;
	run_row(&r);
	free(text);

	/* LISTENERS_MAX listen lines, then one more. */
	if ((fp = open_memstream(&text, &n)) == NULL)
		die("open_memstream");
	fprintf(fp, R);
	for (i = 0; i <= LISTENERS_MAX; i++)
		fprintf(fp, "listen 127.0.0.1:%zu\n", 1000 + i);
	(void)fclose(fp);
	if (asprintf(&err_text, ":%d: too many listen addresses (max %d)\n",
	    LISTENERS_MAX + 2, LISTENERS_MAX) == -1)
		die("asprintf");
	r.name = "too many listen lines";
	r.text = text;
	r.err = err_text;
	run_row(&r);
	free(err_text);
	free(text);

	/* A relative path that does not fit PATH_MAX once joined. */
	if ((fp = open_memstream(&text, &n)) == NULL)
		die("open_memstream");
	fprintf(fp, R "pidfile ");
	for (i = 0; i < CONFIG_LINE_MAX - 10; i++)
		putc('p', fp);
	fprintf(fp, "\n");
	(void)fclose(fp);
	if ((fp = open_memstream(&err_text, &n)) == NULL)
		die("open_memstream");
	fprintf(fp, ":2: pidfile \"");
	for (i = 0; i < CONFIG_SHOW_MAX; i++)
		putc('p', fp);
	fprintf(fp, "...\": path too long\n");
	(void)fclose(fp);
	r.name = "path too long";
	r.text = text;
	r.err = err_text;
	run_row(&r);
	free(err_text);
	free(text);

	/* Paths joined to exactly PATH_MAX - 1 bytes, then PATH_MAX. */
	test_path_bound("pidfile", 0);
	test_path_bound("pidfile", 1);
	test_path_bound("access_log", 0);
	test_path_bound("access_log", 1);

	/* STATUS_ALLOW_MAX entries on one line, then one more. */
	if ((fp = open_memstream(&text, &n)) == NULL)
		die("open_memstream");
	fprintf(fp, R "status_allow");
	for (i = 0; i < STATUS_ALLOW_MAX; i++)
		fprintf(fp, " 10.0.0.%zu", i);
	fprintf(fp, "\n");
	(void)fclose(fp);
	if ((fp = open_memstream(&want, &n)) == NULL)
		die("open_memstream");
	fprintf(fp, "status_allow");
	for (i = 0; i < STATUS_ALLOW_MAX; i++)
		fprintf(fp, " 10.0.0.%zu/32", i);
	fprintf(fp, "\n");
	(void)fclose(fp);
	memset(&r, 0, sizeof(r));
	r.name = "cidrs at max";
	r.text = text;
	r.want = want;
	run_row(&r);
	free(want);
	if ((more = malloc(strlen(text) + 32)) == NULL)
		die("malloc");
	(void)stpcpy(stpcpy(more, text), "status_allow ::1\n");
	if (asprintf(&err_text, ":3: too many status_allow entries "
	    "(max %d)\n", STATUS_ALLOW_MAX) == -1)
		die("asprintf");
	r.name = "cidrs past max";
	r.text = more;
	r.err = err_text;
	r.want = NULL;
	run_row(&r);
	free(err_text);
	free(more);
	free(text);
}

/*
 * A relative path whose joined form (directory, '/', name) is PATH_MAX - 1
 * bytes long, the most that fits, or with over set one byte more.
 */
static void
test_path_bound(const char *kw, int over)
{
	struct row	 r = { 0 };
	char		*text, *err_text = NULL, *want = NULL, *name, *title;
	size_t		 len, n;
	FILE		*fp;

	len = PATH_MAX - 1 - strlen(dir) - 1 + (over ? 1 : 0);
	if ((name = malloc(len + 1)) == NULL)
		die("malloc");
	memset(name, 'p', len);
	name[len] = '\0';
	if (asprintf(&text, R "%s %s\n", kw, name) == -1)
		die("asprintf");
	if (over) {
		if ((fp = open_memstream(&err_text, &n)) == NULL)
			die("open_memstream");
		fprintf(fp, ":2: %s \"%.*s...\": path too long\n", kw,
		    CONFIG_SHOW_MAX, name);
		(void)fclose(fp);
	} else if (asprintf(&want, "%s @D/%s\n", kw, name) == -1)
		die("asprintf");
	if (asprintf(&title, "%s path %s PATH_MAX - 1", kw,
	    over ? "one past" : "at") == -1)
		die("asprintf");
	r.name = title;
	r.text = text;
	r.err = err_text;
	r.want = want;
	run_row(&r);
	free(want);
	free(err_text);
	free(text);
	free(name);
	free(title);
}

static void
test_open_errors(void)
{
	struct config	*conf;
	char		 path[PATH_MAX], *err, *want;

	in_dir(path, sizeof(path), "nonexistent.conf");
	conf = load(path, &err);
	if (asprintf(&want, "%s: cannot open: No such file or directory\n",
	    path) == -1)
		die("asprintf");
	check_failed(conf, err, want, "missing file");
	free(want);
	free(err);

	conf = load("relative-missing.conf", &err);
	check_failed(conf, err, "relative-missing.conf: cannot open: "
	    "No such file or directory\n",
	    "missing file keeps the name as given");
	free(err);

	conf = load(dir, &err);
	if (asprintf(&want, "%s: cannot open: not a regular file\n", dir) ==
	    -1)
		die("asprintf");
	check_failed(conf, err, want, "directory as config");
	free(want);
	free(err);

	conf = load("/dev/null", &err);
	check_failed(conf, err, "/dev/null: cannot open: not a regular file\n",
	    "device as config");
	free(err);

	if (geteuid() == 0) {
		unit_check(1, "unreadable file # skip running as root");
		return;
	}
	in_dir(path, sizeof(path), "unreadable.conf");
	write_file(path, R, strlen(R));
	if (chmod(path, 0) == -1)
		die("chmod");
	conf = load(path, &err);
	if (asprintf(&want, "%s: cannot open: Permission denied\n", path) ==
	    -1)
		die("asprintf");
	check_failed(conf, err, want, "unreadable file");
	free(want);
	free(err);
}

/* Relative names are resolved and conf->path is absolute. */
static void
test_fields(void)
{
	struct config	*conf;
	struct listener	*l;
	char		 path[PATH_MAX], *err, *want;
	const char	*text = R "pidfile p\n\nuser nobody\ngroup nogroup\n"
	    "access_log a.log\nerror_log e.log\nlisten [::1]:8080\n"
	    "listen *:80\n";
	int		 n = 0;

	in_dir(path, sizeof(path), "tine.conf");
	write_file(path, text, strlen(text));
	conf = load(path, &err);
	unit_check(conf != NULL && err[0] == '\0', "fields: loads");
	free(err);
	if (conf == NULL)
		return;
	unit_check(strcmp(conf->path, path) == 0, "fields: path %s",
	    conf->path);
	want = subst("@D/www");
	unit_check(strcmp(conf->top.root, want) == 0, "fields: root %s",
	    conf->top.root);
	free(want);
	unit_check(conf->top.root_line == 1 && conf->pidfile_line == 2 &&
	    conf->user_line == 4 && conf->group_line == 5 &&
	    conf->top.access_log_line == 6 && conf->error_log_line == 7,
	    "fields: directive lines");
	unit_check(conf->error_log_to == LOG_TO_FILE, "fields: error_log file");
	unit_check(conf->workers_auto && conf->workers == util_nprocs(),
	    "fields: workers auto is nprocs (%d)", conf->workers);
	unit_check(conf->max_workers == (conf->workers > DEFAULT_MAX_WORKERS ?
	    conf->workers : DEFAULT_MAX_WORKERS), "fields: max_workers");
	unit_check(conf->max_header_size == DEFAULT_MAX_HEADER_BYTES &&
	    conf->max_body_size == DEFAULT_MAX_BODY_BYTES &&
	    conf->keepalive_requests == DEFAULT_KEEPALIVE_REQUESTS,
	    "fields: size defaults");
	TAILQ_FOREACH(l, &conf->listeners, entry) {
		n++;
		if (n == 1)
			unit_check(l->fd == -1 && l->line == 8 &&
			    l->ss.ss_family == AF_INET6 &&
			    l->sslen == sizeof(struct sockaddr_in6) &&
			    strcmp(l->name, "[::1]:8080") == 0,
			    "fields: first listener %s", l->name);
		else
			unit_check(l->fd == -1 && l->line == 9 &&
			    l->ss.ss_family == AF_INET &&
			    l->sslen == sizeof(struct sockaddr_in) &&
			    strcmp(l->name, "0.0.0.0:80") == 0,
			    "fields: second listener %s", l->name);
	}
	unit_check(n == 2, "fields: two listeners");
	config_free(conf);

	write_file(path, R, strlen(R));
	conf = load(path, &err);
	l = conf != NULL ? TAILQ_FIRST(&conf->listeners) : NULL;
	unit_check(l != NULL && l->line == 0 && l->fd == -1 &&
	    TAILQ_NEXT(l, entry) == NULL &&
	    strcmp(l->name, "0.0.0.0:8080") == 0,
	    "fields: default listener");
	unit_check(conf != NULL && conf->user[0] == '\0' &&
	    conf->group[0] == '\0' && conf->pidfile[0] == '\0' &&
	    conf->top.access_log[0] == '\0' && conf->error_log_to ==
	    LOG_TO_STDERR && conf->top.nindex == 1 && !conf->top.autoindex,
	    "fields: unset defaults");
	config_free(conf);
	free(err);
	config_free(NULL);
	unit_check(1, "config_free(NULL)");
}

static const struct {
	const char	*in;
	const char	*name;	/* NULL: error */
	int		 family;
	unsigned	 port;
	const char	*err;
} listens[] = {
	{ "*:8080", "0.0.0.0:8080", AF_INET, 8080, NULL },
	{ "[::]:8080", "[::]:8080", AF_INET6, 8080, NULL },
	{ "127.0.0.1:80", "127.0.0.1:80", AF_INET, 80, NULL },
	{ "[::1]:8080", "[::1]:8080", AF_INET6, 8080, NULL },
	{ "[2001:DB8::0:1]:443", "[2001:db8::1]:443", AF_INET6, 443, NULL },
	{ "255.255.255.255:65535", "255.255.255.255:65535", AF_INET, 65535,
	    NULL },
	{ "", NULL, 0, 0, "missing port" },
	{ "*", NULL, 0, 0, "missing port" },
	{ "*:08x", NULL, 0, 0, "port is invalid (1..65535)" },
	{ "* :80", NULL, 0, 0, "not a numeric address" },
	{ "*: 80", NULL, 0, 0, "port is invalid (1..65535)" },
	{ "01.2.3.4:80", NULL, 0, 0, "not a numeric address" },
	{ "[::1]:", NULL, 0, 0, "missing port" },
	{ "[0000:0000:0000:0000:0000:0000:0000:0000:0000]:1", NULL, 0, 0,
	    "not a numeric address" },
	{ "[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000]:1", NULL, 0, 0,
	    "not a numeric address" },
	{ "[::ffff:255.255.255.255]:1", "[::ffff:255.255.255.255]:1",
	    AF_INET6, 1, NULL },
};

static void
test_parse_listen(void)
{
	struct listener	 l;
	char		 err[ERRSTR_MAX], tiny[4];
	size_t		 i;
	int		 rc, ok;
	unsigned	 port;

	for (i = 0; i < nitems(listens); i++) {
		memset(&l, 0x55, sizeof(l));
		err[0] = '\0';
		rc = config_parse_listen(listens[i].in, &l, err, sizeof(err));
		if (listens[i].name != NULL) {
			port = l.ss.ss_family == AF_INET ?
			    ntohs(((struct sockaddr_in *)(void *)&l.ss)->
			    sin_port) :
			    ntohs(((struct sockaddr_in6 *)(void *)&l.ss)->
			    sin6_port);
			ok = rc == 0 && strcmp(l.name, listens[i].name) == 0 &&
			    l.ss.ss_family == listens[i].family &&
			    port == listens[i].port && l.fd == -1;
		} else
			ok = rc == -1 && strcmp(err, listens[i].err) == 0 &&
			    l.fd == -1;
		unit_check(ok, "parse_listen \"%s\" -> %s", listens[i].in,
		    listens[i].name != NULL ? l.name : err);
	}
	rc = config_parse_listen("localhost:80", &l, tiny, sizeof(tiny));
	unit_check(rc == -1 && strcmp(tiny, "not") == 0,
	    "parse_listen cuts the message to a small buffer");
}

/* Contexts from SPEC; a directive not listed is top level only. */
static const struct {
	const char	*name;
	unsigned	 ctx;
} spec_ctx[] = {
	{ "listen", CTX_MAIN | CTX_SERVER },
	{ "root", CTX_MAIN | CTX_SERVER | CTX_LOCATION },
	{ "index", CTX_MAIN | CTX_SERVER | CTX_LOCATION },
	{ "autoindex", CTX_MAIN | CTX_SERVER | CTX_LOCATION },
	{ "access_log", CTX_MAIN | CTX_SERVER },
	{ "tls_certificate", CTX_MAIN | CTX_SERVER },
	{ "tls_key", CTX_MAIN | CTX_SERVER },
	{ "header", CTX_MAIN | CTX_SERVER | CTX_LOCATION },
	{ "return", CTX_SERVER | CTX_LOCATION },
	{ "fallback", CTX_MAIN | CTX_SERVER | CTX_LOCATION },
	{ "error_page", CTX_MAIN | CTX_SERVER | CTX_LOCATION },
	{ "allow", CTX_MAIN | CTX_SERVER | CTX_LOCATION },
	{ "deny", CTX_MAIN | CTX_SERVER | CTX_LOCATION },
	{ "auth_basic", CTX_SERVER | CTX_LOCATION },
	{ "auth_file", CTX_MAIN | CTX_SERVER | CTX_LOCATION },
	{ "precompressed", CTX_MAIN | CTX_SERVER | CTX_LOCATION },
	{ "compress", CTX_MAIN | CTX_SERVER | CTX_LOCATION },
};

static bool
is_text_type(enum config_type t)
{
	return t == T_NAME || t == T_PATH || t == T_PATH_OFF || t == T_DIR ||
	    t == T_ERROR_LOG || t == T_URL_PATH || t == T_TEXT;
}

/* The table is consistent: what the parser and the dump rely on. */
static void
test_table(void)
{
	const struct directive	*d;
	unsigned		 want;
	size_t			 i, j;
	int			 ok;

	for (i = 0; i < nitems(types); i++)
		unit_check(types[i].name != NULL && types[i].set != NULL &&
		    types[i].dump != NULL, "type %zu (%s) has a setter and "
		    "a dumper", i, types[i].name != NULL ? types[i].name : "?");
	unit_check(nitems(types) == T_TYPES + 1,
	    "every type is in types[]");
	for (i = 0; i < nitems(directives); i++) {
		d = &directives[i];
		ok = d->type < nitems(types) && d->nargs_max >= 1 &&
		    d->nargs_max + 2 <= CONFIG_ARGS_MAX &&
		    d->ctx != 0 && (d->ctx & ~CTX_ANY) == 0 &&
		    config_lookup(d->name) == d;
		for (j = 0; j < i; j++)
			if (strcmp(directives[j].name, d->name) == 0)
				ok = 0;
		if (ok && types[d->type].scalar)
			ok = d->store != STORE_OTHER && d->nargs_max == 1 &&
			    d->min <= d->def && d->def <= d->max &&
			    (d->store != STORE_INT || d->max <= INT_MAX) &&
			    (d->store != STORE_BOOL || d->max == 1) &&
			    (d->type != T_SECONDS || d->max == TIMEOUT_MAX_S);
		/* A scope's text points to the config's strings. */
		if (ok && is_text_type(d->type))
			ok = config_scoped(d) ? d->store == STORE_STR &&
			    d->size == sizeof(char *) &&
			    d->off + d->size <= sizeof(struct scope) :
			    d->store == STORE_OTHER && d->size > 0 &&
			    d->off + d->size <= sizeof(struct config);
		if (ok && (d->type == T_LIST || d->type == T_TYPES))
			ok = d->count_off != 0 && d->off + d->size *
			    (size_t)d->nargs_max <= sizeof(struct config);
		unit_check(ok, "row %s is consistent", d->name);

		want = CTX_MAIN;
		for (j = 0; j < nitems(spec_ctx); j++)
			if (strcmp(spec_ctx[j].name, d->name) == 0)
				want = spec_ctx[j].ctx;
		unit_check(d->ctx == want, "row %s: contexts 0x%x as in SPEC",
		    d->name, d->ctx);
	}
	unit_check(config_lookup("nosuch") == NULL,
	    "lookup of an unknown name");
}

/* The context check on the lookup itself: no block parses yet. */
static void
test_contexts(void)
{
	static const struct {
		const char	*name;
		unsigned	 ctx;
		const char	*err;	/* NULL: allowed */
	} cases[] = {
		{ "root", CTX_MAIN, NULL },
		{ "root", CTX_SERVER, NULL },
		{ "root", CTX_LOCATION, NULL },
		{ "index", CTX_LOCATION, NULL },
		{ "autoindex", CTX_LOCATION, NULL },
		{ "listen", CTX_SERVER, NULL },
		{ "listen", CTX_LOCATION, "\"listen\" is not allowed here" },
		{ "access_log", CTX_SERVER, NULL },
		{ "access_log", CTX_LOCATION,
		    "\"access_log\" is not allowed here" },
		{ "workers", CTX_SERVER, "\"workers\" is not allowed here" },
		{ "user", CTX_LOCATION, "\"user\" is not allowed here" },
		{ "status_allow", CTX_SERVER,
		    "\"status_allow\" is not allowed here" },
		{ "keepalive_timeout", CTX_LOCATION,
		    "\"keepalive_timeout\" is not allowed here" },
		{ "nosuch", CTX_SERVER, "unknown directive \"nosuch\"" },
	};
	const struct directive	*d;
	struct parse		*p;
	struct config		*conf;
	char			*err, *want;
	size_t			 i;
	int			 ok;

	if ((conf = calloc(1, sizeof(*conf))) == NULL ||
	    (p = calloc(1, sizeof(*p))) == NULL)
		die("calloc");
	(void)strlcpy(conf->path, "/etc/tine.conf", sizeof(conf->path));
	p->conf = conf;
	p->line = 7;
	for (i = 0; i < nitems(cases); i++) {
		p->ctx = cases[i].ctx;
		p->errors = 0;
		capture_start();
		d = config_directive(p, cases[i].name);
		err = capture_end();
		if (cases[i].err == NULL)
			want = xstrdup("");
		else if (asprintf(&want, "/etc/tine.conf:7: %s\n",
		    cases[i].err) == -1)
			die("asprintf");
		ok = strcmp(err, want) == 0 && (cases[i].err == NULL ?
		    d != NULL && strcmp(d->name, cases[i].name) == 0 &&
		    p->errors == 0 : d == NULL && p->errors == 1);
		unit_check(ok, "context 0x%x: %s %s", cases[i].ctx,
		    cases[i].name,
		    cases[i].err == NULL ? "allowed" : "refused");
		if (!ok)
			printf("# want: %.*s\n# got: %.*s\n",
			    (int)strcspn(want, "\n"), want,
			    (int)strcspn(err, "\n"), err);
		free(want);
		free(err);
	}
	free(p);
	free(conf);
}

/*
 * Each typed setter against a made-up row on a real field, so the range
 * and the field come from the row: a value at the bound, one past it and
 * one of the wrong type, and the stored C type (int, size_t, off_t, bool).
 */
static void
test_setters(void)
{
	static const struct directive	 rows_num[] = {
		{ "n", T_NUMBER, CTX_MAIN, 1, false, FIELD(max_requests),
		    RANGE(5, 9, 7) },
		{ "s", T_SECONDS, CTX_MAIN, 1, false, FIELD(send_timeout),
		    SECONDS(2, 3) },
		{ "h", T_SIZE, CTX_MAIN, 1, false, FIELD(max_header_size),
		    RANGE(1024, 2048, 1024) },
		{ "b", T_SIZE, CTX_MAIN, 1, false, FIELD(max_body_size),
		    RANGE(0, (long long)1 << 40, 0) },
		{ "f", T_FLAG, CTX_MAIN, 1, false,
		    FIELD(tls_session_tickets), FLAG(false) },
		{ "u", T_NAME, CTX_MAIN, 1, false, FIELD(user), NO_RANGE },
		{ "p", T_PATH, CTX_MAIN, 1, false, FIELD(pidfile), NO_RANGE },
	};
	static const struct {
		size_t		 row;
		const char	*value;
		const char	*err;	/* NULL: accepted */
		long long	 stored;
	} cases[] = {
		{ 0, "9", NULL, 9 },
		{ 0, "5", NULL, 5 },
		{ 0, "10", "n \"10\" is too large (5..9)", 0 },
		{ 0, "4", "n \"4\" is too small (5..9)", 0 },
		{ 0, "x", "n \"x\" is invalid (5..9)", 0 },
		{ 1, "86400", NULL, 86400 },
		{ 1, "86401", "s \"86401\" is too large (2..86400)", 0 },
		{ 1, "1s", "s \"1s\" is invalid (2..86400)", 0 },
		{ 2, "2k", NULL, 2048 },
		{ 2, "2049", "h \"2049\" is too large (1024..2048)", 0 },
		{ 2, "2x", "h \"2x\" is invalid (1024..2048)", 0 },
		{ 3, "1048576m", NULL, (long long)1 << 40 },
		{ 3, "1048577m",
		    "b \"1048577m\" is too large (0..1099511627776)", 0 },
		{ 4, "on", NULL, 1 },
		{ 4, "off", NULL, 0 },
		{ 4, "yes", "f \"yes\" must be on or off", 0 },
		{ 5, "nobody", NULL, 0 },
		{ 5, "a:b", "invalid u name \"a:b\"", 0 },
		{ 6, "/run/x.pid", NULL, 0 },
		{ 6, "", "p: empty path", 0 },
	};
	const struct directive	*d;
	struct parse		*p;
	struct config		*conf;
	char			*argv[2], *err, *want, value[64];
	size_t			 i;
	int			 rc, ok;

	if ((conf = calloc(1, sizeof(*conf))) == NULL ||
	    (p = calloc(1, sizeof(*p))) == NULL)
		die("calloc");
	(void)strlcpy(conf->path, "/etc/tine.conf", sizeof(conf->path));
	(void)strlcpy(p->dir, "/etc", sizeof(p->dir));
	p->conf = conf;
	p->line = 3;
	p->ctx = CTX_MAIN;
	for (i = 0; i < nitems(cases); i++) {
		d = &rows_num[cases[i].row];
		(void)strlcpy(value, cases[i].value, sizeof(value));
		argv[0] = (char *)(uintptr_t)d->name;
		argv[1] = value;
		config_store(config_field(p, d), d, d->def);
		capture_start();
		rc = types[d->type].set(p, d, 1, argv);
		err = capture_end();
		if (cases[i].err == NULL)
			want = xstrdup("");
		else if (asprintf(&want, "/etc/tine.conf:3: %s\n",
		    cases[i].err) == -1)
			die("asprintf");
		ok = strcmp(err, want) == 0 && rc == (cases[i].err == NULL ?
		    0 : -1);
		if (ok && cases[i].err == NULL && d->store != STORE_OTHER)
			ok = config_fetch(conf, NULL, d) == cases[i].stored;
		if (ok && cases[i].err == NULL && d->store == STORE_OTHER)
			ok = strcmp(config_cfield(conf, NULL, d), value) == 0;
		unit_check(ok, "%s setter: %s \"%s\" %s", types[d->type].name,
		    d->name, cases[i].value,
		    cases[i].err == NULL ? "stored" : "refused");
		if (!ok)
			printf("# want: %.*s\n# got: %.*s\n",
			    (int)strcspn(want, "\n"), want,
			    (int)strcspn(err, "\n"), err);
		free(want);
		free(err);
	}
	/* Each C type is written whole, seen through the field itself. */
	for (i = 0; i < 5; i++)
		config_store(config_field(p, &rows_num[i]), &rows_num[i],
		    rows_num[i].max);
	unit_check(conf->max_requests == 9 && conf->send_timeout == 86400 &&
	    conf->max_header_size == 2048 &&
	    conf->max_body_size == (off_t)1 << 40 &&
	    conf->tls_session_tickets,
	    "int, size_t, off_t and bool fields hold the stored maximum");
	free(p);
	free(conf);
}

/* The dump loads back to the same config (tine -T output is valid). */
static void
test_round_trip(void)
{
	struct config	*a, *b = NULL;
	char		 path[PATH_MAX], path2[PATH_MAX];
	char		*err, *err2 = NULL, *d1, *d2 = NULL;
	const char	*text = "listen [::]:81\nlisten 127.0.0.1:82\n"
	    "root \"q\\\"d\\\\\"\nworkers 2\nmax_workers 7\nuser nobody\n"
	    "group nogroup\npidfile \"run dir/tine.pid\"\n"
	    "access_log a.log\nerror_log syslog\n"
	    "index \"#a\" \"b c\" d\\e\nautoindex on\nkeepalive_timeout 0\n"
	    "header_timeout 3\nshutdown_timeout 4\nsend_timeout 5\n"
	    "keepalive_requests 6\nmax_header_size 1m\nmax_body_size 0\n";

	in_dir(path, sizeof(path), "tine.conf");
	in_dir(path2, sizeof(path2), "sub/dump.conf");
	write_file(path, text, strlen(text));
	a = load(path, &err);
	unit_check(a != NULL && err[0] == '\0', "round trip: loads");
	if (a == NULL) {
		free(err);
		return;
	}
	d1 = dump(a);
	write_file(path2, d1, strlen(d1));
	b = load(path2, &err2);
	if (b != NULL)
		d2 = dump(b);
	unit_check(b != NULL && err2[0] == '\0' && strcmp(d1, d2) == 0,
	    "round trip: dump loads back the same");
	if (d2 == NULL || strcmp(d1, d2) != 0)
		printf("# first:\n%s# second:\n%s# err: %s", d1,
		    d2 != NULL ? d2 : "", err2);
	unit_check(strstr(d1, "\nindex \"#a\" \"b c\" d\\e\n") != NULL,
	    "round trip: index quoting");
	config_free(a);
	config_free(b);
	free(d1);
	free(d2);
	free(err);
	free(err2);
}

static void
test_runtime(void)
{
	struct config	*conf;
	char		 path[PATH_MAX], gone[PATH_MAX], *err, *want;
	const char	*text;
	int		 n;

	in_dir(path, sizeof(path), "tine.conf");
	text = R "pidfile tine.pid\naccess_log access.log\n"
	    "error_log file.txt\nuser root\ngroup root\n";
	write_file(path, text, strlen(text));
	conf = load(path, &err);
	free(err);
	unit_check(conf != NULL, "runtime: good config loads");
	if (conf != NULL) {
		capture_start();
		n = config_check_runtime(conf);
		err = capture_end();
		unit_check(n == 0 && err[0] == '\0', "runtime: no problems");
		free(err);
		config_free(conf);
	}

	text = "root gone\nuser nosuchuser_tine\ngroup nosuchgroup_tine\n"
	    "pidfile nodir/tine.pid\naccess_log .\n"
	    "error_log file.txt/e.log\n";
	in_dir(gone, sizeof(gone), "gone");
	if (mkdir(gone, 0755) == -1)
		die("mkdir");
	write_file(path, text, strlen(text));
	conf = load(path, &err);
	free(err);
	if (rmdir(gone) == -1)
		die("rmdir");
	unit_check(conf != NULL, "runtime: bad config loads");
	if (conf == NULL)
		return;
	capture_start();
	n = config_check_runtime(conf);
	err = capture_end();
	want = expect(":2: user \"nosuchuser_tine\" does not exist\n"
	    ":3: group \"nosuchgroup_tine\" does not exist\n"
	    ":1: root \"@D/gone\": No such file or directory\n"
	    ":4: pidfile \"@D/nodir/tine.pid\": cannot create in "
	    "\"@D/nodir\": No such file or directory\n"
	    ":5: access_log \"@D/.\": is a directory\n"
	    ":6: error_log \"@D/file.txt/e.log\": Not a directory\n", path);
	unit_check(n == 6 && strcmp(err, want) == 0,
	    "runtime: every problem at its line (%d)", n);
	if (strcmp(err, want) != 0)
		printf("# want:\n%s# got:\n%s", want, err);
	free(want);
	free(err);
	config_free(conf);
}

int
main(void)
{
	char	 tmpl[] = "/tmp/test_config.XXXXXX", sub[PATH_MAX];
	char	 cmd[PATH_MAX + 16];
	size_t	 i;

	if (mkdtemp(tmpl) == NULL || realpath(tmpl, dir) == NULL)
		die("mkdtemp");
	if (chdir("/") == -1)	/* relative names below resolve from / */
		die("chdir");
	in_dir(err_path, sizeof(err_path), "stderr");
	in_dir(sub, sizeof(sub), "www");
	if (mkdir(sub, 0755) == -1)
		die("mkdir www");
	in_dir(sub, sizeof(sub), "my site");
	if (mkdir(sub, 0755) == -1)
		die("mkdir my site");
	in_dir(sub, sizeof(sub), "q\"d\\");
	if (mkdir(sub, 0755) == -1)
		die("mkdir q\"d\\");
	in_dir(sub, sizeof(sub), "sub");
	if (mkdir(sub, 0755) == -1)
		die("mkdir sub");
	in_dir(sub, sizeof(sub), "file.txt");
	write_file(sub, "x", 1);

	for (i = 0; i < nitems(rows); i++)
		run_row(&rows[i]);
	test_generated();
	test_open_errors();
	test_fields();
	test_parse_listen();
	test_table();
	test_contexts();
	test_setters();
	test_round_trip();
	test_runtime();

	/* The directory holds only what this test made. */
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return unit_done();
}
