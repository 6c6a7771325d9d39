package h2

import (
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// bufferLimit is the response body buffered before the first DATA frame:
// a response shorter than this is one HEADERS and one DATA frame, with
// its Content-Length.
const bufferLimit = 8 << 10

var bodyBufs = sync.Pool{New: func() any { b := make([]byte, 0, bufferLimit); return &b }}

var headerMaps = sync.Pool{New: func() any { return make(http.Header, 16) }}

var fieldSlices = sync.Pool{New: func() any { f := make([]hpack.HeaderField, 0, 16); return &f }}

// response is a stream's http.ResponseWriter.
type response struct {
	st          *stream
	header      http.Header
	fields      *[]hpack.HeaderField // the header as of WriteHeader
	status      int
	wroteHeader bool // the final status is set
	sentHeader  bool // its HEADERS frame is written
	sentEnd     bool // END_STREAM is written
	head        bool // a HEAD request: the body is not sent
	// The header map had these keys at WriteHeader (even with no
	// value: a nil value suppresses sniffing and the Date, as net/http).
	hasType, hasEncoding, hasDate bool
	handlerDone                   bool
	buf                           *[]byte
	clen                          int64 // the handler's Content-Length, -1 none
	written                       int64 // body bytes written by the handler
	trailers                      []string
	err                           error // the first write error: every later write fails
}

func (w *response) Header() http.Header {
	if w.header == nil {
		w.header = headerMaps.Get().(http.Header)
	}
	return w.header
}

func (w *response) WriteHeader(code int) {
	if w.wroteHeader || w.handlerDone {
		return
	}
	if code < 100 || code > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code < 200 {
		w.writeInterim(code)
		return
	}
	w.wroteHeader = true
	w.status = code
	w.snapshot()
}

// snapshot records the header fields to send as the handler's map holds
// them now: later changes to the map only count as trailers.
func (w *response) snapshot() {
	fp := fieldSlices.Get().(*[]hpack.HeaderField)
	fs := (*fp)[:0]
	w.clen = -1
	w.hasType, w.hasEncoding, w.hasDate = false, false, false
	for k, vv := range w.header {
		switch k {
		case "Content-Length":
			if len(vv) > 0 {
				if cl, err := strconv.ParseUint(vv[0], 10, 63); err == nil {
					w.clen = int64(cl)
				}
			}
			continue
		case "Trailer":
			for _, v := range vv {
				for _, t := range strings.Split(v, ",") {
					w.declareTrailer(textproto.CanonicalMIMEHeaderKey(textproto.TrimString(t)))
				}
			}
		case "Content-Type":
			w.hasType = true
		case "Content-Encoding":
			w.hasEncoding = len(vv) > 0 && vv[0] != ""
		case "Date":
			w.hasDate = true
		case "Connection":
			if len(vv) > 0 && vv[0] == "close" {
				go w.st.c.startGoAway(http2.ErrCodeNo)
			}
			continue
		case "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade":
			continue
		}
		if strings.HasPrefix(k, http.TrailerPrefix) {
			continue
		}
		fs = appendFields(fs, k, vv)
	}
	*fp = fs
	w.fields = fp
}

// appendFields appends the field k with values vv in HTTP/2's form,
// without values that are not valid field values; nothing for a name that
// is not a valid field name.
func appendFields(fs []hpack.HeaderField, k string, vv []string) []hpack.HeaderField {
	name, ok := lowerKey(k)
	if !ok {
		return fs
	}
	for _, v := range vv {
		if httpguts.ValidHeaderFieldValue(v) {
			fs = append(fs, hpack.HeaderField{Name: name, Value: v})
		}
	}
	return fs
}

func (w *response) declareTrailer(k string) {
	if !httpguts.ValidTrailerHeader(k) {
		return
	}
	for _, t := range w.trailers {
		if t == k {
			return
		}
	}
	w.trailers = append(w.trailers, k)
}

// writeInterim sends a 1xx response at once, with the header as it is.
func (w *response) writeInterim(code int) {
	fs := make([]hpack.HeaderField, 0, len(w.header))
	for k, vv := range w.header {
		if k != "Content-Length" && k != "Transfer-Encoding" {
			fs = appendFields(fs, k, vv)
		}
	}
	w.writeFrames(&frames{headers: true, status: code, fields: fs})
}

// writeContinue sends "100 Continue" for a request that expects it,
// unless the final response's HEADERS is out. It may run on a goroutine
// other than the handler's (one that reads the body while the handler
// waits), so it touches none of the writer's state: the write lock
// orders it with the final HEADERS.
func (w *response) writeContinue() {
	st := w.st
	c := st.c
	st.inWrite.Store(true)
	defer st.inWrite.Store(false)
	c.writers.Add(1)
	c.wmu.Lock()
	if c.werr == nil && !st.finalSent.Load() && !st.resetSent.Load() && !st.closed.Load() {
		c.drainCtrlLocked()
		c.writeHeadersLocked(st.id, 100, nil, nil, false)
	}
	if c.writers.Add(-1) == 0 {
		c.flushLocked()
	}
	c.wmu.Unlock()
	c.kick()
}

func (w *response) Write(p []byte) (int, error) { return w.write(p, "") }

func (w *response) WriteString(s string) (int, error) { return w.write(nil, s) }

func (w *response) write(p []byte, s string) (int, error) {
	if w.handlerDone {
		return 0, errClientDisconnected
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n := len(p) + len(s)
	if n == 0 {
		return 0, nil
	}
	if !bodyAllowedForStatus(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.clen >= 0 && w.written+int64(n) > w.clen {
		// What fits the declared length is sent; the rest refused.
		allowed := int(w.clen - w.written)
		if allowed > 0 {
			if p != nil {
				w.write(p[:allowed], "")
			} else {
				w.write(nil, s[:allowed])
			}
		}
		return allowed, http.ErrContentLength
	}
	if w.head && w.sentHeader {
		w.written += int64(n)
		return n, nil
	}
	w.written += int64(n)
	if w.buf == nil {
		w.buf = bodyBufs.Get().(*[]byte)
	}
	b := *w.buf
	if len(b)+n <= cap(b) {
		if p != nil {
			b = append(b, p...)
		} else {
			b = append(b, s...)
		}
		*w.buf = b
		return n, nil
	}
	// Over the buffer: what is buffered and p go out now.
	if p == nil {
		p = []byte(s)
	}
	if err := w.send(b, p, false); err != nil {
		return 0, err
	}
	*w.buf = b[:0]
	return n, nil
}

// frames is what one hold of the write lock writes for a stream.
type frames struct {
	headers   bool // a HEADERS frame (status, fields, extra) first
	status    int
	fields    []hpack.HeaderField
	extra     []hpack.HeaderField
	headerEnd bool // END_STREAM on the HEADERS frame
	trailers  bool // the HEADERS frame is trailers: fields only, END_STREAM
	data      bool // then a DATA frame of p1 and p2
	p1, p2    []byte
	dataEnd   bool
}

// send writes the HEADERS frame if not yet written, then a and b as
// DATA, ending the stream when end is set (with the trailers, if any).
func (w *response) send(a, b []byte, end bool) error {
	if w.err != nil {
		return w.err
	}
	if w.sentEnd {
		return nil
	}
	st := w.st
	var f frames
	var extra [3]hpack.HeaderField
	if !w.sentHeader {
		w.sentHeader = true
		body := a
		if len(body) == 0 {
			body = b
		}
		ex := extra[:0]
		if !w.hasType && !w.hasEncoding && bodyAllowedForStatus(w.status) && len(body) > 0 {
			ex = append(ex, hpack.HeaderField{Name: "content-type", Value: http.DetectContentType(body)})
		}
		if w.clen >= 0 {
			ex = append(ex, hpack.HeaderField{Name: "content-length", Value: strconv.FormatInt(w.clen, 10)})
		} else if end && bodyAllowedForStatus(w.status) && (w.written > 0 || !w.head) {
			ex = append(ex, hpack.HeaderField{Name: "content-length", Value: strconv.FormatInt(w.written, 10)})
		}
		if !w.hasDate {
			ex = append(ex, hpack.HeaderField{Name: "date", Value: dateString()})
		}
		f.headers, f.status, f.fields, f.extra = true, w.status, *w.fields, ex
		if w.head || end && len(a)+len(b) == 0 && !w.hasTrailers() {
			// HEAD responses end with their HEADERS, as net/http's.
			f.headerEnd = true
			w.sentEnd = true
			return w.writeFrames(&f)
		}
	}
	if w.head {
		return nil
	}
	trailers := end && w.hasTrailers()
	for {
		want := len(a) + len(b)
		if want == 0 {
			if end && !trailers {
				// An empty DATA frame ends the stream.
				f.data, f.dataEnd = true, true
				w.sentEnd = true
			}
			if f.headers || f.data {
				if err := w.writeFrames(&f); err != nil {
					return err
				}
			}
			break
		}
		n, err := st.takeSendWindow(want, false)
		if n == 0 && err == nil {
			// No window now: the HEADERS frame goes out on its own
			// while the DATA waits.
			if f.headers {
				if err := w.writeFrames(&f); err != nil {
					return err
				}
				f = frames{}
			}
			n, err = st.takeSendWindow(want, true)
		}
		if err != nil {
			w.err = err
			return err
		}
		if n <= len(a) {
			f.p1, a = a[:n], a[n:]
			f.p2 = nil
		} else {
			f.p1, f.p2 = a, b[:n-len(a)]
			a, b = nil, b[n-len(a):]
		}
		f.data = true
		f.dataEnd = end && !trailers && len(a)+len(b) == 0
		if f.dataEnd {
			w.sentEnd = true
		}
		if err := w.writeFrames(&f); err != nil {
			return err
		}
		if len(a)+len(b) == 0 {
			break
		}
		f = frames{}
	}
	if trailers {
		return w.sendTrailers()
	}
	return nil
}

func (w *response) hasTrailers() bool {
	if len(w.trailers) > 0 {
		return true
	}
	for k := range w.header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			return true
		}
	}
	return false
}

func (w *response) sendTrailers() error {
	var fs []hpack.HeaderField
	for _, k := range w.trailers {
		if vv, ok := w.header[k]; ok {
			fs = appendFields(fs, k, vv)
		}
	}
	for k, vv := range w.header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			if t := http.CanonicalHeaderKey(strings.TrimPrefix(k, http.TrailerPrefix)); httpguts.ValidTrailerHeader(t) {
				fs = appendFields(fs, t, vv)
			}
		}
	}
	w.sentEnd = true
	return w.writeFrames(&frames{trailers: true, fields: fs})
}

