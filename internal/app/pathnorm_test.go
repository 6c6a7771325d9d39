package app

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/reqpath"
)

// pathOrigin is a real origin that records the request-target it received
// (as on the wire: net/http's RequestURI) by rampart's request id. Pages
// are cacheable by a shared cache and show the request's cookie: a
// private page served with a public Cache-Control by mistake, the page
// cache.bypass.paths exists for.
type pathOrigin struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]string // request id -> request-target
}

func newPathOrigin(t *testing.T) *pathOrigin {
	t.Helper()
	o := &pathOrigin{seen: map[string]string{}}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.seen[r.Header.Get("Rampart-Request-Id")] = r.RequestURI
		o.mu.Unlock()
		w.Header().Set("Cache-Control", "public, max-age=300")
		fmt.Fprintf(w, "target=%s cookie=%s", r.RequestURI, r.Header.Get("Cookie"))
		for _, h := range []string{"X-Original-Url", "X-Rewrite-Url"} {
			if v, ok := r.Header[h]; ok {
				fmt.Fprintf(w, " %s=%q", h, v)
			}
		}
	}))
	t.Cleanup(o.Close)
	return o
}

// saw returns the request-target the origin received for request id.
func (o *pathOrigin) saw(id string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s, ok := o.seen[id]
	return s, ok
}

// reply is a response as a raw client read it; reset is set when the
// server refused the stream (HTTP/2) or closed the connection without an
// answer.
type reply struct {
	status int
	header http.Header
	body   string
	reset  bool
}

// rawH1 sends one HTTP/1.1 request with target written as is (Go's
// client would clean or escape it) and reads the response.
func rawH1(t *testing.T, addr, host, target string, hdr map[string]string) reply {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: rampart-test\r\nAccept: */*\r\nConnection: close\r\n", target, host)
	for k, v := range hdr {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return reply{reset: true}
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return reply{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// rawH2 sends one HTTP/2 request over TLS with :path set to target as is
// (Go's HTTP/2 client refuses some of these) and reads the response.
func rawH2(t *testing.T, addr, host, target string, hdr map[string]string) reply {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
		&tls.Config{ServerName: host, NextProtos: []string{"h2"}, InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN %q, want h2", p)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	fields := []hpack.HeaderField{
		{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "https"},
		{Name: ":authority", Value: host}, {Name: ":path", Value: target},
		{Name: "user-agent", Value: "rampart-test"}, {Name: "accept", Value: "*/*"},
	}
	for k, v := range hdr {
		fields = append(fields, hpack.HeaderField{Name: strings.ToLower(k), Value: v})
	}
	for _, f := range fields {
		enc.WriteField(f)
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	var r reply
	var body strings.Builder
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return reply{reset: true}
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.MetaHeadersFrame:
			if f.StreamID != 1 {
				continue
			}
			r.header = http.Header{}
			for _, hf := range f.Fields {
				if hf.Name == ":status" {
					r.status, _ = strconv.Atoi(hf.Value)
					continue
				}
				r.header.Add(hf.Name, hf.Value)
			}
			if f.StreamEnded() {
				r.body = body.String()
				return r
			}
		case *http2.DataFrame:
			if f.StreamID != 1 {
				continue
			}
			body.Write(f.Data())
			if len(f.Data()) > 0 {
				fr.WriteWindowUpdate(0, uint32(len(f.Data())))
				fr.WriteWindowUpdate(1, uint32(len(f.Data())))
			}
			if f.StreamEnded() {
				r.body = body.String()
				return r
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == 1 {
				return reply{reset: true}
			}
		case *http2.GoAwayFrame:
			return reply{reset: true}
		}
	}
}

// pathApp is a rampart app with one zone per path rule kind, all on one
// recording origin, on a plain HTTP listener (HTTP/1.1) and a TLS one
// (HTTP/2).
type pathApp struct {
	*running
	origin *pathOrigin
}

