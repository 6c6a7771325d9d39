// Package h2 is the edge's HTTP/2 server for TLS connections that
// negotiated "h2" (RFC 9113): net/http's HTTP/2 server without its
// per-request goroutine hand-offs, serving any http.Handler.
//
// A connection has one reader goroutine, which reads frames (x/net's
// http2.Framer, HPACK decoding and the header list limit included), owns
// the stream table and the receive windows, and starts one goroutine per
// request, with the request built in place. A handler's response is
// buffered (8 KiB) and encoded by the handler's own goroutine into the
// connection's write buffer under the connection's write lock: HEADERS
// (HPACK from the handler's header map, no copy) and DATA together, and
// the last writer to leave the lock flushes. A small response is one TLS
// record and one write; with several streams busy, responses share
// writes. Control frames the reader must send (SETTINGS and PING
// acknowledgements, WINDOW_UPDATE, RST_STREAM, GOAWAY) are queued and
// written by whoever holds the write lock next, so the reader never waits
// for the socket: a client that stops reading cannot stop the server from
// reading its frames.
//
// Limits (each a known attack on HTTP/2 servers):
//   - MaxConcurrentStreams (default 250) open streams per connection; a
//     HEADERS frame beyond it is refused (RST_STREAM REFUSED_STREAM).
//   - Rapid reset (CVE-2023-44487): handlers of streams the client reset
//     keep running until they notice; at most MaxConcurrentStreams
//     handlers run per connection, up to 4x that wait, and beyond that the
//     connection is closed with GOAWAY ENHANCE_YOUR_CALM.
//   - CONTINUATION flood and HPACK bombs (CVE-2023-45288): the header
//     list is bounded by MaxHeaderBytes while it is decoded (the Framer's
//     limit); the HPACK dynamic table by 4 KiB.
//   - SETTINGS, PING, RST_STREAM and WINDOW_UPDATE floods: at most
//     maxQueuedControlFrames control frames wait for the socket; beyond,
//     the connection is closed (ENHANCE_YOUR_CALM).
//   - Request bodies are bounded by flow control: 1 MiB per stream and
//     per connection buffered at most.
//   - Timeouts: the preface and SETTINGS within ReadHeaderTimeout;
//     IdleTimeout with no open stream (GOAWAY, then close); a request
//     body within ReadTimeout of its HEADERS; a response within
//     WriteTimeout of its HEADERS (a stream the client's flow-control
//     window stalls longer is reset; without WriteTimeout, one wait for
//     the window lasts at most IdleTimeout); every socket write within
//     WriteTimeout (IdleTimeout without it). A header block (HEADERS and
//     its CONTINUATION frames) longer than 4x MaxHeaderBytes on the
//     wire closes the connection, whatever its content.
//
// Responses: status and headers as the handler set them, minus the
// connection-specific fields HTTP/2 forbids (Connection, Keep-Alive,
// Proxy-Connection, Transfer-Encoding, Upgrade) and fields whose name or
// value is invalid; Date set (cached per second); Content-Type sniffed and
// Content-Length set for a body written whole before the handler returns,
// as net/http does; trailers declared with the Trailer header or with the
// http.TrailerPrefix; 1xx responses (WriteHeader(103) and the like) sent
// at once; "100 Continue" sent when a handler first reads the body of a
// request with Expect: 100-continue. The writer implements http.Flusher
// and the methods http.ResponseController uses (FlushError,
// SetReadDeadline, SetWriteDeadline, EnableFullDuplex). There is no
// server push and no extended CONNECT (RFC 8441).
//
// Requests follow net/http's HTTP/2 server (Go 1.26): the pseudo-headers
// checked (:method, :scheme and :path, or CONNECT with :authority only),
// cookies joined with "; ", Host from :authority (a Host field, if any,
// left in the header for the handler to check), a Content-Length checked
// against the DATA received (the body's bytes, then an error), request
// trailers in r.Trailer. r.Proto is "HTTP/2.0"; r.TLS the connection's
// state. Stricter than net/http, as RFC 9113 asks: the connection-specific
// fields and a TE other than "trailers" make the request malformed
// (stream error PROTOCOL_ERROR, where net/http answers 400), and repeated
// settings in one SETTINGS frame are applied in order (x/net refuses
// them). A handler writing past its Content-Length gets
// http.ErrContentLength after the bytes that fit, and the response ends
// complete at its declared length (net/http's HTTP/2 server sends every
// byte and leaves the client to notice); one returning short of it has
// what it wrote sent, then the stream reset (net/http ends the stream).
package h2

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"

	"github.com/rampart-edge/rampart/internal/h1"
)

