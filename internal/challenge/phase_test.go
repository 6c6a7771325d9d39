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
