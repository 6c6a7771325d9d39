package h2

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// priorKnowledgeClient is an HTTP/2 client over plain TCP (prior
// knowledge: net/http's unencrypted HTTP/2).
func priorKnowledgeClient() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &p}}
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

// TestGETAllocs counts the allocations of a GET on an open connection
// (server side; the client below writes a pre-encoded request and parses
// frame headers by hand, allocating nothing): the request, its header
// map, the stream and HPACK's field strings: 16. net/http's HTTP/2 server
// makes about 48 for the same request (bench/h2/README.md).
func TestGETAllocs(t *testing.T) {
	if raceOn {
		t.Skip("allocation counts differ under the race detector")
	}
	body := []byte("hello, world")
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"text/plain"}
		w.Write(body)
	})}
	addr := serveLoopback(t, srv.ServeConn)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Preface, SETTINGS, and the server's SETTINGS acknowledged.
	var out bytes.Buffer
	out.WriteString(http2.ClientPreface)
	fr := http2.NewFramer(&out, nil)
	fr.WriteSettings()
	fr.WriteSettingsAck()
	if _, err := nc.Write(out.Bytes()); err != nil {
		t.Fatal(err)
	}
	// One HEADERS frame per stream id, encoded once up front.
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range []hpack.HeaderField{{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "https"},
		{Name: ":authority", Value: "example.com"}, {Name: ":path", Value: "/"}} {
		enc.WriteField(f)
	}
	const runs = 200
	reqs := make([][]byte, runs+4)
	for i := range reqs {
		var b bytes.Buffer
		http2.NewFramer(&b, nil).WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true})
		reqs[i] = b.Bytes()
	}
	buf := make([]byte, 64<<10)
	have := 0
	// roundTrip sends request i and reads frames until that stream's
	// END_STREAM.
	roundTrip := func(i int) {
		if _, err := nc.Write(reqs[i]); err != nil {
			t.Fatal(err)
		}
		id := uint32(2*i + 1)
		for {
			for have >= 9 {
				n := int(buf[0])<<16 | int(buf[1])<<8 | int(buf[2])
				if have < 9+n {
					break
				}
				typ, flags := http2.FrameType(buf[3]), http2.Flags(buf[4])
				sid := uint32(buf[5]&0x7f)<<24 | uint32(buf[6])<<16 | uint32(buf[7])<<8 | uint32(buf[8])
				copy(buf, buf[9+n:have])
				have -= 9 + n
				if sid == id && (typ == http2.FrameData || typ == http2.FrameHeaders) && flags.Has(http2.FlagDataEndStream) {
					return
				}
				if typ == http2.FrameRSTStream || typ == http2.FrameGoAway {
					t.Fatalf("frame %v on stream %d", typ, sid)
				}
			}
			n, err := nc.Read(buf[have:])
			if err != nil {
				t.Fatal(err)
			}
			have += n
		}
	}
	roundTrip(0)
	roundTrip(1)
	i := 2
	allocs := testing.AllocsPerRun(runs, func() {
		roundTrip(i)
		i++
	})
	// 16 measured (the handler's own: one, its header value slice); the
	// limit leaves two for the runtime.
	if allocs > 18 {
		t.Errorf("%.1f allocations per GET, want at most 18", allocs)
	}
	t.Logf("%.1f allocations per GET", allocs)
}

// TestConnWindowReturnedAcrossStreams: concurrent uploads, each below
// the size at which its stream's window is returned, together exhaust
// the connection's window while no handler answers yet (each waits for
// all the bodies): the connection's WINDOW_UPDATE must go out on its own,
// or every upload stalls.
func TestConnWindowReturnedAcrossStreams(t *testing.T) {
	const uploads = 40
	var read sync.WaitGroup
	read.Add(uploads)
	srv := &Server{
		MaxReceiveBufferPerConnection: 64 << 10,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n, err := io.Copy(io.Discard, r.Body)
			read.Done()
			read.Wait()
			fmt.Fprintf(w, "%d %v", n, err)
		}),
	}
	addr := serveLoopback(t, srv.ServeConn)
	client := priorKnowledgeClient()
	// 40 streams x 12 KiB: each under the 16 KiB stream threshold, 480 KiB
	// through a 64 KiB connection window.
	body := bytes.Repeat([]byte("y"), 12<<10)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := make(chan error, uploads)
	for i := 0; i < uploads; i++ {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/", bytes.NewReader(body))
			resp, err := client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "12288 <nil>" {
				err = fmt.Errorf("answer %q", b)
			}
			errs <- err
		}()
	}
	for i := 0; i < uploads; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("upload: %v", err)
		}
	}
}
