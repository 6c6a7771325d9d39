package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/config"
)

// rawOrigin serves a fixed 1 KiB response to every request on a keep-alive
// connection with as little work as possible, so profiles show the proxy.
func rawOrigin(b *testing.B) string {
	body := bytes.Repeat([]byte("x"), 1024)
	resp := []byte("HTTP/1.1 200 OK\r\nServer: bench\r\nContent-Type: text/plain\r\nContent-Length: 1024\r\n\r\n" + string(body))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadSlice('\n')
					if err != nil {
						return
					}
					if len(line) == 2 {
						if _, err := c.Write(resp); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// BenchmarkProxy measures one proxied 1 KiB GET over keep-alive
// connections: client → http.Server → Proxy → origin, all on loopback.
func BenchmarkProxy(b *testing.B) {
	for _, path := range []string{"lean", "transport"} {
		b.Run(path, func(b *testing.B) {
			o := rawOrigin(b)
			p, err := New(config.Zone{Host: "bench.test", Origins: []string{o}}, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			var h http.Handler = p
			if path == "transport" {
				// Force the httputil path by sending every request through
				// serveTransport.
				h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if perr := p.serveTransport(p.origins[0], w, r, nil); perr != nil {
						b.Error(perr)
					}
				})
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			addr := strings.TrimPrefix(srv.URL, "http://")
			req := []byte("GET /1k HTTP/1.1\r\nHost: bench.test\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
			b.ReportAllocs()
			b.SetBytes(1024)
			b.RunParallel(func(pb *testing.PB) {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					b.Error(err)
					return
				}
				defer c.Close()
				br := bufio.NewReader(c)
				for pb.Next() {
					if _, err := c.Write(req); err != nil {
						b.Error(err)
						return
					}
					if err := readResponse(br); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// readResponse reads one response with a Content-Length body from br.
func readResponse(br *bufio.Reader) error {
	n := -1
	status := ""
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if status == "" {
			status = string(line)
			continue
		}
		if len(line) == 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if !strings.HasPrefix(status, "HTTP/1.1 200") || n < 0 {
		return fmt.Errorf("bad response %q length %d", status, n)
	}
	_, err := io.CopyN(io.Discard, br, int64(n))
	return err
}
