package app

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/testenv"
	"github.com/rampart-edge/rampart/internal/token"
)

// stallRelay is a TCP relay between rampart and its PostgreSQL that the
// test can stall: while paused, it keeps accepting connections and
// reading, but forwards nothing in either direction, which is what a hung
// database server (or a black-holed network) looks like to its clients.
type stallRelay struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cond   *sync.Cond
	paused bool
	closed bool
	conns  []net.Conn
}

func newStallRelay(t *testing.T, target string) *stallRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &stallRelay{ln: ln, target: target}
	r.cond = sync.NewCond(&r.mu)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	t.Cleanup(r.close)
	return r
}

func (r *stallRelay) serve(c net.Conn) {
	b, err := net.DialTimeout("tcp", r.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		c.Close()
		b.Close()
		return
	}
	r.conns = append(r.conns, c, b)
	r.mu.Unlock()
	go r.pipe(b, c)
	r.pipe(c, b)
}

// pipe copies src to dst, holding every chunk while the relay is paused.
func (r *stallRelay) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			r.mu.Lock()
			for r.paused && !r.closed {
				r.cond.Wait()
			}
			closed := r.closed
			r.mu.Unlock()
			if closed {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (r *stallRelay) pause() {
	r.mu.Lock()
	r.paused = true
	r.mu.Unlock()
}

func (r *stallRelay) resume() {
	r.mu.Lock()
	r.paused = false
	r.cond.Broadcast()
	r.mu.Unlock()
}

func (r *stallRelay) close() {
	r.ln.Close()
	r.mu.Lock()
	r.closed = true
	r.cond.Broadcast()
	conns := r.conns
	r.conns = nil
	r.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// through returns storeURL with its host:port replaced by the relay's.
func (r *stallRelay) through(t *testing.T, storeURL string) string {
	t.Helper()
	u, err := url.Parse(storeURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = r.ln.Addr().String()
	return u.String()
}

// timed is one call's answer and how long it took.
type timed struct {
	code int
	body string
	took time.Duration
}

func (d *deskApp) timedAPI(t *testing.T, method, path string, scope token.Scope, body string) timed {
	t.Helper()
	start := time.Now()
	code, b, _ := d.api(t, method, path, scope, body)
	return timed{code, b, time.Since(start)}
}

func (d *deskApp) timedHealth(t *testing.T) timed {
	t.Helper()
	start := time.Now()
	resp, err := client.Get("http://" + d.Addrs().Admin + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return timed{resp.StatusCode, string(b), time.Since(start)}
}

// TestHungStoreBoundedWaits is issue 11 point 11: the compliance refresh
// loop read the store with no deadline while holding the lock admin
// writes wait on, so a hung PostgreSQL stalled the admin API. With
// PostgreSQL behind a relay that stops forwarding: /healthz answers 503
// naming the store within about a second, admin reads and writes answer
// 503 with a clear error within the store deadline (timeouts.store), the
// edge keeps serving from the zone states it has, and everything recovers
// when the database answers again.
func TestHungStoreBoundedWaits(t *testing.T) {
	const storeTimeout = 500 * time.Millisecond
	bound := 10 * storeTimeout // generous: the assertions are about hanging, not speed
	pg := testenv.Postgres(t)
	pu, err := url.Parse(pg)
	if err != nil {
		t.Fatal(err)
	}
	relay := newStallRelay(t, pu.Host)
	o := newOrigin(t, "origin")
	d := startDesk(t, relay.through(t, pg), fmt.Sprintf(`
  - host: hang.test
    origins: [%s]
timeouts: {store: %s}
`, o.URL, storeTimeout))

	account := func(i int) string {
		return fmt.Sprintf(`{"name":"Quiet Meadow Bakery %d","kind":"organization","country":"NL"}`, i)
	}
	if h := d.timedHealth(t); h.code != 200 {
		t.Fatalf("healthz with the store up: %d %s", h.code, h.body)
	}
	if a := d.timedAPI(t, "POST", "/v1/accounts", token.Admin, account(0)); a.code != 201 {
		t.Fatalf("POST /v1/accounts with the store up: %d %s", a.code, a.body)
	}

	relay.pause()
	// Let the refresh loop (every second) start a read that hangs.
	time.Sleep(1500 * time.Millisecond)

	type call struct {
		name     string
		do       func() timed
		want     int
		contains string
		within   time.Duration
	}
	calls := []call{
		{"GET /healthz", func() timed { return d.timedHealth(t) }, 503, "postgres", 2 * time.Second},
		{"GET /v1/zones (read)", func() timed { return d.timedAPI(t, "GET", "/v1/zones", token.Read, "") }, 503, "store did not answer", bound},
		{"GET /v1/cases (read)", func() timed { return d.timedAPI(t, "GET", "/v1/cases", token.Compliance, "") }, 503, "store did not answer", bound},
		{"POST /v1/accounts (write)", func() timed { return d.timedAPI(t, "POST", "/v1/accounts", token.Admin, account(1)) }, 503, "store did not answer", bound},
		{"GET /metrics (no store)", func() timed {
			start := time.Now()
			resp, err := client.Get("http://" + d.Addrs().Admin + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return timed{resp.StatusCode, string(b), time.Since(start)}
		}, 200, "rampart_", time.Second},
	}
	// A public report needs no token: its handler's own store call is
	// what times out.
	report := call{"POST /v1/reports (public write)", func() timed {
		return d.timedAPI(t, "POST", "/v1/reports", "", `{"host":"hang.test","category":"abuse","description":"Phishing pages on this site, see the evidence."}`)
	}, 503, "store did not answer", bound}
	// Each call alone, then all of them at once (a hung store must not
	// make callers queue behind each other).
	for _, c := range append([]call{report}, calls...) {
		got := c.do()
		t.Logf("store hung: %-26s %d in %s", c.name, got.code, got.took.Round(time.Millisecond))
		if got.code != c.want || !strings.Contains(got.body, c.contains) {
			t.Errorf("store hung: %s = %d %.200s, want %d with %q", c.name, got.code, got.body, c.want, c.contains)
		}
		if got.took > c.within {
			t.Errorf("store hung: %s took %s, want at most %s", c.name, got.took, c.within)
		}
	}
	var wg sync.WaitGroup
	results := make([]timed, 4*len(calls))
	start := time.Now()
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = calls[i%len(calls)].do()
		}()
	}
	wg.Wait()
	t.Logf("store hung: %d concurrent admin calls answered in %s", len(results), time.Since(start).Round(time.Millisecond))
	for i, got := range results {
		c := calls[i%len(calls)]
		if got.code != c.want || got.took > c.within {
			t.Errorf("store hung, concurrent: %s = %d in %s", c.name, got.code, got.took)
		}
	}
	// The edge serves on from the zone states it has.
	if resp, body := d.edge(t, "GET", "hang.test", "/", ""); resp.StatusCode != 200 || !strings.Contains(body, "origin") {
		t.Errorf("edge with the store hung: %d %s", resp.StatusCode, body)
	}

	relay.resume()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h := d.timedHealth(t)
		if h.code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz after the store came back: %d %s", h.code, h.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if a := d.timedAPI(t, "POST", "/v1/accounts", token.Admin, account(2)); a.code != 201 {
		t.Errorf("POST /v1/accounts after the store came back: %d %s", a.code, a.body)
	}
	if a := d.timedAPI(t, "GET", "/v1/zones", token.Read, ""); a.code != 200 || !strings.Contains(a.body, "hang.test") {
		t.Errorf("GET /v1/zones after the store came back: %d %.200s", a.code, a.body)
	}
	if !strings.Contains(d.logs.String(), "store unavailable") {
		t.Error("no log line says the store was unavailable")
	}
}
