package waf

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"

	"github.com/corazawaf/coraza/v3/types"

	"github.com/rampart-edge/rampart/internal/reqctx"
)

// Response inspection (waf.response: true; off by default) runs the CRS
// response rules (RESPONSE-95x: SQL, PHP, Java and IIS error leakage,
// web shells) on what the origin answers: phase 3 over the status and
// headers, phase 4 over the first ResponseBodyLimit bytes of a body whose
// type Coraza inspects (text/plain, text/html, text/xml; others pass
// untouched). The inspected part of a body is held back until it has been
// inspected, so a blocked response is replaced by a 403 before any of it
// reaches the client; the rest of a larger body streams uninspected.
//
// The request phase keeps the transaction of a request it passes; the
// zone's origin handler, wrapped by Phase.InspectResponses, takes it over
// for the response. A request answered without the origin (a cache hit,
// a later phase's refusal) closes its transaction when it ends.

// ResponseBodyLimit is how many bytes of a response body are inspected
// (Coraza's recommended SecResponseBodyLimit, 512 KiB).
const ResponseBodyLimit = 512 << 10

// pending holds the transactions of requests that passed the request
// phase of a response-inspecting zone, until the origin handler takes
// them or the request ends.
type pending struct{ m sync.Map } // *reqctx.Info -> *heldTx

type heldTx struct {
	tx   types.Transaction
	id   string
	done func() // closes tx (or drops it) and releases its budget
	once sync.Once
}

func (h *heldTx) close() {
	h.once.Do(func() {
		h.tx.ProcessLogging()
		h.done()
	})
}

// hold keeps tx for the response of r; it reports false (and keeps
// nothing) when the request carries no reqctx.Info to key it by. done
// runs after the transaction's logging phase, when it is over.
func (p *Phase) hold(r *http.Request, tx types.Transaction, id string, done func()) bool {
	info := reqctx.From(r.Context())
	if info == nil {
		return false
	}
	h := &heldTx{tx: tx, id: id, done: done}
	p.pending.m.Store(info, h)
	context.AfterFunc(r.Context(), func() {
		if v, ok := p.pending.m.LoadAndDelete(info); ok {
			v.(*heldTx).close()
		}
	})
	return true
}

func (p *Phase) take(r *http.Request) *heldTx {
	info := reqctx.From(r.Context())
	if info == nil {
		return nil
	}
	if v, ok := p.pending.m.LoadAndDelete(info); ok {
		return v.(*heldTx)
	}
	return nil
}

// InspectResponses wraps next, the zone's origin handler, with response
// inspection when the zone's waf.response is on; otherwise it returns
// next itself.
func (p *Phase) InspectResponses(next http.Handler) http.Handler {
	if p == nil || !p.response {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := p.take(r)
		if h == nil {
			// Skipped by waf.skip, or handed over already (a cache fill
			// running the origin a second time).
			next.ServeHTTP(w, r)
			return
		}
		defer h.close()
		rw := &responseInspector{p: p, h: h, w: w, r: r}
		next.ServeHTTP(rw, r)
		rw.finish()
	})
}

// responseInspector holds the origin's response back while it is
// inspected; see the package comment on response inspection.
type responseInspector struct {
	p *Phase
	h *heldTx
	w http.ResponseWriter
	r *http.Request

	code  int
	state int // one of the inspector states below
	buf   []byte
}

const (
	stateHead    = iota // no status yet
	stateHolding        // status seen, body held for inspection
	statePassing        // decided: everything goes to the client
	stateBlocked        // decided: the 403 went out, the rest is dropped
)

func (rw *responseInspector) Header() http.Header { return rw.w.Header() }

func (rw *responseInspector) WriteHeader(code int) {
	if rw.state != stateHead {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		rw.w.WriteHeader(code) // interim: not the response
		return
	}
	rw.code = code
	tx := rw.h.tx
	for k, vs := range rw.w.Header() {
		for _, v := range vs {
			tx.AddResponseHeader(k, v)
		}
	}
	if it := tx.ProcessResponseHeaders(code, rw.r.Proto); it != nil && rw.interrupt(it) {
		return
	}
	// As Coraza's own middleware: a body that is not inspected (access
	// off, a type outside SecResponseBodyMimeType) streams at once.
	if code == http.StatusSwitchingProtocols || !tx.IsResponseBodyAccessible() || !tx.IsResponseBodyProcessable() || rw.r.Method == http.MethodHead {
		rw.pass()
		return
	}
	rw.state = stateHolding
}

