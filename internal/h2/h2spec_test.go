package h2

// h2spec (github.com/summerwind/h2spec, MIT licence: LICENSE in the
// module, "The MIT License, Copyright (c) 2014 Moto Ishizawa") run in
// process against the server: the conformance suite the h2spec command
// runs by default (the generic, http2 and hpack sections, strict cases
// left out), each case on a new loopback connection, once over TLS and
// once with prior knowledge over TCP.
//
// The cases are walked here rather than with h2spec.Run: Run prints every
// case to stdout (a flood in the test log) and calls os.Exit when a dial
// fails; the walk below is spec.TestGroup.Test's and spec.TestCase.Test's
// without either, and with a bound on each case and on the whole run.

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/summerwind/h2spec/config"
	"github.com/summerwind/h2spec/generic"
	h2spechpack "github.com/summerwind/h2spec/hpack"
	h2spechttp2 "github.com/summerwind/h2spec/http2"
	"github.com/summerwind/h2spec/spec"
	"golang.org/x/net/http2"
)

const (
	// confH2SpecTimeout is h2spec's per-case timeout (its -o flag, 2s by
	// default): how long a case waits for a frame it expects, and so how
	// long a case that expects nothing (the connection left open) takes.
	confH2SpecTimeout = 3 * time.Second
	// confH2SpecCaseLimit bounds one case, its waits included, after
	// which it counts as failed ("hung").
	confH2SpecCaseLimit = 30 * time.Second
	// confH2SpecRunLimit bounds the whole suite.
	confH2SpecRunLimit = 8 * time.Minute
	// confH2SpecParallel is how many cases run at once.
	confH2SpecParallel = 4
	// confH2SpecMinCases is a floor on the cases run, so that a walk
	// that finds nothing cannot pass (h2spec 2.2.1 has 146 such cases).
	confH2SpecMinCases = 140
)

// confH2SpecXNetFailures are the cases x/net's HTTP/2 server fails (by
// confH2SpecResult.id), as TestH2SpecReference finds them, with why.
var confH2SpecXNetFailures = []string{
	// A HEADERS frame of 20,000 bytes (5 fields of MaxHeaderLen) must be
	// a FRAME_SIZE_ERROR: h2spec assumes the server's
	// SETTINGS_MAX_FRAME_SIZE is 16,384, x/net's advertises 1 MiB (its
	// MaxReadFrameSize), so x/net is right to accept it.
	"http2/4.2/3",
	// A SETTINGS frame with SETTINGS_INITIAL_WINDOW_SIZE twice: x/net
	// closes the connection (PROTOCOL_ERROR) for any SETTINGS frame with
	// a duplicate setting, which RFC 9113 allows.
	"http2/6.5.3/1",
	// A request with a connection-specific field (Connection), and with
	// TE other than "trailers", must be malformed (PROTOCOL_ERROR): x/net
	// answers 400 Bad Request instead.
	"http2/8.1.2.2/1",
	"http2/8.1.2.2/2",
}

// confH2SpecAllowed are the cases of confH2SpecXNetFailures Server may
// fail too: only h2spec's own mistake (4.2/3, if Server ever advertises
// a SETTINGS_MAX_FRAME_SIZE over 20,000). Not 6.5.3/1 and 8.1.2.2's:
// server.go says repeated settings are applied in order and such requests
// are malformed (stream error PROTOCOL_ERROR), which passes them.
var confH2SpecAllowed = []string{"http2/4.2/3"}

// confH2SpecHandler answers every request as a simple server would: the
// body read and discarded, 200 with a short body.
func confH2SpecHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "hello from the h2spec handler\n")
	})
}

// confH2SpecResult is one h2spec case's outcome.
type confH2SpecResult struct {
	id      string // section and number, as h2spec's command line takes it: "http2/6.9.1/1"
	title   string // the section's title and the case's description
	skipped bool
	reset   bool  // passed: the connection was reset where h2spec expected it closed
	err     error // nil: passed
	took    time.Duration
}

func (r confH2SpecResult) String() string {
	s := r.id + " " + r.title
	if r.err == nil {
		return s
	}
	msg := r.err.Error()
	if te, ok := r.err.(*spec.TestError); ok {
		msg = "expected " + strings.Join(te.Expected, " or ") + "; actual " + te.Actual
	}
	return s + "\n\t" + strings.ReplaceAll(msg, "\n", "\n\t")
}

