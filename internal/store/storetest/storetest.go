// Package storetest is the conformance suite every store.Store must pass:
// the same tests run against SQLite and against a real PostgreSQL. It also
// holds the crash test (a child process killed with SIGKILL in the middle
// of transactional writes) and the bulk benchmark.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/token"
)

// RawExecer is implemented by stores that can run raw SQL ("?"
// placeholders); the tampering tests need it to play the attacker.
type RawExecer interface {
	RawExec(ctx context.Context, query string, args ...any) error
}

// Run runs the conformance suite. open must return a fresh, empty, migrated
// store for each call and arrange its cleanup with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Accounts", testAccounts},
		{"Zones", testZones},
		{"Screenings", testScreenings},
		{"CreateWithScreening", testCreateWithScreening},
		{"TxRollback", testTxRollback},
		{"ScreenedVersions", testScreenedVersions},
		{"ReportsAndCases", testReportsAndCases},
		{"Decisions", testDecisions},
		{"CaseDesk", testCaseDesk},
		{"ConcurrentReportsAndDecisions", testConcurrentCases},
		{"Tokens", testTokens},
		{"BulkIterateAndStatuses", testBulk},
		{"AuditAppendVerify", testAuditAppend},
		{"AuditConcurrentAppends", testAuditConcurrent},
		{"AuditTampering", testAuditTampering},
		{"AuditExportRoundTrip", testAuditExport},
		{"AuditTenThousand", testAuditTenThousand},
		{"StateVersion", testStateVersion},
		{"Nodes", testNodes},
		{"TicketKeys", testTicketKeys},
		{"TicketKeysConcurrentRotation", testTicketKeysConcurrent},
		{"ListVersions", testListVersions},
		{"Leases", testLeases},
		{"Traffic", testTraffic},
		{"DashboardSessions", testSessions},
		{"SecurityEvents", testSecurityEvents},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

// jsonEq compares two JSON texts by value (PostgreSQL's jsonb reformats).
func jsonEq(t *testing.T, field string, got, want json.RawMessage) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %q is not JSON: %v", field, got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: want %q is not JSON: %v", field, want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("%s = %s, want %s", field, got, want)
	}
}

func verifyOK(t *testing.T, s store.Store, entries int) audit.Report {
	t.Helper()
	rep, err := audit.Verify(ctxT(t), s)
	must(t, err)
	if !rep.OK || rep.Entries != entries {
		t.Fatalf("Verify = %+v, want OK with %d entries", rep, entries)
	}
	return rep
}

func testAccounts(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	a := store.Account{Name: "Acme Trading LLC", Kind: store.KindOrganization, Country: "DE",
		Address: "Hauptstraße 1, Berlin", Email: "ops@acme.example"}
	must(t, s.CreateAccount(ctx, &a))
	if a.ID == "" || a.Status != store.AccountActive || a.Created.IsZero() {
		t.Fatalf("CreateAccount did not fill defaults: %+v", a)
	}
	got, err := s.GetAccount(ctx, a.ID)
	must(t, err)
	if got.Name != a.Name || got.Address != a.Address || got.Kind != a.Kind || !got.Created.Equal(a.Created) || !got.Updated.Equal(a.Updated) {
		t.Errorf("GetAccount = %+v, want %+v", got, a)
	}
	jsonEq(t, "screening", got.Screening, json.RawMessage(`{}`))

	got.Status = store.AccountReview
	got.Screening = json.RawMessage(`{"result": "review", "matches": 2}`)
	must(t, s.UpdateAccount(ctx, &got))
	again, err := s.GetAccount(ctx, a.ID)
	must(t, err)
	if again.Status != store.AccountReview || !again.Created.Equal(a.Created) {
		t.Errorf("after update: %+v", again)
	}
	jsonEq(t, "screening", again.Screening, got.Screening)

	_, err = s.GetAccount(ctx, "acc_missing")
	wantErr(t, err, store.ErrNotFound)
	missing := store.Account{ID: "acc_missing", Name: "x", Kind: store.KindPerson, Status: store.AccountActive}
	wantErr(t, s.UpdateAccount(ctx, &missing), store.ErrNotFound)

	bad := []struct {
		name string
		a    store.Account
	}{
		{"no name", store.Account{Kind: store.KindPerson}},
		{"bad kind", store.Account{Name: "x", Kind: "vessel"}},
		{"bad status", store.Account{Name: "x", Kind: store.KindPerson, Status: "gone"}},
		{"screening not object", store.Account{Name: "x", Kind: store.KindPerson, Screening: json.RawMessage(`[1]`)}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, s.CreateAccount(ctx, &tc.a), store.ErrInvalid)
		})
	}
	dup := store.Account{ID: a.ID, Name: "dup", Kind: store.KindPerson}
	wantErr(t, s.CreateAccount(ctx, &dup), store.ErrConflict)

	b := store.Account{Name: "Beta Person", Kind: store.KindPerson, Status: store.AccountBlocked}
	must(t, s.CreateAccount(ctx, &b))
	for _, tc := range []struct {
		name string
		f    store.AccountFilter
		want []string
	}{
		{"all", store.AccountFilter{}, []string{"Acme Trading LLC", "Beta Person"}},
		{"status", store.AccountFilter{Status: store.AccountBlocked}, []string{"Beta Person"}},
		{"kind", store.AccountFilter{Kind: store.KindOrganization}, []string{"Acme Trading LLC"}},
		{"page", store.AccountFilter{Limit: 1, Offset: 1}, []string{"Beta Person"}},
	} {
		t.Run("list "+tc.name, func(t *testing.T) {
			list, err := s.ListAccounts(ctx, tc.f)
			must(t, err)
			var names []string
			for _, a := range list {
				names = append(names, a.Name)
			}
			if !slices.Equal(names, tc.want) {
				t.Errorf("ListAccounts(%+v) = %v, want %v", tc.f, names, tc.want)
			}
		})
	}
}

