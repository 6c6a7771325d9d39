package waf

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	re2 "github.com/wasilibs/go-re2"
	"rsc.io/binaryregexp"
)

// rampart's @rx operator replaces Coraza's (internal/operators/rx.go in
// coraza v3.8.1) in the process, for every WAF compiled after
// registerRX; it matches exactly what Coraza's matches, faster.
//
// The profile of the Core Rule Set on benign traffic is dominated by
// Go's regexp package: it has no DFA, so each of the ~800 @rx evaluations
// of a GET and, worse, each evaluation over a 4 KiB form field runs a
// backtracker or the Pike VM over big alternations (25 ms of CPU for a
// 4 KiB form at paranoia 1). This operator changes the following, none
// of which changes what matches:
//
//   - a prefilter (prefilter.go) first tries to prove that the value
//     cannot match: shorter than any match, or containing none of the
//     literal factors every match contains (one Aho-Corasick automaton per
//     pattern, ASCII case ignored). On the CRS regression inputs it proves
//     three quarters of the non-matches, and no regular expression runs
//     for them.
//   - the pattern runs on RE2 (github.com/wasilibs/go-re2, RE2 compiled
//     to WebAssembly and translated to Go: no cgo), whose lazy DFA scans
//     an input once whatever the pattern size. RE2 and Go's regexp share
//     the syntax and the leftmost-first semantics; they differ on invalid
//     UTF-8, where Go reads each invalid byte as U+FFFD and goes on while
//     RE2 stops. So an input that is not valid UTF-8 (t:base64Decode and
//     t:hexDecode make them out of benign text) goes to RE2 with each
//     invalid byte replaced by U+FFFD: the runes Go's regexp would read,
//     so the same verdict, and an invalid byte cannot hide what follows
//     it. A match on such an input is captured by Go's regexp, on the
//     input itself. A pattern RE2 refuses (none of CRS 4.25's) runs on
//     Go's regexp alone.
//   - a rule that captures (the CRS's "capture" action, 705 of the 791
//     evaluations of a GET) first asks whether the pattern matches at all,
//     which RE2 answers from the DFA; the submatch search, ten times
//     dearer, runs only on a match, which benign traffic rarely has.
//
// Coraza's own experimental literal pre-filter (SecRxPreFilter) is not
// used, here or in Directives: on CRS 4.25 it misses a match Go's regexp
// finds (rule 932200's IMAP pattern on "\r\nd store 2 +FLAGS (\\Deleted)",
// a CRS regression test), so it would cost detection. rampart's prefilter
// is checked against Go's regexp on every CRS pattern and the CRS
// regression inputs (TestPrefilterCRS) and fuzzed (FuzzPrefilter).
// Patterns that match arbitrary bytes (not valid UTF-8 once unescaped)
// run on rsc.io/binaryregexp as in Coraza.
var registerRXOnce sync.Once

// registerRX installs rampart's @rx, @pm and @pmFromFile (pm.go)
// operators. NewSet calls it, so that programs using Coraza without a Set
// (bench/waf/wraphandler) keep Coraza's.
func registerRX() {
	registerRXOnce.Do(func() {
		plugins.RegisterOperator("rx", newRX)
		plugins.RegisterOperator("pm", newPM)
		plugins.RegisterOperator("pmFromFile", newPMFromFile)
		plugins.RegisterOperator("pmf", newPMFromFile)
	})
}

// rxCompiled is what a pattern compiles to, shared by every rule and WAF
// using the same pattern through Coraza's memoizer.
type rxCompiled struct {
	data string      // "(?sm)" + the pattern
	re2  *re2.Regexp // nil: RE2 refused the pattern
	// pf proves non-matches before any regular expression runs
	// (prefilter.go); nil when nothing can be proved.
	pf *prefilter

	// std is Go's compiled regexp, for inputs that are not valid UTF-8
	// (and every input when RE2 refused the pattern). It is compiled on
	// first use: the CRS's Go regexps hold about 7 MiB of pointer-rich
	// heap per compiled rule set, which every GC cycle would mark, for
	// inputs benign traffic rarely sends.
	stdOnce sync.Once
	std     *regexp.Regexp
}

// goRegexp returns the pattern compiled by Go's regexp.
func (c *rxCompiled) goRegexp() *regexp.Regexp {
	c.stdOnce.Do(func() {
		if c.std == nil {
			// newRX compiled it once already: it cannot fail.
			c.std = regexp.MustCompile(c.data)
		}
	})
	return c.std
}

type rx struct{ *rxCompiled }

