package storetest

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
	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/store"
)

// CrashEnv names the environment variable that makes a test binary act as
// the crash test's child: its TestMain opens the store the variable names
// and calls CrashChild instead of running tests.
const CrashEnv = "RAMPART_STORE_CRASH_CHILD"

// crashFillers is how many extra accounts each crash transaction writes, to
// make the transactions long enough to be killed in the middle.
const crashFillers = 20

// CrashChild writes transactions until it is killed: transaction i creates
// account crash-i with crashFillers filler accounts, zone crash-i.example,
// a screening and an audit entry "crash:i". After every second one it
// applies a status batch to the previous one's fillers (compliance.ApplyStatuses),
// after every third it files a report (store.RecordReport), and after every
// sixth it suspends that report's case (compliance.RecordDecision), each in its
// own transaction. After each round it prints "committed i" on stdout. It
// never returns.
func CrashChild(s store.Store) {
	ctx := context.Background()
	// Resume after the transactions an earlier child committed.
	start := 1
	for ; ; start++ {
		if _, err := s.GetAccount(ctx, fmt.Sprintf("crash-%d", start)); err != nil {
			break
		}
	}
	for i := start; ; i++ {
		err := s.Tx(ctx, func(tx store.Tx) error {
			if _, err := tx.Append(ctx, audit.Event{Actor: audit.ActorSystem, Action: "test.crash", Subject: fmt.Sprintf("crash:%d", i)}); err != nil {
				return err
			}
			a := store.Account{ID: fmt.Sprintf("crash-%d", i), Name: fmt.Sprintf("Crash %d", i), Kind: store.KindOrganization}
			if err := tx.CreateAccount(ctx, &a); err != nil {
				return err
			}
			for k := range crashFillers {
				f := store.Account{ID: fmt.Sprintf("crash-%d-%d", i, k), Name: "filler", Kind: store.KindPerson}
				if err := tx.CreateAccount(ctx, &f); err != nil {
					return err
				}
			}
			z := store.Zone{ID: fmt.Sprintf("zone-crash-%d", i), AccountID: a.ID, Host: fmt.Sprintf("crash-%d.example", i)}
			if err := tx.CreateZone(ctx, &z); err != nil {
				return err
			}
			return tx.AddScreening(ctx, &store.Screening{SubjectType: store.SubjectZone, SubjectID: z.ID, Result: store.ZoneActive,
				Matches: json.RawMessage(`[]`)})
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(2)
		}
		if i%2 == 0 {
			// A re-screening outcome: the previous transaction's fillers go
			// to review together, or not at all.
			var ups []store.StatusUpdate
			for k := range crashFillers {
				ups = append(ups, store.StatusUpdate{ID: fmt.Sprintf("crash-%d-%d", i-1, k), Status: store.AccountReview})
			}
			if _, err := compliance.ApplyStatuses(ctx, s, store.SubjectAccount, ups, "crash test"); err != nil {
				fmt.Fprintln(os.Stderr, "crash child:", err)
				os.Exit(2)
			}
		}
		if i%3 == 0 {
			c, _, err := store.RecordReport(ctx, s, store.ReportInput{Host: fmt.Sprintf("crash-%d.example", i), Category: store.CategoryAbuse})
			if err != nil {
				fmt.Fprintln(os.Stderr, "crash child:", err)
				os.Exit(2)
			}
			if i%6 == 0 {
				if _, _, err := compliance.RecordDecision(ctx, s, c.ID, store.ActionSuspend, "crash test", "tok"); err != nil {
					fmt.Fprintln(os.Stderr, "crash child:", err)
					os.Exit(2)
				}
			}
		}
		fmt.Printf("committed %d\n", i)
	}
}

// Crash runs rounds children made by newCmd (test binaries with CrashEnv
// set, see CrashChild), one after the other on the same store. It kills
// each with SIGKILL once it has committed commitsPerRound transactions
// (after a random delay of up to 3 ms, to land inside a transaction), then
// reopens the store and checks that every transaction is either wholly
// there or wholly absent, that everything reported committed is there, and
// that the audit chain verifies.
func Crash(t *testing.T, newCmd func() *exec.Cmd, rounds, commitsPerRound int, reopen func(t *testing.T) store.Store) {
	last := 0
	for round := 1; round <= rounds; round++ {
		last = max(last, crashOnce(t, newCmd(), commitsPerRound))
		checkCrash(t, reopen(t), last)
	}
}

// crashOnce runs one child until it has committed n transactions, kills
// it, and returns the highest transaction number it reported committed.
func crashOnce(t *testing.T, cmd *exec.Cmd, n int) int {
	out, err := cmd.StdoutPipe()
	must(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	must(t, cmd.Start())
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	lines := make(chan int, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "committed ")); err == nil {
				lines <- n
			}
		}
	}()
	last, got := 0, 0
	timeout := time.After(90 * time.Second)
	for got < n {
		select {
		case v, ok := <-lines:
			if !ok {
				t.Fatalf("crash child exited after %d commits: %s", got, stderr.String())
			}
			last, got = v, got+1
		case <-timeout:
			t.Fatalf("crash child committed only %d transactions in 90s: %s", got, stderr.String())
		}
	}
	time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
	must(t, cmd.Process.Signal(syscall.SIGKILL))
	killed = true
	_ = cmd.Wait()
	for v := range lines {
		last = max(last, v)
	}
	t.Logf("killed the child after it reported transaction %d committed", last)
	return last
}

