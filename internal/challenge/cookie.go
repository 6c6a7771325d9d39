package challenge

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"net/netip"
	"time"
)

// Clearance cookie, version 1, before base64url (no padding):
//
//	[0]     version (1)
//	[1:5]   key id, big endian
//	[5:13]  expiry, Unix seconds, big endian
//	[13:29] HMAC-SHA256 truncated to 16 bytes over
//	        "C" | bytes 0..13 | client prefix (9 bytes) | SHA-256(User-Agent)[:16]
//
// The client's address prefix and User-Agent are not in the cookie; they
// are recomputed from the request, so a cookie copied to another /24
// (IPv4) or /64 (IPv6), or to another browser, fails the MAC.
const (
	cookieVersion = 1
	cookieBodyLen = 13
	macLen        = 16
	cookieLen     = cookieBodyLen + macLen
	// cookieB64Len is the length of the base64url (raw) form.
	cookieB64Len = (cookieLen*8 + 5) / 6
)

// bindPrefix returns the client's binding prefix: a family byte, then the
// /24 of an IPv4 address or the /64 of an IPv6 one, zero padded.
func bindPrefix(a netip.Addr) (p [9]byte) {
	a = a.Unmap()
	switch {
	case a.Is4():
		b := a.As4()
		p[0] = 4
		copy(p[1:4], b[:3])
	case a.Is6():
		b := a.As16()
		p[0] = 6
		copy(p[1:9], b[:8])
	}
	return p
}

// uaHash returns the first 16 bytes of SHA-256(ua) without allocating for
// User-Agents up to 512 bytes.
func uaHash(ua string) (h [16]byte) {
	var sum [32]byte
	if len(ua) <= 128 {
		var buf [128]byte
		n := copy(buf[:], ua)
		sum = sha256.Sum256(buf[:n])
	} else if len(ua) <= 512 {
		var buf [512]byte
		n := copy(buf[:], ua)
		sum = sha256.Sum256(buf[:n])
	} else {
		sum = sha256.Sum256([]byte(ua))
	}
	copy(h[:], sum[:16])
	return h
}

func cookieMAC(k *key, body []byte, client netip.Addr, ua string) [sha256.Size]byte {
	var msg [1 + cookieBodyLen + 9 + 16]byte
	msg[0] = 'C'
	copy(msg[1:], body[:cookieBodyLen])
	p := bindPrefix(client)
	copy(msg[1+cookieBodyLen:], p[:])
	h := uaHash(ua)
	copy(msg[1+cookieBodyLen+9:], h[:])
	return k.mac(msg[:])
}

// issueCookie returns a clearance cookie value signed with k, valid until
// exp for client's prefix and ua.
func issueCookie(k *key, client netip.Addr, ua string, exp time.Time) string {
	var b [cookieLen]byte
	b[0] = cookieVersion
	binary.BigEndian.PutUint32(b[1:5], k.id)
	binary.BigEndian.PutUint64(b[5:13], uint64(exp.Unix()))
	m := cookieMAC(k, b[:], client, ua)
	copy(b[cookieBodyLen:], m[:macLen])
	return b64.EncodeToString(b[:])
}

// parsedCookie is a decoded cookie whose MAC is not checked yet.
type parsedCookie struct {
	keyID uint32
	exp   int64
	raw   [cookieLen]byte
}

// parseCookie decodes a cookie value without allocating. It checks the
// shape only; the MAC is checked by verifyCookie.
func parseCookie(s string) (c parsedCookie, ok bool) {
	if len(s) != cookieB64Len || !decodeB64(c.raw[:], s) || c.raw[0] != cookieVersion {
		return c, false
	}
	c.keyID = binary.BigEndian.Uint32(c.raw[1:5])
	c.exp = int64(binary.BigEndian.Uint64(c.raw[5:13]))
	return c, true
}

// verifyCookie checks a cookie value against the key ring, the client and
// the time. The MAC comparison is constant-time.
func verifyCookie(kr *keyRing, s string, client netip.Addr, ua string, now time.Time) bool {
	c, ok := parseCookie(s)
	if !ok || now.Unix() >= c.exp {
		return false
	}
	k := kr.lookup(c.keyID, now)
	if k == nil {
		return false
	}
	m := cookieMAC(k, c.raw[:], client, ua)
	return subtle.ConstantTimeCompare(m[:macLen], c.raw[cookieBodyLen:]) == 1
}
