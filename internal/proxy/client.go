package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"strconv"
	"sync"
	"time"

	"github.com/rampart-edge/rampart/internal/ascii"
	"github.com/rampart-edge/rampart/internal/deadline"
	"github.com/rampart-edge/rampart/internal/reqctx"
)

// The lean HTTP/1.1 origin client. One request is one goroutine: the head is
// written with one buffered write, the response head is parsed from a
// pooled connection's bufio.Reader straight into the client's header map,
// and the body is copied with pooled buffers. This avoids http.Transport's
// hand-offs between its readLoop and writeLoop goroutines and most of its
// per-request allocations.

const (
	readBufSize    = 8 << 10
	writeBufSize   = 4 << 10
	copyBufSize    = 32 << 10
	maxHeaderBytes = 256 << 10
	maxHeaderLines = 512
)

// copyBufs holds the buffers used to copy bodies.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// bufferPool lends copyBufs to httputil.ReverseProxy.
type bufferPool struct{}

func (bufferPool) Get() []byte  { return *copyBufs.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { copyBufs.Put(&b) }

// aLongTimeAgo is a deadline in the past, to interrupt blocked I/O.
var aLongTimeAgo = time.Unix(1, 0)

// errStatusLine and friends describe malformed origin responses.
var (
	errStatusLine     = errors.New("malformed status line")
	errHeaderLine     = errors.New("malformed header line")
	errHeaderTooLarge = errors.New("response header too large")
	errContentLength  = errors.New("invalid Content-Length")
)

// respMeta is what the proxy needs to know about a response head.
type respMeta struct {
	status        int
	contentLength int64 // -1 when unknown
	chunked       bool
	close         bool // the connection cannot be reused after the body
	keepAlive     bool // HTTP/1.0 "Connection: keep-alive"
	http10        bool
	connTokens    []string // Connection header values, for hop-by-hop removal
	eventStream   bool
}

// dial opens a new connection to o.
func (p *Proxy) dial(ctx context.Context, o *origin) (*originConn, error) {
	nc, err := p.dialNet(ctx, "tcp", o.addr)
	if err != nil {
		return nil, err
	}
	c := &originConn{nc: nc}
	c.initWait() // connbuf.go: the buffers are taken per request
	return c, nil
}

// serveLean proxies r to the plain-HTTP origin o. A request body (body)
// is streamed to the origin by a second goroutine while this one waits for
// the response, so an origin may answer before the upload ends.
func (p *Proxy) serveLean(o *origin, w http.ResponseWriter, r *http.Request, info *reqctx.Info, idempotent bool, body *trackedBody) *Error {
	ctx := r.Context()
	var (
		c  *originConn
		m  respMeta
		bw *bodyWriter
	)
	h := w.Header()
	for {
		c = o.getIdle()
		if c == nil {
			var err error
			if c, err = p.dial(ctx, o); err != nil {
				if ctx.Err() != nil {
					return clientErr("dialing origin", err)
				}
				return originErr("dialing", o.raw, err, true)
			}
		}
		// The response-header timeout; with a body it starts once the body
		// is sent. A pooled connection may still carry an old deadline.
		if body == nil {
			c.setHeaderDeadline(p.timeouts.ResponseHeader)
		} else if c.reused {
			c.clearDeadline()
		}
		if c.reused && (c.buffered() > 0 || ((!idempotent || body != nil) && !connAlive(c))) {
			// Unsolicited bytes or a closed peer: not reusable.
			c.nc.Close()
			continue
		}
		if p.waits.add(c, ctx, p.started.Load()) {
			p.sched.watch(p)
		}
		err := p.writeHead(c, o, r, info, body)
		got := false
		if err == nil {
			if body != nil {
				bw = startBodyWriter(c, body, r.ContentLength, p.timeouts.ResponseHeader)
			}
			m, got, err = readHead(c.reader(), h, r.Method == http.MethodHead, &c.last)
			if bw != nil {
				bw.headRead()
			}
		}
		canceled := p.waits.remove(c)
		if err == nil && !canceled {
			if body == nil && (m.contentLength < 0 || int64(c.br.Buffered()) < m.contentLength) {
				// The body needs more reads, which may take long. (A body
				// already buffered leaves the deadline for the next request
				// to reuse or replace, saving a timer update.)
				c.clearDeadline()
			} else if body != nil {
				// The body writer and headRead set and cleared the
				// deadline: it is cleared now.
				c.headerDeadline = time.Time{}
			}
			break
		}
		// On cancellation the connection's deadline was moved to the past:
		// it must never go back to the pool.
		c.nc.Close()
		c.releaseReader()
		if canceled || ctx.Err() != nil {
			// net/http cancels the request when reading its body fails
			// (timeouts.read): report the body's failure, not the wait.
			// Its writer ends at once: the origin connection is closed.
			if bw != nil {
				select {
				case <-bw.done:
				case <-time.After(time.Second):
				}
				if client, berr := bw.clientFailure(); client {
					return clientErr("reading request body", berr)
				}
			}
			if err == nil {
				err = ctx.Err()
			}
			return clientErr("waiting for origin", err)
		}
		if bw != nil {
			if client, berr := bw.clientFailure(); client {
				return clientErr("reading request body", berr)
			}
		}
		// Once a body writer has started it may still read the body, so
		// the request cannot be sent again.
		if c.reused && !got && idempotent && !isTimeout(err) && bw == nil {
			// A pooled connection the origin had closed: try the next
			// one (or a new one); nothing reached the origin's handler.
			continue
		}
		if isTimeout(err) {
			return originErr("waiting for response from", o.raw, err, false)
		}
		return originErr("reading response from", o.raw, err, !got && bw == nil)
	}

	for _, t := range m.connTokens {
		for t != "" {
			var tok string
			tok, t, _ = cutComma(t)
			if tok != "" && !ascii.EqualFold(tok, "close") && !ascii.EqualFold(tok, "keep-alive") {
				h.Del(tok)
			}
		}
	}
	// A body that is not in the buffer already may stream for long (SSE,
	// slow downloads): register it, so that a decision stopping the zone
	// ends it (exchange.go).
	streaming := m.contentLength < 0 || int64(c.br.Buffered()) < m.contentLength
	if streaming {
		c.cw = w
		if !p.exchanges.Add(&c.x, c) {
			c.cw = nil
			c.nc.Close()
			return cutErr(false)
		}
	}
	w.WriteHeader(m.status)
	reusable, perr := copyBody(w, c, &m, o.raw)
	if streaming {
		p.exchanges.Remove(&c.x)
		c.cw = nil
		if c.x.Ended() {
			reusable = false
			if perr != nil && perr.Source == SourceOrigin {
				perr = cutErr(true)
			}
		}
	}
	if bw != nil && !bw.finished() {
		// The origin answered before the whole request body was sent: the
		// connection is out of sync. Closing it stops the writer.
		reusable = false
	}
	if perr != nil || !reusable || p.closed() {
		c.nc.Close()
		c.releaseReader()
	} else {
		c.releaseReader() // empty: copyBody found nothing more buffered
		o.putIdle(c)
	}
	return perr
}

// headerDeadlineSlack returns how much later than the response-header
// timeout d a wait on a reused connection may end (deadline.Slack): it
// lets consecutive requests on one connection share one read deadline.
func headerDeadlineSlack(d time.Duration) time.Duration { return deadline.Slack(d) }

// setHeaderDeadline makes sure that a read on c fails no earlier than d from
// now and no later than d plus headerDeadlineSlack(d) (deadline.Renew).
func (c *originConn) setHeaderDeadline(d time.Duration) {
	deadline.Renew(&c.headerDeadline, time.Now(), d, c.nc.SetReadDeadline)
}

// clearDeadline removes c's read deadline.
func (c *originConn) clearDeadline() {
	c.headerDeadline = time.Time{}
	c.nc.SetReadDeadline(time.Time{})
}

// writeHead writes the request head for r to c and flushes it.
func (p *Proxy) writeHead(c *originConn, o *origin, r *http.Request, info *reqctx.Info, body *trackedBody) error {
	bw := c.writer() // connbuf.go
	bw.WriteString(r.Method)
	bw.WriteByte(' ')
	// The request-target is the one every rule matched on: the edge's
	// normalised path (package reqpath) in r.RequestURI, with the query
	// as the client sent it.
	switch {
	case o.prefix != "":
		bw.WriteString(o.prefix)
		uri := r.RequestURI
		if uri == "" || uri[0] != '/' {
			uri = r.URL.RequestURI()
		}
		if uri != "*" {
			bw.WriteString(uri)
		}
	case r.RequestURI != "" && r.RequestURI[0] == '/':
		bw.WriteString(r.RequestURI)
	default:
		bw.WriteString(r.URL.RequestURI())
	}
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	// The host the edge decided on (reqctx.Info.Host), never the
	// client's raw Host.
	host := o.host
	if h := forwardHost(r, info); p.preserveHost && h != "" {
		host = h
	}
	bw.WriteString(host)
	bw.WriteString("\r\n")
	conn := r.Header["Connection"]
	sendLength := r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch
	trusted := info != nil && info.PeerTrusted
	for k, vv := range r.Header {
		skip, listed := requestSkip[k]
		if !listed && isUnderscoreAlias(k) {
			continue
		}
		if listed && (skip != skipUntrusted || !trusted) {
			switch skip {
			case skipTE:
				for _, v := range vv {
					if connectionListed([]string{v}, "trailers") {
						bw.WriteString("Te: trailers\r\n")
						break
					}
				}
			case skipLength:
				sendLength = true
			}
			continue
		}
		if len(conn) > 0 && connectionListed(conn, k) {
			continue
		}
		for _, v := range vv {
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	switch {
	case body != nil && r.ContentLength > 0:
		b := append(bw.AvailableBuffer(), "Content-Length: "...)
		b = strconv.AppendInt(b, r.ContentLength, 10)
		b = append(b, "\r\n"...)
		bw.Write(b)
	case body != nil:
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	case sendLength:
		bw.WriteString("Content-Length: 0\r\n")
	}
	b := appendForwarding(bw.AvailableBuffer(), r, info)
	b = append(b, "\r\n"...)
	bw.Write(b)
	if body != nil {
		return nil // flushed with the first body bytes
	}
	err := bw.Flush()
	c.releaseWriter()
	return err
}

// bodyWriter streams a request body to the origin on its own goroutine.
type bodyWriter struct {
	c      *originConn
	done   chan struct{}
	err    error
	client bool // err came from reading the client's body

	mu       sync.Mutex
	headDone bool
}

// startBodyWriter starts copying body (length n, -1 for chunked) to c. Once
// the body is sent, the response-header timeout rh starts.
func startBodyWriter(c *originConn, body *trackedBody, n int64, rh time.Duration) *bodyWriter {
	bw := &bodyWriter{c: c, done: make(chan struct{})}
	go func() {
		defer close(bw.done)
		bw.client, bw.err = writeBody(c.bw, body, n)
		if bw.err == nil {
			bw.err = c.bw.Flush()
		}
		c.releaseWriter()
		bw.mu.Lock()
		switch {
		case bw.headDone:
		case bw.err == nil:
			c.nc.SetReadDeadline(time.Now().Add(rh))
		case bw.client:
			// The client's upload failed: stop waiting for the origin.
			c.nc.SetReadDeadline(aLongTimeAgo)
		}
		bw.mu.Unlock()
	}()
	return bw
}

// headRead records that the response head arrived and clears the
// response-header deadline.
func (bw *bodyWriter) headRead() {
	bw.mu.Lock()
	bw.headDone = true
	bw.c.nc.SetReadDeadline(time.Time{})
	bw.mu.Unlock()
}

// finished reports whether the whole body was sent without error.
func (bw *bodyWriter) finished() bool {
	select {
	case <-bw.done:
		return bw.err == nil
	default:
		return false
	}
}

// clientFailure returns the writer's error if it has ended because
// reading the client's body failed.
func (bw *bodyWriter) clientFailure() (bool, error) {
	select {
	case <-bw.done:
		return bw.err != nil && bw.client, bw.err
	default:
		return false, nil
	}
}

// writeBody copies body to w with Content-Length framing (n >= 0) or chunked
// (n < 0). It reports whether an error came from the client's body.
func writeBody(w *bufio.Writer, body io.Reader, n int64) (clientSide bool, err error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var sent int64
	for {
		k, rerr := body.Read(buf)
		if k > 0 {
			if n >= 0 && sent+int64(k) > n {
				return true, fmt.Errorf("request body longer than its Content-Length %d", n)
			}
			if n < 0 {
				w.WriteString(strconv.FormatInt(int64(k), 16))
				w.WriteString("\r\n")
			}
			w.Write(buf[:k])
			if n < 0 {
				w.WriteString("\r\n")
			}
			sent += int64(k)
			if err := w.Flush(); err != nil {
				return false, err
			}
		}
		if rerr == io.EOF {
			if n >= 0 && sent != n {
				return true, fmt.Errorf("request body of %d bytes, want its Content-Length %d: %w", sent, n, io.ErrUnexpectedEOF)
			}
			if n < 0 {
				w.WriteString("0\r\n\r\n")
			}
			return false, nil
		}
		if rerr != nil {
			return true, rerr
		}
	}
}

const (
	skipDrop = iota
	skipTE
	skipLength
	skipUntrusted // a client-IP header: passed on from trusted peers only
)

// requestSkip lists the request headers not copied as they are.
var requestSkip = func() map[string]int {
	m := map[string]int{"Expect": skipDrop, "Content-Length": skipLength, "Host": skipDrop}
	for k := range hopHeaders {
		m[k] = skipDrop
	}
	for k := range forwardingHeaders {
		m[k] = skipDrop
	}
	for k := range clientIPHeaders {
		m[k] = skipUntrusted
	}
	m[realIPHeader] = skipDrop // written by appendForwarding
	m["Te"] = skipTE
	return m
}()

// readHead reads a response head from br into h, skipping 1xx interim
// responses. h is changed only when the whole head is valid. It reports
// whether any byte was received. last, if not nil, holds the values of
// the connection's previous response head: a head with the same fields
// and values (a static file's, within the Date's second) shares them.
func readHead(br *bufio.Reader, h http.Header, isHead bool, last *headValues) (m respMeta, got bool, err error) {
	total := 0
	// The values of all headers are gathered in one buffer and become one
	// string, so a response head costs two allocations plus its keys
	// (none for common names), or none when last matches.
	var (
		pendArr [32]pendingHeader
		pend    = pendArr[:0]
		vbufArr [1024]byte
		vbuf    = vbufArr[:0]
	)
	for {
		m = respMeta{contentLength: -1}
		pend, vbuf = pend[:0], vbuf[:0]
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			got = true
		}
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				err = errStatusLine
			} else if err == io.EOF && got {
				err = io.ErrUnexpectedEOF
			}
			return m, got, err
		}
		if err := parseStatusLine(line, &m); err != nil {
			return m, got, err
		}
		interim := m.status >= 100 && m.status < 200
		if m.status == http.StatusSwitchingProtocols {
			return m, got, fmt.Errorf("unexpected 101 Switching Protocols")
		}
		for n := 0; ; n++ {
			line, err = br.ReadSlice('\n')
			total += len(line)
			if err != nil {
				if errors.Is(err, bufio.ErrBufferFull) {
					err = errHeaderTooLarge
				} else if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return m, got, err
			}
			if total > maxHeaderBytes || n > maxHeaderLines {
				return m, got, errHeaderTooLarge
			}
			line = trimEOL(line)
			if len(line) == 0 {
				break
			}
			if interim {
				continue
			}
			key, value, err := splitHeader(line)
			if err != nil {
				return m, got, err
			}
			k, keep, err := m.classify(key, value)
			if err != nil {
				return m, got, err
			}
			if keep {
				pend = append(pend, pendingHeader{key: k, start: len(vbuf), end: len(vbuf) + len(value)})
				vbuf = append(vbuf, value...)
			}
		}
		if !interim {
			break
		}
	}
	if m.chunked {
		m.contentLength = -1
	}
	if len(pend) > 0 {
		vals := last.match(pend, vbuf)
		if vals == nil {
			all := string(vbuf)
			vals = make([]string, len(pend))
			for i, ph := range pend {
				vals[i] = all[ph.start:ph.end]
			}
			last.store(pend, vbuf, vals)
		}
		for i, ph := range pend {
			if m.chunked && ph.key == "Content-Length" {
				continue
			}
			if vv, ok := h[ph.key]; ok {
				h[ph.key] = append(vv, vals[i])
			} else {
				h[ph.key] = vals[i : i+1 : i+1]
			}
		}
	}
	if isHead || m.status == http.StatusNoContent || m.status == http.StatusNotModified {
		m.contentLength = 0
		m.chunked = false
	}
	if m.http10 && !m.keepAlive {
		m.close = true
	}
	if m.contentLength < 0 && !m.chunked {
		m.close = true // delimited by the end of the connection
	}
	return m, got, nil
}

