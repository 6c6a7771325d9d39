// Package certs chooses the TLS certificate for every handshake by SNI,
// from certificate files named in the configuration and from certificates
// obtained and renewed automatically over ACME (certmagic, http-01).
//
// Selection for a client that sends SNI name, most specific first:
//  1. a certificate file with name itself among its SAN DNS names;
//  2. an ACME certificate for name (tls.acme.hosts, or every zone host and
//     alias without a file certificate when tls.acme.hosts is empty);
//  3. a certificate file with a SAN "*.parent" where name is one label
//     below parent;
//  4. the default certificate.
//
// The default certificate is the first configured file, or (without
// files) the certificate of the alphabetically first ACME host that has
// one. It is served
// to clients without SNI and to unknown names, so those clients see a name
// mismatch rather than a handshake failure and the edge can answer 421.
//
// ACME data (account, keys, certificates, challenge tokens) is kept in
// DataDir/certs, or, when the configuration's store is PostgreSQL, in that
// database: then every node on it shares one ACME account and one
// certificate per host, one node obtains it (certmagic's lock) and the
// others load it, and a challenge request reaching any node is answered.
//
// ACME uses the http-01 challenge only: the edge must put
// HTTPChallengeHandler in front of its plain-HTTP handler (before Host
// routing), and the CA must reach that listener on port 80. Configuring
// tls.acme means agreeing to the CA's subscriber agreement (Let's Encrypt
// unless tls.acme.directory names another CA). An expired certificate
// file is still served, with a warning in the log.
package certs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/certmagic"

	"github.com/rampart-edge/rampart/internal/certs/pgstorage"
	"github.com/rampart-edge/rampart/internal/config"
)

// Options are the dependencies of a Manager.
type Options struct {
	// Logger receives certificate events, certmagic's included. Nil
	// discards them.
	Logger *slog.Logger
	// DataDir is rampart's data directory; without a PostgreSQL store
	// (config key store), ACME accounts and certificates are stored in
	// DataDir/certs, which is then required when ACME is configured. With
	// a PostgreSQL store they are stored in its database (package
	// pgstorage), shared by every node on it.
	DataDir string
}

// Manager serves certificates by SNI. Its methods are safe for concurrent
// use; Reload swaps the whole set at once, so a handshake sees either the
// old or the new set.
type Manager struct {
	opts Options
	log  *slog.Logger

	mu     sync.Mutex // serialises Reload and Close
	closed bool
	state  atomic.Pointer[state]
	// shared is the ACME storage on the PostgreSQL store, opened on first
	// use and kept until Close (a change of store needs a restart).
	shared *pgstorage.Storage

	tickets *ticketKeys  // rotating session ticket keys; tickets.go
	ocsp    *ocspStapler // staples of the file certificates; ocsp.go
}

// state is one immutable generation of certificates.
type state struct {
	files *fileSet
	acme  *acmeState // nil when ACME is off
}

// New loads the certificate files of cfg and, when ACME is configured,
// starts obtaining certificates in the background: it waits (up to 15s)
// for the edge's HTTP listener (cfg.Listen.HTTP) to accept connections,
// then asks the CA; issued certificates take effect for new handshakes as
// they arrive. On-demand issuance is off, so unknown names never trigger a
// request to the CA. New fails, naming the file, when a certificate file
// or the ACME CA root cannot be read.
func New(cfg *config.Config, opts Options) (*Manager, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Manager{opts: opts, log: log, ocsp: newOCSPStapler()}
	st, err := m.build(cfg, nil)
	if err != nil {
		return nil, err
	}
	m.state.Store(st)
	m.tickets = newTicketKeys(log)
	go m.runOCSP()
	return m, nil
}

// build makes a new state for cfg, reusing prev's ACME client when its
// settings and hosts are unchanged.
func (m *Manager) build(cfg *config.Config, prev *state) (*state, error) {
	files, err := loadFiles(cfg.TLS.Certificates, time.Now())
	if err != nil {
		return nil, err
	}
	files = m.stapleFiles(files, time.Now()) // ocsp.go: the staples already fetched
	for _, f := range files.expired {
		m.log.Warn("certificate file has expired", "component", "certs", "file", f)
	}
	st := &state{files: files}
	if !acmeEnabled(cfg) {
		return st, nil
	}
	hosts, err := acmeHosts(cfg, files)
	if err != nil {
		return nil, err
	}
	a := cfg.TLS.ACME
	settings := acmeSettings{email: a.Email, directory: a.Directory, caRoot: a.CARoot, listenHTTP: cfg.Listen.HTTP}
	if prev != nil && prev.acme != nil && prev.acme.settings == settings && sameHosts(prev.acme.hosts, hosts) {
		st.acme = prev.acme
		return st, nil
	}
	storage, err := m.storage(cfg)
	if err != nil {
		return nil, err
	}
	st.acme, err = newACME(cfg, storage, hosts, m.log)
	if err != nil {
		return nil, err
	}
	m.log.Info("managing ACME certificates", "component", "certs", "hosts", hosts)
	return st, nil
}

// storageOpenTimeout bounds connecting to the PostgreSQL store and making
// the ACME tables.
const storageOpenTimeout = 15 * time.Second

