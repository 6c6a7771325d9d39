package ratelimit

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampart-edge/rampart/internal/testenv"
)

// redisAddr is the real Redis the tests use: the ephemeral server testenv
// starts (or RAMPART_TEST_REDIS's). The tests fail (never skip) without it.
func redisAddr(tb testing.TB) string {
	tb.Helper()
	return testenv.Redis(tb)
}

func newRedisClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, DB: 0, DialTimeout: 200 * time.Millisecond,
		ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// liveRedis returns a client to the test Redis and a unique key prefix,
// and deletes the prefix's keys when the test ends.
func liveRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	c := newRedisClient(t, redisAddr(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("the Redis limiter tests need a real Redis at %s: %v", redisAddr(t), err)
	}
	var b [6]byte
	crand.Read(b[:])
	prefix := "rampart-test:" + t.Name() + ":" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := c.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return c, prefix
}

func TestRedisGCRADefinition(t *testing.T) {
	t.Parallel()
	for _, tc := range gcraCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			client, prefix := liveRedis(t)
			c := newClock()
			runSteps(t, NewRedis(client, RedisOptions{Prefix: prefix, Now: c.Now}), c, "k", tc.limit, tc.steps)
		})
	}
}

func TestRedisAllowAllAndExpiry(t *testing.T) {
	t.Parallel()
	client, prefix := liveRedis(t)
	lim := NewRedis(client, RedisOptions{Prefix: prefix}) // server clock
	ctx := context.Background()
	limits := []Limit{{Requests: 1, Per: time.Hour, Burst: 1}, {Requests: 100, Per: time.Second, Burst: 0}}
	r, err := lim.AllowAll(ctx, "k", limits)
	if err != nil || !r.Allowed {
		t.Fatalf("first: %+v %v", r, err)
	}
	// The per-second limit refuses the immediate second request, so the
	// per-hour budget must stay unspent.
	r, err = lim.AllowAll(ctx, "k", limits)
	if err != nil || r.Allowed || r.RetryAfter <= 0 || r.RetryAfter > 10*time.Millisecond {
		t.Fatalf("second: %+v %v, want refused with retry within 10ms", r, err)
	}
	time.Sleep(r.RetryAfter + 2*time.Millisecond)
	if r, err = lim.AllowAll(ctx, "k", limits); err != nil || !r.Allowed {
		t.Fatalf("third: %+v %v, want allowed (per-hour burst unspent)", r, err)
	}
	if r, err = lim.AllowAll(ctx, "k", limits); err != nil || r.Allowed {
		t.Fatalf("fourth: %+v %v, want refused", r, err)
	}
	keys, err := client.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys %v %v, want one per limit", keys, err)
	}
	for _, k := range keys {
		ttl := client.PTTL(ctx, k).Val()
		if ttl <= 0 || ttl > 2*time.Hour {
			t.Fatalf("key %s has ttl %s, want it to expire with its state", k, ttl)
		}
	}
	if _, err := lim.AllowAll(ctx, "k", nil); !errors.Is(err, ErrNoLimits) {
		t.Fatalf("empty limits: %v", err)
	}
	if _, err := lim.Allow(ctx, "k", Limit{Requests: 10_000_000, Per: time.Second}); err == nil {
		t.Fatal("sub-microsecond interval accepted")
	}
}

// TestRedisTwoNodesShareOneLimit runs two limiters on two clients, as two
// edge nodes would, hammering one key concurrently.
func TestRedisTwoNodesShareOneLimit(t *testing.T) {
	t.Parallel()
	c1, prefix := liveRedis(t)
	c2 := newRedisClient(t, redisAddr(t))
	nodes := []*Redis{NewRedis(c1, RedisOptions{Prefix: prefix}), NewRedis(c2, RedisOptions{Prefix: prefix})}
	l := Limit{Requests: 1, Per: time.Hour, Burst: 49} // 50 in total, then nothing for a long time
	var allowed [2]atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := nodes[g%2]
			for range 40 {
				r, err := node.Allow(context.Background(), "shared", l)
				if err != nil {
					t.Error(err)
					return
				}
				if r.Allowed {
					allowed[g%2].Add(1)
				}
			}
		}()
	}
	wg.Wait()
	a, b := allowed[0].Load(), allowed[1].Load()
	if a+b != 50 {
		t.Fatalf("nodes allowed %d + %d = %d requests, want exactly 50 between them", a, b, a+b)
	}
	if a == 0 || b == 0 {
		t.Fatalf("one node got nothing (%d, %d): the test did not exercise sharing", a, b)
	}
}

// switchProxy is a TCP forwarder on 127.0.0.1 that can be turned off
// (listener closed, live connections cut) and on again on the same port,
// to play a Redis that goes away and comes back.
type switchProxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	p := &switchProxy{t: t, target: target}
	p.up()
	t.Cleanup(p.down)
	return p
}

