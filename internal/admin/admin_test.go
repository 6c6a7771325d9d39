package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/token"
)

// env is a running admin API on a real 127.0.0.1 listener with one token
// of each scope.
type env struct {
	url    string
	tokens map[string]string // scope name (and "revoked") -> plaintext
	store  token.Store
}

// start serves an admin API with opts (Tokens is filled in) on
// 127.0.0.1.
func start(t *testing.T, opts Options) *env {
	t.Helper()
	store := token.NewMemory()
	e := &env{tokens: map[string]string{}, store: store}
	for _, sc := range []token.Scope{token.Read, token.Compliance, token.Admin} {
		p, _, err := store.Create(sc, "test "+string(sc))
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[string(sc)] = p
	}
	p, tok, err := store.Create(token.Admin, "revoked")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Revoke(tok.ID); err != nil {
		t.Fatal(err)
	}
	e.tokens["revoked"] = p
	opts.Tokens = store
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// answer is a decoded response.
type answer struct {
	code   int
	header http.Header
	body   []byte
}

// errMsg returns the "error" field of a JSON error answer.
func (a answer) errMsg(t *testing.T) string {
	t.Helper()
	var eb errorBody
	if err := json.Unmarshal(a.body, &eb); err != nil {
		t.Fatalf("answer %d is not a JSON error: %q", a.code, a.body)
	}
	if eb.Error == "" {
		t.Fatalf("answer %d has an empty error: %q", a.code, a.body)
	}
	return eb.Error
}

// do sends a request with the token of scope (none when "").
func (e *env) do(t *testing.T, method, path, scope, contentType string, body io.Reader) answer {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if scope != "" {
		tok, ok := e.tokens[scope]
		if !ok {
			tok = scope // a literal Authorization token
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{code: resp.StatusCode, header: resp.Header, body: b}
}

func TestNewRequiresTokens(t *testing.T) {
	t.Parallel()
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without a token store succeeded")
	}
}

// TestAuth sends every route with no token, bad tokens and a token of
// every scope, and checks 401/403 against the route's scope.
func TestAuth(t *testing.T) {
	t.Parallel()
	deps := testDeps(t)
	e := start(t, Options{Screening: deps.screener, Lists: deps.lists, Metrics: http.NotFoundHandler()})
	s, _ := New(Options{Tokens: e.store})

	callers := []string{"", "read", "compliance", "admin", "revoked", "rp_0123456789abcdef_" + strings.Repeat("A", 43), "garbage"}
	for _, r := range s.routes() {
		method, path, _ := strings.Cut(r.pattern, " ")
		for _, who := range callers {
			name := r.pattern + " as " + who
			if len(who) > 12 {
				name = r.pattern + " as unknown id"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				// An empty JSON object: valid JSON, failing validation, so
				// nothing is screened or imported.
				a := e.do(t, method, path, who, "application/json", strings.NewReader("{}"))
				public := r.scope == ""
				var allowed bool
				switch who {
				case "read", "compliance", "admin":
					allowed = token.Scope(who).Allows(r.scope)
				}
				switch {
				case public || allowed:
					if a.code == http.StatusUnauthorized || a.code == http.StatusForbidden {
						t.Fatalf("got %d %s, want the route to run", a.code, a.body)
					}
				case who == "" || who == "revoked" || who == "garbage" || len(who) > 12:
					if a.code != http.StatusUnauthorized {
						t.Fatalf("got %d %s, want 401", a.code, a.body)
					}
					if !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("401 without WWW-Authenticate: Bearer (got %q)", a.header.Get("WWW-Authenticate"))
					}
					a.errMsg(t)
				default:
					if a.code != http.StatusForbidden {
						t.Fatalf("got %d %s, want 403", a.code, a.body)
					}
					if msg := a.errMsg(t); !strings.Contains(msg, string(r.scope)) {
						t.Errorf("403 message %q does not name the scope needed (%s)", msg, r.scope)
					}
				}
			})
		}
	}
}

