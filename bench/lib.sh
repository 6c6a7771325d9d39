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
