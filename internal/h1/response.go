package h1

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// bufferLimit is how much response body is held before the head goes out:
// a response whose body fits is written with one write and a
// Content-Length; a longer one streams (with the handler's Content-Length,
// chunked otherwise, or close-delimited for HTTP/1.0).
const bufferLimit = 8 << 10

var bodyBufs = sync.Pool{New: func() any { b := make([]byte, 0, bufferLimit); return &b }}

// outBufs hold a response head, and the body after it for the one write
// of a buffered response.
var outBufs = sync.Pool{New: func() any { b := make([]byte, 0, bufferLimit+2048); return &b }}

func getOut() *[]byte { return outBufs.Get().(*[]byte) }

func putOut(b *[]byte) {
	if cap(*b) > 4*bufferLimit {
		return
	}
	*b = (*b)[:0]
	outBufs.Put(b)
}

var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4<<10) }}

// response is the http.ResponseWriter of one request. It is reused for the
// connection's next request; like net/http's, it must not be used after the
// handler returns.
type response struct {
	c                *conn
	req              *http.Request
	body             *body // nil without a request body
	header           http.Header
	isHEAD           bool
	is11             bool
	wants10KeepAlive bool

	status      int
	wroteHeader bool // the final status is set (the head may not be sent yet)
	committed   bool // the head is written (streaming)
	handlerDone bool
	fullDuplex  bool
	closeAfter  bool
	chunking    bool

	contentLength int64 // declared by the handler, or -1
	written       int64 // body bytes the handler wrote

	// raw is a preformatted header block added with AddRawHeader,
	// written after the header map's fields.
	raw         []byte
	rawType     bool
	rawEncoding bool
	rawDate     bool

	// The head as of WriteHeader, without the headers the server decides.
	snap        []byte
	hasDate     bool
	hasType     bool
	hasEncoding bool
	te          string
	connection  []string
	trailers    bool
	declared    []string // keys declared in the Trailer header

	vec    net.Buffers // head and body of writeDirectBody, over vecArr
	vecArr [2][]byte
	buf    *[]byte       // buffered body (pooled)
	bw     *bufio.Writer // streaming (pooled)
	cw     chunkWriter
}

func (w *response) reset(c *conn, r *http.Request, b *body, ph *parsedHead) {
	snap, header := w.snap[:0], w.header
	*w = response{c: c, req: r, body: b, isHEAD: r.Method == http.MethodHead, is11: r.ProtoMinor >= 1,
		wants10KeepAlive: ph.wants10KeepAlive, contentLength: -1, snap: snap, header: header}
	w.cw.w = w
}

// AddRawHeader adds a preformatted block of header lines to the response
// head, to be written after the header map's fields, and reports whether
// it did: it does not after WriteHeader, or when a block was added
// already. Each line of lines is "Name: value\r\n" with a valid field
// name and a value without CR, LF or surrounding spaces (AppendHeader
// writes such lines); the block must not hold a field the server frames
// the response with (Content-Length, Transfer-Encoding, Connection,
// Trailer) or a trailer, nor a field also in the header map. hasType,
// hasEncoding and hasDate tell whether it holds Content-Type (then the
// body is not sniffed), a non-empty Content-Encoding, and Date (then the
// server's is not added). The block is written as given whatever the
// status (a 304's Content-Type included). The server keeps lines until the
// response is written: the caller must not change them.
//
// It is the fast path of a cache answering from a stored response: the
// stored fields are formatted once rather than copied into the header
// map and formatted for every response.
func (w *response) AddRawHeader(lines []byte, hasType, hasEncoding, hasDate bool) bool {
	if w.wroteHeader || w.raw != nil || w.c.hijacked() {
		return false
	}
	w.raw, w.rawType, w.rawEncoding, w.rawDate = lines, hasType, hasEncoding, hasDate
	return true
}

// AppendHeader appends "k: v\r\n" for each value of vv as the server
// writes header map fields: nothing for an invalid field name, values
// trimmed of spaces and tabs, CR and LF in them turned into spaces (as
// net/http's Header.Write). Its output is valid AddRawHeader lines.
func AppendHeader(b []byte, k string, vv []string) []byte { return appendHeader(b, k, vv) }

// Header returns the response header map.
func (w *response) Header() http.Header {
	if w.header == nil {
		w.header = make(http.Header, 8)
	}
	return w.header
}

