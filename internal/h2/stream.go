package h2

import (
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"

	"github.com/rampart-edge/rampart/internal/h1"
)

// stream is one request: its state on the connection, the request, the
// response writer and the request body's pipe, in one allocation (the
// h1.Request is the handler's, from NewRequest).
type stream struct {
	c  *conn
	id uint32
	rq *h1.Request
	r  *http.Request
	w  response

	handler http.HandlerFunc // nil: the server's Handler

	// Under c.mu.
	sendWin     int64
	inflow      int64 // receive window left
	unacked     int   // body bytes consumed, not yet returned to the window
	remoteEnded bool

	closed    atomic.Bool // out of the stream table
	resetSent atomic.Bool
	finalSent atomic.Bool // the final HEADERS is written (set under c.wmu)
	inWrite   atomic.Bool // the handler is in (or waiting for) the write lock

	dlmu   sync.Mutex // the handler's write deadline (any goroutine)
	wdl    time.Time
	wtimer *time.Timer

	// The reader's.
	declared   int64 // Content-Length, -1 unknown
	received   int64
	gotTrailer bool
	trailer    http.Header // request trailers as received

	body      *pipe
	start     time.Time
	readTimer *time.Timer
}

// processHeaders opens a stream or takes a stream's trailers.
func (c *conn) processHeaders(f *http2.MetaHeadersFrame) error {
	id := f.StreamID
	if id%2 != 1 {
		return connError{http2.ErrCodeProtocol, "even stream id"}
	}
	s := c.srv
	c.mu.Lock()
	if st := c.streams[id]; st != nil {
		c.mu.Unlock()
		return c.processTrailers(st, f)
	}
	if id <= c.maxClientID {
		c.mu.Unlock()
		return connError{http2.ErrCodeProtocol, "stream id went down"}
	}
	c.maxClientID = id
	if f.HasPriority() && f.Priority.StreamDep == id {
		c.mu.Unlock()
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeProtocol}
	}
	if c.goingAway {
		c.mu.Unlock()
		return nil
	}
	if uint32(len(c.streams)) >= s.maxStreams() {
		c.mu.Unlock()
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeRefusedStream}
	}
	c.mu.Unlock()

	st := &stream{c: c, id: id, start: time.Now()}
	if err := c.newRequest(st, f); err != nil {
		return err
	}

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		st.rq.End()
		return nil
	}
	st.sendWin = c.initialSendWin
	st.inflow = int64(s.streamWindow())
	st.remoteEnded = f.StreamEnded()
	c.streams[id] = st
	if len(c.streams) == 1 {
		if c.idleTimer != nil {
			c.idleTimer.Stop()
		}
		if !c.active {
			c.active = true
			c.setState(http.StateActive)
		}
	}
	if c.running < int(s.maxStreams()) {
		c.running++
		c.mu.Unlock()
		c.srv.startStream(st)
		return nil
	}
	if len(c.waiting) > 4*int(s.maxStreams()) {
		c.mu.Unlock()
		return connError{http2.ErrCodeEnhanceYourCalm, "too many handlers waiting (rapid reset)"}
	}
	c.waiting = append(c.waiting, st)
	c.mu.Unlock()
	return nil
}

// handlerDone starts waiting handlers once one ends.
func (c *conn) handlerDone() {
	c.mu.Lock()
	c.running--
	for len(c.waiting) > 0 && c.running < int(c.srv.maxStreams()) {
		st := c.waiting[0]
		c.waiting[0] = nil
		c.waiting = c.waiting[1:]
		if st.closed.Load() {
			st.abort(errStreamClosed)
			continue
		}
		c.running++
		c.srv.startStream(st)
	}
	if len(c.waiting) == 0 {
		c.waiting = nil
	}
	c.mu.Unlock()
}

func (c *conn) processTrailers(st *stream, f *http2.MetaHeadersFrame) error {
	if st.resetSent.Load() {
		return nil
	}
	c.mu.Lock()
	ended := st.remoteEnded
	c.mu.Unlock()
	if ended {
		return http2.StreamError{StreamID: st.id, Code: http2.ErrCodeStreamClosed}
	}
	if st.gotTrailer {
		return connError{http2.ErrCodeProtocol, "second trailer block"}
	}
	st.gotTrailer = true
	if !f.StreamEnded() {
		return http2.StreamError{StreamID: st.id, Code: http2.ErrCodeProtocol}
	}
	if len(f.PseudoFields()) > 0 {
		return http2.StreamError{StreamID: st.id, Code: http2.ErrCodeProtocol}
	}
	if st.r.Trailer != nil {
		for _, hf := range f.RegularFields() {
			key := canonicalKey(hf.Name)
			if !httpguts.ValidTrailerHeader(key) {
				return http2.StreamError{StreamID: st.id, Code: http2.ErrCodeProtocol}
			}
			if st.trailer == nil {
				st.trailer = make(http.Header)
			}
			st.trailer[key] = append(st.trailer[key], hf.Value)
		}
	}
	c.endRemote(st)
	return nil
}

