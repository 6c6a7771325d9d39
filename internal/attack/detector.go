package attack

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Options tune a Detector. Zero fields take the defaults shown.
type Options struct {
	// Zone names the zone in logs.
	Zone string
	// RateFactor k: the zone switches on when its request rate is at
	// least k times its baseline (default 5).
	RateFactor float64
	// MinRate is the least request rate, per second, that can switch the
	// zone on (default 50), so a quiet zone does not trip on a handful of
	// requests.
	MinRate float64
	// BaselineFloor is the least baseline rate used, per second (default
	// 5): with k=5 a zone that usually sees 1 request per second trips at
	// max(25, MinRate), not at 5.
	BaselineFloor float64
	// BaselineHalfLife is the half-life of the baseline's exponentially
	// weighted moving average (default 1m). Seconds that look like an
	// attack, and the whole time the zone is on, are left out of it, so
	// an attack cannot teach the baseline to accept itself; a rate that
	// grows slowly is followed.
	BaselineHalfLife time.Duration
	// Warmup is how many seconds of traffic are learned before the
	// detector may trip (default 30).
	Warmup int
	// TripSeconds is how many consecutive seconds must look like an
	// attack to switch on (default 2), so one burst does not.
	TripSeconds int
	// QuietPeriod is how long every second must look normal (rate below
	// k/2 times the baseline, origin healthy) before the zone switches
	// off again (default 2m).
	QuietPeriod time.Duration
	// ErrorRatio is the least share of origin responses with status 500
	// or more that can switch the zone on (default 0.5), when it is also
	// ErrorFactor (default 5) times the baseline share.
	ErrorRatio  float64
	ErrorFactor float64
	// MinLatency is the least mean origin latency that can switch the
	// zone on (default 500ms), when it is also LatencyFactor (default 5)
	// times the baseline latency.
	MinLatency    time.Duration
	LatencyFactor float64
	// MinSample is the least number of origin responses in a second for
	// its error ratio and latency to count (default 20).
	MinSample int
	// ShedTrip is how many requests the zone's origin queue may shed
	// (refuse because the origin is at its max_conns and the queue is
	// full, or after the queue timeout) within one second before the
	// zone switches on, at once, without waiting for the second to end
	// (default 20). The origin being saturated is the most direct sign
	// of a flood, so this signal needs no baseline: it works during the
	// warm-up too. A second with that many sheds also keeps the zone on.
	// See Shed.
	ShedTrip int
	// OnSwitch, when set, is called on every switch (for the metrics),
	// from the goroutine that observed the second that decided it.
	OnSwitch func(active bool, reason string)
	// Logger receives one line per switch (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// ringSize is the number of one-second buckets kept; evaluation runs once
// per second, so only the last few are ever read.
const ringSize = 8

// bucket counts one second. Writers add with atomics; the second it holds
// is swapped in by whichever writer first sees a new second.
type bucket struct {
	sec     atomic.Int64
	count   atomic.Int64 // requests
	origin  atomic.Int64 // origin responses
	errors  atomic.Int64 // origin responses >= 500
	latency atomic.Int64 // sum of origin latencies, µs
	shed    atomic.Int64 // requests the origin queue refused
	_       [16]byte
}

// Detector is one zone's auto-mode detector. Observe and Active are safe
// for concurrent use and cheap: a few atomic adds, and one atomic load.
type Detector struct {
	opts    Options
	alpha   float64
	quiet   int
	buckets [ringSize]bucket
	active  atomic.Bool
	lastSec atomic.Int64           // the latest second evaluation has been triggered for
	count   atomic.Int64           // switches
	ticker  atomic.Pointer[Ticker] // the Ticker it is added to, if any
	hot     atomic.Bool            // in that Ticker's ticked set

	mu          sync.Mutex // evaluation state below
	evaluated   int64      // last second evaluated
	samples     int
	baseRate    float64
	baseErr     float64
	baseLatency float64 // seconds
	hotRun      int
	calmRun     int
}

// NewDetector returns a Detector, switched off.
func NewDetector(opts Options) *Detector {
	def := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&opts.RateFactor, 5)
	def(&opts.MinRate, 50)
	def(&opts.BaselineFloor, 5)
	def(&opts.ErrorRatio, 0.5)
	def(&opts.ErrorFactor, 5)
	def(&opts.LatencyFactor, 5)
	if opts.BaselineHalfLife <= 0 {
		opts.BaselineHalfLife = time.Minute
	}
	if opts.Warmup <= 0 {
		opts.Warmup = 30
	}
	if opts.TripSeconds <= 0 {
		opts.TripSeconds = 2
	}
	if opts.QuietPeriod <= 0 {
		opts.QuietPeriod = 2 * time.Minute
	}
	if opts.MinLatency <= 0 {
		opts.MinLatency = 500 * time.Millisecond
	}
	if opts.MinSample <= 0 {
		opts.MinSample = 20
	}
	if opts.ShedTrip <= 0 {
		opts.ShedTrip = 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	d := &Detector{
		opts:  opts,
		alpha: 1 - math.Exp2(-1/opts.BaselineHalfLife.Seconds()),
		quiet: max(1, int(math.Ceil(opts.QuietPeriod.Seconds()))),
	}
	sec := opts.Now().Unix()
	d.lastSec.Store(sec)
	d.evaluated = sec - 1
	return d
}

// Active reports whether the zone is under attack: one atomic load.
func (d *Detector) Active() bool { return d.active.Load() }

// Switches returns how many times the detector has switched on or off.
func (d *Detector) Switches() int64 { return d.count.Load() }

// NoOrigin is the originLatency to pass to Observe for a request the
// edge answered itself (a block, a challenge, a cache hit).
const NoOrigin time.Duration = -1

// Observe counts one request. status and originLatency describe the
// origin's answer; pass originLatency NoOrigin when the request did not
// reach the origin, so it counts towards the rate only. A failure to reach
// the origin should be observed as a 502 or 504 with the time it took.
// Observe is Arrived followed, for an origin answer, by OriginDone.
func (d *Detector) Observe(status int, originLatency time.Duration) {
	b, sec := d.bucket()
	b.count.Add(1)
	if originLatency >= 0 {
		d.origin(b, status, originLatency)
	}
	d.maybeEvaluate(sec)
}

// Arrived counts one request towards the rate, for callers that see a
// request's arrival and its origin answer in different places (see Phase
// and WrapOrigin).
func (d *Detector) Arrived() {
	b, sec := d.bucket()
	b.count.Add(1)
	d.maybeEvaluate(sec)
}

// OriginDone records one origin answer without counting a request.
func (d *Detector) OriginDone(status int, latency time.Duration) {
	b, sec := d.bucket()
	d.origin(b, status, max(0, latency))
	d.maybeEvaluate(sec)
}

// Shed records one request that the zone's origin queue refused for lack
// of room or time (see originlimit). When ShedTrip of them fall within
// one second the zone switches on at once.
func (d *Detector) Shed() {
	b, sec := d.bucket()
	n := b.shed.Add(1)
	if n == int64(d.opts.ShedTrip) && !d.active.Load() {
		d.mu.Lock()
		if !d.active.Load() {
			d.hotRun, d.calmRun = 0, 0
			d.switchTo(true, fmt.Sprintf("the origin is saturated: its queue refused %d requests within a second", n))
		}
		d.mu.Unlock()
	}
	d.maybeEvaluate(sec)
}

func (d *Detector) origin(b *bucket, status int, latency time.Duration) {
	b.origin.Add(1)
	if status >= 500 {
		b.errors.Add(1)
	}
	b.latency.Add(latency.Microseconds())
}

// bucket returns the current second's bucket, claiming it for this
// second if it still holds an older one.
func (d *Detector) bucket() (*bucket, int64) {
	sec := d.opts.Now().Unix()
	b := &d.buckets[uint64(sec)%ringSize]
	if old := b.sec.Load(); old != sec && b.sec.CompareAndSwap(old, sec) {
		// This writer claimed the bucket for the new second; a few counts
		// racing with the reset may be lost, which a rate estimate can
		// afford.
		b.count.Store(0)
		b.origin.Store(0)
		b.errors.Store(0)
		b.latency.Store(0)
		b.shed.Store(0)
		// A detector its Ticker stopped ticking needs ticks again (the
		// claim is stored before hot is read: see Ticker.loop).
		if !d.hot.Load() {
			if t := d.ticker.Load(); t != nil {
				t.wake(d)
			}
		}
	}
	return b, sec
}

// maybeEvaluate judges the completed seconds once per second: the first
// caller that sees a new second does it.
func (d *Detector) maybeEvaluate(sec int64) {
	if last := d.lastSec.Load(); sec > last && d.lastSec.CompareAndSwap(last, sec) {
		d.evaluate(sec)
	}
}

// Tick evaluates the seconds completed so far without counting a request,
// so a zone whose traffic stopped still switches off. Run, or a node's
// shared Ticker, calls it every second.
func (d *Detector) Tick() { d.maybeEvaluate(d.opts.Now().Unix()) }

// Run calls Tick every second until ctx is done.
func (d *Detector) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.Tick()
		}
	}
}

