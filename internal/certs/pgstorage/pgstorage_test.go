package pgstorage

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/jackc/pgx/v5"

	"github.com/rampart-edge/rampart/internal/testenv"
	"github.com/rampart-edge/rampart/internal/testlog"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// open opens a Storage on url, closed when t ends.
func open(t *testing.T, url string, opts Options) *Storage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestConformance runs the same expectations against certmagic's own
// FileStorage and this storage, so that the semantics certmagic relies on
// (fs.ErrNotExist, directories implied by keys, recursive listing,
// directory deletes) are those of the reference implementation.
func TestConformance(t *testing.T) {
	url := testenv.Postgres(t)
	for _, tc := range []struct {
		name string
		s    certmagic.Storage
	}{
		{"FileStorage", &certmagic.FileStorage{Path: t.TempDir()}},
		{"pgstorage", open(t, url, Options{})},
	} {
		t.Run(tc.name, func(t *testing.T) { conformance(t, tc.s) })
	}
}

func conformance(t *testing.T, s certmagic.Storage) {
	ctx := context.Background()
	// Missing keys.
	if _, err := s.Load(ctx, "acme/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	if _, err := s.Stat(ctx, "acme/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(missing) = %v, want fs.ErrNotExist", err)
	}
	if _, err := s.List(ctx, "acme/missing", true); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("List(missing) = %v, want fs.ErrNotExist", err)
	}
	if s.Exists(ctx, "acme") {
		t.Error("Exists(acme) before any Store")
	}
	if err := s.Delete(ctx, "acme/missing"); err != nil {
		t.Errorf("Delete(missing) = %v, want nil", err)
	}

	// Files, overwrites, binary values.
	files := map[string][]byte{
		"certificates/ca/a.test/a.test.crt":  []byte("crt-a"),
		"certificates/ca/a.test/a.test.key":  {0, 1, 2, 0xff},
		"certificates/ca/b.test/b.test.json": []byte(`{"sans":["b.test"]}`),
		"certificates/cab/c.test/c.test.crt": []byte("crt-c"), // "cab" is not below "ca"
		"acme/ca/users/ops@x/ops.json":       []byte("{}"),
	}
	for k, v := range files {
		if err := s.Store(ctx, k, []byte("old")); err != nil {
			t.Fatalf("Store(%s): %v", k, err)
		}
		if err := s.Store(ctx, k, v); err != nil {
			t.Fatalf("Store(%s): %v", k, err)
		}
	}
	for k, v := range files {
		got, err := s.Load(ctx, k)
		if err != nil || !bytes.Equal(got, v) {
			t.Errorf("Load(%s) = %q, %v; want %q", k, got, err, v)
		}
		if !s.Exists(ctx, k) {
			t.Errorf("Exists(%s) = false", k)
		}
		ki, err := s.Stat(ctx, k)
		if err != nil || ki.Key != k || !ki.IsTerminal || ki.Size != int64(len(v)) || time.Since(ki.Modified) > time.Minute {
			t.Errorf("Stat(%s) = %+v, %v", k, ki, err)
		}
	}
	if err := s.Store(ctx, "empty/value", nil); err != nil {
		t.Errorf("Store(nil value) = %v", err)
	} else if got, err := s.Load(ctx, "empty/value"); err != nil || len(got) != 0 {
		t.Errorf("Load(empty value) = %q, %v", got, err)
	}

	// Directories.
	for _, d := range []string{"certificates", "certificates/ca", "certificates/ca/a.test"} {
		if !s.Exists(ctx, d) {
			t.Errorf("Exists(%s) = false for a directory", d)
		}
		ki, err := s.Stat(ctx, d)
		if err != nil || ki.Key != d || ki.IsTerminal {
			t.Errorf("Stat(%s) = %+v, %v; want a directory", d, ki, err)
		}
	}
	if s.Exists(ctx, "certificates/c") {
		t.Error(`Exists("certificates/c"): a partial path component is not a directory`)
	}

	list := func(dir string, recursive bool) []string {
		t.Helper()
		got, err := s.List(ctx, dir, recursive)
		if err != nil {
			t.Fatalf("List(%s, %v): %v", dir, recursive, err)
		}
		slices.Sort(got)
		return got
	}
	if got, want := list("certificates/ca", false), []string{"certificates/ca/a.test", "certificates/ca/b.test"}; !slices.Equal(got, want) {
		t.Errorf("List(certificates/ca, false) = %q, want %q", got, want)
	}
	if got, want := list("certificates/ca/a.test", false), []string{"certificates/ca/a.test/a.test.crt", "certificates/ca/a.test/a.test.key"}; !slices.Equal(got, want) {
		t.Errorf("List(certificates/ca/a.test, false) = %q, want %q", got, want)
	}
	if got, want := list("certificates", true), []string{
		"certificates/ca",
		"certificates/ca/a.test",
		"certificates/ca/a.test/a.test.crt",
		"certificates/ca/a.test/a.test.key",
		"certificates/ca/b.test",
		"certificates/ca/b.test/b.test.json",
		"certificates/cab",
		"certificates/cab/c.test",
		"certificates/cab/c.test/c.test.crt",
	}; !slices.Equal(got, want) {
		t.Errorf("List(certificates, true) = %q, want %q", got, want)
	}
	if got := list("certificates/ca/a.test/a.test.crt", true); len(got) != 0 {
		t.Errorf("List(a file) = %q, want nothing", got)
	}

	// Deleting a directory deletes what is below it, and nothing else.
	if err := s.Delete(ctx, "certificates/ca"); err != nil {
		t.Fatal(err)
	}
	for k := range files {
		gone := strings.HasPrefix(k, "certificates/ca/")
		if _, err := s.Load(ctx, k); gone != errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after Delete(certificates/ca): Load(%s) = %v", k, err)
		}
	}
	if s.Exists(ctx, "certificates/ca") {
		t.Error("Exists(certificates/ca) after deleting it")
	}
	if err := s.Delete(ctx, "acme/ca/users/ops@x/ops.json"); err != nil {
		t.Fatal(err)
	}
	if s.Exists(ctx, "acme/ca/users/ops@x/ops.json") {
		t.Error("a deleted file still exists")
	}
	// FileStorage keeps the emptied folders; here directories exist only
	// as prefixes of keys, so they go with their last key.
	if _, ok := s.(*Storage); ok && s.Exists(ctx, "acme") {
		t.Error("a directory without keys exists")
	}

	// Lock and Unlock.
	if err := s.Lock(ctx, "issue_cert_a.test"); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlock(ctx, "issue_cert_a.test"); err != nil {
		t.Fatal(err)
	}
}

