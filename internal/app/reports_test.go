package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/token"
)

// Regression tests of issue 11 point 7 (public reports flooded and
// forged) against a real app: the edge's report form and the admin
// listener's POST /v1/reports, with the client's source address chosen by
// binding the client socket to an address of 127.0.0.0/8.

var formTokenRe = regexp.MustCompile(`name="form_token" value="([^"]+)"`)

// formToken reads the hidden form token out of a report form page.
func formToken(t *testing.T, page string) string {
	t.Helper()
	m := formTokenRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form token in the report form: %.300s", page)
	}
	return m[1]
}

// boundClient is an HTTP/1.1 client whose connections come from local
// (an address of 127.0.0.0/8), so the edge sees that peer.
func boundClient(local string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// post sends a POST with body and content type through c and returns the
// status, body and headers.
func post(t *testing.T, c *http.Client, u, host, ctype, body string, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest("POST", u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// reportRows counts the stored report rows of the active case of host.
func reportRows(t *testing.T, s store.Store, host string) (rows, count int, reports []store.Report) {
	t.Helper()
	ctx := context.Background()
	cs, err := s.FindActiveCase(ctx, host, store.CategoryAbuse)
	if err != nil {
		t.Fatalf("no active abuse case for %s: %v", host, err)
	}
	rs, err := s.Reports(ctx, cs.ID)
	if err != nil {
		t.Fatal(err)
	}
	return len(rs), cs.ReportCount, rs
}

func backendsUnderTest() []string { return []string{"sqlite", "postgres"} }

func storeFor(t *testing.T, name string) string {
	if name == "postgres" {
		return pgSchemaURL(t)
	}
	return ""
}

// TestReportFloodFromOneNetwork is the attack: 200 addresses of one /24
// filing reports through the form (the red team got 1,200 in 2.3 s). The
// per-network limit (burst 10: 11 at once) bounds what is stored; another
// /24 still gets through; through the JSON API the same.
func TestReportFloodFromOneNetwork(t *testing.T) {
	for _, be := range backendsUnderTest() {
		t.Run(be, func(t *testing.T) {
			o := newOrigin(t, "origin")
			d := startDesk(t, storeFor(t, be), fmt.Sprintf("  - host: shop.example\n    origins: [%s]\n", o.URL))
			_, page := d.edge(t, "GET", "shop.example", compliance.ReportPath, "")
			tok := formToken(t, page)

			dbSize := func() int64 {
				var n int64
				for _, f := range []string{"rampart.db", "rampart.db-wal"} {
					if fi, err := os.Stat(filepath.Join(d.Config().DataDir, f)); err == nil {
						n += fi.Size()
					}
				}
				return n
			}
			before, began := dbSize(), time.Now()
			var mu sync.Mutex
			codes := map[int]int{}
			retryAfter := ""
			var wg sync.WaitGroup
			sem := make(chan struct{}, 16)
			for i := 1; i <= 200; i++ {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer func() { <-sem; wg.Done() }()
					c := boundClient(fmt.Sprintf("127.0.1.%d", i))
					for j := range 2 {
						form := url.Values{"host": {"shop.example"}, "category": {"abuse"}, "form_token": {tok},
							"description": {fmt.Sprintf("flood report number %d from client %d", j, i)}}
						code, _, hdr := post(t, c, d.url(compliance.ReportPath), "shop.example", "application/x-www-form-urlencoded", form.Encode(), nil)
						mu.Lock()
						codes[code]++
						if code == 429 && retryAfter == "" {
							retryAfter = hdr.Get("Retry-After")
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			t.Logf("400 form posts from 200 addresses of 127.0.1.0/24 in %v: %v", time.Since(began).Round(time.Millisecond), codes)
			if be == "sqlite" {
				grew := dbSize() - before
				t.Logf("SQLite store (file and WAL) grew by %d bytes", grew)
				if grew > 2<<20 { // 11 reports wrote about 0.5 MB of WAL pages here
					t.Errorf("the store grew by %d bytes during the flood, want under 2 MiB", grew)
				}
			}
			if codes[202] < 1 || codes[202] > 11 || codes[202]+codes[429] != 400 {
				t.Fatalf("400 form posts from one /24: %v, want at most 11 accepted and the rest 429", codes)
			}
			if retryAfter == "" || retryAfter == "0" {
				t.Errorf("429 without a Retry-After (%q)", retryAfter)
			}
			rows, count, _ := reportRows(t, d.store, "shop.example")
			if rows != codes[202] || count != codes[202] {
				t.Errorf("stored %d rows, case count %d; want %d", rows, count, codes[202])
			}
			// Another /24 is not limited by the first one's flood.
			form := url.Values{"host": {"shop.example"}, "category": {"abuse"}, "form_token": {tok}, "description": {"a report from another network"}}
			if code, body, _ := post(t, boundClient("127.0.2.1"), d.url(compliance.ReportPath), "shop.example", "application/x-www-form-urlencoded", form.Encode(), nil); code != 202 {
				t.Errorf("report from another /24: %d %.200s", code, body)
			}
			// The JSON API counts the same networks: 127.0.3.0/24 floods it.
			accepted := 0
			for i := 1; i <= 40; i++ {
				body := fmt.Sprintf(`{"host":"shop.example","category":"abuse","description":"api flood report from client %d"}`, i)
				code, resp, hdr := post(t, boundClient(fmt.Sprintf("127.0.3.%d", i)), "http://"+d.Addrs().Admin+"/v1/reports", "", "application/json", body, nil)
				switch code {
				case 202:
					accepted++
				case 429:
					if hdr.Get("Retry-After") == "" {
						t.Errorf("API 429 without Retry-After")
					}
				default:
					t.Fatalf("API report: %d %s", code, resp)
				}
			}
			if accepted < 1 || accepted > 11 {
				t.Errorf("API flood from one /24: %d accepted, want 1 to 11", accepted)
			}
		})
	}
}

// TestReportTotalLimit: clients from many networks together are bounded
// by compliance.reports.total.
func TestReportTotalLimit(t *testing.T) {
	o := newOrigin(t, "origin")
	d := startDeskWith(t, "", "  reports: {total: {requests: 1, per: 1h, burst: 4}}", "",
		fmt.Sprintf("  - host: shop.example\n    origins: [%s]\n", o.URL))
	codes := map[int]int{}
	for i := 1; i <= 20; i++ {
		body := fmt.Sprintf(`{"host":"shop.example","category":"abuse","description":"report from network %d"}`, i)
		code, _, hdr := post(t, boundClient(fmt.Sprintf("127.%d.0.1", 10+i)), "http://"+d.Addrs().Admin+"/v1/reports", "", "application/json", body, nil)
		codes[code]++
		if code == 429 && hdr.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if codes[202] != 5 || codes[429] != 15 {
		t.Errorf("20 reports from 20 networks with total burst 4: %v, want 5 accepted, 15 refused", codes)
	}
}

// TestReportHostNotServed: a report about a host no zone serves is 422
// (it used to open a case); aliases and names under a wildcard zone are
// served and accepted, filed under the zone's host.
func TestReportHostNotServed(t *testing.T) {
	o := newOrigin(t, "origin")
	d := startDesk(t, "", fmt.Sprintf(`  - host: shop.example
    aliases: [alias.example]
    origins: [%s]
  - host: "*.wild.example"
    origins: [%s]
`, o.URL, o.URL))
	_, page := d.edge(t, "GET", "shop.example", compliance.ReportPath, "")
	tok := formToken(t, page)
	tests := []struct {
		host     string
		want     int
		caseHost string
	}{
		{"not-a-zone.example", 422, ""},
		{"example", 422, ""},
		{"wild.example", 422, ""}, // a wildcard does not serve its own apex
		{"shop.example.evil.example", 422, ""},
		{"shop.example", 202, "shop.example"},
		{"ALIAS.example.", 202, "shop.example"},
		{"a.b.wild.example", 202, "*.wild.example"},
	}
	for i, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			body := fmt.Sprintf(`{"host":%q,"category":"other","description":"report %d about this host"}`, tt.host, i)
			code, resp, _ := post(t, boundClient(fmt.Sprintf("127.0.%d.1", 20+i)), "http://"+d.Addrs().Admin+"/v1/reports", "", "application/json", body, nil)
			if code != tt.want {
				t.Fatalf("API: %d %s, want %d", code, resp, tt.want)
			}
			if tt.want == 422 && !strings.Contains(resp, "not a site served") && !strings.Contains(resp, "host") {
				t.Errorf("422 does not name the host: %s", resp)
			}
			if tt.want == 202 {
				var out struct {
					CaseID string `json:"case_id"`
				}
				_ = json.Unmarshal([]byte(resp), &out)
				cs, err := d.store.GetCase(context.Background(), out.CaseID)
				if err != nil || cs.Host != tt.caseHost || cs.ZoneID == "" {
					t.Errorf("case %+v (%v), want one on zone %s", cs, err, tt.caseHost)
				}
			}
			form := url.Values{"host": {tt.host}, "category": {"other"}, "form_token": {tok}, "description": {fmt.Sprintf("form report %d about this host", i)}}
			code, resp, _ = post(t, boundClient(fmt.Sprintf("127.0.%d.1", 40+i)), d.url(compliance.ReportPath), "shop.example", "application/x-www-form-urlencoded", form.Encode(), nil)
			if code != tt.want {
				t.Errorf("form: %d %.300s, want %d", code, resp, tt.want)
			}
		})
	}
	code, body, _ := d.api(t, "GET", "/v1/cases?limit=100", token.Compliance, "")
	if code != 200 || strings.Contains(body, "not-a-zone") || strings.Contains(body, "evil.example") {
		t.Errorf("a case was opened for a host no zone serves: %d %.500s", code, body)
	}
}

// TestReportFormCrossSite: the form refuses a cross-site POST (Origin of
// another site, Sec-Fetch-Site cross-site or same-site, Origin null) and
// a missing, forged, expired or other-host token, over HTTP/1.1 and
// HTTP/2; the form's own POST is accepted.
func TestReportFormCrossSite(t *testing.T) {
	o := newOrigin(t, "origin")
	dir := t.TempDir()
	certFile, keyFile, cert := selfSigned(t, dir, "shop", "shop.example", "other.example")
	d := startDeskWith(t, "", "", fmt.Sprintf("listen: {https: \"127.0.0.1:8443\"}\ntls:\n  certificates: [{cert: %s, key: %s}]", certFile, keyFile),
		fmt.Sprintf("  - host: shop.example\n    origins: [%s]\n  - host: other.example\n    origins: [%s]\n", o.URL, o.URL))
	rp := d.desk.Load().reporter
	for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
		t.Run(proto, func(t *testing.T) {
			c := tlsTo(proto == "HTTP/2", d.Addrs().HTTPS, cert)
			_, port, _ := net.SplitHostPort(d.Addrs().HTTPS)
			get := func(host string) string {
				resp, err := c.Get("https://" + host + ":" + port + compliance.ReportPath)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if resp.Proto != map[string]string{"HTTP/1.1": "HTTP/1.1", "HTTP/2": "HTTP/2.0"}[proto] {
					t.Fatalf("spoke %s, want %s", resp.Proto, proto)
				}
				b, _ := io.ReadAll(resp.Body)
				return formToken(t, string(b))
			}
			tok := get("shop.example")
			otherTok := get("other.example")
			forged := tok[:strings.LastIndexByte(tok, '.')+1] + strings.Repeat("A", 43)
			tests := []struct {
				name  string
				token string
				hdr   map[string]string
				want  int
			}{
				{"cross-site origin", tok, map[string]string{"Origin": "https://evil.example"}, 403},
				{"cross-site fetch metadata", tok, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 403},
				{"same-site fetch metadata", tok, map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
				{"null origin", tok, map[string]string{"Origin": "null"}, 403},
				{"lookalike origin", tok, map[string]string{"Origin": "https://shop.example.evil.example"}, 403},
				{"other zone origin", tok, map[string]string{"Origin": "https://other.example"}, 403},
				{"no token", "", nil, 403},
				{"forged token", forged, nil, 403},
				{"token of another host", otherTok, nil, 403},
				{"expired token", rp.FormToken("shop.example", time.Now().Add(-compliance.FormTokenTTL-time.Minute)), nil, 403},
				{"future token", rp.FormToken("shop.example", time.Now().Add(time.Hour)), nil, 403},
				{"garbage token", "1.2.3", nil, 403},
				{"same-origin browser", tok, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "https://shop.example"}, 202},
				{"no browser headers", tok, nil, 202},
			}
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					form := url.Values{"category": {"abuse"}, "description": {fmt.Sprintf("%s report %d via %s", tt.name, i, proto)}}
					if tt.token != "" {
						form.Set("form_token", tt.token)
					}
					code, body, _ := post(t, c, "https://shop.example:"+port+compliance.ReportPath, "", "application/x-www-form-urlencoded", form.Encode(), tt.hdr)
					if code != tt.want {
						t.Errorf("%d %.300s, want %d", code, body, tt.want)
					}
				})
			}
		})
	}
	// Nothing refused was stored: 2 accepted per protocol.
	if rows, _, _ := reportRows(t, d.store, "shop.example"); rows != 4 {
		t.Errorf("%d reports stored, want the 4 accepted", rows)
	}
}