// maxCatchUp bounds the seconds evaluated at once after a long silence.
const maxCatchUp = 3600

// evaluate judges every completed second before now.
func (d *Detector) evaluate(now int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	from := max(d.evaluated+1, now-maxCatchUp)
	for s := from; s < now; s++ {
		var st second
		if b := &d.buckets[uint64(s)%ringSize]; b.sec.Load() == s {
			st = second{count: b.count.Load(), origin: b.origin.Load(), errors: b.errors.Load(), latency: b.latency.Load(), shed: b.shed.Load()}
		}
		d.judge(st)
	}
	d.evaluated = max(d.evaluated, now-1)
}

type second struct{ count, origin, errors, latency, shed int64 }

// judge updates the state with one completed second. d.mu is held.
func (d *Detector) judge(s second) {
	o := &d.opts
	rate := float64(s.count)
	base := max(d.baseRate, o.BaselineFloor)
	var errRatio, latency float64
	sampled := s.origin >= int64(o.MinSample)
	if s.origin > 0 {
		errRatio = float64(s.errors) / float64(s.origin)
		latency = float64(s.latency) / float64(s.origin) / 1e6
	}
	rateHot := rate >= o.MinRate && rate >= o.RateFactor*base
	errHot := sampled && errRatio >= o.ErrorRatio && errRatio >= o.ErrorFactor*max(d.baseErr, 0.01)
	latHot := sampled && latency >= o.MinLatency.Seconds() && latency >= o.LatencyFactor*max(d.baseLatency, 0.01)
	warm := d.samples >= o.Warmup
	shedHot := s.shed >= int64(o.ShedTrip)

	if !d.active.Load() {
		if shedHot {
			// Normally Shed has switched already, within the second.
			d.hotRun, d.calmRun = 0, 0
			d.switchTo(true, fmt.Sprintf("the origin is saturated: its queue refused %d requests within a second", s.shed))
			return
		}
		if warm && (rateHot || errHot || latHot) {
			d.hotRun++
			if d.hotRun >= o.TripSeconds {
				d.calmRun = 0
				d.switchTo(true, d.reason(rateHot, errHot, rate, base, errRatio, latency))
			}
			return
		}
		d.hotRun = 0
		d.learn(rate, s.origin, errRatio, latency)
		return
	}
	stillHigh := rate >= o.MinRate && rate >= o.RateFactor/2*base
	if stillHigh || errHot || latHot || shedHot {
		d.calmRun = 0
		return
	}
	d.calmRun++
	if d.calmRun >= d.quiet {
		d.hotRun = 0
		d.switchTo(false, fmt.Sprintf("quiet for %s: rate %.0f/s, baseline %.0f/s", o.QuietPeriod, rate, base))
	}
}

