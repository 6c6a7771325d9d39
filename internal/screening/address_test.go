package screening

import (
	"testing"

	"github.com/rampart-edge/rampart/internal/entity"
)

func TestMatchAddress(t *testing.T) {
	ents := []entity.Entity{
		{ID: "ofac-sdn:306", List: "OFAC SDN", Name: "BANCO NACIONAL DE CUBA", Kind: entity.Organization,
			Addresses: []entity.Address{
				{Street: "Zweierstrasse 35", City: "Zurich CH-8022", Country: "Switzerland", CountryCode: "CH"},
				{Street: "Avenida de Concha Espina 8", City: "Madrid", PostalCode: "E-28036", Country: "Spain", CountryCode: "ES"},
			}},
		{ID: "x:1", Name: "ONLY A CITY", Kind: entity.Organization,
			Addresses: []entity.Address{{City: "Tehran", Country: "Iran"}, {Street: "Tehran", Country: "Iran"}}},
	}
	ix := NewIndex(ents)
	tests := []struct {
		name, addr string
		want       string
	}{
		{"same street and city", "Zweierstrasse 35, 8022 Zürich, Switzerland", "ofac-sdn:306"},
		{"case and accents", "AVENIDA DE CONCHA ESPINA 8; E-28036 Madrid", "ofac-sdn:306"},
		{"same street, other city", "Zweierstrasse 35, 8003 Bern, Switzerland", ""},
		{"other number", "Zweierstrasse 37, 8022 Zurich, Switzerland", ""},
		{"street only", "Zweierstrasse 35", ""},
		{"a city alone is too generic", "Tehran, Iran", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := ix.MatchAddress(tt.addr)
			got := ""
			if len(ms) > 0 {
				got = ms[0].ID
			}
			if got != tt.want || len(ms) > 1 {
				t.Fatalf("MatchAddress(%q) = %+v, want %q", tt.addr, ms, tt.want)
			}
			if got != "" && ms[0].Explanation == "" {
				t.Error("match without an explanation")
			}
		})
	}
}
