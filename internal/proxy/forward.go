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
// X-Forwarded-Host and Forwarded (RFC 7239) header lines for r to dst, each
// ending in CRLF. Incoming values are kept and appended to only when the
// TCP peer is a trusted proxy (info.PeerTrusted); otherwise they are
// replaced, so a client cannot forge its address to the origin.
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

	if v := r.Header["X-Forwarded-Host"]; trusted && len(v) > 0 {
		dst = append(dst, "X-Forwarded-Host: "...)
		dst = append(dst, v[0]...)
		dst = append(dst, "\r\n"...)
	} else if r.Host != "" {
		dst = append(dst, "X-Forwarded-Host: "...)
		dst = append(dst, r.Host...)
		dst = append(dst, "\r\n"...)
	}

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
	if r.Host != "" {
		dst = append(dst, `;host="`...)
		dst = appendQuotedContent(dst, r.Host)
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
// appendForwarding computes for in. It is the http.Header form used by the
// http.Transport path (upgrades, https origins, request bodies).
func setForwarding(out http.Header, in *http.Request, info *reqctx.Info) {
	b := appendForwarding(make([]byte, 0, 256), in, info)
	for k := range forwardingHeaders {
		delete(out, k)
	}
	for len(b) > 0 {
		var line []byte
		i := strings.Index(string(b), "\r\n")
		line, b = b[:i], b[i+2:]
		k, v, _ := strings.Cut(string(line), ": ")
		out[k] = []string{v}
	}
}
