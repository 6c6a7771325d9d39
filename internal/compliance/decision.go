package compliance

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/store"
)

// decide records a decision; see RecordDecision.
func (c *Service) decide(ctx context.Context, caseID, action, reason, actor string) (store.Case, store.Decision, error) {
	return RecordDecision(ctx, c.s, caseID, action, reason, actor)
}

// RecordDecision is the decision workflow, the only one (what the admin
// API's decisions, the conformance and the kill -9 crash suites run): in
// one transaction, the decision row, the case's status and decision
// fields, the zone's status (suspend → suspended, reinstate → active;
// dismissing the case of a zone the gate holds in review clears it,
// review → active) and the case.decision audit entry (plus zone.update
// when the zone changes) commit together or not at all. The reason is
// mandatory. Allowed moves: dismiss an open case; suspend a case that is
// not suspended; reinstate a suspended one; any other is
// store.ErrConflict. Nodes sharing the store apply it at their next sync
// (the store's state version).
func RecordDecision(ctx context.Context, s store.Store, caseID, action, reason, actor string) (store.Case, store.Decision, error) {
	d := store.Decision{ID: store.NewID("dec"), CaseID: caseID, Action: action, Reason: reason, Actor: actor}
	if err := store.ValidateDecision(&d); err != nil {
		return store.Case{}, store.Decision{}, fmt.Errorf("deciding case %s: %w", caseID, err)
	}
	var cs store.Case
	err := s.Tx(ctx, func(tx store.Tx) error {
		if _, err := tx.Append(ctx, audit.Event{Actor: actor, Action: audit.ActionCaseDecision, Subject: "case:" + caseID,
			Data: audit.MustData(map[string]any{"decision_id": d.ID, "action": action, "reason": reason})}); err != nil {
			return err
		}
		var err error
		if cs, err = tx.GetCase(ctx, caseID); err != nil {
			return err
		}
		var next, zoneStatus string
		switch {
		case action == store.ActionDismiss && cs.Status == store.CaseOpen:
			next = store.CaseDismissed
		case action == store.ActionSuspend && cs.Status != store.CaseSuspended:
			next, zoneStatus = store.CaseSuspended, store.ZoneSuspended
		case action == store.ActionReinstate && cs.Status == store.CaseSuspended:
			next, zoneStatus = store.CaseReinstated, store.ZoneActive
		default:
			return fmt.Errorf("%w: cannot %s a case that is %s", store.ErrConflict, action, cs.Status)
		}
		d.Created = store.Now()
		if err := tx.AddDecision(ctx, &d); err != nil {
			return err
		}
		cs.Status, cs.DecidedAt, cs.DecisionAction, cs.DecisionReason, cs.DecidedBy = next, d.Created, action, reason, actor
		if err := tx.UpdateCase(ctx, &cs); err != nil {
			return err
		}
		if cs.ZoneID == "" {
			return nil
		}
		z, err := tx.GetZone(ctx, cs.ZoneID)
		if err != nil {
			return err
		}
		// decision and decided_at mark a status set by a decision: a
		// newer decision on a zone wins over the suspension of a zone
		// above it (cover.go).
		at := d.Created.UTC().Format(time.RFC3339Nano)
		reasons := []map[string]string{}
		switch {
		case zoneStatus == store.ZoneSuspended:
			reasons = append(reasons, map[string]string{"case_id": cs.ID, "category": cs.Category, "reason": reason,
				"decision": action, "decided_at": at})
		case zoneStatus == store.ZoneActive:
			reasons = append(reasons, map[string]string{"case_id": cs.ID, "reason": "reinstated: " + reason,
				"decision": action, "decided_at": at})
		case action == store.ActionDismiss && z.Status == store.ZoneReview && cs.Origin == store.OriginScreening:
			zoneStatus = store.ZoneActive // cleared by a compliance user
			reasons = append(reasons, map[string]string{"case_id": cs.ID, "reason": "cleared: " + reason,
				"decision": action, "decided_at": at})
		default:
			return nil
		}
		z.Status = zoneStatus
		z.Reasons, _ = json.Marshal(reasons)
		if _, err := tx.Append(ctx, auditZone(actor, audit.ActionZoneUpdate, z)); err != nil {
			return err
		}
		return tx.UpdateZone(ctx, &z)
	})
	if err != nil {
		return store.Case{}, store.Decision{}, fmt.Errorf("deciding case %s: %w", caseID, err)
	}
	return cs, d, nil
}

// createZone stores a new zone with its screening, and for a zone the gate
// holds in review also opens the case a compliance user clears it through
// (dismiss) or suspends it by, all in one transaction.
func (c *Service) createZone(ctx context.Context, z *store.Zone, sc *store.Screening, reasons []string, actor string) (caseID string, err error) {
	if z.ID == "" {
		z.ID = store.NewID("zone")
	}
	sc.ID, sc.SubjectType, sc.SubjectID, sc.Actor, sc.Created = store.NewID("scr"), store.SubjectZone, z.ID, actor, store.Now()
	zone := *z
	err = c.s.Tx(ctx, func(tx store.Tx) error {
		zone, caseID = *z, ""
		if err := tx.LockWrites(ctx); err != nil {
			return err
		}
		if _, err := tx.Append(ctx, auditZone(actor, audit.ActionZoneCreate, zone)); err != nil {
			return err
		}
		if err := tx.CreateZone(ctx, &zone); err != nil {
			return err
		}
		scr := *sc
		if err := addScreening(ctx, tx, &scr); err != nil {
			return err
		}
		if zone.Status != store.ZoneReview {
			return nil
		}
		cs, err := openScreeningCase(ctx, tx, zone.ID, zone.Host, store.CategorySanctions, "onboarding review: "+joinReasons(reasons), actor)
		caseID = cs.ID
		return err
	})
	if err != nil {
		return "", fmt.Errorf("creating zone %s with screening: %w", z.Host, err)
	}
	*z = zone
	return caseID, nil
}

func joinReasons(rs []string) string {
	out := ""
	for i, r := range rs {
		if i > 0 {
			out += "; "
		}
		out += r
	}
	return out
}
