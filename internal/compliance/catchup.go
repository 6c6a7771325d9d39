package compliance

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/store"
)

// CatchUpReport says what CatchUp did.
type CatchUpReport struct {
	// Baseline is true when the store had no screened versions yet: the
	// active versions were recorded and nothing was re-screened.
	Baseline bool `json:"baseline"`
	// Sources are the lists whose active version differed from the one
	// last screened against, with how each was diffed.
	Sources []CatchUpSource `json:"sources"`
	// Rescreen is the re-screening run over the difference, if any.
	Rescreen *RescreenReport `json:"rescreen,omitempty"`
}

// CatchUpSource is one list caught up.
type CatchUpSource struct {
	Source   string `json:"source"`
	Screened string `json:"screened"` // version hash last screened against ("" if never)
	Active   string `json:"active"`
	// Whole is true when the screened version was not available on disk
	// (or unreadable): the whole active list was screened against.
	Whole bool   `json:"whole"`
	Note  string `json:"note,omitempty"`
}

// CatchUp re-screens what a crash made the desk miss. Re-screenings
// record the list versions they screened against in the store, in the
// transaction of their results; if the process died after a list version
// was persisted but before its re-screening committed, the active
// versions of ls differ from the recorded ones at the next start. CatchUp
// then diffs each such list against the version last screened against
// (read from listsDir/<source>/<hash>/, where the lists store keeps
// previous versions; listsDir is data_dir/lists) and runs Rescreen on the
// difference; when that version is missing or unreadable, against the
// whole active list. A store with no recorded versions (a new store, or
// one from a build before this record) gets the active versions as its
// baseline: every subject in it passed the gate against them or was
// re-screened since. It holds the re-screening lock throughout, so an
// import arriving meanwhile is re-screened after it, in order.
func (c *Service) CatchUp(ctx context.Context, ls *lists.Store, listsDir string) (CatchUpReport, error) {
	c.rescreenMu.Lock()
	defer c.rescreenMu.Unlock()
	var rep CatchUpReport
	cur := ls.Snapshot()
	active := map[string]string{}
	for src, v := range cur.Versions {
		active[src] = v.Hash
	}
	rec, err := c.s.ScreenedVersions(ctx)
	if err != nil {
		return rep, fmt.Errorf("catching up re-screening: %w", err)
	}
	if len(rec) == 0 {
		rep.Baseline = true
		if len(active) == 0 {
			return rep, nil
		}
		if err := c.s.Tx(ctx, func(tx store.Tx) error { return tx.SetScreenedVersions(ctx, active) }); err != nil {
			return rep, fmt.Errorf("catching up re-screening: recording the baseline list versions: %w", err)
		}
		return rep, nil
	}
	bySource := map[string][]entity.Entity{}
	for _, e := range cur.Entities {
		bySource[e.Source] = append(bySource[e.Source], e)
	}
	srcs := make([]string, 0, len(cur.Versions))
	for src := range cur.Versions {
		srcs = append(srcs, src)
	}
	sort.Strings(srcs)
	var results []lists.ImportResult
	for _, src := range srcs {
		v := cur.Versions[src]
		old := rec[src]
		if old == v.Hash {
			continue
		}
		cs := CatchUpSource{Source: src, Screened: old, Active: v.Hash}
		res := lists.ImportResult{Version: v}
		var oldEnts []entity.Entity
		if old != "" && listsDir != "" {
			oldEnts, err = loadOldVersion(filepath.Join(listsDir, src, old), src)
			if err != nil {
				cs.Note = err.Error()
			}
		} else if old == "" {
			cs.Note = "no version of this list was screened against"
		}
		if oldEnts == nil {
			cs.Whole = true
			for _, e := range bySource[src] {
				res.Diff.Added = append(res.Diff.Added, e.ID)
			}
		} else {
			res.Previous = &lists.Version{Source: src, Hash: old}
			res.Diff = diffEntities(oldEnts, bySource[src])
		}
		c.log.Warn("catching up a re-screening lost at the last stop", "source", src, "screened", short(old), "active", short(v.Hash),
			"whole_list", cs.Whole, "added", len(res.Diff.Added), "changed", len(res.Diff.Changed), "removed", len(res.Diff.Removed), "note", cs.Note)
		rep.Sources = append(rep.Sources, cs)
		results = append(results, res)
	}
	if len(results) == 0 {
		return rep, nil
	}
	rr, err := c.rescreen(ctx, cur, results)
	if err != nil {
		return rep, fmt.Errorf("catching up re-screening: %w", err)
	}
	rep.Rescreen = &rr
	return rep, nil
}

// loadOldVersion parses a persisted list version directory, keeping the
// entities of source src. It returns nil and an error when the directory
// is missing or does not parse.
func loadOldVersion(dir, src string) ([]entity.Entity, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("reading screened version %s: %w", dir, err)
	}
	old, err := lists.Open("", []string{dir})
	if err != nil {
		return nil, fmt.Errorf("reading screened version %s: %w", dir, err)
	}
	var out []entity.Entity
	for _, e := range old.Snapshot().Entities {
		if e.Source == src {
			out = append(out, e)
		}
	}
	if out == nil {
		return nil, fmt.Errorf("reading screened version %s: no entities of %s in it", dir, src)
	}
	return out, nil
}

// diffEntities lists the ids added, removed and changed (content differs)
// from old to cur.
func diffEntities(old, cur []entity.Entity) lists.Diff {
	digest := func(e entity.Entity) [32]byte {
		b, _ := json.Marshal(e)
		return sha256.Sum256(b)
	}
	was := make(map[string][32]byte, len(old))
	for _, e := range old {
		was[e.ID] = digest(e)
	}
	var d lists.Diff
	seen := make(map[string]bool, len(cur))
	for _, e := range cur {
		seen[e.ID] = true
		h, ok := was[e.ID]
		switch {
		case !ok:
			d.Added = append(d.Added, e.ID)
		case h != digest(e):
			d.Changed = append(d.Changed, e.ID)
		}
	}
	for _, e := range old {
		if !seen[e.ID] {
			d.Removed = append(d.Removed, e.ID)
		}
	}
	return d
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
