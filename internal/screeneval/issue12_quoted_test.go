package screeneval_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/screening"
)

// issue12Quoted is the one regression table of issue 12: every name the
// issue quotes, each query structure the issue names (articles,
// descriptors, places, legal forms, "X (Y)", "X - Y", "X / Y") as
// customers wrote them, and lawful bodies that share words with listed
// ones, with the right answer: the ids that may come first at or above the
// operating threshold (the same group on several lists), or none for "no
// match at all". knownFailing marks a row the matcher does not get right
// yet: the test reports it and does not fail on it, and the number of such
// rows may only fall (issue12MaxKnownFailing).
var issue12Quoted = []struct {
	query        string
	kind         entity.Kind // "": no hint, as `rampart screen NAME`
	want         []string    // nil: nothing at or above the threshold
	minScore     float64     // the first right id scores at least this
	explain      string      // a part the first match's explanation holds
	knownFailing bool
}{
	// The names the issue quotes.
	{"The Taliban", "", []string{"ofac-sdn:6636"}, 0.99, "ignored: the", false},
	{"The Taliban", entity.Organization, []string{"ofac-sdn:6636"}, 0.99, "", false},
	{"Hamas Movement", "", []string{"ofac-sdn:4695"}, 0.99, "ignored: movement", false},
	{"Kurdistan Workers Party (PKK)", "", []string{"ofac-sdn:4702", "uk:7231"}, 0, "screened separately", false},
	{"HAMAS - Islamic Resistance Movement", "", []string{"ofac-sdn:4695"}, 0, `screened separately: "HAMAS"`, false},
	{"Hezbollah Lebanon", "", []string{"ofac-sdn:4697", "uk:13804"}, 0.99, "lebanon=lebanon", false}, // LEBANESE HEZBOLLAH: the adjective is read as its place
	{"Kurdish Workers Party", "", []string{"ofac-sdn:4702", "uk:7231"}, 0.99, "", false},
	{"Al-Shabaab Somalia", "", []string{"ofac-sdn:10761", "uk:11090", "un:SOe.001"}, 0, "ignored: somalia", false},
	{"Islamic Jihad Movement in Palestine", "", []string{"ofac-sdn:4707"}, 0, "ignored: movement", false},
	{"The Islamic State", "", []string{"ofac-sdn:8759", "uk:8441", "un:QDe.115"}, 0, "ignored: the", false},
	{"طالبان", "", []string{"ofac-sdn:6636"}, 0, "", false},
	{"حزب الله", "", []string{"ofac-sdn:4697", "uk:13804"}, 0, "", false},
	{"حماس", "", []string{"ofac-sdn:4695"}, 0, "", false},
	{"داعش", "", []string{"ofac-sdn:8759", "uk:8441", "un:QDe.115"}, 0, "", false},
	{"الشباب", "", []string{"ofac-sdn:10761", "uk:11090", "un:SOe.001"}, 0, "", false},
	{"Ηezbollah", "", []string{"ofac-sdn:4697", "uk:13804"}, 0, "", false}, // Greek capital Eta
	{"Red Eagle Roofing LLC", "", nil, 0, "", false},
	{"Red Eagle Roofing LLC", entity.Organization, nil, 0, "", false},
	{"The Base Climbing Gym", "", nil, 0, "", false},
	{"The Base Climbing Gym", entity.Organization, nil, 0, "", false},
	{"Global Trading LLC", "", nil, 0, "", false},
	{"Global Trading LLC", entity.Organization, nil, 0, "", false},
	// "goes to review through an exchange house": onboarded as an
	// organisation (a sole trader's name), no organisation may match;
	// people named Ali Mohammed are listed, and match with no hint.
	{"Mohammed Ali", entity.Organization, nil, 0, "", false},
	// Structures: a place piece joins the piece before it, a name made
	// only of optional words, a legal form mid-name, "in X", a leading
	// transliterated descriptor, a legal form of several words.
	{"Islamic State Khorasan", "", []string{"ofac-sdn:18647", "uk:13788"}, 0, "", false},
	{"Kurdistan Workers Party", entity.Organization, []string{"ofac-sdn:4702", "uk:7231"}, 0, "", false},
	{"Bank Iran", entity.Organization, nil, 0, "", false},
	{"Makin Company - Tehran", entity.Organization, []string{"ofac-sdn:11790", "uk:16129"}, 0, "ignored: tehran", false},
	{"Palestinian Association In Austria (Africa)", entity.Organization, []string{"ofac-sdn:7918"}, 0, "ignored: africa", false},
	{"Tawasul Company in Syria", entity.Organization, []string{"ofac-sdn:27972"}, 0, "ignored: in, syria", false},
	{"Sazman-e Indian Mujahedeen", entity.Organization, []string{"ofac-sdn:12914"}, 0, "ignored: sazman, e", false},
	{"Casa Apollo e.V.", entity.Organization, []string{"ofac-sdn:8266"}, 0, "", false},
	{"Saint-Petersburg Bank Public Joint Stock Company", entity.Organization, []string{"ofac-sdn:40924"}, 0, "", false},
	{"The Zamanoil Dmcc Holdings Ltd", entity.Organization, []string{"ofac-sdn:37453"}, 0, "ignored: the, holdings, ltd", false},
	{"Gaziantep Anda Turk", entity.Organization, []string{"ofac-sdn:37485"}, 0, "ignored: gaziantep", false},
	{"Tamas Company Group of Companies", entity.Organization, []string{"ofac-sdn:25654", "uk:17144", "un:IRe.074"}, 0, "ignored: group, of, companies", false},
	// Lawful bodies sharing words with listed ones: a descriptor or place
	// is no omission against a listed name of other words.
	{"Palestine Liberation Organization", entity.Organization, nil, 0, "", false},   // PALESTINE LIBERATION FRONT
	{"Organisation of Islamic Cooperation", entity.Organization, nil, 0, "", false}, // SOCIETY OF ISLAMIC COOPERATION
	{"Five Star Movement", entity.Organization, nil, 0, "", false},                  // FIVE STAR RESORT PTE LTD
	{"Pakistan International Airlines", entity.Organization, nil, 0, "", false},     // INTERNATIONAL AIRLINE CONSULTING
	{"Islami Bank Bangladesh", entity.Organization, nil, 0, "", false},              // AL-AQSA AL-ISLAMI BANK
	{"Al Ansari Exchange", entity.Organization, nil, 0, "", false},                  // ANSAR EXCHANGE, NEW ANSARI MONEY EXCHANGE
	{"Jerusalem Foundation", entity.Organization, nil, 0, "", false},                // JERUSALEM INTERNATIONAL FOUNDATION
	{"Pakistan Muslim League", entity.Organization, nil, 0, "", false},              // MILLI MUSLIM LEAGUE PAKISTAN
	{"Mercy Corps", entity.Organization, nil, 0, "", false},                         // MERI, a fuzzy 0.94: its legal form stays
}

