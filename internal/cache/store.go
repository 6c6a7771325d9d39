package cache

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/maypok86/otter/v2"
)

// Defaults of StoreOptions.
const (
	// DefaultMemoryBytes is the memory budget when none is configured.
	DefaultMemoryBytes = 256 << 20
	// DefaultMaxMemoryObject is the largest body kept in memory (1 MiB);
	// larger bodies are streamed to the disk tier, or not stored at all
	// without one.
	DefaultMaxMemoryObject = 1 << 20
)

// StoreOptions configure a Store.
type StoreOptions struct {
	// MemoryBytes is the memory budget: the weighted size (bodies,
	// headers, keys and a per-entry overhead) never stays above it.
	// 0 means DefaultMemoryBytes.
	MemoryBytes int64
	// MaxMemoryObject is the largest body held in memory; 0 means
	// DefaultMaxMemoryObject.
	MaxMemoryObject int64
	// DiskDir turns the disk tier on: entries are also written there
	// (files named by key hash, written to a temp file then renamed) and
	// found again after a restart. "" means memory only.
	DiskDir string
	// DiskBytes is the disk tier's budget (required with DiskDir); the
	// least recently used files are removed beyond it.
	DiskBytes int64
	// Redis, when set (redis://host:port/db), shares purges with the other
	// nodes through Redis pub/sub.
	Redis string
	// Logger receives disk and Redis errors; nil discards them.
	Logger *slog.Logger
}

// Store holds the cached responses of every zone of a node: a W-TinyLFU
// in-memory tier (otter) with a byte budget and an optional disk tier. It
// is safe for concurrent use.
type Store struct {
	opts  StoreOptions
	log   *slog.Logger
	mem   *otter.Cache[string, *Entry]
	disk  *disk // nil without a disk tier
	rules sync.Map
	bus   *bus // nil without Redis
	// varies holds, per zone, an *atomic.Bool set once a Vary record of
	// the zone is stored: until then (and without a disk tier, whose
	// records may predate this process) a zone's keys need no Vary lookup.
	varies sync.Map

	purged atomic.Int64 // entries removed by purges, for tests and logs
}

