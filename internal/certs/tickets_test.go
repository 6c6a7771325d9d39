package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/postgres"
	"github.com/rampart-edge/rampart/internal/testenv"
	"github.com/rampart-edge/rampart/internal/testlog"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// ticketServer serves cfg on loopback (TLS, one byte written, then read
// to the end) and returns its address.
func ticketServer(t *testing.T, cfg *tls.Config) string {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				// Tickets of TLS 1.3 are sent after the handshake:
				// write a byte so the client reads them.
				_, _ = c.Write([]byte{1})
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// TestSharedTicketKeys (issue 17): two nodes (two Managers, each with its
// own handle on one PostgreSQL store) share their session ticket keys: a
// TLS 1.2 ticket issued by node A resumes on node B and the other way
// round; a rotation keeps older tickets resuming within the window; past
// the window (36 h) every key is deleted from the table and a client with
// an old ticket gets a full handshake, not an error; the secrets never
// appear in the log.
func TestSharedTicketKeys(t *testing.T) {
	url := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ca := newOCSPCA(t)
	dir := t.TempDir()
	cfg := &config.Config{TLS: config.TLS{Certificates: []config.Certificate{ca.issue(t, dir, "t.test", false)}}}
	logs := &testlog.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clock := &fakeClock{t: time.Now().UTC()}

	node := func(name string) (*Manager, store.Store, string) {
		st, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		m, err := New(cfg, Options{Logger: log.With("node", name)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		m.tickets.mu.Lock()
		m.tickets.now = clock.now
		m.tickets.mu.Unlock()
		if err := m.ShareTicketKeys(ctx, st); err != nil {
			t.Fatal(err)
		}
		return m, st, ticketServer(t, m.TLSConfig())
	}
	a, st, addrA := node("a")
	b, _, addrB := node("b")

	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	cache := tls.NewLRUClientSessionCache(4)
	resumed := func(addr string) bool {
		t.Helper()
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "t.test", MaxVersion: tls.VersionTLS12, ClientSessionCache: cache})
		if err != nil {
			t.Fatalf("handshake with %s: %v", addr, err)
		}
		defer c.Close()
		_, _ = c.Read(make([]byte, 1))
		return c.ConnectionState().DidResume
	}
	secrets := map[string]bool{}
	keys := func(want int) []store.TicketKey {
		t.Helper()
		ks, err := st.TicketKeys(ctx, time.Unix(0, 0)) // every row, expired or not
		if err != nil {
			t.Fatal(err)
		}
		if len(ks) != want {
			t.Fatalf("%d ticket keys in the store, want %d: %v", len(ks), want, ks)
		}
		for _, k := range ks {
			secrets[hex.EncodeToString(k.Secret[:])] = true
		}
		return ks
	}
	first := keys(1) // node B found node A's key and added none

	if resumed(addrA) {
		t.Fatal("the first handshake resumed")
	}
	if !resumed(addrB) {
		t.Error("a ticket issued by node A did not resume on node B")
	}
	if !resumed(addrA) {
		t.Error("a ticket (re)issued by node B did not resume on node A")
	}

	// 12 h later: node B rotates, node A loads the new key; tickets of
	// the older key still resume on both.
	clock.add(TicketKeyRotation)
	if err := b.tickets.check(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.tickets.check(ctx); err != nil {
		t.Fatal(err)
	}
	if ks := keys(2); ks[1].ID != first[0].ID {
		t.Fatalf("after one rotation: %v", ks)
	}
	if !resumed(addrA) || !resumed(addrB) {
		t.Error("no resumption within the window after a rotation")
	}

	// Past the window: every key the client's ticket could use has
	// expired and is deleted; the handshake is a full one.
	clock.add(TicketKeyLifetime + time.Minute)
	if err := a.tickets.check(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.tickets.check(ctx); err != nil {
		t.Fatal(err)
	}
	ks := keys(1)
	if ks[0].ID == first[0].ID {
		t.Fatal("no new key past the window")
	}
	if resumed(addrB) {
		t.Error("a ticket older than the window resumed")
	}
	if !resumed(addrA) {
		t.Error("the new ticket issued by node B did not resume on node A")
	}

	// The secrets stay out of the log (which names the keys).
	out := logs.String()
	if !strings.Contains(out, "session ticket key rotated") || !strings.Contains(out, ks[0].ID) {
		t.Errorf("no log line for the rotation:\n%s", out)
	}
	for s := range secrets {
		if strings.Contains(strings.ToLower(out), s) {
			t.Errorf("a ticket key secret is in the log:\n%s", out)
		}
	}
}

// TestSharedTicketKeysStoreDown: a node whose store stops answering keeps
// the shared keys until they expire, then issues tickets with a key of its
// own rather than none.
func TestSharedTicketKeysStoreDown(t *testing.T) {
	url := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ca := newOCSPCA(t)
	cfg := &config.Config{TLS: config.TLS{Certificates: []config.Certificate{ca.issue(t, t.TempDir(), "t.test", false)}}}
	st, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	clock := &fakeClock{t: time.Now().UTC()}
	m.tickets.mu.Lock()
	m.tickets.now = clock.now
	m.tickets.mu.Unlock()
	if err := m.ShareTicketKeys(ctx, st); err != nil {
		t.Fatal(err)
	}
	shared := m.tickets.keys[0].ID
	st.Close()
	if err := m.tickets.check(ctx); err == nil {
		t.Fatal("check succeeded on a closed store")
	}
	if m.tickets.keys[0].ID != shared {
		t.Error("the shared key was dropped while still valid")
	}
	clock.add(TicketKeyLifetime)
	_ = m.tickets.check(ctx)
	if k := m.tickets.keys; len(k) != 1 || k[0].ID == shared || !strings.HasPrefix(k[0].ID, "local_") {
		t.Errorf("keys after the shared one expired: %v", k)
	}
}
