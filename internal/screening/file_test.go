package screening

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists"
)

var (
	fileEntsOnce sync.Once
	fileEnts     []entity.Entity
	fileEntsErr  error
)

// fileTestEntities are the UN list of testdata (names in several
// scripts, addresses, identifiers), the OFAC fixture and the hand-made
// entities.
func fileTestEntities(t testing.TB) []entity.Entity {
	t.Helper()
	fileEntsOnce.Do(func() {
		st, err := lists.Open("", []string{"../../testdata/sanctions/un"})
		if err != nil {
			fileEntsErr = err
			return
		}
		fileEnts = append(append(st.Snapshot().Entities, fixture(t, "testdata/ofac-v1")...), handMade...)
	})
	if fileEntsErr != nil {
		t.Fatal(fileEntsErr)
	}
	return fileEnts
}

// writeTestFile writes the index of ents under key to a new folder.
func writeTestFile(t testing.TB, ents []entity.Entity, key string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), IndexFileName(key))
	if err := WriteFile(path, NewIndex(ents), FileMeta{Key: key, Lists: map[string]string{"t": key}}); err != nil {
		t.Fatal(err)
	}
	return path
}

// fileQueries are names to screen: every listed name, and each with a
// letter dropped, with and without a kind and a country.
func fileQueries(ents []entity.Entity) []Query {
	var qs []Query
	for i, e := range ents {
		for j, n := range e.Names {
			if j > 2 {
				break
			}
			q := Query{Name: n.Full}
			if i%3 == 0 {
				q.Kind = entity.Person
			}
			if i%5 == 0 {
				q.Country = "IR"
			}
			qs = append(qs, q)
			if r := []rune(n.Full); len(r) > 6 {
				qs = append(qs, Query{Name: string(r[:3]) + string(r[4:])})
			}
		}
	}
	return append(qs, Query{Name: "Golden Star Trading"}, Query{Name: "حزب الله"}, Query{Name: ""})
}

// TestFileSameAnswers checks that the index mapped from its file answers
// every query, identifier and address look-up as the index in the heap.
func TestFileSameAnswers(t *testing.T) {
	ents := fileTestEntities(t)
	heap := NewIndex(ents)
	path := writeTestFile(t, ents, "k1")
	mapped, meta, err := OpenFile(path, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if meta.Entities != len(ents) || meta.Lists["t"] != "k1" || mapped.Len() != heap.Len() || mapped.Names() != heap.Names() {
		t.Fatalf("meta %+v, Len %d/%d, Names %d/%d", meta, mapped.Len(), heap.Len(), mapped.Names(), heap.Names())
	}
	qs := fileQueries(ents)
	found := 0
	for _, q := range qs {
		want, got := heap.Search(q, 0.80), mapped.Search(q, 0.80)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Search(%+v):\n got %+v\nwant %+v", q, got, want)
		}
		found += len(got)
	}
	if found < len(qs) {
		t.Errorf("only %d matches for %d queries: the comparison tests little", found, len(qs))
	}
	ids, addrs := 0, 0
	for _, e := range ents {
		for _, id := range e.Identifiers {
			want, got := heap.MatchIdentifier(id.Type, id.Value), mapped.MatchIdentifier(id.Type, id.Value)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("MatchIdentifier(%s, %q): got %+v, want %+v", id.Type, id.Value, got, want)
			}
			ids += len(got)
		}
		for _, a := range e.Addresses {
			s := a.Street + ", " + a.City + ", " + a.Country
			want, got := heap.MatchAddress(s), mapped.MatchAddress(s)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("MatchAddress(%q): got %+v, want %+v", s, got, want)
			}
			addrs += len(got)
		}
		if got, ok := mapped.Entity(e.ID); !ok || got.ID != e.ID || got.Kind != e.Kind || len(got.Names) != len(e.Names) {
			t.Fatalf("Entity(%s) = %+v, %v", e.ID, got, ok)
		}
	}
	if ids == 0 || addrs == 0 {
		t.Errorf("%d identifier and %d address matches: the fixture should have both", ids, addrs)
	}
	if _, ok := mapped.Entity("no such id"); ok {
		t.Error("Entity found an unknown id")
	}
	for _, w := range []string{"petrov", "trading", "zzzzq"} {
		a1, b1, c1 := heap.TokenInfo(w)
		a2, b2, c2 := mapped.TokenInfo(w)
		if a1 != a2 || b1 != b2 || c1 != c2 {
			t.Errorf("TokenInfo(%q): mapped %v %v %v, heap %v %v %v", w, a2, b2, c2, a1, b1, c1)
		}
	}
	// A match never points into the mapping: it outlives the Index.
	ms := mapped.Search(Query{Name: "Ivan Petrov"}, 0.8)
	mapped = nil
	runtime.GC()
	runtime.GC()
	if len(ms) == 0 || ms[0].ID != "t:1" || !strings.Contains(ms[0].Explanation, "petrov") {
		t.Errorf("matches after the index was dropped: %+v", ms)
	}
}

