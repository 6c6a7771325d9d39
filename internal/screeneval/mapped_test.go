package screeneval_test

// Issue 16: the screening index lives in a file, memory-mapped. This file
// checks that the mapped index answers every development and held-out
// query exactly as the in-heap index of main did: the top 10 (ids and
// scores) of every query, and a digest of the whole answer (matched names
// and explanations), against testdata/mapped-golden/*.txt.gz, recorded
// from main before the index moved to a file.
//
//	go test ./internal/screeneval -run TestMappedSameAnswers -v
//	SCREENEVAL_GOLDEN_WRITE=1 go test ./internal/screeneval -run TestMappedSameAnswers   # re-record (only from a known-good tree)

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/screeneval"
	"github.com/rampart-edge/rampart/internal/screening"
)

// goldenSet is one query set and the index it is screened against.
type goldenSet struct {
	name  string
	ix    *screening.Index
	cases []screeneval.Case
}

// goldenLine is what is recorded per query: its number, the top 10 as
// id=score, and a digest of the whole answer.
func goldenLine(i int, ms []screening.Match) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\t", i)
	for k, m := range ms {
		if k > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%.4f", m.ID, m.Score)
	}
	js, _ := json.Marshal(ms)
	sum := sha256.Sum256(js)
	b.WriteByte('\t')
	b.WriteString(hex.EncodeToString(sum[:6]))
	return b.String()
}

func goldenPath(name string) string {
	return filepath.Join("testdata", "mapped-golden", name+".txt.gz")
}

func readGolden(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(goldenPath(name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", goldenPath(name), err)
	}
	var out []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", goldenPath(name), err)
	}
	return out
}

func writeGolden(t *testing.T, name string, lines []string) {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	for _, l := range lines {
		zw.Write([]byte(l + "\n"))
	}
	zw.Close()
	if err := os.MkdirAll(filepath.Dir(goldenPath(name)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goldenPath(name), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// yenteCases are the yente negatives TestExternalNegatives screens.
func yenteCases(t *testing.T, ents []entity.Entity) []screeneval.Case {
	neg := newNegChecker(ents)
	var cases []screeneval.Case
	for _, f := range []string{"yente-negatives_us.csv", "yente-negatives_global.csv"} {
		fh, err := os.Open(repoPath("testdata", "screening-eval", "external", f))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(fh).ReadAll()
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs[1:] {
			if neg.ok(rec[0]) {
				cases = append(cases, screeneval.Case{Query: rec[0], Type: "individual"})
			}
		}
	}
	return cases
}

// goldenSets are the development and held-out sets of issues 3 and 12,
// each on the index its tests use, mapped from a file.
func goldenSets(t *testing.T) []goldenSet {
	_, sdnEnts := sdnIndex(t)
	allEnts, _, _ := allLists(t)
	sdnMapped := mappedIndex(t, sdnEnts)
	allMapped := mappedIndex(t, allEnts)
	noNativeMapped := mappedIndex(t, screeneval.WithoutNative(allEnts))

	dev, err := screeneval.Load(repoPath("testdata", "screening-eval", "dev.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, c := range dev {
		for _, id := range c.Expect {
			used[id] = true
		}
	}
	sets := []goldenSet{{"issue3-dev", sdnMapped, dev}}
	neg := newNegChecker(sdnEnts)
	pools := heldOutPools(sdnEnts, used, len(heldOutSets))
	for k, hs := range heldOutSets {
		sets = append(sets, goldenSet{"issue3-heldout-" + hs.name, sdnMapped, heldOut(pools[k], sdnEnts, neg, hs.seed)})
	}
	sets = append(sets, goldenSet{"issue3-yente", sdnMapped, yenteCases(t, sdnEnts)})
	for _, f := range []string{"dev", "heldout"} {
		cs, err := screeneval.Load(customerDir(f + ".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		var native, other []screeneval.Case
		for _, c := range cs {
			if c.Kind == screeneval.KindNative {
				native = append(native, c)
			} else {
				other = append(other, c)
			}
		}
		sets = append(sets, goldenSet{"issue12-" + f, allMapped, other}, goldenSet{"issue12-" + f + "-native", noNativeMapped, native})
	}
	return sets
}

// TestMappedSameAnswers screens every development and held-out query
// against the mapped index and compares each answer with the one main's
// in-heap index gave.
func TestMappedSameAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("loads every bundled list")
	}
	write := os.Getenv("SCREENEVAL_GOLDEN_WRITE") != ""
	total := 0
	for _, s := range goldenSets(t) {
		lines := make([]string, len(s.cases))
		for i, c := range s.cases {
			ms := s.ix.Search(screening.Query{Name: c.Query, Kind: c.EntityKind(), Limit: 10}, operatingThreshold)
			lines[i] = goldenLine(i, ms)
		}
		total += len(lines)
		if write {
			writeGolden(t, s.name, lines)
			continue
		}
		want := readGolden(t, s.name)
		if len(want) != len(lines) {
			t.Errorf("%s: %d queries, golden has %d", s.name, len(lines), len(want))
			continue
		}
		bad := 0
		for i := range lines {
			if lines[i] != want[i] {
				bad++
				if bad <= 5 {
					t.Errorf("%s query %d %q:\n got %s\nwant %s", s.name, i, s.cases[i].Query, lines[i], want[i])
				}
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d answers differ", s.name, bad, len(lines))
		}
	}
	t.Logf("%d queries compared", total)
}
