package proxy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
)

// echoHeaders answers with the request's method, target, Host and headers,
// one per line, sorted as received.
func echoHeaders() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "X-Hop")
		w.Header().Set("X-Hop", "must-go")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("X-Kept", "yes")
		fmt.Fprintf(w, "%s %s\nHost: %s\n", r.Method, r.RequestURI, r.Host)
		for k, vv := range r.Header {
			for _, v := range vv {
				fmt.Fprintf(w, "%s: %s\n", k, v)
			}
		}
	})
}

func TestHeaders(t *testing.T) {
	no := false
	tests := []struct {
		name     string
		trusted  bool
		preserve *bool
		method   string
		body     string
		set      map[string]string
		want     []string
		notWant  []string
	}{
		{
			name: "untrusted peer: forwarding headers replaced",
			set: map[string]string{
				"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https",
				"X-Forwarded-Host": "evil.test", "Forwarded": "for=203.0.113.9",
			},
			want: []string{
				"GET /path?q=1\n", "Host: www.example.test\n", "X-Forwarded-For: 127.0.0.1\n",
				"X-Forwarded-Proto: http\n", "X-Forwarded-Host: www.example.test\n",
				`Forwarded: for=127.0.0.1;host="www.example.test";proto=http` + "\n",
			},
			notWant: []string{"203.0.113.9", "evil.test"},
		},
		{
			// X-Forwarded-Host is the host the request was routed and
			// cached by even from a trusted proxy, which may pass a
			// client's value through.
			name:    "trusted peer: forwarding headers appended",
			trusted: true,
			set: map[string]string{
				"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https",
				"X-Forwarded-Host": "front.test", "Forwarded": "for=203.0.113.9",
			},
			want: []string{
				"X-Forwarded-For: 203.0.113.9, 127.0.0.1\n", "X-Forwarded-Proto: https\n",
				"X-Forwarded-Host: www.example.test\n",
				`Forwarded: for=203.0.113.9, for=127.0.0.1;host="www.example.test";proto=http` + "\n",
			},
			notWant: []string{"front.test"},
		},
		{
			name: "untrusted peer: client-IP headers dropped, X-Real-IP set",
			set: map[string]string{
				"X-Real-IP": "203.0.113.9", "True-Client-IP": "203.0.113.9", "CF-Connecting-IP": "203.0.113.9",
				"X-Client-IP": "203.0.113.9", "Fastly-Client-IP": "203.0.113.9", "X-Forwarded-Port": "1337",
				"X_Forwarded_For": "203.0.113.9", "X-Original-URL": "/admin",
			},
			want:    []string{"X-Real-Ip: 127.0.0.1\n"},
			notWant: []string{"203.0.113.9", "1337", "/admin", "Cf-Connecting-Ip", "X_forwarded_for"},
		},
		{
			name:    "trusted peer: client-IP headers kept, X-Real-IP replaced",
			trusted: true,
			set: map[string]string{
				"X-Real-IP": "203.0.113.9", "CF-Connecting-IP": "198.51.100.7", "X-Forwarded-Port": "8443",
				"X_Real_IP": "192.0.2.66",
			},
			want:    []string{"X-Real-Ip: 127.0.0.1\n", "Cf-Connecting-Ip: 198.51.100.7\n", "X-Forwarded-Port: 8443\n"},
			notWant: []string{"203.0.113.9", "192.0.2.66"},
		},
		{
			name: "hop-by-hop request headers dropped",
			set: map[string]string{
				"Connection": "X-Private, keep-alive", "X-Private": "secret", "Keep-Alive": "300",
				"Proxy-Authorization": "Basic Zm9vOmJhcg==", "Te": "trailers, deflate", "X-Normal": "kept",
				"Proxy-Connection": "keep-alive",
			},
			want:    []string{"X-Normal: kept\n", "Te: trailers\n"},
			notWant: []string{"X-Private", "secret", "Keep-Alive", "Proxy-Authorization", "Connection", "deflate"},
		},
		{
			name:     "origin host when preserve_host is false",
			preserve: &no,
			want:     []string{"Host: 127.0.0.1:", "X-Forwarded-Host: www.example.test\n"},
		},
		{
			name:   "POST with a body: same headers",
			method: http.MethodPost,
			body:   "hello",
			set:    map[string]string{"X-Forwarded-For": "203.0.113.9", "Connection": "X-Private", "X-Private": "x"},
			want: []string{
				"POST /path?q=1\n", "Host: www.example.test\n", "X-Forwarded-For: 127.0.0.1\n",
				`Forwarded: for=127.0.0.1;host="www.example.test";proto=http` + "\n",
			},
			notWant: []string{"203.0.113.9", "X-Private"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := origins(t, 1, func(int) http.Handler { return echoHeaders() })
			tp := startProxy(t, config.Zone{Origins: o, PreserveHost: tt.preserve}, Options{}, frontOpts{trusted: tt.trusted})
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			req, _ := http.NewRequest(method, tp.URL+"/path?q=1", strings.NewReader(tt.body))
			if tt.body == "" {
				req.Body = nil
			}
			req.Host = "www.example.test"
			for k, v := range tt.set {
				req.Header.Set(k, v)
			}
			resp, err := newClient(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got := string(b)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("origin saw no %q in:\n%s", w, got)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("origin saw %q in:\n%s", w, got)
				}
			}
			if resp.Header.Get("X-Hop") != "" || resp.Header.Get("Keep-Alive") != "" {
				t.Errorf("hop-by-hop response headers passed: %v", resp.Header)
			}
			if resp.Header.Get("X-Kept") != "yes" {
				t.Errorf("X-Kept = %q, want yes", resp.Header.Get("X-Kept"))
			}
		})
	}
}

