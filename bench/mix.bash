# bench/mix.bash: the `mix` scenario of scripts/bench, which sources it:
# a realistic site rather than one small file. Uses what scripts/bench
# defines (T, PORT, LOAD, start_server, stop_server, tree_cpu_ns,
# cpu_ticks, rotate, truncate_logs, say, die) and writes its own data
# ($T/mix.data) and its own report section.
#
# The site: MIX_FILES files in nested directories, sizes and types from
# HTTP Archive's Web Almanac (bench/mix-corpus.awk names the figures),
# the same bytes and ranking every run (seed MIX_SEED). Requests: Zipf
# popularity, exponent MIX_ZIPF, over MIX_CONNS keep-alive connections,
# MIX_COND_PCT % of them conditional (If-None-Match with the file's
# ETag, as a browser revalidating its copy); each connection's sequence
# of files is fixed by the seed (bench/load.c -L), so every server gets
# the same requests.
#
# ETags: each server computes its own (tine, nginx and lighttpd use
# different recipes), so before its first run each server is asked for
# every file with a HEAD request and its answers make that server's
# list; a file without an ETag, or a status other than 200, stops the
# scenario. A 304 then means the server recognised its own validator,
# and a wrong answer shows in the status counts: every run reports 200,
# 304 and other answers, and how many conditional requests were sent.
#
# Rounds: for each connection count, each server (order rotated) starts
# fresh, the page cache is dropped (sync; echo 3 >
# /proc/sys/vm/drop_caches: the whole machine's, so this runs as root
# only, else the cold runs are skipped) and the cold run starts at
# once; then every file is read once and the warm run follows on the
# same server. During each run the number of the server's processes is
# sampled every MIX_SAMPLE_S (from /proc, no request to the server), to
# show how a pool grows; CPU per request is the servers' scheduler run
# time, as in the load scenarios, and cpu0/cpu1 % say how busy the
# server's and the client's CPUs were.
MIX_FILES=10000
MIX_SEED=19
MIX_ZIPF=1
MIX_COND_PCT=20
MIX_CONNS=(32 256)
MIX_SAMPLE_S=0.25
MIX_SERVERS_ALL=" tine nginx lighttpd "
# lighttpd's stat cache keeps a descriptor per file served: with the 8192
# of the load scenarios it answers 403 to every file past the 8181st
# (seen with 1.4.69), so a site of MIX_FILES gets room for all of them.
MIX_LIGHTTPD_FDS=65536
MIX_DIR=$T/mix
MIX_ROOT=$MIX_DIR/www
MIX_DATA=$T/mix.data
MIX_NAMES=()		# the servers of this run: mtine, mnginx, mlighttpd

# conf_mix name: writes the config of mtine, mnginx or mlighttpd
conf_mix() {
	case $1 in
	mtine)
		conf_tine load mtine
		sed -i "s|^root .*|root $MIX_ROOT|" "$T/mtine.conf"
		;;
	mnginx)
		mkdir -p "$T/mnginx"
		cat >"$T/mnginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $T/mnginx.pid;
error_log $T/mnginx-error.log;
events { worker_connections 4096; }
http {
	types {
		text/html html; text/css css; text/javascript js;
		image/jpeg jpg; image/png png; image/webp webp;
		font/woff2 woff2;
	}
	default_type application/octet-stream;
	access_log $( [ $log = 1 ] && echo "$T/mnginx-access.log combined" ||
	    echo off);
	sendfile on;
	keepalive_timeout $KEEPALIVE_S;
	keepalive_requests $KEEPALIVE_REQUESTS;
	client_body_temp_path $T/mnginx/body;
	proxy_temp_path $T/mnginx/proxy;
	fastcgi_temp_path $T/mnginx/fastcgi;
	uwsgi_temp_path $T/mnginx/uwsgi;
	scgi_temp_path $T/mnginx/scgi;
	server {
		listen 127.0.0.1:${PORT[mnginx]};
		root $MIX_ROOT;
	}
}
CONF
		;;
	mlighttpd)
		cat >"$T/mlighttpd.conf" <<CONF
