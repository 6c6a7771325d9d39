package waf

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"

	ahocorasick "github.com/petar-dambovaliev/aho-corasick"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// rampart's @pm and @pmFromFile operators replace Coraza's
// (internal/operators/pm.go and pm_from_file.go in coraza v3.8.1): the same
// dictionaries, matchers, verdicts and captures, with one step before
// them. Coraza's matcher (github.com/petar-dambovaliev/aho-corasick; an NFA
// for @pmFromFile) allocates an iterator per evaluation and, for the CRS's
// big word lists over a 4 KiB form field, walks the NFA byte by byte: 15%
// of a 4 KiB form POST's CPU. rampart first runs the prefilter's DFA
// (acMatcher) over the same words: a value that contains none of them, ASCII
// case ignored as Coraza's matcher ignores it, cannot match, and the answer
// is false without Coraza's matcher. acMatcher reads U+017F and U+212A as
// "s" and "k", which Coraza's matcher does not: that only sends more values
// on to it, never fewer. A dictionary with a word that is empty or not ASCII
// gets no prefilter.
type pm struct {
	*pmCompiled
}

type pmCompiled struct {
	matcher ahocorasick.AhoCorasick
	minLen  int
	pf      *acMatcher // nil: every value long enough goes to matcher
}

// newPM is Coraza's newPM with the prefilter.
func newPM(options plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	data := strings.ToLower(options.Arguments)
	dict := strings.Split(data, " ")
	c, err := memoizeDo(options.Memoizer, "rampart-pm:"+data, func() (any, error) {
		return compilePM(dict, true), nil
	})
	if err != nil {
		return nil, err
	}
	return &pm{c.(*pmCompiled)}, nil
}

// newPMFromFile is Coraza's newPMFromFile with the prefilter.
func newPMFromFile(options plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	file := options.Arguments
	data, err := loadFromFile(file, options.Path, options.Root)
	if err != nil {
		return nil, err
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		lines = append(lines, strings.ToLower(l))
	}
	c, err := memoizeDo(options.Memoizer, "rampart-pmf:"+strings.Join(options.Path, ",")+file, func() (any, error) {
		return compilePM(lines, false), nil
	})
	if err != nil {
		return nil, err
	}
	return &pm{c.(*pmCompiled)}, nil
}

// compilePM builds Coraza's matcher for dict (with Coraza's options: a DFA
// for @pm, an NFA for @pmFromFile) and the prefilter.
func compilePM(dict []string, dfa bool) *pmCompiled {
	builder := ahocorasick.NewAhoCorasickBuilder(ahocorasick.Opts{
		AsciiCaseInsensitive: true,
		MatchOnlyWholeWords:  false,
		MatchKind:            ahocorasick.LeftMostLongestMatch,
		DFA:                  dfa,
	})
	c := &pmCompiled{matcher: builder.Build(dict), minLen: minPatternLen(dict)}
	usable := len(dict) > 0
	for _, w := range dict {
		if w == "" || !isASCII(w) {
			usable = false
			break
		}
	}
	if usable {
		// A word's prefix is in every value holding the word; prefixes
		// keep the automaton small (the CRS's file lists hold hundreds
		// of long words).
		fs := make([]string, len(dict))
		for i, w := range dict {
			fs[i] = w[:min(len(w), pmPrefixLen)]
		}
		c.pf = newACMatcher(simplifyFactors(fs))
	}
	return c
}

func (o *pm) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if len(value) < o.minLen {
		return false
	}
	if o.pf != nil && !o.pf.contains(value) {
		return false
	}
	return pmEvaluate(o.matcher, tx, value)
}

// pmEvaluate, minPatternLen and loadFromFile are copied from Coraza v3.8.1
// (internal/operators/pm.go and from_file.go, Apache License 2.0).
func pmEvaluate(matcher ahocorasick.AhoCorasick, tx plugintypes.TransactionState, value string) bool {
	iter := matcher.Iter(value)
	if !tx.Capturing() {
		// Not capturing so just one match is enough.
		return iter.Next() != nil
	}
	var numMatches int
	for {
		m := iter.Next()
		if m == nil {
			break
		}
		tx.CaptureField(numMatches, value[m.Start():m.End()])
		numMatches++
		if numMatches == 10 {
			return true
		}
	}
	return numMatches > 0
}

// minPatternLen returns the length of the shortest pattern, 0 when one is
// empty (it matches every input) or there are none.
func minPatternLen(patterns []string) int {
	m := 0
	for _, p := range patterns {
		if len(p) == 0 {
			return 0
		}
		if m == 0 || len(p) < m {
			m = len(p)
		}
	}
	return m
}

var errEmptyDirs = errors.New("empty dirs")

func loadFromFile(filepath string, dirs []string, root fs.FS) ([]byte, error) {
	if path.IsAbs(filepath) {
		return fs.ReadFile(root, filepath)
	}
	if len(dirs) == 0 {
		return nil, errEmptyDirs
	}
	// CRS stores the .data files in the same directory as the directives.
	var (
		content []byte
		err     error
	)
	for _, p := range dirs {
		content, err = fs.ReadFile(root, path.Join(p, filepath))
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return nil, err
		}
		return content, nil
	}
	return nil, err
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// pmPrefixLen is how much of each dictionary word the prefilter keeps:
// longer than the @rx factors (maxFactorLen), as the CRS's word lists
// share prefixes ("/etc/", "array_") that benign text holds; 8 bytes
// cost 2.7 MiB of automata less than whole words (about 5 MiB).
const pmPrefixLen = 8
