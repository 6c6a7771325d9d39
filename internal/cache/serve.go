package cache

import (
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/compress"
	"github.com/rampart-edge/rampart/internal/edge"
)

// negotiate returns the coding a request accepts best ("" for identity).
func negotiate(r *http.Request) string {
	ae := r.Header["Accept-Encoding"]
	if len(ae) == 0 {
		return ""
	}
	return compress.Negotiate(strings.Join(ae, ","))
}

func containsToken(list, token string) bool {
	for _, t := range strings.Split(list, ",") {
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

// compressible reports whether e may be served in a content coding.
func (z *Zone) compressible(e *Entry) bool {
	return !z.rules.NoCompress && e.Encoding == "" && e.Status == http.StatusOK && e.Body != nil &&
		e.Size >= compress.MinSize && e.textual && len(e.Header["Content-Encoding"]) == 0
}

// variant returns e in the coding the request accepts best, compressing
// it once and storing the result next to e, or e itself when the client
// wants identity, the response is not worth compressing, or the request
// is for a range (ranges are served from the identity body).
func (z *Zone) variant(r *http.Request, e *Entry) *Entry {
	if r.Header.Get("Range") != "" {
		return e
	}
	coding := negotiate(r)
	if coding == "" {
		return e
	}
	key := e.Key + "\x00e\x00" + coding
	if v, ok := z.store.get(key); ok && v.ResponseTime.Equal(e.ResponseTime) && v.Body != nil {
		return v
	}
	body, err := compress.Encode(coding, e.Body)
	if err != nil || len(body) >= len(e.Body) {
		return e
	}
	v := *e
	v.Key = key
	v.Encoding = coding
	v.Body = body
	v.Size = int64(len(body))
	v.file = ""
	v.Header = e.Header.Clone()
	v.Header["Content-Encoding"] = []string{coding}
	delete(v.Header, "Content-Length")
	if et := e.Header.Get("ETag"); et != "" {
		v.Header["Etag"] = []string{compress.VariantETag(et, coding)}
	}
	z.store.put(&v)
	return &v
}

// serve answers r from e: conditional requests get 304, a single
// satisfiable Range 206 (416 when unsatisfiable), anything else the whole
// response, compressed when the client accepts it.
func (z *Zone) serve(w http.ResponseWriter, r *http.Request, e *Entry, status string, now time.Time, saved bool) {
	textual := z.compressible(e)
	if textual {
		e = z.variant(r, e)
	}
	if z.serveBlock(w, r, e, textual, status, now, saved) {
		return
	}
	h := w.Header()
	for k, v := range e.Header {
		h[k] = v
	}
	if textual {
		addVary(h, "Accept-Encoding")
	}
	h["Age"] = ageValue(int64(e.age(now) / time.Second))
	setStatus(w, r, status)

	if notModified(r, e.Header) {
		for _, k := range []string{"Content-Length", "Content-Type", "Content-Encoding", "Content-Range", "Accept-Ranges"} {
			delete(h, k)
		}
		w.WriteHeader(http.StatusNotModified)
		z.observe(status, 0, saved)
		return
	}
	start, length := int64(0), e.Size
	code := e.Status
	if e.Status == http.StatusOK && e.Encoding == "" {
		h["Accept-Ranges"] = acceptRanges
		if rh := r.Header.Get("Range"); rh != "" && ifRangeOK(r, e.Header) {
			s, n, rs := parseRange(rh, e.Size)
			switch rs {
			case rangeOK:
				start, length, code = s, n, http.StatusPartialContent
				h["Content-Range"] = []string{"bytes " + strconv.FormatInt(s, 10) + "-" +
					strconv.FormatInt(s+n-1, 10) + "/" + strconv.FormatInt(e.Size, 10)}
			case rangeUnsatisfiable:
				delete(h, "Content-Encoding")
				h["Content-Range"] = []string{"bytes */" + strconv.FormatInt(e.Size, 10)}
				h["Content-Length"] = []string{"0"}
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				z.observe(status, 0, saved)
				return
			}
		}
	}
	if code != http.StatusNoContent && code != http.StatusNotModified && code >= 200 {
		h["Content-Length"] = e.contentLength(length)
	}
	w.WriteHeader(code)
	if r.Method == http.MethodHead || length == 0 {
		z.observe(status, 0, saved)
		return
	}
	var n int64
	if e.Body != nil {
		k, _ := w.Write(e.Body[start : start+length])
		n = int64(k)
	} else if e.file != "" {
		f, err := os.Open(e.file)
		if err != nil {
			panic(http.ErrAbortHandler) // the head is sent; cut the body
		}
		n, _ = io.Copy(w, io.NewSectionReader(f, start, length))
		f.Close()
	}
	z.observe(status, n, saved)
}

var acceptRanges = []string{"bytes"}

// serveBlock answers a whole 200 from e through the server's
// preformatted-header fast path (edge.RawHeaderAdder: the stored fields go
// out as e's block instead of being copied into the header map), with the
// same head serve's map path writes. It reports false, having changed
// nothing, when the fast path does not apply: no block, a conditional or
// Range request, a writer without the fast path, or a header map already
// holding a field of the block.
func (z *Zone) serveBlock(w http.ResponseWriter, r *http.Request, e *Entry, textual bool, status string, now time.Time, saved bool) bool {
	block := e.block
	if textual {
		block = e.blockVary
	}
	if block == nil || e.Status != http.StatusOK || int64(len(e.Body)) != e.Size {
		return false
	}
	if len(r.Header["Range"]) > 0 || len(r.Header["If-None-Match"]) > 0 || len(r.Header["If-Modified-Since"]) > 0 {
		return false
	}
	ra, ok := w.(edge.RawHeaderAdder)
	if !ok {
		return false
	}
	h := w.Header()
	for k := range h {
		if _, dup := e.Header[k]; dup || k == "Vary" || k == "Accept-Ranges" {
			return false
		}
	}
	if !ra.AddRawHeader(block, e.blockType, e.blockEncoding, e.blockDate) {
		return false
	}
	h["Age"] = ageValue(int64(e.age(now) / time.Second))
	setStatus(w, r, status)
	h["Content-Length"] = e.contentLength(e.Size)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead || e.Size == 0 {
		z.observe(status, 0, saved)
		return true
	}
	n, _ := w.Write(e.Body)
	z.observe(status, int64(n), saved)
	return true
}

// ageValues are the Age header values of the first hour, shared by every
// response (header value slices are never modified in place).
var ageValues = func() (v [3600][]string) {
	for i := range v {
		v[i] = []string{strconv.Itoa(i)}
	}
	return v
}()

// ageValue returns the Age header value for secs seconds.
func ageValue(secs int64) []string {
	if secs >= 0 && secs < int64(len(ageValues)) {
		return ageValues[secs]
	}
	return []string{strconv.FormatInt(secs, 10)}
}

// notModified evaluates If-None-Match, or If-Modified-Since when there is
// no If-None-Match (RFC 9110 section 13.2.2), for GET and HEAD.
func notModified(r *http.Request, h http.Header) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if len(r.Header["If-None-Match"]) == 0 && len(r.Header["If-Modified-Since"]) == 0 {
		return false
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		et := h.Get("ETag")
		if et == "" {
			return false
		}
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || weakMatch(t, et) {
				return true
			}
		}
		return false
	}
	ims, err := http.ParseTime(r.Header.Get("If-Modified-Since"))
	if err != nil {
		return false
	}
	lm, ok := httpDate(h, "Last-Modified")
	return ok && !lm.After(ims)
}

