#!/usr/bin/env bash
# bench/waf/run.sh: the WAF's cost through the whole edge, in one run.
#
# One `rampart serve` (the real binary, access log off) serves four zones
# in front of the same origin (bench/origin -nethttp, 1 KiB answers):
#   off     waf off
#   detect  waf {mode: detect, paranoia: 1}
#   block1  waf {mode: block, paranoia: 1}
#   block2  waf {mode: block, paranoia: 2}
# and bench/waf/wraphandler runs Coraza's own http.WrapHandler in front of
# httputil.ReverseProxy with the same rules as block1 ("wrap1"). For each,
# wrk sends benign GETs (a browser-like request with a query string,
# User-Agent and Accept; every one inspected), the GETs of a page view
# (mix.lua: the document, an API call and 18 static assets, which block1's
# waf.skip exempts by extension) and benign 4 KiB form POSTs (post.lua), and the
# script records requests/s, p50, p99 and the server's CPU per request
# (utime+stime from /proc/PID/stat before and after, divided by requests),
# ROUNDS rounds interleaved, and prints medians and the target ratios:
#   block1/off GET requests/s >= 0.25, block1/wrap1 GET requests/s >= 2 and
# POST requests/s >= 10 (issue 16).
#
# It installs nothing: wrk, go and curl must be on PATH. Everything binds
# to 127.0.0.1 ports 18580-18591 (PORT_BASE moves them: PORT_BASE to
# PORT_BASE+11) and is stopped on exit.
#
# Environment: DURATION (default 10s), ROUNDS (default 1), CONNS (wrk -c
# for GETs, default 64), POST_CONNS (wrk -c for POSTs, default 4), THREADS
# (wrk -t, default 2), BASE_REV (a git revision: a second rampart built
# from it serves block1's zone as setup "base1", for before/after figures
# in one run; default none), KINDS (the workloads, default "get mix post").
# After the medians it prints, for each ratio, the median of the
# per-round ratios (each setup against the other in the same round),
# steadier than the ratio of medians when the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-1}
CONNS=${CONNS:-64}
POST_CONNS=${POST_CONNS:-4}
THREADS=${THREADS:-2}
BASE_REV=${BASE_REV:-}
KINDS=${KINDS:-get mix post}
PORT_BASE=${PORT_BASE:-18580}
ORIGIN_PORT=$PORT_BASE RAMPART_PORT=$((PORT_BASE + 3)) WRAP_PORT=$((PORT_BASE + 4)) BASE_PORT=$((PORT_BASE + 5)) ADMIN_PORT=$((PORT_BASE + 10)) BASE_ADMIN_PORT=$((PORT_BASE + 11))

for tool in wrk go curl; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found on PATH (install it first)" >&2; exit 1; }
done
. bench/lib.sh
ports_free $ORIGIN_PORT $RAMPART_PORT $WRAP_PORT $BASE_PORT $ADMIN_PORT $BASE_ADMIN_PORT

workdir waf

echo "# building rampart, origin and wraphandler" >&2
go build -o "$W/rampart" ./cmd/rampart
go build -o "$W/origin" ./bench/origin
# WrapHandler is stock Coraza: built without go.mod's replace of
# github.com/corazawaf/coraza/v3 by rampart's patched copy (third_party/).
sed '/^replace github.com\/corazawaf\/coraza\/v3 /d' go.mod >"$W/stock.mod"
cp go.sum "$W/stock.sum"
go build -modfile "$W/stock.mod" -o "$W/wraphandler" ./bench/waf/wraphandler
if [ -n "$BASE_REV" ]; then
	echo "# building rampart at $BASE_REV" >&2
	mkdir "$W/base"
	git archive "$BASE_REV" | tar -x -C "$W/base"
	(cd "$W/base" && go build -o "$W/rampart-base" ./cmd/rampart)
fi

"$W/origin" -nethttp -listen 127.0.0.1:$ORIGIN_PORT >"$W/origin.log" 2>&1 &
STARTED+=($!)