// writeFrames writes f under the connection's write lock; the last
// writer out flushes.
func (w *response) writeFrames(f *frames) error {
	st := w.st
	c := st.c
	if st.closed.Load() {
		w.err = errClientDisconnected
		return w.err
	}
	st.inWrite.Store(true)
	defer st.inWrite.Store(false)
	c.writers.Add(1)
	c.wmu.Lock()
	var err error
	if c.werr != nil || st.resetSent.Load() || st.closed.Load() {
		err = errClientDisconnected
	} else {
		c.drainCtrlLocked()
		switch {
		case f.trailers:
			err = c.writeTrailersLocked(st.id, f.fields)
		case f.headers:
			err = c.writeHeadersLocked(st.id, f.status, f.fields, f.extra, f.headerEnd)
			if f.status >= 200 {
				st.finalSent.Store(true)
			}
		}
		if err == nil && f.data {
			err = c.writeDataLocked(st.id, f.p1, f.p2, f.dataEnd)
		}
	}
	if c.writers.Add(-1) == 0 {
		if ferr := c.flushLocked(); ferr != nil && err == nil {
			err = errClientDisconnected
		}
	}
	c.wmu.Unlock()
	c.kick()
	if err != nil {
		w.err = err
	}
	return err
}

// takeSendWindow takes send window for up to want bytes of DATA, waiting
// for it when wait is set: until the stream's write deadline (WriteTimeout
// from its HEADERS, or the handler's SetWriteDeadline), and without one
// for at most the idle timeout in one wait, so that a client that never
// opens its window cannot hold a handler forever.
func (st *stream) takeSendWindow(want int, wait bool) (int, error) {
	c := st.c
	var dl time.Time
	if wait {
		dl = st.writeDeadline()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	var end time.Time
	for {
		if c.closed || st.closed.Load() {
			return 0, errClientDisconnected
		}
		n := min(int64(want), c.sendWin, st.sendWin, int64(c.maxFrameSize))
		if n > 0 {
			c.sendWin -= n
			st.sendWin -= n
			return int(n), nil
		}
		if !wait {
			return 0, nil
		}
		if end.IsZero() {
			end = dl
			if d := c.srv.WriteTimeout; d > 0 {
				if e := st.start.Add(d); end.IsZero() || e.Before(end) {
					end = e
				}
			}
			if end.IsZero() {
				if d := c.srv.idleTimeout(); d > 0 {
					end = time.Now().Add(d)
				}
			}
		}
		if !end.IsZero() {
			left := time.Until(end)
			if left <= 0 {
				return 0, errDeadline
			}
			if timer == nil {
				timer = time.AfterFunc(left, func() {
					c.mu.Lock()
					c.flowCond.Broadcast()
					c.mu.Unlock()
				})
			}
		}
		c.flowCond.Wait()
	}
}

// finish ends the response when the handler returns.
func (w *response) finish() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	var b []byte
	if w.buf != nil {
		b = *w.buf
	}
	w.handlerDone = true
	if w.err == nil && !w.sentEnd {
		if w.clen >= 0 && w.written < w.clen && !w.head {
			// Short of its Content-Length: what was written goes out,
			// then the stream is reset.
			w.send(b, nil, false)
			w.st.c.resetStream(w.st.id, http2.ErrCodeInternal)
		} else if err := w.send(b, nil, true); err != nil && w.err == nil {
			w.err = err
		}
	}
	if w.err != nil && !w.sentEnd && !w.st.resetSent.Load() && !w.st.closed.Load() {
		w.st.c.resetStream(w.st.id, http2.ErrCodeInternal)
	}
}