func TestForwardedIPv6(t *testing.T) {
	o := origins(t, 1, func(int) http.Handler { return echoHeaders() })
	tp := startProxy(t, config.Zone{Origins: o}, Options{}, frontOpts{clientIPHeader: "X-Test-Client"})
	req, _ := http.NewRequest("GET", tp.URL+"/", nil)
	req.Header.Set("X-Test-Client", "2001:db8::7")
	resp, err := newClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, w := range []string{"X-Forwarded-For: 2001:db8::7\n", `Forwarded: for="[2001:db8::7]"`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("origin saw no %q in:\n%s", w, b)
		}
	}
}

func TestResponseKinds(t *testing.T) {
	o := origins(t, 1, func(int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/nocontent":
				w.WriteHeader(http.StatusNoContent)
			case "/notmodified":
				w.Header().Set("Etag", `"v1"`)
				w.WriteHeader(http.StatusNotModified)
			case "/trailers":
				w.Header().Set("Trailer", "X-Checksum")
				w.Write([]byte("chunk one "))
				w.(http.Flusher).Flush()
				w.Write([]byte("chunk two"))
				w.Header().Set("X-Checksum", "abc123")
			case "/redirect":
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
			case "/cookies":
				w.Header().Add("Set-Cookie", "a=1")
				w.Header().Add("Set-Cookie", "b=2")
				w.Write([]byte("ok"))
			default:
				w.Header().Set("Content-Length", "5")
				w.Write([]byte("hello"))
			}
		})
	})
	tp := startProxy(t, config.Zone{Origins: o}, Options{}, frontOpts{})
	c := newClient(t)
	tests := []struct {
		method, path string
		status       int
		body         string
		check        func(t *testing.T, resp *http.Response)
	}{
		{"GET", "/", 200, "hello", nil},
		{"HEAD", "/", 200, "", func(t *testing.T, resp *http.Response) {
			if resp.ContentLength != 5 {
				t.Errorf("HEAD Content-Length = %d, want 5", resp.ContentLength)
			}
		}},
		{"GET", "/nocontent", 204, "", nil},
		{"GET", "/notmodified", 304, "", func(t *testing.T, resp *http.Response) {
			if resp.Header.Get("Etag") != `"v1"` {
				t.Errorf("Etag = %q", resp.Header.Get("Etag"))
			}
		}},
		{"GET", "/trailers", 200, "chunk one chunk two", func(t *testing.T, resp *http.Response) {
			if resp.Trailer.Get("X-Checksum") != "abc123" {
				t.Errorf("trailer X-Checksum = %q, want abc123", resp.Trailer.Get("X-Checksum"))
			}
		}},
		{"GET", "/redirect", 302, "<a href=\"/elsewhere\">Found</a>.\n\n", func(t *testing.T, resp *http.Response) {
			if resp.Header.Get("Location") != "/elsewhere" {
				t.Errorf("Location = %q", resp.Header.Get("Location"))
			}
		}},
		{"GET", "/cookies", 200, "ok", func(t *testing.T, resp *http.Response) {
			if got := resp.Header.Values("Set-Cookie"); len(got) != 2 || got[0] != "a=1" || got[1] != "b=2" {
				t.Errorf("Set-Cookie = %q", got)
			}
		}},
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for round := 0; round < 2; round++ { // the second round runs on pooled connections
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s %s round %d", tt.method, tt.path, round), func(t *testing.T) {
				req, _ := http.NewRequest(tt.method, tp.URL+tt.path, nil)
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tt.status || string(b) != tt.body {
					t.Errorf("got %d %q, want %d %q", resp.StatusCode, b, tt.status, tt.body)
				}
				if tt.check != nil {
					tt.check(t, resp)
				}
			})
		}
	}
}

