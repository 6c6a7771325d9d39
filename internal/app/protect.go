package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis/go-redis/v9"

	"github.com/rampart-edge/rampart/internal/access"
	"github.com/rampart-edge/rampart/internal/attack"
	"github.com/rampart-edge/rampart/internal/attack/tarpit"
	"github.com/rampart-edge/rampart/internal/challenge"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/connlimit"
	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/geoip"
	"github.com/rampart-edge/rampart/internal/ratelimit"
	"github.com/rampart-edge/rampart/internal/reqctx"
)

// protectState holds the protection parts that live as long as the app
// (H12): the GeoIP databases, the rate limiter, the challenger, the
// auto-mode detectors and the connection limiter. build runs under
// reloadMu (or before the app is shared); mu guards the rest for
// closeAll.
type protectState struct {
	mu sync.Mutex

	geo       *geoip.DB
	geoPaths  [2]string
	geoCancel context.CancelFunc
	// warnedNoGeo: the missing-database warning for embargoed_regions
	// was logged (once per process).
	warnedNoGeo bool

	limiter  ratelimit.Limiter
	redisURL string
	redis    *redis.Client

	challenger *challenge.Challenger

	detectors map[string]*detectorEntry // by zone host
	ticker    *attack.Ticker            // ticks every detector: one goroutine for the node

	conns *connlimit.Limiter

	logs sync.Map // component name -> *slog.Logger (componentLog)

	// queueMetrics: the origin queue collector is registered.
	queueMetrics bool
	// tarpitHeld counts the challenges held by the tarpit, by zone.
	tarpitHeld *prometheus.CounterVec
	tp         *tarpit.Tarpit
}

// tarpit returns the node's tarpit for challenged clients, created on
// first use and kept across reloads.
func (a *App) tarpit() *tarpit.Tarpit {
	p := &a.protect
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tp == nil {
		p.tp = tarpit.New(tarpit.Options{})
	}
	return p.tp
}

// tarpitCounter returns rampart_tarpit_held_total for zone.
func (a *App) tarpitCounter(zone string) prometheus.Counter {
	p := &a.protect
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tarpitHeld == nil {
		p.tarpitHeld = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_tarpit_held_total",
			Help: "Challenge pages held for a second before being sent: the client address had been served its free allowance of them (5 per 10 s), by zone.",
		}, []string{"zone"})
		if err := a.metrics.Registerer().Register(p.tarpitHeld); err != nil {
			a.log.Error("registering the tarpit metric", "error", err)
		}
	}
	return p.tarpitHeld.WithLabelValues(zone)
}

// componentLog returns the app's logger with component=name, made once
// for the node rather than once per zone.
func (a *App) componentLog(name string) *slog.Logger {
	if l, ok := a.protect.logs.Load(name); ok {
		return l.(*slog.Logger)
	}
	l, _ := a.protect.logs.LoadOrStore(name, a.log.With("component", name))
	return l.(*slog.Logger)
}

type detectorEntry struct {
	d      *attack.Detector
	cancel func()        // stops ticking d (the node's attack.Ticker)
	done   chan struct{} // closed by cancel
}

