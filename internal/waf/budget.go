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

	// After a burst that held more than a quarter of the budget, once
	// the budget has been idle for a second, the freed heap is returned
	// to the operating system (see release).
	mu        sync.Mutex
	heavy     bool
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
	if used := b.inUse.Add(n); used > b.size/4 {
		b.mu.Lock()
		b.heavy = true
		b.mu.Unlock()
	}
	var once sync.Once
	return func() { once.Do(func() { b.release(n) }) }, true
}

// release gives n bytes back. When that empties a budget that was
// heavily used, it schedules a return of memory to the operating system a
// second later: the transactions of a burst are garbage once it is over
// (Phase drops the heavy ones instead of returning them to Coraza's
// pool), but Go collects only when something allocates and returns freed
// pages gradually, so an idle node would keep the burst's peak for
// minutes. debug.FreeOSMemory (one garbage collection) runs at most once
// per freeInterval, and only after such a burst.
func (b *budget) release(n int64) {
	b.sem.Release(n)
	if b.inUse.Add(-n) != 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.heavy || b.freeTimer != nil {
		return
	}
	delay := max(time.Second, freeInterval-time.Since(b.lastFree))
	b.freeTimer = time.AfterFunc(delay, b.freeIfIdle)
}

func (b *budget) freeIfIdle() {
	b.mu.Lock()
	b.freeTimer = nil
	if b.inUse.Load() != 0 {
		// Busy again: the next release that empties it reschedules.
		b.mu.Unlock()
		return
	}
	b.heavy = false
	b.lastFree = time.Now()
	b.mu.Unlock()
	debug.FreeOSMemory()
}

// reserved returns the bytes reserved now.
func (b *budget) reserved() int64 { return b.inUse.Load() }
