package ratelimit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time                      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Set(base time.Time, d time.Duration) { c.ns.Store(base.Add(d).UnixNano()) }
func (c *clock) Add(d time.Duration)                 { c.ns.Add(int64(d)) }

type step struct {
	at        time.Duration // since the start
	allowed   bool
	retry     time.Duration
	remaining int
	reset     time.Duration
}

// gcraCases are worked out by hand from the definition: T = per/requests,
// tau = T*burst, allow when now >= TAT - tau, then TAT = max(now, TAT) + T.
var gcraCases = []struct {
	name  string
	limit Limit
	steps []step
}{
	{
		name:  "1 per second, burst 2",
		limit: Limit{Requests: 1, Per: time.Second, Burst: 2},
		steps: []step{
			{at: 0, allowed: true, remaining: 2, reset: 1 * time.Second}, // TAT 1
			{at: 0, allowed: true, remaining: 1, reset: 2 * time.Second}, // TAT 2
			{at: 0, allowed: true, remaining: 0, reset: 3 * time.Second}, // TAT 3
			{at: 0, allowed: false, retry: time.Second, reset: 3 * time.Second},
			{at: 500 * time.Millisecond, allowed: false, retry: 500 * time.Millisecond, reset: 2500 * time.Millisecond},
			{at: time.Second, allowed: true, remaining: 0, reset: 3 * time.Second}, // TAT 4
			{at: time.Second, allowed: false, retry: time.Second, reset: 3 * time.Second},
			{at: 10 * time.Second, allowed: true, remaining: 2, reset: time.Second}, // TAT 11
		},
	},
	{
		name:  "10 per second, no burst",
		limit: Limit{Requests: 10, Per: time.Second},
		steps: []step{
			{at: 0, allowed: true, reset: 100 * time.Millisecond},
			{at: 50 * time.Millisecond, allowed: false, retry: 50 * time.Millisecond, reset: 50 * time.Millisecond},
			{at: 100 * time.Millisecond, allowed: true, reset: 100 * time.Millisecond},
			{at: 150 * time.Millisecond, allowed: false, retry: 50 * time.Millisecond, reset: 50 * time.Millisecond},
			{at: 250 * time.Millisecond, allowed: true, reset: 100 * time.Millisecond}, // TAT max(250,200)+100
			{at: 300 * time.Millisecond, allowed: false, retry: 50 * time.Millisecond, reset: 50 * time.Millisecond},
			{at: 350 * time.Millisecond, allowed: true, reset: 100 * time.Millisecond},
		},
	},
	{
		name:  "60 per minute, burst 3",
		limit: Limit{Requests: 60, Per: time.Minute, Burst: 3},
		steps: []step{
			{at: 0, allowed: true, remaining: 3, reset: time.Second},
			{at: 0, allowed: true, remaining: 2, reset: 2 * time.Second},
			{at: 0, allowed: true, remaining: 1, reset: 3 * time.Second},
			{at: 0, allowed: true, remaining: 0, reset: 4 * time.Second},
			{at: 0, allowed: false, retry: time.Second, reset: 4 * time.Second},
			{at: 2500 * time.Millisecond, allowed: true, remaining: 1, reset: 2500 * time.Millisecond}, // TAT 5s; allowAt 2s; (2.5-2)/1 + 1
			{at: 2500 * time.Millisecond, allowed: true, remaining: 0, reset: 3500 * time.Millisecond},
			{at: 2500 * time.Millisecond, allowed: false, retry: 500 * time.Millisecond, reset: 3500 * time.Millisecond},
		},
	},
}

func runSteps(t *testing.T, lim Limiter, c *clock, key string, l Limit, steps []step) {
	t.Helper()
	base := c.Now()
	for i, s := range steps {
		c.Set(base, s.at)
		r, err := lim.Allow(context.Background(), key, l)
		if err != nil {
			t.Fatalf("step %d at %s: %v", i, s.at, err)
		}
		want := Result{Allowed: s.allowed, Remaining: s.remaining, RetryAfter: s.retry, ResetAfter: s.reset}
		if r != want {
			t.Fatalf("step %d at %s: got %+v, want %+v", i, s.at, r, want)
		}
	}
}

func TestGCRADefinition(t *testing.T) {
	t.Parallel()
	for _, tc := range gcraCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			runSteps(t, NewLocal(LocalOptions{Now: c.Now}), c, "k", tc.limit, tc.steps)
		})
	}
}

// reference is GCRA written as literally as possible from its definition.
type reference struct{ tat map[string]time.Time }

func (r *reference) allow(now time.Time, key string, l Limit) bool {
	T := l.Per / time.Duration(l.Requests)
	tau := T * time.Duration(l.Burst)
	tat, ok := r.tat[key]
	if !ok {
		tat = now
	}
	if now.Before(tat.Add(-tau)) {
		return false
	}
	if now.After(tat) {
		tat = now
	}
	r.tat[key] = tat.Add(T)
	return true
}

