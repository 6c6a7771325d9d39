// Package reqpath gives a request one path: the normal form of its
// request-target's path, which every path rule matches on and which the
// origin receives. A path that origins could resolve differently, and
// that cannot be made unambiguous, is refused.
//
// The normal form (RFC 3986 section 6.2.2, with section 5.2.4's
// dot-segment removal):
//   - percent-encoded unreserved characters (ALPHA DIGIT - . _ ~) are
//     decoded, so "/%61dmin/%2e%2e/" is "/admin/../", then "/";
//   - every other escape keeps its encoding with upper-case hex ("%3c" is
//     "%3C"); bytes that may not appear raw in a path (space, '"', '<',
//     '>', '[', ']', '^', '`', '{', '|', '}', non-ASCII) are encoded;
//   - "." and ".." segments are removed and empty segments merged
//     ("//a" is "/a"), a trailing slash kept ("/a/b/.." is "/a/").
//
// Refused (ErrAmbiguous, answered 400 by the edge):
//   - an encoded slash "%2F" (nginx decodes it into a separator, Apache and
//     Tomcat refuse it) and a backslash raw or encoded "%5C" (IIS and some
//     frameworks treat it as a separator);
//   - NUL and other control bytes, raw or encoded, and a raw '#';
//   - ".." that climbs above the root (nginx answers 400 too);
//   - decoded bytes that are not UTF-8, overlong forms such as "%C0%AE"
//     (an old IIS '.') included;
//   - a segment whose part before a ';' is empty, "." or "..": Tomcat and
//     Jetty strip path parameters before resolving dot segments, so
//     "/api/..;/admin" is "/admin" there and "/api/..;/admin" elsewhere;
//   - "//" after a segment that ends in ':' ("/get/https://host/"): a URL
//     in the path, which merging its slashes would turn into another one
//     ("https:/host/", which lenient URL parsers still fetch) that the
//     WAF's remote-file-inclusion rules no longer see;
//   - a path that does not start with '/' (the asterisk form "*" is the
//     caller's business: OPTIONS only).
//
// A path that is already normal (the common case) costs one scan and no
// allocation.
package reqpath

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Errors Normalise returns; all of them wrap ErrAmbiguous.
var (
	ErrAmbiguous    = errors.New("ambiguous request path")
	ErrNotAbsolute  = wrap("path does not start with /")
	ErrEscape       = wrap("malformed percent-escape")
	ErrSlash        = wrap("encoded slash (%2F) in path")
	ErrBackslash    = wrap("backslash in path")
	ErrControl      = wrap("control byte in path")
	ErrFragment     = wrap("'#' in path")
	ErrAboveRoot    = wrap("'..' above the root")
	ErrUTF8         = wrap("path is not UTF-8 once decoded")
	ErrDotParameter = wrap("path parameter on an empty, '.' or '..' segment")
	ErrEmbeddedURL  = wrap("'//' after a segment ending in ':' (a URL in the path)")
)

type pathError struct{ msg string }

func (e *pathError) Error() string        { return e.msg }
func (e *pathError) Is(target error) bool { return target == ErrAmbiguous }

func wrap(msg string) error { return &pathError{msg} }

// byte classes.
const (
	clRaw    = 1 << iota // kept raw in the normal form (pchar and '/')
	clUnres              // unreserved: decoded when escaped
	clRefuse             // refused raw and escaped
	clHex                // hex digit
	clUpper              // upper-case hex digit or decimal digit
)

var class [256]uint8

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '-', b == '.', b == '_', b == '~':
			class[c] |= clRaw | clUnres
		case strings.IndexByte("!$&'()*+,;=:@/", b) >= 0:
			class[c] |= clRaw
		case b < 0x20 || b == 0x7f || b == '\\':
			class[c] |= clRefuse
		}
		switch {
		case '0' <= b && b <= '9', 'A' <= b && b <= 'F':
			class[c] |= clHex | clUpper
		case 'a' <= b && b <= 'f':
			class[c] |= clHex
		}
	}
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

const upperHex = "0123456789ABCDEF"

// Normalise returns the normal form of p, the path of a request-target as
// sent (percent-encoded, without the query), or an error wrapping
// ErrAmbiguous. It returns p itself, without allocating, when p is
// already normal.
func Normalise(p string) (string, error) {
	if IsNormal(p) {
		return p, nil
	}
	return normalise(p)
}

