package feeds_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/feeds"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/testenv"
)

func TestMain(m *testing.M) {
	if crashChildMain() { // crash_test.go
		return
	}
	testenv.Main(m)
}

// cutLines keeps the first n lines of a file.
func cutLines(b []byte, n int) []byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	return bytes.Join(lines[:n], nil)
}

// TestFeedFaults runs the feed against a local server through every fault
// of issue 13, then the real 2023 -> 2024 update. After each fault the
// 2023 version is still active, nothing was re-screened, the refusals are
// audited and counted; after the update exactly the accounts and zones
// named after added entities are hit.
func TestFeedFaults(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			data := t.TempDir()
			r := newRig(t, b.open(t), data)
			jan := time.Date(2023, 12, 28, 15, 4, 5, 0, time.UTC)
			r.start(set2023(t), jan, data)
			check := func(t *testing.T, want string) feeds.Result {
				t.Helper()
				res := r.sched.Check(ctx, r.feed, nil)
				if res.Outcome != want {
					t.Fatalf("outcome %s (%s), want %s", res.Outcome, res.Error, want)
				}
				return res
			}
			outcome := func(o string) float64 {
				return r.metric("rampart_list_fetch_results_total", map[string]string{"feed": "ofac-sdn", "outcome": o})
			}
			stillGood := func(t *testing.T, what string) {
				t.Helper()
				if h := r.ls.Snapshot().Versions["ofac-sdn"].Hash; h != r.base {
					t.Fatalf("%s: active version %s, want the 2023 one", what, h[:12])
				}
				if st := r.svc.Stats(); st.Rescreens != 0 {
					t.Fatalf("%s: %d re-screenings", what, st.Rescreens)
				}
				for _, id := range append(slices.Clone(r.hitAcc), r.clean...) {
					if s := r.accountStatus(id); s != store.AccountActive {
						t.Fatalf("%s: account %s is %s", what, id, s)
					}
				}
			}

			// The served set is the active one: unchanged, then 304.
			check(t, feeds.OutcomeUnchanged)
			check(t, feeds.OutcomeNotModified)
			if r.srv.cond.Load() != 4 || r.srv.answered304.Load() != 4 {
				t.Errorf("conditional requests %d, 304 answers %d; want 4 and 4", r.srv.cond.Load(), r.srv.answered304.Load())
			}
			if _, ok := r.srv.agents.Load("rampart/test (+sanctions list feed)"); !ok {
				t.Error("no User-Agent")
			}
			stillGood(t, "304")

			may := time.Date(2024, 5, 3, 14, 0, 0, 0, time.UTC)
			faults := []struct {
				name    string
				pub     publication
				mode    string
				maxSize int64
				outcome string
				kind    string // refusal kind
				errHas  string
			}{
				{"500", nil, mode500, 0, feeds.OutcomeError, "", "500 Internal Server Error"},
				{"slow server", nil, modeSlow, 0, feeds.OutcomeError, "", "deadline exceeded"},
				{"connection cut mid-file", set2024(t), modeCut, 0, feeds.OutcomeError, "", "unexpected EOF"},
				{"truncated file", func() publication {
					p := set2024(t)
					p["SDN.CSV"] = p["SDN.CSV"][:len(p["SDN.CSV"])/2]
					return p
				}(), modeNormal, 0, feeds.OutcomeRefused, "", "sdn.csv"},
				{"set missing alt.csv", func() publication {
					p := set2024(t)
					delete(p, "ALT.CSV")
					return p
				}(), modeNormal, 0, feeds.OutcomeRefused, "incomplete", "alt.csv"},
				{"1% of the entries", func() publication {
					p := set2024(t)
					p["SDN.CSV"] = cutLines(p["SDN.CSV"], 150)
					return p
				}(), modeNormal, 0, feeds.OutcomeRefused, "implausible", "150 entities, fewer than the 5000"},
				{"over the size cap", set2024(t), modeNormal, 1 << 20, feeds.OutcomeRefused, "too_large", "over the feed's max_size"},
				{"redirect to plain http", set2024(t), modeRedirect, 0, feeds.OutcomeError, "", "redirect refused"},
			}
			refusedAudit := 0
			for _, f := range faults {
				t.Run(strings.ReplaceAll(f.name, " ", "_"), func(t *testing.T) {
					r.srv.set(f.pub, may, f.mode)
					r.feed.Timeout = 2 * time.Second
					if f.mode == modeSlow {
						r.feed.Timeout = 200 * time.Millisecond
					}
					r.feed.MaxSize = 8 << 20
					if f.maxSize > 0 {
						r.feed.MaxSize = f.maxSize
					}
					before := outcome(f.outcome)
					res := check(t, f.outcome)
					if !strings.Contains(res.Error, f.errHas) {
						t.Errorf("error %q lacks %q", res.Error, f.errHas)
					}
					if outcome(f.outcome) != before+1 {
						t.Errorf("rampart_list_fetch_results_total{outcome=%s} did not count it", f.outcome)
					}
					if f.outcome == feeds.OutcomeRefused {
						refusedAudit++
						e := r.lastAudit("list.refused")
						var d map[string]string
						_ = json.Unmarshal(e.Data, &d)
						if d["feed"] != "ofac-sdn" || (f.kind != "" && d["kind"] != f.kind) || d["file"] == "" {
							t.Errorf("refusal audit entry %s", e.Data)
						}
					}
					if n := r.auditCount("list.refused"); n != refusedAudit {
						t.Errorf("%d list.refused audit entries, want %d", n, refusedAudit)
					}
					if n := r.auditCount("list.import"); n != 0 {
						t.Errorf("%d list.import audit entries", n)
					}
					stillGood(t, f.name)
				})
			}
			if t.Failed() {
				return
			}
			if r.metric("rampart_list_fetch_attempts_total", map[string]string{"feed": "ofac-sdn"}) != float64(2+len(faults)) {
				t.Errorf("attempts %v", r.metric("rampart_list_fetch_attempts_total", map[string]string{"feed": "ofac-sdn"}))
			}

			// The real update.
			r.srv.set(set2024(t), may, modeNormal)
			r.feed.Timeout, r.feed.MaxSize = 2*time.Second, 8<<20
			bytesBefore := r.metric("rampart_list_fetch_bytes_total", map[string]string{"feed": "ofac-sdn"})
			res := check(t, feeds.OutcomeUpdated)
			v := r.ls.Snapshot().Versions["ofac-sdn"]
			if v.Hash == r.base || v.Entities != 14965 || !v.Published.Equal(may) || v.Origin != "feed:ofac-sdn" {
				t.Fatalf("active after the update: %+v", v)
			}
			sum := res.Results[0].Summary
			if sum.Added != 1256 || sum.Removed != 112 {
				t.Errorf("diff %+v, want +1256 -112", sum)
			}
			if got := r.metric("rampart_list_fetch_bytes_total", map[string]string{"feed": "ofac-sdn"}) - bytesBefore; got < 3_900_000 {
				t.Errorf("bytes counted %v", got)
			}
			if r.metric("rampart_list_fetch_last_success_timestamp_seconds", map[string]string{"feed": "ofac-sdn"}) < float64(time.Now().Add(-time.Minute).Unix()) {
				t.Error("last success timestamp not set")
			}
			st := r.svc.Stats()
			if st.Rescreens != 1 || st.AccountHits != 2 || st.ZoneHits != 2 {
				t.Errorf("re-screen stats %+v, want 1 run, 2 account hits, 2 zone hits", st)
			}
			for _, id := range r.hitAcc {
				if s := r.accountStatus(id); s != store.AccountReview {
					t.Errorf("hit account %s is %s", id, s)
				}
			}
			for _, id := range r.clean {
				if s := r.accountStatus(id); s != store.AccountActive {
					t.Errorf("clean account %s is %s", id, s)
				}
			}
			imp := r.lastAudit("list.import")
			var d map[string]any
			_ = json.Unmarshal(imp.Data, &d)
			if imp.Actor != "feed:ofac-sdn" || d["origin"] != "feed:ofac-sdn" || d["published"] != "2024-05-03T14:00:00Z" || d["added"] != float64(1256) || d["account_hits"] != float64(2) {
				t.Errorf("import audit entry %s by %s", imp.Data, imp.Actor)
			}
			// Zero bad updates activated: the history holds the 2023 set and
			// the real update only.
			h, err := r.ls.History()
			if err != nil || len(h) != 2 || h[0].Hash != r.base || h[1].Hash != v.Hash {
				t.Errorf("history %d versions %v", len(h), err)
			}
			// The next check is a 304 again, from the kept files' validators.
			check(t, feeds.OutcomeNotModified)
			// A restarted scheduler reads its state back: still 304.
			r.newScheduler(data)
			check(t, feeds.OutcomeNotModified)
			// The 2024-05-03 publication is far older than max_age (7 days):
			// the feed is stale, in its status and its metric.
			stt := r.sched.Statuses()[0]
			if !stt.Stale || !strings.Contains(stt.StaleReason, "older than max_age 168h") || !stt.Published.Equal(may) || stt.LastOutcome != feeds.OutcomeNotModified {
				t.Errorf("status %+v", stt)
			}
			if r.metric("rampart_list_feed_stale", map[string]string{"feed": "ofac-sdn"}) != 1 {
				t.Error("rampart_list_feed_stale is not 1")
			}
		})
	}
}

