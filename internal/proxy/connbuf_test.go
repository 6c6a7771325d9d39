package proxy

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
)

// TestReaderWaitsWithoutBuffer: an origin connection takes its reader
// only once the origin has answered (the wait holds no buffer), reads the
// answer whole, gives the reader back when it is empty, and a deadline
// during the wait fails the read as a deadline error, as without the wait.
func TestReaderWaitsWithoutBuffer(t *testing.T) {
	nc, peer := loopbackPair(t)
	c := &originConn{nc: nc}
	c.initWait()
	if c.rc == nil {
		t.Skip("no syscall.RawConn on this platform")
	}
	got := make(chan string, 1)
	go func() {
		br := c.reader()
		line, err := br.ReadString('\n')
		if err != nil {
			line = err.Error()
		}
		got <- line
	}()
	select {
	case s := <-got:
		t.Fatalf("reader returned %q before the origin wrote anything", s)
	case <-time.After(50 * time.Millisecond):
	}
	io.WriteString(peer, "HTTP/1.1 200 OK\r\n")
	select {
	case s := <-got:
		if s != "HTTP/1.1 200 OK\r\n" {
			t.Fatalf("read %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no read 5 s after the origin wrote")
	}
	if c.br == nil {
		t.Fatal("no reader after the read")
	}
	c.releaseReader()
	if c.br != nil || c.buffered() != 0 {
		t.Fatal("an empty reader was not released")
	}

	c.nc.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	_, err := c.reader().ReadByte()
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read error %v, want a deadline error", err)
	}
	c.releaseReader()

	// Bytes left unread keep the reader (the connection is not reused).
	c.nc.SetReadDeadline(time.Time{})
	io.WriteString(peer, "ab")
	// Bytes that arrived before the wait (the poller saw them already)
	// end it at once.
	time.Sleep(20 * time.Millisecond)
	if b, err := c.reader().ReadByte(); err != nil || b != 'a' {
		t.Fatalf("read %q %v", b, err)
	}
	c.releaseReader()
	if c.br == nil {
		t.Fatal("a reader with unread bytes was released")
	}
	if b, err := c.reader().ReadByte(); err != nil || b != 'b' {
		t.Fatalf("read %q %v", b, err)
	}
	c.releaseReader()

	// The same after the origin's answer came in while nobody waited.
	for i := range 20 {
		io.WriteString(peer, "x")
		time.Sleep(time.Millisecond)
		c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if b, err := c.reader().ReadByte(); err != nil || b != 'x' {
			t.Fatalf("round %d: read %q %v", i, b, err)
		}
		c.releaseReader()
	}
}

// TestPooledConnsHoldNoBuffers (issue 16): after proxied requests, with
// and without a body, the origin connections in the idle pool hold no
// buffered reader or writer, and the next requests reuse them.
func TestPooledConnsHoldNoBuffers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write([]byte(r.Method + " " + string(b)))
	}))
	t.Cleanup(srv.Close)
	p, err := New(config.Zone{Host: "x.test", Origins: []string{srv.URL}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	t.Cleanup(p.Close)
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)

	for i, tc := range []struct{ method, body, want string }{
		{"GET", "", "GET "},
		{"POST", "hello", "POST hello"},
		{"GET", "", "GET "},
		{"PUT", strings.Repeat("x", 100<<10), "PUT " + strings.Repeat("x", 100<<10)},
	} {
		req, _ := http.NewRequest(tc.method, front.URL+"/", strings.NewReader(tc.body))
		if tc.body == "" {
			req.Body = nil
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != tc.want {
			t.Fatalf("%s: status %d, body %.40q", tc.method, resp.StatusCode, b)
		}
		o := p.origins[0]
		o.mu.Lock()
		n := len(o.idle)
		for _, c := range o.idle {
			if c.br != nil || c.bw != nil {
				t.Errorf("request %d: a pooled connection holds its reader (%v) or writer (%v)", i, c.br != nil, c.bw != nil)
			}
		}
		o.mu.Unlock()
		// (After a body, the connection is pooled only if the body's
		// writer had ended when the response was copied.)
		if n > 1 || (n == 0 && tc.body == "") {
			t.Errorf("request %d: %d pooled connections, want the one reused", i, n)
		}
	}
}
