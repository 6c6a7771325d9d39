package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisOptions configure a Redis limiter.
type RedisOptions struct {
	// Prefix starts every key (default "rampart:rl:"), so that limits can
	// share a Redis with other data and tests can keep apart.
	Prefix string
	// Now, when set, is the clock sent with each call. By default the
	// script reads the Redis server's clock (TIME), so that nodes whose
	// clocks disagree still share one timeline.
	Now func() time.Time
}

// Redis is a GCRA limiter whose state lives in Redis, so that several edge
// nodes enforce one shared limit. Each call is one Lua script (atomic, one
// round trip; EVALSHA, falling back to EVAL once after a server restart).
// Times are kept in microseconds, so an emission interval is truncated to
// whole microseconds; otherwise the decisions are the same as Local's.
// Keys expire from Redis when their state is back to fresh. It is safe for
// concurrent use.
type Redis struct {
	client redis.UniversalClient
	prefix string
	now    func() time.Time
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a Redis limiter using client. The client's dial, read
// and write timeouts bound how long a request waits for a decision when
// Redis is slow; keep them short (around 100 ms) and wrap the limiter in
// NewFallback.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	if opts.Prefix == "" {
		opts.Prefix = "rampart:rl:"
	}
	return &Redis{client: client, prefix: opts.Prefix, now: opts.Now}
}

// gcraScript implements GCRA over one or more limits of one key. KEYS are
// the per-limit state keys; ARGV[1] is now in microseconds or -1 for the
// server clock, then T and tau in microseconds for each key. The request
// is counted only if every limit allows it. It returns allowed (0/1),
// remaining, retry-after and reset-after in microseconds.
var gcraScript = redis.NewScript(`
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local allowed, remaining, retry, reset = 1, -1, 0, 0
local tats = {}
for i = 1, #KEYS do
  local t = tonumber(ARGV[2 * i])
  local tau = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if now < tat - tau then
    allowed = 0
    retry = math.max(retry, tat - tau - now)
    reset = math.max(reset, tat - now)
  else
    local newtat = math.max(now, tat) + t
    tats[i] = newtat
    reset = math.max(reset, newtat - now)
    local rem = 0
    if now >= newtat - tau then
      rem = math.floor((now - (newtat - tau)) / t) + 1
    end
    if remaining < 0 or rem < remaining then remaining = rem end
  end
end
if allowed == 1 then
  for i = 1, #KEYS do
    local ttl = math.ceil((tats[i] - now) / 1000)
    redis.call('SET', KEYS[i], string.format('%d', tats[i]), 'PX', math.max(1, ttl))
  end
else
  remaining = 0
end
return {allowed, remaining, retry, reset}
`)

// Allow checks and counts one request for key against lim.
func (r *Redis) Allow(ctx context.Context, key string, lim Limit) (Result, error) {
	return r.AllowAll(ctx, key, []Limit{lim})
}

// AllowAll checks one request for key against every limit at once, see
// Limiter. All the limits of one key hash to one Redis Cluster slot.
func (r *Redis) AllowAll(ctx context.Context, key string, limits []Limit) (Result, error) {
	if len(limits) == 0 {
		return Result{}, ErrNoLimits
	}
	keys := make([]string, len(limits))
	args := make([]any, 1, 1+2*len(limits))
	args[0] = int64(-1)
	if r.now != nil {
		args[0] = r.now().UnixMicro()
	}
	for i, lim := range limits {
		if err := validateRedis(lim); err != nil {
			return Result{}, err
		}
		t, tau := lim.interval()
		tu, tauu := t.Microseconds(), tau.Microseconds()
		keys[i] = r.prefix + "{" + key + "}:" + strconv.FormatInt(tu, 10) + ":" + strconv.FormatInt(tauu, 10)
		args = append(args, tu, tauu)
	}
	v, err := gcraScript.Run(ctx, r.client, keys, args...).Int64Slice()
	if err != nil {
		return Result{}, fmt.Errorf("running gcra script on redis: %w", err)
	}
	if len(v) != 4 {
		return Result{}, fmt.Errorf("running gcra script on redis: got %d values, want 4", len(v))
	}
	return Result{
		Allowed:    v[0] == 1,
		Remaining:  int(v[1]),
		RetryAfter: time.Duration(v[2]) * time.Microsecond,
		ResetAfter: time.Duration(v[3]) * time.Microsecond,
	}, nil
}

// validateRedis is Limit.Validate plus the 1µs resolution Redis keeps.
func validateRedis(lim Limit) error {
	if err := lim.Validate(); err != nil {
		return err
	}
	if t, _ := lim.interval(); t < time.Microsecond {
		return fmt.Errorf("checking limit: %d requests per %s is finer than the 1µs Redis keeps", lim.Requests, lim.Per)
	}
	return nil
}

// ClientOptions returns go-redis options for the limiter from a
// cluster.redis URL ("redis://127.0.0.1:6379/0", "rediss://..." for TLS,
// "unix:///run/redis.sock"). The timeouts are short (dial 250ms, read and
// write 100ms) and retries off, since every request waits for the limiter
// and the Fallback handles a failure better than a retry; a URL that sets
// them itself (dial_timeout=..., read_timeout=..., max_retries=...) keeps
// its own.
func ClientOptions(url string) (*redis.Options, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parsing redis url: %w", err)
	}
	has := func(name string) bool { return strings.Contains(url, name+"=") }
	if !has("dial_timeout") {
		o.DialTimeout = 250 * time.Millisecond
	}
	if !has("read_timeout") {
		o.ReadTimeout = 100 * time.Millisecond
	}
	if !has("write_timeout") {
		o.WriteTimeout = 100 * time.Millisecond
	}
	if !has("max_retries") {
		o.MaxRetries = -1
	}
	return o, nil
}
