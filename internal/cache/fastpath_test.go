package cache

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/benchnet"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/h1"
	"github.com/rampart-edge/rampart/internal/metrics"
)

// mapOnly hides the server's AddRawHeader fast path, so that serve takes
// its header map path.
type mapOnly struct{ http.ResponseWriter }

// counting passes AddRawHeader on and counts the blocks the server took.
type counting struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c counting) AddRawHeader(lines []byte, hasType, hasEncoding, hasDate bool) bool {
	ok := c.ResponseWriter.(edge.RawHeaderAdder).AddRawHeader(lines, hasType, hasEncoding, hasDate)
	if ok {
		c.n.Add(1)
	}
	return ok
}

// TestBlockPathMatchesMapPath serves the same stored responses through a
// real internal/h1 server twice, once with the preformatted header block
// (serveBlock) and once through the header map, and checks that status,
// header fields and body are the same, and that the block path was taken
// exactly where it applies.
func TestBlockPathMatchesMapPath(t *testing.T) {
	text := strings.Repeat("compressible text ", 100)
	origins := map[string]func(http.ResponseWriter, *http.Request){
		"/text": static("max-age=3600", text),
		"/bin": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=3600")
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write([]byte(strings.Repeat("\x00\x01", 600)))
		},
		"/rich": static("max-age=3600", text, "Vary", "Origin", "Accept-Ranges", "none", "Etag", `"v1"`,
			"Date", "Thu, 01 Jan 2026 12:00:00 GMT", "Last-Modified", "Thu, 01 Jan 2026 11:00:00 GMT", "X-Multi", "a", "X-Multi", "b"),
		"/varyae": static("max-age=3600", text, "Vary", "accept-encoding"),
		"/notype": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=3600")
			w.Header()["Content-Type"] = nil // sniffed by the server
			io.WriteString(w, "<html><body>hello</body></html>")
		},
		"/empty": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=3600")
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusOK)
		},
	}
	z, _, c := newTestZone(t, Rules{}, func(w http.ResponseWriter, r *http.Request) {
		origins[r.URL.Path](w, r)
	}, StoreOptions{})
	var blocks atomic.Int64
	srv := &h1.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Mode") == "map" {
			w = mapOnly{w}
		} else {
			w = counting{w, &blocks}
		}
		if p := r.Header.Get("X-Preset"); p != "" {
			w.Header().Set(p, "preset")
		}
		if z.Serve(w, r) == edge.Continue {
			t.Errorf("%s %s: not handled by the cache", r.Method, r.URL)
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	get := func(method, path, mode string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req := method + " " + path + " HTTP/1.1\r\nHost: example.org\r\nX-Mode: " + mode + "\r\n"
		for i := 0; i+1 < len(hdr); i += 2 {
			req += hdr[i] + ": " + hdr[i+1] + "\r\n"
		}
		if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}

	tests := []struct {
		name, method, path string
		hdr                []string
		block              bool // the block path applies
	}{
		{"text", "GET", "/text", nil, true},
		{"text HEAD", "HEAD", "/text", nil, true},
		{"binary", "GET", "/bin", nil, true},
		{"stored Vary, Accept-Ranges, Date, repeated field", "GET", "/rich", nil, true},
		{"Vary already naming Accept-Encoding", "GET", "/varyae", nil, true},
		{"sniffed type", "GET", "/notype", nil, true},
		{"empty body", "GET", "/empty", nil, true},
		{"gzip variant", "GET", "/text", []string{"Accept-Encoding", "gzip"}, true},
		{"br variant of a varied response", "GET", "/rich", []string{"Accept-Encoding", "br"}, true},
		{"range", "GET", "/text", []string{"Range", "bytes=10-19"}, false},
		{"if-none-match", "GET", "/rich", []string{"If-None-Match", `"v1"`}, false},
		{"if-modified-since", "GET", "/rich", []string{"If-Modified-Since", "Thu, 01 Jan 2026 11:00:00 GMT"}, false},
		{"field already set by an earlier phase", "GET", "/text", []string{"X-Preset", "Cache-Control"}, false},
		{"Vary already set by an earlier phase", "GET", "/bin", []string{"X-Preset", "Vary"}, false},
	}
	for path := range origins {
		get("GET", path, "map") // MISS: stores the entry
	}
	c.add(7 * time.Second) // a non-zero Age
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := blocks.Load()
			fast, fastBody := get(tt.method, tt.path, "block", tt.hdr...)
			if took := blocks.Load() - before; took != map[bool]int64{true: 1, false: 0}[tt.block] {
				t.Fatalf("block path taken %d times, want %v", took, tt.block)
			}
			slow, slowBody := get(tt.method, tt.path, "map", tt.hdr...)
			if fast.StatusCode != slow.StatusCode || fastBody != slowBody {
				t.Fatalf("block path %d %q, map path %d %q", fast.StatusCode, fastBody, slow.StatusCode, slowBody)
			}
			if fast.Header.Get(edge.CacheHeader) != StatusHit || fast.Header.Get("Age") != "7" {
				t.Fatalf("block path: %s, Age %q", fast.Header.Get(edge.CacheHeader), fast.Header.Get("Age"))
			}
			for _, h := range []http.Header{fast.Header, slow.Header} {
				if n := len(h.Values("Date")); n != 1 {
					t.Fatalf("%d Date fields: %v", n, h)
				}
			}
			if tt.path != "/rich" {
				// The server's own Date may fall in another second.
				fast.Header.Del("Date")
				slow.Header.Del("Date")
			}
			for _, h := range []http.Header{fast.Header, slow.Header} {
				for k, vv := range h {
					slices.Sort(vv) // Vary lines may come in either order
					h[k] = vv
				}
			}
			if !equalHeaders(fast.Header, slow.Header) {
				t.Fatalf("heads differ:\nblock %v\nmap   %v", fast.Header, slow.Header)
			}
		})
	}
}

func equalHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// hitServer starts the whole edge (request id, client IP, routes,
// metrics, the cache phase) on internal/h1 in front of a zone holding one
// fresh entry, /x, of size bytes of contentType, and returns its address.
func hitServer(tb testing.TB, size int, contentType string) string {
	z, _, _ := newTestZone(tb, Rules{}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", contentType)
		w.Write(make([]byte, size))
	}, StoreOptions{})
	if w := do(z, "GET", "http://example.org/x"); cacheStatus(w) != StatusMiss {
		tb.Fatalf("warming: %s", cacheStatus(w))
	}
	reg := metrics.New()
	ez := &edge.Zone{Name: "example.org", Handler: z.next, Metrics: reg.Zone("example.org")}
	ez.Phases[edge.PhaseCache] = z
	s := edge.New(edge.Options{Timeouts: config.Default().Timeouts, Metrics: reg})
	s.SetRoutes(&edge.Routes{Lookup: func(string) (*edge.Zone, bool) { return ez, true }})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln, "http", nil) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
	})
	return ln.Addr().String()
}

// BenchmarkHitServed measures one 1 KiB cache hit through the whole edge
// (request id, client IP, routes, metrics, the cache phase) and
// internal/h1 over keep-alive connections, as `rampart serve` answers it:
// watch allocs/op and B/op; ns/op includes the client on the same cores.
//
//	go test -run '^$' -bench HitServed -benchmem -cpu 2 ./internal/cache/
func BenchmarkHitServed(b *testing.B) {
	for _, size := range []int{1 << 10, 100 << 10} {
		b.Run(strconv.Itoa(size>>10)+"k", func(b *testing.B) {
			addr := hitServer(b, size, "application/octet-stream")
			benchnet.KeepAliveLoad(b, addr, []byte("GET /x HTTP/1.1\r\nHost: example.org\r\n\r\n"))
		})
	}
}

// TestHitAllocs counts the allocations of one keep-alive 1 KiB cache hit
// through the edge, internal/h1 and the cache, client included (it
// allocates nothing): h1's Request with the edge's request state, and the
// request head's string; the cache's key is built in a pooled buffer. The
// bytes per hit are logged (they set how often the collector runs under
// load).
func TestHitAllocs(t *testing.T) {
	if testing.Short() || raceOn {
		t.Skip("counts allocations over a loopback connection")
	}
	tests := []struct {
		name, contentType string
		max               float64
	}{
		{"binary", "application/octet-stream", 2},
		{"text, no Accept-Encoding", "text/plain", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			get := benchnet.KeepAliveGet(t, hitServer(t, 1<<10, tt.contentType), []byte("GET /x HTTP/1.1\r\nHost: example.org\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n"))
			get()
			n := testing.AllocsPerRun(300, get)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range 1000 {
				get()
			}
			runtime.ReadMemStats(&after)
			t.Logf("%v allocations, %d bytes per hit", n, (after.TotalAlloc-before.TotalAlloc)/1000)
			if n > tt.max {
				t.Errorf("%v allocations per hit, want at most %v", n, tt.max)
			}
		})
	}
}