func TestGCRAMatchesReference(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		l := Limit{Requests: 1 + rng.IntN(20), Per: time.Duration(1+rng.IntN(5)) * time.Second, Burst: rng.IntN(5)}
		t.Run(fmt.Sprint(trial), func(t *testing.T) {
			c := newClock()
			lim := NewLocal(LocalOptions{Now: c.Now})
			ref := &reference{tat: map[string]time.Time{}}
			for i := range 300 {
				c.Add(time.Duration(rng.IntN(int(l.Per / time.Duration(l.Requests) * 2))))
				key := fmt.Sprint(rng.IntN(3))
				got, err := lim.Allow(context.Background(), key, l)
				if err != nil {
					t.Fatal(err)
				}
				if want := ref.allow(c.Now(), key, l); got.Allowed != want {
					t.Fatalf("limit %+v call %d key %s: allowed %v, reference says %v", l, i, key, got.Allowed, want)
				}
			}
		})
	}
}

func TestAllowAllCountsOnlyWhenAllAllow(t *testing.T) {
	t.Parallel()
	c := newClock()
	lim := NewLocal(LocalOptions{Now: c.Now})
	perSecond := Limit{Requests: 2, Per: time.Second, Burst: 0} // one every 500ms
	perMinute := Limit{Requests: 3, Per: time.Minute, Burst: 2} // 3 at once, then one every 20s
	limits := []Limit{perSecond, perMinute}
	ctx := context.Background()
	var allowed []bool
	for _, at := range []time.Duration{0, 100, 600, 700, 1200, 1800, 2400} {
		c.Set(time.Unix(0, 0), at*time.Millisecond)
		r, err := lim.AllowAll(ctx, "k", limits)
		if err != nil {
			t.Fatal(err)
		}
		allowed = append(allowed, r.Allowed)
	}
	// 0 ok; 100 per-second refuses (and must not spend per-minute budget);
	// 600 ok; 700 per-second refuses; 1200 ok (3rd of the minute); 1800 and
	// 2400 per-minute refuses.
	want := []bool{true, false, true, false, true, false, false}
	if fmt.Sprint(allowed) != fmt.Sprint(want) {
		t.Fatalf("allowed %v, want %v", allowed, want)
	}
	if _, err := lim.AllowAll(ctx, "k", nil); err != ErrNoLimits {
		t.Fatalf("empty limits: got %v, want ErrNoLimits", err)
	}
}

func TestLimitValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		l    Limit
		ok   bool
	}{
		{"valid", Limit{Requests: 100, Per: time.Second, Burst: 200}, true},
		{"zero requests", Limit{Requests: 0, Per: time.Second}, false},
		{"zero per", Limit{Requests: 1}, false},
		{"negative burst", Limit{Requests: 1, Per: time.Second, Burst: -1}, false},
		{"sub-nanosecond", Limit{Requests: 2e9, Per: time.Second}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.l.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate(%+v) = %v, want ok=%v", tc.l, err, tc.ok)
			}
			_, err = NewLocal(LocalOptions{}).Allow(context.Background(), "k", tc.l)
			if (err == nil) != tc.ok {
				t.Fatalf("Allow with %+v: err %v, want ok=%v", tc.l, err, tc.ok)
			}
		})
	}
}

func TestLocalConcurrent(t *testing.T) {
	t.Parallel()
	c := newClock() // frozen: only the burst can pass
	lim := NewLocal(LocalOptions{Now: c.Now, Shards: 4})
	l := Limit{Requests: 1, Per: time.Hour, Burst: 99}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				key := "shared"
				if i%2 == 1 {
					key = fmt.Sprint("own-", g, "-", i%10)
				}
				r, err := lim.Allow(context.Background(), key, l)
				if err != nil {
					t.Error(err)
					return
				}
				if r.Allowed && key == "shared" {
					allowed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != 100 {
		t.Fatalf("shared key: %d requests allowed, want exactly burst+1 = 100", got)
	}
	if got := lim.Len(); got != 1+16*5 {
		t.Fatalf("Len = %d, want %d", got, 1+16*5)
	}
}

func TestLocalEvictionBound(t *testing.T) {
	t.Parallel()
	const maxEntries = 10_000
	tests := []struct {
		name string
		tick time.Duration // clock advance per call
	}{
		{"all live", 0},
		{"expiring", time.Microsecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			lim := NewLocal(LocalOptions{Now: c.Now, MaxEntries: maxEntries})
			l := Limit{Requests: 10, Per: time.Second, Burst: 5}
			var buf [16]byte
			for i := range 1_000_000 {
				c.Add(tc.tick)
				key := string(strconv.AppendInt(buf[:0], int64(i), 10))
				r, err := lim.Allow(context.Background(), key, l)
				if err != nil || !r.Allowed {
					t.Fatalf("key %d: %+v %v (a new key must be allowed)", i, r, err)
				}
				if i%100_000 == 0 && lim.Len() > maxEntries+len(lim.shards) {
					t.Fatalf("after %d keys: %d entries, bound %d", i, lim.Len(), maxEntries)
				}
			}
			n := 0
			for i := range lim.shards {
				if len(lim.shards[i].m) > lim.perShard {
					t.Fatalf("shard %d holds %d entries, bound %d", i, len(lim.shards[i].m), lim.perShard)
				}
				n += len(lim.shards[i].m)
			}
			if n != lim.Len() || n > maxEntries+len(lim.shards) {
				t.Fatalf("%d entries in shards, Len %d, bound %d", n, lim.Len(), maxEntries)
			}
			// A key still in its burst keeps its state: the most recent key
			// survives eviction pressure from older ones.
			last := fmt.Sprint(999_999)
			for range 5 {
				lim.Allow(context.Background(), last, l)
			}
			if r, _ := lim.Allow(context.Background(), last, l); r.Allowed {
				t.Fatalf("recent key lost its state: 7th request in a burst of 5 allowed")
			}
		})
	}
}

