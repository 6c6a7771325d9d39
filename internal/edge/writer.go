package edge

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
)

// RequestIDHeader is the response header carrying the request id on every
// response, including the edge's own errors.
const RequestIDHeader = "Rampart-Request-Id"

// responseWriter records the status and body size for the logging phase and
// puts the request id back on the response head if a later handler (such
// as the proxy copying origin headers) replaced or duplicated it. It keeps
// http.Flusher, http.Hijacker and io.ReaderFrom of the writer it wraps, and
// Unwrap for http.ResponseController.
type responseWriter struct {
	rw          http.ResponseWriter
	id          []string
	status      int
	bytes       int64
	wroteHeader bool
	hijacked    bool
}

var writerPool = sync.Pool{New: func() any { return new(responseWriter) }}

// Header returns the wrapped writer's header map.
func (w *responseWriter) Header() http.Header { return w.rw.Header() }

// WriteHeader records the final status and restores the request id.
func (w *responseWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.rw.Header()[RequestIDHeader] = w.id
		// 1xx responses (other than 101) are interim: the final status
		// comes later.
		if code >= 200 || code == http.StatusSwitchingProtocols || code < 100 {
			w.wroteHeader = true
			w.status = code
		}
	}
	w.rw.WriteHeader(code)
}

// Write counts the body bytes written.
func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.rw.Write(p)
	w.bytes += int64(n)
	return n, err
}

// RawHeaderAdder is the fast path of internal/h1's ResponseWriter for a
// preformatted header block (see h1's AddRawHeader); the edge's writer
// passes it on when the writer it wraps has it.
type RawHeaderAdder interface {
	AddRawHeader(lines []byte, hasType, hasEncoding, hasDate bool) bool
}

// AddRawHeader passes a preformatted header block to the wrapped writer,
// reporting false (the caller then uses the header map) when that writer
// has no such fast path or the header is written.
func (w *responseWriter) AddRawHeader(lines []byte, hasType, hasEncoding, hasDate bool) bool {
	if w.wroteHeader {
		return false
	}
	if ra, ok := w.rw.(RawHeaderAdder); ok {
		return ra.AddRawHeader(lines, hasType, hasEncoding, hasDate)
	}
	return false
}

// ReadFrom lets io.Copy use the connection's sendfile/splice path.
func (w *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	var n int64
	var err error
	if rf, ok := w.rw.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(writerOnly{w.rw}, r)
	}
	w.bytes += n
	return n, err
}

// writerOnly hides ReadFrom so io.Copy does not recurse.
type writerOnly struct{ io.Writer }

// Flush sends what is buffered to the client, for streamed responses.
func (w *responseWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.rw.(http.Flusher); ok {
		f.Flush()
		return
	}
	_ = http.NewResponseController(w.rw).Flush()
}

// Hijack hands the connection to the handler (WebSocket upgrades); the
// request is then logged as 101 Switching Protocols.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.rw).Hijack()
	if err == nil {
		w.hijacked = true
		if !w.wroteHeader {
			// The hijacker writes its own response head: an upgrade
			// (101) in every case rampart hijacks for.
			w.wroteHeader = true
			w.status = http.StatusSwitchingProtocols
		}
	}
	return c, brw, err
}

// Unwrap returns the wrapped writer for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.rw }
