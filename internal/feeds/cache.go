package feeds

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// keep records the accepted files and their validators, so that the next
// check asks conditionally and a 304 is answered from them.
func (s *Scheduler) keep(name string, lay layout, gots []got, files map[string][]byte, published time.Time) error {
	s.mu.Lock()
	st := s.states[name]
	s.mu.Unlock()
	next := map[string]validators{}
	for i, rf := range lay.files {
		data, ok := files[rf.canonical]
		if !ok {
			continue
		}
		v := gots[i].val
		if gots[i].status == http.StatusOK {
			if s.dir == "" {
				s.mu.Lock()
				st.mem[rf.canonical] = data
				s.mu.Unlock()
			} else if err := writeFile(filepath.Join(s.dir, name, rf.canonical), data); err != nil {
				return err
			}
		}
		next[rf.canonical] = v
	}
	s.mu.Lock()
	st.Files = next
	if published.After(st.Published) {
		st.Published = published
	}
	s.mu.Unlock()
	return nil
}

// cached returns the kept copy of a feed's file.
func (s *Scheduler) cached(name, file string) ([]byte, error) {
	if s.dir == "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		b, ok := s.states[name].mem[file]
		if !ok {
			return nil, fmt.Errorf("no kept copy of %s", file)
		}
		return b, nil
	}
	return os.ReadFile(filepath.Join(s.dir, name, file))
}

// forget drops a feed's validators: the next check downloads everything.
func (s *Scheduler) forget(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states[name].Files = map[string]validators{}
}

func (s *Scheduler) saveState(name string) error {
	if s.dir == "" {
		return nil
	}
	s.mu.Lock()
	b, err := json.MarshalIndent(s.states[name], "", "  ")
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(s.dir, name, "state.json"), append(b, '\n'))
}

// writeFile writes data to a temporary file next to path, fsyncs it and
// renames it over path.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
