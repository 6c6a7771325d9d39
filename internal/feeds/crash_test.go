package feeds_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/app"
	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/feeds"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/postgres"
	"github.com/rampart-edge/rampart/internal/store/sqlite"
)

// crashEnv makes the test binary the crash child; its value is a JSON
// crashJob.
const crashEnv = "RAMPART_FEEDS_CRASH_CHILD"

type crashJob struct {
	Kind string `json:"kind"` // sqlite | postgres
	URL  string `json:"url"`  // the PostgreSQL schema URL
	Data string `json:"data"` // data_dir
	Feed string `json:"feed"` // the feed URL
}

func openJobStore(j crashJob) (store.Store, error) {
	if j.Kind == "sqlite" {
		return sqlite.Open(context.Background(), j.Data)
	}
	return postgres.Open(context.Background(), j.URL)
}

// stack opens what rampart serve runs on a data directory: the list
// store (persisted versions, else the 2023 set), the compliance desk on
// the store, subscribed to it, and refusals audited.
func stack(j crashJob) (*lists.Store, store.Store, *compliance.Service, error) {
	ctx := context.Background()
	ls, err := lists.Open(j.Data, []string{filepath.Join(sanctions, "ofac")})
	if err != nil {
		return nil, nil, nil, err
	}
	cfg := &config.Config{}
	cfg.Compliance.MaxRemovedShare = lists.DefaultMaxRemovedShare
	ls.SetPolicy(app.ListPolicy(cfg))
	st, err := openJobStore(j)
	if err != nil {
		return nil, nil, nil, err
	}
	ls.OnRefused(func(r lists.Refusal) { _ = app.AuditRefusal(ctx, st, r) })
	svc, err := compliance.New(ctx, compliance.Options{Store: st, Screening: screening.NewService(ls, 0), OnHit: config.OnHitReview})
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := svc.CatchUp(ctx, ls, filepath.Join(j.Data, "lists")); err != nil {
		return nil, nil, nil, err
	}
	svc.Subscribe(ls)
	return ls, st, svc, nil
}

// crashChildMain runs the child: one feed check of the 2024 update,
// killed by the parent somewhere in it.
func crashChildMain() bool {
	v := os.Getenv(crashEnv)
	if v == "" {
		return false
	}
	var j crashJob
	if err := json.Unmarshal([]byte(v), &j); err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	ls, _, _, err := stack(j)
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	s, err := feeds.New(feeds.Options{Store: ls, Feeds: []config.Feed{testFeed(j.Feed)}, DataDir: j.Data, Backoff: 10 * time.Millisecond})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	fmt.Println("CHECKING")
	start := time.Now()
	res := s.Check(context.Background(), testFeed(j.Feed), nil)
	fmt.Println("DONE", res.Outcome, time.Since(start).Milliseconds())
	os.Exit(0)
	return true
}

// TestKillDuringActivation kills (SIGKILL) a process in the middle of
// activating the real 2024 update at several points, on both stores. After
// each kill the data directory opens with exactly one active version (the
// 2023 or the 2024 one, never a mix), the audit chain verifies, the
// restart's catch-up re-screens what the kill interrupted, and the next
// check ends with the 2024 version active and exactly the two accounts
// named after added entities hit: nothing is lost.
func TestKillDuringActivation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	srv := newPubServer(t, set2024(t), time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC))
	feedURL := srv.URL + "/api/PublicationPreview/exports/"
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			// One run without a kill measures how long the check takes.
			full := runChild(t, b.name, feedURL, -1)
			t.Logf("an uninterrupted check takes %s", full)
			for i, frac := range []float64{0.1, 0.4, 0.6, 0.85} {
				t.Run(fmt.Sprint(i), func(t *testing.T) {
					runChild(t, b.name, feedURL, time.Duration(frac*float64(full)))
				})
			}
		})
	}
}

// runChild prepares a data directory and store with the 2023 set and the
// accounts, runs the child, kills it after delay (never if negative), and
// checks the aftermath. It returns how long the child's check took.
func runChild(t *testing.T, kind, feedURL string, delay time.Duration) time.Duration {
	t.Helper()
	ctx := context.Background()
	j := crashJob{Kind: kind, Data: t.TempDir(), Feed: feedURL}
	var st store.Store
	if kind == "postgres" {
		st = backends[1].open(t)
		j.URL = lastPostgresURL
	} else {
		var err error
		if st, err = sqlite.Open(ctx, j.Data); err != nil {
			t.Fatal(err)
		}
	}
	r := newRig(t, st, j.Data)
	base := r.base
	st.Close()

	b, _ := json.Marshal(j)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+string(b))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var took time.Duration
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "ERROR") {
			t.Fatal(line)
		}
		if line == "CHECKING" && delay >= 0 {
			time.Sleep(delay)
			_ = cmd.Process.Kill()
			break
		}
		if strings.HasPrefix(line, "DONE") {
			var outcome string
			var ms int64
			fmt.Sscanf(line, "DONE %s %d", &outcome, &ms)
			if outcome != feeds.OutcomeUpdated {
				t.Fatalf("uninterrupted child: %s", line)
			}
			took = time.Duration(ms) * time.Millisecond
		}
	}
	_ = cmd.Wait()

	// The aftermath, as a restart sees it.
	ls, st2, svc, err := stack(j)
	if err != nil {
		t.Fatalf("restart after the kill: %v", err)
	}
	defer st2.Close()
	v := ls.Snapshot().Versions["ofac-sdn"]
	is2024 := v.Entities == 14965
	if v.Hash != base && !is2024 {
		t.Fatalf("active version %s with %d entities: neither 2023 nor 2024", v.Short(), v.Entities)
	}
	rep, err := audit.Verify(ctx, st2)
	if err != nil || !rep.OK {
		t.Fatalf("audit chain after the kill: %+v %v", rep, err)
	}
	// The next check finishes the update (or finds it done).
	s, err := feeds.New(feeds.Options{Store: ls, Feeds: []config.Feed{testFeed(feedURL)}, DataDir: j.Data, Backoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	res := s.Check(ctx, testFeed(feedURL), nil)
	if res.Outcome == feeds.OutcomeError || res.Outcome == feeds.OutcomeRefused {
		t.Fatalf("check after restart: %+v", res)
	}
	if v := ls.Snapshot().Versions["ofac-sdn"]; v.Entities != 14965 {
		t.Fatalf("after the next check: %d entities", v.Entities)
	}
	for _, id := range r.hitAcc {
		if a, _ := st2.GetAccount(ctx, id); a.Status != store.AccountReview {
			t.Errorf("killed after %s (2024 active at restart: %v): hit account %s is %s", delay, is2024, id, a.Status)
		}
	}
	for _, id := range r.clean {
		if a, _ := st2.GetAccount(ctx, id); a.Status != store.AccountActive {
			t.Errorf("killed after %s: clean account %s is %s", delay, id, a.Status)
		}
	}
	imports := 0
	for e, err := range st2.Entries(ctx, 1) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Action == audit.ActionListImport {
			imports++
		}
	}
	if imports != 1 {
		t.Errorf("killed after %s: %d list.import audit entries, want 1", delay, imports)
	}
	_ = svc
	t.Logf("killed after %s: 2024 active at restart %v", delay, is2024)
	return took
}
