package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/rampart-edge/rampart/internal/testenv"
	"github.com/rampart-edge/rampart/internal/token"
)

// TestTicketKeysSharedAcrossNodes (issue 17): two nodes on one PostgreSQL
// store share their session ticket keys: a TLS 1.2 session ticket issued
// by node A resumes on node B (over TCP), and so does a QUIC (HTTP/3)
// one; the store holds one key; its secret appears neither in GET
// /v1/nodes nor in either node's log.
func TestTicketKeysSharedAcrossNodes(t *testing.T) {
	url := testenv.Postgres(t)
	o := newOrigin(t, "origin")
	dir := t.TempDir()
	certFile, keyFile, cert := selfSigned(t, dir, "tickets", "shop.example")
	top := fmt.Sprintf("listen: {https: \"127.0.0.1:8443\", http3: \"127.0.0.1:8443\"}\ntls:\n  certificates: [{cert: %s, key: %s}]\ncluster: {poll: 200ms}", certFile, keyFile)
	zones := fmt.Sprintf("  - host: shop.example\n    origins: [%s]\n", o.URL)
	a := startDeskWith(t, url, "", top, zones)
	b := startDeskWith(t, url, "", top, zones)
	pool := x509.NewCertPool()
	pool.AddCert(cert)

	// TLS 1.2 over TCP.
	cache := tls.NewLRUClientSessionCache(4)
	resumed := func(addr string) bool {
		t.Helper()
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "shop.example", MaxVersion: tls.VersionTLS12, ClientSessionCache: cache})
		if err != nil {
			t.Fatalf("handshake with %s: %v", addr, err)
		}
		defer c.Close()
		return c.ConnectionState().DidResume
	}
	if resumed(a.Addrs().HTTPS) {
		t.Fatal("first handshake resumed")
	}
	if !resumed(b.Addrs().HTTPS) {
		t.Error("a TLS 1.2 ticket issued by node A did not resume on node B")
	}

	// QUIC: the ticket comes after the handshake; a request makes sure
	// the client has it.
	qcache := tls.NewLRUClientSessionCache(4)
	h3 := func(addr string) bool {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := quic.DialAddr(ctx, addr, &tls.Config{RootCAs: pool, ServerName: "shop.example", NextProtos: []string{http3.NextProtoH3}, ClientSessionCache: qcache}, &quic.Config{})
		if err != nil {
			t.Fatalf("QUIC handshake with %s: %v", addr, err)
		}
		defer conn.CloseWithError(0, "")
		cc := (&http3.Transport{}).NewClientConn(conn)
		_, port, _ := net.SplitHostPort(addr)
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://shop.example:"+port+"/", nil)
		resp, err := cc.RoundTrip(req)
		if err != nil {
			t.Fatalf("HTTP/3 request to %s: %v", addr, err)
		}
		resp.Body.Close()
		return conn.ConnectionState().TLS.DidResume
	}
	if a.Addrs().HTTP3 == "" || b.Addrs().HTTP3 == "" {
		t.Fatal("no HTTP/3")
	}
	h3(a.Addrs().HTTP3)
	if !h3(b.Addrs().HTTP3) {
		t.Error("a QUIC ticket issued by node A did not resume on node B")
	}

	ctx := context.Background()
	keys, err := a.store.TicketKeys(ctx, time.Unix(0, 0))
	if err != nil || len(keys) != 1 {
		t.Fatalf("ticket keys in the store: %v, %v", keys, err)
	}
	secret := keys[0].Secret[:]
	forms := []string{hex.EncodeToString(secret), strings.ToUpper(hex.EncodeToString(secret)),
		base64.StdEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret), string(secret)}
	for _, d := range []*deskApp{a, b} {
		code, body, _ := d.api(t, "GET", "/v1/nodes", token.Admin, "")
		if code != 200 || !strings.Contains(body, `"nodes"`) {
			t.Fatalf("GET /v1/nodes: %d %s", code, body)
		}
		for _, f := range forms {
			if strings.Contains(body, f) {
				t.Errorf("GET /v1/nodes shows the ticket key secret: %s", body)
			}
			if strings.Contains(d.logs.String(), f) {
				t.Errorf("the log shows the ticket key secret")
			}
		}
	}
}
