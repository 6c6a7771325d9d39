# Shared helpers of the bench/*/run.sh scripts; source it from the
# repository root: . bench/lib.sh

# ports_free PORT...: exits when any of the loopback ports is taken.
ports_free() {
	local port
	for port in "$@"; do
		if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
			echo "run.sh: 127.0.0.1:$port is already in use" >&2
			exit 1
		fi
	done
}

# workdir NAME: makes the work folder $W and installs the traps that stop
# every process whose pid is appended to STARTED and remove $W on exit.
workdir() {
	W=$(mktemp -d "/tmp/rampart-$1-bench.XXXXXX")
	chmod 755 "$W" # nginx workers may run as another user
	STARTED=()
	trap cleanup EXIT
	trap 'exit 130' INT TERM
}

cleanup() {
	local pid
	for pid in "${STARTED[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${STARTED[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$W"
}

# to_ms VALUE: a wrk latency ("812.00us", "1.23ms", "1.01s") in ms.
to_ms() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
		else print v }'
}

# TICK_US is one clock tick of /proc/PID/stat's utime and stime in µs.
TICK_US=$((1000000 / $(getconf CLK_TCK)))

# origin_nginx PORT: starts the benchmarks' origin, nginx with one worker
# serving a static 1 KiB file at /1k from $W/origin on 127.0.0.1:PORT
# (keep-alive without a request limit), and appends its pid to STARTED.
origin_nginx() {
	mkdir -p "$W/origin/www" "$W/origin/logs"
	head -c 1024 /dev/zero | tr '\0' 'x' >"$W/origin/www/1k"
	cat >"$W/origin/nginx.conf" <<CONF
worker_processes 1;
pid $W/origin/nginx.pid;
error_log $W/origin/logs/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_requests 10000000;
	server {
		listen 127.0.0.1:$1;
		root $W/origin/www;
		location / { }
	}
}
CONF
	nginx -p "$W/origin" -e "$W/origin/logs/error.log" -c "$W/origin/nginx.conf" -g 'daemon off;' &
	STARTED+=($!)
}

# nginx_h2 PORT ORIGIN_PORT [EXTRA]: nginx proxying HTTP/2 over TLS on
# 127.0.0.1:PORT to the origin on ORIGIN_PORT (one worker per core,
# keep-alive to the origin), with $W/cert.pem and $W/key.pem; EXTRA is
# more server-block lines (a location). Sets NGINX_PID.
nginx_h2() {
	mkdir -p "$W/nginx/logs"
	cat >"$W/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $W/nginx/nginx.pid;
error_log $W/nginx/logs/error.log warn;
events { worker_connections 8192; }
http {
	access_log off;
	keepalive_requests 10000000;
	upstream origin { server 127.0.0.1:$2; keepalive 512; }
	server {
		listen 127.0.0.1:$1 ssl http2;
		ssl_certificate $W/cert.pem;
		ssl_certificate_key $W/key.pem;
		ssl_protocols TLSv1.2 TLSv1.3;
		${3:-}
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
}

# pids_of PID: PID and its child processes (nginx's workers).
pids_of() {
	echo "$1"
	pgrep -P "$1" || true
}

# cpu_ticks PID: utime+stime of PID and its children, in clock ticks.
cpu_ticks() {
	local t=0 pid
	for pid in $(pids_of "$1"); do
		[ -r "/proc/$pid/stat" ] || continue
		t=$((t + $(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$pid/stat")))
	done
	echo $t
}

# h2load_measure NAME URL PID STREAMS N: a 20,000-request warm-up, then
# N requests to URL over HTTP/2 (h2load -t$THREADS -c$CONNS -m STREAMS);
# sets H2_OK and H2_FAILED (requests), H2_RPS and H2_CPU_US (CPU of PID
# and its children per request that succeeded). Exits when none did.
h2load_measure() {
	local name=$1 url=$2 pid=$3 m=$4 n=$5 before after out
	h2load -t"$THREADS" -c"$CONNS" -m"$m" -n 20000 "$url" >/dev/null # warm-up
	before=$(cpu_ticks "$pid")
	out=$(h2load -t"$THREADS" -c"$CONNS" -m"$m" -n "$n" "$url")
	after=$(cpu_ticks "$pid")
	H2_OK=$(awk '/^requests:/ {print $8}' <<<"$out")
	H2_FAILED=$(awk '/^requests:/ {print $10}' <<<"$out")
	H2_RPS=$(awk '/^finished in/ {gsub(",", "", $4); print $4}' <<<"$out")
	[ -n "$H2_OK" ] && [ "$H2_OK" -gt 0 ] || { echo "$out" >&2; echo "$name served nothing" >&2; exit 1; }
	H2_CPU_US=$(awk -v t=$((after - before)) -v us="$TICK_US" -v n="$H2_OK" 'BEGIN { printf "%.1f", t * us / n }')
}
