package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// LocalOptions configure a Local limiter.
type LocalOptions struct {
	// MaxEntries bounds the number of keys held (default 1,000,000,
	// around 150 MB at worst). When a shard is full, a new key replaces
	// an expired entry near the oldest (an expired key is the same as an
	// unknown one, so this changes no decision), or else the oldest entry,
	// which forgets that client's recent use: under memory pressure a
	// limit errs towards allowing rather than growing without bound.
	MaxEntries int
	// Shards is the number of independently locked maps (default 64,
	// rounded up to a power of two).
	Shards int
	// Now is the clock (default time.Now); tests inject their own.
	Now func() time.Time
}

// entryKey identifies the state of one key under one limit: the same key
// under two limits of different rates has two independent TATs.
type entryKey struct {
	key    string
	t, tau int64
}

// entry holds a TAT in ns since Local.base. Entries are pointers so that
// updating a known key takes one map lookup.
type entry struct {
	tat int64
	key entryKey
}

type shard struct {
	mu   sync.Mutex
	m    map[entryKey]*entry
	ring []*entry // entries in insertion order, see insert
	head int      // the oldest slot once the ring is full
	_    [16]byte // keeps neighbouring shards' locks off one cache line
}

// Local is an in-process GCRA limiter: a sharded map of theoretical
// arrival times with bounded size. Allow on a key already present does not
// allocate. It is safe for concurrent use.
type Local struct {
	shards   []shard
	mask     uint64
	perShard int
	seed     maphash.Seed
	now      func() time.Time
	base     time.Time
	size     atomic.Int64
}

var _ Limiter = (*Local)(nil)

// NewLocal returns a Local limiter.
func NewLocal(opts LocalOptions) *Local {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 1_000_000
	}
	if opts.Shards <= 0 {
		opts.Shards = 64
	}
	n := 1
	for n < opts.Shards {
		n <<= 1
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l := &Local{
		shards:   make([]shard, n),
		mask:     uint64(n - 1),
		perShard: max(1, (opts.MaxEntries+n-1)/n),
		seed:     maphash.MakeSeed(),
		now:      opts.Now,
	}
	l.base = l.now()
	for i := range l.shards {
		l.shards[i].m = make(map[entryKey]*entry)
	}
	return l
}

// Len returns the number of keys held.
func (l *Local) Len() int { return int(l.size.Load()) }

// Allow checks and counts one request for key against lim. The error is
// always nil for a valid lim; an invalid lim (see Limit.Validate) gives an
// error and refuses the request.
func (l *Local) Allow(_ context.Context, key string, lim Limit) (Result, error) {
	one := [1]Limit{lim}
	return l.allow(key, one[:])
}

// AllowAll checks one request for key against every limit at once, see
// Limiter.
func (l *Local) AllowAll(_ context.Context, key string, limits []Limit) (Result, error) {
	return l.allow(key, limits)
}

// maxLimits bounds the limits of one AllowAll call, so the pending TATs
// live on the stack.
const maxLimits = 8

func (l *Local) allow(key string, limits []Limit) (Result, error) {
	if len(limits) == 0 {
		return Result{}, ErrNoLimits
	}
	if len(limits) > maxLimits {
		return Result{}, errTooManyLimits
	}
	var (
		keys    [maxLimits]entryKey
		entries [maxLimits]*entry
		tats    [maxLimits]int64
		res     Result
	)
	for i, lim := range limits {
		if lim.Requests <= 0 || lim.Per <= 0 || lim.Burst < 0 || lim.Per < time.Duration(lim.Requests) {
			return Result{}, lim.Validate()
		}
		t := int64(lim.Per) / int64(lim.Requests)
		keys[i] = entryKey{key: key, t: t, tau: t * int64(lim.Burst)}
	}
	now := int64(l.now().Sub(l.base))
	s := &l.shards[maphash.String(l.seed, key)&l.mask]
	s.mu.Lock()
	for i := range limits {
		k := &keys[i]
		tat := now
		if e := s.m[*k]; e != nil {
			entries[i], tat = e, e.tat
		}
		r, newTAT := decide(now, tat, k.t, k.tau)
		tats[i] = newTAT
		res = merge(res, r, i == 0)
	}
	if res.Allowed {
		for i := range limits {
			if e := entries[i]; e != nil {
				e.tat = tats[i]
				continue
			}
			l.insert(s, keys[i], tats[i], now)
		}
	} else {
		res.Remaining = 0
	}
	s.mu.Unlock()
	return res, nil
}

// evictScan is how many ring slots past the oldest are searched for an
// expired entry before the oldest live one is evicted.
const evictScan = 8

// insert adds a new key to s, evicting if the shard is full. s.mu is held.
//
// Each shard keeps its entries in a ring in insertion order besides the
// map. While the ring is not full a new entry is appended. Once it is, the
// new entry takes the slot of the oldest one, unless one of the next few
// slots holds an expired entry (whose state equals an unknown key's, so
// dropping it changes no decision), which is taken instead and the older
// live entries skipped get another round. Eviction is O(1) and the map
// never holds more than perShard entries.
func (l *Local) insert(s *shard, k entryKey, tat, now int64) {
	e := &entry{tat: tat, key: k}
	s.m[k] = e
	if len(s.ring) < l.perShard {
		s.ring = append(s.ring, e)
		l.size.Add(1)
		return
	}
	n := len(s.ring)
	pick := s.head
	for j := range evictScan {
		i := (s.head + j) % n
		if s.ring[i].tat <= now {
			pick = i
			break
		}
	}
	delete(s.m, s.ring[pick].key)
	s.ring[pick] = e
	s.head = (pick + 1) % n
}
