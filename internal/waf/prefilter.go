package waf

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// A prefilter is a necessary condition for a regular expression to match:
// an input shorter than minLen cannot match, and (when ac is set) neither
// can an input that contains none of the pattern's literal factors. It
// proves a non-match cheaply, before the regular expression runs; it never
// proves a match.
//
// The factors are ASCII strings compared ASCII-case-insensitively: a
// case-sensitive factor is weakened to a case-insensitive one (an input
// containing "SELECT" contains "select" case-insensitively), which keeps
// the condition necessary. They are derived from the parsed pattern
// (regexp/syntax, the parser Go's regexp and Coraza use) by extractor.
//
// Unicode case folding maps two non-ASCII runes onto ASCII letters: (?i)k
// matches U+212A (KELVIN SIGN) and (?i)s matches U+017F (LATIN SMALL
// LETTER LONG S); the automaton reads those two runes as "k" and "s"
// (acMatcher.contains). Non-ASCII pattern runes never become factors, so
// an invalid UTF-8 byte, which Go's regexp reads as U+FFFD, cannot match a
// factor byte: factor bytes are ASCII and an invalid byte is not.
type prefilter struct {
	minLen int
	ac     *acMatcher // nil: no sound factor set; only minLen applies
	// literal, when set, is the one factor, and it holds no letter: case
	// and the two folded runes do not matter, so strings.Contains (which
	// uses the CPU's vector instructions) decides instead of ac.
	literal string
}

// mayMatch reports whether s can match the pattern; false is a proof
// that it does not.
func (p *prefilter) mayMatch(s string) bool {
	if len(s) < p.minLen {
		return false
	}
	if p.literal != "" {
		return strings.Contains(s, p.literal)
	}
	if p.ac == nil {
		return true
	}
	return p.ac.contains(s)
}

// Limits of the factor extraction: exact string sets grow by cross
// products over concatenations and are cut at maxExact strings; a factor
// set with more than maxFactors strings is shortened to prefixes (a prefix
// of a required string is required too) until it fits.
const (
	maxExact     = 64
	maxFactors   = 512
	maxFactorLen = 6
)

// newPrefilter returns the prefilter of expr, a pattern as Go's regexp
// compiles it (with its (?sm) prefix). It returns nil when the pattern does
// not parse (Go's regexp refuses it too) or nothing can be proved.
func newPrefilter(expr string) *prefilter {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	p := &prefilter{minLen: minBytes(re)}
	if f := factorsOf(re); len(f) == 1 && !hasLetter(f[0]) {
		p.literal = f[0]
	} else if f != nil {
		p.ac = newACMatcher(f)
	}
	if p.minLen == 0 && p.ac == nil && p.literal == "" {
		return nil
	}
	return p
}

// minBytes is the fewest input bytes a match of re takes. Go's regexp
// reads an invalid UTF-8 byte as U+FFFD, so a rune that may be U+FFFD
// counts one byte; a folded rune counts its shortest fold.
func minBytes(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			n += runeMinBytes(r, re.Flags&syntax.FoldCase != 0)
		}
		return n
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		// Every rune takes one byte at least (an ASCII one, or an
		// invalid byte read as U+FFFD); an empty class matches nothing,
		// 1 is still a lower bound.
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minBytes(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min * minBytes(re.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n += minBytes(s)
		}
		return n
	case syntax.OpAlternate:
		if len(re.Sub) == 0 {
			return 0
		}
		m := minBytes(re.Sub[0])
		for _, s := range re.Sub[1:] {
			m = min(m, minBytes(s))
		}
		return m
	default: // empty-width assertions, *, ?, no match
		return 0
	}
}

func runeMinBytes(r rune, fold bool) int {
	if r == utf8.RuneError {
		return 1
	}
	n := utf8.RuneLen(r)
	if n < 0 {
		return 1
	}
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f == utf8.RuneError {
				return 1
			}
			n = min(n, utf8.RuneLen(f))
		}
	}
	return n
}

