package screening

import (
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/lists/ofac"
)

func fixture(t testing.TB, dir string) []entity.Entity {
	t.Helper()
	ents, err := ofac.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	return ents
}

// handMade are a few entities written here to test kinds, weak aliases
// and original-script names, which the OFAC fixture lacks.
var handMade = []entity.Entity{
	{ID: "t:1", Source: "t", List: "Test", Kind: entity.Person, Name: "Ivan PETROV", Names: []entity.Name{
		{Full: "Ivan PETROV", Type: entity.Primary, Strength: entity.Strong},
		{Full: "Иван Петров", Type: entity.Native, Strength: entity.Strong, Script: "Cyrl"},
	}, Countries: []string{"RU"}},
	{ID: "t:2", Source: "t", List: "Test", Kind: entity.Vessel, Name: "IVAN PETROV", Names: []entity.Name{
		{Full: "IVAN PETROV", Type: entity.Primary, Strength: entity.Strong},
	}},
	{ID: "t:3", Source: "t", List: "Test", Kind: entity.Organization, Name: "GOLDEN STAR TRADING LLC", Names: []entity.Name{
		{Full: "GOLDEN STAR TRADING LLC", Type: entity.Primary, Strength: entity.Strong},
		{Full: "BLUE MOON SUPPLY", Type: entity.AKA, Strength: entity.Weak},
	}},
}

func TestSearchVariations(t *testing.T) {
	ix := NewIndex(append(fixture(t, "testdata/ofac-v1"), handMade...))
	tests := []struct {
		name, query string
		kind        entity.Kind
		want        string // expected first id, "" for no match at 0.90
	}{
		{"exact", "AL QA'IDA", "", "ofac-sdn:6366"},
		{"case and punctuation", "al-qa'ida", "", "ofac-sdn:6366"},
		{"joined", "ALQAIDA", "", "ofac-sdn:6366"},
		{"alias", "Al Qaeda", "", "ofac-sdn:6366"},
		{"natural order", "Vladimir Vladimirovich Putin", entity.Person, "ofac-sdn:35096"},
		{"word order", "PUTIN Vladimir Vladimirovich", entity.Person, "ofac-sdn:35096"},
		{"title", "President Vladimir Putin", "", "ofac-sdn:35096"},
		{"typo", "Vladimir Vladimirovich Putim", "", "ofac-sdn:35096"},
		{"transposition", "Vladmiir Vladimirovich Putin", "", "ofac-sdn:35096"},
		{"transliteration", "Wladimir Vladimirovitch Poutin", "", "ofac-sdn:35096"},
		{"diacritics", "Vladímir Vladimírovich Pútin", "", "ofac-sdn:35096"},
		{"missing middle name", "Vladimir Putin", entity.Person, "ofac-sdn:35096"},
		{"vessel", "NS Champion", entity.Vessel, "ofac-sdn:46610"},
		{"legal form swapped", "Havin Bank Ltd", entity.Organization, "ofac-sdn:906"},
		{"legal form written out", "Golden Star Trading Limited Liability Company", "", "t:3"},
		{"legal form in Russian", "OOO Golden Star Trading", "", "t:3"},
		{"original script", "Иван Петров", entity.Person, "t:1"},
		{"kind picks the vessel", "Ivan Petrov", entity.Vessel, "t:2"},
		{"unrelated", "Maria Gonzalez Bakery", "", ""},
		{"one shared word", "Vladimir Smith", entity.Person, ""},
		{"blank", "  ", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := ix.Search(Query{Name: tt.query, Kind: tt.kind}, 0.90)
			if tt.want == "" {
				if len(ms) > 0 {
					t.Fatalf("Search(%q): got %s %.3f (%s), want no match", tt.query, ms[0].ID, ms[0].Score, ms[0].Explanation)
				}
				return
			}
			if len(ms) == 0 {
				t.Fatalf("Search(%q): no match, want %s", tt.query, tt.want)
			}
			if ms[0].ID != tt.want {
				t.Fatalf("Search(%q): first %s %.3f (%s), want %s", tt.query, ms[0].ID, ms[0].Score, ms[0].Explanation, tt.want)
			}
			for i := 1; i < len(ms); i++ {
				if ms[i].Score > ms[i-1].Score {
					t.Fatalf("matches not sorted by score: %v", ms)
				}
			}
			if ms[0].Explanation == "" || ms[0].MatchedName == "" || ms[0].List == "" {
				t.Fatalf("match lacks explanation or names: %+v", ms[0])
			}
		})
	}
}

