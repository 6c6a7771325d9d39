package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Path:      "github.com/rampart-edge/rampart/cmd/rampart",
		Main:      debug.Module{Path: "github.com/rampart-edge/rampart", Version: "v0.0.0-20261207105007-5e1d63c0a1b2+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "-trimpath", Value: "true"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "5e1d63c0a1b2c3d4e5f60718293a4b5c6d7e8f90"},
			{Key: "vcs.time", Value: "2026-12-07T10:50:07Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	tests := []struct {
		name                  string
		bi                    *debug.BuildInfo
		version, commit, date string
		want                  Info
		short                 string
	}{
		{
			name: "stamped by go build",
			bi:   stamped,
			want: Info{Version: "v0.0.0-20261207105007-5e1d63c0a1b2+dirty", Commit: "5e1d63c0a1b2c3d4e5f60718293a4b5c6d7e8f90",
				CommitTime: "2026-12-07T10:50:07Z", Modified: true, GoVersion: "go1.26.8", Path: "github.com/rampart-edge/rampart/cmd/rampart"},
			short: "5e1d63c0a1b2+dirty",
		},
		{
			name: "ldflags overrides win",
			bi:   stamped, version: "v1.4.0", commit: "abcdef0123456789", date: "2026-12-07T12:00:00Z",
			want: Info{Version: "v1.4.0", Commit: "abcdef0123456789", Date: "2026-12-07T12:00:00Z", GoVersion: "go1.26.8",
				Path: "github.com/rampart-edge/rampart/cmd/rampart"},
			short: "abcdef012345",
		},
		{
			name:  "no build information",
			want:  Info{Version: "(devel)", GoVersion: runtime.Version()},
			short: "unknown",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := fromBuildInfo(tc.bi, tc.version, tc.commit, tc.date)
			tc.want.Platform = runtime.GOOS + "/" + runtime.GOARCH
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if s := got.ShortCommit(); s != tc.short {
				t.Errorf("ShortCommit = %q, want %q", s, tc.short)
			}
			if s := got.String(); !strings.HasPrefix(s, "rampart "+tc.want.Version+" (commit "+tc.short) || !strings.Contains(s, tc.want.GoVersion) {
				t.Errorf("String = %q", s)
			}
		})
	}
}

// TestGet reads the test binary's own build information.
func TestGet(t *testing.T) {
	info := Get()
	if info.GoVersion != runtime.Version() {
		t.Errorf("GoVersion = %q, want %q", info.GoVersion, runtime.Version())
	}
	if info.Version == "" || info.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("Get() = %+v", info)
	}
}
