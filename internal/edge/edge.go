// Package edge is rampart's public side: the HTTP and HTTPS listeners and
// the request path every request takes, in one place, top to bottom:
//
//  1. accept: the connection is counted (rampart_open_connections);
//  2. request id: a fast per-process id, sent back as Rampart-Request-Id
//     on every response, the edge's own errors included, and to the origin
//     in the same request header (replacing any the client sent);
//  3. client IP: the TCP peer, or, when the peer is a trusted proxy, the
//     right-most untrusted address of X-Forwarded-For or Forwarded;
//  4. reqctx.Info goes into the request context for every later phase;
//  5. HTTPS redirect: 308 to https for plain-HTTP requests to a host that
//     has a certificate, when tls.redirect_http is on (ACME http-01
//     challenge paths excepted, and served here);
//  6. zone lookup by Host (HTTP/1.1 Host, HTTP/2 :authority), which was
//     validated and canonicalised before step 5 (host.go; malformed: 400):
//     the canonical host is the only one later steps and the origin see; an unknown
//     host gets 421 Misdirected Request and no origin is contacted;
//  7. CONNECT refused (405), the zone's body size limit (413), then the
//     zone's phases in the fixed order of PhaseID (access rules and 451,
//     rate limit, challenge, WAF, cache); each may answer the request
//     itself and stop the path;
//  8. the zone's handler (its proxy to the origins);
//  9. logging, always, even when a handler panics: access log and metrics.
//
// The routing state (zones, trusted proxies, redirect, certificates) is a
// *Routes swapped atomically by SetRoutes on reload; every request holds the
// Routes it started with until it ends, and Routes.Drained tells when a
// replaced Routes has no request left, so its zone handlers can be closed
// without dropping a request.
package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart-edge/rampart/internal/accesslog"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/h1"
	"github.com/rampart-edge/rampart/internal/inflight"
	"github.com/rampart-edge/rampart/internal/metrics"
	"github.com/rampart-edge/rampart/internal/reqctx"
	"github.com/rampart-edge/rampart/internal/reqpath"
	"github.com/rampart-edge/rampart/internal/rollup"
)

// Decision is a phase's verdict on a request.
type Decision int

const (
	// Continue passes the request to the next phase.
	Continue Decision = iota
	// Handled means the phase wrote the response (a block, a challenge
	// page, a cache hit); no later phase and no origin is involved.
	Handled
)

// Phase is one step of the request path between zone lookup and the
// proxy. A phase that answers must set reqctx.Info.Block (for a refusal) or
// CacheStatus (for a cache answer) so the logging phase records why. A
// cache phase that passes a request on to the origin (MISS, EXPIRED, ...)
// sets CacheStatus and the Rampart-Cache header itself; when CacheStatus
// is still empty at the proxy, the edge sends Rampart-Cache: BYPASS.
type Phase interface {
	Serve(w http.ResponseWriter, r *http.Request) Decision
}

// PhaseFunc adapts a function to Phase.
type PhaseFunc func(w http.ResponseWriter, r *http.Request) Decision

// Serve calls f(w, r).
func (f PhaseFunc) Serve(w http.ResponseWriter, r *http.Request) Decision { return f(w, r) }

// PhaseID names a phase slot. The order of the constants is the order the
// phases run in: cheap checks first, the WAF (the costliest) after them,
// and the cache last, so that only requests every check admitted can be
// served from it.
type PhaseID int

// The phase slots, in running order.
const (
	// PhaseAccess: IP/CIDR/country rules, 451 for suspended zones and
	// embargoed regions.
	PhaseAccess PhaseID = iota
	// PhaseRateLimit: per-client GCRA, 429 with Retry-After.
	PhaseRateLimit
	// PhaseChallenge: the "under attack" proof-of-work challenge.
	PhaseChallenge
	// PhaseWAF: the Core Rule Set on the request.
	PhaseWAF
	// PhaseCache: answers from the edge cache.
	PhaseCache
	// NumPhases is the number of phase slots.
	NumPhases
)

