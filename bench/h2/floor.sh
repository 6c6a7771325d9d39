#!/usr/bin/env bash
# bench/h2/floor.sh: what answering one HTTP/2 request over TLS costs before
# any proxying, in the same run: nginx serving a static 1 KiB file itself
# (nginx-static) and proxying it to the origin (nginx-proxy, bench/h2/run.sh's
# reference), net/http's HTTP/2 server answering a constant 1 KiB response
# with rampart's settings (nethttp: the floor of rampart's HTTP/2 path
# today) and a minimal Go responder that coalesces writes (lean; see
# bench/h2/floor/main.go: not a server, a measure of what a connection loop
# without net/http's per-frame hand-offs costs), and the same loop building
# an *http.Request and running nethttp's http.Handler per stream (handler:
# the per-request work of an HTTP/2 server of rampart's own that keeps the
# http.Handler interface). For each and each stream
# count (64 connections, 1 and 10 streams each) it prints the median over
# ROUNDS of the server's CPU per request (utime+stime from /proc/PID/stat)
# and requests/s; then the allocations per request of the Go servers
# (floor prints runtime.MemStats on SIGUSR1); with STRACE=1, one extra run
# per server under strace -c gives its system calls per request (write,
# read, futex).
#
# Needs go, h2load, nginx, openssl, curl (and strace for STRACE=1). Ports
# 127.0.0.1:18180-18184, everything stopped on exit. Environment: N
# (requests per run, default 100000), CONNS (64), STREAMS ("1 10"),
# ROUNDS (3), THREADS (h2load -t, 2), STRACE (0).
set -euo pipefail
cd "$(dirname "$0")/../.."

N=${N:-100000} CONNS=${CONNS:-64} STREAMS=${STREAMS:-"1 10"} ROUNDS=${ROUNDS:-3} THREADS=${THREADS:-2} STRACE=${STRACE:-0}
ORIGIN_PORT=18180 NGINX_PORT=18181 NETHTTP_PORT=18182 LEAN_PORT=18183 HANDLER_PORT=18184 H2_PORT=18185
for tool in go h2load nginx openssl curl; do
	command -v "$tool" >/dev/null || { echo "floor.sh: $tool not found on PATH" >&2; exit 1; }
done
. bench/lib.sh
ports_free $ORIGIN_PORT $NGINX_PORT $NETHTTP_PORT $LEAN_PORT $HANDLER_PORT $H2_PORT
workdir h2floor

echo "# building bench/h2/floor" >&2
go build -o "$W/floor" ./bench/h2/floor
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
	-keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
chmod 644 "$W/key.pem"
mkdir -p "$W/nginx/logs" "$W/static/s"
origin_nginx $ORIGIN_PORT
head -c 1024 /dev/zero | tr '\0' 'x' >"$W/static/s/1k"
nginx_h2 $NGINX_PORT $ORIGIN_PORT "location /s/ { root $W/static; }"
"$W/floor" -mode nethttp -addr 127.0.0.1:$NETHTTP_PORT -cert "$W/cert.pem" -key "$W/key.pem" 2>"$W/floor-nethttp.log" &
NETHTTP_PID=$!
STARTED+=($NETHTTP_PID)
"$W/floor" -mode lean -addr 127.0.0.1:$LEAN_PORT -cert "$W/cert.pem" -key "$W/key.pem" 2>"$W/floor-lean.log" &
LEAN_PID=$!
STARTED+=($LEAN_PID)
"$W/floor" -mode handler -addr 127.0.0.1:$HANDLER_PORT -cert "$W/cert.pem" -key "$W/key.pem" 2>"$W/floor-handler.log" &
HANDLER_PID=$!
STARTED+=($HANDLER_PID)
"$W/floor" -mode h2 -addr 127.0.0.1:$H2_PORT -cert "$W/cert.pem" -key "$W/key.pem" 2>"$W/floor-h2.log" &
H2_PID=$!
STARTED+=($H2_PID)

# name:url:pid
SERVERS=("nginx-static:https://127.0.0.1:$NGINX_PORT/s/1k:$NGINX_PID"
	"nginx-proxy:https://127.0.0.1:$NGINX_PORT/1k:$NGINX_PID"
	"nethttp:https://127.0.0.1:$NETHTTP_PORT/1k:$NETHTTP_PID"
	"lean:https://127.0.0.1:$LEAN_PORT/1k:$LEAN_PID"
	"handler:https://127.0.0.1:$HANDLER_PORT/1k:$HANDLER_PID"
	"h2:https://127.0.0.1:$H2_PORT/1k:$H2_PID")