func testZones(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	a := store.Account{Name: "Zone Owner", Kind: store.KindPerson}
	must(t, s.CreateAccount(ctx, &a))
	z := store.Zone{AccountID: a.ID, Host: "www.example.org", Aliases: json.RawMessage(`["example.org"]`),
		Origins: json.RawMessage(`["http://127.0.0.1:3000"]`), Settings: json.RawMessage(`{"cache":{"enabled":true}}`)}
	must(t, s.CreateZone(ctx, &z))
	if z.Status != store.ZoneActive || z.Source != store.SourceAPI {
		t.Fatalf("defaults: %+v", z)
	}
	cfgZone := store.Zone{Host: "config.example.org", Source: store.SourceConfig, Status: store.ZoneReview}
	must(t, s.CreateZone(ctx, &cfgZone))

	got, err := s.GetZoneByHost(ctx, "www.example.org")
	must(t, err)
	if got.ID != z.ID || got.AccountID != a.ID {
		t.Errorf("GetZoneByHost = %+v", got)
	}
	jsonEq(t, "aliases", got.Aliases, z.Aliases)
	jsonEq(t, "settings", got.Settings, z.Settings)
	jsonEq(t, "reasons", got.Reasons, json.RawMessage(`[]`))
	c, err := s.GetZone(ctx, cfgZone.ID)
	must(t, err)
	if c.AccountID != "" || c.Source != store.SourceConfig || c.Status != store.ZoneReview {
		t.Errorf("config zone = %+v", c)
	}

	dup := store.Zone{Host: "www.example.org"}
	wantErr(t, s.CreateZone(ctx, &dup), store.ErrConflict)
	orphan := store.Zone{Host: "orphan.example.org", AccountID: "acc_nope"}
	if err := s.CreateZone(ctx, &orphan); err == nil {
		t.Error("a zone with an unknown account was accepted (foreign keys off?)")
	}
	badZone := store.Zone{Host: "bad.example.org", Status: "live"}
	wantErr(t, s.CreateZone(ctx, &badZone), store.ErrInvalid)

	list, err := s.ListZones(ctx, store.ZoneFilter{})
	must(t, err)
	if len(list) != 2 || list[0].Host != "config.example.org" || list[1].Host != "www.example.org" {
		t.Errorf("ListZones = %v", hosts(list))
	}
	list, err = s.ListZones(ctx, store.ZoneFilter{AccountID: a.ID})
	must(t, err)
	if len(list) != 1 || list[0].ID != z.ID {
		t.Errorf("ListZones(account) = %v", hosts(list))
	}
	list, err = s.ListZones(ctx, store.ZoneFilter{Status: store.ZoneReview, Source: store.SourceConfig})
	must(t, err)
	if len(list) != 1 || list[0].ID != cfgZone.ID {
		t.Errorf("ListZones(review, config) = %v", hosts(list))
	}

	got.Status = store.ZoneSuspended
	got.Reasons = json.RawMessage(`[{"case_id":"case_1"}]`)
	must(t, s.UpdateZone(ctx, &got))
	again, err := s.GetZone(ctx, z.ID)
	must(t, err)
	if again.Status != store.ZoneSuspended {
		t.Errorf("status after update = %s", again.Status)
	}
	jsonEq(t, "reasons", again.Reasons, got.Reasons)

	// A case about the zone outlives it, keeping the host.
	cs := store.Case{ZoneID: z.ID, Host: z.Host, Category: store.CategoryAbuse}
	must(t, s.CreateCase(ctx, &cs))
	must(t, s.DeleteZone(ctx, z.ID))
	_, err = s.GetZone(ctx, z.ID)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteZone(ctx, z.ID), store.ErrNotFound)
	kept, err := s.GetCase(ctx, cs.ID)
	must(t, err)
	if kept.ZoneID != "" || kept.Host != z.Host {
		t.Errorf("case after zone delete = %+v", kept)
	}
}

func hosts(zs []store.Zone) []string {
	var out []string
	for _, z := range zs {
		out = append(out, z.Host)
	}
	return out
}

func testScreenings(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	base := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	for i := range 3 {
		sc := store.Screening{SubjectType: store.SubjectAccount, SubjectID: "acc_1", Result: "active",
			Lists: json.RawMessage(`{"ofac-sdn":"2024-05-03"}`), Matches: json.RawMessage(fmt.Sprintf(`[{"n":%d}]`, i)),
			Created: base.Add(time.Duration(i) * time.Minute), Actor: "system"}
		must(t, s.AddScreening(ctx, &sc))
	}
	other := store.Screening{SubjectType: store.SubjectZone, SubjectID: "acc_1", Result: "active"}
	must(t, s.AddScreening(ctx, &other))
	got, err := s.Screenings(ctx, store.SubjectAccount, "acc_1", 0)
	must(t, err)
	if len(got) != 3 {
		t.Fatalf("got %d screenings, want 3", len(got))
	}
	if !got[0].Created.Equal(base.Add(2*time.Minute)) || !got[2].Created.Equal(base) {
		t.Errorf("not newest first or times changed: %v, %v", got[0].Created, got[2].Created)
	}
	jsonEq(t, "matches", got[0].Matches, json.RawMessage(`[{"n":2}]`))
	bad := store.Screening{SubjectType: "user", SubjectID: "x", Result: "active"}
	wantErr(t, s.AddScreening(ctx, &bad), store.ErrInvalid)
}

