// Command profile runs rampart's app from a config file without the
// sanctions lists and writes a CPU profile of what it served until it
// gets SIGINT or SIGTERM, for looking at the cache-hit path under wrk.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/rampart-edge/rampart/internal/app"
	"github.com/rampart-edge/rampart/internal/config"
)

func main() {
	cfgPath := flag.String("config", "rampart.yaml", "config file")
	out := flag.String("cpuprofile", "cpu.pprof", "CPU profile written at exit")
	flag.Parse()
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		log.Fatal(err)
	}
	a, err := app.New(cfg, app.Options{SkipCompliance: true})
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = a.Run(ctx)
	pprof.StopCPUProfile()
	f.Close()
	if err != nil {
		log.Fatal(err)
	}
}
