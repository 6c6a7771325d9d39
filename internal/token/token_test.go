package token

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScopeAllows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		have, need Scope
		want       bool
	}{
		{Read, Read, true},
		{Read, Compliance, false},
		{Read, Admin, false},
		{Compliance, Read, true},
		{Compliance, Compliance, true},
		{Compliance, Admin, false},
		{Admin, Read, true},
		{Admin, Compliance, true},
		{Admin, Admin, true},
		{Scope("root"), Read, false},
		{Admin, Scope(""), false},
	}
	for _, tt := range tests {
		t.Run(string(tt.have)+">="+string(tt.need), func(t *testing.T) {
			t.Parallel()
			if got := tt.have.Allows(tt.need); got != tt.want {
				t.Errorf("%q.Allows(%q) = %v, want %v", tt.have, tt.need, got, tt.want)
			}
		})
	}
}

func TestParseScope(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"read", "compliance", "admin"} {
		if got, err := ParseScope(s); err != nil || string(got) != s {
			t.Errorf("ParseScope(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "Admin", "write", "admin "} {
		if _, err := ParseScope(s); err == nil {
			t.Errorf("ParseScope(%q) succeeded, want error", s)
		}
	}
}

// stores returns a fresh instance of every Store implementation.
func stores(t *testing.T) map[string]Store {
	t.Helper()
	f, err := OpenFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return map[string]Store{"memory": NewMemory(), "file": f}
}

func TestStoreVerify(t *testing.T) {
	t.Parallel()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			plain, tok, err := s.Create(Compliance, "ops laptop")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(plain, Prefix+tok.ID+"_") {
				t.Fatalf("plaintext %q does not start with rp_<id>_", plain)
			}
			if tok.Scope != Compliance || tok.Note != "ops laptop" || tok.Created.IsZero() {
				t.Fatalf("token = %+v", tok)
			}
			other, _, err := s.Create(Read, "")
			if err != nil {
				t.Fatal(err)
			}
			id, secret, err := Parse(plain)
			if err != nil {
				t.Fatal(err)
			}
			// Flip one character of the secret, keeping it base64url.
			flipped := []byte(secret)
			if flipped[0] == 'A' {
				flipped[0] = 'B'
			} else {
				flipped[0] = 'A'
			}
			_, otherSecret, _ := Parse(other)

			cases := []struct {
				name  string
				plain string
				ok    bool
			}{
				{"valid", plain, true},
				{"wrong secret", Prefix + id + "_" + string(flipped), false},
				{"secret of another token", Prefix + id + "_" + otherSecret, false},
				{"unknown id", Prefix + "0123456789abcdef_" + secret, false},
				{"no prefix", strings.TrimPrefix(plain, Prefix), false},
				{"truncated", plain[:len(plain)-1], false},
				{"empty", "", false},
				{"uppercase id", Prefix + strings.ToUpper(id) + "_" + secret, false},
			}
			for _, c := range cases {
				got, ok := s.Verify(c.plain)
				if ok != c.ok {
					t.Errorf("%s: Verify ok = %v, want %v", c.name, ok, c.ok)
				}
				if ok && (got.ID != tok.ID || got.Scope != Compliance) {
					t.Errorf("%s: Verify = %+v, want id %s scope compliance", c.name, got, tok.ID)
				}
			}

			if err := s.Revoke(tok.ID); err != nil {
				t.Fatal(err)
			}
			if _, ok := s.Verify(plain); ok {
				t.Error("revoked token still verifies")
			}
			if err := s.Revoke(tok.ID); err != nil {
				t.Errorf("second Revoke = %v, want nil", err)
			}
			if err := s.Revoke("0123456789abcdef"); err == nil {
				t.Error("Revoke of unknown id succeeded")
			}
			if _, ok := s.Verify(other); !ok {
				t.Error("the other token stopped verifying")
			}
			list, err := s.List()
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 2 {
				t.Fatalf("List returned %d tokens, want 2", len(list))
			}
			for _, l := range list {
				if l.ID == tok.ID && l.Revoked.IsZero() {
					t.Error("List shows the revoked token as valid")
				}
			}
		})
	}
}

func TestCreateRejectsUnknownScope(t *testing.T) {
	t.Parallel()
	for name, s := range stores(t) {
		if _, _, err := s.Create(Scope("root"), ""); err == nil {
			t.Errorf("%s: Create with scope root succeeded", name)
		}
	}
}

