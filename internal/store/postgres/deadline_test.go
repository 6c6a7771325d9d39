package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-edge/rampart/internal/store"
)

// TestDeadlines: with another session holding an ACCESS EXCLUSIVE lock on
// the zones table (a migration or a stuck maintenance job), every read of
// it fails with store.ErrUnavailable at the store's deadline, inside a
// transaction too (whatever context the statement is given), instead of
// waiting for the lock; other tables answer.
func TestDeadlines(t *testing.T) {
	ctx := context.Background()
	u := freshSchema(t)
	db := openURL(t, u)
	const timeout = 300 * time.Millisecond
	db.SetTimeout(timeout)
	acc := store.Account{Name: "Quiet Meadow Bakery", Kind: store.KindOrganization}
	if err := db.CreateAccount(ctx, &acc); err != nil {
		t.Fatal(err)
	}
	locker, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(ctx)
	lockTx, err := locker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lockTx.Rollback(ctx)
	if _, err := lockTx.Exec(ctx, "LOCK TABLE zones IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		call    func() error
		wantErr bool
		maxT    time.Duration
	}{
		{"zone scan (the refresh loop's read)", func() error {
			for _, err := range db.Zones(ctx) {
				if err != nil {
					return err
				}
			}
			return nil
		}, true, 10 * timeout},
		{"zone list", func() error {
			_, err := db.ListZones(ctx, store.ZoneFilter{})
			return err
		}, true, 10 * timeout},
		{"statement in a transaction, given a context without deadline", func() error {
			return db.Tx(ctx, func(tx store.Tx) error {
				_, err := tx.ListZones(context.Background(), store.ZoneFilter{})
				return err
			})
		}, true, 10 * timeout},
		{"another table", func() error {
			_, err := db.GetAccount(ctx, acc.ID)
			return err
		}, false, timeout},
		{"ping", func() error { return db.Ping(ctx) }, false, timeout},
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
			if tt.wantErr && took < timeout-50*time.Millisecond || took > tt.maxT {
				t.Errorf("took %s, want about %s", took, timeout)
			}
		})
	}
	if err := lockTx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ListZones(ctx, store.ZoneFilter{}); err != nil {
		t.Errorf("after the lock was released: %v", err)
	}
}
