package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

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
	// plain is the admin API token the user signed in with; it is checked
	// again on every request, so revoking the token ends the session.
	plain   string
	tok     token.Token
	csrf    string
	created time.Time
	seen    time.Time
}

// sessions is the server-side session table of one node.
type sessions struct {
	mu   sync.Mutex
	m    map[[32]byte]*session
	idle time.Duration
	max  time.Duration
}

func newSessions(idle, max time.Duration) *sessions {
	return &sessions{m: map[[32]byte]*session{}, idle: idle, max: max}
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func key(id string) [32]byte { return sha256.Sum256([]byte(id)) }

// create starts a session and returns its cookie value.
func (ss *sessions) create(plain string, tok token.Token, now time.Time) (string, *session) {
	id := randomString(32)
	s := &session{plain: plain, tok: tok, csrf: randomString(32), created: now, seen: now}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	// Drop expired sessions now and then (at every sign-in).
	for k, o := range ss.m {
		if now.Sub(o.seen) > ss.idle || now.Sub(o.created) > ss.max {
			delete(ss.m, k)
		}
	}
	ss.m[key(id)] = s
	return id, s
}

// get returns the live session of cookie value id.
func (ss *sessions) get(id string, now time.Time) (*session, bool) {
	if id == "" {
		return nil, false
	}
	k := key(id)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[k]
	if !ok {
		return nil, false
	}
	if now.Sub(s.seen) > ss.idle || now.Sub(s.created) > ss.max {
		delete(ss.m, k)
		return nil, false
	}
	s.seen = now
	return s, true
}

// revoke ends a session.
func (ss *sessions) revoke(id string) {
	ss.mu.Lock()
	delete(ss.m, key(id))
	ss.mu.Unlock()
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
