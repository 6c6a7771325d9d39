package compliance

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"testing"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/store"
)

func TestReportsCasesDecisions(t *testing.T) {
	scr := sharedScreening(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			c := newService(t, s, scr, "")
			acc, err := c.CreateAccount(ctx, AccountInput{Name: "Quiet Meadow Bakery"}, "tok")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := json.Marshal(map[string]any{"account_id": acc.ID, "host": "www.quietmeadow.example",
				"aliases": []string{"quietmeadow.example"}, "origins": []string{"http://127.0.0.1:9"}})
			z, err := c.CreateZone(ctx, body, "tok")
			if err != nil {
				t.Fatal(err)
			}
			rp := NewReporter(c, config.ComplianceReports{})
			ip := netip.MustParseAddr("192.0.2.7")
			in := ReportInput{Host: "quietmeadow.example", Category: "sanctions", Description: "sells goods of a listed company"}
			c1, _, err := rp.File(ctx, in, ip)
			if err != nil {
				t.Fatal(err)
			}
			c2, _, err := rp.File(ctx, in, netip.MustParseAddr("198.51.100.8")) // another network: not folded into the first
			if err != nil {
				t.Fatal(err)
			}
			if c1.ID != c2.ID || c2.ReportCount != 2 || c1.ZoneID != z.ID || c1.Host != "www.quietmeadow.example" {
				t.Fatalf("cases %+v / %+v: want one case for the zone with 2 reports", c1, c2)
			}
			// The per-IP limit: 5 a minute with burst 5 lets 6 through at most.
			limited := false
			for range 10 {
				if _, _, err := rp.File(ctx, in, ip); errors.Is(err, ErrRateLimited) {
					limited = true
					break
				}
			}
			if !limited {
				t.Error("no rate limit after 11 reports from one IP")
			}
			if _, _, err := c.Decide(ctx, c1.ID, "suspend", "  ", "tok2"); !errors.Is(err, ErrInvalid) {
				t.Errorf("empty reason: %v", err)
			}
			if _, _, err := c.Decide(ctx, c1.ID, "ban", "x", "tok2"); !errors.Is(err, ErrInvalid) {
				t.Errorf("bad action: %v", err)
			}
			if _, _, err := c.Decide(ctx, c1.ID, "reinstate", "x", "tok2"); !errors.Is(err, store.ErrConflict) {
				t.Errorf("reinstate an open case: %v", err)
			}
			if _, _, err := c.Decide(ctx, "case_nope", "suspend", "x", "tok2"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("unknown case: %v", err)
			}
			if _, _, err := c.Decide(ctx, c1.ID, "suspend", "confirmed: listed owner", "tok2"); err != nil {
				t.Fatal(err)
			}
			for _, h := range []string{"www.quietmeadow.example", "quietmeadow.example"} {
				st, ok := c.ZoneState(h)
				if !ok || st.Status != store.ZoneSuspended || st.CaseID != c1.ID || st.Category != "sanctions" {
					t.Errorf("state of %s after suspend = %+v", h, st)
				}
			}
			tl, err := c.CaseTimeline(ctx, c1.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(tl.Reports) < 2 || len(tl.Decisions) != 1 || tl.KnownSince == "" || len(tl.Screenings) != 1 || len(tl.Events) < 5 {
				t.Errorf("timeline %+v", tl)
			}
			if _, _, err := c.Decide(ctx, c1.ID, "reinstate", "owner changed", "tok2"); err != nil {
				t.Fatal(err)
			}
			if st, _ := c.ZoneState("www.quietmeadow.example"); st.Status != store.ZoneActive {
				t.Errorf("state after reinstate = %+v", st)
			}
		})
	}
}

// TestReviewClearedByDismiss: a zone held in review by the gate gets a
// case; dismissing it clears the zone, suspending another keeps it off.
func TestReviewClearedByDismiss(t *testing.T) {
	scr := sharedScreening(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			c := newService(t, s, scr, "")
			acc, err := c.CreateAccount(ctx, AccountInput{Name: "Bank Maskan"}, "tok")
			if err != nil || acc.Status != store.AccountReview {
				t.Fatalf("%+v %v", acc, err)
			}
			mk := func(host string) ZoneResult {
				body, _ := json.Marshal(map[string]any{"account_id": acc.ID, "host": host, "origins": []string{"http://127.0.0.1:9"}})
				z, err := c.CreateZone(ctx, body, "tok")
				if err != nil || z.Status != store.ZoneReview || z.CaseID == "" {
					t.Fatalf("zone %s: %+v %v", host, z, err)
				}
				return z
			}
			z1, z2 := mk("one.example"), mk("two.example")
			if _, _, err := c.Decide(ctx, z1.CaseID, "dismiss", "false positive: a bakery", "tok2"); err != nil {
				t.Fatal(err)
			}
			if st, _ := c.ZoneState("one.example"); st.Status != store.ZoneActive {
				t.Errorf("after dismiss: %+v", st)
			}
			if _, _, err := c.Decide(ctx, z2.CaseID, "suspend", "confirmed", "tok2"); err != nil {
				t.Fatal(err)
			}
			if st, _ := c.ZoneState("two.example"); st.Status != store.ZoneSuspended || st.CaseID != z2.CaseID {
				t.Errorf("after suspend: %+v", st)
			}
		})
	}
}
