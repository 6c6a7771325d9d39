package h1

import (
	"bufio"
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/rampart-edge/rampart/internal/ascii"
)

// maxHeaderCount bounds the header lines of one request head; more get 431.
const maxHeaderCount = 256

// requestError is a request head the server refuses: the status it answers
// with (then closes the connection) and a short reason for the body.
type requestError struct {
	status int
	reason string
}

func (e *requestError) Error() string { return e.reason }

// The refusals. Those marked "stricter" are requests net/http accepts and
// this server does not (see the package comment).
var (
	errMalformedLine = &requestError{400, "malformed request line"}
	errMethod        = &requestError{400, "invalid method"}
	errVersion       = &requestError{400, "malformed HTTP version"}
	errVersionNotSup = &requestError{505, "unsupported HTTP version"} // stricter for PRI * HTTP/2.0
	errURL           = &requestError{400, "malformed request target"}
	errBareLF        = &requestError{400, "bare LF in request head"} // stricter
	errObsFold       = &requestError{400, "obsolete line folding"}   // stricter (after the first header line)
	errHeaderLine    = &requestError{400, "malformed header line"}
	errHeaderName    = &requestError{400, "invalid header name"}
	errHeaderValue   = &requestError{400, "invalid header value"}
	errTooManyHosts  = &requestError{400, "too many Host headers"}
	errMissingHost   = &requestError{400, "missing required Host header"}
	errBadHost       = &requestError{400, "malformed Host header"}
	errUnsupportedTE = &requestError{501, "unsupported transfer encoding"}
	errTE10          = &requestError{400, "Transfer-Encoding on an HTTP/1.0 request"}  // stricter
	errCLandTE       = &requestError{400, "both Content-Length and Transfer-Encoding"} // stricter
	errMultipleCL    = &requestError{400, "multiple differing Content-Length headers"}
	errBadCL         = &requestError{400, "invalid Content-Length"}
	errBadTrailer    = &requestError{400, "bad trailer key"}
	errHeadTooLarge  = &requestError{431, "request header fields too large"}
	errTooManyFields = &requestError{431, "too many header fields"} // stricter
	errEmptyLine     = &requestError{400, "empty request line"}
)

// readHead reads one request head (request line, header lines and the empty
// line) from br and returns it as one string, ending in "\r\n\r\n". Every
// line must end in CRLF; a bare LF is refused. limit bounds the head's size.
// onBlock, if set, is called once before the first read that must wait for
// more bytes after the head has started.
func readHead(br *bufio.Reader, limit int, onBlock func()) (string, error) {
	var acc []byte // the head so far, when it outgrows br's buffer
	scanned := 0   // bytes of the buffered window already scanned
	lineStart := 0 // start of the current line, in head coordinates
	blocked := false
	for {
		buf, _ := br.Peek(br.Buffered())
		for {
			i := bytes.IndexByte(buf[scanned:], '\n')
			if i < 0 {
				break
			}
			i += scanned
			var prev byte
			switch {
			case i > 0:
				prev = buf[i-1]
			case len(acc) > 0:
				prev = acc[len(acc)-1]
			}
			if prev != '\r' {
				return "", errBareLF
			}
			ci := len(acc) + i // the LF's index in the head
			if ci+1 > limit {
				return "", errHeadTooLarge
			}
			if ci-lineStart == 1 {
				if lineStart == 0 {
					return "", errEmptyLine
				}
				end := i + 1
				var head string
				if acc == nil {
					head = string(buf[:end])
				} else {
					acc = append(acc, buf[:end]...)
					head = string(acc)
				}
				br.Discard(end)
				return head, nil
			}
			lineStart = ci + 1
			scanned = i + 1
		}
		if len(acc)+len(buf) > limit {
			return "", errHeadTooLarge
		}
		if len(buf) == br.Size() {
			acc = append(acc, buf...)
			br.Discard(len(buf))
			scanned = 0
		} else {
			scanned = len(buf)
		}
		if !blocked && onBlock != nil && len(acc)+br.Buffered() > 0 {
			blocked = true
			onBlock()
		}
		if _, err := br.Peek(br.Buffered() + 1); err != nil {
			if len(acc)+br.Buffered() > 0 && err == errEOF {
				return "", errUnexpectedEOF
			}
			return "", err
		}
	}
}

