package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-edge/rampart/internal/buildinfo"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/backend"
)

// Propagation of the desired state between nodes sharing one store
// (issue 14). Every write the nodes apply bumps the store's state version
// in its transaction (store.Store.StateVersion); on PostgreSQL the commit
// also notifies every node listening (backend.Watch: a dedicated
// connection, reconnected with backoff, and a full re-read after each
// reconnection). Each node also polls the version every cluster.poll, so
// a lost notification costs at most that long. A version the node has not
// applied yet makes it refresh the zone states (suspensions,
// reinstatements, decisions) and reconcile its zones (zones.go); tokens
// are checked against the store on every call, so a revocation needs
// nothing more. Then the node records the version it applied in its row
// of the node table (with its build version, list versions and health),
// which GET /v1/nodes and `rampart nodes` show.

// clusterState is the App's part of it.
type clusterState struct {
	nodeID  string
	version string // build version
	started time.Time
	poll    time.Duration

	wake    chan struct{} // a notification or a local change: sync now
	applied atomic.Int64  // the state version applied, -1 before the first
	seen    atomic.Int64  // the last state version read from the store

	mu        sync.Mutex
	problem   string // why the current state cannot be applied; "" when fine
	listenErr string // the notification connection's failure; "" when listening

	syncs, failures prometheus.Counter
	lag             prometheus.Histogram
}

// openCluster prepares the node's identity and metrics; the loop starts
// with startCluster.
func (a *App) openCluster(cfg *config.Config) error {
	id, err := nodeID(cfg)
	if err != nil {
		return err
	}
	c := &a.cluster
	c.nodeID, c.version, c.started = id, buildVersion(), store.Now()
	c.poll = cfg.Cluster.Poll
	if c.poll <= 0 {
		c.poll = config.DefaultClusterPoll
	}
	c.wake = make(chan struct{}, 1)
	c.applied.Store(-1)
	c.seen.Store(-1)
	reg := a.metrics.Registerer()
	c.syncs = prometheus.NewCounter(prometheus.CounterOpts{Name: "rampart_cluster_syncs_total",
		Help: "Desired-state versions applied by this node."})
	c.failures = prometheus.NewCounter(prometheus.CounterOpts{Name: "rampart_cluster_sync_failures_total",
		Help: "Attempts to read or apply the desired state that failed."})
	c.lag = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rampart_cluster_apply_seconds",
		Help: "Time from waking (notification, poll or local change) to the new state serving.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)})
	_ = reg.Register(c.syncs)
	_ = reg.Register(c.failures)
	_ = reg.Register(c.lag)
	_ = reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rampart_cluster_state_version_applied",
		Help: "The desired-state version this node applied."}, func() float64 { return float64(c.applied.Load()) }))
	_ = reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rampart_cluster_state_version_seen",
		Help: "The latest desired-state version this node read from the store."}, func() float64 { return float64(c.seen.Load()) }))
	_ = reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rampart_cluster_degraded",
		Help: "1 while this node cannot apply the current desired state or listen for changes."}, func() float64 {
		if a.clusterProblem() != "" {
			return 1
		}
		return 0
	}))
	return nil
}

// nodeID is cluster.node_id, or the id kept in data_dir/node-id (created
// once), so that a restarted node keeps its row.
func nodeID(cfg *config.Config) (string, error) {
	if cfg.Cluster.NodeID != "" {
		return cfg.Cluster.NodeID, nil
	}
	if cfg.DataDir == "" {
		h, _ := os.Hostname()
		return "node-" + h, nil
	}
	path := filepath.Join(cfg.DataDir, "node-id")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	var r [6]byte
	_, _ = rand.Read(r[:])
	h, _ := os.Hostname()
	if h == "" {
		h = "node"
	}
	id := h + "-" + hex.EncodeToString(r[:])
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return "", fmt.Errorf("keeping the node id: %w", err)
	}
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keeping the node id: %w", err)
	}
	return id, nil
}

// buildVersion is the module version and short commit (package
// buildinfo, as rampart version prints them).
func buildVersion() string {
	bi := buildinfo.Get()
	if c := bi.ShortCommit(); c != "" && c != "unknown" {
		return bi.Version + "+" + c
	}
	return bi.Version
}

// wakeCluster asks the sync loop to read the store now.
func (a *App) wakeCluster() {
	select {
	case a.cluster.wake <- struct{}{}:
	default: // a sync is pending already
	}
}

// clusterProblem is why the node cannot apply the current state or hear
// about changes, "" when it can.
func (a *App) clusterProblem() string {
	c := &a.cluster
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.problem != "" && c.listenErr != "":
		return c.problem + "; " + c.listenErr
	case c.problem != "":
		return c.problem
	}
	return c.listenErr
}

