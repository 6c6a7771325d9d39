package accesslog

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
)

func sampleEntry() *Entry {
	return &Entry{
		Time:      time.Date(2026, 11, 25, 12, 0, 0, 123e6, time.UTC),
		ID:        "0a1b2c3d4e5f-1",
		ClientIP:  netip.MustParseAddr("192.0.2.1"),
		Zone:      "www.example.org",
		Method:    "GET",
		Host:      "www.example.org",
		Path:      "/a?b=c",
		Proto:     "HTTP/1.1",
		Status:    200,
		Bytes:     1024,
		Duration:  412 * time.Microsecond,
		Origin:    "http://127.0.0.1:3000",
		UserAgent: "curl/8.5.0",
	}
}

func TestAppendJSON(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(e *Entry)
		check func(t *testing.T, m map[string]any)
	}{
		{"all fields", func(*Entry) {}, func(t *testing.T, m map[string]any) {
			want := map[string]any{
				"time": "2026-11-25T12:00:00.123Z", "level": "INFO", "msg": "access", "request_id": "0a1b2c3d4e5f-1", "client_ip": "192.0.2.1",
				"zone": "www.example.org", "method": "GET", "host": "www.example.org", "path": "/a?b=c",
				"proto": "HTTP/1.1", "status": 200.0, "bytes": 1024.0, "duration": 0.000412,
				"origin": "http://127.0.0.1:3000", "user_agent": "curl/8.5.0",
			}
			for k, v := range want {
				if m[k] != v {
					t.Errorf("%s = %v, want %v", k, m[k], v)
				}
			}
			if _, ok := m["cache"]; ok {
				t.Error("cache present though empty")
			}
		}},
		{"hostile strings", func(e *Entry) {
			e.Path = "/\"quote\\back\nnew\x00nul\u2028"
			e.UserAgent = "bad\xffutf8"
		}, func(t *testing.T, m map[string]any) {
			if m["path"] != "/\"quote\\back\nnew\x00nul\u2028" {
				t.Errorf("path = %q", m["path"])
			}
			if m["user_agent"] != "bad\ufffdutf8" {
				t.Errorf("user_agent = %q", m["user_agent"])
			}
		}},
		{"cache and block", func(e *Entry) { e.Cache = "HIT"; e.Block = "waf" }, func(t *testing.T, m map[string]any) {
			if m["cache"] != "HIT" || m["block"] != "waf" {
				t.Errorf("cache, block = %v, %v", m["cache"], m["block"])
			}
		}},
		{"no client ip", func(e *Entry) { e.ClientIP = netip.Addr{} }, func(t *testing.T, m map[string]any) {
			if m["client_ip"] != "" {
				t.Errorf("client_ip = %v", m["client_ip"])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := sampleEntry()
			tt.edit(e)
			line := AppendJSON(nil, e)
			if !bytes.HasSuffix(line, []byte("}\n")) || bytes.Count(line, []byte("\n")) != 1 {
				t.Fatalf("not one line: %q", line)
			}
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("invalid JSON %q: %v", line, err)
			}
			tt.check(t, m)
		})
	}
}

