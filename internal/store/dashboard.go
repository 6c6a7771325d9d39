package store

import (
	"context"
	"time"
)

// The dashboard's shared data (issue 15): per-minute traffic rollups of
// every node and the dashboard's sessions, in the control-plane store so
// that every node on one PostgreSQL sees all the traffic and accepts the
// same sessions.

// TrafficLatencyBuckets is the number of latency histogram buckets of a
// TrafficRow (upper bounds 5, 10, 25, 50, 100, 250, 500, 1000, 2500 ms,
// then unbounded).
const TrafficLatencyBuckets = 10

// The spans of traffic rows: a minute, or ten minutes (the same counters
// summed, written by the same flushes, so that a day's series and the
// busiest zones of an hour read a tenth of the rows).
const (
	SpanMinute     = 1
	SpanTenMinutes = 10
)

// TrafficRow is the traffic of one node to one zone in one minute (or ten
// minutes), or, as read back by TrafficSeries and TrafficTotals, a sum of
// such rows.
type TrafficRow struct {
	// Span is SpanMinute (also for 0) or SpanTenMinutes, whose Minute is
	// a multiple of 10.
	Span int
	// Node is the node that counted (empty in sums over nodes).
	Node string
	// Zone is the zone's host; "" is the node's sum over all its zones.
	Zone string
	// Minute is the Unix time in minutes (of the first minute of a sum).
	Minute   int64
	Requests int64
	Bytes    int64
	// Status counts the status classes: [other, 1xx, 2xx, 3xx, 4xx, 5xx].
	Status    [6]int64
	CacheHits int64
	// LatencySum is in microseconds; Latency is the histogram.
	LatencySum  int64
	Latency     [TrafficLatencyBuckets]int64
	RateLimited int64
	Challenged  int64
	WAFBlocked  int64
	Legal       int64
}

// MaxTrafficRows bounds the rows of one PutTraffic call.
const MaxTrafficRows = 100000

// DashboardSession is a signed-in dashboard browser. Only the SHA-256 of
// the session cookie is stored.
type DashboardSession struct {
	// Hash is the hex SHA-256 of the session cookie's value.
	Hash string
	// TokenID is the admin API token the user signed in with.
	TokenID string
	Created time.Time
	// Seen is the last request (updated now and then, not on every one).
	Seen    time.Time
	Expires time.Time
	// Revoked is the sign-out time; zero while the session lives.
	Revoked time.Time
}

// Dashboard is the part of Store the dashboard's shared data needs.
type Dashboard interface {
	// PutTraffic inserts or replaces rows by (span, node, zone, minute):
	// a node writes the running totals of its minutes, again as they
	// grow. At most MaxTrafficRows rows; a row without node, with a
	// negative count, an unknown span or a ten-minute row whose minute is
	// not a multiple of 10 is ErrInvalid and nothing is written.
	PutTraffic(ctx context.Context, rows []TrafficRow) error
	// TrafficSeries sums zone's rows of span (zone "" for the all-zones
	// rows) over the nodes, for the rows whose minute is in from..to
	// inclusive, in groups of step minutes starting at from. It returns
	// the groups that have rows, oldest first; Minute is the group's
	// first minute.
	TrafficSeries(ctx context.Context, zone string, span int, from, to int64, step int) ([]TrafficRow, error)
	// TrafficTotals sums each zone's rows of span (not the all-zones
	// rows) over the nodes and the rows whose minute is in from..to
	// inclusive, busiest first (by requests, then zone), at most limit
	// zones. Only the Zone, Requests, Bytes, Status[5], CacheHits and the
	// mitigated counts are filled.
	TrafficTotals(ctx context.Context, span int, from, to int64, limit int) ([]TrafficRow, error)
	// PruneTraffic deletes the rows (of both spans) of minutes before
	// before and returns how many.
	PruneTraffic(ctx context.Context, before int64) (int64, error)

	// CreateSession stores a new session; a hash already stored is
	// ErrConflict.
	CreateSession(ctx context.Context, s DashboardSession) error
	// GetSession returns the session of hash (revoked or expired ones
	// too: the caller checks), or ErrNotFound.
	GetSession(ctx context.Context, hash string) (DashboardSession, error)
	// TouchSession sets the session's Seen time.
	TouchSession(ctx context.Context, hash string, seen time.Time) error
	// RevokeSession sets Revoked to at if it is not set yet; an unknown
	// hash is ErrNotFound.
	RevokeSession(ctx context.Context, hash string, at time.Time) error
	// PruneSessions deletes the sessions that expired before before and
	// returns how many.
	PruneSessions(ctx context.Context, before time.Time) (int64, error)

	// SecurityEvents keeps the nodes' sampled security events.
	SecurityEvents
}

