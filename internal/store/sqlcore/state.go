package sqlcore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
)

// The desired-state version and the nodes (issue 14). Every write the
// nodes must apply runs in one transaction with a bump of the
// state_version row; on PostgreSQL the bump also sends NOTIFY on
// store.StateChannel, delivered to the listening nodes when the
// transaction commits.

func (o *ops) bump(ctx context.Context) error {
	if _, err := o.q.Exec(ctx, `UPDATE state_version SET version = version + 1 WHERE id = 1`); err != nil {
		return o.wrapErr(err, "bumping the state version")
	}
	if o.db.Dialect() == "postgres" {
		if _, err := o.q.Exec(ctx, `SELECT pg_notify('`+store.StateChannel+`', '')`); err != nil {
			return o.wrapErr(err, "notifying the state change")
		}
	}
	return nil
}

// changing runs write and bumps the state version in one transaction.
func (o *ops) changing(ctx context.Context, write func(t *ops) error) error {
	return o.atomic(ctx, func(t *ops) error {
		if err := write(t); err != nil {
			return err
		}
		return t.bump(ctx)
	})
}

// CreateAccount inserts an account; see store.Tx.
func (o *ops) CreateAccount(ctx context.Context, a *store.Account) error {
	return o.changing(ctx, func(t *ops) error { return t.createAccount(ctx, a) })
}

// UpdateAccount updates an account; see store.Tx.
func (o *ops) UpdateAccount(ctx context.Context, a *store.Account) error {
	return o.changing(ctx, func(t *ops) error { return t.updateAccount(ctx, a) })
}

// InsertAccounts inserts many accounts in one transaction; see store.Store.
func (o *ops) InsertAccounts(ctx context.Context, as []store.Account) error {
	return o.changing(ctx, func(t *ops) error { return t.insertAccounts(ctx, as) })
}

// CreateZone inserts a zone; see store.Tx.
func (o *ops) CreateZone(ctx context.Context, z *store.Zone) error {
	return o.changing(ctx, func(t *ops) error { return t.createZone(ctx, z) })
}

// UpdateZone updates a zone; see store.Tx.
func (o *ops) UpdateZone(ctx context.Context, z *store.Zone) error {
	return o.changing(ctx, func(t *ops) error { return t.updateZone(ctx, z) })
}

// DeleteZone deletes a zone; see store.Tx.
func (o *ops) DeleteZone(ctx context.Context, id string) error {
	return o.changing(ctx, func(t *ops) error { return t.deleteZone(ctx, id) })
}

// SetStatuses sets many statuses; see store.Tx.
func (o *ops) SetStatuses(ctx context.Context, subject string, updates []store.StatusUpdate) (int, error) {
	var n int
	err := o.changing(ctx, func(t *ops) error {
		var err error
		n, err = t.setStatuses(ctx, subject, updates)
		return err
	})
	return n, err
}

// UpdateCase updates a case; see store.Tx.
func (o *ops) UpdateCase(ctx context.Context, c *store.Case) error {
	return o.changing(ctx, func(t *ops) error { return t.updateCase(ctx, c) })
}

// AddDecision records a decision; see store.Tx.
func (o *ops) AddDecision(ctx context.Context, d *store.Decision) error {
	return o.changing(ctx, func(t *ops) error { return t.addDecision(ctx, d) })
}

// PutToken inserts a token record; see store.Tx.
func (o *ops) PutToken(ctx context.Context, tr store.TokenRecord) error {
	return o.changing(ctx, func(t *ops) error { return t.putToken(ctx, tr) })
}

// RevokeToken revokes a token; see store.Tx.
func (o *ops) RevokeToken(ctx context.Context, id string, at time.Time) error {
	return o.changing(ctx, func(t *ops) error { return t.revokeToken(ctx, id, at) })
}

// StateVersion reads the desired-state version; see store.Store.
func (o *ops) StateVersion(ctx context.Context) (int64, error) {
	var v int64
	err := queryRow(ctx, o.q, `SELECT version FROM state_version WHERE id = 1`, nil, &v)
	return v, o.wrapErr(err, "reading the state version")
}

const nodeCols = `id, address, version, state_version, lists, healthy, problem, started, last_seen`

// PutNode records a node's heartbeat; see store.Store.
func (o *ops) PutNode(ctx context.Context, n store.Node) error {
	if n.ID == "" {
		return fmt.Errorf("recording node: %w: empty id", store.ErrInvalid)
	}
	lists, err := json.Marshal(n.Lists)
	if err != nil || n.Lists == nil {
		lists = []byte("{}")
	}
	if n.LastSeen.IsZero() {
		n.LastSeen = store.Now()
	}
	if n.Started.IsZero() {
		n.Started = n.LastSeen
	}
	_, err = o.q.Exec(ctx, `INSERT INTO nodes (`+nodeCols+`) VALUES `+placeholders(9)+`
ON CONFLICT (id) DO UPDATE SET address = excluded.address, version = excluded.version,
 state_version = excluded.state_version, lists = excluded.lists, healthy = excluded.healthy,
 problem = excluded.problem, started = excluded.started, last_seen = excluded.last_seen`,
		n.ID, n.Address, n.Version, n.StateVersion, string(lists), n.Healthy, n.Problem, timeArg(n.Started), timeArg(n.LastSeen))
	return o.wrapErr(err, "recording node %s", n.ID)
}

// ListNodes lists the nodes by id; see store.Store.
func (o *ops) ListNodes(ctx context.Context) ([]store.Node, error) {
	return collect(iterate(ctx, o.q, "nodes", `SELECT `+nodeCols+` FROM nodes ORDER BY id`, nil, func(r Rows) (store.Node, error) {
		var n store.Node
		var lists string
		err := r.Scan(&n.ID, &n.Address, &n.Version, &n.StateVersion, &lists, &n.Healthy, &n.Problem, scanTime{&n.Started}, scanTime{&n.LastSeen})
		if err == nil {
			n.Lists = map[string]string{}
			_ = json.Unmarshal([]byte(lists), &n.Lists)
		}
		return n, err
	}))
}
