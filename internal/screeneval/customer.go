package screeneval

// Issue 12's evaluation set: names of designated organisations as
// customers type them (articles, descriptors, places, legal forms and
// acronyms added; "X (Y)", "X - Y", "X / Y"; look-alike letters of other
// scripts mixed in), the UN list's original-script names (screened against
// an index built without them), hand-written Arabic- and Cyrillic-script
// names of listed groups, and hand-collected hard negatives. The Latin
// forms are made here by a seeded, deterministic generator
// (CustomerForms); the hand-written parts are TSV files read by ReadTSV.
// testdata/screening-customer/README.md says how the files were made.

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/rampart-edge/rampart/internal/entity"
)

// Kinds of issue 12 cases.
const (
	KindLatinForm  = "latin-form"    // a listed name with words added, as customers write it
	KindLookalike  = "lookalike"     // a listed name with look-alike letters of other scripts
	KindNative     = "native-script" // a UN original-script name; the index leaves them out
	KindScriptHand = "script-hand"   // a hand-written Arabic- or Cyrillic-script name of a group
	KindHardNeg    = "hard-negative" // a real lawful organisation sharing words with listed ones
)

// ReadTSV reads a hand-written tab-separated file: '#' starts a comment
// line, blank lines are skipped, every other line must have exactly n
// fields, none of them empty after trimming except the last. Fields are
// trimmed. An error names the line.
func ReadTSV(r io.Reader, n int) ([][]string, error) {
	if n < 1 {
		return nil, fmt.Errorf("tsv: want at least one field, got %d", n)
	}
	var out [][]string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64*1024)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if t := strings.TrimSpace(s); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		f := strings.Split(s, "\t")
		if len(f) != n {
			return nil, fmt.Errorf("line %d: %d fields, want %d", line, len(f), n)
		}
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
			if f[i] == "" && i < n-1 {
				return nil, fmt.Errorf("line %d: field %d is empty", line, i+1)
			}
		}
		out = append(out, f)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	return out, nil
}

// NormName is the key under which two listed names count as the same:
// upper case, letters and digits only, words separated by one space.
func NormName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToUpper(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		if r == '\'' || r == '’' || r == '`' {
			continue // AL-QA'IDA = AL QAIDA
		}
		space = true
	}
	return b.String()
}

// Designated reports whether e is an organisation of issue 12's scope: an
// OFAC SDN entity under a terrorism program (SDGT, FTO), a UN entity, or a
// UK entity under the ISIL/al-Qaida regime (AQD).
func Designated(e *entity.Entity) bool {
	if e.Kind != entity.Organization {
		return false
	}
	switch e.Source {
	case "ofac-sdn":
		return slices.Contains(e.Programs, "SDGT") || slices.Contains(e.Programs, "FTO")
	case "un":
		return true
	case "uk":
		return slices.Contains(e.Programs, "AQD")
	}
	return false
}

// NameIDs maps NormName of every Latin-script name of an organisation to
// the ids of the organisations bearing it: a query made from a name is
// right when it finds any of them (the same group on several lists).
func NameIDs(ents []entity.Entity) map[string][]string {
	m := map[string][]string{}
	for i := range ents {
		e := &ents[i]
		if e.Kind != entity.Organization {
			continue
		}
		for _, n := range e.Names {
			if n.Script != "" {
				continue
			}
			k := NormName(n.Full)
			if k != "" && !slices.Contains(m[k], e.ID) {
				m[k] = append(m[k], e.ID)
			}
		}
	}
	return m
}

