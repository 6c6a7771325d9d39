package app

import (
	"net"
	"net/netip"
	"time"

	"github.com/pires/go-proxyproto"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/connlimit"
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
