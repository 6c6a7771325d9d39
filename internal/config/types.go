// Package config defines rampart's YAML configuration: its types, defaults,
// strict parsing and validation. Errors name the file, line and field at fault.
package config

import "time"

// Config is the whole static configuration of one rampart node.
type Config struct {
	// Listen holds the listener addresses. Defaults bind to loopback only.
	Listen Listen `yaml:"listen"`
	// DataDir holds the embedded store, list versions, keys and caches.
	DataDir string `yaml:"data_dir"`
	// Store is "" for SQLite in DataDir, or a postgres:// URL.
	Store   string  `yaml:"store"`
	Cluster Cluster `yaml:"cluster"`
	// PublicURL is the base of the links the edge shows (the 451's
	// Link rel="blocked-by", the report form's action, the case pages),
	// such as "https://edge.example.org", without a trailing slash. Empty
	// means compliance.blocked_by_url, or else the admin listener's
	// address (fine for one node on one machine only).
	PublicURL string `yaml:"public_url"`
	TLS       TLS    `yaml:"tls"`
	// TrustedProxies lists the CIDRs whose X-Forwarded-For / Forwarded
	// headers are believed. Empty means no incoming forwarding header is
	// trusted and the TCP peer is the client.
	TrustedProxies []string   `yaml:"trusted_proxies"`
	Timeouts       Timeouts   `yaml:"timeouts"`
	Log            Log        `yaml:"log"`
	Compliance     Compliance `yaml:"compliance"`
	// Cache is the node's cache storage (memory and disk budgets).
	Cache NodeCache `yaml:"cache"`
	// WAF is the node's budget of memory for WAF inspection, shared by
	// every zone (waf.go).
	WAF NodeWAF `yaml:"waf"`

	// --- protection (H12; types and validation in access.go) ---
	// GeoIP names the .mmdb databases for country/ASN rules and embargoes.
	GeoIP GeoIP `yaml:"geoip"`
	// Limits caps concurrent client connections (total and per IP).
	Limits Limits `yaml:"limits"`
	// --- end protection ---

	// QUIC tunes the HTTP/3 listener (http3.go).
	QUIC QUIC `yaml:"quic"`

	// Dashboard tunes the web dashboard of the admin listener.
	Dashboard Dashboard `yaml:"dashboard"`

	Zones []Zone `yaml:"zones"`

	// Path is the file the config was read from ("" when built in code).
	Path string `yaml:"-"`

	// src locates fields in the file for error messages (nil when built
	// in code).
	src *source
}

// Listen holds listener addresses as "host:port"; ":8080" means every
// interface. An address set to "" in the file disables that listener. The
// defaults listen on loopback only, so nothing is reachable from other
// machines unless the config says so.
type Listen struct {
	HTTP string `yaml:"http"` // default "127.0.0.1:8080"
	// HTTPS defaults to "" (off), or to "127.0.0.1:8443" when the file
	// leaves it out but configures tls certificates or an acme email.
	HTTPS string `yaml:"https"`
	// HTTP3 is the UDP address of HTTP/3 (QUIC). It defaults to the
	// HTTPS address when the file leaves it out and HTTPS is on; "" turns
	// HTTP/3 off. Tuned by the quic section (http3.go).
	HTTP3 string `yaml:"http3"`
	Admin string `yaml:"admin"` // default "127.0.0.1:9090"
	// ProxyProtocol reads a PROXY protocol header (v1 or v2) at the start
	// of each connection on the http and https listeners, from peers in
	// trusted_proxies only; the address it carries becomes the client
	// address. Other peers sending one are refused. Default false. (H12)
	ProxyProtocol bool `yaml:"proxy_protocol"`
	// Server is the HTTP/1.x server loop of the http and https
	// listeners: "rampart" (default, internal/h1; HTTP/2 stays on
	// net/http) or "net/http" (the standard library's for everything, the
	// way back). Fixed at start.
	Server string `yaml:"server"`
}

// Dashboard tunes the web dashboard (issue 15).
type Dashboard struct {
	// Traffic keeps the per-minute traffic rollups and sampled security
	// events of the dashboard's operator pages (default true, with an
	// admin listener); false takes them off the request path. Fixed at
	// start.
	Traffic bool `yaml:"traffic"`
}

