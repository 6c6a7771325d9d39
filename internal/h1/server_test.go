package h1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/testlog"
)

// testServer runs s on a loopback listener until the test ends.
func testServer(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ln.Addr().String()
}

type client struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, br: bufio.NewReader(c)}
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, s); err != nil {
		c.t.Fatal(err)
	}
}

// read reads one response (to a request with method) and its body.
func (c *client) read(method string) (*http.Response, string) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("reading response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("reading body: %v", err)
	}
	return resp, string(b)
}

// closed reports whether the server closed the connection (EOF or reset
// with nothing more to read).
func (c *client) closed() bool {
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := c.br.ReadByte()
	if err == nil {
		c.t.Errorf("unexpected byte %q after the response", b)
		return false
	}
	return err == io.EOF || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "reset")
}

func echoPath(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.RequestURI(), r.RemoteAddr)
}

func TestKeepAliveAndPipelining(t *testing.T) {
	addr := testServer(t, &Server{Handler: http.HandlerFunc(echoPath)})
	c := dial(t, addr)
	var remote string
	for i := range 3 {
		c.send(fmt.Sprintf("GET /k%d HTTP/1.1\r\nHost: a\r\n\r\n", i))
		resp, body := c.read("GET")
		if resp.StatusCode != 200 || !strings.HasPrefix(body, fmt.Sprintf("GET /k%d ", i)) {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
		if remote == "" {
			remote = body
		} else if strings.Fields(body)[2] != strings.Fields(remote)[2] {
			t.Fatalf("request %d on another connection: %q vs %q", i, body, remote)
		}
		if resp.Header.Get("Date") == "" || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" || resp.ContentLength != int64(len(body)) {
			t.Errorf("head %v", resp.Header)
		}
	}
	// Pipelined: three requests in one write, answered in order.
	c.send("GET /p1 HTTP/1.1\r\nHost: a\r\n\r\nGET /p2 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /p3 HTTP/1.1\r\nHost: a\r\n\r\nGET /p4 HTTP/1.1\r\nHost: a\r\n\r\n")
	for _, p := range []string{"GET /p1", "GET /p2", "HEAD /p3", "GET /p4"} {
		method, _, _ := strings.Cut(p, " ")
		resp, body := c.read(method)
		if method == "HEAD" {
			if body != "" || resp.ContentLength <= 0 {
				t.Errorf("HEAD: body %q, Content-Length %d", body, resp.ContentLength)
			}
			continue
		}
		if !strings.HasPrefix(body, p+" ") {
			t.Errorf("got %q, want %q first", body, p)
		}
	}
}

