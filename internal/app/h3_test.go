package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/rampart-edge/rampart/internal/challenge"
	"github.com/rampart-edge/rampart/internal/token"
)

// h3Transport is quic-go's HTTP/3 client reaching addr (the app's UDP
// socket) whatever the URL's host, trusting certs.
func h3Transport(addr string, certs ...*x509.Certificate) *http3.Transport {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return &http3.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ClientSessionCache: tls.NewLRUClientSessionCache(8)},
		QUICConfig:      &quic.Config{},
		Dial: func(ctx context.Context, _ string, tc *tls.Config, qc *quic.Config) (*quic.Conn, error) {
			return quic.DialAddrEarly(ctx, addr, tc, qc)
		},
	}
}

// h3Get sends method to https://host:port/path over tr and returns the
// response with its body read.
func h3Do(t *testing.T, tr http.RoundTripper, method, rawURL string, hdr http.Header, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s over HTTP/3: %v", method, rawURL, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// h3App starts an app with HTTPS and HTTP/3 on the same port and the
// zones in zonesYAML (indented by 2), serving a certificate for names.
func h3App(t *testing.T, top, zonesYAML string, names ...string) (*running, *x509.Certificate, string) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile, cert := selfSigned(t, dir, "h3", names...)
	accessLog := filepath.Join(dir, "access.log")
	cfg := parseConfig(t, fmt.Sprintf(`
data_dir: %s
log: {format: json, path: %s}
tls:
  certificates: [{cert: %s, key: %s}]
%s
zones:
%s`, dir, accessLog, certFile, keyFile, top, zonesYAML))
	r := start(t, cfg)
	if r.Addrs().HTTP3 == "" {
		t.Fatal("no HTTP/3 listener by default")
	}
	_, tcpPort, _ := net.SplitHostPort(r.Addrs().HTTPS)
	_, udpPort, _ := net.SplitHostPort(r.Addrs().HTTP3)
	if tcpPort != udpPort {
		t.Fatalf("HTTP/3 on udp port %s, https on tcp %s: want the same", udpPort, tcpPort)
	}
	return r, cert, accessLog
}

