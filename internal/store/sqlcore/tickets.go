package sqlcore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
)

// TLS session ticket keys shared by the nodes (issue 17).

// ticketLockID is the advisory lock key taken while rotating the ticket
// keys on PostgreSQL ("rmptktk" in ASCII, as a number); SQLite's write
// transaction is lock enough.
const ticketLockID = 0x726d70746b746b

const ticketCols = `id, secret, created, expires`

// TicketKeys lists the keys not expired at now, newest first; see
// store.Store.
func (o *ops) TicketKeys(ctx context.Context, now time.Time) ([]store.TicketKey, error) {
	return o.ticketKeys(ctx, now)
}

func (o *ops) ticketKeys(ctx context.Context, now time.Time) ([]store.TicketKey, error) {
	keys, err := collect(iterate(ctx, o.q, "ticket keys", `SELECT `+ticketCols+` FROM tls_ticket_keys WHERE expires > ?
ORDER BY created DESC, id DESC`, []any{timeArg(now)}, func(r Rows) (store.TicketKey, error) {
		var k store.TicketKey
		var secret string
		if err := r.Scan(&k.ID, &secret, scanTime{&k.Created}, scanTime{&k.Expires}); err != nil {
			return k, err
		}
		b, err := hex.DecodeString(secret)
		if err != nil || len(b) != len(k.Secret) {
			return k, fmt.Errorf("ticket key %s: malformed secret", k.ID) // the secret itself stays out of the error
		}
		copy(k.Secret[:], b)
		return k, nil
	}))
	return keys, err
}

// RotateTicketKeys deletes the expired keys and adds one when the newest
// is due; see store.Store.
func (o *ops) RotateTicketKeys(ctx context.Context, now time.Time, rotation, lifetime time.Duration) ([]store.TicketKey, error) {
	if rotation <= 0 || lifetime < rotation {
		return nil, fmt.Errorf("rotating ticket keys: %w: rotation %s, lifetime %s", store.ErrInvalid, rotation, lifetime)
	}
	now = now.UTC().Truncate(time.Microsecond)
	var keys []store.TicketKey
	err := o.atomic(ctx, func(t *ops) error {
		if t.db.Dialect() == "postgres" {
			if _, err := t.q.Exec(ctx, fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, ticketLockID)); err != nil {
				return t.wrapErr(err, "locking the ticket keys")
			}
		}
		if _, err := t.q.Exec(ctx, `DELETE FROM tls_ticket_keys WHERE expires <= ?`, timeArg(now)); err != nil {
			return t.wrapErr(err, "deleting expired ticket keys")
		}
		var err error
		if keys, err = t.ticketKeys(ctx, now); err != nil {
			return err
		}
		if len(keys) > 0 && now.Sub(keys[0].Created) < rotation {
			return nil
		}
		k := store.TicketKey{ID: store.NewID("tk"), Created: now, Expires: now.Add(lifetime)}
		if _, err := rand.Read(k.Secret[:]); err != nil {
			return fmt.Errorf("rotating ticket keys: %w", err)
		}
		if _, err := t.q.Exec(ctx, `INSERT INTO tls_ticket_keys (`+ticketCols+`) VALUES `+placeholders(4),
			k.ID, hex.EncodeToString(k.Secret[:]), timeArg(k.Created), timeArg(k.Expires)); err != nil {
			return t.wrapErr(err, "adding a ticket key")
		}
		if t.db.Dialect() == "postgres" { // the other nodes load the new key at once
			if _, err := t.q.Exec(ctx, `SELECT pg_notify('`+store.StateChannel+`', 'ticket-keys')`); err != nil {
				return t.wrapErr(err, "notifying the new ticket key")
			}
		}
		keys = append([]store.TicketKey{k}, keys...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}