func TestFraming(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 2048) // 32 KiB: streams
	mux := http.NewServeMux()
	mux.HandleFunc("/small", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>hi</html>") })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, big) })
	mux.HandleFunc("/bigcl", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(big)))
		io.WriteString(w, big)
	})
	mux.HandleFunc("/nocontent", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "x/y")
		w.WriteHeader(http.StatusNoContent)
		if _, err := w.Write([]byte("x")); err != http.ErrBodyNotAllowed {
			t.Errorf("Write on 204: %v", err)
		}
	})
	mux.HandleFunc("/notmodified", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "x/y")
		w.Header().Set("Etag", `"1"`)
		w.WriteHeader(http.StatusNotModified)
	})
	mux.HandleFunc("/twice", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(201)
		w.WriteHeader(500) // logged, ignored
		io.WriteString(w, "made")
	})
	mux.HandleFunc("/hints", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</a.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		io.WriteString(w, "final")
	})
	mux.HandleFunc("/trailer", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		w.WriteHeader(200)
		io.WriteString(w, "body")
		w.Header().Set("X-Sum", "42")
		w.Header().Set(http.TrailerPrefix+"X-Late", "7")
	})
	mux.HandleFunc("/copy", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, io.NewSectionReader(strings.NewReader(big), 0, int64(len(big)))) // through ReadFrom
	})
	mux.HandleFunc("/bye", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye")
	})
	log := new(testlog.Buffer)
	addr := testServer(t, &Server{Handler: mux, Logger: slog.New(slog.NewTextHandler(log, nil))})

	tests := []struct {
		name, req, method string
		status            int
		body              string
		te                []string
		cl                int64
		header            map[string]string
		trailer           map[string]string
		closes            bool
	}{
		{name: "small: one write, Content-Length, sniffed type", req: "GET /small HTTP/1.1\r\nHost: a\r\n\r\n", method: "GET", status: 200, body: "<html>hi</html>", cl: 15,
			header: map[string]string{"Content-Type": "text/html; charset=utf-8"}},
		{name: "big without length: chunked", req: "GET /big HTTP/1.1\r\nHost: a\r\n\r\n", method: "GET", status: 200, body: big, te: []string{"chunked"}, cl: -1},
		{name: "io.Copy: ReadFrom", req: "GET /copy HTTP/1.1\r\nHost: a\r\n\r\n", method: "GET", status: 200, body: big, te: []string{"chunked"}, cl: -1},
		{name: "big with length: streamed with it", req: "GET /bigcl HTTP/1.1\r\nHost: a\r\n\r\n", method: "GET", status: 200, body: big, cl: int64(len(big))},
		{name: "big on HTTP/1.0: close-delimited", req: "GET /big HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", method: "GET", status: 200, body: big, cl: -1, closes: true},
		{name: "HEAD: length, no body", req: "HEAD /small HTTP/1.1\r\nHost: a\r\n\r\n", method: "HEAD", status: 200, cl: 15},
		{name: "204: no body, no length", req: "GET /nocontent HTTP/1.1\r\nHost: a\r\n\r\n", method: "GET", status: 204, cl: 0},
		{name: "304: no body, no type", req: "GET /notmodified HTTP/1.1\r\nHost: a\r\n\r\n", method: "GET", status: 304, cl: 0,
			header: map[string]string{"Content-Type": "", "Etag": `"1"`}},
		{name: "second WriteHeader ignored", req: "GET /twice HTTP/1.1\r\nHost: a\r\n\r\n", method: "GET", status: 201, body: "made", cl: 4},
		{name: "103 then 200", req: "GET /hints HTTP/1.1\r\nHost: a\r\n\r\n", method: "GET", status: 200, body: "final", cl: 5},
		{name: "trailers", req: "GET /trailer HTTP/1.1\r\nHost: a\r\n\r\n", method: "GET", status: 200, body: "body", te: []string{"chunked"}, cl: -1,
			trailer: map[string]string{"X-Sum": "42", "X-Late": "7"}},
		{name: "client Connection: close", req: "GET /small HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", method: "GET", status: 200, body: "<html>hi</html>", cl: 15, closes: true},
		{name: "handler Connection: close", req: "GET /bye HTTP/1.1\r\nHost: a\r\n\r\n", method: "GET", status: 200, body: "bye", cl: 3, closes: true},
		{name: "HTTP/1.0 without keep-alive closes", req: "GET /small HTTP/1.0\r\n\r\n", method: "GET", status: 200, body: "<html>hi</html>", cl: 15, closes: true},
		{name: "HTTP/1.0 keep-alive kept", req: "GET /small HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", method: "GET", status: 200, body: "<html>hi</html>", cl: 15,
			header: map[string]string{"Connection": "keep-alive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr)
			c.send(tt.req)
			if tt.name == "103 then 200" {
				line, _ := c.br.ReadString('\n')
				if line != "HTTP/1.1 103 Early Hints\r\n" {
					t.Fatalf("interim line %q", line)
				}
				for l, _ := c.br.ReadString('\n'); l != "\r\n"; l, _ = c.br.ReadString('\n') {
				}
			}
			resp, body := c.read(tt.method)
			if resp.StatusCode != tt.status || body != tt.body {
				t.Fatalf("status %d body %d bytes, want %d and %d bytes", resp.StatusCode, len(body), tt.status, len(tt.body))
			}
			if fmt.Sprint(resp.TransferEncoding) != fmt.Sprint(tt.te) || resp.ContentLength != tt.cl {
				t.Errorf("Transfer-Encoding %v Content-Length %d, want %v %d", resp.TransferEncoding, resp.ContentLength, tt.te, tt.cl)
			}
			for k, v := range tt.header {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			for k, v := range tt.trailer {
				if got := resp.Trailer.Get(k); got != v {
					t.Errorf("trailer %s: %q, want %q (%v)", k, got, v, resp.Trailer)
				}
			}
			if tt.closes {
				if !resp.Close {
					t.Error("response does not say Connection: close")
				}
				if !c.closed() {
					t.Error("connection left open")
				}
				return
			}
			// The connection still serves.
			c.send("GET /small HTTP/1.1\r\nHost: a\r\n\r\n")
			if resp, _ := c.read("GET"); resp.StatusCode != 200 {
				t.Errorf("next request: %d", resp.StatusCode)
			}
		})
	}
	if !strings.Contains(log.String(), "superfluous WriteHeader") {
		t.Errorf("second WriteHeader not logged: %s", log.String())
	}
}

