package lists_test

import (
	"testing"

	"github.com/rampart-edge/rampart/internal/lists"
)

func TestLock(t *testing.T) {
	data := t.TempDir()
	l, _, err := lists.TryLock(data, lists.Owner{PID: 42, Admin: "127.0.0.1:9090"})
	if err != nil {
		t.Fatal(err)
	}
	if _, held, err := lists.TryLock(data, lists.Owner{PID: 43}); err != lists.ErrLocked || held.PID != 42 || held.Admin != "127.0.0.1:9090" {
		t.Fatalf("second lock: %v, holder %+v", err, held)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l2, _, err := lists.TryLock(data, lists.Owner{PID: 43})
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	l2.Unlock()
}
