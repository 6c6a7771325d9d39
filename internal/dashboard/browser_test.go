package dashboard_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/rampart-edge/rampart/internal/app"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/geoip/geoiptest"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/backend"
	"github.com/rampart-edge/rampart/internal/testlog"
	"github.com/rampart-edge/rampart/internal/token"
)

//go:embed testdata/a11y.js
var a11yJS string

// chromiumPath is the browser the test drives: RAMPART_CHROMIUM, or
// Debian's /usr/bin/chromium (apt-get install -y chromium). A missing
// browser fails the test: it never skips.
func chromiumPath(t *testing.T) string {
	p := os.Getenv("RAMPART_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(p); err != nil {
		t.Fatalf("the browser test needs Chromium at %s (apt-get install -y chromium, or set RAMPART_CHROMIUM): %v", p, err)
	}
	return p
}

// node is a running rampart (edge, admin API, dashboard) on SQLite with
// the OFAC test lists and a token per scope.
type node struct {
	app    *app.App
	tokens map[token.Scope]string
	db     store.Store
	origin *httptest.Server
}

func startNode(t *testing.T) *node { return startNodeWith(t, "") }

// startNodeWith starts a node with extra YAML lines in its compliance
// section (indented by four spaces).
func startNodeWith(t *testing.T, compliance string) *node {
	t.Helper()
	dataDir := t.TempDir()
	ofac, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "sanctions", "ofac"))
	db, err := backend.Open(context.Background(), dataDir, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ts := &store.TokenStore{S: db}
	n := &node{tokens: map[token.Scope]string{}, db: db}
	for _, sc := range []token.Scope{token.Admin, token.Compliance, token.Read} {
		plain, _, err := ts.Create(sc, "browser test")
		if err != nil {
			t.Fatal(err)
		}
		n.tokens[sc] = plain
	}
	n.origin = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><html lang=en><title>Shop</title><h1>The shop at %s</h1>", r.Host)
	}))
	t.Cleanup(n.origin.Close)
	// GeoIP: the test's clients on 127.0.0.0/8 come from France, AS64500,
	// so that the security events carry a country and an ASN.
	geo := filepath.Join(t.TempDir(), "geo.mmdb")
	if err := geoiptest.Write(geo, []geoiptest.Entry{{Network: netip.MustParsePrefix("127.0.0.0/8"), Country: "FR", ASN: 64500, Org: "Loopback SA"}}); err != nil {
		t.Fatal(err)
	}
	// down.example's second origin refuses connections: its active health
	// check marks it down for the overview.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String()
	dead.Close()
	cfg, err := config.Parse(filepath.Join(t.TempDir(), "rampart.yaml"), fmt.Appendf(nil, `
log: {format: "off"}
data_dir: %s
geoip: {country_db: %s, asn_db: %s}
compliance:
  lists: [%s]
  embargoed_regions: [IR, KP]
%s
zones:
  - host: config.example
    origins: [%s]
  - host: down.example
    origins: [%s, %s]
    health_check: {path: /, interval: 100ms, timeout: 1s, unhealthy: 1, healthy: 1}
`, dataDir, geo, geo, ofac, compliance, n.origin.URL, n.origin.URL, deadURL))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen.HTTP, cfg.Listen.Admin, cfg.Listen.HTTPS = "127.0.0.1:0", "127.0.0.1:0", ""
	a, err := app.New(cfg, app.Options{Logger: slog.New(slog.NewJSONHandler(&testlog.Buffer{}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	n.app = a
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return")
		}
	})
	return n
}

var plain = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (n *node) admin(t *testing.T, method, path string, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+n.app.Addrs().Admin+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+n.tokens[token.Admin])
	req.Header.Set("Content-Type", "application/json")
	resp, err := plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// edgeStatus asks the edge for host's front page, polling until it
// answers want (zone changes reach the edge within a second).
func (n *node) edgeStatus(t *testing.T, host string, want int) int {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		req, _ := http.NewRequest("GET", "http://"+n.app.Addrs().HTTP+"/", nil)
		req.Host = host
		resp, err := plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == want || time.Now().After(deadline) {
			return resp.StatusCode
		}
		time.Sleep(25 * time.Millisecond)
	}
}