// info is what extraction knows of a node: either the exact set of
// strings it matches (exact, lowercased ASCII; "" for an empty-width
// match), or a factor set (any: nil means nothing is known) of which
// every match contains one.
type info struct {
	exact   []string
	isExact bool
	any     []string
}

var unknown = info{}

func exactInfo(s ...string) info { return info{exact: s, isExact: true} }

// condition returns the factor set of i: nil when a match may contain
// none of them (the node may match the empty string, or nothing is known).
func (i info) condition() []string {
	if !i.isExact {
		return i.any
	}
	if len(i.exact) == 0 || slices.Contains(i.exact, "") {
		return nil
	}
	return simplifyFactors(i.exact)
}

// factorsOf returns the factor set of a parsed (simplified) pattern: every
// match contains one of them, ASCII case ignored; nil when there is no
// such set.
func factorsOf(re *syntax.Regexp) []string {
	var x extractor
	fs := x.info(re).condition()
	if fs == nil {
		return nil
	}
	// A prefix of a factor is a factor too; shorter ones make a smaller
	// automaton and prune about as well.
	for i, f := range fs {
		if len(f) > maxFactorLen {
			fs[i] = f[:maxFactorLen]
		}
	}
	return simplifyFactors(fs)
}

// extractor walks a parsed pattern.
type extractor struct{}

func (x *extractor) info(re *syntax.Regexp) info {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return exactInfo("")
	case syntax.OpLiteral:
		// A literal is a concatenation of its runes; a non-ASCII rune
		// is unknown (it is not a factor byte).
		fold := re.Flags&syntax.FoldCase != 0
		parts := make([]info, 0, len(re.Rune))
		for _, r := range re.Rune {
			parts = append(parts, x.runeInfo([]rune{r}, fold))
		}
		return x.concat(parts)
	case syntax.OpCharClass:
		var rs []rune
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i+1]-re.Rune[i] >= maxExact {
				return unknown
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				rs = append(rs, r)
			}
			if len(rs) > 2*maxExact {
				return unknown
			}
		}
		return x.runeInfo(rs, false)
	case syntax.OpCapture:
		return x.info(re.Sub[0])
	case syntax.OpQuest:
		sub := x.info(re.Sub[0])
		if !sub.isExact || len(sub.exact) >= maxExact {
			return unknown
		}
		return exactInfo(dedupe(append(slices.Clone(sub.exact), ""))...)
	case syntax.OpPlus:
		return info{any: x.info(re.Sub[0]).condition()}
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return info{any: x.info(re.Sub[0]).condition()}
		}
		return unknown
	case syntax.OpConcat:
		parts := make([]info, 0, len(re.Sub))
		for _, s := range re.Sub {
			parts = append(parts, x.info(s))
		}
		return x.concat(parts)
	case syntax.OpAlternate:
		subs := make([]info, 0, len(re.Sub))
		allExact := true
		for _, s := range re.Sub {
			i := x.info(s)
			subs = append(subs, i)
			allExact = allExact && i.isExact
		}
		if allExact {
			var u []string
			for _, s := range subs {
				u = append(u, s.exact...)
			}
			if u = dedupe(u); len(u) <= maxExact {
				return exactInfo(u...)
			}
		}
		var u []string
		for _, s := range subs {
			c := s.condition()
			if c == nil {
				return unknown
			}
			u = append(u, c...)
		}
		return info{any: limitFactors(u)}
	default: // ., *, no match, anything new
		return unknown
	}
}

