package app

// Issue 11 points 4 and 8: what the origin is told about the host and the
// client. Every test runs the attack against a real rampart app (built
// from a config) and a real origin that records what it receives, over
// raw HTTP/1.1 sockets (both server loops), HTTP/2 over TLS, and the
// WebSocket (http.Transport) path.

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// seenRequest is what the recording origin received.
type seenRequest struct {
	host   string
	header http.Header
}

// recorder is a real origin on 127.0.0.1 that records the Host and
// headers of every request by path. Under /page/ it answers a cacheable
// page with a link built from the Host it was sent, as web frameworks do;
// /ws is a WebSocket echo.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]seenRequest
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	o := &recorder{seen: map[string]seenRequest{}}
	up := websocket.Upgrader{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.seen[r.URL.Path] = seenRequest{host: r.Host, header: r.Header.Clone()}
		o.mu.Unlock()
		if r.URL.Path == "/ws" {
			c, err := up.Upgrade(w, r, nil)
			if err == nil {
				c.Close()
			}
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		fmt.Fprintf(w, `<a href="http://%s/next">next</a> xfh=%s`, r.Host, r.Header.Get("X-Forwarded-Host"))
	}))
	t.Cleanup(o.Close)
	return o
}

// get returns what the origin received for path, and whether it did.
func (o *recorder) get(path string) (seenRequest, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s, ok := o.seen[path]
	return s, ok
}

