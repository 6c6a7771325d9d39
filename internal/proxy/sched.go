package proxy

import (
	"container/heap"
	"math/rand/v2"
	"sync"
	"time"
)

// DefaultMaxChecks is how many active health checks a Scheduler runs at
// once when SchedulerOptions.MaxChecks is zero.
const DefaultMaxChecks = 64

// SchedulerOptions tune a Scheduler.
type SchedulerOptions struct {
	// MaxChecks bounds the health checks in flight at once, over every
	// proxy of the scheduler (default DefaultMaxChecks). Checks that come
	// due while every slot is taken wait for one, in the order they came
	// due.
	MaxChecks int
}

// Scheduler runs the timed work of a node's proxies: the active health
// check of every origin, the reaping of idle origin connections with the
// end of passive ejections, and the watch of origin waits whose client
// went away. It holds one runtime timer for all of them (a heap of due
// times) and starts a goroutine only for work that is due: a node with
// 10,000 zones has no goroutine and no ticker per zone or per origin,
// and a zone whose origins have no idle connection, no ejection and no
// request waiting costs nothing while idle. It is safe for concurrent
// use.
type Scheduler struct {
	maxChecks int

	mu      sync.Mutex
	tasks   taskHeap
	timer   *time.Timer // fires at tasks[0].due; nil until the first task
	armedAt time.Time   // when timer fires; zero when it is stopped
	running int         // health checks in flight
	pending []*task     // checks due while every slot was taken, FIFO

	watched    []*Proxy // proxies with requests waiting on an origin
	watchTimer *time.Timer
	watchArmed bool

	closed bool
}

// NewScheduler returns a Scheduler; it starts nothing until a proxy is
// started on it.
func NewScheduler(opts SchedulerOptions) *Scheduler {
	if opts.MaxChecks <= 0 {
		opts.MaxChecks = DefaultMaxChecks
	}
	return &Scheduler{maxChecks: opts.MaxChecks}
}

// defaultScheduler serves the proxies built without Options.Scheduler.
var defaultScheduler = sync.OnceValue(func() *Scheduler { return NewScheduler(SchedulerOptions{}) })

// Close stops the scheduler's timers; the work of proxies still started
// on it no longer runs (close them first).
func (s *Scheduler) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
	}
	if s.watchTimer != nil {
		s.watchTimer.Stop()
	}
	for _, t := range s.tasks {
		t.idx = -1 // out of the heap: a proxy closed later has nothing to remove
	}
	s.tasks = nil
	s.pending = nil
	s.watched = nil
}

// Stats are a Scheduler's counts, for tests and status pages.
type Stats struct {
	Tasks   int // health checks and reaps waiting for their time
	Running int // health checks in flight
	Pending int // health checks due, waiting for a slot
	Watched int // proxies with requests waiting on an origin
}

// Stats returns the scheduler's current counts.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Tasks: len(s.tasks), Running: s.running, Pending: len(s.pending), Watched: len(s.watched)}
}

type taskKind uint8

const (
	taskCheck taskKind = iota // an origin's active health check
	taskReap                  // a proxy's idle connections and ejections
)

// task is one proxy's timed work. A task is in the heap (idx >= 0), in
// pending, running, or idle (a reap with nothing to do); never two of
// these at once.
type task struct {
	due  time.Time
	idx  int // index in the heap; -1 when not in it
	kind taskKind
	p    *Proxy
	o    *origin    // taskCheck
	hc   *checkSpec // taskCheck: the request, built once
	// ok and bad count the consecutive passing and failing checks; only
	// the goroutine running the check touches them.
	ok, bad int
	dropped bool // the proxy was closed; s.mu guards it
}

type taskHeap []*task

func (h taskHeap) Len() int           { return len(h) }
func (h taskHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h taskHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *taskHeap) Push(x any) {
	t := x.(*task)
	t.idx = len(*h)
	*h = append(*h, t)
}
func (h *taskHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.idx = -1
	return t
}

// schedule puts t in the heap at due and re-arms the timer when t is now
// the first. s.mu is held.
func (s *Scheduler) scheduleLocked(t *task, due time.Time) {
	if s.closed || t.dropped {
		return
	}
	t.due = due
	if t.idx >= 0 {
		heap.Fix(&s.tasks, t.idx)
	} else {
		heap.Push(&s.tasks, t)
	}
	s.armLocked()
}

