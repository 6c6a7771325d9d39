package challenge

import "encoding/base64"

// b64 is the encoding of cookies and challenge tokens: URL-safe, so they
// travel in cookies, forms and URLs unescaped, and unpadded.
var b64 = base64.RawURLEncoding

// b64Dec maps a base64url character to its value, or 0xff.
var b64Dec = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// decodeB64 decodes unpadded base64url s into dst, which must be exactly
// the decoded length, without allocating. It rejects any other length,
// any character outside the alphabet, and non-canonical trailing bits, so
// each value has one encoding.
func decodeB64(dst []byte, s string) bool {
	if len(s) != (len(dst)*8+5)/6 {
		return false
	}
	var acc uint32
	bits := 0
	j := 0
	for i := 0; i < len(s); i++ {
		v := b64Dec[s[i]]
		if v == 0xff {
			return false
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			dst[j] = byte(acc >> bits)
			j++
			acc &= 1<<bits - 1
		}
	}
	return acc == 0 && j == len(dst)
}
