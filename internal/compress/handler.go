package compress

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Streaming levels: on-the-fly compression favours speed (brotli 4, zstd
// fastest, gzip 5), unlike Encode's levels for content compressed once.
const (
	streamBrotli = 4
	streamGzip   = 5
)

// Handler compresses next's responses on the fly for clients that accept
// br, zstd or gzip, when the response is worth it: status 200, a
// compressible Content-Type, no Content-Encoding or Content-Range, no
// Cache-Control: no-transform, and a Content-Length of at least MinSize
// when one is given. HEAD, Range and Upgrade requests, and event streams
// (text/event-stream, where buffering in an encoder would delay events),
// pass through untouched. A compressed response loses Content-Length,
// gets Vary: Accept-Encoding, and its ETag becomes weak: the bytes differ
// from the identity representation's.
func Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead || r.Header.Get("Range") != "" || r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		cw := &writer{w: w, coding: Negotiate(strings.Join(r.Header["Accept-Encoding"], ","))}
		defer cw.close()
		next.ServeHTTP(cw, r)
	})
}

type writer struct {
	w       http.ResponseWriter
	coding  string
	decided bool
	enc     encoder
}

type encoder interface {
	io.WriteCloser
	Flush() error
}

func (cw *writer) Header() http.Header { return cw.w.Header() }

// worth reports whether a response with status and h is compressed.
func worth(status int, h http.Header) bool {
	if status != http.StatusOK || len(h["Content-Encoding"]) > 0 || len(h["Content-Range"]) > 0 {
		return false
	}
	ct := h.Get("Content-Type")
	if !Compressible(ct) || strings.HasPrefix(strings.ToLower(ct), "text/event-stream") {
		return false
	}
	for _, v := range h["Cache-Control"] {
		if strings.Contains(strings.ToLower(v), "no-transform") {
			return false
		}
	}
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err != nil || n < MinSize {
			return false
		}
	}
	return true
}

func (cw *writer) WriteHeader(code int) {
	if cw.decided || code < 200 {
		cw.w.WriteHeader(code)
		return
	}
	cw.decided = true
	h := cw.w.Header()
	if worth(code, h) {
		addVary(h)
		if cw.coding != "" {
			delete(h, "Content-Length")
			h["Content-Encoding"] = []string{cw.coding}
			if et := h.Get("Etag"); et != "" && !strings.HasPrefix(et, "W/") {
				h.Set("Etag", "W/"+et)
			}
			cw.enc = getEncoder(cw.coding, cw.w)
		}
	}
	cw.w.WriteHeader(code)
}

func (cw *writer) Write(p []byte) (int, error) {
	if !cw.decided {
		cw.WriteHeader(http.StatusOK)
	}
	if cw.enc != nil {
		return cw.enc.Write(p)
	}
	return cw.w.Write(p)
}

// Flush pushes what the encoder holds to the client.
func (cw *writer) Flush() {
	if !cw.decided {
		cw.WriteHeader(http.StatusOK)
	}
	if cw.enc != nil {
		cw.enc.Flush()
	}
	http.NewResponseController(cw.w).Flush()
}

// Unwrap lets http.ResponseController reach the connection for deadlines.
func (cw *writer) Unwrap() http.ResponseWriter { return cw.w }

func (cw *writer) close() {
	if cw.enc != nil {
		cw.enc.Close()
		putEncoder(cw.coding, cw.enc)
		cw.enc = nil
	}
}

func addVary(h http.Header) {
	for _, v := range h["Vary"] {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "Accept-Encoding") {
				return
			}
		}
	}
	h.Add("Vary", "Accept-Encoding")
}

var pools = map[string]*sync.Pool{
	Brotli: {New: func() any { return brotli.NewWriterLevel(nil, streamBrotli) }},
	Gzip: {New: func() any {
		w, _ := gzip.NewWriterLevel(nil, streamGzip)
		return w
	}},
	Zstd: {New: func() any {
		w, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		return w
	}},
}

func getEncoder(coding string, w io.Writer) encoder {
	switch e := pools[coding].Get().(type) {
	case *brotli.Writer:
		e.Reset(w)
		return e
	case *gzip.Writer:
		e.Reset(w)
		return e
	case *zstd.Encoder:
		e.Reset(w)
		return e
	}
	return nil
}

func putEncoder(coding string, e encoder) {
	switch x := e.(type) {
	case *brotli.Writer:
		x.Reset(nil)
	case *gzip.Writer:
		x.Reset(io.Discard)
	case *zstd.Encoder:
		x.Reset(nil)
	}
	pools[coding].Put(e)
}
