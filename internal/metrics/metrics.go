// Package metrics holds rampart's Prometheus registry and the rampart_*
// metrics of the edge: requests by zone and status code, request duration,
// open client connections, and origin health and traffic.
//
// The request path must stay cheap, so label children are resolved once:
// a Zone caches its counter for every status code it has seen and its
// histogram observer, and the edge keeps one Zone per configured zone. No
// label value is formatted or looked up by string per request once a code
// has been seen.
//
// Label cardinality is bounded by the configuration: the zone label takes
// the configured zone hosts (plus UnknownZone for requests that matched no
// zone), the code label takes the status codes 100-599, and the origin label
// takes the configured origin URLs.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rampart-edge/rampart/internal/buildinfo"
)

// UnknownZone is the zone label of requests whose Host matched no zone
// (answered 421 Misdirected Request).
const UnknownZone = "_unknown"

// OriginState is one origin's state at scrape time.
type OriginState struct {
	Zone    string
	Origin  string
	Healthy bool
	// Active is the number of requests in flight to the origin.
	Active int
}

// Registry is rampart's Prometheus registry and the metric vectors of the
// edge. It is safe for concurrent use.
type Registry struct {
	reg *prometheus.Registry

	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	conns       *prometheus.GaugeVec
	connsTotal  *prometheus.CounterVec
	originReqs  *prometheus.CounterVec
	originErrs  *prometheus.CounterVec
	originState *originCollector

	mu    sync.Mutex
	zones map[string]*Zone
}

// DurationBuckets are the request duration histogram buckets in seconds.
// They span a cache hit (sub-millisecond) to a slow origin (tens of seconds).
var DurationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// New returns a registry with the rampart_* metrics, the Go runtime
// collector (go_*) and the process collector (process_*) registered.
func New() *Registry {
	r := &Registry{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_requests_total",
			Help: "Requests answered by the edge, by zone and HTTP status code.",
		}, []string{"zone", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rampart_request_duration_seconds",
			Help:    "Time from reading the request to the end of the response, by zone.",
			Buckets: DurationBuckets,
		}, []string{"zone"}),
		conns: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rampart_open_connections",
			Help: "Open client connections, by listener (http, https); a connection handed over to a WebSocket stops counting.",
		}, []string{"listener"}),
		connsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_connections_total",
			Help: "Client connections accepted, by listener (http, https).",
		}, []string{"listener"}),
		originReqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_origin_requests_total",
			Help: "Requests sent to an origin, by zone and origin.",
		}, []string{"zone", "origin"}),
		originErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_origin_errors_total",
			Help: "Requests to an origin that ended in a proxy error (502 or 504), by zone and origin.",
		}, []string{"zone", "origin"}),
		originState: newOriginCollector(),
		zones:       make(map[string]*Zone),
	}
	r.reg.MustRegister(r.requests, r.duration, r.conns, r.connsTotal, r.originReqs, r.originErrs, r.originState,
		buildInfoGauge(buildinfo.Get()),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// buildInfoGauge is rampart_build_info: always 1, with the binary's
// version, commit and Go version as labels, so that a dashboard can tell
// the nodes' builds apart (the labels rampart version prints).
func buildInfoGauge(info buildinfo.Info) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "rampart_build_info",
		Help: "Always 1; the labels describe the running binary (as rampart version prints it).",
		ConstLabels: prometheus.Labels{
			"version":    info.Version,
			"commit":     info.ShortCommit(),
			"go_version": info.GoVersion,
		},
	})
	g.Set(1)
	return g
}

// Gatherer returns the registry for an admin server or a test to gather.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Registerer returns the registry so that other packages can add their own
// rampart_* collectors.
func (r *Registry) Registerer() prometheus.Registerer { return r.reg }

// Handler returns the /metrics handler in the Prometheus text (or
// OpenMetrics, when asked) exposition format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// SetOriginSource sets the function called at every scrape to report the
// origins' health (rampart_origin_healthy) and in-flight requests
// (rampart_origin_active_requests). Reading state at scrape time keeps the
// gauges right across reloads, when proxies are replaced. A nil source
// reports no origins.
func (r *Registry) SetOriginSource(fn func() []OriginState) {
	r.originState.source.Store(&fn)
}

// Conns returns the connection gauge and counter of a listener, resolved
// once for the listener's lifetime.
func (r *Registry) Conns(listener string) (open prometheus.Gauge, accepted prometheus.Counter) {
	return r.conns.WithLabelValues(listener), r.connsTotal.WithLabelValues(listener)
}

// Zone returns the metrics of the zone named host, creating them on first
// use. The same *Zone is returned for the same host, so reloads keep the
// resolved children.
func (r *Registry) Zone(host string) *Zone {
	r.mu.Lock()
	defer r.mu.Unlock()
	if z, ok := r.zones[host]; ok {
		return z
	}
	z := &Zone{reg: r, name: host}
	r.zones[host] = z
	return z
}

