package deadline

import (
	"testing"
	"time"
)

func TestSlack(t *testing.T) {
	for _, tc := range []struct{ d, want time.Duration }{
		{30 * time.Second, time.Second},
		{8 * time.Second, 500 * time.Millisecond},
		{160 * time.Millisecond, 10 * time.Millisecond},
		{time.Hour, time.Second},
	} {
		if got := Slack(tc.d); got != tc.want {
			t.Errorf("Slack(%v) = %v, want %v", tc.d, got, tc.want)
		}
	}
}

func TestRenew(t *testing.T) {
	var sets []time.Time
	set := func(t time.Time) error { sets = append(sets, t); return nil }
	var cur time.Time
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	d := 16 * time.Second // slack 1s

	Renew(&cur, t0, d, set)
	if len(sets) != 1 || !cur.Equal(t0.Add(17*time.Second)) {
		t.Fatalf("first renew: sets %v, cur %v; want one set at t0+17s", sets, cur)
	}
	// Within the slack: kept.
	Renew(&cur, t0.Add(900*time.Millisecond), d, set)
	if len(sets) != 1 {
		t.Errorf("renew within the slack set the deadline again: %v", sets)
	}
	// Past the slack: moved.
	Renew(&cur, t0.Add(1500*time.Millisecond), d, set)
	if len(sets) != 2 || !cur.Equal(t0.Add(18500*time.Millisecond)) {
		t.Errorf("renew past the slack: sets %v, cur %v; want a second set at t0+18.5s", sets, cur)
	}
	// A shorter timeout wants an earlier deadline: moved.
	Renew(&cur, t0.Add(1500*time.Millisecond), time.Second, set)
	if len(sets) != 3 || !cur.Equal(t0.Add(2500*time.Millisecond+62500*time.Microsecond)) {
		t.Errorf("shorter timeout: sets %v, cur %v", sets, cur)
	}
	// d <= 0 clears once.
	Renew(&cur, t0, 0, set)
	Renew(&cur, t0, 0, set)
	if len(sets) != 4 || !cur.IsZero() || !sets[3].IsZero() {
		t.Errorf("clear: sets %v, cur %v; want one zero set", sets, cur)
	}
}