func TestBearerParsing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER  abc ", "abc", true},
		{"Basic abc", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := bearer(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("bearer(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	tests := []struct {
		method, path string
		code         int
		allow        string
	}{
		{"GET", "/v1/nothing", 404, ""},
		{"GET", "/", 404, ""},
		{"GET", "/v1/screen", 405, "POST"},
		{"DELETE", "/v1/lists", 405, "GET, HEAD"},
		{"POST", "/healthz", 405, "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			a := e.do(t, tt.method, tt.path, "admin", "", nil)
			if a.code != tt.code {
				t.Fatalf("got %d, want %d", a.code, tt.code)
			}
			a.errMsg(t)
			if got := a.header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			if ct := a.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	healthy := true
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		io.WriteString(w, "rampart_up 1\n")
	})
	e := start(t, Options{
		Health: func() error {
			if healthy {
				return nil
			}
			return errors.New("list store unavailable")
		},
		Metrics: metrics,
	})
	a := e.do(t, "GET", "/healthz", "", "", nil)
	if a.code != 200 || !strings.Contains(string(a.body), `"ok"`) {
		t.Errorf("healthz = %d %s", a.code, a.body)
	}
	a = e.do(t, "GET", "/metrics", "", "", nil)
	if a.code != 200 || string(a.body) != "rampart_up 1\n" {
		t.Errorf("metrics = %d %q", a.code, a.body)
	}
	healthy = false
	a = e.do(t, "GET", "/healthz", "", "", nil)
	if a.code != 503 || !strings.Contains(string(a.body), "list store unavailable") {
		t.Errorf("unhealthy healthz = %d %s", a.code, a.body)
	}

	bare := start(t, Options{})
	if a := bare.do(t, "GET", "/metrics", "", "", nil); a.code != 404 {
		t.Errorf("metrics without a handler = %d, want 404", a.code)
	}
	if a := bare.do(t, "GET", "/healthz", "", "", nil); a.code != 200 {
		t.Errorf("healthz without a check = %d, want 200", a.code)
	}
	for _, p := range []string{"/v1/lists"} {
		if a := bare.do(t, "GET", p, "read", "", nil); a.code != 503 {
			t.Errorf("%s without lists = %d, want 503", p, a.code)
		}
	}
	if a := bare.do(t, "POST", "/v1/screen", "read", "application/json", strings.NewReader(`{"name":"x"}`)); a.code != 503 {
		t.Errorf("screen without a screener = %d, want 503", a.code)
	}
}

func TestScreenValidation(t *testing.T) {
	t.Parallel()
	deps := testDeps(t)
	e := start(t, Options{Screening: deps.screener})
	tests := []struct {
		name, contentType, body string
		code                    int
		want                    string
	}{
		{"missing name", "application/json", `{"kind":"person"}`, 400, `"name" is required`},
		{"blank name", "application/json", `{"name":"   "}`, 400, `"name" is required`},
		{"name too long", "application/json", `{"name":"` + strings.Repeat("a", 1025) + `"}`, 400, `"name" is 1025 bytes`},
		{"bad kind", "application/json", `{"name":"x","kind":"company"}`, 400, `"kind" must be`},
		{"bad country", "application/json", `{"name":"x","country":"Iran"}`, 400, `"country" must be an ISO 3166-1 alpha-2`},
		{"unassigned country", "application/json", `{"name":"x","country":"ZZ"}`, 400, `"country"`},
		{"limit zero", "application/json", `{"name":"x","limit":0}`, 400, `"limit" must be between 1 and 100`},
		{"limit too big", "application/json", `{"name":"x","limit":101}`, 400, `"limit" must be between 1 and 100`},
		{"limit not a number", "application/json", `{"name":"x","limit":"10"}`, 400, `field "limit" must be a JSON number`},
		{"name not a string", "application/json", `{"name":42}`, 400, `field "name" must be a JSON string`},
		{"unknown field", "application/json", `{"name":"x","threshold":0.1}`, 400, `unknown field "threshold"`},
		{"bad JSON", "application/json", `{"name":`, 400, "invalid JSON"},
		{"not an object", "application/json", `["x"]`, 400, "must be a JSON object"},
		{"trailing data", "application/json", `{"name":"x"} {"name":"y"}`, 400, "unexpected data after the object"},
		{"empty body", "application/json", ``, 400, "empty request body"},
		{"form content type", "application/x-www-form-urlencoded", `name=x`, 415, "send application/json"},
		{"text content type", "text/plain", `{"name":"x"}`, 415, "send application/json"},
		{"body over 64 KiB", "application/json", `{"name":"x","kind":"` + strings.Repeat("a", 64<<10) + `"}`, 413, "over the 65536"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := e.do(t, "POST", "/v1/screen", "read", tt.contentType, strings.NewReader(tt.body))
			if a.code != tt.code {
				t.Fatalf("got %d %s, want %d", a.code, a.body, tt.code)
			}
			if msg := a.errMsg(t); !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
		})
	}
}

