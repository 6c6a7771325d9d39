package challenge

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// keyFileVersion is the format version of challenge.json.
const keyFileVersion = 1

// keyFile is the JSON form of DataDir/keys/challenge.json:
//
//	{"version": 1, "keys": [{"id": 2, "secret": "base64 of 32 bytes",
//	  "created": "2026-11-25T12:00:00Z", "not_after": "0001-01-01T00:00:00Z"}]}
//
// The key with the highest id is the current one (it signs); the others
// are previous keys, accepted for verification until their not_after.
type keyFile struct {
	Version int       `json:"version"`
	Keys    []keyJSON `json:"keys"`
}

type keyJSON struct {
	ID       uint32    `json:"id"`
	Secret   string    `json:"secret"`
	Created  time.Time `json:"created"`
	NotAfter time.Time `json:"not_after,omitzero"`
}

// key is one HMAC-SHA256 key with its pads precomputed.
type key struct {
	id       uint32
	secret   []byte
	created  time.Time
	notAfter time.Time // zero for the current key
	ipad     [sha256.BlockSize]byte
	opad     [sha256.BlockSize]byte
}

func newKey(id uint32, secret []byte, created, notAfter time.Time) *key {
	k := &key{id: id, secret: secret, created: created, notAfter: notAfter}
	var kb [sha256.BlockSize]byte
	if len(secret) > sha256.BlockSize {
		s := sha256.Sum256(secret)
		copy(kb[:], s[:])
	} else {
		copy(kb[:], secret)
	}
	for i := range kb {
		k.ipad[i] = kb[i] ^ 0x36
		k.opad[i] = kb[i] ^ 0x5c
	}
	return k
}

// mac returns HMAC-SHA256(key, msg) (RFC 2104) without allocating for
// messages up to maxMAC bytes.
func (k *key) mac(msg []byte) [sha256.Size]byte {
	if len(msg) <= 128 {
		// Cookies: a small buffer is cheaper to clear.
		var buf [sha256.BlockSize + 128]byte
		return k.macInto(buf[:], msg)
	}
	var buf [sha256.BlockSize + maxMAC]byte
	if len(msg) > maxMAC {
		panic("challenge: mac message too long")
	}
	return k.macInto(buf[:], msg)
}

func (k *key) macInto(buf, msg []byte) [sha256.Size]byte {
	n := copy(buf[:], k.ipad[:])
	n += copy(buf[n:], msg)
	inner := sha256.Sum256(buf[:n])
	n = copy(buf[:], k.opad[:])
	n += copy(buf[n:], inner[:])
	return sha256.Sum256(buf[:n])
}

// maxMAC bounds the messages mac takes (tokens carry a target URL).
const maxMAC = 2200

// keyRing is an immutable set of keys; rotation builds a new one.
type keyRing struct {
	current *key
	byID    map[uint32]*key
	// rotateAt is when the current key is due to be replaced.
	rotateAt time.Time
}

func (kr *keyRing) lookup(id uint32, now time.Time) *key {
	k := kr.byID[id]
	if k == nil || (!k.notAfter.IsZero() && !now.Before(k.notAfter)) {
		return nil
	}
	return k
}

// parseKeyFile decodes challenge.json; name is used in errors.
func parseKeyFile(name string, data []byte) ([]*key, error) {
	var f keyFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if f.Version != keyFileVersion {
		return nil, fmt.Errorf("reading %s: version %d, want %d", name, f.Version, keyFileVersion)
	}
	if len(f.Keys) == 0 {
		return nil, fmt.Errorf("reading %s: no keys", name)
	}
	keys := make([]*key, 0, len(f.Keys))
	seen := map[uint32]bool{}
	for i, kj := range f.Keys {
		secret, err := base64.StdEncoding.DecodeString(kj.Secret)
		if err != nil {
			return nil, fmt.Errorf("reading %s: keys[%d] (id %d) field secret: %w", name, i, kj.ID, err)
		}
		if len(secret) < 16 {
			return nil, fmt.Errorf("reading %s: keys[%d] (id %d) field secret: %d bytes, want at least 16", name, i, kj.ID, len(secret))
		}
		if seen[kj.ID] {
			return nil, fmt.Errorf("reading %s: keys[%d] field id: %d appears twice", name, i, kj.ID)
		}
		seen[kj.ID] = true
		keys = append(keys, newKey(kj.ID, secret, kj.Created, kj.NotAfter))
	}
	slices.SortFunc(keys, func(a, b *key) int { return int(int64(a.id) - int64(b.id)) })
	return keys, nil
}

func marshalKeys(keys []*key) ([]byte, error) {
	f := keyFile{Version: keyFileVersion}
	for _, k := range keys {
		f.Keys = append(f.Keys, keyJSON{ID: k.id, Secret: base64.StdEncoding.EncodeToString(k.secret), Created: k.created.UTC(), NotAfter: k.notAfter.UTC()})
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding challenge keys: %w", err)
	}
	return append(b, '\n'), nil
}

func randomSecret() ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generating challenge key: %w", err)
	}
	return b, nil
}

// loadOrCreateKeys reads path, creating it with one fresh key if it does
// not exist, then rotates if the current key is older than rotateEvery,
// dropping keys past their not_after. grace is how long a replaced key
// stays accepted. The file is rewritten (temp file, fsync, rename) only
// when something changed.
func loadOrCreateKeys(path string, now time.Time, rotateEvery, grace time.Duration) (*keyRing, error) {
	data, err := os.ReadFile(path)
	var keys []*key
	changed := false
	switch {
	case errors.Is(err, fs.ErrNotExist):
		secret, err := randomSecret()
		if err != nil {
			return nil, err
		}
		keys = []*key{newKey(1, secret, now, time.Time{})}
		changed = true
	case err != nil:
		return nil, fmt.Errorf("reading challenge keys: %w", err)
	default:
		if keys, err = parseKeyFile(path, data); err != nil {
			return nil, err
		}
	}
	cur := keys[len(keys)-1]
	if !cur.notAfter.IsZero() || !now.Before(cur.created.Add(rotateEvery)) {
		secret, err := randomSecret()
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			if k.notAfter.IsZero() || k.notAfter.After(now.Add(grace)) {
				k.notAfter = now.Add(grace)
			}
		}
		keys = append(keys, newKey(cur.id+1, secret, now, time.Time{}))
		changed = true
	}
	kept := keys[:0]
	for _, k := range keys {
		if k.notAfter.IsZero() || now.Before(k.notAfter) {
			kept = append(kept, k)
		} else {
			changed = true
		}
	}
	keys = kept
	if changed {
		b, err := marshalKeys(keys)
		if err != nil {
			return nil, err
		}
		if err := writeFileAtomic(path, b); err != nil {
			return nil, err
		}
	}
	kr := &keyRing{current: keys[len(keys)-1], byID: make(map[uint32]*key, len(keys))}
	kr.rotateAt = kr.current.created.Add(rotateEvery)
	for _, k := range keys {
		kr.byID[k.id] = k
	}
	return kr, nil
}

// writeFileAtomic writes data to path through a temp file, fsync and
// rename, so a crash leaves the old file or the new one, never half of
// one. The file is readable by its owner only: it holds secrets.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".challenge-*.json")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", tmp, path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
