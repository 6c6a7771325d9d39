package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ListenOptions configure Listen.
type ListenOptions struct {
	// Notify is called for every notification on the channel, and once
	// after each (re)connection, since notifications sent while the
	// connection was down are lost: the caller re-reads the state then.
	Notify func()
	// Connected is called with nil once listening, and with the error
	// each time the connection fails or cannot be made; optional.
	Connected func(err error)
	// MinBackoff and MaxBackoff bound the wait between reconnection
	// attempts, doubling from MinBackoff (default 100ms, 5s).
	MinBackoff, MaxBackoff time.Duration
}

// Listen listens on channel over a dedicated connection to url (not one of
// the pool's, which LISTEN would pin) until ctx is done, reconnecting with
// backoff: the pattern of jackc/pgxlisten and River's notifier. It returns
// when ctx is done.
func Listen(ctx context.Context, url, channel string, o ListenOptions) {
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	report := func(err error) {
		if o.Connected != nil {
			o.Connected(err)
		}
	}
	backoff := o.MinBackoff
	for ctx.Err() == nil {
		err := listenOnce(ctx, url, channel, o.Notify, func() {
			backoff = o.MinBackoff
			report(nil)
		})
		if ctx.Err() != nil {
			return
		}
		report(err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, o.MaxBackoff)
	}
}

// listenOnce connects, listens and waits for notifications until the
// connection fails or ctx is done.
func listenOnce(ctx context.Context, url, channel string, notify, listening func()) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := pgx.Connect(cctx, url)
	cancel()
	if err != nil {
		return fmt.Errorf("listening for state changes: connecting: %w", redact(err, url))
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return fmt.Errorf("listening for state changes: %w", err)
	}
	listening()
	notify() // what changed while not listening
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("listening for state changes: %w", err)
		}
		notify()
	}
}
