package app

import (
	"bufio"
	"context"
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

	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/token"
)

// tunnelOrigin is a real origin with a WebSocket echo at /ws and a
// server-sent-event stream at /events (an event every 20 ms until the
// connection ends). It records every WebSocket message it receives and
// when each socket and stream ended on its side.
type tunnelOrigin struct {
	*httptest.Server
	mu       sync.Mutex
	received []string
	ended    chan string // "ws" or "events", once per exchange that ended
}

func newTunnelOrigin(t *testing.T) *tunnelOrigin {
	t.Helper()
	o := &tunnelOrigin{ended: make(chan string, 16)}
	up := websocket.Upgrader{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ws":
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer func() { c.Close(); o.end("ws") }()
			for {
				mt, msg, err := c.ReadMessage()
				if err != nil {
					return
				}
				o.mu.Lock()
				o.received = append(o.received, string(msg))
				o.mu.Unlock()
				if err := c.WriteMessage(mt, append([]byte("echo:"), msg...)); err != nil {
					return
				}
			}
		case "/events":
			defer o.end("events")
			w.Header().Set("Content-Type", "text/event-stream")
			for i := 0; ; i++ {
				if _, err := fmt.Fprintf(w, "data: %d\n\n", i); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		case "/big":
			// A large download, written as fast as the client takes it.
			w.Header().Set("Content-Length", fmt.Sprint(bigSize))
			chunk := make([]byte, 32<<10)
			for n := 0; n < bigSize; n += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					o.end("big")
					return
				}
			}
		default:
			io.WriteString(w, "plain answer")
		}
	}))
	o.Server.EnableHTTP2 = false
	t.Cleanup(o.Close)
	return o
}

// bigSize is the length of the origin's /big download: far more than
// socket buffers and HTTP/2 windows hold.
const bigSize = 256 << 20

// end records that an exchange ended, without blocking when nobody
// waits for it.
func (o *tunnelOrigin) end(kind string) {
	select {
	case o.ended <- kind:
	default:
	}
}

func (o *tunnelOrigin) got() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.received...)
}

// waitEnded waits for the origin to see the exchange kind end.
func (o *tunnelOrigin) waitEnded(t *testing.T, kind string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := time.After(within)
	for {
		select {
		case k := <-o.ended:
			if k == kind {
				return time.Since(start)
			}
		case <-deadline:
			t.Fatalf("the origin's %s exchange did not end within %s", kind, within)
			return 0
		}
	}
}

// exchange is one open tunnel or stream through the edge.
type exchange interface {
	// alive sends or reads once and reports whether the exchange still
	// relays.
	alive(msg string) error
	// ended waits for the client side to see the exchange end.
	ended(within time.Duration) error
	close()
}

type wsExchange struct{ c *websocket.Conn }

func (e wsExchange) alive(msg string) error {
	if err := e.c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		return err
	}
	e.c.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, got, err := e.c.ReadMessage()
	if err != nil {
		return err
	}
	if string(got) != "echo:"+msg {
		return fmt.Errorf("echo %q, want %q", got, "echo:"+msg)
	}
	return nil
}

func (e wsExchange) ended(within time.Duration) error {
	e.c.SetReadDeadline(time.Now().Add(within))
	for {
		if _, _, err := e.c.ReadMessage(); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return fmt.Errorf("the WebSocket is still open after %s", within)
			}
			return nil
		}
	}
}

func (e wsExchange) close() { e.c.Close() }

type sseExchange struct {
	resp *http.Response
	br   *bufio.Reader
}

func (e sseExchange) alive(string) error {
	line, err := e.br.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "data: ") && line != "\n" {
		return fmt.Errorf("unexpected line %q", line)
	}
	return nil
}

func (e sseExchange) ended(within time.Duration) error {
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, e.br)
		done <- err
	}()
	select {
	case <-done:
		return nil
	case <-time.After(within):
		e.resp.Body.Close()
		return fmt.Errorf("the event stream still flows after %s", within)
	}
}

func (e sseExchange) close() { e.resp.Body.Close() }

