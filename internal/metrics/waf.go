package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// WAF holds the WAF's metrics:
//
//   - rampart_waf_requests_total{zone, action}: requests the WAF blocked
//     (action "blocked") or would have blocked in detect mode ("detected");
//   - rampart_waf_rule_matches_total{zone, rule}: the CRS rules that
//     matched in those requests, by rule id.
//
// The rule label takes CRS rule ids (a few hundred) and the zone label the
// configured zones, so cardinality stays bounded.
type WAF struct {
	requests *prometheus.CounterVec
	rules    *prometheus.CounterVec
}

var (
	wafMu    sync.Mutex
	wafByReg = map[*Registry]*WAF{}
)

// WAF returns the registry's WAF metrics, registering them on first use.
func (r *Registry) WAF() *WAF {
	wafMu.Lock()
	defer wafMu.Unlock()
	if w, ok := wafByReg[r]; ok {
		return w
	}
	w := &WAF{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_waf_requests_total",
			Help: "Requests the WAF blocked (action=blocked) or would have blocked in detect mode (action=detected), by zone.",
		}, []string{"zone", "action"}),
		rules: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_waf_rule_matches_total",
			Help: "Core Rule Set rules matched in blocked or detected requests, by zone and rule id.",
		}, []string{"zone", "rule"}),
	}
	r.reg.MustRegister(w.requests, w.rules)
	wafByReg[r] = w
	return w
}

// Event counts one blocked (blocked true) or detected request of zone and
// the rule ids that matched in it.
func (w *WAF) Event(zone string, blocked bool, rules []string) {
	if w == nil {
		return
	}
	action := "detected"
	if blocked {
		action = "blocked"
	}
	w.requests.WithLabelValues(zone, action).Inc()
	for _, id := range rules {
		w.rules.WithLabelValues(zone, id).Inc()
	}
}

// ForgetZone deletes the WAF series of a zone that is no longer
// configured.
func (w *WAF) ForgetZone(zone string) {
	if w == nil {
		return
	}
	w.requests.DeletePartialMatch(prometheus.Labels{"zone": zone})
	w.rules.DeletePartialMatch(prometheus.Labels{"zone": zone})
}
