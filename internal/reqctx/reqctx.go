// Package reqctx carries the per-request facts that the edge establishes
// once (request id, client address, zone) to every later phase.
package reqctx

import (
	"context"
	"net/netip"
	"time"
)

// Info is the per-request state shared by the edge phases. The edge fills
// it before any phase runs; later phases may set the fields documented as
// theirs. It is not safe for concurrent use by several goroutines.
type Info struct {
	// ID is the request id, also sent as Rampart-Request-Id.
	ID string
	// Start is when the edge began reading the request.
	Start time.Time
	// ClientIP is the client's address: the TCP peer, or the address a
	// trusted proxy reported in X-Forwarded-For, Forwarded or PROXY.
	ClientIP netip.Addr
	// PeerTrusted is true when the TCP peer is a configured trusted proxy,
	// so incoming X-Forwarded-* headers are kept and appended to.
	PeerTrusted bool
	// Zone is the host of the zone that serves the request ("" if none).
	Zone string
	// Host is the canonical host the edge decided on: the requested name
	// in lower case without a trailing dot (an IPv6 literal in brackets,
	// in its canonical form), plus ":port" of the listener the request
	// arrived on when the client named a port and the listener's is not
	// the scheme's default. It is the only host every later phase, the
	// cache key and the origin see (Host when the zone preserves it,
	// X-Forwarded-Host, Forwarded host=); the edge also stores it in
	// Request.Host. "" for a request without a host (HTTP/1.0).
	Host string
	// Target is the request-target as the client sent it, for the access
	// log and the WAF's REQUEST_URI_RAW. Every other step reads the
	// normalised one the edge stores in Request.RequestURI and
	// Request.URL (package reqpath).
	Target string
	// TLS is true when the client connection is TLS.
	TLS bool
	// Origin is the origin URL the proxy used (set by the proxy).
	Origin string
	// CacheStatus is HIT, MISS, ... (set by the cache; "" if not cached).
	CacheStatus string
	// Block names the reason a phase refused the request ("" if none).
	Block string
	// Priority is true when the client holds a valid clearance cookie or
	// is exempt from the challenge (set by the zone's protection phases):
	// the proxy's origin queue serves it before other requests.
	Priority bool
}

type key struct{}

// With returns ctx carrying info.
func With(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, key{}, info)
}

// IsKey reports whether k is the context key With stores an *Info under:
// a context type that carries its Info inline answers Value(k) with it
// instead of a WithValue layer (one allocation less per request).
func IsKey(k any) bool {
	_, ok := k.(key)
	return ok
}

// From returns the Info carried by ctx, or nil.
func From(ctx context.Context) *Info {
	info, _ := ctx.Value(key{}).(*Info)
	return info
}
