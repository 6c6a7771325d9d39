package edge

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/rampart-edge/rampart/internal/reqctx"
)

// The request's host, validated and canonicalised once, before the zone
// lookup: what the zone is looked up by is what every phase, the cache key
// and the origin see (reqctx.Info.Host, Request.Host). A host that is not
// host[:port] gets 400 and no origin is contacted.
//
// Accepted: a DNS name of ASCII letters, digits, '-' and '_' in dot-
// separated labels of 1 to 63 bytes (253 bytes in all, one trailing dot
// allowed and removed), an IPv4 address in the same form, or an IPv6
// address in brackets (no zone); then optionally ':' and a port of 1 to 5
// digits, 1-65535. Anything else (userinfo, a second colon, an empty
// port, percent-encoding, spaces, non-ASCII: clients send IDNs in
// punycode) is refused.
//
// The canonical form is the name in lower case without the trailing dot,
// an IPv6 address in its canonical text form, and the port of the
// listener the request arrived on (http.LocalAddrContextKey) when the
// client named a port and the listener's is not the scheme's default (80,
// 443). The client's own port is never passed on: it could name anything.
// A request without a port stays without one, so that an edge reached
// through a port mapping (public 80 to a listener on 8080) still tells its
// origin the public name.

// maxHostHeader bounds a Host value: a 253-byte name, ':' and five digits.
const maxHostHeader = 253 + 1 + 5

var (
	errHostTooLong = errors.New("host longer than 259 bytes")
	errHostChars   = errors.New("host must be a DNS name, an IPv4 address or a bracketed IPv6 address, with an optional port")
	errHostLabel   = errors.New("host has an empty label or one longer than 63 bytes")
	errHostPort    = errors.New("host port must be 1 to 65535, in digits")
	errHostIPv6    = errors.New("host has a malformed IPv6 literal")
	errHostsDiffer = errors.New("the Host header and :authority name different hosts")
)

// hostByte marks the bytes of a DNS name or IPv4 address: letters,
// digits, '-', '_' and '.'.
var hostByte = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['-'], t['_'], t['.'] = true, true, true
	return t
}()

// canonicalHost validates raw (a Host header, an HTTP/2 :authority or an
// absolute-form authority) and returns its canonical form for a request
// on a TLS (tls) or plain listener whose local address is local (nil when
// unknown: the port is then dropped). It returns raw itself, without
// allocating, when raw is already canonical.
func canonicalHost(raw string, tls bool, local net.Addr) (string, error) {
	if len(raw) > maxHostHeader {
		return "", errHostTooLong
	}
	var name, port string
	ipv6 := false
	if len(raw) > 0 && raw[0] == '[' {
		end := -1
		for i := 1; i < len(raw); i++ {
			if raw[i] == ']' {
				end = i
				break
			}
		}
		if end < 0 {
			return "", errHostIPv6
		}
		name, ipv6 = raw[:end+1], true
		switch rest := raw[end+1:]; {
		case rest == "":
		case rest[0] == ':':
			port = rest[1:]
			if port == "" {
				return "", errHostPort
			}
		default:
			return "", errHostChars
		}
	} else {
		name = raw
		for i := 0; i < len(raw); i++ {
			c := raw[i]
			if c == ':' {
				name, port = raw[:i], raw[i+1:]
				if port == "" {
					return "", errHostPort
				}
				break
			}
			if !hostByte[c] {
				return "", errHostChars
			}
		}
	}
	p := 0
	if port != "" {
		if len(port) > 5 {
			return "", errHostPort
		}
		for i := 0; i < len(port); i++ {
			c := port[i]
			if c < '0' || c > '9' {
				if c == ':' || hostByte[c] {
					return "", errHostPort
				}
				return "", errHostChars
			}
			p = p*10 + int(c-'0')
		}
		if p < 1 || p > 65535 {
			return "", errHostPort
		}
	}

	canonName := name
	if ipv6 {
		lit := name[1 : len(name)-1]
		for i := 0; i < len(lit); i++ {
			if c := lit[i]; !(c == ':' || c == '.' || '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return "", errHostIPv6 // zones (%25eth0) included
			}
		}
		a, err := netip.ParseAddr(lit)
		if err != nil || !a.Is6() {
			return "", errHostIPv6
		}
		var buf [64]byte
		if b := a.AppendTo(buf[:0]); string(b) != lit {
			canonName = "[" + string(b) + "]"
		}
	} else {
		var ok, lower bool
		if canonName, ok, lower = checkName(name); !ok {
			return "", errHostLabel
		}
		if !lower {
			canonName = asciiLower(canonName)
		}
	}

	// The port: the listener's, when the client named one.
	listenPort := 0
	if port != "" {
		if ta, ok := local.(*net.TCPAddr); ok {
			listenPort = ta.Port
		}
		def := 80
		if tls {
			def = 443
		}
		if listenPort == def {
			listenPort = 0
		}
	}
	if canonName == name && listenPort == p && (port == "" || port[0] != '0') {
		return raw, nil // already canonical: no allocation
	}
	if listenPort == 0 {
		return canonName, nil
	}
	return canonName + ":" + strconv.Itoa(listenPort), nil
}