func TestRequestBodies(t *testing.T) {
	var lastTrailer atomic.Value
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		lastTrailer.Store(fmt.Sprint(r.Trailer))
		fmt.Fprintf(w, "%d:%s", r.ContentLength, b)
	})
	mux.HandleFunc("/ignore", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ignored") })
	addr := testServer(t, &Server{Handler: mux})

	t.Run("Content-Length", func(t *testing.T) {
		c := dial(t, addr)
		c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
		if _, body := c.read("POST"); body != "5:hello" {
			t.Errorf("body %q", body)
		}
	})
	t.Run("chunked with trailer, then the next request", func(t *testing.T) {
		c := dial(t, addr)
		c.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 9\r\n\r\nGET /ignore HTTP/1.1\r\nHost: a\r\n\r\n")
		if _, body := c.read("POST"); body != "-1:hello world" {
			t.Errorf("body %q", body)
		}
		if got := lastTrailer.Load(); got != "map[X-Sum:[9]]" {
			t.Errorf("trailer %v", got)
		}
		if _, body := c.read("GET"); body != "ignored" {
			t.Errorf("pipelined after chunked body: %q", body)
		}
	})
	t.Run("malformed chunked", func(t *testing.T) {
		c := dial(t, addr)
		c.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
		if resp, _ := c.read("POST"); resp.StatusCode != 400 {
			t.Errorf("status %d", resp.StatusCode)
		}
		if !c.closed() {
			t.Error("connection left open after a broken body")
		}
	})
	t.Run("small unread body drained, connection kept", func(t *testing.T) {
		c := dial(t, addr)
		c.send("POST /ignore HTTP/1.1\r\nHost: a\r\nContent-Length: 10000\r\n\r\n" + strings.Repeat("x", 10000))
		resp, _ := c.read("POST")
		if resp.Close {
			t.Fatal("closed after a small unread body")
		}
		c.send("GET /ignore HTTP/1.1\r\nHost: a\r\n\r\n")
		if _, body := c.read("GET"); body != "ignored" {
			t.Errorf("next request: %q", body)
		}
	})
	t.Run("large unread body: Connection close", func(t *testing.T) {
		c := dial(t, addr)
		c.send("POST /ignore HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n" + strings.Repeat("x", 1000))
		resp, _ := c.read("POST")
		if !resp.Close {
			t.Error("kept the connection with 1 MB unread")
		}
	})
	t.Run("100-continue sent when the body is read", func(t *testing.T) {
		c := dial(t, addr)
		c.send("PUT /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
		line, err := c.br.ReadString('\n')
		if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
			t.Fatalf("got %q %v, want 100 Continue", line, err)
		}
		c.br.ReadString('\n')
		c.send("abc")
		if _, body := c.read("PUT"); body != "3:abc" {
			t.Errorf("body %q", body)
		}
	})
	t.Run("100-continue not sent when the body is not read", func(t *testing.T) {
		c := dial(t, addr)
		c.send("PUT /ignore HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
		resp, body := c.read("PUT")
		if resp.StatusCode != 200 || body != "ignored" || !resp.Close {
			t.Errorf("status %d body %q close %v, want 200 ignored and close", resp.StatusCode, body, resp.Close)
		}
	})
	t.Run("other expectation: 417", func(t *testing.T) {
		c := dial(t, addr)
		c.send("PUT /echo HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 3\r\n\r\nabc")
		if resp, _ := c.read("PUT"); resp.StatusCode != 417 {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

func TestRefusedOverTCP(t *testing.T) {
	addr := testServer(t, &Server{Handler: http.HandlerFunc(echoPath), MaxHeaderBytes: 1024})
	tests := []struct {
		name, req string
		status    int
	}{
		{"smuggling: CL with TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"unknown transfer coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		{"headers over MaxHeaderBytes", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("a", 6000) + "\r\n\r\n", 431},
		{"missing Host", "GET / HTTP/1.1\r\n\r\n", 400},
		{"bare LF", "GET / HTTP/1.1\nHost: a\n\n", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr)
			c.send(tt.req)
			resp, _ := c.read("GET")
			if resp.StatusCode != tt.status || !resp.Close {
				t.Errorf("status %d close %v, want %d and close", resp.StatusCode, resp.Close, tt.status)
			}
			if !c.closed() {
				t.Error("connection left open")
			}
		})
	}
}

func TestHijack(t *testing.T) {
	addr := testServer(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer nc.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n') // may already be buffered
		brw.WriteString("echo:" + line)
		brw.Flush()
	})})
	c := dial(t, addr)
	c.send("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nping\n")
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("%v %v", resp, err)
	}
	line, err := c.br.ReadString('\n')
	if line != "echo:ping\n" {
		t.Fatalf("got %q %v", line, err)
	}
}

