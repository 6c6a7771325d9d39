package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/store/backend"
	"github.com/rampart-edge/rampart/internal/store/sqlcore"
	"github.com/rampart-edge/rampart/internal/store/sqlite"
)

func init() { subcommands = append(subcommands, newAuditCmd) }

// errAuditBroken makes "rampart audit verify" exit 1 after it has printed
// what is wrong.
var errAuditBroken = errors.New("audit log verification failed")

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify and export the hash-chained audit log",
	}
	cmd.AddCommand(newAuditVerifyCmd(), newAuditExportCmd())
	return cmd
}

// auditStoreFlags selects the store: --data-dir, else the config's
// store and data_dir, else SQLite in config.DefaultDataDir.
type auditStoreFlags struct {
	cfgPath, dataDir string
}

func (f *auditStoreFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.cfgPath, "config", "c", "", "config file whose store and data_dir to use")
	cmd.Flags().StringVar(&f.dataDir, "data-dir", "", "data directory holding rampart.db (default "+config.DefaultDataDir+"; overrides the config's data_dir)")
}

// open opens the store without creating one: a missing SQLite file is an
// error rather than a new, empty (and so trivially valid) log.
func (f *auditStoreFlags) open(ctx context.Context) (*sqlcore.DB, error) {
	dir, url := f.dataDir, ""
	if f.cfgPath != "" {
		cfg, err := config.Load(f.cfgPath)
		if err != nil {
			return nil, err
		}
		url = cfg.Store
		if dir == "" {
			dir = cfg.DataDir
		}
	}
	if dir == "" {
		dir = config.DefaultDataDir
	}
	if url == "" {
		path := filepath.Join(dir, sqlite.FileName)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("opening store: %w (is --data-dir or --config right?)", err)
		}
	}
	return backend.Open(ctx, dir, url)
}

func newAuditVerifyCmd() *cobra.Command {
	var sf auditStoreFlags
	var file string
	cmd := &cobra.Command{
		Use:   "verify [--config FILE] [--data-dir DIR] [--file EXPORT.jsonl]",
		Short: "Check the audit chain for edited, removed, inserted or reordered entries",
		Long: "Verify recomputes every entry's hash and checks the chain from seq 1 to the stored head.\n" +
			"It prints \"ok: N entries, head HASH\" and exits 0, or prints the first bad entry and\n" +
			"exits 1. Keep the head hash somewhere outside the database: a later verify whose chain\n" +
			"does not pass through it means the log was rewritten. With --file it verifies a JSON\n" +
			"Lines export instead of the store (a removed tail cannot be seen there: compare heads).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			if file != "" {
				f, err := os.Open(file)
				if err != nil {
					return fmt.Errorf("verifying export: %w", err)
				}
				defer f.Close()
				rep, err := audit.VerifyEntries(audit.ReadJSONL(f))
				if err != nil {
					return err
				}
				return printAuditReport(cmd.OutOrStdout(), rep)
			}
			s, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			rep, err := audit.Verify(ctx, s)
			if err != nil {
				return err
			}
			return printAuditReport(cmd.OutOrStdout(), rep)
		},
	}
	sf.add(cmd)
	cmd.Flags().StringVar(&file, "file", "", "verify this JSON Lines export instead of the store")
	return cmd
}

// printAuditReport prints the verdict and returns errAuditBroken when the
// chain is broken.
func printAuditReport(w io.Writer, rep audit.Report) error {
	if rep.OK {
		fmt.Fprintf(w, "ok: %d entries, head %s\n", rep.Entries, rep.Head)
		return nil
	}
	fmt.Fprintf(w, "FAILED at seq %d: %s\n", rep.FirstBad, rep.Problem)
	fmt.Fprintf(w, "%d entries verified before it, last good head %s\n", rep.Entries, rep.Head)
	return errAuditBroken
}

func newAuditExportCmd() *cobra.Command {
	var sf auditStoreFlags
	var from int64
	cmd := &cobra.Command{
		Use:   "export [--from N] [--config FILE] [--data-dir DIR]",
		Short: "Write the audit log as JSON Lines to stdout",
		Long: "Export writes every audit entry with seq >= N, one JSON object per line, in seq order:\n" +
			"{\"seq\", \"time\", \"actor\", \"action\", \"subject\", \"data\", \"prev_hash\", \"hash\"}.\n" +
			"The data object is written exactly as hashed, so anyone can recompute the chain\n" +
			"(the recipe is in the internal/audit package documentation).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from < 1 {
				return fmt.Errorf("--from must be 1 or more, not %d", from)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			s, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			w := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
			if _, err := audit.Export(ctx, s, w, from); err != nil {
				return err
			}
			return w.Flush()
		},
	}
	sf.add(cmd)
	cmd.Flags().Int64Var(&from, "from", 1, "first seq to export")
	return cmd
}
