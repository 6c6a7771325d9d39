package feeds_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/app"
	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/feeds"
	"github.com/rampart-edge/rampart/internal/store"
)

// consPublication is OFAC's consolidated (non-SDN) CSV set of 2018
// (testdata/sanctions/ofac-consolidated) under the official names of the
// Sanctions List Service; CONS_COMMENTS.CSV is empty, as OFAC published it.
func consPublication(tb testing.TB) publication {
	return publication{
		"CONS_PRIM.CSV":     readReal(tb, "ofac-consolidated", "cons_prim.csv"),
		"CONS_ALT.CSV":      readReal(tb, "ofac-consolidated", "cons_alt.csv"),
		"CONS_ADD.CSV":      readReal(tb, "ofac-consolidated", "cons_add.csv"),
		"CONS_COMMENTS.CSV": readReal(tb, "ofac-consolidated", "cons_comments.csv"),
	}
}

func consFeed(url string) config.Feed {
	return config.Feed{Name: "ofac-consolidated", Source: config.FeedOFACConsolidated, URL: url, Interval: time.Second, Timeout: 2 * time.Second,
		Retries: 2, MaxSize: 8 << 20, MinEntities: config.DefaultFeedFloors[config.FeedOFACConsolidated], MaxAge: 7 * 24 * time.Hour}
}