// Cluster configures the shared state between edge nodes.
type Cluster struct {
	Redis string `yaml:"redis"`
	// NodeID names this node in the store's node table and in GET
	// /v1/nodes. Empty means the id kept in data_dir/node-id (created
	// once, random).
	NodeID string `yaml:"node_id"`
	// Poll is how often the node reads the store's desired-state version
	// (default 1s), on top of the PostgreSQL notifications that wake it
	// at once; a lost notification costs at most this long. It is also
	// the heartbeat of the node's row in the node table.
	Poll time.Duration `yaml:"poll"`
}

// TLS configures certificates. Certificates are chosen by SNI.
type TLS struct {
	ACME         ACME          `yaml:"acme"`
	Certificates []Certificate `yaml:"certificates"`
	// RedirectHTTP answers plain-HTTP requests for zones that have a
	// certificate with a 308 to https.
	RedirectHTTP bool `yaml:"redirect_http"`
}

// ACME configures automatic certificates through certmagic.
type ACME struct {
	Email     string `yaml:"email"`
	Directory string `yaml:"directory"` // "" = Let's Encrypt production
	// CARoot is a PEM file trusted for the ACME directory (tests, private CAs).
	CARoot string `yaml:"ca_root"`
	// Hosts lists the zone hosts to obtain certificates for. Empty with an
	// email set means every zone host and alias that is not a wildcard.
	Hosts []string `yaml:"hosts"`
}

// Certificate is a PEM certificate chain and key on disk.
type Certificate struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Timeouts bound client connections and origin round trips.
type Timeouts struct {
	ReadHeader     time.Duration `yaml:"read_header"`      // default 10s
	Read           time.Duration `yaml:"read"`             // default 60s
	Write          time.Duration `yaml:"write"`            // default 0 (streaming)
	Idle           time.Duration `yaml:"idle"`             // default 120s
	Dial           time.Duration `yaml:"dial"`             // default 5s
	ResponseHeader time.Duration `yaml:"response_header"`  // default 30s
	OriginIdle     time.Duration `yaml:"origin_idle"`      // default 90s
	Shutdown       time.Duration `yaml:"shutdown"`         // default 30s
	Store          time.Duration `yaml:"store"`            // default 5s: bounds control-plane store calls
	MaxHeaderBytes int           `yaml:"max_header_bytes"` // default 64 KiB
}

// Log configures the access log.
type Log struct {
	Format string `yaml:"format"` // json (default) | combined | off
	Path   string `yaml:"path"`   // "" = stderr
	Level  string `yaml:"level"`  // debug | info (default) | warn | error
}

// Compliance configures the sanctions lists and screening.
type Compliance struct {
	// Lists are files or folders loaded at start. Empty means the lists
	// bundled into the binary.
	Lists            []string `yaml:"lists"`
	Threshold        float64  `yaml:"threshold"` // default 0.90
	EmbargoedRegions []string `yaml:"embargoed_regions"`
	// Screening false makes a node that does not screen: it loads no
	// sanctions list and no screening index, and runs no compliance desk
	// (as a node without an admin listener), even with the admin
	// listener on. Default true. Read at start.
	Screening *bool `yaml:"screening"`

	// --- compliance desk (H14) ---
	// OnHit is what a re-screening hit does to a zone: "review" (the
	// default: a case is opened and the zone keeps serving until a
	// compliance user decides) or "suspend" (the zone stops serving at
	// once with 451 and a case is opened).
	OnHit string `yaml:"on_hit"`
	// BlockedByURL is the base URL of the case links in the Link
	// rel="blocked-by" header of 451 answers (RFC 7725), such as
	// "https://compliance.example.org"; "/v1/cases/ID" is appended. Empty
	// means http://ADMIN-LISTEN-ADDRESS.
	BlockedByURL string `yaml:"blocked_by_url"`
	// Reports bounds the public reports (POST /v1/reports and the form
	// at /.well-known/rampart/report).
	Reports ComplianceReports `yaml:"reports"`
	// Feeds are the official list publications rampart fetches itself
	// (feeds.go has the sources, default URLs and defaults).
	Feeds []Feed `yaml:"feeds"`
	// MaxRemovedShare is the share of a list's entities one update may
	// remove without --force (default 0.05); every import is held to it.
	MaxRemovedShare float64 `yaml:"max_removed_share"`
}

// ScreeningOn reports whether the node screens (compliance.screening,
// default true).
func (c Compliance) ScreeningOn() bool { return c.Screening == nil || *c.Screening }

