package textnorm

import (
	"slices"
	"strings"
	"sync"

	"github.com/rampart-edge/rampart/internal/country"
)

// Class says what role a token plays in a name.
type Class uint8

// Token classes. Only Word tokens are significant for matching; the others
// are recognised so that they can be ignored or weighted down.
const (
	Word      Class = iota // a name word: given name, surname, company word
	Particle               // al, bin, de, van, and, of, the ...
	Honorific              // Mr, Dr, Sheikh, General ... (leading only)
	LegalForm              // LLC, JSC, Co. Ltd., GmbH ... (Key holds the code)
)

// String returns the class name used in explanations.
func (c Class) String() string {
	switch c {
	case Particle:
		return "particle"
	case Honorific:
		return "title"
	case LegalForm:
		return "legal form"
	}
	return "word"
}

// Token is one folded name token.
type Token struct {
	// Text is the folded token ("qaida"); for a multi-word honorific or
	// legal form it is the folded phrase ("limited liability company").
	Text string
	// Key is the canonical key (see Canon) of a Word or Particle, or the
	// legal-form code ("llc", "jsc", "ltd") of a LegalForm.
	Key   string
	Class Class
}

// phrase tables, split into token sequences once.
var (
	honorificSeqs [][]string
	maxLegalLen   int
	// legalVocab holds every word of a legal form other than particles;
	// the value reports whether it is strong: four or more letters and
	// not a weak legal word, so it counts as a legal form anywhere.
	legalVocab map[string]bool
	// legalByFirst lists legal words of four or more letters by first
	// letter, for correcting typing errors.
	legalByFirst [256][]string
	// bagCodes maps the sorted words of a legal form ("company joint
	// stock") to its code, so shuffled forms are recognised.
	bagCodes map[string]string
	// partialBagCodes maps the sorted words of a legal form of three or
	// more words with one word left out to its code.
	partialBagCodes map[string]string
	// legalFirst maps the first word of a legal form to the length in
	// words of its longest form.
	legalFirst map[string]int
)

func init() {
	for _, h := range honorificPhrases {
		honorificSeqs = append(honorificSeqs, strings.Fields(h))
	}
	legalVocab = make(map[string]bool)
	bagCodes = make(map[string]string)
	partialBagCodes = make(map[string]string)
	legalFirst = make(map[string]int)
	for form, code := range legalForms {
		seq := strings.Fields(form)
		maxLegalLen = max(maxLegalLen, len(seq))
		legalFirst[seq[0]] = max(legalFirst[seq[0]], len(seq))
		var bag []string
		for _, w := range seq {
			if particles[w] {
				continue
			}
			bag = append(bag, w)
			if _, ok := legalVocab[w]; !ok {
				legalVocab[w] = len(w) >= 4 && !weakLegalWords[w]
				if len(w) >= 4 {
					legalByFirst[w[0]] = append(legalByFirst[w[0]], w)
				}
			}
		}
		k := bagKey(bag)
		if old, ok := bagCodes[k]; !ok || code < old {
			bagCodes[k] = code
		}
		// The same form with one word left out ("limited liability",
		// "public stock company"), for forms of three or more words.
		if len(bag) >= 3 {
			for i := range bag {
				sub := bagKey(slices.Delete(slices.Clone(bag), i, i+1))
				if old, ok := partialBagCodes[sub]; !ok || code < old {
					partialBagCodes[sub] = code
				}
			}
		}
	}
	for k := range partialBagCodes {
		if _, ok := bagCodes[k]; ok {
			delete(partialBagCodes, k) // a complete form wins
		}
	}
	for i := range legalByFirst {
		slices.Sort(legalByFirst[i])
	}
}

// bagKey returns the sorted, de-duplicated words joined by spaces.
func bagKey(words []string) string {
	b := slices.Clone(words)
	slices.Sort(b)
	b = slices.Compact(b)
	return strings.Join(b, " ")
}

