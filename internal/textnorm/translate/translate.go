// Package translate reads the common words of organisation names written
// in Arabic script or Cyrillic (Russian) in English, so that a group's
// name typed in its own language ("الجهاد الاسلامي المصري", "Исламское
// движение Узбекистана") can meet the English name the lists give it
// (EGYPTIAN ISLAMIC JIHAD, ISLAMIC MOVEMENT OF UZBEKISTAN). Consonant keys
// (package translit) bridge a name written in another script; they cannot
// bridge a name that was translated.
//
// The table (table.go) is small and written by hand: descriptors
// (movement, group, front, party, army, society, foundation, office ...),
// the adjectives and nouns the listed groups' English names are built
// from (islamic, state, liberation, jihad, armed, exchange ...), the
// countries and regions those names carry (Iraq, the Levant, Libya,
// Yemen, Uzbekistan ...) and function words (in, of, and). README.md
// says where each entry comes from. Words not in the table are
// transliterated (Arabic script by translit.Latin; Cyrillic is left for
// the caller's folding), so the result is a Latin-script reading of the
// whole name.
package translate

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rampart-edge/rampart/internal/textnorm/translit"
	"golang.org/x/text/unicode/norm"
)

// Name returns s with the words of the table replaced by their English
// readings, the other Arabic-script words transliterated, and whether any
// word was translated. Only names in Arabic script or Cyrillic, with no
// Latin letter, are read; for others it returns s, false.
func Name(s string) (string, bool) {
	arabic, cyrillic, latin := scripts(s)
	if !arabic && !cyrillic || latin {
		return s, false // a Latin name with look-alike letters is no translation
	}
	var out []string
	n := 0
	for _, w := range strings.FieldsFunc(s, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.In(r, unicode.Mn, unicode.Mc) || r == 'ـ')
	}) {
		var en string
		var ok bool
		if isArabicWord(w) {
			en, ok = arabicWord(w)
			if !ok {
				en = translit.Latin(w)
			}
		} else if isCyrillicWord(w) {
			en, ok = russianWord(w)
			if !ok {
				en = translit.Latin(w) // Cyrillic kept, other letters read
			}
		} else {
			en = translit.Latin(w) // a word of mixed scripts ("Aد")
		}
		if ok && !functionWords[en] {
			n++ // a function word alone makes no translation
		}
		out = append(out, en)
	}
	if n == 0 {
		return s, false
	}
	return strings.Join(out, " "), true
}

// functionWords are the English readings that say nothing of a name on
// their own: a name in which only these were translated is left alone.
// (The article, "al" for the Russian spellings аш, ан ..., counts: it
// brings "Хайят Тахрир аш-Шам" to HAY'AT TAHRIR AL-SHAM.)
var functionWords = map[string]bool{"in": true, "from": true, "and": true, "on": true, "for": true}

func scripts(s string) (arabic, cyrillic, latin bool) {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			latin = true
		case r >= 0x600 && r < 0x780:
			arabic = true
		case r >= 0x400 && r < 0x530:
			cyrillic = true
		}
	}
	return
}

func isArabicWord(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return r >= 0x600 && r < 0x780
}

func isCyrillicWord(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return r >= 0x400 && r < 0x530
}

// arabicNorm folds the letters Arabic-script spellings vary in: hamza
// seats and madda on alif (أ إ آ ٱ → ا), alif maqsura and Persian ye (ى
// ی → ي), Persian kaf (ک → ك), Urdu he (ھ ہ → ه), and drops marks and
// tatweel.
var arabicNorm = strings.NewReplacer(
	"أ", "ا", "إ", "ا", "آ", "ا", "ٱ", "ا", "ى", "ي", "ی", "ي", "ک", "ك",
	"ھ", "ه", "ہ", "ه", "ـ", "",
)

func normArabic(w string) string {
	w = norm.NFC.String(w)
	var b strings.Builder
	for _, r := range w {
		if !unicode.In(r, unicode.Mn, unicode.Mc) {
			b.WriteRune(r)
		}
	}
	return arabicNorm.Replace(b.String())
}

// arabicWord looks w up without the article and the prefixes joined to it
// (و and, ب by, ل for, ال the, لل for the).
func arabicWord(w string) (string, bool) {
	w = normArabic(w)
	if en, ok := arabic[w]; ok {
		return en, true
	}
	for _, p := range []string{"ال", "وال", "بال", "لل", "ل", "و"} {
		rest, ok := strings.CutPrefix(w, p)
		if !ok || utf8.RuneCountInString(rest) < 2 {
			continue
		}
		if en, ok := arabic[rest]; ok {
			switch p {
			case "لل", "ل":
				return "of " + en, true
			case "و", "وال":
				return "and " + en, true
			}
			return en, true
		}
	}
	return "", false
}

// russianWord looks w up by the longest stem of the table it starts with;
// a stem must leave at most four letters of ending.
func russianWord(w string) (string, bool) {
	w = strings.ReplaceAll(strings.ToLower(w), "ё", "е")
	if en, ok := russianWords[w]; ok {
		return en, true
	}
	rs := []rune(w)
	for n := len(rs); n >= 3 && n >= len(rs)-4; n-- {
		if en, ok := russianStems[string(rs[:n])]; ok {
			return en, true
		}
	}
	return "", false
}
