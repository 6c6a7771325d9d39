// Package rollup keeps per-minute traffic rollups per zone in memory for
// the dashboard's operator pages: requests, bytes, status classes, cache
// hits, latency and the mitigated requests (rate-limited, challenged,
// WAF-blocked, 451), for the last day, plus a small sample of security
// events.
//
// Recording is on the request path, so Record is allocation-free and
// cheap: the zone is found without a lock (a sync.Map, whose reads write
// nothing shared), and each zone keeps its last Window (16) minutes open
// in full buckets indexed by minute % Window; a request adds to the
// bucket of its minute under the bucket's own mutex. One lock and plain
// adds cost two atomic operations per zone instead of one per counter
// (nine), which on this 2-core machine was most of Record's time.
//
// Memory follows what is recorded: the first request of a minute that
// reuses a bucket packs the bucket's old minute into the zone's hour log
// of that minute (25 per zone, allocated on first use, a slot's memory
// reused a day later): a byte for the minute, a uvarint bitmap of the
// non-zero counters and a varint of each, about 15 bytes for a minute of
// one request (a full bucket is 232). A day of one request per minute
// costs a zone about 26 KB, not the 336 KB of a ring of 1,440 buckets
// (BenchmarkMemoryDay). Only that request may allocate (an hour log
// growing), about once a minute per zone.
//
// Requests are counted in the minute they started, so a long one (a
// WebSocket) adds to an older minute when it ends. A request for a minute
// Window or more before the newest minute its zone recorded (older than
// the open window) is dropped: the Flusher's Lookback (15) ignores such
// minutes as well, so the memory and the shared store agree. The
// all-zones sum applies the same rule with its own newest minute.
//
// Reading (Series, Totals, the Flusher) copies the open buckets it needs
// under the same locks and decodes the hour logs under the zone's lock.
//
// The rollups are per node. A Flusher (flush.go) writes each node's
// minutes to the control-plane store (every 10 s, an upsert of the running
// totals per node, zone and minute), so that with PostgreSQL the dashboard
// of any node reads the sum over the nodes through DB (source.go); a
// single node reads its memory through Local.
package rollup

