package sqlcore

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/store"
)

// ---- accounts ----

const accountCols = `id, name, kind, country, address, email, status, screening, created, updated`

func scanAccount(r Rows) (store.Account, error) {
	var a store.Account
	err := r.Scan(&a.ID, &a.Name, &a.Kind, &a.Country, &a.Address, &a.Email, &a.Status,
		scanJSON{&a.Screening}, scanTime{&a.Created}, scanTime{&a.Updated})
	return a, err
}

func prepAccount(a *store.Account, now time.Time) error {
	if a.ID == "" {
		a.ID = store.NewID("acc")
	}
	if a.Status == "" {
		a.Status = store.AccountActive
	}
	if len(a.Screening) == 0 {
		a.Screening = json.RawMessage("{}")
	}
	if a.Created.IsZero() {
		a.Created = now
	}
	if a.Updated.IsZero() {
		a.Updated = a.Created
	}
	return store.ValidateAccount(a)
}

func accountArgs(a *store.Account) []any {
	return []any{a.ID, a.Name, a.Kind, a.Country, a.Address, a.Email, a.Status,
		jsonArg(a.Screening, "{}"), timeArg(a.Created), timeArg(a.Updated)}
}

// CreateAccount inserts an account; see store.Tx.
func (o *ops) createAccount(ctx context.Context, a *store.Account) error {
	if err := prepAccount(a, store.Now()); err != nil {
		return fmt.Errorf("creating account: %w", err)
	}
	_, err := o.q.Exec(ctx, `INSERT INTO accounts (`+accountCols+`) VALUES `+placeholders(10), accountArgs(a)...)
	return o.wrapErr(err, "creating account %s", a.ID)
}

// GetAccount reads an account; see store.Tx.
func (o *ops) GetAccount(ctx context.Context, id string) (store.Account, error) {
	rows, err := o.q.Query(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id)
	if err != nil {
		return store.Account{}, o.wrapErr(err, "reading account %s", id)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return store.Account{}, o.wrapErr(err, "reading account %s", id)
		}
		return store.Account{}, fmt.Errorf("reading account %s: %w", id, store.ErrNotFound)
	}
	a, err := scanAccount(rows)
	return a, o.wrapErr(err, "reading account %s", id)
}

// UpdateAccount rewrites an account; see store.Tx.
func (o *ops) updateAccount(ctx context.Context, a *store.Account) error {
	a.Updated = store.Now()
	if len(a.Screening) == 0 {
		a.Screening = json.RawMessage("{}")
	}
	if err := store.ValidateAccount(a); err != nil {
		return fmt.Errorf("updating account %s: %w", a.ID, err)
	}
	n, err := o.q.Exec(ctx, `UPDATE accounts SET name = ?, kind = ?, country = ?, address = ?, email = ?,
		status = ?, screening = ?, updated = ? WHERE id = ?`,
		a.Name, a.Kind, a.Country, a.Address, a.Email, a.Status, jsonArg(a.Screening, "{}"), timeArg(a.Updated), a.ID)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return o.wrapErr(err, "updating account %s", a.ID)
}

