package compliance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/postgres"
	"github.com/rampart-edge/rampart/internal/store/sqlite"
)

// The real OFAC publications in the repository's testdata (see
// testdata/sanctions/PROVENANCE.md).
var (
	ofac2023 = filepath.Join("..", "..", "testdata", "sanctions", "ofac")
	ofac2024 = filepath.Join("..", "..", "testdata", "sanctions", "ofac-2024-05-03")
)

const defaultPG = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func pgURL() string {
	if u := os.Getenv("RAMPART_TEST_POSTGRES"); u != "" {
		return u
	}
	return defaultPG
}

// freshSchema creates an empty PostgreSQL schema for one test (dropped
// after it) and returns a URL using it. PostgreSQL must be reachable.
func freshSchema(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := pgURL()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("PostgreSQL is needed and not reachable at %s (set RAMPART_TEST_POSTGRES): %v", base, err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("creating schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, base); err == nil {
			defer conn.Close(ctx)
			_, _ = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
		}
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
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
