package waf

import (
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
)

// formOf returns an urlencoded body of n arguments sharing about size
// bytes.
func formOf(n, size int) string {
	val := strings.Repeat("a", max(1, size/n-8))
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte('&')
		}
		fmt.Fprintf(&b, "f%d=%s", i, val)
	}
	return b.String()
}

// TestInspectionMemory checks the cost model the budget reserves by
// (limits.go) against the heap one inspection really takes, and that the
// heap of a heavy inspection is released at the next collection (the
// transaction is not kept by Coraza's pool). The collector runs often
// (GOGC 10) so that the sampled heap follows what is live.
func TestInspectionMemory(t *testing.T) {
	p := phase(t, config.WAF{Mode: "block"})
	old := debug.SetGCPercent(10)
	defer debug.SetGCPercent(old)
	for _, tc := range []struct{ args, size int }{{10, 128 << 10}, {100, 64 << 10}, {255, 128 << 10}} {
		t.Run(fmt.Sprintf("%d args %d bytes", tc.args, tc.size), func(t *testing.T) {
			body := formOf(tc.args, tc.size)
			r, _ := request("POST", "/form", body, "application/x-www-form-urlencoded")
			est := scanRequest(r, []byte(body), p.limits, false).cost()
			r, _ = request("POST", "/form", body, "application/x-www-form-urlencoded")
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			base := m.HeapAlloc
			var peak atomic.Uint64
			done := make(chan struct{})
			go func() {
				defer close(done)
				p.Serve(&nopWriter{h: http.Header{}}, r)
			}()
			for sampling := true; sampling; {
				select {
				case <-done:
					sampling = false
				case <-time.After(time.Millisecond):
					var s runtime.MemStats
					runtime.ReadMemStats(&s)
					if s.HeapAlloc > peak.Load() {
						peak.Store(s.HeapAlloc)
					}
				}
			}
			used := int64(peak.Load()) - int64(base)
			t.Logf("peak heap +%.1f MiB, estimate %.1f MiB", float64(used)/(1<<20), float64(est)/(1<<20))
			if used > est*3/2 {
				t.Errorf("the inspection took %.1f MiB of heap, more than 1.5x the %.1f MiB the budget reserves for it",
					float64(used)/(1<<20), float64(est)/(1<<20))
			}
			runtime.GC()
			runtime.ReadMemStats(&m)
			if left := int64(m.HeapAlloc) - int64(base); est >= heavyCost && left > 4<<20 {
				t.Errorf("one collection after a heavy inspection %.1f MiB are still live (Coraza's pool keeps the transaction?)", float64(left)/(1<<20))
			}
		})
	}
}
