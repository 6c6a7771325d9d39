package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/geoip"
	"github.com/rampart-edge/rampart/internal/geoip/geoiptest"
	"github.com/rampart-edge/rampart/internal/rollup"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/postgres"
	"github.com/rampart-edge/rampart/internal/testenv"
	"github.com/rampart-edge/rampart/internal/token"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// pgNode is one node of a cluster on a shared PostgreSQL: its own store
// connection, rollups, flusher and dashboard.
type pgNode struct {
	db      store.Store
	traffic *rollup.Store
	flusher *rollup.Flusher
	srv     *httptest.Server
}

func newPGNode(t *testing.T, u, name string) *pgNode {
	t.Helper()
	db, err := postgres.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	n := &pgNode{db: db, traffic: rollup.New(0, 100)}
	n.flusher = &rollup.Flusher{Store: n.traffic, Sink: db, Node: name}
	d, err := New(Options{Tokens: &store.TokenStore{S: db}, Store: db, Traffic: n.traffic, TrafficSource: rollup.DB{R: db}})
	if err != nil {
		t.Fatal(err)
	}
	n.srv = httptest.NewServer(d)
	t.Cleanup(n.srv.Close)
	return n
}

// summaryRequests reads the Requests figure of a traffic page's summary.
var summaryRequests = regexp.MustCompile(`<dt>Requests</dt><dd>([0-9,]+)</dd>`)

// TestTwoNodesOnePostgres: two nodes flush their rollups to one
// PostgreSQL and the dashboard of either shows the sum of both; a session
// signed in on one node works on the other (a load balancer's cookie jar
// ignores ports, as it ignores nodes) and a sign-out on the other ends it
// on both.
func TestTwoNodesOnePostgres(t *testing.T) {
	u := testenv.Postgres(t)
	a := newPGNode(t, u, "node-a")
	b := newPGNode(t, u, "node-b")
	now := time.Now()
	for i := range 7 {
		a.traffic.Record(rollup.Request{Zone: "shop.example", Time: now.Add(-time.Duration(i) * time.Minute), Status: 200, Bytes: 100})
	}
	for i := range 11 {
		b.traffic.Record(rollup.Request{Zone: "shop.example", Time: now.Add(-time.Duration(i) * time.Minute), Status: 200, Bytes: 100})
	}
	b.traffic.Record(rollup.Request{Zone: "only-b.example", Time: now, Status: 451, Outcome: rollup.Legal})
	ctx := context.Background()
	for _, n := range []*pgNode{a, b} {
		if _, err := n.flusher.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	plain, _, err := (&store.TokenStore{S: a.db}).Create(token.Read, "two nodes")
	if err != nil {
		t.Fatal(err)
	}
	c := newClient()
	csrf := signIn(t, c, a.srv.URL, plain)

	for _, tc := range []struct {
		node *pgNode
		path string
		want string
	}{
		{a, "/dashboard/traffic?zone=shop.example", "18"},
		{b, "/dashboard/traffic?zone=shop.example", "18"},
		{b, "/dashboard/traffic?zone=shop.example&range=day", "18"},
		{a, "/dashboard/traffic", "19"},
	} {
		code, body, _ := get(t, c, tc.node.srv.URL+tc.path)
		m := summaryRequests.FindStringSubmatch(body)
		if code != 200 || m == nil || m[1] != tc.want {
			t.Fatalf("%s on %s: %d, requests %v, want %s: %.500s", tc.path, tc.node.flusher.Node, code, m, tc.want, body)
		}
		if !strings.Contains(body, "Every node's traffic") {
			t.Fatalf("%s does not say it shows every node", tc.path)
		}
	}
	_, body, _ := get(t, c, a.srv.URL+"/dashboard/traffic")
	if !strings.Contains(body, "only-b.example") {
		t.Fatal("node a's all-zones table lacks the zone only node b served")
	}
	// More traffic on a: seen by b after a's next flush.
	a.traffic.Record(rollup.Request{Zone: "shop.example", Time: now, Status: 200})
	if _, err := a.flusher.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_, body, _ = get(t, c, b.srv.URL+"/dashboard/traffic?zone=shop.example")
	if m := summaryRequests.FindStringSubmatch(body); m == nil || m[1] != "19" {
		t.Fatalf("after a's second flush, b shows %v requests, want 19", m)
	}

	// Sign out on b ends the session on a as well.
	if code, _, _ := postForm(t, c, b.srv.URL+"/dashboard/signout", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther {
		t.Fatalf("sign-out on b: %d", code)
	}
	for _, n := range []*pgNode{a, b} {
		if code, _, h := get(t, c, n.srv.URL+"/dashboard/traffic"); code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "signin") {
			t.Fatalf("%s after sign-out: %d %s", n.flusher.Node, code, h.Get("Location"))
		}
	}
}

// TestSharedSessionStoresOnlyTheHash: the store keeps the SHA-256 of the
// session cookie and the token's id, never the cookie nor the token.
func TestSharedSessionStoresOnlyTheHash(t *testing.T) {
	r := newRig(t)
	c := newClient()
	signIn(t, c, r.srv.URL, r.tokens[token.Read])
	u, _ := url.Parse(r.srv.URL + "/dashboard/")
	var cookie string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			cookie = ck.Value
		}
	}
	rec, err := r.db.GetSession(context.Background(), hashOf(cookie))
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := r.store.Verify(r.tokens[token.Read])
	if rec.TokenID != tok.ID || rec.Hash == cookie || !rec.Revoked.IsZero() || rec.Expires.Sub(rec.Created) != 12*time.Hour {
		t.Fatalf("stored session %+v", rec)
	}
}

