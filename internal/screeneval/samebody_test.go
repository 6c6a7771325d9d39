package screeneval_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/screeneval"
)

// TestSameBodyExpand: the equivalence links what the lists say (a UK
// entry's UN reference, a shared passport, a shared date of birth and
// name) and the hand-checked rows,
// one step only, and leaves a negative empty.
func TestSameBodyExpand(t *testing.T) {
	if testing.Short() {
		t.Skip("loads every bundled list")
	}
	sb := sameBodies(t)
	tests := []struct {
		name     string
		in       []string
		want     []string // must all be in the expansion
		wantNot  []string // must not be
		wantSame bool     // the expansion is the input
	}{
		{"negative stays empty", nil, nil, nil, true},
		{"UK's UN reference column", []string{"un:TAi.020"}, []string{"uk:7278"}, nil, false},
		{"UK's UN reference column, other way", []string{"uk:7538"}, []string{"un:TAi.095"}, nil, false},
		{"same passport W342058 on OFAC and UN", []string{"un:QDi.353"}, []string{"ofac-sdn:17967"}, nil, false},
		{"same full date of birth and two name words", []string{"un:CDi.022"}, []string{"ofac-sdn:10035"}, nil, false},
		{"'circa 1957' is no date of birth to link by", []string{"un:TAi.148"}, nil, []string{"ofac-sdn:11177"}, false},
		{"the UK's IRi.012 for AGHAJANI is the UN's DASTJERDI: no shared name word, no link", []string{"uk:16164"}, nil, []string{"un:IRi.012"}, false},
		{"OFAC's TABATABAEI carries the UN AGHAJANI's passports: no link", []string{"un:IRi.003"}, nil, []string{"ofac-sdn:13106"}, false},
		{"the UK's HTi.009 Herard is the bundled UN list's SANON: no link", []string{"un:HTi.009"}, nil, []string{"uk:17199"}, false},
		{"hand row: First East Export Bank", []string{"uk:17107", "un:IRe.021"}, []string{"ofac-sdn:25681"}, nil, false},
		{"hand row: Huwaysh", []string{"uk:7615", "un:IQi.019"}, []string{"ofac-sdn:7861"}, nil, false},
		{"hand row: Kalaye Electric, not its department RAKA", []string{"un:IRe.032"}, []string{"ofac-sdn:10122", "uk:16124"}, []string{"uk:11216"}, false},
		{"one step: al-Mourabitoun reaches OFAC's hub, not al-Moulathamoun", []string{"un:QDe.141"}, []string{"ofac-sdn:16446", "uk:12985"}, []string{"un:QDe.140"}, false},
		{"unlinked id stays alone", []string{"ofac-sdn:4703"}, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sb.Expand(tt.in)
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("Expand(%v) = %v, lacks %s", tt.in, got, w)
				}
			}
			for _, w := range tt.wantNot {
				if slices.Contains(got, w) {
					t.Errorf("Expand(%v) = %v, holds %s", tt.in, got, w)
				}
			}
			if tt.wantSame && !slices.Equal(got, tt.in) {
				t.Errorf("Expand(%v) = %v, want it unchanged", tt.in, got)
			}
			if !slices.IsSorted(got) {
				t.Errorf("Expand(%v) = %v, not sorted", tt.in, got)
			}
		})
	}
}

// TestSameBodyGroups checks every group against the lists: each id is
// listed, all of one kind, on at least two lists or under two ids; the
// hand file's rows each have a note.
func TestSameBodyGroups(t *testing.T) {
	if testing.Short() {
		t.Skip("loads every bundled list")
	}
	ents, _, _ := allLists(t)
	byID := map[string]*entity.Entity{}
	for i := range ents {
		byID[ents[i].ID] = &ents[i]
	}
	sb := sameBodies(t)
	auto := 0
	hand := readTSV(t, "same-body.tsv", 2)
	for _, row := range hand {
		if len(row[1]) < 20 {
			t.Errorf("same-body.tsv row %s: the note %q says too little", row[0], row[1])
		}
		if len(strings.Split(row[0], ",")) < 2 {
			t.Errorf("same-body.tsv row %s: one id", row[0])
		}
	}
	for _, g := range sb.Groups() {
		var kind entity.Kind
		for i, id := range g {
			e, ok := byID[id]
			if !ok {
				t.Errorf("group %v: %s is not listed", g, id)
				continue
			}
			if i == 0 {
				kind = e.Kind
			} else if e.Kind != kind {
				t.Errorf("group %v: %s is a %s, not a %s", g, id, e.Kind, kind)
			}
		}
		auto++
	}
	auto -= len(hand)
	if auto < 1000 {
		t.Errorf("%d groups from the lists themselves, want over 1000 (the UK list gives most UN references)", auto)
	}
	t.Logf("%d groups from the lists, %d by hand", auto, len(hand))
}

// TestIssue12SetsApartSameBody checks that the dev and held-out sets stay
// apart once their right answers are widened to the same body on other
// lists (the split was made before the equivalence).
func TestIssue12SetsApartSameBody(t *testing.T) {
	if testing.Short() {
		t.Skip("loads every bundled list")
	}
	var sets [2][]screeneval.Case
	for k, f := range []string{"dev.jsonl", "heldout.jsonl"} {
		cs, err := screeneval.Load(customerDir(f))
		if err != nil {
			t.Fatal(err)
		}
		expandRight(t, cs)
		sets[k] = cs
	}
	dev := map[string]bool{}
	for _, c := range sets[0] {
		for _, id := range c.Expect {
			dev[id] = true
		}
	}
	shared := map[string]bool{}
	for _, c := range sets[1] {
		for _, id := range c.Expect {
			if dev[id] {
				shared[id] = true
			}
		}
	}
	if ids := slices.Sorted(maps.Keys(shared)); len(ids) > 0 {
		t.Errorf("dev and held-out share %d right answers once widened: %v", len(ids), ids)
	}
}
