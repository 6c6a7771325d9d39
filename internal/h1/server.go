// Package h1 is an HTTP/1.x server for the edge's plain-HTTP (and
// TLS http/1.1) connections: net/http's server loop without its
// per-request costs, serving any http.Handler.
//
// One goroutine per connection reads request heads from a 4 KiB buffered
// reader and parses them into a new *http.Request and http.Header per
// request (header values are substrings of one string per request head;
// handlers may keep both, unless Server.ReuseRequestHeader lets the
// connection reuse the header map). The request, its URL, its context (a
// cancel context whose Done channel is made on first use) and its first
// header value slices are one allocation (Request), which a NewRequest
// hook may embed in the handler's own per-request state; with that and
// ReuseRequestHeader a keep-alive GET costs two allocations, the Request
// and the head's string. There is no background read per request: a
// per-server watcher peeks (MSG_PEEK, non-blocking) every 100 ms at
// connections whose request has run longer than 100 ms and cancels the
// request's context when the client has closed its side or reset; it runs
// only while a request is in flight (an idle server has no ticker). Deadlines
// are coarse: set at most once per slack (min(timeout/16, 1s)) rather than
// reset per request: ReadHeaderTimeout from the first byte of a head,
// IdleTimeout between requests, ReadTimeout for the body, WriteTimeout for
// the response. After a response, the connection yields (runtime.Gosched)
// before reading the next request: the client is still reading the
// answer, and a read at once would mostly find nothing and park the
// goroutine in the poller (1.9 reads per keep-alive request instead of
// 1.1 under load).
//
// The response header map is the connection's: cleared after each
// response and reused for the next, so a handler must not keep it once it
// returns (net/http's rule for the ResponseWriter itself).
//
// The response is buffered: a handler's status, headers and up to 8 KiB of
// body go out in one write, with a Content-Length, when the handler
// returns; a longer body written whole in one Write with the handler's
// Content-Length goes out with the head in one writev; other longer
// bodies stream with the handler's Content-Length, chunked (HTTP/1.1) or
// close-delimited (HTTP/1.0). A handler may add a preformatted block of
// header lines with AddRawHeader (a cache's stored fields). Headers are written in
// map order, not sorted. Date is set (cached per second) and Content-Type
// sniffed like net/http. The writer implements http.Flusher,
// http.Hijacker and the methods http.ResponseController uses
// (FlushError, SetReadDeadline, SetWriteDeadline, EnableFullDuplex).
//
// Request parsing follows net/http (net/http.ReadRequest plus its server's
// checks) and is stricter in these cases, all answered 400 unless noted:
// a bare LF line ending, obs-fold (a header line starting with space or
// tab), Content-Length together with Transfer-Encoding, Transfer-Encoding
// on an HTTP/1.0 request, more than 256 header lines (431), and "PRI *
// HTTP/2.0" (505: no h2c). Requests with Expect: 100-continue are answered
// 100 Continue when the handler first reads the body; other expectations
// get 417. A body the handler leaves unread is read and discarded up to
// 256 KiB; with more, the connection is closed after the response.
package h1

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rampart-edge/rampart/internal/deadline"
)

