package attack

import (
	"bytes"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
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

// sim drives a detector with a simulated clock, one second at a time.
type sim struct {
	t        *testing.T
	clk      *clock
	d        *Detector
	elapsed  int // seconds simulated
	switches []bool
	logs     *bytes.Buffer
}

func newSim(t *testing.T, opts Options) *sim {
	s := &sim{t: t, clk: newClock(), logs: &bytes.Buffer{}}
	opts.Now = s.clk.Now
	opts.Zone = "www.example.org"
	opts.Logger = slog.New(slog.NewTextHandler(s.logs, nil))
	opts.OnSwitch = func(active bool, _ string) { s.switches = append(s.switches, active) }
	s.d = NewDetector(opts)
	return s
}

// second feeds n requests spread over the next second, each answered by
// the origin with status after latency (NoOrigin for none).
func (s *sim) second(n int, status func(i int) int, latency time.Duration) {
	step := time.Second / time.Duration(n+1)
	start := s.clk.ns.Load()
	for i := range n {
		s.clk.ns.Store(start + int64(step)*int64(i+1))
		st := 200
		if status != nil {
			st = status(i)
		}
		s.d.Observe(st, latency)
	}
	s.clk.ns.Store(start + int64(time.Second))
	s.elapsed++
}

// run feeds seconds at rate(sec) and returns the first second (counted
// from this call) the detector was active after, or -1.
func (s *sim) run(seconds int, rate func(sec int) int) (firstActive int) {
	firstActive = -1
	for sec := range seconds {
		s.second(rate(sec), nil, 20*time.Millisecond)
		if firstActive < 0 && s.d.Active() {
			firstActive = sec
		}
	}
	return firstActive
}

func noisy(rng *rand.Rand, mean int) int {
	return int(float64(mean) * (0.8 + 0.4*rng.Float64()))
}

func TestSteadyBaselineDoesNotTrip(t *testing.T) {
	t.Parallel()
	for _, mean := range []int{3, 100, 2000} {
		t.Run(fmt.Sprint(mean, "/s"), func(t *testing.T) {
			t.Parallel()
			s := newSim(t, Options{})
			rng := rand.New(rand.NewPCG(7, uint64(mean)))
			if got := s.run(600, func(int) int { return noisy(rng, mean) }); got >= 0 {
				t.Fatalf("steady %d/s tripped at second %d", mean, got)
			}
			if b := s.d.Baseline(); math.Abs(b-float64(mean)) > max(1, 0.15*float64(mean)) {
				t.Fatalf("baseline %.1f, want about %d", b, mean)
			}
		})
	}
}

func TestSurgeTripsAndQuietSwitchesOff(t *testing.T) {
	t.Parallel()
	s := newSim(t, Options{})
	rng := rand.New(rand.NewPCG(1, 1))
	if got := s.run(120, func(int) int { return noisy(rng, 100) }); got >= 0 {
		t.Fatalf("tripped during the baseline at %d", got)
	}
	// A 20x surge for three minutes.
	on := s.run(180, func(sec int) int {
		if sec > 5 && !s.d.Active() {
			t.Fatalf("not active %d s into a 20x surge", sec)
		}
		return 2000
	})
	if on < 0 || on >= 5 {
		t.Fatalf("20x surge: active after second %d, want within 5 s", on)
	}
	if !s.d.Active() {
		t.Fatal("switched off during the surge")
	}
	// Back to normal: stays on for the quiet period (2m), then off.
	var off int = -1
	for sec := range 200 {
		s.second(noisy(rng, 100), nil, 20*time.Millisecond)
		if !s.d.Active() {
			off = sec
			break
		}
	}
	if off < 119 || off > 125 {
		t.Fatalf("switched off %d s after the surge ended, want after the 120 s quiet period", off)
	}
	if fmt.Sprint(s.switches) != "[true false]" || s.d.Switches() != 2 {
		t.Fatalf("switch callbacks %v, count %d, want [true false] and 2", s.switches, s.d.Switches())
	}
	logs := s.logs.String()
	if !strings.Contains(logs, "switched on") || !strings.Contains(logs, "switched off") || !strings.Contains(logs, "zone=www.example.org") {
		t.Fatalf("switches not logged:\n%s", logs)
	}
	// The attack did not teach the baseline to accept it.
	if b := s.d.Baseline(); b > 150 {
		t.Fatalf("baseline %.0f after the attack, want about 100", b)
	}
}

func TestSurgeResumedDuringQuietKeepsOn(t *testing.T) {
	t.Parallel()
	s := newSim(t, Options{QuietPeriod: 30 * time.Second})
	s.run(60, func(int) int { return 100 })
	s.run(10, func(int) int { return 3000 })
	if !s.d.Active() {
		t.Fatal("not active")
	}
	s.run(20, func(int) int { return 100 })
	s.run(5, func(int) int { return 3000 }) // the attack comes back
	s.run(25, func(int) int { return 100 })
	if !s.d.Active() {
		t.Fatal("switched off less than a quiet period after the last attack second")
	}
	s.run(10, func(int) int { return 100 })
	if s.d.Active() {
		t.Fatal("still on after a full quiet period")
	}
}

func TestSlowGrowthDoesNotTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rate func(sec int) int
	}{
		{"linear 100 to 2000 over 20 min", func(sec int) int { return 100 + 1900*sec/1200 }},
		{"doubling every 5 min", func(sec int) int { return int(100 * math.Exp2(float64(sec)/300)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSim(t, Options{})
			if got := s.run(1200, tc.rate); got >= 0 {
				t.Fatalf("tripped at second %d (rate %d/s, baseline %.0f/s)", got, tc.rate(got), s.d.Baseline())
			}
		})
	}
}

