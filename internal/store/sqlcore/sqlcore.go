// Package sqlcore implements store.Store once, in SQL that SQLite and
// PostgreSQL both accept, on top of a small Driver that each dialect
// package (internal/store/sqlite, internal/store/postgres) provides: how to
// run a statement, how to run a transaction, which errors mean a unique
// violation or a retry, and how to lock the audit head row.
//
// Queries use "?" placeholders; the PostgreSQL driver rewrites them to $n.
// Times are passed as time.Time (or nil for a zero time) and the SQLite
// driver stores them as fixed-width RFC 3339 text in UTC, so that they sort
// and compare as text. Audit times are always text (audit.TimeFormat), so
// the hashed bytes are exactly what is stored.
package sqlcore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/store"
)

// Rows is a cursor over query results.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Querier runs statements, on a pool or inside a transaction.
type Querier interface {
	// Exec runs a statement and returns the number of rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Query runs a query; the caller closes the Rows.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
}

// Driver is what a dialect package provides.
type Driver interface {
	Querier
	// InTx runs fn in one write transaction: committed if fn returns nil.
	InTx(ctx context.Context, fn func(q Querier) error) error
	// Name is "sqlite" or "postgres".
	Name() string
	// IsUnique reports whether err is a unique-constraint violation.
	IsUnique(err error) bool
	// IsRetryable reports whether the transaction that failed with err
	// may succeed if run again (serialization failure, deadlock).
	IsRetryable(err error) bool
	// ForUpdate is the suffix that row-locks a SELECT inside a transaction
	// (" FOR UPDATE"), or "" where a transaction already holds the
	// database's write lock (SQLite's BEGIN IMMEDIATE).
	ForUpdate() string
	// MigrationLock is run first in each migration transaction to keep
	// two processes from migrating at once ("" if the transaction is
	// enough).
	MigrationLock() string
	Close() error
}

// DB is a store.Store over a Driver.
type DB struct {
	*ops
	drv Driver
}

var (
	_ store.Store = (*DB)(nil)
	_ audit.Log   = (*DB)(nil)
)

// New returns a store over drv. Call Migrate before using it. Every call
// gets a deadline (deadline.go): DefaultTimeout unless SetTimeout changes
// it, or the caller's own.
func New(drv Driver) *DB {
	b := newBounded(drv)
	db := &DB{drv: b}
	db.ops = &ops{db: db, q: b}
	return db
}

// Dialect returns the driver's name.
func (db *DB) Dialect() string { return db.drv.Name() }

// Close closes the driver.
func (db *DB) Close() error { return db.drv.Close() }

// maxAttempts bounds how often Tx runs fn when the database asks for a retry.
const maxAttempts = 5

// Tx runs fn in one transaction; see store.Store.
func (db *DB) Tx(ctx context.Context, fn func(tx store.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.drv.InTx(ctx, func(q Querier) error {
			return fn(&ops{db: db, q: q, inTx: true})
		})
		if err != nil && attempt < maxAttempts && db.drv.IsRetryable(err) && ctx.Err() == nil {
			time.Sleep(time.Duration(attempt) * 5 * time.Millisecond)
			continue
		}
		return err
	}
}

// RawExec runs one statement outside the store's rules. It exists for
// repair tools and for tests that tamper with the audit table; normal code
// never needs it.
func (db *DB) RawExec(ctx context.Context, query string, args ...any) error {
	_, err := db.drv.Exec(ctx, query, args...)
	return err
}

// migrationName matches "NNN_name.up.sql".
var migrationName = regexp.MustCompile(`^(\d{3,})_([a-z0-9_]+)\.up\.sql$`)

