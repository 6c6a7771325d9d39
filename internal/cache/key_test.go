package cache

import (
	"net/http"
	"testing"

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
