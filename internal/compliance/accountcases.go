package compliance

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/store"
)

// Every hold becomes work (issue 15): an account held in review opens a
// case just as a zone in review does, so that the case queue shows both.
// A case has a host, not an account; an account's case takes the host
// AccountCasePrefix + the account id, which no zone can have (hosts have
// no colon), and no zone id. Its decisions are the account's:
//
//	dismiss   → clear the account (review → active)
//	suspend   → block the account (its zones are suspended)
//	reinstate → clear a blocked account
//
// and an account decision taken on the account itself (POST
// /v1/accounts/{id}/decision) closes or reopens its case in the same
// transaction. A hold that a re-screening puts on an account opens (or
// joins) its case too, in the re-screening's transaction (rescreen.go).

// AccountCasePrefix starts the host of an account's case.
const AccountCasePrefix = "account:"

// AccountCaseHost is the host of the case of account id.
func AccountCaseHost(id string) string { return AccountCasePrefix + id }

// AccountOfCase returns the account id of an account's case.
func AccountOfCase(cs store.Case) (string, bool) {
	id, ok := strings.CutPrefix(cs.Host, AccountCasePrefix)
	return id, ok && id != ""
}

// openAccountCaseTx opens the case of an account held in review, or
// returns its active case, in tx.
func openAccountCaseTx(ctx context.Context, tx store.Tx, acc store.Account, summary, actor string) (store.Case, error) {
	host := AccountCaseHost(acc.ID)
	cs, err := tx.FindActiveCase(ctx, host, store.CategorySanctions)
	if err == nil {
		return cs, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return store.Case{}, err
	}
	now := store.Now()
	cs = store.Case{ID: store.NewID("case"), Host: host, Category: store.CategorySanctions, Status: store.CaseOpen,
		Origin: store.OriginScreening, Summary: summary, Opened: now, LastReport: now}
	if _, err := tx.Append(ctx, audit.Event{Actor: actor, Action: audit.ActionCaseOpen, Subject: "case:" + cs.ID,
		Data: audit.MustData(map[string]any{"host": host, "category": cs.Category, "origin": cs.Origin, "account_id": acc.ID, "summary": summary})}); err != nil {
		return store.Case{}, err
	}
	return cs, tx.CreateCase(ctx, &cs)
}

// followAccountCaseTx records on the account's active case the decision
// that follows an account decision: clear dismisses an open case and
// reinstates a suspended one, block suspends it; review opens one. An
// account without an active case is left alone (except for review).
func followAccountCaseTx(ctx context.Context, tx store.Tx, acc store.Account, accAction, reason, actor string) error {
	if accAction == AccountHold {
		_, err := openAccountCaseTx(ctx, tx, acc, "account review: "+reason, actor)
		return err
	}
	cs, err := tx.FindActiveCase(ctx, AccountCaseHost(acc.ID), store.CategorySanctions)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var action, next string
	switch {
	case accAction == AccountClear && cs.Status == store.CaseOpen:
		action, next = store.ActionDismiss, store.CaseDismissed
	case accAction == AccountClear && cs.Status == store.CaseSuspended:
		action, next = store.ActionReinstate, store.CaseReinstated
	case accAction == AccountBlock && cs.Status != store.CaseSuspended:
		action, next = store.ActionSuspend, store.CaseSuspended
	default:
		return nil
	}
	d := store.Decision{ID: store.NewID("dec"), CaseID: cs.ID, Action: action, Reason: reason, Actor: actor, Created: store.Now()}
	if _, err := tx.Append(ctx, audit.Event{Actor: actor, Action: audit.ActionCaseDecision, Subject: "case:" + cs.ID,
		Data: audit.MustData(map[string]any{"decision_id": d.ID, "action": action, "reason": reason, "account_id": acc.ID})}); err != nil {
		return err
	}
	if err := tx.AddDecision(ctx, &d); err != nil {
		return err
	}
	cs.Status, cs.DecidedAt, cs.DecisionAction, cs.DecisionReason, cs.DecidedBy = next, d.Created, action, reason, actor
	return tx.UpdateCase(ctx, &cs)
}

// openAccountCase opens the case of an account the gate held in review.
func (c *Service) openAccountCase(ctx context.Context, acc store.Account, reasons []string, actor string) error {
	return c.s.Tx(ctx, func(tx store.Tx) error {
		if err := tx.LockWrites(ctx); err != nil {
			return err
		}
		_, err := openAccountCaseTx(ctx, tx, acc, "onboarding review: "+joinReasons(reasons), actor)
		return err
	})
}

// decideAccountCase takes a case decision on an account's case as the
// matching account decision (see the mapping above), which records the
// case decision in its transaction.
func (c *Service) decideAccountCase(ctx context.Context, cs store.Case, accID, action, reason, actor string) (store.Case, store.Decision, error) {
	var accAction string
	switch {
	case action == store.ActionDismiss && cs.Status == store.CaseOpen, action == store.ActionReinstate && cs.Status == store.CaseSuspended:
		accAction = AccountClear
	case action == store.ActionSuspend && cs.Status != store.CaseSuspended:
		accAction = AccountBlock
	default:
		return store.Case{}, store.Decision{}, fmt.Errorf("deciding case %s: %w: cannot %s a case that is %s", cs.ID, store.ErrConflict, action, cs.Status)
	}
	if _, err := c.DecideAccount(ctx, accID, accAction, reason, actor); err != nil {
		if !errors.Is(err, store.ErrConflict) {
			return store.Case{}, store.Decision{}, err
		}
		// The account already has the status (decided on its own page):
		// record the case decision alone.
		return c.decide(ctx, cs.ID, action, reason, actor)
	}
	got, err := c.s.GetCase(ctx, cs.ID)
	if err != nil {
		return store.Case{}, store.Decision{}, err
	}
	ds, err := c.s.Decisions(ctx, cs.ID)
	if err != nil || len(ds) == 0 {
		return got, store.Decision{}, err
	}
	last := ds[0]
	for _, d := range ds {
		if d.Created.After(last.Created) {
			last = d
		}
	}
	return got, last, nil
}
