#!/usr/bin/env bash
# bench/h2/run.sh: proxied 1 KiB GETs over HTTP/2 with TLS (h2load) through
# rampart, nginx and Caddy, all in front of the same origin, in the same
# run. For each server and each stream count (64 connections with 1 and
# with 10 concurrent streams each) it takes the median of ROUNDS runs of
# requests/s and the server's CPU per request (utime+stime of all its
# processes from /proc/PID/stat, before and after, divided by the requests
# that succeeded), then prints rampart/nginx and rampart/Caddy ratios: of
# the medians, and the median of the per-round ratios (the issue 16
# target: CPU per request <= 1.0x nginx's).
#
# Every server proxies (no cache) to one origin, nginx serving a static
# 1 KiB file with one worker over keep-alive HTTP/1.1, like bench/edge. The
# certificate is one self-signed P-256 certificate for all three; TLS 1.3,
# session resumption not involved (one handshake per connection).
#
# Installs nothing: go, h2load (nghttp2-client), nginx, caddy and openssl
# must be on PATH. Everything binds to 127.0.0.1 ports 18180-18190 and is
# stopped on exit. Environment: N (requests per run, default 200000),
# CONNS (default 64), STREAMS (default "1 10"), ROUNDS (default 3),
# THREADS (h2load -t, default 2), CADDY (1 by default; 0 skips Caddy).
set -euo pipefail
cd "$(dirname "$0")/../.."

N=${N:-200000} CONNS=${CONNS:-64} STREAMS=${STREAMS:-"1 10"} ROUNDS=${ROUNDS:-3} THREADS=${THREADS:-2}
CADDY=${CADDY:-1}
ORIGIN_PORT=18180 NGINX_PORT=18181 CADDY_PORT=18182 RAMPART_PORT=18183 RAMPART_HTTP_PORT=18184
for tool in go h2load nginx openssl curl; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found on PATH (install it first)" >&2; exit 1; }
done
if [ "$CADDY" = 1 ]; then command -v caddy >/dev/null || { echo "run.sh: caddy not found (CADDY=0 skips it)" >&2; exit 1; }; fi
. bench/lib.sh
ports_free $ORIGIN_PORT $NGINX_PORT $CADDY_PORT $RAMPART_PORT $RAMPART_HTTP_PORT
workdir h2

echo "# building rampart" >&2
go build -o "$W/rampart" ./cmd/rampart
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
	-keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
chmod 644 "$W/key.pem"

# The origin: nginx, one worker, a static 1 KiB file.
mkdir -p "$W/nginx/logs"
origin_nginx $ORIGIN_PORT

# nginx: one worker per core, HTTP/2 over TLS, keep-alive to the origin.
nginx_h2 $NGINX_PORT $ORIGIN_PORT

PROXIES=("nginx:$NGINX_PORT:$NGINX_PID")
if [ "$CADDY" = 1 ]; then
	cat >"$W/Caddyfile" <<CONF
{
	admin off
	auto_https disable_redirects
	storage file_system $W/caddy-data
}
https://127.0.0.1:$CADDY_PORT {
	bind 127.0.0.1
	tls $W/cert.pem $W/key.pem
	reverse_proxy 127.0.0.1:$ORIGIN_PORT
}
CONF
	XDG_DATA_HOME="$W/caddy-data" XDG_CONFIG_HOME="$W/caddy-config" caddy run --config "$W/Caddyfile" --adapter caddyfile >"$W/caddy.log" 2>&1 &
	CADDY_PID=$!
	STARTED+=($CADDY_PID)
	PROXIES+=("caddy:$CADDY_PORT:$CADDY_PID")
fi

# rampart: an edge-only node (no admin listener, so no lists), access log
# off like the others, the zone proxying to the origin without cache.
cat >"$W/rampart.yaml" <<CONF
listen: {http: "127.0.0.1:$RAMPART_HTTP_PORT", https: "127.0.0.1:$RAMPART_PORT", admin: ""}
data_dir: $W/rampart-data
log: {format: "off", level: warn}
tls:
  certificates: [{cert: $W/cert.pem, key: $W/key.pem}]