// setProtectPhases puts the zone's protection phases into z: the access
// rules and embargo (PhaseAccess), the rate limit (PhaseRateLimit) and the
// under-attack challenge (PhaseChallenge); in auto mode it also counts
// every request towards the detector's rate (observeOrigin records the
// origin answers). A phase already in the access slot (the compliance phase) runs
// first.
func (a *App) setProtectPhases(z *edge.Zone, zc config.Zone, cfg *config.Config) error {
	m := a.metrics.Protect()
	zone := zc.Host

	// Access rules and embargo.
	geo, err := a.geoDB(cfg)
	if err != nil {
		return err
	}
	a.setEventsGeo(geo) // dashboard.go
	allow, err := config.AccessRules(zc.Access.Allow)
	if err != nil {
		return fmt.Errorf("building zone %q: access.allow: %w", zone, err)
	}
	deny, err := config.AccessRules(zc.Access.Deny)
	if err != nil {
		return fmt.Errorf("building zone %q: access.deny: %w", zone, err)
	}
	ap := access.New(access.Options{
		Zone: zone, Allow: allow, Deny: deny,
		Embargoed: cfg.Compliance.EmbargoedRegions,
		BlockedBy: a.blockedByURL(cfg),
		GeoIP:     geo,
		OnBlock:   func(reason string) { m.Blocked(zone, reason) },
		Logger:    a.componentLog("access"),
	})
	if ap != nil {
		z.Phases[edge.PhaseAccess] = chainPhases(z.Phases[edge.PhaseAccess], ap)
	}

	// Rate limit.
	rules, err := rateLimitRules(zc.RateLimit)
	if err != nil {
		return fmt.Errorf("building zone %q: %w", zone, err)
	}
	if len(rules) > 0 {
		lim, err := a.rateLimiter(cfg)
		if err != nil {
			return err
		}
		rp, err := ratelimit.NewPhase(zone, lim, rules, func(rule string) { m.Blocked(zone, "ratelimit:"+rule) },
			a.componentLog("ratelimit"))
		if err != nil {
			return fmt.Errorf("building zone %q: %w", zone, err)
		}
		z.Phases[edge.PhaseRateLimit] = rp
	}

	// Under attack.
	mode, err := attack.ParseMode(zc.UnderAttack)
	if err != nil {
		return fmt.Errorf("building zone %q: %w", zone, err)
	}
	var active func() bool
	switch mode {
	case attack.On:
		active = func() bool { return true }
		m.UnderAttack(zone, true)
	case attack.Auto:
		d := a.detector(zone)
		active = d.Active
		m.UnderAttack(zone, d.Active())
		z.Phases[edge.PhaseAccess] = d.Phase(z.Phases[edge.PhaseAccess])
		// The origin answers are recorded by observeOrigin, which
		// build calls before the cache phase takes z.Handler.
	default:
		m.NoUnderAttack(zone)
	}
	policy := challenge.Policy{
		Difficulty:  zc.Challenge.Difficulty,
		ExemptPaths: zc.Challenge.ExemptPaths,
		ExemptCIDRs: zc.Challenge.ExemptPrefixes(),
		// Clearances and tokens are bound to the zone, or to the cookie
		// domain the zone shares with others.
		Scope:        challenge.ZoneScope(zc.Host),
		CookieDomain: zc.Challenge.CookieDomain,
	}
	if zc.Challenge.CookieDomain != "" {
		policy.Scope = challenge.DomainScope(zc.Challenge.CookieDomain)
	}
	var c *challenge.Challenger
	if mode != attack.Off {
		c, err = a.challengerFor(cfg)
		if err != nil {
			return err
		}
		z.Phases[edge.PhaseChallenge] = c.Phase(challenge.PhaseOptions{
			Zone:   zone,
			Active: active,
			Policy: policy,
			OnResult: func(r challenge.Result) {
				m.ChallengeResult(zone, r.String())
				if r == challenge.Challenged || r == challenge.Rejected {
					m.Blocked(zone, "challenge")
				}
			},
		})
	}
	limited := zc.OriginLimits.Enabled()
	if limited {
		a.registerOriginQueueMetrics()
	}
	if mode != attack.Off || limited {
		z.Phases[edge.PhaseChallenge] = a.guardPhase(guardOptions{
			zone: zone, challenge: z.Phases[edge.PhaseChallenge], active: active,
			c: c, policy: policy, markPriority: limited,
		})
	}
	return nil
}

