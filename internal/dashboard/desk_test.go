package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/token"
)

// reviewFormRe finds a review form's action on the case page.
var reviewFormRe = regexp.MustCompile(`action="(/dashboard/cases/case_[0-9a-f]+/matches/[^"]+/review)"`)

// TestCaseDesk drives the case page's desk forms over HTTP: per-match
// review (a whitelist without reason is refused and says why), assign to
// me and by name, comments; the queue's names, assignee and "mine" /
// "unassigned" filters; every action in the audit-log timeline with its
// link to the audit page; a read token gets 403 and a form without its
// CSRF token is refused.
func TestCaseDesk(t *testing.T) {
	r := newRig(t)
	sd := seed(t, r)
	ctx := context.Background()
	accCase, err := r.db.FindActiveCase(ctx, compliance.AccountCaseHost(sd.held), store.CategorySanctions)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient()
	csrf := signIn(t, c, r.srv.URL, r.tokens[token.Compliance])
	caseURL := r.srv.URL + "/dashboard/cases/" + accCase.ID

	code, body, _ := get(t, c, caseURL)
	if code != 200 || !strings.Contains(body, "Matches to review") || !strings.Contains(body, "not reviewed") {
		t.Fatalf("case page: %d %.500s", code, body)
	}
	m := reviewFormRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no review form on the case page")
	}
	review := r.srv.URL + m[1]

	// A whitelist without reason is refused and the page says why.
	code, body, _ = postForm(t, c, review, url.Values{"csrf": {csrf}, "verdict": {"whitelisted"}, "subject_type": {"account"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "reason: required") {
		t.Fatalf("whitelist without reason: %d %.300s", code, body)
	}
	code, _, h := postForm(t, c, review, url.Values{"csrf": {csrf}, "verdict": {"whitelisted"}, "subject_type": {"account"}, "reason": {"a different bank: registry checked"}})
	if code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "notice=reviewed-whitelisted") {
		t.Fatalf("whitelist: %d %s", code, h.Get("Location"))
	}
	code, _, h = postForm(t, c, caseURL+"/assign", url.Values{"csrf": {csrf}, "me": {"1"}})
	if code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "notice=assigned") {
		t.Fatalf("assign to me: %d %s", code, h.Get("Location"))
	}
	code, _, h = postForm(t, c, caseURL+"/comments", url.Values{"csrf": {csrf}, "body": {"Registry extract on file.\nNo link to the listed bank."}})
	if code != http.StatusSeeOther {
		t.Fatalf("comment: %d %s", code, h.Get("Location"))
	}
	if code, body, _ = postForm(t, c, caseURL+"/comments", url.Values{"csrf": {csrf}, "body": {"  "}}); code != http.StatusUnprocessableEntity || !strings.Contains(body, "body: required") {
		t.Fatalf("empty comment: %d", code)
	}
	// Another case goes to a named colleague.
	if code, _, _ = postForm(t, c, r.srv.URL+"/dashboard/cases/"+sd.reportCase+"/assign", url.Values{"csrf": {csrf}, "assignee": {"Dana Officer"}}); code != http.StatusSeeOther {
		t.Fatalf("assign by name: %d", code)
	}

	code, body, _ = get(t, c, caseURL+"?notice=reviewed-whitelisted")
	for _, want := range []string{"Match review recorded: whitelisted.", "a different bank: registry checked", "Registry extract on file.",
		`<dd>test</dd>`, "case.review", "case.assign", "case.comment", "case.open", `href="/dashboard/audit?from=`} {
		if !strings.Contains(body, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
	if code != 200 {
		t.Fatalf("case page: %d", code)
	}
	// The timeline's link leads to the entry on the audit page.
	seq := regexp.MustCompile(`/dashboard/audit\?from=(\d+)#seq-(\d+)`).FindStringSubmatch(body)
	if seq == nil {
		t.Fatal("no timeline link to the audit page")
	}
	if code, body, _ = get(t, c, r.srv.URL+"/dashboard/audit?from="+seq[1]); code != 200 || !strings.Contains(body, `id="seq-`+seq[2]+`"`) {
		t.Fatalf("audit page from %s lacks entry %s: %d", seq[1], seq[2], code)
	}

	// The queue: the account's name (not account:acc_…) linking to the
	// account, the assignee, and the filters.
	for _, tc := range []struct {
		query      string
		want, lack []string
	}{
		{"", []string{"Bank Maskan", `href="/dashboard/accounts/` + sd.held + `"`, "test", "Dana Officer", "shop.example"}, []string{">account:" + sd.held}},
		{"?who=mine", []string{"Bank Maskan"}, []string{"shop.example", "Dana Officer"}},
		{"?who=unassigned", []string{"maskan-payments.example"}, []string{"Bank Maskan", ">shop.example<"}},
	} {
		code, body, _ := get(t, c, r.srv.URL+"/dashboard/cases"+tc.query)
		if code != 200 {
			t.Fatalf("queue%s: %d", tc.query, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("queue%s lacks %q", tc.query, w)
			}
		}
		for _, l := range tc.lack {
			if strings.Contains(body, l) {
				t.Errorf("queue%s shows %q", tc.query, l)
			}
		}
	}
	// A zone without aliases says so, not [].
	if _, body, _ := get(t, c, r.srv.URL+"/dashboard/cases/"+sd.heldCase); strings.Contains(body, "<dd>[]</dd>") || !strings.Contains(body, "<dt>Aliases</dt><dd>none</dd>") {
		t.Errorf("zone aliases on the case page: %.200s", body[strings.Index(body, "Aliases"):])
	}

	// The account's page links its case.
	if _, body, _ := get(t, c, r.srv.URL+"/dashboard/accounts/"+sd.held); !strings.Contains(body, `href="/dashboard/cases/`+accCase.ID+`"`) {
		t.Errorf("the account page does not link its case")
	}

	// Stored and audited with the token id.
	tl, err := r.desk.CaseTimeline(ctx, accCase.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Reviews) != 1 || tl.Reviews[0].Verdict != store.VerdictWhitelisted || tl.Case.Assignee != "test" || len(tl.Comments) != 1 || tl.Comments[0].AuthorName != "test" {
		t.Fatalf("stored: %+v %+v %+v", tl.Reviews, tl.Case, tl.Comments)
	}

	// A read token may not review, assign or comment; a form without its
	// CSRF token is refused.
	rc := newClient()
	rcsrf := signIn(t, rc, r.srv.URL, r.tokens[token.Read])
	for _, p := range []struct {
		u    string
		form url.Values
	}{
		{review, url.Values{"verdict": {"confirmed"}}},
		{caseURL + "/assign", url.Values{"me": {"1"}}},
		{caseURL + "/comments", url.Values{"body": {"read"}}},
	} {
		p.form.Set("csrf", rcsrf)
		if code, _, _ := postForm(t, rc, p.u, p.form); code != http.StatusForbidden {
			t.Errorf("read token posting %s: %d, want 403", p.u, code)
		}
		p.form.Del("csrf")
		if code, _, _ := postForm(t, c, p.u, p.form); code != http.StatusForbidden {
			t.Errorf("posting %s without CSRF token: %d, want 403", p.u, code)
		}
	}
	after, _ := r.desk.CaseTimeline(ctx, accCase.ID)
	if len(after.Reviews) != 1 || len(after.Comments) != 1 {
		t.Errorf("a refused form changed the case: %d reviews, %d comments", len(after.Reviews), len(after.Comments))
	}
}
