package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"
)

// invalid returns an ErrInvalid error naming the record and field.
func invalid(record, field, format string, args ...any) error {
	return fmt.Errorf("%w: %s %s: %s", ErrInvalid, record, field, fmt.Sprintf(format, args...))
}

func checkText(record, field, v string, max int, required bool) error {
	switch {
	case required && v == "":
		return invalid(record, field, "is empty")
	case len(v) > max:
		return invalid(record, field, "is longer than %d bytes", max)
	case !utf8.ValidString(v):
		return invalid(record, field, "is not valid UTF-8")
	}
	return nil
}

func checkOneOf(record, field, v string, allowed ...string) error {
	if !slices.Contains(allowed, v) {
		return invalid(record, field, "is %q, want one of %v", v, allowed)
	}
	return nil
}

// checkJSON checks that raw is JSON of the wanted shape ('{' object or '['
// array); empty raw is allowed and stored as the empty value.
func checkJSON(record, field string, raw json.RawMessage, shape byte) error {
	if len(raw) == 0 {
		return nil
	}
	if !json.Valid(raw) {
		return invalid(record, field, "is not valid JSON")
	}
	for _, c := range raw {
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			continue
		}
		if c != shape {
			want := "an object"
			if shape == '[' {
				want = "an array"
			}
			return invalid(record, field, "is not %s", want)
		}
		break
	}
	return nil
}

// ValidateAccount checks an account before it is written.
func ValidateAccount(a *Account) error {
	if err := checkText("account", "name", a.Name, 1000, true); err != nil {
		return err
	}
	if err := checkOneOf("account", "kind", a.Kind, KindPerson, KindOrganization); err != nil {
		return err
	}
	if err := checkOneOf("account", "status", a.Status, AccountActive, AccountReview, AccountBlocked); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"country", a.Country}, {"address", a.Address}, {"email", a.Email}} {
		if err := checkText("account", f.name, f.v, 1000, false); err != nil {
			return err
		}
	}
	return checkJSON("account", "screening", a.Screening, '{')
}

// ValidateZone checks a zone before it is written.
func ValidateZone(z *Zone) error {
	if err := checkText("zone", "host", z.Host, 255, true); err != nil {
		return err
	}
	if err := checkOneOf("zone", "status", z.Status, ZoneActive, ZoneReview, ZoneRejected, ZoneSuspended); err != nil {
		return err
	}
	if err := checkOneOf("zone", "source", z.Source, SourceConfig, SourceAPI); err != nil {
		return err
	}
	for _, f := range []struct {
		name  string
		raw   json.RawMessage
		shape byte
	}{{"aliases", z.Aliases, '['}, {"origins", z.Origins, '['}, {"settings", z.Settings, '{'}, {"reasons", z.Reasons, '['}} {
		if err := checkJSON("zone", f.name, f.raw, f.shape); err != nil {
			return err
		}
	}
	return nil
}

// ValidateScreening checks a screening before it is written.
func ValidateScreening(s *Screening) error {
	if err := checkOneOf("screening", "subject_type", s.SubjectType, SubjectAccount, SubjectZone); err != nil {
		return err
	}
	if err := checkText("screening", "subject_id", s.SubjectID, 200, true); err != nil {
		return err
	}
	if err := checkText("screening", "result", s.Result, 100, true); err != nil {
		return err
	}
	if err := checkJSON("screening", "lists", s.Lists, '{'); err != nil {
		return err
	}
	return checkJSON("screening", "matches", s.Matches, '[')
}

// ValidateCase checks a case before it is written.
func ValidateCase(c *Case) error {
	if err := checkText("case", "host", c.Host, 255, true); err != nil {
		return err
	}
	if err := checkOneOf("case", "category", c.Category, CategorySanctions, CategoryAbuse, CategoryOther); err != nil {
		return err
	}
	if err := checkOneOf("case", "status", c.Status, CaseOpen, CaseDismissed, CaseSuspended, CaseReinstated); err != nil {
		return err
	}
	if err := checkOneOf("case", "origin", c.Origin, OriginReport, OriginScreening); err != nil {
		return err
	}
	if c.ReportCount < 0 {
		return invalid("case", "report_count", "is negative")
	}
	if err := checkText("case", "assignee", c.Assignee, MaxAssignee, false); err != nil {
		return err
	}
	return checkText("case", "summary", c.Summary, 10000, false)
}

// ValidateReport checks a report before it is written.
func ValidateReport(r *Report) error {
	if err := checkText("report", "case_id", r.CaseID, 200, true); err != nil {
		return err
	}
	if err := checkText("report", "description", r.Description, 20000, false); err != nil {
		return err
	}
	if err := checkText("report", "fingerprint", r.Fingerprint, 128, false); err != nil {
		return err
	}
	if err := checkText("report", "reporter_email", r.ReporterEmail, 320, false); err != nil {
		return err
	}
	if err := checkText("report", "client_ip", r.ClientIP, 64, false); err != nil {
		return err
	}
	return checkJSON("report", "evidence_urls", r.EvidenceURLs, '[')
}

// ValidateDecision checks a decision before it is written; the reason is
// mandatory.
func ValidateDecision(d *Decision) error {
	if err := checkOneOf("decision", "action", d.Action, ActionDismiss, ActionSuspend, ActionReinstate); err != nil {
		return err
	}
	if err := checkText("decision", "reason", d.Reason, 10000, true); err != nil {
		return err
	}
	return checkText("decision", "actor", d.Actor, 200, true)
}

// ValidateToken checks a token record before it is written.
func ValidateToken(t *TokenRecord) error {
	if err := checkText("token", "id", t.ID, 64, true); err != nil {
		return err
	}
	if err := checkOneOf("token", "scope", t.Scope, "read", "compliance", "admin"); err != nil {
		return err
	}
	if len(t.Hash) != 64 {
		return invalid("token", "hash", "is not 64 hex digits")
	}
	return checkText("token", "note", t.Note, 1000, false)
}
