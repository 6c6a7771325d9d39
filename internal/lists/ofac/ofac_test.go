package ofac_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists/ofac"
)

// realDir is the real OFAC SDN CSV set (see testdata/sanctions/PROVENANCE.md).
var realDir = filepath.Join("..", "..", "..", "testdata", "sanctions", "ofac")

var (
	loadOnce sync.Once
	loaded   []entity.Entity
	loadErr  error
)

func realList(t testing.TB) []entity.Entity {
	t.Helper()
	loadOnce.Do(func() { loaded, loadErr = ofac.ReadDir(realDir) })
	if loadErr != nil {
		t.Fatalf("ReadDir(%s): %v", realDir, loadErr)
	}
	return loaded
}

func byID(t *testing.T, ents []entity.Entity, id string) entity.Entity {
	t.Helper()
	for _, e := range ents {
		if e.ID == id {
			return e
		}
	}
	t.Fatalf("entity %s not found", id)
	return entity.Entity{}
}

func TestRealCounts(t *testing.T) {
	ents := realList(t)
	kinds := map[entity.Kind]int{}
	programs := map[string]int{}
	alts, strongAlts, weak, addrs := 0, 0, 0, 0
	ids := map[string]bool{}
	for _, e := range ents {
		if ids[e.ID] {
			t.Errorf("duplicate id %s", e.ID)
		}
		ids[e.ID] = true
		kinds[e.Kind]++
		for _, p := range e.Programs {
			programs[p]++
		}
		if e.Names[0].Type != entity.Primary || e.Name == "" {
			t.Errorf("%s: first name %+v is not the primary", e.ID, e.Names[0])
		}
		for _, n := range e.Names[1:] {
			alts++
			if n.Strength == entity.Strong {
				strongAlts++
			} else {
				weak++
			}
		}
		addrs += len(e.Addresses)
		if e.Source != "ofac-sdn" || e.List != "OFAC SDN" || !strings.HasPrefix(e.ID, "ofac-sdn:") {
			t.Errorf("%s: source %q list %q", e.ID, e.Source, e.List)
		}
	}
	checks := []struct {
		name      string
		got, want int
	}{
		{"entries", len(ents), 13821},
		{"individuals", kinds[entity.Person], 6646},
		{"organisations", kinds[entity.Organization], 6033},
		{"vessels", kinds[entity.Vessel], 764},
		{"aircraft", kinds[entity.Aircraft], 378},
		{"alt.csv rows (strong aliases)", strongAlts, 17091},
		{"SDGT", programs["SDGT"], 2213},
		{"FTO", programs["FTO"], 70},
		{"distinct programs", len(programs), 75},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %d, want %d", c.got, c.want)
			}
		})
	}
	// Distinct a.k.a./f.k.a./n.k.a. remark parts per entry, counted with
	// a separate script over sdn.csv + sdn_comments.csv.
	if weak != 3391 {
		t.Errorf("weak aliases = %d, want 3391", weak)
	}
	if addrs < 13000 {
		t.Errorf("addresses = %d, want at least 13000 non-empty", addrs)
	}
}

