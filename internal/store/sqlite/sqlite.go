// Package sqlite is the embedded control-plane store: one SQLite file,
// DataDir/rampart.db, through modernc.org/sqlite (pure Go, no cgo).
//
// The database runs in WAL mode (readers never block the writer), with
// synchronous=FULL (a committed transaction survives a power cut, not just
// a crash), foreign keys on and a 10 s busy timeout. Every write
// transaction starts with BEGIN IMMEDIATE, so it holds SQLite's single
// write lock from its first statement: writers queue instead of failing
// with SQLITE_BUSY half-way, and audit appends are serialized by that
// lock. Several processes may open the same file (a running server and the
// rampart CLI).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/sqlcore"
)

// FileName is the database file inside the data directory.
const FileName = "rampart.db"

//go:embed migrations/*.up.sql
var migrations embed.FS

// Open opens (creating if needed) DataDir/rampart.db, creating dataDir
// with mode 0700, and applies pending migrations.
func Open(ctx context.Context, dataDir string) (*sqlcore.DB, error) {
	if dataDir == "" {
		return nil, errors.New("opening sqlite store: empty data directory")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("opening sqlite store: creating data directory: %w", err)
	}
	return OpenFile(ctx, filepath.Join(dataDir, FileName))
}

// OpenFile opens the database file at path and applies pending migrations.
func OpenFile(ctx context.Context, path string) (*sqlcore.DB, error) {
	q := url.Values{}
	q.Set("_txlock", "immediate")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	dsn := "file:" + path + "?" + q.Encode()
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	sdb.SetMaxOpenConns(8)
	sdb.SetMaxIdleConns(8)
	sdb.SetConnMaxIdleTime(5 * time.Minute)
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	// The file holds tokens' hashes and compliance records: keep it private.
	_ = os.Chmod(path, 0o600)
	db := sqlcore.New(&driver{db: sdb})
	if _, err := db.Migrate(ctx, migrations, "migrations"); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	return db, nil
}

// driver adapts database/sql on modernc.org/sqlite to sqlcore.Driver.
type driver struct{ db *sql.DB }

var _ sqlcore.Driver = (*driver)(nil)

func (d *driver) Name() string          { return "sqlite" }
func (d *driver) ForUpdate() string     { return "" }
func (d *driver) MigrationLock() string { return "" }
func (d *driver) Close() error          { return d.db.Close() }

func (d *driver) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return execOn(ctx, d.db, query, args)
}

func (d *driver) Query(ctx context.Context, query string, args ...any) (sqlcore.Rows, error) {
	return queryOn(ctx, d.db, query, args)
}

// InTx runs fn in a BEGIN IMMEDIATE transaction.
func (d *driver) InTx(ctx context.Context, fn func(q sqlcore.Querier) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(txQuerier{tx}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing transaction: %w", err)
	}
	return nil
}

func (d *driver) IsUnique(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func (d *driver) IsRetryable(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()&0xff == sqlite3.SQLITE_BUSY
	}
	return false
}

// execer is what *sql.DB and *sql.Tx share.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

type txQuerier struct{ tx *sql.Tx }

func (t txQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return execOn(ctx, t.tx, query, args)
}

func (t txQuerier) Query(ctx context.Context, query string, args ...any) (sqlcore.Rows, error) {
	return queryOn(ctx, t.tx, query, args)
}

// convertArgs writes times as fixed-width UTC text (sqlcore.TimeLayout), so
// that they sort as text and read back exactly.
func convertArgs(args []any) []any {
	for i, a := range args {
		if t, ok := a.(time.Time); ok {
			args[i] = t.UTC().Format(sqlcore.TimeLayout)
		}
	}
	return args
}

func execOn(ctx context.Context, e execer, query string, args []any) (int64, error) {
	res, err := e.ExecContext(ctx, query, convertArgs(args)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func queryOn(ctx context.Context, e execer, query string, args []any) (sqlcore.Rows, error) {
	rows, err := e.QueryContext(ctx, query, convertArgs(args)...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

// compile-time check that the store satisfies the interface.
var _ store.Store = (*sqlcore.DB)(nil)