// SecurityEvent is one sampled security event (a request the edge
// blocked or challenged) as a node wrote it to the shared store, so that
// the dashboard of every node on one PostgreSQL shows every node's
// events (issue 15).
type SecurityEvent struct {
	// ID orders events written in the same microsecond; set by the store.
	ID int64
	// Node is the node that sampled the event. Required.
	Node string
	// Time is stored to the microsecond.
	Time time.Time
	Zone string
	// Action is rate_limited, challenged, waf_blocked or legal_451.
	// Required.
	Action    string
	RuleID    string
	ClientIP  string
	Country   string
	ASN       uint32
	Method    string
	Path      string
	UserAgent string
	Status    int
	RequestID string
}

// The size limits of a SecurityEvent's text fields, in bytes.
// PutSecurityEvents cuts a longer Path or UserAgent to its limit (at a
// UTF-8 boundary); any other field over its limit is ErrInvalid.
// ClipSecurityEvent cuts every field.
const (
	MaxEventNode      = 255
	MaxEventZone      = 255
	MaxEventAction    = 32
	MaxEventRuleID    = 128
	MaxEventClientIP  = 64
	MaxEventCountry   = 2
	MaxEventMethod    = 32
	MaxEventPath      = 1024
	MaxEventUserAgent = 512
	MaxEventRequestID = 128
)

// MaxSecurityEvents bounds the events of one PutSecurityEvents call and
// the Limit of a SecurityEvents read.
const MaxSecurityEvents = 5000

// ClipSecurityEvent cuts every text field of e to its limit (at a UTF-8
// boundary), so that PutSecurityEvents takes it whatever the request
// carried.
func ClipSecurityEvent(e *SecurityEvent) {
	for _, f := range []struct {
		s   *string
		max int
	}{{&e.Node, MaxEventNode}, {&e.Zone, MaxEventZone}, {&e.Action, MaxEventAction}, {&e.RuleID, MaxEventRuleID},
		{&e.ClientIP, MaxEventClientIP}, {&e.Country, MaxEventCountry}, {&e.Method, MaxEventMethod}, {&e.Path, MaxEventPath},
		{&e.UserAgent, MaxEventUserAgent}, {&e.RequestID, MaxEventRequestID}} {
		*f.s = ClipUTF8(*f.s, f.max)
	}
}

// ClipUTF8 returns s cut to at most max bytes, not inside a UTF-8
// sequence.
func ClipUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && i < len(s) && s[i]&0xC0 == 0x80 { // a continuation byte
		i--
	}
	return s[:i]
}

// SecurityEventFilter selects stored security events; empty fields match
// everything.
type SecurityEventFilter struct {
	Zone     string
	Action   string
	ClientIP string
	// Country matches the stored two-letter code exactly (upper case).
	Country string
	ASN     uint32
	RuleID  string
	// Path matches the events whose path starts with it.
	Path string
	// Limit is at most MaxSecurityEvents; 0 means 100.
	Limit int
}

// SecurityEvents is the part of Store that keeps the sampled security
// events of every node (dashboard.go).
type SecurityEvents interface {
	// PutSecurityEvents appends events (at most MaxSecurityEvents). An
	// event without node or action, with a field over its limit (but
	// Path and UserAgent, which are cut) or a status outside 0..999 is
	// ErrInvalid and nothing is written.
	PutSecurityEvents(ctx context.Context, evs []SecurityEvent) error
	// SecurityEvents returns the events that pass f, newest first (by
	// time, then ID).
	SecurityEvents(ctx context.Context, f SecurityEventFilter) ([]SecurityEvent, error)
	// PruneSecurityEvents deletes the events before before and, of each
	// zone, all but its keepPerZone newest (keepPerZone ≤ 0 keeps all),
	// and returns how many it deleted.
	PruneSecurityEvents(ctx context.Context, before time.Time, keepPerZone int) (int64, error)
}