// issue12MaxKnownFailing is the number of knownFailing rows above; it may
// only fall.
const issue12MaxKnownFailing = 0

// TestIssue12Quoted screens every row of issue12Quoted against the index
// over all bundled lists at the operating threshold.
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
		case tc.want != nil && !strings.Contains(ms[0].Explanation, tc.explain):
			problem = "explanation " + ms[0].Explanation + " lacks " + tc.explain
		}
		if tc.knownFailing {
			known++
		}
		name := tc.query + "/" + string(tc.kind)
		if problem == "" {
			if tc.knownFailing {
				t.Logf("%q now passes: set knownFailing false and lower issue12MaxKnownFailing", name)
			}
			continue
		}
		failing++
		got := ""
		if len(ms) > 0 {
			got = ms[0].ID
		}
		if tc.knownFailing {
			t.Logf("known failing: %q: %s (score %.3f)", name, problem, scoreOf(ms, got))
		} else {
			t.Errorf("%q: %s (score %.3f)", name, problem, scoreOf(ms, got))
		}
	}
	if known > issue12MaxKnownFailing {
		t.Errorf("%d rows are marked knownFailing, at most %d: the number may only fall", known, issue12MaxKnownFailing)
	}
	// ISIL before ISIS-Sinai Province for "The Islamic State".
	ms := ix.Search(screening.Query{Name: "The Islamic State"}, operatingThreshold)
	for _, m := range ms {
		if m.ID == "ofac-sdn:16763" && len(ms) > 0 && m.Score >= ms[0].Score {
			t.Errorf("ISIS-Sinai Province %.3f ranks with ISIL %.3f", m.Score, ms[0].Score)
		}
	}
	t.Logf("%d of %d rows fail (%d marked knownFailing)", failing, len(issue12Quoted), known)
}

func scoreOf(ms []screening.Match, id string) float64 {
	for _, m := range ms {
		if m.ID == id {
			return m.Score
		}
	}
	return 0
}

// BenchmarkSearchStructured screens issue 12's customer-typed names
// (parts, articles, descriptors, places) against the bundled lists.
func BenchmarkSearchStructured(b *testing.B) {
	_, ix, _ := allLists(b)
	qs := []string{"The Taliban", "Hamas Movement", "Kurdistan Workers Party (PKK)", "HAMAS - Islamic Resistance Movement",
		"Hezbollah Lebanon", "Al-Shabaab Somalia", "Islamic Jihad Movement in Palestine", "The Islamic State",
		"Red Eagle Roofing LLC", "The Base Climbing Gym", "Global Trading LLC", "Mohammed Ali"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ix.Search(screening.Query{Name: qs[i%len(qs)]}, operatingThreshold)
		i++
	}
}
