// Package backend opens the control-plane store the config names: SQLite
// in the data directory when store is "", PostgreSQL for a postgres:// or
// postgresql:// URL.
package backend

import (
	"context"
	"fmt"
	"strings"

	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/postgres"
	"github.com/rampart-edge/rampart/internal/store/sqlcore"
	"github.com/rampart-edge/rampart/internal/store/sqlite"
)

// Open opens and migrates the store: SQLite at dataDir/rampart.db when
// storeURL is "", else the PostgreSQL database at storeURL. Any other
// scheme is an error.
func Open(ctx context.Context, dataDir, storeURL string) (*sqlcore.DB, error) {
	switch {
	case storeURL == "":
		return sqlite.Open(ctx, dataDir)
	case strings.HasPrefix(storeURL, "postgres:"), strings.HasPrefix(storeURL, "postgresql:"):
		return postgres.Open(ctx, storeURL)
	}
	scheme, _, _ := strings.Cut(storeURL, ":")
	return nil, fmt.Errorf("opening store: unsupported scheme %q (want \"\" for SQLite or postgres://)", scheme)
}

// WatchOptions are postgres.ListenOptions.
type WatchOptions = postgres.ListenOptions

// Watch wakes o.Notify on every desired-state change committed on the
// PostgreSQL store at storeURL (LISTEN on store.StateChannel over a
// dedicated connection, reconnecting with backoff) until ctx is done. On
// SQLite, a single node's store, there is nothing to listen to and it
// returns false at once: the node's own changes wake it in process and
// polling the state version catches writes of other processes.
func Watch(ctx context.Context, storeURL string, o WatchOptions) bool {
	if storeURL == "" {
		return false
	}
	go postgres.Listen(ctx, storeURL, store.StateChannel, o)
	return true
}
