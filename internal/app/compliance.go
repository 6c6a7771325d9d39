package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-edge/rampart/internal/admin"
	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/dashboard"
	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/backend"
	"github.com/rampart-edge/rampart/internal/token"
)

// desk is the compliance desk of a running app.
type desk struct {
	store    store.Store
	svc      *compliance.Service
	reporter *compliance.Reporter
	stop     context.CancelFunc
	done     chan struct{}
	// dirty asks the rebuild loop to reload the zones from the store.
	dirty chan struct{}
	// flushed is closed after the rollup flusher's last flush (nil
	// without one; dashboard.go).
	flushed chan struct{}

	parsedMu sync.Mutex
	parsed   map[string]parsedZone // API zone settings by zone id
}

// parsedZone caches the validated config of an API zone.
type parsedZone struct {
	updated time.Time
	zone    config.Zone
}

// openCompliance loads the sanctions lists (compliance.lists, or the
// bundled set when empty; versions persisted in data_dir win), builds the
// screening service on them, opens the control-plane store
// (backend.Open: SQLite in data_dir, or PostgreSQL when store: is set),
// starts the compliance desk (gate, re-screening on every list import,
// reports, cases), catches up a re-screening lost to a crash
// (compliance.Service.CatchUp), passes the config's zones through the gate and adds
// the store's API zones to the routing table.
func (a *App) openCompliance(cfg *config.Config) error {
	if err := a.lockLists(cfg); err != nil { // listfeeds.go
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := backend.Open(ctx, cfg.DataDir, cfg.Store)
	if err != nil {
		return fmt.Errorf("opening the control-plane store: %w", err)
	}
	st.SetTimeout(cfg.Timeouts.Store) // every store call without a deadline gets this one
	if st.Dialect() == "postgres" && a.certs != nil {
		// Session ticket keys shared by the nodes (certs/tickets.go, issue
		// 17); until the store answers, this process's own keys.
		if err := a.certs.ShareTicketKeys(ctx, st); err != nil {
			a.log.Warn("session ticket keys stay local to this node for now", "error", err)
		}
	}
	// The store's list versions are the ones every node screens with
	// (clusterlists.go): with any there, the node loads them instead of
	// its bundled or configured copies; on an empty store it publishes
	// its own.
	var ls *lists.Store
	if vs, err := st.ActiveListVersions(ctx); err == nil && len(vs) > 0 {
		ls, err = lists.OpenPersisted(cfg.DataDir)
		if err != nil {
			st.Close()
			return fmt.Errorf("loading sanctions lists: %w", err)
		}
	} else if ls, err = lists.Open(cfg.DataDir, cfg.Compliance.Lists); err != nil {
		st.Close()
		return fmt.Errorf("loading sanctions lists: %w", err)
	}
	lctx, lcancel := context.WithTimeout(context.Background(), 5*time.Minute)
	err = a.initSharedLists(lctx, st, ls)
	lcancel()
	if err != nil && len(ls.Snapshot().Versions) == 0 {
		st.Close()
		return fmt.Errorf("loading the sanctions lists of the shared store: %w", err)
	}
	if err != nil {
		// The node starts with the versions it has; the sync reports it
		// degraded until it can load the store's (clusterlists.go).
		a.log.Error("loading the sanctions lists of the shared store; serving with this node's own until it can", "error", err)
	}
	publishLists(ls, st, 5*time.Minute)
	a.lists = ls
	// The index of each list version is a file in data_dir/screening,
	// memory-mapped: the Go heap holds none of it (issue 16).
	scrDir := ""
	if cfg.DataDir != "" {
		scrDir = filepath.Join(cfg.DataDir, "screening")
	}
	a.screening = screening.NewServiceWith(ls, screening.ServiceOptions{Threshold: cfg.Compliance.Threshold, Dir: scrDir, Logger: a.log})
	n := 0
	for _, v := range ls.Snapshot().Versions {
		n += v.Entities
	}
	// Parsing the lists and building the index leave a lot of garbage;
	// return it to the OS now rather than at the next GC cycles.
	debug.FreeOSMemory()
	a.log.Info("sanctions lists loaded", "sources", len(ls.Snapshot().Versions), "entities", n)

	svc, err := compliance.New(ctx, compliance.Options{
		Store: st, Screening: a.screening, Embargoed: cfg.Compliance.EmbargoedRegions, OnHit: cfg.Compliance.OnHit,
		Logger: a.log, OnZonesChanged: a.zonesChanged, OnStopped: a.cutStopped, // cutoff.go
	})
	if err != nil {
		st.Close()
		return err
	}
	bg, stop := context.WithCancel(context.Background())
	d := &desk{store: st, svc: svc, reporter: compliance.NewReporter(svc, cfg.Compliance.Reports),
		stop: stop, done: make(chan struct{}), dirty: make(chan struct{}, 1), parsed: map[string]parsedZone{}}
	a.desk.Store(d)
	svc.Subscribe(ls)
	// A re-screening lost to a crash (list version persisted, results
	// rolled back) is run now, before the zones are served; on error the
	// next start tries again.
	listsDir := ""
	if cfg.DataDir != "" {
		listsDir = filepath.Join(cfg.DataDir, "lists") // where lists.Open keeps the versions
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Minute)
	if rep, err := svc.CatchUp(cctx, ls, listsDir); err != nil {
		a.log.Error("catching up a lost re-screening", "error", err)
	} else if rep.Rescreen != nil {
		a.log.Warn("caught up a re-screening lost at the last stop", "sources", len(rep.Sources),
			"account_hits", len(rep.Rescreen.AccountHits), "zone_hits", len(rep.Rescreen.ZoneHits))
	}
	ccancel()
	a.registerComplianceMetrics(svc)
	if err := a.openCluster(cfg); err != nil { // cluster.go
		close(d.done)
		return err
	}
	if err := a.startListFeeds(cfg, st); err != nil { // listfeeds.go
		return err
	}
	a.syncConfigZones(cfg)
	// Converge to the store's desired state before serving the first
	// request (a node restarted after kill -9 included), then follow it:
	// notifications, polling of the state version, local changes.
	sctx, scancel := context.WithTimeout(bg, 30*time.Second)
	a.syncState(sctx, d, true, time.Now())
	a.heartbeat(sctx, d)
	scancel()
	go a.runCluster(bg, d, cfg.Store, d.done)
	d.flushed = a.startTrafficFlusher(bg, d) // dashboard.go
	return nil
}

// registerComplianceMetrics exports the re-screening figures:
// rampart_rescreen_runs_total, rampart_rescreen_subjects_total{kind},
// rampart_rescreen_hits_total{kind} and
// rampart_rescreen_last_duration_seconds.
func (a *App) registerComplianceMetrics(svc *compliance.Service) {
	reg := a.metrics.Registerer()
	counter := func(name, help string, labels prometheus.Labels, f func(compliance.Stats) int64) {
		_ = reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels},
			func() float64 { return float64(f(svc.Stats())) }))
	}
	counter("rampart_rescreen_runs_total", "List imports that re-screened accounts and zones.", nil,
		func(s compliance.Stats) int64 { return s.Rescreens })
	counter("rampart_rescreen_subjects_total", "Accounts and zones run through a re-screening.", prometheus.Labels{"kind": "account"},
		func(s compliance.Stats) int64 { return s.AccountsScreened })
	counter("rampart_rescreen_subjects_total", "Accounts and zones run through a re-screening.", prometheus.Labels{"kind": "zone"},
		func(s compliance.Stats) int64 { return s.ZonesScreened })
	counter("rampart_rescreen_hits_total", "Accounts and zones hit by a re-screening.", prometheus.Labels{"kind": "account"},
		func(s compliance.Stats) int64 { return s.AccountHits })
	counter("rampart_rescreen_hits_total", "Accounts and zones hit by a re-screening.", prometheus.Labels{"kind": "zone"},
		func(s compliance.Stats) int64 { return s.ZoneHits })
	_ = reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rampart_rescreen_last_duration_seconds",
		Help: "Duration of the last re-screening."}, func() float64 { return svc.Stats().LastDuration.Seconds() }))
}

