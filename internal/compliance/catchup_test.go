package compliance

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store"
)

// catchUpEnv makes the test binary the catch-up child: "MODE|DATADIR|STORE"
// where STORE is "sqlite:DIR" or "postgres:URL" and MODE is "block" (the
// re-screen never runs) or "race" (it runs until killed).
const catchUpEnv = "RAMPART_COMPLIANCE_CATCHUP_CHILD"

// catchUpChild opens a persistent lists store with the 2023-12-28 OFAC SDN
// list, records it as screened, onboards accounts named after entities
// the 2024-05-03 publication adds (one with a zone) and a zone on a
// website it adds, then imports the 2024 list and prints "imported" once
// the new version is persisted. In mode block it then hangs before the
// re-screen; in mode race the re-screen runs while the parent kills it.
func catchUpChild(v string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	parts := strings.SplitN(v, "|", 3)
	mode, dataDir, st := parts[0], parts[1], parts[2]
	ctx := context.Background()
	ls, err := lists.Open(dataDir, []string{ofac2023})
	if err != nil {
		fail(err)
	}
	s, err := openCrashStore(st)
	if err != nil {
		fail(err)
	}
	c, err := New(ctx, Options{Store: s, Screening: screening.NewService(ls, 0), OnHit: config.OnHitReview})
	if err != nil {
		fail(err)
	}
	if rep, err := c.CatchUp(ctx, ls, filepath.Join(dataDir, "lists")); err != nil || !rep.Baseline {
		fail(fmt.Errorf("baseline catch-up: %+v %v", rep, err))
	}
	accs := []store.Account{
		{ID: "acc_sda", Name: "Social Design Agency", Kind: store.KindOrganization},
		{ID: "acc_tupikin", Name: "Nikolai Aleksandrovich Tupikin", Kind: store.KindPerson},
		{ID: "acc_clean", Name: "Quiet Meadow Bakery", Kind: store.KindOrganization},
	}
	for i := range accs {
		accs[i].Status, accs[i].Screening = store.AccountActive, json.RawMessage(`{}`)
	}
	if err := s.InsertAccounts(ctx, accs); err != nil {
		fail(err)
	}
	for _, z := range []store.Zone{{AccountID: "acc_sda", Host: "www.sda-follow.example"}, {AccountID: "acc_clean", Host: "www.sp-agency.ru"},
		{AccountID: "acc_clean", Host: "www.quietmeadow.example"}} {
		z.Aliases, z.Origins, z.Settings, z.Reasons = json.RawMessage(`[]`), json.RawMessage(`[]`), json.RawMessage(`{}`), json.RawMessage(`[]`)
		z.Status, z.Source = store.ZoneActive, store.SourceAPI
		if err := s.CreateZone(ctx, &z); err != nil {
			fail(err)
		}
	}
	ls.Subscribe(func(_, _ *lists.Snapshot, _ []lists.ImportResult) {
		fmt.Println("imported")
		if mode == "block" {
			select {}
		}
	})
	c.Subscribe(ls)
	if _, err := ls.ImportWith(forced2024, ofac2024); err != nil {
		fail(err)
	}
	fmt.Println("rescreened")
	select {}
}

// runCatchUpChild runs the child until it prints "imported", then kills
// it with SIGKILL.
func runCatchUpChild(t *testing.T, env string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), catchUpEnv+"="+env)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	seen := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if sc.Text() == "imported" && !ok {
				ok = true
				seen <- true
			}
		}
		if !ok {
			seen <- false
		}
	}()
	select {
	case ok := <-seen:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("child exited before importing: %s", stderr.String())
		}
	case <-time.After(120 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child did not import in 120s: %s", stderr.String())
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
}

