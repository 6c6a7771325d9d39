package screeneval_test

import (
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/screeneval"
	"github.com/rampart-edge/rampart/internal/textnorm"
)

// The held-out sets: queries of every kind in dev.jsonl, made by the
// README's recipe (and checked against dev.jsonl's own statistics: at most
// one typing error per word, a quarter of typo queries with two; legal
// forms kept last in word-order; transliteration on name words only;
// common, shared-token and synthetic negatives) but from SDN entries that
// dev.jsonl does not use, split into three disjoint pools, so that tuning
// on the dev set can be checked for over-fitting. Generation is seeded and
// deterministic. Negatives are filtered by the README's rules.

// negChecker applies the README's negative rules against every listed name:
// a negative is dropped when it equals a listed name in any word order,
// shares two or more significant tokens with one listed name (exactly or
// with Jaro-Winkler >= 0.90), or covers every significant token of one.
type negChecker struct {
	names    [][]string         // significant tokens per listed name
	byToken  map[string][]int32 // token -> listed names holding it
	byFirst  map[byte][]string  // distinct tokens by first letter
	simCache map[string][]string
}

func significant(name string) []string {
	var out []string
	for _, t := range textnorm.Analyze(name) {
		if t.Class == textnorm.Word && len(t.Text) > 1 {
			out = append(out, t.Text)
		}
	}
	return out
}

func newNegChecker(ents []entity.Entity) *negChecker {
	c := &negChecker{byToken: map[string][]int32{}, byFirst: map[byte][]string{}, simCache: map[string][]string{}}
	for _, e := range ents {
		for _, n := range e.Names {
			toks := significant(n.Full)
			if len(toks) == 0 {
				continue
			}
			id := int32(len(c.names))
			c.names = append(c.names, toks)
			for _, t := range toks {
				if _, ok := c.byToken[t]; !ok {
					c.byFirst[t[0]] = append(c.byFirst[t[0]], t)
				}
				if l := c.byToken[t]; len(l) == 0 || l[len(l)-1] != id {
					c.byToken[t] = append(c.byToken[t], id)
				}
			}
		}
	}
	return c
}

// similar returns the listed tokens equal to t or with JW >= 0.90.
func (c *negChecker) similar(t string) []string {
	if s, ok := c.simCache[t]; ok {
		return s
	}
	var out []string
	for _, first := range []byte{t[0]} {
		for _, v := range c.byFirst[first] {
			if v == t || textnorm.JaroWinkler(t, v) >= 0.90 {
				out = append(out, v)
			}
		}
	}
	// Jaro-Winkler >= 0.90 with a different first letter needs a long,
	// near-identical token; check the exact token at least.
	if len(out) == 0 {
		if _, ok := c.byToken[t]; ok {
			out = append(out, t)
		}
	}
	c.simCache[t] = out
	return out
}

// ok reports whether query is a valid negative.
func (c *negChecker) ok(query string) bool {
	q := significant(query)
	if len(q) == 0 {
		return false
	}
	shared := map[int32]int{}
	for _, t := range slices.Compact(slices.Sorted(slices.Values(q))) {
		hit := map[int32]bool{}
		for _, v := range c.similar(t) {
			for _, id := range c.byToken[v] {
				hit[id] = true
			}
		}
		for id := range hit {
			shared[id]++
		}
	}
	for id, n := range shared {
		if n >= 2 || n >= len(slices.Compact(slices.Sorted(slices.Values(c.names[id])))) {
			return false
		}
	}
	return true
}

var keyboardNeighbours = map[byte]string{
	'q': "wa", 'w': "qes", 'e': "wrd", 'r': "etf", 't': "ryg", 'y': "tuh", 'u': "yij", 'i': "uok", 'o': "ipl", 'p': "ol",
	'a': "qsz", 's': "awdz", 'd': "sefx", 'f': "drgc", 'g': "fthv", 'h': "gyjb", 'j': "hukn", 'k': "jilm", 'l': "kop",
	'z': "asx", 'x': "zsdc", 'c': "xdfv", 'v': "cfgb", 'b': "vghn", 'n': "bhjm", 'm': "njk",
}

