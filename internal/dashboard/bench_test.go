package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/rollup"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/token"
)

// bigRig is the scale: 100,000 accounts, 10,000 cases (with a
// report each) and a day of rollups for 1,000 zones, on SQLite.
func bigRig(b *testing.B) (*rig, seeded, *http.Cookie) {
	b.Helper()
	r := newRig(b)
	s := seed(b, r)
	ctx := context.Background()
	const accounts, cases, zones = 100000, 10000, 1000
	now := store.Now()
	batch := make([]store.Account, 0, 5000)
	for i := range accounts {
		st := store.AccountActive
		if i%50 == 0 {
			st = store.AccountReview
		}
		batch = append(batch, store.Account{ID: fmt.Sprintf("acc_%016x", i), Name: fmt.Sprintf("Customer %06d Trading Ltd", i), Kind: store.KindOrganization,
			Country: "GB", Status: st, Screening: []byte(`{}`), Created: now, Updated: now})
		if len(batch) == cap(batch) {
			if err := r.db.InsertAccounts(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	err := r.db.Tx(ctx, func(tx store.Tx) error {
		for i := range cases {
			st := store.CaseOpen
			if i%3 == 0 {
				st = store.CaseDismissed
			}
			opened := now.Add(-time.Duration(cases-i) * time.Minute)
			c := store.Case{ID: fmt.Sprintf("case_%016x", i), Host: fmt.Sprintf("site%05d.example", i), Category: store.CategoryAbuse, Status: st,
				Origin: store.OriginReport, Opened: opened, LastReport: opened, ReportCount: 1, Updated: opened}
			if err := tx.CreateCase(ctx, &c); err != nil {
				return err
			}
			if err := tx.AddReport(ctx, &store.Report{CaseID: c.ID, Description: "spam and phishing pages", Created: opened}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	for z := range zones {
		name := fmt.Sprintf("zone%04d.example", z)
		for m := range rollup.Minutes {
			r.trf.Record(rollup.Request{Zone: name, Time: t0.Add(-time.Duration(m) * time.Minute), Status: 200, Bytes: 1000, Latency: time.Millisecond})
		}
	}
	// A session of a compliance token, without the sign-in round trip.
	tok, _ := r.store.Verify(r.tokens[token.Compliance])
	id, err := r.d.sessions.create(context.Background(), r.tokens[token.Compliance], tok, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return r, s, &http.Cookie{Name: sessionCookie, Value: id}
}

// BenchmarkPages renders every page at the scale; the target is
// under 50 ms a page. Run: go test -run XXX -bench Pages -benchtime 20x
// ./internal/dashboard/
func BenchmarkPages(b *testing.B) {
	r, s, cookie := bigRig(b)
	pages := append(pagesOf(s), "/dashboard/accounts?status=review&offset=1000", "/dashboard/cases?offset=5000",
		"/dashboard/cases/case_0000000000000010", "/dashboard/accounts/acc_0000000000000100", "/dashboard/traffic?range=day",
		"/dashboard/traffic?zone=zone0001.example&range=day")
	for _, p := range pages {
		name := strings.NewReplacer("/dashboard/", "", "/", "_", "?", "_").Replace(p)
		if name == "" {
			name = "home"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest("GET", p, nil)
				req.AddCookie(cookie)
				w := httptest.NewRecorder()
				r.d.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("%s: %d %.300s", p, w.Code, w.Body.String())
				}
			}
		})
	}
}
