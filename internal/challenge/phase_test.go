package challenge

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/edge"
)

func TestPhaseThroughEdge(t *testing.T) {
	t.Parallel()
	ch, _ := newTestChallenger(t, newClock())
	ch.now = time.Now
	var active atomic.Bool
	var results []Result
	p := ch.Phase(PhaseOptions{Zone: "site.test", Active: active.Load, Policy: Policy{Difficulty: 8, ExemptPaths: []string{"/api/"}},
		OnResult: func(r Result) { results = append(results, r) }})
	z := &edge.Zone{Name: "site.test", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "origin")
	})}
	z.Phases[edge.PhaseChallenge] = p
	s := edge.New(edge.Options{})
	s.SetRoutes(&edge.Routes{Lookup: func(string) (*edge.Zone, bool) { return z, true }})
	srv := httptest.NewServer(s)
	defer srv.Close()

	status := func(path string, ck *http.Cookie) int {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if ck != nil {
			req.AddCookie(ck)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status("/", nil); got != 200 {
		t.Fatalf("inactive zone: %d, want 200", got)
	}
	active.Store(true)
	if got := status("/", nil); got != 403 {
		t.Fatalf("active zone, no clearance: %d, want 403", got)
	}
	if got := status("/api/items", nil); got != 200 {
		t.Fatalf("exempt API path: %d, want 200", got)
	}
	ck, err := EarnClearance(context.Background(), srv.Client(), srv.URL+"/page", "")
	if err != nil || ck == nil {
		t.Fatalf("EarnClearance through the edge: %v, %v", ck, err)
	}
	if got := status("/page", ck); got != 200 {
		t.Fatalf("with clearance: %d, want 200", got)
	}
	if fmt.Sprint(results) != fmt.Sprint([]Result{Challenged, Challenged, Verified}) {
		t.Fatalf("results %v", results)
	}
}

// TestPhasesOfTwoZones: two zones' phases on one Challenger, neither
// naming a Scope: each binds to its zone, so a clearance earned on one
// is challenged on the other.
func TestPhasesOfTwoZones(t *testing.T) {
	t.Parallel()
	ch, _ := newTestChallenger(t, newClock())
	ch.now = time.Now
	zones := map[string]*edge.Zone{}
	for _, name := range []string{"a.test", "b.test"} {
		z := &edge.Zone{Name: name, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "origin")
		})}
		z.Phases[edge.PhaseChallenge] = ch.Phase(PhaseOptions{Zone: name, Active: func() bool { return true }, Policy: Policy{Difficulty: 4}})
		zones[name] = z
	}
	s := edge.New(edge.Options{})
	s.SetRoutes(&edge.Routes{Lookup: func(host string) (*edge.Zone, bool) { z, ok := zones[host]; return z, ok }})
	srv := httptest.NewServer(s)
	defer srv.Close()
	earn := func(host string) *http.Cookie {
		hc := *srv.Client()
		hc.Transport = hostTransport{srv.Client().Transport, host}
		ck, err := EarnClearance(context.Background(), &hc, srv.URL+"/", "")
		if err != nil || ck == nil {
			t.Fatalf("earning on %s: %v %v", host, ck, err)
		}
		return ck
	}
	status := func(host string, ck *http.Cookie) int {
		req, _ := http.NewRequest("GET", srv.URL+"/", nil)
		req.Host = host
		req.AddCookie(ck)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	a := earn("a.test")
	if got := status("a.test", a); got != 200 {
		t.Fatalf("a.test's clearance on a.test: %d, want 200", got)
	}
	if got := status("b.test", a); got != 403 {
		t.Fatalf("a.test's clearance on b.test: %d, want 403", got)
	}
}

type hostTransport struct {
	rt   http.RoundTripper
	host string
}

func (h hostTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Host = h.host
	return h.rt.RoundTrip(r)
}
