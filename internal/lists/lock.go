package lists

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Owner is what the process holding a data directory's list lock wrote:
// a running rampart serve, and where its admin API listens, so that a
// command-line import can hand its files to it.
type Owner struct {
	PID   int    `json:"pid"`
	Admin string `json:"admin"`
}

// Lock is an exclusive hold on a data directory's list store: one process
// at a time activates versions there (rampart serve for as long as it
// runs, or one rampart lists command), so there are never two active
// versions.
type Lock struct {
	f *os.File
}

// ErrLocked is returned by TryLock when another process holds the lock.
var ErrLocked = errors.New("the list store is in use by another process")

func lockPath(dataDir string) string { return filepath.Join(dataDir, "lists", "owner.lock") }

// TryLock takes the lock of dataDir's list store without waiting and
// records owner in the lock file. It returns ErrLocked (with the owner's
// record) when another process holds it.
func TryLock(dataDir string, owner Owner) (*Lock, Owner, error) {
	if err := os.MkdirAll(filepath.Join(dataDir, "lists"), 0o750); err != nil {
		return nil, Owner{}, fmt.Errorf("locking the list store: %w", err)
	}
	f, err := os.OpenFile(lockPath(dataDir), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, Owner{}, fmt.Errorf("locking the list store: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		var held Owner
		b := make([]byte, 4096)
		n, _ := f.ReadAt(b, 0)
		_ = json.Unmarshal(b[:n], &held)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, held, ErrLocked
		}
		return nil, Owner{}, fmt.Errorf("locking the list store: %w", err)
	}
	b, _ := json.Marshal(owner)
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(b, 0)
		_ = f.Sync()
	}
	return &Lock{f: f}, owner, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.f.Close() // closing releases the flock
	l.f = nil
	return err
}
