package screening

import (
	"sync"
	"sync/atomic"

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
}

// Service screens against the store's active lists. It keeps one index for
// the store's current snapshot and, on every effective import, builds a new
// one and swaps it in atomically: a search sees either the old lists or
// the new ones, never a mix. It is safe for concurrent use.
type Service struct {
	threshold float64
	mu        sync.Mutex // serialises rebuilds
	cur       atomic.Pointer[state]
}

// NewService returns a service over store's lists that reports matches
// scoring at or above threshold (0 or less means the default 0.90). The
// first index is built before NewService returns (about half a second for
// the SDN list); later ones are built in the importing goroutine, before
// the import returns.
func NewService(store *lists.Store, threshold float64) *Service {
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	s := &Service{threshold: threshold}
	store.Subscribe(func(_, cur *lists.Snapshot, _ []lists.ImportResult) {
		s.install(cur)
	})
	s.install(store.Snapshot())
	return s
}

// DefaultThreshold is the operating threshold used when none is
// configured (PRODUCT.md compliance.threshold).
const DefaultThreshold = 0.90

// install builds the index for snap unless it is already installed.
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
	s.cur.Store(&state{snap: snap, ix: NewIndex(snap.Entities), lists: vs})
}

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
