package attack

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/reqctx"
)

func TestPhaseAndWrapOriginThroughEdge(t *testing.T) {
	t.Parallel()
	clk := newClock()
	d := NewDetector(Options{Now: clk.Now, Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	z := &edge.Zone{Name: "site.test", Handler: d.WrapOrigin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/shed" {
			// As the proxy answers a request its origin queue refused.
			reqctx.From(r.Context()).Block = ShedBlockPrefix + "full"
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.URL.Path == "/fail" {
			time.Sleep(20 * time.Millisecond)
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		io.WriteString(w, "ok")
	}))}
	z.Phases[edge.PhaseAccess] = d.Phase(nil)
	z.Phases[edge.PhaseRateLimit] = edge.PhaseFunc(func(w http.ResponseWriter, r *http.Request) edge.Decision {
		if r.URL.Path == "/blocked" {
			w.WriteHeader(http.StatusTooManyRequests)
			return edge.Handled
		}
		return edge.Continue
	})
	s := edge.New(edge.Options{})
	s.SetRoutes(&edge.Routes{Lookup: func(string) (*edge.Zone, bool) { return z, true }})
	srv := httptest.NewServer(s)
	defer srv.Close()
	for _, path := range []string{"/", "/", "/blocked", "/blocked", "/blocked", "/fail", "/fail", "/shed"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b := &d.buckets[uint64(clk.Now().Unix())%ringSize]
	// The shed request counts as a request and a shed, not as an origin
	// answer or error.
	if got := [4]int64{b.count.Load(), b.origin.Load(), b.errors.Load(), b.shed.Load()}; got != [4]int64{8, 4, 2, 1} {
		t.Fatalf("requests, origin answers, origin errors, sheds = %v, want [8 4 2 1]", got)
	}
	if lat := time.Duration(b.latency.Load()) * time.Microsecond; lat < 40*time.Millisecond {
		t.Fatalf("origin latency sum %s, want at least the two 20ms failures", lat)
	}
}
