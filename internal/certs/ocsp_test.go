package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/rampart-edge/rampart/internal/config"
)

// ocspCA is a test CA with an OCSP responder on 127.0.0.1 that answers
// status for every serial it is asked about.
type ocspCA struct {
	cert      *x509.Certificate
	key       *ecdsa.PrivateKey
	responder *httptest.Server
	status    atomic.Int64 // ocsp.Good, ocsp.Revoked, or -1: HTTP 500
	asked     atomic.Int64
}

func newOCSPCA(t *testing.T) *ocspCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "rampart OCSP test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(48 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := &ocspCA{key: key}
	if ca.cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	ca.status.Store(int64(ocsp.Good))
	ca.responder = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ca.asked.Add(1)
		body, _ := io.ReadAll(r.Body)
		req, err := ocsp.ParseRequest(body)
		st := int(ca.status.Load())
		if err != nil || st < 0 {
			http.Error(w, "no", http.StatusInternalServerError)
			return
		}
		now := time.Now().Truncate(time.Minute)
		resp, err := ocsp.CreateResponse(ca.cert, ca.cert, ocsp.Response{
			Status:       st,
			SerialNumber: req.SerialNumber,
			ThisUpdate:   now.Add(-time.Minute),
			NextUpdate:   now.Add(24 * time.Hour),
			RevokedAt:    now.Add(-time.Hour),
		}, ca.key)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write(resp)
	}))
	t.Cleanup(ca.responder.Close)
	return ca
}

