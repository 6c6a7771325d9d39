// Package app is rampart's composition root: it turns a *config.Config into
// running parts (metrics, access log, certificates, one proxy per zone, the
// zone table, the edge listeners and the admin listener), reloads them
// without dropping a request, and stops them gracefully.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart-edge/rampart/internal/accesslog"
	"github.com/rampart-edge/rampart/internal/cache"
	"github.com/rampart-edge/rampart/internal/certs"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/feeds"
	"github.com/rampart-edge/rampart/internal/inflight"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/metrics"
	"github.com/rampart-edge/rampart/internal/proxy"
	"github.com/rampart-edge/rampart/internal/rollup"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/token"
	"github.com/rampart-edge/rampart/internal/waf"
	"github.com/rampart-edge/rampart/internal/zone"
)

// Options are the dependencies of an App that do not come from the config.
type Options struct {
	// Logger receives the app's own events (start, reload, stop, origin
	// health, errors). Nil means NewLogger(cfg.Log, os.Stderr).
	Logger *slog.Logger
	// Tokens verifies admin API tokens. Nil opens the file store in
	// cfg.DataDir (tokens.json).
	Tokens token.Store
	// SkipCompliance leaves the sanctions lists and screening out (their
	// admin routes answer 503). It is for tests of the edge alone, which
	// need not spend a second loading the lists.
	SkipCompliance bool
	// Version is rampart's version, for the list feeds' User-Agent.
	Version string
	// FeedBackoff is the list feeds' first retry delay (0: 2s); tests
	// shorten it.
	FeedBackoff time.Duration
}

// Addrs are the addresses the listeners are bound to ("" when off).
type Addrs struct {
	HTTP, HTTPS, Admin string
	// HTTP3 is the UDP address of HTTP/3 ("" when off).
	HTTP3 string
}

// App is one running rampart node.
type App struct {
	log     *slog.Logger
	metrics *metrics.Registry
	access  *accesslog.Logger
	certs   *certs.Manager
	edge    *edge.Server

	traffic     *rollup.Store      // the dashboard's rollups; nil without an admin listener
	lists       *lists.Store       // nil with SkipCompliance or without an admin listener
	screening   *screening.Service // likewise
	listLock    *lists.Lock        // the data directory's list lock (listfeeds.go)
	feeds       *feeds.Scheduler   // nil without compliance.feeds
	stopFeeds   func()
	sharedLists sharedLists // clusterlists.go
	feedLease   atomic.Bool // this node holds the list feeds' lease
	version     string
	feedBackoff time.Duration

	reloadMu sync.Mutex // serialises Reload and shutdown
	gen      atomic.Pointer[generation]
	stopped  atomic.Bool

	httpLn, httpsLn, adminLn net.Listener
	// HTTP/3 (listeners.go, issue 17): the UDP socket, and whether a zone
	// is under attack, kept for a second (attackAt, unix seconds).
	h3Conn    net.PacketConn
	attackOn  atomic.Bool
	attackAt  atomic.Int64
	tlsConfig *tls.Config
	admin     *http.Server
	addrs     Addrs

	runOnce sync.Once

	proxyLog *slog.Logger // the proxies' logger (component=proxy); each adds its zone on first use

	// sched runs every proxy's health checks, reaping and watch: one
	// timer heap for the node, no goroutine per zone or origin.
	sched *proxy.Scheduler

	wafs *waf.Set // compiled WAF rule sets shared by zones; see waf.go

	// The node's cache storage, opened by the first build with a cache
	// zone and kept across reloads; see cache.go.
	cacheStore atomic.Pointer[cache.Store]
	cacheCfg   config.NodeCache

	// The compliance desk (H14; see compliance.go): the control-plane
	// store, the compliance service and the public report filer; nil
	// with SkipCompliance or without an admin listener.
	desk atomic.Pointer[desk]

	// Protections (H12; see protect.go, listeners.go): GeoIP, rate
	// limiter, challenger, auto-mode detectors, connection caps.
	protect protectState

	// Open tunnels and streams of replaced proxies (cutoff.go).
	exchanges exchangeState
	// The control-plane store's health probe for /healthz (health.go).
	probe storeProbe
	// Desired-state propagation and the node's registration (cluster.go).
	cluster clusterState
}

