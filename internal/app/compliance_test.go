package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"

	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/backend"
	"github.com/rampart-edge/rampart/internal/store/storetest"
	"github.com/rampart-edge/rampart/internal/testenv"
	"github.com/rampart-edge/rampart/internal/testlog"
	"github.com/rampart-edge/rampart/internal/token"
)

// pgSchemaURL is a fresh PostgreSQL schema (dropped after the test) on
// the ephemeral cluster testenv starts (or RAMPART_TEST_POSTGRES's
// database), as a store URL.
func pgSchemaURL(t *testing.T) string {
	t.Helper()
	return testenv.Postgres(t)
}

// deskApp is a running app with the compliance desk and one token per
// scope, created in its store as `rampart token create` does.
type deskApp struct {
	*running
	tokens map[token.Scope]string
	store  store.Store // a second handle on the app's store, for tampering
}

func startDesk(t *testing.T, storeURL string, zonesYAML string) *deskApp {
	t.Helper()
	return startDeskWith(t, storeURL, "", "", zonesYAML)
}

// startDeskWith is startDesk with more YAML: complianceYAML inside the
// compliance block (indented by 2), topYAML at the top level.
func startDeskWith(t *testing.T, storeURL, complianceYAML, topYAML, zonesYAML string) *deskApp {
	t.Helper()
	dataDir := t.TempDir()
	ofac, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "sanctions", "ofac"))
	ctx := context.Background()
	s, err := backend.Open(ctx, dataDir, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ts := &store.TokenStore{S: s}
	toks := map[token.Scope]string{}
	for _, sc := range []token.Scope{token.Admin, token.Compliance, token.Read} {
		plain, _, err := ts.Create(sc, "test")
		if err != nil {
			t.Fatal(err)
		}
		toks[sc] = plain
	}
	storeLine := ""
	if storeURL != "" {
		storeLine = fmt.Sprintf("store: %q", storeURL)
	}
	cfg := parseConfig(t, fmt.Sprintf(`
log: {format: "off"}
data_dir: %s
%s
compliance:
  lists: [%s]
  embargoed_regions: [IR, KP]
  blocked_by_url: https://compliance.example.net/
%s
%s
zones:
%s
`, dataDir, storeLine, ofac, complianceYAML, topYAML, zonesYAML))
	logs := &testlog.Buffer{}
	a, err := New(cfg, Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	r := &running{App: a, cancel: cancel, done: make(chan error, 1), logs: logs}
	go func() { r.done <- a.Run(rctx) }()
	t.Cleanup(func() { r.stop(t) })
	return &deskApp{running: r, tokens: toks, store: s}
}

var client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// api calls the admin API with the token of scope (none for "").
func (d *deskApp) api(t *testing.T, method, path string, scope token.Scope, body string) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, "http://"+d.Addrs().Admin+path, rd)
	if scope != "" {
		req.Header.Set("Authorization", "Bearer "+d.tokens[scope])
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// edge sends a request to the public listener with Host host.
func (d *deskApp) edge(t *testing.T, method, host, path, form string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if form != "" {
		rd = strings.NewReader(form)
	}
	req, _ := http.NewRequest(method, d.url(path), rd)
	req.Host = host
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// waitEdge polls the edge until host answers code (zone changes reach the
// routing table within a second), failing after 2 s.
func (d *deskApp) waitEdge(t *testing.T, host string, code int) (*http.Response, string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		resp, body := d.edge(t, "GET", host, "/", "")
		if resp.StatusCode == code || time.Now().After(deadline) {
			return resp, body
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var caseRe = regexp.MustCompile(`case_[0-9a-f]{16}`)

func TestComplianceDeskEndToEnd(t *testing.T) {
	for _, backendName := range []string{"sqlite", "postgres"} {
		t.Run(backendName, func(t *testing.T) {
			storeURL := ""
			if backendName == "postgres" {
				storeURL = pgSchemaURL(t)
			}
			o := newOrigin(t, "origin")
			d := startDesk(t, storeURL, fmt.Sprintf(`
  - host: config.example
    origins: [%s]
  - host: www.bank-maskan.ir
    origins: [%s]
`, o.URL, o.URL))

			// A config zone whose host is listed (ofac-sdn 4633 BANK MASKAN,
			// website bank-maskan.ir) is not served, and the log says so.
			if resp, _ := d.edge(t, "GET", "www.bank-maskan.ir", "/", ""); resp.StatusCode != http.StatusUnavailableForLegalReasons {
				t.Errorf("listed config zone: %d, want 451", resp.StatusCode)
			}
			if !strings.Contains(d.logs.String(), "config zone not served") {
				t.Error("no log line for the listed config zone")
			}
			if resp, body := d.edge(t, "GET", "config.example", "/", ""); resp.StatusCode != 200 || !strings.Contains(body, "origin") {
				t.Errorf("config zone: %d %s", resp.StatusCode, body)
			}

			// Onboarding through the API.
			code, body, _ := d.api(t, "POST", "/v1/accounts", token.Admin, `{"name":"Quiet Meadow Bakery","kind":"organization","country":"NL","email":"owner@quietmeadow.example"}`)
			if code != 201 || !strings.Contains(body, `"status":"active"`) {
				t.Fatalf("POST /v1/accounts: %d %s", code, body)
			}
			var acc struct{ ID string }
			_ = json.Unmarshal([]byte(body), &acc)
			code, body, _ = d.api(t, "POST", "/v1/accounts", token.Admin, `{"name":"Bank Maskan","kind":"organization"}`)
			if code != 201 || !strings.Contains(body, `"status":"review"`) || !strings.Contains(body, "ofac-sdn") {
				t.Fatalf("listed account: %d %s", code, body)
			}
			code, body, _ = d.api(t, "POST", "/v1/zones", token.Admin, fmt.Sprintf(`{"account_id":%q,"host":"shop.example","origins":[%q]}`, acc.ID, o.URL))
			if code != 201 || !strings.Contains(body, `"status":"active"`) {
				t.Fatalf("POST /v1/zones: %d %s", code, body)
			}
			var zone struct{ ID string }
			_ = json.Unmarshal([]byte(body), &zone)
			code, body, _ = d.api(t, "POST", "/v1/zones", token.Admin, fmt.Sprintf(`{"account_id":%q,"host":"www.h-terre.org","origins":[%q]}`, acc.ID, o.URL))
			if code != 201 || !strings.Contains(body, `"status":"rejected"`) {
				t.Fatalf("listed website zone: %d %s", code, body)
			}
			if code, body, _ = d.api(t, "POST", "/v1/zones", token.Admin, fmt.Sprintf(`{"account_id":%q,"host":"shop.example","origins":[%q]}`, acc.ID, o.URL)); code != 409 {
				t.Errorf("duplicate zone: %d %s", code, body)
			}
			// The API zone is served within a second.
			if resp, body := d.waitEdge(t, "shop.example", 200); resp.StatusCode != 200 || !strings.Contains(body, "host=shop.example") {
				t.Fatalf("API zone at the edge: %d %s", resp.StatusCode, body)
			}
			if resp, _ := d.waitEdge(t, "www.h-terre.org", 451); resp.StatusCode != 451 {
				t.Errorf("rejected API zone at the edge: %d", resp.StatusCode)
			}
			code, body, _ = d.api(t, "GET", "/v1/zones/"+zone.ID, token.Read, "")
			if code != 200 || !strings.Contains(body, `"host":"shop.example"`) {
				t.Errorf("GET zone: %d %s", code, body)
			}
			code, body, _ = d.api(t, "GET", "/v1/zones?source=api", token.Read, "")
			if code != 200 || strings.Count(body, `"source":"api"`) != 2 {
				t.Errorf("GET zones: %d %s", code, body)
			}

			// A report through the public form on the zone.
			resp, page := d.edge(t, "GET", "shop.example", "/.well-known/rampart/report", "")
			if resp.StatusCode != 200 || !strings.Contains(page, "<form") || !strings.Contains(page, `value="shop.example"`) {
				t.Fatalf("report form: %d %s", resp.StatusCode, page)
			}
			form := url.Values{"host": {"shop.example"}, "category": {"sanctions"}, "description": {"This shop sells for a listed company."},
				"evidence_urls": {"https://evidence.example/1"}, "form_token": {formToken(t, page)}}
			resp, page = d.edge(t, "POST", "shop.example", "/.well-known/rampart/report", form.Encode())
			caseID := caseRe.FindString(page)
			if resp.StatusCode != 202 || caseID == "" {
				t.Fatalf("form submission: %d %s", resp.StatusCode, page)
			}
			// A second report through the API joins the case.
			code, body, _ = d.api(t, "POST", "/v1/reports", "", `{"host":"shop.example","category":"sanctions","description":"Still selling for the listed company."}`)
			if code != 202 || !strings.Contains(body, caseID) {
				t.Fatalf("POST /v1/reports: %d %s, want case %s", code, body, caseID)
			}
			code, body, _ = d.api(t, "GET", "/v1/cases/"+caseID, token.Compliance, "")
			if code != 200 || !strings.Contains(body, `"report_count":2`) || !strings.Contains(body, `"known_since"`) {
				t.Fatalf("GET case: %d %s", code, body)
			}
			code, body, _ = d.api(t, "GET", "/v1/cases?status=open&category=sanctions&host=shop.example", token.Compliance, "")
			if code != 200 || !strings.Contains(body, caseID) {
				t.Errorf("GET cases: %d %s", code, body)
			}

			// Suspend: 451 with the Link header; reinstate: 200.
			if code, body, _ = d.api(t, "POST", "/v1/cases/"+caseID+"/decision", token.Compliance, `{"action":"suspend"}`); code != 422 {
				t.Errorf("decision without reason: %d %s", code, body)
			}
			code, body, _ = d.api(t, "POST", "/v1/cases/"+caseID+"/decision", token.Compliance, `{"action":"suspend","reason":"owner confirmed as listed"}`)
			if code != 200 {
				t.Fatalf("suspend: %d %s", code, body)
			}
			resp, page = d.edge(t, "GET", "shop.example", "/", "")
			wantLink := `<https://compliance.example.net/v1/cases/` + caseID + `>; rel="blocked-by"`
			if resp.StatusCode != 451 || resp.Header.Get("Link") != wantLink || !strings.Contains(page, "sanctions") {
				t.Fatalf("suspended zone: %d Link=%q %s", resp.StatusCode, resp.Header.Get("Link"), page)
			}
			if code, body, _ = d.api(t, "POST", "/v1/cases/"+caseID+"/decision", token.Compliance, `{"action":"reinstate","reason":"ownership changed"}`); code != 200 {
				t.Fatalf("reinstate: %d %s", code, body)
			}
			if resp, _ := d.edge(t, "GET", "shop.example", "/", ""); resp.StatusCode != 200 {
				t.Fatalf("reinstated zone: %d", resp.StatusCode)
			}

			// PATCH and DELETE.
			if code, body, _ = d.api(t, "PATCH", "/v1/zones/"+zone.ID, token.Admin, `{"aliases":["www.shop.example"]}`); code != 200 || !strings.Contains(body, "www.shop.example") {
				t.Errorf("PATCH zone: %d %s", code, body)
			}
			if resp, _ := d.waitEdge(t, "www.shop.example", 200); resp.StatusCode != 200 {
				t.Errorf("new alias at the edge: %d", resp.StatusCode)
			}
			if code, body, _ = d.api(t, "DELETE", "/v1/zones/"+zone.ID, token.Admin, ""); code != 204 {
				t.Errorf("DELETE zone: %d %s", code, body)
			}
			if resp, _ := d.waitEdge(t, "shop.example", 421); resp.StatusCode != 421 {
				t.Errorf("deleted zone at the edge: %d, want 421", resp.StatusCode)
			}

			// Audit: intact, exported, then tampered with.
			code, body, _ = d.api(t, "GET", "/v1/audit/verify", token.Compliance, "")
			if code != 200 || !strings.Contains(body, `"ok":true`) {
				t.Fatalf("verify: %d %s", code, body)
			}
			code, body, _ = d.api(t, "GET", "/v1/audit?from=1&limit=5", token.Compliance, "")
			if code != 200 || strings.Count(body, `"hash"`) != 5 {
				t.Errorf("audit page: %d %s", code, body)
			}
			code, body, hdr := d.api(t, "GET", "/v1/audit?format=jsonl", token.Compliance, "")
			if code != 200 || hdr.Get("Content-Type") != "application/jsonl" || strings.Count(body, "\n") < 10 || !strings.Contains(body, `"case.decision"`) {
				t.Errorf("jsonl export: %d %.200s", code, body)
			}
			if !strings.Contains(body, `"token.create"`) || !strings.Contains(body, `"zone.delete"`) {
				t.Errorf("export lacks token.create or zone.delete entries")
			}
			storetest.DropAuditTriggers(t, d.store)
			if err := d.store.(storetest.RawExecer).RawExec(context.Background(), `UPDATE audit_log SET actor = 'mallory' WHERE seq = 3`); err != nil {
				t.Fatal(err)
			}
			code, body, _ = d.api(t, "GET", "/v1/audit/verify", token.Compliance, "")
			if code != 200 || !strings.Contains(body, `"ok":false`) {
				t.Errorf("verify after tampering: %d %s", code, body)
			}
		})
	}
}

// TestComplianceRoutesScopesAndErrors checks every new route against
// each scope and bad bodies.
func TestComplianceRoutesScopesAndErrors(t *testing.T) {
	d := startDesk(t, "", "  - host: config.example\n    origins: [http://127.0.0.1:9]\n")
	routes := []struct {
		method, path string
		need         token.Scope
	}{
		{"GET", "/v1/accounts", token.Read},
		{"POST", "/v1/accounts", token.Admin},
		{"GET", "/v1/accounts/acc_x", token.Read},
		{"GET", "/v1/zones", token.Read},
		{"POST", "/v1/zones", token.Admin},
		{"GET", "/v1/zones/zone_x", token.Read},
		{"PATCH", "/v1/zones/zone_x", token.Admin},
		{"DELETE", "/v1/zones/zone_x", token.Admin},
		{"GET", "/v1/cases", token.Compliance},
		{"GET", "/v1/cases/case_x", token.Compliance},
		{"POST", "/v1/cases/case_x/decision", token.Compliance},
		{"POST", "/v1/accounts/acc_x/decision", token.Compliance},
		{"GET", "/v1/audit", token.Compliance},
		{"GET", "/v1/audit/verify", token.Compliance},
		{"GET", "/v1/audit/export", token.Compliance},
	}
	rank := map[token.Scope]int{token.Read: 0, token.Compliance: 1, token.Admin: 2}
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			if code, _, _ := d.api(t, rt.method, rt.path, "", ""); code != 401 {
				t.Errorf("no token: %d, want 401", code)
			}
			for sc, r := range rank {
				code, body, _ := d.api(t, rt.method, rt.path, sc, "")
				if r < rank[rt.need] && code != 403 {
					t.Errorf("scope %s: %d, want 403", sc, code)
				}
				if r >= rank[rt.need] && (code == 401 || code == 403) {
					t.Errorf("scope %s: %d %s, want access", sc, code, body)
				}
			}
		})
	}
	bad := []struct {
		name, path, body string
		want             int
	}{
		{"bad json", "/v1/accounts", `{"name":`, 400},
		{"unknown field", "/v1/accounts", `{"name":"x","nickname":"y"}`, 400},
		{"wrong type", "/v1/accounts", `{"name":5}`, 400},
		{"oversized", "/v1/accounts", `{"name":"` + strings.Repeat("a", 70<<10) + `"}`, 413},
		{"invalid kind", "/v1/accounts", `{"name":"x","kind":"robot"}`, 422},
		{"zone bad json", "/v1/zones", `[1,2]`, 400},
		{"zone unknown field", "/v1/zones", `{"account_id":"acc_x","host":"a.example","origins":["http://127.0.0.1:9"],"colour":"red"}`, 422},
		{"report unknown field", "/v1/reports", `{"host":"a.example","category":"abuse","description":"0123456789","x":1}`, 400},
		{"report invalid", "/v1/reports", `{"host":"a.example","category":"spam","description":"0123456789"}`, 422},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			code, body, _ := d.api(t, "POST", tt.path, token.Admin, tt.body)
			if code != tt.want || !strings.Contains(body, `"error"`) {
				t.Errorf("%d %s, want %d with an error", code, body, tt.want)
			}
		})
	}
}