// confRunH2Spec runs h2spec's default suite against addr (over TLS, or
// with prior knowledge) and returns every case's result.
func confRunH2Spec(t *testing.T, addr string, useTLS bool) []confH2SpecResult {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	c := &config.Config{
		Host:         host,
		Port:         p,
		Path:         "/",
		Timeout:      confH2SpecTimeout,
		MaxHeaderLen: 4000, // the command's default
		TLS:          useTLS,
		Insecure:     true, // httptest's certificate
	}
	type job struct {
		g   *spec.TestGroup
		tc  *spec.TestCase
		seq int
	}
	var jobs []job
	var walk func(g *spec.TestGroup)
	walk = func(g *spec.TestGroup) {
		if g.Strict && !c.Strict {
			return
		}
		for i, tc := range g.Tests { // g.StrictTests: only with c.Strict
			jobs = append(jobs, job{g, tc, i + 1})
		}
		for _, sub := range g.Groups {
			walk(sub)
		}
	}
	for _, g := range []*spec.TestGroup{generic.Spec(), h2spechttp2.Spec(), h2spechpack.Spec()} {
		walk(g)
	}
	// The cases run confH2SpecParallel at a time (each on connections
	// of its own; most of the time is waits for frames that do not come).
	deadline := time.Now().Add(confH2SpecRunLimit)
	results := make([]confH2SpecResult, len(jobs))
	sem := make(chan struct{}, confH2SpecParallel)
	var wg sync.WaitGroup
	for i, j := range jobs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if time.Now().After(deadline) {
				results[i] = confH2SpecResult{id: fmt.Sprintf("%s/%d", j.g.ID(), j.seq), title: j.g.Title() + ": " + j.tc.Desc,
					err: fmt.Errorf("not run: the suite took over %v", confH2SpecRunLimit)}
				return
			}
			results[i] = confRunH2SpecCase(c, j.g, j.tc, j.seq)
		})
	}
	wg.Wait()
	if len(results) < confH2SpecMinCases {
		t.Fatalf("h2spec: %d cases run, want at least %d", len(results), confH2SpecMinCases)
	}
	return results
}

// confRunH2SpecCase runs one case on a new connection, bounded by
// confH2SpecCaseLimit.
func confRunH2SpecCase(c *config.Config, g *spec.TestGroup, tc *spec.TestCase, seq int) (r confH2SpecResult) {
	r = confH2SpecResult{id: fmt.Sprintf("%s/%d", g.ID(), seq), title: g.Title() + ": " + tc.Desc}
	conn, err := spec.Dial(c)
	if err != nil {
		r.err = fmt.Errorf("dial: %w", err)
		return r
	}
	defer conn.Close()
	start := time.Now()
	defer func() { r.took = time.Since(start) }()
	done := make(chan error, 1)
	go func() { done <- tc.Run(c, conn) }()
	select {
	case err = <-done:
	case <-time.After(confH2SpecCaseLimit):
		conn.Close() // unblocks the case's reads and writes
		<-done
		err = fmt.Errorf("hung: no result within %v", confH2SpecCaseLimit)
	}
	switch {
	case err == spec.ErrSkipped:
		r.skipped = true
	case confH2SpecIsReset(err):
		r.reset = true
	default:
		r.err = err
	}
	return r
}

// confH2SpecIsReset reports whether err is a case's failure that expected
// the connection closed and saw it reset. h2spec counts a read's
// ECONNRESET as "Connection closed" (spec.Conn.WaitEvent), but compares
// net.OpError.Err with syscall.ECONNRESET directly, and Go wraps it in an
// os.SyscallError: a server that closes a connection whose client has
// sent more than it read (a bad preface, say) fails such a case or not
// depending on timing. Those count as passed here.
func confH2SpecIsReset(err error) bool {
	te, ok := err.(*spec.TestError)
	return ok && slices.Contains(te.Expected, spec.ExpectedConnectionClosed) &&
		strings.HasPrefix(te.Actual, "Error: ") && strings.HasSuffix(te.Actual, "connection reset by peer")
}