// TestReportDedupe: identical reports (same host, category, description
// up to case and white space, evidence, reporter network) are one row
// with a count; a change in any of them is a new row.
func TestReportDedupe(t *testing.T) {
	for _, be := range backendsUnderTest() {
		t.Run(be, func(t *testing.T) {
			o := newOrigin(t, "origin")
			d := startDeskWith(t, storeFor(t, be), "  reports: {per_ip: {requests: 100, per: 1s, burst: 100}, per_network: {requests: 100, per: 1s, burst: 100}}", "",
				fmt.Sprintf("  - host: shop.example\n    origins: [%s]\n", o.URL))
			api := func(from, body string) string {
				code, resp, _ := post(t, boundClient(from), "http://"+d.Addrs().Admin+"/v1/reports", "", "application/json", body, nil)
				if code != 202 {
					t.Fatalf("report: %d %s", code, resp)
				}
				return resp
			}
			base := `{"host":"shop.example","category":"abuse","description":"Phishing page for   a bank","evidence_urls":["https://e.example/1"]%s}`
			first := api("127.0.5.1", fmt.Sprintf(base, ""))
			for i, v := range []struct{ from, body string }{
				{"127.0.5.1", fmt.Sprintf(base, "")},
				{"127.0.5.2", fmt.Sprintf(base, "")}, // same /24
				{"127.0.5.3", `{"host":"SHOP.example","category":"abuse","description":"  phishing PAGE for a bank ","evidence_urls":["https://e.example/1"]}`},
				{"127.0.5.4", fmt.Sprintf(base, `,"reporter_email":"x@y.example"`)},
			} {
				if got := api(v.from, v.body); got != first {
					t.Errorf("identical report %d: %s, want the same case %s", i, got, first)
				}
			}
			rows, count, rs := reportRows(t, d.store, "shop.example")
			if rows != 1 || count != 5 || rs[0].Repeats != 4 {
				t.Fatalf("5 identical reports: %d rows, case count %d, repeats %d; want 1 row, 5, 4", rows, count, rs[0].Repeats)
			}
			// Different network, description, evidence, category: new rows.
			api("127.0.6.1", fmt.Sprintf(base, ""))
			api("127.0.5.1", `{"host":"shop.example","category":"abuse","description":"Phishing page for a bank, second page","evidence_urls":["https://e.example/1"]}`)
			api("127.0.5.1", `{"host":"shop.example","category":"abuse","description":"Phishing page for a bank","evidence_urls":["https://e.example/2"]}`)
			if rows, count, _ := reportRows(t, d.store, "shop.example"); rows != 4 || count != 8 {
				t.Errorf("after 3 different reports: %d rows, count %d; want 4, 8", rows, count)
			}
			// The case page shows the repeats.
			code, body, _ := d.api(t, "GET", "/v1/cases/"+caseRe.FindString(first), token.Compliance, "")
			if code != 200 || !strings.Contains(body, `"repeats":4`) {
				t.Errorf("case timeline: %d %.400s", code, body)
			}
		})
	}
}

