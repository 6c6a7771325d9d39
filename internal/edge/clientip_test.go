package edge

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name        string
		remote      string
		trusted     []netip.Prefix
		xff         []string
		fwd         []string
		want        string
		wantTrusted bool
	}{
		{name: "peer only", remote: "192.0.2.1:5555", want: "192.0.2.1"},
		{name: "xff ignored without trusted proxies", remote: "192.0.2.1:5555", xff: []string{"203.0.113.9"}, want: "192.0.2.1"},
		{name: "xff ignored from untrusted peer", remote: "192.0.2.1:5555", trusted: trusted, xff: []string{"203.0.113.9"}, want: "192.0.2.1"},
		{name: "trusted peer, no header", remote: "10.1.2.3:80", trusted: trusted, want: "10.1.2.3", wantTrusted: true},
		{name: "trusted peer, xff", remote: "10.1.2.3:80", trusted: trusted, xff: []string{"203.0.113.9"}, want: "203.0.113.9", wantTrusted: true},
		{name: "right-most untrusted wins over spoofed left", remote: "10.1.2.3:80", trusted: trusted,
			xff: []string{"6.6.6.6, 203.0.113.9, 10.9.9.9"}, want: "203.0.113.9", wantTrusted: true},
		{name: "several header lines", remote: "10.1.2.3:80", trusted: trusted,
			xff: []string{"6.6.6.6", "203.0.113.9", "10.9.9.9 , 10.8.8.8"}, want: "203.0.113.9", wantTrusted: true},
		{name: "all trusted: left-most", remote: "10.1.2.3:80", trusted: trusted, xff: []string{"10.5.5.5, 10.9.9.9"}, want: "10.5.5.5", wantTrusted: true},
		{name: "garbage stops the walk", remote: "10.1.2.3:80", trusted: trusted, xff: []string{"203.0.113.9, garbage, 10.9.9.9"}, want: "10.9.9.9", wantTrusted: true},
		{name: "xff with port and v6", remote: "[::1]:80", trusted: trusted, xff: []string{"[2001:db8::7]:4711"}, want: "2001:db8::7", wantTrusted: true},
		{name: "mapped v4 unmapped", remote: "[::ffff:192.0.2.1]:80", want: "192.0.2.1"},
		{name: "forwarded", remote: "10.1.2.3:80", trusted: trusted,
			fwd: []string{`for=6.6.6.6, for="[2001:db8::9]:80";proto=https, For=10.2.2.2`}, want: "2001:db8::9", wantTrusted: true},
		{name: "xff preferred over forwarded", remote: "10.1.2.3:80", trusted: trusted,
			xff: []string{"203.0.113.9"}, fwd: []string{"for=198.51.100.1"}, want: "203.0.113.9", wantTrusted: true},
		{name: "forwarded unknown stops", remote: "10.1.2.3:80", trusted: trusted, fwd: []string{"for=198.51.100.1, for=unknown"}, want: "10.1.2.3", wantTrusted: true},
		{name: "unparsable remote", remote: "@", want: "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.xff != nil {
				h["X-Forwarded-For"] = tt.xff
			}
			if tt.fwd != nil {
				h["Forwarded"] = tt.fwd
			}
			got, gotTrusted := ClientIP(tt.remote, h, tt.trusted)
			if got.String() != tt.want || gotTrusted != tt.wantTrusted {
				t.Errorf("ClientIP = %v, %v; want %v, %v", got, gotTrusted, tt.want, tt.wantTrusted)
			}
		})
	}
}

func TestForwardedFor(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{`for=192.0.2.60;proto=http;by=203.0.113.43`}, []string{"192.0.2.60"}},
		{[]string{`for=192.0.2.43, for=198.51.100.17`}, []string{"192.0.2.43", "198.51.100.17"}},
		{[]string{`for="[2001:db8:cafe::17]:4711"`}, []string{"[2001:db8:cafe::17]:4711"}},
		{[]string{`proto=https;for="a\"b"`}, []string{`a"b`}},
		{[]string{`proto=https`, `for=1.2.3.4`}, []string{"", "1.2.3.4"}},
		{[]string{`for="unterminated`}, []string{""}},
		{[]string{`garbage`}, []string{""}},
		{[]string{`for=1.2.3.4 junk`}, []string{"1.2.3.4 junk"}},
		{[]string{`for=1.2.3.4,`}, []string{"1.2.3.4"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, "|"), func(t *testing.T) {
			if got := forwardedFor(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("forwardedFor = %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzClientIP checks that the client address is always the peer or one
// of the addresses written in the headers, and that an untrusted peer is
// never overridden.
func FuzzClientIP(f *testing.F) {
	f.Add("10.1.2.3:80", "6.6.6.6, 203.0.113.9", "")
	f.Add("10.1.2.3:80", "", `for="[2001:db8::1]:1";proto=https, for=unknown`)
	f.Add("192.0.2.1:1", "1.1.1.1", "for=2.2.2.2")
	f.Add("[::1]:80", " , ,", `for="\`)
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	f.Fuzz(func(t *testing.T, remote, xff, fwd string) {
		h := http.Header{}
		if xff != "" {
			h["X-Forwarded-For"] = []string{xff}
		}
		if fwd != "" {
			h["Forwarded"] = []string{fwd}
		}
		peer := parsePeer(remote)
		got, peerTrusted := ClientIP(remote, h, trusted)
		if !peerTrusted {
			if got != peer {
				t.Fatalf("untrusted peer %v overridden by %v", peer, got)
			}
			return
		}
		if got == peer {
			return
		}
		s := got.String()
		v6 := strings.Contains(s, ":")
		if !strings.Contains(xff, s) && !strings.Contains(fwd, s) && !v6 {
			t.Fatalf("client %v appears in no header (xff %q, forwarded %q)", got, xff, fwd)
		}
		_ = forwardedFor([]string{fwd})
	})
}

func BenchmarkClientIP(b *testing.B) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	h := http.Header{"X-Forwarded-For": {"6.6.6.6, 203.0.113.9, 10.9.9.9"}}
	b.Run("untrusted peer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ClientIP("192.0.2.1:5555", h, trusted)
		}
	})
	b.Run("trusted peer xff", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ClientIP("10.1.2.3:5555", h, trusted)
		}
	})
}