// edgeClient opens exchanges to host through the app's edge listener
// (plain HTTP/1.1, or HTTPS with HTTP/1.1 or HTTP/2).
type edgeClient struct {
	r     *running
	https bool
	h2    bool
	ca    *tls.Config
}

// tls returns a copy of the client TLS config: http.Transport adds h2 to
// the NextProtos of the one it is given.
func (ec edgeClient) tls() *tls.Config {
	if ec.ca == nil {
		return nil
	}
	return ec.ca.Clone()
}

func (ec edgeClient) addr() string {
	if ec.https {
		return ec.r.Addrs().HTTPS
	}
	return ec.r.Addrs().HTTP
}

func (ec edgeClient) openWS(t *testing.T, host string) exchange {
	t.Helper()
	d := websocket.Dialer{
		NetDialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, ec.addr())
		},
		HandshakeTimeout: 5 * time.Second,
		TLSClientConfig:  ec.tls(),
	}
	scheme := "ws"
	if ec.https {
		scheme = "wss"
	}
	c, resp, err := d.Dial(scheme+"://"+host+"/ws", nil)
	if err != nil {
		t.Fatalf("WebSocket to %s: %v", host, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("WebSocket handshake: %d", resp.StatusCode)
	}
	return wsExchange{c}
}

func (ec edgeClient) client() *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, ec.addr())
		},
		TLSClientConfig:   ec.tls(),
		ForceAttemptHTTP2: ec.h2,
	}
	if !ec.h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{Transport: tr}
}

func (ec edgeClient) openSSE(t *testing.T, host string) exchange {
	t.Helper()
	scheme := "http"
	if ec.https {
		scheme = "https"
	}
	resp, err := ec.client().Get(scheme + "://" + host + "/events")
	if err != nil {
		t.Fatalf("event stream from %s: %v", host, err)
	}
	want := map[bool]int{false: 1, true: 2}[ec.h2]
	if resp.StatusCode != 200 || resp.ProtoMajor != want {
		t.Fatalf("event stream: %d %s, want 200 HTTP/%d", resp.StatusCode, resp.Proto, want)
	}
	return sseExchange{resp: resp, br: bufio.NewReader(resp.Body)}
}