// letterPositions returns the indexes of letters that are not the first
// letter of a word.
func letterPositions(s string) []int {
	var out []int
	for i := 1; i < len(s); i++ {
		if isASCIILetter(s[i]) && isASCIILetter(s[i-1]) {
			out = append(out, i)
		}
	}
	return out
}

func isASCIILetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

// typo makes one keyboard edit (a neighbouring key substituted or
// inserted, or a letter deleted), or two with probability 1/4, as dev.jsonl
// does: never on the first letter of a word, never twice in one word, only
// in words of three letters or more.
func typo(r *rand.Rand, s string) string {
	b := []byte(s)
	n := 1
	if r.IntN(4) == 0 {
		n = 2
	}
	hit := map[int]bool{} // word starts already edited
	for k := 0; k < n; k++ {
		var pos []int
		for _, i := range letterPositions(string(b)) {
			st, end := wordBounds(b, i)
			if !hit[st] && end-st >= 3 {
				pos = append(pos, i)
			}
		}
		if len(pos) == 0 {
			break
		}
		i := pos[r.IntN(len(pos))]
		st, _ := wordBounds(b, i)
		lower := b[i] | 0x20
		nb := keyboardNeighbours[lower]
		upper := b[i] != lower
		repl := func() byte {
			c := nb[r.IntN(len(nb))]
			if upper {
				c &^= 0x20
			}
			return c
		}
		switch r.IntN(3) {
		case 0:
			b[i] = repl()
		case 1:
			b = append(b[:i], b[i+1:]...)
		default:
			b = append(b[:i], append([]byte{repl()}, b[i:]...)...)
		}
		// Later word starts shift by at most one byte; mark the edited
		// word by its start, which does not move.
		hit[st] = true
	}
	return string(b)
}

// wordBounds returns the start and end of the run of ASCII letters
// around index i.
func wordBounds(b []byte, i int) (int, int) {
	st, end := i, i
	for st > 0 && isASCIILetter(b[st-1]) {
		st--
	}
	for end < len(b) && isASCIILetter(b[end]) {
		end++
	}
	return st, end
}

func transpose(r *rand.Rand, s string) string {
	b := []byte(s)
	var pos []int
	for i := 1; i+1 < len(b); i++ {
		if isASCIILetter(b[i]) && isASCIILetter(b[i+1]) && isASCIILetter(b[i-1]) && b[i] != b[i+1] {
			pos = append(pos, i)
		}
	}
	if len(pos) == 0 {
		return s
	}
	i := pos[r.IntN(len(pos))]
	b[i], b[i+1] = b[i+1], b[i]
	return string(b)
}

var accents = map[rune][]rune{'a': {'á', 'à', 'ä'}, 'e': {'é', 'è', 'ë'}, 'i': {'í', 'ï'}, 'o': {'ó', 'ö'}, 'u': {'ú', 'ü'}, 'n': {'ñ'}, 'c': {'ç'}, 's': {'ş'}}

func accent(r *rand.Rand, s string) string {
	rs := []rune(s)
	var pos []int
	for i, c := range rs {
		if _, ok := accents[unicode.ToLower(c)]; ok {
			pos = append(pos, i)
		}
	}
	if len(pos) == 0 {
		return s
	}
	for k := 0; k < 1+r.IntN(2); k++ {
		i := pos[r.IntN(len(pos))]
		l := unicode.ToLower(rs[i])
		if len(accents[l]) == 0 {
			continue // accented already
		}
		c := accents[l][r.IntN(len(accents[l]))]
		if rs[i] != l {
			c = unicode.ToUpper(c)
		}
		rs[i] = c
	}
	return string(rs)
}

// translitRules are generic romanisation swaps (either direction).
var translitRules = [][2]string{
	{"ey", "ei"}, {"iy", "i"}, {"y", "i"}, {"ou", "u"}, {"kh", "h"}, {"ph", "f"}, {"mm", "m"}, {"dd", "d"},
	{"ss", "s"}, {"ll", "l"}, {"v", "w"}, {"ks", "x"}, {"q", "k"}, {"ee", "i"}, {"oo", "u"}, {"c", "k"},
	{"ai", "ay"}, {"ie", "ye"}, {"j", "y"}, {"yu", "iu"}, {"ya", "ia"}, {"ah", "a"}, {"ff", "f"},
}