// TestConsolidatedFeed fetches the consolidated set from a local server
// through the scheduler, next to the active SDN list: it becomes the
// ofac-cons version (dated by Last-Modified), the account named after a
// consolidated-only entry is re-screened into review, new accounts named
// after consolidated entries go to review with ofac-cons matches, the next
// check is a 304; a publication missing CONS_ALT.CSV and a truncated
// CONS_PRIM.CSV are refused (audited, counted) and the good version stays.
func TestConsolidatedFeed(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			data := t.TempDir()
			r := newRig(t, b.open(t), data)
			// ofac-cons:15268 BANK OF KUNLUN CO LTD (561 list) is on the
			// consolidated list only, not on the 2023 SDN list.
			kunlun, err := r.svc.CreateAccount(ctx, compliance.AccountInput{Name: "Bank of Kunlun Co., Ltd.", Kind: "organization"}, "tok")
			if err != nil || kunlun.Status != store.AccountActive {
				t.Fatalf("onboarding before the consolidated list: %+v %v", kunlun, err)
			}
			may := time.Date(2018, 5, 25, 14, 0, 0, 0, time.UTC)
			r.srv = newPubServer(t, consPublication(t), may)
			r.feed = consFeed(r.srv.URL + "/api/PublicationPreview/exports/")
			r.newScheduler(data)
			outcome := func(o string) float64 {
				return r.metric("rampart_list_fetch_results_total", map[string]string{"feed": "ofac-consolidated", "outcome": o})
			}
			check := func(t *testing.T, want string) feeds.Result {
				t.Helper()
				before := outcome(want)
				res := r.sched.Check(ctx, r.feed, nil)
				if res.Outcome != want || res.Source != "ofac-cons" {
					t.Fatalf("outcome %s (%s) source %s, want %s", res.Outcome, res.Error, res.Source, want)
				}
				if outcome(want) != before+1 {
					t.Errorf("rampart_list_fetch_results_total{outcome=%s} did not count it", want)
				}
				return res
			}

			res := check(t, feeds.OutcomeUpdated)
			snap := r.ls.Snapshot()
			v := snap.Versions["ofac-cons"]
			if v.Entities != 639 || !v.Published.Equal(may) || v.Origin != "feed:ofac-consolidated" ||
				strings.Join(v.Files, ",") != "cons_add.csv,cons_alt.csv,cons_comments.csv,cons_prim.csv" || res.Results[0].Summary.Added != 639 {
				t.Fatalf("ofac-cons version %+v", v)
			}
			if snap.Versions["ofac-sdn"].Hash != r.base {
				t.Fatal("the SDN version changed")
			}
			if a, err := r.st.GetAccount(ctx, kunlun.ID); err != nil || a.Status != store.AccountReview {
				t.Errorf("the Kunlun account after the re-screen: %+v %v", a, err)
			}
			for _, id := range append(slices.Clone(r.hitAcc), r.clean...) {
				if s := r.accountStatus(id); s != store.AccountActive {
					t.Errorf("account %s is %s", id, s)
				}
			}
			imp := r.lastAudit("list.import")
			var d map[string]any
			_ = json.Unmarshal(imp.Data, &d)
			if imp.Subject != "list:ofac-cons" || d["origin"] != "feed:ofac-consolidated" || d["published"] != "2018-05-25T14:00:00Z" || d["added"] != float64(639) || d["account_hits"] != float64(1) {
				t.Errorf("import audit entry %s %s", imp.Subject, imp.Data)
			}

			// The gate: new accounts named after consolidated entries go to
			// review, with the ofac-cons ids next to the SDN ones.
			for _, tc := range []struct{ name, id string }{
				{"Bank of Kunlun", "ofac-cons:15268"},
				{"Central Bank of Iran", "ofac-cons:4632"},
			} {
				res, err := r.svc.CreateAccount(ctx, compliance.AccountInput{Name: tc.name, Kind: "organization"}, "tok")
				if err != nil || res.Status != store.AccountReview {
					t.Fatalf("onboarding %q: %+v %v", tc.name, res, err)
				}
				var ids []string
				for _, m := range res.Screening.Matches {
					ids = append(ids, m.ID+" ("+m.List+")")
				}
				if !slices.Contains(ids, tc.id+" (OFAC Consolidated (non-SDN))") {
					t.Errorf("%q matched %v, want %s among them", tc.name, ids, tc.id)
				}
			}

			// Unchanged on the server: conditional requests, 304.
			cond := r.srv.cond.Load()
			check(t, feeds.OutcomeNotModified)
			if got := r.srv.cond.Load() - cond; got != 4 {
				t.Errorf("%d conditional requests, want 4", got)
			}

			// Bad publications: refused, audited, the 2018 version stays.
			good := v.Hash
			for _, f := range []struct {
				name string
				pub  func() publication
				kind string
				file string
			}{
				{"CONS_ALT.CSV missing", func() publication { p := consPublication(t); delete(p, "CONS_ALT.CSV"); return p }, "incomplete", "cons_alt.csv"},
				{"CONS_PRIM.CSV truncated", func() publication {
					p := consPublication(t)
					p["CONS_PRIM.CSV"] = cutLines(p["CONS_PRIM.CSV"], 150)
					return p
				}, "implausible", "cons_prim.csv"},
			} {
				t.Run(strings.ReplaceAll(f.name, " ", "_"), func(t *testing.T) {
					r.srv.set(f.pub(), may.Add(24*time.Hour), modeNormal)
					n := r.auditCount("list.refused")
					res := check(t, feeds.OutcomeRefused)
					if !strings.Contains(res.Error, f.file) {
						t.Errorf("error %q does not name %s", res.Error, f.file)
					}
					e := r.lastAudit("list.refused")
					var d map[string]string
					_ = json.Unmarshal(e.Data, &d)
					if r.auditCount("list.refused") != n+1 || e.Subject != "list:ofac-cons" || d["feed"] != "ofac-consolidated" || d["kind"] != f.kind || d["file"] != f.file {
						t.Errorf("refusal audit entry %s %s", e.Subject, e.Data)
					}
					if h := r.ls.Snapshot().Versions["ofac-cons"].Hash; h != good {
						t.Errorf("active version %s, want the 2018 one", h[:12])
					}
				})
			}
			if st := r.sched.Statuses()[0]; st.Source != "ofac-cons" || st.Feed != "ofac-consolidated" || st.LastOutcome != feeds.OutcomeRefused || !st.Published.Equal(may) {
				t.Errorf("status %+v", st)
			}
		})
	}
}

func TestListSource(t *testing.T) {
	for feed, want := range map[string]string{
		config.FeedOFACSDN:          "ofac-sdn",
		config.FeedOFACConsolidated: "ofac-cons",
		config.FeedUN:               "un",
		config.FeedUK:               "uk",
		config.FeedEU:               "",
	} {
		if got := feeds.ListSource(feed); got != want {
			t.Errorf("ListSource(%s) = %q, want %q", feed, got, want)
		}
	}
}

// TestListPolicyConsolidatedFloor: a feed's min_entities is the floor of
// the list it imports into (ofac-consolidated -> ofac-cons).
func TestListPolicyConsolidatedFloor(t *testing.T) {
	cfg := &config.Config{}
	cfg.Compliance.Feeds = []config.Feed{{Source: config.FeedOFACConsolidated, MinEntities: 300}, {Source: config.FeedOFACSDN, MinEntities: 9000}}
	p := app.ListPolicy(cfg)
	if p.Floors["ofac-cons"] != 300 || p.Floors["ofac-sdn"] != 9000 || p.Floors["un"] != 500 {
		t.Errorf("floors %v", p.Floors)
	}
	if _, ok := p.Floors["ofac-consolidated"]; ok {
		t.Error("a floor keyed by the feed source, not the list source")
	}
}
