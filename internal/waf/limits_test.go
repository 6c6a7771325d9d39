package waf

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/corazawaf/coraza/v3/types"

	"github.com/rampart-edge/rampart/internal/config"
)

func multipartOf(fields int, files int) (string, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i := range fields {
		mw.WriteField(fmt.Sprintf("f%d", i), strings.Repeat("v", i%7))
	}
	for i := range files {
		fw, _ := mw.CreateFormFile(fmt.Sprintf("up%d", i), fmt.Sprintf("a%d.txt", i))
		fw.Write([]byte("file content"))
	}
	mw.Close()
	return buf.String(), mw.FormDataContentType()
}

// argBodies are request shapes whose arguments the scan must count as
// Coraza does.
var argBodies = func() []struct{ name, query, ctype, body string } {
	mp, mpType := multipartOf(37, 2)
	mpFields, mpFieldsType := multipartOf(120, 0)
	return []struct{ name, query, ctype, body string }{
		{"query only", "a=1&b=2&c", "", ""},
		{"query with empty pairs", "&&a=1&&b=&=x&", "", ""},
		{"urlencoded", "q=1", "application/x-www-form-urlencoded", "a=1&b=2&c=%26&d"},
		{"urlencoded with charset and empty pairs", "", "application/x-www-form-urlencoded; charset=utf-8", "&a=1&&b=2&"},
		{"urlencoded 500", "", "application/x-www-form-urlencoded", strings.Repeat("k=v&", 500)},
		{"multipart with files", "x=1", mpType, mp},
		{"multipart 120 fields", "", mpFieldsType, mpFields},
		{"json object", "", "application/json", `{"a":1,"b":{"c":"x","d":[1,2,{"e":null}]},"f":true}`},
		{"json top-level array", "", "application/json", `[1,2,[3,4],{"a":"b"}]`},
		{"json+ subtype", "", "application/problem+json", `{"a":[{"b":1},{"b":2}],"c":[]}`},
		{"json empty", "", "application/json", `{}`},
		{"urlencoded by prefix", "", "application/x-www-form-urlencodedX", "a=1&b=2&c=3"},
		{"urlencoded with spaces and case", "", "  Application/X-WWW-Form-Urlencoded ", "a=1&b=2&c=3"},
		{"json by prefix", "", "application/jsonx", `{"a":1,"b":[1,2]}`},
		{"text/plain is parsed as urlencoded", "", "text/plain", "a=1&b=2"},
		{"no content type is parsed as urlencoded", "", "", "a=1&b=2&c=3"},
		{"octet-stream is parsed as urlencoded", "", "application/octet-stream", "a=1&b=2&c=3&d"},
		{"xml has no arguments", "", "application/xml", "<a>1&amp;b=2</a>"},
		{"soap xml has no arguments", "", "application/soap+xml", "<a>x=1&amp;y=2</a>"},
	}
}()

// TestScanCountsLikeCoraza is a differential test: for every shape the
// scan's argument count equals the number of ARGS Coraza itself collects
// (read by a marker rule), so a request cannot carry more arguments into
// the rules than the limit let through.
func TestScanCountsLikeCoraza(t *testing.T) {
	var mu sync.Mutex
	counts := map[string]int{}
	set := NewSet(Options{
		Logger: slog.New(slog.DiscardHandler),
		Directives: `SecRule &ARGS "@ge 0" "id:19901,phase:2,pass,log,msg:'args',logdata:'%{MATCHED_VAR}'"
`,
		ErrorLog: func(mr types.MatchedRule) {
			if mr.Rule().ID() == 19901 {
				mu.Lock()
				counts[mr.TransactionID()], _ = strconv.Atoi(mr.Data())
				mu.Unlock()
			}
		},
	})
	p, err := set.Phase("example.test", config.WAF{Mode: "detect", Limits: config.WAFLimits{Args: config.MaxWAFArgs}})
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range argBodies {
		t.Run(tc.name, func(t *testing.T) {
			target := "/x"
			if tc.query != "" {
				target += "?" + tc.query
			}
			method := "GET"
			if tc.body != "" {
				method = "POST"
			}
			r, info := request(method, target, tc.body, tc.ctype)
			info.ID = fmt.Sprintf("scan-%d", i)
			sc := scanRequest(r, []byte(tc.body), resolveLimits(config.WAFLimits{Args: config.MaxWAFArgs}), true)
			p.Serve(&nopWriter{h: http.Header{}}, r)
			mu.Lock()
			got, ok := counts[info.ID]
			mu.Unlock()
			if !ok {
				t.Fatal("the marker rule did not run")
			}
			if sc.args-sc.fileParts != got {
				t.Errorf("scan counted %d arguments (and %d files), Coraza collected %d", sc.args-sc.fileParts, sc.fileParts, got)
			}
		})
	}
}

