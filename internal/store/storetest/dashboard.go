package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
)

func trafficRow(node, zone string, minute, requests int64) store.TrafficRow {
	r := store.TrafficRow{Node: node, Zone: zone, Minute: minute, Requests: requests, Bytes: requests * 100, CacheHits: requests / 2,
		LatencySum: requests * 1000, RateLimited: 1, Challenged: 2, WAFBlocked: 3, Legal: 4}
	r.Status[2], r.Status[5] = requests-1, 1
	r.Latency[1], r.Latency[9] = requests-1, 1
	return r
}

// testTraffic: PutTraffic upserts by node, zone and minute (the running
// totals replace the row); TrafficSeries sums over the nodes in groups of
// step minutes; TrafficTotals ranks the zones of a window; PruneTraffic
// drops the old minutes; bad rows write nothing.
func testTraffic(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	const m0 = 29_000_000 // a unix minute in 2025
	var rows []store.TrafficRow
	for m := int64(0); m < 30; m++ {
		rows = append(rows, trafficRow("n1", "a.example", m0+m, 10), trafficRow("n1", "", m0+m, 11))
		rows = append(rows, trafficRow("n2", "a.example", m0+m, 5), trafficRow("n2", "", m0+m, 5))
	}
	rows = append(rows, trafficRow("n1", "b.example", m0+29, 1))
	must(t, s.PutTraffic(ctx, rows))
	// The running total of n1's minute 29 grows: replaced, not added.
	must(t, s.PutTraffic(ctx, []store.TrafficRow{trafficRow("n1", "a.example", m0+29, 20)}))

	got, err := s.TrafficSeries(ctx, "a.example", store.SpanMinute, m0, m0+29, 1)
	must(t, err)
	if len(got) != 30 || got[0].Minute != m0 || got[0].Requests != 15 || got[29].Requests != 25 || got[29].Minute != m0+29 {
		t.Fatalf("series per minute: %d points, first %+v, last %+v", len(got), got[0], got[len(got)-1])
	}
	p := got[0]
	if p.Bytes != 1500 || p.Status[2] != 13 || p.Status[5] != 2 || p.CacheHits != 7 || p.LatencySum != 15000 ||
		p.Latency[1] != 13 || p.Latency[9] != 2 || p.RateLimited != 2 || p.Challenged != 4 || p.WAFBlocked != 6 || p.Legal != 8 || p.Zone != "a.example" {
		t.Fatalf("summed point %+v", p)
	}
	got, err = s.TrafficSeries(ctx, "a.example", store.SpanMinute, m0+5, m0+29, 10)
	must(t, err)
	if len(got) != 3 || got[0].Minute != m0+5 || got[0].Requests != 150 || got[1].Minute != m0+15 || got[2].Minute != m0+25 || got[2].Requests != 15*4+25 {
		t.Fatalf("series per 10 minutes: %+v", got)
	}
	all, err := s.TrafficSeries(ctx, "", store.SpanMinute, m0, m0+29, 30)
	must(t, err)
	if len(all) != 1 || all[0].Requests != 30*16 {
		t.Fatalf("all-zones series: %+v", all)
	}
	none, err := s.TrafficSeries(ctx, "c.example", store.SpanMinute, m0, m0+29, 1)
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("series of a zone without traffic: %+v", none)
	}

	tot, err := s.TrafficTotals(ctx, store.SpanMinute, m0+20, m0+29, 10)
	must(t, err)
	if len(tot) != 2 || tot[0].Zone != "a.example" || tot[0].Requests != 9*15+25 || tot[0].Status[5] != 20 || tot[0].Legal != 80 ||
		tot[1].Zone != "b.example" || tot[1].Requests != 1 {
		t.Fatalf("totals: %+v", tot)
	}
	if tot, err := s.TrafficTotals(ctx, store.SpanMinute, m0+20, m0+29, 1); err != nil || len(tot) != 1 {
		t.Fatalf("totals limit 1: %+v, %v", tot, err)
	}

	bad := []store.TrafficRow{trafficRow("n3", "c.example", m0, 1), trafficRow("", "c.example", m0, 1)}
	wantErr(t, s.PutTraffic(ctx, bad), store.ErrInvalid)
	neg := trafficRow("n3", "c.example", m0, 1)
	neg.Bytes = -1
	wantErr(t, s.PutTraffic(ctx, []store.TrafficRow{neg}), store.ErrInvalid)
	if tot, _ := s.TrafficTotals(ctx, store.SpanMinute, m0, m0+29, 10); len(tot) != 2 {
		t.Fatalf("a refused batch wrote rows: %+v", tot)
	}

	// Ten-minute rows: their own table, read by span.
	ten := trafficRow("n1", "a.example", m0, 100)
	ten.Span = store.SpanTenMinutes
	ten2 := trafficRow("n2", "a.example", m0, 50)
	ten2.Span = store.SpanTenMinutes
	ten3 := trafficRow("n1", "a.example", m0+20, 7)
	ten3.Span = store.SpanTenMinutes
	must(t, s.PutTraffic(ctx, []store.TrafficRow{ten, ten2, ten3}))
	got, err = s.TrafficSeries(ctx, "a.example", store.SpanTenMinutes, m0, m0+29, 10)
	must(t, err)
	if len(got) != 2 || got[0].Requests != 150 || got[0].Span != store.SpanTenMinutes || got[1].Minute != m0+20 || got[1].Requests != 7 {
		t.Fatalf("ten-minute series: %+v", got)
	}
	if tot, err := s.TrafficTotals(ctx, store.SpanTenMinutes, m0, m0+29, 10); err != nil || len(tot) != 1 || tot[0].Requests != 157 {
		t.Fatalf("ten-minute totals: %+v, %v", tot, err)
	}
	if got, _ := s.TrafficSeries(ctx, "a.example", store.SpanMinute, m0, m0, 1); got[0].Requests != 15 {
		t.Fatalf("ten-minute rows changed the minute rows: %+v", got)
	}
	odd := ten
	odd.Minute = m0 + 3
	wantErr(t, s.PutTraffic(ctx, []store.TrafficRow{odd}), store.ErrInvalid)
	odd.Span = 5
	wantErr(t, s.PutTraffic(ctx, []store.TrafficRow{odd}), store.ErrInvalid)
	_, err = s.TrafficSeries(ctx, "a.example", 5, m0, m0+29, 10)
	wantErr(t, err, store.ErrInvalid)

	n, err := s.PruneTraffic(ctx, m0+10)
	must(t, err)
	if n != 10*4+2 {
		t.Fatalf("pruned %d rows, want 42", n)
	}
	if got, _ := s.TrafficSeries(ctx, "a.example", store.SpanMinute, m0, m0+29, 1); len(got) != 20 || got[0].Minute != m0+10 {
		t.Fatalf("after pruning: %d points", len(got))
	}
}

func sessionHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// testSessions: a dashboard session is stored by the hash of its cookie,
// read back, touched, revoked once (an unknown one is ErrNotFound), and
// pruned after it expires.
func testSessions(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	now := store.Now()
	a := store.DashboardSession{Hash: sessionHash("a"), TokenID: "0123456789abcdef", Created: now, Expires: now.Add(12 * time.Hour)}
	must(t, s.CreateSession(ctx, a))
	wantErr(t, s.CreateSession(ctx, a), store.ErrConflict)
	wantErr(t, s.CreateSession(ctx, store.DashboardSession{Hash: "cookie-in-clear", TokenID: "x", Created: now, Expires: now}), store.ErrInvalid)
	got, err := s.GetSession(ctx, a.Hash)
	must(t, err)
	if got.TokenID != a.TokenID || !got.Created.Equal(now) || !got.Seen.Equal(now) || !got.Expires.Equal(a.Expires) || !got.Revoked.IsZero() {
		t.Fatalf("session read back: %+v", got)
	}
	_, err = s.GetSession(ctx, sessionHash("b"))
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetSession(ctx, "not a hash")
	wantErr(t, err, store.ErrNotFound)

	later := now.Add(time.Minute)
	must(t, s.TouchSession(ctx, a.Hash, later))
	wantErr(t, s.TouchSession(ctx, sessionHash("b"), later), store.ErrNotFound)
	must(t, s.RevokeSession(ctx, a.Hash, later))
	must(t, s.RevokeSession(ctx, a.Hash, later.Add(time.Hour))) // twice: the first time stays
	wantErr(t, s.RevokeSession(ctx, sessionHash("b"), later), store.ErrNotFound)
	got, err = s.GetSession(ctx, a.Hash)
	must(t, err)
	if !got.Seen.Equal(later) || !got.Revoked.Equal(later) {
		t.Fatalf("session after touch and revoke: %+v", got)
	}

	b := store.DashboardSession{Hash: sessionHash("b"), TokenID: "fedcba9876543210", Created: now, Expires: now.Add(time.Hour)}
	must(t, s.CreateSession(ctx, b))
	n, err := s.PruneSessions(ctx, now.Add(2*time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("pruned %d sessions, want 1", n)
	}
	_, err = s.GetSession(ctx, b.Hash)
	wantErr(t, err, store.ErrNotFound)
	if _, err := s.GetSession(ctx, a.Hash); err != nil {
		t.Fatalf("a live session was pruned: %v", err)
	}
}
