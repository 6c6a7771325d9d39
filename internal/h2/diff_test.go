package h2

// The differential test: each case serves the same handler with two
// references, x/net's HTTP/2 server (golang.org/x/net/http2, the version
// in go.mod) and net/http's (the copy of x/net bundled with the Go
// release, which rampart serves h2 with today), and with Server; sends
// the same requests (through golang.org/x/net/http2's Transport, or frame
// by frame for what the Transport will not send); and requires Server's
// outcome to be one of the references' (they differ where x/net has
// changed since the Go release's copy, e.g. x/net refuses a Host field
// that differs from :authority): status, headers (Date only present),
// body, trailers, 1xx responses, errors and resets by class, and what the
// handler saw.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// confWait bounds every wait in a case (a handler's report, a frame, a
// response): long, so that only a hang reaches it.
const confWait = 20 * time.Second

// confImpls are the servers compared: the references first.
var confImpls = []string{"x/net", "net/http", "h2"}

// confSrv is one server of a case, with an HTTP/2 client for it.
type confSrv struct {
	impl   string
	addr   string
	url    string // "https://" + addr
	tls    *tls.Config
	client *http.Client
	conns  atomic.Int32 // connections the client dialed
	// shutdown is the server's graceful shutdown (nil for x/net's
	// ServeConn, which has none).
	shutdown func(context.Context) error
}

// confServe serves h with impl on a loopback TLS listener until the test
// ends, and returns it with a client: x/net's Transport (through an
// http.Transport, for ExpectContinueTimeout) with 64 KiB receive windows,
// so that responses over 64 KiB depend on the server's flow control.
// confOpts are the servers' settings a case changes: zero, the defaults.
type confOpts struct {
	maxStreams uint32        // MaxConcurrentStreams
	idle       time.Duration // IdleTimeout
}

func confServe(t *testing.T, impl string, h http.Handler, opts confOpts) *confSrv {
	t.Helper()
	var serveConn func(net.Conn)
	var shutdown func(context.Context) error
	switch impl {
	case "x/net":
		serveConn = confXNetServeConn(h, opts)
	case "net/http":
		var hs *http.Server
		serveConn, hs = confNetHTTPServer(t, h, opts)
		shutdown = hs.Shutdown
	case "h2":
		s := &Server{Handler: h, MaxConcurrentStreams: opts.maxStreams, IdleTimeout: opts.idle}
		serveConn = s.ServeConn
		shutdown = s.Shutdown
	default:
		t.Fatalf("no server %q", impl)
	}
	tr := &confConnTracker{}
	addr, tlsConf := serveLoopbackTLS(t, tr.wrap(serveConn))
	srv := &confSrv{impl: impl, addr: addr, url: "https://" + addr, tls: tlsConf, shutdown: shutdown}
	var mu sync.Mutex
	var dialed []net.Conn
	t1 := &http.Transport{
		TLSClientConfig:       tlsConf.Clone(),
		ExpectContinueTimeout: confWait,
		HTTP2: &http.HTTP2Config{
			MaxReceiveBufferPerConnection: 64 << 10,
			MaxReceiveBufferPerStream:     64 << 10,
		},
	}
	t1.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&tls.Dialer{Config: t1.TLSClientConfig}).DialContext(ctx, network, addr)
		if err == nil {
			srv.conns.Add(1)
			mu.Lock()
			dialed = append(dialed, c)
			mu.Unlock()
		}
		return c, err
	}
	// x/net's Transport (http.Transport.Protocols would give net/http's
	// copy of it).
	//lint:ignore SA1019 x/net's client, deliberately.
	if _, err := http2.ConfigureTransports(t1); err != nil {
		t.Fatal(err)
	}
	srv.client = &http.Client{
		Transport:     t1,
		Timeout:       confWait,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	// Cleanups run last first: the client's connections close, then the
	// server's, then serveLoopback waits for its connections.
	t.Cleanup(tr.closeAll)
	t.Cleanup(func() {
		t1.CloseIdleConnections()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range dialed {
			c.Close()
		}
	})
	return srv
}

// confOutcome is what a case observed of one server.
type confOutcome struct {
	Err     string   // the request's error (class), or the raw stream's reset
	Info    []string // 1xx responses, "100-continue"
	Status  int
	Header  []string // "Name: value", sorted; Date's value is "<present>"
	Body    string   // the body; over 2 KiB, its length and hash
	BodyErr string   // reading the body (class)
	Trailer []string
	Extra   []string // the case's own observations (the handler's view)
	Conn    []string // raw exchanges: GOAWAY frames and the connection's end
}

func (o confOutcome) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "err: %s\n", o.Err)
	for _, s := range o.Info {
		fmt.Fprintf(&b, "1xx: %s\n", s)
	}
	fmt.Fprintf(&b, "status: %d\n", o.Status)
	for _, s := range o.Header {
		fmt.Fprintf(&b, "header: %s\n", s)
	}
	fmt.Fprintf(&b, "body: %q\nbody err: %s\n", o.Body, o.BodyErr)
	for _, s := range o.Trailer {
		fmt.Fprintf(&b, "trailer: %s\n", s)
	}
	for _, s := range o.Extra {
		fmt.Fprintf(&b, "extra: %s\n", s)
	}
	for _, s := range o.Conn {
		fmt.Fprintf(&b, "conn: %s\n", s)
	}
	return b.String()
}

// confDiffLines returns the lines of a and b that differ, marked - and +.
func confDiffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out strings.Builder
	for _, l := range al {
		if !slices.Contains(bl, l) {
			fmt.Fprintf(&out, "\t- %s\n", l)
		}
	}
	for _, l := range bl {
		if !slices.Contains(al, l) {
			fmt.Fprintf(&out, "\t+ %s\n", l)
		}
	}
	return out.String()
}

func confBodyString(b []byte) string {
	if len(b) <= 2<<10 {
		return string(b)
	}
	sum := sha256.Sum256(b)
	return fmt.Sprintf("<%d bytes, sha256 %x>", len(b), sum[:8])
}

// confHeaderLines returns h as sorted "Name: value" lines, Date's value
// replaced by "<present>".
func confHeaderLines(h http.Header) []string {
	var lines []string
	for k, vv := range h {
		for _, v := range vv {
			if k == "Date" && v != "" {
				v = "<present>"
			}
			if len(v) > 256 {
				v = confBodyString([]byte(v))
			}
			lines = append(lines, k+": "+v)
		}
	}
	slices.Sort(lines)
	return lines
}

// confErrClass is err's class: what either server may give for the same
// cause, without the text that differs (stream IDs, messages).
func confErrClass(err error) string {
	if err == nil {
		return ""
	}
	var se http2.StreamError
	if errors.As(err, &se) {
		return "stream error " + se.Code.String()
	}
	//lint:ignore SA1019 what x/net's Transport returns.
	var ge http2.GoAwayError
	if errors.As(err, &ge) {
		return "goaway " + ge.ErrCode.String()
	}
	var ce http2.ConnectionError
	if errors.As(err, &ce) {
		return "connection error " + http2.ErrCode(ce).String()
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "context canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected EOF"
	case errors.Is(err, io.EOF):
		return "EOF"
	case errors.Is(err, http.ErrBodyNotAllowed):
		return "body not allowed"
	case errors.Is(err, http.ErrContentLength):
		return "content length"
	case errors.Is(err, http.ErrNotSupported):
		return "not supported"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, net.ErrClosed), errors.Is(err, io.ErrClosedPipe):
		return "connection closed"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	}
	return "other"
}

// confDo sends req with srv's client and reads the whole response.
func confDo(t *testing.T, srv *confSrv, req *http.Request) confOutcome {
	t.Helper()
	var o confOutcome
	var mu sync.Mutex
	trace := &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			mu.Lock()
			defer mu.Unlock()
			o.Info = append(o.Info, fmt.Sprintf("%d %s", code, strings.Join(confHeaderLines(http.Header(h)), ", ")))
			return nil
		},
		Got100Continue: func() {
			mu.Lock()
			defer mu.Unlock()
			o.Info = append(o.Info, "got 100-continue")
		},
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, err := srv.client.Do(req)
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		o.Err = confErrClass(err)
		t.Logf("%s: %s %s: %v", srv.impl, req.Method, req.URL.Path, err)
		return o
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Errorf("%s: the response is %s, not HTTP/2", srv.impl, resp.Proto)
	}
	mu.Unlock()
	body, err := io.ReadAll(resp.Body)
	mu.Lock()
	if err != nil {
		t.Logf("%s: %s %s: reading the body: %v", srv.impl, req.Method, req.URL.Path, err)
	}
	o.Status = resp.StatusCode
	o.Header = confHeaderLines(resp.Header)
	o.Body = confBodyString(body)
	o.BodyErr = confErrClass(err)
	o.Trailer = confHeaderLines(resp.Trailer)
	return o
}

