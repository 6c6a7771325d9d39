package certs

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
)

// Session ticket keys. A session ticket is the server's encrypted session
// state kept by the client; whoever holds the key that encrypted it can
// decrypt the session's traffic secrets, so an unrotated key undoes
// forward secrecy. A new key takes over every TicketKeyRotation; each key
// decrypts until TicketKeyLifetime after it was made (the one in use and
// the previous TicketKeysKept-1), so a ticket resumes for at most 36 hours
// and no key lives longer than that.
//
// Without a shared store the keys live in this process only: another
// node, or this one after a restart, makes a full handshake. With a
// PostgreSQL store (ShareTicketKeys) the keys live in its table
// tls_ticket_keys, shared by every node on it: a ticket issued by one node
// resumes on any other. Each node reads the set at start and every
// TicketKeyCheck (and when the cluster is notified of a change); the node
// that finds the newest key due adds the next one under an advisory lock
// (store.Store.RotateTicketKeys), which also deletes the expired keys, and
// notifies the others. While the store does not answer, a node keeps the
// keys it has until they expire, then makes a local one.
const (
	// TicketKeyRotation is how often a new ticket key takes over.
	TicketKeyRotation = 12 * time.Hour
	// TicketKeysKept is how many keys decrypt (the newest encrypts).
	TicketKeysKept = 3
	// TicketKeyLifetime is how long a key decrypts after it was made.
	TicketKeyLifetime = TicketKeyRotation * TicketKeysKept
	// TicketKeyCheck is how often a node reads the shared keys.
	TicketKeyCheck = time.Minute
)

// TicketKeyStore is where nodes share their ticket keys; store.Store
// implements it.
type TicketKeyStore interface {
	TicketKeys(ctx context.Context, now time.Time) ([]store.TicketKey, error)
	RotateTicketKeys(ctx context.Context, now time.Time, rotation, lifetime time.Duration) ([]store.TicketKey, error)
}

// ticketKeys is the rotating set of session ticket keys. Its holder
// config carries them (tls.Config.SetSessionTicketKeys is safe while the
// config is in use); every TLS config the manager hands out encrypts and
// decrypts tickets through the holder's EncryptTicket and DecryptTicket,
// so one rotation reaches all of them, the clones made by the listeners
// included.
type ticketKeys struct {
	holder *tls.Config
	log    *slog.Logger

	syncMu sync.Mutex // serialises check and sync
	mu     sync.Mutex
	now    func() time.Time  // the clock (tests move it)
	keys   []store.TicketKey // newest first
	shared TicketKeyStore    // nil: keys of this process only
	failed bool              // the last read of the shared keys failed

	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

func newTicketKeys(log *slog.Logger) *ticketKeys {
	ctx, cancel := context.WithCancel(context.Background())
	t := &ticketKeys{holder: &tls.Config{}, log: log, now: time.Now, wake: make(chan struct{}, 1),
		ctx: ctx, cancel: cancel, done: make(chan struct{})}
	t.rotate()
	go t.run()
	return t
}

func (t *ticketKeys) run() {
	defer close(t.done)
	tick := time.NewTicker(TicketKeyCheck)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-t.wake:
		case <-t.ctx.Done():
			return
		}
		_ = t.check(t.ctx)
	}
}

func (t *ticketKeys) clock() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.now().UTC().Truncate(time.Microsecond)
}