func testCreateWithScreening(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	a := store.Account{Name: "Clean Person", Kind: store.KindPerson, Country: "FR"}
	sc := store.Screening{Result: store.AccountActive, Lists: json.RawMessage(`{"ofac-sdn":"v1"}`), Matches: json.RawMessage(`[]`)}
	must(t, store.CreateAccountWithScreening(ctx, s, &a, &sc, "tok1"))
	got, err := s.GetAccount(ctx, a.ID)
	must(t, err)
	var sum map[string]any
	must(t, json.Unmarshal(got.Screening, &sum))
	if sum["screening_id"] != sc.ID || sum["result"] != "active" {
		t.Errorf("account screening summary = %s", got.Screening)
	}
	scs, err := s.Screenings(ctx, store.SubjectAccount, a.ID, 0)
	must(t, err)
	if len(scs) != 1 || scs[0].ID != sc.ID || scs[0].Actor != "tok1" {
		t.Errorf("screenings = %+v", scs)
	}

	z := store.Zone{AccountID: a.ID, Host: "shop.example.com", Status: store.ZoneReview, Reasons: json.RawMessage(`["possible match"]`)}
	zsc := store.Screening{Result: store.ZoneReview, Matches: json.RawMessage(`[{"id":"ofac-sdn:1"}]`)}
	must(t, store.CreateZoneWithScreening(ctx, s, &z, &zsc, "tok1"))
	if _, err := s.GetZone(ctx, z.ID); err != nil {
		t.Fatal(err)
	}
	rep := verifyOK(t, s, 4)
	var actions []string
	for e, err := range s.Entries(ctx, 1) {
		must(t, err)
		actions = append(actions, e.Action)
		if e.Actor != "tok1" {
			t.Errorf("entry %d actor = %q", e.Seq, e.Actor)
		}
	}
	want := []string{audit.ActionAccountCreate, audit.ActionScreeningRun, audit.ActionZoneCreate, audit.ActionScreeningRun}
	if !slices.Equal(actions, want) {
		t.Errorf("audit actions = %v, want %v", actions, want)
	}

	// A zone whose host is taken leaves nothing behind: no screening, no
	// audit entry.
	dup := store.Zone{Host: "shop.example.com"}
	dsc := store.Screening{Result: store.ZoneActive}
	wantErr(t, store.CreateZoneWithScreening(ctx, s, &dup, &dsc, "tok1"), store.ErrConflict)
	scs, err = s.Screenings(ctx, store.SubjectZone, dup.ID, 0)
	must(t, err)
	if len(scs) != 0 {
		t.Errorf("failed create left %d screenings", len(scs))
	}
	if r := verifyOK(t, s, 4); r.Head != rep.Head {
		t.Errorf("failed create moved the audit head")
	}
}

