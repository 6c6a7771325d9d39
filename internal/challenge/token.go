package challenge

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"time"
)

// Challenge token, version 2, before base64url (no padding):
//
//	[0]      version (2)
//	[1:5]    key id, big endian
//	[5:13]   expiry, Unix seconds, big endian
//	[13]     difficulty: leading zero bits the solution's hash must have
//	[14:30]  random nonce: the challenge's id, spent by its first solution
//	[30:32]  length n of the target, big endian
//	[32:32+n] target: the path and query to return to (starts with "/")
//	then 16 bytes of HMAC-SHA256 over "T" | the bytes above | client prefix | scope
//
// The scope (the zone, or the shared cookie domain) is not in the token:
// the zone receiving the solution supplies its own, so a solution to one
// zone's challenge fails the MAC on every other zone. Version 1 tokens
// (no scope) fail to parse.
//
// A solution is a decimal counter such that SHA-256(token || counter),
// token being the base64url text, starts with difficulty zero bits.
const (
	tokenVersion = 2
	tokenHead    = 32
	// MaxTarget bounds the target URL a token carries; a longer one is
	// replaced by its path, or by "/".
	MaxTarget = 2048
	// MaxDifficulty is the highest difficulty accepted (about 4e9 hashes).
	MaxDifficulty = 32
	// maxTokenLen is the longest token text.
	maxTokenLen = ((tokenHead+MaxTarget+macLen)*8 + 5) / 6
)

// Token is a decoded challenge token whose MAC is not checked yet.
type Token struct {
	KeyID      uint32
	Expires    time.Time
	Difficulty int
	Nonce      [16]byte
	Target     string
	body       []byte // the signed bytes
	mac        []byte
}

// errToken is returned for tokens that are malformed.
var errToken = errors.New("malformed challenge token")

// ParseToken decodes a challenge token's text. It checks the shape only
// (the MAC needs the key ring and the client address).
func ParseToken(s string) (Token, error) {
	var t Token
	if len(s) < ((tokenHead+1+macLen)*8+5)/6 || len(s) > maxTokenLen {
		return t, fmt.Errorf("%w: length %d", errToken, len(s))
	}
	raw, err := b64.DecodeString(s)
	if err != nil {
		return t, fmt.Errorf("%w: %w", errToken, err)
	}
	if b64.EncodeToString(raw) != s {
		return t, fmt.Errorf("%w: non-canonical encoding", errToken)
	}
	if raw[0] != tokenVersion {
		return t, fmt.Errorf("%w: version %d", errToken, raw[0])
	}
	n := int(binary.BigEndian.Uint16(raw[30:32]))
	if n == 0 || n > MaxTarget || len(raw) != tokenHead+n+macLen {
		return t, fmt.Errorf("%w: target length %d in a %d-byte token", errToken, n, len(raw))
	}
	t.KeyID = binary.BigEndian.Uint32(raw[1:5])
	t.Expires = time.Unix(int64(binary.BigEndian.Uint64(raw[5:13])), 0)
	t.Difficulty = int(raw[13])
	if t.Difficulty > MaxDifficulty {
		return t, fmt.Errorf("%w: difficulty %d above %d", errToken, t.Difficulty, MaxDifficulty)
	}
	copy(t.Nonce[:], raw[14:30])
	t.Target = string(raw[tokenHead : tokenHead+n])
	if !validTarget(t.Target) {
		return t, fmt.Errorf("%w: target %q is not a local path", errToken, t.Target)
	}
	t.body = raw[:tokenHead+n]
	t.mac = raw[tokenHead+n:]
	return t, nil
}

// validTarget accepts only local absolute paths, so a token can never
// redirect a client to another site ("//evil.example" and "/\evil" are
// refused).
func validTarget(s string) bool {
	if len(s) == 0 || s[0] != '/' || (len(s) > 1 && (s[1] == '/' || s[1] == '\\')) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] == 0x7f {
			return false
		}
	}
	return true
}