// Server serves HTTP/1.x connections with Handler.
type Server struct {
	Handler http.Handler
	// ReadHeaderTimeout bounds reading a request head, from its first
	// byte (from accept for a connection's first request). Zero means
	// ReadTimeout.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a request head and body. Zero: none.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response, from the end of the request
	// head. Zero: none.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a keep-alive
	// connection. Zero means ReadTimeout.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request head (request line and headers;
	// plus 4096 bytes of slack, as net/http). Zero: 1 MiB.
	MaxHeaderBytes int
	// ConnState, if set, is called as net/http's Server.ConnState.
	ConnState func(net.Conn, http.ConnState)
	// Logger receives handler panics and protocol misuse; nil discards.
	Logger *slog.Logger
	// BaseContext is the parent of every request context; nil means
	// context.Background(). Request contexts also carry the connection's
	// local address under http.LocalAddrContextKey, as net/http's do.
	BaseContext context.Context
	// RequestContext, if set, is called once per request with the
	// request's own context (a child of BaseContext, cancelled when the
	// handler returns or the client goes away) and returns the context the
	// request is created with: a handler's per-request values go in
	// without the copy of the request that Request.WithContext makes. The
	// returned context must be derived from the one given.
	RequestContext func(ctx context.Context) context.Context
	// NewRequest, if set, returns a new zero Request for each request,
	// usually a field of the handler's per-request state allocated with
	// it (see Request.SetContextValues); nil allocates a bare Request.
	NewRequest func() *Request
	// ReuseRequestHeader lets a connection clear a request's header map
	// after the handler returns and parse its next request into it (two
	// allocations less per request). Set it only when the handler keeps
	// no reference to r.Header, nor to a Request sharing it (WithContext's
	// copies do; Clone's do not), once it returns.
	ReuseRequestHeader bool

	mu        sync.Mutex
	listeners map[*net.Listener]struct{}
	conns     map[*conn]struct{}
	watching  bool          // the watcher goroutine runs; s.mu guards it
	stopWatch chan struct{} // closing it stops that goroutine
	// watchOn is set while the watcher runs or is starting: a request
	// that finds it clear starts the watcher (startWatching).
	watchOn    atomic.Bool
	inShutdown atomic.Bool
}

// ErrServerClosed is http.ErrServerClosed: Serve returns it after
// Shutdown or Close.
var ErrServerClosed = http.ErrServerClosed

func (s *Server) logf(msg string, args ...any) {
	if s.Logger != nil {
		s.Logger.Warn(msg, args...)
	}
}

func (s *Server) shuttingDown() bool { return s.inShutdown.Load() }

func (s *Server) headLimit() int {
	if s.MaxHeaderBytes > 0 {
		return s.MaxHeaderBytes + 4096
	}
	return 1<<20 + 4096
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

// Serve accepts connections on ln and serves each in its own goroutine
// until Shutdown or Close, when it returns ErrServerClosed; ln is closed
// on return.
func (s *Server) Serve(ln net.Listener) error {
	if !s.trackListener(&ln, true) {
		ln.Close()
		return ErrServerClosed
	}
	defer s.trackListener(&ln, false)
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.shuttingDown() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ECONNABORTED) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.logf("h1: accept error; retrying", "error", err, "delay", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c := s.newConn(nc)
		if c == nil {
			continue
		}
		go c.serve()
	}
}

// ServeConn serves one connection (such as a TLS connection that
// negotiated http/1.1) in the calling goroutine until it closes or is
// hijacked.
func (s *Server) ServeConn(nc net.Conn) {
	if c := s.newConn(nc); c != nil {
		c.serve()
	}
}

func (s *Server) trackListener(ln *net.Listener, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.shuttingDown() {
			return false
		}
		if s.listeners == nil {
			s.listeners = map[*net.Listener]struct{}{}
		}
		s.listeners[ln] = struct{}{}
		return true
	}
	delete(s.listeners, ln)
	return true
}

