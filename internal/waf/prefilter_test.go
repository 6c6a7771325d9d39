package waf

import (
	"regexp/syntax"
	"testing"
)

func TestPrefilterStatsDebug(t *testing.T) {
	patterns := crsPatterns(t)
	withAC, ascii, none := 0, 0, 0
	for _, p := range patterns {
		pf := newPrefilter("(?sm)" + p.pattern)
		switch {
		case pf == nil:
			none++
			t.Logf("NONE %s:%d %.80q", p.file, p.line, p.pattern)
		case pf.ac == nil:
			none++
			t.Logf("MINLEN-ONLY %d %s:%d %.80q", pf.minLen, p.file, p.line, p.pattern)
		default:
			withAC++
			if pf.asciiOnly {
				ascii++
			}
			x := extractor{}
			re := mustParse(p.pattern)
			f := x.info(re).condition()
			if len(f) > 6 {
				f = f[:6]
			}
			t.Logf("AC states=%d classes=%d min=%d %s:%d %q", len(pf.ac.out), pf.ac.nclass, pf.minLen, p.file, p.line, f)
		}
	}
	t.Logf("%d patterns: %d with factors (%d ascii-only), %d without", len(patterns), withAC, ascii, none)
}

func mustParse(p string) *syntax.Regexp {
	re, err := syntax.Parse("(?sm)"+p, syntax.Perl)
	if err != nil {
		panic(err)
	}
	return re.Simplify()
}