// rawHTTP1 sends raw over a new connection to addr (with tlsCfg, over TLS)
// and returns the response's status and body; status 0 when the server
// closed the connection without an answer.
func rawHTTP1(t *testing.T, addr string, tlsCfg *tls.Config, raw string) (int, string) {
	t.Helper()
	var c net.Conn
	var err error
	if tlsCfg != nil {
		c, err = tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, tlsCfg)
	} else {
		c, err = net.DialTimeout("tcp", addr, 5*time.Second)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return resp.StatusCode, ""
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// h2Field is one header field of a raw HTTP/2 request, pseudo-headers
// included, in the order given.
type h2Field struct{ name, value string }

// rawHTTP2 sends one GET with exactly the given header fields (the
// pseudo-headers too: a Go client cannot send an :authority that
// disagrees with a host field) on a new TLS connection negotiating h2, and
// returns the response's status and body; status 0 and the error code
// when the server reset the stream.
func rawHTTP2(t *testing.T, addr string, roots *x509.CertPool, fields []h2Field) (int, string) {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
		&tls.Config{RootCAs: roots, ServerName: "cache.test", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.ConnectionState().NegotiatedProtocol != "h2" {
		t.Fatalf("negotiated %q, want h2", c.ConnectionState().NegotiatedProtocol)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range fields {
		enc.WriteField(hpack.HeaderField{Name: f.name, Value: f.value})
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	status := 0
	var body bytes.Buffer
	dec := hpack.NewDecoder(4096, func(f hpack.HeaderField) {
		if f.Name == ":status" {
			fmt.Sscan(f.Value, &status)
		}
	})
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading h2 frames: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.HeadersFrame:
			if f.StreamID != 1 {
				continue
			}
			if _, err := dec.Write(f.HeaderBlockFragment()); err != nil {
				t.Fatal(err)
			}
			if f.StreamEnded() {
				return status, body.String()
			}
		case *http2.DataFrame:
			if f.StreamID != 1 {
				continue
			}
			body.Write(f.Data())
			if f.StreamEnded() {
				return status, body.String()
			}
		case *http2.RSTStreamFrame:
			return 0, f.ErrCode.String()
		case *http2.GoAwayFrame:
			return 0, f.ErrCode.String()
		}
	}
}

// hostApp runs a config with a cached zone cache.test (aliases 127.0.0.1
// and [::1]) and a cached wildcard zone *.wild.test in front of o, on
// plain HTTP and on TLS (certificate for cache.test and *.wild.test).
type hostApp struct {
	*running
	roots     *x509.CertPool
	httpPort  string
	httpsPort string
}

func startHostApp(t *testing.T, o *recorder, server, top string) *hostApp {
	t.Helper()
	if server == "" {
		server = "rampart"
	}
	certFile, keyFile, cert := selfSigned(t, t.TempDir(), "c", "cache.test", "*.wild.test")
	cfg := parseConfig(t, fmt.Sprintf(`
listen: {https: "127.0.0.1:8443", server: %s}
log: {format: "off"}
%s
tls:
  certificates: [{cert: %s, key: %s}]
zones:
  - host: cache.test
    aliases: ["127.0.0.1", "[::1]"]
    origins: [%s]
    cache: {enabled: true}
  - host: "*.wild.test"
    origins: [%s]
    cache: {enabled: true}
`, server, top, certFile, keyFile, o.URL, o.URL))
	r := start(t, cfg)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	_, hp, _ := net.SplitHostPort(r.Addrs().HTTP)
	_, sp, _ := net.SplitHostPort(r.Addrs().HTTPS)
	return &hostApp{running: r, roots: roots, httpPort: hp, httpsPort: sp}
}

// hostCase is one Host the attacker sends; want is the host the origin
// must see, or "" when the request must be refused before any origin.
type hostCase struct {
	name   string
	target string // request target; "" for the case's own /page/ path
	host   string // Host header line value; "-" for none
	extra  string // more header lines, CRLF-terminated
	status int    // expected status when want is "" (400, 421)
	want   string // host the origin sees; $P is the listener's port
	victim string // Host of the next client, whose page must show its own host
}

func TestHostCachePoisoningHTTP1(t *testing.T) {
	cases := []hostCase{
		{name: "port is a host", host: "cache.test:evil.test", status: 400},
		{name: "two ports", host: "cache.test:80:80", status: 400},
		{name: "userinfo after port", host: "cache.test:8080@evil", status: 400},
		{name: "userinfo", host: "evil@cache.test", status: 400},
		{name: "empty port", host: "cache.test:", status: 400},
		{name: "port zero", host: "cache.test:0", status: 400},
		{name: "port too large", host: "cache.test:65536", status: 400},
		{name: "space before port", host: "cache.test :80", status: 400},
		{name: "encoded colon", host: "cache.test%3aevil", status: 400},
		{name: "path in host", host: "cache.test/evil", status: 400},
		{name: "empty label", host: "cache..test", status: 400},
		{name: "ipv6 zone", host: "[::1%25lo]", status: 400},
		{name: "bare ipv6", host: "::1", status: 400},
		{name: "duplicate Host", host: "cache.test", extra: "Host: evil.test\r\n", status: 400},
		{name: "no Host", host: "-", status: 400},
		{name: "upper case", host: "CACHE.TEST", want: "cache.test"},
		{name: "trailing dot", host: "cache.test.", want: "cache.test"},
		{name: "scheme default port", host: "cache.test:80", want: "cache.test:$P"},
		{name: "other port", host: "cache.test:1234", want: "cache.test:$P"},
		{name: "listener port", host: "cache.test:$P", want: "cache.test:$P"},
		{name: "leading zeros", host: "cache.test:00080", want: "cache.test:$P"},
		{name: "ipv4 literal", host: "127.0.0.1:1", want: "127.0.0.1:$P", victim: "127.0.0.1"},
		{name: "ipv6 literal", host: "[0:0::1]", want: "[::1]", victim: "[::1]"},
		{name: "ipv6 with port", host: "[::1]:80", want: "[::1]:$P", victim: "[::1]"},
		{name: "wildcard zone", host: "A.Wild.Test.", want: "a.wild.test", victim: "a.wild.test"},
		{name: "absolute form wins over Host", target: "http://cache.test/page/abs1", host: "evil.test", want: "cache.test"},
		{name: "absolute form names an unknown host", target: "http://evil.test/page/abs2", host: "cache.test", status: 421},
		{name: "absolute form with a bad port", target: "http://cache.test:evil.test/page/abs3", host: "cache.test", status: 400},
		{name: "absolute form with port", target: "http://CACHE.test:99/page/abs4", host: "cache.test", want: "cache.test:$P"},
	}
	for _, server := range []string{"rampart", "net/http"} {
		t.Run(server, func(t *testing.T) {
			o := newRecorder(t)
			a := startHostApp(t, o, server, "")
			for i, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					path := fmt.Sprintf("/page/%d", i)
					target := tc.target
					if target == "" {
						target = path
					} else {
						path = target[strings.Index(target[len("http://"):], "/")+len("http://"):]
					}
					hostLine := ""
					if tc.host != "-" {
						hostLine = "Host: " + strings.ReplaceAll(tc.host, "$P", a.httpPort) + "\r\n"
					}
					status, body := rawHTTP1(t, a.Addrs().HTTP, nil, "GET "+target+" HTTP/1.1\r\n"+hostLine+tc.extra+"Connection: close\r\n\r\n")
					checkAttack(t, o, tc, path, a.httpPort, status, body)
					victim := tc.victim
					if victim == "" {
						victim = "cache.test"
					}
					status, body = rawHTTP1(t, a.Addrs().HTTP, nil, "GET "+path+" HTTP/1.1\r\nHost: "+victim+"\r\nConnection: close\r\n\r\n")
					checkVictim(t, victim, status, body)
				})
			}
		})
	}
}

