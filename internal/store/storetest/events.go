package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
)

// testSecurityEvents: PutSecurityEvents appends the nodes' sampled
// events (path and user agent cut at their limits, any other field over
// its limit refused with nothing written); SecurityEvents filters them
// by every field and reads newest first up to the limit;
// PruneSecurityEvents drops those past a time and past a per-zone count.
func testSecurityEvents(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	ev := func(i int, node, zone, action string) store.SecurityEvent {
		return store.SecurityEvent{Node: node, Time: t0.Add(time.Duration(i) * time.Second), Zone: zone, Action: action,
			RuleID: fmt.Sprint(942100 + i%2), ClientIP: fmt.Sprintf("203.0.113.%d", i%4), Country: []string{"FR", "DE"}[i%2],
			ASN: uint32(64500 + i%3), Method: "GET", Path: fmt.Sprintf("/p%d/x", i%5), UserAgent: "curl/8", Status: 403,
			RequestID: fmt.Sprintf("req-%d", i)}
	}
	var evs []store.SecurityEvent
	for i := range 30 {
		evs = append(evs, ev(i, []string{"node-a", "node-b"}[i%2], []string{"a.example", "b.example", "c.example"}[i%3],
			[]string{"waf_blocked", "rate_limited", "challenged"}[i%3]))
	}
	// Two in the same microsecond: the later written reads first.
	same := ev(30, "node-a", "a.example", "legal_451")
	same2 := same
	same2.RequestID = "req-30b"
	evs = append(evs, same, same2)
	long := ev(40, "node-b", "d.example", "waf_blocked")
	long.Time = t0.Add(-time.Hour)
	long.Path = "/" + strings.Repeat("é", 600) // 1,201 bytes
	long.UserAgent = strings.Repeat("u", 2000)
	evs = append(evs, long)
	must(t, s.PutSecurityEvents(ctx, evs))

	all, err := s.SecurityEvents(ctx, store.SecurityEventFilter{Limit: 1000})
	must(t, err)
	if len(all) != 33 || all[0].RequestID != "req-30b" || all[1].RequestID != "req-30" || all[2].RequestID != "req-29" || all[32].Zone != "d.example" {
		t.Fatalf("all events: %d, first %+v", len(all), all[:3])
	}
	got := all[2]
	want := ev(29, "node-b", "c.example", "challenged")
	got.ID = 0
	if got != want {
		t.Fatalf("read back %+v, want %+v", got, want)
	}
	if l := all[32]; len(l.Path) > store.MaxEventPath || len(l.Path) < store.MaxEventPath-1 || !strings.HasPrefix(l.Path, "/éé") ||
		strings.ToValidUTF8(l.Path, "?") != l.Path || len(l.UserAgent) != store.MaxEventUserAgent {
		t.Fatalf("long path cut to %d bytes, user agent to %d", len(l.Path), len(l.UserAgent))
	}
	if evs[len(evs)-1].UserAgent != long.UserAgent {
		t.Fatal("PutSecurityEvents changed the caller's events")
	}

	count := func(f store.SecurityEventFilter) int {
		t.Helper()
		f.Limit = 1000
		got, err := s.SecurityEvents(ctx, f)
		must(t, err)
		for i := 1; i < len(got); i++ {
			if got[i].Time.After(got[i-1].Time) {
				t.Fatalf("%+v: not newest first at %d", f, i)
			}
		}
		return len(got)
	}
	for _, tc := range []struct {
		f    store.SecurityEventFilter
		want int
	}{
		{store.SecurityEventFilter{Zone: "a.example"}, 12},
		{store.SecurityEventFilter{Action: "rate_limited"}, 10},
		{store.SecurityEventFilter{Zone: "a.example", Action: "rate_limited"}, 0},
		{store.SecurityEventFilter{ClientIP: "203.0.113.1"}, 8},
		{store.SecurityEventFilter{Country: "de"}, 15},
		{store.SecurityEventFilter{ASN: 64502}, 10},
		{store.SecurityEventFilter{RuleID: "942101"}, 15},
		{store.SecurityEventFilter{Path: "/p3"}, 6},
		{store.SecurityEventFilter{Path: "/p3/x"}, 6},
		{store.SecurityEventFilter{Path: "/p3/xy"}, 0},
		{store.SecurityEventFilter{Path: "/éé"}, 1},
		{store.SecurityEventFilter{Path: "%"}, 0},
		{store.SecurityEventFilter{Zone: "b.example", ClientIP: "203.0.113.1", Country: "DE", ASN: 64501, RuleID: "942101", Path: "/p"}, 3},
		{store.SecurityEventFilter{Zone: "b.example", ClientIP: "203.0.113.1", Country: "DE", ASN: 64501, RuleID: "942101", Path: "/p1"}, 1},
	} {
		if n := count(tc.f); n != tc.want {
			t.Errorf("%+v: %d events, want %d", tc.f, n, tc.want)
		}
	}
	if got, _ := s.SecurityEvents(ctx, store.SecurityEventFilter{Zone: "a.example", Limit: 2}); len(got) != 2 || got[0].RequestID != "req-30b" {
		t.Fatalf("limit 2: %+v", got)
	}
	if got, _ := s.SecurityEvents(ctx, store.SecurityEventFilter{}); len(got) != 33 {
		t.Fatalf("default limit: %d events", len(got))
	}
	_, err = s.SecurityEvents(ctx, store.SecurityEventFilter{Limit: store.MaxSecurityEvents + 1})
	wantErr(t, err, store.ErrInvalid)

	for _, bad := range []func(e *store.SecurityEvent){
		func(e *store.SecurityEvent) { e.Node = "" },
		func(e *store.SecurityEvent) { e.Action = "" },
		func(e *store.SecurityEvent) { e.Zone = strings.Repeat("z", store.MaxEventZone+1) },
		func(e *store.SecurityEvent) { e.RuleID = strings.Repeat("1", store.MaxEventRuleID+1) },
		func(e *store.SecurityEvent) { e.Country = "FRA" },
		func(e *store.SecurityEvent) { e.Status = 1000 },
		func(e *store.SecurityEvent) { e.Time = time.Time{} },
	} {
		e := ev(50, "node-c", "e.example", "waf_blocked")
		bad(&e)
		wantErr(t, s.PutSecurityEvents(ctx, []store.SecurityEvent{ev(51, "node-c", "e.example", "waf_blocked"), e}), store.ErrInvalid)
	}
	wantErr(t, s.PutSecurityEvents(ctx, make([]store.SecurityEvent, store.MaxSecurityEvents+1)), store.ErrInvalid)
	if n := count(store.SecurityEventFilter{Zone: "e.example"}); n != 0 {
		t.Fatalf("a refused batch wrote %d events", n)
	}
	clipped := ev(52, strings.Repeat("n", 300), strings.Repeat("z", 300), "waf_blocked")
	clipped.RequestID = strings.Repeat("r", 300)
	store.ClipSecurityEvent(&clipped)
	must(t, s.PutSecurityEvents(ctx, []store.SecurityEvent{clipped}))

	// Pruning: the hour-old event by time, then a.example (12 events)
	// down to its 5 newest; b.example and c.example have 10 each.
	n, err := s.PruneSecurityEvents(ctx, t0, 0)
	must(t, err)
	if n != 1 || count(store.SecurityEventFilter{Zone: "d.example"}) != 0 {
		t.Fatalf("pruned %d by time, want 1", n)
	}
	n, err = s.PruneSecurityEvents(ctx, t0, 10)
	must(t, err)
	if n != 2 {
		t.Fatalf("pruned %d to 10 a zone, want 2", n)
	}
	n, err = s.PruneSecurityEvents(ctx, t0, 5)
	must(t, err)
	if n != 5+5+5 {
		t.Fatalf("pruned %d to 5 a zone, want 15", n)
	}
	left, _ := s.SecurityEvents(ctx, store.SecurityEventFilter{Zone: "a.example"})
	if len(left) != 5 || left[0].RequestID != "req-30b" || left[4].RequestID != "req-21" {
		t.Fatalf("a.example after pruning: %d events, %+v", len(left), left)
	}
	if count(store.SecurityEventFilter{}) != 5*3+1 {
		t.Fatal("pruning took events of other zones")
	}
}