import (
	"cmp"
	"encoding/binary"
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

// Window is how many minutes each zone keeps open, in full mutable
// buckets indexed by minute % Window: at least the Flusher's Lookback
// (15) and the current minute. Older minutes are packed into the zone's
// hour logs.
const Window = 16

// hourSlots is how many hour logs each zone keeps: a day of minutes
// spans 25 hours, and a slot is reused 25 hours later.
const hourSlots = 25

// The counters of a minute, indexes into counts.
const (
	cRequests = 0
	cBytes    = 1
	cStatus   = 2 // 6: index = status/100 (0 for other)
	cCacheHit = cStatus + 6
	cLatSum   = cCacheHit + 1 // microseconds
	cLatency  = cLatSum + 1   // numLatency
	cOutcome  = cLatency + numLatency
	nCounters = cOutcome + 5
)

// counts are a minute's counters.
type counts [nCounters]int64

// bucket holds one open minute of one zone.
type bucket struct {
	mu     sync.Mutex // guards minute and c
	minute int64      // unix minute this bucket counts; 0 = empty
	c      counts

	// Written by the flusher only (flush.go): the minute and the sum of
	// the counters it last stored, so that it stores a bucket again only
	// when it changed.
	flushedMinute atomic.Int64
	flushedSum    atomic.Int64
}

// hourLog is the closed minutes of one hour of one zone, packed one
// after the other: per minute a byte (the minute in the hour), a uvarint
// bitmap of its non-zero counters and a varint of each of them.
type hourLog struct {
	hour int64 // unix hour; 0 = empty
	data []byte
}

// zone is the rollup of one zone (or of every zone): its open minutes and
// its closed ones.
type zone struct {
	open [Window]bucket
	// newest is the newest minute recorded; a request for a minute
	// Window or more before it is dropped.
	newest atomic.Int64
	// mu guards hours; taken under a bucket's mutex when it packs its
	// minute (never the other way round).
	mu    sync.Mutex
	hours [hourSlots]hourLog
}

// Store is the in-memory rollup store. It is safe for concurrent use.
type Store struct {
	// zones maps a zone's name to its *zone. Record reads it without a
	// lock; mu serializes the creation of zones, counted by n.
	zones sync.Map
	mu    sync.Mutex
	n     int
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
	return &Store{maxZones: maxZones, events: newEvents(sample)}
}

func (s *Store) zone(name string, create bool) *zone {
	if z, ok := s.zones.Load(name); ok {
		return z.(*zone)
	}
	if !create {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if z, ok := s.zones.Load(name); ok {
		return z.(*zone)
	}
	if s.n >= s.maxZones {
		return nil
	}
	z := &zone{}
	s.zones.Store(name, z)
	s.n++
	return z
}

// eachZone calls fn with every zone with traffic, in no order.
func (s *Store) eachZone(fn func(name string, z *zone)) {
	s.zones.Range(func(k, v any) bool {
		fn(k.(string), v.(*zone))
		return true
	})
}

// Record adds one request. It does not allocate once the zone is known.
func (s *Store) Record(r Request) {
	z := s.zone(r.Zone, true)
	if z == nil {
		return
	}
	m := r.Time.Unix() / 60
	class := r.Status / 100
	if class < 1 || class > 5 {
		class = 0
	}
	lat := 0
	for lat < len(latencyBounds) && r.Latency > latencyBounds[lat] {
		lat++
	}
	us := r.Latency.Microseconds()
	z.record(m, &r, class, lat, us)
	s.all.record(m, &r, class, lat, us)
}

func (z *zone) record(m int64, r *Request, class, lat int, us int64) {
	if m <= z.newest.Load()-Window {
		return // older than the open window
	}
	b := &z.open[m%Window]
	b.mu.Lock()
	if b.minute != m && !z.roll(b, m) {
		b.mu.Unlock()
		return // the slot holds a newer minute: m is older than the window
	}
	c := &b.c
	c[cRequests]++
	c[cBytes] += r.Bytes
	c[cStatus+class]++
	if r.CacheHit {
		c[cCacheHit]++
	}
	c[cLatSum] += us
	c[cLatency+lat]++
	if int(r.Outcome) < 5 {
		c[cOutcome+int(r.Outcome)]++
	}
	b.mu.Unlock()
}

// roll reuses bucket b (its mutex held) for minute m, packing the minute
// it held, unless that minute is newer than m (then it reports false).
// It is apart from record, whose hot path it would slow down.
func (z *zone) roll(b *bucket, m int64) bool {
	if b.minute > m {
		return false
	}
	z.pack(b.minute, &b.c)
	b.minute, b.c = m, counts{}
	for n := z.newest.Load(); n < m && !z.newest.CompareAndSwap(n, m); n = z.newest.Load() {
	}
	return true
}

// pack appends minute m's counters to its hour log (called with the
// bucket's mutex held, when the bucket is reused for a newer minute). A
// slot holding an older hour is emptied for m's hour, its memory kept; a
// minute whose slot holds a newer hour is more than a day old and dropped.
func (z *zone) pack(m int64, c *counts) {
	if m <= 0 {
		return
	}
	var bits uint64
	for i, v := range c {
		if v != 0 {
			bits |= 1 << i
		}
	}
	if bits == 0 {
		return
	}
	h := m / 60
	z.mu.Lock()
	l := &z.hours[h%hourSlots]
	if l.hour != h {
		if l.hour > h {
			z.mu.Unlock()
			return
		}
		l.hour, l.data = h, l.data[:0]
	}
	l.data = append(l.data, byte(m%60))
	l.data = binary.AppendUvarint(l.data, bits)
	for i, v := range c {
		if bits&(1<<i) != 0 {
			l.data = binary.AppendVarint(l.data, v)
		}
	}
	z.mu.Unlock()
}

// readRange calls add with the counters of every minute in [first, end]
// the zone recorded, in no order, each minute once: the open buckets
// first, then the hour logs, skipping the minutes read open (a minute
// read open and packed since is in both).
func (z *zone) readRange(first, end int64, add func(m int64, c *counts)) {
	var seen [Window]int64
	for i := range z.open {
		b := &z.open[i]
		b.mu.Lock()
		if b.minute >= first && b.minute <= end {
			seen[i] = b.minute
			add(b.minute, &b.c)
		}
		b.mu.Unlock()
	}
	var c counts
	z.mu.Lock()
	defer z.mu.Unlock()
	for h := first / 60; h <= end/60; h++ {
		l := &z.hours[h%hourSlots]
		if l.hour != h {
			continue
		}
		d := l.data
		for len(d) > 0 {
			m := h*60 + int64(d[0])
			bits, n := binary.Uvarint(d[1:])
			d = d[1+n:]
			for i := range c {
				c[i] = 0
				if bits&(1<<i) != 0 {
					c[i], n = binary.Varint(d)
					d = d[n:]
				}
			}
			if m >= first && m <= end && seen[m%Window] != m {
				add(m, &c)
			}
		}
	}
}

// read adds the bucket to p if it counts minute m, and reports whether it
// did.
func (b *bucket) read(m int64, p *Point) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.minute != m {
		return false
	}
	p.add(&b.c)
	return true
}

// add adds a minute's counters to p.
func (p *Point) add(c *counts) {
	p.Requests += c[cRequests]
	p.Bytes += c[cBytes]
	for i := range p.Status {
		p.Status[i] += c[cStatus+i]
	}
	p.CacheHits += c[cCacheHit]
	p.LatencySum += c[cLatSum]
	for i := range p.Latency {
		p.Latency[i] += c[cLatency+i]
	}
	p.RateLimited += c[cOutcome+int(RateLimited)]
	p.Challenged += c[cOutcome+int(Challenged)]
	p.WAFBlocked += c[cOutcome+int(WAFBlocked)]
	p.Legal += c[cOutcome+int(Legal)]
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
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
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
		out = append(out, Point{Minute: time.Unix(m*60, 0).UTC()})
	}
	for _, z := range zs {
		z.readRange(first, end, func(m int64, c *counts) { out[(m-first)/int64(step)].add(c) })
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
	var names []string
	s.eachZone(func(name string, _ *zone) { names = append(names, name) })
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