// TestMemorySessions: without a store, sessions live in the node's
// memory: sign-in works and sign-out ends the session.
func TestMemorySessions(t *testing.T) {
	toks := token.NewMemory()
	plain, _, _ := toks.Create(token.Read, "memory")
	d, err := New(Options{Tokens: toks, Traffic: rollup.New(0, 10)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	defer srv.Close()
	c := newClient()
	csrf := signIn(t, c, srv.URL, plain)
	if code, body, _ := get(t, c, srv.URL+"/dashboard/traffic"); code != 200 || !strings.Contains(body, "This node's traffic") {
		t.Fatalf("traffic: %d %.300s", code, body)
	}
	if code, _, _ := postForm(t, c, srv.URL+"/dashboard/signout", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", code)
	}
	if code, _, _ := get(t, c, srv.URL+"/dashboard/traffic"); code != http.StatusSeeOther {
		t.Fatalf("after sign-out: %d", code)
	}
}

// TestEventsCountryASN: with GeoIP databases the sampled events carry
// the client's country and ASN; the events page shows and filters by
// them, the JSON export has them, and the filter gives the matching
// access rule; bad filter fields are a 400 naming the field.
func TestEventsCountryASN(t *testing.T) {
	path := filepath.Join(t.TempDir(), "geo.mmdb")
	if err := geoiptest.Write(path, []geoiptest.Entry{
		{Network: netip.MustParsePrefix("203.0.113.0/24"), Country: "FR", ASN: 64500, Org: "Example FR"},
		{Network: netip.MustParsePrefix("2001:db8::/32"), Country: "DE", ASN: 64501},
	}); err != nil {
		t.Fatal(err)
	}
	geo, err := geoip.Open(path, path)
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t)
	r.trf.SetGeo(geo)
	now := time.Now()
	for i, ip := range []string{"203.0.113.5", "203.0.113.6", "2001:db8::9"} {
		r.trf.RecordEvent(rollup.Event{Time: now.Add(time.Duration(i) * time.Second), Zone: "shop.example", Action: "waf_blocked", RuleID: "942100",
			ClientIP: ip, Method: "GET", Path: "/x", Status: 403})
	}
	c := newClient()
	signIn(t, c, r.srv.URL, r.tokens[token.Read])
	tests := []struct {
		query    string
		code     int
		want     []string
		wantNot  []string
		wantJSON int // events in the export
	}{
		{"country=fr", 200, []string{"203.0.113.5", "203.0.113.6", `country:FR`, `{&#34;access&#34;:{&#34;deny&#34;:[&#34;country:FR&#34;]}}`}, []string{"2001:db8::9"}, 2},
		{"asn=AS64501", 200, []string{"2001:db8::9", "asn:64501", "AS64501", ">DE<"}, []string{"203.0.113.5"}, 1},
		{"asn=64500&country=FR", 200, []string{"asn:64500", "most specific"}, []string{"2001:db8::9"}, 2},
		{"ip=203.0.113.6&asn=64500", 200, []string{`- &#34;203.0.113.6&#34;`}, []string{"203.0.113.5<"}, 1},
		{"asn=64502", 200, []string{"No security event matches", "asn:64502"}, nil, 0},
		{"country=France", 400, []string{"two-letter"}, nil, -1},
		{"asn=ASX", 400, []string{"autonomous system number"}, nil, -1},
		{"ip=not-an-ip", 400, []string{"not an IP address"}, nil, -1},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			code, body, _ := get(t, c, r.srv.URL+"/dashboard/events?"+tc.query)
			if code != tc.code {
				t.Fatalf("%d, want %d: %.500s", code, tc.code, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
			code, body, _ = get(t, c, r.srv.URL+"/dashboard/events.json?"+tc.query)
			if tc.wantJSON < 0 {
				if code != 400 {
					t.Fatalf("events.json: %d", code)
				}
				return
			}
			var ex struct{ Events []map[string]any }
			if err := json.Unmarshal([]byte(body), &ex); err != nil || len(ex.Events) != tc.wantJSON {
				t.Fatalf("events.json: %v, %d events, want %d: %.300s", err, len(ex.Events), tc.wantJSON, body)
			}
			for _, ev := range ex.Events {
				if ev["country"] == nil || ev["asn"] == nil {
					t.Fatalf("exported event without country or asn: %v", ev)
				}
			}
		})
	}
}

// TestOriginHealthPages: the zone pages list each origin's state, last
// check and last error; the all-zones pages count the unhealthy ones.
func TestOriginHealthPages(t *testing.T) {
	r := newRig(t)
	s := seed(t, r)
	checked := time.Date(2026, 12, 7, 12, 0, 5, 0, time.UTC)
	r.d.opts.Origins = func() []OriginHealth {
		return []OriginHealth{
			{Zone: "shop.example", Origin: "http://127.0.0.1:9", Healthy: false, LastCheck: checked, LastError: "dial tcp 127.0.0.1:9: connection refused"},
			{Zone: "shop.example", Origin: "http://127.0.0.1:10", Healthy: true, LastCheck: checked},
			{Zone: "other.example", Origin: "http://127.0.0.1:11", Healthy: true},
		}
	}
	c := newClient()
	signIn(t, c, r.srv.URL, r.tokens[token.Read])
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/dashboard/traffic?zone=shop.example", []string{"Origins: 2, 1 down", "http://127.0.0.1:10", "connection refused", "2026-12-07 12:00:05 UTC", `badge bad">down`, `badge good">up`}},
		{"/dashboard/zones/" + s.zone, []string{"Origins: 2, 1 down", "connection refused"}},
		{"/dashboard/traffic", []string{"1 of 3 origins down", "http://127.0.0.1:9"}},
		{"/dashboard/", []string{"1 of 3 origins down", "connection refused"}},
		{"/dashboard/traffic?zone=other.example", []string{"Origins: 1, all up", "no active check"}},
	} {
		code, body, _ := get(t, c, r.srv.URL+tc.path)
		if code != 200 {
			t.Fatalf("%s: %d", tc.path, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", tc.path, w)
			}
		}
	}
}

