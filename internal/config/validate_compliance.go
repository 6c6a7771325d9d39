package config

import (
	"net/url"
	"strings"
)

// Compliance desk settings (on_hit, blocked_by_url).
const (
	// OnHitReview opens a case for a re-screening hit and leaves the zone
	// serving until a compliance user decides (the default).
	OnHitReview = "review"
	// OnHitSuspend suspends a zone hit by a re-screening at once.
	OnHitSuspend = "suspend"
)

// complianceDesk validates and defaults compliance.on_hit and
// compliance.blocked_by_url.
func (v *validator) complianceDesk(c *Compliance) {
	if c.OnHit == "" {
		c.OnHit = OnHitReview
	}
	v.oneOf("compliance.on_hit", c.OnHit, OnHitReview, OnHitSuspend)
	if c.BlockedByURL != "" {
		u, err := url.Parse(c.BlockedByURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.errorf("compliance.blocked_by_url", "%q is not an http(s) URL", c.BlockedByURL)
			return
		}
		c.BlockedByURL = strings.TrimRight(c.BlockedByURL, "/")
	}
}
