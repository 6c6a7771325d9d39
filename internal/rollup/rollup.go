// Package rollup keeps per-minute traffic rollups per zone in memory for
// the dashboard's operator pages: requests, bytes, status classes, cache
// hits, latency and the mitigated requests (rate-limited, challenged,
// WAF-blocked, 451), for the last day, plus a small sample of security
// events.
//
// Recording is on the request path, so Record is allocation-free and
// cheap: each zone has a ring of 1,440 minute buckets whose counters are
// atomics; a request adds to the bucket of its minute (the bucket is
// reset by the first request of a new minute, under the zone's short
// lock). Reading (Series, Totals) copies the buckets it needs.
//
// The rollups are per node. A Flusher (flush.go) writes each node's
// minutes to the control-plane store (every 10 s, an upsert of the running
// totals per node, zone and minute), so that with PostgreSQL the dashboard
// of any node reads the sum over the nodes through DB (source.go); a
// single node reads its memory through Local.
package rollup

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Minutes is how many minute buckets each zone keeps (one day).
const Minutes = 24 * 60

// Outcome classifies what the edge did with a request.
type Outcome uint8

// The outcomes a request may have.
const (
	Served      Outcome = iota // proxied or served from cache
	RateLimited                // 429
	Challenged                 // challenge page
	WAFBlocked                 // 403 by the WAF or an access rule
	Legal                      // 451: suspended zone or embargoed region
)

// Request is one finished request as the edge saw it. It is a value, so
// that Record does not allocate.
type Request struct {
	Zone     string
	Time     time.Time
	Status   int
	Bytes    int64
	CacheHit bool
	Latency  time.Duration
	Outcome  Outcome
}

// latencyBounds are the upper bounds of the latency histogram buckets.
var latencyBounds = [...]time.Duration{
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2500 * time.Millisecond,
}

// numLatency is the number of latency buckets (the last is unbounded).
const numLatency = len(latencyBounds) + 1

// bucket holds one minute of one zone.
type bucket struct {
	minute   atomic.Int64 // unix minute this bucket counts; 0 = empty
	requests atomic.Int64
	bytes    atomic.Int64
	status   [6]atomic.Int64 // index = status/100 (0 for other)
	cacheHit atomic.Int64
	latSum   atomic.Int64 // microseconds
	latency  [numLatency]atomic.Int64
	outcome  [5]atomic.Int64

	// Written by the flusher only (flush.go): the minute and the sum of
	// the counters it last stored, so that it stores a bucket again only
	// when it changed.
	flushedMinute atomic.Int64
	flushedSum    atomic.Int64
}

// zone is the ring of one zone.
type zone struct {
	mu      sync.Mutex // resetting a bucket for a new minute
	buckets [Minutes]bucket
}

// Store is the in-memory rollup store. It is safe for concurrent use.
type Store struct {
	mu    sync.RWMutex
	zones map[string]*zone
	// maxZones bounds the zones tracked (a flood of unknown hosts is
	// answered 421 before it is recorded, but be safe).
	maxZones int
	// all sums every zone, so that the all-zones series reads one ring.
	all    zone
	events *events
	// geo gives the country and ASN of the sampled events (SetGeo).
	geo atomic.Pointer[geoHolder]
}

// New returns an empty store tracking at most maxZones zones (0 means
// 10,000) and keeping the last sample security events.
func New(maxZones, sample int) *Store {
	if maxZones <= 0 {
		maxZones = 10000
	}
	return &Store{zones: map[string]*zone{}, maxZones: maxZones, events: newEvents(sample)}
}

