package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/store"
)

// testCaseDesk checks the case desk's records (issue 15): assignee and
// its filters, comments, match reviews with the whitelist they keep, and
// the audit entries of a case's subjects.
func testCaseDesk(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	z := store.Zone{Host: "desk.example.org"}
	must(t, s.CreateZone(ctx, &z))
	c, _, err := store.RecordReport(ctx, s, store.ReportInput{Host: z.Host, Category: store.CategorySanctions, Description: "x"})
	must(t, err)
	c2, _, err := store.RecordReport(ctx, s, store.ReportInput{Host: "other.example.org", Category: store.CategoryAbuse, Description: "y"})
	must(t, err)

	// Assignee: stored, kept by other updates, filtered on.
	c.Assignee = "Dana Officer"
	must(t, s.UpdateCase(ctx, &c))
	got, err := s.GetCase(ctx, c.ID)
	must(t, err)
	if got.Assignee != "Dana Officer" {
		t.Fatalf("assignee = %q", got.Assignee)
	}
	got.Summary = "touched"
	must(t, s.UpdateCase(ctx, &got))
	if again, _ := s.GetCase(ctx, c.ID); again.Assignee != "Dana Officer" {
		t.Errorf("an update lost the assignee: %q", again.Assignee)
	}
	tooLong := got
	tooLong.Assignee = strings.Repeat("a", store.MaxAssignee+1)
	wantErr(t, s.UpdateCase(ctx, &tooLong), store.ErrInvalid)
	for _, tc := range []struct {
		name string
		f    store.CaseFilter
		want []string
	}{
		{"assignee", store.CaseFilter{Assignee: "Dana Officer"}, []string{c.ID}},
		{"unassigned", store.CaseFilter{Unassigned: true}, []string{c2.ID}},
		{"nobody's name", store.CaseFilter{Assignee: "Eve"}, nil},
	} {
		cs, err := s.ListCases(ctx, tc.f)
		must(t, err)
		var ids []string
		for _, x := range cs {
			ids = append(ids, x.ID)
		}
		if strings.Join(ids, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: cases = %v, want %v", tc.name, ids, tc.want)
		}
	}

	// Comments, oldest first.
	t0 := store.Now()
	must(t, s.AddComment(ctx, &store.Comment{CaseID: c.ID, Author: "tok1", AuthorName: "Dana", Body: "first", Created: t0}))
	must(t, s.AddComment(ctx, &store.Comment{CaseID: c.ID, Author: "tok2", Body: "second", Created: t0.Add(time.Second)}))
	wantErr(t, s.AddComment(ctx, &store.Comment{CaseID: c.ID, Author: "tok1", Body: ""}), store.ErrInvalid)
	wantErr(t, s.AddComment(ctx, &store.Comment{CaseID: c.ID, Author: "tok1", Body: strings.Repeat("b", store.MaxCommentBody+1)}), store.ErrInvalid)
	cms, err := s.Comments(ctx, c.ID)
	must(t, err)
	if len(cms) != 2 || cms[0].Body != "first" || cms[0].AuthorName != "Dana" || cms[1].Author != "tok2" || !cms[0].Created.Equal(t0) {
		t.Errorf("comments = %+v", cms)
	}

	// Reviews: history per case; the whitelist follows the latest review
	// of each pair.
	rv := func(subjectID, match, verdict, reason string, at time.Time) store.MatchReview {
		return store.MatchReview{CaseID: c.ID, SubjectType: store.SubjectZone, SubjectID: subjectID, MatchID: match,
			Verdict: verdict, Reason: reason, Actor: "tok1", Created: at}
	}
	bad := rv(z.ID, "ofac:1", store.VerdictWhitelisted, "", t0)
	wantErr(t, s.AddMatchReview(ctx, &bad), store.ErrInvalid) // whitelist needs a reason
	bad = rv(z.ID, "ofac:1", "maybe", "", t0)
	wantErr(t, s.AddMatchReview(ctx, &bad), store.ErrInvalid)
	steps := []store.MatchReview{
		rv(z.ID, "ofac:1", store.VerdictConfirmed, "", t0),
		rv(z.ID, "ofac:1", store.VerdictWhitelisted, "a namesake bakery", t0.Add(time.Second)),
		rv(z.ID, "ofac:2", store.VerdictWhitelisted, "another namesake", t0.Add(2*time.Second)),
		rv(z.ID, "ofac:2", store.VerdictNoMatch, "", t0.Add(3*time.Second)),
		rv("zone_other", "ofac:3", store.VerdictWhitelisted, "elsewhere", t0.Add(4*time.Second)),
	}
	for i := range steps {
		must(t, s.AddMatchReview(ctx, &steps[i]))
	}
	rs, err := s.MatchReviews(ctx, c.ID)
	must(t, err)
	if len(rs) != len(steps) || rs[1].Verdict != store.VerdictWhitelisted || rs[1].Reason != "a namesake bakery" || rs[0].ID != steps[0].ID {
		t.Errorf("reviews = %+v", rs)
	}
	wl, err := s.Whitelist(ctx, store.SubjectZone, z.ID)
	must(t, err)
	if len(wl) != 1 || wl[0].MatchID != "ofac:1" || wl[0].ID != steps[1].ID {
		t.Errorf("whitelist of the zone = %+v, want ofac:1 only (ofac:2 was reviewed again)", wl)
	}
	all, err := s.Whitelist(ctx, "", "")
	must(t, err)
	if len(all) != 2 {
		t.Errorf("whole whitelist = %+v, want 2 pairs", all)
	}
	// A whitelist inside a rolled-back transaction leaves nothing.
	_ = s.Tx(ctx, func(tx store.Tx) error {
		r := rv(z.ID, "ofac:9", store.VerdictWhitelisted, "rolled back", t0)
		must(t, tx.AddMatchReview(ctx, &r))
		return store.ErrConflict
	})
	if wl, _ := s.Whitelist(ctx, store.SubjectZone, z.ID); len(wl) != 1 {
		t.Errorf("a rolled-back whitelist was kept: %+v", wl)
	}

	// The audit entries of a case's subjects, oldest first, newest kept.
	for _, ev := range []audit.Event{
		{Actor: "tok1", Action: "case.comment", Subject: "case:" + c.ID},
		{Actor: "tok1", Action: "zone.update", Subject: "zone:" + z.ID},
		{Actor: "tok1", Action: "case.comment", Subject: "case:" + c2.ID},
		{Actor: "tok1", Action: "case.assign", Subject: "case:" + c.ID},
	} {
		_, err := s.Append(ctx, ev)
		must(t, err)
	}
	es, err := s.AuditBySubjects(ctx, []string{"case:" + c.ID, "zone:" + z.ID}, 0)
	must(t, err)
	var acts []string
	for i, e := range es {
		if i > 0 && e.Seq <= es[i-1].Seq {
			t.Errorf("entries out of order: %d after %d", e.Seq, es[i-1].Seq)
		}
		if e.Subject == "case:"+c2.ID {
			t.Errorf("entry of another case: %+v", e)
		}
		acts = append(acts, e.Action)
	}
	if strings.Join(acts, ",") != "case.open,report.create,case.comment,zone.update,case.assign" {
		t.Errorf("case entries = %v", acts)
	}
	last2, err := s.AuditBySubjects(ctx, []string{"case:" + c.ID, "zone:" + z.ID}, 2)
	must(t, err)
	if len(last2) != 2 || last2[1].Action != "case.assign" || last2[0].Action != "zone.update" {
		t.Errorf("newest two = %+v", last2)
	}
	_, err = s.AuditBySubjects(ctx, make([]string, 21), 0)
	wantErr(t, err, store.ErrInvalid)
}