// TestReportSizes: oversize fields are 413 naming the field, bodies over
// 64 KiB 413, and only application/json is read by the API (no "simple"
// cross-site request: text/plain and form bodies are 415).
func TestReportSizes(t *testing.T) {
	o := newOrigin(t, "origin")
	d := startDeskWith(t, "", "  reports: {per_ip: {requests: 100, per: 1s, burst: 100}, per_network: {requests: 100, per: 1s, burst: 100}}", "",
		fmt.Sprintf("  - host: shop.example\n    origins: [%s]\n", o.URL))
	_, page := d.edge(t, "GET", "shop.example", compliance.ReportPath, "")
	tok := formToken(t, page)
	valid := `{"host":"shop.example","category":"abuse","description":"a report of fine size"}`
	tests := []struct {
		name, ctype string
		json        string
		form        url.Values
		want        int
		field       string
	}{
		{"description", "application/json", `{"host":"shop.example","category":"abuse","description":"` + strings.Repeat("é", compliance.MaxDescription+1) + `"}`,
			url.Values{"description": {strings.Repeat("é", compliance.MaxDescription+1)}}, 413, "description"},
		{"evidence count", "application/json", `{"host":"shop.example","category":"abuse","description":"a report of fine size","evidence_urls":[` + strings.TrimSuffix(strings.Repeat(`"https://e.example/",`, 11), ",") + `]}`,
			url.Values{"description": {"a report of fine size"}, "evidence_urls": {strings.Repeat("https://e.example/\n", 11)}}, 413, "evidence_urls"},
		{"evidence length", "application/json", `{"host":"shop.example","category":"abuse","description":"a report of fine size","evidence_urls":["https://e.example/` + strings.Repeat("a", 2100) + `"]}`,
			url.Values{"description": {"a report of fine size"}, "evidence_urls": {"https://e.example/" + strings.Repeat("a", 2100)}}, 413, "evidence_urls[0]"},
		{"email", "application/json", `{"host":"shop.example","category":"abuse","description":"a report of fine size","reporter_email":"` + strings.Repeat("a", 300) + `@x.example"}`,
			url.Values{"description": {"a report of fine size"}, "reporter_email": {strings.Repeat("a", 300) + "@x.example"}}, 413, "reporter_email"},
		{"host", "application/json", `{"host":"` + strings.Repeat("a.", 200) + `example","category":"abuse","description":"a report of fine size"}`,
			url.Values{"host": {strings.Repeat("a.", 200) + "example"}, "description": {"a report of fine size"}}, 413, "host"},
		{"body", "application/json", `{"host":"shop.example","category":"abuse","description":"` + strings.Repeat("a", 70<<10) + `"}`,
			url.Values{"description": {strings.Repeat("a", 70<<10)}}, 413, "bytes"},
		{"text/plain", "text/plain", valid, nil, 415, "application/json"},
		{"no content type", "", valid, nil, 415, "application/json"},
		{"form body to the API", "application/x-www-form-urlencoded", valid, nil, 415, "application/json"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := fmt.Sprintf("127.0.%d.1", 60+i)
			code, body, _ := post(t, boundClient(from), "http://"+d.Addrs().Admin+"/v1/reports", "", tt.ctype, tt.json, nil)
			if code != tt.want || !strings.Contains(body, tt.field) {
				t.Errorf("API: %d %.200s, want %d naming %s", code, body, tt.want, tt.field)
			}
			if tt.form == nil {
				return
			}
			f := tt.form
			f.Set("category", "abuse")
			f.Set("form_token", tok)
			code, body, _ = post(t, boundClient(from), d.url(compliance.ReportPath), "shop.example", "application/x-www-form-urlencoded", f.Encode(), nil)
			if code != tt.want || (tt.field != "bytes" && !strings.Contains(body, tt.field)) {
				t.Errorf("form: %d %.300s, want %d naming %s", code, body, tt.want, tt.field)
			}
		})
	}
	// The form refuses bodies other than a urlencoded form.
	if code, _, _ := post(t, client, d.url(compliance.ReportPath), "shop.example", "text/plain", "form_token="+tok, nil); code != 415 {
		t.Errorf("text/plain form body: %d, want 415", code)
	}
	if _, err := d.store.FindActiveCase(context.Background(), "shop.example", store.CategoryAbuse); err == nil {
		t.Error("a refused report opened a case")
	}
}