// WriteHeader sends (1xx) or records (others) the status. Calls after the
// first final status are logged and ignored, as net/http does.
func (w *response) WriteHeader(code int) {
	if w.c.hijacked() {
		w.c.srv.logf("h1: WriteHeader on a hijacked connection")
		return
	}
	if w.wroteHeader {
		w.c.srv.logf("h1: superfluous WriteHeader call", "status", code)
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code < 101 || code > 199 {
		w.disableContinue()
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		w.writeInterim(code)
		return
	}
	w.wroteHeader = true
	w.status = code
	w.snapshot()
}

// writeInterim writes a 1xx response with the current header map now.
func (w *response) writeInterim(code int) {
	b := appendStatusLine(nil, w.is11, code)
	for k, vv := range w.header {
		switch k {
		case "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		}
		b = appendHeader(b, k, vv)
	}
	b = append(b, "\r\n"...)
	w.c.writeDirect(b)
}

// snapshot serializes the handler's header map as of WriteHeader, leaving
// out the headers the server sets itself when it writes the head.
func (w *response) snapshot() {
	b := w.snap[:0]
	for k, vv := range w.header {
		switch k {
		case "Content-Length":
			if len(vv) > 0 && vv[0] != "" {
				if v, err := strconv.ParseInt(trimOWS(vv[0]), 10, 64); err == nil && v >= 0 {
					w.contentLength = v
				} else {
					w.c.srv.logf("h1: invalid Content-Length", "value", vv[0])
				}
			}
			continue
		case "Transfer-Encoding":
			if len(vv) > 0 {
				w.te = vv[0]
			}
			continue
		case "Connection":
			w.connection = vv
			continue
		case "Date":
			w.hasDate = true
		case "Content-Type":
			w.hasType = true
			if w.status == http.StatusNotModified {
				continue
			}
		case "Content-Encoding":
			w.hasEncoding = len(vv) > 0 && vv[0] != ""
		case "Trailer":
			w.trailers = true
			for _, v := range vv {
				for _, k := range strings.Split(v, ",") {
					if k = trimOWS(k); k != "" {
						w.declared = append(w.declared, http.CanonicalHeaderKey(k))
					}
				}
			}
		}
		if strings.HasPrefix(k, http.TrailerPrefix) {
			w.trailers = true
			continue
		}
		b = appendHeader(b, k, vv)
	}
	if w.raw != nil {
		b = append(b, w.raw...)
		w.hasType = w.hasType || w.rawType
		w.hasEncoding = w.hasEncoding || w.rawEncoding
		w.hasDate = w.hasDate || w.rawDate
	}
	w.snap = b
}

// appendHeader appends "k: v\r\n" for each value, dropping an invalid name
// and turning CR and LF in values into spaces (as net/http's
// Header.Write).
func appendHeader(b []byte, k string, vv []string) []byte {
	if !httpguts.ValidHeaderFieldName(k) {
		return b
	}
	for _, v := range vv {
		b = append(b, k...)
		b = append(b, ": "...)
		start := len(b)
		b = append(b, trimOWS(v)...)
		for i := start; i < len(b); i++ {
			if b[i] == '\r' || b[i] == '\n' {
				b[i] = ' '
			}
		}
		b = append(b, "\r\n"...)
	}
	return b
}

// Write buffers p, or streams it once the buffer is full.
func (w *response) Write(p []byte) (int, error) {
	if w.c.hijacked() {
		return 0, http.ErrHijacked
	}
	if w.handlerDone {
		return 0, errors.New("h1: Write after the handler returned")
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !bodyAllowedForStatus(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.written += int64(len(p))
	if w.contentLength != -1 && w.written > w.contentLength {
		return 0, http.ErrContentLength
	}
	if w.committed {
		if w.isHEAD {
			return len(p), nil
		}
		return w.cw.Write(p)
	}
	if len(p) > bufferLimit && w.contentLength == int64(len(p)) && (w.buf == nil || len(*w.buf) == 0) &&
		!w.isHEAD && w.te == "" && !w.trailers {
		// The whole declared body in one call: head and body go out in
		// one writev, without copying the body through a buffer.
		return w.writeDirectBody(p)
	}
	if w.buf == nil {
		w.buf = bodyBufs.Get().(*[]byte)
	}
	if len(*w.buf)+len(p) <= bufferLimit {
		*w.buf = append(*w.buf, p...)
		return len(p), nil
	}
	if err := w.commit(); err != nil {
		return 0, err
	}
	if w.isHEAD {
		return len(p), nil
	}
	return w.cw.Write(p)
}

// copyBufs are ReadFrom's copy buffers.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// ReadFrom copies src to the response through a pooled buffer (io.Copy
// would allocate 32 KiB per call otherwise).
func (w *response) ReadFrom(src io.Reader) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	return io.CopyBuffer(writerOnly{w}, src, *bp)
}

// writerOnly hides ReadFrom from io.CopyBuffer.
type writerOnly struct{ io.Writer }

// WriteString is Write for strings (io.StringWriter).
func (w *response) WriteString(s string) (int, error) {
	return w.Write([]byte(s))
}

// commit writes the head and the buffered body to the streaming writer;
// later writes stream.
func (w *response) commit() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	var p []byte
	if w.buf != nil {
		p = *w.buf
	}
	out := getOut()
	head := w.head(*out, p, false)
	w.committed = true
	w.bw = writers.Get().(*bufio.Writer)
	w.bw.Reset(w.c.nc)
	w.c.wmu.Lock()
	_, err := w.bw.Write(head)
	if err != nil {
		w.c.werr = err
	}
	w.c.wmu.Unlock()
	*out = head
	putOut(out)
	if err == nil && len(p) > 0 && !w.isHEAD {
		_, err = w.cw.Write(p)
	}
	w.releaseBuf()
	return err
}

// writeDirectBody writes the head and p, the whole body of the declared
// Content-Length, with one writev (net.Buffers); the response is then
// committed without a streaming writer.
func (w *response) writeDirectBody(p []byte) (int, error) {
	out := getOut()
	head := w.head(*out, p, false)
	w.committed = true
	w.releaseBuf()
	// WriteTo consumes vec; its array is the response's (no allocation).
	w.vecArr = [2][]byte{head, p}
	w.vec = w.vecArr[:]
	w.c.wmu.Lock()
	n, err := w.vec.WriteTo(w.c.nc)
	w.vecArr, w.vec = [2][]byte{}, nil
	if err != nil {
		w.c.werr = err
	}
	w.c.wmu.Unlock()
	*out = head
	putOut(out)
	if err != nil {
		return int(max(n-int64(len(head)), 0)), err
	}
	return len(p), nil
}

func (w *response) releaseBuf() {
	if w.buf != nil {
		*w.buf = (*w.buf)[:0]
		bodyBufs.Put(w.buf)
		w.buf = nil
	}
}

// head builds the response head for the body bytes p (the buffered body;
// all of it when final), deciding framing, keep-alive, Content-Type and
// Date as net/http's chunkWriter.writeHeader does.
func (w *response) head(dst, p []byte, final bool) []byte {
	code := w.status
	bodyAllowed := bodyAllowedForStatus(code)
	hasTE := w.te != ""
	cl := w.contentLength
	if final && !w.trailers && !hasTE && bodyAllowed && cl == -1 && (!w.isHEAD || len(p) > 0) {
		cl = int64(len(p))
		w.contentLength = cl
	}
	keepAliveHeader := false
	if w.wants10KeepAlive && (w.isHEAD || cl != -1 || !bodyAllowed) {
		if w.connection == nil {
			keepAliveHeader = true
		}
	} else if !w.is11 || w.req.Close {
		w.closeAfter = true
	}
	if len(w.connection) > 0 && w.connection[0] == "close" || w.c.srv.shuttingDown() {
		w.closeAfter = true
	}
	if b := w.body; b != nil && !w.closeAfter && !w.fullDuplex {
		if !b.drain() {
			w.closeAfter = true
		}
	}
	b := appendStatusLine(dst[:0], w.is11, code)
	b = append(b, w.snap...)
	if bodyAllowed && !w.hasEncoding && !w.hasType && !hasTE && len(p) > 0 {
		b = append(b, "Content-Type: "...)
		b = append(b, http.DetectContentType(p)...)
		b = append(b, "\r\n"...)
	}
	if !w.hasDate {
		b = append(b, "Date: "...)
		b = appendDate(b)
		b = append(b, "\r\n"...)
	}
	if cl != -1 && hasTE && w.te != "identity" {
		w.c.srv.logf("h1: WriteHeader called with both Transfer-Encoding and Content-Length", "te", w.te)
		cl = -1
		w.contentLength = -1
	}
	switch {
	case w.isHEAD || !bodyAllowed || code == http.StatusNoContent:
		if w.isHEAD && cl != -1 && bodyAllowed && code != http.StatusNoContent {
			b = appendContentLength(b, cl)
		}
	case cl != -1:
		b = appendContentLength(b, cl)
	case w.is11:
		if w.te == "identity" {
			w.closeAfter = true
		} else {
			w.chunking = true
			b = append(b, "Transfer-Encoding: chunked\r\n"...)
		}
	default:
		w.closeAfter = true
	}
	switch {
	case w.closeAfter && !hasToken(w.connection, "close") && !isProtocolSwitch(code, w.header):
		if w.is11 {
			b = append(b, "Connection: close\r\n"...)
		}
	case keepAliveHeader:
		b = append(b, "Connection: keep-alive\r\n"...)
	case w.connection != nil:
		b = appendHeader(b, "Connection", w.connection)
	}
	return append(b, "\r\n"...)
}

// finish completes the response after the handler returned: the one write
// of a buffered response, or the end of a streamed one.
func (w *response) finish() {
	w.handlerDone = true
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		var p []byte
		if w.buf != nil {
			p = *w.buf
		}
		out := getOut()
		head := w.head(*out, p, true)
		var err error
		w.c.wmu.Lock()
		if w.chunking {
			// Trailers or Transfer-Encoding set by the handler: the
			// buffered body goes out as one chunk, then the end.
			if len(p) > 0 {
				head = strconv.AppendInt(head, int64(len(p)), 16)
				head = append(head, "\r\n"...)
				head = append(head, p...)
				head = append(head, "\r\n"...)
			}
			head = w.appendEnd(head)
			_, err = w.c.nc.Write(head)
		} else if len(p) == 0 || w.isHEAD || !bodyAllowedForStatus(w.status) {
			_, err = w.c.nc.Write(head)
		} else {
			head = append(head, p...)
			_, err = w.c.nc.Write(head)
		}
		if err != nil {
			w.c.werr = err
		}
		w.c.wmu.Unlock()
		*out = head
		putOut(out)
		w.releaseBuf()
	} else if w.bw != nil {
		if w.chunking {
			w.cw.close()
		}
		w.flushLocked()
		w.bw.Reset(nil)
		writers.Put(w.bw)
		w.bw = nil
	}
	if !w.isHEAD && w.contentLength != -1 && bodyAllowedForStatus(w.status) && w.contentLength != w.written {
		w.closeAfter = true
	}
	if b := w.body; b != nil && !w.closeAfter && !b.drain() {
		w.closeAfter = true
	}
}

func (w *response) flushLocked() error {
	w.c.wmu.Lock()
	defer w.c.wmu.Unlock()
	if w.bw == nil {
		// Written directly (writeDirectBody): nothing is buffered.
		return w.c.werr
	}
	err := w.bw.Flush()
	if err != nil {
		w.c.werr = err
	}
	return err
}

// Flush sends the head and what is buffered (http.Flusher).
func (w *response) Flush() { _ = w.FlushError() }

// FlushError is Flush returning the write error (for
// http.ResponseController).
func (w *response) FlushError() error {
	if w.c.hijacked() {
		return http.ErrHijacked
	}
	if !w.committed {
		if err := w.commit(); err != nil {
			return err
		}
	}
	return w.flushLocked()
}

// Hijack hands the connection over (http.Hijacker): the server stops
// tracking it and clears its deadlines. Buffered, unread request bytes are
// in the returned reader.
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.handlerDone {
		return nil, nil, errors.New("h1: Hijack after the handler returned")
	}
	if w.c.hijacked() {
		return nil, nil, http.ErrHijacked
	}
	if w.wroteHeader {
		if err := w.FlushError(); err != nil {
			return nil, nil, err
		}
	}
	return w.c.hijack()
}