// equivKey is the key under which two organisations' names show the same
// organisation on two lists: NormName without parenthesised parts or a
// leading article, of two words or more ("" otherwise).
func equivKey(name string) string {
	var b strings.Builder
	depth := 0
	for _, r := range name {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	k := strings.TrimPrefix(NormName(b.String()), "THE ")
	if !strings.Contains(k, " ") {
		return ""
	}
	return k
}

// sameOrgKeys maps equivKey of every strong Latin-script name of an
// organisation to the organisations bearing it.
func sameOrgKeys(ents []entity.Entity) map[string][]string {
	m := map[string][]string{}
	for i := range ents {
		e := &ents[i]
		if e.Kind != entity.Organization {
			continue
		}
		for _, n := range e.Names {
			if n.Script != "" || n.Strength == entity.Weak {
				continue
			}
			if k := equivKey(n.Full); k != "" && !slices.Contains(m[k], e.ID) {
				m[k] = append(m[k], e.ID)
			}
		}
	}
	return m
}

// SplitClusters groups the listed organisations that share a Latin name
// of four letters or more (the same group on several lists, or an alias
// in common), together
// with the entities named in links (each link is a set of ids that must
// stay together: the right answers of one hand-written or native-script
// query), and deals the groups, in a seeded random order, alternately to
// two pools, so that a development and a held-out set built from them
// share no entity.
func SplitClusters(ents []entity.Entity, seed uint64, links [][]string) (dev, held []*entity.Entity) {
	inLinks := map[string]bool{}
	for _, l := range links {
		for _, id := range l {
			inLinks[id] = true
		}
	}
	var des []*entity.Entity
	idx := map[string]int{}
	for i := range ents {
		if ents[i].Kind == entity.Organization || inLinks[ents[i].ID] {
			idx[ents[i].ID] = len(des)
			des = append(des, &ents[i])
		}
	}
	parent := make([]int, len(des))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, e := range des {
		if e.Kind != entity.Organization {
			continue
		}
		for _, n := range e.Names {
			if n.Script != "" {
				continue
			}
			for _, k := range []string{NormName(n.Full), "=" + equivKey(n.Full)} {
				if len(k) < 4 {
					continue
				}
				if j, ok := owner[k]; ok {
					parent[find(i)] = find(j)
				} else {
					owner[k] = i
				}
			}
		}
	}
	for _, l := range links {
		for _, id := range l[1:] {
			a, okA := idx[l[0]]
			b, okB := idx[id]
			if okA && okB {
				parent[find(b)] = find(a)
			}
		}
	}
	groups := map[int][]*entity.Entity{}
	var roots []int
	for i, e := range des {
		r := find(i)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], e)
	}
	r := rand.New(rand.NewPCG(seed, 12))
	r.Shuffle(len(roots), func(i, j int) { roots[i], roots[j] = roots[j], roots[i] })
	for k, root := range roots {
		if k%2 == 0 {
			dev = append(dev, groups[root]...)
		} else {
			held = append(held, groups[root]...)
		}
	}
	return dev, held
}

