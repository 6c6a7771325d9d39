package certs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OCSP stapling for certificate files. A certificate file whose leaf names
// an OCSP responder (the Authority Information Access extension) and
// whose chain carries its issuer is stapled: its OCSP response is fetched
// in the background at start and reload, then again once half of the
// response's validity has passed (checked every ocspCheckEvery), and sent
// in the handshake, so clients need not ask the CA (a privacy leak and a
// delay) and scanners see "OCSP stapling: offered". Only a "good" answer
// is stapled; a failed refresh keeps the last answer until its NextUpdate
// and logs a warning. Certificates without a responder are served as
// they are. ACME certificates are stapled by certmagic.

// ocspCheckEvery is how often staples are checked for refresh.
const ocspCheckEvery = time.Hour

// ocspMaxResponse bounds the size of a responder's answer.
const ocspMaxResponse = 64 << 10

// staple is one OCSP answer for a leaf.
type staple struct {
	der        []byte
	thisUpdate time.Time
	nextUpdate time.Time
}

// stale reports whether s should be fetched again at now: past half its
// validity, or with no NextUpdate after an hour.
func (s *staple) stale(now time.Time) bool {
	if s == nil {
		return true
	}
	if s.nextUpdate.IsZero() {
		return now.Sub(s.thisUpdate) > time.Hour
	}
	return now.After(s.thisUpdate.Add(s.nextUpdate.Sub(s.thisUpdate) / 2))
}

func (s *staple) valid(now time.Time) bool {
	return s != nil && (s.nextUpdate.IsZero() || now.Before(s.nextUpdate))
}

// ocspStapler fetches and keeps the staples of the manager's file
// certificates, by SHA-256 of the leaf.
type ocspStapler struct {
	client *http.Client
	kick   chan struct{}
	stop   chan struct{}
	once   sync.Once

	mu      sync.Mutex
	staples map[[32]byte]*staple
}

func newOCSPStapler() *ocspStapler {
	return &ocspStapler{
		client:  &http.Client{Timeout: 10 * time.Second},
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		staples: map[[32]byte]*staple{},
	}
}

// wake asks the loop for a refresh now (after a start or reload).
func (o *ocspStapler) wake() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

func (o *ocspStapler) close() { o.once.Do(func() { close(o.stop) }) }

// runOCSP is the manager's stapling loop.
func (m *Manager) runOCSP() {
	o := m.ocsp
	tick := time.NewTicker(ocspCheckEvery)
	defer tick.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-o.stop
		cancel()
	}()
	for {
		m.refreshOCSP(ctx, time.Now())
		select {
		case <-tick.C:
		case <-o.kick:
		case <-o.stop:
			return
		}
	}
}

// refreshOCSP fetches the staples that are missing or stale, then
// installs the valid ones in a new state.
func (m *Manager) refreshOCSP(ctx context.Context, now time.Time) {
	o := m.ocsp
	st := m.state.Load()
	fetched := false
	for _, c := range st.files.all {
		if len(c.Leaf.OCSPServer) == 0 || len(c.Certificate) < 2 {
			continue
		}
		key := sha256.Sum256(c.Certificate[0])
		o.mu.Lock()
		cur := o.staples[key]
		o.mu.Unlock()
		if !cur.stale(now) {
			continue
		}
		s, err := o.fetch(ctx, c)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			m.log.Warn("OCSP stapling: fetching the certificate status failed", "component", "certs",
				"subject", c.Leaf.Subject.String(), "responder", c.Leaf.OCSPServer[0], "error", err,
				"keeping_previous", cur.valid(now))
			continue
		}
		o.mu.Lock()
		o.staples[key] = s
		o.mu.Unlock()
		fetched = true
	}
	if fetched || m.needsStaples(st, now) {
		m.installStaples(now)
	}
}

// needsStaples reports whether st lacks a staple the stapler holds (a
// state built by Reload starts without them).
func (m *Manager) needsStaples(st *state, now time.Time) bool {
	o := m.ocsp
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, c := range st.files.all {
		s := o.staples[sha256.Sum256(c.Certificate[0])]
		if s.valid(now) != (c.OCSPStaple != nil) {
			return true
		}
	}
	return false
}

// installStaples replaces the current state by one whose file
// certificates carry their valid staples.
func (m *Manager) installStaples(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	st := m.state.Load()
	if files := m.stapleFiles(st.files, now); files != st.files {
		m.state.Store(&state{files: files, acme: st.acme})
	}
}

// stapleFiles returns fs with the valid staples on its certificates, or
// fs itself when nothing changes. The certificates are copied, never
// changed in place: handshakes read them concurrently.
func (m *Manager) stapleFiles(fs *fileSet, now time.Time) *fileSet {
	o := m.ocsp
	if o == nil {
		return fs
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	repl := map[*tls.Certificate]*tls.Certificate{}
	for _, c := range fs.all {
		var der []byte
		if s := o.staples[sha256.Sum256(c.Certificate[0])]; s.valid(now) {
			der = s.der
		}
		if !bytes.Equal(der, c.OCSPStaple) {
			cc := *c
			cc.OCSPStaple = der
			repl[c] = &cc
		}
	}
	if len(repl) == 0 {
		return fs
	}
	return fs.replace(repl)
}

// fetch asks the leaf's responder for its status.
func (o *ocspStapler) fetch(ctx context.Context, c *tls.Certificate) (*staple, error) {
	issuer, err := x509.ParseCertificate(c.Certificate[1])
	if err != nil {
		return nil, fmt.Errorf("parsing the issuer: %w", err)
	}
	reqDER, err := ocsp.CreateRequest(c.Leaf, issuer, &ocsp.RequestOptions{})
	if err != nil {
		return nil, fmt.Errorf("building the OCSP request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Leaf.OCSPServer[0], bytes.NewReader(reqDER))
	if err != nil {
		return nil, fmt.Errorf("building the OCSP request: %w", err)
	}
	req.Header.Set("Content-Type", "application/ocsp-request")
	req.Header.Set("Accept", "application/ocsp-response")
	resp, err := o.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("asking the responder: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("responder answered %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, ocspMaxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if len(body) > ocspMaxResponse {
		return nil, fmt.Errorf("answer larger than %d bytes", ocspMaxResponse)
	}
	r, err := ocsp.ParseResponseForCert(body, c.Leaf, issuer)
	if err != nil {
		return nil, fmt.Errorf("parsing the answer: %w", err)
	}
	switch r.Status {
	case ocsp.Good:
	case ocsp.Revoked:
		return nil, fmt.Errorf("the certificate is revoked (since %s)", r.RevokedAt.Format(time.RFC3339))
	default:
		return nil, errors.New("the responder does not know the certificate")
	}
	if !r.NextUpdate.IsZero() && time.Now().After(r.NextUpdate) {
		return nil, fmt.Errorf("the answer expired at %s", r.NextUpdate.Format(time.RFC3339))
	}
	return &staple{der: body, thisUpdate: r.ThisUpdate, nextUpdate: r.NextUpdate}, nil
}
