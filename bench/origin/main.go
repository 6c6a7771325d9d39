// Command origin is a minimal HTTP/1.1 origin for benchmarks: it answers
// every request with a fixed body (1 KiB by default) on keep-alive
// connections, spending as little CPU as possible so that the proxies in
// front of it are what gets measured. With -nethttp it serves the same
// body through net/http's server instead: the edge benchmark measures that
// as the floor of any proxy built on net/http's server (it answers without
// proxying anything).
//
//	origin -listen 127.0.0.1:18080 -size 1024 [-nethttp]
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18080", "address to serve on")
	size := flag.Int("size", 1024, "body size in bytes")
	nethttp := flag.Bool("nethttp", false, "serve through net/http's server")
	flag.Parse()
	body := bytes.Repeat([]byte("x"), *size)
	if *nethttp {
		length := []string{strconv.Itoa(*size)}
		ctype := []string{"text/plain"}
		log.Fatal(http.ListenAndServe(*listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h["Content-Length"] = length
			h["Content-Type"] = ctype
			w.Write(body)
		})))
	}
	resp := append([]byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nServer: bench-origin\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n", *size)), body...)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serve(c, resp)
	}
}

// serve answers each request on c (a head ending in an empty line; bodies
// are not expected) with resp until the client closes.
func serve(c net.Conn, resp []byte) {
	defer c.Close()
	br := bufio.NewReader(c)
	bw := bufio.NewWriter(c)
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return
		}
		if len(line) <= 2 { // end of a request head
			bw.Write(resp)
			if br.Buffered() == 0 { // pipelined requests are answered together
				if bw.Flush() != nil {
					return
				}
			}
		}
	}
}
