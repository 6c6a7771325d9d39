package lists

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists/ofac"
	"github.com/rampart-edge/rampart/internal/lists/uk"
	"github.com/rampart-edge/rampart/internal/lists/un"
)

// MaxFileSize bounds one list file (256 MiB); larger files are refused
// before they are read.
const MaxFileSize = 256 << 20

// maxDepth bounds how deep a parent folder is searched for list folders.
const maxDepth = 4

// file is one list file under its canonical (lower-case, official) name.
type file struct {
	name string
	data []byte
}

// tooLargeError is a file over MaxFileSize.
type tooLargeError struct {
	name string
	size int64
}

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("reading %s: %d bytes, more than the %d allowed", e.name, e.size, MaxFileSize)
}

// published is the publication time the set's files carry (the UN's
// dateGenerated), zero if none.
func (s *set) published() time.Time {
	if s.source == un.Source {
		if t, ok := un.DateGenerated(s.get(un.FileName)); ok {
			return t.UTC().Truncate(time.Second)
		}
	}
	return time.Time{}
}

// set is one list's files, detected and ready to parse.
type set struct {
	source string
	list   string
	origin string // path or upload name, for errors
	files  []file // sorted by name
}

// hash is the SHA-256 hex of the set's files: for each file in name
// order, its name, its length and its content.
func (s *set) hash() string {
	h := sha256.New()
	var n [8]byte
	for _, f := range s.files {
		binary.BigEndian.PutUint64(n[:], uint64(len(f.name)))
		h.Write(n[:])
		h.Write([]byte(f.name))
		binary.BigEndian.PutUint64(n[:], uint64(len(f.data)))
		h.Write(n[:])
		h.Write(f.data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (s *set) names() []string {
	out := make([]string, len(s.files))
	for i, f := range s.files {
		out[i] = f.name
	}
	return out
}

// emptyFiles names the set's files that hold no rows: nothing but
// whitespace and the 0x1A end-of-file byte.
func (s *set) emptyFiles() map[string]bool {
	out := map[string]bool{}
	for _, f := range s.files {
		if len(bytes.TrimRight(f.data, "\x1a\r\n\t ")) == 0 {
			out[f.name] = true
		}
	}
	return out
}

func (s *set) get(name string) []byte {
	for _, f := range s.files {
		if f.name == name {
			return f.data
		}
	}
	return nil
}

// parse maps the set's files to entities, compacted.
func (s *set) parse() ([]entity.Entity, error) {
	ents, err := s.parseRaw()
	if err != nil {
		return nil, err
	}
	compact(ents) // compact.go: the parsed texts in one block, issue 16
	return ents, nil
}

// parseRaw maps the set's files to entities as the parsers make them.
func (s *set) parseRaw() ([]entity.Entity, error) {
	var ents []entity.Entity
	var err error
	switch s.source {
	case ofac.Source, ofac.ConsSource:
		oset, _ := ofacSet(s.source)
		ents, err = oset.Parse(ofac.Files{
			Main:     s.get(oset.Main),
			Alt:      s.get(oset.Alt),
			Add:      s.get(oset.Add),
			Comments: s.get(oset.Comments),
		})
	case un.Source:
		ents, err = un.Parse(s.get(un.FileName))
	case uk.Source:
		ents, err = uk.Parse(s.get(uk.SubjectsFile), s.get(uk.NamesFile))
	default:
		err = fmt.Errorf("unknown source %q", s.source)
	}
	if err != nil {
		return nil, fmt.Errorf("importing %s: %w", s.origin, err)
	}
	return ents, nil
}

// ofacSet returns the OFAC CSV set of a source.
func ofacSet(source string) (ofac.Set, bool) {
	for _, oset := range ofac.Sets {
		if oset.Source == source {
			return oset, true
		}
	}
	return ofac.Set{}, false
}

// detectFS finds the list sets in dir of fsys. A folder holding sdn.csv is
// an OFAC SDN set, one holding cons_prim.csv an OFAC consolidated set
// (both may share a folder, as on OFAC's Sanctions List Service); one holding subjects.csv and subject_names.csv is a UK set;
// an XML file whose root is CONSOLIDATED_LIST is a UN set. A folder that
// is none of these is searched for list folders, maxDepth levels deep.
func detectFS(fsys fs.FS, dir, origin string, depth int) ([]*set, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", origin, err)
	}
	lower := map[string]string{} // lower-case name -> actual name
	for _, e := range entries {
		if e.Type().IsRegular() {
			lower[strings.ToLower(e.Name())] = e.Name()
		}
	}
	read := func(name string) ([]byte, error) {
		p := path.Join(dir, name)
		st, err := fs.Stat(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", filepath.Join(origin, name), err)
		}
		if st.Size() > MaxFileSize {
			return nil, &tooLargeError{name: filepath.Join(origin, name), size: st.Size()}
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", filepath.Join(origin, name), err)
		}
		return b, nil
	}
	var sets []*set
	for _, oset := range ofac.Sets {
		if _, ok := lower[oset.Main]; !ok {
			continue
		}
		s := &set{source: oset.Source, list: oset.List, origin: origin}
		for _, n := range oset.Names() {
			actual, ok := lower[n]
			if !ok {
				continue
			}
			b, err := read(actual)
			if err != nil {
				return nil, err
			}
			s.files = append(s.files, file{name: n, data: b})
		}
		sets = append(sets, s)
	}
	subj, okS := lower[uk.SubjectsFile]
	names, okN := lower[uk.NamesFile]
	if okS && okN {
		s := &set{source: uk.Source, list: uk.ListName, origin: origin}
		for _, n := range []string{names, subj} {
			b, err := read(n)
			if err != nil {
				return nil, err
			}
			s.files = append(s.files, file{name: strings.ToLower(n), data: b})
		}
		sets = append(sets, s)
	}
	for l, actual := range lower {
		if !strings.HasSuffix(l, ".xml") {
			continue
		}
		b, err := read(actual)
		if err != nil {
			return nil, err
		}
		if un.IsConsolidated(b) {
			sets = append(sets, &set{source: un.Source, list: un.ListName, origin: filepath.Join(origin, actual), files: []file{{name: un.FileName, data: b}}})
		}
	}
	if len(sets) > 0 || depth >= maxDepth {
		return sets, nil
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		sub, err := detectFS(fsys, path.Join(dir, e.Name()), filepath.Join(origin, e.Name()), depth+1)
		if err != nil {
			return nil, err
		}
		sets = append(sets, sub...)
	}
	return sets, nil
}

// detectPath finds the list sets at a file or folder path.
func detectPath(p string) ([]*set, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	if st.IsDir() {
		sets, err := detectFS(os.DirFS(p), ".", p, 0)
		if err != nil {
			return nil, err
		}
		if len(sets) == 0 {
			return nil, fmt.Errorf("reading %s: no sanctions list found (want a folder with sdn.csv or cons_prim.csv, a UN consolidated XML, or subjects.csv with subject_names.csv)", p)
		}
		return sets, nil
	}
	if st.Size() > MaxFileSize {
		return nil, &tooLargeError{name: p, size: st.Size()}
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	base := filepath.Base(p)
	if un.IsConsolidated(data) {
		return []*set{{source: un.Source, list: un.ListName, origin: p, files: []file{{name: un.FileName, data: data}}}}, nil
	}
	for _, oset := range ofac.Sets {
		if !strings.EqualFold(base, oset.Main) {
			continue
		}
		// A lone sdn.csv or cons_prim.csv: its folder's optional files of
		// the same set come along.
		sets, err := detectFS(os.DirFS(filepath.Dir(p)), ".", filepath.Dir(p), maxDepth)
		if err != nil {
			return nil, err
		}
		for _, s := range sets {
			if s.source == oset.Source {
				return []*set{s}, nil
			}
		}
	}
	return nil, fmt.Errorf("reading %s: not a known sanctions list file (want a UN consolidated XML, an OFAC sdn.csv or cons_prim.csv; give folders for the OFAC and UK sets)", p)
}

// detectFiles groups uploaded files (name -> content) into list sets.
// Names may carry folders ("ofac/sdn.csv"); files are grouped by folder.
func detectFiles(files map[string][]byte) ([]*set, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("importing: no files")
	}
	groups := map[string]map[string][]byte{}
	for name, data := range files {
		if len(data) > MaxFileSize {
			return nil, &tooLargeError{name: name, size: int64(len(data))}
		}
		clean := path.Clean(strings.ReplaceAll(name, "\\", "/"))
		dir, base := path.Split(clean)
		if groups[dir] == nil {
			groups[dir] = map[string][]byte{}
		}
		groups[dir][strings.ToLower(base)] = data
	}
	dirs := make([]string, 0, len(groups))
	for d := range groups {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	var sets []*set
	for _, d := range dirs {
		g := groups[d]
		used := map[string]bool{}
		for _, oset := range ofac.Sets {
			main, ok := g[oset.Main]
			if !ok {
				continue
			}
			s := &set{source: oset.Source, list: oset.List, origin: d + oset.Main}
			s.files = append(s.files, file{name: oset.Main, data: main})
			used[oset.Main] = true
			for _, n := range oset.Names()[1:] {
				if b, ok := g[n]; ok {
					s.files = append(s.files, file{name: n, data: b})
					used[n] = true
				}
			}
			sortFiles(s.files)
			sets = append(sets, s)
		}
		subj, okS := g[uk.SubjectsFile]
		names, okN := g[uk.NamesFile]
		if okS && okN {
			sets = append(sets, &set{source: uk.Source, list: uk.ListName, origin: d + uk.SubjectsFile,
				files: []file{{name: uk.NamesFile, data: names}, {name: uk.SubjectsFile, data: subj}}})
			used[uk.SubjectsFile], used[uk.NamesFile] = true, true
		}
		for n, b := range g {
			if !used[n] && un.IsConsolidated(b) {
				sets = append(sets, &set{source: un.Source, list: un.ListName, origin: d + n, files: []file{{name: un.FileName, data: b}}})
				used[n] = true
			}
		}
		var unknown []string
		for n := range g {
			if !used[n] {
				unknown = append(unknown, d+n)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return nil, fmt.Errorf("importing %s: not part of a known sanctions list (want sdn.csv with alt.csv, add.csv, sdn_comments.csv; cons_prim.csv with cons_alt.csv, cons_add.csv, cons_comments.csv; a UN consolidated XML; or subjects.csv with subject_names.csv)", strings.Join(unknown, ", "))
		}
	}
	return sets, nil
}

func sortFiles(fs []file) {
	slices.SortFunc(fs, func(a, b file) int { return strings.Compare(a.name, b.name) })
}

// checkDistinct refuses two sets of the same source in one import.
func checkDistinct(sets []*set) error {
	seen := map[string]*set{}
	for _, s := range sets {
		sortFiles(s.files)
		if prev, ok := seen[s.source]; ok {
			return fmt.Errorf("importing: %s and %s are both %s lists; import one at a time", prev.origin, s.origin, s.source)
		}
		seen[s.source] = s
	}
	return nil
}