// Descriptors organisations add to their names, in English and in the
// common transliterations of Arabic, Persian/Urdu, Turkish, Kurdish and
// Somali. Prefixes come before the name, suffixes after it.
var (
	descSuffix = []string{"Movement", "Group", "Organisation", "Organization", "Network", "Front", "Party",
		"Brigade", "Brigades", "Battalion", "Foundation", "Committee", "Association", "Society", "Council",
		"Union", "Forces", "Army", "Örgütü", "Hareketi", "Grubu", "Tevgera"}
	descPrefix = []string{"Harakat", "Harakat al", "Jamaat", "Jama'at", "Hizb", "Jabhat", "Tanzim", "Kataib",
		"Tehreek", "Tehrik-e", "Jamiat", "Munazzamat", "Sazman-e", "Jebhe-ye", "Partiya", "Xarakada", "Ururka",
		"Movement", "The Movement of", "Organisation of"}
	articles   = []string{"The", "the", "THE"}
	legalForms = []string{"Ltd", "Ltd.", "LLC", "Inc.", "Limited", "Co.", "Company", "Trust", "e.V.", "NGO",
		"Organisation Ltd", "Foundation Inc.", "CIC", "GmbH", "S.A.R.L.", "FZE", "PLC"}
	// places by ISO 3166 alpha-2: the country as customers write it and a
	// few of its cities or regions.
	places = map[string][]string{
		"AF": {"Afghanistan", "Kabul", "Kandahar", "Herat"},
		"PK": {"Pakistan", "Karachi", "Peshawar", "Lahore", "Quetta", "Waziristan"},
		"IQ": {"Iraq", "Baghdad", "Mosul", "Basra", "Anbar"},
		"SY": {"Syria", "Damascus", "Idlib", "Aleppo", "Raqqa"},
		"LB": {"Lebanon", "Beirut", "South Lebanon", "Bekaa"},
		"PS": {"Palestine", "Gaza", "West Bank", "Ramallah"},
		"SO": {"Somalia", "Mogadishu", "Kismayo"},
		"NG": {"Nigeria", "Borno", "Maiduguri", "Lagos"},
		"YE": {"Yemen", "Sanaa", "Aden", "Hadramawt"},
		"SA": {"Saudi Arabia", "Riyadh", "Jeddah"},
		"EG": {"Egypt", "Cairo", "Sinai"},
		"LY": {"Libya", "Benghazi", "Tripoli", "Derna"},
		"ML": {"Mali", "Bamako", "Gao", "Timbuktu"},
		"DZ": {"Algeria", "Algiers"},
		"TN": {"Tunisia", "Tunis"},
		"MA": {"Morocco", "Casablanca"},
		"IR": {"Iran", "Tehran", "Mashhad"},
		"TR": {"Turkey", "Türkiye", "Istanbul", "Gaziantep"},
		"KW": {"Kuwait", "Kuwait City"},
		"QA": {"Qatar", "Doha"},
		"AE": {"UAE", "Dubai", "Sharjah", "Abu Dhabi"},
		"JO": {"Jordan", "Amman"},
		"IN": {"India", "Kashmir", "Delhi"},
		"BD": {"Bangladesh", "Dhaka"},
		"PH": {"Philippines", "Mindanao", "Manila"},
		"ID": {"Indonesia", "Jakarta"},
		"MY": {"Malaysia", "Kuala Lumpur"},
		"KE": {"Kenya", "Nairobi", "Mombasa"},
		"TZ": {"Tanzania", "Dar es Salaam"},
		"MZ": {"Mozambique", "Cabo Delgado"},
		"CD": {"DRC", "Congo", "Kinshasa"},
		"UG": {"Uganda", "Kampala"},
		"NE": {"Niger", "Niamey"},
		"BF": {"Burkina Faso", "Ouagadougou"},
		"SD": {"Sudan", "Khartoum"},
		"RU": {"Russia", "Chechnya", "Dagestan", "Moscow"},
		"GB": {"UK", "London", "Birmingham"},
		"US": {"USA", "New York", "Dallas"},
		"DE": {"Germany", "Berlin"},
		"BE": {"Belgium", "Brussels"},
		"BA": {"Bosnia", "Sarajevo"},
		"CO": {"Colombia", "Bogota"},
		"PE": {"Peru", "Lima"},
		"LK": {"Sri Lanka", "Colombo"},
		"JP": {"Japan", "Tokyo"},
		"GR": {"Greece", "Athens"},
		"ES": {"Spain", "Madrid"},
		"FR": {"France", "Paris"},
		"CN": {"China", "Hong Kong", "Dalian"},
		"KP": {"DPRK", "North Korea", "Pyongyang"},
	}
	// fallbackPlaces are used for an organisation with no known country.
	fallbackPlaces = []string{"Middle East", "International", "Worldwide", "Global", "Africa", "Asia", "Europe", "Gaza", "Lebanon", "Syria", "Iraq"}
)

