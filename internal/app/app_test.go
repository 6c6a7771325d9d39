package app

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/rampart-edge/rampart/internal/edge"
)

func TestRoutingAnd421(t *testing.T) {
	a, b, c := newOrigin(t, "A"), newOrigin(t, "B"), newOrigin(t, "C")
	cfg := parseConfig(t, fmt.Sprintf(`
log: {format: "off"}
zones:
  - host: www.example.org
    aliases: [example.org]
    origins: [%s]
  - host: "*.wild.test"
    origins: [%s]
  - host: exact.wild.test
    origins: [%s]
`, a.URL, b.URL, c.URL))
	r := start(t, cfg)

	tests := []struct {
		host   string
		status int
		want   string // origin name; "" for 421
	}{
		{"www.example.org", 200, "A"},
		{"EXAMPLE.org:8080", 200, "A"},
		{"x.wild.test", 200, "B"},
		{"a.b.wild.test", 200, "B"},
		{"exact.wild.test", 200, "C"},
		{"wild.test", 421, ""},
		{"nowhere.example", 421, ""},
		{"", 421, ""}, // the listener address as Host
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			before := a.hits.Load() + b.hits.Load() + c.hits.Load()
			resp, body := do(t, nil, r.url("/p"), tt.host, map[string]string{"Rampart-Request-Id": "spoofed"})
			id := resp.Header.Get(edge.RequestIDHeader)
			if resp.StatusCode != tt.status || id == "" {
				t.Fatalf("status %d id %q body %q", resp.StatusCode, id, body)
			}
			after := a.hits.Load() + b.hits.Load() + c.hits.Load()
			if tt.want == "" {
				if after != before {
					t.Errorf("an origin was contacted for a 421 (%d hits)", after-before)
				}
				if !strings.Contains(body, id) {
					t.Errorf("421 body lacks the request id: %q", body)
				}
				return
			}
			if !strings.HasPrefix(body, tt.want+" ") {
				t.Errorf("served by %q, want %s", body, tt.want)
			}
			if saw := resp.Header.Get("X-Origin-Saw-Id"); saw != id {
				t.Errorf("origin saw request id %q, response has %q", saw, id)
			}
			if resp.Header.Get("Rampart-Cache") != "BYPASS" {
				t.Errorf("Rampart-Cache = %q", resp.Header.Get("Rampart-Cache"))
			}
		})
	}
}