// parsedHead is what parseHead extracts besides the *http.Request fields.
type parsedHead struct {
	chunked          bool
	wants10KeepAlive bool
	expect           string // the Expect header's first value
}

// parseHead parses a head read by readHead into r (whose other fields the
// caller sets) with net/http's rules, plus the stricter ones listed at the
// error variables. Header values are substrings of head. A non-nil r.URL
// is storage for the URL of a plain origin-form target; strs, when long
// enough, backs the header value slices; h, when not nil, is an empty map
// to hold the header.
func parseHead(head string, r *http.Request, ph *parsedHead, strs []string, h http.Header) error {
	lineEnd := strings.Index(head, "\r\n")
	line := head[:lineEnd]
	method, rest, ok1 := strings.Cut(line, " ")
	uri, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 {
		return errMalformedLine
	}
	if !httpguts.ValidHeaderFieldName(method) {
		return errMethod
	}
	var major, minor int
	switch proto {
	case "HTTP/1.1":
		major, minor, proto = 1, 1, "HTTP/1.1"
	case "HTTP/1.0":
		major, minor, proto = 1, 0, "HTTP/1.0"
	default:
		var ok bool
		if major, minor, ok = http.ParseHTTPVersion(proto); !ok {
			return errVersion
		}
		if major != 1 {
			return errVersionNotSup
		}
	}
	u, err := parseTarget(method, uri, r.URL)
	if err != nil {
		return err
	}
	r.Method = internMethod(method)
	r.URL = u
	r.RequestURI = uri
	r.Proto, r.ProtoMajor, r.ProtoMinor = proto, major, minor

	// Header lines.
	pos := lineEnd + 2
	n := strings.Count(head[pos:], "\r\n") - 1
	if n > maxHeaderCount {
		return errTooManyFields
	}
	if h == nil {
		h = make(http.Header, n)
	}
	if n > len(strs) {
		strs = make([]string, n)
	}
	var (
		seen      uint8 // the seen* flags
		host      string
		hostCount int
	)
	for pos < len(head)-2 {
		e := strings.Index(head[pos:], "\r\n") + pos
		line := head[pos:e]
		pos = e + 2
		if line[0] == ' ' || line[0] == '\t' {
			return errObsFold
		}
		colon := strings.IndexByte(line, ':')
		if colon <= 0 {
			return errHeaderLine
		}
		key := line[:colon]
		for i := 0; i < len(key); i++ {
			if !validHeaderFieldByte(key[i]) {
				return errHeaderName
			}
		}
		v := trimOWS(line[colon+1:])
		for i := 0; i < len(v); i++ {
			if !validHeaderValueByte(v[i]) {
				return errHeaderValue
			}
		}
		ck := canonicalKey(key)
		switch ck {
		// The fields checked after the loop: noted here, so that those
		// absent cost no lookup. Host stays out of the map.
		case "Host":
			if hostCount == 0 {
				host = v
			}
			hostCount++
			continue
		case "Pragma":
			seen |= seenPragma
		case "Cache-Control":
			seen |= seenCacheControl
		case "Connection":
			seen |= seenConnection
		case "Transfer-Encoding":
			seen |= seenTE
		case "Content-Length":
			seen |= seenCL
		case "Trailer":
			seen |= seenTrailer
		case "Expect":
			seen |= seenExpect
		}
		if vv, ok := h[ck]; ok {
			h[ck] = append(vv, v)
		} else {
			strs[0] = v
			h[ck] = strs[:1:1]
			strs = strs[1:]
		}
	}
	r.Header = h

	if hostCount > 1 {
		return errTooManyHosts
	}
	if minor >= 1 && hostCount == 0 && method != http.MethodConnect {
		return errMissingHost
	}
	if hostCount == 1 && !httpguts.ValidHostHeader(host) {
		return errBadHost
	}
	r.Host = u.Host
	if r.Host == "" && hostCount == 1 {
		r.Host = host
	}

	// fixPragmaCacheControl, as net/http.
	if seen&seenPragma != 0 && seen&seenCacheControl == 0 {
		if hp := h["Pragma"]; len(hp) > 0 && hp[0] == "no-cache" {
			h["Cache-Control"] = []string{"no-cache"}
		}
	}

	var conn []string
	if seen&seenConnection != 0 {
		conn = h["Connection"]
	}
	if minor == 0 {
		r.Close = httpguts.HeaderValuesContainsToken(conn, "close") || !httpguts.HeaderValuesContainsToken(conn, "keep-alive")
		ph.wants10KeepAlive = !r.Close
	} else {
		r.Close = httpguts.HeaderValuesContainsToken(conn, "close")
	}

	if seen&(seenTE|seenCL|seenTrailer|seenExpect) == 0 {
		return nil
	}
	// Framing: Transfer-Encoding, then Content-Length.
	if te, ok := h["Transfer-Encoding"]; ok {
		delete(h, "Transfer-Encoding")
		if minor == 0 {
			return errTE10
		}
		if len(te) != 1 || !ascii.EqualFold(te[0], "chunked") {
			return errUnsupportedTE
		}
		ph.chunked = true
	}
	cls := h["Content-Length"]
	if len(cls) > 1 {
		for _, v := range cls[1:] {
			if v != cls[0] {
				return errMultipleCL
			}
		}
		h["Content-Length"] = cls[:1]
		cls = cls[:1]
	}
	switch {
	case len(cls) > 0 && ph.chunked:
		return errCLandTE
	case ph.chunked:
		r.ContentLength = -1
		r.TransferEncoding = chunkedTE
	case len(cls) > 0:
		if cls[0] == "" {
			return errBadCL
		}
		n, err := strconv.ParseUint(cls[0], 10, 63)
		if err != nil {
			return errBadCL
		}
		r.ContentLength = int64(n)
	}
	if vv, ok := h["Trailer"]; ok && ph.chunked {
		delete(h, "Trailer")
		var tr http.Header
		for _, v := range vv {
			for _, k := range strings.Split(v, ",") {
				k = trimOWS(k)
				if k == "" {
					continue
				}
				k = http.CanonicalHeaderKey(k)
				switch k {
				case "Transfer-Encoding", "Trailer", "Content-Length":
					return errBadTrailer
				}
				if tr == nil {
					tr = make(http.Header)
				}
				tr[k] = nil
			}
		}
		r.Trailer = tr
	}
	if ex := h["Expect"]; len(ex) > 0 {
		ph.expect = ex[0]
	}
	return nil
}

