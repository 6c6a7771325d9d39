package screening

import (
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists"
)

// TestCommonWordsAndOneWordVariants: against the bundled lists, three
// common words matched make an organisation's match only when the query
// left out less of the listed name than it matched, counted in
// information. A one-word name met with one vowel written for another
// still matches: vowels are where transliterations of one Arabic name
// differ (Hizbollah, HIZBALLAH), so "Interpol" against INTERPAL is left
// to review rather than capped (capping it also cost 5 typo positives of
// issue 3's held-out sets and seeds).
func TestCommonWordsAndOneWordVariants(t *testing.T) {
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
		want        string // first id, "" for none at the threshold
		note        string // for a negative: the note its best candidate carries
	}{
		// 21 bits matched (islamic, development, bank), 31 left out
		// (regional, cooperation, investment) of a listed alias.
		{"common words, most of the listed name left out", "Islamic Development Bank", "", "only common words matched"},
		{"three common words, little left out", "Islamic Regional Cooperation Bank", "ofac-sdn:13146", ""},
		{"one vowel in a one-word name: a transliteration", "Hizbollah", "ofac-sdn:4697", ""},
		{"one vowel in a one-word name: a typing error", "Hamos", "ofac-sdn:4695", ""},
		{"the one-word name itself", "Interpal", "ofac-sdn:7917", ""},
		{"common words only", "Global Trading LLC", "", ""},
		// Listed SOCIETY and CORPS are read as the legal-form words
		// societe and corp; a query typing error of them is two
		// errors from those.
		{"mistyped listed word read as a legal form", "Revival Of Islamic Heritage Sociegty", "ofac-sdn:7149", ""},
		{"mistyped listed word read as a legal form, and a typo", "Islamc Revolutionary Guard Corls Air Force", "ofac-sdn:12055", ""},
		{"mistyped Romanian legal form", "Okaf Trading Societatea Cu Raspundere Limoitata", "ofac-sdn:36258", ""},
		// One typing error in a short word next to a rare word.
		{"short word, one error, three words", "Jahan Ars Kih", "ofac-sdn:24536", ""},
		{"short word, one error, a person", "Alu Rezvani", "ofac-sdn:39938", ""},
		// ... but not next to a common one: EP is the prefix of every
		// Iranian aircraft registration.
		{"short word, one error, common word beside", "Ep-mo", "", ""},
		// Two words typed without the space between them.
		{"glued legal form", "Ocean Electronics Limited LiabilityCompany", "ofac-sdn:43286", ""},
		{"glued words", "Joint Stock CompanyRussian Copper Company", "ofac-sdn:44990", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind := entity.Organization
			if strings.HasPrefix(tt.name, "short word, one error, a person") {
				kind = entity.Person
			}
			if strings.Contains(tt.query, "-") {
				kind = "" // a registration
			}
			ms := svc.Screen(Query{Name: tt.query, Kind: kind}).Matches
			if tt.want == "" {
				if len(ms) > 0 {
					t.Fatalf("%q: got %s %.3f (%s), want none", tt.query, ms[0].ID, ms[0].Score, ms[0].Explanation)
				}
				if tt.note != "" {
					low := svc.Index().Search(Query{Name: tt.query, Kind: entity.Organization}, 0.5)
					if len(low) == 0 || !strings.Contains(low[0].Explanation, tt.note) {
						t.Fatalf("%q: best candidate %v, want one noting %q", tt.query, low, tt.note)
					}
				}
				return
			}
			if len(ms) == 0 || ms[0].ID != tt.want || ms[0].Score < DefaultThreshold {
				t.Fatalf("%q: got %v, want %s first at the threshold", tt.query, ms, tt.want)
			}
		})
	}
}