func tokenMAC(k *key, body []byte, client netip.Addr, scope *Scope) [sha256.Size]byte {
	var msg [1 + tokenHead + MaxTarget + 9 + 16]byte
	msg[0] = 'T'
	n := 1 + copy(msg[1:], body)
	p := bindPrefix(client)
	n += copy(msg[n:], p[:])
	n += copy(msg[n:], scope.sum[:])
	return k.mac(msg[:n])
}

// issueToken returns a new signed token for client in scope.
func issueToken(k *key, client netip.Addr, scope *Scope, target string, difficulty int, exp time.Time) (string, error) {
	if !validTarget(target) || len(target) > MaxTarget {
		target = "/"
	}
	b := make([]byte, tokenHead+len(target), tokenHead+len(target)+macLen)
	b[0] = tokenVersion
	binary.BigEndian.PutUint32(b[1:5], k.id)
	binary.BigEndian.PutUint64(b[5:13], uint64(exp.Unix()))
	b[13] = byte(difficulty)
	if _, err := rand.Read(b[14:30]); err != nil {
		return "", fmt.Errorf("generating challenge nonce: %w", err)
	}
	binary.BigEndian.PutUint16(b[30:32], uint16(len(target)))
	copy(b[tokenHead:], target)
	m := tokenMAC(k, b, client, scope)
	b = append(b, m[:macLen]...)
	return b64.EncodeToString(b), nil
}

// checkToken verifies a parsed token's MAC for client in scope with the
// key ring.
func checkToken(kr *keyRing, t Token, client netip.Addr, scope *Scope, now time.Time) bool {
	k := kr.lookup(t.KeyID, now)
	if k == nil {
		return false
	}
	m := tokenMAC(k, t.body, client, scope)
	return subtle.ConstantTimeCompare(m[:macLen], t.mac) == 1
}

// ParseCounter parses a solution counter: 1 to 20 decimal digits, no sign,
// no leading zero (so each counter has one spelling), at most 2^64-1.
func ParseCounter(s string) (uint64, error) {
	if len(s) == 0 || len(s) > 20 || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("parsing solution counter %q: want 1 to 20 digits without leading zero", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("parsing solution counter %q: want decimal digits", s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parsing solution counter: %w", err)
	}
	return n, nil
}

// CheckSolution reports whether counter solves token at difficulty: one
// SHA-256 of the token text followed by the counter in decimal.
func CheckSolution(token string, counter uint64, difficulty int) bool {
	if len(token) <= 236 {
		var buf [256]byte
		n := copy(buf[:], token)
		return leadingZeroBits(sha256.Sum256(strconv.AppendUint(buf[:n], counter, 10))) >= difficulty
	}
	var buf [maxTokenLen + 20]byte
	n := copy(buf[:], token)
	b := strconv.AppendUint(buf[:n], counter, 10)
	return leadingZeroBits(sha256.Sum256(b)) >= difficulty
}

func leadingZeroBits(h [sha256.Size]byte) int {
	return bits.LeadingZeros64(binary.BigEndian.Uint64(h[:8]))
}

// Solve finds the smallest counter that solves token, as the challenge
// page's script does; it is the solver a legitimate non-browser client
// (the flood bench) uses to earn a clearance. It gives up with an error
// after 2^(difficulty+8) tries, which happens with probability below
// e^-256 for a valid token.
func Solve(token string) (uint64, error) {
	t, err := ParseToken(token)
	if err != nil {
		return 0, err
	}
	if len(token) > maxTokenLen {
		return 0, errToken
	}
	var buf [maxTokenLen + 20]byte
	n := copy(buf[:], token)
	limit := uint64(1) << min(63, t.Difficulty+8)
	for c := uint64(0); c < limit; c++ {
		b := strconv.AppendUint(buf[:n], c, 10)
		if leadingZeroBits(sha256.Sum256(b)) >= t.Difficulty {
			return c, nil
		}
	}
	return 0, fmt.Errorf("solving challenge: no solution in %d tries", limit)
}
