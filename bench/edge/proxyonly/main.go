// Command proxyonly serves internal/proxy behind a bare net/http server,
// without the rest of the edge (routing, phases, access log). The edge
// benchmark runs it next to the real `rampart serve` to separate the
// proxy's own cost from the edge's.
//
//	proxyonly -listen 127.0.0.1:18084 -origin http://127.0.0.1:18080
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/proxy"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18084", "address to serve on")
	origin := flag.String("origin", "http://127.0.0.1:18080", "origin URL")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	p, err := proxy.New(config.Zone{Host: "bench", Origins: []string{*origin}}, proxy.Options{})
	if err != nil {
		log.Fatal(err)
	}
	p.Start()
	defer p.Close()
	srv := &http.Server{Addr: *listen, Handler: p, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