// ListAccounts lists accounts by name; see store.Tx.
func (o *ops) ListAccounts(ctx context.Context, f store.AccountFilter) ([]store.Account, error) {
	var where []string
	var args []any
	for _, c := range []struct{ col, v string }{{"status", f.Status}, {"kind", f.Kind}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	q := `SELECT ` + accountCols + ` FROM accounts`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY name, id LIMIT ? OFFSET ?`
	args = append(args, limitOr(f.Limit, 100), max(f.Offset, 0))
	return collect(iterate(ctx, o.q, "accounts", q, args, scanAccount))
}

// insertChunk is how many rows one multi-row INSERT carries.
const insertChunk = 500

// InsertAccounts inserts many accounts in one transaction; see store.Store.
func (o *ops) insertAccounts(ctx context.Context, as []store.Account) error {
	now := store.Now()
	for i := range as {
		if err := prepAccount(&as[i], now); err != nil {
			return fmt.Errorf("inserting accounts: record %d: %w", i+1, err)
		}
	}
	return o.atomic(ctx, func(t *ops) error {
		for start := 0; start < len(as); start += insertChunk {
			end := min(start+insertChunk, len(as))
			var sb strings.Builder
			sb.WriteString(`INSERT INTO accounts (` + accountCols + `) VALUES `)
			args := make([]any, 0, (end-start)*10)
			for i := start; i < end; i++ {
				if i > start {
					sb.WriteString(", ")
				}
				sb.WriteString(placeholders(10))
				args = append(args, accountArgs(&as[i])...)
			}
			if _, err := t.q.Exec(ctx, sb.String(), args...); err != nil {
				return t.wrapErr(err, "inserting accounts %d to %d", start+1, end)
			}
		}
		return nil
	})
}

// Accounts streams every account by id; see store.Store.
func (o *ops) Accounts(ctx context.Context) iter.Seq2[store.Account, error] {
	return iterate(ctx, o.q, "accounts", `SELECT `+accountCols+` FROM accounts ORDER BY id`, nil, scanAccount)
}

// ---- zones ----

const zoneCols = `id, account_id, host, aliases, origins, settings, status, reasons, source, created, updated`

func scanZone(r Rows) (store.Zone, error) {
	var z store.Zone
	err := r.Scan(&z.ID, scanStr{&z.AccountID}, &z.Host, scanJSON{&z.Aliases}, scanJSON{&z.Origins},
		scanJSON{&z.Settings}, &z.Status, scanJSON{&z.Reasons}, &z.Source, scanTime{&z.Created}, scanTime{&z.Updated})
	return z, err
}

func defaultJSON(raw *json.RawMessage, def string) {
	if len(*raw) == 0 {
		*raw = json.RawMessage(def)
	}
}

func prepZone(z *store.Zone, now time.Time) error {
	if z.ID == "" {
		z.ID = store.NewID("zone")
	}
	if z.Status == "" {
		z.Status = store.ZoneActive
	}
	if z.Source == "" {
		z.Source = store.SourceAPI
	}
	defaultJSON(&z.Aliases, "[]")
	defaultJSON(&z.Origins, "[]")
	defaultJSON(&z.Settings, "{}")
	defaultJSON(&z.Reasons, "[]")
	if z.Created.IsZero() {
		z.Created = now
	}
	if z.Updated.IsZero() {
		z.Updated = z.Created
	}
	return store.ValidateZone(z)
}

// CreateZone inserts a zone; see store.Tx.
func (o *ops) createZone(ctx context.Context, z *store.Zone) error {
	if err := prepZone(z, store.Now()); err != nil {
		return fmt.Errorf("creating zone %s: %w", z.Host, err)
	}
	_, err := o.q.Exec(ctx, `INSERT INTO zones (`+zoneCols+`) VALUES `+placeholders(11),
		z.ID, strArg(z.AccountID), z.Host, string(z.Aliases), string(z.Origins), string(z.Settings),
		z.Status, string(z.Reasons), z.Source, timeArg(z.Created), timeArg(z.Updated))
	return o.wrapErr(err, "creating zone %s", z.Host)
}

func (o *ops) getZone(ctx context.Context, what, where string, arg any) (store.Zone, error) {
	rows, err := o.q.Query(ctx, `SELECT `+zoneCols+` FROM zones WHERE `+where+` = ?`, arg)
	if err != nil {
		return store.Zone{}, o.wrapErr(err, "reading zone %s", what)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return store.Zone{}, o.wrapErr(err, "reading zone %s", what)
		}
		return store.Zone{}, fmt.Errorf("reading zone %s: %w", what, store.ErrNotFound)
	}
	z, err := scanZone(rows)
	return z, o.wrapErr(err, "reading zone %s", what)
}

// GetZone reads a zone by id; see store.Tx.
func (o *ops) GetZone(ctx context.Context, id string) (store.Zone, error) {
	return o.getZone(ctx, id, "id", id)
}

// GetZoneByHost reads a zone by host; see store.Tx.
func (o *ops) GetZoneByHost(ctx context.Context, host string) (store.Zone, error) {
	return o.getZone(ctx, host, "host", host)
}

// UpdateZone rewrites a zone; see store.Tx.
func (o *ops) updateZone(ctx context.Context, z *store.Zone) error {
	z.Updated = store.Now()
	defaultJSON(&z.Aliases, "[]")
	defaultJSON(&z.Origins, "[]")
	defaultJSON(&z.Settings, "{}")
	defaultJSON(&z.Reasons, "[]")
	if err := store.ValidateZone(z); err != nil {
		return fmt.Errorf("updating zone %s: %w", z.ID, err)
	}
	n, err := o.q.Exec(ctx, `UPDATE zones SET account_id = ?, host = ?, aliases = ?, origins = ?, settings = ?,
		status = ?, reasons = ?, source = ?, updated = ? WHERE id = ?`,
		strArg(z.AccountID), z.Host, string(z.Aliases), string(z.Origins), string(z.Settings),
		z.Status, string(z.Reasons), z.Source, timeArg(z.Updated), z.ID)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return o.wrapErr(err, "updating zone %s", z.ID)
}

// DeleteZone removes a zone; see store.Tx.
func (o *ops) deleteZone(ctx context.Context, id string) error {
	return o.atomic(ctx, func(t *ops) error {
		if _, err := t.q.Exec(ctx, `UPDATE cases SET zone_id = NULL WHERE zone_id = ?`, id); err != nil {
			return t.wrapErr(err, "deleting zone %s: detaching cases", id)
		}
		n, err := t.q.Exec(ctx, `DELETE FROM zones WHERE id = ?`, id)
		if err == nil && n == 0 {
			err = store.ErrNotFound
		}
		return t.wrapErr(err, "deleting zone %s", id)
	})
}

// ListZones lists zones by host; see store.Tx.
func (o *ops) ListZones(ctx context.Context, f store.ZoneFilter) ([]store.Zone, error) {
	var where []string
	var args []any
	for _, c := range []struct{ col, v string }{{"account_id", f.AccountID}, {"status", f.Status}, {"source", f.Source}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	q := `SELECT ` + zoneCols + ` FROM zones`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY host LIMIT ? OFFSET ?`
	args = append(args, limitOr(f.Limit, 100), max(f.Offset, 0))
	return collect(iterate(ctx, o.q, "zones", q, args, scanZone))
}

// Zones streams every zone by id; see store.Store.
func (o *ops) Zones(ctx context.Context) iter.Seq2[store.Zone, error] {
	return iterate(ctx, o.q, "zones", `SELECT `+zoneCols+` FROM zones ORDER BY id`, nil, scanZone)
}

// statusChunk is how many rows one batch UPDATE carries.
const statusChunk = 500

// SetStatuses sets many statuses at once; see store.Tx.
func (o *ops) setStatuses(ctx context.Context, subject string, updates []store.StatusUpdate) (int, error) {
	var table string
	var allowed []string
	switch subject {
	case store.SubjectAccount:
		table, allowed = "accounts", []string{store.AccountActive, store.AccountReview, store.AccountBlocked}
	case store.SubjectZone:
		table, allowed = "zones", []string{store.ZoneActive, store.ZoneReview, store.ZoneRejected, store.ZoneSuspended}
	default:
		return 0, fmt.Errorf("setting statuses: %w: subject %q is not account or zone", store.ErrInvalid, subject)
	}
	for i, u := range updates {
		ok := false
		for _, s := range allowed {
			ok = ok || s == u.Status
		}
		if !ok {
			return 0, fmt.Errorf("setting statuses: update %d (%s): %w: status %q, want one of %v", i+1, u.ID, store.ErrInvalid, u.Status, allowed)
		}
		if len(u.Reasons) > 0 && (subject != store.SubjectZone || !json.Valid(u.Reasons)) {
			return 0, fmt.Errorf("setting statuses: update %d (%s): %w: reasons must be JSON and only for zones", i+1, u.ID, store.ErrInvalid)
		}
	}
	total := 0
	if o.db.drv.Name() == "postgres" {
		err := o.atomic(ctx, func(t *ops) error {
			total = 0
			n, err := t.setStatusesArrays(ctx, table, subject, updates)
			total = n
			return err
		})
		return total, err
	}
	err := o.atomic(ctx, func(t *ops) error {
		total = 0
		now := timeArg(store.Now())
		for start := 0; start < len(updates); start += statusChunk {
			end := min(start+statusChunk, len(updates))
			// One UPDATE ... FROM (SELECT ? AS id, ... UNION ALL ...) per chunk:
			// both SQLite (3.33+) and PostgreSQL accept it.
			var sb strings.Builder
			args := make([]any, 0, (end-start)*3+1)
			args = append(args, now)
			for i := start; i < end; i++ {
				if i > start {
					sb.WriteString(" UNION ALL ")
				}
				u := updates[i]
				var reasons any
				if len(u.Reasons) > 0 {
					reasons = string(u.Reasons)
				}
				if i == start {
					sb.WriteString(`SELECT CAST(? AS TEXT) AS id, CAST(? AS TEXT) AS status, CAST(? AS TEXT) AS reasons`)
				} else {
					sb.WriteString(`SELECT ?, ?, ?`)
				}
				args = append(args, u.ID, u.Status, reasons)
			}
			set := `status = v.status, updated = ?`
			if subject == store.SubjectZone {
				set += `, reasons = COALESCE(` + t.db.castJSON("v.reasons") + `, ` + table + `.reasons)`
			}
			q := `UPDATE ` + table + ` SET ` + set + ` FROM (` + sb.String() + `) AS v WHERE ` + table + `.id = v.id`
			n, err := t.q.Exec(ctx, q, args...)
			if err != nil {
				return t.wrapErr(err, "setting %s statuses %d to %d", subject, start+1, end)
			}
			total += int(n)
		}
		return nil
	})
	return total, err
}

// arrayChunk is how many rows one PostgreSQL array UPDATE carries.
const arrayChunk = 10000

// setStatusesArrays is SetStatuses for PostgreSQL: the updates travel as
// three text arrays joined with unnest, one statement per arrayChunk rows,
// which plans once instead of once per row group (100,000 rows in about a
// second rather than ten).
func (o *ops) setStatusesArrays(ctx context.Context, table, subject string, updates []store.StatusUpdate) (int, error) {
	total := 0
	now := timeArg(store.Now())
	set := `status = v.status, updated = ?`
	if subject == store.SubjectZone {
		set += `, reasons = COALESCE(CAST(v.reasons AS jsonb), ` + table + `.reasons)`
	}
	q := `UPDATE ` + table + ` SET ` + set + ` FROM unnest(CAST(? AS text[]), CAST(? AS text[]), CAST(? AS text[])) AS v(id, status, reasons) WHERE ` + table + `.id = v.id`
	for start := 0; start < len(updates); start += arrayChunk {
		end := min(start+arrayChunk, len(updates))
		ids := make([]string, 0, end-start)
		statuses := make([]string, 0, end-start)
		reasons := make([]*string, 0, end-start)
		for _, u := range updates[start:end] {
			ids = append(ids, u.ID)
			statuses = append(statuses, u.Status)
			var r *string
			if len(u.Reasons) > 0 {
				s := string(u.Reasons)
				r = &s
			}
			reasons = append(reasons, r)
		}
		n, err := o.q.Exec(ctx, q, now, ids, statuses, reasons)
		if err != nil {
			return total, o.wrapErr(err, "setting %s statuses %d to %d", subject, start+1, end)
		}
		total += int(n)
	}
	return total, nil
}

// castJSON casts a text expression to the JSON column type.
func (db *DB) castJSON(expr string) string {
	if db.drv.Name() == "postgres" {
		return "CAST(" + expr + " AS jsonb)"
	}
	return expr
}

// ---- screenings ----

const screeningCols = `id, subject_type, subject_id, lists, matches, result, actor, created`

func scanScreening(r Rows) (store.Screening, error) {
	var s store.Screening
	err := r.Scan(&s.ID, &s.SubjectType, &s.SubjectID, scanJSON{&s.Lists}, scanJSON{&s.Matches}, &s.Result, &s.Actor, scanTime{&s.Created})
	return s, err
}

// AddScreening records a screening; see store.Tx.
func (o *ops) AddScreening(ctx context.Context, s *store.Screening) error {
	if s.ID == "" {
		s.ID = store.NewID("scr")
	}
	if s.Created.IsZero() {
		s.Created = store.Now()
	}
	defaultJSON(&s.Lists, "{}")
	defaultJSON(&s.Matches, "[]")
	if err := store.ValidateScreening(s); err != nil {
		return fmt.Errorf("adding screening: %w", err)
	}
	_, err := o.q.Exec(ctx, `INSERT INTO screenings (`+screeningCols+`) VALUES `+placeholders(8),
		s.ID, s.SubjectType, s.SubjectID, string(s.Lists), string(s.Matches), s.Result, s.Actor, timeArg(s.Created))
	return o.wrapErr(err, "adding screening of %s %s", s.SubjectType, s.SubjectID)
}

// Screenings lists a subject's screenings, newest first; see store.Tx.
func (o *ops) Screenings(ctx context.Context, subjectType, subjectID string, limit int) ([]store.Screening, error) {
	return collect(iterate(ctx, o.q, "screenings",
		`SELECT `+screeningCols+` FROM screenings WHERE subject_type = ? AND subject_id = ? ORDER BY created DESC, id DESC LIMIT ?`,
		[]any{subjectType, subjectID, limitOr(limit, 100)}, scanScreening))
}

// ---- cases, reports, decisions ----

const caseCols = `id, zone_id, host, category, status, origin, summary, opened, last_report, report_count,
	decided_at, decision_action, decision_reason, decided_by, updated, assignee`

func scanCase(r Rows) (store.Case, error) {
	var c store.Case
	var count int64
	err := r.Scan(&c.ID, scanStr{&c.ZoneID}, &c.Host, &c.Category, &c.Status, &c.Origin, &c.Summary,
		scanTime{&c.Opened}, scanTime{&c.LastReport}, &count, scanTime{&c.DecidedAt},
		&c.DecisionAction, &c.DecisionReason, &c.DecidedBy, scanTime{&c.Updated}, &c.Assignee)
	c.ReportCount = int(count)
	return c, err
}

// CreateCase inserts a case; see store.Tx.
func (o *ops) CreateCase(ctx context.Context, c *store.Case) error {
	if c.ID == "" {
		c.ID = store.NewID("case")
	}
	now := store.Now()
	if c.Status == "" {
		c.Status = store.CaseOpen
	}
	if c.Origin == "" {
		c.Origin = store.OriginReport
	}
	if c.Opened.IsZero() {
		c.Opened = now
	}
	if c.LastReport.IsZero() {
		c.LastReport = c.Opened
	}
	c.Updated = now
	if err := store.ValidateCase(c); err != nil {
		return fmt.Errorf("creating case: %w", err)
	}
	_, err := o.q.Exec(ctx, `INSERT INTO cases (`+caseCols+`) VALUES `+placeholders(16),
		c.ID, strArg(c.ZoneID), c.Host, c.Category, c.Status, c.Origin, c.Summary, timeArg(c.Opened),
		timeArg(c.LastReport), c.ReportCount, timeArg(c.DecidedAt), c.DecisionAction, c.DecisionReason,
		c.DecidedBy, timeArg(c.Updated), c.Assignee)
	return o.wrapErr(err, "creating case for %s", c.Host)
}

func (o *ops) oneCase(ctx context.Context, what, q string, args ...any) (store.Case, error) {
	rows, err := o.q.Query(ctx, q, args...)
	if err != nil {
		return store.Case{}, o.wrapErr(err, "reading case %s", what)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return store.Case{}, o.wrapErr(err, "reading case %s", what)
		}
		return store.Case{}, fmt.Errorf("reading case %s: %w", what, store.ErrNotFound)
	}
	c, err := scanCase(rows)
	return c, o.wrapErr(err, "reading case %s", what)
}