// ComplianceReports are the limits of public reports, counted on each
// node (validate_compliance.go has the defaults):
//
//	compliance:
//	  reports:
//	    per_ip: {requests: 5, per: 1m, burst: 5}
//	    per_network: {requests: 20, per: 1h, burst: 10} # by /24 (IPv4), /64 (IPv6)
//	    total: {requests: 200, per: 1h, burst: 50}
//	    dedupe_window: 24h
type ComplianceReports struct {
	PerIP      RateLimitRate `yaml:"per_ip"`
	PerNetwork RateLimitRate `yaml:"per_network"`
	Total      RateLimitRate `yaml:"total"`
	// DedupeWindow is how long an identical report (same host, category,
	// normalised description, evidence and reporter network) is counted
	// on the report already stored instead of being stored again.
	DedupeWindow time.Duration `yaml:"dedupe_window"`
}

// Zone is one site: a host, its aliases, its origins and its settings.
// After Parse or Validate, Host and Aliases are in canonical form (see
// CanonicalHost): lower-case ASCII, punycode, no trailing dot.
type Zone struct {
	Host    string   `yaml:"host"`    // exact host or "*.example.org"
	Aliases []string `yaml:"aliases"` // exact hosts or wildcards
	Origins []string `yaml:"origins"` // http:// or https:// URLs
	// LoadBalancing picks an origin: round_robin (default),
	// least_conn or ip_hash (consistent hashing by client IP).
	LoadBalancing string      `yaml:"load_balancing"`
	HealthCheck   HealthCheck `yaml:"health_check"`
	// Retries is how many other origins an idempotent request may be
	// retried on after a connection failure (default 1).
	Retries int `yaml:"retries"`
	// PreserveHost sends the client's Host to the origin (default true).
	PreserveHost *bool `yaml:"preserve_host"`

	Cache       Cache     `yaml:"cache"`
	RateLimit   RateLimit `yaml:"rate_limit"`
	UnderAttack string    `yaml:"under_attack"` // off (default) | on | auto
	WAF         WAF       `yaml:"waf"`
	MaxBodySize int64     `yaml:"max_body_size"` // bytes; 0 = no limit
	// Access holds the zone's allow and deny rules (see access.go). (H12)
	Access Access `yaml:"access"`
	// Challenge tunes the under_attack challenge: difficulty and
	// exemptions (see challenge.go). (H12)
	Challenge Challenge `yaml:"challenge"`
	// OriginLimits caps the requests in flight to the zone's origins,
	// with a bounded priority queue (see originlimits.go).
	OriginLimits OriginLimits `yaml:"origin_limits"`
	// HSTS is the zone's Strict-Transport-Security policy, sent on its
	// HTTPS and HTTP/3 responses only (http3.go). Off by default.
	HSTS HSTS `yaml:"hsts"`

	// Line is where the zone starts in the config file, for error messages.
	Line int `yaml:"-"`
}

// HealthCheck configures active health checks of a zone's origins.
// Active checks are on when Path is set.
type HealthCheck struct {
	Path      string        `yaml:"path"`
	Interval  time.Duration `yaml:"interval"`  // default 5s
	Timeout   time.Duration `yaml:"timeout"`   // default 2s
	Healthy   int           `yaml:"healthy"`   // successes to return, default 2
	Unhealthy int           `yaml:"unhealthy"` // failures to eject, default 3
	// Passive ejection: this many consecutive proxy failures eject an
	// origin for EjectFor (defaults 3 and 10s).
	MaxFails int           `yaml:"max_fails"`
	EjectFor time.Duration `yaml:"eject_for"`
}

