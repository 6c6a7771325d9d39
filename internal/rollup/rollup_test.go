package rollup

import (
	"sync"
	"testing"
	"time"
)

func TestRecordAndSeries(t *testing.T) {
	s := New(0, 10)
	now := time.Date(2026, 12, 7, 10, 30, 20, 0, time.UTC)
	for j := range 120 {
		i := 119 - j // oldest first: a request older than the open window is dropped
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

// TestRecordConcurrent records from several goroutines across a minute
// boundary and a zone cap, reading while they write: every request is
// counted once, in its minute, and the all-zones ring is the sum.
func TestRecordConcurrent(t *testing.T) {
	s := New(3, 0)
	base := time.Date(2026, 12, 7, 16, 0, 59, 0, time.UTC)
	zones := []string{"a.example", "b.example", "c.example", "d.example"} // one is over the cap
	const workers, each = 4, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				at := base
				if i%2 == 1 {
					at = base.Add(time.Second) // the next minute
				}
				s.Record(Request{Zone: zones[(w+i)%len(zones)], Time: at, Status: 200 + 100*(i%4), Bytes: 10, Latency: time.Duration(i%7) * time.Millisecond})
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			s.Series("", base.Add(time.Second), 2, 1)
			s.Totals(base.Add(time.Second), 2)
		}
	}()
	wg.Wait()
	<-done
	if got := s.Zones(); got != 3 {
		t.Fatalf("zones = %d, want 3 (the cap)", got)
	}
	all := s.Series("", base.Add(time.Second), 2, 1)
	var sum int64
	tracked := 0
	for _, z := range zones {
		ps := s.Series(z, base.Add(time.Second), 2, 1)
		if ps[0].Requests == 0 && ps[1].Requests == 0 {
			continue // the zone over the cap
		}
		tracked++
		if ps[0].Requests != ps[1].Requests {
			t.Errorf("%s: minutes %d / %d requests, want equal halves", z, ps[0].Requests, ps[1].Requests)
		}
		sum += Total(ps).Requests
	}
	if tracked != 3 {
		t.Fatalf("%d zones with requests, want 3", tracked)
	}
	if want := int64(workers * each * 3 / 4); sum != want || Total(all).Requests != want {
		t.Fatalf("zones sum %d, all-zones ring %d, want %d (the requests of the three tracked zones)", sum, Total(all).Requests, want)
	}
	var lat int64
	for _, c := range Total(all).Latency {
		lat += c
	}
	if tot := Total(all); lat != tot.Requests || tot.Status[2]+tot.Status[3]+tot.Status[4]+tot.Status[5] != tot.Requests || tot.Bytes != 10*tot.Requests {
		t.Fatalf("inconsistent counters: %+v", tot)
	}
}