// IsNormal reports whether p is in normal form: Normalise(p) returns p.
func IsNormal(p string) bool {
	if len(p) == 0 || p[0] != '/' {
		return false
	}
	segStart := 1
	for i := 1; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			if !normalSegment(p[segStart:i], i == len(p)) {
				return false
			}
			segStart = i + 1
			continue
		}
		c := p[i]
		if class[c]&clRaw != 0 {
			continue
		}
		if c != '%' || i+2 >= len(p) || class[p[i+1]]&clUpper == 0 || class[p[i+2]]&clUpper == 0 {
			return false
		}
		v := unhex(p[i+1])<<4 | unhex(p[i+2])
		if class[v]&(clUnres|clRefuse) != 0 || v == '/' {
			return false
		}
		if v < utf8.RuneSelf {
			i += 2
			continue
		}
		// A multi-byte character: all of it escaped, valid UTF-8.
		var buf [utf8.UTFMax]byte
		n := 0
		j := i
		for n < utf8.UTFMax && j+2 < len(p) && p[j] == '%' && class[p[j+1]]&clUpper != 0 && class[p[j+2]]&clUpper != 0 {
			buf[n] = unhex(p[j+1])<<4 | unhex(p[j+2])
			if n > 0 && buf[n] < 0x80 {
				break
			}
			n++
			j += 3
			if utf8.FullRune(buf[:n]) {
				break
			}
		}
		r, size := utf8.DecodeRune(buf[:n])
		if r == utf8.RuneError && size <= 1 {
			return false
		}
		i += 3*size - 1
	}
	return true
}

// normalSegment reports whether seg (escaped, between two slashes) may
// stand in a normal path: not empty unless it is the last (a trailing
// slash after a non-empty segment, or the root), not a dot segment, no
// path parameter on an empty or dot name.
func normalSegment(seg string, last bool) bool {
	switch seg {
	case "":
		return last
	case ".", "..":
		return false
	}
	if semi := strings.IndexByte(seg, ';'); semi >= 0 {
		switch seg[:semi] {
		case "", ".", "..":
			return false
		}
	}
	return true
}

// normalise is the slow path: decode, re-encode, remove dot segments.
func normalise(p string) (string, error) {
	if len(p) == 0 || p[0] != '/' {
		return "", ErrNotAbsolute
	}
	// Pass 1: one escaping per byte, and the decoded bytes for the UTF-8
	// check.
	enc := make([]byte, 0, len(p)+8)
	dec := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' {
			if i+2 >= len(p) || class[p[i+1]]&clHex == 0 || class[p[i+2]]&clHex == 0 {
				return "", ErrEscape
			}
			c = unhex(p[i+1])<<4 | unhex(p[i+2])
			i += 2
			switch {
			case c == '/':
				return "", ErrSlash
			case c == '\\':
				return "", ErrBackslash
			case class[c]&clRefuse != 0:
				return "", ErrControl
			case class[c]&clUnres != 0:
				enc = append(enc, c)
			default:
				enc = append(enc, '%', upperHex[c>>4], upperHex[c&15])
			}
			dec = append(dec, c)
			continue
		}
		switch {
		case c == '\\':
			return "", ErrBackslash
		case class[c]&clRefuse != 0:
			return "", ErrControl
		case c == '#':
			return "", ErrFragment
		case class[c]&clRaw != 0:
			enc = append(enc, c)
		default:
			enc = append(enc, '%', upperHex[c>>4], upperHex[c&15])
		}
		dec = append(dec, c)
	}
	if !utf8.Valid(dec) {
		return "", ErrUTF8
	}
	// Pass 2: dot segments and empty segments (RFC 3986 5.2.4; only raw
	// '/' separates segments now, and every '.' is raw).
	segs := make([]string, 0, strings.Count(string(enc), "/"))
	s := string(enc[1:])
	trailing := false
	prev := ""
	for {
		seg, rest, more := strings.Cut(s, "/")
		trailing = false
		switch seg {
		case "":
			if more && strings.HasSuffix(prev, ":") {
				return "", ErrEmbeddedURL
			}
			trailing = !more
		case ".":
			trailing = true
		case "..":
			if len(segs) == 0 {
				return "", ErrAboveRoot
			}
			segs = segs[:len(segs)-1]
			trailing = true
		default:
			if semi := strings.IndexByte(seg, ';'); semi >= 0 {
				switch seg[:semi] {
				case "", ".", "..":
					return "", ErrDotParameter
				}
			}
			segs = append(segs, seg)
		}
		if !more {
			break
		}
		prev, s = seg, rest
	}
	var b strings.Builder
	b.Grow(len(enc))
	for _, seg := range segs {
		b.WriteByte('/')
		b.WriteString(seg)
	}
	if len(segs) == 0 || trailing {
		b.WriteByte('/')
	}
	return b.String(), nil
}