func TestFileRoundTripAndPermissions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := OpenFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	adminPlain, adminTok, err := f.Create(Admin, "first")
	if err != nil {
		t.Fatal(err)
	}
	readPlain, _, err := f.Create(Read, "second")
	if err != nil {
		t.Fatal(err)
	}

	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("tokens.json mode = %o, want 600", perm)
	}
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{adminPlain, readPlain} {
		_, secret, _ := Parse(p)
		if strings.Contains(string(data), secret) {
			t.Fatal("tokens.json contains a plaintext secret")
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".tokens.json.tmp-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}

	// A second store on the same directory (another process) sees both.
	g, err := OpenFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := g.Verify(adminPlain)
	if !ok || got.ID != adminTok.ID || got.Scope != Admin || got.Note != "first" {
		t.Fatalf("reopened Verify(admin) = %+v, %v", got, ok)
	}
	if got, ok := g.Verify(readPlain); !ok || got.Scope != Read {
		t.Fatalf("reopened Verify(read) = %+v, %v", got, ok)
	}

	// A token created by g is seen by f at once (unknown id forces a look).
	lateToken, _, err := g.Create(Compliance, "from the CLI")
	if err != nil {
		t.Fatal(err)
	}
	f.lastCheck.Store(0)
	if got, ok := f.Verify(lateToken); !ok || got.Scope != Compliance {
		t.Fatalf("f did not see the token created by g: %+v, %v", got, ok)
	}
	// And f's next write keeps g's token.
	if err := f.Revoke(adminTok.ID); err != nil {
		t.Fatal(err)
	}
	h, err := OpenFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := h.List()
	if len(list) != 3 {
		t.Fatalf("after concurrent writers the file holds %d tokens, want 3", len(list))
	}
	if _, ok := h.Verify(adminPlain); ok {
		t.Error("revoked admin token verifies after reopening")
	}
}

func TestOpenFileBroken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, content, want string
	}{
		{"not json", "{", "tokens.json: decoding JSON"},
		{"bad version", `{"version": 2, "tokens": []}`, "unsupported version 2"},
		{"bad scope", `{"version": 1, "tokens": [{"id": "0123456789abcdef", "scope": "root", "created": "2026-01-01T00:00:00Z", "hash": "` + strings.Repeat("ab", 32) + `"}]}`, `token 1 (id 0123456789abcdef): unknown scope "root"`},
		{"bad hash", `{"version": 1, "tokens": [{"id": "0123456789abcdef", "scope": "read", "created": "2026-01-01T00:00:00Z", "hash": "xyz"}]}`, "hash is not 64 hex digits"},
		{"bad id", `{"version": 1, "tokens": [{"id": "x", "scope": "read", "created": "2026-01-01T00:00:00Z", "hash": "` + strings.Repeat("ab", 32) + `"}]}`, `token 1: id "x"`},
		{"unknown field", `{"version": 1, "tokens": [], "extra": 1}`, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, FileName), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := OpenFile(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("OpenFile error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestFileBrokenLaterKeepsTokens(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := OpenFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	plain, _, err := f.Create(Read, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("garbage that is longer than before ......................................................................................................................................................................................................................................................................................................................................"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.lastCheck.Store(0)
	if _, ok := f.Verify(plain); !ok {
		t.Error("a broken file on disk dropped the tokens already loaded")
	}
	if _, err := f.List(); err == nil || !strings.Contains(err.Error(), FileName) {
		t.Errorf("List error = %v, want one naming %s", err, FileName)
	}
	if _, _, err := f.Create(Read, ""); err == nil {
		t.Error("Create over a broken file succeeded; it would have discarded its content")
	}
}

func FuzzParse(f *testing.F) {
	f.Add("rp_0123456789abcdef_" + strings.Repeat("A", 43))
	f.Add("rp__")
	f.Add("rp_0123456789abcdef_" + strings.Repeat("_", 43))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, secret, err := Parse(s)
		if err != nil {
			return
		}
		if Prefix+id+"_"+secret != s {
			t.Fatalf("Parse(%q) = %q, %q does not rebuild the input", s, id, secret)
		}
		if !validID(id) || len(secret) != 43 {
			t.Fatalf("Parse(%q) accepted id %q secret %q", s, id, secret)
		}
	})
}

func FuzzDecodeFile(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.json")
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"version":1,"tokens":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := decodeFile(data)
		if err != nil {
			return
		}
		for id, r := range recs {
			if id != r.ID || !validID(id) || !r.Scope.Valid() || len(r.Hash) != 64 {
				t.Fatalf("decodeFile accepted a bad record %+v", r)
			}
		}
	})
}

func BenchmarkFileVerify(b *testing.B) {
	f, err := OpenFile(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	plain, _, err := f.Create(Read, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := f.Verify(plain); !ok {
				b.Fatal("verify failed")
			}
		}
	})
}