func TestClientGoneCancels(t *testing.T) {
	started := make(chan struct{}, 4)
	result := make(chan string, 4)
	addr := testServer(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select {
		case <-r.Context().Done():
			result <- "canceled " + r.URL.Path
		case <-time.After(time.Duration(len(r.URL.Path)) * 100 * time.Millisecond):
			result <- "done " + r.URL.Path
			io.WriteString(w, "ok")
		}
	})})

	// A client that goes away while its (slow) request runs: the context
	// ends long before the handler's 5 s.
	c := dial(t, addr)
	c.send("GET /" + strings.Repeat("x", 49) + " HTTP/1.1\r\nHost: a\r\n\r\n")
	<-started
	c.c.Close()
	select {
	case got := <-result:
		if !strings.HasPrefix(got, "canceled") {
			t.Errorf("got %q", got)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("context not canceled 3 s after the client left")
	}

	// Pipelined bytes waiting behind a slow request are not a goodbye.
	c = dial(t, addr)
	c.send("GET /abcd HTTP/1.1\r\nHost: a\r\n\r\nGET /ab HTTP/1.1\r\nHost: a\r\n\r\n")
	for _, want := range []string{"done /abcd", "done /ab"} {
		if got := <-result; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
		if resp, body := c.read("GET"); resp.StatusCode != 200 || body != "ok" {
			t.Errorf("status %d body %q", resp.StatusCode, body)
		}
	}
}

// watcherRunning reports whether s's client-gone watcher runs.
func watcherRunning(s *Server) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.watching
}

// waitWatcher waits up to 3 s for the watcher to be in state running.
func waitWatcher(t *testing.T, s *Server, running bool) {
	t.Helper()
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if watcherRunning(s) == running {
			return
		}
	}
	t.Fatalf("watcher running = %v after 3 s, want %v", watcherRunning(s), running)
}

// TestWatcherOnlyWhileRequests: the client-gone watcher (a 100 ms ticker)
// runs while a request is in flight and stops once none is, idle
// keep-alive connections or not (issue 16: an idle node wakes for
// nothing); the next request starts it again, and it still cancels the
// request of a client that went away.
func TestWatcherOnlyWhileRequests(t *testing.T) {
	started := make(chan struct{}, 4)
	result := make(chan string, 4)
	s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fast" {
			io.WriteString(w, "ok")
			return
		}
		started <- struct{}{}
		select {
		case <-r.Context().Done():
			result <- "canceled"
		case <-time.After(5 * time.Second):
			result <- "done"
		}
	})}
	addr := testServer(t, s)
	if watcherRunning(s) {
		t.Fatal("watcher running before any connection")
	}

	// A keep-alive connection stays open and idle after its request.
	idle := dial(t, addr)
	idle.send("GET /fast HTTP/1.1\r\nHost: a\r\n\r\n")
	if resp, body := idle.read("GET"); resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
	waitWatcher(t, s, false)

	// A slow request starts it; it runs while the request does.
	for range 2 {
		c := dial(t, addr)
		c.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
		<-started
		if !watcherRunning(s) {
			t.Fatal("watcher not running while a request is in flight")
		}
		time.Sleep(3 * watchEvery) // ticks that find the request: it keeps running
		if !watcherRunning(s) {
			t.Fatal("watcher stopped while a request was in flight")
		}
		c.c.Close()
		select {
		case got := <-result:
			if got != "canceled" {
				t.Fatalf("got %q, want the request canceled", got)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("context not canceled 3 s after the client left")
		}
		waitWatcher(t, s, false)
	}

	// The idle connection still serves.
	idle.send("GET /fast HTTP/1.1\r\nHost: a\r\n\r\n")
	if resp, body := idle.read("GET"); resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
	waitWatcher(t, s, false)
}

