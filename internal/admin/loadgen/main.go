// Command loadgen measures POST /v1/screen of the admin API: it serves the
// API on 127.0.0.1 (bundled lists, real screening service), runs the
// client in a child process so that client work is not counted, and
// reports throughput and the server's CPU time per query (getrusage of the
// server process over the run).
//
//	go run ./internal/admin/loadgen -n 20000 -c 8
//
// -fixed replaces the screening service with a constant answer, to measure
// the API's own cost (HTTP, auth, JSON).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rampart-edge/rampart/internal/admin"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/token"
)

func main() {
	n := flag.Int("n", 20000, "queries to send")
	c := flag.Int("c", 8, "concurrent client connections")
	fixed := flag.Bool("fixed", false, "answer every query with a constant result instead of screening")
	client := flag.String("client", "", "internal: run as the client against this URL")
	tok := flag.String("token", "", "internal: bearer token for the client")
	flag.Parse()
	if *client != "" {
		runClient(*client, *tok, *n, *c)
		return
	}
	if err := runServer(*n, *c, *fixed); err != nil {
		log.Fatal(err)
	}
}

type fixedScreener struct{}

func (fixedScreener) Screen(screening.Query) screening.Result {
	return screening.Result{Matches: []screening.Match{{ID: "ofac-sdn:4695", List: "OFAC SDN", Name: "HAMAS",
		MatchedName: "HAMAS", Kind: "organization", Programs: []string{"SDGT"}, Score: 1}},
		Lists: map[string]string{"ofac-sdn": "x"}}
}

func runServer(n, c int, fixed bool) error {
	tokens := token.NewMemory()
	plain, _, err := tokens.Create(token.Read, "loadgen")
	if err != nil {
		return err
	}
	opts := admin.Options{Tokens: tokens}
	if fixed {
		opts.Screening = fixedScreener{}
	} else {
		t0 := time.Now()
		store, err := lists.Open("", nil)
		if err != nil {
			return err
		}
		svc := screening.NewService(store, 0.90)
		opts.Screening = svc
		opts.Lists = store
		fmt.Printf("lists and index ready in %v (%d entities)\n", time.Since(t0).Round(time.Millisecond), len(store.Snapshot().Entities))
	}
	s, err := admin.New(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	runtime.GC()

	url := "http://" + ln.Addr().String() + "/v1/screen"
	cmd := exec.Command(os.Args[0], "-client", url, "-token", plain, "-n", fmt.Sprint(n), "-c", fmt.Sprint(c))
	cmd.Stderr = os.Stderr
	var out bytes.Buffer
	cmd.Stdout = &out
	before := cpuTime()
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("running client: %w", err)
	}
	wall := time.Since(start)
	cpu := cpuTime() - before
	var res clientResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return fmt.Errorf("reading client result %q: %w", out.String(), err)
	}
	fmt.Printf("queries %d (ok %d, errors %d), concurrency %d, fixed=%v\n", res.Sent, res.OK, res.Errors, c, fixed)
	fmt.Printf("client wall %v: %.0f queries/s\n", time.Duration(res.WallNS).Round(time.Millisecond), float64(res.Sent)/time.Duration(res.WallNS).Seconds())
	fmt.Printf("server CPU %v over %v: %.1f µs per query (%.2f cores)\n", cpu.Round(time.Millisecond), wall.Round(time.Millisecond),
		float64(cpu.Microseconds())/float64(res.Sent), cpu.Seconds()/wall.Seconds())
	fmt.Printf("client p50 %.2f ms, p99 %.2f ms\n", res.P50MS, res.P99MS)
	return nil
}

// cpuTime is the user+system CPU time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type clientResult struct {
	Sent, OK, Errors int
	WallNS           int64
	P50MS, P99MS     float64
}

// names are sent round-robin: listed names, near misses and ordinary
// names that match nothing.
var names = []string{
	"Hamas", "Osama bin Laden", "John Smith", "Banco Nacional de Cuba", "Al Qaida",
	"Maria Garcia", "Kim Jong Un", "Islamic Revolutionary Guard Corps", "Peter Mueller",
	"Hezbollah", "Ali Hassan", "Rosneft", "Jane Doe", "Mohammed Ali", "Aeroflot",
	"Tornado Cash", "Ivan Petrov", "Sberbank", "Chen Wei", "Lazarus Group",
}

func runClient(url, tok string, n, c int) {
	tr := &http.Transport{MaxIdleConns: c, MaxIdleConnsPerHost: c, MaxConnsPerHost: c}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	bodies := make([][]byte, len(names))
	for i, name := range names {
		bodies[i], _ = json.Marshal(map[string]any{"name": name, "limit": 10})
	}
	var next, ok, errs atomic.Int64
	lat := make([][]time.Duration, c)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				req, _ := http.NewRequest("POST", url, bytes.NewReader(bodies[i%int64(len(bodies))]))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[w] = append(lat[w], time.Since(t0))
				if resp.StatusCode == 200 {
					ok.Add(1)
				} else {
					errs.Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	wall := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	res := clientResult{Sent: n, OK: int(ok.Load()), Errors: int(errs.Load()), WallNS: int64(wall)}
	if len(all) > 0 {
		slices.Sort(all)
		res.P50MS = float64(all[len(all)/2].Microseconds()) / 1000
		res.P99MS = float64(all[len(all)*99/100].Microseconds()) / 1000
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
}
