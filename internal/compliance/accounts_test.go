package compliance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/store"
)

func mustZone(t *testing.T, s store.Store, accID, host, status, reasons string) string {
	t.Helper()
	z := store.Zone{AccountID: accID, Host: host, Aliases: json.RawMessage(`[]`), Origins: json.RawMessage(`[]`),
		Settings: json.RawMessage(`{}`), Status: status, Reasons: json.RawMessage(reasons), Source: store.SourceAPI}
	if err := s.CreateZone(context.Background(), &z); err != nil {
		t.Fatal(err)
	}
	return z.ID
}

func zoneStatus(t *testing.T, s store.Store, id string) string {
	t.Helper()
	z, err := s.GetZone(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return z.Status
}

// TestRescreenZonesFollowAccount re-screens an account named after a real
// listed entity: the account goes to review and its active zone with it,
// in the same transaction; a zone already suspended by a case is left.
// Clearing the account then releases the zone.
func TestRescreenZonesFollowAccount(t *testing.T) {
	scr, cur, results, ents, _ := crashUpdate()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			c := newService(t, s, scr, config.OnHitReview)
			acc := store.Account{ID: "acc_hit", Name: ents[0].Name, Kind: string(ents[0].Kind), Status: store.AccountActive, Screening: json.RawMessage(`{}`)}
			clean := store.Account{ID: "acc_clean", Name: "Quiet Meadow Bakery", Kind: store.KindOrganization, Status: store.AccountActive, Screening: json.RawMessage(`{}`)}
			if err := s.InsertAccounts(ctx, []store.Account{acc, clean}); err != nil {
				t.Fatal(err)
			}
			z1 := mustZone(t, s, acc.ID, "www.follow-one.example", store.ZoneActive, `[]`)
			z2 := mustZone(t, s, acc.ID, "www.follow-two.example", store.ZoneSuspended, `[{"case_id":"case_x","category":"abuse","reason":"abuse"}]`)
			z3 := mustZone(t, s, clean.ID, "www.quietmeadow.example", store.ZoneActive, `[]`)
			if err := c.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			rep, err := c.Rescreen(ctx, cur, results)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(rep.AccountHits, acc.ID) || slices.Contains(rep.AccountHits, clean.ID) {
				t.Fatalf("account hits %v", rep.AccountHits)
			}
			if !slices.Equal(rep.ZonesFollowed, []string{z1}) {
				t.Fatalf("zones followed %v, want [%s]", rep.ZonesFollowed, z1)
			}
			for id, want := range map[string]string{z1: store.ZoneReview, z2: store.ZoneSuspended, z3: store.ZoneActive} {
				if got := zoneStatus(t, s, id); got != want {
					t.Errorf("zone %s is %s, want %s", id, got, want)
				}
			}
			if st, _ := c.ZoneState("www.follow-one.example"); st.Status != store.ZoneReview {
				t.Errorf("edge state %+v, want review", st)
			}
			d, err := c.DecideAccount(ctx, acc.ID, AccountClear, "same name, different company: checked registry", "tok_c")
			if err != nil {
				t.Fatal(err)
			}
			if d.Account.Status != store.AccountActive || len(d.Zones) != 1 || d.Zones[0].ID != z1 || d.Zones[0].To != store.ZoneActive {
				t.Fatalf("decision %+v", d)
			}
			if got := zoneStatus(t, s, z2); got != store.ZoneSuspended {
				t.Errorf("zone suspended by a case is %s after clearing the account", got)
			}
			if st, _ := c.ZoneState("www.follow-one.example"); st.Status != store.ZoneActive {
				t.Errorf("edge state after clear %+v, want active", st)
			}
		})
	}
}

