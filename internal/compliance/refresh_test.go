package compliance

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/store"
)

// stallingStore is a real store whose zone scan (the refresh loop's
// read) can be made to hang: it reads the zones as they are now, then
// waits for release (or for its context) before handing them over, as a
// scan stuck behind a hung database would return old rows late.
type stallingStore struct {
	store.Store
	stall   atomic.Bool
	started chan struct{}
	release chan struct{}
}

func (s *stallingStore) Zones(ctx context.Context) iter.Seq2[store.Zone, error] {
	if !s.stall.Load() {
		return s.Store.Zones(ctx)
	}
	return func(yield func(store.Zone, error) bool) {
		var snap []store.Zone
		for z, err := range s.Store.Zones(ctx) {
			if err != nil {
				yield(z, err)
				return
			}
			snap = append(snap, z)
		}
		s.started <- struct{}{}
		select {
		case <-s.release:
		case <-ctx.Done():
			yield(store.Zone{}, ctx.Err())
			return
		}
		for _, z := range snap {
			if !yield(z, nil) {
				return
			}
		}
	}
}

// TestRefreshDoesNotHoldDecisions: the refresh loop used to hold the
// lock every decision's zoneChanged takes while it read the store, so a
// hung store stalled every admin write. Now a decision taken while a
// refresh read hangs completes at once, takes effect at once (OnStopped
// runs), and the late refresh does not put the old states back.
func TestRefreshDoesNotHoldDecisions(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			ss := &stallingStore{Store: b.open(t), started: make(chan struct{}, 1), release: make(chan struct{})}
			var stopped atomic.Int32
			c, err := New(ctx, Options{Store: ss, Screening: sharedScreening(t), OnStopped: func() { stopped.Add(1) }})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.SyncConfigZones(ctx, []config.Zone{{Host: "held.test", Origins: []string{"http://127.0.0.1:9"}}}); err != nil {
				t.Fatal(err)
			}
			st, ok := c.ZoneState("held.test")
			if !ok || !c.Serves("held.test") {
				t.Fatalf("zone state before: %+v %v", st, ok)
			}
			cs, err := OpenScreeningCase(ctx, ss, st.ZoneID, "held.test", store.CategorySanctions, "test", "tester")
			if err != nil {
				t.Fatal(err)
			}

			ss.stall.Store(true)
			rctx, cancel := context.WithCancel(ctx)
			defer cancel()
			var wg sync.WaitGroup
			var refreshErr error
			wg.Add(1)
			go func() {
				defer wg.Done()
				refreshErr = c.Refresh(rctx)
			}()
			<-ss.started // the refresh read has the old rows and hangs
			ss.stall.Store(false)

			start := time.Now()
			done := make(chan error, 1)
			go func() {
				_, _, err := c.Decide(ctx, cs.ID, store.ActionSuspend, "listed owner", "tester")
				done <- err
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("a decision waited for a hung refresh")
			}
			t.Logf("decision with a refresh hung: %s", time.Since(start).Round(time.Millisecond))
			if c.Serves("held.test") || stopped.Load() == 0 {
				t.Errorf("after the decision: served %v, OnStopped ran %d times", c.Serves("held.test"), stopped.Load())
			}

			close(ss.release) // the hung read returns its old rows now
			wg.Wait()
			if refreshErr != nil {
				t.Fatal(refreshErr)
			}
			if st, _ := c.ZoneState("held.test"); st.Status != store.ZoneSuspended {
				t.Errorf("a late refresh put back the old state: %q, want suspended", st.Status)
			}
		})
	}
}

// TestRefreshSeesAnotherNodesDecision: a decision another node stored is
// picked up by Refresh, which calls OnStopped.
func TestRefreshSeesAnotherNodesDecision(t *testing.T) {
	ctx := context.Background()
	s := backends[0].open(t)
	var stopped atomic.Int32
	c, err := New(ctx, Options{Store: s, Screening: sharedScreening(t), OnStopped: func() { stopped.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SyncConfigZones(ctx, []config.Zone{{Host: "far.test", Origins: []string{"http://127.0.0.1:9"}}}); err != nil {
		t.Fatal(err)
	}
	st, _ := c.ZoneState("far.test")
	cs, err := OpenScreeningCase(ctx, s, st.ZoneID, "far.test", store.CategorySanctions, "test", "tester")
	if err != nil {
		t.Fatal(err)
	}
	before := stopped.Load()
	if _, _, err := RecordDecision(ctx, s, cs.ID, store.ActionSuspend, "decided elsewhere", "node2"); err != nil {
		t.Fatal(err)
	}
	if !c.Serves("far.test") {
		t.Fatal("served state changed before a refresh")
	}
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Serves("far.test") || stopped.Load() != before+1 {
		t.Errorf("after Refresh: served %v, OnStopped ran %d more times, want 1", c.Serves("far.test"), stopped.Load()-before)
	}
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if stopped.Load() != before+1 {
		t.Errorf("a refresh that changed nothing ran OnStopped")
	}
}
