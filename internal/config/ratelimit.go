package config

import (
	"fmt"
	"strings"
	"time"
)

// RateLimitRule is one named rate limit of a zone, besides the zone-wide
// per-IP limit of rate_limit.requests/per/burst:
//
//	rate_limit:
//	  requests: 50          # every client IP: 50 r/s, burst 100
//	  per: 1s
//	  burst: 100
//	  rules:
//	    - name: api-key
//	      path: /api/       # only requests under /api/ (default: all)
//	      key: header:X-Api-Key+ip
//	      limits:
//	        - {requests: 10, per: 1s, burst: 20}
//	        - {requests: 300, per: 1m}
//
// A request must pass every limit of every rule whose path it is under;
// otherwise it gets 429 with Retry-After.
type RateLimitRule struct {
	// Name labels the rule in logs and metrics (ratelimit:NAME); unique
	// in the zone, and "zone" is taken by the zone-wide limit.
	Name string `yaml:"name"`
	// Path is a path prefix the rule applies to ("" or "/": every path).
	Path string `yaml:"path"`
	// Key is what the rule counts by: "ip" (the default; IPv6 by /64),
	// "path" (the rule's path prefix: every client shares one bucket),
	// "header:NAME" (a header's value; a missing header is one shared
	// bucket), or several joined with "+" (at most 4).
	Key string `yaml:"key"`
	// Limits are checked together, at most 8 (per second and per minute,
	// say).
	Limits []RateLimitRate `yaml:"limits"`
}

// RateLimitRate is one rate of a rule: Requests per Per (default 1s), with
// Burst extra requests allowed at once.
type RateLimitRate struct {
	Requests int           `yaml:"requests"`
	Per      time.Duration `yaml:"per"`
	Burst    int           `yaml:"burst"`
}

// ParseRateLimitKey splits a rule key into its parts ("ip", "path",
// "header:NAME") and checks them.
func ParseRateLimitKey(spec string) ([]string, error) {
	if strings.TrimSpace(spec) == "" {
		return []string{"ip"}, nil
	}
	var parts []string
	for _, p := range strings.Split(spec, "+") {
		p = strings.TrimSpace(p)
		switch {
		case p == "ip" || p == "path":
		case strings.HasPrefix(p, "header:"):
			name := strings.TrimSpace(p[len("header:"):])
			if name == "" || strings.ContainsFunc(name, func(r rune) bool {
				return r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r)
			}) {
				return nil, fmt.Errorf("key %q: bad header name %q", spec, name)
			}
			p = "header:" + name
		default:
			return nil, fmt.Errorf("key %q: unknown part %q (want ip, path or header:NAME joined with +)", spec, p)
		}
		parts = append(parts, p)
	}
	if len(parts) > 4 {
		return nil, fmt.Errorf("key %q: more than 4 parts", spec)
	}
	return parts, nil
}

// rateLimitRules validates a zone's rate_limit.rules and defaults each
// rate's Per to 1s.
func (v *validator) rateLimitRules(prefix string, r *RateLimit) {
	seen := map[string]bool{"zone": true}
	for i := range r.Rules {
		rule := &r.Rules[i]
		f := join(prefix, fmt.Sprintf("rate_limit.rules[%d]", i))
		switch {
		case rule.Name == "":
			v.errorf(f+".name", "required")
		case seen[rule.Name]:
			v.errorf(f+".name", "%q is used twice in this zone (\"zone\" is the zone-wide limit)", rule.Name)
		}
		seen[rule.Name] = true
		if rule.Path != "" && !strings.HasPrefix(rule.Path, "/") {
			v.errorf(f+".path", "must start with \"/\", got %q", rule.Path)
		}
		if _, err := ParseRateLimitKey(rule.Key); err != nil {
			v.errorf(f+".key", "%v", err)
		}
		if len(rule.Limits) == 0 || len(rule.Limits) > 8 {
			v.errorf(f+".limits", "want 1 to 8 limits, got %d", len(rule.Limits))
		}
		for j := range rule.Limits {
			l := &rule.Limits[j]
			lf := fmt.Sprintf("%s.limits[%d]", f, j)
			if l.Per == 0 {
				l.Per = time.Second
			}
			if l.Requests <= 0 {
				v.errorf(lf+".requests", "must be positive, got %d", l.Requests)
			}
			if l.Per < time.Millisecond {
				v.errorf(lf+".per", "must be at least 1ms, got %s", l.Per)
			}
			if l.Burst < 0 {
				v.errorf(lf+".burst", "must not be negative, got %d", l.Burst)
			}
		}
	}
}
