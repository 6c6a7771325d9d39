package waf

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

func TestPrefilterFactors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern string
		factors []string // nil: none
		minLen  int
	}{
		{`abc`, []string{"abc"}, 3},
		{`(?i)SeLeCt`, []string{"select"}, 6},
		{`SELECT`, []string{"select"}, 6}, // case-sensitive, weakened
		{`union\s+select`, []string{"select"}, 12},
		{`(?:union|select)\s`, []string{"union\t", "union\n", "union\f", "union\r", "union ", "select"}, 6}, // cut to maxFactorLen
		{`(?:union|select)\s*\(`, []string{"union", "select"}, 6},
		{`a(?:b|c)d`, []string{"abd", "acd"}, 3},
		{`ab?c`, []string{"abc", "ac"}, 2},
		{`[<>]script`, []string{"<scrip", ">scrip"}, 7},
		{`(?i)[k]ill`, []string{"kill"}, 4},
		{`x*`, nil, 0},
		{`^$`, nil, 0},
		{`.`, nil, 1},
		{`a|.`, nil, 1},
		{`(?:ab)+`, []string{"ab"}, 2},
		{`(?:ab){2,3}`, []string{"abab"}, 4},
		{`caf\x{e9}s`, []string{"caf"}, 6},
		{`\x{fffd}`, nil, 1}, // U+FFFD matches any invalid byte
		{`[^a]b`, []string{"b"}, 2},
		{`\bon\w+=`, []string{"on"}, 4},
		{`ſ`, []string{"s"}, 2},
		{`(?i)s`, []string{"s"}, 1},
	}
	for _, tt := range tests {
		re, err := syntax.Parse("(?sm)"+tt.pattern, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		re = re.Simplify()
		got := factorsOf(re)
		want := slices.Clone(tt.factors)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("factors of %q = %q, want %q", tt.pattern, got, want)
		}
		if m := minBytes(re); m != tt.minLen {
			t.Errorf("minBytes of %q = %d, want %d", tt.pattern, m, tt.minLen)
		}
	}
}

// TestPrefilterFoldRunes checks the premise of acMatcher.contains: the only
// non-ASCII runes that Unicode simple folding equates with ASCII ones are
// U+017F (s) and U+212A (k).
func TestPrefilterFoldRunes(t *testing.T) {
	t.Parallel()
	var got []string
	for r := rune(0); r < 0x80; r++ {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f >= 0x80 {
				got = append(got, string(unicode.ToLower(r))+"="+string(f))
			}
		}
	}
	want := []string{"k=\u212a", "k=\u212a", "s=\u017f", "s=\u017f"} // from K and k, S and s
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("ASCII runes folding to non-ASCII: %q, want %q", got, want)
	}
}