var phaseNames = [NumPhases]string{"access", "ratelimit", "challenge", "waf", "cache"}

// String returns the phase's name as logs and docs use it ("waf").
func (p PhaseID) String() string {
	if p < 0 || p >= NumPhases {
		return fmt.Sprintf("phase(%d)", int(p))
	}
	return phaseNames[p]
}

// Zone is what the edge needs of one configured zone.
type Zone struct {
	// Name is the zone's host as configured; it labels logs and metrics.
	Name string
	// Phases holds the zone's phases by slot; a nil slot is skipped.
	Phases [NumPhases]Phase
	// Handler serves the requests every phase admitted: the zone's proxy.
	Handler http.Handler
	// Metrics are the zone's resolved metric children; nil records none.
	Metrics *metrics.Zone
	// MaxBodySize bounds request bodies in bytes (0: no limit). A request
	// whose Content-Length is larger gets 413 before any phase runs; a
	// chunked body is cut off when it grows past the limit, which fails
	// the request while its body is being read.
	MaxBodySize int64
	// NeedsHandshake marks a zone with rules on the client address
	// (access rules, embargoes): a request that arrives in 0-RTT early
	// data, from an address not yet validated, gets 425 Too Early
	// (serve_h3.go). A zone with a rate limit or a challenge phase is
	// treated so whatever this says.
	NeedsHandshake bool
	// HSTS is the Strict-Transport-Security value sent on every HTTPS
	// and HTTP/3 response of the zone ("" sends none).
	HSTS string
	// InFlight, when set, counts the zone's requests (hijacked ones until
	// their handler returns), so that the app closes the zone's parts
	// when the last one ends after the zone was replaced or removed. A
	// request that finds it retired is routed again on the current
	// routes.
	InFlight *inflight.Counter
}

// Routes is the routing state of the edge, replaced as a whole on reload.
// A Routes must not be changed or passed to SetRoutes again after it has
// been passed to SetRoutes once.
type Routes struct {
	// Lookup returns the zone serving a Host header value as the client
	// sent it (any case, with or without port). Required.
	Lookup func(host string) (*Zone, bool)
	// TrustedProxies are the peers whose forwarding headers are believed.
	TrustedProxies []netip.Prefix
	// RedirectHTTP answers plain-HTTP requests for hosts that have a
	// certificate with a 308 to https.
	RedirectHTTP bool
	// HasCertificate reports whether the edge can serve TLS for a host
	// name (no port). Nil means no host has one.
	HasCertificate func(host string) bool
	// HTTPSPort is the port put in redirects; "" or "443" leaves it out.
	HTTPSPort string
	// ACMEChallenge, when set, wraps a handler to answer ACME http-01
	// challenges (paths under /.well-known/acme-challenge/) on plain
	// HTTP before zone lookup and redirect, passing other requests on.
	ACMEChallenge func(next http.Handler) http.Handler

	acme http.Handler // ACMEChallenge(routing), built by SetRoutes

	// refs counts the requests using these routes; it goes below zero by
	// retiredBias once the routes are replaced.
	refs      atomic.Int64
	drainOnce sync.Once
	drained   chan struct{} // closed when no request uses these routes any more
}

const retiredBias = 1 << 62

// Drained returns a channel closed once these routes have been replaced and
// serve no request any more. A hijacked connection (WebSocket) counts
// until its handler returns. Routes are not chained: a WebSocket that
// started on old routes keeps only those (and the zone parts its request
// holds through Zone.InFlight) alive, not every routes replaced after
// them; Server.InFlight counts the requests of all routes.
func (rt *Routes) Drained() <-chan struct{} { return rt.drained }

func (rt *Routes) acquire() bool {
	if rt.refs.Add(1) > 0 {
		return true
	}
	rt.release()
	return false
}