// armLocked sets the timer to the first task's due time. s.mu is held.
func (s *Scheduler) armLocked() {
	if len(s.tasks) == 0 {
		if s.timer != nil && !s.armedAt.IsZero() {
			s.timer.Stop()
			s.armedAt = time.Time{}
		}
		return
	}
	due := s.tasks[0].due
	if !s.armedAt.IsZero() && !due.Before(s.armedAt) {
		return // the timer fires earlier and will re-arm
	}
	d := max(time.Until(due), 0)
	if s.timer == nil {
		s.timer = time.AfterFunc(d, s.fire)
	} else {
		s.timer.Reset(d)
	}
	s.armedAt = due
}

// fire runs the due tasks: reaps inline, health checks on a goroutine
// each, up to maxChecks at once.
func (s *Scheduler) fire() {
	var reaps []*task
	s.mu.Lock()
	s.armedAt = time.Time{}
	now := time.Now()
	for len(s.tasks) > 0 && !s.tasks[0].due.After(now) {
		t := heap.Pop(&s.tasks).(*task)
		switch t.kind {
		case taskReap:
			reaps = append(reaps, t)
		case taskCheck:
			s.startCheckLocked(t)
		}
	}
	s.armLocked()
	s.mu.Unlock()
	for _, t := range reaps {
		t.p.reap(t)
	}
}

// startCheckLocked runs t's health check on a new goroutine, or queues
// it when every slot is taken. s.mu is held.
func (s *Scheduler) startCheckLocked(t *task) {
	if s.running >= s.maxChecks {
		s.pending = append(s.pending, t)
		return
	}
	s.running++
	t.p.wg.Add(1) // before Close's Wait: Close drops the tasks under s.mu first
	go s.runChecks(t)
}

// runChecks runs t's check, schedules its next one, and goes on with the
// checks that waited for a slot.
func (s *Scheduler) runChecks(t *task) {
	for t != nil {
		t.p.runCheck(t)
		t.p.wg.Done()
		s.mu.Lock()
		if !t.dropped {
			s.scheduleLocked(t, time.Now().Add(t.p.hc.Interval))
		}
		t = nil
		if len(s.pending) > 0 && !s.closed {
			t = s.pending[0]
			s.pending[0] = nil
			s.pending = s.pending[1:]
			t.p.wg.Add(1)
		} else {
			s.running--
		}
		s.mu.Unlock()
	}
}

// add schedules the tasks of a started proxy: each origin's first health
// check at a random point within its interval, so that zones started
// together do not check together.
func (s *Scheduler) add(ts []*task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for _, t := range ts {
		iv := t.p.hc.Interval
		s.scheduleLocked(t, now.Add(iv/2+rand.N(iv/2+1)))
	}
}

// remove drops a closing proxy's tasks: a check in flight finishes, but
// none starts after remove returns.
func (s *Scheduler) remove(p *Proxy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range p.tasks {
		t.dropped = true
		if t.idx >= 0 && t.idx < len(s.tasks) && s.tasks[t.idx] == t {
			heap.Remove(&s.tasks, t.idx)
		}
	}
	if len(s.pending) > 0 {
		keep := s.pending[:0]
		for _, t := range s.pending {
			if !t.dropped {
				keep = append(keep, t)
			}
		}
		clear(s.pending[len(keep):])
		s.pending = keep
	}
	for i, w := range s.watched {
		if w == p {
			s.watched = append(s.watched[:i], s.watched[i+1:]...)
			break
		}
	}
	s.armLocked()
}

// armReap schedules p's reap task after d unless it is scheduled.
func (s *Scheduler) armReap(t *task, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.idx < 0 {
		s.scheduleLocked(t, time.Now().Add(d))
	}
}

// watch adds p, which has a request waiting on an origin, to the proxies
// whose waits are checked every watchEvery.
func (s *Scheduler) watch(p *Proxy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.watched = append(s.watched, p)
	if !s.watchArmed {
		s.watchArmed = true
		if s.watchTimer == nil {
			s.watchTimer = time.AfterFunc(watchEvery, s.watchTick)
		} else {
			s.watchTimer.Reset(watchEvery)
		}
	}
}

// watchTick interrupts the waits of clients that went away and keeps
// watching the proxies that still have waits.
func (s *Scheduler) watchTick() {
	s.mu.Lock()
	list := s.watched
	s.watched = nil
	s.mu.Unlock()
	keep := list[:0]
	for _, p := range list {
		if p.waits.interrupt() {
			keep = append(keep, p)
		}
	}
	clear(list[len(keep):])
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.watched = append(keep, s.watched...)
	if len(s.watched) > 0 {
		s.watchTimer.Reset(watchEvery)
	} else {
		s.watchArmed = false
	}
}