// generation is one configuration's zones, proxies and routes.
type generation struct {
	cfg    *config.Config
	zones  map[string]*zoneEntry // by zone host
	list   []config.Zone         // the served zones (config and API), in order
	routes *edge.Routes
}

// zoneEntry is one running zone's parts that a generation owns (zones.go):
// its proxy (connection pools, health checks) and the count of its
// requests in flight. An unchanged zone keeps its entry from generation
// to generation; a replaced or removed one is closed when its last
// request ends. The zone's detector, WAF rule set and cache metrics are
// kept by host (protect.go, waf.go, cache.go) and released by the
// reconciler when the zone goes.
type zoneEntry struct {
	key      *config.Zone // the zone's config: its element of the generation's list (no copy)
	zone     *edge.Zone   // what the routes serve; kept while key and the node's settings are unchanged
	proxy    *proxy.Proxy
	inflight *inflight.Counter
	fresh    bool // created for this generation (not reused)
}

// NewLogger returns the app's own logger: JSON lines to w at cfg.Level
// (debug, info, warn or error; info when empty or unknown).
func NewLogger(cfg config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Level)); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// New builds every part of cfg (a validated config, as config.Load
// returns) and binds the listeners named in cfg.Listen, so that the
// addresses are known (Addrs) before Run. Nothing binds beyond what the
// config names; the defaults are loopback only. On error, everything
// already opened is closed again.
func New(cfg *config.Config, opts Options) (_ *App, err error) {
	log := opts.Logger
	if log == nil {
		log = NewLogger(cfg.Log, os.Stderr)
	}
	a := &App{log: log, metrics: metrics.New(), version: opts.Version, feedBackoff: opts.FeedBackoff,
		sched: proxy.NewScheduler(proxy.SchedulerOptions{}), proxyLog: log.With("component", "proxy")}
	defer func() {
		if err != nil {
			a.closeAll()
		}
	}()
	if a.access, err = accesslog.Open(cfg.Log); err != nil {
		return nil, err
	}
	if a.certs, err = certs.New(cfg, certs.Options{Logger: log, DataDir: cfg.DataDir}); err != nil {
		return nil, fmt.Errorf("loading certificates: %w", err)
	}
	eo := edge.Options{Timeouts: cfg.Timeouts, Metrics: a.metrics, AccessLog: a.access, Logger: log.With("component", "edge"), Server: cfg.Listen.Server}
	if cfg.Listen.Admin != "" && cfg.Dashboard.Traffic {
		a.traffic = rollup.New(0, 2000) // the dashboard's traffic pages (H15)
		eo.Traffic = a.traffic
	}
	a.edge = edge.New(eo)

	if a.httpLn, err = listen("http", cfg.Listen.HTTP); err != nil {
		return nil, err
	}
	if a.httpsLn, err = listen("https", cfg.Listen.HTTPS); err != nil {
		return nil, err
	}
	if a.adminLn, err = listen("admin", cfg.Listen.Admin); err != nil {
		return nil, err
	}
	if err = a.listenH3(cfg); err != nil { // listeners.go (issue 17)
		return nil, err
	}
	a.wrapListeners(cfg) // listeners.go (H12): connection caps, PROXY protocol
	a.addrs = Addrs{HTTP: addrOf(a.httpLn), HTTPS: addrOf(a.httpsLn), Admin: addrOf(a.adminLn)}
	if a.h3Conn != nil {
		a.addrs.HTTP3 = a.h3Conn.LocalAddr().String()
	}
	if a.httpsLn != nil {
		a.tlsConfig = a.certs.TLSConfig()
	}

	collectBeforeBuild(cfg) // zones.go
	gen, err := a.build(cfg, nil)
	if err != nil {
		return nil, err
	}
	a.gen.Store(gen)
	a.edge.SetRoutes(gen.routes)
	gen.start()
	a.metrics.SetOriginSource(a.originStates)

	if a.adminLn != nil {
		// A node that does not screen (compliance.screening: false) loads
		// no list and maps no index, as one without an admin listener.
		if !opts.SkipCompliance && cfg.Compliance.ScreeningOn() {
			if err := a.openCompliance(cfg); err != nil {
				return nil, err
			}
		}
		h, err := a.adminHandler(cfg, opts.Tokens)
		if err != nil {
			return nil, fmt.Errorf("building the admin API: %w", err)
		}
		a.admin = &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		}
	}
	return a, nil
}

