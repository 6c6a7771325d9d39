package lists_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/lists"
)

var sanctions = filepath.Join("..", "..", "testdata", "sanctions")

func dir(name string) string { return filepath.Join(sanctions, name) }

// realPaths are the three current lists of testdata/sanctions.
var realPaths = []string{dir("ofac"), dir("un"), dir("uk-derived")}

var wantCounts = map[string]int{"ofac-sdn": 13821, "un": 1003, "uk": 6035}

func checkCounts(t *testing.T, snap *lists.Snapshot) {
	t.Helper()
	total := 0
	for src, want := range wantCounts {
		v, ok := snap.Versions[src]
		if !ok {
			t.Errorf("no active %s version", src)
			continue
		}
		if v.Entities != want {
			t.Errorf("%s: %d entities, want %d", src, v.Entities, want)
		}
		if len(v.Hash) != 64 || len(v.Files) == 0 || v.Imported.IsZero() {
			t.Errorf("%s: incomplete version %+v", src, v)
		}
		total += want
	}
	if len(snap.Entities) != total {
		t.Errorf("snapshot holds %d entities, want %d", len(snap.Entities), total)
	}
}

func TestOpenBundledInMemory(t *testing.T) {
	s, err := lists.Open("", nil)
	if err != nil {
		t.Fatal(err)
	}
	snap := s.Snapshot()
	checkCounts(t, snap)
	if got := snap.Versions["ofac-sdn"].Files; strings.Join(got, ",") != "add.csv,alt.csv,sdn.csv,sdn_comments.csv" {
		t.Errorf("ofac files %v", got)
	}
	// The first entity of the snapshot comes from the first source by name.
	if snap.Entities[0].Source != "ofac-sdn" || snap.Entities[len(snap.Entities)-1].Source != "un" {
		t.Errorf("entities not grouped by source: first %s last %s", snap.Entities[0].ID, snap.Entities[len(snap.Entities)-1].ID)
	}
}

