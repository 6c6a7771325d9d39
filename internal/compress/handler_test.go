package compress

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("streamed text, compressed on the fly. ", 100)
	origin := func(ct, extra string, status int, body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			w.Header().Set("ETag", `"e"`)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			if extra != "" {
				k, v, _ := strings.Cut(extra, ": ")
				w.Header().Set(k, v)
			}
			w.WriteHeader(status)
			io.WriteString(w, body)
		})
	}
	tests := []struct {
		name, ct, extra, ae, method, rng string
		status                           int
		body, coding                     string
	}{
		{"br", "text/html", "", "gzip, br", "GET", "", 200, text, "br"},
		{"zstd", "application/json", "", "zstd", "GET", "", 200, text, "zstd"},
		{"gzip", "text/css", "", "gzip", "GET", "", 200, text, "gzip"},
		{"no accept", "text/html", "", "", "GET", "", 200, text, ""},
		{"image", "image/png", "", "br", "GET", "", 200, text, ""},
		{"small", "text/html", "", "br", "GET", "", 200, "tiny", ""},
		{"already encoded", "text/html", "Content-Encoding: gzip", "br", "GET", "", 200, text, "gzip"},
		{"no-transform", "text/html", "Cache-Control: no-transform", "br", "GET", "", 200, text, ""},
		{"range request", "text/html", "", "br", "GET", "bytes=0-1", 200, text, ""},
		{"404", "text/html", "", "br", "GET", "", 404, text, ""},
		{"event stream", "text/event-stream", "", "br", "GET", "", 200, text, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tt.method, "/", nil)
			if tt.ae != "" {
				r.Header.Set("Accept-Encoding", tt.ae)
			}
			if tt.rng != "" {
				r.Header.Set("Range", tt.rng)
			}
			w := httptest.NewRecorder()
			Handler(origin(tt.ct, tt.extra, tt.status, tt.body)).ServeHTTP(w, r)
			if got := w.Header().Get("Content-Encoding"); got != tt.coding {
				t.Fatalf("Content-Encoding %q, want %q", got, tt.coding)
			}
			body := w.Body.Bytes()
			if tt.coding != "" && tt.extra == "" {
				if w.Header().Get("Content-Length") != "" || w.Header().Get("ETag") != `W/"e"` ||
					!strings.Contains(w.Header().Get("Vary"), "Accept-Encoding") {
					t.Fatalf("headers %v", w.Header())
				}
				var err error
				if body, err = Decode(tt.coding, body); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(body, []byte(tt.body)) {
				t.Fatalf("body differs: %d bytes", len(body))
			}
		})
	}
}

// TestHandlerStreaming checks that a flush reaches the client through the
// encoder, for a response written in pieces without Content-Length.
func TestHandlerStreaming(t *testing.T) {
	t.Parallel()
	part := strings.Repeat("chunk of text ", 200)
	srv := httptest.NewServer(Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		for range 3 {
			io.WriteString(w, part)
			w.(http.Flusher).Flush()
		}
	})))
	defer srv.Close()
	// The default transport asks for gzip and decodes it.
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !resp.Uncompressed || string(b) != strings.Repeat(part, 3) {
		t.Fatalf("uncompressed %v, %d bytes", resp.Uncompressed, len(b))
	}
}