func TestStoreRejectsBadKeys(t *testing.T) {
	s := open(t, testenv.Postgres(t), Options{})
	for _, k := range []string{"", "/abs", "dir/"} {
		if err := s.Store(context.Background(), k, []byte("x")); err == nil {
			t.Errorf("Store(%q) = nil, want an error", k)
		}
	}
}

// TestUnlockNotHeld: Unlock of a lock never taken fails, as certmagic's
// storage tests expect.
func TestUnlockNotHeld(t *testing.T) {
	s := open(t, testenv.Postgres(t), Options{})
	if err := s.Unlock(context.Background(), "never-locked"); err == nil {
		t.Error("Unlock of a lock never taken = nil, want an error")
	}
}

// TestLockContention: two nodes (two Storages on one database) want the
// same lock; the second waits while the first holds it, longer than the
// lease (the holder keeps it fresh), and gets it soon after the first
// unlocks.
func TestLockContention(t *testing.T) {
	url := testenv.Postgres(t)
	const lease = time.Second
	a := open(t, url, Options{LockLease: lease, PollInterval: 50 * time.Millisecond})
	b := open(t, url, Options{LockLease: lease, PollInterval: 50 * time.Millisecond})
	ctx := context.Background()

	if err := a.Lock(ctx, "issue_cert_x.test"); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.TryLock(ctx, "issue_cert_x.test"); ok || err != nil {
		t.Fatalf("TryLock on a held lock = %v, %v; want false, nil", ok, err)
	}
	got := make(chan time.Time, 1)
	go func() {
		if err := b.Lock(ctx, "issue_cert_x.test"); err != nil {
			t.Error(err)
		}
		got <- time.Now()
	}()
	// Held for three leases: a's renewals keep b waiting.
	select {
	case <-got:
		t.Fatal("the second node got a lock the first still held")
	case <-time.After(3 * lease):
	}
	released := time.Now()
	if err := a.Unlock(ctx, "issue_cert_x.test"); err != nil {
		t.Fatal(err)
	}
	select {
	case at := <-got:
		t.Logf("second node got the lock %v after the first released it", at.Sub(released).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("the second node did not get the lock within 5s of its release")
	}
	// b holds it now: a must wait in turn, and b can unlock.
	if ok, err := a.TryLock(ctx, "issue_cert_x.test"); ok || err != nil {
		t.Errorf("TryLock while the other node holds it = %v, %v", ok, err)
	}
	if err := b.Unlock(ctx, "issue_cert_x.test"); err != nil {
		t.Error(err)
	}
}

// TestLockHonoursContext: a waiting Lock returns when its context ends.
func TestLockHonoursContext(t *testing.T) {
	url := testenv.Postgres(t)
	a := open(t, url, Options{})
	b := open(t, url, Options{PollInterval: 20 * time.Millisecond})
	if err := a.Lock(context.Background(), "l"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := b.Lock(ctx, "l")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock with an ending context = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Lock took %v to notice its context ended", d)
	}
}

// TestCrashedHolderTakenOver: a node that dies holding a lock (its
// Storage closed without Unlock: no more renewals, the row stays) loses
// it once the lease runs out; the other node takes it over.
func TestCrashedHolderTakenOver(t *testing.T) {
	url := testenv.Postgres(t)
	const lease = time.Second
	ctx := context.Background()
	dead, err := Open(ctx, url, Options{LockLease: lease})
	if err != nil {
		t.Fatal(err)
	}
	if err := dead.Lock(ctx, "issue_cert_y.test"); err != nil {
		t.Fatal(err)
	}
	dead.Close() // kill -9: the lock row stays, nobody renews it

	logs := &testlog.Buffer{}
	b := open(t, url, Options{LockLease: 30 * time.Second, PollInterval: 50 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if ok, _ := b.TryLock(ctx, "issue_cert_y.test"); ok {
		t.Fatal("a lock whose lease still runs was taken")
	}
	start := time.Now()
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := b.Lock(lctx, "issue_cert_y.test"); err != nil {
		t.Fatalf("the expired lock was not taken over: %v", err)
	}
	waited := time.Since(start)
	t.Logf("expired lock taken over after %v (lease %v)", waited.Round(time.Millisecond), lease)
	if waited > lease+2*time.Second {
		t.Errorf("takeover took %v, want about the lease (%v)", waited, lease)
	}
	if !strings.Contains(logs.String(), "took over an expired ACME lock") {
		t.Errorf("the takeover was not logged:\n%s", logs.String())
	}
	if err := b.Unlock(ctx, "issue_cert_y.test"); err != nil {
		t.Error(err)
	}
}

// TestStalledHolderCannotUnlockTakenLock: when a holder's lease runs out
// (its renewals failed) and another node takes the lock, the first
// holder's Unlock and RenewLockLease fail and leave the new holder's row
// alone.
func TestStalledHolderCannotUnlockTakenLock(t *testing.T) {
	url := testenv.Postgres(t)
	ctx := context.Background()
	a := open(t, url, Options{})
	b := open(t, url, Options{PollInterval: 20 * time.Millisecond})
	if err := a.Lock(ctx, "z"); err != nil {
		t.Fatal(err)
	}
	// The lease runs out as if a's renewals had not reached the database.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE acme_locks SET expires = clock_timestamp() - interval '1 second' WHERE name = 'z'`); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.TryLock(ctx, "z"); !ok || err != nil {
		t.Fatalf("TryLock on an expired lock = %v, %v; want it taken over", ok, err)
	}
	if err := a.RenewLockLease(ctx, "z", time.Minute); err == nil {
		t.Error("RenewLockLease by the holder that lost the lock = nil, want an error")
	}
	if err := a.Unlock(ctx, "z"); err == nil {
		t.Error("Unlock by the holder that lost the lock = nil, want an error")
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM acme_locks WHERE name = 'z' AND expires > clock_timestamp()`).Scan(&n); err != nil || n != 1 {
		t.Errorf("the new holder's lock row: count %d, %v; want 1", n, err)
	}
	if err := b.Unlock(ctx, "z"); err != nil {
		t.Error(err)
	}
}

// TestRenewLockLease extends a held lock's lease beyond LockLease.
func TestRenewLockLease(t *testing.T) {
	url := testenv.Postgres(t)
	ctx := context.Background()
	s := open(t, url, Options{LockLease: time.Second})
	if err := s.RenewLockLease(ctx, "r", time.Minute); err == nil {
		t.Error("RenewLockLease of a lock not held = nil")
	}
	if err := s.Lock(ctx, "r"); err != nil {
		t.Fatal(err)
	}
	if err := s.RenewLockLease(ctx, "r", time.Hour); err != nil {
		t.Fatal(err)
	}
	leaseAtLeast := func(d string) bool {
		t.Helper()
		var ok bool
		if err := s.pool.QueryRow(ctx, `SELECT expires > clock_timestamp() + $1::interval FROM acme_locks WHERE name = 'r'`, d).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !leaseAtLeast("59 minutes") {
		t.Error("lease after RenewLockLease(1h) runs less than 59 minutes")
	}
	// The renewal goroutine (every LockLease/3) must not shorten it.
	time.Sleep(time.Second)
	if !leaseAtLeast("58 minutes") {
		t.Error("a renewal shortened the lease renewed to an hour")
	}
	if err := s.Unlock(ctx, "r"); err != nil {
		t.Error(err)
	}
}

// TestMutualExclusion: workers on two nodes take one lock in turn; at no
// time do two hold it.
func TestMutualExclusion(t *testing.T) {
	url := testenv.Postgres(t)
	nodes := []*Storage{
		open(t, url, Options{PollInterval: 10 * time.Millisecond}),
		open(t, url, Options{PollInterval: 10 * time.Millisecond}),
	}
	var inside, maxInside, total atomic.Int32
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := nodes[w%2]
			for range 5 {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				if err := s.Lock(ctx, "shared"); err != nil {
					cancel()
					t.Error(err)
					return
				}
				n := inside.Add(1)
				for {
					m := maxInside.Load()
					if n <= m || maxInside.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(2 * time.Millisecond)
				inside.Add(-1)
				total.Add(1)
				if err := s.Unlock(ctx, "shared"); err != nil {
					t.Error(err)
				}
				cancel()
			}
		}()
	}
	wg.Wait()
	if total.Load() != 30 || maxInside.Load() != 1 {
		t.Errorf("%d critical sections, at most %d at once; want 30 and 1", total.Load(), maxInside.Load())
	}
}

// TestOpenConcurrently: nodes starting together on an empty schema all
// make (or find) the tables.
func TestOpenConcurrently(t *testing.T) {
	url := testenv.Postgres(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), url, Options{})
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestOpenRedactsPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://u:s3cret@127.0.0.1:1/db?sslmode=disable&connect_timeout=1", Options{})
	if err == nil {
		t.Fatal("Open on a closed port = nil")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the password: %v", err)
	}
}
