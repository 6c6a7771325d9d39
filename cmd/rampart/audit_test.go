package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/store/sqlite"
	"github.com/rampart-edge/rampart/internal/store/storetest"
)

// runAuditCmd runs the root command with args and returns its output.
func runAuditCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestAuditVerifyAndExport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var last audit.Entry
	for i := range 12 {
		last, err = s.Append(ctx, audit.Event{Actor: "system", Action: "test.cli", Subject: fmt.Sprintf("n:%d", i),
			Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))})
		if err != nil {
			t.Fatal(err)
		}
	}

	out, err := runAuditCmd(t, "audit", "verify", "--data-dir", dir)
	if want := "ok: 12 entries, head " + last.Hash + "\n"; err != nil || out != want {
		t.Fatalf("verify = %q, %v; want %q", out, err, want)
	}

	// The config's data_dir is used when --data-dir is not given.
	cfg := filepath.Join(t.TempDir(), "rampart.yaml")
	if err := os.WriteFile(cfg, []byte("data_dir: "+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = runAuditCmd(t, "audit", "verify", "--config", cfg)
	if err != nil || !strings.HasPrefix(out, "ok: 12 entries") {
		t.Errorf("verify --config = %q, %v", out, err)
	}

	out, err = runAuditCmd(t, "audit", "export", "--data-dir", dir, "--from", "10")
	if err != nil || strings.Count(out, "\n") != 3 || !strings.HasPrefix(out, `{"seq":10,`) {
		t.Errorf("export --from 10 = %q, %v", out, err)
	}
	out, err = runAuditCmd(t, "audit", "export", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	export := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := os.WriteFile(export, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = runAuditCmd(t, "audit", "verify", "--file", export)
	if err != nil || !strings.Contains(out, last.Hash) {
		t.Errorf("verify --file = %q, %v", out, err)
	}

	// Tampering (after dropping the append-only triggers, as an attacker
	// with DDL rights could) makes verify fail (exit 1) and name the entry.
	storetest.DropAuditTriggers(t, s)
	if err := s.RawExec(ctx, `UPDATE audit_log SET data = '{"i":100}' WHERE seq = 4`); err != nil {
		t.Fatal(err)
	}
	out, err = runAuditCmd(t, "audit", "verify", "--data-dir", dir)
	if err == nil || !strings.Contains(out, "FAILED at seq 4") {
		t.Errorf("verify after tampering = %q, %v", out, err)
	}
}

func TestAuditErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no store", []string{"audit", "verify", "--data-dir", t.TempDir()}, "rampart.db"},
		{"bad from", []string{"audit", "export", "--data-dir", t.TempDir(), "--from", "0"}, "--from"},
		{"missing export", []string{"audit", "verify", "--file", filepath.Join(t.TempDir(), "none.jsonl")}, "none.jsonl"},
		{"bad config", []string{"audit", "verify", "--config", filepath.Join(t.TempDir(), "none.yaml")}, "none.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runAuditCmd(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one naming %q", err, tc.want)
			}
		})
	}
}