func TestStreaming(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
	}{
		{"chunked without length", "text/plain"},
		{"event stream", "text/event-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			o := origins(t, 1, func(int) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", tt.contentType)
					w.Write([]byte("data: first\n\n"))
					w.(http.Flusher).Flush()
					select {
					case <-release:
					case <-time.After(10 * time.Second):
					}
					w.Write([]byte("data: second\n\n"))
				})
			})
			tp := startProxy(t, config.Zone{Origins: o}, Options{}, frontOpts{})
			resp, err := newClient(t).Get(tp.URL + "/events")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			got := make(chan string, 1)
			go func() {
				line, _ := br.ReadString('\n')
				got <- line
			}()
			select {
			case line := <-got:
				if line != "data: first\n" {
					t.Fatalf("first line = %q", line)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("first chunk did not arrive before the origin finished")
			}
			close(release)
			rest, _ := io.ReadAll(br)
			if string(rest) != "\ndata: second\n\n" {
				t.Errorf("rest = %q", rest)
			}
		})
	}
}

func TestRoundRobin(t *testing.T) {
	o := origins(t, 3, func(i int) http.Handler { return named(fmt.Sprint("o", i)) })
	tp := startProxy(t, config.Zone{Origins: o, LoadBalancing: RoundRobin}, Options{}, frontOpts{})
	c := newClient(t)
	counts := map[string]int{}
	for i := 0; i < 30; i++ {
		counts[get(t, c, tp.URL+"/")]++
	}
	for i := 0; i < 3; i++ {
		if n := counts[fmt.Sprint("o", i)]; n != 10 {
			t.Errorf("origin o%d got %d of 30 requests, want 10 (%v)", i, n, counts)
		}
	}
}

func TestLeastConn(t *testing.T) {
	hold := make(chan struct{})
	var slowIn sync.WaitGroup
	slowIn.Add(1)
	var once sync.Once
	o := origins(t, 2, func(i int) http.Handler {
		if i == 0 {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/slow" {
					once.Do(slowIn.Done)
					<-hold
				}
				w.Write([]byte("o0"))
			})
		}
		return named("o1")
	})
	tp := startProxy(t, config.Zone{Origins: o, LoadBalancing: LeastConn}, Options{}, frontOpts{})
	c := newClient(t)
	// Park one request on whichever origin takes /slow; only o0 holds it,
	// so send /slow until o0 has it.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			resp, err := c.Get(tp.URL + "/slow")
			if err != nil {
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) == "o0" {
				return
			}
		}
	}()
	slowIn.Wait()
	for i := 0; i < 10; i++ {
		if got := get(t, c, tp.URL+"/fast"); got != "o1" {
			t.Errorf("request %d went to %s while o0 was busy, want o1", i, got)
		}
	}
	st := tp.Origins()
	if st[0].Active != 1 || st[1].Active != 0 {
		t.Errorf("Origins() = %+v, want o0 with 1 active", st)
	}
	close(hold)
	<-done
}

