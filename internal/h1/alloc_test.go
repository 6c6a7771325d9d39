package h1

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/rampart-edge/rampart/internal/benchnet"
)

// TestKeepAliveAllocs counts the allocations of a keep-alive GET answered
// with 1 KiB, server and client together (the client allocates nothing):
// with ReuseRequestHeader, the Request (with its URL, context and header
// slices) and the head's string; without, the header map's two more.
func TestKeepAliveAllocs(t *testing.T) {
	if testing.Short() || raceOn {
		t.Skip("counts allocations over a loopback connection")
	}
	body := make([]byte, 1024)
	tests := []struct {
		reuse bool
		max   float64
	}{
		{reuse: true, max: 2},
		{reuse: false, max: 4},
	}
	for _, tt := range tests {
		s := &Server{ReuseRequestHeader: tt.reuse, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h["Content-Type"] = plainType
			if r.Header.Get("Accept") != "*/*" || r.URL.Path != "/1k" || r.Context().Err() != nil {
				h["X-Bad"] = plainType
			}
			w.Write(body)
		})}
		get := benchnet.KeepAliveGet(t, testServer(t, s), []byte("GET /1k HTTP/1.1\r\nHost: alloc.test\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n"))
		get()
		n := testing.AllocsPerRun(300, get)
		t.Logf("ReuseRequestHeader %v: %v allocations per request", tt.reuse, n)
		if n > tt.max {
			t.Errorf("ReuseRequestHeader %v: %v allocations per request, want at most %v", tt.reuse, n, tt.max)
		}
	}
}

var plainType = []string{"text/plain"}

// TestRequestHeaderReuse checks that a connection's requests share one
// header map, and that no field of a request is seen by the next.
func TestRequestHeaderReuse(t *testing.T) {
	var mu sync.Mutex
	var maps []unsafe.Pointer
	var copies []http.Header
	s := &Server{ReuseRequestHeader: true, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		maps = append(maps, reflect.ValueOf(r.Header).UnsafePointer())
		copies = append(copies, r.Header.Clone())
		mu.Unlock()
		w.Header().Set("X-Resp", r.URL.Path)
		w.Write([]byte("ok"))
	})}
	c := dial(t, testServer(t, s))
	c.send("GET /a HTTP/1.1\r\nHost: x\r\nX-First: 1\r\nCookie: c=1\r\n\r\n")
	resp, _ := c.read("GET")
	if resp.Header.Get("X-Resp") != "/a" {
		t.Fatalf("first response %v", resp.Header)
	}
	c.send("GET /b HTTP/1.1\r\nHost: x\r\nX-Second: 2\r\n\r\n")
	resp, _ = c.read("GET")
	if resp.Header.Get("X-Resp") != "/b" || len(resp.Header["X-Resp"]) != 1 {
		t.Fatalf("second response %v", resp.Header)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(copies) != 2 || len(copies[0]) != 2 || copies[0].Get("X-First") != "1" {
		t.Fatalf("first request's header %v", copies)
	}
	if len(copies[1]) != 1 || copies[1].Get("X-Second") != "2" {
		t.Fatalf("second request's header %v: a field of the first leaked", copies[1])
	}
	if maps[0] != maps[1] {
		t.Errorf("the two requests had different maps")
	}
}

// TestRequestContext checks h1's own request context: Err and Done before
// and after the request ends, AfterFunc (run once cancelled, or stopped
// before), and contexts derived with context.WithCancel (cancelled with
// it, without a goroutine of the context package).
func TestRequestContext(t *testing.T) {
	type result struct {
		errIn     error
		doneIn    bool
		derived   context.Context
		cancel    context.CancelFunc
		afterRan  chan struct{}
		stopped   bool
		stoppedOK bool
		ctx       context.Context
	}
	res := make(chan *result, 1)
	s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		out := &result{errIn: ctx.Err(), ctx: ctx, afterRan: make(chan struct{})}
		select {
		case <-ctx.Done():
			out.doneIn = true
		default:
		}
		before := runtime.NumGoroutine()
		out.derived, out.cancel = context.WithCancel(ctx)
		if n := runtime.NumGoroutine(); n > before {
			t.Errorf("WithCancel of the request context started %d goroutines", n-before)
		}
		context.AfterFunc(ctx, func() { close(out.afterRan) })
		stop := context.AfterFunc(ctx, func() { t.Error("a stopped AfterFunc ran") })
		out.stopped = stop()
		out.stoppedOK = !stop()
		if v := ctx.Value(http.LocalAddrContextKey); v == nil {
			t.Error("no local address in the request context")
		}
		res <- out
		w.Write([]byte("ok"))
	})}
	c := dial(t, testServer(t, s))
	c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.read("GET")
	out := <-res
	if out.errIn != nil || out.doneIn {
		t.Fatalf("in the handler: Err %v, done %v", out.errIn, out.doneIn)
	}
	if !out.stopped || !out.stoppedOK {
		t.Errorf("stop: %v then %v", out.stopped, !out.stoppedOK)
	}
	select {
	case <-out.afterRan:
	case <-time.After(5 * time.Second):
		t.Fatal("AfterFunc did not run after the request ended")
	}
	select {
	case <-out.ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the request context's Done is open after the request")
	}
	if !errors.Is(out.ctx.Err(), context.Canceled) || !errors.Is(out.derived.Err(), context.Canceled) {
		t.Fatalf("after the request: Err %v, derived %v", out.ctx.Err(), out.derived.Err())
	}
	out.cancel()
	if context.Cause(out.ctx) != context.Canceled {
		t.Errorf("Cause %v", context.Cause(out.ctx))
	}
	// A function registered after the cancel runs too.
	late := make(chan struct{})
	context.AfterFunc(out.ctx, func() { close(late) })
	select {
	case <-late:
	case <-time.After(5 * time.Second):
		t.Fatal("AfterFunc on a cancelled context did not run")
	}
}

// TestRequestContextCancellableBase checks that requests under a base
// context that can be cancelled are cancelled with it, and that a
// NewRequest hook's values are seen there too.
func TestRequestContextCancellableBase(t *testing.T) {
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	entered := make(chan context.Context, 1)
	s := &Server{
		BaseContext: base,
		NewRequest: func() *Request {
			rq := &Request{}
			rq.SetContextValues(testValues{})
			return rq
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			entered <- r.Context()
			<-r.Context().Done()
		}),
	}
	c := dial(t, testServer(t, s))
	c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	ctx := <-entered
	if ctx.Value(testKey{}) != "hook" {
		t.Errorf("hook value %v", ctx.Value(testKey{}))
	}
	cancelBase()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the base did not cancel the request")
	}
}

type testKey struct{}

type testValues struct{}

func (testValues) ContextValue(k any) (any, bool) {
	if _, ok := k.(testKey); ok {
		return "hook", true
	}
	return nil, false
}