// observeOrigin, for a zone in under_attack: auto, wraps z.Handler (the
// zone's proxy) so that the detector records every origin answer: its
// status and latency, or a shed by the origin queue. build calls it before
// setCachePhase, which takes z.Handler as the cache's origin, so the
// cache's misses, revalidations and background refreshes are recorded as
// well as the requests the cache bypasses: each origin call passes through
// the wrapper exactly once. (Behind the cache, a cache-busting flood
// against a slow or failing origin would otherwise never trip the error,
// latency or shed signals.)
func (a *App) observeOrigin(z *edge.Zone, zc config.Zone) error {
	mode, err := attack.ParseMode(zc.UnderAttack)
	if err != nil {
		return fmt.Errorf("building zone %q: %w", zc.Host, err)
	}
	if mode == attack.Auto {
		z.Handler = a.detector(zc.Host).WrapOrigin(z.Handler)
	}
	return nil
}

// guardOptions configure guardPhase.
type guardOptions struct {
	zone         string
	challenge    edge.Phase // the zone's challenge phase; nil with under_attack off
	active       func() bool
	c            *challenge.Challenger // nil with under_attack off
	policy       challenge.Policy
	markPriority bool // the zone has origin_limits
}

// guardPhase wraps the zone's challenge phase:
//
//   - While the zone challenges, a client about to get a challenge page
//     that was already served its free allowance of them recently (a
//     flood tool's connection, not a person: see package tarpit) gets it
//     only after a delay, so that it cannot make the edge answer it at
//     full rate with CPU that the people need.
//   - With origin_limits it marks the requests the origin queue serves
//     first (reqctx.Info.Priority): clients holding a valid clearance
//     cookie, and clients or paths exempt from the challenge; before the
//     zone switches on (auto mode, while an attack fills the queue) the
//     cookie is checked here, which costs about a microsecond. Without a
//     challenger (under_attack off) only exemptions give priority.
//
// A client with a clearance or an exemption is let through without the
// challenge phase checking it a second time.
func (a *App) guardPhase(o guardOptions) edge.Phase {
	tp := a.tarpit()
	held := a.tarpitCounter(o.zone)
	return edge.PhaseFunc(func(w http.ResponseWriter, r *http.Request) edge.Decision {
		info := reqctx.From(r.Context())
		if info == nil || o.challenge == nil {
			if info != nil && o.markPriority && o.policy.Exempts(r, info.ClientIP) {
				info.Priority = true
			}
			if o.challenge != nil {
				return o.challenge.Serve(w, r)
			}
			return edge.Continue
		}
		if r.URL.Path == challenge.VerifyPath {
			return o.challenge.Serve(w, r)
		}
		if o.active == nil || !o.active() {
			// Not challenging: the cookie is checked only for the queue.
			info.Priority = o.markPriority && (o.policy.Exempts(r, info.ClientIP) || o.c.HasClearance(r, info.ClientIP, &o.policy))
			return edge.Continue
		}
		if o.policy.Exempts(r, info.ClientIP) || o.c.HasClearance(r, info.ClientIP, &o.policy) {
			info.Priority = o.markPriority
			return edge.Continue
		}
		// Under attack and about to be challenged.
		if tp.Hold(r.Context(), info.ClientIP) {
			held.Inc()
		}
		return o.challenge.Serve(w, r)
	})
}

// registerOriginQueueMetrics registers, once, the collector of the
// origin queues of every zone with origin_limits.
func (a *App) registerOriginQueueMetrics() {
	p := &a.protect
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.queueMetrics {
		return
	}
	p.queueMetrics = true
	if err := a.metrics.Registerer().Register(newOriginQueueCollector(a)); err != nil {
		a.log.Error("registering the origin queue metrics", "error", err)
	}
}

// originQueueCollector reports the origin queues of the running
// generation's zones.
type originQueueCollector struct {
	a                                                  *App
	length, priority, inFlight, admitted, waits, waitS *prometheus.Desc
	rejected                                           *prometheus.Desc
}