zones:
  - host: 127.0.0.1
    origins: [http://127.0.0.1:$ORIGIN_PORT]
CONF
"$W/rampart" serve --config "$W/rampart.yaml" >"$W/rampart.log" 2>&1 &
RAMPART_PID=$!
STARTED+=($RAMPART_PID)
PROXIES=("rampart:$RAMPART_PORT:$RAMPART_PID" "${PROXIES[@]}")

# wait_ok PORT NAME: waits up to 15 s for a 200 with a 1 KiB body over h2.
wait_ok() {
	for _ in $(seq 150); do
		if [ "$(curl -sk --http2 -o /dev/null -w '%{http_code} %{size_download} %{http_version}' "https://127.0.0.1:$1/1k" 2>/dev/null)" = "200 1024 2" ]; then
			return 0
		fi
		sleep 0.1
	done
	echo "run.sh: $2 on :$1 does not answer 200 with 1 KiB over HTTP/2" >&2
	cat "$W"/*.log "$W"/nginx/logs/error.log >&2 2>/dev/null || true
	exit 1
}
for p in "${PROXIES[@]}"; do IFS=: read -r name port pid <<<"$p"; wait_ok "$port" "$name"; done

RESULTS="$W/results.tsv"
: >"$RESULTS"
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); h2load -t$THREADS -c$CONNS -n$N; rounds $ROUNDS; origin nginx static 1 KiB" >&2
for round in $(seq "$ROUNDS"); do
	for m in $STREAMS; do
		for p in "${PROXIES[@]}"; do
			IFS=: read -r name port pid <<<"$p"
			h2load_measure "run.sh: $name" "https://127.0.0.1:$port/1k" "$pid" "$m" "$N"
			rps=$H2_RPS cpu_us=$H2_CPU_US failed=$H2_FAILED
			printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$m" "$round" "$rps" "$cpu_us" "$failed" >>"$RESULTS"
			printf '# round %s m%-3s %-8s %10s req/s  %6s us/req  failed %s\n' "$round" "$m" "$name" "$rps" "$cpu_us" "$failed" >&2
		done
	done
done

echo
echo "proxied 1 KiB GET over HTTP/2 + TLS, loopback, $(nproc) cores, h2load -t$THREADS -c$CONNS -n$N, median of $ROUNDS rounds; load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
awk -F'\t' '
function median(list,    n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	k = $1 SUBSEP $2
	if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	if (!($2 in mseen)) { mseen[$2] = 1; ms[++nm] = $2 }
	rps[k] = rps[k] " " $4; cpu[k] = cpu[k] " " $5
	round[k SUBSEP $3] = $5
	if (!($3 in rseen)) { rseen[$3] = 1; rounds[++nr] = $3 }
	if ($6 != "0") bad[k] = bad[k] " r" $3 ":" $6
}
END {
	printf "%-9s %8s %10s %11s  %s\n", "server", "streams", "req/s", "CPU us/req", "failed"
	for (i = 1; i <= n; i++) {
		k = order[i]; split(k, kk, SUBSEP)
		m_rps[k] = median(rps[k]); m_cpu[k] = median(cpu[k])
		printf "%-9s %8s %10.0f %11.1f  %s\n", kk[1], kk[2], m_rps[k], m_cpu[k], bad[k] ? bad[k] : "none"
	}
	for (j = 1; j <= nm; j++) {
		m = ms[j]
		for (q = 1; q <= 2; q++) {
			peer = (q == 1) ? "nginx" : "caddy"
			if (!((peer SUBSEP m) in m_rps)) continue
			# The median of the per-round ratios: the servers of a round ran
			# back to back, under the same load.
			ratios = ""
			for (r = 1; r <= nr; r++) {
				a = round["rampart" SUBSEP m SUBSEP rounds[r]]; b = round[peer SUBSEP m SUBSEP rounds[r]]
				if (a != "" && b + 0 > 0) ratios = ratios " " a / b
			}
			printf "m%-3s rampart/%s: CPU per request %.2fx (median of per-round ratios %.2fx), requests/s %.2fx\n", m, peer, m_cpu["rampart" SUBSEP m] / m_cpu[peer SUBSEP m], median(ratios), m_rps["rampart" SUBSEP m] / m_rps[peer SUBSEP m]
		}
	}
}' "$RESULTS"
