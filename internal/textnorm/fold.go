// Package textnorm turns names as people type them into comparable tokens:
// Unicode folding, transliteration of non-Latin scripts, case folding,
// punctuation handling, recognition of honorifics, company legal forms and
// name particles, and canonical keys that merge common transliteration
// variants (Mohammed/Muhammad, Sergei/Sergey, -iy/-y).
//
// Everything here is deterministic and free of list data: the rules are
// generic spelling rules, never names taken from a sanctions list.
package textnorm

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mozillazg/go-unidecode"
	"github.com/rampart-edge/rampart/internal/textnorm/confusable"
	"github.com/rampart-edge/rampart/internal/textnorm/translit"
	"golang.org/x/text/unicode/norm"
)

// Fold returns s in lower-case ASCII with every run of characters that are
// not letters or digits replaced by one space, and no leading or trailing
// space. It decomposes (NFKD), drops combining marks, transliterates other
// scripts to Latin (Cyrillic, Greek, Arabic, CJK, ...) and deletes
// apostrophes and similar marks inside words, so "Sa'id" folds to "said",
// "Al-Qaida" to "al qaida" and "Öztürk" to "ozturk".
//
// Letters of other scripts that look like Latin ones, mixed into a Latin
// name, are folded to the letters they imitate first ("Ηezbollah" with a
// Greek Eta folds to "hezbollah"; package confusable, from the Unicode
// confusables data), while a name written wholly in Greek or Cyrillic is
// transliterated. Arabic script (Persian, Urdu and Pashto letters too) and
// Hebrew are transliterated by package translit, the other scripts by
// go-unidecode.
//
// Transliteration does not know the language: Arabic script loses its
// short vowels and Chinese is read in Mandarin, so matching should also
// compare original-script names with original-script names, and Arabic
// and Hebrew ones by consonant keys (translit.NativeKeys).
func Fold(s string) string {
	if isPlainASCII(s) {
		return foldASCII(s)
	}
	d := translit.Latin(confusable.Fold(norm.NFKD.String(s)))
	var b strings.Builder
	b.Grow(len(d))
	for _, r := range d {
		switch {
		case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Me, r):
			// A combining mark: dropped, so "é" becomes "e".
		case r < utf8.RuneSelf:
			b.WriteByte(byte(r))
		case isApostrophe(r):
			b.WriteByte('\'')
		case unicode.IsSpace(r), unicode.IsPunct(r), unicode.IsSymbol(r):
			b.WriteByte(' ')
		default:
			b.WriteString(unidecode.Unidecode(string(r)))
		}
	}
	return foldASCII(b.String())
}

// isPlainASCII reports whether s holds only ASCII bytes, in which case
// neither decomposition nor transliteration can change it.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isApostrophe reports whether r is one of the marks used as an apostrophe
// or for the Arabic ayn and hamza in romanised names.
func isApostrophe(r rune) bool {
	switch r {
	case '\u2018', '\u2019', '\u02bc', '\u02bb', '\u02be', '\u02bf', '\u0060', '\u00b4', '\u2032':
		return true
	}
	return false
}

// foldASCII lower-cases an ASCII string, deletes apostrophes and backticks
// and turns every other run of non-alphanumeric bytes into one space.
func foldASCII(s string) string {
	b := make([]byte, 0, len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c == '\'' || c == '`':
			continue
		default:
			space = len(b) > 0
			continue
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		b = append(b, c)
	}
	return string(b)
}
