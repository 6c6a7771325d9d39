package cache

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/reqctx"
)

// The Rampart-Cache values (PRODUCT.md).
const (
	StatusHit         = "HIT"
	StatusMiss        = "MISS"
	StatusExpired     = "EXPIRED"
	StatusStale       = "STALE"
	StatusRevalidated = "REVALIDATED"
	StatusBypass      = "BYPASS"
)

// passTTL is how long a key whose response was not storable skips the
// cache (and request coalescing) before it is tried again.
const passTTL = 30 * time.Second

// Observer receives what the cache did with each request it handled, for
// metrics. bytes is the body bytes served from the cache; saved is true
// when the origin was not asked (a hit, a stale answer, or a request that
// waited for another's fetch).
type Observer interface {
	CacheServed(status string, bytes int64, saved bool)
}

// Zone is one zone's cache. It is the edge's PhaseCache phase: a request
// the cache may serve is answered entirely by the phase, from the store or
// through next (the zone's proxy), whose response it stores on the way
// back; a request the cache must not touch (other methods, bypass rules)
// is passed on with edge.Continue, and the edge sends it to the proxy with
// Rampart-Cache: BYPASS.
//
// Taking the whole request in the phase, rather than wrapping the proxy,
// keeps the edge's fixed phase order meaningful (only requests every
// check admitted reach the cache) while letting the cache see and keep the
// origin's response, coalesce misses and fall back to stale copies.
type Zone struct {
	name  string
	store *Store
	rules *Rules
	next  http.Handler
	obs   Observer
	now   func() time.Time

	mu      sync.Mutex
	flights map[string]*flight // made on the first miss
	varies  *atomic.Bool       // the store's Vary flag of the zone
}

// flight is one origin fetch that concurrent requests for a key wait for.
type flight struct {
	done  chan struct{}
	entry *Entry // what the waiters serve; nil: fetch themselves
	stale bool   // entry is a stale copy served because the origin failed
}

