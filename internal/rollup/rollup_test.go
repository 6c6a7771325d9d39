package rollup

import (
	"testing"
	"time"
)

func TestRecordAndSeries(t *testing.T) {
	s := New(0, 10)
	now := time.Date(2026, 12, 7, 10, 30, 20, 0, time.UTC)
	for i := range 120 {
		at := now.Add(-time.Duration(i) * 30 * time.Second)
		s.Record(Request{Zone: "a.example", Time: at, Status: 200, Bytes: 1000, CacheHit: i%2 == 0, Latency: 20 * time.Millisecond})
	}
	s.Record(Request{Zone: "b.example", Time: now, Status: 451, Outcome: Legal, Latency: time.Millisecond})
	s.Record(Request{Zone: "b.example", Time: now, Status: 429, Outcome: RateLimited})
	hour := s.Series("a.example", now, 60, 1)
	if len(hour) != 60 {
		t.Fatalf("%d points", len(hour))
	}
	tot := Total(hour)
	// The oldest request (09:30:50) is outside the hour 09:31..10:30.
	if tot.Requests != 119 || tot.Bytes != 119000 || tot.Status[2] != 119 || tot.CacheHits != 60 {
		t.Fatalf("hour total %+v", tot)
	}
	if tot.P95() != 25*time.Millisecond || tot.MeanLatency() != 20*time.Millisecond {
		t.Fatalf("latency p95 %s mean %s", tot.P95(), tot.MeanLatency())
	}
	all := Total(s.Series("", now, 60, 5))
	if all.Requests != 121 || all.Legal != 1 || all.RateLimited != 1 || all.Mitigated() != 2 || all.Status[4] != 2 {
		t.Fatalf("all zones %+v", all)
	}
	// A day later the old minutes are gone: the ring reuses the buckets.
	later := now.Add(24 * time.Hour)
	s.Record(Request{Zone: "a.example", Time: later, Status: 500})
	if got := Total(s.Series("a.example", later, Minutes, 60)); got.Requests != 1 || got.Status[5] != 1 {
		t.Fatalf("after a day %+v", got)
	}
	ts := s.Totals(now, 60)
	if len(ts) != 2 || ts[0].Zone != "a.example" {
		t.Fatalf("totals %+v", ts)
	}
}

func TestEvents(t *testing.T) {
	s := New(0, 3)
	for i, a := range []string{"waf_blocked", "challenged", "waf_blocked", "legal_451"} {
		s.RecordEvent(Event{Zone: "z", Action: a, ClientIP: "192.0.2.1", Path: "/p", Status: 400 + i})
	}
	got := s.Events(EventFilter{})
	if len(got) != 3 || got[0].Action != "legal_451" || got[2].Action != "challenged" {
		t.Fatalf("events %+v", got)
	}
	if got := s.Events(EventFilter{Action: "waf_blocked"}); len(got) != 1 || got[0].Status != 402 {
		t.Fatalf("filtered %+v", got)
	}
}

// BenchmarkRecord measures the request-path cost of a rollup. It must not
// allocate.
func BenchmarkRecord(b *testing.B) {
	s := New(0, 0)
	now := time.Now()
	r := Request{Zone: "www.example.org", Time: now, Status: 200, Bytes: 5120, CacheHit: true, Latency: 3 * time.Millisecond}
	s.Record(r)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.Record(r)
	}
}

func BenchmarkRecordParallel(b *testing.B) {
	s := New(0, 0)
	now := time.Now()
	zones := []string{"a.example", "b.example", "c.example", "d.example"}
	for _, z := range zones {
		s.Record(Request{Zone: z, Time: now})
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			s.Record(Request{Zone: zones[i%4], Time: now, Status: 200, Bytes: 100, Latency: time.Millisecond})
			i++
		}
	})
}

func TestRecordDoesNotAllocate(t *testing.T) {
	s := New(0, 10)
	now := time.Now()
	r := Request{Zone: "www.example.org", Time: now, Status: 200}
	s.Record(r)
	ev := Event{Zone: "www.example.org", Action: "waf_blocked", Path: "/x"}
	if n := testing.AllocsPerRun(1000, func() { s.Record(r); s.RecordEvent(ev) }); n != 0 {
		t.Fatalf("Record allocates %.1f times per call", n)
	}
}
