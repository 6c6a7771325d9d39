package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestProtect(t *testing.T) {
	r := New()
	p := r.Protect()
	if r.Protect() != p {
		t.Fatal("Protect is not memoised per registry")
	}
	p.Blocked("a.example", "access-deny")
	p.Blocked("a.example", "access-deny")
	p.ConnRejected("http", "max_conns_per_ip").Inc()
	p.Switched("a.example", true)
	p.Degraded(true)
	want := `
# HELP rampart_blocked_total Requests refused or challenged by the edge's protections, by zone and reason.
# TYPE rampart_blocked_total counter
rampart_blocked_total{reason="access-deny",zone="a.example"} 2
# HELP rampart_conn_rejected_total Client connections closed at accept, by listener and reason (max_conns, max_conns_per_ip).
# TYPE rampart_conn_rejected_total counter
rampart_conn_rejected_total{listener="http",reason="max_conns_per_ip"} 1
# HELP rampart_under_attack 1 while the zone challenges every client without clearance (under_attack on, or auto and switched on).
# TYPE rampart_under_attack gauge
rampart_under_attack{zone="a.example"} 1
# HELP rampart_ratelimit_degraded 1 while the shared (Redis) rate limiter is unreachable and limits are enforced per node.
# TYPE rampart_ratelimit_degraded gauge
rampart_ratelimit_degraded 1
`
	if err := testutil.GatherAndCompare(r.Gatherer(), strings.NewReader(want),
		"rampart_blocked_total", "rampart_conn_rejected_total", "rampart_under_attack", "rampart_ratelimit_degraded"); err != nil {
		t.Error(err)
	}
	p.ForgetZone("a.example")
	if n := testutil.CollectAndCount(p.blocked); n != 0 {
		t.Errorf("after ForgetZone %d blocked series remain", n)
	}
	var nilP *Protect
	nilP.Blocked("z", "r") // must not panic
}