// checkName checks a DNS name or IPv4 address of hostByte bytes: labels
// of 1 to 63 bytes, 253 bytes in all, one trailing dot allowed. It returns
// the name without that dot and whether it has no upper-case letter.
func checkName(name string) (string, bool, bool) {
	if n := len(name); n > 1 && name[n-1] == '.' {
		name = name[:n-1]
	}
	if name == "" || len(name) > 253 {
		return "", false, false
	}
	lower, label := true, 0
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '.':
			if label == 0 {
				return "", false, false
			}
			label = 0
			continue
		case 'A' <= c && c <= 'Z':
			lower = false
		}
		if label++; label > 63 {
			return "", false, false
		}
	}
	if label == 0 {
		return "", false, false
	}
	return name, true, lower
}

// asciiLower returns s with ASCII letters in lower case.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// settleHost validates and canonicalises r.Host (the Host header, the
// HTTP/2 :authority or an absolute-form target's authority: net/http and
// internal/h1 both let the target's authority win, RFC 9112 section
// 3.2.2), and stores the result in info.Host and r.Host. An HTTP/2 request
// may also carry Host header fields (HTTP/1 servers move Host out of the
// header map): each must name the same host (RFC 9113 section 8.3.1), and
// they are removed, so nothing downstream sees a second host. An empty
// host (HTTP/1.0 without Host) is left empty: it matches no zone.
func settleHost(r *http.Request, info *reqctx.Info) error {
	if r.Host == "" {
		if len(r.Header["Host"]) > 0 {
			return errHostsDiffer
		}
		return nil
	}
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	tls := r.TLS != nil
	h, err := canonicalHost(r.Host, tls, local)
	if err != nil {
		return err
	}
	if hv, ok := r.Header["Host"]; ok {
		for _, v := range hv {
			if c, err := canonicalHost(v, tls, local); err != nil || !sameHostName(c, h) {
				return errHostsDiffer
			}
		}
		delete(r.Header, "Host")
	}
	info.Host, r.Host = h, h
	return nil
}

// sameHostName reports whether two canonical hosts name the same host
// (their ports may differ: a client may leave the port out of one).
func sameHostName(a, b string) bool { return hostName(a) == hostName(b) }

// hostName returns a canonical host without its port.
func hostName(h string) string {
	end := len(h)
	if len(h) > 0 && h[0] == '[' {
		for i := range len(h) {
			if h[i] == ']' {
				return h[:i+1]
			}
		}
		return h
	}
	for i := 0; i < len(h); i++ {
		if h[i] == ':' {
			end = i
			break
		}
	}
	return h[:end]
}
