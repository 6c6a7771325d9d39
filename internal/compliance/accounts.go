package compliance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/store"
)

// Account decision actions (POST /v1/accounts/{id}/decision).
const (
	// AccountClear makes an account active; its zones held only because
	// of the account (in review or suspended) become active too.
	AccountClear = "clear"
	// AccountBlock blocks an account; its active zones (and those in
	// review only because of the account) are suspended: not served.
	AccountBlock = "block"
	// AccountHold puts an account in review; its active zones go to
	// review (not served) until the account is cleared.
	AccountHold = "review"
)

// ZoneChange is one zone whose status followed its account.
type ZoneChange struct {
	ID   string `json:"id"`
	Host string `json:"host"`
	From string `json:"from"`
	To   string `json:"to"`
}

// AccountDecision is the outcome of DecideAccount.
type AccountDecision struct {
	Account store.Account `json:"account"`
	Action  string        `json:"action"`
	Reason  string        `json:"reason"`
	Zones   []ZoneChange  `json:"zones"`
}

// accountReason is the zone reason recorded when a zone's status follows
// its account; the account_id key marks the zone as held by the account
// only, so that clearing the account releases it.
func accountReason(accID, accStatus, why string) json.RawMessage {
	r := map[string]string{"account_id": accID, "reason": "account " + accID + " is " + accStatus}
	if accStatus == store.AccountBlocked {
		r["category"] = store.CategorySanctions
		r["reason"] = "account " + accID + " is blocked"
	} else if accStatus == store.AccountReview {
		r["reason"] = "account " + accID + " is in review"
	}
	if why != "" {
		r["reason"] += ": " + why
	}
	return mustJSON([]map[string]string{r})
}

