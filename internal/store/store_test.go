package store_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/store"
)

func TestValidate(t *testing.T) {
	okAccount := func() store.Account {
		return store.Account{Name: "n", Kind: store.KindPerson, Status: store.AccountActive}
	}
	okZone := func() store.Zone {
		return store.Zone{Host: "a.example", Status: store.ZoneActive, Source: store.SourceAPI}
	}
	tests := []struct {
		name  string
		err   error
		field string // named in the error; "" when valid
	}{
		{"account ok", func() error { a := okAccount(); return store.ValidateAccount(&a) }(), ""},
		{"account long name", func() error { a := okAccount(); a.Name = strings.Repeat("x", 1001); return store.ValidateAccount(&a) }(), "name"},
		{"account bad utf8", func() error { a := okAccount(); a.Email = "\xff"; return store.ValidateAccount(&a) }(), "email"},
		{"zone ok", func() error { z := okZone(); return store.ValidateZone(&z) }(), ""},
		{"zone aliases object", func() error { z := okZone(); z.Aliases = json.RawMessage(`{}`); return store.ValidateZone(&z) }(), "aliases"},
		{"zone settings broken", func() error { z := okZone(); z.Settings = json.RawMessage(`{`); return store.ValidateZone(&z) }(), "settings"},
		{"zone source", func() error { z := okZone(); z.Source = "file"; return store.ValidateZone(&z) }(), "source"},
		{"case category", func() error {
			c := store.Case{Host: "h", Category: "spam", Status: store.CaseOpen, Origin: store.OriginReport}
			return store.ValidateCase(&c)
		}(), "category"},
		{"decision reason", func() error {
			d := store.Decision{Action: store.ActionSuspend, Actor: "t"}
			return store.ValidateDecision(&d)
		}(), "reason"},
		{"decision action", func() error {
			d := store.Decision{Action: "delete", Reason: "r", Actor: "t"}
			return store.ValidateDecision(&d)
		}(), "action"},
		{"report evidence", func() error {
			r := store.Report{CaseID: "c", EvidenceURLs: json.RawMessage(`"x"`)}
			return store.ValidateReport(&r)
		}(), "evidence_urls"},
		{"token hash", func() error {
			tk := store.TokenRecord{ID: "0123456789abcdef", Scope: "admin", Hash: "ab"}
			return store.ValidateToken(&tk)
		}(), "hash"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.field == "" {
				if tc.err != nil {
					t.Errorf("valid record refused: %v", tc.err)
				}
				return
			}
			if !errors.Is(tc.err, store.ErrInvalid) || !strings.Contains(tc.err.Error(), tc.field) {
				t.Errorf("error = %v, want ErrInvalid naming %q", tc.err, tc.field)
			}
		})
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := store.NewID("acc")
		if len(id) != len("acc_")+16 || !strings.HasPrefix(id, "acc_") || seen[id] {
			t.Fatalf("NewID = %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
}
