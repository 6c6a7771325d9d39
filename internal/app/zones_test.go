package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/attack"
	"github.com/rampart-edge/rampart/internal/token"
)

// TestReloadKeepsAPIZoneParts (issue 14): a zone created through the API
// with under_attack: auto, the cache and the WAF keeps its parts across a
// SIGHUP (Reload): the same proxy, the same detector (not cancelled), the
// same compiled rule set (nothing recompiled) and its cache metrics. A
// long request and a WebSocket on config zones (kept across every change)
// do not keep the API zone's replaced parts alive; deleting the API zone closes its proxy and
// stops its detector once its last request ends.
func TestReloadKeepsAPIZoneParts(t *testing.T) {
	prev := tuneDetector
	tuneDetector = func(o *attack.Options) { o.Warmup = 1 }
	t.Cleanup(func() { tuneDetector = prev })

	// The origin holds a request to /hold until release is closed: the
	// stand-in for a long-lived WebSocket.
	release := make(chan struct{})
	held := make(chan struct{}, 4)
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			held <- struct{}{}
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			<-release
			return
		}
		w.Header().Set("Cache-Control", "max-age=600")
		io.WriteString(w, "origin "+r.URL.Path)
	}))
	defer o.Close()
	defer close(release)

	tun := newTunnelOrigin(t)
	d := startDesk(t, "", fmt.Sprintf(`
  - host: config.example
    origins: [%s]
  - host: ws.example
    origins: [%s]
`, o.URL, tun.URL))
	code, body, _ := d.api(t, "POST", "/v1/accounts", token.Admin, `{"name":"Quiet Meadow Bakery","kind":"organization","country":"NL"}`)
	if code != 201 {
		t.Fatalf("POST /v1/accounts: %d %s", code, body)
	}
	var acc struct{ ID string }
	_ = json.Unmarshal([]byte(body), &acc)
	code, body, _ = d.api(t, "POST", "/v1/zones", token.Admin, fmt.Sprintf(
		`{"account_id":%q,"host":"api.example","origins":[%q],"under_attack":"auto","cache":{"enabled":true},"waf":{"mode":"block","paranoia":1}}`, acc.ID, o.URL))
	if code != 201 || !strings.Contains(body, `"status":"active"`) {
		t.Fatalf("POST /v1/zones: %d %s", code, body)
	}
	var zone struct{ ID string }
	_ = json.Unmarshal([]byte(body), &zone)
	if resp, body := d.waitEdge(t, "api.example", 200); resp.StatusCode != 200 {
		t.Fatalf("API zone not served: %d %s", resp.StatusCode, body)
	}
	for range 3 {
		d.edge(t, "GET", "api.example", "/page", "")
	}

	type parts struct {
		entry    *zoneEntry
		detector *detectorEntry
		wafSets  int
		compiles int
	}
	snapshot := func() parts {
		gen := d.gen.Load()
		d.protect.mu.Lock()
		det := d.protect.detectors["api.example"]
		d.protect.mu.Unlock()
		return parts{entry: gen.zones["api.example"], detector: det, wafSets: d.wafs.Len(),
			compiles: strings.Count(d.logs.String(), "waf rules compiled")}
	}
	before := snapshot()
	if before.entry == nil || before.detector == nil {
		t.Fatalf("API zone parts missing: entry %v detector %v", before.entry, before.detector)
	}

	// A long request on the config zone, open across every change below.
	longDone := make(chan struct{})
	go func() {
		defer close(longDone)
		req, _ := http.NewRequest("GET", d.url("/hold"), nil)
		req.Host = "config.example"
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	<-held
	// And a WebSocket on another config zone, open across every change.
	ws := edgeClient{r: d.running}.openWS(t, "ws.example")
	defer ws.close()
	if err := ws.alive("before"); err != nil {
		t.Fatal(err)
	}

	// SIGHUP with the same config, twice.
	for range 2 {
		if err := d.Reload(d.Config()); err != nil {
			t.Fatal(err)
		}
	}
	after := snapshot()
	if after.entry.proxy != before.entry.proxy || after.entry.inflight != before.entry.inflight {
		t.Error("SIGHUP replaced the API zone's proxy")
	}
	if after.detector != before.detector {
		t.Error("SIGHUP replaced the API zone's detector")
	}
	select {
	case <-before.detector.done:
		t.Error("SIGHUP cancelled the API zone's detector")
	default:
	}
	if after.wafSets != before.wafSets || after.compiles != before.compiles {
		t.Errorf("SIGHUP recompiled WAF rules: sets %d -> %d, compiles %d -> %d", before.wafSets, after.wafSets, before.compiles, after.compiles)
	}
	if m := metricsText(t, d.running); !strings.Contains(m, `rampart_cache_requests_total{status="HIT",zone="api.example"}`) {
		t.Error("SIGHUP dropped the API zone's cache metrics")
	}
	if resp, _ := d.edge(t, "GET", "api.example", "/page", ""); resp.StatusCode != 200 || resp.Header.Get("Rampart-Cache") != "HIT" {
		t.Errorf("after SIGHUP: %d %s, want a cache HIT", resp.StatusCode, resp.Header.Get("Rampart-Cache"))
	}

	// A changed API zone gets a new proxy; the old one is closed although
	// the long request on the config zone still holds the old routes.
	if code, body, _ := d.api(t, "PATCH", "/v1/zones/"+zone.ID, token.Admin, fmt.Sprintf(`{"origins":[%q,%q]}`, o.URL, o.URL+"/")); code != 200 {
		t.Fatalf("PATCH zone: %d %s", code, body)
	}
	waitClosed(t, "replaced proxy", before.entry.proxy.Closed())
	changed := snapshot()
	if changed.detector != before.detector {
		t.Error("changing the zone replaced its detector")
	}

	// Deleting it: proxy closed, detector stopped, metrics gone.
	if code, body, _ := d.api(t, "DELETE", "/v1/zones/"+zone.ID, token.Admin, ""); code != 204 && code != 200 {
		t.Fatalf("DELETE zone: %d %s", code, body)
	}
	waitClosed(t, "removed zone's proxy", changed.entry.proxy.Closed())
	waitClosed(t, "removed zone's detector", before.detector.done)
	if resp, _ := d.waitEdge(t, "api.example", http.StatusMisdirectedRequest); resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("deleted zone: %d, want 421", resp.StatusCode)
	}
	if m := metricsText(t, d.running); strings.Contains(m, `zone="api.example"`) {
		t.Error("deleted zone's metrics kept")
	}
	select {
	case <-longDone:
		t.Error("the long request on the config zone ended")
	default:
	}
	if err := ws.alive("after"); err != nil {
		t.Errorf("the WebSocket on the unchanged config zone: %v", err)
	}
}

func waitClosed(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s not closed within 5 s", what)
	}
}

// metricsText scrapes the admin listener's /metrics.
func metricsText(t *testing.T, r *running) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + r.Addrs().Admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
