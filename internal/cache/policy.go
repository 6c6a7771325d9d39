package cache

import (
	"net/http"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/reqpath"
)

// Rules are one zone's cache settings (config.Cache, resolved).
type Rules struct {
	// DefaultTTL is the freshness lifetime given to a response without
	// explicit freshness (no s-maxage, max-age or Expires), but only when
	// RFC 9111 section 4.2.2 allows a heuristic: the status is
	// heuristically cacheable and Cache-Control does not forbid it. Zero
	// means the RFC's suggestion: 10% of the time since Last-Modified, at
	// most a day.
	DefaultTTL time.Duration
	// MaxTTL caps every freshness lifetime (0: no cap).
	MaxTTL time.Duration
	// StaleWhileRevalidate and StaleIfError are the windows used when a
	// response does not carry the RFC 5861 directives itself (0: none).
	StaleWhileRevalidate time.Duration
	StaleIfError         time.Duration
	// AlwaysOnline serves any stored response, however stale, when the
	// origin is down or answers 5xx, even against must-revalidate.
	AlwaysOnline bool
	// BypassPaths are path prefixes never served from or stored in the
	// cache.
	BypassPaths []string
	// BypassCookies are cookie names whose presence in the request
	// bypasses the cache (a logged-in session, for example).
	BypassCookies []string
	// SortQuery sorts query parameters in the cache key, so ?a=1&b=2 and
	// ?b=2&a=1 share an entry.
	SortQuery bool
	// IgnoreParams are query parameters left out of the cache key
	// (tracking parameters such as utm_source).
	IgnoreParams []string
	// IgnoreHost leaves the host out of the cache key, so that every
	// alias of a zone shares entries. The default (false) keys by host.
	IgnoreHost bool
	// StoreSetCookie stores responses that carry Set-Cookie, without the
	// Set-Cookie field. By default such responses are never stored: a
	// session cookie served from the cache would hand one user's session
	// to every other user.
	StoreSetCookie bool
	// NoCompress turns off compression of cached responses.
	NoCompress bool
	// LockTimeout bounds how long a request waits for another request's
	// fetch of the same key before asking the origin itself, uncached
	// (0: DefaultLockTimeout). The fetch streams to its own client as it
	// stores, so a client that stops reading would otherwise hold every
	// waiter for as long as it likes.
	LockTimeout time.Duration
}

// heuristicStatus lists the status codes RFC 9110 section 15.1 defines
// as heuristically cacheable.
var heuristicStatus = map[int]bool{
	200: true, 203: true, 204: true, 206: true, 300: true, 301: true,
	308: true, 404: true, 405: true, 410: true, 414: true, 501: true,
}

// maxHeuristic caps the Last-Modified heuristic (RFC 9111 section 4.2.2
// leaves the cap to the cache).
const maxHeuristic = 24 * time.Hour

// bypassRequest reports why a request must go to the origin without the
// cache ("" when it may use the cache): methods other than GET and HEAD,
// the zone's bypass paths and cookies, request no-store, and Upgrade.
func (ru *Rules) bypassRequest(r *http.Request) string {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return "method"
	}
	if r.Header.Get("Upgrade") != "" {
		return "upgrade"
	}
	for _, p := range ru.BypassPaths {
		// As the origin resolves the path, with or without path
		// parameters (a bypass applies when either matches).
		if reqpath.EitherHasPrefix(r.URL.Path, p) {
			return "path"
		}
	}
	if len(ru.BypassCookies) > 0 && len(r.Header["Cookie"]) > 0 {
		for _, c := range r.Cookies() {
			for _, name := range ru.BypassCookies {
				if c.Name == name {
					return "cookie"
				}
			}
		}
	}
	if parseCacheControl(r.Header["Cache-Control"]).has("no-store") {
		return "no-store"
	}
	return ""
}

// storable applies RFC 9111 section 3 to a response to a GET request: it
// reports whether a shared cache may store it, and why not. 206 and 304
// are never stored (the cache fetches and keeps whole bodies).
func (ru *Rules) storable(req *http.Request, status int, h http.Header) (bool, string) {
	if req.Method != http.MethodGet {
		return false, "method"
	}
	if status < 200 || status == http.StatusPartialContent || status == http.StatusNotModified {
		return false, "status"
	}
	cc := parseCacheControl(h["Cache-Control"])
	if cc.has("no-store") {
		return false, "no-store"
	}
	if cc.has("private") {
		// A qualified private="field" only forbids storing that field;
		// rampart then stores nothing at all, the safe reading.
		return false, "private"
	}
	for _, v := range h["Vary"] {
		if strings.Contains(v, "*") {
			return false, "vary"
		}
	}
	if len(req.Header["Authorization"]) > 0 &&
		!cc.has("public") && !cc.has("s-maxage") && !cc.has("must-revalidate") {
		// RFC 9111 section 3.5.
		return false, "authorization"
	}
	if len(h["Set-Cookie"]) > 0 && !ru.StoreSetCookie {
		return false, "set-cookie"
	}
	// Explicit freshness: the origin said how long the response may be
	// reused. Without it the lifetime would be the cache's guess (the
	// Last-Modified heuristic or the zone's default_ttl).
	explicit := cc.has("s-maxage") || cc.has("max-age") || len(h["Expires"]) > 0
	if len(req.Header["Cookie"]) > 0 && !explicit {
		// A request with cookies may have been answered for that
		// client (a session, a preference): only the origin's explicit
		// freshness lets its response be served to others, as
		// Varnish's builtin VCL and nginx's defaults keep such
		// responses out of the cache. "public" alone grants no
		// lifetime and does not count.
		return false, "cookie"
	}
	if !explicit && !cc.has("public") && !heuristicStatus[status] {
		return false, "status"
	}
	return true, ""
}