func TestIPHash(t *testing.T) {
	var up [4]atomic.Bool
	for i := range up {
		up[i].Store(true)
	}
	o := origins(t, 4, func(i int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/health" && !up[i].Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.Write([]byte(fmt.Sprint("o", i)))
		})
	})
	z := config.Zone{Origins: o, LoadBalancing: IPHash,
		HealthCheck: config.HealthCheck{Path: "/health", Interval: 20 * time.Millisecond, Timeout: time.Second, Healthy: 1, Unhealthy: 1}}
	tp := startProxy(t, z, Options{}, frontOpts{clientIPHeader: "X-Test-Client"})
	c := newClient(t)
	route := func() map[string]string {
		m := map[string]string{}
		for i := 0; i < 200; i++ {
			ip := fmt.Sprintf("198.51.%d.%d", i/250, i%250+1)
			req, _ := http.NewRequest("GET", tp.URL+"/", nil)
			req.Header.Set("X-Test-Client", ip)
			m[ip] = do(t, c, req)
		}
		return m
	}
	before := route()
	again := route()
	per := map[string]int{}
	for ip, o := range before {
		per[o]++
		if again[ip] != o {
			t.Errorf("client %s moved from %s to %s with no change", ip, o, again[ip])
		}
	}
	for i := 0; i < 4; i++ {
		if n := per[fmt.Sprint("o", i)]; n < 20 {
			t.Errorf("origin o%d got %d of 200 clients, want a fair share (%v)", i, n, per)
		}
	}
	up[2].Store(false)
	waitFor(t, func() bool { return !tp.Origins()[2].Healthy })
	after := route()
	moved := 0
	for ip, o := range before {
		switch {
		case o == "o2" && after[ip] == "o2":
			t.Errorf("client %s still on ejected o2", ip)
		case o != "o2" && after[ip] != o:
			t.Errorf("client %s of healthy %s moved to %s", ip, o, after[ip])
		case o == "o2":
			moved++
		}
	}
	if moved != per["o2"] {
		t.Errorf("moved %d clients, want the %d of o2", moved, per["o2"])
	}
	up[2].Store(true)
	waitFor(t, func() bool { return tp.Origins()[2].Healthy })
	back := route()
	for ip, o := range before {
		if back[ip] != o {
			t.Errorf("client %s on %s after o2 returned, want %s", ip, back[ip], o)
		}
	}
}

func TestActiveHealthCheck(t *testing.T) {
	var up atomic.Bool
	up.Store(true)
	var checks atomic.Int32
	o := origins(t, 2, func(i int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/healthz" {
				if i == 0 {
					checks.Add(1)
					if r.Host != "www.example.test" {
						t.Errorf("health check Host = %q", r.Host)
					}
					if !up.Load() {
						w.WriteHeader(http.StatusInternalServerError)
						return
					}
				}
				return
			}
			w.Write([]byte(fmt.Sprint("o", i)))
		})
	})
	var mu sync.Mutex
	var events []string
	opts := Options{OnHealth: func(zone, origin string, healthy bool) {
		mu.Lock()
		events = append(events, fmt.Sprintf("%s %s %v", zone, origin, healthy))
		mu.Unlock()
	}}
	z := config.Zone{Origins: o, HealthCheck: config.HealthCheck{Path: "/healthz", Interval: 20 * time.Millisecond, Timeout: time.Second, Healthy: 2, Unhealthy: 2}}
	tp := startProxy(t, z, opts, frontOpts{})
	c := newClient(t)
	up.Store(false)
	waitFor(t, func() bool { return !tp.Origins()[0].Healthy })
	// The dashboard shows the last check and why it failed.
	if st := tp.Origins()[0]; st.LastCheck.IsZero() || time.Since(st.LastCheck) > 10*time.Second || st.LastError != "status 500 Internal Server Error" {
		t.Errorf("down origin's last check %v, error %q", st.LastCheck, st.LastError)
	}
	for i := 0; i < 10; i++ {
		if got := get(t, c, tp.URL+"/"); got != "o1" {
			t.Fatalf("request %d went to %s while o0 was down", i, got)
		}
	}
	up.Store(true)
	waitFor(t, func() bool { return tp.Origins()[0].Healthy })
	if st := tp.Origins()[0]; st.LastError != "" {
		t.Errorf("recovered origin's last error %q", st.LastError)
	}
	seen := map[string]bool{}
	for i := 0; i < 10; i++ {
		seen[get(t, c, tp.URL+"/")] = true
	}
	if !seen["o0"] {
		t.Error("o0 got no traffic after it recovered")
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"www.example.test " + o[0] + " false", "www.example.test " + o[0] + " true"}
	if fmt.Sprint(events) != fmt.Sprint(want) {
		t.Errorf("OnHealth events = %q, want %q", events, want)
	}
}

