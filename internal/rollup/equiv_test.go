package rollup

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
)

// refRing is the reference model of one zone's rollup (or of every
// zone's): a map of every minute to its counts, and the rule for late
// requests (a minute Window or more before the newest recorded is
// dropped).
type refRing struct {
	newest  int64
	minutes map[int64]*Point
}

func (r *refRing) record(req *Request) {
	m := req.Time.Unix() / 60
	if m <= r.newest-Window {
		return
	}
	r.newest = max(r.newest, m)
	p := r.minutes[m]
	if p == nil {
		p = &Point{}
		r.minutes[m] = p
	}
	class := req.Status / 100
	if class < 1 || class > 5 {
		class = 0
	}
	lat := 0
	for lat < len(latencyBounds) && req.Latency > latencyBounds[lat] {
		lat++
	}
	p.Requests++
	p.Bytes += req.Bytes
	p.Status[class]++
	if req.CacheHit {
		p.CacheHits++
	}
	p.LatencySum += req.Latency.Microseconds()
	p.Latency[lat]++
	switch req.Outcome {
	case RateLimited:
		p.RateLimited++
	case Challenged:
		p.Challenged++
	case WAFBlocked:
		p.WAFBlocked++
	case Legal:
		p.Legal++
	}
}

func (r *refRing) series(now time.Time, n, step int) []Point {
	n = min(n, Minutes)
	end := now.Unix() / 60
	first := end - int64(n) + 1
	var out []Point
	for m := first; m <= end; m += int64(step) {
		p := Point{Minute: time.Unix(m*60, 0).UTC()}
		for k := m; k < m+int64(step) && k <= end; k++ {
			if q := r.minutes[k]; q != nil {
				p.merge(*q)
			}
		}
		out = append(out, p)
	}
	return out
}

// rowSink keeps the last traffic row written per node, zone, span and
// minute, as the shared store's upsert does.
type rowSink struct {
	Sink
	rows map[string]store.TrafficRow
}

func (s *rowSink) PutTraffic(_ context.Context, rows []store.TrafficRow) error {
	for _, r := range rows {
		s.rows[fmt.Sprint(r.Zone, "/", r.Span, "/", r.Minute)] = r
	}
	return nil
}

// randomRequest is a request of zone at about t: statuses, outcomes,
// latencies and sizes of every kind.
func randomRequest(rng *rand.Rand, zone string, t time.Time) Request {
	r := Request{Zone: zone, Time: t, Status: []int{200, 200, 200, 304, 404, 500, 101, 0, 429, 403, 451}[rng.IntN(11)],
		Bytes: rng.Int64N(1 << uint(rng.IntN(30))), CacheHit: rng.IntN(3) == 0, Latency: time.Duration(rng.Int64N(int64(3 * time.Second)))}
	if rng.IntN(4) == 0 {
		r.Outcome = Outcome(rng.IntN(5))
	}
	return r
}

// TestEquivalentToReference records a random day and a half of traffic
// (several zones, jumps of minutes, idle gaps longer than the open
// window, late requests, the hour logs wrapping around) into a Store and
// into the reference model, and compares every Series and Totals answer
// and the rows a Flusher writes.
func TestEquivalentToReference(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			equivalence(t, seed)
		})
	}
}

