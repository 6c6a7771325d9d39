package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateConfigCheck = flag.Bool("update-config-check", false, "rewrite testdata/config_check/*.golden")

// runConfigCheckCmd runs "rampart config check ARGS..." through the real
// root command and returns stdout, stderr and the exit code main would use.
func runConfigCheckCmd(t *testing.T, args ...string) (stdout, stderr string, exit int) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"config", "check"}, args...))
	if err := root.Execute(); err != nil {
		// main prints "rampart: ERR" and exits 1.
		fmt.Fprintln(&errOut, "rampart:", err)
		exit = 1
	}
	return out.String(), errOut.String(), exit
}

// TestConfigCheck compares the whole output of "rampart config check" on
// each testdata/config_check/*.yaml (and on a missing file) with its golden
// file.
func TestConfigCheck(t *testing.T) {
	files, err := filepath.Glob("testdata/config_check/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	files = append(files, "testdata/config_check/missing.yaml")
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			stdout, stderr, exit := runConfigCheckCmd(t, "--config", file)
			got := fmt.Sprintf("exit: %d\n--- stdout\n%s--- stderr\n%s", exit, stdout, stderr)
			golden := filepath.Join("testdata/config_check", name+".golden")
			if *updateConfigCheck {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden (run with -update-config-check to create): %v", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// TestConfigCheckDefaultPath checks that without --config the command reads
// rampart.yaml in the working directory.
func TestConfigCheckDefaultPath(t *testing.T) {
	dir := t.TempDir()
	conf := "zones:\n  - host: localhost\n    origins: [http://127.0.0.1:3000]\n"
	if err := os.WriteFile(filepath.Join(dir, "rampart.yaml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	stdout, stderr, exit := runConfigCheckCmd(t)
	if exit != 0 || stdout != "ok: rampart.yaml: 1 zones\n" || stderr != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0, \"ok: rampart.yaml: 1 zones\\n\", \"\"", exit, stdout, stderr)
	}
}

func TestRunConfigCheckError(t *testing.T) {
	var out, errOut bytes.Buffer
	err := runConfigCheck(&out, &errOut, filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, errConfigInvalid) || out.Len() != 0 || !strings.Contains(errOut.String(), "no such file") {
		t.Errorf("err %v, stdout %q, stderr %q", err, out.String(), errOut.String())
	}
}