func startPathApp(t *testing.T) *pathApp {
	t.Helper()
	o := newPathOrigin(t)
	dir := t.TempDir()
	cert, key, _ := selfSigned(t, dir, "p", "chal.test", "waf.test", "wafx.test", "rl.test", "cache.test")
	cfg := parseConfig(t, fmt.Sprintf(`
listen: {https: "127.0.0.1:8443"}
log: {format: "off"}
data_dir: %[1]s
trusted_proxies: [127.0.0.1/32]
tls:
  certificates: [{cert: %[2]s, key: %[3]s}]
zones:
  - host: chal.test
    origins: [%[4]s]
    under_attack: "on"
    challenge: {exempt_paths: ["/api/"]}
  - host: waf.test
    origins: [%[4]s]
    waf:
      mode: block
      paranoia: 1
      skip: {paths: ["/api/"], extensions: [".css"]}
  - host: wafx.test
    origins: [%[4]s]
    waf:
      mode: block
      paranoia: 1
      exclusions: [{rule: 949110, path: /api/}]
  - host: rl.test
    origins: [%[4]s]
    rate_limit:
      rules:
        - {name: admin, path: /admin/, key: "header:X-Case", limits: [{requests: 1, per: 1h, burst: 1}]}
  - host: cache.test
    origins: [%[4]s]
    cache: {enabled: true, bypass: {paths: ["/admin/"]}}
`, dir, cert, key, o.URL))
	return &pathApp{running: start(t, cfg), origin: o}
}

// send sends target to host over proto ("h1" or "h2").
func (a *pathApp) send(t *testing.T, proto, host, target string, hdr map[string]string) reply {
	t.Helper()
	if proto == "h2" {
		return rawH2(t, a.Addrs().HTTPS, host, target, hdr)
	}
	return rawH1(t, a.Addrs().HTTP, host, target, hdr)
}

// adminTargets are request-targets that some origin resolves to /admin/
// (or tries to) through the exempt or skipped prefix /api/, in every
// encoding the red team and the RFC 3986 cases suggest. An absolute-form
// target is HTTP/1.1 only.
var adminTargets = []string{
	"/admin/",
	"/api/../admin/",
	"/api/%2e%2e/admin/",
	"/api/%2E%2E/admin/",
	"/api/.%2e/admin/",
	"/api/%2e./admin/",
	"/api/./../admin/",
	"/api//../admin/",
	"/api/x/../../admin/",
	"/api;x/../admin/",
	"//admin/",
	"///admin/",
	"/./admin/",
	"/%2e/admin/",
	"/%61dmin/",
	"/%61%64%6D%69%6e/",
	"/api/../%61dmin/",
	"/admin/x/..",
	"/admin/.",
	"/admin//",
	// Path parameters: Tomcat and Jetty drop them before routing.
	"/admin;x=1/",
	"/admin;jsessionid=ABC/x",
	"/api/x;/../../admin/",
	"/api;x/y",
	// Refused: an origin would resolve them differently from one another.
	"/api/..;/admin/",
	"/api/.;/admin/",
	"/api/..;x=1/admin/",
	"/api/%2e%2e;/admin/",
	"/api/..%2fadmin/",
	"/api/..%2Fadmin/",
	"/api%2f..%2fadmin/",
	"/admin%2f",
	"/api/..\\admin/",
	"/api/..%5cadmin/",
	"/api/..%5Cadmin/",
	"/api/%c0%ae%c0%ae/admin/",
	"/api/%C0%AE%C0%AE/admin/",
	"/api/%e0%80%ae%e0%80%ae/admin/",
	"/api/..%00/admin/",
	"/api/..%0d%0a/admin/",
	"/../admin/",
	"/api/../../admin/",
	"/api/%2e%2e/%2e%2e/admin/",
	"/api/x#/../../admin/",
	// Not /admin/ for an origin that decodes once: the rules must agree.
	"/api/..%252fadmin/",
	"/api/%252e%252e/admin/",
	"/api/x",
	"/%61pi/x",
	// HTTP/1.1's absolute form.
	"http://HOST/api/../admin/",
	"http://HOST//admin/",
}

