// Package ascii holds the ASCII-only string comparisons HTTP syntax needs.
// strings.EqualFold folds Unicode too ("chun\u212aed", with a Kelvin sign, would
// equal "chunked"), which a protocol parser must not accept.
package ascii

// EqualFold reports whether s and t are equal under ASCII case folding.
func EqualFold(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}
