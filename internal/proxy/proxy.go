// Package proxy forwards requests from the edge to a zone's origin servers:
// load balancing (round_robin, least_conn, ip_hash), active health checks,
// passive ejection, retries of idempotent requests after connection
// failures, forwarding headers, streaming in both directions and
// WebSocket/Upgrade pass-through.
//
// Requests to plain-HTTP origins go through a lean HTTP/1.1 client that does
// the round trip on the calling goroutine with pooled keep-alive connections
// (client.go); a request body is streamed by one extra goroutine so the
// origin may answer before the upload ends. Upgrades (WebSocket) and https
// origins go through net/http/httputil.ReverseProxy on an http.Transport.
// Both paths forward the same headers and report errors the same way.
//
// Choices worth knowing:
//   - When every origin is marked down (active checks or passive ejection)
//     the proxy still tries them, in policy order, rather than answering a
//     fast 502: a health check can be wrong, a request rarely is.
//   - Passive ejection counts origin failures: refused or reset
//     connections, timeouts and malformed responses. 5xx answers are
//     responses, not failures, and are passed through.
//   - A request is retried on another origin only if its method is
//     idempotent (RFC 9110 9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE),
//     the failure happened before any response byte, and its body was not
//     read yet. A pooled connection that the origin had closed is replaced
//     by a new one without counting as a failure (for non-idempotent
//     requests and requests with a body the pooled connection is checked
//     before use instead).
//   - Errors carry their source (client, origin, internal): origin errors
//     answer 502, or 504 for a response-header timeout; a client that went
//     away gets nothing and is logged at debug level, never as a 502; an
//     origin that fails after the response head was sent aborts the client
//     connection (panic(http.ErrAbortHandler), as httputil does), so the
//     truncation is visible.
//   - The request-target is forwarded as the edge left it (r.RequestURI:
//     the normalised path of package reqpath, the query as received),
//     prefixed by the origin URL's path if it has one; the http.Transport
//     path sends the same (r.URL's RawPath is the normalised path).
//   - With the zone's origin_limits (package originlimit), at most
//     max_conns requests are in flight to the zone's origins together,
//     retries included; the others wait in a bounded queue where requests
//     marked reqctx.Info.Priority go first. A full queue, or a wait past
//     queue_timeout, answers 503 with Retry-After without touching an
//     origin. WebSocket upgrades are not counted (a socket would hold a
//     slot for hours).
package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"sync/atomic"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/cutoff"
	"github.com/rampart-edge/rampart/internal/proxy/originlimit"
	"github.com/rampart-edge/rampart/internal/reqctx"
)

// Default timeouts and health-check settings, used where the zone or
// Options leave a field zero.
const (
	DefaultDial           = 5 * time.Second
	DefaultResponseHeader = 30 * time.Second
	DefaultOriginIdle     = 90 * time.Second
	DefaultInterval       = 5 * time.Second
	DefaultCheckTimeout   = 2 * time.Second
	DefaultHealthy        = 2
	DefaultUnhealthy      = 3
	DefaultMaxFails       = 3
	DefaultEjectFor       = 10 * time.Second
)

// Options are the dependencies of a Proxy.
type Options struct {
	// Timeouts gives Dial (connecting to an origin, default 5s),
	// ResponseHeader (from sending the request until the response head is
	// read, default 30s; exceeded gives 504; on a reused origin connection
	// the wait may last up to min(ResponseHeader/16, 1s) longer, so that
	// consecutive requests share one read deadline) and OriginIdle (how long an
	// idle keep-alive connection to an origin is kept, default 90s).
	Timeouts config.Timeouts
	// Logger receives proxy errors tagged with their source; nil discards.
	// Lines carry no zone attribute unless LogZone is set: give a logger
	// that has it, or set LogZone.
	Logger *slog.Logger
	// LogZone adds the attribute zone=HOST to Logger, on the proxy's
	// first log line: a node with many zones does not hold a logger
	// clone for each zone that never logs.
	LogZone bool
	// OnHealth is called when an origin changes health (for metrics/logs);
	// may be nil. It is called from health-check and request goroutines
	// and must not block.
	OnHealth func(zone, origin string, healthy bool)
	// OnError, when set, is called once for every request the proxy could
	// not complete, with the error tagged by source (for access logs and
	// metrics: a client that went away is SourceClient, never a 502). It
	// runs on the request's goroutine before the error response is written.
	OnError func(r *http.Request, err *Error)
	// Admit, when set, reports whether the zone is still served; a
	// tunnel or streaming response that would start while it is not is
	// ended at once (see CutExchanges). It is called once per upgrade,
	// streaming response and https-origin request, and must be cheap.
	Admit func() bool
	// Scheduler runs the proxy's health checks, reaping and watch once
	// started; nil means one scheduler shared by every such proxy of the
	// process. A node passes its own (one per node).
	Scheduler *Scheduler
}