func confGet(t *testing.T, srv *confSrv, path string) confOutcome {
	t.Helper()
	return confDo(t, srv, confReq(t, "GET", srv.url+path, nil))
}

func confReq(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// confReport is the request-reporting handler: it reads the body and
// writes what it saw of the request.
func confReport(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, confRequestView(r))
}

// confRequestView reads r's body and describes r as a handler sees it.
func confRequestView(r *http.Request) string {
	var b strings.Builder
	declared := slices.Sorted(func(yield func(string) bool) {
		for k := range r.Trailer {
			if !yield(k) {
				return
			}
		}
	})
	body, err := io.ReadAll(r.Body)
	sum := sha256.Sum256(body)
	fmt.Fprintf(&b, "method=%s\nhost=%s\nurl=%s\nrequesturi=%s\nproto=%s %d.%d\n",
		r.Method, r.Host, r.URL, r.RequestURI, r.Proto, r.ProtoMajor, r.ProtoMinor)
	fmt.Fprintf(&b, "url.scheme=%q url.host=%q url.path=%q url.rawpath=%q url.rawquery=%q\n",
		r.URL.Scheme, r.URL.Host, r.URL.Path, r.URL.RawPath, r.URL.RawQuery)
	fmt.Fprintf(&b, "contentlength=%d transferencoding=%q close=%v\n", r.ContentLength, r.TransferEncoding, r.Close)
	tlsProto := "<nil>"
	if r.TLS != nil {
		tlsProto = r.TLS.NegotiatedProtocol
	}
	_, local := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	fmt.Fprintf(&b, "tls=%s localaddr=%v remotehost=%s\n", tlsProto, local, host)
	for _, l := range confHeaderLines(r.Header) {
		fmt.Fprintf(&b, "header %s\n", l)
	}
	fmt.Fprintf(&b, "trailer declared %q\n", declared)
	for _, l := range confHeaderLines(r.Trailer) {
		fmt.Fprintf(&b, "trailer %s\n", l)
	}
	fmt.Fprintf(&b, "body len=%d sha256=%x err=%s\n", len(body), sum[:8], confErrClass(err))
	// Each server listens on a port of its own.
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return strings.ReplaceAll(b.String(), a.String(), "<server address>")
	}
	return b.String()
}

// confRecv receives a handler's report, or says it timed out.
func confRecv(ch <-chan string) string {
	select {
	case s := <-ch:
		return s
	case <-time.After(confWait):
		return "<no report from the handler>"
	}
}

// confRawExchange dials srv with TLS, sends the preface and an empty
// SETTINGS, lets send write stream 1's frames (enc HPACK-encodes name,
// value pairs), and reads the server's frames until stream 1 ends, is
// reset, or the connection ends: the outcome as the wire shows it
// (header names as sent, DATA joined, RST_STREAM and GOAWAY in Err).
func confRawExchange(t *testing.T, srv *confSrv, send func(fr *http2.Framer, enc func(kv ...string) []byte)) confOutcome {
	t.Helper()
	return confRawExchangeOn(t, srv, 1, "", send)
}

// confRawExchangeOn is confRawExchange watching stream id; with waitFor
// set, after the response it waits (5s at most) for a connection event
// (confOutcome.Conn) that starts with it, if none has come yet: what a
// server may send a little later, from another goroutine.
func confRawExchangeOn(t *testing.T, srv *confSrv, id uint32, waitFor string, send func(fr *http2.Framer, enc func(kv ...string) []byte)) confOutcome {
	t.Helper()
	cfg := srv.tls.Clone()
	cfg.NextProtos = []string{"h2"}
	c, err := (&tls.Dialer{Config: cfg}).Dial("tcp", srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(confWait))
	bw := bufio.NewWriter(c)
	fr := http2.NewFramer(bw, c)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	fr.AllowIllegalWrites = true
	var hbuf bytes.Buffer
	henc := hpack.NewEncoder(&hbuf)
	enc := func(kv ...string) []byte {
		hbuf.Reset()
		for i := 0; i+1 < len(kv); i += 2 {
			henc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
		}
		return slices.Clone(hbuf.Bytes())
	}
	io.WriteString(bw, http2.ClientPreface)
	fr.WriteSettings()
	send(fr, enc)
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}

	// Read until the stream ends; then, if the connection lives, send a
	// PING and read until its acknowledgement, so that a GOAWAY the
	// server sends about then is seen whatever the order.
	var o confOutcome
	var body []byte
	final, done, closed, pinged := false, false, false, false
	waiting := func() bool {
		return waitFor != "" && !slices.ContainsFunc(o.Conn, func(s string) bool { return strings.HasPrefix(s, waitFor) })
	}
	for !closed {
		f, err := fr.ReadFrame()
		if err != nil {
			o.Conn = append(o.Conn, "ended ("+confErrClass(err)+")")
			break
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				fr.WritePing(true, f.Data)
			} else if f.Data == confPingData {
				// A second round trip, for what the server queues
				// as the stream ends (a RST_STREAM NO_ERROR).
				fr.WritePing(false, confPingData2)
			} else if f.Data == confPingData2 {
				if !waiting() {
					closed = true // done with the connection
					break
				}
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				pinged = true
			}
		case *http2.GoAwayFrame:
			o.Conn = append(o.Conn, "GOAWAY "+f.ErrCode.String())
			if f.ErrCode != http2.ErrCodeNo {
				done = true
			}
			closed = pinged && !waiting()
		case *http2.RSTStreamFrame:
			switch {
			case f.StreamID != id:
			case !done:
				o.Err = "RST_STREAM " + f.ErrCode.String()
				done = true
			default:
				o.Conn = append(o.Conn, "RST_STREAM after the response: "+f.ErrCode.String())
				closed = pinged && !waiting()
			}
		case *http2.MetaHeadersFrame:
			if f.StreamID != id || done {
				break
			}
			var fields []string
			status := 0
			for _, hf := range f.Fields {
				switch {
				case hf.Name == ":status":
					status, _ = strconv.Atoi(hf.Value)
				case hf.Name == "date":
					fields = append(fields, "date: <present>")
				default:
					fields = append(fields, hf.Name+": "+hf.Value)
				}
			}
			slices.Sort(fields)
			switch {
			case final:
				o.Trailer = fields
			case status >= 100 && status < 200:
				o.Info = append(o.Info, fmt.Sprintf("%d %s", status, strings.Join(fields, ", ")))
			default:
				final = true
				o.Status = status
				o.Header = fields
			}
			if f.StreamEnded() {
				done = true
				fr.WritePing(false, confPingData)
			}
		case *http2.DataFrame:
			if n := uint32(len(f.Data())); n > 0 {
				fr.WriteWindowUpdate(0, n)
				fr.WriteWindowUpdate(f.StreamID, n)
			}
			if f.StreamID != id || done {
				break
			}
			body = append(body, f.Data()...)
			if f.StreamEnded() {
				done = true
				fr.WritePing(false, confPingData)
			}
		}
		if done && o.Err != "" && !slices.Contains(o.Conn, "ping sent") {
			// A reset: the PING is sent here.
			fr.WritePing(false, confPingData)
			o.Conn = append(o.Conn, "ping sent")
		}
		if err := bw.Flush(); err != nil {
			o.Conn = append(o.Conn, "ended ("+confErrClass(err)+")")
			break
		}
	}
	o.Conn = slices.DeleteFunc(o.Conn, func(s string) bool { return s == "ping sent" })
	o.Body = confBodyString(body)
	return o
}

// confRawConn is a raw client connection read event by event: HEADERS,
// DATA, RST_STREAM and GOAWAY frames and the connection's end, as
// strings; SETTINGS, PING and WINDOW_UPDATE are answered and not shown.
type confRawConn struct {
	t    *testing.T
	c    net.Conn
	bw   *bufio.Writer
	fr   *http2.Framer
	enc  func(kv ...string) []byte
	ev   chan string
	mu   sync.Mutex    // the writer
	stop chan struct{} // closed when the test ends
	done chan struct{} // closed when read returns
}

