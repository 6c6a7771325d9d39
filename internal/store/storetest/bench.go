package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/store"
)

// BenchBulk inserts n accounts (InsertAccounts, in batches of 10,000),
// streams them all back with Accounts, and applies a re-screening outcome
// to 1% of them with ApplyStatuses (one transaction), then sets the status
// of all n (the worst re-screening outcome) with SetStatuses. It reports
// the seconds each phase took per run as insert-s, iterate-s, statuses-s
// and all-statuses-s.
func BenchBulk(b *testing.B, open func(b *testing.B) store.Store, n int) {
	ctx := context.Background()
	var insert, scan, statuses, all time.Duration
	for range b.N {
		b.StopTimer()
		s := open(b)
		b.StartTimer()
		t0 := time.Now()
		const batch = 10000
		for start := 0; start < n; start += batch {
			as := make([]store.Account, 0, batch)
			for i := start; i < min(start+batch, n); i++ {
				as = append(as, store.Account{ID: fmt.Sprintf("acc_%08d", i), Name: fmt.Sprintf("Customer Number %d", i),
					Kind: store.KindPerson, Country: "DE", Address: "Musterweg 1, 10115 Berlin", Email: fmt.Sprintf("c%d@example.org", i)})
			}
			if err := s.InsertAccounts(ctx, as); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		count := 0
		var ups []store.StatusUpdate
		for a, err := range s.Accounts(ctx) {
			if err != nil {
				b.Fatal(err)
			}
			count++
			if count%100 == 0 {
				ups = append(ups, store.StatusUpdate{ID: a.ID, Status: store.AccountReview})
			}
		}
		if count != n {
			b.Fatalf("iterated %d accounts, want %d", count, n)
		}
		t2 := time.Now()
		changed, err := compliance.ApplyStatuses(ctx, s, store.SubjectAccount, ups, "benchmark")
		if err != nil || changed != len(ups) {
			b.Fatalf("ApplyStatuses = %d, %v", changed, err)
		}
		t3 := time.Now()
		every := make([]store.StatusUpdate, 0, n)
		for i := range n {
			every = append(every, store.StatusUpdate{ID: fmt.Sprintf("acc_%08d", i), Status: store.AccountBlocked})
		}
		t4 := time.Now()
		changed, err = s.SetStatuses(ctx, store.SubjectAccount, every)
		if err != nil || changed != n {
			b.Fatalf("SetStatuses(all) = %d, %v", changed, err)
		}
		t5 := time.Now()
		insert += t1.Sub(t0)
		scan += t2.Sub(t1)
		statuses += t3.Sub(t2)
		all += t5.Sub(t4)
	}
	b.ReportMetric(insert.Seconds()/float64(b.N), "insert-s")
	b.ReportMetric(scan.Seconds()/float64(b.N), "iterate-s")
	b.ReportMetric(statuses.Seconds()/float64(b.N), "statuses-s")
	b.ReportMetric(all.Seconds()/float64(b.N), "all-statuses-s")
}

// BenchAppend measures one audit append per transaction (each commit is
// durable: fsync on SQLite, a WAL flush on PostgreSQL).
func BenchAppend(b *testing.B, open func(b *testing.B) store.Store) {
	s := open(b)
	ctx := context.Background()
	ev := audit.Event{Actor: audit.ActorSystem, Action: "bench.append", Subject: "zone:x",
		Data: audit.MustData(map[string]any{"host": "www.example.org", "status": "active"})}
	b.ResetTimer()
	for range b.N {
		if _, err := s.Append(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchCreateZoneWithScreening measures the store's share of onboarding a
// zone: zone row, screening row and two audit entries in one transaction.
func BenchCreateZoneWithScreening(b *testing.B, open func(b *testing.B) store.Store) {
	s := open(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		z := store.Zone{Host: fmt.Sprintf("site%d.example.org", i), Origins: []byte(`["http://127.0.0.1:3000"]`)}
		sc := store.Screening{Result: store.ZoneActive, Lists: []byte(`{"ofac-sdn":"2024-05-03"}`)}
		if err := store.CreateZoneWithScreening(ctx, s, &z, &sc, "0123456789abcdef"); err != nil {
			b.Fatal(err)
		}
	}
}
