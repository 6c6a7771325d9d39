package main

import (
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestServeMetrics checks /debug/metrics's text: the scheduler latency
// histogram has non-empty buckets with numeric bounds and counts, and the
// GC cycle counter moves after a runtime.GC.
func TestServeMetrics(t *testing.T) {
	read := func() map[string][]string {
		rec := httptest.NewRecorder()
		serveMetrics(rec, httptest.NewRequest("GET", "/debug/metrics", nil))
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Fatalf("Content-Type %q", ct)
		}
		lines := map[string][]string{}
		for _, line := range strings.Split(strings.TrimSpace(rec.Body.String()), "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) == 4 && f[0] == "hist":
				if _, err := strconv.ParseFloat(f[2], 64); err != nil {
					t.Fatalf("bucket bound in %q: %v", line, err)
				}
				if n, err := strconv.ParseUint(f[3], 10, 64); err != nil || n == 0 {
					t.Fatalf("count in %q: %v", line, err)
				}
				lines[f[1]] = append(lines[f[1]], line)
			case len(f) == 3 && f[0] == "value":
				lines[f[1]] = append(lines[f[1]], f[2])
			default:
				t.Fatalf("line %q: want hist NAME UPPER COUNT or value NAME VALUE", line)
			}
		}
		return lines
	}
	runtime.GC()
	before := read()
	if len(before["/sched/latencies:seconds"]) == 0 {
		t.Fatalf("no /sched/latencies:seconds buckets in %v", before)
	}
	if got := before["/sched/gomaxprocs:threads"]; len(got) != 1 || got[0] != strconv.Itoa(runtime.GOMAXPROCS(0)) {
		t.Errorf("gomaxprocs %v, want %d", got, runtime.GOMAXPROCS(0))
	}
	runtime.GC()
	after := read()
	b, _ := strconv.ParseUint(before["/gc/cycles/total:gc-cycles"][0], 10, 64)
	a, _ := strconv.ParseUint(after["/gc/cycles/total:gc-cycles"][0], 10, 64)
	if a <= b {
		t.Errorf("gc cycles %d then %d after runtime.GC", b, a)
	}
}
