package lists

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// SummaryIDs is how many ids of each kind an import answer names.
const SummaryIDs = 10

// DiffSummary is the short form of a Diff in import answers: the counts,
// the first SummaryIDs ids of each kind and where the full diff is.
type DiffSummary struct {
	Added        int      `json:"added"`
	Removed      int      `json:"removed"`
	Changed      int      `json:"changed"`
	FirstAdded   []string `json:"first_added"`
	FirstRemoved []string `json:"first_removed"`
	FirstChanged []string `json:"first_changed"`
	// Full is the admin API path of the full diff.
	Full string `json:"full"`
}

// DiffPath is the admin API path of the full diff that led to a version.
func DiffPath(source, hash string) string { return "/v1/lists/" + source + "/" + hash + "/diff" }

func summarise(d Diff, source, hash string) DiffSummary {
	first := func(ids []string) []string {
		if len(ids) > SummaryIDs {
			ids = ids[:SummaryIDs]
		}
		return append([]string{}, ids...)
	}
	return DiffSummary{Added: len(d.Added), Removed: len(d.Removed), Changed: len(d.Changed),
		FirstAdded: first(d.Added), FirstRemoved: first(d.Removed), FirstChanged: first(d.Changed), Full: DiffPath(source, hash)}
}

func (s *Store) diffPath(source, hash string) string {
	return filepath.Join(s.dir, source, hash+".diff.json")
}

func (s *Store) writeDiff(source, hash string, d Diff) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("storing the diff of %s: %w", source, err)
	}
	if err := writeAtomic(s.diffPath(source, hash), b); err != nil {
		return fmt.Errorf("storing the diff of %s: %w", source, err)
	}
	return nil
}

// DiffOf returns the full diff that led to the version hash of source.
func (s *Store) DiffOf(source, hash string) (Diff, error) {
	if !hashRE.MatchString(hash) {
		return Diff{}, fmt.Errorf("bad version %q", hash)
	}
	if _, ok := allowedFiles[source]; !ok {
		return Diff{}, fmt.Errorf("unknown source %q", source)
	}
	if s.dir == "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		d, ok := s.diffs[source+"/"+hash]
		if !ok {
			return Diff{}, fs.ErrNotExist
		}
		return d, nil
	}
	b, err := os.ReadFile(s.diffPath(source, hash))
	if err != nil {
		return Diff{}, err
	}
	var d Diff
	if err := json.Unmarshal(b, &d); err != nil {
		return Diff{}, fmt.Errorf("reading the diff of %s %s: %w", source, short(hash), err)
	}
	return d, nil
}

func (s *Store) historyPath() string { return filepath.Join(s.dir, "history.json") }

// History returns every version activated in this data directory, oldest
// first (empty in memory).
func (s *Store) History() ([]Version, error) {
	if s.dir == "" {
		return nil, nil
	}
	b, err := os.ReadFile(s.historyPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading list history: %w", err)
	}
	var h []Version
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("reading list history %s: %w", s.historyPath(), err)
	}
	return h, nil
}

// appendHistory records the activated versions of results. s.mu is held.
func (s *Store) appendHistory(results []ImportResult) error {
	h, err := s.History()
	if err != nil {
		return err
	}
	n := len(h)
	for _, r := range results {
		if !r.Unchanged && r.Version.Hash != "" {
			h = append(h, r.Version)
		}
	}
	if len(h) == n {
		return nil
	}
	b, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return fmt.Errorf("writing list history: %w", err)
	}
	if err := writeAtomic(s.historyPath(), append(b, '\n')); err != nil {
		return fmt.Errorf("writing list history: %w", err)
	}
	return nil
}

// Rollback reactivates an earlier version, named by its hash or a unique
// prefix of it (at least 6 hex digits), from the versions kept in the data
// directory. It goes through the import path (the re-screen and the audit
// entry follow), skipping the plausibility checks: going back is an
// operator's decision, recorded with opts.Reason.
func (s *Store) Rollback(prefix string, opts ImportOptions) ([]ImportResult, error) {
	if s.dir == "" {
		return nil, errors.New("rolling back: the list store is in memory; there are no earlier versions")
	}
	prefix = strings.ToLower(strings.TrimSpace(prefix))
	if len(prefix) < 6 {
		return nil, fmt.Errorf("rolling back: give at least 6 hex digits of the version (rampart lists status --history lists them)")
	}
	h, err := s.History()
	if err != nil {
		return nil, err
	}
	var found *Version
	for i := len(h) - 1; i >= 0; i-- {
		if strings.HasPrefix(h[i].Hash, prefix) {
			if found != nil && found.Hash != h[i].Hash {
				return nil, fmt.Errorf("rolling back: %s names more than one version (%s, %s)", prefix, found.Short(), h[i].Short())
			}
			v := h[i]
			found = &v
		}
	}
	if found == nil {
		return nil, fmt.Errorf("rolling back: no version %s in %s", prefix, s.historyPath())
	}
	dir := s.versionDir(found.Source, found.Hash)
	st := &set{source: found.Source, list: found.List, origin: dir}
	for _, name := range found.Files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("rolling back to %s %s: %w", found.Source, found.Short(), err)
		}
		st.files = append(st.files, file{name: name, data: b})
	}
	sortFiles(st.files)
	if opts.Reason == "" {
		opts.Reason = "rollback to " + found.Short()
	}
	opts.Force = true
	opts.Origin = "rollback"
	if !found.Published.IsZero() {
		opts.Published = map[string]time.Time{found.Source: found.Published}
	}
	return s.importSets([]*set{st}, opts)
}
