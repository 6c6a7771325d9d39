package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/lists"
)

func init() { subcommands = append(subcommands, newListsCmd) }

// listsFlags are the flags shared by the lists subcommands.
type listsFlags struct {
	dataDir    string
	configPath string
	json       bool
}

func (f *listsFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dataDir, "data-dir", "", "data directory (default: the config's data_dir, else "+config.DefaultDataDir+")")
	cmd.Flags().StringVarP(&f.configPath, "config", "c", "", "config file to read data_dir and compliance.lists from")
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON")
}

// resolve returns the data directory and the default list paths:
// --data-dir wins over the config's data_dir, which wins over the default.
func (f *listsFlags) resolve() (string, []string, error) {
	dataDir := f.dataDir
	var defaults []string
	if f.configPath != "" {
		cfg, err := config.Load(f.configPath)
		if err != nil {
			return "", nil, err
		}
		if dataDir == "" {
			dataDir = cfg.DataDir
		}
		defaults = cfg.Compliance.Lists
	}
	if dataDir == "" {
		dataDir = config.DefaultDataDir
	}
	return dataDir, defaults, nil
}

func newListsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lists",
		Short: "Import sanctions lists and show the active versions",
	}
	cmd.AddCommand(newListsImportCmd(), newListsStatusCmd())
	return cmd
}

func newListsImportCmd() *cobra.Command {
	var f listsFlags
	cmd := &cobra.Command{
		Use:   "import PATH...",
		Short: "Import sanctions list files or folders",
		Long: "Import parses and validates the lists at the given paths and makes them the active versions.\n" +
			"A path is a UN consolidated XML, an OFAC folder (sdn.csv with alt.csv, add.csv, sdn_comments.csv),\n" +
			"a UK folder (subjects.csv, subject_names.csv) or a parent folder of such folders.\n" +
			"A list that fails to parse is refused and the previous version stays active.\n" +
			"It prints, per list, the version hash, the entity count and +added -removed ~changed.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dataDir, _, err := f.resolve()
			if err != nil {
				return err
			}
			s, err := lists.OpenPersisted(dataDir)
			if err != nil {
				return err
			}
			res, err := s.Import(args...)
			if err != nil {
				return err
			}
			return printImport(cmd.OutOrStdout(), res, f.json)
		},
	}
	f.register(cmd)
	return cmd
}

func newListsStatusCmd() *cobra.Command {
	var f listsFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the active list versions and counts",
		Long: "Status opens the list store as the server does: persisted versions first, then the config's\n" +
			"compliance.lists (or the bundled lists) for any list not yet stored, and prints each active version.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dataDir, defaults, err := f.resolve()
			if err != nil {
				return err
			}
			s, err := lists.Open(dataDir, defaults)
			if err != nil {
				return err
			}
			return printStatus(cmd.OutOrStdout(), s.Snapshot(), f.json)
		},
	}
	f.register(cmd)
	return cmd
}

func printImport(w io.Writer, res []lists.ImportResult, asJSON bool) error {
	sort.Slice(res, func(i, j int) bool { return res[i].Version.Source < res[j].Version.Source })
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"results": res})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range res {
		v := r.Version
		change := fmt.Sprintf("+%d -%d ~%d", len(r.Diff.Added), len(r.Diff.Removed), len(r.Diff.Changed))
		if r.Unchanged {
			change = "unchanged"
		}
		prev := "new"
		if r.Previous != nil {
			prev = "was " + r.Previous.Short()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d entities\t%s\t%s\n", v.Source, v.List, v.Short(), v.Entities, change, prev)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range res {
		for _, warn := range r.Warnings {
			fmt.Fprintln(w, "warning:", warn)
		}
	}
	return nil
}

func printStatus(w io.Writer, snap *lists.Snapshot, asJSON bool) error {
	versions := make([]lists.Version, 0, len(snap.Versions))
	for _, v := range snap.Versions {
		versions = append(versions, v)
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i].Source < versions[j].Source })
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"versions": versions, "entities": len(snap.Entities)})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tLIST\tVERSION\tENTITIES\tIMPORTED")
	for _, v := range versions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", v.Source, v.List, v.Short(), v.Entities, v.Imported.Format(time.RFC3339))
	}
	fmt.Fprintf(tw, "total\t\t\t%d\t\n", len(snap.Entities))
	return tw.Flush()
}
