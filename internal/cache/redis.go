package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// purgeChannel is the Redis pub/sub channel purges travel on.
const purgeChannel = "rampart:cache:purge"

// bus shares purges between nodes through Redis pub/sub. Delivery is at
// most once: a node that is disconnected when a purge is published misses
// it (its entries then live out their freshness), which is why purges are
// also applied locally before they are published.
type bus struct {
	node   string
	client *redis.Client
	ps     *redis.PubSub
	store  *Store
	cancel context.CancelFunc
	done   chan struct{}
}

type purgeMessage struct {
	Node  string       `json:"node"`
	Zone  string       `json:"zone"`
	Purge PurgeRequest `json:"purge"`
}

func newBus(rawURL string, s *Store) (*bus, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parsing cluster.redis: %w", err)
	}
	var id [8]byte
	rand.Read(id[:])
	b := &bus{node: hex.EncodeToString(id[:]), client: redis.NewClient(opt), store: s, done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b.ps = b.client.Subscribe(ctx, purgeChannel)
	if _, err := b.ps.Receive(ctx); err != nil {
		b.ps.Close()
		b.client.Close()
		return nil, fmt.Errorf("subscribing to cache purges on Redis: %w", err)
	}
	rctx, rcancel := context.WithCancel(context.Background())
	b.cancel = rcancel
	go b.run(rctx)
	return b, nil
}

func (b *bus) run(ctx context.Context) {
	defer close(b.done)
	ch := b.ps.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-ch:
			if !ok {
				return
			}
			var m purgeMessage
			if err := json.Unmarshal([]byte(msg.Payload), &m); err != nil {
				b.store.log.Warn("ignoring a malformed cache purge from Redis", "error", err)
				continue
			}
			if m.Node == b.node {
				continue // applied locally before it was published
			}
			n := b.store.purgeLocal(m.Zone, m.Purge)
			b.store.log.Debug("cache purge from another node", "zone", m.Zone, "node", m.Node, "removed", n)
		}
	}
}

func (b *bus) publish(zone string, p PurgeRequest) error {
	data, err := json.Marshal(purgeMessage{Node: b.node, Zone: zone, Purge: p})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return b.client.Publish(ctx, purgeChannel, data).Err()
}

func (b *bus) close() {
	b.cancel()
	b.ps.Close()
	<-b.done
	b.client.Close()
}
