package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

// originStats is what the origin reports at /__stats.
type originStats struct {
	Arrived      int64 `json:"arrived"`        // requests that reached the origin
	Served       int64 `json:"served"`         // answered 200 after holding a slot
	Refused      int64 `json:"refused"`        // answered 503: no slot within max_wait
	MaxPerSecond int64 `json:"max_per_second"` // most arrivals in one wall-clock second
	MaxWaiting   int64 `json:"max_waiting"`    // most requests at once that found every slot busy and waited
	Slots        int   `json:"slots"`          // the origin's capacity
}

// origin is a server with a fixed capacity: slots concurrent requests, each
// holding its slot for work (16 x 20 ms: about 800 requests/s). A request
// that finds every slot busy waits in a queue, as a thread-pool server's
// backlog would, up to maxWait; then it is answered 503 without work.
type origin struct {
	slots   chan struct{}
	work    time.Duration
	maxWait time.Duration

	arrived, served, refused atomic.Int64
	waiting, maxWaiting      atomic.Int64
	sec, secCount, maxPerSec atomic.Int64
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/__stats":
		json.NewEncoder(w).Encode(originStats{
			Arrived: o.arrived.Load(), Served: o.served.Load(), Refused: o.refused.Load(),
			MaxPerSecond: o.maxPerSec.Load(), MaxWaiting: o.maxWaiting.Load(), Slots: cap(o.slots),
		})
		return
	case "/__reset":
		for _, c := range []*atomic.Int64{&o.arrived, &o.served, &o.refused, &o.maxWaiting, &o.maxPerSec, &o.secCount} {
			c.Store(0)
		}
		fmt.Fprintln(w, "reset")
		return
	}
	o.arrived.Add(1)
	now := time.Now().Unix()
	if o.sec.Swap(now) != now {
		o.secCount.Store(0)
	}
	if n := o.secCount.Add(1); n > o.maxPerSec.Load() {
		o.maxPerSec.Store(n)
	}
	select {
	case o.slots <- struct{}{}: // a free slot: no wait
	default:
		if !o.queue(w, r) {
			return
		}
	}
	time.Sleep(o.work)
	<-o.slots
	o.served.Add(1)
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintln(w, "hello from the origin")
}

// queue waits for a slot, up to maxWait, for a request that found every
// slot busy: the origin received more than it can serve. It reports
// whether the request got a slot.
func (o *origin) queue(w http.ResponseWriter, r *http.Request) bool {
	if n := o.waiting.Add(1); n > o.maxWaiting.Load() {
		o.maxWaiting.Store(n)
	}
	t := time.NewTimer(o.maxWait)
	select {
	case o.slots <- struct{}{}:
		t.Stop()
		o.waiting.Add(-1)
		return true
	case <-t.C:
		o.waiting.Add(-1)
		o.refused.Add(1)
		http.Error(w, "origin overloaded", http.StatusServiceUnavailable)
		return false
	case <-r.Context().Done():
		t.Stop()
		o.waiting.Add(-1)
		return false
	}
}

func runOrigin(args []string) {
	fs := flag.NewFlagSet("origin", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:18180", "listen address (loopback)")
	slots := fs.Int("slots", 16, "concurrent requests served")
	work := fs.Duration("work", 20*time.Millisecond, "time each request holds its slot")
	maxWait := fs.Duration("max-wait", 2*time.Second, "longest wait for a slot before 503")
	fs.Parse(args)
	o := &origin{slots: make(chan struct{}, *slots), work: *work, maxWait: *maxWait}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: o, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 30 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	log.Printf("origin on %s: %d slots x %v (about %.0f req/s), max wait %v", ln.Addr(), *slots, *work, float64(*slots)/work.Seconds(), *maxWait)
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
