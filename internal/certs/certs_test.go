package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/testenv"
	"github.com/rampart-edge/rampart/internal/testlog"
)

// serveTLS serves m's TLS configuration on 127.0.0.1 and returns the
// address. Each accepted connection completes its handshake and closes.
func serveTLS(t *testing.T, m *Manager) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", m.TLSConfig())
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
				_ = c.(*tls.Conn).Handshake()
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// handshake connects to addr with SNI name (none when empty) and returns
// the connection state. It does not verify the certificate.
func handshake(addr, sni string, cfg *tls.Config) (tls.ConnectionState, error) {
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg = cfg.Clone()
	cfg.ServerName = sni
	if cfg.RootCAs == nil {
		cfg.InsecureSkipVerify = true
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	return c.ConnectionState(), nil
}

// leafName returns the first DNS name of the certificate the server sent.
func leafName(cs tls.ConnectionState) string {
	if len(cs.PeerCertificates) == 0 || len(cs.PeerCertificates[0].DNSNames) == 0 {
		return ""
	}
	return cs.PeerCertificates[0].DNSNames[0]
}

func fileConfig(t *testing.T, ca *testenv.CA, dir string, names ...[]string) *config.Config {
	t.Helper()
	cfg := &config.Config{}
	for _, n := range names {
		c, k := ca.Issue(t, dir, n...)
		cfg.TLS.Certificates = append(cfg.TLS.Certificates, config.Certificate{Cert: c, Key: k})
	}
	return cfg
}

func TestSNISelection(t *testing.T) {
	t.Parallel()
	ca := testenv.NewCA(t)
	dir := t.TempDir()
	cfg := fileConfig(t, ca, dir,
		[]string{"a.test", "alt-a.test"},
		[]string{"b.test"},
		[]string{"*.wild.test"},
		[]string{"www.wild.test"},
		[]string{"a.test", "dup-a.test"}, // a.test again: the first file wins
	)
	m, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	addr := serveTLS(t, m)

	tests := []struct {
		name, sni, want string
	}{
		{"exact first file", "a.test", "a.test"},
		{"second SAN", "alt-a.test", "a.test"},
		{"exact second file", "b.test", "b.test"},
		{"case and trailing dot", "B.Test", "b.test"},
		{"wildcard", "api.wild.test", "*.wild.test"},
		{"exact beats wildcard", "www.wild.test", "www.wild.test"},
		{"wildcard does not cover its parent", "wild.test", "a.test"},
		{"wildcard covers one label only", "a.b.wild.test", "a.test"},
		{"unknown name gets the default", "unknown.example", "a.test"},
		{"no SNI gets the default", "", "a.test"},
		{"duplicate name keeps first file", "dup-a.test", "a.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cs, err := handshake(addr, tt.sni, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := leafName(cs); got != tt.want {
				t.Errorf("SNI %q got certificate for %q, want %q", tt.sni, got, tt.want)
			}
		})
	}

	t.Run("verifies against the CA", func(t *testing.T) {
		t.Parallel()
		if _, err := handshake(addr, "api.wild.test", &tls.Config{RootCAs: ca.Pool()}); err != nil {
			t.Fatalf("verified handshake failed: %v", err)
		}
	})

	t.Run("HasCertificate", func(t *testing.T) {
		t.Parallel()
		for host, want := range map[string]bool{
			"a.test": true, "B.TEST": true, "x.wild.test": true, "wild.test": false,
			"unknown.example": false, "": false,
		} {
			if got := m.HasCertificate(host); got != want {
				t.Errorf("HasCertificate(%q) = %v, want %v", host, got, want)
			}
		}
	})
}

