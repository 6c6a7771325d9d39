package h1

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
)

var (
	errEOF           = io.EOF
	errUnexpectedEOF = io.ErrUnexpectedEOF
	// errBodyReadAfterClose is net/http's message for the same misuse.
	errBodyReadAfterClose = errors.New("http: invalid Read on closed Body")
	errTrailer            = errors.New("h1: malformed chunked trailer")
)

// maxPostHandlerReadBytes is how much of a request body the handler left
// unread the server reads and discards to keep the connection; with more
// left it closes the connection instead (as net/http).
const maxPostHandlerReadBytes = 256 << 10

// maxTrailerBytes bounds the trailer section of a chunked request body.
const maxTrailerBytes = 16 << 10

// body is a request body: Content-Length or chunked, read from the
// connection's buffered reader. It is allocated per request, so a handler
// goroutine that outlives its request reads an error, never the next
// request's bytes.
type body struct {
	mu        sync.Mutex
	src       io.Reader // LimitedReader or chunked reader over br
	br        *bufio.Reader
	chunked   bool
	remaining int64 // for Content-Length bodies: bytes not yet read
	trailer   http.Header
	sawEOF    bool
	closed    bool
	err       error // sticky read error other than EOF

	// 100-continue: set when the client expects it; the first Read sends
	// it through cont unless the response head went out first.
	cont func() bool
}

func newBody(br *bufio.Reader, r *http.Request, chunked bool) *body {
	b := &body{br: br, chunked: chunked, trailer: r.Trailer}
	if chunked {
		b.src = httputil.NewChunkedReader(br)
	} else {
		b.remaining = r.ContentLength
	}
	return b
}

// Read reads from the body.
func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, errBodyReadAfterClose
	}
	return b.readLocked(p)
}

func (b *body) readLocked(p []byte) (int, error) {
	if b.sawEOF {
		return 0, io.EOF
	}
	if b.err != nil {
		return 0, b.err
	}
	if b.cont != nil {
		cont := b.cont
		b.cont = nil
		if !cont() {
			b.err = errors.New("h1: writing 100 Continue failed")
			return 0, b.err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var err error
	if b.chunked {
		n, err = b.src.Read(p)
		if err == io.EOF {
			err = b.readTrailer()
		}
	} else {
		if int64(len(p)) > b.remaining {
			p = p[:b.remaining]
		}
		n, err = b.br.Read(p)
		b.remaining -= int64(n)
		if b.remaining == 0 {
			err = io.EOF
		} else if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
	}
	switch {
	case err == io.EOF:
		b.sawEOF = true
	case err != nil:
		b.err = err
	}
	return n, err
}

// readTrailer reads the trailer section after the last chunk: header lines
// up to an empty line, kept for the keys the request declared in Trailer.
// It returns io.EOF when it is well formed.
func (b *body) readTrailer() error {
	total := 0
	for {
		line, err := b.br.ReadSlice('\n')
		if err != nil {
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			if err == bufio.ErrBufferFull {
				return errTrailer
			}
			return err
		}
		total += len(line)
		if total > maxTrailerBytes || len(line) < 2 || line[len(line)-2] != '\r' {
			return errTrailer
		}
		line = line[:len(line)-2]
		if len(line) == 0 {
			return io.EOF
		}
		k, v, ok := strings.Cut(string(line), ":")
		if !ok || k == "" {
			return errTrailer
		}
		for i := 0; i < len(k); i++ {
			if !validHeaderFieldByte(k[i]) {
				return errTrailer
			}
		}
		v = trimOWS(v)
		for i := 0; i < len(v); i++ {
			if !validHeaderValueByte(v[i]) {
				return errTrailer
			}
		}
		k = canonicalKey(k)
		if vv, ok := b.trailer[k]; ok {
			b.trailer[k] = append(vv, v)
		}
	}
}

// ended reports whether the body was read to its end.
func (b *body) ended() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sawEOF
}

// Close marks the body closed; later Reads fail. What is left unread is
// dealt with when the response is written.
func (b *body) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

// drain reads and discards up to maxPostHandlerReadBytes of what is left
// and reports whether the body ended cleanly (the connection can be
// reused).
func (b *body) drain() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sawEOF {
		return true
	}
	if b.err != nil || b.cont != nil {
		// A failed body, or one the client has not been told to send.
		return false
	}
	if !b.chunked && b.remaining > maxPostHandlerReadBytes {
		return false
	}
	var buf [4096]byte
	read := 0
	for read <= maxPostHandlerReadBytes {
		n, err := b.readLocked(buf[:])
		read += n
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
	}
	return false
}