func confDialRaw(t *testing.T, srv *confSrv) *confRawConn {
	t.Helper()
	cfg := srv.tls.Clone()
	cfg.NextProtos = []string{"h2"}
	c, err := (&tls.Dialer{Config: cfg}).Dial("tcp", srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	rc := &confRawConn{t: t, c: c, bw: bufio.NewWriter(c), ev: make(chan string, 100), stop: make(chan struct{}), done: make(chan struct{})}
	rc.fr = http2.NewFramer(rc.bw, c)
	rc.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	var hbuf bytes.Buffer
	henc := hpack.NewEncoder(&hbuf)
	rc.enc = func(kv ...string) []byte {
		hbuf.Reset()
		for i := 0; i+1 < len(kv); i += 2 {
			henc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
		}
		return slices.Clone(hbuf.Bytes())
	}
	t.Cleanup(func() { close(rc.stop); c.Close(); <-rc.done })
	rc.send(func(fr *http2.Framer, enc func(kv ...string) []byte) {
		io.WriteString(rc.bw, http2.ClientPreface)
		fr.WriteSettings()
	})
	go rc.read()
	return rc
}

// send writes frames (under the writer's lock) and flushes.
func (rc *confRawConn) send(f func(fr *http2.Framer, enc func(kv ...string) []byte)) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	f(rc.fr, rc.enc)
	rc.bw.Flush()
}

func (rc *confRawConn) read() {
	defer close(rc.done)
	defer close(rc.ev)
	for {
		f, err := rc.fr.ReadFrame()
		if err != nil {
			rc.emit("closed (" + confErrClass(err) + ")")
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				rc.send(func(fr *http2.Framer, _ func(...string) []byte) { fr.WriteSettingsAck() })
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				rc.send(func(fr *http2.Framer, _ func(...string) []byte) { fr.WritePing(true, f.Data) })
			}
		case *http2.GoAwayFrame:
			rc.emit(fmt.Sprintf("GOAWAY last=%d %s", f.LastStreamID, f.ErrCode))
		case *http2.RSTStreamFrame:
			rc.emit(fmt.Sprintf("RST_STREAM %d %s", f.StreamID, f.ErrCode))
		case *http2.MetaHeadersFrame:
			rc.emit(fmt.Sprintf("HEADERS %d :status=%s end=%v", f.StreamID, f.PseudoValue("status"), f.StreamEnded()))
		case *http2.DataFrame:
			if n := uint32(len(f.Data())); n > 0 {
				rc.send(func(fr *http2.Framer, _ func(...string) []byte) {
					fr.WriteWindowUpdate(0, n)
					fr.WriteWindowUpdate(f.StreamID, n)
				})
			}
			rc.emit(fmt.Sprintf("DATA %d %q end=%v", f.StreamID, f.Data(), f.StreamEnded()))
		}
	}
}

// emit passes an event on, unless the test has ended.
func (rc *confRawConn) emit(ev string) {
	select {
	case rc.ev <- ev:
	case <-rc.stop:
	}
}

// until returns the events up to and including the first for which stop
// is true, or those within d (then "<timeout>").
func (rc *confRawConn) until(d time.Duration, stop func(ev string) bool) []string {
	var evs []string
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-rc.ev:
			if !ok {
				return evs
			}
			evs = append(evs, ev)
			if stop(ev) {
				return evs
			}
		case <-timer.C:
			return append(evs, "<timeout>")
		}
	}
}

// confPingData marks the raw exchange's last PING.
var confPingData = [8]byte{'c', 'o', 'n', 'f', 'd', 'o', 'n', 'e'}
var confPingData2 = [8]byte{'c', 'o', 'n', 'f', 'd', 'o', 'n', '2'}

// confRawGetFields are a GET's pseudo-header fields to srv.
func confRawGetFields(srv *confSrv, method, path string) []string {
	return []string{":method", method, ":scheme", "https", ":authority", srv.addr, ":path", path}
}

// confDiffCase is one comparison: run is called once per server (with
// a server of its own, from serve) and returns what it saw.
type confDiffCase struct {
	name string
	run  func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome
	// check, if set, asserts what the outcome must be on either server,
	// beyond being the same.
	check func(t *testing.T, impl string, o confOutcome)
	// opts are the servers' settings.
	opts confOpts
	// accept, if set, decides whether h2's outcome differing from x/net's
	// is one of the differences server.go's package doc lists (the
	// reason in a comment at the case).
	accept func(ref, got confOutcome) bool
}

// confHandler serves the report handler at every path but the ones in
// extra.
func confHandler(extra map[string]http.HandlerFunc) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", confReport)
	for p, h := range extra {
		mux.HandleFunc(p, h)
	}
	return mux
}

// confSimple is a case: one request, built by req, to handler h.
func confSimple(h http.HandlerFunc, req func(t *testing.T, srv *confSrv) *http.Request) func(*testing.T, func(http.Handler) *confSrv) confOutcome {
	return func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
		srv := serve(h)
		return confDo(t, srv, req(t, srv))
	}
}

func confGetReq(path string) func(t *testing.T, srv *confSrv) *http.Request {
	return func(t *testing.T, srv *confSrv) *http.Request { return confReq(t, "GET", srv.url+path, nil) }
}

func confBodyReq(method, path string, n int, known bool) func(t *testing.T, srv *confSrv) *http.Request {
	return func(t *testing.T, srv *confSrv) *http.Request {
		var body io.Reader = bytes.NewReader(confPattern(n))
		if !known {
			body = io.MultiReader(body) // a reader of unknown length
		}
		req := confReq(t, method, srv.url+path, body)
		if !known {
			req.ContentLength = -1
		}
		return req
	}
}

// confPattern is n bytes of a repeating pattern.
func confPattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + (i+i/26)%26)
	}
	return b
}

// confWriteN writes n pattern bytes in chunks of chunk.
func confWriteN(n, chunk int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := confPattern(n)
		for len(p) > 0 {
			k := min(chunk, len(p))
			w.Write(p[:k])
			p = p[k:]
		}
	}
}

// confHeaderAbsent checks that none of names is in o's headers.
func confHeaderAbsent(names ...string) func(t *testing.T, impl string, o confOutcome) {
	return func(t *testing.T, impl string, o confOutcome) {
		for _, l := range o.Header {
			name, _, _ := strings.Cut(l, ":")
			for _, n := range names {
				if strings.EqualFold(name, n) {
					t.Errorf("%s: the response has %q", impl, l)
				}
			}
		}
	}
}

// confStatus checks the status.
func confStatus(want int) func(t *testing.T, impl string, o confOutcome) {
	return func(t *testing.T, impl string, o confOutcome) {
		if o.Status != want {
			t.Errorf("%s: status %d, want %d (%s)", impl, o.Status, want, o.Err)
		}
	}
}

