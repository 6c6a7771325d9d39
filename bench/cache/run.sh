#!/usr/bin/env bash
# bench/cache/run.sh: cache-hit throughput of rampart against nginx with
# proxy_cache, in the same run, in front of the same origin
# (bench/cache/origin); then a coalescing check and an origin-down check.
#
#  1. Hits: for 1 KiB and 100 KiB bodies, both caches are warmed, then
#     wrk -t$THREADS -c$CONNS -d$DURATION runs ROUNDS times per cache; the
#     medians of requests/s, p50, p99 and p99.9 (bench/cache/latency.lua)
#     are printed with rampart/nginx ratios (tail target: p99 <= 1.5x
#     nginx's). For each rampart round, the Go runtime's view of the same
#     seconds is printed too (bench/cache/metrics-diff.sh over rampart's
#     /debug/metrics, RAMPART_PPROF on PORT_BASE+9): how long runnable
#     goroutines waited for a P, GC stop-the-world pauses and GC cycles.
#  2. Coalescing: BURST (1,000) concurrent requests, each on its own
#     connection, for one cold URL whose origin answers after 2 s; the
#     origin's hit count for that URL is printed (target: exactly 1). nginx
#     is measured the same way with proxy_cache_lock on.
#  3. Origin down: a URL with max-age=1, stale-if-error=600 is fetched,
#     the origin is stopped after it expires, and the answer is printed
#     (target: 200 with Rampart-Cache: STALE).
#
# With NETHTTP=1 (the default) it also measures bench/origin -nethttp, a
# bare net/http server answering the same bodies from memory without any
# edge logic: the floor of anything built on net/http's server, printed as
# "go-nethttp" for context.
#
# It installs nothing: wrk, nginx, curl and go must be on PATH. Everything
# binds to 127.0.0.1 ports PORT_BASE to PORT_BASE+10 (default 18380) and
# is stopped on exit. The load average is printed before and after: tail
# latency on a shared machine follows it, compare the ratios.
#
# Environment: DURATION (default 10s), ROUNDS (3), CONNS (64), THREADS
# (2), BURST (1000), SIZES ("1k 100k"), NETHTTP (1), PORT_BASE (18380),
# WRK_RT (0; 1 runs the measured wrk under chrt -f 10, as root: wrk, on
# the same 2 cores, is then never preempted by the server it measures, so
# the latencies leave out the client's own scheduling delays, which a Go
# server's threads cause more often than nginx's workers; see README.md,
# "Tail latency").
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
BURST=${BURST:-1000}
SIZES=${SIZES:-"1k 100k"}
NETHTTP=${NETHTTP:-1}
WRK_RT=${WRK_RT:-0}
WRK=(wrk)
[ "$WRK_RT" = 1 ] && WRK=(chrt -f 10 wrk)
PORT_BASE=${PORT_BASE:-18380}
ORIGIN_PORT=$PORT_BASE NGINX_PORT=$((PORT_BASE + 1)) RAMPART_PORT=$((PORT_BASE + 2))
FLOOR_1K=$((PORT_BASE + 3)) FLOOR_100K=$((PORT_BASE + 4)) ADMIN_PORT=$((PORT_BASE + 10))
PPROF_PORT=$((PORT_BASE + 9))

for tool in wrk nginx curl go; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found on PATH" >&2; exit 1; }
done
. bench/lib.sh
ports_free $ORIGIN_PORT $NGINX_PORT $RAMPART_PORT $FLOOR_1K $FLOOR_100K $ADMIN_PORT $PPROF_PORT

workdir cache

echo "# building rampart, the origin and burst" >&2
go build -o "$W/rampart" ./cmd/rampart
go build -o "$W/origin" ./bench/cache/origin
go build -o "$W/burst" ./bench/cache/burst
go build -o "$W/floor" ./bench/origin

"$W/origin" -listen 127.0.0.1:$ORIGIN_PORT >"$W/origin.log" 2>&1 &
ORIGIN_PID=$!
STARTED+=($ORIGIN_PID)

mkdir -p "$W/nginx/logs" "$W/nginx/cache"
cat >"$W/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $W/nginx/nginx.pid;
error_log $W/nginx/logs/error.log warn;
events { worker_connections 8192; }
http {
	access_log off;
	keepalive_requests 10000000;
	upstream origin { server 127.0.0.1:$ORIGIN_PORT; keepalive 512; }
	proxy_cache_path $W/nginx/cache levels=1:2 keys_zone=rc:64m max_size=1g inactive=1h use_temp_path=off;
	server {
		listen 127.0.0.1:$NGINX_PORT;
		location / {
			proxy_pass http://origin;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_cache rc;
			proxy_cache_lock on;
			proxy_cache_lock_timeout 30s;
			proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
			add_header X-Cache \$upstream_cache_status;
		}
	}
}
CONF
nginx -p "$W/nginx" -e "$W/nginx/logs/error.log" -c "$W/nginx/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
STARTED+=($NGINX_PID)

