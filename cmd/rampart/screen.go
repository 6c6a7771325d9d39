package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/namequery"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/textnorm"
)

func init() { subcommands = append(subcommands, newScreenCmd) }

// screenFlags are the flags of rampart screen.
type screenFlags struct {
	json      bool
	kind      string
	country   string
	threshold float64
	limit     int
	lists     []string
	dataDir   string
	explain   bool
}

func newScreenCmd() *cobra.Command {
	var f screenFlags
	cmd := &cobra.Command{
		Use:   "screen [--json] [--explain] [--kind person|organization|vessel|aircraft] [--country CC] [--threshold X] [--lists PATH...] [--data-dir DIR] NAME...",
		Short: "Screen names against the sanctions lists",
		Long: "Screen matches each NAME (or, with no NAME, each line of standard input) against the\n" +
			"sanctions lists and prints the listed entities scoring at or above the threshold\n" +
			"(default 0.90), best first, each with its score and an explanation.\n\n" +
			"The lists are the files or folders given with --lists, else the active versions in\n" +
			"--data-dir (lists missing there are taken from the lists bundled into the binary and\n" +
			"stored in DIR, as rampart serve does), else the bundled lists alone.\n\n" +
			"--kind is a hint: entities of another kind are demoted, not excluded. --json prints\n" +
			"one JSON object per line: {\"query\": ..., \"matches\": [...]}. When names come from\n" +
			"standard input and standard error is a terminal, a progress line is shown there.\n" +
			"The exit status is 0 whether or not anything matched.",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScreen(cmd, f, args)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.json, "json", false, "print one JSON object per name")
	fl.StringVar(&f.kind, "kind", "", "kind of the names: person, organization, vessel or aircraft (default: any)")
	fl.StringVar(&f.country, "country", "", "ISO 3166-1 alpha-2 country hint")
	fl.Float64Var(&f.threshold, "threshold", screening.DefaultThreshold, "minimum score reported as a match (0-1)")
	fl.IntVar(&f.limit, "limit", screening.DefaultLimit, "maximum matches per name")
	fl.StringSliceVar(&f.lists, "lists", nil, "list files or folders to screen against instead of the stored or bundled lists")
	fl.StringVar(&f.dataDir, "data-dir", "", "data directory whose active list versions to use")
	fl.BoolVar(&f.explain, "explain", false, "also print how each name was read: parts, ignored words, places, legal forms, token information")
	return cmd
}

func parseKind(s string) (entity.Kind, error) {
	switch k := entity.Kind(strings.ToLower(strings.TrimSpace(s))); k {
	case "", "any":
		return "", nil
	case entity.Person, entity.Organization, entity.Vessel, entity.Aircraft:
		return k, nil
	}
	return "", fmt.Errorf("invalid --kind %q: want person, organization, vessel or aircraft", s)
}

// openScreenStore opens the lists the screen command uses.
func openScreenStore(f screenFlags) (*lists.Store, error) {
	switch {
	case len(f.lists) > 0:
		return lists.Open("", f.lists)
	case f.dataDir != "":
		return lists.Open(f.dataDir, nil)
	default:
		return lists.Open("", nil)
	}
}