// runeInfo is the exact set of one rune out of rs (folded when fold):
// each as its lowercased ASCII string. U+017F and U+212A count as the
// letters the automaton reads them as ("s", "k"); any other non-ASCII rune
// makes the set unknown.
func (x *extractor) runeInfo(rs []rune, fold bool) info {
	var out []string
	for _, r := range rs {
		orbit := []rune{r}
		if fold {
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				orbit = append(orbit, f)
			}
		}
		for _, o := range orbit {
			switch {
			case o < utf8.RuneSelf:
				out = append(out, string(rune(lowerASCII(byte(o)))))
			case o == longS:
				out = append(out, "s")
			case o == kelvin:
				out = append(out, "k")
			default:
				return unknown
			}
		}
	}
	out = dedupe(out)
	if len(out) == 0 || len(out) > maxExact {
		return unknown
	}
	return exactInfo(out...)
}

// concat combines the parts of a concatenation: runs of exact parts
// multiply out while they stay small; the best factor set among the runs
// and the other parts' sets is the concatenation's (every part must match,
// so any one part's set is necessary).
func (x *extractor) concat(parts []info) info {
	var cur []string
	curExact := false
	var best []string
	allExact := true
	consider := func(c []string) {
		if c != nil && (best == nil || betterFactors(c, best)) {
			best = c
		}
	}
	flush := func() {
		if curExact {
			consider(exactInfo(cur...).condition())
		}
		cur, curExact = nil, false
	}
	for _, p := range parts {
		if !p.isExact {
			allExact = false
			flush()
			consider(p.any)
			continue
		}
		if !curExact {
			cur, curExact = slices.Clone(p.exact), true
			continue
		}
		if len(cur)*len(p.exact) > maxExact {
			allExact = false
			flush()
			cur, curExact = slices.Clone(p.exact), true
			continue
		}
		next := make([]string, 0, len(cur)*len(p.exact))
		for _, a := range cur {
			for _, b := range p.exact {
				next = append(next, a+b)
			}
		}
		cur = dedupe(next)
	}
	if allExact && curExact {
		return exactInfo(cur...)
	}
	if allExact && len(parts) == 0 {
		return exactInfo("")
	}
	flush()
	if best == nil {
		return unknown
	}
	return info{any: best}
}

// betterFactors reports whether factor set a prunes more than b: longer
// shortest factor first, then fewer factors.
func betterFactors(a, b []string) bool {
	la, lb := shortest(a), shortest(b)
	if la != lb {
		return la > lb
	}
	return len(a) < len(b)
}

func shortest(fs []string) int {
	n := -1
	for _, f := range fs {
		if n < 0 || len(f) < n {
			n = len(f)
		}
	}
	return n
}

// limitFactors shortens a factor set that is too large to prefixes of
// decreasing length until it fits.
func limitFactors(fs []string) []string {
	fs = simplifyFactors(fs)
	for n := 8; len(fs) > maxFactors && n > 0; n-- {
		for i, f := range fs {
			if len(f) > n {
				fs[i] = f[:n]
			}
		}
		fs = simplifyFactors(fs)
	}
	return fs
}

// simplifyFactors dedupes fs and drops each factor that contains another
// (an input containing it contains the shorter one).
func simplifyFactors(fs []string) []string {
	fs = dedupe(fs)
	slices.SortFunc(fs, func(a, b string) int { return len(a) - len(b) })
	out := fs[:0:0]
	for _, f := range fs {
		covered := false
		for _, g := range out {
			if strings.Contains(f, g) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, f)
		}
	}
	return out
}

func dedupe(fs []string) []string {
	fs = slices.Clone(fs)
	slices.Sort(fs)
	return slices.Compact(fs)
}

func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := lowerASCII(s[i]); 'a' <= c && c <= 'z' {
			return true
		}
	}
	return false
}

