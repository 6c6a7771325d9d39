package ratelimit_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/ratelimit"
	"github.com/rampart-edge/rampart/internal/reqctx"
)

// A zone's rate_limit from the config becomes the zone's rate-limit phase.
// With cluster.redis set, the limiter is a Fallback over NewRedis and the
// node's Local; without it, the Local alone. One limiter serves every
// zone: the zone name is part of each key.
func ExampleNewPhase() {
	limiter := ratelimit.NewLocal(ratelimit.LocalOptions{})
	zc := config.Zone{Host: "www.example.org", RateLimit: config.RateLimit{Requests: 1, Per: time.Second, Burst: 1}}
	phase, err := ratelimit.NewPhase(zc.Host, limiter, ratelimit.RulesFromConfig(zc.RateLimit),
		func(rule string) { /* count rampart_blocked_total{zone, reason="ratelimit:"+rule} */ }, nil)
	if err != nil {
		panic(err)
	}
	var z edge.Zone
	z.Phases[edge.PhaseRateLimit] = phase

	for range 3 {
		r := httptest.NewRequest("GET", "/", nil)
		info := &reqctx.Info{ID: "r1", ClientIP: netip.MustParseAddr("192.0.2.1")}
		r = r.WithContext(reqctx.With(r.Context(), info))
		w := httptest.NewRecorder()
		if z.Phases[edge.PhaseRateLimit].Serve(w, r) == edge.Continue {
			w.WriteHeader(http.StatusOK)
		}
		fmt.Printf("%d %q %q\n", w.Code, w.Header().Get("Retry-After"), info.Block)
	}
	// Output:
	// 200 "" ""
	// 200 "" ""
	// 429 "1" "ratelimit:zone"
}
