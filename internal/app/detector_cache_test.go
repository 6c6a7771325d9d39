package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/attack"
)

// troubledOrigin is a real origin on 127.0.0.1 that is in trouble: it
// answers 500 (fail), or after a delay (slow), and records the query
// strings it receives, so a test can tell that a cache-busting flood
// reached it.
type troubledOrigin struct {
	*httptest.Server
	mu      sync.Mutex
	queries map[string]bool
	hits    atomic.Int64
}

func newTroubledOrigin(t *testing.T, status int, delay time.Duration) *troubledOrigin {
	t.Helper()
	o := &troubledOrigin{queries: map[string]bool{}}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		o.mu.Lock()
		o.queries[r.URL.RawQuery] = true
		o.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
			}
		}
		// Cacheable when it succeeds: the flood's unique query strings
		// are what make every request a miss.
		w.Header().Set("Cache-Control", "max-age=600")
		w.WriteHeader(status)
		io.WriteString(w, "origin")
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *troubledOrigin) distinctQueries() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.queries)
}

// TestDetectorSeesOriginBehindCache (issue 11, point 10): in a zone with
// under_attack: auto, a cache-busting flood (a unique query string per
// request, so every request is a cache miss the cache phase fetches
// itself) against a failing, slow or saturated origin switches the zone
// on, exactly as the same flood does in a zone without the cache; after
// the switch a new client gets the challenge page. The detector's rate
// signal is tuned out of reach (MinRate) in the error and latency cases,
// so only the origin's answers can switch the zone on: the signals the
// cache phase used to hide. The shed case runs with the detector's
// defaults (no warm-up is needed for it).
func TestDetectorSeesOriginBehindCache(t *testing.T) {
	const maxFlood = 6000
	dir := t.TempDir()
	cert, key, x509 := selfSigned(t, dir, "site", "site.test")
	tuned := func(o *attack.Options) {
		o.Warmup = 1
		o.MinRate = 1e9 // the rate alone never trips
		o.MinSample = 5
		o.QuietPeriod = time.Hour
	}
	cases := []struct {
		name    string
		status  int
		delay   time.Duration
		limits  string // origin_limits
		tune    func(*attack.Options)
		workers int
		h2      bool
	}{
		{name: "errors", status: 500, tune: tuned, workers: 4},
		{name: "errors h2", status: 500, tune: tuned, workers: 4, h2: true},
		{name: "latency", status: 200, delay: 700 * time.Millisecond, tune: tuned, workers: 16},
		{name: "shed", status: 200, delay: 3 * time.Second, limits: "origin_limits: {max_conns: 2, queue: 2, queue_timeout: 10s}", workers: 40},
		{name: "shed h2", status: 200, delay: 3 * time.Second, limits: "origin_limits: {max_conns: 2, queue: 2, queue_timeout: 10s}", workers: 40, h2: true},
	}
	for _, tc := range cases {
		for _, cached := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s cache=%v", tc.name, cached), func(t *testing.T) {
				tuneDetector = tc.tune
				t.Cleanup(func() { tuneDetector = nil })
				o := newTroubledOrigin(t, tc.status, tc.delay)
				cfg := parseConfig(t, fmt.Sprintf(`
data_dir: %s
listen: {https: "127.0.0.1:8443"}
log: {format: "off"}
tls:
  certificates: [{cert: %s, key: %s}]
zones:
  - host: site.test
    origins: [%s]
    under_attack: auto
    challenge: {difficulty: 12}
    cache: {enabled: %v}
    %s
`, t.TempDir(), cert, key, o.URL, cached, tc.limits))
				r := start(t, cfg)
				c, base := clientFrom("127.0.0.1"), r.url("")
				if tc.h2 {
					c = tlsClient(true, x509)
					addr := r.Addrs().HTTPS
					c.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
						return (&net.Dialer{}).DialContext(ctx, network, addr)
					}
					_, port, _ := net.SplitHostPort(addr)
					base = "https://site.test:" + port
				}
				if tc.tune != nil {
					time.Sleep(1100 * time.Millisecond) // the one-second warm-up, without traffic
				}
				active := func() bool { return r.protect.detectors["site.test"].d.Active() }
				ctx, cancel := context.WithTimeout(context.Background(), 12*time.Second)
				defer cancel()
				var sent atomic.Int64
				var wg sync.WaitGroup
				for w := range tc.workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						// Bounded: at most maxFlood requests in all.
						for i := 0; ctx.Err() == nil && !active() && sent.Add(1) <= maxFlood; i++ {
							req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/page?bust=%d-%d", base, w, i), nil)
							req.Host = "site.test"
							req.Header.Set("User-Agent", "rampart-test")
							resp, err := c.Do(req)
							if err != nil {
								continue
							}
							io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							// Paced, so the flood spans the seconds the
							// detector needs to judge.
							time.Sleep(5 * time.Millisecond)
						}
					}()
				}
				deadline := time.Now().Add(10 * time.Second)
				for !active() && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				on := active()
				// The requests admitted to the origin may still be on their
				// way there (a loaded machine; the shed cases switch on as
				// soon as the queue overflows): give them until the
				// deadline before the flood's context cancels them.
				for on && o.distinctQueries() < 2 && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				cancel()
				wg.Wait()
				if !on {
					t.Fatalf("the zone did not switch on after %d cache-busting requests (%d reached the origin, %d distinct queries)",
						min(sent.Load(), maxFlood), o.hits.Load(), o.distinctQueries())
				}
				if o.distinctQueries() < 2 {
					t.Fatalf("the origin saw %d distinct query strings: the flood did not reach it", o.distinctQueries())
				}
				// Under attack now: a new client without a clearance is
				// challenged and does not reach the origin.
				// Flood requests the client gave up on may still be on
				// their way to the origin: wait until it is quiet.
				before := o.hits.Load()
				for quiet := time.Now().Add(3 * time.Second); time.Now().Before(quiet); {
					time.Sleep(200 * time.Millisecond)
					if now := o.hits.Load(); now == before {
						break
					} else {
						before = now
					}
				}
				req, _ := http.NewRequest("GET", base+"/page?bust=after", nil)
				req.Host = "site.test"
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.Header.Get("Rampart-Challenge") == "" {
					t.Errorf("after the switch: status %d without the challenge header", resp.StatusCode)
				}
				if got := o.hits.Load(); got != before {
					t.Errorf("after the switch the origin got %d more requests, want 0", got-before)
				}
				if got := testutilGauge(t, r, "rampart_under_attack", "site.test"); got != 1 {
					t.Errorf("rampart_under_attack = %v, want 1", got)
				}
			})
		}
	}
}

// testutilGauge reads a gauge of the app's metrics by its zone label.
func testutilGauge(t *testing.T, r *running, name, zone string) float64 {
	t.Helper()
	mfs, err := r.Metrics().Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "zone" && l.GetValue() == zone {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}
