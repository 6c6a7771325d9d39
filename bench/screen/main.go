// Command screen measures rampart's name screening through its admin API:
// it sends every query of a labelled eval set (testdata/screening-eval
// dev.jsonl format) to POST /v1/screen at a given client concurrency and
// prints the eval metrics (recall@1, recall@5, recall and precision at the
// server's threshold, false positive rate on negatives, per kind), the
// throughput, latency percentiles and, with -pid, the server's CPU time
// per query read from /proc/PID/stat.
//
//	go run ./bench/screen -addr http://127.0.0.1:9090 -token TOKEN -c 8 [-pid PID]
//
// The server answers only matches at or above its configured threshold, so
// the metrics and the sweep are meaningful at or above that threshold.
// Traffic goes only to -addr; the command refuses addresses that are not
// loopback unless -allow-remote is given.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart-edge/rampart/internal/screeneval"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "screen bench:", err)
		os.Exit(1)
	}
}

type options struct {
	addr        string
	token       string
	conc        int
	pid         int
	devPath     string
	rounds      int
	threshold   float64
	timeout     time.Duration
	allowRemote bool
}

func run(args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("screen", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "http://127.0.0.1:9090", "admin API base URL")
	fs.StringVar(&o.token, "token", os.Getenv("RAMPART_TOKEN"), "admin API token with read scope (default $RAMPART_TOKEN)")
	fs.IntVar(&o.conc, "c", 8, "client concurrency")
	fs.IntVar(&o.pid, "pid", 0, "server process id, to report its CPU time per query")
	fs.StringVar(&o.devPath, "dev", "testdata/screening-eval/dev.jsonl", "labelled query file")
	fs.IntVar(&o.rounds, "rounds", 3, "times the query set is sent for the throughput figures (metrics use the first)")
	fs.Float64Var(&o.threshold, "threshold", 0.90, "operating threshold for the metrics (the server's compliance.threshold)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "per-request timeout")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a non-loopback -addr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.conc < 1 || o.rounds < 1 {
		return errors.New("-c and -rounds must be at least 1")
	}
	u, err := url.Parse(o.addr)
	if err != nil || u.Host == "" {
		return fmt.Errorf("invalid -addr %q", o.addr)
	}
	if !o.allowRemote && !isLoopback(u.Hostname()) {
		return fmt.Errorf("-addr %q is not a loopback address (use -allow-remote)", o.addr)
	}
	cases, err := screeneval.Load(o.devPath)
	if err != nil {
		return err
	}
	client := &http.Client{
		Timeout: o.timeout,
		Transport: &http.Transport{
			MaxIdleConns:        o.conc * 2,
			MaxIdleConnsPerHost: o.conc * 2,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	endpoint := strings.TrimSuffix(o.addr, "/") + "/v1/screen"

	// Warm up connections and caches; not counted.
	for i := 0; i < min(200, len(cases)); i++ {
		if _, _, err := screen(client, endpoint, o.token, cases[i]); err != nil {
			return fmt.Errorf("warm-up request: %w", err)
		}
	}

	n := len(cases) * o.rounds
	lat := make([]time.Duration, n)
	hits := make([][]screeneval.Hit, len(cases))
	var next atomic.Int64
	var failed atomic.Int64
	var firstErr error
	var errOnce sync.Once
	cpu0, cpuErr := procCPU(o.pid)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < o.conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				c := cases[i%len(cases)]
				h, d, err := screen(client, endpoint, o.token, c)
				lat[i] = d
				if err != nil {
					failed.Add(1)
					errOnce.Do(func() { firstErr = err })
					continue
				}
				if i < len(cases) {
					hits[i] = h
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	cpu1, _ := procCPU(o.pid)
	if f := failed.Load(); f > 0 {
		return fmt.Errorf("%d of %d requests failed; first: %w", f, n, firstErr)
	}

	outs := make([]screeneval.Outcome, len(cases))
	for i, c := range cases {
		outs[i] = screeneval.Outcome{Case: c, Hits: hits[i]}
	}
	screeneval.Report(out, outs, o.threshold)
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Fprintf(out, "\nthroughput: %d queries in %s at concurrency %d: %.0f queries/s\n", n, wall.Round(time.Millisecond), o.conc, float64(n)/wall.Seconds())
	fmt.Fprintf(out, "latency: p50 %s  p95 %s  p99 %s  max %s\n", pct(0.50).Round(time.Microsecond), pct(0.95).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	if o.pid > 0 {
		if cpuErr != nil {
			fmt.Fprintf(out, "server CPU: unavailable: %v\n", cpuErr)
		} else {
			cpu := cpu1 - cpu0
			fmt.Fprintf(out, "server CPU: %s for %d queries: %.3f ms per query (%.0f%% of one core)\n",
				cpu.Round(time.Millisecond), n, float64(cpu)/float64(n)/1e6, 100*cpu.Seconds()/wall.Seconds())
		}
	}
	return nil
}

// kindOf maps an eval type to the API's kind.
func kindOf(typ string) string {
	switch typ {
	case "individual":
		return "person"
	case "entity":
		return "organization"
	case "vessel", "aircraft":
		return typ
	}
	return ""
}

type screenReq struct {
	Name  string `json:"name"`
	Kind  string `json:"kind,omitempty"`
	Limit int    `json:"limit"`
}

type screenResp struct {
	Matches []struct {
		ID    string  `json:"id"`
		Score float64 `json:"score"`
	} `json:"matches"`
}

// screen sends one query and returns its results and latency.
func screen(client *http.Client, endpoint, token string, c screeneval.Case) ([]screeneval.Hit, time.Duration, error) {
	body, err := json.Marshal(screenReq{Name: c.Query, Kind: kindOf(c.Type), Limit: 10})
	if err != nil {
		return nil, 0, err
	}
	req, err := http.NewRequest(http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, 0, fmt.Errorf("creating request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, time.Since(t0), fmt.Errorf("sending %q: %w", c.Query, err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if err != nil {
		return nil, d, fmt.Errorf("reading answer to %q: %w", c.Query, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, d, fmt.Errorf("screening %q: %s: %s", c.Query, resp.Status, bytes.TrimSpace(data))
	}
	var r screenResp
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, d, fmt.Errorf("decoding answer to %q: %w", c.Query, err)
	}
	hits := make([]screeneval.Hit, len(r.Matches))
	for i, m := range r.Matches {
		hits[i] = screeneval.Hit{ID: m.ID, Score: m.Score}
	}
	return hits, d, nil
}

// procCPU returns the user plus system CPU time of process pid from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s, Linux's
// USER_HZ).
func procCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading process stat: %w", err)
	}
	// The command name (field 2) may hold spaces; fields resume after ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("parsing /proc/%d/stat: no ')'", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("parsing /proc/%d/stat: %d fields", pid, len(f))
	}
	// f[0] is field 3 (state), so utime (14) is f[11] and stime (15) f[12].
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parsing /proc/%d/stat: bad utime/stime", pid)
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