func TestShutdownWaitsForActive(t *testing.T) {
	release := make(chan struct{})
	inHandler := make(chan struct{})
	var (
		statesMu sync.Mutex
		states   = map[net.Conn][]http.ConnState{}
	)
	s := &Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/slow" {
				close(inHandler)
				<-release
			}
			io.WriteString(w, "bye")
		}),
		ConnState: func(c net.Conn, st http.ConnState) {
			statesMu.Lock()
			states[c] = append(states[c], st)
			statesMu.Unlock()
		},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	addr := ln.Addr().String()

	idle := dial(t, addr)
	idle.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	idle.read("GET")
	busy := dial(t, addr)
	busy.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	<-inHandler

	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	if !idle.closed() {
		t.Error("idle connection not closed by Shutdown")
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("listener still accepting after Shutdown")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	resp, body := busy.read("GET")
	if body != "bye" || !resp.Close {
		t.Errorf("in-flight request: body %q close %v", body, resp.Close)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	// Both connections end closed, after these states.
	want := map[string]bool{"[new active idle closed]": true, "[new active closed]": true}
	var seqs []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		seqs = seqs[:0]
		statesMu.Lock()
		for _, v := range states {
			seqs = append(seqs, fmt.Sprint(v))
		}
		statesMu.Unlock()
		if len(seqs) == 2 && want[seqs[0]] && want[seqs[1]] || time.Now().After(deadline) {
			break
		}
	}
	if len(seqs) != 2 || !want[seqs[0]] || !want[seqs[1]] {
		t.Errorf("ConnState sequences %v, want new active [idle] closed for both", seqs)
	}
	if err := s.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve after Shutdown: %v", err)
	}
}

func TestSlowloris(t *testing.T) {
	addr := testServer(t, &Server{Handler: http.HandlerFunc(echoPath), ReadHeaderTimeout: 300 * time.Millisecond, IdleTimeout: 5 * time.Second})
	slow := dial(t, addr)
	slow.send("GET / HTTP/1.1\r\nHost: a\r\n")
	closedAt := make(chan error, 1)
	go func() {
		for range 40 { // up to 4 s of trickling
			time.Sleep(100 * time.Millisecond)
			if _, err := slow.c.Write([]byte("X")); err != nil {
				closedAt <- err
				return
			}
			slow.c.SetReadDeadline(time.Now().Add(time.Millisecond))
			if _, err := slow.br.ReadByte(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
				closedAt <- err
				return
			}
		}
		closedAt <- nil
	}()
	// Another client is served meanwhile.
	c := dial(t, addr)
	c.send("GET /fine HTTP/1.1\r\nHost: a\r\n\r\n")
	if _, body := c.read("GET"); !strings.HasPrefix(body, "GET /fine") {
		t.Errorf("legitimate client: %q", body)
	}
	if err := <-closedAt; err == nil {
		t.Fatal("trickling connection still open after 4 s with a 300 ms ReadHeaderTimeout")
	}
	// A keep-alive connection that starts a head and stalls is cut too.
	c.send("GET /again HTTP/1.1\r\n")
	if !c.closed() {
		t.Error("stalled second head not cut")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestBodyReadTimeout(t *testing.T) {
	got := make(chan error, 1)
	addr := testServer(t, &Server{ReadTimeout: 300 * time.Millisecond, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		got <- err
		w.WriteHeader(http.StatusRequestTimeout)
	})})
	c := dial(t, addr)
	c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc")
	if err := <-got; !isTimeout(err) {
		t.Fatalf("body read error %v, want a timeout", err)
	}
	if resp, _ := c.read("POST"); resp.StatusCode != 408 || !resp.Close {
		t.Errorf("status %d close %v", resp.StatusCode, resp.Close)
	}
}