// TestDecideAccount covers the account decisions: validation, the zones
// that follow (gate review zones, active zones, suspensions by the
// account only) and the audit entry naming the token.
func TestDecideAccount(t *testing.T) {
	scr := sharedScreening(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			c := newService(t, s, scr, config.OnHitReview)
			a := store.Account{ID: "acc_d", Name: "Held Holdings", Kind: store.KindOrganization, Status: store.AccountReview, Screening: json.RawMessage(`{}`)}
			if err := s.InsertAccounts(ctx, []store.Account{a}); err != nil {
				t.Fatal(err)
			}
			gate := mustZone(t, s, a.ID, "gate.example", store.ZoneReview, `["account acc_d is in review"]`)
			own := mustZone(t, s, a.ID, "own.example", store.ZoneReview, `["host own.example is listed as a website of ofac-sdn-1 (X)"]`)
			rej := mustZone(t, s, a.ID, "rej.example", store.ZoneRejected, `["host rej.example is listed"]`)

			for _, tc := range []struct {
				name, action, reason string
				want                 error
			}{
				{"no reason", AccountClear, "  ", ErrInvalid},
				{"bad action", "approve", "ok", ErrInvalid},
				{"unknown account", AccountClear, "ok", store.ErrNotFound},
			} {
				t.Run(tc.name, func(t *testing.T) {
					id := a.ID
					if tc.name == "unknown account" {
						id = "acc_nope"
					}
					if _, err := c.DecideAccount(ctx, id, tc.action, tc.reason, "tok_c"); !errors.Is(err, tc.want) {
						t.Fatalf("error %v, want %v", err, tc.want)
					}
				})
			}
			if _, err := c.DecideAccount(ctx, a.ID, AccountHold, "again", "tok_c"); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("review of an account in review: %v, want conflict", err)
			}

			steps := []struct {
				action  string
				account string
				zones   map[string]string
			}{
				{AccountClear, store.AccountActive, map[string]string{gate: store.ZoneActive, own: store.ZoneReview, rej: store.ZoneRejected}},
				{AccountBlock, store.AccountBlocked, map[string]string{gate: store.ZoneSuspended, own: store.ZoneReview, rej: store.ZoneRejected}},
				{AccountHold, store.AccountReview, map[string]string{gate: store.ZoneSuspended, own: store.ZoneReview, rej: store.ZoneRejected}},
				{AccountClear, store.AccountActive, map[string]string{gate: store.ZoneActive, own: store.ZoneReview, rej: store.ZoneRejected}},
				{AccountHold, store.AccountReview, map[string]string{gate: store.ZoneReview, own: store.ZoneReview, rej: store.ZoneRejected}},
			}
			for i, st := range steps {
				t.Run(fmt.Sprintf("%d-%s", i, st.action), func(t *testing.T) {
					d, err := c.DecideAccount(ctx, a.ID, st.action, "step "+st.action, "tok_c")
					if err != nil {
						t.Fatal(err)
					}
					got, err := s.GetAccount(ctx, a.ID)
					if err != nil || got.Status != st.account || d.Account.Status != st.account {
						t.Fatalf("account %+v %v, want %s", got, err, st.account)
					}
					for id, want := range st.zones {
						if got := zoneStatus(t, s, id); got != want {
							t.Errorf("zone %s is %s, want %s", id, got, want)
						}
					}
				})
			}
			if st, _ := c.ZoneState("gate.example"); st.Status != store.ZoneReview {
				t.Errorf("edge state %+v, want review", st)
			}
			n := 0
			for e, err := range s.Entries(ctx, 0) {
				if err != nil {
					t.Fatal(err)
				}
				if e.Action == audit.ActionAccountUpdate && e.Subject == "account:"+a.ID {
					n++
					if e.Actor != "tok_c" {
						t.Errorf("audit actor %q", e.Actor)
					}
				}
			}
			if n != len(steps) {
				t.Errorf("%d account.update audit entries, want %d", n, len(steps))
			}
		})
	}
}

// TestClearReleasesGateZone onboards an account whose name matches a real
// listed entity (review) and a zone for it (held in review by the gate,
// with an onboarding case), then clears the account: the zone serves and
// the onboarding case is dismissed, with the decision by the token.
func TestClearReleasesGateZone(t *testing.T) {
	_, _, _, ents, _ := crashUpdate()
	full := sharedScreening(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			c := newService(t, s, full, config.OnHitReview)
			acc, err := c.CreateAccount(ctx, AccountInput{Name: ents[0].Name, Kind: string(ents[0].Kind)}, "tok_a")
			if err != nil || acc.Status != store.AccountReview {
				t.Fatalf("account %+v %v, want review", acc, err)
			}
			body, _ := json.Marshal(map[string]any{"account_id": acc.ID, "host": "www.gate-release.example", "origins": []string{"http://127.0.0.1:9"}})
			zr, err := c.CreateZone(ctx, body, "tok_a")
			if err != nil || zr.Status != store.ZoneReview || zr.CaseID == "" {
				t.Fatalf("zone %+v %v, want review with a case", zr, err)
			}
			d, err := c.DecideAccount(ctx, acc.ID, AccountClear, "different party: date of incorporation differs", "tok_c")
			if err != nil || len(d.Zones) != 1 || d.Zones[0].To != store.ZoneActive {
				t.Fatalf("decision %+v %v", d, err)
			}
			if st, _ := c.ZoneState("www.gate-release.example"); st.Status != store.ZoneActive {
				t.Errorf("edge state %+v, want active", st)
			}
			cs, err := s.GetCase(ctx, zr.CaseID)
			if err != nil || cs.Status != store.CaseDismissed || cs.DecidedBy != "tok_c" {
				t.Fatalf("onboarding case %+v %v, want dismissed by tok_c", cs, err)
			}
			ds, err := s.Decisions(ctx, zr.CaseID)
			if err != nil || len(ds) != 1 || ds[0].Action != store.ActionDismiss {
				t.Errorf("decisions %+v %v", ds, err)
			}
		})
	}
}
