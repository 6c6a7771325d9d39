package lists_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/lists"
)

// TestPublishAndLoad (issue 14): an activation on node A goes through the
// publisher (a publisher error fails it and changes nothing); node B
// loads the published version with its metadata, without the
// verification policy, and its subscribers see results marked Loaded; a
// file that does not match the hash, or does not parse, changes nothing.
func TestPublishAndLoad(t *testing.T) {
	a, err := lists.Open(t.TempDir(), []string{dir("ofac")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := lists.Open(t.TempDir(), []string{dir("ofac")})
	if err != nil {
		t.Fatal(err)
	}
	v2023 := a.Snapshot().Versions["ofac-sdn"].Hash
	if b.Snapshot().Versions["ofac-sdn"].Hash != v2023 {
		t.Fatal("the two stores differ from the start")
	}
	var published []lists.Activation
	fail := errors.New("store down")
	a.SetPublisher(func(acts []lists.Activation) error {
		if fail != nil {
			return fail
		}
		published = append(published, acts...)
		return nil
	})
	opts := lists.ImportOptions{Origin: "api", Actor: "token:ops", Force: true, Reason: "2024 update alone"}
	if _, err := a.ImportWith(opts, dir("ofac-2024-05-03")); err == nil || !strings.Contains(err.Error(), "store down") {
		t.Fatalf("import with the store down: %v", err)
	}
	if a.Snapshot().Versions["ofac-sdn"].Hash != v2023 {
		t.Fatal("a failed publication changed the active version")
	}
	fail = nil
	res, err := a.ImportWith(opts, dir("ofac-2024-05-03"))
	if err != nil {
		t.Fatal(err)
	}
	if len(published) != 1 || published[0].Version.Hash != res[0].Version.Hash || len(published[0].Files["sdn.csv"]) == 0 {
		t.Fatalf("published %+v", published)
	}
	var seen []lists.ImportResult
	b.Subscribe(func(_, _ *lists.Snapshot, rs []lists.ImportResult) { seen = append(seen, rs...) })

	// A damaged file: refused, nothing changes.
	bad := lists.Loaded{Version: published[0].Version, Files: map[string][]byte{"sdn.csv": []byte("1,\"X\"\n")}}
	if _, err := b.Load([]lists.Loaded{bad}); err == nil {
		t.Error("a file not matching the version's hash was loaded")
	}
	if b.Snapshot().Versions["ofac-sdn"].Hash != v2023 || len(seen) != 0 {
		t.Fatal("a refused load changed the active version")
	}
	// The published version: loaded although verification would refuse
	// it (it drops the alt.csv), with its metadata, marked Loaded.
	got, err := b.Load([]lists.Loaded{{Version: published[0].Version, Files: published[0].Files}})
	if err != nil {
		t.Fatal(err)
	}
	v := b.Snapshot().Versions["ofac-sdn"]
	if v.Hash != res[0].Version.Hash || v.Origin != "api" || v.Actor != "token:ops" || !v.Forced || v.Entities != res[0].Version.Entities {
		t.Errorf("loaded version %+v, want %+v", v, res[0].Version)
	}
	if len(got) != 1 || len(seen) != 1 || !seen[0].Loaded || seen[0].Summary.Added == 0 {
		t.Errorf("subscribers saw %+v", seen)
	}
	// Loading it again does nothing.
	if got, err := b.Load([]lists.Loaded{{Version: published[0].Version, Files: published[0].Files}}); err != nil || len(got) != 0 || len(seen) != 1 {
		t.Errorf("second load: %v %v", got, err)
	}
	// B can roll back to the version it loaded, as A can.
	if _, err := b.Rollback(v2023[:12], lists.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Rollback(v.Hash[:12], lists.ImportOptions{}); err != nil {
		t.Errorf("rolling back to a loaded version: %v", err)
	}
	// Active hands over every version with its files.
	acts, err := b.Active()
	if err != nil || len(acts) != 1 || acts[0].Version.Hash != v.Hash || len(acts[0].Files["sdn.csv"]) == 0 {
		t.Errorf("Active = %+v, %v", acts, err)
	}
}