cat >"$W/rampart.yaml" <<CONF
listen: {http: "127.0.0.1:$RAMPART_PORT", admin: "127.0.0.1:$ADMIN_PORT"}
data_dir: $W/rampart-data
log: {format: "off", level: warn}
compliance: {lists: ["$PWD/testdata/sanctions/un"]}
zones:
  - host: off.bench
    origins: [http://127.0.0.1:$ORIGIN_PORT]
  - host: detect.bench
    origins: [http://127.0.0.1:$ORIGIN_PORT]
    waf: {mode: detect, paranoia: 1}
  - host: block1.bench
    origins: [http://127.0.0.1:$ORIGIN_PORT]
    waf:
      mode: block
      paranoia: 1
      skip: {extensions: [.js, .css, .svg, .webp, .jpg, .png, .woff2, .ico]}
  - host: block2.bench
    origins: [http://127.0.0.1:$ORIGIN_PORT]
    waf: {mode: block, paranoia: 2}
CONF
"$W/rampart" serve --config "$W/rampart.yaml" >"$W/rampart.log" 2>&1 &
RAMPART_PID=$!
STARTED+=($RAMPART_PID)
"$W/wraphandler" -listen 127.0.0.1:$WRAP_PORT -origin http://127.0.0.1:$ORIGIN_PORT -paranoia 1 >"$W/wrap.log" 2>&1 &
WRAP_PID=$!
STARTED+=($WRAP_PID)
if [ -n "$BASE_REV" ]; then
	cat >"$W/base.yaml" <<CONF
listen: {http: "127.0.0.1:$BASE_PORT", admin: "127.0.0.1:$BASE_ADMIN_PORT"}
data_dir: $W/base-data
log: {format: "off", level: warn}
compliance: {lists: ["$PWD/testdata/sanctions/un"]}
zones:
  - host: block1.bench
    origins: [http://127.0.0.1:$ORIGIN_PORT]
    waf:
      mode: block
      paranoia: 1
      skip: {extensions: [.js, .css, .svg, .webp, .jpg, .png, .woff2, .ico]}
CONF
	"$W/rampart-base" serve --config "$W/base.yaml" >"$W/base.log" 2>&1 &
	BASE_PID=$!
	STARTED+=($BASE_PID)
fi

UA="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
ACCEPT="text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
GET_PATH="/products/list?category=shoes&size=42&sort=price"

# wait_ok PORT HOST NAME: waits up to 30 s for a 200.
wait_ok() {
	for _ in $(seq 300); do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $2" -H "User-Agent: $UA" -H "Accept: $ACCEPT" "http://127.0.0.1:$1$GET_PATH" 2>/dev/null)" = 200 ]; then
			return 0
		fi
		sleep 0.1
	done
	echo "run.sh: $3 on port $1 (Host $2) does not answer 200" >&2
	for f in "$W"/*.log; do [ -s "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done
	return 1
}

# name:port:pid:host of every setup measured.
SETUPS=("off:$RAMPART_PORT:$RAMPART_PID:off.bench" "detect:$RAMPART_PORT:$RAMPART_PID:detect.bench"
	"block1:$RAMPART_PORT:$RAMPART_PID:block1.bench" "block2:$RAMPART_PORT:$RAMPART_PID:block2.bench"
	"wrap1:$WRAP_PORT:$WRAP_PID:wrap.bench")
[ -n "$BASE_REV" ] && SETUPS+=("base1:$BASE_PORT:$BASE_PID:block1.bench")
for s in "${SETUPS[@]}"; do IFS=: read -r name port pid host <<<"$s"; wait_ok "$port" "$host" "$name"; done
# An attack must be refused by every WAF setup, or the numbers mean nothing.
for s in "${SETUPS[@]}"; do
	IFS=: read -r name port pid host <<<"$s"
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $host" -H "User-Agent: $UA" "http://127.0.0.1:$port/?id=1%27%20OR%20%271%27%3D%271")
	case $name in
	block*|wrap*|base*) [ "$code" = 403 ] || { echo "run.sh: $name answered $code to an SQL injection, want 403" >&2; exit 1; } ;;
	*) [ "$code" = 200 ] || { echo "run.sh: $name answered $code to an SQL injection, want 200 (not blocking)" >&2; exit 1; } ;;
	esac
done

cpu_ticks() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }

RESULTS="$W/results.tsv"
: >"$RESULTS"
echo "# $(date -u +%FT%TZ) $(nproc) cores; wrk -t$THREADS -c$CONNS -d$DURATION; rounds $ROUNDS" >&2
for round in $(seq "$ROUNDS"); do
	for kind in $KINDS; do
		for s in "${SETUPS[@]}"; do
			IFS=: read -r name port pid host <<<"$s"
			# A 4 KiB POST costs the WAF tens of ms of CPU: 64
			# connections would queue seconds of work, and what wrk gives
			# up on still runs on and spills into the next setup's
			# measurement. POSTs use POST_CONNS (default 4) connections.
			conns=$CONNS
			[ "$kind" = post ] && conns=$POST_CONNS
			args=(-t"$THREADS" -c"$conns" --timeout 10s -H "Host: $host" -H "User-Agent: $UA" -H "Accept: $ACCEPT")
			[ "$kind" = post ] && args+=(-s bench/waf/post.lua)
			[ "$kind" = mix ] && args+=(-s bench/waf/mix.lua)
			wrk "${args[@]}" -d2s "http://127.0.0.1:$port$GET_PATH" >/dev/null # warm-up
			before=$(cpu_ticks "$pid")
			out=$(wrk "${args[@]}" -d"$DURATION" --latency "http://127.0.0.1:$port$GET_PATH")
			after=$(cpu_ticks "$pid")
			reqs=$(awk '/requests in/ {print $1}' <<<"$out")
			rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
			p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
			p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
			bad=$(awk '/Non-2xx/ {print "non2xx=" $NF} /Socket errors/ {sub(/^ *Socket errors: /, ""); gsub(/ /, ""); print}' <<<"$out" | paste -sd, -)
			cpu_us=$(awk -v t=$((after - before)) -v us="$TICK_US" -v n="${reqs:-0}" 'BEGIN { if (n > 0) printf "%.1f", t * us / n; else print "0" }')
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$name" "$round" "$rps" "$p50" "$p99" "$cpu_us" "${bad:-0}" >>"$RESULTS"
			printf '# round %s %-4s %-7s %9s req/s  p50 %8s ms  p99 %8s ms  %8s us/req  %s\n' \
				"$round" "$kind" "$name" "$rps" "$p50" "$p99" "$cpu_us" "${bad:+bad: $bad}" >&2
		done
	done
done

echo
echo "WAF through the edge, keep-alive, loopback, $(nproc) cores, wrk -t$THREADS -c$CONNS (POST -c$POST_CONNS) -d$DURATION, median of $ROUNDS rounds"
awk -F'\t' '
function ratio(a, b) { return b > 0 ? a / b : 0 }
function median(list,    n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	k = $1 SUBSEP $2
	if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	rps[k] = rps[k] " " $4; p50[k] = p50[k] " " $5; p99[k] = p99[k] " " $6; cpu[k] = cpu[k] " " $7
	rr[$1, $2, $3] = $4; rc[$1, $2, $3] = $7; if ($3 > rounds) rounds = $3
	if ($8 != "0") bad[k] = bad[k] " r" $3 ":" $8
}
END {
	printf "%-5s %-7s %10s %9s %9s %11s  %s\n", "req", "setup", "req/s", "p50 ms", "p99 ms", "CPU us/req", "errors"
	for (i = 1; i <= n; i++) {
		k = order[i]; split(k, kk, SUBSEP)
		m[k] = median(rps[k]); c[k] = median(cpu[k])
		printf "%-5s %-7s %10.0f %9.3f %9.3f %11.1f  %s\n", kk[1], kk[2], m[k], median(p50[k]), median(p99[k]), c[k], bad[k] ? bad[k] : "none"
	}
	for (q = 1; q <= 3; q++) {
		kind = (q == 1) ? "get" : (q == 2) ? "mix" : "post"
		if (m[kind SUBSEP "off"] > 0) printf "%-4s block1/off requests/s %.2fx, CPU per request %.2fx (target: requests/s >= 0.25x on benign GETs)\n", kind, ratio(m[kind SUBSEP "block1"], m[kind SUBSEP "off"]), ratio(c[kind SUBSEP "block1"], c[kind SUBSEP "off"])
		if (m[kind SUBSEP "wrap1"] > 0) printf "%-4s block1/wrap1 requests/s %.2fx, CPU per request %.2fx (target: requests/s >= 2x on benign GETs, >= 10x on 4 KiB POSTs)\n", kind, ratio(m[kind SUBSEP "block1"], m[kind SUBSEP "wrap1"]), ratio(c[kind SUBSEP "block1"], c[kind SUBSEP "wrap1"])
		if (m[kind SUBSEP "base1"] > 0) printf "%-4s block1/base1 requests/s %.2fx, CPU per request %.2fx (this tree against BASE_REV)\n", kind, ratio(m[kind SUBSEP "block1"], m[kind SUBSEP "base1"]), ratio(c[kind SUBSEP "block1"], c[kind SUBSEP "base1"])
		if (m[kind SUBSEP "base1"] > 0 && m[kind SUBSEP "wrap1"] > 0) printf "%-4s base1/wrap1 requests/s %.2fx, CPU per request %.2fx\n", kind, ratio(m[kind SUBSEP "base1"], m[kind SUBSEP "wrap1"]), ratio(c[kind SUBSEP "base1"], c[kind SUBSEP "wrap1"])
	}
	# medians of per-round ratios
	for (q = 1; q <= 3; q++) {
		kind = (q == 1) ? "get" : (q == 2) ? "mix" : "post"
		for (b = 1; b <= 3; b++) {
			other = (b == 1) ? "off" : (b == 2) ? "wrap1" : "base1"
			lr = ""; lc = ""
			for (r = 1; r <= rounds; r++) {
				if (rr[kind, other, r] > 0 && rr[kind, "block1", r] != "") {
					lr = lr " " ratio(rr[kind, "block1", r], rr[kind, other, r]); lc = lc " " ratio(rc[kind, "block1", r], rc[kind, other, r])
				}
			}
			if (lr != "") printf "%-4s block1/%s per-round ratios, median: requests/s %.2fx, CPU per request %.2fx\n", kind, other, median(lr), median(lc)
		}
	}
}' "$RESULTS"
