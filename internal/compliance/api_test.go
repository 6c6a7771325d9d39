package compliance_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/admin"
	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/token"
)

// TestAccountDecisionAPI clears an account held in review through
// POST /v1/accounts/{id}/decision on a real admin listener: scopes,
// validation, the zone that follows and the audit entry with the token id.
func TestAccountDecisionAPI(t *testing.T) {
	scr := compliance.HookSharedScreening(t)
	for _, b := range compliance.HookBackends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Open(t)
			c := compliance.HookNewService(t, s, scr, config.OnHitReview)
			toks := token.NewMemory()
			plain := map[token.Scope]string{}
			var compID string
			for _, sc := range []token.Scope{token.Read, token.Compliance, token.Admin} {
				p, tk, err := toks.Create(sc, "test")
				if err != nil {
					t.Fatal(err)
				}
				plain[sc] = p
				if sc == token.Compliance {
					compID = tk.ID
				}
			}
			srv, err := admin.New(admin.Options{Tokens: toks, Compliance: c, Store: s})
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(srv.Handler())
			defer ts.Close()

			a := store.Account{ID: "acc_api", Name: "Held Holdings", Kind: store.KindOrganization, Status: store.AccountReview, Screening: json.RawMessage(`{}`)}
			if err := s.InsertAccounts(ctx, []store.Account{a}); err != nil {
				t.Fatal(err)
			}
			z := store.Zone{AccountID: a.ID, Host: "held.example", Aliases: json.RawMessage(`[]`), Origins: json.RawMessage(`[]`), Settings: json.RawMessage(`{}`),
				Status: store.ZoneReview, Reasons: json.RawMessage(`["account acc_api is in review"]`), Source: store.SourceAPI}
			if err := s.CreateZone(ctx, &z); err != nil {
				t.Fatal(err)
			}
			call := func(scope token.Scope, path, body string) (int, string) {
				req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if scope != "" {
					req.Header.Set("Authorization", "Bearer "+plain[scope])
				}
				resp, err := ts.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				out, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(out)
			}
			path := "/v1/accounts/" + a.ID + "/decision"
			for _, tc := range []struct {
				name  string
				scope token.Scope
				path  string
				body  string
				want  int
			}{
				{"no token", "", path, `{"action":"clear","reason":"ok"}`, 401},
				{"read scope", token.Read, path, `{"action":"clear","reason":"ok"}`, 403},
				{"no reason", token.Compliance, path, `{"action":"clear"}`, 422},
				{"bad action", token.Compliance, path, `{"action":"approve","reason":"ok"}`, 422},
				{"unknown field", token.Compliance, path, `{"action":"clear","reason":"ok","x":1}`, 400},
				{"bad json", token.Compliance, path, `{"action":`, 400},
				{"unknown account", token.Compliance, "/v1/accounts/acc_nope/decision", `{"action":"clear","reason":"ok"}`, 404},
				{"already in review", token.Compliance, path, `{"action":"review","reason":"ok"}`, 409},
			} {
				t.Run(tc.name, func(t *testing.T) {
					if code, body := call(tc.scope, tc.path, tc.body); code != tc.want || !strings.Contains(body, `"error"`) {
						t.Errorf("%d %s, want %d with an error", code, body, tc.want)
					}
				})
			}
			code, body := call(token.Compliance, path, `{"action":"clear","reason":"false positive: registry checked"}`)
			if code != 200 {
				t.Fatalf("clear: %d %s", code, body)
			}
			var d compliance.AccountDecision
			if err := json.Unmarshal([]byte(body), &d); err != nil {
				t.Fatal(err)
			}
			if d.Account.Status != store.AccountActive || len(d.Zones) != 1 || d.Zones[0].To != store.ZoneActive {
				t.Fatalf("decision %s", body)
			}
			if st, ok := c.ZoneState("held.example"); !ok || st.Status != store.ZoneActive {
				t.Errorf("edge state %+v %v, want active", st, ok)
			}
			found := false
			for e, err := range s.Entries(ctx, 0) {
				if err != nil {
					t.Fatal(err)
				}
				if e.Action == audit.ActionAccountUpdate && e.Subject == "account:"+a.ID && e.Actor == compID {
					found = true
				}
			}
			if !found {
				t.Errorf("no account.update audit entry by token %s", compID)
			}
		})
	}
}
