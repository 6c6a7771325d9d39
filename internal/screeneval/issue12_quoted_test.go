package screeneval_test

import (
	"slices"
	"testing"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/screening"
)

// issue12Quoted is every name issue 12 quotes, with the right answer: the
// ids that may come first at or above the operating threshold (the same
// group on several lists), or none for "no match at all". knownFailing
// marks names the matcher does not get right yet: the test reports them
// and does not fail on them, and the number of them may only fall (flip
// the marker when a change fixes one).
var issue12Quoted = []struct {
	query        string
	kind         entity.Kind // "": no hint
	want         []string    // nil: nothing at or above the threshold
	minScore     float64     // the first right id scores at least this
	knownFailing bool
}{
	{"The Taliban", "", []string{"ofac-sdn:6636"}, 0.99, false},
	{"Hamas Movement", "", []string{"ofac-sdn:4695"}, 0.99, true},
	{"Kurdistan Workers Party (PKK)", "", []string{"ofac-sdn:4702", "uk:7231"}, 0, false},
	{"HAMAS - Islamic Resistance Movement", "", []string{"ofac-sdn:4695"}, 0, false},
	{"Hezbollah Lebanon", "", []string{"ofac-sdn:4697", "uk:13804"}, 0, false},
	{"Al-Shabaab Somalia", "", []string{"ofac-sdn:10761", "uk:11090", "un:SOe.001"}, 0, false},
	{"Islamic Jihad Movement in Palestine", "", []string{"ofac-sdn:4707"}, 0, false},
	{"The Islamic State", "", []string{"ofac-sdn:8759", "uk:8441", "un:QDe.115"}, 0, false},
	{"طالبان", "", []string{"ofac-sdn:6636"}, 0, false},
	{"حزب الله", "", []string{"ofac-sdn:4697", "uk:13804"}, 0, false},
	{"حماس", "", []string{"ofac-sdn:4695"}, 0, false},
	{"داعش", "", []string{"ofac-sdn:8759", "uk:8441", "un:QDe.115"}, 0, false},
	{"الشباب", "", []string{"ofac-sdn:10761", "uk:11090", "un:SOe.001"}, 0, false},
	{"Ηezbollah", "", []string{"ofac-sdn:4697", "uk:13804"}, 0, false}, // Greek capital Eta
	{"Red Eagle Roofing LLC", "", nil, 0, false},
	{"The Base Climbing Gym", "", nil, 0, false},
	{"Global Trading LLC", "", nil, 0, false},
	// "goes to review through an exchange house": onboarded as an
	// organisation (a sole trader's name), no organisation may match; people
	// named Ali Mohammed are listed, and match with no hint.
	{"Mohammed Ali", entity.Organization, nil, 0, false},
}

// issue12MaxKnownFailing is the number of knownFailing names above; it
// may only fall.
const issue12MaxKnownFailing = 1

// TestIssue12Quoted screens every name issue 12 quotes against the index
// over all bundled lists at the operating threshold, with no kind hint
// (as `rampart screen NAME` does) unless the row gives one.
//
//	go test ./internal/screeneval -run TestIssue12Quoted -v
func TestIssue12Quoted(t *testing.T) {
	if testing.Short() {
		t.Skip("loads every bundled list")
	}
	_, ix, _ := allLists(t)
	known, failing := 0, 0
	for _, tc := range issue12Quoted {
		ms := ix.Search(screening.Query{Name: tc.query, Kind: tc.kind, Limit: 10}, operatingThreshold)
		var problem string
		switch {
		case tc.want == nil && len(ms) > 0:
			problem = "want no match, got " + ms[0].ID + " " + ms[0].MatchedName
		case tc.want != nil && len(ms) == 0:
			problem = "no match"
		case tc.want != nil && !slices.Contains(tc.want, ms[0].ID):
			problem = "first is " + ms[0].ID + " " + ms[0].MatchedName
		case tc.want != nil && ms[0].Score < tc.minScore:
			problem = "score below full confidence"
		}
		if tc.knownFailing {
			known++
		}
		if problem == "" {
			if tc.knownFailing {
				t.Logf("%q now passes: set knownFailing false and lower issue12MaxKnownFailing", tc.query)
			}
			continue
		}
		failing++
		got := ""
		if len(ms) > 0 {
			got = ms[0].ID
		}
		if tc.knownFailing {
			t.Logf("known failing: %q: %s (score %.3f)", tc.query, problem, scoreOf(ms, got))
		} else {
			t.Errorf("%q: %s (score %.3f)", tc.query, problem, scoreOf(ms, got))
		}
	}
	if known > issue12MaxKnownFailing {
		t.Errorf("%d names are marked knownFailing, at most %d: the number may only fall", known, issue12MaxKnownFailing)
	}
	t.Logf("%d of %d quoted names fail (%d marked knownFailing)", failing, len(issue12Quoted), known)
}

func scoreOf(ms []screening.Match, id string) float64 {
	for _, m := range ms {
		if m.ID == id {
			return m.Score
		}
	}
	return 0
}
