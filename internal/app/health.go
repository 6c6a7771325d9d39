package app

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// healthTimeout bounds how long GET /healthz waits for the control-plane
// store: a slow or hung store makes /healthz answer 503 within it, never
// hang.
const healthTimeout = time.Second

// healthEvery is how long a store probe's result is reused, so that a
// load balancer polling /healthz sends the store one query a second at
// most.
const healthEvery = time.Second

// pinger is the store's health probe (sqlcore.DB.Ping).
type pinger interface {
	Ping(ctx context.Context) error
	Dialect() string
}

// storeProbe runs one store ping at a time and keeps its last result.
type storeProbe struct {
	mu      sync.Mutex
	at      time.Time
	err     error
	running chan struct{} // closed when the probe in flight ends; nil if none
}

// storeHealth reports nil when the control-plane store answered a ping
// within healthTimeout (a result up to healthEvery old is reused), else an
// error naming the store. It waits at most healthTimeout.
func (a *App) storeHealth() error {
	d := a.desk.Load()
	if d == nil {
		return nil
	}
	p, ok := d.store.(pinger)
	if !ok {
		return nil
	}
	pr := &a.probe
	pr.mu.Lock()
	if pr.running == nil && !pr.at.IsZero() && time.Since(pr.at) < healthEvery {
		err := pr.err
		pr.mu.Unlock()
		return err
	}
	ch := pr.running
	if ch == nil {
		ch = make(chan struct{})
		pr.running = ch
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
			err := p.Ping(ctx)
			cancel()
			if err != nil {
				err = fmt.Errorf("degraded: the control-plane store (%s) did not answer within %s: %w", p.Dialect(), healthTimeout, err)
			}
			pr.mu.Lock()
			pr.at, pr.err, pr.running = time.Now(), err, nil
			pr.mu.Unlock()
			close(ch)
		}()
	}
	pr.mu.Unlock()
	t := time.NewTimer(healthTimeout + 100*time.Millisecond)
	defer t.Stop()
	select {
	case <-ch:
		pr.mu.Lock()
		defer pr.mu.Unlock()
		return pr.err
	case <-t.C:
		return fmt.Errorf("degraded: the control-plane store (%s) did not answer within %s", p.Dialect(), healthTimeout)
	}
}
