// Command h3 is bench/h3's HTTP/3 load generator (quic-go's client) and
// its origin.
//
//	h3 -origin 127.0.0.1:18180               # serve a cacheable 1 KiB page
//	h3 -addr 127.0.0.1:18443 -url https://127.0.0.1:18443/page \
//	   -c 8 -m 16 -n 200000 -d 20s            # load: 8 connections, 16 streams each
//	h3 -addr 127.0.0.1:18443 -url ... -flood 64 -d 20s
//	                                          # the same load during a handshake flood
//
// The flood (-flood W) runs W workers that each start QUIC handshakes
// from a new socket on one of 4,000 loopback addresses (127.1.0.1 to
// 127.1.15.250) and abandon them after their first packets, the
// half-open state a handshake flood leaves on a server without address
// validation; the load's success ratio during the flood is what counts.
//
// The load generator only dials loopback addresses; it stops after -n
// requests or -d, whichever comes first, and prints one line of figures:
// requests, failures, seconds, requests per second and the p50/p99
// latency in ms.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

func main() {
	origin := flag.String("origin", "", "serve the origin on this address instead of generating load")
	size := flag.Int("size", 1024, "origin body size in bytes")
	addr := flag.String("addr", "", "UDP address of the HTTP/3 server (loopback only)")
	target := flag.String("url", "", "URL to GET (its host is the Host and SNI)")
	conns := flag.Int("c", 8, "QUIC connections")
	streams := flag.Int("m", 16, "concurrent requests per connection")
	n := flag.Int64("n", 100000, "stop after this many requests")
	dur := flag.Duration("d", 20*time.Second, "stop after this long")
	flood := flag.Int("flood", 0, "handshake flood workers during the load (0: none)")
	flag.Parse()
	if *origin != "" {
		serveOrigin(*origin, *size)
		return
	}
	if err := loopbackOnly(*addr); err != nil {
		log.Fatal(err)
	}
	var floodStop func() int64
	if *flood > 0 {
		floodStop = startFlood(*addr, *flood)
	}
	run(*addr, *target, *conns, *streams, *n, *dur)
	if floodStop != nil {
		fmt.Printf("flood handshakes_started=%d\n", floodStop())
	}
}

// startFlood starts workers abandoning handshakes from many loopback
// addresses; the returned function stops them and returns how many
// handshakes they started.
func startFlood(addr string, workers int) func() int64 {
	ctx, cancel := context.WithCancel(context.Background())
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		log.Fatal(err)
	}
	var started atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				k := (w*7919 + i) % 4000
				src := &net.UDPAddr{IP: net.IPv4(127, 1, byte(k/250), byte(k%250+1))}
				pc, err := net.ListenUDP("udp", src)
				if err != nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				started.Add(1)
				dctx, dcancel := context.WithTimeout(ctx, 2*time.Millisecond)
				c, err := quic.Dial(dctx, pc, raddr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{http3.NextProtoH3}}, &quic.Config{})
				dcancel()
				if err == nil {
					c.CloseWithError(0, "")
				}
				pc.Close()
			}
		}()
	}
	return func() int64 {
		cancel()
		wg.Wait()
		return started.Load()
	}
}

// loopbackOnly refuses any address but 127.0.0.0/8 and ::1.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q: only loopback addresses are allowed", addr)
	}
	return nil
}

func serveOrigin(addr string, size int) {
	body := []byte(strings.Repeat("x", size))
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	})}
	log.Fatal(srv.ListenAndServe())
}

func run(addr, target string, conns, streams int, limit int64, dur time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var sent, failed atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		tr := &http3.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the bench's own self-signed certificate
			Dial: func(ctx context.Context, _ string, tc *tls.Config, qc *quic.Config) (*quic.Conn, error) {
				return quic.DialAddr(ctx, addr, tc, qc)
			},
		}
		defer tr.Close()
		for range streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				local := make([]time.Duration, 0, 1024)
				defer func() {
					mu.Lock()
					lat = append(lat, local...)
					mu.Unlock()
				}()
				for ctx.Err() == nil {
					if sent.Add(1) > limit {
						return
					}
					req, _ := http.NewRequestWithContext(ctx, "GET", target, nil)
					t0 := time.Now()
					resp, err := tr.RoundTrip(req)
					if err != nil {
						if ctx.Err() == nil {
							failed.Add(1)
						}
						continue
					}
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err != nil || resp.StatusCode != 200 {
						failed.Add(1)
						continue
					}
					local = append(local, time.Since(t0))
				}
			}()
		}
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000
	}
	ok := len(lat)
	fmt.Printf("h3 requests=%d failed=%d seconds=%.2f rps=%.0f p50_ms=%.3f p99_ms=%.3f\n",
		ok, failed.Load(), el, float64(ok)/el, pct(0.50), pct(0.99))
	if ok == 0 {
		os.Exit(1)
	}
}
