package waf

import (
	"slices"
	"strings"
	"testing"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// TestPMPrefilterCRS runs every CRS @pm and @pmFromFile dictionary both
// ways, with and without the prefilter, on the CRS regression tests'
// inputs, their transformed variants and extraInputs: identical verdicts
// and, with capturing on, identical captures.
func TestPMPrefilterCRS(t *testing.T) {
	t.Parallel()
	inputs := crsInputs(t)
	var all []string
	seen := map[string]bool{}
	for _, group := range inputs {
		for _, in := range append(slices.Clone(group), extraInputs...) {
			for _, v := range variants(in) {
				if !seen[v] {
					seen[v] = true
					all = append(all, v)
				}
			}
		}
	}
	type operand struct {
		crsPattern
		newOp func(plugintypes.OperatorOptions) (plugintypes.Operator, error)
	}
	var ops []operand
	for _, p := range crsOperands(t, "@pm ") {
		ops = append(ops, operand{p, newPM})
	}
	for _, p := range crsOperands(t, "@pmFromFile ") {
		ops = append(ops, operand{p, newPMFromFile})
	}
	if len(ops) < 25 {
		t.Fatalf("found %d @pm and @pmFromFile operands in the embedded CRS, want the ~33 it has", len(ops))
	}
	withPF, evals, matches, skipped := 0, 0, 0, 0
	for _, o := range ops {
		op, err := o.newOp(plugintypes.OperatorOptions{Arguments: o.pattern, Path: []string{"@owasp_crs"}, Root: coreruleset.FS})
		if err != nil {
			t.Fatalf("%s:%d: %q: %v", o.file, o.line, o.pattern, err)
		}
		p := op.(*pm)
		if p.pf != nil {
			withPF++
		}
		plain := &pm{&pmCompiled{matcher: p.matcher, minLen: p.minLen}}
		for _, in := range all {
			evals++
			want := &captureState{capturing: true}
			got := &captureState{capturing: true}
			w, g := plain.Evaluate(want, in), p.Evaluate(got, in)
			if w != g || !mapsEqual(want.fields, got.fields) {
				t.Errorf("%s:%d: %.40q on %q: with prefilter %v %v, without %v %v", o.file, o.line, o.pattern, in, g, got.fields, w, want.fields)
			}
			if w {
				matches++
			} else if p.pf != nil && len(in) >= p.minLen && !p.pf.contains(in) {
				skipped++
			}
			if nc := p.Evaluate(&captureState{}, in); nc != w {
				t.Errorf("%s:%d: %.40q on %q: %v without capturing, %v with", o.file, o.line, o.pattern, in, nc, w)
			}
		}
	}
	t.Logf("%d operands (%d with a prefilter), %d evaluations, %d matches, %d non-matches proved by the prefilter", len(ops), withPF, evals, matches, skipped)
	if withPF < len(ops)*8/10 {
		t.Errorf("only %d of %d dictionaries have a prefilter", withPF, len(ops))
	}
	if matches < 100 || skipped < (evals-matches)/2 {
		t.Errorf("%d matches, %d of %d non-matches proved: the inputs do not exercise the operators", matches, skipped, evals-matches)
	}
}

func mapsEqual(a, b map[int]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestPMFromFileErrors(t *testing.T) {
	t.Parallel()
	if _, err := newPMFromFile(plugintypes.OperatorOptions{Arguments: "no-such.data", Path: []string{"@owasp_crs"}, Root: coreruleset.FS}); err == nil {
		t.Error("a missing data file compiled")
	}
	if _, err := newPMFromFile(plugintypes.OperatorOptions{Arguments: "unix-shell.data", Root: coreruleset.FS}); err == nil || !strings.Contains(err.Error(), "empty dirs") {
		t.Errorf("a relative data file without a path: %v, want the empty dirs error", err)
	}
}
