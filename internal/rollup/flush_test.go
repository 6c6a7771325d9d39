package rollup

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/geoip"
	"github.com/rampart-edge/rampart/internal/geoip/geoiptest"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/sqlite"
)

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// failingSink refuses every write.
type failingSink struct{ Sink }

func (failingSink) PutTraffic(context.Context, []store.TrafficRow) error {
	return errors.New("store down")
}

// TestFlush: a flush writes each changed minute once (zones and the
// all-zones row), writes a minute again when it grows, writes nothing
// when nothing changed, keeps what a failed write did not store, and the
// DB source reads the same series and totals as the memory.
func TestFlush(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	now := time.Date(2026, 12, 7, 10, 30, 20, 0, time.UTC)
	s := New(0, 10)
	for j := range 40 {
		i := 39 - j // oldest first: a request older than the open window is dropped
		at := now.Add(-time.Duration(i) * 30 * time.Second)
		s.Record(Request{Zone: "a.example", Time: at, Status: 200, Bytes: 1000, CacheHit: i%2 == 0, Latency: 20 * time.Millisecond})
	}
	s.Record(Request{Zone: "b.example", Time: now, Status: 451, Outcome: Legal})
	clock := now
	f := &Flusher{Store: s, Sink: failingSink{db}, Node: "n1", Now: func() time.Time { return clock }}
	if _, err := f.Flush(ctx); err == nil {
		t.Fatal("a failed write reported no error")
	}
	f.Sink = db
	// 16 minutes looked at (10:15 to 10:30): a.example has requests in
	// each, the node's sum too, b.example in one; and their ten-minute
	// groups (10:10, 10:20, 10:30).
	n, err := f.Flush(ctx)
	if err != nil || n != 16+16+1+3+3+1 {
		t.Fatalf("first flush wrote %d rows, %v; want 40", n, err)
	}
	if n, err := f.Flush(ctx); err != nil || n != 0 {
		t.Fatalf("flush without a change wrote %d rows, %v", n, err)
	}
	s.Record(Request{Zone: "a.example", Time: now, Status: 500, Bytes: 10})
	if n, err := f.Flush(ctx); err != nil || n != 4 {
		t.Fatalf("flush after one request wrote %d rows, %v; want 4 (the zone and the sum, minute and ten minutes)", n, err)
	}
	src := DB{db}
	mem := Local{s}
	for _, zone := range []string{"", "a.example", "b.example"} {
		got, err := src.Series(ctx, zone, now, 15, 5)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := mem.Series(ctx, zone, now, 15, 5)
		if len(got) != len(want) {
			t.Fatalf("%q: %d points from the store, %d in memory", zone, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%q point %d: store %+v, memory %+v", zone, i, got[i], want[i])
			}
		}
	}
	// Ten-minute steps read the ten-minute rows, aligned: 10:10 to 10:30
	// for the last 16 minutes.
	tens, err := src.Series(ctx, "a.example", now, 16, 10)
	if err != nil || len(tens) != 3 || !tens[0].Minute.Equal(time.Date(2026, 12, 7, 10, 10, 0, 0, time.UTC)) {
		t.Fatalf("ten-minute series: %+v, %v", tens, err)
	}
	mine, _ := mem.Series(ctx, "a.example", now, 21, 1)
	if got, want := Total(tens), Total(mine); got.Requests != want.Requests || got.Bytes != want.Bytes || got.Latency != want.Latency {
		t.Fatalf("ten-minute total %+v, memory %+v", got, want)
	}
	// Totals read the ten-minute rows, written whole from the ring: all
	// 40 requests (10:10:50 to 10:30:20) and the 500.
	tot, err := src.Totals(ctx, now, 60, 10)
	if err != nil || len(tot) != 2 || tot[0].Zone != "a.example" || tot[0].Requests != 41 || tot[0].Status[5] != 1 || tot[1].Legal != 1 {
		t.Fatalf("totals from the store: %+v, %v", tot, err)
	}
	if !src.Shared() || mem.Shared() {
		t.Fatal("Shared")
	}
}

// TestFlusherRunStopsAndFlushes: Run flushes on its ticker and once more
// when its context ends.
func TestFlusherRunStopsAndFlushes(t *testing.T) {
	db := openSQLite(t)
	s := New(0, 10)
	now := time.Now()
	s.Record(Request{Zone: "a.example", Time: now, Status: 200})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		(&Flusher{Store: s, Sink: db, Node: "n1", Every: time.Hour}).Run(ctx)
		close(done)
	}()
	cancel()
	<-done
	tot, err := DB{db}.Totals(context.Background(), now, 5, 10)
	if err != nil || len(tot) != 1 || tot[0].Requests != 1 {
		t.Fatalf("after Run stopped: %+v, %v", tot, err)
	}
}