func confDiffCases() []confDiffCase {
	return []confDiffCase{
		{
			name:  "GET small body",
			run:   confSimple(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello, world\n") }, confGetReq("/")),
			check: confStatus(200),
		},
		{
			name: "GET nothing written",
			run:  confSimple(func(w http.ResponseWriter, r *http.Request) {}, confGetReq("/")),
		},
		{
			name: "GET 1 MiB body in 16 KiB writes",
			run:  confSimple(confWriteN(1<<20, 16<<10), confGetReq("/")),
		},
		{
			name: "GET 1 MiB body in one write",
			run:  confSimple(confWriteN(1<<20, 1<<20), confGetReq("/")),
		},
		{
			name: "GET 4 KiB body written whole",
			run:  confSimple(confWriteN(4<<10, 4<<10), confGetReq("/")),
		},
		{
			// x/net buffers 4 KiB of a response, Server 8 KiB; a body
			// written whole that fits the buffer gets a Content-Length
			// (server.go: "Content-Length set for a body written whole
			// before the handler returns", with "buffered (8 KiB)").
			name: "GET 6 KiB body written whole",
			run:  confSimple(confWriteN(6<<10, 6<<10), confGetReq("/")),
			accept: func(ref, got confOutcome) bool {
				ref.Header = append(slices.Clone(ref.Header), "Content-Length: 6144")
				slices.Sort(ref.Header)
				return ref.String() == got.String()
			},
		},
		{
			name: "GET 20 KiB body written whole",
			run:  confSimple(confWriteN(20<<10, 20<<10), confGetReq("/")),
		},
		{
			name: "GET report path and query",
			run:  confSimple(confReport, confGetReq("/p/a%20b/c?x=1&y=%2F&z")),
		},
		{
			name: "GET report with Host override",
			run: confSimple(confReport, func(t *testing.T, srv *confSrv) *http.Request {
				req := confReq(t, "GET", srv.url+"/host", nil)
				req.Host = "virtual.example:8443"
				return req
			}),
		},
		{
			name: "HEAD with Content-Length set by the handler",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "1234")
			}, func(t *testing.T, srv *confSrv) *http.Request { return confReq(t, "HEAD", srv.url+"/", nil) }),
		},
		{
			name: "HEAD with a body written by the handler",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "<html>a body HEAD must not carry")
			}, func(t *testing.T, srv *confSrv) *http.Request { return confReq(t, "HEAD", srv.url+"/", nil) }),
		},
		{
			name: "HEAD raw: no DATA",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.WriteString(w, "a body HEAD must not carry")
				}))
				return confRawExchange(t, srv, func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "HEAD", "/")...)})
				})
			},
		},
		{
			name: "POST 0 bytes",
			run:  confSimple(confReport, confBodyReq("POST", "/post", 0, true)),
		},
		{
			name: "POST 1 KiB",
			run:  confSimple(confReport, confBodyReq("POST", "/post", 1<<10, true)),
		},
		{
			name: "POST 3 MiB",
			run:  confSimple(confReport, confBodyReq("POST", "/post", 3<<20, true)),
		},
		{
			name: "POST 1 KiB of unknown length",
			run:  confSimple(confReport, confBodyReq("POST", "/post", 1<<10, false)),
		},
		{
			name: "POST 3 MiB the handler does not read",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "not read")
			}, confBodyReq("POST", "/post", 3<<20, true)),
		},
		{
			name: "PUT 100 KiB",
			run:  confSimple(confReport, confBodyReq("PUT", "/put", 100<<10, true)),
		},
		{
			name: "POST raw Content-Length 10, 5 bytes sent",
			run:  confRawBodyCase("10", "hello", true),
		},
		{
			name: "POST raw Content-Length 3, 5 bytes sent",
			run:  confRawBodyCase("3", "hello", true),
		},
		{
			name: "POST raw Content-Length 5, 5 bytes in two DATA frames",
			run:  confRawBodyCase("5", "hello", false),
		},
		{
			name: "POST raw Content-Length not a number",
			run:  confRawBodyCase("five", "hello", true),
		},
		{
			name: "request trailers",
			run: confSimple(confReport, func(t *testing.T, srv *confSrv) *http.Request {
				req := confReq(t, "POST", srv.url+"/trailers", io.MultiReader(strings.NewReader("body before the trailers")))
				req.ContentLength = -1
				req.Trailer = http.Header{"X-Req-Trailer": {"tv"}, "X-Other": {"o1"}}
				return req
			}),
		},
		{
			name: "request trailers raw, undeclared",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(confReport))
				return confRawExchange(t, srv, func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "POST", "/")...)})
					fr.WriteData(1, false, []byte("body"))
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true, BlockFragment: enc("x-undeclared", "u")})
				})
			},
		},
		{
			name: "response trailers declared with Trailer",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Trailer", "X-Sum, X-Count")
				io.WriteString(w, "body")
				w.Header().Set("X-Sum", "abc")
				w.Header().Set("X-Count", "4")
			}, confGetReq("/")),
		},
		{
			name: "response trailers with TrailerPrefix",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "body")
				w.(http.Flusher).Flush()
				w.Header().Set(http.TrailerPrefix+"X-Late", "late")
			}, confGetReq("/")),
		},
		{
			name: "response trailers with TrailerPrefix and no body",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(http.TrailerPrefix+"X-Only", "only")
			}, confGetReq("/")),
		},
		{
			name: "response trailer declared, never set",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Trailer", "X-Never")
				io.WriteString(w, "body")
			}, confGetReq("/")),
		},
		{
			name: "response trailers raw",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Trailer", "X-Sum")
					io.WriteString(w, "body")
					w.Header().Set("X-Sum", "abc")
					w.Header().Set(http.TrailerPrefix+"X-Late", "late")
				}))
				return confRawExchange(t, srv, func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "GET", "/")...)})
				})
			},
		},
		{
			name: "1xx: two 103 then 200",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Link", "</style.css>; rel=preload; as=style")
				w.WriteHeader(http.StatusEarlyHints)
				w.Header().Add("Link", "</script.js>; rel=preload; as=script")
				w.WriteHeader(http.StatusEarlyHints)
				w.Header().Set("X-Final", "yes")
				io.WriteString(w, "final")
			}, confGetReq("/")),
		},
		{
			name: "1xx raw: 103 then 200",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Link", "</style.css>; rel=preload")
					w.WriteHeader(http.StatusEarlyHints)
					io.WriteString(w, "final")
				}))
				return confRawExchange(t, srv, func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "GET", "/")...)})
				})
			},
		},
		{
			name: "Expect 100-continue, handler reads the body",
			run: confSimple(confReport, func(t *testing.T, srv *confSrv) *http.Request {
				req := confReq(t, "POST", srv.url+"/continue", bytes.NewReader(confPattern(10<<10)))
				req.Header.Set("Expect", "100-continue")
				return req
			}),
			check: func(t *testing.T, impl string, o confOutcome) {
				if !slices.Contains(o.Info, "got 100-continue") {
					t.Errorf("%s: no 100 Continue: %q", impl, o.Info)
				}
			},
		},
		{
			name: "Expect 100-continue, handler answers 417 unread",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusExpectationFailed)
			}, func(t *testing.T, srv *confSrv) *http.Request {
				req := confReq(t, "POST", srv.url+"/continue", bytes.NewReader(confPattern(10<<10)))
				req.Header.Set("Expect", "100-continue")
				return req
			}),
		},
		{
			// The client waits for the 100 before it sends the body.
			// (Sent with the HEADERS, a body may be buffered before the
			// handler reads: x/net and net/http answer 100 all the same,
			// Server does not, as RFC 9110 10.1.1 allows; by timing, so
			// not tested here.)
			name: "Expect 100-continue raw, handler reads the body",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					b, err := io.ReadAll(r.Body)
					fmt.Fprintf(w, "read %q %s", b, confErrClass(err))
				}))
				rc := confDialRaw(t, srv)
				rc.send(func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fields := append(confRawGetFields(srv, "POST", "/"), "expect", "100-continue", "content-length", "4")
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: enc(fields...)})
				})
				var o confOutcome
				o.Extra = append(o.Extra, "before the body: "+strings.Join(rc.until(confWait, func(ev string) bool { return strings.HasPrefix(ev, "HEADERS 1") }), ", "))
				rc.send(func(fr *http2.Framer, enc func(kv ...string) []byte) { fr.WriteData(1, true, []byte("body")) })
				o.Extra = append(o.Extra, "after: "+strings.Join(rc.until(confWait, func(ev string) bool {
					return strings.HasPrefix(ev, "RST_STREAM 1") || strings.HasPrefix(ev, "closed") || strings.Contains(ev, " 1 ") && strings.HasSuffix(ev, "end=true")
				}), ", "))
				return o
			},
		},
		{
			name: "handler panics before writing, then a second request",
			run:  confPanicCase(func(w http.ResponseWriter) { panic("boom") }),
		},
		{
			name: "handler panics after a flush",
			run: confPanicCase(func(w http.ResponseWriter) {
				io.WriteString(w, "partial")
				w.(http.Flusher).Flush()
				panic("boom")
			}),
		},
		{
			name: "handler panics with ErrAbortHandler after writing",
			run: confPanicCase(func(w http.ResponseWriter) {
				io.WriteString(w, "partial, buffered")
				panic(http.ErrAbortHandler)
			}),
		},
		{
			name: "handler panics raw",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
				return confRawExchange(t, srv, func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "GET", "/")...)})
				})
			},
		},
		{
			name: "Flush then write more (the client reads the first part before the handler goes on)",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				goOn := make(chan struct{})
				report := make(chan string, 1)
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.WriteString(w, "first\n")
					w.(http.Flusher).Flush()
					select {
					case <-goOn:
						report <- "the client read the first part"
					case <-time.After(confWait):
						report <- "the client never read the first part"
					}
					io.WriteString(w, "second\n")
				}))
				req := confReq(t, "GET", srv.url+"/", nil)
				resp, err := srv.client.Do(req)
				if err != nil {
					return confOutcome{Err: confErrClass(err)}
				}
				defer resp.Body.Close()
				br := bufio.NewReader(resp.Body)
				first, err := br.ReadString('\n')
				close(goOn)
				rest, err2 := io.ReadAll(br)
				return confOutcome{
					Status: resp.StatusCode, Header: confHeaderLines(resp.Header),
					Body: first + string(rest), BodyErr: confErrClass(errors.Join(err, err2)),
					Extra: []string{confRecv(report)},
				}
			},
		},
		{
			name: "Content-Type sniffed: HTML",
			run:  confSimple(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<!DOCTYPE html><html><body>hi") }, confGetReq("/")),
		},
		{
			name: "Content-Type sniffed: binary",
			run:  confSimple(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte{0, 1, 2, 3, 0xff, 0xfe}) }, confGetReq("/")),
		},
		{
			name: "Content-Type sniffed from two writes",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "%PD")
				io.WriteString(w, "F-1.4 a pdf")
			}, confGetReq("/")),
		},
		{
			name: "Content-Type not sniffed when set empty",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Content-Type"] = nil
				io.WriteString(w, "<html>")
			}, confGetReq("/")),
		},
		{
			name: "Date suppressed with a nil value",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Date"] = nil
				io.WriteString(w, "no date")
			}, confGetReq("/")),
		},
		{
			name: "Content-Length set by the handler",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "5")
				io.WriteString(w, "hello")
			}, confGetReq("/")),
		},
		{
			name: "Content-Length not a number, set by the handler, raw",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", "five")
					io.WriteString(w, "hello")
				}))
				return confRawExchange(t, srv, func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "GET", "/")...)})
				})
			},
		},
		{
			name: "Content-Length 0 set by the handler, nothing written",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "0")
			}, confGetReq("/")),
		},
		{
			// server.go: "one returning short of it has what it wrote
			// sent, then the stream reset"; net/http ends the stream
			// (the Transport finds the body short).
			name: "Content-Length set by the handler, body short",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "10")
				io.WriteString(w, "hello")
			}, confGetReq("/")),
			accept: confAcceptWith(func(o *confOutcome) {
				if o.BodyErr == "unexpected EOF" {
					o.BodyErr = "stream error INTERNAL_ERROR"
				}
			}),
		},
		{
			name: "Content-Length set by the handler, body short, raw",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", "10")
					io.WriteString(w, "hello")
				}))
				return confRawExchange(t, srv, func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "GET", "/")...)})
				})
			},
			accept: confAcceptWith(func(o *confOutcome) {
				if o.Err == "" {
					o.Err = "RST_STREAM INTERNAL_ERROR"
				}
			}),
		},
		{
			name: "Content-Length set by the handler, body long",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				report := make(chan string, 1)
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", "3")
					_, err := io.WriteString(w, "hello")
					report <- "write: " + confErrClass(err)
				}))
				o := confGet(t, srv, "/")
				o.Extra = append(o.Extra, confRecv(report))
				return o
			},
			// server.go: "A handler writing past its Content-Length gets
			// http.ErrContentLength after the bytes that fit, and the
			// response ends complete at its declared length"; net/http's
			// Write returns nil and sends it all (the Transport cuts
			// the body at the Content-Length and fails).
			accept: confAcceptWith(func(o *confOutcome) {
				if o.BodyErr == "other" && slices.Equal(o.Extra, []string{"write: "}) {
					o.BodyErr, o.Extra = "", []string{"write: content length"}
				}
			}),
		},
		{
			name: "Content-Length set by the handler, body long, raw",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", "3")
					io.WriteString(w, "hello")
				}))
				return confRawExchange(t, srv, func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "GET", "/")...)})
				})
			},
			// As above: Server sends the 3 bytes that fit, net/http all 5.
			accept: confAcceptWith(func(o *confOutcome) {
				if o.Body == "hello" {
					o.Body = "hel"
				}
			}),
		},
		{
			name: "connection-specific response headers dropped",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Connection", "close")
				w.Header().Set("Keep-Alive", "timeout=5")
				w.Header().Set("Proxy-Connection", "keep-alive")
				w.Header().Set("Transfer-Encoding", "chunked")
				w.Header().Set("Upgrade", "h2c")
				w.Header().Set("X-Ok", "ok")
				io.WriteString(w, "body")
			}, confGetReq("/")),
			check: confHeaderAbsent("Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade"),
		},
		{
			name: "connection-specific response headers dropped, raw",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Connection", "close")
					w.Header().Set("Keep-Alive", "timeout=5")
					w.Header().Set("Proxy-Connection", "keep-alive")
					w.Header().Set("Transfer-Encoding", "chunked")
					w.Header().Set("Upgrade", "h2c")
					w.Header().Set("X-Ok", "ok")
					io.WriteString(w, "body")
				}))
				// Connection: close from a handler: GOAWAY, perhaps a
				// little after the response.
				return confRawExchangeOn(t, srv, 1, "GOAWAY", func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "GET", "/")...)})
				})
			},
			check: func(t *testing.T, impl string, o confOutcome) {
				if impl != "h2" {
					// x/net drops only Connection and Transfer-Encoding:
					// the others go on the wire (RFC 9113 8.2.2 forbids
					// them; x/net's Transport drops them).
					confHeaderAbsent("Connection", "Transfer-Encoding")(t, impl, o)
					return
				}
				confHeaderAbsent("Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade")(t, impl, o)
			},
			// server.go: "minus the connection-specific fields HTTP/2
			// forbids (Connection, Keep-Alive, Proxy-Connection,
			// Transfer-Encoding, Upgrade)"; x/net sends three of them.
			accept: func(ref, got confOutcome) bool {
				ref.Header = slices.DeleteFunc(slices.Clone(ref.Header), func(l string) bool {
					name, _, _ := strings.Cut(l, ":")
					return name == "keep-alive" || name == "proxy-connection" || name == "upgrade"
				})
				return ref.String() == got.String()
			},
		},
		{
			name: "invalid response header names and values dropped, raw",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					h := w.Header()
					h["X-Newline"] = []string{"a\r\nX-Injected: 1"}
					h["X-Nul"] = []string{"a\x00b"}
					h["Bad Name"] = []string{"v"}
					h["X-Colon:"] = []string{"v"}
					h["X-Good"] = []string{"ok", "also ok"}
					h["X-Tab"] = []string{"a\tb"}
					io.WriteString(w, "body")
				}))
				return confRawExchange(t, srv, func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "GET", "/")...)})
				})
			},
		},
		{
			name: "cookies: two cookie fields joined, raw",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("X-Seen-Cookie", strings.Join(r.Header["Cookie"], " | "))
					w.Header().Set("X-Seen-Cookies", fmt.Sprint(r.Cookies()))
					confReport(w, r)
				}))
				return confRawExchange(t, srv, func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fields := append(confRawGetFields(srv, "GET", "/"), "cookie", "a=1", "x-other", "o", "cookie", "b=2", "cookie", "c=3; d=4")
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true, BlockFragment: enc(fields...)})
				})
			},
			check: func(t *testing.T, impl string, o confOutcome) {
				if !slices.Contains(o.Header, "x-seen-cookie: a=1; b=2; c=3; d=4") {
					t.Errorf("%s: the handler saw cookies %q", impl, o.Header)
				}
			},
		},
		{
			name: "cookies through the Transport",
			run: confSimple(confReport, func(t *testing.T, srv *confSrv) *http.Request {
				req := confReq(t, "GET", srv.url+"/", nil)
				req.AddCookie(&http.Cookie{Name: "a", Value: "1"})
				req.AddCookie(&http.Cookie{Name: "b", Value: "2"})
				req.Header.Add("Cookie", "c=3")
				return req
			}),
		},
		{
			name: ":authority only, raw",
			run:  confRawReportCase(":method", "GET", ":scheme", "https", ":authority", "a.example", ":path", "/"),
		},
		{
			name: "host only, no :authority, raw",
			run:  confRawReportCase(":method", "GET", ":scheme", "https", ":path", "/", "host", "b.example"),
		},
		{
			name: ":authority and a different host, raw",
			run:  confRawReportCase(":method", "GET", ":scheme", "https", ":authority", "a.example", ":path", "/", "host", "b.example"),
		},
		{
			name: "OPTIONS *, raw",
			run:  confRawReportCase(":method", "OPTIONS", ":scheme", "https", ":authority", "a.example", ":path", "*"),
		},
		{
			name: "CONNECT, raw",
			run:  confRawReportCase(":method", "CONNECT", ":authority", "a.example:443"),
		},
		{
			name: "absolute :path with query and fragment-like text, raw",
			run:  confRawReportCase(":method", "GET", ":scheme", "https", ":authority", "a.example", ":path", "/x/../y/%2e%2E/z?q=a%20b#frag"),
		},
		{
			name: "missing :path, raw",
			run:  confRawReportCase(":method", "GET", ":scheme", "https", ":authority", "a.example"),
		},
		{
			name: "uppercase header name, raw",
			run:  confRawReportCase(":method", "GET", ":scheme", "https", ":authority", "a.example", ":path", "/", "X-Upper", "v"),
		},
		{
			name: "TE: trailers accepted, raw",
			run:  confRawReportCase(":method", "GET", ":scheme", "https", ":authority", "a.example", ":path", "/", "te", "trailers"),
		},
		{
			// server.go: "the connection-specific fields and a TE other
			// than "trailers" refused (stream error PROTOCOL_ERROR)";
			// x/net answers 400.
			name:   "connection header in a request, raw",
			run:    confRawReportCase(":method", "GET", ":scheme", "https", ":authority", "a.example", ":path", "/", "connection", "keep-alive"),
			accept: confAcceptRefused,
		},
		{
			name:   "TE: gzip in a request, raw",
			run:    confRawReportCase(":method", "GET", ":scheme", "https", ":authority", "a.example", ":path", "/", "te", "gzip"),
			accept: confAcceptRefused,
		},
		{
			name: "GET 1 MiB raw (64 KiB windows, updated as DATA arrives)",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(confWriteN(1<<20, 1<<20))
				return confRawExchange(t, srv, func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "GET", "/")...)})
				})
			},
		},
		{
			name: "request headers in HEADERS and two CONTINUATION frames, raw",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(confReport))
				return confRawExchange(t, srv, func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fields := append(confRawGetFields(srv, "GET", "/cont"), "x-a", strings.Repeat("a", 100), "x-b", "b")
					block := enc(fields...)
					third := len(block) / 3
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, BlockFragment: block[:third]})
					fr.WriteContinuation(1, false, block[third:2*third])
					fr.WriteContinuation(1, true, block[2*third:])
				})
			},
		},
		{
			name: "absolute-form :path, raw",
			run:  confRawReportCase(":method", "GET", ":scheme", "https", ":authority", "a.example", ":path", "https://a.example/abs?q"),
		},
		{
			name: "POST the handler does not read, stream left open, raw",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.WriteString(w, "not read")
				}))
				return confRawExchangeOn(t, srv, 1, "RST_STREAM after", func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "POST", "/")...)})
					fr.WriteData(1, false, []byte("some of the body"))
				})
			},
		},
		{
			// x/net refuses a stream beyond its limit with PROTOCOL_ERROR
			// once the client has acknowledged its SETTINGS, and with
			// REFUSED_STREAM before: here the client acknowledges them only
			// after sending its requests.
			name: "a stream beyond MaxConcurrentStreams (2), raw",
			opts: confOpts{maxStreams: 2},
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					select {
					case <-r.Context().Done():
					case <-time.After(confWait):
					}
				}))
				return confRawExchangeOn(t, srv, 5, "", func(fr *http2.Framer, enc func(kv ...string) []byte) {
					for _, id := range []uint32{1, 3, 5} {
						fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndStream: true, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "GET", "/")...)})
					}
				})
			},
			check: func(t *testing.T, impl string, o confOutcome) {
				if o.Err != "RST_STREAM REFUSED_STREAM" {
					t.Errorf("%s: the third stream: %q, want RST_STREAM REFUSED_STREAM", impl, o.Err)
				}
			},
		},
		{
			name: "request header of 100 KiB",
			run: confSimple(confReport, func(t *testing.T, srv *confSrv) *http.Request {
				req := confReq(t, "GET", srv.url+"/", nil)
				req.Header.Set("X-Big", string(confPattern(100<<10)))
				return req
			}),
		},
		{
			name: "request header list over 1 MiB in CONTINUATION frames, raw",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(confReport))
				return confRawExchange(t, srv, func(fr *http2.Framer, enc func(kv ...string) []byte) {
					big := strings.Repeat("b", 600<<10)
					block := enc(append(confRawGetFields(srv, "GET", "/big"), "x-big-1", big, "x-big-2", big)...)
					const chunk = 16 << 10
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, BlockFragment: block[:chunk]})
					for off := chunk; off < len(block); off += chunk {
						end := min(off+chunk, len(block))
						fr.WriteContinuation(1, end == len(block), block[off:end])
					}
				})
			},
			check: confStatus(http.StatusRequestHeaderFieldsTooLarge),
		},
		{
			name: "request context cancelled when the client resets the stream after the response headers",
			run:  confCancelCase(true),
		},
		{
			name: "request context cancelled when the client resets the stream before the response",
			run:  confCancelCase(false),
		},
		{
			name: "request context cancelled by RST_STREAM, raw",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				started := make(chan struct{})
				report := make(chan string, 1)
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path != "/block" {
						io.WriteString(w, "not blocked")
						return
					}
					close(started)
					select {
					case <-r.Context().Done():
						report <- "context done: " + confErrClass(r.Context().Err())
					case <-time.After(confWait):
						report <- "context not done"
					}
				}))
				// Stream 1 is reset before its handler can answer; stream 3
				// shows the connection still serves.
				o := confRawExchangeOn(t, srv, 3, "", func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "GET", "/block")...)})
					fr.WriteRSTStream(1, http2.ErrCodeCancel)
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, EndStream: true, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "GET", "/")...)})
				})
				o.Extra = append(o.Extra, confRecv(report))
				select {
				case <-started:
				default:
					o.Extra = append(o.Extra, "handler not started")
				}
				return o
			},
		},
		{
			name: "the client resets a stream whose body the handler reads, raw",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				report := make(chan string, 1)
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path != "/upload" {
						io.WriteString(w, "other")
						return
					}
					b, err := io.ReadAll(r.Body)
					// The error's type is the servers' own (x/net's a
					// StreamError): only whether there is one counts.
					s := fmt.Sprintf("read %q err=%v", b, err != nil)
					select {
					case <-r.Context().Done():
						s += ", context done: " + confErrClass(r.Context().Err())
					case <-time.After(confWait):
						s += ", context not done"
					}
					report <- s
				}))
				o := confRawExchangeOn(t, srv, 3, "", func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "POST", "/upload")...)})
					fr.WriteData(1, false, []byte("part"))
					fr.WriteRSTStream(1, http2.ErrCodeCancel)
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, EndStream: true, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "GET", "/")...)})
				})
				o.Extra = append(o.Extra, confRecv(report))
				return o
			},
		},
		{
			name: "POST body in padded DATA frames, raw",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(confReport))
				return confRawExchange(t, srv, func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fields := append(confRawGetFields(srv, "POST", "/"), "content-length", "10")
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: enc(fields...), PadLength: 7})
					fr.WriteDataPadded(1, false, []byte("01234"), make([]byte, 200))
					fr.WriteDataPadded(1, false, []byte("56789"), make([]byte, 0))
					fr.WriteDataPadded(1, true, nil, make([]byte, 30))
				})
			},
		},
		{
			name: "request with trailers and no DATA, raw",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(confReport))
				return confRawExchange(t, srv, func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fields := append(confRawGetFields(srv, "POST", "/"), "trailer", "x-t")
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: enc(fields...)})
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true, BlockFragment: enc("x-t", "tv")})
				})
			},
		},
		{
			name: "request trailers with a pseudo-header field, raw",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(confReport))
				return confRawExchange(t, srv, func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "POST", "/")...)})
					fr.WriteData(1, false, []byte("body"))
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true, BlockFragment: enc(":path", "/x")})
				})
			},
		},
		{
			name: "100 concurrent requests on one connection",
			run:  confConcurrentCase(100),
		},
		{
			name: "500 sequential requests on one connection",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("X-Path", r.URL.Path)
					w.Header().Set("X-Varying-"+strconv.Itoa(len(r.URL.Path)%7), r.URL.RawQuery)
					io.WriteString(w, r.URL.Path)
				}))
				var o confOutcome
				bad := 0
				for i := range 500 {
					path := fmt.Sprintf("/seq/%d", i)
					got := confGet(t, srv, path+"?q="+strconv.Itoa(i%13))
					if got.Status != 200 || got.Body != path || !slices.Contains(got.Header, "X-Path: "+path) {
						bad++
						if bad <= 3 {
							o.Extra = append(o.Extra, fmt.Sprintf("request %d: %s", i, strings.ReplaceAll(got.String(), "\n", "; ")))
						}
					}
				}
				o.Extra = append(o.Extra, fmt.Sprintf("%d of 500 wrong, connections: %d", bad, srv.conns.Load()))
				return o
			},
		},
		{
			name: "Shutdown with a stream in flight, raw",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				started := make(chan struct{}, 1)
				release := make(chan struct{})
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/block" {
						started <- struct{}{}
						select {
						case <-release:
						case <-time.After(confWait):
						}
					}
					io.WriteString(w, r.URL.Path)
				}))
				if srv.shutdown == nil {
					return confOutcome{Extra: []string{"no Shutdown"}}
				}
				var o confOutcome
				rc := confDialRaw(t, srv)
				rc.send(func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "GET", "/block")...)})
				})
				select {
				case <-started:
				case <-time.After(confWait):
					return confOutcome{Extra: []string{"the handler did not start"}}
				}
				shut := make(chan string, 1)
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), confWait)
					defer cancel()
					shut <- "Shutdown: " + confErrClass(srv.shutdown(ctx))
				}()
				isGoAway := func(ev string) bool { return strings.HasPrefix(ev, "GOAWAY") }
				o.Extra = append(o.Extra, "until GOAWAY: "+strings.Join(rc.until(confWait, isGoAway), ", "))
				select {
				case s := <-shut:
					o.Extra = append(o.Extra, "returned with a stream open: "+s)
				default:
				}
				// A new stream after the GOAWAY, then the first answered.
				rc.send(func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, EndStream: true, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "GET", "/late")...)})
				})
				close(release)
				isClosed := func(ev string) bool { return strings.HasPrefix(ev, "closed") }
				o.Extra = append(o.Extra, "then: "+strings.Join(rc.until(confWait, isClosed), ", "))
				select {
				case s := <-shut:
					o.Extra = append(o.Extra, s)
				case <-time.After(confWait):
					o.Extra = append(o.Extra, "Shutdown did not return")
				}
				return o
			},
		},
		{
			name: "IdleTimeout (1s): GOAWAY, then the connection closed, raw",
			opts: confOpts{idle: time.Second},
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
				rc := confDialRaw(t, srv)
				rc.send(func(fr *http2.Framer, enc func(kv ...string) []byte) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "GET", "/")...)})
				})
				evs := rc.until(confWait, func(ev string) bool { return strings.HasPrefix(ev, "closed") })
				return confOutcome{Extra: evs}
			},
		},
		{
			// Rapid reset (CVE-2023-44487): handlers that do not notice
			// the resets; MaxConcurrentStreams run, 4x that wait, and
			// beyond the connection is closed.
			name: "rapid reset of 100 streams, handlers slow to notice (MaxConcurrentStreams 4), raw",
			opts: confOpts{maxStreams: 4},
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				release := make(chan struct{})
				defer close(release)
				var ran atomic.Int32
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					ran.Add(1)
					select {
					case <-release:
					case <-time.After(confWait):
					}
				}))
				rc := confDialRaw(t, srv)
				rc.send(func(fr *http2.Framer, enc func(kv ...string) []byte) {
					for i := range 100 {
						id := uint32(2*i + 1)
						fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndStream: true, EndHeaders: true, BlockFragment: enc(confRawGetFields(srv, "GET", "/")...)})
						fr.WriteRSTStream(id, http2.ErrCodeCancel)
					}
				})
				var o confOutcome
				for _, ev := range rc.until(confWait, func(ev string) bool { return strings.HasPrefix(ev, "closed") }) {
					if strings.HasPrefix(ev, "GOAWAY") {
						// The last stream id depends on when the
						// server stopped reading.
						f := strings.Fields(ev)
						ev = f[0] + " " + f[len(f)-1]
					}
					o.Extra = append(o.Extra, ev)
				}
				o.Extra = append(o.Extra, fmt.Sprintf("at most 4 handlers ran: %v", ran.Load() <= 4))
				return o
			},
		},
		{
			name: "50 response header fields",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				for i := range 50 {
					w.Header().Set(fmt.Sprintf("X-Field-%02d", i), strings.Repeat(strconv.Itoa(i%10), 100))
				}
				io.WriteString(w, "many headers")
			}, confGetReq("/")),
		},
		{
			name: "204 with a body written",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				report := make(chan string, 1)
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(http.StatusNoContent)
					_, err := io.WriteString(w, "not allowed")
					report <- "write: " + confErrClass(err)
				}))
				o := confGet(t, srv, "/")
				o.Extra = append(o.Extra, confRecv(report))
				return o
			},
		},
		{
			name: "304 with a body written",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("ETag", `"x"`)
				w.WriteHeader(http.StatusNotModified)
				io.WriteString(w, "not allowed")
			}, confGetReq("/")),
		},
		{
			name: "WriteHeader twice",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusCreated)
				w.WriteHeader(http.StatusInternalServerError)
				io.WriteString(w, "created")
			}, confGetReq("/")),
		},
		{
			name: "headers changed after WriteHeader are not sent",
			run: confSimple(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Before", "1")
				w.WriteHeader(http.StatusAccepted)
				w.Header().Set("X-After", "2")
				io.WriteString(w, "accepted")
			}, confGetReq("/")),
		},
		{
			name: "status 999 and status 600",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					code, _ := strconv.Atoi(r.URL.Query().Get("code"))
					w.WriteHeader(code)
				}))
				o := confGet(t, srv, "/?code=999")
				o2 := confGet(t, srv, "/?code=600")
				o.Extra = append(o.Extra, "second: "+strings.ReplaceAll(o2.String(), "\n", "; "))
				return o
			},
		},
		{
			name: "ResponseController methods",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					rc := http.NewResponseController(w)
					res := []string{
						"SetReadDeadline: " + confErrClass(rc.SetReadDeadline(time.Now().Add(confWait))),
						"SetWriteDeadline: " + confErrClass(rc.SetWriteDeadline(time.Now().Add(confWait))),
						"EnableFullDuplex: " + confErrClass(rc.EnableFullDuplex()),
					}
					io.WriteString(w, "x")
					res = append(res, "Flush: "+confErrClass(rc.Flush()))
					_, _, err := rc.Hijack()
					res = append(res, "Hijack: "+confErrClass(err))
					io.WriteString(w, strings.Join(res, "\n"))
				}))
				return confGet(t, srv, "/")
			},
		},
		{
			name: "full-duplex echo",
			run: func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
				srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.NewResponseController(w).EnableFullDuplex()
					w.WriteHeader(200)
					w.(http.Flusher).Flush()
					br := bufio.NewReader(r.Body)
					for {
						line, err := br.ReadString('\n')
						if line != "" {
							io.WriteString(w, strings.ToUpper(line))
							w.(http.Flusher).Flush()
						}
						if err != nil {
							return
						}
					}
				}))
				pr, pw := io.Pipe()
				defer pw.Close()
				req := confReq(t, "POST", srv.url+"/echo", pr)
				resp, err := srv.client.Do(req)
				if err != nil {
					return confOutcome{Err: confErrClass(err)}
				}
				defer resp.Body.Close()
				o := confOutcome{Status: resp.StatusCode, Header: confHeaderLines(resp.Header)}
				br := bufio.NewReader(resp.Body)
				for i := range 3 {
					fmt.Fprintf(pw, "line %d\n", i)
					line, err := br.ReadString('\n')
					o.Extra = append(o.Extra, fmt.Sprintf("echo %q %s", line, confErrClass(err)))
				}
				pw.Close()
				rest, err := io.ReadAll(br)
				o.Body, o.BodyErr = string(rest), confErrClass(err)
				return o
			},
		},
	}
}