func TestPassiveEjection(t *testing.T) {
	dead := deadOrigin(t)
	live := origins(t, 1, func(int) http.Handler { return named("live") })
	var ejected atomic.Int32
	z := config.Zone{Origins: []string{dead, live[0]}, Retries: 1,
		HealthCheck: config.HealthCheck{MaxFails: 2, EjectFor: 300 * time.Millisecond}}
	tp := startProxy(t, z, Options{OnHealth: func(_, origin string, healthy bool) {
		if origin == dead && !healthy {
			ejected.Add(1)
		}
	}}, frontOpts{})
	c := newClient(t)
	for i := 0; i < 6; i++ {
		if got := get(t, c, tp.URL+"/"); got != "live" {
			t.Fatalf("request %d = %q, want live (retried)", i, got)
		}
	}
	if ejected.Load() != 1 {
		t.Errorf("dead origin ejected %d times, want 1", ejected.Load())
	}
	if tp.Origins()[0].Healthy {
		t.Error("dead origin still reported healthy")
	}
	waitFor(t, func() bool { return tp.Origins()[0].Healthy })
}

func TestRetries(t *testing.T) {
	dead := deadOrigin(t)
	var posts atomic.Int32
	live := origins(t, 1, func(int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				posts.Add(1)
			}
			io.Copy(io.Discard, r.Body)
			w.Write([]byte("live"))
		})
	})
	tests := []struct {
		name    string
		method  string
		body    string
		retries int
		want    int
	}{
		{"GET retried", "GET", "", 1, 200},
		{"HEAD retried", "HEAD", "", 1, 200},
		{"PUT with body retried after refused dial", "PUT", "data", 1, 200},
		{"DELETE retried", "DELETE", "", 1, 200},
		{"POST not retried", "POST", "", 1, 502},
		{"POST with body not retried", "POST", "data", 1, 502},
		{"GET with retries 0", "GET", "", 0, 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The dead origin comes first in the rotation for the first
			// request of a fresh proxy (round robin starts at index 1).
			z := config.Zone{Origins: []string{live[0], dead}, Retries: tt.retries,
				HealthCheck: config.HealthCheck{MaxFails: 100}}
			tp := startProxy(t, z, Options{}, frontOpts{})
			posts.Store(0)
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, _ := http.NewRequest(tt.method, tp.URL+"/", body)
			resp, err := newClient(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.method == "POST" && posts.Load() != 0 {
				t.Errorf("POST reached the live origin %d times after a failure, want 0", posts.Load())
			}
			if tt.want == 502 && !hasLine(tp.logs.lines(), "source=origin status=502") {
				t.Errorf("no origin-tagged 502 in the log: %q", tp.logs.lines())
			}
		})
	}
}

func TestErrors(t *testing.T) {
	slow := origins(t, 1, func(int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		})
	})
	garbage := listenRaw(t, func(c net.Conn) {
		bufio.NewReader(c).ReadString('\n')
		c.Write([]byte("NOT HTTP AT ALL\r\n\r\n"))
		c.Close()
	})
	resetter := listenRaw(t, func(c net.Conn) {
		bufio.NewReader(c).ReadString('\n')
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	})
	tests := []struct {
		name   string
		origin string
		method string
		want   int
	}{
		{"refused is 502", deadOrigin(t), "GET", 502},
		{"response header timeout is 504", slow[0], "GET", 504},
		{"response header timeout after a request body is 504", slow[0], "PATCH", 504},
		{"malformed response is 502", garbage, "GET", 502},
		{"reset before response is 502", resetter, "GET", 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []*Error
			tp := startProxy(t, config.Zone{Origins: []string{tt.origin}},
				Options{
					Timeouts: config.Timeouts{ResponseHeader: 200 * time.Millisecond},
					OnError: func(_ *http.Request, err *Error) {
						mu.Lock()
						got = append(got, err)
						mu.Unlock()
					},
				}, frontOpts{})
			var body io.Reader
			if tt.method == "PATCH" {
				body = strings.NewReader("x")
			}
			req, _ := http.NewRequest(tt.method, tp.URL+"/", body)
			resp, err := newClient(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			if !hasLine(tp.logs.lines(), fmt.Sprintf("source=origin status=%d", tt.want)) {
				t.Errorf("log lacks an origin-tagged %d: %q", tt.want, tp.logs.lines())
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 || got[0].Source != SourceOrigin || got[0].Status != tt.want {
				t.Errorf("OnError got %v, want one origin error with status %d", got, tt.want)
			}
		})
	}
}

