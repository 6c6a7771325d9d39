package app

import (
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/rampart-edge/rampart/internal/admin"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/token"
)

// openCompliance loads the sanctions lists (compliance.lists, or the
// bundled set when empty; versions persisted in data_dir win) and builds
// the screening service on them.
func (a *App) openCompliance(cfg *config.Config) error {
	store, err := lists.Open(cfg.DataDir, cfg.Compliance.Lists)
	if err != nil {
		return fmt.Errorf("loading sanctions lists: %w", err)
	}
	a.lists = store
	a.screening = screening.NewService(store, cfg.Compliance.Threshold)
	n := 0
	for _, v := range store.Snapshot().Versions {
		n += v.Entities
	}
	// Parsing the lists and building the index leave a lot of garbage;
	// return it to the OS now rather than at the next GC cycles.
	debug.FreeOSMemory()
	a.log.Info("sanctions lists loaded", "sources", len(store.Snapshot().Versions), "entities", n)
	return nil
}

// adminHandler builds the admin API (internal/admin) on the app's token
// store, lists, screening service, metrics and health.
func (a *App) adminHandler(cfg *config.Config, tokens token.Store) (http.Handler, error) {
	if tokens == nil {
		f, err := token.OpenFile(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		tokens = f
	}
	o := admin.Options{Tokens: tokens, Metrics: a.metrics.Handler(), Health: a.Health, Logger: a.log}
	// Leave absent pieces as untyped nils: their routes answer 503.
	if a.lists != nil {
		o.Lists = a.lists
	}
	if a.screening != nil {
		o.Screening = a.screening
	}
	srv, err := admin.New(o)
	if err != nil {
		return nil, err
	}
	return srv.Handler(), nil
}