func (s *Server) newConn(nc net.Conn) *conn {
	// RemoteAddr is read in the connection's goroutine: with the PROXY
	// protocol it waits for the header.
	c := &conn{srv: s, nc: nc}
	c.rc = rawConn(nc)
	s.mu.Lock()
	if s.shuttingDown() {
		s.mu.Unlock()
		nc.Close()
		return nil
	}
	if s.conns == nil {
		s.conns = map[*conn]struct{}{}
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	c.setState(http.StateNew)
	return c
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// watchEvery is how often the watcher looks for clients that went away;
// requests younger than it are not checked.
const watchEvery = 100 * time.Millisecond

// startWatching starts the watcher unless it runs. A request calls it
// after setting its reqStart, when it finds watchOn clear.
func (s *Server) startWatching() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchOn.Store(true)
	if !s.watching {
		s.watching = true
		s.stopWatch = make(chan struct{})
		go s.watch(s.stopWatch)
	}
}

// watch cancels the context of requests whose client closed its
// connection or reset it. It returns at the first tick that finds no
// request in flight: an idle server (idle keep-alive connections
// included) has no ticker; the next request starts it again.
func (s *Server) watch(stop chan struct{}) {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	var busy []*conn
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		old := time.Now().Add(-watchEvery).UnixNano()
		busy = busy[:0]
		inFlight := false
		s.mu.Lock()
		for c := range s.conns {
			st := c.reqStart.Load()
			inFlight = inFlight || st != 0
			if st != 0 && st < old && c.rc != nil {
				busy = append(busy, c)
			}
		}
		if !inFlight && s.stopIdleWatchLocked() {
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		for i, c := range busy {
			if gone(c.rc) {
				c.cancelRequest()
			}
			busy[i] = nil
		}
	}
}

// Shutdown stops accepting, closes idle connections, and waits for the
// active ones to finish their request, until ctx is done (then it returns
// ctx.Err() and leaves the remaining connections open: call Close).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.inShutdown.Store(true)
	for ln := range s.listeners {
		(*ln).Close()
	}
	s.mu.Unlock()
	poll := time.Millisecond
	timer := time.NewTimer(poll)
	defer timer.Stop()
	for {
		if s.closeIdle() {
			s.stopWatching()
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

// closeIdle closes idle connections (and new ones that have sent nothing
// for 5 s) and reports whether none is left.
func (s *Server) closeIdle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	quiet := true
	for c := range s.conns {
		st, since := c.getState()
		if st == http.StateNew && since < time.Now().Add(-5*time.Second).Unix() {
			st = http.StateIdle
		}
		if st != http.StateIdle || !c.claimForClose() {
			quiet = false
			continue
		}
		c.nc.Close()
		delete(s.conns, c)
	}
	return quiet
}

// stopIdleWatchLocked ends the watcher's run when still no request is
// in flight, and reports whether it did. watchOn is cleared before the
// second look and a request sets its reqStart before it reads watchOn
// (both sequentially consistent atomics), so either this look sees the
// request or the request sees watchOn clear and starts a watcher. s.mu is
// held.
func (s *Server) stopIdleWatchLocked() bool {
	s.watchOn.Store(false)
	for c := range s.conns {
		if c.reqStart.Load() != 0 {
			s.watchOn.Store(true)
			return false
		}
	}
	s.watching = false
	return true
}

func (s *Server) stopWatching() {
	s.mu.Lock()
	if s.watching {
		close(s.stopWatch)
		s.watching = false
	}
	s.watchOn.Store(false)
	s.mu.Unlock()
}

// Close closes the listeners and every connection now.
func (s *Server) Close() error {
	s.mu.Lock()
	s.inShutdown.Store(true)
	var err error
	for ln := range s.listeners {
		if cerr := (*ln).Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	for c := range s.conns {
		c.nc.Close()
		delete(s.conns, c)
	}
	s.mu.Unlock()
	s.stopWatching()
	return err
}

// conn is one client connection.
type conn struct {
	srv    *Server
	nc     net.Conn
	rc     syscall.RawConn // for the client-gone peek; nil when unavailable
	br     *bufio.Reader
	remote string
	tls    *tls.ConnectionState

	state      atomic.Uint64 // ConnState<<56 | unix seconds of the change
	hijackedV  atomic.Bool
	reqStart   atomic.Int64 // unix nanoseconds, 0 between requests
	cmu        sync.Mutex   // guards cancel and rctx
	cancel     context.CancelFunc
	rctx       *reqContext
	wmu        sync.Mutex // serializes writes (100 Continue vs the response)
	werr       error
	rdl, wdl   time.Time // the deadlines last set
	lastMethod string
	w          response
	hdr        http.Header // an empty header map to reuse (ReuseRequestHeader)
}

var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4<<10) }}

func (c *conn) setState(st http.ConnState) {
	c.state.Store(uint64(st)<<56 | uint64(time.Now().Unix()))
	if h := c.srv.ConnState; h != nil {
		h(c.nc, st)
	}
}

func (c *conn) getState() (http.ConnState, int64) {
	v := c.state.Load()
	return http.ConnState(v >> 56), int64(v & (1<<56 - 1))
}

// claimForClose moves an idle connection to closed for Shutdown; it fails
// when the connection became active meanwhile.
func (c *conn) claimForClose() bool {
	v := c.state.Load()
	st := http.ConnState(v >> 56)
	if st != http.StateIdle && st != http.StateNew {
		return false
	}
	return c.state.CompareAndSwap(v, uint64(http.StateClosed)<<56|(v&(1<<56-1)))
}

