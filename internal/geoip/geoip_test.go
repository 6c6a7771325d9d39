package geoip_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/geoip"
	"github.com/rampart-edge/rampart/internal/geoip/geoiptest"
)

func writeDB(t testing.TB, path string, entries []geoiptest.Entry) {
	t.Helper()
	if err := geoiptest.Write(path, entries); err != nil {
		t.Fatal(err)
	}
}

var testEntries = []geoiptest.Entry{
	{Network: netip.MustParsePrefix("192.0.2.0/24"), Country: "FR", ASN: 64500, Org: "Example FR"},
	{Network: netip.MustParsePrefix("198.51.100.0/24"), Country: "IR"},
	{Network: netip.MustParsePrefix("203.0.113.0/25"), ASN: 64512},
	{Network: netip.MustParsePrefix("2001:db8:1::/48"), Country: "KP", ASN: 64501},
	{Network: netip.MustParsePrefix("127.0.0.0/8"), Country: "ZZ"},
}

func TestLookup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "geo.mmdb")
	writeDB(t, path, testEntries)
	db, err := geoip.Open(path, path)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(db.Paths()); got != 1 {
		t.Errorf("same path twice opened %d files, want 1", got)
	}
	tests := []struct {
		ip   string
		want geoip.Info
	}{
		{"192.0.2.55", geoip.Info{Country: "FR", ASN: 64500}},
		{"::ffff:192.0.2.55", geoip.Info{Country: "FR", ASN: 64500}},
		{"198.51.100.1", geoip.Info{Country: "IR"}},
		{"203.0.113.9", geoip.Info{ASN: 64512}},
		{"203.0.113.200", geoip.Info{}},
		{"2001:db8:1:2::7", geoip.Info{Country: "KP", ASN: 64501}},
		{"2001:db8:2::7", geoip.Info{}},
		{"10.0.0.1", geoip.Info{}},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			if got := db.Lookup(netip.MustParseAddr(tt.ip)); got != tt.want {
				t.Errorf("Lookup(%s) = %+v, want %+v", tt.ip, got, tt.want)
			}
		})
	}
	var nilDB *geoip.DB
	if got := nilDB.Lookup(netip.MustParseAddr("192.0.2.1")); got != (geoip.Info{}) {
		t.Errorf("nil DB Lookup = %+v", got)
	}
}

func TestSeparateCountryAndASN(t *testing.T) {
	dir := t.TempDir()
	cpath, apath := filepath.Join(dir, "country.mmdb"), filepath.Join(dir, "asn.mmdb")
	writeDB(t, cpath, []geoiptest.Entry{{Network: netip.MustParsePrefix("192.0.2.0/24"), Country: "DE"}})
	writeDB(t, apath, []geoiptest.Entry{{Network: netip.MustParsePrefix("192.0.0.0/16"), ASN: 3320, Org: "DTAG"}})
	db, err := geoip.Open(cpath, apath)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := db.Lookup(netip.MustParseAddr("192.0.2.1")), (geoip.Info{Country: "DE", ASN: 3320}); got != want {
		t.Errorf("Lookup = %+v, want %+v", got, want)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.mmdb")
	if err := os.WriteFile(junk, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "nope.mmdb"), "nope.mmdb"},
		{"junk", junk, "parsing geoip database " + junk},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := geoip.Open(tt.path, "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open error = %v, want it to name %q", err, tt.want)
			}
		})
	}
	if _, err := geoip.Open("", ""); err == nil {
		t.Error("Open with no file succeeded")
	}
}

func TestReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "geo.mmdb")
	writeDB(t, path, testEntries)
	db, err := geoip.Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("192.0.2.1")
	if changed, err := db.Reload(); err != nil || changed {
		t.Fatalf("Reload of an unchanged file = %v, %v; want false, nil", changed, err)
	}
	writeDB(t, path, []geoiptest.Entry{{Network: netip.MustParsePrefix("192.0.2.0/24"), Country: "CU"}})
	// Make sure the modification time moves even on coarse clocks.
	future := time.Now().Add(2 * time.Second)
	if err := os.Chtimes(path, future, future); err != nil {
		t.Fatal(err)
	}
	if changed, err := db.Reload(); err != nil || !changed {
		t.Fatalf("Reload after a change = %v, %v; want true, nil", changed, err)
	}
	if got := db.Lookup(ip).Country; got != "CU" {
		t.Errorf("after reload country = %q, want CU", got)
	}
	// A broken file keeps the database in service.
	if err := os.WriteFile(path, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Reload(); err == nil {
		t.Error("Reload of a broken file succeeded")
	}
	if got := db.Lookup(ip).Country; got != "CU" {
		t.Errorf("after failed reload country = %q, want CU (kept)", got)
	}
}

func TestLookupAllocs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "geo.mmdb")
	writeDB(t, path, testEntries)
	db, err := geoip.Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("192.0.2.1")
	db.Lookup(ip)
	if n := testing.AllocsPerRun(100, func() { db.Lookup(ip) }); n > 0 {
		t.Errorf("Lookup allocates %v times per call, want 0", n)
	}
}

func BenchmarkLookup(b *testing.B) {
	path := filepath.Join(b.TempDir(), "geo.mmdb")
	writeDB(b, path, testEntries)
	db, err := geoip.Open(path, "")
	if err != nil {
		b.Fatal(err)
	}
	ip := netip.MustParseAddr("192.0.2.1")
	b.ReportAllocs()
	for b.Loop() {
		db.Lookup(ip)
	}
}

func TestWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "geo.mmdb")
	writeDB(t, path, testEntries)
	db, err := geoip.Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { db.Watch(ctx, 20*time.Millisecond, nil); close(done) }()
	defer func() { cancel(); <-done }()
	writeDB(t, path, []geoiptest.Entry{{Network: netip.MustParsePrefix("192.0.2.0/24"), Country: "SY"}})
	future := time.Now().Add(2 * time.Second)
	os.Chtimes(path, future, future)
	ip := netip.MustParseAddr("192.0.2.1")
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if db.Lookup(ip).Country == "SY" {
			return
		}
	}
	t.Fatalf("Watch did not pick up the new file: country %q", db.Lookup(ip).Country)
}
