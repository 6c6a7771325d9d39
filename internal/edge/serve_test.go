package edge

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/metrics"
	"github.com/rampart-edge/rampart/internal/proxy"
)

// folded is a request with obs-fold: internal/h1 refuses it (400),
// net/http unfolds it and the edge answers 421 (no zone). Which answer
// comes back tells which server loop served the connection.
const folded = "GET / HTTP/1.1\r\nHost: nowhere.test\r\nX-A: a\r\n b\r\nConnection: close\r\n\r\n"

func statusOf(t *testing.T, c net.Conn, raw string) int {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeServerSwitch checks that listen.server picks the server loop of
// plain-HTTP listeners and that connection metrics count on both.
func TestServeServerSwitch(t *testing.T) {
	tests := []struct {
		server string
		want   int
	}{
		{"", http.StatusBadRequest},
		{config.ServerRampart, http.StatusBadRequest},
		{config.ServerNetHTTP, http.StatusMisdirectedRequest},
	}
	for _, tt := range tests {
		t.Run("server="+tt.server, func(t *testing.T) {
			m := metrics.New()
			_, url := testEdge(t, Options{Server: tt.server, Metrics: m}, nil)
			c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := statusOf(t, c, folded); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
			_, accepted := m.Conns("http")
			if n := testutil.ToFloat64(accepted); n != 1 {
				t.Errorf("accepted connections %v, want 1", n)
			}
		})
	}
}

// TestServeTLSSplit serves TLS with listen.server rampart: http/1.1
// connections go to internal/h1, h2 ones to net/http, and both reach the
// edge.
func TestServeTLSSplit(t *testing.T) {
	cert := selfSigned(t)
	s := New(Options{Timeouts: config.Timeouts{ReadHeader: 5 * time.Second, Idle: 30 * time.Second, MaxHeaderBytes: 64 << 10}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- s.Serve(ln, "https", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}})
	}()
	addr := ln.Addr().String()
	dialTLS := func(proto string) *tls.Conn {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{proto}})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.ConnectionState().NegotiatedProtocol; got != proto {
			t.Fatalf("negotiated %q, want %q", got, proto)
		}
		return c
	}
	c := dialTLS("http/1.1")
	if got := statusOf(t, c, folded); got != http.StatusBadRequest {
		t.Errorf("http/1.1 over TLS: status %d, want 400 from internal/h1", got)
	}
	c.Close()
	c = dialTLS("http/1.1")
	if got := statusOf(t, c, "GET / HTTP/1.1\r\nHost: nowhere.test\r\n\r\n"); got != http.StatusMisdirectedRequest {
		t.Errorf("http/1.1 over TLS: status %d, want 421", got)
	}
	c.Close()
	// Two requests on one TLS connection: each gets its own request
	// state (h1's RequestContext hook is wired for TLS too).
	c = dialTLS("http/1.1")
	if _, err := io.WriteString(c, strings.Repeat("GET / HTTP/1.1\r\nHost: nowhere.test\r\n\r\n", 2)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var ids []string
	for i := 0; i < 2; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		ids = append(ids, resp.Header.Get(RequestIDHeader))
	}
	if ids[0] == "" || ids[0] == ids[1] {
		t.Errorf("request ids on one TLS connection: %q, want two different ones", ids)
	}
	c.Close()

	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("h2: %s %d, want HTTP/2.0 421", resp.Proto, resp.StatusCode)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("TLS listener still open after Shutdown")
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "edge.test"},
		DNSNames:     []string{"edge.test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestServeClientGoneAbortsProxy: a client that closes its connection
// while the real proxy waits for a slow origin ends the origin request
// (internal/h1 cancels the request context, the proxy's wait watcher
// interrupts the origin read) long before the origin answers, and the
// request is logged as the client's failure, not the origin's.
func TestServeClientGoneAbortsProxy(t *testing.T) {
	originGone := make(chan struct{})
	origin, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer origin.Close()
	go func() {
		c, err := origin.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// Read the request, answer nothing; wait for the proxy to hang up.
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		buf := make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil {
				close(originGone)
				return
			}
		}
	}()
	var sources = make(chan proxy.Source, 1)
	p, err := proxy.New(config.Zone{Host: "site.test", Origins: []string{"http://" + origin.Addr().String()}},
		proxy.Options{Timeouts: config.Timeouts{Dial: time.Second, ResponseHeader: 20 * time.Second}, OnError: func(_ *http.Request, e *proxy.Error) {
			sources <- e.Source
		}})
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	defer p.Close()
	zone := &Zone{Name: "site.test", Handler: p}
	_, url := testEdge(t, Options{}, &Routes{Lookup: mapLookup(map[string]*Zone{"site.test": zone})})
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: site.test\r\n\r\n")
	time.Sleep(300 * time.Millisecond) // the request reaches the origin
	c.Close()
	select {
	case <-originGone:
	case <-time.After(5 * time.Second):
		t.Fatal("origin request still open 5 s after the client left")
	}
	select {
	case src := <-sources:
		if src != proxy.SourceClient {
			t.Errorf("error source %v, want client", src)
		}
	case <-time.After(5 * time.Second):
		t.Error("the proxy reported no error for the abandoned request")
	}
}
