package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rampart-edge/rampart/internal/challenge"
)

// floodOrigin is a real origin of fixed capacity: each request waits for
// a token from gate (or for gate to be closed), then works for work. It records the peak of
// requests in flight and the order requests arrived in (X-Name).
type floodOrigin struct {
	*httptest.Server
	gate     chan struct{}
	work     time.Duration
	inFlight atomic.Int64
	peak     atomic.Int64
	mu       sync.Mutex
	order    []string
}

func newFloodOrigin(t *testing.T, work time.Duration) *floodOrigin {
	o := &floodOrigin{gate: make(chan struct{}), work: work}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := o.inFlight.Add(1)
		defer o.inFlight.Add(-1)
		for p := o.peak.Load(); n > p && !o.peak.CompareAndSwap(p, n); p = o.peak.Load() {
		}
		o.mu.Lock()
		o.order = append(o.order, r.Header.Get("X-Name"))
		o.mu.Unlock()
		<-o.gate
		time.Sleep(o.work)
		io.WriteString(w, "origin")
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *floodOrigin) arrivals() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.order...)
}

type floodReply struct {
	name       string
	status     int
	retryAfter string
	challenged bool
}

func floodSend(c *http.Client, url, host, name string, cookie *http.Cookie, out chan<- floodReply) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Host = host
	req.Header.Set("X-Name", name)
	req.Header.Set("User-Agent", "rampart-test")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := c.Do(req)
	if err != nil {
		out <- floodReply{name: name, status: -1}
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	out <- floodReply{name: name, status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"),
		challenged: resp.Header.Get("Rampart-Challenge") != ""}
}

func floodEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestOriginLimitsUnderFlood: with origin_limits {max_conns: 4, queue: 8},
// a flood never puts more than 4 requests on the origin; past a full
// queue requests get 503 with Retry-After at once; a client holding a
// clearance takes a queued attacker's place and reaches the origin
// before every queued attacker; the sheds switch the auto-mode zone to
// under-attack at once, and the metrics count all of it.
func TestOriginLimitsUnderFlood(t *testing.T) {
	o := newFloodOrigin(t, 10*time.Millisecond)
	dir := t.TempDir()
	cfg := parseConfig(t, fmt.Sprintf(`
data_dir: %s
zones:
  - host: site.test
    origins: [%s]
    under_attack: auto
    challenge: {difficulty: 12}
    origin_limits: {max_conns: 4, queue: 8, queue_timeout: 30s}
`, dir, o.URL))
	r := start(t, cfg)
	var opened sync.Once
	open := func() { opened.Do(func() { close(o.gate) }) }
	t.Cleanup(open) // runs before the app stops, which waits for its requests
	person := clientFrom("127.0.7.1")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// A clearance is bound to its zone: the person earns site.test's
	// through its verify endpoint, which challenges even before the zone
	// switches on.
	cookie, err := earnClearance(ctx, person, r.url(challenge.VerifyPath), "site.test")
	if err != nil || cookie == nil {
		t.Fatalf("earning a clearance: %v %v", cookie, err)
	}
	gauge := func(name string) float64 {
		t.Helper()
		mfs, err := r.Metrics().Gatherer().Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				for _, m := range mf.GetMetric() {
					if m.GetLabel()[0].GetValue() == "site.test" {
						return m.GetGauge().GetValue()
					}
				}
			}
		}
		return -1
	}

	replies := make(chan floodReply, 200)
	// Four attackers hold every slot; eight more fill the queue.
	for i := range 12 {
		go floodSend(clientFrom(fmt.Sprintf("127.0.6.%d", 1+i)), r.url("/"), "site.test", fmt.Sprintf("attacker-%d", i), nil, replies)
		if i < 4 {
			floodEventually(t, "the attacker at the origin", func() bool { return o.inFlight.Load() == int64(i+1) })
		} else {
			floodEventually(t, "the attacker queued", func() bool { return gauge("rampart_origin_queue_length") == float64(i-3) })
		}
	}
	// Before the switch (the zone is not challenging yet), the person with
	// a clearance finds the queue full of attackers: it takes the newest
	// one's place.
	go floodSend(person, r.url("/"), "site.test", "early", cookie, replies)
	if rp := <-replies; rp.name != "attacker-11" || rp.status != 503 {
		t.Fatalf("a full queue and a cleared client before the switch: %+v, want the newest queued attacker evicted with 503", rp)
	}
	floodEventually(t, "the early request queued", func() bool { return gauge("rampart_origin_queue_priority_length") == 1 })
	if gauge("rampart_under_attack") != 0 {
		t.Fatal("the zone switched on before the sheds")
	}

	// The queue is full: more attackers are refused at once, 503 with
	// Retry-After; 20 sheds within a second switch the zone on, and the
	// ones after that are challenged instead.
	shed, challenged := 0, 0
	for i := range 40 {
		go floodSend(clientFrom(fmt.Sprintf("127.0.6.%d", 20+i)), r.url("/"), "site.test", fmt.Sprintf("refused-%d", i), nil, replies)
	}
	for range 40 {
		rp := <-replies
		switch {
		case rp.status == 503 && rp.retryAfter == "1":
			shed++
		case rp.challenged:
			challenged++
		default:
			t.Fatalf("past a full queue: %+v, want 503 with Retry-After 1, or a challenge", rp)
		}
	}
	// 20 sheds within a second switch the zone on; the eviction above
	// was one when it fell in the same second.
	if shed < 19 {
		t.Fatalf("%d refused with 503 and %d challenged: want at least 19 sheds (what switches the zone on with the eviction)", shed, challenged)
	}
	floodEventually(t, "the switch to under-attack", func() bool { return gauge("rampart_under_attack") == 1 })
	if !strings.Contains(r.logs.String(), "origin is saturated") {
		t.Errorf("the switch log line does not name the origin queue:\n%s", r.logs.String())
	}
	// Under attack now: a newcomer without clearance is challenged and
	// never queued.
	floodSend(clientFrom("127.0.6.99"), r.url("/"), "site.test", "newcomer", nil, replies)
	if rp := <-replies; !rp.challenged {
		t.Fatalf("newcomer after the switch: %+v, want a challenge", rp)
	}

	// Under attack, the person again takes the newest attacker's place.
	go floodSend(person, r.url("/"), "site.test", "person", cookie, replies)
	if rp := <-replies; rp.name != "attacker-10" || rp.status != 503 {
		t.Fatalf("a full queue and a cleared client under attack: %+v, want the newest queued attacker evicted with 503", rp)
	}
	floodEventually(t, "the person queued", func() bool { return gauge("rampart_origin_queue_priority_length") == 2 })

	// Free one slot, then another: they go to the person's two requests,
	// in order, before the older attackers.
	for i, name := range []string{"early", "person"} {
		o.gate <- struct{}{}
		floodEventually(t, "one more request at the origin", func() bool { return len(o.arrivals()) == 5+i })
		if arr := o.arrivals(); arr[4+i] != name {
			t.Fatalf("the origin saw %v: want the 4 holders, then early and person before the queued attackers", arr)
		}
	}
	open()
	got := map[string]int{}
	for range 12 { // 4 holders, 6 queued attackers, the person's 2
		rp := <-replies
		got[rp.name] = rp.status
	}
	for name, status := range got {
		if status != 200 {
			t.Errorf("%s: status %d after the origin freed up, want 200", name, status)
		}
	}
	if got["person"] != 200 || got["early"] != 200 {
		t.Fatalf("the person got no answer: %v", got)
	}
	if arr := o.arrivals(); len(arr) != 12 {
		t.Fatalf("the origin saw %v, want 12 requests", arr)
	}
	if p := o.peak.Load(); p > 4 {
		t.Fatalf("the origin had %d requests in flight, more than max_conns 4", p)
	}
	if n := testutil.ToFloat64(r.Metrics().Protect().BlockedCounter("site.test", "challenge")); n < 1 {
		t.Errorf("challenge blocks %v, want at least 1", n)
	}
	body := floodMetricsText(t, r)
	for _, want := range []string{
		fmt.Sprintf(`rampart_origin_queue_rejected_total{reason="full",zone="site.test"} %d`, shed),
		`rampart_origin_queue_rejected_total{reason="evicted",zone="site.test"} 2`,
		`rampart_origin_queue_admitted_total{zone="site.test"} 12`,
		`rampart_origin_queue_waits_total{zone="site.test"} 8`,
		`rampart_origin_queue_in_flight{zone="site.test"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s:\n%s", want, floodGrep(body, "rampart_origin_queue"))
		}
	}
}

func floodMetricsText(t *testing.T, r *running) string {
	t.Helper()
	rec := httptest.NewRecorder()
	r.Metrics().Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func floodGrep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestTarpitHoldsRepeatChallenges: under attack, a client address served
// its free allowance of challenge pages (5) gets the next ones held (and
// counted); a client with a clearance from the same address is not held,
// and another address still gets its free allowance.
func TestTarpitHoldsRepeatChallenges(t *testing.T) {
	o := newOrigin(t, "o")
	cfg := parseConfig(t, fmt.Sprintf(`
data_dir: %s
zones:
  - host: attack.test
    origins: [%s]
    under_attack: "on"
    challenge: {difficulty: 12}
`, t.TempDir(), o.URL))
	r := start(t, cfg)
	held := func() float64 {
		return testutil.ToFloat64(r.protect.tarpitHeld.WithLabelValues("attack.test"))
	}
	bot := clientFrom("127.0.8.1")
	replies := make(chan floodReply, 1)
	// The 6th is held (the allowance refills one every 2 s, so what
	// follows a held one depends on the clock: not tested).
	for i := range 6 {
		floodSend(bot, r.url("/"), "attack.test", "bot", nil, replies)
		if rp := <-replies; !rp.challenged {
			t.Fatalf("bot request %d: %+v, want a challenge", i, rp)
		}
		want := float64(max(0, i-4))
		if got := held(); got != want {
			t.Fatalf("after bot request %d: %v held, want %v", i, got, want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	person := clientFrom("127.0.8.1") // the same address: a NAT
	cookie, err := earnClearance(ctx, person, r.url("/"), "attack.test")
	if err != nil || cookie == nil {
		t.Fatalf("earning a clearance: %v %v", cookie, err)
	}
	before := held()
	floodSend(person, r.url("/"), "attack.test", "person", cookie, replies)
	if rp := <-replies; rp.status != 200 || held() != before {
		t.Fatalf("person with a clearance: %+v, held %v -> %v; want 200, not held", rp, before, held())
	}
	floodSend(clientFrom("127.0.8.2"), r.url("/"), "attack.test", "other", nil, replies)
	if rp := <-replies; !rp.challenged || held() != before {
		t.Fatalf("another address: %+v, held %v -> %v; want a challenge, not held", rp, before, held())
	}
}
