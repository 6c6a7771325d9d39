#!/usr/bin/env bash
# bench/scale/run.sh: what idle zones cost an edge-only node (issue 16).
#
# For each zone count in ZONES it writes a config with that many zones
# (z000001.scale.test, ...: each with the edge cache and a rate limit,
# all proxying to one bench/origin on loopback), starts `rampart serve`
# (the real binary; listen.admin off, so no sanctions list or dashboard;
# access log off) and prints one line:
#
#   check_s     `rampart config check` of the same file: parsing and
#               validating the YAML alone (internal/config), the floor of
#               start_s and reload_s
#   check_cpu   its user+system CPU seconds (a figure that does not
#               depend on how busy the machine is, as the times do)
#   start_s     from exec until the http listener answers a request for
#               the last zone with the origin's 200
#   start_cpu   the node's utime+stime (/proc/PID/stat) at that moment
#   rss_MiB     VmRSS SETTLE seconds after that (default 3, plus 1 per
#               10,000 zones: the node returns the config parse's memory
#               to the system after it starts)
#   reload_s    SIGHUP with the same file (every zone reused) until the
#               reload is applied: the "zones reconciled" log line, timed
#               by the log's own clock against its "SIGHUP: reloading"
#   reload_cpu  the node's utime+stime from the SIGHUP until that line
#               was seen (polled every 10 ms)
#   rss2_MiB    VmRSS SETTLE seconds after the reload
#   idle_cpu%   utime+stime (/proc/PID/stat) over IDLE seconds after that,
#               in percent of one core, nothing being sent
#   rss3_MiB    VmRSS at the end of the idle window
#   goroutines  from the node's goroutine profile (RAMPART_PPROF)
#
# With HEALTH=1 every zone also gets an active health check (path /,
# interval 5s): the node then checks ZONES/5 origins a second, which is
# not idle; it shows the cost of the shared health scheduler.
#
# It installs nothing: go and curl must be on PATH. Everything binds to
# 127.0.0.1 ports 18700-18702 and is stopped on exit; each node is stopped
# before the next starts.
#
# Environment: ZONES (default "1000 10000 100000"), IDLE (default 20),
# SETTLE (seconds before each RSS reading; default 3 + zones/10,000),
# RAMPART (a prebuilt binary to measure instead of building this tree),
# HEALTH (default 0).
set -euo pipefail
cd "$(dirname "$0")/../.."

ZONES=${ZONES:-"1000 10000 100000"}
IDLE=${IDLE:-20}
HEALTH=${HEALTH:-0}
ORIGIN_PORT=18701 RAMPART_PORT=18700 PPROF_PORT=18702

for tool in go curl awk; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found on PATH (install it first)" >&2; exit 1; }
done
. bench/lib.sh
ports_free $ORIGIN_PORT $RAMPART_PORT $PPROF_PORT
workdir scale

echo "# building rampart and origin" >&2
if [ -n "${RAMPART:-}" ]; then
	cp "$RAMPART" "$W/rampart"
else
	go build -o "$W/rampart" ./cmd/rampart
fi
go build -o "$W/origin" ./bench/origin
"$W/origin" -listen 127.0.0.1:$ORIGIN_PORT >"$W/origin.log" 2>&1 &
STARTED+=($!)

rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # utime + stime
now() { date +%s.%N; }
# log_time MSG: the time field of the last log line with "msg":"MSG", in s.
log_time() {
	grep "\"msg\":\"$1\"" "$W/rampart.log" | tail -1 |
		sed -E 's/.*"time":"([^"]+)".*/\1/' | xargs -I{} date -d {} +%s.%N
}

gen_config() { # gen_config N FILE
	awk -v n="$1" -v origin="http://127.0.0.1:$ORIGIN_PORT" -v port=$RAMPART_PORT \
		-v data="$W/rampart-data" -v health="$HEALTH" 'BEGIN {
		printf "listen: {http: \"127.0.0.1:%d\", admin: \"\"}\n", port
		printf "data_dir: %s\n", data
		printf "log: {format: \"off\", level: info}\n"
		printf "zones:\n"
		for (i = 1; i <= n; i++) {
			printf "  - host: z%06d.scale.test\n", i
			printf "    origins: [%s]\n", origin
			printf "    cache: {enabled: true}\n"
			printf "    rate_limit: {requests: 100, per: 1s, burst: 50}\n"
			if (health == 1) printf "    health_check: {path: /}\n"
		}
	}' >"$2"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); idle window ${IDLE}s; health checks: $HEALTH" >&2
