package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-edge/rampart/internal/demo"
)

func init() { subcommands = append(subcommands, newDemoCmd) }

func newDemoCmd() *cobra.Command {
	var d time.Duration
	cmd := &cobra.Command{
		Use:   "demo [--for DURATION]",
		Short: "Start a sample origin and an edge in front of it, and print what to try",
		Long: `Demo starts a sample origin and a rampart edge in front of it on 127.0.0.1
(edge on port 8080 and admin API on 9090, or free ports when those are
taken), with the zones www.example.org (alias example.org) and localhost, the
bundled sanctions lists and a read-scope admin token, all in a temporary data
directory removed on exit. It prints the addresses and curl commands to try.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return demo.Run(ctx, demo.Options{For: d, Out: cmd.OutOrStdout()}, nil)
		},
	}
	cmd.Flags().DurationVar(&d, "for", 0, "stop by itself after this long (0: run until Ctrl-C)")
	return cmd
}
