package app

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/pires/go-proxyproto"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/connlimit"
	"github.com/rampart-edge/rampart/internal/edge"
)

// wrapListeners applies the node's connection caps (limits.max_conns,
// limits.max_conns_per_ip; counted by TCP peer) and, with
// listen.proxy_protocol, the PROXY protocol to the public listeners. The
// admin listener is left alone. Both are fixed at start, like the
// listener addresses. (H12)
func (a *App) wrapListeners(cfg *config.Config) {
	if cfg.Limits.MaxConns > 0 || cfg.Limits.MaxConnsPerIP > 0 {
		m := a.metrics.Protect()
		lim := connlimit.New(connlimit.Options{
			MaxConns: cfg.Limits.MaxConns,
			MaxPerIP: cfg.Limits.MaxConnsPerIP,
			OnReject: func(listener, reason string) { m.ConnRejected(listener, reason).Inc() },
		})
		a.protect.conns = lim
		if a.httpLn != nil {
			a.httpLn = lim.Wrap(a.httpLn, "http")
		}
		if a.httpsLn != nil {
			a.httpsLn = lim.Wrap(a.httpsLn, "https")
		}
	}
	if cfg.Listen.ProxyProtocol {
		trusted := cfg.TrustedProxyPrefixes()
		if a.httpLn != nil {
			a.httpLn = proxyProtocol(a.httpLn, trusted, cfg.Timeouts.ReadHeader)
		}
		if a.httpsLn != nil {
			a.httpsLn = proxyProtocol(a.httpsLn, trusted, cfg.Timeouts.ReadHeader)
		}
	}
}

// proxyProtocol wraps ln to read a PROXY protocol header (v1 or v2) from
// peers in trusted, whose header's source address then becomes the
// connection's remote address (the client IP); a trusted peer may also
// connect without a header (health checks). A connection from any other
// peer that sends a PROXY header fails at its first read, so no client can
// choose its own address. The header must arrive within timeout
// (timeouts.read_header, default 10s).
func proxyProtocol(ln net.Listener, trusted []netip.Prefix, timeout time.Duration) net.Listener {
	pl := &proxyproto.Listener{
		Listener: ln,
		ConnPolicy: func(o proxyproto.ConnPolicyOptions) (proxyproto.Policy, error) {
			if ta, ok := o.Upstream.(*net.TCPAddr); ok {
				a := ta.AddrPort().Addr().Unmap()
				for _, p := range trusted {
					if p.Contains(a) {
						return proxyproto.USE, nil
					}
				}
			}
			return proxyproto.REJECT, nil
		},
	}
	if timeout > 0 {
		pl.ReadHeaderTimeout = timeout
	}
	return pl
}

// listenH3 binds the HTTP/3 UDP socket (listen.http3). By default it is
// the HTTPS listener's address; then it takes the port the TCP listener
// was actually given, so that ":0" in tests and the Alt-Svc header agree.
// (issue 17)
func (a *App) listenH3(cfg *config.Config) error {
	addr := cfg.Listen.HTTP3
	if addr == "" || a.httpsLn == nil {
		return nil
	}
	if addr == cfg.Listen.HTTPS {
		addr = a.httpsLn.Addr().String()
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return fmt.Errorf("listening for http3 on udp %s: %w", addr, err)
	}
	a.h3Conn = pc
	return nil
}

// serveH3 serves HTTP/3 on the UDP socket with the node's certificates,
// connection caps and QUIC settings; listen addresses and the quic
// section are fixed at start, like the other listeners.
func (a *App) serveH3(cfg *config.Config) error {
	opts := edge.H3Options{
		TLSConfig:   a.certs.QUICTLSConfig(),
		MaxStreams:  cfg.QUIC.MaxStreams,
		EarlyData:   cfg.QUIC.EarlyDataOrDefault(),
		RetryAbove:  cfg.QUIC.RetryAbove,
		UnderAttack: a.anyUnderAttack,
	}
	if lim := a.protect.conns; lim != nil {
		opts.Admit = func(addr netip.Addr) (func(), bool) { return lim.Admit("h3", addr) }
	}
	return a.edge.ServeH3(a.h3Conn, opts)
}

// anyUnderAttack reports whether a zone is under attack (under_attack: on,
// or auto with its detector active), which switches QUIC address
// validation on. It is asked for every unvalidated handshake, so the
// answer is kept for a second.
func (a *App) anyUnderAttack() bool {
	now := time.Now().Unix()
	if a.attackAt.Load() == now {
		return a.attackOn.Load()
	}
	on := false
	if gen := a.gen.Load(); gen != nil {
		for _, e := range gen.zones {
			if e.key.UnderAttack == "on" {
				on = true
				break
			}
		}
	}
	if !on {
		p := &a.protect
		p.mu.Lock()
		for _, e := range p.detectors {
			if e.d.Active() {
				on = true
				break
			}
		}
		p.mu.Unlock()
	}
	a.attackOn.Store(on)
	a.attackAt.Store(now)
	return on
}

// needsHandshake reports whether zc has rules on the client address,
// whose requests must not be answered from 0-RTT early data (edge.Zone).
func needsHandshake(zc config.Zone, cfg *config.Config) bool {
	return len(zc.Access.Allow) > 0 || len(zc.Access.Deny) > 0 || len(cfg.Compliance.EmbargoedRegions) > 0
}