// GetCase reads a case; see store.Tx.
func (o *ops) GetCase(ctx context.Context, id string) (store.Case, error) {
	return o.oneCase(ctx, id, `SELECT `+caseCols+` FROM cases WHERE id = ?`, id)
}

// FindActiveCase finds the open or suspended case of a host; see store.Tx.
func (o *ops) FindActiveCase(ctx context.Context, host, category string) (store.Case, error) {
	return o.oneCase(ctx, "for "+host, `SELECT `+caseCols+` FROM cases WHERE host = ? AND category = ?
		AND status IN ('open', 'suspended') ORDER BY opened DESC, id DESC LIMIT 1`, host, category)
}

// UpdateCase rewrites a case; see store.Tx.
func (o *ops) updateCase(ctx context.Context, c *store.Case) error {
	c.Updated = store.Now()
	if err := store.ValidateCase(c); err != nil {
		return fmt.Errorf("updating case %s: %w", c.ID, err)
	}
	n, err := o.q.Exec(ctx, `UPDATE cases SET zone_id = ?, host = ?, category = ?, status = ?, origin = ?, summary = ?,
		opened = ?, last_report = ?, report_count = ?, decided_at = ?, decision_action = ?, decision_reason = ?,
		decided_by = ?, updated = ?, assignee = ? WHERE id = ?`,
		strArg(c.ZoneID), c.Host, c.Category, c.Status, c.Origin, c.Summary, timeArg(c.Opened),
		timeArg(c.LastReport), c.ReportCount, timeArg(c.DecidedAt), c.DecisionAction, c.DecisionReason,
		c.DecidedBy, timeArg(c.Updated), c.Assignee, c.ID)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return o.wrapErr(err, "updating case %s", c.ID)
}