// Server serves HTTP/2 connections with Handler.
type Server struct {
	Handler http.Handler
	// MaxConcurrentStreams bounds the open streams per connection. Zero:
	// 250.
	MaxConcurrentStreams uint32
	// MaxHeaderBytes bounds a request's header list (the sum of its
	// fields' names and values plus 32 bytes each, RFC 9113's measure).
	// Zero: 1 MiB.
	MaxHeaderBytes int
	// MaxReceiveBufferPerConnection and MaxReceiveBufferPerStream are
	// the receive windows advertised: the request body bytes the server
	// buffers at most. Zero: 1 MiB each.
	MaxReceiveBufferPerConnection int
	MaxReceiveBufferPerStream     int
	// ReadHeaderTimeout bounds the wait for the client preface and first
	// SETTINGS. Zero means ReadTimeout.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a request's body, from its HEADERS.
	// Zero: none.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response, from the request's HEADERS,
	// and each write to the socket. Zero: none.
	WriteTimeout time.Duration
	// IdleTimeout closes a connection that has had no open stream for
	// this long. Zero means ReadTimeout.
	IdleTimeout time.Duration
	// ConnState, if set, is called as net/http's Server.ConnState
	// (StateNew, StateActive, StateIdle, StateClosed).
	ConnState func(net.Conn, http.ConnState)
	// Logger receives handler panics (error level) and clients'
	// protocol errors (debug level); nil discards.
	Logger *slog.Logger
	// BaseContext is the parent of every request context; nil means
	// context.Background(). Request contexts also carry the connection's
	// local address under http.LocalAddrContextKey.
	BaseContext context.Context
	// RequestContext, if set, is called once per request with the
	// request's own context (cancelled when the stream ends) and returns
	// the context the request is created with; it must be derived from
	// the one given.
	RequestContext func(ctx context.Context) context.Context
	// NewRequest, if set, returns a new zero h1.Request for each request
	// (the edge's hook, shared with internal/h1, allocates its own
	// per-request state with it); nil allocates a bare one.
	NewRequest func() *h1.Request

	mu         sync.Mutex
	conns      map[*conn]struct{}
	inShutdown atomic.Bool

	// Idle stream goroutines wait on work for the next stream: a new
	// goroutine per stream would grow its stack from the minimum every
	// time (a tenth of the CPU of a small response).
	work        chan *stream
	idleWorkers atomic.Int32
	nconns      atomic.Int32 // connections being served
	workOnce    sync.Once
}

const (
	// maxIdleWorkers bounds the stream goroutines kept waiting.
	maxIdleWorkers = 128
	// workerIdle is how long an idle stream goroutine waits before it
	// exits.
	workerIdle = 30 * time.Second
)

// startStream runs st on an idle stream goroutine, or a new one.
func (s *Server) startStream(st *stream) {
	s.workOnce.Do(func() {
		s.mu.Lock()
		s.work = make(chan *stream)
		s.mu.Unlock()
	})
	select {
	case s.work <- st:
	default:
		go s.worker(st)
	}
}