// TestEventsGeo: with GeoIP databases the sampled events get the
// client's country and ASN, and the filter selects by both.
func TestEventsGeo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "geo.mmdb")
	err := geoiptest.Write(path, []geoiptest.Entry{
		{Network: netip.MustParsePrefix("192.0.2.0/24"), Country: "FR", ASN: 64500, Org: "Example FR"},
		{Network: netip.MustParsePrefix("2001:db8::/32"), Country: "DE", ASN: 64501},
	})
	if err != nil {
		t.Fatal(err)
	}
	geo, err := geoip.Open(path, path)
	if err != nil {
		t.Fatal(err)
	}
	s := New(0, 10)
	s.RecordEvent(Event{Zone: "z", Action: "waf_blocked", ClientIP: "192.0.2.7"}) // before SetGeo: none
	s.SetGeo(geo)
	for _, ip := range []string{"192.0.2.8", "2001:db8::1", "198.51.100.1", "not an address"} {
		s.RecordEvent(Event{Zone: "z", Action: "waf_blocked", ClientIP: ip})
	}
	s.RecordEvent(Event{Zone: "z", Action: "challenged", ClientIP: "192.0.2.9", Country: "US"}) // already known: kept
	tests := []struct {
		name string
		f    EventFilter
		want []string
	}{
		{"country", EventFilter{Country: "fr"}, []string{"192.0.2.8"}},
		{"asn", EventFilter{ASN: 64501}, []string{"2001:db8::1"}},
		{"country kept", EventFilter{Country: "US"}, []string{"192.0.2.9"}},
		{"country and asn disagree", EventFilter{Country: "FR", ASN: 64501}, nil},
		{"all", EventFilter{}, []string{"192.0.2.9", "not an address", "198.51.100.1", "2001:db8::1", "192.0.2.8", "192.0.2.7"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, ev := range s.Events(tc.f) {
				got = append(got, ev.ClientIP)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
	if evs := s.Events(EventFilter{ClientIP: "192.0.2.8"}); evs[0].ASN != 64500 || evs[0].Country != "FR" {
		t.Fatalf("event %+v", evs[0])
	}
	s.SetGeo(nil)
	s.RecordEvent(Event{Zone: "z", ClientIP: "192.0.2.10"})
	if evs := s.Events(EventFilter{ClientIP: "192.0.2.10"}); evs[0].Country != "" {
		t.Fatalf("after SetGeo(nil): %+v", evs[0])
	}
}

// failingEvents refuses every security event write.
type failingEvents struct{ Sink }

func (failingEvents) PutSecurityEvents(context.Context, []store.SecurityEvent) error {
	return errors.New("store down")
}

func blocked(i int, at time.Time) Event {
	return Event{Time: at, Zone: "a.example", Action: "waf_blocked", RuleID: "942100", ClientIP: "192.0.2." + strconv.Itoa(i), Country: "FR",
		ASN: 64500, Method: "GET", Path: "/x/" + strconv.Itoa(i), UserAgent: "curl/8", Status: 403, RequestID: "r" + strconv.Itoa(i)}
}

// TestFlushEvents: FlushEvents writes each sampled event once, with its
// node, oldest first; a failed write keeps the events for the next flush,
// bounded by the sample's size (the oldest are overwritten, memory does
// not grow); the DB source reads them back newest first with the
// filters; over-long fields are cut, not refused.
func TestFlushEvents(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	s := New(0, 4)
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	f := &Flusher{Store: s, Sink: db, Node: "node-a", Now: func() time.Time { return t0 }}
	if n, err := f.FlushEvents(ctx); n != 0 || err != nil {
		t.Fatalf("empty sample: %d, %v", n, err)
	}
	for i := range 3 {
		s.RecordEvent(blocked(i, t0.Add(time.Duration(i)*time.Second)))
	}
	if n, err := f.FlushEvents(ctx); n != 3 || err != nil {
		t.Fatalf("first flush: %d, %v", n, err)
	}
	if n, err := f.FlushEvents(ctx); n != 0 || err != nil {
		t.Fatalf("second flush wrote %d again, %v", n, err)
	}

	// The store is down while 6 more are sampled: the sample keeps its
	// 4 newest, written once it is back.
	f.Sink = failingEvents{db}
	for i := 3; i < 6; i++ {
		s.RecordEvent(blocked(i, t0.Add(time.Duration(i)*time.Second)))
	}
	if n, err := f.FlushEvents(ctx); n != 0 || err == nil {
		t.Fatalf("failed write: %d, %v", n, err)
	}
	for i := 6; i < 9; i++ {
		s.RecordEvent(blocked(i, t0.Add(time.Duration(i)*time.Second)))
	}
	if evs, _ := s.EventsSince(0); len(evs) != 4 || evs[0].RequestID != "r5" {
		t.Fatalf("the sample holds %d events from %+v, want its size 4", len(evs), evs)
	}
	f.Sink = db
	if n, err := f.FlushEvents(ctx); n != 4 || err != nil {
		t.Fatalf("flush after the failure: %d, %v; want the 4 the sample kept", n, err)
	}
	got, err := DB{db}.Events(ctx, EventFilter{Zone: "a.example"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ev := range got {
		ids = append(ids, ev.RequestID)
		if ev.Node != "node-a" || ev.Action != "waf_blocked" || ev.Country != "FR" || ev.ASN != 64500 || ev.Status != 403 {
			t.Fatalf("read back %+v", ev)
		}
	}
	if strings.Join(ids, " ") != "r8 r7 r6 r5 r2 r1 r0" {
		t.Fatalf("stored events %v, want r8 r7 r6 r5 r2 r1 r0 (r3 and r4 overwritten while the store was down)", ids)
	}
	for _, tc := range []struct {
		f    EventFilter
		want int
	}{
		{EventFilter{ClientIP: "192.0.2.7"}, 1},
		{EventFilter{Country: "fr", ASN: 64500, RuleID: "942100", Action: "waf_blocked"}, 7},
		{EventFilter{Path: "/x/1"}, 1},
		{EventFilter{Zone: "b.example"}, 0},
		{EventFilter{Limit: 2}, 2},
	} {
		if got, err := (DB{db}).Events(ctx, tc.f); err != nil || len(got) != tc.want {
			t.Errorf("%+v: %d events, %v; want %d", tc.f, len(got), err, tc.want)
		}
	}

	// A hostile request's fields are cut to the store's limits.
	huge := blocked(9, t0.Add(9*time.Second))
	huge.Path, huge.UserAgent, huge.Method, huge.RuleID = "/"+strings.Repeat("a", 5000), strings.Repeat("b", 5000), strings.Repeat("M", 100), strings.Repeat("9", 300)
	s.RecordEvent(huge)
	if n, err := f.FlushEvents(ctx); n != 1 || err != nil {
		t.Fatalf("over-long event: %d, %v", n, err)
	}
	got, _ = DB{db}.Events(ctx, EventFilter{Limit: 1})
	if ev := got[0]; len(ev.Path) != store.MaxEventPath || len(ev.UserAgent) != store.MaxEventUserAgent || len(ev.Method) != store.MaxEventMethod ||
		len(ev.RuleID) != store.MaxEventRuleID {
		t.Fatalf("over-long event stored with path %d, user agent %d, method %d, rule %d bytes", len(ev.Path), len(ev.UserAgent), len(ev.Method), len(ev.RuleID))
	}
	if evs, _ := (Local{s}).Events(ctx, EventFilter{}); len(evs) != 4 || evs[0].Node != "" {
		t.Fatalf("local events: %+v", evs)
	}
}

// TestFlusherPrunesEvents: Run prunes the shared events older than
// EventRetention and those past EventsPerZone of a zone, and flushes the
// node's sample.
func TestFlusherPrunesEvents(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	now := time.Now().UTC()
	var old []store.SecurityEvent
	for i := range EventsPerZone + 5 {
		at := now.Add(-time.Hour - time.Duration(i)*time.Millisecond)
		rule := ""
		switch {
		case i == EventsPerZone-1:
			rule = "last-kept"
		case i >= EventsPerZone:
			rule = "past-cap"
		}
		old = append(old, store.SecurityEvent{Node: "node-b", Time: at, Zone: "busy.example", Action: "rate_limited", RuleID: rule, Status: 429})
	}
	old = append(old, store.SecurityEvent{Node: "node-b", Time: now.Add(-EventRetention - time.Minute), Zone: "a.example", Action: "waf_blocked",
		RuleID: "day-old"})
	for start := 0; start < len(old); start += store.MaxSecurityEvents {
		if err := db.PutSecurityEvents(ctx, old[start:min(start+store.MaxSecurityEvents, len(old))]); err != nil {
			t.Fatal(err)
		}
	}
	s := New(0, 10)
	s.RecordEvent(blocked(1, now))
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		(&Flusher{Store: s, Sink: db, Node: "node-a", Every: 10 * time.Millisecond}).Run(rctx)
		close(done)
	}()
	count := func(f store.SecurityEventFilter) int {
		evs, err := db.SecurityEvents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mine := count(store.SecurityEventFilter{Zone: "a.example", ClientIP: "192.0.2.1"})
		dayOld := count(store.SecurityEventFilter{Zone: "a.example", RuleID: "day-old"})
		pastCap := count(store.SecurityEventFilter{Zone: "busy.example", RuleID: "past-cap"})
		lastKept := count(store.SecurityEventFilter{Zone: "busy.example", RuleID: "last-kept"})
		if mine == 1 && dayOld == 0 && pastCap == 0 {
			if lastKept != 1 {
				t.Fatal("pruning took the oldest of the events a zone keeps")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: flushed %d, day-old %d, past the cap %d", mine, dayOld, pastCap)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
}
