package connlimit_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/connlimit"
)

// server accepts on a wrapped loopback listener and holds every accepted
// connection open until the test ends, echoing one byte so a client can
// tell it was served.
func server(t *testing.T, o connlimit.Options) (*connlimit.Limiter, string, chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := connlimit.New(o)
	wl := l.Wrap(ln, "http")
	accepted := make(chan net.Conn, 100)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := wl.Accept()
			if err != nil {
				return
			}
			c.Write([]byte{'k'})
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		wl.Close()
		wg.Wait()
		close(accepted)
		for c := range accepted {
			c.Close()
		}
	})
	return l, ln.Addr().String(), accepted
}

func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// tryServed dials from src and reports whether the connection was
// served; a connection reset during the dial counts as refused.
func tryServed(t *testing.T, src, addr string) bool {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	return served(t, c)
}

// served reports whether the server answered on c (true) or closed it
// without a byte (false).
func served(t *testing.T, c net.Conn) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	var b [1]byte
	_, err := c.Read(b[:])
	if err == nil {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("neither served nor closed within 2s")
	}
	return false
}

func TestPerIP(t *testing.T) {
	var mu sync.Mutex
	rejected := map[string]int{}
	l, addr, accepted := server(t, connlimit.Options{MaxPerIP: 2, OnReject: func(ln, reason string) {
		mu.Lock()
		rejected[ln+"/"+reason]++
		mu.Unlock()
	}})
	a1 := dialFrom(t, "127.0.0.2", addr)
	a2 := dialFrom(t, "127.0.0.2", addr)
	if !served(t, a1) || !served(t, a2) {
		t.Fatal("first two connections were not served")
	}
	if tryServed(t, "127.0.0.2", addr) {
		t.Fatal("third connection from one address was served, want closed")
	}
	b1 := dialFrom(t, "127.0.0.3", addr)
	if !served(t, b1) {
		t.Fatal("another address was refused")
	}
	mu.Lock()
	if got := rejected["http/max_conns_per_ip"]; got != 1 {
		t.Errorf("rejections counted = %v, want 1 http/max_conns_per_ip", rejected)
	}
	mu.Unlock()
	if got := l.OpenFrom(netip.MustParseAddr("127.0.0.2")); got != 2 {
		t.Errorf("OpenFrom = %d, want 2", got)
	}
	// Closing a served connection (server side) frees its slot.
	(<-accepted).Close()
	deadline := time.Now().Add(2 * time.Second)
	for l.OpenFrom(netip.MustParseAddr("127.0.0.2")) != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	a4 := dialFrom(t, "127.0.0.2", addr)
	if !served(t, a4) {
		t.Fatal("a freed slot was not reused")
	}
}

func TestTotal(t *testing.T) {
	l, addr, _ := server(t, connlimit.Options{MaxConns: 3})
	var conns []net.Conn
	for i := range 3 {
		c := dialFrom(t, netip.AddrFrom4([4]byte{127, 0, 0, byte(10 + i)}).String(), addr)
		if !served(t, c) {
			t.Fatalf("connection %d refused under the total cap", i)
		}
		conns = append(conns, c)
	}
	if tryServed(t, "127.0.0.20", addr) {
		t.Fatal("connection over the total cap was served")
	}
	if got := l.Open(); got != 3 {
		t.Errorf("Open = %d, want 3", got)
	}
	_ = conns
}

func TestKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"},
		{"2001:db8:1:2::ffff", "2001:db8:1:2::"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := connlimit.Key(netip.MustParseAddr(tt.in)).String(); got != tt.want {
				t.Errorf("Key(%s) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestCloseTwiceReleasesOnce(t *testing.T) {
	l, addr, accepted := server(t, connlimit.Options{MaxPerIP: 5})
	c := dialFrom(t, "127.0.0.2", addr)
	served(t, c)
	sc := <-accepted
	sc.Close()
	sc.Close()
	io.Copy(io.Discard, c)
	if got := l.Open(); got != 0 {
		t.Errorf("Open = %d after double close, want 0", got)
	}
}

func TestAdmit(t *testing.T) {
	var rejected []string
	l := connlimit.New(connlimit.Options{MaxConns: 3, MaxPerIP: 2, OnReject: func(name, reason string) { rejected = append(rejected, name+":"+reason) }})
	a := netip.MustParseAddr("192.0.2.1")
	r1, ok1 := l.Admit("h3", a)
	r2, ok2 := l.Admit("h3", a)
	if !ok1 || !ok2 {
		t.Fatal("first two connections refused")
	}
	if _, ok := l.Admit("h3", a); ok {
		t.Fatal("third connection from one address admitted over max_per_ip 2")
	}
	r3, ok3 := l.Admit("h3", netip.MustParseAddr("2001:db8::1"))
	if !ok3 {
		t.Fatal("other address refused")
	}
	if _, ok := l.Admit("h3", netip.MustParseAddr("198.51.100.1")); ok {
		t.Fatal("admitted over max_conns 3")
	}
	r1()
	r1() // twice is once
	if got := l.OpenFrom(a); got != 1 {
		t.Fatalf("OpenFrom = %d after one release, want 1", got)
	}
	r2()
	r3()
	if l.Open() != 0 {
		t.Fatalf("Open = %d after every release", l.Open())
	}
	want := []string{"h3:" + connlimit.ReasonPerIP, "h3:" + connlimit.ReasonTotal}
	if fmt.Sprint(rejected) != fmt.Sprint(want) {
		t.Fatalf("rejected = %v, want %v", rejected, want)
	}
}
