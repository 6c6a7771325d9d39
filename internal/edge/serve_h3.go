package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// H3Options configure the HTTP/3 listener (ServeH3).
type H3Options struct {
	// TLSConfig picks certificates by SNI, as on the TCP listener (the
	// same GetCertificate); ServeH3 clones it and offers only "h3".
	TLSConfig *tls.Config
	// MaxStreams caps the concurrent request streams of a connection
	// (quic.Config.MaxIncomingStreams); 0 means 100.
	MaxStreams int
	// EarlyData accepts 0-RTT. Requests that arrive in early data are
	// served only for safe methods in zones without rules on the client
	// address (see Zone.NeedsHandshake); the others get 425 Too Early.
	EarlyData bool
	// RetryAbove is the rate of new handshakes per second above which
	// every new client must validate its address with a Retry round
	// trip; 0 means always.
	RetryAbove int
	// UnderAttack, when set and true, switches Retry on whatever the
	// handshake rate (a zone is under attack).
	UnderAttack func() bool
	// Admit counts a new QUIC connection from addr against the node's
	// connection caps (limits.max_conns and max_conns_per_ip); ok false
	// refuses it (CONNECTION_REFUSED). release is called once when the
	// connection ends. Nil admits every connection.
	Admit func(addr netip.Addr) (release func(), ok bool)
	// AltSvcPort is the UDP port announced in Alt-Svc on the TCP HTTPS
	// listener's responses; "" means the port of the packet conn.
	AltSvcPort string
}

// altSvcMaxAge is how long (seconds) clients may remember that HTTP/3 is
// offered: a day, so that turning HTTP/3 off is noticed within a day
// (clients fall back to TCP at once when UDP fails anyway).
const altSvcMaxAge = 86400

// ServeH3 serves HTTP/3 on pc until Shutdown or Close, with the same
// request path as Serve. It sets the Alt-Svc header announced on the
// responses of the TCP HTTPS listener. The handshake rate and the caps of
// opts guard the UDP socket: a Retry (stateless address validation) above
// RetryAbove handshakes per second or while UnderAttack, a per-address cap
// before any connection state is kept. It returns nil after Shutdown or
// Close.
func (s *Server) ServeH3(pc net.PacketConn, opts H3Options) error {
	if opts.TLSConfig == nil {
		return errors.New("serving h3: no TLS config")
	}
	streams := opts.MaxStreams
	if streams <= 0 {
		streams = 100
	}
	t := s.opts.Timeouts
	qconf := &quic.Config{
		Allow0RTT:          opts.EarlyData,
		MaxIncomingStreams: int64(streams),
		// Control, QPACK encoder and decoder streams; a few spare.
		MaxIncomingUniStreams: 8,
		HandshakeIdleTimeout:  min(handshakeTimeout(t.ReadHeader, 10*time.Second), 10*time.Second),
		// Per-connection flow control, as HTTP/2's: at most 1 MiB of
		// request body buffered per connection.
		MaxStreamReceiveWindow:     1 << 20,
		MaxConnectionReceiveWindow: 1 << 20,
	}
	if t.Idle > 0 {
		qconf.MaxIdleTimeout = t.Idle
	}
	g := &quicGuard{opts: opts}
	if s.protos != nil {
		g.retryMetric = s.protos.retries
	}
	if s.opts.Metrics != nil {
		g.open, g.accepted = s.opts.Metrics.Conns("h3")
	}
	tr := &quic.Transport{
		Conn:                pc,
		VerifySourceAddress: g.verifySourceAddress,
		ConnContext:         g.connContext,
	}
	tlsConf := http3.ConfigureTLSConfig(opts.TLSConfig)
	ln, err := tr.ListenEarly(tlsConf, qconf)
	if err != nil {
		tr.Close()
		return fmt.Errorf("serving h3 on %s: %w", pc.LocalAddr(), err)
	}
	var handler http.Handler = s
	if t.Read > 0 || t.Write > 0 {
		// timeouts.read bounds the whole request (its body included)
		// and timeouts.write the response, per stream, as on TCP; QUIC's
		// idle timeout alone would let a client trickle a body forever.
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if d, ok := w.(streamDeadliner); ok {
				now := time.Now()
				if t.Read > 0 {
					_ = d.SetReadDeadline(now.Add(t.Read))
				}
				if t.Write > 0 {
					_ = d.SetWriteDeadline(now.Add(t.Write))
				}
			}
			s.ServeHTTP(w, r)
		})
	}
	srv := &http3.Server{
		Handler:        handler,
		TLSConfig:      tlsConf,
		QUICConfig:     qconf,
		MaxHeaderBytes: t.MaxHeaderBytes,
		IdleTimeout:    t.Idle,
	}
	port := opts.AltSvcPort
	if port == "" {
		if ua, ok := pc.LocalAddr().(*net.UDPAddr); ok {
			port = strconv.Itoa(ua.Port)
		}
	}
	if port != "" {
		v := []string{fmt.Sprintf(`h3=":%s"; ma=%d`, port, altSvcMaxAge)}
		s.altSvc.Store(&v)
	}
	hs := &h3Server{srv: srv, ln: ln, tr: tr}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		hs.Close()
		return http.ErrServerClosed
	}
	s.servers = append(s.servers, hs)
	s.mu.Unlock()

	err = srv.ServeListener(ln)
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, quic.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serving h3 on %s: %w", pc.LocalAddr(), err)
}

