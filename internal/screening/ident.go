package screening

import (
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"

	"github.com/rampart-edge/rampart/internal/entity"
)

// identKey is a normalised identifier.
type identKey struct {
	t entity.IDType
	v string
}

// addIdentifiers indexes the entity's website, e-mail and digital currency
// identifiers.
func (ix *builder) addIdentifiers(ei int32, e *entity.Entity) {
	for _, id := range e.Identifiers {
		switch id.Type {
		case entity.Website, entity.Email, entity.DigitalCurrency:
		default:
			continue
		}
		v, ok := NormalizeIdentifier(id.Type, id.Value)
		if !ok {
			continue
		}
		k := identKey{id.Type, v}
		ix.idents[k] = appendUniqueID(ix.idents[k], ei)
	}
}

// NormalizeIdentifier returns the form in which an identifier is compared:
//
//   - website: the host name in lower-case ASCII (IDNA), without scheme,
//     port, path, trailing dot or a leading "www." ("https://WWW.Bücher.de/x"
//     becomes "xn--bcher-kva.de");
//   - email: the whole address in lower case, with an IDNA domain;
//   - digital currency address: trimmed; hexadecimal addresses ("0x...")
//     are lower-cased, others (Base58, Bech32 in its canonical form) kept,
//     since Base58 is case-sensitive.
//
// ok is false when nothing usable remains.
func NormalizeIdentifier(t entity.IDType, value string) (string, bool) {
	v := strings.TrimSpace(value)
	if v == "" {
		return "", false
	}
	switch t {
	case entity.Website:
		h, ok := hostOf(v)
		if !ok {
			return "", false
		}
		return strings.TrimPrefix(h, "www."), true
	case entity.Email:
		local, domain, ok := strings.Cut(v, "@")
		if !ok || local == "" {
			return "", false
		}
		h, ok := hostOf(domain)
		if !ok {
			return "", false
		}
		return strings.ToLower(local) + "@" + h, true
	case entity.DigitalCurrency:
		if strings.HasPrefix(v, "0x") || strings.HasPrefix(v, "0X") {
			return strings.ToLower(v), true
		}
		if l := strings.ToLower(v); strings.HasPrefix(l, "bc1") || strings.HasPrefix(l, "ltc1") || strings.HasPrefix(l, "tb1") {
			return l, true // Bech32 is case-insensitive
		}
		return v, true
	}
	return strings.ToLower(v), true
}

// hostOf extracts a lower-case ASCII host name from a URL or bare host.
func hostOf(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "://") {
		v = "http://" + v
	}
	u, err := url.Parse(v)
	if err != nil {
		return "", false
	}
	h := strings.TrimSuffix(u.Hostname(), ".")
	if h == "" {
		return "", false
	}
	a, err := idna.Lookup.ToASCII(h)
	if err != nil {
		a = strings.ToLower(h)
	}
	return strings.ToLower(a), true
}

// MatchIdentifier returns the entities listed with identifier value of type
// t, matched exactly after normalisation (see NormalizeIdentifier). For a
// website, the host and each parent domain down to its registrable domain
// (eTLD+1) are tried, so "www.shop.example.org" matches a listed
// "example.org" or "shop.example.org", but a listed "example.org" never
// matches "org" or "other.org". Matches score 1.
func (ix *Index) MatchIdentifier(t entity.IDType, value string) []Match {
	defer keepAlive(ix)
	v, ok := NormalizeIdentifier(t, value)
	if !ok {
		return nil
	}
	var hits []int32
	var how []string
	try := func(key string, why string) {
		ix.idents.each(hashIdent(t, key), func(ei int32) {
			if !ix.hasIdentifier(ei, t, key) {
				return // another identifier with the same hash
			}
			dup := false
			for _, h := range hits {
				if h == ei {
					dup = true
				}
			}
			if !dup {
				hits = append(hits, ei)
				how = append(how, why)
			}
		})
	}
	if t == entity.Website {
		reg, err := publicsuffix.EffectiveTLDPlusOne(v)
		try(v, fmt.Sprintf("listed %s %q", t, v))
		if err == nil {
			h := v
			for h != reg {
				_, rest, ok := strings.Cut(h, ".")
				if !ok {
					break
				}
				h = rest
				try(h, fmt.Sprintf("%q is a subdomain of listed %s %q", v, t, h))
			}
		}
	} else {
		try(v, fmt.Sprintf("listed %s %q", t, v))
	}
	out := make([]Match, 0, len(hits))
	for k, ei := range hits {
		m := ix.entMatch(ei)
		m.MatchedName, m.Score, m.Explanation = v, 1, "identifier matched exactly: "+how[k]
		out = append(out, m)
	}
	return out
}

// hasIdentifier reports whether entity ei lists an identifier of type t
// that normalises to key (or, for listedAddress, a street line with that
// key): the look-up table is by hash, and a hit is checked.
func (ix *Index) hasIdentifier(ei int32, t entity.IDType, key string) bool {
	e := ix.entity(ei)
	if t == listedAddress {
		for _, a := range e.Addresses {
			if addressKey(a.Street) == key {
				return true
			}
		}
		return false
	}
	for _, id := range e.Identifiers {
		if id.Type != t {
			continue
		}
		if v, ok := NormalizeIdentifier(id.Type, id.Value); ok && v == key {
			return true
		}
	}
	return false
}
