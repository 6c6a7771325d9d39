package config

import (
	"fmt"
	"net/netip"
	"strings"
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
