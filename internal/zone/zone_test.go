package zone

import (
	"net/netip"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/rampart-edge/rampart/internal/config"
)

func testZones() []config.Zone {
	return []config.Zone{
		{Host: "www.example.org", Aliases: []string{"example.org"}},
		{Host: "*.example.org"},
		{Host: "*.shop.example.org", Aliases: []string{"Checkout.Shop.Example.ORG."}},
		{Host: "bücher.example"},
		{Host: "*.xn--bcher-kva.example"},
		{Host: "127.0.0.1", Aliases: []string{"::1", "[2001:db8::1]"}},
		{Host: "LOCALHOST"},
	}
}

func testTable(t testing.TB) *Table[string] {
	t.Helper()
	zones := testZones()
	values := make([]string, len(zones))
	for i, z := range zones {
		values[i] = z.Host
	}
	tbl, err := NewTable(zones, values)
	if err != nil {
		t.Fatalf("NewTable: %v", err)
	}
	return tbl
}

func TestLookup(t *testing.T) {
	tbl := testTable(t)
	if got := tbl.Len(); got != 11 {
		t.Errorf("Len = %d, want 11", got)
	}
	tests := []struct {
		host string
		want string // "" = no zone
	}{
		{"www.example.org", "www.example.org"},
		{"WWW.Example.Org", "www.example.org"},
		{"www.example.org:8443", "www.example.org"},
		{"www.example.org.", "www.example.org"},
		{"www.example.org.:80", "www.example.org"},
		{"example.org", "www.example.org"}, // alias beats nothing; wildcard does not match the apex
		{"Example.org:80", "www.example.org"},
		{"a.example.org", "*.example.org"},
		{"a.b.c.example.org", "*.example.org"},
		{"shop.example.org", "*.example.org"},
		{"x.shop.example.org", "*.shop.example.org"}, // longest wildcard wins
		{"y.x.SHOP.example.org", "*.shop.example.org"},
		{"checkout.shop.example.org", "*.shop.example.org"}, // an exact alias of that zone
		{"www.example.org.evil.test", ""},
		{"evilexample.org", ""},
		{".example.org", ""},
		{"example.org..", ""},
		{"org", ""},
		{"", ""},
		{":80", ""},
		{"bücher.example", "bücher.example"},
		{"BÜCHER.example:443", "bücher.example"},
		{"xn--bcher-kva.example", "bücher.example"},
		{"shop.bücher.example", "*.xn--bcher-kva.example"},
		{"127.0.0.1", "127.0.0.1"},
		{"127.0.0.1:8080", "127.0.0.1"},
		{"[::1]:8080", "127.0.0.1"},
		{"[::1]", "127.0.0.1"},
		{"::1", "127.0.0.1"},
		{"[2001:DB8:0::1]:443", "127.0.0.1"},
		{"localhost", "LOCALHOST"},
		{"LocalHost:3000", "LOCALHOST"},
		{"1.127.0.0.1", ""},
		{"xn--invalid-\xff.example", ""},
		{strings.Repeat("A", 300) + ".example.org", "*.example.org"},
		{strings.Repeat("a", 300) + ".example.org", "*.example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			got, ok := tbl.Lookup(tt.host)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("Lookup(%q) = %q, %v; want %q", tt.host, got, ok, tt.want)
			}
		})
	}
}