// release returns the pooled buffers once the stream is done.
func (w *response) release() {
	if w.buf != nil {
		*w.buf = (*w.buf)[:0]
		bodyBufs.Put(w.buf)
		w.buf = nil
	}
	if w.fields != nil {
		clear(*w.fields)
		*w.fields = (*w.fields)[:0]
		fieldSlices.Put(w.fields)
		w.fields = nil
	}
	if w.header != nil && len(w.header) <= 64 {
		clear(w.header)
		headerMaps.Put(w.header)
	}
	w.header = nil
}

func (w *response) Flush() { _ = w.FlushError() }

// FlushError sends the status, headers and buffered body now.
func (w *response) FlushError() error {
	if w.handlerDone {
		return errClientDisconnected
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	var b []byte
	if w.buf != nil {
		b = *w.buf
	}
	if w.sentHeader && len(b) == 0 {
		return w.err
	}
	if err := w.send(b, nil, false); err != nil {
		return err
	}
	if w.buf != nil {
		*w.buf = (*w.buf)[:0]
	}
	return nil
}

// EnableFullDuplex is a no-op: HTTP/2 streams are full duplex.
func (w *response) EnableFullDuplex() error { return nil }

// SetReadDeadline bounds the request body's reads.
func (w *response) SetReadDeadline(t time.Time) error {
	st := w.st
	if st.body == nil {
		return nil
	}
	if st.readTimer != nil {
		st.readTimer.Stop()
	}
	if t.IsZero() {
		return nil
	}
	b := st.body
	c := st.c
	st.readTimer = time.AfterFunc(time.Until(t), func() { c.refundConn(b.fail(errDeadline, nil)) })
	return nil
}

// SetWriteDeadline bounds the response's writes: a deadline that passes
// (or is already past) resets the stream, which ends its waits for the
// client's flow-control window; if the handler is writing to the socket
// then (the client stopped reading: every stream of the connection is
// stuck behind it), the connection's writes fail too. It may be called
// from any goroutine (the proxy ends stalled downloads this way).
func (w *response) SetWriteDeadline(t time.Time) error {
	st := w.st
	st.dlmu.Lock()
	defer st.dlmu.Unlock()
	if st.wtimer != nil {
		st.wtimer.Stop()
		st.wtimer = nil
	}
	st.wdl = t
	if t.IsZero() {
		return nil
	}
	if d := time.Until(t); d > 0 {
		st.wtimer = time.AfterFunc(d, st.abortWrite)
	} else {
		st.abortWrite()
	}
	return nil
}

// writeDeadline is the handler's SetWriteDeadline.
func (st *stream) writeDeadline() time.Time {
	st.dlmu.Lock()
	defer st.dlmu.Unlock()
	return st.wdl
}

// abortWrite ends the stream's writing at its write deadline.
func (st *stream) abortWrite() {
	c := st.c
	if st.inWrite.Load() {
		c.abortWrites.Store(true)
		c.nc.SetWriteDeadline(aLongTimeAgo)
	}
	c.resetStream(st.id, http2.ErrCodeCancel)
}

// aLongTimeAgo is a deadline in the past.
var aLongTimeAgo = time.Unix(1, 0)

func bodyAllowedForStatus(status int) bool {
	switch {
	case status >= 100 && status <= 199:
		return false
	case status == 204, status == 304:
		return false
	}
	return true
}

// writeHeadersLocked encodes a HEADERS frame (and CONTINUATION frames if
// the block is longer than the client's frame size) under c.wmu.
func (c *conn) writeHeadersLocked(id uint32, status int, fields, extra []hpack.HeaderField, end bool) error {
	if c.werr != nil {
		return c.werr
	}
	c.hbuf.Reset()
	c.enc.WriteField(hpack.HeaderField{Name: ":status", Value: statusText(status)})
	for _, f := range fields {
		c.enc.WriteField(f)
	}
	for _, f := range extra {
		c.enc.WriteField(f)
	}
	return c.writeBlockLocked(id, end)
}

func (c *conn) writeTrailersLocked(id uint32, fields []hpack.HeaderField) error {
	if c.werr != nil {
		return c.werr
	}
	c.hbuf.Reset()
	for _, f := range fields {
		c.enc.WriteField(f)
	}
	if len(fields) == 0 {
		return c.wfr.WriteData(id, true, nil)
	}
	return c.writeBlockLocked(id, true)
}

func (c *conn) writeBlockLocked(id uint32, end bool) error {
	block := c.hbuf.Bytes()
	c.mu.Lock()
	max := c.maxFrameSize
	c.mu.Unlock()
	first := block
	if len(first) > max {
		first = block[:max]
	}
	block = block[len(first):]
	err := c.wfr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: first, EndStream: end, EndHeaders: len(block) == 0})
	for err == nil && len(block) > 0 {
		frag := block
		if len(frag) > max {
			frag = block[:max]
		}
		block = block[len(frag):]
		err = c.wfr.WriteContinuation(id, len(block) == 0, frag)
	}
	return err
}

