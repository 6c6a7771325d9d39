package app

import (
	"sync"

	"github.com/rampart-edge/rampart/internal/proxy"
)

// Ending a zone's open tunnels and streams (issue 11, point 6). A
// WebSocket or a server-sent-event stream opened before a suspension
// would otherwise keep relaying for as long as it lives; each zone's proxy
// keeps a registry of them (proxy.CutExchanges, internal/cutoff):
//
//   - a compliance decision that stops serving a zone (taken here, or read
//     from the shared store by the refresh loop on another node) calls
//     cutStopped, which cuts the exchanges of every zone the desk no
//     longer serves, in the current routes and in replaced proxies still
//     draining;
//   - a reload or store change that removes a zone retires its proxy's
//     exchanges (retireReplaced), so the old routes drain at once instead
//     of waiting for the last tunnel;
//   - every proxy asks serves(host) when an exchange starts, so one that
//     passed the zone's checks just before the decision ends at once.

// exchangeState is the App's part of it: the replaced proxies whose zone
// is still served but which may still carry exchanges.
type exchangeState struct {
	mu       sync.Mutex
	draining map[*proxy.Proxy]string // by proxy: its zone host
}

// serves is the proxy's Admit function for host: whether the compliance
// desk (when on) serves the zone now.
func (a *App) serves(host string) func() bool {
	return func() bool {
		d := a.desk.Load()
		return d == nil || d.svc.Serves(host)
	}
}

// cutStopped ends the open tunnels and streams of every zone the
// compliance desk no longer serves (compliance.Options.OnStopped).
func (a *App) cutStopped() {
	d := a.desk.Load()
	if d == nil {
		return
	}
	cut := func(host string, p *proxy.Proxy) {
		if p.OpenExchanges() == 0 || d.svc.Serves(host) {
			return
		}
		if n := p.CutExchanges(); n > 0 {
			a.log.Info("zone no longer served: open tunnels and streams ended", "zone", host, "ended", n)
		}
	}
	if gen := a.gen.Load(); gen != nil {
		for host, e := range gen.zones {
			cut(host, e.proxy)
		}
	}
	a.exchanges.mu.Lock()
	draining := make(map[*proxy.Proxy]string, len(a.exchanges.draining))
	for p, host := range a.exchanges.draining {
		draining[p] = host
	}
	a.exchanges.mu.Unlock()
	for p, host := range draining {
		cut(host, p)
	}
}

// replaceProxies returns the proxies of prev that gen does not use. The
// ones whose zone gen removed have their tunnels and streams ended now
// (and any started later); the others (a changed zone config) drain
// gracefully and stay known to cutStopped until their last request ends (zones.go: retire).
func (a *App) replaceProxies(prev, gen *generation) []*proxy.Proxy {
	var replaced []*proxy.Proxy
	for host, pe := range prev.zones {
		e, ok := gen.zones[host]
		if ok && e.proxy == pe.proxy {
			continue
		}
		replaced = append(replaced, pe.proxy)
		if !ok {
			n := pe.proxy.RetireExchanges()
			a.exchanges.mu.Lock()
			for p, h := range a.exchanges.draining {
				if h == host {
					n += p.RetireExchanges()
				}
			}
			a.exchanges.mu.Unlock()
			if n > 0 {
				a.log.Info("zone removed: open tunnels and streams ended", "zone", host, "ended", n)
			}
			continue
		}
		a.exchanges.mu.Lock()
		if a.exchanges.draining == nil {
			a.exchanges.draining = map[*proxy.Proxy]string{}
		}
		a.exchanges.draining[pe.proxy] = host
		a.exchanges.mu.Unlock()
	}
	return replaced
}