func testTxRollback(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	boom := errors.New("boom")
	var id string
	err := s.Tx(ctx, func(tx store.Tx) error {
		a := store.Account{Name: "Rolled Back", Kind: store.KindPerson}
		if err := tx.CreateAccount(ctx, &a); err != nil {
			return err
		}
		id = a.ID
		if _, err := tx.Append(ctx, audit.Event{Actor: "system", Action: "account.create", Subject: "account:" + a.ID}); err != nil {
			return err
		}
		// Reads inside the transaction see its own writes.
		if _, err := tx.GetAccount(ctx, a.ID); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, err, boom)
	_, err = s.GetAccount(ctx, id)
	wantErr(t, err, store.ErrNotFound)
	head, err := s.Head(ctx)
	must(t, err)
	if head.Seq != 0 {
		t.Errorf("rolled-back append left the head at %d", head.Seq)
	}
	verifyOK(t, s, 0)
}

// testScreenedVersions checks the record of list versions screened
// against: empty at first, upserted per source, rolled back with its
// transaction, and empty names refused.
func testScreenedVersions(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	got, err := s.ScreenedVersions(ctx)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("new store has screened versions %v", got)
	}
	must(t, s.SetScreenedVersions(ctx, map[string]string{"ofac-sdn": "aaa", "un": "bbb"}))
	must(t, s.SetScreenedVersions(ctx, map[string]string{"ofac-sdn": "ccc"}))
	boom := errors.New("boom")
	err = s.Tx(ctx, func(tx store.Tx) error {
		if err := tx.SetScreenedVersions(ctx, map[string]string{"un": "zzz", "uk": "yyy"}); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, err, boom)
	got, err = s.ScreenedVersions(ctx)
	must(t, err)
	if want := map[string]string{"ofac-sdn": "ccc", "un": "bbb"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("screened versions %v, want %v", got, want)
	}
	wantErr(t, s.SetScreenedVersions(ctx, map[string]string{"un": ""}), store.ErrInvalid)
}

func testReportsAndCases(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	z := store.Zone{Host: "bad.example.net"}
	must(t, s.CreateZone(ctx, &z))
	in := store.ReportInput{Host: "bad.example.net", Category: store.CategorySanctions, Description: "run by a listed party",
		EvidenceURLs: []string{"https://news.example/1"}, ReporterEmail: "a@example.org", ClientIP: "192.0.2.1"}
	c1, r1, err := store.RecordReport(ctx, s, in)
	must(t, err)
	if c1.ZoneID != z.ID || c1.ReportCount != 1 || c1.Status != store.CaseOpen || c1.Origin != store.OriginReport {
		t.Errorf("first report case = %+v", c1)
	}
	time.Sleep(2 * time.Millisecond)
	in.ReporterEmail, in.EvidenceURLs = "b@example.org", nil
	c2, _, err := store.RecordReport(ctx, s, in)
	must(t, err)
	if c2.ID != c1.ID || c2.ReportCount != 2 || !c2.Opened.Equal(c1.Opened) || !c2.LastReport.After(c1.Opened) {
		t.Errorf("second report case = %+v, want the same case counted twice, opened %v", c2, c1.Opened)
	}
	in.Category = store.CategoryAbuse
	c3, _, err := store.RecordReport(ctx, s, in)
	must(t, err)
	if c3.ID == c1.ID {
		t.Error("a report of another category joined the sanctions case")
	}
	unknown, _, err := store.RecordReport(ctx, s, store.ReportInput{Host: "not-a-zone.example", Category: store.CategoryOther})
	must(t, err)
	if unknown.ZoneID != "" {
		t.Errorf("case for an unknown host has zone %q", unknown.ZoneID)
	}

	tl, err := store.GetCaseTimeline(ctx, s, c1.ID)
	must(t, err)
	if tl.Case.ReportCount != 2 || len(tl.Reports) != 2 || tl.Reports[0].ID != r1.ID || tl.Reports[1].ReporterEmail != "b@example.org" {
		t.Errorf("timeline = %+v", tl)
	}
	jsonEq(t, "evidence", tl.Reports[0].EvidenceURLs, json.RawMessage(`["https://news.example/1"]`))
	jsonEq(t, "evidence", tl.Reports[1].EvidenceURLs, json.RawMessage(`[]`))

	open, err := s.ListCases(ctx, store.CaseFilter{Status: store.CaseOpen})
	must(t, err)
	if len(open) != 3 {
		t.Errorf("open cases = %d, want 3", len(open))
	}
	byHost, err := s.ListCases(ctx, store.CaseFilter{Host: "bad.example.net", Category: store.CategorySanctions})
	must(t, err)
	if len(byHost) != 1 || byHost[0].ID != c1.ID {
		t.Errorf("cases by host = %+v", byHost)
	}
	byZone, err := s.ListCases(ctx, store.CaseFilter{ZoneID: z.ID, Limit: 1})
	must(t, err)
	if len(byZone) != 1 {
		t.Errorf("limit 1 gave %d cases", len(byZone))
	}
	// The audit log keeps the report but not the reporter's personal data.
	for e, err := range s.Entries(ctx, 1) {
		must(t, err)
		if bytes.Contains(e.Data, []byte("a@example.org")) || bytes.Contains(e.Data, []byte("192.0.2.1")) {
			t.Errorf("audit entry %d holds personal data: %s", e.Seq, e.Data)
		}
	}
	verifyOK(t, s, 7) // 3 case.open + 4 report.create (2 on one case)

	sc, err := compliance.OpenScreeningCase(ctx, s, z.ID, z.Host, store.CategorySanctions, "new SDN entry", audit.ActorSystem)
	must(t, err)
	if sc.ID != c1.ID {
		t.Errorf("screening hit opened a second active case for the host")
	}
}

func testDecisions(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	z := store.Zone{Host: "decide.example.org"}
	must(t, s.CreateZone(ctx, &z))
	c, _, err := store.RecordReport(ctx, s, store.ReportInput{Host: z.Host, Category: store.CategorySanctions, Description: "x"})
	must(t, err)

	_, _, err = compliance.RecordDecision(ctx, s, c.ID, store.ActionSuspend, "", "tok1")
	wantErr(t, err, store.ErrInvalid)
	_, _, err = compliance.RecordDecision(ctx, s, c.ID, store.ActionReinstate, "not suspended", "tok1")
	wantErr(t, err, store.ErrConflict)
	_, _, err = compliance.RecordDecision(ctx, s, "case_missing", store.ActionSuspend, "r", "tok1")
	wantErr(t, err, store.ErrNotFound)
	before := verifyOK(t, s, 2)

	steps := []struct {
		action, caseStatus, zoneStatus string
	}{
		{store.ActionSuspend, store.CaseSuspended, store.ZoneSuspended},
		{store.ActionReinstate, store.CaseReinstated, store.ZoneActive},
		{store.ActionSuspend, store.CaseSuspended, store.ZoneSuspended},
	}
	for i, st := range steps {
		reason := fmt.Sprintf("step %d: %s", i+1, st.action)
		got, d, err := compliance.RecordDecision(ctx, s, c.ID, st.action, reason, "tok1")
		must(t, err)
		if got.Status != st.caseStatus || got.DecisionReason != reason || got.DecidedBy != "tok1" || !got.DecidedAt.Equal(d.Created) {
			t.Errorf("step %d: case = %+v", i+1, got)
		}
		zz, err := s.GetZone(ctx, z.ID)
		must(t, err)
		if zz.Status != st.zoneStatus {
			t.Errorf("step %d: zone status = %s, want %s", i+1, zz.Status, st.zoneStatus)
		}
	}
	_, _, err = compliance.RecordDecision(ctx, s, c.ID, store.ActionDismiss, "too late", "tok1")
	wantErr(t, err, store.ErrConflict)
	tl, err := store.GetCaseTimeline(ctx, s, c.ID)
	must(t, err)
	if len(tl.Decisions) != 3 || tl.Decisions[0].Action != store.ActionSuspend || tl.Decisions[1].Action != store.ActionReinstate {
		t.Errorf("decisions = %+v", tl.Decisions)
	}
	// Each decision that changes the zone appends case.decision and
	// zone.update.
	rep := verifyOK(t, s, 2+2*len(steps))
	if rep.Head == before.Head {
		t.Error("decisions were not audited")
	}

	// Dismissing an open case leaves the zone alone.
	z2 := store.Zone{Host: "dismiss.example.org"}
	must(t, s.CreateZone(ctx, &z2))
	c2, _, err := store.RecordReport(ctx, s, store.ReportInput{Host: z2.Host, Category: store.CategoryAbuse})
	must(t, err)
	got, _, err := compliance.RecordDecision(ctx, s, c2.ID, store.ActionDismiss, "not abuse", "tok2")
	must(t, err)
	if got.Status != store.CaseDismissed {
		t.Errorf("dismissed case status = %s", got.Status)
	}
	zz, err := s.GetZone(ctx, z2.ID)
	must(t, err)
	if zz.Status != store.ZoneActive {
		t.Errorf("dismiss changed the zone to %s", zz.Status)
	}
}

func testTokens(t *testing.T, s store.Store) {
	ts := &store.TokenStore{S: s, Actor: "cli"}
	plain, tok, err := ts.Create(token.Compliance, "alice")
	must(t, err)
	got, ok := ts.Verify(plain)
	if !ok || got.ID != tok.ID || got.Scope != token.Compliance || got.Note != "alice" {
		t.Fatalf("Verify(new token) = %+v, %v", got, ok)
	}
	id, secret, err := token.Parse(plain)
	must(t, err)
	wrong := []byte(secret)
	wrong[0] ^= 1
	if wrong[0] == '_' || wrong[0] == '-' {
		wrong[0] = 'A'
	}
	bad := []struct{ name, plain string }{
		{"wrong secret", token.Prefix + id + "_" + string(wrong)},
		{"unknown id", token.Prefix + "0123456789abcdef_" + secret},
		{"malformed", "rp_nope"},
		{"empty", ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := ts.Verify(tc.plain); ok {
				t.Errorf("Verify(%q) accepted", tc.plain)
			}
		})
	}
	plain2, _, err := ts.Create(token.Admin, "")
	must(t, err)
	list, err := ts.List()
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("List = %d tokens", len(list))
	}
	must(t, ts.Revoke(tok.ID))
	must(t, ts.Revoke(tok.ID)) // twice is fine
	if _, ok := ts.Verify(plain); ok {
		t.Error("revoked token still verifies")
	}
	if _, ok := ts.Verify(plain2); !ok {
		t.Error("other token stopped verifying")
	}
	wantErr(t, ts.Revoke("ffffffffffffffff"), token.ErrNotFound)
	list, err = ts.List()
	must(t, err)
	for _, l := range list {
		if (l.ID == tok.ID) == l.Revoked.IsZero() {
			t.Errorf("List after revoke = %+v", list)
		}
	}
	// Only the hash is stored.
	rec, err := s.GetToken(ctxT(t), tok.ID)
	must(t, err)
	if rec.Hash == secret || len(rec.Hash) != 64 {
		t.Errorf("stored hash = %q", rec.Hash)
	}
	verifyOK(t, s, 4) // 2 creates, 2 revokes
}

