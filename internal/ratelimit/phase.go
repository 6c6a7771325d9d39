package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/reqctx"
	"github.com/rampart-edge/rampart/internal/reqpath"
)

// KeyPart is one component of a rule's key.
type KeyPart struct {
	// Kind is "ip" (the client address, IPv6 by /64), "header" (the value
	// of Header) or "path" (the rule's PathPrefix, so all paths under it
	// share one bucket).
	Kind   string
	Header string
}

// ParseKey parses a key spec: parts joined by "+", each "ip", "path" or
// "header:NAME", e.g. "ip", "header:X-Api-Key", "ip+path". Names are
// canonicalised as net/http does.
func ParseKey(spec string) ([]KeyPart, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("parsing rate limit key %q: empty", spec)
	}
	var parts []KeyPart
	for _, p := range strings.Split(spec, "+") {
		p = strings.TrimSpace(p)
		switch {
		case p == "ip" || p == "path":
			parts = append(parts, KeyPart{Kind: p})
		case strings.HasPrefix(p, "header:"):
			name := strings.TrimSpace(p[len("header:"):])
			if name == "" || strings.ContainsFunc(name, func(r rune) bool {
				return r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r)
			}) {
				return nil, fmt.Errorf("parsing rate limit key %q: bad header name %q", spec, name)
			}
			parts = append(parts, KeyPart{Kind: "header", Header: http.CanonicalHeaderKey(name)})
		default:
			return nil, fmt.Errorf("parsing rate limit key %q: unknown part %q (want ip, path or header:NAME)", spec, p)
		}
	}
	if len(parts) > 4 {
		return nil, fmt.Errorf("parsing rate limit key %q: more than 4 parts", spec)
	}
	return parts, nil
}

// Rule is one rate limit of a zone: the requests under PathPrefix, keyed
// by Key, must pass every one of Limits (a per-second and a per-minute
// limit, say).
type Rule struct {
	// Name labels the rule in keys, logs and metrics; it must be unique
	// within the zone.
	Name string
	// PathPrefix limits the rule to paths starting with it ("" for all).
	PathPrefix string
	// Key is what the rule counts by (default: the client IP).
	Key []KeyPart
	// Limits are checked together; at most 8.
	Limits []Limit
}

// RulesFromConfig returns the rule of a zone's rate_limit setting: per
// client IP, Requests per Per (default 1s) with Burst. A zero Requests
// means no rule.
func RulesFromConfig(rl config.RateLimit) []Rule {
	if rl.Requests <= 0 {
		return nil
	}
	per := rl.Per
	if per <= 0 {
		per = time.Second
	}
	return []Rule{{Name: "zone", Key: []KeyPart{{Kind: "ip"}}, Limits: []Limit{{Requests: rl.Requests, Per: per, Burst: rl.Burst}}}}
}

// Phase is the edge's rate-limit phase for one zone: a request over any
// matching rule gets 429 with Retry-After and reqctx.Info.Block set to
// "ratelimit:RULE".
type Phase struct {
	zone    string
	rules   []Rule
	blocks  []string // Block value per rule
	limiter Limiter
	onBlock func(rule string)
	logger  *slog.Logger
}

var _ edge.Phase = (*Phase)(nil)

// NewPhase returns the rate-limit phase of zone. onBlock (may be nil) is
// called with the rule name of every refused request, for the metrics.
// logger (nil: slog.Default) receives limiter errors.
func NewPhase(zone string, limiter Limiter, rules []Rule, onBlock func(rule string), logger *slog.Logger) (*Phase, error) {
	if logger == nil {
		logger = slog.Default()
	}
	p := &Phase{zone: zone, limiter: limiter, onBlock: onBlock, logger: logger}
	seen := map[string]bool{}
	for i, r := range rules {
		if r.Name == "" || seen[r.Name] {
			return nil, fmt.Errorf("zone %s: rate limit rule %d: name %q empty or repeated", zone, i, r.Name)
		}
		seen[r.Name] = true
		if len(r.Limits) == 0 || len(r.Limits) > maxLimits {
			return nil, fmt.Errorf("zone %s: rate limit rule %s: %d limits, want 1 to %d", zone, r.Name, len(r.Limits), maxLimits)
		}
		for _, l := range r.Limits {
			if err := validateRedis(l); err != nil {
				return nil, fmt.Errorf("zone %s: rate limit rule %s: %w", zone, r.Name, err)
			}
		}
		if len(r.Key) == 0 {
			r.Key = []KeyPart{{Kind: "ip"}}
		}
		p.rules = append(p.rules, r)
		p.blocks = append(p.blocks, "ratelimit:"+r.Name)
	}
	return p, nil
}

// key builds the request's key under rule r: the zone and rule names
// first, so rules and zones never share buckets.
func (r *Rule) key(zone string, req *http.Request, client netip.Addr) string {
	var parts [6]string
	parts[0], parts[1] = zone, r.Name
	n := 2
	for _, kp := range r.Key {
		switch kp.Kind {
		case "ip":
			parts[n] = KeyIP(client)
		case "header":
			parts[n] = req.Header.Get(kp.Header)
		case "path":
			parts[n] = r.PathPrefix
		}
		n++
	}
	return Key(parts[:n]...)
}

// Serve checks the request against the zone's rules, in order. Each rule
// counts on its own: a request refused by a later rule has still been
// counted by the earlier ones (the limits within one rule are atomic). A limiter error
// (Redis down without a Fallback) is logged and the request passes: a
// Fallback limiter never returns one.
func (p *Phase) Serve(w http.ResponseWriter, r *http.Request) edge.Decision {
	info := reqctx.From(r.Context())
	var client netip.Addr
	id := ""
	if info != nil {
		client, id = info.ClientIP, info.ID
	} else if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		client = ap.Addr()
	}
	for i := range p.rules {
		rule := &p.rules[i]
		// As the origin resolves the path, with or without path
		// parameters (a limit applies when either matches).
		if !reqpath.EitherHasPrefix(r.URL.Path, rule.PathPrefix) {
			continue
		}
		res, err := p.limiter.AllowAll(context.WithoutCancel(r.Context()), rule.key(p.zone, r, client), rule.Limits)
		if err != nil {
			p.logger.Error("rate limiter failed; request passed unlimited", "zone", p.zone, "rule", rule.Name, "error", err)
			continue
		}
		if !res.Allowed {
			if info != nil {
				info.Block = p.blocks[i]
			}
			if p.onBlock != nil {
				p.onBlock(rule.Name)
			}
			WriteTooMany(w, res, id)
			return edge.Handled
		}
	}
	return edge.Continue
}