// headValues is a response head's fields and values as readHead gathered
// them, and the value strings it made of them. The strings and the slices
// of vals put in header maps are shared by every response with the same
// head: header value slices are never modified in place (http.Header's
// methods replace them; readHead's have no spare capacity).
type headValues struct {
	pend []pendingHeader
	raw  []byte
	vals []string
}

// maxSharedHead bounds the values kept in a headValues.
const maxSharedHead = 2 << 10

// match returns the value strings of a head with fields pend and values
// raw when they are the ones last stored, nil otherwise.
func (hv *headValues) match(pend []pendingHeader, raw []byte) []string {
	if hv == nil || len(hv.vals) != len(pend) || !bytes.Equal(hv.raw, raw) {
		return nil
	}
	for i := range pend {
		if pend[i] != hv.pend[i] {
			return nil
		}
	}
	return hv.vals
}

// store remembers vals as the value strings of the head pend, raw.
func (hv *headValues) store(pend []pendingHeader, raw []byte, vals []string) {
	if hv == nil {
		return
	}
	if len(raw) > maxSharedHead || len(pend) > 64 {
		*hv = headValues{}
		return
	}
	hv.pend = append(hv.pend[:0], pend...)
	hv.raw = append(hv.raw[:0], raw...)
	hv.vals = vals
}

