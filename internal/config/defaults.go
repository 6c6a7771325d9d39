package config

import "time"

// Defaults that other packages may want to name.
const (
	// DefaultHTTPAddr is where plain HTTP listens when the config says
	// nothing: loopback only, so a fresh install exposes nothing.
	DefaultHTTPAddr = "127.0.0.1:8080"
	// DefaultHTTPSAddr is where HTTPS listens when certificates or ACME
	// are configured but listen.https is not set: loopback only.
	DefaultHTTPSAddr = "127.0.0.1:8443"
	// DefaultAdminAddr is where the admin API listens by default.
	DefaultAdminAddr = "127.0.0.1:9090"
	// DefaultDataDir is the data directory, relative to the working
	// directory, when data_dir is not set.
	DefaultDataDir = "./rampart-data"
	// DefaultThreshold is the minimum screening score reported as a match.
	DefaultThreshold = 0.90
	// DefaultMaxHeaderBytes bounds request headers (64 KiB).
	DefaultMaxHeaderBytes = 64 << 10
	// ServerRampart and ServerNetHTTP are the values of listen.server;
	// ServerRampart is the default.
	ServerRampart = "rampart"
	ServerNetHTTP = "net/http"
)

// Default returns the configuration used when a file sets nothing: loopback
// listeners for HTTP (127.0.0.1:8080) and the admin API (127.0.0.1:9090), no
// HTTPS, data in ./rampart-data, the embedded store, the bundled lists,
// screening threshold 0.90, JSON access logs and no zones.
func Default() *Config {
	c := &Config{}
	c.applyDefaults(nil)
	return c
}

// applyDefaults fills every field the file did not set. A number,
// duration or address the file sets explicitly, even to zero or null, keeps
// that value (so "listen: {http: ""}" turns the HTTP listener off and
// "retries: 0" means no retries); an empty name or mode (data_dir, formats,
// modes) means the default. src is nil for a
// config built in code, meaning nothing was set.
func (c *Config) applyDefaults(src *source) {
	unset := func(path string) bool { return !src.set(path) }
	if unset("listen.http") {
		c.Listen.HTTP = DefaultHTTPAddr
	}
	if unset("listen.admin") {
		c.Listen.Admin = DefaultAdminAddr
	}
	if unset("listen.https") && (len(c.TLS.Certificates) > 0 || c.TLS.ACME.Email != "") {
		c.Listen.HTTPS = DefaultHTTPSAddr
	}
	if unset("listen.http3") {
		c.Listen.HTTP3 = c.Listen.HTTPS
	}
	c.QUIC.applyDefaults(unset) // http3.go
	if unset("dashboard.traffic") {
		c.Dashboard.Traffic = true
	}
	if c.Listen.Server == "" {
		c.Listen.Server = ServerRampart
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	t := &c.Timeouts
	durations := []struct {
		path string
		v    *time.Duration
		def  time.Duration
	}{
		{"timeouts.read_header", &t.ReadHeader, 10 * time.Second},
		{"timeouts.read", &t.Read, 60 * time.Second},
		{"timeouts.write", &t.Write, 0},
		{"timeouts.idle", &t.Idle, 120 * time.Second},
		{"timeouts.dial", &t.Dial, 5 * time.Second},
		{"timeouts.response_header", &t.ResponseHeader, 30 * time.Second},
		{"timeouts.origin_idle", &t.OriginIdle, 90 * time.Second},
		{"timeouts.shutdown", &t.Shutdown, 30 * time.Second},
		{"timeouts.store", &t.Store, 5 * time.Second},
		{"cluster.poll", &c.Cluster.Poll, DefaultClusterPoll},
	}
	for _, d := range durations {
		if unset(d.path) {
			*d.v = d.def
		}
	}
	if unset("timeouts.max_header_bytes") {
		t.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.Log.Format == "" {
		c.Log.Format = "json"
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if unset("compliance.threshold") {
		c.Compliance.Threshold = DefaultThreshold
	}
	for i := range c.Zones {
		c.Zones[i].applyDefaults(i, src)
	}
}

// SetDefaults fills the zero-valued settings of a zone built in code (for
// example from the admin API) with the defaults a config file gets:
// load_balancing round_robin, retries 1, preserve_host true, health check
// interval 5s, timeout 2s, healthy 2, unhealthy 3, max_fails 3, eject_for
// 10s, under_attack off, waf mode off at paranoia 1, and with
// origin_limits.max_conns set a queue of 4 x max_conns and a queue timeout
// of 2s. In code an explicit
// zero cannot be told from a missing value, so a zero retries becomes 1.
func (z *Zone) SetDefaults() {
	z.applyDefaults(0, nil)
}

// applyDefaults fills the defaults of zones[zone] of the file src (nil
// for a zone built in code).
func (z *Zone) applyDefaults(zone int, src *source) {
	fields := src.zoneFields(zone)
	unset := func(field string) bool {
		_, ok := fields.lookup(field)
		return !ok
	}
	// In code (src nil) only zero values are replaced.
	zeroOr := func(field string, isZero bool) bool {
		if src == nil {
			return isZero
		}
		return unset(field)
	}
	if z.LoadBalancing == "" {
		z.LoadBalancing = "round_robin"
	}
	if zeroOr("retries", z.Retries == 0) {
		z.Retries = 1
	}
	if z.PreserveHost == nil {
		t := true
		z.PreserveHost = &t
	}
	h := &z.HealthCheck
	if zeroOr("health_check.interval", h.Interval == 0) {
		h.Interval = 5 * time.Second
	}
	if zeroOr("health_check.timeout", h.Timeout == 0) {
		h.Timeout = 2 * time.Second
	}
	if zeroOr("health_check.healthy", h.Healthy == 0) {
		h.Healthy = 2
	}
	if zeroOr("health_check.unhealthy", h.Unhealthy == 0) {
		h.Unhealthy = 3
	}
	if zeroOr("health_check.max_fails", h.MaxFails == 0) {
		h.MaxFails = 3
	}
	if zeroOr("health_check.eject_for", h.EjectFor == 0) {
		h.EjectFor = 10 * time.Second
	}
	if z.UnderAttack == "" {
		z.UnderAttack = "off"
	}
	if z.WAF.Mode == "" {
		z.WAF.Mode = "off"
	}
	if zeroOr("waf.paranoia", z.WAF.Paranoia == 0) {
		z.WAF.Paranoia = 1
	}
	z.OriginLimits.applyDefaults(zeroOr)
}

// PreserveHostOrDefault reports whether the client's Host is sent to the
// origin: the zone's preserve_host, or true when unset.
func (z *Zone) PreserveHostOrDefault() bool {
	return z.PreserveHost == nil || *z.PreserveHost
}
