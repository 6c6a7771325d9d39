package originlimit

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func mustNew(t *testing.T, o Options) *Limiter {
	t.Helper()
	l, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// waitQueued waits until n requests wait in l (the goroutines that
// called Acquire have reached the queue).
func waitQueued(t *testing.T, l *Limiter, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for l.Stats().Queued != n {
		if time.Now().After(deadline) {
			t.Fatalf("queued = %d, want %d", l.Stats().Queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func reasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		ok   bool
	}{
		{"minimal", Options{MaxConns: 1}, true},
		{"queue", Options{MaxConns: 4, Queue: 8, QueueTimeout: time.Second}, true},
		{"zero conns", Options{MaxConns: 0}, false},
		{"negative queue", Options{MaxConns: 1, Queue: -1}, false},
		{"queue without timeout", Options{MaxConns: 1, Queue: 2}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.o)
			if (err == nil) != tc.ok {
				t.Fatalf("New(%+v) error = %v, want ok=%v", tc.o, err, tc.ok)
			}
		})
	}
}

func TestCapacityAndFullQueue(t *testing.T) {
	for _, tc := range []struct{ conns, queue int }{{1, 0}, {1, 1}, {3, 2}, {16, 64}} {
		l := mustNew(t, Options{MaxConns: tc.conns, Queue: tc.queue, QueueTimeout: time.Minute})
		ctx := context.Background()
		for i := range tc.conns {
			if err := l.Acquire(ctx, false); err != nil {
				t.Fatalf("%+v: acquire %d: %v", tc, i, err)
			}
		}
		if s := l.Stats(); s.InFlight != tc.conns {
			t.Fatalf("%+v: in flight %d", tc, s.InFlight)
		}
		results := make(chan error, tc.queue)
		for range tc.queue {
			go func() {
				err := l.Acquire(ctx, false)
				if err == nil {
					l.Release()
				}
				results <- err
			}()
		}
		waitQueued(t, l, tc.queue)
		// Queue full: the next normal request is refused at once.
		if err := l.Acquire(ctx, false); reasonOf(err) != Full {
			t.Fatalf("%+v: acquire past the queue = %v, want full", tc, err)
		}
		for range tc.conns {
			l.Release()
		}
		for range tc.queue {
			if err := <-results; err != nil {
				t.Fatalf("%+v: queued acquire: %v", tc, err)
			}
		}
		s := l.Stats()
		if s.InFlight != 0 || s.Queued != 0 {
			t.Fatalf("%+v: leaked: %+v", tc, s)
		}
		if s.Admitted != int64(tc.conns+tc.queue) || s.Waited != int64(tc.queue) || s.Refused[Full] != 1 {
			t.Fatalf("%+v: counters %+v", tc, s)
		}
	}
}

// TestPriorityOrder: priority waiters get slots before normal ones, each
// class in arrival order.
func TestPriorityOrder(t *testing.T) {
	l := mustNew(t, Options{MaxConns: 1, Queue: 10, QueueTimeout: time.Minute})
	ctx := context.Background()
	if err := l.Acquire(ctx, false); err != nil {
		t.Fatal(err)
	}
	arrivals := []struct {
		name string
		prio bool
	}{{"n1", false}, {"n2", false}, {"p1", true}, {"n3", false}, {"p2", true}}
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	for i, a := range arrivals {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Acquire(ctx, a.prio); err != nil {
				t.Errorf("%s: %v", a.name, err)
				return
			}
			mu.Lock()
			order = append(order, a.name)
			mu.Unlock()
			l.Release() // hands the slot to the next waiter
		}()
		waitQueued(t, l, i+1) // fix the arrival order
	}
	l.Release()
	wg.Wait()
	want := []string{"p1", "p2", "n1", "n2", "n3"}
	if len(order) != len(want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
}

// TestPriorityEvictsNewestNormal: a priority request that finds the queue
// full takes the newest normal waiter's place; with only priority
// waiters it is refused.
func TestPriorityEvictsNewestNormal(t *testing.T) {
	l := mustNew(t, Options{MaxConns: 1, Queue: 2, QueueTimeout: time.Minute})
	var shed []Reason
	var smu sync.Mutex
	l.SetOnShed(func(r Reason) { smu.Lock(); shed = append(shed, r); smu.Unlock() })
	ctx := context.Background()
	if err := l.Acquire(ctx, false); err != nil {
		t.Fatal(err)
	}
	old, young := make(chan error, 1), make(chan error, 1)
	go func() { old <- l.Acquire(ctx, false) }()
	waitQueued(t, l, 1)
	go func() { young <- l.Acquire(ctx, false) }()
	waitQueued(t, l, 2)

	prio := make(chan error, 1)
	go func() { prio <- l.Acquire(ctx, true) }()
	if err := <-young; reasonOf(err) != Evicted {
		t.Fatalf("newest normal waiter: %v, want evicted", err)
	}
	waitQueued(t, l, 2)
	if s := l.Stats(); s.QueuedPriority != 1 {
		t.Fatalf("queued priority %d, want 1", s.QueuedPriority)
	}
	// Queue full again; a second priority request evicts the old normal.
	prio2 := make(chan error, 1)
	go func() { prio2 <- l.Acquire(ctx, true) }()
	if err := <-old; reasonOf(err) != Evicted {
		t.Fatalf("older normal waiter: %v, want evicted", err)
	}
	waitQueued(t, l, 2)
	// Only priority waiters left: a third is refused, as is a normal one.
	for _, p := range []bool{true, false} {
		if err := l.Acquire(ctx, p); reasonOf(err) != Full {
			t.Fatalf("priority=%v on a queue of priority waiters: %v, want full", p, err)
		}
	}
	l.Release()
	if err := <-prio; err != nil {
		t.Fatal(err)
	}
	l.Release()
	if err := <-prio2; err != nil {
		t.Fatal(err)
	}
	l.Release()
	s := l.Stats()
	if s.InFlight != 0 || s.Queued != 0 || s.Refused[Evicted] != 2 || s.Refused[Full] != 2 {
		t.Fatalf("stats %+v", s)
	}
	smu.Lock()
	defer smu.Unlock()
	if len(shed) != 4 || shed[0] != Evicted || shed[1] != Evicted || shed[2] != Full || shed[3] != Full {
		t.Fatalf("shed signals %v, want [evicted evicted full full]", shed)
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cancel bool
		want   Reason
		shed   int64
	}{
		{"timeout", false, Timeout, 1},
		{"client went away", true, Canceled, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			timeout := 20 * time.Millisecond
			if tc.cancel {
				timeout = time.Minute
			}
			l := mustNew(t, Options{MaxConns: 1, Queue: 4, QueueTimeout: timeout})
			var shed atomic.Int64
			l.SetOnShed(func(Reason) { shed.Add(1) })
			if err := l.Acquire(context.Background(), false); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			res := make(chan error, 1)
			go func() { res <- l.Acquire(ctx, true) }()
			waitQueued(t, l, 1)
			if tc.cancel {
				cancel()
			}
			err := <-res
			if reasonOf(err) != tc.want {
				t.Fatalf("err %v, want %s", err, tc.want)
			}
			if tc.cancel && !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v does not wrap context.Canceled", err)
			}
			if s := l.Stats(); s.Queued != 0 || s.InFlight != 1 || s.Refused[tc.want] != 1 {
				t.Fatalf("stats %+v", s)
			}
			if shed.Load() != tc.shed {
				t.Fatalf("shed signals %d, want %d", shed.Load(), tc.shed)
			}
			l.Release()
			if s := l.Stats(); s.InFlight != 0 {
				t.Fatalf("in flight %d after release", s.InFlight)
			}
		})
	}
}

