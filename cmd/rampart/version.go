package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/rampart-edge/rampart/internal/buildinfo"
)

func init() { subcommands = append(subcommands, newVersionCmd) }

func newVersionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version [--json]",
		Short: "Print the version, commit, build date and Go version",
		Long: "Version prints what this binary was built from: the module version (a tag or a pseudo-version\n" +
			"stamped by go build, or the -ldflags override), the VCS commit and its time (+dirty when the tree\n" +
			"had local changes), the build date (set by -ldflags; \"unknown\" otherwise) and the Go version.\n" +
			"The same values are the labels of the rampart_build_info metric.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVersion(cmd.OutOrStdout(), buildinfo.Get(), asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object")
	return cmd
}

func runVersion(w io.Writer, info buildinfo.Info, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	orUnknown := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	_, err := fmt.Fprintf(w, "rampart %s\n  commit:      %s\n  commit time: %s\n  built:       %s\n  go:          %s %s\n",
		info.Version, info.ShortCommit(), orUnknown(info.CommitTime), orUnknown(info.Date), info.GoVersion, info.Platform)
	return err
}
