package app

import (
	"runtime"
	"runtime/debug"

	"github.com/rampart-edge/rampart/internal/config"
)

// The zone life cycle of a node. The desired set of zones is the config
// file's zones plus the API zones of the store (servedZones); reconcile
// turns it into running zones. SIGHUP (Reload), the admin API and changes
// made on other nodes (the store's version counter, cluster.go) all come
// here, under reloadMu:
//
//   - an unchanged zone keeps its entry: proxy and pools, requests-in-
//     flight counter, detector, compiled WAF rule set and cache metrics;
//   - a changed zone gets a new proxy; the old one is closed when its
//     last request ends (its own counter, not the routes': a WebSocket on
//     another zone holds nothing of it);
//   - a removed zone's tunnels and streams end at once, its proxy is
//     closed when its last request ends, its detector stopped then, and
//     its metrics dropped.

// reconcile applies the desired zones of cfg. beforeSwap, when set, runs
// after the new zones are built and before they serve (Reload reloads the
// certificates there); on its error or a build error nothing changes.
// The caller holds reloadMu.
func (a *App) reconcile(cfg *config.Config, why string, beforeSwap func() error) error {
	prev := a.gen.Load()
	if why == "config" {
		collectBeforeBuild(cfg)
	}
	gen, err := a.build(cfg, prev)
	if err != nil {
		return err
	}
	if beforeSwap != nil {
		if err := beforeSwap(); err != nil {
			for _, e := range gen.zones {
				if e.fresh {
					e.proxy.Close()
				}
			}
			return err
		}
	}
	gen.start()
	a.gen.Store(gen)
	a.edge.SetRoutes(gen.routes)

	kept := make(map[string]bool, len(gen.zones))
	reused := 0
	for host, e := range gen.zones {
		kept[host] = true
		if !e.fresh {
			reused++
		}
	}
	replaced := a.replaceProxies(prev, gen) // cutoff.go: removed zones' tunnels end now
	a.retire(prev, gen)
	a.metrics.Forget(kept)
	a.retainWAFs(gen.list, prev.list) // waf.go
	a.retainCaches(cfg, gen.list)     // cache.go
	a.retainProtect(gen.list, prev.list, func(host string) <-chan struct{} {
		if pe, ok := prev.zones[host]; ok && !sameEntry(pe, gen.zones[host]) {
			return pe.inflight.Done()
		}
		return nil
	}) // protect.go
	if why == "config" || len(replaced) > 0 || reused != len(gen.zones) {
		a.log.Info("zones reconciled", "cause", why, "file", cfg.Path, "zones", len(gen.zones), "reused", reused,
			"new", len(gen.zones)-reused, "replaced", len(replaced))
	}
	if why == "config" && len(gen.zones) >= manyZones {
		go releaseMemory()
	}
	return nil
}

// releaseMemory returns the heap freed since the last collection to the
// operating system. Loading a config file of many zones makes several
// times the live heap in garbage (the YAML tree, the previous generation);
// without this the process keeps that much RSS until the runtime
// scavenges it, minutes later. It runs after the start and after a
// reload from the config file of a node with manyZones or more, off the
// caller's goroutine: a full collection of a heap of tens of MiB takes
// tens of milliseconds.
func releaseMemory() { debug.FreeOSMemory() }

// manyZones is the zone count from which a config load collects before
// building its zones.
const manyZones = 1000

// collectBeforeBuild frees the garbage of parsing cfg before its zones are
// built, when it has many zones: the zones' long-lived parts then fill the
// holes the parse left instead of pinning half-empty spans of it (at
// 10,000 zones that was 30 MiB of heap in use and not allocated).
func collectBeforeBuild(cfg *config.Config) {
	if len(cfg.Zones) >= manyZones {
		runtime.GC()
	}
}

func sameEntry(a, b *zoneEntry) bool { return b != nil && a.proxy == b.proxy }

// retire retires the entries of prev that gen does not reuse and closes
// each one's proxy when its last request has ended.
func (a *App) retire(prev, gen *generation) {
	for host, pe := range prev.zones {
		if sameEntry(pe, gen.zones[host]) {
			continue
		}
		pe.inflight.Retire()
		go func(pe *zoneEntry) {
			<-pe.inflight.Done()
			pe.proxy.Close()
			a.exchanges.mu.Lock()
			delete(a.exchanges.draining, pe.proxy)
			a.exchanges.mu.Unlock()
		}(pe)
	}
}
