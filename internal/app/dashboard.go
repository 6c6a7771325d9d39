package app

import (
	"context"

	"github.com/rampart-edge/rampart/internal/dashboard"
	"github.com/rampart-edge/rampart/internal/geoip"
	"github.com/rampart-edge/rampart/internal/rollup"
)

// The dashboard's operator data (issue 15): the rollups shared through
// PostgreSQL, origin health, GeoIP on the security events.

// startTrafficFlusher writes the node's rollups and sampled security
// events to a PostgreSQL store every 10 s, so that every node's dashboard
// sums every node's traffic and shows every node's events
// (trafficSource). On SQLite (one node) the dashboard reads the memory and
// nothing is flushed. The returned channel is closed once the flusher
// made its last flush after ctx ended; nil when there is none.
func (a *App) startTrafficFlusher(ctx context.Context, d *desk) chan struct{} {
	if a.traffic == nil || d.store.Dialect() != "postgres" {
		return nil
	}
	done := make(chan struct{})
	f := &rollup.Flusher{Store: a.traffic, Sink: d.store, Node: a.cluster.nodeID, Logger: a.log.With("component", "rollup")}
	go func() {
		defer close(done)
		f.Run(ctx)
	}()
	return done
}

// trafficSource is where the dashboard reads the rollups: the sum over the
// nodes in a PostgreSQL store, else this node's memory (nil: the
// dashboard reads Options.Traffic).
func trafficSource(d *desk) rollup.Source {
	if d != nil && d.store.Dialect() == "postgres" {
		return rollup.DB{R: d.store}
	}
	return nil
}

// originHealth is the health of every zone's origins as this node's
// checks see them, for the dashboard.
func (a *App) originHealth() []dashboard.OriginHealth {
	gen := a.gen.Load()
	if gen == nil {
		return nil
	}
	var out []dashboard.OriginHealth
	for host, e := range gen.zones {
		for _, o := range e.proxy.Origins() {
			out = append(out, dashboard.OriginHealth{Zone: host, Origin: o.URL, Healthy: o.Healthy, LastCheck: o.LastCheck,
				LastError: o.LastError, Active: o.Active})
		}
	}
	return out
}

// setEventsGeo gives the dashboard's security events the country and ASN
// of their clients from the GeoIP databases in use (none: nil).
func (a *App) setEventsGeo(g *geoip.DB) {
	if a.traffic == nil {
		return
	}
	if g == nil {
		a.traffic.SetGeo(nil) // not a nil *geoip.DB in an interface
		return
	}
	a.traffic.SetGeo(g)
}
