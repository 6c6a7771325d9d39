package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rampart-edge/rampart/internal/challenge"
	"github.com/rampart-edge/rampart/internal/geoip/geoiptest"
)

// clientFrom returns an HTTP client whose connections come from the
// loopback address src (127.0.0.0/8 is all local on Linux).
func clientFrom(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
		Timeout:   10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func writeGeoDB(t *testing.T, path string, entries ...geoiptest.Entry) {
	t.Helper()
	if err := geoiptest.Write(path, entries); err != nil {
		t.Fatal(err)
	}
}

func TestAccessRulesAndEmbargo(t *testing.T) {
	o := newOrigin(t, "o")
	dir := t.TempDir()
	db := filepath.Join(dir, "geo.mmdb")
	writeGeoDB(t, db,
		geoiptest.Entry{Network: netip.MustParsePrefix("127.0.3.0/24"), Country: "IR"},
		geoiptest.Entry{Network: netip.MustParsePrefix("127.0.4.0/24"), Country: "FR", ASN: 64512},
	)
	cfg := parseConfig(t, fmt.Sprintf(`
data_dir: %s
geoip: {country_db: %s}
compliance:
  embargoed_regions: [IR]
  blocked_by_url: https://compliance.example.net
zones:
  - host: site.test
    origins: [%s]
    access:
      deny: ["127.0.2.0/24", "asn:64512"]
`, dir, db, o.URL))
	r := start(t, cfg)
	tests := []struct {
		src, reason string
		code        int
	}{
		{"127.0.1.1", "", 200},
		{"127.0.2.9", "access-deny", 403},
		{"127.0.3.5", "embargo", 451},
		{"127.0.4.5", "access-deny", 403},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			resp, body := do(t, clientFrom(tt.src), r.url("/"), "site.test", nil)
			if resp.StatusCode != tt.code {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.code, body)
			}
			id := resp.Header.Get("Rampart-Request-Id")
			if tt.code != 200 && (id == "" || !strings.Contains(body, id)) {
				t.Errorf("refusal body does not name request id %q: %s", id, body)
			}
			if tt.code == 451 {
				if got := resp.Header.Get("Link"); got != `<https://compliance.example.net>; rel="blocked-by"` {
					t.Errorf("Link = %q", got)
				}
				if !strings.Contains(body, "embargo") {
					t.Errorf("451 page does not name the reason category: %s", body)
				}
			}
			if tt.reason != "" {
				c := r.Metrics().Protect().BlockedCounter("site.test", tt.reason)
				if testutil.ToFloat64(c) < 1 {
					t.Errorf("rampart_blocked_total{reason=%q} not counted", tt.reason)
				}
			}
		})
	}
	if hits := o.hits.Load(); hits != 1 {
		t.Errorf("origin saw %d requests, want 1 (only the admitted one)", hits)
	}

	// A new database on disk takes effect at reload (SIGHUP).
	writeGeoDB(t, db, geoiptest.Entry{Network: netip.MustParsePrefix("127.0.1.0/24"), Country: "IR"})
	future := time.Now().Add(2 * time.Second)
	os.Chtimes(db, future, future)
	cfg2 := parseConfig(t, fmt.Sprintf(`
data_dir: %s
geoip: {country_db: %s}
compliance: {embargoed_regions: [IR]}
zones:
  - host: site.test
    origins: [%s]
`, dir, db, o.URL))
	if err := r.Reload(cfg2); err != nil {
		t.Fatal(err)
	}
	resp, _ := do(t, clientFrom("127.0.1.1"), r.url("/"), "site.test", nil)
	if resp.StatusCode != 451 {
		t.Errorf("after reloading the database: status %d, want 451", resp.StatusCode)
	}
	if !strings.Contains(r.logs.String(), `"request blocked"`) {
		t.Error("no log line for blocked requests")
	}
}