func testBulk(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	const n = 1234
	as := make([]store.Account, n)
	for i := range as {
		as[i] = store.Account{ID: fmt.Sprintf("acc_%06d", i), Name: fmt.Sprintf("Customer %d", i), Kind: store.KindPerson, Country: "NL"}
	}
	must(t, s.InsertAccounts(ctx, as))
	var ids []string
	for a, err := range s.Accounts(ctx) {
		must(t, err)
		ids = append(ids, a.ID)
	}
	if len(ids) != n || !slices.IsSorted(ids) {
		t.Fatalf("Accounts yielded %d ids (sorted %v), want %d sorted", len(ids), slices.IsSorted(ids), n)
	}
	// Breaking out of the loop early closes the cursor.
	count := 0
	for _, err := range s.Accounts(ctx) {
		must(t, err)
		count++
		if count == 10 {
			break
		}
	}
	// A duplicate in a bulk insert rolls back the whole batch.
	dupBatch := []store.Account{{ID: "acc_new", Name: "new", Kind: store.KindPerson}, {ID: "acc_000001", Name: "dup", Kind: store.KindPerson}}
	wantErr(t, s.InsertAccounts(ctx, dupBatch), store.ErrConflict)
	_, err := s.GetAccount(ctx, "acc_new")
	wantErr(t, err, store.ErrNotFound)

	var ups []store.StatusUpdate
	for i := 0; i < n; i += 2 {
		ups = append(ups, store.StatusUpdate{ID: fmt.Sprintf("acc_%06d", i), Status: store.AccountReview})
	}
	ups = append(ups, store.StatusUpdate{ID: "acc_unknown", Status: store.AccountBlocked})
	changed, err := compliance.ApplyStatuses(ctx, s, store.SubjectAccount, ups, "list update ofac-sdn 2024-05-03")
	must(t, err)
	if changed != (n+1)/2 {
		t.Errorf("SetStatuses changed %d rows, want %d", changed, (n+1)/2)
	}
	review := 0
	for a, err := range s.Accounts(ctx) {
		must(t, err)
		if a.Status == store.AccountReview {
			review++
		}
	}
	if review != (n+1)/2 {
		t.Errorf("%d accounts in review, want %d", review, (n+1)/2)
	}
	_, err = s.SetStatuses(ctx, store.SubjectAccount, []store.StatusUpdate{{ID: "acc_000001", Status: "suspended"}})
	wantErr(t, err, store.ErrInvalid)

	for i := range 3 {
		z := store.Zone{Host: fmt.Sprintf("z%d.example", i)}
		must(t, s.CreateZone(ctx, &z))
	}
	var zids []string
	for z, err := range s.Zones(ctx) {
		must(t, err)
		zids = append(zids, z.ID)
	}
	if len(zids) != 3 {
		t.Fatalf("Zones yielded %d", len(zids))
	}
	_, err = s.SetStatuses(ctx, store.SubjectZone, []store.StatusUpdate{
		{ID: zids[0], Status: store.ZoneReview, Reasons: json.RawMessage(`["possible match ofac-sdn:1"]`)},
		{ID: zids[1], Status: store.ZoneRejected},
	})
	must(t, err)
	z0, err := s.GetZone(ctx, zids[0])
	must(t, err)
	z1, err := s.GetZone(ctx, zids[1])
	must(t, err)
	if z0.Status != store.ZoneReview || z1.Status != store.ZoneRejected {
		t.Errorf("zone statuses = %s, %s", z0.Status, z1.Status)
	}
	jsonEq(t, "reasons", z0.Reasons, json.RawMessage(`["possible match ofac-sdn:1"]`))
	jsonEq(t, "reasons", z1.Reasons, json.RawMessage(`[]`))
}