// confAcceptWith accepts Server's outcome if it is the reference's as
// change makes it (on a copy): the difference server.go documents.
func confAcceptWith(change func(o *confOutcome)) func(ref, got confOutcome) bool {
	return func(ref, got confOutcome) bool {
		ref.Info = slices.Clone(ref.Info)
		ref.Header = slices.Clone(ref.Header)
		ref.Trailer = slices.Clone(ref.Trailer)
		ref.Extra = slices.Clone(ref.Extra)
		ref.Conn = slices.Clone(ref.Conn)
		change(&ref)
		return ref.String() == got.String()
	}
}

// confAcceptRefused accepts a stream error PROTOCOL_ERROR where x/net
// answered 400 (server.go: such requests are "refused (stream error
// PROTOCOL_ERROR)").
func confAcceptRefused(ref, got confOutcome) bool {
	return ref.Status == 400 && got.Status == 0 && got.Err == "RST_STREAM PROTOCOL_ERROR"
}

// confRawReportCase sends one HEADERS with fields (END_STREAM) to the
// report handler, frame by frame.
func confRawReportCase(fields ...string) func(*testing.T, func(http.Handler) *confSrv) confOutcome {
	return func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
		srv := serve(http.HandlerFunc(confReport))
		return confRawExchange(t, srv, func(fr *http2.Framer, enc func(kv ...string) []byte) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true, BlockFragment: enc(fields...)})
		})
	}
}

