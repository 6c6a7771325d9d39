package edge

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/benchnet"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/metrics"
	"github.com/rampart-edge/rampart/internal/proxy"
	"github.com/rampart-edge/rampart/internal/rollup"
)

// BenchmarkServe measures one proxied 1 KiB GET through the whole edge
// (request id, client IP, routes, metrics, the zone's proxy) over
// keep-alive connections: client → Server → proxy.Proxy → origin, all on
// loopback, with the default timeouts. The allocation figure is the one
// to watch: it covers the edge, the proxy and net/http's server (the
// client side reuses its buffers).
func BenchmarkServe(b *testing.B) { benchServe(b, nil) }

// BenchmarkServeTraffic is BenchmarkServe with the dashboard's traffic
// rollups recording every request; compare the two in one run
// (go test -run XXX -bench 'Serve(Traffic)?$' -count 6 ./internal/edge).
func BenchmarkServeTraffic(b *testing.B) { benchServe(b, rollup.New(0, 0)) }

func benchServe(b *testing.B, traffic *rollup.Store) {
	p, err := proxy.New(config.Zone{Host: "bench.test", Origins: []string{benchnet.RawOrigin(b)}}, proxy.Options{})
	if err != nil {
		b.Fatal(err)
	}
	p.Start()
	defer p.Close()
	reg := metrics.New()
	z := &Zone{Name: "bench.test", Handler: p, Metrics: reg.Zone("bench.test")}
	s := New(Options{Timeouts: config.Default().Timeouts, Metrics: reg, Traffic: traffic})
	s.SetRoutes(&Routes{Lookup: mapLookup(map[string]*Zone{"bench.test": z})})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln, "http", nil) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
	}()
	req := []byte("GET /1k HTTP/1.1\r\nHost: bench.test\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	benchnet.KeepAliveLoad(b, ln.Addr().String(), req)
}

// TestProxiedGETAllocs counts the allocations of one proxied keep-alive
// GET through the edge (h1, request id, client IP, routes, metrics) and
// the zone's proxy to a local origin, client and origin included (they
// allocate nothing): h1's Request allocated with the edge's request state
// (newH1Request) and the request head's string. The origin's response
// head is the same every time, so its values are shared (proxy's
// headValues).
func TestProxiedGETAllocs(t *testing.T) {
	if testing.Short() || raceOn {
		t.Skip("counts allocations over loopback connections")
	}
	p, err := proxy.New(config.Zone{Host: "alloc.test", Origins: []string{benchnet.RawOrigin(t)}}, proxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	defer p.Close()
	reg := metrics.New()
	z := &Zone{Name: "alloc.test", Handler: p, Metrics: reg.Zone("alloc.test")}
	s := New(Options{Timeouts: config.Default().Timeouts, Metrics: reg})
	s.SetRoutes(&Routes{Lookup: mapLookup(map[string]*Zone{"alloc.test": z})})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln, "http", nil) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
	}()
	get := benchnet.KeepAliveGet(t, ln.Addr().String(), []byte("GET /1k HTTP/1.1\r\nHost: alloc.test\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n"))
	get()
	n := testing.AllocsPerRun(300, get)
	t.Logf("%v allocations per proxied request", n)
	if n > 2 {
		t.Errorf("%v allocations per proxied request, want at most 2", n)
	}
}
