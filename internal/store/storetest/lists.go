package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// testListVersions: files are content-addressed, one version per source
// is active, activation bumps the state version, onlyIfEmpty publishes
// only into an empty store, a version naming a missing file is refused.
func testListVersions(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	if vs, err := s.ActiveListVersions(ctx); err != nil || len(vs) != 0 {
		t.Fatalf("new store: %v, %v; want none", vs, err)
	}
	sdn1, sdn2, un1 := []byte("1,\"A\"\n"), []byte("1,\"A\"\n2,\"B\"\n"), []byte("<CONSOLIDATED_LIST/>")
	pub := time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC)
	v1 := store.ListVersion{Source: "ofac-sdn", List: "OFAC SDN", Hash: "h1", Files: map[string]string{"sdn.csv": sum(sdn1)}, Entities: 1,
		Published: pub, Imported: store.Now(), Origin: "bundled"}
	u1 := store.ListVersion{Source: "un", List: "UN", Hash: "u1", Files: map[string]string{"consolidated.xml": sum(un1)}, Entities: 0, Origin: "bundled"}
	before, err := s.StateVersion(ctx)
	must(t, err)
	ok, err := s.ActivateListVersions(ctx, []store.ListVersion{v1, u1}, [][]byte{sdn1, un1}, true)
	must(t, err)
	if !ok {
		t.Fatal("publishing into an empty store: not done")
	}
	if after, _ := s.StateVersion(ctx); after <= before {
		t.Errorf("activation: state version %d -> %d, want it bumped", before, after)
	}
	// A second first publication does nothing.
	v1b := v1
	v1b.Hash = "other"
	ok, err = s.ActivateListVersions(ctx, []store.ListVersion{v1b}, [][]byte{sdn1}, true)
	must(t, err)
	if ok {
		t.Error("onlyIfEmpty on a store with versions: done")
	}
	// A new version of one source replaces it; the other stays.
	v2 := v1
	v2.Hash, v2.Files, v2.Entities, v2.Origin, v2.Actor, v2.Forced, v2.Reason = "h2", map[string]string{"sdn.csv": sum(sdn2)}, 2, "api", "ops", true, "share removed"
	ok, err = s.ActivateListVersions(ctx, []store.ListVersion{v2}, [][]byte{sdn2}, false)
	must(t, err)
	if !ok {
		t.Fatal("activation: not done")
	}
	vs, err := s.ActiveListVersions(ctx)
	must(t, err)
	if len(vs) != 2 || vs[0].Source != "ofac-sdn" || vs[0].Hash != "h2" || vs[1].Hash != "u1" {
		t.Fatalf("active versions %+v, want ofac-sdn h2 and un u1", vs)
	}
	g := vs[0]
	if g.Entities != 2 || g.Origin != "api" || g.Actor != "ops" || !g.Forced || g.Reason != "share removed" || !g.Published.Equal(pub) ||
		g.Files["sdn.csv"] != sum(sdn2) || g.Seq <= vs[1].Seq {
		t.Errorf("active ofac-sdn %+v", g)
	}
	b, err := s.ListFile(ctx, sum(sdn2))
	must(t, err)
	if !bytes.Equal(b, sdn2) {
		t.Errorf("file %q, want %q", b, sdn2)
	}
	if _, err := s.ListFile(ctx, sum([]byte("nothing"))); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing file: %v, want ErrNotFound", err)
	}
	// Rolling back: the earlier version again, its files already stored.
	ok, err = s.ActivateListVersions(ctx, []store.ListVersion{v1}, nil, false)
	must(t, err)
	vs, _ = s.ActiveListVersions(ctx)
	if !ok || len(vs) != 2 || vs[0].Hash != "h1" || vs[0].Seq <= vs[1].Seq {
		t.Errorf("after rollback: %+v", vs)
	}
	// A version naming a file the store does not hold is refused, and
	// changes nothing.
	v3 := v1
	v3.Hash, v3.Files = "h3", map[string]string{"sdn.csv": sum([]byte("absent"))}
	if _, err := s.ActivateListVersions(ctx, []store.ListVersion{v3}, nil, false); err == nil {
		t.Error("a version with a missing file was activated")
	}
	vs, _ = s.ActiveListVersions(ctx)
	if vs[0].Hash != "h1" {
		t.Errorf("after a refused activation: %s active", vs[0].Hash)
	}
}

// testLeases: one holder at a time, renewable, taken over once expired.
func testLeases(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	take := func(holder string, ttl time.Duration) bool {
		t.Helper()
		ok, err := s.TakeLease(ctx, "feeds", holder, ttl)
		must(t, err)
		return ok
	}
	if !take("a", time.Minute) {
		t.Fatal("a free lease was not taken")
	}
	if take("b", time.Minute) {
		t.Error("b took a's lease")
	}
	if !take("a", 50*time.Millisecond) {
		t.Error("a could not renew its lease")
	}
	time.Sleep(100 * time.Millisecond)
	if !take("b", time.Minute) {
		t.Error("b could not take an expired lease")
	}
	if take("a", time.Minute) {
		t.Error("a took b's lease back")
	}
}
