// Package pgstorage is a certmagic.Storage on PostgreSQL, so that every
// edge node sharing one control-plane database shares its ACME accounts,
// certificates, keys and http-01 challenge tokens: one node obtains a
// certificate and every node serves it, and a challenge request reaching
// any node is answered.
//
// Values live in table acme_storage (key, value, modified), one row per
// certmagic "file"; "directories" are implicit, as the prefixes of keys up
// to a slash. Locks live in table acme_locks (name, owner, expires), one
// row per held lock. The tables are made on Open (CREATE TABLE IF NOT
// EXISTS, under a transaction-scoped advisory lock, so that nodes starting
// together do not race on the catalogue) in the connection's search_path,
// beside the control-plane store's tables.
//
// Locking follows certmagic's FileStorage, with a lease in place of a
// lock file's timestamp. Lock inserts the lock row with expires = now +
// LockLease, or takes over a row whose lease has run out, in one
// statement; otherwise it polls every PollInterval until it can, or until
// its context ends. While the lock is held a goroutine extends the lease
// every LockLease/3, so a lock is held as long as its holder lives and is
// taken over at most LockLease after the holder died (kill -9, a lost
// network). Lease times are the database's clock (clock_timestamp()), so
// clock skew between nodes does not matter. Unlock deletes the row only
// if this Lock call still owns it, and fails otherwise. As certmagic's
// Locker documentation says, a lease lock has no fencing token: a holder
// stalled for longer than its lease can overlap with the next one, which
// certmagic tolerates (it checks storage again after locking).
package pgstorage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults of Options.
const (
	// DefaultLockLease is how long a lock outlives its holder's last
	// renewal. certmagic's FileStorage treats a lock file as stale after
	// 10s without an update; a database round trip on a loaded node can be
	// slower than a file write, so the lease is longer.
	DefaultLockLease = 30 * time.Second
	// DefaultPollInterval is how often a waiting Lock tries again. An
	// issuance takes seconds, so waiting a second longer than needed is
	// cheap; FileStorage polls every second too.
	DefaultPollInterval = time.Second
)

// schemaLockID is the advisory lock key held while the tables are made
// ("acmestor" in ASCII, as a number).
const schemaLockID = 0x61636d6573746f72

// Options tune a Storage. The zero value uses the defaults.
type Options struct {
	// LockLease is the lease of a lock (DefaultLockLease when zero).
	LockLease time.Duration
	// PollInterval is how often a waiting Lock tries again
	// (DefaultPollInterval when zero).
	PollInterval time.Duration
	// Logger receives lock takeovers and failed renewals; nil discards.
	Logger *slog.Logger
}

// Storage is a certmagic.Storage (with certmagic's TryLocker and
// LockLeaseRenewer) on PostgreSQL. It is safe for concurrent use. Close
// releases its connections.
type Storage struct {
	pool  *pgxpool.Pool
	opts  Options
	log   *slog.Logger
	owner string // this Storage's identity in lock rows, plus a per-lock suffix

	mu    sync.Mutex
	held  map[string]*heldLock // lock name -> the lock this Storage holds
	close chan struct{}
	wg    sync.WaitGroup
}

// heldLock is a lock this Storage holds and keeps fresh.
type heldLock struct {
	token string
	stop  chan struct{}
}

// Interface guards.
var (
	_ certmagic.Storage          = (*Storage)(nil)
	_ certmagic.TryLocker        = (*Storage)(nil)
	_ certmagic.LockLeaseRenewer = (*Storage)(nil)
)

// Open connects to the PostgreSQL database at url (postgres://...; the
// URL's search_path chooses the schema), makes the tables when missing and
// returns the storage. The password, if any, never appears in errors.
func Open(ctx context.Context, url string, opts Options) (*Storage, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("opening ACME storage: parsing the store URL: %w", redact(err, url))
	}
	// Certificate work is rare and small: a few connections are plenty
	// (one per waiting Lock poll, renewal and Load at most).
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening ACME storage: %w", redact(err, url))
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("opening ACME storage on %s@%s:%d/%s: %w", cfg.ConnConfig.User, cfg.ConnConfig.Host,
			cfg.ConnConfig.Port, cfg.ConnConfig.Database, redact(err, url))
	}
	if opts.LockLease <= 0 {
		opts.LockLease = DefaultLockLease
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Storage{
		pool:  pool,
		opts:  opts,
		log:   log,
		owner: randomToken(),
		held:  map[string]*heldLock{},
		close: make(chan struct{}),
	}, nil
}