// transliterate applies one generic romanisation swap to a name word
// (never to a particle, title or legal form, and never at the first
// letter of a word), at a random place where it applies.
func transliterate(r *rand.Rand, s string) string {
	words := strings.Fields(s)
	nameWords := map[string]bool{}
	for _, t := range textnorm.Analyze(s) {
		if t.Class == textnorm.Word {
			nameWords[t.Text] = true
		}
	}
	var eligible []int
	for i, w := range words {
		if len(w) >= 3 && nameWords[textnorm.Fold(w)] {
			eligible = append(eligible, i)
		}
	}
	if len(eligible) == 0 {
		return s
	}
	for _, k := range r.Perm(len(translitRules)) {
		rule := translitRules[k]
		from, to := rule[0], rule[1]
		if r.IntN(2) == 0 {
			from, to = to, from
		}
		type site struct{ w, i int }
		var sites []site
		for _, wi := range eligible {
			low := strings.ToLower(words[wi])
			for i := 1; i+len(from) <= len(low); i++ {
				if low[i:i+len(from)] == from {
					sites = append(sites, site{wi, i})
				}
			}
		}
		if len(sites) == 0 {
			continue
		}
		st := sites[r.IntN(len(sites))]
		w := words[st.w]
		rep := to
		if w[st.i] >= 'A' && w[st.i] <= 'Z' {
			rep = strings.ToUpper(to)
		}
		words[st.w] = w[:st.i] + rep + w[st.i+len(from):]
		return strings.Join(words, " ")
	}
	return s
}

var titles = []string{"Mr.", "Mrs.", "Dr.", "Prof.", "Sheikh", "Haji", "General", "Colonel", "Eng.", "H.E.", "Imam", "Captain", "Ms.",
	"Sir", "Mullah", "Madame", "Sayyid", "Lieutenant", "Maulana"}

// legalSwaps replace a legal form with an equivalent one.
var legalSwaps = [][2]string{
	{"LIMITED LIABILITY COMPANY", "LLC"}, {"LLC", "Limited Liability Company"}, {"OOO", "LLC"},
	{"JOINT STOCK COMPANY", "JSC"}, {"JSC", "Joint Stock Company"}, {"AO", "JSC"}, {"OAO", "JSC"}, {"PAO", "PJSC"},
	{"CO., LTD.", "Company Limited"}, {"CO., LTD", "Co Ltd"}, {"COMPANY LIMITED", "Co., Ltd."}, {"LIMITED", "Ltd"}, {"LTD", "Limited"},
	{"S.A.", "SA"}, {"INC.", "Incorporated"}, {"CORP.", "Corporation"}, {"CORPORATION", "Corp"}, {"GMBH", "GmbH"},
	{"S.A. DE C.V.", "SA de CV"}, {"FZE", "F.Z.E."}, {"CO.", "Company"}, {"COMPANY", "Co."},
}

func companySuffix(r *rand.Rand, s string) string {
	up := strings.ToUpper(s)
	for _, k := range r.Perm(len(legalSwaps)) {
		sw := legalSwaps[k]
		if strings.HasSuffix(up, " "+sw[0]) {
			if r.IntN(3) == 0 {
				return strings.TrimRight(strings.TrimSpace(s[:len(s)-len(sw[0])]), ",")
			}
			return s[:len(s)-len(sw[0])] + sw[1]
		}
		if strings.HasPrefix(up, sw[0]+" ") {
			if r.IntN(3) == 0 {
				return strings.TrimSpace(s[len(sw[0]):])
			}
			return sw[1] + s[len(sw[0]):]
		}
	}
	return s + " Ltd"
}

// heldOutPools splits the SDN entries that dev.jsonl does not use into n
// disjoint pools, in a fixed (seeded) random order, so that the held-out
// sets share no entry with dev.jsonl or with each other.
func heldOutPools(ents []entity.Entity, used map[string]bool, n int) [][]entity.Entity {
	var pool []entity.Entity
	for _, e := range ents {
		if !used[strings.TrimPrefix(e.ID, "ofac-sdn:")] {
			pool = append(pool, e)
		}
	}
	r := rand.New(rand.NewPCG(20261125, 7))
	r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	out := make([][]entity.Entity, n)
	for i, e := range pool {
		out[i%n] = append(out[i%n], e)
	}
	return out
}

