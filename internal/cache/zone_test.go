package cache

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/compress"
	"github.com/rampart-edge/rampart/internal/edge"
)

// clock is a settable clock for freshness tests.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }

// origin is a real handler standing for the zone's proxy: it counts its
// requests and answers with fn.
type origin struct {
	hits atomic.Int64
	mu   sync.Mutex
	last *http.Request
	fn   func(w http.ResponseWriter, r *http.Request)
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.hits.Add(1)
	o.mu.Lock()
	o.last = r
	o.mu.Unlock()
	o.fn(w, r)
}

func (o *origin) lastRequest() *http.Request {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

func newTestZone(t testing.TB, rules Rules, fn func(w http.ResponseWriter, r *http.Request), so StoreOptions) (*Zone, *origin, *clock) {
	t.Helper()
	s, err := OpenStore(so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	o := &origin{fn: fn}
	c := newClock()
	return NewZone(s, "example.org", rules, o, ZoneOptions{Now: c.now}), o, c
}

// do runs one request through the zone as the edge would: the phase, and
// the origin directly when the phase passes.
func do(z *Zone, method, url string, h ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, url, nil)
	for i := 0; i+1 < len(h); i += 2 {
		r.Header.Add(h[i], h[i+1])
	}
	w := httptest.NewRecorder()
	if z.Serve(w, r) == edge.Continue {
		w.Header().Set(edge.CacheHeader, StatusBypass)
		z.next.ServeHTTP(w, r)
	}
	return w
}

func cacheStatus(w *httptest.ResponseRecorder) string { return w.Header().Get(edge.CacheHeader) }

func static(cc, body string, extra ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", cc)
		w.Header().Set("Content-Type", "text/plain")
		for i := 0; i+1 < len(extra); i += 2 {
			w.Header().Add(extra[i], extra[i+1])
		}
		io.WriteString(w, body)
	}
}

func TestHitMiss(t *testing.T) {
	t.Parallel()
	z, o, c := newTestZone(t, Rules{}, static("max-age=60", "hello"), StoreOptions{})
	w := do(z, "GET", "http://example.org/a")
	if cacheStatus(w) != StatusMiss || w.Body.String() != "hello" {
		t.Fatalf("first: %s %q", cacheStatus(w), w.Body.String())
	}
	c.add(10 * time.Second)
	w = do(z, "GET", "http://example.org/a")
	if cacheStatus(w) != StatusHit || w.Body.String() != "hello" || w.Header().Get("Age") != "10" {
		t.Fatalf("second: %s %q age %q", cacheStatus(w), w.Body.String(), w.Header().Get("Age"))
	}
	w = do(z, "HEAD", "http://example.org/a")
	if cacheStatus(w) != StatusHit || w.Body.Len() != 0 || w.Header().Get("Content-Length") != "5" {
		t.Fatalf("HEAD: %s %d %q", cacheStatus(w), w.Body.Len(), w.Header().Get("Content-Length"))
	}
	if n := o.hits.Load(); n != 1 {
		t.Fatalf("origin hits = %d, want 1", n)
	}
	c.add(60 * time.Second)
	if w = do(z, "GET", "http://example.org/a"); cacheStatus(w) != StatusExpired {
		t.Fatalf("after expiry: %s", cacheStatus(w))
	}
	if w = do(z, "POST", "http://example.org/a"); cacheStatus(w) != StatusBypass {
		t.Fatalf("POST: %s", cacheStatus(w))
	}
}

func TestUncacheableIsPassed(t *testing.T) {
	t.Parallel()
	z, o, _ := newTestZone(t, Rules{}, static("private", "mine"), StoreOptions{})
	for i := range 3 {
		w := do(z, "GET", "http://example.org/p")
		want := StatusMiss
		if i > 0 {
			want = StatusBypass // hit-for-pass
		}
		if cacheStatus(w) != want || w.Body.String() != "mine" {
			t.Fatalf("request %d: %s %q", i, cacheStatus(w), w.Body.String())
		}
	}
	if n := o.hits.Load(); n != 3 {
		t.Fatalf("origin hits = %d, want 3", n)
	}
}

func TestCoalescing(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	z, o, _ := newTestZone(t, Rules{}, func(w http.ResponseWriter, r *http.Request) {
		<-release
		static("max-age=60", "slow")(w, r)
	}, StoreOptions{})
	const n = 1000
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if w := do(z, "GET", "http://example.org/cold"); w.Body.String() != "slow" || w.Code != 200 {
				bad.Add(1)
			}
		}()
	}
	// Let every request join before the origin answers.
	for deadline := time.Now().Add(5 * time.Second); o.hits.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	if h := o.hits.Load(); h != 1 {
		t.Fatalf("origin hits = %d, want exactly 1", h)
	}
	if bad.Load() != 0 {
		t.Fatalf("%d requests got a wrong answer", bad.Load())
	}
}