// expect returns what the origin must receive for target (its normal
// form and the query) and whether the edge must refuse it.
func expect(t *testing.T, target string) (want string, refused bool) {
	t.Helper()
	if i := strings.Index(target, "://"); i >= 0 {
		target = target[strings.IndexByte(target[i+3:], '/')+i+3:]
	}
	path, query, hasQuery := strings.Cut(target, "?")
	norm, err := reqpath.Normalise(path)
	if err != nil {
		return "", true
	}
	if hasQuery {
		norm += "?" + query
	}
	return norm, false
}

// views returns how origins resolve a normalised target's path: decoded
// as it is (nginx, Apache), and without the path parameters of its
// segments (Tomcat, Jetty: "/admin;x=1/" is "/admin/").
func views(norm string) (plain, servlet string) {
	plain, _ = url.PathUnescape(strings.SplitN(norm, "?", 2)[0])
	segs := strings.Split(plain, "/")
	for i, s := range segs {
		segs[i], _, _ = strings.Cut(s, ";")
	}
	return plain, strings.Join(segs, "/")
}

// protected reports whether some origin serves the normalised target
// from under /admin/, which rate_limit and cache.bypass protect.
func protected(norm string) bool {
	plain, servlet := views(norm)
	return strings.HasPrefix(plain, "/admin/") || strings.HasPrefix(servlet, "/admin/")
}

// exempt reports whether every origin serves the normalised target from
// under /api/, the hole challenge exempt_paths, waf.skip.paths and
// waf.exclusions open.
func exempt(norm string) bool {
	plain, servlet := views(norm)
	return strings.HasPrefix(plain, "/api/") && strings.HasPrefix(servlet, "/api/")
}

// check asserts the invariant: the edge refused the request (400, the
// origin saw nothing), or the origin received exactly the normalised
// target (rule decides nothing else). It returns whether the origin was
// reached.
func (a *pathApp) check(t *testing.T, target string, r reply) (reached bool) {
	t.Helper()
	want, refused := expect(t, target)
	id := r.header.Get("Rampart-Request-Id")
	got, reached := a.origin.saw(id)
	if refused {
		if r.reset {
			return false // the HTTP/2 server refused the stream itself
		}
		if r.status != http.StatusBadRequest || reached || id == "" {
			t.Errorf("%q: status %d, origin saw %q (%v); want the edge's 400 and no origin request", target, r.status, got, reached)
		}
		return false
	}
	if r.reset {
		t.Fatalf("%q: no response", target)
	}
	if reached && got != want {
		t.Errorf("%q: the origin received %q, the rules matched on %q", target, got, want)
	}
	return reached
}

func hostIn(target, host string) string { return strings.Replace(target, "HOST", host, 1) }

