package screeneval_test

import (
	"os"
	"syscall"
	"testing"

	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/lists/ofac"
	"github.com/rampart-edge/rampart/internal/screeneval"
	"github.com/rampart-edge/rampart/internal/screening"
)

// BenchmarkSearch runs the dev.jsonl queries (all kinds, in file order)
// against the SDN index at the operating threshold.
func BenchmarkSearch(b *testing.B) {
	ix, _ := sdnIndex(b)
	cases, err := screeneval.Load(repoPath("testdata", "screening-eval", "dev.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	qs := make([]screening.Query, len(cases))
	for i, c := range cases {
		qs[i] = screening.Query{Name: c.Query, Kind: c.EntityKind(), Limit: 10}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	n := 0
	for i := 0; b.Loop(); i++ {
		ix.Search(qs[i%len(qs)], operatingThreshold)
		n++
	}
	// CPU time per search is steadier than wall time on a shared machine.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(n), "cpu-ns/op")
}

// BenchmarkSearchMapped is BenchmarkSearch on the index mapped from its
// file (issue 16), as rampart serve searches it.
func BenchmarkSearchMapped(b *testing.B) {
	_, ents := sdnIndex(b)
	ix := mappedIndex(b, ents)
	cases, err := screeneval.Load(repoPath("testdata", "screening-eval", "dev.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	qs := make([]screening.Query, len(cases))
	for i, c := range cases {
		qs[i] = screening.Query{Name: c.Query, Kind: c.EntityKind(), Limit: 10}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	n := 0
	for i := 0; b.Loop(); i++ {
		ix.Search(qs[i%len(qs)], operatingThreshold)
		n++
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(n), "cpu-ns/op")
}

// cpuTime returns the process's user plus system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkNewIndex builds the index over the SDN list (sdn.csv + alt.csv).
func BenchmarkNewIndex(b *testing.B) {
	ents, err := ofac.ReadDir(repoPath("testdata", "sanctions", "ofac"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0, n := cpuTime(), 0
	for b.Loop() {
		screening.NewIndex(ents)
		n++
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(n), "cpu-ns/op")
}

// BenchmarkNewIndexAllLists builds the index over every bundled list
// (OFAC SDN, UN, UK), as rampart serve does with its defaults.
func BenchmarkNewIndexAllLists(b *testing.B) {
	store, err := lists.Open("", nil)
	if err != nil {
		b.Fatal(err)
	}
	ents := store.Snapshot().Entities
	b.ReportMetric(float64(len(ents)), "entities")
	b.ReportAllocs()
	cpu0, n := cpuTime(), 0
	for b.Loop() {
		screening.NewIndex(ents)
		n++
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(n), "cpu-ns/op")
}

// BenchmarkIndexFileAllLists builds the index over every bundled list and
// writes its file (what a list activation does the first time, issue
// 16), then maps it, as a restart does: build-ns/op and open-ns/op.
func BenchmarkIndexFileAllLists(b *testing.B) {
	store, err := lists.Open("", nil)
	if err != nil {
		b.Fatal(err)
	}
	ents := store.Snapshot().Entities
	versions := map[string]string{}
	for src, v := range store.Snapshot().Versions {
		versions[src] = v.Hash
	}
	dir := b.TempDir()
	var build, open, size int64
	n := 0
	for b.Loop() {
		os.RemoveAll(dir)
		_, info, err := screening.LoadFile(dir, versions, ents)
		if err != nil || !info.Built {
			b.Fatal(err, info)
		}
		_, info2, err := screening.LoadFile(dir, versions, ents)
		if err != nil || info2.Built {
			b.Fatal(err, info2)
		}
		build += int64(info.Build)
		open += int64(info2.Open)
		size = info.Bytes
		n++
	}
	b.ReportMetric(float64(build)/float64(n), "build-ns/op")
	b.ReportMetric(float64(open)/float64(n), "open-ns/op")
	b.ReportMetric(float64(size)/(1<<20), "file-MiB")
}
