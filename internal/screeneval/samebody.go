package screeneval

import (
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/rampart-edge/rampart/internal/entity"
)

// SameBody holds which entries of the bundled lists are the same
// designated body or person listed again, on another list or under another
// id (First East Export Bank is ofac-sdn:25681, uk:17107 and un:IRe.021).
// Each group is a set of ids; a query's right answers are its expected ids
// and every id of a group holding one of them (one step, not a closure: a
// hub such as ofac-sdn:16446, which OFAC lists as one body and the UN as
// three, does not make the three UN entries each other's answers).
//
// Groups come from what the lists say, and from a hand-checked file:
//   - a UK entry's "UN Reference Number" (the UK list's un_reference_number
//     column) and the UN entry of that reference;
//   - two entries of the same kind on different lists that carry the same
//     passport, national identity, tax, registration, IMO or SWIFT/BIC
//     number;
//   - two people on different lists born on the same full date
//     (YYYY-MM-DD) whose Latin-script names share two words of four
//     letters or more (OFAC's "NKUNDA, Laurent" and the UN's LAURENT
//     NKUNDA, both 2 Feb 1967);
//   - the rows of testdata/screening-customer/same-body.tsv, checked by
//     hand, each with a note saying why (NewSameBody's hand argument).
//
// A link drawn from the lists also needs the two entries' Latin-script
// names to share a word of three letters or more, which keeps out the
// lists' own errors: the UK gives AZIM AGHAJANI the UN reference IRi.012
// (the UN's AHMAD VAHID DASTJERDI) and Dimitri Herard HTi.009 (the bundled
// UN list's KEMPES SANON), and OFAC gives TABATABAEI the two passport
// numbers the UN gives AGHAJANI.
type SameBody struct {
	groups [][]string
	byID   map[string][]int
}

// sameBodyIDTypes are the identifier types that name one body or person:
// not websites, e-mail addresses or phone numbers, which linked but
// distinct entries share, nor "other" (UK list ids, "Linked To").
var sameBodyIDTypes = []entity.IDType{entity.Passport, entity.NationalID, entity.TaxID, entity.Registration, entity.IMO, entity.SWIFT}

func idKey(v string) string {
	var b strings.Builder
	for _, r := range v {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// NewSameBody builds the groups from the listed entities and the
// hand-checked groups (each a list of ids; an id not listed is an error
// of the caller, checked by the tests).
func NewSameBody(ents []entity.Entity, hand [][]string) *SameBody {
	s := &SameBody{byID: map[string][]int{}}
	listed := make(map[string]*entity.Entity, len(ents))
	for i := range ents {
		listed[ents[i].ID] = &ents[i]
	}
	words := func(e *entity.Entity) map[string]bool {
		m := map[string]bool{}
		for _, n := range e.Names {
			if n.Script != "" {
				continue
			}
			for _, w := range strings.Fields(NormName(n.Full)) {
				if len(w) >= 3 {
					m[w] = true
				}
			}
		}
		return m
	}
	named := map[string]map[string]bool{}
	shareWord := func(a, b *entity.Entity) bool {
		for _, e := range []*entity.Entity{a, b} {
			if named[e.ID] == nil {
				named[e.ID] = words(e)
			}
		}
		for w := range named[a.ID] {
			if named[b.ID][w] {
				return true
			}
		}
		return false
	}
	add := func(ids ...string) {
		g := slices.Clone(ids)
		sort.Strings(g)
		g = slices.Compact(g)
		if len(g) < 2 {
			return
		}
		k := len(s.groups)
		s.groups = append(s.groups, g)
		for _, id := range g {
			s.byID[id] = append(s.byID[id], k)
		}
	}
	docs := map[string][]*entity.Entity{}
	for i := range ents {
		e := &ents[i]
		for _, id := range e.Identifiers {
			switch {
			case e.Source == "uk" && id.Label == "UN Reference Number":
				if un, ok := listed["un:"+id.Value]; ok && un.Kind == e.Kind && shareWord(e, un) {
					add(e.ID, un.ID)
				}
			case slices.Contains(sameBodyIDTypes, id.Type):
				if v := idKey(id.Value); len(v) >= 6 {
					k := string(id.Type) + ":" + v
					if !slices.Contains(docs[k], e) {
						docs[k] = append(docs[k], e)
					}
				}
			}
		}
	}
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		es := docs[k]
		for i, a := range es {
			for _, b := range es[i+1:] {
				if a.Source != b.Source && a.Kind == b.Kind && shareWord(a, b) {
					add(a.ID, b.ID)
				}
			}
		}
	}
	// People: the same full date of birth and two name words.
	type dobWord struct{ dob, word string }
	born := map[dobWord][]int{}
	for i := range ents {
		e := &ents[i]
		if e.Kind != entity.Person {
			continue
		}
		words := map[string]bool{}
		for _, n := range e.Names {
			if n.Script != "" {
				continue
			}
			for _, w := range strings.Fields(NormName(n.Full)) {
				if len(w) >= 4 {
					words[w] = true
				}
			}
		}
		for _, d := range e.BirthDates {
			if len(d) != len("2006-01-02") || d[4] != '-' || d[7] != '-' {
				continue
			}
			for w := range words {
				born[dobWord{d, w}] = append(born[dobWord{d, w}], i)
			}
		}
	}
	shared := map[[2]int]int{}
	for _, is := range born {
		for x, a := range is {
			for _, b := range is[x+1:] {
				if ents[a].Source != ents[b].Source {
					shared[[2]int{min(a, b), max(a, b)}]++
				}
			}
		}
	}
	var pairs [][2]int
	for p, n := range shared {
		if n >= 2 {
			pairs = append(pairs, p)
		}
	}
	slices.SortFunc(pairs, func(x, y [2]int) int {
		if x[0] != y[0] {
			return x[0] - y[0]
		}
		return x[1] - y[1]
	})
	for _, p := range pairs {
		add(ents[p[0]].ID, ents[p[1]].ID)
	}
	for _, g := range hand {
		add(g...)
	}
	return s
}

// Groups returns every group (sorted ids), in the order made.
func (s *SameBody) Groups() [][]string { return s.groups }

// Expand returns ids with every id of a group holding one of them, sorted;
// nil for none (a negative stays a negative).
func (s *SameBody) Expand(ids []string) []string {
	if len(ids) == 0 {
		return ids
	}
	out := slices.Clone(ids)
	for _, id := range ids {
		for _, k := range s.byID[id] {
			for _, o := range s.groups[k] {
				if !slices.Contains(out, o) {
					out = append(out, o)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}
