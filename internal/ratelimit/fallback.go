package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// FallbackOptions tune a Fallback. The zero value is usable.
type FallbackOptions struct {
	// ProbeEvery is how often, while degraded, one request tries Redis
	// again (default 1s); the others go straight to the local limiter, so
	// a dead Redis costs one failed call per interval, not one per request.
	ProbeEvery time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Fallback is a Limiter that uses Redis and, while Redis fails, a Local
// limiter, so the node keeps enforcing its limits on its own instead of
// failing open. Each switch (degraded or recovered) is logged once and
// reported through the onState callback, for the metrics.
type Fallback struct {
	primary *Redis
	local   *Local
	logger  *slog.Logger
	onState func(degraded bool)
	every   int64
	now     func() time.Time

	degraded  atomic.Bool
	nextProbe atomic.Int64 // unix ns before which no request probes Redis
	mu        sync.Mutex   // orders state transitions, their logs and callbacks
}

var _ Limiter = (*Fallback)(nil)

// NewFallback returns a Limiter that prefers primary and falls back to
// local. logger may be nil (slog.Default); onState may be nil.
func NewFallback(primary *Redis, local *Local, logger *slog.Logger, onState func(degraded bool)) *Fallback {
	return NewFallbackWithOptions(primary, local, logger, onState, FallbackOptions{})
}

// NewFallbackWithOptions is NewFallback with tuning options.
func NewFallbackWithOptions(primary *Redis, local *Local, logger *slog.Logger, onState func(degraded bool), opts FallbackOptions) *Fallback {
	if logger == nil {
		logger = slog.Default()
	}
	if opts.ProbeEvery <= 0 {
		opts.ProbeEvery = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Fallback{
		primary: primary, local: local, logger: logger, onState: onState,
		every: int64(opts.ProbeEvery), now: opts.Now,
	}
}

// Degraded reports whether the limiter is currently using its local
// fallback.
func (f *Fallback) Degraded() bool { return f.degraded.Load() }

// Allow checks and counts one request, see Limiter.
func (f *Fallback) Allow(ctx context.Context, key string, lim Limit) (Result, error) {
	return f.AllowAll(ctx, key, []Limit{lim})
}

// AllowAll checks one request against several limits, see Limiter. It
// returns an error only for invalid limits, never for a Redis failure.
func (f *Fallback) AllowAll(ctx context.Context, key string, limits []Limit) (Result, error) {
	for _, lim := range limits {
		if err := validateRedis(lim); err != nil {
			return Result{}, err
		}
	}
	if len(limits) == 0 {
		return Result{}, ErrNoLimits
	}
	if f.degraded.Load() {
		now := f.now().UnixNano()
		next := f.nextProbe.Load()
		if now < next || !f.nextProbe.CompareAndSwap(next, now+f.every) {
			return f.local.AllowAll(ctx, key, limits)
		}
	}
	r, err := f.primary.AllowAll(ctx, key, limits)
	if err == nil {
		if f.degraded.Load() {
			f.setState(false, nil)
		}
		return r, nil
	}
	if ctx.Err() == nil {
		f.nextProbe.Store(f.now().UnixNano() + f.every)
		if !f.degraded.Load() {
			f.setState(true, err)
		}
	}
	return f.local.AllowAll(ctx, key, limits)
}

func (f *Fallback) setState(degraded bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.degraded.Load() == degraded {
		return
	}
	f.degraded.Store(degraded)
	if degraded {
		f.logger.Warn("rate limiter degraded: redis unreachable, limiting with this node's local limiter", "error", err)
	} else {
		f.logger.Info("rate limiter recovered: limiting through redis again")
	}
	if f.onState != nil {
		f.onState(degraded)
	}
}
