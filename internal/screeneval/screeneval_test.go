package screeneval

import (
	"math"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/entity"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		err      string
	}{
		{"two lines", `{"query":"A B","type":"individual","expect":["1"],"kind":"exact","from":"B, A"}` + "\n\n" + `{"query":"C D","type":"any","expect":[],"kind":"negative-random","sub":"synthetic"}`, 2, ""},
		{"bad json", `{"query":`, 0, "line 1"},
		{"unknown field", `{"query":"x","kind":"exact","bogus":1}`, 0, "line 1"},
		{"empty query", "\n" + `{"query":" ","kind":"exact"}`, 0, "line 2: empty query"},
		{"missing kind", `{"query":"x"}`, 0, "missing kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := Read(strings.NewReader(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || len(cs) != tt.n {
				t.Fatalf("got %d cases, err %v", len(cs), err)
			}
		})
	}
}

func TestCompute(t *testing.T) {
	outs := []Outcome{
		{Case: Case{Expect: []string{"1"}, Kind: "exact"}, Hits: []Hit{{"ofac-sdn:1", 0.95}, {"ofac-sdn:2", 0.91}}},
		{Case: Case{Expect: []string{"3"}, Kind: "typo"}, Hits: []Hit{{"ofac-sdn:4", 0.92}, {"ofac-sdn:3", 0.85}}},
		{Case: Case{Expect: []string{"5"}, Kind: "typo"}},
		{Case: Case{Kind: "negative-random"}, Hits: []Hit{{"ofac-sdn:9", 0.93}}},
		{Case: Case{Kind: "negative-random"}, Hits: []Hit{{"ofac-sdn:9", 0.6}}},
	}
	m := Compute(outs, 0.9)
	check := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("recall@1", m.RecallAt1, 1.0/3)
	check("recall@5", m.RecallAt5, 2.0/3)
	check("recall@t", m.RecallAtT, 1.0/3)
	check("top1@t", m.Top1AtT, 1.0/3)
	check("top5@t", m.Top5AtT, 1.0/3)
	check("precision", m.Precision, 1.0/3)              // 3 queries alert, 1 has an expected id
	check("result precision", m.ResultPrecision, 1.0/4) // 4 alerting results, 1 expected
	check("FPR", m.FPR, 0.5)
	if len(Sweep(outs)) != 11 {
		t.Error("sweep should have 11 thresholds")
	}
	var b strings.Builder
	Report(&b, outs, 0.9)
	for _, want := range []string{"recall@1 0.333", "negative-random", "0.50"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

func TestEntityKind(t *testing.T) {
	for typ, want := range map[string]entity.Kind{"individual": entity.Person, "entity": entity.Organization, "vessel": entity.Vessel, "aircraft": entity.Aircraft, "any": ""} {
		if got := (Case{Type: typ}).EntityKind(); got != want {
			t.Errorf("%s -> %q, want %q", typ, got, want)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add(`{"query":"A B","type":"individual","expect":["1"],"kind":"exact"}`)
	f.Add("{}\n{\"query\":\"x\",\"kind\":\"k\"}")
	f.Fuzz(func(t *testing.T, in string) {
		cs, err := Read(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, c := range cs {
			if strings.TrimSpace(c.Query) == "" || c.Kind == "" {
				t.Fatalf("accepted invalid case %+v", c)
			}
		}
	})
}
