package cache

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/rampart-edge/rampart/internal/compress"
)

var errShortBody = errors.New("response body shorter than its Content-Length")

// Modes of a captureWriter, decided when the origin's status arrives.
const (
	modeStore       = iota // keep the body (and stream it to the client with tee)
	modePass               // not storable: straight to the client
	modeRevalidated        // 304 to the cache's conditional request
	modeStale              // origin failed: the stale entry is served
)

// captureWriter is the ResponseWriter the origin's response is written
// to on a cache fetch. Its header map is its own, so that nothing the
// proxy sets reaches the client unless the cache decides so.
type captureWriter struct {
	z      *Zone
	w      http.ResponseWriter
	r      *http.Request // the client's request
	out    *http.Request // the request sent to the origin
	stale  *Entry
	status string // MISS or EXPIRED, for a response passed through
	client bool   // w is a client that expects an answer
	tee    bool   // stream to the client while storing

	header      http.Header
	code        int
	wroteHeader bool
	mode        int
	sink        *sink
	passRecord  bool
	flushed     bool // headers sent to the client by this writer
}

// Unwrap returns the client's writer (nil on a background refresh), so
// that http.ResponseController and the proxy's cut-off of a suspended
// zone's exchanges reach the connection below: a client that stopped
// reading a download passed through the cache is freed like any other.
func (cw *captureWriter) Unwrap() http.ResponseWriter { return cw.w }

func (cw *captureWriter) Header() http.Header {
	if cw.header == nil {
		cw.header = http.Header{}
	}
	return cw.header
}

// staleUsable reports whether the stale entry may answer for a failed
// origin: within its stale-if-error window, or always with always-online.
func (cw *captureWriter) staleUsable() bool {
	e := cw.stale
	if e == nil || e.Pass || e.Status == 0 {
		return false
	}
	if cw.z.rules.AlwaysOnline {
		return true
	}
	return !e.MustReval && !e.NoCache && e.staleFor(cw.z.now()) < e.SIE
}

func (cw *captureWriter) WriteHeader(code int) {
	if cw.wroteHeader || code < 200 {
		return
	}
	cw.wroteHeader = true
	cw.code = code
	h := cw.Header()
	switch {
	case code == http.StatusNotModified && cw.stale != nil && cw.out.Header.Get("If-None-Match")+cw.out.Header.Get("If-Modified-Since") != "":
		cw.mode = modeRevalidated
		return
	case code >= 500 && cw.staleUsable():
		cw.mode = modeStale
		return
	}
	ok, why := cw.z.rules.storable(cw.out, code, h)
	if ok && len(h["Content-Range"]) == 0 && len(h["Content-Encoding"]) == 0 {
		cw.mode = modeStore
		cl, _ := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
		cw.sink = newSink(cw.z.store.opts.MaxMemoryObject, cw.z.store.disk, cl)
		if cw.tee {
			cw.sendHeader()
		}
		return
	}
	cw.mode = modePass
	// A 5xx is a passing failure, not a property of the URL; nor is a
	// refusal because of what this request carried (Authorization,
	// Cookie), or a client with a cookie could keep a page out of the
	// cache for everyone.
	cw.passRecord = code < 500 && !requestRefusal(why)
	if cw.client {
		cw.sendHeader()
	}
}

// sendHeader copies the origin's header and status to the client.
func (cw *captureWriter) sendHeader() {
	dst := cw.w.Header()
	for k, v := range cw.header {
		dst[k] = v
	}
	if cw.mode == modeStore && !cw.z.rules.NoCompress && compress.Compressible(cw.header.Get("Content-Type")) {
		addVary(dst, "Accept-Encoding")
	}
	setStatus(cw.w, cw.r, cw.status)
	cw.z.observe(cw.status, 0, false)
	cw.w.WriteHeader(cw.code)
	cw.flushed = true
}

func (cw *captureWriter) Write(p []byte) (int, error) {
	if !cw.wroteHeader {
		cw.WriteHeader(http.StatusOK)
	}
	switch cw.mode {
	case modePass:
		if cw.client {
			// A client that went away does not stop the fetch.
			cw.w.Write(p)
		}
	case modeStore:
		cw.sink.write(p)
		if cw.tee {
			cw.w.Write(p)
		} else if cw.client && cw.sink.overflow {
			// Too large to keep in memory and no disk tier: the client
			// gets what was held back and then the rest as it arrives;
			// the cache keeps nothing.
			cw.mode = modePass
			cw.passRecord = false
			cw.sendHeader()
			cw.w.Write(cw.sink.spilled)
			cw.sink.spilled = nil
		}
	}
	return len(p), nil
}

// Flush forwards flushes while the client is being streamed to.
func (cw *captureWriter) Flush() {
	if cw.flushed && (cw.mode == modePass || cw.tee) {
		if f, ok := cw.w.(http.Flusher); ok {
			f.Flush()
		}
	}
}

func addVary(h http.Header, name string) {
	for _, v := range h["Vary"] {
		if containsToken(v, name) {
			return
		}
	}
	h.Add("Vary", name)
}
