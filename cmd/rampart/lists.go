package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-edge/rampart/internal/app"
	"github.com/rampart-edge/rampart/internal/buildinfo"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/feeds"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/store/backend"
)

func init() { subcommands = append(subcommands, newListsCmd) }

// listsFlags are the flags shared by the lists subcommands.
type listsFlags struct {
	dataDir    string
	configPath string
	json       bool
	cfg        *config.Config // the loaded config, nil without --config
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
		f.cfg = cfg
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
	cmd.AddCommand(newListsImportCmd(), newListsStatusCmd(), newListsFetchCmd(), newListsRollbackCmd())
	return cmd
}

func newListsImportCmd() *cobra.Command {
	var f listsFlags
	var h handoff
	var force bool
	var reason string
	cmd := &cobra.Command{
		Use:   "import PATH...",
		Short: "Import sanctions list files or folders",
		Long: "Import parses and verifies the lists at the given paths and makes them the active versions.\n" +
			"A path is a UN consolidated XML, an OFAC folder (sdn.csv with alt.csv, add.csv, sdn_comments.csv;\n" +
			"cons_prim.csv with cons_alt.csv, cons_add.csv, cons_comments.csv: the consolidated non-SDN list),\n" +
			"a UK folder (subjects.csv, subject_names.csv) or a parent folder of such folders.\n" +
			"An update that does not parse, lacks a file the active version has, holds fewer entities than the\n" +
			"list's floor or removes more than compliance.max_removed_share (5%) of it is refused, and the\n" +
			"previous version stays active; --force --reason TEXT overrides verification (audited).\n" +
			"When a rampart server runs on the data directory, the files are handed to it through its admin\n" +
			"API (--token or RAMPART_TOKEN, an admin token), so that it activates, audits and re-screens them;\n" +
			"without a token the import is refused. Otherwise the import is activated here and the server\n" +
			"re-screens accounts and zones against it when it starts.\n" +
			"It prints, per list, the version hash, the entity count and +added -removed ~changed.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dataDir, _, err := f.resolve()
			if err != nil {
				return err
			}
			if force && strings.TrimSpace(reason) == "" {
				return fmt.Errorf("--force needs --reason TEXT, which the audit log records")
			}
			opts := lists.ImportOptions{Origin: "cli", Actor: "cli", Force: force, Reason: reason}
			return activateLists(cmd, &f, dataDir,
				func(owner lists.Owner) ([]lists.ImportResult, error) {
					return h.importFiles(cmd.Context(), owner, args, opts)
				},
				func(s *lists.Store) ([]lists.ImportResult, error) { return s.ImportWith(opts, args...) })
		},
	}
	f.register(cmd)
	h.register(cmd)
	cmd.Flags().BoolVar(&force, "force", false, "activate even if verification refuses the update (needs --reason; audited)")
	cmd.Flags().StringVar(&reason, "reason", "", "why verification is overridden (with --force), recorded in the audit log")
	return cmd
}

// activateLists runs an activation (import or rollback) once: handed to
// the server that holds the data directory's list lock (remote), or, with
// no server running, on the local list store under the lock (local); it
// prints the results.
func activateLists(cmd *cobra.Command, f *listsFlags, dataDir string,
	remote func(lists.Owner) ([]lists.ImportResult, error), local func(*lists.Store) ([]lists.ImportResult, error)) error {
	lock, owner, err := lists.TryLock(dataDir, lists.Owner{PID: os.Getpid()})
	var res []lists.ImportResult
	switch {
	case err == lists.ErrLocked:
		res, err = remote(owner)
	case err != nil:
		return err
	default:
		defer lock.Unlock()
		s, closeAudit, oerr := openLocalLists(cmd.Context(), f, dataDir, false)
		if oerr != nil {
			return oerr
		}
		defer closeAudit()
		res, err = local(s)
	}
	if err != nil {
		return err
	}
	return printImport(cmd.OutOrStdout(), res, f.json)
}

func newListsRollbackCmd() *cobra.Command {
	var f listsFlags
	var h handoff
	var reason string
	cmd := &cobra.Command{
		Use:   "rollback VERSION",
		Short: "Reactivate an earlier list version",
		Long: "Rollback reactivates an earlier version of a list, named by its hash or a prefix of at least 6 hex\n" +
			"digits (rampart lists status --history lists them). It is audited and re-screened like an import.\n" +
			"When a rampart server runs on the data directory, it is asked to do it (--token or RAMPART_TOKEN).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dataDir, _, err := f.resolve()
			if err != nil {
				return err
			}
			opts := lists.ImportOptions{Actor: "cli", Reason: reason}
			return activateLists(cmd, &f, dataDir,
				func(owner lists.Owner) ([]lists.ImportResult, error) {
					return h.rollback(cmd.Context(), owner, args[0], reason)
				},
				func(s *lists.Store) ([]lists.ImportResult, error) { return s.Rollback(args[0], opts) })
		},
	}
	f.register(cmd)
	h.register(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded in the audit log")
	return cmd
}

