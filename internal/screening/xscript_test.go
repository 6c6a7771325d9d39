package screening

import (
	"strings"
	"sync"
	"testing"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists"
)

var (
	bundledOnce sync.Once
	bundledEnts []entity.Entity
	bundledErr  error
)

// bundled returns the entities of every bundled list (OFAC SDN, UN, UK).
func bundled(t testing.TB) []entity.Entity {
	t.Helper()
	bundledOnce.Do(func() {
		store, err := lists.Open("", nil)
		if err != nil {
			bundledErr = err
			return
		}
		bundledEnts = store.Snapshot().Entities
	})
	if bundledErr != nil {
		t.Fatal(bundledErr)
	}
	return bundledEnts
}

var (
	bundledIxOnce            sync.Once
	bundledIx, bundledIxNoOS *Index
)

func bundledIndexes(t testing.TB) (*Index, *Index) {
	ents := bundled(t)
	bundledIxOnce.Do(func() {
		bundledIx = NewIndex(ents)
		bundledIxNoOS = NewIndexWith(ents, IndexOptions{NoOriginalScript: true})
	})
	return bundledIx, bundledIxNoOS
}

// firstIs reports whether the first match at or above DefaultThreshold has
// the listed primary name want (the same group is on several lists).
func firstIs(ms []Match, want string) bool {
	return len(ms) > 0 && ms[0].Score >= DefaultThreshold && strings.EqualFold(ms[0].Name, want)
}

// TestCrossScript: names of listed groups in Arabic script, Hebrew,
// Cyrillic and Greek, and Latin names with look-alike letters of other
// scripts, find the group first at or above the operating threshold, with
// the lists' own original-script names left out of the index.
func TestCrossScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the index of every bundled list")
	}
	_, ix := bundledIndexes(t)
	tests := []struct {
		script, query, want string
	}{
		// Arabic script.
		{"Arab", "حزب الله", "HIZBALLAH"},
		{"Arab", "طالبان", "TALIBAN"},
		{"Arab", "داعش", "ISLAMIC STATE OF IRAQ AND THE LEVANT"},
		{"Arab", "الشباب", "AL-SHABAAB"},
		{"Arab", "حماس", "HAMAS"},
		{"Arab", "القاعدة", "AL QA'IDA"},
		// Hebrew.
		{"Hebr", "חמאס", "HAMAS"},
		{"Hebr", "חזבאללה", "HIZBALLAH"},
		{"Hebr", "טאליבן", "TALIBAN"},
		// Cyrillic.
		{"Cyrl", "Аль-Каида", "AL QA'IDA"},
		{"Cyrl", "Талибан", "TALIBAN"},
		{"Cyrl", "Хезболла", "HIZBALLAH"},
		{"Cyrl", "Хамас", "HAMAS"},
		{"Cyrl", "Аль-Шабаб", "AL-SHABAAB"},
		// Greek.
		{"Grek", "Χαμάς", "HAMAS"},
		{"Grek", "Ταλιμπάν", "TALIBAN"},
		// Look-alike letters mixed into Latin names.
		{"mixed", "Ηezbollah", "HIZBALLAH"},         // Greek capital Eta
		{"mixed", "Hеzbollah", "HIZBALLAH"},         // Cyrillic e
		{"mixed", "ΗΑМАЅ", "HAMAS"},                 // Greek and Cyrillic
		{"mixed", "Ꭲaliban", "TALIBAN"},             // Cherokee
		{"mixed", "ꓔaliban", "TALIBAN"},             // Lisu
		{"mixed", "𝐇𝐚𝐦𝐚𝐬", "HAMAS"},                 // mathematical bold
		{"mixed", "Ｈａｍａｓ", "HAMAS"},                 // fullwidth
		{"mixed", "Аl-Qаidа", "AL QA'IDA"},          // Cyrillic A and a
		{"mixed", "Ηizbаllаh Lеbаnоn", "HIZBALLAH"}, // most vowels Cyrillic
	}
	for _, tt := range tests {
		ms := ix.Search(Query{Name: tt.query, Kind: entity.Organization}, DefaultThreshold)
		if !firstIs(ms, tt.want) {
			var got []string
			for _, m := range ms {
				got = append(got, m.Name+" "+m.Explanation)
			}
			t.Errorf("%s %q: want %s first at >= %.2f, got %q", tt.script, tt.query, tt.want, DefaultThreshold, got)
		}
	}
}
