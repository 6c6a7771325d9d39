package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/edge"
)

// recordingOrigin is a real origin on 127.0.0.1 that records every
// request it receives: path and query, and the body's length and hash.
type recordingOrigin struct {
	*httptest.Server
	mu   sync.Mutex
	got  []recorded
	hits atomic.Int64
}

type recorded struct {
	target string
	n      int
	sum    [32]byte
}

func newRecordingOrigin(t *testing.T) *recordingOrigin {
	t.Helper()
	o := &recordingOrigin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		o.hits.Add(1)
		o.mu.Lock()
		o.got = append(o.got, recorded{target: r.URL.RequestURI(), n: len(b), sum: sha256.Sum256(b)})
		o.mu.Unlock()
		fmt.Fprintf(w, "ok %d", len(b))
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *recordingOrigin) received(target string) (recorded, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, g := range o.got {
		if g.target == target {
			return g, true
		}
	}
	return recorded{}, false
}

// form returns an urlencoded body of n arguments, padded with a last
// argument to size bytes when size is larger.
func form(n, size int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte('&')
		}
		fmt.Fprintf(&b, "f%d=v", i)
	}
	if b.Len() < size {
		b.WriteString("&pad=")
		b.WriteString(strings.Repeat("x", size-b.Len()))
	}
	return b.String()
}

func multipartBody(n int) (string, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i := range n {
		mw.WriteField(fmt.Sprintf("f%d", i), "v")
	}
	mw.Close()
	return buf.String(), mw.FormDataContentType()
}

func jsonBody(n int) string {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"k":%d}`, i)
	}
	b.WriteString(`]}`)
	return b.String()
}

func cookies(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "c%d=v", i)
	}
	return b.String()
}

// TestWAFArgumentLimits (issue 11, point 2): a request carrying more
// arguments than waf.limits.args (or a name longer than
// arg_name_length, or values past arg_length / total_args_length) is
// refused with 413 by a block-mode zone before Coraza parses it, through
// every source Coraza makes arguments of (query string, urlencoded,
// multipart and JSON bodies, cookies), over HTTP/1.1 and HTTP/2; the
// origin receives nothing. Within the limits the request passes with its
// body intact. A detect-mode zone passes the over-limit request whole to
// the origin and logs that inspection was cut at the limit.
func TestWAFArgumentLimits(t *testing.T) {
	o := newRecordingOrigin(t)
	dir := t.TempDir()
	cert, key, x509 := selfSigned(t, dir, "waf", "block.test", "detect.test", "tight.test")
	cfg := parseConfig(t, fmt.Sprintf(`
data_dir: %s
listen: {https: "127.0.0.1:8443"}
log: {format: "off"}
tls:
  certificates: [{cert: %s, key: %s}]
zones:
  - host: block.test
    origins: [%s]
    waf: {mode: block}
  - host: detect.test
    origins: [%s]
    waf: {mode: detect}
  - host: tight.test
    origins: [%s]
    waf: {mode: block, limits: {args: 20, arg_name_length: 16, arg_length: 64, total_args_length: 200}}