// heldOut builds one held-out set from pool (entries not in dev.jsonl) and
// the whole list ents (for shared-token negatives), with the given seed.
func heldOut(pool, ents []entity.Entity, neg *negChecker, seed uint64) []screeneval.Case {
	r := rand.New(rand.NewPCG(seed, 1))
	pool = slices.Clone(pool)
	r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	typeOf := func(e entity.Entity) string {
		if r.IntN(9) == 0 {
			return "any"
		}
		switch e.Kind {
		case entity.Person:
			return "individual"
		case entity.Organization:
			return "entity"
		}
		return string(e.Kind)
	}
	var out []screeneval.Case
	next := 0
	add := func(kind string, n int, mk func(e entity.Entity) (string, bool)) {
		made := 0
		for made < n && next < len(pool) {
			e := pool[next]
			next++
			q, ok := mk(e)
			if !ok || strings.TrimSpace(q) == "" {
				continue
			}
			out = append(out, screeneval.Case{Query: q, Type: typeOf(e), Expect: []string{strings.TrimPrefix(e.ID, "ofac-sdn:")}, Kind: kind})
			made++
		}
	}
	primary := func(e entity.Entity) string { return e.Names[0].Full }
	natural := func(e entity.Entity) string {
		n := e.Names[0]
		if r.IntN(2) == 0 && n.Given != "" {
			return n.Given + " " + strings.ToUpper(n.Family)
		}
		return titleCase(n.Full)
	}
	add("exact", 160, func(e entity.Entity) (string, bool) { return primary(e), true })
	add("alias", 160, func(e entity.Entity) (string, bool) {
		for _, n := range e.Names[1:] {
			if n.Strength == entity.Strong && textnorm.Fold(n.Full) != textnorm.Fold(e.Names[0].Full) {
				return n.Full, true
			}
		}
		return "", false
	})
	add("typo", 200, func(e entity.Entity) (string, bool) { return typo(r, natural(e)), true })
	add("transposition", 140, func(e entity.Entity) (string, bool) {
		q := transpose(r, natural(e))
		return q, q != natural(e)
	})
	add("word-order", 140, func(e entity.Entity) (string, bool) {
		n := e.Names[0]
		if e.Kind == entity.Person && n.Family != "" {
			return n.Family + " " + n.Given, true
		}
		w := strings.Fields(n.Full)
		if len(w) < 2 {
			return "", false
		}
		// The trailing legal form, of one or more words ("S.A. DE
		// C.V."), stays last.
		last := len(w)
		for k := min(4, len(w)-1); k >= 1; k-- {
			// Legal forms are recognised after a name word only.
			toks := textnorm.Analyze("Name " + strings.Join(w[len(w)-k:], " "))
			if len(toks) > 1 && !slices.ContainsFunc(toks[1:], func(t textnorm.Token) bool { return t.Class != textnorm.LegalForm }) {
				last = len(w) - k
				break
			}
		}
		if last < 2 {
			return "", false
		}
		head := slices.Clone(w[:last])
		for k := 0; k < 4 && slices.Equal(head, w[:last]); k++ {
			r.Shuffle(len(head), func(i, j int) { head[i], head[j] = head[j], head[i] })
		}
		return strings.Join(append(head, w[last:]...), " "), true
	})
	add("missing-token", 140, func(e entity.Entity) (string, bool) {
		w := strings.Fields(natural(e))
		if len(w) < 3 {
			return "", false
		}
		// This draw is unused but kept, so that the seeded sets stay
		// as they are.
		r.IntN(len(w) - 2)
		var i int
		if e.Kind == entity.Person {
			i = r.IntN(len(w))
		} else {
			// An inner word of an organisation's name, not a piece
			// of its legal form or a particle.
			nameWords := map[string]bool{}
			for _, t := range textnorm.Analyze(strings.Join(w, " ")) {
				if t.Class == textnorm.Word {
					nameWords[t.Text] = true
				}
			}
			var inner []int
			for k := 1; k < len(w)-1; k++ {
				if nameWords[textnorm.Fold(w[k])] {
					inner = append(inner, k)
				}
			}
			if len(inner) == 0 {
				return "", false
			}
			i = inner[r.IntN(len(inner))]
		}
		return strings.Join(slices.Delete(slices.Clone(w), i, i+1), " "), true
	})
	add("diacritics", 120, func(e entity.Entity) (string, bool) {
		q := accent(r, natural(e))
		return q, q != natural(e)
	})
	add("transliteration", 140, func(e entity.Entity) (string, bool) {
		q := transliterate(r, natural(e))
		return q, q != natural(e)
	})
	add("case-punct", 120, func(e entity.Entity) (string, bool) {
		q := natural(e)
		// Mostly case and hyphens; now and then two words run together.
		switch r.IntN(7) {
		case 0, 4:
			q = strings.ToLower(q)
		case 1, 5:
			q = strings.ToUpper(q)
		case 2, 6:
			q = strings.Replace(q, " ", "-", 1)
		default:
			w := strings.Fields(q)
			if len(w) < 3 {
				return "", false
			}
			i := r.IntN(len(w) - 1)
			q = strings.Join(append(append(slices.Clone(w[:i]), w[i]+w[i+1]), w[i+2:]...), " ")
		}
		return q, true
	})
	add("honorific", 100, func(e entity.Entity) (string, bool) {
		if e.Kind != entity.Person {
			return "", false
		}
		q := natural(e)
		// A title in the listed name is dropped instead of one added.
		if toks := textnorm.Analyze(q); len(toks) > 1 && toks[0].Class == textnorm.Honorific {
			if w := strings.Fields(q); len(w) > 1 {
				return strings.Join(w[1:], " "), true
			}
		}
		return titles[r.IntN(len(titles))] + " " + q, true
	})
	add("company-suffix", 100, func(e entity.Entity) (string, bool) {
		if e.Kind != entity.Organization {
			return "", false
		}
		return companySuffix(r, primary(e)), true
	})

	// Negatives, as in dev.jsonl: a quarter "common" (frequent given
	// names and surnames, or made-up everyday company names), a quarter
	// "shared-token" (a common given name with a listed surname, or a
	// made-up company word with a listed organisation word) and half
	// "synthetic" (rarer multi-cultural names, made-up company names);
	// all filtered by the README's rules.
	var surnames, orgWords []string
	for _, e := range ents {
		n := e.Names[0]
		switch {
		case e.Kind == entity.Person && n.Family != "":
			if f := strings.Fields(n.Family); len(f) > 0 && len(f[len(f)-1]) > 3 {
				surnames = append(surnames, titleCase(f[len(f)-1]))
			}
		case e.Kind == entity.Organization:
			for _, t := range textnorm.Analyze(n.Full) {
				if t.Class == textnorm.Word && len(t.Text) > 3 {
					orgWords = append(orgWords, titleCase(t.Text))
				}
			}
		}
	}
	pick := func(l []string) string { return l[r.IntN(len(l))] }
	for made, tries := 0, 0; made < 480 && tries < 50000; tries++ {
		var q, kind, sub, typ string
		org := r.IntN(3) == 0
		switch k := r.IntN(4); {
		case k == 0 && !org:
			q = pick(commonGiven) + " " + pick(commonFamily)
			if r.IntN(4) == 0 {
				q = pick(commonGiven) + " " + pick(commonFamily) + " " + pick(commonFamily)
			}
			kind, sub = "negative-common-name", "common"
		case k == 0:
			q = pick(commonWords) + " " + pick(trades) + " " + pick(forms)
			kind, sub = "negative-common-name", "common"
		case k == 1 && !org:
			q = pick(commonGiven) + " " + pick(surnames)
			kind, sub = "negative-common-name", "shared-token"
		case k == 1:
			q = pick(rareWords) + " " + pick(orgWords) + " " + pick(forms)
			kind, sub = "negative-common-name", "shared-token"
		case !org:
			q = pick(rareGiven) + " " + pick(rareFamily)
			if r.IntN(4) == 0 {
				q = pick(rareGiven) + " " + pick(rareGiven) + " " + pick(rareFamily)
			}
			kind, sub = "negative-random", "synthetic"
		default:
			q = pick(rareWords) + " " + pick(trades) + " " + pick(forms)
			kind, sub = "negative-random", "synthetic"
		}
		q = strings.TrimSpace(q)
		if !neg.ok(q) {
			continue
		}
		typ = "individual"
		if org {
			typ = "entity"
		}
		if r.IntN(9) == 0 {
			typ = "any"
		}
		out = append(out, screeneval.Case{Query: q, Type: typ, Kind: kind, Sub: sub})
		made++
	}
	return out
}

