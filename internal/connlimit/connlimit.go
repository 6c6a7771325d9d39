// Package connlimit caps concurrent client connections: in total over the
// listeners sharing one Limiter, and per client address (an IPv6 client by
// its /64, since one host usually owns a whole /64).
//
// A connection over a cap is closed as soon as it is accepted, before a
// byte is read from it, and counted (OnReject); the listener keeps
// accepting. The count of a connection ends when it is closed, whoever
// closes it. Caps count the TCP peer: behind a load balancer without the
// PROXY protocol every client shares the balancer's address, so set
// max_conns_per_ip only where clients connect directly (or high enough for
// the balancer).
package connlimit

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Reject reasons passed to OnReject.
const (
	ReasonTotal = "max_conns"
	ReasonPerIP = "max_conns_per_ip"
)

// Options configure a Limiter. Zero caps mean no cap.
type Options struct {
	// MaxConns caps the open connections over every wrapped listener.
	MaxConns int
	// MaxPerIP caps the open connections of one client address (IPv6 by
	// /64).
	MaxPerIP int
	// OnReject, when set, is called with the listener's name and the
	// reason for every connection closed at accept.
	OnReject func(listener, reason string)
}

// Limiter counts connections for one or more listeners.
type Limiter struct {
	opts  Options
	total atomic.Int64

	mu    sync.Mutex
	perIP map[netip.Addr]int
}

// New returns a Limiter.
func New(o Options) *Limiter {
	return &Limiter{opts: o, perIP: map[netip.Addr]int{}}
}

// Open returns the number of connections currently counted.
func (l *Limiter) Open() int { return int(l.total.Load()) }

// OpenFrom returns the number of connections currently counted for the
// address a (IPv6 by /64).
func (l *Limiter) OpenFrom(a netip.Addr) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.perIP[Key(a)]
}

// Key returns the address a connection counts under: IPv4 addresses as
// they are, IPv6 addresses masked to /64 (IPv4-mapped ones unmapped).
func Key(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

func addrOf(c net.Conn) netip.Addr {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return ta.AddrPort().Addr()
	}
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr()
}

// acquire counts a connection from key, or returns the reason it is over a
// cap.
func (l *Limiter) acquire(key netip.Addr) string {
	if n := l.total.Add(1); l.opts.MaxConns > 0 && n > int64(l.opts.MaxConns) {
		l.total.Add(-1)
		return ReasonTotal
	}
	if l.opts.MaxPerIP > 0 && key.IsValid() {
		l.mu.Lock()
		n := l.perIP[key]
		if n >= l.opts.MaxPerIP {
			l.mu.Unlock()
			l.total.Add(-1)
			return ReasonPerIP
		}
		l.perIP[key] = n + 1
		l.mu.Unlock()
	}
	return ""
}

func (l *Limiter) release(key netip.Addr) {
	l.total.Add(-1)
	if l.opts.MaxPerIP > 0 && key.IsValid() {
		l.mu.Lock()
		if n := l.perIP[key]; n <= 1 {
			delete(l.perIP, key)
		} else {
			l.perIP[key] = n - 1
		}
		l.mu.Unlock()
	}
}

// Wrap returns ln with its accepted connections counted by l; name labels
// the listener in OnReject.
func (l *Limiter) Wrap(ln net.Listener, name string) net.Listener {
	return &listener{Listener: ln, l: l, name: name}
}

type listener struct {
	net.Listener
	l    *Limiter
	name string
}

// Accept returns the next connection within the caps, closing the ones
// over them.
func (ln *listener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := Key(addrOf(c))
		if reason := ln.l.acquire(key); reason != "" {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // reset: free the socket at once
			}
			c.Close()
			if ln.l.opts.OnReject != nil {
				ln.l.opts.OnReject(ln.name, reason)
			}
			continue
		}
		return &conn{Conn: c, l: ln.l, key: key}, nil
	}
}

// conn releases its count once, at its first Close.
type conn struct {
	net.Conn
	l    *Limiter
	key  netip.Addr
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.key) })
	return err
}

// NetConn returns the wrapped connection (for code that needs the
// *net.TCPConn).
func (c *conn) NetConn() net.Conn { return c.Conn }

// Admit counts a connection that reaches the node other than through a
// wrapped listener (a QUIC connection on the HTTP/3 socket) from the
// address a, against the same caps; name labels it in OnReject. When ok,
// release must be called once when the connection ends.
func (l *Limiter) Admit(name string, a netip.Addr) (release func(), ok bool) {
	key := Key(a)
	if reason := l.acquire(key); reason != "" {
		if l.opts.OnReject != nil {
			l.opts.OnReject(name, reason)
		}
		return nil, false
	}
	var once sync.Once
	return func() { once.Do(func() { l.release(key) }) }, true
}
