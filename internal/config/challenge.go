package config

import (
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// Challenge tunes a zone's "under attack" challenge (under_attack on or
// auto). The zero value challenges every client without clearance at the
// default difficulty (18 leading zero bits: well under a second in a
// browser).
//
// Every exemption is a hole in the protection: a client that matches one
// is never challenged, however the zone is attacked.
type Challenge struct {
	// Difficulty is the leading zero bits a solution needs (0: the
	// default, 18; at most 26). Each extra bit doubles a client's work.
	Difficulty int `yaml:"difficulty"`
	// ExemptPaths are path prefixes never challenged (API paths whose
	// clients run no JavaScript: "/api/").
	ExemptPaths []string `yaml:"exempt_paths"`
	// ExemptCIDRs are client networks never challenged: verified
	// crawlers by their published address ranges, monitoring, partners.
	ExemptCIDRs []string `yaml:"exempt_cidrs"`
	// CookieDomain shares clearances between zones: the clearance cookie
	// is set with this Domain (so browsers send it to every name under
	// it) and bound to it instead of to the zone, and each zone with the
	// same cookie_domain accepts it if it was earned at the zone's
	// difficulty or above. Empty (the default): a host-only cookie bound
	// to this zone alone. The zone's host and aliases must be the domain
	// or names under it, and it must not be a public suffix.
	CookieDomain string `yaml:"cookie_domain"`
}

// MaxChallengeDifficulty bounds challenge.difficulty.
const MaxChallengeDifficulty = 26

// ExemptPrefixes returns ExemptCIDRs parsed (entries that do not parse are
// skipped; Validate reports them).
func (c Challenge) ExemptPrefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(c.ExemptCIDRs))
	for _, s := range c.ExemptCIDRs {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// challenge validates a zone's challenge settings.
func (v *validator) challenge(prefix string, c *Challenge) {
	f := join(prefix, "challenge")
	if c.Difficulty < 0 || c.Difficulty > MaxChallengeDifficulty {
		v.errorf(f+".difficulty", "must be from 0 (default) to %d, got %d", MaxChallengeDifficulty, c.Difficulty)
	}
	for i, p := range c.ExemptPaths {
		if !strings.HasPrefix(p, "/") {
			v.errorf(fmt.Sprintf("%s.exempt_paths[%d]", f, i), "must start with \"/\", got %q", p)
		}
	}
	for i, s := range c.ExemptCIDRs {
		if _, err := parsePrefix(s); err != nil {
			v.errorf(fmt.Sprintf("%s.exempt_cidrs[%d]", f, i), "%v", err)
		}
	}
}

// challengeCookieDomain validates and canonicalises a zone's
// challenge.cookie_domain against its host and aliases (already
// canonical).
func (v *validator) challengeCookieDomain(prefix string, z *Zone) {
	c := &z.Challenge
	if c.CookieDomain == "" {
		return
	}
	f := join(prefix, "challenge.cookie_domain")
	d, err := CanonicalHost(strings.TrimPrefix(c.CookieDomain, "."))
	if err != nil {
		v.errorf(f, "%v", err)
		return
	}
	if strings.HasPrefix(d, "*.") {
		v.errorf(f, "%q: a cookie domain is a domain name, not a wildcard", c.CookieDomain)
		return
	}
	if _, err := netip.ParseAddr(d); err == nil {
		v.errorf(f, "%q: a cookie domain is a domain name, not an IP address", c.CookieDomain)
		return
	}
	if ps, _ := publicsuffix.PublicSuffix(d); ps == d {
		v.errorf(f, "%q is a public suffix: browsers refuse cookies for it", c.CookieDomain)
		return
	}
	for _, h := range append([]string{z.Host}, z.Aliases...) {
		base := strings.TrimPrefix(h, "*.")
		if base != d && !strings.HasSuffix(base, "."+d) {
			v.errorf(f, "%q does not cover the zone's name %q: browsers would refuse the cookie there", c.CookieDomain, h)
			return
		}
	}
	c.CookieDomain = d
}