// storage returns where ACME data is kept: the PostgreSQL store's database
// when cfg.Store names one (opened once, shared by every node on it), else
// DataDir/certs.
func (m *Manager) storage(cfg *config.Config) (certmagic.Storage, error) {
	if !isPostgres(cfg.Store) {
		if m.opts.DataDir == "" {
			return nil, errors.New("setting up ACME: a data directory is needed to store certificates")
		}
		return &certmagic.FileStorage{Path: filepath.Join(m.opts.DataDir, "certs")}, nil
	}
	if m.shared == nil {
		ctx, cancel := context.WithTimeout(context.Background(), storageOpenTimeout)
		defer cancel()
		s, err := pgstorage.Open(ctx, cfg.Store, pgstorage.Options{Logger: m.log})
		if err != nil {
			return nil, fmt.Errorf("setting up ACME: %w", err)
		}
		m.shared = s
		m.log.Info("ACME accounts and certificates are stored in the PostgreSQL store, shared by its nodes", "component", "certs")
	}
	return m.shared, nil
}

// isPostgres reports whether the store URL names PostgreSQL, as
// store/backend reads it.
func isPostgres(store string) bool {
	return strings.HasPrefix(store, "postgres:") || strings.HasPrefix(store, "postgresql:")
}

// TLSConfig returns a server TLS configuration that picks certificates by
// SNI as the package comment describes. It allows TLS 1.2 and 1.3 only;
// TLS 1.2 is limited to ECDHE key exchange with AEAD ciphers (AES-GCM,
// ChaCha20-Poly1305), so every connection has forward secrecy. It offers
// h2 and http/1.1 by ALPN. Each call returns a new *tls.Config that
// follows Reload.
//
// Session tickets are encrypted with keys rotated every
// TicketKeyRotation (tickets.go). They are issued to TLS 1.2 clients
// only: Go's crypto/tls announces every TLS 1.3 ticket as valid for 7
// days (a fixed lifetime hint), which scanners report as ticket keys not
// rotated daily, so TLS 1.3 over TCP resumes nothing. HTTP/3, where
// resumption also carries 0-RTT, issues them (QUICTLSConfig).
func (m *Manager) TLSConfig() *tls.Config {
	cfg := m.baseTLSConfig()
	noTickets := cfg.Clone()
	noTickets.SessionTicketsDisabled = true
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		if slices.Contains(hello.SupportedVersions, tls.VersionTLS13) {
			return noTickets, nil
		}
		return nil, nil
	}
	return cfg
}

// QUICTLSConfig is TLSConfig for HTTP/3: TLS 1.3 (QUIC's only version),
// the same certificates, and session tickets with the rotating keys, which
// resumption and 0-RTT need.
func (m *Manager) QUICTLSConfig() *tls.Config {
	cfg := m.baseTLSConfig()
	cfg.MinVersion = tls.VersionTLS13
	return cfg
}

func (m *Manager) baseTLSConfig() *tls.Config {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		NextProtos:     []string{"h2", "http/1.1"},
		GetCertificate: m.GetCertificate,
	}
	m.tickets.apply(cfg)
	return cfg
}

// errNoCertificate is returned when not even a default certificate exists.
var errNoCertificate = errors.New("no certificate available")

// GetCertificate picks the certificate for a handshake; it is the
// tls.Config.GetCertificate of TLSConfig.
func (m *Manager) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	st := m.state.Load()
	name := normalizeHost(hello.ServerName)
	if name != "" {
		if c := st.files.lookupExact(name); c != nil {
			return c, nil
		}
		if st.acme != nil {
			if c := st.acme.certificate(hello, name); c != nil {
				return c, nil
			}
		}
		if c := st.files.lookupWildcard(name); c != nil {
			return c, nil
		}
	}
	if st.files.def != nil {
		return st.files.def, nil
	}
	if st.acme != nil {
		if c := st.acme.anyCertificate(st.acme.hostList()); c != nil {
			return c, nil
		}
	}
	if name == "" {
		return nil, fmt.Errorf("%w for a client without SNI", errNoCertificate)
	}
	return nil, fmt.Errorf("%w for %q", errNoCertificate, name)
}

// HasCertificate reports whether host is served a certificate that names
// it: a certificate file (exact or wildcard) or an ACME certificate
// already obtained. The edge uses it to decide whether to redirect plain
// HTTP to HTTPS.
func (m *Manager) HasCertificate(host string) bool {
	st := m.state.Load()
	host = normalizeHost(host)
	if st.files.covers(host) {
		return true
	}
	return st.acme != nil && st.acme.has(host)
}

// HTTPChallengeHandler answers ACME http-01 challenges
// (/.well-known/acme-challenge/...) for hosts being issued a certificate
// and passes every other request to next. The edge must put it in front of
// its plain-HTTP handler. Without ACME it returns next unchanged.
func (m *Manager) HTTPChallengeHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st := m.state.Load(); st.acme != nil && st.acme.issuer.HandleHTTPChallenge(w, r) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Reload applies a new configuration: certificate files are read again and
// take effect for new handshakes; ACME hosts or settings that changed
// start a new ACME client (certificates already in DataDir/certs are
// reused, not issued again). When a file is broken, Reload keeps the old
// set and returns an error naming the file.
func (m *Manager) Reload(cfg *config.Config) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("reloading certificates: manager is closed")
	}
	prev := m.state.Load()
	st, err := m.build(cfg, prev)
	if err != nil {
		return fmt.Errorf("reloading certificates: %w", err)
	}
	m.state.Store(st)
	if prev.acme != nil && prev.acme != st.acme {
		prev.acme.close()
	}
	m.ocsp.wake() // ocsp.go: staple new files
	m.log.Info("certificates reloaded", "component", "certs",
		"files", len(cfg.TLS.Certificates), "acme", st.acme != nil)
	return nil
}

// Close stops ACME management and renewals. Handshakes after Close still
// get the last certificates loaded.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.tickets.close()
	m.ocsp.close()
	st := m.state.Load()
	if st.acme != nil {
		st.acme.close()
		m.state.Store(&state{files: st.files})
	}
	if m.shared != nil {
		m.shared.Close()
		m.shared = nil
	}
}
