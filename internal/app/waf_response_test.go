package app

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// leakPage is a page with a MySQL error in it, which the CRS response
// rule 951220 (SQL error leakage) flags.
const leakPage = "<html><body>You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''' at line 1</body></html>"

// TestWAFResponseInspection runs waf.response through the whole app: a
// leaking page is replaced by the WAF's 403 in block mode, a benign one
// passes, a zone without waf.response passes the leak, and on a cached
// zone the response the cache fills from the origin is inspected too (and
// the 403 is not cached).
func TestWAFResponseInspection(t *testing.T) {
	var hits atomic.Int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=60")
		if strings.HasPrefix(r.URL.Path, "/leak") {
			fmt.Fprint(w, leakPage)
			return
		}
		fmt.Fprint(w, "<html><body><h1>Products</h1></body></html>")
	}))
	t.Cleanup(origin.Close)
	r := start(t, parseConfig(t, fmt.Sprintf(`
log: {format: "off"}
data_dir: %[2]s
zones:
  - host: resp.test
    origins: [%[1]s]
    waf: {mode: block, response: true}
  - host: reqonly.test
    origins: [%[1]s]
    waf: {mode: block}
  - host: cached.test
    origins: [%[1]s]
    waf: {mode: block, response: true}
    cache: {enabled: true}
`, origin.URL, t.TempDir())))

	tests := []struct {
		name, host, path string
		want             int
		wantBody         string
	}{
		{name: "benign page", host: "resp.test", path: "/products", want: 200, wantBody: "<h1>Products</h1>"},
		{name: "sql error leak blocked", host: "resp.test", path: "/leak", want: 403, wantBody: "blocked by the web application firewall"},
		{name: "response inspection off", host: "reqonly.test", path: "/leak", want: 200, wantBody: "SQL syntax"},
		{name: "cache fill inspected", host: "cached.test", path: "/leak-cached", want: 403, wantBody: "blocked by the web application firewall"},
		{name: "blocked response not cached", host: "cached.test", path: "/leak-cached", want: 403, wantBody: "blocked by the web application firewall"},
		{name: "cached benign page", host: "cached.test", path: "/products", want: 200, wantBody: "<h1>Products</h1>"},
		{name: "cached benign page hit", host: "cached.test", path: "/products", want: 200, wantBody: "<h1>Products</h1>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			code, id, body := send(t, r, tt.host, wafReq{Path: tt.path})
			if code != tt.want {
				t.Fatalf("status %d, want %d (body %.200q)", code, tt.want, body)
			}
			if !strings.Contains(body, tt.wantBody) {
				t.Errorf("body lacks %q: %.200q", tt.wantBody, body)
			}
			if tt.want == 403 {
				if strings.Contains(body, "SQL syntax") {
					t.Error("the blocked response leaked the origin's body")
				}
				if l := waitLogLine(r, id, "waf blocked"); l == "" || !strings.Contains(l, "951") {
					t.Errorf("no block log line naming a 951xxx rule for %s: %q", id, l)
				}
				if hits.Load() == before {
					t.Error("a response-side block without an origin request")
				}
			}
			if tt.name == "cached benign page hit" && hits.Load() != before {
				t.Error("the benign page was not served from the cache")
			}
		})
	}
}
