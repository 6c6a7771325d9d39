package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rampart-edge/rampart/internal/h1"
	"github.com/rampart-edge/rampart/internal/h2"
)

// serveTLSSplit serves TLS on ln with the protocol ALPN chose: HTTP/2 on
// internal/h2, HTTP/1.1 (or no ALPN) on internal/h1. Both count
// connections with connState; a connection whose handshake fails is
// counted as opened and closed, as net/http does.
func (s *Server) serveTLSSplit(ln net.Listener, name string, tlsConfig *tls.Config, connState func(net.Conn, http.ConnState)) error {
	cfg := tlsConfig.Clone()
	for _, p := range []string{"http/1.1", "h2"} {
		if !slices.Contains(cfg.NextProtos, p) {
			cfg.NextProtos = append([]string{p}, cfg.NextProtos...)
		}
	}
	hs := s.newH1(connState) // serve_h1.go
	h2s := s.newH2(connState)
	lc := &listenerCloser{ln: ln}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.servers = append(s.servers, lc, hs, h2s)
	s.mu.Unlock()

	t := s.opts.Timeouts
	handshake := handshakeTimeout(t.ReadHeader, t.Read, t.Write)
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if lc.isClosed() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ECONNABORTED) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("serving %s on %s: %w", name, ln.Addr(), err)
		}
		delay = 0
		go s.dispatchTLS(tls.Server(nc, cfg), handshake, hs, h2s, connState)
	}
}

// newH2 returns the internal/h2 server of a TLS listener, with the edge's
// timeouts and request hook. HTTP/2 limits, stated rather than left
// implicit: 250 streams per connection, and at most 1 MiB of request body
// buffered per connection (flow control), so a client that sends faster
// than an origin reads holds at most 1 MiB of edge memory per connection.
// A stream may use the whole window, which keeps a single upload fast on
// a long round trip.
func (s *Server) newH2(connState func(net.Conn, http.ConnState)) *h2.Server {
	t := s.opts.Timeouts
	return &h2.Server{
		Handler:                       s,
		MaxConcurrentStreams:          250,
		MaxHeaderBytes:                t.MaxHeaderBytes,
		MaxReceiveBufferPerConnection: 1 << 20,
		MaxReceiveBufferPerStream:     1 << 20,
		ReadHeaderTimeout:             t.ReadHeader,
		ReadTimeout:                   t.Read,
		WriteTimeout:                  t.Write,
		IdleTimeout:                   t.Idle,
		ConnState:                     connState,
		Logger:                        s.log,
		NewRequest:                    newH1Request,
	}
}

// dispatchTLS completes the handshake of tc and hands it to the server of
// its protocol.
func (s *Server) dispatchTLS(tc *tls.Conn, timeout time.Duration, hs *h1.Server, h2s *h2.Server, connState func(net.Conn, http.ConnState)) {
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
		tc.SetDeadline(time.Now().Add(timeout))
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		s.log.Debug("TLS handshake failed", "remote", tc.RemoteAddr().String(), "error", err)
		tc.Close()
		if connState != nil {
			connState(tc, http.StateNew)
			connState(tc, http.StateClosed)
		}
		return
	}
	tc.SetDeadline(time.Time{})
	switch tc.ConnectionState().NegotiatedProtocol {
	case "h2":
		h2s.ServeConn(tc)
	case "", "http/1.1":
		hs.ServeConn(tc)
	default: // acme-tls/1 and the like: answered by the handshake itself
		tc.Close()
	}
}

// handshakeTimeout is net/http's: the smallest of the positive timeouts.
func handshakeTimeout(ds ...time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		if d > 0 && (m == 0 || d < m) {
			m = d
		}
	}
	return m
}

// listenerCloser closes a TLS listener at Shutdown or Close (the servers
// of its connections are shut down beside it).
type listenerCloser struct {
	ln     net.Listener
	closed atomic.Bool
}

func (l *listenerCloser) Shutdown(context.Context) error { return l.Close() }

func (l *listenerCloser) Close() error {
	l.closed.Store(true)
	return l.ln.Close()
}

func (l *listenerCloser) isClosed() bool { return l.closed.Load() }