// pendingHeader is a parsed header waiting for the head to be complete.
type pendingHeader struct {
	key        string
	start, end int
}

// parseStatusLine parses "HTTP/1.x SSS reason".
func parseStatusLine(line []byte, m *respMeta) error {
	line = trimEOL(line)
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return fmt.Errorf("%w: %q", errStatusLine, truncate(line))
	}
	switch line[7] {
	case '0':
		m.http10 = true
	case '1':
	default:
		return fmt.Errorf("%w: %q", errStatusLine, truncate(line))
	}
	s := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: %q", errStatusLine, truncate(line))
		}
		s = s*10 + int(c-'0')
	}
	if s < 100 {
		return fmt.Errorf("%w: %q", errStatusLine, truncate(line))
	}
	m.status = s
	return nil
}

// classify returns the canonical name of a response header and whether it
// is passed to the client (not hop-by-hop or framing), recording what the
// proxy needs in m.
func (m *respMeta) classify(key, value []byte) (string, bool, error) {
	k, ok := commonKeys[string(key)]
	if !ok {
		k = http.CanonicalHeaderKey(string(key))
	}
	switch k {
	case "Content-Length":
		n, err := parseLength(value)
		if err != nil || (m.contentLength >= 0 && n != m.contentLength) {
			return k, false, fmt.Errorf("%w: %q", errContentLength, value)
		}
		m.contentLength = n
	case "Transfer-Encoding":
		// The final coding decides; anything but chunked is read to EOF.
		m.chunked = lastToken(string(value)) == "chunked"
		if !m.chunked {
			m.close = true
		}
		return k, false, nil
	case "Connection":
		switch {
		case equalFoldBytes(value, "keep-alive"):
			m.keepAlive = true
		case equalFoldBytes(value, "close"):
			m.close = true
		default:
			v := string(value)
			m.connTokens = append(m.connTokens, v)
			m.close = m.close || connectionListed([]string{v}, "close")
			m.keepAlive = m.keepAlive || connectionListed([]string{v}, "keep-alive")
		}
		return k, false, nil
	case "Content-Type":
		if len(value) >= 17 && equalFoldBytes(value[:17], "text/event-stream") {
			m.eventStream = true
		}
	case "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Upgrade":
		return k, false, nil
	}
	return k, true, nil
}

