package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// credOrigin is a real origin on 127.0.0.1 that personalises its answers:
// the body names the Cookie and Authorization it received, and it records
// every request's path and credentials, so a test can tell which client's
// answer another client was served.
type credOrigin struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "path cookie=... auth=..."
}

func newCredOrigin(t *testing.T) *credOrigin {
	t.Helper()
	o := &credOrigin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := fmt.Sprintf("cookie=%s auth=%s", strings.Join(r.Header["Cookie"], "; "), r.Header.Get("Authorization"))
		o.mu.Lock()
		o.seen = append(o.seen, r.URL.Path+" "+who)
		o.mu.Unlock()
		h := w.Header()
		const lastModified = "Mon, 01 Jan 2024 00:00:00 GMT"
		switch strings.TrimPrefix(r.URL.Path, "/h2") {
		case "/lm": // the attack: heuristically fresh
			h.Set("Last-Modified", lastModified)
		case "/none": // no freshness, no validator (default_ttl zones)
		case "/public":
			h.Set("Cache-Control", "public")
			h.Set("Last-Modified", lastModified)
		case "/swr":
			h.Set("Cache-Control", "stale-while-revalidate=600")
			h.Set("Last-Modified", lastModified)
		case "/404":
			h.Set("Last-Modified", lastModified)
			w.WriteHeader(http.StatusNotFound)
		case "/maxage":
			h.Set("Cache-Control", "public, max-age=600")
		case "/smaxage":
			h.Set("Cache-Control", "s-maxage=600")
		case "/expires":
			h.Set("Expires", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
		case "/setcookie":
			h.Set("Cache-Control", "public, max-age=600")
			h.Set("Set-Cookie", "session=fresh-"+r.Header.Get("X-Client"))
		case "/setcookie-lm":
			h.Set("Last-Modified", lastModified)
			h.Set("Set-Cookie", "session=fresh-"+r.Header.Get("X-Client"))
		}
		io.WriteString(w, "page for "+who)
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *credOrigin) hitsOf(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, s := range o.seen {
		if strings.HasPrefix(s, path+" ") {
			n++
		}
	}
	return n
}

// TestCacheCookieBearingHeuristic (issue 11, point 5): a response without
// explicit freshness (Last-Modified only, or nothing with the zone's
// default_ttl) to a request carrying a Cookie, or Authorization, is not
// stored: the next client, without them, reaches the origin and never
// sees the first client's page. The origin's explicit freshness (max-age,
// s-maxage, Expires) still stores it: that is the origin's call. A
// response with Set-Cookie is never stored without store_set_cookie. A
// refusal because of the request's cookie does not keep the page out of
// the cache for the clients without one. Over HTTP/1.1 and HTTP/2.
func TestCacheCookieBearingHeuristic(t *testing.T) {
	o := newCredOrigin(t)
	dir := t.TempDir()
	cert, key, x509 := selfSigned(t, dir, "ex", "example.org", "ttl.example.org")
	cfg := parseConfig(t, fmt.Sprintf(`
log: {format: "off"}
data_dir: %s
listen: {https: "127.0.0.1:8443"}
tls:
  certificates: [{cert: %s, key: %s}]
zones:
  - host: example.org
    origins: [%s]
    cache: {enabled: true}
  - host: ttl.example.org
    origins: [%s]
    cache: {enabled: true, default_ttl: 1h}
`, t.TempDir(), cert, key, o.URL, o.URL))
	r := start(t, cfg)
	httpsAddr := r.Addrs().HTTPS
	_, port, _ := net.SplitHostPort(httpsAddr)
	h2 := tlsClient(true, x509)
	h2.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, httpsAddr)
	}
	h2.Transport.(*http.Transport).DisableCompression = true
	get := func(t *testing.T, viaH2 bool, host, path string, hdr map[string]string) (*http.Response, string) {
		t.Helper()
		if viaH2 {
			resp, body := do(t, h2, "https://"+host+":"+port+path, "", hdr)
			if resp.ProtoMajor != 2 {
				t.Fatalf("proto %s, want HTTP/2", resp.Proto)
			}
			return resp, body
		}
		return do(t, plain, r.url(path), host, hdr)
	}
	victim := map[string]string{"Cookie": "session=victim", "X-Client": "victim"}
	twoCookies := map[string]string{"Cookie": "a=1; session=victim", "X-Client": "victim"}
	auth := map[string]string{"Authorization": "Bearer victim-token", "X-Client": "victim"}
	other := map[string]string{"X-Client": "other"}

	cases := []struct {
		name   string
		host   string
		path   string
		first  map[string]string
		stored bool // the first client's answer is stored and served to the next
	}{
		{"Last-Modified, Cookie", "example.org", "/lm", victim, false},
		{"Last-Modified, two cookies", "example.org", "/lm", twoCookies, false},
		{"Last-Modified, Authorization", "example.org", "/lm", auth, false},
		{"default_ttl, Cookie", "ttl.example.org", "/none", victim, false},
		{"public alone, Cookie", "example.org", "/public", victim, false},
		{"stale-while-revalidate alone, Cookie", "example.org", "/swr", victim, false},
		{"404 Last-Modified, Cookie", "example.org", "/404", victim, false},
		{"Set-Cookie Last-Modified, no cookie", "example.org", "/setcookie-lm", other, false},
		{"Set-Cookie max-age, Cookie", "example.org", "/setcookie", victim, false},
		{"public max-age, Cookie", "example.org", "/maxage", victim, true},
		{"s-maxage, Authorization", "example.org", "/smaxage", auth, true},
		{"Expires, Cookie", "example.org", "/expires", victim, true},
	}
	for _, viaH2 := range []bool{false, true} {
		for i, tc := range cases {
			proto := map[bool]string{false: "HTTP/1.1", true: "HTTP/2"}[viaH2]
			t.Run(proto+" "+tc.name, func(t *testing.T) {
				// A path of its own per case and protocol: a fresh key.
				path := fmt.Sprintf("%s?case=%d", tc.path, i)
				if viaH2 {
					path = "/h2" + path
				}
				originPath, _, _ := strings.Cut(path, "?")
				before := o.hitsOf(originPath)
				resp1, body1 := get(t, viaH2, tc.host, path, tc.first)
				if resp1.StatusCode >= 500 || o.hitsOf(originPath) != before+1 {
					t.Fatalf("first request: status %d, origin hits %d, want one", resp1.StatusCode, o.hitsOf(originPath)-before)
				}
				resp2, body2 := get(t, viaH2, tc.host, path, other)
				if tc.stored {
					if status(resp2) != "HIT" || body2 != body1 || o.hitsOf(originPath) != before+1 {
						t.Fatalf("explicit freshness: second request %s %q (origin hits %d), want a HIT of %q",
							status(resp2), body2, o.hitsOf(originPath)-before, body1)
					}
					return
				}
				if status(resp2) == "HIT" || strings.Contains(body2, "victim") || o.hitsOf(originPath) != before+2 {
					t.Fatalf("the next client got %s %q (origin hits %d): want its own page from the origin",
						status(resp2), body2, o.hitsOf(originPath)-before)
				}
				if sc := resp2.Header.Get("Set-Cookie"); sc != "" && sc != "session=fresh-other" {
					t.Fatalf("the next client got Set-Cookie %q", sc)
				}
				if strings.HasPrefix(tc.path, "/setcookie") {
					return
				}
				// The refusal was about the first request's credentials:
				// the page is cached for clients without them.
				if status(resp2) != "MISS" {
					t.Errorf("a client without cookies after a refusal for a cookie: %s, want MISS (not kept out of the cache)", status(resp2))
				}
				resp3, body3 := get(t, viaH2, tc.host, path, other)
				if status(resp3) != "HIT" || body3 != body2 {
					t.Errorf("third request %s %q, want a HIT of the cookieless page %q", status(resp3), body3, body2)
				}
			})
		}
	}
}
