package edge

import (
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the address of the client of a request that arrived
// from the TCP peer remoteAddr (an http.Request's RemoteAddr) with header h.
//
// When the peer is not in trusted, the peer is the client and every
// forwarding header is ignored, so a client cannot choose its own address.
// When the peer is trusted (peerTrusted is true), the client is the
// right-most address of X-Forwarded-For that is not itself trusted: the
// addresses to its left were written by the client or by proxies we do not
// know, and cannot be believed. Without X-Forwarded-For, the for=
// parameters of Forwarded (RFC 7239) are read the same way. When every
// listed address is trusted, the left-most one is the client; when an entry
// cannot be parsed, the walk stops and the closest trusted hop found so far
// is the client. IPv4-mapped IPv6 addresses are unmapped.
func ClientIP(remoteAddr string, h http.Header, trusted []netip.Prefix) (ip netip.Addr, peerTrusted bool) {
	peer := parsePeer(remoteAddr)
	if len(trusted) == 0 || !peer.IsValid() || !isTrusted(peer, trusted) {
		return peer, false
	}
	if xff := h["X-Forwarded-For"]; len(xff) > 0 {
		return walkXFF(xff, peer, trusted), true
	}
	if fwd := h["Forwarded"]; len(fwd) > 0 {
		return walkAddrs(forwardedFor(fwd), peer, trusted), true
	}
	return peer, true
}

// parsePeer parses "ip:port" (or a bare ip) as net/http sets RemoteAddr.
func parsePeer(remoteAddr string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(remoteAddr); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// walkXFF walks the X-Forwarded-For header lines right to left without
// allocating. Several header lines count as one comma-separated list.
func walkXFF(lines []string, peer netip.Addr, trusted []netip.Prefix) netip.Addr {
	client := peer
	for i := len(lines) - 1; i >= 0; i-- {
		s := lines[i]
		for len(s) > 0 {
			var elem string
			if j := strings.LastIndexByte(s, ','); j >= 0 {
				elem, s = s[j+1:], s[:j]
			} else {
				elem, s = s, ""
			}
			elem = strings.TrimSpace(elem)
			if elem == "" {
				continue
			}
			a, ok := parseHop(elem)
			if !ok {
				return client
			}
			if !isTrusted(a, trusted) {
				return a
			}
			client = a
		}
	}
	return client
}

func walkAddrs(hops []string, peer netip.Addr, trusted []netip.Prefix) netip.Addr {
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			return client
		}
		if !isTrusted(a, trusted) {
			return a
		}
		client = a
	}
	return client
}

// parseHop parses one forwarding hop: "192.0.2.1", "192.0.2.1:4711",
// "2001:db8::1" or "[2001:db8::1]:4711". Zones (fe80::1%eth0) are refused.
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Zone() == "" {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// forwardedFor returns the for= values of Forwarded header lines (RFC 7239
// section 4), in order, with quotes removed. An element without for= gives
// "" (which does not parse as an address, so the walk stops there); a
// malformed line ends the list with "".
func forwardedFor(lines []string) []string {
	var out []string
	for _, line := range lines {
		s := line
		for {
			// One forwarded-element: pairs separated by ';', ended by ','.
			var forVal string
			found := false
			for {
				s = strings.TrimLeft(s, " \t")
				eq := strings.IndexByte(s, '=')
				if eq <= 0 {
					return append(out, "")
				}
				name := strings.TrimSpace(s[:eq])
				s = s[eq+1:]
				var val string
				if strings.HasPrefix(s, `"`) {
					v, rest, ok := unquote(s)
					if !ok {
						return append(out, "")
					}
					val, s = v, rest
				} else {
					end := strings.IndexAny(s, ";,")
					if end < 0 {
						end = len(s)
					}
					val, s = strings.TrimRight(s[:end], " \t"), s[end:]
				}
				if strings.EqualFold(name, "for") && !found {
					forVal, found = val, true
				}
				s = strings.TrimLeft(s, " \t")
				if strings.HasPrefix(s, ";") {
					s = s[1:]
					continue
				}
				break
			}
			out = append(out, forVal)
			if strings.HasPrefix(s, ",") {
				s = s[1:]
				if strings.TrimSpace(s) == "" {
					break
				}
				continue
			}
			if s != "" {
				return append(out, "")
			}
			break
		}
	}
	return out
}

// unquote reads an RFC 7230 quoted-string at the start of s.
func unquote(s string) (val, rest string, ok bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], true
		case '\\':
			i++
			if i == len(s) {
				return "", "", false
			}
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}
