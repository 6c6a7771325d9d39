package app

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/token"
)

// TestDashboardSumsNodes (issue 15): two nodes on one PostgreSQL flush
// their traffic rollups to the store (one at its stop, the other on its
// 10 s ticker) and the dashboard of the node still running shows the
// sum, with the zone's origin health; a request node 1 blocked is among
// the security events of node 2, with its node.
func TestDashboardSumsNodes(t *testing.T) {
	pg := pgSchemaURL(t)
	o := newOrigin(t, "origin")
	zones := fmt.Sprintf("  - host: shop.example\n    origins: [%s]\n", o.URL)
	zones += fmt.Sprintf("  - host: closed.example\n    origins: [%s]\n    access: {deny: [\"127.0.0.0/8\", \"::1\"]}\n", o.URL)
	n1 := startDeskWith(t, pg, "", "cluster: {node_id: node-1}", zones)
	n2 := startDeskWith(t, pg, "", "cluster: {node_id: node-2}", zones)
	for range 5 {
		if resp, _ := n1.edge(t, "GET", "shop.example", "/", ""); resp.StatusCode != 200 {
			t.Fatalf("node 1: %d", resp.StatusCode)
		}
	}
	for range 3 {
		if resp, _ := n2.edge(t, "GET", "shop.example", "/", ""); resp.StatusCode != 200 {
			t.Fatalf("node 2: %d", resp.StatusCode)
		}
	}
	if resp, _ := n1.edge(t, "GET", "closed.example", "/admin.php?x=1", ""); resp.StatusCode != 403 {
		t.Fatalf("node 1, denied zone: %d", resp.StatusCode)
	}
	n1.stop(t) // its last flush

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := "http://" + n2.Addrs().Admin
	get := func(path string) (int, string) {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, body := get("/dashboard/signin")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("sign-in form: %.300s", body)
	}
	resp, err := c.PostForm(base+"/dashboard/signin", url.Values{"csrf": {m[1]}, "token": {n2.tokens[token.Read]}, "next": {"/dashboard/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	requests := regexp.MustCompile(`<dt>Requests</dt><dd>([0-9,]+)</dd>`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := get("/dashboard/traffic?zone=shop.example")
		got := requests.FindStringSubmatch(body)
		if code == 200 && got != nil && got[1] == "8" {
			if !strings.Contains(body, "Every node's traffic") || !strings.Contains(body, "Origins: 1, all up") {
				t.Fatalf("traffic page: %.2000s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node 2's dashboard shows %v requests, want 8 (5 on node 1, 3 on node 2): %d", got, code)
		}
		time.Sleep(500 * time.Millisecond)
	}
	code, body := get("/dashboard/events?zone=closed.example")
	if code != 200 || !strings.Contains(body, "Every node's events") || !strings.Contains(body, `<td class="nowrap">node-1</td>`) ||
		!strings.Contains(body, "/admin.php?x=1") || !strings.Contains(body, "access-deny") {
		t.Fatalf("node 2's events page lacks node 1's block: %d %.3000s", code, body)
	}
	code, body = get("/dashboard/events.json?zone=closed.example")
	if code != 200 || !strings.Contains(body, `"node": "node-1"`) || !strings.Contains(body, `"action": "waf_blocked"`) {
		t.Fatalf("node 2's export lacks node 1's block: %d %s", code, body)
	}
}