// weakMatch is the weak comparison of RFC 9110 section 8.8.3.2.
func weakMatch(a, b string) bool {
	return strings.TrimPrefix(a, "W/") == strings.TrimPrefix(b, "W/")
}

// ifRangeOK reports whether a Range may be honoured under If-Range (RFC
// 9110 section 13.1.5): no If-Range, a strong ETag that matches, or a
// date equal to Last-Modified.
func ifRangeOK(r *http.Request, h http.Header) bool {
	ir := r.Header.Get("If-Range")
	if ir == "" {
		return true
	}
	if strings.HasPrefix(ir, `"`) {
		et := h.Get("ETag")
		return et != "" && !strings.HasPrefix(et, "W/") && et == ir
	}
	t, err := http.ParseTime(ir)
	if err != nil {
		return false
	}
	lm, ok := httpDate(h, "Last-Modified")
	return ok && lm.Equal(t)
}

type rangeStatus int

const (
	rangeIgnore        rangeStatus = iota // malformed or several ranges: serve 200
	rangeOK                               // one satisfiable range
	rangeUnsatisfiable                    // 416
)

// parseRange parses a Range header for a body of size bytes (RFC 9110
// section 14.1.2). Only a single bytes range is honoured; several ranges
// or a malformed header mean the whole body is sent (which the RFC
// allows).
func parseRange(v string, size int64) (start, length int64, st rangeStatus) {
	unit, spec, ok := strings.Cut(v, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return 0, 0, rangeIgnore
	}
	spec = strings.TrimSpace(spec)
	if strings.Contains(spec, ",") || spec == "" {
		return 0, 0, rangeIgnore
	}
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, rangeIgnore
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	num := func(s string) (int64, bool) {
		if s == "" || len(s) > 18 {
			return 0, false
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	if first == "" {
		// Suffix range: the last n bytes.
		n, ok := num(last)
		if !ok {
			return 0, 0, rangeIgnore
		}
		if n == 0 || size == 0 {
			return 0, 0, rangeUnsatisfiable
		}
		n = min(n, size)
		return size - n, n, rangeOK
	}
	s, ok := num(first)
	if !ok {
		return 0, 0, rangeIgnore
	}
	e := size - 1
	if last != "" {
		l, ok := num(last)
		if !ok || l < s {
			return 0, 0, rangeIgnore
		}
		e = min(l, size-1)
	}
	if s >= size {
		return 0, 0, rangeUnsatisfiable
	}
	return s, e - s + 1, rangeOK
}
