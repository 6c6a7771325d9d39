package waf

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/metrics"
	"github.com/rampart-edge/rampart/internal/reqctx"
	"github.com/rampart-edge/rampart/internal/testlog"
)

// shared is one Set for the package's tests, so that each distinct
// setting is compiled once (0.3-1 s each).
var (
	sharedOnce sync.Once
	shared     *Set
	sharedLogs *testlog.Buffer
	sharedReg  *metrics.Registry
)

func testSet(t testing.TB) *Set {
	t.Helper()
	sharedOnce.Do(func() {
		sharedLogs = &testlog.Buffer{}
		sharedReg = metrics.New()
		shared = NewSet(Options{Logger: slog.New(slog.NewJSONHandler(sharedLogs, nil)), Metrics: sharedReg})
	})
	return shared
}

func phase(t testing.TB, cfg config.WAF) *Phase {
	t.Helper()
	p, err := testSet(t).Phase("example.test", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// request builds a server-side request as the edge hands it to a phase:
// with a reqctx.Info carrying the request id.
func request(method, target, body, contentType string) (*http.Request, *reqctx.Info) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	r.Host = "example.test"
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	r.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	r.Header.Set("Accept-Language", "en-GB,en;q=0.5")
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	info := &reqctx.Info{ID: "req-test-1", Start: time.Now(), ClientIP: netip.MustParseAddr("192.0.2.10"), Zone: "example.test"}
	return r.WithContext(reqctx.With(r.Context(), info)), info
}

func TestDirectives(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cfg       config.WAF
		want      []string
		wantOrder []string // substrings that must appear in this order
	}{
		{
			name: "defaults",
			cfg:  config.WAF{Mode: "block"},
			want: []string{"tx.blocking_paranoia_level=1", "tx.inbound_anomaly_score_threshold=5", "SecRequestBodyLimit 131072", "SecResponseBodyAccess Off", "SecRuleEngine On"},
		},
		{
			name: "paranoia and threshold",
			cfg:  config.WAF{Paranoia: 3, AnomalyThreshold: 12, BodyLimit: 4096},
			want: []string{"tx.blocking_paranoia_level=3", "tx.inbound_anomaly_score_threshold=12", "SecRequestBodyLimit 4096", "SecRequestBodyLimitAction ProcessPartial"},
		},
		{
			name:      "exclusion by id is after the rules",
			cfg:       config.WAF{Exclusions: []config.WAFExclusion{{Rule: 942100, Rules: []int{941100}}}},
			wantOrder: []string{"Include @owasp_crs/*.conf", "SecRuleRemoveById 942100", "SecRuleRemoveById 941100"},
		},
		{
			name:      "exclusion by path is before the rules",
			cfg:       config.WAF{Exclusions: []config.WAFExclusion{{Rule: 942100, Path: "/api/"}}},
			wantOrder: []string{`SecRule REQUEST_FILENAME "@beginsWith /api/" "id:10000,phase:1,pass,t:none,nolog,ctl:ruleRemoveById=942100"`, "Include @owasp_crs/*.conf"},
		},
		{
			name:      "exclusion by arg",
			cfg:       config.WAF{Exclusions: []config.WAFExclusion{{Rule: 942100, Args: []string{"q"}}, {Args: []string{"html"}}}},
			wantOrder: []string{"Include @owasp_crs/*.conf", `SecRuleUpdateTargetById 942100 "!ARGS:q"`, `SecRuleUpdateTargetByTag "OWASP_CRS" "!ARGS:html"`},
		},
		{
			name:      "no apps keep the glob",
			cfg:       config.WAF{Mode: "block"},
			wantOrder: []string{"Include @crs-setup.conf.example", "Include @owasp_crs/*.conf"},
		},
		{
			name: "apps after the initialization, before the rules, in the CRS order",
			cfg:  config.WAF{Apps: []string{"nextcloud", "wordpress"}, Exclusions: []config.WAFExclusion{{Rule: 942100, Path: "/api/"}, {Rule: 941100}}},
			wantOrder: []string{
				"id:10000,", "Include @crs-setup.conf.example",
				"Include @owasp_crs/REQUEST-901-INITIALIZATION.conf\n",
				`SecAction "id:9002,phase:1,pass,t:none,nolog,setvar:tx.crs_exclusions_wordpress=1"`,
				`SecAction "id:9003,phase:1,pass,t:none,nolog,setvar:tx.crs_exclusions_nextcloud=1"`,
				"Include apps/REQUEST-903.9002-WORDPRESS-EXCLUSION-RULES.conf\n",
				"Include apps/REQUEST-903.9003-NEXTCLOUD-EXCLUSION-RULES.conf\n",
				"Include @owasp_crs/REQUEST-905-COMMON-EXCEPTIONS.conf\n",
				"Include @owasp_crs/REQUEST-942-APPLICATION-ATTACK-SQLI.conf\n",
				"Include @owasp_crs/REQUEST-949-BLOCKING-EVALUATION.conf\n",
				"Include @owasp_crs/RESPONSE-980-CORRELATION.conf\n",
				"SecRuleRemoveById 941100",
			},
		},
		{
			name: "exclusion by path and arg",
			cfg:  config.WAF{Exclusions: []config.WAFExclusion{{Rules: []int{942100}, Path: "/x", Args: []string{"a"}}, {Path: "/y", Args: []string{"b"}}}},
			want: []string{"ctl:ruleRemoveTargetById=942100;ARGS:a", "id:10001,", "ctl:ruleRemoveTargetByTag=OWASP_CRS;ARGS:b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Directives(tt.cfg, "")
			for _, w := range tt.want {
				if !strings.Contains(d, w) {
					t.Errorf("directives lack %q:\n%s", w, d)
				}
			}
			at := 0
			for _, w := range tt.wantOrder {
				i := strings.Index(d[at:], w)
				if i < 0 {
					t.Fatalf("directives lack %q after offset %d:\n%s", w, at, d)
				}
				at += i + len(w)
			}
		})
	}
	// Mode and skip do not change the compiled rules: detect and block
	// share one WAF.
	a := Directives(config.WAF{Mode: "detect", Paranoia: 2}, "")
	b := Directives(config.WAF{Mode: "block", Paranoia: 2, Skip: config.WAFSkip{Extensions: []string{".css"}}}, "")
	if a != b {
		t.Error("detect and block settings give different directives")
	}
}