func TestReleaseWithoutAcquirePanics(t *testing.T) {
	l := mustNew(t, Options{MaxConns: 1})
	defer func() {
		if recover() == nil {
			t.Fatal("Release without Acquire did not panic")
		}
	}()
	l.Release()
}

// TestNoLeakUnderChurn: many requests of both classes, some cancelled,
// some timing out, some panicking while they hold a slot (released by
// defer): afterwards nothing is in flight or queued, and the cap was
// never exceeded.
func TestNoLeakUnderChurn(t *testing.T) {
	const conns = 4
	l := mustNew(t, Options{MaxConns: conns, Queue: 8, QueueTimeout: 5 * time.Millisecond})
	var inside, peak atomic.Int64
	var wg sync.WaitGroup
	for i := range 400 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { recover() }()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if i%7 == 0 {
				go func() { time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond); cancel() }()
			}
			if err := l.Acquire(ctx, i%3 == 0); err != nil {
				return
			}
			defer l.Release()
			n := inside.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(time.Duration(rand.IntN(2)) * time.Millisecond)
			inside.Add(-1)
			if i%11 == 0 {
				panic("handler failed")
			}
		}()
	}
	wg.Wait()
	s := l.Stats()
	if s.InFlight != 0 || s.Queued != 0 {
		t.Fatalf("leaked: %+v", s)
	}
	if peak.Load() > conns {
		t.Fatalf("peak in flight %d > %d", peak.Load(), conns)
	}
	var refused int64
	for _, n := range s.Refused {
		refused += n
	}
	if s.Admitted+refused != 400 {
		t.Fatalf("admitted %d + refused %d != 400", s.Admitted, refused)
	}
}

func BenchmarkAcquireRelease(b *testing.B) {
	l, _ := New(Options{MaxConns: 1 << 20})
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if l.Acquire(ctx, false) == nil {
				l.Release()
			}
		}
	})
}
