package compliance

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store"
)

// BenchmarkOnboarding onboards one account and one zone per iteration
// through the gate with every bundled list loaded (target: under 20 ms
// each).
func BenchmarkOnboarding(b *testing.B) {
	ls, err := lists.Open("", nil)
	if err != nil {
		b.Fatal(err)
	}
	scr := screening.NewService(ls, 0)
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			s := be.open(b)
			c := newService(b, s, scr, "")
			i := 0
			for b.Loop() {
				i++
				acc, err := c.CreateAccount(ctx, AccountInput{Name: fmt.Sprintf("Quiet Meadow Bakery %d", i), Kind: "organization",
					Country: "NL", Email: fmt.Sprintf("owner%d@quietmeadow.example", i)}, "tok")
				if err != nil {
					b.Fatal(err)
				}
				body, _ := json.Marshal(map[string]any{"account_id": acc.ID, "host": fmt.Sprintf("shop%d.quietmeadow.example", i),
					"origins": []string{"http://127.0.0.1:9"}})
				if _, err := c.CreateZone(ctx, body, "tok"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/2000, "ms/onboarding")
		})
	}
}

var syllables = strings.Fields("ka lo mi ren sa to vel dur an is op ne ru gal fen tor mar bel lin os")

func fakeName(r *rand.Rand) string {
	var parts []string
	for range 2 + r.IntN(2) {
		var w strings.Builder
		for range 2 + r.IntN(2) {
			w.WriteString(syllables[r.IntN(len(syllables))])
		}
		parts = append(parts, w.String())
	}
	return strings.Join(parts, " ")
}

// BenchmarkRescreen100k re-screens 100,000 accounts against a list update
// of 100 changed entities (real entities the 2024-05-03 OFAC publication
// adds); target under 10 s per re-screen on SQLite and PostgreSQL.
func BenchmarkRescreen100k(b *testing.B) {
	ls, err := lists.Open("", []string{ofac2024})
	if err != nil {
		b.Fatal(err)
	}
	scr := screening.NewService(ls, 0)
	snap := ls.Snapshot()
	var changed []entity.Entity
	var ids []string
	for _, e := range snap.Entities {
		if len(changed) == 100 {
			break
		}
		if e.Kind == entity.Organization || e.Kind == entity.Person {
			changed = append(changed, e)
			ids = append(ids, e.ID)
		}
	}
	cur := &lists.Snapshot{Versions: snap.Versions, Entities: changed}
	results := []lists.ImportResult{{Version: snap.Versions["ofac-sdn"], Diff: lists.Diff{Added: ids}}}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			s := be.open(b)
			c := newService(b, s, scr, "")
			r := rand.New(rand.NewPCG(1, 2))
			const n = 100_000
			batch := make([]store.Account, 0, 5000)
			for i := range n {
				a := store.Account{ID: fmt.Sprintf("acc_%08d", i), Name: fakeName(r), Kind: store.KindOrganization,
					Status: store.AccountActive, Screening: json.RawMessage(`{}`)}
				if i%10_000 == 0 { // ten accounts named after changed entities
					a.Name = changed[i/10_000].Name
				}
				batch = append(batch, a)
				if len(batch) == cap(batch) {
					if err := s.InsertAccounts(ctx, batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			b.ResetTimer()
			var rep RescreenReport
			for b.Loop() {
				rep, err = c.Rescreen(ctx, cur, results)
				if err != nil {
					b.Fatal(err)
				}
			}
			if rep.AccountsScreened != n || len(rep.AccountHits) < 10 {
				b.Fatalf("report: %d screened, %d hits", rep.AccountsScreened, len(rep.AccountHits))
			}
			b.ReportMetric(float64(len(rep.AccountHits)), "hits")
		})
	}
}
