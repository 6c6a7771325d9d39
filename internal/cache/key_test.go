package cache

import (
	"net/http"
	"testing"
	"unsafe"

	"github.com/rampart-edge/rampart/internal/reqctx"
)

// TestKeyHostFromEdge checks that the key's host is the one the edge
// decided on and sends to the origin (reqctx.Info.Host), not the raw Host.
func TestKeyHostFromEdge(t *testing.T) {
	t.Parallel()
	r, err := http.NewRequest("GET", "http://cache.test/p", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Host = "cache.test:evil.test"
	r = r.WithContext(reqctx.With(r.Context(), &reqctx.Info{Host: "cache.test:8080"}))
	if got := (&Rules{}).locate(r).host; got != "cache.test:8080" {
		t.Errorf("key host %q, want the edge's cache.test:8080", got)
	}
}

func TestPurgeHostMatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		want, got string
		match     bool
	}{
		{"", "a.example:8080", true},
		{"a.example", "a.example", true},
		{"a.example", "a.example:8080", true},
		{"a.example:8080", "a.example:8080", true},
		{"a.example:8080", "a.example", false},
		{"a.example:8080", "a.example:8443", false},
		{"a.example", "b.example:8080", false},
		{"[::1]", "[::1]:8080", true},
		{"[::1]", "[::2]", false},
	}
	for _, tt := range tests {
		if m := hostMatches(tt.want, tt.got); m != tt.match {
			t.Errorf("hostMatches(%q, %q) = %v, want %v", tt.want, tt.got, m, tt.match)
		}
	}
}

// TestLocationOwned checks that owned copies host, path and query out of
// the request head they are substrings of (an entry would otherwise keep
// the whole head alive), with the same values.
func TestLocationOwned(t *testing.T) {
	head := "GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nCookie: session=secret\r\n\r\n"
	inHead := func(s string) bool {
		if s == "" {
			return false
		}
		p, lo := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(head)))
		return p >= lo && p < lo+uintptr(len(head))
	}
	for _, l := range []location{
		{scheme: "http", host: head[29:40], path: head[4:8], query: head[9:12]},
		{scheme: "https", host: "", path: head[4:8], query: ""},
		{scheme: "http", host: head[29:40], path: "", query: head[9:12]},
		{scheme: "http"},
	} {
		o := l.owned()
		if o != l {
			t.Errorf("owned(%+v) = %+v, want the same values", l, o)
		}
		for _, s := range []string{o.host, o.path, o.query} {
			if inHead(s) {
				t.Errorf("owned(%+v): %q still points into the request head", l, s)
			}
		}
	}
}

// TestAppendBaseKey checks the key bytes against the layout baseKey
// documents: zone, scheme, host and path separated by NUL bytes, then "?"
// and the query when there is one.
func TestAppendBaseKey(t *testing.T) {
	tests := []struct {
		l    location
		want string
	}{
		{location{scheme: "http", host: "example.org", path: "/a"}, "z\x00http\x00example.org\x00/a"},
		{location{scheme: "https", host: "example.org:8443", path: "/a/b", query: "x=1&y=2"}, "z\x00https\x00example.org:8443\x00/a/b?x=1&y=2"},
		{location{scheme: "http", path: "/"}, "z\x00http\x00\x00/"},
	}
	for _, tt := range tests {
		if got := baseKey("z", tt.l); got != tt.want {
			t.Errorf("baseKey(%+v) = %q, want %q", tt.l, got, tt.want)
		}
		prefix := []byte("junk")
		if got := appendBaseKey(prefix, "z", tt.l); string(got) != "junk"+tt.want {
			t.Errorf("appendBaseKey(%+v) = %q, want %q", tt.l, got, "junk"+tt.want)
		}
	}
}
