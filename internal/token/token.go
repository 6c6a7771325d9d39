// Package token issues and verifies the bearer tokens of the admin API.
//
// A token is shown once, at creation, as "rp_<id>_<secret>": id is 16 hex
// digits that name the token, secret is 32 random bytes from crypto/rand in
// unpadded base64url. Stores keep only the SHA-256 hash of the secret, so a
// leaked store does not leak usable tokens. Verification looks the token up
// by id and compares the hashes in constant time.
//
// Every token carries one scope; scopes are ordered read < compliance <
// admin, and a token may do what its scope and every lower scope may do.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Scope is what a token may do.
type Scope string

// The scopes, from least to most powerful.
const (
	// Read may screen names and read lists, zones, cases and the audit log.
	Read Scope = "read"
	// Compliance may also open and decide cases and screen accounts.
	Compliance Scope = "compliance"
	// Admin may do everything, including importing lists and managing zones.
	Admin Scope = "admin"
)

// rank orders the scopes; unknown scopes rank 0 and allow nothing.
func (s Scope) rank() int {
	switch s {
	case Read:
		return 1
	case Compliance:
		return 2
	case Admin:
		return 3
	}
	return 0
}

// Valid reports whether s is one of the known scopes.
func (s Scope) Valid() bool { return s.rank() > 0 }

// Allows reports whether a token of scope s may do what needs scope need.
// An unknown scope allows nothing and is allowed by nothing.
func (s Scope) Allows(need Scope) bool {
	return s.rank() > 0 && need.rank() > 0 && s.rank() >= need.rank()
}

// ParseScope returns the scope named by s ("read", "compliance" or "admin").
func ParseScope(s string) (Scope, error) {
	sc := Scope(s)
	if !sc.Valid() {
		return "", fmt.Errorf("unknown token scope %q (want read, compliance or admin)", s)
	}
	return sc, nil
}

// Token describes an issued token. It never holds the secret.
type Token struct {
	ID      string    `json:"id"`
	Scope   Scope     `json:"scope"`
	Note    string    `json:"note,omitempty"`
	Created time.Time `json:"created"`
	// Revoked is when the token was revoked; zero while it is valid.
	Revoked time.Time `json:"revoked,omitzero"`
}

// Store keeps tokens. Implementations are safe for concurrent use.
type Store interface {
	// Create issues a token and returns its plaintext, which is not kept
	// and cannot be shown again.
	Create(scope Scope, note string) (plaintext string, t Token, err error)
	// Verify returns the token that plaintext proves, and false when
	// plaintext is malformed, unknown, wrong or revoked.
	Verify(plaintext string) (Token, bool)
	// List returns every token, revoked ones included, oldest first.
	List() ([]Token, error)
	// Revoke makes a token unusable. Revoking twice is not an error;
	// an unknown id is ErrNotFound.
	Revoke(id string) error
}

// ErrNotFound is returned for an unknown token id.
var ErrNotFound = errors.New("token not found")

// Prefix starts every plaintext token, so that secret scanners and people
// can recognise one.
const Prefix = "rp_"

const (
	idBytes     = 8
	secretBytes = 32
)

// record is what stores keep for one token: its description and the hash.
type record struct {
	Token
	// Hash is the SHA-256 of the secret, hex-encoded.
	Hash string `json:"hash"`
}

// newToken makes a fresh token record and its plaintext.
func newToken(scope Scope, note string, now time.Time) (string, record, error) {
	if !scope.Valid() {
		return "", record{}, fmt.Errorf("creating token: unknown scope %q", scope)
	}
	var raw [idBytes + secretBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", record{}, fmt.Errorf("creating token: reading random bytes: %w", err)
	}
	id := hex.EncodeToString(raw[:idBytes])
	secret := base64.RawURLEncoding.EncodeToString(raw[idBytes:])
	sum := sha256.Sum256([]byte(secret))
	rec := record{
		Token: Token{ID: id, Scope: scope, Note: note, Created: now.UTC().Truncate(time.Second)},
		Hash:  hex.EncodeToString(sum[:]),
	}
	return Prefix + id + "_" + secret, rec, nil
}

// Parse splits a plaintext token into its id and secret. It checks the
// shape only, not whether the token exists.
func Parse(plaintext string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(plaintext, Prefix)
	if !ok {
		return "", "", errors.New("token does not start with " + Prefix)
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok {
		return "", "", errors.New("token has no secret part")
	}
	if !validID(id) {
		return "", "", errors.New("token id is not 16 lowercase hex digits")
	}
	if len(secret) != base64.RawURLEncoding.EncodedLen(secretBytes) {
		return "", "", errors.New("token secret has the wrong length")
	}
	for i := 0; i < len(secret); i++ {
		c := secret[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", "", errors.New("token secret is not base64url")
		}
	}
	return id, secret, nil
}

// validID reports whether id is 16 lowercase hex digits.
func validID(id string) bool {
	if len(id) != 2*idBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// check reports whether secret hashes to rec.Hash, in constant time, and
// rec is not revoked.
func (rec *record) check(secret string) bool {
	want, err := hex.DecodeString(rec.Hash)
	if err != nil || len(want) != sha256.Size {
		return false
	}
	got := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(got[:], want) == 1 && rec.Revoked.IsZero()
}

// dummyHash is compared against when the id is unknown, so that unknown ids
// and wrong secrets cost the same.
var dummyHash = record{Hash: strings.Repeat("00", sha256.Size)}

// Issue makes a fresh token for any store (the file store here, the
// control-plane store's store.TokenStore): its plaintext, shown once, its
// description, and the hex SHA-256 of its secret, the only part stores
// keep.
func Issue(scope Scope, note string, now time.Time) (plaintext string, tok Token, hash string, err error) {
	p, rec, err := newToken(scope, note, now)
	return p, rec.Token, rec.Hash, err
}

// Matches reports, in constant time, whether secret hashes to hash (hex
// SHA-256, as Issue returns it). A store that does not know the token's
// id passes "", which is compared against a dummy hash, so that an
// unknown id costs the same as a wrong secret.
func Matches(hash, secret string) bool {
	r := dummyHash
	if hash != "" {
		r = record{Hash: hash}
	}
	return r.check(secret) && hash != ""
}
