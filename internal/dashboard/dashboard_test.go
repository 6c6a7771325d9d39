package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/rollup"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/token"
)

// seeded names the records seed made.
type seeded struct {
	clean, held, blocked string // account ids
	zone, heldZone       string // zone ids
	reportCase, heldCase string // case ids
}

// seed fills the desk with a clean, a held and a blocked account, a zone
// of the clean account under a public report, a zone of the held account
// (in review, with its screening case) and some traffic.
func seed(t testing.TB, r *rig) seeded {
	t.Helper()
	ctx := context.Background()
	var s seeded
	acc := func(in compliance.AccountInput) string {
		res, err := r.desk.CreateAccount(ctx, in, "test")
		if err != nil {
			t.Fatal(err)
		}
		return res.ID
	}
	s.clean = acc(compliance.AccountInput{Name: "Plain Bakery Ltd", Kind: "organization", Country: "GB", Email: "ops@plainbakery.example"})
	s.held = acc(compliance.AccountInput{Name: "Bank Maskan", Kind: "organization", Country: "AE"})
	s.blocked = acc(compliance.AccountInput{Name: "Northwind Imports", Kind: "organization", Country: "IR"})
	zone := func(acc, host string) compliance.ZoneResult {
		body := fmt.Sprintf(`{"account_id": %q, "host": %q, "origins": ["http://127.0.0.1:9"]}`, acc, host)
		res, err := r.desk.CreateZone(ctx, json.RawMessage(body), "test")
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	z := zone(s.clean, "shop.example")
	s.zone = z.ID
	hz := zone(s.held, "maskan-payments.example")
	s.heldZone, s.heldCase = hz.ID, hz.CaseID
	c, err := r.desk.Report(ctx, compliance.ReportInput{Host: "shop.example", Category: store.CategorySanctions,
		Description: "This shop sells to a sanctioned bank.", EvidenceURLs: []string{"https://evidence.example/1"}},
		netip.MustParseAddr("192.0.2.7"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s.reportCase = c.ID
	now := time.Now()
	for i := range 300 {
		st, out := 200, rollup.Served
		switch i % 10 {
		case 7:
			st, out = 429, rollup.RateLimited
		case 8:
			st, out = 403, rollup.WAFBlocked
		}
		at := now.Add(-time.Duration(i) * 10 * time.Second)
		r.trf.Record(rollup.Request{Zone: "shop.example", Time: at, Status: st, Bytes: 2048, CacheHit: i%3 == 0, Latency: time.Duration(i%40) * time.Millisecond, Outcome: out})
		if out != rollup.Served {
			r.trf.RecordEvent(rollup.Event{Time: at, Zone: "shop.example", Action: rollup.ActionOf(out), RuleID: "942100", ClientIP: "198.51.100.9",
				Method: "GET", Path: "/search?q=1%27%20or%201=1", UserAgent: "curl/8", Status: st})
		}
	}
	return s
}

// pagesOf lists every dashboard page for the seeded data.
func pagesOf(s seeded) []string {
	return []string{"/dashboard/", "/dashboard/cases", "/dashboard/cases?status=all", "/dashboard/cases/" + s.reportCase,
		"/dashboard/cases/" + s.heldCase, "/dashboard/accounts", "/dashboard/accounts/" + s.held, "/dashboard/zones",
		"/dashboard/zones/" + s.zone, "/dashboard/lists", "/dashboard/audit", "/dashboard/audit?verify=1",
		"/dashboard/search?name=Bank+Mascan", "/dashboard/traffic", "/dashboard/traffic?zone=shop.example&range=day",
		"/dashboard/events", "/dashboard/events?action=waf_blocked"}
}

func TestPagesRender(t *testing.T) {
	r := newRig(t)
	s := seed(t, r)
	c := newClient()
	signIn(t, c, r.srv.URL, r.tokens[token.Compliance])
	for _, p := range pagesOf(s) {
		code, body, h := get(t, c, r.srv.URL+p)
		if code != 200 {
			t.Errorf("%s: %d %.400s", p, code, body)
			continue
		}
		if h.Get("Content-Security-Policy") != csp || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q", p, h.Get("Content-Security-Policy"))
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, " on") && strings.Contains(body, "onclick") {
			t.Errorf("%s: inline script or style", p)
		}
	}
	_, body, _ := get(t, c, r.srv.URL+"/dashboard/cases/"+s.heldCase)
	for _, want := range []string{"BANK MASKAN", "Bank Maskan", "Why it matched", "maskan-payments.example"} {
		if !strings.Contains(body, want) {
			t.Errorf("held case page lacks %q", want)
		}
	}
	_, body, _ = get(t, c, r.srv.URL+"/dashboard/cases")
	if !strings.Contains(body, "shop.example") || !strings.Contains(body, "maskan-payments.example") || !strings.Contains(body, "/dashboard/accounts/"+s.held) {
		t.Errorf("queue lacks the cases: %.2000s", body)
	}
	_, body, _ = get(t, c, r.srv.URL+"/dashboard/events.json?action=waf_blocked")
	var ev struct{ Events []rollup.Event }
	if err := json.Unmarshal([]byte(body), &ev); err != nil || len(ev.Events) == 0 || ev.Events[0].Action != "waf_blocked" {
		t.Errorf("events.json: %v %.300s", err, body)
	}
	// Static assets are served from the binary.
	for _, a := range []string{"/dashboard/static/app.css", "/dashboard/static/app.js", "/dashboard/static/vendor/htmx-2.0.10.min.js", "/dashboard/static/vendor/uPlot-1.6.32.iife.min.js"} {
		if code, _, _ := get(t, c, r.srv.URL+a); code != 200 {
			t.Errorf("%s: %d", a, code)
		}
	}
}

func TestSessionSecurity(t *testing.T) {
	r := newRig(t)
	s := seed(t, r)
	base := r.srv.URL

	// No session: pages redirect to the sign-in form.
	anon := newClient()
	code, _, h := get(t, anon, base+"/dashboard/cases")
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/dashboard/signin?next=") {
		t.Fatalf("anonymous: %d %s", code, h.Get("Location"))
	}
	// A wrong token is refused.
	_, body, _ := get(t, anon, base+"/dashboard/signin")
	pre := csrfRe.FindStringSubmatch(body)[1]
	if code, _, _ := postForm(t, anon, base+"/dashboard/signin", url.Values{"csrf": {pre}, "token": {"rp_wrong"}}); code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", code)
	}
	// The sign-in form itself needs its CSRF token.
	if code, _, _ := postForm(t, newClient(), base+"/dashboard/signin", url.Values{"token": {r.tokens[token.Admin]}}); code != http.StatusForbidden {
		t.Fatalf("sign-in without CSRF: %d", code)
	}

	c := newClient()
	csrf := signIn(t, c, base, r.tokens[token.Compliance])
	u, _ := url.Parse(base + "/dashboard/")
	var sess *http.Cookie
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			sess = ck
		}
	}
	if sess == nil || len(sess.Value) < 40 {
		t.Fatalf("no session cookie: %v", c.Jar.Cookies(u))
	}
	// Cookie attributes, read from a fresh sign-in's Set-Cookie.
	{
		c2 := newClient()
		_, body, _ := get(t, c2, base+"/dashboard/signin")
		pre := csrfRe.FindStringSubmatch(body)[1]
		_, _, h := postForm(t, c2, base+"/dashboard/signin", url.Values{"csrf": {pre}, "token": {r.tokens[token.Read]}})
		sc := strings.Join(h.Values("Set-Cookie"), "\n")
		if !strings.Contains(sc, sessionCookie+"=") || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Strict") || !strings.Contains(sc, "Path=/dashboard/") {
			t.Fatalf("session cookie attributes: %s", sc)
		}
	}

	decide := func(c *http.Client, form url.Values) (int, string) {
		code, body, _ := postForm(t, c, base+"/dashboard/cases/"+s.reportCase+"/decision", form)
		return code, body
	}
	// CSRF: refused without the token and with a wrong one; nothing is
	// decided.
	if code, _ := decide(c, url.Values{"action": {"dismiss"}, "reason": {"no CSRF"}}); code != http.StatusForbidden {
		t.Fatalf("decision without CSRF: %d", code)
	}
	if code, _ := decide(c, url.Values{"action": {"dismiss"}, "reason": {"bad CSRF"}, "csrf": {csrf + "x"}}); code != http.StatusForbidden {
		t.Fatalf("decision with a wrong CSRF: %d", code)
	}
	// A missing reason is refused as the API refuses it.
	if code, body := decide(c, url.Values{"action": {"suspend"}, "reason": {"  "}, "csrf": {csrf}}); code != http.StatusUnprocessableEntity || !strings.Contains(body, "reason") {
		t.Fatalf("decision without a reason: %d %.300s", code, body)
	}
	if cs, _ := r.db.GetCase(context.Background(), s.reportCase); cs.Status != store.CaseOpen {
		t.Fatalf("case decided by a refused form: %s", cs.Status)
	}
	// With its token the decision is taken, audited with the token id.
	if code, _ := decide(c, url.Values{"action": {"suspend"}, "reason": {"sells to a listed bank"}, "csrf": {csrf}}); code != http.StatusSeeOther {
		t.Fatalf("decision: %d", code)
	}
	cs, _ := r.db.GetCase(context.Background(), s.reportCase)
	tok, _ := r.store.Verify(r.tokens[token.Compliance])
	if cs.Status != store.CaseSuspended || cs.DecidedBy != tok.ID {
		t.Fatalf("case after the decision: %s by %s, want suspended by %s", cs.Status, cs.DecidedBy, tok.ID)
	}

	// A read token cannot see cases nor decide.
	rc := newClient()
	rcsrf := signIn(t, rc, base, r.tokens[token.Read])
	if code, _, _ := get(t, rc, base+"/dashboard/cases"); code != http.StatusForbidden {
		t.Fatalf("read token on the queue: %d", code)
	}
	if code, _ := decide(rc, url.Values{"action": {"reinstate"}, "reason": {"read may not"}, "csrf": {rcsrf}}); code != http.StatusForbidden {
		t.Fatalf("read token deciding: %d", code)
	}
	if code, _, _ := postForm(t, rc, base+"/dashboard/accounts/"+s.held+"/decision", url.Values{"action": {"clear"}, "reason": {"x"}, "csrf": {rcsrf}}); code != http.StatusForbidden {
		t.Fatalf("read token deciding an account: %d", code)
	}

	// Sign-out revokes the session: the old cookie no longer works.
	if code, _, _ := postForm(t, c, base+"/dashboard/signout", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", code)
	}
	replay := newClient()
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: sess.Value, Path: "/dashboard/"}})
	if code, _, h := get(t, replay, base+"/dashboard/cases"); code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "signin") {
		t.Fatalf("old session cookie after sign-out: %d", code)
	}
	// Revoking the token ends its sessions.
	rtok, _ := r.store.Verify(r.tokens[token.Read])
	if err := r.store.Revoke(rtok.ID); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := get(t, rc, base+"/dashboard/"); code != http.StatusSeeOther {
		t.Fatalf("session of a revoked token: %d", code)
	}
	// Sign-in and sign-out are in the audit log with the token id.
	n := 0
	for e, err := range r.db.Entries(context.Background(), 1) {
		if err != nil {
			t.Fatal(err)
		}
		if (e.Action == "dashboard.signin" || e.Action == "dashboard.signout") && e.Actor == tok.ID {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d sign-in/out audit entries of %s, want 2", n, tok.ID)
	}
}

func TestNoticeIsFixedText(t *testing.T) {
	for code, want := range map[string]string{
		"signedout":          "Signed out.",
		"decided-suspend":    "Decision recorded: suspend.",
		"account-block":      "Account decision recorded: block.",
		"Your token expired": "",
		"decided-<b>x</b>":   "",
	} {
		if got := noticeText(code); got != want {
			t.Errorf("noticeText(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/dashboard/cases?status=open": "/dashboard/cases?status=open",
		"//evil.example/":              "/dashboard/",
		"https://evil.example/":        "/dashboard/",
		"/dashboard/\r\nX: y":          "/dashboard/",
		"":                             "/dashboard/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
