package challenge_test

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"os"

	"github.com/rampart-edge/rampart/internal/challenge"
	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/reqctx"
)

// One Challenger per process (its keys live in DataDir/keys), one Phase
// per zone. under_attack "on" passes an Active that always returns true;
// "auto" passes the zone detector's Active; "off" leaves Active nil.
func ExampleChallenger_Phase() {
	dir, _ := os.MkdirTemp("", "rampart-example")
	defer os.RemoveAll(dir)
	ch, err := challenge.New(challenge.Options{DataDir: dir})
	if err != nil {
		panic(err)
	}
	var z edge.Zone
	z.Phases[edge.PhaseChallenge] = ch.Phase(challenge.PhaseOptions{
		Zone:   "www.example.org",
		Active: func() bool { return true },
		Policy: challenge.Policy{
			Difficulty:  18,
			ExemptPaths: []string{"/api/"},
			ExemptCIDRs: []netip.Prefix{netip.MustParsePrefix("66.249.64.0/19")},
		},
		OnResult: func(r challenge.Result) { /* rampart_challenge_total{zone, result=r.String()} */ },
	})

	for _, path := range []string{"/", "/api/items"} {
		r := httptest.NewRequest("GET", path, nil)
		info := &reqctx.Info{ID: "r1", ClientIP: netip.MustParseAddr("192.0.2.1")}
		r = r.WithContext(reqctx.With(r.Context(), info))
		w := httptest.NewRecorder()
		d := z.Phases[edge.PhaseChallenge].Serve(w, r)
		fmt.Printf("%s handled=%v %d %q\n", path, d == edge.Handled, w.Code, info.Block)
	}
	// Output:
	// / handled=true 403 "challenge"
	// /api/items handled=false 200 ""
}
