package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/feeds"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/store"
)

// ListPolicy is the verification policy of cfg: the default floors, each
// feed's min_entities for its source, and compliance.max_removed_share.
func ListPolicy(cfg *config.Config) lists.Policy {
	p := lists.Policy{Floors: map[string]int{}, MaxRemovedShare: cfg.Compliance.MaxRemovedShare}
	for k, v := range lists.DefaultFloors {
		p.Floors[k] = v
	}
	for _, f := range cfg.Compliance.Feeds {
		if src := feeds.ListSource(f.Source); src != "" {
			p.Floors[src] = f.MinEntities
		}
	}
	return p
}

// AuditRefusal appends the audit entry of a refused list update.
func AuditRefusal(ctx context.Context, st store.Store, r lists.Refusal) error {
	actor := r.Actor
	if actor == "" {
		actor = audit.ActorSystem
	}
	return st.Tx(ctx, func(tx store.Tx) error {
		_, err := tx.Append(ctx, audit.Event{Actor: actor, Action: ActionListRefused, Subject: "list:" + r.Source,
			Data: audit.MustData(map[string]any{"feed": r.Feed, "file": r.File, "kind": r.Kind, "reason": r.Reason, "origin": r.Origin})})
		return err
	})
}

// ActionListRefused is the audit action of a refused list update.
const ActionListRefused = "list.refused"

// lockLists takes the data directory's list lock for this server, so
// that a command-line import hands its files over instead of activating a
// second version beside it.
func (a *App) lockLists(cfg *config.Config) error {
	if cfg.DataDir == "" {
		return nil
	}
	// A command (lists import, status, fetch) holds the lock for seconds:
	// wait for it, up to a minute. Another server holds it for good.
	deadline := time.Now().Add(time.Minute)
	l, held, err := lists.TryLock(cfg.DataDir, lists.Owner{PID: os.Getpid(), Admin: a.addrs.Admin})
	for err == lists.ErrLocked && held.Admin == "" && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		l, held, err = lists.TryLock(cfg.DataDir, lists.Owner{PID: os.Getpid(), Admin: a.addrs.Admin})
	}
	if err == lists.ErrLocked {
		return fmt.Errorf("the list store in %s is in use by another rampart process (pid %d); stop it first", cfg.DataDir, held.PID)
	}
	if err != nil {
		return err
	}
	a.listLock = l
	return nil
}

// startListFeeds wires refusals (one log line, an audit entry, a metric),
// the list metrics, and starts the feed scheduler of compliance.feeds.
func (a *App) startListFeeds(cfg *config.Config, st store.Store) error {
	ls := a.lists
	ls.SetPolicy(ListPolicy(cfg))
	reg := a.metrics.Registerer()
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rampart_list_refused_total",
		Help: "List updates refused by verification (incomplete, implausible, unparseable, too_large); the last good version stayed active."},
		[]string{"source", "reason"})
	_ = reg.Register(refused)
	_ = reg.Register(publishedCollector{ls})
	ls.OnRefused(func(r lists.Refusal) {
		a.log.Warn("list update refused; the last good version stays active", "feed", r.Feed, "source", r.Source, "file", r.File, "kind", r.Kind, "reason", r.Reason, "origin", r.Origin)
		refused.WithLabelValues(r.Source, r.Kind).Inc()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := AuditRefusal(ctx, st, r); err != nil {
			a.log.Error("auditing a refused list update", "source", r.Source, "error", err)
		}
	})
	if len(cfg.Compliance.Feeds) == 0 {
		return nil
	}
	s, err := feeds.New(feeds.Options{Store: ls, Feeds: cfg.Compliance.Feeds, DataDir: cfg.DataDir, Logger: a.log.With("component", "feeds"),
		Registerer: reg, Version: a.version, Backoff: a.feedBackoff, Lease: a.feedLeaseFunc(cfg, st)})
	if err != nil {
		return err
	}
	a.feeds = s
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	a.stopFeeds = func() { cancel(); <-done }
	return nil
}

// Feeds returns the feed scheduler, nil when no feed is configured.
func (a *App) Feeds() *feeds.Scheduler { return a.feeds }

// publishedCollector exports rampart_list_published_timestamp_seconds
// per active list.
type publishedCollector struct{ ls *lists.Store }

var publishedDesc = prometheus.NewDesc("rampart_list_published_timestamp_seconds",
	"When the active version of a list was published (from the files, else the server's Last-Modified); absent when unknown.",
	[]string{"source"}, nil)

func (publishedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- publishedDesc }

func (c publishedCollector) Collect(ch chan<- prometheus.Metric) {
	for src, v := range c.ls.Snapshot().Versions {
		if !v.Published.IsZero() {
			ch <- prometheus.MustNewConstMetric(publishedDesc, prometheus.GaugeValue, float64(v.Published.Unix()), src)
		}
	}
}

// feedLeaseFunc makes only one node sharing a PostgreSQL store check the
// feeds at a time: the holder of the store's FeedLease (renewed by each
// check and by the node's heartbeat, taken over by another node once it
// expires). Its activations reach the other nodes through the store. A
// single node (SQLite) needs no lease.
func (a *App) feedLeaseFunc(cfg *config.Config, st store.Store) func(context.Context) bool {
	if st.Dialect() != "postgres" {
		return nil
	}
	return func(ctx context.Context) bool {
		poll := cfg.Cluster.Poll
		if poll <= 0 {
			poll = config.DefaultClusterPoll
		}
		ok, err := st.TakeLease(ctx, FeedLease, a.cluster.nodeID, feedLeaseTTL(poll))
		if err != nil {
			a.log.Warn("list feeds: taking the lease", "error", err)
		}
		a.feedLease.Store(ok && err == nil)
		return ok && err == nil
	}
}
