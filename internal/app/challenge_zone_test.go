package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
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
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/challenge"
	"github.com/rampart-edge/rampart/internal/testenv"
)

// zoneRecordingOrigin is a real origin that records every request it
// receives as "HOST PATH".
type zoneRecordingOrigin struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newZoneRecordingOrigin(t *testing.T) *zoneRecordingOrigin {
	t.Helper()
	o := &zoneRecordingOrigin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.seen = append(o.seen, r.Host+" "+r.URL.Path)
		o.mu.Unlock()
		fmt.Fprintf(w, "origin host=%s path=%s", r.Host, r.URL.Path)
	}))
	t.Cleanup(o.Close)
	return o
}

// saw reports whether the origin received a request for path (any host).
func (o *zoneRecordingOrigin) saw(path string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.seen {
		if strings.HasSuffix(s, " "+path) {
			return true
		}
	}
	return false
}

// zoneClient reaches the app's zones by name over one transport.
type zoneClient struct {
	name string // "HTTP/1.1", "HTTP/1.1+TLS", "HTTP/2"
	c    *http.Client
	base func(host string) string // scheme://host[:port]
	tls  bool
}

const zoneTestUA = "zone-test/1.0"

func (zc zoneClient) send(t *testing.T, method, host, target string, hdr http.Header, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, zc.base(host)+target, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("User-Agent", zoneTestUA)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := zc.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The next request comes from another address of 127.0.0.0/24 (the
	// clearance's binding): each address stays within the tarpit's free
	// allowance of challenge pages.
	zc.c.CloseIdleConnections()
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// solve fetches a challenge from host and solves it.
func (zc zoneClient) solve(t *testing.T, host string) (token, counter string) {
	t.Helper()
	resp, page := zc.send(t, "GET", host, "/start", nil, nil)
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Rampart-Challenge") != "1" {
		t.Fatalf("%s: no challenge (status %d)", host, resp.StatusCode)
	}
	token, err := challenge.TokenFromPage([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	n, err := challenge.Solve(token)
	if err != nil {
		t.Fatal(err)
	}
	return token, fmt.Sprint(n)
}

// verify posts a solution to host's verify endpoint and returns the
// response and the clearance cookie it set (nil if none).
func (zc zoneClient) verify(t *testing.T, host, token, counter string) (*http.Response, *http.Cookie) {
	t.Helper()
	resp, _ := zc.send(t, "POST", host, challenge.VerifyPath, nil, url.Values{"token": {token}, "counter": {counter}})
	for _, ck := range resp.Cookies() {
		if ck.Name == challenge.CookieName {
			return resp, ck
		}
	}
	return resp, nil
}

// earn solves host's challenge and returns the clearance.
func (zc zoneClient) earn(t *testing.T, host string) *http.Cookie {
	t.Helper()
	tok, ctr := zc.solve(t, host)
	resp, ck := zc.verify(t, host, tok, ctr)
	if resp.StatusCode != http.StatusSeeOther || ck == nil {
		t.Fatalf("%s: verify answered %d with cookie %v, want 303 and a clearance", host, resp.StatusCode, ck)
	}
	return ck
}

// get requests a fresh path on host with the Cookie header fields cookies
// and reports whether the origin was reached (and the challenge not
// served): the origin's record decides, not only the status.
func (zc zoneClient) get(t *testing.T, host string, cookies ...string) (proxied bool, status int) {
	t.Helper()
	path := fmt.Sprintf("/p/%d", time.Now().UnixNano())
	hdr := http.Header{}
	if len(cookies) > 0 {
		hdr["Cookie"] = cookies
	}
	resp, body := zc.send(t, "GET", host, path, hdr, nil)
	reached := zoneTestOrigin.saw(path)
	if reached != (resp.StatusCode == 200 && strings.Contains(body, "path="+path)) {
		t.Fatalf("%s %s: status %d but origin reached=%v", host, path, resp.StatusCode, reached)
	}
	if !reached && resp.Header.Get("Rampart-Challenge") != "1" && resp.StatusCode != http.StatusMisdirectedRequest && resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("%s: refused without a challenge: status %d", host, resp.StatusCode)
	}
	return reached, resp.StatusCode
}

// zoneTestOrigin is the origin of TestChallengeClearanceBoundToZone (one
// test uses it; get reads it).
var zoneTestOrigin *zoneRecordingOrigin

const zoneTestConfig = `
data_dir: %[1]s
listen: {https: "127.0.0.1:8443"}
log: {format: "off"}
tls:
  certificates: [{cert: %[2]s, key: %[3]s}]
zones:
  - host: cheap.test
    origins: [%[4]s]
    under_attack: "on"
    challenge: {difficulty: %[5]d}
  - host: mid.test
    origins: [%[4]s]
    under_attack: "on"
    challenge: {difficulty: 8}
  - host: hard.test
    origins: [%[4]s]
    under_attack: "on"
    challenge: {difficulty: 12}
  - host: a.shared.test
    origins: [%[4]s]
    under_attack: "on"
    challenge: {difficulty: 8, cookie_domain: shared.test}
  - host: b.shared.test
    origins: [%[4]s]
    under_attack: "on"
    challenge: {difficulty: 4, cookie_domain: shared.test}
  - host: "*.wild.test"
    origins: [%[4]s]
    under_attack: "on"
    challenge: {difficulty: 4}
`

// TestChallengeClearanceBoundToZone is issue 11 point 3: a clearance
// earned on a zone with difficulty 4 passed zones with difficulty 20 and
// 26. A clearance is now bound to its zone (or shared cookie domain) and
// to the difficulty it was earned at, a solution is accepted once and
// only by the zone that issued its challenge; checked against a real
// listener and an origin that records what reaches it, over HTTP/1.1,
// HTTP/1.1 with TLS and HTTP/2.
func TestChallengeClearanceBoundToZone(t *testing.T) {
	zoneTestOrigin = newZoneRecordingOrigin(t)
	dir := t.TempDir()
	names := []string{"cheap.test", "mid.test", "hard.test", "a.shared.test", "b.shared.test", "x.wild.test", "y.wild.test"}
	certFile, keyFile, cert := selfSigned(t, dir, "zones", names...)
	config := func(cheapBits int) string {
		return fmt.Sprintf(zoneTestConfig, dir, certFile, keyFile, zoneTestOrigin.URL, cheapBits)
	}
	r := start(t, parseConfig(t, config(4)))
	httpAddr, httpsAddr := r.Addrs().HTTP, r.Addrs().HTTPS
	_, httpsPort, _ := net.SplitHostPort(httpsAddr)

	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var src atomic.Uint32
	dialTo := func(addr string) func(context.Context, string, string) (net.Conn, error) {
		return func(ctx context.Context, network, _ string) (net.Conn, error) {
			local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+src.Add(1)%250))}
			return (&net.Dialer{LocalAddr: local}).DialContext(ctx, network, addr)
		}
	}
	tlsOver := func(h2 bool, certs ...*x509.Certificate) *http.Client {
		c := tlsClient(h2, certs...)
		c.Transport.(*http.Transport).DialContext = dialTo(httpsAddr)
		c.CheckRedirect = noRedirect
		return c
	}
	plain := &http.Client{Timeout: 10 * time.Second, CheckRedirect: noRedirect, Transport: &http.Transport{DialContext: dialTo(httpAddr)}}
	clients := []zoneClient{
		{name: "HTTP/1.1", c: plain, base: func(string) string { return "http://" + httpAddr }},
		{name: "HTTP/1.1+TLS", c: tlsOver(false, cert), base: func(h string) string { return "https://" + h + ":" + httpsPort }, tls: true},
		{name: "HTTP/2", c: tlsOver(true, cert), base: func(h string) string { return "https://" + h + ":" + httpsPort }, tls: true},
	}
	ck := func(c *http.Cookie) string { return c.Name + "=" + c.Value }

	var cheapCookies []*http.Cookie
	for _, zc := range clients {
		t.Run(zc.name, func(t *testing.T) {
			cheap := zc.earn(t, "cheap.test")
			cheapCookies = append(cheapCookies, cheap)
			if ok, status := zc.get(t, "cheap.test", ck(cheap)); !ok {
				t.Fatalf("control: the clearance on its own zone: status %d, not proxied", status)
			}
			if ok, _ := zc.get(t, "cheap.test"); ok {
				t.Fatal("control: no clearance, proxied")
			}

			t.Run("cookie attributes", func(t *testing.T) {
				if !cheap.HttpOnly || cheap.SameSite != http.SameSiteLaxMode || cheap.Path != "/" || cheap.Domain != "" || cheap.Secure != zc.tls {
					t.Fatalf("clearance cookie %q: want HttpOnly, SameSite=Lax, Path=/, no Domain (host-only), Secure=%v", cheap.Raw, zc.tls)
				}
			})

			t.Run("cheap clearance on other zones", func(t *testing.T) {
				for _, host := range []string{"mid.test", "hard.test", "a.shared.test", "b.shared.test", "x.wild.test"} {
					if ok, status := zc.get(t, host, ck(cheap)); ok {
						t.Errorf("cookie earned on cheap.test (4 bits) proxied on %s (status %d)", host, status)
					}
				}
			})

			t.Run("cookie encodings and headers", func(t *testing.T) {
				v := cheap.Value
				for _, cookies := range [][]string{
					{challenge.CookieName + `="` + v + `"`},
					{"a=1; " + challenge.CookieName + "=" + v + "; b=2"},
					{"a=1", challenge.CookieName + "=" + v},
					{challenge.CookieName + "=garbage; " + challenge.CookieName + "=" + v},
				} {
					if ok, _ := zc.get(t, "cheap.test", cookies...); !ok {
						t.Errorf("control: valid clearance as %q not proxied on its zone", cookies)
					}
					if ok, _ := zc.get(t, "hard.test", cookies...); ok {
						t.Errorf("cheap clearance as %q proxied on hard.test", cookies)
					}
				}
			})

			t.Run("tampered difficulty", func(t *testing.T) {
				raw, err := base64.RawURLEncoding.DecodeString(cheap.Value)
				if err != nil || len(raw) != 30 {
					t.Fatalf("cookie %q: %v, %d bytes", cheap.Value, err, len(raw))
				}
				for _, bits := range []byte{12, 26} {
					raw[13] = bits
					forged := challenge.CookieName + "=" + base64.RawURLEncoding.EncodeToString(raw)
					for _, host := range []string{"cheap.test", "hard.test"} {
						if ok, _ := zc.get(t, host, forged); ok {
							t.Errorf("cookie with its difficulty set to %d proxied on %s", bits, host)
						}
					}
				}
			})

			t.Run("solution used twice", func(t *testing.T) {
				tok, ctr := zc.solve(t, "cheap.test")
				if resp, c := zc.verify(t, "cheap.test", tok, ctr); resp.StatusCode != http.StatusSeeOther || c == nil {
					t.Fatalf("first use: %d", resp.StatusCode)
				}
				if resp, c := zc.verify(t, "cheap.test", tok, ctr); resp.StatusCode != http.StatusForbidden || c != nil {
					t.Fatalf("second use: %d, cookie %v; want 403 and no cookie", resp.StatusCode, c)
				}
				// The GET form of the verify endpoint.
				q := "?" + url.Values{"token": {tok}, "counter": {ctr}}.Encode()
				resp, _ := zc.send(t, "GET", "cheap.test", challenge.VerifyPath+q, nil, nil)
				if resp.StatusCode != http.StatusForbidden || strings.Contains(resp.Header.Get("Set-Cookie"), challenge.CookieName) {
					t.Fatalf("third use by GET: %d", resp.StatusCode)
				}
			})

			t.Run("solution submitted to another zone", func(t *testing.T) {
				tok, ctr := zc.solve(t, "cheap.test")
				for _, host := range []string{"mid.test", "hard.test", "b.shared.test", "x.wild.test"} {
					if resp, c := zc.verify(t, host, tok, ctr); resp.StatusCode != http.StatusForbidden || c != nil {
						t.Errorf("cheap.test's solution on %s: %d, cookie %v; want 403 and no cookie", host, resp.StatusCode, c)
					}
				}
				// Refused elsewhere, it was not spent: its own zone takes it.
				if resp, c := zc.verify(t, "cheap.test", tok, ctr); resp.StatusCode != http.StatusSeeOther || c == nil {
					t.Fatalf("the solution on its own zone after the refusals: %d", resp.StatusCode)
				}
			})

			t.Run("shared cookie domain", func(t *testing.T) {
				a := zc.earn(t, "a.shared.test") // 8 bits
				if a.Domain != "shared.test" {
					t.Fatalf("cookie of a shared-domain zone has Domain %q, want shared.test", a.Domain)
				}
				if ok, _ := zc.get(t, "b.shared.test", ck(a)); !ok {
					t.Error("8-bit clearance of shared.test not proxied on b.shared.test (4 bits)")
				}
				for _, host := range []string{"cheap.test", "mid.test"} {
					if ok, _ := zc.get(t, host, ck(a)); ok {
						t.Errorf("shared.test clearance proxied on %s, which does not share the domain", host)
					}
				}
				b := zc.earn(t, "b.shared.test") // 4 bits
				if ok, _ := zc.get(t, "a.shared.test", ck(b)); ok {
					t.Error("4-bit clearance of shared.test proxied on a.shared.test (8 bits)")
				}
			})

			t.Run("wildcard zone", func(t *testing.T) {
				x := zc.earn(t, "x.wild.test")
				if ok, _ := zc.get(t, "y.wild.test", ck(x)); !ok {
					t.Error("clearance of *.wild.test earned on x.wild.test not proxied on y.wild.test")
				}
				if ok, _ := zc.get(t, "cheap.test", ck(x)); ok {
					t.Error("clearance of *.wild.test proxied on cheap.test (same difficulty)")
				}
			})
		})
	}

	t.Run("Host spellings", func(t *testing.T) {
		zc := clients[0]
		for _, host := range []string{"HARD.TEST", "hard.test.", "hard.test:" + httpsPort, "Hard.Test.:80"} {
			if ok, _ := zc.get(t, host, ck(cheapCookies[0])); ok {
				t.Errorf("cheap clearance proxied with Host %q", host)
			}
		}
	})

	t.Run("solution replayed over another protocol", func(t *testing.T) {
		tok, ctr := clients[0].solve(t, "cheap.test")
		if resp, c := clients[0].verify(t, "cheap.test", tok, ctr); resp.StatusCode != http.StatusSeeOther || c == nil {
			t.Fatalf("first use over HTTP/1.1: %d", resp.StatusCode)
		}
		for _, zc := range clients[1:] {
			if resp, c := zc.verify(t, "cheap.test", tok, ctr); resp.StatusCode != http.StatusForbidden || c != nil {
				t.Errorf("replay over %s: %d, cookie %v", zc.name, resp.StatusCode, c)
			}
		}
	})

	t.Run("version 1 cookie", func(t *testing.T) {
		// The format before the fix, signed with the node's real key:
		// it opened every zone. It is refused everywhere now.
		v1 := v1Clearance(t, dir, "127.0.0.1", zoneTestUA)
		for _, host := range []string{"cheap.test", "hard.test"} {
			if ok, _ := clients[0].get(t, host, challenge.CookieName+"="+v1); ok {
				t.Errorf("version 1 clearance proxied on %s", host)
			}
		}
	})

	t.Run("difficulty raised by a reload", func(t *testing.T) {
		if err := r.Reload(parseConfig(t, config(12))); err != nil {
			t.Fatal(err)
		}
		for i, zc := range clients {
			if ok, _ := zc.get(t, "cheap.test", ck(cheapCookies[i])); ok {
				t.Errorf("%s: 4-bit clearance proxied after cheap.test went to 12 bits", zc.name)
			}
		}
		c := clients[0].earn(t, "cheap.test")
		if ok, _ := clients[0].get(t, "cheap.test", ck(c)); !ok {
			t.Error("control: 12-bit clearance not proxied on cheap.test at 12 bits")
		}
		if ok, _ := clients[0].get(t, "hard.test", ck(c)); ok {
			t.Error("12-bit clearance of cheap.test proxied on hard.test (12 bits, another zone)")
		}
	})
}