// TestCatchUpAfterKill kills the process after a list version was
// persisted and before (block) or during (race) its re-screen, restarts,
// and checks that CatchUp finds the hits: the accounts named after added
// entities in review (their zone with them), the listed website's zone
// with a case, and the screened versions moved to the active one. With
// the screened version's files gone, CatchUp screens the whole list.
func TestCatchUpAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	for _, b := range []string{"sqlite", "postgres"} {
		for _, mode := range []string{"block", "race", "gone"} {
			t.Run(b+"/"+mode, func(t *testing.T) {
				ctx := context.Background()
				dataDir := t.TempDir()
				st := "sqlite:" + filepath.Join(dataDir, "db")
				if b == "postgres" {
					st = "postgres:" + freshSchema(t)
				}
				childMode := mode
				if mode == "gone" {
					childMode = "block"
				}
				runCatchUpChild(t, childMode+"|"+dataDir+"|"+st)

				ls, err := lists.Open(dataDir, []string{ofac2023})
				if err != nil {
					t.Fatal(err)
				}
				active := ls.Snapshot().Versions["ofac-sdn"].Hash
				s, err := openCrashStore(st)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				rec, err := s.ScreenedVersions(ctx)
				if err != nil || rec["ofac-sdn"] == "" {
					t.Fatalf("screened versions %v %v", rec, err)
				}
				screened := rec["ofac-sdn"]
				if mode != "race" && screened == active {
					t.Fatalf("the re-screen committed although it was blocked")
				}
				if mode == "gone" {
					if err := os.RemoveAll(filepath.Join(dataDir, "lists", "ofac-sdn", screened)); err != nil {
						t.Fatal(err)
					}
				}
				c := newService(t, s, screening.NewService(ls, 0), config.OnHitReview)
				rep, err := c.CatchUp(ctx, ls, filepath.Join(dataDir, "lists"))
				if err != nil {
					t.Fatal(err)
				}
				if screened != active {
					if rep.Baseline || len(rep.Sources) != 1 || rep.Rescreen == nil || rep.Sources[0].Whole != (mode == "gone") {
						t.Fatalf("catch-up %+v", rep)
					}
					if mode == "block" && rep.Rescreen.Changed < 1256 {
						t.Errorf("catch-up screened %d changed entities, want at least the 1,256 added", rep.Rescreen.Changed)
					}
					t.Logf("catch-up: %+v; rescreen: changed %d removed %d hits %v %v", rep.Sources, rep.Rescreen.Changed, rep.Rescreen.Removed,
						rep.Rescreen.AccountHits, rep.Rescreen.ZoneHits)
				} else {
					t.Logf("the child's re-screen committed before the kill; catch-up: %+v", rep)
				}
				for id, want := range map[string]string{"acc_sda": store.AccountReview, "acc_tupikin": store.AccountReview, "acc_clean": store.AccountActive} {
					a, err := s.GetAccount(ctx, id)
					if err != nil || a.Status != want {
						t.Errorf("account %s: %s %v, want %s", id, a.Status, err, want)
					}
				}
				zones, err := s.ListZones(ctx, store.ZoneFilter{})
				if err != nil {
					t.Fatal(err)
				}
				for _, z := range zones {
					want := map[string]string{"www.sda-follow.example": store.ZoneReview, "www.sp-agency.ru": store.ZoneActive,
						"www.quietmeadow.example": store.ZoneActive}[z.Host]
					if z.Status != want {
						t.Errorf("zone %s is %s, want %s", z.Host, z.Status, want)
					}
				}
				if _, err := s.FindActiveCase(ctx, "www.sp-agency.ru", store.CategorySanctions); err != nil {
					t.Errorf("no case for the listed website: %v", err)
				}
				if rec, _ := s.ScreenedVersions(ctx); rec["ofac-sdn"] != active {
					t.Errorf("screened version %s after the catch-up, want %s", rec["ofac-sdn"], active)
				}
				again, err := c.CatchUp(ctx, ls, filepath.Join(dataDir, "lists"))
				if err != nil || again.Baseline || len(again.Sources) != 0 || again.Rescreen != nil {
					t.Errorf("second catch-up %+v %v, want nothing to do", again, err)
				}
			})
		}
	}
}

// TestDiffEntities checks the catch-up diff against the lists store's
// own diff of the real 2023 → 2024 OFAC update.
func TestDiffEntities(t *testing.T) {
	ls, err := lists.Open("", []string{ofac2023})
	if err != nil {
		t.Fatal(err)
	}
	old := ls.Snapshot().Entities
	res, err := ls.ImportWith(forced2024, ofac2024)
	if err != nil {
		t.Fatal(err)
	}
	d := diffEntities(old, ls.Snapshot().Entities)
	for name, pair := range map[string][2][]string{"added": {d.Added, res[0].Diff.Added}, "removed": {d.Removed, res[0].Diff.Removed},
		"changed": {d.Changed, res[0].Diff.Changed}} {
		got, want := slices.Sorted(slices.Values(pair[0])), slices.Sorted(slices.Values(pair[1]))
		if !slices.Equal(got, want) {
			t.Errorf("%s: %d ids, the lists store has %d", name, len(got), len(want))
		}
	}
}