func TestRevalidation(t *testing.T) {
	t.Parallel()
	z, o, c := newTestZone(t, Rules{}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=10")
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.Header().Set("X-Revalidated", "yes")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, "body-v1")
	}, StoreOptions{})
	do(z, "GET", "http://example.org/r")
	c.add(11 * time.Second)
	w := do(z, "GET", "http://example.org/r")
	if cacheStatus(w) != StatusRevalidated || w.Body.String() != "body-v1" || w.Header().Get("X-Revalidated") != "yes" {
		t.Fatalf("revalidation: %s %q %q", cacheStatus(w), w.Body.String(), w.Header().Get("X-Revalidated"))
	}
	if got := o.lastRequest().Header.Get("If-None-Match"); got != `"v1"` {
		t.Fatalf("origin got If-None-Match %q", got)
	}
	// The 304 refreshed the freshness.
	c.add(5 * time.Second)
	if w = do(z, "GET", "http://example.org/r"); cacheStatus(w) != StatusHit || w.Header().Get("X-Revalidated") != "yes" {
		t.Fatalf("after revalidation: %s", cacheStatus(w))
	}
	if n := o.hits.Load(); n != 2 {
		t.Fatalf("origin hits = %d, want 2", n)
	}
}

func TestConditionalClient(t *testing.T) {
	t.Parallel()
	lm := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)
	z, o, _ := newTestZone(t, Rules{}, static("max-age=60", "x", "ETag", `"e1"`, "Last-Modified", lm), StoreOptions{})
	tests := []struct {
		name string
		h    []string
		code int
	}{
		{"matching If-None-Match", []string{"If-None-Match", `"e1"`}, 304},
		{"weak If-None-Match", []string{"If-None-Match", `W/"e1"`}, 304},
		{"list with match", []string{"If-None-Match", `"zz", "e1"`}, 304},
		{"other ETag", []string{"If-None-Match", `"e2"`}, 200},
		{"If-Modified-Since later", []string{"If-Modified-Since", time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)}, 304},
		{"If-Modified-Since earlier", []string{"If-Modified-Since", time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)}, 200},
		{"If-None-Match wins over If-Modified-Since", []string{"If-None-Match", `"e2"`, "If-Modified-Since", lm}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(z, "GET", "http://example.org/c", tt.h...)
			if w.Code != tt.code {
				t.Fatalf("code %d, want %d", w.Code, tt.code)
			}
			if tt.code == 304 && w.Body.Len() != 0 {
				t.Fatalf("304 with a body")
			}
		})
	}
	if n := o.hits.Load(); n != 1 {
		t.Fatalf("origin hits = %d, want 1", n)
	}
}

func TestRange(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("0123456789", 100)
	z, o, _ := newTestZone(t, Rules{}, static("max-age=60", body, "ETag", `"r"`), StoreOptions{})
	tests := []struct {
		name, rng, ifRange string
		code               int
		want, cr           string
	}{
		{"first bytes on a miss", "bytes=0-4", "", 206, "01234", "bytes 0-4/1000"},
		{"suffix", "bytes=-3", "", 206, "789", "bytes 997-999/1000"},
		{"open end", "bytes=995-", "", 206, "56789", "bytes 995-999/1000"},
		{"unsatisfiable", "bytes=5000-", "", 416, "", "bytes */1000"},
		{"several ranges give the whole body", "bytes=0-1,4-5", "", 200, body, ""},
		{"If-Range mismatch gives the whole body", "bytes=0-4", `"other"`, 200, body, ""},
		{"If-Range match", "bytes=0-4", `"r"`, 206, "01234", "bytes 0-4/1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := []string{"Range", tt.rng}
			if tt.ifRange != "" {
				h = append(h, "If-Range", tt.ifRange)
			}
			w := do(z, "GET", "http://example.org/range", h...)
			if w.Code != tt.code || w.Body.String() != tt.want || w.Header().Get("Content-Range") != tt.cr {
				t.Fatalf("got %d %q %q", w.Code, w.Body.String(), w.Header().Get("Content-Range"))
			}
		})
	}
	if n := o.hits.Load(); n != 1 {
		t.Fatalf("origin hits = %d, want 1", n)
	}
	if got := o.lastRequest().Header.Get("Range"); got != "" {
		t.Fatalf("origin got Range %q", got)
	}
}

