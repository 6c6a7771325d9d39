package h2

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/http2"
)

// priorKnowledgeClient is an HTTP/2 client over plain TCP.
func priorKnowledgeClient() *http.Client {
	return &http.Client{Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}}
}

func TestBasic(t *testing.T) {
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/small":
			w.Header().Set("X-Test", "yes")
			io.WriteString(w, "hello")
		case "/big":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(bytes.Repeat([]byte("x"), 1<<20+123))
		case "/echo":
			h := sha256.New()
			n, err := io.Copy(h, r.Body)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
		}
	})}
	addr := serveLoopback(t, srv.ServeConn)
	client := priorKnowledgeClient()
	base := "http://" + addr

	resp, err := client.Get(base + "/small")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello" || resp.Header.Get("X-Test") != "yes" || resp.ContentLength != 5 || resp.Proto != "HTTP/2.0" {
		t.Fatalf("small: %q %v %d %s", b, resp.Header, resp.ContentLength, resp.Proto)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("sniffed type %q", ct)
	}

	resp, err = client.Get(base + "/big")
	if err != nil {
		t.Fatal(err)
	}
	b, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(b) != 1<<20+123 {
		t.Fatalf("big: %d %v", len(b), err)
	}

	body := bytes.Repeat([]byte("abcdefgh"), 3<<20/8)
	want := fmt.Sprintf("%d %x", len(body), sha256.Sum256(body))
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Post(base+"/echo", "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != want {
				errs <- fmt.Errorf("echo: %q", b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if !strings.HasPrefix(want, "3145728 ") {
		t.Fatal(want)
	}
}