// issue writes a leaf for name naming the responder, and the chain
// (leaf, CA) with its key, to dir.
func (ca *ocspCA) issue(t *testing.T, dir, name string, responder bool) config.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if responder {
		tmpl.OCSPServer = []string{ca.responder.URL}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := config.Certificate{Cert: filepath.Join(dir, name+".pem"), Key: filepath.Join(dir, name+".key")}
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})...)
	if err := os.WriteFile(c.Cert, chain, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.Key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitStaple waits until the handshake for name carries a staple (or,
// with want false, checks it carries none after the first refresh).
func waitStaple(t *testing.T, addr, name string, pool *x509.CertPool, want bool) []byte {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		cs, err := handshake(addr, name, &tls.Config{RootCAs: pool})
		if err != nil {
			t.Fatal(err)
		}
		if (len(cs.OCSPResponse) > 0) == want || time.Now().After(deadline) {
			return cs.OCSPResponse
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestOCSPStapling: a file certificate that names an OCSP responder is
// stapled with the responder's "good" answer, checked by the client
// against the issuer; one without a responder is served unstapled; a
// revoked answer is not stapled; the staple survives a reload without
// asking the responder again.
func TestOCSPStapling(t *testing.T) {
	ca := newOCSPCA(t)
	dir := t.TempDir()
	cfg := &config.Config{TLS: config.TLS{Certificates: []config.Certificate{
		ca.issue(t, dir, "stapled.test", true),
		ca.issue(t, dir, "plain.test", false),
	}}}
	m, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	addr := serveTLS(t, m)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)

	der := waitStaple(t, addr, "stapled.test", pool, true)
	if len(der) == 0 {
		t.Fatal("no OCSP staple for a certificate with a responder")
	}
	cs, err := handshake(addr, "stapled.test", &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ocsp.ParseResponseForCert(cs.OCSPResponse, cs.PeerCertificates[0], ca.cert)
	if err != nil || resp.Status != ocsp.Good {
		t.Fatalf("staple: %v, status %v", err, resp)
	}
	if cs, _ := handshake(addr, "plain.test", &tls.Config{RootCAs: pool}); len(cs.OCSPResponse) != 0 {
		t.Error("a certificate without a responder was stapled")
	}
	// Reload: the staple is kept (not fetched again: it is fresh).
	asked := ca.asked.Load()
	if err := m.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	if cs, _ := handshake(addr, "stapled.test", &tls.Config{RootCAs: pool}); len(cs.OCSPResponse) == 0 {
		t.Error("staple lost at reload")
	}
	time.Sleep(100 * time.Millisecond)
	if ca.asked.Load() != asked {
		t.Errorf("responder asked again at reload for a fresh staple")
	}

	// A revoked certificate is not stapled (and is logged).
	ca.status.Store(int64(ocsp.Revoked))
	dir2 := t.TempDir()
	cfg2 := &config.Config{TLS: config.TLS{Certificates: []config.Certificate{ca.issue(t, dir2, "revoked.test", true)}}}
	m2, err := New(cfg2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m2.Close)
	addr2 := serveTLS(t, m2)
	deadline := time.Now().Add(5 * time.Second)
	for ca.asked.Load() == asked && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if cs, _ := handshake(addr2, "revoked.test", &tls.Config{RootCAs: pool}); len(cs.OCSPResponse) != 0 {
		t.Error("a revoked answer was stapled")
	}
}

func TestStapleStale(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		s     *staple
		stale bool
		valid bool
	}{
		{"none", nil, true, false},
		{"fresh", &staple{thisUpdate: now.Add(-time.Hour), nextUpdate: now.Add(23 * time.Hour)}, false, true},
		{"past half", &staple{thisUpdate: now.Add(-13 * time.Hour), nextUpdate: now.Add(11 * time.Hour)}, true, true},
		{"expired", &staple{thisUpdate: now.Add(-25 * time.Hour), nextUpdate: now.Add(-time.Hour)}, true, false},
		{"no next update, young", &staple{thisUpdate: now.Add(-time.Minute)}, false, true},
		{"no next update, old", &staple{thisUpdate: now.Add(-2 * time.Hour)}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.stale(now); got != tt.stale {
				t.Errorf("stale = %v, want %v", got, tt.stale)
			}
			if got := tt.s.valid(now); got != tt.valid {
				t.Errorf("valid = %v, want %v", got, tt.valid)
			}
		})
	}
}

// TestSessionTickets: TLS 1.2 clients resume with a ticket; TLS 1.3
// clients over TCP get none (Go announces 7 days for every TLS 1.3
// ticket, see TLSConfig); the QUIC configuration issues them; a ticket
// stops resuming once its key has rotated out.
func TestSessionTickets(t *testing.T) {
	ca := newOCSPCA(t)
	dir := t.TempDir()
	cfg := &config.Config{TLS: config.TLS{Certificates: []config.Certificate{ca.issue(t, dir, "t.test", false)}}}
	m, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	resumed := func(addr string, version uint16, cache tls.ClientSessionCache) bool {
		t.Helper()
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "t.test", MinVersion: version, MaxVersion: version, ClientSessionCache: cache})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = c.Read(make([]byte, 1))
		return c.ConnectionState().DidResume
	}
	tcp := ticketServer(t, m.TLSConfig())
	quicCfg := m.QUICTLSConfig()
	quicCfg.NextProtos = nil
	quicLike := ticketServer(t, quicCfg)

	c12 := tls.NewLRUClientSessionCache(4)
	resumed(tcp, tls.VersionTLS12, c12)
	if !resumed(tcp, tls.VersionTLS12, c12) {
		t.Error("TLS 1.2 did not resume")
	}
	c13 := tls.NewLRUClientSessionCache(4)
	resumed(tcp, tls.VersionTLS13, c13)
	if resumed(tcp, tls.VersionTLS13, c13) {
		t.Error("TLS 1.3 over TCP resumed: a ticket was issued")
	}
	cq := tls.NewLRUClientSessionCache(4)
	resumed(quicLike, tls.VersionTLS13, cq)
	if !resumed(quicLike, tls.VersionTLS13, cq) {
		t.Error("the QUIC configuration issued no ticket")
	}
	// Rotation: after TicketKeysKept rotations the first key is gone.
	for range TicketKeysKept {
		m.tickets.rotate()
	}
	if resumed(tcp, tls.VersionTLS12, c12) {
		t.Error("TLS 1.2 resumed with a ticket whose key rotated out")
	}
	if !resumed(tcp, tls.VersionTLS12, c12) {
		t.Error("no resumption with a ticket of the current key")
	}
}

// TestQUICTLSConfig: the HTTP/3 configuration picks certificates by SNI
// through the same GetCertificate as TCP, and offers TLS 1.3 only.
func TestQUICTLSConfig(t *testing.T) {
	ca := newOCSPCA(t)
	dir := t.TempDir()
	cfg := &config.Config{TLS: config.TLS{Certificates: []config.Certificate{ca.issue(t, dir, "one.test", false), ca.issue(t, dir, "two.test", false)}}}
	m, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	q := m.QUICTLSConfig()
	if q.MinVersion != tls.VersionTLS13 || q.GetCertificate == nil || q.SessionTicketsDisabled || q.WrapSession == nil {
		t.Fatalf("QUIC TLS config: min %x, tickets disabled %v", q.MinVersion, q.SessionTicketsDisabled)
	}
	for _, name := range []string{"one.test", "two.test"} {
		c, err := q.GetCertificate(&tls.ClientHelloInfo{ServerName: name})
		if err != nil || c.Leaf.DNSNames[0] != name {
			t.Errorf("%s: got %v, %v", name, c, err)
		}
	}
}