// checkAttack checks the answer to an attack request and what the origin
// received for path.
func checkAttack(t *testing.T, o *recorder, tc hostCase, path, port string, status int, body string) {
	t.Helper()
	seen, reached := o.get(path)
	if tc.want == "" {
		if status != tc.status {
			t.Errorf("status %d (%q), want %d", status, body, tc.status)
		}
		if reached {
			t.Errorf("origin contacted with Host %q", seen.host)
		}
		return
	}
	want := strings.ReplaceAll(tc.want, "$P", port)
	if status != 200 || !reached {
		t.Fatalf("status %d (%q), origin reached %v; want 200", status, body, reached)
	}
	if seen.host != want {
		t.Errorf("origin saw Host %q, want %q", seen.host, want)
	}
	if got := seen.header.Values("X-Forwarded-Host"); len(got) != 1 || got[0] != want {
		t.Errorf("origin saw X-Forwarded-Host %q, want %q", got, want)
	}
	if got := seen.header.Get("Forwarded"); !strings.Contains(got, `host="`+want+`"`) {
		t.Errorf("origin saw Forwarded %q, want host=%q", got, want)
	}
	if got := seen.header.Values("Host"); len(got) > 0 {
		t.Errorf("origin saw a Host header field besides the Host line: %q", got)
	}
}

// checkVictim checks that the next client's page links to its own host.
func checkVictim(t *testing.T, victim string, status int, body string) {
	t.Helper()
	if want := `href="http://` + victim + `/next"`; status != 200 || !strings.Contains(body, want) {
		t.Errorf("next client for %s: status %d body %q, want a page with %s", victim, status, body, want)
	}
}

func TestHostCachePoisoningHTTP2(t *testing.T) {
	o := newRecorder(t)
	a := startHostApp(t, o, "", "")
	cases := []struct {
		name      string
		authority string // "-" for none
		hosts     []string
		status    int    // expected when want is ""; 0: the stream is reset
		want      string // host the origin sees; $P is the TLS listener's port
	}{
		{name: "port is a host", authority: "cache.test:evil.test", status: 400},
		{name: "two ports", authority: "cache.test:443:443", status: 400},
		{name: "encoded colon", authority: "cache.test%3aevil", status: 400},
		{name: "space", authority: "cache.test :443", status: 400},
		{name: "non-ASCII", authority: "cäche.test", status: 400},
		{name: "userinfo", authority: "evil@cache.test", status: 0},
		{name: "host field disagrees", authority: "cache.test", hosts: []string{"evil.test"}, status: 400},
		{name: "second host field disagrees", authority: "cache.test", hosts: []string{"cache.test", "evil.test"}, status: 400},
		{name: "host field with a bad port", authority: "cache.test", hosts: []string{"cache.test:evil"}, status: 400},
		{name: "host field only, bad", authority: "-", hosts: []string{"cache.test:evil.test"}, status: 400},
		{name: "host field agrees", authority: "cache.test", hosts: []string{"CACHE.test"}, want: "cache.test"},
		{name: "host field only", authority: "-", hosts: []string{"cache.test"}, want: "cache.test"},
		{name: "upper case", authority: "CACHE.TEST", want: "cache.test"},
		{name: "trailing dot", authority: "cache.test.", want: "cache.test"},
		{name: "scheme default port", authority: "cache.test:443", want: "cache.test:$P"},
		{name: "listener port", authority: "cache.test:$P", want: "cache.test:$P"},
		{name: "wildcard zone", authority: "B.WILD.test:1", want: "b.wild.test:$P"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := fmt.Sprintf("/page/h2-%d", i)
			fields := []h2Field{{":method", "GET"}, {":scheme", "https"}, {":path", path}}
			if tc.authority != "-" {
				fields = append(fields, h2Field{":authority", strings.ReplaceAll(tc.authority, "$P", a.httpsPort)})
			}
			for _, h := range tc.hosts {
				fields = append(fields, h2Field{"host", h})
			}
			status, body := rawHTTP2(t, a.Addrs().HTTPS, a.roots, fields)
			checkAttack(t, o, hostCase{want: tc.want, status: tc.status}, path, a.httpsPort, status, body)
			victimHost := "cache.test"
			if strings.Contains(tc.want, "wild") {
				victimHost = "b.wild.test"
			}
			status, body = rawHTTP2(t, a.Addrs().HTTPS, a.roots, []h2Field{
				{":method", "GET"}, {":scheme", "https"}, {":path", path}, {":authority", victimHost}})
			if want := `href="http://` + victimHost + `/next"`; status != 200 || !strings.Contains(body, want) {
				t.Errorf("next client: status %d body %q, want a page with %s", status, body, want)
			}
		})
	}
	t.Run("TLS HTTP/1.1 with a foreign port", func(t *testing.T) {
		status, body := rawHTTP1(t, a.Addrs().HTTPS, &tls.Config{RootCAs: a.roots, ServerName: "cache.test", NextProtos: []string{"http/1.1"}},
			"GET /page/tls1 HTTP/1.1\r\nHost: cache.test:8080\r\nConnection: close\r\n\r\n")
		checkAttack(t, o, hostCase{want: "cache.test:$P"}, "/page/tls1", a.httpsPort, status, body)
	})
}