// CloseConn closes the connection under the response at once. Unlike the
// other methods it may be called from any goroutine while the handler
// runs: a handler blocked writing to a client that stopped reading gets
// an error and returns (rampart's proxy uses it to end a stream when its
// zone stops being served). The server then closes the connection.
func (w *response) CloseConn() error { return w.c.nc.Close() }

// EnableFullDuplex lets the handler read the request body while it writes
// the response (http.ResponseController): the server then does not read
// the rest of the body when the response head goes out.
func (w *response) EnableFullDuplex() error {
	w.fullDuplex = true
	return nil
}

// SetReadDeadline sets the connection's read deadline
// (http.ResponseController).
func (w *response) SetReadDeadline(t time.Time) error {
	w.c.rdl = t
	return w.c.nc.SetReadDeadline(t)
}

// SetWriteDeadline sets the connection's write deadline
// (http.ResponseController).
func (w *response) SetWriteDeadline(t time.Time) error {
	w.c.wdl = t
	return w.c.nc.SetWriteDeadline(t)
}

// disableContinue stops the body from sending 100 Continue.
func (w *response) disableContinue() {
	if w.body != nil {
		w.body.mu.Lock()
		if w.body.cont != nil {
			w.body.cont = func() bool { return true }
		}
		w.body.mu.Unlock()
	}
}