func (p *switchProxy) up() {
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly after down
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("listening on %s: %v", addr, err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
}

func (p *switchProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// logBuffer collects log output for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func TestFallbackClosedPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there now
	var logs logBuffer
	var states []bool
	var mu sync.Mutex
	f := NewFallback(NewRedis(newRedisClient(t, dead), RedisOptions{}), NewLocal(LocalOptions{}),
		slog.New(slog.NewTextHandler(&logs, nil)), func(d bool) { mu.Lock(); states = append(states, d); mu.Unlock() })
	l := Limit{Requests: 1, Per: time.Hour, Burst: 4}
	allowed := 0
	for range 20 {
		r, err := f.Allow(context.Background(), "k", l)
		if err != nil {
			t.Fatalf("fallback returned an error for a Redis failure: %v", err)
		}
		if r.Allowed {
			allowed++
		}
	}
	if allowed != 5 {
		t.Fatalf("degraded: %d of 20 allowed, want 5 (the local limiter must keep limiting, not fail open)", allowed)
	}
	if !f.Degraded() {
		t.Fatal("Degraded() = false with Redis down")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(states) != 1 || !states[0] {
		t.Fatalf("state callbacks %v, want one [true]", states)
	}
	if n := strings.Count(logs.String(), "rate limiter degraded"); n != 1 {
		t.Fatalf("degraded logged %d times, want once:\n%s", n, logs.String())
	}
	if _, err := f.Allow(context.Background(), "k", Limit{}); err == nil {
		t.Fatal("invalid limit accepted")
	}
}

func TestFallbackRecovers(t *testing.T) {
	t.Parallel()
	_, prefix := liveRedis(t)
	proxy := newSwitchProxy(t, redisAddr(t))
	var logs logBuffer
	var mu sync.Mutex
	var states []bool
	c := newClock()
	f := NewFallbackWithOptions(NewRedis(newRedisClient(t, proxy.addr), RedisOptions{Prefix: prefix}), NewLocal(LocalOptions{}),
		slog.New(slog.NewTextHandler(&logs, nil)), func(d bool) { mu.Lock(); states = append(states, d); mu.Unlock() },
		FallbackOptions{ProbeEvery: time.Second, Now: c.Now})
	l := Limit{Requests: 1000, Per: time.Hour, Burst: 1000} // keys live for seconds
	ctx := context.Background()
	allow := func() {
		t.Helper()
		if r, err := f.Allow(ctx, "k", l); err != nil || !r.Allowed {
			t.Fatalf("allow: %+v %v", r, err)
		}
	}
	allow()
	if f.Degraded() {
		t.Fatal("degraded while Redis is up")
	}
	proxy.down()
	for range 10 {
		allow()
	}
	if !f.Degraded() {
		t.Fatal("not degraded with Redis unreachable")
	}
	proxy.up()
	allow() // still within the probe interval: local, no recovery yet
	if !f.Degraded() {
		t.Fatal("recovered before the probe interval passed")
	}
	c.Add(1100 * time.Millisecond)
	allow()
	if f.Degraded() {
		t.Fatalf("still degraded after Redis came back and the probe interval passed; logs:\n%s", logs.String())
	}
	allow()
	mu.Lock()
	got := append([]bool(nil), states...)
	mu.Unlock()
	if len(got) != 2 || !got[0] || got[1] {
		t.Fatalf("state callbacks %v, want [true false]", got)
	}
	out := logs.String()
	if strings.Count(out, "rate limiter degraded") != 1 || strings.Count(out, "rate limiter recovered") != 1 {
		t.Fatalf("want one degraded and one recovered log line:\n%s", out)
	}
	n, err := newRedisClient(t, redisAddr(t)).Keys(ctx, prefix+"*").Result()
	if err != nil || len(n) != 1 {
		t.Fatalf("redis keys after recovery: %v %v, want the limiter's key", n, err)
	}
}

func BenchmarkRedisAllow(b *testing.B) {
	client, prefix := liveRedis(b)
	lim := NewRedis(client, RedisOptions{Prefix: prefix})
	l := Limit{Requests: 1_000_000, Per: time.Second, Burst: 1000}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := lim.Allow(ctx, "192.0.2.1", l); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRedisMatchesLocal runs one random arrival sequence through both
// backends with one clock: every decision and figure must agree.
func TestRedisMatchesLocal(t *testing.T) {
	t.Parallel()
	client, prefix := liveRedis(t)
	c := newClock()
	red := NewRedis(client, RedisOptions{Prefix: prefix, Now: c.Now})
	loc := NewLocal(LocalOptions{Now: c.Now})
	limits := []Limit{{Requests: 5, Per: time.Second, Burst: 3}, {Requests: 20, Per: time.Minute, Burst: 5}}
	rng := rand.New(rand.NewPCG(3, 4))
	ctx := context.Background()
	for i := range 300 {
		c.Add(time.Duration(rng.IntN(400_000)) * time.Microsecond)
		key := []string{"a", "b"}[rng.IntN(2)]
		ls := limits[:1+rng.IntN(2)]
		want, err := loc.AllowAll(ctx, key, ls)
		if err != nil {
			t.Fatal(err)
		}
		got, err := red.AllowAll(ctx, key, ls)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("call %d key %s limits %v: redis %+v, local %+v", i, key, ls, got, want)
		}
	}
}

func TestClientOptions(t *testing.T) {
	t.Parallel()
	o, err := ClientOptions("redis://" + redisAddr(t) + "/0")
	if err != nil {
		t.Fatal(err)
	}
	if o.ReadTimeout != 100*time.Millisecond || o.MaxRetries != -1 || o.DB != 0 {
		t.Fatalf("options %+v", o)
	}
	o2, err := ClientOptions("redis://" + redisAddr(t) + "/3?read_timeout=2s")
	if err != nil || o2.ReadTimeout != 2*time.Second || o2.DB != 3 {
		t.Fatalf("explicit read_timeout: %v %v", o2, err)
	}
	if _, err := ClientOptions("http://x"); err == nil {
		t.Fatal("bad scheme accepted")
	}
	c := redis.NewClient(o)
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("client from ClientOptions cannot reach %s: %v", redisAddr(t), err)
	}
}
