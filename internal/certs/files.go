package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
)

// fileSet is an immutable index of the configured certificate files by
// the DNS names in their SANs.
type fileSet struct {
	// exact maps a lower-case host to its certificate.
	exact map[string]*tls.Certificate
	// wildcard maps the parent of a "*.parent" SAN to its certificate.
	wildcard map[string]*tls.Certificate
	// def is the first configured certificate, served to clients that
	// send no SNI (nil when no file is configured).
	def *tls.Certificate
	// expired lists files whose leaf is past NotAfter, for a warning.
	expired []string
	// all lists every certificate once, in file order.
	all []*tls.Certificate
}

// replace returns a copy of fs in which every certificate that is a key of
// repl is replaced by its value (a copy with an OCSP staple; ocsp.go).
func (fs *fileSet) replace(repl map[*tls.Certificate]*tls.Certificate) *fileSet {
	sub := func(c *tls.Certificate) *tls.Certificate {
		if r, ok := repl[c]; ok {
			return r
		}
		return c
	}
	n := &fileSet{
		exact:    make(map[string]*tls.Certificate, len(fs.exact)),
		wildcard: make(map[string]*tls.Certificate, len(fs.wildcard)),
		def:      sub(fs.def),
		expired:  fs.expired,
		all:      make([]*tls.Certificate, len(fs.all)),
	}
	for k, c := range fs.exact {
		n.exact[k] = sub(c)
	}
	for k, c := range fs.wildcard {
		n.wildcard[k] = sub(c)
	}
	for i, c := range fs.all {
		n.all[i] = sub(c)
	}
	return n
}

// loadFiles reads every configured certificate and key. The first error
// names the file at fault and the whole set is refused, so a broken file
// never replaces a working set. When two files cover the same name, the
// one listed first wins.
func loadFiles(list []config.Certificate, now time.Time) (*fileSet, error) {
	fs := &fileSet{exact: map[string]*tls.Certificate{}, wildcard: map[string]*tls.Certificate{}}
	for i, c := range list {
		cert, err := loadPair(c)
		if err != nil {
			return nil, fmt.Errorf("loading tls.certificates[%d]: %w", i, err)
		}
		leaf := cert.Leaf
		if now.After(leaf.NotAfter) {
			fs.expired = append(fs.expired, c.Cert)
		}
		if fs.def == nil {
			fs.def = cert
		}
		fs.all = append(fs.all, cert)
		for _, name := range leaf.DNSNames {
			name = normalizeHost(name)
			if parent, ok := strings.CutPrefix(name, "*."); ok {
				if _, dup := fs.wildcard[parent]; !dup && parent != "" {
					fs.wildcard[parent] = cert
				}
				continue
			}
			if _, dup := fs.exact[name]; !dup && name != "" {
				fs.exact[name] = cert
			}
		}
	}
	return fs, nil
}

// loadPair loads one certificate chain and its key and parses the leaf.
func loadPair(c config.Certificate) (*tls.Certificate, error) {
	if c.Cert == "" || c.Key == "" {
		return nil, errors.New("both cert and key must be set")
	}
	cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
	if err != nil {
		return nil, fmt.Errorf("loading certificate %s with key %s: %w", c.Cert, c.Key, err)
	}
	if cert.Leaf == nil {
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			return nil, fmt.Errorf("parsing certificate %s: %w", c.Cert, err)
		}
		cert.Leaf = leaf
	}
	return &cert, nil
}

// lookupExact returns the file certificate whose SAN is exactly host.
func (fs *fileSet) lookupExact(host string) *tls.Certificate {
	return fs.exact[host]
}

// lookupWildcard returns the file certificate with a "*.parent" SAN that
// covers host. As RFC 6125 section 6.4.3 says, the wildcard stands for
// exactly one label: *.example.org covers www.example.org, not
// example.org and not a.b.example.org.
func (fs *fileSet) lookupWildcard(host string) *tls.Certificate {
	_, parent, ok := strings.Cut(host, ".")
	if !ok || parent == "" {
		return nil
	}
	return fs.wildcard[parent]
}

// covers reports whether a file certificate serves host.
func (fs *fileSet) covers(host string) bool {
	return fs.lookupExact(host) != nil || fs.lookupWildcard(host) != nil
}

// normalizeHost lower-cases host and drops a trailing dot.
func normalizeHost(host string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
}
