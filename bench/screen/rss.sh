#!/usr/bin/env bash
# bench/screen/rss.sh: the memory of a screening node. Starts `rampart
# serve` with the default config (admin listener on, compliance defaults:
# every bundled list, screening on) and one zone in front of a 1 KiB
# origin (bench/origin), and reports, per round:
#
#   start    seconds from exec to the admin listener's /healthz answering
#   idle     VmRSS (MiB) 5 s after the start (and its RssAnon: the rest
#            is the executable's and the index file's pages)
#   busy     peak VmRSS (MiB) under wrk -t2 -c$CONNS -d$DURATION on the zone
#   cpu      rampart's CPU time (utime+stime) during the load per request
#   after    VmRSS (MiB) 5 s after the load
#   live     the Go heap live after the last GC cycle of the run (MiB,
#            GODEBUG=gctrace=1: the third figure of "A->B->C MB")
#   index    the screening index line of the log (built or mapped, and
#            how long it took)
#
# Round 1 starts on a fresh data directory (the index file is built);
# later rounds restart on the same directory (the file is mapped). Then
# medians over the rounds. A round on an edge-only node (RAMPART_ADMIN=""
# leaves the admin listener, and so the lists, off) is the floor.
#
#   bench/screen/rss.sh                         # ROUNDS=3 CONNS=256 DURATION=10s
#   RAMPART_ADMIN= bench/screen/rss.sh          # edge-only node
#
# Everything binds to 127.0.0.1; the script stops what it starts.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-256}
DURATION=${DURATION:-10s}
ORIGIN_PORT=${ORIGIN_PORT:-18280} HTTP_PORT=${HTTP_PORT:-18283} ADMIN_PORT=${ADMIN_PORT:-18290}
RAMPART_ADMIN=${RAMPART_ADMIN-127.0.0.1:$ADMIN_PORT}

for tool in wrk go curl; do
	command -v "$tool" >/dev/null || { echo "rss.sh: $tool not found on PATH" >&2; exit 1; }
done
. bench/lib.sh
ports_free $ORIGIN_PORT $HTTP_PORT $ADMIN_PORT
workdir rss

echo "# building rampart and the origin" >&2
go build -o "$W/rampart" ./cmd/rampart
go build -o "$W/origin" ./bench/origin
"$W/origin" -listen 127.0.0.1:$ORIGIN_PORT >"$W/origin.log" 2>&1 &
STARTED+=($!)

cat >"$W/rampart.yaml" <<CONF
listen: {http: "127.0.0.1:$HTTP_PORT", admin: "$RAMPART_ADMIN"}
data_dir: $W/data
log: {format: "off", level: info}
zones:
  - host: 127.0.0.1
    origins: [http://127.0.0.1:$ORIGIN_PORT]
CONF

rss_mib() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

RESULTS="$W/results.tsv"
: >"$RESULTS"
echo "# $(date -u +%FT%TZ) $(nproc) cores; wrk -t2 -c$CONNS -d$DURATION; rounds $ROUNDS" >&2
for round in $(seq "$ROUNDS"); do
	t0=$(date +%s.%N)
	GODEBUG=gctrace=1 "$W/rampart" serve --config "$W/rampart.yaml" >"$W/serve.log" 2>&1 &
	pid=$!
	STARTED+=($pid)
	ok=
	for _ in $(seq 600); do
		if [ -z "$RAMPART_ADMIN" ]; then
			curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/" -H 'Host: 127.0.0.1' && ok=1
		else
			curl -sf -o /dev/null "http://$RAMPART_ADMIN/healthz" && ok=1
		fi
		[ -n "$ok" ] && break
		sleep 0.05
	done
	[ -n "$ok" ] || { echo "rss.sh: rampart did not start" >&2; tail -20 "$W/serve.log" >&2; exit 1; }
	t1=$(date +%s.%N)
	start=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	sleep 5
	idle=$(rss_mib $pid)
	idle_anon=$(awk '/^RssAnon:/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
	peak=0
	ticks0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	wrk -t2 -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$HTTP_PORT/" >"$W/wrk.txt" &
	wpid=$!
	while kill -0 $wpid 2>/dev/null; do
		r=$(rss_mib $pid)
		peak=$(awk -v a="$peak" -v b="$r" 'BEGIN { print (b > a) ? b : a }')
		sleep 0.25
	done
	wait $wpid || true
	ticks1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$W/wrk.txt")
	nreq=$(awk '/requests in/ {print $1}' "$W/wrk.txt")
	cpu=$(awk -v t=$((ticks1 - ticks0)) -v us="$TICK_US" -v n="$nreq" 'BEGIN { printf "%.1f", (n > 0 ? t * us / n : 0) }')
	sleep 5
	after=$(rss_mib $pid)
	live=$(grep -o '[0-9]*->[0-9]*->[0-9]* MB' "$W/serve.log" | tail -1 | sed 's/.*->\([0-9]*\) MB/\1/')
	index=$(grep -m1 -o '"msg":"screening index[^}]*' "$W/serve.log" | tr -d '"\\' || true)
	[ -z "$index" ] && index=$(grep -m1 'sanctions lists loaded' "$W/serve.log" | head -c 200 || true)
	kill $pid
	wait $pid 2>/dev/null || true
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$start" "$idle" "$peak" "$after" "$live" "$rps" "$cpu" >>"$RESULTS"
	printf '# round %s: start %s s, idle %s MiB (%s anonymous), busy %s MiB (%s req/s, %s µs CPU/req), after %s MiB, live heap %s MiB; %s\n' \
		"$round" "$start" "$idle" "$idle_anon" "$peak" "$rps" "$cpu" "$after" "$live" "$index" >&2
done

echo
echo "rampart serve, admin \"$RAMPART_ADMIN\", default compliance, wrk -t2 -c$CONNS -d$DURATION, median of $ROUNDS rounds"
awk -F'\t' '
function median(list,    n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ s = s " " $2; i = i " " $3; b = b " " $4; a = a " " $5; l = l " " $6; r = r " " $7; c = c " " $8 }
END {
	printf "%-9s %9s %9s %9s %9s %10s %11s\n", "start s", "idle MiB", "busy MiB", "after MiB", "live MiB", "req/s", "CPU us/req"
	printf "%-9s %9s %9s %9s %9s %10s %11s\n", median(s), median(i), median(b), median(a), median(l), median(r), median(c)
}' "$RESULTS"