// Forget deletes the series of zones that are no longer configured, so that
// removed zones stop being exported. keep holds the zone hosts still in use;
// UnknownZone is always kept.
func (r *Registry) Forget(keep map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for host := range r.zones {
		if keep[host] || host == UnknownZone {
			continue
		}
		delete(r.zones, host)
		r.requests.DeletePartialMatch(prometheus.Labels{"zone": host})
		r.duration.DeleteLabelValues(host)
		r.originReqs.DeletePartialMatch(prometheus.Labels{"zone": host})
		r.originErrs.DeletePartialMatch(prometheus.Labels{"zone": host})
	}
}

// Zone is the cached metric children of one zone. Nothing is allocated
// for them until the zone's first request: a node with many idle zones
// holds a few words per zone.
type Zone struct {
	reg  *Registry
	name string
	// duration is the rampart_request_duration_seconds child, resolved
	// on the first request.
	duration atomic.Pointer[prometheus.Observer]
	// codes caches the rampart_requests_total child of each status code
	// 100-599, filled on first use; the array itself is allocated on the
	// first request.
	codes   atomic.Pointer[[500]atomic.Pointer[prometheus.Counter]]
	origins sync.Map // origin URL -> *originChildren
}

type originChildren struct {
	requests prometheus.Counter
	errors   prometheus.Counter
}

// Name returns the zone host the metrics are labelled with.
func (z *Zone) Name() string { return z.name }

// Observe records one finished request: its status code and duration, and,
// when origin is not "", one request to that origin, counted as an origin
// error when the status is 502 Bad Gateway or 504 Gateway Timeout.
func (z *Zone) Observe(code int, d time.Duration, origin string) {
	z.Counter(code).Inc()
	z.observer().Observe(d.Seconds())
	if origin == "" {
		return
	}
	oc := z.origin(origin)
	oc.requests.Inc()
	if code == http.StatusBadGateway || code == http.StatusGatewayTimeout {
		oc.errors.Inc()
	}
}

// Counter returns the zone's rampart_requests_total child for a status
// code, resolved once per code.
func (z *Zone) Counter(code int) prometheus.Counter {
	if code < 100 || code > 599 {
		// Out-of-range codes cannot come from net/http; keep them bounded.
		code = 599
	}
	codes := z.codes.Load()
	if codes == nil {
		z.codes.CompareAndSwap(nil, new([500]atomic.Pointer[prometheus.Counter]))
		codes = z.codes.Load()
	}
	slot := &codes[code-100]
	if c := slot.Load(); c != nil {
		return *c
	}
	c := z.reg.requests.WithLabelValues(z.name, strconv.Itoa(code))
	slot.Store(&c)
	return c
}

// observer returns the zone's duration histogram child.
func (z *Zone) observer() prometheus.Observer {
	if o := z.duration.Load(); o != nil {
		return *o
	}
	o := z.reg.duration.WithLabelValues(z.name)
	z.duration.Store(&o)
	return o
}

func (z *Zone) origin(origin string) *originChildren {
	if v, ok := z.origins.Load(origin); ok {
		return v.(*originChildren)
	}
	oc := &originChildren{
		requests: z.reg.originReqs.WithLabelValues(z.name, origin),
		errors:   z.reg.originErrs.WithLabelValues(z.name, origin),
	}
	v, _ := z.origins.LoadOrStore(origin, oc)
	return v.(*originChildren)
}

// originCollector reports origin state read at scrape time.
type originCollector struct {
	source  atomic.Pointer[func() []OriginState]
	healthy *prometheus.Desc
	active  *prometheus.Desc
}

func newOriginCollector() *originCollector {
	return &originCollector{
		healthy: prometheus.NewDesc("rampart_origin_healthy",
			"1 when the origin is healthy (active and passive checks), 0 when ejected.",
			[]string{"zone", "origin"}, nil),
		active: prometheus.NewDesc("rampart_origin_active_requests",
			"Requests in flight to the origin.",
			[]string{"zone", "origin"}, nil),
	}
}

// Describe sends the origin gauges' descriptors.
func (c *originCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.healthy
	ch <- c.active
}

// Collect reads the origin state from the source and sends one sample of
// each gauge per zone and origin.
func (c *originCollector) Collect(ch chan<- prometheus.Metric) {
	fn := c.source.Load()
	if fn == nil || *fn == nil {
		return
	}
	seen := make(map[[2]string]bool)
	for _, o := range (*fn)() {
		k := [2]string{o.Zone, o.Origin}
		if seen[k] {
			// Duplicate label sets would make the scrape fail.
			continue
		}
		seen[k] = true
		h := 0.0
		if o.Healthy {
			h = 1
		}
		ch <- prometheus.MustNewConstMetric(c.healthy, prometheus.GaugeValue, h, o.Zone, o.Origin)
		ch <- prometheus.MustNewConstMetric(c.active, prometheus.GaugeValue, float64(o.Active), o.Zone, o.Origin)
	}
}
