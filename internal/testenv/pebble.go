// Package testenv holds helpers for rampart's tests: ephemeral PostgreSQL
// and Redis servers started on first use (Postgres, Redis, Main), an
// in-process ACME certificate authority (Let's Encrypt's Pebble) with its
// own DNS server, and small certificate builders. It is imported by tests
// only.
package testenv

import (
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"
)

// Pebble is a running in-process ACME server. It resolves every name to
// 127.0.0.1 and validates http-01 challenges by fetching
// http://NAME:HTTPPort/.well-known/acme-challenge/TOKEN, so the test must
// serve the challenge handler on 127.0.0.1:HTTPPort.
type Pebble struct {
	// Directory is the ACME directory URL (https://127.0.0.1:PORT/dir).
	Directory string
	// CARootFile is a PEM file with the certificate of the directory's
	// HTTPS server; pass it as tls.acme.ca_root.
	CARootFile string
	// HTTPPort is the port the validation authority fetches http-01
	// challenges from.
	HTTPPort int

	ca *ca.CAImpl
}

// PebbleOptions configure StartPebble.
type PebbleOptions struct {
	// HTTPPort is where http-01 challenges are fetched; 0 means 5002,
	// Pebble's usual port. Tests that listen on a free port first (a
	// 127.0.0.1:0 listener) and pass its port here can run in parallel.
	HTTPPort int
	// Log receives Pebble's log; nil discards it.
	Log io.Writer
}

// StartPebble starts a Pebble CA, a validation authority, a DNS server and
// the ACME web front end on 127.0.0.1, all stopped when t ends. It sets
// PEBBLE_VA_NOSLEEP=1 (so it cannot be used from a parallel test) and
// uses retry-after 0, which brings issuance down to about a second.
func StartPebble(t testing.TB, opts PebbleOptions) *Pebble {
	t.Helper()
	if opts.HTTPPort == 0 {
		opts.HTTPPort = 5002
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	logger := log.New(opts.Log, "pebble ", log.LstdFlags)

	dnsAddr := startDNS(t)

	store := db.NewMemoryStore()
	profiles := map[string]ca.Profile{"default": {Description: "rampart tests"}}
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, profiles)
	// The TLS-ALPN port is unused: rampart does http-01 only.
	validator := va.New(logger, opts.HTTPPort, 5001, false, dnsAddr, store)
	front := wfe.New(logger, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, false, 0, 0)

	srv := httptest.NewUnstartedServer(front.Handler())
	srv.StartTLS()
	t.Cleanup(srv.Close)

	rootFile := filepath.Join(t.TempDir(), "pebble-directory-ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(rootFile, pemBytes, 0o600); err != nil {
		t.Fatalf("writing pebble CA root: %v", err)
	}
	return &Pebble{
		Directory:  srv.URL + wfe.DirectoryPath,
		CARootFile: rootFile,
		HTTPPort:   opts.HTTPPort,
		ca:         authority,
	}
}

// IssuerRoots returns a pool holding the root that Pebble issues
// certificates under, to verify certificates it issued.
func (p *Pebble) IssuerRoots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.ca.GetRootCert(0).Cert)
	return pool
}

// startDNS runs a DNS server over TCP on 127.0.0.1 that answers 127.0.0.1
// to every A query and nothing to other queries, and returns its address.
func startDNS(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("starting test DNS: %v", err)
	}
	mux := dns.NewServeMux()
	mux.HandleFunc(".", func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		for _, q := range r.Question {
			if q.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1},
					A:   net.IPv4(127, 0, 0, 1),
				})
			}
		}
		_ = w.WriteMsg(m)
	})
	srv := &dns.Server{Listener: ln, Handler: mux}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String()
}
