package attack_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/rampart-edge/rampart/internal/attack"
	"github.com/rampart-edge/rampart/internal/edge"
)

// Wiring one zone with under_attack: auto. The detector must outlive
// config reloads (keep it per zone host, as the proxies are kept), or its
// baseline is lost.
func ExampleDetector() {
	mode, _ := attack.ParseMode("auto")
	det := attack.NewDetector(attack.Options{
		Zone:     "www.example.org",
		OnSwitch: func(active bool, reason string) { /* rampart_under_attack{zone} gauge, switches counter */ },
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go det.Run(ctx) // switches off even when traffic stops

	var proxy http.Handler = http.NotFoundHandler() // the zone's origin proxy
	var access edge.Phase                           // the zone's access phase, or nil
	z := &edge.Zone{Name: "www.example.org", Handler: det.WrapOrigin(proxy)}
	z.Phases[edge.PhaseAccess] = det.Phase(access) // counts every request first
	// The challenge phase asks det.Active when mode is Auto:
	//   challenger.Phase(challenge.PhaseOptions{Active: det.Active, ...})
	fmt.Println(mode, det.Active())
	// Output: auto false
}
