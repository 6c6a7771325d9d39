package confusable

import (
	"strings"
	"testing"
	"unicode"
)

func TestLatin(t *testing.T) {
	tests := []struct {
		r    rune
		want string
	}{
		{'Η', "H"}, // Greek capital Eta
		{'Ι', "I"}, // Greek capital Iota: prototype "l", upper-case I
		{'ο', "o"}, // Greek omicron
		{'а', "a"}, // Cyrillic a
		{'е', "e"}, // Cyrillic ie
		{'Ѕ', "S"}, // Cyrillic dze
		{'і', "i"}, // Ukrainian i
		{'Ꭺ', "A"}, // Cherokee
		{'ꓔ', "T"}, // Lisu
		{'Ꮪ', "S"}, // Cherokee
	}
	for _, tt := range tests {
		if got, ok := Latin(tt.r); !ok || got != tt.want {
			t.Errorf("Latin(%q U+%04X) = %q, %v; want %q", tt.r, tt.r, got, ok, tt.want)
		}
	}
	for _, r := range []rune{'a', 'é', 'ı', 'ж', 'д', 'λ', 'ح', '3', ' '} {
		if got, ok := Latin(r); ok {
			t.Errorf("Latin(%q) = %q, want none (Latin, or no Latin look-alike)", r, got)
		}
	}
	if Version != "17.0.0" || len(runes) != len(latin) || len(runes) < 1000 {
		t.Errorf("table: version %s, %d runes, %d strings", Version, len(runes), len(latin))
	}
	for i := 1; i < len(runes); i++ {
		if runes[i-1] >= runes[i] {
			t.Fatalf("runes not sorted at %d", i)
		}
	}
}

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ηezbollah", "Hezbollah"},                 // Greek Eta in a Latin word
		{"Hеzbollah", "Hezbollah"},                 // Cyrillic e
		{"ΗΑМАЅ", "HAMAS"},                         // Greek and Cyrillic mixed
		{"Hamas Μονεment", "Hamas Movεment"},       // Latin elsewhere in the name; ε has no look-alike
		{"ᎻᎪᎷᎪᏚ", "HAMAS"},                         // Cherokee: nobody's name is in it here
		{"Хамас", "Хамас"},                         // genuine Cyrillic: left for transliteration
		{"Χαμάς", "Χαμάς"},                         // genuine Greek
		{"ΟΑΟ", "ΟΑΟ"},                             // all look-alikes, but one real script alone
		{"Газпром Ηezbollah", "Газпром Hezbollah"}, // a genuine word beside a disguised one
		{"حزب الله", "حزب الله"},
		{"plain ascii", "plain ascii"},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"Ηezbollah", "ΗΑМАЅ", "Хамас", "ᎻᎪᎷᎪᏚ", "Газпром Ηezbollah", "\xff", "a\u0301Ηb", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Fold(s)
		if Fold(got) != got {
			t.Fatalf("Fold not idempotent on %q: %q then %q", s, got, Fold(got))
		}
		// A word that holds a Latin letter keeps no look-alike letter.
		for _, w := range strings.FieldsFunc(got, func(r rune) bool { return !isWordRune(r) }) {
			hasLatin := strings.IndexFunc(w, func(r rune) bool { return unicode.Is(unicode.Latin, r) && unicode.IsLetter(r) }) >= 0
			if !hasLatin {
				continue
			}
			for _, r := range w {
				if _, ok := Latin(r); ok {
					t.Fatalf("Fold(%q) = %q: word %q keeps look-alike %q", s, got, w, r)
				}
			}
		}
		if !strings.ContainsFunc(s, func(r rune) bool { _, ok := Latin(r); return ok }) && got != s {
			t.Fatalf("Fold(%q) = %q changed a name without look-alikes", s, got)
		}
	})
}
