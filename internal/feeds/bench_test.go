package feeds_test

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/feeds"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/screening"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCheckNotModified is one scheduled check of the OFAC feed
// answered 304 for its four files. cpu-ns/op is the process's CPU time per
// check, the in-process test server's share included (an upper bound).
func BenchmarkCheckNotModified(b *testing.B) {
	ls, err := lists.Open("", []string{filepath.Join(sanctions, "ofac")})
	if err != nil {
		b.Fatal(err)
	}
	srv := newPubServer(b, set2023(b), time.Date(2023, 12, 28, 0, 0, 0, 0, time.UTC))
	f := testFeed(srv.URL + "/exports/")
	s, err := feeds.New(feeds.Options{Store: ls, Feeds: []config.Feed{f}, DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if res := s.Check(ctx, f, nil); res.Outcome != feeds.OutcomeUnchanged {
		b.Fatalf("priming: %+v", res)
	}
	b.ResetTimer()
	c0 := cpuTime()
	for b.Loop() {
		if res := s.Check(ctx, f, nil); res.Outcome != feeds.OutcomeNotModified {
			b.Fatalf("%+v", res)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkFullSDNUpdate activates a full SDN publication, the download
// excluded: parse, verification, diff, persisted files, manifest, the
// snapshot swap and the screening index rebuilt on it. It alternates the
// real 2023 and 2024 sets (the 2024 sdn.csv with the 2023 companions).
func BenchmarkFullSDNUpdate(b *testing.B) {
	ls, err := lists.Open(b.TempDir(), []string{filepath.Join(sanctions, "ofac")})
	if err != nil {
		b.Fatal(err)
	}
	ls.SetPolicy(lists.Policy{Floors: lists.DefaultFloors, MaxRemovedShare: -1})
	screening.NewService(ls, 0) // rebuilds its index on every import
	canon := func(p publication) map[string][]byte {
		return map[string][]byte{"sdn.csv": p["SDN.CSV"], "add.csv": p["ADD.CSV"], "alt.csv": p["ALT.CSV"], "sdn_comments.csv": p["SDN_COMMENTS.CSV"]}
	}
	sets := []map[string][]byte{canon(set2024(b)), canon(set2023(b))}
	i := 0
	c0 := cpuTime()
	for b.Loop() {
		res, err := ls.ImportSource("ofac-sdn", sets[i%2], lists.ImportOptions{Origin: "bench"})
		if err != nil || res[0].Unchanged {
			b.Fatalf("%v %+v", err, res)
		}
		i++
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkCheckNotModifiedConsolidated is BenchmarkCheckNotModified for
// the consolidated feed (four CONS_*.CSV files answered 304).
func BenchmarkCheckNotModifiedConsolidated(b *testing.B) {
	ls, err := lists.Open("", []string{filepath.Join(sanctions, "ofac-consolidated")})
	if err != nil {
		b.Fatal(err)
	}
	srv := newPubServer(b, consPublication(b), time.Date(2018, 5, 25, 0, 0, 0, 0, time.UTC))
	f := consFeed(srv.URL + "/exports/")
	s, err := feeds.New(feeds.Options{Store: ls, Feeds: []config.Feed{f}, DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if res := s.Check(ctx, f, nil); res.Outcome != feeds.OutcomeUnchanged {
		b.Fatalf("priming: %+v", res)
	}
	b.ResetTimer()
	c0 := cpuTime()
	for b.Loop() {
		if res := s.Check(ctx, f, nil); res.Outcome != feeds.OutcomeNotModified {
			b.Fatalf("%+v", res)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkFullConsolidatedUpdate activates a full consolidated
// publication next to the active SDN list, the download excluded (as
// BenchmarkFullSDNUpdate): it alternates the real 2018 set and the same
// set without its last 10 entries. The screening index is rebuilt over
// both lists on every activation.
func BenchmarkFullConsolidatedUpdate(b *testing.B) {
	ls, err := lists.Open(b.TempDir(), []string{filepath.Join(sanctions, "ofac"), filepath.Join(sanctions, "ofac-consolidated")})
	if err != nil {
		b.Fatal(err)
	}
	ls.SetPolicy(lists.Policy{Floors: lists.DefaultFloors})
	screening.NewService(ls, 0)
	canon := func(p publication) map[string][]byte {
		return map[string][]byte{"cons_prim.csv": p["CONS_PRIM.CSV"], "cons_add.csv": p["CONS_ADD.CSV"], "cons_alt.csv": p["CONS_ALT.CSV"], "cons_comments.csv": p["CONS_COMMENTS.CSV"]}
	}
	full := canon(consPublication(b))
	fewer := canon(consPublication(b))
	fewer["cons_prim.csv"] = cutLines(full["cons_prim.csv"], 629)
	sets := []map[string][]byte{fewer, full}
	i := 0
	c0 := cpuTime()
	for b.Loop() {
		res, err := ls.ImportSource("ofac-cons", sets[i%2], lists.ImportOptions{Origin: "bench"})
		if err != nil || res[0].Unchanged {
			b.Fatalf("%v %+v", err, res)
		}
		i++
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}
