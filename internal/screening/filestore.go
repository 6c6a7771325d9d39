package screening

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rampart-edge/rampart/internal/entity"
)

// IndexKey identifies the index of a set of list versions (source ->
// version hash): it changes with the versions, the file format and the
// code that parses lists and builds the index (the binary's module
// version and VCS revision, or its size and time when it has none or was
// built from modified sources).
func IndexKey(versions map[string]string) string {
	h := sha256.New()
	fmt.Fprintf(h, "rampart screening index\nformat %d\ncode %s\n", fileVersion, codeID())
	for _, src := range slices.Sorted(maps.Keys(versions)) {
		fmt.Fprintf(h, "%s=%s\n", src, versions[src])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// codeID names the running code (see IndexKey).
var codeID = sync.OnceValue(func() string {
	var b strings.Builder
	exact := false
	if bi, ok := debug.ReadBuildInfo(); ok {
		b.WriteString(bi.Main.Path + "@" + bi.Main.Version)
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" {
			b.WriteString(" " + rev)
		}
		exact = (rev != "" && modified == "false") || (bi.Main.Version != "" && bi.Main.Version != "(devel)")
	}
	if !exact {
		if exe, err := os.Executable(); err == nil {
			if st, err := os.Stat(exe); err == nil {
				fmt.Fprintf(&b, " exe %d %d", st.Size(), st.ModTime().UnixNano())
			}
		}
	}
	return b.String()
})

// IndexFileName is the name of the index file for key in its folder.
func IndexFileName(key string) string { return "index-" + key[:min(len(key), 24)] + ".rsix" }

// LoadFile returns the index of the given list versions over ents from
// its file in dir: mapped when the file is there and sound, otherwise
// built, written (temporary file, fsync, rename) and mapped. A stale or
// corrupt file is never used: it is replaced. Other index files in dir
// are removed once the new one is mapped (a process that still maps one
// keeps its pages until it lets go). ents must be the entities of those
// versions.
func LoadFile(dir string, versions map[string]string, ents []entity.Entity) (*Index, LoadInfo, error) {
	key := IndexKey(versions)
	path := filepath.Join(dir, IndexFileName(key))
	info := LoadInfo{Path: path}
	t0 := time.Now()
	ix, _, err := OpenFile(path, key)
	if err != nil {
		info.Built = true
		info.Reason = "no index file yet"
		if !errors.Is(err, fs.ErrNotExist) {
			info.Reason = err.Error()
			if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				return nil, info, rerr
			}
		}
		t1 := time.Now()
		hix := NewIndex(ents)
		if err := WriteFile(path, hix, FileMeta{Key: key, Lists: versions}); err != nil {
			return nil, info, err
		}
		info.Build = time.Since(t1)
		t0 = time.Now()
		if ix, _, err = OpenFile(path, key); err != nil {
			return nil, info, err
		}
	}
	info.Open = time.Since(t0)
	info.Entities = ix.Len()
	if st, err := os.Stat(path); err == nil {
		info.Bytes = st.Size()
	}
	pruneFiles(dir, path)
	return ix, info, nil
}

// pruneFiles removes the index files of dir other than keep, and
// temporary files left by a crash (an hour old or more).
func pruneFiles(dir, keep string) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, de := range des {
		name := de.Name()
		p := filepath.Join(dir, name)
		switch {
		case p == keep:
		case strings.HasPrefix(name, "index-") && strings.HasSuffix(name, ".rsix"):
			os.Remove(p)
		case strings.HasPrefix(name, ".index-") && strings.HasSuffix(name, ".tmp"):
			if fi, err := de.Info(); err == nil && time.Since(fi.ModTime()) > time.Hour {
				os.Remove(p)
			}
		}
	}
}