// checkCrash checks the store after a crash; last is the highest
// transaction reported committed.
func checkCrash(t *testing.T, s store.Store, last int) {
	ctx := ctxT(t)
	accounts := map[string]bool{}
	status := map[string]string{}
	for a, err := range s.Accounts(ctx) {
		must(t, err)
		accounts[a.ID] = true
		status[a.ID] = a.Status
	}
	zones := map[string]bool{}
	for z, err := range s.Zones(ctx) {
		must(t, err)
		zones[z.ID] = true
	}
	entries := map[string]bool{}
	for e, err := range s.Entries(ctx, 1) {
		must(t, err)
		entries[e.Subject] = true
	}
	present := 0
	for i := 1; i <= last+50; i++ {
		parts := map[string]bool{
			"account":      accounts[fmt.Sprintf("crash-%d", i)],
			"last filler":  accounts[fmt.Sprintf("crash-%d-%d", i, crashFillers-1)],
			"first filler": accounts[fmt.Sprintf("crash-%d-0", i)],
			"zone":         zones[fmt.Sprintf("zone-crash-%d", i)],
			"audit entry":  entries[fmt.Sprintf("crash:%d", i)],
		}
		scs, err := s.Screenings(ctx, store.SubjectZone, fmt.Sprintf("zone-crash-%d", i), 0)
		must(t, err)
		parts["screening"] = len(scs) == 1
		all, none := true, true
		for _, ok := range parts {
			all, none = all && ok, none && !ok
		}
		review := 0
		for k := range crashFillers {
			if status[fmt.Sprintf("crash-%d-%d", i, k)] == store.AccountReview {
				review++
			}
		}
		if review != 0 && review != crashFillers {
			t.Errorf("status batch for transaction %d is half applied: %d of %d in review", i, review, crashFillers)
		}
		switch {
		case !all && !none:
			t.Errorf("transaction %d is half there: %v", i, parts)
		case none && i <= last:
			t.Errorf("transaction %d was reported committed but is gone", i)
		case all:
			present++
			if present != i {
				t.Errorf("transaction %d is there but an earlier one is not", i)
			}
		}
	}
	if present < last {
		t.Errorf("%d transactions present, %d reported committed", present, last)
	}
	for i := 3; i <= present; i += 3 {
		cs, err := s.ListCases(ctx, store.CaseFilter{Host: fmt.Sprintf("crash-%d.example", i)})
		must(t, err)
		// A child killed between transaction i and its report leaves no
		// report; the report transaction itself is all or nothing.
		if len(cs) > 1 {
			t.Errorf("report for transaction %d: %d cases", i, len(cs))
		}
		for _, c := range cs {
			if c.ReportCount != 1 {
				t.Errorf("case for %d counts %d reports", i, c.ReportCount)
			}
			reps, err := s.Reports(ctx, c.ID)
			must(t, err)
			if len(reps) != 1 {
				t.Errorf("case for %d has %d report rows", i, len(reps))
			}
			// A decision is all there (decision row, case and zone
			// suspended) or not at all (case open, zone active).
			decs, err := s.Decisions(ctx, c.ID)
			must(t, err)
			z, err := s.GetZone(ctx, fmt.Sprintf("zone-crash-%d", i))
			must(t, err)
			switch {
			case len(decs) == 1 && c.Status == store.CaseSuspended && z.Status == store.ZoneSuspended:
			case len(decs) == 0 && c.Status == store.CaseOpen && z.Status == store.ZoneActive:
			default:
				t.Errorf("decision for %d is half there: %d decisions, case %s, zone %s", i, len(decs), c.Status, z.Status)
			}
		}
	}
	rep, err := audit.Verify(ctx, s)
	must(t, err)
	if !rep.OK {
		t.Errorf("audit chain after the crash: %+v", rep)
	}
	t.Logf("after the crash: %d transactions intact, audit %d entries ok", present, rep.Entries)
}
