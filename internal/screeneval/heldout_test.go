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

// The held-out set: queries of every kind in dev.jsonl, made the same way
// but from SDN entries that dev.jsonl does not use, so that tuning on the
// dev set can be checked for over-fitting. Generation is seeded and
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

func typo(r *rand.Rand, s string) string {
	b := []byte(s)
	for k := 0; k < 1+r.IntN(2); k++ {
		pos := letterPositions(string(b))
		if len(pos) == 0 {
			break
		}
		i := pos[r.IntN(len(pos))]
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
	}
	return string(b)
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

func transliterate(r *rand.Rand, s string) string {
	low := strings.ToLower(s)
	for _, k := range r.Perm(len(translitRules)) {
		rule := translitRules[k]
		from, to := rule[0], rule[1]
		if r.IntN(2) == 0 {
			from, to = to, from
		}
		// never at the first letter of a word
		idx := -1
		for i := 1; i+len(from) <= len(low); i++ {
			if low[i:i+len(from)] == from && isASCIILetter(low[i-1]) {
				idx = i
				break
			}
		}
		if idx < 0 {
			continue
		}
		out := s[:idx] + to + s[idx+len(from):]
		if s[idx] >= 'A' && s[idx] <= 'Z' {
			out = s[:idx] + strings.ToUpper(to) + s[idx+len(from):]
		}
		return out
	}
	return s
}

var titles = []string{"Mr.", "Mrs.", "Dr.", "Prof.", "Sheikh", "Haji", "General", "Colonel", "Eng.", "H.E.", "Imam", "Captain", "Ms."}

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
			return sw[1] + s[len(sw[0]):]
		}
	}
	return s + " Ltd"
}