// learn folds a normal second into the baselines. During warm-up the
// average of the seconds so far is used, so the baseline starts right.
func (d *Detector) learn(rate float64, origin int64, errRatio, latency float64) {
	d.samples++
	a := max(d.alpha, 1/float64(d.samples))
	d.baseRate += a * (rate - d.baseRate)
	if origin > 0 {
		d.baseErr += a * (errRatio - d.baseErr)
		if d.baseLatency == 0 {
			d.baseLatency = latency
		} else {
			d.baseLatency += a * (latency - d.baseLatency)
		}
	}
}

func (d *Detector) reason(rateHot, errHot bool, rate, base, errRatio, latency float64) string {
	switch {
	case rateHot:
		return fmt.Sprintf("request rate %.0f/s is %.1fx the baseline %.0f/s", rate, rate/base, base)
	case errHot:
		return fmt.Sprintf("origin errors %.0f%% against a baseline of %.1f%%", errRatio*100, d.baseErr*100)
	default:
		return fmt.Sprintf("origin latency %s against a baseline of %s",
			time.Duration(latency*1e9).Round(time.Millisecond), time.Duration(d.baseLatency*1e9).Round(time.Millisecond))
	}
}

// switchTo flips the state, logs and counts it. d.mu is held.
func (d *Detector) switchTo(active bool, reason string) {
	d.active.Store(active)
	d.count.Add(1)
	state := "off"
	if active {
		state = "on"
	}
	d.opts.Logger.Warn("under attack mode switched "+state, "zone", d.opts.Zone, "reason", reason)
	if d.opts.OnSwitch != nil {
		d.opts.OnSwitch(active, reason)
	}
}

// Baseline returns the current baseline request rate per second, for
// status pages and tests; the seconds completed so far are evaluated
// first (a Ticker skips idle detectors).
func (d *Detector) Baseline() float64 {
	d.Tick()
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.baseRate
}
