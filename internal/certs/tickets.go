package certs

import (
	"crypto/rand"
	"crypto/tls"
	"slices"
	"sync"
	"time"
)

// Session ticket keys. A session ticket is the server's encrypted session
// state kept by the client; whoever holds the key that encrypted it can
// decrypt the session's traffic secrets, so an unrotated key undoes
// forward secrecy. The keys rotate every TicketKeyRotation; the key in use
// and the previous TicketKeysKept-1 still decrypt, so a ticket resumes for
// at most TicketKeyRotation*TicketKeysKept (36 hours) and no key lives
// longer than that. The keys live in this process only: another node, or
// this one after a restart, makes a full handshake. (Sharing them across
// nodes through the control plane is a follow-up.)
const (
	// TicketKeyRotation is how often a new ticket key takes over.
	TicketKeyRotation = 12 * time.Hour
	// TicketKeysKept is how many keys decrypt (the newest encrypts).
	TicketKeysKept = 3
)

// ticketKeys is the rotating set of session ticket keys. Its holder
// config carries them (tls.Config.SetSessionTicketKeys is safe while the
// config is in use); every TLS config the manager hands out encrypts and
// decrypts tickets through the holder's EncryptTicket and DecryptTicket,
// so one rotation reaches all of them, the clones made by the listeners
// included.
type ticketKeys struct {
	holder *tls.Config

	mu   sync.Mutex
	keys [][32]byte // newest first
	stop chan struct{}
	once sync.Once
}

func newTicketKeys() *ticketKeys {
	t := &ticketKeys{holder: &tls.Config{}, stop: make(chan struct{})}
	t.rotate()
	go t.run()
	return t
}

func (t *ticketKeys) run() {
	tick := time.NewTicker(TicketKeyRotation)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			t.rotate()
		case <-t.stop:
			return
		}
	}
}

// rotate puts a new random key first and drops the oldest beyond
// TicketKeysKept.
func (t *ticketKeys) rotate() {
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		return // crypto/rand does not fail on Linux; keep the old keys
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.keys = append([][32]byte{k}, t.keys...)
	if len(t.keys) > TicketKeysKept {
		t.keys = t.keys[:TicketKeysKept]
	}
	t.holder.SetSessionTicketKeys(slices.Clone(t.keys))
}

func (t *ticketKeys) close() { t.once.Do(func() { close(t.stop) }) }

// apply makes cfg encrypt and decrypt its tickets with the rotating keys.
func (t *ticketKeys) apply(cfg *tls.Config) {
	cfg.WrapSession = t.holder.EncryptTicket
	cfg.UnwrapSession = t.holder.DecryptTicket
}
