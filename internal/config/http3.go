package config

import (
	"strconv"
	"strings"
)

// QUIC tunes the HTTP/3 listener (listen.http3):
//
//	quic:
//	  retry_above: 200   # new QUIC handshakes per second over which every new client must prove its address (Retry)
//	  max_streams: 100   # concurrent request streams per QUIC connection
//	  early_data: true   # accept 0-RTT requests of safe methods
//
// Per-address connection caps are limits.max_conns_per_ip and
// limits.max_conns, shared with the TCP listeners.
type QUIC struct {
	// RetryAbove is the rate of new handshakes per second (over the
	// whole node) above which QUIC address validation is switched on: a
	// client without a valid token is sent a Retry and must echo it
	// from its real address before the server keeps any state for it,
	// so spoofed-source floods cost the server one stateless packet each.
	// Retry is also on while any zone is under attack. 0 means always.
	// Default 200.
	RetryAbove int `yaml:"retry_above"`
	// MaxStreams caps the concurrent request streams of one QUIC
	// connection (as HTTP/2's 250 streams per connection). Default 100.
	MaxStreams int `yaml:"max_streams"`
	// EarlyData accepts requests sent in 0-RTT early data (replayable by
	// an attacker who captured them). Only GET, HEAD and OPTIONS are ever
	// served from early data, and none in a zone with access rules, rate
	// limits or a challenge: those get 425 Too Early and the client
	// retries after the handshake (RFC 8470). Default true.
	EarlyData *bool `yaml:"early_data"`
}

// Defaults of the quic section.
const (
	DefaultQUICRetryAbove = 200
	DefaultQUICMaxStreams = 100
)

func (q *QUIC) applyDefaults(unset func(string) bool) {
	if unset("quic.retry_above") {
		q.RetryAbove = DefaultQUICRetryAbove
	}
	if unset("quic.max_streams") {
		q.MaxStreams = DefaultQUICMaxStreams
	}
	if q.EarlyData == nil {
		t := true
		q.EarlyData = &t
	}
}

// EarlyDataOrDefault reports whether 0-RTT is accepted (default true).
func (q QUIC) EarlyDataOrDefault() bool { return q.EarlyData == nil || *q.EarlyData }

func (v *validator) quic(c *Config) {
	q := &c.QUIC
	if q.RetryAbove < 0 {
		v.errorf("quic.retry_above", "must not be negative, got %d (0 means Retry always)", q.RetryAbove)
	}
	if q.MaxStreams < 1 || q.MaxStreams > 1000 {
		v.errorf("quic.max_streams", "must be from 1 to 1000, got %d", q.MaxStreams)
	}
}

// http3Listen checks listen.http3: a host:port like the others, with
// certificates to serve (the HTTPS listener's). It is a UDP port, so it
// may (and by default does) share the HTTPS address.
func (v *validator) http3Listen(c *Config) {
	a := c.Listen.HTTP3
	if a == "" {
		return
	}
	if err := checkListenAddr(a); err != nil {
		v.errorf("listen.http3", "%v", err)
		return
	}
	if c.Listen.HTTPS == "" {
		v.errorf("listen.http3", "set, but listen.https is off: HTTP/3 is announced (Alt-Svc) and served with the HTTPS listener's certificates")
	}
}

// HSTS is a zone's Strict-Transport-Security policy (RFC 6797):
//
//	hsts: {max_age: 31536000, include_subdomains: true, preload: false}
//
// It is sent on every HTTPS and HTTP/3 response of the zone (the edge's
// own answers included) and never over plain HTTP, where a browser must
// ignore it. MaxAge 0 (the default) sends nothing.
type HSTS struct {
	// MaxAge is how long, in seconds, browsers keep using HTTPS only.
	MaxAge int64 `yaml:"max_age"`
	// IncludeSubdomains extends the policy to every subdomain.
	IncludeSubdomains bool `yaml:"include_subdomains"`
	// Preload asks to be put on the browsers' preload lists; it needs
	// include_subdomains and a max_age of at least a year
	// (hstspreload.org).
	Preload bool `yaml:"preload"`
}

// hstsPreloadMinAge is hstspreload.org's minimum max-age: one year.
const hstsPreloadMinAge = 31536000

// Header returns the Strict-Transport-Security value, or "" when off.
func (h HSTS) Header() string {
	if h.MaxAge <= 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("max-age=")
	b.WriteString(strconv.FormatInt(h.MaxAge, 10))
	if h.IncludeSubdomains {
		b.WriteString("; includeSubDomains")
	}
	if h.Preload {
		b.WriteString("; preload")
	}
	return b.String()
}

func (v *validator) hsts(prefix string, h *HSTS) {
	if h.MaxAge < 0 {
		v.errorf(prefix+".max_age", "must not be negative, got %d", h.MaxAge)
		return
	}
	if h.MaxAge == 0 && (h.IncludeSubdomains || h.Preload) {
		v.errorf(prefix+".max_age", "required (seconds) when include_subdomains or preload is set")
		return
	}
	if h.Preload {
		if !h.IncludeSubdomains {
			v.errorf(prefix+".preload", "needs include_subdomains: true (hstspreload.org)")
		}
		if h.MaxAge < hstsPreloadMinAge {
			v.errorf(prefix+".preload", "needs max_age of at least %d (one year), got %d", hstsPreloadMinAge, h.MaxAge)
		}
	}
}