// TestHTTP3RequestPath: over HTTP/3 a request takes the same path as over
// TCP: routing, 421, 429, the cache, HSTS, request ids, CONNECT refused,
// the access log and the metrics (protocol h3); Alt-Svc is announced on
// HTTP/1.1 and HTTP/2. (issue 17)
func TestHTTP3RequestPath(t *testing.T) {
	o := newOrigin(t, "origin")
	cached := newCachedOrigin(t)
	r, cert, accessLog := h3App(t, "", fmt.Sprintf(`
  - host: a.test
    origins: [%[1]s]
    hsts: {max_age: 31536000, include_subdomains: true}
  - host: rl.test
    origins: [%[1]s]
    rate_limit: {requests: 1, per: 1m, burst: 1}
  - host: cache.test
    origins: [%[2]s]
    cache: {enabled: true}
`, o.URL, cached.URL), "a.test", "rl.test", "cache.test", "unknown.test")
	tr := h3Transport(r.Addrs().HTTP3, cert)
	defer tr.Close()
	_, port, _ := net.SplitHostPort(r.Addrs().HTTPS)
	u := func(host, path string) string { return "https://" + host + ":" + port + path }

	// Routing to the origin, with the request id both ways and HSTS.
	resp, body := h3Do(t, tr, "GET", u("a.test", "/x"), nil, nil)
	if resp.StatusCode != 200 || resp.Proto != "HTTP/3.0" || !strings.HasPrefix(body, "origin host=a.test") {
		t.Fatalf("GET a.test over h3: %d %s %q", resp.StatusCode, resp.Proto, body)
	}
	id := resp.Header.Get("Rampart-Request-Id")
	if id == "" || resp.Header.Get("X-Origin-Saw-Id") != id {
		t.Errorf("request id %q, origin saw %q", id, resp.Header.Get("X-Origin-Saw-Id"))
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000; includeSubDomains" {
		t.Errorf("HSTS over h3 = %q", got)
	}
	if resp.Header.Get("Alt-Svc") != "" {
		t.Errorf("Alt-Svc sent over HTTP/3 itself: %q", resp.Header.Get("Alt-Svc"))
	}
	// Unknown host: 421, no origin.
	hits := o.hits.Load()
	if resp, _ := h3Do(t, tr, "GET", u("unknown.test", "/"), nil, nil); resp.StatusCode != http.StatusMisdirectedRequest || o.hits.Load() != hits {
		t.Errorf("unknown host over h3: %d", resp.StatusCode)
	}
	// Rate limit: the second request in the minute gets 429.
	limited := false
	for range 4 {
		resp, _ := h3Do(t, tr, "GET", u("rl.test", "/"), nil, nil)
		if resp.StatusCode == http.StatusTooManyRequests {
			limited = resp.Header.Get("Retry-After") != ""
			break
		}
	}
	if !limited {
		t.Errorf("rate limit over h3: no 429 with Retry-After in 4 requests")
	}
	// Cache: MISS then HIT, the origin asked once.
	if resp, _ := h3Do(t, tr, "GET", u("cache.test", "/page"), nil, nil); resp.Header.Get("Rampart-Cache") != "MISS" {
		t.Errorf("first cached GET: Rampart-Cache %q", resp.Header.Get("Rampart-Cache"))
	}
	resp, body = h3Do(t, tr, "GET", u("cache.test", "/page"), nil, nil)
	if resp.Header.Get("Rampart-Cache") != "HIT" || body != cachedBody || cached.hits.Load() != 1 {
		t.Errorf("second cached GET: %q, %d origin hits, body %q", resp.Header.Get("Rampart-Cache"), cached.hits.Load(), body)
	}
	// Extended CONNECT (WebTransport, WebSocket over h3): refused with
	// 405, nothing reaches the origin.
	hits = o.hits.Load()
	req, _ := http.NewRequest(http.MethodConnect, u("a.test", "/wt"), nil)
	req.Proto = "webtransport"
	cresp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("extended CONNECT: %v", err)
	}
	cresp.Body.Close()
	if cresp.StatusCode != http.StatusMethodNotAllowed || o.hits.Load() != hits {
		t.Errorf("extended CONNECT: %d, want 405", cresp.StatusCode)
	}

	// Alt-Svc on HTTP/1.1 and HTTP/2 over TLS, not on plain HTTP.
	for _, h2 := range []bool{false, true} {
		resp, _ := do(t, tlsTo(h2, r.Addrs().HTTPS, cert), u("a.test", "/"), "", nil)
		if want := fmt.Sprintf(`h3=":%s"; ma=86400`, port); resp.Header.Get("Alt-Svc") != want {
			t.Errorf("%s: Alt-Svc %q, want %q", resp.Proto, resp.Header.Get("Alt-Svc"), want)
		}
		if resp.Header.Get("Strict-Transport-Security") == "" {
			t.Errorf("%s: no HSTS", resp.Proto)
		}
	}
	resp, _ = do(t, nil, r.url("/"), "a.test", nil)
	if resp.Header.Get("Alt-Svc") != "" || resp.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("plain HTTP: Alt-Svc %q, HSTS %q", resp.Header.Get("Alt-Svc"), resp.Header.Get("Strict-Transport-Security"))
	}

	// Metrics: the protocol label and the h3 connections.
	if n := mustCounter(t, r, "rampart_requests_by_protocol_total", "h3"); n < 7 {
		t.Errorf("rampart_requests_by_protocol_total{protocol=h3} = %v", n)
	}
	if n := mustCounter(t, r, "rampart_connections_total", "h3"); n < 1 {
		t.Errorf("rampart_connections_total{listener=h3} = %v", n)
	}
	// The access log has the request with its id and protocol.
	deadline := time.Now().Add(2 * time.Second)
	for {
		b, _ := os.ReadFile(accessLog)
		if strings.Contains(string(b), id) && strings.Contains(string(b), "HTTP/3.0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("access log has no HTTP/3 line with id %s:\n%s", id, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mustCounter finds the metric name with the one label value in the
// app's registry.
func mustCounter(t *testing.T, r *running, name, label string) float64 {
	t.Helper()
	mfs, err := r.Metrics().Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

const cachedBody = "cached page"

// newCachedOrigin answers every path with a cacheable page.
func newCachedOrigin(t *testing.T) *origin {
	o := &origin{name: "cached"}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, cachedBody)
	}))
	t.Cleanup(o.Close)
	return o
}

