package certs

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/testenv"
	"github.com/rampart-edge/rampart/internal/testlog"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestACMESharedPostgres runs two nodes (two Managers, each with its own
// data directory and certmagic cache) on one PostgreSQL store against
// Pebble. Node A starts first and takes the issuance lock; node B starts
// while A holds it, waits on the lock and then loads what A stored. The
// CA's http-01 validation reaches node B only, so B answers a challenge A
// started, from the shared storage. Both nodes then serve the same
// certificate (same serial), it was obtained once, and nothing went to
// either data directory.
func TestACMESharedPostgres(t *testing.T) {
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pebble := testenv.StartPebble(t, testenv.PebbleOptions{HTTPPort: httpLn.Addr().(*net.TCPAddr).Port})
	storeURL := testenv.Postgres(t)

	cfg := &config.Config{Store: storeURL}
	cfg.Listen.HTTP = httpLn.Addr().String()
	cfg.TLS.ACME = config.ACME{
		Email:     "ops@acme.test",
		Directory: pebble.Directory,
		CARoot:    pebble.CARootFile,
		Hosts:     []string{"shared.test"},
	}

	// The CA's validation requests go to node B, once it exists.
	var nodeB atomic.Pointer[Manager]
	bReady := make(chan struct{})
	var challengesAtB atomic.Int32
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-bReady:
		case <-time.After(20 * time.Second):
			http.Error(w, "node B never started", http.StatusServiceUnavailable)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") {
			challengesAtB.Add(1)
		}
		nodeB.Load().HTTPChallengeHandler(http.NotFoundHandler()).ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(httpLn) }()
	defer srv.Close()

	logsA, logsB := &testlog.Buffer{}, &testlog.Buffer{}
	dirA, dirB := t.TempDir(), t.TempDir()
	a, err := New(cfg, Options{DataDir: dirA, Logger: slog.New(slog.NewTextHandler(logsA, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	// Wait until node A holds the issuance lock, then start node B.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM acme_locks WHERE name = 'issue_cert_shared.test'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node A never took the issuance lock; its log:\n%s", logsA.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	b, err := New(cfg, Options{DataDir: dirB, Logger: slog.New(slog.NewTextHandler(logsB, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	nodeB.Store(b)
	close(bReady)

	addrA, addrB := serveTLS(t, a), serveTLS(t, b)
	verify := &tls.Config{RootCAs: pebble.IssuerRoots()}
	start := time.Now()
	csA := waitForCert(t, addrA, "shared.test", verify)
	csB := waitForCert(t, addrB, "shared.test", verify)
	t.Logf("both nodes serve the certificate %v after node B started", time.Since(start).Round(time.Millisecond))

	serialA, serialB := csA.PeerCertificates[0].SerialNumber, csB.PeerCertificates[0].SerialNumber
	if serialA.Cmp(serialB) != 0 {
		t.Errorf("node A serves serial %x, node B %x; want one certificate", serialA, serialB)
	}
	obtained := strings.Count(logsA.String(), "certificate obtained successfully") +
		strings.Count(logsB.String(), "certificate obtained successfully")
	if obtained != 1 {
		t.Errorf("the certificate was obtained %d times, want once", obtained)
	}
	if !strings.Contains(logsA.String(), "certificate obtained successfully") {
		t.Errorf("node A held the lock but did not obtain the certificate; A's log:\n%s", logsA.String())
	}
	if challengesAtB.Load() == 0 {
		t.Error("no challenge reached node B; the test did not show B answering A's challenge")
	}
	for node, m := range map[string]*Manager{"A": a, "B": b} {
		if !m.HasCertificate("shared.test") {
			t.Errorf("node %s: HasCertificate(shared.test) = false", node)
		}
	}

	// The certificate is in the database, once, and in no data directory.
	var crts int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM acme_storage WHERE key LIKE 'certificates/%/shared.test/shared.test.crt'`).Scan(&crts); err != nil {
		t.Fatal(err)
	}
	if crts != 1 {
		t.Errorf("%d stored certificates for shared.test, want 1", crts)
	}
	for _, dir := range []string{dirA, dirB} {
		if _, err := os.Stat(filepath.Join(dir, "certs")); !os.IsNotExist(err) {
			t.Errorf("%s/certs exists (%v): ACME data went to the data directory", dir, err)
		}
	}
	// The lock was released.
	var locks int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM acme_locks WHERE name = 'issue_cert_shared.test'`).Scan(&locks); err != nil || locks != 0 {
		t.Errorf("issuance lock rows after issuance: %d, %v; want 0", locks, err)
	}

	// A third node started later loads the certificate without asking the CA.
	logsC := &testlog.Buffer{}
	c, err := New(cfg, Options{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(logsC, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	csC := waitForCert(t, serveTLS(t, c), "shared.test", verify)
	if csC.PeerCertificates[0].SerialNumber.Cmp(serialA) != 0 {
		t.Errorf("a later node serves serial %x, want %x", csC.PeerCertificates[0].SerialNumber, serialA)
	}
	if strings.Contains(logsC.String(), "certificate obtained successfully") {
		t.Error("a later node obtained a new certificate instead of loading the shared one")
	}
}

// TestACMEStorageChoice: without a PostgreSQL store, ACME needs the data
// directory; with one, it does not; a store that cannot be reached fails
// New with an error that does not show the password.
func TestACMEStorageChoice(t *testing.T) {
	cfg := &config.Config{}
	cfg.TLS.ACME = config.ACME{Email: "ops@acme.test", Directory: "https://127.0.0.1:1/dir", Hosts: []string{"x.test"}}
	if _, err := New(cfg, Options{}); err == nil || !strings.Contains(err.Error(), "data directory") {
		t.Errorf("ACME without a data directory or PostgreSQL store: %v, want an error naming the data directory", err)
	}
	pg := *cfg
	pg.Store = testenv.Postgres(t)
	m, err := New(&pg, Options{})
	if err != nil {
		t.Fatalf("ACME on a PostgreSQL store without a data directory: %v", err)
	}
	if m.shared == nil {
		t.Error("no shared storage opened for a PostgreSQL store")
	}
	m.Close()
	bad := *cfg
	bad.Store = "postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=1"
	if _, err := New(&bad, Options{DataDir: t.TempDir()}); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("ACME on an unreachable store: %v; want an error without the password", err)
	}
}