func TestClientAbortIsNot502(t *testing.T) {
	started := make(chan struct{}, 1)
	o := origins(t, 1, func(int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			started <- struct{}{}
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		})
	})
	tp := startProxy(t, config.Zone{Origins: o}, Options{}, frontOpts{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(tp.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("GET / HTTP/1.1\r\nHost: www.example.test\r\n\r\n"))
	<-started
	conn.Close()
	waitFor(t, func() bool { return hasLine(tp.logs.lines(), "client went away source=client") })
	if hasLine(tp.logs.lines(), "502") {
		t.Errorf("an aborted client was logged as 502: %q", tp.logs.lines())
	}
	if tp.Origins()[0].Healthy != true {
		t.Error("a client abort counted against the origin")
	}
}

func TestStalePooledConnection(t *testing.T) {
	// The origin closes every keep-alive connection right after its
	// response, so the proxy's pooled connections keep going stale.
	var n atomic.Int32
	o := listenRaw(t, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if line == "\r\n" {
				n.Add(1)
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				time.Sleep(20 * time.Millisecond)
				return // close without "Connection: close"
			}
		}
	})
	tp := startProxy(t, config.Zone{Origins: []string{o}}, Options{}, frontOpts{})
	c := newClient(t)
	for i := 0; i < 5; i++ {
		time.Sleep(50 * time.Millisecond)
		if got := get(t, c, tp.URL+"/"); got != "ok" {
			t.Fatalf("request %d = %q", i, got)
		}
		// Non-idempotent: the pooled connection is checked before use (the
		// origin has closed it by now), so the POST is never sent on it.
		time.Sleep(50 * time.Millisecond)
		req, _ := http.NewRequest("POST", tp.URL+"/", nil)
		if got := do(t, c, req); got != "ok" {
			t.Fatalf("POST %d = %q", i, got)
		}
	}
	if n.Load() != 10 {
		t.Errorf("origin answered %d requests, want 10", n.Load())
	}
}

func TestLargeBodies(t *testing.T) {
	const size = 64 << 20
	firstByte := make(chan struct{}, 1)
	o := origins(t, 1, func(int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut {
				var b [1]byte
				if _, err := io.ReadFull(r.Body, b[:]); err != nil {
					t.Errorf("reading first byte: %v", err)
					return
				}
				firstByte <- struct{}{}
				h := sha256.New()
				h.Write(b[:])
				n, _ := io.Copy(h, r.Body)
				fmt.Fprintf(w, "%d %x", n+1, h.Sum(nil))
				return
			}
			w.Header().Set("Content-Length", fmt.Sprint(size))
			buf := make([]byte, 64<<10)
			for i := 0; i < size/len(buf); i++ {
				buf[0] = byte(i)
				w.Write(buf)
			}
		})
	})
	tp := startProxy(t, config.Zone{Origins: o}, Options{}, frontOpts{})
	c := newClient(t)

	t.Run("upload streams", func(t *testing.T) {
		pr, pw := io.Pipe()
		sum := sha256.New()
		go func() {
			chunk := bytes.Repeat([]byte("u"), 1<<20)
			pw.Write(chunk[:1])
			sum.Write(chunk[:1])
			// The rest is sent only once the origin has seen the first byte.
			select {
			case <-firstByte:
			case <-time.After(10 * time.Second):
				pw.CloseWithError(fmt.Errorf("origin never saw the first byte: upload buffered"))
				return
			}
			for sent := 1; sent < size; sent += len(chunk) {
				n := min(len(chunk), size-sent)
				pw.Write(chunk[:n])
				sum.Write(chunk[:n])
			}
			pw.Close()
		}()
		req, _ := http.NewRequest("PUT", tp.URL+"/up", pr)
		got := do(t, c, req)
		if want := fmt.Sprintf("%d %x", size, sum.Sum(nil)); got != want {
			t.Errorf("origin got %q, want %q", got, want)
		}
	})
	t.Run("download streams", func(t *testing.T) {
		resp, err := c.Get(tp.URL + "/down")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil || n != size {
			t.Errorf("downloaded %d bytes (%v), want %d", n, err, size)
		}
	})
}

