#!/usr/bin/env bash
# bench/flood/run.sh: flood scenarios on loopback against rampart and
# nginx, in the same run, in front of the same fixed-capacity origin
# (16 slots x 20 ms, about 800 req/s; see README.md).
#
# Scenarios, each against a freshly started proxy:
#   single: 256 connections at full rate from one address (127.0.100.1);
#   spread: 1,000 connections over 250 addresses (127.0.100.1-250);
# with 10 legitimate clients (127.0.2.1-10) at 20 req/s together, open
# loop, holding a clearance they earned by solving the challenge (rampart).
#
# rampart: rate_limit 50 r/s burst 100 per IP, under_attack auto,
# limits.max_conns_per_ip 10 (RAMPART_MAX_CONNS_PER_IP), origin_limits
# max_conns 16 (RAMPART_ORIGIN_MAX_CONNS, the origin's slots); it gets WARMUP (default 35s) of legitimate
# traffic first, so that auto mode learns its baseline (the detector
# needs 30 s of warm-up). nginx: limit_req 50 r/s burst 100 nodelay per
# IP, limit_conn 10 per IP.
#
# It installs nothing (nginx and go must be on PATH). Everything binds to
# 127.0.0.1 ports 18180-18191 (PORT_BASE moves them), is bounded in time (DURATION per scenario,
# default 20s) and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-35s}
SCENARIOS=${SCENARIOS:-"single spread"}
PROXIES=${PROXIES:-"rampart nginx"}
RAMPART_MAX_CONNS_PER_IP=${RAMPART_MAX_CONNS_PER_IP:-10}
RAMPART_ORIGIN_MAX_CONNS=${RAMPART_ORIGIN_MAX_CONNS:-16}
# PORT_BASE moves every port (another bench may hold 18180-18191).
PORT_BASE=${PORT_BASE:-18180}
ORIGIN_PORT=$PORT_BASE RAMPART_PORT=$((PORT_BASE + 1)) NGINX_PORT=$((PORT_BASE + 2)) ADMIN_PORT=$((PORT_BASE + 11))

for tool in nginx go; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found on PATH" >&2; exit 1; }
done
. bench/lib.sh
ports_free $ORIGIN_PORT $RAMPART_PORT $NGINX_PORT $ADMIN_PORT
ulimit -n 20000 2>/dev/null || true

workdir flood

echo "# building rampart and flood" >&2
go build -o "$W/rampart" ./cmd/rampart
go build -o "$W/flood" ./bench/flood

"$W/flood" origin -addr 127.0.0.1:$ORIGIN_PORT 2>"$W/origin.log" &
STARTED+=($!)

wait_port() {
	for _ in $(seq 100); do
		(exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0
		sleep 0.1
	done
	echo "run.sh: nothing listening on 127.0.0.1:$1; logs in $W" >&2
	cat "$W"/*.log >&2 || true
	exit 1
}
wait_port $ORIGIN_PORT

cat >"$W/rampart.yaml" <<CONF
listen: {http: "127.0.0.1:$RAMPART_PORT", admin: "127.0.0.1:$ADMIN_PORT"}
data_dir: $W/rampart-data
log: {format: "off", level: info}
compliance: {lists: ["$PWD/testdata/sanctions/un"]}
limits: {max_conns_per_ip: $RAMPART_MAX_CONNS_PER_IP}
zones:
  - host: site.bench
    origins: [http://127.0.0.1:$ORIGIN_PORT]
    rate_limit: {requests: 50, per: 1s, burst: 100}
    under_attack: auto
    # The origin's capacity: 16 slots. Queue (64) and queue_timeout (2s)
    # take their defaults.
    origin_limits: {max_conns: $RAMPART_ORIGIN_MAX_CONNS}
CONF

mkdir -p "$W/nginx/logs"
cat >"$W/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $W/nginx/nginx.pid;
error_log $W/nginx/logs/error.log error;
events { worker_connections 8192; }
http {
	access_log off;
	limit_req_zone \$binary_remote_addr zone=perip:10m rate=50r/s;
	limit_conn_zone \$binary_remote_addr zone=connip:10m;
	upstream origin { server 127.0.0.1:$ORIGIN_PORT; keepalive 256; }
	server {
		listen 127.0.0.1:$NGINX_PORT backlog=4096;
		limit_req zone=perip burst=100 nodelay;
		limit_conn connip 10;
		location / {
			proxy_pass http://origin;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}
}
CONF

# cpu_ticks PID: user+system clock ticks of PID and its children that
# are still running (nginx workers).
cpu_ticks() {
	local total=0 p
	for p in $1 $(pgrep -P "$1" 2>/dev/null); do
		total=$((total + $(awk '{print $14 + $15}' /proc/$p/stat 2>/dev/null || echo 0)))
	done
	echo $total
}

results=()
for proxy in $PROXIES; do
	for scenario in $SCENARIOS; do
		case $proxy in
		rampart)
			rm -rf "$W/rampart-data"
			"$W/rampart" serve --config "$W/rampart.yaml" >"$W/rampart.log" 2>&1 &
			PID=$!
			STARTED+=($PID)
			wait_port $RAMPART_PORT
			ARGS=(-target 127.0.0.1:$RAMPART_PORT -clearance-host site.bench -probe -warmup "$WARMUP")
			;;
		nginx)
			nginx -p "$W/nginx" -e "$W/nginx/logs/error.log" -c "$W/nginx/nginx.conf" -g 'daemon off;' &
			PID=$!
			STARTED+=($PID)
			wait_port $NGINX_PORT
			ARGS=(-target 127.0.0.1:$NGINX_PORT -warmup 5s)
			;;
		esac
		echo "# $proxy / $scenario" >&2
		cpu0=$(cpu_ticks "$PID")
		line=$("$W/flood" run -name "$proxy" -scenario "$scenario" -duration "$DURATION" \
			-origin http://127.0.0.1:$ORIGIN_PORT ${TIMELINE:+-timeline} "${ARGS[@]}" 2>>"$W/flood.log")
		cpu1=$(cpu_ticks "$PID")
		line+=$'\n'"         $proxy CPU over the whole run (warm-up, attack, tail): $(awk -v t=$((cpu1 - cpu0)) -v u=$TICK_US 'BEGIN { printf "%.1f s", t * u / 1e6 }'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
		echo "$line"
		results+=("$line")
		if [ "$proxy" = rampart ]; then
			grep -h 'under attack mode' "$W/rampart.log" | head -4 >&2 || true
			curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" 2>/dev/null | grep -E '^rampart_(blocked_total|under_attack|conn_rejected_total|challenge_results_total|origin_queue_(rejected|waits|admitted)_total|tarpit_held_total)' >&2 || true
		fi
		kill "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
		sleep 1
	done
done

echo
echo "# summary (legitimate: share answered 200, p50/p99 from the scheduled send time; origin: requests that reached it;"
echo "# targets: issue 4's, checked for each line; load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%s\n' "${results[@]}"
