package compliance

import "github.com/rampart-edge/rampart/internal/store"

// Serves reports whether the edge serves requests for host (a zone's
// canonical host or alias) now: false while the store has the zone
// suspended, rejected or in review, which the compliance phase answers
// with 451 or 503, or while a suspended zone above it covers it
// (cover.go). A host the store does not know is served unless covered.
func (c *Service) Serves(host string) bool {
	if st, ok := c.ZoneState(host); ok && st.Status != store.ZoneActive {
		return false
	}
	_, covered := c.Suspension(host, host)
	return !covered
}

// publish makes m the zone states (updateMu held) and reports whether a
// host that was served is not any more, so that the caller runs
// OnStopped once the lock is released.
func (c *Service) publish(m map[string]ZoneState) bool {
	old := *c.states.Swap(&m)
	for h, st := range m {
		if st.Status == store.ZoneActive {
			continue
		}
		if o, ok := old[h]; !ok || o.Status == store.ZoneActive {
			return true
		}
	}
	return false
}
