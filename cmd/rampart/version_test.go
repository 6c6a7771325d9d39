package main

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/buildinfo"
)

// TestVersionCmd runs "rampart version" through the real root command.
func TestVersionCmd(t *testing.T) {
	run := func(args ...string) string {
		t.Helper()
		root := newRootCmd()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatalf("rampart %v: %v", args, err)
		}
		return out.String()
	}
	info := buildinfo.Get()
	text := run("version")
	for _, want := range []string{"rampart " + info.Version + "\n", "commit:      " + info.ShortCommit() + "\n", "go:          " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("rampart version lacks %q:\n%s", want, text)
		}
	}
	var got buildinfo.Info
	if err := json.Unmarshal([]byte(run("version", "--json")), &got); err != nil {
		t.Fatal(err)
	}
	if got != info {
		t.Errorf("rampart version --json = %+v, want %+v", got, info)
	}
	if v := run("--version"); !strings.Contains(v, info.Version) {
		t.Errorf("rampart --version = %q, want the version %q", v, info.Version)
	}
}

// TestVersionFormat prints a stamped build.
func TestVersionFormat(t *testing.T) {
	var out bytes.Buffer
	info := buildinfo.Info{Version: "v1.4.0", Commit: "0123456789abcdef0123", CommitTime: "2026-12-01T10:00:00Z",
		Date: "2026-12-07T12:00:00Z", GoVersion: "go1.26.8", Platform: "linux/amd64"}
	if err := runVersion(&out, info, false); err != nil {
		t.Fatal(err)
	}
	want := "rampart v1.4.0\n  commit:      0123456789ab\n  commit time: 2026-12-01T10:00:00Z\n  built:       2026-12-07T12:00:00Z\n  go:          go1.26.8 linux/amd64\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