func (rw *responseInspector) Write(b []byte) (int, error) {
	if rw.state == stateHead {
		rw.WriteHeader(http.StatusOK)
	}
	switch rw.state {
	case stateBlocked:
		return 0, errResponseBlocked
	case statePassing:
		return rw.w.Write(b)
	}
	room := ResponseBodyLimit - len(rw.buf)
	if len(b) <= room {
		rw.buf = append(rw.buf, b...)
		return len(b), nil
	}
	rw.buf = append(rw.buf, b[:room]...)
	if !rw.inspectBody(false) {
		return 0, errResponseBlocked
	}
	n, err := rw.w.Write(b[room:])
	return room + n, err
}

// errResponseBlocked stops the proxy's copy of a blocked response.
var errResponseBlocked = errors.New("waf: response blocked")

// Flush passes a flush on once the response is decided; while the body
// is held, there is nothing to flush.
func (rw *responseInspector) Flush() {
	if rw.state == statePassing {
		if f, ok := rw.w.(http.Flusher); ok {
			f.Flush()
		}
	}
}

// Hijack serves protocol upgrades (101), which carry no inspected body.
func (rw *responseInspector) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := rw.w.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("waf: the response writer cannot hijack")
	}
	return hj.Hijack()
}

// Unwrap gives http.ResponseController the writer underneath.
func (rw *responseInspector) Unwrap() http.ResponseWriter { return rw.w }

// finish inspects a held body that ended within the limit, and sends the
// response or the 403.
func (rw *responseInspector) finish() {
	switch rw.state {
	case stateHead:
		// The handler wrote nothing: net/http will answer 200 empty.
		rw.WriteHeader(http.StatusOK)
		if rw.state == stateHolding {
			rw.inspectBody(true)
		}
	case stateHolding:
		rw.inspectBody(true)
	}
}

// inspectBody runs phase 4 over the held bytes and sends them on unless
// the response is blocked; it reports whether the response passes. When
// the held bytes are the whole response (final), the logging phase runs
// before the client gets its end, as it does for a request the request
// phase blocks.
func (rw *responseInspector) inspectBody(final bool) bool {
	tx := rw.h.tx
	var it *types.Interruption
	if len(rw.buf) > 0 {
		var err error
		if it, _, err = tx.WriteResponseBody(rw.buf); err != nil {
			rw.p.log.Error("waf: writing the response body to the waf", "zone", rw.p.zone, "request_id", rw.h.id, "error", err)
		}
	}
	if it == nil {
		var err error
		if it, err = tx.ProcessResponseBody(); err != nil {
			rw.p.log.Error("waf: processing the response body", "zone", rw.p.zone, "request_id", rw.h.id, "error", err)
		}
	}
	blocked := false
	if it != nil {
		rw.p.report(tx, it, rw.r, rw.h.id)
		blocked = rw.p.block
	}
	if final {
		rw.h.close()
	}
	if blocked {
		rw.block()
		return false
	}
	rw.pass()
	return true
}

// pass sends the head and the held bytes and lets the rest through.
func (rw *responseInspector) pass() {
	rw.state = statePassing
	rw.w.WriteHeader(rw.code)
	if len(rw.buf) > 0 {
		_, _ = rw.w.Write(rw.buf)
		rw.buf = nil
	}
}

// interrupt reports the interruption and, in block mode, replaces the
// response with the 403; it reports whether it blocked.
func (rw *responseInspector) interrupt(it *types.Interruption) bool {
	rw.p.report(rw.h.tx, it, rw.r, rw.h.id)
	if !rw.p.block {
		return false
	}
	rw.block()
	return true
}

// block replaces the response, none of which has been sent, with the
// 403.
func (rw *responseInspector) block() {
	rw.state = stateBlocked
	rw.buf = nil
	h := rw.w.Header()
	for k := range h {
		delete(h, k)
	}
	rw.p.writeBlocked(rw.w, rw.r, rw.h.id)
}
