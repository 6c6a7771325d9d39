package app

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/token"
)

// tlsTo is tlsClient dialling addr whatever the URL's host, so the URL
// names the host (SNI and Host) and the certificate is checked for it.
func tlsTo(h2 bool, addr string, certs ...*x509.Certificate) *http.Client {
	c := tlsClient(h2, certs...)
	c.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	return c
}

// TestSuspendedZoneCoversNamesBelow is issue 11 point 9: with
// "*.susp.test" suspended, "b.susp.test" was onboarded and served. A
// suspension now covers every name below the suspended zone (a wildcard's
// names; an exact zone's sub-domains unless it is a public suffix): the
// gate puts a covered zone in review (API, config at start and on
// reload, a new alias refused), and the edge answers 451 for covered
// names even when a more specific zone serves them, over HTTP/1.1 and
// HTTP/2, until a newer decision on that zone clears it.
func TestSuspendedZoneCoversNamesBelow(t *testing.T) {
	for _, be := range backendsUnderTest() {
		t.Run(be, func(t *testing.T) {
			o := newOrigin(t, "origin")
			dir := t.TempDir()
			certFile, keyFile, cert := selfSigned(t, dir, "susp", "*.susp.test", "susp.test", "susp2.test", "*.susp2.test", "github.io", "*.github.io")
			d := startDeskWith(t, storeFor(t, be), "", fmt.Sprintf("listen: {https: \"127.0.0.1:8443\"}\ntls:\n  certificates: [{cert: %s, key: %s}]", certFile, keyFile),
				fmt.Sprintf(`  - host: "*.susp.test"
    origins: [%[1]s]
  - host: c.susp.test
    origins: [%[1]s]
  - host: susp2.test
    origins: [%[1]s]
  - host: github.io
    origins: [%[1]s]
`, o.URL))
			h1, h2 := tlsTo(false, d.Addrs().HTTPS, cert), tlsTo(true, d.Addrs().HTTPS, cert)
			_, port, _ := net.SplitHostPort(d.Addrs().HTTPS)
			// edgeCode asks the edge over plain HTTP/1.1, and over TLS with
			// HTTP/1.1 and HTTP/2 for names the certificate covers; every
			// answer must be want (with a Link to the case when link is set).
			edgeCode := func(host string, want int, link string) {
				t.Helper()
				resp, body := d.waitEdge(t, host, want)
				if resp.StatusCode != want || (link != "" && !strings.Contains(resp.Header.Get("Link"), link)) {
					t.Fatalf("%s over HTTP/1.1: %d Link %q %.200s, want %d linking %s", host, resp.StatusCode, resp.Header.Get("Link"), body, want, link)
				}
				if cert.VerifyHostname(host) != nil {
					return
				}
				for _, c := range []*http.Client{h1, h2} {
					resp, err := c.Get("https://" + host + ":" + port + "/")
					if err != nil {
						t.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != want || (link != "" && !strings.Contains(resp.Header.Get("Link"), link)) {
						t.Fatalf("%s over %s: %d Link %q, want %d", host, resp.Proto, resp.StatusCode, resp.Header.Get("Link"), want)
					}
				}
			}
			decide := func(caseID, action string) {
				t.Helper()
				code, body, _ := d.api(t, "POST", "/v1/cases/"+caseID+"/decision", token.Compliance, fmt.Sprintf(`{"action":%q,"reason":"test %s"}`, action, action))
				if code != 200 {
					t.Fatalf("%s %s: %d %s", action, caseID, code, body)
				}
			}
			report := func(host string) string {
				t.Helper()
				code, body, _ := d.api(t, "POST", "/v1/reports", "", fmt.Sprintf(`{"host":%q,"category":"sanctions","description":"sells for a listed company"}`, host))
				if code != 202 {
					t.Fatalf("report about %s: %d %s", host, code, body)
				}
				return caseRe.FindString(body)
			}
			code, body, _ := d.api(t, "POST", "/v1/accounts", token.Admin, `{"name":"Quiet Meadow Bakery","kind":"organization","country":"NL"}`)
			if code != 201 {
				t.Fatalf("account: %d %s", code, body)
			}
			var acc struct{ ID string }
			_ = json.Unmarshal([]byte(body), &acc)
			type zoneResult struct {
				ID, Status string
				CaseID     string `json:"case_id"`
				Reasons    []string
			}
			onboard := func(host string, aliases ...string) zoneResult {
				t.Helper()
				al, _ := json.Marshal(append([]string{}, aliases...))
				code, body, _ := d.api(t, "POST", "/v1/zones", token.Admin, fmt.Sprintf(`{"account_id":%q,"host":%q,"aliases":%s,"origins":[%q]}`, acc.ID, host, al, o.URL))
				if code != 201 {
					t.Fatalf("onboarding %s: %d %s", host, code, body)
				}
				var z zoneResult
				_ = json.Unmarshal([]byte(body), &z)
				return z
			}

			edgeCode("c.susp.test", 200, "")
			edgeCode("x.susp.test", 200, "")

			// Suspend the wildcard through a report and a decision.
			wildCase := report("x.susp.test")
			decide(wildCase, "suspend")
			edgeCode("x.susp.test", 451, wildCase)
			// The more specific config zone is covered too.
			edgeCode("c.susp.test", 451, wildCase)

			// Onboarding under the suspended wildcard: review, with the
			// reason naming the suspended zone and its case, and 451.
			b := onboard("b.susp.test")
			if b.Status != "review" || b.CaseID == "" || !strings.Contains(strings.Join(b.Reasons, ";"), "*.susp.test") ||
				!strings.Contains(strings.Join(b.Reasons, ";"), wildCase) {
				t.Fatalf("b.susp.test under a suspended wildcard: %+v, want review naming *.susp.test and %s", b, wildCase)
			}
			edgeCode("b.susp.test", 451, wildCase)
			edgeCode("deep.b.susp.test", 451, wildCase)
			reviewCases := map[string]string{}
			for _, tt := range []struct {
				host    string
				aliases []string
				want    string
			}{
				{"*.deep.susp.test", nil, "review"},
				{"ok.test", []string{"alias.susp.test"}, "review"},
				{"susp.test", nil, "active"}, // a wildcard does not cover its apex
			} {
				z := onboard(tt.host, tt.aliases...)
				if z.Status != tt.want {
					t.Errorf("onboarding %s %v: %+v, want %s", tt.host, tt.aliases, z, tt.want)
				}
				reviewCases[tt.host] = z.CaseID
			}
			edgeCode("alias.susp.test", 451, wildCase)
			edgeCode("susp.test", 200, "")
			// A new alias under the suspension is refused.
			apex, err := d.store.GetZoneByHost(context.Background(), "susp.test")
			if err != nil {
				t.Fatal(err)
			}
			apexID := apex.ID
			if code, body, _ = d.api(t, "PATCH", "/v1/zones/"+apexID, token.Admin, `{"aliases":["e.susp.test"]}`); code != 422 || !strings.Contains(body, "*.susp.test") {
				t.Errorf("alias under a suspended wildcard: %d %s, want 422 naming it", code, body)
			}

			// A config zone added by a reload goes to review too.
			more, err := config.Parse("more.yaml", []byte(fmt.Sprintf("zones:\n  - host: d.susp.test\n    origins: [%s]\n", o.URL)))
			if err != nil {
				t.Fatal(err)
			}
			nc := *d.Config()
			nc.Zones = append(append([]config.Zone{}, nc.Zones...), more.Zones...)
			if err := d.Reload(&nc); err != nil {
				t.Fatal(err)
			}
			if z, err := d.store.GetZoneByHost(context.Background(), "d.susp.test"); err != nil || z.Status != "review" || !strings.Contains(string(z.Reasons), "*.susp.test") {
				t.Errorf("config zone d.susp.test after reload: %+v %v, want review naming *.susp.test", z, err)
			}
			edgeCode("d.susp.test", 451, wildCase)

			// A decision on the specific zone, newer than the suspension,
			// says otherwise: b.susp.test cleared is served; c.susp.test
			// (no decision of its own) stays covered.
			decide(b.CaseID, "dismiss")
			edgeCode("b.susp.test", 200, "")
			edgeCode("deep.b.susp.test", 451, wildCase) // not b's zone: the wildcard serves it
			edgeCode("c.susp.test", 451, wildCase)
			// The same for a zone whose alias is covered: clearing it
			// serves the alias.
			edgeCode("alias.susp.test", 451, wildCase)
			decide(reviewCases["ok.test"], "dismiss")
			edgeCode("alias.susp.test", 200, "")
			edgeCode("x.deep.susp.test", 451, wildCase) // *.deep.susp.test still in review

			// An exact zone's suspension covers its sub-domains...
			exactCase := report("susp2.test")
			decide(exactCase, "suspend")
			if z := onboard("a.susp2.test"); z.Status != "review" || !strings.Contains(strings.Join(z.Reasons, ";"), exactCase) {
				t.Errorf("a.susp2.test under suspended susp2.test: %+v", z)
			}
			edgeCode("a.susp2.test", 451, exactCase)
			// ...unless it is a public suffix (github.io's sub-domains
			// belong to different registrants).
			ghCase := report("github.io")
			decide(ghCase, "suspend")
			edgeCode("github.io", 451, ghCase)
			if z := onboard("me.github.io"); z.Status != "active" {
				t.Errorf("me.github.io under suspended public suffix github.io: %+v, want active", z)
			}
			edgeCode("me.github.io", 200, "")

			// Reinstating the wildcard lifts the cover.
			decide(wildCase, "reinstate")
			edgeCode("c.susp.test", 200, "")
			edgeCode("x.susp.test", 200, "")
		})
	}
}

// TestWildcardSuspensionEndsSubZoneTunnels joins points 6 and 9: a
// WebSocket and an event stream open on c.susp.test (a zone of its own)
// end when *.susp.test is suspended, since the suspension covers it; a
// tunnel on an unrelated zone keeps relaying.
func TestWildcardSuspensionEndsSubZoneTunnels(t *testing.T) {
	o := newTunnelOrigin(t)
	d := startDesk(t, "", fmt.Sprintf(`
  - host: "*.susp.test"
    origins: [%[1]s]
  - host: c.susp.test
    origins: [%[1]s]
  - host: other.test
    origins: [%[1]s]
`, o.URL))
	ec := edgeClient{r: d.running}
	ws := ec.openWS(t, "c.susp.test")
	defer ws.close()
	sse := ec.openSSE(t, "c.susp.test")
	defer sse.close()
	keep := ec.openWS(t, "other.test")
	defer keep.close()
	for _, e := range []exchange{ws, sse, keep} {
		if err := e.alive("before"); err != nil {
			t.Fatalf("exchange before the suspension: %v", err)
		}
	}
	caseID := d.openCase(t, "x.susp.test")
	if code, body, _ := d.api(t, "POST", "/v1/cases/"+caseID+"/decision", token.Compliance, `{"action":"suspend","reason":"listed owner"}`); code != 200 {
		t.Fatalf("suspend: %d %s", code, body)
	}
	for name, e := range map[string]exchange{"WebSocket": ws, "event stream": sse} {
		if err := e.ended(2 * time.Second); err != nil {
			t.Errorf("%s on c.susp.test after *.susp.test was suspended: %v", name, err)
		}
	}
	if err := keep.alive("after"); err != nil {
		t.Errorf("tunnel on other.test ended: %v", err)
	}
	if code := ec.get(t, "c.susp.test", "/"); code != http.StatusUnavailableForLegalReasons {
		t.Errorf("c.susp.test after the suspension: %d, want 451", code)
	}
}