func runScreen(cmd *cobra.Command, f screenFlags, args []string) error {
	kind, err := parseKind(f.kind)
	if err != nil {
		return err
	}
	if f.threshold < 0 || f.threshold > 1 {
		return fmt.Errorf("invalid --threshold %v: want a number from 0 to 1", f.threshold)
	}
	if f.limit <= 0 {
		return fmt.Errorf("invalid --limit %d: want a positive number", f.limit)
	}
	if c := strings.TrimSpace(f.country); c != "" && len(c) != 2 {
		return fmt.Errorf("invalid --country %q: want an ISO 3166-1 alpha-2 code such as IR", f.country)
	}
	store, err := openScreenStore(f)
	if err != nil {
		return fmt.Errorf("loading lists: %w", err)
	}
	ix := screening.NewIndex(store.Snapshot().Entities)
	out := bufio.NewWriter(cmd.OutOrStdout())
	defer out.Flush()

	screenOne := func(name string) (int, error) {
		q := screening.Query{Name: name, Kind: kind, Country: strings.ToUpper(strings.TrimSpace(f.country)), Limit: f.limit}
		ms := ix.Search(q, f.threshold)
		if ms == nil {
			ms = []screening.Match{}
		}
		if f.json {
			b, err := json.Marshal(struct {
				Query   string            `json:"query"`
				Matches []screening.Match `json:"matches"`
			}{name, ms})
			if err != nil {
				return 0, err
			}
			out.Write(b)
			return len(ms), out.WriteByte('\n')
		}
		if f.explain {
			writeReading(out, ix, name)
		}
		writeHumanMatches(out, name, ms)
		return len(ms), nil
	}

	if len(args) > 0 {
		for _, name := range args {
			if _, err := screenOne(name); err != nil {
				return err
			}
		}
		return nil
	}

	in := cmd.InOrStdin()
	var prog *progress
	if isTerminal(cmd.ErrOrStderr()) {
		prog = newProgress(cmd.ErrOrStderr(), in)
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line, names, hits := 0, 0, 0
	var readBytes int64
	for sc.Scan() {
		line++
		readBytes += int64(len(sc.Bytes())) + 1
		name := strings.TrimSpace(sc.Text())
		if name == "" {
			continue
		}
		n, err := screenOne(name)
		if err != nil {
			return fmt.Errorf("screening stdin line %d: %w", line, err)
		}
		names++
		if n > 0 {
			hits++
		}
		prog.update(names, hits, readBytes)
	}
	prog.done(names, hits)
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("reading stdin line %d: line longer than 1 MiB", line+1)
		}
		return fmt.Errorf("reading stdin line %d: %w", line+1, err)
	}
	return nil
}

// writeHumanMatches prints one block per name.
func writeHumanMatches(w io.Writer, name string, ms []screening.Match) {
	fmt.Fprintf(w, "%s\n", name)
	if len(ms) == 0 {
		fmt.Fprintf(w, "  no match\n\n")
		return
	}
	for _, m := range ms {
		fmt.Fprintf(w, "  %.3f  %s  %s  (%s, %s", m.Score, m.ID, m.Name, m.List, m.Kind)
		if len(m.Programs) > 0 {
			fmt.Fprintf(w, "; %s", strings.Join(m.Programs, ", "))
		}
		fmt.Fprintf(w, ")\n         %s\n", m.Explanation)
	}
	fmt.Fprintln(w)
}

// writeReading prints the structure a name is read as: each part (the
// whole first), its tokens with their class or role (optional words:
// articles, function words, descriptors, places) and each word's
// information in the listed names (bits; "common" words cannot make an
// organisation's match alone; "unlisted" words are in no listed name).
func writeReading(w io.Writer, ix *screening.Index, name string) {
	r := namequery.Read(name)
	fmt.Fprintf(w, "read %q as:\n", name)
	for i, p := range r.Parts {
		what := "whole"
		if i > 0 {
			what = "part "
		}
		fmt.Fprintf(w, "  %s  %s\n", what, p)
		var infos []string
		for k, t := range p.Tokens {
			if t.Class != textnorm.Word || p.Roles[k] != textnorm.None {
				continue
			}
			info, common, found := ix.TokenInfo(t.Text)
			switch {
			case !found:
				infos = append(infos, t.Text+"=unlisted")
			case common:
				infos = append(infos, fmt.Sprintf("%s=%.1f bits common", t.Text, info))
			default:
				infos = append(infos, fmt.Sprintf("%s=%.1f bits", t.Text, info))
			}
		}
		if len(infos) > 0 {
			fmt.Fprintf(w, "         information: %s\n", strings.Join(infos, ", "))
		}
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress draws a one-line progress indicator on a terminal: a bar when
// the input is a regular file of known size, a count otherwise. A nil
// *progress draws nothing.
type progress struct {
	w     io.Writer
	total int64
	last  time.Time
}

func newProgress(w io.Writer, in io.Reader) *progress {
	p := &progress{w: w}
	if f, ok := in.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			p.total = st.Size()
		}
	}
	return p
}

func (p *progress) update(names, hits int, read int64) {
	if p == nil || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	if p.total > 0 {
		frac := min(float64(read)/float64(p.total), 1)
		const width = 30
		n := int(frac * width)
		fmt.Fprintf(p.w, "\r[%s%s] %3.0f%%  %d names, %d with matches", strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100, names, hits)
		return
	}
	fmt.Fprintf(p.w, "\r%d names screened, %d with matches", names, hits)
}

func (p *progress) done(names, hits int) {
	if p == nil {
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%d names screened, %d with matches\n", names, hits)
}
