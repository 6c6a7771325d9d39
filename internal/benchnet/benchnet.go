// Package benchnet holds the loopback pieces that the proxy and edge
// benchmarks share: an origin that answers with as little work as
// possible, and a keep-alive HTTP/1.1 load loop, so that profiles show
// rampart rather than the test harness.
package benchnet

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RawOrigin serves a fixed 1 KiB response to every request on keep-alive
// connections on 127.0.0.1 and returns its http:// URL. It stops when tb's
// test ends.
func RawOrigin(tb testing.TB) string {
	resp := []byte("HTTP/1.1 200 OK\r\nServer: bench\r\nContent-Type: text/plain\r\nContent-Length: 1024\r\n\r\n" + strings.Repeat("x", 1024))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
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

// KeepAliveLoad sends req again and again on one keep-alive connection to
// addr per parallel benchmark goroutine, reading each 200 response whole.
func KeepAliveLoad(b *testing.B, addr string, req []byte) {
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
			if err := ReadResponse(br); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// KeepAliveGet dials addr and returns a function that sends req on that
// one keep-alive connection and reads the 200 response whole, failing tb
// otherwise: the probe of the allocation tests (testing.AllocsPerRun of
// it counts the server's allocations, the client side allocates nothing).
// The connection is closed when the test ends.
func KeepAliveGet(tb testing.TB, addr string, req []byte) func() {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	return func() {
		if _, err := c.Write(req); err != nil {
			tb.Fatal(err)
		}
		if err := ReadResponse(br); err != nil {
			tb.Fatal(err)
		}
	}
}

// ReadResponse reads one 200 response with a Content-Length body from br,
// without allocating (so that a benchmark's allocs/op are the server's).
func ReadResponse(br *bufio.Reader) error {
	n := int64(-1)
	ok := false
	for first := true; ; first = false {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if first {
			ok = bytes.HasPrefix(line, []byte("HTTP/1.1 200"))
			continue
		}
		if len(line) == 2 {
			break
		}
		if v, found := bytes.CutPrefix(line, []byte("Content-Length: ")); found {
			n, _ = strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
		}
	}
	if !ok || n < 0 {
		return fmt.Errorf("bad response: 200 %v, length %d", ok, n)
	}
	_, err := br.Discard(int(n))
	return err
}