func newOriginQueueCollector(a *App) *originQueueCollector {
	zone := []string{"zone"}
	return &originQueueCollector{
		a:        a,
		length:   prometheus.NewDesc("rampart_origin_queue_length", "Requests waiting for an origin slot (origin_limits), by zone.", zone, nil),
		priority: prometheus.NewDesc("rampart_origin_queue_priority_length", "Priority requests (clearance or exemption) waiting for an origin slot, by zone.", zone, nil),
		inFlight: prometheus.NewDesc("rampart_origin_queue_in_flight", "Requests holding an origin slot (at most origin_limits.max_conns), by zone.", zone, nil),
		admitted: prometheus.NewDesc("rampart_origin_queue_admitted_total", "Requests admitted to the origin by the origin limit, by zone.", zone, nil),
		waits:    prometheus.NewDesc("rampart_origin_queue_waits_total", "Admitted requests that waited in the origin queue first, by zone.", zone, nil),
		waitS:    prometheus.NewDesc("rampart_origin_queue_wait_seconds_total", "Time admitted requests spent in the origin queue, by zone.", zone, nil),
		rejected: prometheus.NewDesc("rampart_origin_queue_rejected_total", "Requests the origin queue refused (503), by zone and reason: full, timeout, evicted (by a priority request), canceled (the client left).", []string{"zone", "reason"}, nil),
	}
}

func (c *originQueueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.length, c.priority, c.inFlight, c.admitted, c.waits, c.waitS, c.rejected} {
		ch <- d
	}
}

func (c *originQueueCollector) Collect(ch chan<- prometheus.Metric) {
	gen := c.a.gen.Load()
	if gen == nil {
		return
	}
	for host, e := range gen.zones {
		lim := e.proxy.Limiter()
		if lim == nil {
			continue
		}
		s := lim.Stats()
		ch <- prometheus.MustNewConstMetric(c.length, prometheus.GaugeValue, float64(s.Queued), host)
		ch <- prometheus.MustNewConstMetric(c.priority, prometheus.GaugeValue, float64(s.QueuedPriority), host)
		ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(s.InFlight), host)
		ch <- prometheus.MustNewConstMetric(c.admitted, prometheus.CounterValue, float64(s.Admitted), host)
		ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(s.Waited), host)
		ch <- prometheus.MustNewConstMetric(c.waitS, prometheus.CounterValue, s.WaitSeconds, host)
		for reason, n := range s.Refused {
			ch <- prometheus.MustNewConstMetric(c.rejected, prometheus.CounterValue, float64(n), host, string(reason))
		}
	}
}

// chainPhases runs first, then (if it continued) next.
func chainPhases(first, next edge.Phase) edge.Phase {
	if first == nil {
		return next
	}
	if next == nil {
		return first
	}
	return edge.PhaseFunc(func(w http.ResponseWriter, r *http.Request) edge.Decision {
		if first.Serve(w, r) == edge.Handled {
			return edge.Handled
		}
		return next.Serve(w, r)
	})
}

// blockedByURL is the base of the links the edge shows (the Link
// rel="blocked-by" of 451 answers, the case pages): public_url, or
// compliance.blocked_by_url, or the admin listener's URL (one node on one
// machine only: other machines cannot reach a loopback address).
func (a *App) blockedByURL(cfg *config.Config) string {
	if base := cfg.LinkBase(); base != "" {
		return base
	}
	if a.addrs.Admin != "" {
		return "http://" + a.addrs.Admin
	}
	return ""
}

