// Command floor measures what answering an HTTP/2 request over TLS costs in
// Go before any proxying: it answers every request with the same status,
// ten header fields and 1 KiB body a proxied bench/h2 response has, in one
// of four modes.
//
//   - nethttp: net/http's server (its bundled golang.org/x/net/http2) with
//     rampart's HTTP/2 settings and timeouts: the floor of rampart's HTTP/2
//     path with listen.server: net/http (before session 7, always).
//
//   - lean: a minimal responder on golang.org/x/net/http2's Framer and
//     hpack: one reader goroutine per connection, one goroutine per
//     stream writing its HEADERS and DATA frames under the connection's
//     lock, and the last writer out (or the reader, before it blocks)
//     flushing, so that the responses of one read go out in one TLS write.
//     It is NOT a server: no flow control, no limits, no request objects,
//     no error handling beyond closing. It shows what a connection loop
//     without net/http's per-frame hand-offs costs (bench/h2/README.md).
//
//   - handler: lean, but each stream builds an *http.Request (header map,
//     URL, a cancelable context) and runs the same http.Handler as
//     nethttp through a ResponseWriter whose header map and body buffer
//     are pooled; the response head is HPACK-encoded from the header map
//     when the handler returns. The per-request work a rampart HTTP/2
//     server keeping the http.Handler interface would do.
//
//   - h2: rampart's own HTTP/2 server, internal/h2, with rampart's
//     settings, serving the same handler as nethttp: the floor of
//     rampart's HTTP/2 path since internal/h2.
//
// Usage: floor -mode nethttp|lean|handler|h2 -addr 127.0.0.1:18182 -cert C -key K
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/rampart-edge/rampart/internal/h2"
)

var body = bytes.Repeat([]byte{'x'}, 1024)

// fields are the response header fields of a proxied bench/h2 response:
// the origin nginx's, plus rampart's request id and cache status.
var fields = [][2]string{
	{"Rampart-Request-Id", "0123456789abcdef"},
	{"Server", "nginx"},
	{"Date", "Mon, 07 Dec 2026 16:00:00 GMT"},
	{"Content-Type", "application/octet-stream"},
	{"Content-Length", "1024"},
	{"Last-Modified", "Mon, 07 Dec 2026 16:00:00 GMT"},
	{"Etag", `"6755a0a0-400"`},
	{"Accept-Ranges", "bytes"},
	{"Rampart-Cache", "BYPASS"},
}

func main() {
	mode := flag.String("mode", "nethttp", "nethttp, lean or handler")
	addr := flag.String("addr", "127.0.0.1:18182", "listen address")
	certFile := flag.String("cert", "", "certificate PEM")
	keyFile := flag.String("key", "", "key PEM")
	flag.Parse()
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		log.Fatal(err)
	}
	// SIGUSR1 prints the allocations so far: two signals around a run
	// give the allocations per request.
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		for range usr1 {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Fprintf(os.Stderr, "floor: mallocs %d bytes %d\n", ms.Mallocs, ms.TotalAlloc)
		}
	}()
	switch *mode {
	case "nethttp":
		err = serveNetHTTP(*addr, cert)
	case "lean":
		err = serveLean(*addr, cert, false)
	case "handler":
		err = serveLean(*addr, cert, true)
	case "h2":
		err = serveH2(*addr, cert)
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	fmt.Fprintln(os.Stderr, "floor:", err)
	os.Exit(1)
}

// handler answers like a proxied bench/h2 response.
var handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for _, f := range fields {
		h[f[0]] = []string{f[1]}
	}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
})

// serveNetHTTP serves with net/http, configured as internal/edge does.
func serveNetHTTP(addr string, cert tls.Certificate) error {
	srv := &http.Server{
		Addr:              addr,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}},
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams:          250,
			MaxReceiveBufferPerConnection: 1 << 20,
			MaxReceiveBufferPerStream:     1 << 20,
		},
		Handler: handler,
	}
	return srv.ListenAndServeTLS("", "")
}

// serveH2 serves with internal/h2, configured as internal/edge does.
func serveH2(addr string, cert tls.Certificate) error {
	ln, err := tls.Listen("tcp", addr, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}})
	if err != nil {
		return err
	}
	srv := &h2.Server{
		Handler:                       handler,
		MaxConcurrentStreams:          250,
		MaxReceiveBufferPerConnection: 1 << 20,
		MaxReceiveBufferPerStream:     1 << 20,
		ReadHeaderTimeout:             10 * time.Second,
		ReadTimeout:                   60 * time.Second,
		IdleTimeout:                   120 * time.Second,
	}
	for {
		nc, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			tc := nc.(*tls.Conn)
			if err := tc.Handshake(); err != nil {
				tc.Close()
				return
			}
			srv.ServeConn(tc)
		}()
	}
}

// serveLean serves with the minimal responder.
func serveLean(addr string, cert tls.Certificate, withHandler bool) error {
	ln, err := tls.Listen("tcp", addr, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}})
	if err != nil {
		return err
	}
	for {
		nc, err := ln.Accept()
		if err != nil {
			return err
		}
		go leanConn(nc, withHandler)
	}
}

