package metrics

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCacheMetrics(t *testing.T) {
	t.Parallel()
	r := New()
	a, b := r.Cache("a.example"), r.Cache("b.example")
	a.CacheServed("HIT", 100, true)
	a.CacheServed("HIT", 50, true)
	a.CacheServed("MISS", 0, false)
	b.CacheServed("STALE", 7, true)
	scrape := func() string {
		w := httptest.NewRecorder()
		r.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
		return w.Body.String()
	}
	out := scrape()
	for _, want := range []string{
		`rampart_cache_requests_total{status="HIT",zone="a.example"} 2`,
		`rampart_cache_requests_total{status="MISS",zone="a.example"} 1`,
		`rampart_cache_served_bytes_total{zone="a.example"} 150`,
		`rampart_cache_origin_requests_saved_total{zone="a.example"} 2`,
		`rampart_cache_origin_requests_saved_total{zone="b.example"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s", want)
		}
	}
	r.ForgetCache(map[string]bool{"a.example": true})
	if out = scrape(); strings.Contains(out, `zone="b.example"`) || !strings.Contains(out, `zone="a.example"`) {
		t.Errorf("after ForgetCache:\n%s", out)
	}
}
