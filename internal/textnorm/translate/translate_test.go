package translate

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rampart-edge/rampart/internal/textnorm/translit"
)

func TestName(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"الجهاد الاسلامي المصري", "jihad islamic egyptian", true},
		{"الجماعة الاسلامية المسلحة", "group islamic armed", true},
		{"الحركة الإسلامية لأوزبكستان", "movement islamic of uzbekistan", true},
		{"الدولة الإسلامية في العراق والشام - ليبيا", "state islamic in iraq and levant libya", true},
		{"مكتب حنيفة للصرافة", "office hnifa of exchange", true},
		{"Исламское движение Узбекистана", "islamic movement uzbekistan", true},
		{"Исламское государство", "islamic state", true},
		{"Тигры освобождения Тамил-Илама", "tigers liberation Тамил Илама", true},
		{"ИГИЛ", "isil", true},
		{"Хайят Тахрир аш-Шам", "Хайят Тахрир al Шам", true}, // the article
		{"Иван и Петр", "Иван и Петр", false},                // only a function word
		{"طالبان", "طالبان", false},
		{"Иван Петров", "Иван Петров", false},
		{"Hamas Movement", "Hamas Movement", false},
		{"Аl-Qаidа Movement", "Аl-Qаidа Movement", false}, // look-alike letters in Latin
		{"Исламское государство ISIS", "Исламское государство ISIS", false},
		{"", "", false},
	} {
		got, ok := Name(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("Name(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestTable: every Arabic entry is stored as normArabic writes it (else
// it could never be found), every Russian stem is lower case, and the
// English readings are lower-case ASCII words.
func TestTable(t *testing.T) {
	for w, en := range arabic {
		if normArabic(w) != w {
			t.Errorf("arabic entry %q is not normalised (%q)", w, normArabic(w))
		}
		checkEnglish(t, w, en)
	}
	for _, m := range []map[string]string{russianWords, russianStems} {
		for w, en := range m {
			if strings.ToLower(w) != w || strings.ContainsAny(w, "abcdefghijklmnopqrstuvwxyz") {
				t.Errorf("russian entry %q is not lower-case Cyrillic", w)
			}
			checkEnglish(t, w, en)
		}
	}
}

func checkEnglish(t *testing.T, w, en string) {
	t.Helper()
	for _, r := range en {
		if (r < 'a' || r > 'z') && r != ' ' {
			t.Errorf("%q reads %q: not lower-case ASCII", w, en)
			return
		}
	}
}

// FuzzName: the translation of any string is valid UTF-8 when the input
// is, holds no Arabic-script letter (so screening's reading of it is
// never read in translation again), and translating it again changes
// nothing.
func FuzzName(f *testing.F) {
	for _, s := range []string{"الجهاد الاسلامي المصري", "Исламское государство", "ИГИЛ", "حزب الله", "للصرافة", "ل", "и", "\xff", "Ηezbollah"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := Name(s)
		if !ok {
			if got != s {
				t.Fatalf("Name(%q) = %q, false: changed", s, got)
			}
			return
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Name(%q) = %q: invalid UTF-8", s, got)
		}
		for _, r := range got {
			if r >= 0x600 && r < 0x780 {
				if _, known := translitLetter(r); known {
					t.Fatalf("Name(%q) = %q: Arabic-script letter left", s, got)
				}
			}
		}
		if again, _ := Name(got); again != got {
			t.Fatalf("Name(Name(%q)) = %q, want %q", s, again, got)
		}
	})
}

// translitLetter reports whether translit reads r (an Arabic-script letter
// it transliterates).
func translitLetter(r rune) (rune, bool) { return r, translit.Has(string(r)) }