func newListsFetchCmd() *cobra.Command {
	var f listsFlags
	cmd := &cobra.Command{
		Use:   "fetch [FEED...]",
		Short: "Check the list feeds once and activate new publications",
		Long: "Fetch checks the feeds of the config's compliance.feeds (all, or the named ones) once, as\n" +
			"rampart serve does every interval: conditional requests, verification, the last good version\n" +
			"kept when an update is refused. A progress bar is shown on a terminal. When a rampart server runs\n" +
			"on the data directory it fetches its feeds itself and this command is refused.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.configPath == "" {
				return fmt.Errorf("fetch needs --config FILE with compliance.feeds")
			}
			dataDir, _, err := f.resolve()
			if err != nil {
				return err
			}
			lock, owner, err := lists.TryLock(dataDir, lists.Owner{PID: os.Getpid()})
			if err == lists.ErrLocked {
				return fmt.Errorf("a rampart server (pid %d) runs on %s and fetches its feeds itself every interval; "+
					"see their state in GET /v1/lists (\"feeds\") or the rampart_list_fetch_* metrics", owner.PID, dataDir)
			}
			if err != nil {
				return err
			}
			defer lock.Unlock()
			s, closeAudit, err := openLocalLists(cmd.Context(), &f, dataDir, true)
			if err != nil {
				return err
			}
			defer closeAudit()
			sched, err := feeds.New(feeds.Options{Store: s, Feeds: f.cfg.Compliance.Feeds, DataDir: dataDir, Version: buildinfo.Get().Version})
			if err != nil {
				return err
			}
			var bar *fetchProgress
			if isTerminal(cmd.ErrOrStderr()) {
				bar = &fetchProgress{w: cmd.ErrOrStderr()}
			}
			res, err := sched.Once(cmd.Context(), args, bar.update)
			bar.done()
			if err != nil {
				return err
			}
			return printFetch(cmd.OutOrStdout(), res, f.json)
		},
	}
	f.register(cmd)
	return cmd
}

// openLocalLists opens the data directory's list store for a command run
// while no server holds it: the config's verification policy, and refused
// updates audited in the control-plane store. withDefaults loads the
// config's (or bundled) lists for sources not stored yet, as the server.
func openLocalLists(ctx context.Context, f *listsFlags, dataDir string, withDefaults bool) (*lists.Store, func(), error) {
	var s *lists.Store
	var err error
	if withDefaults {
		var defaults []string
		if f.cfg != nil {
			defaults = f.cfg.Compliance.Lists
		}
		s, err = lists.Open(dataDir, defaults)
	} else {
		s, err = lists.OpenPersisted(dataDir)
	}
	if err != nil {
		return nil, nil, err
	}
	cfg := f.cfg
	if cfg == nil {
		cfg = &config.Config{}
		cfg.Compliance.MaxRemovedShare = lists.DefaultMaxRemovedShare
	}
	s.SetPolicy(app.ListPolicy(cfg))
	if ctx == nil {
		ctx = context.Background()
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := backend.Open(octx, dataDir, cfg.Store)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the control-plane store for the audit log: %w", err)
	}
	s.OnRefused(func(r lists.Refusal) {
		actx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := app.AuditRefusal(actx, st, r); err != nil {
			fmt.Fprintln(os.Stderr, "warning: auditing the refusal:", err)
		}
	})
	return s, func() { st.Close() }, nil
}