// ZoneOptions configure a Zone.
type ZoneOptions struct {
	// Observer receives per-request outcomes; nil records none.
	Observer Observer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewZone returns the cache of zone name, storing in store under rules,
// and fetching misses through next.
func NewZone(store *Store, name string, rules Rules, next http.Handler, o ZoneOptions) *Zone {
	z := &Zone{name: name, store: store, rules: &rules, next: next, obs: o.Observer, now: o.Now}
	if z.now == nil {
		z.now = time.Now
	}
	z.varies = store.varyFlag(name)
	store.setRules(name, z.rules)
	return z
}

// Purge removes the zone's entries p selects (see Store.Purge).
func (z *Zone) Purge(p PurgeRequest) (int, error) { return z.store.Purge(z.name, p) }

func (z *Zone) observe(status string, bytes int64, saved bool) {
	if z.obs != nil {
		z.obs.CacheServed(status, bytes, saved)
	}
}

func setStatus(w http.ResponseWriter, r *http.Request, status string) {
	w.Header()[edge.CacheHeader] = statusValues[status]
	if info := reqctx.From(r.Context()); info != nil {
		info.CacheStatus = status
	}
}

var statusValues = map[string][]string{
	StatusHit: {StatusHit}, StatusMiss: {StatusMiss}, StatusExpired: {StatusExpired},
	StatusStale: {StatusStale}, StatusRevalidated: {StatusRevalidated}, StatusBypass: {StatusBypass},
}

// keyBufs hold the bytes of the keys Serve builds: a fresh hit looks its
// entry up through a string viewing the buffer, and allocates no key.
var keyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// maxKeyBuf bounds the key buffers kept for reuse.
const maxKeyBuf = 4 << 10

// Serve implements edge.Phase.
func (z *Zone) Serve(w http.ResponseWriter, r *http.Request) edge.Decision {
	if z.rules.bypassRequest(r) != "" {
		z.observe(StatusBypass, 0, false)
		return edge.Continue
	}
	now := z.now()
	loc := z.rules.locate(r)
	// The fast path, a fresh entry in memory: the base key is built in a
	// pooled buffer and looked up through a string viewing it (the
	// memory tier keeps nothing of a key it is asked for), and serve
	// keeps nothing of it either.
	kb := keyBufs.Get().(*[]byte)
	*kb = appendBaseKey((*kb)[:0], z.name, loc)
	view := unsafe.String(unsafe.SliceData(*kb), len(*kb))
	key, varied := z.keyFor(view, r)
	e, ok := z.store.getMem(key)
	if ok && !e.Pass && e.fresh(now) {
		z.serve(w, r, e, StatusHit, now, true)
		putKeyBuf(kb)
		return edge.Handled
	}
	// Every other path keeps its keys (flights, stored entries, a
	// background refresh): they get strings of their own.
	base := strings.Clone(view)
	putKeyBuf(kb)
	if !varied {
		key = base // a varied key is varyKey's new string already
	}
	if !ok {
		e, ok = z.store.getDisk(key)
	}
	if ok && e.Pass {
		if e.age(now) < e.Lifetime {
			z.observe(StatusBypass, 0, false)
			return edge.Continue
		}
		ok = false
	}
	if !ok {
		z.fetch(w, r, key, base, loc, nil, StatusMiss)
		return edge.Handled
	}
	if e.fresh(now) {
		z.serve(w, r, e, StatusHit, now, true)
		return edge.Handled
	}
	if !e.NoCache && !e.MustReval && e.staleFor(now) < e.SWR {
		z.refresh(r, key, base, loc, e)
		z.serve(w, r, e, StatusStale, now, true)
		return edge.Handled
	}
	z.fetch(w, r, key, base, loc, e, StatusExpired)
	return edge.Handled
}

func putKeyBuf(b *[]byte) {
	if cap(*b) <= maxKeyBuf {
		keyBufs.Put(b)
	}
}

// keyFor returns the request's key: base extended by the request headers
// the stored responses of base vary on (varied true: a new string, which
// shares nothing with base).
func (z *Zone) keyFor(base string, r *http.Request) (key string, varied bool) {
	if !z.store.mayVary(z.varies) {
		return base, false
	}
	if spec, ok := z.store.get(base + varySuffix); ok && len(spec.VaryNames) > 0 {
		return varyKey(base, spec.VaryNames, r.Header), true
	}
	return base, false
}

const varySuffix = "\x00vary"

// join returns the flight for key, creating it (leader true) if none runs.
func (z *Zone) join(key string) (*flight, bool) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if f, ok := z.flights[key]; ok {
		return f, false
	}
	f := &flight{done: make(chan struct{})}
	if z.flights == nil {
		z.flights = make(map[string]*flight)
	}
	z.flights[key] = f
	return f, true
}

func (z *Zone) land(key string, f *flight) {
	z.mu.Lock()
	delete(z.flights, key)
	z.mu.Unlock()
	close(f.done)
}

// fetch answers a miss or an expired entry: the first request for a key
// asks the origin, and concurrent ones wait for its result (request
// coalescing), so a slow origin sees one request per key, not a pile.
func (z *Zone) fetch(w http.ResponseWriter, r *http.Request, key, base string, loc location, stale *Entry, status string) {
	f, leader := z.join(key)
	if !leader {
		lock := time.NewTimer(z.rules.lockTimeout())
		select {
		case <-f.done:
			lock.Stop()
		case <-r.Context().Done():
			lock.Stop()
			return
		case <-lock.C:
			// The leader's fetch outlasted the lock (a slow origin, or a
			// leader whose client stopped reading the body the fetch
			// streams to it): ask the origin directly, uncached.
			setStatus(w, r, status)
			z.observe(status, 0, false)
			z.next.ServeHTTP(w, z.originRequest(r, nil, r.Context()))
			return
		}
		if f.entry != nil {
			st := StatusHit
			if f.stale {
				st = StatusStale
			}
			z.serve(w, r, f.entry, st, z.now(), true)
			return
		}
		// The response was not storable: ask the origin directly.
		setStatus(w, r, status)
		z.observe(status, 0, false)
		z.next.ServeHTTP(w, z.originRequest(r, nil, r.Context()))
		return
	}
	landed := false
	defer func() {
		if !landed {
			// next panicked (http.ErrAbortHandler on a broken origin
			// body): let the waiters fetch for themselves.
			z.land(key, f)
		}
	}()
	res := z.origin(w, r, key, base, loc, stale, status, true)
	f.entry, f.stale = res.entry, res.stale
	landed = true
	z.land(key, f)
}

