package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/rampart-edge/rampart/internal/h1"
)

// serveTLSSplit serves TLS on ln with the protocol ALPN chose: HTTP/2 on
// net/http's server (srv, through a listener fed the handshaken
// connections), HTTP/1.1 (or no ALPN) on internal/h1. Both count
// connections with connState; a connection whose handshake fails is
// counted as opened and closed, as net/http does.
func (s *Server) serveTLSSplit(ln net.Listener, name string, tlsConfig *tls.Config, srv *http.Server, connState func(net.Conn, http.ConnState)) error {
	cfg := tlsConfig.Clone()
	for _, p := range []string{"http/1.1", "h2"} {
		if !slices.Contains(cfg.NextProtos, p) {
			cfg.NextProtos = append([]string{p}, cfg.NextProtos...)
		}
	}
	hs := s.newH1(connState) // serve_h1.go
	q := &connQueue{ln: ln, ch: make(chan net.Conn), done: make(chan struct{})}
	srv.TLSConfig = cfg
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return http.ErrServerClosed
	}
	s.servers = append(s.servers, srv, hs)
	s.mu.Unlock()

	t := s.opts.Timeouts
	handshake := handshakeTimeout(t.ReadHeader, t.Read, t.Write)
	go func() {
		var delay time.Duration
		for {
			nc, err := ln.Accept()
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					delay = min(max(2*delay, 5*time.Millisecond), time.Second)
					time.Sleep(delay)
					continue
				}
				q.fail(err)
				return
			}
			delay = 0
			go s.dispatchTLS(tls.Server(nc, cfg), handshake, q, hs, connState)
		}
	}()
	err := srv.Serve(q)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	if qerr := q.err(); qerr != nil {
		err = qerr
	}
	return fmt.Errorf("serving %s on %s: %w", name, ln.Addr(), err)
}

// dispatchTLS completes the handshake of tc and hands it to the server of
// its protocol.
func (s *Server) dispatchTLS(tc *tls.Conn, timeout time.Duration, q *connQueue, hs *h1.Server, connState func(net.Conn, http.ConnState)) {
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
		q.push(tc)
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

// connQueue is a net.Listener that yields the connections pushed to it: the
// HTTP/2 connections for net/http's server. Closing it closes the real
// listener.
type connQueue struct {
	ln   net.Listener
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
	mu   sync.Mutex
	ferr error
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() {
		close(q.done)
		q.ln.Close()
	})
	return nil
}

func (q *connQueue) Addr() net.Addr { return q.ln.Addr() }

func (q *connQueue) push(c net.Conn) {
	select {
	case q.ch <- c:
	case <-q.done:
		c.Close()
	}
}

// fail ends the queue because the real listener failed.
func (q *connQueue) fail(err error) {
	q.mu.Lock()
	q.ferr = err
	q.mu.Unlock()
	q.Close()
}

func (q *connQueue) err() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ferr
}
