package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/compress"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/testenv"
	"github.com/rampart-edge/rampart/internal/testlog"
	"github.com/rampart-edge/rampart/internal/token"
)

// cacheOrigin is a real origin on 127.0.0.1 with one behaviour per path,
// counting its hits per path.
type cacheOrigin struct {
	*httptest.Server
	mu      sync.Mutex
	hits    map[string]int
	version atomic.Int64
	gate    chan struct{} // /slow waits for it
}

func newCacheOrigin(t *testing.T) *cacheOrigin {
	t.Helper()
	o := &cacheOrigin{hits: map[string]int{}, gate: make(chan struct{})}
	big := strings.Repeat("a compressible line of text\n", 400)
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.hits[r.URL.Path]++
		o.mu.Unlock()
		h := w.Header()
		switch r.URL.Path {
		case "/static":
			h.Set("Cache-Control", "max-age=600")
			h.Set("Cache-Tag", "static, all")
			io.WriteString(w, "static "+r.URL.RawQuery)
		case "/etag":
			h.Set("Cache-Control", "max-age=0")
			h.Set("ETag", `"v1"`)
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			io.WriteString(w, "etag body")
		case "/vary":
			h.Set("Cache-Control", "max-age=600")
			h.Set("Vary", "Accept-Language")
			io.WriteString(w, "lang="+r.Header.Get("Accept-Language"))
		case "/range":
			h.Set("Cache-Control", "max-age=600")
			io.WriteString(w, "0123456789abcdef")
		case "/slow":
			<-o.gate
			h.Set("Cache-Control", "max-age=600")
			io.WriteString(w, "slow")
		case "/swr":
			h.Set("Cache-Control", "max-age=1, stale-while-revalidate=60")
			fmt.Fprintf(w, "v%d", o.version.Add(1))
		case "/sie":
			h.Set("Cache-Control", "max-age=1, stale-if-error=600")
			io.WriteString(w, "kept")
		case "/big":
			h.Set("Cache-Control", "max-age=600")
			h.Set("Content-Type", "application/json")
			h.Set("ETag", `"big"`)
			io.WriteString(w, big)
		case "/blog/1", "/blog/2":
			h.Set("Cache-Control", "max-age=600")
			h.Set("Cache-Tag", "blog")
			io.WriteString(w, r.URL.Path)
		default:
			io.WriteString(w, "uncached")
		}
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *cacheOrigin) hitsOf(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits[path]
}

// cacheApp runs an app with one cached zone in front of o and an admin
// token; extra YAML goes at the top level.
type cacheApp struct {
	*running
	admin string // admin token
}

func startCacheApp(t *testing.T, o *cacheOrigin, dataDir, top, zoneCache string) *cacheApp {
	t.Helper()
	cfg := parseConfig(t, fmt.Sprintf(`
log: {format: "off"}
data_dir: %s
%s
zones:
  - host: example.org
    origins: [%s]
    cache: {enabled: true%s}
`, dataDir, top, o.URL, zoneCache))
	return startWithTokens(t, cfg)
}

func startWithTokens(t *testing.T, cfg *config.Config) *cacheApp {
	t.Helper()
	tokens := token.NewMemory()
	admin, _, err := tokens.Create(token.Admin, "test")
	if err != nil {
		t.Fatal(err)
	}
	logs := &testlog.Buffer{}
	a, err := New(cfg, Options{Logger: slog.New(slog.NewJSONHandler(logs, nil)), SkipCompliance: true, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{App: a, cancel: cancel, done: make(chan error, 1), logs: logs}
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return &cacheApp{running: r, admin: admin}
}

// plain is a client that neither asks for nor decodes compression.
var plain = &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 10 * time.Second}

func (c *cacheApp) get(t *testing.T, path string, hdr ...string) (*http.Response, string) {
	t.Helper()
	m := map[string]string{}
	for i := 0; i+1 < len(hdr); i += 2 {
		m[hdr[i]] = hdr[i+1]
	}
	return do(t, plain, c.url(path), "example.org", m)
}

func (c *cacheApp) purge(t *testing.T, body string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+c.Addrs().Admin+"/v1/zones/example.org/purge", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("purge %s: %d %s", body, resp.StatusCode, b)
	}
}

func status(resp *http.Response) string { return resp.Header.Get(edge.CacheHeader) }