`, t.TempDir(), cert, key, o.URL, o.URL, o.URL))
	r := start(t, cfg)
	httpsAddr := r.Addrs().HTTPS
	_, port, _ := net.SplitHostPort(httpsAddr)
	h2 := tlsClient(true, x509)
	h2.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, httpsAddr)
	}

	mpBig, mpBigType := multipartBody(1500)
	mpOK, mpOKType := multipartBody(50)
	attack := "q=" + strings.Repeat("a", 10) + "%27+OR+1%3D1--+&id=1+UNION+SELECT+password+FROM+users"
	cases := []struct {
		name, host, query, ctype, body, cookie string
		want                                   int // status
		limit                                  string
		chunked                                bool // no Content-Length
	}{
		{name: "chunked urlencoded 8000 args", host: "block.test", ctype: "application/x-www-form-urlencoded", body: form(8000, 128<<10), want: 413, limit: "args", chunked: true},
		{name: "chunked within", host: "block.test", ctype: "application/x-www-form-urlencoded", body: form(200, 100<<10), want: 200, chunked: true},
		{name: "no content type, 8000 pairs (parsed as urlencoded)", host: "block.test", body: form(8000, 0), want: 413, limit: "args"},
		{name: "text/plain, 8000 pairs (parsed as urlencoded)", host: "block.test", ctype: "text/plain", body: form(8000, 0), want: 413, limit: "args"},
		{name: "disguised type by prefix", host: "block.test", ctype: "application/x-www-form-urlencodedX", body: form(8000, 0), want: 413, limit: "args"},
		{name: "urlencoded 8000 args 128 KiB", host: "block.test", ctype: "application/x-www-form-urlencoded", body: form(8000, 128<<10), want: 413, limit: "args"},
		{name: "urlencoded 256 args", host: "block.test", ctype: "application/x-www-form-urlencoded", body: form(256, 0), want: 413, limit: "args"},
		{name: "urlencoded, charset parameter", host: "block.test", ctype: "application/x-www-form-urlencoded; charset=UTF-8", body: form(2000, 0), want: 413, limit: "args"},
		{name: "urlencoded, upper case type", host: "block.test", ctype: "Application/X-WWW-Form-Urlencoded", body: form(2000, 0), want: 413, limit: "args"},
		{name: "query 150 and body 150", host: "block.test", query: form(150, 0), ctype: "application/x-www-form-urlencoded", body: form(150, 0), want: 413, limit: "args"},
		{name: "query 1500 args", host: "block.test", query: form(1500, 0), want: 413, limit: "args"},
		{name: "multipart 1500 parts", host: "block.test", ctype: mpBigType, body: mpBig, want: 413, limit: "args"},
		{name: "json 1500 values", host: "block.test", ctype: "application/json", body: jsonBody(1500), want: 413, limit: "args"},
		{name: "json+ subtype 1500 values", host: "block.test", ctype: "application/vnd.api+json", body: jsonBody(1500), want: 413, limit: "args"},
		{name: "1100 cookies", host: "block.test", cookie: cookies(1100), want: 413, limit: "cookies"},
		{name: "name of 300 bytes", host: "block.test", query: strings.Repeat("n", 300) + "=1", want: 413, limit: "arg_name_length"},
		{name: "percent-encoded name of 300 bytes", host: "block.test", query: strings.Repeat("%6E", 300) + "=1", want: 413, limit: "arg_name_length"},
		{name: "within: 254 args", host: "block.test", ctype: "application/x-www-form-urlencoded", body: form(254, 0), want: 200},
		{name: "within: multipart 50 parts", host: "block.test", ctype: mpOKType, body: mpOK, want: 200},
		{name: "within: json 200 values", host: "block.test", ctype: "application/json", body: jsonBody(200), want: 200},
		{name: "tight: 21 args", host: "tight.test", query: form(21, 0), want: 413, limit: "args"},
		{name: "tight: value of 65", host: "tight.test", query: "a=" + strings.Repeat("v", 65), want: 413, limit: "arg_length"},
		{name: "tight: total 201", host: "tight.test", query: "a=" + strings.Repeat("v", 60) + "&b=" + strings.Repeat("v", 60) + "&c=" + strings.Repeat("v", 60) + "&d=" + strings.Repeat("v", 20), want: 413, limit: "total_args_length"},
		{name: "tight: within", host: "tight.test", query: form(19, 0), want: 200},
		{name: "detect: 8000 args pass whole", host: "detect.test", ctype: "application/x-www-form-urlencoded", body: form(8000, 128<<10), want: 200, limit: "args"},
		{name: "detect: 1100 cookies pass", host: "detect.test", cookie: cookies(1100), want: 200, limit: "cookies"},
		{name: "detect: multipart 1500 parts pass whole", host: "detect.test", ctype: mpBigType, body: mpBig, want: 200, limit: "args"},
		{name: "block: an attack within the limit is still blocked", host: "block.test", ctype: "application/x-www-form-urlencoded", body: attack + "&" + form(200, 0), want: 403},
	}
	for i, tc := range cases {
		for _, viaH2 := range []bool{false, true} {
			proto := map[bool]string{false: "HTTP/1.1", true: "HTTP/2"}[viaH2]
			t.Run(proto+" "+tc.name, func(t *testing.T) {
				target := fmt.Sprintf("/c%d-%v", i, viaH2)
				if tc.query != "" {
					target += "?" + tc.query
				}
				method := "GET"
				var body io.Reader
				if tc.body != "" {
					method, body = "POST", strings.NewReader(tc.body)
					if tc.chunked {
						body = struct{ io.Reader }{body} // length unknown to the client
					}
				}
				url, c := r.url(target), wafClient
				if viaH2 {
					url, c = "https://"+tc.host+":"+port+target, h2
				}
				req, err := http.NewRequest(method, url, body)
				if err != nil {
					t.Fatal(err)
				}
				req.Host = tc.host
				req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
				req.Header.Set("Accept", "*/*")
				if tc.ctype != "" {
					req.Header.Set("Content-Type", tc.ctype)
				}
				if tc.cookie != "" {
					req.Header.Set("Cookie", tc.cookie)
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				rb, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if viaH2 && resp.ProtoMajor != 2 {
					t.Fatalf("proto %s, want HTTP/2", resp.Proto)
				}
				if resp.StatusCode != tc.want {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, rb)
				}
				id := resp.Header.Get(edge.RequestIDHeader)
				got, reached := o.received(req.URL.RequestURI())
				switch {
				case tc.want == 413:
					if reached {
						t.Fatal("the origin received a refused request")
					}
					if !strings.Contains(string(rb), "waf.limits."+tc.limit) || !strings.Contains(string(rb), id) {
						t.Errorf("413 body %q does not name waf.limits.%s and the request id", rb, tc.limit)
					}
					if waitLogLine(r, id, "waf refused a request over the argument limits") == "" {
						t.Error("no log line for the refusal")
					}
				case tc.want == 200:
					if !reached || got.n != len(tc.body) || got.sum != sha256.Sum256([]byte(tc.body)) {
						t.Fatalf("the origin got %v (%d bytes), want the whole body of %d bytes", reached, got.n, len(tc.body))
					}
					if tc.limit != "" && waitLogLine(r, id, "inspected only up to them") == "" {
						t.Error("detect mode: no log line saying the inspection was cut")
					}
				case tc.want == 403:
					if reached {
						t.Fatal("the origin received a blocked request")
					}
				}
			})
		}
	}
}

// TestWAFMemoryBudget (issue 11, point 2): the node's inspection budget
// (waf.memory) admits what fits; a request that finds no room within
// waf.memory_wait gets 503 with Retry-After in a block-mode zone and
// never reaches the origin, and passes uninspected (logged) in a
// detect-mode zone. Every request that got 200 reached the origin with
// its body whole, and the budget is empty again afterwards.
func TestWAFMemoryBudget(t *testing.T) {
	o := newRecordingOrigin(t)
	cfg := parseConfig(t, fmt.Sprintf(`