// confH2SpecCheck reports the run's failed and skipped cases and fails t
// for a failed case not in allowed.
func confH2SpecCheck(t *testing.T, results []confH2SpecResult, allowed []string) (failed []string) {
	t.Helper()
	passed, skipped := 0, 0
	var took time.Duration
	for _, r := range results {
		took += r.took
		if r.took > 3*confH2SpecTimeout {
			t.Logf("h2spec: %s took %v", r.id, r.took.Round(time.Millisecond))
		}
		switch {
		case r.skipped:
			skipped++
			t.Logf("h2spec: skipped %s", r)
		case r.reset:
			passed++
			t.Logf("h2spec: passed (the connection reset rather than closed) %s", r)
		case r.err == nil:
			passed++
		case slices.Contains(allowed, r.id):
			failed = append(failed, r.id)
			t.Logf("h2spec: failed (allowed: x/net's server fails it too) %s", r)
		case slices.Contains(confH2SpecXNetFailures, r.id):
			failed = append(failed, r.id)
			t.Errorf("h2spec: failed (x/net's server fails it too, but server.go promises otherwise) %s", r)
		default:
			failed = append(failed, r.id)
			t.Errorf("h2spec: failed %s", r)
		}
	}
	t.Logf("h2spec: %d cases, %v of case time: %d passed, %d failed, %d skipped", len(results), took.Round(time.Millisecond), passed, len(failed), skipped)
	return failed
}

// confH2SpecServe serves serveConn on loopback, over TLS ("tls", ALPN
// h2) or with prior knowledge ("tcp").
func confH2SpecServe(t *testing.T, mode string, serveConn func(net.Conn)) string {
	tr := &confConnTracker{}
	var addr string
	if mode == "tls" {
		addr, _ = serveLoopbackTLS(t, tr.wrap(serveConn))
	} else {
		addr = serveLoopback(t, tr.wrap(serveConn))
	}
	// After the suite, before serveLoopback waits for its connections:
	// h2spec leaves some open (spec.ServerDataLength's).
	t.Cleanup(tr.closeAll)
	return addr
}

// confConnTracker closes the server side of every connection served,
// when a test ends.
type confConnTracker struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (tr *confConnTracker) wrap(serveConn func(net.Conn)) func(net.Conn) {
	return func(c net.Conn) {
		tr.mu.Lock()
		tr.conns = append(tr.conns, c)
		tr.mu.Unlock()
		serveConn(c)
	}
}

func (tr *confConnTracker) closeAll() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, c := range tr.conns {
		c.Close()
	}
}

// TestH2Spec runs h2spec against Server, over TLS and with prior
// knowledge: no case may fail but those confH2SpecAllowed lists (x/net's
// failures, where server.go does not promise otherwise).
func TestH2Spec(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"tls", "tcp"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := &Server{Handler: confH2SpecHandler()}
			addr := confH2SpecServe(t, mode, s.ServeConn)
			failed := confH2SpecCheck(t, confRunH2Spec(t, addr, mode == "tls"), confH2SpecAllowed)
			if len(failed) > 0 {
				t.Logf("h2spec: %d cases failed: %v", len(failed), failed)
			}
		})
	}
}

// TestH2SpecReference runs h2spec against x/net's HTTP/2 server and
// net/http's (the harness's own check, and the record of what they
// fail): the cases each fails must be confH2SpecXNetFailures.
func TestH2SpecReference(t *testing.T) {
	t.Parallel()
	for _, impl := range []string{"x/net", "net/http"} {
		for _, mode := range []string{"tls", "tcp"} {
			t.Run(impl+"/"+mode, func(t *testing.T) {
				t.Parallel()
				serveConn := confXNetServeConn(confH2SpecHandler(), confOpts{})
				if impl == "net/http" {
					serveConn = confNetHTTPServeConn(t, confH2SpecHandler(), confOpts{})
				}
				want := confH2SpecXNetFailures
				if impl == "net/http" && mode == "tcp" {
					// Without TLS, net/http takes what is not the HTTP/2
					// preface for HTTP/1.1 and answers 400 in HTTP/1.1.
					want = append([]string{"http2/3.5/2"}, want...)
				}
				addr := confH2SpecServe(t, mode, serveConn)
				failed := confH2SpecCheck(t, confRunH2Spec(t, addr, mode == "tls"), want)
				if !slices.Equal(failed, want) {
					t.Errorf("%s's server fails %q, want %q", impl, failed, want)
				}
			})
		}
	}
}

// confXNetServeConn serves a connection with x/net's HTTP/2 server (the
// code net/http's is generated from), its log discarded, with opts. x/net deprecates
// ServeConn in favour of http.Server, which has no way to serve one
// connection: it is the reference here all the same.
func confXNetServeConn(h http.Handler, opts confOpts) func(net.Conn) {
	quiet := &http.Server{ErrorLog: log.New(io.Discard, "", 0)}
	//lint:ignore SA1019 the reference server, see above.
	s := &http2.Server{MaxConcurrentStreams: opts.maxStreams, IdleTimeout: opts.idle}
	return func(c net.Conn) {
		//lint:ignore SA1019 the reference server, see above.
		s.ServeConn(c, &http2.ServeConnOpts{Handler: h, BaseConfig: quiet})
	}
}