func newRX(options plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	// Coraza's default (no coraza.rule.no_regex_multiline build tag):
	// dot matches newline, ^ and $ match at line breaks.
	data := "(?sm)" + options.Arguments
	if matchesArbitraryBytes(data) {
		return newBinaryRX(options)
	}
	key := "rampart-rx:" + data
	compiled, err := memoizeDo(options.Memoizer, key, func() (any, error) {
		// Go's regexp decides what is a valid pattern, as in Coraza.
		std, err := regexp.Compile(data)
		if err != nil {
			return nil, err
		}
		c := &rxCompiled{data: data, pf: newPrefilter(data)}
		if r, err := re2.Compile(data); err == nil {
			c.re2 = r
		} else {
			c.std = std
		}
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return &rx{compiled.(*rxCompiled)}, nil
}

func memoizeDo(m plugintypes.Memoizer, key string, fn func() (any, error)) (any, error) {
	if m != nil {
		return m.Do(key, fn)
	}
	return fn()
}

// Evaluate reports whether value matches, capturing the match and its
// groups (up to 9) when the rule captures.
func (o *rx) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if o.pf != nil && !o.pf.mayMatch(value) {
		return false
	}
	if o.re2 == nil {
		return o.capture(tx, value, true)
	}
	if utf8.ValidString(value) {
		if !o.re2.MatchString(value) {
			return false
		}
		return o.capture(tx, value, false)
	}
	// Go's regexp reads each byte of an invalid sequence as U+FFFD; so
	// does RE2 on the input with each such byte replaced by U+FFFD's
	// encoding: the same runes, so the same verdict. The offsets differ,
	// so a match is captured by Go's regexp on the input itself.
	if !o.re2.MatchString(replaceInvalidUTF8(value)) {
		return false
	}
	return o.capture(tx, value, true)
}

// capture reports a match of value, capturing the match and its groups
// (up to 9) with Go's regexp (useGo) or RE2 when the rule captures. RE2
// has found the match already, unless there is no RE2 for the pattern.
func (o *rx) capture(tx plugintypes.TransactionState, value string, useGo bool) bool {
	if !tx.Capturing() {
		if o.re2 == nil {
			return o.goRegexp().MatchString(value)
		}
		return true
	}
	var m []int
	if useGo {
		m = o.goRegexp().FindStringSubmatchIndex(value)
	} else {
		m = o.re2.FindStringSubmatchIndex(value)
	}
	if m == nil {
		// With RE2, the pattern is known to match (this cannot
		// happen); with Go's regexp alone, it does not.
		return o.re2 != nil
	}
	for i := 0; i < len(m)/2 && i < 9; i++ {
		if m[2*i] >= 0 {
			tx.CaptureField(i, value[m[2*i]:m[2*i+1]])
		} else {
			tx.CaptureField(i, "")
		}
	}
	return true
}

// replaceInvalidUTF8 returns s with each byte that is not part of a valid
// UTF-8 sequence replaced by U+FFFD, as Go's regexp reads it (unlike
// strings.ToValidUTF8, which replaces a run of such bytes by one).
func replaceInvalidUTF8(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// binaryRX matches patterns with byte escapes that are not UTF-8, as
// Coraza's binaryRX does.
type binaryRX struct{ re *binaryregexp.Regexp }

func newBinaryRX(options plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	data := options.Arguments
	re, err := memoizeDo(options.Memoizer, "rampart-binrx:"+data, func() (any, error) { return binaryregexp.Compile(data) })
	if err != nil {
		return nil, err
	}
	return &binaryRX{re: re.(*binaryregexp.Regexp)}, nil
}

func (o *binaryRX) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if !tx.Capturing() {
		return o.re.MatchString(value)
	}
	match := o.re.FindStringSubmatch(value)
	if len(match) == 0 {
		return false
	}
	for i, c := range match {
		if i == 9 {
			return true
		}
		tx.CaptureField(i, c)
	}
	return true
}

// matchesArbitraryBytes reports whether expr, its \xNN escapes decoded,
// is not valid UTF-8; copied from Coraza v3.8.1
// (internal/operators/rx.go, Apache License 2.0).
func matchesArbitraryBytes(expr string) bool {
	decoded := make([]byte, 0, len(expr))
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		if c != '\\' {
			decoded = append(decoded, c)
			continue
		}
		if i+3 >= len(expr) {
			decoded = append(decoded, expr[i:]...)
			break
		}
		if expr[i+1] != 'x' {
			decoded = append(decoded, expr[i])
			continue
		}
		sub := expr[i:]
		advance := 3
		if len(sub) >= 6 && sub[2] == '{' {
			if end := strings.IndexByte(sub, '}'); end != -1 {
				sub = `\x` + sub[3:end]
				advance = end
			}
		}
		v, mb, _, err := strconv.UnquoteChar(sub, 0)
		if err != nil || mb {
			decoded = append(decoded, expr[i])
			continue
		}
		decoded = append(decoded, byte(v))
		i += advance
	}
	return !utf8.Valid(decoded)
}