func (rt *Routes) release() {
	if rt.refs.Add(-1) == -retiredBias {
		rt.drainOnce.Do(func() { close(rt.drained) })
	}
}

func (rt *Routes) retire() {
	if rt.refs.Add(-retiredBias) == -retiredBias {
		rt.drainOnce.Do(func() { close(rt.drained) })
	}
}

// Options configure a Server.
type Options struct {
	// Timeouts are the client-side timeouts: ReadHeader, Read, Write,
	// Idle and MaxHeaderBytes. Zero values mean net/http's defaults (no
	// timeout, 1 MiB of headers); config.Default() sets safe ones.
	Timeouts config.Timeouts
	// Metrics receives connection counts; zones carry their own request
	// metrics. Nil records none.
	Metrics *metrics.Registry
	// AccessLog receives one line per request; nil writes none.
	AccessLog *accesslog.Logger
	// Traffic receives the per-minute rollups and the sampled security
	// events of the dashboard; nil records none.
	Traffic *rollup.Store
	// Logger receives the edge's own errors (panics, listener failures);
	// nil discards them.
	Logger *slog.Logger
	// Server names the HTTP/1.x server loop of the listeners
	// (config listen.server): "rampart" or "" for internal/h1, "net/http"
	// for net/http's. On TLS listeners, "rampart" serves the connections
	// that negotiate http/1.1 with internal/h1 and the h2 ones with
	// net/http; "net/http" serves both with net/http.
	Server string
}

// Server is the edge: an http.Handler running the request path, and the
// listeners serving it.
type Server struct {
	opts    Options
	log     *slog.Logger
	ids     *idGenerator
	routes  atomic.Pointer[Routes]
	unknown *metrics.Zone
	// altSvc is the Alt-Svc value of HTTP/1.1 and HTTP/2 responses on
	// TLS once HTTP/3 is served (serve_h3.go); nil before.
	altSvc atomic.Pointer[[]string]
	protos *protoCounters // requests by protocol; nil without metrics
	// inflight counts the requests being served on any routes.
	inflight atomic.Int64

	mu      sync.Mutex
	servers []listenerServer
	closed  bool
}

// listenerServer is what Shutdown needs of a listener's server: net/http's
// or h1's.
type listenerServer interface {
	Shutdown(ctx context.Context) error
	Close() error
}

// New returns a Server with no zones: every request gets 421 until
// SetRoutes is called.
func New(opts Options) *Server {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, log: log, ids: newIDGenerator()}
	if opts.Metrics != nil {
		s.unknown = opts.Metrics.Zone(metrics.UnknownZone)
		s.protos = newProtoCounters(opts.Metrics, log) // protocol.go
	}
	s.SetRoutes(&Routes{Lookup: func(string) (*Zone, bool) { return nil, false }})
	return s
}

// SetRoutes makes rt the routing state for new requests and retires the
// previous one, which it returns (nil the first time). Requests already
// running finish with the routes they started with; wait for
// old.Drained() before closing what only the old routes used.
func (s *Server) SetRoutes(rt *Routes) (old *Routes) {
	rt.drained = make(chan struct{})
	if rt.ACMEChallenge != nil {
		rt.acme = rt.ACMEChallenge(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var z *Zone
			s.plainHTTP(rt, w, r, reqctx.From(r.Context()), &z)
		}))
	}
	old = s.routes.Swap(rt)
	if old != nil {
		old.retire()
	}
	return old
}

// InFlight returns the number of requests being served, on any routes
// (hijacked connections until their handler returns).
func (s *Server) InFlight() int64 { return s.inflight.Load() }

// acquireRoutes returns the current routes, counted as in use until
// release.
func (s *Server) acquireRoutes() *Routes {
	for {
		rt := s.routes.Load()
		if rt.acquire() {
			return rt
		}
		// rt was replaced between Load and acquire: take the new one.
	}
}