func TestRealRecords(t *testing.T) {
	ents := realList(t)

	t.Run("4695 HAMAS", func(t *testing.T) {
		e := byID(t, ents, "ofac-sdn:4695")
		if e.Name != "HAMAS" || e.Kind != entity.Organization {
			t.Errorf("name %q kind %q", e.Name, e.Kind)
		}
		if !slices.Equal(e.Programs, []string{"FTO", "SDGT"}) {
			t.Errorf("programs %v", e.Programs)
		}
		if !hasName(e, "ISLAMIC RESISTANCE MOVEMENT", entity.AKA, entity.Strong) {
			t.Errorf("missing strong aka ISLAMIC RESISTANCE MOVEMENT: %+v", e.Names)
		}
		if len(e.Names) != 12 {
			t.Errorf("%d names, want 12", len(e.Names))
		}
	})
	t.Run("6366 AL QA'IDA", func(t *testing.T) {
		e := byID(t, ents, "ofac-sdn:6366")
		if e.Name != "AL QA'IDA" || e.Kind != entity.Organization {
			t.Errorf("name %q kind %q", e.Name, e.Kind)
		}
		if !slices.Equal(e.Programs, []string{"FTO", "SDGT"}) {
			t.Errorf("programs %v", e.Programs)
		}
		for _, n := range []string{"AL QAEDA", "THE BASE", "ISLAMIC ARMY", "USAMA BIN LADEN NETWORK"} {
			if !hasName(e, n, entity.AKA, entity.Strong) {
				t.Errorf("missing aka %q", n)
			}
		}
		if len(e.Names) != 18 {
			t.Errorf("%d names, want 18", len(e.Names))
		}
		if len(e.Addresses) != 0 {
			t.Errorf("addresses %+v, want none (add.csv row is all -0-)", e.Addresses)
		}
	})
	t.Run("306 weak aka from remarks", func(t *testing.T) {
		e := byID(t, ents, "ofac-sdn:306")
		if !hasName(e, "BNC", entity.AKA, entity.Weak) {
			t.Errorf("missing weak aka BNC: %+v", e.Names)
		}
		if !hasName(e, "NATIONAL BANK OF CUBA", entity.AKA, entity.Strong) {
			t.Errorf("missing strong aka NATIONAL BANK OF CUBA")
		}
		if len(e.Addresses) != 4 || e.Addresses[0].CountryCode != "CH" || e.Addresses[0].City != "Zurich CH-8022" {
			t.Errorf("addresses %+v", e.Addresses)
		}
		if !slices.Equal(e.Countries, []string{"CH", "ES", "JP", "PA"}) {
			t.Errorf("countries %v", e.Countries)
		}
	})
	t.Run("2676 individual", func(t *testing.T) {
		e := byID(t, ents, "ofac-sdn:2676")
		p := e.Names[0]
		if e.Kind != entity.Person || p.Full != "Dr. Ayman AL ZAWAHIRI" || p.Given != "Dr. Ayman" || p.Family != "AL ZAWAHIRI" {
			t.Errorf("primary %+v kind %q", p, e.Kind)
		}
		if e.Name != "AL ZAWAHIRI, Dr. Ayman" {
			t.Errorf("Name %q, want as listed", e.Name)
		}
		if !slices.Equal(e.BirthDates, []string{"1951-06-19"}) || !slices.Equal(e.BirthPlaces, []string{"Giza, Egypt"}) {
			t.Errorf("dob %v pob %v", e.BirthDates, e.BirthPlaces)
		}
		if e.Title != "Operational and Military Leader of JIHAD GROUP" {
			t.Errorf("title %q", e.Title)
		}
		want := []entity.Identifier{
			{Type: entity.Passport, Value: "1084010", Label: "Passport", Country: "EG"},
			{Type: entity.Passport, Value: "19820215", Label: "Passport"},
		}
		if !slices.Equal(e.Identifiers, want) {
			t.Errorf("identifiers %+v", e.Identifiers)
		}
	})
	t.Run("906 website and SWIFT", func(t *testing.T) {
		e := byID(t, ents, "ofac-sdn:906")
		for _, id := range []entity.Identifier{
			{Type: entity.SWIFT, Value: "HAVIGB2L", Label: "SWIFT/BIC"},
			{Type: entity.Website, Value: "www.havanaintbank.co.uk", Label: "Website"},
			{Type: entity.Website, Value: "www.hib.uk.com", Label: "Website"},
			{Type: entity.Registration, Value: "01074897", Label: "Company Number", Country: "GB"},
		} {
			if !slices.Contains(e.Identifiers, id) {
				t.Errorf("missing %+v in %+v", id, e.Identifiers)
			}
		}
	})
	t.Run("10933 email with trailing period", func(t *testing.T) {
		e := byID(t, ents, "ofac-sdn:10933")
		id := entity.Identifier{Type: entity.Email, Value: "dam.d.free@net.sy", Label: "Email Address"}
		if !slices.Contains(e.Identifiers, id) {
			t.Errorf("missing %+v in %+v", id, e.Identifiers)
		}
	})
	t.Run("25308 digital currency", func(t *testing.T) {
		e := byID(t, ents, "ofac-sdn:25308")
		for _, id := range []entity.Identifier{
			{Type: entity.DigitalCurrency, Value: "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h", Label: "Digital Currency Address - XBT"},
			{Type: entity.DigitalCurrency, Value: "1Kuf2Rd8mDyAViwBozGTNYnvWL8uYFrkVo", Label: "Digital Currency Address - XBT"},
		} {
			if !slices.Contains(e.Identifiers, id) {
				t.Errorf("missing %+v", id)
			}
		}
		if e.Gender != "Male" || !slices.Equal(e.Nationalities, []string{"CN"}) {
			t.Errorf("gender %q nationalities %v", e.Gender, e.Nationalities)
		}
		if e.Names[0].Full != "Xiaobing YAN" {
			t.Errorf("primary %q", e.Names[0].Full)
		}
	})
	t.Run("4243 vessel", func(t *testing.T) {
		e := byID(t, ents, "ofac-sdn:4243")
		if e.Kind != entity.Vessel || e.Vessel == nil {
			t.Fatalf("kind %q vessel %v", e.Kind, e.Vessel)
		}
		want := entity.VesselInfo{Type: "General Cargo", Tonnage: "2595", GRT: "1865", Flag: "Panama"}
		if *e.Vessel != want {
			t.Errorf("vessel %+v", *e.Vessel)
		}
		if !slices.Contains(e.Identifiers, entity.Identifier{Type: entity.IMO, Value: "7406784", Label: "Vessel Registration Identification IMO"}) {
			t.Errorf("identifiers %+v", e.Identifiers)
		}
		if !hasName(e, "ANA I", entity.FKA, entity.Weak) || !hasName(e, "SAND SWAN", entity.FKA, entity.Weak) {
			t.Errorf("names %+v", e.Names)
		}
		if !slices.Equal(e.Countries, []string{"PA"}) {
			t.Errorf("countries %v", e.Countries)
		}
	})
	t.Run("15431 aircraft", func(t *testing.T) {
		e := byID(t, ents, "ofac-sdn:15431")
		if e.Kind != entity.Aircraft {
			t.Errorf("kind %q", e.Kind)
		}
		if !slices.Contains(e.Identifiers, entity.Identifier{Type: entity.AircraftSerial, Value: "1023409321", Label: "Aircraft Manufacturer's Serial Number (MSN)"}) {
			t.Errorf("identifiers %+v", e.Identifiers)
		}
	})
	t.Run("27307 remarks continued in sdn_comments.csv", func(t *testing.T) {
		e := byID(t, ents, "ofac-sdn:27307")
		if !strings.Contains(e.Remarks, "a.k.a. 'WHOIS HACKING TEAM'") {
			t.Errorf("remarks not joined: ...%s", e.Remarks[max(0, len(e.Remarks)-200):])
		}
		for _, n := range []string{"WHOIS HACKING TEAM", "APPLEWORM", "HIDDEN COBRA"} {
			if !hasName(e, n, entity.AKA, entity.Weak) {
				t.Errorf("missing weak aka %q", n)
			}
		}
	})
}

