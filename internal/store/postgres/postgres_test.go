package postgres_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/postgres"
	"github.com/rampart-edge/rampart/internal/store/sqlcore"
	"github.com/rampart-edge/rampart/internal/store/storetest"
	"github.com/rampart-edge/rampart/internal/testenv"
)

func TestMain(m *testing.M) {
	if u := os.Getenv(storetest.CrashEnv); u != "" {
		s, err := postgres.Open(context.Background(), u)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		storetest.CrashChild(s)
	}
	testenv.Main(m)
}

// freshSchema is an empty schema of its own for one test, on the ephemeral
// PostgreSQL cluster testenv starts (or RAMPART_TEST_POSTGRES's database),
// dropped when the test ends. The test fails (never skips) without one.
func freshSchema(tb testing.TB) string {
	tb.Helper()
	return testenv.Postgres(tb)
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