// listenRaw serves each TCP connection with handle on 127.0.0.1 and returns
// the origin URL.
func listenRaw(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	return do(t, c, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) string {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: status %d: %s", req.Method, req.URL, resp.StatusCode, b)
	}
	return string(b)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHTTPSOrigin(t *testing.T) {
	ts := httptest.NewTLSServer(echoHeaders())
	t.Cleanup(ts.Close)
	tp := startProxy(t, config.Zone{Origins: []string{ts.URL}}, Options{}, frontOpts{})
	tp.getTransport().TLSClientConfig = ts.Client().Transport.(*http.Transport).TLSClientConfig
	for _, method := range []string{"GET", "POST"} {
		req, _ := http.NewRequest(method, tp.URL+"/tls?x=1", strings.NewReader("body"))
		req.Host = "www.example.test"
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		got := do(t, newClient(t), req)
		for _, w := range []string{method + " /tls?x=1\n", "Host: www.example.test\n", "X-Forwarded-For: 127.0.0.1\n"} {
			if !strings.Contains(got, w) {
				t.Errorf("%s: origin saw no %q in:\n%s", method, w, got)
			}
		}
	}
}

func TestEarlyResponse(t *testing.T) {
	// The origin refuses a large upload without reading it.
	o := origins(t, 1, func(int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		})
	})
	tp := startProxy(t, config.Zone{Origins: o}, Options{}, frontOpts{})
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest("POST", tp.URL+"/upload", bytes.NewReader(make([]byte, 8<<20)))
		resp, err := newClient(t).Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || string(b) != "too large\n" {
			t.Errorf("request %d: got %d %q, want 413", i, resp.StatusCode, b)
		}
	}
}

func TestChunkedUpload(t *testing.T) {
	o := origins(t, 1, func(int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				t.Errorf("origin reading body: %v", err)
			}
			fmt.Fprintf(w, "%d %v %s", r.ContentLength, r.TransferEncoding, b)
		})
	})
	tp := startProxy(t, config.Zone{Origins: o}, Options{}, frontOpts{})
	c := newClient(t)
	for i := 0; i < 3; i++ { // later rounds reuse pooled connections
		pr, pw := io.Pipe()
		go func() {
			pw.Write([]byte("part one, "))
			time.Sleep(10 * time.Millisecond)
			pw.Write([]byte("part two"))
			pw.Close()
		}()
		req, _ := http.NewRequest("PUT", tp.URL+"/", pr)
		if got := do(t, c, req); got != "-1 [chunked] part one, part two" {
			t.Errorf("origin got %q", got)
		}
	}
}

func TestClientAbortDuringUpload(t *testing.T) {
	o := origins(t, 1, func(int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Write([]byte("done"))
		})
	})
	tp := startProxy(t, config.Zone{Origins: o}, Options{}, frontOpts{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(tp.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("POST /up HTTP/1.1\r\nHost: www.example.test\r\nContent-Length: 1000000\r\n\r\npartial"))
	time.Sleep(50 * time.Millisecond)
	conn.Close()
	waitFor(t, func() bool { return hasLine(tp.logs.lines(), "source=client") })
	if hasLine(tp.logs.lines(), "502") || hasLine(tp.logs.lines(), "source=origin") {
		t.Errorf("an aborted upload was blamed on the origin: %q", tp.logs.lines())
	}
	if !tp.Origins()[0].Healthy {
		t.Error("a client abort counted against the origin")
	}
}

func TestCanceledRequestsDoNotPoisonPool(t *testing.T) {
	// Clients that give up while their response is on its way must not
	// leave broken connections in the pool or eject the origin.
	o := origins(t, 1, func(int) http.Handler { return named("ok") })
	tp := startProxy(t, config.Zone{Origins: o, HealthCheck: config.HealthCheck{MaxFails: 1}}, Options{}, frontOpts{})
	var wg sync.WaitGroup
	stopAt := time.Now().Add(400 * time.Millisecond)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(stopAt); i++ {
				// A fresh connection each time: closing it cancels the
				// request at a random point of its round trip.
				conn, err := net.Dial("tcp", strings.TrimPrefix(tp.URL, "http://"))
				if err != nil {
					return
				}
				conn.Write([]byte("GET / HTTP/1.1\r\nHost: www.example.test\r\n\r\n"))
				time.Sleep(time.Duration(i%5) * 20 * time.Microsecond)
				conn.Close()
			}
		}()
	}
	wg.Wait()
	c := newClient(t)
	for i := 0; i < 50; i++ {
		if got := get(t, c, tp.URL+"/"); got != "ok" {
			t.Fatalf("request %d after cancellations = %q", i, got)
		}
	}
	if !tp.Origins()[0].Healthy {
		t.Error("client cancellations ejected the origin")
	}
	if hasLine(tp.logs.lines(), "source=origin") {
		t.Errorf("client cancellations were blamed on the origin: %q", tp.logs.lines())
	}
}

