// Command idleconns opens many idle keep-alive connections to an HTTP
// server (each sends one request, reads the response, then holds the
// connection open) and prints the server's resident memory while they are
// held, read from /proc/PID/status (VmRSS, summed over PID and its child
// processes, so nginx's workers count).
//
//	idleconns -addr 127.0.0.1:18083 -n 1000 -pid 12345 [-host example.org] [-hold 2s]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18083", "server address")
	host := flag.String("host", "", "Host header (default: addr)")
	path := flag.String("path", "/", "request path")
	n := flag.Int("n", 1000, "connections to hold")
	pid := flag.Int("pid", 0, "server process id whose RSS is reported (0: none)")
	hold := flag.Duration("hold", 2*time.Second, "how long to hold the connections before measuring")
	flag.Parse()
	if *host == "" {
		*host = *addr
	}
	before := rss(*pid)
	conns := make([]net.Conn, 0, *n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: idleconns\r\n\r\n", *path, *host)
	failed := 0
	fail := func(i int, err error) {
		if failed < 3 {
			fmt.Fprintf(os.Stderr, "idleconns: connection %d: %v\n", i, err)
		}
		failed++
	}
	for i := 0; i < *n; i++ {
		c, err := net.DialTimeout("tcp", *addr, 5*time.Second)
		if err != nil {
			fmt.Fprintf(os.Stderr, "idleconns: connection %d: %v\n", i, err)
			os.Exit(1)
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte(req)); err != nil {
			fail(i, err)
			continue
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			fail(i, err)
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			fail(i, fmt.Errorf("status %d", resp.StatusCode))
		}
		c.SetDeadline(time.Time{})
	}
	time.Sleep(*hold)
	open := 0
	for _, c := range conns {
		// A server that dropped the connection shows up as a readable EOF.
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		var b [1]byte
		if _, err := c.Read(b[:]); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				open++
			}
		}
	}
	after := rss(*pid)
	fmt.Printf("connections=%d failed=%d still_open=%d rss_before_kib=%d rss_held_kib=%d rss_held_mib=%.1f\n",
		*n, failed, open, before, after, float64(after)/1024)
}

// rss returns the VmRSS in KiB of pid and its child processes (0 if pid is
// 0 or unreadable).
func rss(pid int) int {
	if pid == 0 {
		return 0
	}
	total := vmRSS(pid)
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) > 2 && fields[1] == strconv.Itoa(pid) {
			child, _ := strconv.Atoi(strings.Fields(s)[0])
			total += vmRSS(child)
		}
	}
	return total
}

// vmRSS returns the VmRSS of one process in KiB.
func vmRSS(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}