func TestScreenValidRequests(t *testing.T) {
	t.Parallel()
	deps := testDeps(t)
	e := start(t, Options{Screening: deps.screener})
	tests := []struct {
		name, contentType, body string
	}{
		{"all fields", "application/json", `{"name":"x","kind":"person","country":"IR","limit":10}`},
		{"charset parameter", "application/json; charset=utf-8", `{"name":"x"}`},
		{"no content type", "", `{"name":"x"}`},
		{"lower-case country", "application/json", `{"name":"x","country":"ir"}`},
		{"every kind", "application/json", `{"name":"x","kind":"aircraft"}`},
		{"limit 100", "application/json", `{"name":"x","limit":100}`},
		{"null limit", "application/json", `{"name":"x","limit":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := e.do(t, "POST", "/v1/screen", "read", tt.contentType, strings.NewReader(tt.body))
			if a.code != 200 {
				t.Fatalf("got %d %s, want 200", a.code, a.body)
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal(a.body, &got); err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got["matches"] == nil || got["lists"] == nil {
				t.Errorf("answer keys %v, want exactly matches and lists", a.body)
			}
			if string(got["matches"]) == "null" || string(got["lists"]) == "null" {
				t.Errorf("answer has null instead of [] or {}: %s", a.body)
			}
		})
	}
}

func TestParseScreenRequestNormalises(t *testing.T) {
	t.Parallel()
	q, err := parseScreenRequest([]byte(`{"name":"  Hamas ","country":"ps","limit":3}`))
	if err != nil {
		t.Fatal(err)
	}
	if q.Name != "Hamas" || q.Country != "PS" || q.Limit != 3 || q.Kind != "" {
		t.Errorf("query = %+v", q)
	}
	q, err = parseScreenRequest([]byte(`{"name":"x"}`))
	if err != nil || q.Limit != 10 {
		t.Errorf("default limit: %+v, %v", q, err)
	}
}

// multipartBody builds a multipart body with one file part per name.
func multipartBody(t *testing.T, files map[string]string, fields map[string]string) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range files {
		w, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, content)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), &buf
}

func TestImportRequestErrors(t *testing.T) {
	t.Parallel()
	deps := testDeps(t)
	e := start(t, Options{Lists: deps.lists, MaxImportBytes: 1 << 20})
	ctEmpty, empty := multipartBody(t, nil, nil)
	ctField, field := multipartBody(t, nil, map[string]string{"note": "x"})
	ctHidden, hidden := multipartBody(t, map[string]string{"../.sdn.csv": "a"}, nil)
	ctEmptyFile, emptyFile := multipartBody(t, map[string]string{"sdn.csv": ""}, nil)
	tests := []struct {
		name, query, contentType string
		body                     io.Reader
		code                     int
		want                     string
	}{
		{"raw body without name", "", "text/csv", strings.NewReader("a,b"), 400, "?name=FILENAME"},
		{"raw empty body", "?name=sdn.csv", "text/csv", strings.NewReader(""), 400, "sdn.csv is empty"},
		{"multipart without files", "", ctEmpty, empty, 400, "holds no file"},
		{"multipart form field", "", ctField, field, 400, `part "note" has no file name`},
		{"hidden file name", "", ctHidden, hidden, 400, "is not usable"},
		{"empty file part", "", ctEmptyFile, emptyFile, 400, "sdn.csv is empty"},
		{"too big", "?name=sdn.csv", "text/csv", bytes.NewReader(make([]byte, 2<<20)), 413, "over the 1048576"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := e.do(t, "POST", "/v1/lists/import"+tt.query, "admin", tt.contentType, tt.body)
			if a.code != tt.code {
				t.Fatalf("got %d %s, want %d", a.code, a.body, tt.code)
			}
			if msg := a.errMsg(t); !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
		})
	}
}

func TestCleanFileName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"sdn.csv", "sdn.csv", true},
		{"ofac/sdn.csv", "sdn.csv", true},
		{`C:\lists\consolidated.xml`, "consolidated.xml", true},
		{"../../etc/passwd", "passwd", true},
		{"", "", false},
		{"..", "", false},
		{".hidden", "", false},
		{"dir/", "dir", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := cleanFileName(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("cleanFileName(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParseScreenRequest(f *testing.F) {
	for _, s := range []string{
		`{"name":"Hamas","kind":"organization","country":"PS","limit":5}`,
		`{"name":""}`, `{}`, `[]`, `{"name":"x","limit":1e3}`, `{"name":"\u00e9","country":"ir"}`,
		`{"name":"x"} trailing`, `{"name":"x","name":"y"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		q, err := parseScreenRequest(body)
		if err != nil {
			var re *requestError
			if !errors.As(err, &re) || re.code != 400 || re.msg == "" {
				t.Fatalf("error %v is not a 400 request error", err)
			}
			return
		}
		if q.Name == "" || len(q.Name) > maxNameBytes || q.Limit < 1 || q.Limit > MaxLimit {
			t.Fatalf("accepted an invalid query %+v", q)
		}
		if q.Country != "" && len(q.Country) != 2 {
			t.Fatalf("accepted country %q", q.Country)
		}
	})
}

// TestScreenRealLists screens against the bundled lists through the real
// screening service.
func TestScreenRealLists(t *testing.T) {
	t.Parallel()
	deps := testDeps(t)
	e := start(t, Options{Screening: deps.screener})
	type match struct {
		ID          string   `json:"id"`
		List        string   `json:"list"`
		Name        string   `json:"name"`
		MatchedName string   `json:"matched_name"`
		Kind        string   `json:"kind"`
		Programs    []string `json:"programs"`
		Score       float64  `json:"score"`
		Explanation string   `json:"explanation"`
	}
	type result struct {
		Matches []match           `json:"matches"`
		Lists   map[string]string `json:"lists"`
	}
	tests := []struct {
		name, body string
		firstID    string // "" when nothing may match
		max        int
	}{
		{"listed organisation", `{"name":"Hamas","kind":"organization","country":"PS","limit":10}`, "ofac-sdn:4695", 10},
		{"alias of a person", `{"name":"Osama bin Laden","kind":"person"}`, "ofac-sdn:6365", 10},
		{"limit 1", `{"name":"hamas","limit":1}`, "ofac-sdn:4695", 1},
		{"ordinary name", `{"name":"Jane Doe"}`, "", 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := e.do(t, "POST", "/v1/screen", "read", "application/json", strings.NewReader(tt.body))
			if a.code != 200 {
				t.Fatalf("got %d %s", a.code, a.body)
			}
			dec := json.NewDecoder(bytes.NewReader(a.body))
			dec.DisallowUnknownFields()
			var res result
			if err := dec.Decode(&res); err != nil {
				t.Fatalf("answer does not have the PRODUCT.md shape: %v\n%s", err, a.body)
			}
			for _, src := range []string{"ofac-sdn", "un", "uk"} {
				if len(res.Lists[src]) != 64 {
					t.Errorf("lists[%q] = %q, want a sha256 version", src, res.Lists[src])
				}
			}
			if len(res.Matches) > tt.max {
				t.Errorf("%d matches, limit %d", len(res.Matches), tt.max)
			}
			if tt.firstID == "" {
				if len(res.Matches) != 0 {
					t.Errorf("want no match, got %+v", res.Matches)
				}
				return
			}
			if len(res.Matches) == 0 || res.Matches[0].ID != tt.firstID {
				t.Fatalf("first match %+v, want %s", res.Matches, tt.firstID)
			}
			for i, m := range res.Matches {
				if m.Score < 0.90 || m.Score > 1 || m.Explanation == "" || m.List == "" || m.Name == "" || m.MatchedName == "" {
					t.Errorf("match %d incomplete or under the threshold: %+v", i, m)
				}
				if i > 0 && m.Score > res.Matches[i-1].Score {
					t.Errorf("matches not sorted by score: %v after %v", m.Score, res.Matches[i-1].Score)
				}
			}
		})
	}
}