func TestSetSharesCompiledRules(t *testing.T) {
	s := testSet(t)
	p1 := phase(t, config.WAF{Mode: "block", Paranoia: 1})
	n := s.Len()
	p2, err := s.Phase("other.test", config.WAF{Mode: "detect", Paranoia: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p1.waf != p2.waf {
		t.Error("two zones with equal rule settings got different compiled WAFs")
	}
	if s.Len() != n {
		t.Errorf("compiled sets grew from %d to %d for an equal setting", n, s.Len())
	}
	if p, err := s.Phase("off.test", config.WAF{Mode: "off"}); p != nil || err != nil {
		t.Errorf("mode off: got phase %v, error %v; want nil, nil", p, err)
	}
	if _, err := s.Phase("apps.test", config.WAF{Mode: "block", Apps: []string{"joomla"}}); err == nil || !strings.Contains(err.Error(), `"joomla"`) {
		t.Errorf("unknown app: error %v, want one naming it", err)
	}
	// Zones with different apps get different compiled WAFs; the same
	// apps in another order or repeated share one.
	wp := phase(t, config.WAF{Mode: "block", Paranoia: 1, Apps: []string{"wordpress"}})
	if wp.waf == p1.waf {
		t.Error("a zone with apps: [wordpress] shares the WAF of a zone without apps")
	}
	both := phase(t, config.WAF{Mode: "block", Paranoia: 1, Apps: []string{"wordpress", "nextcloud"}})
	again := phase(t, config.WAF{Mode: "detect", Paranoia: 1, Apps: []string{"nextcloud", "wordpress", "nextcloud"}})
	if both.waf == wp.waf {
		t.Error("apps [wordpress nextcloud] share the WAF of apps [wordpress]")
	}
	if both.waf != again.waf {
		t.Error("the same apps in another order got another compiled WAF")
	}
}

func TestRetain(t *testing.T) {
	s := NewSet(Options{})
	cfgA := config.WAF{Mode: "block", Paranoia: 1, AnomalyThreshold: 7}
	if _, err := s.WAF(cfgA); err != nil {
		t.Fatal(err)
	}
	s.Retain([]config.WAF{{Mode: "off"}})
	if s.Len() != 0 {
		t.Errorf("Retain kept %d unused sets", s.Len())
	}
}

func TestPhaseVerdicts(t *testing.T) {
	block := phase(t, config.WAF{Mode: "block", Paranoia: 1})
	tests := []struct {
		name, method, target, body, ctype, ua string
		want                                  int
	}{
		{name: "benign get", method: "GET", target: "/products?id=42&sort=price", want: 200},
		{name: "benign form", method: "POST", target: "/contact", body: "name=Mary+O%27Brien&email=mary%40example.org&message=Hello+there", ctype: "application/x-www-form-urlencoded", want: 200},
		{name: "sqli in query", method: "GET", target: "/items?id=1%27%20OR%20%271%27%3D%271", want: 403},
		{name: "sqli union", method: "GET", target: "/items?id=1+UNION+SELECT+username,password+FROM+users--", want: 403},
		{name: "sqli in form body", method: "POST", target: "/login", body: "user=admin%27--&pass=x%27+or+1%3D1--", ctype: "application/x-www-form-urlencoded", want: 403},
		{name: "xss", method: "GET", target: "/search?q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E", want: 403},
		{name: "path traversal", method: "GET", target: "/download?file=../../../../etc/passwd", want: 403},
		{name: "rce", method: "GET", target: "/ping?host=127.0.0.1%3Bcat%20%2Fetc%2Fpasswd", want: 403},
		{name: "sqlmap", method: "GET", target: "/", ua: "sqlmap/1.7.2#stable (https://sqlmap.org)", want: 403},
		{name: "nikto", method: "GET", target: "/", ua: "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)", want: 403},
		{name: "sqli in json", method: "POST", target: "/api", body: `{"id":"1' UNION SELECT password FROM users--"}`, ctype: "application/json", want: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, info := request(tt.method, tt.target, tt.body, tt.ctype)
			if tt.ua != "" {
				r.Header.Set("User-Agent", tt.ua)
			}
			w := httptest.NewRecorder()
			d := block.Serve(w, r)
			got := 200
			if d == edge.Handled {
				got = w.Code
			}
			if got != tt.want {
				t.Fatalf("status %d, want %d (body %q)", got, tt.want, w.Body.String())
			}
			if tt.want == 403 {
				if !strings.Contains(w.Body.String(), "request id: req-test-1") {
					t.Errorf("403 body lacks the request id: %q", w.Body.String())
				}
				if info.Block != BlockReason {
					t.Errorf("info.Block = %q, want %q", info.Block, BlockReason)
				}
			}
			if tt.body != "" && d == edge.Continue {
				// The origin must still get the whole body.
				b, err := io.ReadAll(r.Body)
				if err != nil || string(b) != tt.body {
					t.Errorf("replayed body %q (%v), want %q", b, err, tt.body)
				}
			}
		})
	}
}

func TestDetectModeLogsAndPasses(t *testing.T) {
	detect := phase(t, config.WAF{Mode: "detect", Paranoia: 1})
	r, info := request("GET", "/items?id=1%27%20OR%20%271%27%3D%271&tag=zzdetectmarker", "", "")
	w := httptest.NewRecorder()
	if d := detect.Serve(w, r); d != edge.Continue {
		t.Fatalf("detect mode answered the request (status %d)", w.Code)
	}
	if info.Block != "" {
		t.Errorf("detect mode set Block %q", info.Block)
	}
	logs := sharedLogs.String()
	var line string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "zzdetectmarker") {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("no log line for the detected request:\n%s", logs)
	}
	for _, want := range []string{`"request_id":"req-test-1"`, `"zone":"example.test"`, "detect mode", "942", `"anomaly_score":`} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %s: %s", want, line)
		}
	}
	mfs, err := sharedReg.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "rampart_waf_requests_total" {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "action" && l.GetValue() == "detected" && m.GetCounter().GetValue() > 0 {
						found = true
					}
				}
			}
		}
	}
	if !found {
		t.Error("rampart_waf_requests_total{action=detected} not counted")
	}
}