func (s *Store) zone(name string, create bool) *zone {
	s.mu.RLock()
	z := s.zones[name]
	s.mu.RUnlock()
	if z != nil || !create {
		return z
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if z = s.zones[name]; z == nil && len(s.zones) < s.maxZones {
		z = &zone{}
		s.zones[name] = z
	}
	return z
}

// Record adds one request. It does not allocate once the zone is known.
func (s *Store) Record(r Request) {
	z := s.zone(r.Zone, true)
	if z == nil {
		return
	}
	m := r.Time.Unix() / 60
	z.record(m, &r)
	s.all.record(m, &r)
}

func (z *zone) record(m int64, r *Request) {
	b := &z.buckets[m%Minutes]
	if b.minute.Load() != m {
		z.mu.Lock()
		if b.minute.Load() != m {
			b.reset()
			b.minute.Store(m)
		}
		z.mu.Unlock()
	}
	b.requests.Add(1)
	b.bytes.Add(r.Bytes)
	class := r.Status / 100
	if class < 1 || class > 5 {
		class = 0
	}
	b.status[class].Add(1)
	if r.CacheHit {
		b.cacheHit.Add(1)
	}
	b.latSum.Add(r.Latency.Microseconds())
	i := 0
	for i < len(latencyBounds) && r.Latency > latencyBounds[i] {
		i++
	}
	b.latency[i].Add(1)
	if int(r.Outcome) < len(b.outcome) {
		b.outcome[r.Outcome].Add(1)
	}
}

func (b *bucket) reset() {
	b.requests.Store(0)
	b.bytes.Store(0)
	for i := range b.status {
		b.status[i].Store(0)
	}
	b.cacheHit.Store(0)
	b.latSum.Store(0)
	for i := range b.latency {
		b.latency[i].Store(0)
	}
	for i := range b.outcome {
		b.outcome[i].Store(0)
	}
}

// Point is one minute (or a sum of minutes) of traffic.
type Point struct {
	Minute      time.Time `json:"minute"`
	Requests    int64     `json:"requests"`
	Bytes       int64     `json:"bytes"`
	Status      [6]int64  `json:"status"` // by class: [other, 1xx, 2xx, 3xx, 4xx, 5xx]
	CacheHits   int64     `json:"cache_hits"`
	LatencySum  int64     `json:"latency_sum_us"`
	Latency     [numLatency]int64
	RateLimited int64 `json:"rate_limited"`
	Challenged  int64 `json:"challenged"`
	WAFBlocked  int64 `json:"waf_blocked"`
	Legal       int64 `json:"legal_451"`
}

// Mitigated is the requests the edge answered itself to protect a zone.
func (p Point) Mitigated() int64 { return p.RateLimited + p.Challenged + p.WAFBlocked + p.Legal }

// CacheRatio is the share of requests served from cache, 0..1.
func (p Point) CacheRatio() float64 {
	if p.Requests == 0 {
		return 0
	}
	return float64(p.CacheHits) / float64(p.Requests)
}

// MeanLatency is the mean request latency.
func (p Point) MeanLatency() time.Duration {
	if p.Requests == 0 {
		return 0
	}
	return time.Duration(p.LatencySum/p.Requests) * time.Microsecond
}

// P95 estimates the 95th percentile latency from the histogram (the upper
// bound of the bucket it falls in).
func (p Point) P95() time.Duration {
	var n int64
	for _, c := range p.Latency {
		n += c
	}
	if n == 0 {
		return 0
	}
	want := (n*95 + 99) / 100
	var acc int64
	for i, c := range p.Latency {
		acc += c
		if acc >= want {
			if i < len(latencyBounds) {
				return latencyBounds[i]
			}
			return 10 * time.Second
		}
	}
	return 0
}

func (p *Point) add(b *bucket) {
	p.Requests += b.requests.Load()
	p.Bytes += b.bytes.Load()
	for i := range p.Status {
		p.Status[i] += b.status[i].Load()
	}
	p.CacheHits += b.cacheHit.Load()
	p.LatencySum += b.latSum.Load()
	for i := range p.Latency {
		p.Latency[i] += b.latency[i].Load()
	}
	p.RateLimited += b.outcome[RateLimited].Load()
	p.Challenged += b.outcome[Challenged].Load()
	p.WAFBlocked += b.outcome[WAFBlocked].Load()
	p.Legal += b.outcome[Legal].Load()
}

func (p *Point) merge(q Point) {
	p.Requests += q.Requests
	p.Bytes += q.Bytes
	for i := range p.Status {
		p.Status[i] += q.Status[i]
	}
	p.CacheHits += q.CacheHits
	p.LatencySum += q.LatencySum
	for i := range p.Latency {
		p.Latency[i] += q.Latency[i]
	}
	p.RateLimited += q.RateLimited
	p.Challenged += q.Challenged
	p.WAFBlocked += q.WAFBlocked
	p.Legal += q.Legal
}

// Zones returns the number of zones with traffic.
func (s *Store) Zones() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.zones)
}

// Series returns the last n minutes (n ≤ Minutes) before now for zone,
// or for every zone when zone is "", oldest first, grouped into points of
// step minutes.
func (s *Store) Series(zoneName string, now time.Time, n, step int) []Point {
	if n > Minutes {
		n = Minutes
	}
	if step < 1 {
		step = 1
	}
	var zs []*zone
	if zoneName == "" {
		zs = append(zs, &s.all)
	} else if z := s.zone(zoneName, false); z != nil {
		zs = append(zs, z)
	}
	end := now.Unix() / 60
	first := end - int64(n) + 1
	out := make([]Point, 0, (n+step-1)/step)
	for m := first; m <= end; m += int64(step) {
		p := Point{Minute: time.Unix(m*60, 0).UTC()}
		for k := m; k < m+int64(step) && k <= end; k++ {
			for _, z := range zs {
				b := &z.buckets[k%Minutes]
				if b.minute.Load() == k {
					p.add(b)
				}
			}
		}
		out = append(out, p)
	}
	return out
}

// Total sums points.
func Total(ps []Point) Point {
	var t Point
	for _, p := range ps {
		t.merge(p)
	}
	return t
}

// ZoneTotal is one zone's sum over a window.
type ZoneTotal struct {
	Zone string
	Point
}

// Totals returns every zone's sum over the last n minutes, busiest first.
func (s *Store) Totals(now time.Time, n int) []ZoneTotal {
	s.mu.RLock()
	names := make([]string, 0, len(s.zones))
	for name := range s.zones {
		names = append(names, name)
	}
	s.mu.RUnlock()
	out := make([]ZoneTotal, 0, len(names))
	for _, name := range names {
		out = append(out, ZoneTotal{Zone: name, Point: Total(s.Series(name, now, n, n))})
	}
	sortTotals(out)
	return out
}

func sortTotals(ts []ZoneTotal) {
	slices.SortFunc(ts, func(a, b ZoneTotal) int {
		if c := cmp.Compare(b.Requests, a.Requests); c != 0 {
			return c
		}
		return strings.Compare(a.Zone, b.Zone)
	})
}