// OriginStatus is the state of one origin, for metrics and status pages.
type OriginStatus struct {
	URL     string
	Healthy bool  // active checks pass and not passively ejected
	Active  int64 // requests in flight
	// LastCheck is when the last active health check ended (zero: none
	// yet, or no health_check.path); LastError is its error ("" when it
	// passed), e.g. "status 503 Service Unavailable" or "dial tcp ...: connection refused".
	LastCheck time.Time
	LastError string
}

// Proxy forwards requests to the origins of one zone. It is safe for
// concurrent use.
type Proxy struct {
	zone         string
	origins      []*origin
	policy       string
	retries      int
	preserveHost bool
	hc           config.HealthCheck
	timeouts     config.Timeouts
	log          *slog.Logger
	logZone      bool                        // log gets zone=HOST on first use (logger)
	zoneLog      atomic.Pointer[slog.Logger] // log with the zone, once made
	onHealth     func(zone, origin string, healthy bool)
	onError      func(r *http.Request, err *Error)
	// transport serves https origins, upgrades and health checks; it
	// is built on first use (getTransport), as is each origin's
	// ReverseProxy, so a zone that never needs them holds neither.
	transport atomic.Pointer[http.Transport]
	next      atomic.Uint64
	waits     waitSet
	limit     *originlimit.Limiter // nil: no origin_limits
	exchanges *cutoff.Set          // open tunnels and streams; exchange.go

	sched      *Scheduler
	tasks      []*task // health checks and the reap, once started
	reapTask   *task
	reapArmed  atomic.Bool // reapTask is scheduled or running
	started    atomic.Bool
	stopCtx    context.Context // cancelled by Close; set by Start
	stopCancel context.CancelFunc
	mu         sync.Mutex // orders Start and Close
	closedFlag bool

	startOnce sync.Once
	closeOnce sync.Once
	stop      chan struct{}
	wg        sync.WaitGroup // health checks in flight
}