func TestKeyIP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			if got := KeyIP(netip.MustParseAddr(tc.in)); got != tc.want {
				t.Fatalf("KeyIP(%s) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if got := KeyIP(netip.Addr{}); got != "invalid" {
		t.Fatalf("KeyIP(zero) = %q", got)
	}
}

// TestAllocs is not parallel: AllocsPerRun needs the process to itself.
func TestAllocs(t *testing.T) {
	a := netip.MustParseAddr("2001:db8::1")
	if n := testing.AllocsPerRun(100, func() { _ = KeyIP(a) }); n > 1 {
		t.Fatalf("KeyIP allocates %v times, want at most 1", n)
	}
	lim := NewLocal(LocalOptions{})
	ctx := context.Background()
	l := Limit{Requests: 1000, Per: time.Second, Burst: 10}
	lim.Allow(ctx, "k", l)
	if n := testing.AllocsPerRun(100, func() { lim.Allow(ctx, "k", l) }); n != 0 {
		t.Fatalf("Local.Allow on a known key allocates %v times, want 0", n)
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	pairs := [][2][]string{
		{{"a:b", "c"}, {"a", "b:c"}},
		{{"1:a", ""}, {"1:a"}},
		{{"", ""}, {""}},
		{{"ab"}, {"a", "b"}},
	}
	for _, p := range pairs {
		if Key(p[0]...) == Key(p[1]...) {
			t.Fatalf("Key(%q) == Key(%q): %q", p[0], p[1], Key(p[0]...))
		}
	}
	if got := Key("192.0.2.1", "/api"); got != "9:192.0.2.14:/api" {
		t.Fatalf("Key = %q", got)
	}
}

func FuzzKey(f *testing.F) {
	f.Add("a", "b", "a", "b")
	f.Add("1:a", "", "1", "a")
	f.Add("ab", "c", "a", "bc")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		if Key(a, b) == Key(c, d) && (a != c || b != d) {
			t.Fatalf("collision: Key(%q,%q) == Key(%q,%q)", a, b, c, d)
		}
	})
}

func TestRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want int
	}{{0, 0}, {-time.Second, 0}, {time.Nanosecond, 1}, {time.Second, 1}, {time.Second + 1, 2}, {84 * time.Millisecond, 1}, {59500 * time.Millisecond, 60}}
	for _, tc := range tests {
		if got := RetryAfterSeconds(tc.d); got != tc.want {
			t.Errorf("RetryAfterSeconds(%s) = %d, want %d", tc.d, got, tc.want)
		}
	}
	rec := httptest.NewRecorder()
	WriteTooMany(rec, Result{RetryAfter: 1500 * time.Millisecond}, "abc")
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "2" || !strings.Contains(rec.Body.String(), "request id: abc") {
		t.Fatalf("WriteTooMany: %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
}

func BenchmarkLocalAllow(b *testing.B) {
	lim := NewLocal(LocalOptions{})
	l := Limit{Requests: 1_000_000, Per: time.Second, Burst: 1000}
	ctx := context.Background()
	key := KeyIP(netip.MustParseAddr("192.0.2.1"))
	lim.Allow(ctx, key, l)
	b.ReportAllocs()
	for b.Loop() {
		lim.Allow(ctx, key, l)
	}
}

func BenchmarkLocalAllowParallel(b *testing.B) {
	lim := NewLocal(LocalOptions{})
	l := Limit{Requests: 1_000_000, Per: time.Second, Burst: 1000}
	ctx := context.Background()
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = KeyIP(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
		lim.Allow(ctx, keys[i], l)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(len(keys))
		for pb.Next() {
			lim.Allow(ctx, keys[i%len(keys)], l)
			i++
		}
	})
}

// BenchmarkLocalNewKeysFull measures a flood of never-seen keys into a
// limiter that is full of live entries: every call evicts one.
func BenchmarkLocalNewKeysFull(b *testing.B) {
	c := newClock()
	lim := NewLocal(LocalOptions{Now: c.Now, MaxEntries: 100_000})
	l := Limit{Requests: 10, Per: time.Second, Burst: 5}
	ctx := context.Background()
	keys := make([]string, 1<<20)
	for i := range keys {
		keys[i] = strconv.Itoa(i)
	}
	for i := range 200_000 {
		lim.Allow(ctx, keys[i], l)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		lim.Allow(ctx, keys[i&(1<<20-1)], l)
		i++
	}
}
