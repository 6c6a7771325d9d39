// Package lists keeps the active, versioned copies of the sanctions lists:
// it detects a list's format, parses it fully (packages ofac, un, uk),
// diffs it against the active version of the same source, persists the
// raw files and swaps an immutable Snapshot in atomically.
//
// A list that fails to parse or validate never replaces the active
// version: Import parses and checks everything first, then persists the
// files under dataDir/lists/<source>/<sha256>/ and the manifest
// dataDir/lists/active.json (each written to a temporary file, fsynced and
// renamed), and only then publishes the new Snapshot. A crash at any point
// leaves either the old or the new manifest, each naming complete files.
package lists

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists/bundled"
	"github.com/rampart-edge/rampart/internal/lists/ofac"
	"github.com/rampart-edge/rampart/internal/lists/uk"
	"github.com/rampart-edge/rampart/internal/lists/un"
)

// Version identifies one imported copy of one list.
type Version struct {
	// Source is the entity id prefix: "ofac-sdn", "ofac-cons", "un", "uk".
	Source string `json:"source"`
	// List is the display name: "OFAC SDN".
	List string `json:"list"`
	// Hash is the SHA-256 hex of the list's files (names and content).
	Hash     string    `json:"hash"`
	Imported time.Time `json:"imported"`
	Entities int       `json:"entities"`
	// Files are the canonical file names of the version ("sdn.csv", ...).
	Files []string `json:"files"`
	// Published is when the list was published: the date the files carry
	// (the UN's dateGenerated), else the server's Last-Modified; zero when
	// unknown (a file imported by hand that carries no date).
	Published time.Time `json:"published,omitzero"`
	// Origin is how the version came: "bundled", "config", "cli", "api",
	// "feed:NAME", "rollback".
	Origin string `json:"origin,omitempty"`
	// Actor is who imported it; Forced and Reason record an operator's
	// override of verification.
	Actor  string `json:"actor,omitempty"`
	Forced bool   `json:"forced,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Diff lists the entity ids that changed between two versions of a list.
// Changed holds the ids present in both whose content differs.
type Diff struct {
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	Changed []string `json:"changed"`
}

// ImportResult reports the import of one list.
type ImportResult struct {
	Version Version `json:"version"`
	// Previous is the version that was active before, nil for the first.
	Previous *Version `json:"previous,omitempty"`
	// Diff is the full difference; the JSON form carries Summary instead.
	Diff Diff `json:"-"`
	// Summary counts the difference and names its first ids.
	Summary DiffSummary `json:"diff"`
	// Unchanged is true when the files were identical to the active
	// version; nothing was stored or swapped then.
	Unchanged bool `json:"unchanged"`
	// Loaded is true when the version was activated elsewhere and loaded
	// here from the shared store (Load): the node that activated it
	// re-screens, the loading nodes do not.
	Loaded bool `json:"-"`
	// Warnings flag imports that are valid but probably not what was
	// meant, e.g. an OFAC sdn.csv without the alt.csv and add.csv the
	// previous version had (its aliases and addresses are dropped).
	Warnings []string `json:"warnings,omitempty"`
}

// Snapshot is an immutable view of every active list. It must not be
// modified; a new Snapshot replaces it on every effective import.
type Snapshot struct {
	// Versions maps the source to its active version.
	Versions map[string]Version
	// Entities holds the entities of every active list, grouped by source
	// in source-name order, each list in file order.
	Entities []entity.Entity
}

// active is the store's state for one source.
type active struct {
	version  Version
	entities []entity.Entity
	digests  map[string][32]byte // entity id -> content hash
	files    []file              // the files, kept only in memory (dir == "")
	empty    map[string]bool     // the files that hold no rows
}

// Store holds the active list versions. It is safe for concurrent use;
// imports are serialised.
type Store struct {
	dir string // dataDir/lists, "" in memory

	mu      sync.Mutex // serialises imports and guards sources and subs
	sources map[string]*active
	subs    []func(old, cur *Snapshot, results []ImportResult)

	policy      Policy
	refusedSubs []func(Refusal)
	diffs       map[string]Diff // in memory: "source/hash" -> diff that led to it

	snap atomic.Pointer[Snapshot]

	// publish, when set, stores every activation in the shared store
	// before it takes effect here (SetPublisher).
	publish func([]Activation) error
}

// Activation is one version being activated, with its files (canonical
// name -> content), as handed to the publisher.
type Activation struct {
	Version Version
	Files   map[string][]byte
}

// SetPublisher makes every activation (imports, feeds, rollbacks; not
// Load) call fn first, with the lists' mutex held: an error from fn fails
// the import and changes nothing here. The app uses it to write the
// version and its files into the shared store, in the transaction that
// activates them for every node.
func (s *Store) SetPublisher(fn func([]Activation) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publish = fn
}

// Loaded is a version activated elsewhere, with its files, for Load.
type Loaded struct {
	Version Version
	Files   map[string][]byte
}

// Load activates versions that another node activated and published in
// the shared store: their files are hashed (a mismatch is an error),
// parsed (a parse error is an error) and activated without the
// verification policy and without calling the publisher; on any error
// nothing changes. The subscribers are called with results marked
// Loaded, so the re-screening is left to the node that activated. The
// versions keep their metadata (origin, actor, imported, reason).
// Versions equal to the active ones are skipped.
func (s *Store) Load(vs []Loaded) ([]ImportResult, error) {
	var ps []parsed
	var meta []Version
	cur := s.Snapshot().Versions
	for _, l := range vs {
		if err := validVersion(l.Version); err != nil {
			return nil, fmt.Errorf("loading list versions: %w", err)
		}
		if a, ok := cur[l.Version.Source]; ok && a.Hash == l.Version.Hash {
			continue
		}
		st := &set{source: l.Version.Source, list: l.Version.List, origin: "store"}
		for name, b := range l.Files {
			st.files = append(st.files, file{name: name, data: b})
		}
		sortFiles(st.files)
		ps = append(ps, parsed{set: st})
		meta = append(meta, l.Version)
	}
	if len(ps) == 0 {
		return nil, nil
	}
	var wg sync.WaitGroup
	for i := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := ps[i].set
			ps[i].hash = st.hash()
			if ps[i].hash != meta[i].Hash {
				ps[i].err = fmt.Errorf("the files of %s version %s hash to %s", st.source, short(meta[i].Hash), short(ps[i].hash))
				return
			}
			ps[i].ents, ps[i].err = st.parse()
		}()
	}
	wg.Wait()
	for i, p := range ps {
		if p.err != nil {
			return nil, fmt.Errorf("loading list %s version %s: %w", p.set.source, short(meta[i].Hash), p.err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make(map[string]*active, len(s.sources)+len(ps))
	for k, v := range s.sources {
		next[k] = v
	}
	results := make([]ImportResult, 0, len(ps))
	var toPersist []parsed
	for i, p := range ps {
		v := meta[i]
		v.Entities = len(p.ents)
		prev := s.sources[v.Source]
		r := ImportResult{Version: v, Loaded: true}
		var old map[string][32]byte
		if prev != nil {
			if prev.version.Hash == v.Hash {
				continue
			}
			pv := prev.version
			r.Previous = &pv
			old = prev.digests
		}
		d := digests(p.ents)
		r.Diff = diff(old, d)
		r.Summary = summarise(r.Diff, v.Source, v.Hash)
		results = append(results, r)
		next[v.Source] = &active{version: v, entities: p.ents, digests: d, files: s.memFiles(p.set), empty: p.set.emptyFiles()}
		toPersist = append(toPersist, p)
	}
	if len(results) == 0 {
		return nil, nil
	}
	if err := s.activate(next, toPersist, results, false); err != nil {
		return nil, err
	}
	return results, nil
}

// manifest is the content of active.json.
type manifest struct {
	Versions []Version `json:"versions"`
}

// Open opens the store in dataDir ("" keeps everything in memory): it
// re-loads the persisted active versions, then imports, for every source
// that has none, the lists found at the defaults paths (config
// compliance.lists) or, when defaults is empty, the lists bundled into the
// binary (package bundled, old snapshots: import current lists). A
// persisted version always wins over defaults, so a list uploaded later
// survives a restart. A persisted version whose files are missing or do
// not match their hash is an error.
func Open(dataDir string, defaults []string) (*Store, error) {
	s, err := OpenPersisted(dataDir)
	if err != nil {
		return nil, err
	}
	var sets []*set
	origin := "config"
	if len(defaults) > 0 {
		for _, p := range defaults {
			found, err := detectPath(p)
			if err != nil {
				return nil, fmt.Errorf("loading default lists: %w", err)
			}
			sets = append(sets, found...)
		}
	} else if s.missingAny(bundledSources) {
		origin = "bundled"
		fsys, err := bundled.FS()
		if err != nil {
			return nil, err
		}
		if sets, err = detectFS(fsys, ".", "bundled", 0); err != nil {
			return nil, err
		}
	}
	var missing []*set
	for _, st := range sets {
		if _, ok := s.sources[st.source]; !ok {
			missing = append(missing, st)
		}
	}
	if len(missing) > 0 {
		if _, err := s.importSets(missing, ImportOptions{Origin: origin}); err != nil {
			return nil, fmt.Errorf("loading default lists: %w", err)
		}
	}
	return s, nil
}

// OpenPersisted opens the store in dataDir with only its persisted
// versions, importing nothing else (rampart lists import uses it, so that
// the diff is against what is really stored).
func OpenPersisted(dataDir string) (*Store, error) {
	s := &Store{sources: map[string]*active{}, diffs: map[string]Diff{}}
	s.snap.Store(&Snapshot{Versions: map[string]Version{}})
	if dataDir == "" {
		return s, nil
	}
	s.dir = filepath.Join(dataDir, "lists")
	if err := os.MkdirAll(s.dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating list store: %w", err)
	}
	b, err := os.ReadFile(s.manifestPath())
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading list manifest: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("reading list manifest %s: %w", s.manifestPath(), err)
	}
	type loaded struct {
		v     Version
		ents  []entity.Entity
		empty map[string]bool
		err   error
	}
	res := make([]loaded, len(m.Versions))
	var wg sync.WaitGroup
	for i, v := range m.Versions {
		if err := validVersion(v); err != nil {
			return nil, fmt.Errorf("reading list manifest %s: %w", s.manifestPath(), err)
		}
		if _, dup := s.sources[v.Source]; dup {
			return nil, fmt.Errorf("reading list manifest %s: source %s listed twice", s.manifestPath(), v.Source)
		}
		s.sources[v.Source] = nil
		wg.Add(1)
		go func() {
			defer wg.Done()
			ents, empty, err := s.loadVersion(v)
			res[i] = loaded{v, ents, empty, err}
		}()
	}
	wg.Wait()
	for _, r := range res {
		if r.err != nil {
			return nil, r.err
		}
		s.sources[r.v.Source] = &active{version: r.v, entities: r.ents, digests: digests(r.ents), empty: r.empty}
	}
	s.snap.Store(s.build())
	return s, nil
}

var hashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// allowedFiles are the only file names a version may hold, so that a
// tampered manifest cannot point outside the version folder.
var allowedFiles = map[string][]string{
	ofac.Source:     ofac.SDN.Names(),
	ofac.ConsSource: ofac.Consolidated.Names(),
	un.Source:       {un.FileName},
	uk.Source:       {uk.SubjectsFile, uk.NamesFile},
}

// bundledSources are the sources of the lists bundled into the binary
// (package bundled). The OFAC consolidated list is not bundled: its only
// real sample is a 2018 publication, 43% of whose entries OFAC has removed
// since (README, "Sanctions lists").
var bundledSources = []string{ofac.Source, un.Source, uk.Source}

// missingAny reports whether a source of srcs has no active version.
func (s *Store) missingAny(srcs []string) bool {
	for _, src := range srcs {
		if _, ok := s.sources[src]; !ok {
			return true
		}
	}
	return false
}

func validVersion(v Version) error {
	allowed, ok := allowedFiles[v.Source]
	if !ok {
		return fmt.Errorf("unknown source %q", v.Source)
	}
	if !hashRE.MatchString(v.Hash) {
		return fmt.Errorf("%s: bad hash %q", v.Source, v.Hash)
	}
	if len(v.Files) == 0 {
		return fmt.Errorf("%s: no files", v.Source)
	}
	for _, f := range v.Files {
		if !slices.Contains(allowed, f) {
			return fmt.Errorf("%s: unexpected file %q", v.Source, f)
		}
	}
	return nil
}

func (s *Store) manifestPath() string { return filepath.Join(s.dir, "active.json") }

func (s *Store) versionDir(source, hash string) string {
	return filepath.Join(s.dir, source, hash)
}

// loadVersion reads, verifies and parses a persisted version; it returns
// the entities and the version's files that hold no rows.
func (s *Store) loadVersion(v Version) ([]entity.Entity, map[string]bool, error) {
	dir := s.versionDir(v.Source, v.Hash)
	st := &set{source: v.Source, list: v.List, origin: dir}
	for _, name := range v.Files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, nil, fmt.Errorf("loading list %s version %s: %w", v.Source, short(v.Hash), err)
		}
		st.files = append(st.files, file{name: name, data: b})
	}
	sortFiles(st.files)
	if h := st.hash(); h != v.Hash {
		return nil, nil, fmt.Errorf("loading list %s: files in %s hash to %s, the manifest says %s", v.Source, dir, short(h), short(v.Hash))
	}
	ents, err := st.parse()
	if err != nil {
		return nil, nil, fmt.Errorf("loading list %s version %s: %w", v.Source, short(v.Hash), err)
	}
	return ents, st.emptyFiles(), nil
}

// memFiles is st's files for an in-memory store, nil otherwise (the data
// directory has them).
func (s *Store) memFiles(st *set) []file {
	if s.dir != "" {
		return nil
	}
	return st.files
}

// Active returns every active version with its files, by source (the
// first node on an empty shared store publishes them).
func (s *Store) Active() ([]Activation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.sources))
	for k := range s.sources {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]Activation, 0, len(names))
	for _, k := range names {
		a := s.sources[k]
		files := map[string][]byte{}
		if s.dir == "" {
			for _, f := range a.files {
				files[f.name] = orEmpty(f.data)
			}
		} else {
			dir := s.versionDir(k, a.version.Hash)
			for _, name := range a.version.Files {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					return nil, fmt.Errorf("reading list %s version %s: %w", k, short(a.version.Hash), err)
				}
				files[name] = b
			}
		}
		out = append(out, Activation{Version: a.version, Files: files})
	}
	return out, nil
}

// Snapshot returns the current snapshot. It is one atomic load.
func (s *Store) Snapshot() *Snapshot { return s.snap.Load() }

// Subscribe registers fn to be called after every import that changed at
// least one list, with the snapshots before and after and the results.
// Calls are made one at a time, in import order, from the importing
// goroutine; fn must not call Import or Subscribe.
func (s *Store) Subscribe(fn func(old, cur *Snapshot, results []ImportResult)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs = append(s.subs, fn)
}

// Import imports the lists at the given paths. A path is a list file (a
// UN consolidated XML, an OFAC sdn.csv), a list folder (OFAC CSV set, UK
// CSV pair, a folder holding a UN XML) or a parent folder holding list
// folders. Every list is parsed and verified before anything is stored;
// on any error nothing changes. Two lists of the same source in one call
// are refused.
func (s *Store) Import(paths ...string) ([]ImportResult, error) {
	return s.ImportWith(ImportOptions{Origin: "cli"}, paths...)
}

// ImportWith is Import with options (force, actor, origin).
func (s *Store) ImportWith(opts ImportOptions, paths ...string) ([]ImportResult, error) {
	if len(paths) == 0 {
		return nil, errors.New("importing: no paths")
	}
	var sets []*set
	for _, p := range paths {
		found, err := detectPath(p)
		if err != nil {
			return nil, s.refuseDetect(err, opts)
		}
		sets = append(sets, found...)
	}
	return s.importSets(sets, opts)
}

// ImportFiles imports uploaded files (file name -> content), as from an
// HTTP upload. Files are grouped into lists by their folder part, if any;
// a file that belongs to no known list is refused.
func (s *Store) ImportFiles(files map[string][]byte) ([]ImportResult, error) {
	return s.ImportFilesWith(ImportOptions{Origin: "api"}, files)
}

// ImportFilesWith is ImportFiles with options.
func (s *Store) ImportFilesWith(opts ImportOptions, files map[string][]byte) ([]ImportResult, error) {
	sets, err := detectFiles(files)
	if err != nil {
		return nil, s.refuseDetect(err, opts)
	}
	return s.importSets(sets, opts)
}

// ImportSource imports the files of one source (canonical file name ->
// content), as fetched by a feed.
func (s *Store) ImportSource(source string, files map[string][]byte, opts ImportOptions) ([]ImportResult, error) {
	list, ok := listNames[source]
	if !ok {
		return nil, fmt.Errorf("importing: unknown source %q", source)
	}
	st := &set{source: source, list: list, origin: opts.Origin}
	for name, b := range files {
		if !slices.Contains(allowedFiles[source], name) {
			return nil, fmt.Errorf("importing %s: unexpected file %q", source, name)
		}
		if len(b) > MaxFileSize {
			r := Refusal{Source: source, Feed: opts.Feed, File: name, Kind: RefusedTooLarge, Actor: opts.Actor, Origin: opts.Origin,
				Reason: fmt.Sprintf("%d bytes, more than the %d allowed", len(b), MaxFileSize)}
			s.Refuse(r)
			return nil, &RefusedError{Refusals: []Refusal{r}}
		}
		st.files = append(st.files, file{name: name, data: b})
	}
	return s.importSets([]*set{st}, opts)
}

var listNames = map[string]string{ofac.Source: ofac.ListName, ofac.ConsSource: ofac.ConsListName, un.Source: un.ListName, uk.Source: uk.ListName}

// refuseDetect turns a file over the size cap found while detecting into
// a refusal; other errors are returned as they are.
func (s *Store) refuseDetect(err error, opts ImportOptions) error {
	var tl *tooLargeError
	if !errors.As(err, &tl) {
		return err
	}
	r := Refusal{Source: "unknown", Feed: opts.Feed, File: tl.name, Kind: RefusedTooLarge, Reason: tl.Error(), Actor: opts.Actor, Origin: opts.Origin}
	s.Refuse(r)
	return &RefusedError{Refusals: []Refusal{r}}
}

type parsed struct {
	set  *set
	hash string
	ents []entity.Entity
	err  error
}

// importSets parses, verifies, persists and activates sets: the one path
// of every import (start-up defaults, CLI, API, feeds, rollback).
func (s *Store) importSets(sets []*set, opts ImportOptions) ([]ImportResult, error) {
	if len(sets) == 0 {
		return nil, errors.New("importing: no sanctions list found")
	}
	if opts.Force && strings.TrimSpace(opts.Reason) == "" {
		return nil, errors.New("importing: --force needs a --reason, which the audit log records")
	}
	if err := checkDistinct(sets); err != nil {
		return nil, err
	}
	// Parse everything first, in parallel, outside the lock.
	ps := make([]parsed, len(sets))
	var wg sync.WaitGroup
	for i, st := range sets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ents, err := st.parse()
			ps[i] = parsed{set: st, hash: st.hash(), ents: ents, err: err}
		}()
	}
	wg.Wait()
	var refusals []Refusal
	var firstErr error
	for _, p := range ps {
		if p.err != nil {
			refusals = append(refusals, Refusal{Source: p.set.source, Feed: opts.Feed, File: parseFile(p.set, p.err), Kind: RefusedUnparseable,
				Reason: p.err.Error(), Actor: opts.Actor, Origin: opts.Origin})
			if firstErr == nil {
				firstErr = p.err
			}
		}
	}
	if firstErr != nil {
		for _, r := range refusals {
			s.Refuse(r)
		}
		return nil, &RefusedError{Refusals: refusals, err: firstErr}
	}

	s.mu.Lock()
	now := time.Now().UTC()
	results := make([]ImportResult, len(ps))
	next := make(map[string]*active, len(s.sources)+len(ps))
	for k, v := range s.sources {
		next[k] = v
	}
	changed := false
	var toPersist []parsed
	for i, p := range ps {
		prev := s.sources[p.set.source]
		v := Version{
			Source:    p.set.source,
			List:      p.set.list,
			Hash:      p.hash,
			Imported:  now,
			Entities:  len(p.ents),
			Files:     p.set.names(),
			Published: p.set.published(),
			Origin:    opts.Origin,
			Actor:     opts.Actor,
			Reason:    strings.TrimSpace(opts.Reason),
		}
		if v.Published.IsZero() {
			v.Published = opts.Published[v.Source].UTC().Truncate(time.Second)
		}
		r := ImportResult{Version: v}
		if prev != nil {
			pv := prev.version
			r.Previous = &pv
			if pv.Hash == p.hash {
				r.Version = pv
				r.Unchanged = true
				results[i] = r
				continue
			}
		}
		d := digests(p.ents)
		var old map[string][32]byte
		if prev != nil {
			old = prev.digests
		}
		r.Diff = diff(old, d)
		empty := p.set.emptyFiles()
		if ref := s.policy.verify(prev, v, r.Diff, empty); ref != nil {
			ref.Feed, ref.Actor, ref.Origin = opts.Feed, opts.Actor, opts.Origin
			if !opts.Force {
				refusals = append(refusals, *ref)
				continue
			}
			r.Warnings = append(r.Warnings, fmt.Sprintf("forced past verification: %s %s (%s): %s", ref.Source, ref.File, ref.Kind, ref.Reason))
			r.Version.Forced, r.Version.Reason = true, opts.Reason
		}
		r.Summary = summarise(r.Diff, v.Source, v.Hash)
		results[i] = r
		next[p.set.source] = &active{version: r.Version, entities: p.ents, digests: d, files: s.memFiles(p.set), empty: empty}
		toPersist = append(toPersist, p)
		changed = true
	}
	if len(refusals) > 0 {
		s.mu.Unlock()
		for _, r := range refusals {
			s.Refuse(r)
		}
		return nil, &RefusedError{Refusals: refusals}
	}
	defer s.mu.Unlock()
	if !changed {
		return results, nil
	}
	if err := s.activate(next, toPersist, results, true); err != nil {
		return nil, err
	}
	return results, nil
}

// activate publishes (when publish and a publisher is set) and persists the new versions, records them in the history and
// their diffs, writes the manifest, swaps the snapshot in and calls the
// subscribers. s.mu is held.
func (s *Store) activate(next map[string]*active, toPersist []parsed, results []ImportResult, publish bool) error {
	if publish && s.publish != nil {
		var acts []Activation
		for _, p := range toPersist {
			a := next[p.set.source]
			files := make(map[string][]byte, len(p.set.files))
			for _, f := range p.set.files {
				files[f.name] = orEmpty(f.data)
			}
			acts = append(acts, Activation{Version: a.version, Files: files})
		}
		if len(acts) > 0 {
			if err := s.publish(acts); err != nil {
				return fmt.Errorf("activating in the shared store: %w", err)
			}
		}
	}
	if s.dir != "" {
		for _, p := range toPersist {
			if err := s.persistSet(p.set, p.hash); err != nil {
				return err
			}
		}
		for _, r := range results {
			if r.Unchanged || r.Version.Hash == "" {
				continue
			}
			if err := s.writeDiff(r.Version.Source, r.Version.Hash, r.Diff); err != nil {
				return err
			}
		}
		if err := s.appendHistory(results); err != nil {
			return err
		}
		if err := s.writeManifest(next); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			if !r.Unchanged && r.Version.Hash != "" {
				s.diffs[r.Version.Source+"/"+r.Version.Hash] = r.Diff
			}
		}
	}
	old := s.snap.Load()
	s.sources = next
	cur := s.build()
	s.snap.Store(cur)
	for _, fn := range s.subs {
		fn(old, cur, results)
	}
	return nil
}

// parseFile names the file a parse error is about, from its message.
func parseFile(st *set, err error) string {
	msg := err.Error()
	for _, f := range st.files {
		if strings.Contains(msg, f.name) {
			return f.name
		}
	}
	return mainFile(st.source)
}

// build makes a snapshot of s.sources.
func (s *Store) build() *Snapshot {
	names := make([]string, 0, len(s.sources))
	n := 0
	for k, a := range s.sources {
		names = append(names, k)
		n += len(a.entities)
	}
	sort.Strings(names)
	snap := &Snapshot{Versions: make(map[string]Version, len(names)), Entities: make([]entity.Entity, 0, n)}
	for _, k := range names {
		a := s.sources[k]
		snap.Versions[k] = a.version
		start := len(snap.Entities)
		snap.Entities = append(snap.Entities, a.entities...)
		// The source keeps its part of the snapshot rather than a second
		// copy of every entity (both are read-only): 7 MiB less heap
		// with the bundled lists (issue 16).
		a.entities = snap.Entities[start:len(snap.Entities):len(snap.Entities)]
	}
	return snap
}

// digests hashes every entity's JSON form, keyed by id.
func digests(ents []entity.Entity) map[string][32]byte {
	out := make(map[string][32]byte, len(ents))
	for i := range ents {
		b, err := json.Marshal(&ents[i])
		if err != nil {
			// Entities are plain data; Marshal cannot fail on them.
			panic(fmt.Sprintf("encoding entity %s: %v", ents[i].ID, err))
		}
		out[ents[i].ID] = sha256.Sum256(b)
	}
	return out
}

func diff(old, cur map[string][32]byte) Diff {
	d := Diff{Added: []string{}, Removed: []string{}, Changed: []string{}}
	for id, h := range cur {
		oh, ok := old[id]
		switch {
		case !ok:
			d.Added = append(d.Added, id)
		case oh != h:
			d.Changed = append(d.Changed, id)
		}
	}
	for id := range old {
		if _, ok := cur[id]; !ok {
			d.Removed = append(d.Removed, id)
		}
	}
	sort.Strings(d.Added)
	sort.Strings(d.Removed)
	sort.Strings(d.Changed)
	return d
}

// orEmpty returns b, or an empty non-nil slice for nil: an empty file
// (OFAC publishes cons_comments.csv empty) is stored in the shared store
// as empty content, which a nil slice (SQL NULL) would not be.
func orEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// short returns the first 12 characters of a hash.
func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Short returns the first 12 hex digits of a version hash, for display.
func (v Version) Short() string { return short(v.Hash) }
