package storetest

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"encoding/hex"

	"github.com/rampart-edge/rampart/internal/store"
)

// testTicketKeys: RotateTicketKeys adds a key when there is none or the
// newest is due, keeps the set otherwise, deletes the expired keys;
// TicketKeys lists the live ones newest first; the secret round-trips
// and never shows in JSON, fmt or slog output.
func testTicketKeys(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	const rot, life = 12 * time.Hour, 36 * time.Hour
	t0 := store.Now()
	ks, err := s.TicketKeys(ctx, t0)
	must(t, err)
	if len(ks) != 0 {
		t.Fatalf("fresh store has %d ticket keys", len(ks))
	}
	_, err = s.RotateTicketKeys(ctx, t0, 0, life)
	wantErr(t, err, store.ErrInvalid)

	first, err := s.RotateTicketKeys(ctx, t0, rot, life)
	must(t, err)
	if len(first) != 1 || first[0].ID == "" || first[0].Secret == [32]byte{} || !first[0].Created.Equal(t0) || !first[0].Expires.Equal(t0.Add(life)) {
		t.Fatalf("first rotation: %v", first)
	}
	// Not due yet: the same key.
	again, err := s.RotateTicketKeys(ctx, t0.Add(rot-time.Minute), rot, life)
	must(t, err)
	if len(again) != 1 || again[0].ID != first[0].ID || again[0].Secret != first[0].Secret {
		t.Fatalf("rotation before due changed the keys: %v", again)
	}
	// Due: a second key, first in the list.
	t1 := t0.Add(rot)
	second, err := s.RotateTicketKeys(ctx, t1, rot, life)
	must(t, err)
	if len(second) != 2 || second[1].ID != first[0].ID || second[0].Secret == first[0].Secret || !second[0].Created.Equal(t1) {
		t.Fatalf("second rotation: %v", second)
	}
	t2 := t0.Add(2 * rot)
	third, err := s.RotateTicketKeys(ctx, t2, rot, life)
	must(t, err)
	if len(third) != 3 {
		t.Fatalf("third rotation: %v", third)
	}
	listed, err := s.TicketKeys(ctx, t2)
	must(t, err)
	if len(listed) != 3 {
		t.Fatalf("TicketKeys: %v", listed)
	}
	for i := range listed {
		if listed[i].ID != third[i].ID || listed[i].Secret != third[i].Secret || !listed[i].Created.Equal(third[i].Created) || !listed[i].Expires.Equal(third[i].Expires) {
			t.Errorf("key %d: listed %v, rotated %v", i, listed[i], third[i])
		}
	}
	// At t0+36h the first key has expired: not listed, and the next
	// rotation deletes it.
	t3 := t0.Add(life)
	live, err := s.TicketKeys(ctx, t3)
	must(t, err)
	if len(live) != 2 || live[1].ID != second[0].ID {
		t.Fatalf("keys at t0+36h: %v", live)
	}
	fourth, err := s.RotateTicketKeys(ctx, t3, rot, life)
	must(t, err)
	if len(fourth) != 3 || fourth[2].ID != second[0].ID {
		t.Fatalf("fourth rotation: %v", fourth)
	}
	all, err := s.TicketKeys(ctx, t0.Add(-time.Hour))
	must(t, err)
	if len(all) != 3 {
		t.Errorf("the expired key was not deleted: %d keys in the table", len(all))
	}
	// Long after: every key expired, one new one.
	late, err := s.RotateTicketKeys(ctx, t0.Add(10*life), rot, life)
	must(t, err)
	if len(late) != 1 {
		t.Fatalf("rotation after every key expired: %v", late)
	}
	all, err = s.TicketKeys(ctx, t0.Add(-time.Hour))
	must(t, err)
	if len(all) != 1 {
		t.Errorf("expired keys were not deleted: %d keys in the table", len(all))
	}

	// The secret stays out of every rendering.
	k := late[0]
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("key", "key", k)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("key", "key", k, "keys", late)
	j, err := json.Marshal(late)
	must(t, err)
	out := fmt.Sprintf("%v %+v %#v %s %q %x", k, k, k, k, k, k) + fmt.Sprint(late) + string(j) + logged.String()
	sec := hex.EncodeToString(k.Secret[:])
	if strings.Contains(strings.ToLower(out), sec) || strings.Contains(out, string(k.Secret[:])) || !strings.Contains(out, k.ID) {
		t.Errorf("the secret shows, or the id does not: %s", out)
	}
}

// testTicketKeysConcurrent: nodes rotating at once add one key.
func testTicketKeysConcurrent(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	now := store.Now()
	var wg sync.WaitGroup
	ids := make([]string, 8)
	errs := make([]error, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ks, err := s.RotateTicketKeys(ctx, now, 12*time.Hour, 36*time.Hour)
			errs[i] = err
			if err == nil && len(ks) > 0 {
				ids[i] = ks[0].ID
			}
		}()
	}
	wg.Wait()
	for i := range ids {
		must(t, errs[i])
		if ids[i] != ids[0] {
			t.Errorf("rotation %d uses key %s, rotation 0 key %s", i, ids[i], ids[0])
		}
	}
	ks, err := s.TicketKeys(ctx, now)
	must(t, err)
	if len(ks) != 1 {
		t.Errorf("%d keys after concurrent rotations, want 1", len(ks))
	}
}