func TestOriginPathPrefix(t *testing.T) {
	o := origins(t, 1, func(int) http.Handler { return echoHeaders() })
	tests := []struct{ origin, path, want string }{
		{o[0] + "/base", "/a/b?x=1", "GET /base/a/b?x=1\n"},
		{o[0] + "/base/", "/a", "GET /base/a\n"},
		{o[0] + "/", "/a%2Fb?q", "GET /a%2Fb?q\n"},
	}
	for _, tt := range tests {
		t.Run(tt.origin+tt.path, func(t *testing.T) {
			tp := startProxy(t, config.Zone{Origins: []string{tt.origin}}, Options{}, frontOpts{})
			if got := get(t, newClient(t), tp.URL+tt.path); !strings.HasPrefix(got, tt.want) {
				t.Errorf("origin saw %q, want prefix %q", got, tt.want)
			}
		})
	}
}

func TestHTTP2Client(t *testing.T) {
	o := origins(t, 1, func(int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %s %d %q", r.Proto, r.Method, r.ContentLength, b)
		})
	})
	p, err := New(config.Zone{Host: "www.example.test", Origins: o}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	t.Cleanup(p.Close)
	front := httptest.NewUnstartedServer(p)
	front.EnableHTTP2 = true
	front.StartTLS()
	t.Cleanup(front.Close)
	c := front.Client()
	tests := []struct {
		method, body, want string
	}{
		{"GET", "", `HTTP/1.1 GET 0 ""`},
		{"POST", "", `HTTP/1.1 POST 0 ""`},
		{"POST", "payload", `HTTP/1.1 POST 7 "payload"`},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.body, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, _ := http.NewRequest(tt.method, front.URL+"/", body)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.Proto != "HTTP/2.0" {
				t.Errorf("client spoke %s, want HTTP/2.0", resp.Proto)
			}
			if string(b) != tt.want {
				t.Errorf("origin saw %s, want %s", b, tt.want)
			}
		})
	}
}

func TestCloseClosesIdleConnections(t *testing.T) {
	var open atomic.Int32
	srv := httptest.NewUnstartedServer(named("ok"))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	p, err := New(config.Zone{Host: "x.test", Origins: []string{srv.URL}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	p.Start() // idempotent
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	c := newClient(t)
	for i := 0; i < 3; i++ {
		get(t, c, front.URL+"/")
	}
	if open.Load() == 0 {
		t.Fatal("no pooled origin connection")
	}
	p.Close()
	p.Close() // idempotent
	waitFor(t, func() bool { return open.Load() == 0 })
}

func TestAllDownTriesAnyway(t *testing.T) {
	// The only origin fails its health check but serves requests: with
	// nothing healthy left, requests are still tried instead of a fast 502.
	o := origins(t, 1, func(int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/health" {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.Write([]byte("served"))
		})
	})
	z := config.Zone{Origins: o, HealthCheck: config.HealthCheck{Path: "/health", Interval: 10 * time.Millisecond, Unhealthy: 1}}
	tp := startProxy(t, z, Options{}, frontOpts{})
	waitFor(t, func() bool { return !tp.Origins()[0].Healthy })
	if got := get(t, newClient(t), tp.URL+"/"); got != "served" {
		t.Errorf("got %q, want the origin tried anyway", got)
	}
}

// syncBuf is a log destination safe for the server's goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFailedUploadLeavesServerSane: a POST whose origin cannot be reached
// is answered 502 without its body being read; behind net/http's server
// (listen.server: net/http) the full-duplex body left unread made the
// server panic peeking for the next request ("invalid concurrent
// Body.Read call", golang/go#68560).
func TestFailedUploadLeavesServerSane(t *testing.T) {
	p, err := New(config.Zone{Host: "up.test", Origins: []string{deadOrigin(t)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	defer p.Close()
	var errs syncBuf
	srv := httptest.NewUnstartedServer(p)
	srv.Config.ErrorLog = log.New(&errs, "", 0)
	srv.Start()
	defer srv.Close()
	c := srv.Client()
	for i := 0; i < 5; i++ {
		resp, err := c.Post(srv.URL+"/upload", "text/plain", strings.NewReader(strings.Repeat("data", 64)))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("status %d, want 502", resp.StatusCode)
		}
	}
	srv.Close() // waits for the connections' goroutines
	if got := errs.String(); strings.Contains(got, "panic") {
		t.Errorf("server log: %s", got)
	}
}
