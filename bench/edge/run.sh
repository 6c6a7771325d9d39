#!/usr/bin/env bash
# bench/edge/run.sh: proxied 1 KiB GETs over keep-alive on loopback through
# rampart, nginx and Caddy (and HAProxy with HAPROXY=1), all in front of
# the same origin, in the same run. For each proxy and each wrk connection
# count it takes the median of ROUNDS runs of requests/s, p50, p99 and the
# proxy's CPU per request (utime+stime of all its processes from
# /proc/PID/stat, before and after the run, divided by the requests served),
# and its RSS; then it holds 1,000 idle keep-alive connections to each proxy
# (bench/idleconns) and reports the RSS.
#
# It installs nothing: wrk, nginx and caddy must be on PATH (haproxy for
# HAPROXY=1). Everything binds to 127.0.0.1 ports 18080-18090 and is
# stopped on exit.
#
# Environment: DURATION (per run, default 10s), ROUNDS (default 3),
# CONNS (default "64 256"), THREADS (wrk -t, default 2), IDLE (idle
# connections, default 1000; 0 skips), PROXYONLY (1, default, also measures
# internal/proxy behind a bare net/http server, without the edge),
# HAPROXY (0 by default), NETHTTP (1, default, also measures a Go net/http
# server answering 1 KiB itself: the floor of any proxy built on net/http's
# server), RAMPART_NETHTTP (1, default, also measures a second rampart with
# listen.server: net/http, the standard library's server loop instead of
# internal/h1, row "rampart-nh"), ROLLUPS (1, default, also measures a
# third rampart with the dashboard's traffic rollups off, dashboard:
# {traffic: false}, row "rampart-nr", and prints the CPU per request of
# rampart (rollups on) against it: what the rollups cost the edge),
# PEERS (1, default, measures nginx and Caddy; 0 leaves them out, for a
# quicker rollups on/off run with more rounds), RAMPART_LISTS (see below).
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-"64 256"}
THREADS=${THREADS:-2}
IDLE=${IDLE:-1000}
PROXYONLY=${PROXYONLY:-1}
HAPROXY=${HAPROXY:-0}
NETHTTP=${NETHTTP:-1}
RAMPART_NETHTTP=${RAMPART_NETHTTP:-1}
ROLLUPS=${ROLLUPS:-1}
PEERS=${PEERS:-1}

ORIGIN_PORT=18080 NGINX_PORT=18081 CADDY_PORT=18082 RAMPART_PORT=18083
PROXYONLY_PORT=18084 HAPROXY_PORT=18085 NETHTTP_PORT=18086 ADMIN_PORT=18090
RAMPART_NH_PORT=18087 ADMIN_NH_PORT=18091 RAMPART_NR_PORT=18088 ADMIN_NR_PORT=18092

for tool in wrk nginx caddy go curl; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found on PATH (install it first)" >&2; exit 1; }
done
if [ "$HAPROXY" = 1 ]; then command -v haproxy >/dev/null || { echo "run.sh: haproxy not found" >&2; exit 1; }; fi
. bench/lib.sh
ports_free $ORIGIN_PORT $NGINX_PORT $CADDY_PORT $RAMPART_PORT $PROXYONLY_PORT $HAPROXY_PORT $NETHTTP_PORT $ADMIN_PORT $RAMPART_NH_PORT $ADMIN_NH_PORT \
	$RAMPART_NR_PORT $ADMIN_NR_PORT

workdir edge

echo "# building rampart, proxyonly and idleconns" >&2
go build -o "$W/rampart" ./cmd/rampart
go build -o "$W/proxyonly" ./bench/edge/proxyonly
go build -o "$W/idleconns" ./bench/idleconns
go build -o "$W/origin-go" ./bench/origin

# The origin: nginx serving a static 1 KiB file with one worker.
mkdir -p "$W/nginx/logs"
origin_nginx $ORIGIN_PORT