// TestNewPublicationWithinInterval runs the scheduler with a 1 s interval:
// a new publication appearing on the server must be active and every
// account and zone re-screened within one interval plus 60 s.
func TestNewPublicationWithinInterval(t *testing.T) {
	data := t.TempDir()
	r := newRig(t, backends[0].open(t), data)
	r.start(set2023(t), time.Date(2023, 12, 28, 0, 0, 0, 0, time.UTC), data)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.sched.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, 10*time.Second, func() bool {
		return r.metric("rampart_list_fetch_results_total", map[string]string{"feed": "ofac-sdn", "outcome": "unchanged"}) == 1
	})
	appeared := time.Now()
	r.srv.set(set2024(t), time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC), modeNormal)
	waitFor(t, r.feed.Interval+60*time.Second, func() bool {
		return r.svc.Stats().Rescreens == 1 && r.ls.Snapshot().Versions["ofac-sdn"].Hash != r.base
	})
	took := time.Since(appeared)
	t.Logf("new publication active and re-screened %s after it appeared (interval %s; target interval + 60s)", took.Round(time.Millisecond), r.feed.Interval)
	if st := r.svc.Stats(); st.AccountHits != 2 || st.ZoneHits != 2 || st.AccountsScreened != 4 || st.ZonesScreened != 2 {
		t.Errorf("re-screen %+v", st)
	}
}

func waitFor(t *testing.T, limit time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not done within %s", limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