func TestProtocolPolicy(t *testing.T) {
	t.Parallel()
	ca := testenv.NewCA(t)
	m, err := New(fileConfig(t, ca, t.TempDir(), []string{"a.test"}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	addr := serveTLS(t, m)

	tests := []struct {
		name   string
		client *tls.Config
		ok     bool
		check  func(t *testing.T, cs tls.ConnectionState)
	}{
		{"TLS 1.1 refused", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, false, nil},
		{"TLS 1.0 refused", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}, false, nil},
		{"TLS 1.2 CBC refused", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}, false, nil},
		{"TLS 1.2 ECDHE AES-GCM", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}, true,
			func(t *testing.T, cs tls.ConnectionState) {
				if cs.Version != tls.VersionTLS12 || cs.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 {
					t.Errorf("negotiated %x/%x", cs.Version, cs.CipherSuite)
				}
			}},
		{"TLS 1.2 ChaCha20", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}}, true, nil},
		{"TLS 1.3 with h2", &tls.Config{NextProtos: []string{"h2", "http/1.1"}}, true,
			func(t *testing.T, cs tls.ConnectionState) {
				if cs.Version != tls.VersionTLS13 || cs.NegotiatedProtocol != "h2" {
					t.Errorf("negotiated version %x protocol %q, want TLS 1.3 and h2", cs.Version, cs.NegotiatedProtocol)
				}
			}},
		{"http/1.1 offered alone", &tls.Config{NextProtos: []string{"http/1.1"}}, true,
			func(t *testing.T, cs tls.ConnectionState) {
				if cs.NegotiatedProtocol != "http/1.1" {
					t.Errorf("negotiated %q, want http/1.1", cs.NegotiatedProtocol)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cs, err := handshake(addr, "a.test", tt.client)
			if tt.ok != (err == nil) {
				t.Fatalf("handshake error = %v, want ok=%v", err, tt.ok)
			}
			if tt.check != nil {
				tt.check(t, cs)
			}
		})
	}
}