// geoDB returns the GeoIP databases of cfg, opening them on first use or
// when the paths change, and otherwise re-reading the files that changed
// (so a reload, SIGHUP included, picks up new databases at once; a watcher
// also checks every 30s). It returns nil without databases configured.
func (a *App) geoDB(cfg *config.Config) (*geoip.DB, error) {
	p := &a.protect
	paths := [2]string{cfg.GeoIP.CountryDB, cfg.GeoIP.ASNDB}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.geo != nil && p.geoPaths == paths {
		if changed, err := p.geo.Reload(); err != nil {
			a.log.Error("reloading geoip database, keeping the previous one", "error", err)
		} else if changed {
			a.log.Info("geoip database reloaded", "files", p.geo.Paths())
		}
		return p.geo, nil
	}
	if paths == [2]string{} {
		if p.geoCancel != nil { // geoip removed from the config
			p.geoCancel()
			p.geo, p.geoPaths, p.geoCancel = nil, paths, nil
		}
		if len(cfg.Compliance.EmbargoedRegions) > 0 && !p.warnedNoGeo {
			a.log.Warn("compliance.embargoed_regions is set but geoip.country_db is not: the embargo cannot be enforced")
			p.warnedNoGeo = true
		}
		return nil, nil
	}
	db, err := geoip.Open(paths[0], paths[1])
	if err != nil {
		return nil, err
	}
	if p.geoCancel != nil {
		p.geoCancel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	go db.Watch(ctx, 0, a.log.With("component", "geoip"))
	p.geo, p.geoPaths, p.geoCancel = db, paths, cancel
	a.log.Info("geoip databases loaded", "files", db.Paths())
	return db, nil
}

// rateLimiter returns the node's limiter: Redis (cluster.redis) with a
// local fallback, or local only. It is created once; a change of
// cluster.redis takes effect at the next restart.
func (a *App) rateLimiter(cfg *config.Config) (ratelimit.Limiter, error) {
	p := &a.protect
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.limiter != nil {
		if p.redisURL != cfg.Cluster.Redis {
			a.log.Warn("cluster.redis changed; restart to apply")
		}
		return p.limiter, nil
	}
	local := ratelimit.NewLocal(ratelimit.LocalOptions{})
	if cfg.Cluster.Redis == "" {
		p.limiter = local
		return local, nil
	}
	rc, err := a.redisLocked(cfg.Cluster.Redis)
	if err != nil {
		return nil, fmt.Errorf("building the rate limiter: %w", err)
	}
	m := a.metrics.Protect()
	p.limiter = ratelimit.NewFallback(ratelimit.NewRedis(rc, ratelimit.RedisOptions{}), local,
		a.log.With("component", "ratelimit"), m.Degraded)
	p.redisURL = cfg.Cluster.Redis
	return p.limiter, nil
}

// challengerFor returns the node's challenger (keys in data_dir), created
// on first use.
func (a *App) challengerFor(cfg *config.Config) (*challenge.Challenger, error) {
	p := &a.protect
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.challenger == nil {
		opts := challenge.Options{DataDir: cfg.DataDir, Logger: a.log.With("component", "challenge")}
		if cfg.Cluster.Redis != "" {
			// Spent challenges are shared by the cluster, so a solution
			// is accepted once on all of its nodes.
			rc, err := a.redisLocked(cfg.Cluster.Redis)
			if err != nil {
				return nil, fmt.Errorf("building the challenge: %w", err)
			}
			opts.Shared = challenge.NewRedisSpent(rc)
		}
		c, err := challenge.New(opts)
		if err != nil {
			return nil, fmt.Errorf("building the challenge: %w", err)
		}
		p.challenger = c
	}
	return p.challenger, nil
}

// redisLocked returns the node's Redis client for cluster.redis (url),
// shared by the rate limiter and the challenge's replay record, created
// on first use; a change of cluster.redis takes effect at the next
// restart. p.mu must be held.
func (a *App) redisLocked(url string) (*redis.Client, error) {
	p := &a.protect
	if p.redis != nil {
		return p.redis, nil
	}
	o, err := ratelimit.ClientOptions(url)
	if err != nil {
		return nil, err
	}
	p.redis = redis.NewClient(o)
	p.redisURL = url
	return p.redis, nil
}

// tuneDetector, when set, adjusts the options of the detectors created
// from then on. It is for tests, which cannot wait for the 30 s warm-up;
// nil in production.
var tuneDetector func(*attack.Options)

// detector returns the zone's auto-mode detector, kept across reloads so
// that its baseline and state survive them.
func (a *App) detector(zone string) *attack.Detector {
	p := &a.protect
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.detectors[zone]; ok {
		return e.d
	}
	m := a.metrics.Protect()
	o := attack.Options{
		Zone:     zone,
		OnSwitch: func(on bool, _ string) { m.Switched(zone, on) },
		Logger:   a.componentLog("attack"),
	}
	if tuneDetector != nil {
		tuneDetector(&o)
	}
	d := attack.NewDetector(o)
	if p.ticker == nil {
		p.ticker = attack.NewTicker()
	}
	p.ticker.Add(d)
	done := make(chan struct{})
	ticker := p.ticker
	var once sync.Once
	cancel := func() {
		once.Do(func() {
			ticker.Remove(d)
			close(done)
		})
	}
	if p.detectors == nil {
		p.detectors = map[string]*detectorEntry{}
	}
	p.detectors[zone] = &detectorEntry{d: d, cancel: cancel, done: done}
	return d
}

// retainProtect, after the running zones became zones (config and API
// zones alike), stops the detectors of zones that are no longer in auto
// mode and drops the protection metrics of removed zones. A detector is
// stopped once the requests of its zone's replaced entry have ended
// (drained, nil for at once), so that no request in flight observes a
// stopped detector.
func (a *App) retainProtect(zones, prev []config.Zone, drained func(host string) <-chan struct{}) {
	p := &a.protect
	auto := map[string]bool{}
	hosts := map[string]bool{}
	for _, z := range zones {
		hosts[z.Host] = true
		if z.UnderAttack == "auto" {
			auto[z.Host] = true
		}
	}
	p.mu.Lock()
	for host, e := range p.detectors {
		if !auto[host] {
			delete(p.detectors, host)
			var done <-chan struct{}
			if drained != nil {
				done = drained(host)
			}
			if done == nil {
				e.cancel()
				continue
			}
			go func(cancel func()) {
				<-done
				cancel()
			}(e.cancel)
		}
	}
	p.mu.Unlock()
	m := a.metrics.Protect()
	p.mu.Lock()
	held := p.tarpitHeld
	p.mu.Unlock()
	for _, z := range prev {
		if !hosts[z.Host] {
			m.ForgetZone(z.Host)
			if held != nil {
				held.DeleteLabelValues(z.Host)
			}
		}
	}
}

// closeProtect stops the watchers and detectors and closes the Redis
// client.
func (a *App) closeProtect() {
	p := &a.protect
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.geoCancel != nil {
		p.geoCancel()
		p.geoCancel = nil
	}
	for host, e := range p.detectors {
		e.cancel()
		delete(p.detectors, host)
	}
	if p.ticker != nil {
		p.ticker.Close()
	}
	if p.redis != nil {
		p.redis.Close()
		p.redis = nil
	}
}

// rateLimitRules returns the zone's rate-limit rules: the zone-wide per-IP
// limit (rule "zone") and the named rules of rate_limit.rules.
func rateLimitRules(rl config.RateLimit) ([]ratelimit.Rule, error) {
	rules := ratelimit.RulesFromConfig(rl)
	for _, rc := range rl.Rules {
		key, err := ratelimit.ParseKey(rc.Key)
		if rc.Key == "" {
			key, err = []ratelimit.KeyPart{{Kind: "ip"}}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("rate_limit rule %q: %w", rc.Name, err)
		}
		r := ratelimit.Rule{Name: rc.Name, PathPrefix: rc.Path, Key: key}
		for _, l := range rc.Limits {
			r.Limits = append(r.Limits, ratelimit.Limit{Requests: l.Requests, Per: l.Per, Burst: l.Burst})
		}
		rules = append(rules, r)
	}
	return rules, nil
}