// TestSharedSessionExpiry: a shared session ends after its idle time
// without requests and after its whole life however busy; its seen time
// is written at most once a minute.
func TestSharedSessionExpiry(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	ds := &dbSessions{st: r.db, idle: time.Hour, max: 3 * time.Hour}
	tok, _ := r.store.Verify(r.tokens[token.Read])
	t0 := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	id, err := ds.create(ctx, "", tok, t0)
	if err != nil {
		t.Fatal(err)
	}
	seen := func() time.Time {
		rec, err := r.db.GetSession(ctx, hashOf(id))
		if err != nil {
			t.Fatal(err)
		}
		return rec.Seen
	}
	for _, tc := range []struct {
		at       time.Duration
		live     bool
		wantSeen time.Duration
	}{
		{30 * time.Second, true, 0},                // not written: under a minute
		{50 * time.Minute, true, 50 * time.Minute}, // written
		{50*time.Minute + 20*time.Second, true, 50 * time.Minute},
		{100 * time.Minute, true, 100 * time.Minute}, // idle 50 min: alive
		{150 * time.Minute, true, 150 * time.Minute},
		{3*time.Hour + time.Second, false, 150 * time.Minute}, // past its life
	} {
		s, err := ds.get(ctx, id, t0.Add(tc.at))
		if err != nil || (s != nil) != tc.live {
			t.Fatalf("at +%s: session %v, %v; want live %v", tc.at, s, err, tc.live)
		}
		if s != nil && (s.tokID != tok.ID || s.csrf != csrfOf(id)) {
			t.Fatalf("at +%s: session %+v", tc.at, s)
		}
		if got := seen(); !got.Equal(t0.Add(tc.wantSeen)) {
			t.Fatalf("at +%s: seen %s, want +%s", tc.at, got, tc.wantSeen)
		}
	}
	id2, _ := ds.create(ctx, "", tok, t0)
	if s, _ := ds.get(ctx, id2, t0.Add(61*time.Minute)); s != nil {
		t.Fatal("a session idle for 61 minutes still lives")
	}
	if s, _ := ds.get(ctx, "no such cookie", t0); s != nil {
		t.Fatal("an unknown cookie has a session")
	}
}