// Look-alike letters, each listed as confusable with the Latin letter in
// Unicode's confusables.txt (UTS #39): Greek and Cherokee capitals,
// Cyrillic capitals and small letters.
var (
	greekUpper    = map[rune]rune{'A': 'Α', 'B': 'Β', 'E': 'Ε', 'H': 'Η', 'I': 'Ι', 'K': 'Κ', 'M': 'Μ', 'N': 'Ν', 'O': 'Ο', 'P': 'Ρ', 'T': 'Τ', 'X': 'Χ', 'Y': 'Υ', 'Z': 'Ζ'}
	cyrillicUpper = map[rune]rune{'A': 'А', 'B': 'В', 'C': 'С', 'E': 'Е', 'H': 'Н', 'K': 'К', 'M': 'М', 'O': 'О', 'P': 'Р', 'T': 'Т', 'X': 'Х'}
	cyrillicLower = map[rune]rune{'a': 'а', 'c': 'с', 'e': 'е', 'o': 'о', 'p': 'р', 'x': 'х', 'y': 'у', 'i': 'і', 's': 'ѕ', 'j': 'ј'}
	cherokeeUpper = map[rune]rune{'A': 'Ꭺ', 'B': 'Ᏼ', 'C': 'Ꮯ', 'E': 'Ꭼ', 'H': 'Ꮋ', 'K': 'Ꮶ', 'M': 'Ꮇ', 'P': 'Ꮲ', 'S': 'Ꮪ', 'T': 'Ꭲ'}
)

// companyWords mark a listed name as a company's: customers add a legal
// form, "Group" or "Holding" to it, not "Movement" or "Harakat".
var companyWords = map[string]bool{
	"CO": true, "COMPANY": true, "LTD": true, "LLC": true, "LIMITED": true, "INC": true, "CORP": true,
	"CORPORATION": true, "TRADING": true, "TRADE": true, "EXCHANGE": true, "INDUSTRIES": true, "INDUSTRY": true,
	"INDUSTRIAL": true, "SARL": true, "GMBH": true, "FZE": true, "FZC": true, "FZCO": true, "DMCC": true,
	"JSC": true, "PJSC": true, "OJSC": true, "CJSC": true, "PLC": true, "LLP": true, "AG": true, "BV": true,
	"BANK": true, "SHIPPING": true, "ENTERPRISE": true, "ENTERPRISES": true, "ESTABLISHMENT": true, "EST": true,
	"HOLDING": true, "HOLDINGS": true, "INVESTMENT": true, "INVESTMENTS": true, "AIRLINES": true,
	"PETROCHEMICAL": true, "ENGINEERING": true, "ELECTRONICS": true, "IMPORT": true, "EXPORT": true,
	"GENERAL": true, "SERVICES": true, "TECHNOLOGY": true, "TECHNOLOGIES": true, "MARINE": true,
	"CONSTRUCTION": true, "PHARMACEUTICAL": true, "MANUFACTURING": true, "COMMERCIAL": true, "LOGISTICS": true,
	"SA": true, "SAL": true, "SRL": true, "PTE": true, "PTY": true, "HAWALA": true, "SARAFI": true,
	"FACTORY": true, "PLANT": true, "MINING": true, "TRAVEL": true, "TOURISM": true, "AGENCY": true,
	"AIR": true, "AIRWAYS": true, "AVIATION": true, "PROPERTIES": true, "PVT": true, "STUDIO": true,
}

var companyLegal = []string{"Ltd", "Ltd.", "LLC", "Inc.", "Limited", "Co.", "GmbH", "S.A.R.L.", "FZE", "PLC", "Company", "JSC"}

// legalFormsFor returns the legal forms customers add to a name: any for
// a group ("X Organisation Ltd", "X e.V."), a company's for a company.
func legalFormsFor(name string) []string {
	if isCompany(name) {
		return companyLegal
	}
	return legalForms
}

// isCompany reports whether a listed name reads as a company's.
func isCompany(name string) bool {
	for _, w := range strings.Fields(NormName(name)) {
		if companyWords[w] {
			return true
		}
	}
	return false
}

var companyDesc = []string{"Group", "Holding", "Holdings", "Company", "International", "Group of Companies"}

// descriptors returns the words customers add after a name: a group's
// descriptors, or a company's.
func descriptors(name string) []string {
	if isCompany(name) {
		return companyDesc
	}
	return descSuffix
}

