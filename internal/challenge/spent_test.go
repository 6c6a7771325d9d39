package challenge

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampart-edge/rampart/internal/testenv"
)

func nonce(i byte) (n [16]byte) {
	n[0], n[15] = i, i
	return n
}

func TestSpentSet(t *testing.T) {
	t.Parallel()
	s := newSpentSet(5*time.Minute, 3) // buckets of 37 s
	const now = 1_000_000
	steps := []struct {
		name      string
		id        byte
		exp, now  int64
		wantFirst bool
		wantFull  bool
		wantLen   int
	}{
		{"first use", 1, now + 300, now, true, false, 1},
		{"replay", 1, now + 300, now + 10, false, false, 1},
		{"second id", 2, now + 200, now + 10, true, false, 2},
		{"third id", 3, now + 100, now + 10, true, false, 3},
		{"full: refused, not forgotten", 4, now + 300, now + 20, false, true, 3},
		{"replay while full", 2, now + 200, now + 20, false, false, 3},
		{"the earliest bucket has expired", 4, now + 300, now + 111 + 37, true, false, 3},
		{"replay of a kept id after the sweep", 1, now + 300, now + 150, false, false, 3},
		{"all expired", 5, now + 700, now + 400, true, false, 1},
	}
	for _, st := range steps {
		first, err := s.spend(nonce(st.id), st.exp, st.now)
		if first != st.wantFirst || (err == errSpentFull) != st.wantFull || s.len() != st.wantLen {
			t.Fatalf("%s: first %v, err %v, len %d; want %v, full %v, len %d", st.name, first, err, s.len(), st.wantFirst, st.wantFull, st.wantLen)
		}
	}
}

// verifyPost posts a solution to ch's verify endpoint for the zone p.
func verifyPost(ch *Challenger, p *Policy, client netip.Addr, tok, counter string) *httptest.ResponseRecorder {
	form := url.Values{"token": {tok}, "counter": {counter}}
	r := httptest.NewRequest("POST", VerifyPath, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("User-Agent", ua)
	w := httptest.NewRecorder()
	ch.Check(w, r, client, p)
	return w
}

func solved(t *testing.T, ch *Challenger, p *Policy) (string, string) {
	t.Helper()
	tok, err := ch.IssueToken(ip4, "/x", p.Scope, p.Difficulty)
	if err != nil {
		t.Fatal(err)
	}
	n, err := Solve(tok)
	if err != nil {
		t.Fatal(err)
	}
	return tok, fmt.Sprint(n)
}

// TestSpentSetFullFailsClosed: with the spent set full, a correct new
// solution gets a 503 and no clearance (never an eviction that would
// re-open a spent solution), until challenges expire.
func TestSpentSetFullFailsClosed(t *testing.T) {
	t.Parallel()
	c := newClock()
	ch, err := New(Options{DataDir: t.TempDir(), Now: c.Now, MaxSpent: 2})
	if err != nil {
		t.Fatal(err)
	}
	p := &Policy{Scope: ZoneScope("site.test"), Difficulty: 6}
	t1, c1 := solved(t, ch, p)
	t2, c2 := solved(t, ch, p)
	t3, c3 := solved(t, ch, p)
	for i, s := range [][2]string{{t1, c1}, {t2, c2}} {
		if w := verifyPost(ch, p, ip4, s[0], s[1]); w.Code != 303 {
			t.Fatalf("solution %d: %d, want 303", i+1, w.Code)
		}
	}
	w := verifyPost(ch, p, ip4, t3, c3)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || strings.Contains(w.Header().Get("Set-Cookie"), CookieName) {
		t.Fatalf("solution with the set full: %d Retry-After %q Set-Cookie %q, want 503 with Retry-After and no cookie",
			w.Code, w.Header().Get("Retry-After"), w.Header().Get("Set-Cookie"))
	}
	if w := verifyPost(ch, p, ip4, t1, c1); w.Code != 403 {
		t.Fatalf("replay with the set full: %d, want 403", w.Code)
	}
	c.Add(6 * time.Minute) // every challenge issued so far has expired
	t4, c4 := solved(t, ch, p)
	if w := verifyPost(ch, p, ip4, t4, c4); w.Code != 303 {
		t.Fatalf("new solution after the spent challenges expired: %d, want 303", w.Code)
	}
}

// TestRedisSpent: nodes sharing cluster.redis accept a solution once in
// the whole cluster; while Redis is unreachable each node still refuses
// replays to itself.
func TestRedisSpent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := newClock()
	rc := redis.NewClient(&redis.Options{Addr: testenv.Redis(t), DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
	t.Cleanup(func() { rc.Close() })
	shared := NewRedisSpent(rc)
	node := func(s SharedSpent, logs *syncBuffer) *Challenger {
		var l *slog.Logger
		if logs != nil {
			l = slog.New(slog.NewTextHandler(logs, nil))
		}
		ch, err := New(Options{DataDir: dir, Now: c.Now, Shared: s, Logger: l}) // one key file: one cluster
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	a, b := node(shared, nil), node(shared, nil)
	p := &Policy{Scope: ZoneScope("site.test"), Difficulty: 6}

	tok, ctr := solved(t, a, p)
	if w := verifyPost(a, p, ip4, tok, ctr); w.Code != 303 {
		t.Fatalf("node A, first use: %d, want 303", w.Code)
	}
	if w := verifyPost(b, p, ip4, tok, ctr); w.Code != 403 || strings.Contains(w.Header().Get("Set-Cookie"), CookieName) {
		t.Fatalf("node B, replay of A's solution: %d, want 403 and no cookie", w.Code)
	}
	pt, _ := ParseToken(tok)
	key := "rampart:challenge:spent:" + fmt.Sprintf("%x", pt.Nonce)
	ttl, err := rc.TTL(context.Background(), key).Result()
	if err != nil || ttl <= 0 || ttl > 5*time.Minute {
		t.Fatalf("redis key %s has TTL %v (%v), want until the challenge's expiry", key, ttl, err)
	}

	// Redis down: a client to a port where nothing listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	ln.Close()
	dead := redis.NewClient(&redis.Options{Addr: deadAddr, DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	var logs syncBuffer
	d := node(NewRedisSpent(dead), &logs)
	tok2, ctr2 := solved(t, d, p)
	if w := verifyPost(d, p, ip4, tok2, ctr2); w.Code != 303 {
		t.Fatalf("redis down, first use: %d, want 303 (the node's own record decides)", w.Code)
	}
	if w := verifyPost(d, p, ip4, tok2, ctr2); w.Code != 403 {
		t.Fatalf("redis down, replay on the same node: %d, want 403", w.Code)
	}
	if n := strings.Count(logs.String(), "challenge replay record degraded"); n != 1 {
		t.Fatalf("degraded logged %d times, want once:\n%s", n, logs.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// BenchmarkSpentSetFill fills a default spent set (DefaultMaxSpent ids);
// with -benchmem it shows the set's memory when full.
func BenchmarkSpentSetFill(b *testing.B) {
	for b.Loop() {
		s := newSpentSet(5*time.Minute, DefaultMaxSpent)
		var n [16]byte
		for i := 0; i < DefaultMaxSpent; i++ {
			rand.Read(n[:8])
			if _, err := s.spend(n, 1_000_300-int64(i%300), 1_000_000); err != nil {
				b.Fatal(err)
			}
		}
	}
}