func appendN(t *testing.T, s store.Store, n int) {
	t.Helper()
	ctx := ctxT(t)
	for i := range n {
		_, err := s.Append(ctx, audit.Event{Actor: "system", Action: "test.event", Subject: fmt.Sprintf("n:%d", i),
			Data: json.RawMessage(fmt.Sprintf(`{"i": %d, "text": "<b>caf\u00e9</b>\n", "nested": {"z": 1, "a": [true, null]}}`, i))})
		must(t, err)
	}
}

func testAuditAppend(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	verifyOK(t, s, 0)
	e1, err := s.Append(ctx, audit.Event{Actor: "system", Action: audit.ActionListImport, Subject: "list:ofac-sdn",
		Data: json.RawMessage(`{"version": "2024-05-03", "added": 1256}`)})
	must(t, err)
	if e1.Seq != 1 || e1.PrevHash != audit.GenesisHash || e1.Hash != audit.Hash(e1) {
		t.Fatalf("first entry = %+v", e1)
	}
	if string(e1.Data) != `{"added":1256,"version":"2024-05-03"}` {
		t.Errorf("data not canonical: %s", e1.Data)
	}
	e2, err := s.Append(ctx, audit.Event{Actor: "0123456789abcdef", Action: audit.ActionTokenUse})
	must(t, err)
	if e2.Seq != 2 || e2.PrevHash != e1.Hash {
		t.Fatalf("second entry = %+v", e2)
	}
	var got []audit.Entry
	for e, err := range s.Entries(ctx, 1) {
		must(t, err)
		got = append(got, e)
	}
	if len(got) != 2 || !got[0].Time.Equal(e1.Time) || got[0].Hash != e1.Hash || string(got[1].Data) != "{}" {
		t.Errorf("read back %+v", got)
	}
	rep := verifyOK(t, s, 2)
	if rep.Head != e2.Hash {
		t.Errorf("head = %s, want %s", rep.Head, e2.Hash)
	}
	bad := []audit.Event{
		{Action: "x"},
		{Actor: "a"},
		{Actor: "a", Action: "x", Data: json.RawMessage(`[1]`)},
		{Actor: "a", Action: "x", Data: json.RawMessage(`{"a":`)},
		{Actor: "a\nb", Action: "x"},
	}
	for i, ev := range bad {
		if _, err := s.Append(ctx, ev); err == nil {
			t.Errorf("bad event %d accepted", i)
		}
	}
	verifyOK(t, s, 2)
}

