package edge

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/metrics"
	"github.com/rampart-edge/rampart/internal/proxy"
)

// benchOrigin serves a fixed 1 KiB response to every request on a
// keep-alive connection with as little work as possible, so profiles show
// the edge and the proxy.
func benchOrigin(b *testing.B) string {
	body := strings.Repeat("x", 1024)
	resp := []byte("HTTP/1.1 200 OK\r\nServer: bench\r\nContent-Type: text/plain\r\nContent-Length: 1024\r\n\r\n" + body)
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

// BenchmarkServe measures one proxied 1 KiB GET through the whole edge
// (request id, client IP, routes, metrics, the zone's proxy) over
// keep-alive connections: client → Server → proxy.Proxy → origin, all on
// loopback, with the default timeouts. The allocation figure is the one
// to watch: it covers the edge, the proxy and net/http's server (the
// client side reuses its buffers).
func BenchmarkServe(b *testing.B) {
	p, err := proxy.New(config.Zone{Host: "bench.test", Origins: []string{benchOrigin(b)}}, proxy.Options{})
	if err != nil {
		b.Fatal(err)
	}
	p.Start()
	defer p.Close()
	reg := metrics.New()
	z := &Zone{Name: "bench.test", Handler: p, Metrics: reg.Zone("bench.test")}
	s := New(Options{Timeouts: config.Default().Timeouts, Metrics: reg})
	s.SetRoutes(&Routes{Lookup: mapLookup(map[string]*Zone{"bench.test": z})})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln, "http", nil) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
	}()
	req := []byte("GET /1k HTTP/1.1\r\nHost: bench.test\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	b.ReportAllocs()
	b.SetBytes(1024)
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("tcp", ln.Addr().String())
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
			if err := benchReadResponse(br); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchReadResponse reads one 200 response with a Content-Length body.
func benchReadResponse(br *bufio.Reader) error {
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
