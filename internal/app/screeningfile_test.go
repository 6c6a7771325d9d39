package app

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/testlog"
)

// mapsFile reports whether this process maps a file under dir.
func mapsFile(t *testing.T, dir string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(b), dir)
}

// TestScreeningIndexMapped: a screening node keeps its index in
// data_dir/screening and maps it; a restart maps the same file.
func TestScreeningIndexMapped(t *testing.T) {
	d := startDesk(t, "", "  - host: config.example\n    origins: [http://127.0.0.1:9]\n")
	if d.screening == nil {
		t.Fatal("no screening service")
	}
	l := d.screening.LastLoad()
	dir := filepath.Join(d.gen.Load().cfg.DataDir, "screening")
	if !l.Built || filepath.Dir(l.Path) != dir || l.Bytes == 0 {
		t.Fatalf("first start: %+v, want a file built in %s", l, dir)
	}
	if !mapsFile(t, l.Path) {
		t.Errorf("%s is not mapped", l.Path)
	}
	if r := d.screening.Screen(screening.Query{Name: "HAMAS"}); len(r.Matches) == 0 {
		t.Error("the mapped index finds no HAMAS")
	}
	if !strings.Contains(d.logs.String(), `"msg":"screening index ready"`) {
		t.Error("no log line for the index")
	}
}

// TestNoScreeningNodeLoadsNothing: a node with compliance.screening:
// false, or without an admin listener, loads no list and no index, and
// writes no index file.
func TestNoScreeningNodeLoadsNothing(t *testing.T) {
	un, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "sanctions", "un"))
	for _, tc := range []struct {
		name, compliance string
		admin            bool
	}{
		{"screening false", "compliance: {screening: false, lists: [" + un + "]}", true},
		{"no admin listener", "compliance: {lists: [" + un + "]}", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := t.TempDir()
			cfg := parseConfig(t, fmt.Sprintf("log: {format: \"off\"}\ndata_dir: %s\n%s\nzones:\n  - host: a.example\n    origins: [http://127.0.0.1:9]\n", dataDir, tc.compliance))
			if !tc.admin {
				cfg.Listen.Admin = ""
			}
			logs := &testlog.Buffer{}
			a, err := New(cfg, Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer a.closeAll()
			if a.screening != nil || a.lists != nil || a.Compliance() != nil {
				t.Errorf("screening %v, lists %v, desk %v: want none", a.screening != nil, a.lists != nil, a.Compliance() != nil)
			}
			if _, err := os.Stat(filepath.Join(dataDir, "screening")); !os.IsNotExist(err) {
				t.Errorf("data_dir/screening: %v, want none", err)
			}
			if mapsFile(t, dataDir) {
				t.Error("a file of the data directory is mapped")
			}
			if (tc.admin) != (a.Addrs().Admin != "") {
				t.Errorf("admin listener %q", a.Addrs().Admin)
			}
		})
	}
}