split() { # split ENTRY: sets name, url, pid
	name=${1%%:*}
	local rest=${1#*:}
	pid=${rest##*:}
	url=${rest%:*}
}
for s in "${SERVERS[@]}"; do
	split "$s"
	for _ in $(seq 150); do
		[ "$(curl -sk --http2 -o /dev/null -w '%{http_code} %{size_download} %{http_version}' "$url" 2>/dev/null)" = "200 1024 2" ] && continue 2
		sleep 0.1
	done
	echo "floor.sh: $name ($url) does not answer 200 with 1 KiB over HTTP/2" >&2
	exit 1
done

RESULTS="$W/results.tsv"
: >"$RESULTS"
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); h2load -t$THREADS -c$CONNS -n$N; rounds $ROUNDS" >&2
for round in $(seq "$ROUNDS"); do
	for m in $STREAMS; do
		for s in "${SERVERS[@]}"; do
			split "$s"
			h2load_measure "floor.sh: $name" "$url" "$pid" "$m" "$N"
			rps=$H2_RPS cpu_us=$H2_CPU_US
			printf '%s\t%s\t%s\t%s\n' "$name" "$m" "$rps" "$cpu_us" >>"$RESULTS"
			printf '# round %s m%-3s %-12s %10s req/s  %6s us/req\n' "$round" "$m" "$name" "$rps" "$cpu_us" >&2
		done
	done
done

echo
echo "HTTP/2 + TLS floors, 1 KiB, loopback, $(nproc) cores, h2load -t$THREADS -c$CONNS -n$N, median of $ROUNDS rounds"
awk -F'\t' '
function median(list,    n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	k = $1 SUBSEP $2
	if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	rps[k] = rps[k] " " $3; cpu[k] = cpu[k] " " $4
}
END {
	printf "%-13s %8s %10s %11s %16s\n", "server", "streams", "req/s", "CPU us/req", "x nginx-proxy"
	for (i = 1; i <= n; i++) { k = order[i]; mc[k] = median(cpu[k]) }
	for (i = 1; i <= n; i++) {
		k = order[i]; split(k, kk, SUBSEP)
		printf "%-13s %8s %10.0f %11.1f %15.2fx\n", kk[1], kk[2], median(rps[k]), mc[k], mc[k] / mc["nginx-proxy" SUBSEP kk[2]]
	}
}' "$RESULTS"

echo
echo "allocations per request of the Go servers (runtime.MemStats.Mallocs over 20000 requests)"
printf '%-13s %8s %9s %9s\n' server streams allocs bytes
for m in $STREAMS; do
	for s in "${SERVERS[@]}"; do
		split "$s"
		case $name in nginx*) continue ;; esac
		kill -USR1 "$pid"
		sleep 0.3
		h2load -t"$THREADS" -c"$CONNS" -m"$m" -n 20000 "$url" >/dev/null
		kill -USR1 "$pid"
		sleep 0.3
		grep '^floor: mallocs' "$W/floor-$name.log" | tail -2 | awk -v name="$name" -v m="$m" '
			NR == 1 { a = $3; b = $5 } NR == 2 { printf "%-13s %8s %9.1f %9.0f\n", name, m, ($3 - a) / 20000, ($5 - b) / 20000 }'
	done
done

[ "$STRACE" = 1 ] || exit 0
command -v strace >/dev/null || { echo "floor.sh: strace not found (STRACE=0 skips it)" >&2; exit 1; }
echo
echo "system calls per request (strace -c -f, one run of 20000 requests; nginx: its workers)"
printf '%-13s %8s %7s %7s %7s %7s\n' server streams write read futex total
for m in $STREAMS; do
	for s in "${SERVERS[@]}"; do
		split "$s"
		if [ "$pid" = "$NGINX_PID" ]; then targets=$(pgrep -P "$pid" | sed 's/^/-p /'); else targets="-p $pid"; fi
		# shellcheck disable=SC2086
		strace -c -f $targets -o "$W/strace.txt" 2>/dev/null &
		spid=$!
		sleep 1
		h2load -t"$THREADS" -c"$CONNS" -m"$m" -n 20000 "$url" >/dev/null
		sleep 0.5
		kill -INT $spid
		wait $spid || true
		awk -v name="$name" -v m="$m" '
			$NF == "write" || $NF == "writev" { w += $4 } $NF == "read" || $NF == "recvfrom" { r += $4 } $NF == "futex" { f += $4 } $NF == "total" { t = $4 }
			END { printf "%-13s %8s %7.2f %7.2f %7.2f %7.2f\n", name, m, w / 20000, r / 20000, f / 20000, t / 20000 }' "$W/strace.txt"
	done
done
