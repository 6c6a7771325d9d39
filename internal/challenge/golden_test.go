package challenge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestGoldenCookie pins the cookie format against testdata/challenge.json
// and an independent HMAC computed with crypto/hmac.
func TestGoldenCookie(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "challenge.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "keys"), 0o700)
	if err := os.WriteFile(filepath.Join(dir, "keys", "challenge.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ch, err := New(Options{DataDir: dir, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "keys", "challenge.json")); string(got) != string(data) {
		t.Fatal("loading a current key file rewrote it")
	}
	client := netip.MustParseAddr("203.0.113.77")
	ua := "GoldenAgent/1.0"
	exp := now.Add(time.Hour)
	scope := ZoneScope("WWW.Example.org")
	scopeSum := sha256.Sum256([]byte("rampart challenge scope\x00zone\x00www.example.org"))
	const bits = 12

	// The expected cookie, built from the documented layout with the
	// standard library's HMAC.
	expect := func(id uint32, secret []byte) string {
		body := make([]byte, 14)
		body[0] = 2
		binary.BigEndian.PutUint32(body[1:5], id)
		binary.BigEndian.PutUint64(body[5:13], uint64(exp.Unix()))
		body[13] = bits
		uah := sha256.Sum256([]byte(ua))
		msg := append([]byte{}, body...)
		msg = append(msg, 4, 203, 0, 113, 0, 0, 0, 0, 0)
		msg = append(msg, uah[:16]...)
		msg = append(msg, scopeSum[:16]...)
		m := hmac.New(sha256.New, secret)
		m.Write(msg)
		return b64.EncodeToString(append(body, m.Sum(nil)[:16]...))
	}
	secret7 := make([]byte, 32)
	secret6 := make([]byte, 32)
	for i := range 32 {
		secret7[i] = byte(100 + i)
		secret6[i] = byte(i)
	}
	got, err := ch.IssueClearance(client, ua, scope, bits)
	if err != nil {
		t.Fatal(err)
	}
	if want := expect(7, secret7); got != want {
		t.Fatalf("cookie %q, want %q", got, want)
	}
	p := &Policy{Scope: scope, Difficulty: bits}
	old := expect(6, secret6)
	if !ch.Verify(old, client, ua, p, now) {
		t.Fatal("cookie of the previous key refused before its not_after")
	}
	if ch.Verify(old, client, ua, p, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)) {
		t.Fatal("cookie of the previous key accepted at its not_after")
	}

	// A version 1 cookie (no scope, no difficulty), correctly signed with
	// the current key, is refused: its holder is challenged again.
	v1 := func() string {
		body := make([]byte, 13)
		body[0] = 1
		binary.BigEndian.PutUint32(body[1:5], 7)
		binary.BigEndian.PutUint64(body[5:13], uint64(exp.Unix()))
		uah := sha256.Sum256([]byte(ua))
		msg := append([]byte{'C'}, body...)
		msg = append(msg, 4, 203, 0, 113, 0, 0, 0, 0, 0)
		msg = append(msg, uah[:16]...)
		m := hmac.New(sha256.New, secret7)
		m.Write(msg)
		return b64.EncodeToString(append(body, m.Sum(nil)[:16]...))
	}()
	for _, pol := range []*Policy{nil, p, {Difficulty: 1}} {
		if ch.Verify(v1, client, ua, pol, now) {
			t.Fatalf("version 1 cookie accepted by policy %+v", pol)
		}
	}

	// The token: the documented layout, MAC'd with the scope.
	tok, err := ch.IssueToken(client, "/a", scope, bits)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := b64.DecodeString(tok)
	msg := append([]byte{'T'}, raw[:len(raw)-16]...)
	msg = append(msg, 4, 203, 0, 113, 0, 0, 0, 0, 0)
	msg = append(msg, scopeSum[:16]...)
	m := hmac.New(sha256.New, secret7)
	m.Write(msg)
	if raw[0] != 2 || raw[13] != bits || string(raw[32:34]) != "/a" || !hmac.Equal(m.Sum(nil)[:16], raw[len(raw)-16:]) {
		t.Fatalf("token %x does not follow the documented layout", raw)
	}
	// The same token as version 1 (MAC without the scope) does not parse.
	raw[0] = 1
	msg = append([]byte{'T'}, raw[:len(raw)-16]...)
	msg = append(msg, 4, 203, 0, 113, 0, 0, 0, 0, 0)
	m = hmac.New(sha256.New, secret7)
	m.Write(msg)
	copy(raw[len(raw)-16:], m.Sum(nil)[:16])
	if _, err := ParseToken(b64.EncodeToString(raw)); err == nil {
		t.Fatal("version 1 token parsed")
	}
}

func FuzzParseKeyFile(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "challenge.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"version":1,"keys":[{"id":1,"secret":"AAAAAAAAAAAAAAAAAAAAAA=="}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := parseKeyFile("challenge.json", b)
		if err != nil {
			return
		}
		if len(keys) == 0 {
			t.Fatal("no keys and no error")
		}
		for i := 1; i < len(keys); i++ {
			if keys[i].id <= keys[i-1].id {
				t.Fatal("keys not sorted by id, or a repeated id")
			}
		}
		out, err := marshalKeys(keys)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseKeyFile("challenge.json", out)
		if err != nil || len(again) != len(keys) {
			t.Fatalf("re-encoded key file does not parse: %v", err)
		}
	})
}