// check reads the shared keys (adding one when due), or rotates the local
// keys when due.
func (t *ticketKeys) check(ctx context.Context) error {
	t.syncMu.Lock()
	defer t.syncMu.Unlock()
	t.mu.Lock()
	s := t.shared
	t.mu.Unlock()
	now := t.clock()
	if s == nil {
		t.mu.Lock()
		due := len(t.keys) == 0 || now.Sub(t.keys[0].Created) >= TicketKeyRotation
		t.mu.Unlock()
		if due {
			t.rotate()
		}
		return nil
	}
	keys, err := s.TicketKeys(ctx, now)
	if err == nil && (len(keys) == 0 || now.Sub(keys[0].Created) >= TicketKeyRotation) {
		prev := ""
		if len(keys) > 0 {
			prev = keys[0].ID
		}
		keys, err = s.RotateTicketKeys(ctx, now, TicketKeyRotation, TicketKeyLifetime)
		if err == nil && len(keys) > 0 && keys[0].ID != prev {
			t.log.Info("session ticket key rotated", "component", "certs", "key", keys[0], "keys", len(keys))
		}
	}
	if err == nil && len(keys) == 0 {
		err = errors.New("the store returned no ticket key")
	}
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		t.mu.Lock()
		first := !t.failed
		t.failed = true
		t.mu.Unlock()
		if first {
			t.log.Warn("cannot read the shared session ticket keys: keeping the current ones until they expire",
				"component", "certs", "error", err)
		}
		t.keepLive(now)
		return fmt.Errorf("reading the shared session ticket keys: %w", err)
	}
	t.mu.Lock()
	if t.failed {
		t.log.Info("shared session ticket keys read again", "component", "certs", "keys", len(keys))
	}
	t.failed = false
	t.setLocked(keys)
	t.mu.Unlock()
	return nil
}

// keepLive drops the expired keys; when none is left, or the newest is
// past its rotation with no shared store answering, it adds a local one.
func (t *ticketKeys) keepLive(now time.Time) {
	t.mu.Lock()
	live := t.keys[:0:0]
	for _, k := range t.keys {
		if k.Expires.After(now) {
			live = append(live, k)
		}
	}
	due := len(live) == 0 || now.Sub(live[0].Created) >= TicketKeyRotation
	t.keys = live
	t.mu.Unlock()
	if due {
		t.rotate()
	}
}

// rotate puts a new random key of this process first and drops the
// expired ones and the oldest beyond TicketKeysKept.
func (t *ticketKeys) rotate() {
	now := t.clock()
	k := store.TicketKey{ID: store.NewID("local"), Created: now, Expires: now.Add(TicketKeyLifetime)}
	if _, err := rand.Read(k.Secret[:]); err != nil {
		return // crypto/rand does not fail on Linux; keep the old keys
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := []store.TicketKey{k}
	for _, old := range t.keys {
		if old.Expires.After(now) && len(keys) < TicketKeysKept {
			keys = append(keys, old)
		}
	}
	t.setLocked(keys)
}

// setLocked installs keys (newest first, not empty); t.mu is held.
func (t *ticketKeys) setLocked(keys []store.TicketKey) {
	if len(keys) == 0 {
		return
	}
	t.keys = keys
	secrets := make([][32]byte, len(keys))
	for i, k := range keys {
		secrets[i] = k.Secret
	}
	t.holder.SetSessionTicketKeys(secrets)
}

// share switches to the keys of s and reads them now.
func (t *ticketKeys) share(ctx context.Context, s TicketKeyStore) error {
	t.mu.Lock()
	t.shared = s
	t.mu.Unlock()
	return t.check(ctx)
}

// poke asks the loop to read the shared keys soon.
func (t *ticketKeys) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *ticketKeys) close() {
	t.once.Do(func() {
		t.cancel()
		<-t.done
	})
}

// apply makes cfg encrypt and decrypt its tickets with the rotating keys.
func (t *ticketKeys) apply(cfg *tls.Config) {
	cfg.WrapSession = t.holder.EncryptTicket
	cfg.UnwrapSession = t.holder.DecryptTicket
}

// ShareTicketKeys makes the manager take its session ticket keys from s,
// the PostgreSQL store shared by the nodes, and reads them now (adding
// the first key when there is none). On error the manager keeps its own
// keys and tries again every TicketKeyCheck.
func (m *Manager) ShareTicketKeys(ctx context.Context, s TicketKeyStore) error {
	err := m.tickets.share(ctx, s)
	if err == nil {
		m.log.Info("session ticket keys are shared through the PostgreSQL store", "component", "certs")
	}
	return err
}

// SyncTicketKeys asks for the shared ticket keys to be read soon (the
// cluster heard of a change); it does not wait.
func (m *Manager) SyncTicketKeys() { m.tickets.poke() }
