package attack

import (
	"sync"
	"time"
)

// Ticker ticks a node's detectors (Detector.Tick) once a second from one
// goroutine, instead of one goroutine and ticker per zone. A tick matters
// only to a detector that is on (it switches off after its quiet period
// even when traffic stopped) or that saw traffic in the last seconds;
// the others are not ticked, and evaluate the seconds they missed on
// their next request, with the same result. The ticker keeps the
// detectors that need ticks apart, and its goroutine runs only while
// there are some: a node whose zones see no request has no ticker (issue
// 16); a detector's first request of a second wakes it. It is safe for
// concurrent use.
type Ticker struct {
	every time.Duration

	mu   sync.Mutex
	set  map[*Detector]struct{} // every detector added
	hot  map[*Detector]struct{} // those of set that may need a tick
	stop chan struct{}          // closes the running loop; nil when none runs
	done chan struct{}          // closed when that loop has returned
	runs int                    // loops started, for tests
}

// NewTicker returns a Ticker that ticks every second.
func NewTicker() *Ticker { return &Ticker{every: time.Second} }

// Add ticks d from now on, whenever it needs ticks.
func (t *Ticker) Add(d *Detector) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.set == nil {
		t.set = make(map[*Detector]struct{})
		t.hot = make(map[*Detector]struct{})
	}
	t.set[d] = struct{}{}
	d.ticker.Store(t)
	if d.needsTick() {
		t.heatLocked(d)
	}
}

// wake ticks d again: a request claimed a new second in it.
func (t *Ticker) wake(d *Detector) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.set[d]; ok {
		t.heatLocked(d)
	}
}

// heatLocked puts d in the ticked set and starts the loop if none runs.
// t.mu is held.
func (t *Ticker) heatLocked(d *Detector) {
	d.hot.Store(true)
	t.hot[d] = struct{}{}
	if t.stop == nil {
		t.stop, t.done = make(chan struct{}), make(chan struct{})
		t.runs++
		go t.loop(t.stop, t.done)
	}
}

// Remove stops ticking d; the loop ends with the last detector.
func (t *Ticker) Remove(d *Detector) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.set, d)
	delete(t.hot, d)
	d.ticker.CompareAndSwap(t, nil)
	d.hot.Store(false)
	if len(t.set) == 0 && t.stop != nil {
		close(t.stop)
		t.stop = nil
	}
}

// Close removes every detector and waits for the loop to return.
func (t *Ticker) Close() {
	t.mu.Lock()
	for d := range t.set {
		d.ticker.CompareAndSwap(t, nil)
	}
	clear(t.set)
	clear(t.hot)
	stop, done := t.stop, t.done
	t.stop = nil
	t.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// Len returns the number of detectors added.
func (t *Ticker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.set)
}

// ticking returns how many detectors are ticked and whether the loop runs.
func (t *Ticker) ticking() (int, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.hot), t.stop != nil
}

func (t *Ticker) loop(stop, done chan struct{}) {
	defer close(done)
	tk := time.NewTicker(t.every)
	defer tk.Stop()
	var due []*Detector
	for {
		select {
		case <-stop:
			return
		case <-tk.C:
		}
		due = due[:0]
		t.mu.Lock()
		for d := range t.hot {
			if d.needsTick() {
				due = append(due, d)
				continue
			}
			// Cleared before the second look, while a request claims
			// its second before it reads hot (both sequentially
			// consistent atomics): either this look sees the claim or
			// the request sees hot clear and wakes the ticker.
			d.hot.Store(false)
			if d.needsTick() {
				d.hot.Store(true)
				due = append(due, d)
				continue
			}
			delete(t.hot, d)
		}
		if len(t.hot) == 0 {
			if t.stop == stop {
				t.stop = nil
			}
			t.mu.Unlock()
			return
		}
		t.mu.Unlock()
		for _, d := range due {
			d.Tick()
		}
		clear(due)
	}
}

// needsTick reports whether a tick can change d now: it is on, or it saw
// a request in the last TripSeconds+1 seconds (only requests claim a
// second's bucket; Tick does not).
func (d *Detector) needsTick() bool {
	if d.active.Load() {
		return true
	}
	now := d.opts.Now().Unix()
	for s := now - int64(min(d.opts.TripSeconds+1, ringSize-1)); s <= now; s++ {
		if d.buckets[uint64(s)%ringSize].sec.Load() == s {
			return true
		}
	}
	return false
}
