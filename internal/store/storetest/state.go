package storetest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
)

// testStateVersion: every write the nodes apply bumps the state version
// (in its own transaction, so a rolled-back one does not), reads do not.
func testStateVersion(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	version := func() int64 {
		t.Helper()
		v, err := s.StateVersion(ctx)
		must(t, err)
		return v
	}
	v0 := version()
	step := func(what string, fn func() error) {
		t.Helper()
		before := version()
		must(t, fn())
		if after := version(); after <= before {
			t.Errorf("%s: state version %d -> %d, want it bumped", what, before, after)
		}
	}
	a := &store.Account{Name: "Version Test", Kind: store.KindOrganization}
	step("CreateAccount", func() error { return s.CreateAccount(ctx, a) })
	z := &store.Zone{Host: "version.example", Aliases: json.RawMessage(`[]`), Origins: json.RawMessage(`["http://127.0.0.1:1"]`),
		Settings: json.RawMessage(`{}`), Source: store.SourceAPI, Status: store.ZoneActive}
	step("CreateZone", func() error { return s.CreateZone(ctx, z) })
	step("SetStatuses", func() error {
		_, err := s.SetStatuses(ctx, store.SubjectZone, []store.StatusUpdate{{ID: z.ID, Status: store.ZoneSuspended}})
		return err
	})
	step("PutToken", func() error {
		return s.PutToken(ctx, store.TokenRecord{ID: "0123456789abcdef", Scope: "read", Created: store.Now(), Hash: strings.Repeat("0", 64)})
	})
	step("RevokeToken", func() error { return s.RevokeToken(ctx, "0123456789abcdef", store.Now()) })
	step("DeleteZone", func() error { return s.DeleteZone(ctx, z.ID) })
	before := version()
	_, _ = s.ListZones(ctx, store.ZoneFilter{})
	if version() != before {
		t.Error("a read bumped the state version")
	}
	// A rolled-back transaction leaves the version alone.
	_ = s.Tx(ctx, func(tx store.Tx) error {
		z2 := &store.Zone{Host: "rollback.example", Aliases: json.RawMessage(`[]`), Origins: json.RawMessage(`["http://127.0.0.1:1"]`),
			Settings: json.RawMessage(`{}`), Source: store.SourceAPI, Status: store.ZoneActive}
		must(t, tx.CreateZone(ctx, z2))
		return context.Canceled
	})
	if version() != before {
		t.Error("a rolled-back write bumped the state version")
	}
	if version() <= v0 {
		t.Error("state version never moved")
	}
}

// testNodes: PutNode inserts and replaces by id; ListNodes returns them.
func testNodes(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	seen := store.Now().Add(-time.Minute)
	must(t, s.PutNode(ctx, store.Node{ID: "node-b", Address: "127.0.0.1:9091", Version: "v1", StateVersion: 3, Healthy: true, LastSeen: seen}))
	must(t, s.PutNode(ctx, store.Node{ID: "node-a", Address: "127.0.0.1:9090", Version: "v1", StateVersion: 1, Lists: map[string]string{"ofac-sdn": "abc"}, Healthy: true}))
	must(t, s.PutNode(ctx, store.Node{ID: "node-a", Address: "127.0.0.1:9090", Version: "v2", StateVersion: 4, Lists: map[string]string{"ofac-sdn": "def"}, Problem: "store down"}))
	wantErr(t, s.PutNode(ctx, store.Node{}), store.ErrInvalid)
	ns, err := s.ListNodes(ctx)
	must(t, err)
	if len(ns) != 2 || ns[0].ID != "node-a" || ns[1].ID != "node-b" {
		t.Fatalf("nodes: %+v", ns)
	}
	a := ns[0]
	if a.Version != "v2" || a.StateVersion != 4 || a.Lists["ofac-sdn"] != "def" || a.Healthy || a.Problem != "store down" || a.LastSeen.IsZero() {
		t.Errorf("node-a: %+v", a)
	}
	if !ns[1].LastSeen.Equal(seen) || !ns[1].Healthy {
		t.Errorf("node-b: %+v (last seen want %v)", ns[1], seen)
	}
}
