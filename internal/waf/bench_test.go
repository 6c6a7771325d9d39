package waf

import (
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/edge"
)

// nopWriter is a ResponseWriter that discards everything, so that the
// benchmarks measure the phase, not a recorder.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// cpuMeter reports the process's CPU time (user and system, the garbage
// collector's included) per iteration as "cpu-us/op": on a shared
// machine, wall time per iteration moves with what else runs.
type cpuMeter struct{ start time.Duration }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuMeter { return cpuMeter{cpuTime()} }

func (m cpuMeter) report(b *testing.B) {
	b.ReportMetric(float64((cpuTime()-m.start).Microseconds())/float64(b.N), "cpu-us/op")
}

func benchPhase(b *testing.B, pl int) *Phase {
	b.Helper()
	return phase(b, config.WAF{Mode: "block", Paranoia: pl})
}

// BenchmarkCRSGet is a benign browser GET through the block-mode phase.
func BenchmarkCRSGet(b *testing.B) {
	for _, pl := range []int{1, 2} {
		b.Run("PL"+string(rune('0'+pl)), func(b *testing.B) {
			p := benchPhase(b, pl)
			r, _ := request("GET", "/some_path/with?parameters=and&other=Stuff", "", "")
			r.Header.Set("Cookie", "session=3f9a0c2d1e; theme=dark")
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			for b.Loop() {
				if p.Serve(w, r) != edge.Continue {
					b.Fatal("benign GET blocked")
				}
			}
			cpu.report(b)
		})
	}
}

// BenchmarkCRSPost is a benign 4 KiB form POST through the block-mode
// phase, body read and replayed.
func BenchmarkCRSPost(b *testing.B) {
	body := benignForm(4096)
	for _, pl := range []int{1, 2} {
		b.Run("PL"+string(rune('0'+pl)), func(b *testing.B) {
			p := benchPhase(b, pl)
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			for b.Loop() {
				r, _ := request("POST", "/contact", "", "application/x-www-form-urlencoded")
				r.Body = io.NopCloser(strings.NewReader(body))
				r.ContentLength = int64(len(body))
				if p.Serve(w, r) != edge.Continue {
					b.Fatal("benign POST blocked")
				}
			}
			cpu.report(b)
		})
	}
}

// benignForm returns an ordinary urlencoded form of about n bytes.
func benignForm(n int) string {
	var sb strings.Builder
	sb.WriteString("name=Jane+Smith&email=jane.smith%40example.org&subject=Order+question&message=")
	words := []string{"Hello", "I", "would", "like", "to", "ask", "about", "my", "order", "number", "12345", "placed", "last", "week", "thanks"}
	for i := 0; sb.Len() < n; i++ {
		if i > 0 {
			sb.WriteByte('+')
		}
		sb.WriteString(words[i%len(words)])
	}
	return sb.String()[:n]
}

// BenchmarkCRSGetParallel is bench/waf's GET (a browser's headers, a
// query string) through the block-mode phase at paranoia 1 from every
// core at once, as under load: it includes what contention costs (the
// pools of Coraza's transactions and of RE2 instances, the GC).
func BenchmarkCRSGetParallel(b *testing.B) {
	p := benchPhase(b, 1)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &nopWriter{h: http.Header{}}
		for pb.Next() {
			r, _ := request("GET", "/products/list?category=shoes&size=42&sort=price", "", "")
			r.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
			r.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8")
			if p.Serve(w, r) != edge.Continue {
				b.Fatal("benign GET blocked")
			}
		}
	})
}
