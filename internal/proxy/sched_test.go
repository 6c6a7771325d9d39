package proxy

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
)

// TestSchedulerNoGoroutinePerProxy (issue 16): started proxies with
// health checks run no goroutine of their own while nothing is due, so
// 10 and 1,000 of them cost the same number of goroutines.
func TestSchedulerNoGoroutinePerProxy(t *testing.T) {
	count := func(n int) int {
		s := NewScheduler(SchedulerOptions{})
		defer s.Close()
		before := runtime.NumGoroutine()
		ps := make([]*Proxy, n)
		for i := range ps {
			z := config.Zone{Host: fmt.Sprintf("z%d.test", i), Origins: []string{"http://127.0.0.1:9", "http://127.0.0.1:10"},
				HealthCheck: config.HealthCheck{Path: "/healthz", Interval: time.Hour}}
			p, err := New(z, Options{Scheduler: s})
			if err != nil {
				t.Fatal(err)
			}
			p.Start()
			ps[i] = p
		}
		after := runtime.NumGoroutine()
		if st := s.Stats(); st.Tasks != 2*n {
			t.Errorf("%d proxies: %d tasks scheduled, want %d health checks", n, st.Tasks, 2*n)
		}
		for _, p := range ps {
			p.Close()
		}
		if st := s.Stats(); st.Tasks != 0 || st.Pending != 0 {
			t.Errorf("after Close: %+v, want nothing scheduled", st)
		}
		return after - before
	}
	small, large := count(10), count(1000)
	if large > small+2 {
		t.Errorf("1,000 started proxies add %d goroutines, 10 add %d", large, small)
	}
}

// TestSchedulerClosedBeforeProxies: a node stops its scheduler while a
// replaced zone's proxy is still draining (the app retires it after its
// last request); closing that proxy afterwards, and closing proxies in
// any order, must not touch the emptied heap.
func TestSchedulerClosedBeforeProxies(t *testing.T) {
	s := NewScheduler(SchedulerOptions{})
	var ps []*Proxy
	for i := 0; i < 5; i++ {
		z := config.Zone{Host: fmt.Sprintf("z%d.test", i), Origins: []string{"http://127.0.0.1:9", "http://127.0.0.1:10"},
			HealthCheck: config.HealthCheck{Path: "/healthz", Interval: time.Hour}}
		p, err := New(z, Options{Scheduler: s})
		if err != nil {
			t.Fatal(err)
		}
		p.Start()
		ps = append(ps, p)
	}
	ps[0].Close() // one closed while the scheduler runs
	if st := s.Stats(); st.Tasks != 8 {
		t.Fatalf("%d tasks after closing one proxy, want 8", st.Tasks)
	}
	s.Close()
	for _, p := range ps[1:] {
		p.Close() // panicked with "index out of range" before the fix
	}
	if st := s.Stats(); st.Tasks != 0 || st.Pending != 0 {
		t.Errorf("after closing everything: %+v", st)
	}
}

// TestSchedulerBoundsChecks: with MaxChecks 3, 24 origins whose checks
// come due together are all checked, never more than 3 at once, and each
// origin reports its last check and error.
func TestSchedulerBoundsChecks(t *testing.T) {
	var inFlight, peak, checks atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		checks.Add(1)
		time.Sleep(20 * time.Millisecond)
		if strings.HasSuffix(r.URL.Path, "/down") {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	s := NewScheduler(SchedulerOptions{MaxChecks: 3})
	t.Cleanup(s.Close)
	var ps []*Proxy
	for i := range 8 {
		path := "/up"
		if i%2 == 1 {
			path = "/down"
		}
		z := config.Zone{Host: fmt.Sprintf("z%d.test", i), Origins: []string{srv.URL, srv.URL + "/a", srv.URL + "/b"},
			HealthCheck: config.HealthCheck{Path: path, Interval: 50 * time.Millisecond, Unhealthy: 1, Healthy: 1}}
		p, err := New(z, Options{Scheduler: s})
		if err != nil {
			t.Fatal(err)
		}
		p.Start()
		t.Cleanup(p.Close)
		ps = append(ps, p)
	}
	waitFor(t, func() bool {
		for _, p := range ps {
			for _, o := range p.Origins() {
				if o.LastCheck.IsZero() {
					return false
				}
			}
		}
		return true
	})
	if got := peak.Load(); got > 3 {
		t.Errorf("%d checks ran at once, want at most 3", got)
	}
	for i, p := range ps {
		for _, o := range p.Origins() {
			down := i%2 == 1
			if down && o.LastError != "status 503 Service Unavailable" {
				t.Errorf("%s: LastError %q, want status 503", o.URL, o.LastError)
			}
			if !down && o.LastError != "" {
				t.Errorf("%s: LastError %q, want none", o.URL, o.LastError)
			}
		}
	}
	waitFor(t, func() bool { return !ps[1].Origins()[0].Healthy })
	if !ps[0].Origins()[0].Healthy {
		t.Error("an origin passing its checks is down")
	}
}

// TestReapAndWatchOnlyWhileNeeded: a proxy has no reap scheduled until a
// connection is pooled, and drops it once the pool is empty again; a
// request waiting on the origin puts the proxy on the watch list only
// for as long as it waits.
func TestReapAndWatchOnlyWhileNeeded(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-release
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	s := NewScheduler(SchedulerOptions{})
	t.Cleanup(s.Close)
	z := config.Zone{Host: "x.test", Origins: []string{srv.URL}, HealthCheck: config.HealthCheck{EjectFor: 300 * time.Millisecond}}
	p, err := New(z, Options{Scheduler: s, Timeouts: config.Timeouts{OriginIdle: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	t.Cleanup(p.Close)
	if st := s.Stats(); st.Tasks != 0 {
		t.Fatalf("idle proxy: %d tasks, want none", st.Tasks)
	}
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)

	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.Get(front.URL + "/hold"); err == nil {
			resp.Body.Close()
		}
	}()
	waitFor(t, func() bool { return s.Stats().Watched == 1 })
	once.Do(func() { close(release) })
	<-done
	waitFor(t, func() bool { return s.Stats().Watched == 0 })
	if st := s.Stats(); st.Tasks != 1 {
		t.Errorf("with a pooled connection: %d tasks, want the reap", st.Tasks)
	}
	// The pooled connection idles out; the reap closes it and stops.
	waitFor(t, func() bool { return s.Stats().Tasks == 0 && !p.reapArmed.Load() })
	p.origins[0].mu.Lock()
	idle := len(p.origins[0].idle)
	p.origins[0].mu.Unlock()
	if idle != 0 {
		t.Errorf("%d idle connections left after the reap stopped", idle)
	}
}
