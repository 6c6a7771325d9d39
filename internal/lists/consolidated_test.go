package lists_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/lists"
)

// consFiles are the real 2018 consolidated set's files (canonical name ->
// content); cons_comments.csv is empty, as OFAC published it.
func consFiles(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, n := range []string{"cons_prim.csv", "cons_alt.csv", "cons_add.csv", "cons_comments.csv"} {
		b, err := os.ReadFile(filepath.Join(dir("ofac-consolidated"), n))
		if err != nil {
			t.Fatal(err)
		}
		out[n] = b
	}
	if len(out["cons_comments.csv"]) != 0 {
		t.Fatal("the sample's cons_comments.csv is no longer empty")
	}
	return out
}

// writeSet writes files into a new folder.
func writeSet(t *testing.T, files map[string][]byte) string {
	t.Helper()
	d := t.TempDir()
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(d, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// TestConsolidatedImport: the consolidated folder imports as ofac-cons
// next to the active SDN list (an entity number on both lists gives two
// ids), survives a reopen, and is not part of the bundled set.
func TestConsolidatedImport(t *testing.T) {
	data := t.TempDir()
	s, err := lists.Open(data, []string{dir("ofac")})
	if err != nil {
		t.Fatal(err)
	}
	s.SetPolicy(lists.Policy{Floors: lists.DefaultFloors})
	sdn := s.Snapshot().Versions["ofac-sdn"]
	res, err := s.Import(dir("ofac-consolidated"))
	if err != nil {
		t.Fatal(err)
	}
	v := res[0].Version
	if len(res) != 1 || v.Source != "ofac-cons" || v.List != "OFAC Consolidated (non-SDN)" || v.Entities != 639 || res[0].Summary.Added != 639 ||
		strings.Join(v.Files, ",") != "cons_add.csv,cons_alt.csv,cons_comments.csv,cons_prim.csv" {
		t.Fatalf("result %+v", res)
	}
	check := func(t *testing.T, s *lists.Store) {
		t.Helper()
		snap := s.Snapshot()
		if snap.Versions["ofac-sdn"].Hash != sdn.Hash || snap.Versions["ofac-cons"].Hash != v.Hash || len(snap.Entities) != 13821+639 {
			t.Fatalf("versions %v, %d entities", snap.Versions, len(snap.Entities))
		}
		both := 0
		for _, e := range snap.Entities {
			if strings.HasSuffix(e.ID, ":4632") {
				both++
			}
		}
		if both != 2 {
			t.Errorf("%d entities numbered 4632, want ofac-sdn:4632 and ofac-cons:4632", both)
		}
	}
	check(t, s)
	// The same files under the official upper-case names are the same version.
	up := map[string][]byte{}
	for n, b := range consFiles(t) {
		up[strings.ToUpper(n)] = b
	}
	res, err = s.Import(writeSet(t, up))
	if err != nil || !res[0].Unchanged {
		t.Fatalf("CONS_*.CSV: %+v %v", res, err)
	}
	s2, err := lists.OpenPersisted(data)
	if err != nil {
		t.Fatal(err)
	}
	check(t, s2)

	b, err := lists.Open("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Snapshot().Versions["ofac-cons"]; ok || len(b.Snapshot().Versions) != 3 {
		t.Errorf("bundled versions %v, want ofac-sdn, un and uk only", b.Snapshot().Versions)
	}
}

// TestConsolidatedVerification: bad consolidated updates are refused with
// the default policy, naming the file; the previous version stays active
// and the SDN list is untouched; a plausible update passes.
func TestConsolidatedVerification(t *testing.T) {
	data := t.TempDir()
	s, err := lists.Open(data, []string{dir("ofac"), dir("ofac-consolidated")})
	if err != nil {
		t.Fatal(err)
	}
	s.SetPolicy(lists.Policy{Floors: lists.DefaultFloors})
	before := s.Snapshot()
	if before.Versions["ofac-cons"].Entities != 639 {
		t.Fatalf("versions %v", before.Versions)
	}
	var refused []lists.Refusal
	s.OnRefused(func(r lists.Refusal) { refused = append(refused, r) })
	prim := consFiles(t)["cons_prim.csv"]
	with := func(name string, b []byte) map[string][]byte {
		f := consFiles(t)
		if b == nil {
			delete(f, name)
		} else {
			f[name] = b
		}
		return f
	}
	lines := func(n int) []byte { return bytes.Join(bytes.SplitAfter(prim, []byte("\n"))[:n], nil) }
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		kind  string
		file  string
		want  string
	}{
		{"1% of the entries", with("cons_prim.csv", lines(6)), lists.RefusedImplausible, "cons_prim.csv", "6 entities, fewer than the 200"},
		{"truncated to 150 lines", with("cons_prim.csv", lines(150)), lists.RefusedImplausible, "cons_prim.csv", "150 entities, fewer than the 200"},
		{"truncated to half", with("cons_prim.csv", lines(320)), lists.RefusedImplausible, "cons_prim.csv", "removes 319 of 639 entities (49.9%)"},
		{"cut mid-row", with("cons_prim.csv", prim[:len(prim)/2]), lists.RefusedUnparseable, "cons_prim.csv", "cons_prim.csv"},
		{"cons_alt.csv missing", with("cons_alt.csv", nil), lists.RefusedIncomplete, "cons_alt.csv", "the active version has cons_alt.csv, this update does not"},
		{"cons_alt.csv emptied", with("cons_alt.csv", []byte{0x1a}), lists.RefusedIncomplete, "cons_alt.csv", "the active version's cons_alt.csv has rows, this update's is empty"},
		{"cons_add.csv missing", with("cons_add.csv", nil), lists.RefusedIncomplete, "cons_add.csv", "cons_add.csv"},
		{"cons_comments.csv missing", with("cons_comments.csv", nil), lists.RefusedIncomplete, "cons_comments.csv", "the active version has cons_comments.csv"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			n := len(refused)
			_, err := s.ImportSource("ofac-cons", tc.files, lists.ImportOptions{Origin: "test"})
			re, ok := lists.AsRefused(err)
			if !ok || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a refusal with %q", err, tc.want)
			}
			if r := re.Refusals[0]; r.Source != "ofac-cons" || r.Kind != tc.kind || r.File != tc.file {
				t.Errorf("refusal %+v, want %s of %s", r, tc.kind, tc.file)
			}
			if s.Snapshot() != before || len(refused) != n+1 {
				t.Errorf("snapshot replaced, or %d refusals reported", len(refused)-n)
			}
		})
	}
	// A plausible update: 10 entries fewer (1.6%), cons_comments.csv with
	// a row, then empty again (legitimate: it only holds the overflow).
	res, err := s.ImportSource("ofac-cons", with("cons_prim.csv", lines(629)), lists.ImportOptions{Origin: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if d := res[0].Diff; len(d.Removed) != 10 || len(d.Added) != 0 || !strings.HasPrefix(d.Removed[0], "ofac-cons:") {
		t.Errorf("diff %+v", res[0].Summary)
	}
	if s.Snapshot().Versions["ofac-sdn"].Hash != before.Versions["ofac-sdn"].Hash {
		t.Error("the SDN version changed")
	}
	f := consFiles(t)
	f["cons_comments.csv"] = []byte("4632,\" Continued remark.\"\r\n")
	if _, err := s.ImportSource("ofac-cons", f, lists.ImportOptions{Origin: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportSource("ofac-cons", consFiles(t), lists.ImportOptions{Origin: "test"}); err != nil {
		t.Fatalf("cons_comments.csv emptied again: %v", err)
	}
	if v := s.Snapshot().Versions["ofac-cons"]; v.Hash != before.Versions["ofac-cons"].Hash || v.Origin != "test" {
		t.Errorf("the 2018 files again: %+v", v)
	}
	// Rollback to the version of 629 entries.
	short := res[0].Version.Hash
	if _, err := s.Rollback(short[:8], lists.ImportOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if v := s.Snapshot().Versions["ofac-cons"]; v.Hash != short || v.Origin != "rollback" || v.Entities != 629 {
		t.Errorf("after rollback %+v", v)
	}
}

// TestConsolidatedDetection: an upload holding both OFAC sets (as OFAC's
// folder serves them), a lone cons_prim.csv with its folder's companions,
// and companion files without their main file.
func TestConsolidatedDetection(t *testing.T) {
	s, err := lists.Open("", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.SetPolicy(lists.Policy{Floors: lists.DefaultFloors})
	up := map[string][]byte{}
	for n, b := range consFiles(t) {
		up["exports/"+strings.ToUpper(n)] = b
	}
	for _, n := range []string{"sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv"} {
		b, err := os.ReadFile(filepath.Join(dir("ofac-2024-05-03"), n))
		if os.IsNotExist(err) {
			b, err = os.ReadFile(filepath.Join(dir("ofac"), n))
		}
		if err != nil {
			t.Fatal(err)
		}
		up["exports/"+strings.ToUpper(n)] = b
	}
	res, err := s.ImportFilesWith(lists.ImportOptions{Origin: "api", Force: true, Reason: "2024 sdn.csv with the 2023 companions"}, up)
	if err != nil {
		t.Fatal(err)
	}
	var srcs []string
	for _, r := range res {
		srcs = append(srcs, r.Version.Source+"="+strconv.Itoa(r.Version.Entities))
	}
	slices.Sort(srcs)
	if strings.Join(srcs, " ") != "ofac-cons=639 ofac-sdn=14965" {
		t.Errorf("imported %v", srcs)
	}

	m, err := lists.OpenPersisted("")
	if err != nil {
		t.Fatal(err)
	}
	res, err = m.Import(filepath.Join(dir("ofac-consolidated"), "cons_prim.csv"))
	if err != nil || len(res) != 1 || len(res[0].Version.Files) != 4 || res[0].Version.Entities != 639 {
		t.Fatalf("lone cons_prim.csv: %+v %v", res, err)
	}
	f := consFiles(t)
	if _, err := m.ImportFiles(map[string][]byte{"cons_alt.csv": f["cons_alt.csv"], "cons_add.csv": f["cons_add.csv"]}); err == nil ||
		!strings.Contains(err.Error(), "cons_add.csv, cons_alt.csv: not part of a known sanctions list") {
		t.Errorf("companions without cons_prim.csv: %v", err)
	}
	if _, err := m.Import(t.TempDir()); err == nil || !strings.Contains(err.Error(), "cons_prim.csv") {
		t.Errorf("empty folder: %v", err)
	}

	// An empty cons_comments.csv reaches the shared store's publisher as
	// empty content, not nil (SQL NULL, which list_files.data refuses).
	p, err := lists.OpenPersisted("")
	if err != nil {
		t.Fatal(err)
	}
	var acts []lists.Activation
	p.SetPublisher(func(a []lists.Activation) error { acts = append(acts, a...); return nil })
	f["cons_comments.csv"] = nil
	if _, err := p.ImportSource("ofac-cons", f, lists.ImportOptions{Origin: "test"}); err != nil {
		t.Fatal(err)
	}
	if c, ok := acts[0].Files["cons_comments.csv"]; len(acts) != 1 || !ok || c == nil || len(c) != 0 {
		t.Errorf("published %d activations, cons_comments.csv %v (nil %v)", len(acts), ok, c == nil)
	}
}