// heldOut builds the held-out cases.
func heldOut(ents []entity.Entity, used map[string]bool, neg *negChecker, seed uint64) []screeneval.Case {
	r := rand.New(rand.NewPCG(seed, 1))
	var pool []entity.Entity
	for _, e := range ents {
		if !used[strings.TrimPrefix(e.ID, "ofac-sdn:")] {
			pool = append(pool, e)
		}
	}
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
		last := len(w)
		if len(textnorm.Analyze(w[len(w)-1])) == 1 && textnorm.Analyze(w[len(w)-1])[0].Class == textnorm.LegalForm {
			last--
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
		i := 1 + r.IntN(len(w)-2)
		if e.Kind == entity.Person {
			i = r.IntN(len(w))
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
		switch r.IntN(4) {
		case 0:
			q = strings.ToLower(q)
		case 1:
			q = strings.ToUpper(q)
		case 2:
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
		return titles[r.IntN(len(titles))] + " " + natural(e), true
	})
	add("company-suffix", 100, func(e entity.Entity) (string, bool) {
		if e.Kind != entity.Organization {
			return "", false
		}
		return companySuffix(r, primary(e)), true
	})

	// Negatives: common and rare given names with common and rare
	// surnames, and made-up company names, filtered by the README's rules.
	given := []string{"Anna", "Maria", "John", "James", "David", "Michael", "Laura", "Sophie", "Lucas", "Emma", "Noah", "Olivia",
		"Liam", "Mia", "Ethan", "Chloe", "Hannah", "Jonas", "Elena", "Paolo", "Giulia", "Pierre", "Camille", "Kenji", "Yuki",
		"Priya", "Rahul", "Aisha", "Fatima", "Omar", "Chen", "Wei", "Min", "Ji", "Ana", "Lucia", "Mateo", "Sven", "Ingrid",
		"Lars", "Astrid", "Tomasz", "Agnieszka", "Dmitri", "Olga", "Nikos", "Eleni", "Kofi", "Ama", "Chidi", "Ngozi", "Tariq",
		"Leila", "Reza", "Sara", "Hugo", "Ines", "Bram", "Femke", "Aoife", "Ciaran", "Rhys", "Bronwen", "Mateus", "Thiago"}
	family := []string{"Smith", "Johnson", "Brown", "Taylor", "Wilson", "Martin", "Bernard", "Dubois", "Rossi", "Bianchi",
		"Muller", "Schmidt", "Schneider", "Garcia", "Fernandez", "Lopez", "Silva", "Santos", "Nowak", "Kowalczyk", "Novak",
		"Jensen", "Hansen", "Nielsen", "Andersson", "Virtanen", "Tanaka", "Suzuki", "Sato", "Wang", "Li", "Zhang", "Liu",
		"Patel", "Sharma", "Singh", "Okafor", "Mensah", "Haddad", "Khalil", "Yilmaz", "Demir", "Papadopoulos", "Murphy",
		"Kelly", "Walsh", "Evans", "Jones", "Davies", "Dijkstra", "Visser", "Peeters", "Janssens", "Horvath", "Popescu"}
	words := []string{"Blue", "River", "Harbor", "Summit", "Maple", "Granite", "Silver", "Lantern", "Meadow", "Orchard",
		"Falcon", "Cedar", "Beacon", "Northwind", "Pioneer", "Crescent", "Juniper", "Atlas", "Willow", "Copper"}
	trades := []string{"Bakery", "Consulting", "Logistics", "Software", "Dental", "Textiles", "Furniture", "Studios",
		"Analytics", "Brewing", "Ceramics", "Gardens", "Optics", "Tutoring", "Robotics", "Apparel"}
	forms := []string{"Ltd", "LLC", "Inc.", "GmbH", "S.A.", "B.V.", "AB", "Pty Ltd", "Co.", ""}
	for made, tries := 0, 0; made < 480 && tries < 20000; tries++ {
		var q, kind, sub string
		switch r.IntN(3) {
		case 0:
			q = given[r.IntN(len(given))] + " " + family[r.IntN(len(family))]
			kind, sub = "negative-common-name", "common"
		case 1:
			q = given[r.IntN(len(given))] + " " + given[r.IntN(len(given))] + " " + family[r.IntN(len(family))]
			kind, sub = "negative-random", "synthetic"
		default:
			q = strings.TrimSpace(words[r.IntN(len(words))] + " " + trades[r.IntN(len(trades))] + " " + forms[r.IntN(len(forms))])
			kind, sub = "negative-random", "synthetic"
		}
		if !neg.ok(q) {
			continue
		}
		typ := "individual"
		if sub == "synthetic" && strings.Count(q, " ") >= 1 && slices.ContainsFunc(trades, func(t string) bool { return strings.Contains(q, t) }) {
			typ = "entity"
		}
		out = append(out, screeneval.Case{Query: q, Type: typ, Kind: kind, Sub: sub})
		made++
	}
	return out
}

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
	cases := heldOut(ents, used, neg, 20261125)
	if os.Getenv("SCREENEVAL_HELDOUT_OUT") != "" {
		var b strings.Builder
		for _, c := range cases {
			fmt.Fprintf(&b, "%s\t%s\t%s\t%v\n", c.Kind, c.Type, c.Query, c.Expect)
		}
		os.WriteFile(os.Getenv("SCREENEVAL_HELDOUT_OUT"), []byte(b.String()), 0o644)
	}
	outs := screeneval.Run(cases, engine(ix))
	var b strings.Builder
	screeneval.Report(&b, outs, operatingThreshold)
	t.Log("held-out set\n" + b.String())
	if os.Getenv("SCREENEVAL_MISSES") != "" {
		dumpMisses(t, outs, operatingThreshold)
	}
	m := screeneval.Compute(outs, operatingThreshold)
	// Looser than the dev targets: the generator's variations are not
	// identical to dev.jsonl's, and it was not tuned against.
	if m.Top1AtT < 0.93 || m.FPR > 0.02 {
		t.Errorf("held-out at t=%.2f: recall@1 %.3f (want >= 0.93), FPR %.3f (want <= 0.02)", operatingThreshold, m.Top1AtT, m.FPR)
	}
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