func TestQuietZoneNeedsMinRate(t *testing.T) {
	t.Parallel()
	s := newSim(t, Options{})
	s.run(60, func(int) int { return 1 })
	if got := s.run(30, func(int) int { return 20 }); got >= 0 {
		t.Fatalf("a quiet zone tripped on 20 requests per second at %d", got)
	}
	if got := s.run(10, func(int) int { return 60 }); got < 0 {
		t.Fatal("60/s against a baseline of 1/s (floor 5) did not trip")
	}
}

func TestWarmupDoesNotTrip(t *testing.T) {
	t.Parallel()
	s := newSim(t, Options{})
	if got := s.run(20, func(int) int { return 500 }); got >= 0 {
		t.Fatalf("tripped during warm-up at %d", got)
	}
}

func TestOriginHealthTrips(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  func(i int) int
		latency time.Duration
		want    string
	}{
		{"errors", func(i int) int {
			if i%5 == 0 {
				return 200
			}
			return 502
		}, 20 * time.Millisecond, "origin errors 80%"},
		{"latency", nil, 2 * time.Second, "origin latency 2s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var reason string
			s := newSim(t, Options{})
			s.d.opts.OnSwitch = func(_ bool, r string) { reason = r }
			for range 60 {
				s.second(100, func(i int) int {
					if i == 0 {
						return 500 // 1% errors is normal here
					}
					return 200
				}, 20*time.Millisecond)
			}
			for sec := range 5 {
				s.second(100, tc.status, tc.latency)
				if s.d.Active() {
					if !strings.Contains(reason, tc.want) {
						t.Fatalf("reason %q, want it to say %q", reason, tc.want)
					}
					return
				}
				_ = sec
			}
			t.Fatal("origin trouble at a steady rate did not trip within 5 s")
		})
	}
}

func TestTickSwitchesOffWithoutTraffic(t *testing.T) {
	t.Parallel()
	s := newSim(t, Options{QuietPeriod: 10 * time.Second})
	s.run(60, func(int) int { return 100 })
	s.run(5, func(int) int { return 5000 })
	if !s.d.Active() {
		t.Fatal("not active")
	}
	for range 9 {
		s.clk.Add(time.Second)
		s.d.Tick()
	}
	if !s.d.Active() {
		t.Fatal("off before the quiet period")
	}
	s.clk.Add(2 * time.Second)
	s.d.Tick()
	if s.d.Active() {
		t.Fatal("still on after the quiet period with no traffic")
	}
}

func TestObserveConcurrent(t *testing.T) {
	t.Parallel()
	clk := newClock()
	var switches atomic.Int64
	d := NewDetector(Options{Now: clk.Now, Warmup: 5, Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)),
		OnSwitch: func(bool, string) { switches.Add(1) }})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					d.Observe(200, time.Millisecond)
					_ = d.Active()
				}
			}
		}()
	}
	for range 40 {
		time.Sleep(2 * time.Millisecond)
		clk.Add(time.Second)
	}
	close(stop)
	wg.Wait()
	if d.Switches() != switches.Load() {
		t.Fatalf("Switches %d, callbacks %d", d.Switches(), switches.Load())
	}
	if d.Baseline() <= 0 {
		t.Fatal("no baseline learned from concurrent traffic")
	}
}

