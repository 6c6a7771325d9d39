package sqlcore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
)

// The dashboard's traffic rollups and sessions (issue 15).

const trafficCounters = `requests, bytes, st0, st1, st2, st3, st4, st5, cache_hits, latency_sum,
 lat0, lat1, lat2, lat3, lat4, lat5, lat6, lat7, lat8, lat9, rate_limited, challenged, waf_blocked, legal`

// trafficCols are the columns of a row in PutTraffic's order.
const trafficCols = `minute, zone, node, ` + trafficCounters

// numTrafficCols is the number of trafficCols.
const numTrafficCols = 27

// trafficChunk is the rows per INSERT (27 parameters a row).
const trafficChunk = 500

// trafficSums sums every counter, in trafficCounters' order.
var trafficSums = func() string {
	var b strings.Builder
	for i, c := range strings.Split(trafficCounters, ",") {
		if i > 0 {
			b.WriteString(", ")
		}
		c = strings.TrimSpace(c)
		b.WriteString("CAST(SUM(" + c + ") AS BIGINT)")
	}
	return b.String()
}()

// trafficUpdate replaces every counter of a conflicting row.
var trafficUpdate = func() string {
	var b strings.Builder
	for i, c := range strings.Split(trafficCounters, ",") {
		if i > 0 {
			b.WriteString(", ")
		}
		c = strings.TrimSpace(c)
		b.WriteString(c + " = excluded." + c)
	}
	return b.String()
}()

func trafficPtrs(r *store.TrafficRow) []any {
	out := []any{&r.Requests, &r.Bytes}
	for i := range r.Status {
		out = append(out, &r.Status[i])
	}
	out = append(out, &r.CacheHits, &r.LatencySum)
	for i := range r.Latency {
		out = append(out, &r.Latency[i])
	}
	return append(out, &r.RateLimited, &r.Challenged, &r.WAFBlocked, &r.Legal)
}

// trafficTable is the table of a span; "" for an unknown one.
func trafficTable(span int) string {
	switch span {
	case 0, store.SpanMinute:
		return "traffic_rollups"
	case store.SpanTenMinutes:
		return "traffic_rollups_10m"
	}
	return ""
}

func checkTraffic(i int, r *store.TrafficRow) error {
	if trafficTable(r.Span) == "" {
		return fmt.Errorf("row %d: %w: span %d is neither 1 nor 10", i+1, store.ErrInvalid, r.Span)
	}
	if r.Span == store.SpanTenMinutes && r.Minute%10 != 0 {
		return fmt.Errorf("row %d: %w: a ten-minute row's minute %d is not a multiple of 10", i+1, store.ErrInvalid, r.Minute)
	}
	if r.Node == "" || len(r.Node) > 255 {
		return fmt.Errorf("row %d: %w: node must be 1 to 255 bytes", i+1, store.ErrInvalid)
	}
	if len(r.Zone) > 255 {
		return fmt.Errorf("row %d: %w: zone over 255 bytes", i+1, store.ErrInvalid)
	}
	if r.Minute < 0 {
		return fmt.Errorf("row %d: %w: negative minute", i+1, store.ErrInvalid)
	}
	for _, p := range trafficPtrs(r) {
		if *p.(*int64) < 0 {
			return fmt.Errorf("row %d (zone %q, minute %d): %w: negative count", i+1, r.Zone, r.Minute, store.ErrInvalid)
		}
	}
	return nil
}