// TestFileCorrupt damages a good file in ways a crash, a full disk or a
// bad sector could, and checks that OpenFile refuses each (never a panic,
// never a wrong answer) and LoadFile rebuilds it.
func TestFileCorrupt(t *testing.T) {
	ents := fileTestEntities(t)[:300]
	good, err := os.ReadFile(writeTestFile(t, ents, "k1"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(at int) func([]byte) []byte {
		return func(b []byte) []byte {
			b = bytes.Clone(b)
			b[at] ^= 0x40
			return b
		}
	}
	cut := func(n int) func([]byte) []byte { return func(b []byte) []byte { return bytes.Clone(b[:n]) } }
	tests := []struct {
		name  string
		hurt  func([]byte) []byte
		stale bool
	}{
		{"empty", cut(0), false},
		{"half a header", cut(30), false},
		{"header only", cut(headerSize), false},
		{"half the file", cut(len(good) / 2), false},
		{"last byte missing", cut(len(good) - 1), false},
		{"one byte more", func(b []byte) []byte { return append(bytes.Clone(b), 0) }, false},
		{"magic", flip(0), false},
		{"format version", flip(8), true},
		{"byte order", flip(12), true},
		{"meta length", flip(16), false},
		{"section count", flip(20), false},
		{"checksum", flip(25), false},
		{"reserved header byte", flip(40), false},
		{"meta", flip(headerSize + 3), false},
		{"section table", flip(int(align(headerSize+int64(bytes.IndexByte(good[headerSize:], '}'))+1, 8)) + 3), false},
		{"first section", flip(len(good) / 4), false},
		{"middle", flip(len(good) / 2), false},
		{"last byte", flip(len(good) - 1), false},
	}
	heap := NewIndex(ents)
	want := heap.Search(Query{Name: ents[0].Name}, 0.8)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			versions := map[string]string{"t": "v1"}
			path := filepath.Join(dir, IndexFileName(IndexKey(versions)))
			if err := os.WriteFile(path, tc.hurt(good), 0o644); err != nil {
				t.Fatal(err)
			}
			ix, _, err := OpenFile(path, "k1")
			if err == nil {
				t.Fatalf("OpenFile accepted a damaged file (%d entities)", ix.Len())
			}
			if tc.stale != errors.Is(err, ErrStale) {
				t.Errorf("error %v: stale %v, want %v", err, errors.Is(err, ErrStale), tc.stale)
			}
			ix, info, err := LoadFile(dir, versions, ents)
			if err != nil {
				t.Fatal(err)
			}
			if !info.Built || info.Reason == "" || info.Path != path {
				t.Errorf("LoadFile did not rebuild: %+v", info)
			}
			if got := ix.Search(Query{Name: ents[0].Name}, 0.8); !reflect.DeepEqual(got, want) {
				t.Errorf("rebuilt index: %+v, want %+v", got, want)
			}
			if _, _, err := OpenFile(path, IndexKey(versions)); err != nil {
				t.Errorf("the rebuilt file does not open: %v", err)
			}
		})
	}
	// Another key (other list versions, or other code): stale.
	path := writeTestFile(t, ents, "k1")
	if _, _, err := OpenFile(path, "k2"); !errors.Is(err, ErrStale) {
		t.Errorf("OpenFile with another key: %v, want ErrStale", err)
	}
}