// requestState is allocated once per request: the reqctx.Info and the
// header value slice of the request id.
type requestState struct {
	info reqctx.Info
	id   [1]string
	// idBuf holds the bytes of info.ID (idGenerator.NextIn): the state is
	// never reused, so the id string may point into it.
	idBuf [idLen]byte
	// claimed is set by the ServeHTTP that uses the state, so that a
	// state found in a context is never used twice.
	claimed bool
}

// stateKey is the context key of the *requestState that h1's requests
// (newH1Request) and newRequestContext carry.
type stateKey struct{}

// stateContext is a request context carrying its requestState inline.
type stateContext struct {
	context.Context
	st requestState
}

// Value returns the request's state for stateKey, its reqctx.Info for
// reqctx's key, and defers to the parent for every other key.
func (c *stateContext) Value(k any) any {
	if _, ok := k.(stateKey); ok {
		return &c.st
	}
	if reqctx.IsKey(k) {
		return &c.st.info
	}
	return c.Context.Value(k)
}

// h1Request is a request's memory on internal/h1: h1's Request (the
// *http.Request, its URL and context) and the edge's requestState, in one
// allocation. The request's context answers stateKey and reqctx's key
// with the state (ContextValue).
type h1Request struct {
	h1.Request
	st requestState
}

// newH1Request is internal/h1's NewRequest hook.
func newH1Request() *h1.Request {
	q := &h1Request{}
	q.SetContextValues(q)
	return &q.Request
}

// ContextValue returns the request's state for stateKey and its
// reqctx.Info for reqctx's key.
func (q *h1Request) ContextValue(k any) (any, bool) {
	if _, ok := k.(stateKey); ok {
		return &q.st, true
	}
	if reqctx.IsKey(k) {
		return &q.st.info, true
	}
	return nil, false
}

// newRequestContext puts a new request state in ctx, as h1's requests
// carry one (newH1Request): a request made with it needs no
// Request.WithContext (a copy of the request) in ServeHTTP.
func newRequestContext(ctx context.Context) context.Context {
	return &stateContext{Context: ctx}
}

// ServeHTTP runs the request path (see the package comment).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	rt := s.acquireRoutes()
	defer rt.release()

	// 2-4: request id, client IP, request context.
	st, _ := r.Context().Value(stateKey{}).(*requestState)
	inContext := st != nil && !st.claimed && reqctx.From(r.Context()) == &st.info
	if !inContext {
		st = &requestState{}
	}
	st.claimed = true
	st.info = reqctx.Info{ID: s.ids.NextIn(&st.idBuf), Start: time.Now(), TLS: r.TLS != nil, Target: r.RequestURI}
	info := &st.info
	st.id[0] = info.ID
	info.ClientIP, info.PeerTrusted = ClientIP(r.RemoteAddr, r.Header, rt.TrustedProxies)
	rw := writerPool.Get().(*responseWriter)
	*rw = responseWriter{rw: w, id: st.id[:]}
	w.Header()[RequestIDHeader] = rw.id
	if r.TLS != nil && r.ProtoMajor < 3 {
		if v := s.altSvc.Load(); v != nil {
			w.Header()["Alt-Svc"] = *v
		}
	}
	// The origin gets the same id, so its logs can be joined with
	// rampart's; a client-sent value is replaced, never trusted.
	r.Header[RequestIDHeader] = rw.id
	if !inContext {
		r = r.WithContext(reqctx.With(r.Context(), info))
	}

	var z *Zone
	defer func() {
		// 9: logging, always.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				s.logRequest(rw, r, info, z)
				*rw = responseWriter{}
				panic(v)
			}
			s.log.Error("panic serving request", "request_id", info.ID, "host", r.Host, "panic", v, "stack", string(debug.Stack()))
			if !rw.wroteHeader {
				writeError(rw, http.StatusInternalServerError, "internal error", info.ID)
			}
		}
		s.logRequest(rw, r, info, z)
		*rw = responseWriter{}
		writerPool.Put(rw)
	}()

	// The one host every later step sees (host.go): malformed → 400.
	if err := settleHost(r, info); err != nil {
		writeError(rw, http.StatusBadRequest, err.Error(), info.ID)
		return
	}
	// The one path every later step and the origin see (package
	// reqpath): a path origins could resolve differently → 400.
	if _, err := reqpath.Apply(r); err != nil {
		z = zoneOf(rt, r.Host)
		info.Block = "path"
		writeError(rw, http.StatusBadRequest, err.Error(), info.ID)
		return
	}

	// 5: ACME challenges and the HTTPS redirect, plain HTTP only.
	if r.TLS == nil {
		if rt.acme != nil && strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") {
			// The challenge handler answers the challenges it knows and
			// passes anything else to plainHTTP.
			rt.acme.ServeHTTP(rw, r)
			z = zoneOf(rt, r.Host)
			return
		}
		s.plainHTTP(rt, rw, r, info, &z)
		return
	}
	s.route(rt, rw, r, info, &z)
}

