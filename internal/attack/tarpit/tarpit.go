// Package tarpit slows down the clients that keep asking for what they are
// refused: under attack, a client address that was served more than a few
// challenge pages recently gets the next ones only after a delay.
//
// A flood tool runs a closed loop on each connection: it sends its next
// request as soon as the last answer arrives, so answering it fast only
// makes it ask faster, and each answer costs CPU that the people the edge
// exists for need. Holding its answer for a second costs a parked
// goroutine and a timer, and cuts its rate on that connection to one
// request a second. A browser is challenged once, solves, and comes back
// with its clearance, so it never reaches the tarpit; several people
// behind one address share its free allowance, and past it wait the delay
// once each.
package tarpit

import (
	"context"
	"net/netip"
	"time"

	"github.com/rampart-edge/rampart/internal/ratelimit"
)

// Defaults of Options.
const (
	DefaultFree     = 5
	DefaultWindow   = 10 * time.Second
	DefaultDelay    = time.Second
	DefaultMaxHosts = 100_000
)

// Options tune a Tarpit. Zero fields take the defaults.
type Options struct {
	// Free is how many refusals an address gets without delay per Window
	// (default 5 per 10s, refilled steadily: GCRA).
	Free   int
	Window time.Duration
	// Delay is how long a refusal past the free allowance is held
	// (default 1s).
	Delay time.Duration
	// MaxHosts bounds the addresses remembered (default 100,000).
	MaxHosts int
	// Now is the clock of the allowance (default time.Now).
	Now func() time.Time
}

// Tarpit delays refusals to clients past their free allowance. It is safe
// for concurrent use.
type Tarpit struct {
	lim   *ratelimit.Local
	limit ratelimit.Limit
	delay time.Duration
}

// New returns a Tarpit.
func New(o Options) *Tarpit {
	if o.Free <= 0 {
		o.Free = DefaultFree
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Delay <= 0 {
		o.Delay = DefaultDelay
	}
	if o.MaxHosts <= 0 {
		o.MaxHosts = DefaultMaxHosts
	}
	return &Tarpit{
		lim:   ratelimit.NewLocal(ratelimit.LocalOptions{MaxEntries: o.MaxHosts, Now: o.Now}),
		limit: ratelimit.Limit{Requests: o.Free, Per: o.Window, Burst: o.Free - 1},
		delay: o.Delay,
	}
}

// Key is the address a client is counted under: IPv4 addresses as they
// are, IPv6 ones by /64 (one subscriber's network).
func Key(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return a
}

// Over counts one refusal for client and reports whether it is past its
// free allowance (and should be held).
func (t *Tarpit) Over(client netip.Addr) bool {
	res, err := t.lim.Allow(context.Background(), Key(client).String(), t.limit)
	return err == nil && !res.Allowed
}

// Hold counts one refusal for client and, past its free allowance, waits
// Delay or until ctx ends. It reports whether it waited.
func (t *Tarpit) Hold(ctx context.Context, client netip.Addr) bool {
	if !t.Over(client) {
		return false
	}
	tm := time.NewTimer(t.delay)
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-ctx.Done():
	}
	return true
}
