// Command tracecycles reads a Go execution trace of rampart serving
// keep-alive HTTP/1.1 (internal/h1) and splits where each connection's
// time goes between two responses. h1 yields (runtime.Gosched) after every
// response, so the time between two yields of one connection goroutine is
// one request cycle (the client's turnaround plus the latency it
// measures). Each cycle is split into: running; runnable after the yield
// (waiting in the run queue); blocked on the network (parked in the
// poller: the next request had not arrived, or its arrival was not yet
// noticed); runnable after the poller woke it, by a P or by an M without a
// P (sysmon, which polls only when nobody polled for 10 ms); blocked or
// runnable otherwise (locks, channels, GC assists). It prints the split
// for all cycles, the slowest 10% and the slowest 1%.
//
//	RAMPART_PPROF=127.0.0.1:6060 rampart serve ...   # under wrk:
//	curl -o r.trace 'http://127.0.0.1:6060/debug/pprof/trace?seconds=2'
//	(cd bench/cache/tracecycles && go run . ) < r.trace
//
// It is its own module (golang.org/x/exp/trace), outside rampart's build.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"golang.org/x/exp/trace"
)

const (
	running = iota
	rqYield
	netBlock
	rqNetP
	rqNetNoP
	otherBlock
	rqOther
	nParts
)

var names = []string{"running", "runq-after-yield", "blocked-network", "runq-after-netpoll(P)", "runq-after-netpoll(no P: sysmon)", "blocked-other", "runq-other"}

type gst struct {
	state  int
	since  trace.Time
	cyc    [nParts]time.Duration
	start  trace.Time
	gcSeen bool
	parks  int
}

type cycle struct {
	total time.Duration
	parts [nParts]time.Duration
	parks int
}

func main() {
	r, err := trace.NewReader(os.Stdin)
	if err != nil {
		panic(err)
	}
	gs := map[trace.GoID]*gst{}
	var cycles []cycle
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		if ev.Kind() != trace.EventStateTransition {
			continue
		}
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			continue
		}
		id := st.Resource.Goroutine()
		from, to := st.Goroutine()
		g := gs[id]
		if g == nil {
			g = &gst{state: -1}
			gs[id] = g
		}
		now := ev.Time()
		if g.state >= 0 && g.start != 0 {
			g.cyc[g.state] += time.Duration(now - g.since)
		}
		switch {
		case from == trace.GoRunning && to == trace.GoRunnable && st.Reason == "runtime.Gosched":
			if g.start != 0 {
				var c cycle
				c.total = time.Duration(now - g.start)
				c.parts = g.cyc
				c.parks = g.parks
				cycles = append(cycles, c)
			}
			g.start = now
			g.cyc = [nParts]time.Duration{}
			g.parks = 0
			g.state = rqYield
		case to == trace.GoRunning:
			g.state = running
		case to == trace.GoWaiting:
			if st.Reason == "network" {
				g.state = netBlock
				g.parks++
			} else {
				g.state = otherBlock
			}
		case from == trace.GoWaiting && to == trace.GoRunnable:
			if g.state == netBlock {
				if ev.Proc() == trace.NoProc {
					g.state = rqNetNoP
				} else {
					g.state = rqNetP
				}
			} else {
				g.state = rqOther
			}
		case to == trace.GoRunnable:
			g.state = rqOther
		default:
			g.state = -1
		}
		g.since = now
	}
	sort.Slice(cycles, func(i, j int) bool { return cycles[i].total < cycles[j].total })
	n := len(cycles)
	if n == 0 {
		fmt.Println("no cycles")
		return
	}
	q := func(p float64) time.Duration { return cycles[min(n-1, int(p*float64(n)))].total }
	fmt.Printf("cycles (response to response on one connection): n=%d p50=%v p90=%v p99=%v p99.9=%v max=%v\n", n, q(.5), q(.9), q(.99), q(.999), cycles[n-1].total)
	show := func(label string, cs []cycle) {
		var sum [nParts]time.Duration
		var tot time.Duration
		parks := 0
		for _, c := range cs {
			for i := range sum {
				sum[i] += c.parts[i]
			}
			tot += c.total
			parks += c.parks
		}
		fmt.Printf("%s: %d cycles, mean %v, parked in netpoll in %.0f%% of them;", label, len(cs), tot/time.Duration(len(cs)), 100*float64(parks)/float64(len(cs)))
		for i, s := range sum {
			fmt.Printf(" %s %.0f%%", names[i], 100*float64(s)/float64(tot))
		}
		fmt.Println()
	}
	show("all", cycles)
	show("slowest 10%", cycles[n*9/10:])
	show("slowest 1%", cycles[n*99/100:])
}
