package attack

import (
	"sync"
	"time"
)

// Ticker ticks a node's detectors (Detector.Tick) once a second from one
// goroutine, instead of one goroutine and ticker per zone. A tick matters
// only to a detector that is on (it switches off after its quiet period
// even when traffic stopped) or that saw traffic in the last seconds;
// the others are skipped, and evaluate the seconds they missed on their
// next request, with the same result. The goroutine runs while at least
// one detector is added. It is safe for concurrent use.
type Ticker struct {
	every time.Duration

	mu   sync.Mutex
	set  map[*Detector]struct{}
	stop chan struct{} // closes the running loop; nil when none runs
	done chan struct{} // closed when that loop has returned
}

// NewTicker returns a Ticker that ticks every second.
func NewTicker() *Ticker { return &Ticker{every: time.Second} }

// Add ticks d from now on.
func (t *Ticker) Add(d *Detector) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.set == nil {
		t.set = make(map[*Detector]struct{})
	}
	t.set[d] = struct{}{}
	if t.stop == nil {
		t.stop, t.done = make(chan struct{}), make(chan struct{})
		go t.loop(t.stop, t.done)
	}
}

// Remove stops ticking d; the loop ends with the last detector.
func (t *Ticker) Remove(d *Detector) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.set, d)
	if len(t.set) == 0 && t.stop != nil {
		close(t.stop)
		t.stop = nil
	}
}

// Close removes every detector and waits for the loop to return.
func (t *Ticker) Close() {
	t.mu.Lock()
	clear(t.set)
	stop, done := t.stop, t.done
	t.stop = nil
	t.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// Len returns the number of detectors ticked.
func (t *Ticker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.set)
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
		for d := range t.set {
			if d.needsTick() {
				due = append(due, d)
			}
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