var (
	caseIDRe = regexp.MustCompile(`case_[0-9a-f]{16}`)
	csrfRe   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// TestBrowserComplianceFlow drives the dashboard in headless Chromium: a
// report filed on the public form of a zone becomes a case in the queue;
// a compliance officer signs in, reviews the case and its matches,
// suspends the zone (the edge answers 451), reinstates it (200 again)
// and verifies the audit log. It checks that a form without its CSRF
// token is refused, that a read token cannot decide, and that the
// session cookie stops working after sign-out; every page passes the
// accessibility check (testdata/a11y.js) and is kept as a screenshot in
// the test's artefact directory (go test -artifacts) and, when
// RAMPART_SCREENSHOTS names a directory, there too.
func TestBrowserComplianceFlow(t *testing.T) {
	n := startNode(t)
	// A clean account with a zone, and an account named like a listed
	// bank, whose zone the gate holds in review with a case.
	_, body := n.admin(t, "POST", "/v1/accounts", `{"name": "Plain Bakery Ltd", "kind": "organization", "country": "GB", "email": "ops@plainbakery.example"}`)
	var acc struct{ ID, Status string }
	json.Unmarshal([]byte(body), &acc)
	if acc.Status != "active" {
		t.Fatalf("clean account: %s", body)
	}
	if code, body := n.admin(t, "POST", "/v1/zones", fmt.Sprintf(`{"account_id": %q, "host": "shop.example", "origins": [%q]}`, acc.ID, n.origin.URL)); code != 201 {
		t.Fatalf("zone: %d %s", code, body)
	}
	_, body = n.admin(t, "POST", "/v1/accounts", `{"name": "Bank Maskan", "kind": "organization", "country": "AE"}`)
	var held struct{ ID, Status string }
	json.Unmarshal([]byte(body), &held)
	if held.Status != "review" {
		t.Fatalf("held account: %s", body)
	}
	if code, body := n.admin(t, "POST", "/v1/zones", fmt.Sprintf(`{"account_id": %q, "host": "maskan-pay.example", "origins": [%q]}`, held.ID, n.origin.URL)); code != 201 {
		t.Fatalf("held zone: %d %s", code, body)
	}
	if got := n.edgeStatus(t, "shop.example", 200); got != 200 {
		t.Fatalf("shop.example before any decision: %d", got)
	}
	for range 20 { // some traffic for the operator pages
		n.edgeStatus(t, "shop.example", 200)
	}

	_, edgePort, _ := net.SplitHostPort(n.app.Addrs().HTTP)
	adminURL := "http://" + n.app.Addrs().Admin
	shop := "http://shop.example:" + edgePort

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// The zones' names lead to the edge on 127.0.0.1; nothing else
		// leaves the machine.
		chromedp.Flag("host-resolver-rules", "MAP *.example 127.0.0.1"),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelTimeout()

	shotDir := t.ArtifactDir()
	extra := os.Getenv("RAMPART_SCREENSHOTS")
	shot := 0
	// capture saves a screenshot of the current page under name.
	capture := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		shot++
		file := fmt.Sprintf("%02d-%s.png", shot, name)
		for _, dir := range []string{shotDir, extra} {
			if dir == "" {
				continue
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, file), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// a11y runs the accessibility check on the current dashboard page.
	a11y := func(name string) {
		t.Helper()
		problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](a11yJS))
		if err != nil {
			t.Fatalf("a11y check of %s: %v", name, err)
		}
		for _, p := range problems {
			t.Errorf("accessibility, %s: %s", name, p)
		}
	}
	// page opens a dashboard URL, checks and captures it.
	page := func(name, u string) string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitVisible("main")); err != nil {
			t.Fatalf("opening %s: %v", u, err)
		}
		a11y(name)
		capture(name)
		text, err := chromedp.Run(ctx, chromedp.Text("main"))
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	text := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text("body"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	// The checker finds what it looks for: a page with an unlabelled
	// input, grey-on-white text and no landmarks fails it.
	bad := "data:text/html," + url.PathEscape(`<html><body><div><input id=q><p class=x>faint</p></div><style>.x{color:#bbb}</style></body></html>`)
	if err := chromedp.Do(ctx, chromedp.Navigate(bad)); err != nil {
		t.Fatal(err)
	}
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](a11yJS))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"lang", "main landmark", "form control without a label", "contrast"} {
		if !slices.ContainsFunc(found, func(p string) bool { return strings.Contains(p, want) }) {
			t.Errorf("the accessibility check missed %q on a bad page: %q", want, found)
		}
	}

	// 1. The public report form on the zone.
	if err := chromedp.Do(ctx, chromedp.Navigate(shop+"/.well-known/rampart/report"), chromedp.WaitVisible("textarea[name=description]")); err != nil {
		t.Fatal(err)
	}
	capture("edge-report-form")
	if err := chromedp.Do(ctx,
		chromedp.SetValue("select[name=category]", "sanctions"),
		chromedp.SendKeys("textarea[name=description]", "This shop takes payments for a sanctioned bank (Bank Maskan)."),
		chromedp.Click("button[type=submit]"),
		chromedp.WaitVisible("code"),
	); err != nil {
		t.Fatal(err)
	}
	capture("edge-report-filed")
	caseID := caseIDRe.FindString(text())
	if caseID == "" {
		t.Fatalf("no case id on the report confirmation: %s", text())
	}

	// 2. Sign in: the dashboard sends an anonymous visitor to the form.
	if err := chromedp.Do(ctx, chromedp.Navigate(adminURL+"/dashboard/cases"), chromedp.WaitVisible("#token")); err != nil {
		t.Fatal(err)
	}
	a11y("signin")
	capture("signin")
	if err := chromedp.Do(ctx, chromedp.SendKeys("#token", n.tokens[token.Compliance]), chromedp.Submit("#token"), chromedp.WaitVisible("table.wide")); err != nil {
		t.Fatal(err)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.HasSuffix(loc, "/dashboard/cases") {
		t.Fatalf("after sign-in at %s, want the queue asked for", loc)
	}
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{adminURL + "/dashboard/"}})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, c := range cookies.Cookies {
		if c.Name == "rampart_session" {
			session = c
		}
	}
	if session == nil || !session.HTTPOnly || session.SameSite != network.CookieSameSiteStrict {
		t.Fatalf("session cookie: %+v", session)
	}

	// 3. The queue shows the reported zone and the held one.
	q := page("cases", adminURL+"/dashboard/cases")
	// Both holds are work: the held zone's case and the held account's.
	if !strings.Contains(q, "shop.example") || !strings.Contains(q, "maskan-pay.example") || !strings.Contains(q, "Bank Maskan") {
		t.Fatalf("queue: %s", q)
	}
	c := page("case-reported", adminURL+"/dashboard/cases/"+caseID)
	for _, want := range []string{"shop.example", "Plain Bakery Ltd", "This shop takes payments", "Record the decision"} {
		if !strings.Contains(c, want) {
			t.Fatalf("case page lacks %q: %s", want, c)
		}
	}
	// The held zone's case: the matches with their explanations beside
	// the account's data.
	heldCases, _ := n.db.ListCases(context.Background(), store.CaseFilter{Host: "maskan-pay.example"})
	if len(heldCases) != 1 {
		t.Fatalf("held zone cases: %+v", heldCases)
	}
	hc := page("case-held-matches", adminURL+"/dashboard/cases/"+heldCases[0].ID)
	if !strings.Contains(hc, "BANK MASKAN") || !strings.Contains(hc, "Bank Maskan") {
		t.Fatalf("held case page lacks the match and the account: %s", hc)
	}

	accCases, _ := n.db.ListCases(context.Background(), store.CaseFilter{Host: "account:" + held.ID})
	if len(accCases) != 1 {
		t.Fatalf("held account cases: %+v", accCases)
	}
	if ac := page("case-account", adminURL+"/dashboard/cases/"+accCases[0].ID); !strings.Contains(ac, "BANK MASKAN") || !strings.Contains(ac, "deciding it decides the account") {
		t.Fatalf("account case page: %s", ac)
	}

	// 4. Suspend the reported zone: the edge answers 451.
	if err := chromedp.Do(ctx, chromedp.Navigate(adminURL+"/dashboard/cases/"+caseID), chromedp.WaitVisible("#reason"),
		chromedp.Click(`input[name=action][value=suspend]`),
		chromedp.SendKeys("#reason", "Confirmed: the shop processes payments for BANK MASKAN (OFAC SDN 4633)."),
		chromedp.Submit("#reason"),
		chromedp.WaitVisible(".notice"),
	); err != nil {
		t.Fatal(err)
	}
	a11y("case-suspended")
	capture("case-suspended")
	if s := text(); !strings.Contains(s, "Decision recorded: suspend") || !strings.Contains(s, "suspended") {
		t.Fatalf("after suspending: %s", s)
	}
	if got := n.edgeStatus(t, "shop.example", 451); got != 451 {
		t.Fatalf("edge after the suspension: %d, want 451", got)
	}
	{
		nctx, ncancel := context.WithTimeout(ctx, 15*time.Second)
		err := chromedp.Do(nctx, chromedp.Navigate(shop+"/?after=suspend"))
		ncancel()
		if err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			title, _ := chromedp.Run(ctx, chromedp.Title())
			t.Fatalf("opening the suspended zone: %v (at %s, %q)", err, loc, title)
		}
	}
	if s := text(); !strings.Contains(s, "legal reasons") {
		t.Fatalf("the suspended zone's page: %s", s)
	}
	capture("edge-451")

	// 5. Reinstate: the edge serves the zone again.
	if err := chromedp.Do(ctx, chromedp.Navigate(adminURL+"/dashboard/cases/"+caseID), chromedp.WaitVisible("#reason"),
		chromedp.Click(`input[name=action][value=reinstate]`),
		chromedp.SendKeys("#reason", "The operator removed the payment page; reinstated after review."),
		chromedp.Submit("#reason"),
		chromedp.WaitVisible(".notice"),
	); err != nil {
		t.Fatal(err)
	}
	capture("case-reinstated")
	if got := n.edgeStatus(t, "shop.example", 200); got != 200 {
		t.Fatalf("edge after reinstating: %d, want 200", got)
	}
	cs, _ := n.db.GetCase(context.Background(), caseID)
	ctok, _ := (&store.TokenStore{S: n.db}).Verify(n.tokens[token.Compliance])
	if cs.Status != store.CaseReinstated || cs.DecidedBy != ctok.ID {
		t.Fatalf("case after reinstating: %+v", cs)
	}

	// 6. The audit log verifies and shows both decisions by this token.
	if err := chromedp.Do(ctx, chromedp.Navigate(adminURL+"/dashboard/audit"), chromedp.WaitVisible("main"),
		chromedp.Click(`form[action="/dashboard/audit"] button`), chromedp.WaitVisible(".good-text")); err != nil {
		t.Fatal(err)
	}
	a11y("audit-verified")
	capture("audit-verified")
	if s := text(); !strings.Contains(s, "The chain verifies") || strings.Count(s, "case.decision") < 2 || !strings.Contains(s, ctok.ID) {
		t.Fatalf("audit page: %s", s)
	}

	// 7. Every other page.
	page("home", adminURL+"/dashboard/")
	page("cases-all", adminURL+"/dashboard/cases?status=all")
	page("accounts", adminURL+"/dashboard/accounts")
	page("account-held", adminURL+"/dashboard/accounts/"+held.ID)
	page("zones", adminURL+"/dashboard/zones")
	zs, _ := n.db.ListZones(context.Background(), store.ZoneFilter{})
	for _, z := range zs {
		if z.Host == "shop.example" {
			page("zone", adminURL+"/dashboard/zones/"+z.ID)
		}
	}
	page("lists", adminURL+"/dashboard/lists")
	s := page("search", adminURL+"/dashboard/search?name=Bank+Mascan&kind=organization")
	if !strings.Contains(s, "BANK MASKAN") || !strings.Contains(s, "Why it matched") {
		t.Fatalf("search: %s", s)
	}
	tr := page("traffic", adminURL+"/dashboard/traffic")
	if !strings.Contains(tr, "shop.example") || !strings.Contains(tr, "451 (legal)") {
		t.Fatalf("traffic: %s", tr)
	}
	page("traffic-zone-day", adminURL+"/dashboard/traffic?zone=shop.example&range=day")
	ev := page("events", adminURL+"/dashboard/events?zone=shop.example")
	if !strings.Contains(ev, "legal_451") || !strings.Contains(ev, "AS64500") {
		t.Fatalf("the 451 answers are not among the security events, with their country and ASN: %s", ev)
	}
	ev = page("events-country", adminURL+"/dashboard/events?country=FR&asn=AS64500")
	if !strings.Contains(ev, "asn:64500") || !strings.Contains(ev, "legal_451") {
		t.Fatalf("events of AS64500: %s", ev)
	}
	// Origin health: down.example's dead origin on the overview and on
	// the zone's traffic page.
	if h := page("traffic-zone-health", adminURL+"/dashboard/traffic?zone=down.example"); !strings.Contains(h, "Origins: 2, 1 down") || !strings.Contains(h, "connection refused") {
		t.Fatalf("down.example's origin health: %s", h)
	}
	if h := page("home-health", adminURL+"/dashboard/"); !regexp.MustCompile(`\b1 of [0-9]+ origins down`).MatchString(h) {
		t.Fatalf("overview's origin health: %s", h)
	}
	// With JavaScript, uPlot draws the charts (no CSP violation stops it).
	if err := chromedp.Do(ctx, chromedp.Navigate(adminURL+"/dashboard/traffic"), chromedp.WaitVisible(".uplot")); err != nil {
		t.Fatalf("uPlot did not draw the traffic charts: %v", err)
	}
	capture("traffic-uplot")

	// 8. CSRF: the session's cookie without the form's token is refused.
	jar, _ := cookiejar.New(nil)
	au, _ := url.Parse(adminURL + "/dashboard/")
	jar.SetCookies(au, []*http.Cookie{{Name: "rampart_session", Value: session.Value, Path: "/dashboard/"}})
	stolen := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: plain.CheckRedirect}
	resp, err := stolen.PostForm(adminURL+"/dashboard/cases/"+caseID+"/decision", url.Values{"action": {"suspend"}, "reason": {"forged"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("decision without the CSRF token: %d, want 403", resp.StatusCode)
	}
	if cs, _ := n.db.GetCase(context.Background(), caseID); cs.Status != store.CaseReinstated {
		t.Fatalf("a forged form changed the case: %s", cs.Status)
	}

	// 9. A read token cannot decide (nor open the queue).
	rjar, _ := cookiejar.New(nil)
	reader := &http.Client{Jar: rjar, Timeout: 10 * time.Second, CheckRedirect: plain.CheckRedirect}
	resp, _ = reader.Get(adminURL + "/dashboard/signin")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	pre := csrfRe.FindStringSubmatch(string(b))[1]
	resp, _ = reader.PostForm(adminURL+"/dashboard/signin", url.Values{"csrf": {pre}, "token": {n.tokens[token.Read]}})
	resp.Body.Close()
	resp, _ = reader.Get(adminURL + "/dashboard/accounts")
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRe.FindStringSubmatch(string(b))
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("read token's accounts page: %d", resp.StatusCode)
	}
	resp, _ = reader.PostForm(adminURL+"/dashboard/cases/"+caseID+"/decision", url.Values{"action": {"suspend"}, "reason": {"read"}, "csrf": {m[1]}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("read token deciding: %d, want 403", resp.StatusCode)
	}

	// 9b. Purging a zone's cache needs an admin token; it is audited.
	var shopID string
	for _, z := range zs {
		if z.Host == "shop.example" {
			shopID = z.ID
		}
	}
	ajar, _ := cookiejar.New(nil)
	adminC := &http.Client{Jar: ajar, Timeout: 10 * time.Second, CheckRedirect: plain.CheckRedirect}
	resp, _ = adminC.Get(adminURL + "/dashboard/signin")
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	pre = csrfRe.FindStringSubmatch(string(b))[1]
	resp, _ = adminC.PostForm(adminURL+"/dashboard/signin", url.Values{"csrf": {pre}, "token": {n.tokens[token.Admin]}})
	resp.Body.Close()
	resp, _ = adminC.Get(adminURL + "/dashboard/zones/" + shopID)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	am := csrfRe.FindStringSubmatch(string(b))
	if am == nil || !strings.Contains(string(b), "Purge the cache") {
		t.Fatalf("admin's zone page has no purge form: %.300s", b)
	}
	resp, _ = adminC.PostForm(adminURL+"/dashboard/zones/"+shopID+"/purge", url.Values{"csrf": {am[1]}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "notice=purged-") {
		t.Fatalf("purge: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = reader.PostForm(adminURL+"/dashboard/zones/"+shopID+"/purge", url.Values{"csrf": {m[1]}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("read token purging: %d, want 403", resp.StatusCode)
	}

	// 10. Sign out in the browser: the old cookie stops working.
	if err := chromedp.Do(ctx, chromedp.Navigate(adminURL+"/dashboard/"), chromedp.WaitVisible(".signout button"),
		chromedp.Click(".signout button"), chromedp.WaitVisible("#token")); err != nil {
		t.Fatal(err)
	}
	capture("signed-out")
	resp, err = stolen.Get(adminURL + "/dashboard/cases")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "/dashboard/signin") {
		t.Fatalf("old session cookie after sign-out: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	t.Logf("%d screenshots in %s%s", shot, shotDir, map[bool]string{true: " and " + extra, false: ""}[extra != ""])
}
