package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/openapi"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store/sqlite"
)

// deskOptions builds the real compliance desk on SQLite in a temporary
// directory over the bundled lists.
func deskOptions(t *testing.T) Options {
	t.Helper()
	d := testDeps(t)
	db, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc, err := compliance.New(context.Background(), compliance.Options{Store: db, Screening: d.screener.(*screening.Service)})
	if err != nil {
		t.Fatal(err)
	}
	return Options{Screening: d.screener, Lists: d.lists, Compliance: svc, Store: db,
		Reporter: compliance.NewReporter(svc, config.ComplianceReports{})}
}

// TestOpenAPIMatchesRoutes checks GET /v1/openapi.json against the
// routing table: every registered route is described with its scope,
// every described route is registered, and every documented body field
// is one the handler accepts (a body of all documented fields is not
// refused for an unknown field, while a made-up field is).
func TestOpenAPIMatchesRoutes(t *testing.T) {
	opts := deskOptions(t)
	e := start(t, opts)
	s, err := New(Options{Tokens: e.store})
	if err != nil {
		t.Fatal(err)
	}
	routes := s.routes()
	var registered []string
	for _, r := range routes {
		registered = append(registered, r.pattern)
		if _, ok := apiDocs[r.pattern]; !ok {
			t.Errorf("route %s is registered but not described in apiDocs", r.pattern)
		}
	}
	for p := range apiDocs {
		if !slices.Contains(registered, p) {
			t.Errorf("apiDocs describes %s, which is not a registered route", p)
		}
	}

	a := e.do(t, "GET", "/v1/openapi.json", "", "", nil)
	if a.code != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /v1/openapi.json: %d %s", a.code, a.header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
		Comp    struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(a.body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	var described []string
	for path, ops := range doc.Paths {
		for m, raw := range ops {
			pat := strings.ToUpper(m) + " " + path
			described = append(described, pat)
			var op struct {
				Scope     string                     `json:"x-rampart-scope"`
				Responses map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(routes, func(r route) bool { return r.pattern == pat })
			if i < 0 {
				continue
			}
			if op.Scope != string(routes[i].scope) {
				t.Errorf("%s: document scope %q, route scope %q", pat, op.Scope, routes[i].scope)
			}
			if routes[i].scope != "" && (op.Responses["401"] == nil || op.Responses["403"] == nil) {
				t.Errorf("%s: needs a token but documents no 401/403", pat)
			}
		}
	}
	sort.Strings(described)
	sort.Strings(registered)
	if !slices.Equal(described, registered) {
		t.Errorf("document paths differ from the routes:\n doc    %v\n routes %v", described, registered)
	}
	// Every body type named by a $ref is in components.
	for name := range doc.Comp.Schemas {
		if name == "" {
			t.Error("empty component name")
		}
	}
	if !strings.Contains(string(a.body), `"account_id"`) || !strings.Contains(string(a.body), `"rate_limit"`) {
		t.Error("the zone body's fields (account_id, rate_limit) are not documented")
	}

	// Documented body fields are accepted by the real handlers.
	acc := e.do(t, "POST", "/v1/accounts", "admin", "application/json", strings.NewReader(`{"name": "Plain Bakery Ltd", "kind": "organization"}`))
	var accID struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(acc.body, &accID); err != nil || acc.code != 201 {
		t.Fatalf("creating an account: %d %s", acc.code, acc.body)
	}
	for pat, d := range apiDocs {
		if d.body == nil {
			continue
		}
		method, path, _ := strings.Cut(pat, " ")
		path = strings.ReplaceAll(path, "{id}", "nosuchid")
		fields := openapi.Fields(d.body)
		body := map[string]any{}
		for _, f := range fields {
			body[f] = nil // null decodes into any type
		}
		if _, ok := body["account_id"]; ok {
			body["account_id"] = accID.ID
		}
		b, _ := json.Marshal(body)
		ans := e.do(t, method, path, "admin", "application/json", strings.NewReader(string(b)))
		if ans.code == http.StatusBadRequest || ans.code == http.StatusUnprocessableEntity {
			msg := ans.errMsg(t)
			for _, f := range fields {
				if strings.Contains(msg, "unknown field") || strings.Contains(msg, `"`+f+`" is not`) || strings.Contains(msg, "not a field") {
					t.Errorf("%s: a documented field is refused: %s", pat, msg)
					break
				}
			}
		}
		body["zz_not_documented"] = 1
		b, _ = json.Marshal(body)
		ans = e.do(t, method, path, "admin", "application/json", strings.NewReader(string(b)))
		if ans.code < 400 || ans.code >= 500 || !strings.Contains(ans.errMsg(t), "zz_not_documented") {
			// Routes that fail before reading the body (404 for a
			// missing id, 503) cannot tell; the zone create route does.
			if ans.code != http.StatusNotFound && ans.code != http.StatusServiceUnavailable {
				t.Errorf("%s: an undocumented field was not refused by name: %d %s", pat, ans.code, ans.body)
			}
		}
	}
}
