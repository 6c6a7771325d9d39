// Package compress negotiates and applies response content codings:
// brotli, zstd and gzip, chosen from the client's Accept-Encoding by
// q-value, with br preferred over zstd over gzip at equal q. It compresses
// only types that gain from it (text, JSON, JavaScript, XML, SVG, wasm...)
// above MinSize, never a response that already has a Content-Encoding or
// answers a Range request.
package compress

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// The codings, as Accept-Encoding and Content-Encoding name them.
const (
	Brotli = "br"
	Zstd   = "zstd"
	Gzip   = "gzip"
)

// MinSize is the smallest body worth compressing (1 KiB): below it the
// coding's framing eats most of the gain.
const MinSize = 1024

// preference orders the codings at equal q-value, best first.
var preference = [...]string{Brotli, Zstd, Gzip}

// Negotiate returns the coding to use for a client that sent
// acceptEncoding (RFC 9110 section 12.5.3), or "" for identity. A coding
// with q=0 is refused; "*" stands for every coding not listed; x-gzip is
// gzip. Malformed elements are skipped.
func Negotiate(acceptEncoding string) string {
	if acceptEncoding == "" {
		return ""
	}
	var q [len(preference)]float64
	for i := range q {
		q[i] = -1 // not listed
	}
	star := -1.0
	for _, part := range strings.Split(acceptEncoding, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		v := 1.0
		for _, p := range strings.Split(params, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || strings.ToLower(strings.TrimSpace(k)) != "q" {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if err != nil || f < 0 || f > 1 {
				v = 0
			} else {
				v = f
			}
		}
		if name == "x-gzip" {
			name = Gzip
		}
		if name == "*" {
			star = v
			continue
		}
		for i, c := range preference {
			if c == name && q[i] < 0 {
				q[i] = v
			}
		}
	}
	best, bestQ := "", 0.0
	for i, c := range preference {
		v := q[i]
		if v < 0 {
			v = max(star, 0)
		}
		if v > bestQ {
			best, bestQ = c, v
		}
	}
	return best
}

// Compressible reports whether a Content-Type gains from compression:
// text/*, JSON, JavaScript, XML, SVG, wasm, and a few other textual
// application types. Images, audio, video, archives and fonts in
// already-compressed formats do not.
func Compressible(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(contentType))
		if i := strings.IndexByte(mt, ';'); i >= 0 {
			mt = strings.TrimSpace(mt[:i])
		}
	}
	switch {
	case mt == "":
		return false
	case strings.HasPrefix(mt, "text/"):
		return true
	case strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	switch mt {
	case "application/json", "application/javascript", "application/x-javascript",
		"application/ecmascript", "application/xml", "application/wasm",
		"application/manifest+json", "application/ld+json", "application/graphql",
		"application/x-ndjson", "application/xhtml+xml", "application/rss+xml",
		"application/atom+xml", "image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon",
		"font/ttf", "font/otf", "application/vnd.ms-fontobject", "application/x-font-ttf":
		return true
	}
	return false
}

var zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
	e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	if err != nil {
		panic(fmt.Sprintf("creating the zstd encoder: %v", err))
	}
	return e
})

// Encode compresses body with coding, at levels meant for content that is
// compressed once and served many times (brotli 6, zstd default, gzip 6).
func Encode(coding string, body []byte) ([]byte, error) {
	switch coding {
	case Zstd:
		return zstdEncoder().EncodeAll(body, make([]byte, 0, len(body)/3+64)), nil
	case Brotli, Gzip:
		var buf bytes.Buffer
		buf.Grow(len(body)/3 + 64)
		w, err := NewWriter(coding, &buf, 6)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(body); err != nil {
			return nil, fmt.Errorf("compressing with %s: %w", coding, err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("compressing with %s: %w", coding, err)
		}
		return buf.Bytes(), nil
	}
	return nil, fmt.Errorf("compressing: unknown coding %q", coding)
}

// NewWriter returns a streaming compressor for coding writing to w, at
// level (brotli 0-11, gzip 1-9; zstd maps level 1-3 to fastest, default,
// better). Close flushes the coding's end.
func NewWriter(coding string, w io.Writer, level int) (io.WriteCloser, error) {
	switch coding {
	case Brotli:
		return brotli.NewWriterLevel(w, level), nil
	case Gzip:
		zw, err := gzip.NewWriterLevel(w, level)
		if err != nil {
			return nil, fmt.Errorf("creating gzip writer: %w", err)
		}
		return zw, nil
	case Zstd:
		l := zstd.SpeedDefault
		switch {
		case level <= 1:
			l = zstd.SpeedFastest
		case level >= 3:
			l = zstd.SpeedBetterCompression
		}
		zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(l), zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("creating zstd writer: %w", err)
		}
		return zw, nil
	}
	return nil, fmt.Errorf("compressing: unknown coding %q", coding)
}

// Decode decompresses body encoded with coding (for tests and tools).
func Decode(coding string, body []byte) ([]byte, error) {
	var r io.Reader
	switch coding {
	case Brotli:
		r = brotli.NewReader(bytes.NewReader(body))
	case Gzip:
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("decoding gzip: %w", err)
		}
		r = zr
	case Zstd:
		zr, err := zstd.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("decoding zstd: %w", err)
		}
		defer zr.Close()
		r = zr
	default:
		return nil, fmt.Errorf("decoding: unknown coding %q", coding)
	}
	out, err := io.ReadAll(io.LimitReader(r, 1<<30))
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", coding, err)
	}
	return out, nil
}

// VariantETag returns the ETag of a coding's variant of a response whose
// identity ETag is etag: the opaque part gets "-coding" appended inside
// the quotes (so a strong validator stays unique per representation, as
// RFC 9110 section 8.8.3 requires). "" stays "".
func VariantETag(etag, coding string) string {
	if etag == "" || coding == "" {
		return etag
	}
	if n := len(etag); n >= 2 && etag[n-1] == '"' {
		return etag[:n-1] + "-" + coding + `"`
	}
	return etag
}