// TestPathRulesSeeWhatTheOriginGets is issue 11 point 1: every path rule
// (challenge exempt_paths, waf.skip paths and extensions, waf.exclusions
// paths, rate_limit rule paths, cache bypass paths and the cache key) matches on the path the
// origin receives, over HTTP/1.1 and HTTP/2, or the edge refuses the
// request with 400.
func TestPathRulesSeeWhatTheOriginGets(t *testing.T) {
	a := startPathApp(t)
	const xss = "?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
	for _, proto := range []string{"h1", "h2"} {
		targets := adminTargets
		if proto == "h2" {
			targets = nil
			for _, tg := range adminTargets {
				if tg[0] == '/' {
					targets = append(targets, tg)
				}
			}
		}
		t.Run(proto+"/challenge exempt_paths", func(t *testing.T) {
			for _, tg := range targets {
				r := a.send(t, proto, "chal.test", hostIn(tg, "chal.test"), nil)
				reached := a.check(t, tg, r)
				want, refused := expect(t, tg)
				if refused {
					continue
				}
				if !exempt(want) && (reached || r.header.Get("Rampart-Challenge") == "") {
					t.Errorf("%q (%s): not challenged (status %d, origin reached %v)", tg, want, r.status, reached)
				}
				if exempt(want) && (!reached || r.status != 200) {
					t.Errorf("%q (%s): exempt path not passed (status %d)", tg, want, r.status)
				}
			}
		})
		t.Run(proto+"/waf skip paths", func(t *testing.T) {
			for _, tg := range targets {
				r := a.send(t, proto, "waf.test", hostIn(tg, "waf.test")+xss, nil)
				reached := a.check(t, tg+xss, r)
				want, refused := expect(t, tg)
				if refused {
					continue
				}
				if !exempt(want) && (reached || r.status != http.StatusForbidden) {
					t.Errorf("%q (%s): attack in the query not blocked (status %d)", tg, want, r.status)
				}
				if exempt(want) && (!reached || r.status != 200) {
					t.Errorf("%q (%s): skipped path not passed (status %d)", tg, want, r.status)
				}
			}
		})
		t.Run(proto+"/waf exclusions path", func(t *testing.T) {
			// Blocking is off under /api/ (the evaluation rule 949110 is
			// excluded there), on everywhere else.
			for _, tg := range targets {
				r := a.send(t, proto, "wafx.test", hostIn(tg, "wafx.test")+xss, nil)
				reached := a.check(t, tg+xss, r)
				want, refused := expect(t, tg)
				if refused {
					continue
				}
				if !exempt(want) && (reached || r.status != http.StatusForbidden) {
					t.Errorf("%q (%s): attack in the query not blocked (status %d)", tg, want, r.status)
				}
				if exempt(want) && (!reached || r.status != 200) {
					t.Errorf("%q (%s): excluded path not passed (status %d)", tg, want, r.status)
				}
			}
		})
		t.Run(proto+"/waf skip extensions", func(t *testing.T) {
			cookie := map[string]string{"Cookie": "x=<script>alert(1)</script>"}
			for _, tt := range []struct {
				target string
				hdr    map[string]string
				pass   bool
			}{
				{"/img/x.css", cookie, true},               // the skip works
				{"/index.php/x.css" + xss, nil, false},     // PATH_INFO, attack in the query
				{"/index.php/x.css", cookie, false},        // PATH_INFO, attack in a cookie
				{"/img/x.css" + xss, nil, false},           // a query is always inspected
				{"/img/x.css/..;/admin" + xss, nil, false}, // refused
				{"/admin/x.css/.." + xss, nil, false},      // /admin/
				{"/admin/%2e%2e/x.css" + xss, nil, false},  // /x.css with a query
				{"/index.php%2fx.css" + xss, nil, false},   // refused
				{"/index.php;x.css" + xss, nil, false},     // inspected
				{"/index.php/x.%63ss" + xss, nil, false},   // decoded .css, PATH_INFO
				{"/img/x.%63ss", cookie, true},             // decoded .css
				{"/img//x.css/", cookie, false},            // a folder, not a .css
				{"/index.jsp;x.css", cookie, false},        // index.jsp to Tomcat
				{"/img/x.css;v=1", cookie, false},          // not a .css name
			} {
				r := a.send(t, proto, "waf.test", tt.target, tt.hdr)
				reached := a.check(t, tt.target, r)
				if _, refused := expect(t, tt.target); refused {
					continue
				}
				if tt.pass != reached || (!tt.pass && r.status != http.StatusForbidden) {
					t.Errorf("%q: status %d, origin reached %v; want passed %v", tt.target, r.status, reached, tt.pass)
				}
			}
		})
		t.Run(proto+"/rate_limit rule path", func(t *testing.T) {
			key := map[string]string{"X-Case": proto + "-" + t.Name()}
			// Use up the bucket of /admin/ for this key.
			for i := 0; ; i++ {
				if r := a.send(t, proto, "rl.test", "/admin/", key); r.status == http.StatusTooManyRequests {
					break
				} else if i == 5 {
					t.Fatalf("/admin/ never limited (status %d)", r.status)
				}
			}
			for _, tg := range targets {
				r := a.send(t, proto, "rl.test", hostIn(tg, "rl.test"), key)
				reached := a.check(t, tg, r)
				want, refused := expect(t, tg)
				if refused {
					continue
				}
				if protected(want) && (reached || r.status != http.StatusTooManyRequests) {
					t.Errorf("%q (%s): escaped the /admin/ limit (status %d)", tg, want, r.status)
				}
				if !protected(want) && (!reached || r.status != 200) {
					t.Errorf("%q (%s): limited outside /admin/ (status %d)", tg, want, r.status)
				}
			}
		})
		t.Run(proto+"/cache bypass paths", func(t *testing.T) {
			for i, tg := range targets {
				secret := fmt.Sprintf("victim-%s-%d", proto, i)
				r := a.send(t, proto, "cache.test", hostIn(tg, "cache.test"), map[string]string{"Cookie": "session=" + secret})
				reached := a.check(t, tg, r)
				want, refused := expect(t, tg)
				if refused {
					continue
				}
				status := r.header.Get("Rampart-Cache")
				if protected(want) && (status != "BYPASS" || !reached) {
					t.Errorf("%q (%s): Rampart-Cache %q, origin reached %v; want BYPASS", tg, want, status, reached)
				}
				if !protected(want) {
					continue // a public page: cached, as its Cache-Control says
				}
				// The next client, without the cookie, asks for the page
				// as its own path: it must not get the victim's.
				next := a.send(t, proto, "cache.test", strings.SplitN(want, "?", 2)[0], nil)
				if strings.Contains(next.body, secret) || next.header.Get("Rampart-Cache") != "BYPASS" {
					t.Errorf("%q (%s): the victim's page was cached and served to the next client: %q", tg, want, next.body)
				}
			}
		})
		t.Run(proto+"/cache key", func(t *testing.T) {
			base := "/pub/" + proto
			first := a.send(t, proto, "cache.test", base, nil)
			if s := first.header.Get("Rampart-Cache"); first.status != 200 || s != "MISS" {
				t.Fatalf("%s: status %d Rampart-Cache %q, want a MISS", base, first.status, s)
			}
			for _, tg := range []string{"/" + base, "/%70ub/" + proto, "/pub/./" + proto, "/x/.." + base, "/%2e" + base, "/PUB/../pub/" + proto} {
				r := a.send(t, proto, "cache.test", tg, nil)
				a.check(t, tg, r)
				if s := r.header.Get("Rampart-Cache"); r.status != 200 || s != "HIT" {
					t.Errorf("%q: status %d Rampart-Cache %q, want a HIT on %s's entry", tg, r.status, s, base)
				}
			}
		})
	}
}

