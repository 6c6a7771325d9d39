// Package ratelimit limits request rates with GCRA, the generic cell rate
// algorithm, in process (Local) or shared between edge nodes through Redis
// (Redis), with a Fallback that keeps limiting locally while Redis is down.
//
// GCRA keeps one number per key, the theoretical arrival time (TAT). For a
// Limit of Requests per Per with Burst, the emission interval is
// T = Per/Requests and the burst tolerance is tau = T*Burst. A request
// arriving at now is allowed when now >= TAT - tau, and then
// TAT = max(now, TAT) + T; a refused request leaves TAT unchanged and may
// retry after TAT - tau - now. A fresh key therefore admits Burst+1
// requests at once (Burst is the excess over the steady rate, as nginx's
// limit_req burst is), then one request every T.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Limit is one rate: Requests per Per, with Burst extra requests allowed
// at once. Requests and Per must be positive; Burst must not be negative.
type Limit struct {
	Requests int
	Per      time.Duration
	Burst    int
}

// Validate reports a Limit that cannot be enforced.
func (l Limit) Validate() error {
	switch {
	case l.Requests <= 0:
		return fmt.Errorf("checking limit: requests must be positive, got %d", l.Requests)
	case l.Per <= 0:
		return fmt.Errorf("checking limit: per must be positive, got %s", l.Per)
	case l.Burst < 0:
		return fmt.Errorf("checking limit: burst must not be negative, got %d", l.Burst)
	case l.Per/time.Duration(l.Requests) <= 0:
		return fmt.Errorf("checking limit: %d requests per %s is finer than 1ns", l.Requests, l.Per)
	}
	return nil
}

// interval returns the emission interval T and the burst tolerance tau.
func (l Limit) interval() (t, tau time.Duration) {
	t = l.Per / time.Duration(l.Requests)
	return t, t * time.Duration(l.Burst)
}

// Result is the outcome of one Allow.
type Result struct {
	// Allowed is true when the request is within every limit.
	Allowed bool
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// RetryAfter is how long a refused client must wait before its next
	// request can be allowed (0 when Allowed). It is exact; use
	// RetryAfterSeconds for the Retry-After header.
	RetryAfter time.Duration
	// ResetAfter is how long until the key is back to its fresh state.
	ResetAfter time.Duration
}

// Limiter decides whether the request identified by key is within its
// limits. Implementations are safe for concurrent use.
type Limiter interface {
	// Allow checks and, when allowed, counts one request against l.
	Allow(ctx context.Context, key string, l Limit) (Result, error)
	// AllowAll checks one request against every limit in limits at once:
	// it is allowed only if all allow it, and then it is counted against
	// all of them; a refused request is counted against none. limits must
	// not be empty.
	AllowAll(ctx context.Context, key string, limits []Limit) (Result, error)
}

// ErrNoLimits is returned by AllowAll for an empty limit list.
var ErrNoLimits = errors.New("no limits given")

// decide applies GCRA to one limit. tat is the stored theoretical arrival
// time (or now for an unknown key), in the same unit as now, t and tau. It
// returns the result and the TAT to store if the request is allowed.
func decide(now, tat, t, tau int64) (r Result, newTAT int64) {
	if now < tat-tau {
		return Result{
			RetryAfter: time.Duration(tat - tau - now),
			ResetAfter: time.Duration(tat - now),
		}, tat
	}
	newTAT = max(now, tat) + t
	r = Result{Allowed: true, ResetAfter: time.Duration(newTAT - now)}
	if allowAt := newTAT - tau; now >= allowAt {
		r.Remaining = int((now-allowAt)/t) + 1
	}
	return r, newTAT
}

// merge combines the result of one more limit into a multi-limit result.
func merge(acc, r Result, first bool) Result {
	if first {
		return r
	}
	acc.Allowed = acc.Allowed && r.Allowed
	acc.Remaining = min(acc.Remaining, r.Remaining)
	acc.RetryAfter = max(acc.RetryAfter, r.RetryAfter)
	acc.ResetAfter = max(acc.ResetAfter, r.ResetAfter)
	return acc
}

// RetryAfterSeconds rounds d up to whole seconds, as the Retry-After
// header (RFC 9110, section 10.2.3) needs: a client told to wait 0 s after
// a refusal would retry at once, so any positive d gives at least 1.
func RetryAfterSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// WriteTooMany answers a refused request with 429 Too Many Requests, the
// Retry-After header (whole seconds, at least 1) and Cache-Control:
// no-store so that no cache keeps the refusal. The body names requestID,
// as the edge's other answers do.
func WriteTooMany(w http.ResponseWriter, r Result, requestID string) {
	h := w.Header()
	h.Set("Retry-After", strconv.Itoa(max(1, RetryAfterSeconds(r.RetryAfter))))
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = io.WriteString(w, "429 Too Many Requests: rate limit exceeded\nrequest id: "+requestID+"\n")
}

var errTooManyLimits = fmt.Errorf("checking limits: more than %d limits in one rule", maxLimits)
