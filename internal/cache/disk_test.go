package cache

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampart-edge/rampart/internal/testenv"
)

func TestDiskTierSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := bytes.Repeat([]byte("L"), 3<<20) // beyond the memory threshold
	fn := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Cache-Tag", "t1")
		if r.URL.Path == "/large" {
			w.Write(big)
			return
		}
		io.WriteString(w, "small "+r.URL.Path)
	}
	so := StoreOptions{DiskDir: dir, DiskBytes: 64 << 20, MemoryBytes: 8 << 20}
	z, o, _ := newTestZone(t, Rules{}, fn, so)
	if w := do(z, "GET", "http://example.org/small"); w.Body.String() != "small /small" {
		t.Fatalf("small: %q", w.Body.String())
	}
	if w := do(z, "GET", "http://example.org/large"); !bytes.Equal(w.Body.Bytes(), big) || cacheStatus(w) != StatusMiss {
		t.Fatalf("large miss: %d bytes, %s", w.Body.Len(), cacheStatus(w))
	}
	if w := do(z, "GET", "http://example.org/large", "Range", "bytes=-4"); w.Code != 206 || w.Body.String() != "LLLL" || cacheStatus(w) != StatusHit {
		t.Fatalf("large range from disk: %d %q %s", w.Code, w.Body.String(), cacheStatus(w))
	}
	largeKey, _ := z.keyFor(baseKey("example.org", location{scheme: "http", host: "example.org", path: "/large"}), &http.Request{})
	if e, ok := z.store.mem.GetIfPresent(largeKey); ok && e.Body != nil {
		t.Fatal("the large body is held in memory")
	}
	z.store.disk.flush()
	z.store.Close()

	// A torn file and a stray temp file are cleaned up at start.
	os.WriteFile(filepath.Join(dir, "tmp-123"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, fileName("torn")), []byte("garbage"), 0o600)

	s2, err := OpenStore(so)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	z2 := NewZone(s2, "example.org", Rules{}, o, ZoneOptions{Now: z.now})
	before := o.hits.Load()
	if w := do(z2, "GET", "http://example.org/small"); cacheStatus(w) != StatusHit || w.Body.String() != "small /small" {
		t.Fatalf("small after restart: %s %q", cacheStatus(w), w.Body.String())
	}
	if w := do(z2, "GET", "http://example.org/large"); cacheStatus(w) != StatusHit || !bytes.Equal(w.Body.Bytes(), big) {
		t.Fatalf("large after restart: %s %d bytes", cacheStatus(w), w.Body.Len())
	}
	if o.hits.Load() != before {
		t.Fatalf("origin asked after restart")
	}
	for _, name := range []string{"tmp-123", fileName("torn")} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s not removed at start", name)
		}
	}
	// Purge by tag removes the files too; entries in both tiers count once.
	if n, err := z2.Purge(PurgeRequest{Tags: []string{"t1"}}); err != nil || n != 2 {
		t.Fatalf("purged %d entries (%v), want 2", n, err)
	}
	if w := do(z2, "GET", "http://example.org/small"); cacheStatus(w) != StatusMiss {
		t.Fatalf("after purge: %s", cacheStatus(w))
	}
	if used := s2.disk.usedBytes(); used > 1<<20 {
		t.Fatalf("disk still holds %d bytes after the purge", used)
	}
}