func listen(name, addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for %s on %s: %w", name, addr, err)
	}
	return ln, nil
}

func addrOf(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}

// Addrs returns the bound listener addresses.
func (a *App) Addrs() Addrs { return a.addrs }

// Metrics returns the app's metrics registry.
func (a *App) Metrics() *metrics.Registry { return a.metrics }

// Logger returns the app's logger.
func (a *App) Logger() *slog.Logger { return a.log }

// Config returns the running configuration.
func (a *App) Config() *config.Config { return a.gen.Load().cfg }

// Health reports nil while the app serves, an error once it stops or
// while the control-plane store does not answer (health.go); it returns
// within about a second whatever the store does.
func (a *App) Health() error {
	if a.stopped.Load() {
		return errors.New("stopping")
	}
	if err := a.storeHealth(); err != nil {
		return err
	}
	return a.clusterHealth()
}

// build makes the generation for cfg. A zone whose config (and the proxy
// timeouts) is unchanged from prev keeps prev's proxy, so its connection
// pools and health state survive the reload. On error, the proxies it
// created are closed and prev is untouched.
func (a *App) build(cfg *config.Config, prev *generation) (gen *generation, err error) {
	zones := a.servedZones(cfg) // the config's zones plus the API zones of the store; compliance.go
	gen = &generation{cfg: cfg, zones: make(map[string]*zoneEntry, len(zones)), list: zones}
	defer func() {
		if err != nil {
			for _, e := range gen.zones {
				if e.fresh {
					e.proxy.Close()
				}
			}
		}
	}()
	sameTimeouts := prev != nil && proxyTimeouts(prev.cfg.Timeouts) == proxyTimeouts(cfg.Timeouts)
	// With the node's settings unchanged, an unchanged zone keeps its
	// whole edge.Zone (phases, cache zone, rate limit rules, closures): a
	// reload that reuses every zone builds nothing per zone and holds no
	// second copy of them (zones_test.go).
	sameNode := sameTimeouts && sameNodeSettings(prev.cfg, cfg)
	values := make([]*edge.Zone, len(zones))
	for i, zc := range zones {
		if _, dup := gen.zones[zc.Host]; dup {
			return nil, fmt.Errorf("building zones: zone %q is configured twice", zc.Host)
		}
		e := &zoneEntry{key: &zones[i]}
		if prev != nil && sameTimeouts {
			if pe, ok := prev.zones[zc.Host]; ok && sameZone(pe.key, &zones[i]) {
				e.proxy, e.inflight = pe.proxy, pe.inflight
				if sameNode {
					e.zone = pe.zone
				}
			}
		}
		if e.zone != nil {
			gen.zones[zc.Host] = e
			values[i] = e.zone
			continue
		}
		if e.proxy == nil {
			e.proxy, err = proxy.New(zc, proxy.Options{
				Timeouts:  cfg.Timeouts,
				Logger:    a.proxyLog,
				LogZone:   true,
				OnHealth:  a.onHealth,
				Admit:     a.serves(zc.Host), // cutoff.go
				Scheduler: a.sched,
			})
			if err != nil {
				return nil, fmt.Errorf("building zone %q: %w", zc.Host, err)
			}
			e.inflight = inflight.New()
			e.fresh = true
		}
		gen.zones[zc.Host] = e
		values[i] = &edge.Zone{Name: zc.Host, Handler: e.proxy, Metrics: a.metrics.Zone(zc.Host), MaxBodySize: zc.MaxBodySize, InFlight: e.inflight,
			HSTS: zc.HSTS.Header(), NeedsHandshake: needsHandshake(zc, cfg)} // listeners.go (issue 17)
		e.zone = values[i]
		if err := a.setWAFPhase(values[i], zc, cfg); err != nil { // waf.go
			return nil, err
		}
		if err := a.observeOrigin(values[i], zc); err != nil { // protect.go: before the cache takes Handler, so its misses are seen too
			return nil, err
		}
		if err := a.setCachePhase(values[i], zc, cfg, values[i].Handler); err != nil { // cache.go; Handler: the proxy, behind waf.response's inspection and the detector
			return nil, err
		}
		if err := a.setProtectPhases(values[i], zc, cfg); err != nil { // protect.go (H12)
			return nil, err
		}
		// Keep last: it wraps PhaseAccess (suspension 451 and the report
		// form run before the access rules). compliance.go
		a.setCompliancePhase(values[i], zc, cfg)
	}
	table, err := zone.NewTable(zones, values)
	if err != nil {
		return nil, err
	}
	gen.routes = &edge.Routes{
		Lookup:         table.Lookup,
		TrustedProxies: cfg.TrustedProxyPrefixes(),
		RedirectHTTP:   cfg.TLS.RedirectHTTP && a.httpsLn != nil,
		HasCertificate: a.certs.HasCertificate,
		HTTPSPort:      portOf(a.addrs.HTTPS),
		ACMEChallenge:  a.certs.HTTPChallengeHandler,
	}
	return gen, nil
}

