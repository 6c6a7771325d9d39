package compliance

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store"
)

// TestRescreenRealUpdate imports the 2023-12-28 OFAC SDN list, onboards
// accounts and zones named after entities the 2024-05-03 publication adds
// (plus clean ones), imports the 2024 list and checks that exactly those
// are hit, with cases for the zones.
func TestRescreenRealUpdate(t *testing.T) {
	for _, b := range backends {
		for _, onHit := range []string{config.OnHitReview, config.OnHitSuspend} {
			t.Run(b.name+"/"+onHit, func(t *testing.T) {
				ctx := context.Background()
				ls, err := lists.Open("", []string{ofac2023})
				if err != nil {
					t.Fatal(err)
				}
				scr := screening.NewService(ls, 0)
				s := b.open(t)
				c := newService(t, s, scr, onHit)
				var reports []RescreenReport
				ls.Subscribe(func(_, cur *lists.Snapshot, res []lists.ImportResult) {
					rep, err := c.Rescreen(ctx, cur, res)
					if err != nil {
						t.Errorf("rescreen: %v", err)
					}
					reports = append(reports, rep)
				})
				mkAcc := func(name, kind string) string {
					res, err := c.CreateAccount(ctx, AccountInput{Name: name, Kind: kind}, "tok")
					if err != nil || res.Status != store.AccountActive {
						t.Fatalf("onboarding %q before the update: %+v %v", name, res, err)
					}
					return res.ID
				}
				// The 2024 file has primary records only, so most entities
				// of the full 2023 set "change" (their aliases are gone):
				// the re-screen covers added + changed ids.
				// Added on 2024-05-03: ofac-sdn 45230 SOCIAL DESIGN AGENCY
				// (sp-agency.ru), 45229 TUPIKIN, Nikolai Aleksandrovich,
				// 45231 COMPANY GROUP STRUCTURA LLC (structura.pro).
				hitAcc1 := mkAcc("Social Design Agency", "organization")
				hitAcc2 := mkAcc("Nikolai Aleksandrovich Tupikin", "person")
				clean1 := mkAcc("Quiet Meadow Bakery", "organization")
				clean2 := mkAcc("Johanna Vermeulen-Smit", "person")
				mkZone := func(acc, host string) string {
					body, _ := json.Marshal(map[string]any{"account_id": acc, "host": host, "origins": []string{"http://127.0.0.1:9"}})
					res, err := c.CreateZone(ctx, body, "tok")
					if err != nil || res.Status != store.ZoneActive {
						t.Fatalf("zone %s before the update: %+v %v", host, res, err)
					}
					return res.ID
				}
				hitZone1 := mkZone(clean1, "www.sp-agency.ru")
				hitZone2 := mkZone(clean1, "shop.structura.pro")
				cleanZone := mkZone(clean1, "www.quietmeadow.example")
				_ = clean2

				res, err := ls.ImportWith(forced2024, ofac2024)
				if err != nil {
					t.Fatal(err)
				}
				if len(res) != 1 || len(res[0].Diff.Added) != 1256 {
					t.Fatalf("import results %+v", res)
				}
				if len(reports) != 1 {
					t.Fatalf("%d re-screenings, want 1", len(reports))
				}
				rep := reports[0]
				if rep.Changed != len(res[0].Diff.Added)+len(res[0].Diff.Changed) || rep.AccountsScreened != 4 || rep.ZonesScreened != 3 {
					t.Errorf("report %+v", rep)
				}
				slices.Sort(rep.AccountHits)
				wantAcc := []string{hitAcc1, hitAcc2}
				slices.Sort(wantAcc)
				if !slices.Equal(rep.AccountHits, wantAcc) {
					t.Errorf("account hits %v, want %v", rep.AccountHits, wantAcc)
				}
				slices.Sort(rep.ZoneHits)
				wantZones := []string{hitZone1, hitZone2}
				slices.Sort(wantZones)
				if !slices.Equal(rep.ZoneHits, wantZones) {
					t.Errorf("zone hits %v, want %v", rep.ZoneHits, wantZones)
				}
				for id, want := range map[string]string{hitAcc1: store.AccountReview, hitAcc2: store.AccountReview, clean1: store.AccountActive, clean2: store.AccountActive} {
					if a, _ := s.GetAccount(ctx, id); a.Status != want {
						t.Errorf("account %s (%s) = %s, want %s", id, a.Name, a.Status, want)
					}
				}
				wantZone := store.ZoneActive
				if onHit == config.OnHitSuspend {
					wantZone = store.ZoneSuspended
				}
				for _, id := range wantZones {
					z, _ := s.GetZone(ctx, id)
					if z.Status != wantZone {
						t.Errorf("zone %s = %s, want %s", z.Host, z.Status, wantZone)
					}
					st, _ := c.ZoneState(z.Host)
					if st.Status != wantZone || st.CaseID == "" {
						t.Errorf("edge state of %s = %+v", z.Host, st)
					}
				}
				if z, _ := s.GetZone(ctx, cleanZone); z.Status != store.ZoneActive {
					t.Errorf("clean zone = %s", z.Status)
				}
				// A zone a re-screening suspended covers the names below
				// it, as one a decision suspended does (cover.go).
				cov, covered := c.Suspension("shop.www.sp-agency.ru", "")
				if covered != (onHit == config.OnHitSuspend) || (covered && cov.ZoneID != hitZone1) {
					t.Errorf("shop.www.sp-agency.ru covered = %v by %+v", covered, cov)
				}
				// A case per zone hit and per account hit (every hold
				// becomes work, issue 15).
				cases, err := s.ListCases(ctx, store.CaseFilter{})
				if err != nil || len(cases) != 4 {
					t.Fatalf("cases = %+v, %v", cases, err)
				}
				var hosts []string
				for _, cs := range cases {
					hosts = append(hosts, cs.Host)
					if cs.Origin != store.OriginScreening || cs.Category != store.CategorySanctions {
						t.Errorf("case %+v", cs)
					}
				}
				for _, h := range []string{"www.sp-agency.ru", "shop.structura.pro", AccountCaseHost(hitAcc1), AccountCaseHost(hitAcc2)} {
					if !slices.Contains(hosts, h) {
						t.Errorf("no case for %s among %v", h, hosts)
					}
				}
				if len(reports[0].Cases) != 4 {
					t.Errorf("report cases %v, want 4", reports[0].Cases)
				}
				st := c.Stats()
				if st.Rescreens != 1 || st.AccountHits != 2 || st.ZoneHits != 2 {
					t.Errorf("stats %+v", st)
				}
			})
		}
	}
}

