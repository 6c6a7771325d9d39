package waf

import (
	"slices"
	"testing"

	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/experimental/plugins/macro"

	"github.com/rampart-edge/rampart/internal/config"
)

// These tests pin the behaviour of the changes in third_party/coraza
// (third_party/PATCHES.md) through Coraza's public API, the way rampart
// uses it: each rule set is evaluated on a request and the IDs of the
// rules that matched are compared with what upstream Coraza reports.

// matchedIDs runs a GET (or, with a body, a urlencoded POST) with the
// given query through a WAF built from directives and returns the IDs of
// the rules that matched, in order.
func matchedIDs(t *testing.T, directives, query, body string) []int {
	t.Helper()
	w, err := coraza.NewWAF(coraza.NewWAFConfig().WithDirectives("SecRuleEngine DetectionOnly\nSecRequestBodyAccess On\n" + directives))
	if err != nil {
		t.Fatal(err)
	}
	tx := w.NewTransaction()
	defer tx.Close()
	method := "GET"
	if body != "" {
		method = "POST"
	}
	tx.ProcessURI("/p?"+query, method, "HTTP/1.1")
	tx.AddRequestHeader("Host", "example.test")
	if body != "" {
		tx.AddRequestHeader("Content-Type", "application/x-www-form-urlencoded")
	}
	tx.ProcessRequestHeaders()
	if body != "" {
		if _, _, err := tx.WriteRequestBody([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.ProcessRequestBody(); err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, m := range tx.MatchedRules() {
		ids = append(ids, m.Rule().ID())
	}
	return ids
}

func checkIDs(t *testing.T, got, want, notWant []int) {
	t.Helper()
	for _, id := range want {
		if !slices.Contains(got, id) {
			t.Errorf("rule %d did not match (matched: %v)", id, got)
		}
	}
	for _, id := range notWant {
		if slices.Contains(got, id) {
			t.Errorf("rule %d matched (matched: %v)", id, got)
		}
	}
}

// TestCorazaFieldCacheExceptions: GetField keeps a phase's ARGS for the
// rules after the first; a rule's own exceptions (!ARGS:b) and those ctl
// adds (ruleRemoveTargetById) must filter a copy, not the kept values,
// whatever the order of the rules with and without exceptions.
func TestCorazaFieldCacheExceptions(t *testing.T) {
	rules := `
SecRule ARGS "@rx evil" "id:1,phase:1,pass,nolog"
SecRule ARGS|!ARGS:b "@rx evil" "id:2,phase:1,pass,nolog"
SecRule ARGS "@rx evil" "id:3,phase:1,pass,nolog"
SecAction "id:4,phase:1,pass,nolog,ctl:ruleRemoveTargetById=5;ARGS:b"
SecRule ARGS "@rx evil" "id:5,phase:1,pass,nolog"
SecRule ARGS "@rx evil" "id:6,phase:1,pass,nolog"
SecRule &ARGS "@eq 2" "id:7,phase:1,pass,nolog"
SecRule &ARGS|!ARGS:b "@eq 1" "id:8,phase:1,pass,nolog"
SecRule ARGS_NAMES "@rx ^b$" "id:9,phase:2,pass,nolog"
SecRule ARGS:/^B$/ "@rx evil" "id:10,phase:2,pass,nolog"
SecRule ARGS:b "@rx evil" "id:11,phase:2,pass,nolog"
`
	// Coraza lists a collection in Go's map order, which changes from
	// call to call: repeated so that both orders are seen.
	for range 20 {
		got := matchedIDs(t, rules, "a=1&b=evil", "")
		checkIDs(t, got, []int{1, 3, 6, 7, 8, 9, 11}, []int{2, 5, 10})
		// Only "a" is evil: the exceptions do not remove it.
		got = matchedIDs(t, rules, "a=evil&b=1", "")
		checkIDs(t, got, []int{1, 2, 3, 5, 6, 7, 8, 9}, []int{10, 11})
	}
}

// TestCorazaFieldCachePerPhase: the values kept in phase 1 (no body yet)
// are not those of phase 2, where the urlencoded body's arguments are in
// ARGS.
func TestCorazaFieldCachePerPhase(t *testing.T) {
	rules := `
SecRule ARGS "@rx evil" "id:1,phase:1,pass,nolog"
SecRule ARGS_NAMES "@streq body" "id:2,phase:1,pass,nolog"
SecRule ARGS "@rx evil" "id:3,phase:2,pass,nolog"
SecRule ARGS_NAMES "@streq body" "id:4,phase:2,pass,nolog"
SecRule &ARGS "@eq 2" "id:5,phase:2,pass,nolog"
`
	got := matchedIDs(t, rules, "q=1", "body=evil")
	checkIDs(t, got, []int{3, 4, 5}, []int{1, 2})
}

// TestCorazaCtlByTag: ctl:ruleRemoveTargetByTag and ctl:ruleRemoveByTag
// act on the rules carrying the tag (from an index in the patched copy),
// rules with several tags included, and on no other rule.
func TestCorazaCtlByTag(t *testing.T) {
	rules := `
SecAction "id:1,phase:1,pass,nolog,ctl:ruleRemoveTargetByTag=t1;ARGS:b"
SecAction "id:2,phase:1,pass,nolog,ctl:ruleRemoveByTag=t3"
SecRule ARGS "@rx evil" "id:11,phase:1,pass,nolog,tag:t1"
SecRule ARGS "@rx evil" "id:12,phase:1,pass,nolog,tag:t2"
SecRule ARGS "@rx evil" "id:13,phase:1,pass,nolog,tag:t2,tag:t1"
SecRule ARGS "@rx evil" "id:14,phase:1,pass,nolog,tag:t3,tag:t2"
SecRule ARGS "@rx evil" "id:15,phase:2,pass,nolog,tag:t1"
SecRule ARGS "@rx evil" "id:16,phase:2,pass,nolog,tag:t4"
`
	got := matchedIDs(t, rules, "a=1&b=evil", "")
	checkIDs(t, got, []int{12, 16}, []int{11, 13, 14, 15})
	got = matchedIDs(t, rules, "a=evil", "")
	checkIDs(t, got, []int{11, 12, 13, 15, 16}, []int{14})
}

// TestCorazaRuleCollectionMacro: a %{rule.msg} macro sees the rule's
// expanded msg, as upstream Coraza fills the RULE collection for every
// evaluated rule (the patched copy does once such a macro was compiled).
// It runs last in its own WAF: the switch is per process.
func TestCorazaRuleCollectionMacro(t *testing.T) {
	if !macro.RuleCollectionRead() {
		// The whole CRS with rampart's directives reads no RULE: its rules
		// skip filling the collection (the point of the change).
		phase(t, config.WAF{Mode: "block", Paranoia: 4})
		if macro.RuleCollectionRead() {
			t.Fatal("compiling the CRS switched the RULE collection on")
		}
	}
	rules := `
SecRule ARGS:a "@rx x" "id:1,phase:1,pass,nolog,msg:'hello %{ARGS.a}',logdata:'data %{MATCHED_VAR_NAME}',setvar:'tx.m=%{rule.msg}',setvar:'tx.d=%{rule.logdata}',setvar:'tx.i=%{rule.id}'"
SecRule TX:m "@streq hello x" "id:2,phase:1,pass,nolog"
SecRule TX:i "@streq 1" "id:3,phase:1,pass,nolog"
SecRule TX:d "@beginsWith data" "id:4,phase:1,pass,nolog"
`
	got := matchedIDs(t, rules, "a=x", "")
	checkIDs(t, got, []int{1, 2, 3, 4}, nil)
}
