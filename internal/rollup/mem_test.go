package rollup

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// BenchmarkMemoryDay records one request per minute for a simulated day
// in 1,000 zones and reports the heap they hold, per zone.
func BenchmarkMemoryDay(b *testing.B) {
	const zones = 1000
	names := make([]string, zones)
	for i := range names {
		names[i] = fmt.Sprintf("zone-%04d.example", i)
	}
	base := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := New(0, 1)
		for m := range Minutes {
			at := base.Add(time.Duration(m) * time.Minute)
			for i, z := range names {
				s.Record(Request{Zone: z, Time: at.Add(time.Duration(i%60) * time.Second), Status: 200, Bytes: 5120 + int64(m%700),
					CacheHit: m%3 == 0, Latency: time.Duration(1+m%40) * time.Millisecond})
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/zones, "heapB/zone")
		runtime.KeepAlive(s)
	}
}
