package feeds

import (
	"fmt"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
)

// Status is a feed's state, for `rampart lists status` and GET /v1/lists.
type Status struct {
	Feed        string    `json:"feed"`
	Source      string    `json:"source"`
	URL         string    `json:"url"`
	Interval    string    `json:"interval"`
	LastCheck   time.Time `json:"last_check,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastOutcome string    `json:"last_outcome,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	Published   time.Time `json:"published,omitzero"`
	Stale       bool      `json:"stale"`
	StaleReason string    `json:"stale_reason,omitempty"`
}

// Statuses returns every feed's status.
func (s *Scheduler) Statuses() []Status {
	out := make([]Status, 0, len(s.feeds))
	for _, f := range s.feeds {
		out = append(out, s.status(f, time.Now()))
	}
	return out
}

func (s *Scheduler) status(f config.Feed, now time.Time) Status {
	lay := layouts[f.Source]
	s.mu.Lock()
	st := s.states[f.Name]
	out := Status{Feed: f.Name, Source: lay.store, URL: f.URL, Interval: f.Interval.String(), LastCheck: st.LastCheck, LastSuccess: st.LastSuccess,
		LastOutcome: st.LastOutcome, LastError: st.LastError, Published: st.Published}
	s.mu.Unlock()
	if v, ok := s.store.Snapshot().Versions[lay.store]; ok && v.Published.After(out.Published) {
		out.Published = v.Published
	}
	out.StaleReason = staleReason(out.Published, out.LastSuccess, s.started, now, f)
	out.Stale = out.StaleReason != ""
	return out
}

// staleReason says why a feed is stale, "" if it is not: its newest
// publication is older than max_age, or its last successful check (or,
// never successful, its start) is older than 3 intervals.
func staleReason(published, lastSuccess, started, now time.Time, f config.Feed) string {
	if !published.IsZero() && now.Sub(published) > f.MaxAge {
		return fmt.Sprintf("newest publication %s is older than max_age %s", published.Format(time.RFC3339), f.MaxAge)
	}
	since := lastSuccess
	if since.IsZero() {
		since = started
	}
	if now.Sub(since) > 3*f.Interval {
		if lastSuccess.IsZero() {
			return fmt.Sprintf("no successful check in %s (3 intervals)", now.Sub(started).Round(time.Second))
		}
		return fmt.Sprintf("last successful check %s is older than 3 intervals (%s)", lastSuccess.Format(time.RFC3339), 3*f.Interval)
	}
	return ""
}

// checkStale updates the stale gauge and logs a feed turning stale.
func (s *Scheduler) checkStale(f config.Feed) {
	st := s.status(f, time.Now())
	s.mu.Lock()
	was := s.states[f.Name].stale
	s.states[f.Name].stale = st.Stale
	s.mu.Unlock()
	v := 0.0
	if st.Stale {
		v = 1
	}
	s.m.stale.WithLabelValues(f.Name).Set(v)
	if st.Stale && !was {
		s.log.Warn("list feed is stale", "feed", f.Name, "source", st.Source, "reason", st.StaleReason)
	}
}
