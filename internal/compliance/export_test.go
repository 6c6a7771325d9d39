package compliance

import (
	"testing"

	"github.com/rampart-edge/rampart/internal/store"
)

// Test hooks for the external tests (package compliance_test), which
// cannot live in this package because they import internal/admin.
var (
	HookNewService      = newService
	HookSharedScreening = sharedScreening
)

// HookBackend is one store kind of the shared test backends.
type HookBackend struct {
	Name string
	Open func(tb testing.TB) store.Store
}

// HookBackends returns a fresh store opener per kind (SQLite, PostgreSQL).
func HookBackends() []HookBackend {
	var out []HookBackend
	for _, b := range backends {
		out = append(out, HookBackend{Name: b.name, Open: b.open})
	}
	return out
}
