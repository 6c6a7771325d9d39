// Command wafmem measures what many-argument POSTs cost a running
// rampart in memory (issue 11, point 2): it reads the server's RSS idle,
// fires rounds of concurrent urlencoded POSTs at a WAF zone (each on its
// own connection), records the peak RSS while they run, then the RSS
// every second for a while, and prints the figures and the verdicts
// against the targets: peak at most idle + 64 MiB, and back within 10% of
// idle within 30 s. bench/wafmem/run.sh starts the server and the origin.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:18600/form", "the rampart URL to POST to (127.0.0.1 only)")
	host := flag.String("host", "block.bench", "Host header: the WAF zone")
	pid := flag.Int("pid", 0, "rampart's process id (its RSS is read from /proc)")
	conc := flag.Int("c", 64, "concurrent POSTs per round")
	rounds := flag.Int("rounds", 3, "rounds")
	args := flag.Int("args", 8000, "arguments per body")
	size := flag.Int("size", 128<<10, "body size in bytes")
	watch := flag.Duration("watch", 30*time.Second, "how long to follow RSS after the last round")
	label := flag.String("label", "", "label for the output")
	flag.Parse()
	if *pid == 0 || !strings.HasPrefix(*url, "http://127.0.0.1:") {
		fmt.Fprintln(os.Stderr, "wafmem: -pid is required and -url must be on http://127.0.0.1")
		os.Exit(2)
	}
	body := form(*args, *size)

	idle := rss(*pid)
	var peak atomic.Int64
	peak.Store(idle)
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				if v := rss(*pid); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()

	codes := map[int]int{}
	var mu sync.Mutex
	start := time.Now()
	for range *rounds {
		var wg sync.WaitGroup
		for range *conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 60 * time.Second}
				req, _ := http.NewRequest("POST", *url, strings.NewReader(body))
				req.Host = *host
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
				req.Header.Set("Accept", "*/*")
				code := -1
				if resp, err := c.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	took := time.Since(start)
	close(stop)
	sampler.Wait()
	after := []int64{}
	for range int(watch.Seconds()) {
		time.Sleep(time.Second)
		after = append(after, rss(*pid))
	}
	back := -1
	for i, v := range after {
		if float64(v) <= float64(idle)*1.10 {
			back = i + 1
			break
		}
	}
	mib := func(v int64) string { return fmt.Sprintf("%.1f", float64(v)/(1<<20)) }
	fmt.Printf("# %s: %d rounds x %d concurrent POSTs, %d arguments, %d bytes each; took %s; statuses %v\n",
		*label, *rounds, *conc, *args, len(body), took.Round(time.Millisecond), codes)
	fmt.Printf("idle_rss_mib=%s peak_rss_mib=%s rise_mib=%s\n", mib(idle), mib(peak.Load()), mib(peak.Load()-idle))
	var line []string
	for _, v := range after {
		line = append(line, mib(v))
	}
	fmt.Printf("rss_each_second_mib=%s\n", strings.Join(line, ","))
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT MET"
	}
	fmt.Printf("target rise <= 64 MiB: %s (%s MiB)\n", verdict(peak.Load()-idle <= 64<<20), mib(peak.Load()-idle))
	if back > 0 {
		fmt.Printf("target back within 10%% of idle within 30 s: %s (after %d s)\n", verdict(back <= 30), back)
	} else {
		fmt.Printf("target back within 10%% of idle within 30 s: NOT MET (still %s MiB after %d s)\n", mib(after[len(after)-1]), len(after))
	}
}

// form returns an urlencoded body of n short arguments, padded to size.
func form(n, size int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte('&')
		}
		fmt.Fprintf(&b, "a%d=%d", i, i)
	}
	if b.Len() < size {
		b.WriteString("&pad=")
		b.WriteString(strings.Repeat("x", size-b.Len()))
	}
	s := b.String()
	if len(s) > size {
		s = s[:size]
	}
	return s
}

// rss returns the VmRSS of pid in bytes.
func rss(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		fmt.Fprintln(os.Stderr, "wafmem:", err)
		os.Exit(1)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
