package h1

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Request is the one allocation of a request on the fast path: the
// *http.Request, its URL, its context and the backing array of the first
// header value slices. It is never reused: a handler may keep any of it.
// A Server's NewRequest hook allocates it inside a larger struct holding
// the handler's own per-request state, which SetContextValues makes
// visible in the request's context.
type Request struct {
	r    http.Request
	u    url.URL
	ctx  reqContext
	strs [8]string
	// cancel is the request's context's when Begin's base can be
	// cancelled.
	cancel context.CancelFunc
}

// ContextValuer answers a request context's Value for the keys it knows,
// before the context's parent is asked.
type ContextValuer interface {
	ContextValue(key any) (any, bool)
}

// SetContextValues makes v answer the Value of the request's context
// first. Call it in the NewRequest hook.
func (rq *Request) SetContextValues(v ContextValuer) { rq.ctx.vals = v }

// valuesContext adds a ContextValuer to a context (when the request's
// context is context.WithCancel's).
type valuesContext struct {
	context.Context
	vals ContextValuer
}

func (c *valuesContext) Value(k any) any {
	if v, ok := c.vals.ContextValue(k); ok {
		return v
	}
	return c.Context.Value(k)
}

// reqContext is a request's context when the server's base context cannot
// be cancelled (the usual case): context.WithCancel without its two
// allocations. Its Done channel is made on first use (the proxy's waits
// only poll Err), and it implements the context package's AfterFunc hook,
// so contexts derived from it need no goroutine.
type reqContext struct {
	context.Context // the parent: values and deadline
	vals            ContextValuer

	canceled atomic.Bool
	mu       sync.Mutex
	done     chan struct{}
	afters   []afterFunc
	nextID   uint64
}

type afterFunc struct {
	id uint64
	f  func()
}

// closedDone is the Done channel of contexts cancelled before anyone asked
// for it.
var closedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (c *reqContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.canceled.Load() {
			c.done = closedDone
		} else {
			c.done = make(chan struct{})
		}
	}
	return c.done
}

func (c *reqContext) Err() error {
	if c.canceled.Load() {
		return context.Canceled
	}
	return nil
}

func (c *reqContext) String() string { return "h1.requestContext" }

func (c *reqContext) Value(k any) any {
	if c.vals != nil {
		if v, ok := c.vals.ContextValue(k); ok {
			return v
		}
	}
	return c.Context.Value(k)
}

// AfterFunc arranges for f to run once c is cancelled (in the goroutine
// that cancels it, or in its own when c is cancelled already); stop
// unregisters it. It is the context package's afterFuncer hook, which
// contexts derived from c use instead of a goroutine each.
func (c *reqContext) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	if c.canceled.Load() {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	c.nextID++
	id := c.nextID
	c.afters = append(c.afters, afterFunc{id, f})
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, a := range c.afters {
			if a.id == id {
				c.afters = append(c.afters[:i], c.afters[i+1:]...)
				return true
			}
		}
		return false
	}
}

// cancel cancels c (once): Err turns context.Canceled, Done closes and
// the AfterFunc functions run.
func (c *reqContext) cancel() {
	if c.canceled.Load() {
		return
	}
	c.mu.Lock()
	if c.canceled.Load() {
		c.mu.Unlock()
		return
	}
	c.canceled.Store(true)
	if c.done != nil {
		close(c.done)
	}
	afters := c.afters
	c.afters = nil
	c.mu.Unlock()
	// As a cancelCtx cancels its children: at once, in this goroutine.
	// The functions are the context package's (propagateCancel's child
	// cancel; context.AfterFunc starts the user's function in its own
	// goroutine).
	for _, a := range afters {
		a.f()
	}
}

// requestCtxOffset is the offset of http.Request's unexported ctx field,
// or -1 when this Go's Request has no such field of type context.Context
// (then requests are made with WithContext, one more allocation).
var requestCtxOffset = func() uintptr {
	f, ok := reflect.TypeFor[http.Request]().FieldByName("ctx")
	if !ok || f.Type != reflect.TypeFor[context.Context]() {
		return ^uintptr(0)
	}
	return f.Offset
}()

// newRequest returns rq's request with context ctx.
func (rq *Request) newRequest(ctx context.Context) *http.Request {
	if requestCtxOffset == ^uintptr(0) {
		return emptyRequest.WithContext(ctx)
	}
	*(*context.Context)(unsafe.Add(unsafe.Pointer(&rq.r), requestCtxOffset)) = ctx
	return &rq.r
}

// Begin makes rq's request for a server other than h1's (internal/h2
// serves HTTP/2 with the same Request, so a handler's NewRequest hook
// serves both): its context is a child of base, with rq's context values
// (SetContextValues) and then requestContext's (when not nil) applied
// as h1 applies them, cancelled by End. The caller fills the request;
// its URL points at rq's own (zero) URL.
func (rq *Request) Begin(base context.Context, requestContext func(context.Context) context.Context) *http.Request {
	var ctx context.Context
	if base.Done() != nil {
		ctx, rq.cancel = context.WithCancel(base)
		if rq.ctx.vals != nil {
			ctx = &valuesContext{ctx, rq.ctx.vals}
		}
	} else {
		rq.ctx.Context = base
		ctx = &rq.ctx
	}
	if requestContext != nil {
		ctx = requestContext(ctx)
	}
	r := rq.newRequest(ctx)
	r.URL = &rq.u
	return r
}

// End cancels the context of a request made with Begin.
func (rq *Request) End() {
	if rq.cancel != nil {
		rq.cancel()
	} else {
		rq.ctx.cancel()
	}
}

// ValueSlots is backing store for a request's first header values
// (a []string of capacity 1 each, sliced off it), part of rq's one
// allocation.
func (rq *Request) ValueSlots() []string { return rq.strs[:] }

// ParseTarget parses a request target as net/http's servers do
// (url.ParseRequestURI; CONNECT's authority form) and returns its URL:
// u itself (when not nil) for a plain origin-form path, h1's fast path,
// a new URL otherwise.
func ParseTarget(method, target string, u *url.URL) (*url.URL, error) {
	return parseTarget(method, target, u)
}

// InternMethod returns net/http's constant for a common method (so that a
// request's Method shares its string), m itself otherwise.
func InternMethod(m string) string { return internMethod(m) }
