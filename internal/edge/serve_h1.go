package edge

import (
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/rampart-edge/rampart/internal/h1"
)

// serveH1 serves plain HTTP/1.x on ln with internal/h1, the edge's own
// server loop (listen.server: rampart).
func (s *Server) serveH1(ln net.Listener, name string, connState func(net.Conn, http.ConnState)) error {
	srv := s.newH1(connState)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return http.ErrServerClosed
	}
	s.servers = append(s.servers, srv)
	s.mu.Unlock()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serving %s on %s: %w", name, ln.Addr(), err)
}

// newH1 returns the internal/h1 server of a listener, with the edge's
// timeouts and request-context hook.
func (s *Server) newH1(connState func(net.Conn, http.ConnState)) *h1.Server {
	t := s.opts.Timeouts
	return &h1.Server{
		Handler:           s,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    t.MaxHeaderBytes,
		ConnState:         connState,
		Logger:            s.log,
		NewRequest:        newH1Request,
		// Nothing on the request path keeps r.Header past the request:
		// the cache's background refresh and httputil.ReverseProxy work
		// on Clone's deep copies, and logs and rollups take strings.
		ReuseRequestHeader: true,
	}
}
