// Package screeneval measures a name-screening engine against a labelled
// query set in the format of testdata/screening-eval/dev.jsonl: recall@1,
// recall@5, recall at an operating threshold, precision and the false
// positive rate on true negatives at that threshold, per kind of variation
// and over a threshold sweep.
package screeneval

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/rampart-edge/rampart/internal/entity"
)

// Case is one labelled query.
type Case struct {
	Query  string   `json:"query"`
	Type   string   `json:"type"`   // individual, entity, vessel, aircraft, any
	Expect []string `json:"expect"` // SDN ent_nums; empty for a true negative
	Kind   string   `json:"kind"`   // how the query was made
	Sub    string   `json:"sub,omitempty"`
	// From is the listed name a positive was derived from. It is kept for
	// debugging only; engines must never see it.
	From string `json:"from,omitempty"`
}

// Negative reports whether the case is a true negative.
func (c Case) Negative() bool { return len(c.Expect) == 0 }

// EntityKind maps the case type to an entity kind; "any" (and anything
// unknown) maps to "", meaning all kinds.
func (c Case) EntityKind() entity.Kind {
	switch c.Type {
	case "individual":
		return entity.Person
	case "entity":
		return entity.Organization
	case "vessel":
		return entity.Vessel
	case "aircraft":
		return entity.Aircraft
	}
	return ""
}

// Load reads a JSON Lines case file.
func Load(path string) ([]Case, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening eval set: %w", err)
	}
	defer f.Close()
	cs, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return cs, nil
}

// Read reads JSON Lines cases from r. Blank lines are skipped; a line that
// is not a valid case is an error naming the line.
func Read(r io.Reader) ([]Case, error) {
	var out []Case
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		b := strings.TrimSpace(sc.Text())
		if b == "" {
			continue
		}
		var c Case
		dec := json.NewDecoder(strings.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("parsing line %d: %w", line, err)
		}
		if strings.TrimSpace(c.Query) == "" {
			return nil, fmt.Errorf("parsing line %d: empty query", line)
		}
		if c.Kind == "" {
			return nil, fmt.Errorf("parsing line %d: missing kind", line)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading line %d: %w", line+1, err)
	}
	return out, nil
}

// Hit is one result of an engine: a native list id (the SDN ent_num, or a
// full id such as "ofac-sdn:123") and a score.
type Hit struct {
	ID    string
	Score float64
}

// Engine answers one query with results best first.
type Engine func(query string, kind entity.Kind) []Hit

// Outcome is the engine's answer to one case, kept for reporting.
type Outcome struct {
	Case Case
	Hits []Hit
}

// Run sends every case to the engine.
func Run(cases []Case, eng Engine) []Outcome {
	out := make([]Outcome, len(cases))
	for i, c := range cases {
		out[i] = Outcome{Case: c, Hits: eng(c.Query, c.EntityKind())}
	}
	return out
}

// nativeID strips a "source:" prefix.
func nativeID(id string) string {
	if i := strings.LastIndexByte(id, ':'); i >= 0 {
		return id[i+1:]
	}
	return id
}

func expected(c Case, id string) bool {
	return slices.Contains(c.Expect, nativeID(id))
}

// Metrics are the figures for one group of outcomes at one threshold.
type Metrics struct {
	Threshold       float64
	Positives       int
	Negatives       int
	RecallAt1       float64 // first result expected
	RecallAt5       float64 // an expected id among the first five
	RecallAtT       float64 // an expected id scores >= threshold
	Precision       float64 // queries with alerts whose alerts include an expected id
	ResultPrecision float64 // alerting results that are expected ids
	FPR             float64 // negatives with any alert
	Top1AtT         float64 // first result expected and >= threshold
	Top5AtT         float64 // an expected id among the first five and >= threshold
}

