package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/testlog"
)

// origin is a real HTTP origin on 127.0.0.1 that counts its hits and
// answers "NAME host=HOST xff=X-Forwarded-For".
type origin struct {
	*httptest.Server
	name string
	hits atomic.Int64
}

func newOrigin(t *testing.T, name string) *origin {
	t.Helper()
	o := &origin{name: name}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		if r.URL.Path == "/slow" {
			time.Sleep(700 * time.Millisecond)
		}
		w.Header().Set("X-Origin-Saw-Id", r.Header.Get("Rampart-Request-Id"))
		fmt.Fprintf(w, "%s host=%s xff=%s", name, r.Host, r.Header.Get("X-Forwarded-For"))
	}))
	t.Cleanup(o.Close)
	return o
}

// parseConfig parses yaml with the real config package, then points the
// listeners at free loopback ports (port 0, which config validation does
// not accept in a file) and turns the access log off.
func parseConfig(t *testing.T, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse(filepath.Join(t.TempDir(), "rampart.yaml"), []byte(yaml))
	if err != nil {
		t.Fatalf("parsing config: %v\n%s", err, yaml)
	}
	cfg.Listen.HTTP = "127.0.0.1:0"
	cfg.Listen.Admin = "127.0.0.1:0"
	if cfg.Listen.HTTPS != "" {
		cfg.Listen.HTTPS = "127.0.0.1:0"
	}
	if cfg.Listen.HTTP3 != "" {
		// The https address: bound on the port TCP was given.
		cfg.Listen.HTTP3 = cfg.Listen.HTTPS
	}
	return cfg
}

// running is an App serving in the background.
type running struct {
	*App
	cancel context.CancelFunc
	done   chan error
	logs   *testlog.Buffer
}

func start(t *testing.T, cfg *config.Config) *running {
	t.Helper()
	logs := &testlog.Buffer{}
	a, err := New(cfg, Options{Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), SkipCompliance: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{App: a, cancel: cancel, done: make(chan error, 1), logs: logs}
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop stops the app and checks that Run returned nil.
func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Error("Run did not return after cancel")
	}
}

func (r *running) url(path string) string { return "http://" + r.Addrs().HTTP + path }

// do sends a GET for path with the Host header host and returns the
// response (body read) and its body.
func do(t *testing.T, c *http.Client, url, host string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// selfSigned writes a self-signed ECDSA certificate for names into dir
// and returns the certificate and key file paths and the certificate.
func selfSigned(t *testing.T, dir, name string, names ...string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: names[0]},
		DNSNames:              names,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = filepath.Join(dir, name+".pem")
	keyFile = filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// tlsClient trusts the given certificates and speaks h2 when h2 is true.
func tlsClient(h2 bool, certs ...*x509.Certificate) *http.Client {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: h2}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}
