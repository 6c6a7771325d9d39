// Package access is the edge's access phase for one zone: allow and deny
// rules by IP address, CIDR, country and autonomous system, and the
// node-level embargo on regions (compliance.embargoed_regions).
//
// In order, for each request:
//
//  1. embargo: a client whose country (from the GeoIP database) is
//     embargoed gets 451 Unavailable For Legal Reasons (RFC 7725) with a
//     Link rel="blocked-by" header and a short page naming the reason
//     category ("embargo");
//  2. deny: a client matching any deny rule gets 403;
//  3. allow-list mode: when allow rules exist, a client matching none of
//     them gets 403.
//
// Deny wins over allow. Every refusal names the request id in its body and
// sets reqctx.Info.Block ("embargo", "access-deny", "access-allowlist") so
// the access log and metrics record why. Without a GeoIP database, country
// and ASN rules match nothing, and an embargo cannot be enforced; the app
// logs a warning in that case.
//
// Matching is built for the hot path and does not allocate: address rules
// are hash sets of masked addresses, one per prefix length in use (at most
// 33 probes for IPv4, 129 for IPv6, in practice a handful); countries are
// a 676-entry bitmap; ASNs a hash set.
package access

import (
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/geoip"
	"github.com/rampart-edge/rampart/internal/reqctx"
)

// Block reasons, as set in reqctx.Info.Block and used as metric labels.
const (
	ReasonEmbargo   = "embargo"
	ReasonDeny      = "access-deny"
	ReasonAllowList = "access-allowlist"
)

// Set is a compiled list of access rules.
type Set struct {
	v4, v6    prefixSet
	countries [26 * 26]bool
	nCountry  int
	asns      map[uint32]struct{}
}

// prefixSet holds prefixes of one address family as one hash set per
// prefix length.
type prefixSet struct {
	bits []int                           // prefix lengths in use, longest first
	sets map[int]map[netip.Addr]struct{} // by length: masked addresses
}

func (s *prefixSet) add(p netip.Prefix) {
	if s.sets == nil {
		s.sets = map[int]map[netip.Addr]struct{}{}
	}
	m, ok := s.sets[p.Bits()]
	if !ok {
		m = map[netip.Addr]struct{}{}
		s.sets[p.Bits()] = m
		s.bits = append(s.bits, p.Bits())
		slices.SortFunc(s.bits, func(a, b int) int { return b - a })
	}
	m[p.Masked().Addr()] = struct{}{}
}

func (s *prefixSet) contains(a netip.Addr) bool {
	for _, b := range s.bits {
		p, err := a.Prefix(b)
		if err != nil {
			continue
		}
		if _, ok := s.sets[b][p.Addr()]; ok {
			return true
		}
	}
	return false
}

// NewSet compiles parsed rules.
func NewSet(rules []config.AccessRule) *Set {
	s := &Set{}
	for _, r := range rules {
		switch {
		case r.Country != "":
			if i, ok := countryIndex(r.Country); ok {
				if !s.countries[i] {
					s.nCountry++
				}
				s.countries[i] = true
			}
		case r.ASN != 0:
			if s.asns == nil {
				s.asns = map[uint32]struct{}{}
			}
			s.asns[r.ASN] = struct{}{}
		case r.Prefix.IsValid():
			if r.Prefix.Addr().Is4() {
				s.v4.add(r.Prefix)
			} else {
				s.v6.add(r.Prefix)
			}
		}
	}
	return s
}

// Len reports how many rules the set holds (duplicates once).
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	n := s.nCountry + len(s.asns)
	for _, m := range s.v4.sets {
		n += len(m)
	}
	for _, m := range s.v6.sets {
		n += len(m)
	}
	return n
}

// needsGeo reports whether the set has country or ASN rules.
func (s *Set) needsGeo() bool { return s != nil && (s.nCountry > 0 || len(s.asns) > 0) }

// Match reports whether a client at ip, with GeoIP info g, matches a rule.
func (s *Set) Match(ip netip.Addr, g geoip.Info) bool {
	if s == nil {
		return false
	}
	ip = ip.Unmap()
	if ip.Is4() {
		if s.v4.contains(ip) {
			return true
		}
	} else if ip.IsValid() && s.v6.contains(ip) {
		return true
	}
	if g.Country != "" && s.nCountry > 0 {
		if i, ok := countryIndex(g.Country); ok && s.countries[i] {
			return true
		}
	}
	if g.ASN != 0 && s.asns != nil {
		if _, ok := s.asns[g.ASN]; ok {
			return true
		}
	}
	return false
}

func countryIndex(c string) (int, bool) {
	if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
		return 0, false
	}
	return int(c[0]-'A')*26 + int(c[1]-'A'), true
}

