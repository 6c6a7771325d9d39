package app

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/edge"
)

// TestCacheSlowLeaderLock: the first request for a cacheable key leads
// the fetch and has the body streamed to it while it is stored; the
// others wait for that fetch (coalescing). A leader whose client stops
// reading a large body stalls the fetch, so without a bound every other
// visitor of that URL would wait as long as the attacker likes. With
// cache.lock_timeout they ask the origin themselves after it, on both
// server loops.
func TestCacheSlowLeaderLock(t *testing.T) {
	const size = 32 << 20 // far more than the socket buffers on the way
	var hits atomic.Int64
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Length", fmt.Sprint(size))
		chunk := []byte(strings.Repeat("x", 64<<10))
		for n := 0; n < size; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer o.Close()
	for _, server := range []string{"rampart", "net/http"} {
		t.Run(strings.ReplaceAll(server, "/", "-"), func(t *testing.T) {
			hits.Store(0)
			r := start(t, parseConfig(t, fmt.Sprintf(`
listen: {server: %q}
zones:
  - host: lock.test
    origins: [%s]
    cache: {enabled: true, lock_timeout: 500ms}
`, server, o.URL)))
			// The attacker: asks for the body and never reads it.
			c, err := net.Dial("tcp", r.Addrs().HTTP)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "GET /big HTTP/1.1\r\nHost: lock.test\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReaderSize(c, 512), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Header.Get(edge.CacheHeader); got != "MISS" {
				t.Fatalf("leader: Rampart-Cache %q, want MISS", got)
			}
			time.Sleep(200 * time.Millisecond) // the buffers fill; the fetch stalls

			client := &http.Client{Timeout: 20 * time.Second}
			began := time.Now()
			vr, err := client.Do(&http.Request{Method: "GET", URL: mustURL(t, r.url("/big")), Host: "lock.test", Header: http.Header{}})
			if err != nil {
				t.Fatalf("a visitor behind the stalled leader: %v", err)
			}
			n, err := io.Copy(io.Discard, vr.Body)
			vr.Body.Close()
			if err != nil || n != size || vr.StatusCode != 200 {
				t.Fatalf("visitor: %d, %d bytes, %v; want 200 and %d bytes", vr.StatusCode, n, err, size)
			}
			waited := time.Since(began)
			t.Logf("%s: the visitor got its %d MiB after %s (lock_timeout 500ms), origin requests %d", server, size>>20, waited.Round(time.Millisecond), hits.Load())
			if got := hits.Load(); got != 2 {
				t.Errorf("origin requests %d, want 2 (the stalled leader's and the visitor's own)", got)
			}
		})
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
