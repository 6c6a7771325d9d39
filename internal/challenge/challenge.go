// Package challenge implements the "under attack" proof-of-work challenge
// and the clearance cookie that admits a client which solved it.
//
// A client without a valid clearance gets a challenge page (403, with
// Cache-Control: no-store and the header Rampart-Challenge: 1). The page
// carries a signed, expiring token (a random nonce, the difficulty in
// leading zero bits, the URL the client asked for, bound by its MAC to the
// client's /24 or /64 and to the zone's Scope), and a small
// pure-JavaScript SHA-256 (crypto.subtle exists only in secure contexts)
// that finds a counter such that SHA-256(token || counter) has that many
// leading zero bits. The page then POSTs token and counter to VerifyPath;
// the server checks the token's MAC and expiry, verifies the solution
// with one hash, sets the clearance cookie and answers 303 to the
// original URL. A solution is accepted once (the token's nonce is then
// spent: kept by the node until the token expires, and in Redis for the
// whole cluster when one is configured), only before its token expires,
// only from the client prefix it was issued to, and only by the zone
// (Scope) that issued it.
//
// The clearance cookie is HMAC-SHA256 signed with a key from
// DataDir/keys/challenge.json (created on first use from crypto/rand,
// rotated every KeyRotation; a replaced key stays accepted until every
// cookie it signed has expired), names its key id and the difficulty it
// was earned at, is bound to the client prefix, a hash of the User-Agent
// and the zone's Scope, and expires. A zone admits it only within its
// scope and only if it was earned at the zone's current difficulty or
// above. Checking one costs well under a microsecond and does not
// allocate.
//
// 403 rather than 503 is answered so that monitoring and retrying clients
// do not mistake a challenge for an outage, as Cloudflare does.
package challenge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart-edge/rampart/internal/reqpath"
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
	// MaxSpent bounds the node's set of spent challenges (default
	// DefaultMaxSpent). A full set refuses new solutions with 503 until
	// its oldest challenges expire: forgetting an unexpired one instead
	// would let its solution be replayed.
	MaxSpent int
	// Shared, when set, records spent challenges for the whole cluster
	// (RedisSpent on cluster.redis). While it fails, the node's own set
	// still refuses every replay on this node.
	Shared SharedSpent
	// Logger logs the shared record's failures and recoveries (default
	// slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Policy is one zone's challenge setting. The zero value challenges every
