package rollup

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
)

// Sink is where a Flusher writes; store.Store implements it.
type Sink interface {
	PutTraffic(ctx context.Context, rows []store.TrafficRow) error
	PruneTraffic(ctx context.Context, before int64) (int64, error)
	PutSecurityEvents(ctx context.Context, evs []store.SecurityEvent) error
	PruneSecurityEvents(ctx context.Context, before time.Time, keepPerZone int) (int64, error)
}

// The retention of the security events in the shared store: the nodes
// prune the events older than EventRetention and, of each zone, all but
// the newest EventsPerZone (every node prunes, as for the rollups).
const (
	EventRetention = 24 * time.Hour
	EventsPerZone  = 10000
)

// Flusher writes a node's minutes and sampled security events to a Sink,
// off the request path. Flush and FlushEvents are not safe to call
// concurrently (Run calls them in turn).
type Flusher struct {
	// Store is the node's rollups; Sink the shared store. Required.
	Store *Store
	Sink  Sink
	// Node names the node in the rows. Required.
	Node string
	// Every is the flush interval (default 10 s).
	Every time.Duration
	// Lookback is how many minutes before the current one each flush
	// looks at again: requests are counted in the minute they started,
	// so a long one adds to an older minute when it ends (default 15, at
	// most Window-1: the store keeps no older minute open).
	Lookback int
	// PruneEvery is how often the rows older than a day are deleted
	// (default 5 min; every node prunes, the deletes are idempotent).
	PruneEvery time.Duration
	// Logger receives flush errors; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// eventSeq is the number of the last security event written.
	eventSeq uint64
}

func (f *Flusher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// Run flushes every Every until ctx is done, then once more (with a short
// deadline of its own) so that a stopping node loses nothing.
func (f *Flusher) Run(ctx context.Context) {
	every := f.Every
	if every <= 0 {
		every = 10 * time.Second
	}
	pruneEvery := f.PruneEvery
	if pruneEvery <= 0 {
		pruneEvery = 5 * time.Minute
	}
	log := f.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var lastPrune time.Time
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if _, err := f.Flush(fctx); err != nil {
				log.Warn("flushing the traffic rollups at stop", "error", err)
			}
			if _, err := f.FlushEvents(fctx); err != nil {
				log.Warn("flushing the security events at stop", "error", err)
			}
			cancel()
			return
		case <-t.C:
		}
		fctx, cancel := context.WithTimeout(ctx, every)
		if _, err := f.Flush(fctx); err != nil && ctx.Err() == nil {
			log.Warn("flushing the traffic rollups (kept in memory, tried again)", "error", err)
		}
		if _, err := f.FlushEvents(fctx); err != nil && ctx.Err() == nil {
			log.Warn("flushing the security events (kept in the node's sample, tried again)", "error", err)
		}
		cancel()
		if now := f.now(); now.Sub(lastPrune) >= pruneEvery {
			// Pruning has a deadline of its own, at least a minute: a
			// day of rows deleted at once may take longer than a flush
			// interval, and a prune cut short every time never ends.
			pctx, cancel := context.WithTimeout(ctx, max(every, time.Minute))
			// A day and the ten minutes a ten-minute group may reach back.
			if _, err := f.Sink.PruneTraffic(pctx, now.Unix()/60-Minutes-10); err != nil && ctx.Err() == nil {
				log.Warn("pruning the traffic rollups", "error", err)
			} else if _, err := f.Sink.PruneSecurityEvents(pctx, now.Add(-EventRetention), EventsPerZone); err != nil && ctx.Err() == nil {
				log.Warn("pruning the security events", "error", err)
			} else {
				lastPrune = now
			}
			cancel()
		}
	}
}

// pending is a bucket written by a flush, marked flushed once the write
// succeeded.
type pending struct {
	b      *bucket
	minute int64
	sum    int64
}

// Flush writes the minutes of the last Lookback+1 minutes that changed
// since they were last written (every zone's, and the node's all-zones
// sum as zone ""), with the ten-minute sums they belong to, and returns
// how many rows it wrote. On error nothing
// is marked written, so the next flush writes them again.
func (f *Flusher) Flush(ctx context.Context) (int, error) {
	lookback := f.Lookback
	if lookback <= 0 {
		lookback = 15
	}
	lookback = min(lookback, Window-1)
	end := f.now().Unix() / 60
	s := f.Store
	type named struct {
		name string
		z    *zone
	}
	var zs []named
	s.eachZone(func(name string, z *zone) { zs = append(zs, named{name, z}) })
	zs = append(zs, named{"", &s.all})
	var rows []store.TrafficRow
	var marks []pending
	for _, nz := range zs {
		tens := int64(-1) // the last ten-minute group written for this zone
		for m := end - int64(lookback); m <= end; m++ {
			b := &nz.z.open[m%Window]
			var p Point
			if !b.read(m, &p) {
				continue
			}
			sum := p.sum()
			if sum == 0 || b.flushedMinute.Load() == m && b.flushedSum.Load() == sum {
				continue
			}
			rows = append(rows, p.row(f.Node, nz.name, m))
			marks = append(marks, pending{b, m, sum})
			if g := m - m%10; g != tens {
				// The minute's ten-minute group changed with it: written
				// again whole, from the open buckets and the hour logs.
				tens = g
				var t Point
				nz.z.readRange(g, g+9, func(_ int64, c *counts) { t.add(c) })
				r := t.row(f.Node, nz.name, g)
				r.Span = store.SpanTenMinutes
				rows = append(rows, r)
			}
		}
	}
	if len(rows) == 0 {
		return 0, nil
	}
	for start := 0; start < len(rows); start += store.MaxTrafficRows {
		if err := f.Sink.PutTraffic(ctx, rows[start:min(start+store.MaxTrafficRows, len(rows))]); err != nil {
			return 0, err
		}
	}
	for _, pm := range marks {
		// Every counter only grows within a minute, so a different sum
		// means a change since this read; a bucket reset for a new
		// minute in the meantime has another minute.
		pm.b.flushedMinute.Store(pm.minute)
		pm.b.flushedSum.Store(pm.sum)
	}
	return len(rows), nil
}