// writeDataLocked writes p1 and p2 as one DATA frame (the window was
// taken for both).
func (c *conn) writeDataLocked(id uint32, p1, p2 []byte, end bool) error {
	if c.werr != nil {
		return c.werr
	}
	if len(p2) == 0 {
		return c.wfr.WriteData(id, end, p1)
	}
	if len(p1) == 0 {
		return c.wfr.WriteData(id, end, p2)
	}
	// The frame header, then both parts, straight into the buffer.
	n := len(p1) + len(p2)
	var flags byte
	if end {
		flags = byte(http2.FlagDataEndStream)
	}
	hdr := [9]byte{byte(n >> 16), byte(n >> 8), byte(n), byte(http2.FrameData), flags, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
	c.bw.Write(hdr[:])
	c.bw.Write(p1)
	_, err := c.bw.Write(p2)
	return err
}

var statusTexts [1000]string

func statusText(code int) string {
	if code >= 0 && code < len(statusTexts) {
		if s := statusTexts[code]; s != "" {
			return s
		}
	}
	return strconv.Itoa(code)
}

func init() {
	for i := 100; i < 600; i++ {
		statusTexts[i] = strconv.Itoa(i)
	}
}

// The Date header value, formatted once per second.
type dateValue struct {
	sec int64
	s   string
}

var cachedDate atomic.Pointer[dateValue]

func dateString() string {
	now := time.Now()
	sec := now.Unix()
	d := cachedDate.Load()
	if d == nil || d.sec != sec {
		d = &dateValue{sec: sec, s: now.UTC().Format(http.TimeFormat)}
		cachedDate.Store(d)
	}
	return d.s
}

// lowerKey is HTTP/2's lower-case form of a header name; false for a
// name that is not a valid field name.
func lowerKey(k string) (string, bool) {
	if l, ok := commonLower[k]; ok {
		return l, true
	}
	for i := 0; i < len(k); i++ {
		if k[i] >= 0x80 {
			return "", false
		}
	}
	l := strings.ToLower(k)
	if !httpguts.ValidHeaderFieldName(l) {
		return "", false
	}
	return l, true
}

// canonicalKey is the canonical form of a lower-case HTTP/2 field name.
func canonicalKey(name string) string {
	if k, ok := commonCanonical[name]; ok {
		return k
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}

var commonLower, commonCanonical = func() (map[string]string, map[string]string) {
	names := []string{"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Accept-Ranges",
		"Access-Control-Allow-Credentials", "Access-Control-Allow-Headers", "Access-Control-Allow-Methods",
		"Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Access-Control-Max-Age",
		"Access-Control-Request-Headers", "Access-Control-Request-Method", "Age", "Allow", "Alt-Svc",
		"Authorization", "Cache-Control", "Cdn-Loop", "Connection", "Content-Disposition", "Content-Encoding",
		"Content-Language", "Content-Length", "Content-Location", "Content-Range", "Content-Security-Policy",
		"Content-Type", "Cookie", "Date", "Dnt", "Etag", "Expect", "Expires", "Forwarded", "From", "Host",
		"If-Match", "If-Modified-Since", "If-None-Match", "If-Range", "If-Unmodified-Since", "Last-Modified",
		"Link", "Location", "Max-Forwards", "Origin", "Permissions-Policy", "Pragma", "Priority",
		"Proxy-Authenticate", "Proxy-Authorization", "Range", "Referer", "Referrer-Policy", "Refresh",
		"Retry-After", "Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Sec-Fetch-Dest",
		"Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-User", "Server", "Server-Timing", "Set-Cookie",
		"Strict-Transport-Security", "Te", "Timing-Allow-Origin", "Trailer", "Transfer-Encoding",
		"Upgrade", "Upgrade-Insecure-Requests", "User-Agent", "Vary", "Via", "Www-Authenticate",
		"X-Content-Type-Options", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
		"X-Frame-Options", "X-Real-Ip", "X-Request-Id", "X-Requested-With", "X-Xss-Protection",
		"X-Cache", "X-Cache-Status"}
	lower := make(map[string]string, len(names))
	canon := make(map[string]string, len(names))
	for _, n := range names {
		l := strings.ToLower(n)
		lower[n] = l
		canon[l] = n
	}
	return lower, canon
}()
