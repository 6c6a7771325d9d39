package admin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/token"
)

// fixedScreener answers every query with the same three matches, so the
// benchmark measures the API's own cost (auth, decoding, encoding).
type fixedScreener struct{ res screening.Result }

func (f fixedScreener) Screen(screening.Query) screening.Result { return f.res }

func newFixedScreener() fixedScreener {
	m := screening.Match{ID: "ofac-sdn:4695", List: "OFAC SDN", Name: "HAMAS", MatchedName: "HAMAS",
		Kind: "organization", Programs: []string{"SDGT", "FTO"}, Score: 1,
		Explanation: `matched primary name "HAMAS": tokens hamas=hamas`}
	return fixedScreener{screening.Result{
		Matches: []screening.Match{m, m, m},
		Lists:   map[string]string{"ofac-sdn": strings.Repeat("a", 64), "un": strings.Repeat("b", 64)},
	}}
}

// BenchmarkScreenHandler measures POST /v1/screen through the handler
// without a network, with a screener that costs nothing.
func BenchmarkScreenHandler(b *testing.B) {
	tokens := token.NewMemory()
	plain, _, err := tokens.Create(token.Read, "")
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Options{Tokens: tokens, Screening: newFixedScreener()})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	const body = `{"name":"Hamas","kind":"organization","country":"PS","limit":10}`
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("POST", "/v1/screen", strings.NewReader(body))
			r.Header.Set("Authorization", "Bearer "+plain)
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}