// BenchmarkOnboardingHTTP onboards one account and one zone per iteration
// through the admin API over a real loopback connection, with every
// bundled list loaded (target: under 20 ms each). The zone goes live on
// the edge shortly after the answer (the routing table is rebuilt in the
// background).
func BenchmarkOnboardingHTTP(b *testing.B) {
	dataDir := b.TempDir()
	s, err := backend.Open(context.Background(), dataDir, "")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	admin, _, err := (&store.TokenStore{S: s}).Create(token.Admin, "bench")
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Parse(filepath.Join(b.TempDir(), "rampart.yaml"), []byte(fmt.Sprintf(`
log: {format: "off"}
data_dir: %s
zones:
  - host: config.example
    origins: [http://127.0.0.1:9]
`, dataDir)))
	if err != nil {
		b.Fatal(err)
	}
	cfg.Listen.HTTP, cfg.Listen.Admin = "127.0.0.1:0", "127.0.0.1:0"
	a, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	post := func(path, body string) string {
		req, _ := http.NewRequest("POST", "http://"+a.Addrs().Admin+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 201 {
			b.Fatalf("%s: %d %s", path, resp.StatusCode, out)
		}
		return string(out)
	}
	var accDur, zoneDur time.Duration
	i := 0
	for b.Loop() {
		i++
		t0 := time.Now()
		out := post("/v1/accounts", fmt.Sprintf(`{"name":"Quiet Meadow Bakery %d","kind":"organization","country":"NL","email":"o%d@quietmeadow.example"}`, i, i))
		t1 := time.Now()
		var acc struct{ ID string }
		_ = json.Unmarshal([]byte(out), &acc)
		post("/v1/zones", fmt.Sprintf(`{"account_id":%q,"host":"shop%d.quietmeadow.example","origins":["http://127.0.0.1:9"]}`, acc.ID, i))
		accDur += t1.Sub(t0)
		zoneDur += time.Since(t1)
	}
	b.ReportMetric(float64(accDur.Microseconds())/float64(b.N)/1000, "ms/account")
	b.ReportMetric(float64(zoneDur.Microseconds())/float64(b.N)/1000, "ms/zone")
}
