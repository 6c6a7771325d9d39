#!/usr/bin/env bash
# bench/wafmem/run.sh: what many-argument POSTs cost rampart's WAF in
# memory (issue 11, point 2).
#
# One `rampart serve` (the real binary, edge only: listen.admin off, so no
# sanctions list is loaded; access log off) serves two zones in front of
# bench/origin -nethttp:
#   block.bench   waf {mode: block}   (default waf.limits and waf.memory)
#   detect.bench  waf {mode: detect}
# bench/wafmem (main.go) reads rampart's VmRSS idle, fires ROUNDS rounds
# of CONC concurrent 128 KiB urlencoded POSTs (each on its own
# connection), samples the RSS every 20 ms while they run and every second
# for 30 s after, and prints the verdicts against the targets: the peak at
# most idle + 64 MiB, and back within 10% of idle within 30 s. Three runs:
#   refused    block.bench, 8,000 arguments (over waf.limits.args: 413)
#   inspected  block.bench, 250 arguments (within waf.limits.args, 255:
#              inspected, one or two at a time by the waf.memory budget,
#              503 with Retry-After beyond)
#   cut        detect.bench, 8,000 arguments (inspected up to 255)
#
# It installs nothing: go and curl must be on PATH. Everything binds to
# 127.0.0.1 ports 18600-18601 and is stopped on exit.
#
# Environment: ROUNDS (default 3), CONC (default 64), WATCH (default 30s).
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-3}
CONC=${CONC:-64}
WATCH=${WATCH:-30s}
ORIGIN_PORT=18601 RAMPART_PORT=18600

for tool in go curl; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found on PATH (install it first)" >&2; exit 1; }
done
. bench/lib.sh
ports_free $ORIGIN_PORT $RAMPART_PORT
workdir wafmem

echo "# building rampart, origin and wafmem" >&2
go build -o "$W/rampart" ./cmd/rampart
go build -o "$W/origin" ./bench/origin
go build -o "$W/wafmem" ./bench/wafmem

"$W/origin" -nethttp -listen 127.0.0.1:$ORIGIN_PORT >"$W/origin.log" 2>&1 &
STARTED+=($!)
cat >"$W/rampart.yaml" <<CONF
listen: {http: "127.0.0.1:$RAMPART_PORT", admin: ""}
data_dir: $W/rampart-data
log: {format: "off", level: error}
zones:
  - host: block.bench
    origins: [http://127.0.0.1:$ORIGIN_PORT]
    waf: {mode: block}
  - host: detect.bench
    origins: [http://127.0.0.1:$ORIGIN_PORT]
    waf: {mode: detect}
CONF
"$W/rampart" serve --config "$W/rampart.yaml" >"$W/rampart.log" 2>&1 &
RAMPART_PID=$!
STARTED+=($RAMPART_PID)
for _ in $(seq 300); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: block.bench' -H 'User-Agent: Mozilla/5.0' -H 'Accept: */*' "http://127.0.0.1:$RAMPART_PORT/" 2>/dev/null)" = 200 ] && break
	sleep 0.1
done
sleep 3 # let the start settle before reading the idle RSS

echo "# $(date -u +%FT%TZ) $(nproc) cores; rampart pid $RAMPART_PID" >&2
run() { "$W/wafmem" -url "http://127.0.0.1:$RAMPART_PORT/form" -pid "$RAMPART_PID" -c "$CONC" -rounds "$ROUNDS" -watch "$WATCH" "$@"; }
run -label refused -host block.bench -args 8000
run -label inspected -host block.bench -args 250
run -label cut -host detect.bench -args 8000
