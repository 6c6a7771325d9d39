// Package postgres is the control-plane store on PostgreSQL through
// github.com/jackc/pgx/v5 (pgxpool), for several edge nodes sharing one
// database.
//
// Transactions run at READ COMMITTED. Audit appends lock the single
// audit_head row with SELECT ... FOR UPDATE, so appends from every node
// are serialized and the chain never forks. A transaction that fails with
// a serialization failure or deadlock is run again (store.Store.Tx).
// Migrations take a transaction-scoped advisory lock, so nodes starting
// together do not migrate twice. The schema is the connection's
// search_path: add "search_path=NAME" to the URL to use another schema.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/sqlcore"
)

//go:embed migrations/*.up.sql
var migrations embed.FS

// migrationLockID is the advisory lock key taken while migrating
// ("rampart" in ASCII, as a number).
const migrationLockID = 0x72616d70617274

// Open connects to the database at url (postgres://user@host:5432/db?...)
// and applies pending migrations. The password, if any, never appears in
// errors.
func Open(ctx context.Context, url string) (*sqlcore.DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("opening postgres store: parsing the URL: %w", redact(err, url))
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening postgres store: %w", redact(err, url))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("opening postgres store %s@%s:%d/%s: %w", cfg.ConnConfig.User, cfg.ConnConfig.Host,
			cfg.ConnConfig.Port, cfg.ConnConfig.Database, redact(err, url))
	}
	db := sqlcore.New(&driver{pool: pool})
	if _, err := db.Migrate(ctx, migrations, "migrations"); err != nil {
		pool.Close()
		return nil, fmt.Errorf("opening postgres store: %w", err)
	}
	return db, nil
}

// redact removes the URL (which may hold a password) from an error text.
func redact(err error, url string) error {
	if url == "" || !strings.Contains(err.Error(), url) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), url, "[url]"))
}

// driver adapts pgxpool to sqlcore.Driver.
type driver struct {
	pool *pgxpool.Pool
}

var _ sqlcore.Driver = (*driver)(nil)

func (d *driver) Name() string      { return "postgres" }
func (d *driver) ForUpdate() string { return " FOR UPDATE" }
func (d *driver) MigrationLock() string {
	return "SELECT pg_advisory_xact_lock(" + strconv.Itoa(migrationLockID) + ")"
}
func (d *driver) Close() error { d.pool.Close(); return nil }

// pgq is what a pool and a transaction share.
type pgq interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func (d *driver) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return execOn(ctx, d.pool, query, args)
}

func (d *driver) Query(ctx context.Context, query string, args ...any) (sqlcore.Rows, error) {
	return queryOn(ctx, d.pool, query, args)
}

// InTx runs fn in a READ COMMITTED transaction.
func (d *driver) InTx(ctx context.Context, fn func(q sqlcore.Querier) error) error {
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		return fn(txQuerier{tx})
	})
}

func (d *driver) IsUnique(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

func (d *driver) IsRetryable(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "40001" || e.Code == "40P01")
}

type txQuerier struct{ tx pgx.Tx }

func (t txQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return execOn(ctx, t.tx, query, args)
}

func (t txQuerier) Query(ctx context.Context, query string, args ...any) (sqlcore.Rows, error) {
	return queryOn(ctx, t.tx, query, args)
}

func execOn(ctx context.Context, q pgq, query string, args []any) (int64, error) {
	tag, err := q.Exec(ctx, rebind(query), args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func queryOn(ctx context.Context, q pgq, query string, args []any) (sqlcore.Rows, error) {
	rows, err := q.Query(ctx, rebind(query), args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// rebound caches rebind results: queries are few and fixed (bulk
// statements vary only by their row count).
var rebound sync.Map

// rebind turns sqlcore's "?" placeholders into $1, $2, ... Queries carry
// no "?" inside string literals.
func rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	if r, ok := rebound.Load(q); ok {
		return r.(string)
	}
	var sb strings.Builder
	sb.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			sb.WriteByte('$')
			sb.WriteString(strconv.Itoa(n))
			continue
		}
		sb.WriteByte(q[i])
	}
	r := sb.String()
	rebound.Store(q, r)
	return r
}

var _ store.Store = (*sqlcore.DB)(nil)