// sameZone reports whether a and b are the same zone config, wherever in
// the file they are written (Line aside).
func sameZone(a, b *config.Zone) bool {
	x, y := *a, *b
	x.Line, y.Line = 0, 0
	return reflect.DeepEqual(&x, &y)
}

// sameNodeSettings reports whether a and b have the same settings besides
// their zones and file name: every exported field of config.Config but
// Zones and Path. The zones' phases are built from them (timeouts, WAF
// memory, cache storage, GeoIP, compliance, trusted proxies, ...), so
// only then can an unchanged zone keep its built parts as they are.
func sameNodeSettings(a, b *config.Config) bool {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	t := va.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Name == "Zones" || f.Name == "Path" {
			continue
		}
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			return false
		}
	}
	return true
}

// proxyTimeouts are the timeouts a proxy is built with; a change in them
// means new proxies for every zone.
func proxyTimeouts(t config.Timeouts) [3]time.Duration {
	return [3]time.Duration{t.Dial, t.ResponseHeader, t.OriginIdle}
}

func portOf(addr string) string {
	if addr == "" {
		return ""
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return port
}

// start starts the health checks of the proxies created for gen.
func (g *generation) start() {
	for _, e := range g.zones {
		if e.fresh {
			e.proxy.Start()
		}
	}
}

func (a *App) onHealth(zone, origin string, healthy bool) {
	if healthy {
		a.log.Info("origin healthy", "zone", zone, "origin", origin)
	} else {
		a.log.Warn("origin unhealthy", "zone", zone, "origin", origin)
	}
}

func (a *App) originStates() []metrics.OriginState {
	gen := a.gen.Load()
	if gen == nil {
		return nil
	}
	var out []metrics.OriginState
	for host, e := range gen.zones {
		for _, o := range e.proxy.Origins() {
			out = append(out, metrics.OriginState{Zone: host, Origin: o.URL, Healthy: o.Healthy, Active: int(o.Active)})
		}
	}
	return out
}

// Reload applies cfg (a validated config) without dropping a request: it
// builds the new zone table and proxies (reusing the proxy of every zone
// whose config is unchanged), reloads the certificates, swaps the routes
// atomically, and closes the replaced proxies once the requests that
// started before the swap have finished. On error nothing changes and the
// running config keeps serving.
//
// Listener addresses and client timeouts are fixed at start; a change to
// them is logged and takes effect at the next restart. So is a change of
// the access log settings.
func (a *App) Reload(cfg *config.Config) error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	if a.stopped.Load() {
		return errors.New("reloading: rampart is stopping")
	}
	a.syncConfigZones(cfg) // the compliance gate on the config's zones; compliance.go
	prev := a.gen.Load()
	if err := a.reconcile(cfg, "config", func() error { return a.certs.Reload(cfg) }); err != nil {
		return fmt.Errorf("reloading: %w", err)
	}
	a.warnRestartOnly(prev.cfg, cfg)
	_ = a.ReopenLogs() // logs its own error; the reload itself succeeded
	return nil
}

