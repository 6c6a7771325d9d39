package proxy

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
)

// The zone's long-lived exchanges (internal/cutoff): WebSocket and other
// upgraded tunnels, responses streamed from an origin, and every request
// on the http.Transport path. CutExchanges ends them when a compliance
// decision stops the zone; RetireExchanges when a reload removed it.

// errCutOff is the error of an exchange ended by CutExchanges or
// RetireExchanges.
var errCutOff = errors.New("ended: the zone is no longer served (compliance decision or reload)")

// cutErr is the error of an exchange that was cut off: 503 before the
// response head (answered false), an aborted client connection after it.
func cutErr(answered bool) *Error {
	return &Error{Source: SourceInternal, Status: http.StatusServiceUnavailable, Op: "proxying", Err: errCutOff, answered: answered}
}

// CutExchanges ends the zone's open tunnels and streaming responses at
// once (their client connections are aborted) and returns how many it
// ended. New requests are admitted as Options.Admit says.
func (p *Proxy) CutExchanges() int { return p.exchanges.Cut() }

// RetireExchanges ends the zone's open tunnels and streaming responses
// and every one started later, for a proxy whose zone a reload removed.
func (p *Proxy) RetireExchanges() int { return p.exchanges.Retire() }

// OpenExchanges returns how many tunnels and streaming responses are
// registered now.
func (p *Proxy) OpenExchanges() int { return p.exchanges.Len() }

// EndExchange ends a streaming response on the lean path: the blocked
// read of the origin connection fails at once, and so does a write to a
// client that stopped reading (abortClient).
func (c *originConn) EndExchange() {
	c.nc.SetDeadline(aLongTimeAgo)
	if c.cw != nil {
		abortClient(c.cw)
	}
}

// abortClient makes a write to the client that is blocked (a client that
// stopped reading a slow download) fail at once, from any goroutine:
// internal/h1's connection is closed (its CloseConn), net/http's HTTP/1.1
// and HTTP/2 writers get a write deadline in the past (which resets an
// HTTP/2 stream). It runs while the handler is still in the proxy (the
// exchange is registered), so the writer chain is intact.
func abortClient(w http.ResponseWriter) {
	for cw := w; ; {
		if a, ok := cw.(interface{ CloseConn() error }); ok {
			a.CloseConn()
			return
		}
		u, ok := cw.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		cw = u.Unwrap()
	}
	http.NewResponseController(w).SetWriteDeadline(aLongTimeAgo)
}

// transportExchange is one request on the http.Transport path (https
// origins and upgrades): ending it cancels the request's context, which
// makes httputil.ReverseProxy stop the response copy or close the
// upgraded origin connection, and closes the hijacked client connection
// of an upgrade, whose relay may be blocked writing to the client.
type transportExchange struct {
	cancel context.CancelFunc
	w      http.ResponseWriter // the client's, aborted when ended
	mu     sync.Mutex
	conn   net.Conn
	ended  bool
}

func (t *transportExchange) EndExchange() {
	t.cancel()
	t.mu.Lock()
	t.ended = true
	c := t.conn
	t.mu.Unlock()
	if c != nil {
		c.Close()
		return
	}
	abortClient(t.w)
}

// hijacked records the client connection of an upgrade.
func (t *transportExchange) hijacked(c net.Conn) {
	t.mu.Lock()
	t.conn = c
	ended := t.ended
	t.mu.Unlock()
	if ended {
		c.Close()
	}
}

// hijackRecorder is the ResponseWriter an upgrade is proxied through: it
// hands its Hijack to the transportExchange.
type hijackRecorder struct {
	http.ResponseWriter
	t *transportExchange
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err == nil {
		h.t.hijacked(c)
	}
	return c, brw, err
}

// Unwrap lets http.ResponseController reach the wrapped writer (Flush,
// deadlines).
func (h *hijackRecorder) Unwrap() http.ResponseWriter { return h.ResponseWriter }