// migrate makes the tables. CREATE TABLE IF NOT EXISTS is not safe
// against itself run concurrently (both can pass the check and one fails
// on the catalogue's unique index), hence the advisory lock.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(schemaLockID)); err != nil {
			return fmt.Errorf("locking for migration: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS acme_storage (
			key      TEXT PRIMARY KEY,
			value    BYTEA NOT NULL,
			modified TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
		)`); err != nil {
			return fmt.Errorf("creating acme_storage: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS acme_locks (
			name    TEXT PRIMARY KEY,
			owner   TEXT NOT NULL,
			expires TIMESTAMPTZ NOT NULL
		)`); err != nil {
			return fmt.Errorf("creating acme_locks: %w", err)
		}
		return nil
	})
}

// Close stops keeping this Storage's locks fresh (they expire after their
// lease unless unlocked first) and closes its connections.
func (s *Storage) Close() {
	s.mu.Lock()
	select {
	case <-s.close:
	default:
		close(s.close)
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.pool.Close()
}

// validKey rejects keys certmagic never produces and that would make the
// prefix arithmetic wrong.
func validKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") {
		return fmt.Errorf("ACME storage: invalid key %q", key)
	}
	return nil
}

// Store puts value at key, replacing any value there.
func (s *Storage) Store(ctx context.Context, key string, value []byte) error {
	if err := validKey(key); err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO acme_storage (key, value, modified) VALUES ($1, $2, clock_timestamp())
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, modified = EXCLUDED.modified`, key, value)
	if err != nil {
		return fmt.Errorf("storing %s: %w", key, err)
	}
	return nil
}

// Load returns the value at key, or an error wrapping fs.ErrNotExist.
func (s *Storage) Load(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT value FROM acme_storage WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("loading %s: %w", key, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", key, err)
	}
	return v, nil
}

// Delete deletes key and, when key is a directory, every key below it. A
// missing key is not an error.
func (s *Storage) Delete(ctx context.Context, key string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM acme_storage WHERE key = $1 OR starts_with(key, $2)`, key, key+"/")
	if err != nil {
		return fmt.Errorf("deleting %s: %w", key, err)
	}
	return nil
}

// Exists reports whether key is a file or a directory.
func (s *Storage) Exists(ctx context.Context, key string) bool {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM acme_storage WHERE key = $1 OR starts_with(key, $2))`,
		key, key+"/").Scan(&ok)
	return err == nil && ok
}

// List returns the keys below dir, as certmagic's FileStorage does: with
// recursive, every file and directory at any depth; without, the files
// and directories directly in dir. A dir with nothing below it is
// fs.ErrNotExist, unless it is a file (then the list is empty). An empty
// dir lists from the root.
func (s *Storage) List(ctx context.Context, dir string, recursive bool) ([]string, error) {
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	rows, err := s.pool.Query(ctx, `SELECT key FROM acme_storage WHERE starts_with(key, $1) ORDER BY key`, prefix)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	if len(keys) == 0 {
		if dir != "" && s.isFile(ctx, dir) {
			return []string{}, nil
		}
		return nil, fmt.Errorf("listing %s: %w", dir, fs.ErrNotExist)
	}
	seen := map[string]bool{}
	var out []string
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, k := range keys {
		rest := k[len(prefix):]
		if !recursive {
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				rest = rest[:i]
			}
			add(prefix + rest)
			continue
		}
		// Every directory between dir and the file, then the file.
		for i := 0; i < len(rest); i++ {
			if rest[i] == '/' {
				add(prefix + rest[:i])
			}
		}
		add(k)
	}
	slices.Sort(out)
	return out, nil
}

func (s *Storage) isFile(ctx context.Context, key string) bool {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM acme_storage WHERE key = $1)`, key).Scan(&ok)
	return err == nil && ok
}

