// Package compliance is rampart's compliance desk on top of the
// control-plane store (internal/store) and the screening engine
// (internal/screening): the onboarding gate for accounts and zones, the
// continuous re-screening when a list version is imported, public reports,
// cases and decisions, and the table of zone statuses the edge enforces
// (451 Unavailable For Legal Reasons for suspended and rejected zones).
// Accounts take compliance decisions too (DecideAccount: clear, block,
// review), and their zones follow them, as they follow an account hit by
// a re-screening. CatchUp, run at start, re-screens what a crash in the
// middle of a re-screening left unscreened.
//
// Every write goes through the store's composite transactions, which
// append their audit entries in the same transaction, so a crash leaves a
// change whole or absent.
package compliance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store"
)

// Options configure a Service.
type Options struct {
	// Store is the control-plane store. Required.
	Store store.Store
	// Screening screens names and identifiers. Required.
	Screening *screening.Service
	// Embargoed lists ISO country codes whose accounts are blocked
	// (compliance.embargoed_regions).
	Embargoed []string
	// OnHit is config.OnHitReview (default) or config.OnHitSuspend: what
	// a re-screening hit on a zone does.
	OnHit string
	// Logger receives progress lines and errors; nil discards them.
	Logger *slog.Logger
	// OnZonesChanged is called (without locks held) after the zone table
	// changed: a zone created, updated, deleted, suspended or reinstated.
	// The app reloads its routing table from it.
	OnZonesChanged func()
	// OnStopped is called (without locks held) after a change of the
	// zone states stopped serving a host that was served: a suspension,
	// rejection or review, taken on this node or read from the shared
	// store by Refresh. The app ends the open tunnels and streams of the
	// zones that Serves no longer admits.
	OnStopped func()
}

// Service is the compliance desk. It is safe for concurrent use.
type Service struct {
	opts  Options
	s     store.Store
	scr   *screening.Service
	log   *slog.Logger
	embar map[string]bool

	states atomic.Pointer[map[string]ZoneState] // by host and alias
	covers coverCache                           // suspended zones by the names they cover (cover.go)

	updateMu   sync.Mutex    // serialises zoneChanged's copy-on-write
	changes    atomic.Uint64 // zoneChanged stores, so that Refresh never stores older states
	rescreenMu sync.Mutex
	stats      Stats
	statsMu    sync.Mutex
}

// Stats are the re-screening figures exported as metrics.
type Stats struct {
	Rescreens        int64 // list imports re-screened
	AccountsScreened int64 // accounts run through a re-screen
	ZonesScreened    int64
	AccountHits      int64
	ZoneHits         int64
	LastDuration     time.Duration
}

// ZoneState is what the edge needs to know about one zone's compliance
// status.
type ZoneState struct {
	ZoneID   string
	Host     string
	Status   string // store.Zone* status
	CaseID   string // the case that suspended the zone, if any
	Category string // the case's category (sanctions, abuse, other), if any
	Reason   string // short explanation for the page
	// Decision is the compliance decision that set Status (suspend,
	// reinstate, dismiss), "" if none did; Since is when Status was set
	// (the decision's time, else the zone's last update). See cover.go.
	Decision string
	Since    time.Time
}

