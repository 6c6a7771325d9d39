package app

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// scaleConfig is an edge-only config with n zones, each with the cache, a
// rate limit, an active health check and under_attack auto, in front of
// origin.
func scaleConfig(t *testing.T, n int, origin string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "listen: {http: \"127.0.0.1:8080\", admin: \"\"}\ndata_dir: %s\nlog: {format: \"off\"}\nzones:\n", t.TempDir())
	for i := range n {
		fmt.Fprintf(&b, "  - host: z%05d.scale.test\n    origins: [%s]\n    cache: {enabled: true}\n", i, origin)
		b.WriteString("    rate_limit: {requests: 100, per: 1s, burst: 50}\n    under_attack: auto\n")
		b.WriteString("    health_check: {path: /healthz, interval: 1h}\n")
	}
	return b.String()
}

// goroutinesSettled returns the process's goroutine count once it has
// stopped moving (goroutines of earlier tests ending).
func goroutinesSettled() int {
	n := runtime.NumGoroutine()
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n {
			return n
		}
		n = m
	}
	return n
}

// TestZonesCostNoGoroutines (issue 16): a node runs a number of
// goroutines that does not grow with its zones: no health-check loop,
// reaper, watcher or detector loop per zone or per origin.
func TestZonesCostNoGoroutines(t *testing.T) {
	o := newOrigin(t, "o")
	count := func(n int) int {
		cfg := parseConfig(t, scaleConfig(t, n, o.URL))
		cfg.Listen.Admin = ""
		before := goroutinesSettled()
		r := start(t, cfg)
		waitServing(t, r, "z00000.scale.test")
		// A request on the last zone too: its pools, detector second and
		// metrics exist now.
		get(t, r, fmt.Sprintf("z%05d.scale.test", n-1))
		after := goroutinesSettled()
		r.stop(t)
		return after - before
	}
	small, large := count(10), count(1000)
	t.Logf("goroutines: 10 zones +%d, 1,000 zones +%d", small, large)
	if large > small+5 {
		t.Errorf("1,000 zones run %d goroutines, 10 zones %d: they grow with the zones", large, small)
	}
}

// TestReloadKeepsZoneObjects (issue 16): a SIGHUP that reuses every zone
// keeps each zone's built parts (the edge.Zone with its phases, proxy,
// in-flight counter): nothing per zone is built, or held twice.
func TestReloadKeepsZoneObjects(t *testing.T) {
	o := newOrigin(t, "o")
	cfg := parseConfig(t, scaleConfig(t, 50, o.URL))
	r := start(t, cfg)
	waitServing(t, r, "z00000.scale.test")
	before := r.gen.Load()
	// The same file loaded again: a new *config.Config, equal zones.
	again := parseConfig(t, scaleConfig(t, 50, o.URL))
	again.DataDir, again.Listen = cfg.DataDir, cfg.Listen
	if err := r.Reload(again); err != nil {
		t.Fatal(err)
	}
	after := r.gen.Load()
	if after == before {
		t.Fatal("the reload made no new generation")
	}
	for host, pe := range before.zones {
		e := after.zones[host]
		if e == nil {
			t.Fatalf("zone %s gone after the reload", host)
		}
		if e.zone != pe.zone || e.proxy != pe.proxy || e.inflight != pe.inflight {
			t.Fatalf("zone %s: the reload rebuilt its parts (edge.Zone %v, proxy %v, inflight %v kept)", host,
				e.zone == pe.zone, e.proxy == pe.proxy, e.inflight == pe.inflight)
		}
		if e.key == pe.key {
			t.Fatalf("zone %s: its key points into the previous config", host)
		}
		if z, ok := after.routes.Lookup(host); !ok || z != pe.zone {
			t.Fatalf("zone %s: the routes do not serve the kept edge.Zone", host)
		}
	}
	get(t, r, "z00049.scale.test")

	// A node setting the zones are built from (here trusted_proxies)
	// rebuilds their phases, but keeps their proxies.
	changed := parseConfig(t, scaleConfig(t, 50, o.URL)+"trusted_proxies: [10.0.0.0/8]\n")
	changed.DataDir, changed.Listen = cfg.DataDir, cfg.Listen
	if err := r.Reload(changed); err != nil {
		t.Fatal(err)
	}
	third := r.gen.Load()
	for host, pe := range after.zones {
		e := third.zones[host]
		if e.zone == pe.zone {
			t.Fatalf("zone %s kept its edge.Zone across a change of trusted_proxies", host)
		}
		if e.proxy != pe.proxy {
			t.Fatalf("zone %s got a new proxy for a change of trusted_proxies", host)
		}
	}
	get(t, r, "z00049.scale.test")
}

func waitServing(t *testing.T, r *running, host string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if code, _ := try(r, host); code == http.StatusOK {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s not served within 10 s", host)
}

func get(t *testing.T, r *running, host string) {
	t.Helper()
	if code, body := try(r, host); code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", host, code, body)
	}
}

func try(r *running, host string) (int, string) {
	req, _ := http.NewRequest("GET", "http://"+r.Addrs().HTTP+"/", nil)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