// endRemote notes the client's END_STREAM: the body ends (checked against
// its Content-Length).
func (c *conn) endRemote(st *stream) {
	c.mu.Lock()
	st.remoteEnded = true
	c.mu.Unlock()
	if st.body == nil {
		return
	}
	if st.declared != -1 && st.declared != st.received {
		st.body.failAfterData(fmt.Errorf("h2: request declared a Content-Length of %d but sent %d bytes", st.declared, st.received))
		return
	}
	st.body.fail(io.EOF, func() {
		for k, vv := range st.trailer {
			if _, ok := st.r.Trailer[k]; ok {
				st.r.Trailer[k] = vv
			}
		}
	})
}

func (c *conn) processData(f *http2.DataFrame) error {
	id := f.StreamID
	n := int64(f.Length)
	c.mu.Lock()
	st := c.streams[id]
	if st == nil && id > c.maxClientID {
		c.mu.Unlock()
		return connError{http2.ErrCodeProtocol, "DATA on an idle stream"}
	}
	if n > c.inflow {
		c.mu.Unlock()
		return connError{http2.ErrCodeFlowControl, "DATA beyond the connection window"}
	}
	c.inflow -= n
	if st == nil || st.remoteEnded || st.resetSent.Load() {
		reset := st != nil && st.resetSent.Load() || st == nil && c.recentlyReset(id)
		c.mu.Unlock()
		c.refundConn(int(n))
		if reset {
			return nil
		}
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeStreamClosed}
	}
	if n > st.inflow {
		c.mu.Unlock()
		c.refundConn(int(n))
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeFlowControl}
	}
	st.inflow -= n
	c.mu.Unlock()

	data := f.Data()
	if st.declared != -1 && st.received+int64(len(data)) > st.declared {
		// More than its Content-Length: the stream is reset first, so
		// that the handler, which sees its body fail, cannot answer.
		c.refundConn(int(n))
		c.resetStream(id, http2.ErrCodeProtocol)
		return nil
	}
	st.received += int64(len(data))
	if len(data) > 0 && !st.body.write(data) {
		// The handler closed the body: the bytes are dropped.
		c.refundConn(len(data))
	}
	if pad := int(n) - len(data); pad > 0 {
		c.refundConn(pad)
		st.refund(pad)
	}
	if f.StreamEnded() {
		c.endRemote(st)
	}
	return nil
}

// recentlyReset reports whether the server reset stream id lately (c.mu
// held): the client's frames already in flight for it are dropped.
func (c *conn) recentlyReset(id uint32) bool {
	for _, r := range c.resetIDs {
		if r == id {
			return true
		}
	}
	return false
}

// noteReset remembers a stream the server reset (c.mu held).
func (c *conn) noteReset(id uint32) {
	c.resetIDs[c.resetNext%uint8(len(c.resetIDs))] = id
	c.resetNext++
}

// refund returns n consumed body bytes to the stream's receive window.
func (st *stream) refund(n int) {
	c := st.c
	c.mu.Lock()
	if st.remoteEnded || st.closed.Load() {
		c.mu.Unlock()
		return
	}
	st.unacked += n
	var inc int
	if st.unacked >= windowUpdateThreshold {
		inc, st.unacked = st.unacked, 0
		st.inflow += int64(inc)
	}
	c.mu.Unlock()
	if inc > 0 {
		c.queue(ctrlFrame{kind: 'w', streamID: st.id, val: uint32(inc)})
		c.kick()
	}
}

// abort ends the stream's request: its context is cancelled and its body
// fails with err once its buffered bytes are read.
func (st *stream) abort(err error) {
	if st.body != nil {
		// What arrived can still be read, then err (as net/http); bytes
		// left unread go back to the connection window when the handler
		// returns (finishStream).
		st.body.failAfterData(err)
	}
	st.rq.End()
	if st.readTimer != nil {
		st.readTimer.Stop()
	}
}

