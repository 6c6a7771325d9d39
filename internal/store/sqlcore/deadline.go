package sqlcore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
)

// DefaultTimeout bounds every store call whose context has no deadline
// (config timeouts.store): a hung database fails the call with
// store.ErrUnavailable instead of holding its caller for ever.
const DefaultTimeout = 5 * time.Second

// bounded is the Driver the DB runs on: every statement, query (until its
// rows are closed) and transaction gets a deadline, the caller's when its
// context has one, else now plus the timeout. Statements inside a
// transaction also stop at the transaction's deadline, whatever context
// the caller passes them. A call that fails because its deadline passed
// returns an error wrapping store.ErrUnavailable.
type bounded struct {
	Driver
	timeout atomic.Int64 // nanoseconds
}

func newBounded(drv Driver) *bounded {
	b := &bounded{Driver: drv}
	b.timeout.Store(int64(DefaultTimeout))
	return b
}

// SetTimeout sets the deadline of store calls made without one (0 or a
// negative d: DefaultTimeout).
func (db *DB) SetTimeout(d time.Duration) {
	if d <= 0 {
		d = DefaultTimeout
	}
	db.drv.(*bounded).timeout.Store(int64(d))
}

// Timeout returns the deadline of store calls made without one.
func (db *DB) Timeout() time.Duration { return time.Duration(db.drv.(*bounded).timeout.Load()) }

// Ping runs a trivial query within ctx's deadline (or the store's
// timeout), for health checks.
func (db *DB) Ping(ctx context.Context) error {
	var one int64
	if err := queryRow(ctx, db.drv, `SELECT 1`, nil, &one); err != nil {
		return fmt.Errorf("pinging the %s store: %w", db.drv.Name(), err)
	}
	return nil
}

func (b *bounded) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, time.Duration(b.timeout.Load()))
}

// unavailable wraps err in store.ErrUnavailable when ctx's deadline ended
// the call.
func unavailable(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: no answer before the deadline: %v", store.ErrUnavailable, err)
}

func (b *bounded) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	ctx, cancel := b.bound(ctx)
	defer cancel()
	n, err := b.Driver.Exec(ctx, query, args...)
	return n, unavailable(ctx, err)
}

func (b *bounded) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	return boundQuery(b.Driver, ctx, query, args, b.bound)
}

func (b *bounded) InTx(ctx context.Context, fn func(q Querier) error) error {
	ctx, cancel := b.bound(ctx)
	defer cancel()
	dl, _ := ctx.Deadline()
	err := b.Driver.InTx(ctx, func(q Querier) error {
		return fn(txBound{q: q, deadline: dl})
	})
	return unavailable(ctx, err)
}

// txBound is a transaction's Querier whose statements stop at the
// transaction's deadline.
type txBound struct {
	q        Querier
	deadline time.Time
}

func (t txBound) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if t.deadline.IsZero() {
		return ctx, func() {}
	}
	if d, ok := ctx.Deadline(); ok && !d.After(t.deadline) {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, t.deadline)
}

func (t txBound) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	ctx, cancel := t.bound(ctx)
	defer cancel()
	n, err := t.q.Exec(ctx, query, args...)
	return n, unavailable(ctx, err)
}

func (t txBound) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	return boundQuery(t.q, ctx, query, args, t.bound)
}

func boundQuery(q Querier, ctx context.Context, query string, args []any, bound func(context.Context) (context.Context, context.CancelFunc)) (Rows, error) {
	ctx, cancel := bound(ctx)
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		cancel()
		return nil, unavailable(ctx, err)
	}
	return &boundRows{Rows: rows, ctx: ctx, cancel: cancel}, nil
}

// boundRows keeps the query's deadline until the rows are closed.
type boundRows struct {
	Rows
	ctx    context.Context
	cancel context.CancelFunc
}

func (r *boundRows) Scan(dest ...any) error { return unavailable(r.ctx, r.Rows.Scan(dest...)) }
func (r *boundRows) Err() error             { return unavailable(r.ctx, r.Rows.Err()) }
func (r *boundRows) Close() {
	r.Rows.Close()
	r.cancel()
}
