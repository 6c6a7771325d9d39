package dashboard

import (
	"errors"
	"io/fs"
	"net/http"
	"slices"
	"strings"

	"github.com/rampart-edge/rampart/internal/feeds"
	"github.com/rampart-edge/rampart/internal/lists"
)

// maxListVersions bounds the versions the lists page shows per list (each
// reads its diff from the data directory).
const maxListVersions = 10

// maxDiffIDs bounds the ids of each kind the diff page shows.
const maxDiffIDs = 1000

// listVersionRow is one version of a list on the lists page.
type listVersionRow struct {
	lists.Version
	// Active marks the version in force.
	Active bool
	// Diff counts the change that led to the version; nil when the diff
	// is not kept (a version loaded from elsewhere).
	Diff *lists.DiffSummary
	// DiffLink is the dashboard page of the full diff.
	DiffLink string
}

// listRow is one list with its versions, newest first, and its feeds.
type listRow struct {
	Active   lists.Version
	Versions []listVersionRow
	// Hidden counts the earlier versions past maxListVersions.
	Hidden int
	Feeds  []feeds.Status
	Stale  bool
}

type listsData struct {
	Lists    []listRow
	Entities int
	// Feeds are the configured feeds; Stale those that are stale.
	Feeds   []feeds.Status
	Stale   []feeds.Status
	History bool // earlier versions are kept (a data directory)
	Err     string
}

func (d *Dashboard) pageLists(w http.ResponseWriter, r *http.Request, v *view) error {
	ld := listsData{}
	active, n := d.listVersions()
	ld.Entities = n
	hist, _ := d.opts.Lists.(ListHistory)
	var past []lists.Version
	if hist != nil {
		var err error
		if past, err = hist.History(); err != nil {
			d.log.Error("reading the list history", "error", err)
			ld.Err = "The earlier versions could not be read; see the server log."
		}
		ld.History = len(past) > 0
	}
	if d.opts.Feeds != nil {
		ld.Feeds = d.opts.Feeds.Statuses()
		slices.SortFunc(ld.Feeds, func(a, b feeds.Status) int { return strings.Compare(a.Feed, b.Feed) })
		for _, f := range ld.Feeds {
			if f.Stale {
				ld.Stale = append(ld.Stale, f)
			}
		}
	}
	for _, a := range active {
		row := listRow{Active: a}
		// The history is oldest first; the page shows newest first and
		// marks the newest entry of the active hash (a rollback repeats
		// an earlier hash).
		var vs []lists.Version
		for i := len(past) - 1; i >= 0; i-- {
			if past[i].Source == a.Source {
				vs = append(vs, past[i])
			}
		}
		if !slices.ContainsFunc(vs, func(x lists.Version) bool { return x.Hash == a.Hash }) {
			vs = append([]lists.Version{a}, vs...)
		}
		if len(vs) > maxListVersions {
			row.Hidden = len(vs) - maxListVersions
			vs = vs[:maxListVersions]
		}
		marked := false
		for _, x := range vs {
			vr := listVersionRow{Version: x}
			if !marked && x.Hash == a.Hash {
				vr.Active, marked = true, true
			}
			if hist != nil {
				if df, err := hist.DiffOf(x.Source, x.Hash); err == nil {
					s := lists.DiffSummary{Added: len(df.Added), Removed: len(df.Removed), Changed: len(df.Changed), Full: lists.DiffPath(x.Source, x.Hash)}
					vr.Diff = &s
					vr.DiffLink = "/dashboard/lists/" + x.Source + "/" + x.Hash + "/diff"
				}
			}
			row.Versions = append(row.Versions, vr)
		}
		for _, f := range ld.Feeds {
			if f.Source == a.Source {
				row.Feeds = append(row.Feeds, f)
				row.Stale = row.Stale || f.Stale
			}
		}
		ld.Lists = append(ld.Lists, row)
	}
	v.Title, v.Section, v.Data = "Sanctions lists", "lists", ld
	return d.render(w, v, http.StatusOK, "lists")
}

// listDiffData is the diff page of one list version.
type listDiffData struct {
	Version                 *lists.Version // nil when the history does not name it
	Source, Hash            string
	Added, Removed, Changed []string
	NAdded, NRemoved, NChng int
	Max                     int
	API                     string
}

// pageListDiff shows the full diff that led to a version of a list: the
// ids added, removed and changed (the first maxDiffIDs of each).
func (d *Dashboard) pageListDiff(w http.ResponseWriter, r *http.Request, v *view) error {
	hist, ok := d.opts.Lists.(ListHistory)
	if !ok {
		return &httpError{http.StatusServiceUnavailable, "The list history is not available on this server."}
	}
	source, hash := r.PathValue("source"), r.PathValue("version")
	df, err := hist.DiffOf(source, hash)
	if errors.Is(err, fs.ErrNotExist) {
		return &httpError{http.StatusNotFound, "No diff is kept for this version."}
	}
	if err != nil {
		return &httpError{http.StatusNotFound, "No such list version: " + err.Error()}
	}
	dd := listDiffData{Source: source, Hash: hash, NAdded: len(df.Added), NRemoved: len(df.Removed), NChng: len(df.Changed),
		Max: maxDiffIDs, API: lists.DiffPath(source, hash)}
	cut := func(ids []string) []string { return ids[:min(len(ids), maxDiffIDs)] }
	dd.Added, dd.Removed, dd.Changed = cut(df.Added), cut(df.Removed), cut(df.Changed)
	if past, err := hist.History(); err == nil {
		for i := len(past) - 1; i >= 0; i-- {
			if past[i].Source == source && past[i].Hash == hash {
				dd.Version = &past[i]
				break
			}
		}
	}
	if dd.Version == nil {
		if snap := d.opts.Lists.Snapshot(); snap != nil {
			if a, ok := snap.Versions[source]; ok && a.Hash == hash {
				dd.Version = &a
			}
		}
	}
	v.Title, v.Section, v.Data = "Diff of "+source+" "+truncate(12, hash), "lists", dd
	return d.render(w, v, http.StatusOK, "listdiff")
}