func TestNewRejectsBrokenFiles(t *testing.T) {
	t.Parallel()
	ca := testenv.NewCA(t)
	dir := t.TempDir()
	goodCert, goodKey := ca.Issue(t, dir, "a.test")
	otherCert, otherKey := ca.Issue(t, dir, "b.test")
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = otherCert
	tests := []struct {
		name       string
		cert, key  string
		wantInErrs []string
	}{
		{"missing file", filepath.Join(dir, "nope.pem"), goodKey, []string{"nope.pem", "tls.certificates[0]"}},
		{"garbage cert", garbage, goodKey, []string{"garbage.pem"}},
		{"key does not match", goodCert, otherKey, []string{"a.test.pem", "b.test.key"}},
		{"key missing", goodCert, "", []string{"both cert and key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := &config.Config{}
			cfg.TLS.Certificates = []config.Certificate{{Cert: tt.cert, Key: tt.key}}
			_, err := New(cfg, Options{})
			if err == nil {
				t.Fatal("New succeeded with a broken certificate")
			}
			for _, w := range tt.wantInErrs {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestReload(t *testing.T) {
	t.Parallel()
	ca := testenv.NewCA(t)
	dir := t.TempDir()
	cfg := fileConfig(t, ca, dir, []string{"a.test"})
	m, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	addr := serveTLS(t, m)

	// A broken file keeps the old set and names the file.
	broken := filepath.Join(dir, "broken.pem")
	if err := os.WriteFile(broken, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := &config.Config{}
	bad.TLS.Certificates = append([]config.Certificate{}, cfg.TLS.Certificates...)
	bad.TLS.Certificates = append(bad.TLS.Certificates, config.Certificate{Cert: broken, Key: cfg.TLS.Certificates[0].Key})
	err = m.Reload(bad)
	if err == nil || !strings.Contains(err.Error(), "broken.pem") {
		t.Fatalf("Reload with a broken file = %v, want an error naming broken.pem", err)
	}
	if cs, err := handshake(addr, "a.test", nil); err != nil || leafName(cs) != "a.test" {
		t.Fatalf("after a failed reload: %v, certificate %q", err, leafName(cs))
	}

	// A good reload takes effect for new handshakes.
	next := fileConfig(t, ca, dir, []string{"c.test"}, []string{"a.test"})
	if err := m.Reload(next); err != nil {
		t.Fatal(err)
	}
	for sni, want := range map[string]string{"c.test": "c.test", "a.test": "a.test", "": "c.test"} {
		cs, err := handshake(addr, sni, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := leafName(cs); got != want {
			t.Errorf("after reload SNI %q got %q, want %q", sni, got, want)
		}
	}
	if !m.HasCertificate("c.test") {
		t.Error("HasCertificate(c.test) false after reload")
	}

	m.Close()
	if err := m.Reload(next); err == nil {
		t.Error("Reload after Close succeeded")
	}
}

func TestExpiredFileWarns(t *testing.T) {
	t.Parallel()
	ca := testenv.NewCA(t)
	c, k := ca.IssueValid(t, t.TempDir(), time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour), "old.test")
	cfg := &config.Config{}
	cfg.TLS.Certificates = []config.Certificate{{Cert: c, Key: k}}
	logs := &testlog.Buffer{}
	m, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !strings.Contains(logs.String(), "certificate file has expired") || !strings.Contains(logs.String(), "old.test.pem") {
		t.Errorf("no warning naming the expired file; log:\n%s", logs.String())
	}
	if !m.HasCertificate("old.test") {
		t.Error("an expired file is not served; it should be, with a warning")
	}
}

func TestNoCertificate(t *testing.T) {
	t.Parallel()
	m, err := New(&config.Config{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = m.GetCertificate(&tls.ClientHelloInfo{ServerName: "a.test"})
	if !errors.Is(err, errNoCertificate) {
		t.Fatalf("GetCertificate without certificates = %v", err)
	}
	// Without ACME the challenge handler is a pass-through.
	h := m.HTTPChallengeHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) }))
	rec := &recorder{header: http.Header{}}
	r, _ := http.NewRequest("GET", "http://a.test/.well-known/acme-challenge/x", nil)
	h.ServeHTTP(rec, r)
	if rec.code != 299 {
		t.Errorf("challenge handler without ACME answered %d, want the next handler's 299", rec.code)
	}
}

type recorder struct {
	header http.Header
	code   int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(c int)           { r.code = c }

func TestACMEHostsConfig(t *testing.T) {
	t.Parallel()
	ca := testenv.NewCA(t)
	dir := t.TempDir()
	files := fileConfig(t, ca, dir, []string{"*.filed.test"}, []string{"exact.test"})
	fs, err := loadFiles(files.TLS.Certificates, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		acme    config.ACME
		zones   []config.Zone
		want    string
		wantErr string
	}{
		{"explicit hosts", config.ACME{Email: "a@b.c", Hosts: []string{"One.test", "two.test", "one.test"}}, nil, "one.test,two.test", ""},
		{"explicit host with an exact file", config.ACME{Hosts: []string{"exact.test", "api.filed.test"}}, nil, "api.filed.test", ""},
		{"zones without files or wildcards", config.ACME{Email: "a@b.c"}, []config.Zone{
			{Host: "www.site.test", Aliases: []string{"site.test", "*.site.test", "127.0.0.1"}},
			{Host: "api.filed.test"},
		}, "www.site.test,site.test", ""},
		{"wildcard host refused", config.ACME{Hosts: []string{"*.site.test"}}, nil, "", "DNS-01"},
		{"IP host refused", config.ACME{Hosts: []string{"10.0.0.1"}}, nil, "", "IP address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := &config.Config{Zones: tt.zones}
			cfg.TLS.ACME = tt.acme
			got, err := acmeHosts(cfg, fs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("hosts = %v, want %s", got, tt.want)
			}
		})
	}
}

func TestACMEWithPebble(t *testing.T) {
	if testing.Short() {
		t.Skip("issues a certificate from an in-process Pebble")
	}
	// The edge's plain-HTTP listener, which answers http-01 challenges.
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pebble := testenv.StartPebble(t, testenv.PebbleOptions{HTTPPort: httpLn.Addr().(*net.TCPAddr).Port})

	ca := testenv.NewCA(t)
	cfg := fileConfig(t, ca, t.TempDir(), []string{"file.test"})
	cfg.Listen.HTTP = httpLn.Addr().String()
	cfg.TLS.ACME = config.ACME{
		Email:     "ops@acme.test",
		Directory: pebble.Directory,
		CARoot:    pebble.CARootFile,
		Hosts:     []string{"acme.test"},
	}
	dataDir := t.TempDir()
	logs := &testlog.Buffer{}
	m, err := New(cfg, Options{DataDir: dataDir, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	hits := make(chan string, 16)
	var challenges atomic.Int32
	challengeHandler := m.HTTPChallengeHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits <- r.URL.Path
		http.NotFound(w, r)
	}))
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") {
			challenges.Add(1)
		}
		challengeHandler.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(httpLn) }()
	defer srv.Close()
	addr := serveTLS(t, m)

	verify := &tls.Config{RootCAs: pebble.IssuerRoots()}
	deadline := time.Now().Add(60 * time.Second)
	var cs tls.ConnectionState
	for {
		cs, err = handshake(addr, "acme.test", verify)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pebble certificate for acme.test after 60s; last handshake: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	leaf := cs.PeerCertificates[0]
	if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "acme.test" {
		t.Errorf("ACME certificate names %v, want [acme.test]", leaf.DNSNames)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "acme.test", Roots: pebble.IssuerRoots(), Intermediates: intermediates(cs)}); err != nil {
		t.Errorf("ACME certificate does not chain to pebble's root: %v", err)
	}
	if !m.HasCertificate("acme.test") {
		t.Error("HasCertificate(acme.test) = false after issuance")
	}
	// certmagic's zap logs reach our slog handler.
	if out := logs.String(); !strings.Contains(out, `msg="certificate obtained successfully"`) || !strings.Contains(out, "component=certs") {
		t.Errorf("certmagic's log did not reach slog:\n%s", out)
	}
	// The file certificate still wins for its own name and is the default.
	for sni, want := range map[string]string{"file.test": "file.test", "": "file.test"} {
		cs, err := handshake(addr, sni, nil)
		if err != nil || leafName(cs) != want {
			t.Errorf("SNI %q: %v, got %q want %q", sni, err, leafName(cs), want)
		}
	}
	// Other requests pass through the challenge handler.
	resp, err := http.Get("http://" + httpLn.Addr().String() + "/index.html")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || <-hits != "/index.html" {
		t.Errorf("a plain request got %d instead of reaching the next handler", resp.StatusCode)
	}
	// The challenge was answered by the handler, not by the fallback.
	if challenges.Load() == 0 {
		t.Error("pebble never fetched a challenge from the edge's HTTP listener")
	}
	select {
	case p := <-hits:
		t.Errorf("a challenge request fell through to the next handler: %s", p)
	default:
	}
	// The certificate was stored under DataDir/certs.
	found := false
	_ = filepath.WalkDir(filepath.Join(dataDir, "certs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, "acme.test.crt") {
			found = true
		}
		return nil
	})
	if !found {
		t.Error("no acme.test.crt under DataDir/certs")
	}

	// Reload with one more host: the new host is issued, the first keeps
	// its stored certificate instead of being issued again.
	next := *cfg
	next.TLS.ACME.Hosts = []string{"acme.test", "second.test"}
	if err := m.Reload(&next); err != nil {
		t.Fatal(err)
	}
	waitForCert(t, addr, "second.test", verify)
	cs2 := waitForCert(t, addr, "acme.test", verify)
	if cs2.PeerCertificates[0].SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		t.Error("acme.test was issued a new certificate after reload; want the stored one reused")
	}
}