var chunkedTE = []string{"chunked"}

// Flags of parseHead's fields.
const (
	seenPragma = 1 << iota
	seenCacheControl
	seenConnection
	seenTE
	seenCL
	seenTrailer
	seenExpect
)

// parseTarget parses the request target as net/http does
// (url.ParseRequestURI, CONNECT's authority form), with a fast path for
// plain origin-form paths that gives the same URL, stored in u when u is
// not nil.
func parseTarget(method, uri string, u *url.URL) (*url.URL, error) {
	if u == nil {
		u = new(url.URL)
	}
	if fastPath(uri, u) {
		return u, nil
	}
	rawurl := uri
	justAuthority := method == http.MethodConnect && !strings.HasPrefix(rawurl, "/")
	if justAuthority {
		rawurl = "http://" + rawurl
	}
	pu, err := url.ParseRequestURI(rawurl)
	if err != nil {
		return nil, errURL
	}
	if justAuthority {
		pu.Scheme = ""
	}
	return pu, nil
}

// fastPath parses "/path?query" where the path holds only bytes that
// url.ParseRequestURI keeps as they are (no escapes) and the query only
// visible ASCII, into *u (set only when it reports true).
func fastPath(uri string, u *url.URL) bool {
	if len(uri) == 0 || uri[0] != '/' {
		return false
	}
	q := -1
	for i := 0; i < len(uri); i++ {
		c := uri[i]
		if c == '?' {
			q = i
			break
		}
		if !plainPathByte(c) {
			return false
		}
	}
	if q < 0 {
		*u = url.URL{Path: uri}
		return true
	}
	for i := q + 1; i < len(uri); i++ {
		if c := uri[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	query := uri[q+1:]
	if q != len(uri)-1 && strings.IndexByte(query, '?') >= 0 && strings.HasSuffix(query, "?") {
		return false
	}
	*u = url.URL{Path: uri[:q], RawQuery: query, ForceQuery: q == len(uri)-1}
	return true
}

func plainPathByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '_', '.', '~', '/', '$', '&', '+', ',', ':', ';', '=', '@':
		return true
	}
	return false
}