// usable reports whether a listed name is a base for customer forms: a
// strong Latin-script name of at least four letters that is not an
// acronym only, with no parentheses (those are already composite).
func usable(n entity.Name) bool {
	if n.Script != "" || n.Strength == entity.Weak || strings.ContainsAny(n.Full, "()\"") {
		return false
	}
	k := NormName(n.Full)
	return len(k) >= 4 && !isAcronym(n.Full)
}

// isAcronym reports whether s is one upper-case token of 2-7 letters
// (hyphens allowed): "PKK", "ISIS-K".
func isAcronym(s string) bool {
	s = strings.TrimSpace(s)
	if strings.ContainsRune(s, ' ') || len(s) < 2 || len(s) > 7 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z') && r != '-' {
			return false
		}
	}
	return true
}

// acronyms returns the entity's listed acronyms, strong ones first.
func acronyms(e *entity.Entity) []string {
	var strong, weak []string
	for _, n := range e.Names {
		if !isAcronym(n.Full) {
			continue
		}
		if n.Strength == entity.Weak {
			weak = append(weak, n.Full)
		} else {
			strong = append(strong, n.Full)
		}
	}
	return append(strong, weak...)
}

// initials returns the initials of a name of three words or more, skipping
// function words ("Kurdistan Workers Party" -> "KWP"), or "".
func initials(name string) string {
	var b strings.Builder
	for _, w := range strings.Fields(NormName(name)) {
		switch w {
		case "OF", "THE", "AND", "IN", "FOR", "AL", "EL", "FI", "WA", "DE", "LA", "LE", "DES", "DU":
			continue
		}
		b.WriteByte(w[0])
	}
	if b.Len() < 3 {
		return ""
	}
	return b.String()
}

// typeCase writes a name the way a customer might: title case mostly, as
// listed (often upper case) or lower case otherwise.
func typeCase(r *rand.Rand, s string) string {
	switch n := r.IntN(10); {
	case n < 6:
		return titleWords(s)
	case n < 8:
		return s
	default:
		return strings.ToLower(s)
	}
}