func TestBodyLimit(t *testing.T) {
	// An attack placed past the body limit is not inspected and the whole
	// body still reaches the origin; one inside the limit is blocked.
	p := phase(t, config.WAF{Mode: "block", Paranoia: 1, BodyLimit: 1024})
	attack := "&q=1%27+UNION+SELECT+password+FROM+users--"
	tests := []struct {
		name    string
		padding int
		want    edge.Decision
	}{
		{"attack inside the limit", 100, edge.Handled},
		{"attack past the limit", 4096, edge.Continue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := "pad=" + strings.Repeat("a", tt.padding) + attack
			r, _ := request("POST", "/form", body, "application/x-www-form-urlencoded")
			w := httptest.NewRecorder()
			if d := p.Serve(w, r); d != tt.want {
				t.Fatalf("decision %v, want %v (status %d)", d, tt.want, w.Code)
			}
			if tt.want == edge.Continue {
				b, err := io.ReadAll(r.Body)
				if err != nil || string(b) != body {
					t.Errorf("origin got %d bytes (%v), want the whole %d", len(b), err, len(body))
				}
			}
		})
	}
}

func TestSkipStaticAssets(t *testing.T) {
	p := phase(t, config.WAF{Mode: "block", Paranoia: 1, Skip: config.WAFSkip{Paths: []string{"/static/"}, Extensions: []string{".css", ".PNG"}}})
	const xss = "%3Cscript%3Ealert(1)%3C/script%3E"
	// The attack rides in a cookie (941100 reads REQUEST_COOKIES) where the
	// request must be skipped with no query.
	tests := []struct {
		name, method, target, body string
		cookie                     bool
		want                       edge.Decision
	}{
		{"extension skipped", "GET", "/app.css", "", true, edge.Continue},
		{"extension case-insensitive", "HEAD", "/img/logo.png", "", true, edge.Continue},
		{"extension with a query inspected", "GET", "/app.css?x=" + xss, "", false, edge.Handled},
		{"PATH_INFO extension inspected", "GET", "/index.php/x.css?q=" + xss, "", false, edge.Handled},
		{"PATH_INFO extension without query inspected", "GET", "/index.php/x.css", "", true, edge.Handled},
		{"extension with a body inspected", "GET", "/app.css", "x=" + xss, false, edge.Handled},
		{"path skipped", "GET", "/static/x?q=../../../../etc/passwd", "", false, edge.Continue},
		{"path with a body inspected", "GET", "/static/x", "q=" + xss, false, edge.Handled},
		{"post not skipped", "POST", "/app.css?x=" + xss, "", false, edge.Handled},
		{"other path inspected", "GET", "/page?x=" + xss, "", false, edge.Handled},
		{"dot in directory is no extension", "GET", "/a.css/page?x=" + xss, "", false, edge.Handled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := ""
			if tt.body != "" {
				ct = "application/x-www-form-urlencoded"
			}
			r, _ := request(tt.method, tt.target, tt.body, ct)
			if tt.cookie {
				r.Header.Set("Cookie", "x=<script>alert(1)</script>")
			}
			if got := p.Serve(httptest.NewRecorder(), r); got != tt.want {
				t.Errorf("decision %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAnomalyScoreAndTruncate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		msg  string
		want int
	}{
		{"Inbound Anomaly Score Exceeded (Total Score: 15)", 15},
		{"Total Score: ", 0},
		{"nothing", 0},
	} {
		t.Run(tt.msg, func(t *testing.T) {
			if got := anomalyScore(tt.msg); got != tt.want {
				t.Errorf("anomalyScore(%q) = %d, want %d", tt.msg, got, tt.want)
			}
		})
	}
	if got := truncate("ééé", 3); got != "é..." {
		t.Errorf("truncate on a rune boundary: %q", got)
	}
}

// FuzzBodyReplay checks that whatever body a request carries, the origin
// gets it back byte for byte after the WAF read its inspected prefix.
func FuzzBodyReplay(f *testing.F) {
	f.Add([]byte("a=1&b=2"), "application/x-www-form-urlencoded")
	f.Add([]byte(`{"k":[1,2,{"x":"y"}]}`), "application/json")
	f.Add(bytes.Repeat([]byte("z"), 3000), "text/plain")
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n--b--\r\n"), "multipart/form-data; boundary=b")
	p := phase(f, config.WAF{Mode: "detect", Paranoia: 1, BodyLimit: 1024})
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		if len(body) == 0 {
			return
		}
		r, _ := request("POST", "/f", "", "")
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Type", ctype)
		p.Serve(httptest.NewRecorder(), r)
		got, err := io.ReadAll(r.Body)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("replayed %d bytes (%v), want %d", len(got), err, len(body))
		}
	})
}

// FuzzLogHelpers checks the log helpers on any input: the anomaly score
// parser never panics and is never negative, and truncate never grows a
// string past the limit plus its marker, nor splits a UTF-8 sequence.
func FuzzLogHelpers(f *testing.F) {
	f.Add("Inbound Anomaly Score Exceeded (Total Score: 25)", 100)
	f.Add("Total Score: 99999999999999999999999", 3)
	f.Add("ééééé", 5)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if got := anomalyScore(s); got < 0 {
			t.Fatalf("anomalyScore(%q) = %d", s, got)
		}
		if n < 1 || n > 1000 {
			return
		}
		got := truncate(s, n)
		if len(got) > n+3 {
			t.Fatalf("truncate(%q, %d) = %q: too long", s, n, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("truncate(%q, %d) = %q: split a rune", s, n, got)
		}
	})
}
