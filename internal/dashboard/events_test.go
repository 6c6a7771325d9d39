package dashboard

import (
	"context"
	_ "embed"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rampart-edge/rampart/internal/rollup"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/testenv"
	"github.com/rampart-edge/rampart/internal/token"
)

// twoNodeEvents starts two nodes on one PostgreSQL, samples a WAF block
// on node a and a rate limit and a challenge on node b, flushes both,
// and returns the nodes, a client signed in on a, and the read token.
func twoNodeEvents(t *testing.T) (a, b *pgNode, c *http.Client, tok string) {
	t.Helper()
	u := testenv.Postgres(t)
	a = newPGNode(t, u, "node-a")
	b = newPGNode(t, u, "node-b")
	now := time.Now().UTC()
	a.traffic.RecordEvent(rollup.Event{Time: now.Add(-2 * time.Second), Zone: "shop.example", Action: "waf_blocked", RuleID: "942100",
		ClientIP: "203.0.113.7", Country: "FR", ASN: 64500, Method: "GET", Path: "/login?user=' OR 1=1--", UserAgent: "sqlmap/1.8",
		Status: 403, RequestID: "req-a1"})
	b.traffic.RecordEvent(rollup.Event{Time: now.Add(-time.Second), Zone: "shop.example", Action: "rate_limited", RuleID: "login-burst",
		ClientIP: "198.51.100.9", Country: "DE", ASN: 64501, Method: "POST", Path: "/login", UserAgent: "python-requests/2.32",
		Status: 429, RequestID: "req-b1"})
	b.traffic.RecordEvent(rollup.Event{Time: now, Zone: "blog.example", Action: "challenged", ClientIP: "2001:db8::5", Method: "GET",
		Path: "/feed", UserAgent: "Mozilla/5.0", Status: 403, RequestID: "req-b2"})
	for _, n := range []*pgNode{a, b} {
		if got, err := n.flusher.FlushEvents(context.Background()); err != nil || got == 0 {
			t.Fatalf("%s flushed %d events: %v", n.flusher.Node, got, err)
		}
	}
	tok, _, err := (&store.TokenStore{S: a.db}).Create(token.Read, "events")
	if err != nil {
		t.Fatal(err)
	}
	c = newClient()
	signIn(t, c, a.srv.URL, tok)
	return a, b, c, tok
}

// exported reads a node's JSON export of the events that pass query.
func exported(t *testing.T, c *http.Client, base, query string) []rollup.Event {
	t.Helper()
	code, body, h := get(t, c, base+"/dashboard/events.json?"+query)
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("events.json?%s: %d %s", query, code, h.Get("Content-Type"))
	}
	var ex struct{ Events []rollup.Event }
	if err := json.Unmarshal([]byte(body), &ex); err != nil {
		t.Fatalf("events.json?%s: %v", query, err)
	}
	return ex.Events
}

// TestEventsTwoNodesOnePostgres (issue 15): an event blocked on node a
// shows on node b's events page and in b's JSON export with its node,
// and the other way round; the filters and the access rule from a
// filter work on the shared events; an event a node sampled but has not
// flushed yet shows nowhere else until its next flush.
func TestEventsTwoNodesOnePostgres(t *testing.T) {
	a, b, c, _ := twoNodeEvents(t)
	for _, n := range []*pgNode{a, b} {
		code, body, _ := get(t, c, n.srv.URL+"/dashboard/events")
		if code != 200 {
			t.Fatalf("events on %s: %d", n.flusher.Node, code)
		}
		for _, w := range []string{"Every node's events", `<th scope="col">Node</th>`, `<td class="nowrap">node-a</td>`, `<td class="nowrap">node-b</td>`, "203.0.113.7",
			"198.51.100.9", "2001:db8::5", "942100", "sqlmap/1.8"} {
			if !strings.Contains(body, w) {
				t.Errorf("events page of %s lacks %q", n.flusher.Node, w)
			}
		}
	}
	evs := exported(t, c, b.srv.URL, "")
	if len(evs) != 3 || evs[0].RequestID != "req-b2" || evs[1].RequestID != "req-b1" || evs[2].RequestID != "req-a1" {
		t.Fatalf("b's export: %+v", evs)
	}
	if e := evs[2]; e.Node != "node-a" || e.Action != "waf_blocked" || e.RuleID != "942100" || e.ClientIP != "203.0.113.7" ||
		e.Country != "FR" || e.ASN != 64500 || e.Path != "/login?user=' OR 1=1--" || e.Status != 403 || e.Method != "GET" {
		t.Fatalf("node a's event in b's export: %+v", e)
	}
	if evs[0].Node != "node-b" {
		t.Fatalf("node b's event: %+v", evs[0])
	}

	for _, tc := range []struct {
		query string
		want  []string // request ids, newest first
	}{
		{"ip=203.0.113.7", []string{"req-a1"}},
		{"zone=shop.example", []string{"req-b1", "req-a1"}},
		{"action=rate_limited", []string{"req-b1"}},
		{"country=fr", []string{"req-a1"}},
		{"asn=AS64501", []string{"req-b1"}},
		{"rule=942100", []string{"req-a1"}},
		{"path=/login", []string{"req-b1", "req-a1"}},
		{"path=/login%3F", []string{"req-a1"}},
		{"zone=shop.example&country=DE&path=/log", []string{"req-b1"}},
		{"zone=none.example", nil},
	} {
		var got []string
		for _, e := range exported(t, c, b.srv.URL, tc.query) {
			got = append(got, e.RequestID)
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("b's export of %s: %v, want %v", tc.query, got, tc.want)
		}
	}
	// The access rule from a filter on b names a's client.
	_, body, _ := get(t, c, b.srv.URL+"/dashboard/events?ip=203.0.113.7&zone=shop.example")
	if !strings.Contains(body, `- &#34;203.0.113.7&#34;`) || !strings.Contains(body, `<td class="nowrap">node-a</td>`) || strings.Contains(body, "198.51.100.9</a>") {
		t.Fatalf("b's page filtered on a's client: %.3000s", body)
	}

	// Sampled on a, not flushed yet: not on b; flushed: on b.
	a.traffic.RecordEvent(rollup.Event{Time: time.Now().UTC(), Zone: "shop.example", Action: "waf_blocked", ClientIP: "192.0.2.44",
		Method: "GET", Path: "/.env", Status: 403, RequestID: "req-a2"})
	if evs := exported(t, c, b.srv.URL, "ip=192.0.2.44"); len(evs) != 0 {
		t.Fatalf("b shows a's event before a flushed it: %+v", evs)
	}
	if n, err := a.flusher.FlushEvents(context.Background()); n != 1 || err != nil {
		t.Fatalf("a's second flush: %d, %v", n, err)
	}
	if evs := exported(t, c, b.srv.URL, "ip=192.0.2.44"); len(evs) != 1 || evs[0].Node != "node-a" {
		t.Fatalf("b after a's second flush: %+v", evs)
	}
}

