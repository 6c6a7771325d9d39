package h1

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// FuzzConn feeds arbitrary bytes to a connection and checks that the
// server neither panics nor hangs: the connection ends at the latest when
// the client goes away, and whatever it wrote starts as an HTTP/1.x
// response. The handler reads the body and writes it back. Seeds:
// testdata/fuzz/FuzzConn.
func FuzzConn(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: X\r\n\r\n3\r\nabc\r\n0\r\nX: 1\r\n\r\nGET / HTTP/1.0\r\n\r\n",
		"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhiHEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	s := &Server{
		ReadHeaderTimeout: time.Second, ReadTimeout: time.Second, IdleTimeout: time.Second,
		MaxHeaderBytes: 4096, ReuseRequestHeader: true,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("X-Len", string(rune('0'+len(b)%10)))
			w.Write(b)
		}),
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		cli, srv := net.Pipe()
		done := make(chan struct{})
		go func() {
			s.ServeConn(srv)
			close(done)
		}()
		go func() {
			cli.Write(in)
		}()
		var out bytes.Buffer
		buf := make([]byte, 4096)
		for {
			cli.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			n, err := cli.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				break
			}
		}
		cli.Close()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Fatalf("connection still served 3 s after the client left; input %q", in)
		}
		if o := out.Bytes(); len(o) > 0 && !bytes.HasPrefix(o, []byte("HTTP/1.")) {
			t.Fatalf("output does not start as a response: %q (input %q)", o[:min(len(o), 64)], in)
		}
	})
}
