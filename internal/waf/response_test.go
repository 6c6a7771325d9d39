package waf

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/edge"
)

// sqlLeak is a MySQL error message, which the CRS response rule 951220
// (SQL error leakage, paranoia 1) flags.
const sqlLeak = "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''' at line 1"

// leakOrigin is a real origin: /leak answers a page with a SQL error in
// it, /png the same text as an image, /big a text page longer than the
// inspected limit with the leak at ?at=start or ?at=end, anything else an
// ordinary page.
func leakOrigin(t *testing.T) *httptest.Server {
	t.Helper()
	page := "<html><body><h1>Products</h1><p>Shoes, size 42, sorted by price.</p></body></html>"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/leak":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte("<html><body>" + sqlLeak + "</body></html>"))
		case "/png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write([]byte(sqlLeak))
		case "/big":
			w.Header().Set("Content-Type", "text/plain")
			filler := strings.Repeat("lorem ipsum dolor sit amet\n", ResponseBodyLimit/27+100)
			if r.URL.Query().Get("at") == "start" {
				_, _ = w.Write([]byte(sqlLeak + "\n" + filler))
			} else {
				_, _ = w.Write([]byte(filler + sqlLeak + "\n"))
			}
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(page))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// through sends a GET for target through the phase and, if it passes,
// the response-inspecting handler in front of a reverse proxy to origin.
func through(t *testing.T, p *Phase, origin *httptest.Server, target string) (*httptest.ResponseRecorder, string) {
	t.Helper()
	u, err := url.Parse(origin.URL)
	if err != nil {
		t.Fatal(err)
	}
	h := p.InspectResponses(httputil.NewSingleHostReverseProxy(u))
	r, info := request("GET", target, "", "")
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	r = r.WithContext(ctx)
	w := httptest.NewRecorder()
	if p.Serve(w, r) == edge.Continue {
		h.ServeHTTP(w, r)
	}
	return w, info.ID
}

func TestResponseInspection(t *testing.T) {
	origin := leakOrigin(t)
	block := phase(t, config.WAF{Mode: "block", Paranoia: 1, Response: true})
	detect := phase(t, config.WAF{Mode: "detect", Paranoia: 1, Response: true})
	off := phase(t, config.WAF{Mode: "block", Paranoia: 1})
	tests := []struct {
		name   string
		p      *Phase
		target string
		want   int
		// wantBody is a substring of the body the client gets.
		wantBody string
		wantLen  int // when > 0, the exact body length
	}{
		{name: "benign page", p: block, target: "/products", want: 200, wantBody: "<h1>Products</h1>"},
		{name: "sql error leak blocked", p: block, target: "/leak", want: 403, wantBody: "blocked by the web application firewall"},
		{name: "sql error leak detected", p: detect, target: "/leak", want: 200, wantBody: sqlLeak},
		{name: "response inspection off", p: off, target: "/leak", want: 200, wantBody: sqlLeak},
		{name: "image body not inspected", p: block, target: "/png", want: 200, wantBody: sqlLeak},
		{name: "leak within the limit", p: block, target: "/big?at=start", want: 403, wantBody: "request id: req-test-1"},
		{name: "leak past the limit streams", p: block, target: "/big?at=end", want: 200, wantBody: sqlLeak,
			wantLen: len(strings.Repeat("lorem ipsum dolor sit amet\n", ResponseBodyLimit/27+100)) + len(sqlLeak) + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, id := through(t, tt.p, origin, tt.target)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d (body %.200q)", w.Code, tt.want, w.Body.String())
			}
			if !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Errorf("body lacks %q: %.300q", tt.wantBody, w.Body.String())
			}
			if tt.wantLen > 0 && w.Body.Len() != tt.wantLen {
				t.Errorf("body length %d, want the origin's %d", w.Body.Len(), tt.wantLen)
			}
			if tt.want == 403 {
				if strings.Contains(w.Body.String(), "SQL syntax") {
					t.Error("the blocked response leaked the origin's body")
				}
				if ct := w.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
					t.Errorf("blocked response Content-Type %q, want the WAF's text/plain", ct)
				}
				if l := waitLog(id, "waf blocked", "951"); l == "" {
					t.Error("no block log line naming a 951xxx rule")
				}
			}
			if tt.p == detect {
				if l := waitLog(id, "waf detected", "951"); l == "" {
					t.Error("detect mode: no log line naming a 951xxx rule")
				}
			}
		})
	}
}

// waitLog polls the shared test log for a line with request id and every
// one of wants.
func waitLog(id string, wants ...string) string {
	for i := 0; i < 50; i++ {
	lines:
		for _, l := range strings.Split(sharedLogs.String(), "\n") {
			if !strings.Contains(l, `"request_id":"`+id+`"`) {
				continue
			}
			for _, w := range wants {
				if !strings.Contains(l, w) {
					continue lines
				}
			}
			return l
		}
		time.Sleep(10 * time.Millisecond)
	}
	return ""
}

// TestResponseHeldTransactionReleased checks that a request that passed
// the request phase but never reached the origin handler (a cache hit, a
// later phase's answer) releases its transaction when it ends.
func TestResponseHeldTransactionReleased(t *testing.T) {
	p := phase(t, config.WAF{Mode: "block", Paranoia: 1, Response: true})
	r, info := request("GET", "/products", "", "")
	ctx, cancel := context.WithCancel(r.Context())
	r = r.WithContext(ctx)
	if p.Serve(httptest.NewRecorder(), r) != edge.Continue {
		t.Fatal("benign request blocked")
	}
	if _, ok := p.pending.m.Load(info); !ok {
		t.Fatal("the passed request's transaction is not held for its response")
	}
	cancel()
	for i := 0; i < 100; i++ {
		if _, ok := p.pending.m.Load(info); !ok {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Error("the held transaction was not released when the request ended")
}
