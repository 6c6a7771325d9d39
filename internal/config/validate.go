package config

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/country"
)

// validator collects the problems of one config with their lines.
type validator struct {
	file string
	src  *source
	errs Errors
}

func (v *validator) errorf(field, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.file, Line: v.src.line(field), Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Validate checks a config that already has its defaults and returns every
// problem found as Errors (nil when the config is valid). Besides values
// out of range, it checks that certificate, CA and list files exist and are
// readable, and that no host or alias is claimed by two zones. It may be
// called again after the config is changed in code; lines then still point
// into the original file.
//
// Validate also canonicalises in place what it checks, so that every
// package sees one spelling: zone hosts, aliases and tls.acme.hosts become
// CanonicalHost forms ("Bücher.Example." → "xn--bcher-kva.example") and
// embargoed_regions upper case.
func (c *Config) Validate() error {
	v := &validator{file: c.Path, src: c.src}
	v.listen(c)
	if c.DataDir == "" {
		v.errorf("data_dir", "must not be empty")
	}
	if c.Store != "" {
		v.url("store", c.Store, "postgres", "postgresql")
	}
	if c.Cluster.Redis != "" {
		v.url("cluster.redis", c.Cluster.Redis, "redis", "rediss")
	}
	v.cluster(c)
	for i, p := range c.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			v.errorf(fmt.Sprintf("trusted_proxies[%d]", i), "%v", err)
		}
	}
	v.timeouts(&c.Timeouts)
	v.oneOf("log.format", c.Log.Format, "json", "combined", "off")
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.compliance(&c.Compliance)
	v.nodeCache(c)                 // cache.go
	v.nodeWAF(c)                   // waf.go
	v.protection(c)                // access.go (H12)
	v.quic(c)                      // http3.go
	claimed := map[string]string{} // canonical host → field that claimed it
	for i := range c.Zones {
		v.zone(zonePath(i), &c.Zones[i], claimed)
	}
	v.tls(c, claimed)
	if len(v.errs) == 0 {
		return nil
	}
	return sortErrors(v.errs)
}

// Validate checks one zone on its own (for zones from the admin API); field
// paths in the errors are relative to the zone ("origins[0]"). Like
// Config.Validate it canonicalises the host and aliases in place. It does not
// know about other zones, so duplicate hosts across zones are left to the
// caller (zone.NewTable reports them).
func (z *Zone) Validate() error {
	v := &validator{}
	v.zone("", z, map[string]string{})
	if len(v.errs) == 0 {
		return nil
	}
	return v.errs
}

func join(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + "." + field
}

func (v *validator) listen(c *Config) {
	addrs := []struct{ field, addr string }{
		{"listen.http", c.Listen.HTTP},
		{"listen.https", c.Listen.HTTPS},
		{"listen.admin", c.Listen.Admin},
	}
	seen := map[string]string{}
	v.http3Listen(c) // http3.go: UDP, so it may share the HTTPS address
	for _, a := range addrs {
		if a.addr == "" {
			continue
		}
		if err := checkListenAddr(a.addr); err != nil {
			v.errorf(a.field, "%v", err)
			continue
		}
		if prev, ok := seen[a.addr]; ok {
			v.errorf(a.field, "same address %q as %s", a.addr, prev)
		}
		seen[a.addr] = a.field
	}
	v.oneOf("listen.server", c.Listen.Server, ServerRampart, ServerNetHTTP)
	if c.Listen.HTTPS != "" && len(c.TLS.Certificates) == 0 && c.TLS.ACME.Email == "" {
		v.errorf("listen.https", "set, but tls has neither certificates nor an acme email to serve with")
	}
}

// checkListenAddr accepts "host:port" with port 1-65535, where host is an IP
// address, a host name, or empty (":8080", all interfaces).
func checkListenAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("not a host:port address: %q (write \"127.0.0.1:8080\", or \":8080\" for all interfaces)", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q in %q is not a number from 1 to 65535", port, addr)
	}
	if host == "" {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if _, err := CanonicalHost(host); err != nil || strings.HasPrefix(host, "*") {
		return fmt.Errorf("host %q in %q is neither an IP address nor a host name", host, addr)
	}
	return nil
}

// url checks a service URL: one of schemes, with a host.
func (v *validator) url(field, raw string, schemes ...string) {
	u, err := url.Parse(raw)
	if err != nil {
		v.errorf(field, "not a URL: %v", redactURLError(err))
		return
	}
	ok := false
	for _, s := range schemes {
		if u.Scheme == s {
			ok = true
		}
	}
	if !ok {
		v.errorf(field, "want a %s:// URL, got scheme %q", strings.Join(schemes, ":// or "), u.Scheme)
		return
	}
	if u.Host == "" && u.Scheme != "postgres" && u.Scheme != "postgresql" {
		v.errorf(field, "URL has no host")
	}
}

