package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rampart-edge/rampart/internal/audit"
)

// These composite writes each run in one transaction and append their audit
// entries in it. Each takes the store's write lock (Tx.LockWrites, or the
// first Append, which takes the same lock) before it reads or touches
// other rows, so concurrent composite writes are serialized: they never
// decide on stale state and never deadlock on PostgreSQL.

// screeningSummary is what an account keeps of its last screening.
func screeningSummary(sc *Screening) json.RawMessage {
	n := 0
	var ms []json.RawMessage
	if json.Unmarshal(sc.Matches, &ms) == nil {
		n = len(ms)
	}
	return audit.MustData(map[string]any{
		"screening_id": sc.ID, "result": sc.Result, "matches": n,
		"time": sc.Created.UTC().Format(time.RFC3339Nano), "lists": sc.Lists,
	})
}

// CreateAccountWithScreening stores a new account together with the
// screening that decided its status (sc.SubjectID and the account's
// Screening summary are filled in) and the audit entries account.create
// and screening.run, in one transaction. actor is the token id (or
// audit.ActorSystem).
func CreateAccountWithScreening(ctx context.Context, s Store, a *Account, sc *Screening, actor string) error {
	if a.ID == "" {
		a.ID = NewID("acc")
	}
	prepScreening(sc, SubjectAccount, a.ID, actor)
	a.Screening = screeningSummary(sc)
	acc, scr := *a, *sc
	err := s.Tx(ctx, func(tx Tx) error {
		acc, scr = *a, *sc
		if _, err := tx.Append(ctx, audit.Event{Actor: actor, Action: audit.ActionAccountCreate, Subject: "account:" + acc.ID,
			Data: audit.MustData(map[string]any{"name": acc.Name, "kind": acc.Kind, "country": acc.Country, "email": acc.Email, "status": acc.Status})}); err != nil {
			return err
		}
		if err := tx.CreateAccount(ctx, &acc); err != nil {
			return err
		}
		return addScreening(ctx, tx, &scr, actor)
	})
	if err != nil {
		return fmt.Errorf("creating account %q with screening: %w", a.Name, err)
	}
	*a, *sc = acc, scr
	return nil
}

// CreateZoneWithScreening stores a new zone together with the screening
// that decided its status and the audit entries zone.create and
// screening.run, in one transaction. A host already taken is ErrConflict.
func CreateZoneWithScreening(ctx context.Context, s Store, z *Zone, sc *Screening, actor string) error {
	if z.ID == "" {
		z.ID = NewID("zone")
	}
	prepScreening(sc, SubjectZone, z.ID, actor)
	zone, scr := *z, *sc
	err := s.Tx(ctx, func(tx Tx) error {
		zone, scr = *z, *sc
		if _, err := tx.Append(ctx, audit.Event{Actor: actor, Action: audit.ActionZoneCreate, Subject: "zone:" + zone.ID,
			Data: audit.MustData(map[string]any{"host": zone.Host, "aliases": zone.Aliases, "account_id": zone.AccountID,
				"status": zone.Status, "reasons": zone.Reasons, "source": zone.Source})}); err != nil {
			return err
		}
		if err := tx.CreateZone(ctx, &zone); err != nil {
			return err
		}
		return addScreening(ctx, tx, &scr, actor)
	})
	if err != nil {
		return fmt.Errorf("creating zone %s with screening: %w", z.Host, err)
	}
	*z, *sc = zone, scr
	return nil
}

// RecordScreening stores a re-screening of an existing account or zone, its
// new status (and zone reasons, when not nil) and a screening.run audit
// entry in one transaction.
func RecordScreening(ctx context.Context, s Store, sc *Screening, status string, reasons json.RawMessage, actor string) error {
	prepScreening(sc, sc.SubjectType, sc.SubjectID, actor)
	scr := *sc
	err := s.Tx(ctx, func(tx Tx) error {
		scr = *sc
		if err := addScreening(ctx, tx, &scr, actor); err != nil {
			return err
		}
		switch scr.SubjectType {
		case SubjectAccount:
			a, err := tx.GetAccount(ctx, scr.SubjectID)
			if err != nil {
				return err
			}
			a.Status, a.Screening = status, screeningSummary(&scr)
			return tx.UpdateAccount(ctx, &a)
		default:
			z, err := tx.GetZone(ctx, scr.SubjectID)
			if err != nil {
				return err
			}
			z.Status = status
			if reasons != nil {
				z.Reasons = reasons
			}
			return tx.UpdateZone(ctx, &z)
		}
	})
	if err != nil {
		return fmt.Errorf("recording screening of %s %s: %w", sc.SubjectType, sc.SubjectID, err)
	}
	*sc = scr
	return nil
}

func prepScreening(sc *Screening, subjectType, subjectID, actor string) {
	if sc.ID == "" {
		sc.ID = NewID("scr")
	}
	if sc.Created.IsZero() {
		sc.Created = Now()
	}
	sc.SubjectType, sc.SubjectID = subjectType, subjectID
	if sc.Actor == "" {
		sc.Actor = actor
	}
}