func TestWebsiteWithTrailingSentence(t *testing.T) {
	data := "9,\"RIHS\",-0- ,\"SDGT\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"Website www.alturath.org. Revival of Islamic Heritage Society Offices Worldwide; Email Address info@x.example.; Digital Currency Address - XBT 1abc.\"\r\n"
	ents, err := ofac.Parse(ofac.Files{Main: []byte(data)})
	if err != nil {
		t.Fatal(err)
	}
	want := []entity.Identifier{
		{Type: entity.Website, Value: "www.alturath.org", Label: "Website", Remark: "Revival of Islamic Heritage Society Offices Worldwide"},
		{Type: entity.Email, Value: "info@x.example", Label: "Email Address"},
		{Type: entity.DigitalCurrency, Value: "1abc", Label: "Digital Currency Address - XBT"},
	}
	if !slices.Equal(ents[0].Identifiers, want) {
		t.Errorf("identifiers %+v", ents[0].Identifiers)
	}
}

func TestRealIdentifierCounts(t *testing.T) {
	ents := realList(t)
	counts := map[entity.IDType]int{}
	for _, e := range ents {
		for _, id := range e.Identifiers {
			counts[id.Type]++
			if id.Value == "" {
				t.Errorf("%s: empty identifier %+v", e.ID, id)
			}
			if (id.Type == entity.Website || id.Type == entity.Email || id.Type == entity.DigitalCurrency) && strings.ContainsAny(id.Value, " ;") {
				t.Errorf("%s: %s %q holds a space", e.ID, id.Type, id.Value)
			}
		}
	}
	// Lower bounds from grepping sdn.csv remarks.
	for typ, min := range map[entity.IDType]int{
		entity.Website:         500,
		entity.Email:           200,
		entity.DigitalCurrency: 300,
		entity.IMO:             760,
		entity.MMSI:            90,
		entity.SWIFT:           140,
		entity.Passport:        1500,
		entity.AircraftSerial:  400,
	} {
		if counts[typ] < min {
			t.Errorf("%s: %d identifiers, want at least %d", typ, counts[typ], min)
		}
	}
}

func hasName(e entity.Entity, full string, typ entity.NameType, st entity.Strength) bool {
	for _, n := range e.Names {
		if n.Full == full && n.Type == typ && n.Strength == st {
			return true
		}
	}
	return false
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"short_row.csv", "sdn.csv line 2: 4 columns, want 12"},
		{"bad_entnum.csv", `sdn.csv line 2: ent_num "X7"`},
		{"bad_quote.csv", "sdn.csv"},
		{"bad_type.csv", `sdn.csv line 1: ent_num 1 has unknown SDN_Type "spaceship"`},
		{"empty.csv", "sdn.csv: no entries"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = ofac.Parse(ofac.Files{Main: data})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestMissingSDN(t *testing.T) {
	if _, err := ofac.ReadDir(t.TempDir()); err == nil {
		t.Fatal("ReadDir of an empty folder succeeded")
	}
}

func TestUpperCaseNames(t *testing.T) {
	dir := t.TempDir()
	data := "7,\"ACME\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"Website acme.example; a.k.a. 'ACME CO'.\"\r\n\x1a"
	if err := os.WriteFile(filepath.Join(dir, "SDN.CSV"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	ents, err := ofac.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].ID != "ofac-sdn:7" || !hasName(ents[0], "ACME CO", entity.AKA, entity.Weak) {
		t.Fatalf("got %+v", ents)
	}
	if ents[0].Identifiers[0] != (entity.Identifier{Type: entity.Website, Value: "acme.example", Label: "Website"}) {
		t.Errorf("identifiers %+v", ents[0].Identifiers)
	}
}

func BenchmarkReadDir(b *testing.B) {
	for b.Loop() {
		if _, err := ofac.ReadDir(realDir); err != nil {
			b.Fatal(err)
		}
	}
}