// TestHTTP3Challenge: the under-attack challenge is served, solved and
// cleared over HTTP/3. (issue 17)
func TestHTTP3Challenge(t *testing.T) {
	o := newOrigin(t, "origin")
	r, cert, _ := h3App(t, "", fmt.Sprintf(`
  - host: ch.test
    origins: [%s]
    under_attack: "on"
`, o.URL), "ch.test")
	tr := h3Transport(r.Addrs().HTTP3, cert)
	defer tr.Close()
	_, port, _ := net.SplitHostPort(r.Addrs().HTTPS)
	base := "https://ch.test:" + port
	resp, page := h3Do(t, tr, "GET", base+"/start", nil, nil)
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Rampart-Challenge") != "1" {
		t.Fatalf("no challenge over h3: %d", resp.StatusCode)
	}
	tok, err := challenge.TokenFromPage([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	n, err := challenge.Solve(tok)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"token": {tok}, "counter": {fmt.Sprint(n)}}
	resp, _ = h3Do(t, tr, "POST", base+challenge.VerifyPath, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, strings.NewReader(form.Encode()))
	var clearance *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == challenge.CookieName {
			clearance = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || clearance == nil {
		t.Fatalf("verify over h3: %d, clearance %v", resp.StatusCode, clearance)
	}
	resp, body := h3Do(t, tr, "GET", base+"/after", http.Header{"Cookie": {clearance.Name + "=" + clearance.Value}}, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "origin host=ch.test") {
		t.Fatalf("with clearance over h3: %d %q", resp.StatusCode, body)
	}
}

// TestHTTP3EarlyData: a request sent in 0-RTT early data is served only
// when it is safe (GET in a zone without address rules); a POST, or a
// GET to a rate-limited zone, gets 425 Too Early and is not proxied.
// (issue 17)
func TestHTTP3EarlyData(t *testing.T) {
	o := newOrigin(t, "origin")
	r, cert, _ := h3App(t, "", fmt.Sprintf(`
  - host: a.test
    origins: [%[1]s]
  - host: rl.test
    origins: [%[1]s]
    rate_limit: {requests: 100, per: 1m, burst: 100}
`, o.URL), "a.test", "rl.test")
	_, port, _ := net.SplitHostPort(r.Addrs().HTTPS)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	cache := &notifyingCache{ClientSessionCache: tls.NewLRUClientSessionCache(8), put: make(chan struct{}, 16)}
	tlsConf := func(host string) *tls.Config {
		return &tls.Config{RootCAs: pool, ServerName: host, NextProtos: []string{http3.NextProtoH3}, ClientSessionCache: cache}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tr := &http3.Transport{}

	// early sends one request in 0-RTT on a resumed connection to host
	// and returns its status, or 0 when the session was not resumed with
	// 0-RTT or the request arrived after the handshake.
	early := func(host, method string) (status int, used0RTT bool) {
		t.Helper()
		// A first connection earns a session ticket.
		for len(cache.put) > 0 {
			<-cache.put
		}
		conn, err := quic.DialAddr(ctx, r.Addrs().HTTP3, tlsConf(host), &quic.Config{})
		if err != nil {
			t.Fatal(err)
		}
		cc := tr.NewClientConn(conn)
		req, _ := http.NewRequest("GET", "https://"+host+":"+port+"/first", nil)
		resp, err := cc.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		select { // the ticket arrives after the handshake
		case <-cache.put:
		case <-time.After(5 * time.Second):
			t.Fatal("no session ticket within 5s")
		}
		conn.CloseWithError(0, "")

		conn, err = quic.DialAddrEarly(ctx, r.Addrs().HTTP3, tlsConf(host), &quic.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseWithError(0, "")
		cc = tr.NewClientConn(conn)
		str, err := cc.OpenRequestStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		req, _ = http.NewRequest(method, "https://"+host+":"+port+"/early", nil)
		if err := str.SendRequestHeader(req); err != nil {
			t.Fatal(err)
		}
		str.Close()
		resp, err = str.ReadResponse()
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		<-conn.HandshakeComplete()
		return resp.StatusCode, conn.ConnectionState().Used0RTT
	}
	// The request races the handshake on loopback: try a few times for
	// one that arrived in early data.
	try := func(host, method string, want int) {
		t.Helper()
		var got []int
		for range 5 {
			hits := o.hits.Load()
			status, used := early(host, method)
			if !used {
				got = append(got, 0) // 0-RTT refused (a stale ticket): try again
				continue
			}
			got = append(got, status)
			if status == want {
				if want == http.StatusTooEarly && o.hits.Load() != hits+1 { // +1: the first connection's GET
					t.Fatalf("%s %s: 425 but the origin was asked", method, host)
				}
				return
			}
		}
		t.Fatalf("%s %s in 0-RTT: statuses %v, want %d", method, host, got, want)
	}
	try("a.test", http.MethodPost, http.StatusTooEarly)
	try("rl.test", http.MethodGet, http.StatusTooEarly)
	// A safe GET in a zone without address rules is served from early
	// data, however it raced.
	if status, _ := early("a.test", http.MethodGet); status != 200 {
		t.Fatalf("GET in 0-RTT: %d, want 200", status)
	}
}

// TestHTTP3ReloadAndStop: an HTTP/3 connection opened before a reload
// keeps serving after it (the new zone included), a request in flight on
// it completes, and a graceful stop lets a request in flight finish
// (GOAWAY) before the socket closes. (issue 17)
func TestHTTP3ReloadAndStop(t *testing.T) {
	o := newOrigin(t, "origin")
	dir := t.TempDir()
	certFile, keyFile, cert := selfSigned(t, dir, "h3", "a.test", "b.test")
	yaml := func(zones string) string {
		return fmt.Sprintf("data_dir: %s\nlog: {format: \"off\"}\ntls:\n  certificates: [{cert: %s, key: %s}]\ntimeouts: {shutdown: 5s}\nzones:\n%s", dir, certFile, keyFile, zones)
	}
	zoneA := fmt.Sprintf("  - host: a.test\n    origins: [%s]\n", o.URL)
	zoneB := fmt.Sprintf("  - host: b.test\n    origins: [%s]\n", o.URL)
	r := start(t, parseConfig(t, yaml(zoneA)))
	tr := h3Transport(r.Addrs().HTTP3, cert)
	defer tr.Close()
	_, port, _ := net.SplitHostPort(r.Addrs().HTTPS)
	u := func(host, path string) string { return "https://" + host + ":" + port + path }
	if resp, _ := h3Do(t, tr, "GET", u("a.test", "/"), nil, nil); resp.StatusCode != 200 {
		t.Fatalf("before reload: %d", resp.StatusCode)
	}
	if resp, _ := h3Do(t, tr, "GET", u("b.test", "/"), nil, nil); resp.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("b.test before reload: %d", resp.StatusCode)
	}
	conns := mustCounter(t, r, "rampart_connections_total", "h3") // one per host: the transport pools by authority
	// A slow request in flight across the reload.
	var wg sync.WaitGroup
	slow := func() <-chan int {
		ch := make(chan int, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", u("a.test", "/slow"), nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Errorf("slow request: %v", err)
				ch <- 0
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.HasPrefix(string(b), "origin") {
				t.Errorf("slow request body %q", b)
			}
			ch <- resp.StatusCode
		}()
		return ch
	}
	inFlight := slow()
	time.Sleep(200 * time.Millisecond)
	if err := r.Reload(parseConfig(t, yaml(zoneA+zoneB))); err != nil {
		t.Fatal(err)
	}
	if code := <-inFlight; code != 200 {
		t.Fatalf("request in flight across the reload: %d", code)
	}
	// The same connection (the transport keeps it) serves the new zone.
	if resp, _ := h3Do(t, tr, "GET", u("b.test", "/"), nil, nil); resp.StatusCode != 200 {
		t.Fatalf("b.test after reload on the open connection: %d", resp.StatusCode)
	}
	if n := mustCounter(t, r, "rampart_connections_total", "h3"); n != conns {
		t.Errorf("connections after reload = %v, want the %v opened before kept", n, conns)
	}

	// Graceful stop with a request in flight: it completes.
	inFlight = slow()
	time.Sleep(200 * time.Millisecond)
	stopped := time.Now()
	r.stop(t)
	if code := <-inFlight; code != 200 {
		t.Fatalf("request in flight at stop: %d", code)
	}
	wg.Wait()
	if d := time.Since(stopped); d > 4*time.Second {
		t.Errorf("stop took %s", d)
	}
	// The socket is closed: a new connection fails.
	tr2 := h3Transport(r.Addrs().HTTP3, cert)
	defer tr2.Close()
	req, _ := http.NewRequest("GET", u("a.test", "/"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if resp, err := tr2.RoundTrip(req.WithContext(ctx)); err == nil {
		resp.Body.Close()
		t.Fatalf("request after stop: %d, want a failure", resp.StatusCode)
	}
}

// TestHTTP3Suspended: a suspended zone answers 451 over HTTP/3 too.
// (issue 17)
func TestHTTP3Suspended(t *testing.T) {
	o := newOrigin(t, "origin")
	dir := t.TempDir()
	certFile, keyFile, cert := selfSigned(t, dir, "susp", "shop.example")
	d := startDeskWith(t, "", "", fmt.Sprintf("listen: {https: \"127.0.0.1:8443\"}\ntls:\n  certificates: [{cert: %s, key: %s}]", certFile, keyFile),
		fmt.Sprintf("  - host: shop.example\n    origins: [%s]\n", o.URL))
	if d.Addrs().HTTP3 == "" {
		t.Fatal("no HTTP/3")
	}
	tr := h3Transport(d.Addrs().HTTP3, cert)
	defer tr.Close()
	_, port, _ := net.SplitHostPort(d.Addrs().HTTPS)
	u := "https://shop.example:" + port + "/"
	if resp, _ := h3Do(t, tr, "GET", u, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("before suspension: %d", resp.StatusCode)
	}
	code, body, _ := d.api(t, "POST", "/v1/reports", "", `{"host":"shop.example","category":"sanctions","description":"sells for a listed company"}`)
	caseID := caseRe.FindString(body)
	if code != 202 || caseID == "" {
		t.Fatalf("report: %d %s", code, body)
	}
	if code, body, _ := d.api(t, "POST", "/v1/cases/"+caseID+"/decision", token.Compliance, `{"action":"suspend","reason":"owner confirmed as listed"}`); code != 200 {
		t.Fatalf("suspend: %d %s", code, body)
	}
	d.waitEdge(t, "shop.example", 451)
	resp, page := h3Do(t, tr, "GET", u, nil, nil)
	if resp.StatusCode != 451 || !strings.Contains(resp.Header.Get("Link"), caseID) {
		t.Fatalf("suspended over h3: %d Link %q %.200s", resp.StatusCode, resp.Header.Get("Link"), page)
	}
}

// TestHTTP3Guards: limits.max_conns_per_ip caps QUIC connections from
// one address alongside TCP (the connection over the cap is refused, a
// new one is admitted once one closes), and with quic.retry_above 0 every
// new connection validates its address with a Retry, which clients pass
// transparently. (issue 17)
func TestHTTP3Guards(t *testing.T) {
	o := newOrigin(t, "origin")
	r, cert, _ := h3App(t, "limits: {max_conns_per_ip: 1}\nquic: {retry_above: 0}", fmt.Sprintf(`
  - host: a.test
    origins: [%s]
`, o.URL), "a.test")
	_, port, _ := net.SplitHostPort(r.Addrs().HTTPS)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	dial := func() (*quic.Conn, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return quic.DialAddr(ctx, r.Addrs().HTTP3, &tls.Config{RootCAs: pool, ServerName: "a.test", NextProtos: []string{http3.NextProtoH3}}, &quic.Config{})
	}
	first, err := dial()
	if err != nil {
		t.Fatalf("first connection: %v", err)
	}
	cc := (&http3.Transport{}).NewClientConn(first)
	req, _ := http.NewRequest("GET", "https://a.test:"+port+"/", nil)
	resp, err := cc.RoundTrip(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("request on the first connection: %v %v", err, resp)
	}
	resp.Body.Close()
	if second, err := dial(); err == nil {
		second.CloseWithError(0, "")
		t.Fatal("a second QUIC connection from 127.0.0.1 was admitted over max_conns_per_ip 1")
	}
	first.CloseWithError(0, "")
	deadline := time.Now().Add(3 * time.Second)
	for {
		c, err := dial()
		if err == nil {
			c.CloseWithError(0, "")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection admitted after the first closed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mfs, _ := r.Metrics().Gatherer().Gather()
	retries, rejected := 0.0, 0.0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "rampart_quic_retries_total":
				retries += m.GetCounter().GetValue()
			case "rampart_conn_rejected_total":
				for _, l := range m.GetLabel() {
					if l.GetValue() == "h3" {
						rejected += m.GetCounter().GetValue()
					}
				}
			}
		}
	}
	if retries < 2 {
		t.Errorf("rampart_quic_retries_total = %v with retry_above 0, want every connection retried", retries)
	}
	if rejected < 1 {
		t.Errorf("rampart_conn_rejected_total{listener=h3} = %v", rejected)
	}
}

// TestHTTP3SlowBody: timeouts.read bounds a request body trickled over
// HTTP/3 as over TCP: the request ends with an error status instead of
// holding its stream. (issue 17)
func TestHTTP3SlowBody(t *testing.T) {
	o := newOrigin(t, "origin")
	r, cert, _ := h3App(t, "timeouts: {read: 500ms}", fmt.Sprintf(`
  - host: a.test
    origins: [%s]
`, o.URL), "a.test")
	tr := h3Transport(r.Addrs().HTTP3, cert)
	defer tr.Close()
	_, port, _ := net.SplitHostPort(r.Addrs().HTTPS)
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte("a=1"))
	req, _ := http.NewRequest("POST", "https://a.test:"+port+"/upload", pr)
	req.ContentLength = 1000
	start := time.Now()
	done := make(chan int, 1)
	go func() {
		resp, err := tr.RoundTrip(req)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	select {
	case code := <-done:
		if code == 200 {
			t.Fatalf("a trickled body got 200")
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("the slow body was cut after %s, want about timeouts.read (500ms)", d)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("a trickled body held its stream past timeouts.read")
	}
}

// notifyingCache is a client session cache that signals every ticket
// stored.
type notifyingCache struct {
	tls.ClientSessionCache
	put chan struct{}
}

func (c *notifyingCache) Put(key string, cs *tls.ClientSessionState) {
	c.ClientSessionCache.Put(key, cs)
	if cs != nil {
		select {
		case c.put <- struct{}{}:
		default:
		}
	}
}
