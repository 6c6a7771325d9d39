// Package inflight counts the requests using one thing (a zone's running
// parts) and tells when the last one has ended after the thing was
// retired, so that it can be closed without cutting a request off.
package inflight

import (
	"sync"
	"sync/atomic"
)

// retiredBias is subtracted from the count on Retire: a negative count
// means retired, and the count reaches -retiredBias when the last request
// has ended.
const retiredBias = 1 << 62

// Counter counts requests in flight. The zero value is not usable; use New.
type Counter struct {
	n    atomic.Int64
	once sync.Once
	done chan struct{}
}

// New returns a counter with no request in flight.
func New() *Counter { return &Counter{done: make(chan struct{})} }

// Acquire counts one more request, or returns false (counting nothing) if
// the counter was retired: the caller must not use what it guards.
func (c *Counter) Acquire() bool {
	if c.n.Add(1) > 0 {
		return true
	}
	c.Release()
	return false
}

// Release ends a request counted by a successful Acquire.
func (c *Counter) Release() {
	if c.n.Add(-1) == -retiredBias {
		c.once.Do(func() { close(c.done) })
	}
}

// Retire refuses every later Acquire; Done is closed once the requests in
// flight have ended (at once if there are none). Retire twice is a no-op.
func (c *Counter) Retire() {
	for {
		n := c.n.Load()
		if n < 0 {
			return
		}
		if c.n.CompareAndSwap(n, n-retiredBias) {
			if n == 0 {
				c.once.Do(func() { close(c.done) })
			}
			return
		}
	}
}

// Done is closed when the counter is retired and no request is in flight.
func (c *Counter) Done() <-chan struct{} { return c.done }

// InFlight returns the number of requests in flight.
func (c *Counter) InFlight() int64 {
	n := c.n.Load()
	if n < 0 {
		n += retiredBias
	}
	return n
}