func TestNewTableErrors(t *testing.T) {
	tests := []struct {
		name    string
		zones   []config.Zone
		values  int
		wantErr string
	}{
		{"length mismatch", []config.Zone{{Host: "a.example"}}, 2, "1 zones but 2 values"},
		{"duplicate across zones", []config.Zone{{Host: "a.example"}, {Host: "b.example", Aliases: []string{"A.Example."}}}, 2,
			`host "a.example" is claimed by zone 0 (a.example) and zone 1 (b.example)`},
		{"duplicate wildcard", []config.Zone{{Host: "*.a.example"}, {Host: "*.A.example"}}, 2, `host "*.a.example" is claimed by zone 0`},
		{"duplicate idna", []config.Zone{{Host: "bücher.example", Line: 7}, {Host: "xn--bcher-kva.example", Line: 9}}, 2,
			`host "xn--bcher-kva.example" is claimed by zone 0 (bücher.example, line 7) and zone 1 (xn--bcher-kva.example, line 9)`},
		{"twice in one zone", []config.Zone{{Host: "a.example", Aliases: []string{"a.example"}}}, 1, "lists host \"a.example\" twice"},
		{"malformed wildcard", []config.Zone{{Host: "a.*.example"}}, 1, "malformed wildcard"},
		{"empty host", []config.Zone{{Host: ""}}, 1, "empty host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewTable(tt.zones, make([]int, tt.values))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewTable error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	// An exact host below a wildcard is not a conflict: the exact host wins.
	tbl, err := NewTable([]config.Zone{{Host: "*.a.example"}, {Host: "x.a.example"}}, []int{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := tbl.Lookup("x.a.example"); v != 2 {
		t.Errorf("exact under wildcard = %d, want 2", v)
	}
	if v, _ := tbl.Lookup("y.a.example"); v != 1 {
		t.Errorf("wildcard = %d, want 1", v)
	}
}

func TestNormalizeHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"www.example.org", "www.example.org"},
		{"WWW.EXAMPLE.ORG:443", "www.example.org"},
		{"example.org.", "example.org"},
		{"example.org:", "example.org"},
		{"[::1]:80", "::1"},
		{"[::FFFF:1.2.3.4]", "::ffff:1.2.3.4"},
		{"2001:DB8::1", "2001:db8::1"},
		{"[bogus]:80", "bogus"},
		{"Bücher.Example", "xn--bcher-kva.example"},
		{"bücher.example。", "xn--bcher-kva.example"},
		{"ｅｘａｍｐｌｅ.org", "example.org"},
		{"bad\xffutf8.example", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := NormalizeHost(tt.in); got != tt.want {
				t.Errorf("NormalizeHost(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLookupAllocs(t *testing.T) {
	tbl := testTable(t)
	tests := []struct {
		host string
		max  float64
	}{
		{"www.example.org", 0},
		{"a.b.example.org", 0},
		{"www.example.org:8443", 0},
		{"WWW.Example.ORG:8443", 0},
		{"X.Shop.Example.Org", 0},
		{"unknown.test", 0},
		{"127.0.0.1:8080", 0},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			got := testing.AllocsPerRun(100, func() { tbl.Lookup(tt.host) })
			if got > tt.max {
				t.Errorf("Lookup(%q) allocates %v times, want at most %v", tt.host, got, tt.max)
			}
		})
	}
}

// refNormalize is the reference for NormalizeHost, written for clarity
// with the strings, netip and idna packages.
func refNormalize(host string) string {
	h := host
	if strings.HasPrefix(h, "[") {
		if inner, _, ok := strings.Cut(h[1:], "]"); ok {
			h = inner
		}
	} else if strings.Count(h, ":") == 1 {
		h, _, _ = strings.Cut(h, ":")
	}
	if strings.Contains(h, ":") {
		if a, err := netip.ParseAddr(h); err == nil {
			return a.String()
		}
		return lowerASCII(h)
	}
	h = strings.TrimSuffix(h, ".")
	for _, c := range []byte(h) {
		if c >= utf8.RuneSelf {
			if !utf8.ValidString(h) {
				return ""
			}
			a, err := idna.Lookup.ToASCII(h)
			if err != nil {
				return ""
			}
			return strings.TrimSuffix(a, ".")
		}
	}
	return lowerASCII(h)
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// refLookup scans every pattern: an exact match first, else the matching
// wildcard with the longest suffix.
func refLookup(zones []config.Zone, host string) (int, bool) {
	h := refNormalize(host)
	best, bestLen := -1, -1
	for i, z := range zones {
		for _, p := range append([]string{z.Host}, z.Aliases...) {
			c, err := config.CanonicalHost(p)
			if err != nil {
				continue
			}
			if c == h {
				return i, true
			}
			if suffix, ok := strings.CutPrefix(c, "*."); ok {
				if strings.HasSuffix(h, "."+suffix) && len(h) > len(suffix)+1 && len(suffix) > bestLen {
					best, bestLen = i, len(suffix)
				}
			}
		}
	}
	return best, best >= 0
}

// FuzzLookup checks Lookup and NormalizeHost against the reference
// implementations above.
func FuzzLookup(f *testing.F) {
	for _, s := range []string{
		"www.example.org", "WWW.Example.Org:8443", "a.b.example.org.", "x.shop.example.org",
		"[::1]:80", "::1", "127.0.0.1:8080", "bücher.example", "shop.BÜCHER.example:1",
		".example.org", "example.org..", "[::1", "a:b:c", "xn--bcher-kva.example", "",
	} {
		f.Add(s)
	}
	zones := testZones()
	values := make([]int, len(zones))
	for i := range values {
		values[i] = i
	}
	tbl, err := NewTable(zones, values)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, host string) {
		if got, want := NormalizeHost(host), refNormalize(host); got != want {
			t.Fatalf("NormalizeHost(%q) = %q, reference %q", host, got, want)
		}
		got, ok := tbl.Lookup(host)
		want, wantOK := refLookup(zones, host)
		if ok != wantOK || (ok && got != want) {
			t.Fatalf("Lookup(%q) = %d, %v; reference %d, %v", host, got, ok, want, wantOK)
		}
	})
}

func BenchmarkLookup(b *testing.B) {
	tbl := testTable(b)
	for _, host := range []string{
		"www.example.org",           // exact, lower case
		"www.example.org:8443",      // exact with port
		"WWW.Example.ORG",           // exact, mixed case
		"deep.a.b.shop.example.org", // wildcard
		"unknown.test",              // miss
		"bücher.example",            // IDNA slow path
	} {
		b.Run(host, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tbl.Lookup(host)
			}
		})
	}
}