func TestParseMode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Mode
		ok   bool
	}{{"", Off, true}, {"off", Off, true}, {" ON ", On, true}, {"auto", Auto, true}, {"Auto", Auto, true}, {"yes", Off, false}, {"1", Off, false}}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseMode(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("ParseMode(%q) = %v, %v", tc.in, got, err)
			}
			if err == nil {
				if again, _ := ParseMode(got.String()); again != got {
					t.Fatalf("String() %q does not parse back", got.String())
				}
			}
		})
	}
}

func FuzzParseMode(f *testing.F) {
	for _, s := range []string{"off", "on", "auto", "", " AUTO ", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMode(s)
		if err != nil {
			if m != Off || !strings.Contains(err.Error(), "under_attack") {
				t.Fatalf("ParseMode(%q) error %v with mode %v", s, err, m)
			}
			return
		}
		if back, err := ParseMode(m.String()); err != nil || back != m {
			t.Fatalf("mode %v does not round-trip", m)
		}
	})
}

func BenchmarkObserve(b *testing.B) {
	d := NewDetector(Options{Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d.Observe(200, 3*time.Millisecond)
		}
	})
}

func BenchmarkActive(b *testing.B) {
	d := NewDetector(Options{})
	for b.Loop() {
		_ = d.Active()
	}
}

// TestShedSignal: the origin queue shedding ShedTrip requests within one
// second switches the zone on at once (before the second ends, and even
// during the warm-up, since it needs no baseline); fewer, or as many
// spread over several seconds, do not; seconds with that many sheds keep
// the zone on, and it switches off after the quiet period once they stop.
func TestShedSignal(t *testing.T) {
	for _, tc := range []struct {
		name     string
		warmup   int // seconds of 10 req/s before the sheds
		perSec   []int
		wantOnAt int // index into perSec of the second it switched on in; -1 never
	}{
		{"burst of sheds after warm-up", 40, []int{0, 25}, 1},
		{"during warm-up", 3, []int{20}, 0},
		{"below the trip", 40, []int{19, 19, 19, 19}, -1},
		{"a few at a time", 40, []int{5, 5, 5, 5, 5, 5, 5, 5}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, Options{QuietPeriod: 10 * time.Second})
			s.run(tc.warmup, func(int) int { return 10 })
			onAt := -1
			for i, n := range tc.perSec {
				start := s.clk.ns.Load()
				for j := range n {
					s.clk.ns.Store(start + int64(time.Second)*int64(j+1)/int64(n+2))
					s.d.Observe(200, 20*time.Millisecond)
					s.d.Shed()
					if onAt < 0 && s.d.Active() {
						onAt = i
						if j+1 != s.d.opts.ShedTrip {
							t.Fatalf("switched on at the %dth shed, want the %dth", j+1, s.d.opts.ShedTrip)
						}
					}
				}
				s.clk.ns.Store(start + int64(time.Second))
			}
			if onAt != tc.wantOnAt {
				t.Fatalf("switched on in second %d, want %d (switches %v)", onAt, tc.wantOnAt, s.switches)
			}
			if onAt < 0 {
				return
			}
			if !strings.Contains(s.logs.String(), "origin is saturated") {
				t.Fatalf("switch log does not name the signal: %s", s.logs.String())
			}
			// Sheds go on: still on after more than the quiet period.
			for range 15 {
				start := s.clk.ns.Load()
				for j := range 30 {
					s.clk.ns.Store(start + int64(time.Second)*int64(j+1)/32)
					s.d.Observe(200, 20*time.Millisecond)
					s.d.Shed()
				}
				s.clk.ns.Store(start + int64(time.Second))
			}
			s.d.Tick()
			if !s.d.Active() {
				t.Fatalf("switched off while the origin queue kept shedding (switches %v)", s.switches)
			}
			// Sheds stop, traffic back to normal: off after the quiet period.
			s.run(30, func(int) int { return 10 })
			s.d.Tick()
			if s.d.Active() || len(s.switches) != 2 || s.switches[1] {
				t.Fatalf("still on after the quiet period: switches %v", s.switches)
			}
		})
	}
}