// zonesChanged schedules a rebuild of the routing table from the store
// (a zone was created, changed or deleted); the answer to the API call
// does not wait for it.
func (a *App) zonesChanged() {
	if d := a.desk.Load(); d != nil {
		select {
		case d.dirty <- struct{}{}:
		default: // a rebuild is pending already
		}
	}
}

// closeCompliance stops the refresh loop and closes the store.
func (a *App) closeCompliance() {
	d := a.desk.Swap(nil)
	if d == nil {
		return
	}
	d.stop()
	<-d.done
	if d.flushed != nil {
		<-d.flushed
	}
	if err := d.store.Close(); err != nil {
		a.log.Error("closing the control-plane store", "error", err)
	}
}

// Compliance returns the compliance desk, nil when it is off.
func (a *App) Compliance() *compliance.Service {
	if d := a.desk.Load(); d != nil {
		return d.svc
	}
	return nil
}

// syncConfigZones passes the config's zones through the compliance gate
// (logging the ones not served); errors are logged, the zones keep their
// last known status.
func (a *App) syncConfigZones(cfg *config.Config) {
	d := a.desk.Load()
	if d == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := d.svc.SyncConfigZones(ctx, cfg.Zones); err != nil {
		a.log.Error("screening the config's zones", "error", err)
	}
}