func TestPersistAndReopen(t *testing.T) {
	data := t.TempDir()
	s, err := lists.Open(data, realPaths)
	if err != nil {
		t.Fatal(err)
	}
	first := s.Snapshot()
	checkCounts(t, first)
	for src, v := range first.Versions {
		for _, f := range v.Files {
			if _, err := os.Stat(filepath.Join(data, "lists", src, v.Hash, f)); err != nil {
				t.Errorf("%s: %v", src, err)
			}
		}
	}
	var m struct{ Versions []lists.Version }
	b, err := os.ReadFile(filepath.Join(data, "lists", "active.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil || len(m.Versions) != 3 {
		t.Fatalf("active.json: %v, %d versions", err, len(m.Versions))
	}

	// Re-opening loads the persisted versions and ignores the bundled set.
	s2, err := lists.Open(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	second := s2.Snapshot()
	checkCounts(t, second)
	for src, v := range first.Versions {
		w := second.Versions[src]
		if w.Hash != v.Hash || !w.Imported.Equal(v.Imported) {
			t.Errorf("%s: reopened version %s imported %v, want %s %v", src, w.Short(), w.Imported, v.Short(), v.Imported)
		}
	}
	// Re-importing the same files changes nothing.
	res, err := s2.Import(realPaths...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.Unchanged || r.Previous == nil || r.Previous.Hash != r.Version.Hash {
			t.Errorf("%s: re-import not unchanged: %+v", r.Version.Source, r)
		}
	}
	if s2.Snapshot() != second {
		t.Error("an unchanged import swapped the snapshot")
	}
}

// sdnOnly copies one sdn.csv into a fresh folder.
func sdnOnly(t *testing.T, from string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(from, "sdn.csv"))
	if err != nil {
		t.Fatal(err)
	}
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, "sdn.csv"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestImportUpdateDiff(t *testing.T) {
	s, err := lists.Open(t.TempDir(), []string{sdnOnly(t, dir("ofac"))})
	if err != nil {
		t.Fatal(err)
	}
	var calls int
	var gotOld, gotCur *lists.Snapshot
	s.Subscribe(func(old, cur *lists.Snapshot, results []lists.ImportResult) {
		calls++
		gotOld, gotCur = old, cur
		if len(results) != 1 {
			t.Errorf("subscriber got %d results", len(results))
		}
	})
	before := s.Snapshot()
	res, err := s.Import(dir("ofac-2024-05-03"))
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if r.Unchanged || r.Previous == nil || r.Previous.Hash != before.Versions["ofac-sdn"].Hash {
		t.Fatalf("result %+v", r)
	}
	// PROVENANCE.md: adds 1,256 entries, removes 112, changes 48.
	if len(r.Diff.Added) != 1256 || len(r.Diff.Removed) != 112 || len(r.Diff.Changed) != 48 {
		t.Errorf("diff +%d -%d ~%d, want +1256 -112 ~48", len(r.Diff.Added), len(r.Diff.Removed), len(r.Diff.Changed))
	}
	if len(r.Warnings) != 0 {
		t.Errorf("warnings %v, want none (both versions are sdn.csv only)", r.Warnings)
	}
	if r.Version.Entities != 14965 {
		t.Errorf("%d entities, want 14965", r.Version.Entities)
	}
	if calls != 1 || gotOld != before || gotCur != s.Snapshot() || len(gotCur.Entities) != 14965 {
		t.Errorf("subscriber: %d calls, old ok %v, cur ok %v", calls, gotOld == before, gotCur == s.Snapshot())
	}
	if len(before.Entities) != 13821 {
		t.Errorf("old snapshot was modified: %d entities", len(before.Entities))
	}
}

func TestImportRefusesDroppedFiles(t *testing.T) {
	s, err := lists.Open("", []string{dir("ofac")})
	if err != nil {
		t.Fatal(err)
	}
	before := s.Snapshot()
	var refused []lists.Refusal
	s.OnRefused(func(r lists.Refusal) { refused = append(refused, r) })
	// The issue 13 finding: an sdn.csv without alt.csv dropped every
	// alias. Now it is refused, naming the first missing file.
	_, err = s.Import(dir("ofac-2024-05-03"))
	re, ok := lists.AsRefused(err)
	if !ok || len(re.Refusals) != 1 || re.Refusals[0].Kind != lists.RefusedIncomplete || re.Refusals[0].File != "add.csv" {
		t.Fatalf("error %v, want an incomplete refusal naming add.csv", err)
	}
	if s.Snapshot() != before || len(refused) != 1 || refused[0].Source != "ofac-sdn" {
		t.Fatalf("snapshot replaced or refusal not reported: %+v", refused)
	}
	// Forcing needs a reason, then activates with a warning per file.
	if _, err := s.ImportWith(lists.ImportOptions{Force: true}, dir("ofac-2024-05-03")); err == nil || !strings.Contains(err.Error(), "reason") {
		t.Fatalf("force without reason: %v", err)
	}
	res, err := s.ImportWith(lists.ImportOptions{Force: true, Reason: "primary records only, on purpose", Actor: "test"}, dir("ofac-2024-05-03"))
	if err != nil {
		t.Fatal(err)
	}
	v := res[0].Version
	if !v.Forced || v.Reason != "primary records only, on purpose" || v.Actor != "test" || len(res[0].Warnings) != 1 {
		t.Errorf("forced version %+v warnings %v", v, res[0].Warnings)
	}
}

func TestConcurrentReadsDuringImport(t *testing.T) {
	s, err := lists.Open("", []string{dir("un")})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan int)
	for range 2 {
		go func() {
			n := 0
			for {
				select {
				case <-stop:
					done <- n
					return
				default:
				}
				snap := s.Snapshot()
				total := 0
				for _, v := range snap.Versions {
					total += v.Entities
				}
				if total != len(snap.Entities) {
					t.Errorf("inconsistent snapshot: versions say %d, holds %d", total, len(snap.Entities))
				}
				n++
			}
		}()
	}
	if _, err := s.Import(dir("uk-derived")); err != nil {
		t.Error(err)
	}
	if _, err := s.Import(sdnOnly(t, dir("ofac"))); err != nil {
		t.Error(err)
	}
	close(stop)
	if n := <-done + <-done; n == 0 {
		t.Error("readers never ran")
	}
	if got := len(s.Snapshot().Entities); got != 1003+6035+13821 {
		t.Errorf("%d entities", got)
	}
}

func TestFailedImportKeepsPrevious(t *testing.T) {
	data := t.TempDir()
	s, err := lists.Open(data, []string{dir("un")})
	if err != nil {
		t.Fatal(err)
	}
	before := s.Snapshot()
	manifest, err := os.ReadFile(filepath.Join(data, "lists", "active.json"))
	if err != nil {
		t.Fatal(err)
	}
	xml, err := os.ReadFile(filepath.Join(dir("un"), "consolidated.xml"))
	if err != nil {
		t.Fatal(err)
	}
	broken := t.TempDir()
	truncated := filepath.Join(broken, "consolidated.xml")
	if err := os.WriteFile(truncated, xml[:len(xml)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	badSDN := t.TempDir()
	if err := os.WriteFile(filepath.Join(badSDN, "sdn.csv"), []byte("12,\"X\",-0- ,\"SDGT\"\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		paths []string
		want  string
	}{
		{"truncated XML", []string{truncated}, "consolidated.xml line"},
		{"one bad list among good ones", []string{dir("uk-derived"), badSDN}, "sdn.csv line 1: 4 columns, want 12"},
		{"missing path", []string{filepath.Join(broken, "nope")}, "nope"},
		{"not a list", []string{filepath.Join(sanctions, "PROVENANCE.md")}, "not a known sanctions list"},
		{"two OFAC lists", []string{sanctions}, "are both ofac-sdn lists"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Import(tc.paths...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if s.Snapshot() != before {
				t.Error("snapshot replaced after a failed import")
			}
			now, err := os.ReadFile(filepath.Join(data, "lists", "active.json"))
			if err != nil || string(now) != string(manifest) {
				t.Errorf("active.json changed after a failed import (%v)", err)
			}
		})
	}
	if _, ok := s.Snapshot().Versions["uk"]; ok {
		t.Error("the good list of a failed import was activated")
	}
}

func TestImportFiles(t *testing.T) {
	s, err := lists.Open("", []string{dir("un")})
	if err != nil {
		t.Fatal(err)
	}
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	res, err := s.ImportFiles(map[string][]byte{
		"SDN.CSV":              read(filepath.Join(dir("ofac"), "sdn.csv")),
		"alt.csv":              read(filepath.Join(dir("ofac"), "alt.csv")),
		"uk/subjects.csv":      read(filepath.Join(dir("uk-derived"), "subjects.csv")),
		"uk/subject_names.csv": read(filepath.Join(dir("uk-derived"), "subject_names.csv")),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 {
		t.Fatalf("%d results", len(res))
	}
	for _, r := range res {
		if r.Previous != nil || len(r.Diff.Added) != r.Version.Entities || r.Version.Entities == 0 {
			t.Errorf("%s: %+v", r.Version.Source, r.Version)
		}
	}
	if got := s.Snapshot().Versions["ofac-sdn"].Files; strings.Join(got, ",") != "alt.csv,sdn.csv" {
		t.Errorf("files %v", got)
	}
	if len(s.Snapshot().Versions) != 3 {
		t.Errorf("versions %v", s.Snapshot().Versions)
	}
	_, err = s.ImportFiles(map[string][]byte{"notes.txt": []byte("hello")})
	if err == nil || !strings.Contains(err.Error(), "notes.txt: not part of a known sanctions list") {
		t.Errorf("error %v", err)
	}
	if _, err := s.ImportFiles(nil); err == nil {
		t.Error("empty upload accepted")
	}
}

func TestTamperedVersionRefused(t *testing.T) {
	data := t.TempDir()
	s, err := lists.Open(data, []string{dir("un")})
	if err != nil {
		t.Fatal(err)
	}
	v := s.Snapshot().Versions["un"]
	p := filepath.Join(data, "lists", "un", v.Hash, "consolidated.xml")
	if err := os.WriteFile(p, []byte("<CONSOLIDATED_LIST/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = lists.OpenPersisted(data)
	if err == nil || !strings.Contains(err.Error(), "the manifest says "+v.Short()) {
		t.Fatalf("error %v", err)
	}
	// Importing the real list again repairs the damaged version folder.
	if err := os.WriteFile(filepath.Join(data, "lists", "active.json"), []byte(`{"versions":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s2, err := lists.Open(data, []string{dir("un")})
	if err != nil {
		t.Fatal(err)
	}
	if s2.Snapshot().Versions["un"].Hash != v.Hash {
		t.Error("hash changed")
	}
	if _, err := lists.OpenPersisted(data); err != nil {
		t.Errorf("after repair: %v", err)
	}
}

func TestManifestRejectsEscapes(t *testing.T) {
	tests := []struct{ name, manifest, want string }{
		{"path in file name", `{"versions":[{"source":"un","hash":"` + strings.Repeat("a", 64) + `","files":["../../etc/passwd"]}]}`, "unexpected file"},
		{"unknown source", `{"versions":[{"source":"../x","hash":"` + strings.Repeat("a", 64) + `","files":["sdn.csv"]}]}`, "unknown source"},
		{"bad hash", `{"versions":[{"source":"un","hash":"..","files":["consolidated.xml"]}]}`, "bad hash"},
		{"not JSON", `{`, "active.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := t.TempDir()
			if err := os.MkdirAll(filepath.Join(data, "lists"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(data, "lists", "active.json"), []byte(tc.manifest), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := lists.OpenPersisted(data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// BenchmarkOpenAll measures loading the three current lists of
// testdata/sanctions into an in-memory store.
func BenchmarkOpenAll(b *testing.B) {
	for b.Loop() {
		if _, err := lists.Open("", realPaths); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenBundled measures unpacking and loading the bundled lists.
func BenchmarkOpenBundled(b *testing.B) {
	for b.Loop() {
		if _, err := lists.Open("", nil); err != nil {
			b.Fatal(err)
		}
	}
}
