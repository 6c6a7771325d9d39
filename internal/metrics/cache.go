package metrics

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// cacheVecs are the cache's metric vectors of one Registry.
type cacheVecs struct {
	requests *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	saved    *prometheus.CounterVec

	mu    sync.Mutex
	zones map[string]bool // zones with series (ForgetCache)
}

// cacheByRegistry holds each Registry's cache vectors, created on first
// use (the Registry type is shared; this keeps the cache's metrics in
// their own file).
var cacheByRegistry sync.Map // *Registry -> *cacheVecs

func (r *Registry) cacheVecs() *cacheVecs {
	if v, ok := cacheByRegistry.Load(r); ok {
		return v.(*cacheVecs)
	}
	v := &cacheVecs{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_cache_requests_total",
			Help: "Requests seen by the edge cache, by zone and Rampart-Cache status (HIT, MISS, EXPIRED, STALE, REVALIDATED, BYPASS). Hit ratio: HIT+STALE over all but BYPASS.",
		}, []string{"zone", "status"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_cache_served_bytes_total",
			Help: "Response body bytes served from the edge cache, by zone.",
		}, []string{"zone"}),
		saved: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_cache_origin_requests_saved_total",
			Help: "Requests answered without asking the origin (hits, stale answers, coalesced waiters), by zone.",
		}, []string{"zone"}),
		zones: make(map[string]bool),
	}
	actual, loaded := cacheByRegistry.LoadOrStore(r, v)
	if !loaded {
		r.reg.MustRegister(v.requests, v.bytes, v.saved)
	}
	return actual.(*cacheVecs)
}

// cacheStatuses are the Rampart-Cache values, resolved once per zone.
var cacheStatuses = [...]string{"HIT", "MISS", "EXPIRED", "STALE", "REVALIDATED", "BYPASS"}

// CacheZone records one zone's cache outcomes; it implements
// cache.Observer. It is safe for concurrent use. Its metric children are
// resolved on the zone's first cached request, so an idle zone holds none.
type CacheZone struct {
	v        *cacheVecs
	zone     string
	children atomic.Pointer[cacheChildren]
}

type cacheChildren struct {
	by           [len(cacheStatuses)]prometheus.Counter
	bytes, saved prometheus.Counter
}

// Cache returns the cache metrics of zone host.
func (r *Registry) Cache(host string) *CacheZone {
	return &CacheZone{v: r.cacheVecs(), zone: host}
}

func (c *CacheZone) resolve() *cacheChildren {
	if ch := c.children.Load(); ch != nil {
		return ch
	}
	v := c.v
	v.mu.Lock()
	defer v.mu.Unlock()
	ch := &cacheChildren{bytes: v.bytes.WithLabelValues(c.zone), saved: v.saved.WithLabelValues(c.zone)}
	for i, s := range cacheStatuses {
		ch.by[i] = v.requests.WithLabelValues(c.zone, s)
	}
	v.zones[c.zone] = true
	c.children.Store(ch)
	return ch
}

// CacheServed counts one request with its cache status, the body bytes
// served from the cache, and whether the origin was spared.
func (c *CacheZone) CacheServed(status string, bytes int64, saved bool) {
	ch := c.resolve()
	for i, s := range cacheStatuses {
		if s == status {
			ch.by[i].Inc()
			break
		}
	}
	if bytes > 0 {
		ch.bytes.Add(float64(bytes))
	}
	if saved {
		ch.saved.Inc()
	}
}

// ForgetCache deletes the cache series of every zone not in keep, as
// Forget does for the request metrics. It costs one map walk over the
// zones that have series, not a gather of the registry.
func (r *Registry) ForgetCache(keep map[string]bool) {
	v := r.cacheVecs()
	v.mu.Lock()
	defer v.mu.Unlock()
	for zone := range v.zones {
		if keep[zone] {
			continue
		}
		delete(v.zones, zone)
		for _, s := range cacheStatuses {
			v.requests.DeleteLabelValues(zone, s)
		}
		v.bytes.DeleteLabelValues(zone)
		v.saved.DeleteLabelValues(zone)
	}
}