// chunkWriter writes the streamed body to the response's bufio.Writer,
// chunked when the response is.
type chunkWriter struct{ w *response }

func (cw chunkWriter) Write(p []byte) (int, error) {
	w := cw.w
	w.c.wmu.Lock()
	defer w.c.wmu.Unlock()
	if !w.chunking {
		n, err := w.bw.Write(p)
		if err != nil {
			w.c.werr = err
		}
		return n, err
	}
	var hdr [20]byte
	h := strconv.AppendInt(hdr[:0], int64(len(p)), 16)
	h = append(h, '\r', '\n')
	w.bw.Write(h)
	w.bw.Write(p)
	_, err := w.bw.WriteString("\r\n")
	if err != nil {
		w.c.werr = err
		return 0, err
	}
	return len(p), nil
}

// close writes the last chunk and the trailers.
func (cw chunkWriter) close() {
	w := cw.w
	w.c.wmu.Lock()
	defer w.c.wmu.Unlock()
	w.bw.Write(w.appendEnd(nil))
}

// appendEnd appends the last chunk, the trailers and the final CRLF.
func (w *response) appendEnd(b []byte) []byte {
	b = append(b, "0\r\n"...)
	for k, vv := range w.header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			b = appendHeader(b, k[len(http.TrailerPrefix):], vv)
		}
	}
	for _, k := range w.declared {
		if vv := w.header[k]; len(vv) > 0 {
			b = appendHeader(b, k, vv)
		}
	}
	return append(b, "\r\n"...)
}

