package compliance

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/rampart-edge/rampart/internal/store"
)

// A suspension covers the names below the suspended zone:
//
//   - a suspended wildcard zone (or alias) "*.example.org" covers every
//     name below example.org, as it serves them;
//   - a suspended exact zone (or alias) "example.org" covers every name
//     below example.org too (its sub-domains belong to the same
//     registrant), unless example.org is itself a public suffix (such as
//     github.io, whose sub-domains belong to different registrants).
//
// The edge answers 451 for a covered name even when a more specific zone
// serves it, and the gate puts a new zone whose host or alias is covered
// in review, unless a compliance decision on that more specific zone,
// taken after the suspension, says otherwise (a reinstate, or a dismiss
// that cleared it from review): the newer decision wins.

// cover is one suspended zone as it covers the names below base.
type cover struct {
	base  string    // covered: every name strictly below base
	name  string    // the suspended host or alias ("*.example.org" or "example.org")
	state ZoneState // the suspended zone
}

// coverTable is the suspended zones by covered base, built from one
// states map.
type coverTable struct {
	src    *map[string]ZoneState
	covers map[string]cover
}

// coverCache holds the cover table of the current states map; it is
// rebuilt on first use after the states map changed.
type coverCache struct {
	fast atomic.Pointer[coverTable]
	mu   sync.Mutex
	cur  *coverTable
}

func (c *Service) coverTable() *coverTable {
	src := c.states.Load()
	cc := &c.covers
	if t := cc.fast.Load(); t != nil && t.src == src {
		return t
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.cur != nil && cc.cur.src == src {
		return cc.cur
	}
	t := &coverTable{src: src, covers: map[string]cover{}}
	for name, st := range *src {
		if st.Status != store.ZoneSuspended {
			continue
		}
		base, wild := strings.CutPrefix(name, "*.")
		if !wild {
			if ps, _ := publicsuffix.PublicSuffix(base); ps == base {
				continue
			}
		}
		if old, ok := t.covers[base]; ok && !st.Since.After(old.state.Since) {
			continue
		}
		t.covers[base] = cover{base: base, name: name, state: st}
	}
	cc.cur = t
	cc.fast.Store(t)
	return t
}

// above calls f with every name strictly above host ("b.example.org" for
// "a.b.example.org", then "example.org", then "org") until f returns
// true.
func above(host string, f func(string) bool) {
	for i := strings.IndexByte(host, '.'); i >= 0 && i < len(host)-1; {
		if f(host[i+1:]) {
			return
		}
		j := strings.IndexByte(host[i+1:], '.')
		if j < 0 {
			return
		}
		i += 1 + j
	}
}

// below reports whether name (a host or "*.suffix") is below base.
func below(name, base string) bool {
	name = strings.TrimPrefix(name, "*.")
	return name == base || strings.HasSuffix(name, "."+base)
}

// exempts reports whether the serving zone's own decision lifts cv: a
// decision made the zone active after the suspension, and the zone is
// more specific than the suspended one (below it) or own is true (the
// name is the zone's own host or alias, not one its wildcard matched).
func exempts(serving ZoneState, ok bool, cv cover, own bool) bool {
	return ok && serving.ZoneID != cv.state.ZoneID && serving.Status == store.ZoneActive && serving.Decision != "" &&
		(own || below(serving.Host, cv.base)) && serving.Since.After(cv.state.Since)
}

// Suspension returns the suspended zone that covers host (a requested
// name, no port) when the zone serving it is zoneHost, unless a newer
// decision on that zone lifts it; false when none does.
func (c *Service) Suspension(host, zoneHost string) (ZoneState, bool) {
	t := c.coverTable()
	if len(t.covers) == 0 {
		return ZoneState{}, false
	}
	serving, sok := c.ZoneState(zoneHost)
	exact, own := (*t.src)[host]
	own = own && exact.ZoneID == serving.ZoneID
	var found cover
	var hit bool
	above(host, func(a string) bool {
		cv, ok := t.covers[a]
		if ok && !exempts(serving, sok, cv, own) {
			found, hit = cv, true
		}
		return hit
	})
	return found.state, hit
}

// coveredNames returns a gate reason for each of names (a zone's host and
// aliases) that a suspended zone covers (see Suspension); current is the
// zone's stored state when it exists already.
func (c *Service) coveredNames(names []string, current *ZoneState) []string {
	t := c.coverTable()
	if len(t.covers) == 0 {
		return nil
	}
	var cur ZoneState
	if current != nil {
		cur = *current
	}
	var reasons []string
	for _, n := range names {
		base, wild := strings.CutPrefix(n, "*.")
		check := func(a string) bool {
			cv, ok := t.covers[a]
			if !ok || cv.state.ZoneID == cur.ZoneID && cur.ZoneID != "" || exempts(cur, current != nil, cv, true) {
				return false
			}
			r := fmt.Sprintf("host %s is under %s, which is suspended", n, cv.name)
			if cv.state.CaseID != "" {
				r += " by case " + cv.state.CaseID
			}
			reasons = append(reasons, r)
			return true
		}
		if wild && check(base) {
			continue
		}
		above(base, check)
	}
	return reasons
}

// sinceOf is when a zone's status was set: the decided_at of the decision
// in its reasons, or its last update.
func sinceOf(decidedAt string, updated time.Time) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, decidedAt); err == nil {
		return t
	}
	return updated
}
