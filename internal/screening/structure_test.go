package screening

import (
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists"
)

// TestServiceReadsStructure screens through Service.Screen, the path the
// onboarding gate (compliance.ScreenAccount) and POST /v1/screen share,
// against the bundled lists: each query structure is read there, and its
// explanation says what was set aside or screened separately.
func TestServiceReadsStructure(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the index over every bundled list")
	}
	store, err := lists.Open("", nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := NewService(store, 0)
	tests := []struct {
		name, query string
		want        string // first id, "" for none
		explain     []string
	}{
		{"leading article", "The Taliban", "ofac-sdn:6636", []string{"ignored: the"}},
		{"descriptor", "Hamas Movement", "ofac-sdn:4695", []string{"ignored: movement"}},
		{"transliterated descriptor", "Harakat Taliban", "ofac-sdn:6636", []string{"ignored: harakat"}},
		{"place", "Al-Shabaab Somalia", "ofac-sdn:10761", []string{"ignored: somalia"}},
		{"function word and place", "Islamic Jihad Movement in Palestine", "ofac-sdn:4707", []string{"ignored: movement"}},
		{"parenthesised acronym", "Kurdistan Workers Party (PKK)", "ofac-sdn:4702", []string{`screened separately: "Kurdistan Workers Party"`, "PKK"}},
		{"dash", "HAMAS - Islamic Resistance Movement", "ofac-sdn:4695", []string{`screened separately: "HAMAS"`}},
		{"slash", "Hizballah / Party of God", "ofac-sdn:4697", []string{"screened separately"}},
		{"aka", "Taliban, also known as Islamic Emirate of Afghanistan", "ofac-sdn:6636", []string{`screened separately: "Taliban"`}},
		{"place piece joins the name", "Makin Company - Tehran", "ofac-sdn:11790", []string{"ignored: tehran"}},
		{"legal form kept", "Red Eagle Roofing LLC", "", nil},
		{"common words only", "Global Trading LLC", "", nil},
		{"extra words", "The Base Climbing Gym", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := svc.Screen(Query{Name: tt.query, Kind: entity.Organization}).Matches
			if tt.want == "" {
				if len(ms) > 0 {
					t.Fatalf("%q: got %s %.3f (%s), want none", tt.query, ms[0].ID, ms[0].Score, ms[0].Explanation)
				}
				return
			}
			if len(ms) == 0 || ms[0].ID != tt.want {
				t.Fatalf("%q: got %v, want %s first", tt.query, ms, tt.want)
			}
			if ms[0].Score < DefaultThreshold {
				t.Fatalf("%q: score %.3f", tt.query, ms[0].Score)
			}
			for _, e := range tt.explain {
				if !strings.Contains(ms[0].Explanation, e) {
					t.Errorf("%q: explanation %q lacks %q", tt.query, ms[0].Explanation, e)
				}
			}
		})
	}
}
