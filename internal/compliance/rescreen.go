package compliance

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store"
)

// RescreenReport is the outcome of one re-screening.
type RescreenReport struct {
	Changed          int           `json:"changed_entities"` // added + changed entities screened against
	Removed          int           `json:"removed_entities"`
	AccountsScreened int           `json:"accounts_screened"`
	ZonesScreened    int           `json:"zones_screened"`
	AccountHits      []string      `json:"account_hits"` // account ids newly hit
	ZoneHits         []string      `json:"zone_hits"`    // zone ids newly hit
	Cases            []string      `json:"cases"`        // cases opened or joined
	ClearedForReview []string      `json:"cleared_for_review"`
	ZonesFollowed    []string      `json:"zones_followed"` // zones put in review or suspended with their account
	Duration         time.Duration `json:"duration"`
}

// progressEvery is how many subjects pass between progress log lines.
const progressEvery = 50_000

type hit struct {
	id, host, name string
	ms             []screening.Match
	status         string
	reasons        []string
}

// Rescreen screens every account and zone against the entities added or
// changed by an import (results), using a small index of just those
// entities rather than the whole list. Hits are stored in ONE transaction:
// the status updates (accounts to review, or blocked for a listed e-mail;
// zones per compliance.on_hit), a screening record per hit, a case per zone
// hit (opened or joined) and, with on_hit suspend, a suspend decision; so a
// crash leaves all of it or none. Zones follow an account hit in the same
// transaction: an account moved to review holds its active zones in
// review, a blocked account's zones are suspended (RescreenReport.ZonesFollowed).
// Subjects whose last screening matched a
// removed entity are moved from blocked/rejected to review (never cleared
// automatically).
//
// The same transaction records cur's list versions as the versions
// screened against (store.Tx.SetScreenedVersions), so that CatchUp finds
// a re-screening lost to a crash at the next start.
func (c *Service) Rescreen(ctx context.Context, cur *lists.Snapshot, results []lists.ImportResult) (RescreenReport, error) {
	c.rescreenMu.Lock()
	defer c.rescreenMu.Unlock()
	return c.rescreen(ctx, cur, results)
}

