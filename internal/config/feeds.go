package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Feed is one official list publication fetched on a schedule:
//
//	compliance:
//	  feeds:
//	    - {source: ofac-sdn, url: "", interval: 1h}
//
// Every field but source may be left out.
type Feed struct {
	// Name identifies the feed in logs, metrics and `rampart lists fetch
	// NAME`; default the source.
	Name string `yaml:"name"`
	// Source is ofac-sdn, ofac-consolidated, un, uk or eu.
	Source string `yaml:"source"`
	// URL is the file's URL, or for a list published as several files
	// the folder the official file names are fetched from ("" = the
	// official publication URL, FeedDefaultURLs). HTTPS, except for
	// loopback addresses.
	URL string `yaml:"url"`
	// Interval between checks (default 1h, at least 1s), with up to 10%
	// jitter.
	Interval time.Duration `yaml:"interval"`
	// Timeout bounds one request (default 60s).
	Timeout time.Duration `yaml:"timeout"`
	// Retries after a failed request, with exponential backoff (default
	// 3; 0 is taken as the default, -1 means none and stays -1).
	Retries int `yaml:"retries"`
	// MaxSize caps one file in bytes (default 64 MiB).
	MaxSize int64 `yaml:"max_size"`
	// MinEntities is the floor below which a publication is implausible
	// (default per source: ofac-sdn 5000, ofac-consolidated 200, un 500,
	// uk 1000).
	MinEntities int `yaml:"min_entities"`
	// MaxAge: a feed whose newest publication is older is stale (default
	// 168h = 7 days); so is one whose last successful check is older than
	// 3 intervals.
	MaxAge time.Duration `yaml:"max_age"`
	// UserAgent of the requests (default "rampart/VERSION (+sanctions
	// list feed)").
	UserAgent string `yaml:"user_agent"`
}

// Feed sources.
const (
	FeedOFACSDN          = "ofac-sdn"
	FeedOFACConsolidated = "ofac-consolidated"
	FeedUN               = "un"
	FeedUK               = "uk"
	FeedEU               = "eu"
)

// FeedDefaultURLs are the official publication URLs. For the OFAC sets it
// is the Sanctions List Service folder the official file names are
// fetched from: SDN.CSV, ADD.CSV, ALT.CSV, SDN_COMMENTS.CSV (ofac-sdn);
// CONS_PRIM.CSV, CONS_ADD.CSV, CONS_ALT.CSV, CONS_COMMENTS.CSV
// (ofac-consolidated).
var FeedDefaultURLs = map[string]string{
	FeedOFACSDN:          "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/",
	FeedOFACConsolidated: "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/",
	FeedUN:               "https://scsanctions.un.org/resources/xml/en/consolidated.xml",
	FeedUK:               "https://sanctionslist.fcdo.gov.uk/docs/UK-Sanctions-List.xml",
	FeedEU:               "https://webgate.ec.europa.eu/fsd/fsf/public/files/xmlFullSanctionsList_1_1/content",
}

// Feed defaults.
const (
	DefaultFeedInterval = time.Hour
	DefaultFeedTimeout  = 60 * time.Second
	DefaultFeedRetries  = 3
	DefaultFeedMaxSize  = 64 << 20
	DefaultFeedMaxAge   = 7 * 24 * time.Hour
)

// DefaultFeedFloors are the default min_entities per source.
var DefaultFeedFloors = map[string]int{FeedOFACSDN: 5000, FeedOFACConsolidated: 200, FeedUN: 500, FeedUK: 1000}

// feeds validates and defaults compliance.feeds and
// compliance.max_removed_share.
func (v *validator) feeds(c *Compliance) {
	switch {
	case c.MaxRemovedShare == 0:
		c.MaxRemovedShare = 0.05
	case c.MaxRemovedShare < 0 || c.MaxRemovedShare > 1:
		v.errorf("compliance.max_removed_share", "must be above 0 and at most 1, got %v", c.MaxRemovedShare)
	}
	names := map[string]bool{}
	for i := range c.Feeds {
		f := &c.Feeds[i]
		field := fmt.Sprintf("compliance.feeds[%d]", i)
		switch f.Source {
		case FeedOFACSDN, FeedOFACConsolidated, FeedUN:
		case FeedUK:
			if f.URL == "" {
				v.errorf(field+".url", "the uk feed needs a url: rampart does not parse the FCDO's own format yet (no real published file to build the parser from); "+
					"give a folder serving subjects.csv and subject_names.csv, the format rampart reads")
			}
		case FeedEU:
			v.errorf(field+".source", "%s: not available yet: rampart parses a format only from a real published file, and none of this list is at hand", f.Source)
			continue
		case "":
			v.errorf(field+".source", "missing; one of %s, %s, %s, %s, %s", FeedOFACSDN, FeedOFACConsolidated, FeedUN, FeedUK, FeedEU)
			continue
		default:
			v.errorf(field+".source", "%q is not one of %s, %s, %s, %s, %s", f.Source, FeedOFACSDN, FeedOFACConsolidated, FeedUN, FeedUK, FeedEU)
			continue
		}
		if f.Name == "" {
			f.Name = f.Source
		}
		if names[f.Name] {
			v.errorf(field+".name", "%q is the name of another feed; give each feed of a source a name", f.Name)
		}
		names[f.Name] = true
		if f.URL == "" {
			f.URL = FeedDefaultURLs[f.Source]
		} else if err := FeedURLAllowed(f.URL); err != nil {
			v.errorf(field+".url", "%v", err)
		}
		switch {
		case f.Interval == 0:
			f.Interval = DefaultFeedInterval
		case f.Interval < time.Second:
			v.errorf(field+".interval", "must be at least 1s, got %s", f.Interval)
		}
		switch {
		case f.Timeout == 0:
			f.Timeout = DefaultFeedTimeout
		case f.Timeout < 10*time.Millisecond:
			v.errorf(field+".timeout", "must be at least 10ms, got %s", f.Timeout)
		}
		switch {
		case f.Retries == 0:
			f.Retries = DefaultFeedRetries
		case f.Retries == -1: // none; kept as -1 so that Validate stays idempotent
		case f.Retries < -1 || f.Retries > 10:
			v.errorf(field+".retries", "must be -1 (none) to 10, got %d", f.Retries)
		}
		switch {
		case f.MaxSize == 0:
			f.MaxSize = DefaultFeedMaxSize
		case f.MaxSize < 0 || f.MaxSize > 256<<20:
			v.errorf(field+".max_size", "must be positive and at most 268435456 (256 MiB), got %d", f.MaxSize)
		}
		switch {
		case f.MinEntities == 0:
			f.MinEntities = DefaultFeedFloors[f.Source]
		case f.MinEntities < 0:
			v.errorf(field+".min_entities", "must not be negative, got %d", f.MinEntities)
		}
		switch {
		case f.MaxAge == 0:
			f.MaxAge = DefaultFeedMaxAge
		case f.MaxAge < time.Second:
			v.errorf(field+".max_age", "must be at least 1s, got %s", f.MaxAge)
		}
		if strings.ContainsAny(f.UserAgent, "\r\n") {
			v.errorf(field+".user_agent", "must be one line")
		}
	}
}

// FeedURLAllowed checks a feed URL: https, or http to a loopback address
// (a test server, a local mirror on the same host).
func FeedURLAllowed(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopbackHost(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q: plain http is allowed only to a loopback address; use https", raw)
	}
	return fmt.Errorf("%q: scheme %q is not https", raw, u.Scheme)
}

// IsLoopbackHost reports whether host is localhost or a loopback IP.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
