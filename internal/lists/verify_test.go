package lists_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/lists"
)

// firstLines keeps the first n lines of a real file.
func firstLines(t *testing.T, path string, n int) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	return bytes.Join(lines[:n], nil)
}

// ofacSet copies the 2023 companion files and the given sdn.csv into a
// folder.
func ofacSet(t *testing.T, sdn []byte, skip ...string) string {
	t.Helper()
	d := t.TempDir()
	for _, f := range []string{"add.csv", "alt.csv", "sdn_comments.csv"} {
		if strings.Contains(strings.Join(skip, " "), f) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir("ofac"), f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(d, "sdn.csv"), sdn, 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestImplausibleUpdatesRefused: the issue 13 finding (a 100-line sdn.csv
// removed 13,721 entries with exit code 0) and a file of 1% of the
// entries are refused with the default policy and the default floors;
// the real 2024 update passes.
func TestImplausibleUpdatesRefused(t *testing.T) {
	data := t.TempDir()
	s, err := lists.Open(data, []string{dir("ofac")})
	if err != nil {
		t.Fatal(err)
	}
	s.SetPolicy(lists.Policy{Floors: lists.DefaultFloors})
	before := s.Snapshot()
	var refused []lists.Refusal
	s.OnRefused(func(r lists.Refusal) { refused = append(refused, r) })
	sdn := filepath.Join(dir("ofac"), "sdn.csv")
	for _, tc := range []struct {
		name  string
		lines int
		want  string
	}{
		{"100 lines", 100, "100 entities, fewer than the 5000"},
		{"1% of the entries", 138, "138 entities, fewer than the 5000"},
		{"half", 6910, "removes 6911 of 13821 entities (50.0%), more than the 5.0% allowed"},
	} {
		_, err := s.Import(ofacSet(t, firstLines(t, sdn, tc.lines)))
		re, ok := lists.AsRefused(err)
		if !ok || re.Refusals[0].Kind != lists.RefusedImplausible || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want implausible %q", tc.name, err, tc.want)
		}
	}
	if s.Snapshot() != before || len(refused) != 3 {
		t.Fatalf("snapshot replaced, or %d refusals reported", len(refused))
	}
	// The real update (2024 sdn.csv with the 2023 companion files).
	b, err := os.ReadFile(filepath.Join(dir("ofac-2024-05-03"), "sdn.csv"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Import(ofacSet(t, b))
	if err != nil {
		t.Fatal(err)
	}
	sum := res[0].Summary
	if sum.Added != 1256 || sum.Removed != 112 || len(sum.FirstAdded) != lists.SummaryIDs || !strings.HasSuffix(sum.Full, "/diff") {
		t.Errorf("summary %+v", sum)
	}
	full, err := s.DiffOf("ofac-sdn", res[0].Version.Hash)
	if err != nil || len(full.Added) != 1256 || len(full.Removed) != 112 {
		t.Errorf("full diff +%d -%d, %v", len(full.Added), len(full.Removed), err)
	}
	// Rollback to the 2023 version: audited fields, the old version back.
	old := before.Versions["ofac-sdn"]
	res, err = s.Rollback(old.Hash[:8], lists.ImportOptions{Actor: "test", Reason: "bad publication"})
	if err != nil {
		t.Fatal(err)
	}
	if v := s.Snapshot().Versions["ofac-sdn"]; v.Hash != old.Hash || v.Origin != "rollback" || v.Reason != "bad publication" || res[0].Summary.Removed != 1256 {
		t.Errorf("after rollback %+v summary %+v", v, res[0].Summary)
	}
	h, err := s.History()
	if err != nil || len(h) != 3 {
		t.Errorf("history %d versions, %v", len(h), err)
	}
	if _, err := s.Rollback("abc", lists.ImportOptions{}); err == nil {
		t.Error("a 3-digit rollback prefix was accepted")
	}
	// Reopened, the rolled-back version is the active one.
	s2, err := lists.OpenPersisted(data)
	if err != nil || s2.Snapshot().Versions["ofac-sdn"].Hash != old.Hash {
		t.Errorf("reopened: %v", err)
	}
}

func TestPublishedFromFile(t *testing.T) {
	s, err := lists.Open("", []string{dir("un")})
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 2, 27, 0, 0, 9, 0, time.UTC)
	if got := s.Snapshot().Versions["un"].Published; !got.Equal(want) {
		t.Errorf("UN published %v, want %v (dateGenerated)", got, want)
	}
	// A list without a date of its own takes the given Last-Modified.
	lm := time.Date(2024, 5, 3, 14, 2, 0, 0, time.UTC)
	b, err := os.ReadFile(filepath.Join(dir("uk-derived"), "subjects.csv"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := os.ReadFile(filepath.Join(dir("uk-derived"), "subject_names.csv"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.ImportSource("uk", map[string][]byte{"subjects.csv": b, "subject_names.csv": n}, lists.ImportOptions{Published: map[string]time.Time{"uk": lm}})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Version.Published.Equal(lm) {
		t.Errorf("uk published %v, want %v", res[0].Version.Published, lm)
	}
}
