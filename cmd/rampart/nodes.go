package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-edge/rampart/internal/store/backend"
)

func init() { subcommands = append(subcommands, newNodesCmd) }

func newNodesCmd() *cobra.Command {
	var cfgPath, dataDir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "nodes [--config FILE] [--json]",
		Short: "Show the cluster's nodes and the state each has applied",
		Long: "Nodes lists the edge nodes sharing the control-plane store (the PostgreSQL\n" +
			"database named by the config's store:, or DATA_DIR/rampart.db): id, admin\n" +
			"address, build version, the desired-state version applied against the\n" +
			"store's current one, health, list versions and last heartbeat. A node\n" +
			"silent for a minute is marked stale.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, storeURL, err := storeLocation(dataDir, cfgPath)
			if err != nil {
				return err
			}
			return runNodes(cmd.OutOrStdout(), dir, storeURL, asJSON)
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "config file naming the store")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "data directory holding rampart.db (default "+defaultDataDir+")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print GET /v1/nodes's JSON")
	return cmd
}

func runNodes(w io.Writer, dataDir, storeURL string, asJSON bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := backend.Open(ctx, dataDir, storeURL)
	if err != nil {
		return err
	}
	defer s.Close()
	ns, err := s.ListNodes(ctx)
	if err != nil {
		return err
	}
	current, err := s.StateVersion(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"nodes": ns, "state_version": current})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\tADDRESS\tVERSION\tSTATE\tHEALTH\tLAST SEEN\tLISTS\n")
	for _, n := range ns {
		health := "ok"
		switch {
		case time.Since(n.LastSeen) > time.Minute:
			health = "stale"
		case !n.Healthy:
			health = "degraded: " + n.Problem
		}
		srcs := make([]string, 0, len(n.Lists))
		for src, v := range n.Lists {
			srcs = append(srcs, src+"="+short(v))
		}
		sort.Strings(srcs)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", n.ID, n.Address, n.Version, n.StateVersion, current, health,
			n.LastSeen.Local().Format(time.DateTime), strings.Join(srcs, " "))
	}
	return tw.Flush()
}

// short abbreviates a list version hash.
func short(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}