// confRawBodyCase sends a POST declaring contentLength with body as DATA
// (one frame, or two if !oneFrame), and reports what the handler read.
func confRawBodyCase(contentLength, body string, oneFrame bool) func(*testing.T, func(http.Handler) *confSrv) confOutcome {
	return func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
		report := make(chan string, 1)
		srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, err := io.ReadAll(r.Body)
			report <- fmt.Sprintf("handler: contentlength=%d read %q err=%s", r.ContentLength, b, confErrClass(err))
			io.WriteString(w, "done")
		}))
		o := confRawExchange(t, srv, func(fr *http2.Framer, enc func(kv ...string) []byte) {
			fields := append(confRawGetFields(srv, "POST", "/"), "content-length", contentLength)
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: enc(fields...)})
			if oneFrame {
				fr.WriteData(1, true, []byte(body))
			} else {
				fr.WriteData(1, false, []byte(body[:2]))
				fr.WriteData(1, true, []byte(body[2:]))
			}
		})
		select {
		case s := <-report:
			o.Extra = append(o.Extra, s)
		case <-time.After(time.Second):
			// A request refused before its handler ran: no report.
			o.Extra = append(o.Extra, "no handler report")
		}
		return o
	}
}

// confPanicCase: a handler that runs p, then, on the same connection, a
// GET to a handler that answers: the connection must survive the panic.
func confPanicCase(p func(w http.ResponseWriter)) func(*testing.T, func(http.Handler) *confSrv) confOutcome {
	return func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
		srv := serve(confHandler(map[string]http.HandlerFunc{
			"/panic": func(w http.ResponseWriter, r *http.Request) { p(w) },
			"/ok":    func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") },
		}))
		o := confGet(t, srv, "/panic")
		o2 := confGet(t, srv, "/ok")
		o.Extra = append(o.Extra, "second: "+strings.ReplaceAll(o2.String(), "\n", "; "), fmt.Sprintf("connections: %d", srv.conns.Load()))
		return o
	}
}

