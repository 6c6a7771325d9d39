package proxy

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadHead(t *testing.T) {
	tests := []struct {
		file    string
		wantErr string
		status  int
		length  int64
		chunked bool
		close   bool
		header  http.Header
		absent  []string
	}{
		{file: "nginx-keepalive.http", status: 200, length: 5, header: http.Header{
			"Server": {"nginx"}, "Content-Type": {"text/html"}, "Content-Length": {"5"}, "Set-Cookie": {"a=1", "b=2"},
			"Date": {"Wed, 25 Nov 2026 12:00:00 GMT"},
		}, absent: []string{"Connection", "Keep-Alive"}},
		{file: "interim-chunked.http", status: 200, length: -1, chunked: true, header: http.Header{},
			absent: []string{"Link", "Content-Length", "Transfer-Encoding", "Trailer"}},
		{file: "http10-close.http", status: 200, length: -1, close: true, header: http.Header{"Content-Type": {"text/plain"}}},
		{file: "conflicting-length.http", wantErr: "invalid Content-Length"},
		{file: "obs-fold.http", wantErr: "obsolete line folding"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "responses", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			m, _, err := readHead(bufio.NewReader(bytes.NewReader(data)), h, false, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.status != tt.status || m.contentLength != tt.length || m.chunked != tt.chunked || m.close != tt.close {
				t.Errorf("meta = %+v, want status %d length %d chunked %v close %v", m, tt.status, tt.length, tt.chunked, tt.close)
			}
			if tt.file == "nginx-keepalive.http" {
				h.Del("X-Hop") // removed by serveLean from the Connection tokens
			}
			for k, v := range tt.header {
				if got := h[k]; strings.Join(got, "|") != strings.Join(v, "|") {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			for _, k := range tt.absent {
				if _, ok := h[k]; ok {
					t.Errorf("hop-by-hop or framing header %s passed: %q", k, h[k])
				}
			}
		})
	}
}

func FuzzReadHead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "responses", "*.http"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("HTTP/1.1 204 No Content\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200\r\nContent-Length: 18446744073709551616\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h := http.Header{}
		m, _, err := readHead(bufio.NewReader(bytes.NewReader(data)), h, false, nil)
		// With a connection's headValues, twice (the second may share the
		// first's values): the same answer.
		var hv headValues
		for range 2 {
			h2 := http.Header{}
			m2, _, err2 := readHead(bufio.NewReader(bytes.NewReader(data)), h2, false, &hv)
			if (err == nil) != (err2 == nil) || m2.status != m.status || m2.contentLength != m.contentLength || !reflect.DeepEqual(h, h2) {
				t.Fatalf("with headValues: %v %+v %v, without: %v %+v %v", err2, m2, h2, err, m, h)
			}
		}
		if err != nil {
			if len(h) != 0 {
				t.Fatalf("a failed parse changed the header: %v", h)
			}
			return
		}
		if m.status < 100 || m.status > 999 {
			t.Fatalf("status %d accepted", m.status)
		}
		if m.contentLength < -1 || (m.chunked && m.contentLength != -1) {
			t.Fatalf("length %d chunked %v", m.contentLength, m.chunked)
		}
		for k, vv := range h {
			if hopHeaders[k] {
				t.Fatalf("hop-by-hop header %s kept", k)
			}
			if k == "" || http.CanonicalHeaderKey(k) != k {
				t.Fatalf("non-canonical key %q", k)
			}
			for _, v := range vv {
				if strings.ContainsAny(v, "\r\n\x00") {
					t.Fatalf("value %q of %s has CR, LF or NUL", v, k)
				}
			}
		}
	})
}

func FuzzForwarding(f *testing.F) {
	f.Add("203.0.113.9", "for=1.2.3.4", "www.example.org", "127.0.0.1:5555", true)
	f.Add("", "", "h\"o\\st", "[2001:db8::1]:80", false)
	f.Fuzz(func(t *testing.T, xff, fwd, host, remote string, trusted bool) {
		for _, s := range []string{xff, fwd, host} {
			if strings.ContainsAny(s, "\r\n") {
				return // net/http rejects such requests before the proxy
			}
		}
		r, _ := http.NewRequest("GET", "http://x/", nil)
		r.Host, r.RemoteAddr = host, remote
		r.Header.Set("X-Forwarded-For", xff)
		r.Header.Set("Forwarded", fwd)
		b := appendForwarding(nil, r, nil)
		lines := strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n")
		if len(lines) < 4 || len(lines) > 5 {
			t.Fatalf("got %d header lines: %q", len(lines), b)
		}
		if xff != "" && strings.Contains(string(b), "X-Forwarded-For: "+xff+",") {
			t.Fatalf("untrusted X-Forwarded-For kept: %q", b)
		}
	})
}

// TestReadHeadSharesValues checks that a connection's identical response
// heads share their value strings without an allocation, that a changed
// head gets its own, and that the values handed out before stay as they
// were. (A repeated field, appended to, costs its slice.)
func TestReadHeadSharesValues(t *testing.T) {
	head := func(date, cookie string) []byte {
		return []byte("HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: " + date + "\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n" + cookie + "\r\nabc")
	}
	var hv headValues
	one := head("Mon, 07 Dec 2026 16:00:00 GMT", "")
	rd := bytes.NewReader(nil)
	br := bufio.NewReader(rd)
	h := http.Header{}
	read := func(data []byte) {
		t.Helper()
		rd.Reset(data)
		br.Reset(rd)
		clear(h)
		m, _, err := readHead(br, h, false, &hv)
		if err != nil || m.status != 200 || m.contentLength != 3 {
			t.Fatalf("readHead: %v %+v", err, m)
		}
	}
	read(one)
	first := h.Clone()
	if n := testing.AllocsPerRun(100, func() { read(one) }); n != 0 && !raceOn {
		t.Errorf("an identical head: %v allocations, want 0", n)
	}
	if !reflect.DeepEqual(h, first) {
		t.Fatalf("shared values %v, want %v", h, first)
	}
	read(head("Mon, 07 Dec 2026 16:00:01 GMT", "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n"))
	read(head("Mon, 07 Dec 2026 16:00:01 GMT", "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n"))
	if h.Get("Date") != "Mon, 07 Dec 2026 16:00:01 GMT" || first.Get("Date") != "Mon, 07 Dec 2026 16:00:00 GMT" {
		t.Fatalf("after a new Date: %q, the first response's %q", h.Get("Date"), first.Get("Date"))
	}
	if got := h["Set-Cookie"]; len(got) != 2 || got[0] != "a=1" || got[1] != "b=2" {
		t.Fatalf("Set-Cookie %q", got)
	}
}