// worker runs streams until it has waited workerIdle for one, or too many
// others wait.
func (s *Server) worker(st *stream) {
	var t *time.Timer
	for {
		st.run()
		st = nil
		if s.nconns.Load() == 0 {
			return
		}
		if s.idleWorkers.Add(1) > maxIdleWorkers {
			s.idleWorkers.Add(-1)
			return
		}
		if t == nil {
			t = time.NewTimer(workerIdle)
		} else {
			t.Reset(workerIdle)
		}
		select {
		case st = <-s.work:
			s.idleWorkers.Add(-1)
			if st == nil { // the server has no connection left
				t.Stop()
				return
			}
		case <-t.C:
			s.idleWorkers.Add(-1)
			return
		}
	}
}

// releaseWorkers ends the idle stream goroutines (the last connection
// closed: an idle server keeps none).
func (s *Server) releaseWorkers() {
	s.mu.Lock()
	work := s.work
	s.mu.Unlock()
	if work == nil {
		return
	}
	for s.idleWorkers.Load() > 0 {
		select {
		case work <- nil:
		default:
			return
		}
	}
}

// ErrServerClosed is http.ErrServerClosed.
var ErrServerClosed = http.ErrServerClosed

// ServeConn serves one connection in the calling goroutine until the
// connection ends. nc has completed its TLS handshake (a *tls.Conn whose
// negotiated protocol is "h2"), or is a plain connection whose client
// speaks HTTP/2 with prior knowledge (tests, h2c behind a trusted
// proxy). It closes nc on return.
func (s *Server) ServeConn(nc net.Conn) {
	c := s.newConn(nc)
	s.mu.Lock()
	if s.inShutdown.Load() {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if s.conns == nil {
		s.conns = make(map[*conn]struct{})
	}
	s.conns[c] = struct{}{}
	s.nconns.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.nconns.Add(-1)
		last := len(s.conns) == 0
		s.mu.Unlock()
		if last {
			s.releaseWorkers()
		}
	}()
	c.serve()
}

// Shutdown sends GOAWAY to every connection, waits for their streams to
// finish and closes them, until ctx is done (then it returns ctx.Err() and
// leaves the remaining connections open: call Close). Connections served
// after Shutdown are closed at once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.inShutdown.Store(true)
	s.mu.Lock()
	for c := range s.conns {
		go c.startGoAway(http2.ErrCodeNo)
	}
	s.mu.Unlock()
	poll := time.Millisecond
	timer := time.NewTimer(poll)
	defer timer.Stop()
	for {
		s.mu.Lock()
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			poll = min(2*poll, 100*time.Millisecond)
			timer.Reset(poll)
		}
	}
}

// Close closes every connection at once.
func (s *Server) Close() error {
	s.inShutdown.Store(true)
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	return nil
}

// logf logs a client's protocol error: routine on a public listener, so
// at debug level.
func (s *Server) logf(msg string, args ...any) {
	if s.Logger != nil {
		s.Logger.Debug(msg, args...)
	}
}

// logPanic logs a handler's panic.
func (s *Server) logPanic(msg string, args ...any) {
	if s.Logger != nil {
		s.Logger.Error(msg, args...)
	}
}

func (s *Server) maxStreams() uint32 {
	if s.MaxConcurrentStreams > 0 {
		return s.MaxConcurrentStreams
	}
	return 250
}

func (s *Server) maxHeaderBytes() int {
	if s.MaxHeaderBytes > 0 {
		return s.MaxHeaderBytes
	}
	return 1 << 20
}

func (s *Server) connWindow() int {
	if n := s.MaxReceiveBufferPerConnection; n > 0 {
		return min(max(n, 65535), maxWindow)
	}
	return 1 << 20
}

func (s *Server) streamWindow() int {
	if n := s.MaxReceiveBufferPerStream; n > 0 {
		return min(n, maxWindow)
	}
	return 1 << 20
}

func (s *Server) readHeaderTimeout() time.Duration {
	if s.ReadHeaderTimeout > 0 {
		return s.ReadHeaderTimeout
	}
	return s.ReadTimeout
}

func (s *Server) idleTimeout() time.Duration {
	if s.IdleTimeout > 0 {
		return s.IdleTimeout
	}
	return s.ReadTimeout
}