// conn is one lean connection: the writer side, shared by the stream
// goroutines under mu.
type conn struct {
	mu      sync.Mutex
	bw      *bufio.Writer
	fr      *http2.Framer
	enc     *hpack.Encoder
	hbuf    bytes.Buffer
	pending int // streams whose response is not written yet
}

func leanConn(nc net.Conn, withHandler bool) {
	defer nc.Close()
	br := bufio.NewReaderSize(nc, 16<<10)
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(br, preface); err != nil || string(preface) != http2.ClientPreface {
		return
	}
	c := &conn{bw: bufio.NewWriterSize(nc, 16<<10)}
	c.fr = http2.NewFramer(c.bw, br)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.enc = hpack.NewEncoder(&c.hbuf)
	c.fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 250})
	for {
		if br.Buffered() == 0 {
			// About to block on the socket: whatever is written goes out
			// now unless a stream is still answering (its writer flushes).
			c.mu.Lock()
			if c.pending == 0 {
				c.bw.Flush()
			}
			c.mu.Unlock()
		}
		f, err := c.fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				c.mu.Lock()
				c.fr.WriteSettingsAck()
				c.mu.Unlock()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				c.mu.Lock()
				c.fr.WritePing(true, f.Data)
				c.mu.Unlock()
			}
		case *http2.MetaHeadersFrame:
			c.mu.Lock()
			c.pending++
			c.mu.Unlock()
			if withHandler {
				go c.serveStream(f, nc.RemoteAddr().String())
			} else {
				go c.respond(f.StreamID)
			}
		case *http2.GoAwayFrame:
			return
		}
	}
}

// respond writes one stream's response; the last pending writer flushes.
func (c *conn) respond(id uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hbuf.Reset()
	c.enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
	for _, f := range leanFields {
		c.enc.WriteField(f)
	}
	c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.hbuf.Bytes(), EndHeaders: true})
	c.fr.WriteData(id, true, body)
	c.pending--
	if c.pending == 0 {
		c.bw.Flush()
	}
}

// leanFields are fields with HTTP/2's lower-case names.
var leanFields = func() []hpack.HeaderField {
	var hf []hpack.HeaderField
	for _, f := range fields {
		hf = append(hf, hpack.HeaderField{Name: strings.ToLower(f[0]), Value: f[1]})
	}
	return hf
}()

// stream is one request's state in handler mode, pooled.
type stream struct {
	c      *conn
	id     uint32
	header http.Header
	buf    []byte
	status int
	req    http.Request
	url    url.URL
}

var streams = sync.Pool{New: func() any { return &stream{header: make(http.Header, 16)} }}

func (st *stream) Header() http.Header { return st.header }

func (st *stream) WriteHeader(code int) {
	if st.status == 0 {
		st.status = code
	}
}

func (st *stream) Write(p []byte) (int, error) {
	if st.status == 0 {
		st.status = http.StatusOK
	}
	st.buf = append(st.buf, p...)
	return len(p), nil
}

// serveStream builds the request of f, runs handler and writes its answer.
func (c *conn) serveStream(f *http2.MetaHeadersFrame, remote string) {
	st := streams.Get().(*stream)
	st.c, st.id, st.status, st.buf = c, f.StreamID, 0, st.buf[:0]
	reqHeader := make(http.Header, len(f.Fields))
	for _, hf := range f.RegularFields() {
		k := http.CanonicalHeaderKey(hf.Name)
		reqHeader[k] = append(reqHeader[k], hf.Value)
	}
	path := f.PseudoValue("path")
	st.url = url.URL{Path: path}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		st.url = url.URL{Path: path[:i], RawQuery: path[i+1:]}
	}
	ctx, cancel := context.WithCancel(context.Background())
	st.req = http.Request{
		Method: f.PseudoValue("method"), URL: &st.url, Proto: "HTTP/2.0", ProtoMajor: 2,
		Header: reqHeader, Host: f.PseudoValue("authority"), RemoteAddr: remote, RequestURI: path,
		Body: http.NoBody,
	}
	handler.ServeHTTP(st, st.req.WithContext(ctx))
	cancel()

	c.mu.Lock()
	c.hbuf.Reset()
	c.enc.WriteField(hpack.HeaderField{Name: ":status", Value: strconv.Itoa(st.status)})
	for k, vv := range st.header {
		name := lowerNames[k]
		if name == "" {
			name = strings.ToLower(k)
		}
		for _, v := range vv {
			c.enc.WriteField(hpack.HeaderField{Name: name, Value: v})
		}
	}
	c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: st.id, BlockFragment: c.hbuf.Bytes(), EndHeaders: true})
	c.fr.WriteData(st.id, true, st.buf)
	c.pending--
	if c.pending == 0 {
		c.bw.Flush()
	}
	c.mu.Unlock()
	clear(st.header)
	st.req = http.Request{}
	streams.Put(st)
}

// lowerNames maps common canonical header names to HTTP/2's lower case.
var lowerNames = func() map[string]string {
	m := make(map[string]string)
	for _, f := range fields {
		m[f[0]] = strings.ToLower(f[0])
	}
	return m
}()
