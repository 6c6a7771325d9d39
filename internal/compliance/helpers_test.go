package compliance

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/postgres"
	"github.com/rampart-edge/rampart/internal/store/sqlite"
	"github.com/rampart-edge/rampart/internal/testenv"
)

// The real OFAC publications in the repository's testdata (see
// testdata/sanctions/PROVENANCE.md).
var (
	ofac2023 = filepath.Join("..", "..", "testdata", "sanctions", "ofac")
	ofac2024 = filepath.Join("..", "..", "testdata", "sanctions", "ofac-2024-05-03")
)

// forced2024 imports the 2024 file (sdn.csv alone) over the full 2023
// set, which verification refuses as incomplete unless forced.
var forced2024 = lists.ImportOptions{Force: true, Reason: "test: the 2024 snapshot has sdn.csv only"}

// freshSchema is an empty PostgreSQL schema of its own for one test, on
// the ephemeral cluster testenv starts (or RAMPART_TEST_POSTGRES's
// database), dropped when the test ends. The test fails (never skips)
// without one.
func freshSchema(tb testing.TB) string {
	tb.Helper()
	return testenv.Postgres(tb)
}

// backends opens a fresh store of each kind.
var backends = []struct {
	name string
	open func(tb testing.TB) store.Store
}{
	{"sqlite", func(tb testing.TB) store.Store {
		s, err := sqlite.Open(context.Background(), tb.TempDir())
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(tb testing.TB) store.Store {
		s, err := postgres.Open(context.Background(), freshSchema(tb))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}},
}

var (
	sharedOnce sync.Once
	sharedScr  *screening.Service
	sharedErr  error
)

// sharedScreening is a screening service over the 2023 OFAC list, shared
// by tests that do not import.
func sharedScreening(tb testing.TB) *screening.Service {
	sharedOnce.Do(func() {
		ls, err := lists.Open("", []string{ofac2023})
		if err != nil {
			sharedErr = err
			return
		}
		sharedScr = screening.NewService(ls, 0)
	})
	if sharedErr != nil {
		tb.Fatal(sharedErr)
	}
	return sharedScr
}

func newService(tb testing.TB, s store.Store, scr *screening.Service, onHit string) *Service {
	tb.Helper()
	c, err := New(context.Background(), Options{Store: s, Screening: scr, Embargoed: []string{"IR", "KP"}, OnHit: onHit})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
