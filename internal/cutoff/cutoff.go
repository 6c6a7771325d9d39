// Package cutoff ends a zone's long-lived exchanges at once. WebSocket and
// other upgraded tunnels and streaming responses (server-sent events, slow
// downloads) register in their zone's Set while they run; Cut ends every
// one registered (a compliance decision that stops serving the zone: a
// tunnel opened before a suspension must not keep relaying), and Retire
// ends them and every later one (a reload that removed the zone).
//
// A Set also asks an admit function, when it has one, at every Add: an
// exchange that registers after the zone stopped being served (it passed
// the zone's checks just before the decision) is ended at once. Admit is
// read after the decision was published and Cut takes the Set's lock after
// that, so no exchange slips between the two.
//
// Registering costs one mutex round and a slice append; short responses
// (bodies already buffered) never register.
package cutoff

import (
	"sync"
	"sync/atomic"
)

// Ender ends one exchange: it closes its connections or moves their
// deadlines to the past, so that the goroutines relaying it return. It is
// called at most once per Add and must not block.
type Ender interface {
	EndExchange()
}

// Exchange is one registered exchange; its storage belongs to the caller
// (it can be embedded in a pooled connection). The zero value is ready
// for Add.
type Exchange struct {
	e     Ender
	idx   int
	ended atomic.Bool
}

// Ended reports whether the exchange was ended by Cut or Retire, or
// refused by Add.
func (x *Exchange) Ended() bool { return x.ended.Load() }

func (x *Exchange) end() {
	if x.ended.CompareAndSwap(false, true) {
		x.e.EndExchange()
	}
}

// Set is one zone's registry of running exchanges. The zero value is
// ready to use and admits everything.
type Set struct {
	admit   func() bool
	mu      sync.Mutex
	live    []*Exchange
	retired bool
	ended   atomic.Int64
}

// New returns a Set that asks admit (when not nil) at every Add whether
// the zone is still served.
func New(admit func() bool) *Set { return &Set{admit: admit} }

// Add registers x, ended by e. It returns false, without calling e, when
// the Set is retired or its admit function says the zone is no longer
// served: the caller must not start the exchange (x is not registered
// and needs no Remove).
func (s *Set) Add(x *Exchange, e Ender) bool {
	x.e = e
	x.ended.Store(false)
	s.mu.Lock()
	if s.retired || (s.admit != nil && !s.admit()) {
		s.mu.Unlock()
		x.idx = -1
		x.e = nil
		x.ended.Store(true)
		s.ended.Add(1)
		return false
	}
	x.idx = len(s.live)
	s.live = append(s.live, x)
	s.mu.Unlock()
	return true
}

// Remove unregisters x (added with a true result) when its exchange is
// over.
func (s *Set) Remove(x *Exchange) {
	s.mu.Lock()
	if i := x.idx; i >= 0 && i < len(s.live) && s.live[i] == x {
		last := len(s.live) - 1
		moved := s.live[last]
		s.live[i] = moved
		moved.idx = i
		s.live[last] = nil
		s.live = s.live[:last]
	}
	x.idx = -1
	x.e = nil
	s.mu.Unlock()
}

// Cut ends every registered exchange and returns how many it ended.
// Later exchanges are admitted as the admit function says.
func (s *Set) Cut() int { return s.cut(false) }

// Retire ends every registered exchange and every one added later; it
// returns how many it ended now.
func (s *Set) Retire() int { return s.cut(true) }

func (s *Set) cut(retire bool) int {
	s.mu.Lock()
	if retire {
		s.retired = true
	}
	var ends []*Exchange
	for _, x := range s.live {
		if !x.ended.Load() {
			ends = append(ends, x)
		}
	}
	// The enders run under the lock: they only close connections or set
	// deadlines, and Remove (called by the exchange's goroutine when it
	// notices) must not reuse x's storage before its Ender ran.
	for _, x := range ends {
		x.end()
	}
	s.mu.Unlock()
	s.ended.Add(int64(len(ends)))
	return len(ends)
}

// Len returns how many exchanges are registered now.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

// Ended returns how many exchanges Cut, Retire and refused Adds ended so
// far.
func (s *Set) Ended() int64 { return s.ended.Load() }
