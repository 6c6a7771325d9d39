package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Protect holds the metrics of the edge's protections (access rules,
// embargo, rate limits, challenge, connection limits, under-attack mode):
//
//   - rampart_blocked_total{zone, reason}: requests refused or
//     challenged, by zone and reason ("access-deny", "access-allowlist",
//     "embargo", "ratelimit:RULE", "challenge");
//   - rampart_challenge_results_total{zone, result}: challenge outcomes
//     ("challenged", "verified", "rejected");
//   - rampart_conn_rejected_total{listener, reason}: connections closed
//     at accept because a cap was reached ("max_conns",
//     "max_conns_per_ip");
//   - rampart_under_attack{zone}: 1 while the zone challenges every
//     client, 0 otherwise (zones with under_attack off have no series); rampart_under_attack_switches_total{zone, to}:
//     switches of auto mode ("on", "off");
//   - rampart_ratelimit_degraded: 1 while the Redis limiter is unreachable
//     and the node enforces its limits locally.
//
// Labels take configured zone names and a fixed set of reasons (rate
// limit rule names come from the config), so cardinality stays bounded.
type Protect struct {
	blocked   *prometheus.CounterVec
	challenge *prometheus.CounterVec
	connRej   *prometheus.CounterVec
	attack    *prometheus.GaugeVec
	switches  *prometheus.CounterVec
	degraded  prometheus.Gauge
}

var (
	protectMu    sync.Mutex
	protectByReg = map[*Registry]*Protect{}
)

// Protect returns the registry's protection metrics, registering them on
// first use.
func (r *Registry) Protect() *Protect {
	protectMu.Lock()
	defer protectMu.Unlock()
	if p, ok := protectByReg[r]; ok {
		return p
	}
	p := &Protect{
		blocked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_blocked_total",
			Help: "Requests refused or challenged by the edge's protections, by zone and reason.",
		}, []string{"zone", "reason"}),
		challenge: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_challenge_results_total",
			Help: "Challenge outcomes (challenged, verified, rejected), by zone.",
		}, []string{"zone", "result"}),
		connRej: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_conn_rejected_total",
			Help: "Client connections closed at accept, by listener and reason (max_conns, max_conns_per_ip).",
		}, []string{"listener", "reason"}),
		attack: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rampart_under_attack",
			Help: "1 while the zone challenges every client without clearance (under_attack on, or auto and switched on).",
		}, []string{"zone"}),
		switches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_under_attack_switches_total",
			Help: "Automatic under-attack switches, by zone and direction (on, off).",
		}, []string{"zone", "to"}),
		degraded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rampart_ratelimit_degraded",
			Help: "1 while the shared (Redis) rate limiter is unreachable and limits are enforced per node.",
		}),
	}
	r.reg.MustRegister(p.blocked, p.challenge, p.connRej, p.attack, p.switches, p.degraded)
	protectByReg[r] = p
	return p
}

// Blocked counts one request of zone refused for reason.
func (p *Protect) Blocked(zone, reason string) {
	if p != nil {
		p.blocked.WithLabelValues(zone, reason).Inc()
	}
}

// BlockedCounter returns the resolved counter of zone and reason, for hot
// paths that count without a label lookup.
func (p *Protect) BlockedCounter(zone, reason string) prometheus.Counter {
	return p.blocked.WithLabelValues(zone, reason)
}

// ChallengeResult counts one challenge outcome of zone.
func (p *Protect) ChallengeResult(zone, result string) {
	if p != nil {
		p.challenge.WithLabelValues(zone, result).Inc()
	}
}

// ConnRejected returns the counter of connections a listener closed for
// reason.
func (p *Protect) ConnRejected(listener, reason string) prometheus.Counter {
	return p.connRej.WithLabelValues(listener, reason)
}

// UnderAttack sets the zone's under-attack gauge.
func (p *Protect) UnderAttack(zone string, on bool) {
	if p == nil {
		return
	}
	v := 0.0
	if on {
		v = 1
	}
	p.attack.WithLabelValues(zone).Set(v)
}

// NoUnderAttack drops the zone's under-attack gauge: a zone with
// under_attack off has none (a node with many zones keeps no series for
// them); absent reads as 0.
func (p *Protect) NoUnderAttack(zone string) {
	if p != nil {
		p.attack.DeleteLabelValues(zone)
	}
}

// Switched counts one automatic switch of zone, on or off.
func (p *Protect) Switched(zone string, on bool) {
	if p == nil {
		return
	}
	to := "off"
	if on {
		to = "on"
	}
	p.switches.WithLabelValues(zone, to).Inc()
	p.UnderAttack(zone, on)
}

// Degraded sets the rate limiter's degraded gauge.
func (p *Protect) Degraded(on bool) {
	if p == nil {
		return
	}
	if on {
		p.degraded.Set(1)
	} else {
		p.degraded.Set(0)
	}
}

// ForgetZone deletes the protection series of a zone that is no longer
// configured.
func (p *Protect) ForgetZone(zone string) {
	if p == nil {
		return
	}
	l := prometheus.Labels{"zone": zone}
	p.blocked.DeletePartialMatch(l)
	p.challenge.DeletePartialMatch(l)
	p.attack.DeletePartialMatch(l)
	p.switches.DeletePartialMatch(l)
}
