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
	"github.com/rampart-edge/rampart/internal/store/postgres"
	"github.com/rampart-edge/rampart/internal/testenv"
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
// under 50 ms a page. The traffic pages are measured twice: on this
// node's memory (the single-node case) and, under shared/, on the sum
// over two nodes in PostgreSQL (a day of rollups of 1,000 zones from each
// node: 2.9 million minute rows, 290,000 ten-minute rows). Run: go test
// -run XXX -bench Pages -benchtime 20x ./internal/dashboard/
func BenchmarkPages(b *testing.B) {
	r, s, cookie := bigRig(b)
	pages := append(pagesOf(s), "/dashboard/accounts?status=review&offset=1000", "/dashboard/cases?offset=5000",
		"/dashboard/cases/case_0000000000000010", "/dashboard/accounts/acc_0000000000000100", "/dashboard/traffic?range=day",
		"/dashboard/traffic?zone=zone0001.example&range=day")
	run := func(b *testing.B, p string) {
		for b.Loop() {
			req := httptest.NewRequest("GET", p, nil)
			req.AddCookie(cookie)
			w := httptest.NewRecorder()
			r.d.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("%s: %d %.300s", p, w.Code, w.Body.String())
			}
		}
	}
	name := func(p string) string {
		n := strings.NewReplacer("/dashboard/", "", "/", "_", "?", "_").Replace(p)
		if n == "" {
			n = "home"
		}
		return n
	}
	for _, p := range pages {
		b.Run(name(p), func(b *testing.B) { run(b, p) })
	}
	pg := sharedRollups(b, time.Now())
	r.d.traffic = rollup.DB{R: pg}
	for _, p := range []string{"/dashboard/", "/dashboard/traffic", "/dashboard/traffic?range=day", "/dashboard/traffic?zone=zone0001.example",
		"/dashboard/traffic?zone=zone0001.example&range=day", "/dashboard/zones/" + s.zone} {
		b.Run("shared/"+name(p), func(b *testing.B) { run(b, p) })
	}
}

// sharedRollups is a PostgreSQL store holding a day of rollups of 1,000
// zones from each of two nodes, one request a zone a minute, as their
// flushers would have written them (and the nodes' all-zones rows).
func sharedRollups(b *testing.B, now time.Time) store.Store {
	b.Helper()
	db, err := postgres.Open(context.Background(), testenv.Postgres(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	end := now.Unix() / 60
	first := end - rollup.Minutes + 1
	const cols = `minute, zone, node, requests, bytes, st0, st1, st2, st3, st4, st5, cache_hits, latency_sum,
 lat0, lat1, lat2, lat3, lat4, lat5, lat6, lat7, lat8, lat9, rate_limited, challenged, waf_blocked, legal`
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // the store's own deadline is for one row
	defer cancel()
	for _, q := range []string{
		`INSERT INTO traffic_rollups (` + cols + `) SELECT m, 'zone' || lpad(z::text, 4, '0') || '.example', n,
 1, 1000, 0, 0, 1, 0, 0, 0, 0, 1000, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
 FROM generate_series($1::bigint, $2::bigint) m, generate_series(0, 999) z, unnest(ARRAY['node-a', 'node-b']) n`,
		`INSERT INTO traffic_rollups (` + cols + `) SELECT m, '', n,
 1000, 1000000, 0, 0, 1000, 0, 0, 0, 0, 1000000, 1000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
 FROM generate_series($1::bigint, $2::bigint) m, unnest(ARRAY['node-a', 'node-b']) n`,
		`INSERT INTO traffic_rollups_10m (` + cols + `) SELECT m * 10, 'zone' || lpad(z::text, 4, '0') || '.example', n,
 10, 10000, 0, 0, 10, 0, 0, 0, 0, 10000, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
 FROM generate_series($1::bigint / 10, $2::bigint / 10) m, generate_series(0, 999) z, unnest(ARRAY['node-a', 'node-b']) n`,
		`INSERT INTO traffic_rollups_10m (` + cols + `) SELECT m * 10, '', n,
 10000, 10000000, 0, 0, 10000, 0, 0, 0, 0, 10000000, 10000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
 FROM generate_series($1::bigint / 10, $2::bigint / 10) m, unnest(ARRAY['node-a', 'node-b']) n`,
		// What autovacuum does to the rows of the past hours of a store
		// in service.
		`VACUUM ANALYZE traffic_rollups`,
		`VACUUM ANALYZE traffic_rollups_10m`,
	} {
		args := []any{first, end}
		if strings.HasPrefix(q, "VACUUM") {
			args = nil
		}
		if err := db.RawExec(ctx, q, args...); err != nil {
			b.Fatal(err)
		}
	}
	return db
}