data_dir: %s
log: {format: "off"}
waf: {memory: 1MiB, memory_wait: 20ms}
zones:
  - host: block.test
    origins: [%s]
    waf: {mode: block}
  - host: detect.test
    origins: [%s]
    waf: {mode: detect}
`, t.TempDir(), o.URL, o.URL))
	r := start(t, cfg)
	// Each estimate is far over 1 MiB, so they run one at a time.
	body := form(200, 16<<10)
	for _, host := range []string{"block.test", "detect.test"} {
		t.Run(host, func(t *testing.T) {
			const n = 8
			type reply struct {
				status     int
				retryAfter string
				target     string
			}
			replies := make(chan reply, n)
			for i := range n {
				go func() {
					target := fmt.Sprintf("/%s/%d", host, i)
					req, _ := http.NewRequest("POST", r.url(target), strings.NewReader(body))
					req.Host = host
					req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
					req.Header.Set("Accept", "*/*")
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					resp, err := wafClient.Do(req)
					if err != nil {
						replies <- reply{status: -1, target: target}
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					replies <- reply{resp.StatusCode, resp.Header.Get("Retry-After"), target}
				}()
			}
			ok, busy := 0, 0
			for range n {
				rp := <-replies
				g, reached := o.received(rp.target)
				switch {
				case rp.status == 200:
					ok++
					if !reached || g.n != len(body) {
						t.Errorf("%s: 200 but the origin got %v %d bytes", rp.target, reached, g.n)
					}
				case rp.status == 503 && host == "block.test":
					busy++
					if rp.retryAfter != "1" {
						t.Errorf("503 without Retry-After: 1 (%q)", rp.retryAfter)
					}
					if reached {
						t.Errorf("%s: 503 but the origin got it", rp.target)
					}
				default:
					t.Errorf("%s: status %d", rp.target, rp.status)
				}
			}
			if ok == 0 {
				t.Error("no request was inspected and passed")
			}
			if host == "block.test" && busy == 0 {
				t.Error("no request was turned away by a full budget")
			}
			if host == "detect.test" && !strings.Contains(r.logs.String(), `"passed_uninspected":true`) {
				t.Error("detect mode: no log line for the requests passed uninspected")
			}
			deadline := time.Now().Add(5 * time.Second)
			for testutilGaugeAny(t, r, "rampart_waf_memory_reserved_bytes") != 0 {
				if time.Now().After(deadline) {
					t.Fatalf("the budget still holds %v bytes", testutilGaugeAny(t, r, "rampart_waf_memory_reserved_bytes"))
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// testutilGaugeAny reads an unlabelled gauge of the app's metrics.
func testutilGaugeAny(t *testing.T, r *running, name string) float64 {
	t.Helper()
	mfs, err := r.Metrics().Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}
