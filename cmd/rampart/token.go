package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/backend"
	"github.com/rampart-edge/rampart/internal/store/sqlite"
	"github.com/rampart-edge/rampart/internal/token"
)

func init() { subcommands = append(subcommands, newTokenCmd) }

func newTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage admin API tokens",
	}
	cmd.AddCommand(newTokenCreateCmd())
	return cmd
}

// defaultDataDir is used when neither --data-dir nor --config names one.
const defaultDataDir = "./rampart-data"

func newTokenCreateCmd() *cobra.Command {
	var scope, note, dataDir, cfgPath string
	cmd := &cobra.Command{
		Use:   "create --scope admin|compliance|read [--note TEXT] [--data-dir DIR] [--config FILE]",
		Short: "Create an admin API token and print it once",
		Long: "Create issues an admin API token with the given scope and prints it on stdout.\n" +
			"Only a hash of its secret is kept (in the control-plane store: DATA_DIR/rampart.db,\n" +
			"or the PostgreSQL database named by the config's store:), so the\n" +
			"token cannot be shown again: store it now. The data directory is --data-dir,\n" +
			"else data_dir from --config, else " + defaultDataDir + ". A running server\n" +
			"accepts the new token within a second.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, storeURL, err := storeLocation(dataDir, cfgPath)
			if err != nil {
				return err
			}
			return runTokenCreate(cmd.OutOrStdout(), cmd.ErrOrStderr(), dir, storeURL, scope, note)
		},
	}
	cmd.Flags().StringVar(&scope, "scope", "", "token scope: admin, compliance or read (required)")
	cmd.Flags().StringVar(&note, "note", "", "free text kept with the token, such as its owner")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "data directory holding rampart.db (default "+defaultDataDir+")")
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "config file whose data_dir to use")
	_ = cmd.MarkFlagRequired("scope")
	return cmd
}

// runTokenCreate creates the token in the control-plane store (the one the
// server's admin API verifies against) and prints it alone on stdout (so
// that scripts can capture it) and its details on stderr.
func runTokenCreate(stdout, stderr io.Writer, dataDir, storeURL, scopeName, note string) error {
	scope, err := token.ParseScope(scopeName)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := backend.Open(ctx, dataDir, storeURL)
	if err != nil {
		return err
	}
	defer s.Close()
	ts := &store.TokenStore{S: s, Actor: audit.ActorSystem}
	plain, tok, err := ts.Create(scope, note)
	if err != nil {
		return err
	}
	where := s.Dialect()
	if storeURL == "" {
		where = filepath.Join(dataDir, sqlite.FileName)
	}
	fmt.Fprintln(stdout, plain)
	fmt.Fprintf(stderr, "created %s token %s in %s; it is shown only this once\n", tok.Scope, tok.ID, where)
	return nil
}

// storeLocation is the control-plane store of the CLI commands that open
// it: the data directory (--data-dir, else data_dir from --config, else
// the default) and the PostgreSQL URL of the config's store: ("" for
// SQLite in the data directory).
func storeLocation(dataDir, cfgPath string) (dir, storeURL string, err error) {
	dir = dataDir
	if cfgPath != "" {
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return "", "", err
		}
		storeURL = cfg.Store
		if dir == "" {
			dir = cfg.DataDir
		}
	}
	if dir == "" {
		dir = defaultDataDir
	}
	return dir, storeURL, nil
}