func zoneOf(rt *Routes, host string) *Zone {
	z, _ := rt.Lookup(host)
	return z
}

// plainHTTP redirects to https when the routes ask for it and the host has
// a certificate, and routes the request otherwise.
func (s *Server) plainHTTP(rt *Routes, w http.ResponseWriter, r *http.Request, info *reqctx.Info, zp **Zone) {
	if rt.RedirectHTTP && rt.HasCertificate != nil {
		if host := hostOnly(r.Host); host != "" && rt.HasCertificate(host) {
			*zp = zoneOf(rt, r.Host)
			redirectHTTPS(w, r, host, rt.HTTPSPort)
			return
		}
	}
	s.route(rt, w, r, info, zp)
}

// route runs steps 6-8: zone lookup, the zone's phases, its handler. It
// stores the zone in *zp before running anything, so that the logging
// phase knows it even if a handler panics; *zp stays nil for an unknown
// host.
func (s *Server) route(rt *Routes, w http.ResponseWriter, r *http.Request, info *reqctx.Info, zp **Zone) {
	z, ok := rt.Lookup(r.Host)
	if ok && z != nil && z.InFlight != nil {
		if !z.InFlight.Acquire() {
			// The zone was replaced or removed between the routes'
			// lookup and now: its parts may be closing. Take the
			// current routes.
			cur := s.acquireRoutes()
			defer cur.release()
			z, ok = cur.Lookup(r.Host)
			ok = ok && z != nil && (z.InFlight == nil || z.InFlight.Acquire())
		}
		if ok && z.InFlight != nil {
			defer z.InFlight.Release()
		}
	}
	if !ok || z == nil {
		writeError(w, http.StatusMisdirectedRequest, "no site is configured for this host", info.ID)
		return
	}
	*zp = z
	info.Zone = z.Name
	if z.HSTS != "" && r.TLS != nil {
		w.Header()["Strict-Transport-Security"] = []string{z.HSTS}
	}
	if tooEarly(r, z) { // serve_h3.go
		info.Block = "early_data"
		writeError(w, http.StatusTooEarly, "sent in TLS early data (0-RTT); retry after the handshake", info.ID)
		return
	}
	if r.Method == http.MethodConnect {
		// rampart is a reverse proxy: a CONNECT tunnel through it would
		// make it an open forward proxy.
		w.Header()["Allow"] = allowed
		writeError(w, http.StatusMethodNotAllowed, "CONNECT is not supported", info.ID)
		return
	}
	if z.MaxBodySize > 0 {
		if r.ContentLength > z.MaxBodySize {
			w.Header()["Connection"] = closeConn
			writeError(w, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("request body larger than %d bytes", z.MaxBodySize), info.ID)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, z.MaxBodySize)
		}
	}
	for i := range z.Phases {
		if p := z.Phases[i]; p != nil && p.Serve(w, r) == Handled {
			return
		}
	}
	if info.CacheStatus == "" {
		// No cache phase answered or marked the request: the response
		// comes from the origin uncached.
		w.Header()[CacheHeader] = bypass
	}
	z.Handler.ServeHTTP(w, r)
}