func bodyAllowedForStatus(status int) bool {
	switch {
	case status >= 100 && status <= 199:
		return false
	case status == 204:
		return false
	case status == 304:
		return false
	}
	return true
}

func isProtocolSwitch(code int, h http.Header) bool {
	return code == http.StatusSwitchingProtocols && len(h["Upgrade"]) > 0
}

func hasToken(vv []string, token string) bool {
	return httpguts.HeaderValuesContainsToken(vv, token)
}

func appendContentLength(b []byte, n int64) []byte {
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, n, 10)
	return append(b, "\r\n"...)
}

var statusLines [2][600]string

func init() {
	for i, proto := range []string{"HTTP/1.0 ", "HTTP/1.1 "} {
		for code := 100; code < 600; code++ {
			if text := http.StatusText(code); text != "" {
				statusLines[i][code] = proto + strconv.Itoa(code) + " " + text + "\r\n"
			}
		}
	}
}

func appendStatusLine(b []byte, is11 bool, code int) []byte {
	i := 0
	if is11 {
		i = 1
	}
	if code < 600 {
		if s := statusLines[i][code]; s != "" {
			return append(b, s...)
		}
	}
	if is11 {
		b = append(b, "HTTP/1.1 "...)
	} else {
		b = append(b, "HTTP/1.0 "...)
	}
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, " status code "...)
	b = strconv.AppendInt(b, int64(code), 10)
	return append(b, "\r\n"...)
}

// The Date header value, formatted once per second.
type dateValue struct {
	sec int64
	b   []byte
}

var cachedDate atomic.Pointer[dateValue]

func appendDate(b []byte) []byte {
	now := time.Now()
	sec := now.Unix()
	d := cachedDate.Load()
	if d == nil || d.sec != sec {
		d = &dateValue{sec: sec, b: now.UTC().AppendFormat(nil, http.TimeFormat)}
		cachedDate.Store(d)
	}
	return append(b, d.b...)
}