printf '%-8s %8s %9s %8s %9s %8s %9s %10s %9s %10s %9s %11s\n' zones check_s check_cpu start_s start_cpu rss_MiB reload_s reload_cpu rss2_MiB idle_cpu% rss3_MiB goroutines
for n in $ZONES; do
	gen_config "$n" "$W/rampart.yaml"
	last=$(printf 'z%06d.scale.test' "$n")
	rm -rf "$W/rampart-data"
	c0=$(now)
	"$W/rampart" config check --config "$W/rampart.yaml" >/dev/null &
	cpid=$!
	wait_cpu=0
	while kill -0 "$cpid" 2>/dev/null; do # its last CPU reading before it exits
		wait_cpu=$(cpu_ticks "$cpid" 2>/dev/null || echo "$wait_cpu")
		sleep 0.01
	done
	wait "$cpid"
	check=$(awk -v a="$c0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
	check_cpu=$(awk -v c="$wait_cpu" -v t="$TICK_US" 'BEGIN { printf "%.2f", c * t / 1e6 }')
	t0=$(now)
	RAMPART_PPROF=127.0.0.1:$PPROF_PORT "$W/rampart" serve --config "$W/rampart.yaml" >"$W/rampart.log" 2>&1 &
	pid=$!
	STARTED+=($pid)
	up=""
	for _ in $(seq 60000); do # 600 s at most
		if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $last" "http://127.0.0.1:$RAMPART_PORT/" 2>/dev/null)" = 200 ]; then
			up=$(now)
			start_cpu=$(awk -v c="$(cpu_ticks $pid)" -v t="$TICK_US" 'BEGIN { printf "%.2f", c * t / 1e6 }')
			break
		fi
		kill -0 "$pid" 2>/dev/null || { echo "run.sh: rampart exited; its log:" >&2; tail -5 "$W/rampart.log" >&2; exit 1; }
		sleep 0.01
	done
	[ -n "$up" ] || { echo "run.sh: rampart did not answer within 600 s" >&2; exit 1; }
	start=$(awk -v a="$t0" -v b="$up" 'BEGIN { printf "%.2f", b - a }')
	settle=${SETTLE:-$((3 + n / 10000))}
	sleep "$settle"
	rss=$(rss_mib $pid)

	h0=$(cpu_ticks $pid)
	kill -HUP $pid
	reloaded=""
	for _ in $(seq 60000); do
		if grep -q '"msg":"zones reconciled"' "$W/rampart.log"; then
			reloaded=1
			reload_cpu=$(awk -v c="$(($(cpu_ticks $pid) - h0))" -v t="$TICK_US" 'BEGIN { printf "%.2f", c * t / 1e6 }')
			break
		fi
		grep -q '"msg":"reload failed' "$W/rampart.log" && { echo "run.sh: reload failed" >&2; exit 1; }
		sleep 0.01
	done
	[ -n "$reloaded" ] || { echo "run.sh: the reload was not applied within 600 s" >&2; exit 1; }
	reload=$(awk -v a="$(log_time 'SIGHUP: reloading')" -v b="$(log_time 'zones reconciled')" 'BEGIN { printf "%.2f", b - a }')
	sleep "$settle"
	rss2=$(rss_mib $pid)

	c0=$(cpu_ticks $pid) w0=$(now)
	sleep "$IDLE"
	c1=$(cpu_ticks $pid) w1=$(now)
	idle=$(awk -v c="$((c1 - c0))" -v t="$TICK_US" -v a="$w0" -v b="$w1" 'BEGIN { printf "%.2f", c * t / 1e6 / (b - a) * 100 }')
	rss3=$(rss_mib $pid)
	gr=$(curl -s "http://127.0.0.1:$PPROF_PORT/debug/pprof/goroutine?debug=1" | awk 'NR == 1 { print $NF }')

	printf '%-8s %8s %9s %8s %9s %8s %9s %10s %9s %10s %9s %11s\n' "$n" "$check" "$check_cpu" "$start" "$start_cpu" "$rss" "$reload" "$reload_cpu" "$rss2" "$idle" "$rss3" "$gr"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
done