// TestScanLimits checks each limit, the percent-decoded lengths and the
// detect-mode cuts.
func TestScanLimits(t *testing.T) {
	t.Parallel()
	lim := limits{args: 10, nameLen: 8, valueLen: 20, totalLen: 100}
	mp, mpType := multipartOf(15, 0)
	tests := []struct {
		name, query, ctype, body, cookie string
		over                             string
		got                              int
		args, cookies                    int // given to the WAF (after cuts)
		cutBodyArgs                      int // -1: body not cut
	}{
		{name: "within", query: "a=1&b=2", args: 2, cutBodyArgs: -1},
		{name: "11 query args", query: strings.Repeat("a=1&", 11), over: "args", got: 11, args: 10, cutBodyArgs: -1},
		{name: "query and body add up", query: "a=1&b=2&c=3", ctype: "application/x-www-form-urlencoded", body: "d=1&e=2&f=3&g=4&h=5&i=6&j=7&k=8&l=9",
			over: "args", got: 11, args: 10, cutBodyArgs: 7},
		{name: "name of 9", query: "abcdefghi=1", over: "arg_name_length", got: 9, args: 1, cutBodyArgs: -1},
		{name: "encoded name of 8", query: "%61%62%63%64%65%66%67%68=1", args: 1, cutBodyArgs: -1},
		{name: "value of 21", query: "a=" + strings.Repeat("x", 21), over: "arg_length", got: 21, args: 1, cutBodyArgs: -1},
		{name: "encoded value of 20", query: "a=" + strings.Repeat("%41", 20), args: 1, cutBodyArgs: -1},
		{name: "total of 101", query: "a=" + strings.Repeat("x", 20) + "&b=" + strings.Repeat("x", 20) + "&c=" + strings.Repeat("x", 20) + "&d=" + strings.Repeat("x", 20) + "&e=" + strings.Repeat("x", 16),
			over: "total_args_length", got: 101, args: 5, cutBodyArgs: -1},
		{name: "multipart 15 parts", ctype: mpType, body: mp, over: "args", got: 11, args: 10, cutBodyArgs: 10},
		{name: "json 12 values", ctype: "application/json", body: `{"a":[1,2,3,4,5,6,7,8,9,10,11,12]}`, over: "args", got: 11, args: 10, cutBodyArgs: -1},
		{name: "11 cookies", cookie: strings.Repeat("c=1; ", 11), over: "cookies", got: 11, cookies: 10, cutBodyArgs: -1},
		{name: "cookie name of 9", cookie: "abcdefghi=1", over: "arg_name_length", got: 9, cookies: 1, cutBodyArgs: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			target := "/x"
			if tt.query != "" {
				target += "?" + tt.query
			}
			method := "GET"
			if tt.body != "" {
				method = "POST"
			}
			r, _ := request(method, target, tt.body, tt.ctype)
			if tt.cookie != "" {
				r.Header.Set("Cookie", tt.cookie)
			}
			sc := scanRequest(r, []byte(tt.body), lim, true)
			if sc.over != tt.over || sc.got != tt.got || sc.limit == 0 && tt.over != "" {
				t.Errorf("over %q (%d, limit %d), want %q (%d)", sc.over, sc.got, sc.limit, tt.over, tt.got)
			}
			if sc.args != tt.args || sc.cookies != tt.cookies {
				t.Errorf("args %d cookies %d given to the WAF, want %d and %d", sc.args, sc.cookies, tt.args, tt.cookies)
			}
			if (tt.cutBodyArgs >= 0) != sc.cut {
				t.Fatalf("cut = %v, want %v", sc.cut, tt.cutBodyArgs >= 0)
			}
			if sc.cut {
				// What the WAF is given holds exactly the arguments left.
				r2, _ := request(method, "/x", string(sc.body), tt.ctype)
				again := scanRequest(r2, sc.body, limits{args: 1000, nameLen: 1000}, false)
				if again.args != tt.cutBodyArgs {
					t.Errorf("the cut body holds %d arguments, want %d:\n%q", again.args, tt.cutBodyArgs, sc.body)
				}
			}
			if tt.cookie != "" && sc.over == "cookies" {
				if got := cutCookies(r.Header["Cookie"], sc.cookieCut); strings.Count(strings.Join(got, ";"), "=") != lim.args {
					t.Errorf("cut cookies %q, want %d", got, lim.args)
				}
			}
		})
	}
}

// TestPhaseArgumentLimits runs the phase on requests over the default
// argument limit: block mode answers 413 without Coraza (no rule runs)
// and never reads past the body limit; detect mode passes the request
// with its body whole for the origin.
func TestPhaseArgumentLimits(t *testing.T) {
	body := strings.Repeat("k=v&", 8000)
	for _, mode := range []string{"block", "detect"} {
		t.Run(mode, func(t *testing.T) {
			p := phase(t, config.WAF{Mode: mode})
			r, info := request("POST", "/form", body, "application/x-www-form-urlencoded")
			w := &recorder{h: http.Header{}}
			d := p.Serve(w, r)
			if mode == "block" {
				if d != 1 || w.code != http.StatusRequestEntityTooLarge || info.Block != BlockLimits {
					t.Fatalf("decision %v status %d block %q, want Handled 413 %q", d, w.code, info.Block, BlockLimits)
				}
				if !strings.Contains(w.body.String(), "waf.limits.args (256, at most 255)") {
					t.Errorf("body %q", w.body.String())
				}
				return
			}
			if d != 0 || w.code != 0 {
				t.Fatalf("detect: decision %v status %d, want Continue", d, w.code)
			}
			got, err := io.ReadAll(r.Body)
			if err != nil || string(got) != body {
				t.Fatalf("the origin would get %d bytes (%v), want the whole %d", len(got), err, len(body))
			}
		})
	}
}

type recorder struct {
	h    http.Header
	code int
	body bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.h }
func (w *recorder) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = 200
	}
	return w.body.Write(b)
}
func (w *recorder) WriteHeader(c int) { w.code = c }
