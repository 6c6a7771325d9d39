package screening

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists"
)

// Result is the answer of a Service: the matches and the list versions
// they were computed against.
type Result struct {
	Matches []Match `json:"matches"`
	// Lists maps each list source ("ofac-sdn") to its active version hash.
	Lists map[string]string `json:"lists"`
}

// state is one index together with the snapshot it was built from.
type state struct {
	snap  *lists.Snapshot
	ix    *Index
	lists map[string]string
	load  LoadInfo
}

// Service screens against the store's active lists. It keeps one index for
// the store's current snapshot and, on every effective import, loads a new
// one and swaps it in atomically: a search sees either the old lists or
// the new ones, never a mix. It is safe for concurrent use.
//
// With ServiceOptions.Dir set, the index of each list version is a file
// there (file.go), built on the first activation of those versions and
// memory-mapped on every later one (a restart maps it in milliseconds);
// the Go heap then holds none of it. Without Dir, the index is built in
// the heap.
type Service struct {
	threshold float64
	dir       string
	log       *slog.Logger
	mu        sync.Mutex // serialises rebuilds
	cur       atomic.Pointer[state]
}

// ServiceOptions configure NewServiceWith.
type ServiceOptions struct {
	// Threshold is the score reported as a match (0 or less: 0.90).
	Threshold float64
	// Dir keeps the index files ("" builds the index in the heap).
	Dir string
	// Logger receives one line per index loaded (nil: none).
	Logger *slog.Logger
}

// LoadInfo tells how the current index was loaded.
type LoadInfo struct {
	// Path is the index file ("" when the index is in the heap).
	Path string
	// Built is true when the index was built on this activation (no
	// file yet, or the file was stale or corrupt: Reason says which).
	Built  bool
	Reason string
	// Build is the time spent building the index (and writing its
	// file); Open the time spent checking and mapping the file.
	Build, Open time.Duration
	// Bytes is the size of the file.
	Bytes    int64
	Entities int
}

// NewService returns a service over store's lists that reports matches
// scoring at or above threshold (0 or less means the default 0.90), with
// its index in the heap. The first index is built before NewService
// returns (about half a second for the SDN list); later ones are built in
// the importing goroutine, before the import returns.
func NewService(store *lists.Store, threshold float64) *Service {
	return NewServiceWith(store, ServiceOptions{Threshold: threshold})
}

// NewServiceWith is NewService with options: with opts.Dir, the index is
// a memory-mapped file there.
func NewServiceWith(store *lists.Store, opts ServiceOptions) *Service {
	threshold := opts.Threshold
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	s := &Service{threshold: threshold, dir: opts.Dir, log: opts.Logger}
	store.Subscribe(func(_, cur *lists.Snapshot, _ []lists.ImportResult) {
		s.install(cur)
	})
	s.install(store.Snapshot())
	return s
}

// DefaultThreshold is the operating threshold used when none is
// configured (PRODUCT.md compliance.threshold).
const DefaultThreshold = 0.90

// install loads the index for snap unless it is already installed.
func (s *Service) install(snap *lists.Snapshot) {
	if snap == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.cur.Load(); old != nil && old.snap == snap {
		return
	}
	vs := make(map[string]string, len(snap.Versions))
	for src, v := range snap.Versions {
		vs[src] = v.Hash
	}
	var ix *Index
	var info LoadInfo
	if s.dir != "" {
		var err error
		ix, info, err = LoadFile(s.dir, vs, snap.Entities)
		if err != nil && s.log != nil {
			// Screening must go on: the index is built in the heap.
			s.log.Error("screening index file unusable; building the index in memory", "dir", s.dir, "error", err)
		}
	}
	if ix == nil {
		t0 := time.Now()
		ix = NewIndex(snap.Entities)
		info = LoadInfo{Built: true, Build: time.Since(t0), Entities: ix.Len()}
	}
	if s.log != nil {
		s.log.Info("screening index ready", "file", info.Path, "built", info.Built, "reason", info.Reason,
			"build_ms", info.Build.Milliseconds(), "open_ms", float64(info.Open.Microseconds())/1000,
			"bytes", info.Bytes, "entities", info.Entities)
	}
	s.cur.Store(&state{snap: snap, ix: ix, lists: vs, load: info})
}

// LastLoad tells how the current index was loaded.
func (s *Service) LastLoad() LoadInfo { return s.cur.Load().load }

// Threshold returns the operating threshold.
func (s *Service) Threshold() float64 { return s.threshold }

// Index returns the index for the current lists.
func (s *Service) Index() *Index { return s.cur.Load().ix }

// Screen searches the current lists for q at the service's threshold.
// Matches is never nil, so it encodes as [] when empty.
func (s *Service) Screen(q Query) Result {
	st := s.cur.Load()
	ms := st.ix.Search(q, s.threshold)
	if ms == nil {
		ms = []Match{}
	}
	return Result{Matches: ms, Lists: st.lists}
}

// ScreenIdentifier matches an identifier exactly against the current lists
// (see Index.MatchIdentifier).
func (s *Service) ScreenIdentifier(t entity.IDType, value string) Result {
	st := s.cur.Load()
	ms := st.ix.MatchIdentifier(t, value)
	if ms == nil {
		ms = []Match{}
	}
	return Result{Matches: ms, Lists: st.lists}
}

// ScreenAddress matches a free-text postal address against the listed
// street addresses of the current index (see Index.MatchAddress).
func (s *Service) ScreenAddress(addr string) Result {
	st := s.cur.Load()
	ms := st.ix.MatchAddress(addr)
	if ms == nil {
		ms = []Match{}
	}
	return Result{Matches: ms, Lists: st.lists}
}