// New builds the proxy of zone z: its origins (http:// or https:// URLs,
// at least one), load-balancing policy (round_robin when empty),
// health-check settings (defaults above for zero fields), Retries (used as
// given; config applies the default of 1) and PreserveHost (true when nil:
// the client's Host is sent to the origin). Nothing is started: call Start
// for active health checks.
func New(z config.Zone, opts Options) (*Proxy, error) {
	if len(z.Origins) == 0 {
		return nil, fmt.Errorf("zone %q: %w", z.Host, errNoOrigin)
	}
	p := &Proxy{
		zone:         z.Host,
		policy:       z.LoadBalancing,
		retries:      z.Retries,
		preserveHost: z.PreserveHost == nil || *z.PreserveHost,
		hc:           z.HealthCheck,
		timeouts:     opts.Timeouts,
		log:          opts.Logger,
		logZone:      opts.LogZone,
		onHealth:     opts.OnHealth,
		onError:      opts.OnError,
		stop:         make(chan struct{}),
		exchanges:    cutoff.New(opts.Admit),
		sched:        opts.Scheduler,
	}
	if p.sched == nil {
		p.sched = defaultScheduler()
	}
	switch p.policy {
	case "":
		p.policy = RoundRobin
	case RoundRobin, LeastConn, IPHash:
	default:
		return nil, fmt.Errorf("zone %q: load_balancing %q: want round_robin, least_conn or ip_hash", z.Host, z.LoadBalancing)
	}
	if p.retries < 0 {
		return nil, fmt.Errorf("zone %q: retries %d: must not be negative", z.Host, z.Retries)
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if ol := z.OriginLimits; ol.Enabled() {
		lim, err := originlimit.New(originlimit.Options{MaxConns: ol.MaxConns, Queue: ol.Queue, QueueTimeout: ol.QueueTimeout})
		if err != nil {
			return nil, fmt.Errorf("zone %q: %w", z.Host, err)
		}
		p.limit = lim
	}
	t := &p.timeouts
	if t.Dial <= 0 {
		t.Dial = DefaultDial
	}
	if t.ResponseHeader <= 0 {
		t.ResponseHeader = DefaultResponseHeader
	}
	if t.OriginIdle <= 0 {
		t.OriginIdle = DefaultOriginIdle
	}
	h := &p.hc
	if h.Interval <= 0 {
		h.Interval = DefaultInterval
	}
	if h.Timeout <= 0 {
		h.Timeout = DefaultCheckTimeout
	}
	if h.Healthy <= 0 {
		h.Healthy = DefaultHealthy
	}
	if h.Unhealthy <= 0 {
		h.Unhealthy = DefaultUnhealthy
	}
	if h.MaxFails <= 0 {
		h.MaxFails = DefaultMaxFails
	}
	if h.EjectFor <= 0 {
		h.EjectFor = DefaultEjectFor
	}
	for i, raw := range z.Origins {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("zone %q: origins[%d] %q: %w", z.Host, i, raw, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("zone %q: origins[%d] %q: scheme must be http or https", z.Host, i, raw)
		}
		if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("zone %q: origins[%d] %q: want scheme://host[:port][/path] only", z.Host, i, raw)
		}
		o := &origin{
			url:      u,
			raw:      raw,
			host:     u.Host,
			https:    u.Scheme == "https",
			hash:     mix64(hashBytes([]byte(raw))),
			idleTime: t.OriginIdle,
			owner:    p,
		}
		o.addr = u.Host
		if u.Port() == "" {
			port := "80"
			if o.https {
				port = "443"
			}
			o.addr = net.JoinHostPort(u.Hostname(), port)
		}
		if path := u.EscapedPath(); path != "" && path != "/" {
			o.prefix = strings.TrimSuffix(path, "/")
		}
		o.healthy.Store(true)
		p.origins = append(p.origins, o)
	}
	return p, nil
}

// Start starts the active health checks (when the zone's health_check.path
// is set), the reaping of idle origin connections and the watch that
// interrupts origin waits of clients that went away (within 100 ms;
// without Start such waits last until the origin answers or the
// response-header timeout), all on the proxy's Scheduler: no goroutine
// waits for this proxy while it has nothing due. It is idempotent.
func (p *Proxy) Start() {
	p.startOnce.Do(func() {
		checks := p.checkTasks() // health.go
		if len(checks) > 0 {
			p.stopCtx, p.stopCancel = context.WithCancel(context.Background())
		}
		p.reapTask = &task{idx: -1, kind: taskReap, p: p}
		p.tasks = append(checks, p.reapTask)
		p.mu.Lock()
		closed := p.closedFlag
		if !closed {
			p.started.Store(true)
		}
		p.mu.Unlock()
		if closed {
			return
		}
		p.sched.add(checks)
		p.armReap()
	})
}

// Close stops the health checks and closes the idle origin connections.
// Requests in flight finish; their connections are closed afterwards.
func (p *Proxy) Close() {
	p.closeOnce.Do(func() {
		close(p.stop)
		p.mu.Lock()
		p.closedFlag = true
		started := p.started.Load()
		p.mu.Unlock()
		if started {
			if p.stopCancel != nil {
				p.stopCancel()
			}
			p.sched.remove(p)
			p.wg.Wait()
		}
		for _, o := range p.origins {
			o.closeIdle(true)
		}
		if t := p.transport.Load(); t != nil {
			t.CloseIdleConnections()
		}
	})
}