// ListCases lists cases, newest opened first; see store.Tx.
func (o *ops) ListCases(ctx context.Context, f store.CaseFilter) ([]store.Case, error) {
	var where []string
	var args []any
	for _, c := range []struct{ col, v string }{{"status", f.Status}, {"category", f.Category}, {"host", f.Host}, {"zone_id", f.ZoneID}, {"assignee", f.Assignee}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if f.Unassigned {
		where = append(where, "assignee = ''")
	}
	q := `SELECT ` + caseCols + ` FROM cases`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	if f.Oldest {
		q += ` ORDER BY opened ASC, id ASC LIMIT ? OFFSET ?`
	} else {
		q += ` ORDER BY opened DESC, id DESC LIMIT ? OFFSET ?`
	}
	args = append(args, limitOr(f.Limit, 100), max(f.Offset, 0))
	return collect(iterate(ctx, o.q, "cases", q, args, scanCase))
}

const reportCols = `id, case_id, reporter_email, description, evidence_urls, client_ip, created, fingerprint, repeats`

func scanReport(r Rows) (store.Report, error) {
	var p store.Report
	var repeats int64
	err := r.Scan(&p.ID, &p.CaseID, &p.ReporterEmail, &p.Description, scanJSON{&p.EvidenceURLs}, &p.ClientIP, scanTime{&p.Created},
		&p.Fingerprint, &repeats)
	p.Repeats = int(repeats)
	return p, err
}

// AddReport inserts a report; see store.Tx.
func (o *ops) AddReport(ctx context.Context, r *store.Report) error {
	if r.ID == "" {
		r.ID = store.NewID("rep")
	}
	if r.Created.IsZero() {
		r.Created = store.Now()
	}
	defaultJSON(&r.EvidenceURLs, "[]")
	if err := store.ValidateReport(r); err != nil {
		return fmt.Errorf("adding report: %w", err)
	}
	_, err := o.q.Exec(ctx, `INSERT INTO reports (`+reportCols+`) VALUES `+placeholders(9),
		r.ID, r.CaseID, r.ReporterEmail, r.Description, string(r.EvidenceURLs), r.ClientIP, timeArg(r.Created), r.Fingerprint, r.Repeats)
	return o.wrapErr(err, "adding report to case %s", r.CaseID)
}

// RepeatReport counts one more identical report on the newest report of
// the case with this fingerprint filed at or after since; see store.Tx.
func (o *ops) RepeatReport(ctx context.Context, caseID, fingerprint string, since time.Time) (store.Report, error) {
	if fingerprint == "" {
		return store.Report{}, store.ErrNotFound
	}
	rs, err := collect(iterate(ctx, o.q, "reports", `SELECT `+reportCols+` FROM reports WHERE case_id = ? AND fingerprint = ? AND created >= ?
		ORDER BY created DESC, id DESC LIMIT 1`, []any{caseID, fingerprint, timeArg(since)}, scanReport))
	if err != nil {
		return store.Report{}, err
	}
	if len(rs) == 0 {
		return store.Report{}, store.ErrNotFound
	}
	r := rs[0]
	if _, err := o.q.Exec(ctx, `UPDATE reports SET repeats = repeats + 1 WHERE id = ?`, r.ID); err != nil {
		return store.Report{}, o.wrapErr(err, "counting a repeat of report %s", r.ID)
	}
	r.Repeats++
	return r, nil
}

// Reports lists a case's reports, oldest first; see store.Tx.
func (o *ops) Reports(ctx context.Context, caseID string) ([]store.Report, error) {
	return collect(iterate(ctx, o.q, "reports", `SELECT `+reportCols+` FROM reports WHERE case_id = ? ORDER BY created, id`,
		[]any{caseID}, scanReport))
}

const decisionCols = `id, case_id, action, reason, actor, created`

func scanDecision(r Rows) (store.Decision, error) {
	var d store.Decision
	err := r.Scan(&d.ID, &d.CaseID, &d.Action, &d.Reason, &d.Actor, scanTime{&d.Created})
	return d, err
}

// AddDecision inserts a decision; see store.Tx.
func (o *ops) addDecision(ctx context.Context, d *store.Decision) error {
	if d.ID == "" {
		d.ID = store.NewID("dec")
	}
	if d.Created.IsZero() {
		d.Created = store.Now()
	}
	if err := store.ValidateDecision(d); err != nil {
		return fmt.Errorf("adding decision: %w", err)
	}
	_, err := o.q.Exec(ctx, `INSERT INTO decisions (`+decisionCols+`) VALUES `+placeholders(6),
		d.ID, d.CaseID, d.Action, d.Reason, d.Actor, timeArg(d.Created))
	return o.wrapErr(err, "adding decision to case %s", d.CaseID)
}

// Decisions lists a case's decisions, oldest first; see store.Tx.
func (o *ops) Decisions(ctx context.Context, caseID string) ([]store.Decision, error) {
	return collect(iterate(ctx, o.q, "decisions", `SELECT `+decisionCols+` FROM decisions WHERE case_id = ? ORDER BY created, id`,
		[]any{caseID}, scanDecision))
}

// ---- tokens ----

const tokenCols = `id, scope, note, created, revoked, hash`

func scanToken(r Rows) (store.TokenRecord, error) {
	var t store.TokenRecord
	err := r.Scan(&t.ID, &t.Scope, &t.Note, scanTime{&t.Created}, scanTime{&t.Revoked}, &t.Hash)
	return t, err
}

// PutToken inserts a token record; see store.Tx.
func (o *ops) putToken(ctx context.Context, t store.TokenRecord) error {
	if err := store.ValidateToken(&t); err != nil {
		return fmt.Errorf("storing token: %w", err)
	}
	_, err := o.q.Exec(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES `+placeholders(6),
		t.ID, t.Scope, t.Note, timeArg(t.Created), timeArg(t.Revoked), t.Hash)
	return o.wrapErr(err, "storing token %s", t.ID)
}

// GetToken reads a token record; see store.Tx.
func (o *ops) GetToken(ctx context.Context, id string) (store.TokenRecord, error) {
	rows, err := o.q.Query(ctx, `SELECT `+tokenCols+` FROM tokens WHERE id = ?`, id)
	if err != nil {
		return store.TokenRecord{}, o.wrapErr(err, "reading token %s", id)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return store.TokenRecord{}, o.wrapErr(err, "reading token %s", id)
		}
		return store.TokenRecord{}, fmt.Errorf("reading token %s: %w", id, store.ErrNotFound)
	}
	t, err := scanToken(rows)
	return t, o.wrapErr(err, "reading token %s", id)
}

// ListTokens lists every token, oldest first; see store.Tx.
func (o *ops) ListTokens(ctx context.Context) ([]store.TokenRecord, error) {
	return collect(iterate(ctx, o.q, "tokens", `SELECT `+tokenCols+` FROM tokens ORDER BY created, id`, nil, scanToken))
}

// RevokeToken revokes a token; see store.Tx.
func (o *ops) revokeToken(ctx context.Context, id string, at time.Time) error {
	return o.atomic(ctx, func(t *ops) error {
		if _, err := t.GetToken(ctx, id); err != nil {
			return fmt.Errorf("revoking token: %w", err)
		}
		_, err := t.q.Exec(ctx, `UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL`, timeArg(at), id)
		return t.wrapErr(err, "revoking token %s", id)
	})
}

// ---- screened list versions ----

// ScreenedVersions reads the list versions last screened against; see
// store.Tx.
func (o *ops) ScreenedVersions(ctx context.Context) (map[string]string, error) {
	type row struct{ source, version string }
	rows, err := collect(iterate(ctx, o.q, "screened lists", `SELECT source, version FROM screened_lists ORDER BY source`, nil,
		func(r Rows) (row, error) {
			var x row
			err := r.Scan(&x.source, &x.version)
			return x, err
		}))
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(rows))
	for _, x := range rows {
		m[x.source] = x.version
	}
	return m, nil
}

// SetScreenedVersions records the list versions screened against; see
// store.Tx.
func (o *ops) SetScreenedVersions(ctx context.Context, versions map[string]string) error {
	return o.atomic(ctx, func(t *ops) error {
		for src, v := range versions {
			if src == "" || v == "" {
				return fmt.Errorf("recording screened list versions: %w: empty source or version (%q=%q)", store.ErrInvalid, src, v)
			}
			if _, err := t.q.Exec(ctx, `INSERT INTO screened_lists (source, version) VALUES (?, ?)
ON CONFLICT (source) DO UPDATE SET version = excluded.version`, src, v); err != nil {
				return t.wrapErr(err, "recording screened list version %s", src)
			}
		}
		return nil
	})
}

// ---- audit ----

const auditCols = `seq, time, actor, action, subject, data, prev_hash, hash`

func scanEntry(r Rows) (audit.Entry, error) {
	var e audit.Entry
	var ts, data string
	if err := r.Scan(&e.Seq, &ts, &e.Actor, &e.Action, &e.Subject, &data, &e.PrevHash, &e.Hash); err != nil {
		return e, err
	}
	t, err := audit.ParseTime(ts)
	if err != nil {
		// Keep the entry: Verify reports it as edited (its hash will not
		// match a zero time).
		t = time.Time{}
	}
	e.Time = t
	e.Data = json.RawMessage(data)
	return e, nil
}

// Append seals ev onto the audit chain under the append lock; see
// store.Tx and audit.Writer.
func (o *ops) Append(ctx context.Context, ev audit.Event) (audit.Entry, error) {
	var e audit.Entry
	err := o.atomic(ctx, func(t *ops) error {
		var h audit.Head
		if err := queryRow(ctx, t.q, `SELECT seq, hash FROM audit_head WHERE id = 1`+t.db.drv.ForUpdate(), nil, &h.Seq, &h.Hash); err != nil {
			return t.wrapErr(err, "reading audit head")
		}
		var err error
		e, err = audit.Seal(h, ev, time.Now())
		if err != nil {
			return err
		}
		if _, err := t.q.Exec(ctx, `INSERT INTO audit_log (`+auditCols+`) VALUES `+placeholders(8),
			e.Seq, audit.FormatTime(e.Time), e.Actor, e.Action, e.Subject, string(e.Data), e.PrevHash, e.Hash); err != nil {
			return t.wrapErr(err, "appending audit entry %d", e.Seq)
		}
		n, err := t.q.Exec(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1 AND seq = ?`, e.Seq, e.Hash, h.Seq)
		if err == nil && n != 1 {
			err = fmt.Errorf("the head moved from seq %d during the append", h.Seq)
		}
		return t.wrapErr(err, "moving audit head to %d", e.Seq)
	})
	if err != nil {
		return audit.Entry{}, fmt.Errorf("appending audit event %s: %w", ev.Action, err)
	}
	return e, nil
}

// LockWrites locks the audit head row for the rest of the transaction;
// see store.Tx.
func (o *ops) LockWrites(ctx context.Context) error {
	if !o.inTx {
		return nil
	}
	var seq int64
	if err := queryRow(ctx, o.q, `SELECT seq FROM audit_head WHERE id = 1`+o.db.drv.ForUpdate(), nil, &seq); err != nil {
		return o.wrapErr(err, "locking the store for writing")
	}
	return nil
}

// Entries streams audit entries from seq on; see audit.Source.
func (o *ops) Entries(ctx context.Context, from int64) iter.Seq2[audit.Entry, error] {
	return iterate(ctx, o.q, "audit log", `SELECT `+auditCols+` FROM audit_log WHERE seq >= ? ORDER BY seq`, []any{from}, scanEntry)
}

// Head returns the stored audit head; see audit.Source.
func (o *ops) Head(ctx context.Context) (audit.Head, error) {
	var h audit.Head
	if err := queryRow(ctx, o.q, `SELECT seq, hash FROM audit_head WHERE id = 1`, nil, &h.Seq, &h.Hash); err != nil {
		return h, o.wrapErr(err, "reading audit head")
	}
	return h, nil
}