// TestPathNormalisedOnTheTransportPath checks the proxy's other way to
// the origin, the http.Transport path (an Upgrade request), next to the
// lean client: the origin receives the normalised target there too.
func TestPathNormalisedOnTheTransportPath(t *testing.T) {
	a := startPathApp(t)
	up := map[string]string{"Connection": "Upgrade", "Upgrade": "websocket"}
	for _, tt := range []struct {
		host, target, want string
		hdr                map[string]string
	}{
		{"chal.test", "/api/../api/x", "/api/x", up},
		{"chal.test", "//api/x?a=%2e%2e", "/api/x?a=%2e%2e", up},
		{"chal.test", "/%61pi/./x", "/api/x", up},
		{"chal.test", "/api/%7e%2Dx%3c", "/api/~-x%3C", up},
		{"chal.test", "/api/../api/x", "/api/x", nil},
		{"chal.test", "/api/%7e%2Dx%3c?%2e", "/api/~-x%3C?%2e", nil},
	} {
		for _, proto := range []string{"h1", "h2"} {
			if proto == "h2" && tt.hdr != nil {
				continue // no Upgrade in HTTP/2
			}
			r := a.send(t, proto, tt.host, tt.target, tt.hdr)
			got, ok := a.origin.saw(r.header.Get("Rampart-Request-Id"))
			if !ok || got != tt.want {
				t.Errorf("%s %s %q (upgrade %v): status %d, origin received %q (%v), want %q", proto, tt.host, tt.target, tt.hdr != nil, r.status, got, ok, tt.want)
			}
		}
	}
}