func TestOriginDownAndMetrics(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	slow := newOrigin(t, "S")
	cfg := parseConfig(t, fmt.Sprintf(`
log: {format: "off"}
timeouts: {response_header: 200ms}
zones:
  - host: down.test
    origins: [%s]
  - host: slow.test
    origins: [%s]
`, dead, slow.URL))
	r := start(t, cfg)
	resp, body := do(t, nil, r.url("/"), "down.test", nil)
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get(edge.RequestIDHeader) == "" {
		t.Fatalf("status %d id %q body %q", resp.StatusCode, resp.Header.Get(edge.RequestIDHeader), body)
	}
	resp, body = do(t, nil, r.url("/slow"), "slow.test", nil)
	if resp.StatusCode != http.StatusGatewayTimeout || resp.Header.Get(edge.RequestIDHeader) == "" {
		t.Errorf("slow origin: status %d id %q body %q", resp.StatusCode, resp.Header.Get(edge.RequestIDHeader), body)
	}
	do(t, nil, r.url("/"), "unknown.test", nil)

	resp, body = do(t, nil, "http://"+r.Addrs().Admin+"/metrics", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics status %d", resp.StatusCode)
	}
	for _, want := range []string{
		`rampart_requests_total{code="502",zone="down.test"} 1`,
		`rampart_requests_total{code="421",zone="_unknown"} 1`,
		`rampart_origin_errors_total{origin="` + dead + `",zone="down.test"} 1`,
		`rampart_origin_healthy{origin="` + dead + `",zone="down.test"}`,
		`rampart_open_connections{listener="http"}`,
		`rampart_request_duration_seconds_count{zone="down.test"} 1`,
		`rampart_requests_total{code="504",zone="slow.test"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	resp, body = do(t, nil, "http://"+r.Addrs().Admin+"/healthz", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "ok") {
		t.Errorf("/healthz = %d %q", resp.StatusCode, body)
	}
}

func TestClientIPAndForwardedFor(t *testing.T) {
	o := newOrigin(t, "O")
	tests := []struct {
		name      string
		trusted   string
		xff       string
		wantXFF   string // as the origin sees it
		wantLogIP string
	}{
		{"no trusted proxies: client header replaced", "[]", "203.0.113.9", "127.0.0.1", "127.0.0.1"},
		{"no header", "[]", "", "127.0.0.1", "127.0.0.1"},
		{"trusted peer: header kept and appended", "[127.0.0.1/32]", "203.0.113.9", "203.0.113.9, 127.0.0.1", "203.0.113.9"},
		{"trusted peer: spoofed left part ignored for client ip", "[127.0.0.1/32]", "6.6.6.6, 203.0.113.9", "6.6.6.6, 203.0.113.9, 127.0.0.1", "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logPath := filepath.Join(t.TempDir(), "access.log")
			cfg := parseConfig(t, fmt.Sprintf(`
trusted_proxies: %s
log: {format: json, path: %s}
zones:
  - host: ip.test
    origins: [%s]
`, tt.trusted, logPath, o.URL))
			r := start(t, cfg)
			hdr := map[string]string{}
			if tt.xff != "" {
				hdr["X-Forwarded-For"] = tt.xff
			}
			resp, body := do(t, nil, r.url("/"), "ip.test", hdr)
			if resp.StatusCode != 200 || !strings.HasSuffix(body, "xff="+tt.wantXFF) {
				t.Errorf("status %d, origin saw %q, want xff=%s", resp.StatusCode, body, tt.wantXFF)
			}
			r.stop(t)
			data, err := os.ReadFile(logPath)
			if err != nil {
				t.Fatal(err)
			}
			var line map[string]any
			if err := json.Unmarshal(data, &line); err != nil {
				t.Fatalf("access log %q: %v", data, err)
			}
			if line["client_ip"] != tt.wantLogIP || line["request_id"] != resp.Header.Get(edge.RequestIDHeader) || line["zone"] != "ip.test" {
				t.Errorf("access log line %v", line)
			}
		})
	}
}

func TestTLSBySNIAndHTTP2(t *testing.T) {
	o := newOrigin(t, "O")
	dir := t.TempDir()
	aCert, aKey, aX509 := selfSigned(t, dir, "a", "a.test")
	bCert, bKey, bX509 := selfSigned(t, dir, "b", "b.test")
	cfg := parseConfig(t, fmt.Sprintf(`
listen: {https: "127.0.0.1:8443"}
log: {format: "off"}
tls:
  redirect_http: true
  certificates: [{cert: %s, key: %s}, {cert: %s, key: %s}]
zones:
  - host: a.test
    origins: [%s]
  - host: b.test
    origins: [%s]
  - host: plain.test
    origins: [%s]
`, aCert, aKey, bCert, bKey, o.URL, o.URL, o.URL))
	r := start(t, cfg)
	httpsAddr := r.Addrs().HTTPS
	_, port, _ := net.SplitHostPort(httpsAddr)

	for _, h2 := range []bool{false, true} {
		c := tlsClient(h2, aX509, bX509)
		c.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, httpsAddr)
		}
		wantProto := map[bool]string{false: "HTTP/1.1", true: "HTTP/2.0"}[h2]
		t.Run(wantProto+" unknown authority", func(t *testing.T) {
			before := o.hits.Load()
			resp, _ := do(t, c, "https://a.test:"+port+"/", "nowhere.test", nil)
			if resp.StatusCode != http.StatusMisdirectedRequest || resp.Proto != wantProto || resp.Header.Get(edge.RequestIDHeader) == "" {
				t.Errorf("status %d proto %s", resp.StatusCode, resp.Proto)
			}
			if o.hits.Load() != before {
				t.Error("origin contacted for an unknown :authority")
			}
		})
		for _, host := range []string{"a.test", "b.test"} {
			t.Run(fmt.Sprintf("%s %s", wantProto, host), func(t *testing.T) {
				resp, body := do(t, c, "https://"+host+":"+port+"/x", "", nil)
				if resp.StatusCode != 200 || resp.Proto != wantProto || resp.Header.Get(edge.RequestIDHeader) == "" {
					t.Fatalf("status %d proto %s id %q", resp.StatusCode, resp.Proto, resp.Header.Get(edge.RequestIDHeader))
				}
				if cn := resp.TLS.PeerCertificates[0].Subject.CommonName; cn != host {
					t.Errorf("certificate for %q, want %q", cn, host)
				}
				if !strings.Contains(body, "host="+host) {
					t.Errorf("origin saw %q", body)
				}
			})
		}
	}
	t.Run("redirect to https", func(t *testing.T) {
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, _ := do(t, noFollow, r.url("/p?q=1"), "a.test", nil)
		if want := "https://a.test:" + port + "/p?q=1"; resp.StatusCode != 308 || resp.Header.Get("Location") != want {
			t.Errorf("status %d location %q, want 308 %s", resp.StatusCode, resp.Header.Get("Location"), want)
		}
		resp, body := do(t, noFollow, r.url("/p"), "plain.test", nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(body, "O ") {
			t.Errorf("host without certificate: status %d body %q", resp.StatusCode, body)
		}
	})
	t.Run("reload adds a certificate and zone", func(t *testing.T) {
		cCert, cKey, cX509 := selfSigned(t, dir, "c", "c.test")
		cfg2 := parseConfig(t, fmt.Sprintf(`
listen: {https: "127.0.0.1:8443"}
log: {format: "off"}
tls:
  redirect_http: true
  certificates: [{cert: %s, key: %s}, {cert: %s, key: %s}, {cert: %s, key: %s}]
zones:
  - host: a.test
    origins: [%s]
  - host: c.test
    origins: [%s]
`, aCert, aKey, bCert, bKey, cCert, cKey, o.URL, o.URL))
		if err := r.Reload(cfg2); err != nil {
			t.Fatal(err)
		}
		c := tlsClient(true, cX509)
		c.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, httpsAddr)
		}
		resp, body := do(t, c, "https://c.test:"+port+"/", "", nil)
		if resp.StatusCode != 200 || resp.TLS.PeerCertificates[0].Subject.CommonName != "c.test" || !strings.Contains(body, "host=c.test") {
			t.Errorf("c.test after reload: status %d body %q", resp.StatusCode, body)
		}
		resp, _ = do(t, c, "https://c.test:"+port+"/", "b.test", nil)
		if resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("removed zone b.test: status %d, want 421", resp.StatusCode)
		}
	})
	t.Run("reload with a broken certificate keeps the running set", func(t *testing.T) {
		// Validation reads the files too, so break the file between
		// validation and Reload, as a certificate being rewritten would.
		bad, badKey, _ := selfSigned(t, dir, "bad", "d.test")
		broken := parseConfig(t, fmt.Sprintf(`
listen: {https: "127.0.0.1:8443"}
log: {format: "off"}
tls:
  certificates: [{cert: %s, key: %s}]
zones:
  - host: d.test
    origins: [%s]
`, bad, badKey, o.URL))
		if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
			t.Fatal(err)
		}
		err := r.Reload(broken)
		if err == nil || !strings.Contains(err.Error(), "bad.pem") {
			t.Fatalf("Reload with a broken certificate: %v", err)
		}
		c := tlsClient(false, aX509)
		c.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, httpsAddr)
		}
		if resp, _ := do(t, c, "https://a.test:"+port+"/", "", nil); resp.StatusCode != 200 {
			t.Errorf("a.test after a failed reload: %d", resp.StatusCode)
		}
		if resp, _ := do(t, nil, r.url("/"), "d.test", nil); resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("zone of the failed reload is served: %d", resp.StatusCode)
		}
	})
	t.Run("tls 1.1 refused", func(t *testing.T) {
		conn, err := tls.Dial("tcp", httpsAddr, &tls.Config{ServerName: "a.test", InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11})
		if err == nil {
			conn.Close()
			t.Error("TLS 1.1 handshake succeeded")
		}
	})
}

func TestWebSocketThroughEdge(t *testing.T) {
	up := websocket.Upgrader{}
	ws := newOrigin(t, "unused")
	ws.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, append([]byte("echo:"), msg...)); err != nil {
				return
			}
		}
	})
	cfg := parseConfig(t, fmt.Sprintf(`
log: {format: "off"}
zones:
  - host: ws.test
    origins: [%s]
`, ws.URL))
	r := start(t, cfg)
	d := websocket.Dialer{
		NetDialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, r.Addrs().HTTP)
		},
		HandshakeTimeout: 5 * time.Second,
	}
	conn, resp, err := d.Dial("ws://ws.test/socket", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	if resp.StatusCode != 101 || resp.Header.Get(edge.RequestIDHeader) == "" {
		t.Errorf("handshake status %d id %q", resp.StatusCode, resp.Header.Get(edge.RequestIDHeader))
	}
	for i := 0; i < 3; i++ {
		msg := fmt.Sprintf("hello %d", i)
		if err := conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, got, err := conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != "echo:"+msg {
			t.Errorf("got %q", got)
		}
	}
}

func TestReloadUnderLoad(t *testing.T) {
	o1, o2, o3 := newOrigin(t, "O1"), newOrigin(t, "O2"), newOrigin(t, "O3")
	base := `
log: {format: "off"}
zones:
  - host: a.test
    origins: [%s]
`
	extra := `  - host: b.test
    origins: [%s]
`
	r := start(t, parseConfig(t, fmt.Sprintf(base, o1.URL)))

	var ok, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 10 * time.Second}
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", r.url("/"), nil)
				req.Host = "a.test"
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				buf := make([]byte, 64)
				n, _ := resp.Body.Read(buf)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.HasPrefix(string(buf[:n]), "O") {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("status %d body %q", resp.StatusCode, buf[:n]))
					continue
				}
				ok.Add(1)
			}
		}()
	}

	for i := 0; i < 20; i++ {
		time.Sleep(25 * time.Millisecond)
		origin := o1.URL
		if i%2 == 0 {
			origin = o2.URL
		}
		yaml := fmt.Sprintf(base, origin)
		if i >= 10 {
			yaml += fmt.Sprintf(extra, o3.URL)
		}
		if err := r.Reload(parseConfig(t, yaml)); err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests failed during reloads; first: %v", failed.Load(), failed.Load()+ok.Load(), firstErr.Load())
	}
	if ok.Load() < 20 {
		t.Errorf("only %d requests succeeded", ok.Load())
	}
	if o1.hits.Load() == 0 || o2.hits.Load() == 0 {
		t.Errorf("origin change not applied: O1 %d hits, O2 %d", o1.hits.Load(), o2.hits.Load())
	}
	if _, body := do(t, nil, r.url("/"), "b.test", nil); !strings.HasPrefix(body, "O3 ") {
		t.Errorf("added zone b.test served %q", body)
	}
	t.Logf("%d requests, 0 failed, across 20 reloads", ok.Load())

	t.Run("unchanged zone keeps its proxy", func(t *testing.T) {
		before := r.gen.Load().zones["b.test"].proxy
		last := fmt.Sprintf(base, o1.URL) + fmt.Sprintf(extra, o3.URL)
		if err := r.Reload(parseConfig(t, last)); err != nil {
			t.Fatal(err)
		}
		if r.gen.Load().zones["b.test"].proxy != before {
			t.Error("b.test got a new proxy though its config did not change")
		}
	})
}

func TestReloadBrokenConfigKeepsRunning(t *testing.T) {
	o := newOrigin(t, "O")
	r := start(t, parseConfig(t, fmt.Sprintf(`
log: {format: "off"}
zones:
  - host: keep.test
    origins: [%s]
`, o.URL)))
	dir := t.TempDir()
	tests := []struct {
		name, yaml string
	}{
		{"syntax", "zones: [\n"},
		{"invalid field", "zones:\n  - host: keep.test\n    origins: [ftp://nope]\n"},
		{"unknown key", "listen: {http: \"127.0.0.1:1\"}\nbogus: 1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := r.ReloadFile(path); err == nil {
				t.Fatal("broken config accepted")
			}
			resp, body := do(t, nil, r.url("/"), "keep.test", nil)
			if resp.StatusCode != 200 || !strings.HasPrefix(body, "O ") {
				t.Errorf("after failed reload: status %d body %q", resp.StatusCode, body)
			}
		})
	}
	if n := strings.Count(r.logs.String(), "reload failed, keeping the running config"); n != len(tests) {
		t.Errorf("%d reload-failed log lines, want %d:\n%s", n, len(tests), r.logs.String())
	}
}

func TestGracefulStop(t *testing.T) {
	o := newOrigin(t, "O")
	r := start(t, parseConfig(t, fmt.Sprintf(`
log: {format: "off"}
timeouts: {shutdown: 10s}
zones:
  - host: slow.test
    origins: [%s]
`, o.URL)))
	addr := r.Addrs().HTTP
	type result struct {
		status int
		body   string
		err    error
	}
	res := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("GET", r.url("/slow"), nil)
		req.Host = "slow.test"
		c := &http.Client{Transport: &http.Transport{}}
		resp, err := c.Do(req)
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		buf := make([]byte, 128)
		n, _ := resp.Body.Read(buf)
		res <- result{status: resp.StatusCode, body: string(buf[:n])}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for o.hits.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("slow request never reached the origin")
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.cancel()
	r.cancel = nil

	// New connections are refused while the slow request is in flight.
	refused := false
	for i := 0; i < 40 && !refused; i++ {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			refused = true
			break
		}
		conn.Close()
		time.Sleep(10 * time.Millisecond)
	}
	if !refused {
		t.Error("new connections still accepted after stop began")
	}
	select {
	case got := <-res:
		if got.err != nil || got.status != 200 || !strings.HasPrefix(got.body, "O ") {
			t.Errorf("in-flight request: %+v", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("in-flight request never completed")
	}
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestNewFailsCleanly(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := probe.Addr().String()
	probe.Close()

	cfg := parseConfig(t, "log: {format: \"off\"}\n")
	cfg.Listen.HTTP = httpAddr
	cfg.Listen.Admin = taken.Addr().String()
	a, err := New(cfg, Options{SkipCompliance: true})
	if err == nil || a != nil || !strings.Contains(err.Error(), "listening for admin") {
		t.Fatalf("New with a taken admin port: %v, %v", a, err)
	}
	// The HTTP listener bound before the failure was closed again.
	ln, err := net.Listen("tcp", httpAddr)
	if err != nil {
		t.Fatalf("HTTP port still held after New failed: %v", err)
	}
	ln.Close()
}

func TestStopCutsOffAfterShutdownTimeout(t *testing.T) {
	o := newOrigin(t, "O")
	r := start(t, parseConfig(t, fmt.Sprintf(`
log: {format: "off"}
timeouts: {shutdown: 200ms}
zones:
  - host: slow.test
    origins: [%s]
`, o.URL)))
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("GET", r.url("/slow"), nil)
		req.Host = "slow.test"
		resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		errc <- err
	}()
	for o.hits.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	r.stop(t) // fails the test if Run returns an error
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("stop took %v with a 200ms shutdown timeout", el)
	}
	if err := <-errc; err == nil {
		t.Error("request longer than the shutdown timeout was not cut off")
	}
	if !strings.Contains(r.logs.String(), "shutdown timeout reached") {
		t.Error("no warning about requests cut off")
	}
}

func TestStreamingThroughEdge(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, "unused")
	o.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "data: second\n\n")
	})
	r := start(t, parseConfig(t, fmt.Sprintf(`
log: {format: "off"}
zones:
  - host: sse.test
    origins: [%s]
`, o.URL)))
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	req, _ := http.NewRequest("GET", r.url("/events"), nil)
	req.Host = "sse.test"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 64)
	got := make(chan string, 1)
	go func() {
		n, _ := io.ReadAtLeast(resp.Body, buf, len("data: first\n\n"))
		got <- string(buf[:n])
	}()
	select {
	case s := <-got:
		if s != "data: first\n\n" {
			t.Errorf("first chunk %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("first chunk not delivered before the origin finished")
	}
	close(release)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "data: second\n\n" {
		t.Errorf("rest %q", rest)
	}
}