func lowerASCII(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// acMatcher is an Aho-Corasick automaton compiled to a DFA over byte
// classes, ASCII-case-insensitive: it reports whether an input contains
// any of its (lowercase) factors in one pass.
type acMatcher struct {
	class [256]uint8 // byte -> class; 0: a byte in no factor
	// delta[state*nclass+class] is the next state times nclass (the
	// offset of its row), with the top bit set when that state ends a
	// factor: 16 bits wide when the table has at most 1<<15 entries (most
	// patterns), else 32.
	delta16 []uint16
	delta32 []uint32
}

// newACMatcher builds the automaton of fs (non-empty, lowercase ASCII
// strings); it returns nil when the automaton would be too large.
func newACMatcher(fs []string) *acMatcher {
	m := &acMatcher{}
	n := 1
	for _, f := range fs {
		for i := 0; i < len(f); i++ {
			if m.class[f[i]] == 0 {
				if n == 256 {
					return nil
				}
				m.class[f[i]] = uint8(n)
				n++
			}
		}
	}
	for b := 'A'; b <= 'Z'; b++ {
		m.class[b] = m.class[b+'a'-'A']
	}
	// The trie.
	type node struct {
		next map[uint8]int
		fail int
		out  bool
	}
	nodes := []node{{next: map[uint8]int{}}}
	for _, f := range fs {
		s := 0
		for i := 0; i < len(f); i++ {
			c := m.class[f[i]]
			t, ok := nodes[s].next[c]
			if !ok {
				t = len(nodes)
				nodes = append(nodes, node{next: map[uint8]int{}})
				nodes[s].next[c] = t
			}
			s = t
		}
		nodes[s].out = true
	}
	if len(nodes)*n >= 1<<31 {
		return nil
	}
	delta := make([]int, len(nodes)*n) // state*nclass + class -> state
	out := make([]bool, len(nodes))
	// Breadth-first: each state's transitions are its trie edges, else its
	// fail state's transitions (already filled).
	queue := []int{0}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		out[s] = nodes[s].out || out[nodes[s].fail]
		for c := 0; c < n; c++ {
			if t, ok := nodes[s].next[uint8(c)]; ok && c != 0 {
				if s != 0 {
					nodes[t].fail = delta[nodes[s].fail*n+c]
				}
				delta[s*n+c] = t
				queue = append(queue, t)
			} else if s != 0 {
				delta[s*n+c] = delta[nodes[s].fail*n+c]
			}
		}
	}
	if len(delta) <= 1<<15 {
		m.delta16 = premultiply[uint16](delta, out, n)
	} else {
		m.delta32 = premultiply[uint32](delta, out, n)
	}
	return m
}

func premultiply[T uint16 | uint32](delta []int, out []bool, n int) []T {
	top := T(1) << (8*unsafe.Sizeof(T(0)) - 1)
	d := make([]T, len(delta))
	for i, t := range delta {
		d[i] = T(t * n)
		if out[t] {
			d[i] |= top
		}
	}
	return d
}

// The two non-ASCII runes that Unicode case folding equates with ASCII
// letters (U+017F with s and S, U+212A with k and K), and their UTF-8.
const (
	longS  = '\u017f'
	kelvin = '\u212a'
)

// contains reports whether s contains one of the factors, ASCII case
// ignored, reading U+017F as "s" and U+212A as "k" (as (?i) matches them).
// Any other byte >= 0x80 is in no factor. The two sequences start with a
// UTF-8 lead byte, never a continuation byte, so where they occur Go's
// regexp decodes them as those runes whatever precedes them.
func (m *acMatcher) contains(s string) bool {
	if m.delta16 != nil {
		return acScan(m.delta16, &m.class, s)
	}
	return acScan(m.delta32, &m.class, s)
}

func acScan[T uint16 | uint32](delta []T, class *[256]uint8, s string) bool {
	top := T(1) << (8*unsafe.Sizeof(T(0)) - 1)
	var st T
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= utf8.RuneSelf {
			switch {
			case b == 0xc5 && i+1 < len(s) && s[i+1] == 0xbf: // U+017F
				b = 's'
				i++
			case b == 0xe2 && i+2 < len(s) && s[i+1] == 0x84 && s[i+2] == 0xaa: // U+212A
				b = 'k'
				i += 2
			}
		}
		st = delta[st+T(class[b])]
		if st&top != 0 {
			return true
		}
	}
	return false
}