// Options configure a Phase.
type Options struct {
	// Zone is the zone's host, for logs and the block callback.
	Zone string
	// Allow and Deny are the zone's rules (config.Zone.Access).
	Allow, Deny []config.AccessRule
	// Embargoed are ISO country codes whose clients get 451
	// (compliance.embargoed_regions).
	Embargoed []string
	// BlockedBy is the URL of the Link rel="blocked-by" header of 451
	// answers: the operator's compliance contact.
	BlockedBy string
	// GeoIP finds a client's country and ASN; nil knows nothing.
	GeoIP *geoip.DB
	// OnBlock, when set, is called with the reason of every refusal
	// (metrics).
	OnBlock func(reason string)
	// Logger receives one line per refusal at debug level (the access
	// log's "block" field records every refusal too); nil: none.
	Logger *slog.Logger
}

// Phase is the access phase of one zone.
type Phase struct {
	zone      string
	allow     *Set
	deny      *Set
	embargo   *Set
	blockedBy string
	geo       *geoip.DB
	needGeo   bool
	onBlock   func(string)
	log       *slog.Logger
}

// New compiles the phase. It returns nil (no phase needed) when there are
// no rules and no embargo.
func New(o Options) *Phase {
	if len(o.Allow) == 0 && len(o.Deny) == 0 && len(o.Embargoed) == 0 {
		return nil
	}
	p := &Phase{zone: o.Zone, blockedBy: o.BlockedBy, geo: o.GeoIP, onBlock: o.OnBlock, log: o.Logger}
	p.deny = NewSet(o.Deny)
	if len(o.Allow) > 0 {
		p.allow = NewSet(o.Allow)
	}
	if len(o.Embargoed) > 0 {
		rules := make([]config.AccessRule, 0, len(o.Embargoed))
		for _, c := range o.Embargoed {
			rules = append(rules, config.AccessRule{Country: strings.ToUpper(c)})
		}
		p.embargo = NewSet(rules)
	}
	p.needGeo = p.geo != nil && (p.deny.needsGeo() || p.allow.needsGeo() || p.embargo != nil)
	return p
}

// Decide returns the block reason for a client ("" to let it through).
func (p *Phase) Decide(ip netip.Addr) string {
	var g geoip.Info
	if p.needGeo {
		g = p.geo.Lookup(ip)
	}
	if p.embargo != nil && g.Country != "" && p.embargo.Match(netip.Addr{}, g) {
		return ReasonEmbargo
	}
	if p.deny.Match(ip, g) {
		return ReasonDeny
	}
	if p.allow != nil && !p.allow.Match(ip, g) {
		return ReasonAllowList
	}
	return ""
}

// Serve implements edge.Phase.
func (p *Phase) Serve(w http.ResponseWriter, r *http.Request) edge.Decision {
	info := reqctx.From(r.Context())
	if info == nil {
		return edge.Continue
	}
	reason := p.Decide(info.ClientIP)
	if reason == "" {
		return edge.Continue
	}
	info.Block = reason
	if p.onBlock != nil {
		p.onBlock(reason)
	}
	if p.log != nil {
		p.log.Debug("request blocked", "zone", p.zone, "reason", reason, "client", info.ClientIP, "request_id", info.ID, "path", r.URL.Path)
	}
	if reason == ReasonEmbargo {
		writeEmbargo(w, p.blockedBy, info.ID)
	} else {
		writeForbidden(w, info.ID)
	}
	return edge.Handled
}

func noStore(h http.Header) {
	h["Cache-Control"] = []string{"no-store"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
}

func writeForbidden(w http.ResponseWriter, id string) {
	h := w.Header()
	noStore(h)
	h["Content-Type"] = []string{"text/plain; charset=utf-8"}
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, "403 Forbidden: access to this site is denied from your address\nrequest id: %s\n", id)
}

var embargoPage = template.Must(template.New("451").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Unavailable for legal reasons</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em;color:#222}</style>
</head><body><h1>Unavailable for legal reasons</h1>
<p>This site is not available in your region.</p>
<p>Reason category: <strong>embargo</strong> (sanctions: embargoed region)</p>
<p>Request id: <code>{{.}}</code></p>
</body></html>
`))

func writeEmbargo(w http.ResponseWriter, blockedBy, id string) {
	h := w.Header()
	noStore(h)
	h["Content-Type"] = []string{"text/html; charset=utf-8"}
	if blockedBy != "" {
		h["Link"] = []string{"<" + blockedBy + `>; rel="blocked-by"`}
	}
	w.WriteHeader(http.StatusUnavailableForLegalReasons)
	_ = embargoPage.Execute(w, id)
}