func TestAppendCombined(t *testing.T) {
	tests := []struct {
		name string
		edit func(e *Entry)
		want string
	}{
		{"plain", func(*Entry) {}, `192.0.2.1 - - [25/Nov/2026:12:00:00 +0000] "GET /a?b=c HTTP/1.1" 200 1024 "-" "curl/8.5.0"` + "\n"},
		{"empty body and agent", func(e *Entry) { e.Bytes = 0; e.UserAgent = ""; e.Referer = "http://r.example/" },
			`192.0.2.1 - - [25/Nov/2026:12:00:00 +0000] "GET /a?b=c HTTP/1.1" 200 - "http://r.example/" "-"` + "\n"},
		{"forged line", func(e *Entry) { e.UserAgent = "x\"\n1.2.3.4 - - fake" },
			`192.0.2.1 - - [25/Nov/2026:12:00:00 +0000] "GET /a?b=c HTTP/1.1" 200 1024 "-" "x\x22\x0a1.2.3.4 - - fake"` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := sampleEntry()
			tt.edit(e)
			if got := string(AppendCombined(nil, e)); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr bool
	}{
		{"", JSON, false}, {"json", JSON, false}, {"combined", Combined, false}, {"off", Off, false}, {"xml", Off, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFormat(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseFormat(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
}

func TestOpenFileFlushOnClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs", "access.log")
	l, err := Open(config.Log{Format: "json", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				l.Log(sampleEntry())
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("lines = %d, want 800", len(lines))
	}
	for i, ln := range lines {
		if !json.Valid([]byte(ln)) {
			t.Fatalf("line %d is not JSON: %q", i+1, ln)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640", fi.Mode().Perm())
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestOffAndNil(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, Off)
	l.Log(sampleEntry())
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("Off wrote %q", buf.String())
	}
	var nl *Logger
	nl.Log(sampleEntry())
	if nl.Enabled() || nl.Flush() != nil || nl.Close() != nil {
		t.Error("nil logger not inert")
	}
}

func TestPeriodicFlush(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	l := New(lockedWriter{&mu, &buf}, Combined)
	defer l.Close()
	l.Log(sampleEntry())
	deadline := time.Now().Add(5 * FlushInterval)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := buf.Len()
		mu.Unlock()
		if n > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("line not flushed by the periodic flush")
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// FuzzAppendJSONString checks that any string is written as one valid JSON
// string that decodes to the input (with invalid UTF-8 replaced).
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\\n\r\t\x00\x1f", "\xff\xfe", "é漢字\u2028\u2029", "<script>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("invalid JSON %q for %q: %v", b, s, err)
		}
		if bytes.ContainsAny(b, "\n\r") {
			t.Fatalf("raw newline in %q", b)
		}
		// Ranging over a string yields U+FFFD for each invalid byte, which
		// is what the encoder writes.
		var want strings.Builder
		for _, r := range s {
			want.WriteRune(r)
		}
		if got != want.String() {
			t.Fatalf("round trip %q -> %q, want %q", s, got, want.String())
		}
	})
}

func BenchmarkLogJSON(b *testing.B) {
	l := New(discard{}, JSON)
	defer l.Close()
	e := sampleEntry()
	b.ReportAllocs()
	for b.Loop() {
		l.Log(e)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	l, err := Open(config.Log{Format: "combined", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Log(sampleEntry())
	rotated := filepath.Join(dir, "access.log.1")
	if err := os.Rename(path, rotated); err != nil {
		t.Fatal(err)
	}
	l.Log(sampleEntry()) // buffered: belongs to the rotated file
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Log(sampleEntry())
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		file  string
		lines int
	}{{rotated, 2}, {path, 1}} {
		data, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(data), "\n"); n != tt.lines {
			t.Errorf("%s: %d lines, want %d", filepath.Base(tt.file), n, tt.lines)
		}
	}
	nl := New(io.Discard, JSON)
	defer nl.Close()
	if err := nl.Reopen(); err != nil {
		t.Errorf("Reopen of a writer logger: %v", err)
	}
}

// BenchmarkSlogJSONReference logs the same fields through log/slog's JSON
// handler, for comparison with BenchmarkLogJSON.
func BenchmarkSlogJSONReference(b *testing.B) {
	l := slog.New(slog.NewJSONHandler(discard{}, nil))
	e := sampleEntry()
	b.ReportAllocs()
	for b.Loop() {
		l.LogAttrs(context.Background(), slog.LevelInfo, "access",
			slog.String("request_id", e.ID), slog.String("client_ip", e.ClientIP.String()),
			slog.String("zone", e.Zone), slog.String("method", e.Method), slog.String("host", e.Host),
			slog.String("path", e.Path), slog.String("proto", e.Proto), slog.Int("status", e.Status),
			slog.Int64("bytes", e.Bytes), slog.Float64("duration", e.Duration.Seconds()),
			slog.String("origin", e.Origin), slog.String("user_agent", e.UserAgent))
	}
}