// streamDeadliner is what http3's ResponseWriter offers for deadlines
// on its stream.
type streamDeadliner interface {
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// h3Server ties the HTTP/3 server to its QUIC listener and transport,
// which http3.Server does not close when it was handed the listener.
type h3Server struct {
	srv  *http3.Server
	ln   *quic.EarlyListener
	tr   *quic.Transport
	once sync.Once
}

// Shutdown sends GOAWAY on every connection, waits for their requests
// until ctx is done, then closes the connections and the socket.
func (h *h3Server) Shutdown(ctx context.Context) error {
	err := h.srv.Shutdown(ctx)
	h.closeSocket()
	return err
}

// Close closes every connection at once (CONNECTION_CLOSE) and the socket.
func (h *h3Server) Close() error {
	err := h.srv.Close()
	h.closeSocket()
	return err
}

func (h *h3Server) closeSocket() {
	h.once.Do(func() {
		h.ln.Close()
		h.tr.Close()
	})
}

// quicGuard holds the per-socket defences: the handshake rate that
// switches Retry on, and the connection caps.
type quicGuard struct {
	opts H3Options
	open interface {
		Inc()
		Dec()
	}
	accepted    interface{ Inc() }
	second      atomic.Int64 // unix second of the current count
	count       atomic.Int64 // handshakes without a token in that second
	retryMetric interface{ Inc() }
}

// verifySourceAddress is quic.Transport's VerifySourceAddress: it is asked
// for every connection attempt that carries no valid address token, and
// answers whether a Retry must validate the address first.
func (g *quicGuard) verifySourceAddress(net.Addr) bool {
	now := time.Now().Unix()
	if sec := g.second.Load(); sec != now && g.second.CompareAndSwap(sec, now) {
		g.count.Store(0)
	}
	n := g.count.Add(1)
	retry := g.opts.RetryAbove <= 0 || n > int64(g.opts.RetryAbove) ||
		(g.opts.UnderAttack != nil && g.opts.UnderAttack())
	if retry && g.retryMetric != nil {
		g.retryMetric.Inc()
	}
	return retry
}

// errConnRefused refuses a QUIC connection over the caps.
var errConnRefused = errors.New("over the connection caps")

// connContext is quic.Transport's ConnContext: it counts the connection
// against the caps and in the connection metrics, and undoes both when
// the connection ends (the context is cancelled then).
func (g *quicGuard) connContext(ctx context.Context, ci *quic.ClientInfo) (context.Context, error) {
	if g.opts.Admit != nil {
		var a netip.Addr
		if ua, ok := ci.RemoteAddr.(*net.UDPAddr); ok {
			a = ua.AddrPort().Addr().Unmap()
		}
		release, ok := g.opts.Admit(a)
		if !ok {
			return nil, errConnRefused
		}
		context.AfterFunc(ctx, release)
	}
	if g.open != nil {
		g.accepted.Inc()
		g.open.Inc()
		context.AfterFunc(ctx, g.open.Dec)
	}
	return ctx, nil
}

// tooEarly reports whether a request must wait for the handshake: it
// arrived in 0-RTT early data (replayable by anyone who captured it, from
// an address not yet validated) and is not a safe method, or its zone has
// rules on the client address or a challenge, whose decision a replay or
// a spoofed address could abuse. As RFC 8470 says, such a request gets
// 425 Too Early and the client retries it after the handshake.
func tooEarly(r *http.Request, z *Zone) bool {
	if r.TLS == nil || r.TLS.HandshakeComplete {
		return false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		return true
	}
	return z.NeedsHandshake || z.Phases[PhaseRateLimit] != nil || z.Phases[PhaseChallenge] != nil
}