// New builds the service and loads the zone states from the store.
func New(ctx context.Context, opts Options) (*Service, error) {
	if opts.Store == nil || opts.Screening == nil {
		return nil, errors.New("creating compliance service: a store and a screening service are required")
	}
	if opts.OnHit == "" {
		opts.OnHit = config.OnHitReview
	}
	if opts.OnHit != config.OnHitReview && opts.OnHit != config.OnHitSuspend {
		return nil, fmt.Errorf("creating compliance service: on_hit %q is not review or suspend", opts.OnHit)
	}
	c := &Service{opts: opts, s: opts.Store, scr: opts.Screening, log: opts.Logger, embar: map[string]bool{}}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("component", "compliance")
	for _, r := range opts.Embargoed {
		c.embar[strings.ToUpper(r)] = true
	}
	empty := map[string]ZoneState{}
	c.states.Store(&empty)
	if err := c.Refresh(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Store returns the service's store.
func (c *Service) Store() store.Store { return c.s }

// Stats returns the re-screening figures so far.
func (c *Service) Stats() Stats {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	return c.stats
}

// Subscribe makes every effective list import re-screen the accounts and
// zones against the changed entities (see Rescreen). Versions loaded from
// the shared store (lists.Store.Load, results marked Loaded) are not
// re-screened here: the node that activated them does it, and records
// them as screened.
func (c *Service) Subscribe(ls *lists.Store) {
	ls.Subscribe(func(old, cur *lists.Snapshot, all []lists.ImportResult) {
		var results []lists.ImportResult
		for _, r := range all {
			if !r.Loaded {
				results = append(results, r)
			}
		}
		if len(results) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if _, err := c.Rescreen(ctx, cur, results); err != nil {
			c.log.Error("re-screening after a list import failed", "error", err)
		}
	})
}

// ZoneState returns the compliance state of the zone serving host (its
// canonical host or an alias); false if the store does not know it.
func (c *Service) ZoneState(host string) (ZoneState, bool) {
	st, ok := (*c.states.Load())[host]
	return st, ok
}

// Refresh reloads the zone states from the store. The app calls it after
// every change here and whenever the store's desired-state version moves
// (a PostgreSQL notification, or its poll every cluster.poll), so that a
// decision taken on another node sharing the store takes effect here at
// once, within cluster.poll if the notification is lost.
//
// The store is read without holding the lock zoneChanged (every admin
// write) takes, so a slow store delays the refresh only, never an admin
// call; the read has the store's deadline (store.Store calls without one
// get timeouts.store). A zoneChanged that stored during the read wins:
// the read is done again (up to 3 times; then the next refresh catches up).
func (c *Service) Refresh(ctx context.Context) error {
	for range 3 {
		seq := c.changes.Load()
		var zones []store.Zone
		for z, err := range c.s.Zones(ctx) {
			if err != nil {
				return fmt.Errorf("loading zone states: %w", err)
			}
			zones = append(zones, z)
		}
		m := make(map[string]ZoneState, len(zones))
		for _, z := range zones {
			addState(m, z)
		}
		c.updateMu.Lock()
		if c.changes.Load() != seq {
			c.updateMu.Unlock()
			continue
		}
		stopped := c.publish(m)
		c.updateMu.Unlock()
		if stopped && c.opts.OnStopped != nil {
			c.opts.OnStopped()
		}
		return nil
	}
	return nil
}

// stateOf is the edge's view of z.
func stateOf(z store.Zone) ZoneState {
	st := ZoneState{ZoneID: z.ID, Host: z.Host, Status: z.Status, Since: z.Updated}
	var reasons []map[string]any
	if json.Unmarshal(z.Reasons, &reasons) == nil && len(reasons) > 0 {
		r := reasons[0]
		st.CaseID, _ = r["case_id"].(string)
		st.Category, _ = r["category"].(string)
		st.Reason, _ = r["reason"].(string)
		st.Decision, _ = r["decision"].(string)
		at, _ := r["decided_at"].(string)
		st.Since = sinceOf(at, z.Updated)
	}
	return st
}

func addState(m map[string]ZoneState, z store.Zone) {
	st := stateOf(z)
	m[z.Host] = st
	var aliases []string
	_ = json.Unmarshal(z.Aliases, &aliases)
	for _, a := range aliases {
		if _, taken := m[a]; !taken {
			m[a] = st
		}
	}
}

// zoneChanged updates the state of one zone (re-read from the store; gone
// if deleted) without reloading every zone, then tells the app.
func (c *Service) zoneChanged(ctx context.Context, id string) {
	z, err := c.s.GetZone(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		c.log.Error("refreshing a zone state", "zone", id, "error", err)
	}
	c.updateMu.Lock()
	old := *c.states.Load()
	m := make(map[string]ZoneState, len(old)+2)
	for h, st := range old {
		if st.ZoneID != id {
			m[h] = st
		}
	}
	if err == nil {
		addState(m, z)
	}
	stopped := c.publish(m)
	c.changes.Add(1)
	c.updateMu.Unlock()
	if stopped && c.opts.OnStopped != nil {
		c.opts.OnStopped()
	}
	if c.opts.OnZonesChanged != nil {
		c.opts.OnZonesChanged()
	}
}

// changed reloads every zone state and tells the app.
func (c *Service) changed(ctx context.Context) {
	if err := c.Refresh(ctx); err != nil {
		c.log.Error("refreshing zone states", "error", err)
	}
	if c.opts.OnZonesChanged != nil {
		c.opts.OnZonesChanged()
	}
}

// listVersions is the lists part of a screening record.
func listVersions(r screening.Result) json.RawMessage {
	b, _ := json.Marshal(r.Lists)
	return b
}

func matchesJSON(ms []screening.Match) json.RawMessage {
	if ms == nil {
		ms = []screening.Match{}
	}
	b, _ := json.Marshal(ms)
	return b
}

// dedupe drops repeated entity ids, keeping the first (best) match.
func dedupe(ms []screening.Match) []screening.Match {
	seen := map[string]bool{}
	out := ms[:0:0]
	for _, m := range ms {
		if !seen[m.ID] {
			seen[m.ID] = true
			out = append(out, m)
		}
	}
	return out
}
