// Package originlimit protects an origin from more work than it can take,
// as HAProxy's server maxconn and queue do: at most MaxConns requests are
// in flight to the origin at once; beyond that a request waits in a
// bounded queue, and is refused at once when the queue is full or after
// QueueTimeout in it.
//
// The queue has two classes. Priority requests (in rampart: clients that
// hold a valid clearance cookie or are exempt from the challenge) are
// always served before normal ones, and a priority request that finds the
// queue full takes the place of the newest normal waiter, which is
// refused. So while an attack fills the queue, cleared people still go
// first and are never refused for lack of room while a normal request
// holds one.
//
// A Limiter is safe for concurrent use. Admission without waiting costs
// one uncontended mutex.
package originlimit

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Reason says why a request was not admitted.
type Reason string

// The reasons a request is refused.
const (
	// Full: the queue was full.
	Full Reason = "full"
	// Timeout: the request waited QueueTimeout without getting a slot.
	Timeout Reason = "timeout"
	// Evicted: a priority request took this normal request's place in a
	// full queue.
	Evicted Reason = "evicted"
	// Canceled: the request's context ended while it waited (the client
	// went away). It is not a sign of overload, so it is not "shed".
	Canceled Reason = "canceled"
)

// Error is a refused admission.
type Error struct {
	Reason Reason
	// Err is the context's error for Canceled, nil otherwise.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("origin queue: %s: %v", e.Reason, e.Err)
	}
	return "origin queue: " + string(e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// Shed reports whether the refusal is the limiter shedding load (full,
// timeout or evicted), as opposed to the client going away.
func (e *Error) Shed() bool { return e.Reason != Canceled }

// Options configure a Limiter.
type Options struct {
	// MaxConns is the most requests in flight at once (at least 1).
	MaxConns int
	// Queue is the most requests waiting at once (0: none wait; a
	// request that finds every slot busy is refused at once).
	Queue int
	// QueueTimeout is the longest a request waits (required when Queue
	// is positive).
	QueueTimeout time.Duration
}

// Stats is a snapshot of a Limiter's state and counters.
type Stats struct {
	InFlight int // requests holding a slot
	Queued   int // requests waiting, both classes
	// QueuedPriority is the waiting priority requests.
	QueuedPriority int
	// Admitted counts the requests that got a slot, Waited those of them
	// that had to wait first, WaitSeconds the total time they waited.
	Admitted    int64
	Waited      int64
	WaitSeconds float64
	// Refused counts the refusals by reason.
	Refused map[Reason]int64
}

// Limiter caps the requests in flight to an origin, with a bounded
// priority queue.
type Limiter struct {
	max     int
	queue   int
	timeout time.Duration

	mu       sync.Mutex
	inFlight int
	prio     list.List // of *waiter, oldest first
	normal   list.List

	admitted, waited, waitNanos   atomic.Int64
	full, timedOut, evicted, gone atomic.Int64
	onShed                        atomic.Pointer[func(Reason)]
}

// waiter is one queued request. Its fields are guarded by Limiter.mu.
type waiter struct {
	ready   chan struct{} // closed when granted or evicted
	granted bool
	evicted bool
	elem    *list.Element
	prio    bool
}

// New returns a Limiter, or an error naming the bad option.
func New(o Options) (*Limiter, error) {
	switch {
	case o.MaxConns < 1:
		return nil, fmt.Errorf("origin limit: max_conns %d: must be at least 1", o.MaxConns)
	case o.Queue < 0:
		return nil, fmt.Errorf("origin limit: queue %d: must not be negative", o.Queue)
	case o.Queue > 0 && o.QueueTimeout <= 0:
		return nil, fmt.Errorf("origin limit: queue_timeout %s: must be positive", o.QueueTimeout)
	}
	return &Limiter{max: o.MaxConns, queue: o.Queue, timeout: o.QueueTimeout}, nil
}

// MaxConns returns the configured cap.
func (l *Limiter) MaxConns() int { return l.max }

// SetOnShed sets the function called, outside the limiter's lock, for
// every request refused because of load (Full, Timeout, Evicted): the
// under-attack detector's most direct signal. nil removes it. It must not
// block.
func (l *Limiter) SetOnShed(fn func(Reason)) {
	if fn == nil {
		l.onShed.Store(nil)
		return
	}
	l.onShed.Store(&fn)
}

func (l *Limiter) shed(r Reason) *Error {
	switch r {
	case Full:
		l.full.Add(1)
	case Timeout:
		l.timedOut.Add(1)
	case Evicted:
		l.evicted.Add(1)
	}
	if fn := l.onShed.Load(); fn != nil {
		(*fn)(r)
	}
	return &Error{Reason: r}
}

// Acquire waits for a slot: at once when one is free and nobody waits,
// otherwise in the queue (priority requests before normal ones, each
// class first come, first served) for at most QueueTimeout, or until ctx
// ends. On success the caller must call Release exactly once (use defer,
// so that a panic does not leak the slot). On failure it returns an
// *Error and holds nothing.
func (l *Limiter) Acquire(ctx context.Context, priority bool) error {
	l.mu.Lock()
	if l.inFlight < l.max && l.prio.Len() == 0 && l.normal.Len() == 0 {
		l.inFlight++
		l.mu.Unlock()
		l.admitted.Add(1)
		return nil
	}
	var victim *waiter
	if l.prio.Len()+l.normal.Len() >= l.queue {
		if !priority || l.normal.Len() == 0 {
			l.mu.Unlock()
			return l.shed(Full)
		}
		// A priority request takes the place of the newest normal one.
		victim = l.normal.Remove(l.normal.Back()).(*waiter)
		victim.evicted = true
		close(victim.ready)
	}
	w := &waiter{ready: make(chan struct{}), prio: priority}
	if priority {
		w.elem = l.prio.PushBack(w)
	} else {
		w.elem = l.normal.PushBack(w)
	}
	l.mu.Unlock()
	if victim != nil {
		l.shed(Evicted)
	}
	return l.wait(ctx, w)
}

// wait blocks until w is granted or evicted, its timeout passes or ctx
// ends.
func (l *Limiter) wait(ctx context.Context, w *waiter) error {
	start := time.Now()
	t := time.NewTimer(l.timeout)
	defer t.Stop()
	var reason Reason
	select {
	case <-w.ready:
	case <-t.C:
		reason = Timeout
	case <-ctx.Done():
		reason = Canceled
	}
	l.mu.Lock()
	granted, evicted := w.granted, w.evicted
	if !granted && !evicted {
		if w.prio {
			l.prio.Remove(w.elem)
		} else {
			l.normal.Remove(w.elem)
		}
	}
	l.mu.Unlock()
	switch {
	case granted && reason == Canceled:
		// The slot came as the client left: pass it on.
		l.Release()
		l.gone.Add(1)
		return &Error{Reason: Canceled, Err: ctx.Err()}
	case granted:
		l.admitted.Add(1)
		l.waited.Add(1)
		l.waitNanos.Add(int64(time.Since(start)))
		return nil
	case evicted:
		return &Error{Reason: Evicted} // counted and signalled by the evictor
	case reason == Canceled:
		l.gone.Add(1)
		return &Error{Reason: Canceled, Err: ctx.Err()}
	}
	return l.shed(Timeout)
}

// Release frees a slot taken by a successful Acquire, handing it to the
// oldest priority waiter, or else the oldest normal one.
func (l *Limiter) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, q := range []*list.List{&l.prio, &l.normal} {
		if e := q.Front(); e != nil {
			w := q.Remove(e).(*waiter)
			w.granted = true
			close(w.ready)
			return // the slot passes to w: inFlight is unchanged
		}
	}
	if l.inFlight <= 0 {
		panic(errors.New("originlimit: Release without a matching Acquire"))
	}
	l.inFlight--
}

// Stats returns a snapshot of the limiter's state and counters.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	s := Stats{InFlight: l.inFlight, Queued: l.prio.Len() + l.normal.Len(), QueuedPriority: l.prio.Len()}
	l.mu.Unlock()
	s.Admitted = l.admitted.Load()
	s.Waited = l.waited.Load()
	s.WaitSeconds = time.Duration(l.waitNanos.Load()).Seconds()
	s.Refused = map[Reason]int64{
		Full: l.full.Load(), Timeout: l.timedOut.Load(), Evicted: l.evicted.Load(), Canceled: l.gone.Load(),
	}
	return s
}
