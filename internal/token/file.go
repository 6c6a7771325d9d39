package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// FileName is the name of the token file inside the data directory.
const FileName = "tokens.json"

// refreshEvery is how often Verify looks at the file for changes made by
// another process (such as `rampart token create`).
const refreshEvery = time.Second

// File is a Store kept in DataDir/tokens.json. The file holds only hashes
// of the secrets, is written with mode 0600 through a temporary file,
// fsync and rename (a crash leaves the old or the new file, never half of
// one), and is guarded by an advisory lock (tokens.json.lock) against a
// concurrent writer in another process. Tokens added or revoked by another
// process are seen within about a second, and at once for an unknown id.
type File struct {
	path string
	now  func() time.Time

	mu    sync.RWMutex
	recs  map[string]record
	stamp stamp

	lastCheck atomic.Int64 // unix nanoseconds of the last stat
}

var _ Store = (*File)(nil)

// stamp identifies one version of the file on disk.
type stamp struct {
	size    int64
	modTime time.Time
	exists  bool
}

// fileDoc is the JSON layout of tokens.json.
type fileDoc struct {
	Version int      `json:"version"`
	Tokens  []record `json:"tokens"`
}

// OpenFile opens the token file in dataDir, creating dataDir (mode 0700)
// if needed. A missing file is an empty store; a malformed one is an error
// naming the file and the record at fault.
func OpenFile(dataDir string) (*File, error) {
	if dataDir == "" {
		return nil, errors.New("opening token store: empty data directory")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("opening token store: creating data directory: %w", err)
	}
	f := &File{path: filepath.Join(dataDir, FileName), now: time.Now, recs: map[string]record{}}
	if err := f.reload(true); err != nil {
		return nil, err
	}
	return f, nil
}

// Path returns the token file's path.
func (f *File) Path() string { return f.path }

// statFile returns the stamp of the file on disk.
func (f *File) statFile() (stamp, error) {
	fi, err := os.Stat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return stamp{}, nil
	}
	if err != nil {
		return stamp{}, fmt.Errorf("reading %s: %w", f.path, err)
	}
	return stamp{size: fi.Size(), modTime: fi.ModTime(), exists: true}, nil
}

// reload reads the file again if it changed on disk (or always, if force).
// On error the tokens in memory are kept.
func (f *File) reload(force bool) error {
	f.lastCheck.Store(time.Now().UnixNano())
	st, err := f.statFile()
	if err != nil {
		return err
	}
	f.mu.RLock()
	same := st == f.stamp
	f.mu.RUnlock()
	if same && !force {
		return nil
	}
	recs := map[string]record{}
	if st.exists {
		data, err := os.ReadFile(f.path)
		if err != nil {
			return fmt.Errorf("reading %s: %w", f.path, err)
		}
		recs, err = decodeFile(data)
		if err != nil {
			return fmt.Errorf("reading %s: %w", f.path, err)
		}
	}
	f.mu.Lock()
	f.recs, f.stamp = recs, st
	f.mu.Unlock()
	return nil
}

// decodeFile parses the contents of a token file.
func decodeFile(data []byte) (map[string]record, error) {
	var doc fileDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decoding JSON: %w", err)
	}
	if doc.Version != 1 {
		return nil, fmt.Errorf("unsupported version %d (want 1)", doc.Version)
	}
	recs := make(map[string]record, len(doc.Tokens))
	for i, r := range doc.Tokens {
		switch {
		case !validID(r.ID):
			return nil, fmt.Errorf("token %d: id %q is not 16 lowercase hex digits", i+1, r.ID)
		case !r.Scope.Valid():
			return nil, fmt.Errorf("token %d (id %s): unknown scope %q", i+1, r.ID, r.Scope)
		case len(r.Hash) != 64 || !isHex(r.Hash):
			return nil, fmt.Errorf("token %d (id %s): hash is not 64 hex digits", i+1, r.ID)
		}
		if _, dup := recs[r.ID]; dup {
			return nil, fmt.Errorf("token %d: duplicate id %s", i+1, r.ID)
		}
		recs[r.ID] = r
	}
	return recs, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// maybeRefresh reloads the file when it was last looked at more than
// refreshEvery ago, or (for an unknown id) more than a tenth of that.
func (f *File) maybeRefresh(unknown bool) {
	every := refreshEvery
	if unknown {
		every /= 10
	}
	if time.Now().UnixNano()-f.lastCheck.Load() < int64(every) {
		return
	}
	// A broken file keeps the tokens already loaded; List reports it.
	_ = f.reload(false)
}

// Verify checks a plaintext token; see Store.
func (f *File) Verify(plaintext string) (Token, bool) {
	id, secret, err := Parse(plaintext)
	if err != nil {
		return Token{}, false
	}
	f.maybeRefresh(false)
	f.mu.RLock()
	rec, ok := f.recs[id]
	f.mu.RUnlock()
	if !ok {
		f.maybeRefresh(true)
		f.mu.RLock()
		rec, ok = f.recs[id]
		f.mu.RUnlock()
	}
	return verifyRecord(rec, ok, secret)
}

// List returns every token oldest first, reading the file again first; see
// Store.
func (f *File) List() ([]Token, error) {
	if err := f.reload(false); err != nil {
		return nil, err
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	return sortedTokens(f.recs), nil
}

// Create issues a token and saves the file; see Store.
func (f *File) Create(scope Scope, note string) (string, Token, error) {
	plain, rec, err := newToken(scope, note, f.now())
	if err != nil {
		return "", Token{}, err
	}
	err = f.update(func(recs map[string]record) error {
		recs[rec.ID] = rec
		return nil
	})
	if err != nil {
		return "", Token{}, fmt.Errorf("creating token: %w", err)
	}
	return plain, rec.Token, nil
}

// Revoke revokes a token and saves the file; see Store.
func (f *File) Revoke(id string) error {
	now := f.now().UTC().Truncate(time.Second)
	err := f.update(func(recs map[string]record) error {
		rec, ok := recs[id]
		if !ok {
			return ErrNotFound
		}
		if rec.Revoked.IsZero() {
			rec.Revoked = now
			recs[id] = rec
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("revoking token %s: %w", id, err)
	}
	return nil
}

// update applies change to the latest tokens on disk and writes them back,
// under the inter-process lock.
func (f *File) update(change func(map[string]record) error) error {
	unlock, err := lockFile(f.path + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	if err := f.reload(true); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	recs := make(map[string]record, len(f.recs)+1)
	for k, v := range f.recs {
		recs[k] = v
	}
	if err := change(recs); err != nil {
		return err
	}
	doc := fileDoc{Version: 1, Tokens: make([]record, 0, len(recs))}
	for _, t := range sortedTokens(recs) {
		doc.Tokens = append(doc.Tokens, recs[t.ID])
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", f.path, err)
	}
	if err := writeFileAtomic(f.path, append(data, '\n'), 0o600); err != nil {
		return err
	}
	st, err := f.statFile()
	if err != nil {
		return err
	}
	f.recs, f.stamp = recs, st
	return nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, fsyncs it, renames it over path and fsyncs the directory.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: syncing: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
