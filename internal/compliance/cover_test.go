package compliance

import (
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
)

// TestSuspensionCovers checks which names a suspension covers, as the
// edge asks per request: the requested name and the zone that serves it.
func TestSuspensionCovers(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := func(id, host, status, decision string, since time.Time) ZoneState {
		return ZoneState{ZoneID: id, Host: host, Status: status, CaseID: "case_" + id, Decision: decision, Since: since}
	}
	wild := st("wild", "*.susp.test", store.ZoneSuspended, store.ActionSuspend, t0)
	exact := st("exact", "susp2.test", store.ZoneSuspended, store.ActionSuspend, t0)
	m := map[string]ZoneState{
		"*.susp.test":         wild,
		"susp2.test":          exact,
		"alias-of-exact.test": exact, // an alias of a suspended zone covers too
		"github.io":           st("gh", "github.io", store.ZoneSuspended, store.ActionSuspend, t0),
		"c.susp.test":         st("c", "c.susp.test", store.ZoneActive, "", t0.Add(time.Hour)),
		"b.susp.test":         st("b", "b.susp.test", store.ZoneActive, store.ActionDismiss, t0.Add(time.Hour)),
		"old.susp.test":       st("old", "old.susp.test", store.ZoneActive, store.ActionReinstate, t0.Add(-time.Hour)),
		"ok.test":             st("ok", "ok.test", store.ZoneActive, store.ActionDismiss, t0.Add(time.Hour)),
		"alias.susp.test":     st("ok", "ok.test", store.ZoneActive, store.ActionDismiss, t0.Add(time.Hour)),
		"*.example.org":       st("ex", "*.example.org", store.ZoneActive, store.ActionReinstate, t0.Add(time.Hour)),
		"bad.example.org":     st("bad", "bad.example.org", store.ZoneSuspended, store.ActionSuspend, t0),
		"me.github.io":        st("me", "me.github.io", store.ZoneActive, "", t0),
		"susp.test":           st("apex", "susp.test", store.ZoneActive, "", t0),
	}
	c := &Service{}
	c.states.Store(&m)
	tests := []struct {
		host, zone string
		want       string // covering zone id, "" for none
	}{
		{"x.susp.test", "*.susp.test", "wild"},
		{"a.b.c.susp.test", "*.susp.test", "wild"},
		{"susp.test", "susp.test", ""},             // a wildcard does not cover its apex
		{"c.susp.test", "c.susp.test", "wild"},     // a more specific zone without a decision
		{"b.susp.test", "b.susp.test", ""},         // cleared after the suspension
		{"old.susp.test", "old.susp.test", "wild"}, // reinstated before the suspension
		{"x.b.susp.test", "*.susp.test", "wild"},
		{"alias.susp.test", "ok.test", ""}, // the cleared zone's own alias
		{"www.susp2.test", "susp2.test", "exact"},
		{"a.b.susp2.test", "", "exact"},
		{"x.alias-of-exact.test", "", "exact"},
		{"susp2.test", "susp2.test", ""},              // its own status, not a cover
		{"me.github.io", "me.github.io", ""},          // a public suffix covers nothing below it
		{"x.bad.example.org", "*.example.org", "bad"}, // a less specific zone's decision does not lift it
		{"good.example.org", "*.example.org", ""},
		{"SUSP.test.evil", "", ""},
		{"", "", ""},
		{".", "", ""},
		{"susp.test.", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			got, ok := c.Suspension(tt.host, tt.zone)
			if ok != (tt.want != "") || got.ZoneID != tt.want {
				t.Errorf("Suspension(%q, %q) = %s %v, want %q", tt.host, tt.zone, got.ZoneID, ok, tt.want)
			}
		})
	}

	gate := []struct {
		names []string
		cur   *ZoneState
		want  string // substring of the reason, "" for none
	}{
		{[]string{"new.susp.test"}, nil, "host new.susp.test is under *.susp.test, which is suspended by case case_wild"},
		{[]string{"*.deep.susp.test"}, nil, "*.susp.test"},
		{[]string{"*.susp2.test"}, nil, "under susp2.test"},
		{[]string{"ok2.test", "alias2.susp.test"}, nil, "alias2.susp.test"},
		{[]string{"susp.test"}, nil, ""},
		{[]string{"x.github.io"}, nil, ""},
		{[]string{"b.susp.test"}, new(m["b.susp.test"]), ""}, // cleared: keeps serving
		{[]string{"old.susp.test"}, new(m["old.susp.test"]), "old.susp.test"},
	}
	for _, tt := range gate {
		got := strings.Join(c.coveredNames(tt.names, tt.cur), "; ")
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("coveredNames(%v) = %q, want %q", tt.names, got, tt.want)
		}
	}
}
