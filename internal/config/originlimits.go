package config

import "time"

// OriginLimits protects a zone's origins from more concurrent work than
// they can take, as HAProxy's maxconn and queue do: at most MaxConns
// requests are in flight to the zone's origins together; beyond that a
// request waits in a queue of at most Queue requests, for at most
// QueueTimeout. A full queue answers 503 with Retry-After at once, and so
// does a request that waited QueueTimeout. Requests whose client holds a
// valid clearance cookie or is exempt from the challenge go first, and
// take the place of the newest other waiter when the queue is full.
// WebSocket upgrades are not counted. MaxConns 0 (the default) turns the
// limit off.
type OriginLimits struct {
	// MaxConns is the most requests in flight to the zone's origins
	// together (0: no limit). Set it to what the origins can serve at
	// once (their worker or thread count).
	MaxConns int `yaml:"max_conns"`
	// Queue is the most requests waiting for a slot (default 4 x
	// max_conns; 0: none waits).
	Queue int `yaml:"queue"`
	// QueueTimeout is the longest a request waits (default 2s).
	QueueTimeout time.Duration `yaml:"queue_timeout"`
}

// Defaults of origin_limits when max_conns is set.
const (
	DefaultOriginQueueFactor  = 4
	DefaultOriginQueueTimeout = 2 * time.Second
	// MaxOriginConns bounds origin_limits.max_conns and queue.
	MaxOriginConns = 1 << 20
)

// Enabled reports whether the zone limits its origins.
func (o OriginLimits) Enabled() bool { return o.MaxConns > 0 }

// applyDefaults fills queue and queue_timeout when max_conns is set and
// the file (or code, through zeroOr) left them out.
func (o *OriginLimits) applyDefaults(zeroOr func(field string, isZero bool) bool) {
	if o.MaxConns <= 0 {
		return
	}
	if zeroOr("origin_limits.queue", o.Queue == 0) {
		o.Queue = DefaultOriginQueueFactor * o.MaxConns
	}
	if zeroOr("origin_limits.queue_timeout", o.QueueTimeout == 0) {
		o.QueueTimeout = DefaultOriginQueueTimeout
	}
}

// originLimits validates a zone's origin_limits.
func (v *validator) originLimits(prefix string, o *OriginLimits) {
	f := join(prefix, "origin_limits")
	if o.MaxConns < 0 || o.MaxConns > MaxOriginConns {
		v.errorf(f+".max_conns", "must be from 0 (no limit) to %d, got %d", MaxOriginConns, o.MaxConns)
	}
	if o.Queue < 0 || o.Queue > MaxOriginConns {
		v.errorf(f+".queue", "must be from 0 to %d, got %d", MaxOriginConns, o.Queue)
	}
	if o.QueueTimeout < 0 {
		v.errorf(f+".queue_timeout", "must not be negative, got %s", o.QueueTimeout)
	}
	if o.MaxConns == 0 && (o.Queue != 0 || o.QueueTimeout != 0) {
		v.errorf(f+".max_conns", "must be set (at least 1) when queue or queue_timeout is")
	}
	if o.MaxConns > 0 && o.Queue > 0 && o.QueueTimeout == 0 {
		v.errorf(f+".queue_timeout", "must be positive when queue is set")
	}
}