// waitForCert retries a verified handshake with SNI name for up to 60s.
func waitForCert(t *testing.T, addr, name string, verify *tls.Config) tls.ConnectionState {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		cs, err := handshake(addr, name, verify)
		if err == nil {
			return cs
		}
		if time.Now().After(deadline) {
			t.Fatalf("no verified certificate for %s after 60s; last handshake: %v", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func intermediates(cs tls.ConnectionState) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		pool.AddCert(c)
	}
	return pool
}

// BenchmarkGetCertificate measures certificate selection per handshake
// (exact, wildcard and default look-ups), without the handshake itself.
func BenchmarkGetCertificate(b *testing.B) {
	ca := testenv.NewCA(b)
	dir := b.TempDir()
	cfg := &config.Config{}
	for _, n := range [][]string{{"a.test"}, {"*.wild.test"}, {"b.test"}} {
		c, k := ca.Issue(b, dir, n...)
		cfg.TLS.Certificates = append(cfg.TLS.Certificates, config.Certificate{Cert: c, Key: k})
	}
	m, err := New(cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	hellos := []*tls.ClientHelloInfo{{ServerName: "a.test"}, {ServerName: "api.wild.test"}, {ServerName: "Unknown.Example"}, {}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if c, err := m.GetCertificate(hellos[i%len(hellos)]); err != nil || c == nil {
			b.Fatal(err)
		}
	}
}