// correctLegal returns the legal-form word that w is a typing error of:
// same first letter and one edit, but no substitution in four-letter
// words ("companu", "limitd", "joitn", "stok"; "spot" is not "spol").
func correctLegal(w string) (string, bool) {
	if len(w) < 4 {
		return "", false
	}
	if _, ok := legalVocab[w]; ok {
		return "", false
	}
	const maxD = 1
	for _, c := range legalByFirst[w[0]] {
		if absInt(len(c)-len(w)) > maxD {
			continue
		}
		if len(w) == 4 && len(c) == 4 {
			// A four-letter word may be a typo of a longer legal word
			// ("stok", "zoen") but is too short to be corrected by
			// substitution ("spot" is not "spol").
			if OSADistance(c, w) == 1 && !oneSubstitution(c, w) {
				return c, true
			}
			continue
		}
		if OSADistance(c, w) <= maxD {
			return c, true
		}
	}
	return "", false
}

// shortLegalCodes are the three-letter legal forms typed most often.
var shortLegalCodes = []string{"ltd", "llc", "inc", "jsc", "ooo", "llp", "plc", "pte", "pvt", "fze", "lda"}

// correctShortLegal returns the three-letter legal form w is one
// substitution away from, keeping the first letter.
func correctShortLegal(w string) (string, bool) {
	if _, ok := legalVocab[w]; ok || particles[w] {
		return "", false
	}
	for _, c := range shortLegalCodes {
		if c[0] == w[0] && oneSubstitution(c, w) {
			return c, true
		}
	}
	return "", false
}

// oneSubstitution reports whether equal-length a and b differ in exactly
// one position.
func oneSubstitution(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	n := 0
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] {
			n++
		}
	}
	return n == 1
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Analyze folds s and splits it into classified tokens. Runs of two or more
// single letters are joined first ("L.L.C." becomes "llc", "H.E." becomes
// "he"). Leading titles become Honorific tokens. Legal forms become
// LegalForm tokens keyed by their code: typing errors in legal-form words
// are corrected ("Compnay" is "company"), and when all legal-form words of
// the name, wherever they stand, make up one known form ("Stock Joint ...
// Company"), they become one token. Particles become Particle tokens. At
// least one Word is always kept: a name made only of titles or legal forms
// keeps its words as words.
func Analyze(s string) []Token {
	return AnalyzeFolded(Fold(s))
}

