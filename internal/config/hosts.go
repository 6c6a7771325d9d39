package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// hostProfile converts configured names to ASCII: UTS #46 lookup mapping
// (so "Bücher.Example" becomes "xn--bcher-kva.example"), STD3 rules (letters,
// digits and hyphens only) and DNS length limits.
var hostProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
	idna.VerifyDNSLength(true),
)

// CanonicalHost checks a zone host or alias as written in a config and
// returns its canonical form, the form zone tables store: lower-case ASCII
// (internationalised names converted to punycode), no trailing dot, IPv6
// addresses without brackets.
//
// A pattern is an exact host name, an IP address, or a wildcard
// "*.example.org" whose only "*" is the whole leftmost label. A port, an
// empty label, a numeric top-level label (other than a whole IPv4 address)
// or any other character outside letters, digits, hyphens and dots is an
// error.
func CanonicalHost(pattern string) (string, error) {
	if plainHost(pattern) {
		return pattern, nil
	}
	return canonicalHost(pattern)
}

// canonicalHost is CanonicalHost without the shortcut for plain names.
func canonicalHost(pattern string) (string, error) {
	if pattern == "" {
		return "", errors.New("empty host")
	}
	if !utf8.ValidString(pattern) {
		return "", fmt.Errorf("%q: not valid UTF-8", pattern)
	}
	wildcard := false
	name := pattern
	if strings.HasPrefix(name, "*.") {
		wildcard = true
		name = name[2:]
	}
	if strings.Contains(name, "*") {
		return "", fmt.Errorf("malformed wildcard %q: only a leading \"*.\" label is allowed, as in \"*.example.org\"", pattern)
	}
	if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
		name = name[1 : len(name)-1]
		if _, err := netip.ParseAddr(name); err != nil || !strings.Contains(name, ":") {
			return "", fmt.Errorf("%q: brackets may only enclose an IPv6 address", pattern)
		}
	}
	if addr, err := netip.ParseAddr(name); err == nil {
		if wildcard {
			return "", fmt.Errorf("malformed wildcard %q: a wildcard needs a domain name, not an IP address", pattern)
		}
		if addr.Zone() != "" {
			return "", fmt.Errorf("%q: an IPv6 zone is not allowed in a host", pattern)
		}
		return addr.String(), nil
	}
	if strings.Contains(name, ":") {
		return "", fmt.Errorf("%q: a host must not include a port", pattern)
	}
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return "", fmt.Errorf("%q: empty host name", pattern)
	}
	ascii, err := hostProfile.ToASCII(name)
	if err != nil {
		return "", fmt.Errorf("%q: not a valid host name: %w", pattern, err)
	}
	labels := strings.Split(ascii, ".")
	for _, l := range labels {
		if l == "" {
			return "", fmt.Errorf("%q: not a valid host name: empty label", pattern)
		}
	}
	if allDigits(labels[len(labels)-1]) {
		return "", fmt.Errorf("%q: not a valid host name or IP address: the last label is numeric", pattern)
	}
	if wildcard {
		return "*." + ascii, nil
	}
	return ascii, nil
}

// plainHost reports whether s is a host name CanonicalHost returns as it
// is, without the IDNA conversion (a tenth of a second at 100,000 zones):
// lower-case letters, digits and hyphens in labels of 1 to 63 bytes that
// neither start nor end with a hyphen nor hold two in a row (so no
// punycode label), at most 253 bytes, a last label that is not numeric.
// Anything else takes the general path.
func plainHost(s string) bool {
	if len(s) > 253 {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			c := s[i]
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			case c == '-':
				if i == start || i+1 == len(s) || s[i+1] == '.' || s[i+1] == '-' {
					return false
				}
			default:
				return false
			}
			continue
		}
		if i == start || i-start > 63 {
			return false
		}
		if i == len(s) && allDigits(s[start:]) {
			return false
		}
		start = i + 1
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
