package compliance

import (
	"context"
	"testing"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/store"
)

// TestAccountInReviewOpensCase: an account the gate holds in review opens
// a case (origin screening) in the queue; deciding the case decides the
// account (suspend blocks it, reinstate clears it), and an account
// decision taken on the account closes or reopens its case.
func TestAccountInReviewOpensCase(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testAccountInReviewOpensCase(t, b.open(t)) })
	}
}

func testAccountInReviewOpensCase(t *testing.T, s store.Store) {
	svc := newService(t, s, sharedScreening(t), config.OnHitReview)
	ctx := context.Background()
	res, err := svc.CreateAccount(ctx, AccountInput{Name: "Bank Maskan", Kind: "organization"}, "tok_test")
	if err != nil || res.Status != store.AccountReview {
		t.Fatalf("held account: %+v %v", res, err)
	}
	cs, err := s.FindActiveCase(ctx, AccountCaseHost(res.ID), store.CategorySanctions)
	if err != nil || cs.Origin != store.OriginScreening || cs.Status != store.CaseOpen || cs.ZoneID != "" {
		t.Fatalf("account case: %+v %v", cs, err)
	}
	if id, ok := AccountOfCase(cs); !ok || id != res.ID {
		t.Fatalf("AccountOfCase = %q %v", id, ok)
	}
	queue, _ := s.ListCases(ctx, store.CaseFilter{Status: store.CaseOpen})
	if len(queue) != 1 || queue[0].ID != cs.ID {
		t.Fatalf("queue: %+v", queue)
	}
	// A clean account opens none.
	clean, _ := svc.CreateAccount(ctx, AccountInput{Name: "Plain Bakery Ltd", Kind: "organization"}, "tok_test")
	if _, err := s.FindActiveCase(ctx, AccountCaseHost(clean.ID), store.CategorySanctions); err == nil {
		t.Fatal("a clean account opened a case")
	}

	// Suspend the case: the account is blocked.
	got, d, err := svc.Decide(ctx, cs.ID, store.ActionSuspend, "confirmed match", "tok_officer")
	if err != nil || got.Status != store.CaseSuspended || d.Action != store.ActionSuspend || d.Actor != "tok_officer" {
		t.Fatalf("suspend: %+v %+v %v", got, d, err)
	}
	if a, _ := s.GetAccount(ctx, res.ID); a.Status != store.AccountBlocked {
		t.Fatalf("account after suspend: %s", a.Status)
	}
	// Reinstate: the account is active again.
	if got, _, err = svc.Decide(ctx, cs.ID, store.ActionReinstate, "false positive after review", "tok_officer"); err != nil || got.Status != store.CaseReinstated {
		t.Fatalf("reinstate: %+v %v", got, err)
	}
	if a, _ := s.GetAccount(ctx, res.ID); a.Status != store.AccountActive {
		t.Fatalf("account after reinstate: %s", a.Status)
	}
	// A review decision on the account opens a new case; clearing the
	// account dismisses it.
	if _, err := svc.DecideAccount(ctx, res.ID, AccountHold, "new evidence", "tok_officer"); err != nil {
		t.Fatal(err)
	}
	cs2, err := s.FindActiveCase(ctx, AccountCaseHost(res.ID), store.CategorySanctions)
	if err != nil || cs2.ID == cs.ID || cs2.Status != store.CaseOpen {
		t.Fatalf("case after review: %+v %v", cs2, err)
	}
	if _, err := svc.DecideAccount(ctx, res.ID, AccountClear, "evidence checked", "tok_officer"); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.GetCase(ctx, cs2.ID); c.Status != store.CaseDismissed || c.DecidedBy != "tok_officer" {
		t.Fatalf("case after clearing the account: %+v", c)
	}
	// A case decision the status does not allow is a conflict.
	if _, _, err := svc.Decide(ctx, cs2.ID, store.ActionReinstate, "x", "tok_officer"); err == nil {
		t.Fatal("reinstating a dismissed account case was allowed")
	}
}