// TestReportSpoofedForwardedFor: a client that is not a trusted proxy
// cannot pick the address its reports are counted under by sending
// X-Forwarded-For, Forwarded or X-Real-IP: the per-IP limit (5 a minute,
// burst 5) still counts its own address.
func TestReportSpoofedForwardedFor(t *testing.T) {
	o := newOrigin(t, "origin")
	d := startDesk(t, "", fmt.Sprintf("  - host: shop.example\n    origins: [%s]\n", o.URL))
	_, page := d.edge(t, "GET", "shop.example", compliance.ReportPath, "")
	tok := formToken(t, page)
	c := boundClient("127.0.8.1")
	codes := map[int]int{}
	for i := range 30 {
		spoof := fmt.Sprintf("203.0.%d.%d", i, i+1)
		form := url.Values{"category": {"abuse"}, "form_token": {tok}, "description": {fmt.Sprintf("report %d with a forged client address", i)}}
		code, _, _ := post(t, c, d.url(compliance.ReportPath), "shop.example", "application/x-www-form-urlencoded", form.Encode(),
			map[string]string{"X-Forwarded-For": spoof, "Forwarded": "for=" + spoof, "X-Real-IP": spoof})
		codes[code]++
	}
	if codes[202] != 6 || codes[429] != 24 {
		t.Errorf("30 reports from one untrusted peer with forged client headers: %v, want 6 accepted", codes)
	}
}
