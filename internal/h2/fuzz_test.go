package h2

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// FuzzConn serves one connection whose client sends, after a valid
// preface and SETTINGS, the frames the fuzz input describes (atkFuzzFrames:
// a sequence of commands building frames with x/net's Framer and one HPACK
// encoder, so that inputs reach requests, bodies, trailers, resets and the
// like rather than fail at the first frame header), then a PING, and waits
// for the server to acknowledge it (or end the connection) before closing.
// A reader drains whatever the server sends. The handler reads the body and
// answers by path (small, large, flushed, with trailers, with a 103, an
// aborted handler). Checked: no panic; the server reads what the client
// writes (or closes the connection) within 5 s; it sends no HEADERS or
// DATA on a stream after its END_STREAM or RST_STREAM; ServeConn returns
// within 5 s of the client closing; the goroutines return to their count
// before the connection within 5 s.
//
// The seed corpus is in testdata/fuzz/FuzzConn (the commands' format is
// atkFuzzFrames'): GET, POST with a body, trailers, resets, SETTINGS, PING,
// WINDOW_UPDATE, CONTINUATION, and a few invalid sequences.
func FuzzConn(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		atkFuzzConn(t, data)
	})
}

func atkFuzzHandler(w http.ResponseWriter, r *http.Request) {
	_, err := io.Copy(io.Discard, r.Body)
	switch r.URL.Path {
	case "/big":
		w.Header().Set("Content-Type", "application/octet-stream")
		chunk := make([]byte, 16<<10)
		for i := 0; i < 8; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	case "/flush":
		io.WriteString(w, "one")
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		io.WriteString(w, "two")
	case "/trailer":
		w.Header().Set("Trailer", "X-Trailer")
		io.WriteString(w, "body")
		w.Header().Set("X-Trailer", "t")
		w.Header().Set(http.TrailerPrefix+"X-Late", "late")
	case "/103":
		w.Header().Set("Link", "</a.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusNoContent)
	case "/abort":
		io.WriteString(w, "partial")
		panic(http.ErrAbortHandler)
	case "/echo":
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Err", strconv.Quote(errString(err)))
		for k, v := range r.Trailer {
			w.Header()["X-Trailer-"+k] = v
		}
		io.WriteString(w, r.Host+r.RequestURI)
	default:
		io.WriteString(w, "ok")
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// atkFuzzServer is the server of every FuzzConn input: one, as in
// production (its idle stream goroutines are shared by its connections).
var atkFuzzServer = sync.OnceValue(func() *Server {
	return &Server{
		Handler:                       http.HandlerFunc(atkFuzzHandler),
		MaxConcurrentStreams:          4,
		MaxHeaderBytes:                4 << 10,
		MaxReceiveBufferPerConnection: 64 << 10,
		MaxReceiveBufferPerStream:     16 << 10,
		// Armed, never due during an input.
		ReadTimeout:  time.Minute,
		WriteTimeout: time.Minute,
		IdleTimeout:  time.Minute,
	}
})

func atkFuzzConn(t *testing.T, data []byte) {
	srv := atkFuzzServer()
	base := runtime.NumGoroutine() - atkIdleWorkers(srv)
	// Every wait below is bounded; a hang past them is the server's, or
	// the harness's: show where.
	watchdog := time.AfterFunc(60*time.Second, func() {
		debug.SetTraceback("all")
		panic("FuzzConn: one input has run for 60 s")
	})
	defer watchdog.Stop()
	cs, ss := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		atkServeFunc(srv)(ss) // srv.ServeConn, or x/net's with atkImpl "xnet"
	}()

	// The reader: drains the server's frames, and reports the ACK of the
	// client's final PING or the end of the connection.
	synced := make(chan struct{})
	readDone := make(chan struct{})
	final := [8]byte{'f', 'u', 'z', 'z', 'e', 'n', 'd', 0}
	var violation string // the first frame the server sent on a stream it had ended
	go func() {
		defer close(readDone)
		defer io.Copy(io.Discard, cs) // drain until the connection ends
		signal := sync.OnceFunc(func() { close(synced) })
		defer signal()
		fr := http2.NewFramer(nil, cs)
		fr.SetMaxReadFrameSize(1 << 24)
		ended := map[uint32]bool{} // streams with END_STREAM or RST_STREAM from the server
		for {
			f, err := fr.ReadFrame()
			var se http2.StreamError
			switch {
			case errors.As(err, &se):
				continue // a frame x/net finds invalid for a client; keep reading
			case err != nil:
				return
			}
			id := f.Header().StreamID
			switch f := f.(type) {
			case *http2.PingFrame:
				if f.IsAck() && f.Data == final {
					signal()
				}
			case *http2.GoAwayFrame:
				signal() // the server is ending the connection: no need to wait
			case *http2.RSTStreamFrame:
				ended[id] = true
			case *http2.HeadersFrame, *http2.DataFrame:
				if ended[id] && violation == "" {
					violation = fmt.Sprintf("%v on stream %d after its END_STREAM or RST_STREAM", f.Header().Type, id)
				}
				if f, ok := f.(interface{ StreamEnded() bool }); ok && f.StreamEnded() {
					ended[id] = true
				}
			}
		}
	}()

	var out bytes.Buffer
	out.WriteString(http2.ClientPreface)
	fr := http2.NewFramer(&out, nil)
	fr.AllowIllegalWrites = true
	fr.WriteSettings()
	atkFuzzFrames(fr, data)
	fr.WritePing(false, final)

	// The writer: net.Pipe is synchronous, so a server that stops reading
	// after a connection error (as x/net's does until it closes) would
	// hold a Write; the client closes once the server has ended.
	wdone := make(chan struct{})
	go func() {
		defer close(wdone)
		cs.Write(out.Bytes())
	}()
	select {
	case <-synced: // the server acknowledged the PING, or is ending the connection
	case <-time.After(5 * time.Second):
		t.Errorf("in 5 s, the server neither read the %d bytes sent and acknowledged the final PING, nor ended the connection", out.Len())
	}
	cs.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("ServeConn has not returned 5 s after the client closed the connection")
	}
	<-readDone
	<-wdone
	if violation != "" {
		t.Errorf("the server broke the protocol: %s (RFC 9113 5.1)", violation)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine()-atkIdleWorkers(srv) > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutines (less the server's idle stream goroutines): %d 5 s after the connection closed, %d before:\n%s",
				runtime.NumGoroutine()-atkIdleWorkers(srv), base, buf)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// atkFuzzReader reads a fuzz input; past its end, it returns zeros.
type atkFuzzReader struct {
	b []byte
}

func (r *atkFuzzReader) more() bool { return len(r.b) > 0 }

func (r *atkFuzzReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *atkFuzzReader) bytes(n int) []byte {
	n = min(n, len(r.b))
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *atkFuzzReader) uint32() uint32 {
	var p [4]byte
	copy(p[:], r.bytes(4))
	return binary.BigEndian.Uint32(p[:])
}

// stream maps a byte to a stream id: mostly the odd ids 1-15, with the
// high bit set any id 0-15 (0 and even ones included).
func (r *atkFuzzReader) stream() uint32 {
	b := r.byte()
	if b&0x80 == 0 {
		return uint32(b%8)*2 + 1
	}
	return uint32(b & 0x0f)
}

// str is a short string: a length byte (mod 32) then that many bytes.
func (r *atkFuzzReader) str() string {
	return string(r.bytes(int(r.byte() % 32)))
}

var (
	atkFuzzMethods = []string{"GET", "POST", "HEAD", "PUT", "CONNECT", "OPTIONS", "", "get"}
	atkFuzzPaths   = []string{"/", "/echo", "/big", "/flush", "/trailer", "/103", "/abort", "", "*", "/echo?q=1", "http://x/", "/%zz"}
	atkFuzzNames   = []string{"content-length", "te", "connection", "cookie", "expect", "x-a", "host", "trailer",
		":path", "X-Upper", ":authority", ":status", "transfer-encoding", "user-agent", "x-b", ""}
)

// atkFuzzFrames writes the frames the input's commands describe. Each
// command is a byte (mod 16) and its operands:
//
//	0  HEADERS: stream, flags (1 END_STREAM, 2 no END_HEADERS, 4
//	   priority, 8 padded), method, path, field count (mod 4), fields
//	   (name index, value string)
//	1  CONTINUATION: stream, flags (1 END_HEADERS, 2 raw), then a field
//	   (name index, value) or raw bytes (string)
//	2  DATA: stream, flags (1 END_STREAM, 2 padded), length/64
//	3  RST_STREAM: stream, code
//	4  SETTINGS: count (mod 4), each id byte and 4-byte value
//	5  SETTINGS ACK
//	6  PING: flags (1 ACK), 8 bytes
//	7  WINDOW_UPDATE: stream, flags (1: 4-byte increment, else a byte)
//	8  PRIORITY: stream, dependency stream, weight, flags (1 exclusive)
//	9  GOAWAY: stream, code
//	10 raw frame: type, flags, stream, payload (string)
//	11 trailers: stream, field count (mod 4), fields
//	12 PUSH_PROMISE: stream, promised stream
//	13 HEADERS with a raw block: stream, flags (1 END_STREAM), block (string)
//	14 POST with a body: stream, length/64 (also as Content-Length)
//	15 GET: stream
func atkFuzzFrames(fr *http2.Framer, data []byte) {
	in := &atkFuzzReader{b: data}
	var hbuf bytes.Buffer
	enc := hpack.NewEncoder(&hbuf)
	block := func(fields ...string) []byte {
		hbuf.Reset()
		for i := 0; i+1 < len(fields); i += 2 {
			enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
		}
		return bytes.Clone(hbuf.Bytes())
	}
	fields := func(n int) []string {
		var f []string
		for i := 0; i < n; i++ {
			f = append(f, atkFuzzNames[in.byte()%byte(len(atkFuzzNames))], in.str())
		}
		return f
	}
	for n := 0; in.more() && n < 1000; n++ {
		switch in.byte() % 16 {
		case 0:
			id, flags := in.stream(), in.byte()
			f := []string{
				":method", atkFuzzMethods[in.byte()%byte(len(atkFuzzMethods))],
				":scheme", "https", ":authority", "example.com",
				":path", atkFuzzPaths[in.byte()%byte(len(atkFuzzPaths))],
			}
			f = append(f, fields(int(in.byte()%4))...)
			p := http2.HeadersFrameParam{StreamID: id, BlockFragment: block(f...), EndStream: flags&1 != 0, EndHeaders: flags&2 == 0}
			if flags&4 != 0 {
				p.Priority = http2.PriorityParam{StreamDep: in.stream(), Weight: in.byte()}
			}
			if flags&8 != 0 {
				p.PadLength = in.byte()
			}
			fr.WriteHeaders(p)
		case 1:
			id, flags := in.stream(), in.byte()
			var frag []byte
			if flags&2 != 0 {
				frag = []byte(in.str())
			} else {
				frag = block(fields(1)...)
			}
			fr.WriteContinuation(id, flags&1 != 0, frag)
		case 2:
			id, flags, n := in.stream(), in.byte(), int(in.byte())*64
			d := bytes.Repeat([]byte{'d'}, n)
			if flags&2 != 0 {
				fr.WriteDataPadded(id, flags&1 != 0, d, make([]byte, in.byte()))
			} else {
				fr.WriteData(id, flags&1 != 0, d)
			}
		case 3:
			fr.WriteRSTStream(in.stream(), http2.ErrCode(in.byte()%16))
		case 4:
			var s []http2.Setting
			for i := in.byte() % 4; i > 0; i-- {
				s = append(s, http2.Setting{ID: http2.SettingID(in.byte() % 10), Val: in.uint32()})
			}
			fr.WriteSettings(s...)
		case 5:
			fr.WriteSettingsAck()
		case 6:
			ack := in.byte()&1 != 0
			var p [8]byte
			copy(p[:], in.bytes(8))
			fr.WritePing(ack, p)
		case 7:
			id, flags := in.stream(), in.byte()
			incr := uint32(in.byte()) << 8
			if flags&1 != 0 {
				incr = in.uint32()
			}
			fr.WriteWindowUpdate(id, incr)
		case 8:
			id, dep, w, flags := in.stream(), in.stream(), in.byte(), in.byte()
			fr.WritePriority(id, http2.PriorityParam{StreamDep: dep, Weight: w, Exclusive: flags&1 != 0})
		case 9:
			fr.WriteGoAway(in.stream(), http2.ErrCode(in.byte()%16), nil)
		case 10:
			typ, flags, id := in.byte(), in.byte(), in.stream()
			fr.WriteRawFrame(http2.FrameType(typ%12), http2.Flags(flags), id, []byte(in.str()))
		case 11:
			id := in.stream()
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block(fields(int(in.byte() % 4))...), EndStream: true, EndHeaders: true})
		case 12:
			id, promised := in.stream(), in.stream()
			fr.WritePushPromise(http2.PushPromiseParam{StreamID: id, PromiseID: promised, BlockFragment: block(atkGET("/")...), EndHeaders: true})
		case 13:
			id, flags := in.stream(), in.byte()
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: []byte(in.str()), EndStream: flags&1 != 0, EndHeaders: true})
		case 14:
			id, n := in.stream(), int(in.byte())*64
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true,
				BlockFragment: block(":method", "POST", ":scheme", "https", ":authority", "example.com", ":path", "/echo", "content-length", strconv.Itoa(n))})
			fr.WriteData(id, true, bytes.Repeat([]byte{'p'}, n))
		case 15:
			id := in.stream()
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block(atkGET("/echo")...), EndStream: true, EndHeaders: true})
		}
	}
}
