package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/backend"
)

// TestNodesShowsTheNodeTable checks that `rampart nodes` prints every
// node's row with the state version it applied against the store's, its
// health, and marks a silent node stale.
func TestNodesShowsTheNodeTable(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := backend.Open(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateAccount(ctx, &store.Account{Name: "Version Bump", Kind: store.KindOrganization}))
	v, err := s.StateVersion(ctx)
	must(err)
	must(s.PutNode(ctx, store.Node{ID: "edge-1", Address: "127.0.0.1:9091", Version: "v1.2.3", StateVersion: v,
		Lists: map[string]string{"ofac-sdn": "0123456789abcdef0123"}, Healthy: true}))
	must(s.PutNode(ctx, store.Node{ID: "edge-2", Address: "127.0.0.1:9092", Version: "v1.2.3", StateVersion: v - 1,
		Problem: "cannot apply", LastSeen: store.Now()}))
	must(s.PutNode(ctx, store.Node{ID: "edge-3", Address: "127.0.0.1:9093", Version: "v1.2.2", Healthy: true,
		LastSeen: store.Now().Add(-time.Hour)}))
	s.Close()

	var out bytes.Buffer
	must(runNodes(&out, dir, "", false))
	text := out.String()
	for _, want := range []string{"edge-1", "127.0.0.1:9091", "v1.2.3", "ok", "ofac-sdn=0123456789ab", "degraded: cannot apply", "stale"} {
		if !strings.Contains(text, want) {
			t.Errorf("rampart nodes output lacks %q:\n%s", want, text)
		}
	}
	out.Reset()
	must(runNodes(&out, dir, "", true))
	var j struct {
		Nodes        []store.Node `json:"nodes"`
		StateVersion int64        `json:"state_version"`
	}
	if err := json.Unmarshal(out.Bytes(), &j); err != nil || len(j.Nodes) != 3 || j.StateVersion != v {
		t.Errorf("rampart nodes --json: %v %s", err, out.String())
	}
}