func equivalence(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 42))
	ctx := context.Background()
	zones := []string{"a.example", "b.example", "c.example", "d.example", "e.example"}
	s := New(0, 0)
	refs := map[string]*refRing{"": {minutes: map[int64]*Point{}}}
	for _, z := range zones {
		refs[z] = &refRing{minutes: map[int64]*Point{}}
	}
	sink := &rowSink{rows: map[string]store.TrafficRow{}}
	now := time.Date(2026, 12, 7, 22, 47, 13, 0, time.UTC)
	clock := now
	f := &Flusher{Store: s, Sink: sink, Node: "n1", Now: func() time.Time { return clock }}
	stop := now.Add(36 * time.Hour)
	checks := 0
	for now.Before(stop) {
		switch rng.IntN(1000) {
		case 0: // every zone idle for longer than the window
			now = now.Add(time.Duration(17+rng.IntN(180)) * time.Minute)
		case 1, 2, 3, 4, 5, 6, 7, 8, 9, 10: // a jump of a few minutes
			now = now.Add(time.Duration(1+rng.IntN(10)) * time.Minute)
		default:
			now = now.Add(time.Duration(rng.IntN(20)) * time.Second)
		}
		// One zone is busy, the others come and go (e.example only in
		// the first hours: its minutes age out of the day).
		for range 1 + rng.IntN(3) {
			z := zones[rng.IntN(len(zones))]
			if z == "e.example" && now.Sub(stop) > -30*time.Hour {
				continue
			}
			at := now
			if rng.IntN(30) == 0 { // a long request, some older than the window
				at = now.Add(-time.Duration(rng.IntN(40*60)) * time.Second)
			}
			r := randomRequest(rng, z, at)
			s.Record(r)
			refs[z].record(&r)
			refs[""].record(&r)
		}
		if rng.IntN(30) != 0 {
			continue
		}
		checks++
		n := []int{1, 5, 15, 16, 17, 60, 61, 600, 1439, Minutes, Minutes + 5}[rng.IntN(11)]
		step := []int{1, 5, 7, 10, 60, 1440}[rng.IntN(6)]
		for _, z := range append([]string{""}, zones...) {
			got, want := s.Series(z, now, n, step), refs[z].series(now, n, step)
			if len(got) != len(want) {
				t.Fatalf("%s %q n=%d step=%d: %d points, want %d", now, z, n, step, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s %q n=%d step=%d point %d:\n got %+v\nwant %+v", now, z, n, step, i, got[i], want[i])
				}
			}
		}
		var want []ZoneTotal
		for _, z := range zones {
			if refs[z].newest != 0 {
				want = append(want, ZoneTotal{Zone: z, Point: Total(refs[z].series(now, n, n))})
			}
		}
		sortTotals(want)
		got := s.Totals(now, n)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s totals n=%d:\n got %+v\nwant %+v", now, n, got, want)
		}
		// The Flusher: every minute of the lookback the zone has, and
		// every ten-minute group inside it, as the model has them.
		clock = now
		if _, err := f.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		end := now.Unix() / 60
		for _, z := range append([]string{""}, zones...) {
			for m := end - 15; m <= end; m++ {
				p := refs[z].minutes[m]
				row, ok := sink.rows[fmt.Sprint(z, "/", 0, "/", m)]
				if p == nil || p.sum() == 0 {
					continue
				}
				if !ok || pointOf(row) != pointOf(p.row("n1", z, m)) {
					t.Fatalf("%s %q minute %d: row %+v (%v), want %+v", now, z, m, row, ok, *p)
				}
				if g := m - m%10; g >= end-15 {
					var sum Point
					for k := g; k < g+10; k++ {
						if q := refs[z].minutes[k]; q != nil {
							sum.merge(*q)
						}
					}
					row := sink.rows[fmt.Sprint(z, "/", store.SpanTenMinutes, "/", g)]
					if pointOf(row) != pointOf(sum.row("n1", z, g)) {
						t.Fatalf("%s %q group %d: row %+v, want %+v", now, z, g, row, sum)
					}
				}
			}
		}
	}
	t.Logf("%d checks", checks)
	if checks < 50 {
		t.Fatalf("only %d checks", checks)
	}
}

// TestConcurrentRecordReadFlush records across many minutes from several
// goroutines (every bucket reused, minutes packed) while others read and
// flush; run with -race. At the end every request is counted once.
func TestConcurrentRecordReadFlush(t *testing.T) {
	s := New(0, 0)
	base := time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)
	zones := []string{"a.example", "b.example", "c.example"}
	const workers, minutes, perMinute = 4, 90, 20
	var clockMu sync.Mutex
	clock := base
	sink := &rowSink{rows: map[string]store.TrafficRow{}}
	f := &Flusher{Store: s, Sink: sink, Node: "n1", Now: func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock }}
	done := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			end := base.Add(minutes * time.Minute)
			if got := Total(s.Series("", end, Minutes, 10)).Requests; got > workers*minutes*perMinute {
				t.Errorf("series counts %d requests, more than recorded", got)
				return
			}
			s.Totals(end, 60)
			if _, err := f.Flush(context.Background()); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	// The workers record minute by minute (a worker a window behind the
	// others would see its requests dropped as late).
	for m := range minutes {
		at := base.Add(time.Duration(m) * time.Minute)
		clockMu.Lock()
		clock = at
		clockMu.Unlock()
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perMinute {
					s.Record(Request{Zone: zones[(w+i)%len(zones)], Time: at.Add(time.Duration(i) * time.Second), Status: 200, Bytes: 1})
				}
			}()
		}
		wg.Wait()
	}
	close(done)
	readers.Wait()
	end := base.Add(minutes * time.Minute)
	want := int64(workers * minutes * perMinute)
	if got := Total(s.Series("", end, Minutes, 1)).Requests; got != want {
		t.Fatalf("all zones: %d requests, want %d", got, want)
	}
	var sum int64
	for _, z := range zones {
		sum += Total(s.Series(z, end, Minutes, 1)).Requests
	}
	if sum != want {
		t.Fatalf("zones sum %d, want %d", sum, want)
	}
}
