package challenge

import (
	"crypto/sha256"
	"strings"
)

// Scope is what a clearance cookie and a challenge token are bound to:
// one zone, or the cookie domain that several zones share. A cookie or a
// solution earned in one scope fails the MAC in every other, so a
// clearance earned on a cheap zone opens no other zone.
//
// The zero Scope is a scope of its own (no zone); tests and single-site
// uses may keep it.
type Scope struct {
	name string
	sum  [16]byte
}

// ZoneScope is the scope of a zone's own clearances: its configured host
// ("www.example.org", or "*.example.org" for a wildcard zone, whose
// clearances are valid on every name of the zone), lower-cased.
func ZoneScope(host string) Scope { return newScope("zone", host) }

// DomainScope is the scope of the zones that share the cookie domain
// domain (challenge.cookie_domain): a clearance earned on one of them is
// valid on the others, if it was earned at a difficulty at least theirs.
// It differs from ZoneScope(domain), so a zone that did not opt in to the
// shared domain does not accept its cookies.
func DomainScope(domain string) Scope {
	return newScope("domain", strings.TrimPrefix(domain, "."))
}

func newScope(kind, name string) Scope {
	name = strings.ToLower(name)
	s := sha256.Sum256([]byte("rampart challenge scope\x00" + kind + "\x00" + name))
	sc := Scope{name: kind + " " + name}
	copy(sc.sum[:], s[:16])
	return sc
}

// String returns the scope's kind and name, "zone www.example.org" or
// "domain example.org"; "" for the zero Scope.
func (s Scope) String() string { return s.name }
