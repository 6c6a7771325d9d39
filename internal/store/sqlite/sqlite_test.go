package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/sqlite"
	"github.com/rampart-edge/rampart/internal/store/storetest"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(storetest.CrashEnv); dir != "" {
		s, err := sqlite.Open(context.Background(), dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		storetest.CrashChild(s)
	}
	os.Exit(m.Run())
}

func open(tb testing.TB) store.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	s, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	a := store.Account{Name: "Kept", Kind: store.KindPerson}
	if err := s.CreateAccount(ctx, &a); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, sqlite.FileName+"-wal")); err != nil {
		t.Errorf("no write-ahead log next to the database (WAL mode off?): %v", err)
	}
	s.Close()
	fi, err := os.Stat(filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("database file mode = %v, want 0600", fi.Mode().Perm())
	}
	s, err = sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetAccount(ctx, a.ID); err != nil {
		t.Errorf("account lost on reopen: %v", err)
	}
	applied, err := s.Migrate(ctx, os.DirFS("migrations"), ".")
	if err != nil || len(applied) != 0 {
		t.Errorf("second migration run applied %v, %v; want nothing", applied, err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := sqlite.Open(ctx, ""); err == nil {
		t.Error("empty data dir accepted")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Open(ctx, file); err == nil {
		t.Error("a file as data dir accepted")
	}
	notDB := t.TempDir()
	if err := os.WriteFile(filepath.Join(notDB, sqlite.FileName), []byte("this is not a database, just text padding it out"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Open(ctx, notDB); err == nil {
		t.Error("a corrupt database file accepted")
	}
}

func TestCrashSafety(t *testing.T) {
	dir := t.TempDir()
	newCmd := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), storetest.CrashEnv+"="+dir)
		return cmd
	}
	storetest.Crash(t, newCmd, 3, 60, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
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
