// Command origin is the cache benchmark's origin: /1k and /100k are
// cacheable bodies (max-age=3600), /slow answers after -slow (default 2s)
// and counts its hits, /sie is fresh for a second then usable stale for
// ten minutes if the origin fails, and /count reports the /slow hits.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18180", "address to listen on")
	slow := flag.Duration("slow", 2*time.Second, "delay of /slow")
	flag.Parse()
	bodies := map[string][]byte{
		"/1k":   []byte(strings.Repeat("x", 1024)),
		"/100k": []byte(strings.Repeat("y", 100*1024)),
	}
	var slowHits atomic.Int64
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case bodies[p] != nil:
			w.Header().Set("Cache-Control", "max-age=3600")
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(bodies[p])
		case strings.HasPrefix(p, "/slow"):
			slowHits.Add(1)
			time.Sleep(*slow)
			w.Header().Set("Cache-Control", "max-age=3600")
			fmt.Fprintln(w, "slow")
		case p == "/sie":
			w.Header().Set("Cache-Control", "max-age=1, stale-if-error=600")
			fmt.Fprintln(w, "kept")
		case p == "/count":
			fmt.Fprintln(w, slowHits.Load())
		default:
			http.NotFound(w, r)
		}
	})
	log.Fatal(http.ListenAndServe(*listen, nil))
}