// activate moves the connection to active at now (unix seconds) unless
// Shutdown claimed it.
func (c *conn) activate(now int64) bool {
	for {
		v := c.state.Load()
		if http.ConnState(v>>56) == http.StateClosed {
			return false
		}
		if c.state.CompareAndSwap(v, uint64(http.StateActive)<<56|uint64(now)) {
			if h := c.srv.ConnState; h != nil {
				h(c.nc, http.StateActive)
			}
			return true
		}
	}
}

func (c *conn) hijacked() bool { return c.hijackedV.Load() }

func (c *conn) cancelRequest() {
	c.cmu.Lock()
	if c.cancel != nil {
		c.cancel()
	}
	if c.rctx != nil {
		c.rctx.cancel()
	}
	c.cmu.Unlock()
}

// endRequest cancels a request's context: rctx, or cancel when the base
// context can be cancelled.
func endRequest(rctx *reqContext, cancel context.CancelFunc) {
	if rctx != nil {
		rctx.cancel()
	} else {
		cancel()
	}
}

// setReadDeadline makes reads fail no earlier than d after now and no later
// than d plus deadline.Slack(d); d <= 0 clears the deadline.
func (c *conn) setReadDeadline(now time.Time, d time.Duration) {
	deadline.Renew(&c.rdl, now, d, c.nc.SetReadDeadline)
}

// setWriteDeadline is setReadDeadline for writes.
func (c *conn) setWriteDeadline(now time.Time, d time.Duration) {
	deadline.Renew(&c.wdl, now, d, c.nc.SetWriteDeadline)
}

// writeDirect writes b to the connection (interim responses, errors).
func (c *conn) writeDirect(b []byte) bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return false
	}
	if _, err := c.nc.Write(b); err != nil {
		c.werr = err
		return false
	}
	return true
}

func (c *conn) hijack() (net.Conn, *bufio.ReadWriter, error) {
	c.hijackedV.Store(true)
	c.reqStart.Store(0)
	c.nc.SetDeadline(time.Time{})
	c.rdl, c.wdl = time.Time{}, time.Time{}
	rw := bufio.NewReadWriter(c.br, bufio.NewWriter(c.nc))
	c.br = nil
	c.srv.forget(c)
	c.state.Store(uint64(http.StateHijacked) << 56)
	if h := c.srv.ConnState; h != nil {
		h(c.nc, http.StateHijacked)
	}
	return c.nc, rw, nil
}

// serverMarker is the value under http.ServerContextKey in h1's request
// contexts: a zero *http.Server, since handlers may type-assert it. It
// is never started; h1's own settings live in Server.
var serverMarker = &http.Server{}