func TestPanicAndController(t *testing.T) {
	log := new(testlog.Buffer)
	addr := testServer(t, &Server{Logger: slog.New(slog.NewTextHandler(log, nil)), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/panic":
			panic("boom")
		case "/abort":
			panic(http.ErrAbortHandler)
		}
		rc := http.NewResponseController(w)
		for name, err := range map[string]error{
			"EnableFullDuplex": rc.EnableFullDuplex(),
			"SetReadDeadline":  rc.SetReadDeadline(time.Now().Add(time.Minute)),
			"SetWriteDeadline": rc.SetWriteDeadline(time.Now().Add(time.Minute)),
		} {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		io.WriteString(w, "part1,")
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		io.WriteString(w, "part2")
	})})
	for _, p := range []string{"/panic", "/abort"} {
		c := dial(t, addr)
		c.send("GET " + p + " HTTP/1.1\r\nHost: a\r\n\r\n")
		if !c.closed() {
			t.Errorf("%s: connection not closed", p)
		}
	}
	c := dial(t, addr)
	c.send("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
	resp, body := c.read("GET")
	if body != "part1,part2" || fmt.Sprint(resp.TransferEncoding) != "[chunked]" {
		t.Errorf("flushed response: %q %v", body, resp.TransferEncoding)
	}
	if n := strings.Count(log.String(), "panic serving request"); n != 1 {
		t.Errorf("%d panics logged, want 1 (ErrAbortHandler is silent): %s", n, log.String())
	}
	if !strings.Contains(log.String(), "boom") {
		t.Error("panic value not logged")
	}
}

// TestHeaderSanitized checks that a handler cannot split the response
// with CR/LF in a value or an invalid header name.
func TestHeaderSanitized(t *testing.T) {
	addr := testServer(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["X-Evil"] = []string{"a\r\nSet-Cookie: x=1"}
		w.Header()["Bad Name"] = []string{"v"}
		io.WriteString(w, "ok")
	})})
	c := dial(t, addr)
	c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	resp, _ := c.read("GET")
	if resp.Header.Get("Set-Cookie") != "" || resp.Header.Get("X-Evil") != "a  Set-Cookie: x=1" || len(resp.Header["Bad Name"]) != 0 {
		t.Errorf("header %v", resp.Header)
	}
}

func TestWriteOneSyscall(t *testing.T) {
	// The head and a small body leave in one write: the client sees them
	// in one read.
	addr := testServer(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(bytes.Repeat([]byte("a"), 2000))
	})})
	c := dial(t, addr)
	c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	buf := make([]byte, 8192)
	n, err := c.c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(buf[:n], bytes.Repeat([]byte("a"), 2000)) {
		t.Errorf("first read of %d bytes does not hold the whole response", n)
	}
}

// TestRequestFields checks what a handler sees of a request, and that its
// context ends when the handler returns.
func TestRequestFields(t *testing.T) {
	type seen struct {
		method, uri, host, remote, proto string
		noBody, tls                      bool
		ctx                              context.Context
		header                           http.Header
	}
	got := make(chan seen, 1)
	addr := testServer(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Method, r.RequestURI, r.Host, r.RemoteAddr, r.Proto, r.Body == http.NoBody, r.TLS != nil, r.Context(), r.Header}
	})})
	c := dial(t, addr)
	c.send("GET /a/b?c=d HTTP/1.1\r\nHost: site.test\r\nX-One: 1\r\n\r\n")
	c.read("GET")
	s := <-got
	if s.method != "GET" || s.uri != "/a/b?c=d" || s.host != "site.test" || s.remote != c.c.LocalAddr().String() || s.proto != "HTTP/1.1" || !s.noBody || s.tls {
		t.Errorf("request %+v", s)
	}
	if _, ok := s.header["Host"]; ok || s.header.Get("X-One") != "1" {
		t.Errorf("header %v: want X-One and no Host", s.header)
	}
	select {
	case <-s.ctx.Done():
	case <-time.After(time.Second):
		t.Error("request context not canceled after the handler returned")
	}
}

// TestReverseProxyTruncationAborts: behind httputil.ReverseProxy (the
// proxy's path for https origins and upgrades), an origin that dies in the
// middle of a chunked body must reach the client as a truncated body, not
// as a complete one: ReverseProxy aborts only when the request context
// carries http.ServerContextKey, as net/http's do.
func TestReverseProxyTruncationAborts(t *testing.T) {
	oln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer oln.Close()
	go func() {
		for {
			c, err := oln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
				// and the origin dies: no more chunks, no terminator.
			}()
		}
	}()
	target := &url.URL{Scheme: "http", Host: oln.Addr().String()}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = log.New(io.Discard, "", 0)
	var sawServer atomic.Bool
	addr := testServer(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
		sawServer.Store(ok)
		rp.ServeHTTP(w, r)
	})})
	c := dial(t, addr)
	c.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
	resp, err := http.ReadResponse(c.br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("reading response head: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("body %q read as complete; want an error for the truncated chunked body", b)
	}
	if !sawServer.Load() {
		t.Error("request context has no *http.Server under http.ServerContextKey")
	}
}