func TestSearchHints(t *testing.T) {
	ix := NewIndex(handMade)
	person := ix.Search(Query{Name: "Ivan Petrov", Kind: entity.Person}, 0.5)
	if len(person) < 2 || person[0].ID != "t:1" || person[1].ID != "t:2" || person[1].Score >= person[0].Score {
		t.Fatalf("kind hint: got %+v", person)
	}
	if !strings.Contains(person[1].Explanation, "kind differs") {
		t.Errorf("demoted match does not say why: %q", person[1].Explanation)
	}
	any := ix.Search(Query{Name: "Ivan Petrov"}, 0.5)
	if len(any) < 2 || any[0].Score != 1 || any[1].Score != 1 {
		t.Fatalf("kind any should not demote: %+v", any)
	}
	weak := ix.Search(Query{Name: "Blue Moon Supply"}, 0.5)
	if len(weak) != 1 || weak[0].Score >= 1 || !strings.Contains(weak[0].Explanation, "weak") {
		t.Fatalf("weak alias: got %+v", weak)
	}
	other := ix.Search(Query{Name: "Ivan Petrov", Kind: entity.Person, Country: "FR"}, 0.5)
	same := ix.Search(Query{Name: "Ivan Petrov", Kind: entity.Person, Country: "ru"}, 0.5)
	if other[0].Score >= same[0].Score {
		t.Errorf("country hint: FR %.3f should be below RU %.3f", other[0].Score, same[0].Score)
	}
	if lim := ix.Search(Query{Name: "Ivan Petrov", Limit: 1}, 0.5); len(lim) != 1 {
		t.Errorf("limit 1: got %d matches", len(lim))
	}
	if e, ok := ix.Entity("t:2"); !ok || e.Kind != entity.Vessel {
		t.Errorf("Entity(t:2) = %+v, %v", e, ok)
	}
	if _, ok := ix.Entity("t:9"); ok || ix.Len() != 3 || ix.Names() != 4 { // the Cyrillic name folds to the primary one
		t.Errorf("Entity(t:9) found, or Len %d / Names %d wrong", ix.Len(), ix.Names())
	}
}

func TestExplanation(t *testing.T) {
	ix := NewIndex(fixture(t, "testdata/ofac-v1"))
	ms := ix.Search(Query{Name: "Dr. Vladimir Putin"}, 0.9)
	if len(ms) == 0 {
		t.Fatal("no match")
	}
	e := ms[0].Explanation
	for _, want := range []string{`matched alias "Vladimir PUTIN" (strong aka)`, "vladimir=vladimir", "putin=putin", `title "dr" ignored`} {
		if !strings.Contains(e, want) {
			t.Errorf("explanation %q lacks %q", e, want)
		}
	}
	ms = ix.Search(Query{Name: "Vladimir Vladimirovich"}, 0.9)
	if len(ms) == 0 || !strings.Contains(ms[0].Explanation, "unmatched listed tokens: putin") {
		t.Fatalf("missing token explanation: %+v", ms)
	}
	ms = ix.Search(Query{Name: "Havin Bank Company Limited"}, 0.9)
	if len(ms) == 0 || !strings.Contains(ms[0].Explanation, "legal form") {
		t.Fatalf("legal form explanation: %+v", ms)
	}
}

