package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/reqctx"
)

// gatedOrigin holds every request until it takes a token from its gate
// (or the gate is closed), recording the
// requests in flight, the peak, and the order requests arrived in (by
// their X-Name header).
type gatedOrigin struct {
	gate     chan struct{}
	inFlight atomic.Int64
	peak     atomic.Int64
	mu       sync.Mutex
	order    []string
}

func (g *gatedOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := g.inFlight.Add(1)
	defer g.inFlight.Add(-1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	g.mu.Lock()
	g.order = append(g.order, r.Header.Get("X-Name"))
	g.mu.Unlock()
	<-g.gate
	io.WriteString(w, "ok")
}

// startLimitedProxy serves a proxy for z on 127.0.0.1; a request with
// "X-Priority: 1" is marked reqctx.Info.Priority, as the challenge phase
// marks cleared clients.
func startLimitedProxy(t *testing.T, z config.Zone) (*Proxy, string) {
	t.Helper()
	z.Host = "limited.example.test"
	p, err := New(z, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := &reqctx.Info{ID: r.Header.Get("X-Name"), Start: time.Now(), Zone: z.Host, Priority: r.Header.Get("X-Priority") == "1"}
		info.ClientIP = netip.MustParseAddrPort(r.RemoteAddr).Addr()
		p.ServeHTTP(w, r.WithContext(reqctx.With(r.Context(), info)))
	}))
	t.Cleanup(func() { srv.Close(); p.Close() })
	return p, srv.URL
}

type answer struct {
	name       string
	status     int
	retryAfter string
}

func limitedGet(c *http.Client, url, name string, prio bool, out chan<- answer) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("X-Name", name)
	if prio {
		req.Header.Set("X-Priority", "1")
	}
	resp, err := c.Do(req)
	if err != nil {
		out <- answer{name: name, status: -1}
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	out <- answer{name: name, status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestOriginLimitQueue: at most max_conns requests reach the origin; the
// others queue; a full queue answers 503 with Retry-After at once; a
// priority request takes the newest normal waiter's place and reaches the
// origin before the older normal waiters.
func TestOriginLimitQueue(t *testing.T) {
	g := &gatedOrigin{gate: make(chan struct{})}
	o := httptest.NewServer(g)
	t.Cleanup(o.Close)
	p, url := startLimitedProxy(t, config.Zone{
		Origins:      []string{o.URL},
		OriginLimits: config.OriginLimits{MaxConns: 2, Queue: 2, QueueTimeout: time.Minute},
	})
	c := newClient(t)
	answers := make(chan answer, 10)
	go limitedGet(c, url, "a1", false, answers)
	go limitedGet(c, url, "a2", false, answers)
	waitUntil(t, "two requests at the origin", func() bool { return g.inFlight.Load() == 2 })
	go limitedGet(c, url, "n1", false, answers)
	waitUntil(t, "n1 queued", func() bool { return p.Limiter().Stats().Queued == 1 })
	go limitedGet(c, url, "n2", false, answers)
	waitUntil(t, "n2 queued", func() bool { return p.Limiter().Stats().Queued == 2 })

	// The queue is full: a normal request is refused at once.
	go limitedGet(c, url, "n3", false, answers)
	if a := <-answers; a.name != "n3" || a.status != 503 || a.retryAfter != "1" {
		t.Fatalf("past a full queue: %+v, want n3 503 with Retry-After 1", a)
	}
	// A priority request evicts the newest normal waiter (n2).
	go limitedGet(c, url, "p1", true, answers)
	if a := <-answers; a.name != "n2" || a.status != 503 || a.retryAfter != "1" {
		t.Fatalf("evicted: %+v, want n2 503 with Retry-After 1", a)
	}
	waitUntil(t, "p1 queued", func() bool { return p.Limiter().Stats().QueuedPriority == 1 })

	// Free one slot: it goes to p1, before the older n1.
	g.gate <- struct{}{}
	waitUntil(t, "a third request at the origin", func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.order) == 3 })
	g.mu.Lock()
	third := g.order[2]
	g.mu.Unlock()
	if third != "p1" {
		t.Fatalf("third request at the origin: %s, want p1 (priority before the older normal n1)", third)
	}
	close(g.gate)
	got := map[string]int{}
	for range 4 {
		a := <-answers
		got[a.name] = a.status
	}
	for _, n := range []string{"a1", "a2", "p1", "n1"} {
		if got[n] != 200 {
			t.Fatalf("answers %v: %s not 200", got, n)
		}
	}
	g.mu.Lock()
	order := g.order
	g.mu.Unlock()
	if len(order) != 4 || order[3] != "n1" {
		t.Fatalf("origin saw %v, want a1 a2 (any order), p1, then n1", order)
	}
	if g.peak.Load() > 2 {
		t.Fatalf("origin peak in flight %d > max_conns 2", g.peak.Load())
	}
	s := p.Limiter().Stats()
	if s.InFlight != 0 || s.Queued != 0 || s.Refused["full"] != 1 || s.Refused["evicted"] != 1 || s.Waited != 2 {
		t.Fatalf("limiter stats %+v", s)
	}
}

