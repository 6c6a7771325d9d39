package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/postgres"
	"github.com/rampart-edge/rampart/internal/store/sqlcore"
	"github.com/rampart-edge/rampart/internal/store/storetest"
)

// defaultURL is the test database when RAMPART_TEST_POSTGRES is unset.
const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func TestMain(m *testing.M) {
	if u := os.Getenv(storetest.CrashEnv); u != "" {
		s, err := postgres.Open(context.Background(), u)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		storetest.CrashChild(s)
	}
	os.Exit(m.Run())
}

func baseURL() string {
	if u := os.Getenv("RAMPART_TEST_POSTGRES"); u != "" {
		return u
	}
	return defaultURL
}

// freshSchema creates an empty schema t_<random>, drops it when the test
// ends, and returns a URL whose search_path is that schema. PostgreSQL must
// be reachable: the test fails (never skips) otherwise.
func freshSchema(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := baseURL()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("PostgreSQL is needed for these tests and is not reachable at %s (set RAMPART_TEST_POSTGRES): %v", base, err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("creating schema %s: %v", schema, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openURL(tb testing.TB, u string) *sqlcore.DB {
	tb.Helper()
	s, err := postgres.Open(context.Background(), u)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func open(tb testing.TB) store.Store {
	return openURL(tb, freshSchema(tb))
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func TestMigrateTwiceAndConcurrently(t *testing.T) {
	u := freshSchema(t)
	ctx := context.Background()
	// Several nodes starting at once must not migrate twice.
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := postgres.Open(ctx, u)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	s := openURL(t, u)
	applied, err := s.Migrate(ctx, os.DirFS("migrations"), ".")
	if err != nil || len(applied) != 0 {
		t.Errorf("migration after open applied %v, %v; want nothing", applied, err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := postgres.Open(ctx, "postgres://user:s3cret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"); err == nil {
		t.Error("unreachable database accepted")
	} else if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error leaks the password: %v", err)
	}
	if _, err := postgres.Open(ctx, "mysql://x"); err == nil {
		t.Error("non-postgres URL accepted")
	}
}

func TestCrashSafety(t *testing.T) {
	u := freshSchema(t)
	newCmd := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), storetest.CrashEnv+"="+u)
		return cmd
	}
	storetest.Crash(t, newCmd, 3, 60, func(t *testing.T) store.Store { return openURL(t, u) })
}

func BenchmarkBulk100k(b *testing.B) {
	storetest.BenchBulk(b, func(b *testing.B) store.Store { return open(b) }, 100000)
}

func BenchmarkAppend(b *testing.B) {
	storetest.BenchAppend(b, func(b *testing.B) store.Store { return open(b) })
}

func BenchmarkCreateZoneWithScreening(b *testing.B) {
	storetest.BenchCreateZoneWithScreening(b, func(b *testing.B) store.Store { return open(b) })
}