// CacheHeader is the response header naming the cache's part in a proxied
// response: HIT, MISS, EXPIRED, STALE, REVALIDATED or BYPASS.
const CacheHeader = "Rampart-Cache"

// bypass is shared by every response; net/http never modifies a header
// value slice in place.
var bypass = []string{"BYPASS"}

var closeConn = []string{"close"}

var allowed = []string{"GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"}

// logRequest is the logging phase: metrics and the access log.
func (s *Server) logRequest(rw *responseWriter, r *http.Request, info *reqctx.Info, z *Zone) {
	d := time.Since(info.Start)
	status := rw.status
	if !rw.wroteHeader {
		// net/http answers 200 for a handler that wrote nothing; a
		// handler that aborted wrote nothing either.
		status = http.StatusOK
		if r.Context().Err() != nil {
			status = 499
		}
	} else if status >= 500 && r.Context().Err() != nil && !rw.hijacked {
		// The client went away first: not an origin or edge failure.
		status = 499
	}
	m := s.unknown
	zoneName := ""
	if z != nil {
		m = z.Metrics
		zoneName = z.Name
	}
	if m != nil {
		m.Observe(status, d, info.Origin)
	}
	s.protos.observe(r.ProtoMajor)
	if s.opts.Traffic != nil && zoneName != "" {
		s.recordTraffic(r, info, zoneName, status, rw.bytes, d)
	}
	if !s.opts.AccessLog.Enabled() {
		return
	}
	e := accesslog.Entry{
		Time:      info.Start,
		ID:        info.ID,
		ClientIP:  info.ClientIP,
		Zone:      zoneName,
		Method:    r.Method,
		Host:      r.Host,
		Path:      info.Target,
		Proto:     r.Proto,
		Status:    status,
		Bytes:     rw.bytes,
		Duration:  d,
		Origin:    info.Origin,
		UserAgent: r.UserAgent(),
		Referer:   r.Referer(),
		Cache:     info.CacheStatus,
		Block:     info.Block,
	}
	s.opts.AccessLog.Log(&e)
}

// recordTraffic adds the request to the dashboard's rollups, and keeps a
// mitigated one as a security event.
func (s *Server) recordTraffic(r *http.Request, info *reqctx.Info, zone string, status int, bytes int64, d time.Duration) {
	out := rollup.Served
	switch {
	case status == http.StatusTooManyRequests:
		out = rollup.RateLimited
	case info.Block == "challenge":
		out = rollup.Challenged
	case status == http.StatusUnavailableForLegalReasons:
		out = rollup.Legal
	case status == http.StatusForbidden && info.Block != "":
		out = rollup.WAFBlocked
	}
	hit := info.CacheStatus == "HIT" || info.CacheStatus == "STALE"
	s.opts.Traffic.Record(rollup.Request{Zone: zone, Time: info.Start, Status: status, Bytes: bytes, CacheHit: hit, Latency: d, Outcome: out})
	if out != rollup.Served {
		s.opts.Traffic.RecordEvent(rollup.Event{Time: info.Start, Zone: zone, Action: rollup.ActionOf(out), RuleID: info.Block,
			ClientIP: info.ClientIP.String(), Addr: info.ClientIP, Method: r.Method, Path: info.Target, UserAgent: r.UserAgent(), Status: status, RequestID: info.ID})
	}
}