// v1Clearance builds a version 1 clearance cookie (the format before
// issue 11: no zone, no difficulty) with the current key of data_dir.
func v1Clearance(t *testing.T, dataDir, client, ua string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dataDir, "keys", "challenge.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Keys []struct {
			ID     uint32 `json:"id"`
			Secret string `json:"secret"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &f); err != nil || len(f.Keys) == 0 {
		t.Fatalf("key file: %v", err)
	}
	k := f.Keys[len(f.Keys)-1]
	secret, err := base64.StdEncoding.DecodeString(k.Secret)
	if err != nil {
		t.Fatal(err)
	}
	ip := net.ParseIP(client).To4()
	body := make([]byte, 13)
	body[0] = 1
	binary.BigEndian.PutUint32(body[1:5], k.ID)
	binary.BigEndian.PutUint64(body[5:13], uint64(time.Now().Add(time.Hour).Unix()))
	uah := sha256.Sum256([]byte(ua))
	msg := append([]byte{'C'}, body...)
	msg = append(msg, 4, ip[0], ip[1], ip[2], 0, 0, 0, 0, 0)
	msg = append(msg, uah[:16]...)
	m := hmac.New(sha256.New, secret)
	m.Write(msg)
	return base64.RawURLEncoding.EncodeToString(append(body, m.Sum(nil)[:16]...))
}

// TestChallengeSolutionOnceAcrossNodes: two nodes sharing the challenge
// keys and cluster.redis accept a solution once between them; with Redis
// unreachable a node still refuses a replay to itself.
func TestChallengeSolutionOnceAcrossNodes(t *testing.T) {
	zoneTestOrigin = newZoneRecordingOrigin(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadRedis := ln.Addr().String()
	ln.Close()
	liveRedis := testenv.Redis(t)
	dir := t.TempDir() // one data_dir: one key file, as a cluster shares
	node := func(redisAddr string) zoneClient {
		cfg := parseConfig(t, fmt.Sprintf(`
data_dir: %s
log: {format: "off"}
cluster: {redis: "redis://%s/0"}
zones:
  - host: cheap.test
    origins: [%s]
    under_attack: "on"
    challenge: {difficulty: 4}
`, dir, redisAddr, zoneTestOrigin.URL))
		r := start(t, cfg)
		addr := r.Addrs().HTTP
		return zoneClient{name: "node " + addr, c: &http.Client{Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
			base: func(string) string { return "http://" + addr }}
	}
	a, b := node(liveRedis), node(liveRedis)
	tok, ctr := a.solve(t, "cheap.test")
	resp, ck := a.verify(t, "cheap.test", tok, ctr)
	if resp.StatusCode != http.StatusSeeOther || ck == nil {
		t.Fatalf("node A, first use: %d", resp.StatusCode)
	}
	if ok, _ := b.get(t, "cheap.test", ck.Name+"="+ck.Value); !ok {
		t.Fatal("control: node A's clearance not proxied by node B")
	}
	if resp, c := b.verify(t, "cheap.test", tok, ctr); resp.StatusCode != http.StatusForbidden || c != nil {
		t.Fatalf("node B, replay of the solution node A accepted: %d, cookie %v; want 403", resp.StatusCode, c)
	}

	d := node(deadRedis)
	tok, ctr = d.solve(t, "cheap.test")
	if resp, c := d.verify(t, "cheap.test", tok, ctr); resp.StatusCode != http.StatusSeeOther || c == nil {
		t.Fatalf("redis down, first use: %d; want 303 (the node's own record decides)", resp.StatusCode)
	}
	if resp, c := d.verify(t, "cheap.test", tok, ctr); resp.StatusCode != http.StatusForbidden || c != nil {
		t.Fatalf("redis down, replay to the same node: %d, cookie %v; want 403", resp.StatusCode, c)
	}
}