// TestRescreenAudited checks that an import is recorded in the audit log
// with its re-screening outcome, in the same transaction.
func TestRescreenAudited(t *testing.T) {
	ctx := context.Background()
	ls, err := lists.Open("", []string{ofac2023})
	if err != nil {
		t.Fatal(err)
	}
	s := backends[0].open(t)
	c := newService(t, s, screening.NewService(ls, 0), "")
	c.Subscribe(ls)
	if _, err := ls.ImportWith(forced2024, ofac2024); err != nil {
		t.Fatal(err)
	}
	found := false
	for e, err := range s.Entries(ctx, 1) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Action == "list.import" && e.Subject == "list:ofac-sdn" && strings.Contains(string(e.Data), `"added":1256`) {
			found = true
		}
	}
	if !found {
		t.Error("no list.import audit entry for the 2024 import")
	}
}

// TestRescreenAddress adds a listed entity whose street address is an
// active account's: the re-screen puts that account, and only it, in review.
func TestRescreenAddress(t *testing.T) {
	ctx := context.Background()
	ls, err := lists.Open("", []string{ofac2023})
	if err != nil {
		t.Fatal(err)
	}
	s := backends[0].open(t)
	c := newService(t, s, screening.NewService(ls, 0), "")
	same, err := c.CreateAccount(ctx, AccountInput{Name: "Quiet Meadow Logistics", Kind: "organization", Address: "Harbour Road 17, Exampletown, Netherlands"}, "tok1")
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.CreateAccount(ctx, AccountInput{Name: "Quiet Meadow Bakery", Kind: "organization", Address: "Harbour Road 17, Othertown, Netherlands"}, "tok1")
	if err != nil {
		t.Fatal(err)
	}
	if same.Status != store.AccountActive || other.Status != store.AccountActive {
		t.Fatalf("before the update: %s, %s; want both active", same.Status, other.Status)
	}
	cur := ls.Snapshot()
	added := entity.Entity{ID: "ofac-sdn:999001", Source: "ofac-sdn", List: "OFAC SDN", Kind: entity.Organization, Name: "LISTED FREIGHT CO",
		Names:     []entity.Name{{Full: "LISTED FREIGHT CO", Type: entity.Primary, Strength: entity.Strong}},
		Addresses: []entity.Address{{Street: "Harbour Road 17", City: "Exampletown 1234", Country: "Netherlands"}}}
	next := &lists.Snapshot{Versions: cur.Versions, Entities: append(slices.Clone(cur.Entities), added)}
	if _, err := c.Rescreen(ctx, next, []lists.ImportResult{{Diff: lists.Diff{Added: []string{added.ID}}}}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{same.ID: store.AccountReview, other.ID: store.AccountActive} {
		a, err := s.GetAccount(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != want {
			t.Errorf("account %s (%s) = %s after the update, want %s", id, a.Address, a.Status, want)
		}
	}
}
