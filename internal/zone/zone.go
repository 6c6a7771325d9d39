// Package zone routes a request's host (the Host header, HTTP/2 :authority
// or TLS SNI) to the zone that serves it.
package zone

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/rampart-edge/rampart/internal/config"
)

// maxHostLen is the longest DNS name (253 bytes); longer hosts never match.
const maxHostLen = 253

// Table maps hosts to one value per zone. It is immutable after NewTable and
// safe for concurrent use; to change zones, build a new Table and swap it in.
//
// Matching rules, in order:
//
//  1. An exact host or alias ("www.example.org") matches only that name.
//     Exact names always beat wildcards.
//  2. A wildcard "*.example.org" matches every name below example.org, one
//     or more labels deep ("a.example.org", "a.b.example.org"), but not
//     "example.org" itself (list it as a host or alias too if wanted).
//  3. When several wildcards match, the one with the longest suffix wins:
//     for "a.b.example.org", "*.b.example.org" beats "*.example.org".
//
// Hosts are compared after NormalizeHost: case-insensitively, without a
// port, brackets or one trailing dot, with internationalised names in
// their ASCII (punycode) form.
type Table[V any] struct {
	exact    map[string]V
	wildcard map[string]V // keyed by the suffix after "*."
}

// NewTable builds a table where values[i] belongs to zones[i]: the value is
// found under the zone's host and each of its aliases. It fails when the
// lengths differ, when a host is malformed, or when a host is claimed twice
// (by two zones or twice in one zone), naming the zones involved.
func NewTable[V any](zones []config.Zone, values []V) (*Table[V], error) {
	if len(zones) != len(values) {
		return nil, fmt.Errorf("building zone table: %d zones but %d values", len(zones), len(values))
	}
	t := &Table[V]{exact: make(map[string]V), wildcard: make(map[string]V)}
	owner := make(map[string]int)
	for i := range zones {
		z := &zones[i]
		names := append([]string{z.Host}, z.Aliases...)
		for _, name := range names {
			canon, err := config.CanonicalHost(name)
			if err != nil {
				return nil, fmt.Errorf("building zone table: zone %d (%s): %w", i, zoneName(z), err)
			}
			if j, ok := owner[canon]; ok {
				if j == i {
					return nil, fmt.Errorf("building zone table: zone %d (%s) lists host %q twice", i, zoneName(z), canon)
				}
				return nil, fmt.Errorf("building zone table: host %q is claimed by zone %d (%s) and zone %d (%s)", canon, j, zoneName(&zones[j]), i, zoneName(z))
			}
			owner[canon] = i
			if suffix, ok := strings.CutPrefix(canon, "*."); ok {
				t.wildcard[suffix] = values[i]
			} else {
				t.exact[canon] = values[i]
			}
		}
	}
	return t, nil
}

func zoneName(z *config.Zone) string {
	if z.Line > 0 {
		return fmt.Sprintf("%s, line %d", z.Host, z.Line)
	}
	return z.Host
}

// Len returns the number of hosts, aliases and wildcards in the table.
func (t *Table[V]) Len() int { return len(t.exact) + len(t.wildcard) }

// Lookup returns the value of the zone serving host, where host is what a
// client sent: a Host header ("Example.org:8443", "[::1]:80") or an SNI
// name. It does not allocate for a lower-case ASCII host, with or without
// a port; upper-case ASCII is folded on the stack; only non-ASCII names
// and IPv6 literals take an allocating path.
func (t *Table[V]) Lookup(host string) (V, bool) {
	h, ok := trimHost(host)
	if !ok {
		return t.lookupCanonical(NormalizeHost(host))
	}
	upper := false
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c >= 0x80 {
			return t.lookupCanonical(NormalizeHost(host))
		}
		if 'A' <= c && c <= 'Z' {
			upper = true
		}
	}
	if !upper {
		return t.lookupCanonical(h)
	}
	if len(h) > maxHostLen {
		return t.lookupCanonical(asciiLower(h)) // too long for the stack buffer; never a valid name
	}
	var buf [maxHostLen]byte
	b := buf[:len(h)]
	for i := 0; i < len(h); i++ {
		c := h[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	// The string(b) conversions in map index expressions do not allocate.
	if v, ok := t.exact[string(b)]; ok {
		return v, true
	}
	for i := 1; i < len(b); i++ {
		if b[i-1] == '.' && i >= 2 {
			if v, ok := t.wildcard[string(b[i:])]; ok {
				return v, true
			}
		}
	}
	var zero V
	return zero, false
}

// lookupCanonical looks up a normalised host.
func (t *Table[V]) lookupCanonical(h string) (V, bool) {
	if v, ok := t.exact[h]; ok {
		return v, true
	}
	// Longest suffix first: the suffix after the first dot, then the next.
	// A wildcard needs at least one non-empty label before its suffix.
	for i := 1; i < len(h); i++ {
		if h[i-1] == '.' && i >= 2 {
			if v, ok := t.wildcard[h[i:]]; ok {
				return v, true
			}
		}
	}
	var zero V
	return zero, false
}

// trimHost strips a port and one trailing dot without allocating. It
// reports false when the host needs NormalizeHost's slow path: a bracketed
// or bare IPv6 literal.
func trimHost(host string) (string, bool) {
	if len(host) > 0 && host[0] == '[' {
		return "", false
	}
	colon := -1
	for i := 0; i < len(host); i++ {
		if host[i] == ':' {
			if colon >= 0 {
				return "", false // bare IPv6 literal
			}
			colon = i
		}
	}
	if colon >= 0 {
		host = host[:colon]
	}
	if n := len(host); n > 0 && host[n-1] == '.' {
		host = host[:n-1]
	}
	return host, true
}

// NormalizeHost returns host as zone tables compare it: the port, IPv6
// brackets and one trailing dot removed, ASCII letters in lower case,
// IPv6 addresses in canonical form, and non-ASCII names converted to
// punycode with IDNA lookup rules (UTS #46). It returns "" for a
// non-ASCII name that is not UTF-8 or that IDNA rejects, so such a name
// matches no zone.
// ASCII names are not otherwise validated: an invalid one simply matches
// nothing.
func NormalizeHost(host string) string {
	h := host
	if len(h) > 0 && h[0] == '[' {
		if end := strings.IndexByte(h, ']'); end >= 0 {
			h = h[1:end]
		}
	} else if strings.Count(h, ":") == 1 {
		h = h[:strings.IndexByte(h, ':')]
	}
	if strings.Contains(h, ":") {
		if a, err := netip.ParseAddr(h); err == nil {
			return a.String()
		}
		return asciiLower(h)
	}
	h = strings.TrimSuffix(h, ".")
	for i := 0; i < len(h); i++ {
		if h[i] >= 0x80 {
			if !utf8.ValidString(h) {
				return ""
			}
			a, err := idna.Lookup.ToASCII(h)
			if err != nil {
				return ""
			}
			// UTS #46 maps dot-like runes such as U+3002 to ".".
			return strings.TrimSuffix(a, ".")
		}
	}
	return asciiLower(h)
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
