package token

import (
	"slices"
	"sync"
	"time"
)

// Memory is a Store that keeps tokens in memory only; they are lost when
// the process ends. It suits tests and throw-away demo servers.
type Memory struct {
	mu   sync.RWMutex
	recs map[string]record
	now  func() time.Time
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{recs: map[string]record{}, now: time.Now}
}

// Create issues a token; see Store.
func (m *Memory) Create(scope Scope, note string) (string, Token, error) {
	plain, rec, err := newToken(scope, note, m.now())
	if err != nil {
		return "", Token{}, err
	}
	m.mu.Lock()
	m.recs[rec.ID] = rec
	m.mu.Unlock()
	return plain, rec.Token, nil
}

// Verify checks a plaintext token; see Store.
func (m *Memory) Verify(plaintext string) (Token, bool) {
	id, secret, err := Parse(plaintext)
	if err != nil {
		return Token{}, false
	}
	m.mu.RLock()
	rec, ok := m.recs[id]
	m.mu.RUnlock()
	return verifyRecord(rec, ok, secret)
}

// verifyRecord checks secret against rec (or a dummy when !found, to keep
// the cost the same).
func verifyRecord(rec record, found bool, secret string) (Token, bool) {
	if !found {
		dummyHash.check(secret)
		return Token{}, false
	}
	if !rec.check(secret) {
		return Token{}, false
	}
	return rec.Token, true
}

// List returns every token oldest first; see Store.
func (m *Memory) List() ([]Token, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return sortedTokens(m.recs), nil
}

// Revoke revokes a token; see Store.
func (m *Memory) Revoke(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.recs[id]
	if !ok {
		return ErrNotFound
	}
	if rec.Revoked.IsZero() {
		rec.Revoked = m.now().UTC().Truncate(time.Second)
		m.recs[id] = rec
	}
	return nil
}

// sortedTokens returns the tokens of recs by creation time, then id.
func sortedTokens(recs map[string]record) []Token {
	out := make([]Token, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.Token)
	}
	slices.SortFunc(out, func(a, b Token) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}
