package attack

import (
	"net/http"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/reqctx"
)

// Phase returns an edge phase that counts every request towards the
// detector's rate and then runs next (nil: continue). Put it in the
// zone's first phase slot (edge.PhaseAccess, wrapping the access phase),
// so that requests the later phases refuse, challenge or serve from the
// cache still count: otherwise the rate would fall as soon as the zone
// switched on, and it would switch off in the middle of an attack.
func (d *Detector) Phase(next edge.Phase) edge.Phase {
	return edge.PhaseFunc(func(w http.ResponseWriter, r *http.Request) edge.Decision {
		d.Arrived()
		if next == nil {
			return edge.Continue
		}
		return next.Serve(w, r)
	})
}

// ShedBlockPrefix starts the reqctx.Info.Block value the proxy sets on a
// request its origin queue refused ("origin_queue:full", ":timeout",
// ":evicted"; see internal/proxy/originlimit).
const ShedBlockPrefix = "origin_queue:"

// WrapOrigin wraps a zone's origin handler (its proxy) to record each
// origin answer: its status and the time to its response header. A
// request the proxy's origin queue shed (reqctx.Info.Block starting with
// ShedBlockPrefix) never reached the origin: it is recorded with Shed,
// not as an origin answer. Use it with Phase, which counts the requests.
func (d *Detector) WrapOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := reqctx.From(r.Context())
		ow := &originWriter{ResponseWriter: w, d: d, info: info, start: time.Now()}
		next.ServeHTTP(ow, r)
		if info != nil && strings.HasPrefix(info.Block, ShedBlockPrefix) {
			d.Shed()
			return
		}
		if !ow.done {
			// The handler wrote nothing (net/http answers 200) or
			// aborted; either way the origin was reached and is done.
			ow.record(http.StatusOK)
		}
	})
}

// originWriter records the status and latency at the first WriteHeader.
// Unwrap lets http.ResponseController reach the underlying writer, so
// flushing and hijacking (WebSocket upgrades) keep working.
type originWriter struct {
	http.ResponseWriter
	d     *Detector
	info  *reqctx.Info
	start time.Time
	done  bool
}

func (w *originWriter) record(status int) {
	if w.info != nil && strings.HasPrefix(w.info.Block, ShedBlockPrefix) {
		w.done = true // a shed request: WrapOrigin records it
		return
	}
	if !w.done {
		w.done = true
		w.d.OriginDone(status, time.Since(w.start))
	}
}

func (w *originWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.record(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *originWriter) Write(b []byte) (int, error) {
	w.record(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

func (w *originWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