cat >"$W/rampart.yaml" <<CONF
listen: {http: "127.0.0.1:$RAMPART_PORT", admin: "127.0.0.1:$ADMIN_PORT"}
data_dir: $W/rampart-data
log: {format: "off", level: warn}
compliance: {lists: ["$PWD/testdata/sanctions/un"]}
cache: {memory: 256MiB}
zones:
  - host: 127.0.0.1
    origins: [http://127.0.0.1:$ORIGIN_PORT]
    cache: {enabled: true}
CONF
RAMPART_PPROF=127.0.0.1:$PPROF_PORT "$W/rampart" serve --config "$W/rampart.yaml" >"$W/rampart.log" 2>&1 &
RAMPART_PID=$!
STARTED+=($RAMPART_PID)

wait_ok() {
	for _ in $(seq 300); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/1k" 2>/dev/null)" = 200 ] && return 0
		sleep 0.1
	done
	echo "run.sh: $2 on port $1 does not answer" >&2
	for f in "$W"/*.log "$W"/nginx/logs/error.log; do [ -s "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done
	return 1
}
CACHES=("nginx:$NGINX_PORT" "rampart:$RAMPART_PORT")
if [ "$NETHTTP" = 1 ]; then
	"$W/floor" -nethttp -size 1024 -listen 127.0.0.1:$FLOOR_1K >"$W/floor1k.log" 2>&1 &
	STARTED+=($!)
	"$W/floor" -nethttp -size 102400 -listen 127.0.0.1:$FLOOR_100K >"$W/floor100k.log" 2>&1 &
	STARTED+=($!)
fi
wait_ok $ORIGIN_PORT origin
wait_ok $NGINX_PORT nginx
wait_ok $RAMPART_PORT rampart
if [ "$NETHTTP" = 1 ]; then wait_ok $FLOOR_1K go-nethttp; wait_ok $FLOOR_100K go-nethttp; fi
# port_of NAME SIZE: where NAME serves SIZE.
port_of() {
	case $1 in
	nginx) echo $NGINX_PORT ;;
	rampart) echo $RAMPART_PORT ;;
	go-nethttp) [ "$2" = 1k ] && echo $FLOOR_1K || echo $FLOOR_100K ;;
	esac
}
NAMES="nginx rampart"
[ "$NETHTTP" = 1 ] && NAMES="$NAMES go-nethttp"

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "# $(date -u +%FT%TZ) $(nproc) cores; wrk -t$THREADS -c$CONNS -d$DURATION; $ROUNDS rounds; medians; load average $LOAD_BEFORE; WRK_RT=$WRK_RT" >&2
RESULTS="$W/results.tsv"
: >"$RESULTS"
for size in $SIZES; do
	for p in "nginx:$NGINX_PORT" "rampart:$RAMPART_PORT"; do
		IFS=: read -r name port <<<"$p"
		curl -s -o /dev/null "http://127.0.0.1:$port/$size"
		curl -s -o /dev/null "http://127.0.0.1:$port/$size"
		wrk -t"$THREADS" -c"$CONNS" -d2s "http://127.0.0.1:$port/$size" >/dev/null # warm-up
	done
	hdr_r=$(curl -s -D - -o /dev/null "http://127.0.0.1:$RAMPART_PORT/$size" | tr -d '\r' | awk -F': ' 'tolower($1) == "rampart-cache" {print $2}')
	hdr_n=$(curl -s -D - -o /dev/null "http://127.0.0.1:$NGINX_PORT/$size" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-cache" {print $2}')
	echo "# $size warmed: rampart Rampart-Cache=$hdr_r, nginx X-Cache=$hdr_n" >&2
	[ "$NETHTTP" = 1 ] && wrk -t"$THREADS" -c"$CONNS" -d2s "http://127.0.0.1:$(port_of go-nethttp "$size")/$size" >/dev/null
	for round in $(seq "$ROUNDS"); do
		for name in $NAMES; do
			port=$(port_of "$name" "$size")
			[ "$name" = rampart ] && curl -s "http://127.0.0.1:$PPROF_PORT/debug/metrics" >"$W/metrics.before"
			out=$("${WRK[@]}" -t"$THREADS" -c"$CONNS" -d"$DURATION" -s bench/cache/latency.lua "http://127.0.0.1:$port/$size")
			rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
			# latency.lua: pct p50 p90 p99 p99.9 max, in ms
			read -r p50 p99 p999 < <(awk '$1 == "pct" {print $2, $4, $5}' <<<"$out")
			bad=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
			rt=""
			if [ "$name" = rampart ]; then
				curl -s "http://127.0.0.1:$PPROF_PORT/debug/metrics" >"$W/metrics.after"
				md=$(bench/cache/metrics-diff.sh "$W/metrics.before" "$W/metrics.after")
				rt="; go runtime: $md"
				echo "$size round $round: $md" >>"$W/runtime.txt"
			fi
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$name" "$round" "$rps" "$p99" "${bad:-0}" "$p50" "$p999" >>"$RESULTS"
			echo "#   $size $name round $round: $rps req/s, p50 ${p50} p99 ${p99} p99.9 ${p999} ms, non-2xx ${bad:-0}, load $(cut -d' ' -f1 /proc/loadavg)$rt" >&2
		done
	done
done

echo
echo "cache hits (median of $ROUNDS x ${WRK[*]} -t$THREADS -c$CONNS -d$DURATION; load average $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after)"
printf '%-6s %-10s %12s %9s %9s %9s\n' body cache 'req/s' 'p50 ms' 'p99 ms' 'p99.9 ms'
for size in $SIZES; do
	for name in $NAMES; do
		rps=$(awk -v s="$size" -v n="$name" '$1 == s && $2 == n {print $4}' "$RESULTS" | median)
		p50=$(awk -v s="$size" -v n="$name" '$1 == s && $2 == n {print $7}' "$RESULTS" | median)
		p99=$(awk -v s="$size" -v n="$name" '$1 == s && $2 == n {print $5}' "$RESULTS" | median)
		p999=$(awk -v s="$size" -v n="$name" '$1 == s && $2 == n {print $8}' "$RESULTS" | median)
		printf '%-6s %-10s %12.0f %9.3f %9.3f %9.3f\n' "$size" "$name" "$rps" "$p50" "$p99" "$p999"
		eval "RPS_${name//-/_}_${size}=$rps"
	done
	r=$(eval echo "\$RPS_rampart_${size}") n=$(eval echo "\$RPS_nginx_${size}")
	awk -v r="$r" -v n="$n" -v s="$size" 'BEGIN { printf "%-6s ratio rampart/nginx req/s: %.2fx (target >= 1.0x)\n", s, r / n }'
	# The tail: the median of the per-round ratios (rampart and nginx run
	# one after the other in each round), less moved by the load drifting
	# between rounds than the ratio of the medians.
	for col in 5:p99 8:p99.9; do
		IFS=: read -r c label <<<"$col"
		awk -F'\t' -v s="$size" -v c="$c" -v label="$label" '
		$1 == s && $2 == "nginx" { n[$3] = $c } $1 == s && $2 == "rampart" { r[$3] = $c }
		END {
			k = 0
			for (i in r) if ((i in n) && n[i] > 0) a[++k] = r[i] / n[i]
			for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
			m = k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
			printf "%-6s ratio rampart/nginx %s, median of per-round ratios: %.2fx (%.2fx to %.2fx)%s\n", s, label, m, a[1], a[k], label == "p99" ? " (target <= 1.5x)" : ""
		}' "$RESULTS"
	done
	{ grep "^$size " "$W/runtime.txt" || true; } | sed 's/^/       rampart /'
	if [ "$NETHTTP" = 1 ]; then
		f=$(eval echo "\$RPS_go_nethttp_${size}")
		awk -v r="$r" -v f="$f" -v s="$size" 'BEGIN { printf "%-6s ratio rampart/go-nethttp floor req/s: %.2fx\n", s, r / f }'
	fi
done

echo
echo "coalescing: $BURST concurrent requests for one cold URL, origin answering after 2 s"
for p in "rampart:$RAMPART_PORT" "nginx:$NGINX_PORT"; do
	IFS=: read -r name port <<<"$p"
	before=$(curl -s "http://127.0.0.1:$ORIGIN_PORT/count")
	out=$("$W/burst" -n "$BURST" -url "http://127.0.0.1:$port/slow-$name")
	after=$(curl -s "http://127.0.0.1:$ORIGIN_PORT/count")
	echo "$name: origin hits $((after - before)) (target 1); answers: $(paste -sd, <<<"$out")"
done

echo
echo "origin down: /sie (max-age=1, stale-if-error=600) after the origin stops"
curl -s -o /dev/null "http://127.0.0.1:$RAMPART_PORT/sie"
curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/sie"
sleep 1.5
kill "$ORIGIN_PID"; wait "$ORIGIN_PID" 2>/dev/null || true
r=$(curl -s -D - -o /dev/null "http://127.0.0.1:$RAMPART_PORT/sie" | tr -d '\r' | awk 'NR == 1 {c = $2} tolower($1) == "rampart-cache:" {s = $2} END {print c, s}')
n=$(curl -s -D - -o /dev/null "http://127.0.0.1:$NGINX_PORT/sie" | tr -d '\r' | awk 'NR == 1 {c = $2} tolower($1) == "x-cache:" {s = $2} END {print c, s}')
echo "rampart: $r (target 200 STALE)"
echo "nginx:   $n"
echo "rampart RSS: $(awk '/^VmRSS:/ {print $2, $3}' /proc/$RAMPART_PID/status) (memory budget 256MiB)"