// Stat describes key: a file with its size and modification time, or a
// directory (IsTerminal false, Modified the newest time below it), or an
// error wrapping fs.ErrNotExist.
func (s *Storage) Stat(ctx context.Context, key string) (certmagic.KeyInfo, error) {
	var (
		size     int64
		modified time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT octet_length(value), modified FROM acme_storage WHERE key = $1`, key).Scan(&size, &modified)
	if err == nil {
		return certmagic.KeyInfo{Key: key, Modified: modified, Size: size, IsTerminal: true}, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return certmagic.KeyInfo{}, fmt.Errorf("stat %s: %w", key, err)
	}
	var newest *time.Time
	err = s.pool.QueryRow(ctx, `SELECT max(modified) FROM acme_storage WHERE starts_with(key, $1)`, key+"/").Scan(&newest)
	if err != nil {
		return certmagic.KeyInfo{}, fmt.Errorf("stat %s: %w", key, err)
	}
	if newest == nil {
		return certmagic.KeyInfo{}, fmt.Errorf("stat %s: %w", key, fs.ErrNotExist)
	}
	return certmagic.KeyInfo{Key: key, Modified: *newest, IsTerminal: false}, nil
}

// Lock takes the lock name, waiting while another holder's lease runs,
// until ctx ends. An expired lease is taken over.
func (s *Storage) Lock(ctx context.Context, name string) error {
	for {
		ok, err := s.TryLock(ctx, name)
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for ACME lock %s: %w", name, ctx.Err())
		case <-s.close:
			return fmt.Errorf("waiting for ACME lock %s: storage closed", name)
		case <-time.After(s.opts.PollInterval):
		}
	}
}

// TryLock takes the lock name if it is free or its lease has run out,
// and reports whether it did; it does not wait.
func (s *Storage) TryLock(ctx context.Context, name string) (bool, error) {
	s.mu.Lock()
	select {
	case <-s.close:
		s.mu.Unlock()
		return false, errors.New("ACME storage is closed")
	default:
	}
	_, mine := s.held[name]
	s.mu.Unlock()
	if mine {
		// Held by another caller of this Storage: that one unlocks it.
		return false, nil
	}
	token := s.owner + "/" + randomToken()
	var takeover bool
	err := s.pool.QueryRow(ctx, `INSERT INTO acme_locks (name, owner, expires)
		VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))
		ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, expires = EXCLUDED.expires
			WHERE acme_locks.expires < clock_timestamp()
		RETURNING xmax <> 0`, name, token, s.opts.LockLease.Seconds()).Scan(&takeover)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("taking ACME lock %s: %w", name, err)
	}
	if takeover {
		s.log.Warn("took over an expired ACME lock", "component", "certs", "lock", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, mine := s.held[name]; mine {
		// Another caller of this Storage took it between the check and
		// the insert; cannot happen, since the row was free or expired and
		// our own holders keep theirs fresh, but never lose track.
		_, _ = s.pool.Exec(context.WithoutCancel(ctx), `DELETE FROM acme_locks WHERE name = $1 AND owner = $2`, name, token)
		return false, nil
	}
	h := &heldLock{token: token, stop: make(chan struct{})}
	s.held[name] = h
	s.wg.Add(1)
	go s.keepFresh(name, h)
	return true, nil
}

// keepFresh extends the lease of a held lock every LockLease/3 until it
// is unlocked or the Storage closes. A lease made longer by
// RenewLockLease is never shortened.
func (s *Storage) keepFresh(name string, h *heldLock) {
	defer s.wg.Done()
	every := s.opts.LockLease / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-s.close:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		tag, err := s.pool.Exec(ctx, `UPDATE acme_locks
			SET expires = greatest(expires, clock_timestamp() + make_interval(secs => $3))
			WHERE name = $1 AND owner = $2`, name, h.token, s.opts.LockLease.Seconds())
		cancel()
		switch {
		case err != nil:
			// Try again at the next tick: the lease still has two thirds
			// of its time.
			s.log.Warn("renewing an ACME lock", "component", "certs", "lock", name, "error", err)
		case tag.RowsAffected() == 0:
			s.log.Error("an ACME lock this node held was taken over after its lease ran out", "component", "certs", "lock", name)
			return
		}
	}
}

// RenewLockLease extends a held lock's lease to at least lease from now;
// certmagic calls it before long retries of an issuance.
func (s *Storage) RenewLockLease(ctx context.Context, name string, lease time.Duration) error {
	s.mu.Lock()
	h := s.held[name]
	s.mu.Unlock()
	if h == nil {
		return fmt.Errorf("renewing ACME lock %s: not held", name)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE acme_locks
		SET expires = greatest(expires, clock_timestamp() + make_interval(secs => $3))
		WHERE name = $1 AND owner = $2`, name, h.token, math.Max(lease.Seconds(), s.opts.LockLease.Seconds()))
	if err != nil {
		return fmt.Errorf("renewing ACME lock %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("renewing ACME lock %s: the lease ran out and another node took it", name)
	}
	return nil
}

// Unlock releases the lock name taken by Lock or TryLock. It fails when
// this Storage does not hold it, or when its lease ran out and another
// holder took it over (the row is then left to that holder).
func (s *Storage) Unlock(ctx context.Context, name string) error {
	s.mu.Lock()
	h := s.held[name]
	if h != nil {
		delete(s.held, name)
		close(h.stop)
	}
	s.mu.Unlock()
	if h == nil {
		return fmt.Errorf("unlocking ACME lock %s: not held", name)
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM acme_locks WHERE name = $1 AND owner = $2`, name, h.token)
	if err != nil {
		return fmt.Errorf("unlocking ACME lock %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("unlocking ACME lock %s: the lease ran out and another node took it", name)
	}
	return nil
}

// String names the storage in certmagic's logs.
func (s *Storage) String() string { return "PostgreSQL ACME storage" }

func randomToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// redact removes the URL (which may hold a password) from an error text.
func redact(err error, url string) error {
	if url == "" || !strings.Contains(err.Error(), url) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), url, "[url]"))
}
