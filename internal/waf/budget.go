package waf

import (
	"context"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// budget is the node's memory budget for WAF inspection (waf.memory),
// shared by every zone: each inspected request reserves its estimated
// cost (scan.cost) before Coraza sees it and gives it back when its
// transaction is done. A request that does not fit waits, first come
// first served, up to wait; at most maxWaiters wait at once, the rest are
// refused at once. So however many requests arrive, the memory Coraza
// holds for them stays near the budget.
type budget struct {
	size int64
	wait time.Duration
	sem  *semaphore.Weighted

	inUse   atomic.Int64
	waiters atomic.Int64

	// active counts the requests in the WAF phase (from the first body
	// byte read to the end of their transaction); churn the bytes they
	// took (body buffers and reservations) since memory was last
	// returned to the operating system. See enter.
	active    atomic.Int64
	churn     atomic.Int64
	mu        sync.Mutex
	lastFree  time.Time
	freeTimer *time.Timer
}

// maxWaiters bounds the requests waiting for room in the budget.
const maxWaiters = 256

// freeInterval is the least time between two returns of memory to the
// operating system.
const freeInterval = 10 * time.Second

func newBudget(size int64, wait time.Duration) *budget {
	return &budget{size: size, wait: wait, sem: semaphore.NewWeighted(size)}
}

// acquire reserves n bytes (at most the whole budget, so that any one
// request can run alone), waiting up to the budget's wait. It returns the
// function that gives them back, or ok false when the request must be
// turned away: no room in time, too many waiting, or ctx done.
func (b *budget) acquire(ctx context.Context, n int64) (release func(), ok bool) {
	n = min(max(n, 1), b.size)
	if !b.sem.TryAcquire(n) {
		if b.waiters.Add(1) > maxWaiters {
			b.waiters.Add(-1)
			return nil, false
		}
		wctx, cancel := context.WithTimeout(ctx, b.wait)
		err := b.sem.Acquire(wctx, n)
		cancel()
		b.waiters.Add(-1)
		if err != nil {
			return nil, false
		}
	}
	b.inUse.Add(n)
	var once sync.Once
	return func() {
		once.Do(func() {
			b.sem.Release(n)
			b.inUse.Add(-n)
		})
	}, true
}

// churnTrigger is how many bytes a burst must have taken before the end
// of it returns memory to the operating system.
const churnTrigger = 16 << 20

// enter counts a request into the WAF phase; the function it returns
// counts it out, with the bytes it took (its body buffer and its
// reservation). When the last request leaves after a burst that took more
// than churnTrigger, a return of memory to the operating system is
// scheduled a second later: the transactions and buffers of the burst are
// garbage by then (Phase drops heavy transactions instead of returning
// them to Coraza's pool), but Go collects only when something allocates,
// and its heap goal stays at twice the burst's peak until it does, so an
// idle node would keep that peak resident for minutes. debug.FreeOSMemory
// (one collection, then the free pages returned) runs at most once per
// freeInterval, and only after such a burst.
func (b *budget) enter() (leave func(took int64)) {
	b.active.Add(1)
	var once sync.Once
	return func(took int64) {
		once.Do(func() {
			b.churn.Add(took)
			if b.active.Add(-1) == 0 && b.churn.Load() > churnTrigger {
				b.scheduleFree()
			}
		})
	}
}

func (b *budget) scheduleFree() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.freeTimer != nil {
		return
	}
	delay := max(time.Second, freeInterval-time.Since(b.lastFree))
	b.freeTimer = time.AfterFunc(delay, b.freeIfIdle)
}

func (b *budget) freeIfIdle() {
	b.mu.Lock()
	b.freeTimer = nil
	if b.active.Load() != 0 {
		// Busy again: the last one to leave reschedules.
		b.mu.Unlock()
		return
	}
	b.churn.Store(0)
	b.lastFree = time.Now()
	b.mu.Unlock()
	debug.FreeOSMemory()
}

// reserved returns the bytes reserved now.
func (b *budget) reserved() int64 { return b.inUse.Load() }