// serve runs the connection's request loop.
func (c *conn) serve() {
	s := c.srv
	defer func() {
		if v := recover(); v != nil && v != http.ErrAbortHandler {
			buf := make([]byte, 64<<10)
			buf = buf[:runtime.Stack(buf, false)]
			if s.Logger != nil {
				s.Logger.Error("h1: panic serving request", "remote", c.remote, "panic", v, "stack", string(buf))
			}
		}
		c.cancelRequest() // after a panic, the request's context is still open
		if c.hijacked() {
			return
		}
		c.nc.Close()
		s.forget(c)
		if c.br != nil {
			c.br.Reset(nil)
			readers.Put(c.br)
			c.br = nil
		}
		c.state.Store(uint64(http.StateClosed) << 56)
		if h := s.ConnState; h != nil {
			h(c.nc, http.StateClosed)
		}
	}()

	if tc, ok := c.nc.(*tls.Conn); ok {
		if d := s.readHeaderTimeout(); d > 0 {
			tc.SetReadDeadline(time.Now().Add(d))
			tc.SetWriteDeadline(time.Now().Add(d))
		}
		if err := tc.HandshakeContext(context.Background()); err != nil {
			return
		}
		st := tc.ConnectionState()
		c.tls = &st
		tc.SetWriteDeadline(time.Time{})
	}

	c.remote = c.nc.RemoteAddr().String()
	c.br = readers.Get().(*bufio.Reader)
	c.br.Reset(c.nc)
	base := s.BaseContext
	if base == nil {
		base = context.Background()
	}
	// As net/http: the request's local address (the edge reads the
	// listener's port from it to canonicalise Host; the WAF passes it on).
	// One context per connection, not per request.
	base = context.WithValue(base, http.LocalAddrContextKey, c.nc.LocalAddr())
	// As net/http, a server under http.ServerContextKey: handlers look for
	// one to know they run in a server; httputil.ReverseProxy aborts a
	// response whose body copy failed (panic(http.ErrAbortHandler), so the
	// client sees a truncated body as truncated) only when one is there.
	base = context.WithValue(base, http.ServerContextKey, serverMarker)
	// A base that can be cancelled (a BaseContext with a deadline or a
	// cancel) gets context.WithCancel per request, which propagates it;
	// otherwise the request's own reqContext does, allocated with it.
	baseCancels := base.Done() != nil
	limit := s.headLimit()
	first := true
	onBlock := func() { c.setReadDeadline(time.Now(), s.readHeaderTimeout()) }
	for {
		now := time.Now()
		if first {
			c.setReadDeadline(now, s.readHeaderTimeout())
		}
		if c.br.Buffered() == 0 {
			if !first {
				c.setReadDeadline(now, s.idleTimeout())
				// Let the other connections run before reading: the
				// client is still reading the response just written, and
				// a read now mostly finds nothing (EAGAIN, then a park in
				// the poller).
				runtime.Gosched()
			}
			if _, err := c.br.Peek(1); err != nil {
				return
			}
		}
		if c.lastMethod == http.MethodPost {
			// RFC 9112 section 2.2 tolerance for a CRLF after a body.
			peek, _ := c.br.Peek(4)
			n := 0
			for n < len(peek) && (peek[n] == '\r' || peek[n] == '\n') {
				n++
			}
			c.br.Discard(n)
			if c.br.Buffered() == 0 {
				if _, err := c.br.Peek(1); err != nil {
					return
				}
			}
		}
		first = false
		head, err := readHead(c.br, limit, onBlock)
		if err != nil {
			c.refuse(err)
			return
		}
		// Active once a whole head is in, as net/http: Shutdown closes a
		// connection still sending its head.
		start := time.Now()
		if !c.activate(start.Unix()) {
			return
		}
		var rq *Request
		if s.NewRequest != nil {
			rq = s.NewRequest()
		} else {
			rq = &Request{}
		}
		var (
			ctx    context.Context
			cancel context.CancelFunc
			rc     *reqContext
		)
		if baseCancels {
			ctx, cancel = context.WithCancel(base)
			if rq.ctx.vals != nil {
				ctx = &valuesContext{ctx, rq.ctx.vals}
			}
		} else {
			rc = &rq.ctx
			rc.Context = base
			ctx = rc
		}
		if s.RequestContext != nil {
			ctx = s.RequestContext(ctx)
		}
		r := rq.newRequest(ctx)
		r.URL = &rq.u
		var ph parsedHead
		hdr := c.hdr
		c.hdr = nil
		if hdr == nil && s.ReuseRequestHeader {
			hdr = make(http.Header, 8)
		}
		if err := parseHead(head, r, &ph, rq.strs[:], hdr); err != nil {
			endRequest(rc, cancel)
			c.refuse(err)
			return
		}
		c.lastMethod = r.Method
		r.RemoteAddr = c.remote
		r.TLS = c.tls
		var b *body
		if r.ContentLength != 0 {
			b = newBody(c.br, r, ph.chunked)
			r.Body = b
			c.setReadDeadline(start, s.ReadTimeout)
		} else {
			r.Body = http.NoBody
		}
		c.setWriteDeadline(start, s.WriteTimeout)
		w := &c.w
		w.reset(c, r, b, &ph)
		if ph.expect != "" {
			if hasToken([]string{ph.expect}, "100-continue") {
				if r.ProtoMinor >= 1 && b != nil {
					b.cont = c.writeContinue
				}
			} else {
				endRequest(rc, cancel)
				c.writeSimple(http.StatusExpectationFailed, "")
				return
			}
		}
		c.cmu.Lock()
		c.cancel, c.rctx = cancel, rc
		c.cmu.Unlock()
		c.reqStart.Store(start.UnixNano())
		if !s.watchOn.Load() {
			s.startWatching()
		}

		s.Handler.ServeHTTP(w, r)

		c.reqStart.Store(0)
		if c.hijacked() {
			endRequest(rc, cancel)
			return
		}
		w.finish()
		c.cmu.Lock()
		c.cancel, c.rctx = nil, nil
		c.cmu.Unlock()
		endRequest(rc, cancel)
		if c.werr != nil || w.closeAfter || s.shuttingDown() {
			if c.werr == nil && b != nil && !b.ended() {
				// Unread request bytes: let the client read the answer
				// before the close resets the connection.
				closeWrite(c.nc)
			}
			return
		}
		w.req, w.body = nil, nil
		if hdr != nil && len(hdr) <= maxReusedHeader {
			clear(hdr)
			c.hdr = hdr
		}
		// The header map serves the connection's next response: cleared,
		// it keeps its storage (one allocation less per request), unless
		// it grew large.
		if len(w.header) > maxReusedHeader {
			w.header = nil
		} else {
			clear(w.header)
		}
		// The request's start second: the time of an idle state is only
		// read for new connections (closeIdle).
		c.state.Store(uint64(http.StateIdle)<<56 | uint64(start.Unix()))
		if h := s.ConnState; h != nil {
			h(c.nc, http.StateIdle)
		}
	}
}

