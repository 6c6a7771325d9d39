package edge

import (
	"net"
	"strings"
	"testing"
)

func TestCanonicalHost(t *testing.T) {
	on := func(port int) net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port} }
	tests := []struct {
		raw   string
		tls   bool
		local net.Addr
		want  string // "" with err
		err   error
	}{
		{raw: "cache.test", local: on(80), want: "cache.test"},
		{raw: "cache.test", local: on(8080), want: "cache.test"},
		{raw: "cache.test:8080", local: on(8080), want: "cache.test:8080"},
		{raw: "cache.test:80", local: on(80), want: "cache.test"},
		{raw: "cache.test:1234", local: on(80), want: "cache.test"},
		{raw: "cache.test:1234", local: on(8080), want: "cache.test:8080"},
		{raw: "cache.test:08080", local: on(8080), want: "cache.test:8080"},
		{raw: "cache.test:443", tls: true, local: on(443), want: "cache.test"},
		{raw: "cache.test:80", tls: true, local: on(8443), want: "cache.test:8443"},
		{raw: "cache.test:80", local: nil, want: "cache.test"},
		{raw: "CACHE.Test", local: on(80), want: "cache.test"},
		{raw: "cache.test.", local: on(80), want: "cache.test"},
		{raw: "cache.test.:8080", local: on(8080), want: "cache.test:8080"},
		{raw: "under_score.test", local: on(80), want: "under_score.test"},
		{raw: "127.0.0.1:8080", local: on(8080), want: "127.0.0.1:8080"},
		{raw: "[::1]", local: on(80), want: "[::1]"},
		{raw: "[::1]:8080", local: on(8080), want: "[::1]:8080"},
		{raw: "[2001:DB8:0:0::1]:99", local: on(80), want: "[2001:db8::1]"},
		{raw: "[::ffff:127.0.0.1]", local: on(80), want: "[::ffff:127.0.0.1]"},

		{raw: "cache.test:evil.test", err: errHostPort},
		{raw: "cache.test:80:80", err: errHostPort},
		{raw: "cache.test:8080@evil", err: errHostPort},
		{raw: "cache.test:", err: errHostPort},
		{raw: "cache.test:0", err: errHostPort},
		{raw: "cache.test:65536", err: errHostPort},
		{raw: "cache.test:123456", err: errHostPort},
		{raw: "cache.test :80", err: errHostChars},
		{raw: "cache.test%3aevil", err: errHostChars},
		{raw: "user@cache.test", err: errHostChars},
		{raw: "cache.test/evil", err: errHostChars},
		{raw: "cache.test\\evil", err: errHostChars},
		{raw: "bücher.test", err: errHostChars},
		{raw: "cache..test", err: errHostLabel},
		{raw: ".cache.test", err: errHostLabel},
		{raw: ".", err: errHostLabel},
		{raw: "cache.test..", err: errHostLabel},
		{raw: strings.Repeat("a", 64) + ".test", err: errHostLabel},
		{raw: strings.Repeat("a.", 127) + "ab", err: errHostLabel},
		{raw: strings.Repeat("a", 300), err: errHostTooLong},
		{raw: "::1", err: errHostPort},
		{raw: "[::1", err: errHostIPv6},
		{raw: "[127.0.0.1]", err: errHostIPv6},
		{raw: "[fe80::1%25eth0]", err: errHostIPv6},
		{raw: "[::1]x", err: errHostChars},
		{raw: "[::1]:", err: errHostPort},
		{raw: "[::1]:http", err: errHostPort},
	}
	for _, tt := range tests {
		got, err := canonicalHost(tt.raw, tt.tls, tt.local)
		if err != tt.err || got != tt.want {
			t.Errorf("canonicalHost(%q, tls=%v, %v) = %q, %v; want %q, %v", tt.raw, tt.tls, tt.local, got, err, tt.want, tt.err)
		}
	}
}

func TestCanonicalHostAllocs(t *testing.T) {
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	for _, h := range []string{"cache.test", "cache.test:8080", "[::1]:8080"} {
		if n := testing.AllocsPerRun(100, func() { canonicalHost(h, false, local) }); n != 0 {
			t.Errorf("canonicalHost(%q) allocates %v times", h, n)
		}
	}
}

// FuzzCanonicalHost: whatever a client sends, the host passed on is either
// refused or made only of name bytes, brackets and one listener port, and
// canonicalising it again changes nothing.
func FuzzCanonicalHost(f *testing.F) {
	for _, s := range []string{"cache.test", "cache.test:evil.test", "CACHE.test.:080", "[::1]:8080", "[::ffff:1.2.3.4]", "a..b", "x:1:2", "é.test", "a@b"} {
		f.Add(s, false)
	}
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	f.Fuzz(func(t *testing.T, raw string, tls bool) {
		h, err := canonicalHost(raw, tls, local)
		if err != nil {
			return
		}
		name, port := h, ""
		if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
			name, port = h[:i], h[i+1:]
		}
		if port != "" && port != "8080" {
			t.Fatalf("canonicalHost(%q) = %q: port is not the listener's", raw, h)
		}
		if strings.HasPrefix(name, "[") {
			if !strings.HasSuffix(name, "]") {
				t.Fatalf("canonicalHost(%q) = %q: unbalanced brackets", raw, h)
			}
		} else {
			for i := 0; i < len(name); i++ {
				if c := name[i]; !hostByte[c] || 'A' <= c && c <= 'Z' {
					t.Fatalf("canonicalHost(%q) = %q: byte %q", raw, h, c)
				}
			}
			if strings.HasSuffix(name, ".") {
				t.Fatalf("canonicalHost(%q) = %q: trailing dot", raw, h)
			}
		}
		if again, err := canonicalHost(h, tls, local); err != nil || again != h {
			t.Fatalf("canonicalHost(%q) = %q, then %q, %v", raw, h, again, err)
		}
	})
}
