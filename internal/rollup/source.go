package rollup

import (
	"context"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
)

// Source is what the dashboard reads: this node's memory (Local) or the
// sum over the nodes in the shared store (DB).
type Source interface {
	// Series is the last n minutes (n ≤ Minutes) up to now, for zone or
	// every zone (""), oldest first, in points of step minutes.
	Series(ctx context.Context, zone string, now time.Time, n, step int) ([]Point, error)
	// Totals is each zone's sum over the last n minutes, busiest first,
	// at most limit zones.
	Totals(ctx context.Context, now time.Time, n, limit int) ([]ZoneTotal, error)
	// Events returns the sampled security events that pass f, newest
	// first.
	Events(ctx context.Context, f EventFilter) ([]Event, error)
	// Shared reports whether the figures are every node's.
	Shared() bool
}

// Local reads a node's own rollups.
type Local struct{ S *Store }

// Series implements Source.
func (l Local) Series(_ context.Context, zone string, now time.Time, n, step int) ([]Point, error) {
	return l.S.Series(zone, now, n, step), nil
}

// Totals implements Source.
func (l Local) Totals(_ context.Context, now time.Time, n, limit int) ([]ZoneTotal, error) {
	ts := l.S.Totals(now, n)
	if limit > 0 && len(ts) > limit {
		ts = ts[:limit]
	}
	return ts, nil
}

// Events implements Source: the node's sample.
func (l Local) Events(_ context.Context, f EventFilter) ([]Event, error) {
	return l.S.Events(f), nil
}

// Shared implements Source: false.
func (Local) Shared() bool { return false }

// Reader is the part of store.Store that DB reads.
type Reader interface {
	TrafficSeries(ctx context.Context, zone string, span int, from, to int64, step int) ([]store.TrafficRow, error)
	TrafficTotals(ctx context.Context, span int, from, to int64, limit int) ([]store.TrafficRow, error)
	SecurityEvents(ctx context.Context, f store.SecurityEventFilter) ([]store.SecurityEvent, error)
}

// DB reads the rollups every node flushed to the shared store (Flusher),
// summed over the nodes, and every node's security events. The newest
// figures and events are up to one flush interval old.
type DB struct{ R Reader }

// Series implements Source; minutes without rows are zero points. A step
// that is a multiple of ten minutes reads the ten-minute rows, with the
// points aligned on them (the first may start up to 9 minutes before the
// n minutes).
func (d DB) Series(ctx context.Context, zone string, now time.Time, n, step int) ([]Point, error) {
	n = min(n, Minutes)
	step = max(step, 1)
	end := now.Unix() / 60
	first := end - int64(n) + 1
	span := store.SpanMinute
	if step%10 == 0 {
		span, first = store.SpanTenMinutes, first-first%10
	}
	rows, err := d.R.TrafficSeries(ctx, zone, span, first, end, step)
	if err != nil {
		return nil, err
	}
	out := make([]Point, 0, (n+step-1)/step)
	i := 0
	for m := first; m <= end; m += int64(step) {
		if i < len(rows) && rows[i].Minute == m {
			out = append(out, pointOf(rows[i]))
			i++
			continue
		}
		out = append(out, Point{Minute: time.Unix(m*60, 0).UTC()})
	}
	return out, nil
}

// Totals implements Source. It reads the ten-minute rows: the window
// starts at the ten-minute boundary at or before n minutes ago (so it is
// up to 9 minutes longer).
func (d DB) Totals(ctx context.Context, now time.Time, n, limit int) ([]ZoneTotal, error) {
	end := now.Unix() / 60
	first := end - int64(min(n, Minutes)) + 1
	rows, err := d.R.TrafficTotals(ctx, store.SpanTenMinutes, first-first%10, end, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ZoneTotal, len(rows))
	for i, r := range rows {
		out[i] = ZoneTotal{Zone: r.Zone, Point: pointOf(r)}
	}
	return out, nil
}

// Events implements Source: every node's events in the shared store,
// each with its node.
func (d DB) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := d.R.SecurityEvents(ctx, store.SecurityEventFilter{Zone: f.Zone, Action: f.Action, ClientIP: f.ClientIP, Country: f.Country,
		ASN: f.ASN, RuleID: f.RuleID, Path: f.Path, Limit: min(f.Limit, store.MaxSecurityEvents)})
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(rows))
	for i := range rows {
		out[i] = eventOf(&rows[i])
	}
	return out, nil
}

// Shared implements Source: true.
func (DB) Shared() bool { return true }