func TestRateLimitAndChallenge(t *testing.T) {
	o := newOrigin(t, "o")
	dir := t.TempDir()
	cfg := parseConfig(t, fmt.Sprintf(`
data_dir: %s
zones:
  - host: limited.test
    origins: [%s]
    rate_limit: {requests: 1, per: 1m, burst: 2}
  - host: attack.test
    origins: [%s]
    under_attack: "on"
    challenge: {exempt_paths: ["/api/"], difficulty: 12}
`, dir, o.URL, o.URL))
	r := start(t, cfg)
	c := clientFrom("127.0.5.1")
	codes := []int{}
	var last *http.Response
	for range 4 {
		resp, _ := do(t, c, r.url("/"), "limited.test", nil)
		codes = append(codes, resp.StatusCode)
		last = resp
	}
	if fmt.Sprint(codes) != "[200 200 200 429]" {
		t.Errorf("codes %v, want [200 200 200 429]", codes)
	}
	if last.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if resp, _ := do(t, clientFrom("127.0.5.2"), r.url("/"), "limited.test", nil); resp.StatusCode != 200 {
		t.Errorf("another address got %d, want 200", resp.StatusCode)
	}

	// Under attack: challenged, then admitted with the clearance it earned.
	before := o.hits.Load()
	resp, _ := do(t, c, r.url("/page"), "attack.test", nil)
	if resp.StatusCode == 200 && resp.Header.Get("Rampart-Challenge") == "" {
		t.Fatalf("under_attack on: not challenged (status %d)", resp.StatusCode)
	}
	if o.hits.Load() != before {
		t.Error("a challenged request reached the origin")
	}
	if resp, body := do(t, c, r.url("/api/v1"), "attack.test", nil); resp.StatusCode != 200 || !strings.HasPrefix(body, "o ") {
		t.Errorf("exempt path under attack: status %d body %q, want the origin's 200", resp.StatusCode, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequest("GET", r.url("/page"), nil)
	req.Host = "attack.test"
	cookie, err := earnClearance(ctx, c, r.url("/page"), "attack.test")
	if err != nil || cookie == nil {
		t.Fatalf("earning clearance: %v, %v", cookie, err)
	}
	req.AddCookie(cookie)
	req.Header.Set("User-Agent", "rampart-test")
	resp2, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp2.Body)
	resp2.Body.Close()
	if resp2.StatusCode != 200 {
		t.Errorf("with clearance: status %d, want 200", resp2.StatusCode)
	}
}

// earnClearance solves the challenge of a zone reached by Host header.
func earnClearance(ctx context.Context, c *http.Client, url, host string) (*http.Cookie, error) {
	hc := *c
	tr := c.Transport.(*http.Transport).Clone()
	hc.Transport = hostRewriter{tr, host}
	return challenge.EarnClearance(ctx, &hc, url, "rampart-test")
}

type hostRewriter struct {
	rt   http.RoundTripper
	host string
}

func (h hostRewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Host = h.host
	return h.rt.RoundTrip(r)
}

func TestConnLimitsAndProxyProtocol(t *testing.T) {
	o := newOrigin(t, "o")
	dir := t.TempDir()
	cfg := parseConfig(t, fmt.Sprintf(`
data_dir: %s
trusted_proxies: [127.0.0.1/32]
listen: {proxy_protocol: true}
limits: {max_conns_per_ip: 2}
zones:
  - host: site.test
    origins: [%s]
`, dir, o.URL))
	cfg.Listen.ProxyProtocol = true
	r := start(t, cfg)
	addr := r.Addrs().HTTP

	send := func(t *testing.T, src, preamble string) (string, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			return "", err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "%sGET / HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n", preamble)
		b, err := io.ReadAll(bufio.NewReader(c))
		return string(b), err
	}
	t.Run("v1 from trusted proxy", func(t *testing.T) {
		out, _ := send(t, "127.0.0.1", "PROXY TCP4 203.0.113.9 127.0.0.1 5555 80\r\n")
		if !strings.Contains(out, "200 OK") || !strings.Contains(out, "xff=203.0.113.9") {
			t.Errorf("origin did not see the PROXY client address: %q", out)
		}
	})
	t.Run("v2 from trusted proxy", func(t *testing.T) {
		v2 := "\r\n\r\n\x00\r\nQUIT\n" + "\x21\x11\x00\x0c" + "\xc6\x33\x64\x07" + "\x7f\x00\x00\x01" + "\x15\xb3\x00\x50"
		out, _ := send(t, "127.0.0.1", v2)
		if !strings.Contains(out, "xff=198.51.100.7") {
			t.Errorf("origin did not see the v2 client address: %q", out)
		}
	})
	t.Run("no header from trusted proxy", func(t *testing.T) {
		out, _ := send(t, "127.0.0.1", "")
		if !strings.Contains(out, "xff=127.0.0.1") {
			t.Errorf("plain request from the proxy: %q", out)
		}
	})
	t.Run("header from untrusted peer refused", func(t *testing.T) {
		out, _ := send(t, "127.0.0.7", "PROXY TCP4 203.0.113.9 127.0.0.1 5555 80\r\n")
		if strings.Contains(out, "200 OK") || strings.Contains(out, "203.0.113.9") {
			t.Errorf("an untrusted peer chose its address: %q", out)
		}
	})
	t.Run("per-IP connection cap", func(t *testing.T) {
		var held []net.Conn
		for range 2 {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.8")}}
			c, err := d.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			held = append(held, c)
		}
		time.Sleep(100 * time.Millisecond) // let the edge accept both
		out, err := send(t, "127.0.0.8", "")
		if err == nil && strings.Contains(out, "200 OK") {
			t.Errorf("third connection from one address served: %q", out)
		}
		if out, _ := send(t, "127.0.0.9", ""); !strings.Contains(out, "200 OK") {
			t.Errorf("another address refused: %q", out)
		}
		c := r.Metrics().Protect().ConnRejected("http", "max_conns_per_ip")
		if testutil.ToFloat64(c) < 1 {
			t.Error("rejected connection not counted")
		}
		_ = held
	})
}

func TestRateLimitRulesByHeaderAndPath(t *testing.T) {
	o := newOrigin(t, "o")
	cfg := parseConfig(t, fmt.Sprintf(`
data_dir: %s
zones:
  - host: api.test
    origins: [%s]
    rate_limit:
      rules:
        - name: apikey
          path: /api/
          key: header:X-Api-Key
          limits: [{requests: 2, per: 1m, burst: 1}, {requests: 100, per: 1h, burst: 10}]
`, t.TempDir(), o.URL))
	r := start(t, cfg)
	get := func(src, path, key string) int {
		resp, _ := do(t, clientFrom(src), r.url(path), "api.test", map[string]string{"X-Api-Key": key})
		return resp.StatusCode
	}
	got := []int{
		get("127.0.6.1", "/api/a", "k1"),
		get("127.0.6.2", "/api/b", "k1"), // same key from another address: same bucket
		get("127.0.6.3", "/api/c", "k1"),
		get("127.0.6.1", "/api/a", "k2"),
		get("127.0.6.1", "/other", "k1"),
	}
	if want := []int{200, 200, 429, 200, 200}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("codes %v, want %v", got, want)
	}
	if c := r.Metrics().Protect().BlockedCounter("api.test", "ratelimit:apikey"); testutil.ToFloat64(c) != 1 {
		t.Errorf("ratelimit:apikey blocks counted %v, want 1", testutil.ToFloat64(c))
	}
}
