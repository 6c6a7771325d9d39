package ofac_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists/ofac"
)

// consDir is OFAC's Consolidated (non-SDN) CSV set of 2018, byte-identical
// to the published files (testdata/sanctions/ofac-consolidated/PROVENANCE.md).
var consDir = filepath.Join("..", "..", "..", "testdata", "sanctions", "ofac-consolidated")

func consList(t testing.TB) []entity.Entity {
	t.Helper()
	ents, err := ofac.Consolidated.ReadDir(consDir)
	if err != nil {
		t.Fatalf("Consolidated.ReadDir(%s): %v", consDir, err)
	}
	return ents
}

func TestConsolidatedCounts(t *testing.T) {
	ents := consList(t)
	kinds := map[entity.Kind]int{}
	programs := map[string]int{}
	nameTypes := map[entity.NameType]int{}
	addrs := 0
	for _, e := range ents {
		kinds[e.Kind]++
		for _, p := range e.Programs {
			programs[p]++
		}
		for _, n := range e.Names[1:] {
			if n.Strength == entity.Strong {
				nameTypes[n.Type]++
			}
		}
		addrs += len(e.Addresses)
		if e.Source != "ofac-cons" || e.List != "OFAC Consolidated (non-SDN)" || !strings.HasPrefix(e.ID, "ofac-cons:") {
			t.Errorf("%s: source %q list %q", e.ID, e.Source, e.List)
		}
		if e.Names[0].Type != entity.Primary || e.Name == "" {
			t.Errorf("%s: first name %+v is not the primary", e.ID, e.Names[0])
		}
	}
	// Counted with cut/grep over the files: 639 rows in cons_prim.csv
	// (74 "vessel", 94 "individual", the rest -0-), 1,209 in cons_alt.csv
	// (1,024 aka, 185 fka), 857 in cons_add.csv of which 711 are not all -0-.
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"entries", len(ents), 639},
		{"organisations", kinds[entity.Organization], 471},
		{"individuals", kinds[entity.Person], 94},
		{"vessels", kinds[entity.Vessel], 74},
		{"aka (cons_alt.csv)", nameTypes[entity.AKA], 1024},
		{"fka (cons_alt.csv)", nameTypes[entity.FKA], 185},
		{"addresses", addrs, 711},
		{"UKRAINE-EO13662 (SSI)", programs["UKRAINE-EO13662"], 290},
		{"NS-PLC", programs["NS-PLC"], 78},
		{"IRAN", programs["IRAN"], 264},
		{"561List", programs["561List"], 1},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
		}
	}
}

func TestConsolidatedRecords(t *testing.T) {
	ents := consList(t)
	tests := []struct {
		id, name  string
		kind      entity.Kind
		programs  []string
		strong    []string // strong alternate names from cons_alt.csv
		nameType  entity.NameType
		countries []string
		addresses int
		street    string // of the first address
	}{
		{"ofac-cons:4632", "BANK MARKAZI JOMHOURI ISLAMI IRAN", entity.Organization, []string{"IRAN"},
			[]string{"CENTRAL BANK OF THE ISLAMIC REPUBLIC OF IRAN", "BANK MARKAZI IRAN", "CENTRAL BANK OF IRAN"}, entity.AKA,
			[]string{"IR"}, 2, "PO Box 15875/7177, 144 Mirdamad Blvd"},
		{"ofac-cons:15268", "BANK OF KUNLUN CO LTD", entity.Organization, []string{"561List"},
			[]string{"KARAMAY URBAN CREDIT COOPERATIVES", "KARAMAY CITY COMMERCIAL BANK CO LTD."}, entity.FKA,
			[]string{"CN"}, 4, "172 Xibin Rd, Ranghulu District, (Daqing, Heilongjiang Branch)"},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			e := byID(t, ents, tc.id)
			if e.Name != tc.name || e.Kind != tc.kind || !slices.Equal(e.Programs, tc.programs) {
				t.Errorf("name %q kind %q programs %v", e.Name, e.Kind, e.Programs)
			}
			for _, n := range tc.strong {
				if !hasName(e, n, tc.nameType, entity.Strong) {
					t.Errorf("missing %s %q in %+v", tc.nameType, n, e.Names)
				}
			}
			if len(e.Names) != 1+len(tc.strong) {
				t.Errorf("%d names, want %d", len(e.Names), 1+len(tc.strong))
			}
			if !slices.Equal(e.Countries, tc.countries) || len(e.Addresses) != tc.addresses || e.Addresses[0].Street != tc.street {
				t.Errorf("countries %v addresses %+v", e.Countries, e.Addresses)
			}
		})
	}
	t.Run("ofac-cons:17018 remarks", func(t *testing.T) {
		e := byID(t, ents, "ofac-cons:17018")
		for _, id := range []entity.Identifier{
			{Type: entity.SWIFT, Value: "SABRRUMM", Label: "SWIFT/BIC"},
			{Type: entity.Website, Value: "www.sberbank.ru", Label: "Website"},
			{Type: entity.Email, Value: "sbrf@sbrf.ru", Label: "Email Address"},
		} {
			if !slices.Contains(e.Identifiers, id) {
				t.Errorf("missing %+v in %+v", id, e.Identifiers)
			}
		}
	})
	t.Run("ofac-cons:15036 vessel", func(t *testing.T) {
		e := byID(t, ents, "ofac-cons:15036")
		want := entity.VesselInfo{CallSign: "T2EU4", Type: "Crude/Oil Products Tanker", Tonnage: "99,144", GRT: "56,068", Flag: "Tanzania"}
		if e.Kind != entity.Vessel || e.Vessel == nil || *e.Vessel != want {
			t.Fatalf("kind %q vessel %+v", e.Kind, e.Vessel)
		}
	})
}