// ReopenLogs reopens the access log file, for log rotation: after
// logrotate renames it, new lines go to a new file at the configured path.
func (a *App) ReopenLogs() error {
	if err := a.access.Reopen(); err != nil {
		a.log.Error("reopening the access log", "error", err)
		return err
	}
	return nil
}

// ReloadFile loads and validates the config file at path and applies it
// with Reload. On failure it logs one line with the error, keeps the
// running config and returns the error.
func (a *App) ReloadFile(path string) error {
	cfg, err := config.Load(path)
	if err == nil {
		err = a.Reload(cfg)
	}
	if err != nil {
		a.log.Error("reload failed, keeping the running config", "file", path,
			"error", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return err
}

func (a *App) warnRestartOnly(old, cur *config.Config) {
	if old.Listen != cur.Listen {
		a.log.Warn("listen addresses changed; restart to apply", "running", old.Listen, "config", cur.Listen)
	}
	ot, ct := old.Timeouts, cur.Timeouts
	if ot.ReadHeader != ct.ReadHeader || ot.Read != ct.Read || ot.Write != ct.Write || ot.Idle != ct.Idle || ot.MaxHeaderBytes != ct.MaxHeaderBytes {
		a.log.Warn("client timeouts changed; restart to apply")
	}
	if oq, cq := old.QUIC, cur.QUIC; oq.RetryAbove != cq.RetryAbove || oq.MaxStreams != cq.MaxStreams || oq.EarlyDataOrDefault() != cq.EarlyDataOrDefault() {
		a.log.Warn("quic settings changed; restart to apply")
	}
	if old.Log != cur.Log {
		a.log.Warn("log settings changed; restart to apply")
	}
	if old.DataDir != cur.DataDir || old.Store != cur.Store {
		a.log.Warn("data_dir or store changed; restart to apply")
	}
	if !slices.Equal(old.Compliance.Lists, cur.Compliance.Lists) || old.Compliance.Threshold != cur.Compliance.Threshold {
		a.log.Warn("compliance lists or threshold changed; restart to apply (lists can be imported through the admin API)")
	}
	if !slices.Equal(old.Compliance.Feeds, cur.Compliance.Feeds) || old.Compliance.MaxRemovedShare != cur.Compliance.MaxRemovedShare {
		a.log.Warn("compliance.feeds or compliance.max_removed_share changed; restart to apply")
	}
}

// Run serves until ctx is done, then stops gracefully: the listeners stop
// accepting, requests in flight get up to timeouts.shutdown to finish,
// and the remaining connections are closed. It returns nil after a clean
// stop, or the error of a listener that failed (after stopping the rest).
// Run may be called once.
func (a *App) Run(ctx context.Context) error {
	err := errors.New("app: Run called twice")
	a.runOnce.Do(func() { err = a.run(ctx) })
	return err
}

func (a *App) run(ctx context.Context) error {
	serveErr := make(chan error, 4)
	var wg sync.WaitGroup
	serve := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				serveErr <- err
			}
		}()
	}
	if a.httpLn != nil {
		serve(func() error { return a.edge.Serve(a.httpLn, "http", nil) })
	}
	if a.httpsLn != nil {
		serve(func() error { return a.edge.Serve(a.httpsLn, "https", a.tlsConfig) })
	}
	if a.h3Conn != nil {
		cfg := a.gen.Load().cfg
		serve(func() error { return a.serveH3(cfg) }) // listeners.go (issue 17)
	}
	if a.admin != nil {
		serve(func() error {
			if err := a.admin.Serve(a.adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serving admin on %s: %w", a.adminLn.Addr(), err)
			}
			return nil
		})
	}
	a.log.Info("rampart started", "http", a.addrs.HTTP, "https", a.addrs.HTTPS, "http3", a.addrs.HTTP3, "admin", a.addrs.Admin,
		"zones", len(a.gen.Load().zones))
	if len(a.gen.Load().zones) >= manyZones {
		go releaseMemory() // zones.go: the config file's parse is garbage now
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-serveErr:
		a.log.Error("listener failed, stopping", "error", runErr)
	}
	stopErr := a.stop()
	wg.Wait()
	if runErr != nil {
		return runErr
	}
	return stopErr
}