// equalFoldBytes is ASCII case-insensitive equality of b and s.
func equalFoldBytes(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// copyBody copies the response body from c to w. It reports whether c can
// be reused for another request.
func copyBody(w http.ResponseWriter, c *originConn, m *respMeta, origin string) (bool, *Error) {
	br := c.br
	flush := m.eventStream || m.contentLength < 0
	var flusher func() error
	if flush {
		if f, ok := w.(http.Flusher); ok {
			flusher = func() error { f.Flush(); return nil }
		} else {
			flusher = http.NewResponseController(w).Flush
		}
	}
	if m.contentLength >= 0 {
		remaining := m.contentLength
		// Small bodies are usually already buffered: write them in place.
		if n := int64(br.Buffered()); remaining > 0 && n >= remaining {
			b, _ := br.Peek(int(remaining))
			_, err := w.Write(b)
			br.Discard(int(remaining))
			if err != nil {
				return false, clientErr("writing response body", err)
			}
			if flush {
				flusher()
			}
			return !m.close && br.Buffered() == 0, nil
		}
		if remaining == 0 {
			if flush {
				flusher()
			}
			return !m.close && br.Buffered() == 0, nil
		}
		return copyStream(w, io.LimitReader(br, remaining), br, flusher, remaining, m, origin)
	}
	var src io.Reader = br
	if m.chunked {
		src = httputil.NewChunkedReader(br)
	}
	ok, perr := copyStream(w, src, br, flusher, -1, m, origin)
	if perr != nil || !m.chunked {
		return ok, perr
	}
	if err := readTrailers(br, w.Header()); err != nil {
		return false, &Error{Source: SourceOrigin, Op: "reading trailers from", Origin: origin, Err: err, answered: true}
	}
	return !m.close && br.Buffered() == 0, nil
}

// copyStream copies src to w with a pooled buffer, flushing after each read
// when flusher is set. want is the expected length (-1 when delimited by
// src's EOF).
func copyStream(w http.ResponseWriter, src io.Reader, br *bufio.Reader, flusher func() error, want int64, m *respMeta, origin string) (bool, *Error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var done int64
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return false, clientErr("writing response body", werr)
			}
			done += int64(n)
			// Streaming responses are flushed after every read, as
			// httputil does with FlushInterval -1: a chunk's data must
			// not wait for the next chunk's header.
			if flusher != nil {
				if ferr := flusher(); ferr != nil {
					return false, clientErr("flushing response body", ferr)
				}
			}
		}
		if err == io.EOF {
			if want >= 0 && done < want {
				err = io.ErrUnexpectedEOF
			} else {
				if flusher != nil {
					flusher()
				}
				return !m.close && (m.chunked || want >= 0) && br.Buffered() == 0, nil
			}
		}
		if err != nil {
			return false, &Error{Source: SourceOrigin, Op: "reading response body from", Origin: origin, Err: err, answered: true}
		}
	}
}

