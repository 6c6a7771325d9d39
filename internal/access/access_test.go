package access_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/access"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/geoip"
	"github.com/rampart-edge/rampart/internal/geoip/geoiptest"
	"github.com/rampart-edge/rampart/internal/reqctx"
)

func rules(t testing.TB, entries ...string) []config.AccessRule {
	t.Helper()
	rs, err := config.AccessRules(entries)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func testDB(t testing.TB) *geoip.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "geo.mmdb")
	err := geoiptest.Write(path, []geoiptest.Entry{
		{Network: netip.MustParsePrefix("192.0.2.0/24"), Country: "FR", ASN: 64500},
		{Network: netip.MustParsePrefix("198.51.100.0/24"), Country: "IR", ASN: 64501},
		{Network: netip.MustParsePrefix("203.0.113.0/24"), Country: "US", ASN: 64512},
		{Network: netip.MustParsePrefix("2001:db8:1::/48"), Country: "KP"},
	})
	if err != nil {
		t.Fatal(err)
	}
	db, err := geoip.Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestDecide(t *testing.T) {
	db := testDB(t)
	tests := []struct {
		name        string
		allow, deny []string
		embargo     []string
		ip          string
		want        string
	}{
		{name: "no match passes", deny: []string{"10.0.0.0/8"}, ip: "192.0.2.1", want: ""},
		{name: "deny cidr", deny: []string{"10.0.0.0/8"}, ip: "10.9.8.7", want: access.ReasonDeny},
		{name: "deny exact ip", deny: []string{"10.0.0.0/8", "192.0.2.9"}, ip: "192.0.2.9", want: access.ReasonDeny},
		{name: "deny mapped ip", deny: []string{"192.0.2.9"}, ip: "::ffff:192.0.2.9", want: access.ReasonDeny},
		{name: "deny v6 cidr", deny: []string{"2001:db8::/32"}, ip: "2001:db8:ffff::1", want: access.ReasonDeny},
		{name: "v4 rule never matches v6", deny: []string{"0.0.0.0/0"}, ip: "2001:db8::1", want: ""},
		{name: "deny country", deny: []string{"country:IR"}, ip: "198.51.100.7", want: access.ReasonDeny},
		{name: "deny asn", deny: []string{"asn:64512"}, ip: "203.0.113.5", want: access.ReasonDeny},
		{name: "allow list admits", allow: []string{"country:FR"}, ip: "192.0.2.1", want: ""},
		{name: "allow list refuses", allow: []string{"country:FR"}, ip: "203.0.113.5", want: access.ReasonAllowList},
		{name: "allow list refuses unknown", allow: []string{"country:FR", "asn:64512"}, ip: "10.0.0.1", want: access.ReasonAllowList},
		{name: "deny beats allow", allow: []string{"192.0.2.0/24"}, deny: []string{"192.0.2.66"}, ip: "192.0.2.66", want: access.ReasonDeny},
		{name: "embargo", embargo: []string{"IR", "KP"}, ip: "198.51.100.7", want: access.ReasonEmbargo},
		{name: "embargo v6", embargo: []string{"KP"}, ip: "2001:db8:1::5", want: access.ReasonEmbargo},
		{name: "embargo beats allow", allow: []string{"198.51.100.0/24"}, embargo: []string{"IR"}, ip: "198.51.100.7", want: access.ReasonEmbargo},
		{name: "embargo other country passes", embargo: []string{"IR"}, ip: "192.0.2.1", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := access.New(access.Options{Allow: rules(t, tt.allow...), Deny: rules(t, tt.deny...), Embargoed: tt.embargo, GeoIP: db})
			if got := p.Decide(netip.MustParseAddr(tt.ip)); got != tt.want {
				t.Errorf("Decide(%s) = %q, want %q", tt.ip, got, tt.want)
			}
		})
	}
	if p := access.New(access.Options{}); p != nil {
		t.Error("New without rules returned a phase")
	}
}

