package cache

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/compress"
	"github.com/rampart-edge/rampart/internal/h1"
)

// Entry is one stored response. It is immutable once stored: a
// revalidation stores a new Entry, so readers never see a half-updated one.
type Entry struct {
	Key   string `json:"key"`
	Zone  string `json:"zone"`
	Host  string `json:"host"`
	Path  string `json:"path"`
	Query string `json:"query"`

	Status int         `json:"status"`
	Header http.Header `json:"header"`
	// Body is the whole body when it is held in memory; nil when the body
	// lives only in the disk tier (File).
	Body []byte `json:"-"`
	// Size is the body's length in bytes.
	Size int64 `json:"size"`
	// Tags come from the Cache-Tag response header.
	Tags []string `json:"tags,omitempty"`
	// Encoding is "" for the origin's body, or the content coding of a
	// compressed variant (br, zstd, gzip).
	Encoding string `json:"encoding,omitempty"`

	// ResponseTime is when the response was received (or revalidated);
	// InitialAge its corrected initial age (RFC 9111 section 4.2.3).
	ResponseTime time.Time     `json:"response_time"`
	InitialAge   time.Duration `json:"initial_age"`
	Lifetime     time.Duration `json:"lifetime"`
	SWR          time.Duration `json:"swr"`
	SIE          time.Duration `json:"sie"`
	MustReval    bool          `json:"must_revalidate"`
	NoCache      bool          `json:"no_cache"`

	// VaryNames, on a Vary record (Body nil, Status 0), lists the request
	// headers that select among the stored responses of a base key.
	VaryNames []string `json:"vary,omitempty"`
	// Pass marks a "hit for pass" record: the origin answered this key
	// with an uncacheable response, so requests go straight to it without
	// waiting for one another until PassUntil.
	Pass bool `json:"-"`

	file string // the disk tier's file holding this entry, if any
	// textual caches compress.Compressible(Content-Type), set by prepare.
	textual bool
	// length is the Content-Length value of the whole body (Size when
	// prepare ran: lengthOf), shared by every response serving it.
	length   []string
	lengthOf int64
	// block is the stored header fields of a 200 preformatted for the
	// server's AddRawHeader fast path (see blockLines), blockVary the same
	// with Vary: Accept-Encoding for responses served compressible; nil
	// when the entry has none. blockType, blockEncoding and blockDate tell
	// the server what the block holds.
	block, blockVary                    []byte
	blockType, blockEncoding, blockDate bool
}

// prepare computes what serving needs of the headers once, before the
// entry is shared.
func (e *Entry) prepare() *Entry {
	e.textual = compress.Compressible(e.Header.Get("Content-Type"))
	e.length, e.lengthOf = []string{strconv.FormatInt(e.Size, 10)}, e.Size
	e.block, e.blockVary = nil, nil
	if e.Status == http.StatusOK && e.Header != nil && !hasTrailerField(e.Header) {
		e.block = e.blockLines(false)
		if e.textual || e.Encoding != "" {
			e.blockVary = e.blockLines(true)
		}
		_, e.blockType = e.Header["Content-Type"]
		ce := e.Header["Content-Encoding"]
		e.blockEncoding = len(ce) > 0 && ce[0] != ""
		_, e.blockDate = e.Header["Date"]
	}
	return e
}

func hasTrailerField(h http.Header) bool {
	for k := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			return true
		}
	}
	return false
}

// blockLines formats the stored fields of a 200 as serve's header map
// path writes them: without the fields the server or serve set
// (Content-Length, Age and the framing fields, which are never stored),
// Accept-Ranges: bytes for an identity body, and with vary, Accept-Encoding
// added to Vary.
func (e *Entry) blockLines(vary bool) []byte {
	b := []byte{}
	varied := false
	for k, vv := range e.Header {
		switch k {
		case "Content-Length", "Age", "Transfer-Encoding", "Connection", "Trailer":
			continue
		case "Accept-Ranges":
			if e.Encoding == "" {
				continue
			}
		case "Vary":
			for _, v := range vv {
				varied = varied || containsToken(v, "Accept-Encoding")
			}
		}
		b = h1.AppendHeader(b, k, vv)
	}
	if vary && !varied {
		b = append(b, "Vary: Accept-Encoding\r\n"...)
	}
	if e.Encoding == "" {
		b = append(b, "Accept-Ranges: bytes\r\n"...)
	}
	return b
}

