package config

import (
	"net/url"
	"strings"
	"time"
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
	v.complianceReports(&c.Reports)
}

// Defaults of compliance.reports.
var (
	DefaultReportsPerIP      = RateLimitRate{Requests: 5, Per: time.Minute, Burst: 5}
	DefaultReportsPerNetwork = RateLimitRate{Requests: 20, Per: time.Hour, Burst: 10}
	DefaultReportsTotal      = RateLimitRate{Requests: 200, Per: time.Hour, Burst: 50}
)

// DefaultReportsDedupeWindow is compliance.reports.dedupe_window's default.
const DefaultReportsDedupeWindow = 24 * time.Hour

// complianceReports validates and defaults compliance.reports: a rate
// left out (zero requests) takes its default.
func (v *validator) complianceReports(r *ComplianceReports) {
	for _, f := range []struct {
		name string
		rate *RateLimitRate
		def  RateLimitRate
	}{
		{"per_ip", &r.PerIP, DefaultReportsPerIP},
		{"per_network", &r.PerNetwork, DefaultReportsPerNetwork},
		{"total", &r.Total, DefaultReportsTotal},
	} {
		field := "compliance.reports." + f.name
		switch {
		case *f.rate == RateLimitRate{}:
			*f.rate = f.def
			continue
		case f.rate.Per == 0:
			f.rate.Per = time.Second
		}
		if f.rate.Requests <= 0 {
			v.errorf(field+".requests", "must be positive, got %d", f.rate.Requests)
		}
		if f.rate.Per < time.Millisecond {
			v.errorf(field+".per", "must be at least 1ms, got %s", f.rate.Per)
		}
		if f.rate.Burst < 0 {
			v.errorf(field+".burst", "must not be negative, got %d", f.rate.Burst)
		}
	}
	switch {
	case r.DedupeWindow == 0:
		r.DedupeWindow = DefaultReportsDedupeWindow
	case r.DedupeWindow < 0 || r.DedupeWindow > 30*24*time.Hour:
		v.errorf("compliance.reports.dedupe_window", "must be positive and at most 720h, got %s", r.DedupeWindow)
	}
}