// OpenStore builds a Store, loading the disk tier's index when there is
// one and subscribing to purges on Redis when configured.
func OpenStore(o StoreOptions) (*Store, error) {
	if o.MemoryBytes <= 0 {
		o.MemoryBytes = DefaultMemoryBytes
	}
	if o.MaxMemoryObject <= 0 {
		o.MaxMemoryObject = DefaultMaxMemoryObject
	}
	if o.MaxMemoryObject > o.MemoryBytes/4 {
		o.MaxMemoryObject = o.MemoryBytes / 4
	}
	s := &Store{opts: o, log: o.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	s.mem, err = otter.New(&otter.Options[string, *Entry]{
		MaximumWeight: uint64(o.MemoryBytes),
		Weigher:       func(_ string, e *Entry) uint32 { return e.weight() },
	})
	if err != nil {
		return nil, fmt.Errorf("creating the memory cache: %w", err)
	}
	if o.DiskDir != "" {
		if o.DiskBytes <= 0 {
			return nil, errors.New("opening the disk cache: a disk budget is required")
		}
		if s.disk, err = openDisk(o.DiskDir, o.DiskBytes, s.log); err != nil {
			return nil, err
		}
	}
	if o.Redis != "" {
		if s.bus, err = newBus(o.Redis, s); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close stops the Redis subscription and the disk writer; the disk files
// stay for the next start.
func (s *Store) Close() {
	if s.bus != nil {
		s.bus.close()
	}
	if s.disk != nil {
		s.disk.close()
	}
	s.mem.StopAllGoroutines()
}

// MemoryBytes returns the memory tier's current weighted size in bytes.
func (s *Store) MemoryBytes() uint64 {
	s.mem.CleanUp()
	return s.mem.WeightedSize()
}

// Len returns the number of entries in the memory tier.
func (s *Store) Len() int { return s.mem.EstimatedSize() }

// get returns the entry stored under key, from memory or else from the
// disk tier (promoting a small body into memory).
func (s *Store) get(key string) (*Entry, bool) {
	if e, ok := s.mem.GetIfPresent(key); ok {
		return e, true
	}
	return s.getDisk(key)
}

// getMem returns the entry stored under key in memory. The memory tier
// keeps nothing of key: it may view a buffer the caller reuses.
func (s *Store) getMem(key string) (*Entry, bool) { return s.mem.GetIfPresent(key) }

// getDisk is get's disk half, after key was not found in memory.
func (s *Store) getDisk(key string) (*Entry, bool) {
	if s.disk == nil {
		return nil, false
	}
	e, ok := s.disk.get(key, s.opts.MaxMemoryObject)
	if !ok {
		return nil, false
	}
	e.prepare()
	if e.Body != nil || e.Status == 0 {
		s.mem.Set(key, e)
	}
	return e, true
}

// put stores e: in memory when its body is there, and in the disk tier
// when there is one (asynchronously, unless the body is already a file).
func (s *Store) put(e *Entry) {
	e.prepare()
	if len(e.VaryNames) > 0 {
		s.varyFlag(e.Zone).Store(true)
	}
	if e.Body != nil || e.Status == 0 || e.Pass {
		s.mem.Set(e.Key, e)
	} else {
		s.mem.Invalidate(e.Key)
	}
	if s.disk != nil && !e.Pass {
		s.disk.put(e)
	}
}

// varyFlag returns the flag telling whether zone may have Vary records.
func (s *Store) varyFlag(zone string) *atomic.Bool {
	if v, ok := s.varies.Load(zone); ok {
		return v.(*atomic.Bool)
	}
	v, _ := s.varies.LoadOrStore(zone, new(atomic.Bool))
	return v.(*atomic.Bool)
}

// mayVary reports whether keys of the zone whose flag is f may need a
// Vary lookup: always with a disk tier, otherwise once a Vary record of
// the zone was stored.
func (s *Store) mayVary(f *atomic.Bool) bool { return s.disk != nil || f.Load() }

// setRules records a zone's rules, which purges use to normalise URLs.
func (s *Store) setRules(zone string, ru *Rules) { s.rules.Store(zone, ru) }

func (s *Store) rulesOf(zone string) *Rules {
	if v, ok := s.rules.Load(zone); ok {
		return v.(*Rules)
	}
	return &Rules{}
}

// PurgeRequest selects entries of one zone to remove, as the admin API's
// POST /v1/zones/{id}/purge body carries it.
type PurgeRequest struct {
	// URLs are exact URLs ("https://example.org/a?b=1") or paths
	// ("/a?b=1"); every stored variant (Vary, encodings) goes.
	URLs []string `json:"urls"`
	// Prefixes match the start of the path ("/static/" or
	// "https://example.org/static/").
	Prefixes []string `json:"prefixes"`
	// Tags match any of the entry's Cache-Tag values.
	Tags []string `json:"tags"`
	// Everything removes every entry of the zone.
	Everything bool `json:"everything"`
}

// Empty reports whether the request selects nothing.
func (p *PurgeRequest) Empty() bool {
	return !p.Everything && len(p.URLs) == 0 && len(p.Prefixes) == 0 && len(p.Tags) == 0
}

// Validate checks that every URL and prefix parses, naming the bad one.
func (p *PurgeRequest) Validate() error {
	if p.Empty() {
		return errors.New("nothing to purge: give urls, prefixes, tags or everything")
	}
	for i, u := range p.URLs {
		if _, err := parsePurgeURL(u); err != nil {
			return fmt.Errorf("urls[%d]: %w", i, err)
		}
	}
	for i, u := range p.Prefixes {
		if _, err := parsePurgeURL(u); err != nil {
			return fmt.Errorf("prefixes[%d]: %w", i, err)
		}
	}
	for i, t := range p.Tags {
		if strings.TrimSpace(t) == "" {
			return fmt.Errorf("tags[%d]: empty tag", i)
		}
	}
	return nil
}

func parsePurgeURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("empty URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing %q: %w", raw, err)
	}
	if u.Host == "" && !strings.HasPrefix(u.Path, "/") {
		return nil, fmt.Errorf("%q is neither an absolute URL nor a path starting with /", raw)
	}
	return u, nil
}

// matcher is a parsed PurgeRequest for one zone.
type matcher struct {
	zone       string
	everything bool
	urls       []location
	prefixes   []location
	tags       []string
}

func (s *Store) matcher(zone string, p PurgeRequest) *matcher {
	ru := s.rulesOf(zone)
	m := &matcher{zone: zone, everything: p.Everything, tags: p.Tags}
	conv := func(raw string) (location, bool) {
		u, err := parsePurgeURL(raw)
		if err != nil {
			return location{}, false
		}
		l := location{path: u.EscapedPath(), query: ru.normaliseQuery(u.RawQuery)}
		if l.path == "" {
			l.path = "/"
		}
		if !ru.IgnoreHost {
			l.host = keyHost(u.Host)
		}
		return l, true
	}
	for _, u := range p.URLs {
		if l, ok := conv(u); ok {
			m.urls = append(m.urls, l)
		}
	}
	for _, u := range p.Prefixes {
		if l, ok := conv(u); ok {
			m.prefixes = append(m.prefixes, l)
		}
	}
	return m
}

func (m *matcher) match(e *Entry) bool {
	if e.Zone != m.zone {
		return false
	}
	if m.everything {
		return true
	}
	for _, l := range m.urls {
		if hostMatches(l.host, e.Host) && l.path == e.Path && l.query == e.Query {
			return true
		}
	}
	for _, l := range m.prefixes {
		if hostMatches(l.host, e.Host) && strings.HasPrefix(e.Path, l.path) {
			return true
		}
	}
	for _, t := range m.tags {
		if slices.Contains(e.Tags, t) {
			return true
		}
	}
	return false
}

// Purge removes the zone's entries that p selects from this node at once,
// and publishes p to the other nodes when Redis is configured. It returns
// how many entries were removed here. A Redis failure is returned after
// the local purge is done.
func (s *Store) Purge(zone string, p PurgeRequest) (int, error) {
	n := s.purgeLocal(zone, p)
	if s.bus != nil {
		if err := s.bus.publish(zone, p); err != nil {
			return n, fmt.Errorf("publishing the purge to the other nodes: %w", err)
		}
	}
	return n, nil
}

// purgeLocal removes the matching entries from both tiers. Vary records
// are removed with everything else so no stale selection survives.
func (s *Store) purgeLocal(zone string, p PurgeRequest) int {
	m := s.matcher(zone, p)
	n := 0
	if s.disk != nil {
		// Disk first, dropping each key from memory too, so that an entry
		// held in both tiers counts once.
		n = s.disk.purge(m, func(key string) { s.mem.Invalidate(key) })
	}
	for k, e := range s.mem.All() {
		if m.match(e) {
			s.mem.Invalidate(k)
			n++
		}
	}
	s.purged.Add(int64(n))
	return n
}
