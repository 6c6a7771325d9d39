package waf

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/experimental"
	"github.com/corazawaf/coraza/v3/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/metrics"
)

// Options configure a Set.
type Options struct {
	// Logger receives one line per blocked or detected request and the
	// compile events; nil discards them.
	Logger *slog.Logger
	// Metrics receives the WAF metrics (rampart_waf_*); nil records none.
	Metrics *metrics.Registry
	// Directives, when set, are loaded after rampart's settings and before
	// the CRS setup in every WAF the Set compiles. It is for tests (the
	// CRS regression runner's marker rule); it becomes part of the cache
	// key.
	Directives string
	// ErrorLog, when set, receives every rule match that Coraza logs, as
	// its ModSecurity-style error log line is formed
	// (types.MatchedRule.ErrorLog). It is for tests; it costs time on the
	// request path.
	ErrorLog func(types.MatchedRule)
}

// Set compiles and caches the WAFs of zone configurations: one
// coraza.WAF per distinct Directives text, shared by every zone and
// request using it. It is safe for concurrent use.
type Set struct {
	opts Options
	log  *slog.Logger
	m    *metrics.WAF

	mu   sync.Mutex
	wafs map[string]coraza.WAF // by Directives text

	// budget is the node's inspection memory budget (SetMemory), given
	// to the phases built after it is set.
	budget atomic.Pointer[budget]
}

// NewSet returns an empty Set.
func NewSet(opts Options) *Set {
	registerRX()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Set{opts: opts, log: log, wafs: map[string]coraza.WAF{}}
	s.budget.Store(newBudget(mustSize(config.DefaultWAFMemory), config.DefaultWAFMemoryWait))
	if opts.Metrics != nil {
		s.m = opts.Metrics.WAF()
		g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "rampart_waf_memory_reserved_bytes",
			Help: "Memory reserved by the requests the WAF is inspecting now, estimated from their size and argument count, against waf.memory.",
		}, func() float64 { return float64(s.budget.Load().reserved()) })
		if err := opts.Metrics.Registerer().Register(g); err != nil {
			log.Error("registering the waf memory metric", "error", err)
		}
	}
	return s
}

func mustSize(v string) int64 {
	n, err := config.ParseSize(v)
	if err != nil {
		panic(err)
	}
	return n
}

// SetMemory sets the node's budget of memory for inspection (waf.memory,
// waf.memory_wait; config.Config.WAFMemoryBytes and WAFMemoryWait) for the
// phases built from then on. Requests running keep the budget they
// reserved from.
func (s *Set) SetMemory(size int64, wait time.Duration) {
	if b := s.budget.Load(); b.size == size && b.wait == wait {
		return
	}
	s.budget.Store(newBudget(size, wait))
}

// WAF returns the compiled WAF for cfg, compiling it on first use. Compile
// errors name the zone setting's directives and are rare: config
// validation has checked every value that goes into them.
func (s *Set) WAF(cfg config.WAF) (coraza.WAF, error) {
	for _, a := range cfg.Apps {
		if appFile(a) == "" {
			return nil, fmt.Errorf("unknown waf application %q (accepted: %s)", a, strings.Join(config.WAFApps, ", "))
		}
	}
	key := Directives(cfg, s.opts.Directives)
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.wafs[key]; ok {
		return w, nil
	}
	start := time.Now()
	wc := coraza.NewWAFConfig().WithRootFS(rulesFS{}).WithDirectives(key)
	if s.opts.ErrorLog != nil {
		wc = wc.WithErrorCallback(s.opts.ErrorLog)
	}
	w, err := coraza.NewWAF(wc)
	if err != nil {
		return nil, fmt.Errorf("compiling the core rule set (paranoia %d, %d exclusions): %w", cfg.Paranoia, len(cfg.Exclusions), err)
	}
	s.wafs[key] = w
	s.log.Info("waf rules compiled", "paranoia", cfg.Paranoia, "anomaly_threshold", cfg.AnomalyThreshold,
		"exclusions", len(cfg.Exclusions), "apps", selectedApps(cfg.Apps), "duration", time.Since(start).String(), "compiled_sets", len(s.wafs))
	return w, nil
}

// Phase returns the WAF phase of zone for cfg, or nil when cfg.Mode is
// "off" (or empty): such a zone runs no WAF code at all.
func (s *Set) Phase(zone string, cfg config.WAF) (*Phase, error) {
	if cfg.Mode == "" || cfg.Mode == "off" {
		return nil, nil
	}
	if cfg.Mode != "detect" && cfg.Mode != "block" {
		return nil, fmt.Errorf("building the waf of zone %q: unknown mode %q", zone, cfg.Mode)
	}
	w, err := s.WAF(cfg)
	if err != nil {
		return nil, fmt.Errorf("building the waf of zone %q: %w", zone, err)
	}
	limit := cfg.BodyLimit
	if limit <= 0 {
		limit = config.DefaultWAFBodyLimit
	}
	p := &Phase{
		zone:      zone,
		waf:       w,
		block:     cfg.Mode == "block",
		bodyLimit: limit,
		log:       s.log,
		m:         s.m,
		skipPaths: cfg.Skip.Paths,
		response:  cfg.Response,
		limits:    resolveLimits(cfg.Limits),
		budget:    s.budget.Load(),
	}
	for _, x := range cfg.Skip.Extensions {
		p.skipExts = append(p.skipExts, strings.ToLower(x))
	}
	return p, nil
}

// Retain drops the compiled WAFs that none of cfgs uses, so that a reload
// releases the rule sets of removed settings (requests still running with
// them keep their own reference until they end).
func (s *Set) Retain(cfgs []config.WAF) {
	keep := make(map[string]bool, len(cfgs))
	for _, c := range cfgs {
		if c.Mode == "detect" || c.Mode == "block" {
			keep[Directives(c, s.opts.Directives)] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, w := range s.wafs {
		if !keep[k] {
			delete(s.wafs, k)
			// Release the WAF's entries in Coraza's process-wide cache of
			// compiled patterns (shared with other WAFs by pattern); the
			// rules themselves stay usable by requests still running.
			if c, ok := w.(experimental.WAFCloser); ok {
				_ = c.Close()
			}
		}
	}
}

// Len returns the number of compiled WAFs held.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.wafs)
}
