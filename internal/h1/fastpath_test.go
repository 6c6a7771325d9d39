package h1

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
)

// TestAddRawHeader checks the preformatted header block: written after the
// map's fields, its flags honoured (no sniffed Content-Type, no second
// Date), refused after WriteHeader and for a second block, and gone on the
// connection's next request.
func TestAddRawHeader(t *testing.T) {
	tests := []struct {
		name                    string
		lines                   string
		hasType, hasEnc, hasDat bool
		late                    bool // add the block after WriteHeader
		wantAdded               bool
		want                    map[string]string // header values expected
		wantNoDate              bool              // the server's Date is not added
	}{
		{name: "block with type and date", lines: "Content-Type: text/x-test\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\nX-Stored: a\r\n",
			hasType: true, hasDat: true, wantAdded: true,
			want: map[string]string{"Content-Type": "text/x-test", "Date": "Mon, 02 Jan 2006 15:04:05 GMT", "X-Stored": "a", "X-Map": "m"}},
		{name: "block without type: sniffed", lines: "X-Stored: b\r\n", wantAdded: true,
			want: map[string]string{"Content-Type": "text/html; charset=utf-8", "X-Stored": "b", "X-Map": "m"}},
		{name: "encoding: not sniffed", lines: "Content-Encoding: gzip\r\n", hasEnc: true, wantAdded: true,
			want: map[string]string{"Content-Encoding": "gzip", "Content-Type": "", "X-Map": "m"}},
		{name: "after WriteHeader: refused", lines: "X-Stored: c\r\n", late: true,
			want: map[string]string{"X-Stored": "", "X-Map": "m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := "<html>hello</html>"
			var mu sync.Mutex
			var added, second bool
			s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/plain" {
					w.Write([]byte(body))
					return
				}
				ra := w.(interface {
					AddRawHeader([]byte, bool, bool, bool) bool
				})
				w.Header().Set("X-Map", "m")
				if tt.late {
					w.WriteHeader(200)
				}
				mu.Lock()
				added = ra.AddRawHeader([]byte(tt.lines), tt.hasType, tt.hasEnc, tt.hasDat)
				second = ra.AddRawHeader([]byte("X-Second: 1\r\n"), false, false, false)
				mu.Unlock()
				w.Write([]byte(body))
			})}
			c := dial(t, testServer(t, s))
			c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, got := c.read("GET")
			mu.Lock()
			defer mu.Unlock()
			if added != tt.wantAdded || second {
				t.Fatalf("AddRawHeader = %v, second = %v; want %v, false", added, second, tt.wantAdded)
			}
			if got != body {
				t.Fatalf("body %q", got)
			}
			for k, v := range tt.want {
				if g := resp.Header.Get(k); g != v {
					t.Errorf("%s = %q, want %q", k, g, v)
				}
			}
			if n := len(resp.Header.Values("Date")); n != 1 {
				t.Errorf("%d Date fields", n)
			}
			if resp.Header.Get("X-Second") != "" {
				t.Error("a second block was written")
			}
			// The next request on the connection has no block.
			c.send("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, _ = c.read("GET")
			if resp.Header.Get("X-Stored") != "" || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Fatalf("block leaked into the next response: %v", resp.Header)
			}
		})
	}
}

// TestAppendHeaderLines checks that AppendHeader writes what the server
// writes for a map field: invalid names dropped, values trimmed, CR and LF
// turned into spaces.
func TestAppendHeaderLines(t *testing.T) {
	tests := []struct {
		k    string
		vv   []string
		want string
	}{
		{"X-A", []string{"1", " 2 "}, "X-A: 1\r\nX-A: 2\r\n"},
		{"X-B", []string{"a\r\nInjected: x"}, "X-B: a  Injected: x\r\n"},
		{"Bad Name", []string{"v"}, ""},
		{"X-Empty", nil, ""},
	}
	for _, tt := range tests {
		if got := string(AppendHeader(nil, tt.k, tt.vv)); got != tt.want {
			t.Errorf("AppendHeader(%q, %q) = %q, want %q", tt.k, tt.vv, got, tt.want)
		}
	}
}

// TestDirectBody checks the one-writev path of a large body written whole
// with its Content-Length: body intact, keep-alive kept, HEAD without a
// body; and a handler's Content-Length shorter than its write is refused
// as on the buffered path.
func TestDirectBody(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 100<<10/16) // 100 KiB
	var mu sync.Mutex
	var shortErr error
	s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		if r.URL.Path == "/short" {
			w.Header().Set("Content-Length", strconv.Itoa(len(big)-1))
			_, err := w.Write(big)
			mu.Lock()
			shortErr = err
			mu.Unlock()
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(big)))
		if n, err := w.Write(big); n != len(big) || err != nil {
			t.Errorf("Write = %d, %v", n, err)
		}
	})}
	c := dial(t, testServer(t, s))
	for _, method := range []string{"GET", "HEAD", "GET"} {
		c.send(method + " / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, got := c.read(method)
		if resp.ContentLength != int64(len(big)) {
			t.Fatalf("%s: Content-Length %d", method, resp.ContentLength)
		}
		want := string(big)
		if method == "HEAD" {
			want = ""
		}
		if got != want {
			t.Fatalf("%s: body of %d bytes, want %d", method, len(got), len(want))
		}
	}
	c.send("GET /short HTTP/1.1\r\nHost: x\r\n\r\n")
	c.br.Peek(1)
	mu.Lock()
	err := shortErr
	mu.Unlock()
	if err != http.ErrContentLength {
		t.Fatalf("a write past Content-Length: %v", err)
	}
}

type ctxKey struct{}

// TestRequestContextHook checks that the request is created with the
// hook's context, which derives from the per-request one (cancelled when
// the handler returns), once per request.
func TestRequestContextHook(t *testing.T) {
	var mu sync.Mutex
	var calls int
	var ctxs []context.Context
	s := &Server{
		RequestContext: func(ctx context.Context) context.Context {
			mu.Lock()
			defer mu.Unlock()
			calls++
			return context.WithValue(ctx, ctxKey{}, calls)
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			ctxs = append(ctxs, r.Context())
			mu.Unlock()
			if err := r.Context().Err(); err != nil {
				t.Errorf("context done in the handler: %v", err)
			}
			w.Write([]byte(strconv.Itoa(r.Context().Value(ctxKey{}).(int))))
		}),
	}
	c := dial(t, testServer(t, s))
	for i := 1; i <= 2; i++ {
		c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		_, got := c.read("GET")
		if got != strconv.Itoa(i) {
			t.Fatalf("request %d saw hook value %s", i, got)
		}
	}
	c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	c.read("GET")
	mu.Lock()
	defer mu.Unlock()
	if calls != 3 || len(ctxs) != 3 {
		t.Fatalf("hook called %d times for %d requests", calls, len(ctxs))
	}
	// The last request's context may be cancelled just after its response
	// is read; the first two were cancelled before the next began.
	for i, ctx := range ctxs[:2] {
		if ctx.Err() == nil {
			t.Errorf("request %d: context not cancelled after the handler returned", i)
		}
	}
}