// stop is the graceful stop: no more reloads, listeners closed, in-flight
// requests drained up to timeouts.shutdown, then everything closed. Cutting
// off requests still running at the deadline is logged, not an error.
func (a *App) stop() error {
	a.reloadMu.Lock()
	a.stopped.Store(true)
	gen := a.gen.Load()
	a.reloadMu.Unlock()

	grace := gen.cfg.Timeouts.Shutdown
	if grace <= 0 {
		grace = 30 * time.Second
	}
	a.log.Info("stopping: draining requests in flight", "timeout", grace.String())
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if a.admin != nil {
			if err := a.admin.Shutdown(ctx); err != nil {
				a.admin.Close()
			}
		}
	}()
	cut := false
	if err := a.edge.Shutdown(ctx); err != nil {
		// The grace period is over: the remaining connections were
		// closed. That is the documented outcome, not a failure.
		cut = true
	}
	// Hijacked connections (WebSockets) are not waited for by net/http:
	// wait for every request on any routes to end, within the same
	// deadline.
	a.edge.SetRoutes(&edge.Routes{Lookup: func(string) (*edge.Zone, bool) { return nil, false }})
	for a.edge.InFlight() > 0 && !cut {
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			cut = true
		}
	}
	wg.Wait()
	if cut {
		a.log.Warn("shutdown timeout reached: requests still in flight were cut off", "timeout", grace.String())
	}
	a.closeAll()
	a.log.Info("rampart stopped")
	return nil
}

// closeAll closes the listeners, proxies, certificate manager and access
// log. It is safe on a partly built App.
func (a *App) closeAll() {
	for _, ln := range []net.Listener{a.httpLn, a.httpsLn, a.adminLn} {
		if ln != nil {
			ln.Close()
		}
	}
	if a.h3Conn != nil {
		a.h3Conn.Close()
	}
	if gen := a.gen.Load(); gen != nil {
		for _, e := range gen.zones {
			e.proxy.Close()
		}
	}
	a.sched.Close()
	if a.certs != nil {
		a.certs.Close()
	}
	a.closeCache() // cache.go
	if a.stopFeeds != nil {
		a.stopFeeds() // listfeeds.go
	}
	a.closeCompliance() // compliance.go
	if a.listLock != nil {
		_ = a.listLock.Unlock()
	}
	a.closeProtect() // protect.go (H12)
	if err := a.access.Close(); err != nil {
		a.log.Error("closing access log", "error", err)
	}
}
