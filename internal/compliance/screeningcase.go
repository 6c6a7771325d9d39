package compliance

import (
	"context"
	"errors"
	"fmt"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/store"
)

// openScreeningCase is the screening-case workflow, the only one (the
// onboarding gate's review, the re-screening's hits, the conformance
// suite): inside tx, it returns the host's active case of category, or
// opens one (origin screening, with a case.open audit entry). The caller
// holds the store's write lock (tx.LockWrites or an earlier Append), so two
// of them cannot both open one.
func openScreeningCase(ctx context.Context, tx store.Tx, zoneID, host, category, summary, actor string) (store.Case, error) {
	cs, err := tx.FindActiveCase(ctx, host, category)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return cs, err
	}
	now := store.Now()
	cs = store.Case{ID: store.NewID("case"), ZoneID: zoneID, Host: host, Category: category, Status: store.CaseOpen,
		Origin: store.OriginScreening, Summary: summary, Opened: now, LastReport: now}
	if _, err := tx.Append(ctx, audit.Event{Actor: actor, Action: audit.ActionCaseOpen, Subject: "case:" + cs.ID,
		Data: audit.MustData(map[string]any{"host": host, "category": category, "origin": cs.Origin, "zone_id": zoneID, "summary": summary})}); err != nil {
		return store.Case{}, err
	}
	return cs, tx.CreateCase(ctx, &cs)
}

// OpenScreeningCase runs openScreeningCase in a transaction of its own.
func OpenScreeningCase(ctx context.Context, s store.Store, zoneID, host, category, summary, actor string) (store.Case, error) {
	var cs store.Case
	err := s.Tx(ctx, func(tx store.Tx) error {
		if err := tx.LockWrites(ctx); err != nil {
			return err
		}
		var err error
		cs, err = openScreeningCase(ctx, tx, zoneID, host, category, summary, actor)
		return err
	})
	if err != nil {
		return store.Case{}, fmt.Errorf("opening screening case for %s: %w", host, err)
	}
	return cs, nil
}