func TestStaleWhileRevalidate(t *testing.T) {
	t.Parallel()
	var version atomic.Int64
	refreshed := make(chan struct{}, 10)
	z, o, c := newTestZone(t, Rules{}, func(w http.ResponseWriter, r *http.Request) {
		v := version.Add(1)
		w.Header().Set("Cache-Control", "max-age=1, stale-while-revalidate=60")
		fmt.Fprintf(w, "v%d", v)
		if v > 1 {
			refreshed <- struct{}{}
		}
	}, StoreOptions{})
	do(z, "GET", "http://example.org/s")
	c.add(5 * time.Second)
	for range 20 {
		if w := do(z, "GET", "http://example.org/s"); cacheStatus(w) != StatusStale || w.Body.String() != "v1" {
			if w.Body.String() != "v2" {
				t.Fatalf("stale: %s %q", cacheStatus(w), w.Body.String())
			}
		}
	}
	select {
	case <-refreshed:
	case <-time.After(5 * time.Second):
		t.Fatal("no background refresh")
	}
	// Let the refresh land, then the new version is served fresh.
	deadline := time.Now().Add(5 * time.Second)
	for {
		w := do(z, "GET", "http://example.org/s")
		if cacheStatus(w) == StatusHit && w.Body.String() == "v2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("refresh not stored: %s %q", cacheStatus(w), w.Body.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := o.hits.Load(); n != 2 {
		t.Fatalf("origin hits = %d, want 2 (one background refresh)", n)
	}
}

func TestStaleIfError(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	fn := func(cc string) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			if down.Load() {
				w.WriteHeader(http.StatusBadGateway)
				io.WriteString(w, "502 Bad Gateway\n")
				return
			}
			w.Header().Set("Cache-Control", cc)
			io.WriteString(w, "good")
		}
	}
	tests := []struct {
		name   string
		rules  Rules
		cc     string
		after  time.Duration
		status string
		code   int
	}{
		{"within stale-if-error", Rules{}, "max-age=1, stale-if-error=60", 30 * time.Second, StatusStale, 200},
		{"beyond stale-if-error", Rules{}, "max-age=1, stale-if-error=60", 120 * time.Second, StatusExpired, 502},
		{"zone default window", Rules{StaleIfError: time.Hour}, "max-age=1", 30 * time.Minute, StatusStale, 200},
		{"no window", Rules{}, "max-age=1", 30 * time.Second, StatusExpired, 502},
		{"always online", Rules{AlwaysOnline: true}, "max-age=1, must-revalidate", 1000 * time.Hour, StatusStale, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			down.Store(false)
			z, _, c := newTestZone(t, tt.rules, fn(tt.cc), StoreOptions{})
			do(z, "GET", "http://example.org/e")
			down.Store(true)
			c.add(tt.after)
			w := do(z, "GET", "http://example.org/e")
			if cacheStatus(w) != tt.status || w.Code != tt.code {
				t.Fatalf("got %s %d %q", cacheStatus(w), w.Code, w.Body.String())
			}
			if tt.code == 200 && w.Body.String() != "good" {
				t.Fatalf("stale body %q", w.Body.String())
			}
		})
	}
}

func TestVary(t *testing.T) {
	t.Parallel()
	z, o, _ := newTestZone(t, Rules{}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Language")
		io.WriteString(w, "lang="+r.Header.Get("Accept-Language"))
	}, StoreOptions{})
	for round := range 2 {
		for _, lang := range []string{"en", "fr", ""} {
			w := do(z, "GET", "http://example.org/v", "Accept-Language", lang)
			if w.Body.String() != "lang="+lang {
				t.Fatalf("round %d %q: body %q", round, lang, w.Body.String())
			}
			if round == 1 && cacheStatus(w) != StatusHit {
				t.Fatalf("round 1 %q: %s", lang, cacheStatus(w))
			}
		}
	}
	if n := o.hits.Load(); n != 3 {
		t.Fatalf("origin hits = %d, want 3", n)
	}
}

