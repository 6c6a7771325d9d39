// Package challenge implements the "under attack" proof-of-work challenge
// and the clearance cookie that admits a client which solved it.
//
// A client without a valid clearance gets a challenge page (403, with
// Cache-Control: no-store and the header Rampart-Challenge: 1). The page
// carries a signed, expiring token (a random nonce, the difficulty in
// leading zero bits, the URL the client asked for, bound by its MAC to the
// client's /24 or /64), and a small pure-JavaScript SHA-256 (crypto.subtle
// exists only in secure contexts) that finds a counter such that
// SHA-256(token || counter) has that many leading zero bits. The page then
// POSTs token and counter to VerifyPath; the server checks the token's MAC
// and expiry, verifies the solution with one hash, sets the clearance
// cookie and answers 303 to the original URL. A solution stays usable
// only until its token expires, and only from the client prefix it was
// issued to.
//
// The clearance cookie is HMAC-SHA256 signed with a key from
// DataDir/keys/challenge.json (created on first use from crypto/rand,
// rotated every KeyRotation; a replaced key stays accepted until every
// cookie it signed has expired), names its key id, is bound to the client
// prefix and a hash of the User-Agent, and expires. Checking one costs
// about a microsecond and does not allocate.
//
// 403 rather than 503 is answered so that monitoring and retrying clients
// do not mistake a challenge for an outage, as Cloudflare does.
package challenge

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	// DefaultDifficulty is the default number of leading zero bits. At 18
	// bits a solution takes 262,144 hashes on average; measured in
	// headless Chromium 156 on a loaded 2-core machine (challenge page,
	// solve, verify, redirect, protected page): median 0.25 s, worst of 9
	// runs 0.72 s, well under the 3 s target. Go's Solve needs about
	// 0.1 s of one core. Each extra bit doubles both.
	DefaultDifficulty = 18
	// VerifyPath is where the page sends its solution.
	VerifyPath = "/.well-known/rampart/challenge"
	// CookieName is the clearance cookie's name.
	CookieName = "rampart_clearance"
)