// confCancelCase: the handler waits for its request's context; the client
// cancels the request after it has the response headers (afterHeaders),
// or while it waits for them.
func confCancelCase(afterHeaders bool) func(*testing.T, func(http.Handler) *confSrv) confOutcome {
	return func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
		started := make(chan struct{})
		report := make(chan string, 1)
		srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/block" {
				io.WriteString(w, "not blocked")
				return
			}
			if afterHeaders {
				w.WriteHeader(200)
				w.(http.Flusher).Flush()
			}
			close(started)
			select {
			case <-r.Context().Done():
				s := "context done: " + confErrClass(r.Context().Err())
				io.WriteString(w, "late")
				s += ", flush after: " + confErrClass(http.NewResponseController(w).Flush())
				report <- s
			case <-time.After(confWait):
				report <- "context not done"
			}
		}))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req := confReq(t, "GET", srv.url+"/block", nil).WithContext(ctx)
		var o confOutcome
		if afterHeaders {
			resp, err := srv.client.Do(req)
			if err != nil {
				return confOutcome{Err: confErrClass(err)}
			}
			<-started
			cancel()
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			o = confOutcome{Status: resp.StatusCode, Header: confHeaderLines(resp.Header), BodyErr: confErrClass(err)}
		} else {
			go func() { <-started; cancel() }()
			_, err := srv.client.Do(req)
			o.Err = confErrClass(err)
		}
		o.Extra = append(o.Extra, confRecv(report))
		// The connection still serves.
		o2 := confGet(t, srv, "/after")
		o.Extra = append(o.Extra, fmt.Sprintf("after: %d %q %s, connections: %d", o2.Status, o2.Body, o2.Err, srv.conns.Load()))
		return o
	}
}