// FlushEvents writes the security events sampled since the last
// FlushEvents that the node's sample still holds (at most its size, so a
// flush is bounded and a store that stays down costs no memory: the
// oldest unwritten events are overwritten by new ones), oldest first,
// and returns how many it wrote. Events a write failed to store stay
// for the next flush; events the store refuses as invalid are dropped
// (they would be refused again).
func (f *Flusher) FlushEvents(ctx context.Context) (int, error) {
	evs, last := f.Store.EventsSince(f.eventSeq)
	first := last - uint64(len(evs)) // the number before evs[0]
	rows := make([]store.SecurityEvent, len(evs))
	for i := range evs {
		rows[i] = f.storeEvent(&evs[i])
	}
	written := 0
	var invalid error
	for start := 0; start < len(rows); start += store.MaxSecurityEvents {
		end := min(start+store.MaxSecurityEvents, len(rows))
		err := f.Sink.PutSecurityEvents(ctx, rows[start:end])
		if err != nil && !errors.Is(err, store.ErrInvalid) {
			return written, err
		}
		if err != nil {
			invalid = err
		} else {
			written += end - start
		}
		f.eventSeq = first + uint64(end)
	}
	f.eventSeq = last
	return written, invalid
}

// storeEvent is ev as the shared store keeps it, every field cut to the
// store's limits.
func (f *Flusher) storeEvent(ev *Event) store.SecurityEvent {
	e := store.SecurityEvent{Node: f.Node, Time: ev.Time, Zone: ev.Zone, Action: ev.Action, RuleID: ev.RuleID, ClientIP: ev.ClientIP,
		Country: ev.Country, ASN: ev.ASN, Method: ev.Method, Path: ev.Path, UserAgent: ev.UserAgent, Status: ev.Status, RequestID: ev.RequestID}
	if e.Time.IsZero() {
		e.Time = f.now()
	}
	if e.Action == "" {
		e.Action = "unknown"
	}
	if e.Status < 0 || e.Status > 999 {
		e.Status = 0
	}
	store.ClipSecurityEvent(&e)
	return e
}

// eventOf is a stored event as the dashboard shows it.
func eventOf(e *store.SecurityEvent) Event {
	return Event{Node: e.Node, Time: e.Time, Zone: e.Zone, Action: e.Action, RuleID: e.RuleID, ClientIP: e.ClientIP, Country: e.Country,
		ASN: e.ASN, Method: e.Method, Path: e.Path, UserAgent: e.UserAgent, Status: e.Status, RequestID: e.RequestID}
}

// sum adds every counter: it changes whenever a request is recorded.
func (p *Point) sum() int64 {
	n := p.Requests + p.Bytes + p.CacheHits + p.LatencySum + p.RateLimited + p.Challenged + p.WAFBlocked + p.Legal
	for _, c := range p.Status {
		n += c
	}
	for _, c := range p.Latency {
		n += c
	}
	return n
}

func (p *Point) row(node, zone string, minute int64) store.TrafficRow {
	return store.TrafficRow{Node: node, Zone: zone, Minute: minute, Requests: p.Requests, Bytes: p.Bytes, Status: p.Status,
		CacheHits: p.CacheHits, LatencySum: p.LatencySum, Latency: p.Latency, RateLimited: p.RateLimited, Challenged: p.Challenged,
		WAFBlocked: p.WAFBlocked, Legal: p.Legal}
}

func pointOf(r store.TrafficRow) Point {
	return Point{Minute: time.Unix(r.Minute*60, 0).UTC(), Requests: r.Requests, Bytes: r.Bytes, Status: r.Status, CacheHits: r.CacheHits,
		LatencySum: r.LatencySum, Latency: r.Latency, RateLimited: r.RateLimited, Challenged: r.Challenged, WAFBlocked: r.WAFBlocked, Legal: r.Legal}
}
