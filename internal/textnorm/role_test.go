package textnorm

import (
	"strings"
	"testing"
)

func TestWordRole(t *testing.T) {
	tests := []struct {
		w    string
		pos  int
		want Role
	}{
		{"the", 0, Article}, {"the", 3, Article}, {"al", 0, Article}, {"al", 1, None}, {"el", 0, Article},
		{"of", 2, Function}, {"in", 2, Function},
		{"movement", 1, Descriptor}, {"harakat", 0, Descriptor}, {"jamaat", 0, Descriptor}, {"hizb", 0, Descriptor},
		{"tehreek", 0, Descriptor}, {"partiya", 0, Descriptor}, {"xarakada", 0, Descriptor}, {"holdings", 2, Descriptor},
		{"lebanon", 1, Place}, {"somalia", 1, Place}, {"sinai", 1, Place}, {"khorasan", 1, Place},
		{"austria", 1, Place}, {"myanmar", 1, Place}, {"burma", 1, Place}, {"gaziantep", 0, Place},
		{"us", 1, None}, // a code, not a name
		{"taliban", 0, None}, {"hamas", 0, None}, {"base", 1, None}, {"chams", 1, None},
	}
	for _, tt := range tests {
		if got := WordRole(tt.w, tt.pos); got != tt.want {
			t.Errorf("WordRole(%q, %d) = %s, want %s", tt.w, tt.pos, got, tt.want)
		}
	}
}

func TestPlacePhrase(t *testing.T) {
	tests := []struct {
		words []string
		want  int
	}{
		{[]string{"north", "korea", "bank"}, 2},
		{[]string{"united", "arab", "emirates"}, 3},
		{[]string{"middle", "east"}, 2},
		{[]string{"south", "lebanon"}, 2},
		{[]string{"ras", "al", "khaimah"}, 3},
		{[]string{"south", "steel"}, 0},
		{[]string{"golden", "star"}, 0},
		{[]string{"lebanon"}, 0}, // one word is WordRole's
	}
	for _, tt := range tests {
		if got := PlacePhrase(tt.words); got != tt.want {
			t.Errorf("PlacePhrase(%q) = %d, want %d", tt.words, got, tt.want)
		}
	}
}

func TestDemonymsReadAsPlaces(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Lebanese Hezbollah", "lebanon hezbollah"},
		{"Kurdish Workers' Party", "kurdistan workers party"},
		{"Afghan Support Committee", "afghan support committee"},   // also a given name: kept
		{"Palestinian Islamic Jihad", "palestinian islamic jihad"}, // the core word of many listed names: kept
	} {
		var got []string
		for _, tok := range Analyze(tt.in) {
			got = append(got, tok.Text)
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("Analyze(%q) = %q, want %q", tt.in, g, tt.want)
		}
	}
}
