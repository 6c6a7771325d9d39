package challenge

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisSpent is a SharedSpent on Redis (cluster.redis): one key per spent
// challenge, set with SET NX and an expiry at the challenge's own, so a
// solution verified on one node is refused on every other and Redis
// forgets it when it could no longer be used anyway.
type RedisSpent struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
}

// NewRedisSpent returns a RedisSpent on client. Keys are
// "rampart:challenge:spent:" and the challenge id in hex. Each call waits
// at most 250ms for Redis.
func NewRedisSpent(client redis.UniversalClient) *RedisSpent {
	return &RedisSpent{client: client, prefix: "rampart:challenge:spent:", timeout: 250 * time.Millisecond}
}

// Spend records id for ttl with SET NX PX and reports whether it was not
// there before.
func (s *RedisSpent) Spend(ctx context.Context, id [16]byte, ttl time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	first, err := s.client.SetNX(ctx, s.prefix+hex.EncodeToString(id[:]), "1", max(ttl, time.Millisecond)).Result()
	if err != nil {
		return false, fmt.Errorf("recording a spent challenge in redis: %w", err)
	}
	return first, nil
}
