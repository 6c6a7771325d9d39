package screeneval_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/screening"
)

// BenchmarkActivation imports a new version of the OFAC SDN list into a
// store holding every bundled list with a screening service subscribed,
// alternating two versions: one list activation (parse, verify, persist,
// index) per iteration, as rampart serve does it. wall-ms/op.
func BenchmarkActivation(b *testing.B) {
	dir := b.TempDir()
	st, err := lists.Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	svc := activationService(b, st, dir)
	_ = svc
	paths := []string{repoPath("testdata", "sanctions", "ofac-2024-05-03"), repoPath("testdata", "sanctions", "ofac")}
	var total time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		if _, err := st.ImportWith(lists.ImportOptions{Force: true, Reason: "bench"}, paths[n%2]); err != nil {
			b.Fatal(err)
		}
		total += time.Since(t0)
		n++
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(n), "wall-ms/op")
}

func activationService(b *testing.B, st *lists.Store, dir string) *screening.Service {
	return screening.NewServiceWith(st, screening.ServiceOptions{Dir: filepath.Join(dir, "screening")})
}
