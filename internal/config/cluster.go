package config

import (
	"net/url"
	"strings"
	"time"
)

// DefaultClusterPoll is the default of cluster.poll.
const DefaultClusterPoll = time.Second

// cluster validates public_url, cluster.poll and cluster.node_id, and
// trims public_url's trailing slash.
func (v *validator) cluster(c *Config) {
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			v.errorf("public_url", "%q is not an http(s) URL", c.PublicURL)
		case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			v.errorf("public_url", "%q must be a base URL without user, query or fragment", c.PublicURL)
		default:
			c.PublicURL = strings.TrimRight(c.PublicURL, "/")
		}
	}
	if c.Cluster.Poll != 0 && (c.Cluster.Poll < 100*time.Millisecond || c.Cluster.Poll > time.Hour) {
		v.errorf("cluster.poll", "must be between 100ms and 1h, got %s", c.Cluster.Poll)
	}
	for _, r := range c.Cluster.NodeID {
		if r <= ' ' || r == 0x7f || len(c.Cluster.NodeID) > 64 {
			v.errorf("cluster.node_id", "must be at most 64 printable characters without spaces")
			break
		}
	}
}

// LinkBase is the base URL of the links the edge shows: public_url, or
// compliance.blocked_by_url, or "" (the caller falls back to the admin
// listener).
func (c *Config) LinkBase() string {
	if c.PublicURL != "" {
		return c.PublicURL
	}
	return c.Compliance.BlockedByURL
}