// TestTickerSkipsIdleDetectors: the shared ticker ticks a detector that
// saw traffic or is on, and skips an idle one, whose state after a
// request is the same as if every second had been ticked.
func TestTickerSkipsIdleDetectors(t *testing.T) {
	var now atomic.Int64
	now.Store(1_000_000)
	clock := func() time.Time { return time.Unix(now.Load(), 0) }
	mk := func() *Detector {
		return NewDetector(Options{Now: clock, Warmup: 1, Logger: slog.New(slog.DiscardHandler)})
	}
	idle, ticked := mk(), mk()
	if idle.needsTick() {
		t.Fatal("a detector that never saw a request needs a tick")
	}
	idle.Arrived()
	if !idle.needsTick() {
		t.Fatal("a detector with a request this second needs no tick")
	}
	ticked.Arrived()
	for range 60 {
		now.Add(1)
		ticked.Tick()
	}
	if idle.needsTick() {
		t.Fatal("a detector idle for a minute still needs a tick")
	}
	if a, b := idle.Baseline(), ticked.Baseline(); a != b {
		t.Errorf("baseline of the skipped detector %v, of the ticked one %v", a, b)
	}
	idle.active.Store(true)
	if !idle.needsTick() {
		t.Error("an active detector needs no tick")
	}

	tk := NewTicker()
	tk.every = 10 * time.Millisecond
	tk.Add(idle)
	tk.Add(ticked)
	if tk.Len() != 2 {
		t.Fatalf("Len = %d", tk.Len())
	}
	tk.Remove(idle)
	tk.Remove(ticked)
	tk.Add(idle)
	tk.Close()
	if tk.Len() != 0 {
		t.Errorf("Len after Close = %d", tk.Len())
	}
}

// TestTickerRunsOnlyWhileNeeded (issue 16): the shared ticker's goroutine
// runs only while a detector needs ticks: none for detectors that never
// saw a request, stopped once the last one went quiet, started again by
// the next request.
func TestTickerRunsOnlyWhileNeeded(t *testing.T) {
	var now atomic.Int64
	now.Store(1_000_000)
	clock := func() time.Time { return time.Unix(now.Load(), 0) }
	tk := NewTicker()
	tk.every = 5 * time.Millisecond
	t.Cleanup(tk.Close)
	ds := make([]*Detector, 100)
	for i := range ds {
		ds[i] = NewDetector(Options{Now: clock, Warmup: 1, Logger: slog.New(slog.DiscardHandler)})
		tk.Add(ds[i])
	}
	wait := func(wantHot int, wantRunning bool) {
		t.Helper()
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
			if hot, running := tk.ticking(); hot == wantHot && running == wantRunning {
				return
			}
		}
		hot, running := tk.ticking()
		t.Fatalf("ticked %d, running %v; want %d, %v", hot, running, wantHot, wantRunning)
	}
	if hot, running := tk.ticking(); hot != 0 || running {
		t.Fatalf("detectors without requests: ticked %d, running %v", hot, running)
	}

	ds[3].Arrived()
	ds[7].Observe(200, time.Millisecond)
	wait(2, true)
	ds[3].Arrived() // the same second: no second wake-up
	tk.mu.Lock()
	runs := tk.runs
	tk.mu.Unlock()
	if runs != 1 {
		t.Fatalf("%d loops started, want 1", runs)
	}
	now.Add(int64(ds[3].opts.TripSeconds) + 2) // quiet long enough
	wait(0, false)
	if ds[3].hot.Load() || ds[7].hot.Load() {
		t.Fatal("a dropped detector still marked ticked")
	}

	ds[50].Arrived() // a new second's request wakes the ticker
	wait(1, true)
	tk.mu.Lock()
	runs = tk.runs
	tk.mu.Unlock()
	if runs != 2 {
		t.Fatalf("%d loops started, want 2", runs)
	}
	// An active detector stays ticked without requests, until it is off.
	ds[50].active.Store(true)
	now.Add(int64(ds[50].opts.TripSeconds) + 2)
	time.Sleep(30 * time.Millisecond)
	if hot, running := tk.ticking(); hot != 1 || !running {
		t.Fatalf("active detector: ticked %d, running %v", hot, running)
	}
	ds[50].active.Store(false)
	wait(0, false)

	// A removed detector does not wake the ticker.
	tk.Remove(ds[9])
	now.Add(1)
	ds[9].Arrived()
	if hot, running := tk.ticking(); hot != 0 || running {
		t.Fatalf("after a removed detector's request: ticked %d, running %v", hot, running)
	}
}
