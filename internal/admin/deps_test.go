package admin

import (
	"sync"
	"testing"

	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/screening"
)

// deps are the real list store (the bundled lists, in memory) and the
// real screening service over it, shared by the tests that only read.
type deps struct {
	screener Screener
	lists    ListStore
}

var (
	depsOnce sync.Once
	depsVal  deps
	depsErr  error
)

func testDeps(t *testing.T) deps {
	t.Helper()
	depsOnce.Do(func() {
		store, err := lists.Open("", nil)
		if err != nil {
			depsErr = err
			return
		}
		depsVal = deps{screener: screening.NewService(store, 0.90), lists: store}
	})
	if depsErr != nil {
		t.Fatalf("opening the bundled lists: %v", depsErr)
	}
	return depsVal
}
