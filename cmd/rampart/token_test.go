package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/backend"
	"github.com/rampart-edge/rampart/internal/token"
)

// TestTokenCreateWritesTheStore checks that `rampart token create` puts the
// token in the control-plane store the server verifies against.
func TestTokenCreateWritesTheStore(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if err := runTokenCreate(&out, &errOut, dir, "", "compliance", "alice"); err != nil {
		t.Fatal(err)
	}
	plain := strings.TrimSpace(out.String())
	if !strings.HasPrefix(plain, token.Prefix) || !strings.Contains(errOut.String(), "rampart.db") {
		t.Fatalf("stdout %q, stderr %q", plain, errOut.String())
	}
	s, err := backend.Open(context.Background(), dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tok, ok := (&store.TokenStore{S: s}).Verify(plain)
	if !ok || tok.Scope != token.Compliance || tok.Note != "alice" {
		t.Fatalf("Verify = %+v, %v", tok, ok)
	}
	if err := runTokenCreate(&out, &errOut, dir, "", "root", ""); err == nil {
		t.Error("unknown scope accepted")
	}
}
