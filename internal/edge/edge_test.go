package edge

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rampart-edge/rampart/internal/accesslog"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/metrics"
	"github.com/rampart-edge/rampart/internal/reqctx"
	"github.com/rampart-edge/rampart/internal/testlog"
)

// testEdge starts a Server on 127.0.0.1 with the given routes and returns
// its base URL.
func testEdge(t *testing.T, opts Options, rt *Routes) (*Server, string) {
	t.Helper()
	if opts.Timeouts == (config.Timeouts{}) {
		opts.Timeouts = config.Timeouts{ReadHeader: 5 * time.Second, Idle: 30 * time.Second, MaxHeaderBytes: 64 << 10}
	}
	s := New(opts)
	if rt != nil {
		s.SetRoutes(rt)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln, "http", nil) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return s, "http://" + ln.Addr().String()
}

func mapLookup(zones map[string]*Zone) func(string) (*Zone, bool) {
	return func(host string) (*Zone, bool) {
		z, ok := zones[hostOnly(host)]
		return z, ok
	}
}

func get(t *testing.T, url, host string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func TestRequestPath(t *testing.T) {
	reg := metrics.New()
	var logBuf testlog.Buffer
	alog := accesslog.New(&logBuf, accesslog.JSON)
	var order []string
	var mu sync.Mutex
	record := func(name string, d Decision) Phase {
		return PhaseFunc(func(w http.ResponseWriter, r *http.Request) Decision {
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			if d == Handled {
				reqctx.From(r.Context()).Block = name
				w.WriteHeader(http.StatusForbidden)
			}
			return d
		})
	}
	var originHits atomic.Int64
	origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		originHits.Add(1)
		info := reqctx.From(r.Context())
		info.Origin = "http://127.0.0.1:1"
		// An origin sending its own id must not replace the edge's.
		w.Header().Add(RequestIDHeader, "forged")
		fmt.Fprintf(w, "zone=%s id=%s ip=%s", info.Zone, info.ID, info.ClientIP)
	})
	site := &Zone{Name: "site.test", Handler: origin, Metrics: reg.Zone("site.test")}
	site.Phases[PhaseWAF] = record("waf", Continue)
	site.Phases[PhaseAccess] = record("access", Continue)
	blocked := &Zone{Name: "blocked.test", Handler: origin, Metrics: reg.Zone("blocked.test")}
	blocked.Phases[PhaseRateLimit] = record("ratelimit", Handled)
	blocked.Phases[PhaseCache] = record("cache", Continue)
	small := &Zone{Name: "small.test", Handler: origin, Metrics: reg.Zone("small.test"), MaxBodySize: 1024}
	panics := &Zone{Name: "panic.test", Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }), Metrics: reg.Zone("panic.test")}

	_, base := testEdge(t, Options{Metrics: reg, AccessLog: alog}, &Routes{
		Lookup: mapLookup(map[string]*Zone{"site.test": site, "blocked.test": blocked, "panic.test": panics, "small.test": small}),
	})

	t.Run("routed", func(t *testing.T) {
		resp, body := get(t, base+"/x?y=1", "SITE.test:8080")
		id := resp.Header.Get(RequestIDHeader)
		if resp.StatusCode != 200 || id == "" || len(resp.Header.Values(RequestIDHeader)) != 1 {
			t.Fatalf("status %d, ids %q", resp.StatusCode, resp.Header.Values(RequestIDHeader))
		}
		if want := "zone=site.test id=" + id + " ip=127.0.0.1"; body != want {
			t.Errorf("body %q, want %q", body, want)
		}
		mu.Lock()
		got := strings.Join(order, ",")
		order = nil
		mu.Unlock()
		if got != "access,waf" {
			t.Errorf("phase order %q, want access,waf", got)
		}
	})
	t.Run("phase answers", func(t *testing.T) {
		before := originHits.Load()
		resp, _ := get(t, base+"/", "blocked.test")
		if resp.StatusCode != 403 || resp.Header.Get(RequestIDHeader) == "" {
			t.Errorf("status %d id %q", resp.StatusCode, resp.Header.Get(RequestIDHeader))
		}
		if originHits.Load() != before {
			t.Error("origin contacted after a phase answered")
		}
		mu.Lock()
		got := strings.Join(order, ",")
		order = nil
		mu.Unlock()
		if got != "ratelimit" {
			t.Errorf("phases run %q, want ratelimit only", got)
		}
	})
	t.Run("unknown host 421", func(t *testing.T) {
		before := originHits.Load()
		resp, body := get(t, base+"/", "nowhere.test")
		id := resp.Header.Get(RequestIDHeader)
		if resp.StatusCode != http.StatusMisdirectedRequest || id == "" || !strings.Contains(body, id) {
			t.Errorf("status %d id %q body %q", resp.StatusCode, id, body)
		}
		if originHits.Load() != before {
			t.Error("origin contacted for an unknown host")
		}
	})
	t.Run("connect refused", func(t *testing.T) {
		before := originHits.Load()
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "CONNECT site.test:443 HTTP/1.1\r\nHost: site.test:443\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get(RequestIDHeader) == "" {
			t.Errorf("CONNECT: status %d id %q", resp.StatusCode, resp.Header.Get(RequestIDHeader))
		}
		if originHits.Load() != before {
			t.Error("CONNECT reached the origin")
		}
	})
	t.Run("body too large", func(t *testing.T) {
		before := originHits.Load()
		req, _ := http.NewRequest("POST", base+"/upload", strings.NewReader(strings.Repeat("x", 2048)))
		req.Host = "small.test"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get(RequestIDHeader) == "" {
			t.Errorf("status %d id %q", resp.StatusCode, resp.Header.Get(RequestIDHeader))
		}
		if originHits.Load() != before {
			t.Error("oversized body reached the origin")
		}
		req, _ = http.NewRequest("POST", base+"/upload", strings.NewReader(strings.Repeat("x", 1024)))
		req.Host = "small.test"
		if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
			t.Errorf("body at the limit: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
	})
	t.Run("panic 500", func(t *testing.T) {
		resp, body := get(t, base+"/", "panic.test")
		id := resp.Header.Get(RequestIDHeader)
		if resp.StatusCode != 500 || id == "" || !strings.Contains(body, id) {
			t.Errorf("status %d id %q body %q", resp.StatusCode, id, body)
		}
	})
	t.Run("metrics and log", func(t *testing.T) {
		if got := testutil.ToFloat64(reg.Zone("site.test").Counter(200)); got != 1 {
			t.Errorf("site.test 200s = %v", got)
		}
		if got := testutil.ToFloat64(reg.Zone(metrics.UnknownZone).Counter(421)); got != 1 {
			t.Errorf("unknown 421s = %v", got)
		}
		if got := testutil.ToFloat64(reg.Zone("panic.test").Counter(500)); got != 1 {
			t.Errorf("panic.test 500s = %v", got)
		}
		if err := alog.Close(); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(logBuf.String()), "\n")
		if len(lines) != 7 {
			t.Fatalf("%d log lines, want 7:\n%s", len(lines), logBuf.String())
		}
		var first map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
			t.Fatal(err)
		}
		if first["zone"] != "site.test" || first["path"] != "/x?y=1" || first["origin"] != "http://127.0.0.1:1" || first["status"] != 200.0 {
			t.Errorf("first line %v", first)
		}
		if !strings.Contains(lines[1], `"block":"ratelimit"`) {
			t.Errorf("blocked line lacks the block reason: %s", lines[1])
		}
	})
}