// AnalyzeFolded is Analyze for a string already folded by Fold.
func AnalyzeFolded(folded string) []Token {
	words := joinInitials(strings.Fields(folded))
	if len(words) == 0 {
		return nil
	}
	for i, w := range words {
		if c, ok := correctLegal(w); ok {
			words[i] = c
		} else if p, ok := demonyms[w]; ok {
			words[i] = p
		}
	}
	// A three-letter last word one substitution (not of its first
	// letter) away from a legal-form code is taken as that code ("Lyd",
	// "Lkc").
	if n := len(words); n >= 2 && len(words[n-1]) == 3 {
		if c, ok := correctShortLegal(words[n-1]); ok {
			words[n-1] = c
		}
	}
	toks := make([]Token, 0, len(words))
	class := make([]Class, len(words))
	span := make([]int, len(words)) // phrase length starting here, 0 inside a phrase
	code := make([]string, len(words))
	for i := range words {
		span[i] = 1
	}

	// Leading honorifics, possibly several ("H.E. Dr.").
	i := 0
	for i < len(words)-1 {
		n := matchSeq(words[i:], honorificSeqs)
		if n == 0 || i+n >= len(words) {
			break
		}
		class[i], span[i] = Honorific, n
		for k := 1; k < n; k++ {
			span[i+k] = 0
		}
		i += n
	}
	start := i

	// Legal-form phrases: anywhere for unambiguous ones, ambiguous ones
	// only in the leading or trailing run of legal forms.
	type hit struct{ at, n int }
	var hits []hit
	for j := start; j < len(words); {
		n, c := matchLegal(words[j:])
		if n > 0 {
			hits = append(hits, hit{j, n})
			code[j] = c
			j += n
			continue
		}
		j++
	}
	edge := make(map[int]bool)
	pos := start
	for _, h := range hits {
		if h.at != pos {
			break
		}
		edge[h.at] = true
		pos += h.n
	}
	pos = len(words)
	for k := len(hits) - 1; k >= 0; k-- {
		h := hits[k]
		if h.at+h.n != pos {
			break
		}
		edge[h.at] = true
		pos = h.at
	}
	isLegal := make([]bool, len(words))
	for _, h := range hits {
		phrase := strings.Join(words[h.at:h.at+h.n], " ")
		if !edge[h.at] && h.n == 1 && (ambiguousLegalForms[phrase] || !legalVocab[phrase]) {
			code[h.at] = ""
			continue
		}
		for k := h.at; k < h.at+h.n; k++ {
			isLegal[k] = true
		}
	}
	// Strong legal words anywhere, weak ones next to a legal word.
	for j := start; j < len(words); j++ {
		if legalVocab[words[j]] {
			isLegal[j] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for j := start; j < len(words); j++ {
			if isLegal[j] {
				continue
			}
			if _, ok := legalVocab[words[j]]; ok && ((j > start && isLegal[j-1]) || (j+1 < len(words) && isLegal[j+1])) {
				isLegal[j] = true
				changed = true
			}
		}
	}
	// All legal words together forming one known form.
	var bag []string
	first := -1
	nLegal := 0
	for j := start; j < len(words); j++ {
		if !isLegal[j] {
			continue
		}
		nLegal++
		if first < 0 {
			first = j
		}
		if !particles[words[j]] {
			bag = append(bag, words[j])
		}
	}
	bagCode := ""
	if nLegal > 1 && nLegal < len(words)-start {
		k := bagKey(bag)
		bagCode = bagCodes[k]
		if bagCode == "" && len(bag) >= 2 {
			bagCode = partialBagCodes[k]
		}
	}
	if bagCode != "" {
		var parts []string
		for j := start; j < len(words); j++ {
			if isLegal[j] {
				parts = append(parts, words[j])
				span[j] = 0
				class[j] = LegalForm
			}
		}
		class[first], span[first], code[first] = LegalForm, 1, bagCode
		words[first] = strings.Join(parts, " ")
	} else {
		for _, h := range hits {
			if code[h.at] == "" {
				continue
			}
			class[h.at], span[h.at] = LegalForm, h.n
			for k := 1; k < h.n; k++ {
				span[h.at+k] = 0
			}
		}
		for j := start; j < len(words); j++ {
			if isLegal[j] && span[j] == 1 && class[j] == Word && !particles[words[j]] {
				// Keyed by its form's code when it is a form on its own
				// ("company" is "co"), else by itself ("stock").
				c, ok := legalForms[words[j]]
				if !ok {
					c = words[j]
				}
				class[j], code[j] = LegalForm, c
			}
		}
	}

	for j := 0; j < len(words); j++ {
		if span[j] == 0 {
			continue
		}
		w := words[j]
		switch class[j] {
		case Honorific:
			text := strings.Join(words[j:j+span[j]], " ")
			toks = append(toks, Token{Text: text, Key: Canon(strings.ReplaceAll(text, " ", "")), Class: Honorific})
		case LegalForm:
			toks = append(toks, Token{Text: strings.Join(words[j:j+span[j]], " "), Key: code[j], Class: LegalForm})
		default:
			c := Word
			if particles[w] {
				c = Particle
			}
			toks = append(toks, Token{Text: w, Key: Canon(w), Class: c})
		}
	}
	// Keep at least one Word: "Company Limited" alone, or "Al Ahli",
	// should still be matchable by its words.
	for _, t := range toks {
		if t.Class == Word {
			return toks
		}
	}
	out := toks[:0:0]
	for _, t := range toks {
		if t.Class == Honorific {
			out = append(out, t)
			continue
		}
		for _, w := range strings.Fields(t.Text) {
			out = append(out, Token{Text: w, Key: Canon(w), Class: Word})
		}
	}
	return out
}

// joinInitials joins runs of two or more one-letter tokens into one token.
func joinInitials(words []string) []string {
	out := words[:0:0]
	for i := 0; i < len(words); {
		j := i
		for j < len(words) && len(words[j]) == 1 {
			j++
		}
		if j-i >= 2 {
			out = append(out, strings.Join(words[i:j], ""))
			i = j
			continue
		}
		out = append(out, words[i])
		i++
	}
	return out
}

// matchSeq returns the length of the longest sequence in seqs that words
// starts with, or 0.
func matchSeq(words []string, seqs [][]string) int {
	best := 0
	for _, s := range seqs {
		if len(s) > len(words) || len(s) <= best {
			continue
		}
		ok := true
		for k := range s {
			if s[k] != words[k] {
				ok = false
				break
			}
		}
		if ok {
			best = len(s)
		}
	}
	return best
}

// matchLegal returns the length and code of the longest legal form that
// words starts with.
func matchLegal(words []string) (int, string) {
	longest := legalFirst[words[0]]
	for n := min(longest, len(words)); n >= 1; n-- {
		if c, ok := legalForms[strings.Join(words[:n], " ")]; ok {
			return n, c
		}
	}
	return 0, ""
}

// Role says what a word of an organisation's name adds to it as customers
// type it: an article, a function word, a descriptor of the kind of body
// ("movement", "harakat"), or a place ("Lebanon", "Sinai"). Such words are
// optional when a name is screened: they may match a listed name's words,
// but their absence from it does not make the names differ.
type Role uint8

// Word roles; None is an ordinary name word.
const (
	None Role = iota
	Article
	Function
	Descriptor
	Place
)

// String returns the role name used in explanations.
func (r Role) String() string {
	switch r {
	case Article:
		return "article"
	case Function:
		return "function word"
	case Descriptor:
		return "descriptor"
	case Place:
		return "place"
	}
	return "word"
}

// WordRole returns the role of folded word w at position pos of a name
// (leading articles such as "al" and "el" only at position 0). Places are
// the table of regions and cities listed groups attach to their names and
// the country names of package country (four letters or more, so that
// codes such as "us" are not read as places).
func WordRole(w string, pos int) Role {
	switch {
	case articleWords[w], pos == 0 && leadingArticles[w]:
		return Article
	case functionWords[w]:
		return Function
	case descriptorWords[w]:
		return Descriptor
	case placeWords[w]:
		return Place
	case len(w) >= 4 && !strings.Contains(w, " ") && isCountryName(w):
		return Place
	}
	return None
}

// isCountryName reports whether folded w is a country's English name
// (package country's names, folded; not a code).
func isCountryName(w string) bool {
	countryOnce.Do(buildCountryNames)
	return countryNames[w]
}

var (
	countryOnce  sync.Once
	countryNames map[string]bool
)

func buildCountryNames() {
	countryNames = make(map[string]bool, 300)
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			n := country.Name(string([]rune{a, b}))
			if n == "" {
				continue
			}
			// "Myanmar (Burma)", "Congo (DRC)": each name on its own.
			for _, v := range strings.FieldsFunc(n, func(r rune) bool { return r == '(' || r == ')' }) {
				f := strings.Join(strings.Fields(Fold(v)), " ")
				if len(f) >= 4 {
					countryNames[f] = true
				}
			}
		}
	}
}

// LeadingArticle reports whether w is an article only at the start of a
// name ("al", "el", "le"), which is often part of the name itself.
func LeadingArticle(w string) bool { return leadingArticles[w] && !articleWords[w] }

// PlacePhrase reports how many of the folded words, from the first, make
// one place of two or three words: a country's name ("north korea",
// "united arab emirates"), a region ("middle east"), or a direction before
// a place ("south lebanon"). It returns 0 when none does.
func PlacePhrase(words []string) int {
	for n := min(3, len(words)); n >= 2; n-- {
		p := strings.Join(words[:n], " ")
		if placePhrases[p] || isCountryName(p) {
			return n
		}
	}
	if len(words) >= 2 && directionWords[words[0]] && WordRole(words[1], 1) == Place {
		return 2
	}
	return 0
}

// LegalWord reports whether folded w is a word of a legal form ("sal",
// "co", "limited"), which a name may hold as a word where it is not read
// as its legal form (not at the end).
func LegalWord(w string) bool {
	_, ok := legalVocab[w]
	if !ok {
		_, ok = legalForms[w]
	}
	return ok
}