// Closed returns a channel closed once Close was called.
func (p *Proxy) Closed() <-chan struct{} { return p.stop }

// closed reports whether Close was called.
func (p *Proxy) closed() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

// Origins returns the state of every origin, in configuration order.
func (p *Proxy) Origins() []OriginStatus {
	out := make([]OriginStatus, len(p.origins))
	for i, o := range p.origins {
		out[i] = OriginStatus{URL: o.raw, Healthy: o.available(), Active: o.active.Load()}
		if at := o.checkedAt.Load(); at != 0 {
			out[i].LastCheck = time.Unix(0, at)
		}
		if e := o.checkErr.Load(); e != nil {
			out[i].LastError = *e
		}
	}
	return out
}

// Limiter returns the zone's origin limiter, or nil without
// origin_limits.
func (p *Proxy) Limiter() *originlimit.Limiter { return p.limit }

// reapEvery is how often idle origin connections past the idle timeout
// are closed and passive ejections checked for their end.
func (p *Proxy) reapEvery() time.Duration {
	return max(min(p.timeouts.OriginIdle/2, p.hc.EjectFor/2, 5*time.Second), 100*time.Millisecond)
}

// armReap schedules the reap when an origin has idle connections or an
// ejection and it is not scheduled yet. It costs one atomic load when it
// is; request paths call it after pooling a connection or ejecting.
func (p *Proxy) armReap() {
	if p.reapArmed.Load() || !p.started.Load() {
		return
	}
	if p.reapNeeded() && p.reapArmed.CompareAndSwap(false, true) {
		p.sched.armReap(p.reapTask, p.reapEvery())
	}
}

// reapNeeded reports whether an origin has idle connections or a passive
// ejection.
func (p *Proxy) reapNeeded() bool {
	for _, o := range p.origins {
		if o.ejectedUntil.Load() != 0 {
			return true
		}
		o.mu.Lock()
		n := len(o.idle)
		o.mu.Unlock()
		if n > 0 {
			return true
		}
	}
	return false
}

// reap closes idle origin connections past the idle timeout and reports
// the end of passive ejections; the scheduler runs it every reapEvery
// while there is something to reap.
func (p *Proxy) reap(t *task) {
	now := time.Now().UnixNano()
	for _, o := range p.origins {
		o.closeIdle(false)
		if until := o.ejectedUntil.Load(); until != 0 && now >= until && o.ejectedUntil.CompareAndSwap(until, 0) {
			p.health(o, o.healthy.Load(), "passive ejection ended")
		}
	}
	if p.reapNeeded() {
		p.sched.armReap(t, p.reapEvery())
		return
	}
	p.reapArmed.Store(false)
	p.armReap() // a connection pooled since reapNeeded
}

// health reports an origin's health change to OnHealth, or to the log
// when there is no OnHealth.
func (p *Proxy) health(o *origin, healthy bool, why string) {
	if p.onHealth != nil {
		p.logger().Debug("origin health changed", "origin", o.raw, "healthy", healthy, "reason", why)
		p.onHealth(p.zone, o.raw, healthy)
		return
	}
	p.logger().Info("origin health changed", "origin", o.raw, "healthy", healthy, "reason", why)
}

// succeeded clears the failure count of o and ends a passive ejection.
func (p *Proxy) succeeded(o *origin) {
	if o.fails.Load() != 0 {
		o.fails.Store(0)
	}
	if o.ejectedUntil.Load() != 0 && o.ejectedUntil.Swap(0) != 0 {
		p.health(o, o.healthy.Load(), "request succeeded")
	}
}

// failed counts a proxy failure against o and ejects it for EjectFor after
// MaxFails consecutive failures.
func (p *Proxy) failed(o *origin) {
	if o.fails.Add(1) < int32(p.hc.MaxFails) {
		return
	}
	o.fails.Store(0)
	if o.ejectedUntil.Swap(time.Now().Add(p.hc.EjectFor).UnixNano()) == 0 {
		p.health(o, false, "passive ejection")
		p.armReap()
	}
}