// PutTraffic upserts rows by (node, zone, minute); see store.Dashboard.
func (o *ops) PutTraffic(ctx context.Context, rows []store.TrafficRow) error {
	if len(rows) > store.MaxTrafficRows {
		return fmt.Errorf("storing traffic: %w: %d rows, at most %d", store.ErrInvalid, len(rows), store.MaxTrafficRows)
	}
	for i := range rows {
		if err := checkTraffic(i, &rows[i]); err != nil {
			return fmt.Errorf("storing traffic: %w", err)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return o.atomic(ctx, func(t *ops) error {
		for _, span := range []int{store.SpanMinute, store.SpanTenMinutes} {
			table := trafficTable(span)
			var chunk []*store.TrafficRow
			flush := func() error {
				if len(chunk) == 0 {
					return nil
				}
				var sb strings.Builder
				sb.WriteString(`INSERT INTO ` + table + ` (` + trafficCols + `) VALUES `)
				args := make([]any, 0, len(chunk)*numTrafficCols)
				for i, r := range chunk {
					if i > 0 {
						sb.WriteString(", ")
					}
					sb.WriteString(placeholders(numTrafficCols))
					args = append(args, r.Minute, r.Zone, r.Node)
					for _, p := range trafficPtrs(r) {
						args = append(args, *p.(*int64))
					}
				}
				sb.WriteString(` ON CONFLICT (zone, minute, node) DO UPDATE SET ` + trafficUpdate)
				_, err := t.q.Exec(ctx, sb.String(), args...)
				chunk = chunk[:0]
				return t.wrapErr(err, "storing traffic rows")
			}
			for i := range rows {
				if trafficTable(rows[i].Span) != table {
					continue
				}
				chunk = append(chunk, &rows[i])
				if len(chunk) == trafficChunk {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			if err := flush(); err != nil {
				return err
			}
		}
		return nil
	})
}

// TrafficSeries sums a zone's rows over the nodes in groups of step
// minutes; see store.Dashboard.
func (o *ops) TrafficSeries(ctx context.Context, zone string, span int, from, to int64, step int) ([]store.TrafficRow, error) {
	table := trafficTable(span)
	if table == "" {
		return nil, fmt.Errorf("reading traffic series: %w: span %d", store.ErrInvalid, span)
	}
	if step < 1 {
		step = 1
	}
	q := `SELECT (minute - ?) / ? AS g, ` + trafficSums + ` FROM ` + table + `
WHERE zone = ? AND minute >= ? AND minute <= ? GROUP BY g ORDER BY g`
	args := []any{from, int64(step), zone, from, to}
	return collect(iterate(ctx, o.q, "traffic series", q, args, func(r Rows) (store.TrafficRow, error) {
		row := store.TrafficRow{Zone: zone, Span: span}
		var g int64
		err := r.Scan(append([]any{&g}, trafficPtrs(&row)...)...)
		row.Minute = from + g*int64(step)
		return row, err
	}))
}

// TrafficTotals sums each zone's rows over a window, busiest first; see
// store.Dashboard.
func (o *ops) TrafficTotals(ctx context.Context, span int, from, to int64, limit int) ([]store.TrafficRow, error) {
	table := trafficTable(span)
	if table == "" {
		return nil, fmt.Errorf("reading traffic totals: %w: span %d", store.ErrInvalid, span)
	}
	q := `SELECT zone, CAST(SUM(requests) AS BIGINT) AS r, CAST(SUM(bytes) AS BIGINT), CAST(SUM(st5) AS BIGINT), CAST(SUM(cache_hits) AS BIGINT),
 CAST(SUM(rate_limited) AS BIGINT), CAST(SUM(challenged) AS BIGINT), CAST(SUM(waf_blocked) AS BIGINT), CAST(SUM(legal) AS BIGINT)
FROM ` + table + ` WHERE minute >= ? AND minute <= ? AND zone <> '' GROUP BY zone ORDER BY r DESC, zone LIMIT ?`
	return collect(iterate(ctx, o.q, "traffic totals", q, []any{from, to, limitOr(limit, 100)}, func(r Rows) (store.TrafficRow, error) {
		row := store.TrafficRow{Span: span}
		err := r.Scan(&row.Zone, &row.Requests, &row.Bytes, &row.Status[5], &row.CacheHits, &row.RateLimited, &row.Challenged, &row.WAFBlocked, &row.Legal)
		return row, err
	}))
}

// PruneTraffic deletes the rows of minutes before before; see
// store.Dashboard.
func (o *ops) PruneTraffic(ctx context.Context, before int64) (int64, error) {
	n, err := o.q.Exec(ctx, `DELETE FROM traffic_rollups WHERE minute < ?`, before)
	if err != nil {
		return 0, o.wrapErr(err, "pruning traffic rollups")
	}
	m, err := o.q.Exec(ctx, `DELETE FROM traffic_rollups_10m WHERE minute < ?`, before)
	return n + m, o.wrapErr(err, "pruning traffic rollups")
}

const sessionCols = `id_hash, token_id, created, seen, expires, revoked`

func checkSessionHash(h string) error {
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return fmt.Errorf("%w: a session hash is 64 lower-case hex digits", store.ErrInvalid)
	}
	return nil
}

// CreateSession stores a new dashboard session; see store.Dashboard.
func (o *ops) CreateSession(ctx context.Context, s store.DashboardSession) error {
	if err := checkSessionHash(s.Hash); err != nil {
		return fmt.Errorf("creating session: %w", err)
	}
	if s.TokenID == "" || s.Created.IsZero() || s.Expires.IsZero() {
		return fmt.Errorf("creating session: %w: token id, created and expires are required", store.ErrInvalid)
	}
	if s.Seen.IsZero() {
		s.Seen = s.Created
	}
	_, err := o.q.Exec(ctx, `INSERT INTO dashboard_sessions (`+sessionCols+`) VALUES `+placeholders(6),
		s.Hash, s.TokenID, timeArg(s.Created), timeArg(s.Seen), timeArg(s.Expires), timeArg(s.Revoked))
	return o.wrapErr(err, "creating session")
}

// GetSession returns a dashboard session by hash; see store.Dashboard.
func (o *ops) GetSession(ctx context.Context, hash string) (store.DashboardSession, error) {
	var s store.DashboardSession
	if err := checkSessionHash(hash); err != nil {
		return s, fmt.Errorf("reading session: %w", store.ErrNotFound)
	}
	err := queryRow(ctx, o.q, `SELECT `+sessionCols+` FROM dashboard_sessions WHERE id_hash = ?`, []any{hash},
		&s.Hash, &s.TokenID, scanTime{&s.Created}, scanTime{&s.Seen}, scanTime{&s.Expires}, scanTime{&s.Revoked})
	return s, o.wrapErr(err, "reading session")
}

// TouchSession sets a session's Seen time; see store.Dashboard.
func (o *ops) TouchSession(ctx context.Context, hash string, seen time.Time) error {
	n, err := o.q.Exec(ctx, `UPDATE dashboard_sessions SET seen = ? WHERE id_hash = ?`, timeArg(seen), hash)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return o.wrapErr(err, "touching session")
}

// RevokeSession ends a session; see store.Dashboard.
func (o *ops) RevokeSession(ctx context.Context, hash string, at time.Time) error {
	return o.atomic(ctx, func(t *ops) error {
		var id string
		if err := queryRow(ctx, t.q, `SELECT id_hash FROM dashboard_sessions WHERE id_hash = ?`+t.db.drv.ForUpdate(), []any{hash}, &id); err != nil {
			return t.wrapErr(err, "revoking session")
		}
		_, err := t.q.Exec(ctx, `UPDATE dashboard_sessions SET revoked = ? WHERE id_hash = ? AND revoked IS NULL`, timeArg(at), hash)
		return t.wrapErr(err, "revoking session")
	})
}

// PruneSessions deletes the sessions expired before before; see
// store.Dashboard.
func (o *ops) PruneSessions(ctx context.Context, before time.Time) (int64, error) {
	n, err := o.q.Exec(ctx, `DELETE FROM dashboard_sessions WHERE expires < ?`, timeArg(before))
	return n, o.wrapErr(err, "pruning sessions")
}