func TestDiskBudget(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := OpenStore(StoreOptions{DiskDir: dir, DiskBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	body := bytes.Repeat([]byte("b"), 100<<10)
	for i := range 30 {
		k := "k" + strings.Repeat("x", i)
		s.put(&Entry{Key: k, Zone: "z", Status: 200, Header: http.Header{}, Body: body, Size: int64(len(body))})
	}
	s.disk.flush()
	if used := s.disk.usedBytes(); used > 1<<20 {
		t.Fatalf("disk tier uses %d bytes, budget %d", used, 1<<20)
	}
	var total int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		fi, _ := e.Info()
		total += fi.Size()
	}
	if total > 1<<20 {
		t.Fatalf("files take %d bytes, budget %d", total, 1<<20)
	}
}

func TestLargeBodyWithoutDiskIsNotStored(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("B"), 2<<20)
	z, o, _ := newTestZone(t, Rules{}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Type", "text/plain")
		w.Write(big)
	}, StoreOptions{})
	// Accept-Encoding forces the store-then-serve path; it must still
	// stream the body through once it is known to be too large.
	for range 2 {
		w := do(z, "GET", "http://example.org/big", "Accept-Encoding", "gzip")
		if !bytes.Equal(w.Body.Bytes(), big) {
			t.Fatalf("body of %d bytes, want %d", w.Body.Len(), len(big))
		}
	}
	if n := o.hits.Load(); n != 2 {
		t.Fatalf("origin hits = %d, want 2 (not stored)", n)
	}
}

// TestRedisPurge runs two zones sharing the test Redis server
// (testenv.Redis): a purge on one reaches the other within a second.
func TestRedisPurge(t *testing.T) {
	t.Parallel()
	url := "redis://" + testenv.Redis(t) + "/0"
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		t.Fatalf("Redis at %s: %v", url, err)
	}
	c.Close()
	fn := static("max-age=600", "shared")
	za, _, _ := newTestZone(t, Rules{}, fn, StoreOptions{Redis: url})
	zb, _, _ := newTestZone(t, Rules{}, fn, StoreOptions{Redis: url})
	do(za, "GET", "http://example.org/x")
	do(zb, "GET", "http://example.org/x")
	if w := do(zb, "GET", "http://example.org/x"); cacheStatus(w) != StatusHit {
		t.Fatalf("b before purge: %s", cacheStatus(w))
	}
	start := time.Now()
	if _, err := za.Purge(PurgeRequest{URLs: []string{"/x"}}); err != nil {
		t.Fatal(err)
	}
	for {
		if _, ok := zb.store.mem.GetIfPresent(baseKey("example.org", location{scheme: "http", host: "example.org", path: "/x"})); !ok {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatal("the purge did not reach the other node within a second")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if w := do(zb, "GET", "http://example.org/x"); cacheStatus(w) != StatusMiss {
		t.Fatalf("b after purge: %s", cacheStatus(w))
	}
}

// TestDiskRevalidationRewritesMetadata revalidates an entry whose body
// lives only on disk: the file must stay well-formed (and found after a
// restart) with the refreshed headers.
func TestDiskRevalidationRewritesMetadata(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := bytes.Repeat([]byte("R"), 2<<20)
	so := StoreOptions{DiskDir: dir, DiskBytes: 64 << 20, MemoryBytes: 8 << 20}
	z, o, c := newTestZone(t, Rules{}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=10")
		w.Header().Set("ETag", `"big"`)
		if r.Header.Get("If-None-Match") == `"big"` {
			w.Header().Set("X-Round", "2")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write(big)
	}, so)
	do(z, "GET", "http://example.org/big")
	c.add(20 * time.Second)
	if w := do(z, "GET", "http://example.org/big"); cacheStatus(w) != StatusRevalidated || !bytes.Equal(w.Body.Bytes(), big) {
		t.Fatalf("revalidation: %s %d bytes", cacheStatus(w), w.Body.Len())
	}
	z.store.disk.flush()
	z.store.Close()
	s2, err := OpenStore(so)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	z2 := NewZone(s2, "example.org", Rules{}, o, ZoneOptions{Now: c.now})
	w := do(z2, "GET", "http://example.org/big")
	if cacheStatus(w) != StatusHit || w.Header().Get("X-Round") != "2" || !bytes.Equal(w.Body.Bytes(), big) {
		t.Fatalf("after restart: %s round %q, %d bytes", cacheStatus(w), w.Header().Get("X-Round"), w.Body.Len())
	}
	if n := o.hits.Load(); n != 2 {
		t.Fatalf("origin hits %d, want 2", n)
	}
}