// TestOriginLimitReleasesOnAbort: a response that fails after its head
// was sent aborts the client connection (a panic in the handler); the
// slot is freed all the same, and so is the slot of a failed dial.
func TestOriginLimitReleasesOnAbort(t *testing.T) {
	for _, tc := range []struct {
		name   string
		origin func(t *testing.T) string
	}{
		{"aborted body", func(t *testing.T) string {
			return origins(t, 1, func(int) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", "1000")
					w.WriteHeader(200)
					w.Write([]byte("partial"))
					w.(http.Flusher).Flush()
					c, _, _ := http.NewResponseController(w).Hijack()
					c.Close()
				})
			})[0]
		}},
		{"dead origin", deadOrigin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, url := startLimitedProxy(t, config.Zone{
				Origins:      []string{tc.origin(t)},
				OriginLimits: config.OriginLimits{MaxConns: 1, Queue: 1, QueueTimeout: time.Minute},
			})
			c := newClient(t)
			for i := range 5 {
				resp, err := c.Get(url)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if tc.name == "dead origin" && resp.StatusCode != 502 {
						t.Fatalf("request %d: status %d, want 502", i, resp.StatusCode)
					}
				}
				if tc.name == "aborted body" && err == nil {
					t.Fatalf("request %d: the truncated body read without error", i)
				}
				waitUntil(t, "the slot to be freed", func() bool { return p.Limiter().Stats().InFlight == 0 })
			}
			if s := p.Limiter().Stats(); s.Admitted != 5 || s.Refused["full"] != 0 {
				t.Fatalf("stats %+v, want 5 admitted and none refused", s)
			}
		})
	}
}

// TestOriginLimitClientGoesAway: a queued request whose client leaves
// leaves the queue without taking a slot or reaching the origin.
func TestOriginLimitClientGoesAway(t *testing.T) {
	g := &gatedOrigin{gate: make(chan struct{})}
	o := httptest.NewServer(g)
	t.Cleanup(o.Close)
	p, url := startLimitedProxy(t, config.Zone{
		Origins:      []string{o.URL},
		OriginLimits: config.OriginLimits{MaxConns: 1, Queue: 4, QueueTimeout: time.Minute},
	})
	answers := make(chan answer, 2)
	go limitedGet(newClient(t), url, "holder", false, answers)
	waitUntil(t, "holder at the origin", func() bool { return g.inFlight.Load() == 1 })
	impatient := newClient(t)
	impatient.Timeout = 300 * time.Millisecond
	go limitedGet(impatient, url, "impatient", false, answers)
	if a := <-answers; a.name != "impatient" || a.status != -1 {
		t.Fatalf("impatient client: %+v, want a client timeout", a)
	}
	waitUntil(t, "the queue to empty", func() bool { return p.Limiter().Stats().Queued == 0 })
	close(g.gate)
	if a := <-answers; a.status != 200 {
		t.Fatalf("holder: %+v", a)
	}
	s := p.Limiter().Stats()
	if s.InFlight != 0 || s.Refused["canceled"] != 1 || s.Admitted != 1 {
		t.Fatalf("stats %+v", s)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.order) != 1 {
		t.Fatalf("origin saw %v, want only the holder", g.order)
	}
}