// request at DefaultDifficulty.
type Policy struct {
	// Difficulty is the leading zero bits a solution needs (0: default;
	// at most MaxDifficulty). A clearance earned below it is refused.
	Difficulty int
	// Scope binds the zone's tokens and clearances: ZoneScope(host), or
	// DomainScope(CookieDomain) for zones that share a cookie domain.
	Scope Scope
	// CookieDomain is the clearance cookie's Domain attribute; empty
	// (the default) makes it a host-only cookie, which browsers send to
	// the name that set it and no other.
	CookieDomain string
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
	// Rejected: a wrong, expired, spent or foreign solution; a new
	// challenge was written (or a 503 while the spent set is full).
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

	spent      *spentSet
	shared     SharedSpent
	sharedDown atomic.Bool
	logger     *slog.Logger
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
	if opts.MaxSpent <= 0 {
		opts.MaxSpent = DefaultMaxSpent
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &Challenger{
		path:         filepath.Join(opts.DataDir, "keys", "challenge.json"),
		challengeTTL: opts.ChallengeTTL,
		clearanceTTL: opts.ClearanceTTL,
		rotation:     opts.KeyRotation,
		now:          opts.Now,
		spent:        newSpentSet(opts.ChallengeTTL, opts.MaxSpent),
		shared:       opts.Shared,
		logger:       opts.Logger,
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

// Verify reports whether cookie is a valid clearance on a zone with
// policy p (nil: the zero Scope at DefaultDifficulty) for a client at
// clientIP with userAgent at time now: well formed, signed by a key still
// accepted, not expired, issued to the same /24 (IPv4) or /64 (IPv6),
// User-Agent and scope, and earned at p's difficulty or above. It does
// not allocate for User-Agents up to 512 bytes.
func (c *Challenger) Verify(cookie string, clientIP netip.Addr, userAgent string, p *Policy, now time.Time) bool {
	return verifyCookie(c.ring.Load(), cookie, clientIP, userAgent, p.scope(), p.difficulty(), now)
}

// IssueClearance returns a new clearance cookie value for the client in
// scope, earned at difficulty (clamped as a Policy's).
func (c *Challenger) IssueClearance(clientIP netip.Addr, userAgent string, scope Scope, difficulty int) (string, error) {
	now := c.now()
	kr, err := c.signingRing(now)
	if kr == nil {
		return "", err
	}
	return issueCookie(kr.current, clientIP, userAgent, &scope, clampDifficulty(difficulty), now.Add(c.clearanceTTL)), nil
}

// IssueToken returns a new challenge token for the client in scope, to
// solve at difficulty and return to target.
func (c *Challenger) IssueToken(clientIP netip.Addr, target string, scope Scope, difficulty int) (string, error) {
	now := c.now()
	kr, err := c.signingRing(now)
	if kr == nil {
		return "", err
	}
	return issueToken(kr.current, clientIP, &scope, target, clampDifficulty(difficulty), now.Add(c.challengeTTL))
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
		// As the origin resolves the path, with or without path
		// parameters (an exemption is a hole: both must match).
		if reqpath.HasPrefix(r.URL.Path, pre) {
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

// maxClearanceTries bounds the clearance cookies checked per request. A
// browser holds two when a zone's host-only cookie and a shared cookie
// domain's both match; more are an attempt to make the edge compute MACs.
const maxClearanceTries = 4

// HasClearance reports whether r carries a valid clearance cookie for
// client on a zone with policy p (see Verify). Every Cookie header field
// is read (HTTP/2 clients may send one per cookie), values in double
// quotes are unquoted as net/http does, and up to maxClearanceTries
// cookies named CookieName are checked. It does not allocate.
func (c *Challenger) HasClearance(r *http.Request, client netip.Addr, p *Policy) bool {
	kr := c.ring.Load()
	now := c.now()
	ua := r.Header.Get("User-Agent")
	scope, minBits := p.scope(), p.difficulty()
	tries := 0
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || strings.TrimSpace(name) != CookieName {
				continue
			}
			if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
				val = val[1 : len(val)-1]
			}
			if verifyCookie(kr, val, client, ua, scope, minBits, now) {
				return true
			}
			if tries++; tries >= maxClearanceTries {
				return false
			}
		}
	}
	return false
}

var zeroScope Scope

// scope returns p's scope (the zero Scope for a nil p).
func (p *Policy) scope() *Scope {
	if p == nil {
		return &zeroScope
	}
	return &p.Scope
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
	if p.Exempts(r, client) || c.HasClearance(r, client, p) {
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
// POST (or GET, for clients that cannot POST). A solution is accepted if
// its token was issued by this zone's scope to the client's prefix, has
// not expired, is at the zone's difficulty or above, solves the token,
// and was not accepted before; the clearance then carries the token's
// difficulty.
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
	if !checkToken(c.ring.Load(), t, client, p.scope(), now) {
		// Forged, from another key, issued by another zone, or replayed
		// from another network.
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
	first, err := c.spend(r.Context(), t.Nonce, t.Expires, now)
	if err != nil {
		// The spent set is full: refuse rather than forget.
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Retry-After", "10")
		http.Error(w, "too many challenges solved recently; try again in a few seconds", http.StatusServiceUnavailable)
		return Rejected
	}
	if !first {
		// A replayed solution.
		c.writeChallenge(w, r, client, p, t.Target, http.StatusForbidden)
		return Rejected
	}
	value, err := c.IssueClearance(client, r.UserAgent(), *p.scope(), t.Difficulty)
	if err != nil {
		http.Error(w, "challenge unavailable", http.StatusInternalServerError)
		return Rejected
	}
	ck := &http.Cookie{
		Name:     CookieName,
		Value:    value,
		Path:     "/",
		MaxAge:   int(c.clearanceTTL / time.Second),
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	}
	if p != nil {
		ck.Domain = p.CookieDomain
	}
	http.SetCookie(w, ck)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, t.Target, http.StatusSeeOther)
	return Verified
}

// spend records the challenge nonce as used, on this node and, when
// configured, in the shared record, and reports whether it was not used
// before. The node's own set is asked first and always records: while
// the shared record fails, a replay on this node is still refused, and
// only a replay on another node can pass. The error is errSpentFull.
func (c *Challenger) spend(ctx context.Context, nonce [16]byte, exp, now time.Time) (bool, error) {
	first, err := c.spent.spend(nonce, exp.Unix(), now.Unix())
	if err != nil || !first || c.shared == nil {
		return first, err
	}
	first, err = c.shared.Spend(context.WithoutCancel(ctx), nonce, exp.Sub(now))
	if err != nil {
		if !c.sharedDown.Swap(true) {
			c.logger.Warn("challenge replay record degraded: redis unreachable, refusing replays with this node's own record only", "error", err)
		}
		return true, nil
	}
	if c.sharedDown.Swap(false) {
		c.logger.Info("challenge replay record recovered: recording spent challenges in redis again")
	}
	return first, nil
}