// requestRefusal reports whether storable's reason why is a property of
// the request (its credentials or cookies), not of the response: the next
// request for the same key may well be storable, so such a refusal must
// not make the key skip the cache.
func requestRefusal(why string) bool { return why == "authorization" || why == "cookie" }

// freshness is what the cache needs to know of a stored response's
// lifetime, computed once when it is stored or revalidated.
type freshness struct {
	lifetime time.Duration // freshness lifetime (RFC 9111 section 4.2.1)
	swr      time.Duration // stale-while-revalidate window
	sie      time.Duration // stale-if-error window
	// mustRevalidate forbids serving the response stale (must-revalidate,
	// proxy-revalidate, or s-maxage which implies proxy-revalidate).
	mustRevalidate bool
	// noCache requires revalidation before every use.
	noCache bool
}

// computeFreshness applies RFC 9111 section 4.2.1 (and the heuristic of
// 4.2.2 where allowed) to response headers h with status, the shared
// cache's view: s-maxage first, then max-age, then Expires minus Date.
// Rules cap the lifetime (MaxTTL) and fill in the heuristic (DefaultTTL)
// and the stale windows.
func (ru *Rules) computeFreshness(status int, h http.Header, responseTime time.Time) freshness {
	cc := parseCacheControl(h["Cache-Control"])
	var f freshness
	explicit := true
	if d, ok := cc.seconds("s-maxage"); ok {
		f.lifetime = d
		f.mustRevalidate = true
	} else if d, ok := cc.seconds("max-age"); ok {
		f.lifetime = d
	} else if cc.has("max-age") || cc.has("s-maxage") {
		// An invalid max-age makes the response stale (section 4.2.1).
		f.lifetime = 0
	} else if exp := h.Get("Expires"); exp != "" || len(h["Expires"]) > 0 {
		if t, err := http.ParseTime(exp); err == nil {
			date, ok := httpDate(h, "Date")
			if !ok {
				date = responseTime
			}
			f.lifetime = max(t.Sub(date), 0)
		}
		// An invalid Expires means "already expired" (section 5.3).
	} else {
		explicit = false
	}
	if !explicit && heuristicStatus[status] && !cc.has("no-cache") {
		switch lm, ok := httpDate(h, "Last-Modified"); {
		case ru.DefaultTTL > 0:
			f.lifetime = ru.DefaultTTL
		case ok:
			date, dok := httpDate(h, "Date")
			if !dok {
				date = responseTime
			}
			if age := date.Sub(lm); age > 0 {
				f.lifetime = min(age/10, maxHeuristic)
			}
		}
	}
	if ru.MaxTTL > 0 && f.lifetime > ru.MaxTTL {
		f.lifetime = ru.MaxTTL
	}
	if cc.has("must-revalidate") || cc.has("proxy-revalidate") {
		f.mustRevalidate = true
	}
	if cc.has("no-cache") && cc["no-cache"] == "" {
		f.noCache = true
		f.lifetime = 0
	}
	f.swr = ru.StaleWhileRevalidate
	if d, ok := cc.seconds("stale-while-revalidate"); ok {
		f.swr = d
	}
	f.sie = ru.StaleIfError
	if d, ok := cc.seconds("stale-if-error"); ok {
		f.sie = d
	}
	if f.noCache || f.mustRevalidate {
		// Stale content may not be served without validation; only the
		// zone's always-online override can (see Rules.AlwaysOnline).
		f.swr = 0
		f.sie = 0
	}
	return f
}

// initialAge is the corrected initial age of RFC 9111 section 4.2.3.
func initialAge(h http.Header, requestTime, responseTime time.Time) time.Duration {
	var apparent time.Duration
	if date, ok := httpDate(h, "Date"); ok {
		apparent = max(responseTime.Sub(date), 0)
	}
	var ageValue time.Duration
	if v := h.Get("Age"); v != "" {
		if d, ok := (directives{"age": v}).seconds("age"); ok {
			ageValue = d
		}
	}
	corrected := ageValue + max(responseTime.Sub(requestTime), 0)
	return max(apparent, corrected)
}

// DefaultLockTimeout is how long a request waits for another request's
// fetch of the same key when Rules.LockTimeout is 0 (nginx's
// proxy_cache_lock_timeout default).
const DefaultLockTimeout = 5 * time.Second

func (ru *Rules) lockTimeout() time.Duration {
	if ru.LockTimeout > 0 {
		return ru.LockTimeout
	}
	return DefaultLockTimeout
}