// isIdempotent reports whether method is idempotent (RFC 9110 9.2.2).
func isIdempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// isUpgrade reports whether r asks for a protocol upgrade.
func isUpgrade(r *http.Request) bool {
	c := r.Header["Connection"]
	return len(c) > 0 && len(r.Header["Upgrade"]) > 0 && connectionListed(c, "upgrade")
}

// ServeHTTP proxies r to one of the zone's origins and sets info.Origin.
// Idempotent requests are retried on another origin (up to Retries times)
// after a connection failure that happened before any response byte and
// before the request body was read. A refused or failed origin answers 502,
// a response-header timeout 504; a client that went away gets nothing and
// is logged at debug level as a client error, never as a 502.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info := reqctx.From(r.Context())
	var ipHash uint64
	if p.policy == IPHash {
		if info != nil && info.ClientIP.IsValid() {
			ipHash = hashAddr(info.ClientIP)
		} else {
			ipHash = hashAddr(peerAddr(r))
		}
	}
	// HTTP/2 requests carry a non-nil Body even without one; their
	// ContentLength is 0 then.
	hasBody := r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
	lean := !isUpgrade(r)
	if p.limit != nil && lean {
		if err := p.limit.Acquire(r.Context(), info != nil && info.Priority); err != nil {
			p.refuse(w, r, info, err)
			return
		}
		// Deferred, so that a panic (an aborted response) frees the slot.
		defer p.limit.Release()
	}
	var body *trackedBody
	if hasBody {
		body = &trackedBody{rc: r.Body}
		// Let the origin answer while the upload continues (HTTP/1.x
		// servers otherwise stop the body once the response starts).
		http.NewResponseController(w).EnableFullDuplex()
	}
	idempotent := isIdempotent(r.Method)
	var tried triedSet
	var perr *Error
	for attempt := 0; ; attempt++ {
		i := p.pick(ipHash, &tried)
		if i < 0 {
			break
		}
		tried.add(i)
		o := p.origins[i]
		if info != nil {
			info.Origin = o.raw
		}
		o.active.Add(1)
		if lean && !o.https {
			perr = p.serveLean(o, w, r, info, idempotent, body)
		} else {
			perr = p.serveTransport(o, w, r, body)
		}
		o.active.Add(-1)
		if perr == nil {
			p.succeeded(o)
			return
		}
		if perr.Source == SourceOrigin {
			p.failed(o)
		}
		if perr.Retryable && idempotent && attempt < p.retries && (body == nil || !body.used()) && !perr.answered {
			p.logger().Debug("retrying on another origin", "origin", o.raw, "source", perr.Source.String(), "error", perr.Err)
			continue
		}
		break
	}
	p.fail(w, r, info, perr)
	if hasBody {
		// Full duplex and a body the origin never took: net/http's server
		// would panic peeking for the next request while the unread body
		// still counts as being read (golang/go#68560). Closing it ends
		// the connection after this answer instead.
		r.Body.Close()
	}
}

// refuse answers a request the origin limiter did not admit: 503 with
// Retry-After when it shed the request, nothing (the connection is
// aborted) when the client went away while it waited. Sheds are logged at
// debug level only: under a flood there are thousands a second, and the
// metrics count them.
func (p *Proxy) refuse(w http.ResponseWriter, r *http.Request, info *reqctx.Info, err error) {
	var le *originlimit.Error
	errors.As(err, &le)
	id := ""
	if info != nil {
		id = info.ID
	}
	if le == nil || !le.Shed() {
		if p.onError != nil {
			p.onError(r, clientErr("waiting in the origin queue", err))
		}
		p.logger().Debug("client went away", "request_id", id, "source", "client", "error", err.Error())
		panic(http.ErrAbortHandler)
	}
	if info != nil {
		info.Block = "origin_queue:" + string(le.Reason)
	}
	if p.onError != nil {
		p.onError(r, &Error{Source: SourceInternal, Status: http.StatusServiceUnavailable, Op: "waiting in the origin queue", Err: err})
	}
	p.logger().Debug("origin busy", "request_id", id, "reason", string(le.Reason))
	h := w.Header()
	h["Content-Type"] = textPlain
	h["X-Content-Type-Options"] = nosniff
	h["Retry-After"] = retryAfter
	w.WriteHeader(http.StatusServiceUnavailable)
	io.WriteString(w, busyBody)
}

