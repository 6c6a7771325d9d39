package h1

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
)

// BenchmarkServe measures one keep-alive GET answered with 1 KiB, through
// h1 and through net/http's server for comparison; the client is a raw
// loop on the same loopback and cores, so ns/op is not CPU per request:
// watch allocs/op.
//
//	go test -run XXX -bench Serve -benchmem -cpu 2 ./internal/h1/
func BenchmarkServe(b *testing.B) {
	body := make([]byte, 1024)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"application/octet-stream"}
		w.Write(body)
	})
	for _, kind := range []string{"h1", "net/http"} {
		b.Run(kind, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			var closeFn func()
			if kind == "h1" {
				s := &Server{Handler: h}
				go s.Serve(ln)
				closeFn = func() { s.Close() }
			} else {
				s := &http.Server{Handler: h}
				go s.Serve(ln)
				closeFn = func() { s.Close() }
			}
			defer closeFn()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			req := []byte("GET /bench HTTP/1.1\r\nHost: bench.test\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.Write(req); err != nil {
					b.Fatal(err)
				}
				n := readResponse(b, br)
				if n != len(body) {
					b.Fatalf("body of %d bytes", n)
				}
			}
		})
	}
}

// readResponse reads a response head with Content-Length and its body.
func readResponse(b *testing.B, br *bufio.Reader) int {
	cl := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			b.Fatal(err)
		}
		if len(line) == 2 {
			break
		}
		if len(line) > 16 && (string(line[:16]) == "Content-Length: " || string(line[:16]) == "content-length: ") {
			cl, _ = strconv.Atoi(string(line[16 : len(line)-2]))
		}
	}
	if _, err := br.Discard(cl); err != nil && err != io.EOF {
		b.Fatal(err)
	}
	return cl
}