// Compute returns the metrics of outs at threshold t.
func Compute(outs []Outcome, t float64) Metrics {
	m := Metrics{Threshold: t}
	var r1, r5, rt, top1t, top5t, alertQ, goodQ, alertR, goodR, fp int
	for _, o := range outs {
		anyAlert, goodAlert := false, false
		for _, h := range o.Hits {
			if h.Score >= t {
				anyAlert = true
				alertR++
				if expected(o.Case, h.ID) {
					goodAlert = true
					goodR++
				}
			}
		}
		if anyAlert {
			alertQ++
			if goodAlert {
				goodQ++
			}
		}
		if o.Case.Negative() {
			m.Negatives++
			if anyAlert {
				fp++
			}
			continue
		}
		m.Positives++
		for k, h := range o.Hits {
			if !expected(o.Case, h.ID) {
				continue
			}
			if k == 0 {
				r1++
				if h.Score >= t {
					top1t++
				}
			}
			if k < 5 {
				r5++
				if h.Score >= t {
					top5t++
				}
			}
			break
		}
		if goodAlert {
			rt++
		}
	}
	m.RecallAt1 = ratio(r1, m.Positives)
	m.RecallAt5 = ratio(r5, m.Positives)
	m.RecallAtT = ratio(rt, m.Positives)
	m.Top1AtT = ratio(top1t, m.Positives)
	m.Top5AtT = ratio(top5t, m.Positives)
	m.Precision = ratio(goodQ, alertQ)
	m.ResultPrecision = ratio(goodR, alertR)
	m.FPR = ratio(fp, m.Negatives)
	return m
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// ByKind groups outcomes by case kind, in sorted kind order.
func ByKind(outs []Outcome) (kinds []string, groups map[string][]Outcome) {
	groups = make(map[string][]Outcome)
	for _, o := range outs {
		groups[o.Case.Kind] = append(groups[o.Case.Kind], o)
	}
	for k := range groups {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds, groups
}

// Sweep returns the metrics at thresholds 0.50, 0.55, ..., 1.00.
func Sweep(outs []Outcome) []Metrics {
	var out []Metrics
	for k := 0; k <= 10; k++ {
		out = append(out, Compute(outs, 0.5+0.05*float64(k)))
	}
	return out
}

// Report writes the overall figures, the per-kind breakdown and the
// threshold sweep for outs at threshold t.
func Report(w io.Writer, outs []Outcome, t float64) {
	m := Compute(outs, t)
	fmt.Fprintf(w, "queries %d (positives %d, negatives %d), threshold %.2f\n", len(outs), m.Positives, m.Negatives, t)
	fmt.Fprintf(w, "recall@1 %.3f  recall@5 %.3f  recall@t %.3f  top1@t %.3f  top5@t %.3f  precision@t %.3f  result-precision@t %.3f  FPR@t %.3f\n",
		m.RecallAt1, m.RecallAt5, m.RecallAtT, m.Top1AtT, m.Top5AtT, m.Precision, m.ResultPrecision, m.FPR)
	fmt.Fprintf(w, "\n%-22s %5s %8s %8s %8s %8s\n", "kind", "n", "r@1", "r@5", "r@t", "FPR@t")
	kinds, groups := ByKind(outs)
	for _, k := range kinds {
		g := Compute(groups[k], t)
		n := len(groups[k])
		if g.Positives > 0 {
			fmt.Fprintf(w, "%-22s %5d %8.3f %8.3f %8.3f %8s\n", k, n, g.RecallAt1, g.RecallAt5, g.RecallAtT, "-")
		} else {
			fmt.Fprintf(w, "%-22s %5d %8s %8s %8s %8.3f\n", k, n, "-", "-", "-", g.FPR)
		}
	}
	fmt.Fprintf(w, "\n%-6s %8s %8s %8s %8s %8s\n", "t", "r@t", "top1@t", "prec", "res-prec", "FPR")
	for _, s := range Sweep(outs) {
		fmt.Fprintf(w, "%-6.2f %8.3f %8.3f %8.3f %8.3f %8.3f\n", s.Threshold, s.RecallAtT, s.Top1AtT, s.Precision, s.ResultPrecision, s.FPR)
	}
}