// Name pools for the held-out negatives.
var (
	commonGiven = strings.Fields(`Anna Maria John James David Michael Laura Sophie Lucas Emma Noah Olivia Liam Mia Ethan Chloe
		Hannah Jonas Elena Paolo Giulia Pierre Camille Kenji Yuki Priya Rahul Aisha Fatima Omar Chen Wei Ana Lucia Mateo Sven
		Ingrid Lars Tomasz Olga Nikos Eleni Kofi Sara Hugo Ines Robert Mary Patricia Jennifer Linda William Richard Thomas
		Susan Karen Daniel Paul Mark George Peter Julia Marco Luca Giovanni Carlos Juan Jose Luis Ahmed Mohamed Ali Mehmet
		Ayse Hans Klaus Petra Jan Eva Marie Louis Sarah Kevin Brian Nancy Lisa Emily Jessica Andrew Steven Sandra Helen`)
	commonFamily = strings.Fields(`Smith Johnson Brown Taylor Wilson Martin Bernard Dubois Rossi Bianchi Muller Schmidt Schneider
		Garcia Fernandez Lopez Silva Santos Nowak Kowalczyk Novak Jensen Hansen Nielsen Andersson Virtanen Tanaka Suzuki Sato
		Wang Li Zhang Liu Patel Sharma Singh Okafor Mensah Haddad Yilmaz Demir Murphy Kelly Walsh Evans Jones Davies Visser
		Peeters Janssens Horvath Popescu Williams Miller Davis Moore Anderson Thomas Jackson White Harris Clark Lewis Robinson
		Walker Young Allen King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips Turner`)
	rareGiven = strings.Fields(`Ignatius Rosalind Siegfried Cathal Bronwen Aoife Ciaran Rhys Femke Bram Astrid Agnieszka Dmitri
		Chidi Ngozi Ama Tariq Leila Reza Thiago Mateus Isolde Leopold Wilhelmina Evander Soren Linnea Tove Eero Aino Kalani
		Makoa Anahera Tane Wiremu Ximena Itzel Yaretzi Araceli Bolat Dinara Zhanna Temirlan Gulnaz Rustam Nodira Farrukh
		Oksana Taras Bohdan Marek Zdenka Vojtech Lenka Radovan Jelena Dragan Milica Vesna Tiberiu Ileana Sorin Bogdana
		Kwabena Yaw Efua Adaeze Obinna Nneka Thandiwe Sipho Lerato Themba Anouk Maarten Sanne Joris Ottilie Florian Cosima
		Benedikt Philippa Peregrine Cressida Alistair Lachlan Hamish Morag Seonaid Tadhg Niamh Eithne Pilar Rocio Inmaculada
		Nuno Joaquim Leonor Tiago Hyun Seo Jiwoo Haruto Sakura Ren Minh Thao Linh Anong Somchai Kanya Arjun Ishaan Ananya`)
	rareFamily = strings.Fields(`Cartwright Holmberg Hinojosa Kobayashi Quesada Fairweather Blackwood Thistlewood Pemberton
		Ashcombe Lindqvist Sjoberg Nyberg Halvorsen Kallio Jarvinen Tamm Saar Ozolins Berzina Petrauskas Vaitkus Dvorak
		Prochazka Kucera Zelenka Wojcik Kaminski Lewandowska Szabo Farkas Molnar Toth Ionescu Dumitrescu Constantin Petrovic
		Jovanovic Nikolic Kovacic Babic Hadzic Dimitrov Georgiev Angelov Papadakis Karamanlis Oyelaran Adeyemi Okonkwo Nwosu
		Asante Boateng Owusu Nkosi Dlamini Mokoena Vermeulen Bakker Hendriks Schoonhoven Achterberg
		Brandstetter Hofstadter Wittgenstein Obermeier Lichtenberg Rasmussen Kjaergaard Thorsen Gudmundsson Sigurdsson
		Castellano Montenegro Villalobos Echeverria Arriaga Goicoechea Cavalcanti Brambilla Zanetti Lombardi Esposito
		Nakamura Matsumoto Yamaguchi Inoue Takahashi Nguyen Tran Pham Srisuk Wongsakul Chaudhary Iyer Menon Banerjee`)
	commonWords = strings.Fields(`Blue Green River Harbor Summit Maple Silver Golden Sun Star City Global Prime First United
		National Royal Central Pacific Atlantic North South East West Eagle Lion Oak Pine Lake Hill Park Bridge`)
	rareWords = strings.Fields(`Granite Lantern Meadow Orchard Falcon Cedar Beacon Northwind Pioneer Crescent Juniper Atlas
		Willow Copper Larkspur Umber Isotope Quill Saffron Tamarind Wren Heron Bramble Thistle Cobalt Indigo Marigold Pebble
		Driftwood Foxglove Kestrel Ember Glacier Hazel Ivory Jasper Lumen Mosaic Nimbus Opal Pinnacle Quartz Russet Sable
		Topaz Verdant Zephyr Alder Birch Canyon Dune Fern Grove Harvest Inlet Kite Lagoon Mistral Nectar Oriel Prism Ripple`)
	trades = strings.Fields(`Bakery Consulting Logistics Software Dental Textiles Furniture Studios Analytics Brewing
		Ceramics Gardens Optics Tutoring Robotics Apparel Florist Hosting Fitness Catering Plumbing Roofing Printing Design
		Media Pharmacy Veterinary Accounting Architects Cleaning Security Travel Realty Interiors Cosmetics Bicycles`)
	forms = []string{"Ltd", "LLC", "Inc.", "GmbH", "S.A.", "B.V.", "AB", "Pty Ltd", "Co.", "", "", ""}
)

