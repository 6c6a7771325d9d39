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
)

func TestPhaseAndWrapOriginThroughEdge(t *testing.T) {
	t.Parallel()
	clk := newClock()
	d := NewDetector(Options{Now: clk.Now, Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	z := &edge.Zone{Name: "site.test", Handler: d.WrapOrigin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	for _, path := range []string{"/", "/", "/blocked", "/blocked", "/blocked", "/fail", "/fail"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b := &d.buckets[uint64(clk.Now().Unix())%ringSize]
	if got := [3]int64{b.count.Load(), b.origin.Load(), b.errors.Load()}; got != [3]int64{7, 4, 2} {
		t.Fatalf("requests, origin answers, origin errors = %v, want [7 4 2]", got)
	}
	if lat := time.Duration(b.latency.Load()) * time.Microsecond; lat < 40*time.Millisecond {
		t.Fatalf("origin latency sum %s, want at least the two 20ms failures", lat)
	}
}