// maxReusedHeader bounds the fields of a response header map kept for the
// connection's next response.
const maxReusedHeader = 32

// emptyRequest is copied by WithContext into each new request, which sets
// the request's context without a second allocation.
var emptyRequest = &http.Request{}

// writeContinue sends 100 Continue. (A final WriteHeader first replaces
// it with a no-op, under the body's lock: see disableContinue.)
func (c *conn) writeContinue() bool {
	return c.writeDirect([]byte("HTTP/1.1 100 Continue\r\n\r\n"))
}

// refuse answers a request head that cannot be served, then the
// connection closes. Read errors (timeouts, EOF, resets) get no answer.
func (c *conn) refuse(err error) {
	var re *requestError
	if !errors.As(err, &re) {
		return
	}
	c.setWriteDeadline(time.Now(), time.Second)
	c.writeSimple(re.status, re.reason)
	closeWrite(c.nc)
}

// writeSimple writes a short text/plain answer that closes the connection.
func (c *conn) writeSimple(code int, reason string) {
	text := http.StatusText(code)
	msg := []byte(nil)
	msg = appendStatusLine(msg, true, code)
	msg = append(msg, "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"...)
	bodyText := itoa(code) + " " + text
	if reason != "" && code != http.StatusRequestHeaderFieldsTooLarge {
		bodyText += ": " + reason
	}
	msg = appendContentLength(msg, int64(len(bodyText)))
	msg = append(msg, "\r\n"...)
	msg = append(msg, bodyText...)
	c.writeDirect(msg)
}

func itoa(n int) string {
	var b [8]byte
	i := len(b)
	for n > 0 || i == len(b) {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// closeWrite half-closes a TCP connection so that the client reads the
// whole answer before the close (instead of a reset for unread bytes), as
// net/http's closeWriteAndWait.
func closeWrite(nc net.Conn) {
	if tc, ok := nc.(interface{ CloseWrite() error }); ok {
		tc.CloseWrite()
		time.Sleep(rstAvoidanceDelay)
	}
}

// rstAvoidanceDelay is net/http's wait between CloseWrite and Close.
const rstAvoidanceDelay = 500 * time.Millisecond

// rawConn returns the syscall.RawConn under nc (through TLS, connlimit and
// PROXY protocol wrappers), or nil.
func rawConn(nc net.Conn) syscall.RawConn {
	for range 8 {
		if sc, ok := nc.(syscall.Conn); ok {
			rc, err := sc.SyscallConn()
			if err != nil {
				return nil
			}
			return rc
		}
		switch u := nc.(type) {
		case interface{ NetConn() net.Conn }:
			nc = u.NetConn()
		case interface{ Raw() net.Conn }:
			nc = u.Raw()
		default:
			return nil
		}
	}
	return nil
}