func titleCase(s string) string {
	w := strings.Fields(strings.ToLower(s))
	for i, x := range w {
		if x != "" {
			w[i] = strings.ToUpper(x[:1]) + x[1:]
		}
	}
	return strings.Join(w, " ")
}

func TestHeldOut(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the full SDN list")
	}
	ix, ents := sdnIndex(t)
	dev, err := screeneval.Load(repoPath("testdata", "screening-eval", "dev.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, c := range dev {
		for _, id := range c.Expect {
			used[id] = true
		}
	}
	neg := newNegChecker(ents)
	pools := heldOutPools(ents, used, len(heldOutSets))
	for k, hs := range heldOutSets {
		t.Run(hs.name, func(t *testing.T) {
			if hs.name == "final" && os.Getenv("SCREENEVAL_FINAL") == "" {
				t.Skip("the final held-out set is run only with SCREENEVAL_FINAL=1")
			}
			cases := heldOut(pools[k], ents, neg, hs.seed)
			if out := os.Getenv("SCREENEVAL_HELDOUT_OUT"); out != "" {
				var b strings.Builder
				for _, c := range cases {
					fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%v\n", c.Kind, c.Sub, c.Type, c.Query, c.Expect)
				}
				if err := os.WriteFile(out+"."+hs.name, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			outs := screeneval.Run(cases, engine(ix))
			var b strings.Builder
			screeneval.Report(&b, outs, operatingThreshold)
			t.Log("held-out set " + hs.name + "\n" + b.String())
			if os.Getenv("SCREENEVAL_MISSES") != "" {
				dumpMisses(t, outs, operatingThreshold)
			}
			m := screeneval.Compute(outs, operatingThreshold)
			if m.Top1AtT < hs.top1 || m.Top5AtT < hs.top5 || m.FPR > hs.fpr {
				t.Errorf("held-out %s at t=%.2f: recall@1 %.3f (want >= %.3f), recall@5 %.3f (want >= %.3f), FPR %.3f (want <= %.3f)",
					hs.name, operatingThreshold, m.Top1AtT, hs.top1, m.Top5AtT, hs.top5, m.FPR, hs.fpr)
			}
		})
	}
}

// heldOutSets are the held-out sets: disjoint SDN entries, each with its
// own seed. "a" and "b" were used to find general causes of misses; "final"
// was measured once, after the changes, for an honest figure, and is run
// only with SCREENEVAL_FINAL=1 so that it is not tuned against. The floors
// (recall@1 and recall@5 at the operating threshold, FPR) are regression
// guards about 0.01 under what was measured.
var heldOutSets = []struct {
	name            string
	seed            uint64
	top1, top5, fpr float64
}{
	{"a", 20261125, 0.965, 0.975, 0.01},  // measured 0.978, 0.988, 0.002
	{"b", 4242, 0.97, 0.978, 0.01},       // measured 0.982, 0.988, 0.002
	{"final", 777001, 0.96, 0.972, 0.01}, // measured 0.971, 0.983, 0.002
}

// TestExternalNegatives screens OpenSanctions' synthetic person records
// (yente validation fixtures) that pass the README's negative rules against
// this SDN copy, and checks the false positive rate at the threshold.
func TestExternalNegatives(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the full SDN list")
	}
	ix, ents := sdnIndex(t)
	neg := newNegChecker(ents)
	var cases []screeneval.Case
	dropped := 0
	for _, f := range []string{"yente-negatives_us.csv", "yente-negatives_global.csv"} {
		fh, err := os.Open(repoPath("testdata", "screening-eval", "external", f))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(fh).ReadAll()
		fh.Close()
		if err != nil {
			t.Fatalf("reading %s: %v", f, err)
		}
		for _, rec := range recs[1:] {
			if !neg.ok(rec[0]) {
				dropped++
				continue
			}
			cases = append(cases, screeneval.Case{Query: rec[0], Type: "individual", Kind: "negative-yente", Sub: f})
		}
	}
	outs := screeneval.Run(cases, engine(ix))
	m := screeneval.Compute(outs, operatingThreshold)
	t.Logf("yente negatives: %d kept, %d dropped by the negative rules; FPR@%.2f = %.4f", len(cases), dropped, operatingThreshold, m.FPR)
	if os.Getenv("SCREENEVAL_MISSES") != "" {
		dumpMisses(t, outs, operatingThreshold)
	}
	if len(cases) < 500 {
		t.Errorf("only %d yente negatives kept", len(cases))
	}
	if m.FPR > 0.01 {
		t.Errorf("yente FPR@%.2f = %.4f, want <= 0.01", operatingThreshold, m.FPR)
	}
}

// TestHeldOutSeeds measures twelve more held-out sets (seeds 100-111, on
// the pools of sets a and b, never final's) for a steadier figure than
// one sample: 18,240 positives and 5,760 negatives. It takes a while, so
// it runs only with SCREENEVAL_SEEDS=1.
func TestHeldOutSeeds(t *testing.T) {
	if os.Getenv("SCREENEVAL_SEEDS") == "" {
		t.Skip("runs only with SCREENEVAL_SEEDS=1")
	}
	ix, ents := sdnIndex(t)
	dev, err := screeneval.Load(repoPath("testdata", "screening-eval", "dev.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, c := range dev {
		for _, id := range c.Expect {
			used[id] = true
		}
	}
	neg := newNegChecker(ents)
	pools := heldOutPools(ents, used, len(heldOutSets))
	var outs []screeneval.Outcome
	for seed := uint64(100); seed < 112; seed++ {
		outs = append(outs, screeneval.Run(heldOut(pools[seed%2], ents, neg, seed), engine(ix))...)
	}
	var b strings.Builder
	screeneval.Report(&b, outs, operatingThreshold)
	t.Log("held-out seeds 100-111\n" + b.String())
	if os.Getenv("SCREENEVAL_MISSES") != "" {
		dumpMisses(t, outs, operatingThreshold)
	}
	m := screeneval.Compute(outs, operatingThreshold)
	if m.Top1AtT < 0.97 || m.Top5AtT < 0.98 || m.FPR > 0.01 {
		t.Errorf("held-out seeds at t=%.2f: recall@1 %.3f (want >= 0.97), recall@5 %.3f (want >= 0.98), FPR %.4f (want <= 0.01)",
			operatingThreshold, m.Top1AtT, m.Top5AtT, m.FPR)
	}
}
