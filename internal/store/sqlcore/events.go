package sqlcore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rampart-edge/rampart/internal/store"
)

// The nodes' sampled security events (issue 15): security_events,
// migration 010.

const eventCols = `node, at, zone, action, rule_id, client_ip, country, asn, method, path, user_agent, status, request_id`

// numEventCols is the number of eventCols.
const numEventCols = 13

// eventChunk is the events per INSERT (13 parameters an event).
const eventChunk = 500

// checkEvent validates e and cuts its path and user agent to their
// limits.
func checkEvent(i int, e *store.SecurityEvent) error {
	e.Path = store.ClipUTF8(e.Path, store.MaxEventPath)
	e.UserAgent = store.ClipUTF8(e.UserAgent, store.MaxEventUserAgent)
	if e.Node == "" || e.Action == "" {
		return fmt.Errorf("event %d: %w: node and action are required", i+1, store.ErrInvalid)
	}
	for _, f := range []struct {
		name string
		v    string
		max  int
	}{{"node", e.Node, store.MaxEventNode}, {"zone", e.Zone, store.MaxEventZone}, {"action", e.Action, store.MaxEventAction},
		{"rule id", e.RuleID, store.MaxEventRuleID}, {"client ip", e.ClientIP, store.MaxEventClientIP}, {"country", e.Country, store.MaxEventCountry},
		{"method", e.Method, store.MaxEventMethod}, {"request id", e.RequestID, store.MaxEventRequestID}} {
		if len(f.v) > f.max {
			return fmt.Errorf("event %d: %w: %s over %d bytes", i+1, store.ErrInvalid, f.name, f.max)
		}
	}
	if e.Status < 0 || e.Status > 999 {
		return fmt.Errorf("event %d: %w: status %d outside 0..999", i+1, store.ErrInvalid, e.Status)
	}
	if e.Time.IsZero() {
		return fmt.Errorf("event %d: %w: no time", i+1, store.ErrInvalid)
	}
	return nil
}

// PutSecurityEvents appends sampled events; see store.SecurityEvents.
func (o *ops) PutSecurityEvents(ctx context.Context, evs []store.SecurityEvent) error {
	if len(evs) > store.MaxSecurityEvents {
		return fmt.Errorf("storing security events: %w: %d events, at most %d", store.ErrInvalid, len(evs), store.MaxSecurityEvents)
	}
	evs = append([]store.SecurityEvent(nil), evs...) // checkEvent cuts fields: not the caller's
	for i := range evs {
		if err := checkEvent(i, &evs[i]); err != nil {
			return fmt.Errorf("storing security events: %w", err)
		}
	}
	if len(evs) == 0 {
		return nil
	}
	return o.atomic(ctx, func(t *ops) error {
		for start := 0; start < len(evs); start += eventChunk {
			chunk := evs[start:min(start+eventChunk, len(evs))]
			var sb strings.Builder
			sb.WriteString(`INSERT INTO security_events (` + eventCols + `) VALUES `)
			args := make([]any, 0, len(chunk)*numEventCols)
			for i, e := range chunk {
				if i > 0 {
					sb.WriteString(", ")
				}
				sb.WriteString(placeholders(numEventCols))
				args = append(args, e.Node, e.Time.UnixMicro(), e.Zone, e.Action, e.RuleID, e.ClientIP, e.Country, int64(e.ASN),
					e.Method, e.Path, e.UserAgent, int64(e.Status), e.RequestID)
			}
			if _, err := t.q.Exec(ctx, sb.String(), args...); err != nil {
				return t.wrapErr(err, "storing security events")
			}
		}
		return nil
	})
}

// SecurityEvents reads the events that pass a filter, newest first; see
// store.SecurityEvents.
func (o *ops) SecurityEvents(ctx context.Context, f store.SecurityEventFilter) ([]store.SecurityEvent, error) {
	if f.Limit > store.MaxSecurityEvents {
		return nil, fmt.Errorf("reading security events: %w: limit %d over %d", store.ErrInvalid, f.Limit, store.MaxSecurityEvents)
	}
	var where []string
	var args []any
	for _, c := range []struct {
		col string
		v   string
	}{{"zone", f.Zone}, {"action", f.Action}, {"client_ip", f.ClientIP}, {"country", strings.ToUpper(f.Country)}, {"rule_id", f.RuleID}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if f.ASN != 0 {
		where = append(where, "asn = ?")
		args = append(args, int64(f.ASN))
	}
	if f.Path != "" {
		// A prefix in characters (substr counts characters in both
		// dialects), without LIKE's wildcards to escape.
		where = append(where, "substr(path, 1, ?) = ?")
		args = append(args, int64(utf8.RuneCountInString(f.Path)), f.Path)
	}
	q := `SELECT id, ` + eventCols + ` FROM security_events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY at DESC, id DESC LIMIT ?`
	args = append(args, limitOr(f.Limit, 100))
	return collect(iterate(ctx, o.q, "security events", q, args, func(r Rows) (store.SecurityEvent, error) {
		var e store.SecurityEvent
		var at, asn, status int64
		err := r.Scan(&e.ID, &e.Node, &at, &e.Zone, &e.Action, &e.RuleID, &e.ClientIP, &e.Country, &asn, &e.Method, &e.Path,
			&e.UserAgent, &status, &e.RequestID)
		e.Time, e.ASN, e.Status = time.UnixMicro(at).UTC(), uint32(asn), int(status)
		return e, err
	}))
}

// PruneSecurityEvents deletes the events past the retention; see
// store.SecurityEvents.
func (o *ops) PruneSecurityEvents(ctx context.Context, before time.Time, keepPerZone int) (int64, error) {
	n, err := o.q.Exec(ctx, `DELETE FROM security_events WHERE at < ?`, before.UnixMicro())
	if err != nil || keepPerZone <= 0 {
		return n, o.wrapErr(err, "pruning security events")
	}
	zones, err := collect(iterate(ctx, o.q, "security event zones", `SELECT zone FROM security_events GROUP BY zone HAVING COUNT(*) > ?`,
		[]any{int64(keepPerZone)}, func(r Rows) (string, error) {
			var z string
			return z, r.Scan(&z)
		}))
	if err != nil {
		return n, err
	}
	for _, z := range zones {
		// The newest event past the cap, and every older one.
		var at, id int64
		err := queryRow(ctx, o.q, `SELECT at, id FROM security_events WHERE zone = ? ORDER BY at DESC, id DESC LIMIT 1 OFFSET ?`,
			[]any{z, int64(keepPerZone)}, &at, &id)
		if errors.Is(err, store.ErrNotFound) { // pruned meanwhile by another node
			continue
		}
		if err != nil {
			return n, o.wrapErr(err, "pruning security events")
		}
		m, err := o.q.Exec(ctx, `DELETE FROM security_events WHERE zone = ? AND (at < ? OR (at = ? AND id <= ?))`, z, at, at, id)
		if err != nil {
			return n, o.wrapErr(err, "pruning security events")
		}
		n += m
	}
	return n, nil
}
