package compliance

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/store"
)

// listedOrg is a made-up listed organisation with an optional website.
func listedOrg(id, name, website string) entity.Entity {
	e := entity.Entity{ID: id, Source: "ofac-sdn", List: "OFAC SDN", Kind: entity.Organization, Name: name,
		Names: []entity.Name{{Full: name, Type: entity.Primary, Strength: entity.Strong}}}
	if website != "" {
		e.Identifiers = []entity.Identifier{{Type: entity.Website, Value: website}}
	}
	return e
}

// rescreenWith re-screens against the shared list plus extra, as an
// import that added (or changed) the extra entities.
func rescreenWith(t *testing.T, c *Service, base *lists.Snapshot, extra []entity.Entity, changed bool) RescreenReport {
	t.Helper()
	next := &lists.Snapshot{Versions: base.Versions, Entities: append(slices.Clone(base.Entities), extra...)}
	var ids []string
	for _, e := range extra {
		ids = append(ids, e.ID)
	}
	d := lists.Diff{Added: ids}
	if changed {
		d = lists.Diff{Changed: ids}
	}
	rep, err := c.Rescreen(context.Background(), next, []lists.ImportResult{{Diff: d}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestCaseDeskRescreen: a re-screening hit on an account opens the
// account's case (every hold becomes work); its match is reviewed and
// whitelisted with a reason, and the case dismissed; the next re-screen
// against the same entry does not hold the account again, while a new,
// different entry does, with a new case. The same for a zone's website
// match. Reviews, assignment and comments are audited and appear in the
// case's timeline, which is read from the audit log.
func TestCaseDeskRescreen(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testCaseDeskRescreen(t, b.open(t)) })
	}
}