func TestNoGeoIPDatabase(t *testing.T) {
	p := access.New(access.Options{Allow: rules(t, "country:FR"), Deny: rules(t, "asn:64501"), Embargoed: []string{"IR"}})
	if got := p.Decide(netip.MustParseAddr("198.51.100.7")); got != access.ReasonAllowList {
		t.Errorf("without a database an allow-list of countries must refuse everyone, got %q", got)
	}
}

func serve(p edge.Phase, ip string) (*httptest.ResponseRecorder, *reqctx.Info, edge.Decision) {
	r := httptest.NewRequest("GET", "http://example.org/x", nil)
	info := &reqctx.Info{ID: "req-42", ClientIP: netip.MustParseAddr(ip)}
	r = r.WithContext(reqctx.With(r.Context(), info))
	w := httptest.NewRecorder()
	d := p.Serve(w, r)
	return w, info, d
}

func TestServe(t *testing.T) {
	db := testDB(t)
	var blocked []string
	p := access.New(access.Options{
		Zone: "example.org", Deny: rules(t, "10.0.0.0/8"), Embargoed: []string{"IR"},
		BlockedBy: "https://compliance.example.net", GeoIP: db,
		OnBlock: func(reason string) { blocked = append(blocked, reason) },
	})
	t.Run("pass", func(t *testing.T) {
		w, info, d := serve(p, "192.0.2.1")
		if d != edge.Continue || info.Block != "" || w.Code != 200 {
			t.Fatalf("decision %v block %q code %d", d, info.Block, w.Code)
		}
	})
	t.Run("deny", func(t *testing.T) {
		w, info, d := serve(p, "10.1.1.1")
		body, _ := io.ReadAll(w.Body)
		if d != edge.Handled || w.Code != http.StatusForbidden || info.Block != access.ReasonDeny {
			t.Fatalf("decision %v code %d block %q", d, w.Code, info.Block)
		}
		if !strings.Contains(string(body), "req-42") {
			t.Errorf("403 body does not name the request id: %q", body)
		}
	})
	t.Run("embargo", func(t *testing.T) {
		w, info, d := serve(p, "198.51.100.7")
		body, _ := io.ReadAll(w.Body)
		if d != edge.Handled || w.Code != http.StatusUnavailableForLegalReasons || info.Block != access.ReasonEmbargo {
			t.Fatalf("decision %v code %d block %q", d, w.Code, info.Block)
		}
		if got, want := w.Header().Get("Link"), `<https://compliance.example.net>; rel="blocked-by"`; got != want {
			t.Errorf("Link = %q, want %q", got, want)
		}
		for _, s := range []string{"embargo", "req-42"} {
			if !strings.Contains(string(body), s) {
				t.Errorf("451 page lacks %q: %s", s, body)
			}
		}
		if w.Header().Get("Cache-Control") != "no-store" {
			t.Error("451 answer is cacheable")
		}
	})
	if strings.Join(blocked, ",") != "access-deny,embargo" {
		t.Errorf("OnBlock saw %v", blocked)
	}
}

func TestDecideAllocs(t *testing.T) {
	db := testDB(t)
	p := access.New(access.Options{Allow: rules(t, "192.0.2.0/24", "2001:db8::/32", "country:US"), Deny: rules(t, "192.0.2.66", "asn:64501"), Embargoed: []string{"IR"}, GeoIP: db})
	ips := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("203.0.113.1"), netip.MustParseAddr("198.51.100.1")}
	for _, ip := range ips {
		p.Decide(ip)
	}
	if n := testing.AllocsPerRun(200, func() {
		for _, ip := range ips {
			p.Decide(ip)
		}
	}); n != 0 {
		t.Errorf("Decide allocates %v times, want 0", n)
	}
}

func BenchmarkDecide(b *testing.B) {
	var entries []string
	for i := range 1000 {
		entries = append(entries, netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}).String()+"/24")
	}
	entries = append(entries, "172.16.0.0/12", "192.0.2.7", "2001:db8::/32", "country:IR", "asn:64512")
	p := access.New(access.Options{Deny: rules(b, entries...), GeoIP: testDB(b)})
	ip := netip.MustParseAddr("192.0.2.1")
	b.ReportAllocs()
	for b.Loop() {
		if p.Decide(ip) != "" {
			b.Fatal("blocked")
		}
	}
}
