package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/sqlite"
)

// TestDeadlines: every store call without a deadline gets the store's
// (SetTimeout; config timeouts.store) instead of SQLite's 10 s busy
// timeout, a caller's own deadline wins, and a missed deadline is
// store.ErrUnavailable. Another connection holds the database's write
// lock, as a stuck rampart CLI or a long transaction would.
func TestDeadlines(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const timeout = 300 * time.Millisecond
	db.SetTimeout(timeout)
	if db.Timeout() != timeout {
		t.Fatalf("Timeout = %s", db.Timeout())
	}
	acc := store.Account{Name: "Quiet Meadow Bakery", Kind: store.KindOrganization}
	if err := db.CreateAccount(ctx, &acc); err != nil {
		t.Fatal(err)
	}

	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName)+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	holder, err := raw.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()

	within := func(d time.Duration) context.Context {
		c, cancel := context.WithTimeout(ctx, d)
		t.Cleanup(cancel)
		return c
	}
	tests := []struct {
		name       string
		call       func() error
		wantErr    bool
		minT, maxT time.Duration
	}{
		{"write, no deadline: the store's", func() error {
			a := store.Account{Name: "Second", Kind: store.KindPerson}
			return db.CreateAccount(ctx, &a)
		}, true, timeout - 50*time.Millisecond, 3 * time.Second},
		{"transaction, no deadline: the store's", func() error {
			return db.Tx(ctx, func(tx store.Tx) error {
				a := store.Account{Name: "Third", Kind: store.KindPerson}
				return tx.CreateAccount(ctx, &a)
			})
		}, true, timeout - 50*time.Millisecond, 3 * time.Second},
		{"write, the caller's longer deadline wins", func() error {
			a := store.Account{Name: "Fourth", Kind: store.KindPerson}
			return db.CreateAccount(within(time.Second), &a)
		}, true, 900 * time.Millisecond, 4 * time.Second},
		{"read: WAL readers are not held", func() error {
			_, err := db.GetAccount(ctx, acc.ID)
			return err
		}, false, 0, timeout},
		{"ping", func() error { return db.Ping(ctx) }, false, 0, timeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := tt.call()
			took := time.Since(start)
			t.Logf("%s: %v in %s", tt.name, err, took.Round(time.Millisecond))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr && !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("error %v is not store.ErrUnavailable", err)
			}
			if took < tt.minT || took > tt.maxT {
				t.Errorf("took %s, want %s to %s", took, tt.minT, tt.maxT)
			}
		})
	}
	if err := holder.Rollback(); err != nil {
		t.Fatal(err)
	}
	a := store.Account{Name: "After", Kind: store.KindPerson}
	if err := db.CreateAccount(ctx, &a); err != nil {
		t.Errorf("write after the lock was released: %v", err)
	}
}