func TestRedirectHTTPS(t *testing.T) {
	var acmeHits atomic.Int64
	z := &Zone{Name: "tls.test", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "origin") })}
	_, base := testEdge(t, Options{}, &Routes{
		Lookup:         mapLookup(map[string]*Zone{"tls.test": z, "plain.test": z}),
		RedirectHTTP:   true,
		HasCertificate: func(host string) bool { return host == "tls.test" },
		HTTPSPort:      "8443",
		ACMEChallenge: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/.well-known/acme-challenge/tok" {
					acmeHits.Add(1)
					io.WriteString(w, "tok.key")
					return
				}
				next.ServeHTTP(w, r)
			})
		},
	})
	tests := []struct {
		name, host, path string
		status           int
		location, body   string
	}{
		{"redirect keeps path and query", "TLS.test:80", "/a/b?c=d", 308, "https://tls.test:8443/a/b?c=d", ""},
		{"no certificate, no redirect", "plain.test", "/a", 200, "", "origin"},
		{"acme challenge exempt", "tls.test", "/.well-known/acme-challenge/tok", 200, "", "tok.key"},
		{"other acme path falls through to redirect", "tls.test", "/.well-known/acme-challenge/other", 308, "https://tls.test:8443/.well-known/acme-challenge/other", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, base+tt.path, tt.host)
			if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.location || resp.Header.Get(RequestIDHeader) == "" {
				t.Errorf("status %d location %q id %q", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get(RequestIDHeader))
			}
			if tt.body != "" && body != tt.body {
				t.Errorf("body %q, want %q", body, tt.body)
			}
		})
	}
	if acmeHits.Load() != 1 {
		t.Errorf("acme hits = %d, want 1", acmeHits.Load())
	}
}