func TestMatchIdentifier(t *testing.T) {
	ix := NewIndex(fixture(t, "testdata/ofac-v1"))
	tests := []struct {
		name  string
		typ   entity.IDType
		value string
		want  string
	}{
		{"website as listed", entity.Website, "www.havanaintbank.co.uk", "ofac-sdn:906"},
		{"website bare domain", entity.Website, "havanaintbank.co.uk", "ofac-sdn:906"},
		{"website subdomain and URL", entity.Website, "https://Online.HavanaIntBank.co.uk/login", "ofac-sdn:906"},
		{"website other domain", entity.Website, "havanaintbank.com", ""},
		{"website public suffix only", entity.Website, "co.uk", ""},
		{"email", entity.Email, "Dam.D.Free@NET.SY", "ofac-sdn:10933"},
		{"email other", entity.Email, "someone@net.sy", ""},
		{"bitcoin", entity.DigitalCurrency, "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h", "ofac-sdn:25308"},
		{"bitcoin case matters", entity.DigitalCurrency, "12qtd5bfwrsdnsazy76uve1xycgntojh9h", ""},
		{"empty", entity.Email, " ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := ix.MatchIdentifier(tt.typ, tt.value)
			if tt.want == "" {
				if len(ms) != 0 {
					t.Fatalf("got %+v, want none", ms)
				}
				return
			}
			if len(ms) != 1 || ms[0].ID != tt.want || ms[0].Score != 1 || ms[0].Explanation == "" {
				t.Fatalf("got %+v, want %s", ms, tt.want)
			}
		})
	}
}

func TestServiceSwapsOnImport(t *testing.T) {
	store, err := lists.Open("", []string{"testdata/ofac-v1"})
	if err != nil {
		t.Fatal(err)
	}
	svc := NewService(store, 0)
	if svc.Threshold() != DefaultThreshold {
		t.Fatalf("threshold %v", svc.Threshold())
	}
	r := svc.Screen(Query{Name: "Bank Maskan"})
	if len(r.Matches) != 0 {
		t.Fatalf("v1 should not list Bank Maskan: %+v", r.Matches)
	}
	v1 := r.Lists["ofac-sdn"]
	if v1 == "" {
		t.Fatalf("no version for ofac-sdn: %v", r.Lists)
	}
	if _, err := store.Import("testdata/ofac-v2"); err != nil {
		t.Fatal(err)
	}
	r = svc.Screen(Query{Name: "Bank Maskan"})
	if len(r.Matches) != 1 || r.Matches[0].ID != "ofac-sdn:4633" {
		t.Fatalf("after import: %+v", r.Matches)
	}
	if r.Lists["ofac-sdn"] == v1 {
		t.Errorf("version not updated: %v", r.Lists)
	}
	if id := svc.ScreenIdentifier(entity.Website, "bank-maskan.ir"); len(id.Matches) != 1 {
		t.Errorf("identifier after import: %+v", id)
	}
}

func FuzzSearch(f *testing.F) {
	ix := NewIndex(append(fixture(f, "testdata/ofac-v1"), handMade...))
	for _, s := range []string{"AL QA'IDA", "Vladimir Putin", "Иван Петров", "L.L.C.", "Mr. Dr.", "a b c d e f g h i j k l m n o p q r s t", "\x00\xff", "金正恩"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		ms := ix.Search(Query{Name: q, Limit: 5}, 0.5)
		if len(ms) > 5 {
			t.Fatalf("limit ignored: %d", len(ms))
		}
		for _, m := range ms {
			if m.Score < 0.5 || m.Score > 1 || m.ID == "" {
				t.Fatalf("bad match %+v", m)
			}
		}
	})
}

func TestSearchConcurrent(t *testing.T) {
	ix := NewIndex(append(fixture(t, "testdata/ofac-v1"), handMade...))
	want := ix.Search(Query{Name: "Vladimir Putin"}, 0.9)
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			ok := true
			for i := 0; i < 200; i++ {
				got := ix.Search(Query{Name: "Vladimir Putin"}, 0.9)
				if len(got) != len(want) || got[0].ID != want[0].ID || got[0].Score != want[0].Score {
					ok = false
				}
				ix.Search(Query{Name: "Ivan Petrov", Kind: entity.Vessel}, 0.5)
			}
			done <- ok
		}()
	}
	for g := 0; g < 4; g++ {
		if !<-done {
			t.Error("concurrent searches disagree")
		}
	}
}
