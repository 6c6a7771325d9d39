package challenge

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"net/netip"
	"time"
)

// Clearance cookie, version 2, before base64url (no padding):
//
//	[0]     version (2)
//	[1:5]   key id, big endian
//	[5:13]  expiry, Unix seconds, big endian
//	[13]    difficulty the challenge was solved at (leading zero bits)
//	[14:30] HMAC-SHA256 truncated to 16 bytes over
//	        bytes 0..14 | client prefix (9 bytes) | SHA-256(User-Agent)[:16] | scope (16 bytes)
//
// The client's address prefix, User-Agent and the scope (the zone, or the
// shared cookie domain) are not in the cookie; they are recomputed from
// the request and the zone serving it, so a cookie copied to another /24
// (IPv4) or /64 (IPv6), to another browser or to another zone fails the
// MAC. The difficulty is in the cookie and under the MAC: a zone admits
// a cookie only if it was earned at its current difficulty or above, so
// raising a zone's difficulty voids the cheaper clearances.
//
// The message is 55 bytes, so the HMAC's inner hash stays one block
// after the key's; it starts with the version byte, which no token MAC
// message starts with (those start with 'T'). Version 1 cookies (no
// scope, no difficulty) fail to parse: their holders are challenged again.
const (
	cookieVersion = 2
	cookieBodyLen = 14
	macLen        = 16
	cookieLen     = cookieBodyLen + macLen
	// cookieB64Len is the length of the base64url (raw) form.
	cookieB64Len = (cookieLen*8 + 5) / 6
	cookieMsgLen = cookieBodyLen + 9 + 16 + 16
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

func cookieMAC(k *key, body []byte, client netip.Addr, ua string, scope *Scope) [sha256.Size]byte {
	var msg [cookieMsgLen]byte
	n := copy(msg[:], body[:cookieBodyLen])
	p := bindPrefix(client)
	n += copy(msg[n:], p[:])
	h := uaHash(ua)
	n += copy(msg[n:], h[:])
	copy(msg[n:], scope.sum[:])
	return k.mac(msg[:])
}

// issueCookie returns a clearance cookie value signed with k, valid until
// exp for client's prefix and ua in scope, earned at difficulty.
func issueCookie(k *key, client netip.Addr, ua string, scope *Scope, difficulty int, exp time.Time) string {
	var b [cookieLen]byte
	b[0] = cookieVersion
	binary.BigEndian.PutUint32(b[1:5], k.id)
	binary.BigEndian.PutUint64(b[5:13], uint64(exp.Unix()))
	b[13] = byte(difficulty)
	m := cookieMAC(k, b[:], client, ua, scope)
	copy(b[cookieBodyLen:], m[:macLen])
	return b64.EncodeToString(b[:])
}

// parsedCookie is a decoded cookie whose MAC is not checked yet.
type parsedCookie struct {
	keyID      uint32
	exp        int64
	difficulty int
	raw        [cookieLen]byte
}

// parseCookie decodes a cookie value without allocating. It checks the
// shape only; the MAC is checked by verifyCookie.
func parseCookie(s string) (c parsedCookie, ok bool) {
	if len(s) != cookieB64Len || !decodeB64(c.raw[:], s) || c.raw[0] != cookieVersion {
		return c, false
	}
	c.keyID = binary.BigEndian.Uint32(c.raw[1:5])
	c.exp = int64(binary.BigEndian.Uint64(c.raw[5:13]))
	c.difficulty = int(c.raw[13])
	return c, c.difficulty <= MaxDifficulty
}

// verifyCookie checks a cookie value against the key ring, the client,
// the scope, the minimum difficulty and the time. The MAC comparison is
// constant-time.
func verifyCookie(kr *keyRing, s string, client netip.Addr, ua string, scope *Scope, minDifficulty int, now time.Time) bool {
	c, ok := parseCookie(s)
	if !ok || now.Unix() >= c.exp || c.difficulty < minDifficulty {
		return false
	}
	k := kr.lookup(c.keyID, now)
	if k == nil {
		return false
	}
	m := cookieMAC(k, c.raw[:], client, ua, scope)
	return subtle.ConstantTimeCompare(m[:macLen], c.raw[cookieBodyLen:]) == 1
}