func testCaseDeskRescreen(t *testing.T, s store.Store) {
	ctx := context.Background()
	scr := sharedScreening(t)
	c := newService(t, s, scr, config.OnHitReview)
	ls, err := lists.Open("", []string{ofac2023})
	if err != nil {
		t.Fatal(err)
	}
	base := ls.Snapshot()
	acc, err := c.CreateAccount(ctx, AccountInput{Name: "Quiet Meadow Bakery", Kind: "organization", Country: "NL"}, "tok_admin")
	if err != nil || acc.Status != store.AccountActive {
		t.Fatalf("onboarding: %+v %v", acc, err)
	}
	owner, err := c.CreateAccount(ctx, AccountInput{Name: "Harbour Lights Hosting", Kind: "organization"}, "tok_admin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"account_id": owner.ID, "host": "www.harbourlights.example", "origins": []string{"http://127.0.0.1:9"}})
	zr, err := c.CreateZone(ctx, body, "tok_admin")
	if err != nil || zr.Status != store.ZoneActive {
		t.Fatalf("zone: %+v %v", zr, err)
	}

	// 1. A re-screening hit holds the account and opens its case.
	entA := listedOrg("ofac-sdn:990001", "QUIET MEADOW BAKERY", "")
	entZ := listedOrg("ofac-sdn:990002", "HARBOUR FRONT TRADING", "harbourlights.example")
	rep := rescreenWith(t, c, base, []entity.Entity{entA, entZ}, false)
	if !slices.Contains(rep.AccountHits, acc.ID) || !slices.Contains(rep.ZoneHits, zr.ID) {
		t.Fatalf("hits: accounts %v zones %v", rep.AccountHits, rep.ZoneHits)
	}
	accCase, err := s.FindActiveCase(ctx, AccountCaseHost(acc.ID), store.CategorySanctions)
	if err != nil || accCase.Origin != store.OriginScreening || !slices.Contains(rep.Cases, accCase.ID) {
		t.Fatalf("the re-screen hold opened no account case: %+v %v (report cases %v)", accCase, err, rep.Cases)
	}
	zoneCase, err := s.FindActiveCase(ctx, zr.Host, store.CategorySanctions)
	if err != nil {
		t.Fatal(err)
	}
	// A second hit joins the open case and marks the detection.
	rep2 := rescreenWith(t, c, base, []entity.Entity{entA}, true)
	again, _ := s.GetCase(ctx, accCase.ID)
	if !slices.Contains(rep2.Cases, accCase.ID) || !again.LastReport.After(accCase.LastReport) || again.Status != store.CaseOpen {
		t.Fatalf("second hit: cases %v, case %+v", rep2.Cases, again)
	}
	if cs, _ := s.ListCases(ctx, store.CaseFilter{Host: AccountCaseHost(acc.ID)}); len(cs) != 1 {
		t.Fatalf("%d account cases after two hits, want 1", len(cs))
	}

	// 2. Reviews: validation, unknown match, then whitelist with reason.
	for _, tc := range []struct {
		name, match, subject, verdict, reason string
		want                                  error
	}{
		{"whitelist without reason", entA.ID, "", store.VerdictWhitelisted, "  ", ErrInvalid},
		{"unknown verdict", entA.ID, "", "maybe", "", ErrInvalid},
		{"bad subject", entA.ID, "host", store.VerdictConfirmed, "", ErrInvalid},
		{"a match the case lacks", "ofac-sdn:1", "", store.VerdictConfirmed, "", store.ErrNotFound},
		{"the zone's match on the account's case", entZ.ID, "", store.VerdictNoMatch, "", store.ErrNotFound},
		{"control characters", entA.ID, "", store.VerdictNoMatch, "a\x00b", ErrInvalid},
	} {
		if _, err := c.ReviewMatch(ctx, accCase.ID, tc.match, tc.subject, tc.verdict, tc.reason, "tok_officer"); !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := c.ReviewMatch(ctx, "case_missing", entA.ID, "", store.VerdictConfirmed, "", "tok_officer"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("review on a missing case: %v", err)
	}
	if _, err := c.ReviewMatch(ctx, accCase.ID, entA.ID, "", store.VerdictConfirmed, "", "tok_officer"); err != nil {
		t.Fatal(err)
	}
	r, err := c.ReviewMatch(ctx, accCase.ID, entA.ID, store.SubjectAccount, store.VerdictWhitelisted, "a Dutch bakery, not the listed firm: KvK 1234", "tok_officer")
	if err != nil || r.SubjectType != store.SubjectAccount || r.SubjectID != acc.ID || r.Actor != "tok_officer" {
		t.Fatalf("whitelist: %+v %v", r, err)
	}
	zr2, err := c.ReviewMatch(ctx, zoneCase.ID, entZ.ID, "", store.VerdictWhitelisted, "the domain was re-registered by the customer", "tok_officer")
	if err != nil || zr2.SubjectType != store.SubjectZone || zr2.SubjectID != zr.ID {
		t.Fatalf("zone whitelist: %+v %v", zr2, err)
	}

	// 3. Assignee and comments.
	if _, err := c.AssignCase(ctx, accCase.ID, strings.Repeat("x", store.MaxAssignee+1), "tok_officer"); !errors.Is(err, ErrInvalid) {
		t.Errorf("long assignee: %v", err)
	}
	if _, err := c.AssignCase(ctx, accCase.ID, "Dana\nEve", "tok_officer"); !errors.Is(err, ErrInvalid) {
		t.Errorf("two-line assignee: %v", err)
	}
	got, err := c.AssignCase(ctx, accCase.ID, " Dana Officer ", "tok_officer")
	if err != nil || got.Assignee != "Dana Officer" {
		t.Fatalf("assign: %+v %v", got, err)
	}
	if _, err := c.CommentCase(ctx, accCase.ID, "  ", "tok_officer", "Dana"); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty comment: %v", err)
	}
	if _, err := c.CommentCase(ctx, "case_missing", "x", "tok_officer", "Dana"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("comment on a missing case: %v", err)
	}
	cm, err := c.CommentCase(ctx, accCase.ID, "Checked the chamber of commerce extract.", "tok_officer", "Dana")
	if err != nil || cm.Author != "tok_officer" || cm.AuthorName != "Dana" {
		t.Fatalf("comment: %+v %v", cm, err)
	}
	if _, _, err := c.Decide(ctx, accCase.ID, store.ActionDismiss, "namesake, whitelisted", "tok_officer"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Decide(ctx, zoneCase.ID, store.ActionDismiss, "re-registered domain, whitelisted", "tok_officer"); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.GetAccount(ctx, acc.ID); a.Status != store.AccountActive {
		t.Fatalf("account after dismissal: %s", a.Status)
	}

	// 4. The timeline is the audit log's, with sequence numbers.
	tl, err := c.CaseTimeline(ctx, accCase.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Reviews) != 2 || tl.Reviews[1].Verdict != store.VerdictWhitelisted || len(tl.Comments) != 1 || tl.Case.Assignee != "Dana Officer" {
		t.Fatalf("timeline records: reviews %+v comments %+v", tl.Reviews, tl.Comments)
	}
	kinds := map[string]audit.Entry{}
	var last int64
	for _, e := range tl.Events {
		if e.Seq <= last {
			t.Errorf("event %d after %d", e.Seq, last)
		}
		last = e.Seq
		kinds[e.Kind] = audit.Entry{Seq: e.Seq, Actor: e.Actor, Subject: e.Subject}
	}
	for _, k := range []string{audit.ActionAccountCreate, audit.ActionScreeningRun, audit.ActionCaseOpen, ActionCaseReview, ActionCaseAssign, ActionCaseComment, audit.ActionCaseDecision, audit.ActionAccountUpdate} {
		if _, ok := kinds[k]; !ok {
			t.Errorf("timeline lacks %s: %+v", k, tl.Events)
		}
	}
	if e := kinds[ActionCaseReview]; e.Actor != "tok_officer" || e.Subject != "case:"+accCase.ID {
		t.Errorf("review entry %+v", e)
	}
	var review map[string]any
	for ev, err := range s.Entries(ctx, kinds[ActionCaseReview].Seq) {
		if err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(ev.Data, &review)
		break
	}
	if review["match_id"] != entA.ID || review["verdict"] != store.VerdictWhitelisted || review["case_id"] != accCase.ID || review["reason"] == "" {
		t.Errorf("review audit data %v", review)
	}
	for _, e := range tl.Events {
		if strings.Contains(e.Text, "another") {
			t.Errorf("foreign event %+v", e)
		}
	}

	// 5. The same entries again: whitelisted, so nothing is held.
	rep3 := rescreenWith(t, c, base, []entity.Entity{entA, entZ}, true)
	if len(rep3.AccountHits) != 0 || len(rep3.ZoneHits) != 0 || len(rep3.Cases) != 0 {
		t.Fatalf("whitelisted matches held again: %+v", rep3)
	}
	if a, _ := s.GetAccount(ctx, acc.ID); a.Status != store.AccountActive {
		t.Errorf("account %s after the whitelisted re-screen", a.Status)
	}
	if got := zoneStatus(t, s, zr.ID); got != store.ZoneActive {
		t.Errorf("zone %s after the whitelisted re-screen", got)
	}
	// The zone gate on an update keeps the whitelist too.
	if z, err := c.UpdateZone(ctx, zr.ID, json.RawMessage(`{"origins": ["http://127.0.0.1:10"]}`), "tok_admin"); err != nil || z.Status != store.ZoneActive {
		t.Errorf("zone update after the whitelist: %+v %v", z, err)
	}

	// 6. A new, different entry still holds the account, in a new case.
	entB := listedOrg("ofac-sdn:990003", "QUIET MEADOW BAKERY", "")
	rep4 := rescreenWith(t, c, base, []entity.Entity{entA, entB}, false)
	if !slices.Equal(rep4.AccountHits, []string{acc.ID}) {
		t.Fatalf("new entry: hits %v", rep4.AccountHits)
	}
	scs, _ := s.Screenings(ctx, store.SubjectAccount, acc.ID, 1)
	if len(scs) != 1 || !strings.Contains(string(scs[0].Matches), entB.ID) || strings.Contains(string(scs[0].Matches), entA.ID) {
		t.Fatalf("new hit's matches %s, want %s only", scs[0].Matches, entB.ID)
	}
	next, err := s.FindActiveCase(ctx, AccountCaseHost(acc.ID), store.CategorySanctions)
	if err != nil || next.ID == accCase.ID {
		t.Fatalf("new hit's case %+v %v", next, err)
	}
	// A later verdict on the pair lifts the whitelist.
	if _, err := c.ReviewMatch(ctx, accCase.ID, entA.ID, "", store.VerdictConfirmed, "new evidence", "tok_officer"); err != nil {
		t.Fatal(err)
	}
	if wl, _ := s.Whitelist(ctx, store.SubjectAccount, acc.ID); len(wl) != 0 {
		t.Errorf("whitelist after a confirmed verdict: %+v", wl)
	}
}

// TestRescreenRemovalOpensAccountCase: a blocked account whose last
// screening matched an entity the list drops goes to review for a human
// to clear, with its case opened in the same transaction.
func TestRescreenRemovalOpensAccountCase(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			c := newService(t, s, sharedScreening(t), config.OnHitReview)
			acc := store.Account{ID: "acc_removed", Name: "Delisted Trading FZE", Kind: store.KindOrganization, Status: store.AccountBlocked, Screening: json.RawMessage(`{}`)}
			if err := s.InsertAccounts(ctx, []store.Account{acc}); err != nil {
				t.Fatal(err)
			}
			if err := s.AddScreening(ctx, &store.Screening{SubjectType: store.SubjectAccount, SubjectID: acc.ID, Result: store.AccountBlocked,
				Matches: json.RawMessage(`[{"id":"ofac-sdn:990010","name":"DELISTED TRADING FZE"}]`)}); err != nil {
				t.Fatal(err)
			}
			ls, err := lists.Open("", []string{ofac2023})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := c.Rescreen(ctx, ls.Snapshot(), []lists.ImportResult{{Diff: lists.Diff{Removed: []string{"ofac-sdn:990010"}}}})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rep.ClearedForReview, []string{acc.ID}) || len(rep.Cases) != 1 {
				t.Fatalf("report %+v", rep)
			}
			if a, _ := s.GetAccount(ctx, acc.ID); a.Status != store.AccountReview {
				t.Errorf("account %s, want review", a.Status)
			}
			cs, err := s.FindActiveCase(ctx, AccountCaseHost(acc.ID), store.CategorySanctions)
			if err != nil || cs.ID != rep.Cases[0] || !strings.Contains(cs.Summary, "removed from the list") {
				t.Fatalf("case %+v %v", cs, err)
			}
		})
	}
}
