package sqlcore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
)

// The sanctions list versions shared by the nodes (issue 14): files
// content-addressed, one active version per source, activation bumping
// the state version.

var errListsNotEmpty = errors.New("list versions already active")

const listVersionCols = `source, hash, list, files, entities, published, imported, origin, actor, forced, reason, active, seq`

// ActivateListVersions stores files and activates vs; see store.Store.
func (o *ops) ActivateListVersions(ctx context.Context, vs []store.ListVersion, files [][]byte, onlyIfEmpty bool) (bool, error) {
	if len(vs) == 0 {
		return false, fmt.Errorf("activating list versions: %w: none given", store.ErrInvalid)
	}
	given := make(map[string][]byte, len(files))
	for _, b := range files {
		h := sha256.Sum256(b)
		given[hex.EncodeToString(h[:])] = b
	}
	for _, v := range vs {
		if v.Source == "" || v.Hash == "" || len(v.Files) == 0 {
			return false, fmt.Errorf("activating list versions: %w: version without source, hash or files", store.ErrInvalid)
		}
	}
	err := o.changing(ctx, func(t *ops) error {
		// The bump in changing comes last; take the state_version row's
		// lock first so that concurrent activations are serialised (the
		// onlyIfEmpty check included).
		if _, err := t.q.Exec(ctx, `UPDATE state_version SET version = version WHERE id = 1`); err != nil {
			return t.wrapErr(err, "locking the list versions")
		}
		if onlyIfEmpty {
			var n int64
			if err := queryRow(ctx, t.q, `SELECT COUNT(*) FROM list_versions WHERE active`, nil, &n); err != nil {
				return t.wrapErr(err, "counting list versions")
			}
			if n > 0 {
				return errListsNotEmpty
			}
		}
		for h, b := range given {
			if _, err := t.q.Exec(ctx, `INSERT INTO list_files (hash, data) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING`, h, b); err != nil {
				return t.wrapErr(err, "storing list file %s", h)
			}
		}
		var seq int64
		if err := queryRow(ctx, t.q, `SELECT COALESCE(MAX(seq), 0) FROM list_versions`, nil, &seq); err != nil {
			return t.wrapErr(err, "reading the list activation sequence")
		}
		for _, v := range vs {
			for name, h := range v.Files {
				if _, ok := given[h]; ok {
					continue
				}
				var one int
				if err := queryRow(ctx, t.q, `SELECT 1 FROM list_files WHERE hash = ?`, []any{h}, &one); err != nil {
					return t.wrapErr(err, "list %s version %s: file %s (%s)", v.Source, v.Hash, name, h)
				}
			}
			fj, err := json.Marshal(v.Files)
			if err != nil {
				return err
			}
			seq++
			if _, err := t.q.Exec(ctx, `UPDATE list_versions SET active = FALSE WHERE source = ? AND active`, v.Source); err != nil {
				return t.wrapErr(err, "deactivating list %s", v.Source)
			}
			imported := v.Imported
			if imported.IsZero() {
				imported = store.Now()
			}
			if _, err := t.q.Exec(ctx, `INSERT INTO list_versions (`+listVersionCols+`) VALUES `+placeholders(13)+`
ON CONFLICT (source, hash) DO UPDATE SET list = excluded.list, files = excluded.files, entities = excluded.entities,
 published = excluded.published, imported = excluded.imported, origin = excluded.origin, actor = excluded.actor,
 forced = excluded.forced, reason = excluded.reason, active = TRUE, seq = excluded.seq`,
				v.Source, v.Hash, v.List, string(fj), v.Entities, timeArg(v.Published), timeArg(imported), v.Origin, v.Actor, v.Forced, v.Reason, true, seq); err != nil {
				return t.wrapErr(err, "activating list %s version %s", v.Source, v.Hash)
			}
		}
		return nil
	})
	if errors.Is(err, errListsNotEmpty) {
		return false, nil
	}
	return err == nil, err
}

// ActiveListVersions returns the active list versions; see store.Store.
func (o *ops) ActiveListVersions(ctx context.Context) ([]store.ListVersion, error) {
	return collect(iterate(ctx, o.q, "list versions", `SELECT `+listVersionCols+` FROM list_versions WHERE active ORDER BY source`, nil,
		func(r Rows) (store.ListVersion, error) {
			var v store.ListVersion
			var files string
			var active bool
			err := r.Scan(&v.Source, &v.Hash, &v.List, &files, &v.Entities, scanTime{&v.Published}, scanTime{&v.Imported},
				&v.Origin, &v.Actor, &v.Forced, &v.Reason, &active, &v.Seq)
			if err != nil {
				return v, err
			}
			if err := json.Unmarshal([]byte(files), &v.Files); err != nil {
				return v, fmt.Errorf("list %s version %s: files: %w", v.Source, v.Hash, err)
			}
			return v, nil
		}))
}

// ListFile returns a list file by hash; see store.Store.
func (o *ops) ListFile(ctx context.Context, hash string) ([]byte, error) {
	var b []byte
	err := queryRow(ctx, o.q, `SELECT data FROM list_files WHERE hash = ?`, []any{hash}, &b)
	return b, o.wrapErr(err, "reading list file %s", hash)
}

// TakeLease takes or renews a lease; see store.Store.
func (o *ops) TakeLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	got := false
	err := o.atomic(ctx, func(t *ops) error {
		now := store.Now()
		var cur string
		var expires time.Time
		err := queryRow(ctx, t.q, `SELECT holder, expires FROM leases WHERE name = ?`+t.forUpdate(), []any{name}, &cur, scanTime{&expires})
		switch {
		case errors.Is(err, store.ErrNotFound):
			if _, err := t.q.Exec(ctx, `INSERT INTO leases (name, holder, expires) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`,
				name, holder, timeArg(now.Add(ttl))); err != nil {
				return t.wrapErr(err, "taking lease %s", name)
			}
			// A concurrent taker may have inserted first: read back.
			if err := queryRow(ctx, t.q, `SELECT holder FROM leases WHERE name = ?`, []any{name}, &cur); err != nil {
				return t.wrapErr(err, "taking lease %s", name)
			}
			got = cur == holder
			return nil
		case err != nil:
			return t.wrapErr(err, "reading lease %s", name)
		}
		if cur != holder && now.Before(expires) {
			return nil
		}
		if _, err := t.q.Exec(ctx, `UPDATE leases SET holder = ?, expires = ? WHERE name = ?`, holder, timeArg(now.Add(ttl)), name); err != nil {
			return t.wrapErr(err, "taking lease %s", name)
		}
		got = true
		return nil
	})
	return got, err
}

// forUpdate locks the rows read on PostgreSQL (SQLite has one writer).
func (o *ops) forUpdate() string {
	if o.db.Dialect() == "postgres" {
		return " FOR UPDATE"
	}
	return ""
}