var (
	textPlain  = []string{"text/plain; charset=utf-8"}
	nosniff    = []string{"nosniff"}
	retryAfter = []string{"1"}
)

const busyBody = "503 Service Unavailable: the origin is busy, retry in a second\n"

// fail answers and logs a failed proxy attempt.
func (p *Proxy) fail(w http.ResponseWriter, r *http.Request, info *reqctx.Info, perr *Error) {
	if perr == nil {
		perr = &Error{Source: SourceInternal, Status: http.StatusBadGateway, Op: "picking origin", Err: errNoOrigin}
	}
	if p.onError != nil {
		p.onError(r, perr)
	}
	id := ""
	if info != nil {
		id = info.ID
	}
	switch {
	case perr.Source == SourceClient:
		if status := clientStatus(perr); status != 0 && !perr.answered {
			// The client is still there but its request body failed: say
			// so and close the connection, whose leftover body bytes must
			// never be read as a next request.
			p.logger().Debug("request body failed", "request_id", id, "source", "client", "status", status, "error", perr.Error())
			h := w.Header()
			h.Set("Connection", "close")
			h.Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(status)
			fmt.Fprintf(w, "%d %s\n", status, http.StatusText(status))
			return
		}
		// The client went away (or its body broke off): abort, so that
		// net/http neither answers 200 nor keeps the connection.
		p.logger().Debug("client went away", "request_id", id, "source", "client", "error", perr.Error())
		panic(http.ErrAbortHandler)
	case perr.answered:
		// The response head was already sent: abort the client connection
		// so the truncation is visible (as httputil.ReverseProxy does).
		if errors.Is(perr.Err, errCutOff) {
			p.logger().Info("stream cut off", "request_id", id, "error", perr.Error())
			panic(http.ErrAbortHandler)
		}
		p.logger().Warn("proxying response body failed", "request_id", id, "source", perr.Source.String(), "error", perr.Error())
		panic(http.ErrAbortHandler)
	}
	status := perr.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	p.logger().Warn("proxy error", "request_id", id, "source", perr.Source.String(), "status", status, "error", perr.Error())
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintf(w, "%d %s\n", status, http.StatusText(status))
}

// clientStatus is the answer to a client whose request body failed while
// it is still connected: 413 past the zone's body limit, 408 when the body
// stopped arriving within timeouts.read; 0 when there is nobody to answer.
func clientStatus(perr *Error) int {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(perr.Err, &tooLarge):
		return http.StatusRequestEntityTooLarge
	case perr.Op == "reading request body" && isTimeout(perr.Err):
		return http.StatusRequestTimeout
	}
	return 0
}

// trackedBody wraps a request body on the http.Transport path: it records
// whether it was read (a consumed body cannot be replayed on a retry) and
// the client's read error, and ignores Close so a retry can reuse it.
type trackedBody struct {
	rc   io.ReadCloser
	read atomic.Bool
	mu   sync.Mutex
	err  error
}

func (b *trackedBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF {
		b.mu.Lock()
		b.err = err
		b.mu.Unlock()
	}
	return n, err
}

func (b *trackedBody) Close() error { return nil }

func (b *trackedBody) used() bool { return b.read.Load() }

func (b *trackedBody) readErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// transportState carries the outcome of one httputil attempt from its
// ErrorHandler back to serveTransport.
type transportState struct{ err error }

type transportStateKey struct{}

// logger returns the proxy's logger, with the zone attribute when
// Options.LogZone asked for it.
func (p *Proxy) logger() *slog.Logger {
	if !p.logZone {
		return p.log
	}
	if l := p.zoneLog.Load(); l != nil {
		return l
	}
	l := p.log.With("zone", p.zone)
	p.zoneLog.CompareAndSwap(nil, l)
	return p.zoneLog.Load()
}

