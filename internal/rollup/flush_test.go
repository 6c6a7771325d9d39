package rollup

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
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
	for i := range 40 {
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
