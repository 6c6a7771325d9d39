#!/usr/bin/env bash
# bench/cache/run.sh: cache-hit throughput of rampart against nginx with
# proxy_cache, in the same run, in front of the same origin
# (bench/cache/origin); then a coalescing check and an origin-down check.
#
#  1. Hits: for 1 KiB and 100 KiB bodies, both caches are warmed, then
#     wrk -t$THREADS -c$CONNS -d$DURATION runs ROUNDS times per cache; the
#     medians of requests/s and p99 are printed with rampart/nginx ratios.
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
# is stopped on exit.
#
# Environment: DURATION (default 10s), ROUNDS (3), CONNS (64), THREADS
# (2), BURST (1000), SIZES ("1k 100k"), NETHTTP (1), PORT_BASE (18380).
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
BURST=${BURST:-1000}
SIZES=${SIZES:-"1k 100k"}
NETHTTP=${NETHTTP:-1}
PORT_BASE=${PORT_BASE:-18380}
ORIGIN_PORT=$PORT_BASE NGINX_PORT=$((PORT_BASE + 1)) RAMPART_PORT=$((PORT_BASE + 2))
FLOOR_1K=$((PORT_BASE + 3)) FLOOR_100K=$((PORT_BASE + 4)) ADMIN_PORT=$((PORT_BASE + 10))

for tool in wrk nginx curl go; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found on PATH" >&2; exit 1; }
done
. bench/lib.sh
ports_free $ORIGIN_PORT $NGINX_PORT $RAMPART_PORT $FLOOR_1K $FLOOR_100K $ADMIN_PORT

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
"$W/rampart" serve --config "$W/rampart.yaml" >"$W/rampart.log" 2>&1 &
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

echo "# $(date -u +%FT%TZ) $(nproc) cores; wrk -t$THREADS -c$CONNS -d$DURATION; $ROUNDS rounds; medians" >&2
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
			out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:$port/$size")
			rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
			p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
			bad=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
			printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$name" "$round" "$rps" "$p99" "${bad:-0}" >>"$RESULTS"
			echo "#   $size $name round $round: $rps req/s, p99 ${p99} ms, non-2xx ${bad:-0}" >&2
		done
	done
done

echo
echo "cache hits (median of $ROUNDS x wrk -t$THREADS -c$CONNS -d$DURATION)"
printf '%-6s %-10s %12s %10s\n' body cache 'req/s' 'p99 ms'
for size in $SIZES; do
	for name in $NAMES; do
		rps=$(awk -v s="$size" -v n="$name" '$1 == s && $2 == n {print $4}' "$RESULTS" | median)
		p99=$(awk -v s="$size" -v n="$name" '$1 == s && $2 == n {print $5}' "$RESULTS" | median)
		printf '%-6s %-10s %12.0f %10.3f\n' "$size" "$name" "$rps" "$p99"
		eval "RPS_${name//-/_}_${size}=$rps"
	done
	r=$(eval echo "\$RPS_rampart_${size}") n=$(eval echo "\$RPS_nginx_${size}")
	awk -v r="$r" -v n="$n" -v s="$size" 'BEGIN { printf "%-6s ratio rampart/nginx req/s: %.2fx (target >= 1.0x)\n", s, r / n }'
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