func TestACMatcher(t *testing.T) {
	t.Parallel()
	m := newACMatcher([]string{"select", "union", "or", "kill", "sleep"})
	tests := []struct {
		in   string
		want bool
	}{
		{"", false},
		{"hello there", false},
		{"1 UNION 2", true},
		{"SeLeCT", true},
		{"selec", false},
		{"foR", true},
		{"unio\xffn", false},
		{"\u212aill", true},    // KELVIN SIGN reads as k
		{"\u017fleep", true},   // LONG S reads as s
		{"\xe2\x84ill", false}, // a truncated KELVIN SIGN is not k
		{"\xc5ill \xc5\xbfleep", true},
		{"xxxxxxxxxxxxunionxx", true},
		{"ununion", true},
		{"sselect", true},
	}
	for _, tt := range tests {
		if got := m.contains(tt.in); got != tt.want {
			t.Errorf("contains(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// variants returns s as rule transformations might present it to an
// operator: lowercased, uppercased, URL- and HTML-decoded, base64- and
// hex-decoded, whitespace and NULs removed or compressed, and with the
// runes (?i) equates with s and k.
func variants(s string) []string {
	out := []string{s, strings.ToLower(s), strings.ToUpper(s)}
	if u, err := url.QueryUnescape(s); err == nil {
		out = append(out, u, strings.ToLower(u))
	}
	if u, err := url.PathUnescape(s); err == nil {
		out = append(out, u)
	}
	out = append(out, html.UnescapeString(s))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			out = append(out, string(b))
		}
	}
	if b, err := hex.DecodeString(s); err == nil {
		out = append(out, string(b))
	}
	out = append(out,
		strings.Join(strings.Fields(s), ""),
		strings.Join(strings.Fields(s), " "),
		strings.ReplaceAll(s, "\x00", ""),
		strings.NewReplacer("s", "\u017f", "S", "\u017f", "k", "\u212a", "K", "\u212a").Replace(s),
	)
	return out
}

// withoutPrefilter returns the operator o without its prefilter: the
// regular expression alone (TestRXMatchesGoRegexp and FuzzRX check that
// it matches what Go's regexp matches).
func withoutPrefilter(o *rx) *rx {
	return &rx{&rxCompiled{data: o.data, re2: o.re2, std: o.std}}
}

// TestPrefilterCRS runs every CRS @rx pattern both ways, with and without
// the prefilter, on the CRS regression tests' inputs, their transformed
// variants and extraInputs: the verdicts must be identical. It reports how
// often the prefilter spared the regular expression.
func TestPrefilterCRS(t *testing.T) {
	t.Parallel()
	patterns := crsPatterns(t)
	inputs := crsInputs(t)
	variantsOf := map[string][]string{}
	withFactors, evals, skipped, misses := 0, 0, 0, 0
	for _, p := range patterns {
		op, err := newRX(plugintypes.OperatorOptions{Arguments: p.pattern})
		if err != nil {
			t.Fatalf("%s:%d: %v", p.file, p.line, err)
		}
		r, ok := op.(*rx)
		if !ok {
			continue
		}
		if r.pf != nil && (r.pf.ac != nil || r.pf.literal != "") {
			withFactors++
		}
		plain := withoutPrefilter(r)
		group := strings.SplitN(p.file, "-", 3)[1]
		if variantsOf[group] == nil {
			seen := map[string]bool{}
			for _, in := range append(slices.Clone(inputs[group]), extraInputs...) {
				for _, v := range variants(in) {
					if !seen[v] {
						seen[v] = true
						variantsOf[group] = append(variantsOf[group], v)
					}
				}
			}
		}
		for _, in := range variantsOf[group] {
			evals++
			want := plain.Evaluate(&captureState{}, in)
			got := r.Evaluate(&captureState{}, in)
			if got != want {
				t.Errorf("%s:%d: %q on %q: with prefilter %v, without %v", p.file, p.line, p.pattern, in, got, want)
			}
			if !want {
				misses++
				if r.pf != nil && !r.pf.mayMatch(in) {
					skipped++
				}
			}
		}
	}
	t.Logf("%d patterns, %d with literal factors; %d evaluations, %d non-matches, %d of them (%.1f%%) proved by the prefilter",
		len(patterns), withFactors, evals, misses, skipped, 100*float64(skipped)/float64(max(misses, 1)))
	if withFactors < len(patterns)*8/10 {
		t.Errorf("only %d of %d patterns have literal factors", withFactors, len(patterns))
	}
	if skipped < misses/2 {
		t.Errorf("the prefilter proved only %d of %d non-matches", skipped, misses)
	}
}

// FuzzPrefilter is the differential fuzz test of the prefilter: for every
// CRS pattern, on the input and its transformed variants, a non-match it
// proves must be a non-match of Go's regexp. Seeds:
// testdata/fuzz/FuzzPrefilter.
func FuzzPrefilter(f *testing.F) {
	for _, s := range extraInputs {
		f.Add(s)
	}
	type pair struct {
		pf  *prefilter
		std *regexp.Regexp
		p   crsPattern
	}
	var pairs []pair
	for _, p := range crsPatterns(f) {
		data := "(?sm)" + p.pattern
		if matchesArbitraryBytes(data) {
			continue
		}
		if pf := newPrefilter(data); pf != nil {
			pairs = append(pairs, pair{pf, regexp.MustCompile(data), p})
		}
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, v := range variants(in) {
			for _, pp := range pairs {
				if !pp.pf.mayMatch(v) && pp.std.MatchString(v) {
					t.Errorf("%s:%d: %q matches %q, which the prefilter ruled out", pp.p.file, pp.p.line, pp.p.pattern, v)
				}
			}
		}
	})
}

// TestRXPrefilterAllocs checks that a non-match the prefilter proves costs
// no allocation, captures on or off.
func TestRXPrefilterAllocs(t *testing.T) {
	op, err := newRX(plugintypes.OperatorOptions{Arguments: `(?i)\bunion\b.{1,100}?\bselect\b`})
	if err != nil {
		t.Fatal(err)
	}
	in := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	for _, capturing := range []bool{false, true} {
		st := &captureState{capturing: capturing}
		if n := testing.AllocsPerRun(100, func() {
			if op.Evaluate(st, in) {
				t.Fatal("matched a benign User-Agent")
			}
		}); n != 0 {
			t.Errorf("capturing %v: %v allocations per proved non-match, want 0", capturing, n)
		}
	}
}

// TestACMatcherWide checks the 32-bit automaton (more than 1<<15 table
// entries) against strings.Contains.
func TestACMatcherWide(t *testing.T) {
	t.Parallel()
	var words []string
	for i := range 3000 {
		words = append(words, fmt.Sprintf("w%dx%d-", i*7919%100000, i))
	}
	m := newACMatcher(words)
	if m == nil || m.delta32 == nil {
		t.Fatal("3000 words did not make a 32-bit automaton")
	}
	small := newACMatcher(words[:3])
	if small.delta16 == nil {
		t.Fatal("3 words did not make a 16-bit automaton")
	}
	for _, in := range []string{"", "nothing here", "xx" + strings.ToUpper(words[2999]) + "yy", words[0], "w0x0", "W7919X1-", strings.Repeat("w1x", 100)} {
		want := false
		for _, w := range words {
			if strings.Contains(strings.ToLower(in), w) {
				want = true
			}
		}
		if got := m.contains(in); got != want {
			t.Errorf("contains(%q) = %v, want %v", in, got, want)
		}
	}
}