// contentLength returns the Content-Length value for n body bytes: the
// entry's shared value for its whole body, a new one otherwise.
func (e *Entry) contentLength(n int64) []string {
	if e.length != nil && n == e.lengthOf {
		return e.length
	}
	return []string{strconv.FormatInt(n, 10)}
}

// entryOverhead approximates the bytes an entry costs beyond its body and
// headers (struct, map buckets, otter node).
const entryOverhead = 320

// weight is the entry's cost in the memory budget: body, headers, key and
// a fixed overhead.
func (e *Entry) weight() uint32 {
	n := int64(entryOverhead + len(e.Key) + len(e.Host) + len(e.Path) + len(e.Query) + len(e.Body) +
		len(e.block) + len(e.blockVary))
	for k, vs := range e.Header {
		n += int64(len(k)) + 16
		for _, v := range vs {
			n += int64(len(v)) + 16
		}
	}
	for _, t := range e.Tags {
		n += int64(len(t)) + 16
	}
	for _, v := range e.VaryNames {
		n += int64(len(v)) + 16
	}
	if n > 1<<31 {
		n = 1 << 31
	}
	return uint32(n)
}

// age is the entry's current age at now (RFC 9111 section 4.2.3).
func (e *Entry) age(now time.Time) time.Duration {
	return e.InitialAge + max(now.Sub(e.ResponseTime), 0)
}

// fresh reports whether the entry may be served without validation.
func (e *Entry) fresh(now time.Time) bool {
	return !e.NoCache && e.age(now) < e.Lifetime
}

// staleFor returns how long the entry has been stale at now (0 if fresh).
func (e *Entry) staleFor(now time.Time) time.Duration {
	return max(e.age(now)-e.Lifetime, 0)
}

func (e *Entry) setFreshness(f freshness) {
	e.Lifetime, e.SWR, e.SIE, e.MustReval, e.NoCache = f.lifetime, f.swr, f.sie, f.mustRevalidate, f.noCache
}

// hopByHop are the fields never stored (RFC 9110 section 7.6.1), plus the
// per-request fields the edge sets itself.
var hopByHop = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer",
	"Transfer-Encoding", "Upgrade", "Proxy-Authenticate", "Proxy-Authorization",
	"Rampart-Request-Id", "Rampart-Cache", "Age",
}

// storedHeader copies h without the fields a cache must not store or
// replay: hop-by-hop fields, those Connection names, and Set-Cookie.
func storedHeader(h http.Header) http.Header {
	out := h.Clone()
	for _, c := range h["Connection"] {
		for _, n := range strings.Split(c, ",") {
			out.Del(strings.TrimSpace(n))
		}
	}
	for _, n := range hopByHop {
		delete(out, n)
	}
	delete(out, "Set-Cookie")
	return out
}

// updateHeaders applies the header fields of a 304 to a stored response
// (RFC 9111 section 3.2): every field of the 304 replaces the stored one,
// except Content-Length and the fields never stored.
func updateHeaders(stored, fresh http.Header) http.Header {
	out := stored.Clone()
	for k, vs := range storedHeader(fresh) {
		if k == "Content-Length" || k == "Content-Encoding" || k == "Content-Range" {
			continue
		}
		out[k] = slices.Clone(vs)
	}
	return out
}

// parseTags splits Cache-Tag lines at commas, trimmed, without empties,
// at most 64 tags of up to 256 bytes each.
func parseTags(lines []string) []string {
	var tags []string
	for _, l := range lines {
		for _, t := range strings.Split(l, ",") {
			t = strings.TrimSpace(t)
			if t == "" || len(t) > 256 || slices.Contains(tags, t) {
				continue
			}
			if len(tags) == 64 {
				return tags
			}
			tags = append(tags, t)
		}
	}
	return tags
}