server.modules = ( "mod_accesslog" )
server.bind = "127.0.0.1"
server.port = ${PORT[mlighttpd]}
server.document-root = "$MIX_ROOT"
server.pid-file = "$T/mlighttpd.pid"
server.errorlog = "$T/mlighttpd-error.log"
server.max-worker = 2
server.max-keep-alive-idle = $KEEPALIVE_S
server.max-keep-alive-requests = $KEEPALIVE_REQUESTS
server.max-connections = 4096
server.max-fds = $MIX_LIGHTTPD_FDS
mimetype.assign = ( ".html" => "text/html", ".css" => "text/css",
    ".js" => "text/javascript", ".jpg" => "image/jpeg",
    ".png" => "image/png", ".webp" => "image/webp",
    ".woff2" => "font/woff2" )
CONF
		if [ $log = 1 ]; then
			echo "accesslog.filename = \"$T/mlighttpd-access.log\"" \
			    >>"$T/mlighttpd.conf"
		fi
		;;
	esac
}

mix_cmd() {	# name: sets CMD, for server_cmd
	case $1 in
	mtine) CMD=("$TINE" -d -f "$T/mtine.conf") ;;
	mnginx) CMD=(nginx -p "$T/mnginx/" -e "$T/mnginx-error.log"
	    -c "$T/mnginx.conf") ;;
	mlighttpd) CMD=(lighttpd -D -f "$T/mlighttpd.conf") ;;
	esac
}

# mix_corpus: the files and $MIX_DIR/rank ("PATH BYTES TYPE", most popular
# first)
mix_corpus() {
	mkdir -p "$MIX_ROOT"
	awk -v root="$MIX_ROOT" -v files=$MIX_FILES -v seed=$MIX_SEED \
	    -f bench/mix-corpus.awk >"$MIX_DIR/rank" ||
	    die "bench/mix-corpus.awk failed"
	[ "$(wc -l <"$MIX_DIR/rank")" = $MIX_FILES ] ||
	    die "mix: not $MIX_FILES files"
	# the start-up probe asks for /4k.html
	cp "$T/www/4k.html" "$MIX_ROOT/"
	chmod -R a+rX "$MIX_DIR"
	awk '{ n[$3]++; b[$3] += $2; t += $2 }
		END {
			for (k in n)
				printf "X type %s %d %d\n", k, n[k], b[k]
			printf "X total %d %d\n", NR, t
		}' "$MIX_DIR/rank" >>"$MIX_DATA"
}

# mix_etags name: $MIX_DIR/list.NAME, "PATH ETAG" in rank order, from one
# HEAD request per file over one keep-alive connection (curl -K)
mix_etags() {
	local n=$1 port=${PORT[$1]}
	awk -v base="http://127.0.0.1:$port" '{
		printf "url = \"%s%s\"\noutput = \"/dev/null\"\n", base, $1
	}' "$MIX_DIR/rank" >"$MIX_DIR/curl.$n"
	curl -s --head --max-time 120 -w '%{http_code} %header{etag}\n' \
	    -K "$MIX_DIR/curl.$n" >"$MIX_DIR/heads.$n" ||
	    die "mix: curl could not ask $n for the ETags"
	paste -d' ' "$MIX_DIR/rank" "$MIX_DIR/heads.$n" | awk -v n="$n" '
		NF != 5 || $4 != 200 || $5 == "" {
			printf "mix: %s: %s answers %s with no ETag\n", n, $1,
			    $4 > "/dev/stderr"
			bad = 1
			exit 1
		}
		{ print $1, $5 }
		END { exit bad }' >"$MIX_DIR/list.$n" ||
	    die "mix: $n gave no ETag for every file"
	[ "$(wc -l <"$MIX_DIR/list.$n")" = $MIX_FILES ] ||
	    die "mix: $n: not $MIX_FILES ETags"
}

# mix_sample pid out: every MIX_SAMPLE_S, "SECONDS PROCESSES" of the
# tree under pid (the master and its workers) into out, until killed
mix_sample() {
	local pid=$1 out=$2 t0=$EPOCHREALTIME
	while :; do
		echo "$(awk -v a="$t0" -v b="$EPOCHREALTIME" \
		    'BEGIN { printf "%.2f", b - a }') $(tree "$pid" | wc -l)"
		sleep "$MIX_SAMPLE_S"
	done >"$out"
}

mix_drop_cache() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