// servedZones is the config's zones plus the zones created through the
// API (from the store; a config zone wins a host both name). The
// compliance phase decides per request whether a zone serves.
func (a *App) servedZones(cfg *config.Config) []config.Zone {
	d := a.desk.Load()
	if d == nil {
		return cfg.Zones
	}
	taken := map[string]bool{}
	for _, z := range cfg.Zones {
		taken[z.Host] = true
		for _, al := range z.Aliases {
			taken[al] = true
		}
	}
	out := append([]config.Zone(nil), cfg.Zones...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	zs, err := d.store.ListZones(ctx, store.ZoneFilter{Source: store.SourceAPI, Limit: 1 << 30})
	if err != nil {
		a.log.Error("loading the API zones", "error", err)
		return out
	}
	d.parsedMu.Lock()
	if len(d.parsed) > len(zs) { // forget deleted zones
		live := make(map[string]bool, len(zs))
		for _, z := range zs {
			live[z.ID] = true
		}
		for id := range d.parsed {
			if !live[id] {
				delete(d.parsed, id)
			}
		}
	}
	d.parsedMu.Unlock()
	for _, z := range zs {
		if taken[z.Host] {
			continue
		}
		zc, err := d.parseZone(z)
		if err != nil {
			a.log.Error("API zone skipped: its stored settings do not validate", "zone", z.Host, "id", z.ID, "error", err)
			continue
		}
		clash := false
		for _, al := range zc.Aliases {
			clash = clash || taken[al]
		}
		if clash {
			a.log.Warn("API zone skipped: an alias is taken by another zone", "zone", z.Host)
			continue
		}
		taken[zc.Host] = true
		for _, al := range zc.Aliases {
			taken[al] = true
		}
		out = append(out, zc)
	}
	return out
}

// parseZone validates an API zone's stored settings, cached by id and
// update time.
func (d *desk) parseZone(z store.Zone) (config.Zone, error) {
	d.parsedMu.Lock()
	p, ok := d.parsed[z.ID]
	d.parsedMu.Unlock()
	if ok && p.updated.Equal(z.Updated) {
		return p.zone, nil
	}
	zc, err := compliance.ParseZone(json.RawMessage(z.Settings))
	if err != nil {
		return zc, err
	}
	d.parsedMu.Lock()
	d.parsed[z.ID] = parsedZone{updated: z.Updated, zone: zc}
	d.parsedMu.Unlock()
	return zc, nil
}

// rebuildZones brings the running zones to the desired set after a store
// change (a zone created, changed or deleted through the API here or on
// another node), reusing the parts of unchanged zones; zones.go.
func (a *App) rebuildZones() error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	if a.stopped.Load() {
		return nil
	}
	prev := a.gen.Load()
	if prev == nil {
		return nil
	}
	if err := a.reconcile(prev.cfg, "store", nil); err != nil {
		a.log.Error("rebuilding zones after a store change", "error", err)
		return err
	}
	return nil
}

// setCompliancePhase puts the compliance phase (the public report form,
// 451 for suspended and rejected zones, 503 for zones in review) in the
// PhaseAccess slot, in front of whatever access phase is there already.
func (a *App) setCompliancePhase(z *edge.Zone, zc config.Zone, cfg *config.Config) {
	next := z.Phases[edge.PhaseAccess]
	host := zc.Host
	blocked := compliance.BlockedBy{Base: a.blockedByURL(cfg)} // public_url; a reload applies it
	z.Phases[edge.PhaseAccess] = edge.PhaseFunc(func(w http.ResponseWriter, r *http.Request) edge.Decision {
		d := a.desk.Load()
		if d == nil {
			if next != nil {
				return next.Serve(w, r)
			}
			return edge.Continue
		}
		return d.reporter.Phase(host, blocked, next).Serve(w, r)
	})
}

// adminHandler builds the admin API (internal/admin) on the app's token
// store, lists, screening service, compliance desk, metrics and health.
// Without an explicit token store, tokens live in the control-plane store
// (rampart token create writes there too), or in data_dir/tokens.json when
// the desk is off.
func (a *App) adminHandler(cfg *config.Config, tokens token.Store) (http.Handler, error) {
	d := a.desk.Load()
	if tokens == nil && d != nil {
		tokens = &store.TokenStore{S: d.store, Actor: "system", Timeout: cfg.Timeouts.Store}
	}
	if tokens == nil {
		f, err := token.OpenFile(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		tokens = f
	}
	o := admin.Options{Tokens: tokens, Metrics: a.metrics.Handler(), Health: a.Health, Logger: a.log}
	// Leave absent pieces as untyped nils: their routes answer 503.
	if a.lists != nil {
		o.Lists = a.lists
	}
	if a.screening != nil {
		o.Screening = a.screening
	}
	if a.feeds != nil {
		o.Feeds = a.feeds
	}
	if d != nil {
		o.Compliance, o.Reporter, o.Store = d.svc, d.reporter, d.store
	}
	o.Purger = cachePurger{a} // cache.go
	// The web dashboard (H15) on the same dependencies.
	do := dashboard.Options{Tokens: tokens, Logger: a.log, Lists: o.Lists, Screening: o.Screening, Traffic: a.traffic, Purger: cachePurger{a}}
	if d != nil {
		do.Compliance, do.Store = d.svc, d.store
	}
	do.TrafficSource, do.Origins = trafficSource(d), a.originHealth // dashboard.go
	if a.feeds != nil {
		do.Feeds = a.feeds
	}
	dash, err := dashboard.New(do)
	if err != nil {
		return nil, err
	}
	o.Dashboard = dash
	srv, err := admin.New(o)
	if err != nil {
		return nil, err
	}
	return srv.Handler(), nil
}
