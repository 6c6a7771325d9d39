// Command burst sends -n concurrent GET requests for one URL, each on its
// own connection, released at the same moment, and prints how many got
// each status code.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"
)

func main() {
	n := flag.Int("n", 1000, "concurrent requests")
	url := flag.String("url", "", "URL to request")
	flag.Parse()
	if *url == "" {
		fmt.Fprintln(os.Stderr, "burst: -url is required")
		os.Exit(2)
	}
	tr := &http.Transport{MaxConnsPerHost: *n, MaxIdleConnsPerHost: *n, DisableCompression: true}
	c := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range *n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			key := "error"
			if resp, err := c.Get(*url); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				key = fmt.Sprintf("%d %s", resp.StatusCode, resp.Header.Get("Rampart-Cache"))
			}
			mu.Lock()
			codes[key]++
			mu.Unlock()
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	keys := make([]string, 0, len(codes))
	for k := range codes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%s: %d\n", k, codes[k])
	}
	fmt.Printf("elapsed: %s\n", time.Since(t0).Round(time.Millisecond))
}
