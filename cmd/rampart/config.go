package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/rampart-edge/rampart/internal/config"
)

func init() { subcommands = append(subcommands, newConfigCmd) }

// errConfigInvalid makes "rampart config check" exit 1 after it has printed
// the problems itself (main adds one "rampart: config is invalid" line).
var errConfigInvalid = errors.New("config is invalid")

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with the configuration file",
	}
	cmd.AddCommand(newConfigCheckCmd())
	return cmd
}

func newConfigCheckCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "check [--config FILE]",
		Short: "Validate a config file",
		Long: "Check parses and validates a config file. It prints \"ok: FILE: N zones\" and exits 0,\n" +
			"or prints every problem as FILE:LINE: FIELD: MESSAGE, one per line, and exits 1.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConfigCheck(cmd.OutOrStdout(), cmd.ErrOrStderr(), path)
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "rampart.yaml", "config file to check")
	return cmd
}

// runConfigCheck writes "ok: FILE: N zones" to stdout, or the problems to
// stderr and returns an error that makes the command exit 1.
func runConfigCheck(stdout, stderr io.Writer, path string) error {
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errConfigInvalid
	}
	fmt.Fprintf(stdout, "ok: %s: %d zones\n", path, len(cfg.Zones))
	return nil
}
