package proxy

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/rampart-edge/rampart/internal/reqctx"
)

// hopHeaders are the hop-by-hop headers of RFC 9110 section 7.6.1 that are
// never forwarded (Te is kept as "trailers" only; Upgrade only on upgrade
// requests, which take the http.Transport path).
var hopHeaders = map[string]bool{
	"Connection":          true,
	"Keep-Alive":          true,
	"Proxy-Connection":    true,
	"Proxy-Authenticate":  true,
	"Proxy-Authorization": true,
	"Te":                  true,
	"Trailer":             true,
	"Transfer-Encoding":   true,
	"Upgrade":             true,
}

// forwardingHeaders are rewritten by the proxy itself.
var forwardingHeaders = map[string]bool{
	"X-Forwarded-For":   true,
	"X-Forwarded-Proto": true,
	"X-Forwarded-Host":  true,
	"Forwarded":         true,
}

// clientIPHeaders are request headers in which proxies tell an origin who
// the client is, or which host, port, scheme or URL it asked for, and which
// origins and their frameworks believe (X-Real-IP, Cloudflare's,
// Akamai's, Fastly's, Azure's, Envoy's, Symfony's and Laravel's
// X-Forwarded-Port/-Prefix, IIS's X-Original-URL, ...). They are passed on
// only when the TCP peer is a trusted proxy (reqctx.Info.PeerTrusted);
// from anyone else they are dropped, so a client cannot tell the origin
// it is someone else. X-Real-IP is always replaced by the client address
// the edge decided on.
var clientIPHeaders = map[string]bool{
	"True-Client-Ip":           true,
	"Cf-Connecting-Ip":         true,
	"Cf-Connecting-Ipv6":       true,
	"Cf-Pseudo-Ipv4":           true,
	"X-Client-Ip":              true,
	"X-Cluster-Client-Ip":      true,
	"Fastly-Client-Ip":         true,
	"Client-Ip":                true,
	"X-Original-Forwarded-For": true,
	"X-Forwarded":              true,
	"Forwarded-For":            true,
	"X-Proxyuser-Ip":           true,
	"X-Originating-Ip":         true,
	"X-Remote-Ip":              true,
	"X-Remote-Addr":            true,
	"X-Envoy-External-Address": true,
	"X-Azure-Clientip":         true,
	"X-Azure-Socketip":         true,
	"X-Appengine-User-Ip":      true,
	"X-Forwarded-Server":       true,
	"X-Forwarded-Port":         true,
	"X-Forwarded-Scheme":       true,
	"X-Forwarded-Ssl":          true,
	"X-Forwarded-Prefix":       true,
	"X-Forwarded-Uri":          true,
	"X-Forwarded-Path":         true,
	"X-Original-Host":          true,
	"X-Host":                   true,
	"X-Http-Host-Override":     true,
	"Front-End-Https":          true,
	"X-Url-Scheme":             true,
	"X-Original-Url":           true,
	"X-Rewrite-Url":            true,
}

// realIPHeader is always written by the proxy: the client address the edge
// decided on.
const realIPHeader = "X-Real-Ip"

// underscoreAlias reports whether k, a header name with an underscore, is
// an underscore spelling of a forwarding or client-IP header or of the
// request id ("X_Forwarded_For", "X-Real_IP", "Rampart_Request_Id"): CGI, PHP, WSGI and Rack turn '-' and
// '_' alike into '_', so the origin would read it as the real one. Such a
// header is never forwarded.
func underscoreAlias(k string) bool {
	if len(k) > 64 {
		return false // longer than any protected name
	}
	var buf [64]byte
	b := buf[:len(k)]
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c == '_' {
			c = '-'
		}
		b[i] = c
	}
	n := http.CanonicalHeaderKey(string(b))
	return clientIPHeaders[n] || forwardingHeaders[n] || n == realIPHeader || n == "Rampart-Request-Id"
}

// isUnderscoreAlias reports whether k has an underscore and is an
// underscore spelling of a forwarding or client-IP header; the check of
// the lean path's header loop, which costs a byte scan for other names.
func isUnderscoreAlias(k string) bool {
	return strings.IndexByte(k, '_') >= 0 && underscoreAlias(k)
}

// dropFromClient reports whether the request header k (canonical) is not
// passed to the origin for a request whose TCP peer is trusted or not:
// the client-IP headers from untrusted peers, and underscore aliases of
// the forwarding headers from anyone. (Hop-by-hop and forwarding headers
// are handled by the callers.)
func dropFromClient(k string, trusted bool) bool {
	if clientIPHeaders[k] {
		return !trusted
	}
	return isUnderscoreAlias(k)
}

// forwardHost returns the host the origin is told about: the canonical
// host the edge decided on (reqctx.Info.Host), or r.Host without an edge.
func forwardHost(r *http.Request, info *reqctx.Info) string {
	if info != nil && info.Host != "" {
		return info.Host
	}
	return r.Host
}