// dialNet connects to an origin (a new connection is rare next to the
// requests it serves, so no net.Dialer is kept per zone).
func (p *Proxy) dialNet(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: p.timeouts.Dial, KeepAlive: 30 * time.Second}
	return d.DialContext(ctx, network, addr)
}

// getTransport returns the proxy's http.Transport, built on first use.
func (p *Proxy) getTransport() *http.Transport {
	if t := p.transport.Load(); t != nil {
		return t
	}
	t := &http.Transport{
		DialContext:           p.dialNet,
		TLSHandshakeTimeout:   p.timeouts.Dial,
		ResponseHeaderTimeout: p.timeouts.ResponseHeader,
		IdleConnTimeout:       p.timeouts.OriginIdle,
		MaxIdleConnsPerHost:   256,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
	if !p.transport.CompareAndSwap(nil, t) {
		return p.transport.Load()
	}
	return t
}

// reverseProxy returns o's httputil.ReverseProxy, built on first use.
func (p *Proxy) reverseProxy(o *origin) *httputil.ReverseProxy {
	if rp := o.rp.Load(); rp != nil {
		return rp
	}
	rp := p.newReverseProxy(o, slog.NewLogLogger(p.logger().Handler(), slog.LevelDebug))
	if !o.rp.CompareAndSwap(nil, rp) {
		return o.rp.Load()
	}
	return rp
}

// newReverseProxy builds the httputil.ReverseProxy of origin o.
func (p *Proxy) newReverseProxy(o *origin, errLog *log.Logger) *httputil.ReverseProxy {
	rp := &httputil.ReverseProxy{
		Transport: p.getTransport(),
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(o.url)
			info := reqctx.From(pr.In.Context())
			if h := forwardHost(pr.In, info); p.preserveHost && h != "" {
				pr.Out.Host = h // the host the edge decided on, as on the lean path
			}
			setForwarding(pr.Out.Header, pr.In, info)
			if _, ok := pr.Out.Header["User-Agent"]; !ok {
				pr.Out.Header["User-Agent"] = nil
			}
		},
		BufferPool: bufferPool{},
		ErrorLog:   errLog,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if st, ok := r.Context().Value(transportStateKey{}).(*transportState); ok {
				st.err = err
			}
		},
	}
	return rp
}

// serveTransport proxies r to o with httputil.ReverseProxy.
func (p *Proxy) serveTransport(o *origin, w http.ResponseWriter, r *http.Request, body *trackedBody) *Error {
	st := &transportState{}
	ctx, cancel := context.WithCancel(context.WithValue(r.Context(), transportStateKey{}, st))
	defer cancel()
	tx := &transportExchange{cancel: cancel, w: w}
	var x cutoff.Exchange
	if !p.exchanges.Add(&x, tx) {
		return cutErr(false)
	}
	defer p.exchanges.Remove(&x)
	r2 := r.WithContext(ctx)
	if body != nil {
		r2.Body = body
	}
	if isUpgrade(r) {
		w = &hijackRecorder{ResponseWriter: w, t: tx}
	}
	p.reverseProxy(o).ServeHTTP(w, r2)
	if x.Ended() {
		tx.mu.Lock()
		hijacked := tx.conn != nil
		tx.mu.Unlock()
		if hijacked {
			return nil // the tunnel is closed; nothing more to say
		}
		// Before the response head, httputil reported the cancellation
		// (st.err): answer 503. After it, the copy stopped: abort.
		return cutErr(st.err == nil)
	}
	if st.err == nil {
		return nil
	}
	err := st.err
	if r.Context().Err() != nil {
		return clientErr("waiting for origin", err)
	}
	if body != nil {
		if berr := body.readErr(); berr != nil {
			return clientErr("reading request body", berr)
		}
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return originErr("dialing", o.raw, err, true)
	}
	// With a body, only a failed dial is retried: the transport may still
	// be reading the body in its write loop.
	return originErr("proxying to", o.raw, err, body == nil)
}
