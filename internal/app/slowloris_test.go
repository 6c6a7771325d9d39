package app

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// raiseFDLimit lifts the soft file-descriptor limit to at least want (up
// to the hard limit) and skips the test when that is not enough.
func raiseFDLimit(t *testing.T, want uint64) {
	t.Helper()
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Skipf("reading the file-descriptor limit: %v", err)
	}
	if rl.Cur < want {
		rl.Cur = min(want, rl.Max)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			t.Logf("raising the file-descriptor limit: %v", err)
		}
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	if rl.Cur < want {
		t.Skipf("file-descriptor limit %d is below the %d this test needs", rl.Cur, want)
	}
}

// TestSlowloris holds 5,000 connections open on the edge, each trickling
// a request header one byte every second, and checks that a legitimate
// client is still answered in under a second, and that the edge closes
// the slow connections at timeouts.read_header.
func TestSlowloris(t *testing.T) {
	if testing.Short() {
		t.Skip("slowloris test opens 5,000 connections")
	}
	const slow = 5000
	raiseFDLimit(t, 2*slow+1000)
	o := newOrigin(t, "o")
	cfg := parseConfig(t, fmt.Sprintf(`
data_dir: %s
timeouts: {read_header: 4s, read: 10s, idle: 10s}
zones:
  - host: site.test
    origins: [%s]
`, t.TempDir(), o.URL))
	r := start(t, cfg)
	addr := r.Addrs().HTTP

	var (
		wg      sync.WaitGroup
		opened  atomic.Int64
		closed  atomic.Int64 // closed by the edge (read error while trickling)
		stop    = make(chan struct{})
		dialErr atomic.Value
	)
	sem := make(chan struct{}, 64)
	for i := range slow {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			// Spread the sources over 127.0.10-29.x so no one address
			// runs short of ports.
			src := net.IPv4(127, 0, byte(10+i%20), byte(1+i/20%250))
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 5 * time.Second}
			c, err := d.Dial("tcp", addr)
			<-sem
			if err != nil {
				dialErr.Store(err)
				return
			}
			defer c.Close()
			opened.Add(1)
			if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: site.test\r\n"); err != nil {
				return
			}
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			deadline := time.After(8 * time.Second)
			for {
				select {
				case <-stop:
					return
				case <-deadline:
					return
				case <-tick.C:
					if _, err := io.WriteString(c, "X"); err != nil {
						closed.Add(1)
						return
					}
					c.SetReadDeadline(time.Now().Add(time.Millisecond))
					var b [512]byte
					if n, err := c.Read(b[:]); n > 0 || (err != nil && !isTimeout(err)) {
						closed.Add(1)
						return
					}
				}
			}
		}()
	}
	// Wait until the slow connections are all open (or failed).
	for deadline := time.Now().Add(15 * time.Second); opened.Load() < slow && time.Now().Before(deadline); {
		if dialErr.Load() != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := opened.Load(); n < slow {
		close(stop)
		wg.Wait()
		t.Fatalf("only %d of %d slow connections opened: %v", n, slow, dialErr.Load())
	}

	// A legitimate client, while every slow connection is held open.
	c := clientFrom("127.0.1.1")
	var worst time.Duration
	for i := range 5 {
		start := time.Now()
		resp, body := do(t, c, r.url("/"), "site.test", nil)
		d := time.Since(start)
		worst = max(worst, d)
		if resp.StatusCode != 200 || !strings.HasPrefix(body, "o ") {
			t.Fatalf("request %d: status %d body %q", i, resp.StatusCode, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("legitimate client with %d slow connections open: worst latency %v", slow, worst)
	if worst >= time.Second {
		t.Errorf("legitimate request took %v with %d slow connections open, want under 1s", worst, slow)
	}
	wg.Wait() // each slow connection ends within 8s
	// read_header is 4s: the edge must have cut nearly all of them before
	// the clients gave up at 8s.
	if n := closed.Load(); n < slow*9/10 {
		t.Errorf("edge closed %d of %d slow connections by read_header timeout, want nearly all", n, slow)
	}
	close(stop)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestSlowPOST sends a request body one byte every 300ms and checks that
// the edge cuts it off at timeouts.read, so the origin never receives the
// whole body and the connection does not stay open.
func TestSlowPOST(t *testing.T) {
	var complete, started atomic.Int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started.Add(1)
		b, err := io.ReadAll(r.Body)
		if err == nil && len(b) == 1000 {
			complete.Add(1)
		}
		fmt.Fprintf(w, "got %d", len(b))
	}))
	t.Cleanup(origin.Close)
	cfg := parseConfig(t, fmt.Sprintf(`
data_dir: %s
timeouts: {read_header: 2s, read: 2s}
zones:
  - host: site.test
    origins: [%s]
`, t.TempDir(), origin.URL))
	r := start(t, cfg)
	c, err := net.Dial("tcp", r.Addrs().HTTP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: site.test\r\nContent-Length: 1000\r\n\r\n")
	begin := time.Now()
	sent := 0
	var writeErr error
	done := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(c)
		done <- b
	}()
	var answer []byte
loop:
	for sent < 1000 && time.Since(begin) < 10*time.Second {
		select {
		case answer = <-done:
			break loop
		case <-time.After(300 * time.Millisecond):
		}
		if _, writeErr = c.Write([]byte{'a'}); writeErr != nil {
			break
		}
		sent++
	}
	if answer == nil {
		select {
		case answer = <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("connection still open 5s after the body stopped")
		}
	}
	elapsed := time.Since(begin)
	t.Logf("slow POST cut off after %v, %d body bytes sent, answer %q", elapsed, sent, firstLine(answer))
	if sent >= 1000 {
		t.Fatal("the whole slow body was accepted")
	}
	if elapsed > 6*time.Second {
		t.Errorf("cut off after %v, want about timeouts.read (2s)", elapsed)
	}
	if complete.Load() != 0 {
		t.Error("the origin received a complete body")
	}
	if strings.Contains(string(answer), "got ") {
		t.Errorf("the origin's answer to a cut-off body reached the client: %q", answer)
	}
	// The client hears why, and the connection ends with the answer: its
	// leftover body bytes are never read as a next request.
	if got := firstLine(answer); got != "HTTP/1.1 408 Request Timeout" {
		t.Errorf("answer to a cut-off body = %q, want 408 Request Timeout", got)
	}
	if n := strings.Count(string(answer), "HTTP/1.1 "); n != 1 {
		t.Errorf("%d responses on the connection, want 1: %q", n, answer)
	}
}

func firstLine(b []byte) string {
	s := string(b)
	if i := strings.IndexByte(s, '\r'); i >= 0 {
		return s[:i]
	}
	return s
}
