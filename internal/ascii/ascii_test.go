package ascii

import "testing"

func TestEqualFold(t *testing.T) {
	for _, tc := range []struct {
		s, t string
		want bool
	}{
		{"chunked", "chunked", true},
		{"CHUNKED", "chunked", true},
		{"Keep-Alive", "keep-alive", true},
		{"chun\u212aed", "chunked", false}, // Kelvin sign: strings.EqualFold says true
		{"chunke", "chunked", false},
		{"chunkee", "chunked", false},
		{"", "", true},
		{"@", "`", false}, // not letters: no folding
	} {
		if got := EqualFold(tc.s, tc.t); got != tc.want {
			t.Errorf("EqualFold(%q, %q) = %v, want %v", tc.s, tc.t, got, tc.want)
		}
	}
}