// spoofed are the client-IP headers a client sends to pose as someone
// else, in the spellings clients use (h1 canonicalises names; h2 sends
// them in lower case).
var spoofed = []string{
	"X-Real-IP", "x-real-ip", "True-Client-IP", "CF-Connecting-IP", "X-Client-IP", "X-Cluster-Client-IP",
	"Fastly-Client-IP", "Client-IP", "X-Original-Forwarded-For", "X-Forwarded", "X-ProxyUser-Ip",
	"X-Originating-IP", "Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Server", "X-Original-URL",
	"X-Rewrite-URL", "X-Original-Host", "X-Host",
}

// neverForwarded are spoofed headers removed even from trusted proxies:
// the path overrides (a second request path no rule sees; a CDN in front
// passes its own clients' values on), see internal/reqpath.
var neverForwarded = map[string]bool{"X-Original-URL": true, "X-Rewrite-URL": true}

// underscored are underscore spellings of forwarding and client-IP
// headers, which CGI-style origins read as the real ones.
var underscored = []string{"X_Real_IP", "X-Real_IP", "X_Forwarded_For", "X_Forwarded_Host", "CF_Connecting_IP", "Rampart_Request_Id"}

const spoofIP = "6.6.6.6"

// checkClientHeaders checks what the origin saw for path: none of the
// spoofed headers unless kept, X-Real-IP realIP, X-Forwarded-Host host.
func checkClientHeaders(t *testing.T, o *recorder, path, realIP, host string, kept bool) {
	t.Helper()
	seen, ok := o.get(path)
	if !ok {
		t.Fatalf("origin not reached for %s", path)
	}
	for _, name := range spoofed {
		got := seen.header.Values(name)
		switch {
		case strings.EqualFold(name, "X-Real-IP"):
		case neverForwarded[name] && len(got) > 0:
			t.Errorf("%s reached the origin: %q; path overrides are never forwarded", name, got)
		case neverForwarded[name]:
		case kept && (len(got) != 1 || got[0] != spoofIP):
			t.Errorf("%s from a trusted proxy: origin saw %q, want it kept", name, got)
		case !kept && len(got) > 0:
			t.Errorf("%s from an untrusted client reached the origin: %q", name, got)
		}
	}
	for k, vv := range seen.header {
		if strings.Contains(k, "_") {
			t.Errorf("underscore header %s: %q reached the origin", k, vv)
		}
	}
	if got := seen.header.Values("X-Real-Ip"); len(got) != 1 || got[0] != realIP {
		t.Errorf("origin saw X-Real-IP %q, want %q", got, realIP)
	}
	if got := seen.header.Values("X-Forwarded-Host"); len(got) != 1 || got[0] != host {
		t.Errorf("origin saw X-Forwarded-Host %q, want %q", got, host)
	}
	if seen.host != host {
		t.Errorf("origin saw Host %q, want %q", seen.host, host)
	}
}