func TestRoutesDrain(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	slow := &Zone{Name: "slow.test", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "old")
	})}
	s, base := testEdge(t, Options{}, &Routes{Lookup: mapLookup(map[string]*Zone{"slow.test": slow})})
	first := s.Routes()

	result := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest("GET", base+"/", nil)
		req.Host = "slow.test"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			result <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		result <- string(b)
	}()
	<-started
	fresh := &Zone{Name: "new", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "new") })}
	second := &Routes{Lookup: func(string) (*Zone, bool) { return fresh, true }}
	if old := s.SetRoutes(second); old != first {
		t.Fatal("SetRoutes did not return the previous routes")
	}
	if _, body := get(t, base+"/", "any.test"); body != "new" {
		t.Errorf("new request served %q, want new", body)
	}
	select {
	case <-first.Drained():
		t.Fatal("old routes drained while a request still used them")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	select {
	case <-first.Drained():
	case <-time.After(5 * time.Second):
		t.Fatal("old routes never drained")
	}
	if got := <-result; got != "old" {
		t.Errorf("in-flight request got %q, want old", got)
	}
	third := &Routes{Lookup: second.Lookup}
	s.SetRoutes(third)
	select {
	case <-second.Drained():
	case <-time.After(5 * time.Second):
		t.Fatal("idle routes never drained")
	}
}

func TestRequestIDsUnique(t *testing.T) {
	g := newIDGenerator()
	seen := make(map[string]bool)
	for i := 0; i < 10000; i++ {
		id := g.Next()
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
	if other := newIDGenerator().Next(); seen[other] {
		t.Errorf("second generator repeated %q", other)
	}
}

func TestHostOnly(t *testing.T) {
	tests := map[string]string{
		"Example.ORG:8080": "example.org", "example.org.": "example.org", "[2001:DB8::1]:443": "2001:db8::1",
		"": "", "[bad": "", "127.0.0.1:80": "127.0.0.1",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			if got := hostOnly(in); got != want {
				t.Errorf("hostOnly(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func BenchmarkServeHTTP(b *testing.B) {
	reg := metrics.New()
	z := &Zone{Name: "bench.test", Metrics: reg.Zone("bench.test"), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
	})}
	s := New(Options{Metrics: reg, AccessLog: accesslog.New(io.Discard, accesslog.JSON)})
	s.SetRoutes(&Routes{Lookup: mapLookup(map[string]*Zone{"bench.test": z})})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		// The edge writes the request id into the request's header, so
		// each goroutine needs its own request, as each connection has.
		req, _ := http.NewRequest("GET", "http://bench.test/path", nil)
		req.RemoteAddr = "192.0.2.1:1234"
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			s.ServeHTTP(w, req)
		}
	})
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

func TestSlowHeaderTimeout(t *testing.T) {
	z := &Zone{Name: "t.test", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}
	_, base := testEdge(t, Options{Timeouts: config.Timeouts{ReadHeader: 200 * time.Millisecond, MaxHeaderBytes: 4096}},
		&Routes{Lookup: mapLookup(map[string]*Zone{"t.test": z})})
	addr := strings.TrimPrefix(base, "http://")

	t.Run("slow head closed", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: t.test\r\n") // never finished
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		_, err = io.ReadAll(conn)
		if err != nil {
			t.Fatalf("connection not closed by the server: %v", err)
		}
		if el := time.Since(start); el > 4*time.Second {
			t.Errorf("closed after %v", el)
		}
	})
	t.Run("head too large", func(t *testing.T) {
		req, _ := http.NewRequest("GET", base+"/", nil)
		req.Host = "t.test"
		req.Header.Set("X-Big", strings.Repeat("a", 16<<10))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d, want 431", resp.StatusCode)
		}
	})
}

// TestRoutesDrainUnchained (issue 14): a long request (a WebSocket, say)
// on old routes holds only those: routes replaced after them drain on
// their own, and InFlight counts the request until it ends.
func TestRoutesDrainUnchained(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	slow := &Zone{Name: "slow.test", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	})}
	s, base := testEdge(t, Options{}, &Routes{Lookup: mapLookup(map[string]*Zone{"slow.test": slow})})
	first := s.Routes()
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequest("GET", base+"/", nil)
		req.Host = "slow.test"
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	second := &Routes{Lookup: first.Lookup}
	s.SetRoutes(second)
	s.SetRoutes(&Routes{Lookup: first.Lookup})
	select {
	case <-second.Drained():
	case <-time.After(5 * time.Second):
		t.Fatal("routes replaced after a long request's routes never drained")
	}
	if n := s.InFlight(); n != 1 {
		t.Errorf("InFlight = %d, want 1", n)
	}
	select {
	case <-first.Drained():
		t.Fatal("the long request's routes drained while it runs")
	default:
	}
	close(release)
	<-done
	<-first.Drained()
	deadline := time.Now().Add(5 * time.Second)
	for s.InFlight() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := s.InFlight(); n != 0 {
		t.Errorf("InFlight = %d after the request ended", n)
	}
}
