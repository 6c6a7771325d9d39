package compliance_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/admin"
	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/token"
)

// TestCaseDeskAPI drives the case desk's admin routes on a real admin
// listener: per-match review (scopes, validation, whitelist reason),
// assignment ("me"), comments, the queue filters, and GET /v1/cases/{id}
// with the reviews, comments, assignee and the audit-log timeline.
func TestCaseDeskAPI(t *testing.T) {
	scr := compliance.HookSharedScreening(t)
	for _, b := range compliance.HookBackends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Open(t)
			c := compliance.HookNewService(t, s, scr, config.OnHitReview)
			toks := token.NewMemory()
			plain := map[token.Scope]string{}
			var compID string
			for _, sc := range []token.Scope{token.Read, token.Compliance} {
				p, tk, err := toks.Create(sc, "desk officer")
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
			call := func(scope token.Scope, method, path, body string) (int, string) {
				req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
				if body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				req.Header.Set("Authorization", "Bearer "+plain[scope])
				resp, err := ts.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				out, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(out)
			}

			res, err := c.CreateAccount(ctx, compliance.AccountInput{Name: "Bank Maskan", Kind: "organization"}, "tok_admin")
			if err != nil || res.Status != store.AccountReview || len(res.Screening.Matches) == 0 {
				t.Fatalf("held account: %+v %v", res, err)
			}
			match := res.Screening.Matches[0].ID
			cs, err := s.FindActiveCase(ctx, compliance.AccountCaseHost(res.ID), store.CategorySanctions)
			if err != nil {
				t.Fatal(err)
			}
			review := "/v1/cases/" + cs.ID + "/matches/" + url.PathEscape(match) + "/review"
			for _, tc := range []struct {
				name   string
				scope  token.Scope
				method string
				path   string
				body   string
				want   int
			}{
				{"review with a read token", token.Read, "POST", review, `{"verdict":"no_match"}`, 403},
				{"assign with a read token", token.Read, "POST", "/v1/cases/" + cs.ID + "/assign", `{"me":true}`, 403},
				{"comment with a read token", token.Read, "POST", "/v1/cases/" + cs.ID + "/comments", `{"body":"x"}`, 403},
				{"whitelist without reason", token.Compliance, "POST", review, `{"verdict":"whitelisted"}`, 422},
				{"bad verdict", token.Compliance, "POST", review, `{"verdict":"maybe"}`, 422},
				{"unknown field", token.Compliance, "POST", review, `{"verdict":"no_match","score":1}`, 400},
				{"unknown match", token.Compliance, "POST", "/v1/cases/" + cs.ID + "/matches/ofac-sdn:1/review", `{"verdict":"no_match"}`, 404},
				{"unknown case", token.Compliance, "POST", "/v1/cases/case_nope/matches/" + match + "/review", `{"verdict":"no_match"}`, 404},
				{"empty comment", token.Compliance, "POST", "/v1/cases/" + cs.ID + "/comments", `{"body":" "}`, 422},
				{"long assignee", token.Compliance, "POST", "/v1/cases/" + cs.ID + "/assign", `{"assignee":"` + strings.Repeat("a", 101) + `"}`, 422},
				{"bad unassigned", token.Compliance, "GET", "/v1/cases?unassigned=maybe", "", 400},
			} {
				t.Run(tc.name, func(t *testing.T) {
					if code, body := call(tc.scope, tc.method, tc.path, tc.body); code != tc.want || !strings.Contains(body, `"error"`) {
						t.Errorf("%d %s, want %d with an error", code, body, tc.want)
					}
				})
			}
			code, body := call(token.Compliance, "POST", review, `{"verdict":"whitelisted","reason":"a different bank: registry checked"}`)
			if code != 201 || !strings.Contains(body, `"verdict":"whitelisted"`) || !strings.Contains(body, `"subject_type":"account"`) {
				t.Fatalf("review: %d %s", code, body)
			}
			if code, body = call(token.Compliance, "POST", "/v1/cases/"+cs.ID+"/assign", `{"me":true}`); code != 200 || !strings.Contains(body, `"assignee":"desk officer"`) {
				t.Fatalf("assign to me: %d %s", code, body)
			}
			if code, body = call(token.Compliance, "POST", "/v1/cases/"+cs.ID+"/comments", `{"body":"Registry extract attached to the file."}`); code != 201 ||
				!strings.Contains(body, `"author":"`+compID+`"`) || !strings.Contains(body, `"author_name":"desk officer"`) {
				t.Fatalf("comment: %d %s", code, body)
			}
			for q, want := range map[string]int{"assignee=" + url.QueryEscape("desk officer"): 1, "unassigned=true": 0, "assignee=nobody": 0} {
				code, body := call(token.Compliance, "GET", "/v1/cases?"+q, "")
				var out struct {
					Cases []store.Case `json:"cases"`
				}
				if code != 200 || json.Unmarshal([]byte(body), &out) != nil || len(out.Cases) != want {
					t.Errorf("cases?%s: %d %s, want %d cases", q, code, body, want)
				}
			}
			code, _ = call(token.Read, "GET", "/v1/cases/"+cs.ID, "")
			if code != 403 {
				t.Errorf("case with a read token: %d", code)
			}
			code, body = call(token.Compliance, "GET", "/v1/cases/"+cs.ID, "")
			var tl compliance.Timeline
			if code != 200 || json.Unmarshal([]byte(body), &tl) != nil {
				t.Fatalf("case: %d %s", code, body)
			}
			if tl.Case.Assignee != "desk officer" || len(tl.Reviews) != 1 || tl.Reviews[0].MatchID != match || len(tl.Comments) != 1 {
				t.Fatalf("case answer %s", body)
			}
			kinds := map[string]int64{}
			for _, e := range tl.Events {
				kinds[e.Kind] = e.Seq
			}
			for _, k := range []string{"account.create", "screening.run", "case.open", compliance.ActionCaseReview, compliance.ActionCaseAssign, compliance.ActionCaseComment} {
				if kinds[k] == 0 {
					t.Errorf("events lack %s with a seq: %+v", k, tl.Events)
				}
			}
			if !strings.Contains(body, `"match_reviews":[`) || !strings.Contains(body, `"comments":[`) || !strings.Contains(body, `"seq":`) {
				t.Errorf("case answer lacks a field: %s", body)
			}
		})
	}
}
