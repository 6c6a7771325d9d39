package tarpit

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

func TestAllowanceByAddress(t *testing.T) {
	clk := &clock{}
	clk.ns.Store(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).UnixNano())
	tp := New(Options{Free: 3, Window: 3 * time.Second, Now: clk.Now})
	a := netip.MustParseAddr("192.0.2.1")
	for _, tc := range []struct {
		name    string
		advance time.Duration
		client  netip.Addr
		over    bool
	}{
		{"1st free", 0, a, false},
		{"2nd free", 0, a, false},
		{"3rd free", 0, a, false},
		{"4th held", 0, a, true},
		{"another address is free", 0, netip.MustParseAddr("192.0.2.2"), false},
		{"still held", 500 * time.Millisecond, a, true},
		{"one refilled after a second", 600 * time.Millisecond, a, false},
		{"and held again", 0, a, true},
		{"IPv6 by /64: first", 0, netip.MustParseAddr("2001:db8::1"), false},
		{"same /64", 0, netip.MustParseAddr("2001:db8::2"), false},
		{"same /64 again", 0, netip.MustParseAddr("2001:db8::ffff"), false},
		{"same /64 held", 0, netip.MustParseAddr("2001:db8::abcd"), true},
		{"other /64 free", 0, netip.MustParseAddr("2001:db8:0:1::1"), false},
		{"v4-mapped counts as v4", 0, netip.MustParseAddr("::ffff:192.0.2.1"), true},
	} {
		clk.Add(tc.advance)
		if got := tp.Over(tc.client); got != tc.over {
			t.Fatalf("%s: Over(%s) = %v, want %v", tc.name, tc.client, got, tc.over)
		}
	}
}

func TestHoldWaitsOrStopsWithContext(t *testing.T) {
	tp := New(Options{Free: 1, Window: time.Hour, Delay: time.Hour})
	a := netip.MustParseAddr("192.0.2.9")
	if tp.Hold(context.Background(), a) {
		t.Fatal("first refusal held")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan bool)
	go func() { done <- tp.Hold(ctx, a) }()
	select {
	case <-done:
		t.Fatal("second refusal not held")
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	if !<-done {
		t.Fatal("Hold reported no wait")
	}
	short := New(Options{Free: 1, Window: time.Hour, Delay: time.Millisecond})
	short.Hold(context.Background(), a)
	if !short.Hold(context.Background(), a) {
		t.Fatal("held refusal with a short delay not reported")
	}
}