// heldByAccount reports whether every reason of z is its account's status:
// a string "account ID is in review" / "account ID is blocked" written by
// the zone gate, or an object with "account_id" ID written when the zone
// followed its account.
func heldByAccount(z store.Zone, accID string) bool {
	var rs []any
	if json.Unmarshal(z.Reasons, &rs) != nil || len(rs) == 0 {
		return false
	}
	for _, r := range rs {
		switch v := r.(type) {
		case string:
			if v != "account "+accID+" is in review" && v != "account "+accID+" is blocked" {
				return false
			}
		case map[string]any:
			if id, _ := v["account_id"].(string); id != accID {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// followAccount is the status a zone takes when its account becomes
// accStatus, and whether it changes: review holds active zones in review;
// blocked suspends active zones and zones held by the account; active
// releases zones held (in review or suspended) only by the account.
// Zones rejected, or held by a case or their own screening, are left.
func followAccount(z store.Zone, accStatus string) (string, bool) {
	switch accStatus {
	case store.AccountReview:
		if z.Status == store.ZoneActive {
			return store.ZoneReview, true
		}
	case store.AccountBlocked:
		if z.Status == store.ZoneActive || (z.Status == store.ZoneReview && heldByAccount(z, z.AccountID)) {
			return store.ZoneSuspended, true
		}
	case store.AccountActive:
		if (z.Status == store.ZoneReview || z.Status == store.ZoneSuspended) && heldByAccount(z, z.AccountID) {
			return store.ZoneActive, true
		}
	}
	return "", false
}

// DecideAccount is a compliance decision on an account: clear (→ active),
// block (→ blocked) or review (→ review), with a mandatory reason. The
// account, its zones that follow it (see followAccount) and the audit
// entries (account.update with actor, action and reason; zone.update per
// zone) are one transaction. Deciding the status the account already has
// is ErrConflict. Clearing also dismisses the onboarding case of a zone
// the gate held in review only because of the account.
func (c *Service) DecideAccount(ctx context.Context, id, action, reason, actor string) (AccountDecision, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return AccountDecision{}, invalid("reason: required")
	}
	var next string
	switch action {
	case AccountClear:
		next = store.AccountActive
	case AccountBlock:
		next = store.AccountBlocked
	case AccountHold:
		next = store.AccountReview
	default:
		return AccountDecision{}, invalid("action: %q is not clear, block or review", action)
	}
	var out AccountDecision
	err := c.s.Tx(ctx, func(tx store.Tx) error {
		out = AccountDecision{Action: action, Reason: reason, Zones: []ZoneChange{}}
		if err := tx.LockWrites(ctx); err != nil {
			return err
		}
		a, err := tx.GetAccount(ctx, id)
		if err != nil {
			return err
		}
		if a.Status == next {
			return fmt.Errorf("%w: account %s is already %s", store.ErrConflict, id, next)
		}
		from := a.Status
		a.Status = next
		if _, err := tx.Append(ctx, audit.Event{Actor: actor, Action: audit.ActionAccountUpdate, Subject: "account:" + id,
			Data: audit.MustData(map[string]any{"decision": action, "reason": reason, "from": from, "status": next})}); err != nil {
			return err
		}
		if err := tx.UpdateAccount(ctx, &a); err != nil {
			return err
		}
		// The account's case follows (accountcases.go).
		if err := followAccountCaseTx(ctx, tx, a, action, reason, actor); err != nil {
			return err
		}
		out.Account = a
		zones, err := accountZones(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, z := range zones {
			to, ok := followAccount(z, next)
			if !ok {
				continue
			}
			out.Zones = append(out.Zones, ZoneChange{ID: z.ID, Host: z.Host, From: z.Status, To: to})
			z.Status = to
			if to == store.ZoneActive {
				z.Reasons = json.RawMessage(`[]`)
			} else {
				z.Reasons = accountReason(id, next, reason)
			}
			if _, err := tx.Append(ctx, auditZone(actor, audit.ActionZoneUpdate, z)); err != nil {
				return err
			}
			if err := tx.UpdateZone(ctx, &z); err != nil {
				return err
			}
			if to == store.ZoneActive {
				if err := dismissOnboardingCase(ctx, tx, z, id, reason, actor); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return AccountDecision{}, fmt.Errorf("deciding account %s: %w", id, err)
	}
	if len(out.Zones) > 0 {
		c.changed(ctx)
	}
	return out, nil
}

// accountZones lists every zone of an account inside tx.
func accountZones(ctx context.Context, tx store.Tx, accID string) ([]store.Zone, error) {
	var out []store.Zone
	for off := 0; ; off += 1000 {
		zs, err := tx.ListZones(ctx, store.ZoneFilter{AccountID: accID, Limit: 1000, Offset: off})
		if err != nil {
			return nil, err
		}
		out = append(out, zs...)
		if len(zs) < 1000 {
			return out, nil
		}
	}
}

// dismissOnboardingCase closes the case the zone gate opened for z when it
// held the zone in review only because its account was in review (see
// createZone), now that clearing the account released the zone: a
// dismiss decision by actor, with a case.decision audit entry.
func dismissOnboardingCase(ctx context.Context, tx store.Tx, z store.Zone, accID, reason, actor string) error {
	cs, err := tx.FindActiveCase(ctx, z.Host, store.CategorySanctions)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if cs.Status != store.CaseOpen || cs.Origin != store.OriginScreening || cs.ZoneID != z.ID ||
		cs.Summary != "onboarding review: account "+accID+" is in review" {
		return nil
	}
	why := "account " + accID + " cleared: " + reason
	d := store.Decision{ID: store.NewID("dec"), CaseID: cs.ID, Action: store.ActionDismiss, Reason: why, Actor: actor, Created: store.Now()}
	if _, err := tx.Append(ctx, audit.Event{Actor: actor, Action: audit.ActionCaseDecision, Subject: "case:" + cs.ID,
		Data: audit.MustData(map[string]any{"decision_id": d.ID, "action": d.Action, "reason": why})}); err != nil {
		return err
	}
	if err := tx.AddDecision(ctx, &d); err != nil {
		return err
	}
	cs.Status, cs.DecidedAt, cs.DecisionAction, cs.DecisionReason, cs.DecidedBy = store.CaseDismissed, d.Created, d.Action, why, actor
	return tx.UpdateCase(ctx, &cs)
}
