package ratelimit

import (
	"net/netip"
	"strconv"
)

// KeyIP returns the rate-limit key of a client address: the address itself
// for IPv4 ("192.0.2.1"), and its /64 prefix for IPv6 ("2001:db8::/64"),
// since one IPv6 subscriber usually holds a whole /64 and could otherwise
// spread a flood over 2^64 keys. IPv4-mapped IPv6 addresses count as IPv4,
// and zones are dropped. An invalid address gives "invalid".
func KeyIP(a netip.Addr) string {
	if !a.IsValid() {
		return "invalid"
	}
	a = a.Unmap().WithZone("")
	var buf [48]byte
	if a.Is4() {
		return string(a.AppendTo(buf[:0]))
	}
	p, _ := a.Prefix(64)
	b := p.Addr().AppendTo(buf[:0])
	b = append(b, "/64"...)
	return string(b)
}

// Key joins key parts (a client key, a header value, a path prefix) into
// one key. Each part is prefixed with its length, so no choice of part
// values can make two different part lists give the same key: a client
// cannot pick a header value that lands it in another client's bucket.
func Key(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p) + 4
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = strconv.AppendInt(b, int64(len(p)), 10)
		b = append(b, ':')
		b = append(b, p...)
	}
	return string(b)
}
