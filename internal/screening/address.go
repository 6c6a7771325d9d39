package screening

import (
	"strings"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/textnorm"
)

// listedAddress keys the listed street addresses in Index.idents.
const listedAddress entity.IDType = "address"

// addressKey is the compared form of a street line: folded (case,
// diacritics, punctuation) with single spaces. Lines of fewer than two
// words or eight letters ("Tehran", "PO Box 1") are too generic to screen
// and give "".
func addressKey(line string) string {
	k := strings.Join(strings.Fields(textnorm.Fold(line)), " ")
	if len(k) < 8 || !strings.Contains(k, " ") {
		return ""
	}
	return k
}

// addAddresses indexes the entity's street lines.
func (ix *builder) addAddresses(ei int32, e *entity.Entity) {
	for _, a := range e.Addresses {
		if k := addressKey(a.Street); k != "" {
			ik := identKey{listedAddress, k}
			ix.idents[ik] = appendUniqueID(ix.idents[ik], ei)
		}
	}
}

// MatchAddress reports the listed entities that have the street line of a
// free-text address ("Street 1, City, Country") in the same city. Each
// comma-, semicolon- or newline-separated part is looked up as a street
// line; a hit counts only when the listed address's city (or, when it has
// none, its country) also appears in the query. Addresses are shared (an
// office building, a bank's branch), so callers should treat a match as
// one to review, not as proof of identity; the score is 1 and the
// explanation names the listed address.
func (ix *Index) MatchAddress(addr string) []Match {
	defer keepAlive(ix)
	folded := " " + strings.Join(strings.Fields(textnorm.Fold(addr)), " ") + " "
	var out []Match
	seen := map[int32]bool{}
	for _, part := range strings.FieldsFunc(addr, func(r rune) bool { return r == ',' || r == ';' || r == '\n' }) {
		k := addressKey(part)
		if k == "" {
			continue
		}
		ix.idents.each(hashIdent(listedAddress, k), func(ei int32) {
			if seen[ei] {
				return
			}
			e := ix.entity(ei)
			for _, a := range e.Addresses {
				if addressKey(a.Street) != k || !sameLocality(folded, a) {
					continue
				}
				seen[ei] = true
				m := ix.entMatch(ei)
				m.MatchedName, m.Score = a.Street+", "+a.City, 1
				m.Explanation = "address matched a listed address: street " + quote(a.Street) + " in " + quote(firstNonEmpty(a.City, a.Country))
				out = append(out, m)
				break
			}
		})
	}
	return out
}

// sameLocality reports whether the folded query (with a space at each end)
// names the listed address's city, or its country when it has no city.
// Only the city's words count: the lists often write the postal code into
// the city ("Zurich CH-8022"), and customers write it elsewhere.
func sameLocality(folded string, a entity.Address) bool {
	words := localityWords(a.City)
	if len(words) == 0 {
		words = localityWords(a.Country)
	}
	for _, w := range words {
		if !strings.Contains(folded, " "+w+" ") {
			return false
		}
	}
	return len(words) > 0
}

// localityWords are the folded words of a place name without postal codes
// and country prefixes: words of three or more letters and no digits.
func localityWords(place string) []string {
	var out []string
	for _, w := range strings.Fields(textnorm.Fold(place)) {
		if len(w) >= 3 && !strings.ContainsAny(w, "0123456789") {
			out = append(out, w)
		}
	}
	return out
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func quote(s string) string { return `"` + s + `"` }
