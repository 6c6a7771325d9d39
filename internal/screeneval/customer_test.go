package screeneval

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/rampart-edge/rampart/internal/entity"
)

func TestReadTSV(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		want     [][]string
		err      string
	}{
		{"rows", "a\tb\tc\n# comment\n\n x \t y\t\n", 3, [][]string{{"a", "b", "c"}, {"x", "y", ""}}, ""},
		{"indented comment", "  # note\na\tb\n", 2, [][]string{{"a", "b"}}, ""},
		{"too few fields", "a\tb\n", 3, nil, "line 1: 2 fields, want 3"},
		{"too many fields", "a\tb\tc\td\n", 3, nil, "line 1: 4 fields, want 3"},
		{"empty inner field", "ok\tok\tok\na\t \tc\n", 3, nil, "line 2: field 2 is empty"},
		{"no fields wanted", "a\n", 0, nil, "want at least one field"},
		{"empty input", "", 2, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadTSV(strings.NewReader(tc.in), tc.n)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if strings.Join(got[i], "|") != strings.Join(tc.want[i], "|") {
					t.Errorf("row %d: got %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// FuzzReadTSV: ReadTSV never panics, and what it accepts has the promised
// shape and reads back the same when written out again.
func FuzzReadTSV(f *testing.F) {
	f.Add("طالبان\tArab\tofac-sdn:6636\tTaliban\n", 4)
	f.Add("# c\nIslamic Relief Worldwide\tcharity\tislamic, relief\n", 3)
	f.Add("a\t\tb\n\r\n", 3)
	f.Fuzz(func(t *testing.T, in string, n int) {
		n = n%6 + 1
		if n < 1 {
			n += 6
		}
		rows, err := ReadTSV(strings.NewReader(in), n)
		if err != nil {
			return
		}
		var b strings.Builder
		for _, r := range rows {
			if len(r) != n {
				t.Fatalf("row %q has %d fields, want %d", r, len(r), n)
			}
			for i, f := range r {
				if f != strings.TrimSpace(f) || (f == "" && i < n-1) || strings.ContainsAny(f, "\t\n") {
					t.Fatalf("field %d %q of %q not clean", i, f, r)
				}
			}
			if strings.HasPrefix(r[0], "#") {
				t.Fatalf("comment read as a row: %q", r)
			}
			b.WriteString(strings.Join(r, "\t") + "\n")
		}
		again, err := ReadTSV(strings.NewReader(b.String()), n)
		if err != nil || len(again) != len(rows) {
			t.Fatalf("re-reading %q: %v, %d rows, want %d", b.String(), err, len(again), len(rows))
		}
		for i := range rows {
			if strings.Join(again[i], "\t") != strings.Join(rows[i], "\t") {
				t.Fatalf("row %d: %q read back as %q", i, rows[i], again[i])
			}
		}
	})
}

func TestNormNameAndEquivKey(t *testing.T) {
	tests := []struct{ in, norm, equiv string }{
		{"AL QA'IDA", "AL QAIDA", "AL QAIDA"},
		{"Al-Qa’ida", "AL QAIDA", "AL QAIDA"},
		{"KURDISTAN WORKERS' PARTY", "KURDISTAN WORKERS PARTY", "KURDISTAN WORKERS PARTY"},
		{"TARIQ GIDAR GROUP (TGG)", "TARIQ GIDAR GROUP TGG", "TARIQ GIDAR GROUP"},
		{"THE SPECIAL PURPOSE ISLAMIC REGIMENT", "THE SPECIAL PURPOSE ISLAMIC REGIMENT", "SPECIAL PURPOSE ISLAMIC REGIMENT"},
		{"HAMAS", "HAMAS", ""},
		{"The Base", "THE BASE", ""},
		{"  ", "", ""},
	}
	for _, tc := range tests {
		if got := NormName(tc.in); got != tc.norm {
			t.Errorf("NormName(%q) = %q, want %q", tc.in, got, tc.norm)
		}
		if got := equivKey(tc.in); got != tc.equiv {
			t.Errorf("equivKey(%q) = %q, want %q", tc.in, got, tc.equiv)
		}
	}
}

// unLookalike maps the generator's look-alike letters back to Latin.
func unLookalike(s string) string {
	back := map[rune]rune{}
	for _, tab := range []map[rune]rune{greekUpper, cyrillicUpper, cyrillicLower, cherokeeUpper} {
		for k, v := range tab {
			back[v] = k
		}
	}
	return strings.Map(func(r rune) rune {
		if l, ok := back[r]; ok {
			return l
		}
		if r >= 0xFF01 && r <= 0xFF5E {
			return r - 0xFF01 + '!'
		}
		if r == '\u3000' {
			return ' '
		}
		return r
	}, s)
}

func TestLookalike(t *testing.T) {
	scripts := map[string]*unicode.RangeTable{"greek": unicode.Greek, "cyrillic": unicode.Cyrillic, "cherokee": unicode.Cherokee}
	for _, sub := range lookalikeSubs {
		t.Run(sub, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			for range 20 {
				got := lookalike(r, "Hezbollah Movement", sub)
				if got == "" {
					t.Fatal("no look-alike made")
				}
				if strings.ToUpper(unLookalike(got)) != "HEZBOLLAH MOVEMENT" {
					t.Fatalf("%q does not read back as the name", got)
				}
				foreign := 0
				for _, c := range got {
					if c > unicode.MaxASCII {
						foreign++
						if tab, ok := scripts[sub]; ok && !unicode.Is(tab, c) {
							t.Fatalf("%q: %q is not %s", got, c, sub)
						}
					}
				}
				switch {
				case sub == "fullwidth" && foreign != len([]rune(got)):
					t.Fatalf("%q is not all fullwidth", got)
				case sub != "fullwidth" && (foreign < 1 || foreign > 3):
					t.Fatalf("%q has %d look-alike letters, want 1-3", got, foreign)
				}
			}
		})
	}
}

func TestCustomerForm(t *testing.T) {
	e := &entity.Entity{ID: "ofac-sdn:4702", Kind: entity.Organization, Countries: []string{"TR"},
		Names: []entity.Name{{Full: "KURDISTAN WORKERS' PARTY", Type: entity.Primary}, {Full: "PKK", Type: entity.AKA}, {Full: "KADEK", Type: entity.AKA},
			{Full: "PARTIYA KARKERAN KURDISTAN", Type: entity.AKA}, {Full: "HSK", Type: entity.AKA, Strength: entity.Weak}}}
	base := "KURDISTAN WORKERS' PARTY"
	tests := []struct {
		sub   string
		check func(q string) bool
	}{
		{"article", func(q string) bool { return strings.HasPrefix(strings.ToUpper(q), "THE KURDISTAN") }},
		{"descriptor", func(q string) bool { return strings.Count(q, " ") == 3 }},
		{"translit-descriptor", func(q string) bool { return strings.HasSuffix(strings.ToUpper(q), "KURDISTAN WORKERS' PARTY") }},
		{"place", func(q string) bool {
			return (strings.Contains(q, "Turkey") || strings.Contains(q, "Türkiye") || strings.Contains(q, "Istanbul") || strings.Contains(q, "Gaziantep"))
		}},
		{"legal-form", func(q string) bool { return len(q) > len(base) }},
		{"acronym", func(q string) bool {
			return strings.Contains(q, "PKK") || strings.Contains(q, "KADEK") || strings.Contains(q, "HSK")
		}},
		{"initials", func(q string) bool { return strings.HasSuffix(q, "(KWP)") }},
		{"alias-pair", func(q string) bool {
			return strings.Contains(strings.ToUpper(q), "PARTIYA KARKERAN KURDISTAN") && strings.ContainsAny(q, "(-/")
		}},
		{"combined", func(q string) bool { return strings.HasPrefix(q, "The ") && strings.Count(q, " ") >= 4 }},
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range tests {
		for range 10 {
			q := customerForm(r, e, base, tc.sub)
			if q == "" || !tc.check(q) {
				t.Errorf("%s: %q", tc.sub, q)
			}
			if !strings.Contains(NormName(q), "KURDISTAN WORKERS PARTY") {
				t.Errorf("%s: %q lost the base name", tc.sub, q)
			}
		}
	}
	// "The Base" without its article would be another name.
	if q := customerForm(r, e, "THE BASE", "article"); q != "" {
		t.Errorf("article form of THE BASE: %q, want none", q)
	}
	co := &entity.Entity{ID: "x", Kind: entity.Organization, Names: []entity.Name{{Full: "BEHINEH TRADING CO.", Type: entity.Primary}}}
	for range 10 {
		if q := customerForm(r, co, "BEHINEH TRADING CO.", "translit-descriptor"); q != "" {
			t.Errorf("translit-descriptor of a company: %q, want none", q)
		}
		q := customerForm(r, co, "BEHINEH TRADING CO.", "descriptor")
		if !slices.ContainsFunc(companyDesc, func(d string) bool { return strings.HasSuffix(q, " "+d) }) {
			t.Errorf("descriptor of a company: %q, want a company's", q)
		}
	}
	if initials("AL QA'IDA") != "" || initials("ISLAMIC STATE OF IRAQ AND THE LEVANT") != "ISIL" {
		t.Errorf("initials: %q, %q", initials("AL QA'IDA"), initials("ISLAMIC STATE OF IRAQ AND THE LEVANT"))
	}
}