// Migrate applies the migrations in fsys (files "NNN_name.up.sql" in dir)
// that schema_migrations does not list yet, in order, each in its own
// transaction together with its schema_migrations row. It returns the
// versions it applied.
func (db *DB) Migrate(ctx context.Context, fsys fs.FS, dir string) ([]int, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reading migrations: %w", err)
	}
	type mig struct {
		version int
		name    string
		file    string
	}
	var migs []mig
	for _, e := range ents {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("reading migrations: %s: name is not NNN_name.up.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		migs = append(migs, mig{v, m[2], path.Join(dir, e.Name())})
	}
	sort.Slice(migs, func(i, j int) bool { return migs[i].version < migs[j].version })
	for i := 1; i < len(migs); i++ {
		if migs[i].version == migs[i-1].version {
			return nil, fmt.Errorf("reading migrations: version %d appears twice", migs[i].version)
		}
	}
	var applied []int
	for _, m := range migs {
		body, err := fs.ReadFile(fsys, m.file)
		if err != nil {
			return applied, fmt.Errorf("reading migration %s: %w", m.file, err)
		}
		did := false
		err = db.drv.InTx(ctx, func(q Querier) error {
			did = false
			if lock := db.drv.MigrationLock(); lock != "" {
				if _, err := q.Exec(ctx, lock); err != nil {
					return fmt.Errorf("locking: %w", err)
				}
			}
			if _, err := q.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version INTEGER PRIMARY KEY,
				name TEXT NOT NULL,
				applied TEXT NOT NULL)`); err != nil {
				return fmt.Errorf("creating schema_migrations: %w", err)
			}
			var n int64
			if err := queryRow(ctx, q, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, []any{m.version}, &n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := q.Exec(ctx, string(body)); err != nil {
				return err
			}
			if _, err := q.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)`,
				m.version, m.name, audit.FormatTime(time.Now())); err != nil {
				return fmt.Errorf("recording: %w", err)
			}
			did = true
			return nil
		})
		if err != nil {
			return applied, fmt.Errorf("applying migration %s: %w", m.file, err)
		}
		if did {
			applied = append(applied, m.version)
		}
	}
	return applied, nil
}

// ops implements store.Tx on a Querier: the pool (each call its own
// transaction) or one transaction.
type ops struct {
	db   *DB
	q    Querier
	inTx bool
}

// atomic runs fn inside a transaction: the current one, or a new one.
func (o *ops) atomic(ctx context.Context, fn func(t *ops) error) error {
	if o.inTx {
		return fn(o)
	}
	return o.db.Tx(ctx, func(tx store.Tx) error { return fn(tx.(*ops)) })
}

// queryRow runs a query expected to return one row and scans it; no row is
// store.ErrNotFound.
func queryRow(ctx context.Context, q Querier, query string, args []any, dest ...any) error {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return store.ErrNotFound
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Err()
}

// timeArg is the argument for a time column: nil for the zero time.
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// strArg is the argument for a nullable text column: nil for "".
func strArg(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// jsonArg is the argument for a JSON column, with def for empty input.
func jsonArg(raw json.RawMessage, def string) any {
	if len(raw) == 0 {
		return def
	}
	return string(raw)
}

// TimeLayout is how the SQLite driver writes times: UTC, microseconds,
// fixed width, so that text order is time order.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// scanTime scans a time column stored as a time or as text.
type scanTime struct{ t *time.Time }

func (s scanTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*s.t = time.Time{}
	case time.Time:
		*s.t = x.UTC()
	case string:
		return s.parse(x)
	case []byte:
		return s.parse(string(x))
	default:
		return fmt.Errorf("scanning time: unexpected %T", v)
	}
	return nil
}

func (s scanTime) parse(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("scanning time %q: %w", v, err)
	}
	*s.t = t.UTC()
	return nil
}

// scanStr scans a nullable text column into a string ("" for NULL).
type scanStr struct{ s *string }

func (s scanStr) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*s.s = ""
	case string:
		*s.s = x
	case []byte:
		*s.s = string(x)
	default:
		return fmt.Errorf("scanning text: unexpected %T", v)
	}
	return nil
}

// scanJSON scans a JSON column into a RawMessage (a copy).
type scanJSON struct{ j *json.RawMessage }

func (s scanJSON) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*s.j = nil
	case string:
		*s.j = json.RawMessage(x)
	case []byte:
		*s.j = append(json.RawMessage(nil), x...)
	default:
		// pgx may hand over a decoded value for jsonb; re-encode it.
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Errorf("scanning JSON: %w", err)
		}
		*s.j = b
	}
	return nil
}

var (
	_ sql.Scanner = scanTime{}
	_ sql.Scanner = scanStr{}
	_ sql.Scanner = scanJSON{}
)

// wrapErr maps unique violations to store.ErrConflict.
func (o *ops) wrapErr(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s: %w", what, err)
	}
	if o.db.drv.IsUnique(err) {
		return fmt.Errorf("%s: %w: %v", what, store.ErrConflict, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// placeholders returns "(?, ?, ?)" for n columns.
func placeholders(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// iterate runs query and yields each row through scan.
func iterate[T any](ctx context.Context, q Querier, what, query string, args []any, scan func(Rows) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		rows, err := q.Query(ctx, query, args...)
		if err != nil {
			yield(zero, fmt.Errorf("reading %s: %w", what, err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				yield(zero, fmt.Errorf("reading %s: %w", what, err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(zero, fmt.Errorf("reading %s: %w", what, err))
		}
	}
}

// collect gathers an iterator into a slice.
func collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func limitOr(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}