# nginx as a reverse proxy: one worker per core, keep-alive to the origin.
cat >"$W/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $W/nginx/nginx.pid;
error_log $W/nginx/logs/error.log warn;
events { worker_connections 8192; }
http {
	access_log off;
	keepalive_requests 10000000;
	upstream origin { server 127.0.0.1:$ORIGIN_PORT; keepalive 512; }
	server {
		listen 127.0.0.1:$NGINX_PORT;
		location / {
			proxy_pass http://origin;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}
}
CONF
nginx -p "$W/nginx" -e "$W/nginx/logs/error.log" -c "$W/nginx/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
STARTED+=($NGINX_PID)

# Caddy with its defaults (no access log), admin API off.
cat >"$W/Caddyfile" <<CONF
{
	admin off
	auto_https off
}
http://127.0.0.1:$CADDY_PORT {
	bind 127.0.0.1
	reverse_proxy 127.0.0.1:$ORIGIN_PORT
}
CONF
XDG_DATA_HOME="$W/caddy-data" XDG_CONFIG_HOME="$W/caddy-config" caddy run --config "$W/Caddyfile" --adapter caddyfile >"$W/caddy.log" 2>&1 &
CADDY_PID=$!
STARTED+=($CADDY_PID)

# rampart serve, access log off like the others. The sanctions lists live
# in the same process; RAMPART_LISTS picks them (default: the small UN list
# from testdata, so RSS shows the edge rather than the list index;
# "bundled" loads the full bundled set; "none" runs an edge-only node with
# the admin listener, and so the lists, off).
RAMPART_LISTS=${RAMPART_LISTS:-testdata/sanctions/un}
LISTS_LINE="compliance: {lists: [\"$PWD/$RAMPART_LISTS\"]}"
ADMIN_ADDR="127.0.0.1:$ADMIN_PORT"
[ "$RAMPART_LISTS" = bundled ] && LISTS_LINE=""
if [ "$RAMPART_LISTS" = none ]; then LISTS_LINE=""; ADMIN_ADDR=""; fi
cat >"$W/rampart.yaml" <<CONF
listen: {http: "127.0.0.1:$RAMPART_PORT", admin: "$ADMIN_ADDR"}
data_dir: $W/rampart-data
log: {format: "off", level: warn}
$LISTS_LINE
zones:
  - host: 127.0.0.1
    origins: [http://127.0.0.1:$ORIGIN_PORT]
CONF
RAMPART_PID=
if "$W/rampart" serve --help >/dev/null 2>&1; then
	"$W/rampart" serve --config "$W/rampart.yaml" >"$W/rampart.log" 2>&1 &
	RAMPART_PID=$!
	STARTED+=($RAMPART_PID)
else
	echo "run.sh: this rampart binary has no serve command yet; measuring proxyonly only" >&2
fi

# The same rampart with net/http's server loop (listen.server: net/http).
RAMPART_NH_PID=
if [ -n "$RAMPART_PID" ] && [ "$RAMPART_NETHTTP" = 1 ]; then
	ADMIN_NH_ADDR="127.0.0.1:$ADMIN_NH_PORT"
	[ -z "$ADMIN_ADDR" ] && ADMIN_NH_ADDR=""
	sed -e "s|^listen: .*|listen: {http: \"127.0.0.1:$RAMPART_NH_PORT\", admin: \"$ADMIN_NH_ADDR\", server: net/http}|" \
		-e "s|^data_dir: .*|data_dir: $W/rampart-nh-data|" "$W/rampart.yaml" >"$W/rampart-nh.yaml"
	"$W/rampart" serve --config "$W/rampart-nh.yaml" >"$W/rampart-nh.log" 2>&1 &
	RAMPART_NH_PID=$!
	STARTED+=($RAMPART_NH_PID)
fi

# The same rampart with the dashboard's traffic rollups off: the rollups'
# cost is rampart's CPU per request against this one's, in the same run.
RAMPART_NR_PID=
if [ -n "$RAMPART_PID" ] && [ "$ROLLUPS" = 1 ] && [ -n "$ADMIN_ADDR" ]; then
	sed -e "s|^listen: .*|listen: {http: \"127.0.0.1:$RAMPART_NR_PORT\", admin: \"127.0.0.1:$ADMIN_NR_PORT\"}|" \
		-e "s|^data_dir: .*|data_dir: $W/rampart-nr-data|" "$W/rampart.yaml" >"$W/rampart-nr.yaml"
	echo "dashboard: {traffic: false}" >>"$W/rampart-nr.yaml"
	"$W/rampart" serve --config "$W/rampart-nr.yaml" >"$W/rampart-nr.log" 2>&1 &
	RAMPART_NR_PID=$!
	STARTED+=($RAMPART_NR_PID)
fi

PROXYONLY_PID=
if [ "$PROXYONLY" = 1 ]; then
	"$W/proxyonly" -listen 127.0.0.1:$PROXYONLY_PORT -origin http://127.0.0.1:$ORIGIN_PORT >"$W/proxyonly.log" 2>&1 &
	PROXYONLY_PID=$!
	STARTED+=($PROXYONLY_PID)
fi

NETHTTP_PID=
if [ "$NETHTTP" = 1 ]; then
	"$W/origin-go" -nethttp -listen 127.0.0.1:$NETHTTP_PORT >"$W/nethttp.log" 2>&1 &
	NETHTTP_PID=$!
	STARTED+=($NETHTTP_PID)
fi

HAPROXY_PID=
if [ "$HAPROXY" = 1 ]; then
	cat >"$W/haproxy.cfg" <<CONF
global
	nbthread 2
	maxconn 8000
defaults
	mode http
	timeout connect 5s
	timeout client 60s
	timeout server 60s
	option http-keep-alive
frontend fe
	bind 127.0.0.1:$HAPROXY_PORT
	default_backend be
backend be
	http-reuse always
	server origin 127.0.0.1:$ORIGIN_PORT
CONF
	haproxy -f "$W/haproxy.cfg" -db >"$W/haproxy.log" 2>&1 &
	HAPROXY_PID=$!
	STARTED+=($HAPROXY_PID)
fi

# wait_ok PORT NAME: waits up to 15 s for a 200 with a 1 KiB body.
wait_ok() {
	for _ in $(seq 150); do
		if [ "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$1/1k" 2>/dev/null)" = "200 1024" ]; then
			return 0
		fi
		sleep 0.1
	done
	echo "run.sh: $2 on port $1 does not answer 200 with 1 KiB" >&2
	for f in "$W"/*.log "$W"/*/logs/error.log; do [ -s "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done
	return 1
}

# name:port:pid of every proxy measured.
PROXIES=()
[ "$PEERS" = 1 ] && PROXIES+=("nginx:$NGINX_PORT:$NGINX_PID" "caddy:$CADDY_PORT:$CADDY_PID")
[ -n "$RAMPART_PID" ] && PROXIES+=("rampart:$RAMPART_PORT:$RAMPART_PID")
[ -n "$RAMPART_NH_PID" ] && PROXIES+=("rampart-nh:$RAMPART_NH_PORT:$RAMPART_NH_PID")
[ -n "$RAMPART_NR_PID" ] && PROXIES+=("rampart-nr:$RAMPART_NR_PORT:$RAMPART_NR_PID")
[ -n "$PROXYONLY_PID" ] && PROXIES+=("proxyonly:$PROXYONLY_PORT:$PROXYONLY_PID")
[ -n "$HAPROXY_PID" ] && PROXIES+=("haproxy:$HAPROXY_PORT:$HAPROXY_PID")
[ -n "$NETHTTP_PID" ] && PROXIES+=("go-nethttp:$NETHTTP_PORT:$NETHTTP_PID")
wait_ok $ORIGIN_PORT origin
for p in "${PROXIES[@]}"; do IFS=: read -r name port pid <<<"$p"; wait_ok "$port" "$name"; done

# rss_kib PID: VmRSS of PID and its children, in KiB.
rss_kib() {
	local r=0 pid
	for pid in $(pids_of "$1"); do
		[ -r "/proc/$pid/status" ] || continue
		r=$((r + $(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")))
	done
	echo $r
}

RESULTS="$W/results.tsv"
: >"$RESULTS"
echo "# $(date -u +%FT%TZ) $(nproc) cores; wrk -t$THREADS -d$DURATION; rounds $ROUNDS; origin nginx static 1 KiB" >&2
for round in $(seq "$ROUNDS"); do
	# Every other round in reverse order, so that no proxy always runs
	# right after the same one.
	ORDER=("${PROXIES[@]}")
	if [ $((round % 2)) = 0 ]; then
		ORDER=()
		for ((i = ${#PROXIES[@]} - 1; i >= 0; i--)); do ORDER+=("${PROXIES[$i]}"); done
	fi
	for c in $CONNS; do
		for p in "${ORDER[@]}"; do
			IFS=: read -r name port pid <<<"$p"
			wrk -t"$THREADS" -c"$c" -d2s "http://127.0.0.1:$port/1k" >/dev/null # warm-up
			before=$(cpu_ticks "$pid")
			out=$(wrk -t"$THREADS" -c"$c" -d"$DURATION" --latency -s bench/cache/latency.lua "http://127.0.0.1:$port/1k")
			after=$(cpu_ticks "$pid")
			rss=$(rss_kib "$pid")
			reqs=$(awk '/requests in/ {print $1}' <<<"$out")
			rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
			p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
			p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
			p999=$(awk '$1 == "pct" {print $5}' <<<"$out") # bench/cache/latency.lua
			bad=$(awk '/Non-2xx/ {print "non2xx=" $NF} /Socket errors/ {sub(/^ *Socket errors: /, ""); gsub(/ /, ""); print}' <<<"$out" | paste -sd, -)
			cpu_us=$(awk -v t=$((after - before)) -v us="$TICK_US" -v n="$reqs" 'BEGIN { printf "%.1f", t * us / n }')
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$c" "$round" "$rps" "$p50" "$p99" "$cpu_us" "$rss" "${bad:-0}" "$p999" >>"$RESULTS"
			printf '# round %s c%-3s %-10s %10s req/s  p50 %7s ms  p99 %7s ms  p99.9 %7s ms  %6s us/req  rss %6s KiB  %s\n' \
				"$round" "$c" "$name" "$rps" "$p50" "$p99" "$p999" "$cpu_us" "$rss" "${bad:+bad: $bad}" >&2
		done
	done
done

IDLE_RESULTS="$W/idle.tsv"
: >"$IDLE_RESULTS"
if [ "$IDLE" -gt 0 ]; then
	for p in "${PROXIES[@]}"; do
		IFS=: read -r name port pid <<<"$p"
		line=$("$W/idleconns" -addr "127.0.0.1:$port" -path /1k -n "$IDLE" -pid "$pid")
		echo "# idle $name: $line" >&2
		printf '%s\t%s\n' "$name" "$(sed 's/.*rss_held_mib=//' <<<"$line")" >>"$IDLE_RESULTS"
	done
fi

# The table: medians over rounds per proxy and connection count.
echo
echo "proxied 1 KiB GET, keep-alive, loopback, $(nproc) cores, wrk -t$THREADS -d$DURATION, median of $ROUNDS rounds"
awk -F'\t' -v idlefile="$IDLE_RESULTS" -v idle="$IDLE" '
function median(list,    n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	k = $1 SUBSEP $2
	if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	if (!($2 in cseen)) { cseen[$2] = 1; cs[++nc] = $2 }
	rps[k] = rps[k] " " $4; p50[k] = p50[k] " " $5; p99[k] = p99[k] " " $6; cpu[k] = cpu[k] " " $7; p999[k] = p999[k] " " $10
	rcpu[$1 SUBSEP $2 SUBSEP $3] = $7; if ($3 > nrounds) nrounds = $3
	if ($8 > rss[k]) rss[k] = $8
	if ($9 != "0") bad[k] = bad[k] " r" $3 ":" $9
}
END {
	while ((getline line < idlefile) > 0) { split(line, f, "\t"); idl[f[1]] = f[2] }
	printf "%-11s %5s %10s %9s %9s %9s %10s %9s %10s  %s\n", "proxy", "conns", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "CPU us/req", "RSS MiB", "idle" idle " MiB", "errors"
	for (i = 1; i <= n; i++) {
		k = order[i]; split(k, kk, SUBSEP)
		m_rps[k] = median(rps[k]); m_cpu[k] = median(cpu[k]); m_p99[k] = median(p99[k])
		printf "%-11s %5s %10.0f %9.3f %9.3f %9.3f %10.1f %9.1f %10s  %s\n", kk[1], kk[2], m_rps[k], median(p50[k]), median(p99[k]), median(p999[k]), m_cpu[k], rss[k] / 1024, (kk[1] in idl) ? idl[kk[1]] : "-", bad[k] ? bad[k] : "none"
	}
	for (j = 1; j <= nc; j++) {
		c = cs[j]
		for (r = 1; r <= 3; r++) {
			me = (r == 1) ? "rampart" : (r == 2) ? "rampart-nh" : "proxyonly"
			if (!((me SUBSEP c) in m_rps)) continue
			for (q = 1; q <= 2; q++) {
				peer = (q == 1) ? "nginx" : "caddy"
				if (!((peer SUBSEP c) in m_rps)) continue
				printf "c%-4s %s/%s: CPU per request %.2fx, requests/s %.2fx, p99 %.2fx%s\n", c, me, peer, m_cpu[me SUBSEP c] / m_cpu[peer SUBSEP c], m_rps[me SUBSEP c] / m_rps[peer SUBSEP c], m_p99[me SUBSEP c] / m_p99[peer SUBSEP c], peer == "nginx" ? " (tail target <= 1.5x)" : ""
			}
		}
		on = "rampart" SUBSEP c; off = "rampart-nr" SUBSEP c
		if ((on in m_rps) && (off in m_rps)) {
			# The same ratio per round (on and off run one after the
			# other), whose median is less moved by the load drifting
			# between rounds.
			pr = ""
			for (r = 1; r <= nrounds; r++)
				if (((on SUBSEP r) in rcpu) && ((off SUBSEP r) in rcpu) && rcpu[off SUBSEP r] > 0)
					pr = pr " " rcpu[on SUBSEP r] / rcpu[off SUBSEP r]
			printf "c%-4s rollups on/off, median of the per-round ratios: %.3fx (%+.1f%%)\n", c, median(pr), 100 * (median(pr) - 1)
			printf "c%-4s rollups on/off (rampart/rampart-nr): CPU per request %.1f / %.1f us = %.3fx (%+.1f%% of the edge'"'"'s CPU per request), requests/s %.2fx\n", c, m_cpu[on], m_cpu[off], m_cpu[on] / m_cpu[off], 100 * (m_cpu[on] - m_cpu[off]) / m_cpu[on], m_rps[on] / m_rps[off]
		}
	}
}' "$RESULTS"
