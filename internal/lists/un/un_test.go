package un_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists/un"
)

var realFile = filepath.Join("..", "..", "..", "testdata", "sanctions", "un", "consolidated.xml")

var (
	loadOnce sync.Once
	loaded   []entity.Entity
	loadErr  error
)

func realList(t testing.TB) []entity.Entity {
	t.Helper()
	loadOnce.Do(func() { loaded, loadErr = un.ReadFile(realFile) })
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return loaded
}

func byID(t *testing.T, id string) entity.Entity {
	t.Helper()
	for _, e := range realList(t) {
		if e.ID == id {
			return e
		}
	}
	t.Fatalf("%s not found", id)
	return entity.Entity{}
}

func TestRealCounts(t *testing.T) {
	ents := realList(t)
	kinds := map[entity.Kind]int{}
	programs := map[string]int{}
	names := map[string]int{}
	docs := 0
	for _, e := range ents {
		kinds[e.Kind]++
		for _, p := range e.Programs {
			programs[p]++
		}
		for _, n := range e.Names[1:] {
			names[string(n.Type)+"/"+string(n.Strength)]++
		}
		docs += len(e.Identifiers)
		if e.Source != "un" || e.List != "UN Security Council" || !strings.HasPrefix(e.ID, "un:") {
			t.Errorf("%s: source %q list %q", e.ID, e.Source, e.List)
		}
	}
	checks := []struct {
		name      string
		got, want int
	}{
		{"entries", len(ents), 1003},
		{"individuals", kinds[entity.Person], 730},
		{"entities", kinds[entity.Organization], 273},
		{"Al-Qaida", programs["Al-Qaida"], 341},
		{"DPRK", programs["DPRK"], 155},
		{"Taliban", programs["Taliban"], 140},
		{"SouthSudan", programs["SouthSudan"], 8},
		// Individual aliases: 1,524 Good + 594 entity a.k.a.
		{"strong aka", names["aka/strong"], 1524 + 594},
		{"weak aka (Low)", names["aka/weak"], 615},
		{"fka", names["fka/strong"], 19},
		{"native", names["native/strong"], 378},
		{"documents", docs, 454},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %d, want %d", c.got, c.want)
			}
		})
	}
}

func TestRealRecords(t *testing.T) {
	t.Run("IQi.001 original script", func(t *testing.T) {
		e := byID(t, "un:IQi.001")
		if e.Name != "SADDAM HUSSEIN AL-TIKRITI" || e.Kind != entity.Person {
			t.Errorf("name %q kind %q", e.Name, e.Kind)
		}
		want := entity.Name{Full: "صدام حسين التكريتي", Type: entity.Native, Strength: entity.Strong, Script: "Arab"}
		if !slices.Contains(e.Names, want) {
			t.Errorf("names %+v", e.Names)
		}
		if !slices.Contains(e.Names, entity.Name{Full: "Abu Ali", Type: entity.AKA, Strength: entity.Weak}) {
			t.Errorf("missing weak alias Abu Ali")
		}
		if !slices.Equal(e.BirthDates, []string{"1937-04-28"}) || !slices.Equal(e.Nationalities, []string{"IQ"}) {
			t.Errorf("dob %v nationalities %v", e.BirthDates, e.Nationalities)
		}
		if e.Listed != "2003-06-27" || !slices.Equal(e.Programs, []string{"Iraq"}) {
			t.Errorf("listed %q programs %v", e.Listed, e.Programs)
		}
	})
	t.Run("QDi.001 four name parts, two DOBs", func(t *testing.T) {
		e := byID(t, "un:QDi.001")
		if e.Name != "MOHAMMED SALAHALDIN ABD EL HALIM ZIDANE" {
			t.Errorf("name %q", e.Name)
		}
		if !slices.Equal(e.BirthDates, []string{"1963-04-11", "1960-04-11"}) {
			t.Errorf("dob %v", e.BirthDates)
		}
		if e.Names[2].Full != "Sayf-Al Adl" || e.Names[2].Strength != entity.Strong || !strings.Contains(e.Names[2].Remark, "Monufia") {
			t.Errorf("alias %+v", e.Names[2])
		}
		if !strings.Contains(e.Remarks, "Usama bin Laden’s") {
			t.Errorf("remarks %q", e.Remarks)
		}
	})
	t.Run("CDi.003 weak alias, POB, address", func(t *testing.T) {
		e := byID(t, "un:CDi.003")
		if !slices.Contains(e.Names, entity.Name{Full: "Rumuli", Type: entity.AKA, Strength: entity.Weak}) {
			t.Errorf("names %+v", e.Names)
		}
		if e.BirthPlaces[0] != "Musanze District, Northern Province, Rwanda" {
			t.Errorf("pob %v", e.BirthPlaces)
		}
		want := entity.Address{Region: "North Kivu Province", Country: "Democratic Republic of the Congo", CountryCode: "CD", Remark: "as of June 2016"}
		if len(e.Addresses) != 1 || e.Addresses[0] != want {
			t.Errorf("addresses %+v", e.Addresses)
		}
		if !slices.Equal(e.Countries, []string{"RW", "CD"}) {
			t.Errorf("countries %v", e.Countries)
		}
		if !strings.Contains(e.Remarks, "Designation: FDLR Interim President") {
			t.Errorf("remarks %q", e.Remarks)
		}
	})
	t.Run("CDi.021 passport document", func(t *testing.T) {
		e := byID(t, "un:CDi.021")
		want := entity.Identifier{Type: entity.Passport, Value: "OB 0243318", Label: "Passport", Country: "CD"}
		if len(e.Identifiers) != 1 || e.Identifiers[0] != want {
			t.Errorf("identifiers %+v", e.Identifiers)
		}
	})
	t.Run("CDe.001 entity aliases", func(t *testing.T) {
		e := byID(t, "un:CDe.001")
		if e.Kind != entity.Organization || e.Name != "ADF" {
			t.Errorf("kind %q name %q", e.Kind, e.Name)
		}
		if !slices.Contains(e.Names, entity.Name{Full: "Allied Democratic Forces", Type: entity.AKA, Strength: entity.Strong}) ||
			!slices.Contains(e.Names, entity.Name{Full: "NALU", Type: entity.FKA, Strength: entity.Strong}) {
			t.Errorf("names %+v", e.Names)
		}
	})
}

