package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"

	"github.com/rampart-edge/rampart/internal/config"
)

// acmeSettings are the parts of the configuration that shape the ACME
// client. A change to any of them builds a new client on Reload.
type acmeSettings struct {
	email, directory, caRoot string
	listenHTTP               string
}

// acmeState is one certmagic client and the hosts it manages.
type acmeState struct {
	settings acmeSettings
	magic    *certmagic.Config
	issuer   *certmagic.ACMEIssuer
	cache    *certmagic.Cache
	hosts    map[string]bool
	ctx      context.Context
	cancel   context.CancelFunc
}

// acmeEnabled reports whether the configuration asks for ACME.
func acmeEnabled(cfg *config.Config) bool {
	a := cfg.TLS.ACME
	return a.Email != "" || a.Directory != "" || len(a.Hosts) > 0
}

// acmeHosts returns the hosts to obtain certificates for: tls.acme.hosts
// (less those a certificate file names exactly), or when that is empty
// every zone host and alias that is not a wildcard and is not already
// covered by a certificate file.
func acmeHosts(cfg *config.Config, files *fileSet) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(h string) {
		h = normalizeHost(h)
		if h != "" && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	if len(cfg.TLS.ACME.Hosts) > 0 {
		for i, h := range cfg.TLS.ACME.Hosts {
			if strings.Contains(h, "*") {
				return nil, fmt.Errorf("tls.acme.hosts[%d]: wildcard %q needs the DNS-01 challenge, which rampart does not support; use a certificate file", i, h)
			}
			if net.ParseIP(h) != nil {
				return nil, fmt.Errorf("tls.acme.hosts[%d]: %q is an IP address; ACME certificates are for host names", i, h)
			}
			// A certificate file naming the host exactly always wins, so
			// asking the CA for it would only spend its rate limit.
			if files.lookupExact(normalizeHost(h)) != nil {
				continue
			}
			add(h)
		}
		return out, nil
	}
	for _, z := range cfg.Zones {
		for _, h := range append([]string{z.Host}, z.Aliases...) {
			n := normalizeHost(h)
			if strings.Contains(n, "*") || net.ParseIP(n) != nil || files.covers(n) {
				continue
			}
			add(n)
		}
	}
	return out, nil
}

// newACME builds a certmagic client for cfg and starts managing hosts in
// the background. Certificates live in storage.
func newACME(cfg *config.Config, storage certmagic.Storage, hosts []string, log *slog.Logger) (*acmeState, error) {
	a := cfg.TLS.ACME
	settings := acmeSettings{email: a.Email, directory: a.Directory, caRoot: a.CARoot, listenHTTP: cfg.Listen.HTTP}
	var roots *x509.CertPool
	if a.CARoot != "" {
		pem, err := os.ReadFile(a.CARoot)
		if err != nil {
			return nil, fmt.Errorf("reading tls.acme.ca_root: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("reading tls.acme.ca_root %s: no PEM certificate found", a.CARoot)
		}
	}
	directory := a.Directory
	if directory == "" {
		directory = certmagic.LetsEncryptProductionCA
	}
	zl := newZapLogger(log)

	st := &acmeState{settings: settings, hosts: map[string]bool{}}
	for _, h := range hosts {
		st.hosts[h] = true
	}
	st.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) { return st.magic, nil },
		Logger:           zl,
	})
	st.magic = certmagic.New(st.cache, certmagic.Config{
		Storage: storage,
		Logger:  zl,
	})
	// http-01 only: the edge answers challenges through
	// HTTPChallengeHandler on its plain-HTTP listener. tls-alpn-01 is off
	// because its challenge handshakes would bypass rampart's SNI routing.
	listenHost, port := splitListen(cfg.Listen.HTTP)
	st.issuer = certmagic.NewACMEIssuer(st.magic, certmagic.ACMEIssuer{
		CA:                      directory,
		Email:                   a.Email,
		Agreed:                  true,
		TrustedRoots:            roots,
		DisableTLSALPNChallenge: true,
		ListenHost:              listenHost,
		AltHTTPPort:             port,
		Logger:                  zl,
	})
	st.magic.Issuers = []certmagic.Issuer{st.issuer}
	st.ctx, st.cancel = context.WithCancel(context.Background())
	go st.start(hosts, cfg.Listen.HTTP, zl)
	return st, nil
}

// splitListen returns the host and port of the plain-HTTP listener, which
// certmagic probes: when the port is taken (by the edge) it relies on the
// edge calling HTTPChallengeHandler instead of binding its own server.
func splitListen(addr string) (string, int) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return "", 0
	}
	return host, port
}

// listenWait bounds how long start waits for the edge's HTTP listener.
const listenWait = 15 * time.Second

// start waits until the edge's plain-HTTP listener accepts connections (so
// that certmagic does not grab the port itself), then manages hosts. When
// no HTTP listener is configured certmagic answers challenges on port 80
// itself.
func (st *acmeState) start(hosts []string, listenHTTP string, zl *zap.Logger) {
	if listenHTTP != "" {
		host, port, err := net.SplitHostPort(listenHTTP)
		if err == nil {
			if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
				host = "127.0.0.1"
			}
			waitForListener(st.ctx, net.JoinHostPort(host, port), listenWait)
		}
	}
	st.manage(hosts, zl)
}

// manage hands hosts to certmagic, which loads their certificates from
// storage or obtains them, and renews them, in the background.
func (st *acmeState) manage(hosts []string, zl *zap.Logger) {
	if len(hosts) == 0 || st.ctx.Err() != nil {
		return
	}
	if err := st.magic.ManageAsync(st.ctx, hosts); err != nil {
		zl.Error("starting certificate management", zap.Strings("hosts", hosts), zap.Error(err))
	}
}

// waitForListener dials addr until it answers, ctx ends or max passes.
func waitForListener(ctx context.Context, addr string, max time.Duration) {
	deadline := time.Now().Add(max)
	d := net.Dialer{Timeout: 200 * time.Millisecond}
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if c, err := d.DialContext(ctx, "tcp", addr); err == nil {
			c.Close()
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// certificate returns the managed certificate for hello, or nil.
func (st *acmeState) certificate(hello *tls.ClientHelloInfo, host string) *tls.Certificate {
	if !st.hosts[host] {
		return nil
	}
	if len(st.cache.AllMatchingCertificates(host)) == 0 {
		return nil
	}
	cert, err := st.magic.GetCertificate(hello)
	if err != nil || cert == nil || len(cert.Certificate) == 0 {
		return nil
	}
	return cert
}

// anyCertificate returns some managed certificate, for clients without SNI
// when no certificate file is configured.
func (st *acmeState) anyCertificate(order []string) *tls.Certificate {
	for _, h := range order {
		if certs := st.cache.AllMatchingCertificates(h); len(certs) > 0 {
			c := certs[0].Certificate
			return &c
		}
	}
	return nil
}

// has reports whether a managed certificate for host is in memory.
func (st *acmeState) has(host string) bool {
	return st.hosts[host] && len(st.cache.AllMatchingCertificates(host)) > 0
}

// close stops management and the cache's maintenance goroutine.
func (st *acmeState) close() {
	st.cancel()
	st.cache.Stop()
}

// sameHosts reports whether a and b hold the same hosts.
func sameHosts(a map[string]bool, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	return !slices.ContainsFunc(b, func(h string) bool { return !a[h] })
}

// hostList returns the managed hosts in a stable order.
func (st *acmeState) hostList() []string {
	return slices.Sorted(maps.Keys(st.hosts))
}
