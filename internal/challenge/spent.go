package challenge

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"time"
)

// DefaultMaxSpent is the default bound of the spent-challenge set
// (Options.MaxSpent): 262,144 challenges solved within one ChallengeTTL
// (875 a second for 5 minutes), about 9 MiB of heap when full.
const DefaultMaxSpent = 1 << 18

// errSpentFull is returned when the spent-challenge set is full.
var errSpentFull = errors.New("challenge: spent-challenge set full")

// SharedSpent records spent challenges across the nodes of a cluster
// (RedisSpent). Spend reports whether id was not spent before, and
// records it for ttl (until the challenge expires); an error means the shared record could not be
// consulted, and the node then relies on its own set.
type SharedSpent interface {
	Spend(ctx context.Context, id [16]byte, ttl time.Duration) (first bool, err error)
}

// spentSet is one node's set of spent challenge ids. An id is kept until
// its challenge expires (after that its token is refused anyway), in
// buckets by expiry, so that expired ids go by whole buckets and no
// sweep walks the set. It holds at most max ids: a full set refuses new
// solutions (fail-closed) rather than forget an unexpired id, which
// would let its solution be replayed.
type spentSet struct {
	mu      sync.Mutex
	width   int64 // seconds of expiry per bucket
	max     int
	n       int
	buckets map[int64]map[uint64]struct{} // by exp / width
}

func newSpentSet(ttl time.Duration, max int) *spentSet {
	w := int64(ttl/time.Second) / 8
	if w < 1 {
		w = 1
	}
	return &spentSet{width: w, max: max, buckets: map[int64]map[uint64]struct{}{}}
}

// spend records id (expiring at exp, Unix seconds) and reports whether it
// was not spent before; errSpentFull if the set is full. Ids are the
// first 8 bytes of a token's random nonce: with the set full, a new
// token shares one with a kept id with probability about 1.4e-14, and
// such a collision refuses a solution, never admits one.
func (s *spentSet) spend(nonce [16]byte, exp, now int64) (bool, error) {
	id := binary.LittleEndian.Uint64(nonce[:8])
	b := exp / s.width
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, m := range s.buckets {
		if (k+1)*s.width <= now {
			s.n -= len(m)
			delete(s.buckets, k)
		}
	}
	m := s.buckets[b]
	if _, ok := m[id]; ok {
		return false, nil
	}
	if s.n >= s.max {
		return false, errSpentFull
	}
	if m == nil {
		m = map[uint64]struct{}{}
		s.buckets[b] = m
	}
	m[id] = struct{}{}
	s.n++
	return true, nil
}

// len returns the number of ids held.
func (s *spentSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}
