package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"
)

func TestCAIssue(t *testing.T) {
	t.Parallel()
	ca := NewCA(t)
	certFile, keyFile := ca.Issue(t, t.TempDir(), "*.example.test", "example.test", "127.0.0.1")
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf := pair.Leaf
	for _, name := range []string{"www.example.test", "example.test", "127.0.0.1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool()}); err != nil {
			t.Errorf("certificate does not verify for %s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "other.test", Roots: ca.Pool()}); err == nil {
		t.Error("certificate verifies for a name it does not hold")
	}
}

func TestStartPebble(t *testing.T) {
	p := StartPebble(t, PebbleOptions{HTTPPort: 1})
	pem, err := os.ReadFile(p.CARootFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("CARootFile holds no certificate")
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(p.Directory)
	if err != nil {
		t.Fatalf("fetching the directory with CARootFile trusted: %v", err)
	}
	defer resp.Body.Close()
	var dir map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&dir); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"newAccount", "newNonce", "newOrder"} {
		if _, ok := dir[k]; !ok {
			t.Errorf("directory has no %s: %v", k, dir)
		}
	}
	if p.IssuerRoots() == nil || p.HTTPPort != 1 {
		t.Error("IssuerRoots or HTTPPort not set")
	}
}