func newListsStatusCmd() *cobra.Command {
	var f listsFlags
	var history bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the active list versions, counts, publication dates and feeds",
		Long: "Status opens the list store as the server does: persisted versions first, then the config's\n" +
			"compliance.lists (or the bundled lists) for any list not yet stored, and prints each active version\n" +
			"with its publication date, then the state of the config's compliance.feeds with a warning for a\n" +
			"stale one (newest publication older than max_age, or no successful check in 3 intervals).\n" +
			"--history lists every version activated in the data directory (for rampart lists rollback).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dataDir, defaults, err := f.resolve()
			if err != nil {
				return err
			}
			var s *lists.Store
			if l, _, lerr := lists.TryLock(dataDir, lists.Owner{PID: os.Getpid()}); lerr == lists.ErrLocked {
				s, err = lists.OpenPersisted(dataDir) // the server's versions, read only
			} else {
				if l != nil {
					defer l.Unlock()
				}
				s, err = lists.Open(dataDir, defaults)
			}
			if err != nil {
				return err
			}
			var fs []feeds.Status
			if f.cfg != nil && len(f.cfg.Compliance.Feeds) > 0 {
				sched, err := feeds.New(feeds.Options{Store: s, Feeds: f.cfg.Compliance.Feeds, DataDir: dataDir})
				if err != nil {
					return err
				}
				fs = sched.Statuses()
			}
			var hist []lists.Version
			if history {
				if hist, err = s.History(); err != nil {
					return err
				}
			}
			return printStatus(cmd.OutOrStdout(), s.Snapshot(), fs, hist, f.json)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&history, "history", false, "also list every version activated in the data directory")
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
		change := fmt.Sprintf("+%d -%d ~%d", r.Summary.Added, r.Summary.Removed, r.Summary.Changed)
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
		if r.Unchanged {
			continue
		}
		for _, k := range []struct {
			what string
			ids  []string
			n    int
		}{{"added", r.Summary.FirstAdded, r.Summary.Added}, {"removed", r.Summary.FirstRemoved, r.Summary.Removed}, {"changed", r.Summary.FirstChanged, r.Summary.Changed}} {
			if k.n == 0 {
				continue
			}
			more := ""
			if k.n > len(k.ids) {
				more = fmt.Sprintf(" and %d more", k.n-len(k.ids))
			}
			fmt.Fprintf(w, "%s %s: %s%s\n", r.Version.Source, k.what, strings.Join(k.ids, " "), more)
		}
		fmt.Fprintf(w, "%s full diff: GET %s\n", r.Version.Source, r.Summary.Full)
	}
	for _, r := range res {
		for _, warn := range r.Warnings {
			fmt.Fprintln(w, "warning:", warn)
		}
	}
	return nil
}

func printStatus(w io.Writer, snap *lists.Snapshot, fs []feeds.Status, hist []lists.Version, asJSON bool) error {
	versions := make([]lists.Version, 0, len(snap.Versions))
	for _, v := range snap.Versions {
		versions = append(versions, v)
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i].Source < versions[j].Source })
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		out := map[string]any{"versions": versions, "entities": len(snap.Entities), "feeds": fs}
		if hist != nil {
			out["history"] = hist
		}
		return enc.Encode(out)
	}
	date := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tLIST\tVERSION\tENTITIES\tPUBLISHED\tIMPORTED")
	for _, v := range versions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", v.Source, v.List, v.Short(), v.Entities, date(v.Published), v.Imported.Format(time.RFC3339))
	}
	fmt.Fprintf(tw, "total\t\t\t%d\t\t\n", len(snap.Entities))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(fs) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FEED\tSOURCE\tINTERVAL\tLAST CHECK\tOUTCOME\tLAST SUCCESS\tPUBLISHED")
		for _, s := range fs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Feed, s.Source, s.Interval, date(s.LastCheck), orDash(s.LastOutcome), date(s.LastSuccess), date(s.Published))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, s := range fs {
			if s.Stale {
				fmt.Fprintf(w, "warning: feed %s is stale: %s\n", s.Feed, s.StaleReason)
			}
			if s.LastError != "" {
				fmt.Fprintf(w, "feed %s last error: %s\n", s.Feed, s.LastError)
			}
		}
	}
	if len(hist) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "HISTORY\tSOURCE\tENTITIES\tPUBLISHED\tIMPORTED\tORIGIN\tREASON")
		for _, v := range hist {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", v.Short(), v.Source, v.Entities, date(v.Published), v.Imported.Format(time.RFC3339), orDash(v.Origin), orDash(v.Reason))
		}
		return tw.Flush()
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printFetch(w io.Writer, res []feeds.Result, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"feeds": res})
	}
	var failed []string
	for _, r := range res {
		fmt.Fprintf(w, "%s\t%s\t%d bytes\n", r.Feed, r.Outcome, r.Bytes)
		if len(r.Results) > 0 && r.Outcome == feeds.OutcomeUpdated {
			if err := printImport(w, r.Results, false); err != nil {
				return err
			}
		}
		if r.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", r.Feed, r.Error)
			failed = append(failed, r.Feed)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("feeds not updated: %s; the last good versions stay active", strings.Join(failed, ", "))
	}
	return nil
}

// fetchProgress draws a download bar on a terminal; nil draws nothing.
type fetchProgress struct {
	w    io.Writer
	last time.Time
	any  bool
}

func (p *fetchProgress) update(feed, file string, done, total int64) {
	if p == nil || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last, p.any = time.Now(), true
	if total > 0 {
		frac := min(float64(done)/float64(total), 1)
		const width = 30
		n := int(frac * width)
		fmt.Fprintf(p.w, "\r\033[K%s %s [%s%s] %3.0f%% %d/%d bytes", feed, file, strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100, done, total)
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%s %s %d bytes", feed, file, done)
}

func (p *fetchProgress) done() {
	if p != nil && p.any {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