// TestPathOverrideHeadersRemoved: X-Original-URL and X-Rewrite-URL make
// IIS URL Rewrite, Symfony and Zend route by a path the rules never saw
// ("GET /api/x" with "X-Original-URL: /admin/" would pass the /api/
// exemption and reach /admin/); the origin never receives them, not even
// from a trusted proxy (the app trusts 127.0.0.1, the test's address: a
// CDN in front passes its clients' headers on).
func TestPathOverrideHeadersRemoved(t *testing.T) {
	a := startPathApp(t)
	for _, proto := range []string{"h1", "h2"} {
		for _, h := range []string{"X-Original-URL", "X-Rewrite-URL", "x-original-url"} {
			r := a.send(t, proto, "chal.test", "/api/x", map[string]string{h: "/admin/"})
			if !a.check(t, "/api/x", r) || r.status != 200 {
				t.Fatalf("%s %s: status %d, origin not reached", proto, h, r.status)
			}
			if strings.Contains(r.body, "/admin/") {
				t.Errorf("%s %s: the origin received the header: %q", proto, h, r.body)
			}
		}
	}
}

// FuzzPathAgreement sends random request-targets to a real rampart
// listener (HTTP/1.1) in front of a real origin: the edge refuses the
// target (400), or the origin receives exactly the normalised target,
// which is what every rule matched on (the rules read the request the
// edge normalised; TestPathRulesSeeWhatTheOriginGets checks each kind).
func FuzzPathAgreement(f *testing.F) {
	for _, s := range adminTargets {
		if s[0] == '/' {
			f.Add(s)
		}
	}
	f.Add("/a/b/../c?x=/../")
	f.Add("/%7e%2D/%2e%2E/?")
	f.Add("/\xc3\xa9/%C3%A9/%c3%a9")
	o := newPathOriginTB(f)
	addr := startEdgeOnly(f, o.URL)
	f.Fuzz(func(t *testing.T, target string) {
		if target == "" || target[0] != '/' || strings.ContainsAny(target, " \r\n") || len(target) > 2000 {
			return // not a request-target an HTTP/1.1 request line carries
		}
		r := rawH1(t, addr, "cache.test", target, nil)
		want, refused := expect(t, target)
		got, reached := o.saw(r.header.Get("Rampart-Request-Id"))
		switch {
		case r.reset || r.status == http.StatusBadRequest:
			if reached {
				t.Fatalf("%q refused, but the origin received %q", target, got)
			}
			if _, err := url.ParseRequestURI(target); !refused && err == nil {
				t.Fatalf("%q: 400, but it parses and its normal form %q is acceptable", target, want)
			}
		case refused:
			t.Fatalf("%q: status %d, want the edge's 400", target, r.status)
		case r.header.Get("Rampart-Cache") == "HIT":
			// Served from the entry of the same normalised target.
		case !reached || got != want:
			t.Fatalf("%q: status %d, the origin received %q (%v), the rules matched on %q", target, r.status, got, reached, want)
		}
	})
}

// newPathOriginTB is newPathOrigin for a fuzz target.
func newPathOriginTB(tb testing.TB) *pathOrigin {
	o := &pathOrigin{seen: map[string]string{}}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.seen[r.Header.Get("Rampart-Request-Id")] = r.RequestURI
		o.mu.Unlock()
		w.Header().Set("Cache-Control", "public, max-age=300")
		fmt.Fprintf(w, "target=%s", r.RequestURI)
	}))
	tb.Cleanup(o.Close)
	return o
}

// startEdgeOnly starts a rampart app with a cache zone (bypass /admin/)
// on originURL, plain HTTP only, for the life of tb,
// and returns its HTTP address.
func startEdgeOnly(tb testing.TB, originURL string) string {
	dir := tb.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "rampart.yaml"), []byte(fmt.Sprintf(`
log: {format: "off"}
data_dir: %s
zones:
  - host: cache.test
    origins: [%s]
    cache: {enabled: true, bypass: {paths: ["/admin/"]}}
`, dir, originURL)))
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Listen.HTTP, cfg.Listen.Admin = "127.0.0.1:0", ""
	a, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler), SkipCompliance: true})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("Run: %v", err)
		}
	})
	return a.Addrs().HTTP
}
