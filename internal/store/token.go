package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/token"
)

// TokenStore is a token.Store kept in the control-plane store's tokens
// table, so that every node on one PostgreSQL accepts the same tokens. It
// issues the same "rp_<id>_<secret>" tokens as internal/token, keeps only
// the SHA-256 of the secret, and compares hashes in constant time; an
// unknown id costs the same hash and compare as a wrong secret. Create and
// Revoke append token.create and token.revoke audit entries in the same
// transaction (actor Actor, default "system").
type TokenStore struct {
	S Store
	// Actor is recorded in the audit entries of Create and Revoke.
	Actor string
	// Timeout bounds each database call (token.Store has no context);
	// default 5s.
	Timeout time.Duration
}

var _ token.Store = (*TokenStore)(nil)

func (ts *TokenStore) ctx() (context.Context, context.CancelFunc) {
	d := ts.Timeout
	if d <= 0 {
		d = 5 * time.Second
	}
	return context.WithTimeout(context.Background(), d)
}

func (ts *TokenStore) actor() string {
	if ts.Actor == "" {
		return audit.ActorSystem
	}
	return ts.Actor
}

// Create issues a token; see token.Store.
func (ts *TokenStore) Create(scope token.Scope, note string) (string, token.Token, error) {
	plain, tok, hash, err := token.Issue(scope, note, time.Now()) // one way to issue: internal/token's
	if err != nil {
		return "", token.Token{}, err
	}
	id := tok.ID
	rec := TokenRecord{ID: id, Scope: string(scope), Note: note, Created: tok.Created, Hash: hash}
	ctx, cancel := ts.ctx()
	defer cancel()
	err = ts.S.Tx(ctx, func(tx Tx) error {
		if _, err := tx.Append(ctx, audit.Event{Actor: ts.actor(), Action: audit.ActionTokenCreate, Subject: "token:" + id,
			Data: audit.MustData(map[string]any{"scope": string(scope), "note": note})}); err != nil {
			return err
		}
		return tx.PutToken(ctx, rec)
	})
	if err != nil {
		return "", token.Token{}, fmt.Errorf("creating token: %w", err)
	}
	return plain, recToken(rec), nil
}

func recToken(r TokenRecord) token.Token {
	return token.Token{ID: r.ID, Scope: token.Scope(r.Scope), Note: r.Note, Created: r.Created, Revoked: r.Revoked}
}

// Verify checks a plaintext token; see token.Store. A database error
// counts as a failed verification (the request is refused).
func (ts *TokenStore) Verify(plaintext string) (token.Token, bool) {
	tok, err := ts.Check(plaintext)
	return tok, err == nil
}

// errRefused is Check's error for a token that is malformed, unknown,
// wrong or revoked.
var errRefused = errors.New("invalid or revoked token")

// Check is Verify with the reason of a refusal: an error wrapping
// ErrUnavailable when the store did not answer within Timeout (the caller
// answers 503, not 401), another error for a token that is not valid.
func (ts *TokenStore) Check(plaintext string) (token.Token, error) {
	id, secret, err := token.Parse(plaintext)
	if err != nil {
		return token.Token{}, errRefused
	}
	ctx, cancel := ts.ctx()
	defer cancel()
	rec, err := ts.S.GetToken(ctx, id)
	if errors.Is(err, ErrUnavailable) {
		return token.Token{}, fmt.Errorf("verifying token: %w", err)
	}
	found := err == nil
	hash := rec.Hash
	if !found {
		hash = "" // compared against a dummy: an unknown id costs what a wrong secret does
	}
	ok := token.Matches(hash, secret) // one way to check: internal/token's
	if !found || !ok || !rec.Revoked.IsZero() {
		return token.Token{}, errRefused
	}
	return recToken(rec), nil
}

// Lookup returns the token named id, revoked or not (the dashboard's
// shared sessions keep a token's id, not its secret, and check it again
// on every request). An unknown id wraps ErrNotFound; a store that did
// not answer, ErrUnavailable.
func (ts *TokenStore) Lookup(id string) (token.Token, error) {
	ctx, cancel := ts.ctx()
	defer cancel()
	rec, err := ts.S.GetToken(ctx, id)
	if err != nil {
		return token.Token{}, fmt.Errorf("looking up token %s: %w", id, err)
	}
	return recToken(rec), nil
}

// List returns every token oldest first; see token.Store.
func (ts *TokenStore) List() ([]token.Token, error) {
	ctx, cancel := ts.ctx()
	defer cancel()
	recs, err := ts.S.ListTokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	out := make([]token.Token, len(recs))
	for i, r := range recs {
		out[i] = recToken(r)
	}
	return out, nil
}

// Revoke revokes a token; see token.Store. An unknown id is
// token.ErrNotFound.
func (ts *TokenStore) Revoke(id string) error {
	ctx, cancel := ts.ctx()
	defer cancel()
	err := ts.S.Tx(ctx, func(tx Tx) error {
		if _, err := tx.GetToken(ctx, id); err != nil {
			return err
		}
		if _, err := tx.Append(ctx, audit.Event{Actor: ts.actor(), Action: audit.ActionTokenRevoke, Subject: "token:" + id}); err != nil {
			return err
		}
		return tx.RevokeToken(ctx, id, time.Now().UTC().Truncate(time.Second))
	})
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("revoking token %s: %w", id, token.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("revoking token %s: %w", id, err)
	}
	return nil
}
