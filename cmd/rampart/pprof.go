package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/metrics"
	"strconv"
	"time"
)

// servePprof serves the Go runtime's profiles (net/http/pprof) on the
// loopback address in RAMPART_PPROF ("127.0.0.1:6060"), for measuring a
// node (bench/scale reads its goroutine count there). Unset: nothing
// listens. Any address that is not a loopback IP is refused: the profiles
// show the process's memory.
func servePprof() error {
	addr := os.Getenv("RAMPART_PPROF")
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("RAMPART_PPROF=%q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("RAMPART_PPROF=%q: must be a loopback IP and port", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("RAMPART_PPROF: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/metrics", serveMetrics)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with the process
	return nil
}

// latencyMetrics are the runtime/metrics /debug/metrics prints: how long
// runnable goroutines waited for a P, the stop-the-world pauses, and the
// counters that say how much the GC ran (bench/cache reads them around a
// wrk run to tell scheduler waits from GC pauses in the tail latency).
var latencyMetrics = []string{
	"/sched/latencies:seconds",
	"/sched/pauses/total/gc:seconds",
	"/sched/pauses/total/other:seconds",
	"/gc/cycles/total:gc-cycles",
	"/gc/heap/allocs:bytes",
	"/gc/heap/goal:bytes",
	"/cpu/classes/gc/total:cpu-seconds",
	"/cpu/classes/total:cpu-seconds",
	"/sched/gomaxprocs:threads",
}

// serveMetrics writes latencyMetrics as text, cumulative since the start:
// "hist NAME UPPER COUNT" per non-empty bucket (UPPER the bucket's upper
// bound in seconds) and "value NAME VALUE" for the others.
func serveMetrics(w http.ResponseWriter, _ *http.Request) {
	samples := make([]metrics.Sample, len(latencyMetrics))
	for i, name := range latencyMetrics {
		samples[i].Name = name
	}
	metrics.Read(samples)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	var b []byte
	for _, s := range samples {
		switch s.Value.Kind() {
		case metrics.KindFloat64Histogram:
			h := s.Value.Float64Histogram()
			for i, n := range h.Counts {
				if n == 0 {
					continue
				}
				b = append(b, "hist "...)
				b = append(b, s.Name...)
				b = append(b, ' ')
				b = strconv.AppendFloat(b, h.Buckets[i+1], 'g', -1, 64)
				b = append(b, ' ')
				b = strconv.AppendUint(b, n, 10)
				b = append(b, '\n')
			}
		case metrics.KindUint64:
			b = append(b, "value "+s.Name+" "...)
			b = strconv.AppendUint(b, s.Value.Uint64(), 10)
			b = append(b, '\n')
		case metrics.KindFloat64:
			b = append(b, "value "+s.Name+" "...)
			b = strconv.AppendFloat(b, s.Value.Float64(), 'g', -1, 64)
			b = append(b, '\n')
		}
	}
	w.Write(b)
}
