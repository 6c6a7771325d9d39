package rollup

import (
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/rampart-edge/rampart/internal/geoip"
)

// Event is one sampled security event: a request the edge blocked or
// challenged.
type Event struct {
	// Node is the node that sampled the event: set on the events read
	// from the shared store (DB), empty on a node's own (Local).
	Node     string    `json:"node,omitempty"`
	Time     time.Time `json:"time"`
	Zone     string    `json:"zone"`
	Action   string    `json:"action"` // rate_limited | challenged | waf_blocked | legal_451
	RuleID   string    `json:"rule_id,omitempty"`
	ClientIP string    `json:"client_ip"`
	// Addr is ClientIP as the edge read it, so that the GeoIP lookup
	// does not parse the text back; when it is not valid, ClientIP is
	// parsed.
	Addr      netip.Addr `json:"-"`
	Country   string     `json:"country,omitempty"`
	ASN       uint32     `json:"asn,omitempty"`
	Method    string     `json:"method"`
	Path      string     `json:"path"`
	UserAgent string     `json:"user_agent,omitempty"`
	Status    int        `json:"status"`
	RequestID string     `json:"request_id,omitempty"`
}

// ActionOf names an outcome as Event.Action does; "" for Served.
func ActionOf(o Outcome) string {
	switch o {
	case RateLimited:
		return "rate_limited"
	case Challenged:
		return "challenged"
	case WAFBlocked:
		return "waf_blocked"
	case Legal:
		return "legal_451"
	}
	return ""
}

// events is a ring of the latest security events.
type events struct {
	mu   sync.Mutex
	ring []Event
	next int
	full bool
	// seq counts the events ever recorded: the newest is number seq.
	seq uint64
}

func newEvents(n int) *events {
	if n <= 0 {
		n = 1000
	}
	return &events{ring: make([]Event, n)}
}

// Geo maps an address to its country and ASN; *geoip.DB implements it.
type Geo interface {
	Lookup(ip netip.Addr) geoip.Info
}

type geoHolder struct{ g Geo }

// SetGeo sets the GeoIP databases that give the sampled events their
// country and ASN (nil for none); safe to call while recording, as
// databases are opened or replaced at a reload.
func (s *Store) SetGeo(g Geo) {
	if g == nil {
		s.geo.Store(nil)
		return
	}
	s.geo.Store(&geoHolder{g})
}

// RecordEvent keeps ev in the sample (the latest events, oldest
// overwritten), with the country and ASN of its client address when
// SetGeo gave databases and ev has neither. It copies the struct and,
// without databases, does not allocate.
func (s *Store) RecordEvent(ev Event) {
	if h := s.geo.Load(); h != nil && ev.Country == "" && ev.ASN == 0 {
		ip := ev.Addr
		if !ip.IsValid() {
			ip, _ = netip.ParseAddr(ev.ClientIP)
		}
		if ip.IsValid() {
			info := h.g.Lookup(ip)
			ev.Country, ev.ASN = info.Country, info.ASN
		}
	}
	e := s.events
	e.mu.Lock()
	e.ring[e.next] = ev
	e.next++
	if e.next == len(e.ring) {
		e.next, e.full = 0, true
	}
	e.seq++
	e.mu.Unlock()
}

// EventsSince returns the events recorded after the one numbered after
// (0: from the first) that the sample still holds, oldest first, and the
// number of the newest event. At most the sample's size: events
// overwritten since are gone. It holds the sample's lock only to copy.
func (s *Store) EventsSince(after uint64) ([]Event, uint64) {
	e := s.events
	e.mu.Lock()
	defer e.mu.Unlock()
	if after >= e.seq {
		return nil, e.seq
	}
	n := e.next
	if e.full {
		n = len(e.ring)
	}
	n = int(min(uint64(n), e.seq-after))
	out := make([]Event, n)
	for i := range n {
		out[i] = e.ring[(e.next-n+i+len(e.ring))%len(e.ring)]
	}
	return out, e.seq
}

// EventFilter selects sampled events; empty fields match everything.
type EventFilter struct {
	Zone     string
	Action   string
	ClientIP string
	Country  string
	ASN      uint32
	RuleID   string
	// Path matches events whose path starts with it.
	Path  string
	Limit int // 0 means 100
}

// Match reports whether ev passes the filter.
func (f EventFilter) Match(ev Event) bool {
	return (f.Zone == "" || ev.Zone == f.Zone) && (f.Action == "" || ev.Action == f.Action) &&
		(f.ClientIP == "" || ev.ClientIP == f.ClientIP) && (f.Country == "" || strings.EqualFold(ev.Country, f.Country)) &&
		(f.ASN == 0 || ev.ASN == f.ASN) && (f.RuleID == "" || ev.RuleID == f.RuleID) && (f.Path == "" || strings.HasPrefix(ev.Path, f.Path))
}

// Events returns the sampled events that pass f, newest first.
func (s *Store) Events(f EventFilter) []Event {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	e := s.events
	e.mu.Lock()
	defer e.mu.Unlock()
	n := e.next
	if e.full {
		n = len(e.ring)
	}
	out := []Event{}
	for i := 1; i <= n && len(out) < f.Limit; i++ {
		ev := e.ring[(e.next-i+len(e.ring))%len(e.ring)]
		if f.Match(ev) {
			out = append(out, ev)
		}
	}
	return out
}