// run serves the stream's request in its own goroutine.
func (st *stream) run() {
	c := st.c
	defer c.handlerDone()
	w := &st.w
	w.st = st
	if r := st.r; r.Method == http.MethodHead {
		w.head = true
	}
	done := false
	defer func() {
		if !done {
			e := recover()
			if e != nil && e != http.ErrAbortHandler {
				buf := make([]byte, 16<<10)
				buf = buf[:runtime.Stack(buf, false)]
				c.srv.logPanic("h2: panic serving request", "remote", c.remote, "panic", fmt.Sprint(e), "stack", string(buf))
			}
			c.resetStream(st.id, http2.ErrCodeInternal)
			st.finishStream()
		}
	}()
	h := st.handler
	if h == nil {
		h = c.srv.Handler.ServeHTTP
	}
	h(w, st.r)
	done = true
	w.finish()
	st.finishStream()
}

// finishStream ends a stream whose handler returned: out of the table
// (with RST_STREAM NO_ERROR when the client is still sending a body the
// handler did not read), the context cancelled, the body closed.
func (st *stream) finishStream() {
	c := st.c
	c.mu.Lock()
	inTable := c.streams[st.id] == st
	unfinished := inTable && !st.remoteEnded
	if inTable {
		c.removeLocked(st)
		c.flowCond.Broadcast()
	}
	if c.resets < resetBudget {
		c.resets++
	}
	if unfinished {
		c.noteReset(st.id)
	}
	c.mu.Unlock()
	if unfinished {
		st.resetSent.Store(true)
		c.queue(ctrlFrame{kind: 'r', streamID: st.id, code: http2.ErrCodeNo})
		c.kick()
	}
	if st.body != nil {
		if n := st.body.closeRead(); n > 0 {
			c.refundConn(n)
		}
	}
	st.rq.End()
	if st.readTimer != nil {
		st.readTimer.Stop()
	}
	st.dlmu.Lock()
	if st.wtimer != nil {
		st.wtimer.Stop()
	}
	st.dlmu.Unlock()
	st.w.release()
}

// newRequest builds the stream's request from its HEADERS.
func (c *conn) newRequest(st *stream, f *http2.MetaHeadersFrame) error {
	s := c.srv
	var method, scheme, authority, path string
	for _, hf := range f.PseudoFields() {
		switch hf.Name {
		case ":method":
			method = hf.Value
		case ":scheme":
			scheme = hf.Value
		case ":authority":
			authority = hf.Value
		case ":path":
			path = hf.Value
		case ":protocol":
			return http2.StreamError{StreamID: st.id, Code: http2.ErrCodeProtocol}
		}
	}
	bad := http2.StreamError{StreamID: st.id, Code: http2.ErrCodeProtocol}
	isConnect := method == http.MethodConnect
	if isConnect {
		if path != "" || scheme != "" || authority == "" {
			return bad
		}
	} else if method == "" || path == "" || (scheme != "https" && scheme != "http") {
		return bad
	}

	regular := f.RegularFields()
	// Connection-specific fields, or TE other than "trailers": a
	// malformed request (RFC 9113 8.2.2), refused before it is built.
	for _, hf := range regular {
		switch hf.Name {
		case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
			return bad
		case "te":
			if hf.Value != "trailers" {
				return bad
			}
		}
	}

	var rq *h1.Request
	if s.NewRequest != nil {
		rq = s.NewRequest()
	} else {
		rq = &h1.Request{}
	}
	header := make(http.Header, len(regular))
	slots := rq.ValueSlots()
	for _, hf := range regular {
		k := canonicalKey(hf.Name)
		if vv := header[k]; vv != nil {
			header[k] = append(vv, hf.Value)
		} else if len(slots) > 0 {
			slots[0] = hf.Value
			header[k] = slots[:1:1]
			slots = slots[1:]
		} else {
			header[k] = []string{hf.Value}
		}
	}
	if authority == "" {
		if h := header["Host"]; len(h) > 0 {
			authority = h[0]
		}
	}

	// As net/http's HTTP/2 server (Go 1.26's httpcommon.NewServerRequest).
	needsContinue := httpguts.HeaderValuesContainsToken(header["Expect"], "100-continue")
	if needsContinue {
		delete(header, "Expect")
	}
	if cookies := header["Cookie"]; len(cookies) > 1 {
		header["Cookie"] = []string{strings.Join(cookies, "; ")}
	}
	var trailer http.Header
	for _, v := range header["Trailer"] {
		for _, key := range strings.Split(v, ",") {
			key = textproto.CanonicalMIMEHeaderKey(textproto.TrimString(key))
			switch key {
			case "Transfer-Encoding", "Trailer", "Content-Length":
				// Bogus. (copy of http1 rules)
			default:
				if trailer == nil {
					trailer = make(http.Header)
				}
				trailer[key] = nil
			}
		}
	}
	delete(header, "Trailer")
	// The Host field stays in the header, and :authority is not checked
	// beyond this, as net/http's HTTP/2 server (Go 1.26) leaves both to the
	// handler: the edge answers a malformed or disagreeing host with 400.
	if strings.IndexByte(authority, '@') >= 0 && (scheme == "http" || scheme == "https") {
		return bad
	}

	st.rq = rq
	r := rq.Begin(c.baseCtx, s.RequestContext)
	var requestURI string
	if isConnect {
		*r.URL = url.URL{Host: authority}
		requestURI = authority
	} else {
		u, err := h1.ParseTarget(method, path, r.URL)
		if err != nil {
			rq.End()
			return bad
		}
		r.URL = u
		requestURI = path
	}
	r.Method = h1.InternMethod(method)
	r.Proto = "HTTP/2.0"
	r.ProtoMajor = 2
	r.ProtoMinor = 0
	r.Header = header
	r.Host = authority
	r.RemoteAddr = c.remote
	r.RequestURI = requestURI
	r.Trailer = trailer
	if scheme == "https" {
		r.TLS = c.tls
	}
	st.r = r
	st.declared = -1
	if f.StreamEnded() {
		r.Body = http.NoBody
	} else {
		if vv, ok := header["Content-Length"]; ok {
			if cl, err := strconv.ParseUint(vv[0], 10, 63); err == nil {
				r.ContentLength = int64(cl)
			}
			st.declared = r.ContentLength
		} else {
			r.ContentLength = -1
		}
		st.body = &pipe{st: st}
		st.body.cond.L = &st.body.mu
		st.body.needContinue = needsContinue
		r.Body = st.body
		if d := s.ReadTimeout; d > 0 {
			b := st.body
			st.readTimer = time.AfterFunc(d, func() { c.refundConn(b.fail(errDeadline, nil)) })
		}
	}
	if f.Truncated {
		st.handler = headerListTooLong
	}
	return nil
}