// Cache configures the edge cache for a zone (internal/cache; see
// cache.go in this package for the resolved rules). With Enabled false
// every response of the zone is BYPASS.
type Cache struct {
	Enabled bool `yaml:"enabled"`
	// MaxTTL caps every freshness lifetime (0: no cap).
	MaxTTL time.Duration `yaml:"max_ttl"`
	// DefaultTTL is the lifetime of responses without explicit freshness,
	// used only where RFC 9111 allows a heuristic (0: 10% of the time
	// since Last-Modified, at most a day).
	DefaultTTL time.Duration `yaml:"default_ttl"`
	// Bypass lists requests that never use the cache.
	Bypass CacheBypass `yaml:"bypass"`
	// Query says how the query string enters the cache key.
	Query CacheQuery `yaml:"query"`
	// KeyHost puts the request host in the cache key (default true);
	// false lets every alias of the zone share entries.
	KeyHost *bool `yaml:"key_host"`
	// AlwaysOnline serves stored responses however stale when the origin
	// is down or answers 5xx.
	AlwaysOnline bool `yaml:"always_online"`
	// StaleWhileRevalidate and StaleIfError are the RFC 5861 windows for
	// responses that do not set them (default 0: none).
	StaleWhileRevalidate time.Duration `yaml:"stale_while_revalidate"`
	StaleIfError         time.Duration `yaml:"stale_if_error"`
	// LockTimeout bounds how long a request waits for another request's
	// fetch of the same key (coalescing) before it asks the origin itself,
	// uncached, as nginx's proxy_cache_lock_timeout (0: 5s).
	LockTimeout time.Duration `yaml:"lock_timeout"`
	// StoreSetCookie stores responses carrying Set-Cookie (without the
	// cookie). Default false: such responses are not stored, so no user's
	// session cookie is ever served to another.
	StoreSetCookie bool `yaml:"store_set_cookie"`
	// Compress serves brotli, zstd or gzip variants of compressible
	// cached responses (default true).
	Compress *bool `yaml:"compress"`
}

// CacheBypass selects requests that skip the cache.
type CacheBypass struct {
	// Paths are path prefixes ("/admin/").
	Paths []string `yaml:"paths"`
	// Cookies are cookie names whose presence skips the cache.
	Cookies []string `yaml:"cookies"`
}

// CacheQuery says how the query string enters the cache key.
type CacheQuery struct {
	// Sort orders parameters, so ?a=1&b=2 and ?b=2&a=1 share an entry.
	Sort bool `yaml:"sort"`
	// Ignore lists parameters left out of the key (utm_source, ...).
	Ignore []string `yaml:"ignore"`
}

// NodeCache configures the cache storage of a node, shared by its zones.
type NodeCache struct {
	// Memory is the in-memory budget ("256MiB", the default).
	Memory string `yaml:"memory"`
	// Disk turns on the disk tier.
	Disk CacheDisk `yaml:"disk"`
}

// CacheDisk configures the cache's disk tier; it is on when Size is set.
type CacheDisk struct {
	// Path is the directory ("" = DataDir/cache).
	Path string `yaml:"path"`
	// Size is the disk budget ("10GiB").
	Size string `yaml:"size"`
}

// RateLimit configures a per-client rate limit for a zone.
type RateLimit struct {
	Requests int           `yaml:"requests"`
	Per      time.Duration `yaml:"per"`
	Burst    int           `yaml:"burst"`
	// Rules are further limits keyed by header, path prefix or a
	// combination, each with one or more rates (see ratelimit.go). (H12)
	Rules []RateLimitRule `yaml:"rules"`
}

// WAF configures the Core Rule Set for a zone. The fields after Paranoia,
// their defaults and their security effects are documented in waf.go
// (owned by the WAF engineer).
type WAF struct {
	Mode     string `yaml:"mode"`     // off (default) | detect | block
	Paranoia int    `yaml:"paranoia"` // 1-4, default 1
	// AnomalyThreshold is the CRS inbound anomaly score that blocks
	// (default 5: one critical rule).
	AnomalyThreshold int `yaml:"anomaly_threshold"`
	// Exclusions turn rules off by id, path prefix and argument name.
	Exclusions []WAFExclusion `yaml:"exclusions"`
	// Apps names CRS application exclusion packages (drupal, wordpress,
	// nextcloud, dokuwiki, cpanel, xenforo; see waf.go and
	// internal/waf/apps).
	Apps []string `yaml:"apps"`
	// BodyLimit is how many request body bytes are inspected (default
	// 128 KiB); the rest streams to the origin uninspected.
	BodyLimit int64 `yaml:"body_limit"`
	// Response turns on response inspection (default false): the CRS
	// response rules over the origin's status, headers and the first
	// 512 KiB of text bodies, held back until inspected (internal/waf).
	Response bool `yaml:"response"`
	// Skip lists static assets whose GET/HEAD requests are not inspected.
	Skip WAFSkip `yaml:"skip"`
	// Limits bound the arguments a request may carry into the WAF
	// (count and sizes, refused before Coraza parses them; waf.go).
	Limits WAFLimits `yaml:"limits"`
}