// Options configure a Challenger.
type Options struct {
	// DataDir holds keys/challenge.json. Required.
	DataDir string
	// ChallengeTTL is how long a challenge can be solved (default 5m);
	// a solution cannot be replayed after it.
	ChallengeTTL time.Duration
	// ClearanceTTL is how long a clearance cookie admits (default 1h).
	ClearanceTTL time.Duration
	// KeyRotation is how often a new signing key replaces the current one
	// (default 24h). Replaced keys verify until ClearanceTTL+ChallengeTTL
	// after their replacement.
	KeyRotation time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Policy is one zone's challenge setting. The zero value challenges every
// request at DefaultDifficulty.
type Policy struct {
	// Difficulty is the leading zero bits a solution needs (0: default;
	// at most MaxDifficulty).
	Difficulty int
	// ExemptPaths are path prefixes never challenged (API paths whose
	// clients cannot run JavaScript); "/api/" matches "/api/v1".
	ExemptPaths []string
	// ExemptCIDRs are client networks never challenged: verified crawlers
	// by their published address ranges (checking a crawler by reverse
	// DNS needs network lookups, too slow for every request), monitoring,
	// partners.
	ExemptCIDRs []netip.Prefix
	// Exempt, when set, is asked last and exempts the requests it returns
	// true for (a hook for a crawler verifier with its own cache).
	Exempt func(r *http.Request, client netip.Addr) bool
}

// Result tells what Check did with a request.
type Result int

// The outcomes of Check.
const (
	// Passed: a valid clearance or an exemption; the request continues.
	Passed Result = iota
	// Challenged: the challenge page was written.
	Challenged
	// Verified: a correct solution; the cookie was set with a 303.
	Verified
	// Rejected: a wrong, expired or foreign solution; a new challenge
	// was written.
	Rejected
)

// String returns the outcome's name for logs and metric labels.
func (r Result) String() string {
	switch r {
	case Passed:
		return "passed"
	case Challenged:
		return "challenged"
	case Verified:
		return "verified"
	case Rejected:
		return "rejected"
	}
	return "result(" + strconv.Itoa(int(r)) + ")"
}

// Handled reports whether Check wrote the response.
func (r Result) Handled() bool { return r != Passed }

// Challenger issues challenges and clearances. It is safe for concurrent
// use.
type Challenger struct {
	path         string
	challengeTTL time.Duration
	clearanceTTL time.Duration
	rotation     time.Duration
	now          func() time.Time

	ring     atomic.Pointer[keyRing]
	rotateMu sync.Mutex
}

// New returns a Challenger, creating DataDir/keys/challenge.json if it
// does not exist and rotating its key if it is due.
func New(opts Options) (*Challenger, error) {
	if opts.DataDir == "" {
		return nil, errors.New("creating challenger: no data directory")
	}
	if opts.ChallengeTTL <= 0 {
		opts.ChallengeTTL = 5 * time.Minute
	}
	if opts.ClearanceTTL <= 0 {
		opts.ClearanceTTL = time.Hour
	}
	if opts.KeyRotation <= 0 {
		opts.KeyRotation = 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Challenger{
		path:         filepath.Join(opts.DataDir, "keys", "challenge.json"),
		challengeTTL: opts.ChallengeTTL,
		clearanceTTL: opts.ClearanceTTL,
		rotation:     opts.KeyRotation,
		now:          opts.Now,
	}
	kr, err := loadOrCreateKeys(c.path, c.now(), c.rotation, c.grace())
	if err != nil {
		return nil, fmt.Errorf("creating challenger: %w", err)
	}
	c.ring.Store(kr)
	return c, nil
}

func (c *Challenger) grace() time.Duration { return c.clearanceTTL + c.challengeTTL }

// signingRing returns the key ring, rotating first if the current key is
// due. A failed rotation keeps the old key signing and is retried on the
// next issue.
func (c *Challenger) signingRing(now time.Time) (*keyRing, error) {
	kr := c.ring.Load()
	if now.Before(kr.rotateAt) {
		return kr, nil
	}
	c.rotateMu.Lock()
	defer c.rotateMu.Unlock()
	if kr = c.ring.Load(); now.Before(kr.rotateAt) {
		return kr, nil
	}
	nkr, err := loadOrCreateKeys(c.path, now, c.rotation, c.grace())
	if err != nil {
		return kr, err
	}
	c.ring.Store(nkr)
	return nkr, nil
}

// Rotate replaces the signing key now; previously issued cookies stay
// valid until they expire.
func (c *Challenger) Rotate() error {
	c.rotateMu.Lock()
	defer c.rotateMu.Unlock()
	// Rotating with a rotation period of zero forces a new key.
	kr, err := loadOrCreateKeys(c.path, c.now(), 0, c.grace())
	if err != nil {
		return err
	}
	kr.rotateAt = kr.current.created.Add(c.rotation)
	c.ring.Store(kr)
	return nil
}

// Verify reports whether cookie is a valid clearance for a client at
// clientIP with userAgent at time now: well formed, signed by a key still
// accepted, not expired, and issued to the same /24 (IPv4) or /64 (IPv6)
// and User-Agent. It does not allocate for User-Agents up to 512 bytes.
func (c *Challenger) Verify(cookie string, clientIP netip.Addr, userAgent string, now time.Time) bool {
	return verifyCookie(c.ring.Load(), cookie, clientIP, userAgent, now)
}

// IssueClearance returns a new clearance cookie value for the client.
func (c *Challenger) IssueClearance(clientIP netip.Addr, userAgent string) (string, error) {
	now := c.now()
	kr, err := c.signingRing(now)
	if kr == nil {
		return "", err
	}
	return issueCookie(kr.current, clientIP, userAgent, now.Add(c.clearanceTTL)), nil
}

// IssueToken returns a new challenge token for the client, to solve at
// difficulty and return to target.
func (c *Challenger) IssueToken(clientIP netip.Addr, target string, difficulty int) (string, error) {
	now := c.now()
	kr, err := c.signingRing(now)
	if kr == nil {
		return "", err
	}
	return issueToken(kr.current, clientIP, target, clampDifficulty(difficulty), now.Add(c.challengeTTL))
}

func clampDifficulty(d int) int {
	if d <= 0 {
		return DefaultDifficulty
	}
	return min(d, MaxDifficulty)
}

// Exempts reports whether p exempts the request from the challenge: by
// path prefix, client network or the Exempt hook.
func (p *Policy) Exempts(r *http.Request, client netip.Addr) bool {
	if p == nil {
		return false
	}
	for _, pre := range p.ExemptPaths {
		if strings.HasPrefix(r.URL.Path, pre) {
			return true
		}
	}
	if len(p.ExemptCIDRs) > 0 {
		a := client.Unmap()
		for _, n := range p.ExemptCIDRs {
			if n.Contains(a) {
				return true
			}
		}
	}
	return p.Exempt != nil && p.Exempt(r, client)
}

// HasClearance reports whether r carries a valid clearance cookie for
// client.
func (c *Challenger) HasClearance(r *http.Request, client netip.Addr) bool {
	ck, err := r.Cookie(CookieName)
	return err == nil && c.Verify(ck.Value, client, r.UserAgent(), c.now())
}

// Check admits r if it holds a valid clearance or is exempt by p (nil: no
// exemptions) and returns Passed; otherwise it answers r itself: the
// verify endpoint (POST VerifyPath) checks a solution, and every other
// request gets the challenge page. client is the request's client
// address as the edge established it.
func (c *Challenger) Check(w http.ResponseWriter, r *http.Request, client netip.Addr, p *Policy) Result {
	if r.URL.Path == VerifyPath {
		return c.serveVerify(w, r, client, p)
	}
	if p.Exempts(r, client) || c.HasClearance(r, client) {
		return Passed
	}
	c.writeChallenge(w, r, client, p, r.URL.RequestURI(), http.StatusForbidden)
	return Challenged
}

func (p *Policy) difficulty() int {
	if p == nil {
		return DefaultDifficulty
	}
	return clampDifficulty(p.Difficulty)
}

// serveVerify checks a solution: form fields "token" and "counter", by
// POST (or GET, for clients that cannot POST).
func (c *Challenger) serveVerify(w http.ResponseWriter, r *http.Request, client netip.Addr, p *Policy) Result {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return Rejected
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	tokenText, counterText := r.FormValue("token"), r.FormValue("counter")
	now := c.now()
	t, err := ParseToken(tokenText)
	if err != nil {
		c.writeChallenge(w, r, client, p, "/", http.StatusForbidden)
		return Rejected
	}
	counter, cerr := ParseCounter(counterText)
	if !checkToken(c.ring.Load(), t, client, now) {
		// Forged, from another key, or replayed from another network.
		c.writeChallenge(w, r, client, p, "/", http.StatusForbidden)
		return Rejected
	}
	if !now.Before(t.Expires) || cerr != nil || !CheckSolution(tokenText, counter, t.Difficulty) {
		c.writeChallenge(w, r, client, p, t.Target, http.StatusForbidden)
		return Rejected
	}
	if t.Difficulty < p.difficulty() {
		// The zone raised its difficulty since the token was issued.
		c.writeChallenge(w, r, client, p, t.Target, http.StatusForbidden)
		return Rejected
	}
	value, err := c.IssueClearance(client, r.UserAgent())
	if err != nil {
		http.Error(w, "challenge unavailable", http.StatusInternalServerError)
		return Rejected
	}
	http.SetCookie(w, &http.Cookie{
		Name:     CookieName,
		Value:    value,
		Path:     "/",
		MaxAge:   int(c.clearanceTTL / time.Second),
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, t.Target, http.StatusSeeOther)
	return Verified
}
