package compliance

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/postgres"
	"github.com/rampart-edge/rampart/internal/store/sqlite"
	"github.com/rampart-edge/rampart/internal/testenv"
)

// crashEnv makes the test binary the crash child: "sqlite:DIR" or
// "postgres:URL".
const crashEnv = "RAMPART_COMPLIANCE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if v := os.Getenv(crashEnv); v != "" {
		crashChild(v)
	}
	if v := os.Getenv(catchUpEnv); v != "" {
		catchUpChild(v)
	}
	testenv.Main(m)
}

func openCrashStore(v string) (store.Store, error) {
	kind, arg, _ := strings.Cut(v, ":")
	if kind == "sqlite" {
		return sqlite.Open(context.Background(), arg)
	}
	return postgres.Open(context.Background(), arg)
}

// crashUpdate is a list "update" of real 2023 OFAC entities that have a
// website, and those websites.
func crashUpdate() (*screening.Service, *lists.Snapshot, []lists.ImportResult, []entity.Entity, []string) {
	ls, err := lists.Open("", []string{ofac2023})
	if err != nil {
		panic(err)
	}
	scr := screening.NewService(ls, 0)
	snap := ls.Snapshot()
	var ents []entity.Entity
	var ids, hosts []string
	for _, e := range snap.Entities {
		if len(ents) == 20 {
			break
		}
		for _, id := range e.Identifiers {
			if id.Type != entity.Website {
				continue
			}
			if h, ok := screening.NormalizeIdentifier(entity.Website, id.Value); ok && !strings.Contains(h, "/") {
				ents = append(ents, e)
				ids = append(ids, e.ID)
				hosts = append(hosts, h)
				break
			}
		}
	}
	cur := &lists.Snapshot{Versions: snap.Versions, Entities: ents}
	return scr, cur, []lists.ImportResult{{Version: snap.Versions["ofac-sdn"], Diff: lists.Diff{Added: ids}}}, ents, hosts
}

// crashChild runs rounds until killed: round i inserts accounts named
// after listed entities and zones on subdomains of their websites, runs a
// re-screen (on_hit suspend: statuses, screenings, cases and suspensions
// in one transaction), then reinstates half of the suspended cases
// (decisions), printing "committed i" after each round.
func crashChild(v string) {
	ctx := context.Background()
	s, err := openCrashStore(v)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	scr, cur, results, ents, hosts := crashUpdate()
	c, err := New(ctx, Options{Store: s, Screening: scr, OnHit: config.OnHitSuspend})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 1; ; i++ {
		prefix := fmt.Sprintf("r%d-%d", os.Getpid(), i)
		var accs []store.Account
		for k, e := range ents {
			accs = append(accs, store.Account{ID: fmt.Sprintf("acc_%s_%d", prefix, k), Name: e.Name, Kind: string(e.Kind), Status: store.AccountActive,
				Screening: json.RawMessage(`{}`)})
		}
		if err := s.InsertAccounts(ctx, accs); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		for k, h := range hosts[:5] {
			z := store.Zone{ID: fmt.Sprintf("zone_%s_%d", prefix, k), Host: prefix + "." + h, Aliases: json.RawMessage(`[]`), Origins: json.RawMessage(`[]`),
				Settings: json.RawMessage(`{}`), Status: store.ZoneActive, Reasons: json.RawMessage(`[]`), Source: store.SourceAPI}
			if err := s.CreateZone(ctx, &z); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
		}
		if _, err := c.Rescreen(ctx, cur, results); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		cases, err := s.ListCases(ctx, store.CaseFilter{Status: store.CaseSuspended, Limit: 1000})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		for j, cs := range cases {
			if j%2 == 0 {
				if _, _, err := c.Decide(ctx, cs.ID, store.ActionReinstate, "crash test", "tok"); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
			}
		}
		fmt.Printf("committed %d\n", i)
	}
}

// TestCrashDuringRescreenAndDecision kills -9 a child in the middle of
// re-screens and decisions, three times per store, and checks that every
// change is whole: the audit chain verifies, an account in review has the
// screening that put it there, and a zone is suspended exactly when its
// case is.
func TestCrashDuringRescreenAndDecision(t *testing.T) {
	for _, b := range []struct{ name, env string }{
		{"sqlite", "sqlite:" + t.TempDir()},
		{"postgres", "postgres:" + freshSchema(t)},
	} {
		t.Run(b.name, func(t *testing.T) {
			for round := range 3 {
				crashRound(t, b.env, round)
				s, err := openCrashStore(b.env)
				if err != nil {
					t.Fatal(err)
				}
				checkCrashStore(t, s)
				s.Close()
			}
		})
	}
}

func crashRound(t *testing.T, env string, round int) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+env)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan int, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "committed ")); err == nil {
				lines <- n
			}
		}
	}()
	select {
	case _, ok := <-lines:
		if !ok {
			t.Fatalf("child exited: %s", stderr.String())
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child committed nothing in 60s: %s", stderr.String())
	}
	// Kill it somewhere in the next rounds' re-screen or decisions.
	time.Sleep(time.Duration(50+rand.IntN(400)) * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	for range lines {
	}
	t.Logf("round %d: killed the child", round)
}

func checkCrashStore(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	rep, err := audit.Verify(ctx, s)
	if err != nil || !rep.OK {
		t.Fatalf("audit verify after the crash: %+v %v", rep, err)
	}
	var review, reviewed int
	for a, err := range s.Accounts(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if a.Status == store.AccountReview {
			review++
		}
		_ = a
	}
	accs, _ := s.ListAccounts(ctx, store.AccountFilter{Status: store.AccountReview, Limit: 1 << 20})
	for _, a := range accs {
		scs, err := s.Screenings(ctx, store.SubjectAccount, a.ID, 1)
		if err != nil || len(scs) == 0 || scs[0].Actor != audit.ActorSystem {
			t.Errorf("account %s in review without its re-screening: %+v %v", a.ID, scs, err)
			continue
		}
		reviewed++
	}
	// No account was left active that a committed re-screen hit: every
	// account with a system screening is in review.
	all, _ := s.ListAccounts(ctx, store.AccountFilter{Status: store.AccountActive, Limit: 1 << 20})
	for _, a := range all {
		if scs, _ := s.Screenings(ctx, store.SubjectAccount, a.ID, 1); len(scs) > 0 {
			t.Errorf("account %s has a screening (%s) but is still active", a.ID, scs[0].Result)
		}
	}
	zones, _ := s.ListZones(ctx, store.ZoneFilter{Limit: 1 << 20})
	for _, z := range zones {
		cs, err := s.FindActiveCase(ctx, z.Host, store.CategorySanctions)
		suspendedCase := err == nil && cs.Status == store.CaseSuspended
		if (z.Status == store.ZoneSuspended) != suspendedCase {
			t.Errorf("zone %s is %s but its active case is %+v (%v)", z.Host, z.Status, cs, err)
		}
		if z.Status == store.ZoneSuspended {
			ds, _ := s.Decisions(ctx, cs.ID)
			if len(ds) == 0 || ds[len(ds)-1].Action != store.ActionSuspend && ds[0].Action != store.ActionSuspend {
				t.Errorf("suspended case %s without its decision: %+v", cs.ID, ds)
			}
		}
	}
	if review == 0 || review != reviewed || len(zones) == 0 {
		t.Errorf("review=%d reviewed=%d zones=%d", review, reviewed, len(zones))
	}
	t.Logf("after the crash: %d audit entries, %d accounts in review, %d zones", rep.Entries, review, len(zones))
}
