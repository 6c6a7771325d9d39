package app

import (
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/waf"
)

// setWAFPhase puts the zone's WAF phase into z (none when waf.mode is off)
// and, when waf.response is on, wraps z.Handler with response inspection.
// The compiled rules come from the app's waf.Set, so zones and
// generations with the same WAF settings share one compiled rule set and a
// reload compiles only settings it has not seen. build runs under
// reloadMu (or before the app is shared), so the lazy Set needs no lock.
//
// The node's inspection memory budget (waf.memory, waf.memory_wait) is
// shared by every zone; a reload that changes it gives the zones built
// from then on a new one.
func (a *App) setWAFPhase(z *edge.Zone, zc config.Zone, cfg *config.Config) error {
	if zc.WAF.Mode == "" || zc.WAF.Mode == "off" {
		return nil
	}
	if a.wafs == nil {
		a.wafs = waf.NewSet(waf.Options{Logger: a.log.With("component", "waf"), Metrics: a.metrics})
	}
	a.wafs.SetMemory(cfg.WAFMemoryBytes(), cfg.WAFMemoryWait())
	p, err := a.wafs.Phase(zc.Host, zc.WAF)
	if err != nil {
		return err
	}
	z.Phases[edge.PhaseWAF] = p
	// waf.response: the origin handler hands each response to the
	// request's transaction. build passes z.Handler on as the cache's
	// origin too, so responses the cache fills are inspected as well.
	z.Handler = p.InspectResponses(z.Handler)
	return nil
}

// retainWAFs, after the running zones became zones (config and API zones
// alike), releases the compiled rule sets no zone uses (requests still
// running on the old routes keep theirs until they end) and drops the WAF
// metrics of removed zones.
func (a *App) retainWAFs(zones, prev []config.Zone) {
	if a.wafs == nil {
		return
	}
	cfgs := make([]config.WAF, len(zones))
	hosts := make(map[string]bool, len(zones))
	for i, z := range zones {
		cfgs[i] = z.WAF
		hosts[z.Host] = true
	}
	a.wafs.Retain(cfgs)
	m := a.metrics.WAF()
	for _, z := range prev {
		if !hosts[z.Host] {
			m.ForgetZone(z.Host)
		}
	}
}
