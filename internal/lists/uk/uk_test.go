package uk_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists/uk"
)

var realDir = filepath.Join("..", "..", "..", "testdata", "sanctions", "uk-derived")

func TestRealCounts(t *testing.T) {
	ents, err := uk.ReadDir(realDir)
	if err != nil {
		t.Fatal(err)
	}
	subjects := map[entity.Kind]int{}
	names := map[entity.NameType]int{}
	weak := 0
	ids := map[string]bool{}
	for _, e := range ents {
		if ids[e.ID] {
			t.Errorf("duplicate id %s", e.ID)
		}
		ids[e.ID] = true
		for _, id := range e.Identifiers {
			if id.Label == "UK Sanctions List ID" {
				subjects[e.Kind]++
			}
		}
		if e.Names[0].Type != entity.Primary || e.Names[0].Full != e.Name {
			t.Errorf("%s: first name %+v", e.ID, e.Names[0])
		}
		for _, n := range e.Names {
			names[n.Type]++
			if n.Strength == entity.Weak {
				weak++
			}
		}
	}
	checks := []struct {
		name      string
		got, want int
	}{
		// 6,046 subjects; 11 OFSI groups hold two subjects each (one
		// person designated under two regimes) and are merged.
		{"entities", len(ents), 6046 - 11},
		{"individual subjects", subjects[entity.Person], 3883},
		{"entity subjects", subjects[entity.Organization], 1531},
		{"ship subjects", subjects[entity.Vessel], 632},
		{"primary names", names[entity.Primary], 6046 - 11},
		{"aliases", names[entity.AKA], 3814},
		{"weak aliases", weak, 605},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %d, want %d", c.got, c.want)
			}
		})
	}
}

func TestGood(t *testing.T) {
	ents, err := uk.ReadDir(filepath.Join("testdata", "good"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 3 {
		t.Fatalf("%d entities, want 3", len(ents))
	}
	t.Run("AFG0001 entity", func(t *testing.T) {
		e := ents[0]
		if e.ID != "uk:12703" || e.Kind != entity.Organization || e.Name != "HAJI KHAIRULLAH HAJI SATTAR MONEY EXCHANGE" {
			t.Errorf("%s %s %q", e.ID, e.Kind, e.Name)
		}
		if e.Listed != "2012-06-29" || !slices.Equal(e.Programs, []string{"AFG"}) {
			t.Errorf("listed %q programs %v", e.Listed, e.Programs)
		}
		if !slices.Contains(e.Identifiers, entity.Identifier{Type: entity.OtherID, Value: "TAe.010", Label: "UN Reference Number"}) {
			t.Errorf("identifiers %+v", e.Identifiers)
		}
		if len(e.Names) != 9 {
			t.Errorf("%d names, want 9", len(e.Names))
		}
	})
	t.Run("AFG0007 given and family", func(t *testing.T) {
		e := ents[1]
		p := e.Names[0]
		if e.ID != "uk:6909" || p.Full != "Abdul Kabir MOHAMMAD JAN" || p.Given != "Abdul Kabir" || p.Family != "MOHAMMAD JAN" {
			t.Errorf("%s %+v", e.ID, p)
		}
		if !slices.Contains(e.Names, entity.Name{Full: "ABDUL KABIR MUHAMMAD JAN", Type: entity.Variant, Strength: entity.Strong, Given: "ABDUL KABIR MUHAMMAD", Family: "JAN"}) {
			t.Errorf("names %+v", e.Names)
		}
	})
	t.Run("13923 merged", func(t *testing.T) {
		e := ents[2]
		if e.ID != "uk:13923" || !slices.Equal(e.Programs, []string{"BEL", "GHR"}) {
			t.Errorf("%s programs %v", e.ID, e.Programs)
		}
		if e.Name != "Yuri Khadzimuratovich Karaev" {
			t.Errorf("name %q", e.Name)
		}
		if !slices.ContainsFunc(e.Names, func(n entity.Name) bool { return n.Full == "Yuri Khadzimuratovich Karayev" && n.Type == entity.Variant }) {
			t.Errorf("second subject's primary not kept as variant: %+v", e.Names)
		}
	})
}

func readGood(t testing.TB) (string, string) {
	s, err := os.ReadFile(filepath.Join("testdata", "good", "subjects.csv"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := os.ReadFile(filepath.Join("testdata", "good", "subject_names.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return string(s), string(n)
}

func TestMalformed(t *testing.T) {
	subjects, names := readGood(t)
	tests := []struct {
		name            string
		subjects, names string
		want            string
	}{
		{"wrong header", strings.Replace(subjects, "ofsi_group_id", "group", 1), names, "subjects.csv line 1: header"},
		{"short row", strings.Replace(subjects, "AFG0007,individual,TAi.003,6909,25/01/2001,29/04/2026", "AFG0007,individual", 1), names, "subjects.csv line 3: 2 columns, want 6"},
		{"bad type", strings.Replace(subjects, "AFG0007,individual", "AFG0007,spaceship", 1), names, `unknown subject_type "spaceship"`},
		{"bad date", strings.Replace(subjects, "25/01/2001", "2001-01-25", 1), names, "subjects.csv line 3: AFG0007 date_designated"},
		{"orphan name", subjects, strings.Replace(names, ",AFG0007,", ",XXX0001,", 1), `unique_id "XXX0001" is not in subjects.csv`},
		{"bad name type", subjects, strings.Replace(names, ",AFG0001,alias,", ",AFG0001,nickname,", 1), `unknown name_type "nickname"`},
		{"truncated names", subjects, names[:len(names)/2] + "\"unterminated", "subject_names.csv"},
		{"empty subjects", "unique_id,subject_type,un_reference_number,ofsi_group_id,date_designated,last_updated\n", names, "no subjects"},
		{"empty file", "", names, "subjects.csv: empty file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := uk.Parse([]byte(tc.subjects), []byte(tc.names))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func FuzzUK(f *testing.F) {
	subjects, names := readGood(f)
	f.Add([]byte(subjects), []byte(names))
	f.Add([]byte("unique_id,subject_type,un_reference_number,ofsi_group_id,date_designated,last_updated\nX1,ship,,,,\n"),
		[]byte("name_id,unique_id,name_type,alias_strength,full_name,name_6,name_1,name_2,name_3,name_4,name_5\n1,X1,primary,,SHIP,,,,,,\n"))
	f.Fuzz(func(t *testing.T, subjects, names []byte) {
		ents, err := uk.Parse(subjects, names)
		if err != nil {
			return
		}
		if len(ents) == 0 {
			t.Fatal("accepted an empty list")
		}
		for _, e := range ents {
			if !strings.HasPrefix(e.ID, "uk:") || e.Name == "" || e.Names[0].Type != entity.Primary {
				t.Fatalf("malformed entity %+v", e)
			}
		}
	})
}