func TestCacheEdgeIntegration(t *testing.T) {
	o := newCacheOrigin(t)
	c := startCacheApp(t, o, t.TempDir(), "", ", stale_if_error: 10m")

	t.Run("miss then hit", func(t *testing.T) {
		resp, body := c.get(t, "/static?a=1")
		if status(resp) != "MISS" || body != "static a=1" {
			t.Fatalf("first: %s %q", status(resp), body)
		}
		resp, body = c.get(t, "/static?a=1")
		if status(resp) != "HIT" || body != "static a=1" || resp.Header.Get("Age") == "" {
			t.Fatalf("second: %s %q age %q", status(resp), body, resp.Header.Get("Age"))
		}
		if n := o.hitsOf("/static"); n != 1 {
			t.Fatalf("origin hits %d", n)
		}
		if resp, _ = c.get(t, "/other"); status(resp) != "MISS" {
			t.Fatalf("uncacheable first: %s", status(resp))
		}
	})

	t.Run("revalidation", func(t *testing.T) {
		resp, body := c.get(t, "/etag")
		if status(resp) != "MISS" || body != "etag body" {
			t.Fatalf("first: %s %q", status(resp), body)
		}
		resp, body = c.get(t, "/etag")
		if status(resp) != "REVALIDATED" || body != "etag body" {
			t.Fatalf("second: %s %q", status(resp), body)
		}
		resp, body = c.get(t, "/etag", "If-None-Match", `"v1"`)
		if resp.StatusCode != 304 || body != "" {
			t.Fatalf("conditional: %d %q", resp.StatusCode, body)
		}
	})

	t.Run("vary", func(t *testing.T) {
		for range 2 {
			for _, l := range []string{"en", "de"} {
				if _, body := c.get(t, "/vary", "Accept-Language", l); body != "lang="+l {
					t.Fatalf("%s: %q", l, body)
				}
			}
		}
		if n := o.hitsOf("/vary"); n != 2 {
			t.Fatalf("origin hits %d, want 2", n)
		}
	})

	t.Run("range", func(t *testing.T) {
		resp, body := c.get(t, "/range", "Range", "bytes=2-5")
		if resp.StatusCode != 206 || body != "2345" || resp.Header.Get("Content-Range") != "bytes 2-5/16" {
			t.Fatalf("range: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Range"))
		}
		if resp, _ = c.get(t, "/range", "Range", "bytes=99-"); resp.StatusCode != 416 {
			t.Fatalf("unsatisfiable: %d", resp.StatusCode)
		}
	})

	t.Run("coalescing", func(t *testing.T) {
		const n = 1000
		tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: n, MaxConnsPerHost: n}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
		var wg sync.WaitGroup
		var ok atomic.Int64
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("GET", c.url("/slow"), nil)
				req.Host = "example.org"
				resp, err := client.Do(req)
				if err != nil {
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) == "slow" {
					ok.Add(1)
				}
			}()
		}
		// Hold the origin until every request has had time to arrive.
		time.Sleep(2 * time.Second)
		close(o.gate)
		wg.Wait()
		if got := o.hitsOf("/slow"); got != 1 {
			t.Fatalf("origin hits %d, want exactly 1", got)
		}
		if ok.Load() != n {
			t.Fatalf("%d of %d requests got the body", ok.Load(), n)
		}
	})

	t.Run("stale-while-revalidate", func(t *testing.T) {
		c.get(t, "/swr")
		time.Sleep(1500 * time.Millisecond)
		for i := range 5 {
			resp, body := c.get(t, "/swr")
			if i == 0 && (status(resp) != "STALE" || body != "v1") {
				t.Fatalf("stale: %s %q", status(resp), body)
			}
		}
		// Several stale answers, one background refresh: the first new
		// copy is v2 (on a loaded machine it may itself be stale again by
		// the time it is seen, and refreshed once more).
		deadline := time.Now().Add(5 * time.Second)
		for {
			resp, body := c.get(t, "/swr")
			if body != "v1" {
				if body != "v2" || (status(resp) != "HIT" && status(resp) != "STALE") {
					t.Fatalf("first refreshed copy: %s %q, want v2", status(resp), body)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no refreshed copy: %s %q", status(resp), body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("compression", func(t *testing.T) {
		for _, coding := range []string{"br", "zstd", "gzip"} {
			resp, body := c.get(t, "/big", "Accept-Encoding", coding)
			if resp.Header.Get("Content-Encoding") != coding || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
				t.Fatalf("%s: Content-Encoding %q Vary %q", coding, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
			}
			dec, err := compress.Decode(coding, []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dec, []byte(strings.Repeat("a compressible line of text\n", 400))) {
				t.Fatalf("%s: decoded body differs", coding)
			}
		}
		if n := o.hitsOf("/big"); n != 1 {
			t.Fatalf("origin hits %d", n)
		}
	})

	t.Run("purge", func(t *testing.T) {
		for _, p := range []string{"/blog/1", "/blog/2", "/static?a=1", "/range"} {
			c.get(t, p)
		}
		tests := []struct {
			body string
			gone []string
		}{
			{`{"urls": ["http://example.org/static?a=1"]}`, []string{"/static?a=1"}},
			{`{"prefixes": ["/blog/"]}`, []string{"/blog/1", "/blog/2"}},
			{`{"tags": ["blog"]}`, []string{"/blog/1", "/blog/2"}},
			{`{"everything": true}`, []string{"/range", "/blog/1", "/static?a=1"}},
		}
		for _, tt := range tests {
			for _, p := range tt.gone {
				c.get(t, p) // make sure it is stored
			}
			c.purge(t, tt.body)
			for _, p := range tt.gone {
				if resp, _ := c.get(t, p); status(resp) != "MISS" {
					t.Fatalf("after purge %s: %s is %s", tt.body, p, status(resp))
				}
			}
		}
	})

	t.Run("stale-if-error", func(t *testing.T) {
		c.get(t, "/sie")
		time.Sleep(1100 * time.Millisecond)
		o.Close() // the origin is down
		for range 3 {
			resp, body := c.get(t, "/sie")
			if status(resp) != "STALE" || body != "kept" || resp.StatusCode != 200 {
				t.Fatalf("origin down: %d %s %q", resp.StatusCode, status(resp), body)
			}
		}
		// Fresh entries are still hits.
		if resp, _ := c.get(t, "/range"); resp.StatusCode != 200 {
			t.Fatalf("fresh entry with the origin down: %d", resp.StatusCode)
		}
	})
}

func TestCacheDiskAcrossRestart(t *testing.T) {
	o := newCacheOrigin(t)
	dir := t.TempDir()
	top := "cache: {memory: 16MiB, disk: {size: 64MiB}}"
	c := startCacheApp(t, o, dir, top, "")
	if resp, _ := c.get(t, "/static?x=1"); status(resp) != "MISS" {
		t.Fatalf("first: %s", status(resp))
	}
	// Stopping closes the store, which writes what is queued for the disk.
	c.stop(t)

	c2 := startCacheApp(t, o, dir, top, "")
	resp, body := c2.get(t, "/static?x=1")
	if status(resp) != "HIT" || body != "static x=1" {
		t.Fatalf("after restart: %s %q", status(resp), body)
	}
	if n := o.hitsOf("/static"); n != 1 {
		t.Fatalf("origin hits %d, want 1", n)
	}
}

func TestCacheBypassRules(t *testing.T) {
	o := newCacheOrigin(t)
	c := startCacheApp(t, o, t.TempDir(), "", ", bypass: {paths: [/static], cookies: [session]}")
	for range 2 {
		if resp, _ := c.get(t, "/static"); status(resp) != "BYPASS" {
			t.Fatalf("bypass path: %s", status(resp))
		}
	}
	c.get(t, "/range")
	if resp, _ := c.get(t, "/range", "Cookie", "session=1"); status(resp) != "BYPASS" {
		t.Fatalf("bypass cookie: %s", status(resp))
	}
	if resp, _ := c.get(t, "/range"); status(resp) != "HIT" {
		t.Fatalf("without cookie: %s", status(resp))
	}
}

func TestCacheBypassIsCompressed(t *testing.T) {
	o := newCacheOrigin(t)
	c := startCacheApp(t, o, t.TempDir(), "", ", bypass: {paths: [/big]}")
	resp, body := c.get(t, "/big", "Accept-Encoding", "gzip")
	if status(resp) != "BYPASS" || resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("ETag") != `W/"big"` {
		t.Fatalf("bypass: %s %q %q", status(resp), resp.Header.Get("Content-Encoding"), resp.Header.Get("ETag"))
	}
	dec, err := compress.Decode("gzip", []byte(body))
	if err != nil || string(dec) != strings.Repeat("a compressible line of text\n", 400) {
		t.Fatalf("decoded: %v, %d bytes", err, len(dec))
	}
}

// TestCachePurgeAcrossNodes runs two nodes sharing the test Redis server
// (testenv.Redis): a purge through one node's admin API empties the
// other's cache within a second.
func TestCachePurgeAcrossNodes(t *testing.T) {
	o := newCacheOrigin(t)
	top := "cluster: {redis: \"redis://" + testenv.Redis(t) + "/0\"}"
	a := startCacheApp(t, o, t.TempDir(), top, "")
	b := startCacheApp(t, o, t.TempDir(), top, "")
	for _, n := range []*cacheApp{a, b} {
		n.get(t, "/blog/1")
		if resp, _ := n.get(t, "/blog/1"); status(resp) != "HIT" {
			t.Fatalf("before purge: %s", status(resp))
		}
	}
	start := time.Now()
	a.purge(t, `{"tags": ["blog"]}`)
	if resp, _ := a.get(t, "/blog/1"); status(resp) != "MISS" {
		t.Fatalf("purging node: %s", status(resp))
	}
	for {
		resp, _ := b.get(t, "/blog/1")
		if status(resp) == "MISS" {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("other node still answers %s a second after the purge", status(resp))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