// confConcurrentCase: n requests at once on one connection (after one
// that lets the client learn the server's SETTINGS), each handler waiting
// until all n run.
func confConcurrentCase(n int) func(*testing.T, func(http.Handler) *confSrv) confOutcome {
	return func(t *testing.T, serve func(http.Handler) *confSrv) confOutcome {
		var running atomic.Int32
		all := make(chan struct{})
		srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/warmup" {
				return
			}
			if running.Add(1) == int32(n) {
				close(all)
			}
			select {
			case <-all:
			case <-time.After(confWait):
				http.Error(w, "not all requests ran at once", 500)
				return
			}
			body, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %s %d", r.Method, r.URL.Path, len(body))
		}))
		if o := confGet(t, srv, "/warmup"); o.Status != 200 {
			return o
		}
		results := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				var req *http.Request
				path := fmt.Sprintf("/r%d", i)
				if i%2 == 0 {
					req = confReq(t, "GET", srv.url+path, nil)
				} else {
					req = confReq(t, "POST", srv.url+path, bytes.NewReader(confPattern(i*100)))
				}
				resp, err := srv.client.Do(req)
				if err != nil {
					results[i] = "error " + confErrClass(err)
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				results[i] = fmt.Sprintf("%d %s %s", resp.StatusCode, b, confErrClass(err))
			})
		}
		wg.Wait()
		var o confOutcome
		bad := 0
		for i, r := range results {
			want := fmt.Sprintf("200 GET /r%d 0 ", i)
			if i%2 == 1 {
				want = fmt.Sprintf("200 POST /r%d %d ", i, i*100)
			}
			if r != want {
				bad++
				if bad <= 5 {
					o.Extra = append(o.Extra, fmt.Sprintf("request %d: %q", i, r))
				}
			}
		}
		o.Extra = append(o.Extra, fmt.Sprintf("%d of %d requests wrong, connections: %d", bad, n, srv.conns.Load()))
		return o
	}
}

// confNetHTTPServeConn serves connections (TLS with "h2" negotiated, or
// prior knowledge) with net/http's own HTTP/2 server: an http.Server serving a listener the
// connections are handed to; each call returns when its connection
// closes. The server closes when the test ends.
func confNetHTTPServeConn(t *testing.T, h http.Handler, opts confOpts) func(net.Conn) {
	serveConn, _ := confNetHTTPServer(t, h, opts)
	return serveConn
}

// confNetHTTPServer is confNetHTTPServeConn with the http.Server.
func confNetHTTPServer(t *testing.T, h http.Handler, opts confOpts) (func(net.Conn), *http.Server) {
	ln := &confChanListener{conns: make(chan net.Conn), done: make(chan struct{})}
	var mu sync.Mutex
	closed := map[net.Conn]chan struct{}{}
	hs := &http.Server{
		Handler:     h,
		ErrorLog:    log.New(io.Discard, "", 0),
		HTTP2:       &http.HTTP2Config{MaxConcurrentStreams: int(opts.maxStreams)},
		IdleTimeout: opts.idle,
		ConnState: func(c net.Conn, cs http.ConnState) {
			if cs == http.StateClosed || cs == http.StateHijacked {
				mu.Lock()
				if ch, ok := closed[c]; ok {
					close(ch)
					delete(closed, c)
				}
				mu.Unlock()
			}
		},
	}
	hs.Protocols = new(http.Protocols)
	hs.Protocols.SetHTTP1(true)
	hs.Protocols.SetHTTP2(true)
	hs.Protocols.SetUnencryptedHTTP2(true) // prior knowledge, for h2spec over TCP
	served := make(chan struct{})
	go func() { defer close(served); hs.Serve(ln) }()
	t.Cleanup(func() { hs.Close(); <-served })
	serveConn := func(c net.Conn) {
		ch := make(chan struct{})
		mu.Lock()
		closed[c] = ch
		mu.Unlock()
		select {
		case ln.conns <- c:
			<-ch
		case <-ln.done:
			c.Close()
		}
	}
	return serveConn, hs
}

// confChanListener is a net.Listener whose connections come from conns.
type confChanListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *confChanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *confChanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *confChanListener) Addr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}
}

// TestDifferential runs every case against the references and Server
// and requires Server's outcome to be one of theirs.
func TestDifferential(t *testing.T) {
	for _, tc := range confDiffCases() {
		t.Run(tc.name, func(t *testing.T) {
			outs := map[string]confOutcome{}
			for _, impl := range confImpls {
				t.Run(impl, func(t *testing.T) {
					o := tc.run(t, func(h http.Handler) *confSrv { return confServe(t, impl, h, tc.opts) })
					if tc.check != nil {
						tc.check(t, impl, o)
					}
					outs[impl] = o
				})
			}
			if len(outs) != len(confImpls) {
				t.Fatalf("%d outcomes", len(outs))
			}
			xnet, nethttp, got := outs["x/net"], outs["net/http"], outs["h2"]
			if xnet.String() != nethttp.String() {
				t.Logf("x/net and net/http differ (- x/net, + net/http):\n%s", confDiffLines(xnet.String(), nethttp.String()))
			}
			if got.String() == nethttp.String() || got.String() == xnet.String() {
				return
			}
			if tc.accept != nil && (tc.accept(nethttp, got) || tc.accept(xnet, got)) {
				t.Logf("a deliberate difference (server.go):\n%s", confDiffLines(nethttp.String(), got.String()))
				return
			}
			msg := fmt.Sprintf("h2 differs from net/http (- net/http, + h2):\n%s", confDiffLines(nethttp.String(), got.String()))
			if xnet.String() != nethttp.String() {
				msg += fmt.Sprintf("and from x/net (- x/net, + h2):\n%s", confDiffLines(xnet.String(), got.String()))
			}
			t.Errorf("%s\nnet/http:\n%s\nh2:\n%s", msg, nethttp, got)
		})
	}
}
