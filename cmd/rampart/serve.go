package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/rampart-edge/rampart/internal/app"
	"github.com/rampart-edge/rampart/internal/buildinfo"
	"github.com/rampart-edge/rampart/internal/config"
)

func init() { subcommands = append(subcommands, newServeCmd) }

func newServeCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "serve [--config rampart.yaml]",
		Short: "Run the edge, the admin API and the dashboard",
		Long: `Serve runs rampart with the given config file.

Signals:
  SIGHUP           reload the config file: on error, log one line and keep
                   serving the running config; zones whose config did not
                   change keep their origin pools and health state; the
                   access log file is reopened
  SIGUSR1          reopen the access log file only (log rotation)
  SIGINT, SIGTERM  stop accepting, let requests in flight finish (up to
                   timeouts.shutdown), then exit 0; a second signal exits at once`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), path)
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "rampart.yaml", "config file")
	return cmd
}

func runServe(ctx context.Context, path string) error {
	// Catch signals before the (possibly slow) start, so that a SIGHUP or
	// SIGTERM sent while the lists load is handled, not fatal.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	if err := servePprof(); err != nil { // pprof.go: RAMPART_PPROF
		return err
	}
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	a, err := app.New(cfg, app.Options{Version: buildinfo.Get().Version})
	if err != nil {
		return err
	}
	// The code and tables only the start ran stop counting in the RSS
	// (textpages_linux.go, issue 16).
	if n := releaseStartupPages(); n > 0 {
		a.Logger().Debug("released the executable's start-up pages", "bytes", n)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		stopping := false
		for sig := range sigs {
			switch {
			case sig == syscall.SIGHUP && !stopping:
				a.Logger().Info("SIGHUP: reloading", "file", path)
				_ = a.ReloadFile(path) // logs its own error line
			case sig == syscall.SIGUSR1 && !stopping:
				_ = a.ReopenLogs() // logs its own error line
			case sig == syscall.SIGHUP || sig == syscall.SIGUSR1:
			case !stopping:
				stopping = true
				a.Logger().Info("stopping on signal", "signal", sig.String())
				cancel()
			default:
				fmt.Fprintln(os.Stderr, "rampart: second signal, exiting now")
				os.Exit(1)
			}
		}
	}()
	return a.Run(ctx)
}
