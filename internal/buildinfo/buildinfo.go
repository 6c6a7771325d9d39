// Package buildinfo says which rampart this is: the module version, the
// VCS commit and its time, whether the tree had local changes, the build
// date and the Go version, read from the binary's build information
// (runtime/debug.ReadBuildInfo) and from -ldflags overrides.
//
// go build stamps the module version (a tag, or a pseudo-version from the
// commit) and the commit when it runs in a git checkout; a build without
// the repository (a container build that leaves .git out) can set them
// instead:
//
//	go build -ldflags "-X github.com/rampart-edge/rampart/internal/buildinfo.Version=v1.2.3 \
//	  -X github.com/rampart-edge/rampart/internal/buildinfo.Commit=$(git rev-parse HEAD) \
//	  -X github.com/rampart-edge/rampart/internal/buildinfo.Date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" ./cmd/rampart
//
// An override that is set wins over the build information.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Overrides set with -ldflags "-X ...". Empty means "from the build
// information".
var (
	// Version is the release version, e.g. v1.2.3.
	Version string
	// Commit is the VCS revision the binary was built from.
	Commit string
	// Date is when the binary was built (RFC 3339). The build information
	// holds no build date, only the commit's time.
	Date string
)

// Info describes this binary.
type Info struct {
	// Version is the module version: an override, a tag or
	// pseudo-version stamped by go build, or "(devel)".
	Version string `json:"version"`
	// Commit is the VCS revision, "" when unknown.
	Commit string `json:"commit"`
	// CommitTime is the revision's commit time (RFC 3339), "" when unknown.
	CommitTime string `json:"commit_time,omitempty"`
	// Modified reports that the tree had uncommitted changes at build time.
	Modified bool `json:"modified"`
	// Date is the build date (RFC 3339) when the build set it, else "".
	Date string `json:"date,omitempty"`
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string `json:"go_version"`
	// Platform is GOOS/GOARCH.
	Platform string `json:"platform"`
	// Path is the main package's import path.
	Path string `json:"path,omitempty"`
}

// Get returns this binary's Info.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(bi, Version, Commit, Date)
}

// fromBuildInfo combines bi (nil when the binary has none) with the
// overrides.
func fromBuildInfo(bi *debug.BuildInfo, version, commit, date string) Info {
	info := Info{Version: "(devel)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		info.Path = bi.Path
		if v := bi.Main.Version; v != "" {
			info.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Commit = s.Value
			case "vcs.time":
				info.CommitTime = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if version != "" {
		info.Version = version
	}
	if commit != "" {
		info.Commit = commit
		info.Modified = false // the override names the exact source
		info.CommitTime = ""
	}
	if date != "" {
		info.Date = date
	}
	return info
}

// ShortCommit is the first 12 characters of the commit, "unknown" when
// there is none.
func (i Info) ShortCommit() string {
	c := i.Commit
	if c == "" {
		return "unknown"
	}
	if len(c) > 12 {
		c = c[:12]
	}
	if i.Modified {
		c += "+dirty"
	}
	return c
}

// String is a one-line summary: "rampart VERSION (COMMIT, built DATE, GOVERSION PLATFORM)".
func (i Info) String() string {
	built := i.Date
	if built == "" {
		built = "unknown"
	}
	return fmt.Sprintf("rampart %s (commit %s, built %s, %s %s)", i.Version, i.ShortCommit(), built, i.GoVersion, i.Platform)
}
