package challenge

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

func newTestChallenger(t testing.TB, c *clock) (*Challenger, string) {
	t.Helper()
	dir := t.TempDir()
	ch, err := New(Options{DataDir: dir, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return ch, dir
}

const ua = "Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0"

var (
	ip4      = netip.MustParseAddr("192.0.2.10")
	ip4Same  = netip.MustParseAddr("192.0.2.200")
	ip4Other = netip.MustParseAddr("192.0.3.10")
	ip6      = netip.MustParseAddr("2001:db8:1:2::10")
	ip6Same  = netip.MustParseAddr("2001:db8:1:2:ffff::1")
	ip6Other = netip.MustParseAddr("2001:db8:1:3::10")
)

func TestCookieVerify(t *testing.T) {
	t.Parallel()
	c := newClock()
	ch, _ := newTestChallenger(t, c)
	v4, err := ch.IssueClearance(ip4, ua, Scope{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	v6, _ := ch.IssueClearance(ip6, ua, Scope{}, 0)
	if len(v4) != cookieB64Len {
		t.Fatalf("cookie %q has length %d, want %d", v4, len(v4), cookieB64Len)
	}
	raw, _ := b64.DecodeString(v4)
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 1
		return b64.EncodeToString(b)
	}
	withKeyID := func(id uint32) string {
		b := append([]byte(nil), raw...)
		binary.BigEndian.PutUint32(b[1:5], id)
		return b64.EncodeToString(b)
	}
	now := c.Now()
	tests := []struct {
		name   string
		cookie string
		ip     netip.Addr
		ua     string
		at     time.Time
		want   bool
	}{
		{"valid", v4, ip4, ua, now, true},
		{"same /24", v4, ip4Same, ua, now, true},
		{"IPv4-mapped", v4, netip.AddrFrom16(ip4.As16()), ua, now, true},
		{"other /24", v4, ip4Other, ua, now, false},
		{"other user agent", v4, ip4, ua + "x", now, false},
		{"no user agent", v4, ip4, "", now, false},
		{"expired", v4, ip4, ua, now.Add(time.Hour), false},
		{"just before expiry", v4, ip4, ua, now.Add(time.Hour - time.Second), true},
		{"valid v6", v6, ip6, ua, now, true},
		{"same /64", v6, ip6Same, ua, now, true},
		{"other /64", v6, ip6Other, ua, now, false},
		{"v6 cookie from v4", v6, ip4, ua, now, false},
		{"tampered version", flip(0), ip4, ua, now, false},
		{"tampered key id", flip(4), ip4, ua, now, false},
		{"tampered expiry", flip(12), ip4, ua, now, false},
		{"tampered difficulty", flip(13), ip4, ua, now, false},
		{"tampered mac", flip(20), ip4, ua, now, false},
		{"unknown key id", withKeyID(99), ip4, ua, now, false},
		{"forged", b64.EncodeToString(append([]byte{1, 0, 0, 0, 1, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff}, make([]byte, 16)...)), ip4, ua, now, false},
		{"empty", "", ip4, ua, now, false},
		{"truncated", v4[:len(v4)-1], ip4, ua, now, false},
		{"padded", v4 + "=", ip4, ua, now, false},
		{"std base64", strings.NewReplacer("-", "+", "_", "/").Replace(v4) + "+", ip4, ua, now, false},
		{"invalid address", v4, netip.Addr{}, ua, now, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ch.Verify(tc.cookie, tc.ip, tc.ua, nil, tc.at); got != tc.want {
				t.Fatalf("Verify = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	c := newClock()
	ch, dir := newTestChallenger(t, c)
	old, _ := ch.IssueClearance(ip4, ua, Scope{}, 0)
	oldKey := ch.ring.Load().current
	if err := ch.Rotate(); err != nil {
		t.Fatal(err)
	}
	fresh, _ := ch.IssueClearance(ip4, ua, Scope{}, 0)
	if old[1:7] == fresh[1:7] {
		t.Fatalf("rotation did not change the key id: %q vs %q", old, fresh)
	}
	if !ch.Verify(old, ip4, ua, nil, c.Now()) || !ch.Verify(fresh, ip4, ua, nil, c.Now()) {
		t.Fatal("a cookie signed before or after the rotation is refused")
	}
	// A restarted node reads both keys from the file.
	ch2, err := New(Options{DataDir: dir, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if !ch2.Verify(old, ip4, ua, nil, c.Now()) || !ch2.Verify(fresh, ip4, ua, nil, c.Now()) {
		t.Fatal("after reload, a cookie signed before or after the rotation is refused")
	}
	// Automatic rotation: the next day a new key signs; the old cookie
	// has expired by then anyway, and its key is dropped after the grace.
	c.Add(25 * time.Hour)
	third, _ := ch.IssueClearance(ip4, ua, Scope{}, 0)
	if third[1:7] == fresh[1:7] {
		t.Fatal("no automatic rotation after 25h")
	}
	var f keyFile
	data, _ := os.ReadFile(filepath.Join(dir, "keys", "challenge.json"))
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Keys) != 2 {
		t.Fatalf("key file holds %d keys after the grace period, want 2 (the expired one dropped)", len(f.Keys))
	}
	c.Add(30 * time.Minute)
	if !ch.Verify(third, ip4, ua, nil, c.Now()) {
		t.Fatal("current cookie refused")
	}
	// A cookie whose key was rotated out is refused even if its own
	// expiry claims otherwise (the key is gone).
	if ch.Verify(fresh, ip4, ua, nil, c.Now()) {
		t.Fatal("expired cookie accepted")
	}
	if forged := issueCookie(oldKey, ip4, ua, &zeroScope, DefaultDifficulty, c.Now().Add(time.Hour)); ch.Verify(forged, ip4, ua, nil, c.Now()) {
		t.Fatal("cookie signed by a rotated-out key accepted")
	}
	if current := issueCookie(ch.ring.Load().current, ip4, ua, &zeroScope, DefaultDifficulty, c.Now().Add(time.Hour)); !ch.Verify(current, ip4, ua, nil, c.Now()) {
		t.Fatal("control: cookie signed by the current key refused")
	}
}

func TestKeyFile(t *testing.T) {
	t.Parallel()
	c := newClock()
	_, dir := newTestChallenger(t, c)
	path := filepath.Join(dir, "keys", "challenge.json")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	tests := []struct {
		name, content, wantErr string
	}{
		{"not json", "{", "challenge.json"},
		{"bad version", `{"version": 2, "keys": []}`, "version 2"},
		{"no keys", `{"version": 1, "keys": []}`, "no keys"},
		{"bad secret", `{"version": 1, "keys": [{"id": 1, "secret": "!!"}]}`, "keys[0] (id 1) field secret"},
		{"short secret", `{"version": 1, "keys": [{"id": 1, "secret": "AAAA"}]}`, "at least 16"},
		{"duplicate id", `{"version": 1, "keys": [{"id": 1, "secret": "AAAAAAAAAAAAAAAAAAAAAA=="}, {"id": 1, "secret": "AAAAAAAAAAAAAAAAAAAAAA=="}]}`, "appears twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := t.TempDir()
			os.MkdirAll(filepath.Join(d, "keys"), 0o700)
			p := filepath.Join(d, "keys", "challenge.json")
			os.WriteFile(p, []byte(tc.content), 0o600)
			_, err := New(Options{DataDir: d, Now: c.Now})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New with %s: %v, want an error containing %q", tc.name, err, tc.wantErr)
			}
			if got, _ := os.ReadFile(p); string(got) != tc.content {
				t.Fatal("a bad key file was overwritten")
			}
		})
	}
}

// server returns a test site protected by ch: the client address is the
// TCP peer, or X-Test-Client when set (to play other networks).
func server(t *testing.T, ch *Challenger, p *Policy) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client := netip.MustParseAddrPort(r.RemoteAddr).Addr()
		if h := r.Header.Get("X-Test-Client"); h != "" {
			client = netip.MustParseAddr(h)
		}
		if ch.Check(w, r, client, p).Handled() {
			return
		}
		fmt.Fprintf(w, "<html><head><title>Protected</title></head><body>protected content at %s</body></html>", r.URL.RequestURI())
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	ch, _ := newTestChallenger(t, newClock())
	ch.now = time.Now // the real server sets real cookies
	srv := server(t, ch, &Policy{Difficulty: 12})
	ctx := context.Background()

	resp, err := http.Get(srv.URL + "/page?q=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Cache-Control") != "no-store" ||
		!strings.Contains(string(body), "<noscript>") || strings.Contains(string(body), "protected content") {
		t.Fatalf("unchallenged request: %d %q\n%s", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
	for _, thirdParty := range []string{"src=\"http", "src=\"//", "href=\"http"} {
		if strings.Contains(string(body), thirdParty) {
			t.Fatalf("challenge page loads an outside asset (%s)", thirdParty)
		}
	}

	ck, err := EarnClearance(ctx, srv.Client(), srv.URL+"/page?q=1", ua)
	if err != nil || ck == nil {
		t.Fatalf("EarnClearance: %v %v", ck, err)
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
		t.Fatalf("cookie attributes: %+v", ck)
	}
	get := func(path, agent, client string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("User-Agent", agent)
		if client != "" {
			req.Header.Set("X-Test-Client", client)
		}
		req.AddCookie(ck)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/page?q=1", ua, ""); code != 200 || !strings.Contains(body, "protected content at /page?q=1") {
		t.Fatalf("with clearance: %d %s", code, body)
	}
	if code, _ := get("/page", ua, "198.51.100.7"); code != http.StatusForbidden {
		t.Fatalf("cookie replayed from another network: %d, want 403", code)
	}
	if code, _ := get("/page", "curl/8", ""); code != http.StatusForbidden {
		t.Fatalf("cookie with another User-Agent: %d, want 403", code)
	}
}

func TestVerifyEndpoint(t *testing.T) {
	t.Parallel()
	c := newClock()
	ch, _ := newTestChallenger(t, c)
	zone := ZoneScope("site.test")
	p := &Policy{Difficulty: 10, Scope: zone}
	solve := func(client netip.Addr, target string, scope Scope, bits int) (string, string) {
		tok, err := ch.IssueToken(client, target, scope, bits)
		if err != nil {
			t.Fatal(err)
		}
		n, err := Solve(tok)
		if err != nil {
			t.Fatal(err)
		}
		return tok, fmt.Sprint(n)
	}
	post := func(client netip.Addr, tok, counter string) *httptest.ResponseRecorder {
		form := url.Values{"token": {tok}, "counter": {counter}}
		r := httptest.NewRequest("POST", VerifyPath, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("User-Agent", ua)
		w := httptest.NewRecorder()
		ch.Check(w, r, client, p)
		return w
	}
	type sol struct{ tok, ctr string }
	fresh := func(client netip.Addr, target string, scope Scope, bits int) func() sol {
		return func() sol { tk, ct := solve(client, target, scope, bits); return sol{tk, ct} }
	}
	// spent is a solution already accepted once.
	spentTok, spentCtr := solve(ip4, "/s", zone, 10)
	if w := post(ip4, spentTok, spentCtr); w.Code != 303 {
		t.Fatalf("first use of a solution: %d, want 303", w.Code)
	}
	// another is a second counter that also solves the spent token.
	another, _ := ParseCounter(spentCtr)
	for another++; !CheckSolution(spentTok, another, 10); another++ {
	}
	wrongOf := func(tk, ct string) string {
		n, _ := ParseCounter(ct)
		for CheckSolution(tk, n, 10) {
			n++
		}
		return fmt.Sprint(n)
	}
	tampered := func() sol {
		tk, ct := solve(ip4, "/a?b=c", zone, 10)
		raw, _ := b64.DecodeString(tk)
		raw[tokenHead] = 'x' // tamper with the target
		return sol{b64.EncodeToString(raw), ct}
	}
	tests := []struct {
		name        string
		client      netip.Addr
		sol         func() sol
		advance     time.Duration
		wantCode    int
		wantCookie  bool
		wantRedirct string
	}{
		{"valid", ip4, fresh(ip4, "/a?b=c", zone, 10), 0, 303, true, "/a?b=c"},
		{"same /24", ip4Same, fresh(ip4, "/a?b=c", zone, 10), 0, 303, true, "/a?b=c"},
		{"harder than the zone", ip4, fresh(ip4, "/h", zone, 12), 0, 303, true, "/h"},
		{"late but before expiry", ip4, fresh(ip4, "/a?b=c", zone, 10), 4 * time.Minute, 303, true, "/a?b=c"},
		{"after expiry", ip4, fresh(ip4, "/a?b=c", zone, 10), 5 * time.Minute, 403, false, ""},
		{"replayed", ip4, func() sol { return sol{spentTok, spentCtr} }, 0, 403, false, ""},
		{"replayed from the same /24", ip4Same, func() sol { return sol{spentTok, spentCtr} }, 0, 403, false, ""},
		{"replayed with another counter", ip4, func() sol { return sol{spentTok, fmt.Sprint(another)} }, 0, 403, false, ""},
		{"other /24", ip4Other, fresh(ip4, "/a?b=c", zone, 10), 0, 403, false, ""},
		{"other zone's token", ip4, fresh(ip4, "/", ZoneScope("cheap.test"), 10), 0, 403, false, ""},
		{"shared domain's token", ip4, fresh(ip4, "/", DomainScope("site.test"), 10), 0, 403, false, ""},
		{"no zone's token", ip4, fresh(ip4, "/", Scope{}, 10), 0, 403, false, ""},
		{"wrong counter", ip4, func() sol { f := fresh(ip4, "/", zone, 10)(); return sol{f.tok, wrongOf(f.tok, f.ctr)} }, 0, 403, false, ""},
		{"bad counter", ip4, func() sol { f := fresh(ip4, "/", zone, 10)(); return sol{f.tok, "+" + f.ctr} }, 0, 403, false, ""},
		{"leading zero counter", ip4, func() sol { f := fresh(ip4, "/", zone, 10)(); return sol{f.tok, "0" + f.ctr} }, 0, 403, false, ""},
		{"tampered target", ip4, tampered, 0, 403, false, ""},
		{"below zone difficulty", ip4, fresh(ip4, "/", zone, 1), 0, 403, false, ""},
		{"garbage token", ip4, func() sol { return sol{"AAAA", "1"} }, 0, 403, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: the clock moves.
			s := tc.sol()
			c.Add(tc.advance)
			defer c.Add(-tc.advance)
			w := post(tc.client, s.tok, s.ctr)
			if w.Code != tc.wantCode {
				t.Fatalf("status %d, want %d", w.Code, tc.wantCode)
			}
			gotCookie := strings.Contains(w.Header().Get("Set-Cookie"), CookieName+"=")
			if gotCookie != tc.wantCookie {
				t.Fatalf("cookie set %v, want %v", gotCookie, tc.wantCookie)
			}
			if tc.wantRedirct != "" && w.Header().Get("Location") != tc.wantRedirct {
				t.Fatalf("Location %q, want %q", w.Header().Get("Location"), tc.wantRedirct)
			}
			if w.Code == 403 && w.Header().Get("Rampart-Challenge") != "1" {
				t.Fatal("a refused solution did not get a new challenge")
			}
			if tc.wantCookie {
				ck := (&http.Response{Header: w.Header()}).Cookies()[0]
				pt, _ := ParseToken(s.tok)
				cp := *p
				cp.Difficulty = pt.Difficulty
				if !ch.Verify(ck.Value, tc.client, ua, &cp, c.Now()) {
					t.Fatal("the clearance does not verify at the difficulty it was earned at")
				}
				cp.Difficulty++
				if ch.Verify(ck.Value, tc.client, ua, &cp, c.Now()) {
					t.Fatal("the clearance verifies above the difficulty it was earned at")
				}
			}
		})
	}
}

// TestClearanceScopeAndDifficulty: a clearance opens only its own scope,
// and only at the difficulty it was earned at or below.
func TestClearanceScopeAndDifficulty(t *testing.T) {
	t.Parallel()
	c := newClock()
	ch, _ := newTestChallenger(t, c)
	cheap := ZoneScope("cheap.test")
	shared := DomainScope("shared.test")
	v4, _ := ch.IssueClearance(ip4, ua, cheap, 4)
	v20, _ := ch.IssueClearance(ip4, ua, shared, 20)
	tests := []struct {
		name   string
		cookie string
		p      *Policy
		want   bool
	}{
		{"own zone, own difficulty", v4, &Policy{Scope: cheap, Difficulty: 4}, true},
		{"own zone, lower difficulty", v4, &Policy{Scope: cheap, Difficulty: 2}, true},
		{"own zone, difficulty raised", v4, &Policy{Scope: cheap, Difficulty: 5}, false},
		{"own zone, default difficulty", v4, &Policy{Scope: cheap}, false},
		{"other zone, same difficulty", v4, &Policy{Scope: ZoneScope("other.test"), Difficulty: 4}, false},
		{"other zone, difficulty 20", v4, &Policy{Scope: ZoneScope("hard.test"), Difficulty: 20}, false},
		{"zone name case", v4, &Policy{Scope: ZoneScope("CHEAP.test"), Difficulty: 4}, true},
		{"same name as a cookie domain", v4, &Policy{Scope: DomainScope("cheap.test"), Difficulty: 4}, false},
		{"no scope", v4, &Policy{Difficulty: 4}, false},
		{"nil policy", v4, nil, false},
		{"shared domain, lower difficulty", v20, &Policy{Scope: DomainScope(".Shared.test"), Difficulty: 8}, true},
		{"shared domain, higher difficulty", v20, &Policy{Scope: shared, Difficulty: 21}, false},
		{"zone named like the shared domain", v20, &Policy{Scope: ZoneScope("shared.test"), Difficulty: 8}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ch.Verify(tc.cookie, ip4, ua, tc.p, c.Now()); got != tc.want {
				t.Fatalf("Verify = %v, want %v", got, tc.want)
			}
		})
	}
	// Raising the difficulty byte under the MAC is refused whatever the
	// zone asks.
	raw, _ := b64.DecodeString(v4)
	raw[13] = 26
	forged := b64.EncodeToString(raw)
	for _, bits := range []int{1, 4, 26} {
		if ch.Verify(forged, ip4, ua, &Policy{Scope: cheap, Difficulty: bits}, c.Now()) {
			t.Fatalf("cookie with its difficulty raised to 26 accepted at %d", bits)
		}
	}
	raw[13] = MaxDifficulty + 1
	if _, ok := parseCookie(b64.EncodeToString(raw)); ok {
		t.Fatal("cookie with a difficulty above MaxDifficulty parsed")
	}
}

// TestHasClearanceCookieHeaders: the clearance is found however the
// Cookie header carries it, and bogus cookies cannot make the edge check
// more than maxClearanceTries.
func TestHasClearanceCookieHeaders(t *testing.T) {
	t.Parallel()
	c := newClock()
	ch, _ := newTestChallenger(t, c)
	ch.now = c.Now
	zone := ZoneScope("site.test")
	p := &Policy{Scope: zone, Difficulty: 8}
	good, _ := ch.IssueClearance(ip4, ua, zone, 8)
	other, _ := ch.IssueClearance(ip4, ua, ZoneScope("other.test"), 8)
	bogus := strings.Repeat(CookieName+"="+other+"; ", maxClearanceTries)
	tests := []struct {
		name    string
		headers []string
		want    bool
	}{
		{"alone", []string{CookieName + "=" + good}, true},
		{"among others", []string{"a=1; " + CookieName + "=" + good + "; b=2"}, true},
		{"no spaces", []string{"a=1;" + CookieName + "=" + good + ";b=2"}, true},
		{"quoted", []string{CookieName + `="` + good + `"`}, true},
		{"own field (HTTP/2 style)", []string{"a=1", CookieName + "=" + good}, true},
		{"after the other zone's", []string{CookieName + "=" + other + "; " + CookieName + "=" + good}, true},
		{"only the other zone's", []string{CookieName + "=" + other}, false},
		{"after too many bogus ones", []string{bogus + CookieName + "=" + good}, false},
		{"name prefix", []string{"x" + CookieName + "=" + good}, false},
		{"name suffix", []string{CookieName + "x=" + good}, false},
		{"no value", []string{CookieName}, false},
		{"percent-encoded", []string{CookieName + "=" + strings.ReplaceAll(good, "-", "%2D") + "%2D"}, false},
		{"none", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("User-Agent", ua)
			for _, h := range tc.headers {
				r.Header.Add("Cookie", h)
			}
			if got := ch.HasClearance(r, ip4, p); got != tc.want {
				t.Fatalf("HasClearance = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestVerifyAllocs: checking a clearance allocates nothing, alone or
// through the request's Cookie header.
func TestVerifyAllocs(t *testing.T) {
	c := newClock()
	ch, _ := newTestChallenger(t, c)
	ch.now = c.Now
	zone := ZoneScope("site.test")
	p := &Policy{Scope: zone, Difficulty: 8}
	v, _ := ch.IssueClearance(ip4, ua, zone, 8)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("User-Agent", ua)
	r.Header.Set("Cookie", "session=abc; "+CookieName+"="+v+"; theme=dark")
	now := c.Now()
	if n := testing.AllocsPerRun(200, func() {
		if !ch.Verify(v, ip4, ua, p, now) {
			t.Fatal("refused")
		}
	}); n != 0 {
		t.Fatalf("Verify allocates %.1f times per call, want 0", n)
	}
	if n := testing.AllocsPerRun(200, func() {
		if !ch.HasClearance(r, ip4, p) {
			t.Fatal("refused")
		}
	}); n != 0 {
		t.Fatalf("HasClearance allocates %.1f times per call, want 0", n)
	}
}

func TestExemptions(t *testing.T) {
	t.Parallel()
	ch, _ := newTestChallenger(t, newClock())
	p := &Policy{
		ExemptPaths: []string{"/api/"},
		ExemptCIDRs: []netip.Prefix{netip.MustParsePrefix("66.249.64.0/19")},
		Exempt:      func(r *http.Request, _ netip.Addr) bool { return r.Header.Get("X-Monitor") == "yes" },
	}
	tests := []struct {
		name, path, client, header string
		want                       Result
	}{
		{"api path", "/api/v1/items", "192.0.2.1", "", Passed},
		{"api lookalike", "/apix", "192.0.2.1", "", Challenged},
		{"crawler range", "/", "66.249.66.1", "", Passed},
		{"crawler range mapped", "/", "::ffff:66.249.66.1", "", Passed},
		{"outside range", "/", "66.249.96.1", "", Challenged},
		{"hook", "/", "192.0.2.1", "yes", Passed},
		{"verify path is never exempt", VerifyPath, "66.249.66.1", "", Rejected},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", tc.path, nil)
			if tc.header != "" {
				r.Header.Set("X-Monitor", tc.header)
			}
			w := httptest.NewRecorder()
			if got := ch.Check(w, r, netip.MustParseAddr(tc.client), p); got != tc.want {
				t.Fatalf("Check = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTokenTargets(t *testing.T) {
	t.Parallel()
	ch, _ := newTestChallenger(t, newClock())
	tests := []struct{ in, want string }{
		{"/x?y=1", "/x?y=1"},
		{"//evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"/" + strings.Repeat("a", MaxTarget), "/"},
	}
	for _, tc := range tests {
		tok, err := ch.IssueToken(ip4, tc.in, Scope{}, 1)
		if err != nil {
			t.Fatal(err)
		}
		pt, err := ParseToken(tok)
		if err != nil || pt.Target != tc.want {
			t.Fatalf("target %q: got %q %v, want %q", tc.in, pt.Target, err, tc.want)
		}
	}
}

func TestSolveMatchesCheck(t *testing.T) {
	t.Parallel()
	ch, _ := newTestChallenger(t, newClock())
	for bits := 0; bits <= 14; bits += 2 {
		tok, _ := ch.IssueToken(ip4, "/", Scope{}, bits)
		n, err := Solve(tok)
		if err != nil {
			t.Fatal(err)
		}
		want := bits
		if bits == 0 {
			want = DefaultDifficulty
		}
		if !CheckSolution(tok, n, want) {
			t.Fatalf("bits %d: Solve gave %d which does not check", bits, n)
		}
		if n > 0 && CheckSolution(tok, n-1, want) {
			t.Fatalf("bits %d: Solve did not return the smallest counter", bits)
		}
	}
}

func TestDecodeB64(t *testing.T) {
	t.Parallel()
	for n := 1; n < 40; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*37 + n)
		}
		s := b64.EncodeToString(b)
		got := make([]byte, n)
		if !decodeB64(got, s) || string(got) != string(b) {
			t.Fatalf("n=%d: decodeB64(%q) = %x", n, s, got)
		}
	}
}

func FuzzParseCookie(f *testing.F) {
	c := newClock()
	ch, _ := newTestChallenger(f, c)
	v, _ := ch.IssueClearance(ip4, ua, Scope{}, 0)
	f.Add(v)
	f.Add("")
	f.Add(strings.Repeat("A", cookieB64Len))
	f.Add(strings.Repeat("_", cookieB64Len))
	f.Fuzz(func(t *testing.T, s string) {
		pc, ok := parseCookie(s)
		if ok && b64.EncodeToString(pc.raw[:]) != s {
			t.Fatalf("parseCookie accepted non-canonical %q", s)
		}
		if ch.Verify(s, ip4, ua, nil, c.Now()) && s != v {
			t.Fatalf("Verify accepted a cookie that was never issued: %q", s)
		}
	})
}

func FuzzParseToken(f *testing.F) {
	c := newClock()
	ch, _ := newTestChallenger(f, c)
	tok, _ := ch.IssueToken(ip4, "/a?b", Scope{}, 8)
	f.Add(tok, "12")
	f.Add("", "")
	f.Add("AAAA", "0")
	f.Add(tok[:len(tok)-2], "18446744073709551616")
	f.Fuzz(func(t *testing.T, s, counter string) {
		pt, err := ParseToken(s)
		if err == nil {
			if !validTarget(pt.Target) {
				t.Fatalf("ParseToken accepted target %q", pt.Target)
			}
			if checkToken(ch.ring.Load(), pt, ip4, &zeroScope, c.Now()) && s != tok {
				t.Fatalf("forged token accepted: %q", s)
			}
		}
		n, err := ParseCounter(counter)
		if err == nil && fmt.Sprint(n) != counter {
			t.Fatalf("ParseCounter(%q) = %d: not the one spelling", counter, n)
		}
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", VerifyPath, strings.NewReader(url.Values{"token": {s}, "counter": {counter}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if res := ch.Check(w, r, ip4, &Policy{Difficulty: 8}); res == Verified && s != tok {
			t.Fatalf("verify endpoint admitted a forged token %q", s)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	c := newClock()
	ch, _ := newTestChallenger(b, c)
	zone := ZoneScope("www.example.org")
	p := &Policy{Scope: zone}
	v, _ := ch.IssueClearance(ip4, ua, zone, 0)
	now := c.Now()
	b.ReportAllocs()
	for b.Loop() {
		if !ch.Verify(v, ip4, ua, p, now) {
			b.Fatal("refused")
		}
	}
}

// BenchmarkHasClearance is what a request with a clearance costs the
// challenge phase: finding the cookie in the header and verifying it.
func BenchmarkHasClearance(b *testing.B) {
	c := newClock()
	ch, _ := newTestChallenger(b, c)
	ch.now = c.Now
	zone := ZoneScope("www.example.org")
	p := &Policy{Scope: zone}
	v, _ := ch.IssueClearance(ip4, ua, zone, 0)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("User-Agent", ua)
	r.Header.Set("Cookie", "session=abc123; theme=dark; "+CookieName+"="+v+"; other=x")
	b.ReportAllocs()
	for b.Loop() {
		if !ch.HasClearance(r, ip4, p) {
			b.Fatal("refused")
		}
	}
}

func BenchmarkCheckSolution(b *testing.B) {
	ch, _ := newTestChallenger(b, newClock())
	tok, _ := ch.IssueToken(ip4, "/some/page?x=1", Scope{}, 16)
	n, _ := Solve(tok)
	b.ReportAllocs()
	for b.Loop() {
		if !CheckSolution(tok, n, 16) {
			b.Fatal("refused")
		}
	}
}

func BenchmarkSolveDefault(b *testing.B) {
	ch, _ := newTestChallenger(b, newClock())
	for b.Loop() {
		tok, _ := ch.IssueToken(ip4, "/", Scope{}, DefaultDifficulty)
		if _, err := Solve(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChallengePage is the cost of answering one request without a
// clearance while a zone is under attack: a new signed token and the page.
func BenchmarkChallengePage(b *testing.B) {
	ch, _ := newTestChallenger(b, newClock())
	r := httptest.NewRequest("GET", "/some/page?x=1", nil)
	p := &Policy{}
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		if ch.Check(w, r, ip4, p) != Challenged {
			b.Fatal("not challenged")
		}
	}
}

// TestPageMatchesTemplate checks that the cut-and-splice page is exactly
// what the template renders for the same values.
func TestPageMatchesTemplate(t *testing.T) {
	t.Parallel()
	for _, bits := range []int{1, 18, 32} {
		tok := "AbC-_09" + strings.Repeat("x", bits)
		id := `id<&">`
		var want strings.Builder
		if err := pageTmpl.Execute(&want, pageData{Token: tok, Bits: bits, VerifyPath: VerifyPath, RequestID: id}); err != nil {
			t.Fatal(err)
		}
		var got strings.Builder
		p := pageFor(bits)
		n, err := p.render(&got, tok, id)
		if err != nil || got.String() != want.String() || n != got.Len() || p.length(tok, id) != n {
			t.Fatalf("bits %d: spliced page differs from the template (len %d/%d/%d)", bits, n, p.length(tok, id), want.Len())
		}
		if c := strings.Count(want.String(), tok); c != 3 {
			t.Fatalf("token appears %d times, want 3 (meta, form, script)", c)
		}
	}
}