func TestPurge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		p     PurgeRequest
		purge []string // paths expected gone
	}{
		{"url", PurgeRequest{URLs: []string{"http://example.org/a/1?x=1"}}, []string{"/a/1?x=1"}},
		{"url as path", PurgeRequest{URLs: []string{"/b"}}, []string{"/b"}},
		{"prefix", PurgeRequest{Prefixes: []string{"/a/"}}, []string{"/a/1?x=1", "/a/2"}},
		{"tag", PurgeRequest{Tags: []string{"red"}}, []string{"/a/2", "/b"}},
		{"everything", PurgeRequest{Everything: true}, []string{"/a/1?x=1", "/a/2", "/b"}},
	}
	paths := []string{"/a/1?x=1", "/a/2", "/b"}
	tags := map[string]string{"/a/1": "blue", "/a/2": "red, green", "/b": "red"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			z, _, _ := newTestZone(t, Rules{}, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=600")
				w.Header().Set("Cache-Tag", tags[r.URL.Path])
				io.WriteString(w, r.URL.Path)
			}, StoreOptions{})
			for _, p := range paths {
				do(z, "GET", "http://example.org"+p)
			}
			if err := tt.p.Validate(); err != nil {
				t.Fatal(err)
			}
			if _, err := z.Purge(tt.p); err != nil {
				t.Fatal(err)
			}
			for _, p := range paths {
				gone := false
				for _, q := range tt.purge {
					gone = gone || q == p
				}
				want := StatusHit
				if gone {
					want = StatusMiss
				}
				if w := do(z, "GET", "http://example.org"+p); cacheStatus(w) != want {
					t.Errorf("%s after purge: %s, want %s", p, cacheStatus(w), want)
				}
			}
		})
	}
}

func TestCompressedVariants(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("compress me please, ", 200)
	z, o, _ := newTestZone(t, Rules{}, static("max-age=60", body, "ETag", `"c"`), StoreOptions{})
	for _, tt := range []struct{ ae, coding string }{
		{"gzip, deflate, br, zstd", "br"},
		{"gzip;q=1, br;q=0.5", "gzip"},
		{"zstd, gzip", "zstd"},
		{"identity", ""},
		{"", ""},
	} {
		for range 2 {
			w := do(z, "GET", "http://example.org/big", "Accept-Encoding", tt.ae)
			if got := w.Header().Get("Content-Encoding"); got != tt.coding {
				t.Fatalf("%q: Content-Encoding %q, want %q", tt.ae, got, tt.coding)
			}
			if !strings.Contains(w.Header().Get("Vary"), "Accept-Encoding") {
				t.Fatalf("%q: no Vary: Accept-Encoding", tt.ae)
			}
			got := w.Body.Bytes()
			if tt.coding != "" {
				if w.Header().Get("ETag") != `"c-`+tt.coding+`"` {
					t.Fatalf("ETag %q", w.Header().Get("ETag"))
				}
				var err error
				if got, err = compress.Decode(tt.coding, got); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, []byte(body)) {
				t.Fatalf("%q: body differs after decoding", tt.ae)
			}
		}
	}
	if n := o.hits.Load(); n != 1 {
		t.Fatalf("origin hits = %d, want 1", n)
	}
}

func TestMemoryBudgetUnderScan(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("1,000,000 entries")
	}
	const budget = 16 << 20
	s, err := OpenStore(StoreOptions{MemoryBytes: budget})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	body := make([]byte, 512)
	h := http.Header{"Content-Type": {"text/plain"}, "Cache-Control": {"max-age=60"}}
	for i := range 1_000_000 {
		p := fmt.Sprintf("/scan/%d", i)
		s.put(&Entry{Key: "z\x00http\x00h\x00" + p, Zone: "z", Host: "h", Path: p, Status: 200, Header: h, Body: body, Size: 512})
		if i%100_000 == 0 {
			if got := s.MemoryBytes(); got > budget {
				t.Fatalf("after %d entries: weighted size %d > budget %d", i, got, budget)
			}
		}
	}
	if got := s.MemoryBytes(); got > budget || got < budget/2 {
		t.Fatalf("weighted size %d, want within (%d, %d]", got, budget/2, budget)
	}
}

func BenchmarkScanHeap(b *testing.B) {
	const budget = 64 << 20
	s, err := OpenStore(StoreOptions{MemoryBytes: budget})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	h := http.Header{"Content-Type": {"text/plain"}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := fmt.Sprintf("/scan/%d", i)
		body := make([]byte, 1024) // each entry its own body, as from an origin
		s.put(&Entry{Key: p, Zone: "z", Path: p, Status: 200, Header: h, Body: body, Size: 1024})
	}
	b.StopTimer()
	var ms runtimeMemStats
	readHeap(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-inuse-MiB")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-live-MiB")
	b.ReportMetric(float64(s.Len()), "entries")
	b.ReportMetric(float64(s.MemoryBytes())/(1<<20), "weighted-MiB")
}