// FuzzOpenFile damages a good file at one place (a byte flipped, or cut
// short there): OpenFile must refuse it without panicking.
func FuzzOpenFile(f *testing.F) {
	ents := fileTestEntities(f)[:50]
	dir := f.TempDir()
	path := filepath.Join(dir, "good.rsix")
	if err := WriteFile(path, NewIndex(ents), FileMeta{Key: "k"}); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint32(0), byte(1), false)
	f.Add(uint32(24), byte(0xff), false)
	f.Add(uint32(headerSize+1), byte(0x20), false)
	f.Add(uint32(len(good)/2), byte(0), true)
	f.Add(uint32(len(good)-1), byte(0x80), false)
	f.Fuzz(func(t *testing.T, at uint32, x byte, truncate bool) {
		b := bytes.Clone(good)
		i := int(at) % len(b)
		switch {
		case truncate:
			b = b[:i]
		case x == 0:
			return // no change
		default:
			b[i] ^= x
		}
		p := filepath.Join(t.TempDir(), "bad.rsix")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if ix, _, err := OpenFile(p, "k"); err == nil {
			t.Fatalf("damaged at %d (%#x, cut %v): accepted, %d entities", i, x, truncate, ix.Len())
		}
	})
}

// TestServiceFiles checks the service's file life cycle: built on the
// first start, mapped on the next, a new file for a new list version and
// the old one pruned.
func TestServiceFiles(t *testing.T) {
	data := t.TempDir()
	scr := filepath.Join(data, "screening")
	st, err := lists.Open(data, []string{"testdata/ofac-v1"})
	if err != nil {
		t.Fatal(err)
	}
	files := func() []string {
		m, _ := filepath.Glob(filepath.Join(scr, "*"))
		return m
	}
	s1 := NewServiceWith(st, ServiceOptions{Dir: scr})
	l1 := s1.LastLoad()
	if !l1.Built || l1.Path == "" || l1.Bytes == 0 || l1.Entities == 0 {
		t.Fatalf("first load: %+v", l1)
	}
	if got := files(); len(got) != 1 || got[0] != l1.Path {
		t.Fatalf("files after the first load: %v", got)
	}
	r1 := s1.Screen(Query{Name: handMadeOrListed(st)})
	// A second service on the same lists (a restart) maps the file.
	st2, err := lists.OpenPersisted(data)
	if err != nil {
		t.Fatal(err)
	}
	s2 := NewServiceWith(st2, ServiceOptions{Dir: scr})
	if l2 := s2.LastLoad(); l2.Built || l2.Path != l1.Path {
		t.Fatalf("restart: %+v, want the file mapped", l2)
	}
	if r2 := s2.Screen(Query{Name: handMadeOrListed(st)}); !reflect.DeepEqual(r1, r2) || len(r2.Matches) == 0 {
		t.Fatalf("restart answers %+v, first %+v", r2, r1)
	}
	// A new list version: a new file, the old one pruned.
	if _, err := st2.Import("testdata/ofac-v2"); err != nil {
		t.Fatal(err)
	}
	l3 := s2.LastLoad()
	if !l3.Built || l3.Path == l1.Path {
		t.Fatalf("after an import: %+v", l3)
	}
	if got := files(); len(got) != 1 || got[0] != l3.Path {
		t.Fatalf("files after an import: %v", got)
	}
	// The first service still answers from its mapping (its file is gone).
	if r := s1.Screen(Query{Name: handMadeOrListed(st)}); !reflect.DeepEqual(r, r1) {
		t.Errorf("service on the pruned file: %+v", r)
	}
	// Without a folder the index is in the heap.
	if l := NewService(st2, 0).LastLoad(); l.Path != "" || !l.Built {
		t.Errorf("heap service: %+v", l)
	}
}

// handMadeOrListed returns the first listed name of the store.
func handMadeOrListed(st *lists.Store) string {
	return st.Snapshot().Entities[0].Name
}