// result is what one origin fetch produced.
type result struct {
	entry *Entry // the stored (or stale) entry to serve; nil if none
	stale bool
}

// originRequest prepares the request sent to the origin for the cache:
// detached from the client's cancellation (the response is wanted even if
// this client leaves), without the client's conditionals, Range and
// Accept-Encoding (the cache keeps whole identity bodies and answers
// those itself), with the stored entry's validators when revalidating.
func (z *Zone) originRequest(r *http.Request, stale *Entry, ctx context.Context) *http.Request {
	out := r.Clone(ctx)
	if out.Method == http.MethodHead {
		out.Method = http.MethodGet
	}
	// GET and HEAD carry no body; a background refresh outlives the
	// client's, which the server closes when the client's request ends.
	out.Body, out.ContentLength = http.NoBody, 0
	for _, h := range []string{"If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range", "Range", "Accept-Encoding"} {
		delete(out.Header, h)
	}
	if stale != nil && !stale.Pass && stale.Status != 0 {
		if et := stale.Header.Get("ETag"); et != "" {
			out.Header.Set("If-None-Match", et)
		}
		if lm := stale.Header.Get("Last-Modified"); lm != "" {
			out.Header.Set("If-Modified-Since", lm)
		}
	}
	return out
}

// origin fetches r from the origin through next and stores the response
// when it may. With client set, the response reaches w (streamed as it
// arrives when the request allows, otherwise served from the stored
// entry); a background refresh passes client false and writes nothing.
func (z *Zone) origin(w http.ResponseWriter, r *http.Request, key, base string, loc location, stale *Entry, status string, client bool) result {
	loc = loc.owned() // stored entries must not keep the request's head alive
	requestTime := z.now()
	out := z.originRequest(r, stale, context.WithoutCancel(r.Context()))
	cw := &captureWriter{z: z, w: w, r: r, out: out, stale: stale, status: status, client: client}
	cw.tee = client && r.Method == http.MethodGet && r.Header.Get("Range") == "" &&
		r.Header.Get("If-None-Match") == "" && r.Header.Get("If-Modified-Since") == "" &&
		(z.rules.NoCompress || negotiate(r) == "")
	if !z.callOrigin(cw, out) {
		// The origin's answer broke off before anything reached the
		// client, or the proxy wrote nothing at all: a failed fetch.
		if cw.sink != nil {
			cw.sink.discard()
		}
		if cw.staleUsable() {
			if client {
				z.serve(w, r, stale, StatusStale, z.now(), true)
			}
			return result{entry: stale, stale: true}
		}
		if client {
			setStatus(w, r, status)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "502 Bad Gateway\n")
		}
		return result{}
	}
	responseTime := z.now()
	switch cw.mode {
	case modeRevalidated:
		e := *stale
		e.Header = updateHeaders(stale.Header, cw.header)
		e.ResponseTime = responseTime
		e.InitialAge = initialAge(cw.header, requestTime, responseTime)
		e.setFreshness(z.rules.computeFreshness(e.Status, e.Header, responseTime))
		z.store.put(&e)
		if client {
			z.serve(w, r, &e, StatusRevalidated, responseTime, false)
		}
		return result{entry: &e}
	case modeStale:
		if client {
			z.serve(w, r, stale, StatusStale, responseTime, true)
		}
		return result{entry: stale, stale: true}
	case modePass:
		if cw.passRecord {
			z.store.put(&Entry{Key: key, Zone: z.name, Host: loc.host, Path: loc.path, Query: loc.query,
				Pass: true, ResponseTime: responseTime, Lifetime: passTTL})
		}
		return result{}
	}
	// modeStore: keep the body if it arrived whole.
	s := cw.sink
	if cl := cw.header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err != nil || n != s.n {
			s.fail(errShortBody)
		}
	}
	if !s.ok() {
		overflow := s.overflow
		s.discard()
		if overflow {
			// Too large to keep without a disk tier: later requests go
			// straight to the origin instead of waiting for each other.
			z.store.put(&Entry{Key: key, Zone: z.name, Host: loc.host, Path: loc.path, Query: loc.query,
				Pass: true, ResponseTime: responseTime, Lifetime: passTTL})
		}
		if client && !cw.flushed {
			// The body could not be kept (a disk error, a short body)
			// and nothing reached the client yet: answer it from the
			// origin directly.
			setStatus(w, r, status)
			z.next.ServeHTTP(w, z.originRequest(r, nil, r.Context()))
		}
		return result{}
	}
	body, file, err := s.finish()
	if err != nil {
		z.store.log.Warn("finishing a disk cache file", "error", err)
		return result{}
	}
	names := varyNames(cw.header)
	fullKey := varyKey(base, names, r.Header)
	e := &Entry{Key: fullKey, Zone: z.name, Host: loc.host, Path: loc.path, Query: loc.query,
		Status: cw.code, Header: storedHeader(cw.header), Body: body, Size: s.n,
		Tags: parseTags(cw.header["Cache-Tag"]), ResponseTime: responseTime,
		InitialAge: initialAge(cw.header, requestTime, responseTime), file: file}
	e.setFreshness(z.rules.computeFreshness(cw.code, cw.header, responseTime))
	if len(names) > 0 || key != base {
		z.store.put(&Entry{Key: base + varySuffix, Zone: z.name, Host: loc.host, Path: loc.path, Query: loc.query,
			VaryNames: names, ResponseTime: responseTime})
	}
	z.store.put(e)
	if file != "" {
		// The body now lives in the key's file, found again through the
		// disk index.
		if de, ok := z.store.get(fullKey); ok {
			e = de
		} else {
			return result{}
		}
	}
	if client && !cw.tee {
		z.serve(w, r, e, status, responseTime, false)
	} else if client {
		z.observe(status, 0, false)
	}
	return result{entry: e}
}