// TestBrokenOriginResponse: an origin body that breaks off (the proxy
// panics with http.ErrAbortHandler) or a proxy that writes nothing is a
// failed fetch: nothing is stored, and a stale copy answers when allowed.
func TestBrokenOriginResponse(t *testing.T) {
	t.Parallel()
	var broken atomic.Int64
	fn := func(w http.ResponseWriter, r *http.Request) {
		switch broken.Load() {
		case 1:
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(200)
			io.WriteString(w, "part")
			panic(http.ErrAbortHandler)
		case 2:
			return // writes nothing
		}
		w.Header().Set("Cache-Control", "max-age=1, stale-if-error=60")
		io.WriteString(w, "good")
	}
	tests := []struct {
		name   string
		mode   int64
		warm   bool
		code   int
		status string
	}{
		{"abort without a stored copy", 1, false, 502, StatusMiss},
		{"nothing written without a stored copy", 2, false, 502, StatusMiss},
		{"abort with a stale copy", 1, true, 200, StatusStale},
		{"nothing written with a stale copy", 2, true, 200, StatusStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			broken.Store(0)
			z, _, c := newTestZone(t, Rules{}, fn, StoreOptions{})
			if tt.warm {
				do(z, "GET", "http://example.org/b")
				c.add(5 * time.Second)
			}
			broken.Store(tt.mode)
			// Accept-Encoding makes the cache hold the body back until it
			// is whole, so nothing reaches the client before the failure.
			w := do(z, "GET", "http://example.org/b", "Accept-Encoding", "gzip")
			want := tt.status
			if tt.warm && tt.code == 502 {
				want = StatusExpired
			}
			if w.Code != tt.code || cacheStatus(w) != want {
				t.Fatalf("got %d %s %q", w.Code, cacheStatus(w), w.Body.String())
			}
			if !tt.warm {
				if _, ok := z.store.get(baseKey("example.org", location{scheme: "http", host: "example.org", path: "/b"})); ok {
					t.Fatal("a broken response was stored")
				}
			}
		})
	}
}

// discardWriter is a minimal ResponseWriter for the hit-path benchmark,
// so that the figure is the cache's own work.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

func BenchmarkHit(b *testing.B) {
	z, _, _ := newTestZone(b, Rules{}, static("max-age=3600", strings.Repeat("x", 1024)), StoreOptions{})
	do(z, "GET", "http://example.org/1k")
	r := httptest.NewRequest("GET", "http://example.org/1k", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		if z.Serve(w, r) != edge.Handled || w.h.Get(edge.CacheHeader) != StatusHit {
			b.Fatal("not a hit")
		}
	}
}

// TestKeysOutliveTheirRequest checks that what the store keeps (entries,
// Vary records, pass records) holds keys of its own: Serve builds each
// key in a pooled buffer the next request overwrites, and only a fresh hit
// may look up through it. After many requests of other paths through the
// same buffers, every stored key is still the one its entry was stored
// under, and a second round is answered from the cache.
func TestKeysOutliveTheirRequest(t *testing.T) {
	z, o, _ := newTestZone(t, Rules{}, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/pass/"):
			w.Header().Set("Cache-Control", "no-store")
		case strings.HasPrefix(r.URL.Path, "/vary/"):
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Vary", "Accept-Language")
		default:
			w.Header().Set("Cache-Control", "max-age=60")
		}
		io.WriteString(w, r.URL.Path)
	}, StoreOptions{})
	var paths []string
	for i := range 50 {
		paths = append(paths, fmt.Sprintf("/plain/%d?q=%d", i, i), fmt.Sprintf("/vary/%d", i), fmt.Sprintf("/pass/%d", i))
	}
	for round := range 2 {
		for _, p := range paths {
			w := do(z, "GET", "http://example.org"+p, "Accept-Language", "en")
			if want := strings.SplitN(p, "?", 2)[0]; w.Body.String() != want {
				t.Fatalf("round %d %s: body %q", round, p, w.Body.String())
			}
			if round == 1 && !strings.HasPrefix(p, "/pass/") && cacheStatus(w) != StatusHit {
				t.Fatalf("round 1 %s: %s", p, cacheStatus(w))
			}
		}
	}
	if n, want := o.hits.Load(), int64(50+50+2*50); n != want {
		t.Fatalf("origin hits = %d, want %d", n, want)
	}
	z.store.mem.CleanUp()
	n := 0
	for k, e := range z.store.mem.All() {
		n++
		base := baseKey(z.name, location{scheme: "http", host: e.Host, path: e.Path, query: e.Query})
		if k != e.Key || !strings.HasPrefix(k, base) {
			t.Errorf("stored under %q, entry key %q, want both to start with %q", k, e.Key, base)
		}
	}
	if n != 50+2*50+50 { // plain, vary (entry and record), pass records
		t.Errorf("%d stored entries, want %d", n, 200)
	}
}