func (a *App) setProblem(listen bool, err error) {
	c := &a.cluster
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	c.mu.Lock()
	p := &c.problem
	if listen {
		p = &c.listenErr
	}
	changed := *p != msg
	*p = msg
	c.mu.Unlock()
	switch {
	case changed && err != nil:
		a.log.Error("cluster: node degraded", "node", c.nodeID, "error", msg)
	case changed:
		a.log.Info("cluster: node healthy again", "node", c.nodeID, "listening", listen)
	}
}

// runCluster is the sync loop: it runs until ctx is done and closes done.
func (a *App) runCluster(ctx context.Context, d *desk, storeURL string, done chan struct{}) {
	defer close(done)
	c := &a.cluster
	backend.Watch(ctx, storeURL, backend.WatchOptions{
		Notify: a.wakeCluster,
		Connected: func(err error) {
			if err != nil {
				err = fmt.Errorf("not hearing about changes (polling every %s): %w", c.poll, err)
			}
			a.setProblem(true, err)
		},
	})
	t := time.NewTicker(c.poll)
	defer t.Stop()
	var lastBeat time.Time
	for {
		woke := time.Now()
		local := false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.wake:
			if a.certs != nil {
				a.certs.SyncTicketKeys() // a notification may be a new ticket key
			}
		case <-d.dirty:
			local = true
		}
		a.syncState(ctx, d, local, woke)
		if time.Since(lastBeat) >= c.poll {
			a.heartbeat(ctx, d)
			lastBeat = time.Now()
		}
	}
}

// syncState reads the state version and applies the desired state when
// it moved (or local asks for it), recording the outcome.
func (a *App) syncState(ctx context.Context, d *desk, local bool, woke time.Time) {
	c := &a.cluster
	v, err := d.store.StateVersion(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.failures.Inc()
			a.setProblem(false, fmt.Errorf("cannot read the desired state (serving the last one applied, version %d): %w", c.applied.Load(), err))
		}
		return
	}
	c.seen.Store(v)
	if v == c.applied.Load() && !local {
		a.setProblem(false, nil)
		return
	}
	if err := a.applyState(ctx, d); err != nil {
		if ctx.Err() == nil {
			c.failures.Inc()
			a.setProblem(false, fmt.Errorf("cannot apply desired state version %d (serving version %d): %w", v, c.applied.Load(), err))
		}
		return
	}
	if v != c.applied.Load() {
		c.syncs.Inc()
	}
	c.applied.Store(v)
	c.lag.Observe(time.Since(woke).Seconds())
	a.setProblem(false, nil)
}

// applyState brings the node to the store's desired state: the zone
// states (decisions), the running zones and the list versions
// (clusterlists.go; a list that cannot be loaded keeps the previous one
// and makes the node degraded, the zones are applied regardless).
func (a *App) applyState(ctx context.Context, d *desk) error {
	if err := d.svc.Refresh(ctx); err != nil {
		return err
	}
	if err := a.rebuildZones(); err != nil {
		return err
	}
	if a.lists != nil {
		return a.syncLists(ctx, d.store, a.lists)
	}
	return nil
}

// heartbeat writes the node's row of the node table.
func (a *App) heartbeat(ctx context.Context, d *desk) {
	c := &a.cluster
	lists := map[string]string{}
	if a.lists != nil {
		for src, v := range a.lists.Snapshot().Versions {
			lists[src] = v.Hash
		}
	}
	if a.feeds != nil && a.feedLease.Load() {
		// Renew the list feeds' lease while this node holds it.
		ok, err := d.store.TakeLease(ctx, FeedLease, c.nodeID, feedLeaseTTL(c.poll))
		a.feedLease.Store(ok && err == nil)
	}
	problem := a.clusterProblem()
	addr := a.addrs.Admin
	if cfg := a.Config(); cfg.PublicURL != "" && addr == "" {
		addr = cfg.PublicURL
	}
	n := store.Node{ID: c.nodeID, Address: addr, Version: c.version, StateVersion: c.applied.Load(), Lists: lists,
		Healthy: problem == "", Problem: problem, Started: c.started, LastSeen: store.Now()}
	if err := d.store.PutNode(ctx, n); err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
		a.log.Warn("cluster: recording the node's heartbeat", "node", c.nodeID, "error", err)
	}
}

// clusterHealth is /healthz's part: degraded while the node cannot apply
// the current state or listen for changes.
func (a *App) clusterHealth() error {
	if a.desk.Load() == nil {
		return nil
	}
	if p := a.clusterProblem(); p != "" {
		return errors.New("degraded: " + p)
	}
	return nil
}

// feedLeaseTTL is how long the list feeds' lease lasts without renewal:
// a few heartbeats, at least a minute.
func feedLeaseTTL(poll time.Duration) time.Duration {
	return max(3*poll, time.Minute)
}
