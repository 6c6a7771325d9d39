package feeds

import "github.com/prometheus/client_golang/prometheus"

// Outcomes of a check (the outcome label of rampart_list_fetch_results_total).
const (
	OutcomeUpdated     = "updated"      // a new publication was activated
	OutcomeNotModified = "not_modified" // every file answered 304
	OutcomeUnchanged   = "unchanged"    // downloaded, identical to the active version
	OutcomeRefused     = "refused"      // verification refused it; the last good version stays
	OutcomeError       = "error"        // the download failed
)

type metrics struct {
	attempts    *prometheus.CounterVec
	results     *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
	bytes       *prometheus.CounterVec
	stale       *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rampart_list_fetch_attempts_total",
			Help: "Checks of a list feed (one per scheduled or command-line run)."}, []string{"feed"}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rampart_list_fetch_results_total",
			Help: "Outcomes of list feed checks: updated, not_modified, unchanged, refused, error."}, []string{"feed", "outcome"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "rampart_list_fetch_last_success_timestamp_seconds",
			Help: "When a list feed was last checked successfully (updated, not modified or unchanged)."}, []string{"feed"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rampart_list_fetch_bytes_total",
			Help: "Bytes of list files downloaded by a feed."}, []string{"feed"}),
		stale: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "rampart_list_feed_stale",
			Help: "1 when a feed's newest publication is older than its max_age or its last successful check older than 3 intervals."}, []string{"feed"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.attempts, m.results, m.lastSuccess, m.bytes, m.stale} {
			_ = reg.Register(c)
		}
	}
	return m
}
