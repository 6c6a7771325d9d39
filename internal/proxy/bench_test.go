package proxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/benchnet"
	"github.com/rampart-edge/rampart/internal/config"
)

// BenchmarkProxy measures one proxied 1 KiB GET over keep-alive
// connections: client → http.Server → Proxy → origin, all on loopback.
func BenchmarkProxy(b *testing.B) {
	for _, path := range []string{"lean", "transport"} {
		b.Run(path, func(b *testing.B) {
			o := benchnet.RawOrigin(b)
			p, err := New(config.Zone{Host: "bench.test", Origins: []string{o}}, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			var h http.Handler = p
			if path == "transport" {
				// Force the httputil path by sending every request through
				// serveTransport.
				h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if perr := p.serveTransport(p.origins[0], w, r, nil); perr != nil {
						b.Error(perr)
					}
				})
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			addr := strings.TrimPrefix(srv.URL, "http://")
			req := []byte("GET /1k HTTP/1.1\r\nHost: bench.test\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
			benchnet.KeepAliveLoad(b, addr, req)
		})
	}
}
