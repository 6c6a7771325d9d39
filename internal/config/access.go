package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/rampart-edge/rampart/internal/country"
)

// GeoIP names the MaxMind-format (.mmdb) databases that map a client
// address to its country and autonomous system, for access rules on
// country and ASN and for compliance.embargoed_regions. Either path may
// name a combined database holding both. Both empty (the default) means no
// lookup: country and ASN rules then never match, and embargoed regions
// cannot be enforced (rampart logs a warning at every start and reload
// when embargoed_regions is set without a country database). The files
// are re-read when they change on disk.
type GeoIP struct {
	// CountryDB is a GeoIP2/GeoLite2-Country or City database (country.iso_code).
	CountryDB string `yaml:"country_db"`
	// ASNDB is a GeoLite2-ASN database (autonomous_system_number).
	ASNDB string `yaml:"asn_db"`
}

// Limits caps client connections at the node level. Zero (the default)
// means no cap. Over a cap, a new connection is closed as soon as it is
// accepted, before any byte is read, and counted in
// rampart_conn_rejected_total.
type Limits struct {
	// MaxConns caps the concurrent client connections of the node, over
	// every public listener.
	MaxConns int `yaml:"max_conns"`
	// MaxConnsPerIP caps the concurrent connections of one client
	// address (IPv6 by /64, so one host cannot escape the cap by using
	// its whole subnet).
	MaxConnsPerIP int `yaml:"max_conns_per_ip"`
}

// Access holds a zone's access rules. Each entry is an IP address
// ("192.0.2.7"), a CIDR ("2001:db8::/32"), a country ("country:RU", ISO
// 3166-1 alpha-2) or an autonomous system ("asn:64512"). A client that
// matches a Deny entry gets 403. When Allow is not empty the zone is in
// allow-list mode: a client that matches no Allow entry gets 403 as well.
// Deny wins over Allow. Both empty (the default): no rule.
type Access struct {
	Allow []string `yaml:"allow"`
	Deny  []string `yaml:"deny"`
}

// AccessRule is one parsed access entry: exactly one of Prefix, Country
// and ASN is set.
type AccessRule struct {
	Prefix  netip.Prefix // IP or CIDR, masked; a bare address is /32 or /128
	Country string       // ISO 3166-1 alpha-2, upper case
	ASN     uint32       // autonomous system number
}

// String returns the rule in its canonical config form.
func (r AccessRule) String() string {
	switch {
	case r.Country != "":
		return "country:" + r.Country
	case r.ASN != 0:
		return "asn:" + strconv.FormatUint(uint64(r.ASN), 10)
	default:
		return r.Prefix.String()
	}
}

// ParseAccessRule parses one access entry: "IP", "CIDR", "country:XX" or
// "asn:N" (N from 1 to 4294967295; an "AS" prefix is accepted). Keywords
// are case-insensitive and surrounding spaces are ignored.
func ParseAccessRule(s string) (AccessRule, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return AccessRule{}, errors.New("empty rule")
	}
	if k, v, ok := strings.Cut(t, ":"); ok && !strings.Contains(v, ":") && !strings.Contains(k, ".") {
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "country":
			c := strings.ToUpper(strings.TrimSpace(v))
			if !country.Valid(c) {
				return AccessRule{}, fmt.Errorf("%q: %q is not an ISO 3166-1 alpha-2 country code", s, strings.TrimSpace(v))
			}
			return AccessRule{Country: c}, nil
		case "asn":
			n := strings.TrimSpace(v)
			if len(n) > 2 && strings.EqualFold(n[:2], "AS") {
				n = n[2:]
			}
			u, err := strconv.ParseUint(n, 10, 32)
			if err != nil || u == 0 {
				return AccessRule{}, fmt.Errorf("%q: %q is not an AS number from 1 to 4294967295", s, strings.TrimSpace(v))
			}
			return AccessRule{ASN: uint32(u)}, nil
		}
	}
	p, err := parsePrefix(t)
	if err != nil {
		return AccessRule{}, fmt.Errorf("%q is not an IP address, CIDR, country:XX or asn:N", s)
	}
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0)).Masked()
	}
	return AccessRule{Prefix: p}, nil
}

// AccessRules parses a list of entries; it fails on the first bad one,
// naming its index.
func AccessRules(entries []string) ([]AccessRule, error) {
	out := make([]AccessRule, 0, len(entries))
	for i, e := range entries {
		r, err := ParseAccessRule(e)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// usesGeo reports whether any entry is a country or ASN rule.
func (a *Access) usesGeo() (country, asn bool) {
	for _, list := range [][]string{a.Allow, a.Deny} {
		for _, e := range list {
			if r, err := ParseAccessRule(e); err == nil {
				country = country || r.Country != ""
				asn = asn || r.ASN != 0
			}
		}
	}
	return country, asn
}

// accessRules validates a zone's access entries.
func (v *validator) accessRules(prefix string, a *Access) {
	for _, l := range []struct {
		name    string
		entries []string
	}{{"allow", a.Allow}, {"deny", a.Deny}} {
		for i, e := range l.entries {
			if _, err := ParseAccessRule(e); err != nil {
				v.errorf(join(prefix, fmt.Sprintf("access.%s[%d]", l.name, i)), "%v", err)
			}
		}
	}
}

// protection validates the node-level protection settings: geoip, limits,
// listen.proxy_protocol, and the geoip databases that country and ASN
// rules and embargoed regions need.
func (v *validator) protection(c *Config) {
	if c.GeoIP.CountryDB != "" {
		v.readable("geoip.country_db", c.GeoIP.CountryDB, "GeoIP country database")
	}
	if c.GeoIP.ASNDB != "" {
		v.readable("geoip.asn_db", c.GeoIP.ASNDB, "GeoIP ASN database")
	}
	hasDB := c.GeoIP.CountryDB != "" || c.GeoIP.ASNDB != ""
	for i := range c.Zones {
		ctry, asn := c.Zones[i].Access.usesGeo()
		if (ctry || asn) && !hasDB {
			v.errorf(zonePath(i)+".access", "country or asn rules need geoip.country_db or geoip.asn_db")
		}
	}
	if c.Limits.MaxConns < 0 {
		v.errorf("limits.max_conns", "must not be negative, got %d", c.Limits.MaxConns)
	}
	if c.Limits.MaxConnsPerIP < 0 {
		v.errorf("limits.max_conns_per_ip", "must not be negative, got %d", c.Limits.MaxConnsPerIP)
	}
	if c.Limits.MaxConns > 0 && c.Limits.MaxConnsPerIP > c.Limits.MaxConns {
		v.errorf("limits.max_conns_per_ip", "%d is above limits.max_conns (%d)", c.Limits.MaxConnsPerIP, c.Limits.MaxConns)
	}
	if c.Listen.ProxyProtocol && len(c.TrustedProxies) == 0 {
		v.errorf("listen.proxy_protocol", "on, but trusted_proxies is empty: PROXY headers are accepted only from trusted proxies")
	}
}
