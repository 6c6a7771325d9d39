// Package confusable folds letters of other scripts that look like Latin
// letters (Greek Η, Cyrillic а, Cherokee Ꭺ, Lisu ꓮ, ...) to the Latin
// letters they imitate, when they are mixed into a name written in Latin.
//
// The table is generated (go generate) from the Unicode confusables data,
// confusables.txt of UTS #39 (data/, see PROVENANCE.md): every letter of a
// script other than Latin whose confusable prototype is one or two ASCII
// letters, in the case of the letter (Greek capital iota, prototype "l",
// becomes I). Latin letters are left to Unicode decomposition and
// transliteration; digits and symbols are not folded.
//
// Folding must not destroy a genuine name in another script ("Хамас" is
// Hamas in Cyrillic, not "XaMac"), so it applies word by word (a word is a
// run of letters, digits and combining marks) only where the word is a
// disguise:
//
//   - the word holds a Latin letter ("Ηezbollah", "Hеzbollah");
//   - every letter of the word has a Latin look-alike and the word mixes
//     scripts ("ΗΑМАЅ", Greek and Cyrillic), or the name has Latin letters
//     elsewhere ("Hamas Μονεment"), or the word is in a script people do not
//     write names in on these lists (Cherokee, Lisu, Canadian syllabics:
//     any script but Greek, Cyrillic, Armenian, Georgian, Hebrew, Arabic,
//     Coptic);
//
// other words are left for transliteration. A name with one disguised word
// counts as a Latin one, so folding twice changes nothing.
package confusable

//go:generate go run gen.go

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Version is the Unicode version of the confusables data.
const Version = dataVersion

// Latin returns the ASCII letters the letter r looks like, if it is a
// look-alike letter of another script.
func Latin(r rune) (string, bool) {
	if r < 0x80 {
		return "", false
	}
	i := sort.Search(len(runes), func(i int) bool { return runes[i] >= r })
	if i < len(runes) && runes[i] == r {
		return latin[i], true
	}
	return "", false
}

// realScripts are scripts in which names on the lists are genuinely
// written: a word entirely in one of them is transliterated, not folded.
var realScripts = []*unicode.RangeTable{
	unicode.Greek, unicode.Cyrillic, unicode.Armenian, unicode.Georgian,
	unicode.Hebrew, unicode.Arabic, unicode.Coptic,
}

// Fold returns s with the look-alike letters of disguised words replaced
// by the Latin letters they imitate (see the package documentation). It
// returns s itself when nothing is folded, without allocating.
func Fold(s string) string {
	// Fast path: no look-alike letter at all.
	first := -1
	for i, r := range s {
		if _, ok := Latin(r); ok {
			first = i
			break
		}
	}
	if first < 0 {
		return s
	}
	nameLatin := false
	for _, r := range s {
		if unicode.Is(unicode.Latin, r) && unicode.IsLetter(r) {
			nameLatin = true
			break
		}
	}
	if !nameLatin {
		// A disguised word (mixed scripts, a script nobody's name is
		// in here) makes the name a Latin one: its other look-alike
		// words are disguised too, and folding twice changes nothing.
		forWords(s, func(w string) bool {
			nameLatin = disguised(w, false)
			return !nameLatin
		})
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		j := i
		for j < len(s) {
			r, n := utf8.DecodeRuneInString(s[j:])
			if !isWordRune(r) {
				break
			}
			j += n
		}
		w := s[i:j]
		if disguised(w, nameLatin) {
			for _, r := range w {
				if l, ok := Latin(r); ok {
					b.WriteString(l)
				} else {
					b.WriteRune(r)
				}
			}
		} else {
			b.WriteString(w)
		}
		i = j
	}
	return b.String()
}

// isWordRune reports whether r belongs to a word: letters, digits and
// combining marks.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Me)
}

// forWords calls fn with each word of s until it returns false.
func forWords(s string, fn func(string) bool) {
	start := -1
	for i, r := range s {
		switch {
		case isWordRune(r) && start < 0:
			start = i
		case !isWordRune(r) && start >= 0:
			if !fn(s[start:i]) {
				return
			}
			start = -1
		}
	}
	if start >= 0 {
		fn(s[start:])
	}
}

// disguised reports whether the word w (letters and marks) is a Latin word
// written partly or wholly with look-alike letters.
func disguised(w string, nameLatin bool) bool {
	hasLatin, allLookAlike, anyLookAlike, foreign := false, true, false, false
	script := -2 // index into realScripts of the first letter, -1 other
	mixed := false
	for _, r := range w {
		if !unicode.IsLetter(r) {
			continue
		}
		if unicode.Is(unicode.Latin, r) {
			hasLatin = true
			continue
		}
		if _, ok := Latin(r); ok {
			anyLookAlike = true
		} else {
			allLookAlike = false
		}
		sc := -1
		for k, t := range realScripts {
			if unicode.Is(t, r) {
				sc = k
				break
			}
		}
		if sc >= 0 {
			foreign = true
		}
		if script == -2 {
			script = sc
		} else if script != sc {
			mixed = true
		}
	}
	switch {
	case !anyLookAlike:
		return false
	case hasLatin:
		return true
	case !allLookAlike:
		return false
	}
	return mixed || nameLatin || !foreign
}
