package lists

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/lists/ofac"
	"github.com/rampart-edge/rampart/internal/lists/uk"
	"github.com/rampart-edge/rampart/internal/lists/un"
)

// Reasons an update is refused (Refusal.Kind, the metrics' reason label).
const (
	RefusedIncomplete  = "incomplete"  // a companion file the active version had is missing
	RefusedImplausible = "implausible" // below the floor, or too many entities removed at once
	RefusedUnparseable = "unparseable" // a file does not parse
	RefusedTooLarge    = "too_large"   // a file is over the size cap
)

// DefaultMaxRemovedShare is the share of a list's entities an update may
// remove at once (5%) unless forced.
const DefaultMaxRemovedShare = 0.05

// DefaultFloors are the fewest entities a plausible publication of each
// list holds. The real lists are far above them (testdata/sanctions: OFAC
// SDN 13,821 in 2023, UN 1,003, UK 6,046 subjects); a file below is cut or
// not the list.
//
// The OFAC consolidated (non-SDN) list is small and shrinking: 639
// entries in the 2018 publication of testdata/sanctions/ofac-consolidated,
// 443 in two public copies of 2025 (PROVENANCE.md there). Its floor, 200,
// is under half of the smallest real publication seen, so a publication
// that loses entries as the list did from 2018 to 2025 still passes, while
// an empty, cut-to-a-few-lines or wrong file fails; a cut that keeps more
// than 200 entries is caught by MaxRemovedShare once a version is active.
var DefaultFloors = map[string]int{
	ofac.Source:     5000,
	ofac.ConsSource: 200,
	un.Source:       500,
	uk.Source:       1000,
}

// Policy is what an update must pass to be activated without force.
type Policy struct {
	// Floors maps a source to the fewest entities it may hold; a source
	// not in the map has no floor.
	Floors map[string]int
	// MaxRemovedShare is the share of the active version's entities an
	// update may remove; 0 means DefaultMaxRemovedShare, a negative value
	// no limit.
	MaxRemovedShare float64
}

// ImportOptions say who imports, from where and whether verification is
// overridden.
type ImportOptions struct {
	// Force activates an update that fails verification (never one that
	// does not parse). Reason is then required.
	Force  bool
	Reason string
	// Actor is who asked ("cli", "token:NAME", "feed:ofac-sdn").
	Actor string
	// Origin says where the files came from ("cli", "api", "feed:NAME",
	// "rollback").
	Origin string
	// Published is the publication time of each source's files when the
	// files do not carry one (HTTP Last-Modified); zero if unknown.
	Published map[string]time.Time
	// Feed names the feed, for refusals.
	Feed string
}

// Refusal describes an update that was not activated.
type Refusal struct {
	Source string `json:"source"`
	Feed   string `json:"feed,omitempty"`
	File   string `json:"file"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
	Actor  string `json:"actor,omitempty"`
	Origin string `json:"origin,omitempty"`
}

// RefusedError is the error of an import refused by verification.
type RefusedError struct {
	Refusals []Refusal
	err      error // the parse error of an unparseable update
}

// Unwrap returns the parse error of an unparseable update.
func (e *RefusedError) Unwrap() error { return e.err }

func (e *RefusedError) Error() string {
	if e.err != nil {
		return e.err.Error() + "; the previous versions stay active"
	}
	parts := make([]string, len(e.Refusals))
	for i, r := range e.Refusals {
		parts[i] = fmt.Sprintf("%s %s refused (%s): %s", r.Source, r.File, r.Kind, r.Reason)
	}
	return strings.Join(parts, "; ") + "; the previous versions stay active (an operator may override with --force --reason)"
}

// AsRefused returns the refusal of err, if it is one.
func AsRefused(err error) (*RefusedError, bool) {
	var re *RefusedError
	ok := errors.As(err, &re)
	return re, ok
}

// OnRefused registers fn to be called for every refused update, after the
// refusal (from the importing goroutine; fn must not import).
func (s *Store) OnRefused(fn func(Refusal)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusedSubs = append(s.refusedSubs, fn)
}

// SetPolicy replaces the verification policy.
func (s *Store) SetPolicy(p Policy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policy = p
}

// Refuse reports a refusal found outside the store (a feed's download over
// its size cap) to the OnRefused subscribers.
func (s *Store) Refuse(r Refusal) {
	s.mu.Lock()
	subs := slices.Clone(s.refusedSubs)
	s.mu.Unlock()
	for _, fn := range subs {
		fn(r)
	}
}

// mainFile is the file named in a refusal of source.
func mainFile(source string) string {
	if oset, ok := ofacSet(source); ok {
		return oset.Main
	}
	switch source {
	case un.Source:
		return un.FileName
	case uk.Source:
		return uk.SubjectsFile
	}
	return source
}

// MayBeEmpty reports whether a list file (by its lower-case name) may be
// empty in a real publication, or lose all its rows from one publication
// to the next: the OFAC comments files only hold the overflow of long
// remarks, and OFAC has published cons_comments.csv empty.
func MayBeEmpty(name string) bool {
	return name == ofac.CommentsFile || name == ofac.ConsCommentsFile
}

// verify checks an update of one source against the active version prev
// (nil for the first); empty names the update's files that hold no rows.
// It returns the refusal, or nil.
func (p Policy) verify(prev *active, v Version, d Diff, empty map[string]bool) *Refusal {
	if prev != nil {
		for _, f := range prev.version.Files {
			if !slices.Contains(v.Files, f) {
				return &Refusal{Source: v.Source, File: f, Kind: RefusedIncomplete,
					Reason: fmt.Sprintf("the active version has %s, this update does not", f)}
			}
			if empty[f] && !prev.empty[f] && !MayBeEmpty(f) {
				return &Refusal{Source: v.Source, File: f, Kind: RefusedIncomplete,
					Reason: fmt.Sprintf("the active version's %s has rows, this update's is empty", f)}
			}
		}
	}
	if floor := p.Floors[v.Source]; v.Entities < floor {
		return &Refusal{Source: v.Source, File: mainFile(v.Source), Kind: RefusedImplausible,
			Reason: fmt.Sprintf("%d entities, fewer than the %d a publication of this list holds", v.Entities, floor)}
	}
	share := p.MaxRemovedShare
	if share == 0 {
		share = DefaultMaxRemovedShare
	}
	if prev != nil && share > 0 && prev.version.Entities > 0 {
		if got := float64(len(d.Removed)) / float64(prev.version.Entities); got > share {
			return &Refusal{Source: v.Source, File: mainFile(v.Source), Kind: RefusedImplausible,
				Reason: fmt.Sprintf("removes %d of %d entities (%.1f%%), more than the %.1f%% allowed at once", len(d.Removed), prev.version.Entities, got*100, share*100)}
		}
	}
	return nil
}
