#!/usr/bin/env bash
# bench/cache/metrics-diff.sh BEFORE AFTER: the difference of two
# snapshots of rampart's /debug/metrics (RAMPART_PPROF), one line:
# how long runnable goroutines waited for a P (runtime/metrics
# /sched/latencies:seconds: count, p50, p99, p99.9, max, as the upper
# bounds of the histogram's buckets, in ms), the GC's stop-the-world
# pauses (count, p99, max, in ms), GC cycles, and the GC's share of the
# process's CPU time over the interval.
awk '
FNR == 1 { f++ }
$1 == "hist" { k = $2 SUBSEP $3; if (f == 1) hb[k] = $4; else ha[k] = $4; up[k] = $3; nm[k] = $2 }
$1 == "value" { if (f == 1) vb[$2] = $3; else va[$2] = $3 }
function q(name, p,    k, n, tot, i, c, acc, u, idx) {
	n = 0; tot = 0
	for (k in ha) if (nm[k] == name) { c = ha[k] - hb[k]; if (c > 0) { n++; u[n] = up[k] + 0; cnt[u[n]] = c; tot += c } }
	if (p == "count") return tot
	if (tot == 0) return "-"
	# sort the bounds
	for (i = 2; i <= n; i++) { t = u[i]; for (j = i - 1; j >= 1 && u[j] > t; j--) u[j + 1] = u[j]; u[j + 1] = t }
	if (p == "max") return sprintf("%.3f", u[n] * 1000)
	acc = 0
	for (i = 1; i <= n; i++) { acc += cnt[u[i]]; if (acc >= p * tot) return sprintf("%.3f", u[i] * 1000) }
	return sprintf("%.3f", u[n] * 1000)
}
END {
	s = "/sched/latencies:seconds"; g = "/sched/pauses/total/gc:seconds"
	cpu = va["/cpu/classes/total:cpu-seconds"] - vb["/cpu/classes/total:cpu-seconds"]
	gcc = va["/cpu/classes/gc/total:cpu-seconds"] - vb["/cpu/classes/gc/total:cpu-seconds"]
	printf "sched-wait n=%d p50=%s p99=%s p99.9=%s max=%s ms; gc-stw n=%d p99=%s max=%s ms; gc-cycles=%d; gc-cpu=%.1f%% of GOMAXPROCS\n",
		q(s, "count"), q(s, 0.5), q(s, 0.99), q(s, 0.999), q(s, "max"),
		q(g, "count"), q(g, 0.99), q(g, "max"),
		va["/gc/cycles/total:gc-cycles"] - vb["/gc/cycles/total:gc-cycles"], (cpu > 0 ? 100 * gcc / cpu : 0)
}' "$1" "$2"