func headerListTooLong(w http.ResponseWriter, r *http.Request) {
	const statusRequestHeaderFieldsTooLarge = 431
	w.WriteHeader(statusRequestHeaderFieldsTooLarge)
	io.WriteString(w, "<h1>HTTP Error 431</h1><p>Request Header Field(s) Too Large</p>")
}

// pipe is a request body: the reader appends DATA, the handler reads.
type pipe struct {
	st           *stream
	mu           sync.Mutex
	cond         sync.Cond
	buf          []byte
	off          int
	err          error  // set once: io.EOF at the end, or why the body failed
	onEOF        func() // runs before io.EOF is first returned
	closed       bool   // the handler closed it
	needContinue bool
}

// write appends data; false if the handler closed the body.
func (p *pipe) write(data []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.err != nil {
		return false
	}
	if p.off > 0 && p.off == len(p.buf) {
		p.buf, p.off = p.buf[:0], 0
	}
	p.buf = append(p.buf, data...)
	p.cond.Signal()
	return true
}

// fail ends the body with err once the buffered bytes are read (io.EOF),
// or at once (any other error, dropping what is buffered). onEOF runs
// before EOF is returned.
// It returns the bytes it dropped unread, for the connection's window.
func (p *pipe) fail(err error, onEOF func()) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return 0
	}
	p.err = err
	p.onEOF = onEOF
	n := 0
	if err != io.EOF {
		n = len(p.buf) - p.off
		p.buf, p.off = nil, 0
	}
	p.cond.Broadcast()
	return n
}

// failAfterData ends the body with err once the buffered bytes are read.
func (p *pipe) failAfterData(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
		p.cond.Broadcast()
	}
}

func (p *pipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	if p.needContinue {
		// As net/http: on the first read, whatever has arrived.
		p.needContinue = false
		p.mu.Unlock()
		p.st.w.writeContinue()
		p.mu.Lock()
	}
	for len(p.buf) == p.off && p.err == nil && !p.closed {
		p.cond.Wait()
	}
	if p.closed {
		p.mu.Unlock()
		return 0, http.ErrBodyReadAfterClose
	}
	if len(p.buf) > p.off {
		n := copy(b, p.buf[p.off:])
		p.off += n
		p.mu.Unlock()
		p.st.c.refundConn(n)
		p.st.refund(n)
		return n, nil
	}
	err := p.err
	if f := p.onEOF; f != nil {
		p.onEOF = nil
		f()
	}
	p.mu.Unlock()
	return 0, err
}

func (p *pipe) Close() error {
	if n := p.closeRead(); n > 0 {
		p.st.c.refundConn(n)
	}
	return nil
}

// closeRead closes the body for the handler and returns the bytes it
// dropped unread.
func (p *pipe) closeRead() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.buf) - p.off
	p.closed = true
	p.needContinue = false
	p.buf, p.off = nil, 0
	p.cond.Broadcast()
	return n
}