func testAuditConcurrent(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	const workers, each = 6, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each+1)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Half the appends join a transaction that also writes a row.
				var err error
				if i%2 == 0 {
					_, err = s.Append(ctx, audit.Event{Actor: "system", Action: "test.concurrent", Subject: fmt.Sprintf("w%d:%d", w, i)})
				} else {
					err = s.Tx(ctx, func(tx store.Tx) error {
						if _, err := tx.Append(ctx, audit.Event{Actor: "system", Action: "test.concurrent", Subject: fmt.Sprintf("w%d:%d", w, i)}); err != nil {
							return err
						}
						return tx.AddScreening(ctx, &store.Screening{SubjectType: store.SubjectAccount, SubjectID: fmt.Sprintf("w%d", w), Result: "active"})
					})
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	// Verify runs alongside the appenders and must never see a broken chain.
	done := make(chan struct{})
	verified := make(chan int)
	go func() {
		runs := 0
		defer func() { verified <- runs }()
		for {
			select {
			case <-done:
				return
			default:
			}
			rep, err := audit.Verify(ctx, s)
			if err != nil || !rep.OK {
				errs <- fmt.Errorf("verify during appends: %+v, %v", rep, err)
				return
			}
			runs++
		}
	}()
	wg.Wait()
	close(done)
	if runs := <-verified; runs == 0 {
		t.Error("verify never ran during the appends")
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for e, err := range s.Entries(ctx, 1) {
		must(t, err)
		if seen[e.Subject] {
			t.Errorf("subject %s appended twice", e.Subject)
		}
		seen[e.Subject] = true
	}
	if len(seen) != workers*each {
		t.Errorf("%d distinct entries, want %d", len(seen), workers*each)
	}
	verifyOK(t, s, workers*each)
}

func testAuditTampering(t *testing.T, s store.Store) {
	raw, ok := s.(RawExecer)
	if !ok {
		t.Fatalf("%T does not implement RawExecer", s)
	}
	ctx := ctxT(t)
	// Each case tampers, checks Verify's verdict, then undoes the change so
	// the next case starts from an intact log.
	appendN(t, s, 20)
	// The database refuses edits and deletions of entries...
	for _, q := range []string{`UPDATE audit_log SET actor = 'x' WHERE seq = 1`, `DELETE FROM audit_log WHERE seq = 20`, `DELETE FROM audit_head`} {
		if err := raw.RawExec(ctx, q); err == nil {
			t.Fatalf("%s was allowed on the append-only log", q)
		}
	}
	// ...until an attacker with DDL rights drops the triggers.
	DropAuditTriggers(t, s)
	rep := verifyOK(t, s, 20)
	var orig []audit.Entry
	for e, err := range s.Entries(ctx, 1) {
		must(t, err)
		orig = append(orig, e)
	}
	restore := func(t *testing.T, seqs ...int64) {
		t.Helper()
		for _, q := range seqs {
			e := orig[q-1]
			must(t, raw.RawExec(ctx, `DELETE FROM audit_log WHERE seq = ?`, q))
			must(t, raw.RawExec(ctx, `INSERT INTO audit_log (seq, time, actor, action, subject, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				e.Seq, audit.FormatTime(e.Time), e.Actor, e.Action, e.Subject, string(e.Data), e.PrevHash, e.Hash))
		}
		must(t, raw.RawExec(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, rep.Entries, rep.Head))
		verifyOK(t, s, 20)
	}
	cases := []struct {
		name     string
		tamper   []string
		args     [][]any
		firstBad int64
		restore  []int64
	}{
		{"edit data", []string{`UPDATE audit_log SET data = ? WHERE seq = 7`}, [][]any{{`{"i":6,"text":"nothing to see"}`}}, 7, []int64{7}},
		{"edit actor", []string{`UPDATE audit_log SET actor = 'someone' WHERE seq = 3`}, [][]any{nil}, 3, []int64{3}},
		{"edit time", []string{`UPDATE audit_log SET time = '2020-01-01T00:00:00.000000000Z' WHERE seq = 12`}, [][]any{nil}, 12, []int64{12}},
		{"change hash", []string{`UPDATE audit_log SET hash = ? WHERE seq = 5`}, [][]any{{audit.GenesisHash}}, 5, []int64{5}},
		{"edit and rehash one entry", []string{`UPDATE audit_log SET subject = 'n:x', hash = ? WHERE seq = 9`}, [][]any{{rehash(orig[8], "n:x")}}, 10, []int64{9}},
		{"delete a row", []string{`DELETE FROM audit_log WHERE seq = 11`}, [][]any{nil}, 11, []int64{11}},
		{"delete the tail", []string{`DELETE FROM audit_log WHERE seq >= 19`}, [][]any{nil}, 19, []int64{19, 20}},
		{"swap two rows' seq", []string{
			`UPDATE audit_log SET seq = 1000000 WHERE seq = 14`,
			`UPDATE audit_log SET seq = 14 WHERE seq = 15`,
			`UPDATE audit_log SET seq = 15 WHERE seq = 1000000`,
		}, [][]any{nil, nil, nil}, 14, []int64{14, 15}},
		{"insert an entry", []string{
			`UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 6`,
			`INSERT INTO audit_log (seq, time, actor, action, subject, data, prev_hash, hash) VALUES (6, ?, 'system', 'test.event', 'forged', '{}', ?, ?)`,
			`UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1006`,
		}, [][]any{nil, {audit.FormatTime(orig[4].Time), orig[4].Hash, forged(orig[4])}, nil}, 7, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i, q := range tc.tamper {
				must(t, raw.RawExec(ctx, q, tc.args[i]...))
			}
			got, err := audit.Verify(ctx, s)
			must(t, err)
			if got.OK || got.FirstBad != tc.firstBad || got.Problem == "" {
				t.Errorf("Verify after %s = %+v, want not OK at seq %d", tc.name, got, tc.firstBad)
			}
			if tc.restore == nil {
				// Undo the insertion: drop the forged row and shift back.
				must(t, raw.RawExec(ctx, `DELETE FROM audit_log WHERE seq = 6`))
				must(t, raw.RawExec(ctx, `UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 7`))
				must(t, raw.RawExec(ctx, `UPDATE audit_log SET seq = seq - 1001 WHERE seq >= 1007`))
				verifyOK(t, s, 20)
				return
			}
			restore(t, tc.restore...)
		})
	}
}

// rehash returns the hash e would have with another subject (an attacker
// who recomputes one entry's hash still breaks the next link).
func rehash(e audit.Entry, subject string) string {
	e.Subject = subject
	return audit.Hash(e)
}

// forged returns the hash of a forged entry inserted after prev.
func forged(prev audit.Entry) string {
	return audit.Hash(audit.Entry{Seq: 6, Time: prev.Time, Actor: "system", Action: "test.event", Subject: "forged",
		Data: json.RawMessage("{}"), PrevHash: prev.Hash})
}

func testAuditExport(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	appendN(t, s, 30)
	rep := verifyOK(t, s, 30)
	var buf bytes.Buffer
	n, err := audit.Export(ctx, s, &buf, 1)
	must(t, err)
	if n != 30 || bytes.Count(buf.Bytes(), []byte("\n")) != 30 {
		t.Fatalf("exported %d entries, %d lines", n, bytes.Count(buf.Bytes(), []byte("\n")))
	}
	back, err := audit.VerifyEntries(audit.ReadJSONL(bytes.NewReader(buf.Bytes())))
	must(t, err)
	if !back.OK || back.Entries != 30 || back.Head != rep.Head {
		t.Errorf("verify of the export = %+v, want head %s", back, rep.Head)
	}
	var i int64
	for e, err := range audit.ReadJSONL(bytes.NewReader(buf.Bytes())) {
		must(t, err)
		i++
		if e.Seq != i || e.Hash != audit.Hash(e) {
			t.Errorf("exported entry %d = %+v", i, e)
		}
	}
	var tail bytes.Buffer
	n, err = audit.Export(ctx, s, &tail, 26)
	must(t, err)
	if n != 5 {
		t.Errorf("export from 26 gave %d entries", n)
	}
	// An edited export line is caught offline too.
	edited := bytes.Replace(buf.Bytes(), []byte(`"i":3,`), []byte(`"i":4,`), 1)
	bad, err := audit.VerifyEntries(audit.ReadJSONL(bytes.NewReader(edited)))
	must(t, err)
	if bad.OK || bad.FirstBad != 4 {
		t.Errorf("verify of an edited export = %+v, want bad at 4", bad)
	}
}

func testAuditTenThousand(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	const n = 10000
	// Appends in batches of 500 per transaction keep this test quick; each
	// append still goes through the head lock.
	for start := 0; start < n; start += 500 {
		must(t, s.Tx(ctx, func(tx store.Tx) error {
			for i := start; i < start+500; i++ {
				if _, err := tx.Append(ctx, audit.Event{Actor: "system", Action: "test.bulk", Subject: fmt.Sprintf("n:%d", i),
					Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	rep := verifyOK(t, s, n)
	head, err := s.Head(ctx)
	must(t, err)
	if head.Seq != n || head.Hash != rep.Head {
		t.Errorf("head = %+v, report head %s", head, rep.Head)
	}
}

func testConcurrentCases(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	z := store.Zone{Host: "busy.example.org"}
	must(t, s.CreateZone(ctx, &z))
	const workers, each = 6, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if _, _, err := store.RecordReport(ctx, s, store.ReportInput{Host: z.Host, Category: store.CategorySanctions}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	cs, err := s.ListCases(ctx, store.CaseFilter{Host: z.Host})
	must(t, err)
	if len(cs) != 1 || cs[0].ReportCount != workers*each {
		t.Fatalf("concurrent reports made %d cases (first counts %d), want 1 counting %d", len(cs), cs[0].ReportCount, workers*each)
	}
	reps, err := s.Reports(ctx, cs[0].ID)
	must(t, err)
	if len(reps) != workers*each {
		t.Errorf("%d report rows, want %d", len(reps), workers*each)
	}

	// Of several concurrent suspensions of one open case exactly one wins.
	results := make(chan error, workers)
	for i := range workers {
		go func() {
			_, _, err := compliance.RecordDecision(ctx, s, cs[0].ID, store.ActionSuspend, fmt.Sprintf("reviewer %d", i), "tok")
			results <- err
		}()
	}
	won := 0
	for range workers {
		err := <-results
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("losing decision error = %v, want ErrConflict", err)
		}
	}
	if won != 1 {
		t.Errorf("%d concurrent suspensions succeeded, want 1", won)
	}
	tl, err := store.GetCaseTimeline(ctx, s, cs[0].ID)
	must(t, err)
	if len(tl.Decisions) != 1 {
		t.Errorf("%d decisions recorded, want 1", len(tl.Decisions))
	}
	verifyOK(t, s, 1+workers*each+2) // the winning decision: case.decision and zone.update
}

// DropAuditTriggers removes the append-only triggers (migration 002), as
// an attacker with DDL rights could, so that a test can tamper with the log.
func DropAuditTriggers(t *testing.T, s store.Store) {
	t.Helper()
	raw, ok := s.(RawExecer)
	if !ok {
		t.Fatalf("%T does not implement RawExecer", s)
	}
	var qs []string
	switch s.Dialect() {
	case "sqlite":
		qs = []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`, `DROP TRIGGER audit_head_no_delete`}
	case "postgres":
		qs = []string{`DROP TRIGGER audit_log_append_only ON audit_log`, `DROP TRIGGER audit_log_no_truncate ON audit_log`,
			`DROP TRIGGER audit_head_no_delete ON audit_head`}
	default:
		t.Fatalf("unknown dialect %q", s.Dialect())
	}
	for _, q := range qs {
		must(t, raw.RawExec(context.Background(), q))
	}
}