// redactURLError keeps passwords in store URLs out of error messages.
func redactURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("not a CIDR or IP address: %q", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("not a CIDR or IP address: %q", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// TrustedProxyPrefixes returns trusted_proxies parsed: a bare address
// becomes a one-address prefix (/32 or /128) and CIDRs are masked
// ("10.1.2.3/8" is 10.0.0.0/8). Entries that do not parse are skipped;
// Validate reports them, so a validated config has none.
func (c *Config) TrustedProxyPrefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(c.TrustedProxies))
	for _, s := range c.TrustedProxies {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func (v *validator) timeouts(t *Timeouts) {
	ds := []struct {
		field string
		d     time.Duration
	}{
		{"timeouts.read_header", t.ReadHeader},
		{"timeouts.read", t.Read},
		{"timeouts.write", t.Write},
		{"timeouts.idle", t.Idle},
		{"timeouts.dial", t.Dial},
		{"timeouts.response_header", t.ResponseHeader},
		{"timeouts.origin_idle", t.OriginIdle},
		{"timeouts.shutdown", t.Shutdown},
		{"timeouts.store", t.Store},
	}
	for _, d := range ds {
		if d.d < 0 {
			v.errorf(d.field, "must not be negative, got %s", d.d)
		}
	}
	if t.MaxHeaderBytes < 0 {
		v.errorf("timeouts.max_header_bytes", "must not be negative, got %d", t.MaxHeaderBytes)
	}
}

func (v *validator) oneOf(field, val string, allowed ...string) bool {
	for _, a := range allowed {
		if val == a {
			return true
		}
	}
	v.errorf(field, "%q is not one of %s", val, strings.Join(allowed, ", "))
	return false
}

func (v *validator) compliance(c *Compliance) {
	if !(c.Threshold > 0 && c.Threshold <= 1) {
		v.errorf("compliance.threshold", "must be above 0 and at most 1, got %v", c.Threshold)
	}
	for i, r := range c.EmbargoedRegions {
		up := strings.ToUpper(r)
		if !country.Valid(up) {
			v.errorf(fmt.Sprintf("compliance.embargoed_regions[%d]", i), "%q is not an ISO 3166-1 alpha-2 country code", r)
			continue
		}
		c.EmbargoedRegions[i] = up
	}
	for i, p := range c.Lists {
		field := fmt.Sprintf("compliance.lists[%d]", i)
		if p == "" {
			v.errorf(field, "empty path")
			continue
		}
		if _, err := os.Stat(p); err != nil {
			v.errorf(field, "cannot read list %s: %v", p, pathErr(err))
		}
	}
	v.complianceDesk(c) // validate_compliance.go (H14)
	v.feeds(c)          // feeds.go
}

// pathErr drops the path and operation from an *os.PathError, which the
// message already names.
func pathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// readable checks that path is a regular file that can be opened.
func (v *validator) readable(field, path, what string) {
	if path == "" {
		v.errorf(field, "missing %s file", what)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		v.errorf(field, "cannot read %s file %s: %v", what, path, pathErr(err))
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		v.errorf(field, "cannot read %s file %s: %v", what, path, pathErr(err))
		return
	}
	if fi.IsDir() {
		v.errorf(field, "%s file %s is a directory", what, path)
		return
	}
	var b [1]byte
	if _, err := f.Read(b[:]); err != nil {
		v.errorf(field, "cannot read %s file %s: %v", what, path, pathErr(err))
	}
}

func (v *validator) tls(c *Config, claimed map[string]string) {
	for i, cert := range c.TLS.Certificates {
		n := len(v.errs)
		v.readable(fmt.Sprintf("tls.certificates[%d].cert", i), cert.Cert, "certificate")
		v.readable(fmt.Sprintf("tls.certificates[%d].key", i), cert.Key, "key")
		if len(v.errs) == n {
			// Catch a wrong or mismatched file now rather than at start.
			if _, err := tls.LoadX509KeyPair(cert.Cert, cert.Key); err != nil {
				v.errorf(fmt.Sprintf("tls.certificates[%d]", i), "loading %s and %s: %v", cert.Cert, cert.Key, err)
			}
		}
	}
	a := &c.TLS.ACME
	if a.Email != "" {
		at := strings.LastIndexByte(a.Email, '@')
		if at < 1 || at == len(a.Email)-1 || strings.ContainsAny(a.Email, " \t\r\n<>") {
			v.errorf("tls.acme.email", "not an email address: %q", a.Email)
		}
	}
	if a.Directory != "" {
		if u, err := url.Parse(a.Directory); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			v.errorf("tls.acme.directory", "not an http(s) URL: %q", a.Directory)
		}
	}
	if a.CARoot != "" {
		v.readable("tls.acme.ca_root", a.CARoot, "CA certificate")
	}
	if (a.Directory != "" || a.CARoot != "" || len(a.Hosts) > 0) && a.Email == "" {
		v.errorf("tls.acme.email", "required when tls.acme is configured")
	}
	for i, h := range a.Hosts {
		field := fmt.Sprintf("tls.acme.hosts[%d]", i)
		ch, err := CanonicalHost(h)
		if err != nil {
			v.errorf(field, "%v", err)
			continue
		}
		a.Hosts[i] = ch
		if strings.HasPrefix(ch, "*.") {
			v.errorf(field, "%q: ACME certificates are issued by HTTP challenge, which cannot prove a wildcard", h)
			continue
		}
		if _, ok := claimed[ch]; !ok {
			v.errorf(field, "%q is not the host or an alias of any zone", h)
		}
	}
}

func (v *validator) zone(prefix string, z *Zone, claimed map[string]string) {
	claim := func(field string, host *string) {
		if *host == "" && field == join(prefix, "host") {
			v.errorf(field, "required")
			return
		}
		ch, err := CanonicalHost(*host)
		if err != nil {
			v.errorf(field, "%v", err)
			return
		}
		*host = ch
		if prev, ok := claimed[ch]; ok {
			if l := v.src.line(prev); l > 0 && v.file != "" {
				v.errorf(field, "host %q is already claimed by %s (line %d)", ch, prev, l)
			} else {
				v.errorf(field, "host %q is already claimed by %s", ch, prev)
			}
			return
		}
		claimed[ch] = field
	}
	claim(join(prefix, "host"), &z.Host)
	for i := range z.Aliases {
		claim(join(prefix, fmt.Sprintf("aliases[%d]", i)), &z.Aliases[i])
	}
	if len(z.Origins) == 0 {
		v.errorf(join(prefix, "origins"), "at least one origin is required")
	}
	for i, o := range z.Origins {
		if err := checkOrigin(o); err != nil {
			v.errorf(join(prefix, fmt.Sprintf("origins[%d]", i)), "%v", err)
		}
	}
	v.oneOf(join(prefix, "load_balancing"), z.LoadBalancing, "round_robin", "least_conn", "ip_hash")
	if z.Retries < 0 {
		v.errorf(join(prefix, "retries"), "must not be negative, got %d", z.Retries)
	}
	h := &z.HealthCheck
	hp := join(prefix, "health_check")
	if h.Path != "" && !strings.HasPrefix(h.Path, "/") {
		v.errorf(hp+".path", "must start with \"/\", got %q", h.Path)
	}
	if h.Interval <= 0 {
		v.errorf(hp+".interval", "must be positive, got %s", h.Interval)
	}
	if h.Timeout <= 0 {
		v.errorf(hp+".timeout", "must be positive, got %s", h.Timeout)
	}
	if h.Healthy < 1 {
		v.errorf(hp+".healthy", "must be at least 1, got %d", h.Healthy)
	}
	if h.Unhealthy < 1 {
		v.errorf(hp+".unhealthy", "must be at least 1, got %d", h.Unhealthy)
	}
	if h.MaxFails < 0 {
		v.errorf(hp+".max_fails", "must not be negative, got %d", h.MaxFails)
	}
	if h.EjectFor < 0 {
		v.errorf(hp+".eject_for", "must not be negative, got %s", h.EjectFor)
	}
	r := &z.RateLimit
	rp := join(prefix, "rate_limit")
	if r.Requests != 0 || r.Per != 0 || r.Burst != 0 {
		if r.Requests <= 0 {
			v.errorf(rp+".requests", "must be positive when a rate limit is set, got %d", r.Requests)
		}
		if r.Per <= 0 {
			v.errorf(rp+".per", "must be a positive duration when a rate limit is set, got %s", r.Per)
		}
		if r.Burst < 0 {
			v.errorf(rp+".burst", "must not be negative, got %d", r.Burst)
		}
	}
	v.oneOf(join(prefix, "under_attack"), z.UnderAttack, "off", "on", "auto")
	v.waf(join(prefix, "waf"), &z.WAF)      // in waf.go
	v.zoneCache(prefix, &z.Cache)           // in cache.go
	v.accessRules(prefix, &z.Access)        // in access.go (H12)
	v.rateLimitRules(prefix, &z.RateLimit)  // in ratelimit.go (H12)
	v.challenge(prefix, &z.Challenge)       // in challenge.go (H12)
	v.challengeCookieDomain(prefix, z)      // in challenge.go
	v.originLimits(prefix, &z.OriginLimits) // in originlimits.go
	v.hsts(join(prefix, "hsts"), &z.HSTS)   // in http3.go
	if z.MaxBodySize < 0 {
		v.errorf(join(prefix, "max_body_size"), "must not be negative, got %d", z.MaxBodySize)
	}
}

// checkOrigin accepts http:// and https:// URLs with a host, an optional
// port 1-65535, and no user info, path (other than "/"), query or fragment.
// Messages show the URL with any password redacted.
func checkOrigin(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not an http(s) URL: %v", redactURLError(err))
	}
	shown := u.Redacted()
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("not an http(s) URL: %q", shown)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("not an http(s) URL: %q has no host", shown)
	}
	if u.User != nil {
		return fmt.Errorf("%q: user info in an origin URL is not supported", shown)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("%q: an origin is scheme://host[:port] with no path, query or fragment", shown)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: port %q is not a number from 1 to 65535", shown, p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return fmt.Errorf("%q: empty port", shown)
	}
	if _, err := netip.ParseAddr(u.Hostname()); err != nil {
		if _, err := CanonicalHost(u.Hostname()); err != nil || strings.Contains(u.Hostname(), "*") {
			return fmt.Errorf("%q: host %q is neither an IP address nor a host name", shown, u.Hostname())
		}
	}
	return nil
}
