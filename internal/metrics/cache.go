package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// cacheVecs are the cache's metric vectors of one Registry.
type cacheVecs struct {
	requests *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	saved    *prometheus.CounterVec
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
// cache.Observer. It is safe for concurrent use.
type CacheZone struct {
	v            *cacheVecs
	zone         string
	by           [len(cacheStatuses)]prometheus.Counter
	bytes, saved prometheus.Counter
}

// Cache returns the cache metrics of zone host.
func (r *Registry) Cache(host string) *CacheZone {
	v := r.cacheVecs()
	c := &CacheZone{v: v, zone: host, bytes: v.bytes.WithLabelValues(host), saved: v.saved.WithLabelValues(host)}
	for i, s := range cacheStatuses {
		c.by[i] = v.requests.WithLabelValues(host, s)
	}
	return c
}

// CacheServed counts one request with its cache status, the body bytes
// served from the cache, and whether the origin was spared.
func (c *CacheZone) CacheServed(status string, bytes int64, saved bool) {
	for i, s := range cacheStatuses {
		if s == status {
			c.by[i].Inc()
			break
		}
	}
	if bytes > 0 {
		c.bytes.Add(float64(bytes))
	}
	if saved {
		c.saved.Inc()
	}
}

// ForgetCache deletes the cache series of every zone not in keep, as
// Forget does for the request metrics.
func (r *Registry) ForgetCache(keep map[string]bool) {
	v := r.cacheVecs()
	mfs, err := r.reg.Gather()
	if err != nil {
		return
	}
	for _, mf := range mfs {
		if mf.GetName() != "rampart_cache_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "zone" && !keep[l.GetValue()] {
					zone := l.GetValue()
					v.requests.DeletePartialMatch(prometheus.Labels{"zone": zone})
					v.bytes.DeleteLabelValues(zone)
					v.saved.DeleteLabelValues(zone)
				}
			}
		}
	}
}
