package lists

import (
	"bytes"
	"encoding/json"
	"reflect"
	"runtime"
	"testing"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists/bundled"
)

// bundledSets are the sets of the lists built into the binary.
func bundledSets(t testing.TB) []*set {
	t.Helper()
	fsys, err := bundled.FS()
	if err != nil {
		t.Fatal(err)
	}
	sets, err := detectFS(fsys, ".", "bundled", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) < 3 {
		t.Fatalf("%d bundled sets", len(sets))
	}
	return sets
}

// TestCompactKeepsEntities: compacting a version's entities changes none
// of their values (nil and empty slices included) nor their JSON, so
// the digests, the diffs and the screening answers stay the same; every
// slice is cut to its length.
func TestCompactKeepsEntities(t *testing.T) {
	sets := bundledSets(t)
	for _, p := range []string{"ofac", "un", "uk-derived"} {
		found, err := detectPath("../../testdata/sanctions/" + p)
		if err != nil {
			t.Fatal(err)
		}
		sets = append(sets, found...)
	}
	for _, st := range sets {
		want, err := st.parseRaw()
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.parse()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || len(got) == 0 {
			t.Fatalf("%s: %d entities, want %d", st.origin, len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("%s: entity %d changed:\n got %+v\nwant %+v", st.origin, i, got[i], want[i])
			}
			gj, _ := json.Marshal(&got[i])
			wj, _ := json.Marshal(&want[i])
			if !bytes.Equal(gj, wj) {
				t.Fatalf("%s: entity %s JSON changed:\n got %s\nwant %s", st.origin, want[i].ID, gj, wj)
			}
			e := &got[i]
			for _, n := range []int{cap(e.Names) - len(e.Names), cap(e.Addresses) - len(e.Addresses), cap(e.Identifiers) - len(e.Identifiers),
				cap(e.Countries) - len(e.Countries), cap(e.Programs) - len(e.Programs), cap(e.Nationalities) - len(e.Nationalities)} {
				if n != 0 {
					t.Fatalf("%s: entity %s keeps spare capacity", st.origin, e.ID)
				}
			}
		}
	}
}

// TestCompactSeesEveryText: eachText visits every string of an entity
// but its id (found by reflection), so a field added to entity.Entity
// cannot be left pointing into the parser's buffers unnoticed.
func TestCompactSeesEveryText(t *testing.T) {
	e := entity.Entity{
		Names:       []entity.Name{{}},
		Addresses:   []entity.Address{{}},
		Identifiers: []entity.Identifier{{}},
		Countries:   []string{""}, BirthDates: []string{""}, BirthPlaces: []string{""}, Nationalities: []string{""}, Programs: []string{""},
		Vessel: &entity.VesselInfo{},
	}
	want := countStrings(reflect.ValueOf(e)) - 1 // the id
	got := 0
	eachText(&e, func(*string) { got++ })
	if got != want {
		t.Fatalf("eachText visits %d strings, the entity has %d besides its id", got, want)
	}
}

func countStrings(v reflect.Value) int {
	switch v.Kind() {
	case reflect.String:
		return 1
	case reflect.Struct:
		n := 0
		for i := 0; i < v.NumField(); i++ {
			n += countStrings(v.Field(i))
		}
		return n
	case reflect.Slice:
		n := 0
		for i := 0; i < v.Len(); i++ {
			n += countStrings(v.Index(i))
		}
		return n
	case reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		return countStrings(v.Elem())
	}
	return 0
}

// TestCompactHeap: the bundled lists' entities take at most 60% of the
// heap once compacted (the parsers' buffers are let go: 28.5 -> 15.5 MiB
// when written).
func TestCompactHeap(t *testing.T) {
	sets := bundledSets(t)
	live := func(parse func(*set) ([]entity.Entity, error)) (uint64, int) {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		var kept [][]entity.Entity
		n := 0
		for _, st := range sets {
			ents, err := parse(st)
			if err != nil {
				t.Fatal(err)
			}
			kept = append(kept, ents)
			n += len(ents)
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(kept)
		return after.HeapAlloc - before.HeapAlloc, n
	}
	raw, n := live((*set).parseRaw)
	packed, _ := live((*set).parse)
	t.Logf("%d entities: %.1f MiB as parsed, %.1f MiB compacted", n, float64(raw)/(1<<20), float64(packed)/(1<<20))
	if packed*10 > raw*6 {
		t.Fatalf("compacted entities take %d bytes, as parsed %d", packed, raw)
	}
}

// BenchmarkCompact: what compacting adds to parsing the bundled lists
// (part of every activation).
func BenchmarkCompact(b *testing.B) {
	sets := bundledSets(b)
	var parsed [][]entity.Entity
	for _, st := range sets {
		ents, err := st.parseRaw()
		if err != nil {
			b.Fatal(err)
		}
		parsed = append(parsed, ents)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, ents := range parsed {
			compact(ents)
		}
	}
}

// BenchmarkParseBundled: parsing the bundled lists, compaction included.
func BenchmarkParseBundled(b *testing.B) {
	sets := bundledSets(b)
	b.ReportAllocs()
	for range b.N {
		for _, st := range sets {
			if _, err := st.parse(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
