package proxy

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/reqctx"
)

// frontOpts configures the test edge in front of a Proxy.
type frontOpts struct {
	trusted bool // the TCP peer is a trusted proxy
	// clientIP, when set, is read from this request header instead of the
	// TCP peer (to simulate many clients).
	clientIPHeader string
}

// logRecorder is a slog.Handler that keeps every record.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.records = append(l.records, r.Clone())
	l.mu.Unlock()
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// find returns the messages with their "source" and "status" attributes.
func (l *logRecorder) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.records {
		s := r.Level.String() + " " + r.Message
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "source" || a.Key == "status" {
				s += " " + a.Key + "=" + a.Value.String()
			}
			return true
		})
		out = append(out, s)
	}
	return out
}

// testProxy is a Proxy behind a real HTTP server on 127.0.0.1.
type testProxy struct {
	*Proxy
	URL  string
	logs *logRecorder
	srv  *httptest.Server
}

// startProxy builds a Proxy for z and serves it on 127.0.0.1.
func startProxy(t *testing.T, z config.Zone, opts Options, fo frontOpts) *testProxy {
	t.Helper()
	if z.Host == "" {
		z.Host = "www.example.test"
	}
	logs := &logRecorder{}
	if opts.Logger == nil {
		opts.Logger = slog.New(logs)
	}
	p, err := New(z, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	p.Start()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := &reqctx.Info{ID: "req-1", Start: time.Now(), Zone: z.Host, PeerTrusted: fo.trusted}
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
			info.ClientIP = ap.Addr()
		}
		if fo.clientIPHeader != "" {
			if a, err := netip.ParseAddr(r.Header.Get(fo.clientIPHeader)); err == nil {
				info.ClientIP = a
			}
		}
		p.ServeHTTP(w, r.WithContext(reqctx.With(r.Context(), info)))
		w.Header().Set("X-Test-Origin", info.Origin)
	})
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		p.Close()
	})
	return &testProxy{Proxy: p, URL: srv.URL, logs: logs, srv: srv}
}

// origins starts n httptest origins with handler h(i) and returns their
// URLs.
func origins(t *testing.T, n int, h func(i int) http.Handler) []string {
	t.Helper()
	var urls []string
	for i := 0; i < n; i++ {
		s := httptest.NewServer(h(i))
		t.Cleanup(s.Close)
		urls = append(urls, s.URL)
	}
	return urls
}

// deadOrigin returns the URL of a loopback port with nothing listening.
func deadOrigin(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// named answers with its name in the body and the X-Origin header.
func named(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Origin", name)
		w.Write([]byte(name))
	})
}

// newClient returns an HTTP client with its own connection pool.
func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

func hasLine(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}