// readTrailers reads the trailer section after a chunked body into h as
// http.TrailerPrefix keys, which net/http sends as trailers.
func readTrailers(br *bufio.Reader, h http.Header) error {
	for n := 0; ; n++ {
		line, err := br.ReadSlice('\n')
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if n > maxHeaderLines {
			return errHeaderTooLarge
		}
		line = trimEOL(line)
		if len(line) == 0 {
			return nil
		}
		key, value, err := splitHeader(line)
		if err != nil {
			return err
		}
		k := http.CanonicalHeaderKey(string(key))
		if hopHeaders[k] || k == "Content-Length" {
			continue
		}
		h[http.TrailerPrefix+k] = append(h[http.TrailerPrefix+k], string(value))
	}
}

// splitHeader splits "Key: value" and validates both parts.
func splitHeader(line []byte) ([]byte, []byte, error) {
	if line[0] == ' ' || line[0] == '\t' {
		return nil, nil, fmt.Errorf("%w (obsolete line folding): %q", errHeaderLine, truncate(line))
	}
	i := 0
	for i < len(line) && line[i] != ':' {
		if !isTokenChar(line[i]) {
			return nil, nil, fmt.Errorf("%w: %q", errHeaderLine, truncate(line))
		}
		i++
	}
	if i == 0 || i == len(line) {
		return nil, nil, fmt.Errorf("%w: %q", errHeaderLine, truncate(line))
	}
	v := line[i+1:]
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	for _, c := range v {
		if c == '\r' || c == 0 || c == '\n' {
			return nil, nil, fmt.Errorf("%w: %q", errHeaderLine, truncate(line))
		}
	}
	return line[:i], v, nil
}