func TestOneIndividual(t *testing.T) {
	ents, err := un.ReadFile(filepath.Join("testdata", "one_individual.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].ID != "un:CDi.001" || ents[0].Name != "ERIC BADEGE" || ents[0].Gender != "Male" {
		t.Fatalf("got %+v", ents)
	}
	if !slices.Equal(ents[0].BirthDates, []string{"1971"}) || !slices.Equal(ents[0].Nationalities, []string{"CD"}) {
		t.Errorf("dob %v nat %v", ents[0].BirthDates, ents[0].Nationalities)
	}
	if len(ents[0].Names) != 1 {
		t.Errorf("empty alias kept: %+v", ents[0].Names)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct{ file, want string }{
		{"truncated.xml", "consolidated.xml line"},
		{"bad_syntax.xml", "consolidated.xml line 12"},
		{"no_reference.xml", "has no REFERENCE_NUMBER"},
		{"empty_list.xml", "no entries"},
		{"wrong_root.xml", "root element is sdnList"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = un.Parse(data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestIsConsolidated(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "one_individual.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if !un.IsConsolidated(good) {
		t.Error("one_individual.xml not recognised")
	}
	for _, bad := range []string{"<sdnList/>", "not xml", ""} {
		if un.IsConsolidated([]byte(bad)) {
			t.Errorf("%q recognised", bad)
		}
	}
}

func FuzzUN(f *testing.F) {
	for _, name := range []string{"one_individual.xml", "truncated.xml", "bad_syntax.xml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`<CONSOLIDATED_LIST><ENTITIES><ENTITY><FIRST_NAME>X</FIRST_NAME><REFERENCE_NUMBER>Ze.1</REFERENCE_NUMBER><ENTITY_ALIAS><QUALITY>f.k.a.</QUALITY><ALIAS_NAME>Y</ALIAS_NAME></ENTITY_ALIAS></ENTITY></ENTITIES></CONSOLIDATED_LIST>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ents, err := un.Parse(data)
		if err != nil {
			return
		}
		if len(ents) == 0 {
			t.Fatal("accepted an empty list")
		}
		for _, e := range ents {
			if !strings.HasPrefix(e.ID, "un:") || len(e.ID) == 3 || e.Name == "" || e.Names[0].Full != e.Name {
				t.Fatalf("malformed entity %+v", e)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(realFile)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := un.Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