// callOrigin runs next with cw and reports whether it produced a whole
// response. A panic with http.ErrAbortHandler (the proxy's signal that
// the origin's body broke off) is absorbed when nothing reached the client
// yet, so the caller can answer otherwise; once bytes were sent the panic
// goes on, aborting the client's connection so the truncation shows.
func (z *Zone) callOrigin(cw *captureWriter, out *http.Request) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler || cw.flushed {
				if cw.sink != nil {
					cw.sink.discard()
				}
				panic(v)
			}
			ok = false
		}
	}()
	z.next.ServeHTTP(cw, out)
	return cw.wroteHeader
}

// refresh starts one background revalidation of a stale entry (for
// stale-while-revalidate); a refresh already running for the key, or a
// fetch in flight, makes it a no-op.
func (z *Zone) refresh(r *http.Request, key, base string, loc location, stale *Entry) {
	f, leader := z.join(key)
	if !leader {
		return
	}
	// The background request gets its own reqctx.Info: the client's is
	// logged when the client's request ends.
	ctx := context.WithoutCancel(r.Context())
	if info := reqctx.From(ctx); info != nil {
		c := *info
		ctx = reqctx.With(ctx, &c)
	}
	br := r.Clone(ctx)
	go func() {
		defer func() {
			if v := recover(); v != nil && v != http.ErrAbortHandler {
				z.store.log.Error("panic in a background cache refresh", "zone", z.name, "panic", v)
			}
			z.land(key, f)
		}()
		res := z.origin(nil, br, key, base, loc, stale, StatusStale, false)
		f.entry, f.stale = res.entry, res.stale
	}()
}
