package app

import (
	"fmt"
	"net/http"

	"github.com/rampart-edge/rampart/internal/admin"
	"github.com/rampart-edge/rampart/internal/cache"
	"github.com/rampart-edge/rampart/internal/compress"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/edge"
)

// The edge cache is one cache.Store per node (memory budget, disk tier,
// Redis purges), opened on the first build and kept across reloads so that
// entries survive them, and one cache.Zone per zone with the cache
// enabled, put in the zone's PhaseCache slot. The phase answers cacheable
// requests itself, calling the zone's proxy for misses and keeping the
// response; requests it must not cache go on to the proxy as BYPASS.

// setCachePhase puts the zone's cache phase into z (none when the zone's
// cache is off). build runs under reloadMu (or before the app is shared),
// so the lazy store needs no lock.
func (a *App) setCachePhase(z *edge.Zone, zc config.Zone, cfg *config.Config, next http.Handler) error {
	if !zc.Cache.Enabled {
		return nil
	}
	if a.cacheStore.Load() == nil {
		dir, size := cfg.CacheDisk()
		s, err := cache.OpenStore(cache.StoreOptions{
			MemoryBytes: cfg.CacheMemoryBytes(),
			DiskDir:     dir,
			DiskBytes:   size,
			Redis:       cfg.Cluster.Redis,
			Logger:      a.log.With("component", "cache"),
		})
		if err != nil {
			return fmt.Errorf("opening the cache: %w", err)
		}
		a.cacheStore.Store(s)
		a.cacheCfg = cfg.Cache
	}
	if zc.Cache.CompressOrDefault() {
		// Responses the cache does not keep (BYPASS) are compressed on
		// the fly; cached ones are compressed once, by the cache.
		z.Handler = compress.Handler(next)
	}
	z.Phases[edge.PhaseCache] = cache.NewZone(a.cacheStore.Load(), zc.Host, cacheRules(zc.Cache), next,
		cache.ZoneOptions{Observer: a.metrics.Cache(zc.Host)})
	return nil
}

// cacheRules resolves a zone's cache config into the cache's rules.
func cacheRules(c config.Cache) cache.Rules {
	return cache.Rules{
		DefaultTTL:           c.DefaultTTL,
		MaxTTL:               c.MaxTTL,
		StaleWhileRevalidate: c.StaleWhileRevalidate,
		StaleIfError:         c.StaleIfError,
		AlwaysOnline:         c.AlwaysOnline,
		BypassPaths:          c.Bypass.Paths,
		BypassCookies:        c.Bypass.Cookies,
		SortQuery:            c.Query.Sort,
		IgnoreParams:         c.Query.Ignore,
		IgnoreHost:           !c.KeyHostOrDefault(),
		StoreSetCookie:       c.StoreSetCookie,
		NoCompress:           !c.CompressOrDefault(),
		LockTimeout:          c.LockTimeout,
	}
}

// retainCaches, after the running zones became zones (config and API
// zones alike), drops the cache metrics of removed zones and warns that
// the node's cache storage settings need a restart.
func (a *App) retainCaches(cfg *config.Config, zones []config.Zone) {
	keep := make(map[string]bool, len(zones))
	for _, z := range zones {
		keep[z.Host] = true
	}
	a.metrics.ForgetCache(keep)
	if a.cacheStore.Load() != nil && !equalNodeCache(a.cacheCfg, cfg.Cache) {
		a.log.Warn("cache memory or disk settings changed; restart to apply")
	}
}

func equalNodeCache(a, b config.NodeCache) bool { return a == b }

// closeCache stops the cache's disk writer and Redis subscription.
func (a *App) closeCache() {
	if s := a.cacheStore.Load(); s != nil {
		s.Close()
	}
}

// cachePurger serves the admin API's purge route: the zone is named by
// its host until zones get ids.
type cachePurger struct{ a *App }

// Purge implements admin.Purger.
func (p cachePurger) Purge(zone string, req cache.PurgeRequest) (int, error) {
	host, err := config.CanonicalHost(zone)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", admin.ErrNoZone, err)
	}
	gen := p.a.gen.Load()
	if gen == nil {
		return 0, admin.ErrNoZone
	}
	if _, ok := gen.zones[host]; !ok {
		return 0, fmt.Errorf("%w: %q", admin.ErrNoZone, zone)
	}
	s := p.a.cacheStore.Load()
	if s == nil {
		return 0, nil // no zone has a cache: nothing is stored
	}
	return s.Purge(host, req)
}
