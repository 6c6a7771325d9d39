package dashboard

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/rollup"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/sqlite"
	"github.com/rampart-edge/rampart/internal/token"
)

// listsOnce loads the bundled lists once for the package's tests.
var (
	listsOnce sync.Once
	listStore *lists.Store
	screener  *screening.Service
	listsErr  error
)

func bundled(t testing.TB) (*lists.Store, *screening.Service) {
	t.Helper()
	listsOnce.Do(func() {
		listStore, listsErr = lists.Open("", nil)
		if listsErr == nil {
			screener = screening.NewService(listStore, 0.90)
		}
	})
	if listsErr != nil {
		t.Fatalf("opening the bundled lists: %v", listsErr)
	}
	return listStore, screener
}

// rig is a dashboard on the real compliance desk (SQLite in a temporary
// directory, the bundled lists) behind an httptest server, with one
// token per scope.
type rig struct {
	d      *Dashboard
	srv    *httptest.Server
	desk   *compliance.Service
	db     store.Store
	tokens map[token.Scope]string
	store  *token.Memory
	trf    *rollup.Store
}

func newRig(t testing.TB) *rig {
	t.Helper()
	ls, sc := bundled(t)
	db, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	desk, err := compliance.New(context.Background(), compliance.Options{Store: db, Screening: sc})
	if err != nil {
		t.Fatal(err)
	}
	toks := token.NewMemory()
	r := &rig{desk: desk, db: db, tokens: map[token.Scope]string{}, store: toks, trf: rollup.New(0, 100)}
	for _, s := range []token.Scope{token.Read, token.Compliance, token.Admin} {
		p, _, err := toks.Create(s, "test")
		if err != nil {
			t.Fatal(err)
		}
		r.tokens[s] = p
	}
	r.d, err = New(Options{Tokens: toks, Compliance: desk, Store: db, Lists: ls, Screening: sc, Traffic: r.trf})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/dashboard/", r.d)
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

// client is a browser-like HTTP client with a cookie jar that does not
// follow redirects.
func newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches a dashboard path and returns the status and body.
func get(t testing.TB, c *http.Client, u string) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func postForm(t testing.TB, c *http.Client, u string, form url.Values) (int, string, http.Header) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// signIn signs c in with tok through the form and returns the session's
// CSRF token.
func signIn(t testing.TB, c *http.Client, base, tok string) string {
	t.Helper()
	code, body, _ := get(t, c, base+"/dashboard/signin")
	m := csrfRe.FindStringSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("sign-in page: %d %.300s", code, body)
	}
	code, body, h := postForm(t, c, base+"/dashboard/signin", url.Values{"csrf": {m[1]}, "token": {tok}, "next": {"/dashboard/"}})
	if code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %.300s", code, body)
	}
	if loc := h.Get("Location"); loc != "/dashboard/" {
		t.Fatalf("sign-in redirects to %q", loc)
	}
	code, body, _ = get(t, c, base+"/dashboard/")
	m = csrfRe.FindStringSubmatch(body)
	if code != 200 || m == nil || !strings.Contains(body, "Sign out") {
		t.Fatalf("home after sign-in: %d %.300s", code, body)
	}
	return m[1]
}
