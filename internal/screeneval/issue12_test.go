package screeneval_test

// Issue 12: names of designated organisations as customers type them, in
// any script. The sets are testdata/screening-customer/{dev,heldout}.jsonl
// (see that folder's README); this file checks that they are what the
// generator and the hand-written files make, measures the matcher on them
// with the same Search the API uses (every bundled list, threshold 0.90),
// asserts today's figures as floors, prints the gap to the issue's
// targets, and holds the regression table of every name the issue quotes.
//
//	go test ./internal/screeneval -run 'TestIssue12' -v                       # dev set, regression table
//	go test ./internal/screeneval -run TestIssue12HeldOut -v                  # held-out set (not tuned against)
//	SCREENEVAL_MISSES=1 go test ./internal/screeneval -run TestIssue12Dev -v   # list misses and flags
//	SCREENEVAL_REGEN=1 go test ./internal/screeneval -run TestIssue12SetFiles  # rewrite the set files

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/screeneval"
	"github.com/rampart-edge/rampart/internal/screening"
)

// Seeds of the issue 12 sets: the cluster split, and the generator of
// each side.
const (
	splitSeed   = 20261207
	devSeed     = 1207
	heldOutSeed = 120799
	formsPer    = 4 // Latin-script forms per base name
)

var (
	allOnce             sync.Once
	allEnts             []entity.Entity
	allIx, allNoNative  *screening.Index
	allErr              error
	allIndexHeapBytes   uint64
	allNoNativeHeapSize uint64
)

// allLists returns every bundled list (OFAC SDN, UN, UK) as rampart serve
// loads them, the index over them, and the index over them with every
// original-script name left out.
func allLists(t testing.TB) ([]entity.Entity, *screening.Index, *screening.Index) {
	t.Helper()
	allOnce.Do(func() {
		store, err := lists.Open("", nil)
		if err != nil {
			allErr = err
			return
		}
		allEnts = store.Snapshot().Entities
		allIx, allIndexHeapBytes = buildMeasured(allEnts)
		allNoNative, allNoNativeHeapSize = buildMeasured(screeneval.WithoutNative(allEnts))
	})
	if allErr != nil {
		t.Fatalf("loading bundled lists: %v", allErr)
	}
	return allEnts, allIx, allNoNative
}

// buildMeasured builds an index and returns the heap it holds (live heap
// after a collection, before and after the build).
func buildMeasured(ents []entity.Entity) (*screening.Index, uint64) {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	ix := screening.NewIndex(ents)
	runtime.GC()
	runtime.ReadMemStats(&b)
	var d uint64
	if b.HeapAlloc > a.HeapAlloc {
		d = b.HeapAlloc - a.HeapAlloc
	}
	return ix, d
}

func customerDir(parts ...string) string {
	return repoPath(append([]string{"testdata", "screening-customer"}, parts...)...)
}