func internMethod(m string) string {
	switch m {
	case "GET":
		return http.MethodGet
	case "HEAD":
		return http.MethodHead
	case "POST":
		return http.MethodPost
	case "PUT":
		return http.MethodPut
	case "DELETE":
		return http.MethodDelete
	case "OPTIONS":
		return http.MethodOptions
	case "PATCH":
		return http.MethodPatch
	}
	return m
}

// trimOWS trims spaces and tabs at both ends, as textproto does.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// validHeaderFieldByte reports whether c may appear in a header name (a
// token character).
func validHeaderFieldByte(c byte) bool { return c < 0x80 && tokenTable[c] }

// validHeaderValueByte reports whether c may appear in a header value: not
// a control byte other than HTAB (obs-text 0x80-0xFF is allowed).
func validHeaderValueByte(c byte) bool { return c >= 0x20 && c != 0x7f || c == '\t' }

var tokenTable = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// canonicalKey returns k in canonical MIME header form (as
// textproto.CanonicalMIMEHeaderKey; k holds token bytes only). It returns k
// itself when k is canonical and an interned string for common headers.
func canonicalKey(k string) string {
	upper := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			return canonicalSlow(k)
		}
		upper = c == '-'
	}
	return k
}

func canonicalSlow(k string) string {
	if len(k) > 64 {
		return http.CanonicalHeaderKey(k)
	}
	var buf [64]byte
	b := buf[:len(k)]
	upper := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
		upper = c == '-'
	}
	if s, ok := commonKeys[string(b)]; ok {
		return s
	}
	return string(b)
}

var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Accept-Ranges",
		"Authorization", "Cache-Control", "Connection", "Content-Disposition", "Content-Encoding",
		"Content-Length", "Content-Type", "Cookie", "Date", "Dnt", "Etag", "Expect", "Forwarded",
		"From", "Host", "If-Match", "If-Modified-Since", "If-None-Match", "If-Range",
		"If-Unmodified-Since", "Keep-Alive", "Origin", "Pragma", "Priority", "Range", "Referer",
		"Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Sec-Fetch-Dest", "Sec-Fetch-Mode",
		"Sec-Fetch-Site", "Sec-Fetch-User", "Sec-Websocket-Key", "Sec-Websocket-Version",
		"Sec-Websocket-Extensions", "Sec-Websocket-Protocol", "Te", "Trailer", "Transfer-Encoding",
		"Upgrade", "Upgrade-Insecure-Requests", "User-Agent", "Via", "X-Forwarded-For",
		"X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "X-Requested-With", "X-Request-Id",
	} {
		m[k] = k
	}
	return m
}()