// TestEventsThisNodeOnSQLite: without a shared store (one node on
// SQLite) the events page reads the node's sample, says so, and has no
// node column; the export has no node field.
func TestEventsThisNodeOnSQLite(t *testing.T) {
	r := newRig(t)
	r.trf.RecordEvent(rollup.Event{Time: time.Now(), Zone: "shop.example", Action: "waf_blocked", RuleID: "942100", ClientIP: "203.0.113.7",
		Method: "GET", Path: "/x", Status: 403})
	c := newClient()
	signIn(t, c, r.srv.URL, r.tokens[token.Read])
	code, body, _ := get(t, c, r.srv.URL+"/dashboard/events")
	if code != 200 || !strings.Contains(body, "This node's events") || strings.Contains(body, "Every node's events") ||
		strings.Contains(body, `<th scope="col">Node</th>`) || !strings.Contains(body, "203.0.113.7") {
		t.Fatalf("events page on SQLite: %d %.3000s", code, body)
	}
	code, body, _ = get(t, c, r.srv.URL+"/dashboard/events.json")
	if code != 200 || !strings.Contains(body, `"client_ip": "203.0.113.7"`) || strings.Contains(body, `"node"`) {
		t.Fatalf("export on SQLite: %d %s", code, body)
	}
	// Nothing went to the store: the SQLite node's events stay in memory.
	if evs, err := r.db.SecurityEvents(context.Background(), store.SecurityEventFilter{}); err != nil || len(evs) != 0 {
		t.Fatalf("the SQLite store holds %d events, %v", len(evs), err)
	}
}

//go:embed testdata/a11y.js
var eventsA11yJS string

// TestBrowserEventsTwoNodes: node b's events page in Chromium shows the
// events of both nodes, passes the accessibility check, and is kept as a
// screenshot (the test's artefact directory, and RAMPART_SCREENSHOTS
// when it names a directory).
func TestBrowserEventsTwoNodes(t *testing.T) {
	_, b, _, tok := twoNodeEvents(t)
	p := os.Getenv("RAMPART_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(p),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(1280, 800), chromedp.UserDataDir(t.TempDir()))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelTimeout()
	if err := chromedp.Do(ctx, chromedp.Navigate(b.srv.URL+"/dashboard/signin?next=/dashboard/events"), chromedp.WaitVisible("#token"),
		chromedp.SendKeys("#token", tok), chromedp.Submit("#token"), chromedp.WaitVisible("form.signout")); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(b.srv.URL+"/dashboard/events"), chromedp.WaitVisible("table.wide")); err != nil {
		t.Fatalf("events page: %v", err)
	}
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](eventsA11yJS))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("accessibility: %s", p)
	}
	text, err := chromedp.Run(ctx, chromedp.Text("main"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Every node's events", "node-a", "node-b", "203.0.113.7", "198.51.100.9"} {
		if !strings.Contains(text, w) {
			t.Errorf("the page as shown lacks %q", w)
		}
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{t.ArtifactDir(), os.Getenv("RAMPART_SCREENSHOTS")} {
		if dir == "" {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "events-two-nodes.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
