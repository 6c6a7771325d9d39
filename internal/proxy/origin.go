package proxy

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rampart-edge/rampart/internal/cutoff"
)

// maxIdlePerOrigin bounds the idle keep-alive connections kept per origin.
const maxIdlePerOrigin = 1024

// origin is one upstream server of a zone with its health state and its
// pool of idle keep-alive connections.
type origin struct {
	url      *url.URL
	raw      string // URL as configured, for logs and metrics
	addr     string // host:port to dial
	host     string // host[:port] for the Host header when not preserved
	prefix   string // path prefix of the origin URL ("" for none or "/")
	https    bool
	hash     uint64                                // stable hash of raw, for ip_hash
	rp       atomic.Pointer[httputil.ReverseProxy] // built on first use (Proxy.reverseProxy)
	idleTime time.Duration

	// healthy is the active health-check state (true until checks say
	// otherwise).
	healthy atomic.Bool
	// ejectedUntil is the UnixNano time until which a passive ejection
	// lasts (0 when not ejected).
	ejectedUntil atomic.Int64
	// fails counts consecutive proxy failures for passive ejection.
	fails  atomic.Int32
	active atomic.Int64
	// checkedAt is the UnixNano time of the last active check (0: none);
	// checkErr its error (nil: it passed).
	checkedAt atomic.Int64
	checkErr  atomic.Pointer[string]

	owner *Proxy

	mu   sync.Mutex
	idle []*originConn
}

// originConn is a keep-alive HTTP/1.1 connection to an origin, with its
// buffered reader and writer. It is used by one request at a time.
type originConn struct {
	nc     net.Conn
	br     *bufio.Reader // nil between responses (connbuf.go)
	bw     *bufio.Writer // nil between requests
	rc     syscall.RawConn
	wait   func(uintptr) bool // c.rc.Read's function: see initWait
	waited bool
	peek   [1]byte
	idleAt time.Time
	reused bool
	// headerDeadline is the read deadline serveLean last set on nc for a
	// response-header timeout, zero when it cleared it or does not know
	// it (see setHeaderDeadline).
	headerDeadline time.Time

	// x registers a streaming response in the zone's cutoff.Set
	// (exchange.go).
	x  cutoff.Exchange
	cw http.ResponseWriter // the client's while x is registered

	// Set while a request waits on the connection (see waitSet).
	waitCtx context.Context
	waitIdx int
	fired   bool

	// last is the previous response head's values (readHead).
	last headValues
}

// waitSet holds the connections whose requests wait for an origin, so that
// a client that goes away interrupts the wait. A watcher polls their
// contexts every watchEvery instead of registering a context.AfterFunc per
// request, which cost about 1.5 µs (6%) of a proxied request here.
type waitSet struct {
	mu      sync.Mutex
	conns   []*originConn
	watched bool // on the scheduler's watch list
}

// watchEvery is how often waits are checked for cancelled clients.
const watchEvery = 100 * time.Millisecond

// add registers c as waiting on behalf of ctx. It reports whether the set
// must be handed to the scheduler's watch: it was not watched and watch
// is true (the proxy is started).
func (s *waitSet) add(c *originConn, ctx context.Context, watch bool) bool {
	s.mu.Lock()
	c.waitCtx, c.waitIdx, c.fired = ctx, len(s.conns), false
	s.conns = append(s.conns, c)
	watch = watch && !s.watched
	if watch {
		s.watched = true
	}
	s.mu.Unlock()
	return watch
}

// remove unregisters c and reports whether its wait was interrupted
// because the client went away (c's deadline is then in the past).
func (s *waitSet) remove(c *originConn) bool {
	s.mu.Lock()
	last := len(s.conns) - 1
	moved := s.conns[last]
	s.conns[c.waitIdx] = moved
	moved.waitIdx = c.waitIdx
	s.conns[last] = nil
	s.conns = s.conns[:last]
	fired := c.fired
	c.waitCtx = nil
	s.mu.Unlock()
	return fired
}

// interrupt moves the deadline of every waiting connection whose client is
// gone to the past, which ends its blocked read or write. It reports
// whether the set must stay watched (it has waits); when not, the next
// add hands it to the watch again.
func (s *waitSet) interrupt() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		if !c.fired && c.waitCtx.Err() != nil {
			c.fired = true
			c.nc.SetDeadline(aLongTimeAgo)
		}
	}
	s.watched = len(s.conns) > 0
	return s.watched
}

// available reports whether o may be picked: healthy by active checks and
// not passively ejected.
func (o *origin) available() bool {
	if !o.healthy.Load() {
		return false
	}
	until := o.ejectedUntil.Load()
	return until == 0 || time.Now().UnixNano() >= until
}

// getIdle returns a pooled connection that has not been idle longer than
// the idle timeout, or nil.
func (o *origin) getIdle() *originConn {
	o.mu.Lock()
	for n := len(o.idle); n > 0; n = len(o.idle) {
		c := o.idle[n-1]
		o.idle[n-1] = nil
		o.idle = o.idle[:n-1]
		if o.idleTime > 0 && time.Since(c.idleAt) > o.idleTime {
			o.mu.Unlock()
			c.nc.Close()
			o.mu.Lock()
			continue
		}
		o.mu.Unlock()
		c.reused = true
		return c
	}
	o.mu.Unlock()
	return nil
}

// putIdle returns c to the pool, or closes it when the pool is full.
func (o *origin) putIdle(c *originConn) {
	c.idleAt = time.Now()
	o.mu.Lock()
	if len(o.idle) < maxIdlePerOrigin {
		o.idle = append(o.idle, c)
		o.mu.Unlock()
		if o.owner != nil {
			o.owner.armReap()
		}
		return
	}
	o.mu.Unlock()
	c.nc.Close()
}

// closeIdle closes idle connections older than the idle timeout, or all of
// them when all is true.
func (o *origin) closeIdle(all bool) {
	o.mu.Lock()
	var stale []*originConn
	keep := o.idle[:0]
	for _, c := range o.idle {
		if all || (o.idleTime > 0 && time.Since(c.idleAt) > o.idleTime) {
			stale = append(stale, c)
		} else {
			keep = append(keep, c)
		}
	}
	for i := len(keep); i < len(o.idle); i++ {
		o.idle[i] = nil
	}
	o.idle = keep
	o.mu.Unlock()
	for _, c := range stale {
		c.nc.Close()
	}
}
