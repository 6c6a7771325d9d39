#!/usr/bin/env bash
# Runs the screening benchmark through HTTP: builds rampart, creates a read
# token in a fresh data directory, starts `rampart serve` with only the
# OFAC SDN list of testdata/sanctions/ofac (the list dev.jsonl was made
# from), sends every dev.jsonl query to POST /v1/screen with
# bench/screen at concurrency $CONC (default 8), reports server CPU per
# query, and stops the server. Everything listens on 127.0.0.1 only.
#
#   bench/screen/run.sh            # from the repository root
#   CONC=16 ROUNDS=5 ADMIN_PORT=19190 HTTP_PORT=18180 bench/screen/run.sh
#
# Ports default to free loopback ports chosen with python3.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
CONC="${CONC:-8}"
ROUNDS="${ROUNDS:-3}"
# Free loopback ports unless given (other services may hold the usual ones).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
ADMIN_PORT="${ADMIN_PORT:-$(free_port)}"
HTTP_PORT="${HTTP_PORT:-$(free_port)}"

work="$(mktemp -d)"
server_pid=""
cleanup() {
	if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "building rampart and the driver..." >&2
go build -o "$work/rampart" ./cmd/rampart
go build -o "$work/screen-bench" ./bench/screen

data="$work/data"
mkdir -p "$data"
cat >"$work/rampart.yaml" <<YAML
listen: {http: "127.0.0.1:${HTTP_PORT}", admin: "127.0.0.1:${ADMIN_PORT}"}
data_dir: ${data}
compliance:
  lists: [${root}/testdata/sanctions/ofac]
  threshold: 0.90
YAML

token="$("$work/rampart" token create --scope read --data-dir "$data" | tail -n 1 | tr -d '[:space:]')"
if [[ -z "$token" ]]; then
	echo "could not create a token" >&2
	exit 1
fi

"$work/rampart" serve --config "$work/rampart.yaml" >"$work/serve.log" 2>&1 &
server_pid=$!

# Wait up to 60 s for the admin API (list loading and index build).
for _ in $(seq 1 600); do
	if curl -fsS "http://127.0.0.1:${ADMIN_PORT}/healthz" >/dev/null 2>&1; then
		break
	fi
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "rampart serve exited; log:" >&2
		cat "$work/serve.log" >&2
		exit 1
	fi
	sleep 0.1
done

echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$work/screen-bench" -addr "http://127.0.0.1:${ADMIN_PORT}" -token "$token" -c "$CONC" \
	-rounds "$ROUNDS" -pid "$server_pid" -dev "$root/testdata/screening-eval/dev.jsonl"
