package metrics

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rampart-edge/rampart/internal/buildinfo"
)

func TestZoneObserve(t *testing.T) {
	r := New()
	z := r.Zone("www.example.org")
	if r.Zone("www.example.org") != z {
		t.Fatal("Zone returned a new *Zone for the same host")
	}
	z.Observe(200, 3*time.Millisecond, "http://127.0.0.1:3000")
	z.Observe(200, 5*time.Millisecond, "http://127.0.0.1:3000")
	z.Observe(502, time.Millisecond, "http://127.0.0.1:3000")
	z.Observe(421, time.Millisecond, "")
	z.Observe(42, time.Millisecond, "") // out of range: counted as 599

	tests := []struct {
		name   string
		labels []string
		vec    string
		want   float64
	}{
		{"200s", []string{"www.example.org", "200"}, "requests", 2},
		{"502s", []string{"www.example.org", "502"}, "requests", 1},
		{"421s", []string{"www.example.org", "421"}, "requests", 1},
		{"out of range", []string{"www.example.org", "599"}, "requests", 1},
		{"origin requests", []string{"www.example.org", "http://127.0.0.1:3000"}, "originReqs", 3},
		{"origin errors", []string{"www.example.org", "http://127.0.0.1:3000"}, "originErrs", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got float64
			switch tt.vec {
			case "requests":
				got = testutil.ToFloat64(r.requests.WithLabelValues(tt.labels...))
			case "originReqs":
				got = testutil.ToFloat64(r.originReqs.WithLabelValues(tt.labels...))
			case "originErrs":
				got = testutil.ToFloat64(r.originErrs.WithLabelValues(tt.labels...))
			}
			if got != tt.want {
				t.Errorf("%s%v = %v, want %v", tt.vec, tt.labels, got, tt.want)
			}
		})
	}
	if n := testutil.CollectAndCount(r.duration, "rampart_request_duration_seconds"); n != 1 {
		t.Errorf("duration series = %d, want 1", n)
	}
}

func TestHandlerExposesMetrics(t *testing.T) {
	r := New()
	r.Zone("a.example").Observe(200, time.Millisecond, "")
	open, accepted := r.Conns("http")
	open.Inc()
	accepted.Inc()
	r.SetOriginSource(func() []OriginState {
		return []OriginState{
			{Zone: "a.example", Origin: "http://127.0.0.1:1", Healthy: true, Active: 2},
			{Zone: "a.example", Origin: "http://127.0.0.1:2", Healthy: false},
			{Zone: "a.example", Origin: "http://127.0.0.1:2", Healthy: false}, // duplicate, dropped
		}
	})
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	for _, want := range []string{
		`rampart_requests_total{code="200",zone="a.example"} 1`,
		`rampart_open_connections{listener="http"} 1`,
		`rampart_connections_total{listener="http"} 1`,
		`rampart_origin_healthy{origin="http://127.0.0.1:1",zone="a.example"} 1`,
		`rampart_origin_healthy{origin="http://127.0.0.1:2",zone="a.example"} 0`,
		`rampart_origin_active_requests{origin="http://127.0.0.1:1",zone="a.example"} 2`,
		`rampart_request_duration_seconds_count{zone="a.example"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}

func TestForget(t *testing.T) {
	r := New()
	r.Zone("gone.example").Observe(200, time.Millisecond, "http://127.0.0.1:1")
	r.Zone("kept.example").Observe(200, time.Millisecond, "")
	r.Zone(UnknownZone).Observe(421, time.Millisecond, "")
	r.Forget(map[string]bool{"kept.example": true})
	if n := testutil.CollectAndCount(r.requests); n != 2 {
		t.Errorf("requests series after Forget = %d, want 2 (kept and unknown)", n)
	}
	if n := testutil.CollectAndCount(r.originReqs); n != 0 {
		t.Errorf("origin series after Forget = %d, want 0", n)
	}
}

func BenchmarkObserve(b *testing.B) {
	r := New()
	z := r.Zone("www.example.org")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			z.Observe(200, time.Millisecond, "http://127.0.0.1:3000")
		}
	})
}

// TestBuildInfo: rampart_build_info is 1 with the binary's version, commit
// and Go version.
func TestBuildInfo(t *testing.T) {
	r := New()
	info := buildinfo.Get()
	want := fmt.Sprintf(`
# HELP rampart_build_info Always 1; the labels describe the running binary (as rampart version prints it).
# TYPE rampart_build_info gauge
rampart_build_info{commit=%q,go_version=%q,version=%q} 1
`, info.ShortCommit(), runtime.Version(), info.Version)
	if err := testutil.GatherAndCompare(r.Gatherer(), strings.NewReader(want), "rampart_build_info"); err != nil {
		t.Error(err)
	}
}

// TestIdleZoneHoldsNoChildren (issue 16): a zone's metric children are
// made on its first request, so an idle zone holds none (no series either),
// and counting a request once they exist allocates nothing.
func TestIdleZoneHoldsNoChildren(t *testing.T) {
	r := New()
	z := r.Zone("idle.example")
	c := r.Cache("idle.example")
	if z.codes.Load() != nil || z.duration.Load() != nil || c.children.Load() != nil {
		t.Fatal("an idle zone holds metric children")
	}
	if n := testutil.CollectAndCount(r.reg, "rampart_requests_total", "rampart_request_duration_seconds", "rampart_cache_requests_total"); n != 0 {
		t.Fatalf("an idle zone exports %d series", n)
	}
	z.Observe(200, time.Millisecond, "")
	c.CacheServed("HIT", 10, true)
	if allocs := testing.AllocsPerRun(100, func() {
		z.Observe(200, time.Millisecond, "")
		c.CacheServed("MISS", 0, false)
	}); allocs != 0 {
		t.Errorf("a request of a busy zone allocates %v times", allocs)
	}
	if n := testutil.CollectAndCount(r.reg, "rampart_cache_requests_total"); n != 6 {
		t.Errorf("%d cache series, want 6 statuses", n)
	}
	r.ForgetCache(map[string]bool{})
	if n := testutil.CollectAndCount(r.reg, "rampart_cache_requests_total", "rampart_cache_served_bytes_total"); n != 0 {
		t.Errorf("%d cache series after ForgetCache", n)
	}
}
