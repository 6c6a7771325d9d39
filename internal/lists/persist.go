package lists

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// persistSet stores a set's files under dir/<source>/<hash>/. The files are
// written into a temporary folder, fsynced, and the folder is renamed into
// place, so a version folder is either complete or absent. An existing
// folder with the right content is kept.
func (s *Store) persistSet(st *set, hash string) error {
	final := s.versionDir(st.source, hash)
	if s.versionIntact(st, final, hash) {
		return nil
	}
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return fmt.Errorf("storing list %s: %w", st.source, err)
	}
	tmp, err := os.MkdirTemp(parent, ".tmp-"+short(hash)+"-")
	if err != nil {
		return fmt.Errorf("storing list %s: %w", st.source, err)
	}
	defer os.RemoveAll(tmp) // no-op after the rename
	for _, f := range st.files {
		if err := writeSync(filepath.Join(tmp, f.name), f.data); err != nil {
			return fmt.Errorf("storing list %s: %w", st.source, err)
		}
	}
	if err := syncDir(tmp); err != nil {
		return fmt.Errorf("storing list %s: %w", st.source, err)
	}
	// A damaged folder of the same hash (e.g. edited by hand) is replaced.
	if _, err := os.Stat(final); err == nil {
		if err := os.RemoveAll(final); err != nil {
			return fmt.Errorf("storing list %s: replacing damaged %s: %w", st.source, final, err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("storing list %s: %w", st.source, err)
	}
	if err := syncDir(parent); err != nil {
		return fmt.Errorf("storing list %s: %w", st.source, err)
	}
	return nil
}

// versionIntact reports whether dir already holds exactly the set's files.
func (s *Store) versionIntact(st *set, dir, hash string) bool {
	got := &set{source: st.source}
	for _, f := range st.files {
		b, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			return false
		}
		got.files = append(got.files, file{name: f.name, data: b})
	}
	return got.hash() == hash
}

// writeManifest atomically replaces active.json with the given versions.
func (s *Store) writeManifest(sources map[string]*active) error {
	m := manifest{Versions: make([]Version, 0, len(sources))}
	for _, a := range sources {
		m.Versions = append(m.Versions, a.version)
	}
	sort.Slice(m.Versions, func(i, j int) bool { return m.Versions[i].Source < m.Versions[j].Source })
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("writing list manifest: %w", err)
	}
	b = append(b, '\n')
	if err := writeAtomic(s.manifestPath(), b); err != nil {
		return fmt.Errorf("writing list manifest: %w", err)
	}
	return nil
}

// writeAtomic writes data to a temporary file next to path, fsyncs it,
// renames it over path and fsyncs the folder.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o640); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

// writeSync creates path with data and fsyncs it.
func writeSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) {
		return err
	}
	return nil
}
