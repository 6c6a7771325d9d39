package proxy

import (
	"bufio"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// loopbackPair returns both ends of a real TCP connection on 127.0.0.1.
func loopbackPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func TestHeaderDeadlineSlack(t *testing.T) {
	for _, tc := range []struct{ d, want time.Duration }{
		{30 * time.Second, time.Second},
		{8 * time.Second, 500 * time.Millisecond},
		{160 * time.Millisecond, 10 * time.Millisecond},
		{0, 0},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			if got := headerDeadlineSlack(tc.d); got != tc.want {
				t.Errorf("headerDeadlineSlack(%v) = %v, want %v", tc.d, got, tc.want)
			}
		})
	}
}

func TestSetHeaderDeadline(t *testing.T) {
	const d = 30 * time.Second
	slack := headerDeadlineSlack(d)
	nc, _ := loopbackPair(t)
	c := &originConn{nc: nc, br: bufio.NewReader(nc)}

	before := time.Now()
	c.setHeaderDeadline(d)
	first := c.headerDeadline
	if first.Before(before.Add(d)) || first.After(time.Now().Add(d+slack)) {
		t.Fatalf("first deadline %v not in [now+%v, now+%v]", first.Sub(before), d, d+slack)
	}

	t.Run("kept within the slack", func(t *testing.T) {
		c.setHeaderDeadline(d)
		if !c.headerDeadline.Equal(first) {
			t.Errorf("deadline renewed to %v, want the first one kept", c.headerDeadline.Sub(first))
		}
	})
	t.Run("renewed when too early", func(t *testing.T) {
		c.headerDeadline = time.Now().Add(d - time.Millisecond)
		c.setHeaderDeadline(d)
		if c.headerDeadline.Before(time.Now().Add(d)) {
			t.Errorf("deadline %v from now, want at least %v", time.Until(c.headerDeadline), d)
		}
	})
	t.Run("renewed when too late", func(t *testing.T) {
		c.headerDeadline = time.Now().Add(d + 2*slack)
		c.setHeaderDeadline(d)
		if c.headerDeadline.After(time.Now().Add(d + slack)) {
			t.Errorf("deadline %v from now, want at most %v", time.Until(c.headerDeadline), d+slack)
		}
	})
	t.Run("cleared", func(t *testing.T) {
		c.clearDeadline()
		if !c.headerDeadline.IsZero() {
			t.Errorf("headerDeadline = %v after clearDeadline, want zero", c.headerDeadline)
		}
	})
}

// TestSetHeaderDeadlineFires checks that the deadline set is the
// connection's: a read with no data fails with a timeout.
func TestSetHeaderDeadlineFires(t *testing.T) {
	nc, _ := loopbackPair(t)
	c := &originConn{nc: nc, br: bufio.NewReader(nc)}
	const d = 50 * time.Millisecond
	c.setHeaderDeadline(d)
	// An old deadline kept for a second request still fires.
	c.setHeaderDeadline(d)
	start := time.Now()
	_, err := c.br.ReadByte()
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read error %v, want a deadline error", err)
	}
	if waited := time.Since(start); waited < d-headerDeadlineSlack(d)-5*time.Millisecond {
		t.Errorf("read failed after %v, before the %v timeout", waited, d)
	}
}