func readTSV(t testing.TB, name string, n int) [][]string {
	t.Helper()
	f, err := os.Open(customerDir(name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := screeneval.ReadTSV(f, n)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rows
}

// buildCustomerSets makes the development and held-out sets from the
// bundled lists and the hand-written files, deterministically.
func buildCustomerSets(t testing.TB, ents []entity.Entity) (dev, held []screeneval.Case) {
	t.Helper()
	// (b) the UN entries with original-script names, people included.
	var un []*entity.Entity
	for i := range ents {
		e := &ents[i]
		if e.Source == "un" && slices.ContainsFunc(e.Names, func(n entity.Name) bool { return n.Script != "" }) {
			un = append(un, e)
		}
	}
	native := screeneval.NativeCases(un, ents)
	var script []screeneval.Case
	for _, row := range readTSV(t, "scripts.tsv", 4) {
		ids := strings.Split(row[2], ",")
		sort.Strings(ids)
		script = append(script, screeneval.Case{Query: row[0], Type: "entity", Expect: ids, Kind: screeneval.KindScriptHand, Sub: row[1], From: row[3]})
	}
	// Every query's right answers stay on one side.
	var links [][]string
	for _, c := range append(slices.Clone(native), script...) {
		links = append(links, c.Expect)
	}
	devPool, heldPool := screeneval.SplitClusters(ents, splitSeed, links)
	held1 := map[string]bool{}
	for _, e := range heldPool {
		held1[e.ID] = true
	}
	dev = screeneval.CustomerForms(devPool, ents, devSeed, formsPer)
	held = screeneval.CustomerForms(heldPool, ents, heldOutSeed, formsPer)
	for _, c := range append(native, script...) {
		if held1[c.Expect[0]] {
			held = append(held, c)
		} else {
			dev = append(dev, c)
		}
	}
	for _, f := range []struct {
		name string
		set  *[]screeneval.Case
	}{{"negatives-dev.tsv", &dev}, {"negatives-heldout.tsv", &held}} {
		for _, row := range readTSV(t, f.name, 3) {
			*f.set = append(*f.set, screeneval.Case{Query: row[0], Type: "entity", Kind: screeneval.KindHardNeg, Sub: row[1], From: row[2]})
		}
	}
	return dev, held
}

func encodeCases(cs []screeneval.Case) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, c := range cs {
		if err := enc.Encode(c); err != nil {
			panic(err)
		}
	}
	return b.Bytes()
}

// TestIssue12SetFiles checks that dev.jsonl and heldout.jsonl are exactly
// what the generator and the hand-written files make (SCREENEVAL_REGEN=1
// rewrites them), and that the two sets are apart: no organisation, no
// query and no negative in both.
func TestIssue12SetFiles(t *testing.T) {
	ents, _, _ := allLists(t)
	dev, held := buildCustomerSets(t, ents)
	for _, f := range []struct {
		name string
		cs   []screeneval.Case
	}{{"dev.jsonl", dev}, {"heldout.jsonl", held}} {
		want := encodeCases(f.cs)
		if os.Getenv("SCREENEVAL_REGEN") != "" {
			if err := os.WriteFile(customerDir(f.name), want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(customerDir(f.name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the generator makes; rerun with SCREENEVAL_REGEN=1 and review the diff", f.name)
		}
	}
	devIDs, devQ := map[string]bool{}, map[string]bool{}
	for _, c := range dev {
		devQ[screeneval.NormName(c.Query)] = true
		for _, id := range c.Expect {
			devIDs[id] = true
		}
	}
	for _, c := range held {
		if devQ[screeneval.NormName(c.Query)] && c.Kind != screeneval.KindNative {
			t.Errorf("held-out query %q (%s) is also in the dev set", c.Query, c.Kind)
		}
		for _, id := range c.Expect {
			if devIDs[id] {
				t.Errorf("held-out %s case %q expects %s, which the dev set also uses", c.Kind, c.Query, id)
			}
		}
	}
	count := func(cs []screeneval.Case, kind string) int {
		n := 0
		for _, c := range cs {
			if c.Kind == kind {
				n++
			}
		}
		return n
	}
	for _, s := range []struct {
		name string
		cs   []screeneval.Case
	}{{"dev", dev}, {"held-out", held}} {
		for kind, min := range map[string]int{screeneval.KindLatinForm: 500, screeneval.KindLookalike: 150,
			screeneval.KindNative: 150, screeneval.KindScriptHand: 25, screeneval.KindHardNeg: 200} {
			if n := count(s.cs, kind); n < min {
				t.Errorf("%s set: %d %s cases, want at least %d", s.name, n, kind, min)
			}
		}
	}
}

// TestIssue12HandFiles checks the hand-written files against the lists:
// every expected id is listed, every script name is written in the script
// it claims, and no hard negative is, or contains as whole words, a listed
// organisation's name of two words or more (such a name is a listed name
// with words added, which the matcher must flag).
func TestIssue12HandFiles(t *testing.T) {
	ents, _, _ := allLists(t)
	byID := map[string]*entity.Entity{}
	for i := range ents {
		byID[ents[i].ID] = &ents[i]
	}
	scripts := map[string]*unicode.RangeTable{"Arab": unicode.Arabic, "Cyrl": unicode.Cyrillic}
	for _, row := range readTSV(t, "scripts.tsv", 4) {
		tab, ok := scripts[row[1]]
		if !ok {
			t.Errorf("%q: unknown script %q", row[0], row[1])
			continue
		}
		for _, r := range row[0] {
			if unicode.IsLetter(r) && !unicode.Is(tab, r) {
				t.Errorf("%q: letter %q is not %s", row[0], r, row[1])
			}
		}
		for _, id := range strings.Split(row[2], ",") {
			if e, ok := byID[id]; !ok || e.Kind != entity.Organization {
				t.Errorf("%q: %s is not a listed organisation", row[0], id)
			}
		}
	}
	listed := map[string]bool{}
	for i := range ents {
		if ents[i].Kind != entity.Organization {
			continue
		}
		for _, n := range ents[i].Names {
			if k := screeneval.NormName(n.Full); strings.Contains(k, " ") && n.Script == "" {
				listed[k] = true
			}
		}
	}
	seen := map[string]string{}
	for _, f := range []string{"negatives-dev.tsv", "negatives-heldout.tsv"} {
		rows := readTSV(t, f, 3)
		if len(rows) < 200 {
			t.Errorf("%s: %d negatives, want at least 200", f, len(rows))
		}
		for _, row := range rows {
			k := screeneval.NormName(row[0])
			if prev, dup := seen[k]; dup {
				t.Errorf("%s: %q is also in %s", f, row[0], prev)
			}
			seen[k] = f
			w := strings.Fields(k)
			for i := range w {
				for j := i + 2; j <= len(w); j++ {
					if listed[strings.Join(w[i:j], " ")] {
						t.Errorf("%s: negative %q contains the listed name %q", f, row[0], strings.Join(w[i:j], " "))
					}
				}
			}
		}
	}
}

// issue12Floors are the figures the matcher reaches on the dev set at
// the end of issue 12 (right entity first at t for positives), rounded
// down: they may only rise. Before issue 12 they were 0.281 (latin-form),
// 0.476 (lookalike), 0.050 (native-script) and 0.520 (script-hand). The
// issue's targets are 1.0 for the Latin-script kinds, 0.90 for the script
// kinds, 0 flagged negatives.
var issue12Floors = map[string]float64{
	screeneval.KindLatinForm:  0.997, // 0.999
	screeneval.KindLookalike:  0.997, // 1.000
	screeneval.KindNative:     0.88,  // 0.894
	screeneval.KindScriptHand: 0.96,  // 1.000
}

// issue12HeldOutFloors are the held-out set's figures when it was first
// measured (2026-12-07, the end of issue 12), rounded down; the figures
// are in bench/screen/README.md.
var issue12HeldOutFloors = map[string]float64{
	screeneval.KindLatinForm:  0.985, // 0.989
	screeneval.KindLookalike:  0.99,  // 0.994
	screeneval.KindNative:     0.84,  // 0.855
	screeneval.KindScriptHand: 0.83,  // 0.849
}

const (
	issue12MaxFlagged        = 0.005 // share of hard negatives flagged, ceiling (dev: 1 of 226; before issue 12: 4 of 226)
	issue12HeldOutMaxFlagged = 0.025 // held-out: 5 of 206 when first measured
)

var issue12Targets = map[string]float64{
	screeneval.KindLatinForm:  1.0,
	screeneval.KindLookalike:  1.0,
	screeneval.KindNative:     0.90,
	screeneval.KindScriptHand: 0.90,
}

// runIssue12 screens the cases (the native-script kind against the index
// without original-script names) and returns the results and the CPU time
// per query, overall ("") and per kind.
func runIssue12(cs []screeneval.Case, ix, noNative *screening.Index) ([]screeneval.CaseResult, map[string]float64) {
	byKind := map[string][]screeneval.Case{}
	var kinds []string
	for _, c := range cs {
		if _, ok := byKind[c.Kind]; !ok {
			kinds = append(kinds, c.Kind)
		}
		byKind[c.Kind] = append(byKind[c.Kind], c)
	}
	sort.Strings(kinds)
	cpu := map[string]float64{}
	var outs []screeneval.Outcome
	var total int64
	for _, k := range kinds {
		eng := engine(ix)
		if k == screeneval.KindNative {
			eng = engine(noNative)
		}
		cpu0 := cpuTime()
		outs = append(outs, screeneval.Run(byKind[k], eng)...)
		d := cpuTime() - cpu0
		total += d
		cpu[k] = float64(d) / float64(len(byKind[k]))
	}
	cpu[""] = float64(total) / float64(len(cs))
	return screeneval.Assess(outs, operatingThreshold), cpu
}

func reportIssue12(t *testing.T, name string, res []screeneval.CaseResult, cpu map[string]float64) []screeneval.KindFigures {
	byKind := screeneval.Figures(res, operatingThreshold, func(c screeneval.Case) string { return c.Kind })
	bySub := screeneval.Figures(res, operatingThreshold, func(c screeneval.Case) string { return c.Kind + "/" + c.Sub })
	var b strings.Builder
	fmt.Fprintf(&b, "issue 12 %s set, all bundled lists, t=%.2f, %d queries, %.0f µs CPU per query (", name, operatingThreshold, len(res), cpu[""]/1e3)
	for i, k := range slices.Sorted(maps.Keys(cpu)) {
		if k != "" {
			fmt.Fprintf(&b, "%s%s %.0f", map[bool]string{true: ", "}[i > 1], k, cpu[k]/1e3)
		}
	}
	b.WriteString(")\n\n")
	screeneval.WriteFigures(&b, byKind)
	b.WriteString("\nby sub-kind\n\n")
	screeneval.WriteFigures(&b, bySub)
	b.WriteString("\ngap to the issue's targets\n")
	for _, f := range byKind {
		if f.Negatives {
			fmt.Fprintf(&b, "  %-14s %d of %d flagged, target 0\n", f.Kind, f.Flagged, f.N)
			continue
		}
		tg := issue12Targets[f.Kind]
		need := int(float64(f.N)*tg+0.999999) - f.Right
		fmt.Fprintf(&b, "  %-14s %.3f, target %.2f: %d more right\n", f.Kind, f.RightRate(), tg, max(need, 0))
	}
	// The issue's two positive targets over kinds: every Latin-script form
	// (latin-form and lookalike); 90% of Arabic- and Cyrillic-script names
	// (native-script and script-hand, Han left out).
	var latinN, latinR, scriptN, scriptR int
	for _, r := range res {
		c := r.Case
		switch {
		case c.Kind == screeneval.KindLatinForm || c.Kind == screeneval.KindLookalike:
			latinN++
			if r.Right(operatingThreshold) {
				latinR++
			}
		case (c.Kind == screeneval.KindNative || c.Kind == screeneval.KindScriptHand) &&
			(strings.HasPrefix(c.Sub, "Arab") || strings.HasPrefix(c.Sub, "Cyrl")):
			scriptN++
			if r.Right(operatingThreshold) {
				scriptR++
			}
		}
	}
	fmt.Fprintf(&b, "  Latin-script forms     %d of %d right first (%.3f), target all\n", latinR, latinN, float64(latinR)/float64(max(latinN, 1)))
	fmt.Fprintf(&b, "  Arabic and Cyrillic    %d of %d right first (%.3f), target 0.90\n", scriptR, scriptN, float64(scriptR)/float64(max(scriptN, 1)))
	t.Log("\n" + b.String())
	if os.Getenv("SCREENEVAL_MISSES") != "" {
		for _, r := range res {
			c := r.Case
			switch {
			case c.Negative() && r.Flagged():
				t.Logf("FLAG %-14s %-12s %q -> %s %.3f", c.Kind, c.Sub, c.Query, r.Top.ID, r.Top.Score)
			case !c.Negative() && !r.Right(operatingThreshold):
				t.Logf("MISS %-14s %-20s %q want %v (from %q) rank %d %.3f top %s %.3f", c.Kind, c.Sub, c.Query, c.Expect, c.From, r.Rank, r.Score, r.Top.ID, r.Top.Score)
			}
		}
	}
	return byKind
}

// issue3HeldOut measures issue 3's held-out sets a and b (and final with
// SCREENEVAL_FINAL=1) on the SDN index, as TestHeldOut does.
func issue3HeldOut(t *testing.T) {
	ix, ents := sdnIndex(t)
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
	neg := newNegChecker(ents)
	pools := heldOutPools(ents, used, len(heldOutSets))
	var outs []screeneval.Outcome
	var names []string
	for k, hs := range heldOutSets {
		if hs.name == "final" && os.Getenv("SCREENEVAL_FINAL") == "" {
			continue
		}
		names = append(names, hs.name)
		outs = append(outs, screeneval.Run(heldOut(pools[k], ents, neg, hs.seed), engine(ix))...)
	}
	m := screeneval.Compute(outs, operatingThreshold)
	t.Logf("issue 3 held-out %s (SDN index): recall@1 at t %.3f (target 0.99), recall@5 at t %.3f (target 0.995), FPR %.4f (target <= 0.005)",
		strings.Join(names, "+"), m.Top1AtT, m.Top5AtT, m.FPR)
	if m.Top1AtT < 0.96 || m.Top5AtT < 0.97 || m.FPR > 0.01 {
		t.Errorf("issue 3 held-out fell: recall@1 %.3f, recall@5 %.3f, FPR %.4f", m.Top1AtT, m.Top5AtT, m.FPR)
	}
}

func checkIssue12Floors(t *testing.T, figs []screeneval.KindFigures, floors map[string]float64, maxFlagged float64) {
	for _, f := range figs {
		if f.Negatives {
			if f.FlagRate() > maxFlagged {
				t.Errorf("%s: %.3f flagged, ceiling %.3f", f.Kind, f.FlagRate(), maxFlagged)
			}
			continue
		}
		if fl, ok := floors[f.Kind]; ok && f.RightRate() < fl {
			t.Errorf("%s: right entity first at t %.3f, floor %.3f", f.Kind, f.RightRate(), fl)
		}
	}
}

var (
	sameOnce sync.Once
	sameBody *screeneval.SameBody
)

// sameBodies is the equivalence of the same body or person on several
// lists (screeneval.SameBody): the lists' own links and same-body.tsv.
func sameBodies(t testing.TB) *screeneval.SameBody {
	t.Helper()
	ents, _, _ := allLists(t)
	rows := readTSV(t, "same-body.tsv", 2)
	sameOnce.Do(func() {
		var hand [][]string
		for _, row := range rows {
			hand = append(hand, strings.Split(row[0], ","))
		}
		sameBody = screeneval.NewSameBody(ents, hand)
	})
	return sameBody
}

// expandRight blanks what engines must not see (From) and widens each
// case's right answers to the same body on the other lists.
func expandRight(t testing.TB, cs []screeneval.Case) {
	sb := sameBodies(t)
	for i := range cs {
		cs[i].From = "" // engines never see it
		cs[i].Expect = sb.Expand(cs[i].Expect)
	}
}

// TestIssue12Dev measures the development set, issue 3's held-out sets in
// the same run, the CPU per query and the index memory.
func TestIssue12Dev(t *testing.T) {
	if testing.Short() {
		t.Skip("loads every bundled list")
	}
	_, ix, noNative := allLists(t)
	cs, err := screeneval.Load(customerDir("dev.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	expandRight(t, cs)
	res, cpu := runIssue12(cs, ix, noNative)
	checkIssue12Floors(t, reportIssue12(t, "dev", res, cpu), issue12Floors, issue12MaxFlagged)
	t.Logf("index heap: all lists %.1f MiB, without original-script names %.1f MiB", float64(allIndexHeapBytes)/(1<<20), float64(allNoNativeHeapSize)/(1<<20))
	issue3HeldOut(t)
}

// TestIssue12HeldOut measures the held-out set, which is not tuned
// against (its misses describe classes of failure, never cases to fix
// one by one), and asserts the figures of its
// first measurement as floors. With SCREENEVAL_FINAL=1 issue 3's final
// held-out set is measured too.
func TestIssue12HeldOut(t *testing.T) {
	if testing.Short() {
		t.Skip("loads every bundled list")
	}
	_, ix, noNative := allLists(t)
	cs, err := screeneval.Load(customerDir("heldout.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	expandRight(t, cs)
	res, cpu := runIssue12(cs, ix, noNative)
	checkIssue12Floors(t, reportIssue12(t, "held-out", res, cpu), issue12HeldOutFloors, issue12HeldOutMaxFlagged)
	issue3HeldOut(t)
}

// BenchmarkIssue12Search screens the issue 12 dev set's queries (all
// kinds, native-script ones too, in file order) against the index over all
// bundled lists at the operating threshold.
//
//	go test ./internal/screeneval -run XXX -bench Issue12 -benchtime 2s -cpu 1
func BenchmarkIssue12Search(b *testing.B) {
	_, ix, _ := allLists(b)
	cs, err := screeneval.Load(customerDir("dev.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	qs := make([]screening.Query, len(cs))
	for i, c := range cs {
		qs[i] = screening.Query{Name: c.Query, Kind: c.EntityKind(), Limit: 10}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, n := cpuTime(), 0
	for i := 0; b.Loop(); i++ {
		ix.Search(qs[i%len(qs)], operatingThreshold)
		n++
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(n), "cpu-ns/op")
}