// writeError writes one of the edge's own answers: a short text body that
// names the request id, never cached.
func writeError(w http.ResponseWriter, code int, msg, id string) {
	h := w.Header()
	h["Content-Type"] = []string{"text/plain; charset=utf-8"}
	h["Cache-Control"] = []string{"no-store"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	w.WriteHeader(code)
	fmt.Fprintf(w, "%d %s: %s\nrequest id: %s\n", code, http.StatusText(code), msg, id)
}

// redirectHTTPS answers 308 Permanent Redirect to the same URL on https;
// 308 keeps the method and body (RFC 9110 section 15.4.9).
func redirectHTTPS(w http.ResponseWriter, r *http.Request, host, port string) {
	if strings.IndexByte(host, ':') >= 0 {
		host = "[" + host + "]"
	}
	target := "https://" + host
	if port != "" && port != "443" {
		target += ":" + port
	}
	target += r.URL.RequestURI()
	w.Header()["Location"] = []string{target}
	w.Header()["Content-Type"] = []string{"text/plain; charset=utf-8"}
	w.WriteHeader(http.StatusPermanentRedirect)
	fmt.Fprintf(w, "308 Permanent Redirect: %s\n", target)
}

// hostOnly strips the port and IPv6 brackets from a Host header value and
// lower-cases it; it returns "" for an empty or malformed value.
func hostOnly(h string) string {
	if h == "" {
		return ""
	}
	if h[0] == '[' {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return ""
		}
		return strings.ToLower(h[1:end])
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// Serve serves the edge on ln until Shutdown or Close. HTTP/1.x goes to
// internal/h1 unless Options.Server is "net/http". With tlsConfig set,
// connections are TLS with HTTP/2 and HTTP/1.1 negotiated by ALPN; name
// ("http", "https") labels the connection metrics. It returns nil after
// Shutdown or Close.
func (s *Server) Serve(ln net.Listener, name string, tlsConfig *tls.Config) error {
	t := s.opts.Timeouts
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    t.MaxHeaderBytes,
		// TLS handshake failures and client resets are routine on a
		// public listener: keep them at debug level.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		// HTTP/2 limits, stated rather than left implicit: 250 streams
		// per connection, and at most 1 MiB of request body buffered
		// per connection (flow control), so a client that sends faster
		// than an origin reads holds at most 1 MiB of edge memory per
		// connection. A stream may use the whole window, which keeps a
		// single upload fast on a long round trip.
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams:          250,
			MaxReceiveBufferPerConnection: 1 << 20,
			MaxReceiveBufferPerStream:     1 << 20,
		},
	}
	var connState func(net.Conn, http.ConnState)
	if s.opts.Metrics != nil {
		open, accepted := s.opts.Metrics.Conns(name)
		connState = func(_ net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				accepted.Inc()
				open.Inc()
			case http.StateClosed, http.StateHijacked:
				open.Dec()
			}
		}
		srv.ConnState = connState
	}
	if s.opts.Server != config.ServerNetHTTP {
		if tlsConfig == nil {
			return s.serveH1(ln, name, connState) // serve_h1.go
		}
		return s.serveTLSSplit(ln, name, tlsConfig, connState) // serve_tls.go
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return http.ErrServerClosed
	}
	s.servers = append(s.servers, srv)
	s.mu.Unlock()

	var err error
	if tlsConfig != nil {
		srv.TLSConfig = tlsConfig
		err = srv.ServeTLS(ln, "", "")
	} else {
		err = srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serving %s on %s: %w", name, ln.Addr(), err)
}

// Shutdown stops the listeners, then waits for the requests in flight to
// finish until ctx is done, when the remaining connections are closed.
// Hijacked connections (WebSockets) are not waited for by net/http; wait
// for the routes' Drained channel for them.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	servers := s.servers
	s.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(servers))
	for i, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Shutdown(ctx); err != nil {
				srv.Close()
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("shutting down the edge: %w", err)
	}
	return nil
}

// Routes returns the current routes.
func (s *Server) Routes() *Routes { return s.routes.Load() }
