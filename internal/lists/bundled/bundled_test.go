package bundled

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestFilesMatchProvenance checks every bundled list file against the
// SHA-256 sums in PROVENANCE.md and against testdata/sanctions.
func TestFilesMatchProvenance(t *testing.T) {
	fsys, err := FS()
	if err != nil {
		t.Fatal(err)
	}
	prov, err := fs.ReadFile(fsys, "PROVENANCE.md")
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^([0-9a-f]{64})  (\S+)$`).FindAllStringSubmatch(string(prov), -1) {
		sums[m[2]] = m[1]
	}
	want := []string{"ofac/sdn.csv", "ofac/alt.csv", "ofac/add.csv", "ofac/sdn_comments.csv", "un/consolidated.xml", "uk-derived/subjects.csv", "uk-derived/subject_names.csv"}
	for _, name := range want {
		t.Run(name, func(t *testing.T) {
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			if got := hex.EncodeToString(sum[:]); got != sums[name] {
				t.Errorf("sha256 %s, PROVENANCE.md says %q", got, sums[name])
			}
			disk, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "sanctions", name))
			if err != nil {
				t.Fatal(err)
			}
			if string(disk) != string(data) {
				t.Error("differs from testdata/sanctions; run go generate")
			}
		})
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 {
		t.Errorf("%d top-level entries, want PROVENANCE.md, ofac, uk-derived, un", len(entries))
	}
}

func TestUnpackRejectsGarbage(t *testing.T) {
	if _, err := unpack([]byte("not zstd")); err == nil {
		t.Fatal("unpack of garbage succeeded")
	}
	if _, err := unpack(archive[:len(archive)/2]); err == nil {
		t.Fatal("unpack of a truncated archive succeeded")
	}
}

func BenchmarkUnpack(b *testing.B) {
	for b.Loop() {
		if _, err := unpack(archive); err != nil {
			b.Fatal(err)
		}
	}
}