func titleWords(s string) string {
	w := strings.Fields(strings.ToLower(s))
	for i, x := range w {
		rs := []rune(x)
		if len(rs) > 0 {
			rs[0] = unicode.ToUpper(rs[0])
		}
		w[i] = string(rs)
	}
	return strings.Join(w, " ")
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func placeFor(r *rand.Rand, e *entity.Entity) string {
	var cands []string
	for _, cc := range e.Countries {
		cands = append(cands, places[cc]...)
	}
	if len(cands) == 0 {
		return pick(r, fallbackPlaces)
	}
	return pick(r, cands)
}

// latinSubs are the kinds of Latin-script forms made for each base name.
var latinSubs = []string{"article", "descriptor", "translit-descriptor", "place", "legal-form",
	"acronym", "initials", "alias-pair", "combined"}

// customerForm makes one Latin-script form of base (a listed name of e) of
// the given sub-kind, or "" when the sub-kind does not apply.
func customerForm(r *rand.Rand, e *entity.Entity, base, sub string) string {
	b := typeCase(r, base)
	hasThe := strings.HasPrefix(NormName(base), "THE ")
	switch sub {
	case "article":
		if hasThe {
			if strings.Count(NormName(base), " ") < 2 {
				return "" // "The Base" without its article is another name
			}
			return b[4:] // the customer leaves the listed article out
		}
		return pick(r, articles) + " " + b
	case "descriptor":
		return b + " " + pick(r, descriptors(base))
	case "translit-descriptor":
		if isCompany(base) {
			return "" // nobody writes "Harakat Behineh Trading Co."
		}
		if hasThe && strings.Count(NormName(base), " ") >= 2 {
			b = b[4:]
		}
		return pick(r, descPrefix) + " " + b
	case "place":
		p := placeFor(r, e)
		switch r.IntN(5) {
		case 0:
			return b + " " + p
		case 1:
			return b + " (" + p + ")"
		case 2:
			return b + " - " + p
		case 3:
			return b + " in " + p
		default:
			return p + " " + b
		}
	case "legal-form":
		return b + " " + pick(r, legalFormsFor(base))
	case "acronym":
		acs := acronyms(e)
		if len(acs) == 0 {
			return ""
		}
		a := acs[0]
		if r.IntN(3) == 0 {
			a = pick(r, acs)
		}
		switch r.IntN(5) {
		case 0, 1:
			return b + " (" + a + ")"
		case 2:
			return b + " - " + a
		case 3:
			return a + " - " + b
		default:
			return a + " / " + b
		}
	case "initials":
		a := initials(base)
		if a == "" || slices.Contains(acronyms(e), a) {
			return ""
		}
		return b + " (" + a + ")"
	case "alias-pair":
		var others []string
		for _, n := range e.Names {
			if usable(n) && NormName(n.Full) != NormName(base) {
				others = append(others, n.Full)
			}
		}
		if len(others) == 0 {
			return ""
		}
		o := typeCase(r, pick(r, others))
		switch r.IntN(3) {
		case 0:
			return b + " (" + o + ")"
		case 1:
			return b + " - " + o
		default:
			return b + " / " + o
		}
	case "combined":
		s := b
		if !hasThe {
			s = "The " + s
		}
		s += " " + pick(r, descriptors(base))
		if r.IntN(2) == 0 {
			s += " " + placeFor(r, e)
		} else {
			s += " " + pick(r, legalFormsFor(base))
		}
		return s
	}
	return ""
}

// lookalikeSubs are the kinds of look-alike forms.
var lookalikeSubs = []string{"greek", "cyrillic", "cherokee", "fullwidth", "mixed"}

// lookalike replaces one to three letters of name with look-alikes from
// other scripts (all of them for fullwidth), or returns "".
func lookalike(r *rand.Rand, name, sub string) string {
	var table map[rune]rune
	switch sub {
	case "greek":
		name, table = strings.ToUpper(name), greekUpper
	case "cherokee":
		name, table = strings.ToUpper(name), cherokeeUpper
	case "cyrillic":
		name = titleWords(name)
		table = map[rune]rune{}
		for k, v := range cyrillicLower {
			table[k] = v
		}
		for k, v := range cyrillicUpper {
			table[k] = v
		}
	case "mixed":
		name = strings.ToUpper(name)
		table = map[rune]rune{}
		for k, v := range cyrillicUpper {
			table[k] = v
		}
		for _, k := range slices.Sorted(maps.Keys(greekUpper)) {
			if r.IntN(2) == 0 {
				table[k] = greekUpper[k]
			}
		}
	case "fullwidth":
		var b strings.Builder
		for _, c := range titleWords(name) {
			if c > ' ' && c < 0x7f {
				c += 0xFF01 - '!'
			} else if c == ' ' {
				c = '\u3000'
			}
			b.WriteRune(c)
		}
		return b.String()
	}
	rs := []rune(name)
	var pos []int
	for i, c := range rs {
		if _, ok := table[c]; ok {
			pos = append(pos, i)
		}
	}
	if len(pos) == 0 {
		return ""
	}
	n := 1 + r.IntN(3)
	if sub == "mixed" {
		n = max(n, 2)
	}
	r.Shuffle(len(pos), func(i, j int) { pos[i], pos[j] = pos[j], pos[i] })
	for _, i := range pos[:min(n, len(pos))] {
		rs[i] = table[rs[i]]
	}
	return string(rs)
}

// CustomerForms makes the generated part of an issue 12 set from pool (the
// organisations of one side of SplitClusters), with all listed entities
// ents for the expected ids: for every organisation, up to two base names
// (the primary name when usable, and one strong alias), each in
// perBase Latin-script forms of distinct sub-kinds and one look-alike form.
// Generation is deterministic for a seed.
func CustomerForms(pool []*entity.Entity, ents []entity.Entity, seed uint64, perBase int) []Case {
	ids := NameIDs(ents)
	same := sameOrgKeys(ents)
	r := rand.New(rand.NewPCG(seed, 1212))
	var out []Case
	seen := map[string]bool{}
	var also []string // the same organisation on other lists
	add := func(q, kind, sub, from string) {
		if q == "" || seen[NormName(q)+"|"+q] {
			return
		}
		seen[NormName(q)+"|"+q] = true
		exp := slices.Clone(ids[NormName(from)])
		for _, id := range also {
			if !slices.Contains(exp, id) {
				exp = append(exp, id)
			}
		}
		sort.Strings(exp)
		out = append(out, Case{Query: q, Type: "entity", Expect: exp, Kind: kind, Sub: sub, From: from})
	}
	for _, e := range pool {
		if !Designated(e) {
			continue
		}
		also = also[:0]
		for _, n := range e.Names {
			if n.Script != "" || n.Strength == entity.Weak {
				continue
			}
			for _, id := range same[equivKey(n.Full)] {
				if !slices.Contains(also, id) {
					also = append(also, id)
				}
			}
		}
		var bases []string
		var alts []string
		for k, n := range e.Names {
			if !usable(n) {
				continue
			}
			if k == 0 {
				bases = append(bases, n.Full)
			} else {
				alts = append(alts, n.Full)
			}
		}
		if len(alts) > 0 {
			bases = append(bases, pick(r, alts))
		}
		if len(bases) > 2 {
			bases = bases[:2]
		}
		for _, base := range bases {
			subs := slices.Clone(latinSubs)
			r.Shuffle(len(subs), func(i, j int) { subs[i], subs[j] = subs[j], subs[i] })
			made := 0
			for _, sub := range subs {
				if made == perBase {
					break
				}
				if q := customerForm(r, e, base, sub); q != "" {
					add(q, KindLatinForm, sub, base)
					made++
				}
			}
			sub := pick(r, lookalikeSubs)
			q := base
			if r.IntN(2) == 0 {
				q += " " + pick(r, descriptors(base))
			}
			add(lookalike(r, q, sub), KindLookalike, sub, base)
		}
	}
	return out
}

// NativeCases makes kind (b): every original-script name of the UN
// entries in pool (persons and organisations), expecting the entry (or
// any listed entry sharing one of its Latin names) when the index holds
// no original-script name. pool holds UN entities only.
func NativeCases(pool []*entity.Entity, ents []entity.Entity) []Case {
	latin := map[string][]string{}
	for i := range ents {
		e := &ents[i]
		for _, n := range e.Names {
			if k := NormName(n.Full); n.Script == "" && n.Strength != entity.Weak && strings.Count(k, " ") >= 1 {
				if !slices.Contains(latin[k], e.ID) {
					latin[k] = append(latin[k], e.ID)
				}
			}
		}
	}
	var out []Case
	for _, e := range pool {
		var native []entity.Name
		exp := []string{e.ID}
		for _, n := range e.Names {
			if n.Script != "" {
				native = append(native, n)
				continue
			}
			if n.Strength == entity.Weak {
				continue
			}
			for _, id := range latin[NormName(n.Full)] {
				if other := id; !slices.Contains(exp, other) && sameKind(ents, other, e.Kind) {
					exp = append(exp, other)
				}
			}
		}
		sort.Strings(exp)
		typ := "entity"
		if e.Kind == entity.Person {
			typ = "individual"
		}
		for _, n := range native {
			out = append(out, Case{Query: n.Full, Type: typ, Expect: exp, Kind: KindNative, Sub: n.Script + "-" + string(e.Kind), From: e.Name})
		}
	}
	return out
}

var kindOf map[string]entity.Kind

func sameKind(ents []entity.Entity, id string, k entity.Kind) bool {
	if kindOf == nil || len(kindOf) != len(ents) {
		kindOf = make(map[string]entity.Kind, len(ents))
		for i := range ents {
			kindOf[ents[i].ID] = ents[i].Kind
		}
	}
	return kindOf[id] == k
}

// WithoutNative returns a copy of ents whose entities keep only their
// Latin-script names (entities left with none are dropped), for the
// native-script run: the original-script queries must reach the Latin
// names by transliteration.
func WithoutNative(ents []entity.Entity) []entity.Entity {
	out := make([]entity.Entity, 0, len(ents))
	for _, e := range ents {
		var ns []entity.Name
		for _, n := range e.Names {
			if n.Script == "" {
				ns = append(ns, n)
			}
		}
		if len(ns) == 0 {
			continue
		}
		e.Names = ns
		out = append(out, e)
	}
	return out
}

// CaseResult is one issue 12 case and where the engine put it.
type CaseResult struct {
	Case  Case
	Rank  int     // 0-based rank of the first expected id among the hits, -1 if absent
	Score float64 // its score
	Top   Hit     // the first hit, if any
	Hits  int     // hits at or above the threshold
}

// Assess ranks outcomes whose Expect holds full ids ("ofac-sdn:6636").
func Assess(outs []Outcome, t float64) []CaseResult {
	res := make([]CaseResult, len(outs))
	for i, o := range outs {
		cr := CaseResult{Case: o.Case, Rank: -1}
		for k, h := range o.Hits {
			if h.Score >= t {
				cr.Hits++
			}
			if cr.Rank < 0 && slices.Contains(o.Case.Expect, h.ID) {
				cr.Rank, cr.Score = k, h.Score
			}
		}
		if len(o.Hits) > 0 {
			cr.Top = o.Hits[0]
		}
		res[i] = cr
	}
	return res
}

// Right reports whether the right entity is first at or above t.
func (c CaseResult) Right(t float64) bool { return c.Rank == 0 && c.Score >= t }

// In5 reports whether the right entity is among the first five at or above t.
func (c CaseResult) In5(t float64) bool { return c.Rank >= 0 && c.Rank < 5 && c.Score >= t }

// Flagged reports whether a negative has any result at or above t.
func (c CaseResult) Flagged() bool { return c.Hits > 0 }

// KindFigures are one group's figures.
type KindFigures struct {
	Kind      string
	N         int
	Right     int // right entity first at t (positives)
	In5       int // right entity in the first five at t (positives)
	Flagged   int // negatives with a result at t
	Negatives bool
}

// RightRate is Right/N.
func (f KindFigures) RightRate() float64 { return ratio(f.Right, f.N) }

// In5Rate is In5/N.
func (f KindFigures) In5Rate() float64 { return ratio(f.In5, f.N) }

// FlagRate is Flagged/N.
func (f KindFigures) FlagRate() float64 { return ratio(f.Flagged, f.N) }

// Figures groups results by key (kind, or kind/sub) in sorted order.
func Figures(res []CaseResult, t float64, key func(Case) string) []KindFigures {
	m := map[string]*KindFigures{}
	for _, r := range res {
		k := key(r.Case)
		f := m[k]
		if f == nil {
			f = &KindFigures{Kind: k, Negatives: r.Case.Negative()}
			m[k] = f
		}
		f.N++
		if r.Case.Negative() {
			if r.Flagged() {
				f.Flagged++
			}
			continue
		}
		if r.Right(t) {
			f.Right++
		}
		if r.In5(t) {
			f.In5++
		}
	}
	out := make([]KindFigures, 0, len(m))
	for _, f := range m {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// WriteFigures prints a Markdown table of figures.
func WriteFigures(w io.Writer, fs []KindFigures) {
	fmt.Fprintln(w, "| kind | n | right entity first at t | recall@5 at t | flagged (negatives) |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, f := range fs {
		if f.Negatives {
			fmt.Fprintf(w, "| %s | %d | | | %d (%.3f) |\n", f.Kind, f.N, f.Flagged, f.FlagRate())
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %.3f (%d) | %.3f | |\n", f.Kind, f.N, f.RightRate(), f.Right, f.In5Rate())
	}
}