mix_read_all() {	# every file once, into the page cache
	find "$MIX_ROOT" -type f -exec cat {} + >/dev/null
}

# mix_run round phase(cold|warm) conns name
mix_run() {
	local r=$1 ph=$2 c=$3 n=$4 t0 t1 out a0 a1 b0 b1 spid samples
	samples=$MIX_DIR/pool.$n.$c.$ph.$r
	if [ "$ph" = cold ]; then
		mix_drop_cache
	else
		mix_read_all
	fi
	mix_sample "${SPID[$n]}" "$samples" &
	spid=$!
	LIVE[$spid]=1
	a0=$(cpu_ticks 0) b0=$(cpu_ticks 1)
	t0=$(tree_cpu_ns "${SPID[$n]}")
	out=$("${PIN_CLI[@]}" "$LOAD" -d "$MIX_S" -t $((MIX_S + 5)) -c "$c" \
	    -L "$MIX_DIR/list.$n" -i $MIX_COND_PCT -z $MIX_ZIPF -x $MIX_SEED \
	    "127.0.0.1:${PORT[$n]}" || true)
	t1=$(tree_cpu_ns "${SPID[$n]}")
	a1=$(cpu_ticks 0) b1=$(cpu_ticks 1)
	kill_wait "$spid" 2
	[ -n "$out" ] || die "load client failed against $n"
	out="$out $(awk -v a0="$a0" -v a1="$a1" -v b0="$b0" -v b1="$b1" '
		function pct(x, y,    p, q) {
			split(x, p, " ")
			split(y, q, " ")
			if (q[2] <= p[2])
				return 0
			return 100 * (q[1] - p[1]) / (q[2] - p[2])
		}
		BEGIN { printf "cpu0_pct=%.0f cpu1_pct=%.0f", pct(a0, a1),
		    pct(b0, b1) }') $(awk '
		NR == 1 { first = $2 }
		$2 > max { max = $2; at = $1 }
		END { printf "procs_start=%d procs_max=%d procs_max_s=%.2f",
		    first, max, at }' "$samples")"
	echo "M $r $ph $c ${n#m} $((t1 - t0)) $out" >>"$MIX_DATA"
	say "round $r mix-$ph$c ${n#m}: $out"
	truncate_logs
}

mix_main() {
	local t_mix=$SECONDS s n r c ph phases="cold warm"
	for s in "${SERVERS[@]}"; do
		[[ $MIX_SERVERS_ALL == *" $s "* ]] && MIX_NAMES+=("m$s")
	done
	if [ ${#MIX_NAMES[@]} -eq 0 ]; then
		say "mix runs on tine, nginx and lighttpd, none of ${SERVERS[*]}"
		return 0
	fi
	if [ ! -w /proc/sys/vm/drop_caches ]; then
		say "mix: cannot drop the page cache (not root): warm runs only"
		phases=warm
	fi
	mkdir -p "$MIX_DIR"
	mix_corpus
	say "mix: $MIX_FILES files ($(awk '$2 == "total" {
	    printf "%.0f MB", $4 / 1e6 }' "$MIX_DATA")), servers" \
	    "${MIX_NAMES[*]#m}; $MIX_ROUNDS round(s) of ${MIX_S} s runs"
	for n in "${MIX_NAMES[@]}"; do
		conf_mix "$n"
	done
	for ((r = 1; r <= MIX_ROUNDS; r++)); do
		for c in "${MIX_CONNS[@]}"; do
			for n in $(rotate $r "${MIX_NAMES[@]}"); do
				start_server "$n" load
				[ -s "$MIX_DIR/list.$n" ] || mix_etags "$n"
				truncate_logs
				for ph in $phases; do
					mix_run "$r" "$ph" "$c" "$n"
				done
				stop_server "$n"
			done
		done
	done
	say "mix took $((SECONDS - t_mix)) s"
}

mix_report() {
	[ -s "$MIX_DATA" ] || return 0
	awk -v rounds="$MIX_ROUNDS" -v dur="$MIX_S" -v files=$MIX_FILES \
	    -v zipf=$MIX_ZIPF -v cond=$MIX_COND_PCT -v seed=$MIX_SEED \
	    -f bench/mix-report.awk "$MIX_DATA"
}