// FuzzConfiguredHostMatches checks that a host accepted in a config is
// found when a client sends it as written, and in canonical form; for a
// wildcard, that a name one label below it is found.
func FuzzConfiguredHostMatches(f *testing.F) {
	for _, s := range []string{"www.example.org", "WWW.Example.org.", "*.example.org", "bücher.example", "*.BÜCHER.example", "::1", "[2001:db8::1]", "127.0.0.1", "ｅｘａｍｐｌｅ.org"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		canon, err := config.CanonicalHost(host)
		if err != nil {
			return
		}
		tbl, err := NewTable([]config.Zone{{Host: host}}, []int{7})
		if err != nil {
			t.Fatalf("NewTable(%q): %v", host, err)
		}
		probes := []string{canon}
		if suffix, ok := strings.CutPrefix(canon, "*."); ok {
			probes = []string{"a." + suffix, "x.y." + suffix}
			if rest, ok := strings.CutPrefix(host, "*."); ok {
				probes = append(probes, "a."+rest)
			}
		} else {
			probes = append(probes, host)
		}
		for _, p := range probes {
			if v, ok := tbl.Lookup(p); !ok || v != 7 {
				t.Fatalf("configured %q (canonical %q): Lookup(%q) = %d, %v", host, canon, p, v, ok)
			}
		}
	})
}

// TestLookupConcurrent reads one table from several goroutines (run with
// -race): a Table is immutable after NewTable.
func TestLookupConcurrent(t *testing.T) {
	tbl := testTable(t)
	hosts := map[string]string{"WWW.example.org:1": "www.example.org", "x.shop.example.org": "*.shop.example.org", "bücher.example": "bücher.example"}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				for h, want := range hosts {
					if got, ok := tbl.Lookup(h); !ok || got != want {
						errs <- h + " → " + got
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