func TestClientIPHeaders(t *testing.T) {
	for _, tt := range []struct {
		name    string
		top     string
		xff     string // X-Forwarded-For the client sends
		realIP  string // X-Real-IP the origin must see
		keptAll bool   // the spoofed headers pass (trusted peer)
	}{
		{name: "untrusted peer", top: "", xff: spoofIP, realIP: "127.0.0.1"},
		{name: "trusted peer", top: "trusted_proxies: [127.0.0.1/32]", xff: "203.0.113.9", realIP: "203.0.113.9", keptAll: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := newRecorder(t)
			a := startHostApp(t, o, "", tt.top)
			var lines strings.Builder
			fmt.Fprintf(&lines, "X-Forwarded-For: %s\r\nX-Forwarded-Host: evil.test\r\n", tt.xff)
			for _, n := range spoofed {
				if !strings.EqualFold(n, "X-Real-IP") || n == "X-Real-IP" {
					fmt.Fprintf(&lines, "%s: %s\r\n", n, spoofIP)
				}
			}
			for _, n := range underscored {
				fmt.Fprintf(&lines, "%s: %s\r\n", n, spoofIP)
			}
			t.Run("HTTP/1.1", func(t *testing.T) {
				status, body := rawHTTP1(t, a.Addrs().HTTP, nil, "GET /ip/h1 HTTP/1.1\r\nHost: CACHE.test\r\n"+lines.String()+"Connection: close\r\n\r\n")
				if status != 200 {
					t.Fatalf("status %d %q", status, body)
				}
				checkClientHeaders(t, o, "/ip/h1", tt.realIP, "cache.test", tt.keptAll)
			})
			t.Run("HTTP/1.1 lower-case names", func(t *testing.T) {
				status, body := rawHTTP1(t, a.Addrs().HTTP, nil, "GET /ip/h1lc HTTP/1.1\r\nHost: cache.test\r\n"+strings.ToLower(lines.String())+"Connection: close\r\n\r\n")
				if status != 200 {
					t.Fatalf("status %d %q", status, body)
				}
				checkClientHeaders(t, o, "/ip/h1lc", tt.realIP, "cache.test", tt.keptAll)
			})
			t.Run("HTTP/2", func(t *testing.T) {
				fields := []h2Field{{":method", "GET"}, {":scheme", "https"}, {":path", "/ip/h2"}, {":authority", "cache.test"},
					{"x-forwarded-for", tt.xff}, {"x-forwarded-host", "evil.test"}}
				for _, n := range append(append([]string{}, spoofed[1:]...), underscored...) {
					fields = append(fields, h2Field{strings.ToLower(n), spoofIP})
				}
				status, body := rawHTTP2(t, a.Addrs().HTTPS, a.roots, fields)
				if status != 200 {
					t.Fatalf("status %d %q", status, body)
				}
				checkClientHeaders(t, o, "/ip/h2", tt.realIP, "cache.test", tt.keptAll)
			})
			t.Run("WebSocket", func(t *testing.T) {
				status, body := rawHTTP1(t, a.Addrs().HTTP, nil, "GET /ws HTTP/1.1\r\nHost: Cache.Test:"+a.httpPort+"\r\n"+
					"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"+
					lines.String()+"\r\n")
				if status != http.StatusSwitchingProtocols {
					t.Fatalf("status %d %q, want 101", status, body)
				}
				checkClientHeaders(t, o, "/ws", tt.realIP, "cache.test:"+a.httpPort, tt.keptAll)
			})
		})
	}
}

// TestHTTPSRedirectHost: the 308 to https names the canonical host, never
// what the client sent after the name.
func TestHTTPSRedirectHost(t *testing.T) {
	o := newRecorder(t)
	certFile, keyFile, _ := selfSigned(t, t.TempDir(), "r", "cache.test")
	cfg := parseConfig(t, fmt.Sprintf(`
listen: {https: "127.0.0.1:8443"}
log: {format: "off"}
tls:
  redirect_http: true
  certificates: [{cert: %s, key: %s}]
zones:
  - host: cache.test
    origins: [%s]
`, certFile, keyFile, o.URL))
	r := start(t, cfg)
	_, port, _ := net.SplitHostPort(r.Addrs().HTTPS)
	for _, tt := range []struct {
		host     string
		status   int
		location string
	}{
		{"cache.test:evil.test", 400, ""},
		{"cache.test:80@evil.test", 400, ""},
		{"CACHE.Test.:80", 308, "https://cache.test:" + port + "/x?y=1"},
		{"cache.test", 308, "https://cache.test:" + port + "/x?y=1"},
	} {
		c, err := net.DialTimeout("tcp", r.Addrs().HTTP, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "GET /x?y=1 HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", tt.host)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("Host %q: %v", tt.host, err)
		}
		resp.Body.Close()
		c.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.location {
			t.Errorf("Host %q: status %d Location %q, want %d %q", tt.host, resp.StatusCode, resp.Header.Get("Location"), tt.status, tt.location)
		}
	}
	if _, ok := o.get("/x"); ok {
		t.Error("origin contacted")
	}
}