// TestSetsShareEntityNumbers: OFAC numbers entries across both lists, and
// an entry can be on both (ent 4632 is on the 2023 SDN list and the 2018
// consolidated list); the ids stay distinct by their prefix.
func TestSetsShareEntityNumbers(t *testing.T) {
	sdn := byID(t, realList(t), "ofac-sdn:4632")
	cons := byID(t, consList(t), "ofac-cons:4632")
	if sdn.Name != cons.Name || sdn.ID == cons.ID || sdn.Source == cons.Source || sdn.List == cons.List {
		t.Errorf("sdn %s %q %s, cons %s %q %s", sdn.ID, sdn.Name, sdn.List, cons.ID, cons.Name, cons.List)
	}
}

// TestConsolidatedFiles: the consolidated set's errors name its own files
// and lines; an empty cons_comments.csv (as OFAC published it) is no
// rows; the official upper-case names are read; an SDN set is not one.
func TestConsolidatedFiles(t *testing.T) {
	prim := readFile(t, filepath.Join(consDir, "cons_prim.csv"))
	row := "9,\"ACME\",-0- ,\"CMIC-EO13959\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n"
	tests := []struct {
		name  string
		files ofac.Files
		want  string
	}{
		{"short row in cons_prim.csv", ofac.Files{Main: []byte(row + "10,\"B\",-0- ,\"X\"\r\n")}, "cons_prim.csv line 2: 4 columns, want 12"},
		{"bad ent_num in cons_alt.csv", ofac.Files{Main: []byte(row), Alt: []byte("9,1,\"aka\",\"A\",-0- \r\nX9,2,\"aka\",\"B\",-0- \r\n")}, `cons_alt.csv line 2: ent_num "X9"`},
		{"unknown alt_type in cons_alt.csv", ofac.Files{Main: []byte(row), Alt: []byte("9,1,\"bka\",\"A\",-0- \r\n")}, `cons_alt.csv line 1: unknown alt_type "bka"`},
		{"short row in cons_add.csv", ofac.Files{Main: []byte(row), Add: []byte("9,1,\"x\"\r\n")}, "cons_add.csv line 1: 3 columns, want 6"},
		{"bad row in cons_comments.csv", ofac.Files{Main: []byte(row), Comments: []byte("9\r\n")}, "cons_comments.csv line 1: 1 columns, want 2"},
		{"duplicate ent_num", ofac.Files{Main: []byte(row + row)}, "cons_prim.csv line 2: duplicate ent_num 9"},
		{"only the end-of-file byte", ofac.Files{Main: []byte("\x1a")}, "cons_prim.csv: no entries"},
		{"cut mid-quote", ofac.Files{Main: prim[:len(prim)/2]}, "parsing cons_prim.csv"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ofac.Consolidated.Parse(tc.files)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	ents, err := ofac.Consolidated.Parse(ofac.Files{Main: []byte(row), Comments: []byte{}})
	if err != nil || len(ents) != 1 || ents[0].ID != "ofac-cons:9" {
		t.Fatalf("empty cons_comments.csv: %+v %v", ents, err)
	}

	dir := t.TempDir()
	for _, n := range []string{"cons_prim.csv", "cons_alt.csv", "cons_add.csv", "cons_comments.csv"} {
		if err := os.WriteFile(filepath.Join(dir, strings.ToUpper(n)), readFile(t, filepath.Join(consDir, n)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if names := ofac.Consolidated.FileNames(os.DirFS(dir)); !slices.Equal(names, []string{"CONS_PRIM.CSV", "CONS_ALT.CSV", "CONS_ADD.CSV", "CONS_COMMENTS.CSV"}) {
		t.Errorf("FileNames %v", names)
	}
	if ents, err := ofac.Consolidated.ReadDir(dir); err != nil || len(ents) != 639 {
		t.Errorf("upper-case names: %d entities, %v", len(ents), err)
	}
	if _, err := ofac.Consolidated.ReadDir(realDir); err == nil || !strings.Contains(err.Error(), "cons_prim.csv") {
		t.Errorf("an SDN folder read as consolidated: %v", err)
	}
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func BenchmarkReadDirConsolidated(b *testing.B) {
	for b.Loop() {
		if _, err := ofac.Consolidated.ReadDir(consDir); err != nil {
			b.Fatal(err)
		}
	}
}