// trimEOL removes a trailing LF or CRLF.
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// parseLength parses a Content-Length value.
func parseLength(s []byte) (int64, error) {
	if len(s) == 0 || len(s) > 18 {
		return 0, errContentLength
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errContentLength
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, nil
}

// lastToken returns the last comma-separated token of s, lower-cased.
func lastToken(s string) string {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ',' {
			s = s[i+1:]
			break
		}
	}
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	if ascii.EqualFold(s, "chunked") {
		return "chunked"
	}
	return s
}

// cutComma returns the trimmed token before the first comma and the rest.
func cutComma(s string) (string, string, bool) {
	tok, rest, found := s, "", false
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			tok, rest, found = s[:i], s[i+1:], true
			break
		}
	}
	for len(tok) > 0 && (tok[0] == ' ' || tok[0] == '\t') {
		tok = tok[1:]
	}
	for len(tok) > 0 && (tok[len(tok)-1] == ' ' || tok[len(tok)-1] == '\t') {
		tok = tok[:len(tok)-1]
	}
	return tok, rest, found
}

// isTokenChar reports whether c is an RFC 9110 tchar.
func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// truncate shortens b for error messages.
func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// commonKeys interns the canonical names of common response headers, so
// parsing them allocates nothing.
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Accept-Ranges", "Age", "Cache-Control", "Connection", "Content-Disposition",
		"Content-Encoding", "Content-Language", "Content-Length", "Content-Location",
		"Content-Range", "Content-Security-Policy", "Content-Type", "Date", "Etag",
		"Expires", "Keep-Alive", "Last-Modified", "Link", "Location", "Pragma",
		"Proxy-Authenticate", "Proxy-Connection", "Referrer-Policy", "Retry-After", "Server", "Set-Cookie",
		"Strict-Transport-Security", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
		"Vary", "Via", "Www-Authenticate", "X-Content-Type-Options", "X-Frame-Options",
		"X-Powered-By", "X-Request-Id", "Alt-Svc", "Access-Control-Allow-Origin",
		"Access-Control-Allow-Credentials", "Access-Control-Allow-Headers",
		"Access-Control-Allow-Methods", "Access-Control-Expose-Headers", "Cross-Origin-Opener-Policy",
		"Cross-Origin-Resource-Policy", "Permissions-Policy", "Report-To", "Nel", "X-Xss-Protection",
		"X-Cache", "Cf-Cache-Status", "Surrogate-Key", "Cache-Tag",
	} {
		m[k] = k
		m[lower(k)] = k
	}
	m["ETag"] = "Etag"
	m["WWW-Authenticate"] = "Www-Authenticate"
	return m
}()

// lower returns s in ASCII lower case.
func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