func (ec edgeClient) get(t *testing.T, host, path string) int {
	t.Helper()
	scheme := "http"
	if ec.https {
		scheme = "https"
	}
	c := ec.client()
	c.Timeout = 5 * time.Second
	resp, err := c.Get(scheme + "://" + host + path)
	if err != nil {
		t.Fatalf("GET %s%s: %v", host, path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// openCase files a report about host through the public API and returns
// the case id.
func (d *deskApp) openCase(t *testing.T, host string) string {
	t.Helper()
	code, body, _ := d.api(t, "POST", "/v1/reports", "", fmt.Sprintf(`{"host":%q,"category":"sanctions","description":"This site sells for a listed company, see the evidence."}`, host))
	id := caseRe.FindString(body)
	if code != http.StatusAccepted || id == "" {
		t.Fatalf("POST /v1/reports: %d %s", code, body)
	}
	return id
}

// TestSuspensionEndsOpenExchanges is the attack of issue 11 point 6: a
// WebSocket or event stream opened before a suspension kept relaying for
// as long as it lived. Now a decision ends the zone's open tunnels and
// streams within a second, on every server loop (rampart's HTTP/1.1,
// net/http's, HTTP/2), whether it is taken on this node or read from the
// shared store as another node's decision; the zone's other exchanges
// of a served zone keep running.
func TestSuspensionEndsOpenExchanges(t *testing.T) {
	o := newTunnelOrigin(t)
	dir := t.TempDir()
	cert, key, x := selfSigned(t, dir, "tunnels", "susp.test", "other.test")
	pool := x509.NewCertPool()
	pool.AddCert(x)
	ca := &tls.Config{RootCAs: pool}
	for _, server := range []string{"rampart", "net/http"} {
		t.Run(strings.ReplaceAll(server, "/", "-"), func(t *testing.T) {
			d := startDesk(t, "", fmt.Sprintf(`
  - host: susp.test
    origins: [%s]
  - host: other.test
    origins: [%s]
listen: {server: %q, https: "127.0.0.1:8443"}
tls:
  certificates: [{cert: %s, key: %s}]
`, o.URL, o.URL, server, cert, key))
			clients := []struct {
				name string
				ec   edgeClient
			}{
				{"http1", edgeClient{r: d.running}},
				{"https1", edgeClient{r: d.running, https: true, ca: ca}},
				{"h2", edgeClient{r: d.running, https: true, h2: true, ca: ca}},
			}
			type open struct {
				what string
				x    exchange
				kind string
			}
			var victims, bystanders []open
			for _, c := range clients {
				if !c.ec.h2 { // no WebSocket over HTTP/2: the edge refuses CONNECT
					victims = append(victims, open{c.name + " websocket", c.ec.openWS(t, "susp.test"), "ws"})
					bystanders = append(bystanders, open{c.name + " websocket", c.ec.openWS(t, "other.test"), "ws"})
				}
				victims = append(victims, open{c.name + " events", c.ec.openSSE(t, "susp.test"), "events"})
				bystanders = append(bystanders, open{c.name + " events", c.ec.openSSE(t, "other.test"), "events"})
			}
			for _, v := range append(append([]open(nil), victims...), bystanders...) {
				if err := v.x.alive("before"); err != nil {
					t.Fatalf("%s before the decision: %v", v.what, err)
				}
			}
			defer func() {
				for _, v := range append(victims, bystanders...) {
					v.x.close()
				}
			}()

			caseID := d.openCase(t, "susp.test")
			decided := time.Now()
			if code, body, _ := d.api(t, "POST", "/v1/cases/"+caseID+"/decision", token.Compliance, `{"action":"suspend","reason":"owner confirmed as listed"}`); code != 200 {
				t.Fatalf("suspend: %d %s", code, body)
			}
			for _, v := range victims {
				if err := v.x.ended(time.Second); err != nil {
					t.Errorf("%s: %v", v.what, err)
				}
			}
			t.Logf("%s: %d tunnels and streams of the suspended zone ended %s after the decision", server, len(victims), time.Since(decided).Round(time.Millisecond))
			before := len(o.got())
			for _, v := range victims {
				if v.kind == "ws" {
					if err := v.x.alive("after"); err == nil {
						t.Errorf("%s relays after the suspension", v.what)
					}
				}
			}
			time.Sleep(50 * time.Millisecond)
			for _, m := range o.got()[before:] {
				if m == "after" {
					t.Errorf("the origin received %q through a suspended zone's tunnel", m)
				}
			}
			for _, c := range clients {
				if code := c.ec.get(t, "susp.test", "/"); code != http.StatusUnavailableForLegalReasons {
					t.Errorf("%s: new request to the suspended zone: %d, want 451", c.name, code)
				}
				if c.ec.h2 {
					continue
				}
				// A new upgrade is refused too (451, no tunnel).
				if code := upgradeStatus(t, c.ec, "susp.test"); code != http.StatusUnavailableForLegalReasons {
					t.Errorf("%s: new WebSocket to the suspended zone: %d, want 451", c.name, code)
				}
			}
			// The other zone's exchanges were not touched.
			for _, b := range bystanders {
				if err := b.x.alive("still here"); err != nil {
					t.Errorf("%s of a served zone ended: %v", b.what, err)
				}
			}
		})
	}
}

// upgradeStatus sends a WebSocket handshake to host and returns the
// status of the answer.
func upgradeStatus(t *testing.T, ec edgeClient, host string) int {
	t.Helper()
	d := websocket.Dialer{
		NetDialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, ec.addr())
		},
		HandshakeTimeout: 5 * time.Second,
		TLSClientConfig:  ec.tls(),
	}
	scheme := "ws"
	if ec.https {
		scheme = "wss"
	}
	c, resp, err := d.Dial(scheme+"://"+host+"/ws", nil)
	if err == nil {
		c.Close()
	}
	if resp == nil {
		t.Fatalf("WebSocket handshake to %s: %v", host, err)
	}
	return resp.StatusCode
}

// TestSuspensionFromAnotherNodeEndsTunnels: a decision written to the
// shared store by another node (here a second handle on the store, as
// another node's compliance desk writes it) reaches this node through the
// refresh loop, which ends the zone's tunnels too.
func TestSuspensionFromAnotherNodeEndsTunnels(t *testing.T) {
	o := newTunnelOrigin(t)
	d := startDesk(t, "", fmt.Sprintf(`
  - host: remote.test
    origins: [%s]
`, o.URL))
	ec := edgeClient{r: d.running}
	ws := ec.openWS(t, "remote.test")
	defer ws.close()
	sse := ec.openSSE(t, "remote.test")
	defer sse.close()
	if err := ws.alive("before"); err != nil {
		t.Fatal(err)
	}
	caseID := d.openCase(t, "remote.test")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	decided := time.Now()
	if _, _, err := compliance.RecordDecision(ctx, d.store, caseID, store.ActionSuspend, "decided on node 2", "tok_node2"); err != nil {
		t.Fatal(err)
	}
	// The refresh loop runs every second.
	if err := ws.ended(2500 * time.Millisecond); err != nil {
		t.Errorf("websocket: %v", err)
	}
	if err := sse.ended(2500 * time.Millisecond); err != nil {
		t.Errorf("events: %v", err)
	}
	o.waitEnded(t, "ws", time.Second)
	t.Logf("another node's suspension ended the tunnels here %s after it was stored", time.Since(decided).Round(time.Millisecond))
	if code := ec.get(t, "remote.test", "/"); code != http.StatusUnavailableForLegalReasons {
		t.Errorf("after the remote decision: %d, want 451", code)
	}
}

// TestRemovedZoneEndsTunnels: a reload that removes a zone ends its open
// tunnels and streams at once (they used to keep the old routes, and the
// removed zone's proxy, alive until they ended on their own); a zone the
// reload keeps keeps its tunnels.
func TestRemovedZoneEndsTunnels(t *testing.T) {
	o := newTunnelOrigin(t)
	for _, server := range []string{"rampart", "net/http"} {
		t.Run(strings.ReplaceAll(server, "/", "-"), func(t *testing.T) {
			both := fmt.Sprintf(`
log: {format: "off"}
listen: {server: %q}
zones:
  - host: gone.test
    origins: [%s]
  - host: kept.test
    origins: [%s]
`, server, o.URL, o.URL)
			r := start(t, parseConfig(t, both))
			ec := edgeClient{r: r}
			gone, goneSSE := ec.openWS(t, "gone.test"), ec.openSSE(t, "gone.test")
			defer gone.close()
			defer goneSSE.close()
			for _, x := range []exchange{gone, goneSSE} {
				if err := x.alive("before"); err != nil {
					t.Fatal(err)
				}
			}
			reload := func(yaml string) {
				t.Helper()
				cfg := parseConfig(t, yaml)
				cfg.Listen = r.Config().Listen
				if err := r.Reload(cfg); err != nil {
					t.Fatal(err)
				}
			}
			oldRoutes := r.edge.Routes()
			reload(strings.Replace(both, "  - host: gone.test\n    origins: ["+o.URL+"]\n", "", 1))
			if err := gone.ended(time.Second); err != nil {
				t.Errorf("removed zone's websocket: %v", err)
			}
			if err := goneSSE.ended(time.Second); err != nil {
				t.Errorf("removed zone's event stream: %v", err)
			}
			select {
			case <-oldRoutes.Drained():
			case <-time.After(time.Second):
				t.Error("the old routes did not drain within a second of the reload")
			}
			// A zone the reload keeps unchanged keeps its tunnels.
			kept := ec.openWS(t, "kept.test")
			defer kept.close()
			reload(both)
			if err := kept.alive("after reload"); err != nil {
				t.Errorf("kept zone's websocket: %v", err)
			}
			reload(strings.Replace(both, "  - host: gone.test\n    origins: ["+o.URL+"]\n", "", 1))
			if code := ec.get(t, "gone.test", "/"); code != http.StatusMisdirectedRequest {
				t.Errorf("removed zone: %d, want 421", code)
			}
		})
	}
}

// TestAdmitAfterDecision: a stream whose request passed the compliance
// phase just before the decision but whose response starts after it is
// not started (the proxy asks the desk when an exchange starts), so no
// exchange slips between the decision and the cut.
func TestAdmitAfterDecision(t *testing.T) {
	o := newTunnelOrigin(t)
	d := startDesk(t, "", fmt.Sprintf(`
  - host: race.test
    origins: [%s]
`, o.URL))
	caseID := d.openCase(t, "race.test")
	p := d.gen.Load().zones["race.test"].proxy
	if !d.serves("race.test")() {
		t.Fatal("the zone is not served before the decision")
	}
	if code, body, _ := d.api(t, "POST", "/v1/cases/"+caseID+"/decision", token.Compliance, `{"action":"suspend","reason":"listed"}`); code != 200 {
		t.Fatalf("suspend: %d %s", code, body)
	}
	if d.serves("race.test")() {
		t.Fatal("the zone is still served after the decision")
	}
	// Serve a request on the proxy directly, as one that passed the
	// phases a moment before the decision would reach it.
	srv := httptest.NewServer(p)
	defer srv.Close()
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("the stream started after the decision flowed until the client gave up: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("stream started after the decision: %d %q, want 503", resp.StatusCode, b)
	}
}

// TestSuspensionEndsStalledDownloads: a client that starts a large
// download and stops reading leaves the proxy blocked writing to it, not
// reading from the origin. A suspension still ends it within a second
// (the client connection is closed, or the HTTP/2 stream reset), which
// frees the origin connection, on every server loop.
func TestSuspensionEndsStalledDownloads(t *testing.T) {
	o := newTunnelOrigin(t)
	dir := t.TempDir()
	cert, key, x := selfSigned(t, dir, "stall", "stall.test")
	pool := x509.NewCertPool()
	pool.AddCert(x)
	ca := &tls.Config{RootCAs: pool}
	for _, tc := range []struct {
		server string
		cache  bool // the download passes through the cache's capture writer
	}{{"rampart", false}, {"net/http", false}, {"rampart", true}, {"net/http", true}} {
		server := tc.server
		t.Run(fmt.Sprintf("%s-cache=%t", strings.ReplaceAll(server, "/", "-"), tc.cache), func(t *testing.T) {
			d := startDesk(t, "", fmt.Sprintf(`
  - host: stall.test
    origins: [%s]
    cache: {enabled: %t}
listen: {server: %q, https: "127.0.0.1:8443"}
tls:
  certificates: [{cert: %s, key: %s}]
`, o.URL, tc.cache, server, cert, key))
			clients := []struct {
				name string
				ec   edgeClient
			}{
				{"http1", edgeClient{r: d.running}},
				{"https1", edgeClient{r: d.running, https: true, ca: ca}},
				{"h2", edgeClient{r: d.running, https: true, h2: true, ca: ca}},
			}
			var bodies []io.ReadCloser
			for _, c := range clients {
				scheme := map[bool]string{false: "http", true: "https"}[c.ec.https]
				// One URL per client: with the cache on, requests for one
				// URL would wait for the first one's download (coalescing).
				resp, err := c.ec.client().Get(scheme + "://stall.test/big?client=" + c.name)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if _, err := io.ReadFull(resp.Body, make([]byte, 1024)); err != nil || resp.StatusCode != 200 {
					t.Fatalf("%s: %d %v", c.name, resp.StatusCode, err)
				}
				bodies = append(bodies, resp.Body)
				defer resp.Body.Close()
			}
			time.Sleep(300 * time.Millisecond) // every buffer on the way fills up
			caseID := d.openCase(t, "stall.test")
			decided := time.Now()
			if code, body, _ := d.api(t, "POST", "/v1/cases/"+caseID+"/decision", token.Compliance, `{"action":"suspend","reason":"listed"}`); code != 200 {
				t.Fatalf("suspend: %d %s", code, body)
			}
			for range clients {
				o.waitEnded(t, "big", time.Second)
			}
			t.Logf("%s: %d stalled downloads ended at the origin %s after the decision", server, len(clients), time.Since(decided).Round(time.Millisecond))
			for i, b := range bodies {
				n, err := io.Copy(io.Discard, b)
				if err == nil || n+1024 >= bigSize {
					t.Errorf("%s: the client read %d more bytes and %v, want a cut-off download", clients[i].name, n, err)
				}
			}
		})
	}
}
