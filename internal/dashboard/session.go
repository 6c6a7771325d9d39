package dashboard

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/token"
)

// Cookie names. The session cookie holds 32 random bytes; the server
// keeps only their SHA-256, so a copy of the session table does not let
// anyone sign in.
const (
	sessionCookie = "rampart_session"
	// preCookie carries the sign-in form's CSRF token before a session
	// exists (double submit).
	preCookie = "rampart_signin"
)

// session is one signed-in browser.
type session struct {
	// plain is the admin API token the user signed in with, kept by the
	// in-memory sessions only (the shared ones keep tokID): the token is
	// checked again on every request, so revoking it ends the session.
	plain   string
	tokID   string
	tok     token.Token
	csrf    string
	created time.Time
	seen    time.Time
}

// sessionTable keeps the sessions: in the memory of one node, or in the
// control-plane store (shared by the nodes on one PostgreSQL).
type sessionTable interface {
	// create starts a session and returns its cookie value.
	create(ctx context.Context, plain string, tok token.Token, now time.Time) (string, error)
	// get returns the live session of cookie value id; nil (and no
	// error) when there is none, or it expired or was revoked.
	get(ctx context.Context, id string, now time.Time) (*session, error)
	// revoke ends a session.
	revoke(ctx context.Context, id string, now time.Time) error
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func key(id string) [32]byte { return sha256.Sum256([]byte(id)) }

// csrfOf derives a session's CSRF token from its cookie value, so that
// neither table keeps it: whoever reads the table has neither.
func csrfOf(id string) string {
	h := sha256.Sum256([]byte("rampart dashboard csrf\x00" + id))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// memSessions is the session table of one node.
type memSessions struct {
	mu   sync.Mutex
	m    map[[32]byte]*session
	idle time.Duration
	max  time.Duration
}

func newMemSessions(idle, max time.Duration) *memSessions {
	return &memSessions{m: map[[32]byte]*session{}, idle: idle, max: max}
}

func (ss *memSessions) create(_ context.Context, plain string, tok token.Token, now time.Time) (string, error) {
	id := randomString(32)
	s := &session{plain: plain, tokID: tok.ID, tok: tok, csrf: csrfOf(id), created: now, seen: now}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	// Drop expired sessions now and then (at every sign-in).
	for k, o := range ss.m {
		if now.Sub(o.seen) > ss.idle || now.Sub(o.created) > ss.max {
			delete(ss.m, k)
		}
	}
	ss.m[key(id)] = s
	return id, nil
}

func (ss *memSessions) get(_ context.Context, id string, now time.Time) (*session, error) {
	if id == "" {
		return nil, nil
	}
	k := key(id)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[k]
	if !ok {
		return nil, nil
	}
	if now.Sub(s.seen) > ss.idle || now.Sub(s.created) > ss.max {
		delete(ss.m, k)
		return nil, nil
	}
	s.seen = now
	c := *s
	return &c, nil
}

func (ss *memSessions) revoke(_ context.Context, id string, _ time.Time) error {
	ss.mu.Lock()
	delete(ss.m, key(id))
	ss.mu.Unlock()
	return nil
}

// touchEvery is how stale a shared session's seen time may get before a
// request writes it again (one write a minute per active browser, not
// one per request); the idle timeout is exact to within it.
const touchEvery = time.Minute

// dbSessions is the session table in the control-plane store: only the
// hex SHA-256 of the cookie and the token's id are stored, so a session
// works on every node and a sign-out on one ends it on all.
type dbSessions struct {
	st   store.Dashboard
	idle time.Duration
	max  time.Duration
}

func hashOf(id string) string {
	k := key(id)
	return hex.EncodeToString(k[:])
}

func (ds *dbSessions) create(ctx context.Context, _ string, tok token.Token, now time.Time) (string, error) {
	now = now.UTC().Truncate(time.Microsecond)
	// Drop the expired sessions now and then (at every sign-in).
	if _, err := ds.st.PruneSessions(ctx, now); err != nil {
		return "", err
	}
	id := randomString(32)
	err := ds.st.CreateSession(ctx, store.DashboardSession{Hash: hashOf(id), TokenID: tok.ID, Created: now, Seen: now, Expires: now.Add(ds.max)})
	if err != nil {
		return "", err
	}
	return id, nil
}

func (ds *dbSessions) get(ctx context.Context, id string, now time.Time) (*session, error) {
	if id == "" || len(id) > 128 {
		return nil, nil
	}
	h := hashOf(id)
	rec, err := ds.st.GetSession(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !rec.Revoked.IsZero() || !now.Before(rec.Expires) || now.Sub(rec.Seen) > ds.idle {
		return nil, nil
	}
	if now.Sub(rec.Seen) >= touchEvery {
		if err := ds.st.TouchSession(ctx, h, now.UTC().Truncate(time.Microsecond)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	return &session{tokID: rec.TokenID, csrf: csrfOf(id), created: rec.Created, seen: now}, nil
}

func (ds *dbSessions) revoke(ctx context.Context, id string, now time.Time) error {
	err := ds.st.RevokeSession(ctx, hashOf(id), now.UTC().Truncate(time.Microsecond))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// tokenLookup is a token store that finds a token by id;
// *store.TokenStore implements it.
type tokenLookup interface {
	Lookup(id string) (token.Token, error)
}

// liveToken checks a session's token again: revoked, removed or (for the
// in-memory sessions) no longer verifying, it ends the session. An error
// is a token store that did not answer.
func (d *Dashboard) liveToken(s *session) (token.Token, bool, error) {
	if s.plain != "" {
		tok, ok := d.opts.Tokens.Verify(s.plain)
		return tok, ok, nil
	}
	if lk, ok := d.opts.Tokens.(tokenLookup); ok {
		tok, err := lk.Lookup(s.tokID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return token.Token{}, false, nil
		case err != nil:
			return token.Token{}, false, err
		}
		return tok, tok.Revoked.IsZero() && tok.Scope.Valid(), nil
	}
	toks, err := d.opts.Tokens.List()
	if err != nil {
		return token.Token{}, false, err
	}
	for _, t := range toks {
		if t.ID == s.tokID {
			return t, t.Revoked.IsZero() && t.Scope.Valid(), nil
		}
	}
	return token.Token{}, false, nil
}

// sameToken compares two CSRF tokens in constant time.
func sameToken(a, b string) bool {
	return a != "" && len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// setCookie writes a dashboard cookie: HttpOnly, SameSite=Strict, Path
// /dashboard/, Secure when the request came over TLS (or the server is
// told it is behind TLS).
func (d *Dashboard) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/dashboard/", MaxAge: maxAge,
		HttpOnly: true, Secure: r.TLS != nil || d.opts.SecureCookies, SameSite: http.SameSiteStrictMode})
}