// rescreen is Rescreen with rescreenMu held.
func (c *Service) rescreen(ctx context.Context, cur *lists.Snapshot, results []lists.ImportResult) (RescreenReport, error) {
	start := time.Now()
	var rep RescreenReport
	want := map[string]bool{}
	removed := map[string]bool{}
	var why []string
	for _, r := range results {
		for _, id := range r.Diff.Added {
			want[id] = true
		}
		for _, id := range r.Diff.Changed {
			want[id] = true
		}
		for _, id := range r.Diff.Removed {
			removed[id] = true
		}
		why = append(why, r.Version.Source+" "+r.Version.Short())
	}
	var ents []entity.Entity
	for _, e := range cur.Entities {
		if want[e.ID] {
			ents = append(ents, e)
		}
	}
	rep.Changed, rep.Removed = len(ents), len(removed)
	ix := screening.NewIndex(ents)
	versions := map[string]string{}
	for src, v := range cur.Versions {
		versions[src] = v.Hash
	}
	lv := mustJSON(versions)
	threshold := c.scr.Threshold()
	// Whitelisted matches (desk.go) do not hold their subject again.
	wl, werr := c.loadWhitelist(ctx, "", "")
	if werr != nil {
		return rep, werr
	}

	var accHits, zoneHits []hit
	var reviewAcc, reviewZone []string // non-active subjects to check against removed entities
	byAcc := map[string][]store.Zone{} // active and review zones by account, to follow an account hit
	total := 0
	progress := func(kind string) {
		total++
		if total%progressEvery == 0 {
			c.log.Info("re-screening in progress", "subjects", total, "kind", kind, "hits", len(accHits)+len(zoneHits))
		}
	}
	if ix.Len() > 0 || len(removed) > 0 {
		for a, err := range c.s.Accounts(ctx) {
			if err != nil {
				return rep, fmt.Errorf("re-screening accounts: %w", err)
			}
			rep.AccountsScreened++
			progress("account")
			if a.Status != store.AccountActive {
				reviewAcc = append(reviewAcc, a.ID)
			}
			if ix.Len() == 0 {
				continue
			}
			ms := wl.drop(store.SubjectAccount, a.ID, ix.Search(screening.Query{Name: a.Name, Kind: entity.Kind(a.Kind), Country: a.Country}, threshold))
			status := ""
			var reasons []string
			if len(ms) > 0 {
				status = store.AccountReview
				reasons = append(reasons, fmt.Sprintf("name matches %s (score %.2f)", ms[0].ID, ms[0].Score))
			}
			if a.Email != "" {
				if im := wl.drop(store.SubjectAccount, a.ID, ix.MatchIdentifier(entity.Email, a.Email)); len(im) > 0 {
					status = store.AccountBlocked
					ms = append(im, ms...)
					reasons = append(reasons, "e-mail listed on "+im[0].ID)
				}
			}
			if a.Address != "" {
				if am := wl.drop(store.SubjectAccount, a.ID, ix.MatchAddress(a.Address)); len(am) > 0 {
					if status == "" {
						status = store.AccountReview
					}
					ms = append(ms, am...)
					reasons = append(reasons, "address matches a listed address of "+am[0].ID)
				}
			}
			if status == "" {
				continue
			}
			if a.Status == store.AccountBlocked {
				status = store.AccountBlocked // never downgraded by a re-screen
			}
			accHits = append(accHits, hit{id: a.ID, name: a.Name, ms: dedupe(ms), status: status, reasons: reasons})
		}
		for z, err := range c.s.Zones(ctx) {
			if err != nil {
				return rep, fmt.Errorf("re-screening zones: %w", err)
			}
			rep.ZonesScreened++
			progress("zone")
			if z.Status == store.ZoneRejected || z.Status == store.ZoneReview {
				reviewZone = append(reviewZone, z.ID)
			}
			if z.AccountID != "" && (z.Status == store.ZoneActive || z.Status == store.ZoneReview) {
				byAcc[z.AccountID] = append(byAcc[z.AccountID], store.Zone{ID: z.ID, AccountID: z.AccountID, Status: z.Status, Reasons: z.Reasons})
			}
			if ix.Len() == 0 {
				continue
			}
			var aliases []string
			_ = json.Unmarshal(z.Aliases, &aliases)
			var ms []screening.Match
			var reasons []string
			for _, h := range append([]string{z.Host}, aliases...) {
				if m := wl.drop(store.SubjectZone, z.ID, ix.MatchIdentifier(entity.Website, strings.TrimPrefix(h, "*."))); len(m) > 0 {
					ms = append(ms, m...)
					reasons = append(reasons, fmt.Sprintf("host %s is listed as a website of %s (%s)", h, m[0].ID, m[0].Name))
				}
			}
			if len(ms) > 0 {
				zoneHits = append(zoneHits, hit{id: z.ID, host: z.Host, ms: dedupe(ms), reasons: reasons, status: z.Status})
			}
		}
	}
	var cleared []store.StatusUpdate
	var clearedZones []store.StatusUpdate
	if len(removed) > 0 {
		// Subjects not active whose latest screening matched a removed
		// entity: put them in review for a human to clear.
		for _, id := range reviewAcc {
			if c.matchedRemoved(ctx, store.SubjectAccount, id, removed) {
				cleared = append(cleared, store.StatusUpdate{ID: id, Status: store.AccountReview})
			}
		}
		for _, id := range reviewZone {
			if c.matchedRemoved(ctx, store.SubjectZone, id, removed) {
				clearedZones = append(clearedZones, store.StatusUpdate{ID: id, Status: store.ZoneReview,
					Reasons: reasonsJSON([]string{"a listed entity it matched was removed from the list: review to clear"})})
			}
		}
	}
	whyS := "list import " + strings.Join(why, ", ")
	err := c.s.Tx(ctx, func(tx store.Tx) error {
		rep.AccountHits, rep.ZoneHits, rep.Cases, rep.ClearedForReview, rep.ZonesFollowed = nil, nil, nil, nil, nil
		if err := tx.LockWrites(ctx); err != nil {
			return err
		}
		if len(versions) > 0 {
			if err := tx.SetScreenedVersions(ctx, versions); err != nil {
				return err
			}
		}
		// The import itself, with the re-screening's outcome, so the log
		// shows which list version was known when.
		for _, r := range results {
			data := map[string]any{"version": r.Version.Hash, "entities": r.Version.Entities,
				"added": len(r.Diff.Added), "removed": len(r.Diff.Removed), "changed": len(r.Diff.Changed),
				"rescreened_accounts": rep.AccountsScreened, "rescreened_zones": rep.ZonesScreened,
				"account_hits": len(accHits), "zone_hits": len(zoneHits)}
			if r.Version.Origin != "" {
				data["origin"] = r.Version.Origin
			}
			if !r.Version.Published.IsZero() {
				data["published"] = r.Version.Published.UTC().Format(time.RFC3339)
			}
			if r.Version.Forced {
				data["forced"] = true
			}
			if r.Version.Reason != "" {
				data["reason"] = r.Version.Reason
			}
			if r.Previous != nil {
				data["previous"] = r.Previous.Hash
			}
			actor := audit.ActorSystem
			if r.Version.Actor != "" {
				actor = r.Version.Actor
			}
			if _, err := tx.Append(ctx, audit.Event{Actor: actor, Action: audit.ActionListImport, Subject: "list:" + r.Version.Source,
				Data: audit.MustData(data)}); err != nil {
				return err
			}
		}
		now := store.Now()
		var accUpd []store.StatusUpdate
		for _, h := range accHits {
			accUpd = append(accUpd, store.StatusUpdate{ID: h.id, Status: h.status})
			rep.AccountHits = append(rep.AccountHits, h.id)
		}
		accUpd = append(accUpd, cleared...)
		if len(accUpd) > 0 {
			if _, err := setStatuses(ctx, tx, store.SubjectAccount, accUpd, whyS); err != nil {
				return err
			}
		}
		for _, u := range cleared {
			rep.ClearedForReview = append(rep.ClearedForReview, u.ID)
		}
		for _, h := range accHits {
			sc := store.Screening{ID: store.NewID("scr"), SubjectType: store.SubjectAccount, SubjectID: h.id, Result: h.status,
				Lists: lv, Matches: matchesJSON(h.ms), Actor: audit.ActorSystem, Created: now}
			if err := addScreening(ctx, tx, &sc); err != nil {
				return err
			}
		}
		// Every hold becomes work: an account the re-screening holds
		// opens a case (or updates its active one), as at onboarding.
		for _, h := range accHits {
			cs, err := rescreenAccountCase(ctx, tx, h.id, "re-screening hit: "+strings.Join(h.reasons, "; "), now)
			if err != nil {
				return err
			}
			rep.Cases = append(rep.Cases, cs.ID)
		}
		for _, u := range cleared {
			cs, err := rescreenAccountCase(ctx, tx, u.ID, "re-screening: a listed entity it matched was removed from the list: review to clear", now)
			if err != nil {
				return err
			}
			rep.Cases = append(rep.Cases, cs.ID)
		}
		var zoneUpd []store.StatusUpdate
		zoneUpd = append(zoneUpd, clearedZones...)
		// Zones follow their account hit: review holds active zones in
		// review, blocked suspends them (see followAccount). A zone hit
		// below overrides this, except that it never lifts a suspension.
		follow := map[string]string{}
		for _, h := range accHits {
			for _, z := range byAcc[h.id] {
				to, ok := followAccount(z, h.status)
				if !ok {
					continue
				}
				follow[z.ID] = to
				zoneUpd = append(zoneUpd, store.StatusUpdate{ID: z.ID, Status: to, Reasons: accountReason(h.id, h.status, "re-screening hit: "+strings.Join(h.reasons, "; "))})
				rep.ZonesFollowed = append(rep.ZonesFollowed, z.ID)
			}
		}
		for _, u := range clearedZones {
			rep.ClearedForReview = append(rep.ClearedForReview, u.ID)
		}
		for _, h := range zoneHits {
			rep.ZoneHits = append(rep.ZoneHits, h.id)
			summary := strings.Join(h.reasons, "; ")
			cs, err := openScreeningCase(ctx, tx, h.id, h.host, store.CategorySanctions, summary, audit.ActorSystem)
			if err != nil {
				return err
			}
			rep.Cases = append(rep.Cases, cs.ID)
			// on_hit review: the zone keeps its status (an active zone
			// keeps serving) and the open case waits for a decision.
			status := h.status
			var reasons any = []map[string]string{{"case_id": cs.ID, "category": cs.Category, "reason": "re-screening hit under review: " + summary}}
			if c.opts.OnHit == config.OnHitSuspend && cs.Status != store.CaseSuspended {
				reason := "re-screening hit: " + summary
				d := store.Decision{ID: store.NewID("dec"), CaseID: cs.ID, Action: store.ActionSuspend, Reason: reason, Actor: audit.ActorSystem, Created: now}
				if _, err := tx.Append(ctx, audit.Event{Actor: audit.ActorSystem, Action: audit.ActionCaseDecision, Subject: "case:" + cs.ID,
					Data: audit.MustData(map[string]any{"decision_id": d.ID, "action": d.Action, "reason": reason})}); err != nil {
					return err
				}
				if err := tx.AddDecision(ctx, &d); err != nil {
					return err
				}
				cs.Status, cs.DecidedAt, cs.DecisionAction, cs.DecisionReason, cs.DecidedBy = store.CaseSuspended, now, d.Action, reason, d.Actor
				if err := tx.UpdateCase(ctx, &cs); err != nil {
					return err
				}
				status = store.ZoneSuspended
				reasons = []map[string]string{{"case_id": cs.ID, "category": cs.Category, "reason": reason}}
			} else if cs.Status == store.CaseSuspended {
				status = store.ZoneSuspended
				reasons = []map[string]string{{"case_id": cs.ID, "category": cs.Category, "reason": cs.DecisionReason}}
			}
			if f := follow[h.id]; f != "" && (status == store.ZoneActive || (f == store.ZoneSuspended && status != store.ZoneSuspended)) {
				status = f // its account's hold is stronger: keep it
			} else {
				zoneUpd = append(zoneUpd, store.StatusUpdate{ID: h.id, Status: status, Reasons: mustJSON(reasons)})
			}
			sc := store.Screening{ID: store.NewID("scr"), SubjectType: store.SubjectZone, SubjectID: h.id, Result: status,
				Lists: lv, Matches: matchesJSON(h.ms), Actor: audit.ActorSystem, Created: now}
			if err := addScreening(ctx, tx, &sc); err != nil {
				return err
			}
		}
		if len(zoneUpd) > 0 {
			if _, err := setStatuses(ctx, tx, store.SubjectZone, zoneUpd, whyS); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("storing the re-screening outcome: %w", err)
	}
	rep.Duration = time.Since(start)
	c.statsMu.Lock()
	c.stats.Rescreens++
	c.stats.AccountsScreened += int64(rep.AccountsScreened)
	c.stats.ZonesScreened += int64(rep.ZonesScreened)
	c.stats.AccountHits += int64(len(rep.AccountHits))
	c.stats.ZoneHits += int64(len(rep.ZoneHits))
	c.stats.LastDuration = rep.Duration
	c.statsMu.Unlock()
	c.log.Info("re-screening done", "lists", whyS, "changed_entities", rep.Changed, "removed_entities", rep.Removed,
		"accounts", rep.AccountsScreened, "zones", rep.ZonesScreened, "account_hits", len(rep.AccountHits),
		"zone_hits", len(rep.ZoneHits), "cleared_for_review", len(rep.ClearedForReview), "duration", rep.Duration.String())
	if len(rep.ZoneHits) > 0 || len(clearedZones) > 0 || len(rep.ZonesFollowed) > 0 {
		c.changed(ctx)
	}
	return rep, nil
}

// rescreenAccountCase opens the case of an account a re-screening holds,
// or marks the new detection on its active case (LastReport).
func rescreenAccountCase(ctx context.Context, tx store.Tx, accID, summary string, now time.Time) (store.Case, error) {
	cs, err := openAccountCaseTx(ctx, tx, store.Account{ID: accID}, summary, audit.ActorSystem)
	if err != nil || !cs.LastReport.Before(now) {
		return cs, err
	}
	cs.LastReport = now
	return cs, tx.UpdateCase(ctx, &cs)
}

// ApplyStatuses is the status workflow, the only one: it sets many
// statuses (a re-screening's outcome) and appends one status.batch audit
// entry naming how many changed and why, in one transaction, and returns
// how many rows changed. actor is recorded as the system.
func ApplyStatuses(ctx context.Context, s store.Store, subject string, updates []store.StatusUpdate, why string) (int, error) {
	n := 0
	err := s.Tx(ctx, func(tx store.Tx) error {
		var err error
		n, err = setStatuses(ctx, tx, subject, updates, why)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("applying %d %s statuses: %w", len(updates), subject, err)
	}
	return n, nil
}

// setStatuses is ApplyStatuses inside an open transaction.
func setStatuses(ctx context.Context, tx store.Tx, subject string, updates []store.StatusUpdate, why string) (int, error) {
	ids := make([]string, 0, min(len(updates), 1000))
	for _, u := range updates[:min(len(updates), 1000)] {
		ids = append(ids, u.ID+"="+u.Status)
	}
	if _, err := tx.Append(ctx, audit.Event{Actor: audit.ActorSystem, Action: audit.ActionStatusBatch, Subject: subject,
		Data: audit.MustData(map[string]any{"count": len(updates), "why": why, "updates": ids})}); err != nil {
		return 0, err
	}
	return tx.SetStatuses(ctx, subject, updates)
}

func addScreening(ctx context.Context, tx store.Tx, sc *store.Screening) error {
	if _, err := tx.Append(ctx, auditScreening(sc.Actor, sc)); err != nil {
		return err
	}
	return tx.AddScreening(ctx, sc)
}

// matchedRemoved reports whether the latest screening of a subject matched
// one of the removed entity ids.
func (c *Service) matchedRemoved(ctx context.Context, subject, id string, removed map[string]bool) bool {
	scs, err := c.s.Screenings(ctx, subject, id, 1)
	if err != nil || len(scs) == 0 {
		return false
	}
	var ms []struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(scs[0].Matches, &ms) != nil {
		return false
	}
	for _, m := range ms {
		if removed[m.ID] {
			return true
		}
	}
	return false
}