func addScreening(ctx context.Context, tx Tx, sc *Screening, actor string) error {
	if _, err := tx.Append(ctx, audit.Event{Actor: actor, Action: audit.ActionScreeningRun, Subject: sc.SubjectType + ":" + sc.SubjectID,
		Data: audit.MustData(map[string]any{"screening_id": sc.ID, "result": sc.Result, "lists": sc.Lists, "matches": sc.Matches})}); err != nil {
		return err
	}
	return tx.AddScreening(ctx, sc)
}

// ReportInput is a public report as the API receives it.
type ReportInput struct {
	Host          string
	Category      string
	Description   string
	EvidenceURLs  []string
	ReporterEmail string
	ClientIP      string
	// Fingerprint identifies identical reports; when the active case has
	// one with the same fingerprint filed at or after DedupeSince, the
	// report is counted on it (case report_count and last_report, the
	// report's repeats) instead of being stored again. "" never dedupes.
	Fingerprint string
	DedupeSince time.Time
}

// RecordReport files a report: it joins the active (open or suspended) case
// for the same host and category, counting it and moving last_report, or
// opens a new case dated now (linked to the zone serving that host, if
// any). The report, the case change and a report.create audit entry (plus
// case.open for a new case) are one transaction. The audit entry keeps the
// reporter's e-mail and IP out of the chain (they are personal data that
// an append-only log could never erase); it records the report id instead.
func RecordReport(ctx context.Context, s Store, in ReportInput) (Case, Report, error) {
	evidence, err := json.Marshal(nonNil(in.EvidenceURLs))
	if err != nil {
		return Case{}, Report{}, fmt.Errorf("recording report: %w", err)
	}
	var c Case
	var r Report
	err = s.Tx(ctx, func(tx Tx) error {
		if err := tx.LockWrites(ctx); err != nil {
			return err
		}
		now := Now()
		r = Report{ID: NewID("rep"), ReporterEmail: in.ReporterEmail, Description: in.Description,
			EvidenceURLs: evidence, ClientIP: in.ClientIP, Created: now, Fingerprint: in.Fingerprint}
		var err error
		c, err = tx.FindActiveCase(ctx, in.Host, in.Category)
		isNew := errors.Is(err, ErrNotFound)
		if err != nil && !isNew {
			return err
		}
		if !isNew && in.Fingerprint != "" {
			// An identical report: counted, not stored again (no audit
			// entry either: nothing new is known).
			prev, err := tx.RepeatReport(ctx, c.ID, in.Fingerprint, in.DedupeSince)
			switch {
			case err == nil:
				r = prev
				c.ReportCount++
				c.LastReport = now
				return tx.UpdateCase(ctx, &c)
			case !errors.Is(err, ErrNotFound):
				return err
			}
		}
		if isNew {
			c = Case{ID: NewID("case"), Host: in.Host, Category: in.Category, Status: CaseOpen, Origin: OriginReport,
				Opened: now, LastReport: now}
			if _, err := tx.Append(ctx, audit.Event{Actor: audit.ActorPublic, Action: audit.ActionCaseOpen, Subject: "case:" + c.ID,
				Data: audit.MustData(map[string]any{"host": c.Host, "category": c.Category, "origin": c.Origin})}); err != nil {
				return err
			}
		}
		r.CaseID = c.ID
		if _, err := tx.Append(ctx, audit.Event{Actor: audit.ActorPublic, Action: audit.ActionReportCreate, Subject: "case:" + c.ID,
			Data: audit.MustData(map[string]any{"report_id": r.ID, "host": in.Host, "category": in.Category,
				"description": in.Description, "evidence_urls": nonNil(in.EvidenceURLs)})}); err != nil {
			return err
		}
		if isNew {
			if z, err := tx.GetZoneByHost(ctx, in.Host); err == nil {
				c.ZoneID = z.ID
			} else if !errors.Is(err, ErrNotFound) {
				return err
			}
			c.ReportCount = 1
			if err := tx.CreateCase(ctx, &c); err != nil {
				return err
			}
		} else {
			c.ReportCount++
			c.LastReport = now
			if err := tx.UpdateCase(ctx, &c); err != nil {
				return err
			}
		}
		return tx.AddReport(ctx, &r)
	})
	if err != nil {
		return Case{}, Report{}, fmt.Errorf("recording report about %s: %w", in.Host, err)
	}
	return c, r, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// CaseTimeline is a case with everything that happened to it.
type CaseTimeline struct {
	Case      Case       `json:"case"`
	Reports   []Report   `json:"reports"`
	Decisions []Decision `json:"decisions"`
}

// GetCaseTimeline reads a case with its reports and decisions in one
// transaction (a consistent view).
func GetCaseTimeline(ctx context.Context, s Store, id string) (CaseTimeline, error) {
	var t CaseTimeline
	err := s.Tx(ctx, func(tx Tx) error {
		var err error
		if t.Case, err = tx.GetCase(ctx, id); err != nil {
			return err
		}
		if t.Reports, err = tx.Reports(ctx, id); err != nil {
			return err
		}
		t.Decisions, err = tx.Decisions(ctx, id)
		return err
	})
	return t, err
}
