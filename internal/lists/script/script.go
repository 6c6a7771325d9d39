// Package script tells which writing system a name is in, as an ISO 15924
// code, so that original-script names on the lists can be labelled
// (entity.Name.Script).
package script

import "unicode"

var tables = []struct {
	code  string
	table *unicode.RangeTable
}{
	{"Arab", unicode.Arabic},
	{"Cyrl", unicode.Cyrillic},
	{"Hang", unicode.Hangul},
	{"Hani", unicode.Han},
	{"Grek", unicode.Greek},
	{"Hebr", unicode.Hebrew},
	{"Thai", unicode.Thai},
	{"Deva", unicode.Devanagari},
	{"Geor", unicode.Georgian},
	{"Armn", unicode.Armenian},
	{"Ethi", unicode.Ethiopic},
	{"Mymr", unicode.Myanmar},
	{"Khmr", unicode.Khmer},
	{"Hira", unicode.Hiragana},
	{"Kana", unicode.Katakana},
	{"Latn", unicode.Latin},
}

// Detect returns the ISO 15924 code of the script most letters of s are
// written in ("Arab", "Cyrl", "Hani", "Latn", ...), or "" when s has no
// letters or only letters of scripts not in the table. Ties go to the
// script listed first.
func Detect(s string) string {
	counts := make([]int, len(tables))
	for _, r := range s {
		if !unicode.IsLetter(r) {
			continue
		}
		for i, t := range tables {
			if unicode.Is(t.table, r) {
				counts[i]++
				break
			}
		}
	}
	best, bestN := "", 0
	for i, n := range counts {
		if n > bestN {
			best, bestN = tables[i].code, n
		}
	}
	return best
}

// NonLatin returns Detect(s) when it is neither Latin nor empty, else "".
func NonLatin(s string) string {
	if c := Detect(s); c != "Latn" {
		return c
	}
	return ""
}
