package h2

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// serveLoopback serves every connection accepted on a new 127.0.0.1
// listener with serveConn (prior-knowledge HTTP/2, no TLS) until the test
// ends (then the listener and every connection still open are closed, and
// the serveConn calls waited for), and returns the listener's address.
func serveLoopback(t testing.TB, serveConn func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); serveConn(c) }()
		}
	}()
	return ln.Addr().String()
}

// serveLoopbackTLS is serveLoopback over TLS with ALPN "h2" (httptest's
// certificate); the client config trusts it.
func serveLoopbackTLS(t testing.TB, serveConn func(net.Conn)) (addr string, client *tls.Config) {
	t.Helper()
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.EnableHTTP2 = true
	ts.StartTLS()
	cert := ts.TLS.Certificates[0]
	client = ts.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	client.NextProtos = []string{"h2"}
	ts.Close()
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}}
	addr = serveLoopback(t, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if err := tc.Handshake(); err != nil {
			tc.Close()
			return
		}
		serveConn(tc)
	})
	return addr, client
}
