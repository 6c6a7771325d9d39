package backend_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/store/backend"
	"github.com/rampart-edge/rampart/internal/store/sqlite"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := backend.Open(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Dialect() != "sqlite" {
		t.Errorf("dialect = %s", s.Dialect())
	}
	if _, err := os.Stat(filepath.Join(dir, sqlite.FileName)); err != nil {
		t.Errorf("no database file: %v", err)
	}
	for _, bad := range []string{"mysql://x/y", "redis://127.0.0.1"} {
		if _, err := backend.Open(ctx, dir, bad); err == nil || !strings.Contains(err.Error(), "unsupported scheme") {
			t.Errorf("Open(%q) = %v, want unsupported scheme", bad, err)
		}
	}
}
