// Package deadline keeps connection deadlines coarse: a deadline set for one
// request is kept for the following ones while it lies within a slack of
// what they want, so a keep-alive connection resets its runtime timer at
// most once per slack instead of once per request. internal/h1 uses it for
// client connections, internal/proxy for origin connections.
package deadline

import "time"

// Slack returns how much later than the timeout d a deadline may lie: d/16,
// at most one second (30s gives 30-31s).
func Slack(d time.Duration) time.Duration { return min(d/16, time.Second) }

// Renew makes sure that the deadline *cur (the one last given to set) lies
// no earlier than d after now and no later than d plus Slack(d): it keeps
// *cur when it lies in that window and sets d plus the slack otherwise.
// d <= 0 clears the deadline (once). set is a connection's
// SetReadDeadline or SetWriteDeadline.
func Renew(cur *time.Time, now time.Time, d time.Duration, set func(time.Time) error) {
	if d <= 0 {
		if !cur.IsZero() {
			*cur = time.Time{}
			set(*cur)
		}
		return
	}
	want := now.Add(d)
	s := Slack(d)
	if !cur.IsZero() && !cur.Before(want) && cur.Sub(want) <= s {
		return
	}
	*cur = want.Add(s)
	set(*cur)
}