// connectionListed reports whether name is listed as a token in the
// Connection header values conn (case-insensitive).
func connectionListed(conn []string, name string) bool {
	for _, v := range conn {
		for v != "" {
			var tok string
			tok, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(tok), name) {
				return true
			}
		}
	}
	return false
}

// peerAddr returns the TCP peer's address from r.RemoteAddr.
func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err == nil {
		return ap.Addr().Unmap()
	}
	a, err := netip.ParseAddr(r.RemoteAddr)
	if err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}

// appendForwarding appends the X-Forwarded-For, X-Forwarded-Proto,
// X-Forwarded-Host, Forwarded (RFC 7239) and X-Real-IP header lines for r
// to dst, each ending in CRLF. Incoming X-Forwarded-For, X-Forwarded-Proto
// and Forwarded values are kept and appended to only when the TCP peer is
// a trusted proxy (info.PeerTrusted); otherwise they are replaced, so a
// client cannot forge its address to the origin. X-Forwarded-Host and
// Forwarded's host= are always the host the edge routed, checked and
// cached the request by (forwardHost), and X-Real-IP the client address
// it decided on: even a trusted proxy may pass a client's value through.
func appendForwarding(dst []byte, r *http.Request, info *reqctx.Info) []byte {
	trusted := info != nil && info.PeerTrusted
	tls := r.TLS != nil || (info != nil && info.TLS)
	proto := "http"
	if tls {
		proto = "https"
	}
	// The address this hop adds: the TCP peer. Untrusted, it is also the
	// client; the edge's ClientIP is preferred then.
	var addr netip.Addr
	if !trusted && info != nil && info.ClientIP.IsValid() {
		addr = info.ClientIP.Unmap()
	} else {
		addr = peerAddr(r)
	}

	dst = append(dst, "X-Forwarded-For: "...)
	if trusted {
		for _, v := range r.Header["X-Forwarded-For"] {
			dst = append(dst, v...)
			dst = append(dst, ", "...)
		}
	}
	dst = appendAddr(dst, addr)
	dst = append(dst, "\r\n"...)

	dst = append(dst, "X-Forwarded-Proto: "...)
	if v := r.Header["X-Forwarded-Proto"]; trusted && len(v) > 0 {
		dst = append(dst, v[0]...)
	} else {
		dst = append(dst, proto...)
	}
	dst = append(dst, "\r\n"...)

	host := forwardHost(r, info)
	if host != "" {
		dst = append(dst, "X-Forwarded-Host: "...)
		dst = append(dst, host...)
		dst = append(dst, "\r\n"...)
	}

	dst = append(dst, "X-Real-Ip: "...)
	if info != nil && info.ClientIP.IsValid() {
		dst = info.ClientIP.Unmap().AppendTo(dst)
	} else {
		dst = appendAddr(dst, peerAddr(r))
	}
	dst = append(dst, "\r\n"...)

	dst = append(dst, "Forwarded: "...)
	if trusted {
		for _, v := range r.Header["Forwarded"] {
			dst = append(dst, v...)
			dst = append(dst, ", "...)
		}
	}
	dst = append(dst, "for="...)
	if !addr.IsValid() {
		dst = append(dst, "unknown"...)
	} else if addr.Is6() {
		dst = append(dst, `"[`...)
		dst = addr.AppendTo(dst)
		dst = append(dst, `]"`...)
	} else {
		dst = addr.AppendTo(dst)
	}
	if host != "" {
		dst = append(dst, `;host="`...)
		dst = appendQuotedContent(dst, host)
		dst = append(dst, '"')
	}
	dst = append(dst, ";proto="...)
	dst = append(dst, proto...)
	dst = append(dst, "\r\n"...)
	return dst
}

// appendAddr appends a, or "unknown" when a is not valid.
func appendAddr(dst []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(dst, "unknown"...)
	}
	return a.AppendTo(dst)
}

// appendQuotedContent appends s escaped for use inside a quoted-string.
func appendQuotedContent(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return dst
}

// setForwarding replaces the forwarding headers of out with the values
// appendForwarding computes for in, and drops the client-IP headers an
// untrusted client sent (dropFromClient). It is the http.Header form used by the
// http.Transport path (upgrades, https origins, request bodies).
func setForwarding(out http.Header, in *http.Request, info *reqctx.Info) {
	b := appendForwarding(make([]byte, 0, 256), in, info)
	for k := range forwardingHeaders {
		delete(out, k)
	}
	trusted := info != nil && info.PeerTrusted
	for k := range out {
		if dropFromClient(k, trusted) {
			delete(out, k)
		}
	}
	for len(b) > 0 {
		var line []byte
		i := strings.Index(string(b), "\r\n")
		line, b = b[:i], b[i+2:]
		k, v, _ := strings.Cut(string(line), ": ")
		out[k] = []string{v}
	}
}
